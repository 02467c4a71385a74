/*
 * utf8.h - one reading of UTF-8 for both binaries.
 *
 * What counts as valid is RFC 3629's: no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing past U+10FFFF. healerc uses it for the rule
 * language's strings and for making text safe to print; healer for the
 * payload decoder's checks, JSON escaping and cutting text at a character
 * boundary. One definition, so a label value healerc accepts is one the
 * runtime accepts.
 *
 * Pure functions; they borrow the bytes and keep nothing.
 */
#ifndef HEALER_UTF8_H
#define HEALER_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length of the valid UTF-8 sequence at s (n bytes available, n >= 1),
 * or 0 for an invalid or cut one. Stores the code point in *cp. */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* The same length, without the code point. Inline, with ASCII decided
 * here: the decoder and the log writer call it on every byte of every
 * label value. */
static inline size_t utf8_len(const unsigned char *s, size_t n) {
  uint32_t cp;
  return s[0] < 0x80 ? 1 : utf8_decode(s, n, &cp);
}

#endif
