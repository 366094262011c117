/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * reply.h - a verdict as the milter's SMTP reply (smfi_setreply)
 *
 * The verdict's text is already printable ASCII without CR/LF
 * (cache/verdict.c). smfi_setreply interprets '%' as a format
 * character, so every '%' is doubled; the text is bounded well under
 * libmilter's 980-octet reply limit.
 */
#ifndef SG_MILTER_REPLY_H
#define SG_MILTER_REPLY_H

#include <libmilter/mfapi.h>

#include "cache/verdict.h"

sfsistat reply_verdict(SMFICTX *ctx, const verdict *v, const char *qid, const char *stage);

#endif
