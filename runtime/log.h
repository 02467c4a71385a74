/*
 * log.h - structured log lines: one line per event, text (logfmt) or JSON.
 *
 *   text: ts=2026-11-27T12:00:00.123Z level=info msg=decision rule=x ...
 *   json: {"ts":"2026-11-27T12:00:00.123Z","level":"info","msg":"decision",...}
 *
 * A line is built on the caller's stack (struct log_line) and handed over
 * whole, so lines from different threads never mix. Once log_start() has
 * run, lines go to a buffer that a writer thread flushes with one write(2)
 * per batch, at least every LOG_FLUSH_MS (a request thread then never
 * makes a system call to log); log_stop() flushes what is left. Without
 * the writer (tests, --check-config) each line is written at once. A
 * crash can lose the last LOG_FLUSH_MS of lines.
 * Values longer than LOG_VALUE_MAX bytes are cut (marked "..."); a line
 * that would exceed LOG_LINE_MAX drops its remaining fields and says
 * truncated=true. Values are escaped; invalid UTF-8 becomes U+FFFD (JSON)
 * or \xHH (text). Callers never pass secrets.
 */
#ifndef HEALER_LOG_H
#define HEALER_LOG_H

#include <stdbool.h>
#include <stddef.h>

#define LOG_LINE_MAX 8192
#define LOG_VALUE_MAX 1024

enum log_level { LOGL_DEBUG, LOGL_INFO, LOGL_WARN, LOGL_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

struct log_line {
  char buf[LOG_LINE_MAX];     /* the line being built */
  size_t len;                 /* bytes used */
  bool full;                  /* fields were dropped */
  bool active;                /* level enabled: fields are recorded */
  const char *prefix;         /* text format: key prefix inside an object */
  bool obj_first;             /* json: no field yet in the open object */
};

#define LOG_FLUSH_MS 20

/* Before any thread starts. fd is usually 2. */
void log_setup(enum log_format fmt, enum log_level min, int fd);

/* Starts the writer thread (0, or -1: lines stay synchronous). */
int log_start(void);
/* Flushes and stops the writer; later lines are written at once. */
void log_stop(void);
bool log_enabled(enum log_level lv);

/* "text"/"json", "debug"/"info"/"warn"/"error". Return 0 or -1. */
int log_parse_format(const char *s, enum log_format *out);
int log_parse_level(const char *s, enum log_level *out);

void log_begin(struct log_line *l, enum log_level lv, const char *msg);
void log_str(struct log_line *l, const char *key, const char *val); /* NULL: skipped */
void log_int(struct log_line *l, const char *key, long long v);
void log_bool(struct log_line *l, const char *key, bool v);
/* A nested object: {"key":{...}} in JSON, key.field=... in text. Objects do
 * not nest further. */
void log_obj_begin(struct log_line *l, const char *key);
void log_obj_end(struct log_line *l);
void log_end(struct log_line *l);

/* A line with only a message (printf-style) and the level. */
void log_printf(enum log_level lv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
