/*
 * cmd_explain.c - `healerc explain`: what the rules do with one alert, and
 * why.
 *
 *   healerc explain [--at TIME] [--format text|json] FILE... ALERT.json
 *
 * ALERT.json is one alert or a whole webhook payload (see tools/alerts.h).
 * For each alert, every rule that names it, in source order: matched (the
 * remediation it would run: steps, rendered parameters, the options that
 * would apply), skipped after matching (a missing label, no such backend,
 * outside its window), did not match (the first matcher that failed, the
 * value it saw), or not tried (an earlier rule matched: the first match
 * wins). The planning is the daemon's own (plan_alert), on an empty
 * decision state at --at (default: now).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "duration.h"
#include "names.h"
#include "rtime.h"
#include "sim.h"
#include "tool.h"

struct explain {
  const struct hl_ruleset *rs;
  struct sim *sim;
  int json;
  cJSON *out;                 /* json: the array of alerts */
};

/* The value a failed matcher saw, for "(env is "dev")". */
static const char *seen_value(const struct hl_matcher *m, const struct alert *a) {
  return m->on == HL_ON_LABEL ? alert_label(a, m->name) : alert_annotation(a, m->name);
}

/* The options of rule r that act on a remediation, in words. */
static void options_text(const struct hl_rule *r, const struct rem_draft *d,
                         const struct hl_ruleset *rs, char *out, size_t n) {
  char dur[HL_DURATION_BUFSZ], dur2[HL_DURATION_BUFSZ];
  size_t len = 0;
  out[0] = '\0';
#define ADD(...) \
  if (len < n) len += (size_t)snprintf(out + len, n - len, __VA_ARGS__)
  if (r->cooldown_ms) {
    ADD("%scooldown %s", len ? ", " : "", hl_format_duration(r->cooldown_ms, dur));
    if (r->cooldown_key.count && d && d->cooldown_key) ADD(" per \"%s\"", d->cooldown_key);
  }
  if (r->limit) {
    ADD("%slimit %u", len ? ", " : "", r->limit);
    if (r->limit_key.count && d && d->limit_key) ADD(" per \"%s\"", d->limit_key);
  }
  if (r->budget)
    ADD("%sbudget %u per %s", len ? ", " : "", r->budget, hl_format_duration(r->budget_ms, dur));
  if (r->timeout_ms) ADD("%stimeout %s", len ? ", " : "", hl_format_duration(r->timeout_ms, dur));
  if (r->retries != HL_RETRY_DEFAULT) {
    ADD("%sretry %u", len ? ", " : "", r->retries);
    if (r->backoff_ms) ADD(" backoff %s", hl_format_duration(r->backoff_ms, dur));
  }
  if (r->during != HL_NONE) ADD("%sduring %s", len ? ", " : "", rs->windows[r->during].name);
  if (r->not_during != HL_NONE)
    ADD("%snot during %s", len ? ", " : "", rs->windows[r->not_during].name);
  if (r->breaker_failures)
    ADD("%sstop after %u failures in %s", len ? ", " : "", r->breaker_failures,
        hl_format_duration(r->breaker_ms, dur2));
  if (r->flags & HL_RULE_DRY_RUN) ADD("%sdry-run", len ? ", " : "");
  if (r->flags & HL_RULE_CONTINUE) ADD("%scontinue", len ? ", " : "");
#undef ADD
}

/* What happened to rule ri: its plan step, or NULL when it was not tried. */
static const struct plan_step *step_of(const struct plan *p, uint32_t ri) {
  for (size_t i = 0; i < p->nsteps; i++)
    if (p->steps[i].rule == ri) return &p->steps[i];
  return NULL;
}

static const struct sim_outcome *outcome_of(const struct sim *s, uint32_t ri) {
  for (size_t i = 0; i < s->nout; i++)
    if (s->out[i].rule == ri) return &s->out[i];
  return NULL;
}

/* The result of one rule, as a word and a reason. */
static const char *verdict(const struct explain *x, const struct alert *a, uint32_t ri,
                           char *why, size_t n) {
  const struct plan_step *st = step_of(&x->sim->plan, ri);
  const struct sim_outcome *o = outcome_of(x->sim, ri);
  why[0] = '\0';
  if (!st) return "not tried";
  if (o && o->kind == SIM_RUN) return "matched";
  if (o) {
    snprintf(why, n, "%s", o->why);
    return st->kind == PLAN_ERROR ? "error" : "skipped";
  }
  if (st->mr == MATCH_STATUS) {
    snprintf(why, n, "acts on %s alerts, this one is %s",
             hl_status_word(x->rs->rules[ri].status), hl_status_word(a->status));
    return "no match";
  }
  char buf[400];
  const char *r = plan_miss_reason(x->rs, st, buf, sizeof buf);
  if (st->mr == MATCH_MATCHER) {
    const struct hl_matcher *m = &x->rs->matchers[st->failed];
    const char *v = seen_value(m, a);
    if (v) snprintf(why, n, "%s (%s is \"%.200s\")", r, m->name, v);
    else snprintf(why, n, "%s (%s is absent)", r, m->name);
  } else {
    snprintf(why, n, "%s", r);
  }
  return "no match";
}

