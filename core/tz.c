/*
 * tz.c - see tz.h.
 */
#include "tz.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtime.h"

#define TZ_MAX_FILE (1u << 20)

/* A rule of a POSIX TZ string: when DST starts or ends. */
struct posix_date {
  char kind;                  /* 'M' month/week/day, 'J' Julian 1-365
                                 without Feb 29, 'D' zero-based day 0-365 */
  int month, week, day;       /* for 'M' */
  int n;                      /* for 'J' and 'D' */
  int32_t secs;               /* local time of the change, seconds */
};

struct posix_tz {
  bool valid;
  int32_t std_off;            /* seconds east of UTC */
  int32_t dst_off;
  bool has_dst;
  struct posix_date start, end;
};

struct tz {
  uint32_t ntrans;
  int64_t *trans;             /* transition instants, ascending */
  int32_t *trans_off;         /* offset in effect from trans[i] */
  int32_t first_off;          /* before the first transition */
  struct posix_tz footer;     /* after the last transition, if valid */
};

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t n, const char *fmt, ...) {
  if (!err || !n) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, n, fmt, ap);
  va_end(ap);
}

/* ---- POSIX TZ strings ---------------------------------------------------- */

static const char *parse_name(const char *p) {
  if (*p == '<') {
    const char *q = strchr(p, '>');
    return q && q - p >= 2 ? q + 1 : NULL;
  }
  const char *s = p;
  while (isalpha((unsigned char)*p)) p++;
  return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]], hours up to 167. */
static const char *parse_hms(const char *p, int32_t *out) {
  int sign = 1;
  if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
  if (!isdigit((unsigned char)*p)) return NULL;
  int32_t h = 0, m = 0, s = 0;
  while (isdigit((unsigned char)*p)) {
    h = h * 10 + (*p++ - '0');
    if (h > 167) return NULL;
  }
  if (*p == ':') {
    p++;
    if (!isdigit((unsigned char)*p)) return NULL;
    while (isdigit((unsigned char)*p)) {
      m = m * 10 + (*p++ - '0');
      if (m > 59) return NULL;  /* bounded as the hours are: no overflow */
    }
    if (*p == ':') {
      p++;
      if (!isdigit((unsigned char)*p)) return NULL;
      while (isdigit((unsigned char)*p)) {
        s = s * 10 + (*p++ - '0');
        if (s > 59) return NULL;
      }
    }
  }
  *out = sign * (h * 3600 + m * 60 + s);
  return p;
}

static const char *parse_int(const char *p, int *out, int lo, int hi) {
  if (!isdigit((unsigned char)*p)) return NULL;
  int v = 0;
  while (isdigit((unsigned char)*p)) {
    v = v * 10 + (*p++ - '0');
    if (v > hi) return NULL;
  }
  if (v < lo) return NULL;
  *out = v;
  return p;
}

static const char *parse_date(const char *p, struct posix_date *d) {
  if (*p == 'M') {
    d->kind = 'M';
    if (!(p = parse_int(p + 1, &d->month, 1, 12)) || *p++ != '.') return NULL;
    if (!(p = parse_int(p, &d->week, 1, 5)) || *p++ != '.') return NULL;
    if (!(p = parse_int(p, &d->day, 0, 6))) return NULL;
  } else if (*p == 'J') {
    d->kind = 'J';
    if (!(p = parse_int(p + 1, &d->n, 1, 365))) return NULL;
  } else {
    d->kind = 'D';
    if (!(p = parse_int(p, &d->n, 0, 365))) return NULL;
  }
  d->secs = 7200;
  if (*p == '/') p = parse_hms(p + 1, &d->secs);
  return p;
}

