/*
 * alerts.c - alerts for the rule tools (see alerts.h).
 */
#include "alerts.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "rtime.h"

int tool_parse_time(const char *s, int64_t *ms) {
  char norm[DECODE_TIME_MAX];
  if (!s || decode_rfc3339(s, norm) != 0) return -1;
  int y, mo, d, h, mi, sec, n = 0;
  if (sscanf(norm, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) return -1;
  int64_t frac = 0, scale = 1000;
  if (norm[n] == '.')
    for (const char *p = norm + n + 1; *p >= '0' && *p <= '9'; p++)
      if (scale > 1) {
        scale /= 10;
        frac += (*p - '0') * scale;
      }
  int64_t days = rtime_days_from_civil(y, (unsigned)mo, (unsigned)d);
  *ms = ((days * 24 + h) * 60 + mi) * 60000 + sec * 1000LL + frac;
  return 0;
}

const char *tool_format_time(int64_t ms, char out[40]) {
  int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  int64_t rest = ms - days * 86400000, y;
  unsigned mo, d;
  rtime_civil_from_days(days, &y, &mo, &d);
  int n = snprintf(out, 40, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d", y, mo, d,
                   (int)(rest / 3600000), (int)(rest / 60000 % 60), (int)(rest / 1000 % 60));
  if (rest % 1000) n += snprintf(out + n, (size_t)(40 - n), ".%03d", (int)(rest % 1000));
  snprintf(out + n, (size_t)(40 - n), "Z");
  return out;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* FNV-1a 64 of the labels, sorted by name: "name=value\xff" each. */
static void fingerprint(const cJSON *labels, char out[17]) {
  size_t n = 0;
  const cJSON *l;
  cJSON_ArrayForEach(l, labels) n++;
  const char **names = n ? calloc(n, sizeof *names) : NULL;
  size_t k = 0;
  cJSON_ArrayForEach(l, labels) if (names && l->string) names[k++] = l->string;
  if (names) qsort(names, k, sizeof *names, cmp_str);
  uint64_t h = UINT64_C(0xcbf29ce484222325);
  for (size_t i = 0; i < k; i++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, names[i]);
    const char *parts[2] = {names[i], cJSON_IsString(v) ? v->valuestring : ""};
    for (int p = 0; p < 2; p++) {
      for (const unsigned char *c = (const unsigned char *)parts[p]; *c; c++) {
        h ^= *c;
        h *= UINT64_C(0x100000001b3);
      }
      h ^= p ? 0xff : '=';
      h *= UINT64_C(0x100000001b3);
    }
  }
  free(names);
  snprintf(out, 17, "%016" PRIx64, h);
}

static void fill_alert(cJSON *a, int64_t at_ms) {
  if (!cJSON_IsObject(a)) return;   /* the decoder says what is wrong */
  if (!cJSON_HasObjectItem(a, "status")) cJSON_AddStringToObject(a, "status", "firing");
  if (!cJSON_HasObjectItem(a, "startsAt")) {
    char t[40];
    cJSON_AddStringToObject(a, "startsAt", tool_format_time(at_ms, t));
  }
  if (!cJSON_HasObjectItem(a, "fingerprint")) {
    char fp[17];
    fingerprint(cJSON_GetObjectItemCaseSensitive(a, "labels"), fp);
    cJSON_AddStringToObject(a, "fingerprint", fp);
  }
}

int tool_alerts_decode(cJSON *root, int64_t at_ms, struct bump *arena, struct payload *out,
                       char *err, size_t errlen) {
  cJSON *payload = root, *wrapper = NULL;
  if (cJSON_IsObject(root) && !cJSON_HasObjectItem(root, "alerts")) {
    /* One alert: the payload around it. */
    wrapper = cJSON_CreateObject();
    cJSON *alerts = cJSON_AddArrayToObject(wrapper, "alerts");
    if (!alerts) {
      cJSON_Delete(wrapper);
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    cJSON_AddItemReferenceToArray(alerts, root);
    payload = wrapper;
  }
  if (cJSON_IsObject(payload) && !cJSON_HasObjectItem(payload, "version"))
    cJSON_AddStringToObject(payload, "version", "4");
  cJSON *alerts = cJSON_GetObjectItemCaseSensitive(payload, "alerts"), *a;
  if (cJSON_IsArray(alerts)) cJSON_ArrayForEach(a, alerts) fill_alert(a, at_ms);
  char *text = cJSON_PrintUnformatted(payload);
  cJSON_Delete(wrapper);
  if (!text) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  char derr[DECODE_ERR_MAX];
  int rc = decode_payload(text, strlen(text), arena, out, derr);
  cJSON_free(text);
  if (rc != 0) snprintf(err, errlen, "%s", derr);
  return rc;
}
