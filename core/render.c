/*
 * render.c - see render.h.
 */
#include "render.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"


/* ---- functions ---------------------------------------------------------- */

char *render_host(struct bump *a, const char *s) {
  size_t n = strlen(s);
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (close) return bump_strndup(a, s + 1, (size_t)(close - s - 1));
    return bump_strndup(a, s, n);
  }
  const char *colon = strchr(s, ':');
  if (colon && !strchr(colon + 1, ':') &&
      strspn(colon + 1, "0123456789") == strlen(colon + 1))
    return bump_strndup(a, s, (size_t)(colon - s));
  return bump_strndup(a, s, n);
}

char *render_replace(struct bump *a, const char *s, const char *from,
                     const char *to) {
  size_t fl = strlen(from), tl = strlen(to), n = strlen(s);
  if (fl == 0) return bump_strndup(a, s, n);
  size_t count = 0;
  for (const char *p = strstr(s, from); p; p = strstr(p + fl, from)) count++;
  size_t len = n;
  if (tl > fl) {
    if (count > (SIZE_MAX - n - 1) / (tl - fl)) return NULL;
    len += count * (tl - fl);
  } else {
    len -= count * (fl - tl);
  }
  char *out = bump_alloc(a, len + 1), *o = out;
  if (!out) return NULL;
  const char *p = s;
  for (const char *q = strstr(p, from); q; q = strstr(p, from)) {
    memcpy(o, p, (size_t)(q - p));
    o += q - p;
    memcpy(o, to, tl);
    o += tl;
    p = q + fl;
  }
  size_t rest = strlen(p);
  memcpy(o, p, rest + 1);
  return out;
}

static char *call(struct bump *a, uint8_t fn, const char *const *arg) {
  switch (fn) {
  case HL_FN_HOST: return render_host(a, arg[0]);
  case HL_FN_LOWER:
  case HL_FN_UPPER: {
    char *o = bump_strndup(a, arg[0], strlen(arg[0]));
    if (o)
      for (char *p = o; *p; p++)
        if ((unsigned char)*p < 0x80)
          *p = (char)(fn == HL_FN_LOWER ? tolower((unsigned char)*p)
                                        : toupper((unsigned char)*p));
    return o;
  }
  case HL_FN_TRIM_PREFIX: {
    size_t pl = strlen(arg[1]);
    const char *s = strncmp(arg[0], arg[1], pl) == 0 ? arg[0] + pl : arg[0];
    return bump_strndup(a, s, strlen(s));
  }
  case HL_FN_TRIM_SUFFIX: {
    size_t n = strlen(arg[0]), sl = strlen(arg[1]);
    if (sl <= n && memcmp(arg[0] + n - sl, arg[1], sl) == 0) n -= sl;
    return bump_strndup(a, arg[0], n);
  }
  case HL_FN_REPLACE: return render_replace(a, arg[0], arg[1], arg[2]);
  default: return NULL;       /* render_check() rules this out */
  }
}

/* ---- evaluation ---------------------------------------------------------- */

static const char *field_value(const struct alert *a, uint8_t f) {
  switch (f) {
  case HL_FIELD_FINGERPRINT: return a->fingerprint;
  case HL_FIELD_STARTS_AT: return a->starts_at;
  case HL_FIELD_ENDS_AT: return a->ends_at;
  case HL_FIELD_GENERATOR_URL: return a->generator_url;
  case HL_FIELD_STATUS: return a->status == HL_STATUS_RESOLVED ? "resolved" : "firing";
  case HL_FIELD_ALERTNAME: return a->alertname;
  default: return "";
  }
}

