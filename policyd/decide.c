/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decide.c - policy actions and socketmap answers from the cache (see decide.h)
 *
 * Data flow: server.c parses a request (policy.c or netstring.c + smap.c)
 * and calls decide_policy or decide_smap, which read the LMDB cache (short
 * read-only transactions, values copied out), apply cache/verdict.c or
 * inbound.c, and return the answer: a verdict, or a socketmap status and
 * value. server.c puts it on the wire (policy.c, smap.c). Nothing here
 * blocks on anything but a local LMDB read: the refresher thread is the
 * only one that talks to the providers.
 */
#include "policyd/decide.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/suppress.h"
#include "lib/addr.h"
#include "lib/domain.h"
#include "lib/log.h"
#include "policyd/inbound.h"

enum { SCOPE_ALL, SCOPE_OUTGOING, SCOPE_NONE }; /* order of policyd.policy_scope */

/* decide_new - a context for one thread of answers; cfg and cache are borrowed */
decide_ctx *decide_new(const conf *cfg, cache *c, const netlist *internal)
{
    decide_ctx *d = calloc(1, sizeof(*d));

    if (d) {
        d->cfg = cfg;
        d->cache = c;
        d->internal = internal;
    }
    return d;
}

void decide_free(decide_ctx *d)
{
    free(d);
}

/* decide_outgoing - SASL login, internal client, or a policy_context in outgoing_contexts */
static bool decide_outgoing(const decide_ctx *d, const policy_req *r)
{
    verdict_origin o = {policy_get(r, PA_SASL_USERNAME), policy_get(r, PA_CLIENT_ADDRESS),
                        policy_get(r, PA_POLICY_CONTEXT)};

    return verdict_outgoing(&o, d->internal, &d->cfg->policyd.outgoing_contexts, false);
}

/* decide_sender_state - the stages where Postfix knows the envelope sender */
static bool decide_sender_state(const char *state)
{
    return !strcmp(state, "RCPT") || !strcmp(state, "MAIL") || !strcmp(state, "DATA") ||
           !strcmp(state, "END-OF-MESSAGE");
}

/* decide_sender - the verdict for the sending domain, exactly as the milter decides it */
static void decide_sender(decide_ctx *d, const char *sender, const char *sdom, const char *rcpt,
                          verdict *best)
{
    verdict_input in;
    verdict v;
    const char *rcpts[1] = {rcpt};

    memset(&in, 0, sizeof(in));
    in.cfg = d->cfg;
    in.sender = sender;
    in.domain = *sdom ? sdom : NULL;
    in.rcpts = rcpts;
    in.n_rcpts = *rcpt ? 1 : 0;
    in.now = d->now;
    in.lookup_rc = CACHE_NOTFOUND;
    if (*sender && in.domain) {
        in.lookup_rc = cache_get_outbound(d->cache, sdom, &d->rec);
        in.rec = in.lookup_rc == CACHE_OK ? &d->rec : NULL;
    }
    verdict_decide(&in, &v);
    verdict_combine(best, &v);
}

/* decide_split - local part and normalised domain of a recipient address */
static bool decide_split(const char *addr, char *local, size_t llen, char dom[DOMAIN_MAX])
{
    const char *at = strrchr(addr, '@');

    if (at == NULL || (size_t)(at - addr) >= llen)
        return false;
    memcpy(local, addr, (size_t)(at - addr));
    local[at - addr] = '\0';
    return at[1] != '[' && domain_normalize(at + 1, strlen(at + 1), dom, NULL, 0);
}

/* decide_inbound_rcpt - the provider edge's verdict on a recipient of an inbound domain */
static void decide_inbound_rcpt(decide_ctx *d, const char *rcpt, verdict *best)
{
    char local[INBOUND_LOCAL_MAX], dom[DOMAIN_MAX];
    cache_inbound rec;
    const cache_in_entry *e;
    inbound_reject rej;
    verdict v;
    int rc;

    if (!decide_split(rcpt, local, sizeof(local), dom))
        return;
    memset(&rec, 0, sizeof(rec));
    rc = cache_get_inbound(d->cache, dom, &rec);
    if (rc == CACHE_ERROR) {
        verdict_set(&v, d->cfg->handling.cache_error, "cache-error",
                    "recipient rules for domain %s cannot be read; try again later", dom);
        verdict_combine(best, &v);
        return;
    }
    if (rc == CACHE_OK && (e = inbound_entry(d->cfg, &rec)) != NULL &&
        !inbound_rcpt_check(e, dom, local, &rej)) {
        verdict_set(&v, CONF_REJECT, rej.row, "%s", rej.text);
        v.code = rej.code; /* the edge's own: 550 5.1.1, 550 5.1.2 */
        v.esc = rej.esc;
        verdict_combine(best, &v);
    }
    if (rc == CACHE_OK)
        cache_inbound_free(&rec);
}

