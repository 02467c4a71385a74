/*
 * http.c - see http.h.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/tcp.h>          /* struct tcp_info with tcpi_bytes_received */
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "buf.h"
#include "bump.h"
#include "decode.h"
#include "log.h"
#include "notify.h"
#include "rtime.h"
#include "tls.h"

/* Bytes of an oversized body read and dropped before the connection is
 * simply closed. */
#define DISCARD_MAX (64u << 20)
#define LIMIT_DEFAULT 100

enum route {
  ROUTE_WEBHOOK,
  ROUTE_HEALTHZ,
  ROUTE_READYZ,
  ROUTE_METRICS,
  ROUTE_RULES,
  ROUTE_REMEDIATIONS,
  ROUTE_PAUSE_STATE,
  ROUTE_PAUSE,
  ROUTE_RESUME,
  ROUTE_RULE_RESET            /* POST /api/v1/rules/NAME/reset */
};

static const struct {
  const char *path;
  const char *method;         /* GET routes also take HEAD */
  enum route route;
  bool open;                  /* no auth unless --auth-all */
} routes[] = {
    {"/api/v1/alertmanager", "POST", ROUTE_WEBHOOK, false},
    {"/healthz", "GET", ROUTE_HEALTHZ, true},
    {"/readyz", "GET", ROUTE_READYZ, true},
    {"/metrics", "GET", ROUTE_METRICS, true},
    {"/api/v1/rules", "GET", ROUTE_RULES, false},
    {"/api/v1/remediations", "GET", ROUTE_REMEDIATIONS, false},
    {"/api/v1/pause", "GET", ROUTE_PAUSE_STATE, false},
    {"/api/v1/pause", "POST", ROUTE_PAUSE, false},
    {"/api/v1/resume", "POST", ROUTE_RESUME, false},
};

#define RESET_PREFIX "/api/v1/rules/"
#define RESET_SUFFIX "/reset"
#define RULE_NAME_MAX 256

/* Where a connection is in its current request (see "slow clients"). */
enum conn_phase {
  CONN_IDLE,                  /* no byte of a request yet: new, or between two */
  CONN_RECEIVING,             /* a request begun, not whole: has a deadline */
  CONN_TAKEN,                 /* whole (or answered): healer's, never cut */
  CONN_CUT,                   /* shut down by healer; MHD is closing it */
  CONN_NPHASES
};

/* One open connection, from MHD's STARTED notification to its CLOSED one. */
struct conn {
  struct conn *prev, *next;   /* in h->phase[phase], oldest first */
  enum conn_phase phase;
  int fd;                     /* MHD's; valid until CLOSED (which takes tmu) */
  int64_t since_ms;           /* entered the phase (RECEIVING: the first byte,
                                 as seen; rtime_mono_ms()) */
  uint64_t base;              /* IDLE: bytes the socket had received then */
  bool sampled;               /* base is known (a kept-alive connection's is
                                 read by the reaper's next tick, not on the
                                 request path) */
};

struct conn_list {
  struct conn *head, *tail;
  size_t n;
};

struct http {
  struct engine *e;           /* borrowed */
  const struct auth *auth;    /* borrowed */
  struct MHD_Daemon *d;
  int fd;                     /* listening socket; -1 once quiesced */
  uint16_t port;
  char address[128];
  uint64_t max_body;
  uint64_t max_body_total;
  atomic_uint_fast64_t body_total; /* bytes the bodies being received hold */
  size_t history;
  char *rules_json;           /* built once */
  size_t rules_json_len;
  atomic_size_t inflight;
  /* The committer (see "answering after the journal"). */
  pthread_mutex_t cmu;
  pthread_cond_t ccv;
  struct req *waiting;        /* suspended, in no particular order */
  bool cstop, cstarted;
  pthread_t committer;
  /* Slow clients (see there). tmu is a leaf lock: nothing is taken while
   * it is held but the log's (debug lines), and no MHD function called. */
  pthread_mutex_t tmu;
  pthread_cond_t tcv;         /* wakes the reaper to stop */
  struct conn_list phase[CONN_NPHASES];
  size_t soft_limit;          /* open, not cut, at most: beyond, evict */
  int64_t request_timeout_ms;
  bool rstop, rstarted;
  pthread_t reaper;
  atomic_uint_fast64_t cut_deadline, cut_evicted; /* for /metrics */
};

/* One request, from MHD's first callback to its completion callback. */
struct req {
  enum route route;
  bool answered;              /* a response is queued */
  unsigned deferred;          /* webhook: status to answer at the end */
  char deferred_msg[128];
  char rule[RULE_NAME_MAX];   /* ROUTE_RULE_RESET: the rule's name */
  char *body;                 /* webhook body, NUL-terminated */
  size_t len, cap;            /* cap bytes are counted in h->body_total */
  uint64_t seen;              /* body bytes received, kept or not */
  int64_t t0_us;              /* when the first callback routed it
                                 (hist_now_us()); 0 before */
  /* A webhook waiting for the journal: suspended until committed. */
  struct MHD_Connection *conn;
  struct ingest_result res;
  struct req *next_waiting;
  bool suspended;             /* handed to the committer */
  atomic_bool committed;
  struct conn *cn;            /* its connection's entry; NULL: untracked */
};

/* ---- slow clients ----------------------------------------------------------------
 *
 * --connection-timeout is libmicrohttpd's idle timeout: every byte restarts
 * it, so a client that trickles a header line every few seconds keeps its
 * slot for ever, and a few thousand of them hold every slot of
 * --max-connections (issue 11.2). Two bounds keep room for Alertmanager:
 *
 *  - A deadline: a request must be whole (request line, headers, body)
 *    within --request-timeout of its first byte, or its connection is shut
 *    down. The reaper thread sees the first byte, four times a second, as
 *    growth of the socket's count of bytes received (TCP_INFO) since the
 *    connection opened or its previous request ended; MHD's first call
 *    (headers in) marks it too. So an idle keep-alive connection has no
 *    deadline (the idle timeout bounds it), and a TLS handshake counts as
 *    part of the first request.
 *  - A soft limit below --max-connections (a sixteenth of it kept free): a
 *    new connection that would pass it shuts down the one that has held its
 *    slot the longest without a whole request: idle since it opened or was
 *    last answered, or receiving since its request's first byte. MHD stops
 *    accepting only at the hard limit; kept below it, it goes on accepting,
 *    so a new client is served, not left in the listen backlog.
 *
 * A request that is whole, and so every suspended webhook, is CONN_TAKEN
 * and is never shut down: its answer was promised. Shutting down is
 * shutdown(2) on MHD's socket, under tmu; MHD sees the hang-up on its own
 * thread and closes the connection as if the client had gone. Its CLOSED
 * notification takes tmu before MHD closes the descriptor, so the one shut
 * down is always the connection's. A request cut just as MHD was to hand it
 * over whole is refused then (its client sees the connection closed;
 * nothing of it is processed). */

