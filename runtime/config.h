/*
 * config.h - healer's settings, from flags and HEALER_* environment
 * variables (a flag wins over its variable, which wins over the default).
 *
 * Every setting is one row of the table in config.c: flag, variable, type,
 * default, range and help; --help is printed from it.
 *
 * Ownership: string settings point into argv or the environment (borrowed;
 * both outlive the process's use of them).
 */
#ifndef HEALER_CONFIG_H
#define HEALER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"

enum config_action {
  CONFIG_RUN,
  CONFIG_HELP,
  CONFIG_VERSION,
  CONFIG_LIST_RULES,
  CONFIG_CHECK
};

struct config {
  enum config_action action;
  const char *listen;         /* host:port, [v6]:port, :port */
  uint64_t workers;
  uint64_t http_threads;
  uint64_t queue_size;
  uint64_t max_body;          /* bytes */
  uint64_t max_body_total;    /* bytes of all bodies in flight */
  uint64_t max_connections;
  uint64_t max_connections_per_ip; /* 0: no cap */
  uint64_t history;           /* finished remediations kept for the API */
  uint64_t dedupe_max;
  uint64_t cooldown_max;
  int64_t connection_timeout_ms;
  int64_t request_timeout_ms; /* a request whole within this of its first byte */
  int64_t drain_timeout_ms;
  int64_t dedupe_ttl_ms;
  int64_t start_delay_ms;     /* hold-off before a remediation starts */
  bool dry_run;
  bool pause;                 /* --pause */
  bool auth_all;
  const char *auth_bearer_file;
  const char *auth_basic_file;
  const char *port_file;      /* write the bound port here, or NULL */
  const char *tls_cert_file;  /* inbound HTTPS: healer's certificate chain (PEM) */
  const char *tls_key_file;   /* and its private key (PEM) */
  const char *tls_client_ca_file; /* mutual TLS: clients' CA(s) (PEM), or NULL */
  const char *state_dir;      /* the journal's directory */
  bool journal_recover;       /* skip corrupt journal records (they are lost) */
  uint64_t journal_compact;   /* compact the journal beyond this size (bytes) */
  enum log_format log_format;
  enum log_level log_level;
};

/* Fills c from defaults, the environment, then argv. 0, or -1 with a
 * message in err naming the flag or variable at fault. */
int config_load(struct config *c, int argc, char **argv, char *err,
                size_t errlen);

void config_usage(FILE *out);

#endif
