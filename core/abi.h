/*
 * abi.h - the tables healerc generates and the healer runtime links.
 *
 * This header is the whole contract between the compiler and the runtime,
 * together with actions.def, backends.def and functions.def. healerc writes
 * one C file that defines `hl_ruleset` with these types; the runtime reads it
 * and nothing else. Every table is const and lives for the life of the
 * process; nothing here is ever freed.
 *
 * Indices: tables refer to each other by index into the ruleset's arrays
 * (uint32_t), with a count next to each first index. An index of HL_NONE
 * means "absent".
 *
 * Change any struct or enum here and bump HL_ABI_VERSION: the generated file
 * carries the version it was written for, and the runtime's build fails on a
 * mismatch (see HL_ABI_CHECK).
 */
#ifndef HEALER_ABI_H
#define HEALER_ABI_H

#include <stdint.h>

#define HL_ABI_VERSION 6
#define HL_NONE UINT32_MAX

/* Parameter flags used by actions.def. */
#define HL_P_REQUIRED 1u
#define HL_P_ONE_OF 2u
/* Backend field flags used by backends.def. */
#define HL_F_REQUIRED 1u
#define HL_F_SECRET 2u
#define HL_F_URL 4u
#define HL_F_DURATION 8u

enum hl_action_kind {
#define HL_ACTION(id, word, verb, backend, target, open) HL_ACT_##id,
#include "actions.def"
  HL_ACT__COUNT
};

enum hl_backend_kind {
#define HL_BACKEND(id, word, env) HL_BK_##id,
#include "backends.def"
  HL_BK__COUNT
};

enum hl_func {
#define HL_FUNC(id, name, nargs, summary) HL_FN_##id,
#include "functions.def"
  HL_FN__COUNT
};

/* Fields of an alert that an expression can read with $alert.NAME. */
#define HL_ALERT_FIELDS(X) \
  X(FINGERPRINT, "fingerprint") \
  X(STARTS_AT, "startsAt") \
  X(ENDS_AT, "endsAt") \
  X(GENERATOR_URL, "generatorURL") \
  X(STATUS, "status") \
  X(ALERTNAME, "alertname")

enum hl_alert_field {
#define HL_X(id, name) HL_FIELD_##id,
  HL_ALERT_FIELDS(HL_X)
#undef HL_X
  HL_FIELD__COUNT
};

enum hl_status {              /* which alert statuses a rule acts on */
  HL_STATUS_FIRING = 1,
  HL_STATUS_RESOLVED = 2,
  HL_STATUS_ANY = 3
};

/* A kind reports at most this many results (HL_RESULT lines of
 * actions.def): the bits of hl_step.succeed_on. */
#define HL_RESULTS_MAX 32

enum hl_match_on { HL_ON_LABEL, HL_ON_ANNOTATION };

enum hl_match_op {
  HL_MATCH_EQ,                /* =   value equals (absent label = "") */
  HL_MATCH_NE,                /* !=  value differs */
  HL_MATCH_RE,                /* =~  whole value matches the regex */
  HL_MATCH_NRE                /* !~  whole value does not match */
};

struct hl_matcher {
  uint8_t on;                 /* enum hl_match_on */
  uint8_t op;                 /* enum hl_match_op */
  const char *name;           /* label or annotation name */
  const char *value;          /* literal, or regex source as written; the
                                 runtime anchors it as ^(?:value)$ and
                                 compiles it with HL_PCRE2_FLAGS */
};

/* Regexes are PCRE2, compiled with these options by healerc (to check) and
 * by the runtime (to match), so both agree on what is valid. Without
 * PCRE2_UCP, \d \w \s \b and the POSIX classes are ASCII, as in Go's regexp
 * (Alertmanager's): https://pkg.go.dev/regexp/syntax lists \d as [0-9], \w
 * as [0-9A-Za-z_], \s as [\t\n\f\r ]; case folding stays Unicode in both. */
#define HL_PCRE2_FLAGS (PCRE2_UTF | PCRE2_DOLLAR_ENDONLY)

/*
 * Expressions are stored as postfix code: a parameter's value is the range
 * [first, first + count) of hl_insn, run on a small stack of strings. An
 * operand may be absent (a label the alert does not carry); functions and
 * CONCAT of an absent operand yield absent; DEFAULT replaces an absent value.
 * A parameter whose final value is absent makes the rule skip the alert with
 * reason "missing label NAME" (NAME: the first absent label read).
 */
