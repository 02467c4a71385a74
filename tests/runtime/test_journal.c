/*
 * test_journal.c - the journal (runtime/journal.c): round trip with exact
 * bytes, a torn last record cut at every byte, corruption in the middle
 * (stop; skip with recover), compaction keeps exactly the live state and
 * bounds the file, cooldowns and dedupe keys survive a restart, aborts,
 * rules that changed between runs, the directory lock, a child SIGKILLed at
 * random points, threads appending and syncing at once, remediation ids
 * reserved in blocks (never reused after a restart), and a real write
 * failure (RLIMIT_FSIZE) reported to /readyz and /metrics.
 */
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"
#include "buf.h"
#include "engine.h"
#include "journal.h"
#include "ledger.h"
#include "log.h"
#include "metrics.h"
#include "rem.h"

#define NOW ((int64_t)1795000000000)   /* 2026-11-18T11:06:40Z */
#define HOUR ((int64_t)3600000)

/* Fixture rules (tests/runtime/fixture_rules.c) used here. */
#define R_FALLBACK 3u                  /* one jenkins step, 6 params */
#define R_COOLDOWN 4u                  /* cooldown 1h */
#define R_MULTI 13u                    /* three steps */
#define R_CLUSTER 17u                  /* backends picked per alert */

/* ---- helpers --------------------------------------------------------------------- */

static char g_dir[256];

static void fresh_dir(void) {
  snprintf(g_dir, sizeof g_dir, "/tmp/healer-journal-XXXXXX");
  assert_non_null(mkdtemp(g_dir));
}

static void rm_dir(const char *dir) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static char *jpath(void) {
  static char p[300];
  snprintf(p, sizeof p, "%s/%s", g_dir, JOURNAL_FILE);
  return p;
}

static struct journal_config cfg_for(const struct hl_ruleset *rs) {
  struct journal_config c;
  memset(&c, 0, sizeof c);
  c.dir = g_dir;
  c.rs = rs;
  c.dedupe_ttl_ms = 24 * HOUR;
  c.dedupe_max = 100000;
  c.no_fsync = true;          /* tmp files; the crash test syncs for real */
  return c;
}

static struct journal *open_ok(const struct journal_config *c, int64_t now,
                               struct journal_open_info *info) {
  struct journal *j = NULL;
  char err[512];
  if (journal_open(&j, c, now, info, err, sizeof err) != 0) fail_msg("journal_open: %s", err);
  return j;
}

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *data = malloc((size_t)size + 1);
  assert_non_null(data);
  assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
  fclose(f);
  data[size] = '\0';
  *n = (size_t)size;
  return data;
}

static void spit(const char *path, const char *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}

static off_t file_size(const char *path) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  return st.st_size;
}

/* A remediation of a fixture rule, as the engine would make it: every
 * parameter rendered as "<value>-<param index>". */
static struct remediation *mk(uint64_t id, uint32_t rule, const char *fp,
                              const char *value, int64_t now) {
  const struct hl_ruleset *rs = &hl_ruleset;
  const struct hl_rule *hr = &rs->rules[rule];
  struct rem_step steps[8];
  struct rem_param params[8][8];
  char values[8][8][128];
  assert_true(hr->nsteps <= 8);
  for (uint32_t s = 0; s < hr->nsteps; s++) {
    const struct hl_step *hs = &rs->steps[hr->first_step + s];
    steps[s].kind = hs->action;
    steps[s].backend = hs->backend;
    steps[s].target = hs->target;
    steps[s].succeed_on = hs->succeed_on;
    steps[s].nparams = hs->nparams;
    steps[s].params = params[s];
    assert_true(hs->nparams <= 8);
    for (uint32_t k = 0; k < hs->nparams; k++) {
      snprintf(values[s][k], sizeof values[s][k], "%s-%u", value, k);
      params[s][k].name = rs->params[hs->first_param + k].name;
      params[s][k].value = values[s][k];
    }
  }
  char ckey[160], lkey[160];
  snprintf(ckey, sizeof ckey, "%u\x1f%s", rule, value);
  snprintf(lkey, sizeof lkey, "%u\x1flim", rule);
  struct alert a;
  memset(&a, 0, sizeof a);
  a.status = HL_STATUS_FIRING;
  a.alertname = "Alert";
  a.fingerprint = fp;
  a.starts_at = T0;
  a.ends_at = "";
  a.generator_url = "";
  struct rem_draft d = {rule, hr->name, &a, REM_DRY_NO, hr->nsteps, steps,
                        hr->cooldown_ms ? ckey : NULL, hr->limit ? lkey : NULL};
  struct remediation *r = rem_new(&d, id, REM_QUEUED, "", now);
  assert_non_null(r);
  return r;
}

static uint64_t accept(struct journal *j, uint64_t id, uint32_t rule, const char *fp,
                       const char *value, int64_t now) {
  struct remediation *r = mk(id, rule, fp, value, now);
  uint64_t lsn = 0;
  const struct hl_rule *hr = &hl_ruleset.rules[rule];
  assert_int_equal(journal_append_accept(j, r, hr->cooldown_ms ? now + (int64_t)hr->cooldown_ms : 0,
                                         &lsn), 0);
  assert_true(lsn > 0);
  rem_unref(r);
  return lsn;
}

static uint64_t set_state(struct journal *j, uint64_t id, enum rem_state st,
                          const char *reason, int64_t at, int32_t step,
                          const char *token) {
  struct journal_state s = {id, st, reason, at, step, token, false, false};
  uint64_t lsn = 0;
  assert_int_equal(journal_append_state(j, &s, &lsn), 0);
  return lsn;
}

static uint64_t appended(struct journal *j) {
  struct journal_stats st;
  journal_stats(j, &st);
  return st.appended;
}

/* The live state as sorted text lines, for exact comparisons. */
struct dump {
  char **lines;
  size_t n, cap;
};

static void dump_add(struct dump *d, const char *line) {
  if (d->n == d->cap) {
    d->cap = d->cap ? d->cap * 2 : 64;
    d->lines = realloc(d->lines, d->cap * sizeof *d->lines);
    assert_non_null(d->lines);
  }
  d->lines[d->n++] = strdup(line);
}

static int dump_dd(void *ctx, const struct journal_dedupe *e) {
  char line[512];
  snprintf(line, sizeof line, "dd %u %s %s %u id=%llu created=%lld seen=%lld", e->rule,
           e->fingerprint, e->starts_at, e->alert_status, (unsigned long long)e->id,
           (long long)e->created_ms, (long long)e->last_seen_ms);
  dump_add(ctx, line);
  return 0;
}

static int dump_cd(void *ctx, const struct journal_cooldown *e) {
  char line[512];
  snprintf(line, sizeof line, "cd %u %s until=%lld owner=%llu", e->rule, e->key,
           (long long)e->until_ms, (unsigned long long)e->owner_id);
  dump_add(ctx, line);
  return 0;
}

static int dump_rem(void *ctx, const struct journal_rem *r) {
  struct buf b;
  buf_init(&b);
  buf_printf(&b, "rem %llu rule=%u/%s alert=%s fp=%s at=%s st=%u dry=%u ck=%s cu=%lld lk=%s "
             "created=%lld updated=%lld started=%lld seen=%lld state=%s step=%u reason=%s",
             (unsigned long long)r->id, r->rule, r->rule_name, r->alertname, r->fingerprint,
             r->starts_at, r->alert_status, r->dry_run, r->cooldown_key ? r->cooldown_key : "-",
             (long long)r->cooldown_until_ms, r->limit_key ? r->limit_key : "-",
             (long long)r->created_ms, (long long)r->updated_ms, (long long)r->started_ms,
             (long long)r->last_seen_ms, rem_state_name(r->state), r->step, r->reason);
  for (uint32_t s = 0; s < r->nsteps; s++) {
    buf_printf(&b, " | k=%u t=%s tok=%s", r->steps[s].kind,
               r->steps[s].target ? r->steps[s].target : "-",
               r->steps[s].token ? r->steps[s].token : "-");
    for (uint32_t k = 0; k < r->steps[s].nparams; k++)
      buf_printf(&b, " %s=%s", r->steps[s].params[k].name, r->steps[s].params[k].value);
  }
  assert_false(b.oom);
  dump_add(ctx, b.data);
  buf_free(&b);
  return 0;
}

