#!/usr/bin/env python3
"""Fake Spinnaker Gate (api-contracts.md section 4; README.md).

Endpoints (names and ids are single, percent-decoded path segments):
  POST /pipelines/{app}/{nameOrId}             S1 202 {"ref"}; 400, 404, 415; correlationId dedupe
  POST /pipelines/v2/{app}/{nameOrId}          S2 202 {"eventId","ref"}; the execution appears later
  GET  /pipelines/{id}                         S3 execution JSON (4.3); 404; scripted empty 200s
  PUT  /pipelines/{id}/cancel?reason=          S4 200 empty; CANCELED at once or after cancel_seconds
  PUT  /pipelines/{id}/pause, /resume          S5 200 empty; RUNNING <-> PAUSED
  GET  /applications/{app}/executions/search   4.5 recovery: ?trigger=<base64 JSON> subset match
  GET  /applications/{app}/pipelines           S6 recent executions, per pipeline config

An execution follows its pipeline's scripted timeline, a list of
[STATUS, SECONDS] whose last entry is terminal (or non-terminal with null
SECONDS: it stays there for ever). Stages have their own timelines on the
execution's run clock (seconds spent RUNNING/SUSPENDED), or mirror it.
"""

import base64
import copy
import json
import os
import re
import sys
import time
import uuid
from urllib.parse import unquote

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakebase  # noqa: E402
from fakebase import Response, empty, json_response  # noqa: E402

# 4.2: ExecutionStatus. REDIRECT is stage-level only.
STATUSES = ("NOT_STARTED", "BUFFERED", "RUNNING", "PAUSED", "SUSPENDED", "REDIRECT", "SUCCEEDED",
            "SKIPPED", "FAILED_CONTINUE", "TERMINAL", "CANCELED", "STOPPED")
COMPLETED = frozenset(("CANCELED", "SUCCEEDED", "STOPPED", "SKIPPED", "TERMINAL",
                       "FAILED_CONTINUE"))  # 4.2 Orca's COMPLETED set
WAITING = frozenset(("NOT_STARTED", "BUFFERED"))
TICKING = frozenset(("RUNNING", "SUSPENDED", "REDIRECT"))  # the run clock moves
ACTIVE = frozenset(("RUNNING", "PAUSED", "SUSPENDED", "REDIRECT"))
DEFAULT_TIMELINE = [["NOT_STARTED", 0.1], ["RUNNING", 1.0], ["SUCCEEDED", None]]
PIPELINE_KEYS = {"id", "parameters", "disabled", "timeline", "stages", "runs"}
PLAN_KEYS = {"timeline", "stages"}
STAGE_KEYS = {"name", "type", "refId", "timeline", "context", "outputs", "requisiteStageRefIds"}
REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 415: "Unsupported Media Type",
           500: "Internal Server Error"}
JSON_CT = "application/json"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ms(t):
    return None if t is None else int(t * 1000)


class Ulid:
    """4.1: execution ids are ULIDs: 48-bit ms time + 80 random bits, 26
    Crockford base32 characters, strictly increasing within this process."""

    def __init__(self):
        self.last_ms = -1
        self.last_rand = 0

    def next(self, t):
        now_ms = int(t * 1000)
        if now_ms <= self.last_ms:
            now_ms, rand = self.last_ms, self.last_rand + 1
            if rand >> 80:
                now_ms, rand = now_ms + 1, 0
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        self.last_ms, self.last_rand = now_ms, rand
        n = (now_ms << 80) | rand
        return "".join(CROCKFORD[(n >> (5 * i)) & 31] for i in range(25, -1, -1))


# ---------------------------------------------------------------- scripts --

def parse_timeline(v, where, stage=False):
    """[[STATUS, SECONDS], ...] -> [(STATUS, float|None)]. Only the last entry
    may be terminal or last for ever (null)."""
    if not isinstance(v, list) or not v:
        raise ValueError("%s: a non-empty list of [STATUS, SECONDS]" % where)
    allowed = STATUSES if stage else tuple(s for s in STATUSES if s != "REDIRECT")
    out = []
    for i, e in enumerate(v):
        if not isinstance(e, list) or len(e) != 2:
            raise ValueError("%s[%d]: [STATUS, SECONDS]" % (where, i))
        st, dur = e
        if st not in allowed:
            raise ValueError("%s[%d]: status must be one of %s" % (where, i, ", ".join(allowed)))
        if dur is not None:
            if isinstance(dur, bool) or not isinstance(dur, (int, float)) or dur < 0:
                raise ValueError("%s[%d]: SECONDS is a number >= 0 or null" % (where, i))
            dur = float(dur)
        if i < len(v) - 1:
            if st in COMPLETED:
                raise ValueError("%s[%d]: %s is terminal, so it must come last" % (where, i, st))
            if dur is None:
                raise ValueError("%s[%d]: only the last entry may last for ever (null)" % (where, i))
        elif st in COMPLETED:
            dur = None
        elif dur is not None:
            raise ValueError("%s[%d]: a timeline ending in %s needs null SECONDS (for ever)"
                             % (where, i, st))
        out.append((st, dur))
    return out


