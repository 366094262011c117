/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netlist.h - IP addresses and lists of CIDR networks
 *
 * SYNOPSIS
 *	netlist nl = NETLIST_INIT;
 *	if (!netlist_parse(&nl, &cfg->policyd.internal_networks, 0, err, sizeof(err))) ...
 *	if (netlist_match(&nl, "192.0.2.10")) ...        a textual client address
 *
 *	netlist_addr a;
 *	netlist_addr_from_sockaddr(peer_sa, &a);          or netlist_addr_parse(text, len, &a)
 *	if (netlist_match_addr(&nl, &a)) ...
 *	netlist_addr_format(&a, text);
 *	netlist_free(&nl);
 *
 * DESCRIPTION
 *	The one parser of every network list in sendgate.conf: the milter's
 *	and sendgate-policyd's internal_networks, sendgate-trackd's
 *	trusted_proxies and metrics_allow. Words as Postfix's mynetworks takes
 *	them: 10.0.0.0/8, 192.0.2.7 (a single host), 2001:db8::/32,
 *	[2001:db8::]/32 or [2001:db8::1].
 *
 *	An IPv4-mapped IPv6 address (::ffff:192.0.2.7, from dual-stack
 *	sockets) is the IPv4 address it carries, as a client address and in a
 *	network: ::ffff:192.0.2.0/120 is 192.0.2.0/24 (a mapped network
 *	shorter than /96 is refused).
 *
 *	An address with bits set beyond its prefix length (192.0.2.1/24) is
 *	refused, as it is almost always a typo. The flag NETLIST_HOST_BITS
 *	takes such a word instead, those bits ignored (192.0.2.0/24):
 *	sendgate-trackd's lists have always been read that way, so a
 *	configuration it started with keeps starting it.
 */
#ifndef SG_LIB_NETLIST_H
#define SG_LIB_NETLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lib/conf.h"
#include "lib/errbuf.h"

#define NETLIST_ADDR_TEXT_MAX 46 /* INET6_ADDRSTRLEN */

/* netlist_parse flags */
#define NETLIST_HOST_BITS 0x1 /* accept and ignore bits set beyond the prefix length */

typedef struct netlist_addr {
    int family; /* AF_INET, AF_INET6, or 0 = unknown */
    unsigned char a[16];
} netlist_addr;

typedef struct netlist_net {
    netlist_addr addr;
    int bits; /* prefix length */
} netlist_net;

typedef struct netlist {
    size_t n;
    netlist_net *v;
} netlist;

#define NETLIST_INIT \
    {                \
        0, NULL      \
    }

bool netlist_addr_parse(const char *s, size_t len, netlist_addr *out);
bool netlist_addr_from_sockaddr(const struct sockaddr *sa, netlist_addr *out);
void netlist_addr_format(const netlist_addr *a, char out[NETLIST_ADDR_TEXT_MAX]);
bool netlist_parse_word(const char *word, unsigned flags, netlist_net *out, char *err,
                        size_t errlen);
bool netlist_parse(netlist *nl, const conf_list *words, unsigned flags, char *err, size_t errlen);
bool netlist_match(const netlist *nl, const char *addr);
bool netlist_match_addr(const netlist *nl, const netlist_addr *a);
void netlist_free(netlist *nl);

#endif