enum render_status render_expr(const struct hl_ruleset *rs, struct hl_expr e,
                               const struct alert *a, struct bump *arena,
                               const char **out,
                               struct render_missing *missing) {
  const char *stack[RENDER_STACK];
  size_t sp = 0;
  struct render_missing first = {NULL, NULL};
  for (uint32_t i = 0; i < e.count; i++) {
    const struct hl_insn *in = &rs->insns[e.first + i];
    switch (in->op) {
    case HL_OP_LIT:
      stack[sp++] = in->str;
      break;
    case HL_OP_LABEL:
    case HL_OP_ANNOTATION: {
      bool label = in->op == HL_OP_LABEL;
      const char *v = label ? alert_label(a, in->str) : alert_annotation(a, in->str);
      if (!v && !first.name) {
        first.kind = label ? "label" : "annotation";
        first.name = in->str;
      }
      stack[sp++] = v;
      break;
    }
    case HL_OP_FIELD:
      stack[sp++] = field_value(a, in->arg);
      break;
    case HL_OP_CALL: {
      size_t n = hl_func_nargs[in->arg];
      const char *const *args = &stack[sp - n];
      bool absent = false;
      for (size_t k = 0; k < n; k++) absent |= args[k] == NULL;
      const char *r = NULL;
      if (!absent && !(r = call(arena, in->arg, args))) return RENDER_NOMEM;
      sp -= n;
      stack[sp++] = r;
      break;
    }
    case HL_OP_CONCAT: {
      size_t n = in->arg, len = 0;
      bool absent = false;
      for (size_t k = sp - n; k < sp; k++) {
        if (!stack[k]) absent = true;
        else len += strlen(stack[k]);
      }
      char *r = NULL;
      if (!absent) {
        if (!(r = bump_alloc(arena, len + 1))) return RENDER_NOMEM;
        char *o = r;
        for (size_t k = sp - n; k < sp; k++) {
          size_t l = strlen(stack[k]);
          memcpy(o, stack[k], l);
          o += l;
        }
        *o = '\0';
      }
      sp -= n;
      stack[sp++] = r;
      break;
    }
    case HL_OP_DEFAULT: {
      const char *d = stack[--sp];
      if (!stack[sp - 1]) stack[sp - 1] = d;
      break;
    }
    default:
      break;                  /* render_check() rules this out */
    }
  }
  if (e.count == 0 || sp != 1) {
    *out = "";
    return RENDER_OK;
  }
  if (!stack[0]) {
    if (missing) {
      missing->kind = first.kind ? first.kind : "label";
      missing->name = first.name ? first.name : "?";
    }
    return RENDER_ABSENT;
  }
  *out = stack[0];
  return RENDER_OK;
}

int render_check(const struct hl_ruleset *rs, struct hl_expr e, char *err,
                 size_t errlen) {
  if (e.count == 0) return 0;
  if (e.first > rs->ninsns || e.count > rs->ninsns - e.first) {
    snprintf(err, errlen, "expression [%u, +%u) outside insns[%u]", e.first,
             e.count, rs->ninsns);
    return -1;
  }
  size_t sp = 0;
  for (uint32_t i = 0; i < e.count; i++) {
    const struct hl_insn *in = &rs->insns[e.first + i];
    size_t pop = 0;
    switch (in->op) {
    case HL_OP_LIT:
    case HL_OP_LABEL:
    case HL_OP_ANNOTATION:
      if (!in->str) goto bad;
      break;
    case HL_OP_FIELD:
      if (in->arg >= HL_FIELD__COUNT) goto bad;
      break;
    case HL_OP_CALL:
      if (in->arg >= HL_FN__COUNT) goto bad;
      pop = hl_func_nargs[in->arg];
      break;
    case HL_OP_CONCAT: pop = in->arg; break;
    case HL_OP_DEFAULT: pop = 2; break;
    default: goto bad;
    }
    if (pop > sp) goto bad;
    sp = sp - pop + 1;
    if (sp > RENDER_STACK) {
      snprintf(err, errlen, "expression at insns[%u] is deeper than %d", e.first,
               RENDER_STACK);
      return -1;
    }
    continue;
  bad:
    snprintf(err, errlen, "invalid instruction insns[%u] (op %u, arg %u)",
             e.first + i, in->op, in->arg);
    return -1;
  }
  if (sp != 1) {
    snprintf(err, errlen, "expression at insns[%u] leaves %zu values", e.first, sp);
    return -1;
  }
  return 0;
}

/* ---- decompiling --------------------------------------------------------- */

enum frag_kind { FRAG_LIT, FRAG_VAR, FRAG_OTHER };

struct frag {
  enum frag_kind kind;
  char *text;                 /* source form; malloc'd */
  char *inner;                /* FRAG_LIT: raw text; FRAG_VAR: "instance",
                                 "labels.x", ... (for ${...}); malloc'd */
};

