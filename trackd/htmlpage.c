/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * htmlpage.c - trackd's HTML pages: not found, unsubscribe confirmation and result
 *
 * Built per request into a buf by the request handler (see htmlpage.h).
 */
#include "trackd/htmlpage.h"

#include <stdio.h>
#include <string.h>

static const char htmlpage_head[] =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta name=\"robots\" content=\"noindex, nofollow\"><title>";
static const char htmlpage_style[] =
        "</title><style>body{font-family:sans-serif;max-width:32em;margin:4em auto;"
        "padding:0 1em;color:#222}button{font-size:1em;padding:.5em 1.5em}</style></head>"
        "<body>\n";
static const char htmlpage_tail[] = "</body></html>\n";

/* htmlpage_escape - text as HTML character data or attribute value */
void htmlpage_escape(buf *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            buf_append_str(out, "&amp;");
            break;
        case '<':
            buf_append_str(out, "&lt;");
            break;
        case '>':
            buf_append_str(out, "&gt;");
            break;
        case '"':
            buf_append_str(out, "&quot;");
            break;
        case '\'':
            buf_append_str(out, "&#39;");
            break;
        default:
            buf_putc(out, *s);
        }
    }
}

/* htmlpage_open - doctype, title and style */
static void htmlpage_open(buf *out, const char *title)
{
    buf_append_str(out, htmlpage_head);
    htmlpage_escape(out, title);
    buf_append_str(out, htmlpage_style);
}

/* htmlpage_mask_addr - "jane@example.org" as "j***@example.org" */
void htmlpage_mask_addr(const char *addr, char *out, size_t outlen)
{
    const char *at = strrchr(addr, '@');

    if (at == NULL || at == addr)
        snprintf(out, outlen, "***");
    else
        snprintf(out, outlen, "%c***%s", addr[0], at);
}

/* htmlpage_notfound - the neutral page for every invalid, tampered or revoked link */
void htmlpage_notfound(buf *out)
{
    htmlpage_open(out, "Link not found");
    buf_append_str(out, "<h1>Link not found</h1>\n<p>This link is not valid or no longer "
                        "available.</p>\n");
    buf_append_str(out, htmlpage_tail);
}

/* htmlpage_unsub - the unsubscribe pages */
void htmlpage_unsub(buf *out, enum htmlpage_unsub kind, const char *domain, const char *rcpt)
{
    char masked[400];

    htmlpage_mask_addr(rcpt, masked, sizeof(masked));
    htmlpage_open(out, "Unsubscribe");
    buf_append_str(out, "<h1>Unsubscribe</h1>\n<p>");
    switch (kind) {
    case HTMLPAGE_CONFIRM:
        buf_append_str(out, "Stop mail from <strong>");
        htmlpage_escape(out, domain);
        buf_append_str(out, "</strong> to <strong>");
        htmlpage_escape(out, masked);
        buf_append_str(out, "</strong>?</p>\n<form method=\"post\">"
                            "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
                            "<button type=\"submit\">Unsubscribe</button></form>\n");
        break;
    case HTMLPAGE_DONE:
        htmlpage_escape(out, masked);
        buf_append_str(out, " is unsubscribed: <strong>");
        htmlpage_escape(out, domain);
        buf_append_str(out, "</strong> will send it no more mail through this service.</p>\n");
        break;
    case HTMLPAGE_NOBODY:
        buf_append_str(out, "This message was sent to several recipients at once, so this "
                            "link cannot tell who you are and cannot unsubscribe you. Please "
                            "contact the sender, <strong>");
        htmlpage_escape(out, domain);
        buf_append_str(out, "</strong>.</p>\n");
        break;
    case HTMLPAGE_FAILED:
        buf_append_str(out, "Your request could not be recorded right now. Please try again in "
                            "a few minutes.</p>\n");
        break;
    }
    buf_append_str(out, htmlpage_tail);
}

/* htmlpage_status - a minimal page for an HTTP error */
void htmlpage_status(buf *out, int status, const char *text)
{
    char title[80];

    snprintf(title, sizeof(title), "%d %s", status, text);
    htmlpage_open(out, title);
    buf_append_str(out, "<h1>");
    htmlpage_escape(out, title);
    buf_append_str(out, "</h1>\n");
    buf_append_str(out, htmlpage_tail);
}