enum hl_opcode {
  HL_OP_LIT,                  /* push str */
  HL_OP_LABEL,                /* push the label str, or absent */
  HL_OP_ANNOTATION,           /* push the annotation str, or absent */
  HL_OP_FIELD,                /* push alert field arg (enum hl_alert_field) */
  HL_OP_CALL,                 /* pop the function's arguments, push its
                                 result; arg = enum hl_func */
  HL_OP_CONCAT,               /* pop arg values, push them joined */
  HL_OP_DEFAULT               /* pop d, pop v: push v unless absent, else d */
};

struct hl_insn {
  uint8_t op;                 /* enum hl_opcode */
  uint8_t arg;                /* field, function or operand count */
  const char *str;            /* literal, or label/annotation name */
};

struct hl_expr {
  uint32_t first;             /* index into hl_ruleset.insns */
  uint32_t count;             /* 0: no expression */
};

struct hl_param {
  const char *name;           /* as written in the rule */
  struct hl_expr value;
};

struct hl_step {              /* one action of a rule; run in order */
  uint8_t action;             /* enum hl_action_kind */
  uint32_t backend;           /* index into backends, or HL_NONE for the
                                 default backend of the kind (environment);
                                 HL_NONE when backend_expr is set */
  const char *target;         /* job / pipeline name, or NULL */
  uint32_t first_param, nparams; /* into params */
  uint32_t succeed_on;        /* results that count as success: bit i is
                                 the i-th HL_RESULT line of the action in
                                 actions.def; 0: the kind's defaults (the
                                 lines with success 1) */
  struct hl_expr backend_expr; /* count 0: backend above. Else `via $label`
                                 or `via "${a}-${b}"`: rendered per alert,
                                 the name of a declared backend of the
                                 action's kind (none: the alert is skipped,
                                 "no KIND backend 'NAME'") */
};

enum hl_event {               /* outcomes a notification can be tied to */
  HL_EV_SUCCESS = 1,
  HL_EV_FAILURE = 2,
  HL_EV_TIMEOUT = 4
};

struct hl_notify {
  uint8_t events;             /* mask of enum hl_event */
  uint8_t kind;               /* HL_BK_SLACK, HL_BK_JIRA or HL_BK_PAGERDUTY */
  uint32_t backend;           /* index into backends, or HL_NONE: default */
  const char *target;         /* Slack channel, JIRA project, or NULL */
};

/*
 * A time window, for `during` and `not during`, as expressive as one entry
 * of Alertmanager's time_intervals. A moment is inside when its local time
 * in tz falls in one of the window's time ranges (or on any minute when it
 * has none) and the day that range started on passes every day test: its
 * weekday is in days, its month in months, its day of the month in one of
 * the mday spans and its year in one of the year spans (each test holds
 * when its list is empty), and, if from_day/to_day are nonzero, its date D
 * (as YYYYMMDD) has from_day <= D <= to_day. A range that wraps past
 * midnight (hi < lo) started the day before for the minutes after
 * midnight.
 */
struct hl_span {
  int32_t lo, hi;             /* times: minutes [lo, hi) after midnight,
                                 0..1440, lo != hi, wrapping when hi < lo;
                                 days of the month: lo..hi inclusive, each
                                 1..31 or -31..-1 (counted from the end of
                                 the month: -1 is its last day); years:
                                 lo..hi inclusive */
};

struct hl_window {
  const char *name;
  const char *tz;             /* IANA zone name, e.g. "Europe/Berlin" */
  uint8_t days;               /* bit 0 = Sunday ... bit 6 = Saturday;
                                 0 is taken as every day */
  uint16_t months;            /* bit 0 = January ... bit 11 = December;
                                 0 is taken as every month */
  uint32_t first_time, ntimes; /* into spans: time ranges */
  uint32_t first_mday, nmdays; /* into spans: days of the month */
  uint32_t first_year, nyears; /* into spans: years */
  uint32_t from_day, to_day;  /* YYYYMMDD, 0 = unbounded */
  const char *file;           /* where it was declared */
  uint32_t line;
};

enum hl_field_source { HL_SRC_LITERAL, HL_SRC_ENV, HL_SRC_FILE };

struct hl_backend_field {
  const char *name;
  uint8_t source;             /* enum hl_field_source */
  const char *value;          /* the literal, the variable or the path;
                                 never a secret itself */
};

