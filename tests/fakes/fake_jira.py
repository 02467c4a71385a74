#!/usr/bin/env python3
"""Fake Jira REST API v2 (and v3 bodies) (api-contracts.md section 6; README.md).

  POST /rest/api/2/issue                 JI1 201 {id,key,self}, keys OPS-1, OPS-2 ...
  GET  /rest/api/2/issue/KEY             JI3 (?fields=a,b)
  POST /rest/api/2/issue/KEY/comment     JI2 201 comment; 404 unknown issue
  GET  /rest/api/2/issue/KEY/comment
  GET  /rest/api/2/myself                JI4
  GET|POST /rest/api/2/search, /rest/api/2/search/jql   a small JQL subset (README)
/rest/api/3/... is the same but takes Atlassian Document Format for description
and comment bodies. Auth: Basic email:token (Cloud) and/or Bearer PAT (Data
Center); anything else 401.
"""

import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakebase  # noqa: E402
from fakebase import json_response  # noqa: E402

SETTABLE = {"project", "issuetype", "summary", "description", "labels", "priority",
            "components", "assignee", "reporter", "environment", "duedate"}
XSRF_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}


def err(status, messages=(), errors=None):
    return json_response(status, {"errorMessages": list(messages), "errors": errors or {}})


def jira_time(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03d+0000" % (int(t * 1000) % 1000)


def is_adf(v):
    return (isinstance(v, dict) and v.get("type") == "doc" and v.get("version") == 1
            and isinstance(v.get("content"), list))


# -------------------------------------------------------------- JQL subset --

TOKEN = re.compile(r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
                   r"""|(?P<op>!=|!~|=|~|\(|\)|,)|(?P<word>[^\s=!~(),"']+))""")
FIELD_OPS = {  # field -> operators it supports (Jira's own rules)
    "project": {"=", "!=", "in", "not in"}, "key": {"=", "!=", "in", "not in"},
    "issuetype": {"=", "!=", "in", "not in"}, "status": {"=", "!=", "in", "not in"},
    "labels": {"=", "!=", "in", "not in"},
    "summary": {"~", "!~"}, "description": {"~", "!~"}, "text": {"~"},
}
ALIASES = {"issuekey": "key", "type": "issuetype", "issue": "key"}


def parse_jql(jql):
    """-> list of (field, op, [values]) joined by AND; raises ValueError."""
    toks, pos = [], 0
    jql = jql.strip()
    while pos < len(jql):
        m = TOKEN.match(jql, pos)
        if not m or m.end() == pos:
            raise ValueError("Error in the JQL Query: unexpected character at %d" % pos)
        pos = m.end()
        if m.group("str"):
            toks.append(("val", re.sub(r"\\(.)", r"\1", m.group("str")[1:-1])))
        elif m.group("op"):
            toks.append(("op", m.group("op")))
        elif m.group("word"):
            toks.append(("word", m.group("word")))
    clauses, i = [], 0

    def need(kind_ok):
        nonlocal i
        if i >= len(toks) or not kind_ok(toks[i]):
            raise ValueError("Error in the JQL Query: unexpected end or token near %d" % i)
        i += 1
        return toks[i - 1]

    while i < len(toks):
        if toks[i][0] == "word" and toks[i][1].lower() == "order":
            break  # ORDER BY ...: ignored
        field = need(lambda t: t[0] in ("word", "val"))[1].lower()
        field = ALIASES.get(field, field)
        t = need(lambda t: t[0] in ("op", "word"))
        op = t[1].lower()
        if op == "not":
            need(lambda t: t[1].lower() == "in")
            op = "not in"
        if field not in FIELD_OPS:
            raise ValueError("Field '%s' does not exist or the fake does not support it." % field)
        if op not in FIELD_OPS[field]:
            raise ValueError("The operator '%s' is not supported by the '%s' field." % (op, field))
        if op in ("in", "not in"):
            need(lambda t: t == ("op", "("))
            values = []
            while True:
                values.append(need(lambda t: t[0] in ("val", "word"))[1])
                if need(lambda t: t in (("op", ","), ("op", ")"))) == ("op", ")"):
                    break
        else:
            values = [need(lambda t: t[0] in ("val", "word"))[1]]
        clauses.append((field, op, values))
        if i < len(toks):
            if toks[i][0] == "word" and toks[i][1].lower() == "and":
                i += 1
            elif not (toks[i][0] == "word" and toks[i][1].lower() == "order"):
                raise ValueError("Error in the JQL Query: only AND and ORDER BY are supported"
                                 " by the fake, near %r" % (toks[i][1],))
    return clauses


# ---------------------------------------------------------------- service --

class Jira(fakebase.Service):
    name = "jira"

    @classmethod
    def add_args(cls, ap):
        ap.add_argument("--email", help="Cloud: account email for Basic auth")
        ap.add_argument("--token", help="Cloud: API token for Basic auth")
        ap.add_argument("--pat", help="Data Center: personal access token (Bearer)")
        ap.add_argument("--project", action="append",
                        help="project key (repeatable; default OPS)")

    def init_state(self):
        a = self.args
        self.basic = {a.email: a.token} if a.email and a.token else {}
        self.bearer = {a.pat} if a.pat else set()
        if not self.basic and not self.bearer and not fakebase.load_script(a.script).get("auth"):
            fakebase.log(self.name, "no credentials configured: every request gets 401")
        self.projects = {}
        for i, key in enumerate(a.project or ["OPS"]):
            self.add_project(key, ["Task", "Incident", "Bug"], 10000 + i)
        self.issues = {}            # key -> issue dict
        self.by_id = {}
        self.next_id = 10001
        self.next_comment = 10100
        self.create_denied = None   # None, 403 or 400 (the misleading-400 quirk)

    def add_project(self, key, types, pid=None):
        pid = pid or 10000 + len(self.projects)
        self.projects[key] = {
            "id": str(pid), "key": key, "next": 1,
            "issuetypes": [{"id": str(pid * 10 + n), "name": t} for n, t in enumerate(types, 1)]}

    def script(self, spec):
        spec = dict(spec)
        auth = spec.pop("auth", None) or {}
        if set(auth) - {"basic", "bearer"}:
            raise ValueError("auth: keys basic {email: token} and bearer [pat]")
        self.basic.update(auth.get("basic") or {})
        self.bearer.update(auth.get("bearer") or [])
        for key, p in (spec.pop("projects", None) or {}).items():
            if p is None:
                self.projects.pop(key, None)
            else:
                self.add_project(key, p.get("issue_types", ["Task", "Incident", "Bug"]))
        if "create_denied" in spec:
            v = spec.pop("create_denied")
            if v not in (None, 400, 403):
                raise ValueError("create_denied: null, 400 or 403")
            self.create_denied = v
        super().script(spec)

    # ------------------------------------------------------------ auth --

    def who(self, req):
        cred = req.basic_auth()
        if isinstance(cred, tuple) and self.basic.get(cred[0]) == cred[1]:
            return cred[0]
        pat = req.bearer()
        if pat is not None and pat in self.bearer:
            return "pat-user"
        return None

    # --------------------------------------------------------- routing --

    def handle(self, req):
        m = re.fullmatch(r"/rest/api/([23])/(.*?)/?", req.path)
        if not m:
            return err(404, ["Not Found"])
        version, rest = int(m.group(1)), m.group(2)
        user = self.who(req)
        if user is None:
            return err(401, ["You are not authenticated. Authentication required to perform"
                             " this operation."])
        body = None
        if req.method in ("POST", "PUT"):
            ctype = req.content_type()
            if ctype != "application/json":
                if ctype in XSRF_TYPES and req.header("X-Atlassian-Token") != "no-check":
                    return fakebase.text(403, "XSRF check failed")
                return fakebase.text(415, "Unsupported Media Type")
            try:
                body = req.json()
            except ValueError as e:
                return err(400, ["Unexpected character in the JSON body: %s" % e])
        base = self.base_url(req) + "/rest/api/%d" % version
        parts = rest.split("/")
        route = (req.method, parts[0], len(parts))
        if route == ("POST", "issue", 1):
            return self.create(body, version, base)
        if route == ("GET", "myself", 1):
            return json_response(200, {"self": base + "/myself", "name": user,
                                       "emailAddress": user, "displayName": user, "active": True})
        if parts[0] == "search" and parts[1:] in ([], ["jql"]) and req.method in ("GET", "POST"):
            q = body if req.method == "POST" else {k: v[-1] for k, v in req.params.items()}
            return self.search(q if isinstance(q, dict) else {}, base, new_api=parts[1:] == ["jql"])
        if parts[0] == "issue" and len(parts) in (2, 3):
            issue = self.issues.get(parts[1]) or self.by_id.get(parts[1])
            if issue is None:
                return err(404, ["Issue does not exist or you do not have permission to see it."])
            if len(parts) == 2 and req.method == "GET":
                fields = req.params.get("fields", [None])[-1]
                return json_response(200, self.issue_json(issue, base, fields))
            if parts[2:] == ["comment"] and req.method == "POST":
                return self.comment(issue, body, version, base, user)
            if parts[2:] == ["comment"] and req.method == "GET":
                cs = issue["comments"]
                return json_response(200, {"startAt": 0, "maxResults": len(cs),
                                           "total": len(cs), "comments": cs})
        return err(404, ["Not Found"])

    def create(self, body, version, base):
        if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
            return err(400, ["Can not deserialize the request: 'fields' object is required"])
        f = body["fields"]
        errors = {}
        for k in f:
            if k not in SETTABLE and not k.startswith("customfield_"):
                errors[k] = ("Field '%s' cannot be set. It is not on the appropriate screen,"
                             " or unknown." % k)
        proj = f.get("project")
        project = None
        if isinstance(proj, dict):
            project = self.projects.get(proj.get("key")) or next(
                (p for p in self.projects.values() if p["id"] == str(proj.get("id"))), None)
        if project is None:
            errors["project"] = "valid project is required" if proj else "project is required"
        it = f.get("issuetype")
        itype = None
        if project and isinstance(it, dict):
            itype = next((t for t in project["issuetypes"]
                          if t["name"] == it.get("name") or t["id"] == str(it.get("id"))), None)
        if itype is None and project:
            errors["issuetype"] = "valid issue type is required" if it else \
                "issue type is required"
        summary = f.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        if "description" in f and f["description"] is not None:
            d = f["description"]
            if version == 2 and not isinstance(d, str):
                errors["description"] = "Operation value must be a string"
            if version == 3 and not is_adf(d):
                errors["description"] = "Operation value must be an Atlassian Document."
        labels = f.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            errors["labels"] = "Operation value must be an array of strings"
        else:
            for x in labels:
                if not x or re.search(r"\s", x):
                    errors["labels"] = "The label '%s' contains spaces which is invalid." % x
                elif len(x) > 255:
                    errors["labels"] = "The label '%s' is longer than 255 characters." % x
        if errors:
            return err(400, [], errors)
        if self.create_denied == 403:
            return err(403, ["You do not have permission to create issues in this project."])
        if self.create_denied == 400:
            return err(400, [], {"summary": "Field 'summary' cannot be set. It is not on the"
                                            " appropriate screen, or unknown."})
        iid = str(self.next_id)
        self.next_id += 1
        key = "%s-%d" % (project["key"], project["next"])
        project["next"] += 1
        now = time.time()
        issue = {"id": iid, "key": key, "created": jira_time(now), "comments": [],
                 "fields": dict(f, project={"id": project["id"], "key": project["key"]},
                                issuetype=itype, labels=labels, status={"name": "Open"},
                                created=jira_time(now), updated=jira_time(now))}
        self.issues[key] = self.by_id[iid] = issue
        return json_response(201, {"id": iid, "key": key, "self": "%s/issue/%s" % (base, iid)})

    def comment(self, issue, body, version, base, user):
        text = body.get("body") if isinstance(body, dict) else None
        ok = is_adf(text) if version == 3 else isinstance(text, str) and text.strip() != ""
        if not ok:
            return err(400, [], {"comment": "Comment body can not be empty!"})
        cid = str(self.next_comment)
        self.next_comment += 1
        now = jira_time(time.time())
        c = {"self": "%s/issue/%s/comment/%s" % (base, issue["id"], cid), "id": cid,
             "author": {"name": user, "displayName": user, "active": True},
             "body": text, "created": now, "updated": now}
        issue["comments"].append(c)
        return json_response(201, c)

    def issue_json(self, issue, base, fields=None):
        f = dict(issue["fields"], comment={"comments": issue["comments"],
                                           "total": len(issue["comments"])})
        if fields and fields not in ("*all", "*navigable"):
            want = [x.strip() for x in fields.split(",")]
            f = {k: v for k, v in f.items() if k in want}
        return {"expand": "renderedFields,names,schema,operations", "id": issue["id"],
                "self": "%s/issue/%s" % (base, issue["id"]), "key": issue["key"], "fields": f}

    def search(self, q, base, new_api):
        try:
            clauses = parse_jql(str(q.get("jql") or ""))
            start = int(q.get("startAt", 0))
            limit = int(q.get("maxResults", 50))
        except ValueError as e:
            return err(400, [str(e)])
        hits = [i for i in self.issues.values() if all(self.match(i, c) for c in clauses)]
        fields = q.get("fields")
        if isinstance(fields, list):
            fields = ",".join(fields)
        page = [self.issue_json(i, base, fields) for i in hits[start:start + limit]]
        if new_api:
            return json_response(200, {"issues": page, "isLast": start + limit >= len(hits)})
        return json_response(200, {"expand": "schema,names", "startAt": start,
                                   "maxResults": limit, "total": len(hits), "issues": page})

    @staticmethod
    def match(issue, clause):
        field, op, values = clause
        f = issue["fields"]
        if field in ("summary", "description", "text"):
            texts = [f.get("summary") or ""]
            if field != "summary":
                texts.append(f.get("description") if isinstance(f.get("description"), str)
                             else json.dumps(f.get("description") or ""))
            hit = any(values[0].lower() in t.lower() for t in texts)
            return hit if op == "~" else not hit
        have = {
            "project": {f["project"]["key"].lower(), f["project"]["id"]},
            "key": {issue["key"].lower(), issue["id"]},
            "issuetype": {f["issuetype"]["name"].lower(), f["issuetype"]["id"]},
            "status": {f["status"]["name"].lower()},
            "labels": set(f.get("labels") or []),
        }[field]
        if field != "labels":
            values = [v.lower() for v in values]
        hit = any(v in have for v in values)
        return hit if op in ("=", "in") else not hit

    def state(self):
        return {"issues": [dict(i["fields"], id=i["id"], key=i["key"], comments=i["comments"])
                           for i in self.issues.values()]}


if __name__ == "__main__":
    sys.exit(fakebase.main(Jira))
