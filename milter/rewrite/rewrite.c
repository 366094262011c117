/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rewrite.c - the message: the gates, the per-part rewrite, body assembly
 * (see rewrite.h)
 *
 * A message goes through rw_rewrite in steps that share one context
 * (rw_msg): the gates decide whether it is touched at all; the MIME walk
 * (mime.c) records where the candidate parts are (byte ranges of the
 * original body); the unsubscribe URL and the pixel are asked for once;
 * HTML parts are rewritten first, in order, then text parts (so a text
 * link gets the index of the same URL in the HTML, and is left alone when
 * it was opted out there); the new body is the original with the modified
 * parts' ranges replaced. The pixel and the footer go into the primary
 * HTML part, the first HTML candidate in message order (in
 * multipart/alternative the HTML alternative); the text footer into the
 * first text/plain candidate.
 */
#include "milter/rewrite/rw_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "lib/token.h"

#define BROKEN_HTML "broken HTML: links rewritten up to a construct that never closes"
#define BROKEN_HTML_NO_PLACE                                                                    \
    "broken HTML: links rewritten up to a construct that never closes, no footer or pixel (no " \
    "</body> before it)"

/* one message on its way through rw_rewrite: what the steps share */
typedef struct rw_msg {
    const rw_header *hdrs;
    size_t n_hdrs;
    const unsigned char *body;
    size_t len;
    const rw_options *o;
    rw_result *r;
    rw_status status; /* the outcome so far, and why */
    const char *why;
    rw_walk w;            /* the candidate parts */
    rw_links l;           /* link indexes, the cap and opt-outs, across parts */
    buf v, tmp;           /* a header field's value; scratch, then a part's new content */
    buf dec;              /* a QP or base64 part, decoded */
    buf url;              /* the unsubscribe and pixel URLs as the callbacks give them */
    buf pixel;            /* the pixel's <img> tag; empty: no pixel */
    char *unsub_url;      /* NULL: no footer links */
    const char *eol;      /* the body's line ending (for parts without one of their own) */
    ssize_t primary_html; /* the part that gets the footer (and the pixel); -1: none */
    ssize_t primary_text;
    const char *broken; /* why: an HTML part that never closes a construct */
} rw_msg;

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

static bool is_set(const char *s)
{
    return s && *s;
}

/* ---- per part ------------------------------------------------------------------------ */

/* decode_part - the part's decoded bytes: QP and base64 into out, 7bit/8bit
   as they stand in the body (no copy); false when out of memory */
