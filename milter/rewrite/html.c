/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * html.c - link rewriting in HTML and text, over decoded bytes
 *
 * The HTML is never parsed into a tree and never re-serialised: a
 * tag-level tokenizer walks it, copies every byte it does not change, and
 * splices only the href value of an <a> or <area> tag (and removes the
 * opt-out markers of a tag it leaves alone). It knows comments (nothing
 * inside <!-- --> is touched; Outlook conditional comments <!--[if mso]>
 * are comments too, so VML buttons in them keep their links: one
 * consistent rule, and Outlook still opens the link), CDATA, <!...> and
 * <?...>, bogus comments (</ followed by no letter), the raw-text elements
 * script, style, textarea, title, xmp, iframe, noembed and noframes, and
 * plaintext (text to the end), quoted and unquoted attribute values, '>'
 * inside quotes and tags over several lines. Attribute names are only
 * matched at attribute boundaries, so data-href= or ?href= inside a value
 * never count.
 *
 * Broken HTML: the first construct that never closes (a comment, CDATA,
 * <!...>, <?...> or </...> without its end, a tag whose quote or '>' never
 * comes, a raw-text element without its end tag, <plaintext>) runs to the
 * end of the part for a browser, so the walk stops there: the links
 * before it are rewritten, every byte from it on is copied as it is, and
 * the footer and pixel only go before a </body> (else </html>) that comes
 * before it, never at the end.
 */
#include "milter/rewrite/rw_int.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ATTRS 64

/*
 * Byte classes for the scans that run over every link: one table lookup
 * per byte instead of a chain of comparisons (bench/rewrite spends most of
 * its time in these loops).
 */
enum {
    CL_ENC = 1,    /* & " ' < > : entity-encoded in an attribute value */
    CL_DEC = 2,    /* & tab CR LF space: decode_value has work to do */
    CL_BAD = 4,    /* controls, space, DEL: not a URL we rewrite */
    CL_PH = 8,     /* { } * [ ] %: may be a template placeholder */
    CL_ALNUM = 16, /* ASCII letters and digits (no locale) */
    CL_SP = 32,    /* HTML white space: space tab LF CR FF */
    CL_STOP = 64   /* > / = : end a tag or attribute name */
};
#define CL_OF(c)                                                                               \
    (((c) == '&' || (c) == '"' || (c) == '\'' || (c) == '<' || (c) == '>' ? CL_ENC : 0) |      \
     ((c) == '&' || (c) == '\t' || (c) == '\r' || (c) == '\n' || (c) == ' ' ? CL_DEC : 0) |    \
     ((c) <= ' ' || (c) == 0x7f ? CL_BAD : 0) |                                                \
     ((c) == '{' || (c) == '}' || (c) == '*' || (c) == '[' || (c) == ']' || (c) == '%' ? CL_PH \
                                                                                       : 0) |  \
     (((c) >= '0' && (c) <= '9') || ((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z')   \
              ? CL_ALNUM                                                                       \
              : 0) |                                                                           \
     ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r' || (c) == '\f' ? CL_SP : 0) |    \
     ((c) == '>' || (c) == '/' || (c) == '=' ? CL_STOP : 0))
#define CL4(c)  CL_OF(c), CL_OF((c) + 1), CL_OF((c) + 2), CL_OF((c) + 3)
#define CL16(c) CL4(c), CL4((c) + 4), CL4((c) + 8), CL4((c) + 12)
#define CL64(c) CL16(c), CL16((c) + 16), CL16((c) + 32), CL16((c) + 48)
static const unsigned char rw_class[256] = {CL64(0), CL64(64), CL64(128), CL64(192)};

/*
 * Eight bytes at a time (SWAR): the per-link loops skip plain runs of a URL
 * word by word and look at single bytes only in a word that may hold one
 * they care about. "Any byte" answers are exact; which byte is left to the
 * byte loop.
 */
#define SW_ONES  0x0101010101010101ULL
#define SW_HIGHS 0x8080808080808080ULL

static inline uint64_t sw_load(const void *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof(w));
    return w;
}

/* sw_less - some byte of w is below n (n <= 128) */
static inline uint64_t sw_less(uint64_t w, unsigned char n)
{
    return (w - SW_ONES * n) & ~w & SW_HIGHS;
}

/* sw_has - some byte of w is c */
static inline uint64_t sw_has(uint64_t w, unsigned char c)
{
    return sw_less(w ^ (SW_ONES * c), 1);
}

static inline bool is_alnum(unsigned char c)
{
    return (rw_class[c] & CL_ALNUM) != 0;
}

static inline bool is_alpha(unsigned char c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static inline unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

void rw_links_init(rw_links *l, const rw_options *o, rw_stats *st)
{
    memset(l, 0, sizeof(*l));
    l->o = o;
    l->st = st;
}

void rw_links_free(rw_links *l)
{
    for (size_t i = 0; i < l->n_done; i++)
        free(l->done_urls[i]);
    for (size_t i = 0; i < l->n_optout; i++)
        free(l->optout_urls[i]);
    free(l->done_urls);
    free(l->done_index);
    free(l->optout_urls);
}

static bool remember(char ***v, size_t *n, size_t *cap, const char *s, size_t len)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        char **nv = realloc(*v, nc * sizeof(*nv));
        if (!nv)
            return false;
        *v = nv;
        *cap = nc;
    }
    char *c = malloc(len + 1);
    if (!c)
        return false;
    memcpy(c, s, len);
    c[len] = 0;
    (*v)[(*n)++] = c;
    return true;
}

