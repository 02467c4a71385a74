/*
 * httpc.c - see httpc.h.
 */
#include "httpc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hist.h"
#include "rtime.h"

#ifndef HEALER_VERSION
#define HEALER_VERSION "dev"
#endif

#define RETRY_AFTER_CAP_MS ((int64_t)24 * 3600 * 1000)

struct httpc {
  CURL *curl;
  struct httpc_options opt;
  char errbuf[CURL_ERROR_SIZE];
  struct httpc_response *rs; /* the response being filled */
  uint64_t reached;          /* see httpc_reached() */
};

/* ---- global state -------------------------------------------------------- */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_init_rc = -1;
static struct httpc_options g_defaults;
static pthread_key_t g_key;
static bool g_key_ok;

static httpc_rand_fn g_rand;
static void *g_rand_ctx;

static void thread_client_free(void *p) {
  httpc_free(p);
}

static void global_init_once(void) {
  g_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
  g_key_ok = pthread_key_create(&g_key, thread_client_free) == 0;
}

int httpc_global_init(void) {
  pthread_once(&g_once, global_init_once);
  return g_init_rc;
}

void httpc_global_cleanup(void) {
  if (g_init_rc == 0)
    curl_global_cleanup();
}

void httpc_set_defaults(const struct httpc_options *o) {
  if (o)
    g_defaults = *o;
}

static void fill_options(struct httpc_options *dst,
                         const struct httpc_options *o) {
  struct httpc_options d = o ? *o : g_defaults;
  if (d.connect_timeout_ms <= 0)
    d.connect_timeout_ms = HTTPC_CONNECT_TIMEOUT_MS;
  if (d.timeout_ms <= 0)
    d.timeout_ms = HTTPC_TIMEOUT_MS;
  if (d.max_body == 0)
    d.max_body = HTTPC_MAX_BODY;
  *dst = d;
}

struct httpc *httpc_new(const struct httpc_options *o) {
  if (httpc_global_init() < 0)
    return NULL;
  struct httpc *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->curl = curl_easy_init();
  if (!c->curl) {
    free(c);
    return NULL;
  }
  fill_options(&c->opt, o);
  return c;
}

void httpc_free(struct httpc *c) {
  if (!c)
    return;
  curl_easy_cleanup(c->curl);
  free(c);
}

struct httpc *httpc_thread(void) {
  if (httpc_global_init() < 0 || !g_key_ok)
    return NULL;
  struct httpc *c = pthread_getspecific(g_key);
  if (c)
    return c;
  c = httpc_new(NULL);
  if (c && pthread_setspecific(g_key, c) != 0) {
    httpc_free(c);
    return NULL;
  }
  return c;
}

/* ---- responses ----------------------------------------------------------- */

void httpc_response_init(struct httpc_response *rs) {
  memset(rs, 0, sizeof *rs);
  buf_init(&rs->body);
  rs->retry_after_ms = -1;
}

void httpc_response_free(struct httpc_response *rs) {
  buf_free(&rs->body);
}

static void response_reset(struct httpc_response *rs) {
  struct buf keep = rs->body;
  buf_reset(&keep);
  keep.oom = false;
  memset(rs, 0, sizeof *rs);
  rs->body = keep;
  rs->retry_after_ms = -1;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
  struct httpc *c = arg;
  struct httpc_response *rs = c->rs;
  size_t len = size * n;
  size_t room =
      c->opt.max_body > rs->body.len ? c->opt.max_body - rs->body.len : 0;
  size_t take = len < room ? len : room;
  if (take)
    buf_put(&rs->body, p, take);
  if (take < len)
    rs->truncated = true;
  return len; /* keep reading: the connection stays usable */
}

/* Copies a header's value, trimmed, into out. */
static void header_value(const char *v, size_t n, char *out, size_t outlen) {
  while (n && (*v == ' ' || *v == '\t'))
    v++, n--;
  while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' ||
               v[n - 1] == '\t'))
    n--;
  if (n >= outlen)
    n = outlen - 1;
  memcpy(out, v, n);
  out[n] = '\0';
}

