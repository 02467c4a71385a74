/*
 * sink.c - the benchmark's baseline: a bare libmicrohttpd server with the
 * same daemon flags and options as healer's front end (HTTP_MHD_FLAGS,
 * thread pool, connection timeout) that reads the request body and answers
 * 200 with a small JSON body. bench/ingest.sh drives it and healer with the
 * same load and prints the ratio.
 *
 *   sink PORT THREADS [decode]
 *
 * With "decode" it also decodes each body with healer's decoder (cJSON in a
 * per-request bump arena, shape checks), the reference point for how much
 * of healer's cost is parsing.
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bump.h"
#include "decode.h"
#include "http.h"

static int g_decode;

struct req {
  char *body;
  size_t len, cap;
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls) {
  (void)cls, (void)url, (void)method, (void)version;
  struct req *r = *con_cls;
  if (!r) {
    *con_cls = calloc(1, sizeof *r);
    return *con_cls ? MHD_YES : MHD_NO;
  }
  if (*upload_size) {       /* keep the body, as healer does */
    if (r->len + *upload_size + 1 > r->cap) {
      size_t cap = r->cap ? r->cap * 2 : 4096;
      while (cap < r->len + *upload_size + 1) cap *= 2;
      char *p = realloc(r->body, cap);
      if (!p) return MHD_NO;
      r->body = p;
      r->cap = cap;
    }
    memcpy(r->body + r->len, upload, *upload_size);
    r->len += *upload_size;
    *upload_size = 0;
    return MHD_YES;
  }
  if (g_decode && r->len) {
    struct bump arena;
    bump_init(&arena, r->len * 4 > 16384 ? r->len * 4 : 16384);
    struct payload p;
    char err[DECODE_ERR_MAX];
    if (decode_payload(r->body, r->len, &arena, &p, err) < 0) fprintf(stderr, "%s\n", err);
    bump_free(&arena);
  }
  static const char ok[] = "{\"status\":\"accepted\"}\n";
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(sizeof ok - 1, (void *)(uintptr_t)ok, MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, resp);
  MHD_destroy_response(resp);
  return rc;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why) {
  (void)cls, (void)c, (void)why;
  struct req *r = *con_cls;
  if (r) {
    free(r->body);
    free(r);
  }
  *con_cls = NULL;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: sink PORT THREADS [decode]\n");
    return 2;
  }
  g_decode = argc == 4 && strcmp(argv[3], "decode") == 0;
  signal(SIGPIPE, SIG_IGN);
  struct MHD_Daemon *d = MHD_start_daemon(
      HTTP_MHD_FLAGS, (uint16_t)atoi(argv[1]), NULL, NULL, on_request, NULL,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned)atoi(argv[2]),
      MHD_OPTION_CONNECTION_TIMEOUT, 30u,
      MHD_OPTION_CONNECTION_LIMIT, 4096u,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
      MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "sink: cannot listen on %s\n", argv[1]);
    return 1;
  }
  pause();
  MHD_stop_daemon(d);
  return 0;
}
