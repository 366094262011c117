/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_mailtrap.c - sendgatectl mailtrap domains|setup-instructions|company-info ...
 *
 * The operator's side of Mailtrap's domain API (providers/mailtrap.h):
 * every endpoint of the domains page (list, create, get, update, delete,
 * send setup instructions, company info get/create/update). A domain is
 * named by its id or its name (looked up in the domain list). Values are
 * checked before anything is sent (exit EX_DATAERR); the path style
 * (/api/domains or the account-scoped sending_domains) follows
 * mailtrap.path_style. Domain changes are written through to the cache.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"
#include "ctl/provcmd.h"
#include "lib/addr.h"
#include "providers/mailtrap.h"
#include "providers/pjson.h"

/* mstart - the request budget of [mailtrap] and the client */
static bool mstart(provcmd *p, char *err, size_t errlen)
{
    http_budget_init(&p->budget, p->cfg->mailtrap.request_budget, p->cfg->mailtrap.budget_window,
                     http_now_ms());
    return mt_client_init(p->client, p->cfg, &p->budget, NULL, err, errlen);
}

static void mstop(provcmd *p)
{
    mt_client_free(p->client);
}

/* every Mailtrap 429 is recorded, so nothing calls before it ends */
static const provcmd_api mt_api = {PROV_MAILTRAP, "mailtrap", false, mstart, mstop};

typedef struct mctx {
    provcmd p;
    mt_client m;
} mctx;

/* mopen - the client; EX_CONFIG without a token, EX_TEMPFAIL when rate limited */
static int mopen(ctl *c, mctx *x)
{
    memset(x, 0, sizeof(*x));
    return provcmd_open(&x->p, c, &mt_api, &x->m);
}

/* id_arg - DOMAIN or ID must be one or the other before anything is sent */
static int id_arg(const char *arg)
{
    char dom[DOMAIN_MAX], why[ERRBUF_MAX];

    if (*arg && strspn(arg, "0123456789") == strlen(arg))
        return strtol(arg, NULL, 10) > 0 ? 0 : ctl_fail(EX_DATAERR, "'%s': not a domain id", arg);
    if (!domain_normalize(arg, strlen(arg), dom, why, sizeof(why)))
        return ctl_fail(EX_DATAERR, "'%s': neither a domain id nor a domain name: %s", arg, why);
    return 0;
}

/* resolve - the id of DOMAIN|ID (a name costs one list request) */
static int resolve(mctx *x, const char *arg, long *id)
{
    if (mt_resolve_id(&x->m, arg, id, NULL, &x->p.f))
        return 0;
    if (x->p.f.status == 404 && x->p.f.rc == HTTP_ERR_STATUS &&
        strstr(x->p.f.text, "no such domain"))
        return ctl_fail(EX_NOINPUT, "mailtrap: %s", x->p.f.text);
    return provcmd_fail(&x->p);
}

/* mopen_id - the client and the id of DOMAIN|ID (already checked by id_arg) */
static int mopen_id(ctl *c, mctx *x, const char *arg, long *id)
{
    int rc;

    if ((rc = mopen(c, x)) != 0)
        return rc;
    if ((rc = resolve(x, arg, id)) != 0)
        mt_client_free(&x->m);
    return rc;
}

/* write_domain - a Domain answer into the cache */
static void write_domain(ctl *c, const cJSON *d)
{
    char why[ERRBUF_MAX];
    cache_out_item *o;
    items it;

    items_init(&it, PROV_MAILTRAP);
    if ((o = mt_domain_item(&it, d, (int64_t)time(NULL), why, sizeof(why))) == NULL)
        fprintf(stderr, "%s: warning: cache not updated: %s\n", c->prog, why);
    else
        provcmd_write_items(c, &it);
    items_free(&it);
}

static const char *onoff_name(const cJSON *d, const char *key)
{
    bool b;

    return pjson_bool(pjson_get(d, key, NULL), &b) ? (b ? "on" : "off") : "?";
}