static int parse_posix(const char *s, struct posix_tz *out) {
  struct posix_tz z = {0};
  const char *p = parse_name(s);
  int32_t off;
  if (!p || !(p = parse_hms(p, &off))) return -1;
  z.std_off = -off;           /* POSIX offsets are west of UTC */
  if (*p) {
    if (!(p = parse_name(p))) return -1;
    z.has_dst = true;
    z.dst_off = z.std_off + 3600;
    if (*p && *p != ',') {
      if (!(p = parse_hms(p, &off))) return -1;
      z.dst_off = -off;
    }
    if (*p == ',') {
      if (!(p = parse_date(p + 1, &z.start)) || *p++ != ',') return -1;
      if (!(p = parse_date(p, &z.end))) return -1;
    } else {
      /* No rule: the historical US default, M3.2.0,M11.1.0. */
      z.start = (struct posix_date){'M', 3, 2, 0, 0, 7200};
      z.end = (struct posix_date){'M', 11, 1, 0, 0, 7200};
    }
  }
  if (*p) return -1;
  z.valid = true;
  *out = z;
  return 0;
}

static bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Seconds since the epoch of local midnight starting the rule's day in
 * year y, as if local time were UTC. */
static int64_t rule_day(const struct posix_date *d, int64_t y) {
  int64_t days;
  if (d->kind == 'J') {
    days = rtime_days_from_civil(y, 1, 1) + d->n - 1;
    if (leap(y) && d->n >= 60) days++;
  } else if (d->kind == 'D') {
    days = rtime_days_from_civil(y, 1, 1) + d->n;
  } else {
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t first = rtime_days_from_civil(y, (unsigned)d->month, 1);
    int wd_first = (int)(((first % 7) + 11) % 7); /* 1970-01-01 was Thursday */
    int dom = 1 + (d->day - wd_first + 7) % 7 + (d->week - 1) * 7;
    int len = mdays[d->month - 1] + (d->month == 2 && leap(y));
    while (dom > len) dom -= 7;
    days = first + dom - 1;
  }
  return days * 86400;
}

static int32_t posix_offset(const struct posix_tz *z, int64_t t) {
  if (!z->has_dst) return z->std_off;
  int64_t local = t + z->std_off;
  int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
  int64_t y;
  unsigned m, d;
  rtime_civil_from_days(days, &y, &m, &d);
  /* Start is given in standard time, end in daylight time. */
  int64_t start = rule_day(&z->start, y) + z->start.secs - z->std_off;
  int64_t end = rule_day(&z->end, y) + z->end.secs - z->dst_off;
  bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
  return dst ? z->dst_off : z->std_off;
}

