/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * inbound.c - relay, transport and forwarding rules of inbound domains (see inbound.h)
 *
 * Data flow: decide.c looks the recipient domain up in the cache's
 * inbound database and hands the decoded record here; the answers go back
 * to Postfix as socketmap replies (transport_maps, virtual_alias_maps) or
 * as a policy action at RCPT TO.
 */
#include "policyd/inbound.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* inbound_entry - the entry of the first provider in provider_order that knows the domain */
const cache_in_entry *inbound_entry(const conf *cfg, const cache_inbound *rec)
{
    const conf_list *order = &cfg->general.provider_order;

    for (size_t i = 0; i < order->n; i++) {
        int p = cache_provider_parse(order->v[i]);
        for (uint8_t j = 0; j < rec->n; j++)
            if (rec->e[j].provider == p)
                return &rec->e[j];
    }
    return rec->n ? &rec->e[0] : NULL;
}

/* inbound_forward_ready - forwarding works only for an active domain with all four DNS checks */
bool inbound_forward_ready(const cache_in_entry *e)
{
    return e->delivery == DELIVERY_FORWARD && e->active && e->fwd_mx_verified &&
           e->fwd_dkim_verified && e->fwd_spf_verified && e->fwd_dmarc_verified;
}

/* inbound_host_ok - only host-name and IP-address characters reach a transport answer */
static bool inbound_host_ok(const char *h)
{
    if (*h == '\0')
        return false;
    for (; *h; h++)
        if (!(isalnum((unsigned char)*h) || *h == '.' || *h == '-' || *h == ':'))
            return false;
    return true;
}

/* inbound_best_server - lowest priority number; the first listed among equals */
static const cache_smtp_server *inbound_best_server(const cache_in_entry *e, bool *used)
{
    const cache_smtp_server *best = NULL;

    for (size_t i = 0; i < e->n_smtp; i++) {
        if (used[i] || !inbound_host_ok(e->smtp[i].host))
            continue;
        if (best == NULL || e->smtp[i].priority < best->priority)
            best = &e->smtp[i];
    }
    if (best)
        used[best - e->smtp] = true;
    return best;
}

/* inbound_nexthop - "[host]:port" ([] turns off MX lookups; required for addresses) */
static void inbound_nexthop(buf *out, const cache_smtp_server *s)
{
    buf_printf(out, "[%s]", s->host);
    if (s->port > 0)
        buf_printf(out, ":%d", s->port);
}

/*
 * inbound_transport - the transport_maps answer for an active domain, false for none
 *
 * smtp delivery: smtp_transport:[host]:port of the preferred server, or
 * with smtp_all_servers every server in order of preference (Postfix 3.5
 * and later try a list of nexthops in turn). Webhook domains get the
 * configured webhook_transport, if any. Forward domains get none: their
 * recipients are rewritten by virtual_alias_maps before routing.
 */
bool inbound_transport(const conf *cfg, const cache_in_entry *e, buf *out)
{
    bool used[CACHE_MAX_SMTP] = {false};
    const cache_smtp_server *s;
    size_t n = 0;

    if (!e->active)
        return false;
    if (e->delivery == DELIVERY_WEBHOOK) {
        if (*cfg->policyd.webhook_transport == '\0')
            return false;
        buf_append_str(out, cfg->policyd.webhook_transport);
        return true;
    }
    if (e->delivery != DELIVERY_SMTP || e->n_smtp == 0 || e->n_smtp > CACHE_MAX_SMTP)
        return false;
    while ((s = inbound_best_server(e, used)) != NULL) {
        if (n++ == 0)
            buf_printf(out, "%s:", cfg->policyd.smtp_transport);
        else
            buf_append_str(out, ", ");
        inbound_nexthop(out, s);
        if (!cfg->policyd.smtp_all_servers)
            break;
    }
    return n > 0;
}

/* inbound_lower - lowercase copy of a local part; false when too long */
static bool inbound_lower(const char *in, char out[INBOUND_LOCAL_MAX])
{
    size_t n = strlen(in);

    if (n >= INBOUND_LOCAL_MAX)
        return false;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    return true;
}

/* inbound_collect - destinations of the usable rules for one local part (out NULL: count) */
static size_t inbound_collect(const cache_in_entry *e, const char *lp, size_t lplen, buf *out)
{
    size_t n = 0;

    for (size_t i = 0; i < e->n_rules; i++) {
        const cache_fwd_rule *r = &e->rules[i];
        bool dup = false;
        if (!r->active || !r->verified || strlen(r->localpart) != lplen ||
            memcmp(r->localpart, lp, lplen) != 0)
            continue;
        for (size_t j = 0; j < i && !dup; j++)
            dup = e->rules[j].active && e->rules[j].verified &&
                  strcmp(e->rules[j].localpart, r->localpart) == 0 &&
                  strcasecmp(e->rules[j].destination, r->destination) == 0;
        if (dup)
            continue;
        if (out) {
            buf_append_str(out, n ? "," : "");
            buf_append_str(out, r->destination);
        }
        n++;
    }
    return n;
}

/* inbound_forward - destinations for localpart: exact, then before '+', then "*" */
size_t inbound_forward(const cache_in_entry *e, const char *localpart, buf *out)
{
    char lp[INBOUND_LOCAL_MAX];
    const char *plus;
    size_t n;

    if (!inbound_forward_ready(e) || !inbound_lower(localpart, lp))
        return 0;
    if (*lp && (n = inbound_collect(e, lp, strlen(lp), out)) > 0)
        return n;
    if ((plus = strchr(lp, '+')) != NULL && plus > lp &&
        (n = inbound_collect(e, lp, (size_t)(plus - lp), out)) > 0)
        return n;
    return inbound_collect(e, "*", 1, out);
}

/*
 * inbound_rcpt_check - would the provider's inbound edge take this recipient?
 *
 * A disabled domain takes no mail (550 5.1.2); a forward domain whose DNS
 * checks have not all passed rejects everything (550 5.1.2, as the edge
 * does until all four records verify); an address no usable rule
 * matches does not exist (550 5.1.1). smtp and webhook domains accept
 * every local part: the final server decides.
 */
bool inbound_rcpt_check(const cache_in_entry *e, const char *domain, const char *localpart,
                        inbound_reject *rej)
{
    memset(rej, 0, sizeof(*rej));
    rej->code = 550;
    rej->esc = "5.1.2";
    if (!e->active) {
        rej->row = "inbound-disabled";
        snprintf(rej->text, sizeof(rej->text),
                 "domain %s does not accept mail (inbound domain disabled)", domain);
        return false;
    }
    if (e->delivery != DELIVERY_FORWARD)
        return true;
    if (!inbound_forward_ready(e)) {
        rej->row = "forward-dns-unverified";
        snprintf(rej->text, sizeof(rej->text),
                 "domain %s does not accept mail yet (forwarding DNS records not verified)",
                 domain);
        return false;
    }
    if (inbound_forward(e, localpart, NULL) > 0)
        return true;
    rej->esc = "5.1.1";
    rej->row = "no-forward-rule";
    snprintf(rej->text, sizeof(rej->text),
             "no such recipient: %.200s@%s has no active, verified forwarding rule", localpart,
             domain);
    return false;
}
