/*
 * action.c - the registry of action kinds, generated from actions.def.
 *
 * A weak reference resolves to NULL when no object file defines the kind,
 * so the link works before every kind has an implementation. (Weak
 * references do not pull members out of static archives: healer links its
 * objects directly.) Also the table of results per kind, for
 * action_result_ok().
 */
#include "action.h"

#include <stddef.h>
#include <string.h>

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

static const uint8_t backend_kinds[HL_ACT__COUNT] = {
#define HL_ACTION(id, word, verb, backend, target, open) [HL_ACT_##id] = HL_BK_##backend,
#include "actions.def"
};

uint8_t action_backend_kind(uint8_t kind) {
  return kind < HL_ACT__COUNT ? backend_kinds[kind] : HL_BK__COUNT;
}

/* ---- results ------------------------------------------------------------- */

struct result_def {
  uint8_t kind;               /* enum hl_action_kind */
  const char *name;
  bool success;               /* counts unless the rule says otherwise */
};

static const struct result_def results[] = {
#define HL_RESULT(action, name, success) {HL_ACT_##action, name, success},
#include "actions.def"
    {HL_ACT__COUNT, NULL, false}};

/* The i-th result of kind, or NULL (past HL_RESULTS_MAX too: a mask holds
 * no more). */
static const struct result_def *result_at(uint8_t kind, unsigned i) {
  if (i >= HL_RESULTS_MAX) return NULL;
  for (const struct result_def *d = results; d->name; d++)
    if (d->kind == kind && i-- == 0) return d;
  return NULL;
}

unsigned action_result_count(uint8_t kind) {
  unsigned n = 0;
  while (result_at(kind, n)) n++;
  return n;
}

const char *action_result_name(uint8_t kind, unsigned i) {
  const struct result_def *d = result_at(kind, i);
  return d ? d->name : NULL;
}

uint32_t action_result_mask(uint8_t kind, uint32_t mask) {
  if (mask) return mask;
  uint32_t defaults = 0;
  const struct result_def *d;
  for (unsigned i = 0; (d = result_at(kind, i)); i++)
    if (d->success) defaults |= UINT32_C(1) << i;
  return defaults;
}

bool action_result_ok(const struct action_run *run, const char *result) {
  if (!result || !run->step) return false;
  uint8_t kind = run->step->kind;
  uint32_t mask = action_result_mask(kind, run->step->succeed_on);
  const struct result_def *d;
  for (unsigned i = 0; (d = result_at(kind, i)); i++)
    if (strcmp(d->name, result) == 0) return (mask >> i) & 1u;
  return false;
}
