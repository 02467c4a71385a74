/*
 * worker.c - see worker.h.
 */
#include "worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "action.h"
#include "httpc.h"
#include "log.h"
#include "notify.h"
#include "rtime.h"

/* Waits until at_ms (wall clock) or a stop request. False when stopped. */
static bool wait_until(struct workers *w, int64_t at_ms) {
  pthread_mutex_lock(&w->mu);
  while (!atomic_load(&w->stop)) {
    int64_t now = rtime_now_ms();
    if (now >= at_ms) break;
    struct timespec ts = rtime_deadline(CLOCK_REALTIME, at_ms - now);
    pthread_cond_timedwait(&w->cv, &w->mu, &ts);
  }
  bool ok = !atomic_load(&w->stop);
  pthread_mutex_unlock(&w->mu);
  return ok;
}

/* wait_until() for the action kinds and notify_send(): the worker's, so
 * shutdown cuts it short. */
static bool worker_wait(void *ctx, int64_t until_ms) {
  return wait_until(ctx, until_ms);
}

/* A resumed remediation past its timeout still gets a look before it is
 * declared timed out. */
#define RESUME_GRACE_MS 30000

/* Runs the steps through their action kinds; link gets the last link a
 * step published (the build's page), for notifications. REM__COUNT:
 * abandoned at shutdown, left to the next start (journaled). */
uint32_t workers_retries(const struct hl_rule *rule) {
  return rule->retries == HL_RETRY_DEFAULT ? WORKER_DEFAULT_RETRIES : rule->retries;
}

/* *unsent: no request of the remediation reached (or may have reached)
 * any service, per the worker's HTTP client (httpc_reached()): what it
 * failed to do was never begun. */
