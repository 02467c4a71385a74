"""Shared machinery of healer's fake HTTP services (see README.md).

A fake is a Service subclass (the documented API of one product) run by
FakeServer, which adds what every fake has:

  * a loopback-only threaded HTTP/1.1 server with a port file and hard
    bounds on its lifetime (--max-requests, --max-seconds);
  * a record of every request (method, path, query, headers, body, time);
  * scripted faults: a status (429 + Retry-After, 5xx ...), a delay, a
    dropped connection or a reset, for the next K matching requests;
  * the control API under /_fake/ (requests, script, reset, state ...);
  * optionally TLS (--tls-cert/--tls-key), with a required client
    certificate when --tls-client-ca is given.

Standard library only (Python >= 3.9).
"""

import argparse
import base64
import json
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_BODY = 4 * 1024 * 1024  # bigger request bodies get 413


# --------------------------------------------------------------- requests --

class Request:
    """One parsed request, as the service sees it."""

    def __init__(self, method, target, headers, body, host):
        split = urlsplit(target)
        self.method = method
        self.target = target
        self.path = split.path          # raw, still percent-encoded
        self.query = split.query        # raw
        self.params = parse_qs(split.query, keep_blank_values=True)
        self.headers = headers          # email.message.Message (case-insensitive)
        self.body = body                # bytes
        self.host = host                # "127.0.0.1:PORT" or the Host header
        self.tls = None                 # TLS fakes: {"version", "client_cn", "client_subject"}

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def content_type(self):
        """The media type alone, lower case: 'application/json'."""
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        """The body as JSON; raises ValueError when it is not."""
        return json.loads(self.body.decode("utf-8"))

    def form(self):
        """Form fields of an application/x-www-form-urlencoded body."""
        if self.content_type() != "application/x-www-form-urlencoded":
            return {}
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)

    def cookies(self):
        out = {}
        for part in (self.header("Cookie") or "").split(";"):
            if "=" in part:
                k, v = part.split("=", 1)
                out[k.strip()] = v.strip()
        return out

    def basic_auth(self):
        """(user, secret) from 'Authorization: Basic', None when absent or
        of another scheme, 'malformed' when it cannot be decoded."""
        auth = self.header("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            raw = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return "malformed"
        if ":" not in raw:
            return "malformed"
        user, secret = raw.split(":", 1)
        return user, secret

    def bearer(self):
        auth = self.header("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else None


class Response:
    def __init__(self, status, body=b"", content_type=None, headers=None):
        self.status = status
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.content_type = content_type
        self.headers = list(headers or [])


def text(status, body, content_type="text/plain;charset=utf-8", headers=None):
    return Response(status, body, content_type, headers)


def json_response(status, obj, headers=None, content_type="application/json;charset=utf-8"):
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return Response(status, body, content_type, headers)


def empty(status, headers=None):
    return Response(status, b"", None, headers)


# ----------------------------------------------------------------- faults --

FAULT_KINDS = ("status", "drop", "reset", "delay")
FAULT_KEYS = {"kind", "count", "method", "path", "path_prefix", "status", "body",
              "content_type", "headers", "retry_after", "seconds", "phase"}


class Fault:
    """A scripted fault for the next `count` matching requests (-1: all)."""

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ValueError("a fault is a JSON object")
        unknown = set(spec) - FAULT_KEYS
        if unknown:
            raise ValueError("unknown fault keys: %s" % ", ".join(sorted(unknown)))
        self.kind = spec.get("kind", "status")
        if self.kind not in FAULT_KINDS:
            raise ValueError("fault kind must be one of %s" % ", ".join(FAULT_KINDS))
        self.count = int(spec.get("count", 1))
        self.method = spec.get("method")
        self.path = spec.get("path")
        self.path_prefix = spec.get("path_prefix")
        self.status = int(spec.get("status", 503))
        self.body = spec.get("body")
        self.content_type = spec.get("content_type", "text/plain;charset=utf-8")
        self.headers = dict(spec.get("headers") or {})
        # 429 carries Retry-After: 1 unless told otherwise; null omits it.
        self.retry_after = spec.get("retry_after", 1 if self.status == 429 else None)
        self.seconds = float(spec.get("seconds", 0))
        self.phase = spec.get("phase", "before")
        if self.phase not in ("before", "after"):
            raise ValueError("fault phase must be 'before' or 'after'")
        if self.kind == "status" and self.phase != "before":
            raise ValueError("a status fault replaces the reply; its phase is 'before'")

    def matches(self, req):
        if self.count == 0:
            return False
        if self.method and self.method.upper() != req.method:
            return False
        if self.path is not None and self.path != req.path:
            return False
        if self.path_prefix is not None and not req.path.startswith(self.path_prefix):
            return False
        return True

    def describe(self):
        d = {"kind": self.kind, "phase": self.phase}
        if self.kind == "status":
            d["status"] = self.status
        if self.seconds:
            d["seconds"] = self.seconds
        return d

    def response(self):
        headers = list(self.headers.items())
        if self.retry_after is not None:
            headers.append(("Retry-After", str(self.retry_after)))
        body = self.body if self.body is not None else "fake: injected %d\n" % self.status
        return Response(self.status, body, self.content_type, headers)


# ---------------------------------------------------------------- service --

class Service:
    """The documented behaviour of one product. Subclasses set `name` and
    implement init_state(), script() and handle(); all three run under the
    server's lock, so they need no locking of their own."""

    name = "fake"

    def __init__(self, args):
        self.args = args
        self.port = 0
        self.init_state()

    @classmethod
    def add_args(cls, parser):
        pass

    def init_state(self):
        """(Re)build the state from the command line: start-up and reset."""

    def script(self, spec):
        """Apply service knobs from a /_fake/script body (the 'faults' key
        removed). Raise ValueError on unknown keys or bad values."""
        if spec:
            raise ValueError("unknown script keys: %s" % ", ".join(sorted(spec)))

    def state(self):
        return {}

    def handle(self, req):
        return text(404, "Not Found\n")

    def fault_response(self, fault):
        """The reply to a `status` fault. A service whose errors have a
        documented body format overrides this (when the fault has no
        explicit body); the default is fault.response()."""
        return fault.response()

    # helpers
    def scheme(self):
        return "https" if getattr(self.args, "tls_cert", None) else "http"

    def base_url(self, req):
        return "%s://%s" % (self.scheme(), req.host)


# ----------------------------------------------------------------- server --

class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, service, args):
        self.service = service
        self.args = args
        self.lock = threading.RLock()
        self.records = []
        self.faults = []
        self.seq = 0
        self.total = 0
        self.started = time.time()
        self.stop_event = threading.Event()
        self.resets = set()         # file numbers of connections to close with RST
        self.startup_script = load_script(args.script)
        self.ssl_context = make_ssl_context(args)
        super().__init__(("127.0.0.1", args.port), Handler)
        service.port = self.server_address[1]
        with self.lock:
            self.apply_script(self.startup_script)

    def apply_script(self, spec):
        spec = dict(spec or {})
        faults = [Fault(f) for f in spec.pop("faults", [])]
        self.service.script(spec)
        self.faults.extend(faults)

    def reset(self, what):
        if what.get("requests", True):
            self.records = []
        if what.get("faults", True):
            self.faults = []
        if what.get("state", True):
            self.service.init_state()
            self.apply_script({k: v for k, v in self.startup_script.items() if k != "faults"})
        if what.get("faults", True):
            self.faults = [Fault(f) for f in self.startup_script.get("faults", [])]

    def take_fault(self, req):
        for f in self.faults:
            if f.matches(req):
                if f.count > 0:
                    f.count -= 1
                return f
        return None

    def record(self, req, status, fault):
        self.seq += 1
        headers = {}
        for k, v in req.headers.items():
            k = k.lower()
            headers[k] = headers[k] + ", " + v if k in headers else v
        entry = {
            "seq": self.seq,
            "time": round(time.time(), 6),
            "method": req.method,
            "path": req.path,
            "query": req.query,
            "params": req.params,
            "headers": headers,
            "body": req.body.decode("utf-8", "replace"),
            "body_bytes": len(req.body),
            "status": status,
            "fault": fault.describe() if fault else None,
        }
        if req.content_type() == "application/x-www-form-urlencoded":
            entry["form"] = req.form()
        if req.tls is not None:
            entry["tls"] = req.tls
        try:
            entry["json"] = req.json() if req.body else None
        except ValueError:
            entry["json"] = None
        self.records.append(entry)

    def get_request(self):
        sock, addr = super().get_request()
        if self.ssl_context is not None:
            # No I/O here: the handshake runs in the connection's own thread
            # (Handler.setup), so a slow or broken client cannot stall accept().
            sock = self.ssl_context.wrap_socket(sock, server_side=True,
                                                do_handshake_on_connect=False)
        return sock, addr

    def shutdown_request(self, request):
        with self.lock:
            reset = request.fileno() in self.resets
            self.resets.discard(request.fileno())
        if reset:  # no FIN first: SO_LINGER 0 makes close() send RST
            self.close_request(request)
        else:
            super().shutdown_request(request)

    def stop(self, why):
        if not self.stop_event.is_set():
            log(self.service.name, why)
            self.stop_event.set()


def make_ssl_context(args):
    """--tls-cert/--tls-key: serve HTTPS; --tls-client-ca: also require a
    client certificate signed by that CA. None for plain HTTP."""
    cert = getattr(args, "tls_cert", None)
    key = getattr(args, "tls_key", None)
    client_ca = getattr(args, "tls_client_ca", None)
    if not cert:
        if key or client_ca:
            raise ValueError("--tls-key and --tls-client-ca need --tls-cert")
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key or None)
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=client_ca)
    return ctx


