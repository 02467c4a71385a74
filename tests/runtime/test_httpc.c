/*
 * test_httpc.c - the outbound HTTP client: URL building and escaping,
 * form bodies, classification, Retry-After, backoff bounds; then live
 * requests against the fake Slack and Jenkins (headers, Retry-After,
 * body cap, connect refused, timeouts, dropped replies).
 */
#include "fakes.h"

#include <curl/curl.h>

#include "buf.h"
#include "httpc.h"
#include "log.h"
#include "rtime.h"

static char *url(const char *base, const char *const *segs, size_t n,
                 const struct httpc_kv *q, size_t nq) {
  char err[256];
  char *u = httpc_url(base, segs, n, q, nq, err, sizeof err);
  if (!u)
    fail_msg("httpc_url(%s): %s", base, err);
  return u;
}

static void test_url_segments(void **state) {
  (void)state;
  const char *segs[] = {"job",
                        "a b",
                        "job",
                        "x&y=z/w",
                        "job",
                        "n\xc3\xa9",
                        "buildWithParameters"};
  char *u = url("http://127.0.0.1:8080", segs, 7, NULL, 0);
  /* libcurl writes percent-escapes in lower case; servers decode both. */
  assert_string_equal(
      u, "http://127.0.0.1:8080/job/a%20b/job/x%26y%3dz%2fw/job/n%c3%a9/"
         "buildWithParameters");
  free(u);
  /* A base with a path prefix and trailing slashes. */
  const char *one[] = {"api"};
  u = url("https://jenkins.example.com/ci//", one, 1, NULL, 0);
  assert_string_equal(u, "https://jenkins.example.com/ci/api");
  free(u);
  u = url("http://h", NULL, 0, NULL, 0);
  assert_string_equal(u, "http://h/");
  free(u);
  /* Reserved and unreserved characters in one segment. */
  const char *odd[] = {"~._-AZaz09", "?#%+;,"};
  u = url("http://h/", odd, 2, NULL, 0);
  assert_string_equal(u, "http://h/~._-AZaz09/%3f%23%25%2b%3b%2c");
  free(u);
}

static void test_url_query(void **state) {
  (void)state;
  const struct httpc_kv q[] = {{"tree", "builds[number,url]{0,5}"},
                               {"jql", "labels = \"healer\" AND x"},
                               {"v", "a&b=c/d e+f\xc3\xa9%"}};
  char *u = url("http://h:1", NULL, 0, q, 3);
  assert_string_equal(u, "http://h:1/?tree=builds%5bnumber%2curl%5d%7b0%2c5%7d"
                         "&jql=labels+%3d+%22healer%22+AND+x"
                         "&v=a%26b%3dc%2fd+e%2bf%c3%a9%25");
  free(u);
}

static void test_check_base(void **state) {
  (void)state;
  char err[256];
  assert_int_equal(httpc_check_base("http://h", err, sizeof err), 0);
  assert_int_equal(httpc_check_base("https://h:8443/x/", err, sizeof err), 0);
  assert_int_equal(httpc_check_base("ftp://h/x", err, sizeof err), -1);
  assert_non_null(strstr(err, "http://"));
  assert_int_equal(httpc_check_base("https://bot:s3cret@h/", err, sizeof err),
                   -1);
  assert_null(strstr(err, "s3cret"));
  assert_int_equal(httpc_check_base("", err, sizeof err), -1);
  assert_int_equal(httpc_check_base("http://h/#frag", err, sizeof err), -1);
  assert_int_equal(httpc_check_base("not a url at all", err, sizeof err), -1);
  assert_null(
      httpc_url("file:///etc/passwd", NULL, 0, NULL, 0, err, sizeof err));
}

static void test_form(void **state) {
  (void)state;
  struct buf b;
  buf_init(&b);
  httpc_form_add(&b, "node", "a&b=c");
  httpc_form_add(&b, "path", "/x y/\xc3\xa9");
  httpc_form_add(&b, "empty", NULL);
  httpc_form_add(&b, "p+q", "1+1");
  assert_string_equal(
      b.data, "node=a%26b%3Dc&path=%2Fx%20y%2F%C3%A9&empty=&p%2Bq=1%2B1");
  /* Every byte: the unreserved ones as they are, the rest as upper-case %XX. */
  for (int c = 1; c < 256; c++) {
    char in[2] = {(char)c, '\0'}, want[4];
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                (c >= '0' && c <= '9') || strchr("-._~", c);
    if (keep) snprintf(want, sizeof want, "%c", c);
    else snprintf(want, sizeof want, "%%%02X", (unsigned)c);
    buf_reset(&b);
    httpc_escape(&b, in);
    assert_string_equal(b.data, want);
  }
  buf_free(&b);
}