static bool remember_done(rw_links *l, const char *url, size_t len, unsigned index)
{
    size_t cap = l->cap_done;
    if (!remember(&l->done_urls, &l->n_done, &l->cap_done, url, len))
        return false;
    if (l->cap_done != cap || l->done_index == NULL) {
        unsigned *ni = realloc(l->done_index, l->cap_done * sizeof(*ni));
        if (!ni)
            return false;
        l->done_index = ni;
    }
    l->done_index[l->n_done - 1] = index;
    return true;
}

static bool in_list(char **v, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(v[i]) == len && memcmp(v[i], s, len) == 0)
            return true;
    return false;
}

/* ---- URL checks -------------------------------------------------------- */

/*
 * ci_prefix - s starts with p (lowercase ASCII), ignoring ASCII case. Kept
 * out of line: inlined into the tokenizer's loop it made the whole engine
 * 8% slower (bench/rewrite, A/B in the same session).
 */
__attribute__((noinline)) static bool ci_prefix(const char *s, size_t len, const char *p)
{
    size_t k = 0;
    for (; p[k]; k++)
        if (k >= len || lower((unsigned char)s[k]) != (unsigned char)p[k])
            return false;
    return true;
}

/* ci_contains - needle (lowercase ASCII) anywhere in s, ignoring ASCII case */
static bool ci_contains(const char *s, size_t len, const char *needle)
{
    size_t nl = strlen(needle);
    unsigned char c0 = (unsigned char)needle[0];
    for (size_t i = 0; i + nl <= len; i++) {
        if (lower((unsigned char)s[i]) != c0)
            continue;
        size_t k = 1;
        while (k < nl && lower((unsigned char)s[i + k]) == (unsigned char)needle[k])
            k++;
        if (k == nl)
            return true;
    }
    return false;
}

/* has_unsubscribe - "unsubscribe" in any ASCII case: Horspool, so most bytes are skipped */
static bool has_unsubscribe(const char *s, size_t len)
{
    static const char needle[] = "unsubscribe";
    const size_t nl = sizeof(needle) - 1;
    for (size_t i = 0; i + nl <= len;) {
        size_t skip;
        switch (lower((unsigned char)s[i + nl - 1])) { /* shift for the window's last byte */
        case 'e':
            skip = 0; /* the needle's last byte: compare */
            break;
        case 'b':
            skip = 1;
            break;
        case 'i':
            skip = 2;
            break;
        case 'r':
            skip = 3;
            break;
        case 'c':
            skip = 4;
            break;
        case 's':
            skip = 5;
            break;
        case 'u':
            skip = 7;
            break;
        case 'n':
            skip = 9;
            break;
        default:
            skip = nl;
            break;
        }
        if (skip) {
            i += skip;
            continue;
        }
        size_t k = 0;
        while (k < nl - 1 && lower((unsigned char)s[i + k]) == (unsigned char)needle[k])
            k++;
        if (k == nl - 1)
            return true;
        i += nl; /* 'e' occurs only last in the needle */
    }
    return false;
}

static bool is_hex(int c)
{
    return isxdigit((unsigned char)c) != 0;
}

/* pct_placeholder - %x% (a name between percent signs, not a %XX escape) or %7B%7B */
static bool pct_placeholder(const char *u, size_t len)
{
    if (ci_contains(u, len, "%7b%7b"))
        return true;
    for (size_t i = 0; i < len; i++) {
        if (u[i] != '%')
            continue;
        size_t j = i + 1;
        while (j < len && (isalnum((unsigned char)u[j]) || u[j] == '_'))
            j++;
        if (j < len && u[j] == '%' && j - i - 1 >= 2 &&
            (isalpha((unsigned char)u[i + 1]) || u[i + 1] == '_') &&
            !(is_hex(u[i + 1]) && is_hex(u[i + 2])))
            return true;
    }
    return false;
}

