/*
 * test_misc.c - the small modules: auth (constant-time compare, bearer,
 * basic credentials as decoded by the HTTP front end), config (defaults < environment < flags, errors that
 * name the culprit), buf (JSON escaping), log (both formats), rtime, hmap,
 * store eviction, metrics text (the journal's figures included), the
 * result vocabulary of the action kinds (action.c).
 */
#include "helpers.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "action.h"
#include "auth.h"
#include "backend.h"
#include "buf.h"
#include "config.h"
#include "hist.h"
#include "hmap.h"
#include "log.h"
#include "metrics.h"
#include "rtime.h"
#include "store.h"

/* argv entries are char *; string literals are const under -Wwrite-strings. */
#define A(s) ((char *)(uintptr_t)(s))

static char *write_temp(const char *content) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/healer-test-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
  close(fd);
  return path;
}

static void test_auth_bearer(void **state) {
  (void)state;
  struct auth a;
  char err[256];
  char *path = write_temp("s3cret-token\n");
  assert_int_equal(auth_load(&a, path, NULL, false, err, sizeof err), 0);
  assert_true(auth_check_bearer(&a, "Bearer s3cret-token"));
  assert_true(auth_check_bearer(&a, "bearer  s3cret-token "));
  assert_false(auth_check_bearer(&a, "Bearer s3cret-toke"));
  assert_false(auth_check_bearer(&a, "Bearer s3cret-token2"));
  assert_false(auth_check_bearer(&a, "Bearer "));
  assert_false(auth_check_bearer(&a, "Basic s3cret-token"));
  assert_false(auth_check_bearer(&a, "Bearers3cret-token"));
  assert_false(auth_check_bearer(&a, NULL));
  assert_string_equal(auth_challenge(&a), "Bearer realm=\"healer\"");
  assert_false(auth_check_basic(&a, "s3cret-token", ""));   /* not under bearer */
  auth_free(&a);
  unlink(path);
}

static void test_auth_basic(void **state) {
  (void)state;
  struct auth a;
  char err[256];
  char *path = write_temp("am:s3cret\r\n");
  assert_int_equal(auth_load(&a, NULL, path, true, err, sizeof err), 0);
  assert_true(a.all);
  assert_true(auth_check_basic(&a, "am", "s3cret"));
  assert_false(auth_check_basic(&a, "am", "s3creT"));
  assert_false(auth_check_basic(&a, "am", "s3cret "));
  assert_false(auth_check_bearer(&a, "Bearer am:s3cret"));
  assert_false(auth_check_basic(&a, "am", ""));
  assert_false(auth_check_basic(&a, "", "s3cret"));
  assert_false(auth_check_basic(&a, "a", "m:s3cret"));  /* split at the first ':' */
  assert_false(auth_check_basic(&a, "am", NULL));
  assert_false(auth_check_basic(&a, NULL, NULL));
  assert_non_null(strstr(auth_challenge(&a), "Basic realm"));
  auth_free(&a);
  unlink(path);
  path = write_temp("no-colon\n");
  assert_int_equal(auth_load(&a, NULL, path, false, err, sizeof err), -1);
  assert_non_null(strstr(err, "expected user:password"));
  assert_null(strstr(err, "no-colon"));   /* never the secret */
  unlink(path);
  path = write_temp("\n");
  assert_int_equal(auth_load(&a, path, NULL, false, err, sizeof err), -1);
  assert_non_null(strstr(err, "one non-empty line"));
  unlink(path);
  assert_int_equal(auth_load(&a, "/nonexistent/token", NULL, false, err, sizeof err), -1);
  assert_non_null(strstr(err, "--auth-bearer-file /nonexistent/token"));
  assert_int_equal(auth_load(&a, "x", "y", false, err, sizeof err), -1);
  assert_int_equal(auth_load(&a, NULL, NULL, true, err, sizeof err), -1);
  assert_int_equal(auth_load(&a, NULL, NULL, false, err, sizeof err), 0);
  assert_true(auth_check_bearer(&a, NULL));
  assert_true(auth_check_basic(&a, NULL, NULL));
  auth_free(&a);
}

/* A token file with blanks at an end is trimmed as the header is (it used
 * to pass --check-config and then lock every client out); a basic file
 * with them is refused, naming the file, never the secret. */
