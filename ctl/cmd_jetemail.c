/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_jetemail.c - sendgatectl jetemail outbound|inbound ...
 *
 * The operator's side of the JetEmail account API (providers/jetemail.h):
 * list and show domains, change an outbound domain's BCC and tracking
 * settings, add and delete domains, create inbound domains. Every value
 * is checked locally first (exit EX_DATAERR, nothing sent); domains are
 * given by name and their uuid is looked up with GET /outbound/domains or
 * GET /inbound/domains. A successful change is written through to the
 * cache at once (the refresher would bring it at its next pass anyway);
 * if the cache cannot be written the command says so and still exits 0,
 * because the provider did change.
 *
 * --json prints the provider's answer unchanged. A webhook secret is
 * printed once, on standard output, and never logged.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"
#include "ctl/provcmd.h"
#include "lib/addr.h"
#include "providers/jetemail.h"
#include "providers/pjson.h"

/* jstart - the request budget of [jetemail] and the client */
static bool jstart(provcmd *p, char *err, size_t errlen)
{
    http_budget_init(&p->budget, p->cfg->jetemail.request_budget, p->cfg->jetemail.budget_window,
                     http_now_ms());
    return jet_client_init(p->client, p->cfg, &p->budget, NULL, err, errlen);
}

static void jstop(provcmd *p)
{
    jet_client_free(p->client);
}

/* JetEmail's account lockout is a 429 with Retry-After (without it, the BCC verification limit) */
static const provcmd_api jet_api = {PROV_JETEMAIL, "jetemail", true, jstart, jstop};

typedef struct jctx {
    provcmd p;
    jet_client j;
} jctx;

/* jopen - the client; EX_CONFIG when there is no token, EX_TEMPFAIL when held */
static int jopen(ctl *c, jctx *x)
{
    memset(x, 0, sizeof(*x));
    return provcmd_open(&x->p, c, &jet_api, &x->j);
}

/* find_domain - list (GET path) and find DOMAIN; *list owns the row */
static int find_domain(jctx *x, const char *path, const char *dom, cJSON **list, const cJSON **row)
{
    if ((*list = jet_call(&x->j, "GET", path, NULL, &x->p.f)) == NULL)
        return provcmd_fail(&x->p);
    if ((*row = jet_find_row(*list, dom)) == NULL) {
        cJSON_Delete(*list);
        *list = NULL;
        return ctl_fail(EX_NOINPUT, "jetemail: %s is not in %s of this account", dom, path);
    }
    return 0;
}

/* domain_arg - a domain argument, normalised; EX_DATAERR when it is none */
static int domain_arg(const char *arg, char dom[DOMAIN_MAX])
{
    char why[ERRBUF_MAX];

    if (!domain_normalize(arg, strlen(arg), dom, why, sizeof(why)))
        return ctl_fail(EX_DATAERR, "'%s': %s", arg, why);
    return 0;
}

static const char *yesno(int v)
{
    return v > 0 ? "yes" : v == 0 ? "no" : "?";
}

/* ---- outbound ---- */

/* get_list - GET path, printed as JSON or by text: the list commands */
static int get_list(ctl *c, int argc, const char *cmd, const char *path,
                    void (*text)(const cJSON *root))
{
    cJSON *root;
    jctx x;
    int rc;

    if (argc != 1)
        return ctl_usage(cmd);
    if ((rc = jopen(c, &x)) != 0)
        return rc;
    root = jet_call(&x.j, "GET", path, NULL, &x.p.f);
    jet_client_free(&x.j);
    return provcmd_answer(&x.p, root, text);
}

/* print_out_list - the outbound domains, one line each */
static void print_out_list(const cJSON *root)
{
    const cJSON *row;

    printf("%-32s %-10s %-6s %-8s %s\n", "DOMAIN", "STATUS", "DMARC", "SEND", "UUID");
    cJSON_ArrayForEach(row, pjson_rows(root))
    {
        jet_out_row r;
        const char *why;
        int send;
        if (!jet_out_row_parse(row, &r, NULL, 0))
            continue;
        jet_send_status(r.status, r.dmarc, &send, &why);
        printf("%-32s %-10s %-6s %-8s %s\n", r.domain, *r.status ? r.status : "-", yesno(r.dmarc),
               cache_send_name(send), r.uuid);
    }
}

