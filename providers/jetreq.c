/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jetreq.c - JetEmail write requests: local validation and JSON bodies
 *
 * sendgatectl checks every value the way the API documents it before it
 * sends anything (so a typo costs no request from the account's budget
 * and gets a precise message), then builds exactly the documented body:
 *
 *	POST /outbound/domains/{uuid}/settings
 *	  {"bccEmails": [addr, ...] | null, "openTracking": bool,
 *	   "clickTracking": bool, "tracking_domain": host | null}
 *	  only the fields being changed; at most 5 addresses
 *	POST /inbound/domains
 *	  {"domain", "delivery_type": smtp|webhook|forward,
 *	   smtp:    "smtp_servers": ["host:port" | {"url", "priority", "tls_enabled"}]
 *	   webhook: "webhook_url", "webhook_method", "webhook_headers",
 *	            "webhook_timeout", "webhook_retry_count", "webhook_auth_header"}
 *	  fields of another mode are refused (the API answers 400 for them)
 */
#include "providers/jetemail.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"

/* jet_domain_check - the API's pattern: LDH labels and an alphabetic TLD of 2+ */
bool jet_domain_check(const char *in, char out[DOMAIN_MAX], char *why, size_t whylen)
{
    const char *tld;
    char w[ERRBUF_MAX];

    if (!domain_normalize(in, strlen(in), out, w, sizeof(w))) {
        snprintf(why, whylen, "'%s' is not a domain name: %s", in, w);
        return false;
    }
    if ((tld = strrchr(out, '.')) == NULL) {
        snprintf(why, whylen, "'%s' is not a domain name: it needs a dot", in);
        return false;
    }
    tld++;
    for (const char *p = tld; *p; p++)
        if (!isalpha((unsigned char)*p))
            tld = "";
    if (strlen(tld) < 2) {
        snprintf(why, whylen, "'%s': the top-level domain must be 2 or more letters", in);
        return false;
    }
    return true;
}

/* jet_settings_check - something to change, at most 5 distinct valid addresses, a host */
bool jet_settings_check(const jet_settings_req *r, char *why, size_t whylen)
{
    char host[DOMAIN_MAX];
    char w[ERRBUF_MAX];

    if (!r->set_bcc && r->open_tracking < 0 && r->click_tracking < 0 && !r->set_tracking_domain) {
        snprintf(why, whylen,
                 "nothing to change: give --bcc, --no-bcc, --open-tracking, "
                 "--click-tracking or --tracking-domain");
        return false;
    }
    if (r->n_bcc_given > JET_MAX_BCC) {
        snprintf(why, whylen, "at most %d BCC addresses (JetEmail's limit); %zu given", JET_MAX_BCC,
                 r->n_bcc_given);
        return false;
    }
    for (size_t i = 0; i < r->n_bcc; i++) {
        if (!addr_is_valid(r->bcc[i], w, sizeof(w))) {
            snprintf(why, whylen, "BCC address '%s' is not valid: %s", r->bcc[i], w);
            return false;
        }
        for (size_t k = 0; k < i; k++)
            if (addr_equal(r->bcc[i], r->bcc[k])) {
                snprintf(why, whylen, "BCC address '%s' given twice", r->bcc[i]);
                return false;
            }
    }
    if (r->set_tracking_domain && *r->tracking_domain &&
        !jet_domain_check(r->tracking_domain, host, why, whylen))
        return false;
    return true;
}

/* jet_settings_body - only the fields being changed */
cJSON *jet_settings_body(const jet_settings_req *r)
{
    cJSON *b = cJSON_CreateObject();
    char host[DOMAIN_MAX], why[200];

    if (b == NULL)
        return NULL;
    if (r->set_bcc && r->n_bcc == 0) {
        cJSON_AddNullToObject(b, "bccEmails");
    } else if (r->set_bcc) {
        cJSON *a = cJSON_AddArrayToObject(b, "bccEmails");
        for (size_t i = 0; a && i < r->n_bcc; i++)
            cJSON_AddItemToArray(a, cJSON_CreateString(r->bcc[i]));
    }
    if (r->open_tracking >= 0)
        cJSON_AddBoolToObject(b, "openTracking", r->open_tracking);
    if (r->click_tracking >= 0)
        cJSON_AddBoolToObject(b, "clickTracking", r->click_tracking);
    if (r->set_tracking_domain && *r->tracking_domain &&
        jet_domain_check(r->tracking_domain, host, why, sizeof(why)))
        cJSON_AddStringToObject(b, "tracking_domain", host);
    else if (r->set_tracking_domain)
        cJSON_AddNullToObject(b, "tracking_domain");
    return b;
}

