/*
 * check_decl.c - backend and window declarations.
 *
 * Backends: kind and fields against backends.def, secrets only through
 * env("X") or file("p"). Windows: day names, time and date ranges, and the
 * time zone, loaded from the time zone database of this machine
 * (/usr/share/zoneinfo, or $TZDIR as for the C library) by the runtime's own
 * reader (core/tz.c), so a zone that passes here loads there.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check_int.h"
#include "duration.h"
#include "tz.h"

struct field_info {
  int backend; /* enum hl_backend_kind; -1 ends the table */
  const char *name;
  unsigned flags; /* HL_F_* */
};

static const struct field_info field_table[] = {
#define HL_FIELD(backend, name, flags) {HL_BK_##backend, name, flags},
#include "backends.def"
    {-1, NULL, 0}};

/* Fields given together or not at all. */
static const struct {
  int backend;
  const char *a, *b;
} pair_table[] = {
#define HL_PAIR(backend, a, b) {HL_BK_##backend, a, b},
#include "backends.def"
};

static const char *const day_words[] = {"weekdays", "weekends", "daily", "sun",
                                        "mon",      "tue",      "wed",   "thu",
                                        "fri",      "sat",      NULL};
static const uint8_t day_masks[] = {0x3e, 0x41, 0x7f, 0x01, 0x02,
                                    0x04, 0x08, 0x10, 0x20, 0x40};
static const char *const day_full[] = {"sunday",    "monday",   "tuesday",
                                       "wednesday", "thursday", "friday",
                                       "saturday"};
static const char *const month_words[] = {"jan", "feb", "mar", "apr", "may",
                                          "jun", "jul", "aug", "sep", "oct",
                                          "nov", "dec", NULL};
static const char *const month_full[] = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};
/* Every name a window part may be: suggestions for an unknown one. */
static const char *const window_words[] = {
    "weekdays", "weekends", "daily", "sun", "mon", "tue", "wed", "thu",
    "fri", "sat", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
    "sep", "oct", "nov", "dec", "days", "years", NULL};

/* ---- backends ------------------------------------------------------------ */

static const struct field_info *find_field(int kind, const char *name) {
  for (const struct field_info *fi = field_table; fi->name; fi++)
    if (fi->backend == kind && strcmp(fi->name, name) == 0)
      return fi;
  return NULL;
}

#define NFIELD_TABLE (sizeof field_table / sizeof field_table[0])

static size_t fields_with(int kind, unsigned flags, const char **out) {
  size_t n = 0;
  for (const struct field_info *fi = field_table; fi->name; fi++)
    if (fi->backend == kind && (fi->flags & flags) == flags)
      out[n++] = fi->name;
  out[n] = NULL;
  return n;
}

static int valid_env_name(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    int alpha =
        (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
    if (!alpha && !(i > 0 && ch >= '0' && ch <= '9'))
      return 0;
  }
  return n > 0;
}

/* env("X") or file("p") as a backend field value; e->id becomes the
 * enum hl_field_source. */
static void check_source_call(struct checker *c, struct expr *e) {
  int is_env = strcmp(e->str, "env") == 0;
  const char *fn = is_env ? "env" : "file";
  unsigned n = check_count_args(e);
  e->id = is_env ? HL_SRC_ENV : HL_SRC_FILE;
  if (n != 1) {
    ERR(c, e->loc, "%s() takes exactly one argument, but %u %s given", fn, n,
        check_plural(n, "was", "were"));
    return;
  }
  struct expr *a = e->args;
  if (a->kind != EXPR_STR)
    ERR(c, a->loc, "the argument of %s() must be a plain string", fn);
  else if (a->len == 0)
    ERR(c, a->loc,
        is_env ? "env() needs a variable name" : "file() needs a path");
  else if (memchr(a->str, '\0', a->len))
    ERR(c, a->loc, "the argument of %s() must not contain a NUL byte", fn);
  else if (is_env && !valid_env_name(a->str, a->len))
    ERR(c, a->loc,
        "'%s' is not a valid environment variable name (letters, digits and "
        "'_', not starting with a digit)",
        check_quote_n(c, a->str, a->len));
}

static const char *const source_funcs[] = {"env", "file", NULL};

/* A literal value against its field's declared form (backends.def); the
 * runtime checks values from env() and file() the same way. */