static int cmd_out_list(ctl *c, int argc, char **argv)
{
    (void)argv;
    return get_list(c, argc, "jetemail outbound list", "/outbound/domains", print_out_list);
}

/* print_out - one outbound domain as sendgate understands it */
static void print_out(const jet_out_row *r, const cache_out_entry *e)
{
    printf("domain:          %s\nuuid:            %s\nstatus:          %s\n", r->domain, r->uuid,
           *r->status ? r->status : "-");
    printf("may send:        %s (%s)\n", cache_send_name(e->send), e->reason);
    printf("dmarc verified:  %s\ntracking dns:    %s\n", yesno(r->dmarc), yesno(r->tracking));
    printf("open tracking:   %s\nclick tracking:  %s\n", e->open_tracking ? "on" : "off",
           e->click_tracking ? "on" : "off");
    printf("tracking domain: %s\n", *e->tracking_host ? e->tracking_host : "(none)");
    printf("bcc:            ");
    for (uint8_t i = 0; i < e->n_bcc; i++)
        printf(" %s (%s)", e->bcc[i].addr, e->bcc[i].verified ? "verified" : "pending");
    printf("%s\n", e->n_bcc ? "" : " (none)");
}

static int cmd_out_show(ctl *c, int argc, char **argv)
{
    char dom[DOMAIN_MAX], path[128];
    cJSON *list, *set = NULL;
    const cJSON *row;
    jet_out_row r;
    cache_out_item *o;
    char why[ERRBUF_MAX];
    items it;
    jctx x;
    int rc;

    if (argc != 2)
        return ctl_usage("jetemail outbound show");
    if ((rc = domain_arg(argv[1], dom)) || (rc = jopen(c, &x)))
        return rc;
    if ((rc = find_domain(&x, "/outbound/domains", dom, &list, &row)) == 0 &&
        jet_out_row_parse(row, &r, why, sizeof(why))) {
        snprintf(path, sizeof(path), "/outbound/domains/%s/settings", r.uuid);
        if ((set = jet_call(&x.j, "GET", path, NULL, &x.p.f)) == NULL)
            rc = provcmd_fail(&x.p);
    }
    jet_client_free(&x.j);
    if (set && c->json) {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddItemToObject(out, "domain", cJSON_Duplicate(row, true));
        cJSON_AddItemToObject(out, "settings", set);
        ctl_print_json(out);
    } else if (set) {
        items_init(&it, PROV_JETEMAIL);
        if ((o = jet_out_item(&it, &r, (int64_t)time(NULL))) &&
            jet_out_settings(&it, &o->e, &r, set, why, sizeof(why)))
            print_out(&r, &o->e);
        else
            rc = ctl_fail(EX_PROTOCOL, "jetemail: %s: cannot read the settings: %s", dom, why);
        items_free(&it);
        cJSON_Delete(set);
    }
    cJSON_Delete(list);
    return rc;
}

/* set_args - the options of outbound set into a request */
static int set_args(int argc, char **argv, jet_settings_req *q)
{
    static const struct option opts[] = {{"bcc", required_argument, NULL, 'b'},
                                         {"no-bcc", no_argument, NULL, 'n'},
                                         {"open-tracking", required_argument, NULL, 'o'},
                                         {"click-tracking", required_argument, NULL, 'k'},
                                         {"tracking-domain", required_argument, NULL, 't'},
                                         {0}};
    bool nobcc = false;
    int ch;

    memset(q, 0, sizeof(*q));
    q->open_tracking = q->click_tracking = -1;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'b':
            q->set_bcc = true;
            if (q->n_bcc < JET_MAX_BCC + 1)
                q->bcc[q->n_bcc++] = optarg;
            q->n_bcc_given++;
            break;
        case 'n':
            q->set_bcc = nobcc = true;
            break;
        case 'o':
        case 'k':
            if (provcmd_onoff(optarg) < 0)
                return ctl_fail(EX_DATAERR, "--%s %s: on or off",
                                ch == 'o' ? "open-tracking" : "click-tracking", optarg);
            *(ch == 'o' ? &q->open_tracking : &q->click_tracking) = provcmd_onoff(optarg);
            break;
        case 't':
            q->set_tracking_domain = true;
            q->tracking_domain = optarg;
            break;
        default:
            return ctl_usage("jetemail outbound set");
        }
    }
    if (nobcc && q->n_bcc_given)
        return ctl_fail(EX_USAGE, "--no-bcc and --bcc exclude each other");
    if (q->n_bcc > JET_MAX_BCC)
        q->n_bcc = JET_MAX_BCC + 1; /* jet_settings_check refuses it */
    return optind == argc - 1 ? 0 : ctl_usage("jetemail outbound set");
}