static int cmp_line(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One string: every line sorted (the rems come in id order anyway). */
static char *dump_state(struct journal *j) {
  struct dump d = {NULL, 0, 0};
  struct journal_visitor v = {dump_dd, dump_cd, dump_rem, NULL, NULL};
  assert_int_equal(journal_replay(j, &v, &d), 0);
  qsort(d.lines, d.n, sizeof *d.lines, cmp_line);
  struct buf b;
  buf_init(&b);
  for (size_t i = 0; i < d.n; i++) {
    buf_puts(&b, d.lines[i]);
    buf_putc(&b, '\n');
    free(d.lines[i]);
  }
  free(d.lines);
  size_t n;
  char *s = buf_steal(&b, &n);
  assert_non_null(s);
  return s;
}

static int setup(void **state) {
  (void)state;
  log_setup(LOG_TEXT, LOGL_ERROR, 2);
  fresh_dir();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  rm_dir(g_dir);
  return 0;
}

/* ---- round trip ---------------------------------------------------------------- */

struct capture {
  struct journal_rem rems[8];
  char *copies[8];
  size_t n;
  size_t dd, cd;
  char cd_key[128];
  int64_t cd_until;
  struct remediation *rebuilt[8];
};

static int cap_rem(void *ctx, const struct journal_rem *r) {
  struct capture *c = ctx;
  assert_true(c->n < 8);
  c->rems[c->n] = *r;
  c->rebuilt[c->n] = ledger_rem_of(&hl_ruleset, r);
  assert_non_null(c->rebuilt[c->n]);
  c->n++;
  return 0;
}

static int cap_dd(void *ctx, const struct journal_dedupe *d) {
  (void)d;
  ((struct capture *)ctx)->dd++;
  return 0;
}

static int cap_cd(void *ctx, const struct journal_cooldown *e) {
  struct capture *c = ctx;
  c->cd++;
  snprintf(c->cd_key, sizeof c->cd_key, "%s", e->key);
  c->cd_until = e->until_ms;
  return 0;
}

static void test_round_trip(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal_open_info info;
  struct journal *j = open_ok(&c, NOW, &info);
  assert_true(info.created);
  assert_int_equal(info.next_id, 1);
  /* Values that need escaping or are not even UTF-8 come back as bytes. */
  const char *odd = "q\"uo\\te\nnl\ttab\x1f\x1e\x01 &=/% \xc3\xa9\xff\xfe end";
  accept(j, 1, R_FALLBACK, "fp-1", odd, NOW);
  accept(j, 2, R_MULTI, "fp-2", "multi", NOW + 1);
  accept(j, 3, R_COOLDOWN, "fp-3", "cool", NOW + 2);
  set_state(j, 2, REM_RUNNING, "", NOW + 10, 0, NULL);
  set_state(j, 2, REM_RUNNING, "", NOW + 11, 0, "q:http://jenkins/queue/item/7/");
  set_state(j, 2, REM_RUNNING, "", NOW + 12, 0, "b:http://jenkins/job/x/42/");
  set_state(j, 2, REM_RUNNING, "", NOW + 13, 1, NULL);
  set_state(j, 3, REM_RUNNING, "", NOW + 20, 0, NULL);
  set_state(j, 3, REM_SUCCEEDED, "all 1 steps succeeded", NOW + 30, -1, NULL);
  /* Records for finished or unknown ids are not written. */
  struct journal_stats st0, st1;
  journal_stats(j, &st0);
  set_state(j, 3, REM_FAILED, "late", NOW + 31, -1, NULL);
  set_state(j, 99, REM_FAILED, "never", NOW + 31, -1, NULL);
  journal_stats(j, &st1);
  assert_int_equal(st0.appended, st1.appended);
  assert_int_equal(journal_sync(j, JOURNAL_LSN_ALL), 0);
  char *before = dump_state(j);
  journal_close(j);

  j = open_ok(&c, NOW + 60000, &info);
  assert_false(info.created);
  assert_int_equal(info.torn_bytes, 0);
  assert_int_equal(info.lost_records, 0);
  assert_false(info.rules_changed);
  assert_int_equal(info.next_id, 4);
  assert_int_equal(info.inflight, 2);
  assert_int_equal(info.cooldowns, 1);
  assert_int_equal(info.dedupe, 3);
  char *after = dump_state(j);
  assert_string_equal(before, after);
  free(before);
  free(after);

  struct capture cap;
  memset(&cap, 0, sizeof cap);
  struct journal_visitor v = {cap_dd, cap_cd, cap_rem, NULL, NULL};
  assert_int_equal(journal_replay(j, &v, &cap), 0);
  assert_int_equal(cap.n, 2);
  assert_int_equal(cap.dd, 1);                /* #3's, finished */
  assert_int_equal(cap.cd, 1);                /* #3's cooldown outlives it */
  assert_string_equal(cap.cd_key, "4\x1f" "cool");
  assert_int_equal(cap.cd_until, NOW + 2 + HOUR);
  struct remediation *r1 = cap.rebuilt[0], *r2 = cap.rebuilt[1];
  assert_int_equal(r1->id, 1);
  assert_int_equal(r1->state, REM_QUEUED);
  assert_string_equal(r1->rule_name, "fallback");
  assert_ptr_equal(r1->rule_name, hl_ruleset.rules[R_FALLBACK].name);   /* borrowed */
  assert_string_equal(r1->fingerprint, "fp-1");
  assert_string_equal(r1->starts_at, T0);
  assert_int_equal(r1->nsteps, 1);
  assert_int_equal(r1->steps[0].nparams, 6);
  char want[160];
  snprintf(want, sizeof want, "%s-5", odd);
  assert_string_equal(r1->steps[0].params[5].value, want);
  assert_string_equal(r1->steps[0].params[5].name, "f");
  assert_int_equal(r1->created_ms, NOW);
  assert_int_equal(r2->id, 2);
  assert_int_equal(r2->state, REM_RUNNING);
  assert_int_equal(r2->nsteps, 3);
  assert_int_equal(cap.rems[1].step, 1);
  assert_int_equal(cap.rems[1].started_ms, NOW + 10);
  assert_int_equal(cap.rems[1].updated_ms, NOW + 13);
  for (size_t i = 0; i < cap.n; i++) rem_unref(cap.rebuilt[i]);
  journal_close(j);

  /* The file is readable text: one "crc json" line per record. */
  size_t n;
  char *data = slurp(jpath(), &n);
  assert_true(n > 0 && data[n - 1] == '\n');
  assert_non_null(strstr(data, "{\"t\":\"hdr\",\"v\":1,\"digest\":\"0123456789abcdef\""));
  assert_non_null(strstr(data, "\"token\":\"b:http://jenkins/job/x/42/\""));
  free(data);
}

/* Tokens and states a replay hands back for the step in progress. */
static int check_tokens(void *ctx, const struct journal_rem *r) {
  (void)ctx;
  if (r->id != 2) return 0;
  assert_int_equal(r->step, 1);
  assert_string_equal(r->steps[0].token, "b:http://jenkins/job/x/42/");
  assert_null(r->steps[1].token);
  assert_null(r->steps[2].token);
  return 7;                   /* stop: replay returns it */
}

static void test_resume_tokens(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal *j = open_ok(&c, NOW, NULL);
  accept(j, 2, R_MULTI, "fp-2", "multi", NOW);
  set_state(j, 2, REM_RUNNING, "", NOW + 11, 0, "q:http://jenkins/queue/item/7/");
  set_state(j, 2, REM_RUNNING, "", NOW + 12, 0, "b:http://jenkins/job/x/42/");
  set_state(j, 2, REM_RUNNING, "", NOW + 13, 1, NULL);
  /* Out of range steps and oversized tokens are refused. */
  struct journal_state bad = {2, REM_RUNNING, "", NOW, 3, "x", false, false};
  assert_int_equal(journal_append_state(j, &bad, NULL), -1);
  char *big = malloc(JOURNAL_TOKEN_MAX + 2);
  memset(big, 'a', JOURNAL_TOKEN_MAX + 1);
  big[JOURNAL_TOKEN_MAX + 1] = '\0';
  struct journal_state huge = {2, REM_RUNNING, "", NOW, 1, big, false, false};
  assert_int_equal(journal_append_state(j, &huge, NULL), -1);
  free(big);
  journal_close(j);
  j = open_ok(&c, NOW, NULL);
  struct journal_visitor v = {NULL, NULL, check_tokens, NULL, NULL};
  assert_int_equal(journal_replay(j, &v, NULL), 7);
  /* And after a compaction, the same. */
  assert_int_equal(journal_compact(j, NOW), 0);
  journal_close(j);
  j = open_ok(&c, NOW, NULL);
  assert_int_equal(journal_replay(j, &v, NULL), 7);
  journal_close(j);
}

/* The results that count as success are not journaled: a restored
 * remediation reads them from the tables, by rule and step. */
static struct hl_step g_masked_steps[64];
static struct hl_ruleset g_masked_rs;

static int check_masks(void *ctx, const struct journal_rem *r) {
  (void)ctx;
  struct remediation *m = ledger_rem_of(&g_masked_rs, r);
  assert_non_null(m);
  const struct hl_rule *hr = &g_masked_rs.rules[r->rule];
  for (uint32_t s = 0; s < m->nsteps; s++)
    assert_int_equal(m->steps[s].succeed_on,
                     g_masked_rs.steps[hr->first_step + s].succeed_on);
  assert_int_equal(m->steps[0].succeed_on, 0x3);
  rem_unref(m);
  return 0;
}

static void test_succeed_on_from_tables(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal *j = open_ok(&c, NOW, NULL);
  accept(j, 2, R_MULTI, "fp-2", "multi", NOW);
  set_state(j, 2, REM_RUNNING, "", NOW + 1, 0, "tok");
  journal_close(j);
  size_t n;
  char *data = slurp(jpath(), &n);
  assert_null(strstr(data, "succeed"));
  free(data);
  /* The same rules (same digest), with a mask on the first step. */
  g_masked_rs = hl_ruleset;
  assert_true(hl_ruleset.nsteps <= 64);
  memcpy(g_masked_steps, hl_ruleset.steps, hl_ruleset.nsteps * sizeof *g_masked_steps);
  g_masked_steps[hl_ruleset.rules[R_MULTI].first_step].succeed_on = 0x3;
  g_masked_rs.steps = g_masked_steps;
  j = open_ok(&c, NOW + 10, NULL);
  struct journal_visitor v = {NULL, NULL, check_masks, NULL, NULL};
  assert_int_equal(journal_replay(j, &v, NULL), 0);
  journal_close(j);
}

/* A backend picked per alert is journaled by name, as any other, and a
 * restart restores the one picked (never the default, never picked
 * again), by name also when the rules changed and the order of the
 * backends with them; a picked backend no longer declared fails the
 * remediation. */
static const struct hl_ruleset *g_picked_rs;

static uint32_t backend_named(const struct hl_ruleset *rs, const char *name) {
  for (uint32_t i = 0; i < rs->nbackends; i++)
    if (strcmp(rs->backends[i].name, name) == 0) return i;
  return HL_NONE;
}

static int check_picked(void *ctx, const struct journal_rem *r) {
  size_t *seen = ctx;
  struct remediation *m = ledger_rem_of(g_picked_rs, r);
  assert_non_null(m);
  assert_int_equal(m->steps[0].backend, backend_named(g_picked_rs, "eu-1"));
  assert_int_equal(m->steps[1].backend, backend_named(g_picked_rs, "eu-1-b"));
  rem_unref(m);
  ++*seen;
  return 0;
}

static int check_picked_failed(void *ctx, const struct journal_rem *r) {
  size_t *seen = ctx;
  assert_int_equal(r->id, 7);
  assert_int_equal(r->state, REM_FAILED);
  assert_non_null(strstr(r->reason, "the backend of step 2 changed"));
  ++*seen;
  return 0;
}

static void write_picked(struct journal *j) {
  struct remediation *r = mk(7, R_CLUSTER, "fp-7", "n7", NOW);
  r->steps[0].backend = backend_named(&hl_ruleset, "eu-1");
  r->steps[1].backend = backend_named(&hl_ruleset, "eu-1-b");
  uint64_t lsn = 0;
  assert_int_equal(journal_append_accept(j, r, 0, &lsn), 0);
  rem_unref(r);
  set_state(j, 7, REM_RUNNING, "", NOW + 1, 1, "tok");
}

static void test_picked_backend_restored(void **state) {
  (void)state;
  const struct hl_step *hs = &hl_ruleset.steps[hl_ruleset.rules[R_CLUSTER].first_step];
  assert_true(hs[0].backend_expr.count > 0 && hs[1].backend_expr.count > 0);
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal *j = open_ok(&c, NOW, NULL);
  write_picked(j);
  journal_close(j);
  size_t n;
  char *data = slurp(jpath(), &n);
  assert_non_null(strstr(data, "\"backend\":\"eu-1\""));
  assert_non_null(strstr(data, "\"backend\":\"eu-1-b\""));
  free(data);

  /* The same rules. */
  size_t seen = 0;
  struct journal_visitor v = {NULL, NULL, check_picked, NULL, NULL};
  g_picked_rs = &hl_ruleset;
  j = open_ok(&c, NOW + 10, NULL);
  assert_int_equal(journal_replay(j, &v, &seen), 0);
  assert_int_equal(seen, 1);
  journal_close(j);

  /* Other rules, the two clusters swapped in the table: still by name. */
  static struct hl_backend backends[16];
  assert_true(hl_ruleset.nbackends <= 16);
  memcpy(backends, hl_ruleset.backends, hl_ruleset.nbackends * sizeof *backends);
  uint32_t a = backend_named(&hl_ruleset, "eu-1"), b = backend_named(&hl_ruleset, "eu-1-b");
  struct hl_backend tmp = backends[a];
  backends[a] = backends[b];
  backends[b] = tmp;
  struct hl_ruleset rs2 = hl_ruleset;
  rs2.digest = "1111111111111111";
  rs2.backends = backends;
  struct journal_config c2 = cfg_for(&rs2);
  struct journal_open_info info;
  log_setup(LOG_TEXT, LOGL_ERROR + 1, 2);
  j = open_ok(&c2, NOW + 20, &info);
  log_setup(LOG_TEXT, LOGL_ERROR, 2);
  assert_true(info.rules_changed);
  assert_int_equal(info.failed, 0);
  assert_int_equal(info.inflight, 1);
  g_picked_rs = &rs2;
  seen = 0;
  assert_int_equal(journal_replay(j, &v, &seen), 0);
  assert_int_equal(seen, 1);
  journal_close(j);

  /* eu-1-b renamed away: the remediation cannot resume on it. */
  static struct hl_backend gone[16];
  memcpy(gone, backends, hl_ruleset.nbackends * sizeof *gone);
  gone[a].name = "eu-2-b";          /* where eu-1-b now is */
  struct hl_ruleset rs3 = rs2;
  rs3.digest = "2222222222222222";
  rs3.backends = gone;
  struct journal_config c3 = cfg_for(&rs3);
  c3.history = 10;
  log_setup(LOG_TEXT, LOGL_ERROR + 1, 2);
  j = open_ok(&c3, NOW + 30, &info);
  log_setup(LOG_TEXT, LOGL_ERROR, 2);
  assert_int_equal(info.failed, 1);
  assert_int_equal(info.inflight, 0);
  struct journal_visitor vf = {NULL, NULL, check_picked, check_picked_failed, NULL};
  seen = 0;
  assert_int_equal(journal_replay(j, &vf, &seen), 0);
  assert_int_equal(seen, 1);          /* only the failed one, in the history */
  journal_close(j);
}

/* ---- torn tail ------------------------------------------------------------------- */

static void expect_open_fails(const char *want1, const char *want2);

static void test_torn_last_record(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal *j = open_ok(&c, NOW, NULL);
  accept(j, 1, R_FALLBACK, "fp-1", "one", NOW);
  accept(j, 2, R_MULTI, "fp-2", "two", NOW);
  set_state(j, 2, REM_RUNNING, "", NOW + 1, 0, "q:http://jenkins/queue/item/9/");
  accept(j, 3, R_COOLDOWN, "fp-3", "three", NOW);
  set_state(j, 3, REM_SUCCEEDED, "ok", NOW + 2, -1, NULL);
  assert_int_equal(journal_sync(j, JOURNAL_LSN_ALL), 0);
  char *good = dump_state(j);
  /* The last record: a new accept that must vanish entirely. */
  accept(j, 4, R_MULTI, "fp-4", "four", NOW + 3);
  journal_close(j);
  size_t n;
  char *full = slurp(jpath(), &n);
  assert_true(n > 2);
  size_t last = n - 1;
  while (last > 0 && full[last - 1] != '\n') last--;
  assert_true(last > 0 && last < n);
  /* Cut the last record at every byte: the others always survive. */
  for (size_t cut = last; cut < n; cut++) {
    spit(jpath(), full, cut);
    struct journal_open_info info;
    j = open_ok(&c, NOW, &info);
    assert_int_equal(info.torn_bytes, cut - last);
    if (cut > last) assert_int_equal(info.torn_offset, last);
    assert_int_equal(info.lost_records, 0);
    char *got = dump_state(j);
    assert_string_equal(got, good);
    free(got);
    journal_close(j);
    assert_int_equal(file_size(jpath()), (off_t)last);   /* cut off for good */
  }
  /* The write's own bytes zero-filled (a file system that grew the file
   * before the data reached it) are torn too... */
  char *z = calloc(1, last + 4096);
  memcpy(z, full, last);
  spit(jpath(), z, n);
  struct journal_open_info info;
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.torn_bytes, n - last);
  journal_close(j);
  /* ... and so is a zero-filled block where the next write began (its
   * marker torn): the last record's marker line starts it. */
  size_t mark = last - 1;
  while (mark > 0 && full[mark - 1] != '\n') mark--;
  assert_non_null(strstr(full + mark, "{\"t\":\"grp\",\"len\":"));
  spit(jpath(), z, mark);
  j = open_ok(&c, NOW, NULL);
  journal_close(j);
  memset(z + mark, 0, 4096);
  spit(jpath(), z, mark + 4096);
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.torn_bytes, 4096);
  journal_close(j);
  /* Zeros past the end the last write declared: not a crash, damage. */
  memcpy(z, full, last);
  memset(z + last, 0, 4096);
  spit(jpath(), z, last + 4096);
  expect_open_fails("damaged at its end", "past the end of the last write");
  /* Only a torn header: a fresh journal. */
  spit(jpath(), full, 20);
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.torn_bytes, 20);
  assert_int_equal(info.inflight, 0);
  journal_close(j);
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.torn_bytes, 0);
  journal_close(j);
  free(z);
  free(full);
  free(good);
}