static void test_classify(void **state) {
  (void)state;
  assert_int_equal(httpc_classify(CURLE_OK, 200), HTTPC_OK);
  assert_int_equal(httpc_classify(CURLE_OK, 201), HTTPC_OK);
  assert_int_equal(httpc_classify(CURLE_OK, 204), HTTPC_OK);
  assert_int_equal(httpc_classify(CURLE_OK, 302), HTTPC_OK);
  assert_int_equal(httpc_classify(CURLE_OK, 303), HTTPC_OK);
  assert_int_equal(httpc_classify(CURLE_OK, 400), HTTPC_PERMANENT);
  assert_int_equal(httpc_classify(CURLE_OK, 401), HTTPC_PERMANENT);
  assert_int_equal(httpc_classify(CURLE_OK, 403), HTTPC_PERMANENT);
  assert_int_equal(httpc_classify(CURLE_OK, 404), HTTPC_PERMANENT);
  assert_int_equal(httpc_classify(CURLE_OK, 409), HTTPC_PERMANENT);
  assert_int_equal(httpc_classify(CURLE_OK, 422), HTTPC_PERMANENT);
  assert_int_equal(httpc_classify(CURLE_OK, 408), HTTPC_RETRY);
  assert_int_equal(httpc_classify(CURLE_OK, 429), HTTPC_RETRY);
  assert_int_equal(httpc_classify(CURLE_OK, 500), HTTPC_RETRY);
  assert_int_equal(httpc_classify(CURLE_OK, 502), HTTPC_RETRY);
  assert_int_equal(httpc_classify(CURLE_OK, 503), HTTPC_RETRY);
  assert_int_equal(httpc_classify(CURLE_OK, 599), HTTPC_RETRY);
  assert_int_equal(httpc_classify(CURLE_COULDNT_CONNECT, 0), HTTPC_RETRY);
  assert_int_equal(httpc_classify(CURLE_COULDNT_RESOLVE_HOST, 0), HTTPC_RETRY);
  assert_int_equal(httpc_classify(CURLE_OPERATION_TIMEDOUT, 0), HTTPC_RETRY);
  assert_int_equal(httpc_classify(CURLE_GOT_NOTHING, 0), HTTPC_RETRY);
  assert_int_equal(httpc_classify(CURLE_RECV_ERROR, 0), HTTPC_RETRY);
  assert_int_equal(httpc_classify(CURLE_SEND_ERROR, 0), HTTPC_RETRY);
  assert_int_equal(httpc_classify(CURLE_URL_MALFORMAT, 0), HTTPC_PERMANENT);
  assert_int_equal(httpc_classify(CURLE_UNSUPPORTED_PROTOCOL, 0),
                   HTTPC_PERMANENT);
  assert_int_equal(httpc_classify(CURLE_PEER_FAILED_VERIFICATION, 0),
                   HTTPC_PERMANENT);
  assert_false(httpc_curl_maybe_sent(CURLE_COULDNT_CONNECT));
  assert_false(httpc_curl_maybe_sent(CURLE_COULDNT_RESOLVE_HOST));
  assert_true(httpc_curl_maybe_sent(CURLE_OPERATION_TIMEDOUT));
  assert_true(httpc_curl_maybe_sent(CURLE_GOT_NOTHING));
  assert_true(httpc_curl_maybe_sent(CURLE_RECV_ERROR));
  /* Never sent: a failure libcurl reports before any request goes out,
   * or one on a connection (TLS included) that never completed; never
   * once a byte of the request was written. */
  assert_true(httpc_never_sent(CURLE_COULDNT_CONNECT, 0, false));
  assert_true(httpc_never_sent(CURLE_COULDNT_RESOLVE_HOST, 0, false));
  assert_true(httpc_never_sent(CURLE_SSL_CONNECT_ERROR, 0, true));
  assert_true(httpc_never_sent(CURLE_OPERATION_TIMEDOUT, 0, false));
  assert_true(httpc_never_sent(CURLE_PEER_FAILED_VERIFICATION, 0, false));
  assert_false(httpc_never_sent(CURLE_OPERATION_TIMEDOUT, 0, true));
  assert_false(httpc_never_sent(CURLE_OPERATION_TIMEDOUT, 180, true));
  assert_false(httpc_never_sent(CURLE_GOT_NOTHING, 0, true));
  assert_false(httpc_never_sent(CURLE_SEND_ERROR, 0, true));
  assert_false(httpc_never_sent(CURLE_OK, 0, true));
}

