/*
 * journal.c - see journal.h.
 *
 * The journal keeps a mirror of the live state it has written: the
 * remediations in flight (everything their accept record said, plus state,
 * step and resume tokens), the dedupe keys, the cooldowns and the history
 * (the newest finished remediations, by id). Appending a
 * record and folding it into the mirror happen together under the lock, and
 * replaying a file folds the same records the same way, so a snapshot of
 * the mirror is exactly what a replay of the whole file would give.
 */
#include "journal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "backend.h"
#include "buf.h"
#include "hist.h"
#include "hmap.h"
#include "log.h"
#include "names.h"

#define TMP_FILE JOURNAL_FILE ".tmp"
#define LOCK_FILE "LOCK"
#define GRP_MAX 64                /* a framed "grp" marker (48 bytes at most) */
#define DEFAULT_TTL_MS ((int64_t)24 * 3600 * 1000)
#define MAX_SAFE_INT ((int64_t)1 << 53)   /* exact in a JSON number (double) */

/* ---- CRC-32C ------------------------------------------------------------------ */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    crc_table[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++)
      crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
}

uint32_t journal_crc32c(uint32_t crc, const void *data, size_t n) {
  pthread_once(&crc_once, crc_init);
  const unsigned char *p = data;
  crc = ~crc;
  while (n >= 8) {            /* slice-by-8 */
    uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                         (uint32_t)p[3] << 24);
    crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
          crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
          crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^
          crc_table[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n--) crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
  return ~crc;
}

/* ---- the mirror ----------------------------------------------------------------- */

struct jparam {
  char *name, *value;
};

struct jstep {
  uint8_t kind;               /* as recorded (rebound at open) */
  char *kind_name;            /* "jenkins", "kubernetes cordon" */
  char *backend;              /* declared backend's name; NULL: default */
  char *target;               /* NULL: none */
  uint32_t nparams;
  struct jparam *params;
  char *token;                /* resume token; NULL: none */
};

/* A remediation in flight, or finished (in the history: then without
 * keys, tokens or reason0). */
struct jlive {
  uint64_t id;
  uint32_t rule;
  char *rule_name, *alertname, *fp, *starts_at, *reason0;
  uint8_t status, dry;
  uint32_t nsteps;
  struct jstep *steps;
  char *cooldown_key, *limit_key;
  int64_t cooldown_until;     /* as accepted */
  int64_t created, updated, started;
  enum rem_state state;
  uint32_t step;
  char reason[REM_REASON_MAX];
};

struct mrem {                 /* rems payload; key: the id's 8 bytes */
  struct jlive *l;
};

struct jdd {                  /* dd payload; key: see dd_key() */
  uint64_t id;
  int64_t created, seen;
  uint32_t rule;
  uint8_t status;
  bool live;                  /* remediation id is in flight */
  char *rule_name;            /* one allocation: rule_name, fp, starts_at */
  char *fp, *starts_at;
};

struct jcd {                  /* cd payload; key: the cooldown key */
  int64_t until;
  uint64_t owner;
  uint32_t rule;
  char *rule_name;
  char *key;                  /* a copy of the key, klen bytes + NUL */
  size_t klen;
};

/* The history: the newest finished remediations, at most max, sorted by
 * id (oldest first) in v[head .. head + n). Mostly appended at the end and
 * dropped at the head; the array is shifted down once head >= n. */
struct jctl {                 /* ctl payload; key: the control key */
  char *key;
  char *value;                /* JSON text, owned */
};

struct jhist {
  struct jlive **v;
  size_t head, n, cap;
  size_t max;                 /* cfg.history */
};

struct journal {
  pthread_mutex_t mu;
  pthread_cond_t cv;          /* a sync or compaction finished */
  const struct hl_ruleset *rs;
  char *dir;
  int dirfd, lockfd, fd;
  bool no_fsync, recover;
  uint64_t compact_bytes;
  int64_t dedupe_ttl;
  size_t dedupe_max;
  struct hist *commit_hist;   /* borrowed, may be NULL: each commit's time */

  struct buf pend;            /* framed records appended, not yet written */
  struct buf spare;           /* the leader's batch, between syncs */
  uint64_t lsn_appended;      /* bytes ever appended */
  uint64_t lsn_durable;       /* bytes ever written and synced */
  bool syncing;               /* a leader is writing outside the lock */
  bool compacting;            /* journal_compact() is between its steps */
  struct buf catchup;         /* compacting: batches written since the
                                 snapshot's boundary */
  int failed;                 /* errno of the first I/O failure; 0: fine */
  char failed_why[JOURNAL_WHY_MAX]; /* what failed, for /readyz */
  uint64_t file_bytes;        /* bytes in the current file */
  uint64_t snapshot_bytes;    /* size of the last snapshot */
  uint64_t next_id;           /* above every id journaled or reserved */
  uint64_t ids_upto;          /* ids below this are reserved (appended) */
  uint64_t ids_lsn;           /* the "ids" record that reserved them */
  atomic_ullong ids_durable;  /* ids below this are reserved on disk */
  atomic_bool failed_seen;    /* failed != 0, readable without mu (/readyz
                                 must not wait out a compaction's pause) */
  char *file_digest;          /* the digest of the file replayed */
  bool file_grouped;          /* its header says every write is a group
                                 commit opened by a "grp" marker */

  struct hmap rems, dd, cd;
  struct hmap ctl;            /* control values (journal_append_control) */
  struct jhist hist;

  uint64_t n_appended, n_syncs, n_waits, n_compactions;
  uint64_t compact_lock_us;   /* steps 1 and 3 of the last compaction */
  uint64_t compact_us;        /* the last compaction, start to rename */
};

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

static void jstep_free(struct jstep *s) {
  free(s->kind_name);
  free(s->backend);
  free(s->target);
  free(s->token);
  for (uint32_t k = 0; k < s->nparams; k++) {
    free(s->params[k].name);
    free(s->params[k].value);
  }
  free(s->params);
}

static void jlive_free(struct jlive *l) {
  if (!l) return;
  for (uint32_t i = 0; i < l->nsteps && l->steps; i++) jstep_free(&l->steps[i]);
  free(l->steps);
  free(l->rule_name);
  free(l->alertname);
  free(l->fp);
  free(l->starts_at);
  free(l->reason0);
  free(l->cooldown_key);
  free(l->limit_key);
  free(l);
}

static void drop_ctl(void *p) {
  struct jctl *c = p;
  free(c->key);
  free(c->value);
}
static void drop_rem(void *p) { jlive_free(((struct mrem *)p)->l); }
static void drop_dd(void *p) { free(((struct jdd *)p)->rule_name); }
static void drop_cd(void *p) {
  struct jcd *c = p;
  free(c->rule_name);
  free(c->key);
}

/* dd key: rule_name NUL fp NUL starts_at NUL status (no string holds NUL). */
static bool dd_key(struct buf *k, const char *rule_name, const char *fp,
                   const char *starts_at, uint8_t status) {
  buf_reset(k);
  buf_put(k, rule_name, strlen(rule_name) + 1);
  buf_put(k, fp, strlen(fp) + 1);
  buf_put(k, starts_at, strlen(starts_at) + 1);
  buf_put(k, &status, 1);
  return !k->oom;
}

static struct jlive *find_live(struct journal *j, uint64_t id) {
  struct mrem *m = hmap_find(&j->rems, &id, sizeof id);
  return m ? m->l : NULL;
}

/* ---- the history --------------------------------------------------------------- */

/* The index in hist.v[head..] of the first entry whose id is >= id. */
static size_t hist_pos(const struct jhist *h, uint64_t id) {
  size_t lo = 0, hi = h->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (h->v[h->head + mid]->id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static struct jlive *hist_find(struct journal *j, uint64_t id) {
  struct jhist *h = &j->hist;
  size_t i = hist_pos(h, id);
  return i < h->n && h->v[h->head + i]->id == id ? h->v[h->head + i] : NULL;
}

/* What the history does not need. */
static void hist_strip(struct jlive *l) {
  for (uint32_t i = 0; i < l->nsteps; i++) {
    free(l->steps[i].token);
    l->steps[i].token = NULL;
  }
  free(l->reason0);
  free(l->cooldown_key);
  free(l->limit_key);
  l->reason0 = l->cooldown_key = l->limit_key = NULL;
  l->cooldown_until = 0;
}

/* Adds the finished l to the history (takes it, whatever happens): it
 * replaces an entry of the same id; when the history is full, the oldest
 * goes, or l itself when it is older than all kept. Out of memory, l is
 * dropped (the history is best effort; nothing else depends on it). */
static void hist_add(struct journal *j, struct jlive *l) {
  struct jhist *h = &j->hist;
  if (!h->max) {
    jlive_free(l);
    return;
  }
  hist_strip(l);
  size_t i = hist_pos(h, l->id);
  if (i < h->n && h->v[h->head + i]->id == l->id) {
    jlive_free(h->v[h->head + i]);
    h->v[h->head + i] = l;
    return;
  }
  if (h->n == h->max) {
    if (i == 0) {             /* older than everything kept */
      jlive_free(l);
      return;
    }
    jlive_free(h->v[h->head]);
    h->head++;
    h->n--;
    i--;
  }
  if (h->head + h->n == h->cap) {
    if (h->head && h->head >= h->n) {   /* amortized: n moves per >= n adds */
      memmove(h->v, h->v + h->head, h->n * sizeof *h->v);
      h->head = 0;
    } else {
      size_t cap = h->cap ? h->cap * 2 : 64;
      struct jlive **v = realloc(h->v, cap * sizeof *v);
      if (!v) {
        jlive_free(l);
        return;
      }
      h->v = v;
      h->cap = cap;
    }
  }
  struct jlive **at = h->v + h->head + i;
  memmove(at + 1, at, (h->n - i) * sizeof *at);
  *at = l;
  h->n++;
}

static void hist_free(struct jhist *h) {
  for (size_t i = 0; i < h->n; i++) jlive_free(h->v[h->head + i]);
  free(h->v);
  memset(h, 0, sizeof *h);
}

/* Sets the strings of a dd entry (one allocation). */
static int dd_strings(struct jdd *d, const char *rule_name, const char *fp,
                      const char *starts_at) {
  size_t a = strlen(rule_name) + 1, b = strlen(fp) + 1, c = strlen(starts_at) + 1;
  char *s = malloc(a + b + c);
  if (!s) return -1;
  memcpy(s, rule_name, a);
  memcpy(s + a, fp, b);
  memcpy(s + a + b, starts_at, c);
  free(d->rule_name);
  d->rule_name = s;
  d->fp = s + a;
  d->starts_at = s + a + b;
  return 0;
}

/* Folds an accept into the mirror; takes l on success. -1: out of memory
 * or the id is already in flight (nothing changed). */
static int fold_acc(struct journal *j, struct jlive *l) {
  if (find_live(j, l->id)) return -1;
  struct buf k;
  buf_init(&k);
  if (!dd_key(&k, l->rule_name, l->fp, l->starts_at, l->status)) goto nomem;
  bool m_new, dd_new = false, cd_new = false;
  struct mrem *m = hmap_insert(&j->rems, &l->id, sizeof l->id, &m_new);
  if (!m) goto nomem;
  struct jdd *d = hmap_insert(&j->dd, k.data, k.len, &dd_new);
  if (!d) goto undo;
  if (dd_new && dd_strings(d, l->rule_name, l->fp, l->starts_at) < 0) goto undo;
  struct jcd *c = NULL;
  char *cd_rule = NULL, *cd_key = NULL;
  if (l->cooldown_key && l->cooldown_until > 0) {
    size_t klen = strlen(l->cooldown_key);
    c = hmap_insert(&j->cd, l->cooldown_key, klen, &cd_new);
    if (!c) goto undo;
    cd_rule = strdup(l->rule_name);
    cd_key = strdup(l->cooldown_key);
    if (!cd_rule || !cd_key) {
      free(cd_rule);
      free(cd_key);
      goto undo;
    }
    drop_cd(c);
    c->rule_name = cd_rule;
    c->key = cd_key;
    c->klen = klen;
    c->until = l->cooldown_until;
    c->owner = l->id;
    c->rule = l->rule;
  }
  m->l = l;
  d->id = l->id;
  d->created = l->created;
  if (d->seen < l->created) d->seen = l->created;
  d->rule = l->rule;
  d->status = l->status;
  d->live = true;
  if (l->id >= j->next_id) j->next_id = l->id + 1;
  buf_free(&k);
  return 0;
undo:
  if (cd_new) hmap_remove(&j->cd, hmap_find(&j->cd, l->cooldown_key, strlen(l->cooldown_key)));
  if (dd_new) {
    struct jdd *dn = hmap_find(&j->dd, k.data, k.len);
    drop_dd(dn);
    hmap_remove(&j->dd, dn);
  }
  if (m_new) hmap_remove(&j->rems, hmap_find(&j->rems, &l->id, sizeof l->id));
nomem:
  buf_free(&k);
  return -1;
}

/* A remediation leaves flight: final (it joins the history) or aborted
 * (it never existed). forget: final, but its dedupe key goes as an
 * aborted one's does. */
static void unlive(struct journal *j, struct jlive *l, bool abort, bool forget) {
  struct buf k;
  buf_init(&k);
  if (dd_key(&k, l->rule_name, l->fp, l->starts_at, l->status)) {
    struct jdd *d = hmap_find(&j->dd, k.data, k.len);
    if (d && d->id == l->id) {
      if (abort || forget) {
        drop_dd(d);
        hmap_remove(&j->dd, d);
      } else {
        d->live = false;
      }
    }
  }
  buf_free(&k);
  if (abort && l->cooldown_key) {
    struct jcd *c = hmap_find(&j->cd, l->cooldown_key, strlen(l->cooldown_key));
    if (c && c->owner == l->id) {
      drop_cd(c);
      hmap_remove(&j->cd, c);
    }
  }
  struct mrem *m = hmap_find(&j->rems, &l->id, sizeof l->id);
  if (m) hmap_remove(&j->rems, m);
  if (abort) jlive_free(l);
  else hist_add(j, l);
}

/* Folds a state change. started: the "started" field (0: none). Returns 0
 * (also when id is not in flight: ignored), -1 out of memory, -2 a step
 * out of range (nothing changed either way). */
static int fold_state(struct journal *j, const struct journal_state *s,
                      int64_t started) {
  struct jlive *l = find_live(j, s->id);
  if (!l) return 0;
  uint32_t step = s->step >= 0 ? (uint32_t)s->step : l->step;
  if (s->step >= 0 && l->nsteps && step >= l->nsteps) return -2;
  char *tok = NULL;
  if (s->token) {
    if (step >= l->nsteps) return -2;
    if (!(tok = strdup(s->token))) return -1;
  }
  l->state = s->state;
  l->updated = s->at_ms;
  snprintf(l->reason, sizeof l->reason, "%s", s->reason ? s->reason : "");
  if (s->step >= 0) l->step = step;
  if (tok) {
    free(l->steps[step].token);
    l->steps[step].token = tok;
  }
  if (started) l->started = started;
  else if (s->state == REM_RUNNING && !l->started) l->started = s->at_ms;
  if ((s->cooldown_released || s->forget) && l->cooldown_key) {
    struct jcd *c = hmap_find(&j->cd, l->cooldown_key, strlen(l->cooldown_key));
    if (c && c->owner == l->id) {
      drop_cd(c);
      hmap_remove(&j->cd, c);
    }
  }
  if (rem_state_final(s->state)) unlive(j, l, false, s->forget);
  return 0;
}

static void fold_abort(struct journal *j, uint64_t id) {
  struct jlive *l = find_live(j, id);
  if (l) unlive(j, l, true, false);
}

/* A dedupe sighting (or a snapshot's dedupe entry). 0 or -1 (no change). */
static int fold_dd(struct journal *j, uint32_t rule, const char *rule_name,
                   const char *fp, const char *starts_at, uint8_t status,
                   uint64_t id, int64_t created, int64_t seen) {
  struct buf k;
  buf_init(&k);
  int rc = -1;
  bool created_new;
  if (!dd_key(&k, rule_name, fp, starts_at, status)) goto out;
  struct jdd *d = hmap_insert(&j->dd, k.data, k.len, &created_new);
  if (!d) goto out;
  if (created_new) {
    if (dd_strings(d, rule_name, fp, starts_at) < 0) {
      hmap_remove(&j->dd, d);
      goto out;
    }
    d->rule = rule;
    d->status = status;
    d->id = id;
    d->created = created;
    d->live = find_live(j, id) != NULL;
  }
  if (d->seen < seen) d->seen = seen;
  rc = 0;
out:
  buf_free(&k);
  return rc;
}

static int fold_cd(struct journal *j, uint32_t rule, const char *rule_name,
                   const char *key, int64_t until, uint64_t owner) {
  size_t klen = strlen(key);
  char *rn = strdup(rule_name), *kc = strdup(key);
  bool created;
  struct jcd *c = rn && kc ? hmap_insert(&j->cd, key, klen, &created) : NULL;
  if (!c) {
    free(rn);
    free(kc);
    return -1;
  }
  drop_cd(c);
  c->rule_name = rn;
  c->key = kc;
  c->klen = klen;
  c->until = until;
  c->owner = owner;
  c->rule = rule;
  return 0;
}

/* Sets (value != NULL) or forgets a control value (lock held). 0 or -1. */
static int fold_ctl(struct journal *j, const char *key, const char *value) {
  struct jctl *c = hmap_find(&j->ctl, key, strlen(key));
  if (!value) {
    if (c) {
      drop_ctl(c);
      hmap_remove(&j->ctl, c);
    }
    return 0;
  }
  char *v = strdup(value);
  if (!v) return -1;
  if (!c) {
    bool created;
    char *k = strdup(key);
    c = k ? hmap_insert(&j->ctl, key, strlen(key), &created) : NULL;
    if (!c) {
      free(k);
      free(v);
      return -1;
    }
    c->key = k;
    c->value = NULL;
  }
  free(c->value);
  c->value = v;
  return 0;
}

/* ---- writing records ------------------------------------------------------------ */

/* s as a JSON string: the exact bytes, with '"', '\' and control characters
 * escaped (cJSON reads any other byte back unchanged). */
static void jstr(struct buf *b, const char *s) {
  if (!s) {
    buf_puts(b, "null");
    return;
  }
  buf_putc(b, '"');
  const char *run = s;
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) continue;
    buf_put(b, run, (size_t)(p - run));
    if (c == '"' || c == '\\') {
      buf_putc(b, '\\');
      buf_putc(b, (char)c);
    } else {
      buf_printf(b, "\\u%04x", c);
    }
    run = p + 1;
  }
  buf_puts(b, run);
  buf_putc(b, '"');
}

