/*
 * backend.h - the servers healer calls and their credentials, resolved once
 * at start-up.
 *
 * Two sources:
 *   - `backend KIND NAME { field = ... }` declarations in the rules
 *     (hl_backend): each field is a literal, env("VAR") or file("path");
 *   - the default backend of each kind, used by rules without `via`, from
 *     the environment: PREFIX_FIELD or PREFIX_FIELD_FILE (a file holding
 *     the value), PREFIX from backends.def and FIELD the field's name in
 *     upper case: HEALER_JENKINS_URL, HEALER_JENKINS_USER,
 *     HEALER_JENKINS_TOKEN or HEALER_JENKINS_TOKEN_FILE,
 *     HEALER_SLACK_WEBHOOK_FILE, HEALER_JIRA_URL, HEALER_JIRA_PROJECT,
 *     HEALER_PAGERDUTY_ROUTING_KEY_FILE, ...
 *
 * Files are read once, here; one trailing newline ("\n" or "\r\n") is
 * dropped. A backend is needed when a rule that really runs (not dry-run,
 * every action kind implemented) uses it for a step or a notification; a
 * step whose backend is picked per alert (hl_step.backend_expr) needs every
 * declared backend of its kind.
 * Only needed backends are read; one with a required field missing (an
 * unset variable, an unreadable file) or a bad URL makes
 * backend_load_all() fail with a message naming every missing variable
 * and file. In dry-run (--dry-run) nothing is read and nothing fails.
 *
 * Secrets (fields flagged HL_F_SECRET, and the Slack webhook URL) live in
 * these structs only: no function here logs or prints a value, only the
 * names of variables and files.
 *
 * Ownership and threads: backend_load_all() fills a process-wide table
 * that is read-only afterwards (every thread may read it); backend_get()
 * returns pointers into it, valid until backend_free_all().
 */
#ifndef HEALER_BACKEND_H
#define HEALER_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "buf.h"
#include "hist.h"
#include "rem.h"

#define BACKEND_FIELDS_MAX 8
#define BACKEND_FILE_MAX                                                       \
  (64 * 1024) /* a secret file larger than this is refused */

struct backend {
  const char *name; /* declared name, or "default" */
  uint8_t kind;     /* enum hl_backend_kind */
  bool declared;    /* from the rules (else the environment) */
  bool needed;      /* a rule that really runs uses it */
  bool usable;      /* every required field has a value */
  char origin[160]; /* "rules/x.heal:6" or "environment HEALER_JIRA_*" */
  char *values[BACKEND_FIELDS_MAX]; /* per field of the kind, in backends.def
                                       order; NULL when unset */
  char *paths[BACKEND_FIELDS_MAX];  /* the file a value was read from, or
                                       NULL: for backend_field_fresh() */
  struct hist *requests;            /* owned: the time of each request to it
                                       (httpc_request.hist); NULL when not
                                       needed */
};

/* Resolves the needed declared backends and default backends (see above).
 * Returns 0, or -1 with err naming every missing variable or file (never
 * when dry_run). Also logs one error line per problem. May be called
 * again (tests): the previous table is freed. */
int backend_load_all(const struct hl_ruleset *rs, bool dry_run, char *err,
                     size_t errlen);
void backend_free_all(void);

/* The backend a step or notification uses: index into rs->backends, or
 * HL_NONE for the default backend of kind. NULL when none was loaded. */
const struct backend *backend_get(uint8_t kind, uint32_t index);

/* Appends healer_upstream_request_duration_seconds{backend,kind} of every
 * needed backend to a /metrics page. */
void backend_metrics_render(struct buf *out);

/* A field's value by name ("url", "token"), or NULL when unset. */
const char *backend_field(const struct backend *b, const char *name);

/* A field's value as it is now: a value that came from a file (file("p"),
 * PREFIX_FIELD_FILE) is read from it again, so a rotated token (a
 * Kubernetes service account's, refreshed by the kubelet) keeps working;
 * any other value is copied. Into out (outlen bytes); 0, or -1 when the
 * field is unset, the file cannot be read now (the value read at start-up
 * is then used: a file being replaced is briefly absent) or the value does
 * not fit. Safe from any thread. */
int backend_field_fresh(const struct backend *b, const char *name, char *out,
                        size_t outlen);

/* Replaces in s (NUL-terminated, edited in place) every occurrence of one
 * of b's secret values, and of the path of a secret URL (a Slack webhook),
 * with "***": for texts that quote a server's answer, which could echo
 * what it was sent. */
void backend_redact(const struct backend *b, char *s);

/* A description for messages: "jenkins backend 'ci' (rules/x.heal:6)" or
 * "default jenkins backend (HEALER_JENKINS_*)". Returns out. */
const char *backend_describe(const struct backend *b, char *out, size_t outlen);

/* A tag that identifies the remediation of one alert occurrence across
 * retries, restarts and replicas: the rule's name (a one-line rule's is
 * its identity, see LANGUAGE.md), the alert's fingerprint, startsAt and
 * status, hashed (FNV-1a 64), never the local id or clock, so two healers
 * that take the same alert compute the same tag. Safe in URLs, Jenkins
 * parameters, Kubernetes label values and Jira labels: 16 hex digits. */
#define BACKEND_TAG_MAX 40
const char *backend_rem_tag(const struct remediation *r,
                            char out[BACKEND_TAG_MAX]);

#endif
