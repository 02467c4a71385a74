/*
 * httpc.h - the outbound HTTP client: one reused libcurl easy handle per
 * worker thread, for actions (act_*.c) and notifiers (notify_*.c).
 *
 *   struct httpc *hc = httpc_thread();        the calling thread's client
 *   struct httpc_request rq = {.method = HTTPC_POST, .url = u, ...};
 *   struct httpc_response rs;
 *   httpc_response_init(&rs);
 *   httpc_do(hc, &rq, &rs);                   fills rs; never sleeps
 *   ... rs.cls, rs.status, rs.body.data, rs.location, rs.retry_after_ms
 *   httpc_response_free(&rs);
 *
 * Every request has a connect and a total timeout, follows no redirect,
 * keeps no cookies (a caller that needs a session sends rs.cookies back in
 * a Cookie header), speaks http/https only and never logs (CURLOPT_VERBOSE
 * would print the Authorization header). An answer is classified: HTTPC_OK
 * (status < 400), HTTPC_RETRY (connect error, timeout, dropped connection, 408,
 * 425, 429, 5xx) or HTTPC_PERMANENT (any other 4xx, a bad URL, a TLS
 * certificate error). 4xx/5xx are answers, not transport errors: read
 * rs.status.
 *
 * Secrets (basic password, bearer token, a Slack webhook URL) go in the
 * request only; rs.error never holds the URL's path or query, so it may be
 * logged or shown.
 *
 * Ownership: httpc_new() returns a client owned by the caller (free with
 * httpc_free()); httpc_thread() returns one owned by the calling thread,
 * freed when the thread exits. A client is used by one thread at a time.
 * A response owns its body (httpc_response_free()); httpc_do() reuses the
 * memory of the response it is given. Every other pointer is borrowed.
 */
#ifndef HEALER_HTTPC_H
#define HEALER_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct hist;

#define HTTPC_CONNECT_TIMEOUT_MS 5000
#define HTTPC_TIMEOUT_MS 30000
#define HTTPC_MAX_BODY (1024u * 1024u)
#define HTTPC_ERR_MAX 256
#define HTTPC_LOCATION_MAX 1024

struct httpc;

struct httpc_options {
  int64_t connect_timeout_ms; /* 0: HTTPC_CONNECT_TIMEOUT_MS */
  int64_t timeout_ms;         /* whole request; 0: HTTPC_TIMEOUT_MS */
  size_t max_body;            /* reply bytes kept; 0: HTTPC_MAX_BODY */
};

/* PUT, PATCH and DELETE send a body when one is given, as POST does. */
enum httpc_method { HTTPC_GET, HTTPC_POST, HTTPC_PUT, HTTPC_PATCH, HTTPC_DELETE };
enum httpc_auth { HTTPC_AUTH_NONE, HTTPC_AUTH_BASIC, HTTPC_AUTH_BEARER };

/* Request flags. */
#define HTTPC_NO_RESEND                                                        \
  1u /* a fresh connection, so libcurl never re-sends                          \
        the request by itself (it does once when a                             \
        reused connection dies before the reply):                              \
        for POSTs that are not idempotent */

struct httpc_request {
  enum httpc_method method;
  const char *url;          /* absolute http(s) URL, already escaped */
  const char *content_type; /* with a body: its type; NULL: none */
  const char *body;         /* NULL or body_len bytes (not with GET) */
  size_t body_len;
  const char *const *headers; /* "Name: value" lines; may be NULL */
  size_t nheaders;
  enum httpc_auth auth;
  const char *user;   /* basic */
  const char *secret; /* basic password or bearer token */
  int64_t timeout_ms; /* 0: the client's; else this (>= 1 ms) */
  unsigned flags;     /* HTTPC_NO_RESEND */
  /* TLS, for https URLs: the CA bundle that verifies the server (NULL:
   * SSL_CERT_FILE when set, else the system's), and a client certificate
   * and its key (PEM files; NULL: none). Peers are always verified. */
  const char *ca_file;
  const char *client_cert;
  const char *client_key;
  struct hist *hist; /* NULL, or where the request's total time (libcurl's,
                        connect and TLS included) is observed */
};

enum httpc_class { HTTPC_OK, HTTPC_RETRY, HTTPC_PERMANENT };

struct httpc_response {
  int curl_code; /* CURLcode; 0 when an HTTP answer arrived */
  long status;   /* HTTP status; 0 without an answer */
  enum httpc_class cls;
  bool maybe_sent; /* no answer, and not httpc_never_sent(): the
                      request (or part of it) may have gone out and the
                      server may have acted on it */
  struct buf body; /* the answer's body, at most max_body bytes */
  bool truncated;  /* the body was longer */
  char location[HTTPC_LOCATION_MAX]; /* Location header, or "" */
  char content_type[128];            /* Content-Type header, or "" */
  char cookies[512];         /* name=value of each Set-Cookie, "; "-joined
                                (ready for a Cookie header), or "" */
  int64_t retry_after_ms;    /* Retry-After as a delay, or -1 */
  char error[HTTPC_ERR_MAX]; /* "HTTP 503" or the transport error; "" if OK */
};