def tls_info(sock):
    """What a TLS connection tells about its client; None for plain TCP."""
    if not isinstance(sock, ssl.SSLSocket):
        return None
    cn, subject = None, None
    peer = sock.getpeercert()  # {} or None unless the client cert was verified
    if peer:
        rdns = [rdn for rdns in peer.get("subject", ()) for rdn in rdns]
        subject = ",".join("%s=%s" % kv for kv in rdns)
        cn = next((v for k, v in rdns if k == "commonName"), None)
    return {"version": sock.version(), "client_cn": cn, "client_subject": subject}


def load_script(arg):
    """--script: a JSON object inline or the name of a file holding one."""
    if not arg:
        return {}
    data = arg if arg.lstrip().startswith("{") else open(arg, encoding="utf-8").read()
    spec = json.loads(data)
    if not isinstance(spec, dict):
        raise SystemExit("--script must be a JSON object")
    return spec


def log(name, msg):
    sys.stderr.write("fake_%s: %s\n" % (name, msg))
    sys.stderr.flush()


# ---------------------------------------------------------------- handler --

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        if self.server.args.verbose:
            log(self.server.service.name, fmt % args)

    def version_string(self):
        return "fake-%s" % self.server.service.name

    def setup(self):
        self.tls_error = None
        sock = self.request
        if isinstance(sock, ssl.SSLSocket):
            try:
                sock.settimeout(10)
                sock.do_handshake()
                sock.settimeout(None)
            except (OSError, ValueError) as e:  # ssl.SSLError is an OSError
                self.tls_error = e
        super().setup()

    def handle(self):
        if self.tls_error is not None:  # not an HTTP request: logged, not recorded
            log(self.server.service.name, "TLS handshake failed: %s" % self.tls_error)
            self.close_connection = True
            return
        super().handle()

    def do_any(self):
        srv = self.server
        body = self.read_body()
        if body is None:
            return
        with srv.lock:
            srv.total += 1
            over = srv.total > srv.args.max_requests
        if over:
            self.send(text(503, "fake: --max-requests reached\n"))
            srv.stop("--max-requests %d reached, exiting" % srv.args.max_requests)
            return
        host = self.headers.get("Host") or "127.0.0.1:%d" % srv.service.port
        req = Request(self.command, self.path, self.headers, body, host)
        req.tls = tls_info(self.connection)
        if req.path.startswith("/_fake/"):
            self.send(self.control(req))
            return
        with srv.lock:
            fault = srv.take_fault(req)
        if fault and fault.phase == "before":
            if fault.seconds:
                time.sleep(fault.seconds)
            if fault.kind in ("drop", "reset", "status"):
                status = fault.status if fault.kind == "status" else None
                with srv.lock:
                    srv.record(req, status, fault)
                if fault.kind == "status":
                    with srv.lock:
                        resp = srv.service.fault_response(fault)
                    self.send(resp)
                else:
                    self.hang_up(fault.kind == "reset")
                return
        with srv.lock:
            try:
                resp = srv.service.handle(req)
            except Exception:  # a bug in the fake must show, not hang the client
                resp = text(500, "fake: internal error\n" + traceback.format_exc())
                log(srv.service.name, traceback.format_exc())
            lost = fault is not None and fault.phase == "after" and fault.kind in ("drop", "reset")
            srv.record(req, None if lost else resp.status, fault)
        if fault and fault.phase == "after":
            if fault.seconds:
                time.sleep(fault.seconds)
            if lost:
                self.hang_up(fault.kind == "reset")
                return
        self.send(resp)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_any

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, size = [], 0
            while True:
                line = self.rfile.readline(100)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(1000) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                size += n
                if size > MAX_BODY:
                    self.too_large()
                    return None
                chunks.append(self.rfile.read(n))
                self.rfile.readline(10)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.too_large()
            return None
        return self.rfile.read(length) if length > 0 else b""

    def too_large(self):
        self.close_connection = True
        self.send(text(413, "fake: request body over %d bytes\n" % MAX_BODY))

    def send(self, resp):
        try:
            self.write_response(resp)
        except OSError:  # the client gave up (timeout) or hung up
            self.close_connection = True

    def write_response(self, resp):
        self.send_response(resp.status)
        if resp.content_type:
            self.send_header("Content-Type", resp.content_type)
        for k, v in resp.headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(resp.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)

    def hang_up(self, reset):
        """Close without a response: FIN (drop) or RST (reset)."""
        self.close_connection = True
        try:
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                with self.server.lock:
                    self.server.resets.add(self.connection.fileno())
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ------------------------------------------------------------ control --

    def control(self, req):
        srv = self.server
        route = (req.method, req.path.rstrip("/"))
        q = {k: v[-1] for k, v in req.params.items()}
        with srv.lock:
            if route == ("GET", "/_fake/requests"):
                return json_response(200, self.select(q))
            if route == ("GET", "/_fake/count"):
                return text(200, "%d\n" % len(self.select(q)))
            if route == ("GET", "/_fake/state"):
                return json_response(200, srv.service.state())
            if route == ("GET", "/_fake/health"):
                return json_response(200, {
                    "service": srv.service.name, "port": srv.service.port, "pid": os.getpid(),
                    "requests_total": srv.total, "uptime": round(time.time() - srv.started, 3),
                    "faults_pending": sum(1 for f in srv.faults if f.count != 0)})
            if req.method == "POST" and route[1] in ("/_fake/script", "/_fake/reset"):
                try:
                    spec = req.json() if req.body.strip() else {}
                    if not isinstance(spec, dict):
                        raise ValueError("the body must be a JSON object")
                    if route[1] == "/_fake/script":
                        srv.apply_script(spec)
                    else:
                        srv.reset(spec)
                except (ValueError, TypeError, KeyError) as e:
                    return json_response(400, {"ok": False, "error": str(e)})
                return json_response(200, {"ok": True})
            if route == ("POST", "/_fake/shutdown"):
                self.close_connection = True
                threading.Timer(0.05, srv.stop, ["shut down by /_fake/shutdown"]).start()
                return json_response(200, {"ok": True})
        return json_response(404, {"ok": False, "error": "no control endpoint %s %s" % route})

    def select(self, q):
        out = self.server.records
        since = int(q.get("since", 0))
        out = [r for r in out if r["seq"] > since]
        if "method" in q:
            out = [r for r in out if r["method"] == q["method"].upper()]
        if "path" in q:
            out = [r for r in out if r["path"] == q["path"]]
        if "path_prefix" in q:
            out = [r for r in out if r["path"].startswith(q["path_prefix"])]
        if "status" in q:
            out = [r for r in out if str(r["status"]) == q["status"]]
        return out