static void text_alert(const struct explain *x, const struct alert *a, int64_t at_ms) {
  char t[40], why[600], words[300], opts[600];
  printf("alert %s (%s, fingerprint %s, at %s)\n", a->alertname, hl_status_word(a->status),
         a->fingerprint, tool_format_time(at_ms, t));
  printf("  labels:");
  for (size_t i = 0; i < a->nlabels; i++) {
    printf(" %s=", a->labels[i].name);
    tool_put_quoted(stdout, a->labels[i].value);
  }
  printf("\n");
  struct match_iter it;
  match_iter_init(&it, &x->sim->rules, a->alertname, x->sim->md);
  unsigned n = 0;
  const char *winner = NULL;
  for (uint32_t ri; (ri = match_iter_next(&it)) != HL_NONE;) {
    const struct hl_rule *r = &x->rs->rules[ri];
    const char *v = verdict(x, a, ri, why, sizeof why);
    printf("  %u. %s:%u %s: %s%s%s\n", ++n, r->file, r->line, r->name, v, *why ? ": " : "",
           why);
    if (strcmp(v, "not tried") == 0 && winner)
      printf("       (%s matched first; rules after it are tried only with `continue`)\n",
             winner);
    const struct plan_step *st = step_of(&x->sim->plan, ri);
    if (!st || (st->kind != PLAN_RUN && st->kind != PLAN_SKIP)) continue;
    if (st->kind == PLAN_RUN && !winner) winner = r->name;
    for (uint32_t s = 0; s < st->d.nsteps; s++) {
      const struct rem_step *rs = &st->d.steps[s];
      printf("       run %s", tool_step_words(rs, words, sizeof words));
      if (rs->backend != HL_NONE) printf(" via %s", x->rs->backends[rs->backend].name);
      printf("\n");
      for (uint32_t k = 0; k < rs->nparams; k++) {
        printf("         %s = ", rs->params[k].name);
        tool_put_quoted(stdout, rs->params[k].value);
        printf("\n");
      }
    }
    options_text(r, &st->d, x->rs, opts, sizeof opts);
    if (*opts) printf("       options: %s\n", opts);
  }
  if (!n) printf("  no rule names alert %s\n", a->alertname);
  char buf[300];
  if (winner) printf("  => runs %s\n", winner);
  else printf("  => nothing runs: %s\n", plan_no_match(&x->sim->plan, buf, sizeof buf));
}

static void json_alert(const struct explain *x, const struct alert *a, int64_t at_ms) {
  char t[40], why[600], words[300], opts[600];
  cJSON *o = cJSON_CreateObject(), *labels = cJSON_CreateObject(), *rules = cJSON_CreateArray();
  cJSON_AddStringToObject(o, "alertname", a->alertname);
  cJSON_AddStringToObject(o, "status", hl_status_word(a->status));
  cJSON_AddStringToObject(o, "fingerprint", a->fingerprint);
  cJSON_AddStringToObject(o, "at", tool_format_time(at_ms, t));
  for (size_t i = 0; i < a->nlabels; i++)
    cJSON_AddStringToObject(labels, a->labels[i].name, a->labels[i].value);
  cJSON_AddItemToObject(o, "labels", labels);
  cJSON_AddItemToObject(o, "rules", rules);
  struct match_iter it;
  match_iter_init(&it, &x->sim->rules, a->alertname, x->sim->md);
  const char *winner = NULL;
  for (uint32_t ri; (ri = match_iter_next(&it)) != HL_NONE;) {
    const struct hl_rule *r = &x->rs->rules[ri];
    cJSON *jr = cJSON_CreateObject();
    cJSON_AddItemToArray(rules, jr);
    cJSON_AddStringToObject(jr, "rule", r->name);
    cJSON_AddStringToObject(jr, "file", r->file);
    cJSON_AddNumberToObject(jr, "line", r->line);
    const char *v = verdict(x, a, ri, why, sizeof why);
    cJSON_AddStringToObject(jr, "result", v);
    const struct sim_outcome *oc = outcome_of(x->sim, ri);
    if (oc && oc->kind == SIM_SKIP) cJSON_AddStringToObject(jr, "skip", oc->skip);
    if (*why) cJSON_AddStringToObject(jr, "reason", why);
    const struct plan_step *st = step_of(&x->sim->plan, ri);
    if (!st || (st->kind != PLAN_RUN && st->kind != PLAN_SKIP)) continue;
    if (st->kind == PLAN_RUN && !winner) winner = r->name;
    cJSON *steps = cJSON_AddArrayToObject(jr, "steps");
    for (uint32_t s = 0; s < st->d.nsteps; s++) {
      const struct rem_step *rs = &st->d.steps[s];
      cJSON *js = cJSON_CreateObject(), *params = cJSON_CreateObject();
      cJSON_AddItemToArray(steps, js);
      cJSON_AddStringToObject(js, "run", tool_step_words(rs, words, sizeof words));
      if (rs->backend != HL_NONE)
        cJSON_AddStringToObject(js, "backend", x->rs->backends[rs->backend].name);
      for (uint32_t k = 0; k < rs->nparams; k++)
        cJSON_AddStringToObject(params, rs->params[k].name, rs->params[k].value);
      cJSON_AddItemToObject(js, "params", params);
    }
    options_text(r, &st->d, x->rs, opts, sizeof opts);
    if (*opts) cJSON_AddStringToObject(jr, "options", opts);
  }
  if (winner) cJSON_AddStringToObject(o, "runs", winner);
  else cJSON_AddNullToObject(o, "runs");
  cJSON_AddItemToArray(x->out, o);
}

