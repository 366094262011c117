/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mailtrap.c - the Mailtrap API client: path styles, the refresher's fetch
 *
 * Data flow: providers/refresh.c calls mt_fetch (one request: the domain
 * list carries compliance, DNS and tracking flags); sendgatectl's
 * mailtrap commands call mt_call for each documented endpoint. Both go
 * through the path-style logic here, so the 404 fallback from
 * /api/domains to /api/accounts/{id}/sending_domains (and the matching
 * body wrapper) is decided in one place.
 */
#include "providers/mailtrap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "providers/pjson.h"

/* mt_client_init - the HTTP client with the [mailtrap] and [refresh] settings */
bool mt_client_init(mt_client *m, const conf *cfg, http_budget *b, const atomic_bool *cancel,
                    char *err, size_t errlen)
{
    http_opts o = {0};

    memset(m, 0, sizeof(*m));
    o.base_url = cfg->mailtrap.base_url;
    o.token = conf_token(cfg, CK_mailtrap_api_token, CK_mailtrap_api_token_file);
    o.auth = cfg->mailtrap.auth_header == 1 ? HTTP_AUTH_API_TOKEN : HTTP_AUTH_BEARER;
    http_opts_refresh(&o, cfg, b, cancel);
    m->style = cfg->mailtrap.path_style;
    m->account_id = cfg->mailtrap.account_id;
    if (o.token == NULL) {
        snprintf(err, errlen, "no Mailtrap API token: set mailtrap.api_token_file");
        return false;
    }
    if (!http_client_init(&m->h, &o)) {
        snprintf(err, errlen, "cannot initialise libcurl");
        return false;
    }
    return true;
}

void mt_client_free(mt_client *m)
{
    http_client_free(&m->h);
}

/* mt_wrapper - the body's wrapper key for a path style */
const char *mt_wrapper(int style)
{
    return style == MT_STYLE_ACCOUNT ? "sending_domain" : "domain";
}

/* request - one request; JSON answer, an empty object for 204, NULL with f set */
static cJSON *request(mt_client *m, const char *method, const char *path, const cJSON *body,
                      long *status, http_failure *f)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    http_response r;
    cJSON *root = NULL;
    int rc;

    http_response_init(&r);
    rc = http_request(&m->h, method, path, text, &r);
    free(text);
    *status = r.status;
    if (rc != HTTP_OK)
        http_failure_set(f, method, path, &r);
    else if (r.body.len == 0)
        root = cJSON_CreateObject();
    else if ((root = http_json(&r, &rc)) == NULL)
        http_failure_set(f, method, path, &r);
    http_response_free(&r);
    return root;
}

/* discover_account - the only account this token sees (GET /api/accounts) */
static bool discover_account(mt_client *m, http_failure *f)
{
    long status, id = 0;
    cJSON *root = request(m, "GET", "/api/accounts", NULL, &status, f), *a;
    const cJSON *rows = pjson_rows(root);
    buf ids = BUF_INIT;
    int n = 0;

    if (root == NULL)
        return false;
    cJSON_ArrayForEach(a, rows)
    {
        long v;
        if (pjson_long(pjson_get(a, "id", NULL), &v) && v > 0) {
            id = v;
            buf_printf(&ids, "%s%ld", n++ ? ", " : "", v);
        }
    }
    if (n == 1)
        m->account_id = id;
    else if (n == 0)
        http_failure_text(f, HTTP_ERR_JSON, "GET /api/accounts: the token sees no account");
    else
        http_failure_text(f, HTTP_ERR_STATUS,
                          "the token sees %d accounts (%s): set mailtrap.account_id", n,
                          buf_cstr(&ids));
    buf_free(&ids);
    cJSON_Delete(root);
    return n == 1;
}

/* path_for - the full path of sub in a style; resolves the account id when needed */
static bool path_for(mt_client *m, int style, const char *sub, char *out, size_t n, http_failure *f)
{
    if (style != MT_STYLE_ACCOUNT) {
        snprintf(out, n, "/api/domains%s", sub);
        return true;
    }
    if (m->account_id <= 0 && !discover_account(m, f))
        return false;
    snprintf(out, n, "/api/accounts/%ld/sending_domains%s", m->account_id, sub);
    return true;
}

