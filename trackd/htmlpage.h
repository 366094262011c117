/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * htmlpage.h - the few small HTML pages sendgate-trackd shows
 *
 * SYNOPSIS
 *	htmlpage_notfound(&body);                               404 for any bad link
 *	htmlpage_unsub(&body, HTMLPAGE_CONFIRM, domain, rcpt);  GET /u/: a button that POSTs
 *	htmlpage_unsub(&body, HTMLPAGE_DONE, domain, rcpt);     after the POST
 *	htmlpage_status(&body, 413, "Request too large");
 *
 * DESCRIPTION
 *	Neutral, self-contained pages (no scripts, no external resources, inline
 *	style only) in English. Every inserted value is HTML-escaped; the
 *	recipient address is shown masked ("j***@example.org"), since the page
 *	may be fetched by anyone who holds the link.
 */
#ifndef SG_TRACKD_HTMLPAGE_H
#define SG_TRACKD_HTMLPAGE_H

#include "lib/buf.h"

enum htmlpage_unsub {
    HTMLPAGE_CONFIRM, /* GET: ask, with a button */
    HTMLPAGE_DONE,    /* POST recorded (or already recorded) */
    HTMLPAGE_NOBODY,  /* the token names no recipient: nothing can be recorded */
    HTMLPAGE_FAILED,  /* could not record now: try again */
};

void htmlpage_notfound(buf *out);
void htmlpage_unsub(buf *out, enum htmlpage_unsub kind, const char *domain, const char *rcpt);
void htmlpage_status(buf *out, int status, const char *text);
void htmlpage_escape(buf *out, const char *s);
void htmlpage_mask_addr(const char *addr, char *out, size_t outlen);

#endif
