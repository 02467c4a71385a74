/*
 * results.h - the result vocabulary of each action kind: the HL_RESULT
 * lines of actions.def, in one table for healerc's parser, checker and
 * codegen and for the runtime (runtime/action.c), so that bit i of a
 * succeed_on mask names the same result in both binaries.
 *
 * The i-th HL_RESULT line of an action is bit i of the succeed_on mask of
 * its steps (hl_step.succeed_on). A kind with no line reports no result.
 * Names match in any case, as `succeed on` accepts them.
 *
 * Everything returned is static.
 */
#ifndef HEALER_RESULTS_H
#define HEALER_RESULTS_H

#include <stddef.h>
#include <stdint.h>

/* How many results action (enum hl_action_kind) reports; at most
 * HL_RESULTS_MAX (results_check() says when actions.def has more). */
unsigned results_count(int action);

/* The name of action's i-th result as actions.def spells it, or NULL when
 * i >= results_count(action). */
const char *results_name(int action, unsigned i);

/* The mask of action's results that count as success by default. */
uint32_t results_defaults(int action);

/* The index of the n bytes at s (any case) among action's results, or
 * -1. */
int results_find(int action, const char *s, size_t n);

/* Whether the n bytes at s (any case) name a result of some kind that
 * counts as success only when `succeed on` says so (UNSTABLE, Failed,
 * STOPPED, ...). */
int results_addable(const char *s, size_t n);

/* The first action with more results than HL_RESULTS_MAX, or -1 (for a
 * test: actions.def must not declare more than a mask holds). */
int results_check(void);

#endif