/* attempt - one request in one style */
static cJSON *attempt(mt_client *m, int style, const char *method, const char *sub, mt_body_fn body,
                      const void *arg, long *status, http_failure *f)
{
    char path[256];
    cJSON *b = NULL, *root;

    *status = 0;
    if (!path_for(m, style, sub, path, sizeof(path), f))
        return NULL;
    if (body && (b = body(style, arg)) == NULL) {
        http_failure_text(f, HTTP_ERR_TRANSPORT, "out of memory");
        return NULL;
    }
    root = request(m, method, path, b, status, f);
    cJSON_Delete(b);
    return root;
}

/*
 * mt_call - a request on the domains collection in the configured path
 * style; in auto style a 404 on /api/domains repeats it on the
 * account-scoped path. *status is the final HTTP status.
 */
cJSON *mt_call(mt_client *m, const char *method, const char *sub, mt_body_fn body, const void *arg,
               long *status, http_failure *f)
{
    int style = m->resolved ? m->resolved : m->style == MT_STYLE_AUTO ? MT_STYLE_DOMAINS : m->style;
    http_failure first;
    cJSON *root;

    http_failure_clear(&first);
    root = attempt(m, style, method, sub, body, arg, status, &first);
    if (root || *status != 404 || m->style != MT_STYLE_AUTO || m->resolved) {
        if (root)
            m->resolved = style;
        else
            *f = first;
        return root;
    }
    log_info("mailtrap: %s /api/domains%s answered 404; trying the account-scoped path", method,
             sub);
    if ((root = attempt(m, MT_STYLE_ACCOUNT, method, sub, body, arg, status, f)) != NULL) {
        m->resolved = MT_STYLE_ACCOUNT;
    } else {
        char second[sizeof(f->text)];
        snprintf(second, sizeof(second), "%s", f->text);
        snprintf(f->text, sizeof(f->text), "%.200s; then %.400s", first.text, second);
    }
    return root;
}

/* mt_fetch - every domain, normalised; false when nothing may be committed */
bool mt_fetch(mt_client *m, items *it, int64_t now, unsigned *skipped, http_failure *f)
{
    long status;
    cJSON *root = mt_call(m, "GET", "", NULL, NULL, &status, f);
    const cJSON *rows, *d;

    *skipped = 0;
    if (root == NULL)
        return false;
    if ((rows = pjson_rows(root)) == NULL) {
        http_failure_text(f, HTTP_ERR_JSON, "GET domains: no \"data\" list in the answer");
        cJSON_Delete(root);
        return false;
    }
    cJSON_ArrayForEach(d, rows)
    {
        char why[ERRBUF_MAX];
        if (mt_domain_item(it, d, now, why, sizeof(why)) == NULL) {
            log_warn("mailtrap: a domain was ignored: %s", why);
            (*skipped)++;
        }
    }
    cJSON_Delete(root);
    if (items_failed(it)) {
        http_failure_text(f, HTTP_ERR_TRANSPORT, "out of memory");
        return false;
    }
    return true;
}

/*
 * mt_resolve_id - DOMAIN or ID on sendgatectl's command line: digits are
 * the id; a name is looked up in the domain list (one request). *domain,
 * when not NULL, receives a copy of the listed Domain object (or NULL).
 */
bool mt_resolve_id(mt_client *m, const char *arg, long *id, cJSON **domain, http_failure *f)
{
    char want[DOMAIN_MAX], dom[DOMAIN_MAX], why[ERRBUF_MAX];
    const cJSON *d;
    cJSON *root;
    long status;

    if (domain)
        *domain = NULL;
    if (*arg && strspn(arg, "0123456789") == strlen(arg)) {
        *id = strtol(arg, NULL, 10);
        return *id > 0 || (http_failure_text(f, HTTP_ERR_STATUS, "bad domain id %s", arg), false);
    }
    if (!domain_normalize(arg, strlen(arg), want, why, sizeof(why))) {
        http_failure_text(f, HTTP_ERR_STATUS, "'%s': %s", arg, why);
        return false;
    }
    if ((root = mt_call(m, "GET", "", NULL, NULL, &status, f)) == NULL)
        return false;
    cJSON_ArrayForEach(d, pjson_rows(root))
    {
        if (mt_domain_name(d, dom, NULL, 0) && strcmp(dom, want) == 0 && mt_domain_id(d, id)) {
            if (domain)
                *domain = cJSON_Duplicate(d, true);
            cJSON_Delete(root);
            return true;
        }
    }
    cJSON_Delete(root);
    http_failure_text(f, HTTP_ERR_STATUS, "%s: no such domain in the Mailtrap account", want);
    f->status = 404;
    return false;
}
