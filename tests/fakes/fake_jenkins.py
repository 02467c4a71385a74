#!/usr/bin/env python3
"""Fake Jenkins remote access API (api-contracts.md section 2; README.md).

Endpoints (JOB = /job/A(/job/B)*, each name percent-encoded on its own):
  GET  /crumbIssuer/api/json               J1 (404 unless CSRF protection is on)
  POST JOB/buildWithParameters             J2 201 + Location, 303, 400, 409, 404
  POST JOB/build                           J3
  GET  /queue/item/N/api/json              J4 Waiting -> Blocked -> Buildable -> Left
  GET  /queue/api/json                     the queued items
  POST /queue/cancelItem?id=N              J5 204 / 404 / 500 / 422
  GET  JOB/N/api/json  (N or lastBuild)    J6 ?tree= honoured
  POST JOB/N/stop  (term, kill: pipelines) J7 302
  GET  JOB/api/json                        J8 job (or folder) with its builds
"""

import hashlib
import json
import os
import re
import sys
import time
from urllib.parse import quote, unquote

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakebase  # noqa: E402
from fakebase import Response, empty, json_response, text  # noqa: E402

RESULTS = ("SUCCESS", "UNSTABLE", "FAILURE", "NOT_BUILT", "ABORTED")  # best to worst
PERMISSIONS = ("read", "build", "cancel")
PERMISSION_NAMES = {"read": "Overall/Read", "build": "Job/Build", "cancel": "Job/Cancel"}
PLAN_DEFAULTS = {
    "quiet_seconds": 0.0,        # WaitingItem (quiet period); ?delay= overrides it
    "blocked_seconds": 0.0,      # BlockedItem
    "buildable_seconds": 0.0,    # BuildableItem (waiting for an executor)
    "cancel_in_queue": False,    # leaves the queue cancelled instead of starting
    "build_seconds": 1.0,        # null: the build never ends by itself
    "result": "SUCCESS",
    "intermediate_result": None,  # result shown while still building
    "ignore_stop": False,        # pipelines: "stop" (= true) or "term" ignore those
}
JOB_DEFAULTS = dict(PLAN_DEFAULTS, parameters=None, disabled=False, pipeline=False, runs=[],
                    next_build_number=1)
CLASSES = {  # (job, run)
    False: ("hudson.model.FreeStyleProject", "hudson.model.FreeStyleBuild"),
    True: ("org.jenkinsci.plugins.workflow.job.WorkflowJob",
           "org.jenkinsci.plugins.workflow.job.WorkflowRun"),
}
JSON_CT = "application/json;charset=utf-8"


def worst(a, b):
    if a is None or b is None:
        return a or b
    return a if RESULTS.index(a) >= RESULTS.index(b) else b


def ms(t):
    return int(t * 1000)


def check_plan(spec, where):
    for k, v in spec.items():
        if k not in PLAN_DEFAULTS:
            raise ValueError("%s: unknown key %r" % (where, k))
        if k in ("result", "intermediate_result") and v is not None and v not in RESULTS:
            raise ValueError("%s: %s must be one of %s" % (where, k, ", ".join(RESULTS)))
        if k == "ignore_stop" and v not in (False, True, "stop", "term"):
            raise ValueError("%s: ignore_stop is false, true, 'stop' or 'term'" % where)


# ------------------------------------------------------------- tree filter --

def parse_tree(s):
    """'a,b[c,d]{0,5}' -> {'a': (None, None), 'b': ({'c':..,'d':..}, slice(0,5))}"""
    pos = 0

    def level():
        nonlocal pos
        out = {}
        while True:
            m = re.compile(r"[A-Za-z_$][\w$]*").match(s, pos)
            if not m:
                raise ValueError("malformed tree at %d" % pos)
            name, pos, sub, rng = m.group(0), m.end(), None, None
            if pos < len(s) and s[pos] == "[":
                pos += 1
                sub = level()
                if pos >= len(s) or s[pos] != "]":
                    raise ValueError("malformed tree: missing ]")
                pos += 1
            if pos < len(s) and s[pos] == "{":
                m = re.compile(r"\{(\d*)(?:,(\d*))?\}").match(s, pos)
                if not m:
                    raise ValueError("malformed tree range")
                lo = int(m.group(1) or 0)
                hi = m.group(2)
                rng = slice(lo, int(hi) if hi else (None if m.group(2) is not None else lo + 1))
                pos = m.end()
            out[name] = (sub, rng)
            if pos < len(s) and s[pos] == ",":
                pos += 1
                continue
            return out

    tree = level()
    if pos != len(s):
        raise ValueError("malformed tree at %d" % pos)
    return tree


