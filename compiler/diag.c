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
#include "diag_codes.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 160      /* characters of a source line shown at most */
#define WINDOW_LEFT 60  /* characters kept before the caret when cut */
#define MAX_MESSAGE 800 /* bytes of a message shown at most */

/* ANSI SGR sequences of the text format, as clang colours: the position
 * and message bold, the severity in its colour, the caret green. */
#define SGR_RESET "\033[0m"
#define SGR_BOLD "\033[1m"
#define SGR_ERROR "\033[1;31m"
#define SGR_WARNING "\033[1;35m"
#define SGR_NOTE "\033[1;36m"
#define SGR_CARET "\033[1;32m"

static const char *sgr(const struct diag *d, const char *seq) {
  return d->color ? seq : "";
}

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

unsigned diag_error_count(const struct diag *d) { return d->errors; }

void diag_line_col(const struct source *src, uint32_t offset, unsigned *line,
                   unsigned *col) {
  uint32_t start;
  locate(src, offset, line, col, &start);
}

/* ---- making text safe to print -------------------------------------------- */

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
  size_t lead = strcspn(caret, "^"); /* colour from the caret on */
  fprintf(out, "%*s | %.*s%s%s%s\n", (int)w, "", (int)lead, caret,
          sgr(d, SGR_CARET), caret + lead, sgr(d, SGR_RESET));
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

static void record(struct diag *d, const char *kind, struct loc loc,
                   const char *raw, const char *msg);

static const char *kind_sgr(const char *kind) {
  return kind[0] == 'e' ? SGR_ERROR : kind[0] == 'w' ? SGR_WARNING : SGR_NOTE;
}

static void emit(struct diag *d, const char *kind, const char *suffix,
                 struct loc loc, const char *fmt, va_list ap) {
  FILE *out = d->cur ? d->cur : d->out;
  char raw[2048], msg[MAX_MESSAGE + 16];
  vsnprintf(raw, sizeof raw, fmt, ap);
  sanitize(raw, msg, sizeof msg);
  if (d->format != DIAG_TEXT) {
    record(d, kind, loc, raw, msg);
    return;
  }
  const char *b = sgr(d, SGR_BOLD), *k = sgr(d, kind_sgr(kind)),
             *r = sgr(d, SGR_RESET);
  const struct source *src = source_of(d, loc);
  if (!src) {
    fprintf(out, "%shealerc: %s%s%s:%s %s%s%s%s\n", b, r, k, kind, r, b, msg,
            suffix, r);
    return;
  }
  unsigned line, col;
  uint32_t line_start;
  locate(src, loc.begin, &line, &col, &line_start);
  fprintf(out, "%s%s:%u:%u: %s%s%s:%s %s%s%s%s\n", b,
          src->path ? src->path : "<input>", line, col, r, k, kind, r, b, msg,
          suffix, r);
  print_source(d, src, loc, line, line_start);
}

static size_t code_index(const char *message);

/* ---- ordered mode: held messages ---------------------------------------------- */

struct held_note {            /* structured formats: a note */
  struct loc loc;
  char *msg;                  /* sanitized, owned */
};

struct diag_held {            /* one error or warning and its notes */
  uint32_t file, begin;       /* where it points: the sort key */
  size_t seq;                 /* emission order, for a stable sort */
  int is_error;
  char *text;                 /* text format: formatted lines, owned */
  size_t len;
  /* Structured formats: */
  struct loc loc;
  const char *path;           /* a message about a whole file: its path
                                 (borrowed), no position; else NULL */
  size_t code_ix;             /* index into code_table; NCODES: none */
  char *msg;                  /* sanitized, owned; NULL: not recorded */
  struct held_note *notes;    /* owned */
  size_t nnotes;
};

/* Closes the message being written, if any, into its held slot. */
static void end_held(struct diag *d) {
  d->open = 0;
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
  *h = (struct diag_held){.file = loc.file, .begin = loc.begin,
                          .seq = d->nheld, .is_error = is_error, .loc = loc};
  if (d->format == DIAG_TEXT) {
    d->cur = open_memstream(&h->text, &h->len);
    if (!d->cur)
      return -1;
  } else {
    d->open = 1;
  }
  d->nheld++;
  return 0;
}

/* Structured formats: keeps a message in the open held slot (an error or
 * warning fills it, a note is added to it). */
