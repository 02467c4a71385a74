#!/usr/bin/env python3
"""Fake generic webhook endpoint, the far end of a "webhook" action
(README.md). There is no contract section: it behaves like a typical JSON
API that is called with any method on any path.

  * answers per scripted routes (first match wins), else 200 {"ok":true}
    (404 JSON in strict mode);
  * optional auth: a Bearer token (--token) and/or required headers
    (--require-header "X-Api-Key: v"), 401 JSON otherwise;
  * Idempotency-Key as payment APIs do it: a repeat of the same request
    with the same key replays the first answer with `Idempotent-Replayed:
    true` and is no new delivery; the same key on a different request gets
    422.
"""

import hashlib
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakebase  # noqa: E402
from fakebase import Response, json_response  # noqa: E402

ROUTE_KEYS = {"method", "path", "path_prefix", "status", "body", "content_type", "headers", "count"}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")   # no idempotency bookkeeping: they are safe already
JSON_CT = "application/json"


def check_route(r, i):
    if not isinstance(r, dict):
        raise ValueError("routes[%d]: an object" % i)
    unknown = set(r) - ROUTE_KEYS
    if unknown:
        raise ValueError("routes[%d]: unknown keys %s" % (i, ", ".join(sorted(unknown))))
    m = r.get("method", "*")
    if not (isinstance(m, str) or (isinstance(m, list) and all(isinstance(x, str) for x in m))):
        raise ValueError("routes[%d].method: a method, a list of methods or \"*\"" % i)
    st = r.get("status", 200)
    if isinstance(st, bool) or not isinstance(st, int) or not 100 <= st <= 599:
        raise ValueError("routes[%d].status: an HTTP status" % i)
    if not isinstance(r.get("headers", {}), dict):
        raise ValueError("routes[%d].headers: an object" % i)
    route = dict(r)
    route["count"] = int(r.get("count", -1))
    route["hits"] = 0
    return route


class Webhook(fakebase.Service):
    name = "webhook"

    @classmethod
    def add_args(cls, ap):
        ap.add_argument("--token", help="require Authorization: Bearer TOKEN")
        ap.add_argument("--require-header", action="append", default=[], metavar="'NAME: VALUE'",
                        help="require this request header with this exact value (repeatable)")

    def init_state(self):
        self.required = []
        for h in self.args.require_header:
            name, sep, value = h.partition(":")
            if not sep or not name.strip():
                raise ValueError("--require-header takes 'Name: value', not %r" % h)
            self.required.append((name.strip(), value.strip()))
        self.token = self.args.token
        self.routes = []
        self.strict = False
        self.idempotency = True
        self.ttl = 86400.0
        self.keys = {}              # Idempotency-Key -> {fingerprint, response, time, delivery}
        self.deliveries = []
        self.replays = []
        self.conflicts = []
        self.unmatched = []
        self.rejected = []
        self.n = 0

    def script(self, spec):
        spec = dict(spec)
        if "routes" in spec:
            routes = spec.pop("routes") or []
            if not isinstance(routes, list):
                raise ValueError("routes: a list of routes")
            self.routes = [check_route(r, i) for i, r in enumerate(routes)]
        if "strict" in spec:
            self.strict = bool(spec.pop("strict"))
        if "idempotency" in spec:
            self.idempotency = bool(spec.pop("idempotency"))
        if "idempotency_ttl_seconds" in spec:
            self.ttl = float(spec.pop("idempotency_ttl_seconds"))
        super().script(spec)

    # ---------------------------------------------------------- helpers --

    def match(self, req):
        for i, r in enumerate(self.routes):
            if r["count"] == 0:
                continue
            m = r.get("method", "*")
            methods = [m] if isinstance(m, str) else m
            if "*" not in methods and req.method not in [x.upper() for x in methods]:
                continue
            if "path" in r and r["path"] != req.path:
                continue
            if "path_prefix" in r and not req.path.startswith(r["path_prefix"]):
                continue
            return i, r
        return None, None

    @staticmethod
    def answer(r):
        status = r.get("status", 200)
        headers = [(k, str(v)) for k, v in r.get("headers", {}).items()]
        if "body" not in r:
            if status in (204, 304):
                return Response(status, b"", None, headers)
            return json_response(status, {"ok": True}, headers=headers, content_type=JSON_CT)
        body = r["body"]
        if isinstance(body, str):
            return Response(status, body, r.get("content_type", "text/plain;charset=utf-8"), headers)
        return json_response(status, body, headers=headers,
                             content_type=r.get("content_type", JSON_CT))

    def entry(self, req, now):
        self.n += 1
        try:
            parsed = req.json() if req.body else None
        except ValueError:
            parsed = None
        return {"n": self.n, "time": round(now, 6), "method": req.method, "path": req.path,
                "query": req.query, "headers": {k.lower(): v for k, v in req.headers.items()},
                "body": req.text(), "json": parsed,
                "idempotency_key": req.header("Idempotency-Key")}

    def reject(self, req, now, status, msg, headers=None):
        e = self.entry(req, now)
        e["status"] = status
        self.rejected.append(e)
        return json_response(status, {"error": msg}, headers=headers, content_type=JSON_CT)

    # ------------------------------------------------------------ handle --

    def handle(self, req):
        now = time.time()
        if self.token is not None and req.bearer() != self.token:
            return self.reject(req, now, 401, "invalid or missing bearer token",
                               headers=[("WWW-Authenticate", 'Bearer realm="webhook"')])
        for name, value in self.required:
            if req.header(name) != value:
                return self.reject(req, now, 401, "missing or wrong header %s" % name)
        key = req.header("Idempotency-Key")
        if not self.idempotency or req.method in SAFE_METHODS or not key:
            key = None
        if key is not None:
            for k in [k for k, v in self.keys.items() if now > v["time"] + self.ttl]:
                del self.keys[k]
            fp = hashlib.sha256(b"\0".join((req.method.encode(), req.path.encode(),
                                           req.query.encode(), req.body))).hexdigest()
            seen = self.keys.get(key)
            if seen is not None:
                e = self.entry(req, now)
                if seen["fingerprint"] != fp:
                    e["status"] = 422
                    self.conflicts.append(e)
                    return json_response(422, {
                        "error": "idempotency key reused with a different request"},
                        content_type=JSON_CT)
                first = seen["response"]
                e["status"] = first.status
                e["replay_of"] = seen["delivery"]
                self.replays.append(e)
                return Response(first.status, first.body, first.content_type,
                                first.headers + [("Idempotent-Replayed", "true")])
        i, route = self.match(req)
        if route is None and self.strict:
            e = self.entry(req, now)
            e["status"] = 404
            self.unmatched.append(e)
            return json_response(404, {"error": "no route for %s %s" % (req.method, req.path)},
                                 content_type=JSON_CT)
        if route is not None:
            route["hits"] += 1
            if route["count"] > 0:
                route["count"] -= 1
        resp = self.answer(route or {})
        e = self.entry(req, now)
        e["status"] = resp.status
        e["route"] = i
        self.deliveries.append(e)
        if key is not None:
            self.keys[key] = {"fingerprint": fp, "response": resp, "time": now,
                              "delivery": e["n"]}
        return resp

    def state(self):
        return {
            "deliveries": self.deliveries,
            "replays": self.replays,
            "conflicts": self.conflicts,
            "unmatched": self.unmatched,
            "rejected": self.rejected,
            "keys": sorted(self.keys),
            "routes": [{k: v for k, v in r.items()} for r in self.routes],
            "strict": self.strict,
        }


if __name__ == "__main__":
    sys.exit(fakebase.main(Webhook))