def apply_tree(obj, tree):
    if isinstance(obj, list):
        return [apply_tree(x, tree) for x in obj]
    if not isinstance(obj, dict):
        return obj
    out = {"_class": obj["_class"]} if "_class" in obj else {}
    for name, (sub, rng) in tree.items():
        if name not in obj:
            continue
        v = obj[name]
        if rng is not None and isinstance(v, list):
            v = v[rng]
        out[name] = apply_tree(v, sub if sub is not None else {})
    return out


# ------------------------------------------------------------------ model --

class Job:
    def __init__(self, path, spec):
        self.path = path            # tuple of names, unescaped
        self.spec = spec
        self.next_number = spec["next_build_number"]
        self.runs = list(spec["runs"])
        self.builds = {}            # number -> Build

    @property
    def parameterized(self):
        return bool(self.spec["parameters"])

    def url(self, base):
        return base + "".join("/job/%s" % quote_seg(n) for n in self.path) + "/"

    def classes(self):
        return CLASSES[bool(self.spec["pipeline"])]


def quote_seg(name):
    return quote(name, safe="")


class Item:
    def __init__(self, qid, job, params, user, plan, now):
        self.id = qid
        self.job = job
        self.params = params        # [(name, value)]
        self.user = user
        self.plan = plan
        self.created = now
        self.left_at = None
        self.cancelled = False
        self.build = None

    def due(self):
        p = self.plan
        return self.created + p["quiet_seconds"] + p["blocked_seconds"] + p["buildable_seconds"]


class Build:
    def __init__(self, job, number, item, started):
        self.job = job
        self.number = number
        self.item = item
        self.started = started
        self.plan = item.plan
        self.ended = None
        self.result = None
        self.stop_calls = []

    def building(self):
        return self.ended is None

    def end(self, when, result):
        self.ended = when
        self.result = worst(self.plan["intermediate_result"], result)


# ---------------------------------------------------------------- service --

