/*
 * test_tables.c - links the tables healerc generates from
 * tests/codegen/tables.heal and checks what they hold, the way the runtime
 * will read them: rows, ranges, postfix code, and lookup by alert name.
 *
 * Build (mk/tests.mk does this):
 *   healerc compile tests/codegen/tables.heal -o build/tests/codegen/tables.c
 *   cc -Icore -std=c11 -Wall -Wextra -Werror -pedantic -c tables.c
 *   cc -Icore ... tests/codegen/test_tables.c tables.o -lcmocka
 *
 * Line numbers below are those of tables.heal: change both together.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "abi.h"

#define FILE_NAME "tests/codegen/tables.heal"

static const struct hl_ruleset *rs = &hl_ruleset;

static const char *const func_names[] = {
#define HL_FUNC(id, name, nargs, summary) name,
#include "functions.def"
};
static const int func_nargs[] = {
#define HL_FUNC(id, name, nargs, summary) nargs,
#include "functions.def"
};
static const char *const field_names[] = {
#define HL_X(id, name) name,
    HL_ALERT_FIELDS(HL_X)
#undef HL_X
};

/* ---- helpers ------------------------------------------------------------- */

static const struct hl_rule *rule_named(const char *name) {
  for (uint32_t i = 0; i < rs->nrules; i++)
    if (strcmp(rs->rules[i].name, name) == 0)
      return &rs->rules[i];
  fail_msg("no rule %s", name);
  return NULL;
}

/* The rules for an alert name, found by binary search over the index, as
 * the runtime does. Returns the count and sets *first (into index_rules). */
static uint32_t lookup(const char *alertname, uint32_t *first) {
  uint32_t lo = 0, hi = rs->nindex;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int c = strcmp(alertname, rs->index[mid].alertname);
    if (c == 0) {
      *first = rs->index[mid].first;
      return rs->index[mid].count;
    }
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  *first = 0;
  return 0;
}

/* The rule names for an alert name, comma-separated, in index order. */
static const char *rules_for(const char *alertname) {
  static char buf[512];
  uint32_t first, n = lookup(alertname, &first);
  buf[0] = '\0';
  for (uint32_t i = 0; i < n; i++) {
    uint32_t r = rs->index_rules[first + i];
    assert_true(r < rs->nrules);
    if (i)
      strcat(buf, ",");
    strcat(buf, rs->rules[r].name);
  }
  return buf;
}

/* Postfix code in a readable form: 'lit' $label $annotations.x
 * $alert.field fn() concat/N ??. */
static const char *disasm(struct hl_expr e) {
  static char buf[1024];
  size_t len = 0;
  buf[0] = '\0';
  assert_true(e.first <= rs->ninsns && e.count <= rs->ninsns - e.first);
  for (uint32_t i = e.first; i < e.first + e.count; i++) {
    const struct hl_insn *in = &rs->insns[i];
    const char *sep = len ? " " : "";
    switch (in->op) {
    case HL_OP_LIT:
      len += (size_t)snprintf(buf + len, sizeof buf - len, "%s'%s'", sep, in->str);
      break;
    case HL_OP_LABEL:
      len += (size_t)snprintf(buf + len, sizeof buf - len, "%s$%s", sep, in->str);
      break;
    case HL_OP_ANNOTATION:
      len += (size_t)snprintf(buf + len, sizeof buf - len, "%s$annotations.%s", sep, in->str);
      break;
    case HL_OP_FIELD:
      assert_true(in->arg < HL_FIELD__COUNT);
      assert_null(in->str);
      len += (size_t)snprintf(buf + len, sizeof buf - len, "%s$alert.%s", sep,
                              field_names[in->arg]);
      break;
    case HL_OP_CALL:
      assert_true(in->arg < HL_FN__COUNT);
      len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s()", sep, func_names[in->arg]);
      break;
    case HL_OP_CONCAT:
      len += (size_t)snprintf(buf + len, sizeof buf - len, "%sconcat/%u", sep, in->arg);
      break;
    case HL_OP_DEFAULT:
      len += (size_t)snprintf(buf + len, sizeof buf - len, "%s??", sep);
      break;
    default:
      fail_msg("bad opcode %u at %u", in->op, i);
    }
    assert_true(len < sizeof buf);
  }
  return buf;
}

