/*
 * diag.c - clang-style diagnostics (see diag.h).
 *
 *   rules/disk.heal:3:25: error: unknown action kind 'jenkns'
 *       3 | when alert X run jenkns Job
 *         |                  ^~~~~~
 *
 * Line and column come from a byte offset only when a message is printed.
 * The sink allocates nothing; to keep that cheap on big files it remembers
 * where the last lookup ended (one cache for the process, reset by
 * diag_init()): diagnostics come mostly in source order, so finding a line
 * costs the distance from the previous one, not a scan from the file's
 * start. The echoed source line is at most WINDOW characters, cut around
 * the culprit, so a 100,000-byte line prints as a short window.
 *
 * Everything printed that comes from the user is made harmless for a
 * terminal: control bytes, invalid UTF-8 and invisible or reordering code
 * points are shown as '?'.
 */
#include "diag.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 160      /* characters of a source line shown at most */
#define WINDOW_LEFT 60  /* characters kept before the caret when cut */
#define MAX_MESSAGE 800 /* bytes of a message shown at most */

/* ---- line and column ------------------------------------------------------ */

static struct {
  const char *text;     /* source the cache is about, or NULL */
  size_t len;
  uint32_t off;         /* last offset looked up */
  unsigned line;        /* its line */
  uint32_t line_start;  /* offset where that line starts */
} cache;

/* Line, column and the offset where the line starts. */
static void locate(const struct source *src, uint32_t off, unsigned *line,
                   unsigned *col, uint32_t *line_start) {
  const char *t = src->text;
  if (off > src->len)
    off = (uint32_t)src->len;
  if (cache.text != t || cache.len != src->len || !t) {
    cache.text = t;
    cache.len = src->len;
    cache.off = 0;
    cache.line = 1;
    cache.line_start = 0;
  }
  if (!t) {
    *line = 1, *col = off + 1, *line_start = 0;
    return;
  }
  if (off >= cache.off) {
    uint32_t i = cache.off;
    for (;;) {
      const char *nl = memchr(t + i, '\n', off - i);
      if (!nl)
        break;
      i = (uint32_t)(nl - t) + 1;
      cache.line++;
      cache.line_start = i;
    }
  } else {
    unsigned back = 0;
    for (uint32_t i = off; i < cache.off; i++)
      back += t[i] == '\n';
    if (back) {
      uint32_t s = off;
      while (s > 0 && t[s - 1] != '\n')
        s--;
      cache.line -= back;
      cache.line_start = s;
    }
  }
  cache.off = off;
  *line = cache.line;
  *col = off - cache.line_start + 1;
  *line_start = cache.line_start;
}

void diag_line_col(const struct source *src, uint32_t offset, unsigned *line,
                   unsigned *col) {
  uint32_t start;
  locate(src, offset, line, col, &start);
}

/* ---- making text safe to print -------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes available), or 0; the
 * code point in *cp. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
  uint32_t c = s[0], min;
  size_t k;
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if (c >= 0xc2 && c <= 0xdf)
    k = 2, c &= 0x1f, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef)
    k = 3, c &= 0x0f, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4)
    k = 4, c &= 0x07, min = 0x10000;
  else
    return 0;
  if (n < k)
    return 0;
  for (size_t i = 1; i < k; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    c = c << 6 | (s[i] & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
    return 0;
  *cp = c;
  return k;
}

/* Code points shown as '?': controls, and the invisible or bidirectional
 * ones a terminal would act on. */
static int shown_as_is(uint32_t c) {
  if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f))
    return 0;
  return !((c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) ||
           (c >= 0x2060 && c <= 0x206f) || c == 0xfeff ||
           (c >= 0xfff9 && c <= 0xfffb) || (c >= 0xe0000 && c <= 0xe007f));
}

/* One character of text at s: its length in bytes (1 for an invalid byte),
 * and whether it can be printed as it is. */
static size_t next_char(const unsigned char *s, size_t n, int *ok) {
  uint32_t cp;
  size_t k = utf8_decode(s, n, &cp);
  if (!k) {
    *ok = 0;
    return 1;
  }
  *ok = shown_as_is(cp) || cp == '\t';
  return k;
}

/* Copies a message, replacing what a terminal must not see, cut at
 * MAX_MESSAGE bytes. */
