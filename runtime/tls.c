/*
 * tls.c - see tls.h.
 */
#include "tls.h"

#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* A PEM file larger than this is not a certificate or a key. */
#define PEM_MAX (1u << 20)
#define CHAIN_MAX 16

/* One certificate chain and its key, as handshakes use them. */
struct pair {
  gnutls_pcert_st certs[CHAIN_MAX];
  unsigned ncerts;
  gnutls_privkey_t key;
  struct pair *older; /* replaced pairs, freed by tls_free() */
};

static struct {
  bool on;
  char *cert_file, *key_file;
  char *client_ca; /* PEM text, or NULL */
  pthread_mutex_t mu;
  struct pair *cur;          /* guarded by mu */
  char problem[TLS_WHY_MAX]; /* last reload failure; guarded by mu */
} g = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Reads a whole (small) file; NUL-terminated. NULL with err set. */
static char *slurp(const char *what, const char *path, size_t *len, char *err,
                   size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
    return NULL;
  }
  char *data = malloc(PEM_MAX + 1);
  size_t n = data ? fread(data, 1, PEM_MAX + 1, f) : 0;
  bool bad = ferror(f);
  fclose(f);
  if (!data || bad || n > PEM_MAX || n == 0) {
    snprintf(err, errlen, "%s %s: %s", what, path,
             !data    ? "out of memory"
             : bad    ? "read error"
             : n == 0 ? "empty file"
                      : "larger than 1 MiB");
    free(data);
    return NULL;
  }
  data[n] = '\0';
  *len = n;
  return data;
}

static void pair_free(struct pair *p) {
  if (!p)
    return;
  for (unsigned i = 0; i < p->ncerts; i++)
    gnutls_pcert_deinit(&p->certs[i]);
  if (p->key)
    gnutls_privkey_deinit(p->key);
  free(p);
}

/* Loads and checks the pair from the files. NULL with err naming the file. */
static struct pair *pair_load(char *err, size_t errlen) {
  size_t clen = 0, klen = 0;
  struct pair *p = NULL;
  gnutls_certificate_credentials_t check = NULL;
  char *cert = slurp("--tls-cert-file", g.cert_file, &clen, err, errlen);
  char *key =
      cert ? slurp("--tls-key-file", g.key_file, &klen, err, errlen) : NULL;
  if (!key)
    goto fail;
  gnutls_datum_t cd = {(unsigned char *)cert, (unsigned)clen};
  gnutls_datum_t kd = {(unsigned char *)key, (unsigned)klen};
  /* GnuTLS checks that the key belongs to the first certificate. */
  if (gnutls_certificate_allocate_credentials(&check) < 0) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  int rc = gnutls_certificate_set_x509_key_mem2(check, &cd, &kd,
                                                GNUTLS_X509_FMT_PEM, NULL, 0);
  if (rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH) {
    snprintf(err, errlen,
             "--tls-key-file %s does not match the certificate in "
             "--tls-cert-file %s",
             g.key_file, g.cert_file);
    goto fail;
  }
  if (rc < 0) {
    snprintf(err, errlen, "--tls-cert-file %s / --tls-key-file %s: %s",
             g.cert_file, g.key_file, gnutls_strerror(rc));
    goto fail;
  }
  p = calloc(1, sizeof *p);
  if (!p) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  p->ncerts = CHAIN_MAX;
  rc = gnutls_pcert_list_import_x509_raw(p->certs, &p->ncerts, &cd,
                                         GNUTLS_X509_FMT_PEM, 0);
  if (rc < 0) {
    p->ncerts = 0;
    snprintf(err, errlen, "--tls-cert-file %s: %s", g.cert_file,
             gnutls_strerror(rc));
    goto fail;
  }
  if ((rc = gnutls_privkey_init(&p->key)) < 0 ||
      (rc = gnutls_privkey_import_x509_raw(p->key, &kd, GNUTLS_X509_FMT_PEM,
                                           NULL, 0)) < 0) {
    snprintf(err, errlen, "--tls-key-file %s: %s", g.key_file,
             gnutls_strerror(rc));
    goto fail;
  }
  /* An expired certificate still loads (clients will say so), but we do. */
  gnutls_x509_crt_t crt;
  if (gnutls_pcert_export_x509(&p->certs[0], &crt) == 0) {
    time_t until = gnutls_x509_crt_get_expiration_time(crt);
    if (until != (time_t)-1 && until < time(NULL))
      log_printf(LOGL_WARN, "--tls-cert-file %s: the certificate has expired",
                 g.cert_file);
    gnutls_x509_crt_deinit(crt);
  }
  gnutls_certificate_free_credentials(check);
  free(cert);
  memset(key, 0, klen); /* the key's PEM text: not left in freed memory */
  free(key);
  return p;
fail:
  if (check)
    gnutls_certificate_free_credentials(check);
  pair_free(p);
  free(cert);
  if (key) {
    memset(key, 0, klen);
    free(key);
  }
  return NULL;
}

