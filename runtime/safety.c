/*
 * safety.c - the pause switch and the per-rule breakers; see safety.h.
 */
#include "safety.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtime.h"

#define KEY_PAUSE "pause"
#define KEY_BREAKER "breaker/"

int safety_init(struct safety *s, const struct hl_ruleset *rs) {
  memset(s, 0, sizeof *s);
  s->rs = rs;
  if (rs->nrules) {
    s->breakers = calloc(rs->nrules, sizeof *s->breakers);
    if (!s->breakers) return -1;
  }
  for (uint32_t i = 0; i < rs->nrules; i++) {
    uint32_t n = rs->rules[i].breaker_failures;
    if (!n || !rs->rules[i].breaker_ms) continue;
    s->breakers[i].fails = calloc(n, sizeof *s->breakers[i].fails);
    if (!s->breakers[i].fails) {
      safety_free(s);
      return -1;
    }
  }
  pthread_mutex_init(&s->mu, NULL);
  return 0;
}

void safety_free(struct safety *s) {
  for (uint32_t i = 0; s->breakers && i < s->rs->nrules; i++)
    free(s->breakers[i].fails);
  free(s->breakers);
  s->breakers = NULL;
  pthread_mutex_destroy(&s->mu);
}

void safety_set_journal(struct safety *s, struct journal *j) { s->journal = j; }

/* ---- journaling ---------------------------------------------------------- */

/* Journals value (a cJSON object, deleted here; NULL: forget key). Lock
 * held. 0 without a journal. */
static int journal_ctl(struct safety *s, const char *key, cJSON *value, uint64_t *lsn) {
  if (!s->journal) {
    cJSON_Delete(value);
    return 0;
  }
  char *text = value ? cJSON_PrintUnformatted(value) : NULL;
  cJSON_Delete(value);
  if (value && !text) return -1;
  int rc = journal_append_control(s->journal, key, text, lsn);
  cJSON_free(text);
  return rc;
}

static void breaker_key(const struct safety *s, uint32_t rule, char *out, size_t n) {
  snprintf(out, n, KEY_BREAKER "%s", s->rs->rules[rule].name);
}

/* The breaker of rule as a control value; NULL when there is nothing to
 * remember (closed, no failures). */
static cJSON *breaker_value(const struct breaker *b, uint32_t cap) {
  if (!b->opened_ms && !b->n) return NULL;
  cJSON *o = cJSON_CreateObject();
  cJSON *a = cJSON_AddArrayToObject(o, "fails");
  for (uint32_t i = 0; i < b->n; i++)
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)b->fails[(b->head + i) % cap]));
  if (b->opened_ms) {
    cJSON_AddNumberToObject(o, "opened", (double)b->opened_ms);
    cJSON_AddNumberToObject(o, "until", (double)b->until_ms);
  }
  return o;
}

static int journal_breaker(struct safety *s, uint32_t rule, uint64_t *lsn) {
  char key[JOURNAL_CTL_KEY_MAX];
  breaker_key(s, rule, key, sizeof key);
  return journal_ctl(s, key, breaker_value(&s->breakers[rule], s->rs->rules[rule].breaker_failures),
                     lsn);
}

/* ---- pause ----------------------------------------------------------------- */

int safety_pause(struct safety *s, bool on, const char *by, const char *why,
                 int64_t now_ms, uint64_t *lsn) {
  pthread_mutex_lock(&s->mu);
  int rc = 0;
  if (s->paused != on) {
    cJSON *v = NULL;
    if (on) {
      v = cJSON_CreateObject();
      cJSON_AddBoolToObject(v, "paused", 1);
      cJSON_AddStringToObject(v, "by", by ? by : "");
      cJSON_AddStringToObject(v, "why", why ? why : "");
      cJSON_AddNumberToObject(v, "since", (double)now_ms);
    }
    if (journal_ctl(s, KEY_PAUSE, v, lsn) < 0) {
      rc = -1;
    } else {
      s->paused = on;
      snprintf(s->by, sizeof s->by, "%s", by ? by : "");
      snprintf(s->why, sizeof s->why, "%s", why ? why : "");
      s->since_ms = now_ms;
      rc = 1;
    }
  } else if (lsn) {
    *lsn = 0;
  }
  pthread_mutex_unlock(&s->mu);
  return rc;
}

void safety_pause_state(struct safety *s, struct safety_pause_info *out) {
  pthread_mutex_lock(&s->mu);
  out->paused = s->paused;
  memcpy(out->by, s->by, sizeof out->by);
  memcpy(out->why, s->why, sizeof out->why);
  out->since_ms = s->since_ms;
  pthread_mutex_unlock(&s->mu);
}

/* ---- breakers -------------------------------------------------------------- */

/* Closes b if its time has come (lock held); true when it did. */
static bool expire(struct breaker *b, int64_t now_ms) {
  if (!b->opened_ms || now_ms < b->until_ms) return false;
  b->opened_ms = b->until_ms = 0;
  b->n = b->head = 0;
  return true;
}