static bool decode_part(const rw_walk *w, const rw_part *c, buf *out, const unsigned char **p,
                        size_t *n)
{
    const unsigned char *s = w->b + c->bs;
    size_t len = c->be - c->bs;
    if (c->cte != RW_CTE_QP && c->cte != RW_CTE_B64) {
        *p = s;
        *n = len;
        return true;
    }
    if (!(c->cte == RW_CTE_QP ? rw_qp_decode(s, len, out) : rw_b64_decode(s, len, out)))
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
static bool encode_part(rw_part *c, buf *dec, const char *eol, rw_stats *st)
{
    const unsigned char *s = (const unsigned char *)(dec->data ? dec->data : "");
    size_t n = dec->len;

    switch (c->cte) {
    case RW_CTE_QP:
        return rw_qp_encode(s, n, eol, &c->out);
    case RW_CTE_B64:
        return rw_b64_encode(s, n, eol, &c->out);
    default:
        if (rw_needs_qp(s, n, c->cte == RW_CTE_7BIT)) {
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

/* ---- the gates ----------------------------------------------------------------------- */

static bool ci_value_off(const char *v)
{
    return strcasecmp(v, "off") == 0 || strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 ||
           strcmp(v, "0") == 0;
}

/* stop - the message is left as it is from here (header edits made so far stand) */
static bool stop(rw_msg *m, const char *why)
{
    m->status = m->r->n_edits ? RW_MODIFIED : RW_UNCHANGED;
    m->why = why;
    return false;
}

/* opted_out - the opt-out header is removed; true when it says off: the message gets the
   marker and nothing else */
static bool opted_out(rw_msg *m)
{
    const rw_options *o = m->o;
    int count = 0;
    bool off = false;

    if (!is_set(o->optout_header))
        return false;
    for (size_t i = 0; i < m->n_hdrs; i++)
        if (strcasecmp(m->hdrs[i].name, o->optout_header) == 0) {
            count++;
            rw_unfold(m->hdrs[i].value, strlen(m->hdrs[i].value), &m->v);
            off = off || ci_value_off(m->v.data ? m->v.data : "");
        }
    for (int i = count; i > 0; i--)
        add_edit(m->r, RW_HDR_DELETE, i, o->optout_header, NULL);
    if (off)
        add_edit(m->r, RW_HDR_ADD, 0,
                 is_set(o->marker_header) ? o->marker_header : "X-Sendgate-Tracked", "opted-out");
    return off;
}

/* gates - false (with the reason) when the message is not to be rewritten */
static bool gates(rw_msg *m)
{
    const rw_options *o = m->o;

    if (!o->click && !o->open && !o->unsubscribe)
        return stop(m, "tracking off for the domain");
    if (is_set(o->marker_header) && rw_top_field(m->hdrs, m->n_hdrs, o->marker_header, &m->v))
        return stop(m, "already processed (marker header present)");
    if (opted_out(m)) {
        stop(m, "opted out by header");
        m->status = RW_MODIFIED;
        return false;
    }
    if (!o->rewrite_signed && rw_top_field(m->hdrs, m->n_hdrs, "DKIM-Signature", &m->v))
        return stop(m, "DKIM-signed upstream (tracking.skip_dkim_signed)");
    if (o->max_size && m->len > o->max_size)
        return stop(m, "body too large");
    return true;
}

static bool sealed_type(const char *t)
{
    return strcmp(t, "multipart/signed") == 0 || strcmp(t, "multipart/encrypted") == 0 ||
           strcmp(t, "application/pkcs7-mime") == 0 || strcmp(t, "application/x-pkcs7-mime") == 0;
}

/* walk - the candidate parts (mime.c); false for a signed or encrypted message, malformed
   MIME or no memory */
static bool walk(rw_msg *m)
{
    char type[128];
    const char *ct = rw_top_field(m->hdrs, m->n_hdrs, "Content-Type", &m->v);
    char *ct_copy = ct ? strdup(ct) : NULL;
    const char *cte = rw_top_field(m->hdrs, m->n_hdrs, "Content-Transfer-Encoding", &m->tmp);
    char *cte_copy = cte ? strdup(cte) : NULL;
    const char *disp = rw_top_field(m->hdrs, m->n_hdrs, "Content-Disposition", &m->tmp);
    bool ok = true;

    if (ct_copy && rw_media_type(ct_copy, type, sizeof(type)) && sealed_type(type)) {
        ok = stop(m, "signed or encrypted message");
    } else {
        rw_walk_message(&m->w, ct_copy, cte_copy, disp);
        if (m->w.oom || m->w.fail) {
            m->status = m->w.oom ? RW_FAILED : RW_UNCHANGED;
            m->why = m->w.oom ? "out of memory" : m->w.fail;
            ok = false;
        }
    }
    free(ct_copy);
    free(cte_copy);
    return ok;
}

/* ---- what the message gets once: unsubscribe URL and pixel ------------------------------ */

/* unsubscribe - the unsubscribe URL and its header fields, when the message has no
   List-Unsubscribe yet (the URL then also goes into the footers) */
static void unsubscribe(rw_msg *m)
{
    const rw_options *o = m->o;
    buf *url = &m->url;

    if (!o->unsubscribe || !o->unsub_url ||
        rw_top_field(m->hdrs, m->n_hdrs, "List-Unsubscribe", &m->v) ||
        !o->unsub_url(o->cb_arg, url) || url->len == 0 || memchr(url->data, '>', url->len) ||
        memchr(url->data, '\n', url->len))
        return;
    buf_reset(&m->tmp);
    buf_printf(&m->tmp, "<%s>", buf_cstr(url));
    bool added = add_edit(m->r, RW_HDR_ADD, 0, "List-Unsubscribe", buf_cstr(&m->tmp));
    if (added && strncasecmp(url->data, "https://", 8) == 0)
        add_edit(m->r, RW_HDR_ADD, 0, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
    m->r->stats.unsub_headers_added = added;
    if (added)
        m->unsub_url = strdup(buf_cstr(url));
}

/* primaries - the first HTML and the first text candidate */
static void primaries(rw_msg *m)
{
    m->primary_html = m->primary_text = -1;
    for (size_t i = 0; i < m->w.n; i++) {
        if (m->w.c[i].html && m->primary_html < 0)
            m->primary_html = (ssize_t)i;
        if (!m->w.c[i].html && m->primary_text < 0)
            m->primary_text = (ssize_t)i;
    }
}

/* pixel - the pixel's <img> tag, asked for (signed) only when it has a place */
static void pixel(rw_msg *m)
{
    const rw_options *o = m->o;
    buf *url = &m->url;

    if (!o->open || !o->open_url || m->primary_html < 0)
        return;
    buf_reset(url);
    if (!o->open_url(o->cb_arg, url) || url->len == 0)
        return;
    buf_append_str(&m->pixel, "<img src=\"");
    rw_attr_encode(url->data, url->len, &m->pixel);
    buf_append_str(&m->pixel, "\" width=\"1\" height=\"1\" alt=\"\" border=\"0\" "
                              "style=\"display:block;width:1px;height:1px;border:0;"
                              "overflow:hidden\" tabindex=\"-1\">");
}

/* ---- the parts --------------------------------------------------------------------------- */

/* splice_footer - the footer link, then the pixel (unless the part has its own), into
   m->tmp at 'at'; false when out of memory */
static bool splice_footer(rw_msg *m, size_t at, bool with_pixel)
{
    buf ins;
    bool ok;

    buf_init(&ins);
    if (m->unsub_url) {
        buf_append_str(&ins, "<p style=\"font-size:12px;color:#666666;"
                             "text-align:center\"><a href=\"");
        rw_attr_encode(m->unsub_url, strlen(m->unsub_url), &ins);
        buf_append_str(&ins, "\">");
        rw_attr_encode(m->o->unsubscribe_text, strlen(m->o->unsubscribe_text), &ins);
        buf_append_str(&ins, "</a></p>");
        m->r->stats.unsub_footer_added = true;
    }
    if (with_pixel) {
        buf_append(&ins, m->pixel.data, m->pixel.len);
        m->r->stats.pixel_added = true;
    }
    ok = !buf_failed(&ins) && buf_reserve(&m->tmp, ins.len);
    if (ok) {
        buf *t = &m->tmp;
        memmove(t->data + at + ins.len, t->data + at, t->len - at + 1);
        memcpy(t->data + at, ins.data, ins.len);
        t->len += ins.len;
    }
    buf_free(&ins);
    return ok;
}

/* html_part - links, then footer and pixel for the primary part, into m->tmp; false when
   out of memory */
static bool html_part(rw_msg *m, const unsigned char *in, size_t n, bool primary, bool *changed)
{
    rw_html_out h;

    if (!rw_html(&m->l, in, n, &m->tmp, &h))
        return false;
    *changed = h.changed;
    bool with_pixel = m->pixel.len && !h.own_pixel;
    bool footer = primary && (m->unsub_url || with_pixel);
    if (h.break_at != (size_t)-1) {
        m->r->stats.parts_broken++;
        if (footer && h.insert_at == (size_t)-1)
            m->broken = BROKEN_HTML_NO_PLACE;
        else if (!m->broken)
            m->broken = BROKEN_HTML;
    }
    if (!footer || h.insert_at == (size_t)-1)
        return true;
    *changed = true;
    return splice_footer(m, h.insert_at, with_pixel);
}

/* text_part - links (when tracked), then the footer line for the primary part, into
   m->tmp; false when out of memory */
static bool text_part(rw_msg *m, const unsigned char *in, size_t n, bool primary, bool links,
                      const char *eol, bool *changed)
{
    buf *t = &m->tmp;

    if (links && !rw_text(&m->l, in, n, t, changed))
        return false;
    if (!links)
        buf_append(t, in, n);
    if (primary && m->unsub_url) {
        if (t->len && t->data[t->len - 1] != '\n')
            buf_append_str(t, eol);
        buf_append_str(t, eol);
        buf_printf(t, "%s: <%s>%s", m->o->unsubscribe_text, m->unsub_url, eol);
        m->r->stats.unsub_footer_added = true;
        *changed = true;
    }
    return true;
}

/* rewrite_part - one candidate part, its new content encoded into c->out when it changes;
   false when out of memory */
static bool rewrite_part(rw_msg *m, size_t i)
{
    rw_part *c = &m->w.c[i];
    bool primary = (ssize_t)i == (c->html ? m->primary_html : m->primary_text);
    bool links = m->o->click && (c->html || m->o->track_text);
    const unsigned char *in;
    size_t n;
    bool changed = false;

    if (!links && !(primary && (m->unsub_url || (c->html && m->pixel.len))))
        return true;
    buf_reset(&m->dec);
    if (!decode_part(&m->w, c, &m->dec, &in, &n))
        return false;
    if (looks_pgp(in, n)) {
        m->r->stats.parts_skipped++;
        return true;
    }
    const char *eol = eol_of(m->body + c->bs, c->be - c->bs, m->eol);
    buf_reset(&m->tmp);
    if (!(c->html ? html_part(m, in, n, primary, &changed)
                  : text_part(m, in, n, primary, links, eol, &changed)))
        return false;
    if (!changed)
        return true;
    if (buf_failed(&m->tmp) || !encode_part(c, &m->tmp, eol, &m->r->stats))
        return false;
    c->modified = true;
    m->r->stats.parts_rewritten++;
    return true;
}

/* rewrite_parts - HTML parts first, then text parts; false when out of memory */
static bool rewrite_parts(rw_msg *m)
{
    m->eol = eol_of(m->body, m->len, "\r\n");
    unsubscribe(m);
    primaries(m);
    pixel(m);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < m->w.n; i++)
            if (m->w.c[i].html == (pass == 0) && !rewrite_part(m, i)) {
                m->status = RW_FAILED;
                m->why = "out of memory";
                return false;
            }
    return true;
}

/* ---- the new body -------------------------------------------------------------------------- */

/* assemble - the new body: the original with the modified parts' ranges replaced; a
   single part is the whole body, so its new content is handed over as it is (no copy),
   and when it became quoted-printable header edits say so */
static bool assemble(rw_msg *m)
{
    rw_result *r = m->r;
    const unsigned char *body = m->body;
    size_t p = 0;

    if (!r->stats.parts_rewritten)
        return true;
    if (m->w.c[0].top) { /* the message's only candidate, from offset 0 to the end */
        rw_part *c = &m->w.c[0];
        if (c->cte_to_qp) {
            add_edit(r, RW_HDR_CHANGE, 1, "Content-Transfer-Encoding", "quoted-printable");
            if (!rw_top_field(m->hdrs, m->n_hdrs, "MIME-Version", &m->v))
                add_edit(r, RW_HDR_ADD, 0, "MIME-Version", "1.0");
        }
        r->body = c->out;
        buf_init(&c->out);
    } else {
        buf_reserve(&r->body, m->len + m->len / 8 + 1024);
        for (size_t i = 0; i < m->w.n; i++) {
            rw_part *c = &m->w.c[i];
            if (!c->modified)
                continue;
            if (c->cte_to_qp) {
                buf_append(&r->body, body + p, c->hs - p);
                new_header_block(body + c->hs, c->bs - c->hs,
                                 eol_of(body + c->hs, c->bs - c->hs, m->eol), &r->body);
                p = c->bs;
            }
            buf_append(&r->body, body + p, c->bs - p);
            buf_append(&r->body, c->out.data, c->out.len);
            p = c->be;
        }
        buf_append(&r->body, body + p, m->len - p);
    }
    if (buf_failed(&r->body)) {
        m->status = RW_FAILED;
        m->why = "out of memory";
        return false;
    }
    r->body_changed = true;
    return true;
}

/* conclude - the marker header on a changed message, and the reason */
static void conclude(rw_msg *m)
{
    rw_result *r = m->r;

    if (!r->body_changed && !r->n_edits) {
        m->status = RW_UNCHANGED;
        m->why = m->broken ? m->broken : m->w.n ? "nothing to rewrite" : "no text part to rewrite";
        return;
    }
    if (is_set(m->o->marker_header)) {
        buf_reset(&m->tmp);
        buf_printf(&m->tmp, "links=%u pixel=%s unsubscribe=%s", r->stats.links_rewritten,
                   r->stats.pixel_added ? "yes" : "no",
                   r->stats.unsub_headers_added ? "yes" : "no");
        add_edit(r, RW_HDR_ADD, 0, m->o->marker_header, buf_cstr(&m->tmp));
    }
    m->status = RW_MODIFIED;
    m->why = m->broken;
}

/* finish - the result as the status wants it: only a modified message keeps edits and body */
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
    rw_msg m = {.hdrs = hdrs,
                .n_hdrs = n_hdrs,
                .body = body,
                .len = len,
                .o = o,
                .r = r,
                .status = RW_UNCHANGED,
                .w = {.b = body, .len = len, .st = &r->stats}};

    memset(r, 0, sizeof(*r));
    buf_init(&r->body);
    buf_init(&m.v);
    buf_init(&m.tmp);
    buf_init(&m.dec);
    buf_init(&m.url);
    buf_init(&m.pixel);
    rw_links_init(&m.l, o, &r->stats);
    if (gates(&m) && walk(&m) && rewrite_parts(&m) && assemble(&m))
        conclude(&m);
    rw_links_free(&m.l);
    rw_walk_free(&m.w);
    free(m.unsub_url);
    buf_free(&m.v);
    buf_free(&m.tmp);
    buf_free(&m.dec);
    buf_free(&m.url);
    buf_free(&m.pixel);
    return finish(r, m.status, m.why);
}
