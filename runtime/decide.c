/*
 * decide.c - see decide.h.
 */
#include "decide.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rtime.h"

struct dd_entry {
  int64_t last_seen_ms;
  uint64_t rem_id;            /* the remediation accepted for this key */
  struct remediation *rem;    /* referenced while in flight, else NULL */
  struct dd_entry *prev, *next; /* the LRU list, by last_seen_ms */
};

#define SWEEP_BUCKETS 4096    /* cooldown/limit buckets per decide_sweep() */

static void lru_unlink(struct decide *d, struct dd_entry *e) {
  if (e->prev) e->prev->next = e->next;
  else d->lru_head = e->next;
  if (e->next) e->next->prev = e->prev;
  else d->lru_tail = e->prev;
  e->prev = e->next = NULL;
}

static void lru_append(struct decide *d, struct dd_entry *e) {
  e->prev = d->lru_tail;
  e->next = NULL;
  if (d->lru_tail) d->lru_tail->next = e;
  else d->lru_head = e;
  d->lru_tail = e;
}

/* Seen again now: to the tail (the list stays ordered by last_seen_ms as
 * long as time does not go backwards; if it does, order is only
 * approximate, which costs nothing but early expiry). */
static void dd_touch(struct decide *d, struct dd_entry *e, int64_t now_ms) {
  if (now_ms > e->last_seen_ms) e->last_seen_ms = now_ms;
  lru_unlink(d, e);
  lru_append(d, e);
}

static void dd_remove(struct decide *d, struct dd_entry *e) {
  lru_unlink(d, e);
  if (e->rem) rem_unref(e->rem);
  hmap_remove(&d->dedupe, e);
}

struct cd_entry {
  int64_t until_ms;
  uint64_t owner_id;          /* the remediation that started it */
};

struct lim_entry {
  uint32_t inflight;
};

int decide_init(struct decide *d, const struct hl_ruleset *rs, int64_t dedupe_ttl_ms,
                size_t dedupe_max, size_t cooldown_max) {
  memset(d, 0, sizeof *d);
  d->rs = rs;
  d->dedupe_ttl_ms = dedupe_ttl_ms;
  d->dedupe_max = dedupe_max ? dedupe_max : 1;
  d->cooldown_max = cooldown_max;
  if (pthread_mutex_init(&d->mu, NULL) != 0) return -1;
  if (hmap_init(&d->dedupe, sizeof(struct dd_entry)) < 0 ||
      hmap_init(&d->cooldown, sizeof(struct cd_entry)) < 0 ||
      hmap_init(&d->limit, sizeof(struct lim_entry)) < 0)
    goto fail;
  if (rs->nrules && !(d->budgets = calloc(rs->nrules, sizeof *d->budgets)))
    goto fail;
  return 0;
fail:
  decide_free(d);
  return -1;
}

static void drop_dd(void *p) {
  struct dd_entry *e = p;
  if (e->rem) rem_unref(e->rem);
}

void decide_free(struct decide *d) {
  if (d->dedupe.buckets) hmap_free(&d->dedupe, drop_dd);
  if (d->cooldown.buckets) hmap_free(&d->cooldown, NULL);
  if (d->limit.buckets) hmap_free(&d->limit, NULL);
  if (d->budgets)
    for (uint32_t i = 0; i < d->rs->nrules; i++) free(d->budgets[i].starts);
  free(d->budgets);
  d->budgets = NULL;
  pthread_mutex_destroy(&d->mu);
}

/* A dedupe key, fp \x1f startsAt \x1f rule \x1f status, built on the stack
 * when it fits (it nearly always does). */
struct ddkey {
  char small[192];
  char *data;                 /* small, or malloc'd */
  size_t len;
};

static size_t put_u32(char *out, uint32_t v) {
  char tmp[10];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  return n;
}

static bool dedupe_key(struct ddkey *k, uint32_t rule, const char *fp,
                       const char *starts_at, uint8_t status) {
  size_t fl = strlen(fp), sl = strlen(starts_at);
  size_t need = fl + sl + 16;
  k->data = need <= sizeof k->small ? k->small : malloc(need);
  if (!k->data) return false;
  char *o = k->data;
  memcpy(o, fp, fl);
  o += fl;
  *o++ = '\x1f';
  memcpy(o, starts_at, sl);
  o += sl;
  *o++ = '\x1f';
  o += put_u32(o, rule);
  *o++ = '\x1f';
  *o++ = (char)('0' + status);
  k->len = (size_t)(o - k->data);
  return true;
}