def parse_stages(v, where):
    if not isinstance(v, list):
        raise ValueError("%s: a list of stages" % where)
    out = []
    for i, s in enumerate(v):
        if not isinstance(s, dict) or set(s) - STAGE_KEYS:
            raise ValueError("%s[%d]: an object with keys %s" % (where, i, ", ".join(sorted(STAGE_KEYS))))
        s = dict(s)
        s.setdefault("name", "Stage %d" % (i + 1))
        s.setdefault("type", "wait")
        s.setdefault("refId", str(i + 1))
        s.setdefault("requisiteStageRefIds", [str(i)] if i else [])
        s.setdefault("context", {})
        s.setdefault("outputs", {})
        if s.get("timeline") is not None:
            s["timeline"] = parse_timeline(s["timeline"], "%s[%d].timeline" % (where, i), stage=True)
        out.append(s)
    return out


def parse_plan(spec, where):
    if not isinstance(spec, dict) or set(spec) - PLAN_KEYS:
        raise ValueError("%s: an object with keys timeline, stages" % where)
    plan = {}
    if "timeline" in spec:
        plan["timeline"] = parse_timeline(spec["timeline"], where + ".timeline")
    if "stages" in spec:
        plan["stages"] = parse_stages(spec["stages"], where + ".stages")
    return plan


class Pipeline:
    """A pipeline config (front50's view, as Gate loads it in S1)."""

    def __init__(self, app, name, spec):
        where = "pipelines.%s/%s" % (app, name)
        unknown = set(spec) - PIPELINE_KEYS
        if unknown:
            raise ValueError("%s: unknown keys %s" % (where, ", ".join(sorted(unknown))))
        self.app, self.name = app, name
        self.id = str(spec.get("id") or uuid.uuid4())
        self.disabled = bool(spec.get("disabled", False))
        params = spec.get("parameters") or []
        if not isinstance(params, list) or not all(
                isinstance(p, dict) and isinstance(p.get("name"), str) and p["name"] for p in params):
            raise ValueError("%s.parameters: a list of {\"name\", \"required\", \"default\"}" % where)
        self.parameters = [dict({"required": False, "default": None}, **p) for p in params]
        self.timeline = parse_timeline(spec.get("timeline", DEFAULT_TIMELINE), where + ".timeline")
        self.stages = parse_stages(spec.get("stages", [{"name": "Run", "type": "wait"}]),
                                   where + ".stages")
        self.runs = [parse_plan(r, "%s.runs[%d]" % (where, i))
                     for i, r in enumerate(spec.get("runs") or [])]

    def next_plan(self):
        plan = {"timeline": self.timeline, "stages": self.stages}
        if self.runs:
            plan.update(self.runs.pop(0))
        return plan

    def summary(self):
        return {"application": self.app, "name": self.name, "id": self.id,
                "disabled": self.disabled, "parameterConfig": self.parameters,
                "runs_pending": len(self.runs)}


# ------------------------------------------------------------------ model --

class Stage:
    def __init__(self, spec, sid):
        self.spec = spec
        self.id = sid
        self.timeline = spec.get("timeline")   # None: mirrors the execution
        self.i = 0
        self.phase_clock = 0.0                 # run-clock value when this phase began
        self.status = self.timeline[0][0] if self.timeline else None
        self.start = None
        self.end = None

    def next_clock(self):
        if self.timeline is None or self.status in COMPLETED or self.i >= len(self.timeline) - 1:
            return None
        return self.phase_clock + self.timeline[self.i][1]

    def step(self, t):
        self.phase_clock += self.timeline[self.i][1]
        self.i += 1
        self.enter(self.timeline[self.i][0], t)

    def enter(self, st, t):
        self.status = st
        if st not in WAITING and self.start is None:
            self.start = t
        if st in COMPLETED:
            self.end = t

    def json(self, ex, expand):
        if self.timeline is None:  # mirror the execution
            started = ex.start_time is not None
            st = ex.status if started else "NOT_STARTED"
            if st == "BUFFERED":
                st = "NOT_STARTED"
            start, end = ex.start_time, (ex.end_time if started else None)
        elif ex.start_time is None:  # the execution never ran
            st, start, end = "NOT_STARTED", None, None
        else:
            st, start, end = self.status, self.start, self.end
            if ex.status == "PAUSED" and st == "RUNNING":
                st = "PAUSED"  # pausing an execution pauses its running stages
        s = self.spec
        return {
            "id": self.id, "refId": s["refId"], "type": s["type"], "name": s["name"],
            "status": st, "startTime": ms(start), "endTime": ms(end),
            "context": copy.deepcopy(s["context"]) if expand else {},
            "outputs": copy.deepcopy(s["outputs"]) if expand else {},
            "tasks": [], "requisiteStageRefIds": list(s["requisiteStageRefIds"]),
            "parentStageId": None, "syntheticStageOwner": None, "scheduledTime": None,
            "startTimeExpiry": None, "lastModified": None,
        }


