/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * domain.h - domain name normalisation
 *
 * Every domain that becomes a cache key or is compared with one goes
 * through domain_normalize: surrounding white space trimmed, one trailing
 * dot dropped, U-labels converted to A-labels (IDNA2008 via libidn2),
 * ASCII lowercased, and the result checked as a host name (LDH labels of
 * 1..63 octets, 253 octets in all). Anything else is refused with a
 * short reason, never guessed at.
 */
#ifndef SG_DOMAIN_H
#define SG_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/errbuf.h"

#define DOMAIN_MAX 254 /* 253 octets + NUL */

bool domain_normalize(const char *in, size_t len, char out[DOMAIN_MAX], char *err, size_t errlen);
bool domain_is_valid_ascii(const char *d, size_t len, char *err, size_t errlen);
bool domain_is_subdomain(const char *d, const char *parent);

#endif