static enum rem_state run_steps(struct workers *w, struct remediation *r,
                                char reason[REM_REASON_MAX],
                                char link[ACTION_LINK_MAX], bool *unsent) {
  const struct hl_rule *rule = &w->e->rs->rules[r->rule];
  int64_t timeout = (int64_t)(rule->timeout_ms ? rule->timeout_ms
                                               : WORKER_DEFAULT_TIMEOUT_MS);
  int64_t backoff = (int64_t)(rule->backoff_ms ? rule->backoff_ms
                                               : WORKER_DEFAULT_BACKOFF_MS);
  uint32_t retries = workers_retries(rule);
  int64_t now = rtime_now_ms();
  int64_t started = r->resumed && r->started_ms ? r->started_ms : now;
  int64_t deadline = started + timeout;
  if (r->resumed && deadline < now + RESUME_GRACE_MS) deadline = now + RESUME_GRACE_MS;
  uint32_t first = r->resumed && r->resume_step < r->nsteps ? r->resume_step : 0;
  struct httpc *hc = httpc_thread();  /* this worker's handle, reused */
  uint64_t reached0 = hc ? httpc_reached(hc) : 0;
  *unsent = false;
  for (uint32_t i = first; i < r->nsteps; i++) {
    const struct action_ops *ops = action_ops_for(r->steps[i].kind);
    struct action_run run = {0};
    run.rs = w->e->rs;
    run.rem = r;
    run.step = &r->steps[i];
    run.deadline_ms = deadline;
    run.client = hc;
    run.wait = worker_wait;
    run.wait_ctx = w;
    enum action_status st;
    char last[ACTION_TOKEN_MAX] = "";   /* the token last journaled */
    bool resume_here = r->resumed && i == first;
    uint64_t tried = hc ? httpc_reached(hc) : 0; /* before this attempt */
    uint32_t counted = 0;     /* retries after attempts that reached it */
    if (resume_here && r->resume_token) {
      /* The kind follows what its token names instead of triggering. */
      run.resumed = true;
      snprintf(run.token, sizeof run.token, "%s", r->resume_token);
      snprintf(last, sizeof last, "%s", r->resume_token);
      st = ops->start(&run);
    } else if (resume_here && !ops->start_checks_earlier) {
      snprintf(reason, REM_REASON_MAX, "step %u: interrupted by a restart before the trigger "
               "was confirmed; not started again", i + 1);
      return REM_FAILED;
    } else {
      if (resume_here) {
        run.resumed = true;
        run.attempt = 1;      /* look for the earlier trigger first */
      }
      /* Durable before the trigger: a restart then knows it may have been
       * sent. */
      if (ledger_begin(&w->e->ledger, r, i, NULL) < 0) {
        /* The journal is down (a full disk): wait, shown queued, until it
         * can record the start (journal_tick() re-probes it), or stop. */
        ledger_show(&w->e->ledger, r, REM_QUEUED, "waiting: the journal cannot record "
                    "its start yet; it runs once the journal is writable again");
        do {
          if (!wait_until(w, rtime_now_ms() + 1000)) {
            snprintf(reason, REM_REASON_MAX, "step %u: left queued at shutdown (the journal "
                     "could not record its start)", i + 1);
            return REM__COUNT;
          }
          /* Not appended again while it is down: once is kept. */
        } while (journal_failure(w->e->journal, NULL, 0) ||
                 ledger_begin(&w->e->ledger, r, i, NULL) < 0);
        ledger_show(&w->e->ledger, r, REM_RUNNING, "");
      }
      st = ops->start(&run);
    }
    enum rem_state out = REM_SUCCEEDED;
    bool left = false;        /* shutdown with a journal: resumed next start */
    for (;;) {
      for (;;) {
        if (run.token_changed) {
          run.token_changed = false;
          if (strcmp(run.token, last) != 0) {
            ledger_begin(&w->e->ledger, r, i, run.token);
            snprintf(last, sizeof last, "%s", run.token);
          }
        }
        if (st != ACTION_PENDING) break;
        int64_t at = run.next_poll_ms < deadline ? run.next_poll_ms : deadline;
        if (!wait_until(w, at)) {
          left = true;
          break;
        }
        if (rtime_now_ms() >= deadline) {
          /* The kind says in run.reason how it cancelled, if it can. */
          char how[sizeof run.reason];
          run.reason[0] = '\0';
          ops->cancel(&run);
          snprintf(how, sizeof how, "%s", run.reason);
          snprintf(run.reason, sizeof run.reason, "timed out after %llu ms%s%.150s",
                   (unsigned long long)timeout, how[0] ? "; " : "", how);
          out = REM_TIMED_OUT;
          break;
        }
        st = ops->poll(&run);
      }
      /* A retryable failure: wait the rule's backoff (doubling, jittered;
       * at least what the server asked for) and start the step again. An
       * attempt none of whose requests reached the service (refused,
       * unresolvable, TLS handshake failed: httpc_never_sent()) did
       * nothing there, so it is tried again until the deadline whatever
       * the rule's `retry`; the others count against it. */
      if (left || out != REM_SUCCEEDED || st != ACTION_RETRY) break;
      bool reached = !hc || httpc_reached(hc) != tried;
      if (reached && counted >= retries) break;
      if (reached) counted++;
      int64_t at = rtime_now_ms() +
                   httpc_backoff_ms(run.attempt, backoff, WORKER_BACKOFF_CAP_MS);
      if (run.next_poll_ms > at) at = run.next_poll_ms;
      if (at >= deadline) break;       /* no time left for another try */
      if (!wait_until(w, at)) {
        left = true;
        break;
      }
      run.attempt++;
      tried = hc ? httpc_reached(hc) : 0;
      st = ops->start(&run);
    }
    if (left) {
      if (w->e->journal) {    /* leave it running: the next start resumes it */
        if (run.link[0]) snprintf(link, ACTION_LINK_MAX, "%s", run.link);
        if (ops->release) ops->release(&run);
        snprintf(reason, REM_REASON_MAX, "step %u: left running at shutdown", i + 1);
        return REM__COUNT;
      }
      ops->cancel(&run);
      snprintf(run.reason, sizeof run.reason, "cancelled: healer shut down");
      out = REM_CANCELLED;
    }
    if (out == REM_SUCCEEDED && (st == ACTION_FAILED || st == ACTION_RETRY))
      out = REM_FAILED;
    if (run.link[0]) snprintf(link, ACTION_LINK_MAX, "%s", run.link);
    if (ops->release) ops->release(&run);
    if (out != REM_SUCCEEDED) {
      *unsent = !r->resumed && hc && httpc_reached(hc) == reached0 &&
                (out == REM_FAILED || out == REM_TIMED_OUT);
      if (*unsent)
        snprintf(reason, REM_REASON_MAX, "step %u: %.100s (it never reached the service: "
                 "the alert's next resend starts it again)", i + 1, run.reason);
      else
        snprintf(reason, REM_REASON_MAX, "step %u: %.170s", i + 1, run.reason);
      return out;
    }
  }
  snprintf(reason, REM_REASON_MAX, "all %u steps succeeded", r->nsteps);
  return REM_SUCCEEDED;
}


/* A failure may open the rule's breaker: then say so once, loudly, and
 * page a human (the rule stops remediating until it is reset). */
