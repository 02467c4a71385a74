/*
 * alerts.h - alerts for the rule tools, written by hand or recorded.
 *
 * A tool takes either a whole Alertmanager webhook payload or one alert
 * object ({"labels": {...}, "annotations": {...}}) and hands it to the
 * daemon's decoder (runtime/decode.c), so that a tool sees an alert
 * exactly as the daemon would. What a person leaves out of a hand-written
 * alert is filled in first: "status" firing, "startsAt" the virtual time,
 * and a "fingerprint" computed from the labels (FNV-1a 64 over the sorted
 * name=value pairs: stable, like Alertmanager's, though not the same
 * number).
 */
#ifndef HEALER_TOOL_ALERTS_H
#define HEALER_TOOL_ALERTS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "bump.h"

/* Fills the defaults into root (one alert, or a payload whose "alerts"
 * are) and decodes it into out, from arena. at_ms: the default startsAt.
 * Returns 0, or -1 with the decoder's message in err. */
int tool_alerts_decode(cJSON *root, int64_t at_ms, struct bump *arena, struct payload *out,
                       char *err, size_t errlen);

/* An RFC 3339 time into Unix milliseconds. 0, or -1 if s is none. */
int tool_parse_time(const char *s, int64_t *ms);

/* ms as "2026-12-04T10:00:00Z" (".123" when not a whole second). */
const char *tool_format_time(int64_t ms, char out[40]);

#endif
