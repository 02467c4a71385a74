/*
 * diag_codes.h - the stable code of each kind of diagnostic.
 *
 * X-macro list: DIAG_CODE(code, description, patterns...). A message gets
 * the code of the first entry, in this order, one of whose patterns matches
 * the whole message text ('*' stands for any run of characters). The
 * patterns are the messages' fixed wording, so the scanner, the parser and
 * the checker report as they always did and the sink classifies; put a
 * specific pattern before a general one that would also match.
 *
 * Codes are part of healerc's interface (--format json and sarif print
 * them, CI filters on them): never rename one; add new kinds at the place
 * their patterns need. dsl/LANGUAGE.md lists every code, and a test checks
 * that every message of tests/diag/ gets a code other than "unclassified".
 */
#ifndef HEALER_DIAG_CODES_H
#define HEALER_DIAG_CODES_H

#define DIAG_CODES(DIAG_CODE)                                                  \
  /* ---- scanner ---- */                                                     \
  DIAG_CODE("nul-byte", "a NUL byte in the source",                           \
            "NUL byte in *", "unexpected NUL byte")                           \
  DIAG_CODE("control-character", "a control character in the source",         \
            "control character * in *", "unexpected control character *")     \
  DIAG_CODE("invalid-utf8", "bytes that are not valid UTF-8",                 \
            "invalid UTF-8*")                                                 \
  DIAG_CODE("unterminated", "a string or comment that is never closed",      \
            "unterminated *")                                                 \
  DIAG_CODE("bad-escape", "an unknown or malformed escape in a string",       \
            "invalid escape *", "unknown escape sequence *",                  \
            "stray '\\' in a string*")                                        \
  DIAG_CODE("bad-interpolation", "a malformed or misplaced ${...}",           \
            "'${...}' is interpolation*", "empty interpolation*",             \
            "expected '}' to end the interpolation*",                         \
            "expected a name after '${'*",                                    \
            "interpolation is not allowed here*")                             \
  DIAG_CODE("bad-variable", "a malformed or unknown $variable",               \
            "expected a name after '$'", "expected a name after '.' in *",    \
            "invalid variable *", "'*' needs a name*", "unknown variable *",  \
            "variable '*' is too long")                                       \
  DIAG_CODE("bad-operator", "an operator written the wrong way round",        \
            "'*' is not an operator*", "unexpected '!'; did you mean*",       \
            "unexpected '?'; did you mean*", "unexpected '~'; did you mean*") \
  DIAG_CODE("unexpected-character", "a character that starts no token",       \
            "unexpected character *", "unexpected '*' (U+*")                  \
  DIAG_CODE("too-long", "a string, name or number past its limit",            \
            "string is too long*", "name '*' is too long*",                   \
            "number '*' is too large")                                        \
  DIAG_CODE("invalid-duration", "a malformed or too large duration",          \
            "invalid duration *", "duration '*' is too large")                \
  DIAG_CODE("invalid-number", "a number that is not a whole number",          \
            "invalid number *")                                               \
  DIAG_CODE("invalid-time", "a malformed time of day", "invalid time '*")     \
  DIAG_CODE("invalid-date", "a malformed or impossible date",                 \
            "invalid date *")                                                 \
  /* ---- parser ---- */                                                      \
  DIAG_CODE("unknown-keyword", "a misspelt declaration, clause or option",    \
            "unknown declaration *", "unknown option *", "unknown clause *",  \
            "unknown event *", "unexpected name '*'; did you mean*")          \
  DIAG_CODE("matcher-value", "a matcher whose value is not a literal string", \
            "matcher value must be *", "'*' is not a value*")                 \
  DIAG_CODE("too-deep", "expressions or blocks nested past the limit",        \
            "nesting too deep*", "expression nested too deeply*",             \
            "expression is nested too deeply*")                               \
  DIAG_CODE("misplaced-with", "'with' before any 'run'",                      \
            "'with' before any 'run'*")                                       \
  DIAG_CODE("window-part-repeated", "a window part given twice",              \
            "window '*' has a second *")                                      \
  DIAG_CODE("action-target", "a step's target name missing or malformed",     \
            "missing * name after *", "unexpected '*': '*' takes no name*",   \
            "unexpected '*' after * name '*'; write a name with spaces*")     \
  DIAG_CODE("syntax", "a token the grammar does not allow here",              \
            "unexpected *", "expected *", "missing '*' after *",              \
            "missing 'when' before *", "unmatched '*'")                       \
  /* ---- checker ---- */                                                     \
  DIAG_CODE("unknown-action-kind", "an unknown action or notification kind",  \
            "unknown action kind *", "unknown notification kind *")           \
  DIAG_CODE("unknown-verb", "a missing or unknown verb of an action kind",    \
            "missing verb after *", "unknown * verb *")                       \
  DIAG_CODE("unknown-parameter", "a parameter the step does not take",        \
            "unknown parameter *")                                            \
  DIAG_CODE("missing-parameter", "a required parameter left out",             \
            "missing required parameter *", "missing parameter for *")        \
  DIAG_CODE("parameter-conflict", "parameters that exclude each other",       \
            "parameter '*' conflicts with *")                                 \
  DIAG_CODE("duplicate", "a name, field, option or parameter given twice",    \
            "duplicate *")                                                    \
  DIAG_CODE("alert-pattern", "an alert-name pattern written wrongly, or a "  \
            "name that reads as one (warning)",                               \
            "an alert name pattern must be *",                                \
            "alert name '*' looks like a regex*",                             \
            "alert '*' is also matched by the pattern *",                     \
            "alert-name pattern '*' also matches an empty name")              \
  DIAG_CODE("listed-twice", "an alert or result listed twice (warning)",      \
            "alert '*' is listed twice", "result '*' is listed twice",        \
            "alert-name pattern '*' is listed twice")                         \
  DIAG_CODE("undefined-backend", "a step naming a backend not declared",      \
            "undefined backend *", "'via' picks a * backend by name*")        \
  DIAG_CODE("backend-kind-mismatch", "a step's backend of the wrong kind",    \
            "backend '*' is a * backend, but *")                              \
  DIAG_CODE("undefined-window", "a rule naming a window not declared",        \
            "undefined window *")                                             \
  DIAG_CODE("backend-field", "an unknown, missing or malformed backend field",\
            "unknown backend kind *", "unknown field '*' for a * backend*",   \
            "missing required field *", "field '*' *",                        \
            "unknown function '*' in a backend field*",                       \
            "'*' is not a valid environment variable name*")                  \
  DIAG_CODE("literal-secret", "a secret written in the rule file",            \
            "secret '*' must *")                                              \
  DIAG_CODE("function-call", "an unknown function or wrong arguments",        \
            "unknown function *", "function '*' *", "* takes exactly one *",  \
            "the argument of *", "env() needs *", "file() needs *")           \
  DIAG_CODE("unknown-alert-field", "an unknown $alert field",                 \
            "unknown alert field *")                                          \
  DIAG_CODE("unknown-status", "an unknown alert status", "unknown status *")  \
  DIAG_CODE("window-range", "an empty or out-of-range window part",           \
            "date range * ends before it starts", "time range * is empty",    \
            "start time * is out of range*", "end time * is out of range*",   \
            "unknown day *", "unknown month *",                               \
            "'*' cannot start or end a range*", "range * mixes a day and *",  \
            "range * needs a day or a month *", "'*' must be followed by *",  \
            "number * needs 'days' *", "day of the month * is out of range*", \
            "day range * ends before it starts", "day range * starts from *", \
            "year * is out of range*", "year range * ends before it starts")  \
  DIAG_CODE("time-zone", "an unknown or invalid time zone",                   \
            "invalid time zone name *", "unknown time zone *",                \
            "cannot check time zone *")                                       \
  DIAG_CODE("invalid-regex", "a regex PCRE2 rejects", "invalid regex*")       \
  DIAG_CODE("re2-incompatible", "a regex construct Alertmanager's RE2 reads " \
            "differently (warning)", "regex uses *")                          \
  DIAG_CODE("out-of-range", "a count or duration outside its range",          \
            "* must not be zero", "* is less than the minimum of *",          \
            "* is more than the maximum of *",                                \
            "* is longer than the maximum of *",                              \
            "* is shorter than the minimum of *")                             \
  DIAG_CODE("empty-name", "an empty alert name, target or parameter name",    \
            "* must not be empty")                                            \
  DIAG_CODE("notify-target", "a notification target that cannot be used",    \
            "only pagerduty can page*", "pagerduty takes no target*")         \
  DIAG_CODE("no-run", "a rule without a 'run' clause",                        \
            "rule * has no 'run' clause", "rule has no 'run' clause")         \
  DIAG_CODE("result-reference", "'succeed on' naming no result of the rule",  \
            "'*' is not a result of any step*",                               \
            "'succeed on' has nothing to count*")                             \
  DIAG_CODE("placeholder", "a path placeholder naming no parameter",          \
            "placeholder {*} in the * path names no parameter*")              \
  DIAG_CODE("webhook-body", "a webhook body that is not a JSON template",     \
            "the webhook body must be *")                                     \
  DIAG_CODE("unguaranteed-label", "a label read that no matcher guarantees "  \
            "(warning)", "* reads * '*', which no matcher of this rule "      \
            "guarantees*")                                                    \
  DIAG_CODE("repeated-matcher", "two matchers on one label (warning)",        \
            "* '*' already has a '*' matcher*")                               \
  DIAG_CODE("shadowed-rule", "a rule an earlier rule always hides (warning)", \
            "rule '*' can never match*")                                      \
  DIAG_CODE("never-runs", "a rule both during and not during a window "      \
            "(warning)", "rule can never run*")                               \
  /* ---- files ---- */                                                       \
  DIAG_CODE("file", "a file that cannot be parsed as a whole",                \
            "file is too large to parse*", "cannot start the scanner*")

/* The code of a message no entry matches. */
#define DIAG_CODE_UNCLASSIFIED "unclassified"

#endif