/* print_domain - a Domain object as an operator reads it */
static void print_domain(const cJSON *d)
{
    items it;
    char why[ERRBUF_MAX];
    cache_out_item *o;
    const cJSON *r, *recs = pjson_get(d, "dns_records", NULL);

    items_init(&it, PROV_MAILTRAP);
    if ((o = mt_domain_item(&it, d, 0, why, sizeof(why))) == NULL) {
        printf("(unreadable domain: %s)\n", why);
        items_free(&it);
        return;
    }
    printf("id:                %s\ndomain:            %s\n", o->e.ref, o->domain);
    printf("compliance status: %s\nmay send:          %s (%s)\n",
           *o->e.raw_status ? o->e.raw_status : "-", cache_send_name(o->e.send), o->e.reason);
    printf("dns verified:      %s\n", onoff_name(d, "dns_verified"));
    printf("open tracking:     %s\nclick tracking:    %s\nunsubscribe link:  %s\n",
           onoff_name(d, "open_tracking_enabled"), onoff_name(d, "click_tracking_enabled"),
           onoff_name(d, "auto_unsubscribe_link_enabled"));
    printf("custom tracking:   %s%s%s\n", onoff_name(d, "custom_domain_tracking_enabled"),
           *o->e.tracking_host ? ", host " : "", o->e.tracking_host);
    if (cJSON_IsArray(recs) && cJSON_GetArraySize(recs) > 0)
        printf("dns records:\n");
    if (!cJSON_IsArray(recs))
        recs = NULL;
    cJSON_ArrayForEach(r, recs)
    {
        const char *k = pjson_str(pjson_get(r, "key", NULL)),
                   *t = pjson_str(pjson_get(r, "type", NULL));
        const char *n = pjson_str(pjson_get(r, "domain", NULL)),
                   *v = pjson_str(pjson_get(r, "value", NULL));
        const char *s = pjson_str(pjson_get(r, "status", NULL));
        printf("  %-18s %-5s %s -> %s (%s)\n", k ? k : "?", t ? t : "?", n ? n : "?", v ? v : "?",
               s ? s : "?");
    }
    items_free(&it);
}

/* print_list - the domains, one line each */
static void print_list(const cJSON *root)
{
    const cJSON *d;

    printf("%-8s %-32s %-28s %s\n", "ID", "DOMAIN", "COMPLIANCE", "SEND");
    cJSON_ArrayForEach(d, pjson_rows(root))
    {
        items it;
        cache_out_item *o;
        items_init(&it, PROV_MAILTRAP);
        if ((o = mt_domain_item(&it, d, 0, NULL, 0)))
            printf("%-8s %-32s %-28s %s\n", o->e.ref, o->domain,
                   *o->e.raw_status ? o->e.raw_status : "-", cache_send_name(o->e.send));
        items_free(&it);
    }
}

static int cmd_list(ctl *c, int argc, char **argv)
{
    cJSON *root;
    long status;
    mctx x;
    int rc;

    (void)argv;
    if (argc != 1)
        return ctl_usage("mailtrap domains list");
    if ((rc = mopen(c, &x)) != 0)
        return rc;
    root = mt_call(&x.m, "GET", "", NULL, NULL, &status, &x.p.f);
    mt_client_free(&x.m);
    return provcmd_answer(&x.p, root, print_list);
}

static int cmd_create(ctl *c, int argc, char **argv)
{
    char dom[DOMAIN_MAX], why[ERRBUF_MAX];
    cJSON *d;
    long status;
    mctx x;
    int rc;

    if (argc != 2)
        return ctl_usage("mailtrap domains create");
    if (!domain_normalize(argv[1], strlen(argv[1]), dom, why, sizeof(why)) || !strchr(dom, '.'))
        return ctl_fail(EX_DATAERR, "'%s' is not a host name: %s", argv[1],
                        strchr(dom, '.') ? why : "it needs a dot");
    if ((rc = mopen(c, &x)) != 0)
        return rc;
    d = mt_call(&x.m, "POST", "", mt_create_body, dom, &status, &x.p.f);
    mt_client_free(&x.m);
    if (d == NULL)
        return provcmd_fail(&x.p);
    if (!c->json)
        printf("%s: created; publish the DNS records below, then complete the company info\n", dom);
    write_domain(c, d);
    return provcmd_answer(&x.p, d, print_domain);
}

