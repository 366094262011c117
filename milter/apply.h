/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * apply.h - what end of message changes, and sending it to the MTA
 *
 * The rewrite step (tracking.c) produces header edits and possibly a new
 * body; apply_send sends them with smfi_addheader / smfi_chgheader and
 * smfi_replacebody in pieces of MILTER_CHUNK_SIZE.
 *
 * ORDER
 *	Postfix takes a new body only as one unbroken run of REPLBODY
 *	pieces: any other reply after a piece ends the body, and a piece
 *	after that makes it drop the milter and answer 451 4.3.5, at every
 *	attempt (src/milter/milter8.c). So the body goes last and in one
 *	go: smfi_progress (for a large body, once the rewriting is done),
 *	then the header edits, then every piece of the body; nothing may be
 *	sent between two pieces, not even smfi_progress. The caller sends
 *	its recipient changes before apply_send and nothing after it.
 */
#ifndef SG_MILTER_APPLY_H
#define SG_MILTER_APPLY_H

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <stdbool.h>

#include "lib/buf.h"

#define APPLY_CHUNK    MILTER_CHUNK_SIZE /* what libmilter sends in one REPLBODY */
#define APPLY_PROGRESS (1024 * 1024)     /* a new body this large: progress before it */

typedef struct apply_edit {
    char op; /* 'a' add, 'c' change, 'd' delete */
    char *name;
    int index;   /* 'c'/'d': which field of that name, 1-based */
    char *value; /* 'a'/'c' */
} apply_edit;

typedef struct apply_result {
    apply_edit *edits;
    size_t n_edits, cap_edits;
    buf body; /* the new body, when body_changed */
    bool body_changed;
} apply_result;

void apply_init(apply_result *r);
void apply_free(apply_result *r);
bool apply_edit_add(apply_result *r, char op, const char *name, int index, const char *value);
bool apply_send(SMFICTX *ctx, const char *qid, const apply_result *r);

#endif