/* print_set - what the provider says after the change */
static void print_set(const char *dom, const cJSON *ans, const jet_settings_req *q)
{
    const cJSON *b, *list = pjson_get(ans, "bccEmails", "bcc_emails");
    bool pending = false;
    long st;

    printf("%s: settings updated\n", dom);
    if (q->set_bcc && q->n_bcc == 0)
        printf("  bcc: cleared\n");
    if (!cJSON_IsArray(list))
        list = NULL;
    cJSON_ArrayForEach(b, list)
    {
        const char *a = pjson_str(pjson_get(b, "email", NULL));
        bool v = pjson_long(pjson_get(b, "status", NULL), &st) && st == 1;
        printf("  bcc: %s (%s)\n", a ? a : "?", v ? "verified" : "pending verification");
        pending |= !v;
    }
    if (pending)
        printf("  pending addresses receive a confirmation mail and get no copies until "
               "confirmed\n");
}

static int cmd_out_set(ctl *c, int argc, char **argv)
{
    char dom[DOMAIN_MAX], path[128], why[256];
    jet_settings_req q;
    cJSON *list, *body, *ans = NULL;
    const cJSON *row;
    jet_out_row r;
    items it;
    jctx x;
    int rc;

    if ((rc = set_args(argc, argv, &q)) || (rc = domain_arg(argv[optind], dom)))
        return rc;
    if (!jet_settings_check(&q, why, sizeof(why)))
        return ctl_fail(EX_DATAERR, "%s", why);
    if ((rc = jopen(c, &x)) != 0)
        return rc;
    if ((rc = find_domain(&x, "/outbound/domains", dom, &list, &row)) != 0)
        goto out;
    if (!jet_out_row_parse(row, &r, NULL, 0) || r.uuid[0] == '\0') {
        rc = ctl_fail(EX_PROTOCOL, "jetemail: %s: no usable uuid in the domain list", dom);
        goto out;
    }
    snprintf(path, sizeof(path), "/outbound/domains/%s/settings", r.uuid);
    body = jet_settings_body(&q);
    ans = jet_call(&x.j, "POST", path, body, &x.p.f);
    cJSON_Delete(body);
    if (ans == NULL) {
        rc = provcmd_fail(&x.p);
        goto out;
    }
    if (c->json)
        ctl_print_json(cJSON_Duplicate(ans, true));
    else
        print_set(dom, ans, &q);
    items_init(&it, PROV_JETEMAIL);
    if (jet_fetch_outbound_one(&x.j, row, &it, (int64_t)time(NULL), &x.p.f))
        provcmd_write_items(c, &it);
    else
        fprintf(stderr, "%s: warning: cache not updated (%s); the next refresh brings the change\n",
                c->prog, x.p.f.text);
    items_free(&it);
out:
    cJSON_Delete(ans);
    cJSON_Delete(list);
    jet_client_free(&x.j);
    return rc;
}

static int cmd_out_add(ctl *c, int argc, char **argv)
{
    char dom[DOMAIN_MAX], why[256];
    cJSON *body, *ans;
    const cJSON *res;
    jet_out_row r;
    items it;
    jctx x;
    int rc;

    if (argc != 2)
        return ctl_usage("jetemail outbound add");
    if (!jet_domain_check(argv[1], dom, why, sizeof(why)))
        return ctl_fail(EX_DATAERR, "%s", why);
    if ((rc = jopen(c, &x)) != 0)
        return rc;
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "domain", dom);
    ans = jet_call(&x.j, "POST", "/outbound/domains", body, &x.p.f);
    cJSON_Delete(body);
    jet_client_free(&x.j);
    if (ans == NULL)
        return provcmd_fail(&x.p);
    res = pjson_object(ans, NULL);
    if (c->json)
        ctl_print_json(cJSON_Duplicate(ans, true));
    else
        printf("%s: added to JetEmail; publish its DNS records (DMARC at least p=none), then\n"
               "run 'sendgatectl jetemail outbound show %s'\n",
               dom, dom);
    items_init(&it, PROV_JETEMAIL);
    if (res && jet_out_row_parse(res, &r, NULL, 0) && jet_out_item(&it, &r, (int64_t)time(NULL)))
        provcmd_write_items(c, &it);
    items_free(&it);
    cJSON_Delete(ans);
    return 0;
}

