/*
 * regex.c - see regex.h.
 */
#include "regex.h"

#include <stdlib.h>
#include <string.h>

#include "abi.h"

#define OPEN "^(?:"
#define CLOSE ")$"

pcre2_code *regex_compile_anchored(const char *regex, size_t len, int *errcode,
                                   size_t *erroff) {
  size_t open = sizeof OPEN - 1, close = sizeof CLOSE - 1;
  *erroff = 0;
  if (len > SIZE_MAX - open - close) {
    *errcode = PCRE2_ERROR_NOMEMORY;
    return NULL;
  }
  char *src = malloc(open + len + close);
  if (!src) {
    *errcode = PCRE2_ERROR_NOMEMORY;
    return NULL;
  }
  memcpy(src, OPEN, open);
  if (len)
    memcpy(src + open, regex, len);
  memcpy(src + open + len, CLOSE, close);
  PCRE2_SIZE off = 0;
  pcre2_code *re = pcre2_compile((PCRE2_SPTR)src, open + len + close, HL_PCRE2_FLAGS, errcode,
                                 &off, NULL);
  free(src);
  if (!re)
    *erroff = off >= open ? off - open : 0;
  return re;
}
