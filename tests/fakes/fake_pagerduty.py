#!/usr/bin/env python3
"""Fake PagerDuty Events API v2 (api-contracts.md section 7; README.md).

  POST /v2/enqueue   202 {"status":"success","message":"Event processed","dedup_key":K}
                     400 {"status":"invalid event","message":"Event object is invalid",
                          "errors":[...]}
Alert state per (routing_key, dedup_key) with the section 7.2 semantics.
"""

import os
import sys
import time
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakebase  # noqa: E402
from fakebase import json_response  # noqa: E402

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
MAX_EVENT = 512 * 1024


def invalid(errors):
    return json_response(400, {"status": "invalid event", "message": "Event object is invalid",
                               "errors": errors})


class PagerDuty(fakebase.Service):
    name = "pagerduty"

    def init_state(self):
        self.alerts = []        # every alert ever opened, oldest first
        self.dropped = []       # ack/resolve events that found no open alert

    def open_alert(self, rk, dk):
        for a in reversed(self.alerts):
            if a["routing_key"] == rk and a["dedup_key"] == dk and a["status"] != "resolved":
                return a
        return None

    def validate(self, ev):
        if not isinstance(ev, dict):
            return ["Event must be a JSON object"]
        errors = []
        rk = ev.get("routing_key")
        if not isinstance(rk, str) or len(rk) != 32:
            errors.append("'routing_key' must be a 32-character string")
        action = ev.get("event_action")
        if action not in ACTIONS:
            errors.append("'event_action' must be one of %s" % ", ".join(ACTIONS))
        dk = ev.get("dedup_key")
        if dk is not None and (not isinstance(dk, str) or not dk or len(dk) > 255):
            errors.append("'dedup_key' must be a non-empty string of at most 255 characters")
        if action in ("acknowledge", "resolve") and dk is None:
            errors.append("'dedup_key' is required for %s events" % action)
        if action == "trigger":
            p = ev.get("payload")
            if not isinstance(p, dict):
                errors.append("'payload' is required for trigger events")
            else:
                for k in ("summary", "source"):
                    if not isinstance(p.get(k), str) or not p[k].strip():
                        errors.append("'payload.%s' is required" % k)
                if p.get("severity") not in SEVERITIES:
                    errors.append("'payload.severity' must be one of %s" % ", ".join(SEVERITIES))
        return errors

    def handle(self, req):
        if req.path.rstrip("/") != "/v2/enqueue":
            return json_response(404, {"status": "not found", "message": "Not Found"})
        if req.method != "POST":
            return json_response(405, {"status": "method not allowed",
                                       "message": "Method Not Allowed"})
        if len(req.body) > MAX_EVENT:
            return invalid(["Event object is larger than 512 KB"])
        try:
            ev = req.json()
        except ValueError:
            return invalid(["Event object is not valid JSON"])
        errors = self.validate(ev)
        if errors:
            return invalid(errors)
        rk, action = ev["routing_key"], ev["event_action"]
        dk = ev.get("dedup_key") or str(uuid.uuid4())
        now = round(time.time(), 6)
        alert = self.open_alert(rk, dk)
        if action == "trigger":
            if alert is None:
                alert = {"routing_key": rk, "dedup_key": dk, "status": "triggered",
                         "opened": now, "triggers": 0, "events": []}
                self.alerts.append(alert)
            alert["triggers"] += 1
            alert["summary"] = ev["payload"]["summary"][:1024]
        elif alert is None:
            self.dropped.append({"time": now, "event": ev})
        else:
            alert["status"] = "acknowledged" if action == "acknowledge" else "resolved"
        if alert is not None:
            alert["events"].append({"time": now, "event_action": action, "event": ev})
        return json_response(202, {"status": "success", "message": "Event processed",
                                   "dedup_key": dk})

    def state(self):
        return {"alerts": self.alerts, "dropped": self.dropped}


if __name__ == "__main__":
    sys.exit(fakebase.main(PagerDuty))
