/*
 * decode.c - see decode.h.
 */
#include "decode.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"

/* The arena cJSON allocates from on this thread, while decode_payload()
 * runs; NULL otherwise (then cJSON uses malloc, e.g. in tests). */
static _Thread_local struct bump *tl_arena;

static void *hook_malloc(size_t n) {
  struct bump *a = tl_arena;
  return a ? bump_alloc(a, n) : malloc(n);
}

static void hook_free(void *p) {
  if (!tl_arena) free(p);     /* arena memory goes with the arena */
}

static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void install_hooks(void) {
  cJSON_Hooks hooks = {hook_malloc, hook_free};
  cJSON_InitHooks(&hooks);
}

void decode_init(void) { pthread_once(&hooks_once, install_hooks); }

__attribute__((format(printf, 2, 3)))
static int fail(char err[DECODE_ERR_MAX], const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, DECODE_ERR_MAX, fmt, ap);
  va_end(ap);
  return -1;
}

/* An object of strings into an arena array. */
static int string_map(const cJSON *obj, const char *what, size_t i,
                      struct bump *a, const struct kv **out, size_t *n,
                      char err[DECODE_ERR_MAX]) {
  if (!cJSON_IsObject(obj))
    return fail(err, "alerts[%zu].%s: expected an object of strings", i, what);
  size_t count = 0;
  for (const cJSON *c = obj->child; c; c = c->next) count++;
  struct kv *kv = count ? bump_alloc(a, count * sizeof *kv) : NULL;
  if (count && !kv) return fail(err, "out of memory");
  size_t k = 0;
  for (const cJSON *c = obj->child; c; c = c->next, k++) {
    if (!cJSON_IsString(c) || !c->valuestring)
      return fail(err, "alerts[%zu].%s.%.64s: expected a string", i, what,
                  c->string ? c->string : "?");
    kv[k].name = c->string ? c->string : "";
    kv[k].value = c->valuestring;
  }
  *out = kv;
  *n = count;
  return 0;
}

/* A string member: required, or optional (then "" when absent). */
static int string_field(const cJSON *obj, const char *key, bool required,
                        size_t i, const char **out, char err[DECODE_ERR_MAX]) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!v) {
    if (required) return fail(err, "alerts[%zu].%s: missing", i, key);
    *out = "";
    return 0;
  }
  if (!cJSON_IsString(v) || !v->valuestring)
    return fail(err, "alerts[%zu].%s: expected a string", i, key);
  *out = v->valuestring;
  return 0;
}

static int decode_alert(const cJSON *j, size_t i, struct bump *arena,
                        struct alert *a, char err[DECODE_ERR_MAX]) {
  if (!cJSON_IsObject(j)) return fail(err, "alerts[%zu]: expected an object", i);
  const char *status;
  if (string_field(j, "status", true, i, &status, err) < 0) return -1;
  if (strcmp(status, "firing") == 0) a->status = HL_STATUS_FIRING;
  else if (strcmp(status, "resolved") == 0) a->status = HL_STATUS_RESOLVED;
  else
    return fail(err, "alerts[%zu].status: expected \"firing\" or \"resolved\"", i);
  const cJSON *labels = cJSON_GetObjectItemCaseSensitive(j, "labels");
  if (!labels) return fail(err, "alerts[%zu].labels: missing", i);
  if (string_map(labels, "labels", i, arena, &a->labels, &a->nlabels, err) < 0)
    return -1;
  const cJSON *ann = cJSON_GetObjectItemCaseSensitive(j, "annotations");
  a->annotations = NULL;
  a->nannotations = 0;
  if (ann && !cJSON_IsNull(ann) &&
      string_map(ann, "annotations", i, arena, &a->annotations,
                 &a->nannotations, err) < 0)
    return -1;
  if (string_field(j, "startsAt", true, i, &a->starts_at, err) < 0 ||
      string_field(j, "fingerprint", true, i, &a->fingerprint, err) < 0 ||
      string_field(j, "endsAt", false, i, &a->ends_at, err) < 0 ||
      string_field(j, "generatorURL", false, i, &a->generator_url, err) < 0)
    return -1;
  const char *name = alert_label(a, "alertname");
  a->alertname = name ? name : "";
  return 0;
}

static const char *opt_string(const cJSON *root, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
  return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

int decode_payload(const char *body, size_t len, struct bump *arena,
                   struct payload *out, char err[DECODE_ERR_MAX]) {
  size_t lead = 0;
  while (lead < len && strchr(" \t\r\n", body[lead]) && body[lead]) lead++;
  if (lead == len) return fail(err, "empty body");
  const char *end = NULL;
  decode_init();
  tl_arena = arena;
  cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
  int rc = -1;
  if (!root) {
    size_t at = end && end >= body && end <= body + len ? (size_t)(end - body) : 0;
    fail(err, "malformed JSON near byte %zu", at);
    goto done;
  }
  for (const char *p = end; p < body + len; p++)
    if (!strchr(" \t\r\n", *p) || !*p) {
      fail(err, "malformed JSON: unexpected data after the object at byte %zu",
           (size_t)(p - body));
      goto done;
    }
  if (!cJSON_IsObject(root)) {
    fail(err, "expected a JSON object");
    goto done;
  }
  const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
  if (!version) {
    fail(err, "version: missing (expected \"4\")");
    goto done;
  }
  if (!cJSON_IsString(version) || !version->valuestring) {
    fail(err, "version: expected the string \"4\"");
    goto done;
  }
  if (strcmp(version->valuestring, "4") != 0) {
    fail(err, "version: unsupported version \"%.16s\" (expected \"4\")",
         version->valuestring);
    goto done;
  }
  const cJSON *alerts = cJSON_GetObjectItemCaseSensitive(root, "alerts");
  if (!alerts) {
    fail(err, "alerts: missing");
    goto done;
  }
  if (!cJSON_IsArray(alerts)) {
    fail(err, "alerts: expected an array");
    goto done;
  }
  size_t n = 0;
  for (const cJSON *c = alerts->child; c; c = c->next) n++;
  struct alert *list = n ? bump_alloc(arena, n * sizeof *list) : NULL;
  if (n && !list) {
    fail(err, "out of memory");
    goto done;
  }
  size_t i = 0;
  for (const cJSON *c = alerts->child; c; c = c->next, i++)
    if (decode_alert(c, i, arena, &list[i], err) < 0) goto done;
  out->receiver = opt_string(root, "receiver");
  out->group_key = opt_string(root, "groupKey");
  out->alerts = list;
  out->nalerts = n;
  rc = 0;
done:
  /* The tree lives in the arena: nothing to delete. */
  tl_arena = NULL;
  return rc;
}

const char *alert_label(const struct alert *a, const char *name) {
  for (size_t i = 0; i < a->nlabels; i++)
    if (strcmp(a->labels[i].name, name) == 0) return a->labels[i].value;
  return NULL;
}

const char *alert_annotation(const struct alert *a, const char *name) {
  for (size_t i = 0; i < a->nannotations; i++)
    if (strcmp(a->annotations[i].name, name) == 0) return a->annotations[i].value;
  return NULL;
}