/* A signed integer in decimal (no printf: snapshots write millions). */
static void jint(struct buf *b, long long v) {
  char tmp[24], *p = tmp + sizeof tmp;
  unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
  do *--p = (char)('0' + u % 10);
  while (u /= 10);
  if (v < 0) *--p = '-';
  buf_put(b, p, (size_t)(tmp + sizeof tmp - p));
}

static void jkey(struct buf *b, const char *key) {
  size_t n = strlen(key);
  if (!buf_reserve(b, n + 4)) return;
  char *o = b->data + b->len;
  o[0] = ',';
  o[1] = '"';
  memcpy(o + 2, key, n);
  o[n + 2] = '"';
  o[n + 3] = ':';
  b->len += n + 4;
  b->data[b->len] = '\0';
}

static void jkstr(struct buf *b, const char *key, const char *v) {
  jkey(b, key);
  jstr(b, v);
}

static void jkint(struct buf *b, const char *key, long long v) {
  jkey(b, key);
  jint(b, v);
}

static const char *status_name(uint8_t st) {
  return st == HL_STATUS_RESOLVED ? "resolved" : "firing";
}

static void ser_hdr(struct buf *b, const char *digest, uint64_t next_id, int64_t at) {
  buf_printf(b, "{\"t\":\"hdr\",\"v\":%d", JOURNAL_VERSION);
  jkstr(b, "digest", digest ? digest : "");
  jkint(b, "next_id", (long long)next_id);
  jkint(b, "at", (long long)at);
  buf_puts(b, ",\"grp\":1}");
}

/* The steps member of an accept: ,"steps":[...]. */
static void ser_steps(struct buf *b, const struct jlive *l) {
  buf_puts(b, ",\"steps\":[");
  for (uint32_t i = 0; i < l->nsteps; i++) {
    const struct jstep *s = &l->steps[i];
    buf_puts(b, i ? ",{\"kind\":" : "{\"kind\":");
    jint(b, s->kind);
    jkstr(b, "kind_name", s->kind_name);
    if (s->backend) jkstr(b, "backend", s->backend);
    if (s->target) jkstr(b, "target", s->target);
    buf_puts(b, ",\"params\":[");
    for (uint32_t k = 0; k < s->nparams; k++) {
      buf_puts(b, k ? ",[" : "[");
      jstr(b, s->params[k].name);
      buf_putc(b, ',');
      jstr(b, s->params[k].value);
      buf_putc(b, ']');
    }
    buf_puts(b, "]}");
  }
  buf_putc(b, ']');
}

/* The fields an accept and a finished record share, from '{' to created. */
static void ser_rem(struct buf *b, const char *type, const struct jlive *l,
                    const char *reason) {
  buf_puts(b, "{\"t\":");
  jstr(b, type);
  jkint(b, "id", (long long)l->id);
  jkint(b, "rule", l->rule);
  jkstr(b, "rule_name", l->rule_name);
  jkstr(b, "alertname", l->alertname);
  jkstr(b, "fp", l->fp);
  jkstr(b, "starts_at", l->starts_at);
  jkstr(b, "status", status_name(l->status));
  jkint(b, "dry", l->dry);
  jkstr(b, "reason", reason ? reason : "");
  jkint(b, "created", (long long)l->created);
}

static void ser_acc(struct buf *b, const struct jlive *l, int64_t cooldown_until) {
  ser_rem(b, "acc", l, l->reason0);
  if (l->cooldown_key) {
    jkstr(b, "cooldown_key", l->cooldown_key);
    jkint(b, "cooldown_until", (long long)cooldown_until);
  }
  if (l->limit_key) jkstr(b, "limit_key", l->limit_key);
  ser_steps(b, l);
  buf_putc(b, '}');
}

/* A finished remediation, whole: as an accept, without keys, and with its
 * final state, reason and time. */
static void ser_fin(struct buf *b, const struct jlive *l) {
  ser_rem(b, "fin", l, l->reason);
  ser_steps(b, l);
  jkstr(b, "state", rem_state_name(l->state));
  jkint(b, "updated", (long long)l->updated);
  buf_putc(b, '}');
}

static void ser_state(struct buf *b, const struct journal_state *s, int64_t started) {
  buf_puts(b, "{\"t\":\"st\",\"id\":");
  jint(b, (long long)s->id);
  jkstr(b, "state", rem_state_name(s->state));
  jkstr(b, "reason", s->reason ? s->reason : "");
  jkint(b, "at", (long long)s->at_ms);
  if (s->step >= 0) jkint(b, "step", s->step);
  if (s->token) jkstr(b, "token", s->token);
  if (started) jkint(b, "started", (long long)started);
  if (s->cooldown_released) buf_puts(b, ",\"cd_release\":true");
  if (s->forget) buf_puts(b, ",\"forget\":true");
  buf_putc(b, '}');
}

static void ser_abort(struct buf *b, uint64_t id) {
  buf_printf(b, "{\"t\":\"abort\",\"id\":%llu}", (unsigned long long)id);
}

static void ser_ids(struct buf *b, uint64_t next_id) {
  buf_printf(b, "{\"t\":\"ids\",\"next_id\":%llu}", (unsigned long long)next_id);
}

static void ser_dd(struct buf *b, const struct jdd *d) {
  buf_puts(b, "{\"t\":\"dd\",\"rule\":");
  jint(b, d->rule);
  jkstr(b, "rule_name", d->rule_name);
  jkstr(b, "fp", d->fp);
  jkstr(b, "starts_at", d->starts_at);
  jkstr(b, "status", status_name(d->status));
  jkint(b, "id", (long long)d->id);
  jkint(b, "created", (long long)d->created);
  jkint(b, "seen", (long long)d->seen);
  buf_putc(b, '}');
}

static void ser_cd(struct buf *b, const struct jcd *c) {
  buf_puts(b, "{\"t\":\"cd\",\"rule\":");
  jint(b, c->rule);
  jkstr(b, "rule_name", c->rule_name);
  jkstr(b, "key", c->key);
  jkint(b, "until", (long long)c->until);
  jkint(b, "owner", (long long)c->owner);
  buf_putc(b, '}');
}

static void ser_ctl(struct buf *b, const char *key, const char *value) {
  buf_puts(b, "{\"t\":\"ctl\"");
  jkstr(b, "k", key);
  if (value) jkstr(b, "v", value);
  buf_putc(b, '}');
}

/* Appends json as a framed record to out. */
static void frame(struct buf *out, const char *json, size_t n) {
  static const char hex[] = "0123456789abcdef";
  if (!buf_reserve(out, n + 10)) return;
  uint32_t crc = journal_crc32c(0, json, n);
  char *o = out->data + out->len;
  for (int i = 0; i < 8; i++) o[i] = hex[(crc >> (28 - 4 * i)) & 0xf];
  o[8] = ' ';
  memcpy(o + 9, json, n);
  o[9 + n] = '\n';
  out->len += n + 10;
  out->data[out->len] = '\0';
}

/* A group commit: every write that appends to the file (a leader's batch,
 * a re-probe's, the snapshot's records) is opened by a marker record
 * declaring how many bytes follow it in the same write:
 *
 *     <crc> {"t":"grp","len":N}
 *
 * so replay knows where the last write should end, and can tell a write
 * cut short by a crash (only the last one can be) from damage to what was
 * synced before it (see replay()). */
struct grp {
  char b[GRP_MAX];
  size_t n;
};

static void grp_open(struct grp *g, size_t len) {
  char json[40];
  int k = snprintf(json, sizeof json, "{\"t\":\"grp\",\"len\":%zu}", len);
  uint32_t crc = journal_crc32c(0, json, (size_t)k);
  g->n = (size_t)snprintf(g->b, sizeof g->b, "%08x %s\n", (unsigned)crc, json);
}

/* Whether payload is a marker; its length in *len. The writer has one
 * spelling, so this reads only that one. */
static bool grp_parse(const char *payload, size_t n, uint64_t *len) {
  static const char pre[] = "{\"t\":\"grp\",\"len\":";
  size_t k = sizeof pre - 1;
  if (n < k + 2 || memcmp(payload, pre, k) != 0 || payload[n - 1] != '}') return false;
  uint64_t v = 0;
  for (size_t i = k; i < n - 1; i++) {
    if (payload[i] < '0' || payload[i] > '9' || v > UINT64_MAX / 10 - 1) return false;
    v = v * 10 + (uint64_t)(payload[i] - '0');
  }
  *len = v;
  return true;
}

/* Writes a group commit of p[0..n): its marker and the bytes, in one
 * writev() as long as the kernel takes it whole. Nothing for n == 0.
 * The bytes the file grew by in *wrote. */
static int write_group(int fd, const char *p, size_t n, size_t *wrote) {
  *wrote = 0;
  if (!n) return 0;
  struct grp g;
  grp_open(&g, n);
  struct iovec v[2] = {{g.b, g.n}, {(void *)(uintptr_t)p, n}};
  int i = 0;
  while (i < 2) {
    ssize_t w = writev(fd, v + i, 2 - i);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    *wrote += (size_t)w;
    while (i < 2 && (size_t)w >= v[i].iov_len) w -= (ssize_t)v[i++].iov_len;
    if (i < 2) {
      v[i].iov_base = (char *)v[i].iov_base + w;
      v[i].iov_len -= (size_t)w;
    }
  }
  return 0;
}

/* Adds a framed record to the pending batch (lock held). The caller has
 * reserved the room (reserve()), so this cannot fail. */
static void emit(struct journal *j, const struct buf *json) {
  size_t before = j->pend.len;
  frame(&j->pend, json->data, json->len);
  j->lsn_appended += j->pend.len - before;
  j->n_appended++;
}

