/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decide.h - the answers sendgate-policyd gives, from the cache
 *
 * SYNOPSIS
 *	decide_ctx *d = decide_new(cfg, cache, &internal_networks);
 *	d->now = time(NULL);
 *	action = decide_policy(d, &req, &v);        v: the verdict (cache/verdict.h)
 *	policy_reply_verdict(&out, &v);             "action=...\n\n" (policy.c)
 *	decide_smap(d, &smap_req, &res);            res: status and value
 *	smap_reply(&out, res.status, buf_cstr(&res.value));    the netstring (smap.c)
 *
 * DESCRIPTION
 *	Policy requests (SMTPD_POLICY_README), in this order, the strictest
 *	outcome winning (verdict_combine: reject > tempfail > accept; the
 *	first among equals):
 *	  1. the sender check (cache/verdict.h, the same decision and texts as
 *	     the milter) at MAIL, RCPT, DATA and END-OF-MESSAGE, for the mail
 *	     policy_scope selects: all, outgoing (verdict_outgoing:
 *	     SASL-authenticated clients, clients in internal_networks,
 *	     policy_context in outgoing_contexts) or none;
 *	  2. at RCPT, when inbound_checks is on and the recipient's domain is a
 *	     cached inbound domain: the provider edge's rules (inbound.h);
 *	  3. at RCPT, under the same scope as 1: a recipient who unsubscribed
 *	     from the sending domain (handling.suppressed_recipient).
 *	Actions: DUNNO; "550 5.7.1 text" (reject: the milter's code, not
 *	REJECT's 554); "451 4.7.1 text" (tempfail, as the milter).
 *	Postfix prefixes the text with "<recipient>: Recipient address
 *	rejected: " (or "Sender address" when asked at MAIL FROM).
 *
 *	Socketmap maps (keys as Postfix sends them):
 *	  relay      domain -> "OK domain" for an active inbound domain
 *	  transport  local@domain or domain -> inbound_transport ("*" NOTFOUND)
 *	  forward    local@domain or @domain -> comma-separated destinations
 *	Postfix gives socketmap tables only whole keys (socketmap_table(5)):
 *	transport_maps and virtual_alias_maps ask with the recipient address.
 *	A cache that cannot be read gives TEMP; an unknown map PERM.
 */
#ifndef SG_POLICYD_DECIDE_H
#define SG_POLICYD_DECIDE_H

#include <stdint.h>

#include "cache/cache.h"
#include "cache/verdict.h"
#include "lib/conf.h"
#include "lib/netlist.h"
#include "policyd/policy.h"
#include "policyd/smap.h"

typedef struct decide_ctx {
    const conf *cfg;
    cache *cache;
    const netlist *internal; /* policyd.internal_networks, parsed */
    int64_t now;             /* wall clock of the current event-loop turn */
    cache_outbound rec;      /* scratch: one outbound record (large, so not on the stack) */
} decide_ctx;

decide_ctx *decide_new(const conf *cfg, cache *c, const netlist *internal);
void decide_free(decide_ctx *d);
int decide_policy(decide_ctx *d, const policy_req *r, verdict *out);
void decide_smap(decide_ctx *d, const smap_req *q, smap_result *out);

#endif
