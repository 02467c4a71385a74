/*
 * names.c - see names.h.
 */
#include "names.h"

#include <stddef.h>
#include <string.h>

const char *const hl_action_words[HL_ACT__COUNT + 1] = {
#define HL_ACTION(id, word, verb, backend, target, open) [HL_ACT_##id] = word,
#include "actions.def"
    [HL_ACT__COUNT] = NULL};

const char *const hl_action_verbs[HL_ACT__COUNT] = {
#define HL_ACTION(id, word, verb, backend, target, open) [HL_ACT_##id] = verb,
#include "actions.def"
};

const char *const hl_backend_words[HL_BK__COUNT + 1] = {
#define HL_BACKEND(id, word, env) [HL_BK_##id] = word,
#include "backends.def"
    [HL_BK__COUNT] = NULL};

const char *const hl_backend_envs[HL_BK__COUNT] = {
#define HL_BACKEND(id, word, env) [HL_BK_##id] = env,
#include "backends.def"
};

const char *const hl_func_names[HL_FN__COUNT + 1] = {
#define HL_FUNC(id, name, nargs, summary) [HL_FN_##id] = name,
#include "functions.def"
    [HL_FN__COUNT] = NULL};

const uint8_t hl_func_nargs[HL_FN__COUNT] = {
#define HL_FUNC(id, name, nargs, summary) [HL_FN_##id] = nargs,
#include "functions.def"
};

const char *const hl_field_names[HL_FIELD__COUNT + 1] = {
#define HL_X(id, name) [HL_FIELD_##id] = name,
    HL_ALERT_FIELDS(HL_X)
#undef HL_X
        [HL_FIELD__COUNT] = NULL};

const char *const hl_match_op_words[4] = {
    [HL_MATCH_EQ] = "=", [HL_MATCH_NE] = "!=", [HL_MATCH_RE] = "=~", [HL_MATCH_NRE] = "!~"};

const char *const hl_status_words[4] = {[HL_STATUS_FIRING - 1] = "firing",
                                        [HL_STATUS_RESOLVED - 1] = "resolved",
                                        [HL_STATUS_ANY - 1] = "any", [3] = NULL};

const char *hl_action_word(unsigned kind) {
  return kind < HL_ACT__COUNT ? hl_action_words[kind] : "?";
}

const char *hl_backend_word(unsigned kind) {
  return kind < HL_BK__COUNT ? hl_backend_words[kind] : "?";
}

const char *hl_status_word(unsigned status) {
  return status == HL_STATUS_RESOLVED ? "resolved" : status == HL_STATUS_ANY ? "any" : "firing";
}

static const uint8_t action_backends[HL_ACT__COUNT] = {
#define HL_ACTION(id, word, verb, backend, target, open) [HL_ACT_##id] = HL_BK_##backend,
#include "actions.def"
};

uint8_t hl_action_backend(unsigned kind) {
  return kind < HL_ACT__COUNT ? action_backends[kind] : HL_BK__COUNT;
}

uint32_t hl_backend_find(const struct hl_ruleset *rs, unsigned kind, const char *name) {
  for (uint32_t i = 0; name && i < rs->nbackends; i++)
    if (rs->backends[i].kind == kind && strcmp(rs->backends[i].name, name) == 0)
      return i;
  return HL_NONE;
}
