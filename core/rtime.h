/*
 * rtime.h - wall-clock time, RFC 3339 formatting, durations and sizes.
 *
 * Times are int64 milliseconds since the Unix epoch (UTC). Everything here
 * is pure and thread-safe. In core/ for tz.c and match.c, which need its
 * civil-date arithmetic.
 */
#ifndef HEALER_RTIME_H
#define HEALER_RTIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define RTIME_BUFSZ 32

/* Now, in ms since the epoch (CLOCK_REALTIME). */
int64_t rtime_now_ms(void);

/* Now, in ms on CLOCK_MONOTONIC (for deadlines). */
int64_t rtime_mono_ms(void);

/* The instant ms milliseconds from now on clock clk, as the absolute
 * deadline pthread_cond_timedwait() takes (its condition variable must use
 * that clock). */
struct timespec rtime_deadline(clockid_t clk, int64_t ms);

/* Sleeps ms milliseconds (signals do not cut it short). */
void rtime_sleep_ms(int64_t ms);

/* "2026-11-27T12:10:15.696Z" into out[RTIME_BUFSZ]; returns out. */
char *rtime_format(int64_t ms, char out[RTIME_BUFSZ]);

/* "30s", "500ms", "5m", "1h30m", "2d", or a bare number of seconds, into
 * ms. Returns 0, or -1 if s is not a duration. */
int rtime_parse_duration(const char *s, int64_t *ms);

/* A duration for humans: "30m", "1h30m", "250ms"; "0s" for ms <= 0
 * (hl_format_duration(), core/duration.h). */
char *rtime_format_duration(int64_t ms, char out[RTIME_BUFSZ]);

/* "1048576", "512k", "4M", "1MiB" into bytes. Returns 0 or -1. */
int rtime_parse_size(const char *s, uint64_t *bytes);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t rtime_days_from_civil(int64_t y, unsigned m, unsigned d);
void rtime_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif
