/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mime.c - the MIME walk: where a message's candidate parts are
 *
 * The walk only records byte ranges of the original body (header block,
 * content, end) for the parts the engine may rewrite: non-attachment
 * text/html and text/plain parts in an ASCII-compatible charset and a
 * transfer encoding it can decode, outside message/rfc822,
 * multipart/signed and multipart/encrypted (RFC 2046 boundaries, preamble
 * and epilogue kept, a missing final boundary tolerated, RFC 2231
 * parameters). Nothing is copied or changed here; rewrite.c does that.
 */
#include "milter/rewrite/rw_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RW_MAX_DEPTH 20
#define RW_MAX_PARTS 1000

/* ---- header fields ------------------------------------------------------------ */

/* rw_unfold - a field value without CR/LF, trimmed */
void rw_unfold(const char *v, size_t len, buf *out)
{
    buf_reset(out);
    for (size_t i = 0; i < len; i++)
        if (v[i] != '\r' && v[i] != '\n')
            buf_putc(out, v[i] == '\t' ? ' ' : v[i]);
    size_t s = 0, e = out->len;
    while (s < e && out->data[s] == ' ')
        s++;
    while (e > s && out->data[e - 1] == ' ')
        e--;
    if (e > s) /* data is NULL for an empty value */
        memmove(out->data, out->data + s, e - s);
    out->len = e - s;
    buf_putc(out, 0);
    out->len--;
}

/* block_field - the first field called name in a raw header block, unfolded */
static bool block_field(const unsigned char *h, size_t len, const char *name, buf *out)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < len;) {
        const unsigned char *nlp = memchr(h + i, '\n', len - i);
        size_t eol = nlp ? (size_t)(nlp - h) + 1 : len;
        if (eol - i > nl && strncasecmp((const char *)h + i, name, nl) == 0) {
            size_t p = i + nl;
            while (p < eol && (h[p] == ' ' || h[p] == '\t'))
                p++;
            if (p < eol && h[p] == ':') {
                size_t vend = eol;
                while (vend < len && (h[vend] == ' ' || h[vend] == '\t')) {
                    const unsigned char *n2 = memchr(h + vend, '\n', len - vend);
                    vend = n2 ? (size_t)(n2 - h) + 1 : len;
                }
                rw_unfold((const char *)h + p + 1, vend - p - 1, out);
                return true;
            }
        }
        i = eol;
    }
    return false;
}

/* rw_top_field - the first top-level field called name, unfolded into out; NULL when absent */
const char *rw_top_field(const rw_header *h, size_t n, const char *name, buf *out)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(h[i].name, name) == 0) {
            rw_unfold(h[i].value, strlen(h[i].value), out);
            return out->data ? out->data : "";
        }
    return NULL;
}

/* ---- Content-Type and friends ----------------------------------------------------- */

/* rw_media_type - "type/subtype" lowercased into t; false when malformed */
bool rw_media_type(const char *v, char *t, size_t tsz)
{
    size_t i = 0;
    while (*v && *v != ';' && !isspace((unsigned char)*v) && i + 1 < tsz)
        t[i++] = (char)tolower((unsigned char)*v++);
    t[i] = 0;
    return strchr(t, '/') != NULL;
}

static void pct_decode(buf *b)
{
    size_t o = 0;
    for (size_t i = 0; i < b->len; i++) {
        if (b->data[i] == '%' && i + 2 < b->len && isxdigit((unsigned char)b->data[i + 1]) &&
            isxdigit((unsigned char)b->data[i + 2])) {
            char hx[3] = {b->data[i + 1], b->data[i + 2], 0};
            b->data[o++] = (char)strtol(hx, NULL, 16);
            i += 2;
        } else {
            b->data[o++] = b->data[i];
        }
    }
    b->len = o;
}

/* param_named - is the parameter name p..ne called name (RFC 2231: name*, name*0,
   name*0*, name*1 ...)? *star: its value is extended (charset'lang'%XX) */
static bool param_named(const char *p, const char *ne, const char *name, size_t nl, bool *star)
{
    *star = false;
    if ((size_t)(ne - p) < nl || strncasecmp(p, name, nl) != 0)
        return false;
    const char *s = p + nl;
    if (s == ne)
        return true;
    if (*s != '*')
        return false;
    const char *q = s + 1;
    while (q < ne && isdigit((unsigned char)*q))
        q++;
    if (q < ne && *q == '*')
        q++;
    if (q != ne)
        return false;
    *star = ne[-1] == '*';
    return true;
}

/* param_quoted - a quoted value at val (on its '"'), unescaped into out (NULL: skipped);
   returns where the search for the next ';' goes on */
static const char *param_quoted(const char *val, buf *out)
{
    const char *q = val + 1;
    while (*q && *q != '"') {
        if (*q == '\\' && q[1])
            q++;
        if (out)
            buf_putc(out, *q);
        q++;
    }
    return *q ? q + 1 : q;
}

