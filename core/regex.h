/*
 * regex.h - a matcher's regex, compiled as healer matches it.
 *
 * A regex in a rule (`label =~ "..."`, an alert-name pattern) must match a
 * whole value, as in Alertmanager: it is compiled as ^(?:regex)$ with
 * HL_PCRE2_FLAGS (abi.h). healerc compiles it this way to check it and to
 * test it against names; healer compiles it this way to match. One
 * function, so the two cannot drift apart.
 *
 * Ownership: returns a new pcre2_code; free it with pcre2_code_free().
 */
#ifndef HEALER_REGEX_H
#define HEALER_REGEX_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <stddef.h>

/* regex[0..len) anchored and compiled (no JIT: the caller decides). NULL
 * on failure, with PCRE2's error code in *errcode (PCRE2_ERROR_NOMEMORY
 * when out of memory) and in *erroff where the error is, as an offset into
 * regex rather than into the anchored text. */
pcre2_code *regex_compile_anchored(const char *regex, size_t len, int *errcode,
                                   size_t *erroff);

#endif
