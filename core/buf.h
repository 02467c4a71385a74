/*
 * buf.h - a growable byte buffer, with JSON and logfmt string writers.
 *
 * Every HTTP reply and API document is built in one of these; it lives in
 * core/ because render.c builds its strings in one. Writes never
 * fail visibly: an allocation failure sets `oom` and later writes are
 * dropped, so a writer checks once at the end.
 *
 * Ownership: the buffer owns data; buf_free() releases it, buf_steal()
 * hands it to the caller (free() it).
 */
#ifndef HEALER_BUF_H
#define HEALER_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
  char *data;                 /* NUL-terminated when len > 0 */
  size_t len;                 /* bytes written, without the NUL */
  size_t cap;                 /* bytes allocated */
  bool oom;                   /* an allocation failed; contents incomplete */
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);                 /* len = 0, keeps memory */
bool buf_reserve(struct buf *b, size_t extra);

void buf_put(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* v in decimal. */
void buf_uint(struct buf *b, unsigned long long v);

/* s as a JSON string, quotes included. Control characters are escaped and
 * invalid UTF-8 becomes U+FFFD, so the output is always valid JSON. NULL is
 * written as null. */
void buf_json_str(struct buf *b, const char *s);
void buf_json_strn(struct buf *b, const char *s, size_t n);

/* s as a Prometheus label value (no quotes): \\ \" \n escaped. */
void buf_prom_label(struct buf *b, const char *s);

/* The data (never NULL: "" when empty) for the caller to free(); the
 * buffer is empty afterwards. NULL if oom. */
char *buf_steal(struct buf *b, size_t *len);

#endif