static void ddkey_free(struct ddkey *k) {
  if (k->data != k->small) free(k->data);
}

/* Makes sure the ring can take one more start (lock held). Rings grow on
 * demand, so a large budget costs memory only once it is used. */
static bool budget_reserve(struct budget_ring *b, uint32_t budget) {
  if (b->count < b->cap || b->count == budget) return true;
  uint32_t cap = b->cap ? b->cap * 2 : 8;
  if (cap > budget) cap = budget;
  int64_t *n = malloc(cap * sizeof *n);
  if (!n) return false;
  for (uint32_t i = 0; i < b->count; i++) n[i] = b->starts[(b->head + i) % b->cap];
  free(b->starts);
  b->starts = n;
  b->cap = cap;
  b->head = 0;
  return true;
}

/* Makes room for one more dedupe entry (lock held): drops the least
 * recently seen entries that are not in flight, expired or not. Entries in
 * flight are at most the queue plus the workers, so the walk is short. */
static void dedupe_make_room(struct decide *d) {
  static bool warned;
  struct dd_entry *e = d->lru_head;
  while (d->dedupe.count >= d->dedupe_max && e) {
    struct dd_entry *next = e->next;
    if (!e->rem) {
      dd_remove(d, e);
      if (!warned) {
        warned = true;
        log_printf(LOGL_WARN, "dedupe table full (%zu entries): forgetting the least "
                   "recently seen alerts; raise --dedupe-max", d->dedupe_max);
      }
    }
    e = next;
  }
}

static bool cd_expired(void *p, void *ctx) {
  const struct cd_entry *e = p;
  return e->until_ms <= *(const int64_t *)ctx;
}

bool decide_cooldown_full(struct decide *d) {
  pthread_mutex_lock(&d->mu);
  bool full = d->cooldown_max && d->cooldown.count >= d->cooldown_max;
  pthread_mutex_unlock(&d->mu);
  return full;
}

void decide_lock(struct decide *d) { pthread_mutex_lock(&d->mu); }
void decide_unlock(struct decide *d) { pthread_mutex_unlock(&d->mu); }