/* placeholders a downstream sender fills in: {{x}} {x} %x% *|x|* [[x]] %7B%7B */
static bool is_placeholder(const char *u, size_t len)
{
    bool pct = false;
    for (size_t i = 0; i < len; i++) {
        switch (u[i]) {
        case '{':
        case '}':
            return true;
        case '*':
            if ((i + 1 < len && u[i + 1] == '|') || (i > 0 && u[i - 1] == '|'))
                return true;
            break;
        case '[':
            if (i + 1 < len && u[i + 1] == '[')
                return true;
            break;
        case ']':
            if (i + 1 < len && u[i + 1] == ']')
                return true;
            break;
        case '%':
            pct = true;
            break;
        }
    }
    return pct && pct_placeholder(u, len);
}

/* the lowercased host of an absolute http(s) URL; false when there is none */
static bool url_host(const char *u, size_t len, char *host, size_t hostsz)
{
    const char *p = memchr(u, ':', len);
    if (!p || (size_t)(p - u) + 3 > len || p[1] != '/' || p[2] != '/')
        return false;
    const char *h = p + 3, *end = u + len, *e = h;
    while (e < end && *e != '/' && *e != '?' && *e != '#' && *e != '\\')
        e++;
    for (const char *at = e; at > h; at--)
        if (at[-1] == '@') {
            h = at;
            break;
        }
    const char *hend = e;
    if (h < e && *h == '[') {
        const char *rb = memchr(h, ']', (size_t)(e - h));
        if (!rb)
            return false;
        hend = rb + 1;
    } else {
        const char *colon = memchr(h, ':', (size_t)(e - h));
        if (colon)
            hend = colon;
    }
    size_t hl = (size_t)(hend - h);
    while (hl && h[hl - 1] == '.')
        hl--;
    if (hl == 0 || hl >= hostsz)
        return false;
    for (size_t i = 0; i < hl; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"')
            return false;
        host[i] = (char)lower(c);
    }
    host[hl] = 0;
    return true;
}

static bool host_in(const char *host, const char *const *list, size_t n, bool subdomains)
{
    size_t hl = strlen(host);
    for (size_t i = 0; i < n; i++) {
        size_t dl = strlen(list[i]);
        if (hl == dl && strcasecmp(host, list[i]) == 0)
            return true;
        if (subdomains && hl > dl && host[hl - dl - 1] == '.' &&
            strcasecmp(host + hl - dl, list[i]) == 0)
            return true;
    }
    return false;
}

/* scheme_class - -1: an http(s) URL; else why it is left alone (relative, another scheme) */
static int scheme_class(const char *u, size_t len)
{
    if (len == 0 || u[0] == '#' || (len >= 2 && u[0] == '/' && u[1] == '/'))
        return RW_SKIP_RELATIVE;
    size_t k = 0;
    while (k < len && (is_alnum((unsigned char)u[k]) || u[k] == '+' || u[k] == '-' || u[k] == '.'))
        k++;
    if (k == 0 || k == len || u[k] != ':' || !is_alpha((unsigned char)u[0]))
        return RW_SKIP_RELATIVE; /* no scheme: relative, or www.example.com */
    if (!(k == 4 && ci_prefix(u, len, "http")) && !(k == 5 && ci_prefix(u, len, "https")))
        return RW_SKIP_NOT_HTTP;
    return -1;
}

/* classify - -1: rewrite it; else why not */
static int classify(rw_links *l, const char *u, size_t len, bool *counted)
{
    char host[256];

    *counted = false;
    int why = scheme_class(u, len);
    if (why >= 0)
        return why;
    if (!url_host(u, len, host, sizeof(host)))
        return RW_SKIP_INVALID;
    unsigned seen = 0; /* one pass: controls and placeholder characters */
    for (size_t i = 0; i < len; i++)
        seen |= rw_class[(unsigned char)u[i]];
    if (seen & CL_BAD)
        return RW_SKIP_INVALID;
    if ((seen & CL_PH) && is_placeholder(u, len))
        return RW_SKIP_PLACEHOLDER;
    if (host_in(host, l->o->own_hosts, l->o->n_own_hosts, false)) {
        *counted = true;
        return RW_SKIP_OWN;
    }
    if (host_in(host, l->o->excluded_domains, l->o->n_excluded_domains, true))
        return RW_SKIP_EXCLUDED;
    if (has_unsubscribe(u, len))
        return RW_SKIP_UNSUBSCRIBE;
    if (l->o->max_url_length && len > l->o->max_url_length)
        return RW_SKIP_LENGTH;
    if (l->counted >= l->o->max_links)
        return RW_SKIP_CAP;
    return -1;
}

