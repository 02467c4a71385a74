/*
 * decode.c - see decode.h.
 */
#include "decode.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "buf.h"
#include "utf8.h"

/* The arena cJSON allocates from on this thread, while decode_payload()
 * runs; NULL otherwise (then cJSON uses malloc, e.g. in tests). */
static _Thread_local struct bump *tl_arena;

static void *hook_malloc(size_t n) {
  struct bump *a = tl_arena;
  return a ? bump_alloc(a, n) : malloc(n);
}

static void hook_free(void *p) {
  if (!tl_arena) free(p);     /* arena memory goes with the arena */
}

static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void install_hooks(void) {
  cJSON_Hooks hooks = {hook_malloc, hook_free};
  cJSON_InitHooks(&hooks);
}

void decode_init(void) { pthread_once(&hooks_once, install_hooks); }

__attribute__((format(printf, 2, 3)))
static int fail(char err[DECODE_ERR_MAX], const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, DECODE_ERR_MAX, fmt, ap);
  va_end(ap);
  return -1;
}

/* The member named key, the last one when the key repeats: Go's
 * encoding/json, which Alertmanager speaks, keeps the last. */
static const cJSON *member(const cJSON *obj, const char *key) {
  const cJSON *found = NULL;
  for (const cJSON *c = obj ? obj->child : NULL; c; c = c->next)
    if (c->string && strcmp(c->string, key) == 0) found = c;
  return found;
}

/* Offset of the first byte of s that does not begin a valid UTF-8
 * sequence (overlong forms and surrogates included), or -1 when s is valid
 * throughout. cJSON copies raw bytes through unchecked, and a regex matcher
 * could not evaluate such a value, so it is refused here, at the door. */
static long bad_utf8(const char *s) {
  size_t n = strlen(s);
  for (size_t i = 0; i < n;) {
    size_t k = utf8_len((const unsigned char *)s + i, n - i);
    if (!k) return (long)i;
    i += k;
  }
  return -1;
}

/* An object of strings into an arena array. A repeated name keeps its
 * last value, in the place of its first. */
static int string_map(const cJSON *obj, const char *what, size_t i,
                      struct bump *a, const struct kv **out, size_t *n,
                      char err[DECODE_ERR_MAX]) {
  if (!cJSON_IsObject(obj))
    return fail(err, "alerts[%zu].%s: expected an object of strings", i, what);
  size_t count = 0;
  for (const cJSON *c = obj->child; c; c = c->next) count++;
  struct kv *kv = count ? bump_alloc(a, count * sizeof *kv) : NULL;
  if (count && !kv) return fail(err, "out of memory");
  size_t k = 0;
  for (const cJSON *c = obj->child; c; c = c->next) {
    if (!cJSON_IsString(c) || !c->valuestring)
      return fail(err, "alerts[%zu].%s.%.64s: expected a string", i, what,
                  c->string ? c->string : "?");
    const char *name = c->string ? c->string : "";
    long bad = bad_utf8(name);
    if (bad >= 0)
      return fail(err, "alerts[%zu].%s: a name is not valid UTF-8 (at byte %ld of it)", i,
                  what, bad);
    if ((bad = bad_utf8(c->valuestring)) >= 0)
      return fail(err, "alerts[%zu].%s.%.64s: the value is not valid UTF-8 (at byte %ld)",
                  i, what, name, bad);
    size_t at = 0;
    while (at < k && strcmp(kv[at].name, name) != 0) at++;
    kv[at].name = name;
    kv[at].value = c->valuestring;
    if (at == k) k++;
  }
  *out = kv;
  *n = k;
  return 0;
}

/* A string member: required, or optional (then "" when absent). */
static int string_field(const cJSON *obj, const char *key, bool required,
                        size_t i, const char **out, char err[DECODE_ERR_MAX]) {
  const cJSON *v = member(obj, key);
  if (!v) {
    if (required) return fail(err, "alerts[%zu].%s: missing", i, key);
    *out = "";
    return 0;
  }
  if (!cJSON_IsString(v) || !v->valuestring)
    return fail(err, "alerts[%zu].%s: expected a string", i, key);
  long bad = bad_utf8(v->valuestring);
  if (bad >= 0)
    return fail(err, "alerts[%zu].%s: not valid UTF-8 (at byte %ld)", i, key, bad);
  *out = v->valuestring;
  return 0;
}

