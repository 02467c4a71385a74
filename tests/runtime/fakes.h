/*
 * fakes.h - start tests/fakes/fake_*.py from a cmocka test and talk to
 * their control API (/_fake/...). Shared by test_httpc.c, test_jenkins.c
 * and test_notify.c.
 *
 *   struct fake jk;
 *   const char *args[] = {"--user", "bot", "--token", "t0k", NULL};
 *   fake_start(&jk, "jenkins", args);           // fails the test on error
 *   fake_script(&jk, "{\"jobs\":{...}}");
 *   cJSON *reqs = fake_json(&jk, "/_fake/requests?method=POST");
 *   fake_stop(&jk);
 *
 * A fake runs with --max-seconds 300 and dies with the test process
 * (PR_SET_PDEATHSIG), so a crashed test leaves nothing behind. Loopback
 * only. The fakes directory is $HEALER_FAKES_DIR, else tests/fakes (the
 * tests run from the repository's root).
 */
#ifndef HEALER_TEST_FAKES_H
#define HEALER_TEST_FAKES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "httpc.h"

struct fake {
  pid_t pid;
  int port;
  char url[64]; /* http://127.0.0.1:PORT, or https:// (fake_use_tls) */
  char dir[64]; /* port file and log */
  char service[16];
  char ca_file[256]; /* verifies an https fake's certificate, or "" */
};

static inline void fake_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static inline int fake_read_port(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  int port = -1;
  if (fscanf(f, "%d", &port) != 1)
    port = -1;
  fclose(f);
  return port;
}

static inline void fake_print_log(const struct fake *f) {
  char path[96], line[512];
  snprintf(path, sizeof path, "%s/log", f->dir);
  FILE *l = fopen(path, "r");
  if (!l)
    return;
  while (fgets(line, sizeof line, l))
    fprintf(stderr, "  [%s] %s", f->service, line);
  fclose(l);
}