/* The code of parameter name of a step. */
static const char *param(const struct hl_step *s, const char *name) {
  for (uint32_t i = s->first_param; i < s->first_param + s->nparams; i++)
    if (strcmp(rs->params[i].name, name) == 0)
      return disasm(rs->params[i].value);
  fail_msg("no parameter %s", name);
  return NULL;
}

/* ---- a tiny evaluator, as the runtime will run the code ------------------- */

struct kv {
  const char *k, *v;
};
struct alert {
  const struct kv *labels, *annotations;
  const char *fields[HL_FIELD__COUNT];
};

static const char *get(const struct kv *kv, const char *k) {
  for (; kv && kv->k; kv++)
    if (strcmp(kv->k, k) == 0)
      return kv->v;
  return NULL;
}

/* Evaluates e for a; returns the value in out, or NULL when absent. */
static const char *eval(struct hl_expr e, const struct alert *a, char out[256]) {
  char stack[16][256];
  int absent[16], sp = 0;
  for (uint32_t i = e.first; i < e.first + e.count; i++) {
    const struct hl_insn *in = &rs->insns[i];
    const char *v = NULL;
    int n = 0;
    switch (in->op) {
    case HL_OP_LIT:
      v = in->str;
      break;
    case HL_OP_LABEL:
      v = get(a->labels, in->str);
      break;
    case HL_OP_ANNOTATION:
      v = get(a->annotations, in->str);
      break;
    case HL_OP_FIELD:
      v = a->fields[in->arg];
      break;
    case HL_OP_DEFAULT:
      assert_true(sp >= 2);
      sp--;
      if (absent[sp - 1]) {
        memcpy(stack[sp - 1], stack[sp], sizeof stack[sp]);
        absent[sp - 1] = absent[sp];
      }
      continue;
    case HL_OP_CONCAT:
    case HL_OP_CALL: {
      n = in->op == HL_OP_CONCAT ? in->arg : func_nargs[in->arg];
      assert_true(sp >= n);
      char r[256] = "";
      int missing = 0;
      sp -= n;
      for (int k = 0; k < n; k++)
        missing |= absent[sp + k];
      if (!missing && in->op == HL_OP_CONCAT) {
        for (int k = 0; k < n; k++)
          strcat(r, stack[sp + k]);
      } else if (!missing) {
        const char *s = stack[sp];
        size_t sl = strlen(s);
        switch (in->arg) {
        case HL_FN_HOST: {
          const char *colon = strrchr(s, ':');
          snprintf(r, sizeof r, "%.*s", (int)(colon ? (size_t)(colon - s) : sl), s);
          break;
        }
        case HL_FN_LOWER:
        case HL_FN_UPPER:
          for (size_t k = 0; k <= sl; k++)
            r[k] = (char)(in->arg == HL_FN_LOWER ? (s[k] >= 'A' && s[k] <= 'Z' ? s[k] + 32 : s[k])
                                                 : (s[k] >= 'a' && s[k] <= 'z' ? s[k] - 32 : s[k]));
          break;
        case HL_FN_TRIM_PREFIX: {
          size_t pl = strlen(stack[sp + 1]);
          strcpy(r, strncmp(s, stack[sp + 1], pl) == 0 ? s + pl : s);
          break;
        }
        case HL_FN_TRIM_SUFFIX: {
          size_t pl = strlen(stack[sp + 1]);
          snprintf(r, sizeof r, "%.*s",
                   (int)(sl >= pl && strcmp(s + sl - pl, stack[sp + 1]) == 0 ? sl - pl : sl), s);
          break;
        }
        case HL_FN_REPLACE: { /* single-character a and b suffice here */
          strcpy(r, s);
          for (char *c = r; *c; c++)
            if (*c == stack[sp + 1][0])
              *c = stack[sp + 2][0];
          break;
        }
        default:
          fail_msg("function %u", in->arg);
        }
      }
      strcpy(stack[sp], r);
      absent[sp++] = missing;
      continue;
    }
    default:
      fail_msg("bad opcode");
    }
    assert_true(sp < 16);
    absent[sp] = v == NULL;
    snprintf(stack[sp++], 256, "%s", v ? v : "");
  }
  assert_int_equal(sp, 1);
  if (absent[0])
    return NULL;
  strcpy(out, stack[0]);
  return out;
}

/* ---- the tests ----------------------------------------------------------- */

