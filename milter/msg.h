/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg.h - one SMTP transaction as sendgate-milter keeps it
 *
 * From MAIL FROM to end of message or abort: what the callbacks gather
 * (sender, recipients, header fields, From: addresses, the body) and what
 * they decide (the verdict), read again by the rewrite step (tracking.c).
 * Header fields are kept for the rewrite step within MSG_MAX_HEADERS and
 * MSG_MAX_HEADER_BYTES: beyond either bound the message is delivered
 * unchanged (too_many_headers); the From: fields are judged wherever
 * they are, since they are read as they arrive.
 */
#ifndef SG_MILTER_MSG_H
#define SG_MILTER_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "cache/record.h"
#include "cache/verdict.h"
#include "lib/addr.h"
#include "lib/conf.h"
#include "lib/domain.h"
#include "milter/body.h"

#define MSG_MAX_HEADERS      1000
#define MSG_MAX_HEADER_BYTES (1024 * 1024)
#define MSG_MAX_DOMAINS      ADDR_FROM_DOMAINS /* distinct From: domains judged */
#define MSG_QID_MAX          64

typedef struct milter_header {
    char *name;
    char *value;
} milter_header;

typedef struct milter_msg {
    char qid[MSG_QID_MAX];
    char sender[ADDR_MAX]; /* "" = null sender */
    char env_domain[DOMAIN_MAX];
    bool have_env_domain;
    char **rcpts; /* accepted recipients, as given (without <>) */
    size_t n_rcpts, cap_rcpts;
    milter_header *hdrs;
    size_t n_hdrs, cap_hdrs, hdr_bytes;
    bool too_many_headers;
    addr_from from; /* every From: field, read as it arrives (domain_source = header) */
    char domains[MSG_MAX_DOMAINS][DOMAIN_MAX]; /* sending domain(s) decided on */
    size_t n_domains;
    const char *domain_from; /* "header", "envelope", "envelope (no From: address)" */
    cache_outbound *rec;     /* record of the domain the settings come from */
    verdict v;
    verdict refuse; /* decided at end of header, given at end of message */
    bool refusing;
    bool decided;    /* a verdict has been reached for this message */
    bool needs_body; /* tracking: the body must be collected */
    milter_body body;
    unsigned bcc_added;
    unsigned rcpts_removed;
    struct timespec started;
    char summary[256]; /* what the rewrite step did, for the log line */
} milter_msg;

milter_msg *msg_new(const conf *cfg);
void msg_free(milter_msg *m);
bool msg_add_rcpt(milter_msg *m, const char *rcpt);
void msg_keep_header(milter_msg *m, const char *name, const char *value);

#endif
