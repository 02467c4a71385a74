/*
 * tls.h - healer's own certificate for inbound HTTPS (the only user of
 * GnuTLS; libmicrohttpd drives the handshakes, see http.c).
 *
 *   --tls-cert-file     PEM certificate chain, healer's own first
 *   --tls-key-file      its PEM private key
 *   --tls-client-ca-file  PEM CA(s): every client must present a
 *                       certificate signed by one of them (mutual TLS)
 *
 * The certificate and key are read at start-up (a key that does not match
 * its certificate refuses the start, naming both files) and again by
 * tls_reload() on SIGHUP. Handshakes ask tls_retrieve() for the current
 * pair, so a reload takes effect with the next handshake; connections
 * already open keep theirs. A reload that fails (a file gone, unreadable,
 * not PEM, a mismatched pair) keeps the pair in use and records why, for
 * the log and /readyz, until a reload succeeds.
 *
 * One server per process: the state is a module global (GnuTLS's
 * certificate callback has no user pointer). Thread-safety: tls_retrieve()
 * runs on libmicrohttpd's threads, tls_reload() on the main thread; a
 * mutex guards the switch. Pairs replaced by a reload are kept until
 * tls_free(): a handshake may still be using one.
 */
#ifndef HEALER_TLS_H
#define HEALER_TLS_H

#include <stdbool.h>
#include <stddef.h>

#define TLS_WHY_MAX 512

/* Loads the pair (and the client CA file when not NULL). 0, or -1 with a
 * message naming the file in err. */
int tls_init(const char *cert_file, const char *key_file,
             const char *client_ca_file, char *err, size_t errlen);

/* True once tls_init() succeeded. */
bool tls_enabled(void);

/* The client CAs as PEM text (for MHD_OPTION_HTTPS_MEM_TRUST), or NULL
 * when no client certificate is required. Borrowed until tls_free(). */
const char *tls_client_ca_pem(void);

/* The GnuTLS priority string: TLS 1.2 and 1.3 only. */
const char *tls_priorities(void);

/* Re-reads the pair. 0: in use from the next handshake. -1: the old pair
 * stays, err says why (also kept for tls_problem()). */
int tls_reload(char *err, size_t errlen);

/* Why the last reload failed, or false when it did not. */
bool tls_problem(char *why, size_t whylen);

/* The function to pass as MHD_OPTION_HTTPS_CERT_CALLBACK (its type is
 * GnuTLS's gnutls_certificate_retrieve_function2; void * keeps GnuTLS's
 * headers out of this one). */
void *tls_retrieve_callback(void);

void tls_free(void);

#endif
