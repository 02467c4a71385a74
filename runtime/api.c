/*
 * api.c - see api.h.
 */
#include "api.h"

#include <string.h>

#include "action.h"
#include "names.h"
#include "rem.h"
#include "render.h"
#include "rtime.h"
#include "worker.h"

static const char *backend_name(const struct hl_ruleset *rs, uint32_t b) {
  return b < rs->nbackends ? rs->backends[b].name : "default";
}

static void json_expr(struct buf *o, const struct hl_ruleset *rs, struct hl_expr e) {
  if (!e.count) {
    buf_puts(o, "null");
    return;
  }
  struct buf s;
  buf_init(&s);
  render_source(rs, e, &s);
  buf_json_str(o, s.data ? s.data : "");
  buf_free(&s);
}

void api_rules_json(const struct hl_ruleset *rs, struct buf *o) {
  buf_puts(o, "{\"generator\":");
  buf_json_str(o, rs->generator);
  buf_puts(o, ",\"digest\":");
  buf_json_str(o, rs->digest);
  buf_printf(o, ",\"abi\":%u,\"rules\":[", rs->abi_version);
  for (uint32_t i = 0; i < rs->nrules; i++) {
    const struct hl_rule *r = &rs->rules[i];
    if (i) buf_putc(o, ',');
    buf_puts(o, "{\"name\":");
    buf_json_str(o, r->name);
    struct buf src;
    buf_init(&src);
    buf_printf(&src, "%s:%u", r->file, r->line);
    buf_puts(o, ",\"source\":");
    buf_json_str(o, src.data);
    buf_free(&src);
    buf_puts(o, ",\"alerts\":[");
    for (uint32_t k = 0; k < r->nalerts; k++) {
      if (k) buf_putc(o, ',');
      buf_json_str(o, rs->alertnames[r->first_alert + k]);
    }
    buf_puts(o, "],\"alert_patterns\":[");
    for (uint32_t k = 0; k < r->npatterns; k++) {
      if (k) buf_putc(o, ',');
      buf_json_str(o, rs->name_patterns[r->first_pattern + k].regex);
    }
    buf_puts(o, "],\"status\":");
    buf_json_str(o, hl_status_word(r->status));
    buf_puts(o, ",\"matchers\":[");
    for (uint32_t k = 0; k < r->nmatchers; k++) {
      const struct hl_matcher *m = &rs->matchers[r->first_matcher + k];
      if (k) buf_putc(o, ',');
      buf_puts(o, "{\"on\":");
      buf_json_str(o, m->on == HL_ON_LABEL ? "label" : "annotation");
      buf_puts(o, ",\"name\":");
      buf_json_str(o, m->name);
      buf_puts(o, ",\"op\":");
      buf_json_str(o, hl_match_op_words[m->op & 3]);
      buf_puts(o, ",\"value\":");
      buf_json_str(o, m->value);
      buf_putc(o, '}');
    }
    buf_puts(o, "],\"actions\":[");
    for (uint32_t s = 0; s < r->nsteps; s++) {
      const struct hl_step *st = &rs->steps[r->first_step + s];
      char kind[REM_KIND_MAX];
      if (s) buf_putc(o, ',');
      buf_puts(o, "{\"kind\":");
      buf_json_str(o, rem_kind_name(st->action, kind));
      buf_puts(o, ",\"target\":");
      buf_json_str(o, st->target);
      /* A backend picked per alert: null, and the expression that names it. */
      buf_puts(o, ",\"backend\":");
      buf_json_str(o, st->backend_expr.count ? NULL : backend_name(rs, st->backend));
      buf_puts(o, ",\"backend_expr\":");
      json_expr(o, rs, st->backend_expr);
      buf_puts(o, ",\"params\":{");
      for (uint32_t p = 0; p < st->nparams; p++) {
        const struct hl_param *hp = &rs->params[st->first_param + p];
        if (p) buf_putc(o, ',');
        buf_json_str(o, hp->name);
        buf_putc(o, ':');
        json_expr(o, rs, hp->value);
      }
      /* The results that count as success, as the step sees them. */
      buf_puts(o, "},\"succeed_on\":[");
      uint32_t ok = action_result_mask(st->action, st->succeed_on);
      const char *sep = "";
      for (unsigned k = 0; k < action_result_count(st->action); k++)
        if (ok >> k & 1u) {
          buf_puts(o, sep);
          buf_json_str(o, action_result_name(st->action, k));
          sep = ",";
        }
      buf_puts(o, "]}");
    }
    buf_puts(o, "],\"notify\":[");
    for (uint32_t k = 0; k < r->nnotify; k++) {
      const struct hl_notify *n = &rs->notifies[r->first_notify + k];
      if (k) buf_putc(o, ',');
      buf_puts(o, "{\"on\":[");
      const char *sep = "";
      if (n->events & HL_EV_SUCCESS) { buf_printf(o, "%s\"success\"", sep); sep = ","; }
      if (n->events & HL_EV_FAILURE) { buf_printf(o, "%s\"failure\"", sep); sep = ","; }
      if (n->events & HL_EV_TIMEOUT) buf_printf(o, "%s\"timeout\"", sep);
      buf_puts(o, "],\"kind\":");
      buf_json_str(o, hl_backend_word(n->kind));
      buf_puts(o, ",\"target\":");
      buf_json_str(o, n->target);
      buf_puts(o, ",\"backend\":");
      buf_json_str(o, backend_name(rs, n->backend));
      buf_putc(o, '}');
    }
    buf_printf(o, "],\"options\":{\"dry_run\":%s,\"continue\":%s",
               r->flags & HL_RULE_DRY_RUN ? "true" : "false",
               r->flags & HL_RULE_CONTINUE ? "true" : "false");
    buf_printf(o, ",\"cooldown_ms\":%llu,\"cooldown_key\":",
               (unsigned long long)r->cooldown_ms);
    json_expr(o, rs, r->cooldown_key);
    buf_printf(o, ",\"timeout_ms\":%llu,\"retries\":%u,\"backoff_ms\":%llu",
               (unsigned long long)r->timeout_ms, workers_retries(r),
               (unsigned long long)r->backoff_ms);
    buf_printf(o, ",\"limit\":%u,\"limit_key\":", r->limit);
    json_expr(o, rs, r->limit_key);
    buf_printf(o, ",\"budget\":%u,\"budget_ms\":%llu,\"during\":", r->budget,
               (unsigned long long)r->budget_ms);
    buf_json_str(o, r->during != HL_NONE ? rs->windows[r->during].name : NULL);
    buf_puts(o, ",\"not_during\":");
    buf_json_str(o, r->not_during != HL_NONE ? rs->windows[r->not_during].name : NULL);
    buf_puts(o, "}}");
  }
  buf_puts(o, "]}");
}

