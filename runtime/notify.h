/*
 * notify.h - telling people about a remediation's outcome, as the rule's
 * `on success|failure|timeout notify slack|jira ...` and `on failure page
 * pagerduty` clauses (hl_notify rows) ask.
 *
 * The worker calls notify_send() once a remediation has its final state
 * (after recording it, so a slow notifier never delays the outcome):
 *
 *   struct notify_event ev = {rs, r, out, reason, started_ms, ended_ms, link};
 *   struct notify_result res[8];
 *   size_t n = notify_send(httpc_thread(), &ev, wait_fn, ctx, res, 8);
 *
 * Each matching row is sent through its notifier (one file each:
 * notify_slack.c, notify_jira.c, notify_pagerduty.c), retried on
 * retryable errors (connect, timeout, 429, 5xx) with jittered backoff or
 * the server's Retry-After, up to the policy's attempts; then recorded:
 * one log line (msg=notification, status=sent|failed, attempts, detail),
 * a counter (notify_metrics_render()) and a notify_result for the caller.
 * A notification never changes the remediation's outcome.
 *
 * Only succeeded, failed and timed_out outcomes notify (cancelled,
 * skipped and dry_run do not).
 *
 * What each sends:
 *   slack      POST the incoming webhook, JSON {text, blocks[, channel]}:
 *              rule, alert, parameters, outcome, duration, reason, link.
 *   jira       POST /rest/api/2/issue (project: the clause's word, else
 *              the backend's project; issue type Task), labels "healer"
 *              and "healer-<tag>". Basic email:token when the backend has
 *              a user (Cloud), else Bearer token (Data Center PAT). When a
 *              create may have gone through unseen (timeout after
 *              sending, 5xx), the next attempt first searches for the
 *              label, so one remediation makes at most one issue.
 *   pagerduty  POST <url>/v2/enqueue (url defaults to
 *              https://events.pagerduty.com): a trigger for failure and
 *              timeout, a resolve for success, with dedup_key
 *              "healer/<fingerprint>/<startsAt>" so retries and repeats
 *              page once.
 *
 * Ownership: everything is borrowed; notify_send() blocks the calling
 * thread (bounded: attempts x (request timeout + max wait)).
 */
#ifndef HEALER_NOTIFY_H
#define HEALER_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "backend.h"
#include "buf.h"
#include "httpc.h"
#include "rem.h"

#define NOTIFY_DETAIL_MAX 192
#define NOTIFY_REQUEST_TIMEOUT_MS                                              \
  10000 /* per request: a hung service must not                                \
           hold a worker (or shutdown) long */

struct notify_event {
  const struct hl_ruleset *rs;   /* borrowed */
  const struct remediation *rem; /* borrowed */
  enum rem_state outcome;        /* REM_SUCCEEDED, REM_FAILED, REM_TIMED_OUT */
  const char *reason;            /* the outcome's reason, or NULL */
  int64_t started_ms, ended_ms;  /* wall clock, for the duration */
  const char *link;              /* the build's page, or NULL */
  const char *dedup_key;         /* PagerDuty's dedup_key; NULL: the
                                    alert's ("healer/<fp>/<startsAt>") */
};

enum notify_status { NOTIFY_SENT, NOTIFY_FAILED };

struct notify_result {
  uint8_t kind;        /* HL_BK_SLACK, HL_BK_JIRA, HL_BK_PAGERDUTY */
  const char *backend; /* "default" or the declared name */
  enum notify_status status;
  unsigned attempts;              /* requests made (0: not configured) */
  char detail[NOTIFY_DETAIL_MAX]; /* "OPS-12", "ok", or the last error */
};

/* Waits until until_ms (wall clock); false when the wait was cut short
 * (shutdown): the notification then gives up. */
typedef bool (*notify_wait_fn)(void *ctx, int64_t until_ms);

struct notify_policy {
  unsigned attempts;      /* tries per notification; default 3 */
  int64_t backoff_ms;     /* first retry wait; default 1000 */
  int64_t backoff_cap_ms; /* default 10000 */
  int64_t max_wait_ms;    /* longest wait, Retry-After included;
                             default 30000 */
};

/* Sets the retry policy (0 fields keep defaults); before threads start. */
void notify_set_policy(const struct notify_policy *p);

/* The hl_event an outcome stands for; 0 when it notifies nothing. */
uint8_t notify_event_of(enum rem_state outcome);

/* Sends every notification ev's rule asks for its outcome, in clause
 * order; wait may be NULL (plain sleep). Fills res[0..nres) and returns
 * how many notifications there were (possibly more than nres). */
size_t notify_send(struct httpc *hc, const struct notify_event *ev,
                   notify_wait_fn wait, void *wait_ctx,
                   struct notify_result *res, size_t nres);

/* Pages a human about ev (a PagerDuty trigger, whatever the rule's clauses
 * say): through the rule's PagerDuty backend when it names one, else the
 * default one. For a rule's breaker opening; ev->dedup_key should be set
 * so the page is one incident of its own. Fills *res. */
void notify_page(struct httpc *hc, const struct notify_event *ev,
                 notify_wait_fn wait, void *wait_ctx,
                 struct notify_result *res);

/* Appends healer_notifications_total{kind,result} to a /metrics page. */
void notify_metrics_render(struct buf *out);

/* ---- for the notifier files ---------------------------------------------- */

/* One notification being sent; kept across its attempts. */
struct notify_attempt {
  struct httpc *hc;
  const struct notify_event *ev;
  const struct hl_notify *n; /* the rule's clause */
  const struct backend *be;
  unsigned attempt;               /* 0 for the first try */
  bool maybe_sent;                /* set by a notifier when an attempt may
                                     have been acted on unseen */
  struct httpc_response rs;       /* reused by every attempt */
  char detail[NOTIFY_DETAIL_MAX]; /* out: what happened */
};

/* One try each. HTTPC_OK when delivered, HTTPC_RETRY or HTTPC_PERMANENT
 * otherwise, with a->detail saying why; a->rs.retry_after_ms may ask
 * for a longer wait. */
enum httpc_class notify_slack_send(struct notify_attempt *a);
enum httpc_class notify_jira_send(struct notify_attempt *a);
enum httpc_class notify_pagerduty_send(struct notify_attempt *a);

/* Shared text helpers. */
const char *notify_outcome_word(enum rem_state outcome); /* "failed" */
/* "healer: rule R failed for ALERT (p=v, ...)", at most max bytes (cut
 * at a UTF-8 boundary). */
void notify_summary(const struct notify_event *ev, struct buf *out, size_t max);
/* The duration, e.g. "41s", into out[RTIME_BUFSZ]. */
const char *notify_duration(const struct notify_event *ev, char *out);
/* a->detail from a failed request: "HTTP 404: channel_not_found" or the
 * transport error, prefixed by what. Returns a->rs.cls (never OK). */
enum httpc_class notify_failed(struct notify_attempt *a, const char *what);
/* a->detail, printf-style; long values are cut. */
void notify_detailf(struct notify_attempt *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Truncates b to at most max bytes at a UTF-8 boundary. */
void notify_cut_utf8(struct buf *b, size_t max);

#endif