static void breaker_check(struct workers *w, const struct remediation *r,
                          enum rem_state out, const struct notify_event *done) {
  char why[REM_REASON_MAX];
  int64_t now = rtime_now_ms();
  if (!safety_finished(&w->e->safety, r->rule, out, now, why, sizeof why)) return;
  if (w->e->journal) journal_sync(w->e->journal, JOURNAL_LSN_ALL);
  struct log_line l;
  log_begin(&l, LOGL_ERROR, "breaker_open");
  log_int(&l, "remediation", (long long)r->id);
  log_str(&l, "rule", r->rule_name);
  log_str(&l, "fingerprint", r->fingerprint);
  log_str(&l, "reason", why);
  log_end(&l);
  char key[300];
  snprintf(key, sizeof key, "healer/breaker/%.200s/%lld", r->rule_name, (long long)now);
  struct notify_event ev = *done;
  ev.reason = why;
  ev.dedup_key = key;
  struct notify_result res;
  notify_page(httpc_thread(), &ev, worker_wait, w, &res);
}

void workers_run_one(struct workers *w, struct remediation *r) {
  struct engine *e = w->e;
  if (!ledger_take(&e->ledger, r, rtime_now_ms())) {
    rem_unref(r);               /* cancelled while it was being popped */
    return;
  }
  atomic_fetch_add(&e->running, 1);
  char reason[REM_REASON_MAX], link[ACTION_LINK_MAX] = "";
  int64_t started = r->resumed && r->started_ms ? r->started_ms : rtime_now_ms();
  enum rem_state out;
  bool unsent = false;        /* failed before anything left this machine */
  if (r->dry_run) {
    out = REM_DRY_RUN;
    store_get_state(&e->store, r, reason);   /* why it is a dry run */
  } else if (!r->resumed && safety_breaker_open(&e->safety, r->rule, rtime_now_ms())) {
    /* Queued before its rule's breaker opened: it must not trigger once
     * more what keeps failing. One that was already running goes on. */
    out = REM_SKIPPED;
    snprintf(reason, sizeof reason,
             "breaker open (it opened while this waited in the queue; not "
             "started)");
    metrics_suppressed(&e->metrics, r->rule, SUP_BREAKER);
  } else {
    out = run_steps(w, r, reason, link, &unsent);
  }
  if (out == REM__COUNT) {    /* shutdown: journaled as running, resumed later */
    ledger_log_remediation(&e->ledger, r, "remediation", REM_RUNNING, reason, false);
    atomic_fetch_sub(&e->running, 1);
    rem_unref(r);
    return;
  }
  /* Durable before it is notified; a dry run need not wait. */
  int64_t now = rtime_now_ms();
  ledger_finish(&e->ledger, r, out, reason, now,
                LEDGER_JOURNAL | (out != REM_DRY_RUN ? LEDGER_SYNC : 0) |
                    (unsent ? LEDGER_UNSENT : 0));
  metrics_duration(&e->metrics, r->rule, out, now - started);
  /* Tell people, as the rule asks; the outcome is already recorded and
   * nothing here changes it. */
  if (!r->dry_run) {
    struct notify_event ev = {e->rs, r, out, reason, started, rtime_now_ms(),
                              link[0] ? link : NULL, NULL};
    struct notify_result res[8];
    notify_send(httpc_thread(), &ev, worker_wait, w, res, 8);
    breaker_check(w, r, out, &ev);
  }
  atomic_fetch_sub(&e->running, 1);
  rem_unref(r);
}

static void *worker_main(void *arg) {
  struct workers *w = arg;
  for (struct queue_item *it; (it = queue_pop(&w->e->queue));)
    workers_run_one(w, rem_of_item(it));
  atomic_fetch_add(&w->exited, 1);
  return NULL;
}

int workers_start(struct workers *w, struct engine *e, size_t n) {
  memset(w, 0, sizeof *w);
  w->e = e;
  atomic_init(&w->stop, false);
  atomic_init(&w->exited, 0);
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  w->threads = calloc(n ? n : 1, sizeof *w->threads);
  if (!w->threads) return -1;
  for (size_t i = 0; i < n; i++) {
    int rc = pthread_create(&w->threads[i], NULL, worker_main, w);
    if (rc != 0) {
      log_printf(LOGL_ERROR, "cannot start worker %zu: %s", i, strerror(rc));
      return -1;
    }
    w->n++;
  }
  return 0;
}

void workers_stop(struct workers *w) {
  pthread_mutex_lock(&w->mu);
  atomic_store(&w->stop, true);
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

size_t workers_exited(struct workers *w) { return atomic_load(&w->exited); }

void workers_join(struct workers *w) {
  for (size_t i = 0; i < w->n; i++) pthread_join(w->threads[i], NULL);
  free(w->threads);
  w->threads = NULL;
  w->n = 0;
  pthread_cond_destroy(&w->cv);
  pthread_mutex_destroy(&w->mu);
}
