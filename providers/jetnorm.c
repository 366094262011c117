/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jetnorm.c - JetEmail answers into cache records (pure; see jetemail.h)
 *
 * The refresher (jetemail.c) fetches, this file interprets: a list row
 * becomes an outbound or inbound item, a settings answer fills in
 * tracking, BCC, servers and webhook fields, a rule list becomes forward
 * rules. Every function works on parsed JSON only, so the unit tests feed
 * it fixture strings; nothing here touches the network or the cache.
 */
#include "providers/jetemail.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "lib/log.h"
#include "providers/pjson.h"

/*
 * The send-status table (documented in jetemail.h): the status word's
 * class, then DMARC. Numbers follow the inbound list's convention
 * (1 active, 0 disabled).
 */
enum jet_class { JC_ACTIVE, JC_PENDING, JC_DISABLED, JC_UNKNOWN };

static const struct {
    const char *word;
    enum jet_class cls;
} jet_words[] = {
        {"active", JC_ACTIVE},
        {"verified", JC_ACTIVE},
        {"enabled", JC_ACTIVE},
        {"approved", JC_ACTIVE},
        {"valid", JC_ACTIVE},
        {"ok", JC_ACTIVE},
        {"1", JC_ACTIVE},
        {"true", JC_ACTIVE},
        {"pending", JC_PENDING},
        {"verifying", JC_PENDING},
        {"checking", JC_PENDING},
        {"processing", JC_PENDING},
        {"in_progress", JC_PENDING},
        {"disabled", JC_DISABLED},
        {"inactive", JC_DISABLED},
        {"suspended", JC_DISABLED},
        {"blocked", JC_DISABLED},
        {"rejected", JC_DISABLED},
        {"failed", JC_DISABLED},
        {"unverified", JC_DISABLED},
        {"deleted", JC_DISABLED},
        {"0", JC_DISABLED},
        {"false", JC_DISABLED},
};

static enum jet_class jet_class_of(const char *status)
{
    for (size_t i = 0; i < sizeof(jet_words) / sizeof(jet_words[0]); i++)
        if (strcasecmp(status, jet_words[i].word) == 0)
            return jet_words[i].cls;
    return JC_UNKNOWN;
}

/* jet_send_status - the table: status class and DMARC verification to a send status */
void jet_send_status(const char *status, int dmarc, int *send, const char **reason)
{
    enum jet_class cls = jet_class_of(status);

    *send = SEND_BLOCKED;
    if (cls == JC_UNKNOWN)
        *reason = *status ? "status unknown to sendgate, treated as not allowed to send"
                          : "JetEmail's answer gives no status for the domain; treated as not "
                            "allowed to send";
    else if (cls == JC_DISABLED)
        *reason = "domain not active at JetEmail; enable and verify it in the JetEmail dashboard";
    else if (dmarc == 0)
        *reason = "no verified DMARC record: JetEmail refuses to send for the domain; publish "
                  "at least v=DMARC1; p=none at _dmarc and recheck the domain";
    else if (dmarc < 0)
        *reason = "JetEmail's answer does not show a verified DMARC record, and JetEmail "
                  "refuses to send without one";
    else if (cls == JC_PENDING) {
        *send = SEND_PENDING;
        *reason = "JetEmail is still verifying the domain";
    } else {
        *send = SEND_ALLOWED;
        *reason = "domain active at JetEmail with a verified DMARC record";
    }
}

/* jet_uuid_valid - 8-4-4-4-12 hex digits: safe to put in a path */
bool jet_uuid_valid(const char *s)
{
    static const int groups[] = {8, 4, 4, 4, 12};

    for (int g = 0; g < 5; g++) {
        for (int i = 0; i < groups[g]; i++, s++)
            if (!isxdigit((unsigned char)*s))
                return false;
        if (g < 4 && *s++ != '-')
            return false;
    }
    return *s == '\0';
}

/* copy_uuid - the row's uuid when it is one, else "" */
static void copy_uuid(const cJSON *row, char out[40])
{
    const char *u = pjson_str(pjson_get(row, "uuid", "id"));

    out[0] = '\0';
    if (u && jet_uuid_valid(u))
        for (int i = 0; i < 37; i++)
            out[i] = (char)tolower((unsigned char)u[i]);
}