static void sanitize(const char *in, char *out, size_t cap) {
  const unsigned char *s = (const unsigned char *)in;
  size_t n = strlen(in), o = 0;
  for (size_t i = 0; i < n && o + 8 < cap;) {
    int ok;
    size_t k = next_char(s + i, n - i, &ok);
    if (s[i] == '\t')
      ok = 0;
    if (o + k > MAX_MESSAGE) {
      memcpy(out + o, "...", 3);
      o += 3;
      break;
    }
    if (ok) {
      memcpy(out + o, s + i, k);
      o += k;
    } else {
      out[o++] = '?';
    }
    i += k;
  }
  out[o] = '\0';
}

/* ---- the source line and caret -------------------------------------------- */

static unsigned digits_of(unsigned v) {
  unsigned n = 1;
  while (v >= 10)
    v /= 10, n++;
  return n;
}

/* The start of the character before offset p (p > lo). */
static uint32_t char_back(const unsigned char *t, uint32_t p, uint32_t lo) {
  uint32_t q = p - 1;
  for (int k = 0; k < 3 && q > lo && (t[q] & 0xc0) == 0x80; k++)
    q--;
  return q;
}

/* Echoes the line of loc.begin and a caret line under [begin, end). */
static void print_source(struct diag *d, const struct source *src,
                         struct loc loc, unsigned line, uint32_t line_start) {
  const unsigned char *t = (const unsigned char *)src->text;
  uint32_t len = (uint32_t)src->len;
  uint32_t begin = loc.begin > len ? len : loc.begin;
  uint32_t end = loc.end > len ? len : loc.end;
  if (!t)
    return;
  if (end < begin)
    end = begin;

  /* Where the shown part starts: the line's start, or WINDOW_LEFT
   * characters before the caret when more than WINDOW - 20 come before. */
  uint32_t ws = begin;
  int cut_left = 0;
  for (unsigned k = 0; ws > line_start && k < WINDOW - 20; k++)
    ws = char_back(t, ws, line_start);
  if (ws > line_start) {
    cut_left = 1;
    ws = begin;
    for (unsigned k = 0; ws > line_start && k < WINDOW_LEFT; k++)
      ws = char_back(t, ws, line_start);
  }

  /* Render up to WINDOW characters, and the caret line alongside. */
  char text[WINDOW * 4 + 16], caret[WINDOW * 4 + 16];
  size_t to = 0, co = 0;
  int cut_right = 0, caret_done = 0;
  if (cut_left) {
    memcpy(text, "...", 3);
    memcpy(caret, "   ", 3);
    to = co = 3;
  }
  uint32_t i = ws;
  unsigned shown = 0;
  while (i < len && t[i] != '\n') {
    if (t[i] == '\r' && (i + 1 == len || t[i + 1] == '\n'))
      break; /* CRLF line end */
    if (shown == WINDOW) {
      cut_right = 1;
      break;
    }
    int ok;
    size_t k = next_char(t + i, len - i, &ok);
    if (i + k > len)
      k = len - i;
    if (t[i] == '\t') {
      text[to++] = '\t';
    } else if (ok) {
      memcpy(text + to, t + i, k);
      to += k;
    } else {
      text[to++] = '?';
    }
    if (!caret_done && i + k > begin)
      caret[co++] = '^', caret_done = 1;
    else if (!caret_done)
      caret[co++] = t[i] == '\t' ? '\t' : ' ';
    else if (i < end)
      caret[co++] = '~';
    i += (uint32_t)k;
    shown++;
  }
  if (!caret_done && begin >= i)
    caret[co++] = '^'; /* at the end of the line or of the file */
  if (cut_right) {
    memcpy(text + to, "...", 3);
    to += 3;
  }
  text[to] = '\0';
  caret[co] = '\0';
  unsigned w = digits_of(line) > 5 ? digits_of(line) : 5;
  FILE *out = d->cur ? d->cur : d->out;
  fprintf(out, "%*u | %s\n", (int)w, line, text);
  fprintf(out, "%*s | %s\n", (int)w, "", caret);
}

/* ---- reporting --------------------------------------------------------------- */

static const struct source *source_of(const struct diag *d, struct loc loc) {
  if (!d->sources || !d->nsources || loc.file >= *d->nsources)
    return NULL;
  return &d->sources[loc.file];
}

