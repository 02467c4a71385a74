/*
 * fuzz_tz.c - libFuzzer target: arbitrary bytes as a TZif zone file
 * (tz_parse, POSIX footer included) and as a POSIX TZ string
 * (tz_from_posix); each zone that loads is asked for its offset at fixed
 * instants and at one the input chooses, within about 270 years of 1970
 * (the clock healer reads is never farther).
 *
 *   make fuzz-tz [FUZZ_SECONDS=60]
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SPAN ((int64_t)1 << 33)

static void ask(const struct tz *z, const uint8_t *data, size_t size) {
  static const int64_t fixed[] = {-SPAN, -2208988800, 0, 1795000000, 4102444800, SPAN};
  volatile uint32_t sink = 0;     /* xor: offsets from a fuzzed file may be huge */
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    sink ^= (uint32_t)tz_offset(z, fixed[i]);
  uint64_t u = 0;
  memcpy(&u, data + (size > 8 ? size - 8 : 0), size < 8 ? size : 8);
  sink ^= (uint32_t)tz_offset(z, (int64_t)(u % (2 * (uint64_t)SPAN)) - SPAN);
  (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  struct tz *z = tz_parse(data, size, err, sizeof err);
  if (z) {
    ask(z, data, size);
    tz_free(z);
  }
  char spec[256];
  size_t n = size < sizeof spec - 1 ? size : sizeof spec - 1;
  memcpy(spec, data, n);
  spec[n] = '\0';
  if ((z = tz_from_posix(spec, err, sizeof err))) {
    ask(z, data, size);
    tz_free(z);
  }
  return 0;
}
