/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_verdict.c - provider state + [handling] -> SMTP decision (cache/verdict.c)
 *
 * The replies senders see: every Mailtrap compliance_status (the ten the
 * API documents, the four older ones, and one sendgate has never seen)
 * with its exact code, enhanced status code and text; every row of the
 * handling table set to accept, reject and tempfail; the strictest
 * provider wins; provider_order picks the settings; static data never
 * goes stale; and no reply text ever carries CR, LF or other
 * non-printable characters, whatever the provider wrote. Then the rules
 * every program shares: the strictest of several outcomes (also over
 * several sending domains read from a real cache), and which mail is
 * outgoing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/verdict.h"
#include "lib/netlist.h"
#include "t/lib/tap.h"

#define NOW 1700000000

static conf *cfg;
static cache_outbound rec;
static verdict v;

/* load_conf - cfg from the given text (the defaults plus it) */
static conf *load_conf(const char *text)
{
    char path[] = "/tmp/sgtest-verdict.XXXXXX";
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

/* entry - add provider p's entry to rec */
static cache_out_entry *entry(int p, int send, const char *raw, const char *reason)
{
    cache_out_entry *e = &rec.e[rec.n++];

    memset(e, 0, sizeof(*e));
    e->provider = (uint8_t)p;
    e->send = (uint8_t)send;
    e->raw_status = raw;
    e->reason = reason;
    e->ref = e->tracking_host = "";
    e->fetched_at = NOW - 60;
    return e;
}

/* decide - the verdict for sender at shop.example to rcpts (NULL-terminated) */
static const verdict *decide_rc(int lookup_rc, const char *sender, const char *const *rcpts)
{
    verdict_input in;
    size_t n = 0;

    while (rcpts && rcpts[n])
        n++;
    memset(&in, 0, sizeof(in));
    in.cfg = cfg;
    in.lookup_rc = lookup_rc;
    in.rec = lookup_rc == CACHE_OK ? &rec : NULL;
    in.sender = sender;
    in.domain = strchr(sender, '@') ? strchr(sender, '@') + 1 : NULL;
    in.rcpts = rcpts;
    in.n_rcpts = n;
    in.now = NOW;
    verdict_decide(&in, &v);
    return &v;
}

static const verdict *decide(void)
{
    static const char *const rcpts[] = {"customer@example.org", NULL};

    return decide_rc(CACHE_OK, "news@shop.example", rcpts);
}

/* reply - "550 5.7.1 text", or "accept" */
static const char *reply(const verdict *x)
{
    static char out[600];

    if (x->action == CONF_ACCEPT)
        snprintf(out, sizeof(out), "accept%s%s", *x->text ? " with text: " : "", x->text);
    else
        snprintf(out, sizeof(out), "%d %s %s", x->code, x->esc, x->text);
    return out;
}

static void test_mailtrap_table(void)
{
    static const struct {
        const char *status, *want;
    } t[] = {
            {"compliant", "accept"},
            {"demo", "550 5.7.1 domain shop.example is a demo domain and may send only to the "
                     "account owner (demo)"},
            {"under_review",
             "451 4.7.1 domain shop.example is not allowed to send yet: compliance review in "
             "progress, usually a few minutes (under_review); try again later"},
            {"demo_exhausted", "550 5.7.1 domain shop.example is not allowed to send: demo "
                               "sending allowance used up; add and verify your own sending "
                               "domain (demo_exhausted)"},
            {"unverified_dns", "550 5.7.1 domain shop.example is not allowed to send: DNS records "
                               "not verified; publish the records shown on the provider's "
                               "Domains page (unverified_dns)"},
            {"missing_company_info",
             "550 5.7.1 domain shop.example is not allowed to send: company information "
             "missing; complete it in the provider's account settings (missing_company_info)"},
            {"awaiting_questionnaire",
             "550 5.7.1 domain shop.example is not allowed to send: compliance questionnaire "
             "not answered; complete it on the provider's Domains page (awaiting_questionnaire)"},
            {"awaiting_card_verification",
             "550 5.7.1 domain shop.example is not allowed to send: card verification not "
             "done; complete it on the provider's Domains page (awaiting_card_verification)"},
            {"non_compliant", "550 5.7.1 domain shop.example is not allowed to send: domain "
                              "failed the provider's compliance checks; contact the provider's "
                              "support (non_compliant)"},
            {"suspended", "550 5.7.1 domain shop.example is not allowed to send: sending "
                          "suspended by the provider; contact its support (suspended)"},
            {"initial", "550 5.7.1 domain shop.example is not allowed to send: domain setup not "
                        "started; verify it with the provider (initial)"},
            {"pending", "550 5.7.1 domain shop.example is not allowed to send: domain not yet "
                        "approved by the provider (pending)"},
            {"pending_cc", "550 5.7.1 domain shop.example is not allowed to send: card "
                           "verification not done (pending_cc)"},
            {"exhausted", "550 5.7.1 domain shop.example is not allowed to send: sending "
                          "allowance used up (exhausted)"},
            {"frozen_solid", "550 5.7.1 domain shop.example is not allowed to send: status "
                             "unknown to sendgate, treated as not allowed to send; ask the "
                             "provider what the domain still needs (frozen_solid)"},
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int send;
        const char *reason;
        bool known = verdict_map_mailtrap(t[i].status, &send, &reason);
        rec.n = 0;
        entry(PROV_MAILTRAP, send, t[i].status, reason);
        tap_is_str(reply(decide()), t[i].want, "compliance_status %s", t[i].status);
        tap_ok(known == (i + 1 < sizeof(t) / sizeof(t[0])), "%s is %s", t[i].status,
               known ? "known" : "unknown");
    }
    tap_is_str(v.row, "blocked", "an unknown status is the blocked row");
    tap_is_int(v.provider, PROV_MAILTRAP, "decided by Mailtrap");
}

/* set_row - one [handling] row */
static void set_row(int *row, int action)
{
    *row = action;
}

static void test_handling_rows(void)
{
    static const char *const names[] = {"accept", "reject", "tempfail"};
    static const char *const rcpts[] = {"customer@example.org", NULL};
    static const char *const owner[] = {"owner@shop.example", NULL};
    struct conf_handling *h = &cfg->handling;
    const verdict *x;

    for (int a = CONF_ACCEPT; a <= CONF_TEMPFAIL; a++) {
        int code = a == CONF_REJECT ? 550 : a == CONF_TEMPFAIL ? 451 : 0;
        const char *esc = a == CONF_REJECT ? "5.7.1" : a == CONF_TEMPFAIL ? "4.7.1" : "";
        const char *name = names[a];

        rec.n = 0;
        entry(PROV_JETEMAIL, SEND_BLOCKED, "dmarc_unverified", "DMARC record not verified");
        set_row(&h->blocked, a);
        x = decide();
        tap_ok(x->action == a && x->code == code && !strcmp(x->esc, esc) &&
                       !strcmp(x->row, "blocked"),
               "blocked = %s: %s", name, reply(x));

        rec.n = 0;
        entry(PROV_MAILTRAP, SEND_PENDING, "under_review", "review");
        set_row(&h->pending, a);
        x = decide();
        tap_ok(x->action == a && x->code == code && !strcmp(x->row, "pending"), "pending = %s",
               name);

        rec.n = 0;
        entry(PROV_MAILTRAP, SEND_DEMO, "demo", "demo");
        set_row(&h->demo_recipient, a);
        x = decide();
        tap_ok(x->action == a && x->code == code && !strcmp(x->row, "demo-recipient"),
               "demo_recipient = %s", name);

        set_row(&h->unknown_domain, a);
        x = decide_rc(CACHE_NOTFOUND, "news@shop.example", rcpts);
        tap_ok(x->action == a && x->code == code && !strcmp(x->row, "unknown-domain"),
               "unknown_domain = %s: %s", name, reply(x));
        x = decide_rc(CACHE_CORRUPT, "news@shop.example", rcpts);
        tap_ok(x->action == a && !strcmp(x->row, "unknown-domain"),
               "a corrupt record counts as unknown (%s)", name);

        set_row(&h->null_sender, a);
        x = decide_rc(CACHE_NOTFOUND, "", rcpts);
        tap_ok(x->action == a && x->code == code && !strcmp(x->row, "null-sender"),
               "null_sender = %s: %s", name, reply(x));

        rec.n = 0;
        entry(PROV_MAILTRAP, SEND_ALLOWED, "compliant", "ok")->fetched_at = NOW - 7200;
        set_row(&h->stale_cache, a);
        x = decide();
        tap_ok(x->action == a && x->code == code && !strcmp(x->row, "stale-cache"),
               "stale_cache = %s: %s", name, reply(x));

        set_row(&h->cache_error, a);
        x = decide_rc(CACHE_ERROR, "news@shop.example", rcpts);
        tap_ok(x->action == a && x->code == code && !strcmp(x->row, "cache-error"),
               "cache_error = %s: %s", name, reply(x));
    }
    conf_unref(cfg);
    cfg = load_conf("[handling]\nsuppressed_recipient = accept\n");
    tap_ok(cfg && cfg->handling.suppressed_recipient == CONF_ACCEPT,
           "suppressed_recipient parses (accept)");
    conf_unref(cfg);
    cfg = load_conf("[handling]\nsuppressed_recipient = tempfail\n");
    tap_ok(cfg && cfg->handling.suppressed_recipient == CONF_TEMPFAIL,
           "suppressed_recipient parses (tempfail)");
    conf_unref(cfg);
    cfg = load_conf("");
    tap_ok(cfg && cfg->handling.suppressed_recipient == CONF_REJECT,
           "suppressed_recipient defaults to reject");

    /* the exact default texts of the rows that are not provider statuses */
    x = decide_rc(CACHE_ERROR, "news@shop.example", rcpts);
    tap_is_str(reply(x),
               "451 4.7.1 sending rules for domain shop.example cannot be read; try again later",
               "cache error text");
    rec.n = 0;
    entry(PROV_JETEMAIL, SEND_ALLOWED, "active", "ok")->fetched_at = NOW - 3601;
    tap_is_str(reply(decide()),
               "451 4.7.1 sending rules for domain shop.example are out of date (jetemail data "
               "not refreshed); try again later",
               "stale text");
    cfg->handling.unknown_domain = CONF_REJECT;
    tap_is_str(reply(decide_rc(CACHE_NOTFOUND, "news@shop.example", rcpts)),
               "550 5.7.1 domain shop.example is not registered with any sending provider",
               "unknown domain text");
    cfg->handling.null_sender = CONF_REJECT;
    tap_is_str(reply(decide_rc(CACHE_NOTFOUND, "", rcpts)),
               "550 5.7.1 mail with the null sender is not accepted here", "null sender text");
    cfg->handling.unknown_domain = CONF_ACCEPT;
    tap_is_str(reply(decide_rc(CACHE_NOTFOUND, "news@shop.example", rcpts)), "accept",
               "an accepted message carries no text");
    (void)owner;
}

static void test_lists(void)
{
    static const char *const rcpts[] = {"customer@example.org", NULL};
    static const char *const owners[] = {"Owner@Shop.Example", "boss@shop.example", NULL};
    static const char *const mixed[] = {"owner@shop.example", "stranger@example.org", NULL};
    const verdict *x;

    conf_unref(cfg);
    cfg = load_conf("[handling]\nexempt_senders = postmaster@shop.example\n"
                    "exempt_domains = Exempt.Example., bücher.example\n"
                    "demo_recipients = owner@shop.example, boss@shop.example\n");
    if (cfg == NULL)
        return;
    rec.n = 0;
    entry(PROV_MAILTRAP, SEND_BLOCKED, "suspended", "suspended");
    x = decide_rc(CACHE_OK, "PostMaster@Shop.Example", rcpts);
    tap_ok(x->action == CONF_ACCEPT && !strcmp(x->row, "exempt"),
           "an exempt sender is accepted though blocked (case-insensitive)");
    tap_ok(decide()->action == CONF_REJECT, "another sender of the domain is not");
    x = decide_rc(CACHE_OK, "news@exempt.example", rcpts);
    tap_ok(x->action == CONF_ACCEPT && !strcmp(x->row, "exempt"),
           "an exempt domain (written with case and root dot) is accepted");
    x = decide_rc(CACHE_OK, "news@xn--bcher-kva.example", rcpts);
    tap_ok(x->action == CONF_ACCEPT, "an exempt IDN domain matches its A-label");
    x = decide_rc(CACHE_ERROR, "news@exempt.example", rcpts);
    tap_ok(x->action == CONF_ACCEPT, "exemption comes before cache errors");
    x = decide_rc(CACHE_OK, "news@sub.exempt.example", rcpts);
    tap_ok(x->action == CONF_REJECT, "exact match: a subdomain is not exempt");

    rec.n = 0;
    entry(PROV_MAILTRAP, SEND_DEMO, "demo", "demo");
    x = decide_rc(CACHE_OK, "news@shop.example", owners);
    tap_ok(x->action == CONF_ACCEPT && !strcmp(x->row, "allowed"),
           "a demo domain may send to the demo recipients (case-insensitive)");
    x = decide_rc(CACHE_OK, "news@shop.example", mixed);
    tap_ok(x->action == CONF_REJECT && !strcmp(x->row, "demo-recipient"),
           "but not when one recipient is someone else");
    x = decide_rc(CACHE_OK, "news@shop.example", NULL);
    tap_ok(x->action == CONF_ACCEPT, "with no recipients yet a demo domain passes");
}

static void test_strictest(void)
{
    const verdict *x;

    conf_unref(cfg);
    cfg = load_conf("");
    rec.n = 0;
    entry(PROV_STATIC, SEND_ALLOWED, "allowed", "ok");
    entry(PROV_JETEMAIL, SEND_PENDING, "pending", "jet is checking");
    entry(PROV_MAILTRAP, SEND_BLOCKED, "suspended", "mailtrap says no");
    x = decide();
    tap_ok(x->action == CONF_REJECT && x->provider == PROV_MAILTRAP,
           "allowed + pending + blocked: the reject wins");
    tap_ok(strstr(x->text, "mailtrap says no") != NULL, "with the deciding provider's words");
    cfg->handling.blocked = CONF_ACCEPT;
    x = decide();
    tap_ok(x->action == CONF_TEMPFAIL && x->provider == PROV_JETEMAIL,
           "blocked = accept: the tempfail (pending) wins");
    cfg->handling.pending = CONF_REJECT;
    cfg->handling.blocked = CONF_TEMPFAIL;
    x = decide();
    tap_ok(x->action == CONF_REJECT && !strcmp(x->row, "pending"),
           "pending = reject beats blocked = tempfail");
    cfg->handling.pending = CONF_REJECT;
    cfg->handling.blocked = CONF_REJECT;
    x = decide();
    tap_ok(x->provider == PROV_JETEMAIL, "a tie goes to the first provider in the record");
    cfg->handling.pending = CONF_TEMPFAIL;
    rec.n = 0;
    entry(PROV_STATIC, SEND_ALLOWED, "allowed", "ok");
    entry(PROV_MAILTRAP, SEND_ALLOWED, "compliant", "ok");
    tap_is_str(reply(decide()), "accept", "all allowed: accept");
}

static void test_settings(void)
{
    const verdict *x;
    cache_out_entry *s, *m;

    conf_unref(cfg);
    cfg = load_conf("[general]\nprovider_order = mailtrap, static\n");
    rec.n = 0;
    s = entry(PROV_STATIC, SEND_ALLOWED, "allowed", "ok");
    entry(PROV_JETEMAIL, SEND_ALLOWED, "active", "ok");
    m = entry(PROV_MAILTRAP, SEND_ALLOWED, "compliant", "ok");
    x = decide();
    tap_ok(x->settings == &rec.e[2] && x->settings == m, "provider_order: Mailtrap's settings");
    tap_ok(verdict_settings(cfg, &rec) == m, "verdict_settings agrees");
    rec.n = 2; /* static and JetEmail only */
    tap_ok(verdict_settings(cfg, &rec) == s, "the next provider in the order");
    rec.e[0] = rec.e[1];
    rec.n = 1; /* JetEmail only: not in the order at all */
    tap_ok(verdict_settings(cfg, &rec) == &rec.e[0], "a provider outside the order still counts");
    x = decide_rc(CACHE_NOTFOUND, "news@shop.example", NULL);
    tap_ok(x->settings == NULL, "no record, no settings");
}

static void test_stale(void)
{
    cache_out_entry *e;
    const verdict *x;

    conf_unref(cfg);
    cfg = load_conf("[general]\ncache_max_age = 1h\n");
    rec.n = 0;
    e = entry(PROV_STATIC, SEND_ALLOWED, "allowed", "ok");
    e->fetched_at = 0;
    tap_ok(!verdict_stale(cfg, e, NOW), "static data is never stale");
    tap_ok(decide()->action == CONF_ACCEPT, "and decides as it says");
    e = entry(PROV_JETEMAIL, SEND_ALLOWED, "active", "ok");
    e->fetched_at = NOW - 3600;
    tap_ok(!verdict_stale(cfg, e, NOW), "exactly cache_max_age old: not stale");
    e->fetched_at = NOW - 3601;
    tap_ok(verdict_stale(cfg, e, NOW), "one second more: stale");
    x = decide();
    tap_ok(x->action == CONF_TEMPFAIL && !strcmp(x->row, "stale-cache") &&
                   x->provider == PROV_JETEMAIL,
           "stale JetEmail data: tempfail though allowed");
    e->send = SEND_BLOCKED;
    cfg->handling.stale_cache = CONF_ACCEPT;
    x = decide();
    tap_ok(x->action == CONF_ACCEPT, "stale_cache = accept overrides what the old data said");
    conf_unref(cfg);
    cfg = load_conf("[general]\ncache_max_age = 0\n");
    tap_ok(!verdict_stale(cfg, e, NOW), "cache_max_age = 0: never stale");
}

static void test_clean_text(void)
{
    const verdict *x;
    char reason[1200];

    conf_unref(cfg);
    cfg = load_conf("");
    rec.n = 0;
    entry(PROV_MAILTRAP, SEND_BLOCKED, "bad\r\nstatus",
          "line one\r\nRCPT TO:<evil@example.org>\x01\x7f\tcaf\xc3\xa9 100%");
    x = decide();
    tap_ok(strpbrk(x->text, "\r\n") == NULL, "no CR or LF in the text: %s", x->text);
    {
        bool printable = true;
        for (const char *p = x->text; *p; p++)
            printable &= (unsigned char)*p >= ' ' && (unsigned char)*p < 0x7f;
        tap_ok(printable, "only printable ASCII");
    }
    tap_ok(strstr(x->text, "line one  RCPT TO:<evil@example.org>") != NULL,
           "the provider's words are kept, the controls blanked");
    tap_ok(strstr(x->text, "100%") != NULL, "'%%' is left for the caller to escape");
    memset(reason, 'r', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = '\0';
    rec.n = 0;
    entry(PROV_MAILTRAP, SEND_BLOCKED, "x", reason);
    x = decide();
    tap_ok(strlen(x->text) < VERDICT_TEXT_MAX, "a long reason is cut to the reply's size (%zu)",
           strlen(x->text));
    tap_is_str(verdict_action_name(CONF_TEMPFAIL), "tempfail", "action names");
}

/* the From: header that cannot be judged in full: handling.unjudgeable_from */
static void test_unjudgeable_from(void)
{
    verdict_input in;
    verdict x;

    conf_unref(cfg);
    cfg = load_conf("[handling]\nexempt_senders = postmaster@shop.example\n");
    if (cfg == NULL)
        return;
    memset(&in, 0, sizeof(in));
    in.cfg = cfg;
    in.sender = "news@shop.example";
    in.now = NOW;
    verdict_unjudgeable_from(&in, "unterminated comment", &x);
    tap_is_str(reply(&x), "550 5.7.1 cannot judge the From: header: unterminated comment",
               "default reject, the reply says why");
    tap_is_str(x.row, "unjudgeable-from", "row unjudgeable-from");
    tap_ok(x.provider == -1 && x.settings == NULL, "no provider, no settings");
    cfg->handling.unjudgeable_from = CONF_TEMPFAIL;
    verdict_unjudgeable_from(&in, "more than 8 distinct domains", &x);
    tap_is_str(reply(&x), "451 4.7.1 cannot judge the From: header: more than 8 distinct domains",
               "tempfail: 451 4.7.1");
    cfg->handling.unjudgeable_from = CONF_ACCEPT;
    verdict_unjudgeable_from(&in, "no From: field", &x);
    tap_is_str(reply(&x), "accept", "accept: no reply text");
    cfg->handling.unjudgeable_from = CONF_REJECT;
    in.sender = "";
    verdict_unjudgeable_from(&in, "no From: field", &x);
    tap_ok(x.action == CONF_REJECT, "the null sender does not make a From: judgeable");
    in.sender = "PostMaster@shop.example";
    verdict_unjudgeable_from(&in, "no From: field", &x);
    tap_ok(x.action == CONF_ACCEPT && !strcmp(x.row, "exempt"),
           "an exempt sender is never checked, not even this");
    in.sender = "news@shop.example";
    verdict_unjudgeable_from(&in, "bad\r\nInjected: header", &x);
    tap_ok(strchr(x.text, '\r') == NULL && strchr(x.text, '\n') == NULL,
           "no CR or LF reaches the reply");
    tap_ok(verdict_strictness(CONF_REJECT) > verdict_strictness(CONF_TEMPFAIL) &&
                   verdict_strictness(CONF_TEMPFAIL) > verdict_strictness(CONF_ACCEPT),
           "strictness: reject > tempfail > accept");
}

/* the null sender with a sending domain (the milter's From:): both are judged */
static void test_null_sender_domain(void)
{
    verdict_input in;
    verdict x;

    conf_unref(cfg);
    cfg = load_conf("");
    if (cfg == NULL)
        return;
    memset(&in, 0, sizeof(in));
    in.cfg = cfg;
    in.sender = "";
    in.domain = "unverified.example";
    in.lookup_rc = CACHE_OK;
    in.rec = &rec;
    in.now = NOW;
    rec.n = 0;
    entry(PROV_MAILTRAP, SEND_BLOCKED, "unverified_dns", "DNS records not verified");
    verdict_decide(&in, &x);
    tap_ok(x.action == CONF_REJECT && !strcmp(x.row, "blocked"),
           "MAIL FROM:<> does not get a blocked From: domain through: %s", reply(&x));
    rec.n = 0;
    entry(PROV_MAILTRAP, SEND_ALLOWED, "compliant", "ok");
    in.domain = "shop.example";
    verdict_decide(&in, &x);
    tap_ok(x.action == CONF_ACCEPT, "an allowed From: domain with the null sender: accepted");
    cfg->handling.null_sender = CONF_REJECT;
    verdict_decide(&in, &x);
    tap_ok(x.action == CONF_REJECT && !strcmp(x.row, "null-sender"),
           "null_sender = reject still applies with a From: domain: %s", reply(&x));
    in.domain = NULL;
    verdict_decide(&in, &x);
    tap_ok(x.action == CONF_REJECT && !strcmp(x.row, "null-sender"), "and without one, as before");
    cfg->handling.null_sender = CONF_ACCEPT;
}

/* several outcomes for one message: the strictest, the earlier among equals, the first settings */
static void test_combine(void)
{
    cache_out_entry first, other;
    verdict acc, x;

    verdict_set(&acc, CONF_ACCEPT, "allowed", "ignored");
    acc.settings = &first;
    tap_ok(acc.code == 0 && !strcmp(acc.esc, "") && !strcmp(acc.text, "") && acc.provider == -1,
           "verdict_set accept: no code, no text");
    verdict_set(&x, CONF_TEMPFAIL, "pending", "wait %d", 5);
    x.settings = &other;
    tap_ok(x.code == 451 && !strcmp(x.esc, "4.7.1") && !strcmp(x.text, "wait 5"),
           "verdict_set tempfail: 451 4.7.1 and the text");
    tap_ok(verdict_combine(&acc, &x) && acc.action == CONF_TEMPFAIL && !strcmp(acc.row, "pending"),
           "a tempfail replaces an accept");
    tap_ok(acc.settings == &first, "the first outcome's settings stay");
    verdict_set(&x, CONF_TEMPFAIL, "stale-cache", "later");
    tap_ok(!verdict_combine(&acc, &x) && !strcmp(acc.row, "pending"),
           "an equal outcome does not: the earlier among equals");
    verdict_set(&x, CONF_REJECT, "blocked", "no\r\nway");
    tap_ok(verdict_combine(&acc, &x) && acc.code == 550 && !strcmp(acc.esc, "5.7.1"),
           "a reject replaces a tempfail: 550 5.7.1");
    tap_is_str(acc.text, "no\r\nway", "verdict_set keeps the caller's words (its writer cleans)");
    verdict_set(&x, CONF_ACCEPT, "allowed", "fine");
    tap_ok(!verdict_combine(&acc, &x) && acc.action == CONF_REJECT,
           "nothing replaces a reject but a stricter one: none");
}

static cache *vca;

/* out_domain - one outbound domain of the scratch cache, known to the static provider */
static void out_domain(const char *domain, int send, const char *raw, const char *reason)
{
    cache_out_entry e;

    memset(&e, 0, sizeof(e));
    e.provider = PROV_STATIC;
    e.send = (uint8_t)send;
    e.raw_status = raw;
    e.reason = reason;
    e.ref = e.tracking_host = "";
    e.open_tracking = true;
    e.fetched_at = NOW - 60;
    if (cache_upsert_outbound(vca, domain, &e) != CACHE_OK)
        tap_diag("upsert %s failed", domain);
}

/* domains - verdict_domains over the scratch cache for the given domains */
static const verdict *domains(const char *const *list, size_t n, const char *unjudgeable, cache *c,
                              cache_outbound *first)
{
    static char d[ADDR_FROM_DOMAINS][DOMAIN_MAX];
    static const char *const rcpts[] = {"customer@example.org"};
    verdict_input in;

    for (size_t i = 0; i < n; i++)
        snprintf(d[i], sizeof(d[i]), "%s", list[i]);
    memset(&in, 0, sizeof(in));
    in.cfg = cfg;
    in.sender = "news@shop.example";
    in.rcpts = rcpts;
    in.n_rcpts = 1;
    in.now = NOW;
    verdict_domains(&in, c, d, n, unjudgeable, first, &v);
    return &v;
}

/* every sending domain judged from the cache, strictest wins (the milter, sendgatectl verdict) */
static void test_domains(void)
{
    static const char *const ok_bad[] = {"shop.example", "unverified.example"};
    static const char *const review_bad[] = {"review.example", "unverified.example"};
    static const char *const bad_review[] = {"unverified.example", "review.example"};
    static const char *const two_reviews[] = {"review.example", "later.example"};
    static const char *const ok[] = {"shop.example"};
    char dir[] = "/tmp/sgtest-verdict-cache.XXXXXX", err[256], cmd[300];
    cache_opts o = {1 << 22, 1 << 26, 126, 0};
    cache_outbound *first = calloc(1, sizeof(*first));
    const verdict *x;

    conf_unref(cfg);
    cfg = load_conf("");
    if (cfg == NULL || first == NULL || mkdtemp(dir) == NULL ||
        (vca = cache_open(dir, CACHE_RDWR, &o, err, sizeof(err))) == NULL) {
        tap_ok(false, "a scratch cache");
        free(first);
        return;
    }
    out_domain("shop.example", SEND_ALLOWED, "compliant", "ok");
    out_domain("unverified.example", SEND_BLOCKED, "unverified_dns", "DNS records not verified");
    out_domain("review.example", SEND_PENDING, "under_review", "review in progress");
    out_domain("later.example", SEND_PENDING, "under_review", "second review");

    x = domains(ok_bad, 2, NULL, vca, first);
    tap_ok(x->action == CONF_REJECT && !strcmp(x->row, "blocked") &&
                   strstr(x->text, "unverified.example") != NULL,
           "allowed + blocked domain: rejected for the blocked one: %s", reply(x));
    tap_ok(x->settings == &first->e[0] && x->settings->open_tracking,
           "the settings are the first domain's, in the caller's record");
    x = domains(review_bad, 2, NULL, vca, first);
    tap_ok(x->action == CONF_REJECT && strstr(x->text, "unverified.example") != NULL,
           "pending then blocked: the stricter later one wins");
    x = domains(bad_review, 2, NULL, vca, first);
    tap_ok(x->action == CONF_REJECT && strstr(x->text, "unverified.example") != NULL,
           "blocked then pending: the reject stays");
    tap_ok(x->settings == &first->e[0], "settings of the first domain, even a refused one");
    x = domains(two_reviews, 2, NULL, vca, first);
    tap_ok(x->action == CONF_TEMPFAIL && strstr(x->text, "review.example") != NULL &&
                   strstr(x->text, "later.example") == NULL,
           "two equal outcomes: the first domain's");
    x = domains(ok, 1, "no From: field", vca, first);
    tap_ok(x->action == CONF_REJECT && !strcmp(x->row, "unjudgeable-from"),
           "an unjudgeable From: is one more outcome: %s", reply(x));
    tap_ok(x->settings == &first->e[0], "and keeps the first domain's settings");
    x = domains(ok, 1, NULL, vca, first);
    tap_ok(x->action == CONF_ACCEPT && x->settings == &first->e[0], "one allowed domain: accepted");
    x = domains(ok, 0, NULL, vca, first);
    tap_ok(x->action == cfg->handling.unknown_domain && !strcmp(x->row, "unknown-domain"),
           "no domain at all: judged as unknown: %s", reply(x));
    x = domains(ok, 1, NULL, NULL, first);
    tap_ok(x->action == CONF_TEMPFAIL && !strcmp(x->row, "cache-error"),
           "no cache handle: a cache error (handling.cache_error)");
    x = domains(ok, 1, NULL, vca, NULL);
    tap_ok(x->action == CONF_TEMPFAIL && !strcmp(x->row, "cache-error"),
           "no record to read into (out of memory): a cache error");
    cache_close(vca);
    free(first);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", dir);
}

/* which mail is outgoing: a login, an internal client, an outgoing service */
static void test_outgoing(void)
{
    static char *words[] = {"192.0.2.0/24", "2001:db8::/32"};
    static char *names[] = {"ORIGINATING", "submission"};
    conf_list nets = {2, words}, services = {2, names};
    netlist nl = NETLIST_INIT;
    char err[128];
    verdict_origin o;

    tap_ok(netlist_parse(&nl, &nets, 0, err, sizeof(err)), "internal networks parse");
    o = (verdict_origin){"alice", "198.51.100.1", NULL};
    tap_ok(verdict_outgoing(&o, &nl, &services, true), "an authenticated client: outgoing");
    o = (verdict_origin){"", "192.0.2.7", ""};
    tap_ok(verdict_outgoing(&o, &nl, &services, true), "an internal client: outgoing");
    o = (verdict_origin){NULL, "2001:db8::25", NULL};
    tap_ok(verdict_outgoing(&o, &nl, &services, false), "an internal IPv6 client: outgoing");
    o = (verdict_origin){NULL, "198.51.100.1", NULL};
    tap_ok(!verdict_outgoing(&o, &nl, &services, true), "anyone else: inbound");
    o = (verdict_origin){NULL, "192.0.2.7", NULL};
    tap_ok(!verdict_outgoing(&o, NULL, &services, true), "no internal networks: inbound");
    o = (verdict_origin){NULL, "", "submission"};
    tap_ok(verdict_outgoing(&o, &nl, &services, false), "an outgoing service: outgoing");
    o = (verdict_origin){NULL, NULL, "originating"};
    tap_ok(verdict_outgoing(&o, &nl, &services, true),
           "services compared without case when asked (the milter's {daemon_name})");
    tap_ok(!verdict_outgoing(&o, &nl, &services, false),
           "and exactly otherwise (the policy server's policy_context)");
    o = (verdict_origin){"", "unknown", ""};
    tap_ok(!verdict_outgoing(&o, &nl, &services, true),
           "empty login and service, Postfix's 'unknown' client: inbound");
    netlist_free(&nl);
}

int main(void)
{
    cfg = load_conf("");
    if (cfg == NULL)
        return 1;
    test_mailtrap_table();
    test_handling_rows();
    test_lists();
    test_strictest();
    test_settings();
    test_stale();
    test_clean_text();
    test_unjudgeable_from();
    test_null_sender_domain();
    test_combine();
    test_domains();
    test_outgoing();
    conf_unref(cfg);
    return tap_done();
}
