/*
 * metrics.c - see metrics.h.
 */
#include "metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "backend.h"

static const unsigned http_codes[METRICS_NHTTP - 1] = {
#define HX(c) c,
    METRICS_HTTP_CODES(HX)
#undef HX
};

static const char *const suppress_names[SUP__COUNT] = {
#define MX(id, name) [SUP_##id] = name,
    METRICS_SUPPRESS(MX)
#undef MX
};

#define ADD(p) atomic_fetch_add_explicit((p), 1, memory_order_relaxed)
#define GET(p) atomic_load_explicit((p), memory_order_relaxed)

int metrics_init(struct metrics *m, const struct hl_ruleset *rs, int64_t now_ms) {
  memset(m, 0, sizeof *m);
  m->rs = rs;
  m->start_ms = now_ms;
  size_t n = rs->nrules ? rs->nrules : 1;
  m->matches = calloc(n, sizeof *m->matches);
  m->created = calloc(n, sizeof *m->created);
  m->outcomes = calloc(n * REM__COUNT, sizeof *m->outcomes);
  m->suppressed = calloc(n * SUP__COUNT, sizeof *m->suppressed);
  m->durations = calloc(n * REM__COUNT, sizeof *m->durations);
  m->kinds = calloc(n, sizeof *m->kinds);
  if (!m->matches || !m->created || !m->outcomes || !m->suppressed ||
      !m->durations || !m->kinds) {
    metrics_free(m);
    return -1;
  }
  for (size_t i = 0; i < METRICS_NHTTP; i++) hist_init(&m->webhook[i], &hist_fast);
  hist_init(&m->journal_commit, &hist_fast);
  for (size_t i = 0; i < n * REM__COUNT; i++) hist_init(&m->durations[i], &hist_long);
  /* The kind label of a rule's durations: its steps' kinds in order, each
   * once ("jenkins", "webhook+jenkins"). */
  for (uint32_t r = 0; r < rs->nrules; r++) {
    const struct hl_rule *ru = &rs->rules[r];
    char *k = m->kinds[r];
    size_t cap = sizeof m->kinds[r];
    for (uint32_t i = 0; i < ru->nsteps; i++) {
      char w[REM_KIND_MAX];
      rem_kind_name(rs->steps[ru->first_step + i].action, w);
      bool seen = false;
      for (uint32_t j = 0; j < i && !seen; j++) {
        char v[REM_KIND_MAX];
        seen = strcmp(rem_kind_name(rs->steps[ru->first_step + j].action, v), w) == 0;
      }
      size_t len = strlen(k);
      if (!seen) snprintf(k + len, cap - len, "%s%s", len ? "+" : "", w);
    }
  }
  return 0;
}

void metrics_free(struct metrics *m) {
  free(m->matches);
  free(m->created);
  free(m->outcomes);
  free(m->suppressed);
  free(m->durations);
  free(m->kinds);
  m->matches = m->created = m->outcomes = m->suppressed = NULL;
  m->durations = NULL;
  m->kinds = NULL;
}

void metrics_alert(struct metrics *m, uint8_t status) {
  ADD(&m->alerts[status == HL_STATUS_RESOLVED]);
}

void metrics_match(struct metrics *m, uint32_t rule) {
  if (rule < m->rs->nrules) ADD(&m->matches[rule]);
}

void metrics_created(struct metrics *m, uint32_t rule) {
  if (rule < m->rs->nrules) ADD(&m->created[rule]);
}

void metrics_outcome(struct metrics *m, uint32_t rule, enum rem_state st) {
  if (rule < m->rs->nrules && st < REM__COUNT) ADD(&m->outcomes[rule * REM__COUNT + st]);
}

void metrics_suppressed(struct metrics *m, uint32_t rule, enum metrics_suppress why) {
  if (rule < m->rs->nrules && why < SUP__COUNT)
    ADD(&m->suppressed[rule * SUP__COUNT + why]);
}

/* The slot of an HTTP status code in http[] and webhook[]. */
static size_t code_slot(unsigned code) {
  size_t i = 0;
  while (i < METRICS_NHTTP - 1 && http_codes[i] != code) i++;
  return i;
}

void metrics_http(struct metrics *m, unsigned code) { ADD(&m->http[code_slot(code)]); }

void metrics_webhook(struct metrics *m, unsigned code, int64_t us) {
  hist_observe_us(&m->webhook[code_slot(code)], us);
}

void metrics_duration(struct metrics *m, uint32_t rule, enum rem_state st,
                      int64_t ms) {
  if (rule < m->rs->nrules && st < REM__COUNT && rem_state_final(st))
    hist_observe_us(&m->durations[rule * REM__COUNT + st], ms * 1000);
}