static void test_retry_after(void **state) {
  (void)state;
  int64_t now = 1796130000000; /* 2026-12-01T... */
  assert_int_equal(httpc_parse_retry_after("5", now), 5000);
  assert_int_equal(httpc_parse_retry_after(" 120 ", now), 120000);
  assert_int_equal(httpc_parse_retry_after("0", now), 0);
  assert_int_equal(httpc_parse_retry_after("99999999999999999999", now),
                   86400000);
  assert_int_equal(httpc_parse_retry_after("", now), -1);
  assert_int_equal(httpc_parse_retry_after(NULL, now), -1);
  assert_int_equal(httpc_parse_retry_after("-1", now), -1);
  assert_int_equal(httpc_parse_retry_after("1.5", now), -1);
  assert_int_equal(httpc_parse_retry_after("soon", now), -1);
  /* HTTP dates: 30 s ahead, and one in the past. */
  time_t t = (time_t)(now / 1000) + 30;
  char date[64];
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  assert_int_equal(httpc_parse_retry_after(date, now), 30000);
  assert_int_equal(
      httpc_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), 0);
}

static uint64_t fixed_rand_value;
static uint64_t fixed_rand(void *ctx) {
  (void)ctx;
  return fixed_rand_value;
}

static void test_backoff(void **state) {
  (void)state;
  /* Bounds: attempt n lies in [d/2, d], d = min(cap, base * 2^n). */
  for (unsigned a = 0; a < 40; a++) {
    int64_t d = 1000;
    for (unsigned i = 0; i < a && d < 30000; i++)
      d *= 2;
    if (d > 30000)
      d = 30000;
    for (int k = 0; k < 50; k++) {
      int64_t v = httpc_backoff_ms(a, 1000, 30000);
      assert_true(v >= d / 2 && v <= d);
    }
  }
  /* The injected source picks the point in the range. */
  httpc_set_rand(fixed_rand, NULL);
  fixed_rand_value = 0;
  assert_int_equal(httpc_backoff_ms(0, 1000, 30000), 500);
  assert_int_equal(httpc_backoff_ms(3, 1000, 30000), 4000);
  assert_int_equal(httpc_backoff_ms(10, 1000, 30000), 15000);
  fixed_rand_value = 500; /* 500 % 501 = 500: the top */
  assert_int_equal(httpc_backoff_ms(0, 1000, 30000), 1000);
  fixed_rand_value = UINT64_MAX;
  int64_t v = httpc_backoff_ms(200, 1000, 30000); /* no overflow */
  assert_true(v >= 15000 && v <= 30000);
  assert_int_equal(httpc_backoff_ms(0, 0, 30000), 0);
  fixed_rand_value = 0;
  assert_int_equal(httpc_backoff_ms(5, 100, 50), 50); /* cap below base */
  httpc_set_rand(NULL, NULL);
}

/* ---- live ---------------------------------------------------------------- */

static struct fake slack, jenkins;

static int live_setup(void **state) {
  (void)state;
  const char *sargs[] = {"--hook", "/services/T/B/X", NULL};
  fake_start(&slack, "slack", sargs);
  const char *jargs[] = {
      "--user",   "bot",
      "--token",  "t0k",
      "--script", "{\"jobs\":{\"j\":{\"parameters\":{\"NODE\":\"\"}}}}",
      NULL};
  fake_start(&jenkins, "jenkins", jargs);
  return 0;
}

static int live_teardown(void **state) {
  (void)state;
  fake_stop(&slack);
  fake_stop(&jenkins);
  return 0;
}

static void post_json(struct httpc *hc, const char *u, const char *body,
                      struct httpc_response *rs) {
  struct httpc_request rq = {.method = HTTPC_POST,
                             .url = u,
                             .content_type = "application/json",
                             .body = body,
                             .body_len = strlen(body)};
  httpc_do(hc, &rq, rs);
}