static void test_auth_file_blanks(void **state) {
  (void)state;
  struct auth a;
  char err[256];
  char *path = write_temp("tok \n");
  assert_int_equal(auth_load(&a, path, NULL, false, err, sizeof err), 0);
  assert_true(auth_check_bearer(&a, "Bearer tok"));
  assert_true(auth_check_bearer(&a, "Bearer tok\t"));    /* header trimmed too */
  assert_int_equal(a.len, 3);
  auth_free(&a);
  unlink(path);
  path = write_temp("\t tok\t \r\n");
  assert_int_equal(auth_load(&a, path, NULL, false, err, sizeof err), 0);
  assert_true(auth_check_bearer(&a, "Bearer tok"));
  auth_free(&a);
  unlink(path);
  path = write_temp("  \n");
  assert_int_equal(auth_load(&a, path, NULL, false, err, sizeof err), -1);
  assert_non_null(strstr(err, "one non-empty line"));
  unlink(path);
  path = write_temp("am:s3cret \n");
  assert_int_equal(auth_load(&a, NULL, path, false, err, sizeof err), -1);
  assert_non_null(strstr(err, "--auth-basic-file"));
  assert_non_null(strstr(err, "a blank (space or tab) at the start or end"));
  assert_null(strstr(err, "s3cret"));
  unlink(path);
}

static void test_equal(void **state) {
  (void)state;
  const unsigned char s[] = "secret";
  assert_true(auth_equal(s, 6, s, 6));
  assert_false(auth_equal(s, 5, s, 6));
  assert_false(auth_equal((const unsigned char *)"secreT", 6, s, 6));
  assert_false(auth_equal((const unsigned char *)"secret!", 7, s, 6));
  assert_false(auth_equal((const unsigned char *)"", 0, s, 6));
}

static void test_config_precedence(void **state) {
  (void)state;
  struct config c;
  char err[256];
  char *argv0[] = {A("healer"), NULL};
  unsetenv("HEALER_WORKERS");
  unsetenv("HEALER_LISTEN");
  assert_int_equal(config_load(&c, 1, argv0, err, sizeof err), 0);
  assert_string_equal(c.listen, "127.0.0.1:9095");
  assert_int_equal(c.workers, 4);
  assert_int_equal(c.max_body, 4u << 20);
  assert_int_equal(c.drain_timeout_ms, 30000);
  assert_false(c.dry_run);
  assert_int_equal(c.action, CONFIG_RUN);
  setenv("HEALER_WORKERS", "8", 1);
  setenv("HEALER_DRY_RUN", "yes", 1);
  setenv("HEALER_LOG_FORMAT", "json", 1);
  assert_int_equal(config_load(&c, 1, argv0, err, sizeof err), 0);
  assert_int_equal(c.workers, 8);
  assert_true(c.dry_run);
  assert_int_equal(c.log_format, LOG_JSON);
  char *argv1[] = {A("healer"), A("--workers"), A("2"), A("--dry-run=false"), A("--max-body=64k"),
                   A("--listen"), A("[::1]:0"), A("--drain-timeout"), A("1m30s"), A("--log-format=text"),
                   A("--check-config"), NULL};
  assert_int_equal(config_load(&c, 11, argv1, err, sizeof err), 0);
  assert_int_equal(c.workers, 2);
  assert_false(c.dry_run);
  assert_int_equal(c.max_body, 65536);
  assert_string_equal(c.listen, "[::1]:0");
  assert_int_equal(c.drain_timeout_ms, 90000);
  assert_int_equal(c.log_format, LOG_TEXT);
  assert_int_equal(c.action, CONFIG_CHECK);
  unsetenv("HEALER_WORKERS");
  unsetenv("HEALER_DRY_RUN");
  unsetenv("HEALER_LOG_FORMAT");
}

