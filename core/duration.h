/*
 * duration.h - durations written as text outside the rule language's own
 * tokens: a backend field such as `stop_grace = "30s"` (checked by healerc
 * when it is a literal, read by the runtime when it comes from env() or
 * file()) and the daemon's duration flags. One parser, so both binaries
 * agree on what a duration is. And one formatter, so healerc's messages,
 * the comments of generated tables and the daemon's logs write a duration
 * the same way.
 *
 * "30s", "500ms", "5m", "1h30m", "2d", "1w", or a bare number of seconds.
 */
#ifndef HL_DURATION_H
#define HL_DURATION_H

#include <stdint.h>
#include <string.h>

/* Room for any duration hl_format_duration() writes, NUL included. */
#define HL_DURATION_BUFSZ 32

/* s into *ms. Returns 0, or -1 if s is not a duration (or overflows). */
static inline int hl_parse_duration(const char *s, int64_t *ms) {
  if (!s || *s < '0' || *s > '9')
    return -1;
  size_t digits = strspn(s, "0123456789");
  int bare = s[digits] == '\0'; /* a bare number means seconds */
  int64_t total = 0;
  const char *p = s;
  while (*p) {
    if (*p < '0' || *p > '9')
      return -1;
    int64_t n = 0;
    while (*p >= '0' && *p <= '9') {
      if (n > (INT64_MAX - 9) / 10)
        return -1;
      n = n * 10 + (*p++ - '0');
    }
    int64_t unit;
    if (bare) unit = 1000;
    else if (strncmp(p, "ms", 2) == 0) unit = 1, p += 2;
    else if (*p == 's') unit = 1000, p++;
    else if (*p == 'm') unit = 60000, p++;
    else if (*p == 'h') unit = 3600000, p++;
    else if (*p == 'd') unit = 86400000, p++;
    else if (*p == 'w') unit = 7 * INT64_C(86400000), p++;
    else return -1;
    if (n > INT64_MAX / unit || total > INT64_MAX - n * unit)
      return -1;
    total += n * unit;
  }
  *ms = total;
  return 0;
}

/* ms as a user would write it, largest unit first: 5400500 -> "1h30m500ms",
 * 0 -> "0s" (days are the largest unit: 1w is written "7d"). Into out;
 * returns out. */
char *hl_format_duration(uint64_t ms, char out[HL_DURATION_BUFSZ]);

#endif
