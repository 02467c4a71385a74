/*
 * auth.h - inbound authentication of webhook and API requests.
 *
 * One scheme at a time: a bearer token (--auth-bearer-file) or HTTP basic
 * credentials `user:password` (--auth-basic-file), read once at start-up
 * from a file (one trailing newline is ignored; a bearer token's blanks at
 * either end are trimmed, as they are from the header, and a basic file
 * with such blanks is refused). Comparison takes time that
 * depends only on the configured secret's length, never on where a guess
 * differs.
 *
 * Ownership: struct auth owns its copy of the secret, wiped and freed by
 * auth_free(). The secret is never logged or returned.
 */
#ifndef HEALER_AUTH_H
#define HEALER_AUTH_H

#include <stdbool.h>
#include <stddef.h>

enum auth_kind { AUTH_NONE, AUTH_BEARER, AUTH_BASIC };

struct auth {
  enum auth_kind kind;
  unsigned char *secret;      /* token, or "user:password" */
  size_t len;
  bool all;                   /* --auth-all: health and metrics too */
};

/* At most one of the files may be set. 0, or -1 with a message in err
 * (naming the flag and the file, never the content). */
int auth_load(struct auth *a, const char *bearer_file, const char *basic_file,
              bool all, char *err, size_t errlen);
void auth_free(struct auth *a);

/* Whether an Authorization header value (may be NULL) carries the bearer
 * token. Always true when no scheme is configured, false under basic. */
bool auth_check_bearer(const struct auth *a, const char *authorization);

/* Whether basic credentials, as the HTTP front end decoded them from the
 * header (libmicrohttpd splits at the first ':'; NULL when absent or
 * undecodable), are the configured ones. Always true when no scheme is
 * configured, false under bearer. */
bool auth_check_basic(const struct auth *a, const char *user, const char *password);

/* The WWW-Authenticate value for a 401. */
const char *auth_challenge(const struct auth *a);

/* Constant-time comparison: time depends on secret_len only. */
bool auth_equal(const unsigned char *given, size_t given_len,
                const unsigned char *secret, size_t secret_len);

/* Overwrites n bytes at p (a decoded password before it is freed). */
void auth_wipe(void *p, size_t n);

#endif
