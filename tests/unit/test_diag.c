/*
 * test_diag.c - the diagnostics sink: the exact output format (position,
 * source line, caret range), notes, -Werror, the error cap, the closing
 * count, line/column lookup and did-you-mean.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "diag.h"
#include "diag_codes.h"

/* A sink over one or two sources, writing to memory. */
struct sink {
  struct diag d;
  struct source src[2];
  uint32_t n;
  char *out;
  size_t len;
  FILE *f;
};

static struct sink *sink_new(const char *text, size_t len) {
  struct sink *s = calloc(1, sizeof *s);
  assert_non_null(s);
  s->src[0].path = "r.heal";
  s->src[0].text = text;
  s->src[0].len = len;
  s->src[1].path = "other.heal";
  s->src[1].text = "x\n";
  s->src[1].len = 2;
  s->n = 2;
  s->f = open_memstream(&s->out, &s->len);
  assert_non_null(s->f);
  diag_init(&s->d, s->f, s->src, &s->n);
  return s;
}

static struct sink *sink(const char *text) {
  return sink_new(text, strlen(text));
}

/* What was printed so far. */
static const char *output(struct sink *s) {
  fflush(s->f);
  return s->out ? s->out : "";
}

static void sink_free(struct sink *s) {
  fclose(s->f);
  free(s->out);
  free(s);
}

static struct loc L(uint32_t begin, uint32_t end) {
  struct loc l = {0, begin, end};
  return l;
}

/* Offset of the first occurrence of needle in the sink's source. */
static uint32_t off(const struct sink *s, const char *needle) {
  const char *p = strstr(s->src[0].text, needle);
  assert_non_null(p);
  return (uint32_t)(p - s->src[0].text);
}

static void test_error_format(void **state) {
  (void)state;
  struct sink *s = sink("rule r {\n"
                        "  when alert X run jenkns Job\n"
                        "}\n");
  uint32_t b = off(s, "jenkns");
  diag_error(&s->d, L(b, b + 6), "unknown action kind '%s'", "jenkns");
  assert_string_equal(output(s),
                      "r.heal:2:20: error: unknown action kind 'jenkns'\n"
                      "    2 |   when alert X run jenkns Job\n"
                      "      |                    ^~~~~~\n");
  assert_int_equal(diag_finish(&s->d), 1);
  assert_non_null(strstr(output(s), "\n1 error generated.\n"));
  sink_free(s);
}

static void test_point_and_end_of_file(void **state) {
  (void)state;
  struct sink *s = sink("when alert A run x, cooldown");
  uint32_t e = (uint32_t)strlen(s->src[0].text);
  diag_error(&s->d, L(e, e), "expected a duration after 'cooldown'");
  assert_string_equal(output(s),
                      "r.heal:1:29: error: expected a duration after "
                      "'cooldown'\n"
                      "    1 | when alert A run x, cooldown\n"
                      "      |                             ^\n");
  sink_free(s);

  /* The empty file, and an offset past the end (clamped). */
  s = sink("");
  diag_error(&s->d, L(0, 0), "e");
  diag_error(&s->d, L(50, 60), "f");
  assert_string_equal(output(s), "r.heal:1:1: error: e\n"
                                 "    1 | \n"
                                 "      | ^\n"
                                 "r.heal:1:1: error: f\n"
                                 "    1 | \n"
                                 "      | ^\n");
  sink_free(s);
}

static void test_range_over_lines(void **state) {
  (void)state;
  struct sink *s = sink("a \"first\nsecond\"\n");
  diag_error(&s->d, L(2, 16), "spans");
  assert_string_equal(output(s), "r.heal:1:3: error: spans\n"
                                 "    1 | a \"first\n"
                                 "      |   ^~~~~~\n");
  sink_free(s);
}

static void test_utf8_and_tabs(void **state) {
  (void)state;
  /* One space per character before the caret, tabs kept. */
  struct sink *s = sink("when alert \"Überlauf 日本\" run jenkns\n"
                        "\trun\tjenkns\tJob\n");
  uint32_t b = off(s, "jenkns");
  diag_error(&s->d, L(b, b + 6), "x");
  b = off(s, "\tjenkns") + 1;
  diag_error(&s->d, L(b, b + 6), "y");
  assert_string_equal(output(s),
                      "r.heal:1:35: error: x\n"
                      "    1 | when alert \"Überlauf 日本\" run jenkns\n"
                      "      |                              ^~~~~~\n"
                      "r.heal:2:6: error: y\n"
                      "    2 | \trun\tjenkns\tJob\n"
                      "      | \t   \t^~~~~~\n");
  sink_free(s);
}

