/*
 * alert.h - one alert of a webhook, as plain C data.
 *
 * The decoder (runtime/decode.c) fills these from Alertmanager's JSON;
 * matching, rendering (core/) and deciding read them. Nothing here knows
 * about JSON.
 *
 * Ownership: every pointer is borrowed from the arena the decoder was given
 * (see decode.h) and is valid until that arena is reset.
 */
#ifndef HEALER_ALERT_H
#define HEALER_ALERT_H

#include <stddef.h>
#include <stdint.h>

struct kv {
  const char *name;
  const char *value;
};

struct alert {
  uint8_t status;             /* HL_STATUS_FIRING or HL_STATUS_RESOLVED */
  const char *alertname;      /* labels.alertname, "" when absent */
  const char *fingerprint;
  const char *starts_at;      /* RFC 3339, normalised: UTC, "Z", no trailing zeros */
  const char *ends_at;        /* "" when absent */
  const char *generator_url;  /* "" when absent */
  const struct kv *labels;    /* in payload order */
  size_t nlabels;
  const struct kv *annotations;
  size_t nannotations;
};

struct payload {
  const char *receiver;       /* "" when absent */
  const char *group_key;      /* "" when absent */
  const struct alert *alerts;
  size_t nalerts;
};

/* The value of a label or annotation, or NULL when the alert lacks it. */
const char *alert_label(const struct alert *a, const char *name);
const char *alert_annotation(const struct alert *a, const char *name);

#endif