/* param_token - an unquoted value at val, into out (NULL: skipped); the first piece of an
   extended value loses its charset'lang' prefix; returns its end */
static const char *param_token(const char *val, bool extended_first, buf *out)
{
    const char *e = val;
    while (*e && *e != ';' && *e != ' ' && *e != '\t')
        e++;
    if (out) {
        const char *s = val;
        if (extended_first) { /* charset'lang'value */
            const char *a1 = memchr(val, '\'', (size_t)(e - val));
            const char *a2 = a1 ? memchr(a1 + 1, '\'', (size_t)(e - a1 - 1)) : NULL;
            if (a2)
                s = a2 + 1;
        }
        buf_append(out, s, (size_t)(e - s));
    }
    return e;
}

/* param - a parameter's value (quoted, RFC 2231 name*=, name*0= continuations joined) */
static bool param(const char *v, const char *name, buf *out)
{
    size_t nl = strlen(name);
    bool found = false, ext = false;
    const char *p = strchr(v, ';');

    buf_reset(out);
    while (p) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *eq = strchr(p, '=');
        if (!eq)
            break;
        const char *ne = eq;
        while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
            ne--;
        bool star;
        bool match = param_named(p, ne, name, nl, &star);
        const char *val = eq + 1;
        while (*val == ' ' || *val == '\t')
            val++;
        if (*val == '"') {
            p = strchr(param_quoted(val, match ? out : NULL), ';');
        } else {
            p = strchr(param_token(val, star && !found, match ? out : NULL), ';');
            ext = ext || (match && star);
        }
        found = found || match;
    }
    if (ext)
        pct_decode(out);
    buf_putc(out, 0);
    out->len--;
    return found;
}

/* ascii_charset - may this charset be rewritten as bytes? */
static bool ascii_charset(const char *cs)
{
    static const char *const ok[] = {"us-ascii", "ascii",   "utf-8",       "utf8",     "iso-8859-",
                                     "iso8859-", "latin",   "windows-125", "cp125",    "koi8-",
                                     "euc-",     "tis-620", "gb2312",      "ansi_x3.4"};
    if (*cs == 0)
        return true;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strncasecmp(cs, ok[i], strlen(ok[i])) == 0)
            return true;
    return false;
}

static int cte_of(const char *v)
{
    if (v == NULL || *v == 0 || strcasecmp(v, "7bit") == 0)
        return RW_CTE_7BIT;
    if (strcasecmp(v, "8bit") == 0)
        return RW_CTE_8BIT;
    if (strcasecmp(v, "quoted-printable") == 0)
        return RW_CTE_QP;
    if (strcasecmp(v, "base64") == 0)
        return RW_CTE_B64;
    return -1; /* binary, x-uuencode, ...: left alone */
}

/* ---- the walk ----------------------------------------------------------------------- */

static void add_cand(rw_walk *w, size_t hs, size_t bs, size_t be, int cte, bool html, bool top)
{
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 8;
        rw_part *nv = realloc(w->c, nc * sizeof(*nv));
        if (!nv) {
            w->oom = true;
            return;
        }
        w->c = nv;
        w->cap = nc;
    }
    rw_part *c = &w->c[w->n++];
    memset(c, 0, sizeof(*c));
    c->hs = hs;
    c->bs = bs;
    c->be = be;
    c->cte = cte;
    c->html = html;
    c->top = top;
    buf_init(&c->out);
}

/* line_is_delim - a boundary line at b[p]: 1 delimiter, 2 close delimiter, 0 no */
static int line_is_delim(const rw_walk *w, size_t p, size_t end, const char *bd, size_t bl)
{
    if (p + 2 + bl > end || w->b[p] != '-' || w->b[p + 1] != '-' ||
        memcmp(w->b + p + 2, bd, bl) != 0)
        return 0;
    size_t q = p + 2 + bl;
    if (q + 2 <= end && w->b[q] == '-' && w->b[q + 1] == '-')
        return 2;
    /* only transport padding may follow the boundary on its line */
    while (q < end && (w->b[q] == ' ' || w->b[q] == '\t'))
        q++;
    if (q == end || w->b[q] == '\n' || (w->b[q] == '\r' && q + 1 < end && w->b[q + 1] == '\n'))
        return 1;
    return 0;
}

static void walk_entity(rw_walk *w, const char *ct_v, const char *cte_v, const char *disp_v,
                        size_t hs, size_t bs, size_t be, int depth, bool top, bool digest_child);