static void test_hostile_bytes_echoed_safely(void **state) {
  (void)state;
  /* Escape sequences, invalid UTF-8, NUL and a right-to-left override
   * are shown as '?'; so are they in messages. */
  static const char text[] = "run \"\x1b[31mred\" \xff\xfe \0 \xe2\x80\xae x\n";
  struct sink *s = sink_new(text, sizeof text - 1);
  uint32_t b = sizeof text - 3; /* the final 'x' */
  diag_error(&s->d, L(b, b + 1), "bad \x1b]0;title\x07 \xe2\x80\xae");
  assert_string_equal(output(s), "r.heal:1:25: error: bad ?]0;title? ?\n"
                                 "    1 | run \"?[31mred\" ?? ? ? x\n"
                                 "      |                       ^\n");
  sink_free(s);
}

static void test_crlf(void **state) {
  (void)state;
  struct sink *s = sink("when alert A run jenkns Job\r\nnext\r\n");
  uint32_t b = off(s, "Job");
  diag_error(&s->d, L(b, b + 3), "x");
  assert_string_equal(output(s), "r.heal:1:25: error: x\n"
                                 "    1 | when alert A run jenkns Job\n"
                                 "      |                         ^~~\n");
  sink_free(s);
}

static void test_long_line_window(void **state) {
  (void)state;
  /* A 100,000-byte line prints as a short window around the culprit. */
  size_t n = 100000;
  char *text = malloc(n + 32);
  assert_non_null(text);
  memset(text, 'v', n);
  memcpy(text + 50000, " culprit ", 9);
  strcpy(text + n, "\n");
  struct sink *s = sink_new(text, n + 1);
  diag_error(&s->d, L(50001, 50008), "here");
  const char *o = output(s);
  assert_non_null(strstr(o, "r.heal:1:50002: error: here\n"));
  const char *src = strchr(o, '\n') + 1, *caret = strchr(src, '\n') + 1;
  size_t src_len = (size_t)(caret - src - 1);
  assert_true(src_len < 200); /* a window, not the line */
  assert_memory_equal(src, "    1 | ...", 11);
  assert_true(strstr(src, " culprit ") < caret);
  assert_memory_equal(src + src_len - 3, "...", 3); /* cut on the right */
  /* The caret sits under the 'c' of culprit. */
  const char *c = strstr(src, "culprit");
  const char *hat = strchr(caret, '^');
  assert_int_equal(c - src, hat - caret);
  assert_non_null(strstr(caret, "^~~~~~~\n"));
  sink_free(s);

  /* Near the start of a long line: no "..." on the left. */
  s = sink_new(text, n + 1);
  diag_error(&s->d, L(3, 4), "start");
  o = output(s);
  assert_non_null(strstr(o, "    1 | vvvvv"));
  assert_non_null(strstr(o, "vvv...\n      |    ^\n"));
  sink_free(s);
  free(text);
}

static void test_wide_line_numbers(void **state) {
  (void)state;
  size_t lines = 123456;
  char *text = malloc(lines * 2 + 8);
  assert_non_null(text);
  for (size_t i = 0; i < lines; i++)
    text[2 * i] = 'a', text[2 * i + 1] = '\n';
  strcpy(text + 2 * lines, "bad\n");
  struct sink *s = sink_new(text, 2 * lines + 4);
  uint32_t b = (uint32_t)(2 * lines);
  diag_error(&s->d, L(b, b + 3), "x");
  assert_string_equal(output(s), "r.heal:123457:1: error: x\n"
                                 "123457 | bad\n"
                                 "       | ^~~\n");
  sink_free(s);
  free(text);
}