/* new_url - the tracked URL for u into out; false: leave the link (reason counted) */
static bool new_url(rw_links *l, const char *u, size_t len, rw_part_kind kind, buf *out)
{
    bool counted;
    unsigned index;
    int why;

    if (kind == RW_PART_TEXT && in_list(l->optout_urls, l->n_optout, u, len)) {
        l->st->skipped[RW_SKIP_OPTOUT]++;
        return false;
    }
    why = classify(l, u, len, &counted);
    if (counted && l->counted < l->o->max_links)
        l->counted++;
    if (why >= 0) {
        l->st->skipped[why]++;
        return false;
    }
    bool reuse = false;
    index = l->next_index;
    if (kind == RW_PART_TEXT) {
        for (size_t i = 0; i < l->n_done; i++)
            if (strlen(l->done_urls[i]) == len && memcmp(l->done_urls[i], u, len) == 0) {
                index = l->done_index[i];
                reuse = true;
                break;
            }
    }
    buf_reset(out);
    if (!l->o->click_url || !l->o->click_url(l->o->cb_arg, u, len, index, kind, out) ||
        out->len < 8 ||
        !(ci_prefix(out->data, out->len, "http://") ||
          ci_prefix(out->data, out->len, "https://"))) {
        l->st->skipped[RW_SKIP_CALLBACK]++;
        return false;
    }
    if (!reuse) {
        l->next_index++;
        l->counted++;
        /* text parts reuse an HTML link's index: remembered only when they are rewritten */
        if (kind == RW_PART_HTML && l->o->track_text && !remember_done(l, u, len, index))
            l->oom = true;
    }
    l->st->links_rewritten++;
    return true;
}

/* ---- entities ------------------------------------------------------------- */

static void put_utf8(buf *b, unsigned long cp)
{
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    if (cp < 0x80) {
        buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        buf_putc(b, (char)(0xC0 | cp >> 6));
        buf_putc(b, (char)(0x80 | (cp & 63)));
    } else if (cp < 0x10000) {
        buf_putc(b, (char)(0xE0 | cp >> 12));
        buf_putc(b, (char)(0x80 | (cp >> 6 & 63)));
        buf_putc(b, (char)(0x80 | (cp & 63)));
    } else {
        buf_putc(b, (char)(0xF0 | cp >> 18));
        buf_putc(b, (char)(0x80 | (cp >> 12 & 63)));
        buf_putc(b, (char)(0x80 | (cp >> 6 & 63)));
        buf_putc(b, (char)(0x80 | (cp & 63)));
    }
}

/* numeric_ref - &#NNN; or &#xHHH; (r: after the '&'): the character into out; the bytes it
   took after the '&' (0: none) */
static size_t numeric_ref(const char *r, size_t rest, buf *out)
{
    if (rest < 2)
        return 0;
    bool hex = r[1] == 'x' || r[1] == 'X';
    size_t j = hex ? 2 : 1, digits = 0;
    unsigned long cp = 0;
    while (j < rest && (hex ? is_hex(r[j]) : isdigit((unsigned char)r[j])) && digits < 8) {
        cp = cp * (hex ? 16 : 10) +
             (unsigned long)(isdigit((unsigned char)r[j])
                                     ? r[j] - '0'
                                     : tolower((unsigned char)r[j]) - 'a' + 10);
        j++;
        digits++;
    }
    if (!digits)
        return 0;
    put_utf8(out, cp);
    return j + (j < rest && r[j] == ';' ? 1 : 0);
}

/* char_ref - a character reference (r: after the '&'), decoded into out; the bytes it took
   after the '&' (0: none, the '&' is a character of its own) */
static size_t char_ref(const char *r, size_t rest, buf *out)
{
    static const struct {
        const char *name;
        size_t len;
        char c;
    } named[] = {{"amp;", 4, '&'},   {"lt;", 3, '<'},     {"gt;", 3, '>'},
                 {"quot;", 5, '"'},  {"apos;", 5, '\''},  {"sol;", 4, '/'},
                 {"quest;", 6, '?'}, {"equals;", 7, '='}, {"num;", 4, '#'}};

    if (rest > 0 && r[0] == '#')
        return numeric_ref(r, rest, out);
    for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++)
        if (ci_prefix(r, rest, named[k].name)) {
            buf_putc(out, named[k].c);
            return named[k].len;
        }
    /* &amp without the semicolon, as mail HTML often has it */
    if (ci_prefix(r, rest, "amp") && (rest == 3 || !isalnum((unsigned char)r[3]))) {
        buf_putc(out, '&');
        return 3;
    }
    return 0;
}

static inline bool is_space(unsigned char c)
{
    return (rw_class[c] & CL_SP) != 0;
}