#define REAPER_TICK_MS 250

static int64_t conns_now(void) { return rtime_mono_ms(); }

static void list_push(struct conn_list *l, struct conn *cn) {
  cn->next = NULL;
  cn->prev = l->tail;
  if (l->tail) l->tail->next = cn;
  else l->head = cn;
  l->tail = cn;
  l->n++;
}

static void list_del(struct conn_list *l, struct conn *cn) {
  if (cn->prev) cn->prev->next = cn->next;
  else l->head = cn->next;
  if (cn->next) cn->next->prev = cn->prev;
  else l->tail = cn->prev;
  cn->prev = cn->next = NULL;
  l->n--;
}

/* To the tail of phase p, so each list stays in order of since_ms. Under tmu. */
static void conn_move(struct http *h, struct conn *cn, enum conn_phase p, int64_t now) {
  list_del(&h->phase[cn->phase], cn);
  cn->phase = p;
  cn->since_ms = now;
  list_push(&h->phase[p], cn);
}

/* Bytes the socket has received (TCP_INFO, Linux 4.1+); UINT64_MAX when the
 * kernel does not say: then a new connection counts as receiving from its
 * first tick, and a kept-alive one from MHD's first call. */
static uint64_t bytes_received(int fd) {
  struct tcp_info ti;
  socklen_t len = sizeof ti;
  size_t need = offsetof(struct tcp_info, tcpi_bytes_received) +
                sizeof ti.tcpi_bytes_received;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 || len < need)
    return UINT64_MAX;
  return ti.tcpi_bytes_received;
}

static size_t conns_open(const struct http *h) {
  return h->phase[CONN_IDLE].n + h->phase[CONN_RECEIVING].n + h->phase[CONN_TAKEN].n;
}

/* Under tmu. */
static void conn_cut(struct http *h, struct conn *cn, bool evicted, int64_t now) {
  if (log_enabled(LOGL_DEBUG)) {
    struct log_line l;
    log_begin(&l, LOGL_DEBUG, evicted ? "slow connection evicted" : "request timed out");
    log_int(&l, "fd", cn->fd);
    log_str(&l, "was", cn->phase == CONN_IDLE ? "idle" : "receiving");
    log_int(&l, "for_ms", (long long)(now - cn->since_ms));
    log_end(&l);
  }
  shutdown(cn->fd, SHUT_RDWR);
  conn_move(h, cn, CONN_CUT, now);
  atomic_fetch_add(evicted ? &h->cut_evicted : &h->cut_deadline, 1);
}

/* Room for one more under the soft limit: cuts the connection that has
 * held its slot the longest without a whole request, the oldest of the
 * heads of the idle list (since it opened or last answered) and of the
 * receiving one (since its request's first byte). Not "receiving first": a
 * request that just began (Alertmanager's, read in one go) would be the
 * first one cut when the others churn faster than the reaper sees them.
 * Under tmu. */
static void evict(struct http *h, int64_t now) {
  while (conns_open(h) + 1 > h->soft_limit) {
    struct conn *i = h->phase[CONN_IDLE].head, *r = h->phase[CONN_RECEIVING].head;
    struct conn *v = !i ? r : !r ? i : r->since_ms < i->since_ms ? r : i;
    if (!v) return;           /* every one taken: the hard limit holds */
    conn_cut(h, v, true, now);
  }
}

/* MHD_OPTION_NOTIFY_CONNECTION: an entry per connection, in
 * *socket_context. Runs on MHD's threads, with no lock of MHD's held. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
  struct http *h = cls;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct conn *cn = ci ? calloc(1, sizeof *cn) : NULL;
    *socket_context = cn;
    if (!cn) return;          /* untracked: only the idle timeout bounds it */
    cn->fd = ci->connect_fd;
    cn->sampled = true;       /* base 0: every byte is a request's */
    pthread_mutex_lock(&h->tmu);
    int64_t now = conns_now();
    evict(h, now);
    cn->phase = CONN_IDLE;
    cn->since_ms = now;
    list_push(&h->phase[CONN_IDLE], cn);
    pthread_mutex_unlock(&h->tmu);
    return;
  }
  struct conn *cn = *socket_context;
  if (!cn) return;
  pthread_mutex_lock(&h->tmu);
  list_del(&h->phase[cn->phase], cn);
  pthread_mutex_unlock(&h->tmu);
  free(cn);
  *socket_context = NULL;
}

static struct conn *conn_of(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? ci->socket_context : NULL;
}

/* MHD's first call: the request's headers are in, so it has begun whatever
 * the reaper saw. False: healer cut the connection; refuse the request. */
static bool conn_begun(struct http *h, struct conn *cn) {
  if (!cn) return true;
  pthread_mutex_lock(&h->tmu);
  bool ok = cn->phase != CONN_CUT;
  if (cn->phase == CONN_IDLE) conn_move(h, cn, CONN_RECEIVING, conns_now());
  pthread_mutex_unlock(&h->tmu);
  return ok;
}

/* The request is whole (MHD's final call) or answered: healer's from now
 * on, never cut. False: it was cut first; refuse it. */
static bool conn_take(struct http *h, struct conn *cn) {
  if (!cn) return true;
  pthread_mutex_lock(&h->tmu);
  bool ok = cn->phase != CONN_CUT;
  if (ok && cn->phase != CONN_TAKEN) conn_move(h, cn, CONN_TAKEN, conns_now());
  pthread_mutex_unlock(&h->tmu);
  return ok;
}

/* The request ended (MHD's completion): the connection waits for the next.
 * Its count of bytes received is left to the reaper's next tick: a
 * syscall here would cost every request (the ingest benchmark's resends
 * lost 15% to it), and a byte of the next request that comes before that
 * tick only starts its deadline up to a tick late. */
static void conn_done(struct http *h, struct conn *cn) {
  if (!cn) return;
  pthread_mutex_lock(&h->tmu);
  if (cn->phase != CONN_CUT) {
    conn_move(h, cn, CONN_IDLE, conns_now());
    cn->sampled = false;
  }
  pthread_mutex_unlock(&h->tmu);
}

