/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * errbuf.c - one sentence saying why, into the caller's buffer (see errbuf.h)
 */
#include "lib/errbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* errbuf_set - format the reason into err when there is room; always false */
bool errbuf_set(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return false;
    va_start(ap, fmt);
    if (vsnprintf(err, errlen, fmt, ap) < 0)
        err[0] = '\0';
    va_end(ap);
    return false;
}

/* errbuf_copy - a fixed reason into err, cut to fit; always false */
bool errbuf_copy(char *err, size_t errlen, const char *why)
{
    size_t n;

    if (err == NULL || errlen == 0)
        return false;
    n = strlen(why);
    if (n >= errlen)
        n = errlen - 1;
    memcpy(err, why, n);
    err[n] = '\0';
    return false;
}