/* delete_domain - DELETE path {"uuid"} for a listed domain, then drop it from the cache */
static int delete_domain(ctl *c, int argc, char **argv, const char *list_path, bool inbound)
{
    char dom[DOMAIN_MAX];
    cJSON *list, *body, *ans;
    const cJSON *row;
    const char *uuid;
    jctx x;
    int rc;

    if (argc != 2)
        return ctl_usage(inbound ? "jetemail inbound delete" : "jetemail outbound delete");
    if ((rc = domain_arg(argv[1], dom)) || (rc = jopen(c, &x)))
        return rc;
    if ((rc = find_domain(&x, list_path, dom, &list, &row)) != 0) {
        jet_client_free(&x.j);
        return rc;
    }
    uuid = pjson_str(pjson_get(row, "uuid", "id"));
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "uuid", uuid ? uuid : "");
    ans = jet_call(&x.j, "DELETE", list_path, body, &x.p.f);
    cJSON_Delete(body);
    cJSON_Delete(list);
    jet_client_free(&x.j);
    if (ans == NULL)
        return provcmd_fail(&x.p);
    if (c->json)
        ctl_print_json(ans);
    else {
        printf("%s: deleted from JetEmail (%s)\n", dom, inbound ? "inbound" : "outbound");
        cJSON_Delete(ans);
    }
    provcmd_forget(c, dom, PROV_JETEMAIL, inbound);
    return 0;
}

static int cmd_out_delete(ctl *c, int argc, char **argv)
{
    return delete_domain(c, argc, argv, "/outbound/domains", false);
}

/* ---- inbound ---- */

/* print_in_list - the inbound domains, one line each */
static void print_in_list(const cJSON *root)
{
    const cJSON *row;

    printf("%-32s %-9s %-9s %s\n", "DOMAIN", "DELIVERY", "STATUS", "UUID");
    cJSON_ArrayForEach(row, pjson_rows(root))
    {
        jet_in_row r;
        if (jet_in_row_parse(row, &r, NULL, 0))
            printf("%-32s %-9s %-9s %s\n", r.domain,
                   r.delivery >= 0 ? cache_delivery_name(r.delivery) : "?",
                   r.active == 1   ? "active"
                   : r.active == 0 ? "disabled"
                                   : "?",
                   r.uuid);
    }
}

static int cmd_in_list(ctl *c, int argc, char **argv)
{
    (void)argv;
    return get_list(c, argc, "jetemail inbound list", "/inbound/domains", print_in_list);
}

/* print_in - one inbound domain as the cache will hold it */
static void print_in(const char *dom, const cache_in_entry *e)
{
    printf("domain:          %s\nuuid:            %s\nstatus:          %s\ndelivery:        %s\n",
           dom, e->ref, e->active ? "active" : "disabled", cache_delivery_name(e->delivery));
    for (size_t i = 0; i < e->n_smtp; i++)
        printf("smtp server:     %s port %d priority %d%s\n", e->smtp[i].host, e->smtp[i].port,
               e->smtp[i].priority, e->smtp[i].tls ? " tls" : "");
    if (*e->webhook_url)
        printf("webhook:         %s %s (timeout %d ms, %d retries)\n", e->webhook_method,
               e->webhook_url, e->webhook_timeout_ms, e->webhook_retry_count);
    if (e->delivery == DELIVERY_FORWARD)
        printf("forward dns:     mx %s, dkim %s, spf %s, dmarc %s\n", yesno(e->fwd_mx_verified),
               yesno(e->fwd_dkim_verified), yesno(e->fwd_spf_verified),
               yesno(e->fwd_dmarc_verified));
    for (size_t i = 0; i < e->n_rules; i++)
        printf("forward rule:    %s -> %s%s%s\n", e->rules[i].localpart, e->rules[i].destination,
               e->rules[i].active ? "" : " (inactive)",
               e->rules[i].verified ? "" : " (destination unverified)");
}

