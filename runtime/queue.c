/*
 * queue.c - see queue.h.
 */
#include "queue.h"

#include <time.h>

int queue_init(struct queue *q, size_t cap) {
  if (pthread_mutex_init(&q->mu, NULL) != 0) return -1;
  if (pthread_cond_init(&q->cv, NULL) != 0) {
    pthread_mutex_destroy(&q->mu);
    return -1;
  }
  q->head.prev = q->head.next = &q->head;
  q->head.queued = false;
  q->len = 0;
  q->cap = cap;
  q->idle = NULL;
  q->closed = false;
  return 0;
}

void queue_destroy(struct queue *q) {
  pthread_cond_destroy(&q->cv);
  pthread_mutex_destroy(&q->mu);
}

/* A blocked popper: each waits on its own condition variable, on the idle
 * stack (lock held throughout). */
struct queue_waiter {
  pthread_cond_t cv;
  struct queue_waiter *next;
  bool woken;
};

/* Wakes the most recently idle popper, if any (lock held). */
static void wake_one(struct queue *q) {
  struct queue_waiter *w = q->idle;
  if (!w) return;
  q->idle = w->next;
  w->woken = true;
  pthread_cond_signal(&w->cv);
}

/* Blocks until woken, or until ts if not NULL (lock held). */
static void sleep_on(struct queue *q, const struct timespec *ts) {
  struct queue_waiter w;
  pthread_cond_init(&w.cv, NULL);
  w.woken = false;
  w.next = q->idle;
  q->idle = &w;
  while (!w.woken) {
    int rc = ts ? pthread_cond_timedwait(&w.cv, &q->mu, ts) : pthread_cond_wait(&w.cv, &q->mu);
    if (rc != 0) break;       /* timed out */
  }
  if (!w.woken) {             /* still on the stack: take it off */
    struct queue_waiter **pp = &q->idle;
    while (*pp && *pp != &w) pp = &(*pp)->next;
    if (*pp) *pp = w.next;
  }
  pthread_cond_destroy(&w.cv);
}

static void unlink_item(struct queue *q, struct queue_item *it) {
  it->prev->next = it->next;
  it->next->prev = it->prev;
  it->prev = it->next = NULL;
  it->queued = false;
  it->held = false;
  q->len--;
}

static enum queue_status push(struct queue *q, struct queue_item *it, bool held) {
  pthread_mutex_lock(&q->mu);
  it->held = held;
  enum queue_status st = QUEUE_OK;
  if (q->closed) st = QUEUE_CLOSED;
  else if (q->len >= q->cap) st = QUEUE_FULL;
  else {
    it->prev = q->head.prev;
    it->next = &q->head;
    q->head.prev->next = it;
    q->head.prev = it;
    it->queued = true;
    q->len++;
    if (!held) wake_one(q);
  }
  pthread_mutex_unlock(&q->mu);
  return st;
}

enum queue_status queue_push(struct queue *q, struct queue_item *it) {
  return push(q, it, false);
}

enum queue_status queue_push_held(struct queue *q, struct queue_item *it) {
  return push(q, it, true);
}

void queue_release(struct queue *q, struct queue_item *it) {
  pthread_mutex_lock(&q->mu);
  if (it->held) {
    it->held = false;
    if (it->queued) wake_one(q);  /* it may have been blocking the head */
  }
  pthread_mutex_unlock(&q->mu);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct queue_item *queue_pop(struct queue *q) {
  pthread_mutex_lock(&q->mu);
  struct queue_item *it = NULL;
  for (;;) {
    if (q->len) {
      struct queue_item *first = q->head.next;
      if (first->held && !q->closed) {
        sleep_on(q, NULL);
        continue;
      }
      if (q->closed || first->ready_ms <= now_ms()) {
        it = first;
        unlink_item(q, it);
        /* Pass a wake-up on if more work waits, so no item waits behind a
         * busy worker while another sleeps. */
        if (q->len) wake_one(q);
        break;
      }
      struct timespec ts = {first->ready_ms / 1000, (first->ready_ms % 1000) * 1000000};
      sleep_on(q, &ts);
    } else if (q->closed) {
      break;
    } else {
      sleep_on(q, NULL);
    }
  }
  pthread_mutex_unlock(&q->mu);
  return it;
}

struct queue_item *queue_try_pop(struct queue *q) {
  pthread_mutex_lock(&q->mu);
  struct queue_item *it = NULL;
  if (q->len) {
    it = q->head.next;
    unlink_item(q, it);
  }
  pthread_mutex_unlock(&q->mu);
  return it;
}

bool queue_remove(struct queue *q, struct queue_item *it) {
  pthread_mutex_lock(&q->mu);
  bool was = it->queued;
  if (was) unlink_item(q, it);
  pthread_mutex_unlock(&q->mu);
  return was;
}

void queue_close(struct queue *q) {
  pthread_mutex_lock(&q->mu);
  q->closed = true;
  while (q->idle) wake_one(q);
  pthread_mutex_unlock(&q->mu);
}

size_t queue_len(struct queue *q) {
  pthread_mutex_lock(&q->mu);
  size_t n = q->len;
  pthread_mutex_unlock(&q->mu);
  return n;
}
