/*
 * rewrite.c - the MIME walk, the gates and the output (see rewrite.h)
 *
 * The walk only records where the candidate parts are (byte ranges of the
 * original body); HTML parts are rewritten first, in order, then text
 * parts (so a text link gets the index of the same URL in the HTML, and
 * is left alone when it was opted out there); the new body is the
 * original with the modified parts' ranges replaced. The pixel and the
 * footer go into the primary HTML part, the first HTML candidate in
 * message order (in multipart/alternative the HTML alternative); the text
 * footer into the first text/plain candidate.
 */
#include "milter/rewrite/rw_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "lib/token.h"

#define RW_MAX_DEPTH 20
#define RW_MAX_PARTS 1000

enum { CTE_7BIT = 0, CTE_8BIT, CTE_QP, CTE_B64 };

typedef struct cand {
    size_t hs, bs, be; /* header block, content, end (offsets in the body) */
    int cte;
    bool html, top;
    bool modified, cte_to_qp;
    buf out; /* new encoded content */
} cand;

typedef struct walk {
    const unsigned char *b;
    size_t len;
    const rw_options *o;
    rw_stats *st;
    cand *c;
    size_t n, cap;
    size_t parts;
    const char *fail; /* malformed: why */
    bool oom;
} walk;

void rw_options_init(rw_options *o)
{
    memset(o, 0, sizeof(*o));
    o->max_links = 500;
    o->max_url_length = TOKEN_URL_MAX;
    o->optout_header = "X-Sendgate-Track";
    o->marker_header = "X-Sendgate-Tracked";
    o->unsubscribe_text = "Unsubscribe";
}

void rw_result_free(rw_result *r)
{
    for (size_t i = 0; i < r->n_edits; i++) {
        free(r->edits[i].name);
        free(r->edits[i].value);
    }
    r->n_edits = 0;
    buf_free(&r->body);
}

const char *rw_status_name(rw_status s)
{
    return s == RW_MODIFIED ? "modified" : s == RW_UNCHANGED ? "unchanged" : "failed";
}

static bool add_edit(rw_result *r, rw_hdr_op op, int index, const char *name, const char *value)
{
    if (r->n_edits >= RW_MAX_EDITS)
        return false;
    rw_hdr_edit *e = &r->edits[r->n_edits];
    e->op = op;
    e->index = index;
    e->name = strdup(name);
    e->value = value ? strdup(value) : NULL;
    if (!e->name || (value && !e->value)) {
        free(e->name);
        free(e->value);
        return false;
    }
    r->n_edits++;
    return true;
}

/* ---- header fields ------------------------------------------------------------ */

/* unfold - a field value without CR/LF, trimmed */
static void unfold(const char *v, size_t len, buf *out)
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
                unfold((const char *)h + p + 1, vend - p - 1, out);
                return true;
            }
        }
        i = eol;
    }
    return false;
}

static const char *top_field(const rw_header *h, size_t n, const char *name, buf *out)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(h[i].name, name) == 0) {
            unfold(h[i].value, strlen(h[i].value), out);
            return out->data ? out->data : "";
        }
    return NULL;
}

/* ---- Content-Type and friends ----------------------------------------------------- */

/* media_type - "type/subtype" lowercased into t; false when malformed */
static bool media_type(const char *v, char *t, size_t tsz)
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
        bool match = false, star = false;
        if ((size_t)(ne - p) >= nl && strncasecmp(p, name, nl) == 0) {
            const char *s = p + nl;
            if (s == ne) {
                match = true;
            } else if (*s == '*') { /* RFC 2231: name*, name*0, name*0*, name*1 ... */
                const char *q = s + 1;
                while (q < ne && isdigit((unsigned char)*q))
                    q++;
                if (q < ne && *q == '*')
                    q++;
                if (q == ne) {
                    match = true;
                    star = ne[-1] == '*';
                }
            }
        }
        const char *val = eq + 1;
        while (*val == ' ' || *val == '\t')
            val++;
        const char *next;
        if (*val == '"') {
            const char *q = val + 1;
            buf tmp;
            buf_init(&tmp);
            while (*q && *q != '"') {
                if (*q == '\\' && q[1])
                    q++;
                buf_putc(&tmp, *q++);
            }
            if (match) {
                buf_append(out, tmp.data, tmp.len);
                found = true;
            }
            buf_free(&tmp);
            next = strchr(*q ? q + 1 : q, ';');
        } else {
            const char *e = val;
            while (*e && *e != ';' && *e != ' ' && *e != '\t')
                e++;
            if (match) {
                const char *s = val;
                if (star && !found) { /* charset'lang'value */
                    const char *a1 = memchr(val, '\'', (size_t)(e - val));
                    const char *a2 = a1 ? memchr(a1 + 1, '\'', (size_t)(e - a1 - 1)) : NULL;
                    if (a2)
                        s = a2 + 1;
                }
                buf_append(out, s, (size_t)(e - s));
                found = true;
                ext = ext || star;
            }
            next = strchr(e, ';');
        }
        p = next;
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
        return CTE_7BIT;
    if (strcasecmp(v, "8bit") == 0)
        return CTE_8BIT;
    if (strcasecmp(v, "quoted-printable") == 0)
        return CTE_QP;
    if (strcasecmp(v, "base64") == 0)
        return CTE_B64;
    return -1; /* binary, x-uuencode, ...: left alone */
}

