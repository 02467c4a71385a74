/*
 * action.h - the interface every action kind implements.
 *
 * One kind per file (act_jenkins.c, act_k8s_cordon.c, ...), each defining
 *
 *     const struct action_ops act_ops_<ID> = { "jenkins", start, poll, cancel };
 *
 * where <ID> is the kind's id in core/actions.def (act_ops_JENKINS). The
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
 * They never sleep; the worker owns waiting, deadlines and retries. After
 * ACTION_RETRY the worker waits (the rule's backoff, doubling with jitter,
 * and at least until run->next_poll_ms when the kind set it, e.g. from
 * Retry-After) and calls start() again on the same run, state kept,
 * attempt + 1, up to the rule's `retry`, never past the deadline.
 * run->link is a page for people (the build), used by notifications.
 *
 * Restarts (see journal.h): once its trigger is confirmed, and whenever its
 * progress changes (queue item -> build), a kind writes a resume token into
 * run->token and sets run->token_changed; the worker journals it (synced)
 * when it differs from the last one. After a restart the worker calls start
 * with run->resumed and run->token set to the last journaled token: the
 * kind follows what the token names instead of triggering. A step that was
 * running without a confirmed trigger (no token) is started again, with
 * run->resumed and attempt 1, only if ops->start_checks_earlier (start looks
 * for its own earlier trigger, e.g. by its tag, and refuses when it cannot
 * tell); otherwise it fails ("interrupted by a restart before the trigger
 * was confirmed").
 *
 * Ownership: run borrows the remediation and step; run->state belongs to
 * the kind (allocate in start, free in release).
 */
#ifndef HEALER_ACTION_H
#define HEALER_ACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "rem.h"

struct backend;
struct cJSON;
struct httpc;
struct httpc_response;

#define ACTION_LINK_MAX 512
#define ACTION_TOKEN_MAX 1024        /* <= JOURNAL_TOKEN_MAX */

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
  char link[ACTION_LINK_MAX];      /* set by the kind: the build's page, or "" */
  bool resumed;                    /* after a restart: an earlier start may
                                      have reached the remote side */
  char token[ACTION_TOKEN_MAX];    /* resume token (the kind's format) */
  bool token_changed;              /* set by the kind; cleared by the worker */
  /* For a kind that must wait inside a call (cancel): waits until until_ms
   * (wall clock); false when healer is shutting down. NULL: just sleep. */
  bool (*wait)(void *ctx, int64_t until_ms);
  void *wait_ctx;
};

struct action_ops {
  const char *name;
  enum action_status (*start)(struct action_run *run);
  enum action_status (*poll)(struct action_run *run);
  void (*cancel)(struct action_run *run);    /* best effort */
  void (*release)(struct action_run *run);   /* may be NULL */
  bool start_checks_earlier;       /* see above */
};

/* The implementation of a kind, or NULL when none is built in. */
const struct action_ops *action_ops_for(uint8_t kind);

/*
 * Results (the HL_RESULT lines of actions.def): a kind that reports one
 * when a step ends (a Jenkins build result, a Job condition, a Spinnaker
 * status) asks action_result_ok() whether it counts as success for this
 * step: result names a result of run->step's kind whose bit is set in the
 * step's succeed_on mask, or, when the mask is 0, one of the kind's
 * defaults. An unknown name (or NULL) never counts. Names compare exactly,
 * as the remote side writes them.
 */
bool action_result_ok(const struct action_run *run, const char *result);

/* How many results kind reports, and the i-th one's name (NULL past the
 * end), in the bit order of succeed_on. */
unsigned action_result_count(uint8_t kind);
const char *action_result_name(uint8_t kind, unsigned i);

/* The mask of kind's results that count as success for a step whose
 * succeed_on is mask: mask, or the kind's defaults when mask is 0. */
uint32_t action_result_mask(uint8_t kind, uint32_t mask);

/* ---- the kit: for the kind files (act_*.c) ------------------------------
 *
 * What every kind does the same way, so a kind's file holds only its
 * protocol (action_kit.c). None of these sleeps except
 * action_pause_until(); none logs. */

