/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * json.c - cache records as JSON (see json.h)
 *
 * Keyed by provider name inside each domain, times both as Unix seconds
 * and as RFC 3339 UTC text so operators can read them and scripts can
 * compare them.
 */
#include "cache/json.h"

#include <stdbool.h>
#include <stdio.h>

#include "lib/buf.h"
#include <time.h>

/*
 * json_str - a provider's text as a JSON string. cJSON copies bytes as
 * they are, so text that is not UTF-8 (a provider's reason, a legacy
 * charset) would make the whole dump invalid JSON: such bytes become U+FFFD.
 */
static cJSON *json_str(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    buf b = BUF_INIT;
    cJSON *j;

    while (*p) {
        size_t n = *p < 0x80             ? 1
                   : (*p & 0xe0) == 0xc0 ? 2
                   : (*p & 0xf0) == 0xe0 ? 3
                   : (*p & 0xf8) == 0xf0 ? 4
                                         : 0;
        bool ok = n > 0 && !(n == 2 && *p < 0xc2) && !(n == 4 && *p > 0xf4);
        for (size_t i = 1; ok && i < n; i++)
            ok = (p[i] & 0xc0) == 0x80;
        if (ok && n == 3)
            ok = !(p[0] == 0xe0 && p[1] < 0xa0) && !(p[0] == 0xed && p[1] >= 0xa0);
        if (ok && n == 4)
            ok = !(p[0] == 0xf0 && p[1] < 0x90) && !(p[0] == 0xf4 && p[1] >= 0x90);
        if (ok) {
            buf_append(&b, p, n);
            p += n;
        } else {
            buf_append_str(&b, "\xef\xbf\xbd");
            p++;
        }
    }
    j = cJSON_CreateString(buf_cstr(&b));
    buf_free(&b);
    return j;
}

static void json_add_str(cJSON *o, const char *name, const char *s)
{
    cJSON_AddItemToObject(o, name, json_str(s ? s : ""));
}