static void test_notes_and_warnings(void **state) {
  (void)state;
  struct sink *s = sink("rule a {}\nrule a {}\n");
  diag_error(&s->d, L(15, 16), "duplicate rule name '%s'", "a");
  diag_note(&s->d, L(5, 6), "first defined here");
  diag_warning(&s->d, L(0, 4), "a warning");
  assert_string_equal(output(s), "r.heal:2:6: error: duplicate rule name 'a'\n"
                                 "    2 | rule a {}\n"
                                 "      |      ^\n"
                                 "r.heal:1:6: note: first defined here\n"
                                 "    1 | rule a {}\n"
                                 "      |      ^\n"
                                 "r.heal:1:1: warning: a warning\n"
                                 "    1 | rule a {}\n"
                                 "      | ^~~~\n");
  assert_int_equal(s->d.errors, 1);
  assert_int_equal(s->d.warnings, 1);
  assert_int_equal(diag_finish(&s->d), 1);
  assert_non_null(strstr(output(s), "\n1 warning and 1 error generated.\n"));
  sink_free(s);

  /* A note points into another file. */
  s = sink("y\n");
  struct loc other = {1, 0, 1};
  diag_error(&s->d, L(0, 1), "e");
  diag_note(&s->d, other, "n");
  assert_non_null(strstr(output(s), "other.heal:1:1: note: n\n"
                                    "    1 | x\n"));
  sink_free(s);
}

static void test_werror(void **state) {
  (void)state;
  struct sink *s = sink("abc\n");
  s->d.werror = 1;
  diag_warning(&s->d, L(0, 3), "unused");
  assert_string_equal(output(s), "r.heal:1:1: error: unused [-Werror]\n"
                                  "    1 | abc\n"
                                  "      | ^~~\n");
  assert_int_equal(s->d.errors, 1);
  assert_int_equal(s->d.warnings, 0);
  assert_int_equal(diag_finish(&s->d), 1);
  sink_free(s);
}

static void test_error_cap(void **state) {
  (void)state;
  struct sink *s = sink("abc\n");
  s->d.max_errors = 2;
  diag_error(&s->d, L(0, 1), "one");
  diag_note(&s->d, L(0, 1), "note one");
  diag_error(&s->d, L(1, 2), "two");
  diag_error(&s->d, L(2, 3), "three");
  diag_note(&s->d, L(2, 3), "note three");
  diag_warning(&s->d, L(2, 3), "warned");
  diag_error(&s->d, L(2, 3), "four");
  diag_file_error(&s->d, "f.heal", "five");
  const char *o = output(s);
  assert_non_null(strstr(o, "note one"));
  assert_non_null(strstr(o, "error: two\n"));
  assert_null(strstr(o, "three"));
  assert_null(strstr(o, "warned"));
  assert_null(strstr(o, "four"));
  assert_null(strstr(o, "five"));
  const char *fatal = "fatal error: too many errors emitted, stopping now\n";
  const char *f = strstr(o, fatal);
  assert_non_null(f);
  assert_null(strstr(f + 1, fatal)); /* once */
  assert_true(s->d.muted);
  assert_int_equal(s->d.errors, 5);
  assert_int_equal(s->d.warnings, 1);
  assert_int_equal(diag_finish(&s->d), 5);
  assert_non_null(strstr(output(s), "1 warning and 5 errors generated.\n"));
  sink_free(s);

  /* 0: no cap. */
  s = sink("abc\n");
  s->d.max_errors = 0;
  for (int i = 0; i < 200; i++)
    diag_error(&s->d, L(0, 1), "e");
  assert_null(strstr(output(s), "too many"));
  sink_free(s);
}

static void test_finish_counts(void **state) {
  (void)state;
  struct sink *s = sink("x\n");
  assert_int_equal(diag_finish(&s->d), 0);
  assert_string_equal(output(s), ""); /* a clean run prints nothing */
  sink_free(s);

  s = sink("x\n");
  diag_warning(&s->d, L(0, 1), "w");
  diag_warning(&s->d, L(0, 1), "w");
  diag_finish(&s->d);
  assert_non_null(strstr(output(s), "\n2 warnings generated.\n"));
  sink_free(s);

  s = sink("x\n");
  diag_error(&s->d, L(0, 1), "e");
  diag_error(&s->d, L(0, 1), "e");
  diag_warning(&s->d, L(0, 1), "w");
  assert_int_equal(diag_finish(&s->d), 2);
  assert_non_null(strstr(output(s), "\n1 warning and 2 errors generated.\n"));
  sink_free(s);
}

static void test_file_error(void **state) {
  (void)state;
  struct sink *s = sink("x\n");
  diag_file_error(&s->d, "big.heal", "file is too large (%d bytes)", 7);
  assert_string_equal(output(s), "big.heal: error: file is too large (7 "
                                 "bytes)\n");
  assert_int_equal(s->d.errors, 1);
  sink_free(s);
}