/* On receipt of a client's certificate: only one from --tls-client-ca-file
 * (valid now) gets in; anything else ends the handshake. */
static int verify_client(gnutls_session_t s) {
  unsigned status = 0;
  int rc = gnutls_certificate_verify_peers2(s, &status);
  if (rc == 0 && status == 0)
    return 0;
  gnutls_datum_t out = {NULL, 0};
  if (rc == 0)
    gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out,
                                                 0);
  /* GnuTLS ends its text with a space. */
  if (out.data) {
    size_t n = strlen((char *)out.data);
    while (n && out.data[n - 1] == ' ')
      out.data[--n] = '\0';
  }
  struct log_line l;
  log_begin(&l, LOGL_WARN, "tls client refused");
  log_str(&l, "reason",
          rc < 0     ? gnutls_strerror(rc)
          : out.data ? (const char *)out.data
                     : "?");
  log_end(&l);
  gnutls_free(out.data);
  return GNUTLS_E_CERTIFICATE_ERROR;
}

static int retrieve(gnutls_session_t s, const gnutls_datum_t *req_ca_rdn,
                    int nreqs, const gnutls_pk_algorithm_t *pk_algos,
                    int pk_algos_length, gnutls_pcert_st **pcert,
                    unsigned int *pcert_length, gnutls_privkey_t *pkey) {
  (void)req_ca_rdn;
  (void)nreqs;
  (void)pk_algos;
  (void)pk_algos_length;
  if (g.client_ca) {
    gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
    gnutls_session_set_verify_function(s, verify_client);
  }
  pthread_mutex_lock(&g.mu);
  struct pair *p = g.cur;
  pthread_mutex_unlock(&g.mu);
  if (!p)
    return -1;
  *pcert = p->certs;
  *pcert_length = p->ncerts;
  *pkey = p->key;
  return 0;
}

int tls_init(const char *cert_file, const char *key_file,
             const char *client_ca_file, char *err, size_t errlen) {
  if (!cert_file && !key_file && !client_ca_file)
    return 0;
  if (!cert_file || !key_file) {
    snprintf(err, errlen, "%s needs %s as well",
             cert_file  ? "--tls-cert-file"
             : key_file ? "--tls-key-file"
                        : "--tls-client-ca-file",
             cert_file  ? "--tls-key-file"
             : key_file ? "--tls-cert-file"
                        : "--tls-cert-file and --tls-key-file");
    return -1;
  }
  g.cert_file = strdup(cert_file);
  g.key_file = strdup(key_file);
  if (!g.cert_file || !g.key_file) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  if (client_ca_file) {
    size_t n;
    g.client_ca =
        slurp("--tls-client-ca-file", client_ca_file, &n, err, errlen);
    if (!g.client_ca)
      goto fail;
    gnutls_x509_crt_t cas[CHAIN_MAX];
    unsigned ncas = CHAIN_MAX;
    gnutls_datum_t d = {(unsigned char *)g.client_ca, (unsigned)n};
    int rc =
        gnutls_x509_crt_list_import(cas, &ncas, &d, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0 || ncas == 0) {
      snprintf(err, errlen, "--tls-client-ca-file %s: %s", client_ca_file,
               rc < 0 ? gnutls_strerror(rc) : "no certificate in it");
      goto fail;
    }
    for (unsigned i = 0; i < ncas; i++)
      gnutls_x509_crt_deinit(cas[i]);
  }
  g.cur = pair_load(err, errlen);
  if (!g.cur)
    goto fail;
  g.on = true;
  return 0;
fail:
  tls_free();
  return -1;
}

bool tls_enabled(void) {
  return g.on;
}

const char *tls_client_ca_pem(void) {
  return g.client_ca;
}

const char *tls_priorities(void) {
  return "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE";
}

int tls_reload(char *err, size_t errlen) {
  if (!g.on) {
    snprintf(err, errlen, "TLS is off");
    return -1;
  }
  struct pair *p = pair_load(err, errlen);
  pthread_mutex_lock(&g.mu);
  if (p) {
    p->older = g.cur;
    g.cur = p;
    g.problem[0] = '\0';
  } else {
    snprintf(g.problem, sizeof g.problem,
             "reload failed, still serving the previous certificate: %s", err);
  }
  pthread_mutex_unlock(&g.mu);
  return p ? 0 : -1;
}

bool tls_problem(char *why, size_t whylen) {
  pthread_mutex_lock(&g.mu);
  bool bad = g.problem[0] != '\0';
  if (bad)
    snprintf(why, whylen, "%s", g.problem);
  pthread_mutex_unlock(&g.mu);
  return bad;
}

void *tls_retrieve_callback(void) {
  gnutls_certificate_retrieve_function2 *f = retrieve;
  return (void *)f;
}

void tls_free(void) {
  for (struct pair *p = g.cur, *next; p; p = next) {
    next = p->older;
    pair_free(p);
  }
  g.cur = NULL;
  free(g.cert_file);
  free(g.key_file);
  free(g.client_ca);
  g.cert_file = g.key_file = g.client_ca = NULL;
  g.on = false;
}
