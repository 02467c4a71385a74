/*
 * helpers.h - shared by the runtime's cmocka tests (tests/runtime/test_*.c).
 *
 * Payload builders: ENVELOPE(alerts...) wraps alert objects in a version-4
 * webhook body; ALERT(...) writes one alert with the fields Alertmanager
 * 0.25 sends.
 */
#ifndef HEALER_TEST_HELPERS_H
#define HEALER_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "alert.h"
#include "bump.h"
#include "decode.h"
#include "match.h"

#define ENVELOPE(alerts)                                                       \
  "{\"receiver\":\"healer\",\"status\":\"firing\",\"alerts\":[" alerts         \
  "],\"groupLabels\":{},\"commonLabels\":{\"team\":\"common\"},"               \
  "\"commonAnnotations\":{},\"externalURL\":\"http://am\",\"version\":\"4\","  \
  "\"groupKey\":\"{}:{}\",\"truncatedAlerts\":0}\n"

/* labels: the inside of a JSON object, e.g. "\"alertname\":\"X\"". */
#define ALERT_FULL(status, labels, annotations, fp, starts)                    \
  "{\"status\":\"" status "\",\"labels\":{" labels "},\"annotations\":{"       \
  annotations "},\"startsAt\":\"" starts "\",\"endsAt\":\"0001-01-01T00:00:00Z\"," \
  "\"generatorURL\":\"http://prom/graph\",\"fingerprint\":\"" fp "\"}"

#define ALERT(status, labels, fp, starts) ALERT_FULL(status, labels, "", fp, starts)

#define T0 "2026-11-27T12:10:15.696335593Z"
#define T1 "2026-11-27T13:00:00.000000001Z"

/* Decodes a literal payload into arena; fails the test on error. */
static inline void decode_ok(const char *json, struct bump *arena,
                             struct payload *p) {
  char err[DECODE_ERR_MAX];
  int rc = decode_payload(json, strlen(json), arena, p, err);
  if (rc != 0) fail_msg("decode failed: %s", err);
}

/* A matching test's set-up: rs compiled into r, per-thread match data
 * and an arena. 0, or -1 (said on stderr). */
static inline int rules_open(struct rules *r, struct match_md **md, struct bump *arena,
                             const struct hl_ruleset *rs) {
  char err[256];
  if (match_init(r, rs, err, sizeof err) != 0) {
    fprintf(stderr, "match_init: %s\n", err);
    return -1;
  }
  *md = match_md_new();
  bump_init(arena, 0);
  return *md ? 0 : -1;
}

static inline void rules_close(struct rules *r, struct match_md *md, struct bump *arena) {
  match_md_free(md);
  match_free(r);
  bump_free(arena);
}

/* The index of the rule called name in rs; fails the test if none. */
static inline uint32_t rule_named(const struct hl_ruleset *rs, const char *name) {
  for (uint32_t i = 0; i < rs->nrules; i++)
    if (strcmp(rs->rules[i].name, name) == 0) return i;
  fail_msg("no rule %s in the tables", name);
  return HL_NONE;
}

#endif
