/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rewrite.h - the rewrite engine: click tracking, open pixel, unsubscribe
 *
 * SYNOPSIS
 *	#include "milter/rewrite/rewrite.h"
 *
 *	rw_options o;
 *	rw_options_init(&o);                     defaults (everything off)
 *	o.track_text = true; o.max_links = 200;  the caller's settings (the milter
 *	                                          fills them from [tracking])
 *	o.click = o.open = o.unsubscribe = true;  the domain's settings
 *	o.own_hosts = hosts; o.n_own_hosts = 2;   its tracking host + default host
 *	o.click_url = my_click; o.open_url = my_open; o.unsub_url = my_unsub;
 *	o.cb_arg = msg;
 *
 *	rw_result r;
 *	switch (rw_rewrite(hdrs, n_hdrs, body, body_len, &o, &r)) {
 *	case RW_MODIFIED:   apply r.edits[0..n_edits) in order, and
 *	                    r.body when r.body_changed
 *	case RW_UNCHANGED:  deliver as is; r.reason says why
 *	case RW_FAILED:     deliver as is; r.reason says what went wrong
 *	}
 *	rw_result_free(&r);
 *
 * DESCRIPTION
 *	Pure code over buffers, with no MTA, database or crypto behind it:
 *	the milter hands over a message's top-level header fields (name and
 *	value pairs in order, values as the MTA gives them, possibly folded)
 *	and its body (one contiguous buffer, which may be a mapped spill
 *	file), and gets back the new body and the header edits to make
 *	through the MTA. URLs are built by the caller's callbacks, so tokens
 *	and keys stay outside the engine.
 *
 *	What it does (TRACKING.md sections 8 and 9 are the checklist):
 *
 *	MIME	The tree is walked (RFC 2046 boundaries, preamble and
 *		epilogue kept, a missing final boundary tolerated, RFC 2231
 *		parameters). Candidates are non-attachment text/html parts and,
 *		with track_text, text/plain parts, outside message/rfc822,
 *		multipart/signed and multipart/encrypted, in an ASCII-compatible
 *		charset (UTF-8, US-ASCII, ISO-8859-*, windows-125x, KOI8-*,
 *		EUC-*, TIS-620), not inline PGP. A part with a file name is an
 *		attachment. A message without Content-Type is one text/plain
 *		part. Malformed MIME leaves the message unchanged.
 *
 *	Encoding  7bit, 8bit, quoted-printable and base64 are decoded; a
 *		modified part is re-encoded: QP and base64 keep their encoding
 *		(lines of at most 76), 7bit/8bit stay as they are unless a line
 *		would exceed 998 octets, a 7bit part would gain 8-bit data or a
 *		line would look like a boundary, in which case the part becomes
 *		quoted-printable (its Content-Transfer-Encoding field is changed
 *		in the body for a sub-part, by a header edit for a single-part
 *		message). New lines end as the body's first line does (CRLF, or
 *		a bare LF). Every part that is not modified is copied byte for
 *		byte.
 *
 *	Links	href of a and area is rewritten when, entity-decoded (tab,
 *		CR and LF dropped, trimmed, inner spaces as %20), it is an
 *		absolute http(s) URL that is not a template placeholder, not on
 *		an own tracking host, not on an excluded domain (or below it),
 *		does not contain "unsubscribe", is not longer than
 *		max_url_length, and the per-message cap is not reached (links
 *		already on an own host count towards the cap). Per-link opt-out
 *		markers (clicktracking=off, data-pm-no-track,
 *		disable-tracking=true, ses:no-track, data-msys-clicktrack=0,
 *		data-mautic-disable-tracking=true, data-skip-click,
 *		data-no-track, the https+notrack:// scheme) are honoured and
 *		stripped. Nothing inside comments, script, style and other
 *		raw-text elements or CDATA is touched. Broken HTML: the first
 *		construct that never closes (a comment, CDATA, <!...>, <?...>,
 *		a bogus </...>, a tag with an open quote or without its '>',
 *		script, style or another raw-text element without its end tag,
 *		<plaintext>) runs to the end of the part for a browser; links
 *		before it are rewritten and every decoded byte from it on is
 *		kept as it is (r.reason says so). Outlook conditional
 *		comments (<!--[if mso]> ... <![endif]-->) are comments too: the
 *		VML buttons in them keep their links (one consistent rule; the
 *		HTML button beside them is tracked), and the pixel never goes
 *		there. Only the first href of a tag counts (as in browsers). The
 *		new value is entity-encoded and
 *		keeps the original quotes (an unquoted value gets double quotes). In text/plain
 *(track_text) only whitespace- or
 *		<>-delimited http(s) URLs are rewritten (trailing .,;:!?')]}"
 *		of a whitespace-delimited URL are not part of it), never one
 *		that was opted out in the HTML, and the same URL gets the same
 *		link index as in the HTML.
 *
 *	Pixel	One per message, in the primary HTML part (the first
 *		HTML candidate in message order: the HTML alternative), before its last </body>
 *		outside comments and raw text, else before the last </html>, else
 *		at the end; not when an <img> on an own tracking host whose path
 *		starts like the pixel URL's is already there. In broken HTML
 *		only a </body> (else </html>) before the break counts, never
 *		the end: with none there, no pixel and no footer.
 *
 *	Unsubscribe  When asked for, the callback gives a URL and the message
 *		has no List-Unsubscribe: header edits add List-Unsubscribe and,
 *		for an https URL, List-Unsubscribe-Post (RFC 8058), and a footer
 *		link goes into the primary HTML part (before the pixel) and the
 *		primary text part. Added links are never click-tracked.
 *
 *	Gates	Nothing is changed when click, open and unsubscribe are all
 *		off; when the marker header (marker_header) is present (already
 *		processed); when a DKIM-Signature is present and rewrite_signed
 *		is off; for a top-level multipart/signed, multipart/encrypted or
 *		application/pkcs7-mime; above max_size. The opt-out header
 *		(optout_header, value off/no/false/0) is removed by a header edit
 *		and nothing else is done. Every processed message that is changed
 *		(and every opted-out one) gets the marker header, which is what
 *		makes a second pass change nothing.
 *
 * HEADER EDITS
 *	Made in order, with the libmilter semantics of smfi_addheader and
 *	smfi_chgheader: RW_HDR_ADD appends a field; RW_HDR_CHANGE replaces
 *	the index-th field of that name (1-based, names compared without
 *	case), or adds it when there is none; RW_HDR_DELETE removes the
 *	index-th field of that name (deletions come in descending index
 *	order). Values carry no leading space.
 *
 * CALLBACKS
 *	click_url(arg, url, len, index, kind, out) appends the full new URL
 *	(e.g. https://t.example.com/c/TOKEN) for the entity-decoded original
 *	url; index counts rewritten links in the message from 0 (HTML parts
 *	first, in order, then text parts; a text link whose URL was rewritten
 *	in the HTML gets that link's index); kind says which part. Returning
 *	false (or an empty or non-http(s) URL) leaves that link untouched.
 *	open_url(arg, out) and unsub_url(arg, out) append the pixel and
 *	unsubscribe URLs; false or empty means none. Callbacks must not keep
 *	the url pointer.
 *
 * ERRORS
 *	An engine error never loses mail: on RW_FAILED (out of memory, a
 *	limit) and on RW_UNCHANGED the caller delivers the message as it is.
 *	r.reason is a static string and always set unless the status is
 *	RW_MODIFIED with nothing worth saying.
 *
 * THREADS
 *	No global state: any number of messages may be rewritten at once.
 */
#ifndef SG_RW_REWRITE_H
#define SG_RW_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* which kind of part a link is in */
typedef enum rw_part_kind { RW_PART_HTML = 0, RW_PART_TEXT = 1 } rw_part_kind;

typedef bool (*rw_click_fn)(void *arg, const char *url, size_t len, unsigned link_index,
                            rw_part_kind kind, buf *out);
typedef bool (*rw_url_fn)(void *arg, buf *out);

/* a top-level header field as the MTA gives it */
typedef struct rw_header {
    const char *name;
    const char *value; /* NUL-terminated, possibly folded, leading space optional */
} rw_header;

typedef struct rw_options {
    bool click;                   /* rewrite links */
    bool open;                    /* add the pixel */
    bool unsubscribe;             /* List-Unsubscribe headers and footer links */
    bool track_text;              /* also rewrite links in text/plain parts */
    bool rewrite_signed;          /* rewrite even when a DKIM-Signature is present */
    const char *const *own_hosts; /* tracking hosts whose links are never re-wrapped */
    size_t n_own_hosts;
    const char *const *excluded_domains; /* destinations never tracked (and subdomains) */
    size_t n_excluded_domains;
    unsigned max_links;           /* rewritten (or already tracked) links per message */
    size_t max_url_length;        /* longer originals are left alone (decoded bytes) */
    size_t max_size;              /* bodies above this are left alone; 0 = no limit */
    const char *optout_header;    /* whole-message opt-out, removed; NULL/"" = none */
    const char *marker_header;    /* processed marker; NULL/"" = none (not idempotent!) */
    const char *unsubscribe_text; /* text of the footer links */
    rw_click_fn click_url;
    rw_url_fn open_url;
    rw_url_fn unsub_url;
    void *cb_arg;
} rw_options;

/* why a link was left alone (rw_stats.skipped) */
typedef enum rw_skip {
    RW_SKIP_NOT_HTTP = 0, /* mailto:, tel:, javascript:, cid:, ftp:, data:, ... */
    RW_SKIP_RELATIVE,     /* relative, protocol-relative, #fragment, empty */
    RW_SKIP_INVALID,      /* control characters, no host */
    RW_SKIP_PLACEHOLDER,  /* {{x}}, {x}, %x%, *|x|*, [[x]], %7B%7B */
    RW_SKIP_OWN,          /* already on an own tracking host */
    RW_SKIP_EXCLUDED,     /* excluded destination domain */
    RW_SKIP_UNSUBSCRIBE,  /* looks like an unsubscribe link */
    RW_SKIP_OPTOUT,       /* per-link opt-out marker (or opted out in the HTML) */
    RW_SKIP_LENGTH,       /* longer than max_url_length */
    RW_SKIP_CAP,          /* max_links reached */
    RW_SKIP_CALLBACK,     /* the click callback gave no usable URL */
    RW_SKIP__COUNT
} rw_skip;

typedef struct rw_stats {
    unsigned links_rewritten;
    unsigned skipped[RW_SKIP__COUNT];
    unsigned markers_stripped; /* opt-out markers and +notrack schemes removed */
    unsigned parts_rewritten;  /* parts whose content changed */
    unsigned parts_skipped;    /* candidate parts left alone (charset, encoding, PGP) */
    unsigned parts_broken;     /* HTML parts rewritten only up to a construct that never closes */
    bool pixel_added;
    bool unsub_headers_added;
    bool unsub_footer_added;
    bool cte_changed; /* some part switched to quoted-printable */
} rw_stats;

typedef enum rw_hdr_op { RW_HDR_ADD = 0, RW_HDR_CHANGE = 1, RW_HDR_DELETE = 2 } rw_hdr_op;

typedef struct rw_hdr_edit {
    rw_hdr_op op;
    int index;   /* RW_HDR_CHANGE / RW_HDR_DELETE: 1-based among fields of this name */
    char *name;  /* owned */
    char *value; /* owned; NULL for RW_HDR_DELETE */
} rw_hdr_edit;

#define RW_MAX_EDITS 16

typedef enum rw_status { RW_MODIFIED = 0, RW_UNCHANGED = 1, RW_FAILED = 2 } rw_status;

typedef struct rw_result {
    bool body_changed; /* body holds the complete new body */
    buf body;
    rw_hdr_edit edits[RW_MAX_EDITS];
    size_t n_edits;
    rw_stats stats;
    const char *reason; /* static text: why nothing (or less) was done */
} rw_result;

void rw_options_init(rw_options *o);
rw_status rw_rewrite(const rw_header *hdrs, size_t n_hdrs, const unsigned char *body, size_t len,
                     const rw_options *o, rw_result *r);
void rw_result_free(rw_result *r);
const char *rw_status_name(rw_status s);

#endif
