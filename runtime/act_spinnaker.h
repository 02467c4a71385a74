/*
 * act_spinnaker.h - the Spinnaker kind (act_ops_SPINNAKER, see action.h):
 * trigger a pipeline through Gate and follow its execution
 * (api-contracts.md section 4).
 *
 *   start   POST /pipelines/{application}/{pipeline} (S1), the body the
 *           trigger map itself:
 *             {"type":"manual","user":"healer","correlationId":"<ctag>",
 *              "parameters":{<step parameters but application>,
 *                            "HEALER_REMEDIATION_ID":"<tag>"}}
 *           202 + {"ref":"/pipelines/<id>"} -> pending, token "exec:<id>".
 *   poll    GET /pipelines/<id> (S3) until its status is in Orca's
 *           completed set (4.2), which is the list of HL_RESULT lines of
 *           SPINNAKER in actions.def; action_result_ok() says whether that
 *           status succeeds (SUCCEEDED, SKIPPED by default). NOT_STARTED,
 *           BUFFERED, RUNNING, PAUSED, SUSPENDED (and any status healer does
 *           not know) keep it pending; the rule's timeout bounds them. An
 *           empty 200 is transient (4.1 S3); a 404 fails after
 *           ACT_SPINNAKER_404_TRIES answers in a row. Intervals grow from
 *           1 s to 10 s.
 *   cancel  PUT /pipelines/<id>/cancel?reason=... (S4), then GET until the
 *           status is completed (a RUNNING execution turns CANCELED later,
 *           a finished one keeps its status), at most the cancel wait.
 *
 * <tag> is backend_rem_tag(); <ctag> is "<tag>-s<step number>", so two
 * Spinnaker steps of one remediation never share a correlationId.
 *
 * Never two executions for one step: every trigger carries the
 * correlationId, so Orca answers a repeated trigger with the execution
 * still running under it (4.1 S1 dedupe); and since that mapping ends with
 * the execution, a start that may follow an unseen trigger (attempt > 0,
 * resumed without a token, a transport error after sending, a 5xx) first
 * looks the correlationId up: GET /applications/{app}/executions/search
 * ?trigger=<base64 of {"correlationId":"<ctag>"}> (4.5), and follows what
 * it finds.
 *
 * Auth (4.4): the backend's token as a bearer token (read again for every
 * request, so a rotated file keeps working), else user + password as
 * basic, and/or a client certificate (client_cert, client_key) with the
 * CA file that verifies Gate (ca_file).
 *
 * Failures (4.5): connect errors, timeouts, 429 and 5xx give ACTION_RETRY;
 * 400, 401, 403, 404 and other 4xx give ACTION_FAILED with a reason such as
 * "spinnaker pipeline 'shop/restart': trigger: HTTP 404 (no such
 * application or pipeline): Pipeline config (id: restart) not found".
 */
#ifndef HEALER_ACT_SPINNAKER_H
#define HEALER_ACT_SPINNAKER_H

#include <stddef.h>
#include <stdint.h>

#include "action.h"

#define ACT_SPINNAKER_TAG_PARAM "HEALER_REMEDIATION_ID"
#define ACT_SPINNAKER_POLL_MIN_MS 1000
#define ACT_SPINNAKER_POLL_MAX_MS 10000
#define ACT_SPINNAKER_404_TRIES 3
#define ACT_SPINNAKER_CANCEL_WAIT_MS 15000
#define ACT_SPINNAKER_ID_MAX 64

extern const struct action_ops act_ops_SPINNAKER;

/* The execution id of a ref "/pipelines/<id>" (the last segment: letters,
 * digits, '-' and '_'), into id; 0, or -1. */
int act_spinnaker_ref_id(const char *ref, char *id, size_t idlen);

/* Whether a status is in Orca's completed set (4.2). */
bool act_spinnaker_completed(const char *status);

/* Resume tokens: "exec:<id>". 0 with the id, or -1. */
int act_spinnaker_parse_token(const char *token, char *id, size_t idlen);

/* The step's current resume token, or NULL (tests; before release). */
const char *act_spinnaker_token(const struct action_run *run);

/* The correlationId of a step: "<tag>-s<n>" (n from 1). Returns out. */
const char *act_spinnaker_correlation(const struct action_run *run,
                                      char *out, size_t outlen);

/* Poll intervals and the cancel wait (tests): 0 restores a default. Set
 * before workers start. */
void act_spinnaker_set_poll(int64_t min_ms, int64_t max_ms);
void act_spinnaker_set_cancel_wait(int64_t ms);

#endif
