/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mlt.c - the smfi_* wrapper layer (see mlt.h)
 */
#include "milter/mlt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool mlt_testmode;

#define MLT_MACROS_MAX 32

static struct {
    void *priv;
    char *macro_name[MLT_MACROS_MAX];
    char *macro_value[MLT_MACROS_MAX];
    size_t n_macros;
    mlt_record rec;
    buf *capture; /* action lines go here instead of stderr */
    bool in_eom;  /* inside the end-of-message callback (mlt_test_eom) */
    enum { MLT_BODY_NONE, MLT_BODY_SENDING, MLT_BODY_DONE } body; /* this message's new body */
} mlt_test;

/* mlt_test_action - one action line ("ADDRCPT <a@b> NOTIFY=NEVER") on stderr */
void mlt_test_action(const char *fmt, ...)
{
    va_list ap;
    char line[2048];

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (mlt_test.capture)
        buf_printf(mlt_test.capture, "%s\n", line);
    else
        fprintf(stderr, "%s\n", line);
}

/* mlt_edit_add - record a header or recipient change for the test driver */
static void mlt_edit_add(char kind, const char *name, int index, const char *value)
{
    mlt_record *r = &mlt_test.rec;
    mlt_edit *e;

    if (r->n_edits == r->cap_edits) {
        size_t cap = r->cap_edits ? r->cap_edits * 2 : 16;
        mlt_edit *v = realloc(r->edits, cap * sizeof(*v));
        if (v == NULL)
            return;
        r->edits = v;
        r->cap_edits = cap;
    }
    e = &r->edits[r->n_edits++];
    e->kind = kind;
    e->name = name ? strdup(name) : NULL;
    e->index = index;
    e->value = value ? strdup(value) : NULL;
}

void mlt_test_begin(void)
{
    mlt_test_end();
    mlt_testmode = true;
}

/* mlt_test_end - forget macros and recorded actions */
void mlt_test_end(void)
{
    mlt_record *r = &mlt_test.rec;

    for (size_t i = 0; i < mlt_test.n_macros; i++) {
        free(mlt_test.macro_name[i]);
        free(mlt_test.macro_value[i]);
    }
    mlt_test.n_macros = 0;
    for (size_t i = 0; i < r->n_edits; i++) {
        free(r->edits[i].name);
        free(r->edits[i].value);
    }
    free(r->edits);
    buf_free(&r->body);
    buf_free(&r->reply);
    memset(r, 0, sizeof(*r));
    mlt_test.priv = NULL;
    mlt_test.in_eom = false;
    mlt_test.body = MLT_BODY_NONE;
}

void mlt_test_capture(buf *lines)
{
    mlt_test.capture = lines;
}

/* mlt_test_macro - a macro the "MTA" knows ({auth_authen}, i, {daemon_name}) */
void mlt_test_macro(const char *name, const char *value)
{
    for (size_t i = 0; i < mlt_test.n_macros; i++)
        if (strcmp(mlt_test.macro_name[i], name) == 0) {
            free(mlt_test.macro_value[i]);
            mlt_test.macro_value[i] = strdup(value);
            return;
        }
    if (mlt_test.n_macros < MLT_MACROS_MAX) {
        mlt_test.macro_name[mlt_test.n_macros] = strdup(name);
        mlt_test.macro_value[mlt_test.n_macros++] = strdup(value);
    }
}

mlt_record *mlt_test_record(void)
{
    return &mlt_test.rec;
}

/* mlt_test_eom - the end-of-message callback, where libmilter allows changes */
sfsistat mlt_test_eom(SMFICTX *ctx, sfsistat (*eom)(SMFICTX *))
{
    sfsistat rc;

    mlt_test.in_eom = true;
    mlt_test.body = MLT_BODY_NONE;
    rc = eom(ctx);
    mlt_test.in_eom = false;
    return rc;
}

/*
 * mlt_test_reply - may this reply be sent now? what = the request, for the log
 *
 * libmilter allows changes and progress only inside the end-of-message
 * callback. Postfix ends a new body at any other reply after it (see mlt.h).
 */
static bool mlt_test_reply(const char *what, bool replbody)
{
    if (mlt_test.rec.mta_failed)
        return false; /* the MTA closed the connection */
    if (!mlt_test.in_eom) {
        mlt_test_action("LIBMILTER REFUSED %s: outside the end-of-message callback", what);
        mlt_test.rec.lib_refused++;
        return false;
    }
    if (!replbody) {
        if (mlt_test.body == MLT_BODY_SENDING)
            mlt_test.body = MLT_BODY_DONE;
        return true;
    }
    if (mlt_test.body == MLT_BODY_DONE) {
        mlt_record *r = &mlt_test.rec;
        r->mta_failed = true;
        r->mta_why = "body replacement requests can't currently be mixed with other requests";
        mlt_test_action("MTA REFUSED %s: %s", what, r->mta_why);
        return false;
    }
    mlt_test.body = MLT_BODY_SENDING;
    return true;
}