static void test_header(void **state) {
  (void)state;
  assert_int_equal(rs->abi_version, HL_ABI_VERSION);
  assert_int_equal(strncmp(rs->generator, "healerc ", 8), 0);
#ifdef HEALER_VERSION
  assert_string_equal(rs->generator, "healerc " HEALER_VERSION);
#endif
  assert_int_equal(strlen(rs->digest), 16);
  assert_int_equal(strspn(rs->digest, "0123456789abcdef"), 16);
}

static void test_counts(void **state) {
  (void)state;
  assert_int_equal(rs->nrules, 3);
  assert_int_equal(rs->nalertnames, 6);
  assert_int_equal(rs->nmatchers, 10);
  assert_int_equal(rs->nparams, 15);
  assert_int_equal(rs->nsteps, 4);
  assert_int_equal(rs->nnotifies, 3);
  assert_int_equal(rs->nwindows, 3);
  assert_int_equal(rs->nbackends, 2);
  assert_int_equal(rs->nfields, 4);
  assert_int_equal(rs->nindex, 4);
  assert_int_equal(rs->nindex_rules, 6);
}

/* Every range points inside its table; every expression leaves exactly one
 * value on the stack and never pops what is not there. */
static void check_expr(struct hl_expr e) {
  assert_true(e.first <= rs->ninsns && e.count <= rs->ninsns - e.first);
  int depth = 0;
  for (uint32_t i = e.first; i < e.first + e.count; i++) {
    const struct hl_insn *in = &rs->insns[i];
    switch (in->op) {
    case HL_OP_LIT:
    case HL_OP_LABEL:
    case HL_OP_ANNOTATION:
      assert_non_null(in->str);
      depth++;
      break;
    case HL_OP_FIELD:
      assert_true(in->arg < HL_FIELD__COUNT);
      depth++;
      break;
    case HL_OP_CALL:
      assert_true(in->arg < HL_FN__COUNT);
      assert_true(depth >= func_nargs[in->arg]);
      depth -= func_nargs[in->arg] - 1;
      break;
    case HL_OP_CONCAT:
      assert_true(in->arg >= 1 && depth >= in->arg);
      depth -= in->arg - 1;
      break;
    case HL_OP_DEFAULT:
      assert_true(depth >= 2);
      depth--;
      break;
    default:
      fail_msg("bad opcode %u", in->op);
    }
  }
  assert_int_equal(depth, e.count ? 1 : 0);
}

static void test_ranges(void **state) {
  (void)state;
  for (uint32_t r = 0; r < rs->nrules; r++) {
    const struct hl_rule *ru = &rs->rules[r];
    assert_true(ru->first_alert + ru->nalerts <= rs->nalertnames);
    assert_true(ru->first_matcher + ru->nmatchers <= rs->nmatchers);
    assert_true(ru->first_step + ru->nsteps <= rs->nsteps);
    assert_true(ru->first_notify + ru->nnotify <= rs->nnotifies);
    assert_true(ru->nalerts >= 1 && ru->nsteps >= 1);
    assert_true(ru->during == HL_NONE || ru->during < rs->nwindows);
    assert_true(ru->not_during == HL_NONE || ru->not_during < rs->nwindows);
    check_expr(ru->cooldown_key);
    check_expr(ru->limit_key);
  }
  for (uint32_t s = 0; s < rs->nsteps; s++) {
    assert_true(rs->steps[s].action < HL_ACT__COUNT);
    assert_true(rs->steps[s].backend == HL_NONE || rs->steps[s].backend < rs->nbackends);
    assert_true(rs->steps[s].first_param + rs->steps[s].nparams <= rs->nparams);
  }
  for (uint32_t p = 0; p < rs->nparams; p++) {
    assert_true(rs->params[p].value.count > 0);
    check_expr(rs->params[p].value);
  }
  for (uint32_t n = 0; n < rs->nnotifies; n++)
    assert_true(rs->notifies[n].backend == HL_NONE || rs->notifies[n].backend < rs->nbackends);
  for (uint32_t b = 0; b < rs->nbackends; b++)
    assert_true(rs->backends[b].first_field + rs->backends[b].nfields <= rs->nfields);
  /* The tables are laid out in source order, without gaps. */
  uint32_t next_alert = 0, next_matcher = 0, next_step = 0;
  for (uint32_t r = 0; r < rs->nrules; r++) {
    assert_int_equal(rs->rules[r].first_alert, next_alert);
    assert_int_equal(rs->rules[r].first_matcher, next_matcher);
    assert_int_equal(rs->rules[r].first_step, next_step);
    next_alert += rs->rules[r].nalerts;
    next_matcher += rs->rules[r].nmatchers;
    next_step += rs->rules[r].nsteps;
  }
  assert_int_equal(next_alert, rs->nalertnames);
  assert_int_equal(next_matcher, rs->nmatchers);
  assert_int_equal(next_step, rs->nsteps);
}

