/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_netstring.c - netstring framing (policyd/netstring.c) on raw bytes
 *
 * What a socketmap client can send: netstrings whole, split, pipelined,
 * and the broken ones: leading zeros, lengths that overflow or pass the
 * limit, a wrong terminator, no length at all.
 */
#include <string.h>

#include "policyd/netstring.h"
#include "t/lib/tap.h"

static int parse(const char *s, size_t max, const char **p, size_t *pl, size_t *total,
                 const char **why)
{
    return netstring_parse(s, strlen(s), max, p, pl, total, why);
}

static void test_good(void)
{
    const char *p = NULL, *why;
    size_t pl = 0, total = 0;

    tap_is_int(parse("18:relay shop.example,", 8192, &p, &pl, &total, &why), NETSTRING_DONE,
               "a socketmap request");
    tap_is_mem(p, pl, "relay shop.example", 18, "payload");
    tap_is_int(total, 22, "bytes used");
    tap_is_int(parse("0:,", 8192, &p, &pl, &total, &why), NETSTRING_DONE, "the empty netstring");
    tap_is_int(pl, 0, "empty payload");
}

static void test_split(void)
{
    const char *s = "28:forward support@shop.example,";
    const char *p, *why;
    size_t pl, total, n = strlen(s);
    int early = 0, rc = NETSTRING_MORE;

    for (size_t i = 0; i <= n && rc == NETSTRING_MORE; i++) {
        rc = netstring_parse(s, i, 8192, &p, &pl, &total, &why);
        if (rc != NETSTRING_MORE && i < n)
            early++;
    }
    tap_is_int(early, 0, "byte by byte: nothing before the ','");
    tap_is_int(rc, NETSTRING_DONE, "complete at the last byte");
    tap_is_mem(p, pl, "forward support@shop.example", 28, "payload");
}

static void test_pipelined(void)
{
    const char *s = "5:hello,5:world,3:ab";
    const char *p, *why;
    size_t pl, total, off = 0, n = strlen(s);
    int count = 0;

    while (netstring_parse(s + off, n - off, 100, &p, &pl, &total, &why) == NETSTRING_DONE) {
        tap_is_mem(p, pl, count ? "world" : "hello", 5, "netstring %d", count + 1);
        off += total;
        count++;
    }
    tap_is_int(count, 2, "two netstrings in one buffer");
    tap_is_int(netstring_parse(s + off, n - off, 100, &p, &pl, &total, &why), NETSTRING_MORE,
               "the third waits");
}

static void test_bad(void)
{
    const char *p, *why = "";
    size_t pl, total;

    tap_is_int(parse("05:hello,", 100, &p, &pl, &total, &why), NETSTRING_BAD,
               "leading zero refused");
    tap_is_str(why, "netstring length has a leading zero", "reason");
    tap_is_int(parse("00:,", 100, &p, &pl, &total, &why), NETSTRING_BAD, "00 refused");
    tap_is_int(parse("99999999999999999999999999999:", 100, &p, &pl, &total, &why), NETSTRING_BAD,
               "a length that would overflow is refused");
    tap_is_str(why, "netstring longer than the limit", "reason");
    tap_is_int(parse("101", 100, &p, &pl, &total, &why), NETSTRING_BAD,
               "a length above the limit is refused before its ':' and payload");
    tap_is_int(parse("100:", 100, &p, &pl, &total, &why), NETSTRING_MORE,
               "exactly the limit is fine");
    tap_is_int(parse("5:hello;", 100, &p, &pl, &total, &why), NETSTRING_BAD,
               "bad terminator refused");
    tap_is_str(why, "netstring not terminated by ','", "reason");
    tap_is_int(parse("3:hello,", 100, &p, &pl, &total, &why), NETSTRING_BAD,
               "payload longer than its length refused (terminator check)");
    tap_is_int(parse(":abc,", 100, &p, &pl, &total, &why), NETSTRING_BAD, "no length refused");
    tap_is_int(parse("x5:hello,", 100, &p, &pl, &total, &why), NETSTRING_BAD, "non-digit refused");
    tap_is_int(parse("-1:,", 100, &p, &pl, &total, &why), NETSTRING_BAD, "negative refused");
    tap_is_int(parse("GET / HTTP/1.1\r\n", 100, &p, &pl, &total, &why), NETSTRING_BAD,
               "HTTP refused");
    tap_is_int(parse("", 100, &p, &pl, &total, &why), NETSTRING_MORE, "nothing yet: more");
}

static void test_append(void)
{
    buf b = BUF_INIT;
    const char *p, *why;
    size_t pl, total;

    netstring_append(&b, "OK shop.example", 15);
    tap_is_str(buf_cstr(&b), "15:OK shop.example,", "netstring_append");
    tap_is_int(netstring_parse(b.data, b.len, 100, &p, &pl, &total, &why), NETSTRING_DONE,
               "round trip");
    buf_free(&b);
}

int main(void)
{
    test_good();
    test_split();
    test_pipelined();
    test_bad();
    test_append();
    return tap_done();
}