/* ---- corruption ------------------------------------------------------------------- */

/* Builds a journal of 1 header + 6 records; returns the file and the
 * offsets of the record starts. */
static char *six_records(size_t *n, size_t starts[8]) {
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal *j = open_ok(&c, NOW, NULL);
  for (uint64_t id = 1; id <= 6; id++) accept(j, id, R_FALLBACK, id % 2 ? "fp-odd" : "fp-even",
                                               id % 2 ? "a" : "b", NOW + (int64_t)id);
  journal_close(j);
  char *data = slurp(jpath(), n);
  /* The header, then one group commit: its marker (line 2, left out of
   * starts) and the six. */
  size_t k = 0;
  starts[k++] = 0;
  for (size_t i = 0; i + 1 < *n; i++)
    if (data[i] == '\n' && strncmp(data + i + 10, "{\"t\":\"grp\"", 10) != 0)
      starts[k++] = i + 1;
  assert_int_equal(k, 7);
  starts[k] = *n;
  return data;
}

static void expect_open_fails(const char *want1, const char *want2) {
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal *j = NULL;
  char err[512];
  assert_int_equal(journal_open(&j, &c, NOW, NULL, err, sizeof err), -1);
  assert_null(j);
  if (!strstr(err, want1) || !strstr(err, want2))
    fail_msg("error '%s' lacks '%s' or '%s'", err, want1, want2);
  assert_non_null(strstr(err, jpath()));
  assert_non_null(strstr(err, "--journal-recover"));
}

static void test_corrupt_middle_record(void **state) {
  (void)state;
  size_t n, at[8];
  char *orig = six_records(&n, at);
  char *data = malloc(n);
  char want[64];

  /* A flipped bit in the second accept (record 4: the header and the
   * group's marker come first). */
  memcpy(data, orig, n);
  data[at[2] + 40] ^= 0x04;
  spit(jpath(), data, n);
  snprintf(want, sizeof want, "record 4 at offset %zu", at[2]);
  expect_open_fails(want, "checksum mismatch");
  struct journal_config c = cfg_for(&hl_ruleset);
  c.recover = true;
  struct journal_open_info info;
  struct journal *j = open_ok(&c, NOW, &info);
  assert_int_equal(info.lost_records, 1);
  assert_int_equal(info.inflight, 5);         /* all but #2 */
  assert_true(info.compacted);
  journal_close(j);
  c.recover = false;          /* rewritten clean: opens without the flag */
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.lost_records, 0);
  assert_int_equal(info.inflight, 5);
  journal_close(j);

  /* Two records run together (a lost newline). */
  memcpy(data, orig, n);
  data[at[3] - 1] = ' ';
  spit(jpath(), data, n);
  expect_open_fails("record 4", "checksum mismatch");

  /* A well-framed record that is not JSON (the checksum is right). */
  struct buf b;
  buf_init(&b);
  buf_put(&b, orig, at[4]);
  const char *junk = "{\"t\":\"acc\",";
  buf_printf(&b, "%08x %s\n", journal_crc32c(0, junk, strlen(junk)), junk);
  buf_put(&b, orig + at[4], n - at[4]);
  spit(jpath(), b.data, b.len);
  snprintf(want, sizeof want, "offset %zu", at[4]);
  expect_open_fails(want, "not a JSON object");
  /* ... and one of an unknown type, even as the last record. */
  buf_reset(&b);
  buf_put(&b, orig, n);
  junk = "{\"t\":\"what\"}";
  buf_printf(&b, "%08x %s\n", journal_crc32c(0, junk, strlen(junk)), junk);
  spit(jpath(), b.data, b.len);
  expect_open_fails("record 9", "unknown record type \"what\"");
  c.recover = true;
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.lost_records, 1);
  assert_int_equal(info.inflight, 6);
  journal_close(j);

  /* A header of another format version. */
  buf_reset(&b);
  junk = "{\"t\":\"hdr\",\"v\":2,\"digest\":\"x\"}";
  buf_printf(&b, "%08x %s\n", journal_crc32c(0, junk, strlen(junk)), junk);
  buf_put(&b, orig + at[1], n - at[1]);
  spit(jpath(), b.data, b.len);
  expect_open_fails("record 1", "format version 2, this healer reads version 1");
  /* No header at all. */
  spit(jpath(), orig + at[1], n - at[1]);
  expect_open_fails("record 1", "the first record is not a header");
  buf_free(&b);
  free(data);
  free(orig);
}

/* ---- damage at the end ------------------------------------------------------------ */

/* 20 remediations acknowledged one by one (each its own group commit, as
 * 20 webhooks a second apart would be). */
static char *twenty_acked(size_t *n) {
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal *j = open_ok(&c, NOW, NULL);
  for (uint64_t id = 1; id <= 20; id++) {
    char fp[16];
    snprintf(fp, sizeof fp, "fp-%llu", (unsigned long long)id);
    accept(j, id, R_FALLBACK, fp, "v", NOW + (int64_t)id);
    assert_int_equal(journal_sync(j, JOURNAL_LSN_ALL), 0);
  }
  journal_close(j);
  return slurp(jpath(), n);
}

/* The damaged copy --journal-recover keeps: its name, and its bytes are
 * the damaged file's, untouched. */
static void expect_damaged_copy(const struct journal_open_info *info, const char *want,
                                size_t wn) {
  assert_non_null(strstr(info->damaged_copy, JOURNAL_FILE ".damaged-"));
  char p[400];
  snprintf(p, sizeof p, "%s/%s", g_dir, info->damaged_copy);
  size_t got_n;
  char *got = slurp(p, &got_n);
  assert_int_equal(got_n, wn);
  assert_memory_equal(got, want, wn);
  free(got);
  assert_int_equal(unlink(p), 0);
}

/* Only the last group commit may be called torn: 4 KB of zeros over
 * records synced long ago, or a complete record whose checksum fails,
 * stop start-up; --journal-recover cuts them and keeps the original. */
static void test_damaged_tail(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal_open_info info;
  size_t n;
  char *orig = twenty_acked(&n);
  assert_true(n > 4096 + 1024);
  char *data = malloc(n);

  /* Zeros over the last 4 KB: 10 or so acknowledged accepts. */
  memcpy(data, orig, n);
  memset(data + n - 4096, 0, 4096);
  spit(jpath(), data, n);
  expect_open_fails("damaged at its end", "past the end of the last write");
  assert_int_equal(file_size(jpath()), (off_t)n);      /* left as it was */
  c.recover = true;
  struct journal *j = open_ok(&c, NOW, &info);
  assert_true(info.lost_records >= 1);
  assert_true(info.compacted);
  size_t kept = info.inflight;
  assert_true(kept >= 1 && kept < 20);
  print_message("4 KB of zeros over the end: %zu of 20 remediations kept by --journal-recover\n", kept);
  journal_close(j);
  expect_damaged_copy(&info, data, n);
  c.recover = false;                                    /* rewritten clean */
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.inflight, kept);
  assert_int_equal(info.lost_records, 0);
  journal_close(j);

  /* The last record complete, its checksum wrong (a flipped bit): a crash
   * leaves an incomplete record, never this. */
  size_t last = n - 1;
  while (last > 0 && orig[last - 1] != '\n') last--;
  memcpy(data, orig, n);
  data[last + 30] ^= 0x01;
  spit(jpath(), data, n);
  char want[64];
  snprintf(want, sizeof want, "at offset %zu is complete but damaged", last);
  expect_open_fails("checksum mismatch", want);
  c.recover = true;
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.lost_records, 1);
  assert_int_equal(info.inflight, 19);
  journal_close(j);
  expect_damaged_copy(&info, data, n);
  c.recover = false;

  /* The same record cut short instead: torn, cut without a word. */
  spit(jpath(), orig, n - 7);
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.torn_offset, last);
  assert_int_equal(info.inflight, 19);
  journal_close(j);

  /* A journal from before group commits (no "grp" in its header, no
   * markers) keeps the old rule for zeros at its end... */
  struct buf b;
  buf_init(&b);
  const char *hdr = "{\"t\":\"hdr\",\"v\":1,\"digest\":\"old\",\"next_id\":1,\"at\":1}";
  buf_printf(&b, "%08x %s\n", journal_crc32c(0, hdr, strlen(hdr)), hdr);
  for (size_t off = 0; off < n;) {             /* the accepts, without markers */
    const char *nl = memchr(orig + off, '\n', n - off);
    size_t len = (size_t)(nl - (orig + off)) + 1;
    if (off && strncmp(orig + off + 9, "{\"t\":\"grp\"", 10) != 0) buf_put(&b, orig + off, len);
    off += len;
  }
  size_t legacy = b.len;
  for (int i = 0; i < 4096; i++) buf_putc(&b, '\0');
  spit(jpath(), b.data, b.len);
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.torn_bytes, 4096);
  assert_int_equal(info.inflight, 20);
  journal_close(j);
  /* ... but not for a complete damaged record. */
  b.len = legacy;
  b.data[legacy - 20] ^= 0x01;
  spit(jpath(), b.data, b.len);
  expect_open_fails("checksum mismatch", "complete but damaged");

  buf_free(&b);
  free(data);
  free(orig);
}

/* ---- cooldowns, dedupe, aborts ---------------------------------------------------- */

static void test_cooldown_survives_restart(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal *j = open_ok(&c, NOW, NULL);
  accept(j, 1, R_COOLDOWN, "fp-1", "node-a", NOW);
  set_state(j, 1, REM_SUCCEEDED, "done", NOW + 1000, -1, NULL);
  /* A second one that is cancelled before it starts gives its cooldown back. */
  accept(j, 2, R_COOLDOWN, "fp-2", "node-b", NOW);
  struct journal_state cancel = {2, REM_CANCELLED, "resolved", NOW + 5, -1, NULL, true, false};
  assert_int_equal(journal_append_state(j, &cancel, NULL), 0);
  journal_close(j);

  struct journal_open_info info;
  struct capture cap;
  struct journal_visitor v = {cap_dd, cap_cd, cap_rem, NULL, NULL};
  /* Ten minutes later: still cooling down, until the original deadline. */
  j = open_ok(&c, NOW + 10 * 60000, &info);
  assert_int_equal(info.cooldowns, 1);
  memset(&cap, 0, sizeof cap);
  assert_int_equal(journal_replay(j, &v, &cap), 0);
  assert_int_equal(cap.cd, 1);
  assert_string_equal(cap.cd_key, "4\x1fnode-a");
  assert_int_equal(cap.cd_until, NOW + HOUR);
  assert_int_equal(cap.dd, 2);
  /* Compaction keeps it too. */
  assert_int_equal(journal_compact(j, NOW + 20 * 60000), 0);
  journal_close(j);
  j = open_ok(&c, NOW + 30 * 60000, &info);
  assert_int_equal(info.cooldowns, 1);
  journal_close(j);
  /* After the hour it is gone. */
  j = open_ok(&c, NOW + HOUR, &info);
  assert_int_equal(info.cooldowns, 0);
  assert_int_equal(info.dedupe, 2);
  journal_close(j);
  /* And the dedupe keys after their TTL. */
  j = open_ok(&c, NOW + 25 * HOUR, &info);
  assert_int_equal(info.dedupe, 0);
  assert_int_equal(info.next_id, 3);         /* ids are never reused */
  journal_close(j);
}