void *mlt_getpriv(SMFICTX *ctx)
{
    return mlt_testmode ? mlt_test.priv : smfi_getpriv(ctx);
}

int mlt_setpriv(SMFICTX *ctx, void *priv)
{
    if (!mlt_testmode)
        return smfi_setpriv(ctx, priv);
    mlt_test.priv = priv;
    return MI_SUCCESS;
}

/* mlt_getsymval - a macro's value or NULL; accepts "{name}" and "name" alike in test mode */
const char *mlt_getsymval(SMFICTX *ctx, const char *name)
{
    if (!mlt_testmode)
        return smfi_getsymval(ctx, (char *)name);
    for (size_t i = 0; i < mlt_test.n_macros; i++)
        if (strcmp(mlt_test.macro_name[i], name) == 0)
            return mlt_test.macro_value[i];
    return NULL;
}

int mlt_setreply(SMFICTX *ctx, const char *rcode, const char *xcode, const char *text)
{
    if (!mlt_testmode)
        return smfi_setreply(ctx, (char *)rcode, (char *)xcode, (char *)text);
    snprintf(mlt_test.rec.rcode, sizeof(mlt_test.rec.rcode), "%s", rcode);
    snprintf(mlt_test.rec.xcode, sizeof(mlt_test.rec.xcode), "%s", xcode);
    buf_reset(&mlt_test.rec.reply);
    buf_append_str(&mlt_test.rec.reply, text);
    return MI_SUCCESS;
}

/* mlt_addrcpt - with ESMTP arguments when given (the caller knows the MTA supports them) */
int mlt_addrcpt(SMFICTX *ctx, const char *rcpt, const char *args)
{
    if (!mlt_testmode)
        return args ? smfi_addrcpt_par(ctx, (char *)rcpt, (char *)args)
                    : smfi_addrcpt(ctx, (char *)rcpt);
    if (!mlt_test_reply("ADDRCPT", false))
        return MI_FAILURE;
    mlt_test_action("ADDRCPT %s%s%s", rcpt, args ? " " : "", args ? args : "");
    mlt_edit_add('r', NULL, 0, rcpt);
    return MI_SUCCESS;
}

int mlt_delrcpt(SMFICTX *ctx, const char *rcpt)
{
    if (!mlt_testmode)
        return smfi_delrcpt(ctx, (char *)rcpt);
    if (!mlt_test_reply("DELRCPT", false))
        return MI_FAILURE;
    mlt_test_action("DELRCPT %s", rcpt);
    mlt_edit_add('d', NULL, 0, rcpt);
    return MI_SUCCESS;
}

int mlt_addheader(SMFICTX *ctx, const char *name, const char *value)
{
    if (!mlt_testmode)
        return smfi_addheader(ctx, (char *)name, (char *)value);
    if (!mlt_test_reply("ADDHEADER", false))
        return MI_FAILURE;
    mlt_test_action("ADDHEADER %s: %s", name, value);
    mlt_edit_add('a', name, 0, value);
    return MI_SUCCESS;
}

/* mlt_chgheader - change the index-th (1-based) field called name; value NULL deletes it */
int mlt_chgheader(SMFICTX *ctx, const char *name, int index, const char *value)
{
    if (!mlt_testmode)
        return smfi_chgheader(ctx, (char *)name, index, (char *)value);
    if (!mlt_test_reply("CHGHEADER", false))
        return MI_FAILURE;
    if (value)
        mlt_test_action("CHGHEADER %s %d: %s", name, index, value);
    else
        mlt_test_action("CHGHEADER %s %d: (deleted)", name, index);
    mlt_edit_add('c', name, index, value);
    return MI_SUCCESS;
}

/* mlt_replacebody - one piece of the new body (callers send <= 64 KiB at a time) */
int mlt_replacebody(SMFICTX *ctx, const unsigned char *data, size_t len)
{
    if (!mlt_testmode)
        return smfi_replacebody(ctx, (unsigned char *)data, (int)len);
    if (!mlt_test_reply("REPLBODY", true))
        return MI_FAILURE;
    mlt_test.rec.body_replaced = true;
    mlt_test.rec.body_pieces++;
    buf_append(&mlt_test.rec.body, data, len);
    return MI_SUCCESS;
}

int mlt_progress(SMFICTX *ctx)
{
    if (!mlt_testmode)
        return smfi_progress(ctx);
    if (!mlt_test_reply("PROGRESS", false))
        return MI_FAILURE;
    mlt_test_action("PROGRESS");
    return MI_SUCCESS;
}

/* mlt_setsymlist - ask the MTA for these macros at this stage (test mode: the driver sets them) */
int mlt_setsymlist(SMFICTX *ctx, int stage, const char *macros)
{
    return mlt_testmode ? MI_SUCCESS : smfi_setsymlist(ctx, stage, (char *)macros);
}
