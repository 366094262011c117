/*
 * clientip.h - client addresses for sendgate-trackd: CIDR lists, proxies, privacy
 *
 * SYNOPSIS
 *	clientip_list trusted;
 *	clientip_list_parse(&cfg->trackd.trusted_proxies, &trusted, err, sizeof(err));
 *	clientip_from_sockaddr(peer_sa, &peer);
 *	if (!clientip_resolve(&peer, xff_header, &trusted, &client))  -> 400
 *	if (clientip_list_match(&allow, &client)) ...
 *	clientip_truncate(&client);     (IPv4 /24, IPv6 /48)
 *	clientip_format(&client, text);
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
 *	IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, from dual-stack sockets)
 *	are treated as the IPv4 address they carry.
 */
#ifndef SG_TRACKD_CLIENTIP_H
#define SG_TRACKD_CLIENTIP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lib/conf.h"

#define CLIENTIP_TEXT_MAX 46   /* INET6_ADDRSTRLEN */
#define CLIENTIP_XFF_MAX  1024 /* bytes of X-Forwarded-For (all such headers, joined) */

typedef struct clientip_addr {
    int family; /* AF_INET, AF_INET6, or 0 = unknown */
    unsigned char a[16];
} clientip_addr;

typedef struct clientip_net {
    clientip_addr addr;
    int prefix; /* bits */
} clientip_net;

typedef struct clientip_list {
    size_t n;
    clientip_net *v;
} clientip_list;

bool clientip_parse(const char *s, size_t len, clientip_addr *out);
bool clientip_parse_net(const char *s, clientip_net *out);
bool clientip_from_sockaddr(const struct sockaddr *sa, clientip_addr *out);
void clientip_format(const clientip_addr *a, char out[CLIENTIP_TEXT_MAX]);
bool clientip_list_parse(const conf_list *l, clientip_list *out, char *err, size_t errlen);
void clientip_list_free(clientip_list *l);
bool clientip_list_match(const clientip_list *l, const clientip_addr *a);
bool clientip_resolve(const clientip_addr *peer, const char *xff, const clientip_list *trusted,
                      clientip_addr *out);
void clientip_truncate(clientip_addr *a);

#endif
