/*
 * config.c - see config.h.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rtime.h"

enum opt_type {
  OPT_STRING,
  OPT_UINT,                   /* a count */
  OPT_SIZE,                   /* bytes: 1048576, 512k, 4M */
  OPT_DURATION,               /* 30s, 500ms, 2m; a bare number is seconds */
  OPT_BOOL,
  OPT_LOG_FORMAT,
  OPT_LOG_LEVEL,
  OPT_ACTION                  /* --help, --version, ... */
};

struct opt {
  const char *flag;
  const char *env;            /* NULL: flag only */
  enum opt_type type;
  size_t off;                 /* into struct config */
  const char *def;            /* default, parsed like a value; NULL: none */
  uint64_t min, max;          /* for numbers */
  const char *arg;            /* for --help */
  const char *help;
  int action;                 /* for OPT_ACTION */
};

#define OFF(f) offsetof(struct config, f)

static const struct opt opts[] = {
    {"--listen", "HEALER_LISTEN", OPT_STRING, OFF(listen), "127.0.0.1:9095", 0, 0,
     "ADDR", "address to listen on: host:port, [v6]:port or :port (port 0: any free port)", 0},
    {"--workers", "HEALER_WORKERS", OPT_UINT, OFF(workers), "4", 1, 256, "N",
     "remediations run at the same time", 0},
    {"--queue-size", "HEALER_QUEUE_SIZE", OPT_UINT, OFF(queue_size), "1024", 1, 1000000,
     "N", "remediations waiting for a worker; beyond it webhooks get 503", 0},
    {"--max-body", "HEALER_MAX_BODY", OPT_SIZE, OFF(max_body), "4M", 1024, 1u << 30,
     "SIZE", "largest webhook body accepted (413 beyond it)", 0},
    {"--max-body-total", "HEALER_MAX_BODY_TOTAL", OPT_SIZE, OFF(max_body_total), "256M", 1024,
     UINT64_C(1) << 40, "SIZE",
     "memory all webhook bodies being received may take together (503 beyond it)", 0},
    {"--dry-run", "HEALER_DRY_RUN", OPT_BOOL, OFF(dry_run), "false", 0, 0, NULL,
     "record and log remediations, call nothing", 0},
    {"--pause", "HEALER_PAUSE", OPT_BOOL, OFF(pause), "false", 0, 0, NULL,
     "start paused: record remediations as skipped (paused) until POST /api/v1/resume", 0},
    {"--log-format", "HEALER_LOG_FORMAT", OPT_LOG_FORMAT, OFF(log_format), "text", 0, 0,
     "text|json", "log line format", 0},
    {"--log-level", "HEALER_LOG_LEVEL", OPT_LOG_LEVEL, OFF(log_level), "info", 0, 0,
     "LEVEL", "debug, info, warn or error", 0},
    {"--auth-bearer-file", "HEALER_AUTH_BEARER_FILE", OPT_STRING, OFF(auth_bearer_file),
     NULL, 0, 0, "PATH", "require Authorization: Bearer <the token in PATH>", 0},
    {"--auth-basic-file", "HEALER_AUTH_BASIC_FILE", OPT_STRING, OFF(auth_basic_file),
     NULL, 0, 0, "PATH", "require HTTP basic auth with the user:password in PATH", 0},
    {"--auth-all", "HEALER_AUTH_ALL", OPT_BOOL, OFF(auth_all), "false", 0, 0, NULL,
     "also require auth on /healthz, /readyz and /metrics", 0},
    {"--drain-timeout", "HEALER_DRAIN_TIMEOUT", OPT_DURATION, OFF(drain_timeout_ms),
     "30s", 0, 3600000, "DUR", "on SIGTERM, how long to finish queued work", 0},
    {"--http-threads", "HEALER_HTTP_THREADS", OPT_UINT, OFF(http_threads), "2", 1, 64,
     "N", "HTTP threads (libmicrohttpd thread pool)", 0},
    {"--connection-timeout", "HEALER_CONNECTION_TIMEOUT", OPT_DURATION,
     OFF(connection_timeout_ms), "30s", 1000, 3600000, "DUR",
     "close connections idle for this long", 0},
    {"--request-timeout", "HEALER_REQUEST_TIMEOUT", OPT_DURATION, OFF(request_timeout_ms),
     "10s", 1000, 3600000, "DUR",
     "close a connection whose request is not whole this long after its first byte", 0},
    {"--max-connections", "HEALER_MAX_CONNECTIONS", OPT_UINT, OFF(max_connections),
     "4096", 16, 1000000, "N", "open connections at most", 0},
    {"--max-connections-per-ip", "HEALER_MAX_CONNECTIONS_PER_IP", OPT_UINT,
     OFF(max_connections_per_ip), "256", 0, 1000000, "N",
     "open connections from one client address at most (0: no cap; behind a proxy, "
     "every client has the proxy's address)", 0},
    {"--history", "HEALER_HISTORY", OPT_UINT, OFF(history), "1000", 1, 10000000, "N",
     "finished remediations kept for /api/v1/remediations", 0},
    {"--dedupe-ttl", "HEALER_DEDUPE_TTL", OPT_DURATION, OFF(dedupe_ttl_ms), "24h", 60000,
     (uint64_t)30 * 86400000, "DUR", "forget an alert not seen for this long", 0},
    {"--dedupe-max", "HEALER_DEDUPE_MAX", OPT_UINT, OFF(dedupe_max), "100000", 100,
     100000000, "N", "alerts remembered for deduplication at most", 0},
    {"--cooldown-max", "HEALER_COOLDOWN_MAX", OPT_UINT, OFF(cooldown_max), "100000", 100,
     100000000, "N",
     "cooldown keys held at most; when full, a new key is not remediated (skipped)", 0},
    {"--start-delay", "HEALER_START_DELAY", OPT_DURATION, OFF(start_delay_ms), "0s", 0,
     86400000, "DUR",
     "hold each remediation this long before it starts; a resolve meanwhile cancels it", 0},
    {"--state-dir", "HEALER_STATE_DIR", OPT_STRING, OFF(state_dir), "./state", 0, 0, "DIR",
     "where the journal lives (accepted remediations survive a crash or restart)", 0},
    {"--journal-recover", "HEALER_JOURNAL_RECOVER", OPT_BOOL, OFF(journal_recover), "false",
     0, 0, NULL,
     "start even if the journal is damaged: cut damaged records (they are lost), keep the "
     "damaged file beside the new one as journal.log.damaged-TIME", 0},
    {"--journal-compact-size", "HEALER_JOURNAL_COMPACT_SIZE", OPT_SIZE, OFF(journal_compact),
     "16M", 4096, (uint64_t)1 << 40, "SIZE",
     "rewrite the journal as a snapshot once it grows past this (or twice the last snapshot)",
     0},
    {"--tls-cert-file", "HEALER_TLS_CERT_FILE", OPT_STRING, OFF(tls_cert_file), NULL, 0, 0,
     "PATH", "serve HTTPS (TLS 1.2 or 1.3) with this PEM certificate chain; SIGHUP re-reads it",
     0},
    {"--tls-key-file", "HEALER_TLS_KEY_FILE", OPT_STRING, OFF(tls_key_file), NULL, 0, 0,
     "PATH", "the certificate's PEM private key (re-read on SIGHUP too)", 0},
    {"--tls-client-ca-file", "HEALER_TLS_CLIENT_CA_FILE", OPT_STRING, OFF(tls_client_ca_file),
     NULL, 0, 0, "PATH",
     "mutual TLS: only clients with a certificate signed by a CA in PATH get in", 0},
    {"--port-file", "HEALER_PORT_FILE", OPT_STRING, OFF(port_file), NULL, 0, 0, "PATH",
     "write the bound port to PATH once listening", 0},
    {"--list-rules", NULL, OPT_ACTION, 0, NULL, 0, 0, NULL,
     "print the rules built in and exit", CONFIG_LIST_RULES},
    {"--check-config", NULL, OPT_ACTION, 0, NULL, 0, 0, NULL,
     "check what start would refuse (ranges, rules, auth and TLS files, backends, "
     "the port file's directory, the listen address, bound once; the state directory), "
     "then exit",
     CONFIG_CHECK},
    {"--version", NULL, OPT_ACTION, 0, NULL, 0, 0, NULL,
     "print the version and the rules' digest and exit", CONFIG_VERSION},
    {"--help", NULL, OPT_ACTION, 0, NULL, 0, 0, NULL, "print this help and exit", CONFIG_HELP},
};