static void test_live_slack_ok_and_429(void **state) {
  (void)state;
  fake_reset(&slack);
  struct httpc *hc = httpc_new(NULL);
  struct httpc_response rs;
  httpc_response_init(&rs);
  char u[128];
  snprintf(u, sizeof u, "%s/services/T/B/X", slack.url);
  post_json(hc, u, "{\"text\":\"hi\"}", &rs);
  assert_int_equal(rs.status, 200);
  assert_int_equal(rs.cls, HTTPC_OK);
  assert_string_equal(rs.body.data, "ok");
  assert_int_equal(strncmp(rs.content_type, "text/plain", 10), 0);
  assert_int_equal(rs.retry_after_ms, -1);

  fake_script(&slack, "{\"faults\":[{\"status\":429,\"retry_after\":7,\"body\":"
                      "\"rate_limited\"}]}");
  post_json(hc, u, "{\"text\":\"hi\"}", &rs);
  assert_int_equal(rs.status, 429);
  assert_int_equal(rs.cls, HTTPC_RETRY);
  assert_int_equal(rs.retry_after_ms, 7000);
  assert_string_equal(rs.error, "HTTP 429");
  /* The same handle goes on (keep-alive), and headers do not leak from
   * one answer to the next. */
  post_json(hc, u, "{\"text\":\"again\"}", &rs);
  assert_int_equal(rs.status, 200);
  assert_int_equal(rs.retry_after_ms, -1);
  /* A JSON body with libcurl's default form content type is refused. */
  struct httpc_request rq = {.method = HTTPC_POST,
                             .url = u,
                             .body = "{\"text\":\"x\"}",
                             .body_len = 12,
                             .content_type =
                                 "application/x-www-form-urlencoded"};
  httpc_do(hc, &rq, &rs);
  assert_int_equal(rs.status, 400);
  assert_int_equal(rs.cls, HTTPC_PERMANENT);
  /* 404 for an unknown hook; the error does not show the URL's path. */
  snprintf(u, sizeof u, "%s/services/T/B/SECRETPATH", slack.url);
  post_json(hc, u, "{\"text\":\"hi\"}", &rs);
  assert_int_equal(rs.status, 404);
  assert_null(strstr(rs.error, "SECRETPATH"));
  httpc_response_free(&rs);
  httpc_free(hc);
}

static void test_live_body_cap(void **state) {
  (void)state;
  fake_reset(&jenkins);
  struct httpc_options o = {.max_body = 64};
  struct httpc *hc = httpc_new(&o);
  struct httpc_response rs;
  httpc_response_init(&rs);
  char u[128];
  snprintf(u, sizeof u, "%s/job/j/api/json", jenkins.url);
  struct httpc_request rq = {.method = HTTPC_GET,
                             .url = u,
                             .auth = HTTPC_AUTH_BASIC,
                             .user = "bot",
                             .secret = "t0k"};
  assert_int_equal(httpc_do(hc, &rq, &rs), 0);
  assert_int_equal(rs.status, 200);
  assert_int_equal(rs.body.len, 64);
  assert_true(rs.truncated);
  /* Wrong token: 401, permanent. */
  rq.secret = "nope";
  httpc_do(hc, &rq, &rs);
  assert_int_equal(rs.status, 401);
  assert_int_equal(rs.cls, HTTPC_PERMANENT);
  httpc_response_free(&rs);
  httpc_free(hc);
}

static void test_live_location(void **state) {
  (void)state;
  fake_reset(&jenkins);
  struct httpc *hc = httpc_new(NULL);
  struct httpc_response rs;
  httpc_response_init(&rs);
  char u[128];
  snprintf(u, sizeof u, "%s/job/j/buildWithParameters", jenkins.url);
  struct httpc_request rq = {.method = HTTPC_POST,
                             .url = u,
                             .auth = HTTPC_AUTH_BASIC,
                             .user = "bot",
                             .secret = "t0k",
                             .content_type =
                                 "application/x-www-form-urlencoded",
                             .body = "NODE=a%26b",
                             .body_len = 10,
                             .flags = HTTPC_NO_RESEND};
  assert_int_equal(httpc_do(hc, &rq, &rs), 0);
  assert_int_equal(rs.status, 201);
  char want[128];
  snprintf(want, sizeof want, "%s/queue/item/101/", jenkins.url);
  assert_string_equal(rs.location, want);
  cJSON *reqs = fake_json(&jenkins, "/_fake/requests?method=POST");
  const cJSON *r0 = cJSON_GetArrayItem(reqs, 0);
  const cJSON *form = cJSON_GetObjectItem(r0, "form");
  assert_string_equal(
      cJSON_GetArrayItem(cJSON_GetObjectItem(form, "NODE"), 0)->valuestring,
      "a&b");
  const cJSON *hdrs = cJSON_GetObjectItem(r0, "headers");
  assert_null(cJSON_GetObjectItem(hdrs, "expect"));
  assert_non_null(
      strstr(cJSON_GetObjectItem(hdrs, "user-agent")->valuestring, "healer/"));
  cJSON_Delete(reqs);
  httpc_response_free(&rs);
  httpc_free(hc);
}

