/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * callbacks.c - sendgate-milter's libmilter callbacks
 *
 * One milter_conn per SMTP connection (negotiate/connect to close), one
 * milter_msg per transaction (MAIL FROM to end of message or abort). The
 * callbacks only gather what the MTA says into the transaction (msg.c) and
 * hand the decisions to the modules: cache/verdict.c (does the milter act
 * at all: verdict_outgoing; may the domains send: verdict_domains),
 * tracking.c (the body), apply.c (the changes), reply.c (a refusal). The
 * configuration and the cache come from state.c.
 *
 * WHEN THINGS ARE DECIDED
 *	connect      client address and {daemon_name}: outgoing or not yet known
 *	MAIL FROM    {auth_authen}; a connection that is not outgoing gets
 *	             SMFIS_ACCEPT (the message passes untouched); with
 *	             domain_source = envelope the verdict is given here
 *	RCPT TO      a recipient who unsubscribed from the envelope sender's
 *	             domain is refused (never in non_smtpd_milters context);
 *	             demo domains: recipients other than the account owner
 *	header       with domain_source = header, each From: field is read
 *	             as it arrives (addr_from): the field limits below bound
 *	             what is kept for rewriting, never what is judged
 *	end of header  with domain_source = header (the default) the verdict
 *	             for every From: domain, strictest wins; a From: that
 *	             cannot be judged in full (unreadable, a domain too many,
 *	             no address) is handling.unjudgeable_from, never a silent
 *	             fallback; whether the body is needed (a refused
 *	             message's body is skipped)
 *	end of message  the refusal decided at end of header (SMTP can only
 *	             answer after the final dot anyway, and every message-level
 *	             action then comes at one point), else verified BCC
 *	             recipients, recipients who unsubscribed from the From:
 *	             domain removed, the rewrite step, one log line
 */
#include "milter/callbacks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cache/suppress.h"
#include "cache/verdict.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "milter/apply.h"
#include "milter/mlt.h"
#include "milter/msg.h"
#include "milter/reply.h"
#include "milter/state.h"
#include "milter/tracking.h"

struct smfiDesc milter_desc = {
        "sendgate",
        SMFI_VERSION,
        SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT | SMFIF_ADDRCPT_PAR |
                SMFIF_DELRCPT | SMFIF_SETSYMLIST,
        milter_connect,
        NULL, /* HELO: not needed, negotiated away */
        milter_envfrom,
        milter_envrcpt,
        milter_header_cb,
        milter_eoh,
        milter_body_cb,
        milter_eom,
        milter_abort,
        milter_close,
        NULL, /* unknown commands */
        milter_data,
        milter_negotiate,
};

/* per-connection protocol facts from negotiation (test mode: everything offered) */
typedef struct conn_caps {
    bool addrcpt_par; /* ESMTP arguments for added recipients (Postfix >= 3.0) */
    bool skip;        /* SMFIS_SKIP understood */
    bool nr_hdr;      /* the MTA sends headers without waiting for a reply */
    bool nr_data;     /* ... and DATA */
    bool nr_eoh;      /* ... and end of headers */
} conn_caps;

bool milter_noreply;

/* no_reply - what a callback returns when it never refuses: nothing at all
   when the MTA agreed (one round trip less per header), else continue */
static sfsistat no_reply(bool agreed)
{
    return agreed ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* one SMTP connection */
typedef struct milter_conn {
    milter_config *mc;
    bool outgoing;
    bool non_smtpd; /* sendmail(1)/pickup submission: never reject a recipient */
    char client_addr[64];
    char client_name[256];
    milter_msg *msg;
} milter_conn;

typedef struct conn_priv {
    milter_conn c;
    conn_caps caps;
} conn_priv;

static conn_priv *priv_get(SMFICTX *ctx)
{
    return mlt_getpriv(ctx);
}

/* conn_new - the connection context, created at negotiate (or connect in test mode) */
static conn_priv *conn_new(SMFICTX *ctx)
{
    conn_priv *p = priv_get(ctx);

    if (p)
        return p;
    if ((p = calloc(1, sizeof(*p))) == NULL)
        return NULL;
    p->caps.addrcpt_par = p->caps.skip = mlt_testmode;
    if (mlt_setpriv(ctx, p) != MI_SUCCESS) {
        free(p);
        return NULL;
    }
    return p;
}

/* milter_negotiate - only the actions and steps sendgate uses; the macros it reads */
sfsistat milter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                          unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                          unsigned long *pf2, unsigned long *pf3)
{
    conn_priv *p = conn_new(ctx);

    (void)f2;
    (void)f3;
    if (p == NULL)
        return SMFIS_TEMPFAIL;
    *pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT | SMFIF_ADDRCPT_PAR |
                 SMFIF_DELRCPT | SMFIF_SETSYMLIST);
    /* no HELO or unknown-command events; SKIP when the MTA understands it. The
       DATA event stays on: without it Postfix's DATA macros go unanswered and
       Nagle plus delayed ACK stall inet: sockets (POSTFIX-HARNESS P1) */
    /* headers, DATA and end of headers never get an answer other than
       "continue" (a refusal decided there is given at end of message), so
       over a unix: socket the MTA need not wait for one: SMFIP_NR_*, one
       round trip less for each header field (over TCP, Postfix's unanswered
       small writes would wait for delayed ACKs instead) */
    *pf1 = f1 & (SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_SKIP |
                 (milter_noreply ? SMFIP_NR_HDR | SMFIP_NR_DATA | SMFIP_NR_EOH : 0));
    *pf2 = *pf3 = 0;
    p->caps.addrcpt_par = (f0 & SMFIF_ADDRCPT_PAR) != 0;
    p->caps.skip = (f1 & SMFIP_SKIP) != 0;
    p->caps.nr_hdr = (*pf1 & SMFIP_NR_HDR) != 0; /* what we asked for, not what was offered */
    p->caps.nr_data = (*pf1 & SMFIP_NR_DATA) != 0;
    p->caps.nr_eoh = (*pf1 & SMFIP_NR_EOH) != 0;
    if (f0 & SMFIF_SETSYMLIST) {
        mlt_setsymlist(ctx, SMFIM_CONNECT, "{daemon_name} {client_addr}");
        mlt_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
        mlt_setsymlist(ctx, SMFIM_DATA, "i");
        mlt_setsymlist(ctx, SMFIM_EOH, "i");
        mlt_setsymlist(ctx, SMFIM_EOM, "i");
    }
    return SMFIS_CONTINUE;
}

