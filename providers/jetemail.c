/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jetemail.c - the JetEmail API client: requests and the refresher's fetch
 *
 * Data flow: providers/refresh.c calls jet_fetch, which lists the outbound
 * and inbound domains, asks for each domain's settings (and forward
 * rules), hands every answer to jetnorm.c and collects the items the
 * refresher commits in one transaction. sendgatectl uses jet_call for
 * single requests and jet_fetch_*_one to write a domain through to the
 * cache after a change.
 *
 * Per-domain calls that fail with an HTTP error (404, 400, 5xx) do not
 * fail the refresh: the domain keeps its previous cache entry. Failures
 * that concern the whole account or the connection (401, 403, 429,
 * transport errors, malformed or oversized answers) stop the refresh so
 * nothing is written and, for 429, no further request is sent.
 */
#include "providers/jetemail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "providers/pjson.h"

/* jet_client_init - the HTTP client with the [jetemail] and [refresh] settings */
bool jet_client_init(jet_client *j, const conf *cfg, http_budget *b, const atomic_bool *cancel,
                     char *err, size_t errlen)
{
    http_opts o = {0};

    o.base_url = cfg->jetemail.base_url;
    o.token = conf_token(cfg, CK_jetemail_api_token, CK_jetemail_api_token_file);
    o.auth = HTTP_AUTH_BEARER;
    http_opts_refresh(&o, cfg, b, cancel);
    if (o.token == NULL) {
        snprintf(err, errlen, "no JetEmail API token: set jetemail.api_token_file");
        return false;
    }
    if (!http_client_init(&j->h, &o)) {
        snprintf(err, errlen, "cannot initialise libcurl");
        return false;
    }
    return true;
}

void jet_client_free(jet_client *j)
{
    http_client_free(&j->h);
}

/* jet_call - one request; the answer as JSON (an empty object for an empty 2xx body) */
cJSON *jet_call(jet_client *j, const char *method, const char *path, const cJSON *body,
                http_failure *f)
{
    http_response r;
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON *root = NULL;
    char why[200];
    int rc;

    http_response_init(&r);
    if (body && text == NULL) {
        http_failure_text(f, HTTP_ERR_TRANSPORT, "%s %s: out of memory", method, path);
        return NULL;
    }
    rc = http_request(&j->h, method, path, text, &r);
    free(text);
    if (rc != HTTP_OK) {
        http_failure_set(f, method, path, &r);
    } else if (r.body.len == 0) {
        root = cJSON_CreateObject();
    } else if ((root = http_json(&r, &rc)) == NULL) {
        http_failure_set(f, method, path, &r);
    } else if (jet_failed_answer(root, why, sizeof(why))) {
        http_failure_text(f, HTTP_ERR_STATUS, "%s %s: HTTP %ld: %s", method, path, r.status, why);
        f->status = r.status;
        cJSON_Delete(root);
        root = NULL;
    }
    http_response_free(&r);
    return root;
}

/* account_wide - a failure the next request would meet too: stop the refresh */
static bool account_wide(const http_failure *f)
{
    return f->rc != HTTP_ERR_STATUS || f->status == 401 || f->status == 403 || f->status == 429;
}

/* jet_find_row - the list row of a domain (normalised comparison) */
const cJSON *jet_find_row(const cJSON *root, const char *domain)
{
    const cJSON *row;
    char dom[DOMAIN_MAX];

    cJSON_ArrayForEach(row, pjson_rows(root))
    {
        const char *d = pjson_str(pjson_get(row, "domain", "domain_name"));
        if (d && domain_normalize(d, strlen(d), dom, NULL, 0) && strcmp(dom, domain) == 0)
            return row;
    }
    return NULL;
}

/* carry_out - keep the cached settings of a domain whose settings call failed */
static void carry_out(cache *prev, items *it, cache_out_item *o)
{
    cache_outbound *rec = prev ? malloc(sizeof(*rec)) : NULL;
    const cache_out_entry *old;
    cache_out_entry fresh = o->e;

    if (rec && cache_peek_outbound(prev, o->domain, rec) == CACHE_OK &&
        (old = cache_outbound_find(rec, PROV_JETEMAIL)) != NULL) {
        items_copy_out(it, &o->e, old);
        /* the list is fresh: its status and id win; settings stay as they were */
        o->e.send = fresh.send;
        o->e.raw_status = fresh.raw_status;
        o->e.reason = fresh.reason;
        o->e.ref = fresh.ref;
        o->e.fetched_at = fresh.fetched_at;
    }
    free(rec);
}

