/*
 * backend.c - see backend.h.
 */
#include "backend.h"

#include "duration.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "action.h"
#include "buf.h"
#include "httpc.h"
#include "log.h"
#include "names.h"

struct field_def {
  uint8_t kind;
  const char *name;
  unsigned flags;
};

static const struct field_def field_defs[] = {
#define HL_FIELD(backend, name, flags) {HL_BK_##backend, name, flags},
#include "backends.def"
};
#define NFIELD_DEFS (sizeof field_defs / sizeof field_defs[0])

/* The loaded table: declared backends, then one default per kind. */
static struct backend *g_declared;
static uint32_t g_ndeclared;
static struct backend g_defaults[HL_BK__COUNT];

/* The field's position among its kind's fields, or -1. */
static int field_index(uint8_t kind, const char *name) {
  int k = 0;
  for (size_t i = 0; i < NFIELD_DEFS; i++) {
    if (field_defs[i].kind != kind)
      continue;
    if (strcmp(field_defs[i].name, name) == 0)
      return k;
    k++;
  }
  return -1;
}

/* The i-th field of kind, or NULL. */
static const struct field_def *field_at(uint8_t kind, int idx) {
  int k = 0;
  for (size_t i = 0; i < NFIELD_DEFS; i++) {
    if (field_defs[i].kind != kind)
      continue;
    if (k++ == idx)
      return &field_defs[i];
  }
  return NULL;
}

static void free_backend(struct backend *b) {
  for (int i = 0; i < BACKEND_FIELDS_MAX; i++) {
    if (b->values[i]) {
      /* Secrets do not linger in freed memory. */
      volatile char *p = b->values[i];
      while (*p)
        *p++ = 0;
      free(b->values[i]);
    }
    b->values[i] = NULL;
    free(b->paths[i]);
    b->paths[i] = NULL;
  }
  free(b->requests);
  b->requests = NULL;
}

void backend_free_all(void) {
  for (uint32_t i = 0; i < g_ndeclared; i++)
    free_backend(&g_declared[i]);
  free(g_declared);
  g_declared = NULL;
  g_ndeclared = 0;
  for (int k = 0; k < HL_BK__COUNT; k++)
    free_backend(&g_defaults[k]);
  memset(g_defaults, 0, sizeof g_defaults);
}

const struct backend *backend_get(uint8_t kind, uint32_t index) {
  if (index == HL_NONE)
    return kind < HL_BK__COUNT && g_defaults[kind].name ? &g_defaults[kind]
                                                        : NULL;
  if (index >= g_ndeclared || g_declared[index].kind != kind)
    return NULL;
  return &g_declared[index];
}

void backend_metrics_render(struct buf *o) {
  const char *name = "healer_upstream_request_duration_seconds";
  buf_printf(o, "# HELP %s HTTP requests to the servers healer calls, "
             "by backend and its kind (connection and TLS set-up included).\n"
             "# TYPE %s histogram\n", name, name);
  struct buf lb;
  buf_init(&lb);
  for (uint32_t i = 0; i < g_ndeclared + HL_BK__COUNT; i++) {
    const struct backend *b =
        i < g_ndeclared ? &g_declared[i] : &g_defaults[i - g_ndeclared];
    if (!b->requests)
      continue;
    buf_reset(&lb);
    buf_puts(&lb, "backend=\"");
    buf_prom_label(&lb, b->name);
    buf_printf(&lb, "\",kind=\"%s\"", hl_backend_word(b->kind));
    if (!lb.oom)
      hist_render(o, name, lb.data, b->requests);
  }
  buf_free(&lb);
}

const char *backend_field(const struct backend *b, const char *name) {
  if (!b)
    return NULL;
  int i = field_index(b->kind, name);
  return i >= 0 && i < BACKEND_FIELDS_MAX ? b->values[i] : NULL;
}

const char *backend_describe(const struct backend *b, char *out,
                             size_t outlen) {
  const char *word = b->kind < HL_BK__COUNT ? hl_backend_words[b->kind] : "?";
  if (b->declared)
    snprintf(out, outlen, "%s backend '%s' (%s)", word, b->name, b->origin);
  else
    snprintf(out, outlen, "default %s backend (%s)", word, b->origin);
  return out;
}

/* ---- reading values ------------------------------------------------------ */

/* Reads a whole small file; drops one trailing newline. NULL with errno set
 * (EFBIG when over BACKEND_FILE_MAX). */