static int cmd_get(ctl *c, int argc, char **argv)
{
    char sub[48];
    cJSON *d;
    long id, status;
    mctx x;
    int rc;

    if (argc != 2)
        return ctl_usage("mailtrap domains get");
    if ((rc = id_arg(argv[1])) || (rc = mopen_id(c, &x, argv[1], &id)))
        return rc;
    snprintf(sub, sizeof(sub), "/%ld", id);
    d = mt_call(&x.m, "GET", sub, NULL, NULL, &status, &x.p.f);
    mt_client_free(&x.m);
    return provcmd_answer(&x.p, d, print_domain);
}

static int cmd_update(ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"open-tracking", required_argument, NULL, 'o'},
                                         {"click-tracking", required_argument, NULL, 'k'},
                                         {"unsubscribe-link", required_argument, NULL, 'u'},
                                         {0}};
    mt_update_req q = {-1, -1, -1};
    char sub[48], why[256];
    long id, status;
    cJSON *d;
    mctx x;
    int ch, rc;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int *f = ch == 'o'   ? &q.open_tracking
                 : ch == 'k' ? &q.click_tracking
                 : ch == 'u' ? &q.unsubscribe
                             : NULL;
        if (f == NULL)
            return ctl_usage("mailtrap domains update");
        if ((*f = provcmd_onoff(optarg)) < 0)
            return ctl_fail(EX_DATAERR, "'%s': on or off", optarg);
    }
    if (optind != argc - 1)
        return ctl_usage("mailtrap domains update");
    if (!mt_update_check(&q, why, sizeof(why)))
        return ctl_fail(EX_DATAERR, "%s", why);
    if ((rc = id_arg(argv[optind])) || (rc = mopen_id(c, &x, argv[optind], &id)))
        return rc;
    snprintf(sub, sizeof(sub), "/%ld", id);
    d = mt_call(&x.m, "PATCH", sub, mt_update_body, &q, &status, &x.p.f);
    mt_client_free(&x.m);
    if (d)
        write_domain(c, d);
    return provcmd_answer(&x.p, d, print_domain);
}

struct by_ref {
    const char *ref;
    char domain[DOMAIN_MAX];
};

static void find_ref(void *arg, const char *domain, const cache_outbound *rec, int rc)
{
    struct by_ref *b = arg;
    const cache_out_entry *e = rc == CACHE_OK ? cache_outbound_find(rec, PROV_MAILTRAP) : NULL;

    if (e && strcmp(e->ref, b->ref) == 0)
        snprintf(b->domain, sizeof(b->domain), "%s", domain);
}

/* forget - drop the deleted domain's Mailtrap entry from the cache */
static void forget(ctl *c, const char *arg, long id)
{
    struct by_ref b = {NULL, ""};
    char ref[32];

    snprintf(ref, sizeof(ref), "%ld", id);
    b.ref = ref;
    if (provcmd_cache(c) == NULL)
        return;
    if (strspn(arg, "0123456789") != strlen(arg))
        domain_normalize(arg, strlen(arg), b.domain, NULL, 0);
    else
        cache_foreach_outbound(c->cache, find_ref, &b);
    if (b.domain[0] == '\0')
        return;
    provcmd_forget(c, b.domain, PROV_MAILTRAP, false);
}

static int cmd_delete(ctl *c, int argc, char **argv)
{
    char sub[48];
    long id, status;
    cJSON *d;
    mctx x;
    int rc;

    if (argc != 2)
        return ctl_usage("mailtrap domains delete");
    if ((rc = id_arg(argv[1])) || (rc = mopen_id(c, &x, argv[1], &id)))
        return rc;
    snprintf(sub, sizeof(sub), "/%ld", id);
    d = mt_call(&x.m, "DELETE", sub, NULL, NULL, &status, &x.p.f);
    mt_client_free(&x.m);
    if (d == NULL)
        return provcmd_fail(&x.p);
    cJSON_Delete(d);
    printf("%s: deleted from Mailtrap\n", argv[1]);
    forget(c, argv[1], id);
    return 0;
}

