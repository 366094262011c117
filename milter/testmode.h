/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testmode.h - `sendgate-milter -t MESSAGE`: the callbacks without an MTA
 *
 * Reads a message file (LF or CRLF), plays connect, MAIL FROM, RCPT TO,
 * DATA, every header, end of header, the body (as CRLF, in 64 KiB
 * chunks, as an MTA sends it) and end of message through the very same
 * callbacks the daemon uses, with mlt.c in test mode. Every action is
 * printed on stderr, one per line (REJECT 550 5.7.1 text, TEMPFAIL ...,
 * ADDRCPT addr args, DELRCPT addr, ADDHEADER name: value, CHGHEADER name
 * index: value, PROGRESS, REPLBODY bytes, ACCEPT); the message as it would
 * be delivered goes to stdout, in the input's line-ending style (nothing
 * when it was refused). The calls are checked as libmilter and Postfix
 * check them (mlt.h): one libmilter would refuse is printed as "LIBMILTER
 * REFUSED ..." (the change is lost); one Postfix would refuse as "MTA
 * REFUSED ..." followed by "TEMPFAIL 451 4.3.5 ...", and nothing is
 * delivered. Either way the exit status is 70 (EX_SOFTWARE); otherwise it
 * is 0 unless the run itself failed.
 */
#ifndef SG_MILTER_TESTMODE_H
#define SG_MILTER_TESTMODE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct testmode_args {
    const char *message;
    const char *from;
    const char *auth;
    const char *client_ip;
    const char *daemon_name;
    const char *queue_id;
    char **rcpts;
    size_t n_rcpts;
} testmode_args;

bool testmode_add_rcpt(testmode_args *t, const char *rcpt);
void testmode_free(testmode_args *t);
int testmode_run(const testmode_args *t);

#endif
