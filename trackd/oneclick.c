/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * oneclick.c - find List-Unsubscribe=One-Click in a urlencoded or multipart body
 *
 * trackd's /u/ handler calls oneclick_body on every POST (see oneclick.h).
 * Pure and bounded: the body was already capped by max_request_size.
 */
#include "trackd/oneclick.h"

#include <string.h>
#include <strings.h>

#include "lib/hex.h"

#define ONECLICK_NAME  "List-Unsubscribe"
#define ONECLICK_VALUE "One-Click"
#define ONECLICK_MAX   64 /* longer names and values cannot be ours */

/* oneclick_decode - form-decode s into out (+ is a space); false when too long */
static bool oneclick_decode(const char *s, size_t n, char *out, size_t *olen)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (o >= ONECLICK_MAX)
            return false;
        if (c == '+')
            c = ' ';
        else if (c == '%' && i + 2 < n && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            c = (char)(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2]));
            i += 2;
        }
        out[o++] = c;
    }
    *olen = o;
    return true;
}

/* oneclick_is - does the decoded text equal want? */
static bool oneclick_is(const char *s, size_t n, const char *want)
{
    char tmp[ONECLICK_MAX];
    size_t len;

    return oneclick_decode(s, n, tmp, &len) && len == strlen(want) && memcmp(tmp, want, len) == 0;
}

/* oneclick_urlencoded - name=value pairs separated by & */
static bool oneclick_urlencoded(const char *body, size_t len)
{
    while (len && (body[len - 1] == '\r' || body[len - 1] == '\n' || body[len - 1] == ' '))
        len--;
    for (size_t start = 0; start <= len;) {
        const char *amp = memchr(body + start, '&', len - start);
        size_t end = amp ? (size_t)(amp - body) : len;
        const char *eq = memchr(body + start, '=', end - start);
        if (eq && oneclick_is(body + start, (size_t)(eq - body) - start, ONECLICK_NAME) &&
            oneclick_is(eq + 1, end - (size_t)(eq + 1 - body), ONECLICK_VALUE))
            return true;
        start = end + 1;
    }
    return false;
}

/* oneclick_boundary - the boundary parameter of a multipart content type */
static bool oneclick_boundary(const char *ctype, char *out, size_t outlen)
{
    const char *p = strcasestr(ctype, "boundary=");
    size_t n;

    if (p == NULL)
        return false;
    p += 9;
    if (*p == '"') {
        p++;
        n = strcspn(p, "\"");
    } else
        n = strcspn(p, "; \t\r\n");
    if (n == 0 || n > 70 || n + 3 > outlen)
        return false;
    out[0] = '-', out[1] = '-';
    memcpy(out + 2, p, n);
    out[n + 2] = '\0';
    return true;
}

/* oneclick_part - one multipart body part: is it List-Unsubscribe = One-Click? */
static bool oneclick_part(const char *p, size_t n)
{
    const char *hend = memmem(p, n, "\r\n\r\n", 4), *v, *name;
    size_t hlen, skip = 4, vlen;

    if (hend == NULL) {
        hend = memmem(p, n, "\n\n", 2);
        skip = 2;
    }
    if (hend == NULL)
        return false;
    hlen = (size_t)(hend - p);
    name = memmem(p, hlen, "name=", 5);
    if (name == NULL)
        return false;
    name += 5;
    if (*name == '"')
        name++;
    if ((size_t)(hend - name) < strlen(ONECLICK_NAME) ||
        strncmp(name, ONECLICK_NAME, strlen(ONECLICK_NAME)) != 0 ||
        strchr("\"; \r\n", name[strlen(ONECLICK_NAME)]) == NULL)
        return false;
    v = hend + skip;
    vlen = n - (size_t)(v - p);
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
        vlen--;
    return vlen == strlen(ONECLICK_VALUE) && memcmp(v, ONECLICK_VALUE, vlen) == 0;
}

/* oneclick_multipart - walk the parts between the boundary lines */
static bool oneclick_multipart(const char *ctype, const char *body, size_t len)
{
    char delim[80];
    size_t dl;
    const char *p, *end = body + len;

    if (!oneclick_boundary(ctype, delim, sizeof(delim)))
        return false;
    dl = strlen(delim);
    p = memmem(body, len, delim, dl);
    while (p) {
        const char *start = p + dl, *next;
        if (end - start >= 2 && start[0] == '-' && start[1] == '-')
            return false; /* closing delimiter */
        next = memmem(start, (size_t)(end - start), delim, dl);
        if (next && oneclick_part(start, (size_t)(next - start)))
            return true;
        p = next;
    }
    return false;
}

/* oneclick_body - see oneclick.h */
bool oneclick_body(const char *ctype, const char *body, size_t len)
{
    if (ctype == NULL || *ctype == '\0' ||
        strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0 ||
        strncasecmp(ctype, "text/plain", 10) == 0)
        return oneclick_urlencoded(body, len);
    if (strncasecmp(ctype, "multipart/form-data", 19) == 0)
        return oneclick_multipart(ctype, body, len);
    return false;
}
