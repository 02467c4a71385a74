/*
 * notify_jira.c - one Jira issue per remediation, REST API v2
 * (api-contracts.md section 6).
 *
 * POST <url>/rest/api/2/issue
 *   {"fields":{"project":{"key":P},"issuetype":{"name":"Task"},
 *    "summary":..., "description":..., "labels":["healer","healer-<tag>"]}}
 * -> 201 {"id","key","self"}. Auth: Basic user:token (Cloud: email and
 * API token) when the backend has a user, else Bearer token (Data Center
 * personal access token).
 *
 * Creating is not idempotent. The POST goes on a fresh connection (libcurl
 * does not re-send it), and after an attempt whose outcome is unknown
 * (timeout or dropped connection after sending, any 5xx) the next one
 * first searches `labels = "healer" AND labels = "healer-<tag>"` and
 * reports the issue it finds instead of creating another.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"
#include "rtime.h"

#define ISSUE_TYPE "Task"
#define SUMMARY_MAX 255

/* The backend's credentials on rq, and where its time is observed. */
static void set_auth(struct httpc_request *rq, const struct backend *be) {
  rq->hist = be->requests;
  const char *user = backend_field(be, "user");
  rq->secret = backend_field(be, "token");
  if (user && *user) {
    rq->auth = HTTPC_AUTH_BASIC;
    rq->user = user;
  } else {
    rq->auth = HTTPC_AUTH_BEARER;
  }
}

/* The key of the first issue in a search or create answer, into out. */
static bool answer_key(const struct httpc_response *rs, bool search, char *out,
                       size_t outlen) {
  if (!rs->body.data)
    return false;
  cJSON *o = cJSON_ParseWithLengthOpts(rs->body.data, rs->body.len, NULL, 0);
  const cJSON *it = o;
  if (search)
    it = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "issues"), 0);
  const cJSON *k = cJSON_GetObjectItemCaseSensitive(it, "key");
  bool ok = cJSON_IsString(k) && k->valuestring[0];
  if (ok)
    snprintf(out, outlen, "%s", k->valuestring);
  cJSON_Delete(o);
  return ok;
}

/* Looks for the issue an earlier attempt may have created. 1 found (detail
 * = key), 0 none, -1 the search failed. */
static int search(struct notify_attempt *a, const char *url,
                  const char *label) {
  char err[HTTPC_ERR_MAX], jql[160];
  snprintf(jql, sizeof jql, "labels = \"healer\" AND labels = \"%s\"", label);
  static const char *const path[] = {"rest", "api", "2", "search"};
  const struct httpc_kv q[] = {
      {"jql", jql}, {"maxResults", "1"}, {"fields", "key"}};
  char *u = httpc_url(url, path, 4, q, 3, err, sizeof err);
  if (!u) {
    notify_detailf(a, "jira: %s", err);
    a->rs.cls = HTTPC_PERMANENT;
    return -1;
  }
  struct httpc_request rq = {
      .method = HTTPC_GET, .url = u, .timeout_ms = NOTIFY_REQUEST_TIMEOUT_MS};
  set_auth(&rq, a->be);
  int rc = httpc_do(a->hc, &rq, &a->rs);
  free(u);
  if (rc < 0 || a->rs.status != 200) {
    notify_failed(a, "jira: searching for an earlier issue");
    return -1;
  }
  return answer_key(&a->rs, true, a->detail, sizeof a->detail) ? 1 : 0;
}

