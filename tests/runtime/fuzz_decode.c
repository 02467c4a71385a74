/*
 * fuzz_decode.c - libFuzzer target: arbitrary bytes as a webhook body
 * through the decoder and, when they decode, through the engine (match,
 * render, decide, queue) with the fixture rules. Queued remediations are
 * dropped after each input, so memory stays bounded.
 *
 *   make fuzz-decode [FUZZ_SECONDS=60]
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "abi.h"
#include "bump.h"
#include "decode.h"
#include "engine.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct engine e;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!ready) {
    char err[256];
    struct engine_config cfg = {false, 0, 64, 100, 3600000, 1000, 1000};
    log_setup(LOG_TEXT, LOGL_ERROR, 2);
    if (engine_init(&e, &hl_ruleset, &cfg, err, sizeof err) != 0) abort();
    ready = 1;
  }
  struct bump arena;
  bump_init(&arena, 0);
  struct payload p;
  char err[DECODE_ERR_MAX];
  if (decode_payload((const char *)data, size, &arena, &p, err) == 0) {
    struct ingest_result res;
    engine_ingest(&e, &p, &arena, 1795000000000, &res);
    for (struct queue_item *it; (it = queue_try_pop(&e.queue));) {
      struct remediation *r = rem_of_item(it);
      decide_finished(&e.decide, r);
      rem_unref(r);
    }
  }
  bump_free(&arena);
  return 0;
}