/* sockaddr_text - the client's address as text and its port; false when unknown */
static bool sockaddr_text(const _SOCK_ADDR *sa, char *out, size_t len, int *port)
{
    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        *port = ntohs(in->sin_port);
        return inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)len) != NULL;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        *port = ntohs(in6->sin6_port);
        return inet_ntop(AF_INET6, &in6->sin6_addr, out, (socklen_t)len) != NULL;
    }
    return false;
}

/* is_outgoing - does the milter act on this connection's mail? (verdict_outgoing) */
static bool is_outgoing(const milter_conn *c, const char *auth_authen, const char *daemon_name)
{
    verdict_origin o = {auth_authen, c->client_addr, daemon_name};

    return verdict_outgoing(&o, &c->mc->internal, &c->mc->cfg->milter.outbound_daemons, true);
}

/* milter_connect - take a configuration reference; note who is connecting */
sfsistat milter_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
    conn_priv *p = conn_new(ctx);
    milter_conn *c;
    const char *dn;
    int port = -1;

    if (p == NULL) {
        log_err("out of memory at connect; the MTA applies milter_default_action");
        return SMFIS_TEMPFAIL;
    }
    c = &p->c;
    if (c->mc == NULL)
        c->mc = state_config_get();
    snprintf(c->client_name, sizeof(c->client_name), "%s", host ? host : "");
    if (!sockaddr_text(addr, c->client_addr, sizeof(c->client_addr), &port))
        c->client_addr[0] = '\0';
    /* Postfix presents sendmail(1)/pickup submissions as localhost, port 0 */
    c->non_smtpd = port == 0 && host && strcmp(host, "localhost") == 0;
    dn = mlt_getsymval(ctx, "{daemon_name}");
    c->outgoing = is_outgoing(c, NULL, dn);
    return SMFIS_CONTINUE;
}