/* When line is the header name, its value (and length) after the colon. */
static const char *header_is(const char *line, size_t n, const char *name,
                             size_t *vlen) {
  size_t k = strlen(name);
  if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
    return NULL;
  *vlen = n - k - 1;
  return line + k + 1;
}

/* Appends the name=value of a Set-Cookie header to rs->cookies ("a=1; b=2"),
 * dropping its attributes; a cookie that does not fit is left out. */
static void add_cookie(struct httpc_response *rs, const char *v, size_t n) {
  while (n && (*v == ' ' || *v == '\t'))
    v++, n--;
  size_t k = 0;
  while (k < n && v[k] != ';' && v[k] != '\r' && v[k] != '\n')
    k++;
  while (k && (v[k - 1] == ' ' || v[k - 1] == '\t'))
    k--;
  if (!k || !memchr(v, '=', k))
    return;
  size_t used = strlen(rs->cookies), sep = used ? 2 : 0;
  if (used + sep + k + 1 > sizeof rs->cookies)
    return;
  if (sep)
    memcpy(rs->cookies + used, "; ", 2);
  memcpy(rs->cookies + used + sep, v, k);
  rs->cookies[used + sep + k] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *arg) {
  struct httpc *c = arg;
  struct httpc_response *rs = c->rs;
  size_t len = size * n, vlen = 0;
  const char *v;
  if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
    /* A new header block (after a 100 Continue): forget the last one. */
    rs->location[0] = rs->content_type[0] = rs->cookies[0] = '\0';
    rs->retry_after_ms = -1;
  } else if ((v = header_is(p, len, "Set-Cookie", &vlen))) {
    add_cookie(rs, v, vlen);
  } else if ((v = header_is(p, len, "Location", &vlen))) {
    header_value(v, vlen, rs->location, sizeof rs->location);
  } else if ((v = header_is(p, len, "Content-Type", &vlen))) {
    header_value(v, vlen, rs->content_type, sizeof rs->content_type);
  } else if ((v = header_is(p, len, "Retry-After", &vlen))) {
    char ra[64];
    header_value(v, vlen, ra, sizeof ra);
    rs->retry_after_ms = httpc_parse_retry_after(ra, rtime_now_ms());
  }
  return len;
}

/* The error message of a transport failure, without the URL's path. */
static void transport_error(struct httpc *c, CURLcode rc, char *out,
                            size_t outlen) {
  const char *msg = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
  size_t n = strlen(msg);
  while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
    n--;
  snprintf(out, outlen, "%.*s", (int)n, msg);
  /* libcurl's messages name host and port only, but a URL that fails to
   * parse could be echoed: cut anything that looks like one. */
  char *u = strstr(out, "://");
  if (u) {
    char *slash = strchr(u + 3, '/');
    if (slash)
      *slash = '\0';
  }
}

