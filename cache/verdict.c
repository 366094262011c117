/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verdict.c - provider state + handling table -> SMTP decision (see verdict.h)
 */
#include "cache/verdict.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "lib/domain.h"
#include "lib/netlist.h"

/*
 * Mailtrap compliance_status values (seed page and older spec revisions).
 * Only compliant sends; demo sends to the account owner; under_review
 * resolves within minutes, so it is worth a tempfail; everything else,
 * including values sendgate has never seen, may not send.
 */
static const struct {
    const char *status;
    int send;
    const char *reason;
} mailtrap_statuses[] = {
        {"compliant", SEND_ALLOWED, "domain passed the provider's compliance checks"},
        {"demo", SEND_DEMO, "demo domain: may send only to the account owner"},
        {"under_review", SEND_PENDING, "compliance review in progress, usually a few minutes"},
        {"demo_exhausted", SEND_BLOCKED,
         "demo sending allowance used up; add and verify your own sending domain"},
        {"unverified_dns", SEND_BLOCKED,
         "DNS records not verified; publish the records shown on the provider's Domains page"},
        {"missing_company_info", SEND_BLOCKED,
         "company information missing; complete it in the provider's account settings"},
        {"awaiting_questionnaire", SEND_BLOCKED,
         "compliance questionnaire not answered; complete it on the provider's Domains page"},
        {"awaiting_card_verification", SEND_BLOCKED,
         "card verification not done; complete it on the provider's Domains page"},
        {"non_compliant", SEND_BLOCKED,
         "domain failed the provider's compliance checks; contact the provider's support"},
        {"suspended", SEND_BLOCKED, "sending suspended by the provider; contact its support"},
        {"initial", SEND_BLOCKED, "domain setup not started; verify it with the provider"},
        {"pending", SEND_BLOCKED, "domain not yet approved by the provider"},
        {"pending_cc", SEND_BLOCKED, "card verification not done"},
        {"exhausted", SEND_BLOCKED, "sending allowance used up"},
};

/* verdict_map_mailtrap - compliance_status to send status; false for an unknown value */
bool verdict_map_mailtrap(const char *status, int *send, const char **reason)
{
    for (size_t i = 0; i < sizeof(mailtrap_statuses) / sizeof(mailtrap_statuses[0]); i++)
        if (strcmp(status, mailtrap_statuses[i].status) == 0) {
            *send = mailtrap_statuses[i].send;
            *reason = mailtrap_statuses[i].reason;
            return true;
        }
    *send = SEND_BLOCKED;
    *reason = "status unknown to sendgate, treated as not allowed to send; ask the provider "
              "what the domain still needs";
    return false;
}

const char *verdict_action_name(int action)
{
    return action == CONF_REJECT ? "reject" : action == CONF_TEMPFAIL ? "tempfail" : "accept";
}

/* verdict_strictness - reject > tempfail > accept */
int verdict_strictness(int action)
{
    return action == CONF_REJECT ? 2 : action == CONF_TEMPFAIL ? 1 : 0;
}

/* verdict_stale - is a provider entry older than cache_max_age? (static data never is) */
bool verdict_stale(const conf *cfg, const cache_out_entry *e, int64_t now)
{
    if (e->provider == PROV_STATIC || cfg->general.cache_max_age <= 0)
        return false;
    return now - e->fetched_at > cfg->general.cache_max_age;
}

/* verdict_settings - the entry of the first provider in provider_order that knows the domain */
const cache_out_entry *verdict_settings(const conf *cfg, const cache_outbound *rec)
{
    const conf_list *order = &cfg->general.provider_order;

    for (size_t i = 0; i < order->n; i++) {
        const cache_out_entry *e = cache_outbound_find(rec, cache_provider_parse(order->v[i]));
        if (e)
            return e;
    }
    return rec->n ? &rec->e[0] : NULL;
}

/* clean_text - copy into a reply: printable ASCII only, bounded */
static void clean_text(char *dst, size_t len, const char *src)
{
    size_t n = 0;

    for (; *src && n + 1 < len; src++)
        dst[n++] = (unsigned char)*src >= ' ' && (unsigned char)*src < 0x7f ? *src : ' ';
    dst[n] = '\0';
}

static void set_text(verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_text(verdict *v, const char *fmt, ...)
{
    char tmp[VERDICT_TEXT_MAX * 2];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    clean_text(v->text, sizeof(v->text), tmp);
}

static bool all_in(const conf_list *allowed, const char *const *rcpts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!addr_list_has(allowed->v, allowed->n, rcpts[i]))
            return false;
    return true;
}