static char *read_file(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  struct buf b;
  buf_init(&b);
  char chunk[4096];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int e = errno;
      close(fd);
      buf_free(&b);
      errno = e;
      return NULL;
    }
    if (n == 0)
      break;
    if (b.len + (size_t)n > BACKEND_FILE_MAX) {
      close(fd);
      buf_free(&b);
      errno = EFBIG;
      return NULL;
    }
    buf_put(&b, chunk, (size_t)n);
  }
  close(fd);
  if (b.len && b.data[b.len - 1] == '\n')
    b.data[--b.len] = '\0';
  if (b.len && b.data[b.len - 1] == '\r')
    b.data[--b.len] = '\0';
  size_t len;
  char *s = buf_steal(&b, &len);
  if (!s)
    errno = ENOMEM;
  else if (strlen(s) != len) { /* a NUL inside: not a usable value */
    free(s);
    errno = EINVAL;
    return NULL;
  }
  return s;
}

int backend_field_fresh(const struct backend *b, const char *name, char *out,
                        size_t outlen) {
  int i = b ? field_index(b->kind, name) : -1;
  if (i < 0 || i >= BACKEND_FIELDS_MAX || !b->values[i] || !outlen)
    return -1;
  char *now = b->paths[i] ? read_file(b->paths[i]) : NULL;
  const char *v = now && *now ? now : b->values[i];
  size_t n = strlen(v);
  int rc = n < outlen ? 0 : -1;
  if (rc == 0)
    memcpy(out, v, n + 1);
  if (now) {
    volatile char *p = now;
    while (*p)
      *p++ = 0;
    free(now);
  }
  return rc;
}

struct problems {
  struct buf text; /* "a; b; c" */
  size_t n;
  bool fatal; /* at least one counts */
};

static void problem(struct problems *p, bool fatal, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct problems *p, bool fatal, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  log_printf(fatal ? LOGL_ERROR : LOGL_WARN, "%s", msg);
  if (!fatal)
    return;
  if (p->text.len)
    buf_puts(&p->text, "; ");
  buf_puts(&p->text, msg);
  p->n++;
  p->fatal = true;
}

static const char *file_error(int e) {
  return e == EFBIG    ? "larger than 64 KiB"
         : e == EINVAL ? "holds a NUL byte"
                       : strerror(e);
}

/* Fields given together or not at all (backends.def). */
static const struct pair_def {
  uint8_t kind;
  const char *a, *b;
} pair_defs[] = {
#define HL_PAIR(backend, a, b) {HL_BK_##backend, a, b},
#include "backends.def"
};

/* How a default backend's field is or would be set, for a message: the
 * variable that is set ("HEALER_JENKINS_TOKEN_FILE"), or for one that is
 * not, "HEALER_JENKINS_USER is not" or, for a secret, "neither
 * HEALER_JENKINS_TOKEN_FILE nor HEALER_JENKINS_TOKEN is". */
static void field_vars(const struct backend *b, const char *field, bool set,
                       char *out, size_t outlen);

/* Checks the fields once they are all read, as backends.def declares them:
 * URLs, durations, pairs. The message never shows a value: a Slack webhook
 * URL is a secret. */
static void check_fields(struct backend *b, const char *where, bool fatal,
                         unsigned bad, struct problems *p) {
  for (int i = 0; i < BACKEND_FIELDS_MAX; i++) {
    const struct field_def *fd = field_at(b->kind, i);
    if (!fd || !b->values[i])
      continue;
    char err[256];
    int64_t ms;
    if ((fd->flags & HL_F_URL) &&
        httpc_check_base(b->values[i], err, sizeof err) < 0) {
      problem(p, fatal, "%s, field %s: %s", where, fd->name, err);
    } else if ((fd->flags & HL_F_DURATION) &&
               hl_parse_duration(b->values[i], &ms) < 0) {
      problem(p, fatal, "%s, field %s: not a duration (write \"30s\", "
              "\"2m\", ...)", where, fd->name);
    } else {
      continue;
    }
    free(b->values[i]);
    b->values[i] = NULL;
    b->usable = false;
  }
  /* A pair half given (unless one of them already had a problem). */
  for (size_t k = 0; k < sizeof pair_defs / sizeof pair_defs[0]; k++) {
    const struct pair_def *pd = &pair_defs[k];
    int ia = field_index(b->kind, pd->a), ib = field_index(b->kind, pd->b);
    if (pd->kind != b->kind || ia < 0 || ib < 0 || (bad & (1u << ia)) ||
        (bad & (1u << ib)))
      continue;
    const char *va = b->values[ia], *vb = b->values[ib];
    if ((va == NULL) == (vb == NULL))
      continue;
    const char *set = va ? pd->a : pd->b, *unset = va ? pd->b : pd->a;
    if (b->declared) {
      problem(p, fatal, "%s: field %s is set but %s is not", where, set,
              unset);
    } else {
      char vs[300], vu[300];
      field_vars(b, set, true, vs, sizeof vs);
      field_vars(b, unset, false, vu, sizeof vu);
      problem(p, fatal, "%s is set but %s (%s)", vs, vu, where);
    }
    b->usable = false;
  }
}