static bool simple_name(const char *s) {
  if (!(isalpha((unsigned char)*s) || *s == '_')) return false;
  for (; *s; s++)
    if (!(isalnum((unsigned char)*s) || *s == '_')) return false;
  return true;
}

static void put_lit_text(struct buf *b, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '"': buf_puts(b, "\\\""); break;
    case '\\': buf_puts(b, "\\\\"); break;
    case '\n': buf_puts(b, "\\n"); break;
    case '\t': buf_puts(b, "\\t"); break;
    case '\r': buf_puts(b, "\\r"); break;
    case '$': buf_puts(b, "\\$"); break;
    default:
      if ((unsigned char)*s < 0x20) buf_printf(b, "\\u{%x}", (unsigned char)*s);
      else buf_putc(b, *s);
    }
  }
}

static char *dup_or_null(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

void render_source(const struct hl_ruleset *rs, struct hl_expr e,
                   struct buf *out) {
  struct frag st[RENDER_STACK];
  size_t sp = 0;
  char err[128];
  if (e.count == 0) return;
  if (render_check(rs, e, err, sizeof err) < 0) {
    buf_puts(out, "<invalid>");
    return;
  }
  for (uint32_t i = 0; i < e.count; i++) {
    const struct hl_insn *in = &rs->insns[e.first + i];
    struct buf b;
    buf_init(&b);
    struct frag f = {FRAG_OTHER, NULL, NULL};
    switch (in->op) {
    case HL_OP_LIT:
      buf_putc(&b, '"');
      put_lit_text(&b, in->str);
      buf_putc(&b, '"');
      f.kind = FRAG_LIT;
      f.inner = dup_or_null(in->str);
      break;
    case HL_OP_LABEL:
    case HL_OP_ANNOTATION:
    case HL_OP_FIELD: {
      struct buf inner;
      buf_init(&inner);
      if (in->op == HL_OP_FIELD) buf_printf(&inner, "alert.%s", hl_field_names[in->arg]);
      else if (in->op == HL_OP_ANNOTATION) buf_printf(&inner, "annotations.%s", in->str);
      else if (simple_name(in->str) && strcmp(in->str, "labels") != 0 &&
               strcmp(in->str, "annotations") != 0 && strcmp(in->str, "alert") != 0)
        buf_puts(&inner, in->str);
      else buf_printf(&inner, "labels.%s", in->str);
      buf_printf(&b, "$%s", inner.data ? inner.data : "");
      f.kind = FRAG_VAR;
      f.inner = buf_steal(&inner, NULL);
      break;
    }
    case HL_OP_CALL: {
      size_t n = hl_func_nargs[in->arg];
      buf_printf(&b, "%s(", hl_func_names[in->arg]);
      for (size_t k = sp - n; k < sp; k++)
        buf_printf(&b, "%s%s", k > sp - n ? ", " : "", st[k].text ? st[k].text : "");
      buf_putc(&b, ')');
      for (size_t k = sp - n; k < sp; k++) {
        free(st[k].text);
        free(st[k].inner);
      }
      sp -= n;
      break;
    }
    case HL_OP_CONCAT: {
      size_t n = in->arg;
      buf_putc(&b, '"');
      for (size_t k = sp - n; k < sp; k++) {
        if (st[k].kind == FRAG_LIT) put_lit_text(&b, st[k].inner ? st[k].inner : "");
        else if (st[k].kind == FRAG_VAR) buf_printf(&b, "${%s}", st[k].inner ? st[k].inner : "");
        else buf_printf(&b, "${%s}", st[k].text ? st[k].text : "");
        free(st[k].text);
        free(st[k].inner);
      }
      buf_putc(&b, '"');
      sp -= n;
      break;
    }
    case HL_OP_DEFAULT:
      buf_printf(&b, "%s ?? %s", st[sp - 2].text ? st[sp - 2].text : "",
                 st[sp - 1].text ? st[sp - 1].text : "");
      for (size_t k = sp - 2; k < sp; k++) {
        free(st[k].text);
        free(st[k].inner);
      }
      sp -= 2;
      break;
    default:
      break;
    }
    f.text = buf_steal(&b, NULL);
    st[sp++] = f;
  }
  buf_puts(out, st[0].text ? st[0].text : "");
  free(st[0].text);
  free(st[0].inner);
}
