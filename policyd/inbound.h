/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * inbound.h - what a cached inbound domain means for relay, transport and forwarding
 *
 * SYNOPSIS
 *	const cache_in_entry *e = inbound_entry(cfg, &rec);
 *	inbound_transport(cfg, e, &out)       "smtp:[mx1.example.net]:25" or false
 *	inbound_forward(e, "support+x", &out) "team@example.org"; returns the count
 *	                                      (out may be NULL: count only)
 *	inbound_rcpt_check(e, domain, localpart, &rej)    false: reject at RCPT TO
 *
 * DESCRIPTION
 *	Pure rules over one provider's inbound entry, shared by the socketmap
 *	maps and the policy server's recipient check so both always agree.
 *	When several providers know a domain, the entry of the first provider
 *	in general.provider_order that knows it is used.
 *
 *	Forwarding mirrors the provider's inbound edge (PROVIDERS.md 1.3): a
 *	rule counts only when it is active and its destination verified, and
 *	only when the domain is active and its forward MX, DKIM, SPF and DMARC
 *	records are all verified. Matching: the exact local part, then the
 *	part before the first '+' (support+x matches support), then the
 *	catch-all "*". One local part may fan out to several destinations.
 */
#ifndef SG_POLICYD_INBOUND_H
#define SG_POLICYD_INBOUND_H

#include <stdbool.h>
#include <stddef.h>

#include "cache/record.h"
#include "lib/buf.h"
#include "lib/conf.h"

#define INBOUND_TEXT_MAX  400
#define INBOUND_LOCAL_MAX 256

typedef struct inbound_reject {
    int code;        /* 550 */
    const char *esc; /* "5.1.1", "5.1.2" */
    const char *row; /* what decided, for the log: "disabled", "dns-unverified", "no-rule" */
    char text[INBOUND_TEXT_MAX];
} inbound_reject;

const cache_in_entry *inbound_entry(const conf *cfg, const cache_inbound *rec);
bool inbound_forward_ready(const cache_in_entry *e);
bool inbound_transport(const conf *cfg, const cache_in_entry *e, buf *out);
size_t inbound_forward(const cache_in_entry *e, const char *localpart, buf *out);
bool inbound_rcpt_check(const cache_in_entry *e, const char *domain, const char *localpart,
                        inbound_reject *rej);

#endif
