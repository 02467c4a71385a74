/*
 * check_regex.c - the regexes of =~ and !~ matchers.
 *
 * A regex is compiled with PCRE2 exactly as the runtime compiles it
 * (regex_compile_anchored(), core/regex.h), alone first so that an unbalanced
 * parenthesis cannot pair with the anchoring. Users know Alertmanager's RE2;
 * a cheap scan warns about the PCRE2-only constructs RE2 rejects and the
 * escapes the two read differently. Results are cached per source text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_int.h"
#include "regex.h"

/* Whether the literal at l was written as a raw '...' string whose bytes are
 * exactly the value (so offsets into the value map onto the source). */
static int raw_literal(struct checker *c, const struct expr *v) {
  size_t n;
  const char *s = check_src_at(c, v->loc, &n);
  return s && v->str && n == v->len + 2 && s[0] == '\'' &&
         s[n - 1] == '\'' && memcmp(s + 1, v->str, v->len) == 0;
}

/* The location of bytes [off, off + len) of the value of literal v: exact in
 * a raw string, the whole string otherwise. */
static struct loc value_loc(struct checker *c, const struct expr *v, size_t off,
                            size_t len) {
  if (!raw_literal(c, v))
    return v->loc;
  struct loc l = v->loc;
  if (off > v->len)
    off = v->len;
  if (len > v->len - off)
    len = v->len - off;
  l.begin = v->loc.begin + 1 + (uint32_t)off;
  l.end = l.begin + (uint32_t)len;
  return l;
}

struct re2_finding {
  size_t off, len;
  const char *what; /* "a lookahead" */
  int kind;         /* 0: RE2 rejects it; 1: '\v'; 2: '\C' */
};

/* Parses a {n}, {n,} or {n,m} quantifier at s[i] == '{'; returns the index
 * after it, or 0 if it is not one (then '{' is a literal). */
static size_t brace_quantifier(const char *s, size_t n, size_t i) {
  size_t j = i + 1, d = 0;
  while (j < n && s[j] >= '0' && s[j] <= '9')
    j++, d++;
  if (d == 0)
    return 0;
  if (j < n && s[j] == ',') {
    j++;
    while (j < n && s[j] >= '0' && s[j] <= '9')
      j++;
  }
  return j < n && s[j] == '}' ? j + 1 : 0;
}

/* An escape \e (inside or outside a class) that RE2 rejects or reads
 * differently. */
static int escape_finding(char e, struct re2_finding *f) {
  switch (e) {
  case 'v':
    f->kind = 1;
    f->what = "'\\v'";
    return 1;
  case 'C':
    f->kind = 2;
    f->what = "'\\C'";
    return 1;
  case 'K':
  case 'h':
  case 'H':
  case 'V':
  case 'R':
  case 'X':
  case 'G':
  case 'Z':
  case 'e':
  case 'c':
  case 'N':
    f->what = "the escape";
    return 1;
  case 'g':
  case 'k':
    f->what = "a backreference";
    return 1;
  default:
    if (e >= '1' && e <= '9') {
      f->what = "a backreference";
      return 1;
    }
    return 0;
  }
}

/* Finds the first construct of a (valid PCRE2) regex that Alertmanager's
 * RE2 rejects or reads differently. A cheap scan, not a parser: it knows
 * escapes, \Q...\E, character classes, group openings and quantifiers. */
static int re2_scan(const char *s, size_t n, struct re2_finding *f) {
  size_t i = 0;
  int quant = 0; /* the previous token was a quantifier */
  memset(f, 0, sizeof *f);
  while (i < n) {
    char ch = s[i];
    if (ch == '\\') {
      if (i + 1 >= n)
        return 0;
      char e = s[i + 1];
      if (e == 'Q') {
        const char *end = NULL;
        for (size_t j = i + 2; j + 1 < n; j++)
          if (s[j] == '\\' && s[j + 1] == 'E') {
            end = s + j;
            break;
          }
        i = end ? (size_t)(end - s) + 2 : n;
        quant = 0;
        continue;
      }
      if (escape_finding(e, f)) {
        f->off = i;
        f->len = 2;
        return 1;
      }
      i += 2;
      if ((e == 'x' || e == 'o' || e == 'p' || e == 'P') && i < n &&
          s[i] == '{') {
        while (i < n && s[i] != '}')
          i++;
        i += i < n;
      }
      quant = 0;
      continue;
    }
    if (ch == '[') { /* a class: ']' first is a literal */
      size_t j = i + 1;
      if (j < n && s[j] == '^')
        j++;
      if (j < n && s[j] == ']')
        j++;
      while (j < n && s[j] != ']') {
        if (s[j] == '\\' && j + 1 < n) {
          char e = s[j + 1];
          if (e == 'v' || e == 'h' || e == 'H' || e == 'V' || e == 'C') {
            escape_finding(e, f);
            f->off = j;
            f->len = 2;
            return 1;
          }
          j += 2;
        } else if (s[j] == '[' && j + 1 < n && s[j + 1] == ':') {
          size_t k = j + 2;
          while (k + 1 < n && !(s[k] == ':' && s[k + 1] == ']'))
            k++;
          j = k + 1 < n ? k + 2 : j + 1;
        } else {
          j++;
        }
      }
      i = j + (j < n);
      quant = 0;
      continue;
    }
    if (ch == '(' && i + 1 < n && s[i + 1] == '*') {
      f->off = i;
      f->len = 2;
      f->what = "a backtracking control verb";
      return 1;
    }
    if (ch == '(' && i + 1 < n && s[i + 1] == '?') {
      const char *t = s + i + 2;
      size_t m = n - i - 2;
      f->off = i;
      f->len = 3;
      if (m >= 1 && t[0] == '=')
        f->what = "a lookahead";
      else if (m >= 1 && t[0] == '!')
        f->what = "a negative lookahead";
      else if (m >= 2 && t[0] == '<' && t[1] == '=')
        f->what = "a lookbehind", f->len = 4;
      else if (m >= 2 && t[0] == '<' && t[1] == '!')
        f->what = "a negative lookbehind", f->len = 4;
      else if (m >= 1 && t[0] == '>')
        f->what = "an atomic group";
      else if (m >= 1 && t[0] == '|')
        f->what = "a branch reset group";
      else if (m >= 1 && t[0] == '(')
        f->what = "a conditional group";
      else if (m >= 1 && t[0] == '#')
        f->what = "a comment group";
      else if (m >= 1 && t[0] == 'C')
        f->what = "a callout";
      else if (m >= 1 &&
               (t[0] == 'R' || t[0] == '&' || (t[0] >= '0' && t[0] <= '9') ||
                ((t[0] == '+' || t[0] == '-') && m >= 2 && t[1] >= '0' &&
                 t[1] <= '9')))
        f->what = "a recursion or subroutine call";
      else if (m >= 2 && t[0] == 'P' && (t[1] == '>' || t[1] == '='))
        f->what = t[1] == '>' ? "a subroutine call" : "a backreference",
        f->len = 4;
      if (f->what)
        return 1;
      i += 2;
      quant = 0;
      continue;
    }
    if (ch == '*' || ch == '+' || ch == '?') {
      if (quant && ch == '+') {
        f->off = i - 1;
        f->len = 2;
        f->what = "a possessive quantifier";
        return 1;
      }
      quant = !(quant && ch == '?'); /* after a lazy '?', no longer */
      i++;
      continue;
    }
    if (ch == '{') {
      size_t j = brace_quantifier(s, n, i);
      if (j) {
        if (j < n && s[j] == '+') {
          f->off = i;
          f->len = j + 1 - i;
          f->what = "a possessive quantifier";
          return 1;
        }
        i = j;
        quant = 1;
        continue;
      }
    }
    quant = 0;
    i++;
  }
  return 0;
}

