/*
 * act_webhook.h - the webhook kind (act_ops_WEBHOOK, see action.h): one
 * HTTP call to an endpoint below the backend's url.
 *
 *   method  the `method` parameter (GET, POST, PUT, PATCH, DELETE; any
 *           case), POST by default.
 *   URL     the backend's url, then the step's target path, in which each
 *           {name} is replaced by the value of parameter name,
 *           percent-encoded as one segment (all but A-Z a-z 0-9 - . _ ~),
 *           so a value cannot add a segment, a query or a fragment. The
 *           target's own characters are kept, except those a URL cannot
 *           hold (space, '#', '"', '<', '>', '\', '^', '`', '{', '|', '}',
 *           controls, non-ASCII), which are percent-encoded.
 *   body    JSON, for POST, PUT and PATCH (and DELETE when `body` is
 *           given; GET never has one). With a `body` parameter: that text,
 *           with each {{name}} replaced by the value as a JSON string
 *           literal (quotes included, escaped by cJSON), where name is a
 *           parameter or one of the built-in fields below; it must be JSON
 *           once filled in. Without: an object of the built-in fields
 *           alertname, fingerprint, status ("firing"/"resolved"), rule and
 *           remediation_id (the tag), then every parameter but method and
 *           body as a string (a parameter of the same name replaces a
 *           built-in field).
 *   headers Idempotency-Key: "<tag>-s<step number>" on every attempt of
 *           the step; Authorization: Bearer <token> when the backend has a
 *           token; the backend's `header` line (one "Name: value"; a value
 *           with CR or LF is refused).
 *
 * A 2xx succeeds. Connect errors, timeouts, 408, 425, 429 and 5xx give
 * ACTION_RETRY (Retry-After honoured); any other answer (3xx included: no
 * redirect is followed) gives ACTION_FAILED with an excerpt of the answer.
 * Reasons name the target as written, never the filled-in URL, and never
 * hold the token or the header's value.
 */
#ifndef HEALER_ACT_WEBHOOK_H
#define HEALER_ACT_WEBHOOK_H

#include <stddef.h>

#include "action.h"
#include "buf.h"

extern const struct action_ops act_ops_WEBHOOK;

/* The path of target with its {name} placeholders filled from step's
 * parameters, appended to out. 0, or -1 with a message in err (an unknown
 * parameter, an empty value). */
int act_webhook_path(const struct rem_step *step, struct buf *out, char *err,
                     size_t errlen);

/* The request body for run's step (see above): a new string (free()), or
 * NULL with a message in err. */
char *act_webhook_body(const struct action_run *run, char *err, size_t errlen);

/* Whether a `header` value is one "Name: value" line with a token name. */
bool act_webhook_header_ok(const char *line);

#endif
