/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_static.c - the static domains file (providers/static.c)
 *
 * Every key of the format described in providers/static.h and the sample
 * conf/domains.conf, each mistake reported at its file:line, and the
 * promise operators rely on: a file with any error changes nothing in the
 * cache (the previous static data stays, the meta record says why), a good
 * file replaces everything the static provider said before.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache.h"
#include "providers/static.h"
#include "t/lib/tap.h"

static char dir[] = "/tmp/sgtest-static.XXXXXX";
static char file[300];
static conf_report rep;

static void write_domains(const char *text)
{
    FILE *f;

    snprintf(file, sizeof(file), "%s/domains.conf", dir);
    f = fopen(file, "w");
    fputs(text, f);
    fclose(f);
}

/* parse - parse text as a domains file; NULL when refused (rep says why) */
static static_domains *parse(const char *text)
{
    write_domains(text);
    conf_report_free(&rep);
    conf_report_init(&rep);
    return static_parse(file, 1700000000, &rep);
}

/* refused - text is refused and one report line reads "file:line: ...want..." */
static bool refused(const char *text, int line, const char *want)
{
    static_domains *s = parse(text);
    char at[400];
    const char *r = buf_cstr(&rep.text);
    bool ok = false;

    snprintf(at, sizeof(at), "%s:%d: ", file, line);
    for (const char *l = r; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n')) {
        char one[1200];
        snprintf(one, sizeof(one), "%.*s", (int)strcspn(l, "\n"), l);
        ok |= strncmp(one, at, strlen(at)) == 0 && strstr(one, want) != NULL;
    }
    ok = ok && s == NULL;
    if (!ok)
        tap_diag("report: %.*s (want %s...%s)", (int)strcspn(r, "\n"), r, at, want);
    static_free(s);
    return ok;
}

static cache *open_cache(void)
{
    cache_opts o = {1 << 20, 64 << 20, 126, 0};
    char err[512], p[300];
    cache *c;

    snprintf(p, sizeof(p), "%s/cache", dir);
    c = cache_open(p, CACHE_RDWR, &o, err, sizeof(err));
    if (c == NULL) /* the caller's checks are skipped: that must fail */
        tap_ok(false, "cache_open: %s", err);
    return c;
}

static const char full[] = "# every key\n"
                           "[outbound Shop.Example]\n"
                           "status = compliant\n"
                           "open_tracking = yes\n"
                           "click_tracking = on\n"
                           "unsubscribe = true\n"
                           "tracking_host = Links.Shop.Example\n"
                           "bcc = archive@shop.example, audit@shop.example\n"
                           "      legal@shop.example\n"
                           "bcc_pending = new@shop.example\n"
                           "\n"
                           "[outbound blocked.example]\n"
                           "status = unverified_dns\n"
                           "\n"
                           "[outbound own-words.example]\n"
                           "reason = ask the postmaster\n"
                           "status = blocked\n"
                           "\n"
                           "[outbound defaults.example]\n"
                           "\n"
                           "[inbound example.net]\n"
                           "status = active\n"
                           "delivery = forward\n"
                           "smtp_servers = mx1.example.net:25:10:tls, MX2.example.net:2525\n"
                           "forward = Support -> team@example.org, second@example.org\n"
                           "          * -> catchall@example.org unverified\n"
                           "forward = sales -> boss@example.org inactive\n"
                           "forward_dns_verified = yes\n"
                           "\n"
                           "[inbound hooks.example]\n"
                           "status = disabled\n"
                           "delivery = webhook\n"
                           "webhook_url = https://hooks.example/in\n"
                           "webhook_method = PUT\n";

