/*
 * main.c - healer: flags and environment, start-up, signals, shutdown.
 *
 * Threads: libmicrohttpd's (HTTP, see http.h), the worker pool (worker.h)
 * and this one, which owns signals and shutdown. SIGTERM and SIGINT are
 * blocked in every thread and taken here with sigtimedwait(); the same
 * loop sweeps expired dedupe and cooldown entries and ticks the journal
 * (flush, compaction) once a second.
 *
 * Start-up: libcurl, auth files, TLS files, the engine, backends and their
 * secrets, the listen address and the port file's directory (--check-config
 * then checks the state directory, binds the address once and stops here),
 * the journal (replayed: what was in flight
 * is queued again or resumed), workers, HTTP.
 *
 * Shutdown: stop accepting (quiesce), answer the requests in flight,
 * close the queue and let the workers drain it within --drain-timeout;
 * what is left stays queued or running in the journal for the next start
 * (nothing is cancelled remotely); exit 0. A second signal skips the
 * waiting.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"
#include "act_jenkins.h"
#include "action.h"
#include "api.h"
#include "auth.h"
#include "backend.h"
#include "config.h"
#include "decode.h"
#include "engine.h"
#include "http.h"
#include "httpc.h"
#include "journal.h"
#include "log.h"
#include "rtime.h"
#include "tls.h"
#include "worker.h"

#ifndef HEALER_VERSION
#define HEALER_VERSION "dev"
#endif

/* How long in-flight HTTP requests get to finish on shutdown, at most. */
#define HTTP_GRACE_MS 5000

static sigset_t g_signals;

static void print_version(const struct hl_ruleset *rs) {
  printf("healer %s\nrules: %u from %s, digest %s, ABI %u\n", HEALER_VERSION,
         rs->nrules, rs->generator ? rs->generator : "?",
         rs->digest ? rs->digest : "?", rs->abi_version);
}

static void raise_fd_limit(uint64_t want) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rlim_t target = (rlim_t)want;
  if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max) target = rl.rlim_max;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < target) {
    rl.rlim_cur = target;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/* Whether write_port_file() can create path's temporary file: its directory
 * exists and is writable. Start and --check-config both ask, before the
 * journal, so a port file that could never be written is refused instead of
 * warned about once healer listens. 0, or -1 with a message in err. */
static int check_port_file(const char *path, char *err, size_t errlen) {
  if (!path) return 0;
  char dir[4096];
  const char *slash = strrchr(path, '/');
  if (!*path || strlen(path) + sizeof ".tmp" > sizeof dir) {
    snprintf(err, errlen, "--port-file '%.200s': expected a file name", path);
    return -1;
  }
  if (!slash) snprintf(dir, sizeof dir, ".");
  else if (slash == path) snprintf(dir, sizeof dir, "/");
  else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  if (access(dir, W_OK | X_OK) != 0) {
    snprintf(err, errlen, "--port-file %.1000s: cannot create files in %.1000s: %s", path, dir,
             strerror(errno));
    return -1;
  }
  return 0;
}

static int write_port_file(const char *path, uint16_t port) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) return -1;
  fprintf(f, "%u\n", port);
  if (fclose(f) != 0) return -1;
  return rename(tmp, path);
}

/* Waits up to ms for a signal. Returns the signal or 0. */
static int wait_signal(int64_t ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  siginfo_t info;
  int sig = sigtimedwait(&g_signals, &info, &ts);
  return sig > 0 ? sig : 0;
}

/* While draining: a second SIGTERM or SIGINT skips the waiting (SIGHUP
 * does not). */
static bool hurried(void) {
  int sig = wait_signal(10);
  return sig && sig != SIGHUP;
}

/* Warn about what will not really run. */
static void warn_unimplemented(const struct hl_ruleset *rs) {
  for (int k = 0; k < HL_ACT__COUNT; k++) {
    if (action_ops_for((uint8_t)k)) continue;
    for (uint32_t s = 0; s < rs->nsteps; s++)
      if (rs->steps[s].action == k) {
        char name[REM_KIND_MAX];
        log_printf(LOGL_WARN,
                   "action kind '%s' is not implemented in this build: its "
                   "remediations are recorded as dry_run",
                   rem_kind_name((uint8_t)k, name));
        break;
      }
  }
}

