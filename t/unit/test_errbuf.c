/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_errbuf.c - the caller's error buffer (lib/errbuf.c)
 *
 * Formatting, the false every call returns, a reason cut to the buffer
 * (never past it, always NUL-terminated), and the two ways a caller says
 * it wants no reason: err NULL, errlen 0.
 */
#include <string.h>

#include "lib/errbuf.h"
#include "t/lib/tap.h"

/* a bool function in the convention's shape */
static bool check_port(int port, char *err, size_t errlen)
{
    if (port < 1 || port > 65535)
        return errbuf_set(err, errlen, "port %d is not from 1 to 65535", port);
    return true;
}

static void test_format(void)
{
    char err[ERRBUF_MAX];

    tap_ok(!errbuf_set(err, sizeof(err), "%s: %d of %u", "left", -3, 7u), "errbuf_set is false");
    tap_is_str(err, "left: -3 of 7", "printf-like formatting");
    tap_ok(!errbuf_copy(err, sizeof(err), "100% sure"), "errbuf_copy is false");
    tap_is_str(err, "100% sure", "errbuf_copy does not read %%");
    tap_ok(!check_port(0, err, sizeof(err)), "return errbuf_set(...) fails the function");
    tap_is_str(err, "port 0 is not from 1 to 65535", "with its reason");
    memcpy(err, "untouched", 10);
    tap_ok(check_port(25, err, sizeof(err)), "success");
    tap_is_str(err, "untouched", "writes nothing");
}

static void test_truncation(void)
{
    struct {
        char err[8];
        char guard[8]; /* right after err: an overrun would land here */
    } b;
    char *err = b.err;

    memset(b.guard, 'G', sizeof(b.guard));
    errbuf_set(err, 6, "%s", "abcdefghij");
    tap_is_str(err, "abcde", "errbuf_set cuts to errlen - 1 octets");
    errbuf_copy(err, 6, "abcdefghij");
    tap_is_str(err, "abcde", "errbuf_copy too");
    memset(err, 'x', sizeof(b.err));
    errbuf_set(err, 1, "abc");
    tap_ok(err[0] == '\0' && err[1] == 'x', "errlen 1: just the NUL");
    memset(err, 'x', sizeof(b.err));
    errbuf_copy(err, 1, "abc");
    tap_ok(err[0] == '\0' && err[1] == 'x', "errbuf_copy with errlen 1 too");
    errbuf_copy(err, sizeof(b.err), "1234567");
    tap_is_str(err, "1234567", "a reason that just fits is whole");
    errbuf_set(err, sizeof(b.err), "%d", 12345678);
    tap_is_str(err, "1234567", "one more octet is cut");
    tap_is_mem(b.guard, sizeof(b.guard), "GGGGGGGG", 8, "nothing written past the buffer");
}

static void test_no_buffer(void)
{
    char err[4] = "abc";

    tap_ok(!errbuf_set(NULL, 100, "%s", "x"), "err NULL: false, nothing written");
    tap_ok(!errbuf_copy(NULL, 100, "x"), "errbuf_copy with err NULL");
    tap_ok(!errbuf_set(err, 0, "%s", "x"), "errlen 0: false");
    tap_ok(!errbuf_copy(err, 0, "x"), "errbuf_copy with errlen 0");
    tap_is_str(err, "abc", "errlen 0 writes nothing");
    tap_ok(!check_port(-1, NULL, 0), "a caller that wants no reason still gets the result");
}

int main(void)
{
    test_format();
    test_truncation();
    test_no_buffer();
    return tap_done();
}
