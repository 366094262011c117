/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * addr.h - mail addresses: envelope paths, header mailbox lists, domains
 *
 * Small, strict and allocation-free: an address is at most ADDR_MAX-1
 * octets (RFC 5321 allows 64 + 1 + 255); longer input is refused, never
 * truncated. Header parsing follows RFC 5322 address-list syntax (display
 * names, quoted strings, comments, groups, routes, folding) and yields
 * the addr-spec parts; what it cannot read is an error with a reason,
 * never a silently shorter list (see addr.c, "Header address lists").
 * addr_from gathers the sending domains of a message's From: fields and
 * says why when they cannot all be known.
 */
#ifndef SG_ADDR_H
#define SG_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/domain.h"
#include "lib/errbuf.h"

#define ADDR_MAX 384

bool addr_envelope(const char *in, char out[ADDR_MAX], char *err, size_t errlen);
const char *addr_domain_part(const char *addr);
bool addr_domain(const char *addr, char out[DOMAIN_MAX], char *err, size_t errlen);
bool addr_is_valid(const char *addr, char *err, size_t errlen);

/* a visitor gets each addr-spec in turn; false (with its reason in err) stops the walk */
typedef bool (*addr_visit)(void *arg, const char *addr, char *err, size_t errlen);
bool addr_header_walk(const char *value, addr_visit visit, void *arg, char *err, size_t errlen);
size_t addr_header_list(const char *value, char (*out)[ADDR_MAX], size_t max);

#define ADDR_FROM_DOMAINS 8 /* distinct From: domains judged; one more is a decision */

typedef struct addr_from {
    char domains[ADDR_FROM_DOMAINS][DOMAIN_MAX]; /* normalised, distinct, in order */
    size_t n_domains;
    unsigned fields; /* From: fields seen */
    unsigned addrs;  /* addresses read */
    char why[160];   /* why the domains are not all known; "" when they are */
} addr_from;

void addr_from_init(addr_from *f);
void addr_from_field(addr_from *f, const char *value);
const char *addr_from_missing(const addr_from *f);
bool addr_equal(const char *a, const char *b);
bool addr_list_has(char *const *list, size_t n, const char *addr);

#endif