static void test_full(void)
{
    cache *c = open_cache();
    cache_outbound *out = malloc(sizeof(*out));
    cache_inbound in;
    const cache_out_entry *e;
    const cache_in_entry *ie;
    static_domains *s = parse(full);

    tap_ok(s != NULL, "the file with every key parses: %s", buf_cstr(&rep.text));
    if (s == NULL || c == NULL)
        goto out;
    tap_is_int(static_count_outbound(s), 4, "four outbound domains");
    tap_is_int(static_count_inbound(s), 2, "two inbound domains");
    tap_is_int(static_store(c, s, 1700000000), CACHE_OK, "stored");

    tap_is_int(cache_get_outbound(c, "shop.example", out), CACHE_OK, "domain normalised");
    e = cache_outbound_find(out, PROV_STATIC);
    tap_ok(e && e->send == SEND_ALLOWED, "compliant: allowed");
    tap_is_str(e ? e->raw_status : NULL, "compliant", "raw status kept");
    tap_ok(e && e->open_tracking && e->click_tracking && e->unsubscribe, "tracking flags");
    tap_is_str(e ? e->tracking_host : NULL, "links.shop.example", "tracking host normalised");
    tap_is_int(e ? e->n_bcc : 0, 4, "four BCC addresses (one on a continuation line)");
    tap_ok(e && e->bcc[0].verified && !strcmp(e->bcc[2].addr, "legal@shop.example") &&
                   !e->bcc[3].verified && !strcmp(e->bcc[3].addr, "new@shop.example"),
           "bcc verified, bcc_pending not");
    tap_is_int(e ? e->fetched_at : 0, 1700000000, "fetched at the refresh time");

    cache_get_outbound(c, "blocked.example", out);
    e = cache_outbound_find(out, PROV_STATIC);
    tap_ok(e && e->send == SEND_BLOCKED, "unverified_dns: blocked");
    tap_ok(e && strstr(e->reason, "DNS records not verified"), "with Mailtrap's explanation");
    cache_get_outbound(c, "own-words.example", out);
    e = cache_outbound_find(out, PROV_STATIC);
    tap_is_str(e ? e->reason : NULL, "ask the postmaster", "reason given before status wins");
    tap_is_int(cache_get_outbound(c, "defaults.example", out), CACHE_OK,
               "a section without keys still describes its domain");
    e = cache_outbound_find(out, PROV_STATIC);
    tap_ok(e && e->send == SEND_ALLOWED && !e->open_tracking && e->n_bcc == 0,
           "allowed, no tracking, no BCC by default");

    tap_is_int(cache_get_inbound(c, "example.net", &in), CACHE_OK, "inbound domain");
    ie = in.n ? &in.e[0] : NULL;
    tap_ok(ie && ie->active && ie->delivery == DELIVERY_FORWARD, "active, forward");
    tap_is_int(ie ? ie->n_smtp : 0, 2, "two SMTP servers");
    tap_ok(ie && !strcmp(ie->smtp[0].host, "mx1.example.net") && ie->smtp[0].port == 25 &&
                   ie->smtp[0].priority == 10 && ie->smtp[0].tls,
           "host:port:priority:tls");
    tap_ok(ie && !strcmp(ie->smtp[1].host, "mx2.example.net") && ie->smtp[1].port == 2525 &&
                   ie->smtp[1].priority == 10 && !ie->smtp[1].tls,
           "host:port, priority 10 by default, host lowercased");
    tap_is_int(ie ? ie->n_rules : 0, 4, "four forward rules");
    tap_ok(ie && !strcmp(ie->rules[0].localpart, "support") &&
                   !strcmp(ie->rules[1].destination, "second@example.org") && ie->rules[1].active &&
                   ie->rules[1].verified,
           "two destinations of one rule, local part lowercased");
    tap_ok(ie && !strcmp(ie->rules[2].localpart, "*") && !ie->rules[2].verified,
           "catch-all on a continuation line, unverified");
    tap_ok(ie && !ie->rules[3].active && ie->rules[3].verified, "inactive rule");
    tap_ok(ie && ie->fwd_mx_verified && ie->fwd_dkim_verified && ie->fwd_spf_verified &&
                   ie->fwd_dmarc_verified,
           "forward_dns_verified sets all four");
    cache_inbound_free(&in);
    cache_get_inbound(c, "hooks.example", &in);
    ie = in.n ? &in.e[0] : NULL;
    tap_ok(ie && !ie->active && ie->delivery == DELIVERY_WEBHOOK &&
                   !strcmp(ie->webhook_url, "https://hooks.example/in") &&
                   !strcmp(ie->webhook_method, "PUT"),
           "webhook domain, disabled");
    cache_inbound_free(&in);
out:
    static_free(s);
    cache_close(c);
    free(out);
}

