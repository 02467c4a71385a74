/*
 * log.c - see log.h.
 */
#include "log.h"

#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "rtime.h"
#include "utf8.h"

#define LOG_TAIL 48           /* room kept for the closing fields */

static enum log_format g_fmt = LOG_TEXT;
static enum log_level g_min = LOGL_INFO;
static int g_fd = 2;
static pthread_mutex_t g_write = PTHREAD_MUTEX_INITIALIZER; /* the fd */

/* The writer: lines are appended to `pending`; the writer thread swaps it
 * with its own buffer and writes that. */
#define LOG_BUF (512u * 1024u)

static struct {
  pthread_mutex_t mu;         /* pending, running, stopping */
  pthread_cond_t wake;        /* writer: half full, or stop */
  pthread_cond_t room;        /* appenders: pending was flushed */
  char *pending, *spare;
  size_t len;
  bool running, stopping;
  pthread_t thread;
} g_w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
         NULL, NULL, 0, false, false, 0};

static void write_all(const char *p, size_t n) {
  pthread_mutex_lock(&g_write);
  size_t off = 0;
  while (off < n) {
    ssize_t w = write(g_fd, p + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
  pthread_mutex_unlock(&g_write);
}

static void *writer_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&g_w.mu);
  for (;;) {
    if (g_w.len == 0 && g_w.stopping) break;
    if (g_w.len < LOG_BUF / 2 && !g_w.stopping) {
      struct timespec ts = rtime_deadline(CLOCK_REALTIME, LOG_FLUSH_MS);
      pthread_cond_timedwait(&g_w.wake, &g_w.mu, &ts);
    }
    if (g_w.len == 0) continue;
    char *out = g_w.pending;
    size_t n = g_w.len;
    g_w.pending = g_w.spare;
    g_w.spare = out;
    g_w.len = 0;
    pthread_cond_broadcast(&g_w.room);
    pthread_mutex_unlock(&g_w.mu);
    write_all(out, n);
    pthread_mutex_lock(&g_w.mu);
  }
  pthread_mutex_unlock(&g_w.mu);
  return NULL;
}

int log_start(void) {
  if (g_w.running) return 0;
  g_w.pending = malloc(LOG_BUF);
  g_w.spare = malloc(LOG_BUF);
  if (!g_w.pending || !g_w.spare) goto fail;
  g_w.len = 0;
  g_w.stopping = false;
  if (pthread_create(&g_w.thread, NULL, writer_main, NULL) != 0) goto fail;
  pthread_mutex_lock(&g_w.mu);
  g_w.running = true;
  pthread_mutex_unlock(&g_w.mu);
  return 0;
fail:
  free(g_w.pending);
  free(g_w.spare);
  g_w.pending = g_w.spare = NULL;
  return -1;
}

void log_stop(void) {
  pthread_mutex_lock(&g_w.mu);
  if (!g_w.running) {
    pthread_mutex_unlock(&g_w.mu);
    return;
  }
  g_w.stopping = true;
  pthread_cond_signal(&g_w.wake);
  pthread_mutex_unlock(&g_w.mu);
  pthread_join(g_w.thread, NULL);
  pthread_mutex_lock(&g_w.mu);
  g_w.running = false;
  pthread_mutex_unlock(&g_w.mu);
  free(g_w.pending);
  free(g_w.spare);
  g_w.pending = g_w.spare = NULL;
}

/* Hands a whole line over: to the writer's buffer, or straight to the fd. */
static void emit(const char *line, size_t n) {
  pthread_mutex_lock(&g_w.mu);
  if (g_w.running && !g_w.stopping) {
    while (g_w.len + n > LOG_BUF && g_w.running && !g_w.stopping) {
      pthread_cond_signal(&g_w.wake);   /* full: wait for a flush */
      pthread_cond_wait(&g_w.room, &g_w.mu);
    }
    if (g_w.running && !g_w.stopping) {
      memcpy(g_w.pending + g_w.len, line, n);
      g_w.len += n;
      if (g_w.len >= LOG_BUF / 2) pthread_cond_signal(&g_w.wake);
      pthread_mutex_unlock(&g_w.mu);
      return;
    }
  }
  pthread_mutex_unlock(&g_w.mu);
  write_all(line, n);
}

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

/* Whether val can be written as is: printable ASCII, nothing to escape
 * (and, in text, nothing that forces quotes). */
static bool plain(const unsigned char *p, size_t n, bool json) {
  if (!json && n == 0) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned c = p[i];
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
    if (!json && (c == ' ' || c == '=')) return false;
  }
  return true;
}

/* Escapes val[0..n) into out (room for 6 bytes per input byte); returns
 * the bytes written. JSON: \" \\ \n \r \t \u00XX, invalid UTF-8 as
 * U+FFFD. Text: the same short escapes, others as \xHH. */
