#!/usr/bin/env python3
"""Fake Kubernetes API server (api-contracts.md section 3; README.md).

The parts healer uses, as the API server documents and implements them:

  POST   /apis/batch/v1/namespaces/NS/jobs                K1  201 / 409 / 422 / 404 / 403
  GET    /apis/batch/v1/namespaces/NS/jobs/NAME           K2  status on a scripted timeline
  GET    /apis/batch/v1[/namespaces/NS]/jobs              JobList (selectors, paging)
  DELETE /apis/batch/v1/namespaces/NS/jobs/NAME           K3  propagationPolicy (query or body)
  GET    /api/v1[/namespaces/NS]/pods                     K4  fieldSelector, labelSelector, limit/continue
  GET    /api/v1/namespaces/NS/pods/NAME                  K7
  POST   /api/v1/namespaces/NS/pods/NAME/eviction         K6  201 / 429 PDB / 500 two PDBs / 404 / 400
  GET    /api/v1/nodes[/NAME], PATCH, DELETE /api/v1/nodes/NAME        K5, K10
  GET    /apis/apps/v1/namespaces/NS/deployments[/NAME], PATCH .../NAME K8, K9 scripted rollout
  GET    /api/v1/namespaces[/NS], /version, /healthz, /livez, /readyz

Every error is a Status object (section 3.2). Time-driven changes (Job
progress, deletions, rollouts) are queued as timed events and applied, in
time order, at the start of every request; each one takes the next
resourceVersion, so resourceVersions order changes as a real server's do.
"""

import base64
import copy
import hashlib
import heapq
import json
import os
import random
import re
import sys
import time
import traceback
import uuid
from urllib.parse import unquote

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakebase  # noqa: E402
from fakebase import Response, json_response  # noqa: E402

JSON_CT = "application/json"
DEFAULT_USER = "system:serviceaccount:remediation:healer"
ANONYMOUS = "system:anonymous"
# k8s.io/apimachinery/pkg/util/rand: the alphabet of generateName suffixes (§3.3)
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
FIRST_RV = 1000

# resource -> (group, version, Kind, namespaced)
RESOURCES = {
    "pods": ("", "v1", "Pod", True),
    "nodes": ("", "v1", "Node", False),
    "namespaces": ("", "v1", "Namespace", False),
    "jobs": ("batch", "v1", "Job", True),
    "deployments": ("apps", "v1", "Deployment", True),
    "poddisruptionbudgets": ("policy", "v1", "PodDisruptionBudget", True),  # errors only
}

# StatusReason by HTTP code (k8s.io/apimachinery/pkg/api/errors; §3.2, §3.7)
REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
           405: "MethodNotAllowed", 406: "NotAcceptable", 409: "Conflict", 410: "Expired",
           413: "RequestEntityTooLarge", 415: "UnsupportedMediaType", 422: "Invalid",
           429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
           504: "Timeout"}
FAULT_MESSAGES = {
    429: "Too many requests, please try again later.",
    500: "Internal error occurred: fake_kubernetes: injected 500",
    503: "the server is currently unable to handle the request",
    504: "Timeout: request did not complete within the allotted timeout",
}

PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json", "application/apply-patch+yaml")
BODY_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")

JOB_BEHAVIOUR_KEYS = {"start_seconds", "run_seconds", "outcome", "reason", "message", "failed",
                      "finalize_seconds", "node", "pods"}
DEFAULT_JOB_BEHAVIOUR = {"start_seconds": 0.1, "run_seconds": 0.2, "outcome": "Complete",
                         "reason": None, "message": None, "failed": None,
                         "finalize_seconds": 0.05, "node": "job-node", "pods": True}
POD_KEYS = {"name", "namespace", "node", "owner", "mirror", "phase", "pdb", "uid", "labels",
            "annotations", "empty_dir", "deleting", "evict_delete_seconds",
            "termination_grace_period_seconds", "remove"}
PDB_KEYS = {"block_count", "desired_healthy", "current_healthy", "disruptions_allowed_negative",
            "stale_count"}
DEPLOYMENT_KNOBS = {"observe_seconds", "rollout_seconds", "progress_deadline_exceeded"}
DEPLOYMENT_KEYS = DEPLOYMENT_KNOBS | {"replicas", "paused", "labels", "image", "annotations"}
NODE_KEYS = {"labels", "annotations", "unschedulable", "ready", "taints"}
FORBID_KEYS = {"method", "verb", "resource", "namespace", "name", "user", "count"}
OWNER_API = {"ReplicaSet": "apps/v1", "DaemonSet": "apps/v1", "StatefulSet": "apps/v1",
             "Deployment": "apps/v1", "Job": "batch/v1", "Node": "v1",
             "ReplicationController": "v1", "CronJob": "batch/v1"}

# Strategic merge patch: list fields merged by key (their patchMergeKey in
# k8s.io/api), and primitive lists merged as sets. Every other list is replaced.
MERGE_KEYS = {"containers": "name", "initContainers": "name", "ephemeralContainers": "name",
              "env": "name", "volumes": "name", "volumeMounts": "mountPath",
              "ports": "containerPort", "imagePullSecrets": "name", "conditions": "type",
              "ownerReferences": "uid", "hostAliases": "ip"}
PRIMITIVE_MERGE = {"finalizers"}

DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")
QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")


def ts(t):
    """metav1.Time: RFC 3339, UTC, whole seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def qualified(resource):
    """'jobs.batch', 'pods': GroupResource.String() as error messages use it."""
    group = RESOURCES[resource][0] if resource in RESOURCES else ""
    return "%s.%s" % (resource, group) if group else resource


def api_version(resource):
    group, version = RESOURCES[resource][:2]
    return "%s/%s" % (group, version) if group else version


def go_value(v):
    """A value as field.Error prints it: strings quoted, numbers bare."""
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v, separators=(",", ":"))


def stable_uid(*parts):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "fake-kubernetes:" + "/".join(parts)))


# ------------------------------------------------------------- Status --

def status_obj(code, reason, message, details=None, status="Failure"):
    """A metav1.Status (§3.2). Empty reason and message are omitted, as the
    real JSON encoding does (omitempty)."""
    d = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": status}
    if message:
        d["message"] = message
    if reason:
        d["reason"] = reason
    if details is not None:
        d["details"] = details
    if code:
        d["code"] = code
    return d


class ApiError(Exception):
    """An error the API server answers with a Status body."""

    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details, self.headers = details, list(headers or [])

    def body(self):
        return status_obj(self.code, self.reason, self.message, self.details)


def res_details(resource, name=None, **more):
    """StatusDetails as the apiserver fills it: Kind is the *resource*."""
    d = {}
    if name:
        d["name"] = name
    group = RESOURCES[resource][0] if resource in RESOURCES else ""
    if group:
        d["group"] = group
    d["kind"] = resource
    d.update(more)
    return d


def not_found(resource, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (qualified(resource), name),
                    res_details(resource, name))


def already_exists(resource, name):
    return ApiError(409, "AlreadyExists", '%s "%s" already exists' % (qualified(resource), name),
                    res_details(resource, name))


def conflict(resource, name, why):
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s'
                    % (qualified(resource), name, why), res_details(resource, name))


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def forbidden(resource, name, why, causes=None):
    what = '%s "%s"' % (qualified(resource), name) if name else qualified(resource)
    details = res_details(resource, name) if resource else {}
    if causes:
        details["causes"] = causes
    return ApiError(403, "Forbidden", "%s is forbidden: %s" % (what, why), details)


def method_not_allowed(why=None):
    return ApiError(405, "MethodNotAllowed",
                    why or "the server does not allow this method on the requested resource", {})


def not_implemented(what):
    return method_not_allowed("fake_kubernetes does not implement %s (README.md, Kubernetes)"
                              % what)


def unsupported_media(types, note=""):
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types "
                    "include: %s%s" % (", ".join(types), note))


def unauthorized():
    return ApiError(401, "Unauthorized", "Unauthorized")


class FieldError:
    """One k8s.io/apimachinery/pkg/util/validation/field error."""

    def __init__(self, kind, field, value=None, detail="", supported=()):
        self.kind, self.field, self.value = kind, field, value
        self.detail, self.supported = detail, supported

    def body(self):
        if self.kind == "FieldValueRequired":
            s = "Required value"
        elif self.kind == "FieldValueNotSupported":
            s = "Unsupported value: %s" % go_value(self.value)
            if self.supported:
                s += ": supported values: " + ", ".join(json.dumps(v) for v in self.supported)
        elif self.kind == "FieldValueForbidden":
            s = "Forbidden"
        else:
            s = "Invalid value: %s" % go_value(self.value)
        return s + (": " + self.detail if self.detail else "")

    def __str__(self):
        return "%s: %s" % (self.field, self.body())


def invalid(resource, name, errs):
    """422 Invalid: 'Job.batch "x" is invalid: [a, b]' (§3.2, §3.7)."""
    group, _, kind, _ = RESOURCES[resource]
    gk = "%s.%s" % (kind, group) if group else kind
    agg = str(errs[0]) if len(errs) == 1 else "[%s]" % ", ".join(str(e) for e in errs)
    details = {"name": name} if name else {}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = [{"reason": e.kind, "message": e.body(), "field": e.field} for e in errs]
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (gk, name, agg), details)


def undecodable(kind, path, got, want):
    """The 400 a type mismatch gets when the body is decoded into a Go struct."""
    names = {str: "string", bool: "bool", int: "number", float: "number", list: "array",
             dict: "object", type(None): "null"}
    return bad_request('%s in version "v1" cannot be handled as a %s: json: cannot unmarshal %s '
                       'into Go struct field %s of type %s'
                       % (kind, kind, names.get(type(got), "value"), path, want))


# ---------------------------------------------------------- selectors --

class LabelSelector:
    """labels.Parse: 'a=b,c!=d,e in (x,y),f notin (z),g,!h,n>3' (§3.2 K4)."""

    TOKEN = re.compile(r"\s*(\(|\)|,|!=|==|=|!|>|<|[^\s(),!=<>]+)")

    def __init__(self, text):
        self.reqs = []
        text = text or ""
        toks, pos = [], 0
        while pos < len(text):
            m = self.TOKEN.match(text, pos)
            if not m:
                if text[pos:].strip() == "":
                    break
                raise bad_request("unable to parse requirement: unexpected character at %d" % pos)
            toks.append(m.group(1))
            pos = m.end()
        i = 0

        def need(ok, what):
            if not ok:
                raise bad_request("unable to parse requirement: found '%s', expected: %s"
                                  % (toks[i] if i < len(toks) else "", what))

        while i < len(toks):
            neg = toks[i] == "!"
            if neg:
                i += 1
            need(i < len(toks) and re.match(r"[^(),!=<>]", toks[i]), "identifier")
            key = toks[i]
            i += 1
            self.check_key(key)
            if neg:
                self.reqs.append((key, "!", None))
            elif i >= len(toks) or toks[i] == ",":
                self.reqs.append((key, "exists", None))
            elif toks[i] in ("=", "==", "!="):
                op = "!=" if toks[i] == "!=" else "="
                i += 1
                val = ""
                if i < len(toks) and toks[i] not in (",", "(", ")", "=", "!=", "==", "!"):
                    val = toks[i]
                    i += 1
                self.check_value(val)
                self.reqs.append((key, op, val))
            elif toks[i] in ("in", "notin"):
                op = toks[i]
                i += 1
                need(i < len(toks) and toks[i] == "(", "'('")
                i += 1
                vals = []
                while i < len(toks) and toks[i] != ")":
                    if toks[i] != ",":
                        self.check_value(toks[i])
                        vals.append(toks[i])
                    i += 1
                need(i < len(toks), "')'")
                i += 1
                self.reqs.append((key, op, set(vals)))
            elif toks[i] in (">", "<"):
                op = toks[i]
                i += 1
                need(i < len(toks) and re.fullmatch(r"-?\d+", toks[i] or ""), "integer")
                self.reqs.append((key, op, int(toks[i])))
                i += 1
            else:
                need(False, "=, !=, ==, in, notin, >, <")
            if i < len(toks):
                need(toks[i] == ",", "','")
                i += 1

    @staticmethod
    def check_key(key):
        name = key.rsplit("/", 1)[-1]
        prefix = key[:-len(name) - 1] if "/" in key else None
        if (len(name) > 63 or not QUALIFIED_NAME.match(name)
                or (prefix is not None and not DNS1123_SUBDOMAIN.match(prefix))):
            raise bad_request("unable to parse requirement: invalid label key %s" % json.dumps(key))

    @staticmethod
    def check_value(v):
        if len(v) > 63 or not LABEL_VALUE.match(v):
            raise bad_request("unable to parse requirement: invalid label value: %s"
                              % json.dumps(v))

    def empty(self):
        return not self.reqs

    def matches(self, labels):
        labels = labels or {}
        for key, op, val in self.reqs:
            have = labels.get(key)
            if op == "exists" and have is None:
                return False
            if op == "!" and have is not None:
                return False
            if op == "=" and have != val:
                return False
            if op == "!=" and have == val:
                return False
            if op == "in" and have not in val:
                return False
            if op == "notin" and have in val:
                return False
            if op in (">", "<"):
                try:
                    n = int(have)
                except (TypeError, ValueError):
                    return False
                if (op == ">" and not n > val) or (op == "<" and not n < val):
                    return False
        return True


def field_value(resource, body, name):
    """The field selectors each resource supports (its GetAttrs / field
    label conversion); None for an unsupported field label."""
    md, spec, st = body["metadata"], body.get("spec") or {}, body.get("status") or {}
    common = {"metadata.name": md.get("name", ""), "metadata.namespace": md.get("namespace", "")}
    if resource == "pods":
        common.update({
            "spec.nodeName": spec.get("nodeName", ""),
            "spec.restartPolicy": spec.get("restartPolicy", ""),
            "spec.schedulerName": spec.get("schedulerName", ""),
            "spec.serviceAccountName": spec.get("serviceAccountName", ""),
            "spec.hostNetwork": "true" if spec.get("hostNetwork") else "false",
            "status.phase": st.get("phase", ""),
            "status.podIP": st.get("podIP", ""),
            "status.nominatedNodeName": st.get("nominatedNodeName", ""),
        })
    elif resource == "jobs":
        common["status.successful"] = str(st.get("succeeded", 0))
    elif resource == "nodes":
        common["spec.unschedulable"] = "true" if spec.get("unschedulable") else "false"
    elif resource == "namespaces":
        common["status.phase"] = st.get("phase", "")
    return common.get(name)


def parse_field_selector(text, resource):
    """fields.ParseSelector: 'a=b,c!=d', '\\' escapes ',', '=' and '!'."""
    terms, cur, i = [], "", 0
    text = text or ""
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            cur += c + text[i + 1]
            i += 2
            continue
        if c == ",":
            terms.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    if text:
        terms.append(cur)
    reqs = []
    for term in terms:
        if term == "":
            continue
        m = re.match(r"((?:\\.|[^\\!=])*)(!=|==|=)(.*)\Z", term)
        if not m:
            raise bad_request("invalid selector: '%s'; can't understand '%s'" % (text, term))
        key = m.group(1).strip()
        val = re.sub(r"\\(.)", r"\1", m.group(3))
        if field_value(resource, {"metadata": {}}, key) is None:
            raise bad_request("field label not supported: %s" % key)
        reqs.append((key, m.group(2) != "!=", val))  # (field, equal?, value)
    return reqs


# -------------------------------------------------------------- patches --

def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def strategic_merge(target, patch):
    """A strategic merge patch: a merge patch, except that the list fields of
    MERGE_KEYS are merged item by item on their key, PRIMITIVE_MERGE lists
    as sets, and the $patch / $deleteFromPrimitiveList directives work.
    $setElementOrder and $retainKeys are accepted and ignored."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            if isinstance(out.get(field), list) and isinstance(v, list):
                out[field] = [x for x in out[field] if x not in v]
            continue
        if k.startswith("$"):
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict):
            if v.get("$patch") == "delete":
                out.pop(k, None)
            else:
                out[k] = strategic_merge(out.get(k), v)
        elif isinstance(v, list) and k in MERGE_KEYS:
            out[k] = merge_list(out.get(k), v, MERGE_KEYS[k])
        elif isinstance(v, list) and k in PRIMITIVE_MERGE:
            cur = list(out.get(k) or [])
            out[k] = cur + [x for x in v if x not in cur]
        else:
            out[k] = copy.deepcopy(v)
    return out


