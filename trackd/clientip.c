/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * clientip.c - the client of a request: X-Forwarded-For, truncation
 *
 * Used by sendgate-trackd for every request: which address an event is
 * attributed to (and so whether /metrics may be read), and what the events
 * file keeps of the address (privacy = truncate). Addresses and the CIDR
 * lists are lib/netlist's. Pure functions; see clientip.h.
 */
#include "trackd/clientip.h"

#include <netinet/in.h>
#include <string.h>

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
static bool clientip_parse_xff_item(const char *s, size_t len, netlist_addr *out)
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
        return netlist_addr_parse(s + 1, (size_t)(close - s - 1), out);
    }
    if (netlist_addr_parse(s, len, out))
        return true;
    colon = memchr(s, ':', len);
    if (colon == NULL || !clientip_port_ok(colon + 1, len - (size_t)(colon + 1 - s)))
        return false;
    return netlist_addr_parse(s, (size_t)(colon - s), out); /* a.b.c.d:port */
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
bool clientip_resolve(const netlist_addr *peer, const char *xff, const netlist *trusted,
                      netlist_addr *out)
{
    netlist_addr cand;
    size_t end, start;

    *out = *peer;
    if (xff == NULL || !netlist_match_addr(trusted, peer))
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
        if (!netlist_match_addr(trusted, &cand) || start == 0)
            return true;
        end = start - 1;
    }
}

/* clientip_truncate - keep the network part only: IPv4 /24, IPv6 /48 */
void clientip_truncate(netlist_addr *a)
{
    if (a->family == AF_INET)
        a->a[3] = 0;
    else if (a->family == AF_INET6)
        memset(a->a + 6, 0, 10);
}
