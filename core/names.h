/*
 * names.h - the words of abi.h's lists, one table per list.
 *
 * healerc reads these words in rules and prints them in messages; healer
 * prints them in logs, metrics and the API. Each table is generated from
 * its list (actions.def, backends.def, functions.def, HL_ALERT_FIELDS, the
 * match operators and statuses of abi.h), once, for both binaries.
 *
 * Everything here is static and const. The tables that end at NULL can be
 * handed to diag_suggest() and the checker's name lookups as they are.
 */
#ifndef HEALER_NAMES_H
#define HEALER_NAMES_H

#include <stdint.h>

#include "abi.h"

/* The word after `run` ("jenkins"), and the second word or NULL
 * ("cordon"), per enum hl_action_kind. */
extern const char *const hl_action_words[HL_ACT__COUNT + 1];
extern const char *const hl_action_verbs[HL_ACT__COUNT];

/* The backend kind's word ("jenkins") and its environment prefix
 * ("HEALER_JENKINS"), per enum hl_backend_kind. */
extern const char *const hl_backend_words[HL_BK__COUNT + 1];
extern const char *const hl_backend_envs[HL_BK__COUNT];

/* A function's name ("lower") and its number of arguments, per enum
 * hl_func. */
extern const char *const hl_func_names[HL_FN__COUNT + 1];
extern const uint8_t hl_func_nargs[HL_FN__COUNT];

/* The name after $alert. ("startsAt"), per enum hl_alert_field. */
extern const char *const hl_field_names[HL_FIELD__COUNT + 1];

/* "=", "!=", "=~", "!~", per enum hl_match_op. */
extern const char *const hl_match_op_words[4];

/* "firing", "resolved", "any": index HL_STATUS_* - 1. */
extern const char *const hl_status_words[4];

/* The same words, bounds-checked: "?" for a kind out of range. */
const char *hl_action_word(unsigned kind);
const char *hl_backend_word(unsigned kind);
/* "resolved" for HL_STATUS_RESOLVED, "any" for HL_STATUS_ANY, else
 * "firing". */
const char *hl_status_word(unsigned status);

/* The backend kind an action kind runs on (HL_BK_KUBERNETES for
 * HL_ACT_K8S_DRAIN), or HL_BK__COUNT for a kind out of range. */
uint8_t hl_action_backend(unsigned kind);

/* The declared backend of kind named name in rs, or HL_NONE. */
uint32_t hl_backend_find(const struct hl_ruleset *rs, unsigned kind, const char *name);

#endif