/* decode_value - entity-decode, drop tab/CR/LF (as browsers do), trim, spaces to %20 */
static void decode_value(const unsigned char *v, size_t len, buf *out)
{
    size_t s = 0, e = len;

    /* trimmed first (tab, CR and LF count as white space here too) */
    while (s < e && is_space(v[s]))
        s++;
    while (e > s && is_space(v[e - 1]))
        e--;
    buf_reset(out);
    buf_reserve(out, (e - s) * 3 + 1);
    size_t run = s;
    for (size_t i = s; i < e; i++) {
        while (e - i >= 8) { /* no '&' and nothing at or below ' ': skip the word */
            uint64_t w = sw_load(v + i);
            if (sw_less(w, 0x21) | sw_has(w, '&'))
                break;
            i += 8;
        }
        if (i >= e)
            break;
        unsigned char c = v[i];
        if (!(rw_class[c] & CL_DEC))
            continue;
        buf_append(out, v + run, i - run);
        if (c == ' ') {
            buf_append(out, "%20", 3);
        } else if (c == '&') { /* tab, CR and LF are dropped */
            size_t used = char_ref((const char *)v + i + 1, e - i - 1, out);
            if (!used)
                buf_putc(out, '&');
            i += used;
        }
        run = i + 1;
    }
    buf_append(out, v + run, e - run);
}

bool rw_attr_encode(const char *s, size_t len, buf *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0;

    for (size_t i = 0; i < len; i++) {
        const char *rep;
        size_t rl;
        while (len - i >= 8) { /* none of & " ' < > in the word: skip it */
            uint64_t w = sw_load(u + i);
            /* & is 0x26 and ' 0x27, < is 0x3c and > 0x3e: two tests for four */
            if (sw_has(w & ~(SW_ONES * 0x01), 0x26) | sw_has(w & ~(SW_ONES * 0x02), 0x3c) |
                sw_has(w, '"'))
                break;
            i += 8;
        }
        if (i >= len)
            break;
        if (!(rw_class[u[i]] & CL_ENC))
            continue;
        switch (u[i]) {
        case '&':
            rep = "&amp;", rl = 5;
            break;
        case '"':
            rep = "&quot;", rl = 6;
            break;
        case '\'':
            rep = "&#39;", rl = 5;
            break;
        case '<':
            rep = "&lt;", rl = 4;
            break;
        default: /* '>' */
            rep = "&gt;", rl = 4;
            break;
        }
        buf_append(out, s + run, i - run);
        buf_append(out, rep, rl);
        run = i + 1;
    }
    buf_append(out, s + run, len - run);
    return !buf_failed(out);
}

/* ---- the tokenizer --------------------------------------------------------- */

typedef struct attr {
    size_t start;          /* first byte of the white space before the name */
    size_t name, name_len; /* the name */
    size_t val, val_len;   /* the value without quotes (val_len 0 and no '=': none) */
    size_t end;            /* after the value (and its closing quote) */
    char quote;            /* '"', '\'' or 0 */
    bool has_value;
} attr;

typedef struct tag {
    size_t start, end; /* '<' .. after '>' */
    size_t name, name_len;
    bool closing;
    attr a[MAX_ATTRS];
    size_t n;
    bool too_many;
} tag;

#define NPOS ((size_t)-1)

/* parse_attr - the attribute whose name starts at in[p] (the white space before it at ws),
   added to t (beyond MAX_ATTRS only counted as too many); the offset after it, or NPOS
   when the input ends after its '=' or its quote never closes */
static size_t parse_attr(const unsigned char *in, size_t len, size_t ws, size_t p, tag *t)
{
    attr a = {.start = ws, .name = p};
    while (p < len && (!(rw_class[in[p]] & (CL_SP | CL_STOP)) ||
                       (in[p] == '/' && !(p + 1 < len && in[p + 1] == '>'))))
        p++;
    if (p == a.name) /* a lone '=' */
        p++;
    a.name_len = p - a.name;
    size_t q = p;
    while (q < len && is_space(in[q]))
        q++;
    if (q < len && in[q] == '=') {
        q++;
        while (q < len && is_space(in[q]))
            q++;
        if (q >= len)
            return NPOS;
        a.has_value = true;
        if (in[q] == '"' || in[q] == '\'') {
            a.quote = (char)in[q];
            const unsigned char *c = memchr(in + q + 1, in[q], len - q - 1);
            if (!c)
                return NPOS;
            a.val = q + 1;
            a.val_len = (size_t)(c - (in + q + 1));
            p = (size_t)(c - in) + 1;
        } else {
            a.val = q;
            while (q < len && !is_space(in[q]) && in[q] != '>')
                q++;
            a.val_len = q - a.val;
            p = q;
        }
    }
    a.end = p;
    if (t->n < MAX_ATTRS)
        t->a[t->n++] = a;
    else
        t->too_many = true;
    return p;
}