/* Resolves one declared backend. */
static void load_declared(const struct hl_ruleset *rs, uint32_t idx, bool fatal,
                          struct problems *p) {
  const struct hl_backend *hb = &rs->backends[idx];
  struct backend *b = &g_declared[idx];
  b->name = hb->name;
  b->kind = hb->kind;
  b->declared = true;
  b->usable = true;
  snprintf(b->origin, sizeof b->origin, "%s:%u", hb->file ? hb->file : "?",
           hb->line);
  char where[256];
  snprintf(where, sizeof where, "%s backend '%s' (%s)",
           hb->kind < HL_BK__COUNT ? hl_backend_words[hb->kind] : "?", hb->name,
           b->origin);
  unsigned bad = 0; /* fields with a problem reported */
  for (uint32_t f = 0; f < hb->nfields; f++) {
    const struct hl_backend_field *hf = &rs->fields[hb->first_field + f];
    int i = field_index(hb->kind, hf->name);
    if (i < 0 || i >= BACKEND_FIELDS_MAX)
      continue; /* healerc rejects these */
    char *v = NULL;
    switch (hf->source) {
    case HL_SRC_LITERAL:
      v = strdup(hf->value ? hf->value : "");
      break;
    case HL_SRC_ENV: {
      const char *e = getenv(hf->value);
      if (!e || !*e) {
        problem(p, fatal, "environment variable %s is not set (%s, field %s)",
                hf->value, where, hf->name);
        bad |= 1u << i;
        b->usable = false;
        continue;
      }
      v = strdup(e);
      break;
    }
    case HL_SRC_FILE:
      v = read_file(hf->value);
      if (!v) {
        problem(p, fatal, "cannot read file %s: %s (%s, field %s)", hf->value,
                file_error(errno), where, hf->name);
        bad |= 1u << i;
        b->usable = false;
        continue;
      }
      break;
    default:
      continue;
    }
    if (!v) {
      problem(p, true, "out of memory");
      b->usable = false;
      continue;
    }
    free(b->values[i]);
    b->values[i] = v;
    free(b->paths[i]);
    b->paths[i] = hf->source == HL_SRC_FILE ? strdup(hf->value) : NULL;
  }
  for (int i = 0; i < BACKEND_FIELDS_MAX; i++) {
    const struct field_def *fd = field_at(b->kind, i);
    if (fd && (fd->flags & HL_F_REQUIRED) && !b->values[i] && b->usable) {
      problem(p, fatal, "%s: field %s is required", where, fd->name);
      bad |= 1u << i;
      b->usable = false;
    }
  }
  check_fields(b, where, fatal, bad, p);
}

/* "HEALER_JIRA" + "routing_key" -> "HEALER_JIRA_ROUTING_KEY". */
static void var_name(char *out, size_t outlen, const char *prefix,
                     const char *field, const char *suffix) {
  size_t n = (size_t)snprintf(out, outlen, "%s_", prefix);
  for (const char *s = field; *s && n + 1 < outlen; s++)
    out[n++] = (char)toupper((unsigned char)*s);
  out[n < outlen ? n : outlen - 1] = '\0';
  if (suffix)
    strncat(out, suffix, outlen - strlen(out) - 1);
}

static void field_vars(const struct backend *b, const char *field, bool set,
                       char *out, size_t outlen) {
  char var[128], varf[140];
  var_name(var, sizeof var, hl_backend_envs[b->kind], field, NULL);
  var_name(varf, sizeof varf, hl_backend_envs[b->kind], field, "_FILE");
  int i = field_index(b->kind, field);
  const struct field_def *fd = i >= 0 ? field_at(b->kind, i) : NULL;
  const char *v = getenv(var);
  if (set)
    snprintf(out, outlen, "%s", v && *v ? var : varf);
  else if (fd && (fd->flags & HL_F_SECRET))
    snprintf(out, outlen, "neither %s nor %s is", varf, var);
  else
    snprintf(out, outlen, "%s is not", var);
}