def merge_list(cur, patch, key):
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [copy.deepcopy(p) for p in patch if not (isinstance(p, dict) and "$patch" in p)]
    out = [copy.deepcopy(x) for x in (cur if isinstance(cur, list) else [])]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            out.append(copy.deepcopy(item))
            continue
        idx = next((i for i, x in enumerate(out) if isinstance(x, dict) and x.get(key) == item[key]),
                   None)
        if item.get("$patch") == "delete":
            if idx is not None:
                del out[idx]
        elif idx is None:
            out.append(strategic_merge({}, item))
        else:
            out[idx] = strategic_merge(out[idx], item)
    return out


class PatchFailed(Exception):
    pass


def json_patch(doc, ops):
    """RFC 6902 JSON patch (add, remove, replace, move, copy, test)."""
    if not isinstance(ops, list):
        raise ValueError("a JSON patch is an array of operations")

    def split(ptr):
        if not isinstance(ptr, str) or (ptr and not ptr.startswith("/")):
            raise ValueError("invalid JSON pointer %r" % (ptr,))
        return [p.replace("~1", "/").replace("~0", "~") for p in ptr.split("/")[1:]]

    def walk(d, parts):
        for p in parts:
            if isinstance(d, dict) and p in d:
                d = d[p]
            elif isinstance(d, list) and p.isdigit() and int(p) < len(d):
                d = d[int(p)]
            else:
                raise PatchFailed("doc is missing path: /%s" % "/".join(parts))
        return d

    def get(d, parts):
        return walk(d, parts)

    def remove(d, parts):
        parent = walk(d, parts[:-1])
        last = parts[-1]
        if isinstance(parent, dict) and last in parent:
            return parent.pop(last)
        if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
            return parent.pop(int(last))
        raise PatchFailed("unable to remove nonexistent key: %s: missing value" % last)

    def add(d, parts, value, replace=False):
        if not parts:
            return value
        parent = walk(d, parts[:-1])
        last = parts[-1]
        if isinstance(parent, dict):
            if replace and last not in parent:
                raise PatchFailed("replace operation does not apply: doc is missing key: /%s"
                                  % "/".join(parts))
            parent[last] = value
        elif isinstance(parent, list):
            if last == "-" and not replace:
                parent.append(value)
            elif last.isdigit() and int(last) <= len(parent) - (1 if replace else 0):
                if replace:
                    parent[int(last)] = value
                else:
                    parent.insert(int(last), value)
            else:
                raise PatchFailed("index out of bounds: /%s" % "/".join(parts))
        else:
            raise PatchFailed("doc is missing path: /%s" % "/".join(parts))
        return d

    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise ValueError("a JSON patch operation needs 'op' and 'path'")
        kind, parts = op["op"], split(op["path"])
        if kind in ("add", "replace", "test") and "value" not in op:
            raise ValueError("operation %s needs a value" % kind)
        if kind == "add":
            doc = add(doc, parts, copy.deepcopy(op["value"]))
        elif kind == "replace":
            doc = add(doc, parts, copy.deepcopy(op["value"]), replace=True)
        elif kind == "remove":
            remove(doc, parts)
        elif kind in ("move", "copy"):
            src = split(op.get("from"))
            value = remove(doc, src) if kind == "move" else copy.deepcopy(get(doc, src))
            doc = add(doc, parts, value)
        elif kind == "test":
            if get(doc, parts) != op["value"]:
                raise PatchFailed("testing value /%s failed" % "/".join(parts))
        else:
            raise ValueError("unexpected operation %r" % kind)
    return doc


# ---------------------------------------------------------------- model --

class Obj:
    """A stored object: its JSON body plus what only the fake knows."""

    def __init__(self, resource, body):
        self.resource = resource
        self.body = body
        self.epoch = 0          # bumped to cancel the object's pending events
        self.gone = False
        self.history = []       # (jobs, deployments) the changes, for /_fake/state
        self.extra = {}

    @property
    def name(self):
        return self.body["metadata"]["name"]

    @property
    def namespace(self):
        return self.body["metadata"].get("namespace", "")

    @property
    def key(self):
        return (self.namespace, self.name)


