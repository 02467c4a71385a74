/*
 * action.h - the interface every action kind implements.
 *
 * One kind per file (act_jenkins.c, act_k8s_cordon.c, ...), each defining
 *
 *     const struct action_ops act_ops_<ID> = { "jenkins", start, poll, cancel };
 *
 * where <ID> is the kind's id in dsl/actions.def (act_ops_JENKINS). The
 * registry (action.c) is generated from actions.def with weak references,
 * so a kind whose file is not linked in has no ops: its remediations run in
 * dry-run, and say so. Adding a kind is a line in actions.def and a file.
 *
 * Life of a step, run by one worker thread:
 *
 *     st = ops->start(run)              trigger (e.g. POST buildWithParameters)
 *     while st == ACTION_PENDING:       wait run->next_poll_ms, then
 *         st = ops->poll(run)           follow (queue item, then build)
 *     on the rule's timeout:            ops->cancel(run), then timed_out
 *     ops->release(run)                 always, last: free run->state
 *
 * start/poll fill run->reason on failure and classify it: ACTION_RETRY for
 * retryable errors (connect, timeout, 429, 5xx), ACTION_FAILED otherwise.
 * They never sleep; the worker owns waiting, deadlines and retries.
 *
 * Ownership: run borrows the remediation and step; run->state belongs to
 * the kind (allocate in start, free in release).
 */
#ifndef HEALER_ACTION_H
#define HEALER_ACTION_H

#include <stdint.h>

#include "abi.h"
#include "rem.h"

enum action_status {
  ACTION_SUCCEEDED,
  ACTION_FAILED,              /* permanent: do not retry */
  ACTION_RETRY,               /* retryable failure */
  ACTION_PENDING              /* started; poll again at next_poll_ms */
};

struct action_run {
  const struct hl_ruleset *rs;     /* borrowed */
  const struct remediation *rem;   /* borrowed */
  const struct rem_step *step;     /* borrowed */
  uint32_t attempt;                /* 0 for the first try */
  int64_t deadline_ms;             /* the rule's timeout, absolute */
  int64_t next_poll_ms;            /* set by start/poll when PENDING */
  void *state;                     /* the kind's, between calls */
  void *client;                    /* the worker's HTTP client (reused) */
  char reason[REM_REASON_MAX];     /* why it failed, or what it did */
};

struct action_ops {
  const char *name;
  enum action_status (*start)(struct action_run *run);
  enum action_status (*poll)(struct action_run *run);
  void (*cancel)(struct action_run *run);    /* best effort */
  void (*release)(struct action_run *run);   /* may be NULL */
};

/* The implementation of a kind, or NULL when none is built in. */
const struct action_ops *action_ops_for(uint8_t kind);

#endif
