/*
 * fuzz_http.c - libFuzzer target: arbitrary bytes as what a client sends to
 * the HTTP front end (request line, headers, body framing, credentials),
 * over a real loopback connection to healer's own server (http.c and
 * libmicrohttpd, the fixture rules behind it). The input's first byte picks
 * one of two servers: bearer auth, or basic auth with --auth-all; the rest
 * is written to a fresh connection, whose write side is then closed, and
 * the answer is read until the server closes (or a short deadline).
 * Remediations queued are dropped after each input, so memory stays
 * bounded.
 *
 *   make fuzz-http [FUZZ_SECONDS=60]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "abi.h"
#include "auth.h"
#include "engine.h"
#include "http.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The first byte of an answer comes within ANSWER_MS on loopback; once it
 * has, a pause of MORE_MS means the server is done (a kept-alive
 * connection is not closed by the server after the client's half-close). */
#define ANSWER_MS 1000
#define MORE_MS 20

static struct engine e;
static struct http *servers[2];
static unsigned char token[] = "fuzz-token";
static unsigned char basic[] = "am:s3cret";
static struct auth auths[2] = {
    {AUTH_BEARER, token, sizeof token - 1, false},
    {AUTH_BASIC, basic, sizeof basic - 1, true},
};

static void setup(void) {
  char err[256];
  struct engine_config cfg = {false, 0, 64, 100, 3600000, 1000, 1000};
  log_setup(LOG_TEXT, LOGL_ERROR, 2);
  signal(SIGPIPE, SIG_IGN);
  if (engine_init(&e, &hl_ruleset, &cfg, err, sizeof err) != 0) abort();
  struct http_config hc = {
      .listen = "127.0.0.1:0",
      .threads = 2,
      .connection_timeout_s = 2,
      .max_connections = 64,
      .max_body = 65536,
      .history = 100,
  };
  for (int i = 0; i < 2; i++) {
    servers[i] = http_start(&e, &auths[i], &hc, err, sizeof err);
    if (!servers[i]) {
      fprintf(stderr, "fuzz_http: %s\n", err);
      abort();
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  if (!ready) {
    setup();
    ready = 1;
  }
  if (size == 0) return 0;
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(http_port(servers[data[0] & 1]));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) abort();
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) abort();
  for (size_t off = 1; off < size;) {
    ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
    if (n <= 0) break;        /* the server closed early: a fine answer */
    off += (size_t)n;
  }
  shutdown(fd, SHUT_WR);
  char buf[8192];
  struct pollfd p = {fd, POLLIN, 0};
  for (int wait = ANSWER_MS; poll(&p, 1, wait) > 0 && read(fd, buf, sizeof buf) > 0;)
    wait = MORE_MS;
  close(fd);
  for (struct queue_item *it; (it = queue_try_pop(&e.queue));) {
    struct remediation *r = rem_of_item(it);
    decide_finished(&e.decide, r);
    rem_unref(r);
  }
  return 0;
}
