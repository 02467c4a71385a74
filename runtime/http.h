/*
 * http.h - the HTTP front end (the only user of libmicrohttpd).
 *
 *   POST /api/v1/alertmanager   webhook payload v4 -> 202, or 400/401/413/
 *                               415/503 with {"error": "..."}
 *   GET  /healthz               200 while the process runs
 *   GET  /readyz                200 when accepting webhooks, else 503
 *   GET  /metrics               Prometheus text format
 *   GET  /api/v1/rules          the compiled rules
 *   GET  /api/v1/remediations   recent and in-flight, newest first; ?limit=N
 *
 * libmicrohttpd runs its own threads (HTTP_MHD_FLAGS: internal polling
 * threads + epoll + inter-thread communication, a small pool). Handlers
 * only parse, decide and enqueue (engine.h); nothing in them waits on a
 * remediation or on the disk: a webhook that journaled something is
 * suspended until a committer thread has synced the journal for it and
 * every other webhook waiting (group commit), then answered. A reaper
 * thread holds each request to --request-timeout from its first byte, and
 * a new connection past a soft limit below --max-connections closes the
 * one that has held its slot the longest without a whole request (slow
 * clients, http.c); neither touches a request that arrived whole.
 * A webhook's body is collected in a per-request buffer (never
 * more than --max-body; with no Content-Length or chunked, the excess is
 * read and dropped, then 413), freed when MHD reports the request done.
 *
 * Ownership: http_start() borrows the engine and auth (they outlive the
 * server) and owns the listening socket and the daemon; http_stop()
 * releases both.
 */
#ifndef HEALER_HTTP_H
#define HEALER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "engine.h"

/* The daemon flags, shared with the benchmark's bare server so both run
 * the same way (needs <microhttpd.h>). */
#define HTTP_MHD_FLAGS                                                     \
  (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |         \
   MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME)

struct http_config {
  const char *listen;         /* host:port, [v6]:port, :port */
  unsigned threads;
  unsigned connection_timeout_s;
  unsigned max_connections;
  uint64_t max_body;
  uint64_t max_body_total;    /* all bodies being received; 503 beyond */
  size_t history;             /* the most /api/v1/remediations lists */
  unsigned max_per_ip;        /* connections from one address; 0: no cap */
  int64_t request_timeout_ms; /* a request whole within this of its first
                                 byte, or its connection is closed; 0: no
                                 deadline */
};

struct http;

/* Binds, listens and starts serving. NULL with a message in err. */
struct http *http_start(struct engine *e, const struct auth *auth,
                        const struct http_config *cfg, char *err, size_t errlen);

/* "127.0.0.1:9095": the bound address (the real port when 0 was asked). */
const char *http_address(const struct http *h);
uint16_t http_port(const struct http *h);

/* Stops accepting connections; open ones are still served. */
void http_quiesce(struct http *h);

/* Requests being handled (first callback seen, completion not yet). */
size_t http_inflight(struct http *h);

/* Stops the daemon (ends every connection) and frees h. */
void http_stop(struct http *h);

/* Whether http_listen() could take addr, short of binding it: its form,
 * the port's range, the host's name. For --check-config. */
int http_check_listen(const char *addr, char *err, size_t errlen);

/* Opens a listening socket for addr; exposed for tests. Returns the fd or
 * -1 with a message in err; the bound address goes to bound. */
int http_listen(const char *addr, char *bound, size_t boundlen, uint16_t *port,
                char *err, size_t errlen);

#endif
