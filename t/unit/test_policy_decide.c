/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_policy_decide.c - what sendgate-policyd answers (policyd/decide.c)
 *
 * A real LMDB cache in a temporary directory holds one domain of each
 * kind; policy requests and socketmap lookups are answered from it and
 * compared with what Postfix must receive. The sender texts are compared
 * with cache/verdict.c's, so the policy server and the milter say the
 * same words.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/suppress.h"
#include "cache/verdict.h"
#include "lib/log.h"
#include "policyd/decide.h"
#include "t/lib/tap.h"

static char dir[] = "/tmp/sgtest-decide-XXXXXX";
static cache *ca;

static void out_domain(const char *domain, int send, const char *raw, const char *reason)
{
    cache_out_entry e;

    memset(&e, 0, sizeof(e));
    e.provider = PROV_STATIC;
    e.send = (uint8_t)send;
    e.ref = "";
    e.raw_status = raw;
    e.reason = reason;
    e.tracking_host = "";
    e.fetched_at = 1700000000;
    if (cache_upsert_outbound(ca, domain, &e) != CACHE_OK)
        tap_diag("upsert %s failed", domain);
}

static cache_fwd_rule rules[] = {
        {"", "support", "team@helpdesk.example", true, true},
        {"", "sales", "alice@crm.example", true, true},
        {"", "sales", "bob@crm.example", true, true},
        {"", "old", "gone@example.org", false, true},
};

static cache_smtp_server servers[] = {{"mail2.mx.example", 2525, 20, false},
                                      {"mail1.mx.example", 25, 10, true}};

static void in_domain(const char *domain, int delivery, bool active, bool dns)
{
    cache_in_entry e;

    memset(&e, 0, sizeof(e));
    e.provider = PROV_STATIC;
    e.delivery = (uint8_t)delivery;
    e.active = active;
    e.fwd_mx_verified = e.fwd_dkim_verified = e.fwd_spf_verified = e.fwd_dmarc_verified = dns;
    e.ref = "";
    e.webhook_url = "";
    e.webhook_method = "";
    if (delivery == DELIVERY_FORWARD) {
        e.rules = rules;
        e.n_rules = 4;
    } else if (delivery == DELIVERY_SMTP) {
        e.smtp = servers;
        e.n_smtp = 2;
    }
    if (cache_upsert_inbound(ca, domain, &e) != CACHE_OK)
        tap_diag("upsert inbound %s failed", domain);
}

static void fill_cache(void)
{
    cache_opts o = {1 << 22, 1 << 26, 126, 0};
    char err[256];

    if (mkdtemp(dir) == NULL || (ca = cache_open(dir, CACHE_RDWR, &o, err, sizeof(err))) == NULL) {
        printf("Bail out! cannot create a cache: %s\n", err);
        exit(255);
    }
    out_domain("shop.example", SEND_ALLOWED, "compliant", "ok");
    out_domain("unverified.example", SEND_BLOCKED, "unverified_dns",
               "DNS records not verified; publish the records shown on the provider's Domains "
               "page");
    out_domain("review.example", SEND_PENDING, "under_review",
               "compliance review in progress, usually a few minutes");
    out_domain("trial.example", SEND_DEMO, "demo",
               "demo domain: may send only to the account owner");
    in_domain("shop.example", DELIVERY_FORWARD, true, true);
    in_domain("unready.example", DELIVERY_FORWARD, true, false);
    in_domain("mx.example", DELIVERY_SMTP, true, false);
    in_domain("off.example", DELIVERY_SMTP, false, false);
    in_domain("hook.example", DELIVERY_WEBHOOK, true, false);
    suppress_add(ca, "shop.example", "gone@customer.example", 1700000000, "msg-1");
}

/* load_conf - a configuration from text */
static conf *load_conf(const char *text)
{
    char path[] = "/tmp/sgtest-decide-conf-XXXXXX";
    int fd = mkstemp(path);
    conf_report rep;
    conf *c;

    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        tap_ok(false, "write the configuration to %s", path);
        return NULL;
    }
    close(fd);
    conf_report_init(&rep);
    c = conf_load(path, &rep);
    if (c == NULL) /* every check that needs it fails or is skipped: fail here */
        tap_ok(false, "the configuration loads: %s", buf_cstr(&rep.text));
    conf_report_free(&rep);
    unlink(path);
    return c;
}