/* decide_suppressed - the recipient unsubscribed from the sending domain */
static void decide_suppressed(decide_ctx *d, const char *sdom, const char *rcpt, verdict *best)
{
    int rc = suppress_check(d->cache, sdom, rcpt, NULL);
    verdict v;

    if (rc == CACHE_OK)
        verdict_set(&v, d->cfg->handling.suppressed_recipient, "suppressed",
                    "recipient %s has unsubscribed from mail from domain %s", rcpt, sdom);
    else if (rc == CACHE_ERROR)
        verdict_set(&v, d->cfg->handling.cache_error, "cache-error",
                    "unsubscription list of domain %s cannot be read; try again later", sdom);
    else
        return;
    verdict_combine(best, &v);
}

/* decide_log - one line per decision; accepted requests only at debug level */
static void decide_log(const verdict *o, const policy_req *r)
{
    const char *sasl = *policy_get(r, PA_SASL_USERNAME) ? policy_get(r, PA_SASL_USERNAME) : "-";

    if (o->action == CONF_ACCEPT) {
        if (log_enabled(LOG_DEBUG))
            log_qid(LOG_DEBUG, policy_get(r, PA_QUEUE_ID),
                    "policy accept: %s from %s[%s]: DUNNO; from=<%s> to=<%s> sasl=%s",
                    policy_get(r, PA_PROTOCOL_STATE), policy_get(r, PA_CLIENT_NAME),
                    policy_get(r, PA_CLIENT_ADDRESS), policy_get(r, PA_SENDER),
                    policy_get(r, PA_RECIPIENT), sasl);
        return;
    }
    log_qid(LOG_INFO, policy_get(r, PA_QUEUE_ID),
            "policy %s: %s from %s[%s]: %d %s %s; from=<%s> to=<%s> sasl=%s row=%s",
            verdict_action_name(o->action), policy_get(r, PA_PROTOCOL_STATE),
            policy_get(r, PA_CLIENT_NAME), policy_get(r, PA_CLIENT_ADDRESS), o->code, o->esc,
            o->text, policy_get(r, PA_SENDER), policy_get(r, PA_RECIPIENT), sasl, o->row);
}

/* decide_policy - the verdict on one request (out); returns its action (CONF_*) */
int decide_policy(decide_ctx *d, const policy_req *r, verdict *out)
{
    const char *state = policy_get(r, PA_PROTOCOL_STATE), *rcpt = policy_get(r, PA_RECIPIENT);
    char sender[ADDR_MAX] = "", sdom[DOMAIN_MAX] = "";
    int scope = d->cfg->policyd.policy_scope;
    bool checked = scope == SCOPE_ALL || (scope == SCOPE_OUTGOING && decide_outgoing(d, r));
    bool is_rcpt = strcmp(state, "RCPT") == 0 && *rcpt;

    memset(out, 0, sizeof(*out));
    out->action = CONF_ACCEPT;
    out->provider = -1;
    /* an unusable sender is no null sender: it is checked as an unknown domain */
    if (r->v[PA_SENDER] && !addr_envelope(r->v[PA_SENDER], sender, NULL, 0))
        snprintf(sender, sizeof(sender), "?");
    if (*sender && !addr_domain(sender, sdom, NULL, 0))
        sdom[0] = '\0';
    if (checked && r->v[PA_SENDER] && decide_sender_state(state))
        decide_sender(d, sender, sdom, is_rcpt ? rcpt : "", out);
    if (is_rcpt && d->cfg->policyd.inbound_checks)
        decide_inbound_rcpt(d, rcpt, out);
    if (is_rcpt && checked && *sdom)
        decide_suppressed(d, sdom, rcpt, out);
    decide_log(out, r);
    return out->action;
}