#define NOPTS (sizeof opts / sizeof opts[0])

static int set(struct config *c, const struct opt *o, const char *v,
               const char *who, char *err, size_t errlen) {
  char *base = (char *)c;
  switch (o->type) {
  case OPT_STRING:
    *(const char **)(base + o->off) = v;
    return 0;
  case OPT_UINT:
  case OPT_SIZE: {
    uint64_t n;
    int ok;
    if (o->type == OPT_SIZE) ok = rtime_parse_size(v, &n) == 0;
    else {
      char *end;
      ok = v[0] >= '0' && v[0] <= '9';
      n = strtoull(v, &end, 10);
      ok = ok && *end == '\0';
    }
    if (!ok) {
      snprintf(err, errlen, "%s: expected %s, got '%.64s'", who,
               o->type == OPT_SIZE ? "a size (e.g. 4M)" : "a number", v);
      return -1;
    }
    if (n < o->min || n > o->max) {
      snprintf(err, errlen, "%s: %llu is out of range [%llu, %llu]", who,
               (unsigned long long)n, (unsigned long long)o->min,
               (unsigned long long)o->max);
      return -1;
    }
    *(uint64_t *)(base + o->off) = n;
    return 0;
  }
  case OPT_DURATION: {
    int64_t ms;
    if (rtime_parse_duration(v, &ms) < 0) {
      snprintf(err, errlen, "%s: expected a duration (e.g. 30s), got '%.64s'", who, v);
      return -1;
    }
    if ((uint64_t)ms < o->min || (uint64_t)ms > o->max) {
      char lo[RTIME_BUFSZ], hi[RTIME_BUFSZ];
      snprintf(err, errlen, "%s: %.64s is out of range [%s, %s]", who, v,
               rtime_format_duration((int64_t)o->min, lo),
               rtime_format_duration((int64_t)o->max, hi));
      return -1;
    }
    *(int64_t *)(base + o->off) = ms;
    return 0;
  }
  case OPT_BOOL: {
    bool b;
    if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
        !strcasecmp(v, "on"))
      b = true;
    else if (!strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
             !strcasecmp(v, "off") || !*v)
      b = false;
    else {
      snprintf(err, errlen, "%s: expected true or false, got '%.64s'", who, v);
      return -1;
    }
    *(bool *)(base + o->off) = b;
    return 0;
  }
  case OPT_LOG_FORMAT:
    if (log_parse_format(v, (enum log_format *)(void *)(base + o->off)) < 0) {
      snprintf(err, errlen, "%s: expected text or json, got '%.64s'", who, v);
      return -1;
    }
    return 0;
  case OPT_LOG_LEVEL:
    if (log_parse_level(v, (enum log_level *)(void *)(base + o->off)) < 0) {
      snprintf(err, errlen, "%s: expected debug, info, warn or error, got '%.64s'", who, v);
      return -1;
    }
    return 0;
  case OPT_ACTION:
    return 0;
  }
  return 0;
}