/* out_settings - GET the settings of one listed domain into o */
static int out_settings(jet_client *j, const jet_out_row *r, items *it, cache_out_item *o,
                        http_failure *f)
{
    char path[128];
    char why[ERRBUF_MAX];
    cJSON *root;
    bool ok;

    if (r->uuid[0] == '\0') {
        http_failure_text(f, HTTP_ERR_STATUS, "%s: no uuid in the domain list", r->domain);
        return 1;
    }
    snprintf(path, sizeof(path), "/outbound/domains/%s/settings", r->uuid);
    if ((root = jet_call(j, "GET", path, NULL, f)) == NULL)
        return account_wide(f) ? -1 : 1;
    ok = jet_out_settings(it, &o->e, r, root, why, sizeof(why));
    cJSON_Delete(root);
    if (!ok)
        http_failure_text(f, HTTP_ERR_JSON, "GET %s: %s", path, why);
    return ok ? 0 : 1;
}

/* jet_list - GET a list of domains; the answer (free it) and its rows, NULL on failure */
static cJSON *jet_list(jet_client *j, const char *path, const cJSON **rows, http_failure *f)
{
    cJSON *root = jet_call(j, "GET", path, NULL, f);

    if (root != NULL && (*rows = pjson_rows(root)) == NULL) {
        http_failure_text(f, HTTP_ERR_JSON, "GET %s: no list of domains in the answer", path);
        cJSON_Delete(root);
        root = NULL;
    }
    return root;
}

/* fetch_outbound - the list, then each domain's settings; false stops the refresh */
static bool fetch_outbound(jet_client *j, cache *prev, items *it, int64_t now, jet_stats *st,
                           http_failure *f)
{
    const cJSON *rows, *row;
    cJSON *root = jet_list(j, "/outbound/domains", &rows, f);
    http_failure one;

    if (root == NULL)
        return false;
    cJSON_ArrayForEach(row, rows)
    {
        jet_out_row r;
        char why[ERRBUF_MAX];
        cache_out_item *o;
        int rc;
        if (!jet_out_row_parse(row, &r, why, sizeof(why))) {
            log_warn("jetemail: an outbound domain row was ignored: %s", why);
            st->skipped++;
            continue;
        }
        if ((o = jet_out_item(it, &r, now)) == NULL)
            break;
        http_failure_clear(&one);
        if ((rc = out_settings(j, &r, it, o, &one)) < 0) {
            *f = one;
            cJSON_Delete(root);
            return false;
        }
        if (rc > 0) {
            log_warn("jetemail: %s: settings unavailable, previous ones kept: %s", r.domain,
                     one.text);
            carry_out(prev, it, o);
            st->carried++;
            if (f->text[0] == '\0')
                *f = one; /* the first per-domain problem, for the report */
        }
    }
    st->n_out = (unsigned)it->n_out;
    cJSON_Delete(root);
    return !items_failed(it);
}

/* in_details - settings, and forward rules for forward domains; 0, 1 (this domain), -1 (stop) */
static int in_details(jet_client *j, const jet_in_row *r, items *it, cache_in_item *in,
                      http_failure *f)
{
    char path[128];
    char why[ERRBUF_MAX];
    cJSON *root;
    bool ok;

    if (r->uuid[0] == '\0') {
        http_failure_text(f, HTTP_ERR_STATUS, "%s: no uuid in the inbound list", r->domain);
        return 1;
    }
    snprintf(path, sizeof(path), "/inbound/settings/%s", r->uuid);
    if ((root = jet_call(j, "GET", path, NULL, f)) == NULL)
        return account_wide(f) ? -1 : 1;
    ok = jet_in_settings(it, &in->e, root, why, sizeof(why));
    cJSON_Delete(root);
    if (!ok) {
        http_failure_text(f, HTTP_ERR_JSON, "GET %s: %s", path, why);
        return 1;
    }
    if (in->e.delivery != DELIVERY_FORWARD)
        return 0;
    snprintf(path, sizeof(path), "/inbound/domains/%s/forward-rules", r->uuid);
    if ((root = jet_call(j, "GET", path, NULL, f)) == NULL)
        return account_wide(f) ? -1 : 1;
    ok = jet_in_rules(it, &in->e, root, why, sizeof(why));
    cJSON_Delete(root);
    if (!ok)
        http_failure_text(f, HTTP_ERR_JSON, "GET %s: %s", path, why);
    return ok ? 0 : 1;
}

