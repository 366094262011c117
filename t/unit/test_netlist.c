/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_netlist.c - IP addresses and CIDR network lists (lib/netlist.c): the
 * internal_networks of the milter and sendgate-policyd, sendgate-trackd's
 * trusted_proxies and metrics_allow (NETLIST_HOST_BITS)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/netlist.h"
#include "t/lib/tap.h"

static netlist list_of(char **words, size_t n, unsigned flags)
{
    conf_list l = {n, words};
    netlist out = NETLIST_INIT;
    char err[200];

    if (!netlist_parse(&out, &l, flags, err, sizeof(err)))
        tap_diag("list: %s", err);
    return out;
}

/* the words of internal_networks, read as Postfix's mynetworks */
static void test_internal(void)
{
    char *v[] = {"192.0.2.0/24", "10.1.2.3", "2001:db8::/32", "[2001:db8:1::1]"};
    netlist nl = list_of(v, 4, 0);
    netlist_net n;
    char err[128];
    char why[ERRBUF_MAX];
    conf_list bad = {1, (char *[]){"192.0.2.1/24"}};

    tap_ok(nl.n == 4, "networks parse");
    tap_ok(netlist_match(&nl, "192.0.2.77"), "inside an IPv4 network");
    tap_ok(!netlist_match(&nl, "192.0.3.1"), "outside");
    tap_ok(netlist_match(&nl, "10.1.2.3"), "a single host");
    tap_ok(!netlist_match(&nl, "10.1.2.4"), "its neighbour is not");
    tap_ok(netlist_match(&nl, "2001:db8:ffff::1"), "inside an IPv6 network");
    tap_ok(netlist_match(&nl, "2001:db8:1::1"), "bracketed IPv6 host");
    tap_ok(netlist_match(&nl, "::ffff:192.0.2.9"), "IPv4-mapped IPv6 matches the IPv4 network");
    tap_ok(!netlist_match(&nl, "unknown"), "Postfix's 'unknown' matches nothing");
    netlist_free(&nl);
    tap_ok(!netlist_parse_word("192.0.2.1/24", 0, &n, why, sizeof(why)),
           "host bits beyond the prefix refused");
    tap_ok(!netlist_parse_word("192.0.2.0/33", 0, &n, why, sizeof(why)),
           "IPv4 prefix > 32 refused");
    tap_ok(!netlist_parse_word("example.com", 0, &n, why, sizeof(why)), "a name refused");
    tap_ok(!netlist_parse_word("[2001:db8::", 0, &n, why, sizeof(why)),
           "unbalanced bracket refused");
    tap_ok(netlist_parse_word("0.0.0.0/0", 0, &n, why, sizeof(why)), "everything");
    tap_ok(!netlist_parse(&nl, &bad, 0, err, sizeof(err)) && nl.v == NULL,
           "a bad word fails the list");
    tap_is_str(err, "'192.0.2.1/24': address has bits set beyond the prefix length",
               "and the reason names it");
    tap_ok(!netlist_parse(&nl, &bad, 0, NULL, 0), "err may be NULL");
}

/* trackd's lists: host bits ignored, IPv4-mapped networks are IPv4 */
static void test_trackd_lists(void)
{
    char *w[] = {"127.0.0.1", "10.0.0.0/8", "2001:db8::/32", "::ffff:192.168.0.0/120"};
    netlist trusted = list_of(w, 4, NETLIST_HOST_BITS);
    netlist_addr a;
    netlist_net n;
    char why[ERRBUF_MAX];

    tap_ok(netlist_parse_word("192.0.2.0/24", NETLIST_HOST_BITS, &n, why, sizeof(why)) &&
                   n.bits == 24,
           "CIDR parsed");
    tap_ok(!netlist_parse_word("192.0.2.0/33", NETLIST_HOST_BITS, &n, why, sizeof(why)),
           "prefix 33 refused");
    tap_ok(!netlist_parse_word("example.com", NETLIST_HOST_BITS, &n, why, sizeof(why)),
           "a name is not a network");
    tap_ok(!netlist_parse_word("10.0.0.1/", NETLIST_HOST_BITS, &n, why, sizeof(why)),
           "empty prefix refused");
    tap_ok(netlist_parse_word("192.0.2.77/24", NETLIST_HOST_BITS, &n, why, sizeof(why)) &&
                   n.addr.a[3] == 0 && n.bits == 24,
           "NETLIST_HOST_BITS: 192.0.2.77/24 is 192.0.2.0/24");
    tap_ok(!netlist_parse_word("::ffff:0.0.0.0/80", NETLIST_HOST_BITS, &n, why, sizeof(why)),
           "an IPv4-mapped network shorter than /96 refused");
    netlist_addr_parse("10.200.3.4", 10, &a);
    tap_ok(netlist_match_addr(&trusted, &a), "10.200.3.4 in 10.0.0.0/8");
    netlist_addr_parse("11.0.0.1", 8, &a);
    tap_ok(!netlist_match_addr(&trusted, &a), "11.0.0.1 not listed");
    netlist_addr_parse("::ffff:10.1.2.3", 15, &a);
    tap_ok(a.family == AF_INET && netlist_match_addr(&trusted, &a), "v4-mapped is IPv4");
    netlist_addr_parse("192.168.0.77", 12, &a);
    tap_ok(netlist_match_addr(&trusted, &a), "::ffff:192.168.0.0/120 matches the IPv4 /24");
    netlist_free(&trusted);
}

static void test_addr(void)
{
    struct sockaddr_in6 s6;
    char text[NETLIST_ADDR_TEXT_MAX];
    netlist_addr a;

    tap_ok(!netlist_addr_parse("", 0, &a), "an empty address refused");
    tap_ok(!netlist_addr_parse("[::1]", 5, &a), "brackets are not an address");
    tap_ok(netlist_addr_parse("2001:db8::1xyz", 11, &a) && a.family == AF_INET6,
           "only len bytes are read");
    memset(&s6, 0, sizeof(s6));
    s6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:192.0.2.1", &s6.sin6_addr);
    netlist_addr_from_sockaddr((struct sockaddr *)&s6, &a);
    netlist_addr_format(&a, text);
    tap_is_str(text, "192.0.2.1", "dual-stack peer shown as IPv4");
    tap_ok(!netlist_addr_from_sockaddr(NULL, &a) && a.family == 0, "no peer: unknown");
    netlist_addr_format(&a, text);
    tap_is_str(text, "", "an unknown address formats empty");
}

int main(void)
{
    test_internal();
    test_trackd_lists();
    test_addr();
    return tap_done();
}