static void test_line_col(void **state) {
  (void)state;
  struct source src = {"t", "ab\ncd\n\nef", 10};
  unsigned line, col;
  static const struct {
    uint32_t off;
    unsigned line, col;
  } cases[] = {
      {0, 1, 1}, {1, 1, 2}, {2, 1, 3}, {3, 2, 1}, {4, 2, 2}, {6, 3, 1},
      {7, 4, 1}, {9, 4, 3}, {10, 4, 4}, {99, 4, 4}, /* clamped */
      {4, 2, 2}, {0, 1, 1}, {8, 4, 2}, {2, 1, 3}, /* backwards too */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    diag_line_col(&src, cases[i].off, &line, &col);
    if (line != cases[i].line || col != cases[i].col)
      fail_msg("offset %u: got %u:%u, want %u:%u", cases[i].off, line, col,
               cases[i].line, cases[i].col);
  }
  /* Another source with the same length is not confused with this one. */
  struct source other = {"u", "a\nb\nc\nd\ne", 10};
  diag_line_col(&other, 8, &line, &col);
  assert_int_equal(line, 5);
  assert_int_equal(col, 1);
}

static void test_suggest(void **state) {
  (void)state;
  static const char *const kws[] = {"cooldown", "timeout", "retry", "limit",
                                    "dry-run", "continue", "labels", "run",
                                    "on", NULL};
  assert_string_equal(diag_suggest("cooldwn", kws), "cooldown");
  assert_string_equal(diag_suggest("cooldwon", kws), "cooldown"); /* swap */
  assert_string_equal(diag_suggest("timout", kws), "timeout");
  assert_string_equal(diag_suggest("dryrun", kws), "dry-run");
  assert_string_equal(diag_suggest("lables", kws), "labels");
  assert_string_equal(diag_suggest("rn", kws), "run"); /* first of ties */
  assert_string_equal(diag_suggest("Retry", kws), "retry");
  /* Up to 4 characters: distance 1; longer: a third of the length. */
  assert_null(diag_suggest("rxnn", kws));
  assert_null(diag_suggest("retires", kws)); /* distance 3 > 7 / 3 */
  assert_string_equal(diag_suggest("contnue", kws), "continue");
  assert_null(diag_suggest("banana", kws));
  assert_null(diag_suggest("", kws));
  static const char *const none[] = {NULL};
  assert_null(diag_suggest("x", none));
  /* Long words are not compared at all. */
  char big[200];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_null(diag_suggest(big, kws));
}

/* Ordered mode prints by file, then position, each message with its notes,
 * whatever order the passes reported them in; the cap keeps the first
 * errors in that order. */
static void test_ordered(void **state) {
  (void)state;
  struct sink *s = sink("aaa\nbbb\nccc\n");
  s->d.ordered = 1;
  diag_error(&s->d, L(8, 9), "third");
  diag_note(&s->d, L(0, 1), "note of third");
  struct loc other = {1, 0, 1};
  diag_warning(&s->d, other, "in the second file");
  diag_error(&s->d, L(4, 5), "second");
  diag_error(&s->d, L(0, 1), "first");
  assert_string_equal(output(s), ""); /* nothing before diag_finish */
  assert_int_equal(diag_finish(&s->d), 3);
  const char *o = output(s);
  const char *first = strstr(o, "r.heal:1:1: error: first");
  const char *second = strstr(o, "r.heal:2:1: error: second");
  const char *third = strstr(o, "r.heal:3:1: error: third");
  const char *note = strstr(o, "r.heal:1:1: note: note of third");
  const char *warn = strstr(o, "other.heal:1:1: warning: in the second file");
  assert_non_null(first);
  assert_non_null(note);
  assert_non_null(warn);
  assert_true(first < second && second < third && third < note && note < warn);
  assert_non_null(strstr(o, "1 warning and 3 errors generated.\n"));
  sink_free(s);

  s = sink("aaa\nbbb\nccc\n");
  s->d.ordered = 1;
  s->d.max_errors = 2;
  diag_error(&s->d, L(8, 9), "third");
  diag_error(&s->d, L(4, 5), "second");
  diag_error(&s->d, L(0, 1), "first");
  assert_int_equal(diag_finish(&s->d), 3);
  o = output(s);
  assert_non_null(strstr(o, "error: first"));
  assert_non_null(strstr(o, "error: second"));
  assert_null(strstr(o, "error: third"));
  assert_non_null(strstr(o, "fatal error: too many errors emitted, stopping now\n"
                            "3 errors generated.\n"));
  sink_free(s);
}

