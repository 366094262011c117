/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * reply.c - a verdict as an SMTP reply through smfi_setreply (see reply.h)
 */
#include "milter/reply.h"

#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "milter/mlt.h"

/* reply_text - text safe for smfi_setreply: '%' doubled, printable ASCII only */
static void reply_text(const char *text, char *out, size_t len)
{
    size_t n = 0;

    for (const char *p = text; *p && n + 2 < len; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%') {
            out[n++] = '%';
            out[n++] = '%';
        } else {
            out[n++] = c >= ' ' && c < 0x7f ? (char)c : ' ';
        }
    }
    out[n] = '\0';
}

/* reply_verdict - SMFIS_REJECT/TEMPFAIL with the reply set, or SMFIS_CONTINUE */
sfsistat reply_verdict(SMFICTX *ctx, const verdict *v, const char *qid, const char *stage)
{
    char text[VERDICT_TEXT_MAX * 2 + 1], code[8];

    if (v->action == CONF_ACCEPT)
        return SMFIS_CONTINUE;
    reply_text(v->text, text, sizeof(text));
    snprintf(code, sizeof(code), "%d", v->code);
    if (mlt_setreply(ctx, code, v->esc, text) != MI_SUCCESS)
        log_qid(LOG_WARNING, qid, "smfi_setreply failed; the MTA uses its default reply");
    if (mlt_testmode)
        mlt_test_action("%s %s %s %s", v->action == CONF_REJECT ? "REJECT" : "TEMPFAIL", code,
                        v->esc, v->text);
    log_qid(LOG_INFO, qid, "%s at %s: %d %s %s [%s]",
            v->action == CONF_REJECT ? "reject" : "tempfail", stage, v->code, v->esc, v->text,
            v->row);
    return v->action == CONF_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}