/* A warning at most every 10 s while slow connections are being closed. */
static void reaper_report(struct http *h, uint64_t *deadline, uint64_t *evicted,
                          int64_t *last_ms, int64_t now, size_t open) {
  uint64_t d = atomic_load(&h->cut_deadline), v = atomic_load(&h->cut_evicted);
  if ((d == *deadline && v == *evicted) || (*last_ms && now - *last_ms < 10000)) return;
  struct log_line l;
  log_begin(&l, LOGL_WARN, "slow connections closed");
  log_int(&l, "request_timeout", (long long)(d - *deadline));
  log_int(&l, "evicted", (long long)(v - *evicted));
  log_int(&l, "open", (long long)open);
  log_end(&l);
  *deadline = d;
  *evicted = v;
  *last_ms = now;
}

/* Four times a second: marks the idle connections that received a byte as
 * receiving, and cuts the receiving ones past their deadline. */
static void *reaper_main(void *arg) {
  struct http *h = arg;
  uint64_t rep_deadline = 0, rep_evicted = 0;
  int64_t rep_ms = 0;
  pthread_mutex_lock(&h->tmu);
  while (!h->rstop) {
    struct timespec ts = rtime_deadline(CLOCK_MONOTONIC, REAPER_TICK_MS);
    pthread_cond_timedwait(&h->tcv, &h->tmu, &ts);
    if (h->rstop) break;
    int64_t now = conns_now();
    for (struct conn *cn = h->phase[CONN_IDLE].head, *next; cn; cn = next) {
      next = cn->next;
      uint64_t got = bytes_received(cn->fd);
      if (!cn->sampled) {     /* kept alive: where its next request starts */
        cn->base = got;
        cn->sampled = true;
      } else if (got > cn->base) {
        conn_move(h, cn, CONN_RECEIVING, now);
      }
    }
    struct conn *cn;
    while (h->request_timeout_ms > 0 && (cn = h->phase[CONN_RECEIVING].head) &&
           now - cn->since_ms >= h->request_timeout_ms)
      conn_cut(h, cn, false, now);
    size_t open = conns_open(h);
    pthread_mutex_unlock(&h->tmu);
    reaper_report(h, &rep_deadline, &rep_evicted, &rep_ms, now, open);
    pthread_mutex_lock(&h->tmu);
  }
  pthread_mutex_unlock(&h->tmu);
  return NULL;
}

static void reaper_stop(struct http *h) {
  pthread_mutex_lock(&h->tmu);
  bool was = h->rstarted && !h->rstop;
  h->rstop = true;
  pthread_cond_signal(&h->tcv);
  pthread_mutex_unlock(&h->tmu);
  if (was) pthread_join(h->reaper, NULL);
}

static void conns_metrics(struct http *h, struct buf *b) {
  pthread_mutex_lock(&h->tmu);
  size_t open = conns_open(h);
  pthread_mutex_unlock(&h->tmu);
  buf_printf(b,
             "# HELP healer_http_connections_open Client connections open (not counting "
             "those healer is closing).\n"
             "# TYPE healer_http_connections_open gauge\n"
             "healer_http_connections_open %zu\n"
             "# HELP healer_http_connections_closed_total Connections healer closed "
             "before their request was whole: past --request-timeout, or evicted at "
             "the soft limit below --max-connections.\n"
             "# TYPE healer_http_connections_closed_total counter\n"
             "healer_http_connections_closed_total{reason=\"request_timeout\"} %llu\n"
             "healer_http_connections_closed_total{reason=\"evicted\"} %llu\n",
             open, (unsigned long long)atomic_load(&h->cut_deadline),
             (unsigned long long)atomic_load(&h->cut_evicted));
}

/* ---- replies -------------------------------------------------------------- */

static enum MHD_Result reply(struct http *h, struct MHD_Connection *c,
                             struct req *r, unsigned code, const char *ctype,
                             void *body, size_t len, enum MHD_ResponseMemoryMode mode,
                             const char *hname, const char *hvalue) {
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
  if (!resp) {
    if (mode == MHD_RESPMEM_MUST_FREE) free(body);
    return MHD_NO;
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  if (hname) MHD_add_response_header(resp, hname, hvalue);
  enum MHD_Result ok = MHD_queue_response(c, code, resp);
  MHD_destroy_response(resp);
  if (r) r->answered = true;
  metrics_http(&h->e->metrics, code);
  if (r && r->route == ROUTE_WEBHOOK && r->t0_us)
    metrics_webhook(&h->e->metrics, code, hist_now_us() - r->t0_us);
  return ok;
}

static enum MHD_Result reply_buf(struct http *h, struct MHD_Connection *c,
                                 struct req *r, unsigned code, const char *ctype,
                                 struct buf *b, const char *hname,
                                 const char *hvalue) {
  size_t len;
  char *data = buf_steal(b, &len);
  if (!data) return MHD_NO;
  return reply(h, c, r, code, ctype, data, len, MHD_RESPMEM_MUST_FREE, hname, hvalue);
}

static enum MHD_Result reply_error(struct http *h, struct MHD_Connection *c,
                                   struct req *r, unsigned code, const char *msg,
                                   const char *hname, const char *hvalue) {
  struct buf b;
  buf_init(&b);
  buf_puts(&b, "{\"error\":");
  buf_json_str(&b, msg);
  buf_puts(&b, "}\n");
  if (log_enabled(LOGL_DEBUG)) {
    struct log_line l;
    log_begin(&l, LOGL_DEBUG, "http error");
    log_int(&l, "code", code);
    log_str(&l, "error", msg);
    log_end(&l);
  }
  return reply_buf(h, c, r, code, "application/json", &b, hname, hvalue);
}

/* ---- the pause switch and breakers --------------------------------------------- */

static void pause_json(struct engine *e, struct buf *b) {
  struct safety_pause_info pi;
  safety_pause_state(&e->safety, &pi);
  buf_puts(b, pi.paused ? "{\"paused\":true" : "{\"paused\":false");
  if (pi.since_ms) {
    char ts[RTIME_BUFSZ];
    buf_puts(b, pi.paused ? ",\"by\":" : ",\"resumed_by\":");
    buf_json_str(b, pi.by);
    buf_puts(b, ",\"reason\":");
    buf_json_str(b, pi.why);
    buf_puts(b, ",\"since\":");
    buf_json_str(b, rtime_format(pi.since_ms, ts));
  }
  buf_puts(b, "}\n");
}

/* Who asked and why: ?by=NAME&reason=TEXT (people and scripts name
 * themselves; the credentials say only that they may). */
static void who_why(struct MHD_Connection *c, const char **by, const char **why) {
  *by = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "by");
  *why = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "reason");
  if (!*by || !**by) *by = "api";
  if (!*why) *why = "";
}