class Execution:
    """One pipeline execution driven by its timeline (4.2). Every change
    happens in advance(now), in time order, so answers are exact whatever the
    polling rhythm."""

    def __init__(self, gate, eid, pipeline, trigger, auth_user, t, plan):
        self.gate = gate
        self.id = eid
        self.app, self.name, self.config_id = pipeline.app, pipeline.name, pipeline.id
        self.trigger = trigger
        self.auth_user = auth_user
        self.build_time = t
        self.start_time = None
        self.end_time = None
        self.phases = list(plan["timeline"])
        self.i = 0
        self.phase_start = t
        self.status = None
        self.history = []
        self.canceled = False
        self.canceled_by = None
        self.reason = None
        self.cancel_at = None
        self.user_paused = False
        self.paused_at = None
        self.pause_info = None
        self.calls = []             # cancel / pause / resume requests, for the state
        self.clock = 0.0            # run clock: seconds spent RUNNING/SUSPENDED
        self.clock_at = t
        self.stages = [Stage(s, gate.ulid.next(t)) for s in plan["stages"]]
        self.enter(self.phases[0][0], t)

    def complete(self):
        return self.status in COMPLETED

    def ticking(self):
        return self.status in TICKING and self.start_time is not None

    def tick(self, t):
        if self.ticking() and t > self.clock_at:
            self.clock += t - self.clock_at
        self.clock_at = max(self.clock_at, t)

    def enter(self, st, t, end=True):
        self.status = st
        self.history.append([st, ms(t)])
        if st not in WAITING and st not in COMPLETED and self.start_time is None:
            self.start_time = t
            for s in self.stages:
                if s.timeline is not None and s.status not in WAITING and s.start is None:
                    s.start = t
        if st in COMPLETED:
            self.finish(st, t, end)

    def finish(self, st, t, end):
        self.end_time = t if end else None
        self.cancel_at = None
        if st == "CANCELED" and not self.canceled:  # scripted: someone else cancelled it
            self.canceled, self.canceled_by = True, "anonymous"
        for s in self.stages:  # running stages end with the execution
            if self.start_time is not None and s.timeline is not None and s.status in ACTIVE:
                s.enter(st, t)

    def next_event(self):
        if self.complete():
            return None
        cands = []
        if self.ticking():
            for s in self.stages:
                v = s.next_clock()
                if v is not None:
                    cands.append((self.clock_at + (v - self.clock), 0, s))
        dur = self.phases[self.i][1]
        if dur is not None and not self.user_paused and self.i < len(self.phases) - 1:
            cands.append((self.phase_start + dur, 1, "phase"))
        if self.cancel_at is not None:
            cands.append((self.cancel_at, 2, "cancel"))
        return min(cands, key=lambda c: (c[0], c[1])) if cands else None

    def advance(self, now):
        for _ in range(100000):  # bounded: each event moves an index forward
            ev = self.next_event()
            if ev is None or ev[0] > now:
                break
            t, _, what = ev
            self.tick(t)
            if what == "phase":
                self.step(t)
            elif what == "cancel":
                self.enter("CANCELED", t)
            else:
                what.step(t)
        self.tick(now)

    def step(self, t):
        self.phase_start += self.phases[self.i][1]
        self.i += 1
        self.enter(self.phases[self.i][0], t)

    # S4: canceled/canceledBy/cancellationReason at once; the status only
    # from NOT_STARTED (and BUFFERED) at once, from RUNNING later through
    # Orca's queue; a completed execution keeps its status.
    def cancel(self, user, reason, t, delay):
        self.calls.append({"call": "cancel", "user": user, "reason": reason, "time": ms(t),
                           "status": self.status})
        self.canceled = True
        self.canceled_by = user
        if reason:
            self.reason = reason
        if self.complete():
            return
        if self.status in WAITING:
            self.enter("CANCELED", t, end=False)  # Orca sets no endTime on this path
        elif self.cancel_at is None:
            self.cancel_at = t + delay
            self.advance(t)

    # S5: only a RUNNING execution can be paused, only a PAUSED one resumed.
    def pause(self, user, t):
        self.calls.append({"call": "pause", "user": user, "time": ms(t), "status": self.status})
        if self.status != "RUNNING":
            return "Unable to pause pipeline that is not RUNNING (executionId: %s, currentStatus: %s)" \
                % (self.id, self.status)
        self.user_paused, self.paused_at = True, t
        self.enter("PAUSED", t)
        self.pause_info = {"pausedBy": user, "pauseTime": ms(t), "resumedBy": None,
                           "resumeTime": None, "pausedMs": (self.pause_info or {}).get("pausedMs", 0),
                           "paused": True}
        return None

    def resume(self, user, t):
        self.calls.append({"call": "resume", "user": user, "time": ms(t), "status": self.status})
        if self.status != "PAUSED":
            return "Unable to resume pipeline that is not PAUSED (executionId: %s, currentStatus: %s)" \
                % (self.id, self.status)
        info = self.pause_info or {"pausedBy": None, "pauseTime": ms(t), "pausedMs": 0}
        if self.user_paused:  # the timeline waited: shift the current phase
            self.phase_start += t - self.paused_at
            self.user_paused = False
            self.enter(self.phases[self.i][0], t)
        else:  # a scripted PAUSED phase ends now
            if self.i == len(self.phases) - 1:
                self.phases.append(("RUNNING", None))
            self.phases[self.i] = (self.phases[self.i][0], t - self.phase_start)
            self.step(t)
        self.pause_info = dict(info, resumedBy=user, resumeTime=ms(t), paused=False,
                               pausedMs=info.get("pausedMs", 0) + max(0, ms(t) - info["pauseTime"]))
        return None

    def json(self, expand=True):
        return {
            "type": "PIPELINE", "id": self.id, "application": self.app, "name": self.name,
            "status": self.status, "buildTime": ms(self.build_time),
            "startTime": ms(self.start_time), "endTime": ms(self.end_time),
            "canceled": self.canceled, "canceledBy": self.canceled_by,
            "cancellationReason": self.reason, "limitConcurrent": False,
            "keepWaitingPipelines": False, "paused": copy.deepcopy(self.pause_info),
            "trigger": copy.deepcopy(self.trigger), "pipelineConfigId": self.config_id,
            "authentication": {"user": self.auth_user, "allowedAccounts": []},
            "origin": "api", "notifications": [], "initialConfig": {}, "systemNotifications": [],
            "startTimeExpiry": None, "partition": None, "source": None, "description": None,
            "templateVariables": None, "spelEvaluator": None,
            "stages": [s.json(self, expand) for s in self.stages],
        }


