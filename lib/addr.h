/*
 * addr.h - mail addresses: envelope paths, header mailbox lists, domains
 *
 * Small, strict and allocation-free: an address is at most ADDR_MAX-1
 * octets (RFC 5321 allows 64 + 1 + 255); longer input is refused, never
 * truncated. Header parsing follows RFC 5322 mailbox-list syntax closely
 * enough for From: (display names, quoted strings, comments, groups) and
 * returns only the addr-spec parts.
 */
#ifndef SG_ADDR_H
#define SG_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/domain.h"

#define ADDR_MAX 384

bool addr_envelope(const char *in, char out[ADDR_MAX], const char **why);
const char *addr_domain_part(const char *addr);
bool addr_domain(const char *addr, char out[DOMAIN_MAX], const char **why);
bool addr_is_valid(const char *addr, const char **why);
size_t addr_header_list(const char *value, char (*out)[ADDR_MAX], size_t max);
bool addr_equal(const char *a, const char *b);
bool addr_list_has(char *const *list, size_t n, const char *addr);

#endif