int httpc_do(struct httpc *c, const struct httpc_request *rq,
             struct httpc_response *rs) {
  response_reset(rs);
  CURL *h = c->curl;
  curl_easy_reset(h); /* keeps live connections and cookies */
  c->errbuf[0] = '\0';
  c->rs = rs;
  int64_t total = rq->timeout_ms > 0 ? rq->timeout_ms : c->opt.timeout_ms;
  int64_t conn =
      c->opt.connect_timeout_ms < total ? c->opt.connect_timeout_ms : total;

  curl_easy_setopt(h, CURLOPT_URL, rq->url);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)conn);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)total);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "healer/" HEALER_VERSION);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  if (rq->flags & HTTPC_NO_RESEND)
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);

  /* A body rides on POSTFIELDS for every method that has one; the method
   * word then replaces POST (CUSTOMREQUEST changes only the request line). */
  bool with_body = rq->method == HTTPC_POST || (rq->method != HTTPC_GET && rq->body);
  if (with_body) {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)(rq->body ? rq->body_len : 0));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
  } else {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  }
  if (rq->method != HTTPC_GET && rq->method != HTTPC_POST)
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, httpc_method_name(rq->method));
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  const char *ca = rq->ca_file ? rq->ca_file : getenv("SSL_CERT_FILE");
  if (ca && *ca)
    curl_easy_setopt(h, CURLOPT_CAINFO, ca);
  if (rq->client_cert) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, rq->client_cert);
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (rq->client_key) {
    curl_easy_setopt(h, CURLOPT_SSLKEY, rq->client_key);
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
  }

  switch (rq->auth) {
  case HTTPC_AUTH_BASIC:
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, rq->user ? rq->user : "");
    curl_easy_setopt(h, CURLOPT_PASSWORD, rq->secret ? rq->secret : "");
    break;
  case HTTPC_AUTH_BEARER:
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
    curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, rq->secret ? rq->secret : "");
    break;
  case HTTPC_AUTH_NONE:
    break;
  }

  struct curl_slist *hdrs = NULL, *tmp;
  bool oom = false;
#define ADD_HEADER(s)                                                          \
  do {                                                                         \
    if ((tmp = curl_slist_append(hdrs, (s))))                                  \
      hdrs = tmp;                                                              \
    else                                                                       \
      oom = true;                                                              \
  } while (0)
  ADD_HEADER("Expect:"); /* no 100-continue round trip */
  if (with_body) {
    if (rq->content_type) {
      char ct[160];
      snprintf(ct, sizeof ct, "Content-Type: %s", rq->content_type);
      ADD_HEADER(ct);
    } else {
      ADD_HEADER("Content-Type:");
    }
  }
  for (size_t i = 0; i < rq->nheaders; i++)
    ADD_HEADER(rq->headers[i]);
#undef ADD_HEADER
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

  CURLcode rc = oom ? CURLE_OUT_OF_MEMORY : curl_easy_perform(h);
  rs->curl_code = (int)rc;
  curl_off_t took_us;
  if (rq->hist && !oom &&
      curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &took_us) == CURLE_OK)
    hist_observe_us(rq->hist, (int64_t)took_us);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rs->status);
    rs->cls = httpc_classify(0, rs->status);
    if (rs->status >= 400)
      snprintf(rs->error, sizeof rs->error, "HTTP %ld", rs->status);
  } else {
    /* The connection counts as made once TCP connected and, for https,
     * the handshake finished: libcurl resets both times at the start of
     * every transfer and sets them only then (CURLINFO_CONNECT_TIME_T,
     * CURLINFO_APPCONNECT_TIME_T; a reused connection is connected). */
    long sent = 0;
    curl_off_t conn_us = 0, tls_us = 0;
    char *scheme = NULL;
    curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
    curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &conn_us);
    curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME_T, &tls_us);
    curl_easy_getinfo(h, CURLINFO_SCHEME, &scheme);
    bool tls = scheme && strcasecmp(scheme, "https") == 0;
    bool connected = conn_us > 0 && (!tls || tls_us > 0);
    rs->cls = httpc_classify((int)rc, 0);
    rs->maybe_sent = !httpc_never_sent((int)rc, sent, connected);
    transport_error(c, rc, rs->error, sizeof rs->error);
    rs->location[0] = '\0';
  }
  if (rs->body.oom && rs->cls == HTTPC_OK) {
    rs->cls = HTTPC_RETRY;
    snprintf(rs->error, sizeof rs->error, "out of memory reading the answer");
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
  curl_slist_free_all(hdrs);
  c->rs = NULL;
  if (rc == CURLE_OK || rs->maybe_sent)
    c->reached++;
  return rc == CURLE_OK ? 0 : -1;
}

uint64_t httpc_reached(const struct httpc *c) { return c->reached; }

