/*
 * test_queue.c - the bounded queue: order, full, close, removal from the
 * middle, the start-delay hold-off, and many producers and consumers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queue.h"
#include "rtime.h"

static void test_fifo_full_close(void **state) {
  (void)state;
  struct queue q;
  assert_int_equal(queue_init(&q, 3), 0);
  struct queue_item it[4];
  memset(it, 0, sizeof it);
  for (int i = 0; i < 3; i++) assert_int_equal(queue_push(&q, &it[i]), QUEUE_OK);
  assert_int_equal(queue_push(&q, &it[3]), QUEUE_FULL);
  assert_int_equal(queue_len(&q), 3);
  assert_ptr_equal(queue_pop(&q), &it[0]);
  assert_int_equal(queue_push(&q, &it[3]), QUEUE_OK);
  /* Out of the middle. */
  assert_true(queue_remove(&q, &it[2]));
  assert_false(queue_remove(&q, &it[2]));
  assert_false(queue_remove(&q, &it[0]));   /* already popped */
  assert_ptr_equal(queue_try_pop(&q), &it[1]);
  queue_close(&q);
  assert_int_equal(queue_push(&q, &it[0]), QUEUE_CLOSED);
  assert_ptr_equal(queue_pop(&q), &it[3]);   /* drains after close */
  assert_null(queue_pop(&q));
  assert_null(queue_try_pop(&q));
  queue_destroy(&q);
}

static void test_start_delay(void **state) {
  (void)state;
  struct queue q;
  assert_int_equal(queue_init(&q, 8), 0);
  struct queue_item a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  int64_t t0 = rtime_now_ms();
  a.ready_ms = t0 + 200;
  b.ready_ms = t0 + 200;
  queue_push(&q, &a);
  queue_push(&q, &b);
  assert_ptr_equal(queue_pop(&q), &a);
  int64_t waited = rtime_now_ms() - t0;
  assert_true(waited >= 190);
  /* Removed while held: never popped. */
  assert_true(queue_remove(&q, &b));
  /* Close releases a held item at once. */
  b.ready_ms = rtime_now_ms() + 60000;
  queue_push(&q, &b);
  queue_close(&q);
  t0 = rtime_now_ms();
  assert_ptr_equal(queue_pop(&q), &b);
  assert_true(rtime_now_ms() - t0 < 1000);
  queue_destroy(&q);
}

static struct queue hq;
static struct queue_item held_a, held_b;

static void *pop_one(void *arg) {
  (void)arg;
  return queue_pop(&hq);
}

static void test_held_until_released(void **state) {
  (void)state;
  assert_int_equal(queue_init(&hq, 8), 0);
  memset(&held_a, 0, sizeof held_a);
  memset(&held_b, 0, sizeof held_b);
  assert_int_equal(queue_push_held(&hq, &held_a), QUEUE_OK);
  assert_int_equal(queue_push(&hq, &held_b), QUEUE_OK);
  pthread_t t;
  pthread_create(&t, NULL, pop_one, NULL);
  struct timespec ts = {0, 100 * 1000000};
  nanosleep(&ts, NULL);
  assert_int_equal(queue_len(&hq), 2);      /* the held head blocks, in order */
  queue_release(&hq, &held_a);
  void *got;
  pthread_join(t, &got);
  assert_ptr_equal(got, &held_a);
  /* Removing a held item, then releasing it, is harmless. */
  assert_int_equal(queue_push_held(&hq, &held_a), QUEUE_OK);
  assert_true(queue_remove(&hq, &held_a));
  queue_release(&hq, &held_a);
  assert_ptr_equal(queue_pop(&hq), &held_b);
  queue_close(&hq);
  assert_null(queue_pop(&hq));
  queue_destroy(&hq);
}

/* Four slow consumers, four items pushed at once (held, then released):
 * all four run in parallel, none waits behind a busy consumer. */
static struct queue pq;

static void *slow_consumer(void *arg) {
  (void)arg;
  for (struct queue_item *it; (it = queue_pop(&pq));) {
    struct timespec ts = {0, 150 * 1000000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

static void test_items_run_in_parallel(void **state) {
  (void)state;
  assert_int_equal(queue_init(&pq, 8), 0);
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, slow_consumer, NULL);
  struct timespec ts = {0, 50 * 1000000};
  nanosleep(&ts, NULL);   /* all four asleep */
  struct queue_item it[4];
  memset(it, 0, sizeof it);
  int64_t t0 = rtime_mono_ms();
  for (int i = 0; i < 4; i++) {
    queue_push_held(&pq, &it[i]);
    queue_release(&pq, &it[i]);
  }
  while (queue_len(&pq)) nanosleep(&ts, NULL);
  queue_close(&pq);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  int64_t took = rtime_mono_ms() - t0;
  if (took > 400) fail_msg("4 items of 150 ms on 4 consumers took %lld ms", (long long)took);
  queue_destroy(&pq);
}

#define PRODUCERS 4
#define CONSUMERS 4
#define PER 5000

static struct queue mq;
static struct queue_item items[PRODUCERS * PER];
static int seen[PRODUCERS * PER];
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;

static void *producer(void *arg) {
  int p = (int)(intptr_t)arg;
  for (int i = 0; i < PER; i++) {
    struct queue_item *it = &items[p * PER + i];
    while (queue_push(&mq, it) == QUEUE_FULL) sched_yield();
  }
  return NULL;
}

static void *consumer(void *arg) {
  (void)arg;
  for (struct queue_item *it; (it = queue_pop(&mq));) {
    pthread_mutex_lock(&seen_mu);
    seen[it - items]++;
    pthread_mutex_unlock(&seen_mu);
  }
  return NULL;
}

static void test_threads(void **state) {
  (void)state;
  assert_int_equal(queue_init(&mq, 16), 0);
  pthread_t pt[PRODUCERS], ct[CONSUMERS];
  for (int i = 0; i < CONSUMERS; i++) pthread_create(&ct[i], NULL, consumer, NULL);
  for (int i = 0; i < PRODUCERS; i++) pthread_create(&pt[i], NULL, producer, (void *)(intptr_t)i);
  for (int i = 0; i < PRODUCERS; i++) pthread_join(pt[i], NULL);
  queue_close(&mq);
  for (int i = 0; i < CONSUMERS; i++) pthread_join(ct[i], NULL);
  for (int i = 0; i < PRODUCERS * PER; i++)
    if (seen[i] != 1) fail_msg("item %d seen %d times", i, seen[i]);
  queue_destroy(&mq);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fifo_full_close),
      cmocka_unit_test(test_start_delay),
      cmocka_unit_test(test_held_until_released),
      cmocka_unit_test(test_items_run_in_parallel),
      cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
