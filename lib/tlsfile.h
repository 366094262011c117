/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tlsfile.h - sendgate-trackd's TLS certificate and key, read and checked as the server uses them
 *
 * SYNOPSIS
 *	tlsfile t;
 *	switch (tlsfile_load(cert_path, key_path, &t, err, sizeof(err))) {
 *	case TLSFILE_OK:   t.cert and t.key (PEM text) go to libmicrohttpd
 *	case TLSFILE_CERT: the certificate file is wrong (err says how)
 *	case TLSFILE_KEY:  the key file is wrong, or not the certificate's key
 *	}
 *	tlsfile_free(&t);
 *
 * DESCRIPTION
 *	Both files are read by rfile_read (lib/rfile.h): the certificate
 *	chain under tlsfile_cert_policy (a regular file of at most 1 MiB),
 *	the key under tlsfile_key_policy (the same, and refused when others
 *	may read or change it). GnuTLS, the library libmicrohttpd serves
 *	TLS with, then loads the pair exactly as libmicrohttpd will
 *	(gnutls_certificate_set_x509_key_mem on the text up to its first
 *	NUL), so a file that is not PEM, a certificate or key GnuTLS cannot
 *	use, or a key that is not the certificate's is refused here with
 *	GnuTLS's reason. sendgate-trackd calls tlsfile_load at start and
 *	sendgatectl check-config calls it too: they cannot disagree.
 */
#ifndef SG_LIB_TLSFILE_H
#define SG_LIB_TLSFILE_H

#include <stddef.h>

#include "lib/rfile.h"

#define TLSFILE_MAX (1024 * 1024) /* bytes in the certificate or the key file */

enum tlsfile_result { TLSFILE_OK = 0, TLSFILE_CERT = 1, TLSFILE_KEY = 2 };

typedef struct tlsfile {
    char *cert, *key; /* PEM text, NUL-terminated */
    size_t cert_len, key_len;
} tlsfile;

extern const rfile_policy tlsfile_cert_policy, tlsfile_key_policy;

int tlsfile_load(const char *cert_path, const char *key_path, tlsfile *t, char *err, size_t errlen);
void tlsfile_free(tlsfile *t);

#endif