static void record(struct diag *d, const char *kind, struct loc loc,
                   const char *raw, const char *msg) {
  if (!d->open || !d->nheld)
    return;
  struct diag_held *h = &d->held[d->nheld - 1];
  char *copy = strdup(msg);
  if (!copy)
    return;
  if (strcmp(kind, "note") != 0) {
    h->msg = copy;
    h->code_ix = code_index(raw);
    return;
  }
  struct held_note *n = realloc(h->notes, (h->nnotes + 1) * sizeof *n);
  if (!n) {
    free(copy);
    return;
  }
  h->notes = n;
  n[h->nnotes++] = (struct held_note){loc, copy};
}

static void print_json(struct diag *d);
static void print_sarif(struct diag *d);

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
  if (d->format == DIAG_JSON)
    print_json(d);
  else if (d->format == DIAG_SARIF)
    print_sarif(d);
  unsigned shown = 0;
  int stopped = d->format != DIAG_TEXT;
  for (size_t i = 0; i < d->nheld; i++) {
    struct diag_held *h = &d->held[i];
    if (!stopped && h->is_error && d->max_errors && ++shown > d->max_errors) {
      fprintf(d->out, "%sfatal error:%s too many errors emitted, stopping now\n",
              sgr(d, SGR_ERROR), sgr(d, SGR_RESET));
      stopped = 1;
    }
    if (!stopped)
      fwrite(h->text, 1, h->len, d->out);
    free(h->text);
    free(h->msg);
    for (size_t j = 0; j < h->nnotes; j++)
      free(h->notes[j].msg);
    free(h->notes);
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
      fprintf(d->out, "%sfatal error:%s too many errors emitted, stopping now\n",
              sgr(d, SGR_ERROR), sgr(d, SGR_RESET));
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
  if (d->format != DIAG_TEXT && !d->open)
    return; /* after a file error: nothing to attach it to */
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
  if (d->format != DIAG_TEXT && d->ordered) {
    struct loc none = {0, 0, 0};
    if (begin_held(d, none, 1) != 0)
      return;
    d->held[d->nheld - 1].path = path ? path : "healerc";
    record(d, "error", none, raw, msg);
    end_held(d);
    return;
  }
  fprintf(d->out, "%s%s:%s %serror:%s %s%s%s\n", sgr(d, SGR_BOLD),
          path ? path : "healerc", sgr(d, SGR_RESET), sgr(d, SGR_ERROR),
          sgr(d, SGR_RESET), sgr(d, SGR_BOLD), msg, sgr(d, SGR_RESET));
}

unsigned diag_finish(struct diag *d) {
  if (d->ordered)
    flush_held(d);
  unsigned e = d->errors, w = d->warnings;
  if (d->format != DIAG_TEXT)
    ;
  else if (w && e)
    fprintf(d->out, "%u warning%s and %u error%s generated.\n", w,
            w == 1 ? "" : "s", e, e == 1 ? "" : "s");
  else if (e)
    fprintf(d->out, "%u error%s generated.\n", e, e == 1 ? "" : "s");
  else if (w)
    fprintf(d->out, "%u warning%s generated.\n", w, w == 1 ? "" : "s");
  fflush(d->out);
  return e;
}

/* ---- codes ---------------------------------------------------------------- */

/* Whether text matches pattern whole; '*' matches any run of characters.
 * Greedy with one backtrack point, so linear in practice. */
static int glob_match(const char *p, const char *t) {
  const char *star = NULL, *resume = NULL;
  while (*t) {
    if (*p == '*') {
      star = ++p;
      resume = t;
    } else if (*p == *t) {
      p++, t++;
    } else if (star) {
      p = star;
      t = ++resume;
    } else {
      return 0;
    }
  }
  while (*p == '*')
    p++;
  return *p == '\0';
}

#define DIAG_CODE_ENTRY(code, desc, ...)                                      \
  {code, desc, (const char *const[]){__VA_ARGS__, NULL}},

static const struct code_entry {
  const char *code;
  const char *desc;
  const char *const *patterns; /* NULL-terminated */
} code_table[] = {DIAG_CODES(DIAG_CODE_ENTRY)};

#define NCODES (sizeof code_table / sizeof code_table[0])

/* Index of a message's entry in code_table, or NCODES. */
static size_t code_index(const char *message) {
  for (size_t i = 0; i < NCODES; i++)
    for (const char *const *p = code_table[i].patterns; *p; p++)
      if (glob_match(*p, message))
        return i;
  return NCODES;
}