const char *httpc_method_name(enum httpc_method m) {
  static const char *const names[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
  return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "GET";
}

/* ---- classification ------------------------------------------------------ */

enum httpc_class httpc_classify(int curl_code, long status) {
  switch (curl_code) {
  case CURLE_OK:
    break;
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_OUT_OF_MEMORY:
  case CURLE_AGAIN:
    return HTTPC_RETRY;
  default:
    return HTTPC_PERMANENT; /* bad URL, TLS certificate, protocol ... */
  }
  if (status == 408 || status == 425 || status == 429 || status >= 500)
    return HTTPC_RETRY;
  if (status >= 400 || status < 100)
    return HTTPC_PERMANENT;
  return HTTPC_OK;
}

/* libcurl-errors(3): these are returned before any request is sent. */
static bool fails_before_sending(int curl_code) {
  switch (curl_code) {
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_URL_MALFORMAT:
  case CURLE_UNSUPPORTED_PROTOCOL:
    return true;
  default:
    return false;
  }
}

bool httpc_never_sent(int curl_code, long request_bytes, bool connected) {
  if (curl_code == CURLE_OK || request_bytes > 0)
    return false;
  return fails_before_sending(curl_code) || !connected;
}

bool httpc_curl_maybe_sent(int curl_code) {
  return curl_code != CURLE_OK && curl_code != CURLE_OUT_OF_MEMORY &&
         !fails_before_sending(curl_code);
}

int64_t httpc_parse_retry_after(const char *value, int64_t now_ms) {
  if (!value)
    return -1;
  while (*value == ' ' || *value == '\t')
    value++;
  if (!*value)
    return -1;
  if (isdigit((unsigned char)*value)) {
    int64_t secs = 0;
    const char *p = value;
    for (; isdigit((unsigned char)*p); p++) {
      secs = secs * 10 + (*p - '0');
      if (secs > RETRY_AFTER_CAP_MS / 1000)
        secs = RETRY_AFTER_CAP_MS / 1000;
    }
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p)
      return -1;
    return secs * 1000;
  }
  time_t t = curl_getdate(value, NULL);
  if (t == (time_t)-1)
    return -1;
  int64_t d = (int64_t)t * 1000 - now_ms;
  if (d < 0)
    return 0;
  return d > RETRY_AFTER_CAP_MS ? RETRY_AFTER_CAP_MS : d;
}

/* ---- backoff ------------------------------------------------------------- */

static uint64_t builtin_rand(void *ctx) {
  (void)ctx;
  static _Thread_local uint64_t s;
  if (!s) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    s = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
        (uint64_t)(uintptr_t)&s;
    if (!s)
      s = 0x9e3779b97f4a7c15ull;
  }
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 0x2545f4914f6cdd1dull;
}

void httpc_set_rand(httpc_rand_fn fn, void *ctx) {
  g_rand = fn;
  g_rand_ctx = ctx;
}

int64_t httpc_backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms) {
  if (base_ms <= 0)
    return 0;
  if (cap_ms < base_ms)
    cap_ms = base_ms;
  int64_t d = base_ms;
  for (unsigned i = 0; i < attempt && d < cap_ms; i++)
    d = d > cap_ms / 2 ? cap_ms : d * 2;
  if (d > cap_ms)
    d = cap_ms;
  uint64_t r = g_rand ? g_rand(g_rand_ctx) : builtin_rand(NULL);
  int64_t half = d / 2;
  return half + (int64_t)(r % (uint64_t)(d - half + 1));
}

/* ---- URLs ---------------------------------------------------------------- */

