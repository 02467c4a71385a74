/*
 * act_jenkins.h - the Jenkins action kind (act_ops_JENKINS, see action.h)
 * and the pieces of it that tests call directly.
 *
 * What a step does (api-contracts.md section 2):
 *
 *   start   POST /job/A/job/B/buildWithParameters with the step's
 *           parameters form-encoded, plus HEALER_REMEDIATION_ID=<tag>
 *           (backend_rem_tag), basic auth (user + API token). A crumb is
 *           fetched only when Jenkins answers 403 "No valid crumb": then
 *           GET /crumbIssuer/api/json (keeping the session cookie) and the
 *           POST is sent once more with the crumb header. 201/303 +
 *           Location .../queue/item/N/ -> pending.
 *   poll    GET /queue/item/N/api/json until it is cancelled (failed) or
 *           has an executable (build B); then GET /job/.../B/api/json
 *           until building is false. Intervals grow from 1 s to 10 s.
 *   cancel  POST /queue/cancelItem?id=N while queued, else POST
 *           /job/.../B/stop.
 *
 * Results (HL_RESULT lines of actions.def): SUCCESS, and whatever else
 * the rule's `succeed on` lists (rem_step.succeed_on), -> succeeded; the
 * other results of UNSTABLE, FAILURE, ABORTED, NOT_BUILT (and anything
 * unknown) -> failed, as action_result_ok() says. The result is in the
 * reason either way.
 *
 * Never two builds for one remediation: the trigger POST goes on a fresh
 * connection (libcurl does not re-send it by itself), and when a trigger's
 * outcome is unknown (timeout or dropped connection after sending, 502 or
 * 504) the next start first looks for the tag in the queue and in the
 * job's recent builds, and follows what it finds instead of posting again.
 * A job that does not declare the HEALER_REMEDIATION_ID string parameter
 * cannot be checked (Jenkins drops undeclared parameters): then an
 * unknown outcome fails the step instead of risking a second build.
 *
 * Failures are classified as action.h asks: connect errors, timeouts,
 * 429 and 5xx give ACTION_RETRY (with run->next_poll_ms set to the
 * earliest retry time when the server sent Retry-After); other 4xx give
 * ACTION_FAILED with a reason such as "jenkins job 'infra/Prune': HTTP
 * 401 (credentials rejected): Invalid password/token for user: bot".
 * While polling, transient errors keep the step pending; the rule's
 * timeout bounds them.
 */
#ifndef HEALER_ACT_JENKINS_H
#define HEALER_ACT_JENKINS_H

#include <stddef.h>
#include <stdint.h>

#include "action.h"

#define ACT_JENKINS_TAG_PARAM "HEALER_REMEDIATION_ID"
#define ACT_JENKINS_POLL_MIN_MS 1000
#define ACT_JENKINS_POLL_MAX_MS 10000

extern const struct action_ops act_ops_JENKINS;

/* How long a stopped build gets to end before healer escalates (stop,
 * then term, then kill), unless the backend's stop_grace says otherwise.
 * Jenkins' own UI offers term and kill after 15 s each. */
#define ACT_JENKINS_STOP_GRACE_MS 15000

/* Splits a job path "a/b" into URL segments "job" "a" "job" "b", pointing
 * into scratch. Returns how many, or -1 when the path is empty, has an
 * empty, "." or ".." element, or does not fit. */
int act_jenkins_job_segments(const char *job, char *scratch, size_t scratchlen,
                             const char **segs, size_t maxsegs);

/* The queue item id of a Location ".../queue/item/123/", or -1. */
long act_jenkins_queue_id(const char *location);

/* Resume tokens (what the journal keeps per step, see journal.h): the
 * kind publishes "queue:N" once Jenkins has confirmed the trigger, then
 * "build:B URL" once the build started. act_jenkins_resume() builds the
 * step's state from one after a restart and follows that queue item or
 * build instead of triggering again (start() does it by itself when
 * action.h carries run->token); an unusable token makes it look for the
 * remediation's tag before triggering. */
int act_jenkins_parse_token(const char *token, long *queue_id, long *build,
                            char *url, size_t urllen);
enum action_status act_jenkins_resume(struct action_run *run,
                                      const char *token);
/* The step's current resume token, or NULL (tests; before release). */
const char *act_jenkins_token(const struct action_run *run);

/* Poll intervals (tests): from min_ms, growing by half each poll, up to
 * max_ms. 0 restores a default. Set before workers start. */
void act_jenkins_set_poll(int64_t min_ms, int64_t max_ms);

#endif
