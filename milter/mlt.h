/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mlt.h - every smfi_* call sendgate-milter makes, behind a two-line wrapper
 *
 * In daemon mode each mlt_* function calls its smfi_* twin. In test mode
 * (`sendgate-milter -t`, and the unit tests) nothing talks to an MTA: the
 * wrappers answer macros from a table the test driver filled and record
 * every action, both as the line printed on stderr ("ADDRCPT <a@b> NOTIFY=NEVER")
 * and in a form the driver applies to the message it prints (OpenDMARC's
 * dmarcf_* pattern). Test mode is single-threaded.
 *
 * Test mode refuses what libmilter and Postfix refuse, so that a call
 * sequence the daemon could not get through an MTA fails here too:
 *
 *	libmilter: a modification (recipient, header, body) or progress
 *	    outside the end-of-message callback fails (MI_FAILURE) and is
 *	    counted in mlt_record.lib_refused; the driver runs that callback
 *	    through mlt_test_eom().
 *	Postfix (src/milter/milter8.c): a new body is taken only as one
 *	    unbroken run of REPLBODY pieces. Any other reply after a piece
 *	    (a header or recipient change, progress) ends the new body, and
 *	    a REPLBODY after that is a configuration error: Postfix logs
 *	    "body replacement requests can't currently be mixed with other
 *	    requests", drops the milter connection and answers 451 4.3.5 for
 *	    the message (milter_default_action = tempfail), at every attempt.
 *	    Here that piece fails, every later call fails (the connection is
 *	    gone), and mlt_record.mta_failed says so. Changes after a
 *	    complete new body are accepted, as Postfix accepts them.
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
    unsigned body_pieces; /* REPLBODY calls that made it */
    char rcode[4], xcode[16];
    buf reply;            /* last smfi_setreply text */
    bool mta_failed;      /* the MTA refused a reply: the message gets MLT_MTA_REPLY */
    const char *mta_why;  /* what it refused, as Postfix logs it */
    unsigned lib_refused; /* calls libmilter refused (outside end of message) */
} mlt_record;

#define MLT_MTA_REPLY "451 4.3.5 Server configuration problem - try again later"

void mlt_test_begin(void);
void mlt_test_macro(const char *name, const char *value);
mlt_record *mlt_test_record(void);
sfsistat mlt_test_eom(SMFICTX *ctx, sfsistat (*eom)(SMFICTX *)); /* run eom as libmilter does */
void mlt_test_action(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mlt_test_end(void);
void mlt_test_capture(buf *lines); /* collect the action lines instead of printing them */

#endif