class Kubernetes(fakebase.Service):
    name = "kubernetes"

    @classmethod
    def add_args(cls, ap):
        ap.add_argument("--token", action="append", default=[],
                        help="an accepted bearer token (repeatable)")
        ap.add_argument("--user", default=DEFAULT_USER,
                        help="the user the tokens authenticate as (default %s)" % DEFAULT_USER)

    # ------------------------------------------------------------ state --

    def init_state(self):
        self.rand = random.Random(os.urandom(16))
        self.rv = FIRST_RV
        self.store = {r: {} for r in RESOURCES}
        self.events = []            # heap of (time, seq, obj, epoch, fn)
        self.event_seq = 0
        self.default_user = self.args.user
        self.tokens = {t: self.default_user for t in self.args.token}
        self.client_cert_auth = False
        self.anonymous_status = 403
        self.forbid = []
        self.terminating = set()
        self.job_behaviour = {"": dict(DEFAULT_JOB_BEHAVIOUR)}
        self.delete_seconds = 0.2
        self.evict_delete_seconds = 0.2
        self.name_suffixes = []
        self.expire_continue = False
        self.pdbs = {}
        self.deployment_knobs = {}  # (ns, name) -> knobs
        self.jobs_seen = []         # every Job ever created, in order (state)
        self.evictions = []
        self.patches = []
        self.deletions = []
        for ns in ("default", "remediation"):
            self.add_namespace(ns)
        self.started = time.time()

    def next_rv(self):
        self.rv += 1
        return str(self.rv)

    def touch(self, obj):
        obj.body["metadata"]["resourceVersion"] = self.next_rv()

    def put(self, obj):
        self.store[obj.resource][obj.key] = obj
        self.touch(obj)

    def remove(self, obj):
        if self.store[obj.resource].get(obj.key) is obj:
            del self.store[obj.resource][obj.key]
            self.next_rv()  # a deletion is a change too
        obj.gone = True
        obj.epoch += 1

    def get(self, resource, ns, name):
        return self.store[resource].get((ns or "", name))

    def schedule(self, when, obj, fn):
        self.event_seq += 1
        heapq.heappush(self.events, (when, self.event_seq, obj, obj.epoch if obj else 0, fn))

    def advance(self):
        """Apply every due timed event, oldest first."""
        now = time.time()
        while self.events and self.events[0][0] <= now:
            when, _, obj, epoch, fn = heapq.heappop(self.events)
            if obj is not None and obj.epoch != epoch:
                continue  # cancelled (deleted, or re-planned)
            fn(when)

    def add_namespace(self, ns):
        if self.get("namespaces", "", ns):
            return
        self.put(Obj("namespaces", {
            "kind": "Namespace", "apiVersion": "v1",
            "metadata": {"name": ns, "uid": stable_uid("ns", ns), "resourceVersion": "",
                         "creationTimestamp": ts(time.time()),
                         "labels": {"kubernetes.io/metadata.name": ns}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}))

    def set_terminating(self, names):
        self.terminating = set(names)
        for ns, obj in list(self.store["namespaces"].items()):
            want = "Terminating" if obj.name in self.terminating else "Active"
            if obj.body["status"]["phase"] != want:
                obj.body["status"]["phase"] = want
                md = obj.body["metadata"]
                if want == "Terminating":
                    md["deletionTimestamp"] = ts(time.time())
                else:
                    md.pop("deletionTimestamp", None)
                self.touch(obj)
        for ns in self.terminating:
            self.add_namespace(ns)
            self.set_terminating_once(ns)

    def set_terminating_once(self, ns):
        obj = self.get("namespaces", "", ns)
        if obj.body["status"]["phase"] != "Terminating":
            obj.body["status"]["phase"] = "Terminating"
            obj.body["metadata"]["deletionTimestamp"] = ts(time.time())
            self.touch(obj)

    # ----------------------------------------------------------- script --

    def script(self, spec):
        spec = dict(spec)
        if "tokens" in spec:  # replaces the accepted set: rotation (§3.1, §3.8 item 1)
            toks = spec.pop("tokens")
            if isinstance(toks, list) and all(isinstance(t, str) for t in toks):
                self.tokens = {t: self.default_user for t in toks}
            elif isinstance(toks, dict) and all(isinstance(v, str) for v in toks.values()):
                self.tokens = dict(toks)
            else:
                raise ValueError("tokens: a list of tokens or an object token -> user name")
        if "user" in spec:
            self.default_user = str(spec.pop("user"))
        if "client_cert_auth" in spec:
            self.client_cert_auth = bool(spec.pop("client_cert_auth"))
        if "anonymous_status" in spec:
            v = int(spec.pop("anonymous_status"))
            if v not in (401, 403):
                raise ValueError("anonymous_status: 401 or 403")
            self.anonymous_status = v
        if "forbid" in spec:
            rules = spec.pop("forbid")
            if not isinstance(rules, list):
                raise ValueError("forbid: a list of rules")
            for r in rules:
                if not isinstance(r, dict) or set(r) - FORBID_KEYS:
                    raise ValueError("forbid: rules are objects with keys %s"
                                     % ", ".join(sorted(FORBID_KEYS)))
            self.forbid = [dict(r, count=int(r.get("count", -1))) for r in rules]
        if "namespaces" in spec:
            names = spec.pop("namespaces")
            if not isinstance(names, list):
                raise ValueError("namespaces: a list of names")
            for key in [k for k in self.store["namespaces"] if k[1] not in names]:
                self.remove(self.store["namespaces"][key])
            for ns in names:
                self.add_namespace(str(ns))
            self.set_terminating(self.terminating & set(names))
        if "terminating_namespaces" in spec:
            names = spec.pop("terminating_namespaces")
            if not isinstance(names, list):
                raise ValueError("terminating_namespaces: a list of names")
            self.set_terminating(names)
        for key, attr in (("delete_seconds", "delete_seconds"),
                          ("evict_delete_seconds", "evict_delete_seconds")):
            if key in spec:
                setattr(self, attr, float(spec.pop(key)))
        if "expire_continue_tokens" in spec:
            self.expire_continue = bool(spec.pop("expire_continue_tokens"))
        if "name_suffixes" in spec:
            sfx = spec.pop("name_suffixes")
            if not isinstance(sfx, list) or not all(isinstance(s, str) for s in sfx):
                raise ValueError("name_suffixes: a list of strings")
            self.name_suffixes.extend(sfx)
        for prefix, b in (spec.pop("job_behaviour", None) or {}).items():
            self.define_job_behaviour(prefix, b)
        for name, n in (spec.pop("nodes", None) or {}).items():
            self.define_node(name, n)
        for name, p in (spec.pop("pdbs", None) or {}).items():
            self.define_pdb(name, p)
        pods = spec.pop("pods", None) or []
        if not isinstance(pods, list):
            raise ValueError("pods: a list of pod specs")
        for p in pods:
            self.define_pod(p)
        for key, d in (spec.pop("deployments", None) or {}).items():
            self.define_deployment(key, d)
        super().script(spec)

    def define_job_behaviour(self, prefix, b):
        if b is None:
            if prefix == "":
                self.job_behaviour[""] = dict(DEFAULT_JOB_BEHAVIOUR)
            else:
                self.job_behaviour.pop(prefix, None)
            return
        if not isinstance(b, dict) or set(b) - JOB_BEHAVIOUR_KEYS:
            raise ValueError("job_behaviour.%s: keys %s" % (prefix, ", ".join(sorted(JOB_BEHAVIOUR_KEYS))))
        if b.get("outcome", "Complete") not in ("Complete", "Failed", "Never"):
            raise ValueError("job_behaviour.%s.outcome: Complete, Failed or Never" % prefix)
        for k in ("start_seconds", "run_seconds", "finalize_seconds"):
            if k in b and (not isinstance(b[k], (int, float)) or b[k] < 0):
                raise ValueError("job_behaviour.%s.%s: a number >= 0" % (prefix, k))
        if b.get("failed") is not None and (not isinstance(b["failed"], int) or b["failed"] < 0):
            raise ValueError("job_behaviour.%s.failed: an integer >= 0" % prefix)
        self.job_behaviour[prefix] = dict(DEFAULT_JOB_BEHAVIOUR, **b)

    def define_node(self, name, n):
        old = self.get("nodes", "", name)
        if n is None:
            if old:
                self.remove(old)
            return
        if not isinstance(n, dict) or set(n) - NODE_KEYS:
            raise ValueError("nodes.%s: keys %s" % (name, ", ".join(sorted(NODE_KEYS))))
        now = time.time()
        labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
        labels.update(n.get("labels") or {})
        spec = {}
        if n.get("unschedulable"):
            spec["unschedulable"] = True
        if n.get("taints"):
            spec["taints"] = n["taints"]
        ready = n.get("ready", True)
        body = {
            "kind": "Node", "apiVersion": "v1",
            "metadata": {"name": name, "uid": str(uuid.uuid4()), "resourceVersion": "",
                         "creationTimestamp": ts(now), "labels": labels},
            "spec": spec,
            "status": {
                "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                "lastHeartbeatTime": ts(now), "lastTransitionTime": ts(now),
                                "reason": "KubeletReady" if ready else "KubeletNotReady",
                                "message": "kubelet is posting ready status" if ready
                                else "container runtime network not ready"}],
                "addresses": [{"type": "Hostname", "address": name}],
                "nodeInfo": {"kubeletVersion": "v1.31.0", "operatingSystem": "linux",
                             "architecture": "amd64"}},
        }
        if n.get("annotations"):
            body["metadata"]["annotations"] = dict(n["annotations"])
        if old:
            self.remove(old)
        self.put(Obj("nodes", body))

    def define_pdb(self, name, p):
        if p is None:
            self.pdbs.pop(name, None)
            return
        if not isinstance(p, dict) or set(p) - PDB_KEYS:
            raise ValueError("pdbs.%s: keys %s" % (name, ", ".join(sorted(PDB_KEYS))))
        self.pdbs[name] = {"block_count": int(p.get("block_count", 0)),
                           "desired_healthy": int(p.get("desired_healthy", 1)),
                           "current_healthy": int(p.get("current_healthy", 1)),
                           "disruptions_allowed_negative": bool(p.get("disruptions_allowed_negative")),
                           "stale_count": int(p.get("stale_count", 0)), "blocked": 0}

    def define_pod(self, p):
        if not isinstance(p, dict) or set(p) - POD_KEYS or not p.get("name"):
            raise ValueError("pods: each a JSON object with a name; keys %s"
                             % ", ".join(sorted(POD_KEYS)))
        ns = p.get("namespace") or "default"
        old = self.get("pods", ns, p["name"])
        if p.get("remove"):
            if old:
                self.remove(old)
            return
        self.add_namespace(ns)
        now = time.time()
        node = p.get("node")
        md = {"name": p["name"], "namespace": ns, "uid": p.get("uid") or str(uuid.uuid4()),
              "resourceVersion": "", "creationTimestamp": ts(now)}
        if p.get("labels"):
            md["labels"] = dict(p["labels"])
        ann = dict(p.get("annotations") or {})
        owner = p.get("owner")
        if p.get("mirror"):
            # A static pod's API mirror (§3.5 step 3): the kubelet marks it so,
            # and it is owned by its Node.
            ann["kubernetes.io/config.mirror"] = hashlib.md5(p["name"].encode()).hexdigest()
            if "owner" not in p:
                owner = {"kind": "Node", "name": node}
        if ann:
            md["annotations"] = ann
        if owner:
            if not isinstance(owner, dict) or not owner.get("kind") or not owner.get("name"):
                raise ValueError("pods.%s.owner: {\"kind\", \"name\"} or null" % p["name"])
            kind = owner["kind"]
            n = self.get("nodes", "", owner["name"]) if kind == "Node" else None
            md["ownerReferences"] = [{
                "apiVersion": OWNER_API.get(kind, "v1"), "kind": kind, "name": owner["name"],
                "uid": n.body["metadata"]["uid"] if n else stable_uid(kind, ns, owner["name"]),
                "controller": True, "blockOwnerDeletion": True}]
        if p.get("deleting"):
            md["deletionTimestamp"] = ts(now)
            md["deletionGracePeriodSeconds"] = 30
        spec = {"volumes": [], "containers": [{"name": "main", "image": "registry.example/app:1",
                                               "resources": {}, "imagePullPolicy": "IfNotPresent"}],
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": int(p.get("termination_grace_period_seconds", 30)),
                "dnsPolicy": "ClusterFirst", "serviceAccountName": "default",
                "schedulerName": "default-scheduler"}
        if p.get("empty_dir"):
            spec["volumes"].append({"name": "scratch", "emptyDir": {}})
        if not spec["volumes"]:
            del spec["volumes"]
        if node:
            spec["nodeName"] = node
        phase = p.get("phase", "Running")
        if phase not in ("Pending", "Running", "Succeeded", "Failed", "Unknown"):
            raise ValueError("pods.%s.phase: Pending, Running, Succeeded, Failed or Unknown"
                             % p["name"])
        status = {"phase": phase}
        if phase == "Running":
            status["startTime"] = ts(now)
        pdb = p.get("pdb")
        obj = Obj("pods", {"kind": "Pod", "apiVersion": "v1", "metadata": md, "spec": spec,
                           "status": status})
        obj.extra["pdbs"] = [pdb] if isinstance(pdb, str) else list(pdb or [])
        if "evict_delete_seconds" in p:
            obj.extra["evict_delete_seconds"] = float(p["evict_delete_seconds"])
        if old:
            self.remove(old)
        self.put(obj)

    def define_deployment(self, key, d):
        ns, _, name = key.rpartition("/")
        ns = ns or "default"
        old = self.get("deployments", ns, name)
        if d is None:
            if old:
                self.remove(old)
            self.deployment_knobs.pop((ns, name), None)
            return
        if not isinstance(d, dict) or set(d) - DEPLOYMENT_KEYS:
            raise ValueError("deployments.%s: keys %s" % (key, ", ".join(sorted(DEPLOYMENT_KEYS))))
        knobs = self.deployment_knobs.setdefault((ns, name), {
            "observe_seconds": 0.2, "rollout_seconds": 1.0, "progress_deadline_exceeded": False})
        for k in DEPLOYMENT_KNOBS & set(d):
            knobs[k] = bool(d[k]) if k == "progress_deadline_exceeded" else float(d[k])
        if old and set(d) <= DEPLOYMENT_KNOBS:
            return  # knobs only: the object and its rollout go on
        self.add_namespace(ns)
        now = time.time()
        replicas = int(d.get("replicas", 1))
        labels = dict(d.get("labels") or {"app": name})
        template = {"metadata": {"creationTimestamp": None, "labels": dict(labels)},
                    "spec": {"containers": [{"name": name,
                                             "image": d.get("image", "registry.example/%s:1" % name),
                                             "resources": {}, "imagePullPolicy": "IfNotPresent"}],
                             "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                             "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler"}}
        spec = {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                "template": template,
                "strategy": {"type": "RollingUpdate",
                             "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600}
        if d.get("paused"):
            spec["paused"] = True
        md = {"name": name, "namespace": ns, "uid": str(uuid.uuid4()), "resourceVersion": "",
              "generation": 1, "creationTimestamp": ts(now), "labels": dict(labels),
              "annotations": dict(d.get("annotations") or {},
                                  **{"deployment.kubernetes.io/revision": "1"})}
        obj = Obj("deployments", {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": md,
                                  "spec": spec, "status": {}})
        obj.extra.update(rolled_template=copy.deepcopy(template), revision=1)
        st = {"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
              "readyReplicas": replicas, "availableReplicas": replicas}
        self.set_deploy_status(obj, st, now, available=True, progressing=(
            ("Unknown", "DeploymentPaused", "Deployment is paused") if d.get("paused") else
            ("True", "NewReplicaSetAvailable",
             'ReplicaSet "%s" has successfully progressed.' % self.rs_name(obj))))
        if old:
            self.remove(old)
        self.put(obj)
        self.deploy_history(obj, now, "created")

    # --------------------------------------------------------- requests --

    def state(self):
        self.advance()

        def by_key(resource):
            return {("%s/%s" % o.key if o.namespace else o.name): copy.deepcopy(o.body)
                    for o in sorted(self.store[resource].values(), key=lambda o: o.key)}

        return {
            "resourceVersion": str(self.rv),
            "tokens": sorted(self.tokens),
            "namespaces": {o.name: o.body["status"]["phase"]
                           for o in self.store["namespaces"].values()},
            "jobs": [{"namespace": o.namespace, "name": o.name, "uid": o.body["metadata"]["uid"],
                      "present": not o.gone, "behaviour": o.extra["behaviour_prefix"],
                      "deletion": o.extra.get("deletion"), "history": o.history,
                      "object": copy.deepcopy(o.body)} for o in self.jobs_seen],
            "nodes": by_key("nodes"),
            "pods": by_key("pods"),
            "deployments": by_key("deployments"),
            "deployment_history": {"%s/%s" % o.key: o.history
                                   for o in self.store["deployments"].values()},
            "pdbs": copy.deepcopy(self.pdbs),
            "evictions": copy.deepcopy(self.evictions),
            "patches": copy.deepcopy(self.patches),
            "deletions": copy.deepcopy(self.deletions),
        }

    def fault_response(self, fault):
        """Injected errors look like the API server's own (§3.2, §3.8 item 7):
        a Status body, unless the fault gives its own body (e.g. a proxy's)."""
        if fault.body is not None or fault.status < 400:
            return fault.response()
        code = fault.status
        details = {}
        headers = list(fault.headers.items())
        if fault.retry_after is not None:
            headers.append(("Retry-After", str(fault.retry_after)))
            if str(fault.retry_after).isdigit():
                details["retryAfterSeconds"] = int(fault.retry_after)
        if code == 500:
            details["causes"] = [{"message": "fake_kubernetes: injected 500"}]
        body = status_obj(code, REASONS.get(code, ""),
                          FAULT_MESSAGES.get(code, "fake_kubernetes: injected %d" % code), details)
        return json_response(code, body, headers=headers + self.std_headers(), content_type=JSON_CT)

    @staticmethod
    def std_headers():
        return [("Audit-Id", str(uuid.uuid4())), ("Cache-Control", "no-cache, private")]

    def reply(self, code, obj, headers=()):
        return json_response(code, obj, headers=list(headers) + self.std_headers(),
                             content_type=JSON_CT)

    def handle(self, req):
        try:
            self.advance()
            return self.route(req)
        except ApiError as e:
            return self.reply(e.code, e.body(), e.headers)
        except Exception:  # a bug in the fake: a Status 500 that says so
            tb = traceback.format_exc()
            fakebase.log(self.name, tb)
            return self.reply(500, status_obj(500, "InternalError",
                                              "Internal error occurred: fake_kubernetes bug: %s"
                                              % tb.strip().splitlines()[-1]))

    # ------------------------------------------------------------- auth --

    def authenticate(self, req):
        """-> user name (§3.1). Like the apiserver's union authenticator: a
        verified client certificate first (only with client_cert_auth), then
        the bearer token. A token that is presented but unknown is 401; no
        usable credentials at all is the anonymous user."""
        if self.client_cert_auth and req.tls and req.tls.get("client_cn"):
            return req.tls["client_cn"]
        auth = (req.header("Authorization") or "").strip()
        parts = auth.split(" ", 2)
        if len(parts) >= 2 and parts[0].lower() == "bearer" and parts[1]:
            user = self.tokens.get(parts[1])
            if user is None:
                raise unauthorized()
            return user
        if self.anonymous_status == 401:
            raise unauthorized()
        return ANONYMOUS

    def authorize(self, user, method, verb, resource, sub, ns, name):
        """RBAC stand-in: the anonymous user may do nothing; scripted
        `forbid` rules deny the rest (§3.1 RBAC, §3.7 403)."""
        rbac_res = resource + ("/" + sub if sub else "")
        denied = user == ANONYMOUS
        for rule in self.forbid:
            if denied:
                break
            if rule["count"] == 0:
                continue
            if (rule.get("method", method).upper() == method
                    and rule.get("verb", verb) == verb
                    and rule.get("resource", rbac_res) == rbac_res
                    and rule.get("namespace", ns) == ns and rule.get("name", name) == name
                    and rule.get("user", user) == user):
                if rule["count"] > 0:
                    rule["count"] -= 1
                denied = True
        if not denied:
            return
        group = RESOURCES[resource][0]
        where = ('in the namespace "%s"' % ns) if ns else "at the cluster scope"
        raise forbidden(resource, name, 'User "%s" cannot %s resource "%s" in API group "%s" %s'
                        % (user, verb, rbac_res, group, where))

    # ---------------------------------------------------------- routing --

    def route(self, req):
        segs = [unquote(s) for s in req.path.split("/")[1:]]
        while segs and segs[-1] == "":
            segs.pop()
        if req.method == "GET" and segs in (["healthz"], ["livez"], ["readyz"], ["version"]):
            self.authenticate(req)  # public (system:public-info-viewer), but a bad token is 401
            if segs == ["version"]:
                return self.reply(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-fake",
                                        "platform": "linux/amd64"})
            return Response(200, "ok", "text/plain; charset=utf-8", self.std_headers())
        user = self.authenticate(req)
        self.check_accept(req)
        if segs[:2] == ["api", "v1"]:
            group, rest = "", segs[2:]
        elif len(segs) >= 3 and segs[0] == "apis":
            group, rest = segs[1], segs[3:]
            if segs[2] != "v1":
                raise self.no_route()
        else:
            if user == ANONYMOUS:
                raise ApiError(403, "Forbidden", 'forbidden: User "%s" cannot %s path "%s"'
                               % (user, req.method.lower(), req.path), {})
            raise self.no_route()
        ns = None
        if rest[:1] == ["namespaces"] and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        elif rest[:1] == ["namespaces"]:  # the Namespace objects themselves
            rest = ["namespaces"] + rest[1:]
        if not rest or len(rest) > 3 or rest[0] not in RESOURCES:
            raise self.no_route()
        resource = rest[0]
        res_group, _, _, namespaced = RESOURCES[resource]
        name = rest[1] if len(rest) >= 2 else None
        sub = rest[2] if len(rest) == 3 else None
        if res_group != group or (ns is not None and not namespaced):
            raise self.no_route()
        if ns is None and name is not None and namespaced:
            raise self.no_route()  # /api/v1/pods/NAME does not exist (only lists are cluster-wide)
        if sub not in (None, "eviction") or (sub and resource != "pods"):
            if sub in ("status", "log", "scale", "binding", "exec"):
                raise not_implemented("the %s/%s subresource" % (resource, sub))
            raise self.no_route()
        verb = self.verb(req.method, name, sub, req)
        self.authorize(user, req.method, verb, resource, sub, ns or "", name or "")
        handler = {
            ("jobs", "create"): lambda: self.create_job(req, ns),
            ("jobs", "get"): lambda: self.get_one("jobs", ns, name),
            ("jobs", "list"): lambda: self.list_objects(req, "jobs", ns),
            ("jobs", "delete"): lambda: self.delete_job(req, ns, name),
            ("pods", "get"): lambda: self.get_one("pods", ns, name),
            ("pods", "list"): lambda: self.list_objects(req, "pods", ns),
            ("pods/eviction", "create"): lambda: self.evict(req, ns, name),
            ("nodes", "get"): lambda: self.get_one("nodes", "", name),
            ("nodes", "list"): lambda: self.list_objects(req, "nodes", None),
            ("nodes", "patch"): lambda: self.patch(req, "nodes", "", name),
            ("nodes", "delete"): lambda: self.delete_node(req, name),
            ("deployments", "get"): lambda: self.get_one("deployments", ns, name),
            ("deployments", "list"): lambda: self.list_objects(req, "deployments", ns),
            ("deployments", "patch"): lambda: self.patch(req, "deployments", ns, name),
            ("namespaces", "get"): lambda: self.get_one("namespaces", "", name),
            ("namespaces", "list"): lambda: self.list_objects(req, "namespaces", None),
        }.get((resource + ("/" + sub if sub else ""), verb))
        if handler is None:
            if verb is None:
                raise method_not_allowed()
            raise not_implemented("%s on %s" % (verb, resource + ("/" + sub if sub else "")))
        return handler()

    @staticmethod
    def no_route():
        return ApiError(404, "NotFound", "the server could not find the requested resource", {})

    @staticmethod
    def verb(method, name, sub, req):
        """The request's verb, or None when the real API has no such route."""
        if sub:
            return "create" if method == "POST" else None
        if name is None:
            if method == "GET":
                return "watch" if req.params.get("watch", [""])[-1] in ("1", "true") else "list"
            return {"POST": "create", "DELETE": "deletecollection"}.get(method)
        return {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method)

    @staticmethod
    def check_accept(req):
        """406 unless the client accepts JSON (Kubernetes also offers YAML
        and protobuf, which this fake does not; §3.1 content negotiation)."""
        accept = req.header("Accept")
        if not accept:
            return
        types = [a.split(";")[0].strip().lower() for a in accept.split(",")]
        if not any(t in ("application/json", "*/*", "application/*") for t in types):
            raise ApiError(406, "NotAcceptable", "only the following media types are accepted: "
                           "application/json, application/yaml, application/vnd.kubernetes.protobuf")

    @staticmethod
    def read_json(req, kind):
        """The body of a create: application/json (or no Content-Type, which
        the apiserver takes as JSON); 415 for other types, 400 when it does
        not parse."""
        ct = req.content_type()
        if ct and ct not in BODY_TYPES:
            raise unsupported_media(BODY_TYPES)
        if ct and ct != "application/json":
            raise unsupported_media(BODY_TYPES, " (fake_kubernetes decodes JSON only)")
        try:
            body = json.loads(req.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise bad_request("error decoding body: %s" % e) from None
        if not isinstance(body, dict):
            raise bad_request('%s in version "v1" cannot be handled as a %s: json: cannot '
                              "unmarshal %s into Go value of type struct" % (kind, kind,
                                                                             type(body).__name__))
        return body

    def check_namespace(self, resource, ns, name=""):
        """NamespaceLifecycle admission: creating in a missing namespace is
        404, in a terminating one 403 with cause NamespaceTerminating (§3.5)."""
        if not self.get("namespaces", "", ns):
            raise not_found("namespaces", ns)
        if ns in self.terminating:
            raise forbidden(resource, name, "unable to create new content in namespace %s because "
                            "it is being terminated" % ns,
                            causes=[{"reason": "NamespaceTerminating",
                                     "message": "namespace %s is being terminated" % ns,
                                     "field": "metadata.namespace"}])

    def get_one(self, resource, ns, name):
        obj = self.get(resource, ns, name)
        if obj is None:
            raise not_found(resource, name)
        return self.reply(200, obj.body)

    # ------------------------------------------------------------ lists --

    def list_objects(self, req, resource, ns):
        """A List with selectors and paging (§3.2 K4): `limit` cuts a page
        and `metadata.continue` resumes after its last item."""
        q = {k: v[-1] for k, v in req.params.items()}
        labels = LabelSelector(q.get("labelSelector", ""))
        fields = parse_field_selector(q.get("fieldSelector", ""), resource)
        try:
            limit = int(q.get("limit") or 0)
        except ValueError:
            raise bad_request("limit: invalid value %s" % json.dumps(q["limit"])) from None
        start, list_rv = None, str(self.rv)
        if q.get("continue"):
            start, list_rv = self.decode_continue(q["continue"])
        items = []
        # etcd key order (".../NS/NAME"), which is also what continue resumes after
        for obj in sorted(self.store[resource].values(), key=lambda o: "%s/%s" % o.key):
            if ns is not None and obj.namespace != ns:
                continue
            if start is not None and "%s/%s" % obj.key <= start:
                continue
            if not labels.matches(obj.body["metadata"].get("labels")):
                continue
            if not all((field_value(resource, obj.body, k) == v) == eq for k, eq, v in fields):
                continue
            items.append(obj)
        meta = {"resourceVersion": list_rv}
        if limit > 0 and len(items) > limit:
            rest = len(items) - limit
            items = items[:limit]
            meta["continue"] = self.encode_continue(list_rv, "%s/%s" % items[-1].key)
            if labels.empty() and not fields:
                meta["remainingItemCount"] = rest
        group, version, kind, _ = RESOURCES[resource]
        out = []
        for obj in items:  # items of a typed list carry no kind/apiVersion
            out.append({k: v for k, v in obj.body.items() if k not in ("kind", "apiVersion")})
        return self.reply(200, {"kind": kind + "List", "apiVersion": api_version(resource),
                                "metadata": meta, "items": out})

    @staticmethod
    def encode_continue(rv, key):
        raw = json.dumps({"v": "meta.k8s.io/v1", "rv": int(rv), "start": key + "\u0000"},
                         separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode_continue(self, token):
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            d = json.loads(raw)
            if d.get("v") != "meta.k8s.io/v1" or not isinstance(d.get("start"), str):
                raise ValueError("unknown version")
            start, rv = d["start"].rstrip("\u0000"), int(d["rv"])
        except (ValueError, TypeError, KeyError) as e:
            raise bad_request("continue key is not valid: %s" % e) from None
        if self.expire_continue:
            raise ApiError(410, "Expired", "The provided continue parameter is too old to display "
                           "a consistent list result. You can start a new list without the "
                           "continue parameter.", {})
        return start, str(rv)

    # ------------------------------------------------------------- jobs --

    def create_job(self, req, ns):
        """K1 (§3.3): generateName, server-filled metadata, defaults, the
        generated selector and template labels; 404/403 from namespace
        admission, 422 from validation, 409 from storage."""
        body = self.read_json(req, "Job")
        if body.get("apiVersion") not in (None, "batch/v1"):
            raise bad_request("the API version in the data (%s) does not match the expected API "
                              "version (batch/v1)" % body["apiVersion"])
        if body.get("kind") not in (None, "Job"):
            raise bad_request("the kind in the data (%s) does not match the expected kind (Job)"
                              % body["kind"])
        md = self.typed(body, "metadata", dict, "ObjectMeta.metadata", "v1.ObjectMeta", "Job") or {}
        spec = self.typed(body, "spec", dict, "Job.spec", "v1.JobSpec", "Job") or {}
        template = self.typed(spec, "template", dict, "JobSpec.spec.template",
                              "v1.PodTemplateSpec", "Job") or {}
        tmd = self.typed(template, "metadata", dict, "PodTemplateSpec.spec.template.metadata",
                         "v1.ObjectMeta", "Job") or {}
        pspec = self.typed(template, "spec", dict, "PodTemplateSpec.spec.template.spec",
                           "v1.PodSpec", "Job") or {}
        for f in ("backoffLimit", "completions", "parallelism", "activeDeadlineSeconds",
                  "ttlSecondsAfterFinished"):
            self.typed(spec, f, int, "JobSpec.spec.%s" % f,
                       "int64" if f == "activeDeadlineSeconds" else "int32", "Job")
        for f in ("labels", "annotations"):
            for where in (md, tmd):
                v = self.typed(where, f, dict, "ObjectMeta.metadata.%s" % f,
                               "map[string]string", "Job")
                for val in (v or {}).values():
                    if not isinstance(val, str):
                        raise undecodable("Job", "ObjectMeta.metadata.%s" % f, val, "string")
        containers = self.typed(pspec, "containers", list, "PodSpec.spec.template.spec.containers",
                                "[]v1.Container", "Job")
        if md.get("namespace") not in (None, "", ns):
            raise bad_request("the namespace of the provided object does not match the namespace "
                              "sent on the request")
        self.check_namespace("jobs", ns, md.get("name") or "")
        if md.get("resourceVersion"):
            raise ApiError(500, "InternalError", "Internal error occurred: resourceVersion should "
                           "not be set on objects to be created",
                           {"causes": [{"message": "resourceVersion should not be set on objects "
                                                   "to be created"}]})
        # generateName: a random 5-character suffix, only when name is empty (§3.3)
        name = md.get("name") or ""
        gen = md.get("generateName") or ""
        if not name and gen:
            suffix = self.name_suffixes.pop(0) if self.name_suffixes else "".join(
                self.rand.choice(NAME_ALPHABET) for _ in range(5))
            name = gen[:58] + suffix
        errs = self.validate_job(name, md, spec, tmd, pspec, containers)
        if errs:
            raise invalid("jobs", name, errs)
        if self.get("jobs", ns, name):
            raise already_exists("jobs", name)

        now = time.time()
        uid = str(uuid.uuid4())
        user_tlabels = dict(tmd.get("labels") or {})
        tlabels = dict(user_tlabels)
        tlabels.update({"batch.kubernetes.io/controller-uid": uid,
                        "batch.kubernetes.io/job-name": name,
                        "controller-uid": uid, "job-name": name})
        meta = {"name": name}
        if gen:
            meta["generateName"] = gen
        meta.update({"namespace": ns, "uid": uid, "resourceVersion": "", "generation": 1,
                     "creationTimestamp": ts(now)})
        # SetDefaults_Job: a Job without labels takes its template's (§3.3 template labels)
        meta["labels"] = dict(md["labels"]) if md.get("labels") else (user_tlabels or dict(tlabels))
        for k in ("annotations", "ownerReferences", "finalizers"):
            if md.get(k):
                meta[k] = copy.deepcopy(md[k])
        ctrs = []
        for c in containers:
            c = copy.deepcopy(c)
            image = c.get("image", "")
            c.setdefault("resources", {})
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            c.setdefault("imagePullPolicy", "Always" if image.endswith(":latest") or
                         ":" not in image.rsplit("/", 1)[-1] else "IfNotPresent")
            ctrs.append(c)
        new_pspec = copy.deepcopy(pspec)
        new_pspec["containers"] = ctrs
        for k, v in (("terminationGracePeriodSeconds", 30), ("dnsPolicy", "ClusterFirst"),
                     ("securityContext", {}), ("schedulerName", "default-scheduler")):
            new_pspec.setdefault(k, v)
        tmeta = {"creationTimestamp": None, "labels": tlabels}
        if tmd.get("annotations"):
            tmeta["annotations"] = dict(tmd["annotations"])
        new_spec = {"parallelism": spec.get("parallelism", 1),
                    "completions": spec.get("completions", 1)}
        if spec.get("activeDeadlineSeconds") is not None:
            new_spec["activeDeadlineSeconds"] = spec["activeDeadlineSeconds"]
        new_spec["backoffLimit"] = spec.get("backoffLimit", 6)
        new_spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        new_spec["template"] = {"metadata": tmeta, "spec": new_pspec}
        if spec.get("ttlSecondsAfterFinished") is not None:
            new_spec["ttlSecondsAfterFinished"] = spec["ttlSecondsAfterFinished"]
        new_spec.update({"completionMode": spec.get("completionMode", "NonIndexed"),
                         "suspend": bool(spec.get("suspend", False)),
                         "podReplacementPolicy": spec.get("podReplacementPolicy",
                                                          "TerminatingOrFailed")})
        job = Obj("jobs", {"kind": "Job", "apiVersion": "batch/v1", "metadata": meta,
                           "spec": new_spec, "status": {}})
        prefix = max((p for p in self.job_behaviour if name.startswith(p) or gen.startswith(p)),
                     key=len)
        job.extra.update(behaviour_prefix=prefix, behaviour=dict(self.job_behaviour[prefix]),
                         pods=[])
        self.put(job)
        self.jobs_seen.append(job)
        self.job_history(job, now, "created")
        self.plan_job(job, now)
        return self.reply(201, job.body)

    @staticmethod
    def typed(d, key, want, path, gotype, kind):
        v = d.get(key)
        if v is None:
            return None
        ok = isinstance(v, want) and not (want is int and isinstance(v, bool))
        if not ok:
            raise undecodable(kind, path, v, gotype)
        return v

    def validate_job(self, name, md, spec, tmd, pspec, containers):
        """The Job validation healer can trip over (§3.3, §3.8 item 2)."""
        errs = []
        if not name:
            errs.append(FieldError("FieldValueRequired", "metadata.name",
                                   detail="name or generateName is required"))
        elif not DNS1123_SUBDOMAIN.match(name) or len(name) > 253:
            errs.append(FieldError("FieldValueInvalid", "metadata.name", name,
                                   "a lowercase RFC 1123 subdomain must consist of lower case "
                                   "alphanumeric characters, '-' or '.', and must start and end "
                                   "with an alphanumeric character (e.g. 'example.com', regex "
                                   "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]"
                                   "([-a-z0-9]*[a-z0-9])?)*')"))
        elif len(name) > 63:  # it becomes the job-name label value
            errs.append(FieldError("FieldValueInvalid", "metadata.name", name,
                                   "must be no more than 63 characters"))
        for where, m in (("metadata", md), ("spec.template.metadata", tmd)):
            errs += self.validate_labels(where + ".labels", m.get("labels") or {}, values=True)
            errs += self.validate_labels(where + ".annotations", m.get("annotations") or {},
                                         values=False)
        for f in ("backoffLimit", "completions", "parallelism", "activeDeadlineSeconds",
                  "ttlSecondsAfterFinished"):
            v = spec.get(f)
            if v is not None and v < 0:
                errs.append(FieldError("FieldValueInvalid", "spec." + f, v,
                                       "must be greater than or equal to 0"))
        if spec.get("selector") is not None and not spec.get("manualSelector"):
            errs.append(FieldError("FieldValueInvalid", "spec.selector", spec["selector"],
                                   "`selector` not auto-generated"))
        if not containers:
            errs.append(FieldError("FieldValueRequired", "spec.template.spec.containers"))
        for i, c in enumerate(containers or []):
            base = "spec.template.spec.containers[%d]" % i
            if not isinstance(c, dict):
                errs.append(FieldError("FieldValueInvalid", base, c, "must be an object"))
                continue
            if not c.get("name"):
                errs.append(FieldError("FieldValueRequired", base + ".name"))
            elif not DNS1123_LABEL.match(str(c["name"])) or len(str(c["name"])) > 63:
                errs.append(FieldError("FieldValueInvalid", base + ".name", c["name"],
                                       "a lowercase RFC 1123 label must consist of lower case "
                                       "alphanumeric characters or '-', and must start and end "
                                       "with an alphanumeric character"))
            if not c.get("image"):
                errs.append(FieldError("FieldValueRequired", base + ".image"))
        # An empty restartPolicy defaults to Always, which a Job refuses (§3.3).
        rp = pspec.get("restartPolicy") or "Always"
        if rp not in ("OnFailure", "Never"):
            errs.append(FieldError("FieldValueNotSupported", "spec.template.spec.restartPolicy",
                                   rp, supported=("OnFailure", "Never")))
        return errs

    @staticmethod
    def validate_labels(field, m, values):
        errs = []
        for k, v in m.items():
            name = k.rsplit("/", 1)[-1]
            prefix = k[:-len(name) - 1] if "/" in k else None
            if len(name) > 63 or not QUALIFIED_NAME.match(name) or (
                    prefix is not None and (not prefix or not DNS1123_SUBDOMAIN.match(prefix))):
                errs.append(FieldError("FieldValueInvalid", field, k,
                                       "name part must consist of alphanumeric characters, '-', "
                                       "'_' or '.', and must start and end with an alphanumeric "
                                       "character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
                                       "regex used for validation is "
                                       "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"))
            elif values and len(v) > 63:
                errs.append(FieldError("FieldValueInvalid", field, v,
                                       "must be no more than 63 characters"))
            elif values and not LABEL_VALUE.match(v):
                errs.append(FieldError("FieldValueInvalid", field, v,
                                       "a valid label must be an empty string or consist of "
                                       "alphanumeric characters, '-', '_' or '.', and must start "
                                       "and end with an alphanumeric character (e.g. 'MyValue',  "
                                       "or 'my_value',  or '12345', regex used for validation is "
                                       "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"))
        return errs

    def job_history(self, job, when, what):
        job.history.append({"time": round(when, 3), "event": what,
                            "resourceVersion": job.body["metadata"]["resourceVersion"]})

    def plan_job(self, job, now):
        """Queue the Job's status changes (§3.4 state machine):
        (no status) -> active=1 + startTime [-> failed=k while retrying]
          -> SuccessCriteriaMet -> Complete + completionTime, succeeded=1
          -> FailureTarget(reason) -> Failed(reason), failed=N
        "Never" runs until deleted or until activeDeadlineSeconds (counted from
        startTime) fails it with DeadlineExceeded; ttlSecondsAfterFinished
        then deletes it (later GETs are 404)."""
        b, spec = job.extra["behaviour"], job.body["spec"]
        t0 = now + b["start_seconds"]
        if spec.get("suspend"):
            self.schedule(t0, job, lambda t: self.job_condition(
                job, t, "Suspended", "JobSuspended", "Job suspended"))
            return
        outcome, run = b["outcome"], b["run_seconds"]
        backoff = spec.get("backoffLimit", 6)
        if outcome == "Failed":
            reason = b["reason"] or "BackoffLimitExceeded"
            n_failed = b["failed"] if b["failed"] is not None else (
                backoff + 1 if reason == "BackoffLimitExceeded" else 1)
            attempts = max(n_failed, 1)
        else:
            reason = None
            n_failed = b["failed"] or 0
            attempts = n_failed + 1
        t_end = t0 + run if outcome != "Never" else None
        # the failed attempts before the last one: failed climbs, active stays 1
        retries = [t0 + run * i / attempts
                   for i in range(1, (attempts if outcome == "Failed" else n_failed + 1)
                                  if outcome != "Never" else 1)]
        ads = spec.get("activeDeadlineSeconds")
        deadline = t0 + ads if ads is not None else None
        if deadline is not None and (t_end is None or deadline < t_end):
            t_end, outcome, reason = None, "Deadline", "DeadlineExceeded"
            retries = [t for t in retries if t < deadline]

        def start(t):
            st = job.body["status"]
            st.update({"startTime": ts(t), "active": 1, "ready": 1, "terminating": 0,
                       "uncountedTerminatedPods": {}})
            self.job_pod(job, t)
            self.touch(job)
            self.job_history(job, t, "active=1")

        self.schedule(t0, job, start)
        for i, te in enumerate(retries, 1):
            def retry(t, i=i):
                st = job.body["status"]
                st["failed"] = i
                self.job_pod_end(job, t, "Failed")
                self.job_pod(job, t)
                self.touch(job)
                self.job_history(job, t, "failed=%d,active=1" % i)

            self.schedule(te, job, retry)
        fin = b["finalize_seconds"]
        if outcome == "Complete":
            def decided(t):
                st = job.body["status"]
                st.pop("active", None)
                st.update({"succeeded": 1, "ready": 0})
                self.job_pod_end(job, t, "Succeeded")
                self.job_condition(job, t, "SuccessCriteriaMet", "CompletionsReached",
                                   "Reached expected number of succeeded pods")

            def done(t):
                job.body["status"]["completionTime"] = ts(t)
                self.job_condition(job, t, "Complete", "CompletionsReached",
                                   "Reached expected number of succeeded pods")
                self.plan_ttl(job, t)

            self.schedule(t_end, job, decided)
            self.schedule(t_end + fin, job, done)
        elif outcome in ("Failed", "Deadline"):
            message = b["message"] or {
                "BackoffLimitExceeded": "Job has reached the specified backoff limit",
                "DeadlineExceeded": "Job was active longer than specified deadline",
            }.get(reason, "Job failed (scripted by the fake)")
            when = t_end if outcome == "Failed" else deadline

            def target(t):
                st = job.body["status"]
                st.pop("active", None)
                st["ready"] = 0
                if outcome == "Failed":
                    st["failed"] = n_failed
                    self.job_pod_end(job, t, "Failed")
                else:  # the deadline kills the running pod: it terminates first
                    st["terminating"] = 1
                self.job_condition(job, t, "FailureTarget", reason, message)

            def failed(t):
                st = job.body["status"]
                if outcome == "Deadline":
                    st["terminating"] = 0
                    st["failed"] = st.get("failed", 0) + 1
                    self.job_pod_end(job, t, "Failed")
                self.job_condition(job, t, "Failed", reason, message)
                self.plan_ttl(job, t)

            self.schedule(when, job, target)
            self.schedule(when + fin, job, failed)

    def job_condition(self, job, t, ctype, reason, message):
        job.body["status"].setdefault("conditions", []).append({
            "type": ctype, "status": "True", "lastProbeTime": ts(t), "lastTransitionTime": ts(t),
            "reason": reason, "message": message})
        self.touch(job)
        self.job_history(job, t, "%s:%s" % (ctype, reason))

    def plan_ttl(self, job, t):
        ttl = job.body["spec"].get("ttlSecondsAfterFinished")
        if ttl is None:
            return

        def expire(t2):  # the TTL-after-finished controller deletes it in the foreground (§3.3)
            self.start_delete(job, t2, "Foreground", "ttlSecondsAfterFinished", {
                "propagationPolicy": "Foreground",
                "preconditions": {"uid": job.body["metadata"]["uid"]}})

        self.schedule(t + ttl, job, expire)

    def job_pods(self, job):
        return [p for p in job.extra["pods"] if not p.gone]

    def job_pod(self, job, t):
        """A Pod for the Job's next attempt, labelled like the real ones
        (job-name=..., controller-uid=...), so labelSelector finds it."""
        b, jmd = job.extra["behaviour"], job.body["metadata"]
        if not b["pods"] or len(job.extra["pods"]) >= 50:
            return
        tmpl = job.body["spec"]["template"]
        name = "%s-%s" % (job.name, "".join(self.rand.choice(NAME_ALPHABET) for _ in range(5)))
        spec = copy.deepcopy(tmpl["spec"])
        spec["nodeName"] = b["node"]
        spec.setdefault("serviceAccountName", "default")
        md = {"name": name, "generateName": job.name + "-", "namespace": job.namespace,
              "uid": str(uuid.uuid4()), "resourceVersion": "", "creationTimestamp": ts(t),
              "labels": dict(tmpl["metadata"]["labels"]),
              "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": job.name,
                                   "uid": jmd["uid"], "controller": True,
                                   "blockOwnerDeletion": True}],
              "finalizers": ["batch.kubernetes.io/job-tracking"]}
        pod = Obj("pods", {"kind": "Pod", "apiVersion": "v1", "metadata": md, "spec": spec,
                           "status": {"phase": "Running", "startTime": ts(t)}})
        pod.extra["pdbs"] = []
        job.extra["pods"].append(pod)
        self.put(pod)

    def job_pod_end(self, job, t, phase):
        for pod in self.job_pods(job):
            if pod.body["status"]["phase"] == "Running":
                pod.body["status"]["phase"] = phase
                pod.body["metadata"].pop("finalizers", None)
                self.touch(pod)

    def delete_options(self, req):
        """DeleteOptions from the body when there is one, else from the query
        (the apiserver reads one or the other, never both)."""
        if req.body.strip():
            ct = req.content_type()
            if ct and ct not in BODY_TYPES:
                raise unsupported_media(BODY_TYPES)
            try:
                opts = json.loads(req.body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                raise bad_request("error decoding DeleteOptions: %s" % e) from None
            if not isinstance(opts, dict):
                raise bad_request("DeleteOptions must be a JSON object")
            if opts.get("kind") not in (None, "DeleteOptions"):
                raise bad_request("the kind in the data (%s) does not match DeleteOptions"
                                  % opts["kind"])
            return opts, "body"
        q = {k: v[-1] for k, v in req.params.items()}
        opts = {}
        if "propagationPolicy" in q:
            opts["propagationPolicy"] = q["propagationPolicy"]
        if "gracePeriodSeconds" in q:
            try:
                opts["gracePeriodSeconds"] = int(q["gracePeriodSeconds"])
            except ValueError:
                raise bad_request("gracePeriodSeconds: invalid value") from None
        if "orphanDependents" in q:
            opts["orphanDependents"] = q["orphanDependents"] == "true"
        return opts, "query" if opts else "none"

    def check_delete_options(self, opts, resource, obj):
        errs = []
        policy = opts.get("propagationPolicy")
        if policy is not None and policy not in ("Foreground", "Background", "Orphan"):
            errs.append(FieldError("FieldValueNotSupported", "propagationPolicy", policy,
                                   supported=("Foreground", "Background", "Orphan")))
        if policy is not None and opts.get("orphanDependents") is not None:
            errs.append(FieldError("FieldValueInvalid", "propagationPolicy", policy,
                                   "orphanDependents and deletionPropagation cannot be both set"))
        if errs:
            agg = str(errs[0]) if len(errs) == 1 else "[%s]" % ", ".join(map(str, errs))
            raise ApiError(422, "Invalid", 'DeleteOptions.meta.k8s.io "" is invalid: %s' % agg,
                           {"group": "meta.k8s.io", "kind": "DeleteOptions", "causes": [
                               {"reason": e.kind, "message": e.body(), "field": e.field}
                               for e in errs]})
        pre = opts.get("preconditions") or {}
        if obj is not None and pre.get("uid") and pre["uid"] != obj.body["metadata"]["uid"]:
            raise conflict(resource, obj.name, "Precondition failed: UID in precondition: %s, UID "
                           "in object meta: %s" % (pre["uid"], obj.body["metadata"]["uid"]))
        if obj is not None and pre.get("resourceVersion") and \
                pre["resourceVersion"] != obj.body["metadata"]["resourceVersion"]:
            raise conflict(resource, obj.name, "Precondition failed: ResourceVersion in "
                           "precondition: %s, ResourceVersion in object meta: %s"
                           % (pre["resourceVersion"], obj.body["metadata"]["resourceVersion"]))

    def delete_job(self, req, ns, name):
        """K3 (§3.2): Background deletes at once (pods follow); Foreground
        keeps the Job, with deletionTimestamp and the foregroundDeletion
        finalizer, until its pods are gone; Orphan (the batch/v1 default
        without propagationPolicy) keeps its pods and drops their owner."""
        opts, source = self.delete_options(req)
        job = self.get("jobs", ns, name)
        self.check_delete_options(opts, "jobs", job)
        if job is None:
            raise not_found("jobs", name)
        policy = opts.get("propagationPolicy")
        if policy is None and opts.get("orphanDependents") is not None:
            policy = "Orphan" if opts["orphanDependents"] else "Background"
        if policy is None:
            policy, source = "Orphan", "default"
        resp = self.start_delete(job, time.time(), policy, source, opts)
        return resp or self.reply(200, job.body)

    def start_delete(self, job, now, policy, source, opts):
        """Delete a Job with a propagation policy; returns the Status reply of
        an immediate (Background) deletion, None when the Job stays a while."""
        md = job.body["metadata"]
        record = {"namespace": job.namespace, "name": job.name, "uid": md["uid"],
                  "policy": policy, "source": source, "time": round(now, 3), "options": opts}
        self.deletions.append(record)
        if job.extra.get("deletion") is None:
            job.extra["deletion"] = record
        if policy == "Background":
            self.job_history(job, now, "deleted (Background)")
            for pod in self.job_pods(job):  # the garbage collector deletes them next
                self.delete_pod_later(pod, now, self.delete_seconds)
            self.remove(job)
            return self.reply(200, status_obj(0, "", "", res_details(
                "jobs", job.name, uid=md["uid"]), status="Success"))
        if "deletionTimestamp" in md:
            return None  # already going: a second DELETE changes nothing
        job.epoch += 1  # the Job controller stops: no more status changes
        md["deletionTimestamp"] = ts(now)
        md["deletionGracePeriodSeconds"] = 0
        md["finalizers"] = list(md.get("finalizers") or []) + [
            "foregroundDeletion" if policy == "Foreground" else "orphan"]
        self.touch(job)
        self.job_history(job, now, "deleting (%s)" % policy)
        if policy == "Foreground":  # dependents first
            for pod in self.job_pods(job):
                pod.body["metadata"].setdefault("deletionTimestamp", ts(now))
                self.touch(pod)

        def gone(t):
            for pod in self.job_pods(job):
                if policy == "Orphan":  # the garbage collector drops the owner reference
                    refs = [r for r in pod.body["metadata"].get("ownerReferences") or []
                            if r.get("uid") != md["uid"]]
                    if refs:
                        pod.body["metadata"]["ownerReferences"] = refs
                    else:
                        pod.body["metadata"].pop("ownerReferences", None)
                    self.touch(pod)
                else:
                    self.remove(pod)
            self.job_history(job, t, "deleted (%s)" % policy)
            self.remove(job)

        self.schedule(now + self.delete_seconds, job, gone)
        return None

    def delete_pod_later(self, pod, now, delay):
        pod.body["metadata"].setdefault("deletionTimestamp", ts(now))
        self.touch(pod)
        self.schedule(now + delay, pod, lambda t: self.remove(pod))

    # ------------------------------------------------------------- nodes --

    def delete_node(self, req, name):
        """K10: removes the Node object only (§3.2)."""
        opts, _ = self.delete_options(req)
        node = self.get("nodes", "", name)
        self.check_delete_options(opts, "nodes", node)
        if node is None:
            raise not_found("nodes", name)
        self.deletions.append({"namespace": "", "name": name, "resource": "nodes",
                               "uid": node.body["metadata"]["uid"], "time": round(time.time(), 3),
                               "options": opts})
        self.remove(node)
        return self.reply(200, status_obj(0, "", "", res_details(
            "nodes", name, uid=node.body["metadata"]["uid"]), status="Success"))

    # ----------------------------------------------------------- patches --

    def patch(self, req, resource, ns, name):
        """K5, K8 (§3.2): merge-patch+json, strategic-merge-patch+json and
        json-patch+json; 415 for other types. A metadata.resourceVersion in
        the patch is a precondition (409 Conflict). A patch that changes
        nothing changes no resourceVersion."""
        ct = req.content_type()
        if ct not in PATCH_TYPES:
            raise unsupported_media(PATCH_TYPES)
        if ct == "application/apply-patch+yaml":
            raise unsupported_media(PATCH_TYPES[:3], " (fake_kubernetes does not implement "
                                    "server-side apply)")
        obj = self.get(resource, ns, name)
        if obj is None:
            raise not_found(resource, name)
        kind = RESOURCES[resource][2]
        try:
            patch = json.loads(req.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise bad_request("error decoding patch: %s" % e) from None
        old = obj.body
        try:
            if ct == "application/json-patch+json":
                new = json_patch(old, patch)
            elif not isinstance(patch, dict):
                raise ValueError("a merge patch must be a JSON object")
            elif ct == "application/merge-patch+json":
                new = merge_patch(old, patch)
            else:
                new = strategic_merge(old, patch)
        except ValueError as e:
            raise bad_request(str(e)) from None
        except PatchFailed as e:
            raise ApiError(422, "Invalid", "the server rejected our request due to an error in "
                           "our request", {"causes": [{"message": str(e)}]}) from None
        if not isinstance(new, dict) or not isinstance(new.get("metadata"), dict):
            raise bad_request("the patched %s is not an object with metadata" % kind)
        nmd, omd = new["metadata"], old["metadata"]
        if nmd.get("resourceVersion") not in (None, omd["resourceVersion"]):
            raise conflict(resource, name, "the object has been modified; please apply your "
                           "changes to the latest version and try again")
        errs = []
        for f in ("name", "namespace", "uid"):
            if nmd.get(f) != omd.get(f):
                errs.append(FieldError("FieldValueInvalid", "metadata." + f, nmd.get(f),
                                       "field is immutable"))
        if errs:
            raise invalid(resource, name, errs)
        # Server-managed parts: a patch of the main resource cannot change them.
        new["kind"], new["apiVersion"] = old["kind"], old["apiVersion"]
        new["status"] = copy.deepcopy(old.get("status", {}))
        for f in ("resourceVersion", "generation", "creationTimestamp", "deletionTimestamp"):
            if f in omd:
                nmd[f] = omd[f]
            else:
                nmd.pop(f, None)
        if not isinstance(new.get("spec", {}), dict):
            raise undecodable(kind, "%s.spec" % kind, new.get("spec"), "v1.%sSpec" % kind)
        new.setdefault("spec", {})
        if resource == "nodes":
            self.check_node(new)
        else:
            self.check_deployment(obj, new)
        changed = new != old
        self.patches.append({"resource": resource, "namespace": ns, "name": name,
                             "content_type": ct, "patch": patch, "changed": changed,
                             "time": round(time.time(), 3)})
        if not changed:
            return self.reply(200, old)
        spec_changed = new["spec"] != old["spec"]
        obj.body = new
        if resource == "deployments" and spec_changed:
            nmd["generation"] = omd.get("generation", 1) + 1
        self.touch(obj)
        if resource == "deployments" and spec_changed:
            self.deploy_history(obj, time.time(), "patched: generation %d" % nmd["generation"])
            self.plan_rollout(obj, time.time())
        return self.reply(200, obj.body)

    @staticmethod
    def check_node(new):
        v = new["spec"].get("unschedulable")
        if v is not None and not isinstance(v, bool):
            raise undecodable("Node", "NodeSpec.spec.unschedulable", v, "bool")
        if v is False:
            del new["spec"]["unschedulable"]  # omitempty: false is not written

    def check_deployment(self, obj, new):
        spec, old_spec = new["spec"], obj.body["spec"]
        r = spec.get("replicas")
        if r is not None and (not isinstance(r, int) or isinstance(r, bool)):
            raise undecodable("Deployment", "DeploymentSpec.spec.replicas", r, "int32")
        if spec.get("paused") is not None and not isinstance(spec["paused"], bool):
            raise undecodable("Deployment", "DeploymentSpec.spec.paused", spec["paused"], "bool")
        if spec.get("paused") is False:
            del spec["paused"]
        errs = []
        if r is not None and r < 0:
            errs.append(FieldError("FieldValueInvalid", "spec.replicas", r,
                                   "must be greater than or equal to 0"))
        if spec.get("selector") != old_spec.get("selector"):
            errs.append(FieldError("FieldValueInvalid", "spec.selector", spec.get("selector"),
                                   "field is immutable"))
        ctrs = ((spec.get("template") or {}).get("spec") or {}).get("containers")
        if not ctrs:
            errs.append(FieldError("FieldValueRequired", "spec.template.spec.containers"))
        if errs:
            raise invalid("deployments", obj.name, errs)

    # ------------------------------------------------------- deployments --

    def rs_name(self, obj):
        h = hashlib.sha256(json.dumps(obj.extra["rolled_template"], sort_keys=True).encode()).digest()
        return "%s-%s" % (obj.name, "".join(NAME_ALPHABET[b % len(NAME_ALPHABET)] for b in h[:10]))

    def set_deploy_status(self, obj, counts, t, available=None, progressing=None):
        """Status with the omitempty rule: zero counts are not written."""
        st = obj.body["status"]
        for k, v in counts.items():
            if v:
                st[k] = v
            else:
                st.pop(k, None)
        conds = {c["type"]: c for c in st.get("conditions", [])}
        for ctype, val in (("Available", available), ("Progressing", progressing)):
            if val is None:
                continue
            if ctype == "Available":
                val = ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.") \
                    if val else ("False", "MinimumReplicasUnavailable",
                                 "Deployment does not have minimum availability.")
            status, reason, message = val
            c = conds.get(ctype)
            if c is None or c["status"] != status:
                c = {"type": ctype, "status": status, "lastUpdateTime": ts(t),
                     "lastTransitionTime": ts(t)}
                conds[ctype] = c
            c.update({"lastUpdateTime": ts(t), "reason": reason, "message": message})
        st["conditions"] = [conds[k] for k in ("Available", "Progressing") if k in conds]

    def deploy_history(self, obj, t, what):
        st, md = obj.body["status"], obj.body["metadata"]
        prog = next((c["reason"] for c in st.get("conditions", []) if c["type"] == "Progressing"),
                    None)
        obj.history.append({
            "time": round(t, 3), "event": what, "resourceVersion": md["resourceVersion"],
            "generation": md.get("generation"), "observedGeneration": st.get("observedGeneration"),
            "replicas": st.get("replicas", 0), "updatedReplicas": st.get("updatedReplicas", 0),
            "availableReplicas": st.get("availableReplicas", 0), "progressing": prog})

    def plan_rollout(self, obj, now):
        """The Deployment controller after a spec change (§3.6): status
        catches up with the new generation after observe_seconds; a new pod
        template then rolls out one replica at a time over rollout_seconds
        (updatedReplicas climbs, a surge replica comes and goes, available
        dips while the new one starts), ending with Progressing reason
        NewReplicaSetAvailable; or, scripted, ProgressDeadlineExceeded. A
        paused Deployment is observed but never rolls."""
        obj.epoch += 1  # a newer spec re-plans the controller's work
        knobs = self.deployment_knobs[obj.key]
        t_obs = now + knobs["observe_seconds"]
        spec = obj.body["spec"]
        paused = bool(spec.get("paused"))
        r = spec.get("replicas", 1)
        template_changed = spec["template"] != obj.extra["rolled_template"]

        gen = obj.body["metadata"]["generation"]
        st = obj.body["status"]
        cur = {k: st.get(k, 0) for k in ("replicas", "updatedReplicas", "readyReplicas",
                                          "availableReplicas")}
        progressing = ("True", "ReplicaSetUpdated", 'ReplicaSet "{rs}" is progressing.')
        complete = ("True", "NewReplicaSetAvailable", 'ReplicaSet "{rs}" has successfully progressed.')
        if paused:  # observed, but no new ReplicaSet: nothing runs the new template yet
            if template_changed:
                cur["updatedReplicas"] = 0
            self.deploy_event(obj, t_obs, "observed (paused)", dict(cur, observedGeneration=gen),
                              progressing=("Unknown", "DeploymentPaused", "Deployment is paused"))
            return
        full = {"replicas": r, "updatedReplicas": r, "readyReplicas": r, "availableReplicas": r}
        if not template_changed:  # scaled, or resumed with nothing new to roll out
            self.deploy_event(obj, t_obs, "observed", dict(full, observedGeneration=gen),
                              available=True, progressing=complete)
            return

        def new_replica_set(t):
            obj.extra["rolled_template"] = copy.deepcopy(spec["template"])
            obj.extra["revision"] += 1
            obj.body["metadata"].setdefault("annotations", {})[
                "deployment.kubernetes.io/revision"] = str(obj.extra["revision"])

        self.deploy_event(obj, t_obs, "observed: rollout starts",
                          {"observedGeneration": gen, "replicas": r + (1 if r else 0),
                           "updatedReplicas": 0, "readyReplicas": r, "availableReplicas": r},
                          available=True, progressing=progressing, before=new_replica_set)
        roll = knobs["rollout_seconds"]
        if knobs["progress_deadline_exceeded"]:
            stuck = min(1, r)
            self.deploy_event(obj, t_obs + roll / 2, "rollout stuck",
                              {"replicas": r + stuck, "updatedReplicas": stuck,
                               "readyReplicas": r, "availableReplicas": r}, progressing=progressing)
            self.deploy_event(obj, t_obs + roll, "ProgressDeadlineExceeded", {}, progressing=(
                "False", "ProgressDeadlineExceeded", 'ReplicaSet "{rs}" has timed out progressing.'))
            return
        dt = roll / max(r, 1)
        for k in range(1, r + 1):
            # the k-th new replica starts (not yet available), then becomes available
            self.deploy_event(obj, t_obs + (k - 0.5) * dt, "replica %d/%d starting" % (k, r),
                              {"replicas": r + 1, "updatedReplicas": k, "readyReplicas": r - 1,
                               "availableReplicas": r - 1}, progressing=progressing)
            if k < r:
                self.deploy_event(obj, t_obs + k * dt, "replica %d/%d available" % (k, r),
                                  {"replicas": r + 1, "updatedReplicas": k, "readyReplicas": r,
                                   "availableReplicas": r}, progressing=progressing)
        self.deploy_event(obj, t_obs + roll, "rollout complete", full, available=True,
                          progressing=complete)

    def deploy_event(self, obj, when, what, counts, available=None, progressing=None, before=None):
        """Queue one status change of a rollout ({rs} in a message: the
        ReplicaSet's name at that time)."""
        def fn(t):
            if before:
                before(t)
            prog = progressing and progressing[:2] + (progressing[2].format(rs=self.rs_name(obj)),)
            self.set_deploy_status(obj, counts, t, available, prog)
            self.touch(obj)
            self.deploy_history(obj, t, what)
        self.schedule(when, obj, fn)

    # --------------------------------------------------------- eviction --

    def evict(self, req, ns, name):
        """K6 (§3.5): the eviction subresource. 400 on a name mismatch, 404
        for an unknown pod; terminal, pending or deleting pods are deleted
        without a PDB check; a pod under two PDBs gets 500 (empty reason);
        under one, the PDB may refuse: 429 TooManyRequests with a
        DisruptionBudget cause, or 403 when its disruptionsAllowed < 0.
        Success: 201 Status, and the pod goes after evict_delete_seconds
        (at once with gracePeriodSeconds 0), first showing deletionTimestamp."""
        body = self.read_json(req, "Eviction")
        if body.get("apiVersion") not in (None, "policy/v1", "policy/v1beta1"):
            raise bad_request("the API version in the data (%s) does not match the expected API "
                              "version (policy/v1)" % body["apiVersion"])
        if body.get("kind") not in (None, "Eviction"):
            raise bad_request("the kind in the data (%s) does not match Eviction" % body["kind"])
        md = self.typed(body, "metadata", dict, "Eviction.metadata", "v1.ObjectMeta",
                        "Eviction") or {}
        opts = self.typed(body, "deleteOptions", dict, "Eviction.deleteOptions",
                          "v1.DeleteOptions", "Eviction") or {}
        grace = self.typed(opts, "gracePeriodSeconds", int, "DeleteOptions.gracePeriodSeconds",
                           "int64", "Eviction")
        record = {"time": round(time.time(), 3), "namespace": ns, "pod": name,
                  "grace_period_seconds": grace, "delete_options": opts, "code": None,
                  "reason": None, "pdb": None}
        self.evictions.append(record)
        try:
            resp = self.evict_checked(md, opts, grace, ns, name, record)
        except ApiError as e:
            record["code"], record["reason"] = e.code, e.reason or e.message
            raise
        record["code"], record["reason"] = 201, "Evicted"
        return resp

    def evict_checked(self, md, opts, grace, ns, name, record):
        if md.get("name") and md["name"] != name:
            raise bad_request("name in URL does not match name in Eviction object")
        if md.get("namespace") and md["namespace"] != ns:
            raise bad_request("the namespace of the provided object does not match the namespace "
                              "sent on the request")
        if ns in self.terminating:
            raise forbidden("pods", name, "unable to create new content in namespace %s because "
                            "it is being terminated" % ns,
                            causes=[{"reason": "NamespaceTerminating",
                                     "message": "namespace %s is being terminated" % ns,
                                     "field": "metadata.namespace"}])
        pod = self.get("pods", ns, name)
        if pod is None:
            raise not_found("pods", name)
        self.check_delete_options(opts, "pods", pod)
        pmd = pod.body["metadata"]
        phase = pod.body["status"].get("phase")
        if phase not in ("Succeeded", "Failed", "Pending") and "deletionTimestamp" not in pmd:
            pdbs = pod.extra["pdbs"]
            record["pdb"] = pdbs[0] if len(pdbs) == 1 else (pdbs or None)
            if len(pdbs) > 1:
                raise ApiError(500, "", "This pod has more than one PodDisruptionBudget, which the "
                               "eviction subresource does not support.")
            if pdbs:
                self.check_pdb(pdbs[0])
        now = time.time()
        if grace is None:
            grace = pod.body["spec"].get("terminationGracePeriodSeconds", 30)
        if grace == 0:
            self.remove(pod)
        elif "deletionTimestamp" not in pmd or pod.extra.get("evicted") is None:
            pmd["deletionTimestamp"] = ts(now + grace)
            pmd["deletionGracePeriodSeconds"] = grace
            self.touch(pod)
            pod.extra["evicted"] = now
            delay = pod.extra.get("evict_delete_seconds", self.evict_delete_seconds)
            self.schedule(now + delay, pod, lambda t: self.remove(pod))
        return self.reply(201, status_obj(201, "", "", status="Success"))

    def check_pdb(self, name):
        pdb = self.pdbs.setdefault(name, {"block_count": 0, "desired_healthy": 1,
                                          "current_healthy": 1, "stale_count": 0, "blocked": 0,
                                          "disruptions_allowed_negative": False})
        if pdb["stale_count"]:  # status not yet observed: retry hint 10 s
            pdb["stale_count"] -= 1 if pdb["stale_count"] > 0 else 0
            raise ApiError(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's "
                           "disruption budget.", {"causes": [{
                               "reason": "DisruptionBudget",
                               "message": "The disruption budget %s is still being processed by "
                                          "the server." % name}], "retryAfterSeconds": 10},
                           headers=[("Retry-After", "10")])
        if pdb["disruptions_allowed_negative"]:
            raise forbidden("poddisruptionbudgets", name, "pdb disruptions allowed is negative")
        if pdb["block_count"]:
            if pdb["block_count"] > 0:
                pdb["block_count"] -= 1
            pdb["blocked"] += 1
            raise ApiError(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's "
                           "disruption budget.", {"causes": [{
                               "reason": "DisruptionBudget",
                               "message": "The disruption budget %s needs %d healthy pods and has "
                                          "%d currently" % (name, pdb["desired_healthy"],
                                                            pdb["current_healthy"])}]})



if __name__ == "__main__":
    sys.exit(fakebase.main(Kubernetes))
