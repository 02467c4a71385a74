/*
 * log.c - see log.h.
 */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "rtime.h"

#define LOG_TAIL 48           /* room kept for the closing fields */

static enum log_format g_fmt = LOG_TEXT;
static enum log_level g_min = LOGL_INFO;
static int g_fd = 2;
static pthread_mutex_t g_write = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_setup(enum log_format fmt, enum log_level min, int fd) {
  g_fmt = fmt;
  g_min = min;
  g_fd = fd;
}

bool log_enabled(enum log_level lv) { return lv >= g_min; }

int log_parse_format(const char *s, enum log_format *out) {
  if (strcmp(s, "text") == 0) *out = LOG_TEXT;
  else if (strcmp(s, "json") == 0) *out = LOG_JSON;
  else return -1;
  return 0;
}

int log_parse_level(const char *s, enum log_level *out) {
  for (int i = 0; i < 4; i++)
    if (strcmp(s, level_names[i]) == 0) {
      *out = (enum log_level)i;
      return 0;
    }
  if (strcmp(s, "warning") == 0) {
    *out = LOGL_WARN;
    return 0;
  }
  return -1;
}

/* Room left for fields. */
static size_t room(const struct log_line *l) {
  size_t cap = LOG_LINE_MAX - LOG_TAIL;
  return l->len < cap ? cap - l->len : 0;
}

static void raw(struct log_line *l, const char *s, size_t n) {
  if (n > LOG_LINE_MAX - l->len) n = LOG_LINE_MAX - l->len;
  memcpy(l->buf + l->len, s, n);
  l->len += n;
}

static void raws(struct log_line *l, const char *s) { raw(l, s, strlen(s)); }

/* Escapes val into out (at most cap bytes); returns the bytes written. */
static size_t escape(char *out, size_t cap, const char *val, bool json,
                     bool *quote) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)val;
  size_t n = strlen(val), o = 0;
  size_t limit = n > LOG_VALUE_MAX ? LOG_VALUE_MAX : n;
  *quote = json || n == 0;
  for (size_t i = 0; i < limit;) {
    unsigned c = p[i];
    char tmp[8];
    size_t tl = 0, adv = 1;
    if (c >= 0x80) {
      size_t u = buf_utf8_len(p + i, n - i);
      if (u) {
        if (o + u > cap) break;
        memcpy(out + o, p + i, u);
        o += u;
        i += u;
        continue;
      }
      if (json) { memcpy(tmp, "\\ufffd", 6); tl = 6; }
      else { tmp[0] = '\\'; tmp[1] = 'x'; tmp[2] = hex[c >> 4]; tmp[3] = hex[c & 15]; tl = 4; *quote = true; }
    } else if (c == '"' || c == '\\') {
      tmp[0] = '\\'; tmp[1] = (char)c; tl = 2; *quote = true;
    } else if (c == '\n') { memcpy(tmp, "\\n", 2); tl = 2; *quote = true; }
    else if (c == '\r') { memcpy(tmp, "\\r", 2); tl = 2; *quote = true; }
    else if (c == '\t') { memcpy(tmp, "\\t", 2); tl = 2; *quote = true; }
    else if (c < 0x20 || c == 0x7f) {
      if (json) { memcpy(tmp, "\\u00", 4); tmp[4] = hex[c >> 4]; tmp[5] = hex[c & 15]; tl = 6; }
      else { tmp[0] = '\\'; tmp[1] = 'x'; tmp[2] = hex[c >> 4]; tmp[3] = hex[c & 15]; tl = 4; }
      *quote = true;
    } else {
      if (c == ' ' || c == '=') *quote = true;
      tmp[0] = (char)c;
      tl = 1;
    }
    if (o + tl > cap) break;
    memcpy(out + o, tmp, tl);
    o += tl;
    i += adv;
  }
  if (n > limit && o + 3 <= cap) {
    memcpy(out + o, "...", 3);
    o += 3;
    *quote = true;
  }
  return o;
}