static void check_literal_form(struct checker *c, const struct field *f,
                               unsigned flags) {
  const struct expr *e = f->value;
  const char *name = f->name ? f->name : "";
  int64_t ms;
  if ((flags & HL_F_DURATION) && hl_parse_duration(e->str, &ms) < 0)
    ERR(c, e->loc, "field '%s' must be a duration, such as \"30s\" or \"2m\"",
        check_quote(c, name));
  if ((flags & HL_F_URL) && strncmp(e->str, "http://", 7) != 0 &&
      strncmp(e->str, "https://", 8) != 0)
    ERR(c, e->loc, "field '%s' must be an http:// or https:// URL",
        check_quote(c, name));
}

static void check_field_value(struct checker *c, struct field *f,
                              unsigned flags) {
  struct expr *e = f->value;
  const char *name = f->name ? f->name : "";
  int secret = (flags & HL_F_SECRET) != 0;
  if (!e)
    return;
  if (e->kind == EXPR_CALL && e->str &&
      (strcmp(e->str, "env") == 0 || strcmp(e->str, "file") == 0)) {
    check_source_call(c, e);
  } else if (e->kind == EXPR_STR && secret) {
    ERR(c, e->loc,
        "secret '%s' must not be written in the rule file; use env(\"...\") "
        "or file(\"...\")",
        check_quote(c, name));
  } else if (e->kind == EXPR_STR) {
    e->id = HL_SRC_LITERAL;
    if (e->str && e->len && memchr(e->str, '\0', e->len))
      ERR(c, e->loc, "field '%s' must not contain a NUL byte",
          check_quote(c, name));
    else if (e->str)
      check_literal_form(c, f, flags);
  } else if (e->kind == EXPR_CALL && e->str &&
             diag_suggest(e->str, source_funcs)) {
    ERR(c, e->loc, "unknown function '%s' in a backend field%s",
        check_quote(c, e->str), check_alts(c, e->str, source_funcs, 0));
  } else if (secret) {
    ERR(c, e->loc, "secret '%s' must be env(\"...\") or file(\"...\")",
        check_quote(c, name));
  } else {
    ERR(c, e->loc,
        "field '%s' must be a plain string, env(\"...\") or file(\"...\")",
        check_quote(c, name));
  }
}

void check_backend(struct checker *c, struct backend *b) {
  const char *names[NFIELD_TABLE];
  const char *suggested[NFIELD_TABLE];
  size_t nsuggested = 0;
  struct strmap seen;
  int kind = b->backend_kind;
  if (b->name) {
    struct backend *first =
        check_map_get(&c->backends, b->name, strlen(b->name));
    if (first && first != b) {
      ERR(c, b->name_loc, "duplicate backend '%s'", check_quote(c, b->name));
      NOTE(c, first->name_loc, "first defined here");
    }
  }
  if (kind < 0)
    ERR(c, b->kind_loc, "unknown backend kind '%s'%s", check_quote(c, b->kind),
        check_alts(c, b->kind ? b->kind : "", hl_backend_words, 1));
  check_map_init(&seen);
  const char *faulty[NFIELD_TABLE]; /* fields with an error of their own */
  size_t nfaulty = 0;
  for (struct field *f = b->fields; f; f = f->next) {
    const char *name = f->name ? f->name : "";
    struct field *prev = check_map_put_new(&seen, name, strlen(name), f);
    if (prev) {
      ERR(c, f->name_loc, "duplicate field '%s'", check_quote(c, name));
      NOTE(c, prev->name_loc, "first given here");
      continue;
    }
    const struct field_info *fi = kind >= 0 ? find_field(kind, name) : NULL;
    if (kind >= 0 && !fi) {
      fields_with(kind, 0, names);
      const char *sug = diag_suggest(name, names);
      if (sug && nsuggested < NFIELD_TABLE)
        suggested[nsuggested++] = sug;
      ERR(c, f->name_loc, "unknown field '%s' for a %s backend%s",
          check_quote(c, name), hl_backend_words[kind],
          check_alts(c, name, names, 1));
    }
    unsigned before = c->errors;
    check_field_value(c, f, fi ? fi->flags : 0);
    if ((c->errors != before || !f->value) && nfaulty < NFIELD_TABLE)
      faulty[nfaulty++] = name;
  }
  if (kind >= 0) {
    fields_with(kind, HL_F_REQUIRED, names);
    for (size_t i = 0; names[i]; i++)
      if (!check_map_get(&seen, names[i], strlen(names[i])) &&
          !check_in_list(suggested, nsuggested, names[i]))
        ERR(c, b->name_loc, "missing required field '%s' in %s backend '%s'",
            names[i], hl_backend_words[kind], check_quote(c, b->name));
    for (size_t i = 0; i < sizeof pair_table / sizeof pair_table[0]; i++) {
      if (pair_table[i].backend != kind)
        continue;
      const char *a = pair_table[i].a, *z = pair_table[i].b;
      struct field *fa = check_map_get(&seen, a, strlen(a));
      struct field *fz = check_map_get(&seen, z, strlen(z));
      if (!fa == !fz || check_in_list(faulty, nfaulty, a) ||
          check_in_list(faulty, nfaulty, z))
        continue;
      ERR(c, (fa ? fa : fz)->name_loc,
          "field '%s' is set but '%s' is not; a %s backend takes them together",
          fa ? a : z, fa ? z : a, hl_backend_words[kind]);
    }
  }
  check_map_free(&seen);
}