static void test_live_down(void **state) {
  (void)state;
  struct httpc *hc = httpc_new(NULL);
  struct httpc_response rs;
  httpc_response_init(&rs);
  char u[128];
  snprintf(u, sizeof u, "http://127.0.0.1:%d/secret/path", fake_dead_port());
  struct httpc_request rq = {
      .method = HTTPC_POST, .url = u, .body = "x", .body_len = 1};
  assert_int_equal(httpc_do(hc, &rq, &rs), -1);
  assert_int_equal(rs.status, 0);
  assert_int_equal(rs.cls, HTTPC_RETRY);
  assert_false(rs.maybe_sent);
  assert_int_equal(httpc_reached(hc), 0);   /* refused: it never left */
  assert_non_null(strstr(rs.error, "onnect"));
  assert_null(strstr(rs.error, "secret"));
  httpc_response_free(&rs);
  httpc_free(hc);
}

static void test_live_timeout_and_drop(void **state) {
  (void)state;
  fake_reset(&slack);
  struct httpc_options o = {.timeout_ms = 500};
  struct httpc *hc = httpc_new(&o);
  struct httpc_response rs;
  httpc_response_init(&rs);
  char u[128];
  snprintf(u, sizeof u, "%s/services/T/B/X", slack.url);
  fake_script(&slack, "{\"faults\":[{\"kind\":\"delay\",\"seconds\":3}]}");
  int64_t t0 = rtime_mono_ms();
  post_json(hc, u, "{\"text\":\"slow\"}", &rs);
  int64_t took = rtime_mono_ms() - t0;
  assert_int_equal(rs.curl_code, CURLE_OPERATION_TIMEDOUT);
  assert_int_equal(rs.cls, HTTPC_RETRY);
  assert_true(rs.maybe_sent);
  assert_true(took >= 400 && took < 2500);
  /* A per-request timeout wins over the client's. */
  fake_script(&slack, "{\"faults\":[{\"kind\":\"delay\",\"seconds\":1}]}");
  struct httpc_request rq = {.method = HTTPC_POST,
                             .url = u,
                             .content_type = "application/json",
                             .body = "{\"text\":\"x\"}",
                             .body_len = 12,
                             .timeout_ms = 3000};
  httpc_do(hc, &rq, &rs);
  assert_int_equal(rs.status, 200);
  /* A dropped reply on a fresh connection reaches the caller (libcurl
   * does not quietly re-send): the service acted, the client saw nothing. */
  fake_script(&slack, "{\"faults\":[{\"kind\":\"drop\",\"phase\":\"after\","
                      "\"method\":\"POST\"}]}");
  rq.flags = HTTPC_NO_RESEND;
  rq.timeout_ms = 0;
  httpc_do(hc, &rq, &rs);
  assert_int_equal(rs.status, 0);
  assert_int_equal(rs.curl_code, CURLE_GOT_NOTHING);
  assert_true(rs.maybe_sent);
  assert_int_equal(httpc_reached(hc), 3);   /* the timeout, the answer, the drop */
  assert_int_equal(rs.cls, HTTPC_RETRY);
  assert_true(fake_count(&slack, "method=POST&status=200") >= 1);
  httpc_response_free(&rs);
  httpc_free(hc);
}

/* PUT, PATCH and DELETE go out as such, with their bodies and content
 * types; a DELETE without a body sends none. */