static void test_rules(void **state) {
  (void)state;
  static const struct {
    const char *name;
    uint32_t line;
  } want[] = {{"tables#", 20}, {"prune_docker_images", 22}, {"announce", 45}};
  for (uint32_t i = 0; i < 3; i++) {
    /* A one-line rule: "<stem>#<identity>" (8 hex digits). */
    if (i == 0) {
      assert_int_equal(strlen(rs->rules[i].name), strlen("tables#") + 8);
      assert_memory_equal(rs->rules[i].name, want[i].name, strlen(want[i].name));
      assert_string_equal(rs->rules[i].former_name, "tables:20");
    } else {
      assert_string_equal(rs->rules[i].name, want[i].name);
      assert_null(rs->rules[i].former_name);
    }
    assert_string_equal(rs->rules[i].file, FILE_NAME);
    assert_int_equal(rs->rules[i].line, want[i].line);
  }
  const struct hl_rule *r = &rs->rules[1];
  assert_int_equal(r->nalerts, 2);
  assert_string_equal(rs->alertnames[r->first_alert], "NodeDiskPressure");
  assert_string_equal(rs->alertnames[r->first_alert + 1], "DiskFull");
  r = &rs->rules[2];
  assert_int_equal(r->nalerts, 3);
  assert_string_equal(rs->alertnames[r->first_alert], "Disk Full (legacy)");
  assert_string_equal(rs->alertnames[r->first_alert + 1], "AAA_first");
  assert_string_equal(rs->alertnames[r->first_alert + 2], "DiskFull");
}

static void test_flags_and_status(void **state) {
  (void)state;
  assert_int_equal(rs->rules[0].flags, 0);
  assert_int_equal(rs->rules[0].status, HL_STATUS_FIRING); /* the default */
  assert_int_equal(rule_named("prune_docker_images")->flags, HL_RULE_DRY_RUN | HL_RULE_CONTINUE);
  assert_int_equal(rule_named("prune_docker_images")->status, HL_STATUS_FIRING);
  assert_int_equal(rule_named("announce")->flags, 0);
  assert_int_equal(rule_named("announce")->status, HL_STATUS_ANY);
}

static void test_matchers(void **state) {
  (void)state;
  static const struct hl_matcher want[] = {
      {HL_ON_LABEL, HL_MATCH_EQ, "env", "prod"},
      {HL_ON_LABEL, HL_MATCH_RE, "instance", ".+:\\d+"},
      {HL_ON_LABEL, HL_MATCH_NE, "team", "db"},
      {HL_ON_LABEL, HL_MATCH_NRE, "role", "canary|test"},
      {HL_ON_ANNOTATION, HL_MATCH_RE, "runbook", "https://.+"},
  };
  const struct hl_rule *r = rule_named("prune_docker_images");
  assert_int_equal(r->nmatchers, 5);
  for (uint32_t i = 0; i < 5; i++) {
    const struct hl_matcher *m = &rs->matchers[r->first_matcher + i];
    assert_int_equal(m->on, want[i].on);
    assert_int_equal(m->op, want[i].op);
    assert_string_equal(m->name, want[i].name);
    assert_string_equal(m->value, want[i].value);
  }
  r = &rs->rules[0];
  assert_int_equal(r->nmatchers, 2);
  assert_string_equal(rs->matchers[r->first_matcher].name, "env");
  assert_string_equal(rs->matchers[r->first_matcher].value, "dev");
}

