/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mailtrap.h - the Mailtrap account API: domains, normalisation, writes
 *
 * SYNOPSIS
 *	mt_client m;
 *	mt_client_init(&m, cfg, budget, cancel, err, sizeof(err));
 *	mt_fetch(&m, &items, now, &n, &fail);                  the refresher
 *	cJSON *d = mt_call(&m, "GET", "/42", NULL, NULL, &status, &fail);
 *	mt_client_free(&m);
 *
 * DESCRIPTION
 *	Paths. The current API serves the domains at /api/domains (write
 *	bodies wrapped in "domain"); older documentation, still live in SDKs,
 *	uses /api/accounts/{account_id}/sending_domains (wrapped in
 *	"sending_domain"). mailtrap.path_style picks one; "auto" starts with
 *	/api/domains and, when that answers 404, repeats the request on the
 *	account-scoped path and keeps using whichever worked. The account id
 *	is mailtrap.account_id, or the only account GET /api/accounts lists
 *	(a token that sees several accounts must be told which one).
 *	mt_call takes the path below the collection ("" for the collection,
 *	"/42", "/42/company_info") and a callback that builds the body for
 *	the path style in use.
 *
 *	Normalisation (PROVIDERS.md 2.2): compliance_status goes through
 *	verdict_map_mailtrap (compliant allowed, demo only to the account
 *	owner, under_review pending, every other value blocked, an unknown
 *	one blocked with the raw status kept); open_tracking_enabled,
 *	click_tracking_enabled; auto_unsubscribe_link_enabled is the
 *	unsubscribe flag; no BCC (Mailtrap has none).
 *
 *	Tracking host rule: when custom_domain_tracking_enabled is true and
 *	the dns_records entry with key "link_verification" has status
 *	"pass", the host is that record's "domain" (documented as
 *	mt-link.<domain>; mt-link.<domain> is used when the record names no
 *	host under the domain). Otherwise "": Mailtrap's own shared host
 *	(t.mailtrap.live) is not the domain's, and the milter then uses the
 *	operator's default.
 */
#ifndef SG_PROVIDERS_MAILTRAP_H
#define SG_PROVIDERS_MAILTRAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "lib/conf.h"
#include "lib/domain.h"
#include "lib/errbuf.h"
#include "providers/http.h"
#include "providers/items.h"

enum mt_style { MT_STYLE_AUTO = 0, MT_STYLE_DOMAINS = 1, MT_STYLE_ACCOUNT = 2 };

/* ---- normalisation (pure; providers/mtnorm.c) ---- */

cache_out_item *mt_domain_item(items *it, const cJSON *d, int64_t now, char *err, size_t errlen);
bool mt_tracking_host(const cJSON *d, const char *domain, char host[DOMAIN_MAX]);
bool mt_domain_name(const cJSON *d, char out[DOMAIN_MAX], char *err, size_t errlen);
bool mt_domain_id(const cJSON *d, long *id);

/* ---- the client (providers/mailtrap.c) ---- */

typedef struct mt_client {
    http_client h;
    int style;       /* configured enum mt_style */
    int resolved;    /* MT_STYLE_DOMAINS or _ACCOUNT once a request worked, else 0 */
    long account_id; /* configured or discovered, 0 = not yet known */
} mt_client;

/* builds the request body for a path style (NULL: no body) */
typedef cJSON *(*mt_body_fn)(int style, const void *arg);

bool mt_client_init(mt_client *m, const conf *cfg, http_budget *b, const atomic_bool *cancel,
                    char *err, size_t errlen);
void mt_client_free(mt_client *m);
cJSON *mt_call(mt_client *m, const char *method, const char *sub, mt_body_fn body, const void *arg,
               long *status, http_failure *f);
bool mt_fetch(mt_client *m, items *it, int64_t now, unsigned *skipped, http_failure *f);
bool mt_resolve_id(mt_client *m, const char *arg, long *id, cJSON **domain, http_failure *f);
const char *mt_wrapper(int style);

/* ---- writes: validation and bodies (pure; providers/mtreq.c) ---- */

enum mt_company_field {
    MTC_NAME,
    MTC_ADDRESS,
    MTC_CITY,
    MTC_COUNTRY,
    MTC_ZIP_CODE,
    MTC_WEBSITE_URL,
    MTC_PHONE,
    MTC_PRIVACY_POLICY_URL,
    MTC_TERMS_OF_SERVICE_URL,
    MTC_INFO_LEVEL,
    MTC__COUNT
};

typedef struct mt_company_req {
    const char *v[MTC__COUNT]; /* NULL: not given */
} mt_company_req;

typedef struct mt_update_req {
    int open_tracking, click_tracking, unsubscribe; /* -1 unchanged, 0, 1 */
} mt_update_req;

const char *mt_company_field_name(int f);
bool mt_company_check(const mt_company_req *r, bool create, char *why, size_t whylen);
cJSON *mt_company_body(int style, const void *req);
bool mt_update_check(const mt_update_req *r, char *why, size_t whylen);
cJSON *mt_update_body(int style, const void *req);
cJSON *mt_create_body(int style, const void *domain);
cJSON *mt_email_body(int style, const void *email);

#endif