/* in_show_json - {"domain": row, "settings": answer, "forward_rules": answer} */
static int in_show_json(jctx *x, const cJSON *row)
{
    const char *uuid = pjson_str(pjson_get(row, "uuid", "id")), *dt;
    cJSON *out = cJSON_CreateObject(), *ans;
    char path[128];

    cJSON_AddItemToObject(out, "domain", cJSON_Duplicate(row, true));
    if (uuid == NULL || !jet_uuid_valid(uuid)) {
        cJSON_Delete(out);
        return ctl_fail(EX_PROTOCOL, "jetemail: no usable uuid in the inbound list");
    }
    snprintf(path, sizeof(path), "/inbound/settings/%s", uuid);
    if ((ans = jet_call(&x->j, "GET", path, NULL, &x->p.f)) == NULL) {
        cJSON_Delete(out);
        return provcmd_fail(&x->p);
    }
    cJSON_AddItemToObject(out, "settings", ans);
    snprintf(path, sizeof(path), "/inbound/domains/%s/forward-rules", uuid);
    dt = pjson_str(pjson_get(row, "delivery_type", "deliveryType"));
    if (dt && strcmp(dt, "forward") == 0) {
        if ((ans = jet_call(&x->j, "GET", path, NULL, &x->p.f)) == NULL) {
            cJSON_Delete(out);
            return provcmd_fail(&x->p);
        }
        cJSON_AddItemToObject(out, "forward_rules", ans);
    }
    ctl_print_json(out);
    return 0;
}

static int cmd_in_show(ctl *c, int argc, char **argv)
{
    char dom[DOMAIN_MAX];
    cJSON *list;
    const cJSON *row;
    items it;
    jctx x;
    int rc;

    if (argc != 2)
        return ctl_usage("jetemail inbound show");
    if ((rc = domain_arg(argv[1], dom)) || (rc = jopen(c, &x)))
        return rc;
    if ((rc = find_domain(&x, "/inbound/domains", dom, &list, &row)) != 0) {
        jet_client_free(&x.j);
        return rc;
    }
    if (c->json) {
        rc = in_show_json(&x, row);
    } else {
        items_init(&it, PROV_JETEMAIL);
        if (!jet_fetch_inbound_one(&x.j, row, &it, (int64_t)time(NULL), &x.p.f))
            rc = provcmd_fail(&x.p);
        else
            print_in(dom, &it.in[0].e);
        items_free(&it);
    }
    cJSON_Delete(list);
    jet_client_free(&x.j);
    return rc;
}

/* create_args - the options of inbound create */
static int create_args(int argc, char **argv, jet_inbound_req *q)
{
    static const struct option opts[] = {{"delivery", required_argument, NULL, 'd'},
                                         {"server", required_argument, NULL, 's'},
                                         {"webhook-url", required_argument, NULL, 'u'},
                                         {"webhook-method", required_argument, NULL, 'm'},
                                         {"webhook-header", required_argument, NULL, 'H'},
                                         {"webhook-timeout", required_argument, NULL, 't'},
                                         {"webhook-retries", required_argument, NULL, 'r'},
                                         {"webhook-auth-header", required_argument, NULL, 'a'},
                                         {0}};
    char why[256], *end;
    int ch;

    memset(q, 0, sizeof(*q));
    q->webhook_timeout = q->webhook_retry_count = -1;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        long n = 0;
        if (ch == 't' || ch == 'r') {
            n = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || n < 0)
                return ctl_fail(EX_DATAERR, "--%s %s: a whole number",
                                ch == 't' ? "webhook-timeout" : "webhook-retries", optarg);
        }
        switch (ch) {
        case 'd':
            q->delivery = optarg;
            break;
        case 's':
            if (q->n_servers == JET_MAX_SERVERS)
                return ctl_fail(EX_DATAERR, "at most %d --server", JET_MAX_SERVERS);
            if (!jet_server_parse(optarg, &q->servers[q->n_servers++], why, sizeof(why)))
                return ctl_fail(EX_DATAERR, "%s", why);
            break;
        case 'u':
            q->webhook_url = optarg;
            break;
        case 'm':
            q->webhook_method = optarg;
            break;
        case 'H':
            if (q->n_headers == JET_MAX_HEADERS)
                return ctl_fail(EX_DATAERR, "at most %d --webhook-header", JET_MAX_HEADERS);
            q->headers[q->n_headers++] = optarg;
            break;
        case 't':
            q->webhook_timeout = n;
            break;
        case 'r':
            q->webhook_retry_count = n;
            break;
        case 'a':
            q->webhook_auth_header = optarg;
            break;
        default:
            return ctl_usage("jetemail inbound create");
        }
    }
    if (optind != argc - 1)
        return ctl_usage("jetemail inbound create");
    q->domain = argv[optind];
    return 0;
}