static int cmd_setup(ctl *c, int argc, char **argv)
{
    char sub[64], why[ERRBUF_MAX];
    long id, status;
    cJSON *d;
    mctx x;
    int rc;

    if (argc != 3)
        return ctl_usage("mailtrap setup-instructions");
    if ((rc = id_arg(argv[1])) != 0)
        return rc;
    if (!addr_is_valid(argv[2], why, sizeof(why)))
        return ctl_fail(EX_DATAERR, "'%s' is not a mail address: %s", argv[2], why);
    if ((rc = mopen_id(c, &x, argv[1], &id)) != 0)
        return rc;
    snprintf(sub, sizeof(sub), "/%ld/send_setup_instructions", id);
    d = mt_call(&x.m, "POST", sub, mt_email_body, argv[2], &status, &x.p.f);
    mt_client_free(&x.m);
    if (d == NULL)
        return provcmd_fail(&x.p);
    cJSON_Delete(d);
    printf("setup instructions for %s sent to %s\n", argv[1], argv[2]);
    return 0;
}

/* print_company - {"data": CompanyInfo} */
static void print_company(const cJSON *ans)
{
    const cJSON *ci = pjson_object(ans, NULL);

    for (int f = 0; f < MTC__COUNT; f++) {
        const char *v = pjson_str(pjson_get(ci, mt_company_field_name(f), NULL));
        printf("%-21s %s\n", mt_company_field_name(f), v ? v : "-");
    }
}

/* company_args - --name, --zip-code, ... into the request */
static int company_args(int argc, char **argv, mt_company_req *q, const char *cmd)
{
    struct option opts[MTC__COUNT + 1];
    char names[MTC__COUNT][32];
    int ch;

    memset(q, 0, sizeof(*q));
    memset(opts, 0, sizeof(opts));
    for (int f = 0; f < MTC__COUNT; f++) {
        snprintf(names[f], sizeof(names[f]), "%s", mt_company_field_name(f));
        for (char *p = names[f]; *p; p++)
            if (*p == '_')
                *p = '-';
        opts[f].name = names[f];
        opts[f].has_arg = required_argument;
        opts[f].val = 'A' + f;
    }
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch < 'A' || ch >= 'A' + MTC__COUNT)
            return ctl_usage(cmd);
        q->v[ch - 'A'] = optarg;
    }
    return optind == argc - 1 ? 0 : ctl_usage(cmd);
}

/* company - GET, POST or PATCH .../company_info */
static int company(ctl *c, int argc, char **argv, const char *method, const char *cmd)
{
    mt_company_req q;
    char sub[64], why[256];
    long id, status;
    cJSON *ans;
    mctx x;
    int rc;

    if (strcmp(method, "GET") == 0) {
        if (argc != 2)
            return ctl_usage(cmd);
        optind = 1;
    } else if ((rc = company_args(argc, argv, &q, cmd)) != 0) {
        return rc;
    } else if (!mt_company_check(&q, strcmp(method, "POST") == 0, why, sizeof(why))) {
        return ctl_fail(EX_DATAERR, "%s", why);
    }
    if ((rc = id_arg(argv[optind])) || (rc = mopen_id(c, &x, argv[optind], &id)))
        return rc;
    snprintf(sub, sizeof(sub), "/%ld/company_info", id);
    ans = mt_call(&x.m, method, sub, strcmp(method, "GET") ? mt_company_body : NULL, &q, &status,
                  &x.p.f);
    mt_client_free(&x.m);
    return provcmd_answer(&x.p, ans, print_company);
}

static int cmd_ci_get(ctl *c, int argc, char **argv)
{
    return company(c, argc, argv, "GET", "mailtrap company-info get");
}

static int cmd_ci_create(ctl *c, int argc, char **argv)
{
    return company(c, argc, argv, "POST", "mailtrap company-info create");
}

static int cmd_ci_update(ctl *c, int argc, char **argv)
{
    return company(c, argc, argv, "PATCH", "mailtrap company-info update");
}

