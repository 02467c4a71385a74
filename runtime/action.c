/*
 * action.c - the registry of action kinds, generated from actions.def.
 *
 * A weak reference resolves to NULL when no object file defines the kind,
 * so the link works before every kind has an implementation. (Weak
 * references do not pull members out of static archives: healer links its
 * objects directly.)
 */
#include "action.h"

#include <stddef.h>

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