static const char *code_name(size_t i) {
  return i < NCODES ? code_table[i].code : DIAG_CODE_UNCLASSIFIED;
}

const char *diag_code(const char *message) {
  return code_name(code_index(message));
}

/* ---- structured formats ----------------------------------------------------- */

/* Writes s as a JSON string. Invalid UTF-8 becomes U+FFFD, so the output is
 * valid JSON whatever the path or message holds. */
static void json_str(FILE *out, const char *s) {
  const unsigned char *u = (const unsigned char *)s;
  size_t n = strlen(s);
  fputc('"', out);
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    size_t k = utf8_decode(u + i, n - i, &cp);
    if (!k) {
      fputs("\\ufffd", out);
      i++;
      continue;
    }
    if (cp == '"' || cp == '\\')
      fprintf(out, "\\%c", (int)cp);
    else if (cp < 0x20)
      fprintf(out, "\\u%04x", (unsigned)cp);
    else
      fwrite(u + i, 1, k, out);
    i += k;
  }
  fputc('"', out);
}

/* A position of a held message, resolved from its byte offsets. */
struct pos {
  const char *path;
  int has_pos;                /* 0: about the file as a whole */
  unsigned line, col;         /* of begin; col in bytes */
  unsigned end_line, end_col; /* of end: the first column past the range */
  unsigned cp_col, cp_end_col; /* the same in code points (SARIF) */
};

/* Columns in code points: one per byte that does not continue a UTF-8
 * sequence, from the line's start to off. */
static unsigned cp_column(const struct source *src, uint32_t line_start,
                          uint32_t off) {
  unsigned col = 1;
  for (uint32_t i = line_start; i < off && i < src->len; i++)
    col += ((unsigned char)src->text[i] & 0xc0) != 0x80;
  return col;
}

static struct pos resolve(const struct diag *d, struct loc loc,
                          const char *path) {
  struct pos p = {path ? path : "healerc", 0, 0, 0, 0, 0, 0, 0};
  const struct source *src = path ? NULL : source_of(d, loc);
  if (!src)
    return p;
  uint32_t b = loc.begin, e = loc.end < loc.begin ? loc.begin : loc.end;
  uint32_t ls, le;
  p.path = src->path ? src->path : "<input>";
  p.has_pos = 1;
  locate(src, b, &p.line, &p.col, &ls);
  locate(src, e, &p.end_line, &p.end_col, &le);
  p.cp_col = src->text ? cp_column(src, ls, b > src->len ? (uint32_t)src->len : b)
                       : p.col;
  p.cp_end_col = src->text ? cp_column(src, le, e > src->len ? (uint32_t)src->len : e)
                           : p.end_col;
  return p;
}

static const char *severity_of(const struct diag_held *h) {
  return h->is_error ? "error" : "warning";
}

/* {"file":...,"line":N,"column":N,"end_line":N,"end_column":N, then the
 * caller's keys; the position keys only when there is a position. */
static void json_pos(FILE *out, const struct pos *p) {
  fputs("{\"file\":", out);
  json_str(out, p->path);
  if (p->has_pos)
    fprintf(out, ",\"line\":%u,\"column\":%u,\"end_line\":%u,\"end_column\":%u",
            p->line, p->col, p->end_line, p->end_col);
}

static void print_json(struct diag *d) {
  FILE *out = d->out;
  for (size_t i = 0; i < d->nheld; i++) {
    const struct diag_held *h = &d->held[i];
    if (!h->msg)
      continue;
    struct pos p = resolve(d, h->loc, h->path);
    json_pos(out, &p);
    fprintf(out, ",\"severity\":\"%s\",\"code\":", severity_of(h));
    json_str(out, code_name(h->code_ix));
    fputs(",\"message\":", out);
    json_str(out, h->msg);
    fputs(",\"notes\":[", out);
    for (size_t j = 0; j < h->nnotes; j++) {
      struct pos np = resolve(d, h->notes[j].loc, NULL);
      if (j)
        fputc(',', out);
      json_pos(out, &np);
      fputs(",\"message\":", out);
      json_str(out, h->notes[j].msg);
      fputc('}', out);
    }
    fputs("]}\n", out);
  }
}

/* A relative path as a URI reference, an absolute one as a file: URI; bytes
 * outside RFC 3986's unreserved set and '/' are percent-encoded. */
