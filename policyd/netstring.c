/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netstring.c - netstring framing for the socketmap server (see netstring.h)
 *
 * Data flow: server.c hands the bytes read from a socketmap connection to
 * netstring_parse; smap.c splits the payload into map name and key and
 * formats the answer, which netstring_append frames for the reply.
 */
#include "policyd/netstring.h"

#include <stdio.h>

/* netstring_bad - set the reason and report bytes that are no netstring */
static int netstring_bad(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return NETSTRING_BAD;
}

/* netstring_parse - is there a complete netstring at the start of buf? */
int netstring_parse(const char *data, size_t len, size_t max, const char **payload, size_t *plen,
                    size_t *total, const char **why)
{
    size_t n = 0, i;

    for (i = 0; i < len && data[i] != ':'; i++) {
        if (data[i] < '0' || data[i] > '9')
            return netstring_bad(why, "netstring length is not a decimal number");
        if (i == 1 && data[0] == '0')
            return netstring_bad(why, "netstring length has a leading zero");
        n = n * 10 + (size_t)(data[i] - '0');
        if (n > max)
            return netstring_bad(why, "netstring longer than the limit");
    }
    if (i == len)
        return NETSTRING_MORE;
    if (i == 0)
        return netstring_bad(why, "netstring without a length");
    if (len - i - 1 < n + 1)
        return NETSTRING_MORE;
    if (data[i + 1 + n] != ',')
        return netstring_bad(why, "netstring not terminated by ','");
    *payload = data + i + 1;
    *plen = n;
    *total = i + 1 + n + 1;
    return NETSTRING_DONE;
}

/* netstring_append - frame len bytes of data as one netstring */
bool netstring_append(buf *out, const char *data, size_t len)
{
    buf_printf(out, "%zu:", len);
    buf_append(out, data, len);
    buf_putc(out, ',');
    return !buf_failed(out);
}