/* walk_part - a body part of a multipart: its own header block, then content */
static void walk_part(rw_walk *w, size_t s, size_t e, int depth, bool digest)
{
    size_t bs;
    if (s < e && w->b[s] == '\n')
        bs = s + 1;
    else if (s + 1 < e && w->b[s] == '\r' && w->b[s + 1] == '\n')
        bs = s + 2;
    else {
        const unsigned char *p = w->b + s;
        bs = (size_t)-1;
        for (;;) {
            const unsigned char *nl = memchr(p, '\n', (size_t)(w->b + e - p));
            if (!nl)
                break;
            const unsigned char *q = nl + 1;
            if (q < w->b + e && *q == '\n') {
                bs = (size_t)(q - w->b) + 1;
                break;
            }
            if (q + 1 < w->b + e && q[0] == '\r' && q[1] == '\n') {
                bs = (size_t)(q - w->b) + 2;
                break;
            }
            p = q;
        }
    }
    if (bs == (size_t)-1)
        return; /* no empty line: a part that is all header and no body, left alone */
    buf ct, cte, disp;
    buf_init(&ct);
    buf_init(&cte);
    buf_init(&disp);
    bool has_ct = block_field(w->b + s, bs - s, "Content-Type", &ct);
    bool has_cte = block_field(w->b + s, bs - s, "Content-Transfer-Encoding", &cte);
    bool has_disp = block_field(w->b + s, bs - s, "Content-Disposition", &disp);
    walk_entity(w, has_ct ? ct.data : NULL, has_cte ? cte.data : NULL, has_disp ? disp.data : NULL,
                s, bs, e, depth, false, digest);
    buf_free(&ct);
    buf_free(&cte);
    buf_free(&disp);
}

static void walk_multipart(rw_walk *w, const char *bd, size_t bs, size_t be, int depth, bool digest)
{
    size_t bl = strlen(bd);
    size_t part_start = (size_t)-1;
    size_t p = bs;

    while (p < be) {
        int d = line_is_delim(w, p, be, bd, bl);
        const unsigned char *nl = memchr(w->b + p, '\n', be - p);
        size_t next = nl ? (size_t)(nl - w->b) + 1 : be;
        if (d) {
            if (part_start != (size_t)-1) {
                size_t pe = p; /* the line break before the delimiter belongs to it */
                if (pe > part_start && w->b[pe - 1] == '\n')
                    pe--;
                if (pe > part_start && w->b[pe - 1] == '\r')
                    pe--;
                if (++w->parts > RW_MAX_PARTS) {
                    w->fail = "too many MIME parts";
                    return;
                }
                walk_part(w, part_start, pe, depth + 1, digest);
            }
            if (d == 2)
                return; /* the epilogue is kept as it is */
            part_start = next;
        }
        p = next;
    }
    /* no close delimiter: the last part runs to the end */
    if (part_start != (size_t)-1 && part_start < be)
        walk_part(w, part_start, be, depth + 1, digest);
}

static void walk_entity(rw_walk *w, const char *ct_v, const char *cte_v, const char *disp_v,
                        size_t hs, size_t bs, size_t be, int depth, bool top, bool digest_child)
{
    char type[128];
    buf pv;

    if (w->fail || w->oom)
        return;
    if (depth > RW_MAX_DEPTH) {
        w->fail = "MIME nesting too deep";
        return;
    }
    if (ct_v == NULL || !rw_media_type(ct_v, type, sizeof(type)))
        snprintf(type, sizeof(type), "%s", digest_child ? "message/rfc822" : "text/plain");
    buf_init(&pv);
    if (strncmp(type, "multipart/", 10) == 0) {
        if (strcmp(type, "multipart/signed") != 0 && strcmp(type, "multipart/encrypted") != 0 &&
            param(ct_v, "boundary", &pv) && pv.len > 0 && pv.len <= 200)
            walk_multipart(w, pv.data, bs, be, depth, strcmp(type, "multipart/digest") == 0);
        buf_free(&pv);
        return;
    }
    bool html = strcmp(type, "text/html") == 0, text = strcmp(type, "text/plain") == 0;
    if (!html && !text) {
        buf_free(&pv);
        return; /* message/rfc822, attachments of other types, calendar, AMP, ... */
    }
    bool attachment = (disp_v && strncasecmp(disp_v, "attachment", 10) == 0) ||
                      (disp_v && param(disp_v, "filename", &pv)) ||
                      param(ct_v ? ct_v : "", "name", &pv);
    int cte = cte_of(cte_v);
    bool cs_ok = !param(ct_v ? ct_v : "", "charset", &pv) || ascii_charset(pv.data);
    buf_free(&pv);
    if (attachment)
        return;
    if (cte < 0 || !cs_ok) {
        w->st->parts_skipped++;
        return;
    }
    add_cand(w, hs, bs, be, cte, html, top);
}

/* rw_walk_message - the candidate parts of a whole message, from its top-level fields
   (NULL: absent); w->fail or w->oom when the walk gave up */
void rw_walk_message(rw_walk *w, const char *ct, const char *cte, const char *disp)
{
    walk_entity(w, ct, cte, disp, 0, 0, w->len, 0, true, false);
}

void rw_walk_free(rw_walk *w)
{
    for (size_t i = 0; i < w->n; i++)
        buf_free(&w->c[i].out);
    free(w->c);
    w->c = NULL;
    w->n = w->cap = 0;
}