/* json_add_time - name: seconds, name_text: "2026-11-23T04:00:00Z" (0 = never: null) */
void json_add_time(cJSON *obj, const char *name, int64_t t)
{
    char text[32], key[64];
    struct tm tm;
    time_t tt = (time_t)t;

    snprintf(key, sizeof(key), "%s_text", name);
    if (t <= 0) {
        cJSON_AddNumberToObject(obj, name, 0);
        cJSON_AddNullToObject(obj, key);
        return;
    }
    if (gmtime_r(&tt, &tm) == NULL || tm.tm_year > 9999 - 1900 ||
        strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(text, sizeof(text), "(out of range)"); /* a corrupt or absurd time */
    cJSON_AddNumberToObject(obj, name, (double)t);
    cJSON_AddStringToObject(obj, key, text);
}

static cJSON *json_out_entry(const cache_out_entry *e)
{
    cJSON *o = cJSON_CreateObject(), *bcc = cJSON_CreateArray();

    cJSON_AddStringToObject(o, "send_status", cache_send_name(e->send));
    json_add_str(o, "provider_status", e->raw_status);
    json_add_str(o, "reason", e->reason);
    json_add_str(o, "provider_id", e->ref);
    cJSON_AddBoolToObject(o, "open_tracking", e->open_tracking);
    cJSON_AddBoolToObject(o, "click_tracking", e->click_tracking);
    cJSON_AddBoolToObject(o, "unsubscribe", e->unsubscribe);
    json_add_str(o, "tracking_host", e->tracking_host);
    for (uint8_t i = 0; i < e->n_bcc; i++) {
        cJSON *b = cJSON_CreateObject();
        json_add_str(b, "address", e->bcc[i].addr);
        cJSON_AddBoolToObject(b, "verified", e->bcc[i].verified);
        cJSON_AddItemToArray(bcc, b);
    }
    cJSON_AddItemToObject(o, "bcc", bcc);
    json_add_time(o, "fetched_at", e->fetched_at);
    return o;
}

/* json_outbound - {"<provider>": {...}, ...} */
cJSON *json_outbound(const cache_outbound *rec)
{
    cJSON *o = cJSON_CreateObject();

    for (uint8_t i = 0; i < rec->n; i++)
        cJSON_AddItemToObject(o, cache_provider_name(rec->e[i].provider),
                              json_out_entry(&rec->e[i]));
    return o;
}

static cJSON *json_in_entry(const cache_in_entry *e)
{
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray(), *rules = cJSON_CreateArray();

    json_add_str(o, "status", e->active ? "active" : "disabled");
    cJSON_AddStringToObject(o, "delivery_type", cache_delivery_name(e->delivery));
    json_add_str(o, "provider_id", e->ref);
    for (size_t i = 0; i < e->n_smtp; i++) {
        cJSON *s = cJSON_CreateObject();
        json_add_str(s, "host", e->smtp[i].host);
        cJSON_AddNumberToObject(s, "port", e->smtp[i].port);
        cJSON_AddNumberToObject(s, "priority", e->smtp[i].priority);
        cJSON_AddBoolToObject(s, "tls", e->smtp[i].tls);
        cJSON_AddItemToArray(arr, s);
    }
    cJSON_AddItemToObject(o, "smtp_servers", arr);
    if (*e->webhook_url) {
        json_add_str(o, "webhook_url", e->webhook_url);
        json_add_str(o, "webhook_method", e->webhook_method);
        cJSON_AddNumberToObject(o, "webhook_timeout_ms", e->webhook_timeout_ms);
        cJSON_AddNumberToObject(o, "webhook_retry_count", e->webhook_retry_count);
    }
    cJSON_AddBoolToObject(o, "forward_mx_verified", e->fwd_mx_verified);
    cJSON_AddBoolToObject(o, "forward_dkim_verified", e->fwd_dkim_verified);
    cJSON_AddBoolToObject(o, "forward_spf_verified", e->fwd_spf_verified);
    cJSON_AddBoolToObject(o, "forward_dmarc_verified", e->fwd_dmarc_verified);
    for (size_t i = 0; i < e->n_rules; i++) {
        cJSON *r = cJSON_CreateObject();
        json_add_str(r, "localpart", e->rules[i].localpart);
        json_add_str(r, "destination", e->rules[i].destination);
        cJSON_AddBoolToObject(r, "active", e->rules[i].active);
        cJSON_AddBoolToObject(r, "verified", e->rules[i].verified);
        if (*e->rules[i].ref)
            json_add_str(r, "id", e->rules[i].ref);
        cJSON_AddItemToArray(rules, r);
    }
    cJSON_AddItemToObject(o, "forward_rules", rules);
    json_add_time(o, "fetched_at", e->fetched_at);
    return o;
}

/* json_inbound - {"<provider>": {...}, ...} */
cJSON *json_inbound(const cache_inbound *rec)
{
    cJSON *o = cJSON_CreateObject();

    for (uint8_t i = 0; i < rec->n; i++)
        cJSON_AddItemToObject(o, cache_provider_name(rec->e[i].provider),
                              json_in_entry(&rec->e[i]));
    return o;
}

/* json_meta - a provider's refresh state */
cJSON *json_meta(const cache_meta *m)
{
    cJSON *o = cJSON_CreateObject();

    json_add_time(o, "last_attempt", m->last_attempt);
    json_add_time(o, "last_success", m->last_success);
    json_add_time(o, "next_attempt", m->next_attempt);
    cJSON_AddNumberToObject(o, "consecutive_failures", m->failures);
    cJSON_AddNumberToObject(o, "outbound_domains", m->n_outbound);
    cJSON_AddNumberToObject(o, "inbound_domains", m->n_inbound);
    if (m->last_error[0])
        json_add_str(o, "last_error", m->last_error);
    else
        cJSON_AddNullToObject(o, "last_error");
    return o;
}