/* Resolves the default backend of kind from the environment. users names
 * a rule that needs it (for messages), or is NULL. */
static void load_default(uint8_t kind, const char *users, bool fatal,
                         struct problems *p) {
  struct backend *b = &g_defaults[kind];
  b->name = "default";
  b->kind = kind;
  b->usable = true;
  snprintf(b->origin, sizeof b->origin, "%s_*", hl_backend_envs[kind]);
  char where[256];
  snprintf(where, sizeof where, "default %s backend%s%s%s", hl_backend_words[kind],
           users ? " (used by rule " : "", users ? users : "",
           users ? ")" : "");
  unsigned bad = 0; /* fields with a problem reported */
  for (int i = 0; i < BACKEND_FIELDS_MAX; i++) {
    const struct field_def *fd = field_at(kind, i);
    if (!fd)
      break;
    char var[128], varf[140];
    var_name(var, sizeof var, hl_backend_envs[kind], fd->name, NULL);
    var_name(varf, sizeof varf, hl_backend_envs[kind], fd->name, "_FILE");
    const char *v = getenv(var), *f = getenv(varf);
    if (v && !*v)
      v = NULL;
    if (f && !*f)
      f = NULL;
    if (v && f) {
      problem(p, fatal, "set %s or %s, not both (%s)", var, varf, where);
      bad |= 1u << i;
      b->usable = false;
      continue;
    }
    if (v) {
      b->values[i] = strdup(v);
    } else if (f) {
      b->values[i] = read_file(f);
      b->paths[i] = strdup(f);
      if (!b->values[i]) {
        problem(p, fatal, "cannot read %s=%s: %s (%s)", varf, f,
                file_error(errno), where);
        bad |= 1u << i;
        b->usable = false;
        continue;
      }
    } else {
      if (fd->flags & HL_F_REQUIRED) {
        if (fd->flags & HL_F_SECRET)
          problem(p, fatal, "%s or %s is not set (%s)", varf, var, where);
        else
          problem(p, fatal, "%s is not set (%s)", var, where);
        bad |= 1u << i;
        b->usable = false;
      }
      continue;
    }
    if (!b->values[i]) {
      problem(p, true, "out of memory");
      b->usable = false;
    }
  }
  check_fields(b, where, fatal, bad, p);
}

