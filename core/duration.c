/*
 * duration.c - see duration.h.
 */
#include "duration.h"

#include <stdio.h>

char *hl_format_duration(uint64_t ms, char out[HL_DURATION_BUFSZ]) {
  static const struct {
    uint64_t ms;
    const char *unit;
  } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
  size_t len = 0;
  if (ms == 0) {
    snprintf(out, HL_DURATION_BUFSZ, "0s");
    return out;
  }
  out[0] = '\0';
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    uint64_t n = ms / units[i].ms;
    if (!n)
      continue;
    ms %= units[i].ms;
    int w = snprintf(out + len, HL_DURATION_BUFSZ - len, "%llu%s", (unsigned long long)n,
                     units[i].unit);
    if (w < 0 || (size_t)w >= HL_DURATION_BUFSZ - len)
      break;
    len += (size_t)w;
  }
  return out;
}