static void description(const struct notify_event *ev, struct buf *d) {
  const struct remediation *r = ev->rem;
  char dur[RTIME_BUFSZ];
  buf_printf(d, "healer remediation %llu %s.\n", (unsigned long long)r->id,
             notify_outcome_word(ev->outcome));
  buf_printf(d, "Rule: %s\n", r->rule_name);
  buf_printf(d, "Alert: %s, fingerprint %s, since %s\n", r->alertname,
             r->fingerprint, r->starts_at);
  for (uint32_t s = 0; s < r->nsteps; s++)
    for (uint32_t k = 0; k < r->steps[s].nparams; k++)
      buf_printf(d, "Parameter %s = %s\n", r->steps[s].params[k].name,
                 r->steps[s].params[k].value);
  buf_printf(d, "Outcome: %s after %s", notify_outcome_word(ev->outcome),
             notify_duration(ev, dur));
  if (ev->reason && *ev->reason)
    buf_printf(d, ": %s", ev->reason);
  buf_putc(d, '\n');
  if (ev->link && *ev->link)
    buf_printf(d, "Build: %s\n", ev->link);
  notify_cut_utf8(d, 30000);
}

enum httpc_class notify_jira_send(struct notify_attempt *a) {
  const char *url = backend_field(a->be, "url");
  const char *project = a->n->target && *a->n->target
                            ? a->n->target
                            : backend_field(a->be, "project");
  if (!url || !project || !*project) {
    notify_detailf(a, "jira: no project (name one in the rule, notify jira "
                      "\"OPS\", or set the "
                      "backend's project)");
    return HTTPC_PERMANENT;
  }
  char tag[BACKEND_TAG_MAX], label[BACKEND_TAG_MAX + 8];
  snprintf(label, sizeof label, "healer-%s", backend_rem_tag(a->ev->rem, tag));
  if (a->maybe_sent) {
    int found = search(a, url, label);
    if (found != 0) {
      if (found < 0)
        return a->rs.cls == HTTPC_OK ? HTTPC_RETRY : a->rs.cls;
      return HTTPC_OK; /* created by the attempt we did not hear from */
    }
    a->maybe_sent = false;
  }
  struct buf summary, desc, body;
  buf_init(&summary);
  buf_init(&desc);
  buf_init(&body);
  notify_summary(a->ev, &summary, SUMMARY_MAX);
  description(a->ev, &desc);
  buf_puts(&body, "{\"fields\":{\"project\":{\"key\":");
  buf_json_str(&body, project);
  buf_puts(&body, "},\"issuetype\":{\"name\":\"" ISSUE_TYPE "\"},\"summary\":");
  buf_json_str(&body, summary.data ? summary.data : "healer");
  buf_puts(&body, ",\"description\":");
  buf_json_str(&body, desc.data ? desc.data : "");
  buf_puts(&body, ",\"labels\":[\"healer\",");
  buf_json_str(&body, label);
  buf_puts(&body, "]}}");
  enum httpc_class cls;
  char err[HTTPC_ERR_MAX];
  static const char *const path[] = {"rest", "api", "2", "issue"};
  char *u = httpc_url(url, path, 4, NULL, 0, err, sizeof err);
  if (!u || summary.oom || desc.oom || body.oom) {
    notify_detailf(a, "jira: %s", u ? "out of memory" : err);
    cls = u ? HTTPC_RETRY : HTTPC_PERMANENT;
  } else {
    struct httpc_request rq = {
        .method = HTTPC_POST,
        .url = u,
        .content_type = "application/json",
        .body = body.data,
        .body_len = body.len,
        .timeout_ms = NOTIFY_REQUEST_TIMEOUT_MS,
        .flags = HTTPC_NO_RESEND,
    };
    set_auth(&rq, a->be);
    int rc = httpc_do(a->hc, &rq, &a->rs);
    if (rc == 0 && a->rs.status == 201 &&
        answer_key(&a->rs, false, a->detail, sizeof a->detail)) {
      cls = HTTPC_OK;
    } else {
      if ((rc < 0 && a->rs.maybe_sent) || a->rs.status >= 500)
        a->maybe_sent = true;
      if (rc == 0 && a->rs.status == 201) {
        notify_detailf(a, "jira: created, but the answer had no key");
        cls = HTTPC_OK;
      } else {
        cls = notify_failed(a, "jira");
      }
    }
  }
  free(u);
  buf_free(&summary);
  buf_free(&desc);
  buf_free(&body);
  return cls;
}
