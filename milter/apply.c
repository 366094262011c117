/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * apply.c - send header edits and a new body to the MTA (see apply.h)
 */
#include "milter/apply.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "milter/mlt.h"

void apply_init(apply_result *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body);
}

void apply_free(apply_result *r)
{
    for (size_t i = 0; i < r->n_edits; i++) {
        free(r->edits[i].name);
        free(r->edits[i].value);
    }
    free(r->edits);
    buf_free(&r->body);
    apply_init(r);
}

/* apply_edit_add - queue one header change */
bool apply_edit_add(apply_result *r, char op, const char *name, int index, const char *value)
{
    apply_edit *e;

    if (r->n_edits == r->cap_edits) {
        size_t cap = r->cap_edits ? r->cap_edits * 2 : 8;
        apply_edit *v = realloc(r->edits, cap * sizeof(*v));
        if (v == NULL)
            return false;
        r->edits = v;
        r->cap_edits = cap;
    }
    e = &r->edits[r->n_edits];
    e->op = op;
    e->index = index;
    e->name = strdup(name);
    e->value = value ? strdup(value) : NULL;
    if (e->name == NULL || (value && e->value == NULL)) {
        free(e->name);
        free(e->value);
        return false;
    }
    r->n_edits++;
    return true;
}

/* apply_body - the new body: pieces back to back, nothing in between (see apply.h) */
static bool apply_body(SMFICTX *ctx, const char *qid, const buf *body)
{
    size_t off = 0, len = body->len;
    const unsigned char *p = (const unsigned char *)buf_cstr(body);

    do {
        size_t n = len - off > APPLY_CHUNK ? APPLY_CHUNK : len - off;
        if (mlt_replacebody(ctx, p + off, n) != MI_SUCCESS) {
            log_qid(LOG_WARNING, qid, "smfi_replacebody failed after %zu of %zu bytes", off, len);
            return false;
        }
        off += n;
    } while (off < len);
    return true;
}

/* apply_send - progress, every edit, then the body; false when the MTA refused one */
bool apply_send(SMFICTX *ctx, const char *qid, const apply_result *r)
{
    bool ok = true;

    if (r->body_changed && r->body.len >= APPLY_PROGRESS && mlt_progress(ctx) != MI_SUCCESS) {
        log_qid(LOG_WARNING, qid, "smfi_progress failed");
        ok = false;
    }
    for (size_t i = 0; i < r->n_edits; i++) {
        const apply_edit *e = &r->edits[i];
        int rc = e->op == 'a'
                         ? mlt_addheader(ctx, e->name, e->value)
                         : mlt_chgheader(ctx, e->name, e->index, e->op == 'd' ? NULL : e->value);
        if (rc != MI_SUCCESS) {
            log_qid(LOG_WARNING, qid, "%s header %s failed", e->op == 'a' ? "adding" : "changing",
                    e->name);
            ok = false;
        }
    }
    if (r->body_changed && !apply_body(ctx, qid, &r->body))
        ok = false;
    return ok;
}