static int decode_alert(const cJSON *j, size_t i, struct bump *arena,
                        struct alert *a, char err[DECODE_ERR_MAX]) {
  if (!cJSON_IsObject(j)) return fail(err, "alerts[%zu]: expected an object", i);
  const char *status;
  if (string_field(j, "status", true, i, &status, err) < 0) return -1;
  if (strcmp(status, "firing") == 0) a->status = HL_STATUS_FIRING;
  else if (strcmp(status, "resolved") == 0) a->status = HL_STATUS_RESOLVED;
  else
    return fail(err, "alerts[%zu].status: expected \"firing\" or \"resolved\"", i);
  const cJSON *labels = member(j, "labels");
  if (!labels) return fail(err, "alerts[%zu].labels: missing", i);
  if (string_map(labels, "labels", i, arena, &a->labels, &a->nlabels, err) < 0)
    return -1;
  const cJSON *ann = member(j, "annotations");
  a->annotations = NULL;
  a->nannotations = 0;
  if (ann && !cJSON_IsNull(ann) &&
      string_map(ann, "annotations", i, arena, &a->annotations,
                 &a->nannotations, err) < 0)
    return -1;
  if (string_field(j, "startsAt", true, i, &a->starts_at, err) < 0 ||
      string_field(j, "fingerprint", true, i, &a->fingerprint, err) < 0 ||
      string_field(j, "endsAt", false, i, &a->ends_at, err) < 0 ||
      string_field(j, "generatorURL", false, i, &a->generator_url, err) < 0)
    return -1;
  char *when = bump_alloc(arena, DECODE_TIME_MAX);
  if (!when) return fail(err, "out of memory");
  if (decode_rfc3339(a->starts_at, when) < 0)
    return fail(err, "alerts[%zu].startsAt: expected an RFC 3339 time such as "
                "2026-11-27T12:10:15.696Z, got \"%.40s\"", i, a->starts_at);
  a->starts_at = when;
  const char *name = alert_label(a, "alertname");
  a->alertname = name ? name : "";
  return 0;
}

static const char *opt_string(const cJSON *root, const char *key) {
  const cJSON *v = member(root, key);
  return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

/* ---- NUL inside strings ------------------------------------------------------
 *
 * cJSON decodes "\u0000" (and copies a raw NUL byte) into its C strings,
 * which then end there: "dev\u0000prod" would read as "dev". No name or
 * value may hold one, so a payload with a NUL in any string is refused,
 * naming where it is. */

/* Whether the body might hold a NUL inside a string (cheap; false
 * positives such as "\\u0000" are sorted out by nul_path()). */
static bool maybe_nul(const char *s, size_t n) {
  if (memchr(s, '\0', n)) return true;
  for (const char *p = s; (p = memchr(p, '\\', (size_t)(s + n - p))); p++)
    if ((size_t)(s + n - p) >= 6 && memcmp(p, "\\u0000", 6) == 0) return true;
  return false;
}

#define NUL_DEPTH 32

/* Path of the first string (name or value) holding a NUL in s, which is
 * valid JSON, as "alerts[0].labels.env"; false when none does. */
static bool nul_path(const char *s, size_t n, char *out, size_t outlen) {
  struct {
    bool arr, want_key;
    size_t idx;
    const char *key;
    size_t klen;
  } st[NUL_DEPTH];
  size_t depth = 0, over = 0;  /* over: levels deeper than st holds */
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '{' || c == '[') {
      if (depth < NUL_DEPTH) {
        st[depth].arr = c == '[';
        st[depth].want_key = c == '{';
        st[depth].idx = 0;
        st[depth].key = NULL;
        st[depth].klen = 0;
        depth++;
      } else {
        over++;
      }
    } else if (c == '}' || c == ']') {
      if (over) over--;
      else if (depth) depth--;
    } else if (c == ',' && depth && !over) {
      if (st[depth - 1].arr) st[depth - 1].idx++;
      else st[depth - 1].want_key = true;
    } else if (c == '"') {
      size_t j = i + 1;
      bool nul = false;
      while (j < n && s[j] != '"') {
        if (s[j] == '\\') {
          if (j + 6 <= n && memcmp(s + j, "\\u0000", 6) == 0) nul = true;
          j += 2;
        } else {
          if (s[j] == '\0') nul = true;
          j++;
        }
      }
      if (depth && !over && !st[depth - 1].arr && st[depth - 1].want_key) {
        st[depth - 1].key = s + i + 1;
        st[depth - 1].klen = j - i - 1;
        st[depth - 1].want_key = false;
      }
      if (nul) {
        size_t o = 0;
        out[0] = '\0';
        for (size_t d = 0; d < depth && o + 1 < outlen; d++) {
          if (st[d].arr) {
            o += (size_t)snprintf(out + o, outlen - o, "[%zu]", st[d].idx);
          } else {
            if (d && o + 1 < outlen) out[o++] = '.';
            for (size_t k = 0; k < st[d].klen && k < 64 && o + 1 < outlen; k++) {
              unsigned char b = (unsigned char)st[d].key[k];
              out[o++] = b < 0x20 || b == 0x7f ? '?' : (char)b;
            }
            out[o] = '\0';
          }
          if (o >= outlen) o = outlen - 1;
        }
        if (over && o + 4 < outlen) memcpy(out + o, "...", 4);
        if (!out[0]) snprintf(out, outlen, "the string at byte %zu", i);
        return true;
      }
      i = j;
    }
  }
  return false;
}