static void test_seen_keeps_dedupe_alive(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal *j = open_ok(&c, NOW, NULL);
  accept(j, 1, R_FALLBACK, "fp-1", "x", NOW);
  accept(j, 2, R_FALLBACK, "fp-2", "y", NOW);
  set_state(j, 1, REM_SUCCEEDED, "", NOW + 1, -1, NULL);
  set_state(j, 2, REM_SUCCEEDED, "", NOW + 1, -1, NULL);
  struct journal_stats s0, s1;
  journal_stats(j, &s0);
  /* Seen again within ttl/8: nothing written. */
  journal_note_seen(j, R_FALLBACK, "fp-1", T0, HL_STATUS_FIRING, NOW + HOUR);
  journal_stats(j, &s1);
  assert_int_equal(s1.appended, s0.appended);
  /* After it: one record. Unknown keys: nothing. */
  journal_note_seen(j, R_FALLBACK, "fp-1", T0, HL_STATUS_FIRING, NOW + 4 * HOUR);
  journal_note_seen(j, R_FALLBACK, "fp-9", T0, HL_STATUS_FIRING, NOW + 4 * HOUR);
  journal_note_seen(j, 9999, "fp-1", T0, HL_STATUS_FIRING, NOW + 4 * HOUR);
  journal_stats(j, &s1);
  assert_int_equal(s1.appended, s0.appended + 1);
  journal_close(j);
  struct journal_open_info info;
  j = open_ok(&c, NOW + 25 * HOUR, &info);
  assert_int_equal(info.dedupe, 1);          /* fp-1 lives on, fp-2 expired */
  journal_close(j);
}

static void test_abort(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal *j = open_ok(&c, NOW, NULL);
  accept(j, 1, R_COOLDOWN, "fp-1", "k", NOW);
  uint64_t lsn = 0;
  assert_int_equal(journal_append_abort(j, 1, &lsn), 0);
  assert_true(lsn > 0);
  assert_int_equal(journal_append_abort(j, 1, NULL), 0);   /* idempotent */
  struct journal_stats st;
  journal_stats(j, &st);
  assert_int_equal(st.inflight, 0);
  assert_int_equal(st.dedupe, 0);
  assert_int_equal(st.cooldowns, 0);
  /* The same id cannot be accepted twice while in flight. */
  accept(j, 2, R_FALLBACK, "fp-2", "v", NOW);
  struct remediation *r = mk(2, R_FALLBACK, "fp-2", "v", NOW);
  assert_int_equal(journal_append_accept(j, r, 0, NULL), -1);
  rem_unref(r);
  journal_close(j);
  struct journal_open_info info;
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.inflight, 1);
  assert_int_equal(info.dedupe, 1);
  assert_int_equal(info.cooldowns, 0);
  assert_int_equal(info.next_id, 3);
  journal_close(j);
}

/* ---- control values ------------------------------------------------------------- */

static int cap_ctl(void *ctx, const char *key, const char *value) {
  struct buf *b = ctx;
  buf_printf(b, "%s=%s;", key, value);
  return 0;
}

/* The latest value per key survives a restart and a compaction; a
 * forgotten key is gone; the journal never reads the values. */
static void test_control_values(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal *j = open_ok(&c, NOW, NULL);
  uint64_t lsn = 0;
  assert_int_equal(journal_append_control(j, "pause", "{\"paused\":true}", &lsn), 0);
  assert_true(lsn > 0);
  assert_int_equal(journal_append_control(j, "breaker/a", "v1", NULL), 0);
  assert_int_equal(journal_append_control(j, "breaker/a", "v2 \"quoted\"\n", NULL), 0);
  assert_int_equal(journal_append_control(j, "breaker/b", "gone", NULL), 0);
  assert_int_equal(journal_append_control(j, "breaker/b", NULL, NULL), 0);
  assert_int_equal(journal_append_control(j, "breaker/never", NULL, NULL), 0);
  assert_int_equal(journal_append_control(j, "", "x", NULL), -1);
  journal_close(j);
  for (int round = 0; round < 2; round++) {
    j = open_ok(&c, NOW, NULL);
    struct buf b;
    buf_init(&b);
    struct journal_visitor v = {NULL, NULL, NULL, NULL, cap_ctl};
    assert_int_equal(journal_replay(j, &v, &b), 0);
    /* Order of keys is the map's: check each. */
    assert_non_null(strstr(b.data, "pause={\"paused\":true};"));
    assert_non_null(strstr(b.data, "breaker/a=v2 \"quoted\"\n;"));
    assert_null(strstr(b.data, "breaker/b"));
    assert_null(strstr(b.data, "v1"));
    buf_free(&b);
    if (round == 0) assert_int_equal(journal_compact(j, NOW), 0);
    journal_close(j);
  }
}

/* ---- compaction ------------------------------------------------------------------- */

static void test_compaction_keeps_live_state(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  c.dedupe_ttl_ms = HOUR;
  struct journal *j = open_ok(&c, NOW, NULL);
  char fp[32], val[32];
  for (uint64_t id = 1; id <= 300; id++) {
    snprintf(fp, sizeof fp, "fp-%llu", (unsigned long long)id);
    snprintf(val, sizeof val, "v%llu", (unsigned long long)(id % 7));
    uint32_t rule = id % 3 == 0 ? R_COOLDOWN : id % 3 == 1 ? R_MULTI : R_FALLBACK;
    int64_t t = NOW + (int64_t)id * 1000;
    accept(j, id, rule, fp, val, t);
    if (id % 5 == 0) continue;                                 /* queued */
    set_state(j, id, REM_RUNNING, "", t + 1, 0, id % 2 ? "tok-0" : NULL);
    if (id % 5 == 1) {
      set_state(j, id, REM_RUNNING, "", t + 2, rule == R_MULTI ? 1 : 0, "tok-1");
      continue;
    }
    set_state(j, id, id % 4 ? REM_SUCCEEDED : REM_FAILED, "done", t + 3, -1, NULL);
  }
  /* The alert of #10 was seen again later. */
  journal_note_seen(j, R_MULTI, "fp-10", T0, HL_STATUS_FIRING, NOW + 20 * 60000);
  int64_t at = NOW + 400 * 1000;
  char *before = dump_state(j);
  struct journal_stats s0, s1;
  journal_stats(j, &s0);
  assert_int_equal(journal_compact(j, at), 0);
  journal_stats(j, &s1);
  assert_int_equal(s1.compactions, 1);
  assert_true(s1.file_bytes < s0.file_bytes + s0.pending_bytes);
  assert_int_equal(s1.file_bytes, (uint64_t)file_size(jpath()));
  assert_int_equal(s1.inflight, s0.inflight);
  assert_int_equal(s1.dedupe, s0.dedupe);
  assert_int_equal(s1.cooldowns, s0.cooldowns);
  char *mid = dump_state(j);
  assert_string_equal(before, mid);
  journal_close(j);
  j = open_ok(&c, at, NULL);
  char *after = dump_state(j);
  assert_string_equal(before, after);
  /* Appending after a compaction goes to the new file. */
  accept(j, 1000, R_FALLBACK, "fp-new", "n", at);
  journal_close(j);
  struct journal_open_info info;
  j = open_ok(&c, at, &info);
  assert_int_equal(info.inflight, s0.inflight + 1);
  assert_int_equal(info.next_id, 1001);
  journal_close(j);
  free(before);
  free(mid);
  free(after);
}

static void test_compaction_bounds_size(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  c.compact_bytes = 64 * 1024;
  c.dedupe_ttl_ms = 10 * 60000;    /* ten minutes of dedupe keys */
  struct journal *j = open_ok(&c, NOW, NULL);
  off_t biggest = 0;
  char fp[32];
  int64_t t = NOW;
  /* A steady stream: an alert a second, each remediated and finished; the
   * main loop ticks once a second. Two hours of it. */
  for (uint64_t id = 1; id <= 7200; id++, t += 1000) {
    snprintf(fp, sizeof fp, "fp-%llu", (unsigned long long)id);
    accept(j, id, id % 2 ? R_COOLDOWN : R_FALLBACK, fp, fp, t);
    set_state(j, id, REM_RUNNING, "", t + 1, 0, "q:http://jenkins/queue/item/1/");
    set_state(j, id, REM_SUCCEEDED, "all 1 steps succeeded", t + 2, -1, NULL);
    assert_int_equal(journal_tick(j, t), 0);
    off_t size = file_size(jpath());
    if (size > biggest) biggest = size;
  }
  struct journal_stats st;
  assert_int_equal(journal_compact(j, t), 0);
  journal_stats(j, &st);
  assert_true(st.compactions > 5);
  /* Live: ~600 dedupe keys and ~1800 cooldowns (1h, every other alert). */
  assert_true(st.dedupe <= 620);
  assert_true(st.cooldowns <= 1810);
  /* The file never exceeded twice the larger of the threshold and the
   * last snapshot, plus one tick's records. */
  assert_true((uint64_t)biggest <= 2 * (st.snapshot_bytes > c.compact_bytes ? st.snapshot_bytes
                                                                            : c.compact_bytes) +
                                       4096);
  print_message("steady stream: largest file %lld bytes, last snapshot %llu bytes, "
                "%llu compactions\n", (long long)biggest,
                (unsigned long long)st.snapshot_bytes, (unsigned long long)st.compactions);
  journal_close(j);
}

/* ---- rules that changed --------------------------------------------------------- */

static void test_rules_changed(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal *j = open_ok(&c, NOW, NULL);
  accept(j, 1, R_COOLDOWN, "fp-1", "node-a", NOW);   /* rule moves: 4 -> 0 */
  accept(j, 2, R_FALLBACK, "fp-2", "x", NOW);         /* rule renamed: gone */
  accept(j, 3, R_MULTI, "fp-3", "m", NOW);            /* rule's target changes */
  set_state(j, 3, REM_RUNNING, "", NOW + 1, 0, "tok");
  accept(j, 4, R_COOLDOWN, "fp-4", "node-b", NOW);
  set_state(j, 4, REM_SUCCEEDED, "", NOW + 1, -1, NULL);
  journal_close(j);

  /* The same tables, reordered and edited. */
  static struct hl_rule rules[32];
  static struct hl_step steps[64];
  const struct hl_ruleset *o = &hl_ruleset;
  assert_true(o->nrules <= 32 && o->nsteps <= 64);
  memcpy(rules, o->rules, o->nrules * sizeof *rules);
  memcpy(steps, o->steps, o->nsteps * sizeof *steps);
  struct hl_rule tmp = rules[0];
  rules[0] = rules[R_COOLDOWN];
  rules[R_COOLDOWN] = tmp;
  rules[R_FALLBACK].name = "fallback_renamed";
  assert_null(steps[rules[R_MULTI].first_step].target);
  steps[rules[R_MULTI].first_step].target = "changed";
  struct hl_ruleset rs2 = *o;
  rs2.digest = "fedcba9876543210";
  rs2.rules = rules;
  rs2.steps = steps;

  struct journal_config c2 = cfg_for(&rs2);
  struct journal_open_info info;
  log_setup(LOG_TEXT, LOGL_ERROR + 1, 2);    /* the warnings are expected */
  j = open_ok(&c2, NOW + 1000, &info);
  log_setup(LOG_TEXT, LOGL_ERROR, 2);
  assert_true(info.rules_changed);
  assert_true(info.compacted);
  assert_int_equal(info.failed, 2);          /* #2 and #3 */
  assert_int_equal(info.inflight, 1);
  char *s = dump_state(j);
  /* #1 now points at rule 0, its keys re-scoped; #4's cooldown too. */
  assert_non_null(strstr(s, "rem 1 rule=0/cooldown_rule "));
  assert_non_null(strstr(s, "ck=0\x1fnode-a "));
  assert_non_null(strstr(s, "cd 0 0\x1fnode-b until="));
  assert_null(strstr(s, "rem 2 "));
  assert_null(strstr(s, "rem 3 "));
  assert_non_null(strstr(s, "dd 0 fp-4 "));
  assert_non_null(strstr(s, "dd 13 fp-3 "));   /* finished (failed), still deduped */
  assert_null(strstr(s, "fp-2"));              /* its rule is gone */
  free(s);
  journal_close(j);
  /* The file now carries the new digest: no change reported again. */
  j = open_ok(&c2, NOW + 2000, &info);
  assert_false(info.rules_changed);
  assert_int_equal(info.inflight, 1);
  journal_close(j);
}