/* parse_tag - a start or end tag at in[i] == '<'; false when it never closes */
static bool parse_tag(const unsigned char *in, size_t len, size_t i, tag *t)
{
    size_t p = i + 1;

    memset(t, 0, offsetof(tag, a));
    t->n = 0;
    t->too_many = false;
    t->start = i;
    if (p < len && in[p] == '/') {
        t->closing = true;
        p++;
    }
    t->name = p;
    while (p < len && !(rw_class[in[p]] & (CL_SP | CL_STOP))) /* '=' is part of a tag name */
        p++;
    while (p < len && in[p] == '=') {
        p++;
        while (p < len && !(rw_class[in[p]] & (CL_SP | CL_STOP)))
            p++;
    }
    t->name_len = p - t->name;
    for (;;) {
        size_t ws = p;
        while (p < len && (is_space(in[p]) || in[p] == '/'))
            p++;
        if (p >= len)
            return false;
        if (in[p] == '>') {
            t->end = p + 1;
            return true;
        }
        if ((p = parse_attr(in, len, ws, p, t)) == NPOS)
            return false;
    }
}

/* name_is - in[off..off+len) is name (lowercase ASCII), ignoring ASCII case */
static inline bool name_is(const unsigned char *in, size_t off, size_t len, const char *name)
{
    /* first byte before anything else: most names differ there */
    if (len == 0 || lower(in[off]) != (unsigned char)name[0] || strlen(name) != len)
        return false;
    for (size_t k = 1; k < len; k++)
        if (lower(in[off + k]) != (unsigned char)name[k])
            return false;
    return true;
}

static bool value_is(const unsigned char *in, const attr *a, const char *v)
{
    size_t s = a->val, l = a->val_len;
    while (l && is_space(in[s])) {
        s++;
        l--;
    }
    while (l && is_space(in[s + l - 1]))
        l--;
    return strlen(v) == l && strncasecmp((const char *)in + s, v, l) == 0;
}

/* is_marker - a per-link opt-out attribute (TRACKING.md section 1) */
static bool is_marker(const unsigned char *in, const attr *a)
{
    static const struct {
        const char *name, *value; /* value NULL: any */
    } m[] = {{"clicktracking", "off"},      {"data-pm-no-track", NULL},
             {"disable-tracking", "true"},  {"ses:no-track", NULL},
             {"data-msys-clicktrack", "0"}, {"data-mautic-disable-tracking", "true"},
             {"data-skip-click", NULL},     {"data-no-track", NULL}};
    /* every marker name is 12 to 28 bytes and starts with c, d or s */
    if (a->name_len < 12 || a->name_len > 28 || !strchr("cdsCDS", in[a->name]))
        return false;
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        if (name_is(in, a->name, a->name_len, m[i].name))
            return m[i].value == NULL || (a->has_value && value_is(in, a, m[i].value));
    return false;
}

/* find_close - the offset of "</name" (case-insensitive, then space, '>' or '/'), or len */
static size_t find_close(const unsigned char *in, size_t len, size_t from, const char *name)
{
    size_t nl = strlen(name);
    for (size_t p = from; p + 2 + nl <= len; p++) {
        const unsigned char *lt = memchr(in + p, '<', len - p);
        if (!lt)
            return len;
        p = (size_t)(lt - in);
        if (p + 2 + nl <= len && in[p + 1] == '/' &&
            strncasecmp((const char *)in + p + 2, name, nl) == 0 &&
            (p + 2 + nl == len || is_space(in[p + 2 + nl]) || in[p + 2 + nl] == '>' ||
             in[p + 2 + nl] == '/'))
            return p;
    }
    return len;
}

/* the raw-text elements: a browser reads their content as text up to the end tag */
static const char RAW_PLAINTEXT[] = "plaintext"; /* no end tag: text to the end */

static const char *raw_text_name(const unsigned char *in, const tag *t)
{
    const char *n;
    switch (t->name_len) { /* one comparison for most tags */
    case 3:
        n = "xmp";
        break;
    case 5:
        n = lower(in[t->name]) == 's' ? "style" : "title";
        break;
    case 6:
        n = lower(in[t->name]) == 's' ? "script" : "iframe";
        break;
    case 7:
        n = "noembed";
        break;
    case 8:
        n = lower(in[t->name]) == 't' ? "textarea" : "noframes";
        break;
    case 9:
        n = RAW_PLAINTEXT;
        break;
    default:
        return NULL;
    }
    return name_is(in, t->name, t->name_len, n) ? n : NULL;
}

/* img_is_own_pixel - <img src> on an own host with an /o/ path */
static bool img_is_own_pixel(const rw_links *l, const unsigned char *in, const tag *t, buf *tmp)
{
    char host[256];
    for (size_t k = 0; k < t->n; k++) {
        const attr *a = &t->a[k];
        if (!name_is(in, a->name, a->name_len, "src") || !a->has_value)
            continue;
        decode_value(in + a->val, a->val_len, tmp);
        if (!url_host(tmp->data ? tmp->data : "", tmp->len, host, sizeof(host)) ||
            !host_in(host, l->o->own_hosts, l->o->n_own_hosts, false))
            return false;
        const char *p = strstr(buf_cstr(tmp), "://");
        p = p ? strchr(p + 3, '/') : NULL;
        return p && strncmp(p, "/o/", 3) == 0;
    }
    return false;
}

