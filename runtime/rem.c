/*
 * rem.c - see rem.h.
 */
#include "rem.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "names.h"

static const char *const state_names[REM__COUNT] = {
#define REM_X(id, name) [REM_##id] = name,
    REM_STATES(REM_X)
#undef REM_X
};

const char *rem_state_name(enum rem_state s) {
  return s < REM__COUNT ? state_names[s] : "?";
}

bool rem_state_final(enum rem_state s) { return s >= REM_SUCCEEDED && s < REM__COUNT; }

const char *rem_kind_name(uint8_t kind, char out[REM_KIND_MAX]) {
  if (kind >= HL_ACT__COUNT) snprintf(out, REM_KIND_MAX, "?");
  else if (hl_action_verbs[kind])
    snprintf(out, REM_KIND_MAX, "%s %s", hl_action_words[kind], hl_action_verbs[kind]);
  else snprintf(out, REM_KIND_MAX, "%s", hl_action_words[kind]);
  return out;
}

struct remediation *rem_of_item(struct queue_item *it) {
  return (struct remediation *)((char *)it - offsetof(struct remediation, qi));
}

static size_t slen(const char *s) { return s ? strlen(s) + 1 : 0; }

/* Copies s into the blob at *p; NULL stays NULL. */
static const char *put(char **p, const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  memcpy(*p, s, n);
  const char *r = *p;
  *p += n;
  return r;
}

/* rem_new(), copying the borrowed names too when copy is set. */
static struct remediation *make(const struct rem_draft *d, uint64_t id,
                                enum rem_state st, const char *reason,
                                int64_t now_ms, bool copy) {
  const struct alert *a = d->alert;
  size_t nparams = 0, strings = 0;
  for (uint32_t i = 0; i < d->nsteps; i++) {
    nparams += d->steps[i].nparams;
    if (copy) strings += slen(d->steps[i].target);
    for (uint32_t k = 0; k < d->steps[i].nparams; k++)
      strings += slen(d->steps[i].params[k].value) +
                 (copy ? slen(d->steps[i].params[k].name) : 0);
  }
  strings += slen(a->alertname) + slen(a->fingerprint) + slen(a->starts_at) +
             slen(d->cooldown_key) + slen(d->limit_key) +
             (copy ? slen(d->rule_name) : 0);
  size_t size = sizeof(struct remediation) + d->nsteps * sizeof(struct rem_step) +
                nparams * sizeof(struct rem_param) + strings;
  struct remediation *r = calloc(1, size);
  if (!r) return NULL;
  struct rem_step *steps = (struct rem_step *)(r + 1);
  struct rem_param *params = (struct rem_param *)(steps + d->nsteps);
  char *p = (char *)(params + nparams);
  r->id = id;
  r->rule = d->rule;
  r->rule_name = copy ? put(&p, d->rule_name) : d->rule_name;
  r->alertname = put(&p, a->alertname);
  r->fingerprint = put(&p, a->fingerprint);
  r->starts_at = put(&p, a->starts_at);
  r->alert_status = a->status;
  r->dry_run = d->dry_run;
  r->nsteps = d->nsteps;
  r->steps = d->nsteps ? steps : NULL;
  for (uint32_t i = 0; i < d->nsteps; i++) {
    steps[i] = d->steps[i];
    if (copy) steps[i].target = put(&p, d->steps[i].target);
    steps[i].params = d->steps[i].nparams ? params : NULL;
    for (uint32_t k = 0; k < d->steps[i].nparams; k++) {
      params->name = copy ? put(&p, d->steps[i].params[k].name) : d->steps[i].params[k].name;
      params->value = put(&p, d->steps[i].params[k].value);
      params++;
    }
  }
  r->cooldown_key = put(&p, d->cooldown_key);
  r->limit_key = put(&p, d->limit_key);
  r->created_ms = r->updated_ms = now_ms;
  r->state = st;
  snprintf(r->reason, sizeof r->reason, "%s", reason ? reason : "");
  atomic_init(&r->refs, 1);
  return r;
}

struct remediation *rem_new(const struct rem_draft *d, uint64_t id,
                            enum rem_state st, const char *reason,
                            int64_t now_ms) {
  return make(d, id, st, reason, now_ms, false);
}

struct remediation *rem_new_copy(const struct rem_draft *d, uint64_t id,
                                 enum rem_state st, const char *reason,
                                 int64_t now_ms) {
  return make(d, id, st, reason, now_ms, true);
}

void rem_ref(struct remediation *r) {
  atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
}

void rem_unref(struct remediation *r) {
  if (r && atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1) {
    free(r->resume_token);
    free(r);
  }
}