static void test_durations(void **state) {
  (void)state;
  const struct hl_rule *r = &rs->rules[0];
  assert_int_equal(r->cooldown_ms, 30 * 60 * 1000);
  assert_int_equal(r->cooldown_key.count, 0); /* default key */
  assert_int_equal(r->timeout_ms, 0);
  assert_int_equal(r->retries, HL_RETRY_DEFAULT); /* no `retry`: the default */
  assert_int_equal(r->limit, 0);
  assert_int_equal(r->budget, 0);
  assert_int_equal(r->during, HL_NONE);
  assert_int_equal(r->not_during, HL_NONE);
  assert_int_equal(rs->steps[r->first_step].succeed_on, 0); /* defaults */

  r = rule_named("prune_docker_images");
  assert_int_equal(r->cooldown_ms, (60 + 30) * 60 * 1000);
  assert_string_equal(disasm(r->cooldown_key), "$instance");
  assert_int_equal(r->timeout_ms, 20 * 60 * 1000);
  assert_int_equal(r->retries, 3);
  assert_int_equal(r->backoff_ms, 30 * 1000);
  assert_int_equal(r->limit, 2);
  assert_string_equal(disasm(r->limit_key), "$cluster 'all' ??");
  assert_int_equal(r->budget, 5);
  assert_int_equal(r->budget_ms, 60 * 60 * 1000);

  r = rule_named("announce");
  assert_int_equal(r->cooldown_ms, 0);
  assert_int_equal(r->retries, 2);
  assert_int_equal(r->backoff_ms, 0); /* retry without backoff */
  assert_int_equal(r->limit_key.count, 0);
  /* succeed on unstable, on the step: any case, and SUCCESS (bit 0, the
   * first JENKINS result of actions.def) counts all the same; UNSTABLE is
   * bit 1. */
  assert_int_equal(rs->steps[r->first_step].succeed_on, 1u << 0 | 1u << 1);
}

static void test_steps_and_params(void **state) {
  (void)state;
  const struct hl_step *s = &rs->steps[rs->rules[0].first_step];
  assert_int_equal(rs->rules[0].nsteps, 1);
  assert_int_equal(s->action, HL_ACT_JENKINS);
  assert_int_equal(s->backend, HL_NONE);
  assert_string_equal(s->target, "DockerPruneNode");
  assert_int_equal(s->nparams, 1);
  assert_string_equal(param(s, "node"), "$instance");

  const struct hl_rule *r = rule_named("prune_docker_images");
  assert_int_equal(r->nsteps, 2);
  s = &rs->steps[r->first_step];
  assert_int_equal(s->action, HL_ACT_JENKINS);
  assert_int_not_equal(s->backend, HL_NONE);
  assert_string_equal(rs->backends[s->backend].name, "ci");
  assert_string_equal(s->target, "infra/DockerPruneNode");
  assert_int_equal(s->nparams, 3);
  assert_string_equal(rs->params[s->first_param].name, "node"); /* source order */
  assert_string_equal(param(s, "node"), "$instance host()");
  assert_string_equal(param(s, "cluster"), "$cluster 'unknown' ??");
  assert_string_equal(param(s, "mode"), "'aggressive'");
  s++;
  assert_int_equal(s->action, HL_ACT_K8S_CORDON);
  assert_int_equal(s->backend, HL_NONE);
  assert_null(s->target);
  assert_int_equal(s->nparams, 1);
  assert_string_equal(param(s, "node"), "$instance host()");

  s = &rs->steps[rule_named("announce")->first_step];
  assert_int_equal(s->nparams, 10);
  assert_string_equal(param(s, "text"),
                      "$alertname ' on ' $instance ': ' $annotations.summary concat/5");
  assert_string_equal(param(s, "fp"), "$alert.fingerprint");
  assert_string_equal(param(s, "since"), "$alert.startsAt");
  assert_string_equal(param(s, "until"), "$alert.endsAt 'never' ??");
  assert_string_equal(param(s, "link"), "$alert.generatorURL");
  assert_string_equal(param(s, "state"), "$alert.status upper()");
  assert_string_equal(param(s, "name"), "$alert.alertname lower()");
  assert_string_equal(param(s, "short"),
                      "$instance ':9100' trim_suffix() 'node-' trim_prefix()");
  assert_string_equal(param(s, "path"), "$cluster '-' '/' replace()");
  assert_string_equal(param(s, "note"),
                      "$annotations.note $annotations.summary ?? 'none' ??");
}

