/*
 * mlt.h - every smfi_* call sendgate-milter makes, behind a two-line wrapper
 *
 * In daemon mode each mlt_* function calls its smfi_* twin. In test mode
 * (`sendgate-milter -t`, and the unit tests) nothing talks to an MTA: the
 * wrappers answer macros from a table the test driver filled and record
 * every action, both as the line printed on stderr ("ADDRCPT <a@b> NOTIFY=NEVER")
 * and in a form the driver applies to the message it prints (OpenDMARC's
 * dmarcf_* pattern). Test mode is single-threaded.
 */
#ifndef SG_MILTER_MLT_H
#define SG_MILTER_MLT_H

#include <libmilter/mfapi.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

extern bool mlt_testmode;

void *mlt_getpriv(SMFICTX *ctx);
int mlt_setpriv(SMFICTX *ctx, void *priv);
const char *mlt_getsymval(SMFICTX *ctx, const char *name);
int mlt_setreply(SMFICTX *ctx, const char *rcode, const char *xcode, const char *text);
int mlt_addrcpt(SMFICTX *ctx, const char *rcpt, const char *args);
int mlt_delrcpt(SMFICTX *ctx, const char *rcpt);
int mlt_addheader(SMFICTX *ctx, const char *name, const char *value);
int mlt_chgheader(SMFICTX *ctx, const char *name, int index, const char *value);
int mlt_replacebody(SMFICTX *ctx, const unsigned char *data, size_t len);
int mlt_progress(SMFICTX *ctx);
int mlt_setsymlist(SMFICTX *ctx, int stage, const char *macros);

/* test mode: what the MTA would have told us, and what we did */
typedef struct mlt_edit {
    char kind; /* 'a' add header, 'c' change (value NULL: delete), 'r' add rcpt, 'd' del rcpt */
    char *name;
    int index;
    char *value;
} mlt_edit;

typedef struct mlt_record {
    mlt_edit *edits;
    size_t n_edits, cap_edits;
    buf body; /* replacement body, when body_replaced */
    bool body_replaced;
    char rcode[4], xcode[16];
    buf reply; /* last smfi_setreply text */
} mlt_record;

void mlt_test_begin(void);
void mlt_test_macro(const char *name, const char *value);
mlt_record *mlt_test_record(void);
void mlt_test_action(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mlt_test_end(void);
void mlt_test_capture(buf *lines); /* collect the action lines instead of printing them */

#endif