int cmd_explain(int argc, char **argv) {
  const char *at = NULL;
  int json = 0;
  char **files = calloc((size_t)argc, sizeof *files);
  uint32_t nfiles = 0;
  if (!files) return EXIT_USAGE;
  int status = EXIT_USAGE;
  for (int i = 1; i < argc; i++) {
    const char *v;
    int missing = 0;
    if ((v = cli_opt_value(argc, argv, &i, "--at", &missing)) || missing) {
      if (!v) goto need_value;
      at = v;
    } else if ((v = cli_opt_value(argc, argv, &i, "--format", &missing)) || missing) {
      if (!v || (strcmp(v, "text") != 0 && strcmp(v, "json") != 0)) {
        status = cli_usage_error("--format takes text or json%s%s%s", v ? ", not '" : "",
                                 v ? v : "", v ? "'" : "");
        goto done;
      }
      json = strcmp(v, "json") == 0;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      status = cli_usage_error("unknown option '%s'", argv[i]);
      goto done;
    } else {
      files[nfiles++] = argv[i];
    }
    continue;
  need_value:
    status = cli_usage_error("%s needs a value", argv[i]);
    goto done;
  }
  if (nfiles < 2) {
    status = cli_usage_error("%s", "explain needs rule files and an alert: FILE... ALERT.json");
    goto done;
  }
  int64_t at_ms = rtime_now_ms();
  if (at && tool_parse_time(at, &at_ms) != 0) {
    status = cli_usage_error("--at takes an RFC 3339 time (2026-12-04T10:00:00Z), not '%s'", at);
    goto done;
  }
  const char *alert_path = files[--nfiles];

  struct tool_rules tr;
  status = tool_rules_load(&tr, files, nfiles);
  if (status != EXIT_OK) goto free_rules;
  struct source src;
  if (cli_read_file(&tr.cr.p.arena, alert_path, &src) != 0) {
    fprintf(stderr, "healerc: error: cannot read '%s': %s\n", alert_path, strerror(errno));
    status = EXIT_USAGE;
    goto free_rules;
  }
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(src.text, src.len, &end, 0);
  if (!root) {
    size_t off = end ? (size_t)(end - src.text) : 0;
    fprintf(stderr, "%s: error: not JSON (at byte %zu)\n", alert_path, off);
    status = EXIT_RULES;
    goto free_rules;
  }
  struct bump arena;
  bump_init(&arena, 1 << 14);
  struct payload pl;
  char err[300];
  struct sim sim;
  if (tool_alerts_decode(root, at_ms, &arena, &pl, err, sizeof err) != 0) {
    fprintf(stderr, "%s: error: not an alert or a webhook payload: %s\n", alert_path, err);
    status = EXIT_RULES;
  } else if (sim_init(&sim, &tr.t.rs, err, sizeof err) != 0) {
    fprintf(stderr, "healerc: error: %s\n", err);
    status = EXIT_RULES;
  } else {
    struct explain x = {&tr.t.rs, &sim, json, json ? cJSON_CreateArray() : NULL};
    for (size_t i = 0; i < pl.nalerts && status == EXIT_OK; i++) {
      if (sim_alert(&sim, &pl.alerts[i], at_ms) != 0) {
        fprintf(stderr, "healerc: error: out of memory\n");
        status = EXIT_USAGE;
        break;
      }
      if (json) json_alert(&x, &pl.alerts[i], at_ms);
      else {
        if (i) printf("\n");
        text_alert(&x, &pl.alerts[i], at_ms);
      }
    }
    if (json && status == EXIT_OK) {
      char *text = cJSON_Print(x.out);
      if (text) puts(text);
      cJSON_free(text);
    }
    cJSON_Delete(x.out);
    sim_free(&sim);
  }
  bump_free(&arena);
  cJSON_Delete(root);
free_rules:
  tool_rules_free(&tr);
done:
  free(files);
  return status;
}