/* row_domain - the normalised "domain" of a row */
static bool row_domain(const cJSON *row, char out[DOMAIN_MAX], char *err, size_t errlen)
{
    return pjson_domain(row, "domain", "domain_name", "a row", out, err, errlen);
}

/* dns_flag - dns.<rec>.verified, dns.<rec> as a boolean, or a flat field; -1 unknown */
static int dns_flag(const cJSON *row, const char *rec, const char *snake, const char *camel)
{
    const cJSON *dns = pjson_get(row, "dns", "dns_records"), *v = NULL;
    bool b;

    if (cJSON_IsObject(dns) && (v = pjson_get(dns, rec, NULL)) && cJSON_IsObject(v))
        v = pjson_get(v, "verified", "status");
    if (v == NULL)
        v = pjson_get(row, snake, camel);
    return v && pjson_bool(v, &b) ? b : -1;
}

/* status_text - a status as text whatever its JSON type */
static void status_text(const cJSON *v, char *out, size_t n)
{
    long l;

    if (pjson_str(v))
        snprintf(out, n, "%s", v->valuestring);
    else if (pjson_long(v, &l))
        snprintf(out, n, "%ld", l);
    else if (cJSON_IsBool(v))
        snprintf(out, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else
        out[0] = '\0';
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
}

/* jet_out_row_parse - one row of GET /outbound/domains */
bool jet_out_row_parse(const cJSON *row, jet_out_row *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    if (!row_domain(row, r->domain, err, errlen))
        return false;
    copy_uuid(row, r->uuid);
    status_text(pjson_get(row, "status", "state"), r->status, sizeof(r->status));
    r->dmarc = dns_flag(row, "dmarc", "dmarc_verified", "dmarcVerified");
    r->tracking = dns_flag(row, "tracking", "tracking_verified", "trackingVerified");
    return true;
}

/* jet_out_item - the outbound entry the list alone allows: send status, tracking off */
cache_out_item *jet_out_item(items *it, const jet_out_row *r, int64_t now)
{
    cache_out_item *o = items_add_out(it, r->domain);
    const char *reason;
    int send;

    if (o == NULL)
        return NULL;
    jet_send_status(r->status, r->dmarc, &send, &reason);
    o->e.send = (uint8_t)send;
    o->e.reason = reason;
    o->e.raw_status = items_str(it, r->status);
    o->e.ref = items_str(it, r->uuid);
    o->e.fetched_at = now;
    return o;
}

/* jet_failed_answer - {"success": false, ...} with a 2xx status */
bool jet_failed_answer(const cJSON *root, char *why, size_t whylen)
{
    const cJSON *ok = pjson_get(root, "success", NULL);
    const char *msg;

    if (!cJSON_IsFalse(ok))
        return false;
    msg = pjson_str(pjson_get(root, "error", "message"));
    if (why)
        snprintf(why, whylen, "the API answered success=false: %s", msg ? msg : "no reason given");
    return true;
}

/* out_bcc - bccEmails: [{email, status 0|1}] or bare addresses (pending) */
static void out_bcc(items *it, cache_out_entry *e, const cJSON *list)
{
    const cJSON *b;
    char why[ERRBUF_MAX];

    cJSON_ArrayForEach(b, list)
    {
        const char *addr = pjson_str(cJSON_IsObject(b) ? pjson_get(b, "email", "address") : b);
        const cJSON *st = cJSON_IsObject(b) ? pjson_get(b, "status", "verified") : NULL;
        long n;
        bool v = false;
        if (addr == NULL || !addr_is_valid(addr, why, sizeof(why))) {
            log_warn("jetemail: BCC address '%.80s' ignored: %s", addr ? addr : "(none)",
                     addr ? why : "not a string");
            continue;
        }
        if (e->n_bcc >= CACHE_MAX_BCC)
            break;
        if (pjson_long(st, &n))
            v = n == 1; /* 1 verified, 0 pending */
        else if (!pjson_bool(st, &v))
            v = false;
        e->bcc[e->n_bcc].addr = items_str(it, addr);
        e->bcc[e->n_bcc++].verified = v;
    }
}

/* jet_out_settings - GET /outbound/domains/{uuid}/settings into the entry */
bool jet_out_settings(items *it, cache_out_entry *e, const jet_out_row *r, const cJSON *root,
                      char *err, size_t errlen)
{
    const cJSON *s, *bcc;
    const char *d, *td;
    char host[DOMAIN_MAX], dom[DOMAIN_MAX], tdwhy[ERRBUF_MAX];
    bool b;

    if (jet_failed_answer(root, NULL, 0))
        return errbuf_set(err, errlen, "the settings answer says success=false");
    if ((s = pjson_object(root, "settings")) == NULL)
        return errbuf_set(err, errlen, "no settings object in the answer");
    d = pjson_str(pjson_get(s, "domain", NULL));
    if (d && (!domain_normalize(d, strlen(d), dom, NULL, 0) || strcmp(dom, r->domain) != 0))
        return errbuf_set(err, errlen, "the settings answer is about another domain");
    e->open_tracking = pjson_bool(pjson_get(s, "openTracking", "open_tracking"), &b) && b;
    e->click_tracking = pjson_bool(pjson_get(s, "clickTracking", "click_tracking"), &b) && b;
    e->unsubscribe = false; /* JetEmail has no such setting */
    e->n_bcc = 0;
    if (cJSON_IsArray(bcc = pjson_get(s, "bccEmails", "bcc_emails")))
        out_bcc(it, e, bcc);
    e->tracking_host = "";
    td = pjson_str(pjson_get(s, "tracking_domain", "trackingDomain"));
    if (td && *td && r->tracking != 0) {
        if (domain_normalize(td, strlen(td), host, tdwhy, sizeof(tdwhy)))
            e->tracking_host = items_str(it, host);
        else
            log_warn("jetemail: %s: tracking_domain '%.80s' ignored: %s", r->domain, td, tdwhy);
    }
    return !items_failed(it) || errbuf_set(err, errlen, "out of memory");
}

/* jet_in_row_parse - one row of GET /inbound/domains (status 1/0 or a word) */
bool jet_in_row_parse(const cJSON *row, jet_in_row *r, char *err, size_t errlen)
{
    const char *dt;
    bool b;

    memset(r, 0, sizeof(*r));
    if (!row_domain(row, r->domain, err, errlen))
        return false;
    copy_uuid(row, r->uuid);
    dt = pjson_str(pjson_get(row, "delivery_type", "deliveryType"));
    r->delivery = dt ? cache_delivery_parse(dt) : -1;
    r->active = pjson_bool(pjson_get(row, "status", "active"), &b) ? b : -1;
    return true;
}

/* jet_in_item - the inbound entry from the list row; settings fill in the rest */
cache_in_item *jet_in_item(items *it, const jet_in_row *r, int64_t now)
{
    cache_in_item *in = items_add_in(it, r->domain);

    if (in == NULL)
        return NULL;
    in->e.ref = items_str(it, r->uuid);
    in->e.delivery = r->delivery >= 0 ? (uint8_t)r->delivery : DELIVERY__COUNT; /* unknown yet */
    in->e.active = r->active == 1;
    in->e.fetched_at = now;
    return in;
}

/* jet_smtp_parse - "host:port", "[v6]:port", "host" (port 25), optional smtp:// */
bool jet_smtp_parse(const char *spec, cache_smtp_server *s, char *host, size_t hostlen)
{
    char tmp[300], *h = tmp, *port = NULL, *end;
    unsigned char a6[16];
    long p = 25;

    if (strncasecmp(spec, "smtp://", 7) == 0)
        spec += 7;
    if (snprintf(tmp, sizeof(tmp), "%s", spec) >= (int)sizeof(tmp))
        return false;
    tmp[strcspn(tmp, "/")] = '\0';
    if (*h == '[') {
        if ((end = strchr(h, ']')) == NULL)
            return false;
        *end = '\0';
        h++;
        if (end[1] == ':')
            port = end + 2;
        else if (end[1] != '\0')
            return false;
        if (inet_pton(AF_INET6, h, a6) != 1)
            return false;
    } else if (strchr(h, ':') && strchr(h, ':') == strrchr(h, ':')) {
        port = strchr(h, ':');
        *port++ = '\0';
    } else if (strchr(h, ':')) {
        if (inet_pton(AF_INET6, h, a6) != 1) /* a bare IPv6 address */
            return false;
    }
    if (port && (p = strtol(port, &end, 10), *port == '\0' || *end || p < 1 || p > 65535))
        return false;
    if (!strchr(h, ':')) {
        char dom[DOMAIN_MAX];
        if (!domain_normalize(h, strlen(h), dom, NULL, 0))
            return false;
        snprintf(tmp, sizeof(tmp), "%s", dom);
        h = tmp;
    }
    if (strlen(h) >= hostlen)
        return false;
    memmove(host, h, strlen(h) + 1);
    s->host = host;
    s->port = (int)p;
    return true;
}

/* in_server - one smtp_servers item: a string or {url, priority, tls_enabled} */
static void in_server(items *it, cache_in_entry *e, const cJSON *v, size_t idx)
{
    const cJSON *o = cJSON_IsObject(v) ? v : NULL;
    const char *spec = pjson_str(o ? pjson_get(o, "url", "host") : v);
    cache_smtp_server *s = &e->smtp[e->n_smtp];
    char host[DOMAIN_MAX];
    long n;
    bool b;

    if (spec == NULL || !jet_smtp_parse(spec, s, host, sizeof(host))) {
        log_warn("jetemail: inbound SMTP server '%.80s' ignored: expected host:port",
                 spec ? spec : "(not a string)");
        return;
    }
    if (o && !strchr(spec, ':') && pjson_long(pjson_get(o, "port", NULL), &n) && n > 0 && n < 65536)
        s->port = (int)n;
    s->host = items_str(it, host);
    s->priority = o && pjson_long(pjson_get(o, "priority", NULL), &n) ? (int)n : (int)idx + 1;
    s->tls = o && pjson_bool(pjson_get(o, "tls_enabled", "tlsEnabled"), &b) && b;
    e->n_smtp++;
}

/* in_servers - smtp_servers, or the older single nexthop */
static bool in_servers(items *it, cache_in_entry *e, const cJSON *s)
{
    const cJSON *list = pjson_get(s, "smtp_servers", "smtpServers"), *v;
    const cJSON *nexthop = pjson_get(s, "nexthop", "next_hop");
    size_t n = cJSON_IsArray(list) ? (size_t)cJSON_GetArraySize(list) : pjson_str(nexthop) ? 1 : 0;
    size_t idx = 0;

    if (n == 0)
        return true;
    if (n > CACHE_MAX_SMTP)
        n = CACHE_MAX_SMTP;
    e->n_smtp = 0;
    if ((e->smtp = items_alloc(it, n * sizeof(*e->smtp))) == NULL)
        return false;
    if (!cJSON_IsArray(list)) {
        in_server(it, e, nexthop, 0);
        return true;
    }
    cJSON_ArrayForEach(v, list)
    {
        if (idx >= n)
            break;
        in_server(it, e, v, idx++);
    }
    return true;
}

/* in_flag - a forward_*_verified flag (0/1 or a boolean) */
static bool in_flag(const cJSON *s, const char *snake, const char *camel)
{
    bool b;

    return pjson_bool(pjson_get(s, snake, camel), &b) && b;
}

/* in_webhook - URL, method, timeout and retry count (never the secret or headers) */
static void in_webhook(items *it, cache_in_entry *e, const cJSON *s)
{
    const char *url = pjson_str(pjson_get(s, "webhook_url", "webhookUrl"));
    const char *m = pjson_str(pjson_get(s, "webhook_method", "webhookMethod"));
    long n;

    if (url == NULL || *url == '\0')
        return;
    e->webhook_url = items_str(it, url);
    e->webhook_method = m && (!strcasecmp(m, "PUT") || !strcasecmp(m, "POST"))
                                ? (!strcasecmp(m, "PUT") ? "PUT" : "POST")
                                : "POST";
    e->webhook_timeout_ms =
            pjson_long(pjson_get(s, "webhook_timeout", "webhookTimeout"), &n) ? (int)n : 30000;
    e->webhook_retry_count =
            pjson_long(pjson_get(s, "webhook_retry_count", "webhookRetryCount"), &n) ? (int)n : 3;
}

/* jet_in_settings - GET /inbound/settings/{uuid}: result object or results[0] */
bool jet_in_settings(items *it, cache_in_entry *e, const cJSON *root, char *err, size_t errlen)
{
    const cJSON *s, *v;
    const char *dt;
    bool b;

    if (jet_failed_answer(root, NULL, 0))
        return errbuf_set(err, errlen, "the settings answer says success=false");
    if ((s = pjson_object(root, NULL)) == NULL)
        return errbuf_set(err, errlen, "no settings object in the answer");
    if ((v = pjson_get(s, "status", "active")) && pjson_bool(v, &b))
        e->active = b;
    if ((dt = pjson_str(pjson_get(s, "delivery_type", "deliveryType")))) {
        int d = cache_delivery_parse(dt);
        if (d < 0)
            return errbuf_set(err, errlen, "unknown delivery_type in the settings answer");
        e->delivery = (uint8_t)d;
    }
    if (e->delivery >= DELIVERY__COUNT)
        return errbuf_set(err, errlen, "no delivery_type for the domain");
    if (!in_servers(it, e, s))
        return errbuf_set(err, errlen, "out of memory");
    in_webhook(it, e, s);
    e->fwd_mx_verified = in_flag(s, "forward_mx_verified", "forwardMxVerified");
    e->fwd_dkim_verified = in_flag(s, "forward_dkim_verified", "forwardDkimVerified");
    e->fwd_spf_verified = in_flag(s, "forward_spf_verified", "forwardSpfVerified");
    e->fwd_dmarc_verified = in_flag(s, "forward_dmarc_verified", "forwardDmarcVerified");
    return !items_failed(it) || errbuf_set(err, errlen, "out of memory");
}

/* in_rule - one forward rule; false when it is unusable */
static bool in_rule(items *it, cache_fwd_rule *r, const cJSON *v)
{
    const char *lp = pjson_str(pjson_get(v, "localpart", "localPart"));
    const char *dest = pjson_str(pjson_get(v, "destination", NULL));
    const char *ref = pjson_str(pjson_get(v, "uuid", "id"));
    char local[80];
    size_t n;
    bool b;

    if (lp == NULL || dest == NULL || (n = strlen(lp)) == 0 || n > 64 ||
        !addr_is_valid(dest, NULL, 0)) {
        log_warn("jetemail: forward rule '%.64s -> %.80s' ignored", lp ? lp : "?",
                 dest ? dest : "?");
        return false;
    }
    for (size_t i = 0; i <= n; i++)
        local[i] = (char)tolower((unsigned char)lp[i]);
    r->localpart = items_str(it, local);
    r->destination = items_str(it, dest);
    r->ref = items_str(it, ref ? ref : "");
    r->active = pjson_bool(pjson_get(v, "active", NULL), &b) ? b : true;
    r->verified = pjson_bool(pjson_get(v, "verified", NULL), &b) && b;
    return true;
}

/* jet_in_rules - GET /inbound/domains/{uuid}/forward-rules */
bool jet_in_rules(items *it, cache_in_entry *e, const cJSON *root, char *err, size_t errlen)
{
    const cJSON *rows = pjson_rows(root), *v;
    size_t n;

    if (jet_failed_answer(root, NULL, 0))
        return errbuf_set(err, errlen, "the forward-rules answer says success=false");
    if (rows == NULL)
        return errbuf_set(err, errlen, "no list of forward rules in the answer");
    n = (size_t)cJSON_GetArraySize(rows);
    if (n > CACHE_MAX_RULES)
        n = CACHE_MAX_RULES;
    e->n_rules = 0;
    e->rules = n ? items_alloc(it, n * sizeof(*e->rules)) : NULL;
    if (n && e->rules == NULL)
        return errbuf_set(err, errlen, "out of memory");
    cJSON_ArrayForEach(v, rows)
    {
        if (e->n_rules >= n)
            break;
        if (in_rule(it, &e->rules[e->n_rules], v))
            e->n_rules++;
    }
    return !items_failed(it) || errbuf_set(err, errlen, "out of memory");
}