/* Starts tests/fakes/fake_<service>.py; args is NULL-terminated (or NULL). */
static inline void fake_start(struct fake *f, const char *service,
                              const char *const *args) {
  memset(f, 0, sizeof *f);
  snprintf(f->service, sizeof f->service, "%s", service);
  snprintf(f->dir, sizeof f->dir, "/tmp/healer-fake.XXXXXX");
  if (!mkdtemp(f->dir))
    fail_msg("mkdtemp failed");
  const char *dir = getenv("HEALER_FAKES_DIR");
  char script[512], pf[96], log[96];
  snprintf(script, sizeof script, "%s/fake_%s.py", dir ? dir : "tests/fakes",
           service);
  snprintf(pf, sizeof pf, "%s/port", f->dir);
  snprintf(log, sizeof log, "%s/log", f->dir);
  const char *argv[40];
  size_t n = 0;
  argv[n++] = "python3";
  argv[n++] = script;
  argv[n++] = "--port";
  argv[n++] = "0";
  argv[n++] = "--port-file";
  argv[n++] = pf;
  argv[n++] = "--max-seconds";
  argv[n++] = "300";
  for (size_t i = 0; args && args[i] && n < 38; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  pid_t parent = getpid();
  f->pid = fork();
  if (f->pid < 0)
    fail_msg("fork failed");
  if (f->pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
      _exit(127);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
    execv("/usr/bin/python3", (char *const *)(uintptr_t)argv);
    execvp("python3", (char *const *)(uintptr_t)argv);
    _exit(127);
  }
  for (int i = 0; i < 400; i++) {
    int port = fake_read_port(pf);
    if (port > 0) {
      f->port = port;
      snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", port);
      return;
    }
    int st;
    if (waitpid(f->pid, &st, WNOHANG) == f->pid) {
      fake_print_log(f);
      f->pid = 0;
      fail_msg("fake %s exited at start-up", service);
    }
    fake_sleep_ms(25);
  }
  fake_print_log(f);
  fail_msg("fake %s did not listen within 10 s", service);
}

/* For a fake started with --tls-cert: its URL becomes https:// and the
 * control requests verify its certificate with ca_file. */
static inline void fake_use_tls(struct fake *f, const char *ca_file) {
  snprintf(f->url, sizeof f->url, "https://127.0.0.1:%d", f->port);
  snprintf(f->ca_file, sizeof f->ca_file, "%s", ca_file);
}

static inline void fake_stop(struct fake *f) {
  if (f->pid > 0) {
    kill(f->pid, SIGTERM);
    int st;
    for (int i = 0; i < 200 && waitpid(f->pid, &st, WNOHANG) != f->pid; i++) {
      if (i == 199) {
        kill(f->pid, SIGKILL);
        waitpid(f->pid, &st, 0);
      }
      fake_sleep_ms(25);
    }
  }
  f->pid = 0;
  char path[96];
  snprintf(path, sizeof path, "%s/port", f->dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/log", f->dir);
  unlink(path);
  rmdir(f->dir);
}

/* A control request; returns the body (free()) and sets *status. */
static inline char *fake_call(const struct fake *f, const char *method,
                              const char *path, const char *json,
                              long *status) {
  struct httpc *hc = httpc_new(NULL);
  assert_non_null(hc);
  char url[1024];
  snprintf(url, sizeof url, "%s%.900s", f->url, path);
  struct httpc_request rq = {
      .method = strcmp(method, "POST") == 0 ? HTTPC_POST : HTTPC_GET,
      .url = url,
      .content_type = json ? "application/json" : NULL,
      .body = json,
      .body_len = json ? strlen(json) : 0,
      .timeout_ms = 10000,
      .ca_file = f->ca_file[0] ? f->ca_file : NULL,
  };
  struct httpc_response rs;
  httpc_response_init(&rs);
  if (httpc_do(hc, &rq, &rs) < 0)
    fail_msg("fake %s %s: %s", method, path, rs.error);
  if (status)
    *status = rs.status;
  char *body = strdup(rs.body.data ? rs.body.data : "");
  httpc_response_free(&rs);
  httpc_free(hc);
  return body;
}

/* Applies a script (knobs and faults); fails the test when refused. */
static inline void fake_script(const struct fake *f, const char *json) {
  long st = 0;
  char *b = fake_call(f, "POST", "/_fake/script", json, &st);
  if (st != 200)
    fail_msg("fake_script %s: %ld %s", f->service, st, b);
  free(b);
}

static inline void fake_reset(const struct fake *f) {
  long st = 0;
  free(fake_call(f, "POST", "/_fake/reset", "{}", &st));
  assert_int_equal(st, 200);
}

/* GET path as JSON (cJSON_Delete() it). */
static inline cJSON *fake_json(const struct fake *f, const char *path) {
  long st = 0;
  char *b = fake_call(f, "GET", path, NULL, &st);
  cJSON *j = cJSON_Parse(b);
  if (st != 200 || !j)
    fail_msg("fake GET %s: %ld %s", path, st, b);
  free(b);
  return j;
}

/* The number of recorded requests matching query ("method=POST&..."). */
static inline int fake_count(const struct fake *f, const char *query) {
  char path[512];
  snprintf(path, sizeof path, "/_fake/count%s%s", query && *query ? "?" : "",
           query ? query : "");
  long st = 0;
  char *b = fake_call(f, "GET", path, NULL, &st);
  int n = atoi(b);
  free(b);
  assert_int_equal(st, 200);
  return n;
}

/* A loopback port with nothing listening (for "service down"). */
static inline int fake_dead_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
  close(s);
  return ntohs(a.sin_port);
}

/* Writes s to a new temporary file; returns its path (static buffer
 * per call site: copy it). */
static inline void fake_write_file(char *path, size_t pathlen, const char *s) {
  snprintf(path, pathlen, "/tmp/healer-test-secret.XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
  close(fd);
}

#endif