/* qid_refresh - the queue id once the MTA knows it (Postfix: from DATA on) */
static const char *qid_refresh(SMFICTX *ctx, milter_msg *m)
{
    const char *q;

    if (m->qid[0] == '\0' && (q = mlt_getsymval(ctx, "i")) != NULL)
        snprintf(m->qid, sizeof(m->qid), "%s", q);
    return m->qid;
}

/*
 * decide - the verdict for the message's sending domain(s), strictest wins
 *
 * The record of the first domain is kept in m->rec: the verdict's
 * settings (tracking, BCC) point into it. unjudgeable, when not NULL,
 * says why the From: domains are not all known: handling.unjudgeable_from
 * is one more outcome, after those of the domains that are known.
 */
static void decide(milter_conn *c, milter_msg *m, const char *const *rcpts, size_t n_rcpts,
                   const char *unjudgeable, verdict *out)
{
    verdict_input in;

    memset(&in, 0, sizeof(in));
    in.cfg = c->mc->cfg;
    in.sender = m->sender;
    in.rcpts = rcpts;
    in.n_rcpts = n_rcpts;
    in.now = (int64_t)time(NULL);
    if (m->rec == NULL)
        m->rec = malloc(sizeof(*m->rec));
    verdict_domains(&in, state_cache(), m->domains, m->n_domains, unjudgeable, m->rec, out);
    m->decided = true;
}

/* milter_envfrom - new transaction; outgoing or not; the envelope verdict */
sfsistat milter_envfrom(SMFICTX *ctx, char **argv)
{
    conn_priv *p = priv_get(ctx);
    milter_conn *c;
    milter_msg *m;
    char reason[ERRBUF_MAX];

    if (p == NULL || p->c.mc == NULL)
        return SMFIS_TEMPFAIL;
    c = &p->c;
    msg_free(c->msg);
    c->msg = NULL;
    if (!c->outgoing && !is_outgoing(c, mlt_getsymval(ctx, "{auth_authen}"), NULL))
        return SMFIS_ACCEPT; /* inbound: untouched */
    if ((c->msg = m = msg_new(c->mc->cfg)) == NULL)
        return SMFIS_TEMPFAIL;
    if (!addr_envelope(argv[0] ? argv[0] : "", m->sender, reason, sizeof(reason))) {
        log_qid(LOG_WARNING, NULL, "MAIL FROM %s: %s; treated as having no domain", argv[0],
                reason);
        m->sender[0] = '\0';
        snprintf(m->sender, sizeof(m->sender), "?");
    }
    m->have_env_domain = *m->sender && addr_domain(m->sender, m->env_domain, NULL, 0);
    if (c->mc->cfg->milter.domain_source != MILTER_SOURCE_ENVELOPE)
        return SMFIS_CONTINUE;
    if (m->have_env_domain)
        snprintf(m->domains[m->n_domains++], DOMAIN_MAX, "%s", m->env_domain);
    m->domain_from = "envelope";
    decide(c, m, NULL, 0, NULL, &m->v);
    return reply_verdict(ctx, &m->v, NULL, "MAIL FROM");
}

/* suppressed_verdict - the refusal for a recipient who unsubscribed from domain */
static bool suppressed_verdict(milter_conn *c, const char *domain, const char *rcpt, verdict *v)
{
    cache *ca = state_cache();

    if (ca == NULL || suppress_check(ca, domain, rcpt, NULL) != CACHE_OK)
        return false;
    verdict_set(v, c->mc->cfg->handling.suppressed_recipient, "suppressed-recipient",
                "recipient %s unsubscribed from mail sent by %s", rcpt, domain);
    return v->action != CONF_ACCEPT;
}

