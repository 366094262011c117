/*
 * redirect.c - re-validate a click destination and build its Location header
 *
 * Called by trackd for every verified click token just before answering
 * 302 (see redirect.h). A URL refused here is answered like a bad token:
 * 404 with the neutral page, never a redirect.
 */
#include "trackd/redirect.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/domain.h"

/* redirect_put_encoded - copy bytes, percent-encoding what a header cannot carry */
static void redirect_put_encoded(buf *out, const char *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch <= 0x20 || ch >= 0x7f) {
            buf_putc(out, '%');
            buf_putc(out, hex[ch >> 4]);
            buf_putc(out, hex[ch & 15]);
        } else
            buf_putc(out, (char)ch);
    }
}

/* redirect_host_span - where the host sits inside an authority (userinfo and port removed) */
static void redirect_host_span(const char *auth, size_t alen, size_t *hs, size_t *he)
{
    size_t s = 0, e = alen;

    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            s = i + 1;
    if (s < alen && auth[s] == '[') { /* IP literal: up to the bracket */
        const char *close = memchr(auth + s, ']', alen - s);
        e = close ? (size_t)(close - auth) + 1 : alen;
    } else {
        for (size_t i = alen; i > s; i--)
            if (auth[i - 1] == ':') {
                e = i - 1;
                break;
            }
    }
    *hs = s;
    *he = e;
}

/* redirect_has_8bit - any byte >= 0x80? */
static bool redirect_has_8bit(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] >= 0x80)
            return true;
    return false;
}

/* redirect_location - the Location value for url, or false with a reason */
bool redirect_location(const char *url, buf *out, const char **why)
{
    size_t skip, alen, hs, he;
    const char *auth;

    if (strncasecmp(url, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        skip = 8;
    else {
        *why = "not an absolute http or https URL";
        return false;
    }
    auth = url + skip;
    alen = strcspn(auth, "/?#\\");
    redirect_host_span(auth, alen, &hs, &he);
    if (he <= hs) {
        *why = "no host";
        return false;
    }
    buf_append(out, url, skip);
    if (redirect_has_8bit(auth + hs, he - hs)) {
        char alabel[DOMAIN_MAX];
        if (!domain_normalize(auth + hs, he - hs, alabel, why))
            return false;
        redirect_put_encoded(out, auth, hs);
        buf_append_str(out, alabel);
        redirect_put_encoded(out, auth + he, strlen(auth + he));
    } else
        redirect_put_encoded(out, auth, strlen(auth));
    if (buf_failed(out)) {
        *why = "out of memory";
        return false;
    }
    return true;
}