/* Syncs lsn: the change is durable before it is answered. */
static bool durable(struct engine *e, uint64_t lsn) {
  return !e->journal || !lsn || journal_sync(e->journal, lsn) == 0;
}

static enum MHD_Result serve_pause(struct http *h, struct MHD_Connection *c,
                                   struct req *r, struct buf *b) {
  struct engine *e = h->e;
  bool on = r->route == ROUTE_PAUSE;
  const char *by, *why;
  who_why(c, &by, &why);
  uint64_t lsn = 0;
  int rc = safety_pause(&e->safety, on, by, why, rtime_now_ms(), &lsn);
  if (rc < 0 || !durable(e, lsn)) {
    buf_free(b);
    return reply_error(h, c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
                       "the journal cannot record it; nothing changed", NULL, NULL);
  }
  if (rc > 0) {
    struct log_line l;
    log_begin(&l, LOGL_WARN, on ? "paused" : "resumed");
    log_str(&l, "by", by);
    log_str(&l, "reason", why);
    log_end(&l);
  }
  pause_json(e, b);
  return reply_buf(h, c, r, MHD_HTTP_OK, "application/json", b, NULL, NULL);
}

static enum MHD_Result serve_reset(struct http *h, struct MHD_Connection *c,
                                   struct req *r, struct buf *b) {
  struct engine *e = h->e;
  const char *by, *why;
  who_why(c, &by, &why);
  uint64_t lsn = 0;
  int rc = safety_reset(&e->safety, r->rule, by, rtime_now_ms(), &lsn);
  char msg[RULE_NAME_MAX + 80];
  if (rc == -1) {
    buf_free(b);
    snprintf(msg, sizeof msg, "no rule named '%s' with a breaker", r->rule);
    return reply_error(h, c, r, MHD_HTTP_NOT_FOUND, msg, NULL, NULL);
  }
  if (rc == -2 || !durable(e, lsn)) {
    buf_free(b);
    return reply_error(h, c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
                       "the journal cannot record it; nothing changed", NULL, NULL);
  }
  struct log_line l;
  log_begin(&l, LOGL_WARN, "breaker_reset");
  log_str(&l, "rule", r->rule);
  log_str(&l, "by", by);
  log_str(&l, "reason", why);
  log_str(&l, "was", rc ? "open" : "closed");
  log_end(&l);
  buf_puts(b, "{\"rule\":");
  buf_json_str(b, r->rule);
  buf_puts(b, rc ? ",\"was\":\"open\",\"breaker\":\"closed\"}\n"
                 : ",\"was\":\"closed\",\"breaker\":\"closed\"}\n");
  return reply_buf(h, c, r, MHD_HTTP_OK, "application/json", b, NULL, NULL);
}

/* ---- GET endpoints ---------------------------------------------------------- */

static enum MHD_Result serve_get(struct http *h, struct MHD_Connection *c,
                                 struct req *r) {
  struct engine *e = h->e;
  struct buf b;
  buf_init(&b);
  switch (r->route) {
  case ROUTE_HEALTHZ:
    buf_puts(&b, "{\"status\":\"ok\"}\n");
    return reply_buf(h, c, r, MHD_HTTP_OK, "application/json", &b, NULL, NULL);
  case ROUTE_READYZ: {
    /* A failed journal is unready too: it can accept nothing (503), so a
     * load balancer should send Alertmanager elsewhere. */
    char why[JOURNAL_WHY_MAX];
    const char *unready = engine_unready(e, why, sizeof why);
    buf_puts(&b, "{\"status\":");
    buf_json_str(&b, unready ? unready : "ready");
    if (*why) {
      buf_puts(&b, ",\"reason\":");
      buf_json_str(&b, why);
    }
    /* Paused is still ready: alerts keep being received and recorded
     * (skipped: paused), which is the point of pausing. */
    struct safety_pause_info pi;
    safety_pause_state(&e->safety, &pi);
    if (pi.paused) {
      buf_puts(&b, ",\"paused\":true,\"paused_by\":");
      buf_json_str(&b, pi.by);
    }
    /* Still ready, but new cooldown keys are skipped until some expire. */
    if (decide_cooldown_full(&e->decide)) buf_puts(&b, ",\"cooldown_full\":true");
    /* Still serving with the previous certificate: ready, but say so. */
    char tls_why[TLS_WHY_MAX];
    if (tls_problem(tls_why, sizeof tls_why)) {
      buf_puts(&b, ",\"tls\":");
      buf_json_str(&b, tls_why);
    }
    buf_puts(&b, "}\n");
    return reply_buf(h, c, r, unready ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK,
                     "application/json", &b, NULL, NULL);
  }
  case ROUTE_METRICS: {
    struct metrics_gauges g;
    engine_gauges(e, &g);
    metrics_render(&e->metrics, &g, &b);
    notify_metrics_render(&b);
    conns_metrics(h, &b);
    return reply_buf(h, c, r, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                     &b, NULL, NULL);
  }
  case ROUTE_RULES:
    return reply(h, c, r, MHD_HTTP_OK, "application/json", h->rules_json,
                 h->rules_json_len, MHD_RESPMEM_PERSISTENT, NULL, NULL);
  case ROUTE_REMEDIATIONS: {
    size_t limit = LIMIT_DEFAULT;
    const char *l = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
    if (l) {
      char *end;
      unsigned long long v = strtoull(l, &end, 10);
      if (!*l || *end || l[0] == '-' || v == 0 || v > 1000000)
        return reply_error(h, c, r, MHD_HTTP_BAD_REQUEST,
                           "limit: expected a number from 1 to 1000000", NULL, NULL);
      limit = (size_t)v;
    }
    store_render_json(&e->store, e->rs, &b, limit);
    buf_putc(&b, '\n');
    return reply_buf(h, c, r, MHD_HTTP_OK, "application/json", &b, NULL, NULL);
  }
  case ROUTE_PAUSE_STATE:
    pause_json(e, &b);
    return reply_buf(h, c, r, MHD_HTTP_OK, "application/json", &b, NULL, NULL);
  case ROUTE_PAUSE:
  case ROUTE_RESUME:
    return serve_pause(h, c, r, &b);
  case ROUTE_RULE_RESET:
    return serve_reset(h, c, r, &b);
  default:
    return MHD_NO;
  }
}

/* ---- the webhook -------------------------------------------------------------- */