/* Room in the pending batch for a framed json (lock held). */
static bool reserve(struct journal *j, const struct buf *json) {
  if (buf_reserve(&j->pend, json->len + 16)) return true;
  j->pend.oom = false;        /* the contents are intact */
  return false;
}

static void set_failed(struct journal *j, int err, const char *what) {
  if (j->failed) return;
  j->failed = err ? err : EIO;
  atomic_store(&j->failed_seen, true);
  snprintf(j->failed_why, sizeof j->failed_why, "journal %s/%s: %s failed: %s", j->dir,
           JOURNAL_FILE, what, strerror(j->failed));
  log_printf(LOGL_ERROR,
             "journal %s/%s: %s failed: %s; remediations can no longer be "
             "recorded: webhooks get 503 until a write succeeds again (tried "
             "every second)",
             j->dir, JOURNAL_FILE, what, strerror(j->failed));
}

/* After a failure (journal_tick(), main thread): cuts the file back to what
 * was last written in full (a write cut short by a full disk leaves part of
 * a batch behind), writes what is pending again and syncs it, and the
 * directory. On success the failure is cleared: appends and syncs work
 * again. 0, or -1 (still failed, or a sync or compaction is at work). */
static int fsync_dir(struct journal *j);
static int write_all(int fd, const char *p, size_t n);
static int reprobe(struct journal *j) {
  pthread_mutex_lock(&j->mu);
  if (!j->failed || j->syncing || j->compacting) {
    int out = j->failed ? -1 : 0;
    pthread_mutex_unlock(&j->mu);
    return out;
  }
  j->syncing = true;
  struct buf batch = j->pend;
  j->pend = j->spare;
  buf_reset(&j->pend);
  uint64_t target = j->lsn_appended, keep = j->file_bytes;
  int fd = j->fd;
  pthread_mutex_unlock(&j->mu);
  size_t wrote = 0;
  int rc = ftruncate(fd, (off_t)keep);
  if (rc == 0) rc = write_group(fd, batch.data, batch.len, &wrote);
  if (rc == 0 && !j->no_fsync) rc = fdatasync(fd);
  if (rc == 0) rc = fsync_dir(j);
  pthread_mutex_lock(&j->mu);
  if (rc == 0) {
    j->failed = 0;
    atomic_store(&j->failed_seen, false);
    j->failed_why[0] = '\0';
    j->lsn_durable = target;
    j->file_bytes = keep + wrote;
    j->n_syncs++;
    buf_reset(&batch);
    j->spare = batch;
    if (j->ids_lsn <= j->lsn_durable &&
        atomic_load_explicit(&j->ids_durable, memory_order_relaxed) < j->ids_upto)
      atomic_store_explicit(&j->ids_durable, j->ids_upto, memory_order_release);
    log_printf(LOGL_INFO, "journal %s/%s: writable again; webhooks are accepted again",
               j->dir, JOURNAL_FILE);
  } else {
    buf_put(&batch, j->pend.data, j->pend.len);   /* what came meanwhile, after it */
    struct buf t = j->pend;
    j->pend = batch;
    buf_reset(&t);
    j->spare = t;
  }
  j->syncing = false;
  pthread_cond_broadcast(&j->cv);
  pthread_mutex_unlock(&j->mu);
  return rc == 0 ? 0 : -1;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* ---- appending ------------------------------------------------------------------ */

static struct jlive *jlive_from_rem(const struct hl_ruleset *rs,
                                    const struct remediation *r,
                                    int64_t cooldown_until) {
  struct jlive *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  l->id = r->id;
  l->rule = r->rule;
  l->status = r->alert_status;
  l->dry = r->dry_run;
  l->created = l->updated = r->created_ms;
  l->state = REM_QUEUED;
  l->cooldown_until = r->cooldown_key ? cooldown_until : 0;
  snprintf(l->reason, sizeof l->reason, "%s", r->reason);
  bool ok = (l->rule_name = strdup(r->rule_name ? r->rule_name : "")) &&
            (l->alertname = strdup(r->alertname ? r->alertname : "")) &&
            (l->fp = strdup(r->fingerprint ? r->fingerprint : "")) &&
            (l->starts_at = strdup(r->starts_at ? r->starts_at : "")) &&
            (l->reason0 = strdup(r->reason));
  if (ok && r->cooldown_key) ok = (l->cooldown_key = strdup(r->cooldown_key)) != NULL;
  if (ok && r->limit_key) ok = (l->limit_key = strdup(r->limit_key)) != NULL;
  if (ok && r->nsteps) ok = (l->steps = calloc(r->nsteps, sizeof *l->steps)) != NULL;
  if (!ok) goto fail;
  l->nsteps = r->nsteps;
  for (uint32_t i = 0; i < r->nsteps; i++) {
    const struct rem_step *rs_step = &r->steps[i];
    struct jstep *s = &l->steps[i];
    char kind[REM_KIND_MAX];
    s->kind = rs_step->kind;
    if (!(s->kind_name = strdup(rem_kind_name(rs_step->kind, kind)))) goto fail;
    if (rs_step->backend < rs->nbackends &&
        !(s->backend = strdup(rs->backends[rs_step->backend].name)))
      goto fail;
    if (rs_step->target && !(s->target = strdup(rs_step->target))) goto fail;
    if (rs_step->nparams &&
        !(s->params = calloc(rs_step->nparams, sizeof *s->params)))
      goto fail;
    s->nparams = rs_step->nparams;
    for (uint32_t k = 0; k < rs_step->nparams; k++)
      if (!(s->params[k].name = strdup(rs_step->params[k].name ? rs_step->params[k].name : "")) ||
          !(s->params[k].value = strdup(rs_step->params[k].value ? rs_step->params[k].value : "")))
        goto fail;
  }
  return l;
fail:
  jlive_free(l);
  return NULL;
}

int journal_append_accept(struct journal *j, const struct remediation *r,
                          int64_t cooldown_until_ms, uint64_t *lsn) {
  struct jlive *l = jlive_from_rem(j->rs, r, cooldown_until_ms);
  if (!l) return -1;
  struct buf b;
  buf_init(&b);
  ser_acc(&b, l, l->cooldown_until);
  int rc = -1;
  if (b.oom) goto out;
  pthread_mutex_lock(&j->mu);
  if (!j->failed && reserve(j, &b) && fold_acc(j, l) == 0) {
    l = NULL;                 /* the mirror's now */
    emit(j, &b);
    if (lsn) *lsn = j->lsn_appended;
    rc = 0;
  }
  pthread_mutex_unlock(&j->mu);
out:
  jlive_free(l);
  buf_free(&b);
  return rc;
}

int journal_append_abort(struct journal *j, uint64_t id, uint64_t *lsn) {
  struct buf b;
  buf_init(&b);
  ser_abort(&b, id);
  int rc = -1;
  pthread_mutex_lock(&j->mu);
  if (!j->failed && !b.oom) {
    rc = 0;
    if (find_live(j, id)) {
      if (!reserve(j, &b)) {
        rc = -1;
      } else {
        fold_abort(j, id);
        emit(j, &b);
      }
    }
    if (lsn) *lsn = j->lsn_appended;
  }
  pthread_mutex_unlock(&j->mu);
  buf_free(&b);
  return rc;
}

int journal_append_control(struct journal *j, const char *key, const char *value,
                           uint64_t *lsn) {
  if (!key || !*key || strlen(key) > JOURNAL_CTL_KEY_MAX ||
      (value && strlen(value) > JOURNAL_CTL_VALUE_MAX))
    return -1;
  struct buf b;
  buf_init(&b);
  ser_ctl(&b, key, value);
  int rc = -1;
  pthread_mutex_lock(&j->mu);
  if (!j->failed && !b.oom && reserve(j, &b) && fold_ctl(j, key, value) == 0) {
    emit(j, &b);
    rc = 0;
  }
  if (lsn) *lsn = j->lsn_appended;
  pthread_mutex_unlock(&j->mu);
  buf_free(&b);
  return rc;
}

int journal_append_finished(struct journal *j, const struct remediation *r,
                            uint64_t *lsn) {
  if (!rem_state_final(r->state)) return -1;
  if (!j->hist.max) return 0;           /* set at open, never changed */
  struct jlive *l = jlive_from_rem(j->rs, r, 0);
  if (!l) return -1;
  l->state = r->state;
  l->updated = r->updated_ms;
  struct buf b;
  buf_init(&b);
  ser_fin(&b, l);
  int rc = -1;
  pthread_mutex_lock(&j->mu);
  /* Kept while the journal has failed, like a state change. */
  if (!b.oom && !find_live(j, l->id) && reserve(j, &b)) {
    emit(j, &b);
    if (l->id >= j->next_id) j->next_id = l->id + 1;
    hist_add(j, l);
    l = NULL;                 /* the history's now */
    if (lsn) *lsn = j->lsn_appended;
    rc = 0;
  }
  pthread_mutex_unlock(&j->mu);
  jlive_free(l);
  buf_free(&b);
  return rc;
}

int journal_append_state(struct journal *j, const struct journal_state *s,
                         uint64_t *lsn) {
  if (s->token && strlen(s->token) > JOURNAL_TOKEN_MAX) return -1;
  if (s->state >= REM__COUNT) return -1;
  struct buf b;
  buf_init(&b);
  ser_state(&b, s, 0);
  int rc = -1;
  pthread_mutex_lock(&j->mu);
  /* Appended even while the journal has failed: what happened to a
   * remediation already accepted is kept in memory, and the re-probe
   * writes it with the rest of what is pending (only its sync fails
   * meanwhile). Dropping it would resume a finished remediation after a
   * restart. */
  if (!b.oom) {
    if (!find_live(j, s->id)) {
      rc = 0;                 /* not in flight: nothing to record */
    } else if (reserve(j, &b) && fold_state(j, s, 0) == 0) {
      emit(j, &b);
      rc = 0;
    }
    if (lsn) *lsn = j->lsn_appended;
  }
  pthread_mutex_unlock(&j->mu);
  buf_free(&b);
  return rc;
}

uint64_t journal_note_seen(struct journal *j, uint32_t rule, const char *fingerprint,
                           const char *starts_at, uint8_t alert_status,
                           int64_t now_ms) {
  struct buf k, b;
  buf_init(&k);
  buf_init(&b);
  bool key = rule < j->rs->nrules &&
             dd_key(&k, j->rs->rules[rule].name, fingerprint, starts_at, alert_status);
  pthread_mutex_lock(&j->mu);
  struct jdd *d = key ? hmap_find(&j->dd, k.data, k.len) : NULL;
  if (d && !j->failed && now_ms - d->seen >= j->dedupe_ttl / 8) {
    int64_t was = d->seen;
    d->seen = now_ms;
    ser_dd(&b, d);
    if (!b.oom && reserve(j, &b)) emit(j, &b);
    else d->seen = was;
  }
  uint64_t lsn = j->lsn_appended;
  pthread_mutex_unlock(&j->mu);
  buf_free(&k);
  buf_free(&b);
  return lsn;
}

/* Reserves ahead: once half of the reserved block is used, the next one is
 * appended and rides on the next sync (a webhook's, or the tick's within a
 * second); a caller only waits when its id is not yet reserved on disk
 * (the first id after a start, or ids outrunning the syncs). */
int journal_reserve_id(struct journal *j, uint64_t id) {
  const uint64_t half = JOURNAL_ID_BLOCK / 2;
  if (id + half < atomic_load_explicit(&j->ids_durable, memory_order_acquire)) return 0;
  struct buf b;
  buf_init(&b);
  int rc = -1;
  uint64_t lsn = 0, upto = 0;
  pthread_mutex_lock(&j->mu);
  if (!j->failed) {
    rc = 0;
    uint64_t want = ((id + half) / JOURNAL_ID_BLOCK + 1) * JOURNAL_ID_BLOCK;
    if (want > j->ids_upto) {
      ser_ids(&b, want);
      if (!b.oom && reserve(j, &b)) {
        emit(j, &b);
        j->ids_upto = want;
        j->ids_lsn = j->lsn_appended;
        if (want > j->next_id) j->next_id = want;
      }
    }
    if (id >= atomic_load_explicit(&j->ids_durable, memory_order_relaxed)) {
      if (id < j->ids_upto) {                   /* wait for it to be on disk */
        lsn = j->ids_lsn;
        upto = j->ids_upto;
      } else {
        rc = -1;                                /* out of memory appending */
      }
    }
  }
  pthread_mutex_unlock(&j->mu);
  buf_free(&b);
  if (rc < 0 || journal_sync(j, lsn) < 0) return -1;
  if (upto) {                 /* what we waited for is on disk */
    pthread_mutex_lock(&j->mu);
    if (atomic_load_explicit(&j->ids_durable, memory_order_relaxed) < upto)
      atomic_store_explicit(&j->ids_durable, upto, memory_order_release);
    pthread_mutex_unlock(&j->mu);
  }
  return 0;
}

/* ---- group commit ---------------------------------------------------------------- */

bool journal_durable(struct journal *j, uint64_t lsn) {
  pthread_mutex_lock(&j->mu);
  bool done = j->lsn_durable >= lsn;
  pthread_mutex_unlock(&j->mu);
  return done;
}

int journal_sync(struct journal *j, uint64_t lsn) {
  if (lsn == 0) return 0;
  pthread_mutex_lock(&j->mu);
  if (lsn == JOURNAL_LSN_ALL || lsn > j->lsn_appended) lsn = j->lsn_appended;
  bool waited = false;
  while (!j->failed && j->lsn_durable < lsn) {
    if (j->syncing) {         /* a leader is at work: it may cover us */
      if (!waited) j->n_waits++;
      waited = true;
      pthread_cond_wait(&j->cv, &j->mu);
      continue;
    }
    /* Lead: take the whole batch, write and sync it outside the lock. */
    j->syncing = true;
    struct buf batch = j->pend;
    j->pend = j->spare;
    buf_reset(&j->pend);
    uint64_t target = j->lsn_appended;
    int fd = j->fd;
    bool no_fsync = j->no_fsync;
    pthread_mutex_unlock(&j->mu);
    int64_t t0 = j->commit_hist ? hist_now_us() : 0;
    size_t wrote;
    int rc = write_group(fd, batch.data, batch.len, &wrote);
    const char *what = "write";
    if (rc == 0 && !no_fsync) {
      rc = fdatasync(fd);
      what = "fdatasync";
    }
    int e = errno;
    if (j->commit_hist) hist_observe_us(j->commit_hist, hist_now_us() - t0);
    pthread_mutex_lock(&j->mu);
    if (rc != 0) {
      set_failed(j, e, what);
      /* Kept for journal_tick()'s re-probe, which cuts what part of it
       * reached the file and writes it again, followed by what was
       * appended since the batch was taken (state changes go on being
       * appended while the journal has failed; accepts do not). */
      buf_put(&batch, j->pend.data, j->pend.len);
      if (!batch.oom) {
        struct buf t = j->pend;
        j->pend = batch;
        batch = t;
      }
    } else {
      j->lsn_durable = target;
      j->n_syncs++;
      /* The marker is rebuilt for the copy (the same bytes). */
      if (j->compacting && batch.len) {
        struct grp g;
        grp_open(&g, batch.len);
        buf_put(&j->catchup, g.b, g.n);
        buf_put(&j->catchup, batch.data, batch.len);
      }
      j->file_bytes += wrote;
    }
    buf_reset(&batch);
    j->spare = batch;
    j->syncing = false;
    pthread_cond_broadcast(&j->cv);
  }
  /* The ids reserved are on disk once their record is. */
  if (!j->failed && j->ids_lsn <= j->lsn_durable &&
      atomic_load_explicit(&j->ids_durable, memory_order_relaxed) < j->ids_upto)
    atomic_store_explicit(&j->ids_durable, j->ids_upto, memory_order_release);
  int out = j->failed ? -1 : 0;
  pthread_mutex_unlock(&j->mu);
  return out;
}

/* ---- expiry and snapshots --------------------------------------------------------- */

struct sweep_ctx {
  struct journal *j;
  int64_t now, cutoff;
};

static bool dd_expired(void *p, void *ctx) {
  struct jdd *d = p;
  const struct sweep_ctx *s = ctx;
  if (d->live || d->seen >= s->cutoff) return false;
  drop_dd(d);
  return true;
}

static bool cd_expired(void *p, void *ctx) {
  struct jcd *c = p;
  const struct sweep_ctx *s = ctx;
  if (c->until > s->now) return false;
  drop_cd(c);
  return true;
}

struct seen_list {
  int64_t *v;
  size_t n;
};

static void collect_seen(void *p, void *ctx) {
  struct jdd *d = p;
  struct seen_list *l = ctx;
  if (!d->live) l->v[l->n++] = d->seen;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static void count_dead(void *p, void *ctx) {
  if (!((struct jdd *)p)->live) (*(size_t *)ctx)++;
}

/* Drops what decide would have dropped by now (lock held). */
static void expire(struct journal *j, int64_t now) {
  struct sweep_ctx s = {j, now, now - j->dedupe_ttl};
  hmap_sweep(&j->dd, dd_expired, &s);
  hmap_sweep(&j->cd, cd_expired, &s);
  if (!j->dedupe_max) return;
  size_t dead = 0;
  hmap_each(&j->dd, count_dead, &dead);
  if (dead <= j->dedupe_max) return;
  struct seen_list l = {malloc(dead * sizeof(int64_t)), 0};
  if (!l.v) return;
  hmap_each(&j->dd, collect_seen, &l);
  qsort(l.v, l.n, sizeof *l.v, cmp_i64);
  /* Keep the dedupe_max most recently seen (ties may keep a few more). */
  s.cutoff = l.v[l.n - j->dedupe_max];
  free(l.v);
  hmap_sweep(&j->dd, dd_expired, &s);
}

struct ptr_list {
  void **v;
  size_t n, cap;
  bool oom;
};

static void collect_ptr(void *p, void *ctx) {
  struct ptr_list *l = ctx;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    void **v = realloc(l->v, cap * sizeof *v);
    if (!v) {
      l->oom = true;
      return;
    }
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = p;
}

static int cmp_rem(const void *a, const void *b) {
  const struct mrem *x = *(void *const *)a, *y = *(void *const *)b;
  return x->l->id < y->l->id ? -1 : x->l->id > y->l->id;
}

/* The in-flight remediations, sorted by id (lock held). */
static int live_sorted(struct journal *j, struct ptr_list *l) {
  memset(l, 0, sizeof *l);
  hmap_each(&j->rems, collect_ptr, l);
  if (l->oom) {
    free(l->v);
    return -1;
  }
  if (l->n) qsort(l->v, l->n, sizeof *l->v, cmp_rem);
  return 0;
}

/* The cooldown l holds, or 0 (lock held). */
static int64_t held_cooldown(struct journal *j, const struct jlive *l) {
  if (!l->cooldown_key) return 0;
  struct jcd *c = hmap_find(&j->cd, l->cooldown_key, strlen(l->cooldown_key));
  return c && c->owner == l->id ? c->until : 0;
}

struct snap {
  struct journal *j;
  struct buf *out, rec;
};

/* Frames s->rec into the output. */
static void snap_rec(struct snap *s) {
  if (s->rec.oom) s->out->oom = true;
  else frame(s->out, s->rec.data, s->rec.len);
  buf_reset(&s->rec);
}

static void snap_dd(void *p, void *ctx) {
  struct jdd *d = p;
  struct snap *s = ctx;
  if (d->live) return;        /* written with its remediation */
  ser_dd(&s->rec, d);
  snap_rec(s);
}

static void snap_cd(void *p, void *ctx) {
  struct jcd *c = p;
  struct snap *s = ctx;
  struct jlive *l = find_live(s->j, c->owner);
  if (l && l->cooldown_key && strcmp(l->cooldown_key, c->key) == 0) return;
  ser_cd(&s->rec, c);
  snap_rec(s);
}

static void snap_ctl(void *p, void *ctx) {
  struct jctl *c = p;
  struct snap *s = ctx;
  ser_ctl(&s->rec, c->key, c->value);
  snap_rec(s);
}

/* The live state as framed records, into out (lock held). 0 or -1. */
/* The live state as a new file: its header (framed) into hdr, the records
 * after it into out; they are written as the header and then one group
 * commit. */
static int build_snapshot(struct journal *j, int64_t now, struct buf *hdr, struct buf *out) {
  struct snap s;
  s.j = j;
  s.out = hdr;
  buf_init(&s.rec);
  /* next_id is past the ids reserved too: no "ids" record needed. */
  ser_hdr(&s.rec, j->rs->digest, j->next_id, now);
  snap_rec(&s);
  if (hdr->oom) {
    buf_free(&s.rec);
    return -1;
  }
  s.out = out;
  /* The history, oldest first. */
  for (size_t i = 0; i < j->hist.n && !out->oom; i++) {
    ser_fin(&s.rec, j->hist.v[j->hist.head + i]);
    snap_rec(&s);
  }
  struct ptr_list live;
  if (live_sorted(j, &live) < 0) out->oom = true;
  for (size_t i = 0; i < live.n && !out->oom; i++) {
    const struct jlive *l = ((struct mrem *)live.v[i])->l;
    ser_acc(&s.rec, l, held_cooldown(j, l));
    snap_rec(&s);
    /* The tokens of the other steps, then the current step's state. */
    struct journal_state st = {l->id, l->state, l->reason, l->updated, -1, NULL, false, false};
    bool any = l->state != REM_QUEUED || l->started || l->updated != l->created ||
               strcmp(l->reason, l->reason0 ? l->reason0 : "") != 0;
    for (uint32_t k = 0; k < l->nsteps; k++) {
      if (!l->steps[k].token || k == l->step) continue;
      st.step = (int32_t)k;
      st.token = l->steps[k].token;
      ser_state(&s.rec, &st, l->started);
      snap_rec(&s);
    }
    if (any || (l->step < l->nsteps && l->steps[l->step].token)) {
      st.step = (int32_t)l->step;
      st.token = l->step < l->nsteps ? l->steps[l->step].token : NULL;
      ser_state(&s.rec, &st, l->started);
      snap_rec(&s);
    }
    struct buf k;
    buf_init(&k);
    struct jdd *d = dd_key(&k, l->rule_name, l->fp, l->starts_at, l->status)
                        ? hmap_find(&j->dd, k.data, k.len) : NULL;
    buf_free(&k);
    if (d && d->id == l->id && d->seen > l->created) {
      ser_dd(&s.rec, d);
      snap_rec(&s);
    }
  }
  free(live.v);
  if (!out->oom) hmap_each(&j->dd, snap_dd, &s);
  if (!out->oom) hmap_each(&j->cd, snap_cd, &s);
  if (!out->oom) hmap_each(&j->ctl, snap_ctl, &s);
  buf_free(&s.rec);
  return out->oom ? -1 : 0;
}

static int fsync_dir(struct journal *j) {
  return j->no_fsync ? 0 : fsync(j->dirfd);
}

/* Ends a compaction that did not happen (lock held): the old file stays. */
static int compact_abort(struct journal *j, int fd, const char *what, int err) {
  log_printf(LOGL_ERROR, "journal %s: compaction failed (%s: %s); the journal goes on in %s",
             j->dir, what, strerror(err ? err : EIO), JOURNAL_FILE);
  if (fd >= 0) close(fd);
  unlinkat(j->dirfd, TMP_FILE, 0);
  j->compacting = false;
  buf_free(&j->catchup);
  pthread_cond_broadcast(&j->cv);
  return -1;
}

/* Replaces the file with a snapshot of the live state, in three steps:
 *   1. (lock held) everything pending is written to the old file, and the
 *      live state serialized into memory: the snapshot's boundary;
 *   2. (no lock) the snapshot written to journal.log.tmp and synced, while
 *      appends and syncs go on in the old file; each batch written there
 *      meanwhile is also kept (catchup);
 *   3. (lock held, no leader at work) the catchup written to the new file
 *      and synced, the new file renamed over the old, the directory synced.
 * Appenders wait only in steps 1 and 3. Failing before the rename leaves
 * the old file in place (-1, not sticky); after it, the journal has
 * failed. */
int journal_compact(struct journal *j, int64_t now_ms) {
  pthread_mutex_lock(&j->mu);
  while (j->syncing || j->compacting) pthread_cond_wait(&j->cv, &j->mu);
  int64_t t1 = mono_us();
  int64_t began = t1;
  if (j->failed) {
    pthread_mutex_unlock(&j->mu);
    return -1;
  }
  if (j->pend.len) {
    size_t wrote;
    if (write_group(j->fd, j->pend.data, j->pend.len, &wrote) < 0) {
      set_failed(j, errno, "write");
      pthread_mutex_unlock(&j->mu);
      return -1;
    }
    j->file_bytes += wrote;
    buf_reset(&j->pend);
  }
  expire(j, now_ms);
  struct buf hdr, snap;
  buf_init(&hdr);
  buf_init(&snap);
  buf_reserve(&snap, j->snapshot_bytes + j->snapshot_bytes / 4 + 65536);   /* no regrowth */
  if (build_snapshot(j, now_ms, &hdr, &snap) < 0) {
    pthread_mutex_unlock(&j->mu);
    buf_free(&hdr);
    buf_free(&snap);
    log_printf(LOGL_ERROR, "journal %s: compaction failed: out of memory", j->dir);
    return -1;
  }
  j->compacting = true;
  buf_init(&j->catchup);
  bool no_fsync = j->no_fsync;
  int64_t held = mono_us() - t1;
  pthread_mutex_unlock(&j->mu);

  int fd = openat(j->dirfd, TMP_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
                  0600);
  size_t wrote = 0;
  int rc = fd < 0 ? -1 : write_all(fd, hdr.data, hdr.len);
  if (rc == 0) rc = write_group(fd, snap.data, snap.len, &wrote);
  if (rc == 0 && !no_fsync) rc = fdatasync(fd);
  int err = errno;
  uint64_t bytes = hdr.len + wrote;
  buf_free(&hdr);
  buf_free(&snap);

  pthread_mutex_lock(&j->mu);
  while (j->syncing) pthread_cond_wait(&j->cv, &j->mu);
  int64_t t3 = mono_us();
  if (rc != 0) {
    rc = compact_abort(j, fd, "writing " TMP_FILE, err);
    pthread_mutex_unlock(&j->mu);
    return rc;
  }
  if (j->catchup.oom || j->failed) {
    rc = compact_abort(j, fd, "keeping up with appends", j->failed ? j->failed : ENOMEM);
    pthread_mutex_unlock(&j->mu);
    return rc;
  }
  if (j->catchup.len && (write_all(fd, j->catchup.data, j->catchup.len) < 0 ||
                         (!no_fsync && fdatasync(fd) < 0))) {
    rc = compact_abort(j, fd, "writing " TMP_FILE, errno);
    pthread_mutex_unlock(&j->mu);
    return rc;
  }
  if (renameat(j->dirfd, TMP_FILE, j->dirfd, JOURNAL_FILE) != 0) {
    rc = compact_abort(j, fd, "rename", errno);
    pthread_mutex_unlock(&j->mu);
    return rc;
  }
  close(j->fd);
  j->fd = fd;
  j->file_bytes = bytes + j->catchup.len;
  j->snapshot_bytes = bytes;
  j->compacting = false;
  buf_free(&j->catchup);
  j->n_compactions++;
  rc = 0;
  if (fsync_dir(j) != 0) {
    set_failed(j, errno, "fsync of the directory");
    rc = -1;
  }
  int64_t end = mono_us();
  j->compact_lock_us = (uint64_t)(held + end - t3);
  j->compact_us = (uint64_t)(end - began);
  pthread_cond_broadcast(&j->cv);
  pthread_mutex_unlock(&j->mu);
  return rc;
}

static uint64_t threshold(const struct journal *j) {
  uint64_t t = j->snapshot_bytes * 2;
  return t > j->compact_bytes ? t : j->compact_bytes;
}

int journal_tick(struct journal *j, int64_t now_ms) {
  if (atomic_load(&j->failed_seen) && reprobe(j) < 0) return -1;
  if (journal_sync(j, JOURNAL_LSN_ALL) < 0) return -1;
  pthread_mutex_lock(&j->mu);
  bool due = j->file_bytes + j->pend.len > threshold(j);
  pthread_mutex_unlock(&j->mu);
  if (!due) return 0;
  if (journal_compact(j, now_ms) < 0) return -1;
  struct journal_stats st;
  journal_stats(j, &st);
  log_printf(LOGL_INFO, "journal compacted: %llu bytes, %zu in flight, %zu dedupe keys, "
             "%zu cooldowns", (unsigned long long)st.file_bytes, st.inflight, st.dedupe,
             st.cooldowns);
  return 0;
}

void journal_stats(struct journal *j, struct journal_stats *out) {
  pthread_mutex_lock(&j->mu);
  out->appended = j->n_appended;
  out->syncs = j->n_syncs;
  out->sync_waits = j->n_waits;
  out->compactions = j->n_compactions;
  out->file_bytes = j->file_bytes;
  out->pending_bytes = j->pend.len;
  out->snapshot_bytes = j->snapshot_bytes;
  out->compact_lock_us = j->compact_lock_us;
  out->compact_us = j->compact_us;
  out->ids_reserved = atomic_load_explicit(&j->ids_durable, memory_order_relaxed);
  out->inflight = j->rems.count;
  out->dedupe = j->dd.count;
  out->cooldowns = j->cd.count;
  out->history = j->hist.n;
  out->failed = j->failed != 0;
  pthread_mutex_unlock(&j->mu);
}

bool journal_failure(struct journal *j, char *why, size_t n) {
  if (!atomic_load(&j->failed_seen)) {   /* the usual case: no lock */
    if (why && n) *why = '\0';
    return false;
  }
  pthread_mutex_lock(&j->mu);
  bool failed = j->failed != 0;
  if (why && n) snprintf(why, n, "%s", failed ? j->failed_why : "");
  pthread_mutex_unlock(&j->mu);
  return failed;
}

/* ---- reading records ------------------------------------------------------------ */

static const cJSON *member(const cJSON *o, const char *k) {
  return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* A string member: NULL when absent or null; "bad" set when not a string. */
static const char *g_str(const cJSON *o, const char *k, bool required, const char **bad) {
  const cJSON *v = member(o, k);
  if (!v || cJSON_IsNull(v)) {
    if (required && !*bad) *bad = k;
    return NULL;
  }
  if (!cJSON_IsString(v) || !v->valuestring) {
    if (!*bad) *bad = k;
    return NULL;
  }
  return v->valuestring;
}

static int64_t g_int(const cJSON *o, const char *k, bool required, const char **bad) {
  const cJSON *v = member(o, k);
  if (!v) {
    if (required && !*bad) *bad = k;
    return 0;
  }
  double d = cJSON_IsNumber(v) ? v->valuedouble : 0.5;
  if (!(d >= -(double)MAX_SAFE_INT && d <= (double)MAX_SAFE_INT) || d != (double)(int64_t)d) {
    if (!*bad) *bad = k;
    return 0;
  }
  return (int64_t)d;
}

static uint8_t g_status(const cJSON *o, const char **bad) {
  const char *s = g_str(o, "status", true, bad);
  if (!s) return HL_STATUS_FIRING;
  if (strcmp(s, "firing") == 0) return HL_STATUS_FIRING;
  if (strcmp(s, "resolved") == 0) return HL_STATUS_RESOLVED;
  if (!*bad) *bad = "status";
  return HL_STATUS_FIRING;
}

static struct jlive *parse_acc(const cJSON *o, const char **bad) {
  struct jlive *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  int64_t id = g_int(o, "id", true, bad);
  int64_t rule = g_int(o, "rule", true, bad);
  if (id <= 0 && !*bad) *bad = "id";
  if ((rule < 0 || rule > UINT32_MAX) && !*bad) *bad = "rule";
  int64_t dry = g_int(o, "dry", false, bad);
  l->id = (uint64_t)id;
  l->rule = (uint32_t)rule;
  l->status = g_status(o, bad);
  l->dry = dry >= 0 && dry <= 255 ? (uint8_t)dry : 0;
  l->created = l->updated = g_int(o, "created", true, bad);
  l->cooldown_until = g_int(o, "cooldown_until", false, bad);
  l->state = REM_QUEUED;
  const char *reason = g_str(o, "reason", false, bad);
  snprintf(l->reason, sizeof l->reason, "%s", reason ? reason : "");
  const char *s;
  bool ok = (l->rule_name = xstrdup(g_str(o, "rule_name", true, bad))) &&
            (l->alertname = xstrdup(g_str(o, "alertname", true, bad))) &&
            (l->fp = xstrdup(g_str(o, "fp", true, bad))) &&
            (l->starts_at = xstrdup(g_str(o, "starts_at", true, bad))) &&
            (l->reason0 = strdup(l->reason));
  if (ok && (s = g_str(o, "cooldown_key", false, bad))) ok = (l->cooldown_key = strdup(s)) != NULL;
  if (ok && (s = g_str(o, "limit_key", false, bad))) ok = (l->limit_key = strdup(s)) != NULL;
  const cJSON *steps = member(o, "steps");
  if (ok && !cJSON_IsArray(steps)) {
    if (!*bad) *bad = "steps";
    ok = false;
  }
  int n = ok ? cJSON_GetArraySize(steps) : 0;
  if (ok && n && !(l->steps = calloc((size_t)n, sizeof *l->steps))) ok = false;
  const cJSON *st = ok ? steps->child : NULL;
  for (int i = 0; ok && i < n; i++, st = st->next) {
    struct jstep *js = &l->steps[i];
    l->nsteps = (uint32_t)i + 1;
    int64_t kind = g_int(st, "kind", true, bad);
    js->kind = kind >= 0 && kind < 256 ? (uint8_t)kind : 0;
    ok = (js->kind_name = xstrdup(g_str(st, "kind_name", true, bad))) != NULL;
    if (ok && (s = g_str(st, "backend", false, bad))) ok = (js->backend = strdup(s)) != NULL;
    if (ok && (s = g_str(st, "target", false, bad))) ok = (js->target = strdup(s)) != NULL;
    const cJSON *ps = member(st, "params");
    if (ok && !cJSON_IsArray(ps)) {
      if (!*bad) *bad = "params";
      ok = false;
    }
    int np = ok ? cJSON_GetArraySize(ps) : 0;
    if (ok && np && !(js->params = calloc((size_t)np, sizeof *js->params))) ok = false;
    const cJSON *p = ok ? ps->child : NULL;
    for (int k = 0; ok && k < np; k++, p = p->next) {
      js->nparams = (uint32_t)k + 1;
      const cJSON *nm = cJSON_GetArrayItem(p, 0), *vl = cJSON_GetArrayItem(p, 1);
      if (!cJSON_IsArray(p) || !cJSON_IsString(nm) || !cJSON_IsString(vl)) {
        if (!*bad) *bad = "params";
        ok = false;
        break;
      }
      ok = (js->params[k].name = strdup(nm->valuestring)) &&
           (js->params[k].value = strdup(vl->valuestring));
    }
  }
  if (!ok || *bad) {
    jlive_free(l);
    return NULL;
  }
  return l;
}

static int parse_state(const char *name, enum rem_state *out) {
  for (int s = 0; s < REM__COUNT; s++)
    if (strcmp(rem_state_name((enum rem_state)s), name) == 0) {
      *out = (enum rem_state)s;
      return 0;
    }
  return -1;
}

enum hdr_rule {
  HDR_REQUIRED,               /* the first record of a file */
  HDR_OPTIONAL,               /* recovering, no header seen yet */
  HDR_FORBIDDEN               /* after the header */
};

/* Applies one record's JSON. 0, or -1 with why filled. */
static int apply(struct journal *j, const char *json, size_t n, enum hdr_rule hr,
                 char *why, size_t wn) {
  const char *end = NULL;
  cJSON *o = cJSON_ParseWithLengthOpts(json, n, &end, 0);
  if (!o || !cJSON_IsObject(o)) {
    snprintf(why, wn, "not a JSON object");
    cJSON_Delete(o);
    return -1;
  }
  const char *bad = NULL;
  const char *t = g_str(o, "t", true, &bad);
  int rc = -1;
  if (!t) {
    snprintf(why, wn, "no record type (\"t\")");
    goto out;
  }
  bool is_hdr = strcmp(t, "hdr") == 0;
  if ((hr == HDR_REQUIRED && !is_hdr) || (hr == HDR_FORBIDDEN && is_hdr)) {
    snprintf(why, wn, is_hdr ? "a header in the middle of the file"
                             : "the first record is not a header (\"t\":\"hdr\")");
    goto out;
  }
  if (is_hdr) {
    int64_t v = g_int(o, "v", true, &bad);
    const char *digest = g_str(o, "digest", true, &bad);
    int64_t next = g_int(o, "next_id", false, &bad);
    if (bad) goto badfield;
    int64_t grouped = g_int(o, "grp", false, &bad);
    if (bad) goto badfield;
    if (v != JOURNAL_VERSION) {
      snprintf(why, wn, "format version %lld, this healer reads version %d", (long long)v,
               JOURNAL_VERSION);
      goto out;
    }
    j->file_grouped = grouped == 1;
    free(j->file_digest);
    if (!(j->file_digest = strdup(digest))) goto nomem;
    if (next > 0 && (uint64_t)next > j->next_id) j->next_id = (uint64_t)next;
    rc = 0;
  } else if (strcmp(t, "acc") == 0) {
    struct jlive *l = parse_acc(o, &bad);
    if (!l) {
      if (bad) goto badfield;
      goto nomem;
    }
    if (find_live(j, l->id)) {
      snprintf(why, wn, "remediation %llu accepted twice", (unsigned long long)l->id);
      jlive_free(l);
      goto out;
    }
    if (fold_acc(j, l) < 0) {
      jlive_free(l);
      goto nomem;
    }
    rc = 0;
  } else if (strcmp(t, "fin") == 0) {
    struct jlive *l = parse_acc(o, &bad);
    if (!l) {
      if (bad) goto badfield;
      goto nomem;
    }
    const char *state = g_str(o, "state", true, &bad);
    int64_t updated = g_int(o, "updated", true, &bad);
    if (!bad && (parse_state(state, &l->state) < 0 || !rem_state_final(l->state)))
      bad = "state";
    if (bad) {
      jlive_free(l);
      goto badfield;
    }
    if (find_live(j, l->id)) {
      snprintf(why, wn, "remediation %llu finished while in flight", (unsigned long long)l->id);
      jlive_free(l);
      goto out;
    }
    l->updated = updated;
    if (l->id >= j->next_id) j->next_id = l->id + 1;
    hist_add(j, l);
    rc = 0;
  } else if (strcmp(t, "st") == 0) {
    struct journal_state s = {0};
    s.id = (uint64_t)g_int(o, "id", true, &bad);
    const char *state = g_str(o, "state", true, &bad);
    s.reason = g_str(o, "reason", false, &bad);
    s.at_ms = g_int(o, "at", true, &bad);
    int64_t step = member(o, "step") ? g_int(o, "step", false, &bad) : -1;
    s.token = g_str(o, "token", false, &bad);
    int64_t started = g_int(o, "started", false, &bad);
    s.cooldown_released = cJSON_IsTrue(member(o, "cd_release"));
    s.forget = cJSON_IsTrue(member(o, "forget"));
    if (!bad && parse_state(state, &s.state) < 0) bad = "state";
    if (!bad && (step < -1 || step > INT32_MAX)) bad = "step";
    if (bad) goto badfield;
    s.step = (int32_t)step;
    int f = fold_state(j, &s, started);
    if (f == -1) goto nomem;
    if (f == -2) {
      snprintf(why, wn, "step %lld out of range for remediation %llu", (long long)step,
               (unsigned long long)s.id);
      goto out;
    }
    rc = 0;
  } else if (strcmp(t, "ids") == 0) {
    int64_t next = g_int(o, "next_id", true, &bad);
    if (!bad && next <= 0) bad = "next_id";
    if (bad) goto badfield;
    if ((uint64_t)next > j->next_id) j->next_id = (uint64_t)next;
    rc = 0;
  } else if (strcmp(t, "abort") == 0) {
    int64_t id = g_int(o, "id", true, &bad);
    if (bad) goto badfield;
    fold_abort(j, (uint64_t)id);
    rc = 0;
  } else if (strcmp(t, "dd") == 0) {
    int64_t rule = g_int(o, "rule", true, &bad);
    const char *rn = g_str(o, "rule_name", true, &bad);
    const char *fp = g_str(o, "fp", true, &bad);
    const char *sa = g_str(o, "starts_at", true, &bad);
    uint8_t status = g_status(o, &bad);
    int64_t id = g_int(o, "id", true, &bad);
    int64_t created = g_int(o, "created", true, &bad);
    int64_t seen = g_int(o, "seen", true, &bad);
    if (!bad && (rule < 0 || rule > UINT32_MAX)) bad = "rule";
    if (bad) goto badfield;
    if (fold_dd(j, (uint32_t)rule, rn, fp, sa, status, (uint64_t)id, created, seen) < 0)
      goto nomem;
    if (id > 0 && (uint64_t)id >= j->next_id) j->next_id = (uint64_t)id + 1;
    rc = 0;
  } else if (strcmp(t, "ctl") == 0) {
    const char *key = g_str(o, "k", true, &bad);
    const char *value = g_str(o, "v", false, &bad);
    if (bad) goto badfield;
    if (fold_ctl(j, key, value) < 0) goto nomem;
    rc = 0;
  } else if (strcmp(t, "cd") == 0) {
    int64_t rule = g_int(o, "rule", true, &bad);
    const char *rn = g_str(o, "rule_name", true, &bad);
    const char *key = g_str(o, "key", true, &bad);
    int64_t until = g_int(o, "until", true, &bad);
    int64_t owner = g_int(o, "owner", true, &bad);
    if (!bad && (rule < 0 || rule > UINT32_MAX)) bad = "rule";
    if (bad) goto badfield;
    if (fold_cd(j, (uint32_t)rule, rn, key, until, (uint64_t)owner) < 0) goto nomem;
    rc = 0;
  } else {
    snprintf(why, wn, "unknown record type \"%.32s\"", t);
  }
  goto out;
badfield:
  snprintf(why, wn, "field \"%s\" missing or of the wrong type", bad);
  goto out;
nomem:
  snprintf(why, wn, "out of memory");
out:
  cJSON_Delete(o);
  return rc;
}

/* Whether line[0..len) is framed: 8 hex digits, a space, then something. */
static bool framed(const char *line, size_t len) {
  if (len < 10 || line[8] != ' ') return false;
  for (int i = 0; i < 8; i++)
    if (!((line[i] >= '0' && line[i] <= '9') || (line[i] >= 'a' && line[i] <= 'f'))) return false;
  return true;
}

/* Checks a line's frame and checksum: 0 and the payload, or -1 with why. */
static int check_line(const char *line, size_t len, const char **payload,
                      size_t *plen, char *why, size_t wn) {
  if (!framed(line, len)) {
    snprintf(why, wn, "bad frame (want 8 hex digits, a space, then JSON)");
    return -1;
  }
  uint32_t stored = 0;
  for (int i = 0; i < 8; i++)     /* framed: lowercase hex */
    stored = stored << 4 | (uint32_t)(line[i] <= '9' ? line[i] - '0' : line[i] - 'a' + 10);
  uint32_t got = journal_crc32c(0, line + 9, len - 9);
  if (got != stored) {
    snprintf(why, wn, "checksum mismatch (stored %08x, computed %08x)", stored, got);
    return -1;
  }
  *payload = line + 9;
  *plen = len - 9;
  return 0;
}

/* The offset of the first good (framed, checksummed) record at or after
 * off, or SIZE_MAX when there is none. */
static size_t first_good(const char *data, size_t n, size_t off) {
  char why[192];
  while (off < n) {
    const char *line = data + off;
    const char *nl = memchr(line, '\n', n - off);
    if (!nl) break;
    size_t len = (size_t)(nl - line);
    const char *p;
    size_t pl;
    if (check_line(line, len, &p, &pl, why, sizeof why) == 0) return off;
    off += len + 1;
  }
  return SIZE_MAX;
}

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* The last group commit read: where the bytes it declared end. */
struct grp_span {
  bool on;                    /* a marker or a header saying "grp" was read */
  size_t end;
};

/* Why the bad bytes data[off..n), among which no record is good, are not
 * what a crash in the middle of a write leaves behind; NULL when they may
 * be (a torn tail, cut without a word). A crash leaves a prefix of the
 * last write, or on some file systems blocks of it zero-filled: never a
 * complete record that fails its checksum (a framed line), and never
 * bytes past the end its marker declared. Journals written before group
 * commits have no markers: only the first test applies to them. */
static const char *not_torn(const char *data, size_t off, size_t n, const struct grp_span *g,
                            char *why, size_t wn) {
  for (size_t p = off; p < n;) {
    const char *nl = memchr(data + p, '\n', n - p);
    if (!nl) break;
    if (framed(data + p, (size_t)(nl - (data + p)))) {
      snprintf(why, wn, "the record at offset %zu is complete but damaged", p);
      return why;
    }
    p = (size_t)(nl - data) + 1;
  }
  if (!g->on || off == g->end) return NULL;   /* the next write's marker torn */
  if (off > g->end) {
    snprintf(why, wn, "it lies after the end of the last write (offset %zu)", g->end);
    return why;
  }
  if (n > g->end) {
    snprintf(why, wn, "the file runs %zu bytes past the end of the last write (offset %zu)",
             n - g->end, g->end);
    return why;
  }
  return NULL;
}

/* The lines in data[off..n), an incomplete last one included. */
static uint64_t count_lines(const char *data, size_t off, size_t n) {
  uint64_t k = 0;
  for (const char *p = data + off, *e = data + n; p < e; k++) {
    const char *nl = memchr(p, '\n', (size_t)(e - p));
    p = nl ? nl + 1 : e;
  }
  return k;
}

/* Replays data[0..n) into the mirror. Sets *keep to the bytes that stay
 * (the rest is a torn tail, or with cfg.recover a damaged one: then
 * info->lost_records counts it). 0, or -1 with err.
 *
 * Bad data followed by a good record is corruption. Bad data at the end
 * is a torn tail only where the last write could have left it (see
 * not_torn()); otherwise it is damage to records that were synced, and
 * may hold acknowledged remediations: refused like corruption. */
static int replay(struct journal *j, const char *data, size_t n,
                  struct journal_open_info *info, size_t *keep, char *err,
                  size_t errlen) {
  size_t off = 0, good = 0;   /* good: the next good record at or after off */
  uint64_t recno = 0;
  bool have_header = false;
  struct grp_span span = {false, 0};
  char why[192], whynot[160];
  *keep = n;
  while (off < n) {
    const char *line = data + off;
    const char *nl = memchr(line, '\n', n - off);
    size_t len = nl ? (size_t)(nl - line) : n - off;
    size_t next = off + len + (nl ? 1 : 0);
    const char *payload = NULL;
    size_t plen = 0;
    int bad = 0;
    if (!nl) {
      snprintf(why, sizeof why, "incomplete record (no newline before the end of the file)");
      bad = 1;
    } else if (check_line(line, len, &payload, &plen, why, sizeof why) < 0) {
      bad = 1;
    }
    if (bad) {
      if (good < next) good = first_good(data, n, next);
      const char *nt = good == SIZE_MAX ? not_torn(data, off, n, &span, whynot, sizeof whynot)
                                        : NULL;
      if (good == SIZE_MAX && !nt) { /* a torn tail: cut it off */
        info->torn_offset = off;
        info->torn_bytes = n - off;
        *keep = off;
        log_printf(LOGL_WARN,
                   "journal %s/%s: torn record at offset %zu (%zu bytes to the end: "
                   "%s), left by a crash mid-write: cut off",
                   j->dir, JOURNAL_FILE, off, n - off, why);
        return 0;
      }
      if (good == SIZE_MAX) {   /* damage at the end, not a torn write */
        if (!j->recover) {
          errf(err, errlen,
               "journal %s/%s is damaged at its end: record %llu at offset %zu: %s, and "
               "this is not what a crash mid-write leaves (%s), so records synced "
               "earlier may be lost; start with --journal-recover to cut it off (the "
               "damaged file is kept beside the new one), or move the file away",
               j->dir, JOURNAL_FILE, (unsigned long long)recno + 1, off, why, nt);
          return -1;
        }
        uint64_t lost = count_lines(data, off, n);
        log_printf(LOGL_WARN,
                   "journal %s/%s: --journal-recover: cutting a damaged end at offset %zu "
                   "(%zu bytes, %llu records: %s; %s)",
                   j->dir, JOURNAL_FILE, off, n - off, (unsigned long long)lost, why, nt);
        info->lost_records += lost;
        *keep = off;
        return 0;
      }
      if (!j->recover) {
        errf(err, errlen,
             "journal %s/%s is corrupt: record %llu at offset %zu: %s, and good "
             "records follow it (the next at offset %zu); start with --journal-recover "
             "to skip damaged records (they are lost), or move the file away",
             j->dir, JOURNAL_FILE, (unsigned long long)recno + 1, off, why, good);
        return -1;
      }
      log_printf(LOGL_WARN, "journal %s/%s: skipping corrupt record %llu at offset %zu: %s",
                 j->dir, JOURNAL_FILE, (unsigned long long)recno + 1, off, why);
      info->lost_records++;
      recno++;
      off = next;
      continue;
    }
    uint64_t glen;
    if (recno > 0 && grp_parse(payload, plen, &glen)) {   /* a group commit begins */
      span.on = true;
      span.end = glen > n - next ? SIZE_MAX : next + (size_t)glen;
      recno++;
      off = next;
      continue;
    }
    enum hdr_rule hr = have_header          ? HDR_FORBIDDEN
                       : j->recover          ? (info->records ? HDR_FORBIDDEN : HDR_OPTIONAL)
                       : recno == 0          ? HDR_REQUIRED
                                             : HDR_FORBIDDEN;
    if (apply(j, payload, plen, hr, why, sizeof why) < 0) {
      if (!strcmp(why, "out of memory")) {
        errf(err, errlen, "journal %s/%s: out of memory replaying record %llu", j->dir,
             JOURNAL_FILE, (unsigned long long)recno + 1);
        return -1;
      }
      if (!j->recover) {
        errf(err, errlen,
             "journal %s/%s is corrupt: record %llu at offset %zu: %s; start with "
             "--journal-recover to skip damaged records (they are lost), or move the "
             "file away",
             j->dir, JOURNAL_FILE, (unsigned long long)recno + 1, off, why);
        return -1;
      }
      log_printf(LOGL_WARN, "journal %s/%s: skipping bad record %llu at offset %zu: %s",
                 j->dir, JOURNAL_FILE, (unsigned long long)recno + 1, off, why);
      info->lost_records++;
    } else {
      if (recno == 0 || hr == HDR_OPTIONAL) {
        have_header = j->file_digest != NULL;
        if (have_header && j->file_grouped) span = (struct grp_span){true, next};
      }
      info->records++;
    }
    recno++;
    off = next;
  }
  return 0;
}

/* ---- binding to the compiled rules ---------------------------------------------- */

struct name_index {
  struct hmap m;              /* rule name -> index */
};

static int name_index_init(struct name_index *x, const struct hl_ruleset *rs) {
  if (hmap_init(&x->m, sizeof(uint32_t)) < 0) return -1;
  for (uint32_t i = 0; i < rs->nrules; i++) {
    uint32_t *v = hmap_insert(&x->m, rs->rules[i].name, strlen(rs->rules[i].name), NULL);
    if (!v) return -1;
    *v = i;
  }
  /* Then the names healers before rule identities gave one-line rules
   * ("<stem>:<line>"), where no rule has that name: a journal they wrote
   * binds to the rule at that line. */
  for (uint32_t i = 0; i < rs->nrules; i++) {
    const char *old = rs->rules[i].former_name;
    bool fresh;
    if (!old) continue;
    uint32_t *v = hmap_insert(&x->m, old, strlen(old), &fresh);
    if (!v) return -1;
    if (fresh) *v = i;
  }
  return 0;
}

/* Replaces *name with the bound rule's own name when it was bound by a
 * former one. 0, or -1 when out of memory. */
static int adopt_name(const struct hl_ruleset *rs, uint32_t ri, char **name) {
  const char *now = rs->rules[ri].name;
  if (!strcmp(*name, now)) return 0;
  char *s = strdup(now);
  if (!s) return -1;
  free(*name);
  *name = s;
  return 0;
}

static int64_t find_rule(const struct hl_ruleset *rs, struct name_index *x,
                         uint32_t hint, const char *name) {
  if (hint < rs->nrules && strcmp(rs->rules[hint].name, name) == 0) return hint;
  const uint32_t *v = hmap_find(&x->m, name, strlen(name));
  return v ? (int64_t)*v : -1;
}

static bool same_str(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Does rule ri still do what l was accepted to do? NULL, or why not. */
static const char *steps_differ(const struct hl_ruleset *rs, uint32_t ri,
                                const struct jlive *l, char *why, size_t wn) {
  const struct hl_rule *hr = &rs->rules[ri];
  if (hr->nsteps != l->nsteps) {
    snprintf(why, wn, "it now has %u steps, not %u", hr->nsteps, l->nsteps);
    return why;
  }
  for (uint32_t s = 0; s < l->nsteps; s++) {
    const struct hl_step *hs = &rs->steps[hr->first_step + s];
    const struct jstep *js = &l->steps[s];
    char kind[REM_KIND_MAX];
    const char *backend = hs->backend < rs->nbackends ? rs->backends[hs->backend].name : NULL;
    /* A backend picked per alert was journaled as picked: it must still be
     * a declared backend of the step's kind. */
    if (hs->backend_expr.count)
      backend = hl_backend_find(rs, hl_action_backend(hs->action), js->backend) != HL_NONE
                    ? js->backend
                    : NULL;
    bool params_ok = hs->nparams == js->nparams;
    for (uint32_t k = 0; params_ok && k < js->nparams; k++)
      params_ok = strcmp(rs->params[hs->first_param + k].name, js->params[k].name) == 0;
    const char *what = strcmp(rem_kind_name(hs->action, kind), js->kind_name) ? "action"
                       : !same_str(hs->target, js->target)               ? "target"
                       : !same_str(backend, js->backend)                 ? "backend"
                       : !params_ok                                      ? "parameters"
                                                                         : NULL;
    if (what) {
      snprintf(why, wn, "the %s of step %u changed", what, s + 1);
      return why;
    }
  }
  return NULL;
}

/* The action kind named name ("jenkins", "kubernetes cordon") in this
 * build; hint first. UINT8_MAX when there is none (shown as "?"). */
static uint8_t kind_by_name(uint8_t hint, const char *name) {
  char kind[REM_KIND_MAX];
  if (hint < HL_ACT__COUNT && strcmp(rem_kind_name(hint, kind), name) == 0) return hint;
  for (unsigned k = 0; k < HL_ACT__COUNT; k++)
    if (strcmp(rem_kind_name((uint8_t)k, kind), name) == 0) return (uint8_t)k;
  return UINT8_MAX;
}

/* "<old>\x1f..." becomes "<new>\x1f..." (the engine's key scope). */
static char *rescope(char *key, uint32_t old_rule, uint32_t new_rule) {
  if (!key || old_rule == new_rule) return key;
  char pre[16];
  int n = snprintf(pre, sizeof pre, "%u\x1f", old_rule);
  if (strncmp(key, pre, (size_t)n) != 0) return key;
  char *out = malloc(strlen(key) + 16);
  if (!out) return key;       /* stays under the old scope: harmless */
  sprintf(out, "%u\x1f%s", new_rule, key + n);
  free(key);
  return out;
}

struct rebind_ctx {
  struct journal *j;
  struct name_index *x;
  struct ptr_list cds;
  struct ptr_list renamed;    /* dd entries bound by a former rule name */
};

static bool dd_rebind(void *p, void *ctx) {
  struct jdd *d = p;
  struct rebind_ctx *c = ctx;
  int64_t ri = find_rule(c->j->rs, c->x, d->rule, d->rule_name);
  if (ri < 0) {
    drop_dd(d);
    return true;
  }
  d->rule = (uint32_t)ri;
  if (strcmp(d->rule_name, c->j->rs->rules[ri].name) != 0) collect_ptr(d, &c->renamed);
  return false;
}

/* Binds the mirror to cfg->rs (see journal.h). Unresumable remediations
 * are recorded failed (appended). 0 or -1 (out of memory). */
static int rebind(struct journal *j, int64_t now, struct journal_open_info *info) {
  const struct hl_ruleset *rs = j->rs;
  struct name_index x;
  if (name_index_init(&x, rs) < 0) {
    hmap_free(&x.m, NULL);
    return -1;
  }
  int rc = 0;
  struct ptr_list live;
  if (live_sorted(j, &live) < 0) {
    hmap_free(&x.m, NULL);
    return -1;
  }
  for (size_t i = 0; i < live.n; i++) {
    struct jlive *l = ((struct mrem *)live.v[i])->l;
    int64_t ri = find_rule(rs, &x, l->rule, l->rule_name);
    char why[96], reason[REM_REASON_MAX];
    const char *diff = ri < 0 ? NULL : steps_differ(rs, (uint32_t)ri, l, why, sizeof why);
    if (ri >= 0 && !diff) {
      const struct hl_rule *hr = &rs->rules[ri];
      for (uint32_t s = 0; s < l->nsteps; s++)
        l->steps[s].kind = rs->steps[hr->first_step + s].action;
      /* The cooldown it holds is re-scoped the same way below. */
      l->cooldown_key = rescope(l->cooldown_key, l->rule, (uint32_t)ri);
      l->limit_key = rescope(l->limit_key, l->rule, (uint32_t)ri);
      l->rule = (uint32_t)ri;
      if (adopt_name(rs, l->rule, &l->rule_name) < 0) rc = -1;
      continue;
    }
    if (ri < 0)
      snprintf(reason, sizeof reason, "rules changed: rule %.80s is no longer built in; "
               "not resumed", l->rule_name);
    else
      snprintf(reason, sizeof reason, "rules changed: rule %.64s: %.90s; not resumed",
               l->rule_name, diff);
    log_printf(LOGL_WARN, "journal: remediation %llu (%s) cannot be resumed: %s",
               (unsigned long long)l->id, rem_state_name(l->state), reason);
    struct journal_state st = {l->id, REM_FAILED, reason, now, -1, NULL, false, false};
    struct buf b;
    buf_init(&b);
    ser_state(&b, &st, 0);
    if (b.oom || !reserve(j, &b)) rc = -1;
    else {
      fold_state(j, &st, 0);
      emit(j, &b);
      info->failed++;
    }
    buf_free(&b);
    if (rc < 0) break;
  }
  free(live.v);
  /* The history keeps its own names: only the indices follow. */
  for (size_t i = 0; i < j->hist.n; i++) {
    struct jlive *l = j->hist.v[j->hist.head + i];
    int64_t ri = find_rule(rs, &x, l->rule, l->rule_name);
    l->rule = ri < 0 ? HL_NONE : (uint32_t)ri;
    for (uint32_t s = 0; s < l->nsteps; s++)
      l->steps[s].kind = kind_by_name(l->steps[s].kind, l->steps[s].kind_name);
  }
  struct rebind_ctx c = {j, &x, {0}, {0}};
  hmap_sweep(&j->dd, dd_rebind, &c);
  /* Dedupe entries bound by a former name are keyed by it: key them by
   * the rule's name now, so that sightings find them. */
  /* All taken out first: inserting may move the others. */
  struct jdd *rekey = c.renamed.n ? calloc(c.renamed.n, sizeof *rekey) : NULL;
  if (c.renamed.oom || (c.renamed.n && !rekey)) rc = -1;
  size_t nrekey = 0;
  for (size_t i = 0; rc == 0 && i < c.renamed.n; i++) {
    rekey[nrekey++] = *(struct jdd *)c.renamed.v[i];   /* takes the strings */
    hmap_remove(&j->dd, c.renamed.v[i]);
  }
  for (size_t i = 0; i < nrekey; i++) {
    struct jdd *d = &rekey[i];
    if (rc == 0 && fold_dd(j, d->rule, rs->rules[d->rule].name, d->fp, d->starts_at,
                           d->status, d->id, d->created, d->seen) < 0)
      rc = -1;
    drop_dd(d);
  }
  free(rekey);
  free(c.renamed.v);
  /* Cooldowns: keys may change, so first take out every entry that moves
   * or goes, then put back the ones whose rule still exists. */
  hmap_each(&j->cd, collect_ptr, &c.cds);
  if (c.cds.oom) rc = -1;
  struct jcd *moved = rc == 0 && c.cds.n ? calloc(c.cds.n, sizeof *moved) : NULL;
  if (rc == 0 && c.cds.n && !moved) rc = -1;
  size_t nmoved = 0;
  for (size_t i = 0; rc == 0 && i < c.cds.n; i++) {
    struct jcd *cd = c.cds.v[i];
    int64_t ri = find_rule(rs, &x, cd->rule, cd->rule_name);
    if (ri == (int64_t)cd->rule && !strcmp(cd->rule_name, rs->rules[ri].name)) continue;
    struct jcd m = *cd;       /* takes key and rule_name */
    hmap_remove(&j->cd, cd);
    if (ri < 0) {
      drop_cd(&m);
      continue;
    }
    m.key = rescope(m.key, m.rule, (uint32_t)ri);
    m.rule = (uint32_t)ri;
    moved[nmoved++] = m;
  }
  for (size_t i = 0; i < nmoved; i++) {
    if (rc == 0 && (adopt_name(rs, moved[i].rule, &moved[i].rule_name) < 0 ||
                    fold_cd(j, moved[i].rule, moved[i].rule_name, moved[i].key,
                            moved[i].until, moved[i].owner) < 0))
      rc = -1;
    drop_cd(&moved[i]);
  }
  free(moved);
  free(c.cds.v);
  hmap_free(&x.m, NULL);
  return rc;
}

/* ---- open and close ------------------------------------------------------------- */

static int mkdir_p(const char *dir) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(path, 0700) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  if (mkdir(path, 0700) != 0 && errno != EEXIST) return -1;
  return 0;
}

int journal_check_dir(const char *dir, char *err, size_t errlen) {
  if (!dir || !*dir) dir = "./state";
  char at[4096];
  if (snprintf(at, sizeof at, "%s", dir) >= (int)sizeof at) {
    errf(err, errlen, "--state-dir %s: %s", dir, strerror(ENAMETOOLONG));
    return -1;
  }
  /* The nearest existing ancestor, where mkdir_p() would start. */
  struct stat st;
  bool exists = stat(at, &st) == 0;
  while (!exists && errno == ENOENT) {
    char *slash = strrchr(at, '/');
    if (!slash) snprintf(at, sizeof at, ".");
    else if (slash == at) at[1] = '\0';
    else *slash = '\0';
    if (stat(at, &st) == 0) break;
    if (strcmp(at, ".") == 0 || strcmp(at, "/") == 0) break;
  }
  if (stat(at, &st) != 0) {
    errf(err, errlen, "--state-dir %s: %s: %s", dir, at, strerror(errno));
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) {
    errf(err, errlen, "--state-dir %s: %s is not a directory", dir, at);
    return -1;
  }
  /* Permission bits do not tell (root, read-only or virtual file systems):
   * a file made and removed does. */
  char probe[4160];
  snprintf(probe, sizeof probe, "%s/.healer-check.XXXXXX", at);
  int fd = mkstemp(probe);
  if (fd < 0) {
    errf(err, errlen, "--state-dir %s: cannot create files in %s: %s", dir, at,
         strerror(errno));
    return -1;
  }
  close(fd);
  unlink(probe);
  if (!exists) return 0;
  char path[4160];
  snprintf(path, sizeof path, "%s/%s", dir, JOURNAL_FILE);
  if (access(path, F_OK) == 0 && (fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
    errf(err, errlen, "--state-dir %s: journal %s: %s", dir, path, strerror(errno));
    return -1;
  }
  if (fd >= 0) close(fd);
  snprintf(path, sizeof path, "%s/%s", dir, LOCK_FILE);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
    bool held = flock(fd, LOCK_EX | LOCK_NB) != 0;
    close(fd);   /* releases it again */
    if (held) {
      errf(err, errlen, "--state-dir %s is in use by another healer (%s is locked)",
           dir, path);
      return -1;
    }
  }
  return 0;
}

static int read_file(int fd, char **out, size_t *n) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -1;
  size_t size = (size_t)st.st_size;
  char *data = malloc(size + 1);
  if (!data) return -1;
  size_t got = 0;
  while (got < size) {
    ssize_t r = pread(fd, data + got, size - got, (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      free(data);
      return -1;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  *out = data;
  *n = got;
  return 0;
}

/* Gives the journal file a second name, DIR/journal.log.damaged-<UTC
 * time>[-K], so that it survives its replacement by a compaction as it
 * was found (a hard link: it needs no room on a full disk). The name in
 * out. 0, or -1 with errno. */
static int keep_damaged(struct journal *j, int64_t now_ms, char *out, size_t n) {
  time_t t = (time_t)(now_ms / 1000);
  struct tm tm;
  char stamp[32];
  if (!gmtime_r(&t, &tm) || !strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm))
    snprintf(stamp, sizeof stamp, "%lld", (long long)t);
  for (int k = 1; k < 100; k++) {
    if (k == 1) snprintf(out, n, "%s.damaged-%s", JOURNAL_FILE, stamp);
    else snprintf(out, n, "%s.damaged-%s-%d", JOURNAL_FILE, stamp, k);
    if (linkat(j->dirfd, JOURNAL_FILE, j->dirfd, out, 0) == 0) return 0;
    if (errno != EEXIST) return -1;
  }
  return -1;
}

/* A new, empty journal file: the header, synced (lock not needed: open). */
static int write_header(struct journal *j, int64_t now) {
  struct buf b, f;
  buf_init(&b);
  buf_init(&f);
  ser_hdr(&b, j->rs->digest, j->next_id, now);
  frame(&f, b.data, b.len);
  int rc = f.oom ? (errno = ENOMEM, -1) : write_all(j->fd, f.data, f.len);
  if (rc == 0 && !j->no_fsync) rc = fdatasync(j->fd);
  if (rc == 0) rc = fsync_dir(j);
  if (rc == 0) j->file_bytes = f.len;
  buf_free(&b);
  buf_free(&f);
  return rc;
}

static void free_journal(struct journal *j) {
  if (j->rems.buckets) hmap_free(&j->rems, drop_rem);
  if (j->dd.buckets) hmap_free(&j->dd, drop_dd);
  if (j->cd.buckets) hmap_free(&j->cd, drop_cd);
  if (j->ctl.buckets) hmap_free(&j->ctl, drop_ctl);
  hist_free(&j->hist);
  if (j->fd >= 0) close(j->fd);
  if (j->lockfd >= 0) close(j->lockfd);   /* releases the flock */
  if (j->dirfd >= 0) close(j->dirfd);
  buf_free(&j->pend);
  buf_free(&j->spare);
  buf_free(&j->catchup);
  free(j->file_digest);
  free(j->dir);
  pthread_cond_destroy(&j->cv);
  pthread_mutex_destroy(&j->mu);
  free(j);
}

int journal_open(struct journal **out, const struct journal_config *cfg,
                 int64_t now_ms, struct journal_open_info *info, char *err,
                 size_t errlen) {
  struct journal_open_info dummy;
  if (!info) info = &dummy;
  memset(info, 0, sizeof *info);
  *out = NULL;
  struct journal *j = calloc(1, sizeof *j);
  if (!j) {
    errf(err, errlen, "out of memory");
    return -1;
  }
  j->fd = j->lockfd = j->dirfd = -1;
  pthread_mutex_init(&j->mu, NULL);
  pthread_cond_init(&j->cv, NULL);
  buf_init(&j->pend);
  buf_init(&j->spare);
  j->rs = cfg->rs;
  j->no_fsync = cfg->no_fsync;
  j->recover = cfg->recover;
  j->compact_bytes = cfg->compact_bytes ? cfg->compact_bytes : JOURNAL_COMPACT_DEFAULT;
  j->dedupe_ttl = cfg->dedupe_ttl_ms > 0 ? cfg->dedupe_ttl_ms : DEFAULT_TTL_MS;
  j->dedupe_max = cfg->dedupe_max;
  j->commit_hist = cfg->commit_hist;
  j->hist.max = cfg->history;
  j->next_id = 1;
  char *data = NULL;
  size_t n = 0;
  const char *dir = cfg->dir && *cfg->dir ? cfg->dir : "./state";
  if (!(j->dir = strdup(dir)) || hmap_init(&j->rems, sizeof(struct mrem)) < 0 ||
      hmap_init(&j->dd, sizeof(struct jdd)) < 0 || hmap_init(&j->cd, sizeof(struct jcd)) < 0 ||
      hmap_init(&j->ctl, sizeof(struct jctl)) < 0) {
    errf(err, errlen, "out of memory");
    goto fail;
  }
  if (mkdir_p(dir) < 0) {
    errf(err, errlen, "--state-dir %s: cannot create: %s", dir, strerror(errno));
    goto fail;
  }
  if ((j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
    errf(err, errlen, "--state-dir %s: %s", dir, strerror(errno));
    goto fail;
  }
  if ((j->lockfd = openat(j->dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
    errf(err, errlen, "--state-dir %s: cannot create %s: %s", dir, LOCK_FILE, strerror(errno));
    goto fail;
  }
  if (flock(j->lockfd, LOCK_EX | LOCK_NB) != 0) {
    errf(err, errlen, "--state-dir %s is in use by another healer (%s/%s is locked)", dir,
         dir, LOCK_FILE);
    goto fail;
  }
  /* A compaction that did not finish: the old file is still the journal. */
  unlinkat(j->dirfd, TMP_FILE, 0);
  j->fd = openat(j->dirfd, JOURNAL_FILE, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (j->fd < 0 || read_file(j->fd, &data, &n) < 0) {
    errf(err, errlen, "journal %s/%s: %s", dir, JOURNAL_FILE, strerror(errno));
    goto fail;
  }
  info->bytes = n;
  size_t keep = n;
  if (replay(j, data, n, info, &keep, err, errlen) < 0) goto fail;
  free(data);
  data = NULL;
  if (info->lost_records) {
    /* --journal-recover skipped damage: the file is rewritten below, and
     * the original stays beside it as it was found. */
    if (keep_damaged(j, now_ms, info->damaged_copy, sizeof info->damaged_copy) < 0) {
      errf(err, errlen, "journal %s/%s: --journal-recover cannot keep the damaged file "
           "beside the new one (%s); move it away by hand", dir, JOURNAL_FILE,
           strerror(errno));
      goto fail;
    }
  } else if (keep < n) {
    if (ftruncate(j->fd, (off_t)keep) != 0 || (!j->no_fsync && fdatasync(j->fd) != 0)) {
      errf(err, errlen, "journal %s/%s: cannot cut off the torn tail: %s", dir, JOURNAL_FILE,
           strerror(errno));
      goto fail;
    }
  }
  j->file_bytes = keep;
  bool empty = info->records == 0 && info->lost_records == 0;
  if (empty) {
    /* New (or only a torn header): start the file over. */
    info->created = keep == 0 && n == 0;
    if (ftruncate(j->fd, 0) != 0 || write_header(j, now_ms) != 0) {
      errf(err, errlen, "journal %s/%s: cannot write: %s", dir, JOURNAL_FILE, strerror(errno));
      goto fail;
    }
  } else {
    info->rules_changed =
        !j->file_digest || strcmp(j->file_digest, j->rs->digest ? j->rs->digest : "") != 0;
    if (rebind(j, now_ms, info) < 0) {
      errf(err, errlen, "journal %s/%s: out of memory", dir, JOURNAL_FILE);
      goto fail;
    }
    expire(j, now_ms);
    if (info->rules_changed || info->lost_records || keep > threshold(j)) {
      /* What rebind() appended is in the snapshot too; not writing it to
       * the old file first leaves a damaged original untouched. */
      if (info->lost_records) buf_reset(&j->pend);
      if (journal_compact(j, now_ms) < 0) {
        errf(err, errlen, "journal %s/%s: cannot rewrite it (see the log)", dir, JOURNAL_FILE);
        goto fail;
      }
      info->compacted = true;
    } else if (j->pend.len) {
      /* On a full disk this fails: healer starts anyway, with the journal
       * failed (503) until journal_tick()'s re-probe writes it. */
      journal_sync(j, JOURNAL_LSN_ALL);
    }
    if (info->lost_records)
      log_printf(LOGL_WARN, "journal %s/%s: --journal-recover: %llu damaged records skipped "
                 "and lost; the file was rewritten clean, the damaged one kept as %s/%s",
                 dir, JOURNAL_FILE, (unsigned long long)info->lost_records, dir,
                 info->damaged_copy);
    if (info->rules_changed)
      log_printf(LOGL_WARN, "journal %s/%s was written with rules %s, these are %s: "
                 "entries re-bound by rule name (%llu remediations could not be resumed)",
                 dir, JOURNAL_FILE, j->file_digest ? j->file_digest : "(unknown)",
                 j->rs->digest ? j->rs->digest : "(none)", (unsigned long long)info->failed);
  }
  /* Every id below next_id was journaled or reserved: the next id to
   * hand out starts a new block (journal_reserve_id()). */
  j->ids_upto = j->next_id;
  atomic_store(&j->ids_durable, j->next_id);
  info->next_id = j->next_id;
  info->inflight = j->rems.count;
  info->dedupe = j->dd.count;
  info->cooldowns = j->cd.count;
  info->history = j->hist.n;
  *out = j;
  return 0;
fail:
  free(data);
  free_journal(j);
  return -1;
}

void journal_close(struct journal *j) {
  if (!j) return;
  journal_sync(j, JOURNAL_LSN_ALL);
  free_journal(j);
}

/* ---- replay to the runtime ----------------------------------------------------- */

struct dd_visit {
  struct journal *j;
  struct ptr_list l;
};

static int cmp_seen(const void *a, const void *b) {
  const struct jdd *x = *(void *const *)a, *y = *(void *const *)b;
  return x->seen < y->seen ? -1 : x->seen > y->seen;
}

static void collect_dead_dd(void *p, void *ctx) {
  if (!((struct jdd *)p)->live) collect_ptr(p, ctx);
}

static void collect_free_cd(void *p, void *ctx) {
  struct dd_visit *v = ctx;
  struct jcd *c = p;
  struct jlive *l = find_live(v->j, c->owner);
  if (l && l->cooldown_key && strcmp(l->cooldown_key, c->key) == 0) return;
  collect_ptr(p, &v->l);
}

/* A view of l for a callback (one allocation; the strings are the
 * mirror's). fin: l is in the history. */
static struct journal_rem *export_rem(struct journal *j, const struct jlive *l, bool fin) {
  size_t np = 0;
  for (uint32_t s = 0; s < l->nsteps; s++) np += l->steps[s].nparams;
  size_t size = sizeof(struct journal_rem) + l->nsteps * sizeof(struct journal_step) +
                np * sizeof(struct journal_param);
  struct journal_rem *r = calloc(1, size);
  if (!r) return NULL;
  struct journal_step *steps = (struct journal_step *)(r + 1);
  struct journal_param *params = (struct journal_param *)(steps + l->nsteps);
  r->id = l->id;
  r->rule = l->rule;
  r->rule_name = l->rule < j->rs->nrules ? j->rs->rules[l->rule].name : l->rule_name;
  r->alertname = l->alertname;
  r->fingerprint = l->fp;
  r->starts_at = l->starts_at;
  r->alert_status = l->status;
  r->dry_run = l->dry;
  r->nsteps = l->nsteps;
  r->steps = steps;
  for (uint32_t s = 0; s < l->nsteps; s++) {
    steps[s].kind = l->steps[s].kind;
    steps[s].target = l->steps[s].target;
    steps[s].backend = l->steps[s].backend;
    steps[s].nparams = l->steps[s].nparams;
    steps[s].params = params;
    steps[s].token = l->steps[s].token;
    for (uint32_t k = 0; k < l->steps[s].nparams; k++, params++) {
      params->name = l->steps[s].params[k].name;
      params->value = l->steps[s].params[k].value;
    }
  }
  r->cooldown_key = l->cooldown_key;
  r->limit_key = l->limit_key;
  r->created_ms = l->created;
  r->updated_ms = l->updated;
  r->state = l->state;
  r->reason = l->reason;
  if (fin) return r;          /* no keys, tokens, start or sightings */
  r->cooldown_until_ms = held_cooldown(j, l);
  r->started_ms = l->started;
  r->last_seen_ms = l->created;
  struct buf k;
  buf_init(&k);
  if (dd_key(&k, l->rule_name, l->fp, l->starts_at, l->status)) {
    struct jdd *d = hmap_find(&j->dd, k.data, k.len);
    if (d && d->id == l->id) r->last_seen_ms = d->seen;
  }
  buf_free(&k);
  r->step = l->step;
  return r;
}

/* The strings of an exported rem point into the mirror; copy them so the
 * callback may change the mirror (e.g. record the remediation failed). */
static struct journal_rem *export_copy(const struct journal_rem *r) {
  /* Layout: the struct, steps, params, then the strings. */
  size_t np = 0;
  for (uint32_t s = 0; s < r->nsteps; s++) np += r->steps[s].nparams;
  size_t head = sizeof *r + r->nsteps * sizeof(struct journal_step) +
                np * sizeof(struct journal_param);
  size_t strings = 0;
#define SL(s) ((s) ? strlen(s) + 1 : 0)
  strings += SL(r->rule_name) + SL(r->alertname) + SL(r->fingerprint) +
             SL(r->starts_at) + SL(r->cooldown_key) + SL(r->limit_key) + SL(r->reason);
  for (uint32_t s = 0; s < r->nsteps; s++) {
    strings += SL(r->steps[s].target) + SL(r->steps[s].backend) + SL(r->steps[s].token);
    for (uint32_t k = 0; k < r->steps[s].nparams; k++)
      strings += SL(r->steps[s].params[k].name) + SL(r->steps[s].params[k].value);
  }
#undef SL
  struct journal_rem *c = calloc(1, head + strings);
  if (!c) return NULL;
  *c = *r;
  struct journal_step *steps = (struct journal_step *)(c + 1);
  struct journal_param *params = (struct journal_param *)(steps + r->nsteps);
  char *p = (char *)c + head;
#define CP(dst, src)                      \
  do {                                    \
    if (src) {                            \
      size_t n_ = strlen(src) + 1;        \
      memcpy(p, src, n_);                 \
      dst = p;                            \
      p += n_;                            \
    } else {                              \
      dst = NULL;                         \
    }                                     \
  } while (0)
  CP(c->rule_name, r->rule_name);
  CP(c->alertname, r->alertname);
  CP(c->fingerprint, r->fingerprint);
  CP(c->starts_at, r->starts_at);
  CP(c->cooldown_key, r->cooldown_key);
  CP(c->limit_key, r->limit_key);
  CP(c->reason, r->reason);
  c->steps = r->nsteps ? steps : NULL;
  for (uint32_t s = 0; s < r->nsteps; s++) {
    steps[s] = r->steps[s];
    CP(steps[s].target, r->steps[s].target);
    CP(steps[s].backend, r->steps[s].backend);
    CP(steps[s].token, r->steps[s].token);
    steps[s].params = r->steps[s].nparams ? params : NULL;
    for (uint32_t k = 0; k < r->steps[s].nparams; k++, params++) {
      CP(params->name, r->steps[s].params[k].name);
      CP(params->value, r->steps[s].params[k].value);
    }
  }
#undef CP
  return c;
}

/* The alert a journaled remediation was made for, as far as it is kept. */
struct ctl_list {
  struct jctl *v;
  size_t n, cap;
  bool oom;
};

static void collect_ctl(void *p, void *ctx) {
  struct ctl_list *l = ctx;
  const struct jctl *c = p;
  if (l->oom) return;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 8;
    struct jctl *nv = realloc(l->v, cap * sizeof *nv);
    if (!nv) {
      l->oom = true;
      return;
    }
    l->v = nv;
    l->cap = cap;
  }
  struct jctl *d = &l->v[l->n];
  d->key = strdup(c->key);
  d->value = strdup(c->value);
  if (!d->key || !d->value) {
    drop_ctl(d);
    l->oom = true;
    return;
  }
  l->n++;
}

/* Hands the control values to v->control, outside the lock. */
static int replay_controls(struct journal *j, const struct journal_visitor *v, void *ctx) {
  if (!v->control) return 0;
  struct ctl_list l = {0};
  pthread_mutex_lock(&j->mu);
  hmap_each(&j->ctl, collect_ctl, &l);
  pthread_mutex_unlock(&j->mu);
  int rc = l.oom ? -1 : 0;
  for (size_t i = 0; i < l.n; i++) {
    if (rc == 0) rc = v->control(ctx, l.v[i].key, l.v[i].value);
    drop_ctl(&l.v[i]);
  }
  free(l.v);
  return rc;
}

int journal_replay(struct journal *j, const struct journal_visitor *v, void *ctx) {
  int rc = replay_controls(j, v, ctx);
  if (rc != 0) return rc;
  struct dd_visit dv = {j, {0}};
  pthread_mutex_lock(&j->mu);
  hmap_each(&j->dd, collect_dead_dd, &dv.l);
  pthread_mutex_unlock(&j->mu);
  if (!dv.l.oom && dv.l.n) qsort(dv.l.v, dv.l.n, sizeof *dv.l.v, cmp_seen);
  for (size_t i = 0; !dv.l.oom && rc == 0 && v->dedupe && i < dv.l.n; i++) {
    const struct jdd *d = dv.l.v[i];
    struct journal_dedupe e = {d->rule, d->fp, d->starts_at, d->status, d->id,
                               d->created, d->seen};
    rc = v->dedupe(ctx, &e);
  }
  bool oom = dv.l.oom;
  free(dv.l.v);
  memset(&dv.l, 0, sizeof dv.l);
  pthread_mutex_lock(&j->mu);
  hmap_each(&j->cd, collect_free_cd, &dv);
  pthread_mutex_unlock(&j->mu);
  for (size_t i = 0; !dv.l.oom && rc == 0 && v->cooldown && i < dv.l.n; i++) {
    const struct jcd *c = dv.l.v[i];
    struct journal_cooldown e = {c->rule, c->key, c->until, c->owner};
    rc = v->cooldown(ctx, &e);
  }
  oom = oom || dv.l.oom;
  free(dv.l.v);
  /* Remediations, in flight and finished, merged by id: the ids first,
   * then one copy at a time, outside the lock (the rem callback may finish
   * one, which moves it to the history and may drop the oldest there). */
  pthread_mutex_lock(&j->mu);
  struct ptr_list live;
  struct rid {
    uint64_t id;
    bool fin;
  } *ids = NULL;
  size_t nids = 0;
  size_t nfin = v->finished ? j->hist.n : 0;
  if (live_sorted(j, &live) == 0) {
    size_t total = (v->rem ? live.n : 0) + nfin;
    ids = total ? malloc(total * sizeof *ids) : NULL;
    if (ids || !total) {
      size_t a = 0, b = 0, na = v->rem ? live.n : 0;
      while (a < na || b < nfin) {
        uint64_t la = a < na ? ((struct mrem *)live.v[a])->l->id : UINT64_MAX;
        uint64_t hb = b < nfin ? j->hist.v[j->hist.head + b]->id : UINT64_MAX;
        bool fin = !(a < na && la < hb);
        ids[nids].id = fin ? hb : la;
        ids[nids++].fin = fin;
        if (fin) b++;
        else a++;
      }
    } else {
      oom = true;
    }
    free(live.v);
  } else {
    oom = true;
  }
  pthread_mutex_unlock(&j->mu);
  for (size_t i = 0; rc == 0 && !oom && i < nids; i++) {
    pthread_mutex_lock(&j->mu);
    struct jlive *l = ids[i].fin ? hist_find(j, ids[i].id) : find_live(j, ids[i].id);
    struct journal_rem *view = l ? export_rem(j, l, ids[i].fin) : NULL;
    struct journal_rem *copy = view ? export_copy(view) : NULL;
    if (l && !copy) oom = true;
    free(view);
    pthread_mutex_unlock(&j->mu);
    if (copy) rc = ids[i].fin ? v->finished(ctx, copy) : v->rem(ctx, copy);
    free(copy);
  }
  free(ids);
  if (rc == 0 && oom) rc = -1;
  return rc;
}