/* ---- windows ------------------------------------------------------------- */

/* H:MM or HH:MM at s[*i]; advances *i. */
static int parse_hhmm(const char *s, size_t n, size_t *i, unsigned *h,
                      unsigned *m) {
  size_t j = *i, d = 0;
  *h = *m = 0;
  while (j < n && d < 2 && s[j] >= '0' && s[j] <= '9')
    *h = *h * 10 + (unsigned)(s[j++] - '0'), d++;
  if (d == 0 || j + 2 >= n || s[j] != ':')
    return 0;
  if (!(s[j + 1] >= '0' && s[j + 1] <= '9' && s[j + 2] >= '0' &&
        s[j + 2] <= '9'))
    return 0;
  *m = (unsigned)(s[j + 1] - '0') * 10 + (unsigned)(s[j + 2] - '0');
  *i = j + 3;
  return 1;
}

/* One time range HH:MM-HH:MM of a window: minutes lo, hi as written. */
static void check_window_time(struct checker *c, struct wpart *p) {
  unsigned h[2], m[2];
  struct loc l[2] = {p->loc, p->loc};
  char text[2][16];
  size_t n, i = 0;
  const char *s = check_src_at(c, p->loc, &n);
  int parsed = 0;
  if (s && parse_hhmm(s, n, &i, &h[0], &m[0])) {
    l[0].end = l[0].begin + (uint32_t)i;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
      i++;
    if (i < n && s[i] == '-') {
      i++;
      while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
      size_t start = i;
      if (parse_hhmm(s, n, &i, &h[1], &m[1]) && i == n) {
        l[1].begin = p->loc.begin + (uint32_t)start;
        parsed = 1;
      }
    }
  }
  if (!parsed) {
    h[0] = (unsigned)p->nlo / 60, m[0] = (unsigned)p->nlo % 60;
    h[1] = (unsigned)p->nhi / 60, m[1] = (unsigned)p->nhi % 60;
    l[0] = l[1] = p->loc;
  }
  for (int k = 0; k < 2; k++)
    snprintf(text[k], sizeof text[k], "%02u:%02u", h[k] % 100, m[k] % 100);
  int ok0 = h[0] <= 23 && m[0] <= 59;
  int ok1 = (h[1] <= 23 && m[1] <= 59) || (h[1] == 24 && m[1] == 0);
  if (!ok0)
    ERR(c, l[0], "start time '%s' is out of range (00:00 to 23:59)", text[0]);
  if (!ok1)
    ERR(c, l[1], "end time '%s' is out of range (00:00 to 24:00)", text[1]);
  if (ok0 && ok1 && h[0] * 60 + m[0] == h[1] * 60 + m[1])
    ERR(c, p->loc, "time range '%s-%s' is empty", text[0], text[1]);
  if (ok0 && ok1 && h[0] * 60 + m[0] != h[1] * 60 + m[1])
    p->role = WR_TIME;
}

