/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tlsfile.c - the TLS certificate and key of sendgate-trackd (see tlsfile.h)
 *
 * Linked by sendgate-trackd and sendgatectl (check-config) only: it needs
 * GnuTLS, which the rest of the core library does not.
 */
#include "lib/tlsfile.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

const rfile_policy tlsfile_cert_policy = {"TLS certificate file", TLSFILE_MAX, 0, false};
const rfile_policy tlsfile_key_policy = {"TLS key file", TLSFILE_MAX, S_IROTH | S_IWOTH, false};

/* tlsfile_cert_ok - does GnuTLS take the certificate chain alone? */
static int tlsfile_cert_ok(const char *pem)
{
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
    gnutls_x509_crt_t *list = NULL;
    unsigned n = 0;
    int rc = gnutls_x509_crt_list_import2(&list, &n, &d, GNUTLS_X509_FMT_PEM, 0);

    for (unsigned i = 0; rc >= 0 && i < n; i++)
        gnutls_x509_crt_deinit(list[i]);
    gnutls_free(list);
    return rc;
}

/*
 * tlsfile_pair - load the pair as libmicrohttpd does; a TLSFILE_* result.
 * The chain is parsed alone first: GnuTLS 3.7 leaks the key it loaded when
 * gnutls_certificate_set_x509_key_mem then fails on the certificate, and
 * the error names the file at fault either way.
 */
static int tlsfile_pair(const char *cert_path, const char *key_path, const tlsfile *t, char *err,
                        size_t errlen)
{
    gnutls_certificate_credentials_t cred;
    gnutls_datum_t c = {(unsigned char *)t->cert, (unsigned)strlen(t->cert)};
    gnutls_datum_t k = {(unsigned char *)t->key, (unsigned)strlen(t->key)};
    int rc;

    if ((rc = tlsfile_cert_ok(t->cert)) < 0) {
        snprintf(err, errlen,
                 "%s: not a certificate chain GnuTLS can use: %s; fix: the server's PEM "
                 "certificate, then its intermediates",
                 cert_path, gnutls_strerror(rc));
        return TLSFILE_CERT;
    }
    if ((rc = gnutls_certificate_allocate_credentials(&cred)) < 0) {
        snprintf(err, errlen, "GnuTLS: %s", gnutls_strerror(rc));
        return TLSFILE_CERT;
    }
    rc = gnutls_certificate_set_x509_key_mem(cred, &c, &k, GNUTLS_X509_FMT_PEM);
    gnutls_certificate_free_credentials(cred);
    if (rc >= 0)
        return TLSFILE_OK;
    snprintf(err, errlen,
             "%s: GnuTLS cannot use it with the certificate of %s: %s; fix: the PEM private key "
             "that belongs to that certificate",
             key_path, cert_path, gnutls_strerror(rc));
    return TLSFILE_KEY;
}

/* tlsfile_load - read both files and check them as a pair; TLSFILE_OK or the file at fault */
int tlsfile_load(const char *cert_path, const char *key_path, tlsfile *t, char *err, size_t errlen)
{
    int rc;

    memset(t, 0, sizeof(*t));
    if ((t->cert = rfile_read(cert_path, &tlsfile_cert_policy, &t->cert_len, err, errlen)) == NULL)
        return TLSFILE_CERT;
    if ((t->key = rfile_read(key_path, &tlsfile_key_policy, &t->key_len, err, errlen)) == NULL) {
        tlsfile_free(t);
        return TLSFILE_KEY;
    }
    if ((rc = tlsfile_pair(cert_path, key_path, t, err, errlen)) != TLSFILE_OK)
        tlsfile_free(t);
    return rc;
}

/* tlsfile_free - wipe the key, free both */
void tlsfile_free(tlsfile *t)
{
    rfile_free(t->cert, t->cert_len);
    rfile_free(t->key, t->key_len);
    memset(t, 0, sizeof(*t));
}