/* ask - one policy request ("name=value" lines separated by '|'); returns the action */
static const char *ask(decide_ctx *d, const char *attrs)
{
    static char action[1024];
    char req[2048];
    policy_req r;
    verdict v;
    const char *why;
    buf out = BUF_INIT;
    size_t n = 0;

    n = (size_t)snprintf(req, sizeof(req), "request=smtpd_access_policy|%s||", attrs);
    for (size_t i = 0; i < n; i++)
        if (req[i] == '|')
            req[i] = '\n';
    if (policy_parse(req, n, &r, &why) != POLICY_DONE) {
        snprintf(action, sizeof(action), "PARSE ERROR %s", why);
        return action;
    }
    decide_policy(d, &r, &v);
    policy_reply_verdict(&out, &v);
    snprintf(action, sizeof(action), "%s", buf_cstr(&out));
    buf_free(&out);
    if (strncmp(action, "action=", 7) == 0 && strlen(action) > 9) {
        action[strlen(action) - 2] = '\0'; /* the blank line was there; drop it */
        return action + 7;
    }
    return action;
}

/* smap - one socketmap lookup; returns the reply payload */
static const char *smap(decide_ctx *d, const char *map, const char *key)
{
    static char reply[1024];
    smap_req q;
    smap_result res = SMAP_RESULT_INIT;
    buf out = BUF_INIT;
    const char *colon;

    memset(&q, 0, sizeof(q));
    snprintf(q.map, sizeof(q.map), "%s", map);
    snprintf(q.key, sizeof(q.key), "%s", key);
    decide_smap(d, &q, &res);
    smap_reply(&out, res.status, buf_cstr(&res.value));
    buf_free(&res.value);
    colon = strchr(buf_cstr(&out), ':');
    snprintf(reply, sizeof(reply), "%.*s",
             colon ? (int)(out.len - (size_t)(colon - out.data) - 2) : 0, colon ? colon + 1 : "");
    buf_free(&out);
    return reply;
}

/* verdict_text - what the milter would say for a sender */
static const char *verdict_text(const conf *c, const char *sender, const char *domain)
{
    static verdict v;
    static cache_outbound rec;
    verdict_input in;

    memset(&in, 0, sizeof(in));
    in.cfg = c;
    in.sender = sender;
    in.domain = domain;
    in.lookup_rc = cache_get_outbound(ca, domain, &rec);
    in.rec = &rec;
    in.now = 1700000000;
    verdict_decide(&in, &v);
    return v.text;
}

static void test_sender(decide_ctx *d, const conf *c)
{
    char want[1024], reject[1024];

    tap_is_str(ask(d, "protocol_state=RCPT|sender=a@shop.example|recipient=x@customer.example"),
               "DUNNO", "an allowed sender gets DUNNO");
    snprintf(want, sizeof(want), "550 5.7.1 %s",
             verdict_text(c, "a@unverified.example", "unverified.example"));
    tap_is_str(ask(d, "protocol_state=RCPT|sender=a@unverified.example|recipient=x@c.example"),
               want, "a blocked sender: 550 5.7.1 with the milter's text");
    tap_ok(strstr(want, "domain unverified.example is not allowed to send") != NULL,
           "the text names the domain: %s", want);
    snprintf(reject, sizeof(reject), "%s", want);
    snprintf(want, sizeof(want), "451 4.7.1 %s",
             verdict_text(c, "a@review.example", "review.example"));
    tap_is_str(ask(d, "protocol_state=RCPT|sender=a@review.example|recipient=x@c.example"), want,
               "a pending sender: 451 4.7.1, as the milter");
    tap_is_str(ask(d, "protocol_state=MAIL|sender=a@unverified.example"), reject,
               "already at MAIL FROM when asked there");
    tap_is_str(ask(d, "protocol_state=RCPT|sender=|recipient=x@c.example"), "DUNNO",
               "null sender: handling.null_sender (accept)");
    tap_is_str(ask(d, "protocol_state=RCPT|sender=a@nowhere.example|recipient=x@c.example"),
               "DUNNO", "unknown domain: handling.unknown_domain (accept)");
    tap_is_str(ask(d, "protocol_state=CONNECT|client_address=192.0.2.1"), "DUNNO",
               "nothing to check at CONNECT");
    tap_ok(strncmp(ask(d, "protocol_state=RCPT|sender=a@trial.example|recipient=x@c.example"),
                   "550 5.7.1 domain trial.example is a demo domain", 46) == 0,
           "a demo domain to a stranger is rejected");
    tap_is_str(ask(d, "protocol_state=RCPT|sender=A@Unverified.Example.|recipient=x@c.example"),
               ask(d, "protocol_state=RCPT|sender=a@unverified.example|recipient=x@c.example"),
               "the sender domain is normalised");
}