static void test_errors(void)
{
    char text[600], dom[300];

    tap_ok(refused("[outbound a.example]\nstatus = maybe\n", 2, "status = maybe: unknown"),
           "unknown status");
    tap_ok(refused("[outbound a.example]\nopen_tracking = perhaps\n", 2, "expected yes or no"),
           "bad bool");
    tap_ok(refused("[outbound a.example]\ntracking_host = t_x.example\n", 2,
                   "tracking_host = t_x.example: character not allowed"),
           "bad tracking host");
    tap_ok(refused("[outbound a.example]\nbcc = ok@a.example\n  not-an-address\n", 3,
                   "bcc address 'not-an-address'"),
           "bad BCC on a continuation line, at its own line");
    tap_ok(refused("[outbound a.example]\nbcc = a1@x.example a2@x.example a3@x.example "
                   "a4@x.example a5@x.example a6@x.example\n  a7@x.example a8@x.example "
                   "a9@x.example a10@x.example a11@x.example a12@x.example\n"
                   "  a13@x.example a14@x.example a15@x.example a16@x.example a17@x.example\n",
                   4, "more than 16 BCC addresses"),
           "at most 16 BCC addresses");
    tap_ok(refused("[outbound a.example]\ncolour = blue\n", 2,
                   "unknown key 'colour' in [outbound a.example]"),
           "unknown key");
    tap_ok(refused("[outbound a.example]\nstatus = compliant\n\nstatus = blocked\n", 4,
                   "status given twice in [outbound a.example] (first on line 2)"),
           "single-valued key given twice");
    tap_ok(refused("[outbound a.example]\nreason = first\n  second\n", 3,
                   "reason: only bcc, bcc_pending, smtp_servers and forward continue"),
           "continuation of a single-valued key");
    tap_ok(refused("[sideways a.example]\n", 1, "expected [outbound DOMAIN] or [inbound DOMAIN]"),
           "unknown section kind");
    tap_ok(refused("[outbound]\n", 1, "expected [outbound DOMAIN]"), "section without domain");
    tap_ok(refused("[outbound bad_domain.example]\nstatus = compliant\n", 1,
                   "[outbound bad_domain.example]: character not allowed"),
           "bad domain in the header");
    tap_ok(refused("[outbound a.example]\n[outbound A.Example.]\n", 2,
                   "domain a.example described twice"),
           "the same domain twice, spelled differently, even without keys");
    tap_ok(refused("status = compliant\n[outbound a.example]\n", 1,
                   "status: key outside an [outbound DOMAIN] or [inbound DOMAIN] section"),
           "a key before any section");
    tap_ok(refused("[inbound b.example]\nstatus = on\n", 2, "expected active or disabled"),
           "inbound status");
    tap_ok(refused("[inbound b.example]\ndelivery = pigeon\n", 2,
                   "expected smtp, webhook or forward"),
           "delivery");
    static const char *const smtp_bad[] = {"mx.example",
                                           "mx.example:0",
                                           "mx.example:65536",
                                           "mx.example:25x",
                                           "mx.example::10",
                                           "mx.example:25:ten",
                                           "mx.example:25:10:ssl",
                                           "mx_1.example:25",
                                           ":25",
                                           "mx.example:25:10:tls:x"};
    for (size_t i = 0; i < sizeof(smtp_bad) / sizeof(smtp_bad[0]); i++) {
        snprintf(text, sizeof(text), "[inbound b.example]\nsmtp_servers = %s\n", smtp_bad[i]);
        snprintf(dom, sizeof(dom), "smtp server '%s': expected host:port[:priority[:tls]]",
                 smtp_bad[i]);
        tap_ok(refused(text, 2, dom), "smtp server '%s' refused", smtp_bad[i]);
    }
    tap_ok(refused("[inbound b.example]\nwebhook_url = ftp://x.example/\n", 2,
                   "expected an http(s) URL"),
           "webhook URL scheme");
    tap_ok(refused("[inbound b.example]\nwebhook_url = https://\n", 2, "expected an http(s) URL"),
           "webhook URL without host");
    tap_ok(refused("[inbound b.example]\nwebhook_method = GET\n", 2, "expected POST or PUT"),
           "webhook method");
    tap_ok(refused("[inbound b.example]\nforward = support team@example.org\n", 2,
                   "expected 'localpart -> destination'"),
           "forward without arrow");
    tap_ok(refused("[inbound b.example]\nforward = sup port -> team@example.org\n", 2,
                   "bad local part"),
           "forward local part with a space");
    tap_ok(refused("[inbound b.example]\nforward = -> team@example.org\n", 2, "bad local part"),
           "forward without local part");
    tap_ok(refused("[inbound b.example]\nforward = support -> inactive\n", 2,
                   "no destination address"),
           "forward without destination");
    tap_ok(refused("[inbound b.example]\nforward = support -> team@\n", 2,
                   "forward destination 'team@'"),
           "bad forward destination");
    tap_ok(refused("[inbound b.example]\nforward_dns_verified = maybe\n", 2, "expected yes or no"),
           "forward_dns_verified");
    tap_ok(refused("[outbound a.example]\nstatus = compliant\n[inbound a.example]\n"
                   "status = active\n[outbound c.example]\nstatus = bogus\n",
                   6, "status = bogus"),
           "an error in a later section refuses the whole file");
    {
        static_domains *s = parse("[outbound a.example]\n[inbound a.example]\n");
        tap_ok(s != NULL, "a domain may be both outbound and inbound");
        static_free(s);
    }
    /* the section name is not cut at libinih's 49 octets */
    memset(dom, 'x', 60);
    strcpy(dom + 60, ".long-company-name.example");
    snprintf(text, sizeof(text), "[outbound %s]\nstatus = demo\n", dom);
    {
        static_domains *s = parse(text);
        cache *c = open_cache();
        cache_outbound *out = malloc(sizeof(*out));
        tap_ok(s && static_store(c, s, 1) == CACHE_OK, "a long domain name loads");
        tap_is_int(cache_get_outbound(c, dom, out), CACHE_OK, "under its whole name");
        tap_ok(out->n == 1 && out->e[0].send == SEND_DEMO, "demo status");
        static_free(s);
        cache_close(c);
        free(out);
    }
    {
        conf_report_free(&rep);
        conf_report_init(&rep);
        tap_ok(static_parse("/nonexistent/domains.conf", 1, &rep) == NULL &&
                       strstr(buf_cstr(&rep.text), "cannot open"),
               "a missing file is refused");
    }
}