/* milter_envrcpt - suppression and demo recipients at RCPT TO */
sfsistat milter_envrcpt(SMFICTX *ctx, char **argv)
{
    conn_priv *p = priv_get(ctx);
    milter_conn *c;
    milter_msg *m;
    char rcpt[ADDR_MAX];
    const char *one[1];
    verdict v;

    if (p == NULL || (m = p->c.msg) == NULL)
        return SMFIS_CONTINUE;
    c = &p->c;
    if (!addr_envelope(argv[0] ? argv[0] : "", rcpt, NULL, 0) || *rcpt == '\0')
        return SMFIS_CONTINUE; /* the MTA checks recipient syntax */
    if (!c->non_smtpd) {
        one[0] = rcpt;
        if (m->have_env_domain && suppressed_verdict(c, m->env_domain, rcpt, &v))
            return reply_verdict(ctx, &v, NULL, "RCPT TO");
        if (m->decided && m->n_domains) { /* envelope source: demo domains check each recipient */
            decide(c, m, one, 1, NULL, &v);
            if (v.action != CONF_ACCEPT)
                return reply_verdict(ctx, &v, NULL, "RCPT TO");
        }
    }
    if (!msg_add_rcpt(m, rcpt))
        return SMFIS_TEMPFAIL;
    return SMFIS_CONTINUE;
}

/* milter_data - the queue id is known from here on (and answering avoids P1) */
sfsistat milter_data(SMFICTX *ctx)
{
    conn_priv *p = priv_get(ctx);

    if (p && p->c.msg)
        qid_refresh(ctx, p->c.msg);
    return no_reply(p && p->caps.nr_data);
}

/* is_from - a From: field name ("From :" is one too, as Postfix reads it) */
static bool is_from(const char *name)
{
    size_t n = 4;

    if (strncasecmp(name, "From", 4) != 0)
        return false;
    while (name[n] == ' ' || name[n] == '\t')
        n++;
    return name[n] == '\0';
}

/* milter_header_cb - read From: fields as they come; keep the fields for rewriting */
sfsistat milter_header_cb(SMFICTX *ctx, char *name, char *value)
{
    conn_priv *p = priv_get(ctx);
    milter_msg *m;

    if (p == NULL || (m = p->c.msg) == NULL)
        return no_reply(p && p->caps.nr_hdr);
    if (name == NULL)
        name = "";
    if (value == NULL)
        value = "";
    if (p->c.mc->cfg->milter.domain_source == MILTER_SOURCE_HEADER && is_from(name))
        addr_from_field(&m->from, value);
    if (!m->too_many_headers)
        msg_keep_header(m, name, value);
    return no_reply(p->caps.nr_hdr);
}

/*
 * from_domains - the From: domains to judge; why they are not all known, or NULL
 *
 * A message with no From: address at all (no field, an empty one, only
 * empty groups) is judged by its envelope sender's domain only when
 * milter.from_fallback = envelope says so; everything else that keeps a
 * From: domain unknown is handling.unjudgeable_from.
 */
static const char *from_domains(milter_conn *c, milter_msg *m)
{
    const char *why = m->from.why[0] ? m->from.why : addr_from_missing(&m->from);

    memcpy(m->domains, m->from.domains, m->from.n_domains * sizeof(m->domains[0]));
    m->n_domains = m->from.n_domains;
    m->domain_from = "header";
    if (why && m->from.why[0] == '\0' &&
        c->mc->cfg->milter.from_fallback == MILTER_FALLBACK_ENVELOPE) {
        if (m->have_env_domain)
            snprintf(m->domains[m->n_domains++], DOMAIN_MAX, "%s", m->env_domain);
        m->domain_from = "envelope (no From: address)";
        log_qid(LOG_NOTICE, m->qid,
                "%s; judging the envelope sender's domain %s "
                "(milter.from_fallback = envelope)",
                why, m->have_env_domain ? m->env_domain : "(none)");
        return NULL;
    }
    if (why)
        log_qid(LOG_NOTICE, m->qid,
                "cannot judge the From: header: %s (handling.unjudgeable_from = %s)", why,
                verdict_action_name(c->mc->cfg->handling.unjudgeable_from));
    return why;
}