static void test_eval(void **state) {
  (void)state;
  static const struct kv labels[] = {{"alertname", "DiskFull"},
                                     {"instance", "node-7:9100"},
                                     {"cluster", "eu-west-1"},
                                     {NULL, NULL}};
  static const struct kv annotations[] = {{"summary", "disk 97% full"}, {NULL, NULL}};
  struct alert a = {labels, annotations, {NULL}};
  a.fields[HL_FIELD_FINGERPRINT] = "c0ffee";
  a.fields[HL_FIELD_STATUS] = "firing";
  a.fields[HL_FIELD_ALERTNAME] = "DiskFull";
  a.fields[HL_FIELD_STARTS_AT] = "2026-01-02T03:04:05Z";
  char out[256];
  const struct hl_step *s = &rs->steps[rule_named("announce")->first_step];
  static const struct {
    const char *param, *value;
  } want[] = {
      {"text", "DiskFull on node-7:9100: disk 97% full"},
      {"fp", "c0ffee"},
      {"since", "2026-01-02T03:04:05Z"},
      {"until", "never"}, /* endsAt absent: the default */
      {"link", NULL},     /* absent, no default: the rule would skip */
      {"state", "FIRING"},
      {"name", "diskfull"},
      {"short", "7"},
      {"path", "eu/west/1"},
      {"note", "disk 97% full"},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const struct hl_param *p = &rs->params[s->first_param + i];
    assert_string_equal(p->name, want[i].param);
    const char *v = eval(p->value, &a, out);
    if (want[i].value)
      assert_string_equal(v, want[i].value);
    else
      assert_null(v);
  }
  const struct hl_rule *r = rule_named("prune_docker_images");
  assert_string_equal(eval(r->limit_key, &a, out), "eu-west-1");
  assert_string_equal(eval(r->cooldown_key, &a, out), "node-7:9100");
  static const struct kv bare[] = {{NULL, NULL}};
  struct alert b = {bare, bare, {NULL}};
  assert_string_equal(eval(r->limit_key, &b, out), "all");
  assert_null(eval(r->cooldown_key, &b, out));
}

static void test_notifies(void **state) {
  (void)state;
  const struct hl_rule *r = rule_named("prune_docker_images");
  assert_int_equal(r->nnotify, 3);
  const struct hl_notify *n = &rs->notifies[r->first_notify];
  assert_int_equal(n[0].events, HL_EV_SUCCESS);
  assert_int_equal(n[0].kind, HL_BK_SLACK);
  assert_string_equal(rs->backends[n[0].backend].name, "sre");
  assert_string_equal(n[0].target, "#sre-remediation");
  assert_int_equal(n[1].events, HL_EV_FAILURE | HL_EV_TIMEOUT);
  assert_int_equal(n[1].kind, HL_BK_JIRA);
  assert_int_equal(n[1].backend, HL_NONE);
  assert_string_equal(n[1].target, "OPS");
  assert_int_equal(n[2].events, HL_EV_FAILURE);
  assert_int_equal(n[2].kind, HL_BK_PAGERDUTY);
  assert_int_equal(n[2].backend, HL_NONE);
  assert_null(n[2].target);
  assert_int_equal(rs->rules[0].nnotify, 0);
}

static void test_windows(void **state) {
  (void)state;
  const struct hl_rule *r = rule_named("prune_docker_images");
  const struct hl_window *w = &rs->windows[r->during];
  assert_string_equal(w->name, "business_hours");
  assert_string_equal(w->tz, "Europe/Berlin");
  assert_int_equal(w->days, 0x3e); /* Monday to Friday */
  assert_int_equal(w->months, 0xfff);
  assert_int_equal(w->ntimes, 1);
  assert_int_equal(rs->spans[w->first_time].lo, 9 * 60);
  assert_int_equal(rs->spans[w->first_time].hi, 18 * 60);
  assert_int_equal(w->nmdays, 0);
  assert_int_equal(w->nyears, 0);
  assert_int_equal(w->from_day, 0);
  assert_int_equal(w->to_day, 0);
  assert_string_equal(w->file, FILE_NAME);
  assert_int_equal(w->line, 16);

  w = &rs->windows[r->not_during];
  assert_string_equal(w->name, "year_end_freeze");
  assert_string_equal(w->tz, "UTC");
  assert_int_equal(w->days, 0x7f);
  assert_int_equal(w->ntimes, 0); /* no time: the whole day */
  assert_int_equal(w->from_day, 20261220);
  assert_int_equal(w->to_day, 20270104);
  assert_int_equal(w->line, 18);

  w = &rs->windows[rule_named("announce")->not_during];
  assert_string_equal(w->name, "night");
  assert_string_equal(w->tz, "UTC"); /* the default */
  assert_int_equal(w->days, 0x7f);
  assert_int_equal(w->ntimes, 1);
  assert_int_equal(rs->spans[w->first_time].lo, 22 * 60); /* wraps past midnight */
  assert_int_equal(rs->spans[w->first_time].hi, 6 * 60);
  assert_int_equal(rule_named("announce")->during, HL_NONE);
}

