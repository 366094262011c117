/*
 * addr.c - mail address parsing (see addr.h)
 */
#include "lib/addr.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* addr_envelope - "<a@b>", "a@b", "<@r1,@r2:a@b>" or "<>" to a bare address ("" = null sender) */
bool addr_envelope(const char *in, char out[ADDR_MAX], const char **why)
{
    const char *s = in, *e;
    size_t n;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    if (e > s && *s == '<') {
        if (e - s < 2 || e[-1] != '>') {
            *why = "unbalanced '<'";
            return false;
        }
        s++, e--;
        while (s < e && isspace((unsigned char)*s)) /* "< a@b >", as Postfix accepts */
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
    }
    if (*s == '@') { /* obsolete source route: skip to the colon */
        const char *colon = memchr(s, ':', (size_t)(e - s));
        if (colon == NULL) {
            *why = "malformed source route";
            return false;
        }
        s = colon + 1;
    }
    n = (size_t)(e - s);
    if (n >= ADDR_MAX) {
        *why = "address too long";
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < ' ' || s[i] == 0x7f) {
            *why = "control character in address";
            return false;
        }
        if (s[i] == '<' || s[i] == '>') { /* "a@b>", "<<a@b>>" */
            *why = "unbalanced '<' or '>'";
            return false;
        }
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/* addr_domain_part - text after the last '@' outside quotes, or NULL */
const char *addr_domain_part(const char *addr)
{
    const char *at = NULL;
    bool q = false;

    for (const char *p = addr; *p; p++) {
        if (*p == '\\' && q && p[1])
            p++;
        else if (*p == '"')
            q = !q;
        else if (*p == '@' && !q)
            at = p;
    }
    return at ? at + 1 : NULL;
}

/* addr_domain - the normalised domain of an address */
bool addr_domain(const char *addr, char out[DOMAIN_MAX], const char **why)
{
    const char *d = addr_domain_part(addr);

    if (d == NULL || *d == '\0') {
        *why = "address has no domain";
        return false;
    }
    if (*d == '[') {
        *why = "address literal, not a domain";
        return false;
    }
    return domain_normalize(d, strlen(d), out, why);
}

/* addr_is_valid - a bare local@domain as APIs accept it: dot-atom local part, host domain */
bool addr_is_valid(const char *addr, const char **why)
{
    const char *at = strrchr(addr, '@'), *p;
    char dom[DOMAIN_MAX];
    static const char atext[] = "!#$%&'*+-/=?^_`{|}~.";

    if (at == NULL || at == addr) {
        *why = "expected local@domain";
        return false;
    }
    if (at - addr > 64) {
        *why = "local part longer than 64 characters";
        return false;
    }
    if (addr[0] == '.' || at[-1] == '.') {
        *why = "local part starts or ends with '.'";
        return false;
    }
    for (p = addr; p < at; p++) {
        if (!(isalnum((unsigned char)*p) || strchr(atext, *p)) || (*p == '.' && p[1] == '.')) {
            *why = "character not allowed in the local part";
            return false;
        }
    }
    if (strpbrk(at + 1, " \t\r\n")) { /* domain_normalize would trim it */
        *why = "white space in the domain";
        return false;
    }
    /* non-ASCII (SMTPUTF8) domains are fine: domain_normalize makes A-labels */
    return domain_normalize(at + 1, strlen(at + 1), dom, why);
}

/* addr_skip_comment - p at '(', returns the position after the matching ')' */
static const char *addr_skip_comment(const char *p)
{
    int depth = 0;

    for (; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == '(')
            depth++;
        else if (*p == ')' && --depth == 0)
            return p + 1;
    }
    return p;
}

/* addr_emit_ok - a cleaned mailbox has a local part, an '@', a domain and no stray brackets */
static bool addr_emit_ok(const char *a)
{
    const char *d = addr_domain_part(a);
    bool q = false;

    if (d == NULL || *d == '\0' || d - 1 == a || strpbrk(d, "<>(),;\"\\"))
        return false;
    for (const char *p = a; p < d - 1; p++) {
        if (*p == '\\' && q && p[1])
            p++;
        else if (*p == '"')
            q = !q;
        else if (!q && strchr("<>()[],;:", *p))
            return false; /* specials outside quotes in the local part */
    }
    return true;
}

/* addr_emit - clean one mailbox (comments and folding removed) into out */
static bool addr_emit(const char *s, const char *e, char out[ADDR_MAX])
{
    const char *lt = NULL, *gt = NULL;
    size_t n = 0;
    bool q = false;

    for (const char *p = s; p < e; p++) { /* find an angle-addr outside quotes/comments */
        if (*p == '\\' && p + 1 < e)
            p++;
        else if (*p == '"')
            q = !q;
        else if (!q && *p == '(')
            p = addr_skip_comment(p) - 1;
        else if (!q && *p == '<' && lt == NULL)
            lt = p;
        else if (!q && *p == '>' && lt && gt == NULL)
            gt = p;
        else if (!q && (*p == '<' || *p == '>'))
            return false; /* a second angle-addr or a stray bracket */
    }
    if (lt && gt)
        s = lt + 1, e = gt;
    q = false;
    for (const char *p = s; p < e; p++) {
        if (!q && *p == '(') {
            p = addr_skip_comment(p) - 1;
            continue;
        }
        if (*p == '\\' && q && p + 1 < e) { /* quoted-pair: keep both octets */
            if (n + 2 >= ADDR_MAX)
                return false;
            out[n++] = *p++;
            out[n++] = *p;
            continue;
        }
        if (*p == '"')
            q = !q;
        if (!q && isspace((unsigned char)*p))
            continue;
        if (n + 1 >= ADDR_MAX)
            return false;
        out[n++] = *p;
    }
    out[n] = '\0';
    if (q || (lt && !gt)) /* unterminated quoted string or angle-addr */
        return false;
    if (n && out[0] == '@') { /* source route in an angle-addr */
        char *colon = strchr(out, ':');
        if (colon)
            memmove(out, colon + 1, strlen(colon + 1) + 1);
    }
    return addr_emit_ok(out);
}

/* addr_header_list - the addr-specs of a From:/To:-style header value */
size_t addr_header_list(const char *value, char (*out)[ADDR_MAX], size_t max)
{
    const char *p = value, *start = value;
    bool q = false, angle = false;
    size_t n = 0;

    for (;; p++) {
        char c = *p;
        if (c == '\\' && q && p[1]) {
            p++;
            continue;
        }
        if (c == '"' && !angle)
            q = !q;
        else if (!q && c == '(') {
            p = addr_skip_comment(p) - 1;
            continue;
        } else if (!q && c == '<')
            angle = true;
        else if (!q && c == '>')
            angle = false;
        else if (!q && !angle && c == ':') { /* group name ends */
            start = p + 1;
            continue;
        }
        if (c == '\0' || (!q && !angle && (c == ',' || c == ';'))) {
            if (n < max && addr_emit(start, p, out[n]))
                n++;
            if (c == '\0')
                break;
            start = p + 1;
        }
    }
    return n;
}

/* addr_equal - same mailbox; case-insensitive as every provider treats it */
bool addr_equal(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

/* addr_list_has - is addr in list (case-insensitive)? */
bool addr_list_has(char *const *list, size_t n, const char *addr)
{
    for (size_t i = 0; i < n; i++)
        if (addr_equal(list[i], addr))
            return true;
    return false;
}