static void emit(struct diag *d, const char *kind, const char *suffix,
                 struct loc loc, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void emit(struct diag *d, const char *kind, const char *suffix,
                 struct loc loc, const char *fmt, va_list ap) {
  FILE *out = d->cur ? d->cur : d->out;
  char raw[2048], msg[MAX_MESSAGE + 16];
  vsnprintf(raw, sizeof raw, fmt, ap);
  sanitize(raw, msg, sizeof msg);
  const struct source *src = source_of(d, loc);
  if (!src) {
    fprintf(out, "healerc: %s: %s%s\n", kind, msg, suffix);
    return;
  }
  unsigned line, col;
  uint32_t line_start;
  locate(src, loc.begin, &line, &col, &line_start);
  fprintf(out, "%s:%u:%u: %s: %s%s\n", src->path ? src->path : "<input>",
          line, col, kind, msg, suffix);
  print_source(d, src, loc, line, line_start);
}

/* ---- ordered mode: held messages ---------------------------------------------- */

struct diag_held {            /* one error or warning and its notes */
  uint32_t file, begin;       /* where it points: the sort key */
  size_t seq;                 /* emission order, for a stable sort */
  int is_error;
  char *text;                 /* formatted lines, owned */
  size_t len;
};

/* Closes the message being written, if any, into its held slot. */
static void end_held(struct diag *d) {
  if (!d->cur)
    return;
  fclose(d->cur); /* sets text and len of the last slot */
  d->cur = NULL;
}

/* Starts holding a new message; returns 0, or -1 when it cannot be held
 * (cap reached or out of memory): the caller counts it and drops it. */
static int begin_held(struct diag *d, struct loc loc, int is_error) {
  end_held(d);
  if (d->nheld == DIAG_HELD_MAX)
    return -1;
  if (d->nheld == d->held_cap) {
    size_t cap = d->held_cap ? d->held_cap * 2 : 64;
    struct diag_held *h = realloc(d->held, cap * sizeof *h);
    if (!h)
      return -1;
    d->held = h;
    d->held_cap = cap;
  }
  struct diag_held *h = &d->held[d->nheld];
  *h = (struct diag_held){loc.file, loc.begin, d->nheld, is_error, NULL, 0};
  d->cur = open_memstream(&h->text, &h->len);
  if (!d->cur)
    return -1;
  d->nheld++;
  return 0;
}

static int held_cmp(const void *pa, const void *pb) {
  const struct diag_held *a = pa, *b = pb;
  if (a->file != b->file)
    return a->file < b->file ? -1 : 1;
  if (a->begin != b->begin)
    return a->begin < b->begin ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Prints the held messages in order, the error cap applied, and frees
 * them. */
static void flush_held(struct diag *d) {
  end_held(d);
  if (d->nheld)
    qsort(d->held, d->nheld, sizeof *d->held, held_cmp);
  unsigned shown = 0;
  int stopped = 0;
  for (size_t i = 0; i < d->nheld; i++) {
    struct diag_held *h = &d->held[i];
    if (!stopped && h->is_error && d->max_errors && ++shown > d->max_errors) {
      fputs("fatal error: too many errors emitted, stopping now\n", d->out);
      stopped = 1;
    }
    if (!stopped)
      fwrite(h->text, 1, h->len, d->out);
    free(h->text);
  }
  free(d->held);
  d->held = NULL;
  d->nheld = d->held_cap = 0;
}

/* Counts an error; returns whether it is to be printed. */
static int count_error(struct diag *d) {
  d->errors++;
  if (d->ordered) {
    /* The cap applies when printing, in position order. */
    d->last_suppressed = d->muted;
    return !d->muted;
  }
  if (d->muted || (d->max_errors && d->errors > d->max_errors)) {
    if (!d->muted)
      fputs("fatal error: too many errors emitted, stopping now\n", d->out);
    d->muted = 1;
    d->last_suppressed = 1;
    return 0;
  }
  d->last_suppressed = 0;
  return 1;
}

void diag_init(struct diag *d, FILE *out, const struct source *sources,
               const uint32_t *nsources) {
  memset(d, 0, sizeof *d);
  d->out = out;
  d->sources = sources;
  d->nsources = nsources;
  d->max_errors = 50;
  cache.text = NULL;
}

/* In ordered mode, opens a held slot for the next error or warning. On
 * failure (cap reached) the sink is muted: the rest is only counted. */
static int hold(struct diag *d, struct loc loc, int is_error) {
  if (!d->ordered)
    return 1;
  if (begin_held(d, loc, is_error) == 0)
    return 1;
  d->muted = 1;
  d->last_suppressed = 1;
  return 0;
}

void diag_error(struct diag *d, struct loc loc, const char *fmt, ...) {
  if (!count_error(d) || !hold(d, loc, 1))
    return;
  va_list ap;
  va_start(ap, fmt);
  emit(d, "error", "", loc, fmt, ap);
  va_end(ap);
}

void diag_warning(struct diag *d, struct loc loc, const char *fmt, ...) {
  va_list ap;
  if (d->werror) {
    if (!count_error(d) || !hold(d, loc, 1))
      return;
    va_start(ap, fmt);
    emit(d, "error", " [-Werror]", loc, fmt, ap);
    va_end(ap);
    return;
  }
  d->warnings++;
  d->last_suppressed = d->muted;
  if (d->muted || !hold(d, loc, 0))
    return;
  va_start(ap, fmt);
  emit(d, "warning", "", loc, fmt, ap);
  va_end(ap);
}

void diag_note(struct diag *d, struct loc loc, const char *fmt, ...) {
  if (d->last_suppressed || d->muted)
    return;
  va_list ap;
  va_start(ap, fmt);
  emit(d, "note", "", loc, fmt, ap);
  va_end(ap);
}

void diag_file_error(struct diag *d, const char *path, const char *fmt, ...) {
  if (!count_error(d))
    return;
  end_held(d); /* its notes would otherwise land in the last held message */
  char raw[2048], msg[MAX_MESSAGE + 16];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(raw, sizeof raw, fmt, ap);
  va_end(ap);
  sanitize(raw, msg, sizeof msg);
  fprintf(d->out, "%s: error: %s\n", path ? path : "healerc", msg);
}

unsigned diag_finish(struct diag *d) {
  if (d->ordered)
    flush_held(d);
  unsigned e = d->errors, w = d->warnings;
  if (w && e)
    fprintf(d->out, "%u warning%s and %u error%s generated.\n", w,
            w == 1 ? "" : "s", e, e == 1 ? "" : "s");
  else if (e)
    fprintf(d->out, "%u error%s generated.\n", e, e == 1 ? "" : "s");
  else if (w)
    fprintf(d->out, "%u warning%s generated.\n", w, w == 1 ? "" : "s");
  fflush(d->out);
  return e;
}

/* ---- did you mean -------------------------------------------------------------- */

#define MAX_WORD 64

/* Optimal string alignment distance (Levenshtein plus transpositions). */
static size_t distance(const char *a, size_t n, const char *b, size_t m) {
  size_t rows[3][MAX_WORD + 1];
  size_t *pp = rows[0], *p = rows[1], *c = rows[2];
  for (size_t j = 0; j <= m; j++)
    p[j] = j;
  for (size_t i = 1; i <= n; i++) {
    c[0] = i;
    for (size_t j = 1; j <= m; j++) {
      size_t cost = a[i - 1] != b[j - 1];
      size_t v = p[j] + 1;
      if (c[j - 1] + 1 < v)
        v = c[j - 1] + 1;
      if (p[j - 1] + cost < v)
        v = p[j - 1] + cost;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          pp[j - 2] + 1 < v)
        v = pp[j - 2] + 1;
      c[j] = v;
    }
    size_t *t = pp;
    pp = p, p = c, c = t;
  }
  return p[m];
}

const char *diag_suggest(const char *word, const char *const *candidates) {
  size_t n = strlen(word);
  if (n == 0 || n > MAX_WORD || !candidates)
    return NULL;
  size_t max = n <= 4 ? 1 : n / 3;
  const char *best = NULL;
  size_t best_d = max + 1;
  for (size_t i = 0; candidates[i]; i++) {
    size_t m = strlen(candidates[i]);
    if (m > MAX_WORD || (m > n ? m - n : n - m) > max)
      continue;
    size_t dist = distance(word, n, candidates[i], m);
    if (dist < best_d) {
      best_d = dist;
      best = candidates[i];
    }
  }
  return best;
}
