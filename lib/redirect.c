/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * redirect.c - re-validate a click destination and build its Location header
 *
 * Called by trackd for every verified click token just before answering
 * 302 (see redirect.h). A URL refused here is answered like a bad token:
 * 404 with the neutral page, never a redirect. The milter asks the same
 * question before it wraps a link (milter/tracking.c): a destination
 * trackd would refuse stays as the sender wrote it.
 *
 * The authority (between "//" and the first / ? # or backslash) is where
 * URL parsers disagree, and a disagreement decides where a browser goes.
 * So it must parse one way only (RFC 3986): at most one "@", a userinfo of
 * URI characters, a host that is a valid IPv6 literal in brackets or a
 * name of letters, digits, "-", "." and "_" (or a non-ASCII name, turned
 * into its A-label), and an optional port of digits up to 65535. Anything
 * else - "[::1" without its bracket, a zone id, "a@b@c", a space or
 * control byte, "%2e" in a host, a second colon - is refused, not repaired.
 */
#include "lib/redirect.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/domain.h"

#define REDIRECT_LITERAL_MAX 64 /* "[" IPv6 text "]": INET6_ADDRSTRLEN and brackets */

/* the parts of an authority, as offsets into it */
struct redirect_auth {
    size_t hs, he; /* host, brackets included for an IP literal */
};

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

/* redirect_has_8bit - any byte >= 0x80? */
static bool redirect_has_8bit(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] >= 0x80)
            return true;
    return false;
}

/* redirect_is_hex - an ASCII hex digit? */
static bool redirect_is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* redirect_userinfo_ok - RFC 3986 userinfo: unreserved, sub-delims, ":" and %XX */
static bool redirect_userinfo_ok(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '%') {
            if (i + 2 >= n || !redirect_is_hex(p[i + 1]) || !redirect_is_hex(p[i + 2]))
                return false;
            i += 2;
        } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     strchr("-._~!$&'()*+,;=:", c)))
            return false;
    }
    return true;
}

/* redirect_name_ok - a host name: letters, digits, "-", "." and "_"; 8-bit bytes go to IDNA */
static bool redirect_name_ok(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c >= 0x80))
            return false;
    }
    return true;
}

/* redirect_literal_ok - "[IPv6]" with a valid address and nothing else (no zone, no IPvFuture) */
static bool redirect_literal_ok(const char *p, size_t n)
{
    char tmp[REDIRECT_LITERAL_MAX];
    struct in6_addr a;

    if (n < 3 || n - 2 >= sizeof(tmp) || p[0] != '[' || p[n - 1] != ']')
        return false;
    memcpy(tmp, p + 1, n - 2);
    tmp[n - 2] = '\0';
    return inet_pton(AF_INET6, tmp, &a) == 1;
}

/* redirect_port_ok - empty, or decimal digits up to 65535 */
static bool redirect_port_ok(const char *p, size_t n)
{
    unsigned long v = 0;

    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(p[i] - '0');
        if (v > 65535)
            return false;
    }
    return true;
}

/* redirect_parse_auth - split and check an authority; false with a reason */
static bool redirect_parse_auth(const char *auth, size_t alen, struct redirect_auth *a, char *err,
                                size_t errlen)
{
    const char *at = memchr(auth, '@', alen), *rest;
    size_t hs = 0, he;

    if (at) {
        if (memchr(at + 1, '@', alen - (size_t)(at + 1 - auth)))
            return errbuf_copy(err, errlen, "more than one @ in the authority");
        if (!redirect_userinfo_ok(auth, (size_t)(at - auth)))
            return errbuf_copy(err, errlen, "bad character in the userinfo");
        hs = (size_t)(at - auth) + 1;
    }
    if (hs < alen && auth[hs] == '[') {
        const char *close = memchr(auth + hs, ']', alen - hs);
        he = close ? (size_t)(close - auth) + 1 : alen;
        if (!redirect_literal_ok(auth + hs, he - hs))
            return errbuf_copy(err, errlen, "not a valid IPv6 literal");
    } else {
        const char *colon = memchr(auth + hs, ':', alen - hs);
        he = colon ? (size_t)(colon - auth) : alen;
        if (he == hs)
            return errbuf_copy(err, errlen, "no host");
        if (!redirect_name_ok(auth + hs, he - hs))
            return errbuf_copy(err, errlen, "bad character in the host");
    }
    rest = auth + he;
    if (he < alen && (*rest != ':' || !redirect_port_ok(rest + 1, alen - he - 1)))
        return errbuf_copy(err, errlen, "bad port");
    a->hs = hs;
    a->he = he;
    return true;
}

/* redirect_location - the Location value for url, or false with a reason */
bool redirect_location(const char *url, buf *out, char *err, size_t errlen)
{
    struct redirect_auth a = {0, 0};
    size_t skip, alen;
    const char *auth;

    if (strncasecmp(url, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        skip = 8;
    else
        return errbuf_copy(err, errlen, "not an absolute http or https URL");
    auth = url + skip;
    alen = strcspn(auth, "/?#\\");
    if (!redirect_parse_auth(auth, alen, &a, err, errlen))
        return false;
    buf_append(out, url, skip);
    if (auth[a.hs] != '[' && redirect_has_8bit(auth + a.hs, a.he - a.hs)) {
        char alabel[DOMAIN_MAX];
        if (!domain_normalize(auth + a.hs, a.he - a.hs, alabel, err, errlen))
            return false;
        buf_append(out, auth, a.hs);
        buf_append_str(out, alabel);
        redirect_put_encoded(out, auth + a.he, strlen(auth + a.he));
    } else
        redirect_put_encoded(out, auth, strlen(auth));
    if (buf_failed(out))
        return errbuf_copy(err, errlen, "out of memory");
    return true;
}