/* eoh_suppressed - recipients who unsubscribed from the From: domain: removed at EOM */
static size_t eoh_suppressed(milter_conn *c, milter_msg *m, verdict *first)
{
    size_t n = 0;
    verdict v;

    if (m->n_domains == 0 || c->non_smtpd)
        return 0;
    for (size_t i = 0; i < m->n_rcpts; i++)
        if (suppressed_verdict(c, m->domains[0], m->rcpts[i], &v)) {
            if (n++ == 0)
                *first = v;
        }
    return n;
}

/* milter_eoh - the From: verdict (default), suppression, whether to collect the body */
sfsistat milter_eoh(SMFICTX *ctx)
{
    conn_priv *p = priv_get(ctx);
    milter_conn *c;
    milter_msg *m;
    const char *why_not;
    verdict sv;

    if (p == NULL || (m = p->c.msg) == NULL)
        return no_reply(p && p->caps.nr_eoh);
    c = &p->c;
    qid_refresh(ctx, m);
    if (c->mc->cfg->milter.domain_source == MILTER_SOURCE_HEADER) {
        const char *unjudgeable = from_domains(c, m);
        decide(c, m, (const char *const *)m->rcpts, m->n_rcpts, unjudgeable, &m->v);
        if (m->v.action != CONF_ACCEPT) {
            m->refuse = m->v;
            m->refusing = true;
        }
    }
    if (!m->refusing && m->n_rcpts && eoh_suppressed(c, m, &sv) == m->n_rcpts) {
        m->refuse = sv;
        m->refusing = true;
    }
    m->needs_body = !m->refusing && !m->too_many_headers &&
                    tracking_needs_body(c->mc->cfg, c->mc->tracking, m->v.settings, &why_not);
    return no_reply(p && p->caps.nr_eoh);
}

/* milter_body_cb - collect the body only when the rewrite step needs it */
sfsistat milter_body_cb(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    conn_priv *p = priv_get(ctx);
    milter_msg *m;

    if (p == NULL || (m = p->c.msg) == NULL || !m->needs_body)
        return p && p->caps.skip ? SMFIS_SKIP : SMFIS_CONTINUE;
    if (!body_append(&m->body, chunk, len)) {
        log_qid(LOG_WARNING, m->qid, "delivering unchanged: %s", m->body.why);
        m->needs_body = false;
        return p->caps.skip ? SMFIS_SKIP : SMFIS_CONTINUE;
    }
    return SMFIS_CONTINUE;
}

/* eom_bcc - add the domain's verified BCC recipients that are not recipients already */
static void eom_bcc(SMFICTX *ctx, conn_priv *p, milter_msg *m)
{
    const cache_out_entry *s = m->v.settings;
    char addr[ADDR_MAX + 2];

    if (s == NULL || m->v.action != CONF_ACCEPT)
        return;
    for (uint8_t i = 0; i < s->n_bcc; i++) {
        if (!s->bcc[i].verified || addr_list_has(m->rcpts, m->n_rcpts, s->bcc[i].addr))
            continue;
        snprintf(addr, sizeof(addr), "<%s>", s->bcc[i].addr);
        if (mlt_addrcpt(ctx, addr, p->caps.addrcpt_par ? "NOTIFY=NEVER" : NULL) == MI_SUCCESS) {
            m->bcc_added++;
            msg_add_rcpt(m, s->bcc[i].addr);
            log_qid(LOG_INFO, m->qid, "added BCC recipient %s%s", addr,
                    p->caps.addrcpt_par ? " NOTIFY=NEVER" : "");
        } else {
            log_qid(LOG_WARNING, m->qid, "adding BCC recipient %s failed", s->bcc[i].addr);
        }
    }
}