/* one HTML part on its way through rw_html: what link_tag needs */
typedef struct html_walk {
    rw_links *l;
    const unsigned char *in;
    buf *out;
    rw_html_out *res;
    size_t flushed; /* in[0..flushed) is in out; the rest is copied when something changes */
    buf url, nu;    /* an href decoded; its new URL */
    tag *t;
} html_walk;

/*
 * splice_tag - the tag t with its opt-out markers dropped and, when nv is not NULL, the
 * href value replaced by nv (entity-encoded, in the original quotes or double quotes):
 * the input up to it (from h->flushed) and the new tag are appended to out.
 */
static void splice_tag(html_walk *h, const attr *href, const char *nv, size_t nl, bool notrack)
{
    const unsigned char *in = h->in;
    const tag *t = h->t;
    buf *out = h->out;
    size_t p = t->start;

    buf_append(out, in + h->flushed, t->start - h->flushed);
    for (size_t k = 0; k < t->n; k++) {
        const attr *a = &t->a[k];
        if (is_marker(in, a)) {
            buf_append(out, in + p, a->start - p);
            p = a->end;
            h->l->st->markers_stripped++;
        } else if (a == href && nv) {
            buf_append(out, in + p, a->val - p);
            if (!a->quote)
                buf_putc(out, '"');
            rw_attr_encode(nv, nl, out);
            if (!a->quote)
                buf_putc(out, '"');
            p = a->val + a->val_len;
            if (notrack)
                h->l->st->markers_stripped++;
        }
    }
    buf_append(out, in + p, t->end - p);
    h->flushed = t->end;
    h->res->changed = true;
}

/* link_tag - one <a>/<area>: the href rewritten, or the opt-out markers dropped; a tag left
   alone stays in the input */
static void link_tag(html_walk *h)
{
    const unsigned char *in = h->in;
    const tag *t = h->t;
    rw_links *l = h->l;
    buf *url = &h->url;
    const attr *href = NULL;
    bool marker = false, notrack = false;

    for (size_t k = 0; k < t->n; k++) {
        if (!href && t->a[k].has_value && name_is(in, t->a[k].name, t->a[k].name_len, "href"))
            href = &t->a[k];
        if (is_marker(in, &t->a[k]))
            marker = true;
    }
    if (t->too_many || (!href && !marker))
        return;
    const char *nv = NULL; /* the new href value; NULL: only markers go */
    size_t nl = 0;
    if (href) {
        decode_value(in + href->val, href->val_len, url);
        if (ci_prefix(url->data ? url->data : "", url->len, "https+notrack://")) {
            notrack = true; /* Postal's scheme marker: becomes https:// untracked */
            memmove(url->data + 5, url->data + 13, url->len - 13);
            url->len -= 8;
            url->data[url->len] = 0;
            nv = url->data;
            nl = url->len;
        }
        if (marker || notrack) {
            l->st->skipped[RW_SKIP_OPTOUT]++;
            if (!remember(&l->optout_urls, &l->n_optout, &l->cap_optout, url->data, url->len))
                l->oom = true;
        } else if (new_url(l, url->data ? url->data : "", url->len, RW_PART_HTML, &h->nu)) {
            nv = h->nu.data;
            nl = h->nu.len;
        } else {
            return;
        }
    }
    splice_tag(h, href, nv, nl, notrack);
}

/* markup - what the '<' at in[*ip] starts: MK_TAG a start or end tag; MK_SKIPPED a comment,
   CDATA, <!...>, <?...>, a bogus comment or a '<' that is text, *ip moved past it; MK_BREAK
   a construct that never closes */
enum { MK_TAG, MK_SKIPPED, MK_BREAK };

/* past - n bytes after what a search found; NULL when it found nothing */
static inline const unsigned char *past(const void *found, size_t n)
{
    return found ? (const unsigned char *)found + n : NULL;
}

static int markup(const unsigned char *in, size_t len, size_t *ip)
{
    size_t i = *ip, rest = len - i;
    const unsigned char *end; /* NULL: never closes */

    if (rest >= 4 && memcmp(in + i, "<!--", 4) == 0)
        end = past(memmem(in + i + 4, rest - 4, "-->", 3), 3);
    else if (rest >= 9 && memcmp(in + i, "<![CDATA[", 9) == 0)
        end = past(memmem(in + i + 9, rest - 9, "]]>", 3), 3);
    else if (rest >= 2 && (in[i + 1] == '!' || in[i + 1] == '?'))
        end = past(memchr(in + i, '>', rest), 1);
    else if (rest >= 2 &&
             (is_alpha(in[i + 1]) || (in[i + 1] == '/' && rest >= 3 && is_alpha(in[i + 2]))))
        return MK_TAG;
    else if (rest >= 2 && in[i + 1] == '/')
        /* "</" and something other than a letter is a bogus comment up to the next '>'
           ("</>" is nothing; "</" at the very end is text to a browser, but anything
           appended after it would become a comment: a break too) */
        end = past(memchr(in + i + 2, '>', rest - 2), 1);
    else
        end = in + i + 1; /* any other '<' is text */
    if (!end)
        return MK_BREAK;
    *ip = (size_t)(end - in);
    return MK_SKIPPED;
}

