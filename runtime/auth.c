/*
 * auth.c - see auth.h.
 */
#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUTH_MAX_SECRET 4096

static void wipe(void *p, size_t n) {
  volatile unsigned char *v = p;
  while (n--) *v++ = 0;
}

static bool blank(unsigned char c) { return c == ' ' || c == '\t'; }

/* trim: a bearer token loses blanks at either end, as the header's
 * credentials do (a token with them could never match); a basic file with
 * them is refused, since a password may end in a blank and a guess either
 * way would lock someone out. */
static int read_secret(const char *flag, const char *path, bool trim,
                       unsigned char **out, size_t *len, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s %s: %s", flag, path, strerror(errno));
    return -1;
  }
  unsigned char *buf = malloc(AUTH_MAX_SECRET + 1);
  if (!buf) {
    fclose(f);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  size_t n = fread(buf, 1, AUTH_MAX_SECRET + 1, f);
  fclose(f);
  if (n > AUTH_MAX_SECRET) {
    wipe(buf, n);
    free(buf);
    snprintf(err, errlen, "%s %s: longer than %d bytes", flag, path, AUTH_MAX_SECRET);
    return -1;
  }
  if (n && buf[n - 1] == '\n') n--;
  if (n && buf[n - 1] == '\r') n--;
  if (n && (blank(buf[0]) || blank(buf[n - 1]))) {
    if (!trim) {
      wipe(buf, AUTH_MAX_SECRET + 1);
      free(buf);
      snprintf(err, errlen,
               "%s %s: a blank (space or tab) at the start or end of the line; "
               "remove it (HTTP clients do not send one)",
               flag, path);
      return -1;
    }
    size_t lead = 0;
    while (lead < n && blank(buf[lead])) lead++;
    while (n > lead && blank(buf[n - 1])) n--;
    memmove(buf, buf + lead, n - lead);
    n -= lead;
  }
  if (n == 0 || memchr(buf, '\n', n) || memchr(buf, '\0', n)) {
    wipe(buf, AUTH_MAX_SECRET + 1);
    free(buf);
    snprintf(err, errlen, "%s %s: expected one non-empty line", flag, path);
    return -1;
  }
  *out = buf;
  *len = n;
  return 0;
}

int auth_load(struct auth *a, const char *bearer_file, const char *basic_file,
              bool all, char *err, size_t errlen) {
  memset(a, 0, sizeof *a);
  a->all = all;
  if (bearer_file && *bearer_file && basic_file && *basic_file) {
    snprintf(err, errlen, "--auth-bearer-file and --auth-basic-file exclude each other");
    return -1;
  }
  if (bearer_file && *bearer_file) {
    if (read_secret("--auth-bearer-file", bearer_file, true, &a->secret, &a->len, err,
                    errlen) < 0)
      return -1;
    a->kind = AUTH_BEARER;
  } else if (basic_file && *basic_file) {
    if (read_secret("--auth-basic-file", basic_file, false, &a->secret, &a->len, err,
                    errlen) < 0)
      return -1;
    if (!memchr(a->secret, ':', a->len)) {
      auth_free(a);
      snprintf(err, errlen, "--auth-basic-file %s: expected user:password", basic_file);
      return -1;
    }
    a->kind = AUTH_BASIC;
  } else if (all) {
    snprintf(err, errlen, "--auth-all needs --auth-bearer-file or --auth-basic-file");
    return -1;
  }
  return 0;
}

void auth_free(struct auth *a) {
  if (a->secret) {
    wipe(a->secret, a->len);
    free(a->secret);
  }
  a->secret = NULL;
  a->len = 0;
  a->kind = AUTH_NONE;
}

bool auth_equal(const unsigned char *given, size_t given_len,
                const unsigned char *secret, size_t secret_len) {
  volatile unsigned char diff = given_len != secret_len;
  for (size_t i = 0; i < secret_len; i++)
    diff |= secret[i] ^ (i < given_len ? given[i] : 0);
  return diff == 0;
}

void auth_wipe(void *p, size_t n) { wipe(p, n); }

bool auth_check_bearer(const struct auth *a, const char *h) {
  if (a->kind == AUTH_NONE) return true;
  if (a->kind != AUTH_BEARER || !h) return false;
  static const char scheme[] = "Bearer";
  size_t sl = sizeof scheme - 1;
  if (strncasecmp(h, scheme, sl) != 0 || (h[sl] != ' ' && h[sl] != '\t')) return false;
  const char *cred = h + sl;
  while (*cred == ' ' || *cred == '\t') cred++;
  size_t cl = strlen(cred);
  while (cl && (cred[cl - 1] == ' ' || cred[cl - 1] == '\t')) cl--;
  return auth_equal((const unsigned char *)cred, cl, a->secret, a->len);
}

/* The secret is "user:password", split at its first ':' as the decoded
 * header is; both halves are compared in full whatever the first gave, so
 * the time still depends only on the secret's length. */
bool auth_check_basic(const struct auth *a, const char *user, const char *password) {
  if (a->kind == AUTH_NONE) return true;
  if (a->kind != AUTH_BASIC || !user || !password) return false;
  const unsigned char *colon = memchr(a->secret, ':', a->len);
  size_t ul = (size_t)(colon - a->secret);
  bool u = auth_equal((const unsigned char *)user, strlen(user), a->secret, ul);
  bool p = auth_equal((const unsigned char *)password, strlen(password), colon + 1,
                      a->len - ul - 1);
  return u & p;
}

const char *auth_challenge(const struct auth *a) {
  return a->kind == AUTH_BASIC ? "Basic realm=\"healer\", charset=\"UTF-8\""
                               : "Bearer realm=\"healer\"";
}