const char *safety_hold(struct safety *s, uint32_t rule, int64_t now_ms,
                        char *why, size_t n) {
  const char *out = NULL;
  pthread_mutex_lock(&s->mu);
  if (s->paused) {
    snprintf(why, n, "paused");
    out = why;
  } else if (rule < s->rs->nrules && s->breakers[rule].fails) {
    struct breaker *b = &s->breakers[rule];
    if (expire(b, now_ms)) journal_breaker(s, rule, NULL);
    if (b->opened_ms) {
      const struct hl_rule *r = &s->rs->rules[rule];
      char win[RTIME_BUFSZ], left[RTIME_BUFSZ];
      snprintf(why, n,
               "breaker open (%u failures in %s); closes in %s or on POST "
               "/api/v1/rules/%s/reset",
               r->breaker_failures, rtime_format_duration((int64_t)r->breaker_ms, win),
               rtime_format_duration(b->until_ms - now_ms, left), r->name);
      out = why;
    }
  }
  pthread_mutex_unlock(&s->mu);
  return out;
}

bool safety_finished(struct safety *s, uint32_t rule, enum rem_state st,
                     int64_t now_ms, char *why, size_t n) {
  if (st != REM_FAILED && st != REM_TIMED_OUT) return false;
  if (rule >= s->rs->nrules || !s->breakers[rule].fails) return false;
  const struct hl_rule *r = &s->rs->rules[rule];
  bool opened = false;
  pthread_mutex_lock(&s->mu);
  struct breaker *b = &s->breakers[rule];
  expire(b, now_ms);
  if (!b->opened_ms) {
    uint32_t cap = r->breaker_failures;
    /* Forget failures older than the window, then count this one. */
    while (b->n && now_ms - b->fails[b->head] >= (int64_t)r->breaker_ms) {
      b->head = (b->head + 1) % cap;
      b->n--;
    }
    if (b->n == cap) {
      b->head = (b->head + 1) % cap;
      b->n--;
    }
    b->fails[(b->head + b->n) % cap] = now_ms;
    b->n++;
    if (b->n >= cap) {
      b->opened_ms = now_ms;
      b->until_ms = now_ms + (int64_t)r->breaker_ms;
      opened = true;
      char win[RTIME_BUFSZ];
      snprintf(why, n,
               "breaker opened: rule %s failed %u times in %s; it stops remediating "
               "until the window passes or POST /api/v1/rules/%s/reset",
               r->name, cap, rtime_format_duration((int64_t)r->breaker_ms, win), r->name);
    }
    /* Unsynced: a crash may lose the latest failure, never an opening
     * that was already paged (the page comes after the next sync). */
    journal_breaker(s, rule, NULL);
  }
  pthread_mutex_unlock(&s->mu);
  return opened;
}

int safety_reset(struct safety *s, const char *name, const char *by, int64_t now_ms,
                 uint64_t *lsn) {
  (void)by;
  (void)now_ms;
  uint32_t rule = UINT32_MAX;
  for (uint32_t i = 0; i < s->rs->nrules; i++)
    if (strcmp(s->rs->rules[i].name, name) == 0) rule = i;
  if (rule == UINT32_MAX || !s->breakers[rule].fails) return -1;
  pthread_mutex_lock(&s->mu);
  struct breaker *b = &s->breakers[rule], saved = *b;
  int was_open = b->opened_ms != 0;
  b->opened_ms = b->until_ms = 0;
  b->n = b->head = 0;
  int rc = was_open;
  if ((saved.opened_ms || saved.n) && journal_breaker(s, rule, lsn) < 0) {
    *b = saved;
    rc = -2;
  }
  pthread_mutex_unlock(&s->mu);
  return rc;
}

bool safety_breaker_open(struct safety *s, uint32_t rule, int64_t now_ms) {
  if (rule >= s->rs->nrules || !s->breakers[rule].fails) return false;
  pthread_mutex_lock(&s->mu);
  const struct breaker *b = &s->breakers[rule];
  bool open = b->opened_ms && now_ms < b->until_ms;
  pthread_mutex_unlock(&s->mu);
  return open;
}

/* ---- restore --------------------------------------------------------------- */

static int64_t num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : "";
}

int safety_restore(struct safety *s, const char *key, const char *value) {
  cJSON *o = cJSON_Parse(value);
  if (!cJSON_IsObject(o)) {
    cJSON_Delete(o);
    return 0;                 /* not ours to judge: ignored */
  }
  pthread_mutex_lock(&s->mu);
  if (strcmp(key, KEY_PAUSE) == 0) {
    s->paused = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "paused"));
    snprintf(s->by, sizeof s->by, "%s", str(o, "by"));
    snprintf(s->why, sizeof s->why, "%s", str(o, "why"));
    s->since_ms = num(o, "since");
  } else if (strncmp(key, KEY_BREAKER, strlen(KEY_BREAKER)) == 0) {
    const char *name = key + strlen(KEY_BREAKER);
    for (uint32_t i = 0; i < s->rs->nrules; i++) {
      if (strcmp(s->rs->rules[i].name, name) != 0 || !s->breakers[i].fails) continue;
      struct breaker *b = &s->breakers[i];
      uint32_t cap = s->rs->rules[i].breaker_failures;
      b->n = b->head = 0;
      const cJSON *t;
      cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(o, "fails")) {
        if (!cJSON_IsNumber(t)) continue;
        if (b->n == cap) {      /* the rule now counts fewer: keep the newest */
          b->head = (b->head + 1) % cap;
          b->n--;
        }
        b->fails[(b->head + b->n) % cap] = (int64_t)t->valuedouble;
        b->n++;
      }
      b->opened_ms = num(o, "opened");
      b->until_ms = num(o, "until");
    }
  }
  pthread_mutex_unlock(&s->mu);
  cJSON_Delete(o);
  return 0;
}