static void cancel_leftovers(struct engine *e) {
  for (struct queue_item *it; (it = queue_try_pop(&e->queue));) {
    struct remediation *r = rem_of_item(it);
    /* With a journal nothing is recorded: it stays queued there and runs
     * after the next start. */
    const char *why = e->journal ? "left queued: runs after the next start"
                                 : "cancelled: healer shut down before it started";
    ledger_finish(&e->ledger, r, REM_CANCELLED, why, rtime_now_ms(), 0);
    rem_unref(r);
  }
}

int main(int argc, char **argv) {
  const struct hl_ruleset *rs = &hl_ruleset;
  struct config cfg;
  char err[2048];
  if (config_load(&cfg, argc, argv, err, sizeof err) < 0) {
    fprintf(stderr, "healer: %s\n", err);
    return 2;
  }
  switch (cfg.action) {
  case CONFIG_HELP:
    config_usage(stdout);
    return 0;
  case CONFIG_VERSION:
    print_version(rs);
    return 0;
  case CONFIG_LIST_RULES:
    api_rules_text(rs, stdout);
    return 0;
  default:
    break;
  }
  log_setup(cfg.log_format, cfg.log_level, 2);
  signal(SIGPIPE, SIG_IGN);
  /* A file-size limit (ulimit -f) or the file system's largest file must
   * not kill healer: write() then fails with EFBIG, the journal fails
   * (webhooks 503, /readyz unready) and says so. */
  signal(SIGXFSZ, SIG_IGN);
  if (httpc_global_init() < 0) {   /* libcurl, once, before any thread */
    fprintf(stderr, "healer: cannot initialise libcurl\n");
    return 1;
  }
  raise_fd_limit(cfg.max_connections + 256);

  /* Everything acquired from here on is released by the one ladder at the
   * end; a failure jumps to the rung that matches what it holds. */
  int status = 1;
  int64_t start = -1;           /* when draining began; -1: never served */
  struct journal *jn = NULL;
  struct workers w;
  struct auth auth;
  if (auth_load(&auth, cfg.auth_bearer_file, cfg.auth_basic_file, cfg.auth_all, err,
                sizeof err) < 0) {
    fprintf(stderr, "healer: %s\n", err);
    status = 2;
    goto out_curl;
  }
  if (tls_init(cfg.tls_cert_file, cfg.tls_key_file, cfg.tls_client_ca_file, err,
               sizeof err) < 0) {
    fprintf(stderr, "healer: %s\n", err);
    status = 2;
    goto out_auth;
  }
  decode_init();
  struct engine e;
  struct engine_config ec = {cfg.dry_run, cfg.start_delay_ms, (size_t)cfg.queue_size,
                             (size_t)cfg.history, cfg.dedupe_ttl_ms,
                             (size_t)cfg.dedupe_max, (size_t)cfg.cooldown_max};
  if (engine_init(&e, rs, &ec, err, sizeof err) < 0) {
    fprintf(stderr, "healer: %s\n", err);
    goto out_auth;
  }
  /* Backends and their secrets, read once (not in dry-run). */
  if (backend_load_all(rs, cfg.dry_run, err, sizeof err) < 0) {
    fprintf(stderr, "healer: %s\n", err);
    status = 2;
    goto out_engine;
  }
  /* The address before the journal, so a bad --listen creates nothing. */
  if (http_check_listen(cfg.listen, err, sizeof err) < 0 ||
      check_port_file(cfg.port_file, err, sizeof err) < 0) {
    fprintf(stderr, "healer: %s\n", err);
    status = 2;
    goto out_engine;
  }
  if (cfg.action == CONFIG_CHECK) {
    /* What start would refuse next: the state directory, then the socket
     * (bound and closed again by the code start binds it with: a port in
     * use or a host that is not ours fails here too). */
    char bound[128];
    uint16_t port;
    int fd;
    if (journal_check_dir(cfg.state_dir, err, sizeof err) < 0 ||
        (fd = http_listen(cfg.listen, bound, sizeof bound, &port, err, sizeof err)) < 0) {
      fprintf(stderr, "healer: %s\n", err);
      status = 2;
      goto out_engine;
    }
    close(fd);
    printf("healer: configuration and %u rules are valid\n", rs->nrules);
    status = 0;
    goto out_engine;
  }
  {
    struct journal_config jc = {cfg.state_dir, rs, cfg.journal_recover, false,
                                cfg.journal_compact, cfg.dedupe_ttl_ms, (size_t)cfg.dedupe_max,
                                (size_t)cfg.history, &e.metrics.journal_commit};
    struct journal_open_info ji;
    if (journal_open(&jn, &jc, rtime_now_ms(), &ji, err, sizeof err) < 0 ||
        (engine_set_journal(&e, jn),
         engine_restore(&e, jn, ji.next_id, err, sizeof err) < 0)) {
      fprintf(stderr, "healer: %s\n", err);
      goto out_engine;
    }
    struct log_line l;
    log_begin(&l, LOGL_INFO, "journal");
    log_str(&l, "path", cfg.state_dir);
    log_int(&l, "records", (long long)ji.records);
    log_int(&l, "in_flight", (long long)ji.inflight);
    log_int(&l, "dedupe_keys", (long long)ji.dedupe);
    log_int(&l, "cooldowns", (long long)ji.cooldowns);
    log_int(&l, "history", (long long)ji.history);
    if (ji.torn_bytes) log_int(&l, "torn_bytes_cut", (long long)ji.torn_bytes);
    if (ji.lost_records) log_int(&l, "lost_records", (long long)ji.lost_records);
    if (ji.failed) log_int(&l, "not_resumable", (long long)ji.failed);
    log_end(&l);
  }
  if (cfg.pause && safety_pause(&e.safety, true, "--pause", "started with --pause",
                                rtime_now_ms(), NULL) > 0 && jn)
    journal_sync(jn, JOURNAL_LSN_ALL);
  {
    struct safety_pause_info pi;
    safety_pause_state(&e.safety, &pi);
    if (pi.paused) {
      struct log_line l;
      log_begin(&l, LOGL_WARN, "paused");
      log_str(&l, "by", pi.by);
      log_str(&l, "reason", pi.why);
      log_str(&l, "detail", "new remediations are recorded as skipped until POST /api/v1/resume");
      log_end(&l);
    }
  }
  if (!cfg.dry_run) warn_unimplemented(rs);

  /* Every thread started from here on inherits the blocked signals. A
   * shell may have started us with SIGINT ignored (background job): an
   * ignored signal is dropped even when blocked, so restore the default. */
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  sigemptyset(&g_signals);
  sigaddset(&g_signals, SIGTERM);
  sigaddset(&g_signals, SIGINT);
  sigaddset(&g_signals, SIGHUP);    /* re-read the TLS certificate */
  pthread_sigmask(SIG_BLOCK, &g_signals, NULL);

  if (workers_start(&w, &e, (size_t)cfg.workers) < 0) {
    queue_close(&e.queue);
    goto out_workers;
  }
  struct http_config hc = {cfg.listen, (unsigned)cfg.http_threads,
                           (unsigned)((cfg.connection_timeout_ms + 999) / 1000),
                           (unsigned)cfg.max_connections, cfg.max_body,
                           cfg.max_body_total, (size_t)cfg.history,
                           (unsigned)cfg.max_connections_per_ip,
                           cfg.request_timeout_ms};
  struct http *h = http_start(&e, &auth, &hc, err, sizeof err);
  if (!h) {
    fprintf(stderr, "healer: %s\n", err);
    workers_stop(&w);         /* nothing restored runs: it stays journaled */
    cancel_leftovers(&e);
    queue_close(&e.queue);
    goto out_workers;
  }
  atomic_store(&e.ready, true);
  {
    struct log_line l;
    log_begin(&l, LOGL_INFO, "listening");
    log_str(&l, "address", http_address(h));
    log_str(&l, "version", HEALER_VERSION);
    log_int(&l, "rules", rs->nrules);
    log_str(&l, "rules_digest", rs->digest);
    log_bool(&l, "dry_run", cfg.dry_run);
    log_int(&l, "workers", (long long)cfg.workers);
    log_int(&l, "queue_size", (long long)cfg.queue_size);
    log_str(&l, "auth", auth.kind == AUTH_BEARER  ? "bearer"
                        : auth.kind == AUTH_BASIC ? "basic"
                                                  : "none");
    log_str(&l, "tls", !tls_enabled()         ? "off"
                       : tls_client_ca_pem()  ? "mutual"
                                              : "on");
    log_end(&l);
  }
  /* From here on, lines go through the writer thread (the ones above were
   * written at once, so whoever waits for the port file sees them). */
  if (log_start() < 0) log_printf(LOGL_WARN, "no log writer thread: logging synchronously");
  if (cfg.port_file && write_port_file(cfg.port_file, http_port(h)) < 0)
    log_printf(LOGL_WARN, "cannot write --port-file %s: %s", cfg.port_file,
               strerror(errno));

  int sig;
  for (;;) {
    sig = wait_signal(1000);
    if (sig == SIGHUP) {
      /* Connections, the queue and the journal are not touched: the next
       * handshake gets the new pair; a bad one leaves the old in use. */
      if (!tls_enabled())
        log_printf(LOGL_INFO, "SIGHUP: no TLS certificate to reload");
      else if (tls_reload(err, sizeof err) < 0)
        log_printf(LOGL_ERROR, "SIGHUP: TLS certificate not reloaded, the previous one "
                   "stays in use: %s", err);
      else
        log_printf(LOGL_INFO, "SIGHUP: TLS certificate reloaded from %s", cfg.tls_cert_file);
      continue;
    }
    if (sig) break;
    decide_sweep(&e.decide, rtime_now_ms());
    journal_tick(jn, rtime_now_ms());   /* flush, compact when due */
  }

  start = rtime_mono_ms();
  int64_t deadline = start + cfg.drain_timeout_ms;
  log_printf(LOGL_INFO, "received %s: draining (up to %lld ms)", strsignal(sig),
             (long long)cfg.drain_timeout_ms);
  atomic_store(&e.draining, true);
  http_quiesce(h);
  bool hurry = false;
  int64_t grace = start + (cfg.drain_timeout_ms < HTTP_GRACE_MS ? cfg.drain_timeout_ms
                                                                : HTTP_GRACE_MS);
  while (!hurry && http_inflight(h) && rtime_mono_ms() < grace)
    hurry = hurried();
  http_stop(h);
  queue_close(&e.queue);
  while (!hurry && workers_exited(&w) < w.n && rtime_mono_ms() < deadline)
    hurry = hurried();
  size_t left = queue_len(&e.queue);
  if (left || workers_exited(&w) < w.n) {
    log_printf(LOGL_WARN, "drain %s: leaving %zu queued and %zu running remediations "
               "to the next start (journaled)",
               hurry ? "cut short" : "timed out", left, atomic_load(&e.running));
    workers_stop(&w);
    cancel_leftovers(&e);
  }
  status = 0;

out_workers:
  workers_join(&w);
  cancel_leftovers(&e);
out_engine:
  engine_free(&e);            /* before the journal it writes to */
  journal_close(jn);          /* NULL until the journal opens */
  backend_free_all();         /* nothing to free before they load */
out_auth:
  tls_free();
  auth_free(&auth);
out_curl:
  httpc_global_cleanup();
  if (start >= 0)
    log_printf(LOGL_INFO, "stopped after %lld ms", (long long)(rtime_mono_ms() - start));
  log_stop();
  return status;
}
