/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mtreq.c - Mailtrap write requests: local validation and JSON bodies
 *
 * The documented request bodies (seed page 002, PROVIDERS.md 2.3):
 *
 *	POST  domains                     {"domain": {"domain_name": host}}
 *	PATCH domains/{id}                {"domain": {"open_tracking_enabled": bool,
 *	                                   "click_tracking_enabled": bool,
 *	                                   "auto_unsubscribe_link_enabled": bool}}
 *	POST  .../send_setup_instructions {"email": address}
 *	POST  .../company_info            {"company_info": {name*, address*, city*,
 *	                                   country*, zip_code*, website_url*, phone,
 *	                                   privacy_policy_url, terms_of_service_url,
 *	                                   info_level: business|individual}}
 *	PATCH .../company_info            {"company_info": {any subset}}
 *
 * On the account-scoped paths the domain wrapper is "sending_domain".
 * Only the fields given are sent; every value is checked first, so bad
 * input costs no request.
 */
#include "providers/mailtrap.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"

static const char *const mt_company_fields[MTC__COUNT] = {
        "name",
        "address",
        "city",
        "country",
        "zip_code",
        "website_url",
        "phone",
        "privacy_policy_url",
        "terms_of_service_url",
        "info_level",
};

const char *mt_company_field_name(int f)
{
    return f >= 0 && f < MTC__COUNT ? mt_company_fields[f] : "";
}

/* flag - the command-line spelling of a field: --zip-code */
static void flag(int f, char *out, size_t n)
{
    snprintf(out, n, "--%s", mt_company_fields[f]);
    for (char *p = out; *p; p++)
        if (*p == '_')
            *p = '-';
}

/* url_ok - an absolute http(s) URL with a host, no white space */
static bool url_ok(const char *u)
{
    const char *h = !strncasecmp(u, "https://", 8)  ? u + 8
                    : !strncasecmp(u, "http://", 7) ? u + 7
                                                    : NULL;

    return h && *h && *h != '/' && *h != ':' && !strpbrk(u, " \t\r\n");
}

/* check_value - one given field */
static bool check_value(int f, const char *v, char *why, size_t whylen)
{
    char fl[40];

    flag(f, fl, sizeof(fl));
    if (*v == '\0') {
        snprintf(why, whylen, "%s must not be empty", fl);
        return false;
    }
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20) {
            snprintf(why, whylen, "%s: control characters are not allowed", fl);
            return false;
        }
    if ((f == MTC_WEBSITE_URL || f == MTC_PRIVACY_POLICY_URL || f == MTC_TERMS_OF_SERVICE_URL) &&
        !url_ok(v)) {
        snprintf(why, whylen, "%s %s: expected an http:// or https:// URL", fl, v);
        return false;
    }
    if (f == MTC_INFO_LEVEL && strcmp(v, "business") && strcmp(v, "individual")) {
        snprintf(why, whylen, "--info-level %s: business or individual", v);
        return false;
    }
    return true;
}

/* mt_company_check - create: the six required fields; update: at least one */
bool mt_company_check(const mt_company_req *r, bool create, char *why, size_t whylen)
{
    buf missing = BUF_INIT;
    int given = 0;
    bool ok = true;

    for (int f = 0; f < MTC__COUNT && ok; f++) {
        char fl[40];
        if (r->v[f]) {
            given++;
            ok = check_value(f, r->v[f], why, whylen);
        } else if (create && f <= MTC_WEBSITE_URL) {
            flag(f, fl, sizeof(fl));
            buf_printf(&missing, "%s%s", missing.len ? ", " : "", fl);
        }
    }
    if (ok && missing.len) {
        snprintf(why, whylen, "missing %s (required to create company info)", buf_cstr(&missing));
        ok = false;
    }
    if (ok && given == 0) {
        snprintf(why, whylen, "nothing to change: give at least one field, e.g. --phone");
        ok = false;
    }
    buf_free(&missing);
    return ok;
}

/* mt_company_body - {"company_info": {given fields}} */
cJSON *mt_company_body(int style, const void *req)
{
    const mt_company_req *r = req;
    cJSON *b = cJSON_CreateObject(), *ci = cJSON_AddObjectToObject(b, "company_info");

    (void)style;
    for (int f = 0; ci && f < MTC__COUNT; f++)
        if (r->v[f])
            cJSON_AddStringToObject(ci, mt_company_fields[f], r->v[f]);
    return b;
}

/* mt_update_check - at least one flag */
bool mt_update_check(const mt_update_req *r, char *why, size_t whylen)
{
    if (r->open_tracking < 0 && r->click_tracking < 0 && r->unsubscribe < 0) {
        snprintf(why, whylen,
                 "nothing to change: give --open-tracking, --click-tracking or "
                 "--unsubscribe-link");
        return false;
    }
    return true;
}

/* mt_update_body - {"domain"|"sending_domain": {given flags}} */
cJSON *mt_update_body(int style, const void *req)
{
    const mt_update_req *r = req;
    cJSON *b = cJSON_CreateObject(), *d = cJSON_AddObjectToObject(b, mt_wrapper(style));

    if (d && r->open_tracking >= 0)
        cJSON_AddBoolToObject(d, "open_tracking_enabled", r->open_tracking);
    if (d && r->click_tracking >= 0)
        cJSON_AddBoolToObject(d, "click_tracking_enabled", r->click_tracking);
    if (d && r->unsubscribe >= 0)
        cJSON_AddBoolToObject(d, "auto_unsubscribe_link_enabled", r->unsubscribe);
    return b;
}

/* mt_create_body - {"domain"|"sending_domain": {"domain_name": host}} */
cJSON *mt_create_body(int style, const void *domain)
{
    cJSON *b = cJSON_CreateObject(), *d = cJSON_AddObjectToObject(b, mt_wrapper(style));

    if (d)
        cJSON_AddStringToObject(d, "domain_name", domain);
    return b;
}

/* mt_email_body - {"email": address} */
cJSON *mt_email_body(int style, const void *email)
{
    cJSON *b = cJSON_CreateObject();

    (void)style;
    cJSON_AddStringToObject(b, "email", email);
    return b;
}
