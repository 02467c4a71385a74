/*
 * parser.y - the grammar of .heal files (dsl/LANGUAGE.md, "Grammar").
 *
 * A pure bison parser fed by a reentrant flex scanner (lexer.l) through a
 * small token filter, yylex() below. It builds the tree of ast.h in the
 * program's arena and resolves nothing: names stay strings for the checker.
 *
 * Errors. Lexical errors are reported by the scanner, which then returns
 * YYerror: the parser recovers without a second message. Syntax errors are
 * reported by yyreport_syntax_error() (LAC gives the exact expected tokens).
 * Error productions resynchronise
 *   - at the next declaration keyword (when, rule, backend, window),
 *   - inside a rule, at the next clause keyword,
 *   - inside a block, at '}',
 * and every keyword that starts a clause or a declaration re-arms error
 * reporting (the `resume` rule), so that several errors in one rule are all
 * reported while the tokens right after an error draw nothing.
 * The token filter adds what an LR parser cannot see: it matches braces, so
 * a block that is never closed ends at the next declaration ("expected '}'
 * (to close 'rule' at line 3)") instead of swallowing it, a stray '{' skips
 * its whole block, an unmatched '}' is one message, garbage between
 * declarations draws one message per line, and parentheses nest at most
 * MAX_PARENS deep.
 *
 * A rule with any error is not added to the program, so the checker never
 * sees half a rule (no follow-on errors). Backends and windows with errors
 * are kept with what parsed, so that rules naming them draw no "undefined"
 * errors; a backend field whose value did not parse has a NULL value, which
 * the checker skips.
 *
 * Ownership: everything the parser allocates lives in p->arena, so no
 * semantic value needs a %destructor: what error recovery discards is freed
 * with the arena.
 */

%code requires {
#include <stdint.h>
#include <string.h>

#include "ast.h"

struct pstate;

/* Semantic values of the list rules: first and last node (never empty). */
struct alert_list { struct alert_name *head, *last; };
struct matcher_list { struct matcher *head, *last; };
struct param_list { struct param *head, *last; };
struct word_list { struct word *head, *last; };
struct expr_list { struct expr *head, *last; };

/* A NAME or STRING used as a name: its text, where, and how written. */
struct wtok {
  const char *text;           /* NULL: absent (optional word) */
  struct loc loc;
  int quoted;                 /* written as a string */
};

/* What follows a step's `via`: a name (w), or an expression rendered per
 * alert (e: a variable or an interpolated string). */
struct via_tok {
  struct wtok w;              /* w.text NULL: no name */
  struct expr *e;             /* NULL: no expression */
};
}

%code provides {
#define LEX_HIST 4            /* tokens the filter remembers */
#define LEX_AHEAD 4           /* tokens it may look ahead */

struct lex_item {             /* a token with its value */
  int kind;
  struct loc loc;
  YYSTYPE val;
};

struct lex_tok {              /* a token as the filter saw it */
  int kind;                   /* yytoken_kind_t; 0: none */
  struct loc loc;
};

/*
 * Everything one parse_source() call needs, shared by the parser, its token
 * filter and the scanner (yyextra). Lives on parse_source()'s stack.
 */
struct pstate {
  struct program *p;
  struct diag *d;
  const struct source *src;
  uint32_t file;
  void *scanner;              /* flex yyscan_t */

  /* Scanner (lexer.l). */
  uint32_t off;               /* byte offset where the next token starts */
  uint32_t err_end;           /* end of the last lexical error: adjacent
                                 bad bytes make one message */
  uint32_t err_line_end;      /* end of the line of the last error */
  uint32_t open_string_line;  /* offset just past the line where a string
                                 was left open, or 0 */
  unsigned since_error;       /* tokens seen since the last error message */
  char *scan_copy;            /* the text flex scans (malloc) */
  char *buf;                  /* scratch for decoding strings (malloc) */
  size_t bufcap;

  /* Token filter (yylex in parser.y). */
  struct lex_tok hist[LEX_HIST]; /* hist[0]: the latest token */
  struct lex_item ahead[LEX_AHEAD]; /* scanned, not yet filtered */
  int nahead;
  struct lex_item out[2];     /* filtered, not yet handed to the parser */
  int nout;
  uint32_t err_tok_end;       /* end of the token of the last syntax error */
  unsigned brace_depth;       /* 1 inside a rule or backend block */
  int block_kw;               /* TOK_RULE or TOK_BACKEND of that block */
  struct loc block_loc;       /* its keyword */
  int unbraced;               /* `rule NAME when`: a '}' may close it */
  unsigned orphan_rbraces;    /* blocks closed for the user: their own
                                 '}' may still come, and are dropped */
  unsigned skip_depth;        /* >0: swallowing a stray '{' block */
  int top_skip;               /* swallowing garbage between declarations */
  unsigned paren_depth;
  int paren_skip;             /* swallowing a too deeply nested expression */

  /* The declaration being built. */
  struct rule *rule;
  unsigned rule_errors;       /* diag_error_count() when the rule began */
  struct matcher **matchers_tail;
  struct step **steps_tail;
  struct step *last_step;
  int with_reported;          /* "'with' before any 'run'" said once */
  struct notify **notifies_tail;
  struct option **options_tail;
  struct backend *backend;
  struct field **fields_tail;
  struct window *window;
  struct wpart **parts_tail;
  unsigned window_errors;     /* diag_error_count() when the window began */
};

/* Where the line holding offset off ends (looking at most 4 KiB ahead). */
static inline uint32_t line_end(const struct source *src, uint32_t off) {
  size_t n = off < src->len ? src->len - off : 0;
  const char *nl = memchr(src->text + off, '\n', n < 4096 ? n : 4096);
  return nl ? (uint32_t)(nl - src->text) : off + (uint32_t)(n < 4096 ? n : 4096);
}

/* The scanner (lexer.l). */
int lex_scan(YYSTYPE *lval, YYLTYPE *lloc, void *scanner);
int lex_open(struct pstate *ps);
void lex_close(struct pstate *ps);
}

