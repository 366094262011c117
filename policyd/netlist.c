/*
 * netlist.c - CIDR network lists (see netlist.h)
 *
 * Data flow: main.c parses policyd.internal_networks at every (re)load;
 * decide.c asks whether a policy request's client_address is internal,
 * which makes its mail outgoing when policy_scope = outgoing.
 */
#include "policyd/netlist.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* netlist_host_bits_clear - no bit set beyond the prefix */
static bool netlist_host_bits_clear(const netlist_net *n)
{
    int len = n->family == AF_INET ? 4 : 16;

    for (int i = 0; i < len; i++) {
        int keep = n->bits - i * 8;
        unsigned char mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
        if (n->addr[i] & (unsigned char)~mask)
            return false;
    }
    return true;
}

/* netlist_parse_word - one network: address, optional brackets, optional /bits */
bool netlist_parse_word(const char *word, netlist_net *out, const char **why)
{
    char tmp[80], *slash, *a = tmp;
    size_t n = strlen(word);
    long bits = -1;

    memset(out, 0, sizeof(*out));
    if (n == 0 || n >= sizeof(tmp))
        return *why = "not a network address", false;
    memcpy(tmp, word, n + 1);
    if ((slash = strchr(tmp, '/')) != NULL) {
        char *end;
        *slash = '\0';
        bits = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end || bits < 0 || bits > 128)
            return *why = "bad prefix length", false;
    }
    if (*a == '[') {
        size_t al = strlen(a);
        if (a[al - 1] != ']')
            return *why = "unbalanced '['", false;
        a[al - 1] = '\0';
        a++;
    }
    if (inet_pton(AF_INET, a, out->addr) == 1) {
        out->family = AF_INET;
        out->bits = bits < 0 ? 32 : (int)bits;
        if (out->bits > 32)
            return *why = "IPv4 prefix longer than 32", false;
    } else if (inet_pton(AF_INET6, a, out->addr) == 1) {
        out->family = AF_INET6;
        out->bits = bits < 0 ? 128 : (int)bits;
    } else {
        return *why = "not an IPv4 or IPv6 address", false;
    }
    if (!netlist_host_bits_clear(out))
        return *why = "address has bits set beyond the prefix length", false;
    return true;
}

/* netlist_parse - every word of a configuration list; err names the bad word */
bool netlist_parse(netlist *nl, const conf_list *words, char *err, size_t errlen)
{
    const char *why;

    nl->n = 0;
    nl->v = words->n ? calloc(words->n, sizeof(*nl->v)) : NULL;
    if (words->n && nl->v == NULL) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    for (size_t i = 0; i < words->n; i++) {
        if (!netlist_parse_word(words->v[i], &nl->v[nl->n], &why)) {
            snprintf(err, errlen, "'%s': %s", words->v[i], why);
            netlist_free(nl);
            return false;
        }
        nl->n++;
    }
    return true;
}

/* netlist_prefix_eq - the first bits bits of a and b agree */
static bool netlist_prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;

    if (memcmp(a, b, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    return ((a[whole] ^ b[whole]) & (unsigned char)(0xff << (8 - rest))) == 0;
}

/* netlist_match - is the textual client address inside one of the networks? */
bool netlist_match(const netlist *nl, const char *addr)
{
    unsigned char a4[4], a6[16];
    bool is4 = inet_pton(AF_INET, addr, a4) == 1, is6 = !is4 && inet_pton(AF_INET6, addr, a6) == 1;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (is6 && memcmp(a6, mapped, sizeof(mapped)) == 0) {
        memcpy(a4, a6 + 12, 4);
        is4 = true;
    }
    for (size_t i = 0; i < nl->n; i++) {
        const netlist_net *n = &nl->v[i];
        if (n->family == AF_INET && is4 && netlist_prefix_eq(a4, n->addr, n->bits))
            return true;
        if (n->family == AF_INET6 && is6 && netlist_prefix_eq(a6, n->addr, n->bits))
            return true;
    }
    return false;
}

void netlist_free(netlist *nl)
{
    free(nl->v);
    nl->v = NULL;
    nl->n = 0;
}
