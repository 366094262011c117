/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_smap.c - socketmap requests and replies (policyd/smap.c) and the
 * inbound rules behind the maps (policyd/inbound.c); the CIDR lists are
 * lib/netlist's (test_netlist.c)
 */
#include <string.h>

#include "policyd/inbound.h"
#include "policyd/smap.h"
#include "t/lib/tap.h"

static void test_split(void)
{
    smap_req q;
    const char *why = "";

    tap_ok(smap_split("relay shop.example", 18, &q, &why), "name and key");
    tap_is_str(q.map, "relay", "map name");
    tap_is_str(q.key, "shop.example", "key");
    tap_ok(smap_split("forward a b@c", 13, &q, &why),
           "the key is everything after the first space");
    tap_is_str(q.key, "a b@c", "key with a space");
    tap_ok(!smap_split("relay", 5, &q, &why), "no key refused");
    tap_ok(!smap_split(" shop.example", 13, &q, &why), "no map name refused");
    tap_is_str(why, "request without a map name", "reason");
    tap_ok(!smap_split("relay ", 6, &q, &why), "empty key refused");
    tap_ok(!smap_split("relay a\nb", 9, &q, &why), "control character refused");
    tap_ok(!smap_split("relay a\0b", 9, &q, &why), "NUL refused");
    tap_is_int(smap_map_index("relay"), SMAP_RELAY, "relay map");
    tap_is_int(smap_map_index("transport"), SMAP_TRANSPORT, "transport map");
    tap_is_int(smap_map_index("forward"), SMAP_FORWARD, "forward map");
    tap_is_int(smap_map_index("virtual"), -1, "unknown map");
}

static void test_reply(void)
{
    buf b = BUF_INIT;

    smap_reply(&b, SMAP_OK, "shop.example");
    tap_is_str(buf_cstr(&b), "15:OK shop.example,", "OK reply");
    buf_reset(&b);
    smap_reply(&b, SMAP_NOTFOUND, "");
    tap_is_str(buf_cstr(&b), "9:NOTFOUND ,", "NOTFOUND reply");
    buf_reset(&b);
    smap_reply(&b, SMAP_TEMP, "x\ny");
    tap_is_str(buf_cstr(&b), "8:TEMP x y,", "control characters cleaned");
    buf_reset(&b);
    smap_reply(&b, SMAP_PERM, "bad");
    tap_is_str(buf_cstr(&b), "8:PERM bad,", "PERM reply");
    buf_free(&b);
}

static conf *cfg;

static void test_transport(void)
{
    cache_smtp_server s[3] = {{"mx2.example.net", 2525, 20, false},
                              {"mx1.example.net", 25, 10, true},
                              {"mx3.example.net", 26, 10, false}};
    cache_in_entry e;
    buf b = BUF_INIT;

    memset(&e, 0, sizeof(e));
    e.delivery = DELIVERY_SMTP;
    e.active = true;
    e.smtp = s;
    e.n_smtp = 3;
    tap_ok(inbound_transport(cfg, &e, &b), "smtp domain has a transport");
    tap_is_str(buf_cstr(&b), "smtp:[mx1.example.net]:25",
               "the lowest priority number wins; the first listed among equals");
    buf_reset(&b);
    cfg->policyd.smtp_all_servers = true;
    inbound_transport(cfg, &e, &b);
    tap_is_str(buf_cstr(&b),
               "smtp:[mx1.example.net]:25, [mx3.example.net]:26, [mx2.example.net]:2525",
               "smtp_all_servers: every server in order of preference");
    cfg->policyd.smtp_all_servers = false;
    buf_reset(&b);
    s[1].host = "bad host;rm";
    inbound_transport(cfg, &e, &b);
    tap_is_str(buf_cstr(&b), "smtp:[mx3.example.net]:26", "a host with odd characters is skipped");
    s[1].host = "2001:db8::25";
    buf_reset(&b);
    inbound_transport(cfg, &e, &b);
    tap_is_str(buf_cstr(&b), "smtp:[2001:db8::25]:25", "IPv6 address in brackets");
    buf_reset(&b);
    e.active = false;
    tap_ok(!inbound_transport(cfg, &e, &b), "a disabled domain has none");
    e.active = true;
    e.delivery = DELIVERY_FORWARD;
    tap_ok(!inbound_transport(cfg, &e, &b),
           "a forward domain has none (virtual_alias_maps rewrites)");
    e.delivery = DELIVERY_WEBHOOK;
    tap_ok(!inbound_transport(cfg, &e, &b), "a webhook domain has none by default");
    buf_free(&b);
}