/* Codes come from the message's wording: the first matching entry wins, a
 * '*' spans any text (the sender's names included), the whole text must
 * match. */
static void test_codes(void **state) {
  (void)state;
  assert_string_equal(diag_code("unknown action kind 'jenkns'; did you mean "
                                "'jenkins'?"),
                      "unknown-action-kind");
  assert_string_equal(diag_code("duplicate rule name 'a*b'"), "duplicate");
  /* A specific entry before the general one that also matches. */
  assert_string_equal(diag_code("unexpected '!'; did you mean '!=' or '!~'?"),
                      "bad-operator");
  assert_string_equal(diag_code("unexpected 'x', expected 'when'"), "syntax");
  assert_string_equal(diag_code("expected a name after '${'; write '\\${' "
                                "for the text"),
                      "bad-interpolation");
  assert_string_equal(diag_code("expected a name after '$'"), "bad-variable");
  assert_string_equal(diag_code("regex uses '\\C', which matches a single byte"),
                      "re2-incompatible");
  /* Whole text: a known prefix with other text before it is not that kind. */
  assert_string_equal(diag_code("an invalid regex: x"), DIAG_CODE_UNCLASSIFIED);
  assert_string_equal(diag_code(""), DIAG_CODE_UNCLASSIFIED);
}

/* --format json: one line per error or warning in position order, its notes
 * inside, positions in bytes; strings escaped, invalid UTF-8 as U+FFFD; a
 * file error without position; no closing count, no cap. */
static void test_json(void **state) {
  (void)state;
  struct sink *s = sink("r1 \xc3\xa9 x\nr1\n");
  s->src[0].path = "a \"q\"\xff.heal";
  s->d.ordered = 1;
  s->d.format = DIAG_JSON;
  s->d.max_errors = 1;
  diag_error(&s->d, L(8, 10), "duplicate rule name '%s'", "r1");
  diag_note(&s->d, L(0, 2), "first defined here");
  diag_warning(&s->d, L(6, 7), "tab\there");
  diag_file_error(&s->d, "big.heal", "file is too large to parse (%d bytes)", 9);
  assert_string_equal(output(s), "");
  assert_int_equal(diag_finish(&s->d), 2);
  assert_string_equal(
      output(s),
      "{\"file\":\"big.heal\",\"severity\":\"error\",\"code\":\"file\","
      "\"message\":\"file is too large to parse (9 bytes)\",\"notes\":[]}\n"
      "{\"file\":\"a \\\"q\\\"\\ufffd.heal\",\"line\":1,\"column\":7,"
      "\"end_line\":1,\"end_column\":8,\"severity\":\"warning\",\"code\":"
      "\"unclassified\",\"message\":\"tab?here\",\"notes\":[]}\n"
      "{\"file\":\"a \\\"q\\\"\\ufffd.heal\",\"line\":2,\"column\":1,"
      "\"end_line\":2,\"end_column\":3,\"severity\":\"error\",\"code\":"
      "\"duplicate\",\"message\":\"duplicate rule name 'r1'\",\"notes\":["
      "{\"file\":\"a \\\"q\\\"\\ufffd.heal\",\"line\":1,\"column\":1,"
      "\"end_line\":1,\"end_column\":3,\"message\":\"first defined here\"}]}\n");
  sink_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_error_format),
      cmocka_unit_test(test_point_and_end_of_file),
      cmocka_unit_test(test_range_over_lines),
      cmocka_unit_test(test_utf8_and_tabs),
      cmocka_unit_test(test_hostile_bytes_echoed_safely),
      cmocka_unit_test(test_crlf),
      cmocka_unit_test(test_long_line_window),
      cmocka_unit_test(test_wide_line_numbers),
      cmocka_unit_test(test_notes_and_warnings),
      cmocka_unit_test(test_werror),
      cmocka_unit_test(test_error_cap),
      cmocka_unit_test(test_finish_counts),
      cmocka_unit_test(test_file_error),
      cmocka_unit_test(test_line_col),
      cmocka_unit_test(test_suggest),
      cmocka_unit_test(test_ordered),
      cmocka_unit_test(test_codes),
      cmocka_unit_test(test_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