/* entry_outcome - one provider's answer for this message */
static int entry_outcome(const verdict_input *in, const cache_out_entry *e, verdict *v)
{
    const struct conf_handling *h = &in->cfg->handling;
    const char *d = in->domain, *raw = *e->raw_status ? e->raw_status : cache_send_name(e->send);

    if (verdict_stale(in->cfg, e, in->now)) {
        v->row = "stale-cache";
        set_text(v,
                 "sending rules for domain %s are out of date (%s data not refreshed); "
                 "try again later",
                 d, cache_provider_name(e->provider));
        return h->stale_cache;
    }
    switch (e->send) {
    case SEND_ALLOWED:
        v->row = "allowed";
        return CONF_ACCEPT;
    case SEND_PENDING:
        v->row = "pending";
        set_text(v, "domain %s is not allowed to send yet: %s (%s); try again later", d, e->reason,
                 raw);
        return h->pending;
    case SEND_DEMO:
        if (all_in(&in->cfg->handling.demo_recipients, in->rcpts, in->n_rcpts)) {
            v->row = "allowed";
            return CONF_ACCEPT;
        }
        v->row = "demo-recipient";
        set_text(v, "domain %s is a demo domain and may send only to the account owner (%s)", d,
                 raw);
        return h->demo_recipient;
    default:
        v->row = "blocked";
        set_text(v, "domain %s is not allowed to send: %s (%s)", d, e->reason, raw);
        return h->blocked;
    }
}

/* finish - code and enhanced status for the action; an accepted message has no text */
static void finish(verdict *v, int action)
{
    v->action = action;
    if (action == CONF_REJECT) {
        v->code = 550;
        v->esc = "5.7.1";
    } else if (action == CONF_TEMPFAIL) {
        v->code = 451;
        v->esc = "4.7.1";
    } else {
        v->action = CONF_ACCEPT;
        v->code = 0;
        v->esc = "";
        v->text[0] = '\0';
    }
}

/* exempt_domain - is the sending domain in exempt_domains (each entry normalised)? */
static bool exempt_domain(const conf_list *l, const char *domain)
{
    char d[DOMAIN_MAX];

    for (size_t i = 0; i < l->n; i++)
        if (domain_normalize(l->v[i], strlen(l->v[i]), d, NULL, 0) && strcmp(d, domain) == 0)
            return true;
    return false;
}

/*
 * verdict_set - an outcome decided outside the cache's rules (an
 * unsubscribed recipient, the inbound edge): the action's code and
 * enhanced status code, row, and the text as the caller words it (not
 * cleaned: the reply writers make it safe for their protocol)
 */
void verdict_set(verdict *v, int action, const char *row, const char *fmt, ...)
{
    va_list ap;

    memset(v, 0, sizeof(*v));
    v->provider = -1;
    v->row = row;
    va_start(ap, fmt);
    vsnprintf(v->text, sizeof(v->text), fmt, ap);
    va_end(ap);
    finish(v, action);
}

static void null_sender_row(const verdict_input *in, verdict *out)
{
    out->row = "null-sender";
    set_text(out, "mail with the null sender is not accepted here");
    finish(out, in->cfg->handling.null_sender);
}

/* verdict_early - the rows decided before any provider data: true when decided */
static bool verdict_early(const verdict_input *in, verdict *out)
{
    const struct conf_handling *h = &in->cfg->handling;
    const char *d = in->domain ? in->domain : "";

    if (*in->sender && addr_list_has(h->exempt_senders.v, h->exempt_senders.n, in->sender)) {
        out->row = "exempt";
        finish(out, CONF_ACCEPT);
    } else if (*in->sender == '\0' && in->domain == NULL) {
        null_sender_row(in, out);
    } else if (in->domain && exempt_domain(&h->exempt_domains, in->domain)) {
        out->row = "exempt";
        finish(out, CONF_ACCEPT);
    } else if (in->lookup_rc == CACHE_ERROR) {
        out->row = "cache-error";
        set_text(out, "sending rules for domain %s cannot be read; try again later", d);
        finish(out, h->cache_error);
    } else if (in->lookup_rc != CACHE_OK || in->rec == NULL || in->rec->n == 0 ||
               in->domain == NULL) {
        out->row = "unknown-domain";
        set_text(out, "domain %s is not registered with any sending provider", *d ? d : "(none)");
        finish(out, h->unknown_domain);
    } else {
        return false;
    }
    return true;
}

static void verdict_domain(const verdict_input *in, verdict *out);

/*
 * verdict_decide - apply the rules in the order documented in verdict.h
 *
 * The null sender with a sending domain known from elsewhere (the milter's
 * From: header): the domain is judged, and the null_sender row too; the
 * stricter wins, so MAIL FROM:<> is no way around a blocked From: domain.
 */
void verdict_decide(const verdict_input *in, verdict *out)
{
    verdict ns;

    verdict_domain(in, out);
    if (*in->sender != '\0' || in->domain == NULL)
        return;
    memset(&ns, 0, sizeof(ns));
    ns.provider = -1;
    null_sender_row(in, &ns);
    if (verdict_strictness(ns.action) > verdict_strictness(out->action))
        *out = ns;
}