/* Once, before threads start (idempotent and thread-safe; httpc_new()
 * calls it too). 0, or -1 when libcurl cannot start. */
int httpc_global_init(void);
void httpc_global_cleanup(void);

/* Options for clients created by httpc_thread() from now on; NULL fields
 * keep the defaults. Call before threads start. */
void httpc_set_defaults(const struct httpc_options *o);

/* A new client, NULL when out of memory. o may be NULL (defaults). */
struct httpc *httpc_new(const struct httpc_options *o);
void httpc_free(struct httpc *c);

/* The calling thread's client, created on first use with the defaults and
 * freed when the thread exits; NULL when out of memory. */
struct httpc *httpc_thread(void);

void httpc_response_init(struct httpc_response *rs);
void httpc_response_free(struct httpc_response *rs);

/* Runs rq and fills rs. Returns 0 when an HTTP answer arrived (any
 * status), -1 otherwise (rs->error says why). */
int httpc_do(struct httpc *c, const struct httpc_request *rq,
             struct httpc_response *rs);

/* How many requests of c, since it was created, reached a server or may
 * have (an answer came, or rs.maybe_sent): a caller that reads it before
 * and after some work knows whether any of that work left this machine
 * (the worker: a step that never reached its service is safe to retry). */
uint64_t httpc_reached(const struct httpc *c);

/* "GET", "POST", ... */
const char *httpc_method_name(enum httpc_method m);

/* ---- pure helpers (unit-tested) ------------------------------------------ */

/* How to treat an outcome: curl_code (CURLcode) and, when it is 0, the HTTP
 * status. */
enum httpc_class httpc_classify(int curl_code, long status);

/* Whether a transport failure (curl_code != 0) can have happened after
 * the request reached the server (timeouts, dropped or reset
 * connections); false for failures to resolve or connect. */
bool httpc_curl_maybe_sent(int curl_code);

/* Whether a request that failed with curl_code (!= 0) certainly never
 * reached the server, so that sending it again cannot do anything twice:
 * no byte of it was written (request_bytes, CURLINFO_REQUEST_SIZE, is 0)
 * and either curl_code is one libcurl returns only before a request goes
 * out (CURLE_COULDNT_RESOLVE_HOST, _RESOLVE_PROXY, _COULDNT_CONNECT,
 * _SSL_CONNECT_ERROR: the TLS handshake failed; and _URL_MALFORMAT,
 * _UNSUPPORTED_PROTOCOL) or the connection, TLS included, never
 * completed (connected false: a connect timeout, a handshake cut short).
 * A timeout or a dropped connection after connecting is not. */
bool httpc_never_sent(int curl_code, long request_bytes, bool connected);

/* A Retry-After value (delay-seconds or an HTTP date) as milliseconds to
 * wait from now_ms (a date in the past gives 0); -1 when unparseable.
 * Capped at one day. */
int64_t httpc_parse_retry_after(const char *value, int64_t now_ms);

/* Capped, jittered exponential backoff for retry number attempt (0 for the
 * first retry): d = min(cap_ms, base_ms * 2^attempt), and the result is
 * uniform in [d/2, d]. base_ms <= 0 gives 0. */
int64_t httpc_backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms);

/* The random source httpc_backoff_ms() uses; NULL restores the built-in
 * one (per-thread xorshift). For tests; set before threads start. */
typedef uint64_t (*httpc_rand_fn)(void *ctx);
void httpc_set_rand(httpc_rand_fn fn, void *ctx);

/* ---- URLs and forms ------------------------------------------------------ */

struct httpc_kv {
  const char *name;
  const char *value;
};

/* Checks that base is an absolute http(s) URL without user:password,
 * query or fragment. 0, or -1 with a message in err (which never repeats
 * the URL: it may be a secret). */
int httpc_check_base(const char *base, char *err, size_t errlen);

/* base, then "/" and each of segs percent-encoded on its own (so "a/b"
 * stays one segment), then each query pair as name=value, both encoded.
 * A trailing "/" of base is dropped first. Returns a new string (free()),
 * or NULL with a message in err. */
char *httpc_url(const char *base, const char *const *segs, size_t nsegs,
                const struct httpc_kv *query, size_t nquery, char *err,
                size_t errlen);

/* Appends s percent-encoded (all but A-Z a-z 0-9 - . _ ~) to b, by
 * curl_easy_escape(); b->oom when libcurl has no memory. */
void httpc_escape(struct buf *b, const char *s);

/* Appends name=value to an application/x-www-form-urlencoded body, with
 * '&' before it when b is not empty. */
void httpc_form_add(struct buf *b, const char *name, const char *value);

/* The host[:port] of an http(s) URL into out (for messages that must not
 * show a path); "?" when it does not parse. Returns out. */
const char *httpc_url_host(const char *url, char *out, size_t outlen);

#endif
