/*
 * rtime.c - see rtime.h.
 */
#include "rtime.h"

#include "duration.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t rtime_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t rtime_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec rtime_deadline(clockid_t clk, int64_t ms) {
  struct timespec ts;
  clock_gettime(clk, &ts);
  ts.tv_sec += (time_t)(ms / 1000);
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

void rtime_sleep_ms(int64_t ms) {
  if (ms <= 0)
    return;
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Howard Hinnant's civil-date algorithms. */
int64_t rtime_days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

void rtime_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

char *rtime_format(int64_t ms, char out[RTIME_BUFSZ]) {
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int64_t frac = ms - secs * 1000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t sod = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  rtime_civil_from_days(days, &y, &m, &d);
  snprintf(out, RTIME_BUFSZ, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
           (long long)y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60),
           (int)(sod % 60), (int)frac);
  return out;
}

int rtime_parse_duration(const char *s, int64_t *ms) {
  return hl_parse_duration(s, ms);
}

char *rtime_format_duration(int64_t ms, char out[RTIME_BUFSZ]) {
  _Static_assert(RTIME_BUFSZ >= HL_DURATION_BUFSZ, "RTIME_BUFSZ");
  return hl_format_duration(ms > 0 ? (uint64_t)ms : 0, out);
}

int rtime_parse_size(const char *s, uint64_t *bytes) {
  if (!s || !isdigit((unsigned char)*s)) return -1;
  uint64_t n = 0;
  while (isdigit((unsigned char)*s)) {
    if (n > (UINT64_MAX - 9) / 10) return -1;
    n = n * 10 + (uint64_t)(*s++ - '0');
  }
  uint64_t mul = 1;
  if (*s == 'k' || *s == 'K') { mul = 1024; s++; }
  else if (*s == 'm' || *s == 'M') { mul = 1024 * 1024; s++; }
  else if (*s == 'g' || *s == 'G') { mul = 1024ull * 1024 * 1024; s++; }
  if (mul > 1 && (strcmp(s, "iB") == 0 || strcmp(s, "B") == 0 ||
                  strcmp(s, "b") == 0))
    s += strlen(s);
  if (*s) return -1;
  if (n > UINT64_MAX / mul) return -1;
  *bytes = n * mul;
  return 0;
}
