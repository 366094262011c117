/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_verdict.c - sendgatectl verdict: what would sendgate do with this sender?
 *
 * Without --from-header the sending domain is the sender's, as the policy
 * server and the milter with domain_source = envelope judge it. With one
 * or more --from-header values (each a From: field's value), the milter's
 * domain_source = header decision: every address's domain, strictest
 * wins, handling.unjudgeable_from when they cannot all be known.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/verdict.h"
#include "ctl/ctl.h"
#include "lib/addr.h"

/* verdict_json - the decision and the settings that would apply */
static cJSON *verdict_json(const char *sender, const addr_from *f, const char *unjudgeable,
                           const verdict *v)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "sender", sender);
    if (f->n_domains)
        cJSON_AddStringToObject(o, "domain", f->domains[0]);
    else
        cJSON_AddNullToObject(o, "domain");
    if (f->fields) {
        cJSON *d = cJSON_AddArrayToObject(o, "from_domains");
        for (size_t i = 0; i < f->n_domains; i++)
            cJSON_AddItemToArray(d, cJSON_CreateString(f->domains[i]));
    }
    if (unjudgeable)
        cJSON_AddStringToObject(o, "unjudgeable", unjudgeable);
    cJSON_AddStringToObject(o, "action", verdict_action_name(v->action));
    cJSON_AddStringToObject(o, "row", v->row);
    if (v->code) {
        char reply[VERDICT_TEXT_MAX + 16];
        snprintf(reply, sizeof(reply), "%d %s %s", v->code, v->esc, v->text);
        cJSON_AddStringToObject(o, "reply", reply);
    }
    if (v->provider >= 0)
        cJSON_AddStringToObject(o, "decided_by", cache_provider_name(v->provider));
    if (v->settings) {
        cJSON *s = cJSON_AddObjectToObject(o, "settings"), *bcc = cJSON_CreateArray();
        cJSON_AddStringToObject(s, "from", cache_provider_name(v->settings->provider));
        cJSON_AddBoolToObject(s, "open_tracking", v->settings->open_tracking);
        cJSON_AddBoolToObject(s, "click_tracking", v->settings->click_tracking);
        cJSON_AddBoolToObject(s, "unsubscribe", v->settings->unsubscribe);
        cJSON_AddStringToObject(s, "tracking_host", v->settings->tracking_host);
        for (uint8_t i = 0; i < v->settings->n_bcc; i++)
            if (v->settings->bcc[i].verified)
                cJSON_AddItemToArray(bcc, cJSON_CreateString(v->settings->bcc[i].addr));
        cJSON_AddItemToObject(s, "bcc_added", bcc);
    }
    return o;
}

static void verdict_text(const char *sender, const addr_from *f, const char *unjudgeable,
                         const verdict *v)
{
    printf("%s: %s", *sender ? sender : "<>", verdict_action_name(v->action));
    if (v->code)
        printf(" %d %s %s", v->code, v->esc, v->text);
    printf(" [%s]\n", v->row);
    if (f->fields) {
        printf("  From: domains:");
        for (size_t i = 0; i < f->n_domains; i++)
            printf(" %s", f->domains[i]);
        printf("%s\n", f->n_domains ? "" : " (none)");
    }
    if (unjudgeable)
        printf("  From: cannot be judged in full: %s\n", unjudgeable);
    if (v->action == CONF_ACCEPT && v->settings) {
        printf("  tracking: open=%s click=%s unsubscribe=%s host=%s\n",
               v->settings->open_tracking ? "yes" : "no",
               v->settings->click_tracking ? "yes" : "no", v->settings->unsubscribe ? "yes" : "no",
               *v->settings->tracking_host ? v->settings->tracking_host : "(default)");
        for (uint8_t i = 0; i < v->settings->n_bcc; i++)
            printf("  bcc: %s (%s)\n", v->settings->bcc[i].addr,
                   v->settings->bcc[i].verified ? "added" : "pending verification, not added");
    }
}

/*
 * from_domains - the domains to judge and why they are not all known (NULL
 * when they are), as sendgate-milter decides at end of header
 */
static const char *from_domains(const conf *cfg, const char *sender, addr_from *f)
{
    const char *why = f->why[0] ? f->why : addr_from_missing(f);
    char dom[DOMAIN_MAX];

    if (why && f->why[0] == '\0' &&
        strcmp(conf_enum_text(cfg, CK_milter_from_fallback), "envelope") == 0) {
        if (*sender && addr_domain(sender, dom, NULL, 0))
            memcpy(f->domains[f->n_domains++], dom, sizeof(dom));
        return NULL;
    }
    return why;
}

static int cmd_verdict(ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"from-header", required_argument, NULL, 'f'}, {0}};
    conf *cfg;
    cache *ca;
    cache_outbound *rec;
    verdict_input in;
    verdict v;
    char sender[ADDR_MAX], dom[DOMAIN_MAX], why[ERRBUF_MAX];
    const char *unjudgeable = NULL;
    addr_from *f = calloc(1, sizeof(*f));
    int ch;

    if (f == NULL)
        return EX_OSERR;
    addr_from_init(f);
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch != 'f')
            return free(f), ctl_usage("verdict");
        addr_from_field(f, optarg);
    }
    argc -= optind - 1, argv += optind - 1;
    if (argc < 2)
        return free(f), ctl_usage("verdict");
    if (!addr_envelope(argv[1], sender, why, sizeof(why)))
        return free(f), ctl_fail(EX_DATAERR, "sender '%s': %s", argv[1], why);
    if (*sender && !addr_domain(sender, dom, why, sizeof(why)))
        return free(f), ctl_fail(EX_DATAERR, "sender '%s': %s", argv[1], why);
    cfg = ctl_config(c);
    ca = ctl_cache(c, CACHE_RDONLY);
    if (f->fields)
        unjudgeable = from_domains(cfg, sender, f);
    else if (*sender)
        memcpy(f->domains[f->n_domains++], dom, sizeof(dom));
    if ((rec = calloc(1, sizeof(*rec))) == NULL)
        return free(f), EX_OSERR;
    memset(&in, 0, sizeof(in));
    in.cfg = cfg;
    in.sender = sender;
    in.rcpts = (const char *const *)argv + 2;
    in.n_rcpts = (size_t)argc - 2;
    in.now = (int64_t)time(NULL);
    verdict_domains(&in, ca, f->domains, f->n_domains, unjudgeable, rec, &v); /* as the milter */
    if (c->json)
        ctl_print_json(verdict_json(sender, f, unjudgeable, &v));
    else
        verdict_text(sender, f, unjudgeable, &v);
    free(rec);
    free(f);
    return 0;
}

CTL_COMMAND(verdict, "verdict", "[--from-header VALUE]... SENDER [RECIPIENT...]",
            "show what the milter and policy server would do for a sender",
            "Looks the sender's domain up in the cache and applies the [handling] table,\n"
            "exactly as sendgate-milter and sendgate-policyd do, without sending mail.\n"
            "Recipients matter for demo domains. Use '<>' for the null sender.\n"
            "--from-header VALUE (once per From: field, the value after 'From:') judges\n"
            "those fields as sendgate-milter does with domain_source = header: every\n"
            "address's domain, the strictest outcome, and handling.unjudgeable_from when\n"
            "they cannot all be known (unreadable, more than 8 domains, no address).\n"
            "Example: sendgatectl verdict news@example.com someone@example.org\n"
            "Example: sendgatectl verdict --from-header '(x bad@example.net' news@example.com "
            "someone@example.org",
            cmd_verdict);