static bool json_content_type(const char *ct) {
  if (!ct) return false;
  while (*ct == ' ' || *ct == '\t') ct++;
  size_t n = strlen("application/json");
  if (strncasecmp(ct, "application/json", n) != 0) return false;
  ct += n;
  while (*ct == ' ' || *ct == '\t') ct++;
  return *ct == '\0' || *ct == ';';
}

/* The body memory in flight is bounded by --max-body-total: a request
 * reserves what it allocates before allocating it, and gives it back when
 * its body goes (defer, completion, a client gone mid-body: MHD calls
 * on_completed in every case). False: over the budget, nothing reserved. */
static bool reserve(struct http *h, struct req *r, size_t cap) {
  uint64_t more = cap > r->cap ? cap - r->cap : 0;
  uint64_t was = atomic_fetch_add(&h->body_total, more);
  if (was + more > h->max_body_total) {
    atomic_fetch_sub(&h->body_total, more);
    return false;
  }
  return true;
}

static void drop_body(struct http *h, struct req *r) {
  atomic_fetch_sub(&h->body_total, r->cap);
  free(r->body);
  r->body = NULL;
  r->len = r->cap = 0;
}

#define BUDGET_MSG "webhook bodies in flight would exceed --max-body-total; retry"

static void defer(struct http *h, struct req *r, unsigned code, const char *msg) {
  if (r->deferred) return;
  r->deferred = code;
  snprintf(r->deferred_msg, sizeof r->deferred_msg, "%s", msg);
  drop_body(h, r);
}

/* Takes a piece of body. False: give up on the connection. */
static bool take(struct http *h, struct req *r, const char *data, size_t n) {
  r->seen += n;
  if (r->deferred) return r->seen <= h->max_body + DISCARD_MAX;
  if (r->seen > h->max_body) {
    char msg[128];
    snprintf(msg, sizeof msg, "body larger than --max-body (%llu bytes)",
             (unsigned long long)h->max_body);
    defer(h, r, MHD_HTTP_CONTENT_TOO_LARGE, msg);
    return true;
  }
  if (r->len + n + 1 > r->cap) {
    size_t cap = r->cap ? r->cap : 4096;
    while (cap < r->len + n + 1) cap *= 2;
    if (cap > h->max_body + 1) cap = (size_t)h->max_body + 1;
    if (!reserve(h, r, cap)) {
      defer(h, r, MHD_HTTP_SERVICE_UNAVAILABLE, BUDGET_MSG);
      return true;
    }
    char *p = realloc(r->body, cap);
    if (!p) {
      atomic_fetch_sub(&h->body_total, cap - r->cap);
      defer(h, r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
      return true;
    }
    r->body = p;
    r->cap = cap;
  }
  memcpy(r->body + r->len, data, n);
  r->len += n;
  r->body[r->len] = '\0';
  return true;
}

static enum MHD_Result webhook_headers(struct http *h, struct MHD_Connection *c,
                                       struct req *r) {
  if (atomic_load(&h->e->draining))
    return reply_error(h, c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
                       "healer is shutting down; retry", "Retry-After", "5");
  const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_TYPE);
  if (!json_content_type(ct)) {
    char msg[160];
    snprintf(msg, sizeof msg, "Content-Type must be application/json, not '%.64s'",
             ct ? ct : "(none)");
    return reply_error(h, c, r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, msg, NULL, NULL);
  }
  const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl) {
    char *end;
    unsigned long long n = strtoull(cl, &end, 10);
    if (*end == '\0' && n > h->max_body) {
      char msg[128];
      snprintf(msg, sizeof msg,
               "body of %llu bytes is larger than --max-body (%llu bytes)", n,
               (unsigned long long)h->max_body);
      return reply_error(h, c, r, MHD_HTTP_CONTENT_TOO_LARGE, msg, NULL, NULL);
    }
    if (*end == '\0' && n > 0) {
      if (!reserve(h, r, (size_t)n + 1))
        return reply_error(h, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, BUDGET_MSG,
                           "Retry-After", "1");
      r->body = malloc((size_t)n + 1);
      if (r->body) r->cap = (size_t)n + 1;
      else atomic_fetch_sub(&h->body_total, (size_t)n + 1);
    }
  }
  return MHD_YES;
}

/* ---- answering after the journal -----------------------------------------------
 *
 * A webhook that journaled remediations is answered only once they are on
 * disk, but its HTTP thread does not wait for the disk: the handler
 * suspends the connection and hands it to the committer thread, which
 * syncs the journal once for every connection waiting (and whatever else
 * was appended meanwhile), then resumes them. MHD calls the handler again
 * and it answers. One fdatasync serves every request in flight, and the
 * HTTP threads keep serving while it runs. */

/* Suspends c until the committer has synced r's records. false when the
 * committer has stopped (the caller then commits itself). */
static bool wait_for_commit(struct http *h, struct MHD_Connection *c,
                            struct req *r) {
  pthread_mutex_lock(&h->cmu);
  bool ok = h->cstarted && !h->cstop;
  if (ok) {
    /* Suspended before the committer can see it, so that it never
     * resumes a connection that is not suspended. */
    MHD_suspend_connection(c);
    r->suspended = true;
    r->conn = c;
    r->next_waiting = h->waiting;
    h->waiting = r;
    pthread_cond_signal(&h->ccv);
  }
  pthread_mutex_unlock(&h->cmu);
  return ok;
}

static void *committer_main(void *arg) {
  struct http *h = arg;
  pthread_mutex_lock(&h->cmu);
  for (;;) {
    while (!h->waiting && !h->cstop)
      pthread_cond_wait(&h->ccv, &h->cmu);
    if (!h->waiting)
      break;                  /* stopped, and nobody left waiting */
    struct req *batch = h->waiting;
    h->waiting = NULL;
    pthread_mutex_unlock(&h->cmu);
    struct ingest_result all = {.lsn = 0};
    for (struct req *r = batch; r; r = r->next_waiting)
      if (r->res.lsn > all.lsn) all.lsn = r->res.lsn;
    engine_commit(h->e, &all);
    while (batch) {
      struct req *r = batch;
      batch = r->next_waiting;  /* r is MHD's again once resumed */
      if (all.journal_failed) r->res.journal_failed = true;
      atomic_store(&r->committed, true);
      MHD_resume_connection(r->conn);
    }
    pthread_mutex_lock(&h->cmu);
  }
  pthread_mutex_unlock(&h->cmu);
  return NULL;
}

/* Stops the committer once every connection it holds is resumed. */
static void committer_stop(struct http *h) {
  pthread_mutex_lock(&h->cmu);
  bool was = h->cstarted && !h->cstop;
  h->cstop = true;
  pthread_cond_signal(&h->ccv);
  pthread_mutex_unlock(&h->cmu);
  if (!was) return;
  pthread_join(h->committer, NULL);
}