/* ---- history: the newest finished remediations ----------------------------------- */

/* A remediation that never ran (skipped), journaled whole for the history. */
static void skipped(struct journal *j, uint64_t id, uint32_t rule, const char *fp,
                    const char *reason, int64_t now) {
  struct remediation *r = mk(id, rule, fp, "skip", now);
  r->state = REM_SKIPPED;
  snprintf(r->reason, sizeof r->reason, "%s", reason);
  assert_int_equal(journal_append_finished(j, r, NULL), 0);
  rem_unref(r);
}

/* One line per remediation handed back, in the order they come: "L" in
 * flight, "F" finished. */
static int hist_line(struct buf *b, const struct journal_rem *r, char tag) {
  buf_printf(b, "%c%llu rule=%d/%s alert=%s fp=%s %s \"%s\" dry=%u c=%lld u=%lld", tag,
             (unsigned long long)r->id, r->rule == HL_NONE ? -1 : (int)r->rule, r->rule_name,
             r->alertname, r->fingerprint, rem_state_name(r->state), r->reason, r->dry_run,
             (long long)(r->created_ms - NOW), (long long)(r->updated_ms - NOW));
  for (uint32_t s = 0; s < r->nsteps; s++) {
    char kind[REM_KIND_MAX];
    buf_printf(b, " | %s t=%s b=%s", rem_kind_name(r->steps[s].kind, kind),
               r->steps[s].target ? r->steps[s].target : "-",
               r->steps[s].backend ? r->steps[s].backend : "-");
    for (uint32_t k = 0; k < r->steps[s].nparams; k++)
      buf_printf(b, " %s=%s", r->steps[s].params[k].name, r->steps[s].params[k].value);
    if (tag == 'F') assert_null(r->steps[s].token);
  }
  buf_putc(b, '\n');
  if (tag == 'F') {           /* no part in dedupe, cooldowns or resuming */
    assert_true(rem_state_final(r->state));
    assert_null(r->cooldown_key);
    assert_null(r->limit_key);
    assert_int_equal(r->cooldown_until_ms, 0);
    assert_int_equal(r->started_ms, 0);
  } else {
    assert_false(rem_state_final(r->state));
  }
  return 0;
}

static int hist_rem(void *ctx, const struct journal_rem *r) { return hist_line(ctx, r, 'L'); }
static int hist_fin(void *ctx, const struct journal_rem *r) { return hist_line(ctx, r, 'F'); }

static char *dump_history(struct journal *j) {
  struct buf b;
  buf_init(&b);
  struct journal_visitor v = {NULL, NULL, hist_rem, hist_fin, NULL};
  assert_int_equal(journal_replay(j, &v, &b), 0);
  assert_false(b.oom);
  buf_putc(&b, '\0');         /* an empty dump is "" */
  size_t n;
  char *s = buf_steal(&b, &n);
  assert_non_null(s);
  return s;
}

/* The ids of a dump, in order: "L4 F5 ...". */
static char *dump_ids(const char *dump) {
  static char out[8192];
  size_t o = 0;
  out[0] = '\0';
  for (const char *p = dump; *p; p = strchr(p, '\n') + 1) {
    size_t n = strcspn(p, " ");
    o += (size_t)snprintf(out + o, sizeof out - o, "%s%.*s", o ? " " : "", (int)n, p);
    assert_true(o < sizeof out);
  }
  return out;
}

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p++) n++;
  return n;
}

static void test_history_kept(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  c.history = 5;
  struct journal_open_info info;
  struct journal *j = open_ok(&c, NOW, &info);
  assert_int_equal(info.history, 0);
  accept(j, 1, R_FALLBACK, "fp-1", "a", NOW);
  set_state(j, 1, REM_RUNNING, "", NOW + 1, 0, "tok-1");
  set_state(j, 1, REM_SUCCEEDED, "all 1 steps succeeded", NOW + 2, -1, NULL);
  accept(j, 2, R_MULTI, "fp-2", "m", NOW + 10);
  set_state(j, 2, REM_FAILED, "step 2: HTTP 500", NOW + 12, -1, NULL);
  skipped(j, 3, R_COOLDOWN, "fp-3", "cooldown: 59m left", NOW + 20);
  accept(j, 4, R_FALLBACK, "fp-4", "q", NOW + 30);                 /* stays queued */
  accept(j, 5, R_COOLDOWN, "fp-5", "c5", NOW + 40);
  set_state(j, 5, REM_RUNNING, "", NOW + 41, 0, "tok-5");
  set_state(j, 5, REM_TIMED_OUT, "timeout 20m: the build was stopped", NOW + 42, -1, NULL);
  skipped(j, 6, R_FALLBACK, "fp-6", "missing label node", NOW + 50);
  accept(j, 7, R_MULTI, "fp-7", "r", NOW + 60);
  set_state(j, 7, REM_RUNNING, "", NOW + 61, 1, "tok-7");           /* stays running */
  accept(j, 8, R_COOLDOWN, "fp-8", "c8", NOW + 70);
  struct journal_state cancel = {8, REM_CANCELLED,
                                 "cancelled: the alert resolved before it started", NOW + 71, -1,
                                 NULL, true, false};
  assert_int_equal(journal_append_state(j, &cancel, NULL), 0);
  accept(j, 9, R_FALLBACK, "fp-9", "d9", NOW + 80);
  accept(j, 10, R_FALLBACK, "fp-10", "d10", NOW + 81);
  set_state(j, 10, REM_DRY_RUN, "dry-run (--dry-run)", NOW + 82, -1, NULL);   /* 10 before 9 */
  set_state(j, 9, REM_SUCCEEDED, "all 1 steps succeeded", NOW + 83, -1, NULL);
  /* Not finished in flight: refused, and nothing changes. */
  struct remediation *live = mk(4, R_FALLBACK, "fp-4", "q", NOW);
  live->state = REM_SKIPPED;
  assert_int_equal(journal_append_finished(j, live, NULL), -1);
  live->state = REM_QUEUED;
  assert_int_equal(journal_append_finished(j, live, NULL), -1);
  rem_unref(live);
  struct journal_stats st;
  journal_stats(j, &st);
  assert_int_equal(st.history, 5);
  assert_int_equal(st.inflight, 2);
  assert_int_equal(journal_sync(j, JOURNAL_LSN_ALL), 0);
  char *h0 = dump_history(j);
  char *s0 = dump_state(j);
  /* The newest five finished, merged with the two in flight by id. */
  assert_string_equal(dump_ids(h0), "L4 F5 F6 L7 F8 F9 F10");
  assert_non_null(strstr(h0, "F5 rule=4/cooldown_rule alert=Alert fp=fp-5 timed_out "
                             "\"timeout 20m: the build was stopped\" dry=0 c=40 u=42 | "
                             "jenkins t=CoolJob b=- "));
  assert_non_null(strstr(h0, "F6 rule=3/fallback alert=Alert fp=fp-6 skipped "
                             "\"missing label node\" dry=0 c=50 u=50 | jenkins t=Fallback b=- "
                             "a=skip-0 b=skip-1 c=skip-2 d=skip-3 e=skip-4 f=skip-5\n"));
  assert_non_null(strstr(h0, "F8 rule=4/cooldown_rule alert=Alert fp=fp-8 cancelled "
                             "\"cancelled: the alert resolved before it started\" "
                             "dry=0 c=70 u=71"));
  assert_non_null(strstr(h0, "F9 rule=3/fallback alert=Alert fp=fp-9 succeeded "
                             "\"all 1 steps succeeded\" dry=0 c=80 u=83"));
  assert_non_null(strstr(h0, "F10 rule=3/fallback alert=Alert fp=fp-10 dry_run "
                             "\"dry-run (--dry-run)\" dry=0 c=81 u=82"));
  assert_non_null(strstr(h0, "L7 rule=13/multi_step alert=Alert fp=fp-7 running "));
  journal_close(j);

  /* 1. The log replayed as written: the same history, the same state. */
  j = open_ok(&c, NOW + 1000, &info);
  assert_int_equal(info.history, 5);
  assert_int_equal(info.inflight, 2);
  assert_int_equal(info.next_id, 11);
  char *h1 = dump_history(j);
  char *s1 = dump_state(j);
  assert_string_equal(h1, h0);
  assert_string_equal(s1, s0);
  free(h1);
  free(s1);
  /* 2. A snapshot writes the history as "fin" records. */
  assert_int_equal(journal_compact(j, NOW + 1000), 0);
  journal_close(j);
  size_t n;
  char *data = slurp(jpath(), &n);
  assert_int_equal(count(data, "{\"t\":\"fin\","), 5);
  assert_int_equal(count(data, "{\"t\":\"acc\","), 2);
  assert_int_equal(count(data, "{\"t\":\"fin\",\"id\":6,"), 1);
  assert_int_equal(count(data, "\"state\":\"timed_out\""), 1);
  free(data);
  j = open_ok(&c, NOW + 2000, &info);
  assert_int_equal(info.history, 5);
  h1 = dump_history(j);
  s1 = dump_state(j);
  assert_string_equal(h1, h0);
  assert_string_equal(s1, s0);
  free(h1);
  free(s1);
  journal_close(j);
  /* 3. The history has no part in dedupe keys, cooldowns or ids: read
   * without one, the same file gives the same state, only no history. */
  struct journal_config c0 = c;
  c0.history = 0;
  j = open_ok(&c0, NOW + 2000, &info);
  assert_int_equal(info.history, 0);
  assert_int_equal(info.next_id, 11);
  s1 = dump_state(j);
  assert_string_equal(s1, s0);
  free(s1);
  h1 = dump_history(j);
  assert_string_equal(dump_ids(h1), "L4 L7");
  free(h1);
  /* Without a history, a skipped one is not written at all. */
  uint64_t a0 = appended(j);
  skipped(j, 11, R_FALLBACK, "fp-11", "x", NOW + 2000);
  assert_int_equal(appended(j), a0);
  journal_close(j);
  /* 4. A smaller history keeps the newest. */
  c0.history = 2;
  j = open_ok(&c0, NOW + 3000, &info);
  assert_int_equal(info.history, 2);
  h1 = dump_history(j);
  assert_string_equal(dump_ids(h1), "L4 L7 F9 F10");
  free(h1);
  journal_close(j);
  free(h0);
  free(s0);
}

/* ledger_history_of(): a remediation for the API, owning its names. */
static int hist_build(void *ctx, const struct journal_rem *jr) {
  struct remediation **out = ctx;
  for (size_t i = 0; i < 8; i++)
    if (!out[i]) {
      out[i] = ledger_history_of(&hl_ruleset, jr);
      assert_non_null(out[i]);
      return 0;
    }
  fail_msg("more than 8 finished");
  return -1;
}

