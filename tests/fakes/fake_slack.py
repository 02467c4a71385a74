#!/usr/bin/env python3
"""Fake Slack incoming webhooks (api-contracts.md section 5.1, 5.4; README.md).

  POST /services/T/B/X   200 "ok" for a JSON object with a non-empty "text" or
                         "blocks" (Content-Type application/json, or a form
                         field payload=<json>); 400 invalid_payload / no_text /
                         invalid_blocks; 404 no_service for an unknown hook; a
                         hook scripted dead answers its error (channel_not_found
                         404, channel_is_archived 410, action_prohibited 403 ...);
                         429 + Retry-After above the scripted rate.
"""

import json
import math
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakebase  # noqa: E402
from fakebase import text  # noqa: E402

DEAD = {  # error string -> HTTP status ([DOC SL-wh-err]; the last three UNVERIFIED)
    "channel_not_found": 404, "channel_is_archived": 410, "action_prohibited": 403,
    "user_not_found": 400, "rollup_error": 500,
    "no_service": 404, "no_team": 404, "invalid_token": 403,
}
DEFAULT_HOOK = "/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX"


class Slack(fakebase.Service):
    name = "slack"

    @classmethod
    def add_args(cls, ap):
        ap.add_argument("--hook", action="append",
                        help="a valid webhook path (repeatable; default %s)" % DEFAULT_HOOK)

    def init_state(self):
        self.hooks = {h: "ok" for h in (self.args.hook or [DEFAULT_HOOK])}
        self.messages = []
        self.rate = 0.0          # messages per second per hook; 0 = no limit
        self.burst = 1.0
        self.buckets = {}        # hook -> (tokens, last time)

    def script(self, spec):
        spec = dict(spec)
        for hook, status in (spec.pop("hooks", None) or {}).items():
            if status is None:
                self.hooks.pop(hook, None)
            elif status == "ok" or status in DEAD:
                self.hooks[hook] = status
            else:
                raise ValueError("hooks.%s: 'ok', null or one of %s" % (hook, ", ".join(DEAD)))
        if "rate_per_second" in spec:
            self.rate = float(spec.pop("rate_per_second"))
        if "burst" in spec:
            self.burst = float(spec.pop("burst"))
        super().script(spec)

    def take_token(self, hook):
        """Token bucket: -> 0 when allowed, else seconds until a token."""
        if self.rate <= 0:
            return 0
        now = time.monotonic()
        tokens, last = self.buckets.get(hook, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1:
            self.buckets[hook] = (tokens - 1, now)
            return 0
        self.buckets[hook] = (tokens, now)
        return (1 - tokens) / self.rate

    def handle(self, req):
        hook = req.path
        status = self.hooks.get(hook)
        if status is None:
            return text(404, "no_service")
        if req.method != "POST":
            return text(405, "invalid_method")
        if status != "ok":
            return text(DEAD[status], status)
        wait = self.take_token(hook)
        if wait:
            return text(429, "rate_limited", headers=[("Retry-After", str(math.ceil(wait)))])
        ctype = req.content_type()
        try:
            if ctype == "application/json":
                payload = req.json()
            elif ctype == "application/x-www-form-urlencoded":
                payload = json.loads(req.form()["payload"][-1])
            else:
                raise ValueError("content type")
        except (ValueError, KeyError):
            return text(400, "invalid_payload")
        if not isinstance(payload, dict):
            return text(400, "invalid_payload")
        blocks = payload.get("blocks")
        if blocks is not None and (not isinstance(blocks, list) or not blocks
                                   or not all(isinstance(b, dict) and "type" in b for b in blocks)):
            return text(400, "invalid_blocks")
        has_text = isinstance(payload.get("text"), str) and payload["text"].strip() != ""
        if not has_text and not blocks:
            return text(400, "no_text")
        self.messages.append({"hook": hook, "time": round(time.time(), 6), "payload": payload})
        return text(200, "ok")

    def state(self):
        return {"hooks": self.hooks, "messages": self.messages}


if __name__ == "__main__":
    sys.exit(fakebase.main(Slack))
