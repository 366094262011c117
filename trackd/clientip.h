/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * clientip.h - the client of a sendgate-trackd request: proxies, privacy
 *
 * SYNOPSIS
 *	netlist trusted = NETLIST_INIT;
 *	netlist_parse(&trusted, &cfg->trackd.trusted_proxies, NETLIST_HOST_BITS, err, sizeof(err));
 *	netlist_addr_from_sockaddr(peer_sa, &peer);
 *	if (!clientip_resolve(&peer, xff_header, &trusted, &client))  -> 400
 *	clientip_truncate(&client);     (IPv4 /24, IPv6 /48)
 *
 * DESCRIPTION
 *	trackd normally sits behind a TLS-terminating proxy, so the TCP peer is
 *	the proxy. X-Forwarded-For is believed only when the peer is a trusted
 *	proxy, and then read from the right: the client is the rightmost
 *	address that is not itself a trusted proxy (a client can prepend
 *	anything it likes, but cannot remove what the proxies appended).
 *	clientip_resolve returns false when the part of the header the proxies
 *	wrote is not a list of addresses, or the header is longer than
 *	CLIENTIP_XFF_MAX: the request is then refused (400), never attributed
 *	to the proxy itself.
 *	Addresses and network lists are lib/netlist's: IPv4-mapped IPv6
 *	addresses (::ffff:a.b.c.d, from dual-stack sockets) are the IPv4
 *	address they carry.
 */
#ifndef SG_TRACKD_CLIENTIP_H
#define SG_TRACKD_CLIENTIP_H

#include <stdbool.h>

#include "lib/netlist.h"

#define CLIENTIP_XFF_MAX 1024 /* bytes of X-Forwarded-For (all such headers, joined) */

bool clientip_resolve(const netlist_addr *peer, const char *xff, const netlist *trusted,
                      netlist_addr *out);
void clientip_truncate(netlist_addr *a);

#endif