void api_rules_text(const struct hl_ruleset *rs, FILE *out) {
  fprintf(out, "%u rules (%s, digest %s)\n", rs->nrules,
          rs->generator ? rs->generator : "?", rs->digest ? rs->digest : "?");
  for (uint32_t i = 0; i < rs->nrules; i++) {
    const struct hl_rule *r = &rs->rules[i];
    fprintf(out, "\n%s  (%s:%u)\n  when alert ", r->name, r->file, r->line);
    for (uint32_t k = 0; k < r->nalerts; k++)
      fprintf(out, "%s%s", k ? ", " : "", rs->alertnames[r->first_alert + k]);
    for (uint32_t k = 0; k < r->npatterns; k++)
      fprintf(out, "%s=~ \"%s\"", k || r->nalerts ? ", " : "",
              rs->name_patterns[r->first_pattern + k].regex);
    fprintf(out, "  status %s\n", hl_status_word(r->status));
    for (uint32_t k = 0; k < r->nmatchers; k++) {
      const struct hl_matcher *m = &rs->matchers[r->first_matcher + k];
      fprintf(out, "  %s %s %s \"%s\"\n", m->on == HL_ON_LABEL ? "labels" : "annotations",
              m->name, hl_match_op_words[m->op & 3], m->value);
    }
    for (uint32_t s = 0; s < r->nsteps; s++) {
      const struct hl_step *st = &rs->steps[r->first_step + s];
      char kind[REM_KIND_MAX];
      fprintf(out, "  run %s", rem_kind_name(st->action, kind));
      if (st->target) fprintf(out, " \"%s\"", st->target);
      if (st->backend_expr.count) {
        struct buf b;
        buf_init(&b);
        render_source(rs, st->backend_expr, &b);
        fprintf(out, " via %s", b.data ? b.data : "");
        buf_free(&b);
      } else if (st->backend != HL_NONE) {
        fprintf(out, " via %s", backend_name(rs, st->backend));
      }
      fputc('\n', out);
      for (uint32_t p = 0; p < st->nparams; p++) {
        const struct hl_param *hp = &rs->params[st->first_param + p];
        struct buf b;
        buf_init(&b);
        render_source(rs, hp->value, &b);
        fprintf(out, "    %s = %s\n", hp->name, b.data ? b.data : "");
        buf_free(&b);
      }
      /* What the rule's `succeed on` adds for this step, if anything. */
      uint32_t added = st->succeed_on & ~action_result_mask(st->action, 0);
      const char *sep = "    succeed on ";
      for (unsigned k = 0; k < action_result_count(st->action); k++)
        if (added >> k & 1u) {
          fprintf(out, "%s%s", sep, action_result_name(st->action, k));
          sep = ", ";
        }
      if (added) fputc('\n', out);
    }
    char d1[RTIME_BUFSZ];
    if (r->cooldown_ms) {
      struct buf b;
      buf_init(&b);
      render_source(rs, r->cooldown_key, &b);
      fprintf(out, "  cooldown %s%s%s\n", rtime_format_duration((int64_t)r->cooldown_ms, d1),
              b.len ? " per " : "", b.len ? b.data : "");
      buf_free(&b);
    }
    if (r->timeout_ms) fprintf(out, "  timeout %s\n", rtime_format_duration((int64_t)r->timeout_ms, d1));
    if (r->retries == HL_RETRY_DEFAULT) {
      fprintf(out, "  retry %u (default)\n", workers_retries(r));
    } else if (r->retries) {
      fprintf(out, "  retry %u", r->retries);
      if (r->backoff_ms)
        fprintf(out, " backoff %s", rtime_format_duration((int64_t)r->backoff_ms, d1));
      fputc('\n', out);
    }
    if (r->limit) {
      struct buf b;
      buf_init(&b);
      render_source(rs, r->limit_key, &b);
      fprintf(out, "  limit %u concurrent%s%s\n", r->limit, b.len ? " per " : "",
              b.len ? b.data : "");
      buf_free(&b);
    }
    if (r->budget)
      fprintf(out, "  at most %u per %s\n", r->budget,
              rtime_format_duration((int64_t)r->budget_ms, d1));
    if (r->during != HL_NONE) fprintf(out, "  during %s\n", rs->windows[r->during].name);
    if (r->not_during != HL_NONE)
      fprintf(out, "  not during %s\n", rs->windows[r->not_during].name);
    if (r->flags & HL_RULE_DRY_RUN) fprintf(out, "  dry-run\n");
    if (r->flags & HL_RULE_CONTINUE) fprintf(out, "  continue\n");
  }
}