/* tls_word - the optional fourth field of --server */
static int tls_word(const char *w)
{
    static const char *const on[] = {"tls", "yes", "on", "true", "1"};
    static const char *const off[] = {"notls", "no", "off", "false", "0"};

    for (size_t i = 0; i < 5; i++) {
        if (strcasecmp(w, on[i]) == 0)
            return 1;
        if (strcasecmp(w, off[i]) == 0)
            return 0;
    }
    return -1;
}

/* jet_server_parse - "host:port[:priority[:tls]]", host may be "[IPv6]" */
bool jet_server_parse(const char *spec, jet_server *s, char *why, size_t whylen)
{
    char tmp[320], *f[4] = {0}, *p = tmp, *end, *save = NULL;
    cache_smtp_server cs;
    size_t nf = 0;
    long n;

    memset(s, 0, sizeof(*s));
    s->priority = s->tls = -1;
    if (snprintf(tmp, sizeof(tmp), "%s", spec) >= (int)sizeof(tmp))
        goto bad;
    if (*p == '[') { /* keep the bracketed address whole */
        if ((end = strchr(p, ']')) == NULL || end[1] != ':')
            goto bad;
        f[nf++] = p;
        *++end = '\0';
        p = end + 1;
    }
    for (char *t = strtok_r(p, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
        if (nf == 4)
            goto bad;
        f[nf++] = t;
    }
    if (nf < 2)
        goto bad;
    {
        char hp[300];
        snprintf(hp, sizeof(hp), "%s:%s", f[0], f[1]);
        if (!jet_smtp_parse(hp, &cs, s->host, sizeof(s->host)) || strchr(f[1], '/'))
            goto bad;
        s->port = cs.port;
    }
    if (nf >= 3) {
        n = strtol(f[2], &end, 10);
        if (*f[2] == '\0' || *end || n < 0 || n > 65535) {
            snprintf(why, whylen, "--server %s: priority must be a number from 0 to 65535", spec);
            return false;
        }
        s->priority = (int)n;
    }
    if (nf == 4 && (s->tls = tls_word(f[3])) < 0) {
        snprintf(why, whylen, "--server %s: the fourth field is tls or notls", spec);
        return false;
    }
    return true;
bad:
    snprintf(why, whylen, "--server %s: expected host:port[:priority[:tls]]", spec);
    return false;
}

/* url_ok - an absolute http(s) URI with a host and no white space */
static bool url_ok(const char *u)
{
    const char *h = !strncasecmp(u, "https://", 8)  ? u + 8
                    : !strncasecmp(u, "http://", 7) ? u + 7
                                                    : NULL;

    if (h == NULL || *h == '\0' || *h == '/' || *h == ':')
        return false;
    for (; *u; u++)
        if ((unsigned char)*u <= ' ' || *u == 0x7f)
            return false;
    return true;
}

/* header_ok - "Name: value": an RFC 9110 token, a value without CR/LF */
static bool header_ok(const char *h)
{
    const char *colon = strchr(h, ':');

    if (colon == NULL || colon == h)
        return false;
    for (const char *p = h; p < colon; p++)
        if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p))
            return false;
    return strpbrk(colon, "\r\n") == NULL;
}

/* webhook_fields - any webhook-only option given? */
static const char *webhook_field(const jet_inbound_req *r)
{
    if (r->webhook_url)
        return "--webhook-url";
    if (r->webhook_method)
        return "--webhook-method";
    if (r->n_headers)
        return "--webhook-header";
    if (r->webhook_timeout >= 0)
        return "--webhook-timeout";
    if (r->webhook_retry_count >= 0)
        return "--webhook-retries";
    if (r->webhook_auth_header)
        return "--webhook-auth-header";
    return NULL;
}

/* check_webhook - the webhook mode's own fields */
static bool check_webhook(const jet_inbound_req *r, char *why, size_t whylen)
{
    if (r->webhook_url == NULL) {
        snprintf(why, whylen, "--delivery webhook needs --webhook-url URL");
        return false;
    }
    if (!url_ok(r->webhook_url)) {
        snprintf(why, whylen, "--webhook-url %s: expected an http:// or https:// URL",
                 r->webhook_url);
        return false;
    }
    if (r->webhook_method && strcmp(r->webhook_method, "POST") &&
        strcmp(r->webhook_method, "PUT")) {
        snprintf(why, whylen, "--webhook-method %s: POST or PUT", r->webhook_method);
        return false;
    }
    if (r->webhook_timeout == 0 || r->webhook_timeout > 2147483647L) {
        snprintf(why, whylen, "--webhook-timeout: milliseconds, at least 1");
        return false;
    }
    if (r->webhook_retry_count > 1000) {
        snprintf(why, whylen, "--webhook-retries: a count from 0 to 1000");
        return false;
    }
    for (size_t i = 0; i < r->n_headers; i++)
        if (!header_ok(r->headers[i])) {
            snprintf(why, whylen, "--webhook-header '%s': expected 'Name: value'", r->headers[i]);
            return false;
        }
    if (r->webhook_auth_header &&
        (!*r->webhook_auth_header || strpbrk(r->webhook_auth_header, "\r\n"))) {
        snprintf(why, whylen, "--webhook-auth-header: a non-empty value on one line");
        return false;
    }
    return true;
}

