/*
 * results.c - see results.h.
 */
#include "results.h"

#include <string.h>
#include <strings.h>

#include "abi.h"

struct result_def {
  int action;     /* enum hl_action_kind; -1 ends the table */
  const char *name;
  int success;    /* counts as success unless the rule says otherwise */
};

static const struct result_def defs[] = {
#define HL_RESULT(action, name, success) {HL_ACT_##action, name, success},
#include "actions.def"
    {-1, NULL, 0}};

/* The i-th line of action, or NULL. */
static const struct result_def *nth(int action, unsigned i) {
  for (const struct result_def *d = defs; d->name; d++)
    if (d->action == action && i-- == 0)
      return d;
  return NULL;
}

static unsigned count_all(int action) {
  unsigned n = 0;
  for (const struct result_def *d = defs; d->name; d++)
    n += d->action == action;
  return n;
}

unsigned results_count(int action) {
  unsigned n = count_all(action);
  return n < HL_RESULTS_MAX ? n : HL_RESULTS_MAX;
}

const char *results_name(int action, unsigned i) {
  const struct result_def *d = i < HL_RESULTS_MAX ? nth(action, i) : NULL;
  return d ? d->name : NULL;
}

uint32_t results_defaults(int action) {
  uint32_t mask = 0;
  for (unsigned i = 0; i < results_count(action); i++)
    if (nth(action, i)->success)
      mask |= UINT32_C(1) << i;
  return mask;
}

int results_find(int action, const char *s, size_t n) {
  for (unsigned i = 0; i < results_count(action); i++) {
    const char *name = nth(action, i)->name;
    if (strlen(name) == n && strncasecmp(s, name, n) == 0)
      return (int)i;
  }
  return -1;
}

int results_addable(const char *s, size_t n) {
  for (const struct result_def *d = defs; d->name; d++)
    if (!d->success && strlen(d->name) == n && strncasecmp(s, d->name, n) == 0)
      return 1;
  return 0;
}

int results_check(void) {
  for (int a = 0; a < HL_ACT__COUNT; a++)
    if (count_all(a) > HL_RESULTS_MAX)
      return a;
  return -1;
}