/* decide_answer - a socketmap answer: status, and the value or reason */
static void decide_answer(smap_result *out, int status, const char *value)
{
    out->status = status;
    buf_reset(&out->value);
    buf_append_str(&out->value, value);
}

/* decide_smap_inbound - the inbound record of a key's domain; false when answered */
static bool decide_smap_inbound(decide_ctx *d, const char *domain, char dom[DOMAIN_MAX],
                                cache_inbound *rec, const cache_in_entry **e, smap_result *out)
{
    int rc;

    memset(rec, 0, sizeof(*rec));
    if (*domain == '\0' || *domain == '.' || *domain == '[' ||
        !domain_normalize(domain, strlen(domain), dom, NULL, 0)) {
        decide_answer(out, SMAP_NOTFOUND, "");
        return false;
    }
    rc = cache_get_inbound(d->cache, dom, rec);
    if (rc == CACHE_ERROR) {
        decide_answer(out, SMAP_TEMP, "sendgate cache cannot be read");
        return false;
    }
    if (rc != CACHE_OK || (*e = inbound_entry(d->cfg, rec)) == NULL) {
        if (rc == CACHE_OK)
            cache_inbound_free(rec);
        decide_answer(out, SMAP_NOTFOUND, "");
        return false;
    }
    return true;
}

/* decide_smap_domain - relay (domains) and transport (addresses or domains) */
static void decide_smap_domain(decide_ctx *d, int map, const char *key, smap_result *out)
{
    cache_inbound rec;
    const cache_in_entry *e = NULL;
    char dom[DOMAIN_MAX];

    const char *at = strrchr(key, '@');

    /*
     * Postfix sends socketmap tables whole keys only, never the partial keys
     * it tries with other tables: transport_maps asks for the recipient
     * address (and "*"), so the domain is taken from the address here.
     * relay_domains asks for domains only.
     */
    if (at && map == SMAP_RELAY) {
        decide_answer(out, SMAP_NOTFOUND, "");
        return;
    }
    if (!decide_smap_inbound(d, at ? at + 1 : key, dom, &rec, &e, out))
        return;
    if (map == SMAP_RELAY && e->active)
        decide_answer(out, SMAP_OK, dom);
    else if (map == SMAP_TRANSPORT && inbound_transport(d->cfg, e, &out->value) &&
             !buf_failed(&out->value))
        out->status = SMAP_OK;
    else
        decide_answer(out, SMAP_NOTFOUND, "");
    cache_inbound_free(&rec);
}

/* decide_smap_forward - virtual_alias_maps: local@domain or @domain */
static void decide_smap_forward(decide_ctx *d, const char *key, smap_result *out)
{
    const char *at = strrchr(key, '@');
    char local[INBOUND_LOCAL_MAX];
    cache_inbound rec;
    const cache_in_entry *e = NULL;
    char dom[DOMAIN_MAX];

    if (at == NULL || (size_t)(at - key) >= sizeof(local)) {
        decide_answer(out, SMAP_NOTFOUND, "");
        return;
    }
    memcpy(local, key, (size_t)(at - key));
    local[at - key] = '\0';
    if (!decide_smap_inbound(d, at + 1, dom, &rec, &e, out))
        return;
    if (inbound_forward(e, local, &out->value) == 0)
        decide_answer(out, SMAP_NOTFOUND, "");
    else if (buf_failed(&out->value) || out->value.len > SMAP_REPLY_MAX - 3) /* "OK " */
        decide_answer(out, SMAP_TEMP, "forward destination list too long");
    else
        out->status = SMAP_OK;
    cache_inbound_free(&rec);
}

/* decide_smap - the answer to one socketmap request (out->value is reset first) */
void decide_smap(decide_ctx *d, const smap_req *q, smap_result *out)
{
    int map = smap_map_index(q->map);

    buf_reset(&out->value);
    if (map < 0)
        decide_answer(out, SMAP_PERM,
                      "unknown map name (sendgate serves relay, transport, forward)");
    else if (map == SMAP_FORWARD)
        decide_smap_forward(d, q->key, out);
    else
        decide_smap_domain(d, map, q->key, out);
}