static int valid_date(uint32_t d) {
  static const unsigned mdays[] = {31, 28, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31};
  unsigned y = d / 10000, mo = d / 100 % 100, day = d % 100;
  if (y < 1 || y > 9999 || mo < 1 || mo > 12 || day < 1)
    return 0;
  unsigned leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return day <= mdays[mo - 1] + (mo == 2 ? leap : 0);
}

static int date_text_at(const char *s) {
  for (int i = 0; i < 10; i++)
    if (i == 4 || i == 7 ? s[i] != '-' : !(s[i] >= '0' && s[i] <= '9'))
      return 0;
  return 1;
}

static void check_window_dates(struct checker *c, struct window *w) {
  uint32_t d[2] = {w->from_day, w->to_day};
  struct loc l[2] = {w->date_loc, w->date_loc};
  char text[2][24];
  size_t n;
  const char *s = check_src_at(c, w->date_loc, &n);
  if (s && n >= 20 && date_text_at(s) && date_text_at(s + n - 10)) {
    l[0].end = l[0].begin + 10;
    l[1].begin = l[1].end - 10;
  }
  int ok = 1;
  for (int k = 0; k < 2; k++) {
    snprintf(text[k], sizeof text[k], "%04u-%02u-%02u", d[k] / 10000 % 10000,
             d[k] / 100 % 100, d[k] % 100);
    if (d[k] && !valid_date(d[k])) {
      ERR(c, l[k], "invalid date '%s'", text[k]);
      ok = 0;
    }
  }
  if (ok && d[0] && d[1] && d[0] > d[1])
    ERR(c, w->date_loc, "date range '%s..%s' ends before it starts", text[0],
        text[1]);
}

enum { TZ_OK = 1, TZ_UNKNOWN, TZ_NODB, TZ_BADNAME };

/* Where the time zone database is; TZDIR as for the C library. */
static const char *tz_dir(void) {
  const char *d = getenv("TZDIR");
  return d && *d ? d : "/usr/share/zoneinfo";
}

/* What the runtime would make of the zone: tz_load(), core/tz.h. */
static int tz_lookup_uncached(const char *name) {
  const char *dir = tz_dir();
  struct stat st;
  if (!tz_name_ok(name))
    return TZ_BADNAME;
  struct tz *z = tz_load(name, NULL, 0);
  int ok = z != NULL;
  tz_free(z);
  if (ok)
    return TZ_OK;
  return stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ? TZ_NODB : TZ_UNKNOWN;
}