/* ---- TZif ---------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p) {
  return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
  uint32_t isut, isstd, leap, time, type, chr;
};

static int read_header(const unsigned char *p, size_t len,
                       struct tzif_counts *c, int *version) {
  if (len < 44 || memcmp(p, "TZif", 4) != 0) return -1;
  *version = p[4] ? p[4] - '0' : 1;
  c->isut = be32(p + 20);
  c->isstd = be32(p + 24);
  c->leap = be32(p + 28);
  c->time = be32(p + 32);
  c->type = be32(p + 36);
  c->chr = be32(p + 40);
  if (c->type == 0 || c->type > 256 || c->time > 100000 || c->chr > 100000 ||
      c->leap > 100000 || c->isut > 256 || c->isstd > 256)
    return -1;
  return 0;
}

static size_t block_size(const struct tzif_counts *c, size_t tsize) {
  return c->time * tsize + c->time + c->type * 6 + c->chr +
         c->leap * (tsize + 4) + c->isstd + c->isut;
}

struct tz *tz_parse(const unsigned char *data, size_t len, char *err,
                    size_t errlen) {
  struct tzif_counts c;
  int version;
  if (read_header(data, len, &c, &version) < 0) {
    set_err(err, errlen, "%s", "not a TZif file");
    return NULL;
  }
  const unsigned char *p = data + 44;
  size_t tsize = 4;
  size_t left = len - 44;
  size_t b1 = block_size(&c, 4);
  if (b1 > left) goto bad;
  if (version >= 2) {
    p += b1;
    left -= b1;
    if (read_header(p, left, &c, &version) < 0) goto bad;
    p += 44;
    left -= 44;
    tsize = 8;
    if (block_size(&c, 8) > left) goto bad;
  }
  struct tz *z = calloc(1, sizeof *z);
  if (!z) goto nomem;
  z->ntrans = c.time;
  if (c.time) {
    z->trans = calloc(c.time, sizeof *z->trans);
    z->trans_off = calloc(c.time, sizeof *z->trans_off);
    if (!z->trans || !z->trans_off) {
      tz_free(z);
      goto nomem;
    }
  }
  const unsigned char *times = p;
  const unsigned char *idx = times + (size_t)c.time * tsize;
  const unsigned char *types = idx + c.time;
  for (uint32_t i = 0; i < c.time; i++) {
    z->trans[i] = tsize == 8 ? be64(times + i * 8)
                             : (int64_t)(int32_t)be32(times + i * 4);
    if (idx[i] >= c.type || (i && z->trans[i] <= z->trans[i - 1])) {
      tz_free(z);
      goto bad;
    }
    z->trans_off[i] = (int32_t)be32(types + idx[i] * 6);
  }
  z->first_off = (int32_t)be32(types);
  if (version >= 2) {
    const unsigned char *f = p + block_size(&c, 8);
    size_t fl = left - block_size(&c, 8);
    if (fl >= 2 && f[0] == '\n') {
      const unsigned char *nl = memchr(f + 1, '\n', fl - 1);
      if (nl && nl - f - 1 < 256) {
        char spec[256];
        memcpy(spec, f + 1, (size_t)(nl - f - 1));
        spec[nl - f - 1] = '\0';
        if (spec[0]) parse_posix(spec, &z->footer);
      }
    }
  }
  return z;
bad:
  set_err(err, errlen, "%s", "malformed TZif file");
  return NULL;
nomem:
  set_err(err, errlen, "%s", "out of memory");
  return NULL;
}

struct tz *tz_from_posix(const char *spec, char *err, size_t errlen) {
  struct tz *z = calloc(1, sizeof *z);
  if (!z) {
    set_err(err, errlen, "%s", "out of memory");
    return NULL;
  }
  if (parse_posix(spec, &z->footer) < 0) {
    set_err(err, errlen, "invalid POSIX TZ string '%s'", spec);
    free(z);
    return NULL;
  }
  z->first_off = z->footer.std_off;
  return z;
}

bool tz_name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 200 || s[0] == '/' || s[n - 1] == '/' || strstr(s, "..") ||
      strstr(s, "//"))
    return false;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
          ch == '_' || ch == '-' || ch == '+' || ch == '/' ||
          (ch == '.' && i > 0 && s[i - 1] != '/')))
      return false;
  }
  return true;
}

struct tz *tz_load(const char *name, char *err, size_t errlen) {
  if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0 ||
      strcmp(name, "Z") == 0)
    return tz_from_posix("UTC0", err, errlen);
  if (!tz_name_ok(name)) {
    set_err(err, errlen, "invalid time zone name '%s'", name);
    return NULL;
  }
  const char *dir = getenv("TZDIR");
  if (!dir || !*dir) dir = "/usr/share/zoneinfo";
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (err && errlen)
      snprintf(err, errlen, "time zone '%s': %s: %s", name, path, strerror(errno));
    return NULL;
  }
  unsigned char *data = malloc(TZ_MAX_FILE);
  if (!data) {
    fclose(f);
    set_err(err, errlen, "%s", "out of memory");
    return NULL;
  }
  size_t len = fread(data, 1, TZ_MAX_FILE, f);
  fclose(f);
  char why[128];
  struct tz *z = tz_parse(data, len, why, sizeof why);
  free(data);
  if (!z && err && errlen) snprintf(err, errlen, "time zone '%s': %s: %s", name, path, why);
  return z;
}

void tz_free(struct tz *z) {
  if (!z) return;
  free(z->trans);
  free(z->trans_off);
  free(z);
}

int32_t tz_offset(const struct tz *z, int64_t t) {
  if (z->ntrans == 0) return z->footer.valid ? posix_offset(&z->footer, t) : z->first_off;
  if (t < z->trans[0]) return z->first_off;
  if (t >= z->trans[z->ntrans - 1] && z->footer.valid)
    return posix_offset(&z->footer, t);
  uint32_t lo = 0, hi = z->ntrans;  /* last i with trans[i] <= t */
  while (hi - lo > 1) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (z->trans[mid] <= t) lo = mid;
    else hi = mid;
  }
  return z->trans_off[lo];
}