static void test_inbound(decide_ctx *d)
{
    tap_is_str(ask(d, "protocol_state=RCPT|sender=a@b.example|recipient=support@shop.example"),
               "DUNNO", "a forwarded address is accepted");
    tap_is_str(ask(d, "protocol_state=RCPT|sender=a@b.example|recipient=support+x@shop.example"),
               "DUNNO", "plus-addressing");
    tap_is_str(ask(d, "protocol_state=RCPT|sender=a@b.example|recipient=old@shop.example"),
               "550 5.1.1 no such recipient: old@shop.example has no active, verified forwarding "
               "rule",
               "an inactive rule is no rule");
    tap_is_str(ask(d, "protocol_state=RCPT|sender=a@b.example|recipient=x@unready.example"),
               "550 5.1.2 domain unready.example does not accept mail yet (forwarding DNS "
               "records not verified)",
               "forward DNS unverified");
    tap_is_str(ask(d, "protocol_state=RCPT|sender=a@b.example|recipient=x@off.example"),
               "550 5.1.2 domain off.example does not accept mail (inbound domain disabled)",
               "disabled inbound domain");
    tap_is_str(ask(d, "protocol_state=RCPT|sender=a@b.example|recipient=anyone@mx.example"),
               "DUNNO", "smtp domains take any local part");
    tap_is_str(ask(d, "protocol_state=RCPT|sender=a@shop.example|recipient=gone@customer.example"),
               "550 5.7.1 recipient gone@customer.example has unsubscribed from mail from domain "
               "shop.example",
               "a suppressed recipient is rejected for that sending domain");
    tap_is_str(ask(d, "protocol_state=RCPT|sender=a@unverified.example|recipient=old@shop.example"),
               ask(d, "protocol_state=RCPT|sender=a@unverified.example|recipient=x@c.example"),
               "two rejections: the sender's comes first");
    tap_is_str(ask(d, "protocol_state=RCPT|sender=a@review.example|recipient=old@shop.example"),
               "550 5.1.1 no such recipient: old@shop.example has no active, verified forwarding "
               "rule",
               "a reject beats a tempfail");
}

static void test_smap(decide_ctx *d)
{
    tap_is_str(smap(d, "relay", "shop.example"), "OK shop.example", "relay: active domain");
    tap_is_str(smap(d, "relay", "SHOP.example"), "OK shop.example", "relay: case folded");
    tap_is_str(smap(d, "relay", "off.example"), "NOTFOUND ", "relay: disabled domain");
    tap_is_str(smap(d, "relay", "nowhere.example"), "NOTFOUND ", "relay: unknown domain");
    tap_is_str(smap(d, "relay", ".shop.example"), "NOTFOUND ", "relay: parent-domain form");
    tap_is_str(smap(d, "transport", "mx.example"), "OK smtp:[mail1.mx.example]:25",
               "transport: the preferred server");
    tap_is_str(smap(d, "transport", "a@mx.example"), "OK smtp:[mail1.mx.example]:25",
               "transport: Postfix asks with the recipient address");
    tap_is_str(smap(d, "relay", "a@shop.example"), "NOTFOUND ", "relay: domains only");
    tap_is_str(smap(d, "transport", "*"), "NOTFOUND ", "transport: '*'");
    tap_is_str(smap(d, "transport", "shop.example"), "NOTFOUND ", "transport: forward domain");
    tap_is_str(smap(d, "transport", "hook.example"), "NOTFOUND ", "transport: webhook domain");
    tap_is_str(smap(d, "forward", "sales@shop.example"), "OK alice@crm.example,bob@crm.example",
               "forward: several destinations");
    tap_is_str(smap(d, "forward", "support+a@shop.example"), "OK team@helpdesk.example",
               "forward: plus-addressing");
    tap_is_str(smap(d, "forward", "old@shop.example"), "NOTFOUND ", "forward: inactive rule");
    tap_is_str(smap(d, "forward", "@shop.example"), "NOTFOUND ", "forward: no catch-all");
    tap_is_str(smap(d, "forward", "support@unready.example"), "NOTFOUND ",
               "forward: DNS not verified");
    tap_is_str(smap(d, "forward", "support"), "NOTFOUND ", "forward: no domain");
    tap_ok(strncmp(smap(d, "virtual", "x"), "PERM ", 5) == 0, "an unknown map: PERM");
}