struct hl_backend {
  const char *name;
  uint8_t kind;               /* enum hl_backend_kind */
  uint32_t first_field, nfields; /* into fields */
  const char *file;
  uint32_t line;
};

/* hl_rule.retries when the rule has no `retry` clause: the runtime's
 * default number of extra attempts (`retry 0` is 0: none). */
#define HL_RETRY_DEFAULT UINT32_MAX

#define HL_RULE_DRY_RUN 1u    /* record what would run, call nothing */
#define HL_RULE_CONTINUE 2u   /* keep trying later rules after a match */

struct hl_rule {
  const char *name;           /* given, or "<file-stem>#<identity>" */
  const char *former_name;    /* one-line rules: "<file-stem>:<line>", the
                                 name healers before ABI 6 gave it: a
                                 journal they wrote binds to it; or NULL */
  const char *file;           /* source path as given to healerc */
  uint32_t line;
  uint32_t flags;             /* HL_RULE_* */
  uint8_t status;             /* enum hl_status */
  uint32_t first_alert, nalerts;       /* into alertnames: exact names */
  uint32_t first_pattern, npatterns;   /* into name_patterns */
  uint32_t first_matcher, nmatchers;   /* into matchers */
  uint32_t first_step, nsteps;         /* into steps */
  uint32_t first_notify, nnotify;      /* into notifies */
  uint64_t cooldown_ms;                /* 0: none */
  struct hl_expr cooldown_key;         /* count 0: rule + rendered params */
  uint64_t timeout_ms;                 /* 0: the runtime's default */
  uint32_t retries;                    /* extra attempts on retryable errors;
                                          HL_RETRY_DEFAULT: no `retry`
                                          clause, the runtime's default */
  uint64_t backoff_ms;                 /* first retry delay; 0: default */
  uint32_t limit;                      /* max concurrent; 0: unlimited */
  struct hl_expr limit_key;            /* count 0: per rule */
  uint32_t budget;                     /* at most budget per budget_ms; 0: none */
  uint64_t budget_ms;
  uint32_t during;                     /* window index or HL_NONE */
  uint32_t not_during;                 /* window index or HL_NONE */
  uint32_t breaker_failures;           /* `stop after N failures in DUR`: */
  uint64_t breaker_ms;                 /* N and DUR; 0: no breaker */
};

/* An alert-name pattern, `when alert =~ "RE"`: the rule applies to an alert
 * whose whole name matches regex (anchored and compiled as a matcher's).
 * Listed in rule order, so the runtime can merge them with an index entry's
 * rules and keep source order. */
struct hl_name_pattern {
  uint32_t rule;              /* index into rules */
  const char *regex;          /* the source as written */
};

/* Rules for one alert name, in source order. Sorted by alertname (strcmp)
 * so the runtime finds them by binary search. */
struct hl_index_entry {
  const char *alertname;
  uint32_t first, count;      /* into index_rules */
};

struct hl_ruleset {
  uint32_t abi_version;       /* HL_ABI_VERSION the file was written for */
  const char *generator;      /* "healerc 0.1.0" */
  const char *digest;         /* hex digest of the sources, for build info */
  const struct hl_rule *rules;              uint32_t nrules;
  const char *const *alertnames;            uint32_t nalertnames;
  const struct hl_matcher *matchers;        uint32_t nmatchers;
  const struct hl_insn *insns;              uint32_t ninsns;
  const struct hl_param *params;            uint32_t nparams;
  const struct hl_step *steps;              uint32_t nsteps;
  const struct hl_notify *notifies;         uint32_t nnotifies;
  const struct hl_window *windows;          uint32_t nwindows;
  const struct hl_span *spans;              uint32_t nspans;
  const struct hl_backend *backends;        uint32_t nbackends;
  const struct hl_backend_field *fields;    uint32_t nfields;
  const struct hl_index_entry *index;       uint32_t nindex;
  const uint32_t *index_rules;              uint32_t nindex_rules;
  const struct hl_name_pattern *name_patterns; uint32_t nname_patterns;
};

/* The generated file defines this. It also expands HL_ABI_CHECK(N) with the
 * version it was written for, so building the runtime against a header of
 * another version fails at compile time instead of misreading the tables. */
extern const struct hl_ruleset hl_ruleset;

#define HL_ABI_CHECK(v) \
  _Static_assert((v) == HL_ABI_VERSION, \
                 "generated rules were written for another ABI version; " \
                 "regenerate them with this healerc")

#endif
