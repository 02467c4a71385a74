/*
 * decode.h - Alertmanager's webhook payload (version "4") into plain alerts.
 *
 * The only user of cJSON on the request path. The payload must be an object
 * with "version": "4" and an "alerts" array; each alert must be an object
 * with "status" ("firing" or "resolved"), "labels" (an object of strings),
 * "startsAt" and "fingerprint" (strings); "annotations" (an object of
 * strings), "endsAt" and "generatorURL" (strings) are optional. Unknown keys
 * are ignored; "commonLabels" and the other group fields are never used for
 * matching. Any other shape is an error that names the offending path, e.g.
 * "alerts[3].labels.env: expected a string".
 *
 * Untrusted bytes stay whole: a NUL ("\u0000" or a raw 0 byte) in any string,
 * name or value, is an error (C strings would end there, and
 * env="dev\u0000prod" would read as env="dev"). A key that repeats in an
 * object keeps its last value, as Go's encoding/json does. "startsAt" must be
 * an RFC 3339 time and is handed on normalised (decode_rfc3339), so that two
 * spellings of one instant are one occurrence.
 *
 * Memory: the cJSON tree and every output pointer come from the caller's
 * arena (cJSON is pointed at it through cJSON_InitHooks for the duration of
 * the parse, on this thread only); nothing is malloc'd, and the output is
 * valid until the arena is reset. The hooks are installed once, on first
 * use; decode_init() installs them early. Other cJSON users in the process
 * get plain malloc/free through the same hooks.
 */
#ifndef HEALER_DECODE_H
#define HEALER_DECODE_H

#include <stddef.h>

#include "alert.h"
#include "bump.h"

#define DECODE_ERR_MAX 256

/* Installs the cJSON allocation hooks (idempotent, thread-safe). */
void decode_init(void);

/* The longest normalised time, NUL included. */
#define DECODE_TIME_MAX 32

/* An RFC 3339 date-time ("2026-11-27T12:10:15.5+01:00") into its instant in
 * UTC, spelt as Go's RFC3339Nano does: "2026-11-27T11:10:15.5Z" (at most 9
 * fraction digits, trailing zeros dropped, 'Z'). 0, or -1 if s is no such
 * time (leap seconds, 60, are refused as Go refuses them). */
int decode_rfc3339(const char *s, char out[DECODE_TIME_MAX]);

/* Returns 0 and fills out, or -1 with a message in err. */
int decode_payload(const char *body, size_t len, struct bump *arena,
                   struct payload *out, char err[DECODE_ERR_MAX]);

#endif