/* create_write_through - the new domain into the cache: the answer plus what was sent */
static void create_write_through(ctl *c, const cJSON *res, const cJSON *body)
{
    cJSON *set = cJSON_Duplicate(res, true), *wrap = cJSON_CreateObject();
    static const char *const keep[] = {
            "domain",         "delivery_type",   "smtp_servers",       "webhook_url",
            "webhook_method", "webhook_timeout", "webhook_retry_count"};
    cache_in_item *in;
    jet_in_row r;
    items it;

    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, keep[i]);
        if (v && !cJSON_GetObjectItemCaseSensitive(set, keep[i]))
            cJSON_AddItemToObject(set, keep[i], cJSON_Duplicate(v, true));
    }
    cJSON_AddItemToObject(wrap, "result", set);
    items_init(&it, PROV_JETEMAIL);
    if (jet_in_row_parse(set, &r, NULL, 0) && (in = jet_in_item(&it, &r, (int64_t)time(NULL))) &&
        jet_in_settings(&it, &in->e, wrap, NULL, 0))
        provcmd_write_items(c, &it);
    items_free(&it);
    cJSON_Delete(wrap);
}

static int cmd_in_create(ctl *c, int argc, char **argv)
{
    char why[256];
    jet_inbound_req q;
    cJSON *body, *ans;
    const cJSON *res;
    const char *secret, *uuid;
    jctx x;
    int rc;

    if ((rc = create_args(argc, argv, &q)) != 0)
        return rc;
    if (!jet_inbound_check(&q, why, sizeof(why)))
        return ctl_fail(EX_DATAERR, "%s", why);
    if ((rc = jopen(c, &x)) != 0)
        return rc;
    body = jet_inbound_body(&q);
    ans = jet_call(&x.j, "POST", "/inbound/domains", body, &x.p.f);
    jet_client_free(&x.j);
    if (ans == NULL) {
        cJSON_Delete(body);
        return provcmd_fail(&x.p);
    }
    res = pjson_object(ans, NULL);
    secret = pjson_str(pjson_get(res, "webhook_secret", "webhookSecret"));
    uuid = pjson_str(pjson_get(res, "uuid", NULL));
    if (c->json) {
        ctl_print_json(cJSON_Duplicate(ans, true));
    } else {
        printf("%s: inbound domain created (uuid %s, delivery %s)\n",
               pjson_str(pjson_get(body, "domain", NULL)), uuid ? uuid : "?", q.delivery);
        if (secret && *secret)
            printf("webhook secret: %s\n"
                   "  shown only now: keep it to verify X-Webhook-Signature\n",
                   secret);
    }
    if (res)
        create_write_through(c, res, body);
    cJSON_Delete(body);
    cJSON_Delete(ans);
    return 0;
}

static int cmd_in_delete(ctl *c, int argc, char **argv)
{
    return delete_domain(c, argc, argv, "/inbound/domains", true);
}

CTL_COMMAND(jet_out_list, "jetemail outbound list", "", "list JetEmail's outbound domains",
            "GET /outbound/domains. Shows each domain's status, whether its DMARC record is\n"
            "verified, and the send status sendgate derives from both.\n"
            "Example: sendgatectl jetemail outbound list",
            cmd_out_list);
