/*
 * clientip.c - client addresses: parsing, CIDR matching, X-Forwarded-For, truncation
 *
 * Used by sendgate-trackd for every request: which address an event is
 * attributed to, whether /metrics may be read, and what the events file
 * keeps of the address (privacy = truncate). Pure functions; see clientip.h.
 */
#include "trackd/clientip.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char clientip_v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* clientip_unmap - ::ffff:a.b.c.d becomes a.b.c.d */
static void clientip_unmap(clientip_addr *a)
{
    if (a->family == AF_INET6 && memcmp(a->a, clientip_v4mapped, 12) == 0) {
        memmove(a->a, a->a + 12, 4);
        memset(a->a + 4, 0, 12);
        a->family = AF_INET;
    }
}

/* clientip_parse - an IPv4 or IPv6 address of len bytes (no brackets, no port) */
bool clientip_parse(const char *s, size_t len, clientip_addr *out)
{
    char tmp[CLIENTIP_TEXT_MAX];

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
    clientip_unmap(out);
    return true;
}

/* clientip_parse_net - "addr" or "addr/prefix" */
bool clientip_parse_net(const char *s, clientip_net *out)
{
    const char *slash = strchr(s, '/');
    size_t len = slash ? (size_t)(slash - s) : strlen(s);
    bool mapped;
    char *end;
    long p;

    if (!clientip_parse(s, len, &out->addr))
        return false;
    mapped = out->addr.family == AF_INET && strchr(s, ':') != NULL;
    out->prefix = out->addr.family == AF_INET ? 32 : 128;
    if (slash) {
        p = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || p < 0 || p > (mapped ? 128 : out->prefix))
            return false;
        out->prefix = mapped ? (int)(p >= 96 ? p - 96 : 0) : (int)p;
    }
    return true;
}

/* clientip_from_sockaddr - the address of an accepted connection */
bool clientip_from_sockaddr(const struct sockaddr *sa, clientip_addr *out)
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
        clientip_unmap(out);
    } else
        return false;
    return true;
}

/* clientip_format - text form; "" for an unknown address */
void clientip_format(const clientip_addr *a, char out[CLIENTIP_TEXT_MAX])
{
    out[0] = '\0';
    if (a->family == AF_INET || a->family == AF_INET6)
        inet_ntop(a->family, a->a, out, CLIENTIP_TEXT_MAX);
}

/* clientip_list_parse - every word of a configuration list as a network */
bool clientip_list_parse(const conf_list *l, clientip_list *out, char *err, size_t errlen)
{
    out->n = 0;
    out->v = l->n ? calloc(l->n, sizeof(*out->v)) : NULL;
    if (l->n && out->v == NULL) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (!clientip_parse_net(l->v[i], &out->v[i])) {
            snprintf(err, errlen, "'%s' is not an address or CIDR network", l->v[i]);
            clientip_list_free(out);
            return false;
        }
        out->n++;
    }
    return true;
}

/* clientip_list_free - release a parsed list */
void clientip_list_free(clientip_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* clientip_in_net - does a fall into net? */
static bool clientip_in_net(const clientip_net *net, const clientip_addr *a)
{
    int full = net->prefix / 8, rest = net->prefix % 8;

    if (a->family != net->addr.family)
        return false;
    if (memcmp(a->a, net->addr.a, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a->a[full] & mask) == (net->addr.a[full] & mask);
}

/* clientip_list_match - is a in any network of the list? */
bool clientip_list_match(const clientip_list *l, const clientip_addr *a)
{
    for (size_t i = 0; i < l->n; i++)
        if (clientip_in_net(&l->v[i], a))
            return true;
    return false;
}

/* clientip_port_ok - 1 to 5 digits */
static bool clientip_port_ok(const char *s, size_t len)
{
    if (len == 0 || len > 5)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* clientip_parse_xff_item - one X-Forwarded-For element: addr, [v6], [v6]:port, v4:port */
static bool clientip_parse_xff_item(const char *s, size_t len, clientip_addr *out)
{
    const char *close, *colon;

    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len && s[0] == '[') {
        size_t after;
        if ((close = memchr(s, ']', len)) == NULL)
            return false;
        after = len - (size_t)(close + 1 - s);
        if (after && (close[1] != ':' || !clientip_port_ok(close + 2, after - 1)))
            return false;
        if (memchr(s, ':', (size_t)(close - s)) == NULL)
            return false; /* brackets are for IPv6 only */
        return clientip_parse(s + 1, (size_t)(close - s - 1), out);
    }
    if (clientip_parse(s, len, out))
        return true;
    colon = memchr(s, ':', len);
    if (colon == NULL || !clientip_port_ok(colon + 1, len - (size_t)(colon + 1 - s)))
        return false;
    return clientip_parse(s, (size_t)(colon - s), out); /* a.b.c.d:port */
}

/*
 * clientip_resolve - the client behind trusted proxies (see clientip.h)
 *
 * Read from the right, up to and including the first address that is not a
 * trusted proxy: that part was written by proxies we trust, so anything in it
 * that is not an address means the header cannot be believed, and falling
 * back to the proxy's own address would attribute the request to the proxy
 * (and grant it the proxy's rights, such as /metrics). What lies left of the
 * client was written by the client and is never looked at.
 */
bool clientip_resolve(const clientip_addr *peer, const char *xff, const clientip_list *trusted,
                      clientip_addr *out)
{
    clientip_addr cand;
    size_t end, start;

    *out = *peer;
    if (xff == NULL || !clientip_list_match(trusted, peer))
        return true;
    end = strlen(xff);
    if (end > CLIENTIP_XFF_MAX)
        return false;
    for (;;) {
        start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        if (!clientip_parse_xff_item(xff + start, end - start, &cand))
            return false;
        *out = cand;
        if (!clientip_list_match(trusted, &cand) || start == 0)
            return true;
        end = start - 1;
    }
}

/* clientip_truncate - keep the network part only: IPv4 /24, IPv6 /48 */
void clientip_truncate(clientip_addr *a)
{
    if (a->family == AF_INET)
        a->a[3] = 0;
    else if (a->family == AF_INET6)
        memset(a->a + 6, 0, 10);
}