enum decide_verdict decide_reserve(struct decide *d, const struct remediation *r,
                                   int64_t now_ms, struct decide_info *info,
                                   struct decide_ticket *t) {
  const struct hl_rule *rule = &d->rs->rules[r->rule];
  memset(info, 0, sizeof *info);
  memset(t, 0, sizeof *t);
  struct ddkey key;
  if (!dedupe_key(&key, r->rule, r->fingerprint, r->starts_at, r->alert_status))
    return DECIDE_NOMEM;
  enum decide_verdict v = DECIDE_NOMEM;
  struct dd_entry *dd = hmap_find(&d->dedupe, key.data, key.len);
  if (dd) {
    dd_touch(d, dd, now_ms);
    info->other_id = dd->rem_id;
    v = DECIDE_DUPLICATE;
    goto out;
  }
  if (d->hold && d->hold(d->hold_ctx, r->rule, now_ms, info->why, sizeof info->why)) {
    v = DECIDE_HELD;
    goto out;
  }
  struct cd_entry *cd = NULL;
  if (r->cooldown_key && rule->cooldown_ms) {
    cd = hmap_find(&d->cooldown, r->cooldown_key, strlen(r->cooldown_key));
    if (cd && cd->until_ms > now_ms) {
      info->wait_ms = cd->until_ms - now_ms;
      v = DECIDE_COOLDOWN;
      goto out;
    }
    if (!cd && d->cooldown_max && d->cooldown.count >= d->cooldown_max) {
      /* Expired keys make room first (a bounded sweep, resumed next time). */
      hmap_sweep_some(&d->cooldown, cd_expired, &now_ms, &d->full_cursor,
                      SWEEP_BUCKETS);
      if (d->cooldown.count >= d->cooldown_max) {
        snprintf(info->why, sizeof info->why,
                 "cooldown table full (%zu keys in their cooldown; raise "
                 "--cooldown-max)", d->cooldown.count);
        v = DECIDE_TABLE_FULL;
        goto out;
      }
    }
  }
  struct lim_entry *lim = NULL;
  if (r->limit_key && rule->limit) {
    lim = hmap_find(&d->limit, r->limit_key, strlen(r->limit_key));
    if (lim && lim->inflight >= rule->limit) {
      info->inflight = lim->inflight;
      v = DECIDE_LIMIT;
      goto out;
    }
  }
  struct budget_ring *b = rule->budget ? &d->budgets[r->rule] : NULL;
  if (b && b->count == rule->budget &&
      now_ms - b->starts[b->head] < (int64_t)rule->budget_ms) {
    info->wait_ms = b->starts[b->head] + (int64_t)rule->budget_ms - now_ms;
    v = DECIDE_BUDGET;
    goto out;
  }
  /* Every entry this acceptance needs exists before the caller records
   * it, so nothing can fail after that. Empty entries left behind by an
   * undo are harmless and swept. */
  dedupe_make_room(d);
  bool created;
  dd = hmap_insert(&d->dedupe, key.data, key.len, &created);
  if (!dd) goto out;
  dd->last_seen_ms = now_ms;
  lru_append(d, dd);
  t->dd = dd;
  if (r->cooldown_key && rule->cooldown_ms &&
      !(cd = hmap_insert(&d->cooldown, r->cooldown_key, strlen(r->cooldown_key), NULL)))
    goto undo;
  if (r->limit_key && rule->limit &&
      !(lim = hmap_insert(&d->limit, r->limit_key, strlen(r->limit_key), NULL)))
    goto undo;
  if (b && !budget_reserve(b, rule->budget)) goto undo;
  t->cd = cd;
  t->lim = lim;
  t->budget = b;
  t->cooldown_until_ms = cd ? now_ms + (int64_t)rule->cooldown_ms : 0;
  v = DECIDE_QUEUED;
  goto out;
undo:
  decide_undo(d, t);
out:
  ddkey_free(&key);
  return v;
}

void decide_commit(struct decide *d, struct remediation *r, int64_t now_ms,
                   struct decide_ticket *t) {
  const struct hl_rule *rule = &d->rs->rules[r->rule];
  rem_ref(r);                 /* the dedupe entry's */
  t->dd->rem = r;
  t->dd->rem_id = r->id;
  t->dd->last_seen_ms = now_ms;
  if (t->cd) {
    t->cd->until_ms = t->cooldown_until_ms;
    t->cd->owner_id = r->id;
  }
  if (t->lim) t->lim->inflight++;
  struct budget_ring *b = t->budget;
  if (b) {
    if (b->count < rule->budget) {
      b->starts[(b->head + b->count) % b->cap] = now_ms;
      b->count++;
    } else {
      b->starts[b->head] = now_ms;
      b->head = (b->head + 1) % b->cap;
    }
  }
  memset(t, 0, sizeof *t);
}

void decide_undo(struct decide *d, struct decide_ticket *t) {
  if (t->dd) dd_remove(d, t->dd);
  memset(t, 0, sizeof *t);
}

/* Gives back what r holds (lock held). */
static void release(struct decide *d, struct remediation *r, bool cooldown) {
  if (r->released) return;
  r->released = true;
  const struct hl_rule *rule = &d->rs->rules[r->rule];
  if (r->limit_key && rule->limit) {
    struct lim_entry *lim = hmap_find(&d->limit, r->limit_key, strlen(r->limit_key));
    if (lim && lim->inflight) lim->inflight--;
  }
  if (cooldown && r->cooldown_key && rule->cooldown_ms) {
    struct cd_entry *cd =
        hmap_find(&d->cooldown, r->cooldown_key, strlen(r->cooldown_key));
    if (cd && cd->owner_id == r->id) hmap_remove(&d->cooldown, cd);
  }
  struct ddkey key;
  struct dd_entry *dd = NULL;
  if (dedupe_key(&key, r->rule, r->fingerprint, r->starts_at, r->alert_status)) {
    dd = hmap_find(&d->dedupe, key.data, key.len);
    ddkey_free(&key);
  }
  if (dd && dd->rem == r) {
    dd->rem = NULL;
    rem_unref(r);
  }
}