static void head(struct buf *o, const char *name, const char *type,
                 const char *help) {
  buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void rule_label(struct buf *o, const struct hl_ruleset *rs, uint32_t r) {
  buf_puts(o, "rule=\"");
  buf_prom_label(o, rs->rules[r].name);
  buf_putc(o, '"');
}

/* The journal's figures (journal_stats()). */
static void journal_render(struct buf *o, const struct journal_stats *js) {
  head(o, "healer_journal_records_appended_total", "counter",
       "Records appended to the journal since start-up.");
  buf_printf(o, "healer_journal_records_appended_total %llu\n",
             (unsigned long long)js->appended);
  head(o, "healer_journal_syncs_total", "counter",
       "Group commits: batches of records written and fdatasync'd.");
  buf_printf(o, "healer_journal_syncs_total %llu\n", (unsigned long long)js->syncs);
  head(o, "healer_journal_sync_waits_total", "counter",
       "Syncs that waited for another request's group commit.");
  buf_printf(o, "healer_journal_sync_waits_total %llu\n",
             (unsigned long long)js->sync_waits);
  head(o, "healer_journal_bytes", "gauge", "Bytes written to the journal file.");
  buf_printf(o, "healer_journal_bytes %llu\n", (unsigned long long)js->file_bytes);
  head(o, "healer_journal_snapshot_bytes", "gauge",
       "Size of the last snapshot the journal was compacted into (0: none yet).");
  buf_printf(o, "healer_journal_snapshot_bytes %llu\n",
             (unsigned long long)js->snapshot_bytes);
  head(o, "healer_journal_compactions_total", "counter",
       "Compactions of the journal into a snapshot since start-up.");
  buf_printf(o, "healer_journal_compactions_total %llu\n",
             (unsigned long long)js->compactions);
  head(o, "healer_journal_last_compaction_seconds", "gauge",
       "How long the last compaction took, start to rename (0: none yet).");
  buf_printf(o, "healer_journal_last_compaction_seconds %.6f\n",
             (double)js->compact_us / 1e6);
  head(o, "healer_journal_last_compaction_pause_seconds", "gauge",
       "How long the last compaction held appends and syncs back (0: none yet).");
  buf_printf(o, "healer_journal_last_compaction_pause_seconds %.6f\n",
             (double)js->compact_lock_us / 1e6);
  head(o, "healer_journal_remediations_in_flight", "gauge",
       "Queued or running remediations the journal holds.");
  buf_printf(o, "healer_journal_remediations_in_flight %zu\n", js->inflight);
  head(o, "healer_journal_dedupe_entries", "gauge",
       "Dedupe keys the journal holds.");
  buf_printf(o, "healer_journal_dedupe_entries %zu\n", js->dedupe);
  head(o, "healer_journal_cooldown_entries", "gauge", "Cooldowns the journal holds.");
  buf_printf(o, "healer_journal_cooldown_entries %zu\n", js->cooldowns);
  head(o, "healer_journal_failed", "gauge",
       "1 once a journal write or fsync failed: webhooks get 503 until a restart.");
  buf_printf(o, "healer_journal_failed %d\n", js->failed ? 1 : 0);
}

/* The process_* metrics of Prometheus' client libraries, from /proc (see
 * proc(5): /proc/self/stat fields 14, 15, 22, 23 and 24; /proc/stat btime),
 * under the names and units those libraries use. */
static void process_render(struct buf *o) {
  long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
  char st[1024];
  FILE *f = fopen("/proc/self/stat", "r");
  size_t n = f ? fread(st, 1, sizeof st - 1, f) : 0;
  if (f) fclose(f);
  st[n] = '\0';
  /* The command name may hold blanks and parentheses: fields start after
   * the last ')'. */
  const char *p = strrchr(st, ')');
  unsigned long long utime = 0, stime = 0, start = 0, vsize = 0;
  long long rss = 0;
  bool stat_ok = p && tick > 0 &&
                 sscanf(p + 1,
                        " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu"
                        " %*d %*d %*d %*d %*d %*d %llu %llu %lld",
                        &utime, &stime, &start, &vsize, &rss) == 5;
  unsigned long long btime = 0;
  bool btime_ok = false;
  if ((f = fopen("/proc/stat", "r"))) {
    char line[256];
    while (!btime_ok && fgets(line, sizeof line, f))
      btime_ok = sscanf(line, "btime %llu", &btime) == 1;
    fclose(f);
  }
  if (stat_ok) {
    head(o, "process_cpu_seconds_total", "counter",
         "CPU time used, user and system, in seconds.");
    buf_printf(o, "process_cpu_seconds_total %.2f\n", (double)(utime + stime) / (double)tick);
    head(o, "process_resident_memory_bytes", "gauge", "Memory held in RAM (the resident set), in bytes.");
    buf_printf(o, "process_resident_memory_bytes %lld\n", rss * (long long)page);
    head(o, "process_virtual_memory_bytes", "gauge", "Size of the virtual address space, in bytes.");
    buf_printf(o, "process_virtual_memory_bytes %llu\n", vsize);
    if (btime_ok) {
      head(o, "process_start_time_seconds", "gauge",
           "When the process started, in seconds since the Unix epoch.");
      buf_printf(o, "process_start_time_seconds %.2f\n",
                 (double)btime + (double)start / (double)tick);
    }
  }
  DIR *d = opendir("/proc/self/fd");
  if (d) {
    long fds = 0;
    for (struct dirent *e; (e = readdir(d));)
      if (e->d_name[0] != '.') fds++;
    closedir(d);
    head(o, "process_open_fds", "gauge", "File descriptors open now.");
    buf_printf(o, "process_open_fds %ld\n", fds - 1); /* not the one reading */
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    head(o, "process_max_fds", "gauge", "The limit on open file descriptors (RLIMIT_NOFILE, soft).");
    if (rl.rlim_cur == RLIM_INFINITY)
      buf_puts(o, "process_max_fds +Inf\n");
    else
      buf_printf(o, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
  }
}

void metrics_render(struct metrics *m, const struct metrics_gauges *g,
                    struct buf *o) {
  const struct hl_ruleset *rs = m->rs;
  head(o, "healer_build_info", "gauge",
       "Version of healer and digest of the rules built into it.");
  buf_puts(o, "healer_build_info{version=\"" HEALER_VERSION "\",rules_digest=\"");
  buf_prom_label(o, rs->digest ? rs->digest : "");
  buf_puts(o, "\",generator=\"");
  buf_prom_label(o, rs->generator ? rs->generator : "");
  buf_printf(o, "\",abi=\"%u\",rules=\"%u\"} 1\n", rs->abi_version, rs->nrules);

  head(o, "healer_start_time_seconds", "gauge", "Start time of the process.");
  buf_printf(o, "healer_start_time_seconds %.3f\n", (double)m->start_ms / 1000.0);
  head(o, "healer_ready", "gauge", "1 when healer accepts webhooks.");
  buf_printf(o, "healer_ready %d\n",
             g->ready && !g->draining && !(g->journal && g->js.failed));

  if (g->safety) {
    struct safety_pause_info pi;
    safety_pause_state(g->safety, &pi);
    head(o, "healer_paused", "gauge",
         "1 while remediations are paused (POST /api/v1/pause, --pause).");
    buf_printf(o, "healer_paused %d\n", pi.paused);
    head(o, "healer_rule_breaker_open", "gauge",
         "1 while a rule's breaker is open (stop after N failures in DUR), by rule.");
    for (uint32_t r = 0; r < rs->nrules; r++) {
      if (!rs->rules[r].breaker_failures) continue;
      buf_puts(o, "healer_rule_breaker_open{");
      rule_label(o, rs, r);
      buf_printf(o, "} %d\n", safety_breaker_open(g->safety, r, g->now_ms));
    }
  }

  head(o, "healer_alerts_received_total", "counter",
       "Alerts received in webhook payloads, by alert status.");
  buf_printf(o, "healer_alerts_received_total{status=\"firing\"} %llu\n",
             GET(&m->alerts[0]));
  buf_printf(o, "healer_alerts_received_total{status=\"resolved\"} %llu\n",
             GET(&m->alerts[1]));
  head(o, "healer_alerts_unmatched_total", "counter",
       "Firing alerts that no rule matched.");
  buf_printf(o, "healer_alerts_unmatched_total %llu\n", GET(&m->unmatched));
  head(o, "healer_payloads_accepted_total", "counter",
       "Webhook payloads decoded and evaluated.");
  buf_printf(o, "healer_payloads_accepted_total %llu\n", GET(&m->payloads));

  head(o, "healer_rule_matches_total", "counter",
       "Alerts that matched a rule (status, matchers and windows).");
  for (uint32_t r = 0; r < rs->nrules; r++) {
    buf_puts(o, "healer_rule_matches_total{");
    rule_label(o, rs, r);
    buf_printf(o, "} %llu\n", GET(&m->matches[r]));
  }
  head(o, "healer_remediations_created_total", "counter",
       "Remediations accepted and queued, by rule.");
  for (uint32_t r = 0; r < rs->nrules; r++) {
    buf_puts(o, "healer_remediations_created_total{");
    rule_label(o, rs, r);
    buf_printf(o, "} %llu\n", GET(&m->created[r]));
  }
  head(o, "healer_remediations_total", "counter",
       "Remediations that reached a final state, by rule and outcome.");
  for (uint32_t r = 0; r < rs->nrules; r++)
    for (int s = REM_SUCCEEDED; s < REM__COUNT; s++) {
      buf_puts(o, "healer_remediations_total{");
      rule_label(o, rs, r);
      buf_printf(o, ",outcome=\"%s\"} %llu\n", rem_state_name((enum rem_state)s),
                 GET(&m->outcomes[r * REM__COUNT + (unsigned)s]));
    }
  head(o, "healer_suppressed_total", "counter",
       "Matches that did not become a remediation, by rule and reason.");
  for (uint32_t r = 0; r < rs->nrules; r++)
    for (int s = 0; s < SUP__COUNT; s++) {
      buf_puts(o, "healer_suppressed_total{");
      rule_label(o, rs, r);
      buf_printf(o, ",reason=\"%s\"} %llu\n", suppress_names[s],
                 GET(&m->suppressed[r * SUP__COUNT + (unsigned)s]));
    }

  head(o, "healer_queue_depth", "gauge", "Remediations waiting for a worker.");
  buf_printf(o, "healer_queue_depth %zu\n", g->queue_depth);
  head(o, "healer_queue_capacity", "gauge", "Size of the queue (--queue-size).");
  buf_printf(o, "healer_queue_capacity %zu\n", g->queue_capacity);
  head(o, "healer_remediations_running", "gauge", "Remediations being run.");
  buf_printf(o, "healer_remediations_running %zu\n", g->running);
  head(o, "healer_remediations_stored", "gauge",
       "Remediations listed by /api/v1/remediations.");
  buf_printf(o, "healer_remediations_stored %zu\n", g->stored);
  head(o, "healer_dedupe_entries", "gauge", "Alerts remembered for deduplication.");
  buf_printf(o, "healer_dedupe_entries %zu\n", g->dedupe_entries);
  head(o, "healer_cooldown_entries", "gauge", "Cooldown keys remembered.");
  buf_printf(o, "healer_cooldown_entries %zu\n", g->cooldown_entries);

  if (g->journal) {
    journal_render(o, &g->js);
    head(o, "healer_journal_commit_duration_seconds", "histogram",
         "Group commits: writing a batch of records and fdatasync'ing it.");
    hist_render(o, "healer_journal_commit_duration_seconds", "", &m->journal_commit);
  }

  head(o, "healer_http_requests_total", "counter", "HTTP requests answered, by status code.");
  for (size_t i = 0; i < METRICS_NHTTP; i++) {
    if (i < METRICS_NHTTP - 1)
      buf_printf(o, "healer_http_requests_total{code=\"%u\"} %llu\n", http_codes[i],
                 GET(&m->http[i]));
    else
      buf_printf(o, "healer_http_requests_total{code=\"other\"} %llu\n", GET(&m->http[i]));
  }

  /* Histograms: a series once it has an observation (the webhook's 202
   * always, so the family is never empty). */
  head(o, "healer_webhook_duration_seconds", "histogram",
       "Webhooks, from the request's first callback to the answer (the "
       "journal commit included), by status code.");
  for (size_t i = 0; i < METRICS_NHTTP; i++) {
    if (i != code_slot(202) && hist_count(&m->webhook[i]) == 0) continue;
    char labels[32];
    if (i < METRICS_NHTTP - 1)
      snprintf(labels, sizeof labels, "code=\"%u\"", http_codes[i]);
    else
      snprintf(labels, sizeof labels, "code=\"other\"");
    hist_render(o, "healer_webhook_duration_seconds", labels, &m->webhook[i]);
  }
  head(o, "healer_remediation_duration_seconds", "histogram",
       "Remediations, from the start of their first step to their final "
       "state, by rule, action kinds and outcome.");
  struct buf lb;
  buf_init(&lb);
  for (uint32_t r = 0; r < rs->nrules; r++)
    for (int s = REM_SUCCEEDED; s < REM__COUNT; s++) {
      const struct hist *h = &m->durations[r * REM__COUNT + (unsigned)s];
      if (hist_count(h) == 0) continue;
      buf_reset(&lb);
      rule_label(&lb, rs, r);
      buf_puts(&lb, ",kind=\"");
      buf_prom_label(&lb, m->kinds[r]);
      buf_printf(&lb, "\",outcome=\"%s\"", rem_state_name((enum rem_state)s));
      if (!lb.oom) hist_render(o, "healer_remediation_duration_seconds", lb.data, h);
    }
  buf_free(&lb);
  backend_metrics_render(o);
  process_render(o);
}
