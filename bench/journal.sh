#!/usr/bin/env bash
# journal.sh - what the journal costs (runtime/journal.c).
#
# Prints, on the file system of STATE (default: build/bench-journal, on the
# repository's disk; tmpfs would hide the fsync):
#   1. one remediation accepted and made durable (append + fdatasync), one
#      thread: mean, p50 and p99 latency; the baseline in the same run is
#      the same append + write without fdatasync;
#   2. a webhook with 10 alerts: one fdatasync for the request (group
#      commit) against one per alert;
#   3. group commit under concurrency: 1, 4 and 16 threads each accepting
#      and syncing in a loop: durable remediations per second and how many
#      of them shared an fdatasync;
#   4. compaction and replay of a large live state (100,000 dedupe keys,
#      20,000 cooldowns, 1,000 in flight): time and file size, and the
#      slowest durable accept of 4 threads while it compacts.
#
#   bench/journal.sh [SECONDS_PER_THREAD_RUN]     default 2
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-2}
make --no-print-directory -s bin/healer-fixture >/dev/null
STATE=${STATE:-build/bench-journal}
rm -rf "$STATE"
mkdir -p "$STATE"
work=$(mktemp -d)
trap 'rm -rf "$work" "$STATE"' EXIT

cat >"$work/bench.c" <<'EOF'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"
#include "journal.h"
#include "log.h"
#include "rem.h"
#include "rtime.h"

static const char *dir;
static int64_t now0;