static void json_uri(FILE *out, const char *path) {
  static const char hex[] = "0123456789ABCDEF";
  fputc('"', out);
  if (path[0] == '/')
    fputs("file://", out);
  for (const unsigned char *u = (const unsigned char *)path; *u; u++) {
    if ((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') ||
        (*u >= '0' && *u <= '9') || strchr("-._~/", *u))
      fputc(*u, out);
    else
      fprintf(out, "%%%c%c", hex[*u >> 4], hex[*u & 15]);
  }
  fputc('"', out);
}

/* "physicalLocation": {"artifactLocation": {"uri": ...}, "region": {...}} */
static void sarif_location(FILE *out, const struct pos *p) {
  fputs("\"physicalLocation\": {\"artifactLocation\": {\"uri\": ", out);
  json_uri(out, p->path);
  fputc('}', out);
  if (p->has_pos)
    fprintf(out,
            ", \"region\": {\"startLine\": %u, \"startColumn\": %u, "
            "\"endLine\": %u, \"endColumn\": %u}",
            p->line, p->cp_col, p->end_line, p->cp_end_col);
  fputc('}', out);
}

/* One log, one run; the driver's rules are the codes that occur, in the
 * table's order, and each result points at its rule by id and index. */
static void print_sarif(struct diag *d) {
  FILE *out = d->out;
  size_t rule_of[NCODES + 1];
  size_t nrules = 0;
  int used[NCODES + 1];
  memset(used, 0, sizeof used);
  for (size_t i = 0; i < d->nheld; i++)
    if (d->held[i].msg)
      used[d->held[i].code_ix] = 1;
  fputs("{\n"
        "  \"$schema\": \"https://docs.oasis-open.org/sarif/sarif/v2.1.0/"
        "errata01/os/schemas/sarif-schema-2.1.0.json\",\n"
        "  \"version\": \"2.1.0\",\n"
        "  \"runs\": [\n"
        "    {\n"
        "      \"tool\": {\n"
        "        \"driver\": {\n"
        "          \"name\": \"healerc\",\n",
        out);
  if (d->tool_version) {
    fputs("          \"version\": ", out);
    json_str(out, d->tool_version);
    fputs(",\n", out);
  }
  fputs("          \"rules\": [", out);
  for (size_t c = 0; c <= NCODES; c++) {
    if (!used[c])
      continue;
    rule_of[c] = nrules;
    fputs(nrules++ ? ",\n            " : "\n            ", out);
    fputs("{\"id\": ", out);
    json_str(out, code_name(c));
    fputs(", \"shortDescription\": {\"text\": ", out);
    json_str(out, c < NCODES ? code_table[c].desc : "a message of no known kind");
    fputs("}}", out);
  }
  fputs(nrules ? "\n          ]\n" : "]\n", out);
  fputs("        }\n"
        "      },\n"
        "      \"columnKind\": \"unicodeCodePoints\",\n"
        "      \"results\": [",
        out);
  size_t nresults = 0;
  for (size_t i = 0; i < d->nheld; i++) {
    const struct diag_held *h = &d->held[i];
    if (!h->msg)
      continue;
    struct pos p = resolve(d, h->loc, h->path);
    fputs(nresults++ ? ",\n        " : "\n        ", out);
    fputs("{\"ruleId\": ", out);
    json_str(out, code_name(h->code_ix));
    fprintf(out,
            ", \"ruleIndex\": %zu, \"level\": \"%s\", \"message\": {\"text\": ",
            rule_of[h->code_ix], severity_of(h));
    json_str(out, h->msg);
    fputs("}, \"locations\": [{", out);
    sarif_location(out, &p);
    fputs("}]", out);
    if (h->nnotes) {
      fputs(", \"relatedLocations\": [", out);
      for (size_t j = 0; j < h->nnotes; j++) {
        struct pos np = resolve(d, h->notes[j].loc, NULL);
        fprintf(out, "%s{\"id\": %zu, ", j ? ", " : "", j);
        sarif_location(out, &np);
        fputs(", \"message\": {\"text\": ", out);
        json_str(out, h->notes[j].msg);
        fputs("}}", out);
      }
      fputc(']', out);
    }
    fputc('}', out);
  }
  fputs(nresults ? "\n      ]\n" : "]\n", out);
  fputs("    }\n"
        "  ]\n"
        "}\n",
        out);
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