/* jet_inbound_check - the domain, the mode, and only the mode's own fields */
bool jet_inbound_check(const jet_inbound_req *r, char *why, size_t whylen)
{
    char dom[DOMAIN_MAX];
    const char *wf = webhook_field(r);

    if (!jet_domain_check(r->domain, dom, why, whylen))
        return false;
    if (r->delivery == NULL) {
        snprintf(why, whylen, "--delivery smtp|webhook|forward is required");
        return false;
    }
    if (strcmp(r->delivery, "smtp") == 0) {
        if (wf) {
            snprintf(why, whylen, "%s is only for --delivery webhook", wf);
            return false;
        }
        if (r->n_servers == 0) {
            snprintf(why, whylen, "--delivery smtp needs at least one --server host:port");
            return false;
        }
        return true;
    }
    if (r->n_servers) {
        snprintf(why, whylen, "--server is only for --delivery smtp");
        return false;
    }
    if (strcmp(r->delivery, "webhook") == 0)
        return check_webhook(r, why, whylen);
    if (strcmp(r->delivery, "forward") == 0) {
        if (wf)
            snprintf(why, whylen, "%s is only for --delivery webhook", wf);
        return wf == NULL;
    }
    snprintf(why, whylen, "--delivery %s: smtp, webhook or forward", r->delivery);
    return false;
}

/* server_json - "host:port", or an object when a priority or TLS flag was given */
static cJSON *server_json(const jet_server *s)
{
    char url[DOMAIN_MAX + 16];
    unsigned char a6[16];
    cJSON *o;

    if (inet_pton(AF_INET6, s->host, a6) == 1)
        snprintf(url, sizeof(url), "[%s]:%d", s->host, s->port);
    else
        snprintf(url, sizeof(url), "%s:%d", s->host, s->port);
    if (s->priority < 0 && s->tls < 0)
        return cJSON_CreateString(url);
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "url", url);
    if (s->priority >= 0)
        cJSON_AddNumberToObject(o, "priority", s->priority);
    if (s->tls >= 0)
        cJSON_AddBoolToObject(o, "tls_enabled", s->tls);
    return o;
}

/* webhook_body - the webhook fields that were given */
static void webhook_body(cJSON *b, const jet_inbound_req *r)
{
    cJSON_AddStringToObject(b, "webhook_url", r->webhook_url);
    if (r->webhook_method)
        cJSON_AddStringToObject(b, "webhook_method", r->webhook_method);
    if (r->n_headers) {
        cJSON *h = cJSON_AddObjectToObject(b, "webhook_headers");
        for (size_t i = 0; h && i < r->n_headers; i++) {
            const char *colon = strchr(r->headers[i], ':'), *v = colon + 1;
            char name[256];
            while (*v == ' ' || *v == '\t')
                v++;
            snprintf(name, sizeof(name), "%.*s", (int)(colon - r->headers[i]), r->headers[i]);
            cJSON_AddStringToObject(h, name, v);
        }
    }
    if (r->webhook_timeout >= 0)
        cJSON_AddNumberToObject(b, "webhook_timeout", (double)r->webhook_timeout);
    if (r->webhook_retry_count >= 0)
        cJSON_AddNumberToObject(b, "webhook_retry_count", (double)r->webhook_retry_count);
    if (r->webhook_auth_header)
        cJSON_AddStringToObject(b, "webhook_auth_header", r->webhook_auth_header);
}

/* jet_inbound_body - POST /inbound/domains, after jet_inbound_check */
cJSON *jet_inbound_body(const jet_inbound_req *r)
{
    cJSON *b = cJSON_CreateObject(), *a;
    char dom[DOMAIN_MAX], why[200];

    if (b == NULL || !jet_domain_check(r->domain, dom, why, sizeof(why))) {
        cJSON_Delete(b);
        return NULL;
    }
    cJSON_AddStringToObject(b, "domain", dom);
    cJSON_AddStringToObject(b, "delivery_type", r->delivery);
    if (strcmp(r->delivery, "smtp") == 0 && (a = cJSON_AddArrayToObject(b, "smtp_servers")))
        for (size_t i = 0; i < r->n_servers; i++)
            cJSON_AddItemToArray(a, server_json(&r->servers[i]));
    if (strcmp(r->delivery, "webhook") == 0)
        webhook_body(b, r);
    return b;
}