CTL_COMMAND(jet_out_show, "jetemail outbound show", "DOMAIN",
            "show one outbound domain's settings (BCC, tracking)",
            "GET /outbound/domains to find the uuid, then GET /outbound/domains/UUID/settings.\n"
            "--json prints {\"domain\": list row, \"settings\": answer}.\n"
            "Example: sendgatectl jetemail outbound show shop.example",
            cmd_out_show);
CTL_COMMAND(jet_out_set, "jetemail outbound set",
            "DOMAIN [--bcc ADDR]... [--no-bcc] [--open-tracking on|off] [--click-tracking on|off] "
            "[--tracking-domain HOST]",
            "change an outbound domain's BCC and tracking settings",
            "POST /outbound/domains/UUID/settings with only the fields given:\n"
            "  --bcc ADDR               the BCC list becomes these addresses (at most 5;\n"
            "                           new ones must be confirmed before they get copies)\n"
            "  --no-bcc                 clear the BCC list (bccEmails: null)\n"
            "  --open-tracking on|off   --click-tracking on|off\n"
            "  --tracking-domain HOST   custom tracking host, CNAMEd to JetEmail's link host;\n"
            "                           an empty value clears it\n"
            "Invalid values are refused before anything is sent (exit 65).\n"
            "Example: sendgatectl jetemail outbound set shop.example --bcc archive@shop.example "
            "--open-tracking on",
            cmd_out_set);
CTL_COMMAND(
        jet_out_add, "jetemail outbound add", "DOMAIN", "add an outbound domain to JetEmail",
        "POST /outbound/domains {\"domain\": DOMAIN}. Sending is refused until its DNS records,\n"
        "a DMARC record at least, are verified.\n"
        "Example: sendgatectl jetemail outbound add mail.example.com",
        cmd_out_add);
CTL_COMMAND(jet_out_delete, "jetemail outbound delete", "DOMAIN",
            "delete an outbound domain from JetEmail",
            "DELETE /outbound/domains {\"uuid\": UUID} (the uuid is looked up by name), then the\n"
            "domain's JetEmail entry leaves the cache.\n"
            "Example: sendgatectl jetemail outbound delete old.example.com",
            cmd_out_delete);
CTL_COMMAND(jet_in_list, "jetemail inbound list", "", "list JetEmail's inbound domains",
            "GET /inbound/domains: delivery type, status and uuid of each domain.\n"
            "Example: sendgatectl jetemail inbound list",
            cmd_in_list);
CTL_COMMAND(jet_in_show, "jetemail inbound show", "DOMAIN",
            "show one inbound domain (servers, webhook, forward rules)",
            "GET /inbound/settings/UUID and, for forward domains,\n"
            "GET /inbound/domains/UUID/forward-rules. Webhook secrets are never shown.\n"
            "Example: sendgatectl jetemail inbound show example.net",
            cmd_in_show);
CTL_COMMAND(jet_in_create, "jetemail inbound create",
            "DOMAIN --delivery smtp|webhook|forward [--server HOST:PORT[:PRIO[:tls]]]... "
            "[--webhook-url URL] [--webhook-method POST|PUT] [--webhook-header 'NAME: VALUE']... "
            "[--webhook-timeout MS] [--webhook-retries N] [--webhook-auth-header VALUE]",
            "add an inbound domain to JetEmail",
            "POST /inbound/domains. DOMAIN is the apex domain (example.com).\n"
            "  smtp     at least one --server; a server with a priority or tls flag is sent\n"
            "           as {url, priority, tls_enabled}, otherwise as \"host:port\"\n"
            "  webhook  --webhook-url (http/https); the other --webhook-* are optional\n"
            "  forward  no servers, no webhook; add forward rules afterwards\n"
            "Options of another mode are refused locally (JetEmail answers 400 to them).\n"
            "The webhook secret is printed once: JetEmail shows it only at creation.\n"
            "Example: sendgatectl jetemail inbound create example.net --delivery smtp "
            "--server mx1.example.net:25:10:tls --server mx2.example.net:25:20",
            cmd_in_create);
CTL_COMMAND(jet_in_delete, "jetemail inbound delete", "DOMAIN",
            "delete an inbound domain from JetEmail",
            "DELETE /inbound/domains {\"uuid\": UUID}, then the domain's JetEmail entry leaves\n"
            "the cache.\n"
            "Example: sendgatectl jetemail inbound delete example.net",
            cmd_in_delete);