static void test_history_rebuilt(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  c.history = 8;
  struct journal *j = open_ok(&c, NOW, NULL);
  accept(j, 1, R_MULTI, "fp-1", "m", NOW);
  set_state(j, 1, REM_RUNNING, "", NOW + 1, 0, "tok");
  set_state(j, 1, REM_SUCCEEDED, "all 3 steps succeeded", NOW + 5, -1, NULL);
  skipped(j, 2, R_FALLBACK, "fp-2", "limit: 1 of 1 already in flight", NOW + 6);
  journal_close(j);
  j = open_ok(&c, NOW + 10, NULL);
  struct remediation *got[8] = {NULL};
  struct journal_visitor v = {NULL, NULL, NULL, hist_build, NULL};
  assert_int_equal(journal_replay(j, &v, got), 0);
  journal_close(j);           /* the remediations own everything they show */
  struct remediation *r1 = got[0], *r2 = got[1];
  assert_non_null(r1);
  assert_non_null(r2);
  assert_null(got[2]);
  const struct hl_rule *hr = &hl_ruleset.rules[R_MULTI];
  assert_int_equal(r1->id, 1);
  assert_int_equal(r1->rule, R_MULTI);
  assert_string_equal(r1->rule_name, hr->name);
  assert_ptr_not_equal(r1->rule_name, hr->name);
  assert_int_equal(r1->state, REM_SUCCEEDED);
  assert_string_equal(r1->reason, "all 3 steps succeeded");
  assert_int_equal(r1->created_ms, NOW);
  assert_int_equal(r1->updated_ms, NOW + 5);
  assert_null(r1->cooldown_key);
  assert_null(r1->limit_key);
  assert_false(r1->resumed);
  assert_int_equal(r1->nsteps, hr->nsteps);
  for (uint32_t s = 0; s < hr->nsteps; s++) {
    const struct hl_step *hs = &hl_ruleset.steps[hr->first_step + s];
    assert_int_equal(r1->steps[s].kind, hs->action);
    assert_int_equal(r1->steps[s].backend, hs->backend);
    if (hs->target) assert_string_equal(r1->steps[s].target, hs->target);
    else assert_null(r1->steps[s].target);
    assert_int_equal(r1->steps[s].nparams, hs->nparams);
    for (uint32_t k = 0; k < hs->nparams; k++) {
      assert_string_equal(r1->steps[s].params[k].name,
                          hl_ruleset.params[hs->first_param + k].name);
      char want[32];
      snprintf(want, sizeof want, "m-%u", k);
      assert_string_equal(r1->steps[s].params[k].value, want);
    }
  }
  assert_int_equal(r2->id, 2);
  assert_int_equal(r2->state, REM_SKIPPED);
  assert_string_equal(r2->reason, "limit: 1 of 1 already in flight");
  /* Rendered for /api/v1/remediations as any other. */
  struct buf b;
  buf_init(&b);
  store_rem_json(&hl_ruleset, r1, &b);
  assert_non_null(strstr(b.data, "\"id\":1,\"rule\":\"multi_step\",\"alertname\":\"Alert\","
                                 "\"fingerprint\":\"fp-1\""));
  assert_non_null(strstr(b.data, "\"state\":\"succeeded\",\"reason\":\"all 3 steps succeeded\""));
  buf_free(&b);
  rem_unref(r1);
  rem_unref(r2);
}

static void test_history_bounded(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  c.history = 100;
  c.dedupe_ttl_ms = 60000;    /* keep the dedupe keys out of the way */
  struct journal *j = open_ok(&c, NOW, NULL);
  char fp[32];
  int64_t t = NOW;
  /* Far more finished than kept, some out of order, some skipped. */
  for (uint64_t id = 1; id <= 3000; id++, t += 10) {
    snprintf(fp, sizeof fp, "fp-%llu", (unsigned long long)id);
    if (id % 3 == 0) {
      skipped(j, id, R_FALLBACK, fp, "cooldown: 1m left", t);
      continue;
    }
    accept(j, id, R_FALLBACK, fp, fp, t);
    if (id % 3 == 1) continue;            /* finished with the next one */
    set_state(j, id, REM_SUCCEEDED, "ok", t + 1, -1, NULL);
    set_state(j, id - 1, REM_FAILED, "no", t + 2, -1, NULL);
    struct journal_stats st;
    journal_stats(j, &st);
    assert_true(st.history <= 100);
  }
  struct journal_stats st;
  journal_stats(j, &st);
  assert_int_equal(st.history, 100);
  assert_int_equal(st.inflight, 0);
  assert_int_equal(journal_sync(j, JOURNAL_LSN_ALL), 0);
  char *h0 = dump_history(j);
  journal_close(j);
  /* The whole log (3000 remediations) replays into the newest 100. */
  struct journal_open_info info;
  j = open_ok(&c, t, &info);
  assert_int_equal(info.history, 100);
  char *h1 = dump_history(j);
  assert_string_equal(h1, h0);
  assert_int_equal(count(h1, "\nF"), 99);
  assert_true(strncmp(h1, "F2901 ", 6) == 0);          /* 2901..3000 */
  assert_null(strstr(h1, "F2900 "));
  assert_non_null(strstr(h1, "F2998 rule=3/fallback alert=Alert fp=fp-2998 failed \"no\" "));
  assert_non_null(strstr(h1, "F3000 "));
  free(h1);
  assert_int_equal(journal_compact(j, t), 0);
  journal_close(j);
  size_t n;
  char *data = slurp(jpath(), &n);
  assert_int_equal(count(data, "{\"t\":\"fin\","), 100);
  free(data);
  j = open_ok(&c, t, &info);
  assert_int_equal(info.history, 100);
  h1 = dump_history(j);
  assert_string_equal(h1, h0);
  free(h1);
  journal_close(j);
  free(h0);
}

/* A record as a line of the file. */
static void put_rec(struct buf *f, const char *json) {
  buf_printf(f, "%08x %s\n", journal_crc32c(0, json, strlen(json)), json);
}

static void test_history_old_journal(void **state) {
  (void)state;
  /* Written by a healer from before the history: accepts and state changes
   * only, no "fin" and no "ids" records. */
  const struct hl_ruleset *rs = &hl_ruleset;
  const struct hl_rule *hr = &rs->rules[R_FALLBACK];
  const struct hl_step *hs = &rs->steps[hr->first_step];
  struct buf params, f, rec;
  buf_init(&params);
  buf_init(&f);
  buf_init(&rec);
  for (uint32_t k = 0; k < hs->nparams; k++)
    buf_printf(&params, "%s[\"%s\",\"v%u\"]", k ? "," : "",
               rs->params[hs->first_param + k].name, k);
  buf_printf(&rec, "{\"t\":\"hdr\",\"v\":1,\"digest\":\"%s\",\"next_id\":1,\"at\":%lld}",
             rs->digest, (long long)NOW);
  put_rec(&f, rec.data);
  for (int id = 1; id <= 3; id++) {
    buf_reset(&rec);
    buf_printf(&rec, "{\"t\":\"acc\",\"id\":%d,\"rule\":%u,\"rule_name\":\"fallback\","
               "\"alertname\":\"Other\",\"fp\":\"fp-%d\",\"starts_at\":\"%s\","
               "\"status\":\"firing\","
               "\"dry\":0,\"reason\":\"\",\"created\":%lld,\"steps\":[{\"kind\":%d,"
               "\"kind_name\":\"jenkins\",\"target\":\"Fallback\",\"params\":[%s]}]}",
               id, R_FALLBACK, id, T0, (long long)(NOW + id), HL_ACT_JENKINS, params.data);
    put_rec(&f, rec.data);
  }
  buf_reset(&rec);
  buf_printf(&rec, "{\"t\":\"st\",\"id\":1,\"state\":\"running\",\"reason\":\"\",\"at\":%lld,"
             "\"step\":0,\"token\":\"b:http://jenkins/job/Fallback/7/\"}", (long long)(NOW + 10));
  put_rec(&f, rec.data);
  buf_reset(&rec);
  buf_printf(&rec, "{\"t\":\"st\",\"id\":1,\"state\":\"failed\",\"reason\":\"step 1: FAILURE\","
             "\"at\":%lld}", (long long)(NOW + 20));
  put_rec(&f, rec.data);
  buf_reset(&rec);
  buf_printf(&rec, "{\"t\":\"st\",\"id\":3,\"state\":\"dry_run\","
             "\"reason\":\"dry-run (--dry-run)\",\"at\":%lld}", (long long)(NOW + 30));
  put_rec(&f, rec.data);
  assert_false(f.oom || rec.oom || params.oom);
  spit(jpath(), f.data, f.len);
  struct journal_config c = cfg_for(rs);
  c.history = 10;
  struct journal_open_info info;
  struct journal *j = open_ok(&c, NOW + 100, &info);
  assert_false(info.rules_changed);
  assert_false(info.compacted);
  assert_int_equal(info.inflight, 1);
  assert_int_equal(info.history, 2);
  assert_int_equal(info.dedupe, 3);
  assert_int_equal(info.next_id, 4);
  char *h = dump_history(j);
  assert_string_equal(dump_ids(h), "F1 L2 F3");
  assert_non_null(strstr(h, "F1 rule=3/fallback alert=Other fp=fp-1 failed \"step 1: FAILURE\" "
                            "dry=0 c=1 u=20 | jenkins t=Fallback b=- "
                            "a=v0 b=v1 c=v2 d=v3 e=v4 f=v5\n"));
  assert_non_null(strstr(h, "F3 rule=3/fallback alert=Other fp=fp-3 dry_run "
                            "\"dry-run (--dry-run)\" "));
  free(h);
  journal_close(j);
  size_t n;
  char *data = slurp(jpath(), &n);
  assert_int_equal(n, f.len);                 /* read, not rewritten */
  free(data);
  buf_free(&params);
  buf_free(&f);
  buf_free(&rec);
}

static void test_history_rules_changed(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  c.history = 10;
  struct journal *j = open_ok(&c, NOW, NULL);
  accept(j, 1, R_FALLBACK, "fp-1", "x", NOW);       /* its rule will be renamed */
  set_state(j, 1, REM_SUCCEEDED, "ok", NOW + 1, -1, NULL);
  skipped(j, 2, R_FALLBACK, "fp-2", "missing label node", NOW + 2);
  accept(j, 3, R_COOLDOWN, "fp-3", "y", NOW + 3);   /* its rule moves: 4 -> 0 */
  set_state(j, 3, REM_FAILED, "step 1: FAILURE", NOW + 4, -1, NULL);
  accept(j, 4, R_FALLBACK, "fp-4", "z", NOW + 5);   /* in flight: cannot resume */
  journal_close(j);

  static struct hl_rule rules[32];
  const struct hl_ruleset *o = &hl_ruleset;
  assert_true(o->nrules <= 32);
  memcpy(rules, o->rules, o->nrules * sizeof *rules);
  struct hl_rule tmp = rules[0];
  rules[0] = rules[R_COOLDOWN];
  rules[R_COOLDOWN] = tmp;
  rules[R_FALLBACK].name = "fallback_renamed";
  struct hl_ruleset rs2 = *o;
  rs2.digest = "fedcba9876543210";
  rs2.rules = rules;
  struct journal_config c2 = cfg_for(&rs2);
  c2.history = 10;
  struct journal_open_info info;
  log_setup(LOG_TEXT, LOGL_ERROR + 1, 2);    /* the warnings are expected */
  j = open_ok(&c2, NOW + 1000, &info);
  log_setup(LOG_TEXT, LOGL_ERROR, 2);
  assert_true(info.rules_changed);
  assert_int_equal(info.failed, 1);
  assert_int_equal(info.inflight, 0);
  assert_int_equal(info.history, 4);
  char *h = dump_history(j);
  /* They keep the names they were made under; only indices follow. */
  assert_string_equal(dump_ids(h), "F1 F2 F3 F4");
  assert_non_null(strstr(h, "F1 rule=-1/fallback alert=Alert fp=fp-1 succeeded \"ok\" "));
  assert_non_null(strstr(h, "F2 rule=-1/fallback alert=Alert fp=fp-2 skipped "));
  assert_non_null(strstr(h, "F3 rule=0/cooldown_rule alert=Alert fp=fp-3 failed "
                            "\"step 1: FAILURE\" dry=0 c=3 u=4 | jenkins t=CoolJob b=- "));
  assert_non_null(strstr(h, "F4 rule=-1/fallback alert=Alert fp=fp-4 failed \"rules changed: "
                            "rule fallback is no longer built in; not resumed\" dry=0 c=5 u=1000 "
                            "| jenkins t=Fallback b=- a=z-0 "));
  journal_close(j);
  /* Rewritten under the new digest: the same again. */
  j = open_ok(&c2, NOW + 2000, &info);
  assert_false(info.rules_changed);
  char *h2 = dump_history(j);
  assert_string_equal(h2, h);
  free(h2);
  free(h);
  /* A remediation of a rule that is gone still shows what it did. */
  struct remediation *got[8] = {NULL};
  struct journal_visitor v = {NULL, NULL, NULL, hist_build, NULL};
  assert_int_equal(journal_replay(j, &v, got), 0);
  journal_close(j);
  assert_int_equal(got[0]->rule, HL_NONE);
  assert_string_equal(got[0]->rule_name, "fallback");
  assert_string_equal(got[0]->steps[0].target, "Fallback");
  assert_string_equal(got[0]->steps[0].params[5].name, "f");
  for (size_t i = 0; i < 8; i++) rem_unref(got[i]);
}

/* engine_restore(): the store lists the history with the remediations in
 * flight, by id, as before the restart; the finished ones are not queued,
 * and no dedupe key or cooldown comes from them. */
