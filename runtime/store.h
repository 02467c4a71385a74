/*
 * store.h - recent and in-flight remediations, for /api/v1/remediations.
 *
 * A list, newest first, behind its own lock. Remediations in flight (queued
 * or running) always stay; of the finished ones only the newest `history`
 * are kept. The lock also guards every remediation's state, reason and
 * updated time, so state changes go through here.
 *
 * Ownership: the store holds one reference to each remediation it lists
 * (store_add() takes a new one); evicting or store_free() drops it.
 */
#ifndef HEALER_STORE_H
#define HEALER_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "buf.h"
#include "rem.h"

struct store {
  pthread_mutex_t mu;
  struct remediation *newest, *oldest;
  size_t count;               /* listed */
  size_t finished;            /* listed and in a final state */
  size_t history;             /* finished ones kept */
};

int store_init(struct store *s, size_t history);
void store_free(struct store *s);

/* Lists r (adds a reference). */
void store_add(struct store *s, struct remediation *r);

/* Moves r to st with reason, unless r is already final. Returns the state
 * r was in. */
enum rem_state store_set_state(struct store *s, struct remediation *r,
                               enum rem_state st, const char *reason,
                               int64_t now_ms);

/* QUEUED -> RUNNING. False (and no change) if r is no longer queued. */
bool store_begin(struct store *s, struct remediation *r, int64_t now_ms);

/* The state and reason of r, copied under the lock. */
enum rem_state store_get_state(struct store *s, struct remediation *r,
                               char reason[REM_REASON_MAX]);

/* {"remediations":[...]} newest first, at most limit of them. */
void store_render_json(struct store *s, const struct hl_ruleset *rs,
                       struct buf *out, size_t limit);

/* One remediation as JSON (the caller holds the store lock or owns r
 * exclusively). */
void store_rem_json(const struct hl_ruleset *rs, const struct remediation *r,
                    struct buf *out);

size_t store_count(struct store *s);

#endif