/* verdict_domain - rules 1 to 4 for the domain */
static void verdict_domain(const verdict_input *in, verdict *out)
{
    int best = -1;

    memset(out, 0, sizeof(*out));
    out->provider = -1;
    out->row = "allowed";
    if (verdict_early(in, out))
        return;
    out->settings = verdict_settings(in->cfg, in->rec);
    for (uint8_t i = 0; i < in->rec->n; i++) {
        verdict tmp;
        int action;
        memset(&tmp, 0, sizeof(tmp));
        action = entry_outcome(in, &in->rec->e[i], &tmp);
        if (verdict_strictness(action) > best) { /* ties: the first provider of the record */
            best = verdict_strictness(action);
            out->row = tmp.row;
            out->provider = in->rec->e[i].provider;
            memcpy(out->text, tmp.text, sizeof(out->text));
            out->action = action;
        }
    }
    finish(out, out->action);
}

/* verdict_unjudgeable_from - the From: header cannot be judged in full; why says what stopped it */
void verdict_unjudgeable_from(const verdict_input *in, const char *why, verdict *out)
{
    const struct conf_handling *h = &in->cfg->handling;

    memset(out, 0, sizeof(*out));
    out->provider = -1;
    if (*in->sender && addr_list_has(h->exempt_senders.v, h->exempt_senders.n, in->sender)) {
        out->row = "exempt";
        finish(out, CONF_ACCEPT);
        return;
    }
    out->row = "unjudgeable-from";
    set_text(out, "cannot judge the From: header: %s", why);
    finish(out, h->unjudgeable_from);
}

/*
 * verdict_combine - one more outcome for the same message: it replaces acc
 * when stricter (reject > tempfail > accept; the earlier among equals)
 * and acc keeps its settings, the first outcome's. True when replaced.
 */
bool verdict_combine(verdict *acc, const verdict *v)
{
    const cache_out_entry *keep = acc->settings;

    if (verdict_strictness(v->action) <= verdict_strictness(acc->action))
        return false;
    *acc = *v;
    acc->settings = keep;
    return true;
}

/*
 * verdict_domains - every sending domain judged, the strictest outcome
 *
 * in gives the configuration, sender, recipients and time; each domain is
 * looked up in c and judged with verdict_decide (no domain at all: judged
 * as a sender without one). The first domain's record is read into first,
 * where the verdict's settings point; the others into a scratch record.
 * A cache handle or a record that is missing (out of memory) makes the
 * lookup a cache error. unjudgeable, when not NULL, says why the From:
 * domains are not all known: verdict_unjudgeable_from is one more outcome.
 */
void verdict_domains(const verdict_input *in, cache *c, const char (*domains)[DOMAIN_MAX], size_t n,
                     const char *unjudgeable, cache_outbound *first, verdict *out)
{
    verdict_input one = *in;
    cache_outbound *scratch = NULL;
    verdict v;

    for (size_t i = 0; i == 0 || i < n; i++) {
        cache_outbound *rec =
                i == 0 ? first : (scratch ? scratch : (scratch = malloc(sizeof(*scratch))));
        one.domain = n ? domains[i] : NULL;
        one.rec = rec;
        if (rec == NULL || c == NULL)
            one.lookup_rc = CACHE_ERROR;
        else
            one.lookup_rc = one.domain ? cache_get_outbound(c, one.domain, rec) : CACHE_NOTFOUND;
        verdict_decide(&one, i == 0 ? out : &v);
        if (i > 0)
            verdict_combine(out, &v);
    }
    free(scratch);
    if (unjudgeable) {
        verdict_unjudgeable_from(&one, unjudgeable, &v);
        verdict_combine(out, &v);
    }
}

/*
 * verdict_outgoing - is the mail outgoing? (see verdict.h)
 *
 * services are compared without regard to case when nocase (the milter's
 * {daemon_name}), exactly otherwise (policy_context). internal may be
 * NULL: no internal network.
 */
bool verdict_outgoing(const verdict_origin *o, const struct netlist *internal,
                      const conf_list *services, bool nocase)
{
    if (o->login && *o->login)
        return true;
    if (internal && o->client_addr && *o->client_addr && netlist_match(internal, o->client_addr))
        return true;
    return o->service && *o->service && conf_list_has(services, o->service, nocase);
}

/*
 * verdict_required - the providers whose data a verdict needs: every enabled one
 * (for cache_set_required: a cache without one's data answers handling.cache_error)
 */
unsigned verdict_required(const conf *cfg)
{
    return (cfg->static_.enabled ? 1u << PROV_STATIC : 0) |
           (cfg->jetemail.enabled ? 1u << PROV_JETEMAIL : 0) |
           (cfg->mailtrap.enabled ? 1u << PROV_MAILTRAP : 0);
}