static enum MHD_Result webhook_reply(struct http *h, struct MHD_Connection *c,
                                     struct req *r);

static enum MHD_Result webhook_done(struct http *h, struct MHD_Connection *c,
                                    struct req *r) {
  struct engine *e = h->e;
  if (r->deferred)
    return reply_error(h, c, r, r->deferred, r->deferred_msg,
                       r->deferred == MHD_HTTP_SERVICE_UNAVAILABLE ? "Retry-After" : NULL,
                       r->deferred == MHD_HTTP_SERVICE_UNAVAILABLE ? "1" : NULL);
  if (r->len == 0)
    return reply_error(h, c, r, MHD_HTTP_BAD_REQUEST, "empty body", NULL, NULL);
  struct bump arena;
  bump_init(&arena, r->len * 4 > 16384 ? r->len * 4 : 16384);
  struct payload p;
  char err[DECODE_ERR_MAX];
  if (decode_payload(r->body, r->len, &arena, &p, err) < 0) {
    bump_free(&arena);
    char msg[DECODE_ERR_MAX + 32];
    snprintf(msg, sizeof msg, "invalid payload: %s", err);
    struct log_line l;
    log_begin(&l, LOGL_WARN, "payload rejected");
    log_str(&l, "error", err);
    log_end(&l);
    return reply_error(h, c, r, MHD_HTTP_BAD_REQUEST, msg, NULL, NULL);
  }
  struct ingest_result *res = &r->res;
  int rc = engine_evaluate(e, &p, &arena, rtime_now_ms(), res);
  bump_free(&arena);
  if (rc < 0)
    return reply_error(h, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory; retry",
                       "Retry-After", "5");
  if (res->lsn && e->journal && !journal_durable(e->journal, res->lsn) &&
      wait_for_commit(h, c, r))
    return MHD_YES;           /* answered when the committer resumes it */
  engine_commit(e, res);
  return webhook_reply(h, c, r);
}

/* The answer to a webhook whose evaluation (and commit) is done: 202 with
 * the counts, or 503 (with the counts too) so that Alertmanager retries. */
static enum MHD_Result webhook_reply(struct http *h, struct MHD_Connection *c,
                                     struct req *r) {
  const struct ingest_result *res = &r->res;
  struct buf b;
  buf_init(&b);
  unsigned code = MHD_HTTP_ACCEPTED;
  if (res->queue_full || res->closed || res->journal_failed) {
    code = MHD_HTTP_SERVICE_UNAVAILABLE;
    buf_puts(&b, "{\"error\":");
    buf_json_str(&b, res->journal_failed ? "the journal cannot record remediations; retry"
                     : res->closed       ? "healer is shutting down; retry"
                                         : "queue full; retry later");
    buf_puts(&b, ",");
    struct log_line l;
    log_begin(&l, LOGL_WARN, res->journal_failed ? "journal_failed"
                             : res->closed       ? "draining"
                                                 : "queue full");
    log_int(&l, "unprocessed", (long long)res->unprocessed);
    log_end(&l);
  } else {
    buf_puts(&b, "{\"status\":\"accepted\",");
  }
  const struct {
    const char *key;
    size_t v;
  } counts[] = {{"\"alerts\":", res->alerts},         {",\"queued\":", res->queued},
                {",\"duplicates\":", res->duplicates}, {",\"suppressed\":", res->suppressed},
                {",\"skipped\":", res->skipped},       {",\"unmatched\":", res->unmatched},
                {",\"cancelled\":", res->cancelled},   {",\"unprocessed\":", res->unprocessed}};
  for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
    buf_puts(&b, counts[i].key);
    buf_uint(&b, counts[i].v);
  }
  buf_puts(&b, "}\n");
  return reply_buf(h, c, r, code, "application/json", &b,
                   code == MHD_HTTP_ACCEPTED ? NULL : "Retry-After",
                   code == MHD_HTTP_ACCEPTED ? NULL : "5");
}

/* ---- framing ------------------------------------------------------------------- */

struct framing {
  const char *cl;     /* the first Content-Length */
  bool cl_differ;     /* another one says something else */
  const char *te;     /* a Transfer-Encoding that is not exactly "chunked" */
};

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind,
                                      const char *key, const char *value) {
  (void)kind;
  struct framing *f = cls;
  if (!key || !value) return MHD_YES;
  if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
    if (!f->cl) f->cl = value;
    else if (strcmp(f->cl, value) != 0) f->cl_differ = true;
  } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
    const char *v = value;
    while (*v == ' ' || *v == '\t') v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
    if (!(n == 7 && strncasecmp(v, "chunked", 7) == 0)) f->te = value;
  }
  return MHD_YES;
}

/* A body whose length healer cannot be sure of is refused before it is
 * read: two Content-Length headers that differ (400), a transfer coding
 * other than chunked (501). MHD would otherwise pick one length, or wait
 * for a body it cannot delimit until the idle timeout. */
static enum MHD_Result check_framing(struct http *h, struct MHD_Connection *c,
                                     struct req *r, bool *answered) {
  struct framing f = {0};
  MHD_get_connection_values(c, MHD_HEADER_KIND, framing_header, &f);
  *answered = true;
  if (f.cl_differ)
    return reply_error(h, c, r, MHD_HTTP_BAD_REQUEST,
                       "two Content-Length headers that differ", NULL, NULL);
  if (f.te) {
    char msg[160];
    snprintf(msg, sizeof msg, "Transfer-Encoding '%.64s' is not supported (only chunked)",
             f.te);
    return reply_error(h, c, r, MHD_HTTP_NOT_IMPLEMENTED, msg, NULL, NULL);
  }
  *answered = false;
  return MHD_YES;
}

/* ---- dispatch ------------------------------------------------------------------ */

/* Whether the request carries the configured credentials. Basic ones are
 * decoded by libmicrohttpd (0.9.75: the scheme must be spelled "Basic "),
 * and the decoded password is wiped before it is freed. */
static bool authorized(const struct http *h, struct MHD_Connection *c) {
  const struct auth *a = h->auth;
  if (a->kind != AUTH_BASIC)
    return auth_check_bearer(a, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                            MHD_HTTP_HEADER_AUTHORIZATION));
  char *password = NULL;
  char *user = MHD_basic_auth_get_username_password(c, &password);
  bool ok = auth_check_basic(a, user, password);
  if (password) {
    auth_wipe(password, strlen(password));
    MHD_free(password);
  }
  if (user) MHD_free(user);
  return ok;
}