int config_load(struct config *c, int argc, char **argv, char *err,
                size_t errlen) {
  memset(c, 0, sizeof *c);
  for (size_t i = 0; i < NOPTS; i++)
    if (opts[i].def && set(c, &opts[i], opts[i].def, opts[i].flag, err, errlen) < 0)
      return -1;
  for (size_t i = 0; i < NOPTS; i++) {
    const char *v = opts[i].env ? getenv(opts[i].env) : NULL;
    if (v && set(c, &opts[i], v, opts[i].env, err, errlen) < 0) return -1;
  }
  for (int a = 1; a < argc; a++) {
    const char *arg = argv[a];
    const char *eq = strchr(arg, '=');
    size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
    const struct opt *o = NULL;
    for (size_t i = 0; i < NOPTS; i++)
      if (strlen(opts[i].flag) == nlen && strncmp(opts[i].flag, arg, nlen) == 0)
        o = &opts[i];
    if (!o && strcmp(arg, "-h") == 0) o = &opts[NOPTS - 1];
    if (!o && nlen == 12 && strncmp(arg, "--stop-grace", nlen) == 0) {
      snprintf(err, errlen, "--stop-grace is gone: set stop_grace on the jenkins "
               "backend (HEALER_JENKINS_STOP_GRACE for the default one)");
      return -1;
    }
    if (!o) {
      snprintf(err, errlen, "unknown argument '%.64s' (see --help)", arg);
      return -1;
    }
    if (o->type == OPT_ACTION) {
      if (eq) {
        snprintf(err, errlen, "%s takes no value", o->flag);
        return -1;
      }
      if (c->action == CONFIG_RUN || o->action == CONFIG_HELP) c->action = o->action;
      continue;
    }
    const char *v;
    if (eq) v = eq + 1;
    else if (o->type == OPT_BOOL) v = "true";
    else if (a + 1 < argc) v = argv[++a];
    else {
      snprintf(err, errlen, "%s needs a value (%s)", o->flag, o->arg ? o->arg : "");
      return -1;
    }
    if (set(c, o, v, o->flag, err, errlen) < 0) return -1;
  }
  if (c->max_body_total < c->max_body) {
    snprintf(err, errlen, "--max-body-total (%llu bytes) is smaller than --max-body "
             "(%llu bytes): no body of the largest size could ever be taken",
             (unsigned long long)c->max_body_total, (unsigned long long)c->max_body);
    return -1;
  }
  return 0;
}

void config_usage(FILE *out) {
  fprintf(out,
          "usage: healer [options]\n"
          "\n"
          "Takes Alertmanager's webhooks on POST /api/v1/alertmanager and turns\n"
          "alerts into remediations with the rules built into this binary.\n"
          "Every option may also be set with the environment variable shown\n"
          "(a flag wins over its variable).\n\n");
  for (size_t i = 0; i < NOPTS; i++) {
    const struct opt *o = &opts[i];
    char left[64];
    snprintf(left, sizeof left, "%s%s%s", o->flag, o->arg ? " " : "", o->arg ? o->arg : "");
    fprintf(out, "  %-28s %s", left, o->help);
    if (o->def && o->type != OPT_BOOL) fprintf(out, " (default %s)", o->def);
    if (o->env) fprintf(out, "\n  %-28s [%s]", "", o->env);
    fputc('\n', out);
  }
  fprintf(out,
          "\nEndpoints: POST /api/v1/alertmanager, GET /healthz /readyz /metrics\n"
          "/api/v1/rules /api/v1/remediations?limit=N. See docs/runtime.md.\n"
          "\nExit status: 0 stopped cleanly (or --check-config found nothing\n"
          "wrong); 1 a failure at run time (the journal, the listening socket);\n"
          "2 a bad flag, variable, file or backend setting.\n");
}