static void test_config_errors(void **state) {
  (void)state;
  struct config c;
  char err[256];
  const struct {
    const char *args[4];
    const char *msg;
  } cases[] = {
      {{"--workers", "zero"}, "--workers: expected a number, got 'zero'"},
      {{"--workers", "0"}, "--workers: 0 is out of range [1, 256]"},
      {{"--max-body", "1x"}, "--max-body: expected a size"},
      {{"--drain-timeout", "soon"}, "--drain-timeout: expected a duration"},
      {{"--log-format", "xml"}, "--log-format: expected text or json"},
      {{"--frobnicate"}, "unknown argument '--frobnicate'"},
      {{"--workers"}, "--workers needs a value"},
      {{"--help=1"}, "--help takes no value"},
      {{"--dry-run=maybe"}, "--dry-run: expected true or false"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *argv[6] = {A("healer")};
    int argc = 1;
    for (int k = 0; k < 4 && cases[i].args[k]; k++) argv[argc++] = A(cases[i].args[k]);
    if (config_load(&c, argc, argv, err, sizeof err) != -1 || !strstr(err, cases[i].msg))
      fail_msg("case %zu: '%s'", i, err);
  }
  setenv("HEALER_QUEUE_SIZE", "-1", 1);
  char *argv0[] = {A("healer"), NULL};
  assert_int_equal(config_load(&c, 1, argv0, err, sizeof err), -1);
  assert_non_null(strstr(err, "HEALER_QUEUE_SIZE"));
  /* The flag wins, but a bad variable is still reported. */
  unsetenv("HEALER_QUEUE_SIZE");
}

static void test_buf_json(void **state) {
  (void)state;
  struct buf b;
  buf_init(&b);
  buf_json_str(&b, "a\"b\\c\nd\te\x01\x7f \xc3\xbc \xff\xfe \xe2\x82 \xed\xa0\x80 \xf0\x9f\x94\xa5");
  assert_string_equal(b.data, "\"a\\\"b\\\\c\\nd\\te\\u0001\x7f \xc3\xbc \\ufffd\\ufffd \\ufffd\\ufffd "
                              "\\ufffd\\ufffd\\ufffd \xf0\x9f\x94\xa5\"");
  buf_reset(&b);
  buf_json_str(&b, NULL);
  assert_string_equal(b.data, "null");
  buf_reset(&b);
  buf_prom_label(&b, "a\"b\\c\nd");
  assert_string_equal(b.data, "a\\\"b\\\\c\\nd");
  buf_reset(&b);
  for (int i = 0; i < 10000; i++) buf_printf(&b, "%d,", i);
  assert_int_equal(b.len, 48890);
  size_t len;
  char *s = buf_steal(&b, &len);
  assert_int_equal(len, 48890);
  free(s);
  assert_null(b.data);
}

static char *capture_log(enum log_format f, void (*emit)(void)) {
  char path[] = "/tmp/healer-log-XXXXXX";
  int fd = mkstemp(path);
  log_setup(f, LOGL_DEBUG, fd);
  emit();
  log_setup(LOG_TEXT, LOGL_ERROR, 2);
  static char out[LOG_LINE_MAX * 2];
  ssize_t n = pread(fd, out, sizeof out - 1, 0);
  out[n > 0 ? n : 0] = '\0';
  close(fd);
  unlink(path);
  return out;
}

static void emit_one(void) {
  struct log_line l;
  log_begin(&l, LOGL_INFO, "decision");
  log_str(&l, "rule", "a b");
  log_str(&l, "q", "say \"hi\"\n");
  log_int(&l, "id", 42);
  log_bool(&l, "dry_run", true);
  log_obj_begin(&l, "params");
  log_str(&l, "node", "n1");
  log_str(&l, "empty", "");
  log_obj_end(&l);
  log_str(&l, "bad", "x\xff");
  log_end(&l);
}

static void emit_long(void) {
  static char big[3000];
  memset(big, 'v', sizeof big - 1);
  struct log_line l;
  log_begin(&l, LOGL_WARN, "long");
  for (int i = 0; i < 20; i++) log_str(&l, "k", big);
  log_end(&l);
  log_printf(LOGL_DEBUG, "debug %d", 7);
}

static void test_log_formats(void **state) {
  (void)state;
  char *t = capture_log(LOG_TEXT, emit_one);
  assert_non_null(strstr(t, " level=info msg=decision rule=\"a b\" q=\"say \\\"hi\\\"\\n\" id=42 "
                            "dry_run=true params.node=n1 params.empty=\"\" bad=\"x\\xff\"\n"));
  assert_int_equal(strncmp(t, "ts=20", 5), 0);
  char *j = capture_log(LOG_JSON, emit_one);
  assert_non_null(strstr(j, "\"level\":\"info\",\"msg\":\"decision\",\"rule\":\"a b\","
                            "\"q\":\"say \\\"hi\\\"\\n\",\"id\":42,\"dry_run\":true,"
                            "\"params\":{\"node\":\"n1\",\"empty\":\"\"},\"bad\":\"x\\ufffd\"}\n"));
  j = capture_log(LOG_JSON, emit_long);
  assert_non_null(strstr(j, "...\""));
  assert_non_null(strstr(j, ",\"truncated\":true}\n"));
  assert_non_null(strstr(j, "\"msg\":\"debug 7\""));
  assert_true(strlen(j) < LOG_LINE_MAX + 200);
}

static void test_rtime(void **state) {
  (void)state;
  char b[RTIME_BUFSZ];
  assert_string_equal(rtime_format(0, b), "1970-01-01T00:00:00.000Z");
  assert_string_equal(rtime_format(1795000000123, b), "2026-11-18T11:06:40.123Z");
  assert_string_equal(rtime_format(-1, b), "1969-12-31T23:59:59.999Z");
  int64_t ms;
  assert_int_equal(rtime_parse_duration("90", &ms), 0);
  assert_int_equal(ms, 90000);
  assert_int_equal(rtime_parse_duration("1h30m", &ms), 0);
  assert_int_equal(ms, 5400000);
  assert_int_equal(rtime_parse_duration("250ms", &ms), 0);
  assert_int_equal(ms, 250);
  assert_int_equal(rtime_parse_duration("2d", &ms), 0);
  assert_int_equal(rtime_parse_duration("1w", &ms), 0);
  assert_int_equal(rtime_parse_duration("", &ms), -1);
  assert_int_equal(rtime_parse_duration("5x", &ms), -1);
  assert_int_equal(rtime_parse_duration("m", &ms), -1);
  assert_int_equal(rtime_parse_duration("99999999999999999999s", &ms), -1);
  assert_string_equal(rtime_format_duration(5400500, b), "1h30m500ms");
  assert_string_equal(rtime_format_duration(0, b), "0s");
  uint64_t n;
  assert_int_equal(rtime_parse_size("4M", &n), 0);
  assert_int_equal(n, 4u << 20);
  assert_int_equal(rtime_parse_size("512KiB", &n), 0);
  assert_int_equal(n, 512u << 10);
  assert_int_equal(rtime_parse_size("12", &n), 0);
  assert_int_equal(rtime_parse_size("1T", &n), -1);
  assert_int_equal(rtime_parse_size("-1", &n), -1);
}

static bool drop_even(void *p, void *ctx) {
  (void)ctx;
  return *(int *)p % 2 == 0;
}

static void test_hmap(void **state) {
  (void)state;
  struct hmap m;
  assert_int_equal(hmap_init(&m, sizeof(int)), 0);
  char key[32];
  for (int i = 0; i < 10000; i++) {
    int n = snprintf(key, sizeof key, "key-%d", i);
    bool created;
    int *v = hmap_insert(&m, key, (size_t)n, &created);
    assert_true(created);
    *v = i;
  }
  assert_int_equal(m.count, 10000);
  int *v = hmap_find(&m, "key-1234", 8);
  assert_non_null(v);
  assert_int_equal(*v, 1234);
  bool created;
  assert_ptr_equal(hmap_insert(&m, "key-1234", 8, &created), v);
  assert_false(created);
  assert_null(hmap_find(&m, "key-1234\0", 9));   /* length is part of the key */
  hmap_remove(&m, v);
  assert_null(hmap_find(&m, "key-1234", 8));
  hmap_sweep(&m, drop_even, NULL);
  assert_int_equal(m.count, 5000 - 0);   /* 1234 was even and already gone */
  assert_null(hmap_find(&m, "key-2", 5));
  assert_non_null(hmap_find(&m, "key-3", 5));
  hmap_free(&m, NULL);
}

/* The map's hash is SipHash-2-4: the paper's test vectors (Aumasson and
 * Bernstein 2012, appendix A: key 00..0f, message 00..0e, and the empty
 * message); a different key gives different hashes. */
static void test_hmap_siphash(void **state) {
  (void)state;
  const uint64_t key[2] = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
  unsigned char msg[15];
  for (int i = 0; i < 15; i++) msg[i] = (unsigned char)i;
  assert_true(hmap_siphash(key, msg, 15) == 0xa129ca6149be45e5ull);
  assert_true(hmap_siphash(key, msg, 0) == 0x726fdb47dd0e0e31ull);
  const uint64_t other[2] = {key[0] ^ 1, key[1]};
  assert_true(hmap_siphash(other, msg, 15) != 0xa129ca6149be45e5ull);
  /* Every length up to two blocks hashes differently from its neighbours. */
  unsigned char buf[17] = {0};
  for (size_t n = 1; n < sizeof buf; n++)
    assert_true(hmap_siphash(key, buf, n) != hmap_siphash(key, buf, n - 1));
}

/* The remediation tag: the same for one alert occurrence under one rule,
 * whatever the local id or clock (two replicas, a restart), and another
 * for another rule, fingerprint, startsAt or status. */
static void test_rem_tag(void **state) {
  (void)state;
  struct alert a = {HL_STATUS_FIRING, "A", "fp-1", T0, "", "", NULL, 0, NULL, 0};
  struct rem_draft d = {0, "node-disk#02781b4e", &a, REM_DRY_GLOBAL, 0, NULL, NULL, NULL};
  char t1[BACKEND_TAG_MAX], t2[BACKEND_TAG_MAX];
  struct remediation *r1 = rem_new(&d, 1, REM_QUEUED, "", 1000);
  struct remediation *r2 = rem_new(&d, 7777, REM_QUEUED, "", 99999);   /* another replica */
  backend_rem_tag(r1, t1);
  assert_string_equal(backend_rem_tag(r2, t2), t1);
  assert_int_equal(strlen(t1), 16);
  assert_int_equal(strspn(t1, "0123456789abcdef"), 16);
  rem_unref(r2);
  struct alert b = a;
  const char *fields[] = {"rule", "fingerprint", "startsAt", "status"};
  for (int k = 0; k < 4; k++) {
    struct rem_draft e = d;
    b = a;
    e.alert = &b;
    if (k == 0) e.rule_name = "node-disk#02781b4f";
    if (k == 1) b.fingerprint = "fp-2";
    if (k == 2) b.starts_at = "2026-11-27T12:00:01Z";
    if (k == 3) b.status = HL_STATUS_RESOLVED;
    r2 = rem_new(&e, 1, REM_QUEUED, "", 1000);
    if (!strcmp(backend_rem_tag(r2, t2), t1)) fail_msg("another %s, the same tag %s", fields[k], t1);
    rem_unref(r2);
  }
  rem_unref(r1);
}

static void test_store_and_metrics(void **state) {
  (void)state;
  struct store s;
  assert_int_equal(store_init(&s, 2), 0);
  struct alert a = {HL_STATUS_FIRING, "A", "fp", T0, "", "", NULL, 0, NULL, 0};
  struct rem_draft d = {0, "rule \"x\"", &a, REM_DRY_GLOBAL, 0, NULL, NULL, NULL};
  struct remediation *r[4];
  for (int i = 0; i < 4; i++) {
    r[i] = rem_new(&d, (uint64_t)i + 1, REM_QUEUED, "q", 1000);
    store_add(&s, r[i]);
  }
  assert_int_equal(store_count(&s), 4);   /* in flight: all kept */
  for (int i = 0; i < 4; i++) store_set_state(&s, r[i], REM_DRY_RUN, "done", 2000);
  assert_int_equal(store_count(&s), 2);   /* history 2 */
  assert_int_equal(store_set_state(&s, r[3], REM_FAILED, "x", 3000), REM_DRY_RUN);
  assert_int_equal(r[3]->state, REM_DRY_RUN);   /* final states stick */
  struct buf b;
  buf_init(&b);
  store_render_json(&s, &hl_ruleset, &b, 1);
  assert_non_null(strstr(b.data, "{\"count\":1,\"remediations\":[{\"id\":4,\"rule\":\"rule \\\"x\\\"\""));
  assert_non_null(strstr(b.data, "\"action\":null,\"steps\":[],\"dry_run\":true,\"state\":\"dry_run\""));
  assert_non_null(strstr(b.data, "\"created\":\"1970-01-01T00:00:01.000Z\",\"updated\":\"1970-01-01T00:00:02.000Z\""));
  for (int i = 0; i < 4; i++) rem_unref(r[i]);
  store_free(&s);
  buf_reset(&b);
  struct metrics m;
  assert_int_equal(metrics_init(&m, &hl_ruleset, 1000), 0);
  metrics_alert(&m, HL_STATUS_FIRING);
  metrics_alert(&m, HL_STATUS_RESOLVED);
  metrics_alert(&m, HL_STATUS_RESOLVED);
  metrics_match(&m, 0);
  metrics_outcome(&m, 0, REM_DRY_RUN);
  metrics_suppressed(&m, 1, SUP_COOLDOWN);
  metrics_http(&m, 202);
  metrics_http(&m, 418);
  struct metrics_gauges g;
  memset(&g, 0, sizeof g);
  g.queue_depth = 3;
  g.queue_capacity = 10;
  g.running = 1;
  g.dedupe_entries = 5;
  g.cooldown_entries = 2;
  g.stored = 7;
  g.ready = 1;
  metrics_render(&m, &g, &b);
  assert_non_null(strstr(b.data, "healer_build_info{version=\"0.1.0\",rules_digest=\"0123456789abcdef\""));
  assert_non_null(strstr(b.data, "healer_alerts_received_total{status=\"resolved\"} 2\n"));
  assert_non_null(strstr(b.data, "healer_rule_matches_total{rule=\"eq_continue\"} 1\n"));
  assert_non_null(strstr(b.data, "healer_remediations_total{rule=\"eq_continue\",outcome=\"dry_run\"} 1\n"));
  assert_non_null(strstr(b.data, "healer_suppressed_total{rule=\"re_rule\",reason=\"cooldown\"} 1\n"));
  assert_non_null(strstr(b.data, "healer_queue_depth 3\n"));
  assert_non_null(strstr(b.data, "healer_http_requests_total{code=\"202\"} 1\n"));
  assert_non_null(strstr(b.data, "healer_http_requests_total{code=\"other\"} 1\n"));
  assert_non_null(strstr(b.data, "# TYPE healer_remediations_total counter\n"));
  assert_non_null(strstr(b.data, "\nhealer_ready 1\n"));
  assert_null(strstr(b.data, "healer_journal_"));   /* no journal: no series */
  /* With a journal: its figures, each with HELP and TYPE. */
  buf_reset(&b);
  g.journal = true;
  g.js.appended = 42;
  g.js.syncs = 17;
  g.js.sync_waits = 3;
  g.js.compactions = 2;
  g.js.file_bytes = 65536;
  g.js.snapshot_bytes = 4096;
  g.js.compact_us = 1500;
  g.js.compact_lock_us = 250;
  g.js.inflight = 4;
  g.js.dedupe = 9;
  g.js.cooldowns = 1;
  metrics_render(&m, &g, &b);
  static const char *const want[] = {
      "# TYPE healer_journal_records_appended_total counter\nhealer_journal_records_appended_total 42\n",
      "# TYPE healer_journal_syncs_total counter\nhealer_journal_syncs_total 17\n",
      "# TYPE healer_journal_sync_waits_total counter\nhealer_journal_sync_waits_total 3\n",
      "# TYPE healer_journal_bytes gauge\nhealer_journal_bytes 65536\n",
      "# TYPE healer_journal_snapshot_bytes gauge\nhealer_journal_snapshot_bytes 4096\n",
      "# TYPE healer_journal_compactions_total counter\nhealer_journal_compactions_total 2\n",
      "# TYPE healer_journal_last_compaction_seconds gauge\n"
      "healer_journal_last_compaction_seconds 0.001500\n",
      "# TYPE healer_journal_last_compaction_pause_seconds gauge\n"
      "healer_journal_last_compaction_pause_seconds 0.000250\n",
      "# TYPE healer_journal_remediations_in_flight gauge\nhealer_journal_remediations_in_flight 4\n",
      "# TYPE healer_journal_dedupe_entries gauge\nhealer_journal_dedupe_entries 9\n",
      "# TYPE healer_journal_cooldown_entries gauge\nhealer_journal_cooldown_entries 1\n",
      "# TYPE healer_journal_failed gauge\nhealer_journal_failed 0\n",
      "\nhealer_ready 1\n",
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    if (!strstr(b.data, want[i])) fail_msg("missing from /metrics: %s", want[i]);
  /* A failed journal: not ready. */
  buf_reset(&b);
  g.js.failed = true;
  metrics_render(&m, &g, &b);
  assert_non_null(strstr(b.data, "\nhealer_journal_failed 1\n"));
  assert_non_null(strstr(b.data, "\nhealer_ready 0\n"));
  buf_free(&b);
  metrics_free(&m);
}

/* Histograms: an observation on a bound is in that bucket (le), buckets
 * are cumulative, +Inf equals _count, the sum is in seconds; /metrics
 * carries the webhook, remediation and process_* families. */
static void test_histograms(void **state) {
  (void)state;
  struct hist h;
  hist_init(&h, &hist_fast);
  hist_observe_us(&h, 100);       /* on the first bound */
  hist_observe_us(&h, 101);       /* just above it */
  hist_observe_us(&h, -5);        /* a clock step back: 0 */
  hist_observe_us(&h, 9000000);   /* past the last bound */
  assert_int_equal(hist_count(&h), 4);
  struct buf b;
  buf_init(&b);
  hist_render(&b, "x_seconds", "code=\"202\"", &h);
  static const char *const lines[] = {
      "x_seconds_bucket{code=\"202\",le=\"0.0001\"} 2\n",
      "x_seconds_bucket{code=\"202\",le=\"0.00025\"} 3\n",
      "x_seconds_bucket{code=\"202\",le=\"2.5\"} 3\n",
      "x_seconds_bucket{code=\"202\",le=\"+Inf\"} 4\n",
      "x_seconds_sum{code=\"202\"} 9.000201\n",
      "x_seconds_count{code=\"202\"} 4\n",
  };
  for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
    if (!strstr(b.data, lines[i])) fail_msg("missing %s in:\n%s", lines[i], b.data);
  buf_reset(&b);
  hist_render(&b, "y_seconds", "", &h);
  assert_non_null(strstr(b.data, "y_seconds_bucket{le=\"0.0001\"} 2\n"));
  assert_non_null(strstr(b.data, "\ny_seconds_count 4\n"));
  /* Each set's bounds increase and match their le text. */
  const struct hist_buckets *sets[] = {&hist_fast, &hist_upstream, &hist_long};
  for (size_t i = 0; i < 3; i++)
    for (unsigned k = 0; k < sets[i]->n; k++) {
      assert_true(k == 0 || sets[i]->us[k] > sets[i]->us[k - 1]);
      assert_int_equal((int64_t)(strtod(sets[i]->le[k], NULL) * 1e6 + 0.5), sets[i]->us[k]);
    }

  struct metrics m;
  assert_int_equal(metrics_init(&m, &hl_ruleset, 1000), 0);
  metrics_webhook(&m, 400, 300);
  metrics_webhook(&m, 400, 2000);
  uint32_t ms = rule_named(&hl_ruleset, "multi_step");
  metrics_duration(&m, ms, REM_SUCCEEDED, 45000);
  metrics_duration(&m, ms, REM_RUNNING, 10);     /* not a final state: ignored */
  metrics_duration(&m, hl_ruleset.nrules, REM_FAILED, 10);  /* no such rule */
  struct metrics_gauges g;
  memset(&g, 0, sizeof g);
  buf_reset(&b);
  metrics_render(&m, &g, &b);
  static const char *const want[] = {
      "# TYPE healer_webhook_duration_seconds histogram\n",
      /* 202 is always there, observed or not */
      "healer_webhook_duration_seconds_count{code=\"202\"} 0\n",
      "healer_webhook_duration_seconds_bucket{code=\"400\",le=\"0.0005\"} 1\n",
      "healer_webhook_duration_seconds_bucket{code=\"400\",le=\"0.0025\"} 2\n",
      "healer_webhook_duration_seconds_sum{code=\"400\"} 0.002300\n",
      "# TYPE healer_remediation_duration_seconds histogram\n",
      "healer_remediation_duration_seconds_bucket{rule=\"multi_step\",kind=\"kubernetes "
      "cordon+kubernetes drain+spinnaker\",outcome=\"succeeded\",le=\"30\"} 0\n",
      "healer_remediation_duration_seconds_bucket{rule=\"multi_step\",kind=\"kubernetes "
      "cordon+kubernetes drain+spinnaker\",outcome=\"succeeded\",le=\"60\"} 1\n",
      "# TYPE healer_upstream_request_duration_seconds histogram\n",
      "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total ",
      "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes ",
      "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes ",
      "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds ",
      "# TYPE process_open_fds gauge\nprocess_open_fds ",
      "# TYPE process_max_fds gauge\nprocess_max_fds ",
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    if (!strstr(b.data, want[i])) fail_msg("missing from /metrics: %s", want[i]);
  /* Series without observations are left out (but for the 202). */
  assert_null(strstr(b.data, "healer_webhook_duration_seconds_count{code=\"500\"}"));
  assert_null(strstr(b.data, "rule=\"eq_continue\",kind="));
  assert_null(strstr(b.data, "outcome=\"running\""));
  /* The process figures are this process's. */
  const char *p = strstr(b.data, "\nprocess_open_fds ");
  long fds = strtol(p + strlen("\nprocess_open_fds "), NULL, 10);
  int extra = open("/dev/null", O_RDONLY);
  assert_true(extra >= 0);
  buf_reset(&b);
  metrics_render(&m, &g, &b);
  p = strstr(b.data, "\nprocess_open_fds ");
  assert_int_equal(strtol(p + strlen("\nprocess_open_fds "), NULL, 10), fds + 1);
  close(extra);
  p = strstr(b.data, "\nprocess_start_time_seconds ");
  double start = strtod(p + strlen("\nprocess_start_time_seconds "), NULL);
  double now = (double)rtime_now_ms() / 1000.0;
  assert_true(start <= now + 1 && start > now - 3600);
  p = strstr(b.data, "\nprocess_resident_memory_bytes ");
  assert_true(strtoll(p + strlen("\nprocess_resident_memory_bytes "), NULL, 10) > 1 << 20);
  buf_free(&b);
  metrics_free(&m);
}

/* Whether result counts for a step of kind with mask succeed_on. */
static bool result_ok(uint8_t kind, uint32_t succeed_on, const char *result) {
  struct rem_step st = {.kind = kind, .succeed_on = succeed_on};
  struct action_run run = {.step = &st};
  return action_result_ok(&run, result);
}

/* action_result_ok() reads each kind's HL_RESULT lines: the defaults when
 * the mask is 0, else exactly the mask's bits. */
static void test_action_results(void **state) {
  (void)state;
  /* Spinnaker: SUCCEEDED and SKIPPED by default, STOPPED only if told. */
  assert_int_equal(action_result_count(HL_ACT_SPINNAKER), 6);
  assert_string_equal(action_result_name(HL_ACT_SPINNAKER, 2), "STOPPED");
  assert_int_equal(action_result_mask(HL_ACT_SPINNAKER, 0), 0x3);
  assert_int_equal(action_result_mask(HL_ACT_SPINNAKER, 0x7), 0x7);
  assert_true(result_ok(HL_ACT_SPINNAKER, 0, "SUCCEEDED"));
  assert_true(result_ok(HL_ACT_SPINNAKER, 0, "SKIPPED"));
  assert_false(result_ok(HL_ACT_SPINNAKER, 0, "STOPPED"));
  assert_true(result_ok(HL_ACT_SPINNAKER, 0x7, "STOPPED"));
  assert_false(result_ok(HL_ACT_SPINNAKER, 0x7, "TERMINAL"));
  assert_false(result_ok(HL_ACT_SPINNAKER, 0x7, "stopped")); /* exact */
  /* A Job: Complete, or Failed when the rule says so. */
  assert_true(result_ok(HL_ACT_K8S_JOB, 0, "Complete"));
  assert_false(result_ok(HL_ACT_K8S_JOB, 0, "Failed"));
  assert_true(result_ok(HL_ACT_K8S_JOB, 0x3, "Failed"));
  /* Another kind's name, an unknown one, or a kind without results. */
  assert_false(result_ok(HL_ACT_K8S_JOB, 0x3, "SUCCESS"));
  assert_false(result_ok(HL_ACT_JENKINS, 0x1f, "Complete"));
  assert_int_equal(action_result_count(HL_ACT_WEBHOOK), 0);
  assert_null(action_result_name(HL_ACT_WEBHOOK, 0));
  assert_false(result_ok(HL_ACT_WEBHOOK, 0, "SUCCESS"));
  assert_false(result_ok(HL_ACT_JENKINS, 0, NULL));
}

/* Every kind actions.def declares is built in: nothing is left for the
 * engine's "not implemented in this build" dry-run to catch. */
static void test_every_kind_built_in(void **state) {
  (void)state;
  for (uint8_t k = 0; k < HL_ACT__COUNT; k++) {
    const struct action_ops *ops = action_ops_for(k);
    if (!ops || !ops->start || !ops->poll || !ops->cancel)
      fail_msg("action kind %u has no implementation", k);
    assert_non_null(ops->name);
  }
}

int main(void) {
  log_setup(LOG_TEXT, LOGL_ERROR, 2);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_auth_bearer),       cmocka_unit_test(test_auth_basic),
      cmocka_unit_test(test_auth_file_blanks),
      cmocka_unit_test(test_equal),  cmocka_unit_test(test_config_precedence),
      cmocka_unit_test(test_config_errors),     cmocka_unit_test(test_buf_json),
      cmocka_unit_test(test_log_formats),       cmocka_unit_test(test_rtime),
      cmocka_unit_test(test_hmap),              cmocka_unit_test(test_store_and_metrics),
      cmocka_unit_test(test_histograms),        cmocka_unit_test(test_hmap_siphash),
      cmocka_unit_test(test_action_results),
      cmocka_unit_test(test_every_kind_built_in),
      cmocka_unit_test(test_rem_tag),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