struct remediation *decide_in_flight(struct decide *d, uint32_t rule,
                                     const char *fingerprint, const char *starts_at,
                                     int64_t now_ms) {
  struct ddkey key;
  if (!dedupe_key(&key, rule, fingerprint, starts_at, HL_STATUS_FIRING)) return NULL;
  struct dd_entry *dd = hmap_find(&d->dedupe, key.data, key.len);
  ddkey_free(&key);
  if (!dd) return NULL;
  dd_touch(d, dd, now_ms);
  return dd->rem;
}

void decide_release(struct decide *d, struct remediation *r) {
  release(d, r, true);
}

void decide_finished(struct decide *d, struct remediation *r) {
  pthread_mutex_lock(&d->mu);
  release(d, r, false);
  pthread_mutex_unlock(&d->mu);
}

void decide_forget(struct decide *d, struct remediation *r) {
  struct ddkey key;
  bool have = dedupe_key(&key, r->rule, r->fingerprint, r->starts_at, r->alert_status);
  pthread_mutex_lock(&d->mu);
  release(d, r, true);
  struct dd_entry *dd = have ? hmap_find(&d->dedupe, key.data, key.len) : NULL;
  if (dd && dd->rem_id == r->id && !dd->rem) dd_remove(d, dd);
  pthread_mutex_unlock(&d->mu);
  if (have) ddkey_free(&key);
}

/* Records an acceptance at t in rule's budget ring, keeping the `budget`
 * most recent times in order (restore only: times arrive in any order). */
static void budget_note(struct decide *d, uint32_t rule, int64_t t, int64_t now_ms) {
  const struct hl_rule *hr = &d->rs->rules[rule];
  if (!hr->budget || now_ms - t >= (int64_t)hr->budget_ms) return;
  struct budget_ring *b = &d->budgets[rule];
  int64_t *tmp = malloc((size_t)(b->count + 1) * sizeof *tmp);
  if (!tmp) return;
  uint32_t k = 0;
  for (uint32_t i = 0; i < b->count; i++) tmp[k++] = b->starts[(b->head + i) % b->cap];
  uint32_t at = k;
  while (at > 0 && tmp[at - 1] > t) at--;
  memmove(tmp + at + 1, tmp + at, (size_t)(k - at) * sizeof *tmp);
  tmp[at] = t;
  k++;
  uint32_t skip = k > hr->budget ? k - hr->budget : 0;
  memmove(tmp, tmp + skip, (size_t)(k - skip) * sizeof *tmp);
  free(b->starts);
  b->starts = tmp;            /* exactly full: budget_reserve() grows it */
  b->cap = b->count = k - skip;
  b->head = 0;
}

int decide_restore_rem(struct decide *d, struct remediation *r,
                       int64_t last_seen_ms, int64_t cooldown_until_ms) {
  const struct hl_rule *rule = &d->rs->rules[r->rule];
  struct ddkey key;
  if (!dedupe_key(&key, r->rule, r->fingerprint, r->starts_at, r->alert_status)) return -1;
  int rc = -1;
  pthread_mutex_lock(&d->mu);
  bool created;
  struct dd_entry *dd = hmap_insert(&d->dedupe, key.data, key.len, &created);
  if (!dd) goto out;
  if (created) lru_append(d, dd);
  if (dd->rem) rem_unref(dd->rem);
  rem_ref(r);
  dd->rem = r;
  dd->rem_id = r->id;
  dd->last_seen_ms = last_seen_ms;
  if (cooldown_until_ms > 0 && r->cooldown_key && rule->cooldown_ms) {
    struct cd_entry *cd =
        hmap_insert(&d->cooldown, r->cooldown_key, strlen(r->cooldown_key), NULL);
    if (!cd) goto out;
    cd->until_ms = cooldown_until_ms;
    cd->owner_id = r->id;
  }
  if (r->limit_key && rule->limit) {
    struct lim_entry *lim = hmap_insert(&d->limit, r->limit_key, strlen(r->limit_key), NULL);
    if (!lim) goto out;
    lim->inflight++;
  }
  budget_note(d, r->rule, r->created_ms, rtime_now_ms());
  rc = 0;
out:
  pthread_mutex_unlock(&d->mu);
  ddkey_free(&key);
  return rc;
}