/* ---- the walk ----------------------------------------------------------------------- */

static void add_cand(walk *w, size_t hs, size_t bs, size_t be, int cte, bool html, bool top)
{
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 8;
        cand *nv = realloc(w->c, nc * sizeof(*nv));
        if (!nv) {
            w->oom = true;
            return;
        }
        w->c = nv;
        w->cap = nc;
    }
    cand *c = &w->c[w->n++];
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
static int line_is_delim(const walk *w, size_t p, size_t end, const char *bd, size_t bl)
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

static void walk_entity(walk *w, const char *ct_v, const char *cte_v, const char *disp_v, size_t hs,
                        size_t bs, size_t be, int depth, bool top, bool digest_child);

/* walk_part - a body part of a multipart: its own header block, then content */
static void walk_part(walk *w, size_t s, size_t e, int depth, bool digest)
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

static void walk_multipart(walk *w, const char *bd, size_t bs, size_t be, int depth, bool digest)
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

static void walk_entity(walk *w, const char *ct_v, const char *cte_v, const char *disp_v, size_t hs,
                        size_t bs, size_t be, int depth, bool top, bool digest_child)
{
    char type[128];
    buf pv;

    if (w->fail || w->oom)
        return;
    if (depth > RW_MAX_DEPTH) {
        w->fail = "MIME nesting too deep";
        return;
    }
    if (ct_v == NULL || !media_type(ct_v, type, sizeof(type)))
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

/* ---- per part ------------------------------------------------------------------------ */

/* decode_part - the part's decoded bytes: QP and base64 into out, 7bit/8bit
   as they stand in the body (no copy); false when out of memory */
static bool decode_part(const walk *w, const cand *c, buf *out, const unsigned char **p, size_t *n)
{
    const unsigned char *s = w->b + c->bs;
    size_t len = c->be - c->bs;
    if (c->cte != CTE_QP && c->cte != CTE_B64) {
        *p = s;
        *n = len;
        return true;
    }
    if (!(c->cte == CTE_QP ? rw_qp_decode(s, len, out) : rw_b64_decode(s, len, out)))
        return false;
    *p = (const unsigned char *)(out->data ? out->data : "");
    *n = out->len;
    return true;
}

static const char *eol_of(const unsigned char *s, size_t n, const char *dflt)
{
    const unsigned char *nl = memchr(s, '\n', n);
    if (!nl)
        return dflt;
    return nl > s && nl[-1] == '\r' ? "\r\n" : "\n";
}

/* encode_part - the new content (taken from dec) in the part's encoding, or QP if it must */
static bool encode_part(cand *c, buf *dec, const char *eol, rw_stats *st)
{
    const unsigned char *s = (const unsigned char *)(dec->data ? dec->data : "");
    size_t n = dec->len;

    switch (c->cte) {
    case CTE_QP:
        return rw_qp_encode(s, n, eol, &c->out);
    case CTE_B64:
        return rw_b64_encode(s, n, eol, &c->out);
    default:
        if (rw_needs_qp(s, n, c->cte == CTE_7BIT)) {
            c->cte_to_qp = true;
            st->cte_changed = true;
            return rw_qp_encode(s, n, eol, &c->out);
        }
        c->out = *dec; /* unencoded: the new bytes are the output, handed over */
        buf_init(dec);
        return true;
    }
}

static bool looks_pgp(const unsigned char *p, size_t n)
{
    return n >= 15 && memmem(p, n, "-----BEGIN PGP ", 15) != NULL;
}

/* new_header_block - the part's header block with its CTE field replaced by quoted-printable */
static void new_header_block(const unsigned char *h, size_t len, const char *eol, buf *out)
{
    size_t i = 0, blank = len;
    /* the blank line that ends the block */
    if (len >= 2 && h[len - 2] == '\r' && h[len - 1] == '\n')
        blank = len - 2;
    else if (len >= 1 && h[len - 1] == '\n')
        blank = len - 1;
    while (i < blank) {
        const unsigned char *nl = memchr(h + i, '\n', blank - i);
        size_t e = nl ? (size_t)(nl - h) + 1 : blank;
        bool skip = e - i > 26 &&
                    strncasecmp((const char *)h + i, "Content-Transfer-Encoding", 25) == 0 &&
                    (h[i + 25] == ':' || h[i + 25] == ' ' || h[i + 25] == '\t');
        do {
            if (!skip)
                buf_append(out, h + i, e - i);
            i = e;
            if (i < blank && (h[i] == ' ' || h[i] == '\t')) {
                nl = memchr(h + i, '\n', blank - i);
                e = nl ? (size_t)(nl - h) + 1 : blank;
            } else {
                break;
            }
        } while (1);
    }
    buf_append_str(out, "Content-Transfer-Encoding: quoted-printable");
    buf_append_str(out, eol);
    buf_append(out, h + blank, len - blank);
}

/* ---- the message ------------------------------------------------------------------------- */

static bool ci_value_off(const char *v)
{
    return strcasecmp(v, "off") == 0 || strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 ||
           strcmp(v, "0") == 0;
}

static rw_status finish(rw_result *r, rw_status s, const char *why)
{
    r->reason = why;
    if (s != RW_MODIFIED) {
        for (size_t i = 0; i < r->n_edits; i++) {
            free(r->edits[i].name);
            free(r->edits[i].value);
        }
        r->n_edits = 0;
        r->body_changed = false;
        buf_reset(&r->body);
    }
    return s;
}

rw_status rw_rewrite(const rw_header *hdrs, size_t n_hdrs, const unsigned char *body, size_t len,
                     const rw_options *o, rw_result *r)
{
    buf v, dec, tmp, url;
    walk w = {.b = body, .len = len, .o = o, .st = &r->stats};
    rw_links l;
    rw_status status = RW_UNCHANGED;
    const char *why = NULL;
    char type[128];

    memset(r, 0, sizeof(*r));
    buf_init(&r->body);
    if (!o->click && !o->open && !o->unsubscribe)
        return finish(r, RW_UNCHANGED, "tracking off for the domain");
    buf_init(&v);
    if (o->marker_header && *o->marker_header && top_field(hdrs, n_hdrs, o->marker_header, &v)) {
        buf_free(&v);
        return finish(r, RW_UNCHANGED, "already processed (marker header present)");
    }
    if (o->optout_header && *o->optout_header) {
        int count = 0;
        bool off = false;
        for (size_t i = 0; i < n_hdrs; i++)
            if (strcasecmp(hdrs[i].name, o->optout_header) == 0) {
                count++;
                unfold(hdrs[i].value, strlen(hdrs[i].value), &v);
                off = off || ci_value_off(v.data ? v.data : "");
            }
        for (int i = count; i > 0; i--)
            add_edit(r, RW_HDR_DELETE, i, o->optout_header, NULL);
        if (off) {
            buf_free(&v);
            add_edit(r, RW_HDR_ADD, 0,
                     o->marker_header && *o->marker_header ? o->marker_header
                                                           : "X-Sendgate-Tracked",
                     "opted-out");
            return finish(r, RW_MODIFIED, "opted out by header");
        }
    }
    if (!o->rewrite_signed && top_field(hdrs, n_hdrs, "DKIM-Signature", &v)) {
        buf_free(&v);
        return finish(r, r->n_edits ? RW_MODIFIED : RW_UNCHANGED,
                      "DKIM-signed upstream (tracking.skip_dkim_signed)");
    }
    if (o->max_size && len > o->max_size) {
        buf_free(&v);
        return finish(r, r->n_edits ? RW_MODIFIED : RW_UNCHANGED, "body too large");
    }
    const char *ct = top_field(hdrs, n_hdrs, "Content-Type", &v);
    char *ct_copy = ct ? strdup(ct) : NULL;
    buf_init(&tmp);
    const char *cte_v = top_field(hdrs, n_hdrs, "Content-Transfer-Encoding", &tmp);
    char *cte_copy = cte_v ? strdup(cte_v) : NULL;
    const char *disp = top_field(hdrs, n_hdrs, "Content-Disposition", &tmp);
    if (ct_copy && media_type(ct_copy, type, sizeof(type)) &&
        (strcmp(type, "multipart/signed") == 0 || strcmp(type, "multipart/encrypted") == 0 ||
         strcmp(type, "application/pkcs7-mime") == 0 ||
         strcmp(type, "application/x-pkcs7-mime") == 0)) {
        free(ct_copy);
        free(cte_copy);
        buf_free(&v);
        buf_free(&tmp);
        return finish(r, r->n_edits ? RW_MODIFIED : RW_UNCHANGED, "signed or encrypted message");
    }
    walk_entity(&w, ct_copy, cte_copy, disp, 0, 0, len, 0, true, false);
    free(ct_copy);
    free(cte_copy);
    if (w.oom || w.fail) {
        status = w.oom ? RW_FAILED : RW_UNCHANGED;
        why = w.oom ? "out of memory" : w.fail;
        goto out;
    }

    const char *msg_eol = eol_of(body, len, "\r\n");
    rw_links_init(&l, o, &r->stats);
    buf_init(&dec);
    buf_init(&url);

    /* the unsubscribe URL, when the message has no List-Unsubscribe yet */
    bool unsub = false;
    if (o->unsubscribe && o->unsub_url && !top_field(hdrs, n_hdrs, "List-Unsubscribe", &v) &&
        o->unsub_url(o->cb_arg, &url) && url.len > 0 && !memchr(url.data, '>', url.len) &&
        !memchr(url.data, '\n', url.len)) {
        buf_reset(&tmp);
        buf_printf(&tmp, "<%s>", buf_cstr(&url));
        unsub = add_edit(r, RW_HDR_ADD, 0, "List-Unsubscribe", buf_cstr(&tmp));
        if (unsub && strncasecmp(url.data, "https://", 8) == 0)
            add_edit(r, RW_HDR_ADD, 0, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        r->stats.unsub_headers_added = unsub;
    }
    char *unsub_url = unsub ? strdup(buf_cstr(&url)) : NULL;
    ssize_t primary_html = -1, primary_text = -1;
    for (size_t i = 0; i < w.n; i++) {
        if (w.c[i].html && primary_html < 0)
            primary_html = (ssize_t)i;
        if (!w.c[i].html && primary_text < 0)
            primary_text = (ssize_t)i;
    }
    buf pixel;
    buf_init(&pixel);
    if (o->open && o->open_url && primary_html >= 0) { /* signed only when it has a place */
        buf_reset(&url);
        if (o->open_url(o->cb_arg, &url) && url.len > 0) {
            buf_append_str(&pixel, "<img src=\"");
            rw_attr_encode(url.data, url.len, &pixel);
            buf_append_str(&pixel, "\" width=\"1\" height=\"1\" alt=\"\" border=\"0\" "
                                   "style=\"display:block;width:1px;height:1px;border:0;"
                                   "overflow:hidden\" tabindex=\"-1\">");
        }
    }

    /* HTML first, then text */
    const char *broken = NULL; /* why: a part that never closes a construct */
    for (int pass = 0; pass < 2 && !l.oom; pass++) {
        for (size_t i = 0; i < w.n; i++) {
            cand *c = &w.c[i];
            if (c->html != (pass == 0))
                continue;
            bool is_primary = (ssize_t)i == (c->html ? primary_html : primary_text);
            bool links = o->click && (c->html || o->track_text);
            if (!links && !(is_primary && (unsub_url || (c->html && pixel.len))))
                continue;
            const unsigned char *dp;
            size_t dn;
            buf_reset(&dec);
            if (!decode_part(&w, c, &dec, &dp, &dn)) {
                l.oom = true;
                break;
            }
            if (looks_pgp(dp, dn)) {
                r->stats.parts_skipped++;
                continue;
            }
            const char *eol = eol_of(body + c->bs, c->be - c->bs, msg_eol);
            buf_reset(&tmp);
            bool changed = false;
            if (c->html) {
                rw_html_out h;
                if (!rw_html(&l, dp, dn, &tmp, &h)) {
                    l.oom = true;
                    break;
                }
                changed = h.changed;
                size_t at = h.insert_at;
                bool own_pixel = h.own_pixel;
                if (h.break_at != (size_t)-1) {
                    r->stats.parts_broken++;
                    if (is_primary && at == (size_t)-1 && (unsub_url || (pixel.len && !own_pixel)))
                        broken = "broken HTML: links rewritten up to a construct that never "
                                 "closes, no footer or pixel (no </body> before it)";
                    else if (!broken)
                        broken = "broken HTML: links rewritten up to a construct that never "
                                 "closes";
                }
                if (is_primary && at != (size_t)-1 && (unsub_url || (pixel.len && !own_pixel))) {
                    buf ins; /* footer, then pixel, spliced into tmp at 'at' */
                    buf_init(&ins);
                    if (unsub_url) {
                        buf_append_str(&ins, "<p style=\"font-size:12px;color:#666666;"
                                             "text-align:center\"><a href=\"");
                        rw_attr_encode(unsub_url, strlen(unsub_url), &ins);
                        buf_append_str(&ins, "\">");
                        rw_attr_encode(o->unsubscribe_text, strlen(o->unsubscribe_text), &ins);
                        buf_append_str(&ins, "</a></p>");
                        r->stats.unsub_footer_added = true;
                    }
                    if (pixel.len && !own_pixel) {
                        buf_append(&ins, pixel.data, pixel.len);
                        r->stats.pixel_added = true;
                    }
                    if (buf_failed(&ins) || !buf_reserve(&tmp, ins.len)) {
                        buf_free(&ins);
                        l.oom = true;
                        break;
                    }
                    memmove(tmp.data + at + ins.len, tmp.data + at, tmp.len - at + 1);
                    memcpy(tmp.data + at, ins.data, ins.len);
                    tmp.len += ins.len;
                    buf_free(&ins);
                    changed = true;
                }
            } else {
                if (links && !rw_text(&l, dp, dn, &tmp, &changed)) {
                    l.oom = true;
                    break;
                }
                if (!links)
                    buf_append(&tmp, dp, dn);
                if (is_primary && unsub_url) {
                    if (tmp.len && tmp.data[tmp.len - 1] != '\n')
                        buf_append_str(&tmp, eol);
                    buf_append_str(&tmp, eol);
                    buf_printf(&tmp, "%s: <%s>%s", o->unsubscribe_text, unsub_url, eol);
                    r->stats.unsub_footer_added = true;
                    changed = true;
                }
            }
            if (!changed)
                continue;
            if (buf_failed(&tmp) || !encode_part(c, &tmp, eol, &r->stats)) {
                l.oom = true;
                break;
            }
            c->modified = true;
            r->stats.parts_rewritten++;
        }
    }
    free(unsub_url);
    buf_free(&pixel);
    buf_free(&dec);
    buf_free(&url);
    if (l.oom) {
        rw_links_free(&l);
        status = RW_FAILED;
        why = "out of memory";
        goto out;
    }
    rw_links_free(&l);

    /* assemble the new body */
    if (r->stats.parts_rewritten) {
        size_t p = 0;
        buf_reserve(&r->body, len + len / 8 + 1024);
        for (size_t i = 0; i < w.n; i++) {
            cand *c = &w.c[i];
            if (!c->modified)
                continue;
            if (c->top) {
                if (c->cte_to_qp) {
                    add_edit(r, RW_HDR_CHANGE, 1, "Content-Transfer-Encoding", "quoted-printable");
                    if (!top_field(hdrs, n_hdrs, "MIME-Version", &v))
                        add_edit(r, RW_HDR_ADD, 0, "MIME-Version", "1.0");
                }
            } else if (c->cte_to_qp) {
                buf_append(&r->body, body + p, c->hs - p);
                new_header_block(body + c->hs, c->bs - c->hs,
                                 eol_of(body + c->hs, c->bs - c->hs, msg_eol), &r->body);
                p = c->bs;
            }
            buf_append(&r->body, body + p, c->bs - p);
            buf_append(&r->body, c->out.data, c->out.len);
            p = c->be;
        }
        buf_append(&r->body, body + p, len - p);
        if (buf_failed(&r->body)) {
            status = RW_FAILED;
            why = "out of memory";
            goto out;
        }
        r->body_changed = true;
    }
    if (r->body_changed || r->n_edits) {
        why = broken;
        if (o->marker_header && *o->marker_header) {
            buf_reset(&tmp);
            buf_printf(&tmp, "links=%u pixel=%s unsubscribe=%s", r->stats.links_rewritten,
                       r->stats.pixel_added ? "yes" : "no",
                       r->stats.unsub_headers_added ? "yes" : "no");
            add_edit(r, RW_HDR_ADD, 0, o->marker_header, buf_cstr(&tmp));
        }
        status = RW_MODIFIED;
    } else {
        why = broken ? broken : w.n ? "nothing to rewrite" : "no text part to rewrite";
    }
out:
    for (size_t i = 0; i < w.n; i++)
        buf_free(&w.c[i].out);
    free(w.c);
    buf_free(&v);
    buf_free(&tmp);
    return finish(r, status, why);
}