#define ACTION_CANCEL_TIMEOUT_MS 10000 /* each request of a cancel */
#define ACTION_MIN_REQUEST_MS 2000     /* even when the deadline is nearer */

/* run->reason, printf-style; a long value is cut. */
void action_reasonf(struct action_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The step's backend of KIND if start-up found it usable (and, with
 * need_url, it has a url); else NULL with the reason set, prefixed by who
 * when not NULL: for the default backend "no <what> configured: set
 * <how>", for a named one "<kind> backend '<name>' is not configured". */
const struct backend *action_backend(struct action_run *run, uint8_t kind,
                                     bool need_url, const char *who,
                                     const char *what, const char *how);

/* The worker's HTTP client, else the calling thread's (NULL: no memory). */
struct httpc *action_client(struct action_run *run);

/* A request's total timeout (for httpc_request.timeout_ms) that does not
 * outlive the rule's deadline by much: ACTION_CANCEL_TIMEOUT_MS while
 * cancelling (the deadline has passed), else the time left, at least
 * ACTION_MIN_REQUEST_MS; 0 (the client's default) when that is longer. */
int64_t action_request_timeout(const struct action_run *run, bool cancelling);

/* The answer's body as JSON, or NULL (empty, not JSON). Free with
 * cJSON_Delete(). */
struct cJSON *action_json(const struct httpc_response *rs);
/* A member of a JSON object: a string (or NULL), a number (or -1). */
const char *action_json_str(const struct cJSON *o, const char *key);
long action_json_long(const struct cJSON *o, const char *key);

/* A short printable excerpt of an error answer for a reason: the first
 * line of a text/plain body, or the "message" member of a JSON one (a
 * Kubernetes Status, a Spring error); "" otherwise. */
void action_body_excerpt(const struct httpc_response *rs, char *out,
                         size_t outlen);

/* What a status means to people ("credentials rejected"), or NULL: the
 * kind's own words first (hint may be NULL or return NULL), then common
 * ones. */
typedef const char *(*action_hint_fn)(long status);

/* run->reason = "<who>: <what>: HTTP 401 (hint): excerpt" for an answer,
 * "<who>: <what>: <transport error>" without one; with be's secrets
 * redacted (an answer may echo what it was sent). */
void action_http_reason(struct action_run *run, const struct backend *be,
                        const char *who, const char *what,
                        const struct httpc_response *rs, action_hint_fn hint);

/* After a failed request: sets the reason as above and returns
 * ACTION_RETRY (with run->next_poll_ms from Retry-After, else 0) when the
 * failure is retryable, else ACTION_FAILED. */
enum action_status action_failed(struct action_run *run,
                                 const struct backend *be, const char *who,
                                 const char *what,
                                 const struct httpc_response *rs,
                                 action_hint_fn hint);

/* Poll pacing: starts at min, grows by half each time up to max. */
struct action_pace {
  int64_t interval, min, max;
};
void action_pace_init(struct action_pace *p, int64_t min_ms, int64_t max_ms);
/* run->next_poll_ms = now + the interval, which then grows. */
void action_schedule(struct action_run *run, struct action_pace *p);

/* A transient error while following: the reason as action_http_reason(),
 * the next poll as action_schedule() but not before a Retry-After; returns
 * ACTION_PENDING (the rule's deadline ends it). */
enum action_status action_poll_later(struct action_run *run,
                                     struct action_pace *p,
                                     const struct backend *be,
                                     const char *who, const char *what,
                                     const struct httpc_response *rs,
                                     action_hint_fn hint);

/* Publishes progress: the resume token (journaled by the worker when it
 * changed) and, when link is not NULL, the page people open. */
void action_set_token(struct action_run *run, const char *token,
                      const char *link);

/* Waits until at_ms (wall clock) through the worker's wait, so that a
 * shutdown cuts it short: false then. For cancel(), which may wait. */
bool action_pause_until(struct action_run *run, int64_t at_ms);
#endif