static cache_fwd_rule rules[] = {
        {"", "support", "team@helpdesk.example", true, true},
        {"", "sales", "alice@crm.example", true, true},
        {"", "sales", "bob@crm.example", true, true},
        {"", "sales", "alice@crm.example", true, true},
        {"", "old", "gone@example.org", false, true},
        {"", "new", "pending@example.org", true, false},
        {"", "*", "inbox@helpdesk.example", true, true},
};

static void fwd_entry(cache_in_entry *e, size_t nrules)
{
    memset(e, 0, sizeof(*e));
    e->delivery = DELIVERY_FORWARD;
    e->active = true;
    e->fwd_mx_verified = e->fwd_dkim_verified = e->fwd_spf_verified = e->fwd_dmarc_verified = true;
    e->rules = rules;
    e->n_rules = nrules;
}

static const char *fwd(const cache_in_entry *e, const char *lp, buf *b)
{
    buf_reset(b);
    inbound_forward(e, lp, b);
    return b->data ? buf_cstr(b) : "";
}

static void test_forward(void)
{
    cache_in_entry e;
    buf b = BUF_INIT;
    inbound_reject rej;

    fwd_entry(&e, 7);
    tap_is_str(fwd(&e, "support", &b), "team@helpdesk.example", "exact rule");
    tap_is_str(fwd(&e, "Support", &b), "team@helpdesk.example", "case-insensitive");
    tap_is_str(fwd(&e, "support+tickets", &b), "team@helpdesk.example", "plus-addressing");
    tap_is_str(fwd(&e, "sales", &b), "alice@crm.example,bob@crm.example",
               "one local part, several destinations, each once");
    tap_is_str(fwd(&e, "old", &b), "inbox@helpdesk.example",
               "an inactive rule is ignored: the catch-all applies");
    tap_is_str(fwd(&e, "new", &b), "inbox@helpdesk.example",
               "an unverified destination is ignored: the catch-all applies");
    tap_is_str(fwd(&e, "", &b), "inbox@helpdesk.example", "@domain: the catch-all");
    tap_is_str(fwd(&e, "+x", &b), "inbox@helpdesk.example", "a bare '+x' is no plus address");
    fwd_entry(&e, 6);
    tap_is_str(fwd(&e, "nobody", &b), "", "no rule, no catch-all: nothing");
    tap_ok(!inbound_rcpt_check(&e, "shop.example", "nobody", &rej), "rejected at RCPT");
    tap_is_int(rej.code, 550, "550");
    tap_is_str(rej.esc, "5.1.1", "5.1.1");
    tap_is_str(rej.text,
               "no such recipient: nobody@shop.example has no active, verified forwarding rule",
               "text");
    tap_ok(inbound_rcpt_check(&e, "shop.example", "sales", &rej), "a forwarded address passes");
    e.fwd_dkim_verified = false;
    tap_is_str(fwd(&e, "support", &b), "", "DNS not all verified: no forwarding at all");
    tap_ok(!inbound_rcpt_check(&e, "shop.example", "support", &rej), "and RCPT is rejected");
    tap_is_str(rej.esc, "5.1.2", "5.1.2");
    tap_is_str(rej.text,
               "domain shop.example does not accept mail yet (forwarding DNS records not "
               "verified)",
               "text");
    fwd_entry(&e, 7);
    e.active = false;
    tap_ok(!inbound_rcpt_check(&e, "shop.example", "support", &rej), "disabled domain rejected");
    tap_is_str(rej.text, "domain shop.example does not accept mail (inbound domain disabled)",
               "text");
    e.active = true;
    e.delivery = DELIVERY_SMTP;
    tap_ok(inbound_rcpt_check(&e, "shop.example", "anyone", &rej),
           "smtp domains accept every local part");
    buf_free(&b);
}

static void test_entry(void)
{
    cache_inbound rec;

    memset(&rec, 0, sizeof(rec));
    rec.n = 2;
    rec.e[0].provider = PROV_MAILTRAP;
    rec.e[1].provider = PROV_JETEMAIL;
    tap_ok(inbound_entry(cfg, &rec) == &rec.e[1],
           "provider_order decides (jetemail before mailtrap)");
    rec.n = 0;
    tap_ok(inbound_entry(cfg, &rec) == NULL, "no entry");
}

int main(void)
{
    conf_report rep;

    conf_report_init(&rep);
    cfg = conf_defaults(&rep);
    conf_report_free(&rep);
    test_split();
    test_reply();
    test_transport();
    test_forward();
    test_entry();
    conf_unref(cfg);
    return tap_done();
}