static void test_history_engine_restore(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  c.history = 3;
  struct journal *j = open_ok(&c, NOW, NULL);
  accept(j, 1, R_FALLBACK, "fp-1", "a", NOW);
  set_state(j, 1, REM_SUCCEEDED, "ok", NOW + 1, -1, NULL);
  accept(j, 2, R_FALLBACK, "fp-2", "b", NOW + 2);                /* queued */
  skipped(j, 3, R_COOLDOWN, "fp-3", "cooldown: 10m left", NOW + 3);
  accept(j, 4, R_FALLBACK, "fp-4", "c", NOW + 4);
  set_state(j, 4, REM_FAILED, "step 1: FAILURE", NOW + 5, -1, NULL);
  accept(j, 5, R_FALLBACK, "fp-5", "d", NOW + 6);
  set_state(j, 5, REM_DRY_RUN, "dry-run (--dry-run)", NOW + 7, -1, NULL);
  journal_close(j);

  struct journal_open_info info;
  j = open_ok(&c, NOW + 100, &info);
  struct engine e;
  char err[256];
  struct engine_config ec = {true, 0, 16, 3, 24 * HOUR, 1000, 1000};
  assert_int_equal(engine_init(&e, &hl_ruleset, &ec, err, sizeof err), 0);
  engine_set_journal(&e, j);
  assert_int_equal(engine_restore(&e, j, info.next_id, err, sizeof err), 0);
  char got[256] = "";
  size_t o = 0;
  for (struct remediation *r = e.store.newest; r; r = r->older)
    o += (size_t)snprintf(got + o, sizeof got - o, "%s%llu:%s", o ? " " : "",
                          (unsigned long long)r->id, rem_state_name(r->state));
  assert_string_equal(got, "5:dry_run 4:failed 3:skipped 2:queued");
  assert_int_equal(queue_len(&e.queue), 1);
  struct decide_stats ds;
  decide_stats(&e.decide, &ds);
  assert_int_equal(ds.dedupe, 4);             /* 1, 2, 4, 5: accepted ones */
  assert_int_equal(ds.cooldown, 0);
  struct buf b;
  buf_init(&b);
  store_render_json(&e.store, &hl_ruleset, &b, 10);
  assert_non_null(strstr(b.data, "{\"count\":4,\"remediations\":[{\"id\":5,"));
  assert_non_null(strstr(b.data, "\"state\":\"skipped\",\"reason\":\"cooldown: 10m left\""));
  buf_free(&b);
  engine_free(&e);
  journal_close(j);
}

static void test_directory_lock(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal *j = open_ok(&c, NOW, NULL);
  struct journal *j2 = NULL;
  char err[512];
  assert_int_equal(journal_open(&j2, &c, NOW, NULL, err, sizeof err), -1);
  assert_non_null(strstr(err, "in use by another healer"));
  journal_close(j);
  j = open_ok(&c, NOW, NULL);
  journal_close(j);
  /* A state dir that does not exist yet is created (with parents). */
  char sub[300];
  snprintf(sub, sizeof sub, "%s/a/b", g_dir);
  c.dir = sub;
  j = open_ok(&c, NOW, NULL);
  journal_close(j);
  /* A leftover of an unfinished compaction is ignored and removed. */
  char tmp[320];
  snprintf(tmp, sizeof tmp, "%s/%s.tmp", sub, JOURNAL_FILE);
  spit(tmp, "garbage", 7);
  j = open_ok(&c, NOW, NULL);
  journal_close(j);
  assert_int_equal(access(tmp, F_OK), -1);
}

/* ---- crash simulation ------------------------------------------------------------- */

/* The child appends, syncs and reports each synced id on the pipe, then
 * compacts now and then, until it is killed. */
static void crash_child(int wfd, uint64_t first, unsigned seed) {
  struct journal_config c = cfg_for(&hl_ruleset);
  c.no_fsync = false;
  c.compact_bytes = 16 * 1024;
  struct journal *j = NULL;
  char err[512];
  if (journal_open(&j, &c, NOW, NULL, err, sizeof err) != 0) {
    dprintf(2, "child: %s\n", err);
    _exit(3);
  }
  srand(seed);
  char fp[32];
  for (uint64_t id = first;; id++) {
    snprintf(fp, sizeof fp, "fp-%llu", (unsigned long long)id);
    struct remediation *r = mk(id, id % 2 ? R_MULTI : R_COOLDOWN, fp, fp, NOW);
    uint64_t lsn;
    if (journal_append_accept(j, r, NOW + HOUR, &lsn) != 0) _exit(4);
    rem_unref(r);
    struct journal_state s = {id, REM_RUNNING, "", NOW, 0, "tok", false, false};
    if (rand() % 2 && journal_append_state(j, &s, &lsn) != 0) _exit(5);
    if (journal_sync(j, lsn) != 0) _exit(6);
    if (write(wfd, &id, sizeof id) != (ssize_t)sizeof id) _exit(7);
    if (rand() % 8 == 0 && journal_tick(j, NOW) != 0) _exit(8);
  }
}

struct seen_ids {
  uint64_t max;
  unsigned char *have;
};

static int crash_rem(void *ctx, const struct journal_rem *r) {
  struct seen_ids *s = ctx;
  if (r->id <= s->max) s->have[r->id] = 1;
  return 0;
}

static int crash_dd(void *ctx, const struct journal_dedupe *d) {
  struct seen_ids *s = ctx;
  if (d->id <= s->max) s->have[d->id] = 1;
  return 0;
}

static void test_crash_simulation(void **state) {
  (void)state;
  unsigned seed = (unsigned)getpid();
  srand(seed);
  uint64_t acked_max = 0, next = 1;
  const int rounds = 12;
  size_t torn_seen = 0;
  for (int round = 0; round < rounds; round++) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      close(p[0]);
      crash_child(p[1], next, seed + (unsigned)round);
    }
    close(p[1]);
    /* Let it get going (its first acknowledgement), then kill it at a
     * random point. */
    uint64_t id;
    struct pollfd pfd = {p[0], POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, 20000), 1);
    assert_int_equal(read(p[0], &id, sizeof id), (ssize_t)sizeof id);
    if (id > acked_max) acked_max = id;
    usleep((useconds_t)(rand() % 30000));
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    while (read(p[0], &id, sizeof id) == (ssize_t)sizeof id)
      if (id > acked_max) acked_max = id;
    close(p[0]);
    /* Now and then, a torn tail on top: half a record. */
    if (round % 3 == 2) {
      const char *half = "0badf00d {\"t\":\"acc\",\"id\":99999,\"ru";
      int fd = open(jpath(), O_WRONLY | O_APPEND);
      assert_true(fd >= 0);
      assert_int_equal(write(fd, half, strlen(half)), (ssize_t)strlen(half));
      close(fd);
    }
    struct journal_config c = cfg_for(&hl_ruleset);
    struct journal_open_info info;
    struct journal *j = open_ok(&c, NOW, &info);
    if (info.torn_bytes) torn_seen++;
    assert_int_equal(info.lost_records, 0);
    /* Every acknowledged remediation is there. */
    struct seen_ids s = {acked_max, calloc(acked_max + 2, 1)};
    struct journal_visitor v = {crash_dd, NULL, crash_rem, NULL, NULL};
    assert_int_equal(journal_replay(j, &v, &s), 0);
    for (uint64_t k = 1; k <= acked_max; k++)
      if (!s.have[k]) fail_msg("round %d: acknowledged remediation %llu lost", round,
                               (unsigned long long)k);
    free(s.have);
    next = info.next_id;
    assert_true(next > acked_max);
    journal_close(j);
  }
  assert_true(torn_seen >= (size_t)rounds / 3);
  print_message("crash simulation: %d kills, %llu remediations acknowledged, all replayed; "
                "%zu torn tails cut\n", rounds, (unsigned long long)acked_max, torn_seen);
}

/* ---- threads -------------------------------------------------------------------- */

#define THREADS 8
#define PER_THREAD 400

struct worker_arg {
  struct journal *j;
  uint64_t base;
};

static atomic_int g_running;

static void *appender(void *p) {
  struct worker_arg *a = p;
  char fp[32];
  for (uint64_t i = 0; i < PER_THREAD; i++) {
    uint64_t id = a->base + i;
    snprintf(fp, sizeof fp, "fp-%llu", (unsigned long long)id);
    struct remediation *r = mk(id, R_FALLBACK, fp, "v", NOW);
    uint64_t lsn;
    if (journal_append_accept(a->j, r, 0, &lsn) != 0) abort();
    rem_unref(r);
    if (journal_sync(a->j, lsn) != 0) abort();
    struct journal_state s = {id, REM_RUNNING, "", NOW, 0, "t", false, false};
    if (journal_append_state(a->j, &s, &lsn) != 0) abort();
    if (i % 2) {
      s.state = REM_SUCCEEDED;
      s.step = -1;
      s.token = NULL;
      if (journal_append_state(a->j, &s, &lsn) != 0) abort();
    }
    if (journal_sync(a->j, lsn) != 0) abort();
    if (i % 50 == 0) journal_note_seen(a->j, R_FALLBACK, fp, T0, HL_STATUS_FIRING, NOW + HOUR * 4);
  }
  atomic_fetch_sub(&g_running, 1);
  return NULL;
}

static void test_threads(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  c.compact_bytes = 32 * 1024;
  struct journal *j = open_ok(&c, NOW, NULL);
  pthread_t t[THREADS];
  struct worker_arg a[THREADS];
  atomic_store(&g_running, THREADS);
  for (int i = 0; i < THREADS; i++) {
    a[i].j = j;
    a[i].base = 1 + (uint64_t)i * 100000;
    assert_int_equal(pthread_create(&t[i], NULL, appender, &a[i]), 0);
  }
  /* The main thread compacts meanwhile, as the main loop would (but far
   * more often: appends and syncs go on during each compaction). */
  while (atomic_load(&g_running) > 0) {
    usleep(1000);
    assert_int_equal(journal_tick(j, NOW), 0);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  struct journal_stats st;
  journal_stats(j, &st);
  assert_int_equal(st.inflight, THREADS * PER_THREAD / 2);
  journal_close(j);
  struct journal_open_info info;
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.inflight, THREADS * PER_THREAD / 2);
  assert_int_equal(info.dedupe, THREADS * PER_THREAD);
  assert_int_equal(info.next_id, 1 + (uint64_t)(THREADS - 1) * 100000 + PER_THREAD);
  journal_close(j);
  print_message("threads: %d x %d remediations, %llu syncs for %d sync calls, %llu waited "
                "on another's sync, %llu compactions\n", THREADS, PER_THREAD,
                (unsigned long long)st.syncs, THREADS * PER_THREAD * 2,
                (unsigned long long)st.sync_waits, (unsigned long long)st.compactions);
}

/* ---- ids ----------------------------------------------------------------------- */