/* Protected: every path under /api/ (known or not), and every path with
 * --auth-all. There a client without credentials gets 401 before 404 or
 * 405, so it cannot map the API. */
static bool protected_path(const struct http *h, const char *url) {
  return h->auth->all || strncmp(url, "/api/", 5) == 0;
}

static enum MHD_Result first_call(struct http *h, struct MHD_Connection *c,
                                  struct req *r, const char *url,
                                  const char *method) {
  bool framed_badly;
  enum MHD_Result fr = check_framing(h, c, r, &framed_badly);
  if (framed_badly) return fr;
  bool known = false;
  const char *allow = NULL;
  int found = -1;
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    if (strcmp(url, routes[i].path) != 0) continue;
    known = true;
    bool get = strcmp(routes[i].method, "GET") == 0;
    allow = get ? "GET, HEAD" : routes[i].method;
    if (strcmp(method, routes[i].method) == 0 || (get && strcmp(method, "HEAD") == 0))
      found = (int)i;
  }
  bool reset = false;
  size_t ul = strlen(url), pl = strlen(RESET_PREFIX), sl = strlen(RESET_SUFFIX);
  if (!known && ul > pl + sl && strncmp(url, RESET_PREFIX, pl) == 0 &&
      strcmp(url + ul - sl, RESET_SUFFIX) == 0 && ul - pl - sl < RULE_NAME_MAX) {
    known = true;
    allow = "POST";
    reset = strcmp(method, "POST") == 0;
  }
  bool open = found >= 0 ? routes[found].open && !h->auth->all : !protected_path(h, url);
  if (!open && !authorized(h, c))
    return reply_error(h, c, r, MHD_HTTP_UNAUTHORIZED, "missing or wrong credentials",
                       MHD_HTTP_HEADER_WWW_AUTHENTICATE, auth_challenge(h->auth));
  char msg[300];
  if (!known) {
    snprintf(msg, sizeof msg, "no such endpoint: %.16s %.200s", method, url);
    return reply_error(h, c, r, MHD_HTTP_NOT_FOUND, msg, NULL, NULL);
  }
  if (reset) {
    memcpy(r->rule, url + pl, ul - pl - sl);
    r->rule[ul - pl - sl] = '\0';
    r->route = ROUTE_RULE_RESET;
    return MHD_YES;
  }
  if (found < 0) {
    snprintf(msg, sizeof msg, "method %.16s not allowed on %s (allowed: %s)", method,
             url, allow);
    return reply_error(h, c, r, MHD_HTTP_METHOD_NOT_ALLOWED, msg, MHD_HTTP_HEADER_ALLOW,
                       allow);
  }
  r->route = routes[found].route;
  r->t0_us = hist_now_us();
  if (r->route == ROUTE_WEBHOOK) return webhook_headers(h, c, r);
  /* GETs are answered on the next (final) call: a response queued before
   * MHD has read the whole request makes it close the connection. */
  return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
  (void)version;
  struct http *h = cls;
  struct req *r = *con_cls;
  if (!r) {
    struct conn *cn = conn_of(c);
    if (!conn_begun(h, cn)) return MHD_NO;   /* cut: past its deadline */
    r = calloc(1, sizeof *r);
    if (!r) return MHD_NO;
    *con_cls = r;
    r->cn = cn;
    atomic_fetch_add(&h->inflight, 1);
    enum MHD_Result rc = first_call(h, c, r, url, method);
    /* Answered already: MHD sends it (dropping any body), nothing to cut. */
    if (r->answered && !conn_take(h, cn)) return MHD_NO;
    return rc;
  }
  if (atomic_load(&r->committed))   /* resumed by the committer */
    return webhook_reply(h, c, r);
  if (r->suspended)           /* called again before the resume: wait */
    return MHD_YES;
  if (r->answered) {          /* body of a request already answered */
    *upload_size = 0;
    return MHD_YES;
  }
  if (r->route != ROUTE_WEBHOOK) {
    if (*upload_size) {       /* a body on a GET: read and ignored */
      *upload_size = 0;
      return MHD_YES;
    }
    if (!conn_take(h, r->cn)) return MHD_NO;
    return serve_get(h, c, r);
  }
  if (*upload_size) {
    bool keep = take(h, r, upload, *upload_size);
    *upload_size = 0;
    return keep ? MHD_YES : MHD_NO;
  }
  /* Whole: from here it is answered, however long the journal takes. */
  if (!conn_take(h, r->cn)) return MHD_NO;
  return webhook_done(h, c, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why) {
  struct http *h = cls;
  struct req *r = *con_cls;
  conn_done(h, r ? r->cn : conn_of(c));
  if (!r) return;
  if (why != MHD_REQUEST_TERMINATED_COMPLETED_OK && log_enabled(LOGL_DEBUG)) {
    struct log_line l;
    log_begin(&l, LOGL_DEBUG, "request ended early");
    log_int(&l, "termination", why);
    log_int(&l, "body_bytes", (long long)r->seen);
    log_end(&l);
  }
  drop_body(h, r);
  free(r);
  *con_cls = NULL;
  atomic_fetch_sub(&h->inflight, 1);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  if (!log_enabled(LOGL_DEBUG)) return;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
  struct log_line l;
  log_begin(&l, LOGL_DEBUG, "libmicrohttpd");
  log_str(&l, "detail", msg);
  log_end(&l);
}
#pragma GCC diagnostic pop

/* ---- start and stop -------------------------------------------------------------- */

/* addr as host and port, resolved for a passive socket (*res). */
static int resolve_listen(const char *addr, struct addrinfo **res, char *err,
                          size_t errlen) {
  char host[256], serv[16];
  const char *colon;
  if (addr[0] == '[') {
    const char *close = strchr(addr, ']');
    if (!close || close[1] != ':' || (size_t)(close - addr - 1) >= sizeof host) goto bad;
    memcpy(host, addr + 1, (size_t)(close - addr - 1));
    host[close - addr - 1] = '\0';
    colon = close + 1;
  } else {
    colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host) goto bad;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
  }
  const char *p = colon + 1;
  size_t nd = strspn(p, "0123456789");
  if (nd == 0 || p[nd] != '\0') goto bad;
  if (nd > 5 || strtol(p, NULL, 10) > 65535) {
    snprintf(err, errlen, "--listen %s: port %.20s%s is out of range (0 to 65535)",
             addr, p, nd > 20 ? "..." : "");
    return -1;
  }
  snprintf(serv, sizeof serv, "%s", p);
  struct addrinfo hints = {0};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  int gai = getaddrinfo(host[0] ? host : NULL, serv, &hints, res);
  if (gai != 0) {
    snprintf(err, errlen, "--listen %s: %s", addr, gai_strerror(gai));
    return -1;
  }
  return 0;