static int tz_lookup(struct checker *c, const char *name) {
  uintptr_t r = (uintptr_t)check_map_get(&c->zones, name, strlen(name));
  if (!r) {
    r = (uintptr_t)tz_lookup_uncached(name);
    check_map_put_new(&c->zones, name, strlen(name), (void *)r);
  }
  return (int)r;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The closest zone name in the same directory of the database, or NULL. */
static const char *tz_suggest(struct checker *c, const char *name) {
  if (c->d->muted)
    return NULL;
  const char *slash = strrchr(name, '/');
  size_t plen = slash ? (size_t)(slash - name) : 0;
  const char *dir = tz_dir();
  size_t cap = strlen(dir) + plen + 2;
  char *path = check_xmalloc(cap);
  snprintf(path, cap, "%s/%.*s", dir, (int)plen, name);
  DIR *dh = opendir(path);
  free(path);
  if (!dh)
    return NULL;
  size_t n = 0, ncap = 64;
  char **cands = check_xmalloc(ncap * sizeof *cands);
  struct dirent *de;
  while ((de = readdir(dh)) && n < 4096) {
    if (de->d_name[0] == '.')
      continue;
    if (n + 1 >= ncap)
      cands = check_xrealloc(cands, (ncap *= 2) * sizeof *cands);
    size_t len = plen + strlen(de->d_name) + 2;
    cands[n] = check_xmalloc(len);
    if (plen)
      snprintf(cands[n], len, "%.*s/%s", (int)plen, name, de->d_name);
    else
      snprintf(cands[n], len, "%s", de->d_name);
    n++;
  }
  closedir(dh);
  qsort(cands, n, sizeof *cands, cmp_str);
  cands[n] = NULL;
  const char *const *cc = (const char *const *)(void *)cands;
  const char *s = diag_suggest(name, cc);
  char *out = NULL;
  if (s && tz_lookup_uncached(s) == TZ_OK) {
    out = check_ring(c);
    snprintf(out, QSIZE, "%s", s);
  }
  for (size_t i = 0; i < n; i++)
    free(cands[i]);
  free(cands);
  return out;
}

/* A weekday (0 = Sunday) or month (0 = January) name, or -1 with the
 * error reported; *is_month says which. Groups (weekdays...) only alone. */
static int window_name(struct checker *c, const char *t, struct loc l,
                       int alone, int *is_month) {
  int i = check_find_name(day_words, t);
  *is_month = 0;
  if (i >= 3)
    return i - 3;
  if (i >= 0) {
    if (alone)
      return 100 + i;         /* a group: weekdays, weekends, daily */
    ERR(c, l, "'%s' cannot start or end a range; write single days, as in "
        "'mon..fri'", t);
    return -1;
  }
  i = check_find_name(month_words, t);
  if (i >= 0) {
    *is_month = 1;
    return i;
  }
  for (int k = 0; k < 7; k++)
    if (strcmp(day_full[k], t) == 0) {
      ERR(c, l, "unknown day '%s'; did you mean '%s'?", t, day_words[3 + k]);
      return -1;
    }
  for (int k = 0; k < 12; k++)
    if (strcmp(month_full[k], t) == 0 && strcmp(t, "may") != 0) {
      ERR(c, l, "unknown month '%s'; did you mean '%s'?", t, month_words[k]);
      return -1;
    }
  const char *s = diag_suggest(t, window_words);
  if (s)
    ERR(c, l, "unknown day or month '%s'; did you mean '%s'?", check_quote(c, t),
        s);
  else
    ERR(c, l, "unknown day or month '%s'; expected a day (mon..sun, weekdays, "
        "weekends, daily), a month (jan..dec), 'days' or 'years'",
        check_quote(c, t));
  return -1;
}

/* The bits lo..hi of a week (7) or a year (12), wrapping past the end. */
static unsigned span_mask(int lo, int hi, int n) {
  unsigned m = 0;
  for (int i = lo;; i = (i + 1) % n) {
    m |= 1u << i;
    if (i == hi)
      break;
  }
  return m;
}

static const char *num_text(struct checker *c, const struct wpart *p) {
  char *out = check_ring(c);
  if (p->range)
    snprintf(out, QSIZE, "%lld..%lld", (long long)p->nlo, (long long)p->nhi);
  else
    snprintf(out, QSIZE, "%lld", (long long)p->nlo);
  return out;
}

/* Days of the month as Alertmanager's days_of_month takes them
 * (timeinterval.go, DayOfMonthRange.UnmarshalYAML): each end 1..31 or
 * -31..-1, a negative start needs a negative end, and the range must hold a
 * day in some month. */
static void check_mday(struct checker *c, struct wpart *p) {
  int64_t v[2] = {p->nlo, p->nhi};
  int ok = 1;
  for (int k = 0; k < 1 + p->range; k++)
    if (v[k] == 0 || v[k] < -31 || v[k] > 31) {
      ERR(c, p->loc, "day of the month '%lld' is out of range (1 to 31, or "
          "-31 to -1 counting from the end)", (long long)v[k]);
      ok = 0;
    }
  if (!ok)
    return;
  if (v[0] < 0 && v[1] > 0) {
    ERR(c, p->loc, "day range '%s' starts from the end of the month but ends "
        "from its start; write '%lld..-1' or a positive start",
        num_text(c, p), (long long)v[0]);
    return;
  }
  /* Same sign: in order. Positive to negative: not empty in a 31-day
   * month (-1 is day 31). */
  if ((v[0] > 0) == (v[1] > 0) ? v[0] > v[1] : v[0] > 32 + v[1]) {
    ERR(c, p->loc, "day range '%s' ends before it starts", num_text(c, p));
    return;
  }
  p->role = WR_MDAY;
}

static void check_year(struct checker *c, struct wpart *p) {
  int64_t v[2] = {p->nlo, p->nhi};
  for (int k = 0; k < 1 + p->range; k++)
    if (v[k] < 1 || v[k] > 9999) {
      ERR(c, p->loc, "year '%lld' is out of range (1 to 9999)",
          (long long)v[k]);
      return;
    }
  if (v[0] > v[1]) {
    ERR(c, p->loc, "year range '%s' ends before it starts", num_text(c, p));
    return;
  }
  p->role = WR_YEAR;
}

/* Days, months, `days N..`, `years N..` and time ranges, in source order.
 * Numbers belong to the `days` or `years` before them; any other part ends
 * that list. */
static void check_window_parts(struct checker *c, struct window *w) {
  unsigned days = 0, months = 0;
  struct wpart *sel = NULL;   /* the `days` or `years` in force */
  int sel_used = 0;
  for (struct wpart *p = w->parts;; p = p->next) {
    int is_sel = p && p->kind == WP_NAME && !p->range &&
                 (strcmp(p->lo, "days") == 0 || strcmp(p->lo, "years") == 0);
    if (sel && !sel_used && (!p || p->kind != WP_NUMBER))
      ERR(c, sel->loc, "'%s' must be followed by %s, as in '%s'", sel->lo,
          sel->lo[0] == 'd' ? "days of the month" : "years",
          sel->lo[0] == 'd' ? "days 1..7, -1" : "years 2026..2027");
    if (!p)
      break;
    if (p->kind != WP_NUMBER)
      sel = NULL;
    switch (p->kind) {
    case WP_NAME: {
      if (is_sel) {
        p->role = WR_SELECTOR;
        sel = p;
        sel_used = 0;
        break;
      }
      if (p->range && (!*p->lo || !*p->hi)) {
        ERR(c, p->loc, "range '%s..%s' needs a day or a month at each end, as "
            "in 'mon..fri' or 'jan..mar'", p->lo, p->hi);
        break;
      }
      int mlo, mhi = 0;
      int lo = window_name(c, p->lo, p->lo_loc, !p->range, &mlo);
      int hi = p->range ? window_name(c, p->hi, p->hi_loc, 0, &mhi) : lo;
      if (!p->range)
        mhi = mlo;
      if (lo < 0 || hi < 0)
        break;
      if (mlo != mhi) {
        ERR(c, p->loc, "range '%s..%s' mixes a day and a month", p->lo, p->hi);
        break;
      }
      if (lo >= 100) {
        days |= day_masks[lo - 100];
        p->role = WR_DAYS;
      } else if (mlo) {
        months |= span_mask(lo, hi, 12);
        p->role = WR_MONTHS;
      } else {
        days |= span_mask(lo, hi, 7);
        p->role = WR_DAYS;
      }
      break;
    }
    case WP_NUMBER:
      if (!sel) {
        ERR(c, p->loc, "number '%s' needs 'days' (days of the month) or "
            "'years' before it", num_text(c, p));
        break;
      }
      sel_used = 1;
      if (sel->lo[0] == 'd')
        check_mday(c, p);
      else
        check_year(c, p);
      break;
    case WP_TIME:
      check_window_time(c, p);
      break;
    }
  }
  w->day_mask = (uint8_t)(days ? days : 0x7f);
  w->month_mask = (uint16_t)(months ? months : 0xfff);
}

void check_window(struct checker *c, struct window *w) {
  if (w->name) {
    struct window *first = check_map_get(&c->windows, w->name, strlen(w->name));
    if (first && first != w) {
      ERR(c, w->name_loc, "duplicate window '%s'", check_quote(c, w->name));
      NOTE(c, first->name_loc, "first defined here");
    }
  }
  check_window_parts(c, w);
  if (w->from_day || w->to_day)
    check_window_dates(c, w);
  if (w->tz) {
    switch (tz_lookup(c, w->tz)) {
    case TZ_BADNAME:
      ERR(c, w->tz_loc, "invalid time zone name '%s'", check_quote(c, w->tz));
      break;
    case TZ_UNKNOWN: {
      const char *s = tz_suggest(c, w->tz);
      if (s)
        ERR(c, w->tz_loc, "unknown time zone '%s'; did you mean '%s'?",
            check_quote(c, w->tz), check_quote(c, s));
      else
        ERR(c, w->tz_loc, "unknown time zone '%s'", check_quote(c, w->tz));
      break;
    }
    case TZ_NODB:
      WARN(c, w->tz_loc,
           "cannot check time zone '%s': no time zone database in '%s'",
           check_quote(c, w->tz), check_quote(c, tz_dir()));
      break;
    }
  }
}