/* eom_unsubscribed - remove recipients who unsubscribed from the From: domain */
static void eom_unsubscribed(SMFICTX *ctx, milter_conn *c, milter_msg *m)
{
    char addr[ADDR_MAX + 2];
    verdict v;

    if (c->mc->cfg->milter.domain_source != MILTER_SOURCE_HEADER || m->n_domains == 0 ||
        c->non_smtpd)
        return;
    for (size_t i = 0; i < m->n_rcpts; i++) {
        if (!suppressed_verdict(c, m->domains[0], m->rcpts[i], &v))
            continue;
        snprintf(addr, sizeof(addr), "<%s>", m->rcpts[i]);
        if (mlt_delrcpt(ctx, addr) == MI_SUCCESS) {
            m->rcpts_removed++;
            log_qid(LOG_INFO, m->qid, "recipient %s removed: unsubscribed from %s", m->rcpts[i],
                    m->domains[0]);
        }
    }
}

/* eom_rewrite - the rewrite step; the message goes out unchanged whatever fails */
static const char *eom_rewrite(SMFICTX *ctx, milter_conn *c, milter_msg *m)
{
    apply_result r;
    const char *outcome;

    if (!m->needs_body)
        return m->body.why ? m->body.why : "not needed";
    apply_init(&r);
    if (!tracking_run(c->mc->cfg, c->mc->tracking, m, &r))
        outcome = m->summary[0] ? m->summary : "unchanged (rewrite step failed)";
    else if (!apply_send(ctx, m->qid, &r))
        outcome = "changes refused by the MTA";
    else
        outcome = m->summary[0] ? m->summary : "rewritten";
    apply_free(&r);
    return outcome;
}

/* elapsed_ms - since MAIL FROM */
static double elapsed_ms(const milter_msg *m)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - m->started.tv_sec) * 1e3 +
           (double)(now.tv_nsec - m->started.tv_nsec) / 1e6;
}

/* milter_eom - BCC, unsubscribed recipients, rewriting, and the summary line */
sfsistat milter_eom(SMFICTX *ctx)
{
    conn_priv *p = priv_get(ctx);
    milter_conn *c;
    milter_msg *m;
    const char *body;

    if (p == NULL || (m = p->c.msg) == NULL)
        return SMFIS_CONTINUE;
    c = &p->c;
    qid_refresh(ctx, m);
    if (m->refusing) { /* decided at end of header; the body was skipped */
        sfsistat rc = reply_verdict(ctx, &m->refuse, m->qid, "end of message");
        msg_free(m);
        c->msg = NULL;
        return rc;
    }
    /* recipients first, the rewrite (headers, then the body) last: nothing
       may follow a new body (apply.h) */
    eom_bcc(ctx, p, m);
    eom_unsubscribed(ctx, c, m);
    body = eom_rewrite(ctx, c, m);
    log_qid(LOG_INFO, m->qid,
            "from=<%s> domain=%s (%s) verdict=%s/%s provider=%s bcc_added=%u removed=%u "
            "body=%s size=%zu time=%.1fms",
            m->sender, m->n_domains ? m->domains[0] : "none", m->domain_from ? m->domain_from : "-",
            verdict_action_name(m->v.action), m->v.row,
            m->v.provider >= 0 ? cache_provider_name(m->v.provider) : "-", m->bcc_added,
            m->rcpts_removed, body, m->body.len, elapsed_ms(m));
    msg_free(m);
    c->msg = NULL;
    return SMFIS_CONTINUE;
}

/* milter_abort - the transaction ended without a message */
sfsistat milter_abort(SMFICTX *ctx)
{
    conn_priv *p = priv_get(ctx);

    if (p) {
        msg_free(p->c.msg);
        p->c.msg = NULL;
    }
    return SMFIS_CONTINUE;
}

/* milter_close - drop the connection's configuration reference */
sfsistat milter_close(SMFICTX *ctx)
{
    conn_priv *p = priv_get(ctx);

    if (p == NULL)
        return SMFIS_CONTINUE;
    msg_free(p->c.msg);
    if (p->c.mc)
        state_config_put(p->c.mc);
    free(p);
    mlt_setpriv(ctx, NULL);
    return SMFIS_CONTINUE;
}
