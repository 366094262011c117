/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netlist.c - IP addresses and CIDR network lists (see netlist.h)
 *
 * Data flow: the configuration checks (conf_check.c) and each daemon at
 * every (re)load parse their lists here; the verdict's "is this mail
 * outgoing" (cache/verdict.c) asks whether a client address is internal,
 * sendgate-trackd whether its peer is a trusted proxy or may read
 * /metrics. Pure functions.
 */
#include "lib/netlist.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char netlist_v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* netlist_is_mapped - ::ffff:a.b.c.d */
static bool netlist_is_mapped(const netlist_addr *a)
{
    return a->family == AF_INET6 && memcmp(a->a, netlist_v4mapped, sizeof(netlist_v4mapped)) == 0;
}

/* netlist_unmap - ::ffff:a.b.c.d becomes a.b.c.d */
static void netlist_unmap(netlist_addr *a)
{
    if (netlist_is_mapped(a)) {
        memmove(a->a, a->a + 12, 4);
        memset(a->a + 4, 0, 12);
        a->family = AF_INET;
    }
}

/* netlist_addr_parse - an IPv4 or IPv6 address of len bytes (no brackets, no port) */
bool netlist_addr_parse(const char *s, size_t len, netlist_addr *out)
{
    char tmp[NETLIST_ADDR_TEXT_MAX];

    memset(out, 0, sizeof(*out));
    if (len == 0 || len >= sizeof(tmp))
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (inet_pton(AF_INET, tmp, out->a) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, tmp, out->a) == 1)
        out->family = AF_INET6;
    else
        return false;
    netlist_unmap(out);
    return true;
}

/* netlist_addr_from_sockaddr - the address of an accepted connection */
bool netlist_addr_from_sockaddr(const struct sockaddr *sa, netlist_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET) {
        out->family = AF_INET;
        memcpy(out->a, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        out->family = AF_INET6;
        memcpy(out->a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        netlist_unmap(out);
    } else
        return false;
    return true;
}

/* netlist_addr_format - text form; "" for an unknown address */
void netlist_addr_format(const netlist_addr *a, char out[NETLIST_ADDR_TEXT_MAX])
{
    out[0] = '\0';
    if (a->family == AF_INET || a->family == AF_INET6)
        inet_ntop(a->family, a->a, out, NETLIST_ADDR_TEXT_MAX);
}

/* netlist_prefix_mask - the bits of byte i that lie within a prefix of bits */
static unsigned char netlist_prefix_mask(int bits, int i)
{
    int keep = bits - i * 8;

    return keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
}

/* netlist_host_bits - clear (when clear) the bits beyond the prefix; were any set? */
static bool netlist_host_bits(netlist_net *n, bool clear)
{
    bool set = false;

    for (int i = 0; i < (n->addr.family == AF_INET ? 4 : 16); i++) {
        unsigned char mask = netlist_prefix_mask(n->bits, i);
        set |= (n->addr.a[i] & (unsigned char)~mask) != 0;
        if (clear)
            n->addr.a[i] &= mask;
    }
    return set;
}

/* netlist_parse_word - one network: address, optional brackets, optional /bits */
bool netlist_parse_word(const char *word, unsigned flags, netlist_net *out, char *err,
                        size_t errlen)
{
    char tmp[80], *slash, *a = tmp;
    size_t n = strlen(word);
    long bits = -1;

    memset(out, 0, sizeof(*out));
    if (n == 0 || n >= sizeof(tmp))
        return errbuf_copy(err, errlen, "not a network address");
    memcpy(tmp, word, n + 1);
    if ((slash = strchr(tmp, '/')) != NULL) {
        char *end;
        *slash = '\0';
        bits = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end || bits < 0 || bits > 128)
            return errbuf_copy(err, errlen, "bad prefix length");
    }
    if (*a == '[') {
        size_t al = strlen(a);
        if (a[al - 1] != ']')
            return errbuf_copy(err, errlen, "unbalanced '['");
        a[al - 1] = '\0';
        a++;
    }
    if (inet_pton(AF_INET, a, out->addr.a) == 1) {
        out->addr.family = AF_INET;
        out->bits = bits < 0 ? 32 : (int)bits;
        if (out->bits > 32)
            return errbuf_copy(err, errlen, "IPv4 prefix longer than 32");
    } else if (inet_pton(AF_INET6, a, out->addr.a) == 1) {
        out->addr.family = AF_INET6;
        out->bits = bits < 0 ? 128 : (int)bits;
    } else {
        return errbuf_copy(err, errlen, "not an IPv4 or IPv6 address");
    }
    if (netlist_is_mapped(&out->addr)) {
        if (out->bits < 96)
            return errbuf_copy(err, errlen, "IPv4-mapped network shorter than /96");
        netlist_unmap(&out->addr);
        out->bits -= 96;
    }
    if (netlist_host_bits(out, (flags & NETLIST_HOST_BITS) != 0) && !(flags & NETLIST_HOST_BITS))
        return errbuf_copy(err, errlen, "address has bits set beyond the prefix length");
    return true;
}

/* netlist_parse - every word of a configuration list; err names the bad word */
bool netlist_parse(netlist *nl, const conf_list *words, unsigned flags, char *err, size_t errlen)
{
    char why[ERRBUF_MAX];

    nl->n = 0;
    nl->v = words->n ? calloc(words->n, sizeof(*nl->v)) : NULL;
    if (words->n && nl->v == NULL) {
        if (err)
            snprintf(err, errlen, "out of memory");
        return false;
    }
    for (size_t i = 0; i < words->n; i++) {
        if (!netlist_parse_word(words->v[i], flags, &nl->v[nl->n], why, sizeof(why))) {
            if (err)
                snprintf(err, errlen, "'%s': %s", words->v[i], why);
            netlist_free(nl);
            return false;
        }
        nl->n++;
    }
    return true;
}

/* netlist_in_net - does a fall into net? */
static bool netlist_in_net(const netlist_net *net, const netlist_addr *a)
{
    int whole = net->bits / 8, rest = net->bits % 8;

    if (a->family != net->addr.family || memcmp(a->a, net->addr.a, (size_t)whole) != 0)
        return false;
    return rest == 0 || ((a->a[whole] ^ net->addr.a[whole]) & netlist_prefix_mask(rest, 0)) == 0;
}

/* netlist_match_addr - is a inside one of the networks? */
bool netlist_match_addr(const netlist *nl, const netlist_addr *a)
{
    for (size_t i = 0; i < nl->n; i++)
        if (netlist_in_net(&nl->v[i], a))
            return true;
    return false;
}

/* netlist_match - is the textual client address inside one of the networks? */
bool netlist_match(const netlist *nl, const char *addr)
{
    netlist_addr a;

    return netlist_addr_parse(addr, strlen(addr), &a) && netlist_match_addr(nl, &a);
}

/* netlist_free - release a parsed list */
void netlist_free(netlist *nl)
{
    free(nl->v);
    nl->v = NULL;
    nl->n = 0;
}
