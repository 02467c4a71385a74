/*
 * buf.c - see buf.h.
 */
#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

void buf_init(struct buf *b) {
  b->data = NULL;
  b->len = b->cap = 0;
  b->oom = false;
}

void buf_free(struct buf *b) {
  free(b->data);
  buf_init(b);
}

void buf_reset(struct buf *b) {
  b->len = 0;
  b->oom = false;
  if (b->data) b->data[0] = '\0';
}

bool buf_reserve(struct buf *b, size_t extra) {
  if (b->oom) return false;
  if (extra >= SIZE_MAX - b->len) goto fail;
  size_t need = b->len + extra + 1;
  if (need <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need) {
    if (cap > SIZE_MAX / 2) goto fail;
    cap *= 2;
  }
  char *p = realloc(b->data, cap);
  if (!p) goto fail;
  b->data = p;
  b->cap = cap;
  return true;
fail:
  b->oom = true;
  return false;
}

void buf_put(struct buf *b, const void *p, size_t n) {
  if (!buf_reserve(b, n)) return;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s) { buf_put(b, s, strlen(s)); }

void buf_putc(struct buf *b, char c) { buf_put(b, &c, 1); }

void buf_printf(struct buf *b, const char *fmt, ...) {
  va_list ap;
  char small[256];
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    buf_put(b, small, (size_t)n);
    return;
  }
  if (!buf_reserve(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void buf_uint(struct buf *b, unsigned long long v) {
  char tmp[24];
  size_t n = sizeof tmp;
  do {
    tmp[--n] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  buf_put(b, tmp + n, sizeof tmp - n);
}

void buf_json_strn(struct buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s;
  if (!buf_reserve(b, n + 2)) return;
  buf_putc(b, '"');
  size_t run = 0;             /* start of bytes copied verbatim */
  for (size_t i = 0; i < n;) {
    unsigned c = p[i];
    const char *esc = NULL;
    char u[6];
    size_t len = 1;
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) { i++; continue; }
    if (c >= 0x80) {
      len = utf8_len(p + i, n - i);
      if (len) { i += len; continue; }
      esc = "\\ufffd";
      len = 1;
    } else if (c == '"') esc = "\\\"";
    else if (c == '\\') esc = "\\\\";
    else if (c == '\n') esc = "\\n";
    else if (c == '\r') esc = "\\r";
    else if (c == '\t') esc = "\\t";
    else {
      memcpy(u, "\\u00", 4);
      u[4] = hex[c >> 4];
      u[5] = hex[c & 15];
    }
    buf_put(b, s + run, i - run);
    if (esc) buf_puts(b, esc);
    else buf_put(b, u, 6);
    i += len;
    run = i;
  }
  buf_put(b, s + run, n - run);
  buf_putc(b, '"');
}

void buf_json_str(struct buf *b, const char *s) {
  if (!s) buf_puts(b, "null");
  else buf_json_strn(b, s, strlen(s));
}

void buf_prom_label(struct buf *b, const char *s) {
  for (; *s; s++) {
    if (*s == '\\') buf_puts(b, "\\\\");
    else if (*s == '"') buf_puts(b, "\\\"");
    else if (*s == '\n') buf_puts(b, "\\n");
    else buf_putc(b, *s);
  }
}

char *buf_steal(struct buf *b, size_t *len) {
  if (b->oom) {
    buf_free(b);
    return NULL;
  }
  if (!b->data && !buf_reserve(b, 0)) return NULL;
  if (b->len == 0) b->data[0] = '\0';
  char *p = b->data;
  if (len) *len = b->len;
  buf_init(b);
  return p;
}
