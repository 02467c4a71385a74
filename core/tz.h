/*
 * tz.h - UTC offsets of IANA time zones, thread-safe.
 *
 * localtime_r() reads the process-wide TZ, so it cannot answer for several
 * zones from several threads. This module reads each zone's TZif file
 * (RFC 8536, versions 1-4) once at start-up, and answers from the
 * transition table; past the last transition it evaluates the file's POSIX
 * TZ footer (e.g. "CET-1CEST,M3.5.0,M10.5.0/3"). Leap-second records are
 * ignored (they do not change civil time offsets).
 *
 * Zones are looked up under $TZDIR, else /usr/share/zoneinfo. "UTC",
 * "Etc/UTC" and "Z" need no file.
 *
 * healerc checks a window's zone with tz_load() too (compiler/check_decl.c),
 * so a zone it accepts is one the runtime can load: the same name rules,
 * the same parse of the file.
 *
 * Ownership: tz_load() returns a new zone; free it with tz_free(). A loaded
 * zone is immutable and may be read from any thread.
 */
#ifndef HEALER_TZ_H
#define HEALER_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tz;

/* Whether name may be looked up: ASCII letters, digits, '_', '-', '+',
 * '/' between components, '.' inside one; no "..", no leading or trailing
 * '/', at most 200 bytes. */
bool tz_name_ok(const char *name);

/* NULL on failure, with a message in err (err may be NULL). */
struct tz *tz_load(const char *name, char *err, size_t errlen);

/* Parses TZif bytes (for tests and tz_load). */
struct tz *tz_parse(const unsigned char *data, size_t len, char *err,
                    size_t errlen);

/* A zone from a POSIX TZ string alone ("EST5EDT,M3.2.0,M11.1.0"). */
struct tz *tz_from_posix(const char *spec, char *err, size_t errlen);

void tz_free(struct tz *z);

/* Seconds east of UTC in effect at instant t (seconds since the epoch). */
int32_t tz_offset(const struct tz *z, int64_t t);

#endif