bool rw_html(rw_links *l, const unsigned char *in, size_t len, buf *out, rw_html_out *res)
{
    html_walk h = {.l = l, .in = in, .out = out, .res = res};
    size_t last_body = NPOS, last_html = NPOS; /* offsets in out */
    size_t i = 0, brk = NPOS; /* the first construct that never closes (input offset) */
    tag *t = malloc(sizeof(*t));

    if (!t)
        return false;
    h.t = t;
    buf_init(&h.url);
    buf_init(&h.nu);
    res->changed = false;
    res->own_pixel = false;
    buf_reserve(out, len + len / 4 + 256);
/* the offset in out that input offset x will have */
#define OUT_AT(x) (out->len + ((x)-h.flushed))
    while (i < len) {
        const unsigned char *lt = memchr(in + i, '<', len - i);
        if (!lt)
            break;
        i = (size_t)(lt - in);
        int k = markup(in, len, &i);
        if (k == MK_SKIPPED)
            continue;
        if (k == MK_BREAK || !parse_tag(in, len, i, t))
            goto broken; /* a quote or the '>' never comes: the tag runs to the end */
        if (t->closing) {
            if (name_is(in, t->name, t->name_len, "body"))
                last_body = OUT_AT(i);
            else if (name_is(in, t->name, t->name_len, "html"))
                last_html = OUT_AT(i);
            i = t->end;
            continue;
        }
        const char *raw = raw_text_name(in, t);
        if (raw) {
            /* never an <a> or <area>: nothing to rewrite in the start tag */
            size_t close = raw == RAW_PLAINTEXT ? len : find_close(in, len, t->end, raw);
            if (close == len)
                goto broken; /* the element is text to the end: from its start tag on */
            i = close;
            continue;
        }
        if (l->o->click &&
            (name_is(in, t->name, t->name_len, "a") || name_is(in, t->name, t->name_len, "area")))
            link_tag(&h);
        else if (name_is(in, t->name, t->name_len, "img") && img_is_own_pixel(l, in, t, &h.url))
            res->own_pixel = true;
        i = t->end;
        continue;
    broken:
        brk = i;
        break;
    }
#undef OUT_AT
    buf_append(out, in + h.flushed, len - h.flushed);
    res->break_at = brk;
    /* with a break, only a place before it is known to be outside every tag,
       comment and raw text: a </body> or </html> seen before it, never the end */
    res->insert_at = last_body != NPOS   ? last_body
                     : last_html != NPOS ? last_html
                     : brk == NPOS       ? out->len
                                         : NPOS;
    buf_free(&h.url);
    buf_free(&h.nu);
    free(t);
    return !buf_failed(out) && !l->oom;
}

/* ---- text/plain ---------------------------------------------------------------- */

bool rw_text(rw_links *l, const unsigned char *in, size_t len, buf *out, bool *changed)
{
    buf nu;
    size_t i = 0;

    buf_init(&nu);
    *changed = false;
    buf_reserve(out, len + 256);
    while (i < len) {
        /* the next "http" at a word start */
        size_t p = i;
        for (; p + 7 <= len; p++) {
            if ((in[p] == 'h' || in[p] == 'H') &&
                (p == 0 || is_space(in[p - 1]) || in[p - 1] == '<') &&
                (ci_prefix((const char *)in + p, len - p, "http://") ||
                 ci_prefix((const char *)in + p, len - p, "https://")))
                break;
        }
        if (p + 7 > len) {
            buf_append(out, in + i, len - i);
            break;
        }
        bool angle = p > 0 && in[p - 1] == '<';
        size_t e = p;
        while (e < len && !is_space(in[e]) && in[e] != '<' && in[e] != '>' && in[e] != '"')
            e++;
        if (angle && (e >= len || in[e] != '>')) {
            buf_append(out, in + i, e - i);
            i = e;
            continue;
        }
        if (!angle)
            while (e > p && strchr(".,;:!?')]}\"", in[e - 1]))
                e--;
        buf_append(out, in + i, p - i);
        if (new_url(l, (const char *)in + p, e - p, RW_PART_TEXT, &nu)) {
            buf_append(out, nu.data, nu.len);
            *changed = true;
        } else {
            buf_append(out, in + p, e - p);
        }
        i = e;
    }
    buf_free(&nu);
    return !buf_failed(out) && !l->oom;
}
