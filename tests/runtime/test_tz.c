/*
 * test_tz.c - the TZif reader agrees with glibc's localtime_r() on UTC
 * offsets, across zones with odd rules (southern hemisphere, half-hour
 * offsets, negative DST, far past and future past the last transition).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tz.h"

static const char *const zones[] = {
    "Europe/Berlin",      "America/New_York", "Australia/Sydney", "Asia/Kolkata",
    "America/St_Johns",   "Pacific/Chatham",  "America/Nuuk",     "Europe/Dublin",
    "Asia/Tehran",        "Africa/Casablanca", "America/Sao_Paulo", "Pacific/Apia",
    "Europe/London",      "America/Los_Angeles", "UTC",
};

static void test_agrees_with_glibc(void **state) {
  (void)state;
  for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
    char err[256];
    struct tz *tz = tz_load(zones[z], err, sizeof err);
    if (!tz) fail_msg("%s: %s", zones[z], err);
    setenv("TZ", zones[z], 1);
    tzset();
    long checked = 0, bad = 0;
    /* 1902..2099, every 2 days 5 hours 17 minutes, plus every hour of a few
     * springs and autumns. */
    for (int64_t t = -2145916800LL; t < 4102444800LL; t += 2 * 86400 + 5 * 3600 + 17 * 60) {
      time_t tt = (time_t)t;
      struct tm tm;
      localtime_r(&tt, &tm);
      int32_t off = tz_offset(tz, t);
      checked++;
      if (off != tm.tm_gmtoff && bad++ < 5)
        print_error("%s at %lld: tz %d, glibc %ld\n", zones[z], (long long)t, off,
                    tm.tm_gmtoff);
    }
    for (int year = 2024; year <= 2060; year += 12)
      for (int64_t t = (int64_t)(year - 1970) * 31556952; t < (int64_t)(year - 1969) * 31556952;
           t += 3600) {
        time_t tt = (time_t)t;
        struct tm tm;
        localtime_r(&tt, &tm);
        checked++;
        if (tz_offset(tz, t) != tm.tm_gmtoff && bad++ < 5)
          print_error("%s at %lld: tz %d, glibc %ld\n", zones[z], (long long)t,
                      tz_offset(tz, t), tm.tm_gmtoff);
      }
    tz_free(tz);
    if (bad) fail_msg("%s: %ld of %ld offsets differ", zones[z], bad, checked);
  }
  unsetenv("TZ");
}

static void test_posix_strings(void **state) {
  (void)state;
  char err[128];
  struct tz *z = tz_from_posix("EST5EDT,M3.2.0,M11.1.0", err, sizeof err);
  assert_non_null(z);
  /* 2026-03-08 07:00 UTC = 02:00 EST -> EDT */
  assert_int_equal(tz_offset(z, 1772953200 - 1), -5 * 3600);
  assert_int_equal(tz_offset(z, 1772953200), -4 * 3600);
  tz_free(z);
  z = tz_from_posix("<+0530>-5:30", err, sizeof err);
  assert_non_null(z);
  assert_int_equal(tz_offset(z, 0), 5 * 3600 + 1800);
  tz_free(z);
  z = tz_from_posix("AEST-10AEDT,M10.1.0,M4.1.0/3", err, sizeof err);
  assert_non_null(z);
  assert_int_equal(tz_offset(z, 1782864000), 10 * 3600);   /* 2026-07-01: winter */
  assert_int_equal(tz_offset(z, 1767225600), 11 * 3600);   /* 2026-01-01: summer */
  tz_free(z);
  z = tz_from_posix("XXX-1YYY,J60/2,300", err, sizeof err);
  assert_non_null(z);
  tz_free(z);
  const char *bad[] = {"", "E5", "EST", "EST5EDT,M13.1.0,M1.1.0", "EST5EDT,M3.2.0",
                       "EST5EDT,M3.2.0,M11.1.0junk", "<+05", "EST999",
                       /* long minutes and seconds fields: out of range, and
                        * once an int overflow (UBSan) */
                       "EST5:609999999999", "EST5:00:609999999999",
                       "EST5EDT,M3.2.0/2:9999999999,M11.1.0"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if ((z = tz_from_posix(bad[i], err, sizeof err))) {
      tz_free(z);
      fail_msg("'%s' should be rejected", bad[i]);
    }
}

static void test_bad_files(void **state) {
  (void)state;
  char err[256];
  assert_null(tz_load("No/Such_Zone", err, sizeof err));
  assert_non_null(strstr(err, "No/Such_Zone"));
  assert_null(tz_load("/etc/passwd", err, sizeof err));
  assert_null(tz_load("..", err, sizeof err));
  const unsigned char junk[] = "TZif2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xff\xff\xff\xff";
  assert_null(tz_parse(junk, sizeof junk, err, sizeof err));
  assert_null(tz_parse((const unsigned char *)"nope", 4, err, sizeof err));
  /* Every truncation of a real file is rejected or read, never a crash. */
  FILE *f = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
  if (!f) skip();
  unsigned char buf[8192];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  for (size_t cut = 0; cut < n; cut++) {
    unsigned char *copy = malloc(cut ? cut : 1);
    memcpy(copy, buf, cut);
    struct tz *z = tz_parse(copy, cut, err, sizeof err);
    if (z) {
      (void)tz_offset(z, 1700000000);
      tz_free(z);
    }
    free(copy);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_agrees_with_glibc),
      cmocka_unit_test(test_posix_strings),
      cmocka_unit_test(test_bad_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