class Jenkins(fakebase.Service):
    name = "jenkins"

    @classmethod
    def add_args(cls, ap):
        ap.add_argument("--user", help="a user with every permission")
        ap.add_argument("--token", help="the user's API token (skips the crumb check)")
        ap.add_argument("--password", help="the user's password (needs a crumb with --crumb)")
        ap.add_argument("--crumb", action="store_true", help="turn CSRF protection on")

    def init_state(self):
        a = self.args
        self.users = {}
        if a.user:
            self.users[a.user] = {"token": a.token, "password": a.password,
                                  "permissions": list(PERMISSIONS)}
        self.crumb = bool(a.crumb)
        self.crumb_exempt_api_token = True
        self.anonymous_status = 403
        self.left_ttl = 300.0
        self.jobs = {}              # path tuple -> Job
        self.items = {}             # id -> Item (queued or left, until expiry)
        self.next_qid = 101
        self.sessions = {}          # JSESSIONID value -> user
        self.salt = os.urandom(8).hex()

    def script(self, spec):
        spec = dict(spec)
        for key in ("crumb", "crumb_exempt_api_token"):
            if key in spec:
                setattr(self, key, bool(spec.pop(key)))
        if "anonymous_status" in spec:
            self.anonymous_status = int(spec.pop("anonymous_status"))
        if "left_ttl_seconds" in spec:
            self.left_ttl = float(spec.pop("left_ttl_seconds"))
        if "first_queue_id" in spec:
            self.next_qid = int(spec.pop("first_queue_id"))
        for name, u in (spec.pop("users", None) or {}).items():
            if u is None:
                self.users.pop(name, None)
                continue
            perms = u.get("permissions", list(PERMISSIONS))
            if set(perms) - set(PERMISSIONS) or set(u) - {"token", "password", "permissions"}:
                raise ValueError("users.%s: keys token, password, permissions (%s)"
                                 % (name, ", ".join(PERMISSIONS)))
            self.users[name] = {"token": u.get("token"), "password": u.get("password"),
                                "permissions": perms}
        for path, js in (spec.pop("jobs", None) or {}).items():
            self.define_job(path, js)
        for path, runs in (spec.pop("runs", None) or {}).items():
            job = self.jobs.get(tuple(path.strip("/").split("/")))
            if job is None:
                raise ValueError("runs: no job %r" % path)
            for i, r in enumerate(runs):
                check_plan(r, "runs.%s[%d]" % (path, i))
            job.runs.extend(runs)
        super().script(spec)

    def define_job(self, path, js):
        key = tuple(path.strip("/").split("/"))
        if js is None:
            self.jobs.pop(key, None)
            return
        unknown = set(js) - set(JOB_DEFAULTS)
        if unknown:
            raise ValueError("jobs.%s: unknown keys %s" % (path, ", ".join(sorted(unknown))))
        check_plan({k: v for k, v in js.items() if k in PLAN_DEFAULTS}, "jobs." + path)
        for i, r in enumerate(js.get("runs", [])):
            check_plan(r, "jobs.%s.runs[%d]" % (path, i))
        params = js.get("parameters")
        if params is not None and not isinstance(params, dict):
            raise ValueError("jobs.%s.parameters: an object NAME -> default value" % path)
        old = self.jobs.get(key)
        spec = dict(JOB_DEFAULTS, **js)
        job = Job(key, spec)
        if old:  # keep history when a job is redefined
            job.builds, job.next_number = old.builds, max(old.next_number, job.next_number)
        self.jobs[key] = job

    # -------------------------------------------------------- time passes --

    def advance(self):
        now = time.time()
        queued = sorted((i for i in self.items.values() if i.left_at is None), key=Item.due)
        for item in queued:
            due = item.due()
            if due > now:
                continue
            item.left_at = due
            if item.plan["cancel_in_queue"]:
                item.cancelled = True
                continue
            job = item.job
            b = Build(job, job.next_number, item, due)
            job.next_number += 1
            job.builds[b.number] = b
            item.build = b
        for job in self.jobs.values():
            for b in job.builds.values():
                secs = b.plan["build_seconds"]
                if b.ended is None and secs is not None and now >= b.started + secs:
                    b.end(b.started + secs, b.plan["result"])
        for qid in [i.id for i in self.items.values()
                    if i.left_at is not None and now > i.left_at + self.left_ttl]:
            del self.items[qid]

    # ------------------------------------------------------------ JSON --

    def item_json(self, item, base):
        now = time.time()
        job_class, run_class = item.job.classes()
        d = {
            "actions": self.actions(item),
            "blocked": False, "buildable": False, "id": item.id,
            "inQueueSince": ms(item.created),
            "params": "".join("\n%s=%s" % p for p in item.params),
            "stuck": False,
            "task": {"_class": job_class, "name": item.job.path[-1],
                     "url": item.job.url(base), "color": "blue"},
            "url": "queue/item/%d/" % item.id,
        }
        p = item.plan
        t_wait = item.created + p["quiet_seconds"]
        t_block = t_wait + p["blocked_seconds"]
        if item.left_at is not None:
            d["_class"] = "hudson.model.Queue$LeftItem"
            d["why"] = None
            d["cancelled"] = item.cancelled
            d["executable"] = None if item.build is None else {
                "_class": run_class, "number": item.build.number,
                "url": "%s%d/" % (item.job.url(base), item.build.number)}
        elif now < t_wait:
            d["_class"] = "hudson.model.Queue$WaitingItem"
            d["timestamp"] = ms(t_wait)
            d["why"] = "In the quiet period. Expires in %.1f sec" % max(0.0, t_wait - now)
        elif now < t_block:
            d["_class"] = "hudson.model.Queue$BlockedItem"
            d["blocked"] = True
            d["buildableStartMilliseconds"] = ms(t_wait)
            d["why"] = "Blocked (scripted by the fake)"
        else:
            d["_class"] = "hudson.model.Queue$BuildableItem"
            d["buildable"] = True
            d["pending"] = False
            d["buildableStartMilliseconds"] = ms(t_block)
            d["why"] = "Waiting for next available executor"
        return dict(sorted(d.items()))

    def actions(self, item):
        acts = []
        if item.params:
            acts.append({"_class": "hudson.model.ParametersAction", "parameters": [
                {"_class": "hudson.model.StringParameterValue", "name": n, "value": v}
                for n, v in item.params]})
        acts.append({"_class": "hudson.model.CauseAction", "causes": [{
            "_class": "hudson.model.Cause$UserIdCause",
            "shortDescription": "Started by user %s" % item.user,
            "userId": item.user, "userName": item.user}]})
        return acts

    def build_json(self, b, base):
        _, run_class = b.job.classes()
        building = b.building()
        full = "/".join(b.job.path).replace("/", " \u00bb ")
        result = b.result if not building else b.plan["intermediate_result"]
        return {
            "_class": run_class,
            "actions": self.actions(b.item),
            "artifacts": [],
            "building": building,
            "description": None,
            "displayName": "#%d" % b.number,
            "duration": 0 if building else ms(b.ended - b.started),
            "estimatedDuration": ms(b.plan["build_seconds"] or 60),
            "executor": {"_class": "hudson.model.Executor"} if building else None,
            "fullDisplayName": "%s #%d" % (full, b.number),
            "id": str(b.number),
            "inProgress": building,
            "keepLog": False,
            "number": b.number,
            "queueId": b.item.id,
            "result": result,
            "timestamp": ms(b.started),
            "url": "%s%d/" % (b.job.url(base), b.number),
        }

    def job_json(self, job, base):
        job_class, run_class = job.classes()
        builds = [self.build_json(job.builds[n], base) for n in sorted(job.builds, reverse=True)]
        last = builds[0] if builds else None
        d = {
            "_class": job_class,
            "actions": [],
            "buildable": not job.spec["disabled"],
            "builds": builds,
            "color": "disabled" if job.spec["disabled"] else "blue",
            "fullName": "/".join(job.path),
            "inQueue": any(i.job is job and i.left_at is None for i in self.items.values()),
            "lastBuild": last,
            "name": job.path[-1],
            "nextBuildNumber": job.next_number,
            "property": [],
            "url": job.url(base),
        }
        if job.parameterized:
            d["property"].append({
                "_class": "hudson.model.ParametersDefinitionProperty",
                "parameterDefinitions": [
                    {"_class": "hudson.model.StringParameterDefinition", "name": n,
                     "type": "StringParameterDefinition",
                     "defaultParameterValue": {"_class": "hudson.model.StringParameterValue",
                                               "name": n, "value": v}}
                    for n, v in job.spec["parameters"].items()]})
        return d

    def respond_json(self, req, full, default_tree=None):
        """Honour ?tree=; without it apply the depth-0 view given."""
        tree = req.params.get("tree", [None])[-1]
        if tree:
            try:
                full = apply_tree(full, parse_tree(tree))
            except ValueError as e:
                return text(500, "fake: %s\n" % e)
        elif default_tree:
            full = apply_tree(full, parse_tree(default_tree))
        return json_response(200, full, content_type=JSON_CT)

    # ------------------------------------------------------------ auth --

    def authenticate(self, req):
        """-> (user, via) with via in token|password|anonymous, or a Response."""
        cred = req.basic_auth()
        if cred is None:
            return None, "anonymous"
        if cred == "malformed":
            return self.unauthorized("Malformed HTTP basic Authorization header"), None
        user, secret = cred
        u = self.users.get(user)
        if u and u["token"] and secret == u["token"]:
            return user, "token"
        if u and u["password"] and secret == u["password"]:
            return user, "password"
        return self.unauthorized("Invalid password/token for user: %s" % user), None

    @staticmethod
    def unauthorized(msg):
        return text(401, "Error 401 %s\n" % msg,
                    headers=[("WWW-Authenticate", 'Basic realm="Jenkins"')])

    def forbidden(self, user, perm):
        if user is None:
            return text(self.anonymous_status, "Authentication required\n", headers=[
                ("X-You-Are-Authenticated-As", "anonymous"),
                ("X-Required-Permission", "hudson.model.Hudson.Read")])
        return text(403, "%s is missing the %s permission\n" % (user, PERMISSION_NAMES[perm]),
                    headers=[("X-You-Are-Authenticated-As", user)])

    def allowed(self, user, perm):
        return user is not None and perm in self.users[user]["permissions"]

    def crumb_value(self, user, session):
        return hashlib.sha256(("%s:%s:%s" % (user, session, self.salt)).encode()).hexdigest()

    def crumb_ok(self, req, user):
        sent = req.header("Jenkins-Crumb")
        if sent is None:
            sent = (req.form().get("Jenkins-Crumb") or req.params.get("Jenkins-Crumb") or [None])[-1]
        for name, value in req.cookies().items():
            if name.startswith("JSESSIONID") and self.sessions.get(value) == user:
                if sent == self.crumb_value(user, value):
                    return True
        return False

    # ---------------------------------------------------------- routing --

    def handle(self, req):
        self.advance()
        base = self.base_url(req)
        user, via = self.authenticate(req)
        if isinstance(user, Response):
            return user
        if user is None:
            return self.forbidden(None, "read")
        if req.method == "POST" and self.crumb and not (
                via == "token" and self.crumb_exempt_api_token) and not self.crumb_ok(req, user):
            return text(403, "Error 403 No valid crumb was included in the request\n")
        if not self.allowed(user, "read"):
            return self.forbidden(user, "read")

        segs = [unquote(s, errors="replace") for s in req.path.split("/")[1:]]
        while segs and segs[-1] == "":
            segs.pop()
        if segs == ["crumbIssuer", "api", "json"] and req.method == "GET":
            return self.crumb_issuer(req, user) if self.crumb else text(404, "Not Found\n")
        if segs == ["queue", "api", "json"] and req.method == "GET":
            items = [self.item_json(i, base) for i in sorted(self.items.values(), key=lambda i: i.id)
                     if i.left_at is None]
            return self.respond_json(req, {"_class": "hudson.model.Queue",
                                           "discoverableItems": [], "items": items})
        if len(segs) == 5 and segs[:2] == ["queue", "item"] and segs[3:] == ["api", "json"] \
                and req.method == "GET":
            item = self.items.get(int(segs[2])) if segs[2].isdigit() else None
            if item is None:
                return text(404, "Not Found\n")
            return self.respond_json(req, self.item_json(item, base))
        if segs == ["queue", "cancelItem"]:
            return self.cancel_item(req, user)
        if segs and segs[0] == "job":
            return self.job_route(req, user, segs, base)
        return text(404, "Not Found\n")

    def crumb_issuer(self, req, user):
        session = None
        for name, value in req.cookies().items():
            if name.startswith("JSESSIONID") and self.sessions.get(value) == user:
                session = value
        headers = []
        if session is None:
            session = "node0" + os.urandom(10).hex() + ".node0"
            self.sessions[session] = user
            headers.append(("Set-Cookie", "JSESSIONID.fake0000=%s; Path=/; HttpOnly" % session))
        return json_response(200, {"_class": "hudson.security.csrf.DefaultCrumbIssuer",
                                   "crumb": self.crumb_value(user, session),
                                   "crumbRequestField": "Jenkins-Crumb"},
                             headers=headers, content_type=JSON_CT)

    def cancel_item(self, req, user):
        if req.method != "POST":
            return text(405, "This URL requires POST\n")
        qid = req.params.get("id", [""])[-1]
        if not qid.isdigit():
            return text(400, "id is required\n")
        if not self.allowed(user, "cancel"):
            return text(422, "%s is missing the Job/Cancel permission\n" % user)
        item = self.items.get(int(qid))
        if item is None:
            return text(404, "Provided id (%s) not found\n" % qid)
        if item.left_at is not None:
            return text(500, "Could not cancel run for id %s\n" % qid)
        item.left_at = time.time()
        item.cancelled = True
        return empty(204)

    def job_route(self, req, user, segs, base):
        path = []
        while len(segs) >= 2 and segs[0] == "job":
            path.append(segs[1])
            segs = segs[2:]
        key = tuple(path)
        job = self.jobs.get(key)
        if job is None:
            folder = [j for k, j in self.jobs.items() if k[:len(key)] == key and len(k) > len(key)]
            if folder and segs == ["api", "json"] and req.method == "GET":
                return self.folder_json(req, key, folder, base)
            return text(404, "Not Found\n")
        if segs == ["api", "json"] and req.method == "GET":
            return self.respond_json(req, self.job_json(job, base), default_tree=(
                "actions,buildable,builds[number,url],color,fullName,inQueue,"
                "lastBuild[number,url],name,nextBuildNumber,property[parameterDefinitions"
                "[name,type,defaultParameterValue[name,value]]],url"))
        if segs in (["buildWithParameters"], ["build"]):
            if req.method != "POST":
                return text(405, "This URL requires POST\n")
            return self.trigger(req, user, job, segs[0], base)
        if len(segs) >= 1 and (segs[0].isdigit() or segs[0] == "lastBuild"):
            if segs[0] == "lastBuild":
                b = job.builds.get(max(job.builds)) if job.builds else None
            else:
                b = job.builds.get(int(segs[0]))
            if b is None:
                return text(404, "Not Found\n")
            if segs[1:] == ["api", "json"] and req.method == "GET":
                return self.respond_json(req, self.build_json(b, base))
            if segs[1:] in (["stop"], ["term"], ["kill"]) and req.method == "POST":
                return self.stop(req, user, b, segs[1], base)
        return text(404, "Not Found\n")

    def folder_json(self, req, key, jobs, base):
        children = sorted({j.path[len(key)] for j in jobs})
        url = base + "".join("/job/%s" % quote_seg(n) for n in key) + "/"
        return self.respond_json(req, {
            "_class": "com.cloudbees.hudson.plugins.folder.Folder", "name": key[-1],
            "fullName": "/".join(key), "url": url,
            "jobs": [{"_class": (self.jobs[key + (c,)].classes()[0] if key + (c,) in self.jobs
                                 else "com.cloudbees.hudson.plugins.folder.Folder"),
                      "name": c, "url": "%sjob/%s/" % (url, quote_seg(c))} for c in children]})

    def trigger(self, req, user, job, how, base):
        name = "/".join(job.path)
        if not self.allowed(user, "build"):
            return self.forbidden(user, "build")
        if job.spec["disabled"]:
            return text(409, "%s is not buildable\n" % name)
        values = {}
        for k, v in req.params.items():
            values.setdefault(k, []).extend(v)
        for k, v in req.form().items():
            values.setdefault(k, []).extend(v)
        if how == "buildWithParameters":
            if not job.parameterized:
                return text(400, "%s is not parameterized\n" % name)
            params = []
            for pname, default in job.spec["parameters"].items():
                got = values.get(pname)
                if got is None:
                    params.append((pname, str(default)))
                elif len(got) != 1:
                    return text(500, "Illegal number of parameter values for %s: %d\n"
                                % (pname, len(got)))
                else:
                    params.append((pname, got[0]))
        elif job.parameterized:  # /build of a parameterized job: a 'json' form field
            try:
                form = json.loads(values["json"][-1])
                given = {p["name"]: str(p["value"]) for p in (form.get("parameter") or [])}
            except (KeyError, ValueError, TypeError, AttributeError):
                return text(500, "This page expects a form submission\n")
            unknown = set(given) - set(job.spec["parameters"])
            if unknown:
                return text(500, "No such parameter definition: %s\n" % sorted(unknown)[0])
            params = [(n, given.get(n, str(d))) for n, d in job.spec["parameters"].items()]
        else:
            params = []
        delay = values.get("delay", [None])[-1]
        quiet = None
        if delay is not None:
            m = re.fullmatch(r"\s*(\d+)\s*(ms|sec|secs|s)?\s*", delay)
            if not m:
                return text(400, "Invalid delay %r\n" % delay)
            quiet = int(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)
        for item in self.items.values():
            if item.job is job and item.left_at is None and item.params == params:
                loc = "%s/queue/item/%d/" % (base, item.id)
                if how == "buildWithParameters":
                    return empty(303, headers=[("Location", loc)])
                if job.parameterized:
                    return empty(302, headers=[("Location", job.url(base))])
                return empty(201, headers=[("Location", loc)])
        plan = {k: job.spec[k] for k in PLAN_DEFAULTS}
        if job.runs:
            plan.update(job.runs.pop(0))
        if quiet is not None:
            plan["quiet_seconds"] = quiet
        item = Item(self.next_qid, job, params, user, plan, time.time())
        self.next_qid += 1
        self.items[item.id] = item
        return empty(201, headers=[("Location", "%s/queue/item/%d/" % (base, item.id))])

    def stop(self, req, user, b, how, base):
        if how != "stop" and not b.job.spec["pipeline"]:
            return text(404, "Not Found\n")
        if not self.allowed(user, "cancel"):
            return self.forbidden(user, "cancel")
        b.stop_calls.append(how)
        ignore = b.plan["ignore_stop"]
        ignored = {False: (), True: ("stop",), "stop": ("stop",), "term": ("stop", "term")}[ignore]
        if b.building() and how not in ignored:
            b.end(time.time(), "ABORTED")
        return empty(302, headers=[("Location", "%s%d/" % (b.job.url(base), b.number))])

    def state(self):
        base = "http://127.0.0.1:%d" % self.port
        self.advance()
        return {
            "jobs": {"/".join(k): {"next_build_number": j.next_number, "runs_pending": j.runs,
                                   "builds": [dict(self.build_json(b, base),
                                                   stop_calls=b.stop_calls)
                                              for _, b in sorted(j.builds.items())]}
                     for k, j in self.jobs.items()},
            "queue": [self.item_json(i, base) for i in sorted(self.items.values(),
                                                              key=lambda i: i.id)],
        }


if __name__ == "__main__":
    sys.exit(fakebase.main(Jenkins))
