/*
 * netlist.h - client networks in CIDR notation (policyd.internal_networks)
 *
 * SYNOPSIS
 *	netlist nl = NETLIST_INIT;
 *	if (!netlist_parse(&nl, &cfg->policyd.internal_networks, err, sizeof(err))) ...
 *	if (netlist_match(&nl, "192.0.2.10")) ...    the client is internal
 *	netlist_free(&nl);
 *
 * DESCRIPTION
 *	Words as Postfix's mynetworks takes them: 10.0.0.0/8, 192.0.2.7
 *	(a single host), 2001:db8::/32, [2001:db8::]/32 or [2001:db8::1].
 *	An address given with host bits set below its prefix is refused, as
 *	it is almost always a typo. IPv4-mapped IPv6 client addresses
 *	(::ffff:192.0.2.7) match the IPv4 networks.
 */
#ifndef SG_POLICYD_NETLIST_H
#define SG_POLICYD_NETLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/conf.h"

typedef struct netlist_net {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int bits;
} netlist_net;

typedef struct netlist {
    size_t n;
    netlist_net *v;
} netlist;

#define NETLIST_INIT \
    {                \
        0, NULL      \
    }

bool netlist_parse_word(const char *word, netlist_net *out, const char **why);
bool netlist_parse(netlist *nl, const conf_list *words, char *err, size_t errlen);
bool netlist_match(const netlist *nl, const char *addr);
void netlist_free(netlist *nl);

#endif