static double mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static struct journal *jopen(const char *sub, bool no_fsync) {
  char path[512], err[512];
  snprintf(path, sizeof path, "%s/%s", dir, sub);
  struct journal_config c = {path, &hl_ruleset, false, no_fsync, (uint64_t)64 << 20,
                             24 * 3600000, 1000000};
  struct journal *j;
  struct journal_open_info info;
  if (journal_open(&j, &c, now0, &info, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    exit(1);
  }
  return j;
}

/* A remediation of the fixture's it_prune rule (jenkins, 3 parameters). */
static struct remediation *mk(uint64_t id) {
  const struct hl_rule *hr = &hl_ruleset.rules[15];
  const struct hl_step *hs = &hl_ruleset.steps[hr->first_step];
  char fp[32], node[32];
  snprintf(fp, sizeof fp, "%016llx", (unsigned long long)id * 2654435761u);
  snprintf(node, sizeof node, "node-%llu", (unsigned long long)id % 500);
  struct rem_param params[3] = {{hl_ruleset.params[hs->first_param].name, node},
                                {hl_ruleset.params[hs->first_param + 1].name, "prod-eu-1"},
                                {hl_ruleset.params[hs->first_param + 2].name, "93%"}};
  struct rem_step step = {hs->action, hs->backend, hs->target, 3, params};
  struct alert a = {HL_STATUS_FIRING, "HealerTest", fp, "2026-11-27T12:10:15.696335593Z",
                    "", "", NULL, 0, NULL, 0};
  char ck[64];
  snprintf(ck, sizeof ck, "15\x1fnode-%llu", (unsigned long long)id);
  struct rem_draft d = {15, hr->name, &a, REM_DRY_NO, 1, &step, ck, NULL};
  return rem_new(&d, id, REM_QUEUED, "", now0);
}

static uint64_t accept(struct journal *j, uint64_t id) {
  struct remediation *r = mk(id);
  uint64_t lsn = 0;
  if (journal_append_accept(j, r, now0 + 3600000, &lsn) != 0) exit(2);
  rem_unref(r);
  return lsn;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* n accepts, each synced: mean/p50/p99 microseconds. */
static void latency(const char *name, bool no_fsync, int n, double *mean_out) {
  struct journal *j = jopen(name, no_fsync);
  double *lat = malloc(n * sizeof *lat), sum = 0;
  for (int i = 0; i < n; i++) {
    double t = mono_us();
    journal_sync(j, accept(j, (uint64_t)i + 1));
    lat[i] = mono_us() - t;
    sum += lat[i];
  }
  qsort(lat, n, sizeof *lat, cmp_d);
  printf("  %-34s %8.1f us mean  %8.1f p50  %8.1f p99   (%d ops)\n", name, sum / n,
         lat[n / 2], lat[n * 99 / 100], n);
  *mean_out = sum / n;
  free(lat);
  journal_close(j);
}

/* Webhooks of k alerts: one sync per request, or one per alert. */
static double webhooks(const char *name, int k, bool sync_each, int requests) {
  struct journal *j = jopen(name, false);
  uint64_t id = 1;
  double t = mono_us();
  for (int r = 0; r < requests; r++) {
    uint64_t lsn = 0;
    for (int a = 0; a < k; a++) {
      lsn = accept(j, id++);
      if (sync_each) journal_sync(j, lsn);
    }
    journal_sync(j, lsn);
  }
  double per = (mono_us() - t) / requests;
  journal_close(j);
  return per;
}

struct th {
  struct journal *j;
  uint64_t base, done;
  double until;
  double max_us;
};

static void *worker_max(void *p) {
  struct th *t = p;
  while (mono_us() < t->until) {
    double t0 = mono_us();
    journal_sync(t->j, accept(t->j, t->base + t->done));
    double d = mono_us() - t0;
    if (d > t->max_us) t->max_us = d;
    t->done++;
  }
  return NULL;
}

static void *worker(void *p) {
  struct th *t = p;
  while (mono_us() < t->until) {
    journal_sync(t->j, accept(t->j, t->base + t->done));
    t->done++;
  }
  return NULL;
}

static double group(int nthreads, double secs, double single_rate) {
  char name[32];
  snprintf(name, sizeof name, "group%d", nthreads);
  struct journal *j = jopen(name, false);
  pthread_t tid[64];
  struct th th[64];
  double until = mono_us() + secs * 1e6, t0 = mono_us();
  for (int i = 0; i < nthreads; i++) {
    th[i] = (struct th){j, (uint64_t)i * 100000000 + 1, 0, until, 0};
    pthread_create(&tid[i], NULL, worker, &th[i]);
  }
  uint64_t total = 0;
  for (int i = 0; i < nthreads; i++) {
    pthread_join(tid[i], NULL);
    total += th[i].done;
  }
  double el = (mono_us() - t0) / 1e6;
  struct journal_stats st;
  journal_stats(j, &st);
  double rate = total / el;
  printf("  %2d threads: %9.0f durable accepts/s  %6.2f accepts per fdatasync  "
         "x%.2f the 1-thread rate\n", nthreads, rate, st.syncs ? (double)total / st.syncs : 0,
         single_rate > 0 ? rate / single_rate : 1.0);
  journal_close(j);
  return rate;
}

static void big_state(void) {
  struct journal *j = jopen("big", false);
  uint64_t id = 1;
  double t = mono_us();
  for (int i = 0; i < 100000; i++, id++) {
    uint64_t lsn = accept(j, id);
    if (i >= 1000) {      /* all but the first 1000 finish */
      struct journal_state s = {id, REM_SUCCEEDED, "all 1 steps succeeded", now0, -1, NULL,
                                i % 5 != 0};   /* 4 in 5 give the cooldown back */
      journal_append_state(j, &s, &lsn);
    }
    if (i % 1000 == 999) journal_sync(j, lsn);
  }
  journal_sync(j, JOURNAL_LSN_ALL);
  double fill = (mono_us() - t) / 1e6;
  struct journal_stats s0, s1;
  journal_stats(j, &s0);
  t = mono_us();
  journal_compact(j, now0);
  double comp = (mono_us() - t) / 1e3;
  journal_stats(j, &s1);
  journal_close(j);
  t = mono_us();
  j = jopen("big", false);
  double open = (mono_us() - t) / 1e3;
  journal_close(j);
  printf("  100,000 accepted + 99,000 finished (synced every 1,000): %.2f s\n", fill);
  printf("  live: %zu in flight, %zu dedupe keys, %zu cooldowns\n", s1.inflight, s1.dedupe,
         s1.cooldowns);
  printf("  compaction: %.1f ms, of which appenders waited %.1f ms; file %.1f MB -> %.1f MB\n",
         comp, s1.compact_lock_us / 1e3, s0.file_bytes / 1e6, s1.file_bytes / 1e6);
  printf("  open + replay of the snapshot: %.1f ms\n", open);
  /* The same compaction while 4 threads accept and sync: the worst wait. */
  j = jopen("big", false);
  pthread_t tid[4];
  struct th th[4];
  double until = mono_us() + 3e6;
  for (int i = 0; i < 4; i++) {
    th[i] = (struct th){j, (uint64_t)(i + 1) * 100000000, 0, until};
    pthread_create(&tid[i], NULL, worker_max, &th[i]);
  }
  usleep(500000);
  t = mono_us();
  journal_compact(j, now0);
  comp = (mono_us() - t) / 1e3;
  double worst = 0;
  uint64_t n = 0;
  for (int i = 0; i < 4; i++) {
    pthread_join(tid[i], NULL);
    if (th[i].max_us > worst) worst = th[i].max_us;
    n += th[i].done;
  }
  journal_stats(j, &s1);
  journal_close(j);
  printf("  compaction under load (4 threads accepting): %.1f ms, lock held %.1f ms; the "
         "slowest durable accept took %.1f ms (%llu accepts in 3 s)\n", comp,
         s1.compact_lock_us / 1e3, worst / 1e3, (unsigned long long)n);
}

int main(int argc, char **argv) {
  dir = argv[1];
  double secs = argc > 2 ? atof(argv[2]) : 2;
  log_setup(LOG_TEXT, LOGL_WARN, 2);
  now0 = rtime_now_ms();
  double base, real;
  printf("1. one remediation accepted and made durable, one thread\n");
  latency("append + write (baseline, no fsync)", true, 20000, &base);
  latency("append + write + fdatasync", false, 2000, &real);
  printf("  fdatasync costs %.1fx the baseline (%.1f us per durable accept)\n", real / base,
         real - base);
  printf("2. a webhook with 10 alerts\n");
  double one = webhooks("w1", 10, false, 300), each = webhooks("w10", 10, true, 100);
  printf("  one fdatasync per request: %8.1f us per request\n", one);
  printf("  one fdatasync per alert:   %8.1f us per request (x%.2f)\n", each, each / one);
  printf("3. group commit: threads accepting and syncing for %.0f s each\n", secs);
  double single = group(1, secs, 0);
  group(4, secs, single);
  group(16, secs, single);
  printf("4. a large live state\n");
  big_state();
  return 0;
}
EOF

objs=$(ls build/runtime/*.o | grep -v '/main\.o$')
cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -Icore -Iruntime \
  $(pkg-config --cflags libcjson 2>/dev/null) -o "$work/bench" "$work/bench.c" $objs \
  build/tests/runtime/fixture_rules.o build/core/libcore.a \
  $(make -s --no-print-directory print-rt-libs)
echo "journal benchmark: $(nproc) CPUs, state on $(stat -f -c %T "$STATE") ($STATE)"
"$work/bench" "$STATE" "$secs"