CTL_COMMAND(mt_list, "mailtrap domains list", "", "list Mailtrap's sending domains",
            "GET /api/domains (or /api/accounts/ID/sending_domains, see mailtrap.path_style):\n"
            "id, name, compliance status and the send status sendgate derives from it.\n"
            "Example: sendgatectl mailtrap domains list",
            cmd_list);
CTL_COMMAND(mt_create, "mailtrap domains create", "DOMAIN", "add a sending domain to Mailtrap",
            "POST /api/domains {\"domain\": {\"domain_name\": DOMAIN}}; prints the DNS records to\n"
            "publish. The new domain goes into the cache (not yet allowed to send).\n"
            "Example: sendgatectl mailtrap domains create mail.example.com",
            cmd_create);
CTL_COMMAND(mt_get, "mailtrap domains get", "DOMAIN|ID", "show one Mailtrap domain",
            "GET /api/domains/ID: compliance, tracking flags, DNS records and their status.\n"
            "A name is looked up in the domain list first.\n"
            "Example: sendgatectl mailtrap domains get mail.example.com",
            cmd_get);
CTL_COMMAND(mt_update, "mailtrap domains update",
            "DOMAIN|ID [--open-tracking on|off] [--click-tracking on|off] [--unsubscribe-link "
            "on|off]",
            "change a Mailtrap domain's tracking and unsubscribe settings",
            "PATCH /api/domains/ID {\"domain\": {\"open_tracking_enabled\", "
            "\"click_tracking_enabled\",\n"
            "\"auto_unsubscribe_link_enabled\"}} with only the flags given; the answer goes\n"
            "into the cache.\n"
            "Example: sendgatectl mailtrap domains update mail.example.com --click-tracking off",
            cmd_update);
CTL_COMMAND(mt_delete, "mailtrap domains delete", "DOMAIN|ID", "delete a Mailtrap domain",
            "DELETE /api/domains/ID (204), then the domain's Mailtrap entry leaves the cache.\n"
            "Example: sendgatectl mailtrap domains delete 435",
            cmd_delete);
CTL_COMMAND(mt_setup, "mailtrap setup-instructions", "DOMAIN|ID EMAIL",
            "mail a domain's DNS setup instructions to someone",
            "POST /api/domains/ID/send_setup_instructions {\"email\": EMAIL} (204).\n"
            "Example: sendgatectl mailtrap setup-instructions mail.example.com dns@example.com",
            cmd_setup);
CTL_COMMAND(mt_ci_get, "mailtrap company-info get", "DOMAIN|ID",
            "show the company information of a domain's account",
            "GET /api/domains/ID/company_info.\n"
            "Example: sendgatectl mailtrap company-info get mail.example.com",
            cmd_ci_get);
CTL_COMMAND(mt_ci_create, "mailtrap company-info create",
            "DOMAIN|ID --name N --address A --city C --country C --zip-code Z --website-url URL "
            "[--phone P] [--privacy-policy-url URL] [--terms-of-service-url URL] "
            "[--info-level business|individual]",
            "give Mailtrap the company information compliance needs",
            "POST /api/domains/ID/company_info {\"company_info\": {...}}. name, address, city,\n"
            "country, zip_code and website_url are required; URLs are http(s).\n"
            "Example: sendgatectl mailtrap company-info create mail.example.com --name 'Shop Ltd'\n"
            "  --address '1 Main St' --city Springfield --country US --zip-code 12345\n"
            "  --website-url https://example.com --info-level business",
            cmd_ci_create);
CTL_COMMAND(mt_ci_update, "mailtrap company-info update",
            "DOMAIN|ID [--name N] [--address A] [--city C] [--country C] [--zip-code Z] "
            "[--website-url URL] [--phone P] [--privacy-policy-url URL] "
            "[--terms-of-service-url URL] [--info-level business|individual]",
            "change some of the company information",
            "PATCH /api/domains/ID/company_info {\"company_info\": {only the fields given}}.\n"
            "Example: sendgatectl mailtrap company-info update 435 --phone '+1 555 0100'",
            cmd_ci_update);
