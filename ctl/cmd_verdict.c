/*
 * cmd_verdict.c - sendgatectl verdict: what would sendgate do with this sender?
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/verdict.h"
#include "ctl/ctl.h"
#include "lib/addr.h"

/* verdict_json - the decision and the settings that would apply */
static cJSON *verdict_json(const char *sender, const char *domain, const verdict *v)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "sender", sender);
    if (domain)
        cJSON_AddStringToObject(o, "domain", domain);
    else
        cJSON_AddNullToObject(o, "domain");
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

static void verdict_text(const char *sender, const verdict *v)
{
    printf("%s: %s", *sender ? sender : "<>", verdict_action_name(v->action));
    if (v->code)
        printf(" %d %s %s", v->code, v->esc, v->text);
    printf(" [%s]\n", v->row);
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

static int cmd_verdict(ctl *c, int argc, char **argv)
{
    conf *cfg;
    cache *ca;
    cache_outbound *rec;
    verdict_input in;
    verdict v;
    char sender[ADDR_MAX], dom[DOMAIN_MAX];
    const char *why, *domain = NULL;

    if (argc < 2)
        return ctl_usage("verdict");
    if (!addr_envelope(argv[1], sender, &why))
        return ctl_fail(EX_DATAERR, "sender '%s': %s", argv[1], why);
    if (*sender && addr_domain(sender, dom, &why))
        domain = dom;
    else if (*sender)
        return ctl_fail(EX_DATAERR, "sender '%s': %s", argv[1], why);
    cfg = ctl_config(c);
    ca = ctl_cache(c, CACHE_RDONLY);
    if ((rec = malloc(sizeof(*rec))) == NULL)
        return EX_OSERR;
    memset(&in, 0, sizeof(in));
    in.cfg = cfg;
    in.lookup_rc = domain ? cache_get_outbound(ca, domain, rec) : CACHE_NOTFOUND;
    in.rec = rec;
    in.sender = sender;
    in.domain = domain;
    in.rcpts = (const char *const *)argv + 2;
    in.n_rcpts = (size_t)argc - 2;
    in.now = (int64_t)time(NULL);
    verdict_decide(&in, &v);
    if (c->json)
        ctl_print_json(verdict_json(sender, domain, &v));
    else
        verdict_text(sender, &v);
    free(rec);
    return 0;
}

CTL_COMMAND(verdict, "verdict", "SENDER [RECIPIENT...]",
            "show what the milter and policy server would do for a sender",
            "Looks the sender's domain up in the cache and applies the [handling] table,\n"
            "exactly as sendgate-milter and sendgate-policyd do, without sending mail.\n"
            "Recipients matter for demo domains. Use '<>' for the null sender.\n"
            "Example: sendgatectl verdict news@example.com someone@example.org",
            cmd_verdict);