static size_t escape(char *out, const unsigned char *p, size_t n, bool json) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    unsigned c = p[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out[o++] = (char)c;
      i++;
      continue;
    }
    if (c >= 0x80) {
      size_t u = utf8_len(p + i, n - i);
      if (u) {
        memcpy(out + o, p + i, u);
        o += u;
        i += u;
        continue;
      }
    }
    out[o++] = '\\';
    switch (c) {
    case '"': out[o++] = '"'; break;
    case '\\': out[o++] = '\\'; break;
    case '\n': out[o++] = 'n'; break;
    case '\r': out[o++] = 'r'; break;
    case '\t': out[o++] = 't'; break;
    default:
      if (json && c >= 0x80) {
        memcpy(out + o, "ufffd", 5);
        o += 5;
      } else if (json) {
        memcpy(out + o, "u00", 3);
        out[o + 3] = hex[c >> 4];
        out[o + 4] = hex[c & 15];
        o += 5;
      } else {
        out[o++] = 'x';
        out[o++] = hex[c >> 4];
        out[o++] = hex[c & 15];
      }
    }
    i++;
  }
  return o;
}

/* key=value (text) or "key":value (JSON); a string value is quoted and
 * escaped as needed, a number or boolean written as is. */
static void field(struct log_line *l, const char *key, const char *val, size_t vn,
                  bool is_string) {
  if (!l->active || l->full) return;
  bool json = g_fmt == LOG_JSON;
  const unsigned char *p = (const unsigned char *)val;
  bool cut = vn > LOG_VALUE_MAX;
  if (cut) vn = LOG_VALUE_MAX;
  bool as_is = !is_string || (!cut && plain(p, vn, json));
  size_t kn = strlen(key), pn = l->prefix ? strlen(l->prefix) + 1 : 0;
  size_t need = kn + pn + 8 + (as_is ? vn : vn * 6 + 5);
  if (need > room(l)) {
    l->full = true;
    return;
  }
  char *o = l->buf + l->len;
  if (json) {
    if (!l->obj_first) *o++ = ',';
    l->obj_first = false;
    *o++ = '"';
    memcpy(o, key, kn);
    o += kn;
    *o++ = '"';
    *o++ = ':';
  } else {
    *o++ = ' ';
    if (l->prefix) {
      memcpy(o, l->prefix, pn - 1);
      o += pn - 1;
      *o++ = '.';
    }
    memcpy(o, key, kn);
    o += kn;
    *o++ = '=';
  }
  bool quote = is_string && (json || !as_is);
  if (quote) *o++ = '"';
  if (as_is) {
    memcpy(o, val, vn);
    o += vn;
  } else {
    o += escape(o, p, vn, json);
    if (cut) {
      memcpy(o, "...", 3);
      o += 3;
    }
  }
  if (quote) *o++ = '"';
  l->len = (size_t)(o - l->buf);
}

/* "2026-11-27T12:00:00.123Z", the date and time part cached per thread and
 * second (this is on every log line). */
static void timestamp(char out[RTIME_BUFSZ]) {
  static _Thread_local int64_t cached_sec = -1;
  static _Thread_local char cached[RTIME_BUFSZ];
  int64_t ms = rtime_now_ms();
  int64_t sec = ms / 1000;
  if (sec != cached_sec) {
    rtime_format(sec * 1000, cached);
    cached_sec = sec;
  }
  memcpy(out, cached, 20);    /* "YYYY-MM-DDTHH:MM:SS." */
  int frac = (int)(ms % 1000);
  out[20] = (char)('0' + frac / 100);
  out[21] = (char)('0' + frac / 10 % 10);
  out[22] = (char)('0' + frac % 10);
  out[23] = 'Z';
  out[24] = '\0';
}

void log_begin(struct log_line *l, enum log_level lv, const char *msg) {
  l->len = 0;
  l->full = false;
  l->prefix = NULL;
  l->obj_first = true;
  l->active = log_enabled(lv);
  if (!l->active) return;
  char ts[RTIME_BUFSZ];
  timestamp(ts);
  if (g_fmt == LOG_JSON) {
    raws(l, "{");
    field(l, "ts", ts, 24, true);
    field(l, "level", level_names[lv], strlen(level_names[lv]), true);
  } else {
    raws(l, "ts=");
    raw(l, ts, 24);
    raws(l, " level=");
    raws(l, level_names[lv]);
  }
  field(l, "msg", msg, strlen(msg), true);
}

void log_str(struct log_line *l, const char *key, const char *val) {
  if (val && l->active) field(l, key, val, strlen(val), true);
}

void log_int(struct log_line *l, const char *key, long long v) {
  if (!l->active) return;
  char tmp[24], *e = tmp + sizeof tmp, *p = e;
  unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) *--p = '-';
  field(l, key, p, (size_t)(e - p), false);
}

void log_bool(struct log_line *l, const char *key, bool v) {
  field(l, key, v ? "true" : "false", v ? 4 : 5, false);
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
  emit(l->buf, l->len);
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