static void test_ids_reserved(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal_open_info info;
  /* A journal without "ids" records (as older healers wrote) replays: the
   * next id follows the journaled ones. */
  struct journal *j = open_ok(&c, NOW, &info);
  assert_int_equal(info.next_id, 1);
  accept(j, 5, R_FALLBACK, "fp-5", "v", NOW);
  journal_close(j);
  size_t n;
  char *data = slurp(jpath(), &n);
  assert_null(strstr(data, "\"t\":\"ids\""));
  free(data);
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.next_id, 6);
  /* The first id after a start waits for its reservation (one record up
   * to the end of its block) to be on disk. */
  uint64_t a0 = appended(j);
  assert_int_equal(journal_reserve_id(j, 6), 0);
  assert_int_equal(appended(j), a0 + 1);
  struct journal_stats st;
  journal_stats(j, &st);
  assert_int_equal(st.ids_reserved, JOURNAL_ID_BLOCK);
  assert_int_equal(st.pending_bytes, 0);
  data = slurp(jpath(), &n);
  assert_non_null(strstr(data, "{\"t\":\"ids\",\"next_id\":1024}\n"));
  free(data);
  /* The first half of the block costs nothing. */
  for (uint64_t id = 7; id < JOURNAL_ID_BLOCK / 2; id++)
    assert_int_equal(journal_reserve_id(j, id), 0);
  assert_int_equal(appended(j), a0 + 1);
  /* Half-way, the next block is reserved ahead, without waiting: the
   * record rides on the next sync. */
  assert_int_equal(journal_reserve_id(j, JOURNAL_ID_BLOCK / 2), 0);
  assert_int_equal(appended(j), a0 + 2);
  journal_stats(j, &st);
  assert_true(st.pending_bytes > 0);
  assert_int_equal(st.ids_reserved, JOURNAL_ID_BLOCK);
  for (uint64_t id = JOURNAL_ID_BLOCK / 2 + 1; id < JOURNAL_ID_BLOCK; id++)
    assert_int_equal(journal_reserve_id(j, id), 0);
  assert_int_equal(appended(j), a0 + 2);
  assert_int_equal(journal_tick(j, NOW), 0);
  journal_stats(j, &st);
  assert_int_equal(st.pending_bytes, 0);
  assert_int_equal(st.ids_reserved, 2 * JOURNAL_ID_BLOCK);
  /* Ids 6..1023 were shown (say, skipped remediations) but never
   * journaled: a restart must not hand them out again. */
  journal_close(j);
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.next_id, 2 * JOURNAL_ID_BLOCK);
  /* Reserved ahead but not yet synced when an id of it is needed: the
   * caller waits for it. */
  assert_int_equal(journal_reserve_id(j, 2048), 0);   /* up to 3072, synced */
  assert_int_equal(journal_reserve_id(j, 2600), 0);   /* up to 4096, pending */
  journal_stats(j, &st);
  assert_int_equal(st.ids_reserved, 3072);
  assert_int_equal(journal_reserve_id(j, 3072), 0);   /* must be on disk */
  journal_stats(j, &st);
  assert_int_equal(st.ids_reserved, 4096);
  assert_int_equal(st.pending_bytes, 0);
  assert_int_equal(journal_reserve_id(j, 5000), 0);   /* a jump: reserved, waited */
  journal_stats(j, &st);
  assert_int_equal(st.ids_reserved, 6144);
  journal_close(j);
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.next_id, 6144);
  /* A snapshot carries the reservation in its header. */
  assert_int_equal(journal_compact(j, NOW), 0);
  journal_close(j);
  data = slurp(jpath(), &n);
  assert_null(strstr(data, "\"t\":\"ids\""));
  assert_non_null(strstr(data, "\"next_id\":6144"));
  free(data);
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.next_id, 6144);
  assert_int_equal(info.inflight, 1);
  journal_close(j);
  /* A bad "ids" record is corruption like any other. */
  char rec[128], line[160];
  snprintf(rec, sizeof rec, "{\"t\":\"ids\",\"next_id\":0}");
  snprintf(line, sizeof line, "%08x %s\n", journal_crc32c(0, rec, strlen(rec)), rec);
  int fd = open(jpath(), O_WRONLY | O_APPEND);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
  close(fd);
  struct journal *bad = NULL;
  char err[512];
  assert_int_equal(journal_open(&bad, &c, NOW, NULL, err, sizeof err), -1);
  assert_non_null(strstr(err, "field \"next_id\""));
}

#define ID_THREADS 4
#define IDS_PER_THREAD 3000

struct id_arg {
  struct journal *j;
  atomic_ullong *next;
};

static void *id_taker(void *p) {
  struct id_arg *a = p;
  for (int i = 0; i < IDS_PER_THREAD; i++) {
    uint64_t id = atomic_fetch_add(a->next, 1);
    if (journal_reserve_id(a->j, id) != 0) abort();
    /* Reserved on disk before it is used. */
    struct journal_stats st;
    journal_stats(a->j, &st);
    if (st.ids_reserved <= id) abort();
  }
  return NULL;
}

static void test_ids_reserved_threads(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal_open_info info;
  struct journal *j = open_ok(&c, NOW, &info);
  atomic_ullong next;
  atomic_init(&next, info.next_id);
  pthread_t t[ID_THREADS];
  struct id_arg a = {j, &next};
  for (int i = 0; i < ID_THREADS; i++)
    assert_int_equal(pthread_create(&t[i], NULL, id_taker, &a), 0);
  for (int i = 0; i < ID_THREADS; i++) pthread_join(t[i], NULL);
  uint64_t last = atomic_load(&next) - 1;   /* 12000 */
  /* One record per block, whatever the interleaving: the first, then one
   * each time the ids pass the middle of a block. */
  uint64_t blocks = (last + JOURNAL_ID_BLOCK / 2) / JOURNAL_ID_BLOCK + 1;
  assert_int_equal(appended(j), blocks);
  journal_close(j);
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.next_id, blocks * JOURNAL_ID_BLOCK);
  journal_close(j);
}

/* ---- a real write failure ---------------------------------------------------------- */

/* RLIMIT_FSIZE (ulimit -f), with SIGXFSZ ignored as healer does: a write
 * past the limit fails with EFBIG. The journal must fail, say why, and
 * make healer unready, with the figures in /metrics. */
static void test_write_failure_unready(void **state) {
  (void)state;
  struct journal_config c = cfg_for(&hl_ruleset);
  struct journal *j = open_ok(&c, NOW, NULL);
  char fp[32];
  /* Grow the journal first, so the limit below stays far above the size
   * of anything else this process writes (stderr may be a file). */
  for (uint64_t id = 1; id <= 100; id++) {
    snprintf(fp, sizeof fp, "fp-%llu", (unsigned long long)id);
    accept(j, id, R_FALLBACK, fp, "v", NOW);
  }
  assert_int_equal(journal_sync(j, JOURNAL_LSN_ALL), 0);
  struct engine e;
  memset(&e, 0, sizeof e);
  atomic_store(&e.ready, true);
  e.journal = j;
  char why[JOURNAL_WHY_MAX];
  assert_null(engine_unready(&e, why, sizeof why));
  assert_string_equal(why, "");
  assert_false(journal_failure(j, why, sizeof why));

  void (*was_handler)(int) = signal(SIGXFSZ, SIG_IGN);
  struct rlimit was, lim;
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &was), 0);
  lim.rlim_cur = (rlim_t)file_size(jpath()) + 1500;
  lim.rlim_max = was.rlim_max;
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
  int rc = 0;
  uint64_t appended = 0;      /* accepts appended, the last one unsynced */
  for (uint64_t id = 101; id <= 120 && rc == 0; id++) {
    snprintf(fp, sizeof fp, "fp-%llu", (unsigned long long)id);
    struct remediation *r = mk(id, R_FALLBACK, fp, "v", NOW);
    uint64_t lsn = 0;
    rc = journal_append_accept(j, r, 0, &lsn);
    if (rc == 0) appended++;
    if (rc == 0) rc = journal_sync(j, lsn);
    rem_unref(r);
  }
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &was), 0);
  signal(SIGXFSZ, was_handler);
  assert_int_equal(rc, -1);

  assert_true(journal_failure(j, why, sizeof why));
  char want[512];
  snprintf(want, sizeof want, "journal %s/%s: write failed: %s", g_dir, JOURNAL_FILE,
           strerror(EFBIG));
  assert_string_equal(why, want);
  char why2[JOURNAL_WHY_MAX];
  assert_string_equal(engine_unready(&e, why2, sizeof why2), "journal_failed");
  assert_string_equal(why2, want);
  /* Sticky: nothing more is accepted, no id block reserved. */
  struct remediation *r = mk(500, R_FALLBACK, "fp-500", "v", NOW);
  assert_int_equal(journal_append_accept(j, r, 0, NULL), -1);
  rem_unref(r);
  assert_int_equal(journal_reserve_id(j, 1), -1);
  assert_int_equal(journal_sync(j, JOURNAL_LSN_ALL), -1);
  /* But what happens to a remediation already accepted is kept for the
   * re-probe: #1 finishes while the journal is down (dropped, it would be
   * resumed by the next start and finish twice). */
  struct journal_state done = {1, REM_SUCCEEDED, "done", NOW + 5, -1, NULL, false, false};
  uint64_t done_lsn = 0;
  assert_int_equal(journal_append_state(j, &done, &done_lsn), 0);
  assert_true(done_lsn > 0);
  assert_int_equal(journal_sync(j, done_lsn), -1);
  /* Draining still says draining. */
  atomic_store(&e.draining, true);
  assert_string_equal(engine_unready(&e, why2, sizeof why2), "draining");
  assert_string_equal(why2, "");

  /* /metrics: failed, and not ready. */
  struct metrics m;
  assert_int_equal(metrics_init(&m, &hl_ruleset, NOW), 0);
  struct metrics_gauges g;
  memset(&g, 0, sizeof g);
  g.ready = 1;
  g.journal = true;
  journal_stats(j, &g.js);
  assert_true(g.js.failed);
  assert_true(g.js.inflight >= 100);
  struct buf b;
  buf_init(&b);
  metrics_render(&m, &g, &b);
  assert_non_null(strstr(b.data, "\nhealer_journal_failed 1\n"));
  assert_non_null(strstr(b.data, "\nhealer_ready 0\n"));
  buf_free(&b);
  metrics_free(&m);
  /* Room again (the limit is gone): the next tick cuts what the failed
   * write left, writes the batch again and clears the failure, with no
   * restart; the accept whose sync failed is on disk. */
  assert_int_equal(journal_tick(j, NOW), 0);
  assert_false(journal_failure(j, why, sizeof why));
  assert_string_equal(why, "");
  atomic_store(&e.draining, false);
  assert_null(engine_unready(&e, why2, sizeof why2));
  accept(j, 900, R_FALLBACK, "fp-900", "v", NOW);
  assert_int_equal(journal_sync(j, JOURNAL_LSN_ALL), 0);
  journal_close(j);
  struct journal_open_info info;
  j = open_ok(&c, NOW, &info);
  assert_int_equal(info.torn_bytes, 0);
  assert_int_equal(info.inflight, 100 + appended + 1 - 1);   /* #1 finished */
  journal_close(j);

  /* Failed again, then restarted without the limit: the torn tail is cut,
   * it works again. */
  j = open_ok(&c, NOW, &info);
  signal(SIGXFSZ, SIG_IGN);
  lim.rlim_cur = (rlim_t)file_size(jpath()) + 1500;
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
  rc = 0;
  for (uint64_t id = 1001; id <= 1020 && rc == 0; id++) {
    snprintf(fp, sizeof fp, "fp-%llu", (unsigned long long)id);
    struct remediation *r2 = mk(id, R_FALLBACK, fp, "v", NOW);
    uint64_t lsn = 0;
    rc = journal_append_accept(j, r2, 0, &lsn);
    if (rc == 0) rc = journal_sync(j, lsn);
    rem_unref(r2);
  }
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &was), 0);
  signal(SIGXFSZ, was_handler);
  assert_int_equal(rc, -1);
  journal_close(j);
  j = open_ok(&c, NOW, &info);
  assert_true(info.inflight >= 100);
  assert_false(journal_failure(j, NULL, 0));
  accept(j, info.next_id, R_FALLBACK, "fp-after", "v", NOW);
  assert_int_equal(journal_sync(j, JOURNAL_LSN_ALL), 0);
  journal_close(j);
}

static void test_crc32c(void **state) {
  (void)state;
  /* The standard check value of CRC-32C. */
  assert_int_equal(journal_crc32c(0, "123456789", 9), 0xe3069283u);
  assert_int_equal(journal_crc32c(journal_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
  assert_int_equal(journal_crc32c(0, "", 0), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_crc32c),
      cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_control_values, setup, teardown),
      cmocka_unit_test_setup_teardown(test_resume_tokens, setup, teardown),
      cmocka_unit_test_setup_teardown(test_succeed_on_from_tables, setup, teardown),
      cmocka_unit_test_setup_teardown(test_picked_backend_restored, setup, teardown),
      cmocka_unit_test_setup_teardown(test_torn_last_record, setup, teardown),
      cmocka_unit_test_setup_teardown(test_damaged_tail, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_middle_record, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cooldown_survives_restart, setup, teardown),
      cmocka_unit_test_setup_teardown(test_seen_keeps_dedupe_alive, setup, teardown),
      cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
      cmocka_unit_test_setup_teardown(test_compaction_keeps_live_state, setup, teardown),
      cmocka_unit_test_setup_teardown(test_compaction_bounds_size, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rules_changed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_history_kept, setup, teardown),
      cmocka_unit_test_setup_teardown(test_history_rebuilt, setup, teardown),
      cmocka_unit_test_setup_teardown(test_history_bounded, setup, teardown),
      cmocka_unit_test_setup_teardown(test_history_old_journal, setup, teardown),
      cmocka_unit_test_setup_teardown(test_history_rules_changed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_history_engine_restore, setup, teardown),
      cmocka_unit_test_setup_teardown(test_directory_lock, setup, teardown),
      cmocka_unit_test_setup_teardown(test_crash_simulation, setup, teardown),
      cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ids_reserved, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ids_reserved_threads, setup, teardown),
      cmocka_unit_test_setup_teardown(test_write_failure_unready, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