bad:
  snprintf(err, errlen, "--listen %s: expected host:port, [ipv6]:port or :port", addr);
  return -1;
}

int http_check_listen(const char *addr, char *err, size_t errlen) {
  struct addrinfo *res = NULL;
  if (resolve_listen(addr, &res, err, errlen) < 0) return -1;
  freeaddrinfo(res);
  return 0;
}

int http_listen(const char *addr, char *bound, size_t boundlen, uint16_t *port,
                char *err, size_t errlen) {
  struct addrinfo *res = NULL;
  if (resolve_listen(addr, &res, err, errlen) < 0) return -1;
  int fd = -1, saved = 0;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      saved = errno;
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0) break;
    saved = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    snprintf(err, errlen, "--listen %s: %s", addr, strerror(saved));
    return -1;
  }
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  char ip[INET6_ADDRSTRLEN] = "?";
  *port = 0;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
    if (ss.ss_family == AF_INET) {
      struct sockaddr_in *in = (struct sockaddr_in *)&ss;
      inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
      *port = ntohs(in->sin_port);
      snprintf(bound, boundlen, "%s:%u", ip, *port);
    } else if (ss.ss_family == AF_INET6) {
      struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
      inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
      *port = ntohs(in6->sin6_port);
      snprintf(bound, boundlen, "[%s]:%u", ip, *port);
    }
  }
  return fd;
}

/* Frees what http_start() made of h so far (the daemon excepted). */
static void http_free(struct http *h) {
  committer_stop(h);
  reaper_stop(h);
  /* MHD's CLOSED notifications freed every entry; these are a daemon
   * that never started's (none) or a broken promise of MHD's. */
  for (int p = 0; p < CONN_NPHASES; p++)
    while (h->phase[p].head) {
      struct conn *cn = h->phase[p].head;
      list_del(&h->phase[p], cn);
      free(cn);
    }
  pthread_cond_destroy(&h->tcv);
  pthread_mutex_destroy(&h->tmu);
  pthread_cond_destroy(&h->ccv);
  pthread_mutex_destroy(&h->cmu);
  free(h->rules_json);
  free(h);
}

struct http *http_start(struct engine *e, const struct auth *auth,
                        const struct http_config *cfg, char *err, size_t errlen) {
  struct http *h = calloc(1, sizeof *h);
  if (!h) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  h->e = e;
  h->auth = auth;
  h->max_body = cfg->max_body;
  h->max_body_total = cfg->max_body_total ? cfg->max_body_total : UINT64_MAX;
  h->history = cfg->history;
  atomic_init(&h->inflight, 0);
  atomic_init(&h->body_total, 0);
  pthread_mutex_init(&h->cmu, NULL);
  pthread_cond_init(&h->ccv, NULL);
  pthread_mutex_init(&h->tmu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&h->tcv, &ca);
  pthread_condattr_destroy(&ca);
  atomic_init(&h->cut_deadline, 0);
  atomic_init(&h->cut_evicted, 0);
  h->request_timeout_ms = cfg->request_timeout_ms;
  /* A sixteenth of the table kept free (at least one slot); no table
   * size given (MHD's default), no eviction. */
  unsigned maxc = cfg->max_connections;
  h->soft_limit = maxc ? maxc - (maxc / 16 ? maxc / 16 : 1) : SIZE_MAX;
  struct buf b;
  buf_init(&b);
  api_rules_json(e->rs, &b);
  buf_putc(&b, '\n');
  h->rules_json = buf_steal(&b, &h->rules_json_len);
  if (!h->rules_json) {
    snprintf(err, errlen, "out of memory");
    http_free(h);
    return NULL;
  }
  h->fd = http_listen(cfg->listen, h->address, sizeof h->address, &h->port, err, errlen);
  if (h->fd < 0) {
    http_free(h);
    return NULL;
  }
  /* Without the committer, webhooks commit on their own thread. */
  h->cstarted = pthread_create(&h->committer, NULL, committer_main, h) == 0;
  /* Without the reaper nothing would hold requests to their deadline. */
  h->rstarted = pthread_create(&h->reaper, NULL, reaper_main, h) == 0;
  if (!h->rstarted) {
    snprintf(err, errlen, "cannot start the HTTP reaper thread");
    close(h->fd);
    http_free(h);
    return NULL;
  }
  /* HTTPS when tls_init() loaded a certificate: each handshake asks tls.c
   * for the current pair (SIGHUP swaps it), TLS 1.2 at least; with client
   * CAs, tls.c requires and verifies a client certificate. A handshake
   * counts against --connection-timeout like any idle connection. */
  struct MHD_OptionItem tls_opts[] = {
      {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, tls_retrieve_callback()},
      {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)(uintptr_t)tls_priorities()},
      {tls_client_ca_pem() ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0,
       (void *)(uintptr_t)tls_client_ca_pem()},
      {MHD_OPTION_END, 0, NULL}};
  bool https = tls_enabled();
  h->d = MHD_start_daemon(
      HTTP_MHD_FLAGS | (https ? MHD_USE_TLS : 0), 0, NULL, NULL, on_request, h,
      MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,   /* first, to catch all */
      MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->fd,
      MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
      MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s,
      MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
      /* Beyond it a new connection from that address is closed at once,
       * so one client cannot take every slot from Alertmanager. */
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_ip,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
      /* Each connection's entry, for --request-timeout and the soft limit. */
      MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
      https ? MHD_OPTION_ARRAY : MHD_OPTION_END, tls_opts,
      MHD_OPTION_END);
  if (!h->d) {
    snprintf(err, errlen, "cannot start the HTTP server on %s", h->address);
    close(h->fd);
    http_free(h);
    return NULL;
  }
  return h;
}

const char *http_address(const struct http *h) { return h->address; }

uint16_t http_port(const struct http *h) { return h->port; }

void http_quiesce(struct http *h) {
  if (h->fd < 0) return;
  MHD_socket fd = MHD_quiesce_daemon(h->d);
  if (fd != MHD_INVALID_SOCKET) close(fd);
  h->fd = -1;
}

size_t http_inflight(struct http *h) { return atomic_load(&h->inflight); }

void http_stop(struct http *h) {
  if (!h) return;
  committer_stop(h);          /* resumes every connection it holds */
  reaper_stop(h);             /* cuts nothing while MHD closes them all */
  MHD_stop_daemon(h->d);
  http_free(h);
}
