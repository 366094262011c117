/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verdict.h - what the cache means for one message or one recipient
 *
 * The one place where provider state, the [handling] table and the
 * exempt lists become accept, reject or tempfail with an SMTP reply. The
 * milter (at MAIL FROM or end of message) and the policy server (at RCPT
 * TO) both call verdict_decide, so the same sender gets the same answer
 * and the same words from either.
 *
 * Order of the rules:
 *	1. exempt sender address (case-insensitive), null sender, exempt
 *	   domain (exact match after normalisation: case, trailing dot, IDN);
 *	   a null sender with a domain (the milter's From: domain) gets both
 *	   the null_sender row and the rules for the domain, stricter wins
 *	2. cache unreadable (handling.cache_error); no record, or a corrupt
 *	   one (handling.unknown_domain)
 *	3. each provider's entry: allowed; pending (handling.pending);
 *	   blocked (handling.blocked); demo to someone not in demo_recipients
 *	   (handling.demo_recipient); data older than cache_max_age
 *	   (handling.stale_cache, whatever the old data said)
 *	4. the strictest outcome wins (reject > tempfail > accept; on a tie the
 *	   provider that comes first in the record)
 * A From: header whose sending domains cannot all be known (the milter
 * with domain_source = header: a field it cannot read, more distinct
 * domains than it judges, no address) is one more outcome,
 * verdict_unjudgeable_from (handling.unjudgeable_from; an exempt sender
 * is accepted), weighed with those of the domains that are known.
 * A demo domain is judged on the recipients given: with none yet (a
 * milter at MAIL FROM) it passes, so callers check again per recipient.
 * The text is empty when the message is accepted.
 * Tracking and BCC settings come from the first provider in
 * general.provider_order that knows the domain.
 *
 * SEVERAL OUTCOMES
 *	A message with several sending domains (every From: address), or a
 *	request with several checks (the policy server: sender, inbound
 *	recipient, unsubscription), gets the strictest outcome: reject >
 *	tempfail > accept, the earlier among equals, the settings always the
 *	first outcome's (verdict_combine). verdict_domains judges a list of
 *	domains that way, reading the cache, as the milter does at end of
 *	header and sendgatectl verdict does with --from-header.
 *
 * OUTGOING MAIL
 *	verdict_outgoing: mail is outgoing when the client authenticated
 *	(a SASL login), connected from an internal network, or came in
 *	through a service listed as outgoing (the milter's {daemon_name} in
 *	milter.outbound_daemons, the policy server's policy_context in
 *	policyd.outgoing_contexts). Everything else is inbound.
 */
#ifndef SG_CACHE_VERDICT_H
#define SG_CACHE_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "cache/cache.h"
#include "cache/record.h"
#include "lib/addr.h"
#include "lib/conf.h"
#include "lib/domain.h"

#define VERDICT_TEXT_MAX 400

typedef struct verdict_input {
    const conf *cfg;
    int lookup_rc;             /* CACHE_OK, CACHE_NOTFOUND, CACHE_CORRUPT, CACHE_ERROR */
    const cache_outbound *rec; /* when lookup_rc == CACHE_OK */
    const char *sender;        /* bare address, "" = null sender */
    const char *domain;        /* normalised sending domain, NULL when none */
    const char *const *rcpts;  /* bare recipient addresses */
    size_t n_rcpts;
    int64_t now;
} verdict_input;

typedef struct verdict {
    int action;                      /* CONF_ACCEPT, CONF_REJECT, CONF_TEMPFAIL */
    int code;                        /* 550, 451; 0 when accepted */
    const char *esc;                 /* "5.7.1", "4.7.1"; "" when accepted */
    const char *row;                 /* what decided: "allowed", "blocked", "exempt", ... */
    int provider;                    /* provider whose status decided, -1 if none */
    const cache_out_entry *settings; /* tracking and BCC settings to apply, NULL if none */
    char text[VERDICT_TEXT_MAX];     /* reply text: no CR/LF, '%' not yet escaped */
} verdict;

/* where a message comes from, as the MTA tells it */
typedef struct verdict_origin {
    const char *login;       /* SASL login ({auth_authen}, sasl_username); NULL or "" if none */
    const char *client_addr; /* the client's IP address as text; NULL or "" when unknown */
    const char *service;     /* the service it came in through ({daemon_name}, policy_context) */
} verdict_origin;

struct netlist;

void verdict_decide(const verdict_input *in, verdict *out);
void verdict_unjudgeable_from(const verdict_input *in, const char *why, verdict *out);
void verdict_domains(const verdict_input *in, cache *c, const char (*domains)[DOMAIN_MAX], size_t n,
                     const char *unjudgeable, cache_outbound *first, verdict *out);
bool verdict_combine(verdict *acc, const verdict *v);
void verdict_set(verdict *v, int action, const char *row, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
bool verdict_outgoing(const verdict_origin *o, const struct netlist *internal,
                      const conf_list *services, bool nocase);
int verdict_strictness(int action);
const char *verdict_action_name(int action);
bool verdict_map_mailtrap(const char *status, int *send, const char **reason);
const cache_out_entry *verdict_settings(const conf *cfg, const cache_outbound *rec);
bool verdict_stale(const conf *cfg, const cache_out_entry *e, int64_t now);
unsigned verdict_required(const conf *cfg);

#endif