/* test_refresh - a bad file changes nothing; a good one replaces the static data */
static void test_refresh(void)
{
    cache *c = open_cache();
    cache_outbound *out = malloc(sizeof(*out));
    cache_meta m;
    cache_out_entry jet;
    char want[400];

    if (c == NULL)
        return;
    memset(&jet, 0, sizeof(jet));
    jet.provider = PROV_JETEMAIL;
    jet.send = SEND_BLOCKED;
    jet.fetched_at = 5;
    tap_is_int(cache_upsert_outbound(c, "shared.example", &jet), CACHE_OK,
               "another provider's entry for a domain the file names");
    write_domains("[outbound shared.example]\nstatus = compliant\n"
                  "[outbound old.example]\nstatus = compliant\n");
    conf_report_free(&rep);
    conf_report_init(&rep);
    tap_is_int(static_refresh(c, file, 1000, &rep), CACHE_OK, "first refresh");
    cache_get_meta(c, PROV_STATIC, &m);
    tap_ok(m.last_success == 1000 && m.n_outbound == 2 && m.failures == 0, "meta of a success");

    write_domains("[outbound shared.example]\nstatus = blocked\n"
                  "[outbound new.example]\nstatus = compliant\n"
                  "[outbound broken.example]\nstatus = nonsense\n");
    conf_report_free(&rep);
    conf_report_init(&rep);
    tap_is_int(static_refresh(c, file, 2000, &rep), CACHE_ERROR, "a bad file is refused");
    tap_is_int(cache_get_outbound(c, "old.example", out), CACHE_OK, "old data still there");
    tap_is_int(cache_get_outbound(c, "new.example", out), CACHE_NOTFOUND, "nothing new written");
    cache_get_outbound(c, "shared.example", out);
    tap_ok(out->n == 2 && cache_outbound_find(out, PROV_STATIC)->send == SEND_ALLOWED,
           "the shared domain keeps the previous static entry");
    cache_get_meta(c, PROV_STATIC, &m);
    snprintf(want, sizeof(want), "%s:6: status = nonsense", file);
    tap_ok(m.last_success == 1000 && m.last_attempt == 2000 && m.failures == 1 &&
                   strstr(m.last_error, want),
           "meta records the failure and where: %s", m.last_error);

    write_domains("[outbound shared.example]\nstatus = blocked\n"
                  "[outbound new.example]\nstatus = compliant\n");
    conf_report_free(&rep);
    conf_report_init(&rep);
    tap_is_int(static_refresh(c, file, 3000, &rep), CACHE_OK, "the fixed file loads");
    tap_is_int(cache_get_outbound(c, "old.example", out), CACHE_NOTFOUND,
               "a domain no longer in the file is gone");
    tap_is_int(cache_get_outbound(c, "new.example", out), CACHE_OK, "the new one is there");
    cache_get_outbound(c, "shared.example", out);
    tap_ok(out->n == 2 && cache_outbound_find(out, PROV_STATIC)->send == SEND_BLOCKED &&
                   cache_outbound_find(out, PROV_JETEMAIL)->send == SEND_BLOCKED,
           "the shared domain: static entry replaced, JetEmail's kept");
    cache_get_meta(c, PROV_STATIC, &m);
    tap_ok(m.last_success == 3000 && m.n_outbound == 2, "meta of the success");
    cache_close(c);
    free(out);
}

int main(void)
{
    char cmd[200];

    if (mkdtemp(dir) == NULL)
        return 1;
    conf_report_init(&rep);
    test_full();
    test_errors();
    test_refresh();
    conf_report_free(&rep);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", dir);
    return tap_done();
}