/* carry_in - the cached entry replaces the new one; false when there is none */
static bool carry_in(cache *prev, items *it, cache_in_item *in)
{
    cache_inbound rec;
    bool found = false;

    if (prev == NULL || cache_peek_inbound(prev, in->domain, &rec) != CACHE_OK)
        return false;
    for (uint8_t i = 0; i < rec.n; i++)
        if (rec.e[i].provider == PROV_JETEMAIL) {
            found = items_copy_in(it, &in->e, &rec.e[i]);
            break;
        }
    cache_inbound_free(&rec);
    return found;
}

/* fetch_inbound - the inbound list, then each domain's settings and rules */
static bool fetch_inbound(jet_client *j, cache *prev, items *it, int64_t now, jet_stats *st,
                          http_failure *f)
{
    const cJSON *rows, *row;
    cJSON *root = jet_list(j, "/inbound/domains", &rows, f);
    http_failure one;

    if (root == NULL)
        return false;
    cJSON_ArrayForEach(row, rows)
    {
        jet_in_row r;
        char why[ERRBUF_MAX];
        cache_in_item *in;
        int rc;
        if (!jet_in_row_parse(row, &r, why, sizeof(why))) {
            log_warn("jetemail: an inbound domain row was ignored: %s", why);
            st->skipped++;
            continue;
        }
        if ((in = jet_in_item(it, &r, now)) == NULL)
            break;
        http_failure_clear(&one);
        if ((rc = in_details(j, &r, it, in, &one)) < 0) {
            *f = one;
            cJSON_Delete(root);
            return false;
        }
        if (rc == 0)
            continue;
        log_warn("jetemail: inbound %s: settings unavailable: %s", r.domain, one.text);
        if (f->text[0] == '\0')
            *f = one;
        if (carry_in(prev, it, in)) {
            st->carried++;
        } else {
            it->n_in--; /* never seen before: unknown until the provider answers */
            st->skipped++;
        }
    }
    st->n_in = (unsigned)it->n_in;
    cJSON_Delete(root);
    return !items_failed(it);
}

/*
 * jet_fetch - everything JetEmail says, as items; false when the refresh
 * must not be committed (f says why). On true, f may still describe the
 * first per-domain problem (whose previous entry was kept).
 */
bool jet_fetch(jet_client *j, cache *prev, items *it, int64_t now, jet_stats *st, http_failure *f)
{
    memset(st, 0, sizeof(*st));
    http_failure_clear(f);
    if (!fetch_outbound(j, prev, it, now, st, f))
        return false;
    if (!fetch_inbound(j, prev, it, now, st, f))
        return false;
    if (items_failed(it)) {
        http_failure_text(f, HTTP_ERR_TRANSPORT, "out of memory");
        return false;
    }
    return true;
}

/* jet_fetch_outbound_one - one listed domain with its settings (sendgatectl write-through) */
bool jet_fetch_outbound_one(jet_client *j, const cJSON *row, items *it, int64_t now,
                            http_failure *f)
{
    jet_out_row r;
    char why[ERRBUF_MAX];
    cache_out_item *o;

    if (!jet_out_row_parse(row, &r, why, sizeof(why))) {
        http_failure_text(f, HTTP_ERR_JSON, "domain list row: %s", why);
        return false;
    }
    if ((o = jet_out_item(it, &r, now)) == NULL)
        return false;
    return out_settings(j, &r, it, o, f) == 0;
}

/* jet_fetch_inbound_one - one listed inbound domain with settings and rules */
bool jet_fetch_inbound_one(jet_client *j, const cJSON *row, items *it, int64_t now, http_failure *f)
{
    jet_in_row r;
    char why[ERRBUF_MAX];
    cache_in_item *in;

    if (!jet_in_row_parse(row, &r, why, sizeof(why))) {
        http_failure_text(f, HTTP_ERR_JSON, "inbound list row: %s", why);
        return false;
    }
    if ((in = jet_in_item(it, &r, now)) == NULL)
        return false;
    return in_details(j, &r, it, in, f) == 0;
}