# ---------------------------------------------------------- trigger search --

def subset_match(obj, sub):
    """Orca's checkObjectMatchesSubset (4.5 search): strings equal ignoring
    case or match as a full regular expression; maps hold every key of the
    subset with a matching value; lists hold a distinct matching element for
    each element of the subset; anything else compares equal."""
    if isinstance(obj, str) and isinstance(sub, str):
        if obj.lower() == sub.lower():
            return True
        try:
            return re.fullmatch(sub, obj) is not None
        except re.error:
            return False
    if isinstance(obj, dict) and isinstance(sub, dict):
        return all(subset_match(obj.get(k), v) for k, v in sub.items())
    if isinstance(obj, list) and isinstance(sub, list):
        return len(sub) <= len(obj) and _match_all(list(obj), sub)
    if isinstance(obj, bool) != isinstance(sub, bool):
        return False
    return obj == sub


def _match_all(pool, subs):
    if not subs:
        return True
    for i, o in enumerate(pool):
        if subset_match(o, subs[0]) and _match_all(pool[:i] + pool[i + 1:], subs[1:]):
            return True
    return False


# ---------------------------------------------------------------- service --

class Gate(fakebase.Service):
    name = "gate"

    @classmethod
    def add_args(cls, ap):
        ap.add_argument("--user", help="HTTP Basic user (with --password): auth is on")
        ap.add_argument("--password", help="the --user's password")
        ap.add_argument("--token", help="a Bearer token that is accepted: auth is on")
        ap.add_argument("--token-user", default=None,
                        help="the user a --token authenticates (default: --user, else token-user)")

    def init_state(self):
        a = self.args
        if bool(a.user) != bool(a.password):
            raise ValueError("--user and --password go together")
        self.users = {a.user: a.password} if a.user else {}
        self.tokens = {a.token: a.token_user or a.user or "token-user"} if a.token else {}
        self.pipelines = {}         # (app, name) -> Pipeline
        self.executions = {}        # id -> Execution, in creation order
        self.pending = []           # S2 triggers not yet executions
        self.v2_dropped = []
        self.forbidden = set()
        self.v2_delay = 0.5
        self.cancel_seconds = 0.3
        self.s3_empty = 0
        self.session_cookie = True
        self.sessions = {}          # SESSION cookie -> user
        self.ulid = Ulid()

    def script(self, spec):
        spec = dict(spec)
        for key, attr in (("v2_delay_seconds", "v2_delay"), ("cancel_seconds", "cancel_seconds")):
            if key in spec:
                v = spec.pop(key)
                if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                    raise ValueError("%s: a number >= 0" % key)
                setattr(self, attr, float(v))
        if "s3_empty" in spec:
            self.s3_empty = int(spec.pop("s3_empty"))
        if "session_cookie" in spec:
            self.session_cookie = bool(spec.pop("session_cookie"))
        if "forbidden_apps" in spec:
            apps = spec.pop("forbidden_apps") or []
            if not isinstance(apps, list) or not all(isinstance(x, str) for x in apps):
                raise ValueError("forbidden_apps: a list of application names")
            self.forbidden = set(apps)
        for u, p in (spec.pop("users", None) or {}).items():
            if p is None:
                self.users.pop(u, None)
            else:
                self.users[u] = str(p)
        for tok, u in (spec.pop("tokens", None) or {}).items():
            if u is None:
                self.tokens.pop(tok, None)
            else:
                self.tokens[tok] = str(u)
        defs = {}
        for key, ps in (spec.pop("pipelines", None) or {}).items():
            app, _, name = key.partition("/")
            if not app or not name:
                raise ValueError("pipelines: keys are \"application/name\", not %r" % key)
            if ps is not None and not isinstance(ps, dict):
                raise ValueError("pipelines.%s: an object or null" % key)
            defs[(app, name)] = None if ps is None else Pipeline(app, name, ps)
        for k, p in defs.items():
            if p is None:
                self.pipelines.pop(k, None)
            else:
                self.pipelines[k] = p
        for key, runs in (spec.pop("runs", None) or {}).items():
            app, _, name = key.partition("/")
            p = self.pipelines.get((app, name))
            if p is None:
                raise ValueError("runs: no pipeline %r" % key)
            if not isinstance(runs, list):
                raise ValueError("runs.%s: a list of plans" % key)
            p.runs.extend(parse_plan(r, "runs.%s[%d]" % (key, i)) for i, r in enumerate(runs))
        super().script(spec)

    # -------------------------------------------------------- time passes --

    def advance(self, now):
        self.pending.sort(key=lambda p: p["visible_at"])
        while self.pending and self.pending[0]["visible_at"] <= now:
            p = self.pending.pop(0)
            for ex in self.executions.values():
                ex.advance(p["visible_at"])
            self.materialize_v2(p)
        for ex in self.executions.values():
            ex.advance(now)

    # ------------------------------------------------------------ answers --

    def error(self, req, status, message, headers=None):
        """Spring Boot's error JSON (4.5: shape UNVERIFIED; do not parse more
        than status and message)."""
        return json_response(status, {
            "timestamp": ms(time.time()), "status": status,
            "error": REASONS.get(status, "Error"), "message": message, "path": req.path},
            headers=headers, content_type=JSON_CT)

    def ok_json(self, status, obj):
        return json_response(status, obj, content_type=JSON_CT)

    # ------------------------------------------------------------ auth --

    def authenticate(self, req):
        """4.4: -> (user or None, Set-Cookie value or None), or a 401 Response.
        An Authorization header is checked when sent; without one, a verified
        X.509 client certificate (fakebase's --tls-client-ca) authenticates
        as its CN, then a SESSION cookie. Basic/Bearer auth is off when no
        user and no token is configured."""
        tls = getattr(req, "tls", None) or {}
        cert_user = tls.get("client_cn")
        cookie = req.cookies().get("SESSION")
        bearer = req.bearer()
        cred = req.basic_auth()
        if not self.users and not self.tokens:
            return cert_user, None
        user = None
        if bearer is None and cred is None and cert_user:
            user = cert_user
        elif bearer is not None:
            user = self.tokens.get(bearer)
            if user is None:
                return self.unauthorized(req, "Invalid access token")
        elif cred == "malformed":
            return self.unauthorized(req, "Failed to decode basic authentication token")
        elif cred is not None:
            if self.users.get(cred[0]) is None or self.users[cred[0]] != cred[1]:
                return self.unauthorized(req, "Bad credentials")
            user = cred[0]
        elif cookie in self.sessions:   # a SESSION cookie Gate set earlier
            return self.sessions[cookie], None
        else:
            return self.unauthorized(req, "Full authentication is required to access this resource")
        set_cookie = None
        if self.session_cookie and self.sessions.get(cookie) != user:
            sid = base64.urlsafe_b64encode(uuid.uuid4().bytes + os.urandom(8)).decode().rstrip("=")
            self.sessions[sid] = user
            set_cookie = "SESSION=%s; Path=/; HttpOnly; SameSite=Lax" % sid
        return user, set_cookie

    def unauthorized(self, req, msg):
        if self.users:
            challenge = 'Basic realm="Spinnaker"'
        else:
            challenge = 'Bearer realm="Spinnaker"'
        return self.error(req, 401, msg, headers=[("WWW-Authenticate", challenge)])

    def forbidden_app(self, req, app):
        if app in self.forbidden:  # Fiat: the user lacks READ/EXECUTE on the application
            return self.error(req, 403, "Access denied to application %s" % app)
        return None

    # ---------------------------------------------------------- routing --

    def handle(self, req):
        now = time.time()
        self.advance(now)
        auth = self.authenticate(req)
        if isinstance(auth, Response):
            return auth
        user, set_cookie = auth
        resp = self.route(req, user or "anonymous", now)
        if set_cookie:
            resp.headers.append(("Set-Cookie", set_cookie))
        return resp

    def route(self, req, user, now):
        segs = [unquote(s, errors="replace") for s in req.path.split("/")[1:]]
        while len(segs) > 1 and segs[-1] == "":
            segs.pop()
        m = req.method
        if segs and segs[0] == "pipelines":
            if len(segs) == 4 and segs[1] == "v2":
                return self.trigger(req, user, segs[2], segs[3], now, v2=True) if m == "POST" \
                    else self.not_allowed(req, "POST")
            if len(segs) == 2:
                return self.get_execution(req, segs[1]) if m == "GET" \
                    else self.not_allowed(req, "GET")
            if len(segs) == 3:
                if m == "PUT" and segs[2] in ("cancel", "pause", "resume"):
                    return self.operate(req, user, segs[1], segs[2], now)
                if m == "POST":
                    return self.trigger(req, user, segs[1], segs[2], now, v2=False)
                return self.not_allowed(req, "POST")
        if len(segs) == 4 and segs[0] == "applications" and segs[2:] == ["executions", "search"]:
            return self.search(req, segs[1]) if m == "GET" else self.not_allowed(req, "GET")
        if len(segs) == 3 and segs[0] == "applications" and segs[2] == "pipelines":
            return self.recent(req, segs[1]) if m == "GET" else self.not_allowed(req, "GET")
        return self.error(req, 404, "No message available")

    def not_allowed(self, req, allow):
        return self.error(req, 405, "Request method '%s' is not supported" % req.method,
                          headers=[("Allow", allow)])

    # ---------------------------------------------------- S1 / S2 trigger --

    def read_trigger(self, req):
        """The body is the trigger map itself, optional (4.1 'Trigger body
        shape'); Spring wants application/json for a body."""
        ct = req.content_type()
        has_type = bool(req.header("Content-Type"))
        if not req.body:
            if has_type and ct != "application/json" and not ct.endswith("+json"):
                return self.error(req, 415, "Content type '%s' not supported" % ct)
            return {}
        if ct != "application/json" and not ct.endswith("+json"):
            return self.error(req, 415, "Content type '%s' not supported"
                              % (ct or "application/octet-stream"))
        try:
            body = req.json()
        except ValueError as e:
            return self.error(req, 400, "JSON parse error: %s" % e)
        if body is None:
            return {}
        if not isinstance(body, dict):
            return self.error(req, 400, "JSON parse error: Cannot deserialize value of type "
                                        "`java.util.LinkedHashMap` from %s value"
                                        % type(body).__name__)
        return body

    def find_pipeline(self, app, name_or_id):
        p = self.pipelines.get((app, name_or_id))   # S1: by name, then by id
        if p is None:
            p = next((q for q in self.pipelines.values()
                      if q.app == app and q.id == name_or_id), None)
        return p

    def missing_required(self, pipeline, params):
        for pc in pipeline.parameters:  # S1: required and without a default
            if pc.get("required") and pc.get("default") is None and params.get(pc["name"]) is None:
                return pc["name"]
        return None

    def trigger(self, req, user, app, name_or_id, now, v2):
        body = self.read_trigger(req)
        if isinstance(body, Response):
            return body
        denied = self.forbidden_app(req, app)
        if denied:
            return denied
        pipeline = self.find_pipeline(app, name_or_id)
        if pipeline is None:  # S1: front50's 404 passed through
            return self.error(req, 404, "Pipeline config (id: %s) not found" % name_or_id)
        trig = copy.deepcopy(body)
        trig["user"] = trig.get("user") or user         # Gate: body's user, else the caller
        trig["notifications"] = trig.get("notifications") or []
        if trig.get("parameters") is None:
            trig["parameters"] = {}
        if not isinstance(trig["parameters"], dict):
            return self.error(req, 400, "parameters must be an object")
        if v2:  # S2: Gate answers before Echo and Orca see it
            eid = self.ulid.next(now)
            event = str(uuid.uuid4())
            trig["eventId"], trig["executionId"] = event, eid
            self.pending.append({"visible_at": now + self.v2_delay, "id": eid, "eventId": event,
                                 "pipeline": pipeline, "trigger": trig, "auth_user": user})
            self.advance(now)
            return self.ok_json(202, {"eventId": event, "ref": "/pipelines/%s" % eid})
        missing = self.missing_required(pipeline, trig["parameters"])
        if missing:
            return self.error(req, 400, "Required parameter %s is missing" % missing)
        self.orca_defaults(pipeline, trig)
        if pipeline.disabled:  # Orca marks an execution failed and throws
            self.create(self.ulid.next(now), pipeline, trig, user, now, failed=True)
            return self.error(req, 400, "Unable to trigger pipeline (application: %s, "
                              "pipelineNameOrId: %s). Error: Pipeline is disabled and cannot be "
                              "started." % (app, name_or_id))
        same = self.correlated(trig)
        if same is not None:  # S1 dedupe: the running execution with that correlationId
            same.calls.append({"call": "correlated-trigger", "user": user, "time": ms(now),
                               "status": same.status})
            return self.ok_json(202, {"ref": "/pipelines/%s" % same.id})
        ex = self.create(self.ulid.next(now), pipeline, trig, user, now)
        return self.ok_json(202, {"ref": "/pipelines/%s" % ex.id})

    @staticmethod
    def orca_defaults(pipeline, trig):
        """Orca: type 'manual' when absent; declared parameters absent from
        trigger.parameters take their default; the rest of the trigger stays."""
        trig["type"] = trig.get("type") or "manual"
        params = trig["parameters"]
        for pc in pipeline.parameters:
            if pc["name"] not in params:
                params[pc["name"]] = pc.get("default")
        for k, v in (("correlationId", None), ("artifacts", []), ("rebake", False),
                     ("dryRun", False), ("strategy", False), ("expectedArtifacts", []),
                     ("resolvedExpectedArtifacts", [])):
            trig.setdefault(k, v)

    def correlated(self, trig):
        cid = trig.get("correlationId")
        if cid is None or cid == "":
            return None
        for ex in reversed(list(self.executions.values())):
            if not ex.complete() and ex.trigger.get("correlationId") == cid:
                return ex
        return None

    def create(self, eid, pipeline, trig, user, t, failed=False):
        plan = pipeline.next_plan()
        if failed:
            plan = dict(plan, timeline=[("TERMINAL", None)])
        ex = Execution(self, eid, pipeline, trig, user, t, plan)
        self.executions[ex.id] = ex
        return ex

    def materialize_v2(self, p):
        pipeline, trig, t = p["pipeline"], p["trigger"], p["visible_at"]
        missing = self.missing_required(pipeline, trig["parameters"])
        self.orca_defaults(pipeline, trig)
        if missing or pipeline.disabled:  # no one to answer: the execution is just TERMINAL
            self.create(p["id"], pipeline, trig, p["auth_user"], t, failed=True)
            return
        same = self.correlated(trig)
        if same is not None:  # Orca hands back the running one: this id never exists
            self.v2_dropped.append({"id": p["id"], "eventId": p["eventId"],
                                    "correlated_with": same.id, "time": ms(t)})
            return
        self.create(p["id"], pipeline, trig, p["auth_user"], t)

    # ------------------------------------------------------- S3, S4, S5 --

    def get_execution(self, req, eid):
        if self.s3_empty > 0:  # 4.1 S3: an upstream error swallowed into 200 + no body
            self.s3_empty -= 1
            return empty(200)
        ex = self.executions.get(eid)
        if ex is None:
            return self.error(req, 404, "Pipeline not found (id: %s)" % eid)
        return self.forbidden_app(req, ex.app) or self.ok_json(200, ex.json())

    def operate(self, req, user, eid, op, now):
        ex = self.executions.get(eid)
        if ex is None:
            return self.error(req, 404, "Pipeline not found (id: %s)" % eid)
        denied = self.forbidden_app(req, ex.app)
        if denied:
            return denied
        if op == "cancel":  # S4; ?force= is ignored
            reason = req.params.get("reason", [None])[-1]
            ex.cancel(user, reason, now, self.cancel_seconds)
            return empty(200)
        problem = ex.pause(user, now) if op == "pause" else ex.resume(user, now)
        if problem:
            return self.error(req, 500, problem)
        return empty(200)

    # ----------------------------------------------------- search, S6 --

    def int_param(self, req, name, default):
        v = req.params.get(name, [None])[-1]
        if v is None or v == "":
            return default
        try:
            return int(v)
        except ValueError:
            raise ValueError("Failed to convert value of type 'java.lang.String' to required "
                             "type 'int'; For input string: \"%s\"" % v)

    def search(self, req, app):
        """4.5: gate ExecutionsController -> Orca searchForPipelinesByTrigger."""
        denied = self.forbidden_app(req, app)
        if denied:
            return denied
        q = {k: v[-1] for k, v in req.params.items()}
        try:
            start = self.int_param(req, "startIndex", 0)
            size = self.int_param(req, "size", 10)
        except ValueError as e:
            return self.error(req, 400, str(e))
        if start < 0:
            return self.error(req, 400, "startIndex must be >= 0: startIndex=%d" % start)
        if size <= 0:
            return self.error(req, 400, "size must be > 0: size=%d" % size)
        sub = {}
        if q.get("trigger") is not None:
            try:  # java.util.Base64 basic decoder: + and /, padding optional
                raw = q["trigger"]
                sub = json.loads(base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
                                 .decode("utf-8"))
                if not isinstance(sub, dict):
                    raise ValueError("not an object")
            except (ValueError, UnicodeDecodeError):
                return self.error(req, 500, "Failed to parse encoded trigger")
        name = q.get("pipelineName") or None
        statuses = set(filter(None, (q.get("statuses") or "").split(","))) or None
        types = q.get("triggerTypes")
        types = set(types.split(",")) if types and types != "*" else None
        event = q.get("eventId") or None
        expand = (q.get("expand") or "false").lower() == "true"
        found = []
        for ex in self.executions.values():
            if ex.app != app or (name and ex.name != name):
                continue
            if statuses and ex.status not in statuses:
                continue
            if types and ex.trigger.get("type") not in types:
                continue
            if event and ex.trigger.get("eventId") != event:
                continue
            if subset_match(ex.trigger, sub):
                found.append(ex)
        found.sort(key=lambda e: (e.build_time, e.id), reverse=(q.get("reverse") != "true"))
        return self.ok_json(200, [e.json(expand) for e in found[start:start + size]])

    def recent(self, req, app):
        """S6 as Orca's getPipelinesForApplication: the `limit` newest
        executions of each pipeline config, then all of them sorted by
        startTime ascending (not started first), ties by id descending."""
        denied = self.forbidden_app(req, app)
        if denied:
            return denied
        try:
            limit = self.int_param(req, "limit", 5)
        except ValueError as e:
            return self.error(req, 400, str(e))
        statuses = set(filter(None, (req.params.get("statuses", [""])[-1]).split(","))) or None
        expand = (req.params.get("expand", ["true"])[-1]).lower() != "false"
        groups = {}
        for ex in self.executions.values():
            if ex.app == app and (statuses is None or ex.status in statuses):
                groups.setdefault(ex.config_id, []).append(ex)
        picked = []
        for exs in groups.values():
            picked.extend(sorted(exs, key=lambda e: e.id, reverse=True)[:max(limit, 0)])
        picked.sort(key=lambda e: e.id, reverse=True)
        picked.sort(key=lambda e: ms(e.start_time) or 0)
        return self.ok_json(200, [e.json(expand) for e in picked])

    # ------------------------------------------------------------ state --

    def state(self):
        self.advance(time.time())
        execs = []
        for ex in self.executions.values():
            d = ex.json()
            d["history"] = ex.history       # [[STATUS, epoch ms], ...]
            d["calls"] = ex.calls
            execs.append(d)
        return {
            "pipelines": {"%s/%s" % k: p.summary() for k, p in self.pipelines.items()},
            "executions": execs,
            "pending_v2": [{"id": p["id"], "eventId": p["eventId"],
                            "visible_at": ms(p["visible_at"])} for p in self.pending],
            "v2_dropped": self.v2_dropped,
            "running_correlations": {ex.trigger["correlationId"]: ex.id
                                     for ex in self.executions.values()
                                     if not ex.complete() and ex.trigger.get("correlationId")},
            "s3_empty_pending": self.s3_empty,
            "forbidden_apps": sorted(self.forbidden),
        }


if __name__ == "__main__":
    sys.exit(fakebase.main(Gate))
