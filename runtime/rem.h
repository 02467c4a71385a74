/*
 * rem.h - a remediation: what healer decided to do about one alert.
 *
 * Created by the engine from a matched rule and its rendered parameters,
 * then shared by the queue, a worker, the dedupe table and the store of
 * recent remediations; freed when the last of them lets go (refcount).
 *
 * Which lock guards what (each field says):
 *   const      set by rem_new(), never changed
 *   store lock state, reason, updated_ms, the store links (store.c)
 *   queue lock qi (queue.c)
 *   decide lock released (decide.c)
 *   worker     resume_* (set at restore, before any worker runs; then read
 *              by the one worker that pops the remediation)
 *
 * Ownership: rem_new() returns a remediation with one reference, which the
 * caller owns; rem_ref()/rem_unref() add and drop references. Every string
 * inside is owned by the remediation (one allocation), except rule_name,
 * targets and parameter names, which are borrowed from the const tables
 * (rem_new_copy() copies them too: a finished remediation restored from
 * the journal, whose rule may have changed or gone since).
 */
#ifndef HEALER_REM_H
#define HEALER_REM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "queue.h"

#define REM_REASON_MAX 192

#define REM_STATES(X) \
  X(QUEUED, "queued") \
  X(RUNNING, "running") \
  X(SUCCEEDED, "succeeded") \
  X(FAILED, "failed") \
  X(TIMED_OUT, "timed_out") \
  X(CANCELLED, "cancelled") \
  X(SKIPPED, "skipped") \
  X(DRY_RUN, "dry_run")

enum rem_state {
#define REM_X(id, name) REM_##id,
  REM_STATES(REM_X)
#undef REM_X
  REM__COUNT
};

/* Why a remediation runs in dry-run (0: it does not). */
enum rem_dry { REM_DRY_NO, REM_DRY_GLOBAL, REM_DRY_RULE, REM_DRY_UNIMPLEMENTED };

struct rem_param {
  const char *name;           /* borrowed from the tables */
  const char *value;          /* rendered */
};

struct rem_step {
  uint8_t kind;               /* enum hl_action_kind */
  uint32_t backend;           /* index into backends, or HL_NONE */
  const char *target;         /* borrowed; may be NULL */
  uint32_t nparams;
  struct rem_param *params;
  uint32_t succeed_on;        /* hl_step.succeed_on of the rule's step: the
                                 results that count as success (0: the
                                 kind's defaults; see action_result_ok()) */
};

struct remediation {
  uint64_t id;                /* const: 1, 2, ... per process */
  uint32_t rule;              /* const: index into hl_ruleset.rules */
  const char *rule_name;      /* const, borrowed */
  const char *alertname;      /* const */
  const char *fingerprint;    /* const */
  const char *starts_at;      /* const */
  uint8_t alert_status;       /* const: HL_STATUS_FIRING or _RESOLVED */
  uint8_t dry_run;            /* const: enum rem_dry */
  uint32_t nsteps;            /* const */
  struct rem_step *steps;     /* const */
  const char *cooldown_key;   /* const; NULL when the rule has no cooldown */
  const char *limit_key;      /* const; NULL when the rule has no limit */
  int64_t created_ms;         /* const */

  enum rem_state state;       /* store lock */
  int64_t updated_ms;         /* store lock */
  char reason[REM_REASON_MAX]; /* store lock */
  struct remediation *newer, *older; /* store lock: the store's list */
  bool in_store;              /* store lock */

  struct queue_item qi;       /* queue lock */

  bool released;              /* decide lock: decide_finished() ran */

  /* Restored from the journal in state running (see journal.h): the step it
   * was in, that step's resume token (owned; NULL: the trigger was not
   * confirmed) and when it first started. */
  bool resumed;               /* worker */
  uint32_t resume_step;       /* worker */
  char *resume_token;         /* worker; freed with the remediation */
  int64_t started_ms;         /* worker */
  atomic_uint refs;
};

/* Everything a remediation is made of, before it exists. Strings may live
 * in a scratch arena: rem_new() copies them. */
struct rem_draft {
  uint32_t rule;
  const char *rule_name;
  const struct alert *alert;
  uint8_t dry_run;            /* enum rem_dry */
  uint32_t nsteps;
  const struct rem_step *steps;
  const char *cooldown_key;   /* NULL: none */
  const char *limit_key;      /* NULL: none */
};

/* A new remediation in state st with one reference; NULL when out of
 * memory. */
struct remediation *rem_new(const struct rem_draft *d, uint64_t id,
                            enum rem_state st, const char *reason,
                            int64_t now_ms);
/* As rem_new(), and rule_name, targets and parameter names are copied
 * too, not borrowed. */
struct remediation *rem_new_copy(const struct rem_draft *d, uint64_t id,
                                 enum rem_state st, const char *reason,
                                 int64_t now_ms);
void rem_ref(struct remediation *r);
void rem_unref(struct remediation *r);

const char *rem_state_name(enum rem_state s);
bool rem_state_final(enum rem_state s);

/* The remediation that embeds a queue item. */
struct remediation *rem_of_item(struct queue_item *it);

/* "jenkins", "kubernetes cordon", ... for an hl_action_kind, written into
 * out; returns out. */
#define REM_KIND_MAX 48
const char *rem_kind_name(uint8_t kind, char out[REM_KIND_MAX]);

#endif