static void test_scope(void)
{
    conf *c = load_conf("[policyd]\npolicy_scope = outgoing\ninternal_networks = 10.0.0.0/8\n"
                        "outgoing_contexts = submission\n");
    netlist nl = NETLIST_INIT;
    char err[128];
    decide_ctx *d;
    const char *base = "protocol_state=RCPT|sender=a@unverified.example|recipient=x@c.example";
    char req[512];

    if (c == NULL || !netlist_parse(&nl, &c->policyd.internal_networks, 0, err, sizeof(err))) {
        tap_ok(false, "scope configuration loads");
        return;
    }
    d = decide_new(c, ca, &nl);
    d->now = 1700000000;
    snprintf(req, sizeof(req), "%s|client_address=192.0.2.1", base);
    tap_is_str(ask(d, req), "DUNNO", "outgoing scope: an outside client is not checked");
    snprintf(req, sizeof(req), "%s|client_address=192.0.2.1|sasl_username=alice", base);
    tap_ok(strncmp(ask(d, req), "550 5.7.1", 9) == 0, "a SASL-authenticated client is");
    snprintf(req, sizeof(req), "%s|client_address=10.9.8.7", base);
    tap_ok(strncmp(ask(d, req), "550 5.7.1", 9) == 0, "an internal client is");
    snprintf(req, sizeof(req), "%s|client_address=192.0.2.1|policy_context=submission", base);
    tap_ok(strncmp(ask(d, req), "550 5.7.1", 9) == 0, "an outgoing policy_context is");
    tap_ok(strncmp(ask(d, "protocol_state=RCPT|sender=a@b.example|client_address=192.0.2.1|"
                          "recipient=old@shop.example"),
                   "550 5.1.1", 9) == 0,
           "inbound checks apply to every client");
    decide_free(d);
    netlist_free(&nl);
    conf_unref(c);

    c = load_conf("[policyd]\npolicy_scope = none\ninbound_checks = no\n"
                  "webhook_transport = error:5.3.0 webhook only\nsmtp_transport = relay\n"
                  "[handling]\nblocked = tempfail\n");
    d = decide_new(c, ca, NULL);
    tap_is_str(ask(d, base), "DUNNO", "policy_scope = none: no sender check");
    tap_is_str(ask(d, "protocol_state=RCPT|sender=a@b.example|recipient=old@shop.example"), "DUNNO",
               "inbound_checks = no");
    tap_is_str(smap(d, "transport", "hook.example"), "OK error:5.3.0 webhook only",
               "webhook_transport");
    tap_is_str(smap(d, "transport", "mx.example"), "OK relay:[mail1.mx.example]:25",
               "smtp_transport");
    decide_free(d);
    conf_unref(c);
    c = load_conf("[handling]\nblocked = tempfail\n");
    d = decide_new(c, ca, NULL);
    tap_ok(strncmp(ask(d, base), "451 4.7.1 domain unverified.example", 35) == 0,
           "handling.blocked = tempfail gives 451 4.7.1");
    decide_free(d);
    conf_unref(c);
}

int main(void)
{
    conf *c;
    decide_ctx *d;
    char cmd[128];

    log_set_level(LOG_ERR); /* the decisions are checked here, not their log lines */
    fill_cache();
    c = load_conf("[general]\nlog_level = error\n");
    d = decide_new(c, ca, NULL);
    d->now = 1700000000;
    test_sender(d, c);
    test_inbound(d);
    test_smap(d);
    decide_free(d);
    conf_unref(c);
    test_scope();
    cache_close(ca);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", dir);
    return tap_done();
}