static void test_backends(void **state) {
  (void)state;
  const struct hl_backend *b = &rs->backends[0];
  assert_string_equal(b->name, "ci");
  assert_int_equal(b->kind, HL_BK_JENKINS);
  assert_string_equal(b->file, FILE_NAME);
  assert_int_equal(b->line, 6);
  assert_int_equal(b->nfields, 3);
  const struct hl_backend_field *f = &rs->fields[b->first_field];
  assert_string_equal(f[0].name, "url");
  assert_int_equal(f[0].source, HL_SRC_LITERAL);
  assert_string_equal(f[0].value, "https://jenkins.example.com");
  assert_string_equal(f[1].name, "user");
  assert_int_equal(f[1].source, HL_SRC_LITERAL);
  assert_string_equal(f[1].value, "healer");
  assert_string_equal(f[2].name, "token");
  assert_int_equal(f[2].source, HL_SRC_ENV); /* the variable, not the secret */
  assert_string_equal(f[2].value, "JENKINS_TOKEN");

  b = &rs->backends[1];
  assert_string_equal(b->name, "sre");
  assert_int_equal(b->kind, HL_BK_SLACK);
  assert_int_equal(b->line, 12);
  assert_int_equal(b->nfields, 1);
  f = &rs->fields[b->first_field];
  assert_string_equal(f->name, "webhook");
  assert_int_equal(f->source, HL_SRC_FILE);
  assert_string_equal(f->value, "/run/secrets/slack-webhook");

  /* No secret field holds a literal. */
  for (uint32_t i = 0; i < rs->nfields; i++)
    if (strcmp(rs->fields[i].name, "token") == 0 || strcmp(rs->fields[i].name, "webhook") == 0)
      assert_int_not_equal(rs->fields[i].source, HL_SRC_LITERAL);
}

static void test_index(void **state) {
  (void)state;
  /* Sorted by strcmp, each name once. */
  for (uint32_t i = 1; i < rs->nindex; i++)
    assert_true(strcmp(rs->index[i - 1].alertname, rs->index[i].alertname) < 0);
  assert_string_equal(rs->index[0].alertname, "AAA_first");
  /* Each rule is listed under each of its alert names, in source order. */
  uint32_t listed = 0;
  for (uint32_t i = 0; i < rs->nindex; i++) {
    const struct hl_index_entry *e = &rs->index[i];
    assert_true(e->count > 0 && e->first + e->count <= rs->nindex_rules);
    for (uint32_t k = e->first; k < e->first + e->count; k++) {
      const struct hl_rule *r = &rs->rules[rs->index_rules[k]];
      if (k > e->first)
        assert_true(rs->index_rules[k - 1] < rs->index_rules[k]);
      int found = 0;
      for (uint32_t a = r->first_alert; a < r->first_alert + r->nalerts; a++)
        found |= strcmp(rs->alertnames[a], e->alertname) == 0;
      assert_true(found);
      listed++;
    }
  }
  assert_int_equal(listed, rs->nalertnames);
  assert_int_equal(listed, rs->nindex_rules);

  char want[96];
  snprintf(want, sizeof want, "%s,prune_docker_images", rs->rules[0].name);   /* tables#... */
  assert_string_equal(rules_for("NodeDiskPressure"), want);
  assert_string_equal(rules_for("DiskFull"), "prune_docker_images,announce");
  assert_string_equal(rules_for("Disk Full (legacy)"), "announce");
  assert_string_equal(rules_for("AAA_first"), "announce");
  assert_string_equal(rules_for("Unknown"), "");
  assert_string_equal(rules_for(""), "");
  assert_string_equal(rules_for("diskfull"), ""); /* case matters */
  assert_string_equal(rules_for("ZZZ"), "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_header),     cmocka_unit_test(test_counts),
      cmocka_unit_test(test_ranges),     cmocka_unit_test(test_rules),
      cmocka_unit_test(test_flags_and_status), cmocka_unit_test(test_matchers),
      cmocka_unit_test(test_durations),  cmocka_unit_test(test_steps_and_params),
      cmocka_unit_test(test_eval),       cmocka_unit_test(test_notifies),
      cmocka_unit_test(test_windows),    cmocka_unit_test(test_backends),
      cmocka_unit_test(test_index),
  };
  return cmocka_run_group_tests_name("codegen tables", tests, NULL, NULL);
}