/* Compiles regex v (a matcher's value or an alert-name pattern) exactly as
 * the runtime will (anchored, HL_PCRE2_FLAGS), reports what is wrong, and
 * warns about constructs that Alertmanager's RE2 does not share. Returns 1
 * if it compiles, with *empty set to whether it matches the empty string. */
int check_regex(struct checker *c, const struct expr *v, int *empty) {
  const char *src = v->str ? v->str : "";
  size_t len = v->str ? v->len : 0;
  uintptr_t cached = (uintptr_t)check_map_get(&c->regexes, src, len);
  int errcode;
  PCRE2_SIZE erroff;
  PCRE2_UCHAR msg[256];

  if (!cached) {
    /* Alone first: an unbalanced ')' or '(' could otherwise pair with the
     * anchoring and change the meaning instead of failing. */
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)src, len, HL_PCRE2_FLAGS,
                                   &errcode, &erroff, NULL);
    if (!re) {
      pcre2_get_error_message(errcode, msg, sizeof msg);
      ERR(c, value_loc(c, v, erroff, 1), "invalid regex: %s", (char *)msg);
      return 0;
    }
    pcre2_code_free(re);
    re = regex_compile_anchored(src, len, &errcode, &erroff);
    if (!re) {
      pcre2_get_error_message(errcode, msg, sizeof msg);
      ERR(c, value_loc(c, v, erroff, 1),
          "invalid regex once anchored as ^(?:...)$: %s", (char *)msg);
      return 0;
    }
    int rc = pcre2_match(re, (PCRE2_SPTR) "", 0, 0, 0, c->md, NULL);
    pcre2_code_free(re);
    cached = 1 + 2 * (uintptr_t)(rc >= 0);
    check_map_put_new(&c->regexes, src, len, (void *)cached);
  }
  *empty = (cached & 2) != 0;

  struct re2_finding f;
  if (re2_scan(src, len, &f)) {
    struct loc l = value_loc(c, v, f.off, f.len);
    if (f.kind == 1)
      WARN(c, l,
           "regex uses '\\v', which matches any vertical white space here "
           "but only a vertical tab in Alertmanager's RE2");
    else if (f.kind == 2)
      WARN(c, l,
           "regex uses '\\C', which matches a single byte and can split a "
           "UTF-8 character; use '.'");
    else
      WARN(c, l,
           "regex uses %s '%s', which Alertmanager's RE2 does not support",
           f.what, check_quote_n(c, src + f.off, f.len));
  }
  return 1;
}

/* Whether the whole of subject matches regex src, compiled as the runtime
 * will: 1 yes, 0 no, -1 when that cannot be told (the regex is invalid, or
 * the match hits a limit). Compiled regexes are kept per source text. */
int check_regex_test(struct checker *c, const char *src, size_t len,
                     const char *subject) {
  pcre2_code *re = check_map_get(&c->name_res, src, len);
  if (!re) {
    int errcode;
    size_t erroff;
    re = regex_compile_anchored(src, len, &errcode, &erroff);
    if (!re)
      return -1;
    check_map_put_new(&c->name_res, src, len, re);
  }
  int rc = pcre2_match(re, (PCRE2_SPTR)subject, strlen(subject), 0, 0, c->md,
                       NULL);
  return rc >= 0 ? 1 : rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

void check_regex_free(struct checker *c) {
  for (size_t i = 0; i < c->name_res.cap; i++)
    if (c->name_res.slots[i].key)
      pcre2_code_free(c->name_res.slots[i].val);
  check_map_free(&c->name_res);
}