/* ---- startsAt ----------------------------------------------------------------- */

static bool digits(const char *s, int n, int *v) {
  *v = 0;
  for (int k = 0; k < n; k++) {
    if (s[k] < '0' || s[k] > '9') return false;
    *v = *v * 10 + (s[k] - '0');
  }
  return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

int decode_rfc3339(const char *s, char out[DECODE_TIME_MAX]) {
  int y, mo, d, h, mi, sec;
  if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
      !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
      s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
    return -1;
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 ||
      mi > 59 || sec > 59)
    return -1;
  const char *p = s + 19;
  char frac[10] = "";
  if (*p == '.') {
    p++;
    size_t nd = 0;
    while (*p >= '0' && *p <= '9') {
      if (nd < 9) frac[nd] = *p;
      nd++;
      p++;
    }
    if (nd == 0) return -1;
    frac[nd < 9 ? nd : 9] = '\0';
    for (size_t k = strlen(frac); k && frac[k - 1] == '0';) frac[--k] = '\0';
  }
  int off = 0;                /* minutes east of UTC */
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int oh, om;
    if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 ||
        om > 59)
      return -1;
    off = (oh * 60 + om) * (*p == '-' ? -1 : 1);
    p += 6;
  } else {
    return -1;
  }
  if (*p) return -1;
  int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off * 60;
  int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  int64_t rem = t - days * 86400;
  civil_from_days(days, &y, &mo, &d);
  if (y < 0 || y > 9999) return -1;
  char tmp[96];               /* what the compiler cannot bound */
  int n = snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d%s%sZ", y, mo, d,
                   (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60),
                   frac[0] ? "." : "", frac);
  if (n < 0 || n >= DECODE_TIME_MAX) return -1;
  memcpy(out, tmp, (size_t)n + 1);
  return 0;
}

int decode_payload(const char *body, size_t len, struct bump *arena,
                   struct payload *out, char err[DECODE_ERR_MAX]) {
  size_t lead = 0;
  while (lead < len && strchr(" \t\r\n", body[lead]) && body[lead]) lead++;
  if (lead == len) return fail(err, "empty body");
  const char *end = NULL;
  decode_init();
  tl_arena = arena;
  cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
  int rc = -1;
  if (!root) {
    size_t at = end && end >= body && end <= body + len ? (size_t)(end - body) : 0;
    fail(err, "malformed JSON near byte %zu", at);
    goto done;
  }
  for (const char *p = end; p < body + len; p++)
    if (!strchr(" \t\r\n", *p) || !*p) {
      fail(err, "malformed JSON: unexpected data after the object at byte %zu",
           (size_t)(p - body));
      goto done;
    }
  if (!cJSON_IsObject(root)) {
    fail(err, "expected a JSON object");
    goto done;
  }
  char where[128];
  if (maybe_nul(body, len) && nul_path(body, len, where, sizeof where)) {
    fail(err, "%s: holds a NUL character (\\u0000), which no name or value may", where);
    goto done;
  }
  const cJSON *version = member(root, "version");
  if (!version) {
    fail(err, "version: missing (expected \"4\")");
    goto done;
  }
  if (!cJSON_IsString(version) || !version->valuestring) {
    fail(err, "version: expected the string \"4\"");
    goto done;
  }
  if (strcmp(version->valuestring, "4") != 0) {
    fail(err, "version: unsupported version \"%.16s\" (expected \"4\")",
         version->valuestring);
    goto done;
  }
  const cJSON *alerts = member(root, "alerts");
  if (!alerts) {
    fail(err, "alerts: missing");
    goto done;
  }
  if (!cJSON_IsArray(alerts)) {
    fail(err, "alerts: expected an array");
    goto done;
  }
  size_t n = 0;
  for (const cJSON *c = alerts->child; c; c = c->next) n++;
  struct alert *list = n ? bump_alloc(arena, n * sizeof *list) : NULL;
  if (n && !list) {
    fail(err, "out of memory");
    goto done;
  }
  size_t i = 0;
  for (const cJSON *c = alerts->child; c; c = c->next, i++)
    if (decode_alert(c, i, arena, &list[i], err) < 0) goto done;
  out->receiver = opt_string(root, "receiver");
  out->group_key = opt_string(root, "groupKey");
  out->alerts = list;
  out->nalerts = n;
  rc = 0;
done:
  /* The tree lives in the arena: nothing to delete. */
  tl_arena = NULL;
  return rc;
}

const char *alert_label(const struct alert *a, const char *name) {
  for (size_t i = 0; i < a->nlabels; i++)
    if (strcmp(a->labels[i].name, name) == 0) return a->labels[i].value;
  return NULL;
}

const char *alert_annotation(const struct alert *a, const char *name) {
  for (size_t i = 0; i < a->nannotations; i++)
    if (strcmp(a->annotations[i].name, name) == 0) return a->annotations[i].value;
  return NULL;
}
