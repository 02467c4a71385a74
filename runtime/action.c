/*
 * action.c - the registry of action kinds, generated from actions.def.
 *
 * A weak reference resolves to NULL when no object file defines the kind,
 * so the link works before every kind has an implementation. (Weak
 * references do not pull members out of static archives: healer links its
 * objects directly.) Also the results per kind, read from core/results.c,
 * for action_result_ok().
 */
#include "action.h"

#include <stddef.h>
#include <string.h>

#include "results.h"

#define HL_ACTION(id, word, verb, backend, target, open) \
  extern const struct action_ops act_ops_##id __attribute__((weak));
#include "actions.def"

static const struct action_ops *const registry[HL_ACT__COUNT] = {
#define HL_ACTION(id, word, verb, backend, target, open) [HL_ACT_##id] = &act_ops_##id,
#include "actions.def"
};

const struct action_ops *action_ops_for(uint8_t kind) {
  return kind < HL_ACT__COUNT ? registry[kind] : NULL;
}

/* ---- results ------------------------------------------------------------- */

/* The HL_RESULT lines of actions.def are read by core/results.c, for
 * healerc (which turns `succeed on` into bits) and for the runtime alike:
 * bit i means the same result in both. */

unsigned action_result_count(uint8_t kind) { return results_count(kind); }

const char *action_result_name(uint8_t kind, unsigned i) { return results_name(kind, i); }

uint32_t action_result_mask(uint8_t kind, uint32_t mask) {
  return mask ? mask : results_defaults(kind);
}

bool action_result_ok(const struct action_run *run, const char *result) {
  if (!result || !run->step) return false;
  uint8_t kind = run->step->kind;
  uint32_t mask = action_result_mask(kind, run->step->succeed_on);
  const char *name;
  for (unsigned i = 0; (name = results_name(kind, i)); i++)
    if (strcmp(name, result) == 0) return (mask >> i) & 1u;
  return false;
}