# ------------------------------------------------------------------- main --

def main(service_cls):
    ap = argparse.ArgumentParser(description="fake %s for healer's tests" % service_cls.name)
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--max-requests", type=int, default=10000,
                    help="exit after this many requests (default 10000)")
    ap.add_argument("--max-seconds", type=float, default=900,
                    help="exit after this many seconds (default 900)")
    ap.add_argument("--script", help="start-up script: inline JSON object or a file name;"
                                     " /_fake/reset returns to it")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    ap.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (chain)")
    ap.add_argument("--tls-key", help="the certificate's PEM private key")
    ap.add_argument("--tls-client-ca", help="require a client certificate signed by this CA")
    service_cls.add_args(ap)
    args = ap.parse_args()

    try:
        srv = FakeServer(service_cls(args), args)
    except (OSError, ValueError) as e:
        log(service_cls.name, "cannot start: %s" % e)
        return 1
    stop = srv.stop_event
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1},
                     daemon=True).start()
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    log(service_cls.name, "listening on %s://127.0.0.1:%d (pid %d)"
        % (srv.service.scheme(), port, os.getpid()))
    deadline = time.monotonic() + args.max_seconds
    while not stop.wait(0.2):
        if time.monotonic() > deadline:
            srv.stop("--max-seconds %g reached, exiting" % args.max_seconds)
    srv.shutdown()
    srv.server_close()
    if args.port_file:
        try:
            os.unlink(args.port_file)
        except OSError:
            pass
    return 0
