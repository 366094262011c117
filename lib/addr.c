/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * addr.c - mail address parsing (see addr.h)
 */
#include "lib/addr.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* addr_envelope - "<a@b>", "a@b", "<@r1,@r2:a@b>" or "<>" to a bare address ("" = null sender) */
bool addr_envelope(const char *in, char out[ADDR_MAX], char *err, size_t errlen)
{
    const char *s = in, *e;
    size_t n;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    if (e > s && *s == '<') {
        if (e - s < 2 || e[-1] != '>')
            return errbuf_set(err, errlen, "unbalanced '<'");
        s++, e--;
        while (s < e && isspace((unsigned char)*s)) /* "< a@b >", as Postfix accepts */
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
    }
    if (*s == '@') { /* obsolete source route: skip to the colon */
        const char *colon = memchr(s, ':', (size_t)(e - s));
        if (colon == NULL)
            return errbuf_set(err, errlen, "malformed source route");
        s = colon + 1;
    }
    n = (size_t)(e - s);
    if (n >= ADDR_MAX)
        return errbuf_set(err, errlen, "address too long");
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
            return errbuf_set(err, errlen, "control character in address");
        if (s[i] == '<' || s[i] == '>') { /* "a@b>", "<<a@b>>" */
            return errbuf_set(err, errlen, "unbalanced '<' or '>'");
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
bool addr_domain(const char *addr, char out[DOMAIN_MAX], char *err, size_t errlen)
{
    const char *d = addr_domain_part(addr);

    if (d == NULL || *d == '\0')
        return errbuf_set(err, errlen, "address has no domain");
    if (*d == '[')
        return errbuf_set(err, errlen, "address literal, not a domain");
    return domain_normalize(d, strlen(d), out, err, errlen);
}

/* addr_is_valid - a bare local@domain as APIs accept it: dot-atom local part, host domain */
bool addr_is_valid(const char *addr, char *err, size_t errlen)
{
    const char *at = strrchr(addr, '@'), *p;
    char dom[DOMAIN_MAX];
    static const char atext[] = "!#$%&'*+-/=?^_`{|}~.";

    if (at == NULL || at == addr)
        return errbuf_set(err, errlen, "expected local@domain");
    if (at - addr > 64)
        return errbuf_set(err, errlen, "local part longer than 64 characters");
    if (addr[0] == '.' || at[-1] == '.')
        return errbuf_set(err, errlen, "local part starts or ends with '.'");
    for (p = addr; p < at; p++) {
        if (!(isalnum((unsigned char)*p) || strchr(atext, *p)) || (*p == '.' && p[1] == '.'))
            return errbuf_set(err, errlen, "character not allowed in the local part");
    }
    if (strpbrk(at + 1, " \t\r\n")) { /* domain_normalize would trim it */
        return errbuf_set(err, errlen, "white space in the domain");
    }
    /* non-ASCII (SMTPUTF8) domains are fine: domain_normalize makes A-labels */
    return domain_normalize(at + 1, strlen(at + 1), dom, err, errlen);
}

/*
 * Header address lists
 *
 * A From:/To:-style value is read as an RFC 5322 address-list: mailboxes
 * (addr-spec, or a display name and an angle-addr with an optional
 * obsolete route), groups ("name: members;"), comments and folding white
 * space anywhere between tokens. The reader is strict where an address
 * could hide: anything it cannot read as such (an unterminated comment,
 * quoted string or angle-addr, a name without an address, a stray
 * bracket) stops the walk with a reason, so a caller that judges every
 * address never judges only some of them without knowing it. A display
 * name is not an address, except that an unquoted '@' in it (From:
 * a@x.example <b@y.example>) makes it one more address to visit: what
 * the reader cannot tell apart is judged both ways. Encoded-words
 * (RFC 2047) are atoms: one can be a display name, never an addr-spec.
 */

enum { AT_END, AT_ATOM, AT_QUOTED, AT_LITERAL, AT_SPECIAL };

typedef struct addr_tok {
    int kind;
    const char *s; /* the token's text, quotes or brackets included */
    size_t n;
} addr_tok;

static bool addr_is_fws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* addr_is_ctl - a control character other than folding white space */
static bool addr_is_ctl(char c)
{
    return ((unsigned char)c < ' ' && !addr_is_fws(c)) || c == 0x7f;
}

/* addr_comment_end - p at '(': the position after the matching ')', NULL if none */
static const char *addr_comment_end(const char *p)
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
    return NULL;
}

/* addr_delimited_end - p at '"' or '[': the position after the closing one, NULL if none */
static const char *addr_delimited_end(const char *p)
{
    char close = *p == '"' ? '"' : ']';

    for (p++; *p && *p != close; p++)
        if (*p == '\\' && p[1])
            p++;
    return *p ? p + 1 : NULL;
}

/* addr_next - the token at *pp, after comments and folding white space; false with err */
static bool addr_next(const char **pp, addr_tok *t, char *err, size_t errlen)
{
    const char *p = *pp, *e;

    for (;;) {
        while (addr_is_fws(*p))
            p++;
        if (*p != '(')
            break;
        if ((p = addr_comment_end(p)) == NULL)
            return errbuf_set(err, errlen, "unterminated comment");
    }
    t->s = p;
    if (*p == '\0') {
        t->kind = AT_END;
        e = p;
    } else if (*p == '"' || *p == '[') {
        t->kind = *p == '"' ? AT_QUOTED : AT_LITERAL;
        if ((e = addr_delimited_end(p)) == NULL)
            return errbuf_copy(err, errlen,
                               *p == '"' ? "unterminated quoted string"
                                         : "unterminated domain literal");
    } else if (strchr("<>@,;:.", *p)) {
        t->kind = AT_SPECIAL;
        e = p + 1;
    } else if (*p == ')' || *p == ']' || *p == '\\' || addr_is_ctl(*p)) {
        return errbuf_copy(err, errlen,
                           *p == ')'    ? "')' without '('"
                           : *p == ']'  ? "']' without '['"
                           : *p == '\\' ? "backslash outside a quoted string"
                                        : "control character");
    } else {
        t->kind = AT_ATOM; /* atext, and octets above 127 (UTF-8, RFC 6532) */
        for (e = p; *e && !addr_is_fws(*e) && !addr_is_ctl(*e) && !strchr("()<>@,;:.\"[]\\", *e);
             e++)
            ;
    }
    t->n = (size_t)(e - p);
    *pp = e;
    return true;
}

static bool addr_is(const addr_tok *t, char special)
{
    return t->kind == AT_SPECIAL && t->s[0] == special;
}

/* addr_put - one octet onto out */
static bool addr_put(char out[ADDR_MAX], size_t *n, char c, char *err, size_t errlen)
{
    if (*n + 1 >= ADDR_MAX)
        return errbuf_set(err, errlen, "address too long");
    out[(*n)++] = c;
    out[*n] = '\0';
    return true;
}

/*
 * addr_append - a token's text onto out, folding inside quoted strings and
 * domain literals removed (a quoted CR or LF too: no lone backslash may
 * be left to escape what follows it)
 */
static bool addr_append(char out[ADDR_MAX], size_t *n, const addr_tok *t, char *err, size_t errlen)
{
    for (size_t i = 0; i < t->n; i++) {
        char c = t->s[i];
        if (c == '\\' && i + 1 < t->n) { /* quoted-pair */
            char q = t->s[++i];
            if (q == '\r' || q == '\n')
                continue;
            if (!addr_put(out, n, c, err, errlen) || !addr_put(out, n, q, err, errlen))
                return false;
        } else if (c != '\r' && c != '\n' && !addr_put(out, n, c, err, errlen)) {
            return false;
        }
    }
    return true;
}

/*
 * addr_spec - the tokens of [s, e) as one addr-spec, without comments or
 * folding, into out
 *
 * The local part is words (atoms, quoted strings) and dots, leniently
 * (a..b@ exists in the wild); the domain is atoms and dots, or a domain
 * literal, checked later by whoever needs the domain. Two words in a row
 * or a second '@' are refused: joining them would make up an address.
 */
static bool addr_spec(const char *s, const char *e, char out[ADDR_MAX], char *err, size_t errlen)
{
    bool in_domain = false, after_word = false;
    size_t n = 0, domain_at = 0;
    addr_tok t;

    out[0] = '\0';
    for (const char *p = s;;) {
        if (!addr_next(&p, &t, err, errlen))
            return false;
        if (t.kind == AT_END || t.s >= e)
            break;
        if (addr_is(&t, '@')) {
            if (in_domain || n == 0)
                return errbuf_copy(err, errlen,
                                   in_domain ? "more than one '@' in an address"
                                             : "empty local part");
            in_domain = true;
            after_word = false;
            domain_at = n + 1;
        } else if (addr_is(&t, '.')) {
            after_word = false;
        } else if (t.kind == AT_SPECIAL) {
            return errbuf_set(err, errlen, "misplaced special character in an address");
        } else if (after_word) {
            return errbuf_copy(err, errlen,
                               in_domain ? "white space inside a domain"
                                         : "white space inside a local part");
        } else if (in_domain ? t.kind == AT_QUOTED : t.kind == AT_LITERAL) {
            return errbuf_copy(err, errlen,
                               in_domain ? "quoted string in a domain"
                                         : "domain literal in a local part");
        } else {
            after_word = true;
        }
        if (!addr_append(out, &n, &t, err, errlen))
            return false;
    }
    if (!in_domain || n == domain_at)
        return errbuf_copy(err, errlen,
                           in_domain ? "empty domain"
                           : n       ? "a name without an address"
                                     : "empty address");
    return true;
}

typedef struct addr_walk {
    const char *p;
    addr_visit visit;
    void *arg;
    char spec[ADDR_MAX];
} addr_walk;

/* addr_walk_spec - the addr-spec in [s, e) to the visitor */
static bool addr_walk_spec(addr_walk *w, const char *s, const char *e, char *err, size_t errlen)
{
    return addr_spec(s, e, w->spec, err, errlen) && w->visit(w->arg, w->spec, err, errlen);
}

/* addr_walk_angle - w->p just after '<': [route ':'] addr-spec '>' */
static bool addr_walk_angle(addr_walk *w, char *err, size_t errlen)
{
    const char *s = w->p, *e, *p = w->p;
    addr_tok t;

    if (!addr_next(&p, &t, err, errlen))
        return false;
    if (addr_is(&t, '@')) { /* obsolete route: @a.example,@b.example: */
        do {
            if (!addr_next(&p, &t, err, errlen))
                return false;
        } while (t.kind == AT_ATOM || t.kind == AT_LITERAL || addr_is(&t, '.') ||
                 addr_is(&t, ',') || addr_is(&t, '@'));
        if (!addr_is(&t, ':'))
            return errbuf_copy(err, errlen,
                               t.kind == AT_END ? "missing '>'" : "malformed route in '<...>'");
        s = p;
    }
    for (p = s;;) { /* the addr-spec ends at '>' */
        e = p;
        if (!addr_next(&p, &t, err, errlen))
            return false;
        if (t.kind == AT_END || addr_is(&t, '>'))
            break;
        if (addr_is(&t, '<') || addr_is(&t, ',') || addr_is(&t, ';') || addr_is(&t, ':'))
            return errbuf_set(err, errlen, "misplaced special character in '<...>'");
    }
    if (t.kind == AT_END)
        return errbuf_set(err, errlen, "missing '>'");
    w->p = p;
    return addr_walk_spec(w, s, e, err, errlen);
}

/* addr_header_walk - visit every addr-spec of a From:/To:-style value; false with err */
bool addr_header_walk(const char *value, addr_visit visit, void *arg, char *err, size_t errlen)
{
    addr_walk w = {.p = value, .visit = visit, .arg = arg};
    bool in_group = false;

    for (;;) {
        const char *start = w.p, *end;
        bool at = false, words = false;
        addr_tok t;

        for (;;) { /* an element's words, up to what says what the element is */
            end = w.p;
            if (!addr_next(&w.p, &t, err, errlen))
                return false;
            if (t.kind == AT_END || addr_is(&t, '<') || addr_is(&t, '>') || addr_is(&t, ':') ||
                addr_is(&t, ',') || addr_is(&t, ';'))
                break;
            at |= addr_is(&t, '@');
            words = true;
        }
        if (addr_is(&t, '>'))
            return errbuf_set(err, errlen, "'>' without '<'");
        if (addr_is(&t, ':')) { /* a group's name */
            if (in_group || at)
                return errbuf_copy(err, errlen,
                                   in_group ? "a group inside a group" : "'@' in a group name");
            in_group = true;
            continue;
        }
        if (addr_is(&t, '<')) { /* name-addr: an unquoted '@' in the name is an address too */
            if ((at && !addr_walk_spec(&w, start, end, err, errlen)) ||
                !addr_walk_angle(&w, err, errlen))
                return false;
            if (!addr_next(&w.p, &t, err, errlen))
                return false;
            if (!(t.kind == AT_END || addr_is(&t, ',') || addr_is(&t, ';')))
                return errbuf_set(err, errlen, "text after '>'");
        } else if (words && !addr_walk_spec(&w, start, end, err, errlen)) {
            return false; /* a bare addr-spec, or nothing that is one */
        }
        if (addr_is(&t, ';')) {
            if (!in_group)
                return errbuf_set(err, errlen, "';' outside a group");
            in_group = false;
        }
        if (t.kind == AT_END) /* a group left open at the end has lost nothing */
            return true;
    }
}

typedef struct addr_collect {
    char (*out)[ADDR_MAX];
    size_t n, max;
} addr_collect;

static bool addr_collect_visit(void *arg, const char *addr, char *err, size_t errlen)
{
    addr_collect *l = arg;

    (void)err, (void)errlen;
    if (l->n < l->max)
        snprintf(l->out[l->n++], ADDR_MAX, "%s", addr);
    return true;
}

/* addr_header_list - the addr-specs of a value, at most max; none when it cannot be read */
size_t addr_header_list(const char *value, char (*out)[ADDR_MAX], size_t max)
{
    addr_collect l = {out, 0, max};

    return addr_header_walk(value, addr_collect_visit, &l, NULL, 0) ? l.n : 0;
}

/*
 * addr_from - the sending domains of a message's From: fields
 *
 * Every address of every field counts; the distinct domains are kept up
 * to ADDR_FROM_DOMAINS, and the first reason why they are not all known
 * (a field that cannot be read, an address without a usable domain, too
 * many domains) is kept in why, so the caller decides on it instead of
 * judging a part of the header as if it were the whole.
 */
void addr_from_init(addr_from *f)
{
    f->n_domains = 0;
    f->fields = f->addrs = 0;
    f->why[0] = '\0';
}

static bool addr_from_visit(void *arg, const char *addr, char *err, size_t errlen)
{
    addr_from *f = arg;
    char d[DOMAIN_MAX];

    f->addrs++;
    if (!addr_domain(addr, d, err, errlen))
        return false;
    for (size_t i = 0; i < f->n_domains; i++)
        if (strcmp(f->domains[i], d) == 0)
            return true;
    if (f->n_domains == ADDR_FROM_DOMAINS)
        return errbuf_set(err, errlen, "more than %d distinct domains", ADDR_FROM_DOMAINS);
    memcpy(f->domains[f->n_domains++], d, sizeof(d));
    return true;
}

/* addr_from_field - one From: field's value */
void addr_from_field(addr_from *f, const char *value)
{
    char why[ERRBUF_MAX];

    f->fields++;
    if (!addr_header_walk(value, addr_from_visit, f, why, sizeof(why)) && f->why[0] == '\0')
        snprintf(f->why, sizeof(f->why), f->fields > 1 ? "%s (From: field %u)" : "%s", why,
                 f->fields);
}

/* addr_from_missing - no address at all (no field, empty, empty groups), else NULL */
const char *addr_from_missing(const addr_from *f)
{
    if (f->why[0] || f->addrs)
        return NULL;
    return f->fields ? "no address in the From: field" : "no From: field";
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
