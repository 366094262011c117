/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy.h - the Postfix SMTP access policy delegation protocol, as pure functions
 *
 * SYNOPSIS
 *	policy_scan st = POLICY_SCAN_INIT;
 *	rc = policy_frame(buf, len, &limits, &st, &reqlen, &why);
 *	if (rc == POLICY_DONE && policy_parse(buf, reqlen, &req, &why) == POLICY_DONE)
 *		... req.v[PA_SENDER] ...; policy_reply(&out, "DUNNO");
 *	policy_reply_verdict(&out, &v);          DUNNO, or "550 5.7.1 text" for a refusal
 *
 * DESCRIPTION
 *	A request is "name=value" lines ended by an empty line; the answer is
 *	exactly one "action=..." line plus an empty line (SMTPD_POLICY_README).
 *	One connection carries many requests, possibly pipelined.
 *
 *	policy_frame finds where the request at the start of buf ends. It is
 *	resumable: st remembers how far it got, so data arriving one byte at a
 *	time costs linear time. It enforces the size limits as it goes, so an
 *	endless line is refused as soon as it passes the limit, not when
 *	memory runs out.
 *
 *	policy_parse splits one request policy_frame accepted (so without NUL
 *	bytes) in place: for the attributes sendgate uses, the '=' and the
 *	newline become NULs; every other attribute is ignored, as the protocol
 *	asks, but must still be a "name=value" line.
 *
 * ERRORS
 *	POLICY_BAD with a reason: a line too long, a request too large, a NUL
 *	byte, a line without '=', an empty name, an empty request, a missing
 *	or unknown "request" type. The daemon then logs the reason and closes
 *	the connection without an answer, so Postfix applies its own default.
 */
#ifndef SG_POLICYD_POLICY_H
#define SG_POLICYD_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "cache/verdict.h"
#include "lib/buf.h"

enum policy_rc { POLICY_BAD = -1, POLICY_MORE = 0, POLICY_DONE = 1 };

/* attributes sendgate reads; everything else Postfix sends is ignored */
enum policy_attr {
    PA_REQUEST,
    PA_PROTOCOL_STATE,
    PA_PROTOCOL_NAME,
    PA_SENDER,
    PA_RECIPIENT,
    PA_CLIENT_ADDRESS,
    PA_CLIENT_NAME,
    PA_SASL_USERNAME,
    PA_QUEUE_ID,
    PA_INSTANCE,
    PA_POLICY_CONTEXT,
    PA__COUNT
};

typedef struct policy_limits {
    size_t max_request; /* bytes of one request, blank line included */
    size_t max_line;    /* bytes of one name=value line, newline included */
} policy_limits;

typedef struct policy_scan {
    size_t pos;        /* bytes already examined */
    size_t line_start; /* offset where the current line began */
} policy_scan;

#define POLICY_SCAN_INIT \
    {                    \
        0, 0             \
    }

typedef struct policy_req {
    const char *v[PA__COUNT]; /* NULL when the attribute was absent */
    size_t n_attrs;           /* lines in the request, known or not */
} policy_req;

int policy_frame(const char *data, size_t len, const policy_limits *lim, policy_scan *st,
                 size_t *reqlen, const char **why);
int policy_parse(char *req, size_t len, policy_req *out, const char **why);
const char *policy_attr_name(enum policy_attr a);
const char *policy_get(const policy_req *r, enum policy_attr a);
bool policy_reply(buf *out, const char *action);
bool policy_reply_verdict(buf *out, const verdict *v);

#endif