static void test_live_methods(void **state) {
  (void)state;
  fake_reset(&slack);
  struct httpc *hc = httpc_new(NULL);
  struct httpc_response rs;
  httpc_response_init(&rs);
  char u[128];
  snprintf(u, sizeof u, "%s/apis/x", slack.url);
  const enum httpc_method ms[] = {HTTPC_PUT, HTTPC_PATCH, HTTPC_DELETE, HTTPC_DELETE};
  const char *bodies[] = {"{\"a\":1}", "{\"spec\":{}}", "{\"b\":2}", NULL};
  for (int i = 0; i < 4; i++) {
    struct httpc_request rq = {.method = ms[i],
                               .url = u,
                               .content_type = bodies[i] ? "application/merge-patch+json" : NULL,
                               .body = bodies[i],
                               .body_len = bodies[i] ? strlen(bodies[i]) : 0};
    assert_int_equal(httpc_do(hc, &rq, &rs), 0);
    assert_true(rs.status > 0);
  }
  cJSON *reqs = fake_json(&slack, "/_fake/requests");
  assert_int_equal(cJSON_GetArraySize(reqs), 4);
  const char *want[] = {"PUT", "PATCH", "DELETE", "DELETE"};
  for (int i = 0; i < 4; i++) {
    const cJSON *r = cJSON_GetArrayItem(reqs, i);
    assert_string_equal(cJSON_GetObjectItem(r, "method")->valuestring, want[i]);
    assert_string_equal(cJSON_GetObjectItem(r, "body")->valuestring,
                        bodies[i] ? bodies[i] : "");
    const cJSON *h = cJSON_GetObjectItem(r, "headers");
    const cJSON *ct = cJSON_GetObjectItem(h, "content-type");
    if (bodies[i])
      assert_string_equal(ct->valuestring, "application/merge-patch+json");
    else
      assert_null(ct);
  }
  cJSON_Delete(reqs);
  assert_string_equal(httpc_method_name(HTTPC_PATCH), "PATCH");
  httpc_response_free(&rs);
  httpc_free(hc);
}

/* A CA file that does not hold the server's CA fails the handshake as a
 * permanent error, never silently unverified. */
static void test_live_ca_file(void **state) {
  (void)state;
  struct httpc *hc = httpc_new(NULL);
  struct httpc_response rs;
  httpc_response_init(&rs);
  char u[128];
  snprintf(u, sizeof u, "https://127.0.0.1:%d/x", slack.port);
  struct httpc_request rq = {.method = HTTPC_GET, .url = u, .ca_file = "/nonexistent/ca.pem"};
  assert_int_equal(httpc_do(hc, &rq, &rs), -1);
  assert_int_not_equal(rs.curl_code, 0);
  assert_int_equal(rs.status, 0);
  httpc_response_free(&rs);
  httpc_free(hc);
}

static void test_thread_client(void **state) {
  (void)state;
  struct httpc *a = httpc_thread();
  assert_non_null(a);
  assert_ptr_equal(a, httpc_thread());
  char host[64];
  assert_string_equal(httpc_url_host("https://hooks.slack.com/services/T/B/X",
                                     host, sizeof host),
                      "hooks.slack.com");
  assert_string_equal(
      httpc_url_host("http://127.0.0.1:8080/x", host, sizeof host),
      "127.0.0.1:8080");
  assert_string_equal(httpc_url_host("::", host, sizeof host), "?");
}

int main(void) {
  log_setup(LOG_TEXT, LOGL_ERROR, 2);
  httpc_global_init();
  const struct CMUnitTest pure[] = {
      cmocka_unit_test(test_url_segments), cmocka_unit_test(test_url_query),
      cmocka_unit_test(test_check_base),   cmocka_unit_test(test_form),
      cmocka_unit_test(test_classify),     cmocka_unit_test(test_retry_after),
      cmocka_unit_test(test_backoff),      cmocka_unit_test(test_thread_client),
  };
  const struct CMUnitTest live[] = {
      cmocka_unit_test(test_live_slack_ok_and_429),
      cmocka_unit_test(test_live_body_cap),
      cmocka_unit_test(test_live_location),
      cmocka_unit_test(test_live_down),
      cmocka_unit_test(test_live_timeout_and_drop),
      cmocka_unit_test(test_live_methods),
      cmocka_unit_test(test_live_ca_file),
  };
  int rc = cmocka_run_group_tests_name("httpc", pure, NULL, NULL);
  rc += cmocka_run_group_tests_name("httpc_live", live, live_setup,
                                    live_teardown);
  httpc_global_cleanup();
  return rc;
}
