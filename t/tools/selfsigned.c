/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * selfsigned.c - test tool: a self-signed certificate and key for sendgate-trackd's TLS mode
 *
 * Usage: selfsigned CERT.pem KEY.pem [COMMON-NAME]
 *
 * The black-box tests need a certificate without depending on the openssl
 * command; libcrypto is linked anyway. EC P-256, valid for a day, mode 0600
 * for the key. Never installed.
 */
#include <stdio.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* selfsigned_cert - a certificate for key, signed by itself */
static X509 *selfsigned_cert(EVP_PKEY *key, const char *cn)
{
    X509 *x = X509_new();
    X509_NAME *name;

    if (x == NULL)
        return NULL;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (X509_sign(x, key, EVP_sha256()) == 0) {
        X509_free(x);
        return NULL;
    }
    return x;
}

int main(int argc, char **argv)
{
    EVP_PKEY *key;
    X509 *x;
    FILE *fc, *fk;
    int ok;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: selfsigned CERT.pem KEY.pem [COMMON-NAME]\n");
        return 64;
    }
    key = EVP_EC_gen("P-256");
    x = key ? selfsigned_cert(key, argc == 4 ? argv[3] : "localhost") : NULL;
    fc = fopen(argv[1], "w");
    fk = fopen(argv[2], "w");
    ok = x && fc && fk && chmod(argv[2], 0600) == 0 && PEM_write_X509(fc, x) &&
         PEM_write_PrivateKey(fk, key, NULL, NULL, 0, NULL, NULL);
    if (fc)
        fclose(fc);
    if (fk)
        fclose(fk);
    X509_free(x);
    EVP_PKEY_free(key);
    if (!ok)
        fprintf(stderr, "selfsigned: could not write %s and %s\n", argv[1], argv[2]);
    return ok ? 0 : 1;
}