int httpc_check_base(const char *base, char *err, size_t errlen) {
  if (!base || !*base) {
    snprintf(err, errlen, "the URL is empty");
    return -1;
  }
  CURLU *u = curl_url();
  if (!u) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int rc = -1;
  char *part = NULL;
  CURLUcode uc = curl_url_set(u, CURLUPART_URL, base, 0);
  if (uc != CURLUE_OK) {
    snprintf(err, errlen, "not a valid URL (%s)", curl_url_strerror(uc));
    goto done;
  }
  if (curl_url_get(u, CURLUPART_SCHEME, &part, 0) != CURLUE_OK ||
      (strcmp(part, "http") != 0 && strcmp(part, "https") != 0)) {
    snprintf(err, errlen, "the URL must start with http:// or https://");
    goto done;
  }
  curl_free(part);
  part = NULL;
  if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK) {
    snprintf(err, errlen,
             "the URL must not hold a user or password "
             "(use the backend's user and token fields)");
    goto done;
  }
  if (curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
    snprintf(err, errlen, "the URL must not have a #fragment");
    goto done;
  }
  rc = 0;
done:
  curl_free(part);
  curl_url_cleanup(u);
  return rc;
}

/* libcurl's escaping: every byte but RFC 3986's unreserved ones (A-Z a-z
 * 0-9 - . _ ~) as %XX in upper case. Since 7.82 the handle may be NULL
 * (curl_easy_escape(3)). */
void httpc_escape(struct buf *b, const char *s) {
  char *e = curl_easy_escape(NULL, s, 0);
  if (!e) {
    b->oom = true;
    return;
  }
  buf_puts(b, e);
  curl_free(e);
}

void httpc_form_add(struct buf *b, const char *name, const char *value) {
  if (b->len)
    buf_putc(b, '&');
  httpc_escape(b, name);
  buf_putc(b, '=');
  httpc_escape(b, value ? value : "");
}

char *httpc_url(const char *base, const char *const *segs, size_t nsegs,
                const struct httpc_kv *query, size_t nquery, char *err,
                size_t errlen) {
  if (httpc_check_base(base, err, errlen) < 0)
    return NULL;
  CURLU *u = curl_url();
  struct buf path;
  buf_init(&path);
  char *out = NULL, *cur = NULL;
  if (!u)
    goto oom;
  if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_PATH, &cur, 0) != CURLUE_OK)
    goto bad;
  buf_puts(&path, cur);
  while (path.len && path.data[path.len - 1] == '/')
    path.data[--path.len] = '\0';
  for (size_t i = 0; i < nsegs; i++) {
    buf_putc(&path, '/');
    httpc_escape(&path, segs[i]);
  }
  if (nsegs == 0 && path.len == 0)
    buf_putc(&path, '/');
  if (path.oom)
    goto oom;
  if (curl_url_set(u, CURLUPART_PATH, path.data, 0) != CURLUE_OK)
    goto bad;
  for (size_t i = 0; i < nquery; i++) {
    struct buf kv;
    buf_init(&kv);
    buf_printf(&kv, "%s=%s", query[i].name,
               query[i].value ? query[i].value : "");
    CURLUcode uc = kv.oom ? CURLUE_OUT_OF_MEMORY
                          : curl_url_set(u, CURLUPART_QUERY, kv.data,
                                         CURLU_APPENDQUERY | CURLU_URLENCODE);
    buf_free(&kv);
    if (uc == CURLUE_OUT_OF_MEMORY)
      goto oom;
    if (uc != CURLUE_OK)
      goto bad;
  }
  char *s = NULL;
  if (curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
    goto bad;
  out = strdup(s);
  curl_free(s);
  if (!out)
    goto oom;
  goto done;
oom:
  snprintf(err, errlen, "out of memory");
  goto done;
bad:
  snprintf(err, errlen, "cannot build a URL from the backend's url");
done:
  curl_free(cur);
  buf_free(&path);
  curl_url_cleanup(u);
  return out;
}

const char *httpc_url_host(const char *url, char *out, size_t outlen) {
  snprintf(out, outlen, "?");
  CURLU *u = curl_url();
  if (!u)
    return out;
  char *host = NULL, *port = NULL;
  if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
      snprintf(out, outlen, "%s:%s", host, port);
    else
      snprintf(out, outlen, "%s", host);
  }
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  return out;
}
