/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mtnorm.c - Mailtrap Domain objects into cache records (pure; see mailtrap.h)
 *
 * One Domain object (from GET /api/domains, GET /api/domains/{id}, or a
 * create/update answer) becomes one outbound item. The compliance table
 * itself lives in cache/verdict.c (verdict_map_mailtrap) so the static
 * provider and this client say the same words.
 */
#include "providers/mailtrap.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cache/verdict.h"
#include "providers/pjson.h"

/* mt_domain_name - the normalised domain_name */
bool mt_domain_name(const cJSON *d, char out[DOMAIN_MAX], char *err, size_t errlen)
{
    return pjson_domain(d, "domain_name", "name", "a domain", out, err, errlen);
}

/* mt_domain_id - the integer id (a string of digits is accepted too) */
bool mt_domain_id(const cJSON *d, long *id)
{
    return pjson_long(pjson_get(d, "id", NULL), id) && *id > 0;
}

/* mt_tracking_host - the rule in mailtrap.h; false when the domain has none */
bool mt_tracking_host(const cJSON *d, const char *domain, char host[DOMAIN_MAX])
{
    const cJSON *recs = pjson_get(d, "dns_records", NULL), *r;
    bool custom = false;

    if (!pjson_bool(pjson_get(d, "custom_domain_tracking_enabled", NULL), &custom) || !custom)
        return false;
    if (!cJSON_IsArray(recs))
        return false;
    cJSON_ArrayForEach(r, recs)
    {
        const char *key = pjson_str(pjson_get(r, "key", NULL));
        const char *st = pjson_str(pjson_get(r, "status", NULL));
        const char *fq = pjson_str(pjson_get(r, "domain", NULL));
        if (key == NULL || strcmp(key, "link_verification") != 0)
            continue;
        if (st == NULL || strcasecmp(st, "pass") != 0)
            return false;
        if (fq && domain_normalize(fq, strlen(fq), host, NULL, 0) &&
            domain_is_subdomain(host, domain) && strcmp(host, domain) != 0)
            return true;
        return snprintf(host, DOMAIN_MAX, "mt-link.%s", domain) < DOMAIN_MAX;
    }
    return false;
}

/* mt_domain_item - one Domain object as an outbound item */
cache_out_item *mt_domain_item(items *it, const cJSON *d, int64_t now, char *err, size_t errlen)
{
    char dom[DOMAIN_MAX], host[DOMAIN_MAX], ref[32];
    const char *status, *reason;
    cache_out_item *o;
    int send;
    long id;
    bool b;

    if (!mt_domain_name(d, dom, err, errlen))
        return NULL;
    if ((o = items_add_out(it, dom)) == NULL)
        return errbuf_set(err, errlen, "out of memory"), NULL;
    status = pjson_str(pjson_get(d, "compliance_status", "status"));
    if (status == NULL) {
        send = SEND_BLOCKED;
        reason = "the provider's answer gives no compliance_status; treated as not allowed to "
                 "send";
        status = "";
    } else {
        verdict_map_mailtrap(status, &send, &reason); /* unknown: blocked, raw kept below */
    }
    o->e.send = (uint8_t)send;
    o->e.reason = reason;
    o->e.raw_status = items_str(it, status);
    if (mt_domain_id(d, &id)) {
        snprintf(ref, sizeof(ref), "%ld", id);
        o->e.ref = items_str(it, ref);
    }
    o->e.open_tracking = pjson_bool(pjson_get(d, "open_tracking_enabled", NULL), &b) && b;
    o->e.click_tracking = pjson_bool(pjson_get(d, "click_tracking_enabled", NULL), &b) && b;
    o->e.unsubscribe = pjson_bool(pjson_get(d, "auto_unsubscribe_link_enabled", NULL), &b) && b;
    if (mt_tracking_host(d, dom, host))
        o->e.tracking_host = items_str(it, host);
    o->e.fetched_at = now;
    if (items_failed(it))
        return errbuf_set(err, errlen, "out of memory"), NULL;
    return o;
}