int decide_restore_seen(struct decide *d, uint32_t rule, const char *fingerprint,
                        const char *starts_at, uint8_t status, uint64_t id,
                        int64_t created_ms, int64_t last_seen_ms) {
  struct ddkey key;
  if (!dedupe_key(&key, rule, fingerprint, starts_at, status)) return -1;
  int rc = -1;
  pthread_mutex_lock(&d->mu);
  bool created;
  struct dd_entry *dd = hmap_insert(&d->dedupe, key.data, key.len, &created);
  if (dd) {
    if (created) lru_append(d, dd);   /* replay hands them oldest first */
    if (!dd->rem) {
      dd->rem_id = id;
      dd->last_seen_ms = last_seen_ms;
    }
    budget_note(d, rule, created_ms, rtime_now_ms());
    rc = 0;
  }
  pthread_mutex_unlock(&d->mu);
  ddkey_free(&key);
  return rc;
}

int decide_restore_cooldown(struct decide *d, const char *key, int64_t until_ms,
                            uint64_t owner_id) {
  pthread_mutex_lock(&d->mu);
  struct cd_entry *cd = hmap_insert(&d->cooldown, key, strlen(key), NULL);
  if (cd && cd->until_ms < until_ms) {
    cd->until_ms = until_ms;
    cd->owner_id = owner_id;
  }
  pthread_mutex_unlock(&d->mu);
  return cd ? 0 : -1;
}

static bool lim_idle(void *p, void *ctx) {
  (void)ctx;
  return ((const struct lim_entry *)p)->inflight == 0;
}

void decide_sweep(struct decide *d, int64_t now_ms) {
  pthread_mutex_lock(&d->mu);
  /* Dedupe: oldest first, so stop at the first one still fresh. */
  int64_t cutoff = now_ms - d->dedupe_ttl_ms;
  struct dd_entry *e = d->lru_head;
  while (e && e->last_seen_ms < cutoff) {
    struct dd_entry *next = e->next;
    if (!e->rem) dd_remove(d, e);
    e = next;
  }
  /* Cooldowns and limits: a slice of the buckets per call. */
  size_t cur = d->sweep_cursor;
  hmap_sweep_some(&d->cooldown, cd_expired, &now_ms, &cur, SWEEP_BUCKETS);
  cur = d->sweep_cursor;
  hmap_sweep_some(&d->limit, lim_idle, NULL, &cur, SWEEP_BUCKETS);
  d->sweep_cursor = cur;
  pthread_mutex_unlock(&d->mu);
}

void decide_stats(struct decide *d, struct decide_stats *out) {
  pthread_mutex_lock(&d->mu);
  out->dedupe = d->dedupe.count;
  out->cooldown = d->cooldown.count;
  out->limit = d->limit.count;
  pthread_mutex_unlock(&d->mu);
}

const char *decide_skip_words(enum decide_verdict v, const struct hl_rule *rule,
                              const struct decide_info *info, char *why, size_t n) {
  char dur[RTIME_BUFSZ], dur2[RTIME_BUFSZ];
  switch (v) {
  case DECIDE_HELD: {
    bool paused = strcmp(info->why, "paused") == 0;
    snprintf(why, n, "%s", info->why);
    return paused ? "paused" : "breaker_open";
  }
  case DECIDE_COOLDOWN:
    snprintf(why, n, "cooldown: %s left", rtime_format_duration(info->wait_ms, dur));
    return "cooldown";
  case DECIDE_LIMIT:
    snprintf(why, n, "limit: %u of %u already in flight", info->inflight, rule->limit);
    return "limit";
  case DECIDE_BUDGET:
    snprintf(why, n, "budget: %u per %s used up, next in %s", rule->budget,
             rtime_format_duration((int64_t)rule->budget_ms, dur),
             rtime_format_duration(info->wait_ms, dur2));
    return "budget";
  case DECIDE_TABLE_FULL:
    snprintf(why, n, "%s", info->why);
    return "cooldown_full";
  default:
    return NULL;
  }
}