int backend_load_all(const struct hl_ruleset *rs, bool dry_run, char *err,
                     size_t errlen) {
  backend_free_all();
  if (dry_run)
    return 0; /* nothing is called: no secret is read */
  struct problems p = {.n = 0};
  buf_init(&p.text);
  if (rs->nbackends) {
    g_declared = calloc(rs->nbackends, sizeof *g_declared);
    if (!g_declared) {
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    g_ndeclared = rs->nbackends;
  }
  /* Who needs what: rules that really run. */
  bool *need_decl = g_ndeclared ? calloc(g_ndeclared, sizeof *need_decl) : NULL;
  const char *need_default[HL_BK__COUNT] = {0};
  if (g_ndeclared && !need_decl) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  for (uint32_t r = 0; r < rs->nrules; r++) {
    const struct hl_rule *rule = &rs->rules[r];
    if (rule->flags & HL_RULE_DRY_RUN)
      continue;
    bool runs = true;
    for (uint32_t s = 0; s < rule->nsteps; s++)
      if (!action_ops_for(rs->steps[rule->first_step + s].action))
        runs = false;
    if (!runs)
      continue; /* recorded as dry_run: calls nothing */
    for (uint32_t s = 0; s < rule->nsteps; s++) {
      const struct hl_step *st = &rs->steps[rule->first_step + s];
      uint8_t bk = hl_action_backend(st->action);
      if (st->backend_expr.count) {
        /* Picked per alert: any declared backend of the kind may be. */
        for (uint32_t b = 0; b < g_ndeclared; b++)
          if (rs->backends[b].kind == bk)
            need_decl[b] = true;
      } else if (bk >= HL_BK__COUNT) {
        continue;
      } else if (st->backend == HL_NONE) {
        if (!need_default[bk])
          need_default[bk] = rule->name;
      } else if (st->backend < g_ndeclared) {
        need_decl[st->backend] = true;
      }
    }
    for (uint32_t n = 0; n < rule->nnotify; n++) {
      const struct hl_notify *hn = &rs->notifies[rule->first_notify + n];
      if (hn->backend == HL_NONE) {
        if (hn->kind < HL_BK__COUNT && !need_default[hn->kind])
          need_default[hn->kind] = rule->name;
      } else if (hn->backend < g_ndeclared) {
        need_decl[hn->backend] = true;
      }
    }
  }
  /* Only what is needed is read: nothing else can be called. */
  for (uint32_t i = 0; i < g_ndeclared; i++) {
    struct backend *b = &g_declared[i];
    b->name = rs->backends[i].name;
    b->kind = rs->backends[i].kind;
    b->declared = true;
    if (!need_decl[i])
      continue;
    load_declared(rs, i, true, &p);
    b->needed = true;
  }
  for (uint8_t k = 0; k < HL_BK__COUNT; k++) {
    if (!need_default[k])
      continue;
    load_default(k, need_default[k], true, &p);
    g_defaults[k].needed = true;
  }
  /* A breaker pages through the default PagerDuty when its rule names
   * none: read it if it is configured, but its absence is not fatal (the
   * breaker still stops the rule; safety.h). */
  const char *breaker_rule = NULL;
  for (uint32_t r = 0; r < rs->nrules && !breaker_rule; r++)
    if (rs->rules[r].breaker_failures && !(rs->rules[r].flags & HL_RULE_DRY_RUN))
      breaker_rule = rs->rules[r].name;
  if (breaker_rule && !need_default[HL_BK_PAGERDUTY]) {
    load_default(HL_BK_PAGERDUTY, breaker_rule, false, &p);
    g_defaults[HL_BK_PAGERDUTY].needed = true;
  }
  free(need_decl);
  /* Their request timings; without memory for one, a backend's requests
   * are simply not timed. */
  for (uint32_t i = 0; i < g_ndeclared + HL_BK__COUNT; i++) {
    struct backend *b = i < g_ndeclared ? &g_declared[i] : &g_defaults[i - g_ndeclared];
    if (b->needed && (b->requests = malloc(sizeof *b->requests)))
      hist_init(b->requests, &hist_upstream);
  }
  int rc = 0;
  if (p.fatal) {
    int n =
        snprintf(err, errlen, "%zu backend setting%s missing or invalid: %s",
                 p.n, p.n == 1 ? "" : "s", p.text.data ? p.text.data : "");
    if (n >= 0 && (size_t)n >= errlen && errlen > 4)
      memcpy(err + errlen - 4, "...", 4);
    rc = -1;
  }
  buf_free(&p.text);
  return rc;
}

/* ---- redaction ----------------------------------------------------------- */

static void redact_one(char *s, const char *secret, size_t n) {
  if (n < 4)
    return; /* too short to tell from ordinary text */
  for (char *p = s; (p = strstr(p, secret));) {
    size_t rest = strlen(p + n);
    memcpy(p, "***", 3);
    memmove(p + 3, p + n, rest + 1);
    p += 3;
  }
}

void backend_redact(const struct backend *b, char *s) {
  if (!b || !s)
    return;
  for (int i = 0; i < BACKEND_FIELDS_MAX; i++) {
    const struct field_def *fd = field_at(b->kind, i);
    const char *v = b->values[i];
    if (!fd || !v || !(fd->flags & HL_F_SECRET))
      continue;
    redact_one(s, v, strlen(v));
    const char *scheme = strstr(v, "://");
    const char *path = scheme ? strchr(scheme + 3, '/') : NULL;
    if (path && path[1])
      redact_one(s, path, strlen(path));
  }
}

/* ---- the remediation tag ------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

static uint64_t fnv_str(uint64_t h, const char *s) {
  if (s)
    h = fnv(h, s, strlen(s));
  return fnv(h, "", 1);
}

const char *backend_rem_tag(const struct remediation *r,
                            char out[BACKEND_TAG_MAX]) {
  uint64_t h = 0xcbf29ce484222325ull;
  h = fnv_str(h, r->rule_name);
  h = fnv_str(h, r->fingerprint);
  h = fnv_str(h, r->starts_at);
  h = fnv(h, &r->alert_status, sizeof r->alert_status);
  snprintf(out, BACKEND_TAG_MAX, "%016llx", (unsigned long long)h);
  return out;
}
