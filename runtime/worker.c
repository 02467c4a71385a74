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
#include "log.h"
#include "rtime.h"

/* Waits until at_ms (wall clock) or a stop request. False when stopped. */
static bool wait_until(struct workers *w, int64_t at_ms) {
  pthread_mutex_lock(&w->mu);
  while (!atomic_load(&w->stop)) {
    int64_t now = rtime_now_ms();
    if (now >= at_ms) break;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t wait = at_ms - now;
    ts.tv_sec += wait / 1000;
    ts.tv_nsec += (wait % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&w->cv, &w->mu, &ts);
  }
  bool ok = !atomic_load(&w->stop);
  pthread_mutex_unlock(&w->mu);
  return ok;
}

/* Runs the steps through their action kinds. */
static enum rem_state run_steps(struct workers *w, struct remediation *r,
                                char reason[REM_REASON_MAX]) {
  const struct hl_rule *rule = &w->e->rs->rules[r->rule];
  int64_t deadline = rtime_now_ms() + (int64_t)(rule->timeout_ms ? rule->timeout_ms
                                                                 : WORKER_DEFAULT_TIMEOUT_MS);
  for (uint32_t i = 0; i < r->nsteps; i++) {
    const struct action_ops *ops = action_ops_for(r->steps[i].kind);
    struct action_run run = {0};
    run.rs = w->e->rs;
    run.rem = r;
    run.step = &r->steps[i];
    run.deadline_ms = deadline;
    enum action_status st = ops->start(&run);
    enum rem_state out = REM_SUCCEEDED;
    while (st == ACTION_PENDING) {
      int64_t at = run.next_poll_ms < deadline ? run.next_poll_ms : deadline;
      if (!wait_until(w, at)) {
        ops->cancel(&run);
        snprintf(run.reason, sizeof run.reason, "cancelled: healer shut down");
        out = REM_CANCELLED;
        break;
      }
      if (rtime_now_ms() >= deadline) {
        ops->cancel(&run);
        snprintf(run.reason, sizeof run.reason, "timed out after %llu ms",
                 (unsigned long long)(rule->timeout_ms ? rule->timeout_ms
                                                       : WORKER_DEFAULT_TIMEOUT_MS));
        out = REM_TIMED_OUT;
        break;
      }
      st = ops->poll(&run);
    }
    if (st == ACTION_FAILED || st == ACTION_RETRY) out = REM_FAILED;
    if (ops->release) ops->release(&run);
    if (out != REM_SUCCEEDED) {
      snprintf(reason, REM_REASON_MAX, "step %u: %.170s", i + 1, run.reason);
      return out;
    }
  }
  snprintf(reason, REM_REASON_MAX, "all %u steps succeeded", r->nsteps);
  return REM_SUCCEEDED;
}

void workers_run_one(struct workers *w, struct remediation *r) {
  struct engine *e = w->e;
  if (!store_begin(&e->store, r, rtime_now_ms())) {
    /* Cancelled while it was being popped: nothing to run. */
    decide_finished(&e->decide, r);
    rem_unref(r);
    return;
  }
  atomic_fetch_add(&e->running, 1);
  char reason[REM_REASON_MAX];
  enum rem_state out;
  if (r->dry_run) {
    out = REM_DRY_RUN;
    store_get_state(&e->store, r, reason);   /* why it is a dry run */
  } else {
    out = run_steps(w, r, reason);
  }
  store_set_state(&e->store, r, out, reason, rtime_now_ms());
  decide_finished(&e->decide, r);
  metrics_outcome(&e->metrics, r->rule, out);
  /* The decision line already carried the parameters. */
  engine_log_remediation(e, r, out == REM_DRY_RUN ? "dry_run" : "remediation", out,
                         reason, false);
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
