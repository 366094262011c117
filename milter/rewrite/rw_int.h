/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rw_int.h - the rewrite engine's internal interfaces (not for the milter)
 *
 *	enc.c	quoted-printable and base64, both directions
 *	html.c	the tag-level HTML rewriter and the text/plain URL rewriter
 *	mime.c	header fields and the MIME walk: where the candidate parts are
 *	rewrite.c  the message: the gates, the per-part rewrite, body assembly
 *		(rewrite.h)
 */
#ifndef SG_RW_INT_H
#define SG_RW_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "milter/rewrite/rewrite.h"

/* enc.c */
bool rw_qp_decode(const unsigned char *in, size_t len, buf *out);
bool rw_b64_decode(const unsigned char *in, size_t len, buf *out);
bool rw_qp_encode(const unsigned char *in, size_t len, const char *eol, buf *out);
bool rw_b64_encode(const unsigned char *in, size_t len, const char *eol, buf *out);
bool rw_needs_qp(const unsigned char *in, size_t len, bool seven_bit);

/* mime.c: header fields */
void rw_unfold(const char *v, size_t len, buf *out);
const char *rw_top_field(const rw_header *h, size_t n, const char *name, buf *out);
bool rw_media_type(const char *v, char *t, size_t tsz);

/* mime.c: the candidate parts (byte ranges of the body) and what became of them */
enum { RW_CTE_7BIT = 0, RW_CTE_8BIT, RW_CTE_QP, RW_CTE_B64 };

typedef struct rw_part {
    size_t hs, bs, be; /* header block, content, end (offsets in the body) */
    int cte;
    bool html, top;
    bool modified, cte_to_qp;
    buf out; /* new encoded content */
} rw_part;

typedef struct rw_walk {
    const unsigned char *b; /* the body */
    size_t len;
    rw_stats *st; /* parts_skipped */
    rw_part *c;   /* the candidates, in message order */
    size_t n, cap;
    size_t parts;
    const char *fail; /* malformed: why */
    bool oom;
} rw_walk;

void rw_walk_message(rw_walk *w, const char *ct, const char *cte, const char *disp);
void rw_walk_free(rw_walk *w);

/* one message's link state, shared by its parts */
typedef struct rw_links {
    const rw_options *o;
    rw_stats *st;
    unsigned counted; /* links rewritten or already tracked: the cap */
    unsigned next_index;
    /* URLs rewritten in HTML (for the text parts' indexes) and opted out */
    char **done_urls;
    unsigned *done_index;
    size_t n_done, cap_done;
    char **optout_urls;
    size_t n_optout, cap_optout;
    bool oom;
} rw_links;

void rw_links_init(rw_links *l, const rw_options *o, rw_stats *st);
void rw_links_free(rw_links *l);

/* html.c: what rw_html found in one part */
typedef struct rw_html_out {
    bool changed;     /* out differs from the input */
    bool own_pixel;   /* an <img> on an own host with an /o/ path is already there */
    size_t break_at;  /* input offset of the first construct that never closes (a
                         comment, CDATA, <!...>, <?...>, a bogus </...>, a tag with an open
                         quote or no '>', raw text without its end tag, <plaintext>):
                         everything from there on is copied as it is; (size_t)-1: none */
    size_t insert_at; /* offset in out for the footer and pixel: before the last </body>
                         outside comments and raw text, else the last </html>, else the
                         end; with a break only a </body> or </html> before it counts, and
                         (size_t)-1 when there is none: no safe place */
} rw_html_out;

/* html.c: rewrite the links of one HTML part (decoded) into out */
bool rw_html(rw_links *l, const unsigned char *in, size_t len, buf *out, rw_html_out *res);

/* html.c: URLs in a text/plain part (track_text) */
bool rw_text(rw_links *l, const unsigned char *in, size_t len, buf *out, bool *changed);

/* html.c: entity-encode for an attribute value */
bool rw_attr_encode(const char *s, size_t len, buf *out);

#endif