static void field(struct log_line *l, const char *key, const char *val,
                  bool is_string) {
  if (!l->active || l->full) return;
  char esc[LOG_VALUE_MAX * 6 + 8];
  bool quote = false;
  size_t vn = is_string ? escape(esc, sizeof esc, val, g_fmt == LOG_JSON, &quote)
                        : strlen(val);
  if (!is_string) memcpy(esc, val, vn);
  size_t need = strlen(key) + vn + 8 + (l->prefix ? strlen(l->prefix) + 1 : 0);
  if (need > room(l)) {
    l->full = true;
    return;
  }
  if (g_fmt == LOG_JSON) {
    if (!l->obj_first) raw(l, ",", 1);
    l->obj_first = false;
    raw(l, "\"", 1);
    raws(l, key);
    raw(l, "\":", 2);
    if (quote) raw(l, "\"", 1);
    raw(l, esc, vn);
    if (quote) raw(l, "\"", 1);
  } else {
    raw(l, " ", 1);
    if (l->prefix) {
      raws(l, l->prefix);
      raw(l, ".", 1);
    }
    raws(l, key);
    raw(l, "=", 1);
    if (quote) raw(l, "\"", 1);
    raw(l, esc, vn);
    if (quote) raw(l, "\"", 1);
  }
}

void log_begin(struct log_line *l, enum log_level lv, const char *msg) {
  l->len = 0;
  l->full = false;
  l->prefix = NULL;
  l->obj_first = true;
  l->active = log_enabled(lv);
  if (!l->active) return;
  char ts[RTIME_BUFSZ];
  rtime_format(rtime_now_ms(), ts);
  if (g_fmt == LOG_JSON) {
    raws(l, "{");
    field(l, "ts", ts, true);
    field(l, "level", level_names[lv], true);
  } else {
    raws(l, "ts=");
    raws(l, ts);
    raws(l, " level=");
    raws(l, level_names[lv]);
  }
  field(l, "msg", msg, true);
}

void log_str(struct log_line *l, const char *key, const char *val) {
  if (val) field(l, key, val, true);
}

void log_int(struct log_line *l, const char *key, long long v) {
  char tmp[32];
  snprintf(tmp, sizeof tmp, "%lld", v);
  field(l, key, tmp, false);
}

void log_bool(struct log_line *l, const char *key, bool v) {
  field(l, key, v ? "true" : "false", false);
}

void log_obj_begin(struct log_line *l, const char *key) {
  if (!l->active || l->full) return;
  if (strlen(key) + 8 > room(l)) {
    l->full = true;
    return;
  }
  if (g_fmt == LOG_JSON) {
    if (!l->obj_first) raw(l, ",", 1);
    raw(l, "\"", 1);
    raws(l, key);
    raw(l, "\":{", 3);
    l->obj_first = true;
  }
  l->prefix = key;
}

void log_obj_end(struct log_line *l) {
  if (!l->active || !l->prefix) return;
  if (g_fmt == LOG_JSON) raw(l, "}", 1);  /* LOG_TAIL keeps room for it */
  l->prefix = NULL;
  l->obj_first = false;
}

void log_end(struct log_line *l) {
  if (!l->active) return;
  if (l->prefix) log_obj_end(l);
  if (l->full) {
    if (g_fmt == LOG_JSON) raws(l, ",\"truncated\":true");
    else raws(l, " truncated=true");
  }
  if (g_fmt == LOG_JSON) raw(l, "}", 1);
  raw(l, "\n", 1);
  pthread_mutex_lock(&g_write);
  size_t off = 0;
  while (off < l->len) {
    ssize_t w = write(g_fd, l->buf + off, l->len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
  pthread_mutex_unlock(&g_write);
}

void log_printf(enum log_level lv, const char *fmt, ...) {
  if (!log_enabled(lv)) return;
  char msg[LOG_VALUE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  struct log_line l;
  log_begin(&l, lv, msg);
  log_end(&l);
}