%code {
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "diag_sink.h"
#include "results.h"

/* Parentheses nest at most this deep in an expression. */
#define MAX_PARENS 64
/* Parser stack; the grammar nests only through parentheses. */
#define YYMAXDEPTH 2000

#define YYLLOC_DEFAULT(Cur, Rhs, N)                                            \
  do {                                                                         \
    if (N) {                                                                   \
      (Cur).file = YYRHSLOC(Rhs, 1).file;                                      \
      (Cur).begin = YYRHSLOC(Rhs, 1).begin;                                    \
      (Cur).end = YYRHSLOC(Rhs, N).end;                                        \
    } else {                                                                   \
      (Cur).file = YYRHSLOC(Rhs, 0).file;                                      \
      (Cur).begin = (Cur).end = YYRHSLOC(Rhs, 0).end;                          \
    }                                                                          \
  } while (0)

static int yylex(YYSTYPE *lval, YYLTYPE *lloc, struct pstate *ps);
static void yyerror(YYLTYPE *loc, struct pstate *ps, const char *msg);

static void perr(struct pstate *ps, struct loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void *node(struct pstate *ps, size_t size);
static const char *plain_text(struct pstate *ps, struct expr *e, struct loc l);
static struct wtok wtok_of(const char *text, struct loc loc, int quoted);

static void begin_rule(struct pstate *ps, struct loc kw, const char *name,
                       struct loc name_loc);
static void end_rule(struct pstate *ps);
static void add_step(struct pstate *ps, struct loc loc, struct word_list w,
                     struct via_tok via);
static void add_params(struct pstate *ps, struct loc with_loc,
                       struct param_list l);
static void add_matchers(struct pstate *ps, int on, struct matcher_list l);
static struct option *add_option(struct pstate *ps, enum option_kind kind,
                                 struct loc loc);
static void add_notify(struct pstate *ps, struct loc loc, unsigned events,
                       int how, struct wtok kind, struct wtok target,
                       struct wtok via);
static unsigned event_of(struct pstate *ps, const char *name, struct loc loc);
static int is_result_only(const char *name, size_t n);
static struct matcher *make_matcher(struct pstate *ps, struct wtok name,
                                    int op, struct loc op_loc,
                                    struct expr *value);
static struct alert_name *make_alert_name(struct pstate *ps, const char *name,
                                          struct loc loc, struct expr *re);
static struct expr *make_expr(struct pstate *ps, enum expr_kind kind,
                              struct loc loc, const char *str);
static void begin_backend(struct pstate *ps, struct wtok kind,
                          struct wtok name);
static void add_field(struct pstate *ps, const char *name, struct loc loc,
                      struct expr *value);
static void begin_window(struct pstate *ps, struct wtok name);
static void end_window(struct pstate *ps);
static void window_name(struct pstate *ps, struct loc loc, const char *lo,
                        struct loc lo_loc, const char *hi, struct loc hi_loc);
static void window_num(struct pstate *ps, struct loc loc, int64_t lo,
                       int64_t hi, int range);
static void window_time(struct pstate *ps, struct loc loc, uint32_t a,
                        uint32_t b);
static void window_dates(struct pstate *ps, struct loc loc, uint32_t a,
                         uint32_t b);
static void window_tz(struct pstate *ps, struct loc loc, struct expr *tz);
}

%define api.pure full
%define api.location.type {struct loc}
%locations
%define parse.error custom
%define parse.lac full
%expect 0
%parse-param {struct pstate *ps}

/* A rule line and a window end where the next declaration begins, so an
 * error right after one could start the next declaration's recovery or
 * continue this one's: the latter (shift the error inside). */
%precedence OPEN
%precedence error
%lex-param {struct pstate *ps}

%union {
  const char *name;
  struct expr *expr;
  uint64_t num;
  uint32_t u32;
  int op;
  int64_t snum;
  unsigned mask;
  struct wtok w;
  struct via_tok via;
  struct word *word;
  struct alert_list alerts;
  struct alert_name *aname;
  struct matcher *matcher;
  struct matcher_list matchers;
  struct param *param;
  struct param_list params;
  struct word_list words;
  struct expr_list exprs;
}

/* Literals. The order of all tokens is the order "expected ..." lists them
 * in, and the order ties are broken in for did-you-mean. */
%token <name> NAME "name"
%token <expr> STRING "string"
%token <expr> VARIABLE "variable"
%token <num> NUMBER "number"
%token <num> DURATION "duration"
%token <u32> TIME "time"
%token <u32> DATE "date"
/* Keywords that start a declaration. */
%token TOK_WHEN "when" TOK_RULE "rule" TOK_BACKEND "backend" TOK_WINDOW "window"
/* Keywords that start a clause, then the others. */
%token TOK_ALERT "alert"
%token TOK_LABELS "labels" TOK_ANNOTATIONS "annotations" TOK_STATUS "status"
%token TOK_THEN "then" TOK_RUN "run" TOK_WITH "with"
%token TOK_COOLDOWN "cooldown" TOK_TIMEOUT "timeout" TOK_RETRY "retry"
%token TOK_LIMIT "limit" TOK_AT "at" TOK_DRY_RUN "dry-run"
%token TOK_CONTINUE "continue" TOK_DURING "during" TOK_NOT "not"
%token TOK_STOP "stop" TOK_SUCCEED "succeed" TOK_ON "on"
%token TOK_VIA "via" TOK_PER "per" TOK_BACKOFF "backoff"
%token TOK_CONCURRENT "concurrent" TOK_MOST "most" TOK_NOTIFY "notify"
%token TOK_PAGE "page" TOK_IN "in"
/* Punctuation. */
%token TOK_EQ "=" TOK_NE "!=" TOK_RE "=~" TOK_NRE "!~" TOK_DEFAULT "??"
%token TOK_LPAREN "(" TOK_RPAREN ")" TOK_LBRACE "{" TOK_RBRACE "}"
%token TOK_COMMA "," TOK_DASH "-" TOK_DOTDOT ".."

%type <alerts> alert_names
%type <aname> alert_name
%type <snum> wnum
%type <w> name word opt_word opt_via
%type <via> step_via
%type <word> run_word
%type <words> run_words results
%type <op> match_op notify_how
%type <matcher> matcher
%type <matchers> matchers
%type <param> param
%type <params> params
%type <mask> event events
%type <expr> expr primary
%type <exprs> args

%%

/* file = { declaration } ; */
file
  : decls
  ;

decls
  : %empty
  | decls decl
  | decls error
  ;

/* declaration = rule_line | rule_block | backend | window ; */
decl
  : rule_line
  | rule_block
  | backend
  | window
  ;

/* Re-arms error messages after a keyword that starts a clause or a
 * declaration: the parser is back in step there. */
resume
  : %empty { if (@$.end != ps->err_tok_end) yyerrok; }
  ;

/* rule_line = "when" alert_clause { clause } ; */
rule_line
  : "when"
      {
        if (@1.end != ps->err_tok_end)
          yyerrok;
        begin_rule(ps, @1, NULL, @1);
      }
    alert_clause clauses %prec OPEN { end_rule(ps); }
  ;

/* rule_block = "rule" NAME "{" "when" alert_clause { clause } "}" ;
 * Without its '{' the block is reported once and parsed all the same. */
rule_block
  : "rule" resume NAME "{" "when" { begin_rule(ps, @1, $3, @3); }
    alert_clause clauses "}" { end_rule(ps); }
  | "rule" resume NAME "{" error "}"
  | "rule" resume NAME "when"
      {
        perr(ps, @4, "missing '{' after 'rule %s'", $3);
        begin_rule(ps, @1, $3, @3);
      }
    alert_clause clauses opt_rbrace { end_rule(ps); }
  ;

opt_rbrace
  : %empty %prec OPEN
  | "}"
  ;

/* alert_clause = "alert" alert_name { "," alert_name } ;
 * A list clause takes the commas after it, so that a comma may follow any
 * clause without a conflict. */
alert_clause
  : "alert" alert_names        { ps->rule->alerts = $2.head; }
  | "alert" alert_names commas { ps->rule->alerts = $2.head; }
  ;

alert_names
  : alert_name                     { $$.head = $$.last = $1; }
  | alert_names commas alert_name  { $$ = $1; $$.last->next = $3; $$.last = $3; }
  ;

/* alert_name = name | "=~" STRING ;  (a pattern: the whole name matches) */
alert_name
  : name            { $$ = make_alert_name(ps, $1.text, $1.loc, NULL); }
  | "=~" STRING     { $$ = make_alert_name(ps, plain_text(ps, $2, @2), @2, $2); }
  | "=~" NAME
      {
        perr(ps, @2, "an alert name pattern must be a string: write =~ \"%s\"", $2);
        $$ = make_alert_name(ps, $2, @2, NULL);
      }
  ;

commas
  : ","
  | commas ","
  ;

/* name = NAME | STRING ;  (a string without interpolation) */
name
  : NAME   { $$ = wtok_of($1, @1, 0); }
  | STRING { $$ = wtok_of(plain_text(ps, $1, @1), @1, 1); }
  ;

clauses
  : %empty
  | clauses clause
  | clauses error
  ;

clause
  : list_clause
  | simple_clause
  | simple_clause commas
  ;

list_clause
  : match_clause
  | with_clause
  | succeed_clause
  ;

/* ( "labels" | "annotations" ) matcher { "," matcher } */
match_clause
  : "labels" resume matchers             { add_matchers(ps, HL_ON_LABEL, $3); }
  | "labels" resume matchers commas      { add_matchers(ps, HL_ON_LABEL, $3); }
  | "annotations" resume matchers        { add_matchers(ps, HL_ON_ANNOTATION, $3); }
  | "annotations" resume matchers commas { add_matchers(ps, HL_ON_ANNOTATION, $3); }
  ;

matchers
  : matcher                 { $$.head = $$.last = $1; }
  | matchers commas matcher { $$ = $1; $$.last->next = $3; $$.last = $3; }
  ;

/* matcher = name ( "=" | "!=" | "=~" | "!~" ) STRING ;
 * A value written without quotes is reported here, in the user's terms. */
matcher
  : name match_op STRING { $$ = make_matcher(ps, $1, $2, @2, $3); }
  | name match_op NAME
      {
        perr(ps, @3, "matcher value must be a string: write \"%s\"", $3);
        $$ = make_matcher(ps, $1, $2, @2, NULL);
      }
  | name match_op NUMBER
      {
        perr(ps, @3, "matcher value must be a string: write \"%.*s\"",
             (int)(@3.end - @3.begin), ps->src->text + @3.begin);
        $$ = make_matcher(ps, $1, $2, @2, NULL);
      }
  | name match_op VARIABLE
      {
        perr(ps, @3, "matcher value must be a literal string, not a variable");
        $$ = make_matcher(ps, $1, $2, @2, NULL);
      }
  ;

match_op
  : "="  { $$ = HL_MATCH_EQ; }
  | "!=" { $$ = HL_MATCH_NE; }
  | "=~" { $$ = HL_MATCH_RE; }
  | "!~" { $$ = HL_MATCH_NRE; }
  ;

/* "with" param { "," param } ; params go to the latest `run` */
with_clause
  : "with" resume params        { add_params(ps, @1, $3); }
  | "with" resume params commas { add_params(ps, @1, $3); }
  ;

params
  : param               { $$.head = $$.last = $1; }
  | params commas param { $$ = $1; $$.last->next = $3; $$.last = $3; }
  ;

/* param = name "=" expr ; */
param
  : name "=" expr
      {
        $$ = node(ps, sizeof *$$);
        $$->name = $1.text;
        $$->name_loc = $1.loc;
        $$->value = $3;
      }
  ;

/* "succeed" "on" name { "," name } ;  results of the rule's steps */
succeed_clause
  : "succeed" resume "on" results
      { add_option(ps, OPT_SUCCEED, @$)->words = $4.head; }
  | "succeed" resume "on" results commas
      {
        struct loc l = @1;
        l.end = @4.end;
        add_option(ps, OPT_SUCCEED, l)->words = $4.head;
      }
  ;

results
  : run_word                { $$.head = $$.last = $1; }
  | results commas run_word { $$ = $1; $$.last->next = $3; $$.last = $3; }
  ;

simple_clause
  : "status" resume NAME
      {
        struct option *o = add_option(ps, OPT_STATUS, @$);
        o->name = $3;
        o->name_loc = @3;
      }
  | run_clause
  | option
  | on_clause
  ;

/* [ "then" ] "run" word { word } [ "via" NAME ] */
run_clause
  : "run" resume run_words step_via { add_step(ps, @1, $3, $4); }
  | "then" resume "run" run_words step_via { add_step(ps, @3, $4, $5); }
  ;

run_words
  : run_word           { $$.head = $$.last = $1; }
  | run_words run_word { $$ = $1; $$.last->next = $2; $$.last = $2; }
  ;

run_word
  : word
      {
        $$ = node(ps, sizeof *$$);
        $$->text = $1.text;
        $$->loc = $1.loc;
        $$->quoted = $1.quoted;
      }
  ;

/* word = NAME | STRING ; */
word
  : NAME   { $$ = wtok_of($1, @1, 0); }
  | STRING { $$ = wtok_of(plain_text(ps, $1, @1), @1, 1); }
  ;

opt_word
  : %empty { $$ = wtok_of(NULL, @$, 0); }
  | word
  ;

opt_via
  : %empty      { $$ = wtok_of(NULL, @$, 0); }
  | "via" NAME  { $$ = wtok_of($2, @2, 0); }
  ;

/* [ "via" ( NAME | VARIABLE | STRING ) ]: a step's backend is a name, or
 * the value of a label or an interpolated string ("${region}-prod"), the
 * name of a declared backend picked per alert. A string without
 * interpolation is a name. */
step_via
  : %empty
      {
        $$.w = wtok_of(NULL, @$, 0);
        $$.e = NULL;
      }
  | "via" NAME
      {
        $$.w = wtok_of($2, @2, 0);
        $$.e = NULL;
      }
  | "via" VARIABLE
      {
        $$.w = wtok_of(NULL, @2, 0);
        $$.e = $2;
      }
  | "via" STRING
      {
        int plain = $2->kind == EXPR_STR;
        $$.w = wtok_of(plain ? $2->str : NULL, @2, plain);
        $$.e = plain ? NULL : $2;
      }
  ;

/* option = "cooldown" DURATION [ "per" expr ] | "timeout" DURATION
 *        | "retry" NUMBER [ "backoff" DURATION ]
 *        | "limit" NUMBER "concurrent" [ "per" expr ]
 *        | "at" "most" NUMBER "per" DURATION | "dry-run" | "continue"
 *        | "during" NAME | "not" "during" NAME
 *        | "stop" "after" NUMBER "failures" "in" DURATION ; */
option
  : "cooldown" resume DURATION
      {
        struct option *o = add_option(ps, OPT_COOLDOWN, @$);
        o->ms = $3, o->ms_loc = @3, o->has_ms = 1;
      }
  | "cooldown" resume DURATION "per" expr
      {
        struct option *o = add_option(ps, OPT_COOLDOWN, @$);
        o->ms = $3, o->ms_loc = @3, o->has_ms = 1;
        o->per = $5;
      }
  | "timeout" resume DURATION
      {
        struct option *o = add_option(ps, OPT_TIMEOUT, @$);
        o->ms = $3, o->ms_loc = @3, o->has_ms = 1;
      }
  | "retry" resume NUMBER
      {
        struct option *o = add_option(ps, OPT_RETRY, @$);
        o->n = $3, o->n_loc = @3;
      }
  | "retry" resume NUMBER "backoff" DURATION
      {
        struct option *o = add_option(ps, OPT_RETRY, @$);
        o->n = $3, o->n_loc = @3;
        o->ms = $5, o->ms_loc = @5, o->has_ms = 1;
      }
  | "limit" resume NUMBER "concurrent"
      {
        struct option *o = add_option(ps, OPT_LIMIT, @$);
        o->n = $3, o->n_loc = @3;
      }
  | "limit" resume NUMBER "concurrent" "per" expr
      {
        struct option *o = add_option(ps, OPT_LIMIT, @$);
        o->n = $3, o->n_loc = @3;
        o->per = $6;
      }
  | "at" resume "most" NUMBER "per" DURATION
      {
        struct option *o = add_option(ps, OPT_BUDGET, @$);
        o->n = $4, o->n_loc = @4;
        o->ms = $6, o->ms_loc = @6, o->has_ms = 1;
      }
  | "dry-run" resume  { add_option(ps, OPT_DRY_RUN, @$); }
  | "continue" resume { add_option(ps, OPT_CONTINUE, @$); }
  | "during" resume NAME
      {
        struct option *o = add_option(ps, OPT_DURING, @$);
        o->name = $3, o->name_loc = @3;
      }
  | "not" resume "during" NAME
      {
        struct option *o = add_option(ps, OPT_NOT_DURING, @$);
        o->name = $4, o->name_loc = @4;
      }
  | "stop" resume NAME NUMBER NAME "in" DURATION
      {
        /* "after" and "failures" are plain names here, as the events of
         * `on` are, so that they stay free for rules, labels and
         * parameters. */
        if (strcmp($3, "after") != 0)
          perr(ps, @3, "expected 'after' after 'stop', found '%s'", $3);
        else if (strcmp($5, "failures") != 0 && strcmp($5, "failure") != 0)
          perr(ps, @5, "expected 'failures' after the count, found '%s'", $5);
        struct option *o = add_option(ps, OPT_BREAKER, @$);
        o->n = $4, o->n_loc = @4;
        o->ms = $7, o->ms_loc = @7, o->has_ms = 1;
      }
  ;

/* "on" event { "," event } ( "notify" | "page" ) NAME [ word ] [ "via" NAME ] */
on_clause
  : "on" resume events notify_how NAME opt_word opt_via
      { add_notify(ps, @$, $3, $4, wtok_of($5, @5, 0), $6, $7); }
  | "on" resume events "," notify_how NAME opt_word opt_via
      { add_notify(ps, @$, $3, $5, wtok_of($6, @6, 0), $7, $8); }
  ;

events
  : event            { $$ = $1; }
  | events "," event { $$ = $1 | $3; }
  ;

/* event = "success" | "failure" | "timeout" ; */
event
  : NAME      { $$ = event_of(ps, $1, @1); }
  | "timeout" { $$ = HL_EV_TIMEOUT; }
  ;

notify_how
  : "notify" { $$ = NOTIFY_NOTIFY; }
  | "page"   { $$ = NOTIFY_PAGE; }
  ;

/* expr = primary { "??" primary } ;  (left-associative) */
expr
  : primary
  | expr "??" primary
      {
        $$ = make_expr(ps, EXPR_DEFAULT, @$, NULL);
        $$->args = $1;
        $1->next = $3;
      }
  ;

/* primary = STRING | VARIABLE | NAME "(" [ expr { "," expr } ] ")"
 *         | "(" expr ")" ;
 * A bare NAME is reported here: it is neither a label nor text. */
primary
  : STRING
  | VARIABLE
  | NAME "(" ")" { $$ = make_expr(ps, EXPR_CALL, @$, $1); }
  | NAME "(" args ")"
      {
        $$ = make_expr(ps, EXPR_CALL, @$, $1);
        $$->args = $3.head;
      }
  | "(" expr ")" { $$ = $2; $$->loc = @$; }
  | NAME
      {
        perr(ps, @1, "'%s' is not a value: write $%s for the label, or "
             "\"%s\" for the text", $1, $1, $1);
        $$ = make_expr(ps, EXPR_STR, @1, $1);
      }
  ;

args
  : expr          { $$.head = $$.last = $1; }
  | args "," expr { $$ = $1; $$.last->next = $3; $$.last = $3; }
  ;

/* backend = "backend" NAME NAME "{" { NAME "=" expr [ "," ] } "}" ; */
backend
  : "backend" resume NAME NAME "{"
      { begin_backend(ps, wtok_of($3, @3, 0), wtok_of($4, @4, 0)); }
    fields "}"
  ;

fields
  : %empty
  | fields field
  | fields field commas
  | fields error
  ;

field
  : NAME "=" expr { add_field(ps, $1, @1, $3); }
  | NAME "=" error { add_field(ps, $1, @1, NULL); }
  | NAME error     { add_field(ps, $1, @1, NULL); }
  ;

/* window = "window" NAME { window_part [ "," ] } ; */
window
  : "window" resume NAME { begin_window(ps, wtok_of($3, @3, 0)); }
    wparts %prec OPEN { end_window(ps); }
  ;

wparts
  : %empty
  | wparts wpart
  | wparts ","
  | wparts error
  ;

/* window_part = NAME [ ".." NAME ] | wnum [ ".." wnum ] | TIME "-" TIME
 *             | DATE ".." DATE | "in" STRING ; */
wpart
  : NAME              { window_name(ps, @$, $1, @1, NULL, @1); }
  | NAME ".." NAME    { window_name(ps, @$, $1, @1, $3, @3); }
  | wnum              { window_num(ps, @$, $1, $1, 0); }
  | wnum ".." wnum    { window_num(ps, @$, $1, $3, 1); }
  | TIME "-" TIME     { window_time(ps, @$, $1, $3); }
  | DATE ".." DATE    { window_dates(ps, @$, $1, $3); }
  | "in" STRING       { window_tz(ps, @2, $2); }
  ;

/* wnum = [ "-" ] NUMBER ; */
wnum
  : NUMBER            { $$ = $1 > 1000000000 ? 1000000000 : (int64_t)$1; }
  | "-" NUMBER        { $$ = $2 > 1000000000 ? -1000000000 : -(int64_t)$2; }
  ;

%%

/* ---- helpers for the actions -------------------------------------------- */

static void perr(struct pstate *ps, struct loc loc, const char *fmt, ...) {
  va_list ap;
  char msg[1024];
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  diag_error(ps->d, loc, "%s", msg);
  ps->since_error = 0;
  ps->err_line_end = line_end(ps->src, loc.end);
}

static void *node(struct pstate *ps, size_t size) {
  return arena_alloc(&ps->p->arena, size);
}

static struct wtok wtok_of(const char *text, struct loc loc, int quoted) {
  struct wtok w = {text, loc, quoted};
  return w;
}

/* The text of a string used as a name; interpolation is an error there. */
static const char *plain_text(struct pstate *ps, struct expr *e,
                              struct loc l) {
  if (e->kind == EXPR_STR)
    return e->str;
  perr(ps, l, "interpolation is not allowed here, only in parameter values");
  return "";
}

static struct expr *make_expr(struct pstate *ps, enum expr_kind kind,
                              struct loc loc, const char *str) {
  struct expr *e = node(ps, sizeof *e);
  e->kind = kind;
  e->loc = loc;
  e->str = str;
  e->len = str ? strlen(str) : 0;
  return e;
}

static void begin_rule(struct pstate *ps, struct loc kw, const char *name,
                       struct loc name_loc) {
  struct rule *r = node(ps, sizeof *r);
  r->name = name;
  r->name_loc = name_loc;
  r->loc = kw;
  ps->rule = r;
  ps->rule_errors = diag_error_count(ps->d);
  ps->matchers_tail = &r->matchers;
  ps->steps_tail = &r->steps;
  ps->notifies_tail = &r->notifies;
  ps->options_tail = &r->options;
  ps->last_step = NULL;
  ps->with_reported = 0;
}

/* A rule joins the program only if nothing was reported while it was
 * parsed: half a rule would only draw follow-on errors from the checker. */
static void end_rule(struct pstate *ps) {
  struct rule *r = ps->rule;
  ps->rule = NULL;
  if (!r || diag_error_count(ps->d) != ps->rule_errors)
    return;
  *ps->p->rules_tail = r;
  ps->p->rules_tail = &r->next;
}

static void add_matchers(struct pstate *ps, int on, struct matcher_list l) {
  for (struct matcher *m = l.head; m; m = m->next)
    m->on = (enum hl_match_on)on;
  *ps->matchers_tail = l.head;
  ps->matchers_tail = &l.last->next;
}

static struct alert_name *make_alert_name(struct pstate *ps, const char *name,
                                          struct loc loc, struct expr *re) {
  struct alert_name *a = node(ps, sizeof *a);
  a->name = name;
  a->loc = loc;
  a->re = re;
  return a;
}

static struct matcher *make_matcher(struct pstate *ps, struct wtok name,
                                    int op, struct loc op_loc,
                                    struct expr *value) {
  struct matcher *m = node(ps, sizeof *m);
  m->op = (enum hl_match_op)op;
  m->name = name.text;
  m->name_loc = name.loc;
  m->op_loc = op_loc;
  m->value = value;
  return m;
}

static void add_step(struct pstate *ps, struct loc loc, struct word_list w,
                     struct via_tok via) {
  struct step *s = node(ps, sizeof *s);
  s->loc.file = loc.file;
  s->loc.begin = loc.begin;
  s->loc.end = w.last->loc.end;
  s->words = w.head;
  s->via = via.w.text;
  s->via_loc = via.w.loc;
  s->via_expr = via.e;
  s->action = -1;
  *ps->steps_tail = s;
  ps->steps_tail = &s->next;
  ps->last_step = s;
}

static void add_params(struct pstate *ps, struct loc with_loc,
                       struct param_list l) {
  struct step *s = ps->last_step;
  if (!s) {
    if (!ps->with_reported && diag_error_count(ps->d) == ps->rule_errors)
      perr(ps, with_loc,
           "'with' before any 'run': parameters belong to the 'run' before "
           "them");
    ps->with_reported = 1;
    return;
  }
  struct param **tail = &s->params;
  while (*tail)
    tail = &(*tail)->next;
  *tail = l.head;
}

static struct option *add_option(struct pstate *ps, enum option_kind kind,
                                 struct loc loc) {
  struct option *o = node(ps, sizeof *o);
  o->kind = kind;
  o->loc = loc;
  *ps->options_tail = o;
  ps->options_tail = &o->next;
  return o;
}

static void add_notify(struct pstate *ps, struct loc loc, unsigned events,
                       int how, struct wtok kind, struct wtok target,
                       struct wtok via) {
  struct notify *n = node(ps, sizeof *n);
  n->loc = loc;
  n->events = events;
  n->how = (enum notify_how)how;
  n->kind = kind.text;
  n->kind_loc = kind.loc;
  n->target = target.text;
  n->target_loc = target.loc;
  n->via = via.text;
  n->via_loc = via.loc;
  n->backend_kind = -1;
  *ps->notifies_tail = n;
  ps->notifies_tail = &n->next;
}

static unsigned event_of(struct pstate *ps, const char *name,
                         struct loc loc) {
  static const char *const events[] = {"success", "failure", "timeout", NULL};
  if (strcmp(name, "success") == 0)
    return HL_EV_SUCCESS;
  if (strcmp(name, "failure") == 0)
    return HL_EV_FAILURE;
  const char *s = diag_suggest(name, events);
  if (is_result_only(name, strlen(name)))
    perr(ps, loc,
         "unknown event '%s': expected 'success', 'failure' or 'timeout'; to "
         "count a step's result as success, write 'succeed on %s'",
         name, name);
  else if (s)
    perr(ps, loc, "unknown event '%s'; did you mean '%s'?", name, s);
  else
    perr(ps, loc,
         "unknown event '%s': expected 'success', 'failure' or 'timeout'",
         name);
  return 0;
}

static void begin_backend(struct pstate *ps, struct wtok kind,
                          struct wtok name) {
  struct backend *b = node(ps, sizeof *b);
  b->kind = kind.text;
  b->kind_loc = kind.loc;
  b->name = name.text;
  b->name_loc = name.loc;
  b->backend_kind = -1;
  ps->backend = b;
  ps->fields_tail = &b->fields;
  *ps->p->backends_tail = b;
  ps->p->backends_tail = &b->next;
}

static void add_field(struct pstate *ps, const char *name, struct loc loc,
                      struct expr *value) {
  if (!ps->backend)
    return;
  struct field *f = node(ps, sizeof *f);
  f->name = name;
  f->name_loc = loc;
  f->value = value;
  *ps->fields_tail = f;
  ps->fields_tail = &f->next;
}

static void begin_window(struct pstate *ps, struct wtok name) {
  struct window *w = node(ps, sizeof *w);
  w->name = name.text;
  w->name_loc = name.loc;
  ps->window = w;
  ps->window_errors = diag_error_count(ps->d);
  ps->parts_tail = &w->parts;
  *ps->p->windows_tail = w;
  ps->p->windows_tail = &w->next;
}

/* A window with an error keeps its name (rules naming it draw nothing) but
 * none of its parts: what parsed after the error may be debris. */
static void end_window(struct pstate *ps) {
  struct window *w = ps->window;
  ps->window = NULL;
  if (!w || diag_error_count(ps->d) == ps->window_errors)
    return;
  w->parts = NULL;
  w->from_day = w->to_day = 0;
  w->tz = NULL;
}

static unsigned line_of(struct pstate *ps, uint32_t off) {
  unsigned line, col;
  diag_line_col(ps->src, off, &line, &col);
  return line;
}

static struct wpart *add_wpart(struct pstate *ps, enum wpart_kind kind,
                               struct loc loc) {
  struct wpart *p = node(ps, sizeof *p);
  p->kind = kind;
  p->loc = p->lo_loc = p->hi_loc = loc;
  *ps->parts_tail = p;
  ps->parts_tail = &p->next;
  return p;
}

static void window_name(struct pstate *ps, struct loc loc, const char *lo,
                        struct loc lo_loc, const char *hi, struct loc hi_loc) {
  struct wpart *p = add_wpart(ps, WP_NAME, loc);
  /* A name may hold dots, so `mon..fri` is one token: split it here. */
  const char *dots = hi ? NULL : strstr(lo, "..");
  if (dots) {
    size_t n = (size_t)(dots - lo);
    hi = dots + 2;
    hi_loc = lo_loc;
    hi_loc.begin = lo_loc.begin + (uint32_t)n + 2;
    lo_loc.end = lo_loc.begin + (uint32_t)n;
    lo = arena_strndup(&ps->p->arena, lo, n);
  }
  p->lo = lo;
  p->hi = hi;
  p->range = hi != NULL;
  p->lo_loc = lo_loc;
  p->hi_loc = hi_loc;
}

static void window_num(struct pstate *ps, struct loc loc, int64_t lo,
                       int64_t hi, int range) {
  struct wpart *p = add_wpart(ps, WP_NUMBER, loc);
  p->nlo = lo;
  p->nhi = hi;
  p->range = range;
}

static void window_time(struct pstate *ps, struct loc loc, uint32_t a,
                        uint32_t b) {
  struct wpart *p = add_wpart(ps, WP_TIME, loc);
  p->nlo = a;
  p->nhi = b;
  p->range = 1;
}

static void window_dates(struct pstate *ps, struct loc loc, uint32_t a,
                         uint32_t b) {
  struct window *w = ps->window;
  if (w->from_day || w->to_day) {
    perr(ps, loc, "window '%s' has a second date range (the first is on line "
         "%u)", w->name, line_of(ps, w->date_loc.begin));
    return;
  }
  w->from_day = a;
  w->to_day = b;
  w->date_loc = loc;
}

static void window_tz(struct pstate *ps, struct loc loc, struct expr *tz) {
  struct window *w = ps->window;
  const char *s = plain_text(ps, tz, loc);
  if (w->tz) {
    perr(ps, loc, "window '%s' has a second time zone (the first is on line "
         "%u)", w->name, line_of(ps, w->tz_loc.begin));
    return;
  }
  w->tz = s;
  w->tz_loc = loc;
}

static void yyerror(YYLTYPE *loc, struct pstate *ps, const char *msg) {
  /* Only "memory exhausted": the stack is deeper than YYMAXDEPTH, which the
   * parenthesis limit should make impossible. */
  perr(ps, *loc, "nesting too deep: %s", msg);
}

/* ---- token descriptions ---------------------------------------------------- */

#define NTOK YYNTOKENS

static int is_decl_kw(int sym) {
  return sym == YYSYMBOL_TOK_WHEN || sym == YYSYMBOL_TOK_RULE ||
         sym == YYSYMBOL_TOK_BACKEND || sym == YYSYMBOL_TOK_WINDOW;
}

/* Keywords that start a clause of a rule. */
static int is_clause_kw(int sym) {
  return sym >= YYSYMBOL_TOK_LABELS && sym <= YYSYMBOL_TOK_ON;
}

static int is_keyword(int sym) {
  return sym >= YYSYMBOL_TOK_WHEN && sym <= YYSYMBOL_TOK_IN;
}

static int is_option_kw(int sym) {
  return sym == YYSYMBOL_TOK_STATUS ||
         (sym >= YYSYMBOL_TOK_COOLDOWN && sym <= YYSYMBOL_TOK_SUCCEED);
}

/* Symbol of a token kind as the scanner returns it. */
static int sym_of(int kind) {
  return YYTRANSLATE(kind);
}

/* The source text of a token, shortened for a message: at most max bytes,
 * cut at a character boundary, with "..." when cut. Control bytes become
 * '?'. */
static void tok_text(const struct pstate *ps, struct loc l, char *out,
                     size_t cap, size_t max) {
  const unsigned char *s = (const unsigned char *)ps->src->text + l.begin;
  size_t n = l.end > l.begin ? l.end - l.begin : 0, o = 0;
  int cut = 0;
  if (n > max) {
    n = max;
    while (n > 0 && (s[n] & 0xc0) == 0x80)
      n--;
    cut = 1;
  }
  for (size_t i = 0; i < n && o + 4 < cap; i++)
    out[o++] = s[i] < 0x20 || s[i] == 0x7f ? '?' : (char)s[i];
  if (cut && o + 4 < cap) {
    memcpy(out + o, "...", 3);
    o += 3;
  }
  out[o] = '\0';
}

/* "name 'x'", "string \"x\"", "'when'", "end of file" */
static void describe_tok(const struct pstate *ps, int sym, struct loc l,
                         int with_kind, char *out, size_t cap) {
  char text[80];
  const char *kind = NULL;
  switch (sym) {
  case YYSYMBOL_YYEOF:
    snprintf(out, cap, "end of file");
    return;
  case YYSYMBOL_NAME: kind = "name"; break;
  case YYSYMBOL_STRING: kind = "string"; break;
  case YYSYMBOL_VARIABLE: kind = "variable"; break;
  case YYSYMBOL_NUMBER: kind = "number"; break;
  case YYSYMBOL_DURATION: kind = "duration"; break;
  case YYSYMBOL_TIME: kind = "time"; break;
  case YYSYMBOL_DATE: kind = "date"; break;
  default: break;
  }
  tok_text(ps, l, text, sizeof text, 40);
  if (sym == YYSYMBOL_STRING)
    snprintf(out, cap, "%s%s%s", with_kind ? kind : "", with_kind ? " " : "",
             text);
  else if (kind && with_kind)
    snprintf(out, cap, "%s '%s'", kind, text);
  else
    snprintf(out, cap, "'%s'", text);
}

/* What a NAME (and STRING) is expected to be after the token before. */
static const char *name_role(const struct pstate *ps) {
  int prev = ps->hist[1].kind, prev2 = ps->hist[2].kind;
  switch (prev) {
  case TOK_ALERT: return "an alert name";
  case TOK_LABELS: return "a label name";
  case TOK_ANNOTATIONS: return "an annotation name";
  case TOK_WITH: return "a parameter name";
  case TOK_RUN: return "an action such as 'jenkins'";
  case TOK_VIA: return "a backend name";
  case TOK_DURING: return "a window name";
  case TOK_RULE: return "a rule name";
  case TOK_BACKEND: return "a backend kind such as 'jenkins'";
  case TOK_WINDOW: return "a window name";
  case TOK_NOTIFY: return "a notification kind ('slack' or 'jira')";
  case TOK_PAGE: return "'pagerduty'";
  case TOK_ON:
    if (prev2 == TOK_SUCCEED)
      return "a result such as 'UNSTABLE'";
    return "an event ('success', 'failure' or 'timeout')";
  case TOK_STATUS: return "a status ('firing', 'resolved' or 'any')";
  case TOK_IN: return "a time zone string such as \"Europe/Berlin\"";
  case NAME:
    if (prev2 == TOK_BACKEND)
      return "a backend name";
    return NULL;
  default: return NULL;
  }
}

/* Appends "a, b or c" items to out. */
struct phrase {
  const char *item[NTOK];
  char own[8][96];             /* storage for composed items */
  int n, nown;
};

static void phrase_add(struct phrase *ph, const char *s) {
  for (int i = 0; i < ph->n; i++)
    if (strcmp(ph->item[i], s) == 0)
      return;
  if (ph->n < NTOK)
    ph->item[ph->n++] = s;
}

/* An item made of three pieces, kept in ph. */
static const char *phrase_own(struct phrase *ph, const char *a, const char *b,
                              const char *c) {
  if (ph->nown >= 8)
    return "...";
  char *s = ph->own[ph->nown++];
  snprintf(s, sizeof ph->own[0], "%s%s%s", a, b, c);
  return s;
}

static void phrase_join(const struct phrase *ph, char *out, size_t cap) {
  size_t o = 0;
  int n = ph->n > 4 ? 4 : ph->n;
  out[0] = '\0';
  for (int i = 0; i < n && o < cap; i++) {
    const char *sep = i == 0 ? "" : i == n - 1 && n == ph->n ? " or " : ", ";
    int w = snprintf(out + o, cap - o, "%s%s", sep, ph->item[i]);
    if (w < 0)
      break;
    o += (size_t)w;
  }
  if (n < ph->n && o < cap)
    snprintf(out + o, cap - o, " or ...");
}

/* Phrase for the expected tokens, with groups named: "a clause", "an
 * expression", the four declaration keywords. */
static void describe_expected(struct pstate *ps, const int *exp, int nexp,
                              char *out, size_t cap) {
  int has[NTOK] = {0};
  int nkw_clause = 0, nkw_decl = 0, nclause = 0;
  for (int i = 0; i < nexp; i++)
    has[exp[i]] = 1;
  for (int s = 0; s < NTOK; s++) {
    nclause += is_clause_kw(s);
    if (has[s]) {
      nkw_clause += is_clause_kw(s);
      nkw_decl += is_decl_kw(s);
    }
  }
  int clause_group = nkw_clause == nclause;
  int decl_group = nkw_decl == 4;
  int expr_group = has[YYSYMBOL_STRING] && has[YYSYMBOL_VARIABLE] &&
                   has[YYSYMBOL_NAME] && has[YYSYMBOL_TOK_LPAREN];
  if (has[YYSYMBOL_STRING] && has[YYSYMBOL_NUMBER] && has[YYSYMBOL_NAME] &&
      !has[YYSYMBOL_TOK_LPAREN]) {
    /* A matcher's value: the other tokens are only there to be reported
     * in the user's terms. */
    snprintf(out, cap, "a string");
    return;
  }
  int wpart_group = has[YYSYMBOL_NAME] && has[YYSYMBOL_TIME] &&
                    has[YYSYMBOL_DATE] && has[YYSYMBOL_TOK_IN];
  const char *role = has[YYSYMBOL_NAME] ? name_role(ps) : NULL;
  if (!role && has[YYSYMBOL_STRING] && ps->hist[1].kind == TOK_IN)
    role = name_role(ps);
  int others = 0;
  for (int s = 0; s < NTOK; s++)
    if (has[s] && s != YYSYMBOL_YYEOF)
      others++;

  struct phrase ph = {.n = 0};
  int want_clause = 0, want_decl = 0, want_rbrace = 0;
  for (int s = 0; s < NTOK; s++) {
    if (!has[s])
      continue;
    if (s == YYSYMBOL_YYEOF && others)
      continue;
    if (s == YYSYMBOL_TOK_DEFAULT && others > 1)
      continue;                 /* '??' may always follow a value */
    if (s == YYSYMBOL_TOK_COMMA &&
        ((clause_group && (has[YYSYMBOL_NAME] || has[YYSYMBOL_STRING])) ||
         wpart_group))
      continue;
    if (is_decl_kw(s) && decl_group) {
      if (clause_group || wpart_group)
        continue;               /* the declaration may go on */
      if (others == 4) {
        phrase_add(&ph, "'when'");
        phrase_add(&ph, "'rule'");
        phrase_add(&ph, "'backend'");
        phrase_add(&ph, "'window'");
      } else {
        want_decl = 1;
      }
      continue;
    }
    if (is_clause_kw(s) && clause_group) {
      want_clause = 1;
      continue;
    }
    if (expr_group && (s == YYSYMBOL_STRING || s == YYSYMBOL_VARIABLE ||
                       s == YYSYMBOL_NAME || s == YYSYMBOL_TOK_LPAREN)) {
      phrase_add(&ph, "an expression");
      continue;
    }
    if (wpart_group && (s == YYSYMBOL_NAME || s == YYSYMBOL_TIME ||
                        s == YYSYMBOL_DATE || s == YYSYMBOL_TOK_IN ||
                        s == YYSYMBOL_NUMBER || s == YYSYMBOL_TOK_DASH)) {
      phrase_add(&ph, "a day or month");
      phrase_add(&ph, "a number");
      phrase_add(&ph, "a time range");
      phrase_add(&ph, "a date range");
      phrase_add(&ph, "'in'");
      continue;
    }
    if (role && (s == YYSYMBOL_NAME || s == YYSYMBOL_STRING ||
                 (s == YYSYMBOL_TOK_TIMEOUT && ps->hist[1].kind == TOK_ON))) {
      phrase_add(&ph, role);
      continue;
    }
    switch (s) {
    case YYSYMBOL_NAME:
    case YYSYMBOL_STRING:
      if (has[YYSYMBOL_NAME] && has[YYSYMBOL_STRING])
        phrase_add(&ph, "a name or string");
      else
        phrase_add(&ph, s == YYSYMBOL_NAME ? "a name" : "a string");
      break;
    case YYSYMBOL_VARIABLE: /* after a step's `via`: a label naming one */
      phrase_add(&ph, role && strcmp(role, "a backend name") == 0
                          ? "a variable naming one"
                          : "a variable");
      break;
    case YYSYMBOL_NUMBER: phrase_add(&ph, "a number"); break;
    case YYSYMBOL_DURATION: phrase_add(&ph, "a duration"); break;
    case YYSYMBOL_TIME: phrase_add(&ph, "a time (HH:MM)"); break;
    case YYSYMBOL_DATE: phrase_add(&ph, "a date (YYYY-MM-DD)"); break;
    case YYSYMBOL_YYEOF: phrase_add(&ph, "end of file"); break;
    case YYSYMBOL_TOK_RBRACE:
      want_rbrace = 1;
      break;
    default:
      phrase_add(&ph, phrase_own(&ph, "'", yysymbol_name(s), "'"));
      break;
    }
  }
  /* The groups come last: what may come instead of what was expected. */
  if (want_clause)
    phrase_add(&ph, "a clause");
  if (want_rbrace && ps->brace_depth > 0) {
    char ctx[64];
    snprintf(ctx, sizeof ctx, "'}' (to close '%s' at line %u)",
             ps->block_kw == TOK_RULE ? "rule" : "backend",
             line_of(ps, ps->block_loc.begin));
    phrase_add(&ph, phrase_own(&ph, ctx, "", ""));
  } else if (want_rbrace) {
    phrase_add(&ph, "'}'");
  }
  if (want_decl)
    phrase_add(&ph, "a declaration");
  phrase_join(&ph, out, cap);
}

/* Keyword spellings among the expected symbols, for did-you-mean. */
static int keywords_of(const int *exp, int nexp, const char **out) {
  int n = 0;
  for (int i = 0; i < nexp; i++)
    if (is_keyword(exp[i]))
      out[n++] = yysymbol_name(exp[i]);
  out[n] = NULL;
  return n;
}

static int sym_of_spelling(const char *s) {
  for (int k = YYSYMBOL_TOK_WHEN; k <= YYSYMBOL_TOK_IN; k++)
    if (strcmp(yysymbol_name(k), s) == 0)
      return k;
  return -1;
}

/* Whether a newline separates the end of one token and the start of the
 * next (comments in between included). */
static int newline_between(const struct pstate *ps, uint32_t a, uint32_t b) {
  return b > a && memchr(ps->src->text + a, '\n', b - a) != NULL;
}

/* The first non-blank byte after offset off, or 0. */
static char next_char(const struct pstate *ps, uint32_t off) {
  while (off < ps->src->len &&
         (ps->src->text[off] == ' ' || ps->src->text[off] == '\t'))
    off++;
  return off < ps->src->len ? ps->src->text[off] : '\0';
}

/*
 * Reports the token la (symbol lsym at lloc), unexpected where the symbols
 * exp[] were expected. Tries, in order: a keyword misspelt as a name
 * (did-you-mean), a keyword used as a name, a missing unit; then says
 * "unexpected X, expected Y" at X, or "expected Y after 'P'" right after
 * the previous token P when X starts a new line or is the end of file and
 * so P's construct was left unfinished.
 */
static void report_unexpected(struct pstate *ps, int lsym, struct loc lloc,
                              const int *exp, int nexp, int guess) {
  /* Unless said otherwise below, the token is to blame: a keyword that
   * caused an error does not re-arm error messages (see `resume`). */
  ps->err_tok_end = lloc.end;
  char what[160], expected[640], prev[120];
  const char *kws[NTOK + 1];
  int nkw = keywords_of(exp, nexp, kws);
  int has_name = 0, has_decl = 0, has_duration = 0;
  for (int i = 0; i < nexp; i++) {
    has_name |= exp[i] == YYSYMBOL_NAME;
    has_decl |= is_decl_kw(exp[i]) || exp[i] == YYSYMBOL_YYEOF;
    has_duration |= exp[i] == YYSYMBOL_DURATION;
  }

  /* A keyword misspelt: `cooldwn 5m`. */
  if (guess && lsym == YYSYMBOL_NAME && nkw > 0) {
    char text[80];
    tok_text(ps, lloc, text, sizeof text, 64);
    const char *s = lloc.end - lloc.begin <= 64 ? diag_suggest(text, kws)
                                                : NULL;
    if (s) {
      int k = sym_of_spelling(s);
      const char *kind = is_decl_kw(k)     ? "declaration"
                         : is_option_kw(k) ? "option"
                         : is_clause_kw(k) ? "clause"
                                           : NULL;
      if (kind)
        perr(ps, lloc, "unknown %s '%s'; did you mean '%s'?", kind, text, s);
      else
        perr(ps, lloc, "unexpected name '%s'; did you mean '%s'?", text, s);
      return;
    }
  }
  /* A name misspelt as a clause keyword was taken as a word of `run`, and
   * the error shows a little later: `run jenkins Job wiht x = "1"`. Or,
   * after a parameter list, as the name of the next parameter:
   * `with node = $instance, cooldwn 30m`. */
  int in_rule = 0, wants_eq = 0;
  for (int i = 0; i < nexp; i++) {
    in_rule |= is_clause_kw(exp[i]);
    wants_eq |= exp[i] == YYSYMBOL_TOK_EQ;
  }
  if (guess && (in_rule || wants_eq) && lsym != YYSYMBOL_NAME) {
    static const char *clause_kws[NTOK + 1];
    if (!clause_kws[0]) {
      int n = 0;
      for (int k = 0; k < NTOK; k++)
        if (is_clause_kw(k))
          clause_kws[n++] = yysymbol_name(k);
      clause_kws[n] = NULL;
    }
    for (int i = 1; i <= 3 && i < LEX_HIST; i++) {
      const struct lex_tok *t = &ps->hist[i];
      if (!t->kind || newline_between(ps, t->loc.end, lloc.begin))
        break;
      /* A word of at least three letters, not a parameter's name. */
      if (t->kind != NAME || t->loc.end - t->loc.begin > 64 ||
          t->loc.end - t->loc.begin < 3 || ps->hist[i - 1].kind == TOK_EQ)
        continue;
      char text[80];
      tok_text(ps, t->loc, text, sizeof text, 64);
      const char *s = diag_suggest(text, clause_kws);
      if (s && strcmp(s, text) != 0) {
        int k = sym_of_spelling(s);
        perr(ps, t->loc, "unknown %s '%s'; did you mean '%s'?",
             is_option_kw(k) ? "option" : "clause", text, s);
        return;
      }
    }
  }

  describe_tok(ps, lsym, lloc, 1, what, sizeof what);
  describe_expected(ps, exp, nexp, expected, sizeof expected);

  /* `stop` reads on as `after N failures in DUR`, whose words are names. */
  if (ps->hist[1].kind == TOK_STOP && has_name) {
    perr(ps, lloc, "unexpected %s, expected 'after' (stop after N failures "
         "in DURATION)", what);
    return;
  }
  /* `alert X` with no `when` before it. */
  if (lsym == YYSYMBOL_TOK_ALERT && has_decl && !has_name) {
    perr(ps, lloc, "missing 'when' before 'alert'");
    return;
  }
  /* A keyword where a name belongs, used as a name: `with timeout = "30"`. */
  if (is_keyword(lsym) && has_name) {
    char c = next_char(ps, lloc.end);
    if (c == '=' || c == '!' || c == '{') {
      perr(ps, lloc, "unexpected %s, expected %s; to use a keyword as a "
           "name, quote it: \"%s\"", what, expected, yysymbol_name(lsym));
      return;
    }
  }
  /* A number where a duration belongs: `cooldown 30`. */
  if (lsym == YYSYMBOL_NUMBER && has_duration) {
    char text[48];
    tok_text(ps, lloc, text, sizeof text, 24);
    perr(ps, lloc, "unexpected %s, expected %s; add a unit, as in '%sm'",
         what, expected, text);
    return;
  }
  /* The construct on the previous line is unfinished. */
  const struct lex_tok *p = &ps->hist[1];
  int starts = lsym == YYSYMBOL_YYEOF || is_decl_kw(lsym) ||
               is_clause_kw(lsym) || lsym == YYSYMBOL_TOK_RBRACE;
  if (p->kind && !has_decl && starts &&
      (lsym == YYSYMBOL_YYEOF || newline_between(ps, p->loc.end, lloc.begin))) {
    struct loc at = {p->loc.file, p->loc.end, p->loc.end};
    describe_tok(ps, sym_of(p->kind), p->loc, 0, prev, sizeof prev);
    perr(ps, at, "expected %s after %s", expected, prev);
    ps->err_tok_end = UINT32_MAX; /* the next token starts afresh */
    return;
  }
  if (expected[0])
    perr(ps, lloc, "unexpected %s, expected %s", what, expected);
  else
    perr(ps, lloc, "unexpected %s", what);
}

static int yyreport_syntax_error(const yypcontext_t *ctx, struct pstate *ps) {
  yysymbol_kind_t exp[NTOK];
  int nexp = yypcontext_expected_tokens(ctx, exp, NTOK);
  if (nexp < 0)
    return nexp;
  int iexp[NTOK];
  for (int i = 0; i < nexp; i++)
    iexp[i] = exp[i];
  yysymbol_kind_t la = yypcontext_token(ctx);
  report_unexpected(ps, la, *yypcontext_location(ctx), iexp, nexp, 1);
  /* Between declarations: skip the rest of the line, report the next. */
  int only_decl = 1, ndecl = 0;
  for (int i = 0; i < nexp; i++) {
    only_decl &= is_decl_kw(exp[i]) || exp[i] == YYSYMBOL_YYEOF;
    ndecl += is_decl_kw(exp[i]);
  }
  if (only_decl && ndecl == 4 && la != YYSYMBOL_YYEOF)
    ps->top_skip = 1;
  return 0;
}

/* ---- the token filter ---------------------------------------------------------- */

static void push_hist(struct pstate *ps, int kind, struct loc loc) {
  memmove(&ps->hist[1], &ps->hist[0], (LEX_HIST - 1) * sizeof ps->hist[0]);
  ps->hist[0].kind = kind;
  ps->hist[0].loc = loc;
}

static int at_line_start(const struct pstate *ps, uint32_t off) {
  return off == 0 || ps->src->text[off - 1] == '\n';
}

static void queue_out(struct pstate *ps, int kind, struct loc loc,
                      const YYSTYPE *val) {
  struct lex_item *it = &ps->out[ps->nout++];
  it->kind = kind;
  it->loc = loc;
  if (val)
    it->val = *val;
}

/* A declaration keyword (or the end of file) inside an unclosed block: say
 * so once, then hand the parser an error (it recovers inside the block), the
 * missing '}', and the token itself. */
static int close_block(struct pstate *ps, int kind, YYSTYPE *lval,
                       YYLTYPE *lloc) {
  int exp[1] = {YYSYMBOL_TOK_RBRACE};
  report_unexpected(ps, sym_of(kind), *lloc, exp, 1, 0);
  ps->brace_depth = 0;
  ps->orphan_rbraces++;
  struct loc at = {lloc->file, lloc->begin, lloc->begin};
  ps->nout = 0;
  queue_out(ps, TOK_RBRACE, at, NULL);
  queue_out(ps, kind, *lloc, lval);
  return YYerror;
}

static int is_decl_token(int kind) {
  return kind == TOK_WHEN || kind == TOK_RULE || kind == TOK_BACKEND ||
         kind == TOK_WINDOW;
}

/* The kind of the k-th token after the current one (scanning ahead). */
static int peek(struct pstate *ps, int k) {
  while (ps->nahead <= k) {
    struct lex_item *it = &ps->ahead[ps->nahead];
    it->kind = lex_scan(&it->val, &it->loc, ps->scanner);
    ps->nahead++;
    if (it->kind == YYEOF)
      break;
  }
  return k < ps->nahead ? ps->ahead[k].kind : YYEOF;
}

/* The next token from the scanner or the look-ahead buffer. */
static int next_raw(struct pstate *ps, YYSTYPE *lval, YYLTYPE *lloc) {
  int kind;
  if (ps->nahead > 0) {
    kind = ps->ahead[0].kind;
    *lval = ps->ahead[0].val;
    *lloc = ps->ahead[0].loc;
    memmove(&ps->ahead[0], &ps->ahead[1],
            (size_t)(ps->nahead - 1) * sizeof ps->ahead[0]);
    ps->nahead--;
  } else {
    kind = lex_scan(lval, lloc, ps->scanner);
  }
  if (kind == YYEOF) {
    /* The end of file sits right after the last token, where "expected
     * ... after" messages point. */
    lloc->file = ps->file;
    lloc->begin = lloc->end = ps->hist[0].kind ? ps->hist[0].loc.end : 0;
  }
  return kind;
}

/* Whether only blanks come before offset off on its line. */
static int first_on_line(const struct pstate *ps, uint32_t off) {
  while (off > 0 && (ps->src->text[off - 1] == ' ' ||
                     ps->src->text[off - 1] == '\t'))
    off--;
  return off == 0 || ps->src->text[off - 1] == '\n';
}

/* A name that starts a line, is close to a declaration keyword and is
 * followed by what that declaration needs (`wehn alert X`, `rul r {`) is
 * reported and read as the keyword, so the declaration is not swallowed by
 * the one before. Returns the keyword's kind, or NAME. */
static int misspelt_declaration(struct pstate *ps, struct loc l) {
  static const char *const words[] = {"when", "rule", "backend", "window",
                                      NULL};
  static const int kinds[] = {TOK_WHEN, TOK_RULE, TOK_BACKEND, TOK_WINDOW};
  char text[24];
  size_t n = l.end - l.begin;
  if (n >= sizeof text || !first_on_line(ps, l.begin))
    return NAME;
  memcpy(text, ps->src->text + l.begin, n);
  text[n] = '\0';
  const char *s = diag_suggest(text, words);
  if (!s)
    return NAME;
  int k = 0;
  while (strcmp(words[k], s) != 0)
    k++;
  int ok;
  switch (kinds[k]) {
  case TOK_WHEN:
    ok = peek(ps, 0) == TOK_ALERT;
    break;
  case TOK_RULE:
    ok = peek(ps, 0) == NAME && peek(ps, 1) == TOK_LBRACE;
    break;
  case TOK_BACKEND:
    ok = peek(ps, 0) == NAME && peek(ps, 1) == NAME &&
         peek(ps, 2) == TOK_LBRACE;
    break;
  default:
    ok = peek(ps, 0) == NAME &&
         (peek(ps, 1) == NAME || peek(ps, 1) == TIME ||
          peek(ps, 1) == DATE || peek(ps, 1) == TOK_IN);
    break;
  }
  if (!ok)
    return NAME;
  perr(ps, l, "unknown declaration '%s'; did you mean '%s'?", text, s);
  return kinds[k];
}

/* Whether name is a result that counts as success only when a rule says so
 * (UNSTABLE, ABORTED, STOPPED, ... in any case, of any kind in
 * actions.def) and not also an event: `on UNSTABLE` means `succeed on`. */
static int is_result_only(const char *name, size_t n) {
  return results_addable(name, n) &&
         !(n == 7 && (strncasecmp(name, "success", 7) == 0 ||
                      strncasecmp(name, "failure", 7) == 0));
}

/* A name close to 'succeed' followed by `on` and such a result
 * (`succed on UNSTABLE`) is reported and read as the keyword, so that its
 * list is not taken for a notification's events. Returns TOK_SUCCEED or
 * NAME. */
static int misspelt_succeed(struct pstate *ps, struct loc l) {
  static const char *const words[] = {"succeed", NULL};
  char text[24];
  size_t n = l.end - l.begin;
  if (n >= sizeof text || peek(ps, 0) != TOK_ON || peek(ps, 1) != NAME)
    return NAME;
  memcpy(text, ps->src->text + l.begin, n);
  text[n] = '\0';
  const struct loc r = ps->ahead[1].loc;
  if (!diag_suggest(text, words) ||
      !is_result_only(ps->src->text + r.begin, r.end - r.begin))
    return NAME;
  perr(ps, l, "unknown option '%s'; did you mean 'succeed'?", text);
  return TOK_SUCCEED;
}

static int yylex(YYSTYPE *lval, YYLTYPE *lloc, struct pstate *ps) {
  if (ps->nout > 0) {
    int kind = ps->out[0].kind;
    *lloc = ps->out[0].loc;
    if (kind != TOK_RBRACE)
      *lval = ps->out[0].val;
    ps->out[0] = ps->out[1];
    ps->nout--;
    return kind;
  }
  int have = 0, kind = YYEOF;
  for (;;) {
    if (!have)
      kind = next_raw(ps, lval, lloc);
    have = 0;
    if (kind == YYerror) {
      if (ps->skip_depth || ps->top_skip || ps->paren_skip)
        continue;
      return kind;
    }
    if (kind == NAME && ps->brace_depth == 0 && !ps->skip_depth)
      kind = misspelt_declaration(ps, *lloc);
    if (kind == NAME && ps->rule && !ps->skip_depth)
      kind = misspelt_succeed(ps, *lloc);
    push_hist(ps, kind, *lloc);
    if (ps->since_error < 1000)
      ps->since_error++;

    /* Swallowing a stray block: until its '}', or a declaration that
     * cannot be inside one. */
    if (ps->skip_depth) {
      if (kind == TOK_LBRACE) {
        ps->skip_depth++;
        continue;
      }
      if (kind == TOK_RBRACE) {
        ps->skip_depth--;
        continue;
      }
      if (!(kind == YYEOF || kind == TOK_RULE || kind == TOK_BACKEND ||
            kind == TOK_WINDOW ||
            (kind == TOK_WHEN && at_line_start(ps, lloc->begin))))
        continue;
      ps->skip_depth = 0;
    }
    /* Swallowing garbage between declarations: one message per line. */
    if (ps->top_skip) {
      if (kind == YYEOF || is_decl_token(kind)) {
        ps->top_skip = 0;
      } else {
        if (kind == TOK_LBRACE) {
          ps->skip_depth = 1;
        } else if (newline_between(ps, ps->hist[1].loc.end, lloc->begin)) {
          int exp[4] = {YYSYMBOL_TOK_WHEN, YYSYMBOL_TOK_RULE,
                        YYSYMBOL_TOK_BACKEND, YYSYMBOL_TOK_WINDOW};
          report_unexpected(ps, sym_of(kind), *lloc, exp, 4, 1);
        }
        continue;
      }
    }
    /* Swallowing an expression nested too deeply. */
    if (ps->paren_skip) {
      if (!(kind == YYEOF || is_keyword(sym_of(kind)) || kind == TOK_LBRACE ||
            kind == TOK_RBRACE))
        continue;
      ps->paren_skip = 0;
      ps->paren_depth = 0;
    }

    switch (kind) {
    case TOK_LPAREN:
      if (++ps->paren_depth > MAX_PARENS) {
        perr(ps, *lloc,
             "expression nested too deeply (more than %d parentheses)",
             MAX_PARENS);
        ps->paren_skip = 1;
        return YYerror;
      }
      break;
    case TOK_RPAREN:
      if (ps->paren_depth)
        ps->paren_depth--;
      break;
    case TOK_LBRACE:
      if (ps->brace_depth == 0 && ps->hist[1].kind == NAME &&
          (ps->hist[2].kind == TOK_RULE ||
           (ps->hist[2].kind == NAME && ps->hist[3].kind == TOK_BACKEND))) {
        ps->brace_depth = 1;
        ps->block_kw = ps->hist[2].kind == TOK_RULE ? TOK_RULE : TOK_BACKEND;
        ps->block_loc = ps->hist[ps->block_kw == TOK_RULE ? 2 : 3].loc;
      } else {
        ps->skip_depth = 1; /* the parser reports the '{' */
      }
      break;
    case TOK_RBRACE:
      if (ps->brace_depth) {
        ps->brace_depth--;
      } else if (ps->unbraced) {
        ps->unbraced = 0;
      } else if (ps->orphan_rbraces) {
        ps->orphan_rbraces--;
        continue;
      } else {
        /* Unmatched: one message for a run of them; the token after the
         * run goes through the filter like any other. */
        struct loc at = *lloc;
        while ((kind = next_raw(ps, lval, lloc)) == TOK_RBRACE) {
          at.end = lloc->end;
          push_hist(ps, kind, *lloc);
        }
        perr(ps, at, "unmatched '}'");
        have = 1;
        continue;
      }
      break;
    default:
      break;
    }
    if (is_keyword(sym_of(kind)))
      ps->paren_depth = 0;
    if (is_decl_token(kind) || kind == YYEOF) {
      int first_when = kind == TOK_WHEN && ps->block_kw == TOK_RULE &&
                       ps->hist[1].kind == TOK_LBRACE;
      if (ps->brace_depth > 0 && !first_when)
        return close_block(ps, kind, lval, lloc);
      if (kind == TOK_WHEN && ps->hist[1].kind == NAME &&
          ps->hist[2].kind == TOK_RULE)
        ps->unbraced = 1;
      else if (!first_when)
        ps->unbraced = 0;
    }
    if (is_decl_token(kind) || is_clause_kw(sym_of(kind)))
      ps->since_error = 1000;
    return kind;
  }
}
