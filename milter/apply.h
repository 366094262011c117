/*
 * apply.h - what end of message changes, and sending it to the MTA
 *
 * The rewrite step (tracking.c) produces header edits and possibly a new
 * body; apply_result sends them with smfi_addheader / smfi_chgheader and
 * smfi_replacebody in pieces of at most 64 KiB, calling smfi_progress
 * between pieces of a large body so the MTA's timeout does not expire.
 */
#ifndef SG_MILTER_APPLY_H
#define SG_MILTER_APPLY_H

#include <libmilter/mfapi.h>
#include <stdbool.h>

#include "lib/buf.h"

#define APPLY_CHUNK 65536

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
