/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_mt_norm.c - Mailtrap Domain objects into cache records (the seed
 * page's schema and the documented dns_records example), the tracking
 * host rule, and the write bodies in both path styles with their local
 * validation.
 */
#include "providers/mailtrap.h"
#include "t/lib/tap.h"

#define RECORDS                                                                                  \
    "[{\"key\":\"verification\",\"domain\":\"ve6wza2rbpe60x7z.mailtrap.io\",\"type\":\"CNAME\"," \
    "\"value\":\"smtp.mailtrap.live\",\"status\":\"pass\",\"name\":\"ve6wza2rbpe60x7z\"},"       \
    "{\"key\":\"spf\",\"domain\":\"mailtrap.io\",\"type\":\"TXT\",\"value\":\"v=spf1 "           \
    "include:_spf.smtp.mailtrap.live ~all\",\"status\":\"pass\",\"name\":\"\"},"                 \
    "{\"key\":\"dmarc\",\"domain\":\"_dmarc.mailtrap.io\",\"type\":\"TXT\",\"value\":"           \
    "\"v=DMARC1; p=none\",\"status\":\"pass\",\"name\":\"_dmarc\"},"                             \
    "{\"key\":\"link_verification\",\"domain\":\"mt-link.mailtrap.io\",\"type\":\"CNAME\","      \
    "\"value\":\"t.mailtrap.live\",\"status\":\"%s\",\"name\":\"mt-link\"}]"

static cache_out_item *domain(items *it, const char *status, bool custom, const char *link)
{
    char text[4096], recs[2048];
    char why[ERRBUF_MAX] = "";
    cache_out_item *o;
    cJSON *j;

    snprintf(recs, sizeof(recs), RECORDS, link);
    snprintf(text, sizeof(text),
             "{\"id\":435,\"domain_name\":\"MailTrap.io\",\"demo\":false,"
             "\"compliance_status\":\"%s\",\"dns_verified\":true,\"dns_verified_at\":null,"
             "\"dns_records\":%s,\"open_tracking_enabled\":true,\"click_tracking_enabled\":false,"
             "\"auto_unsubscribe_link_enabled\":true,\"custom_domain_tracking_enabled\":%s,"
             "\"health_alerts_enabled\":true,\"critical_alerts_enabled\":false,"
             "\"alert_recipient_email\":null,\"permissions\":{\"can_read\":true,"
             "\"can_update\":true,\"can_destroy\":true}}",
             status, recs, custom ? "true" : "false");
    j = cJSON_Parse(text);
    o = mt_domain_item(it, j, 42, why, sizeof(why));
    if (o == NULL)
        tap_diag("mt_domain_item: %s", why);
    cJSON_Delete(j);
    return o;
}

static void test_domain(void)
{
    static const struct {
        const char *status;
        int send;
    } cases[] = {
            {"compliant", SEND_ALLOWED},
            {"demo", SEND_DEMO},
            {"under_review", SEND_PENDING},
            {"unverified_dns", SEND_BLOCKED},
            {"missing_company_info", SEND_BLOCKED},
            {"suspended", SEND_BLOCKED},
            {"demo_exhausted", SEND_BLOCKED},
            {"pending_cc", SEND_BLOCKED},
            {"brand_new_state", SEND_BLOCKED},
    };
    cache_out_item *o;
    items it;

    items_init(&it, PROV_MAILTRAP);
    o = domain(&it, "compliant", true, "pass");
    tap_ok(o != NULL, "the spec's Domain object");
    tap_is_str(o->domain, "mailtrap.io", "domain_name normalised");
    tap_is_str(o->e.ref, "435", "ref is the id");
    tap_ok(o->e.open_tracking && !o->e.click_tracking && o->e.unsubscribe,
           "open/click tracking; auto_unsubscribe_link_enabled is the unsubscribe flag");
    tap_is_str(o->e.tracking_host, "mt-link.mailtrap.io",
               "custom tracking on and link_verification pass: the record's host");
    tap_is_int(o->e.n_bcc, 0, "no BCC");
    tap_is_int(o->e.fetched_at, 42, "fetched_at");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        o = domain(&it, cases[i].status, false, "pass");
        tap_ok(o && o->e.send == cases[i].send && strcmp(o->e.raw_status, cases[i].status) == 0 &&
                       *o->e.reason,
               "%s -> %s, raw status kept (%s)", cases[i].status, cache_send_name(cases[i].send),
               o ? o->e.reason : "");
    }
    o = domain(&it, "compliant", false, "pass");
    tap_is_str(o->e.tracking_host, "", "custom tracking off: no tracking host");
    o = domain(&it, "compliant", true, "fail");
    tap_is_str(o->e.tracking_host, "", "link_verification failing: no tracking host");
    o = domain(&it, "compliant", true, "unchecked");
    tap_is_str(o->e.tracking_host, "", "link_verification unchecked: no tracking host");
    tap_ok(!items_failed(&it), "no allocation failed");
    items_free(&it);
}

static void test_odd_domains(void)
{
    char why[ERRBUF_MAX] = "";
    char host[DOMAIN_MAX];
    items it;
    cJSON *j;

    items_init(&it, PROV_MAILTRAP);
    j = cJSON_Parse("{\"id\":\"7\",\"domain_name\":\"a.example\"}");
    cache_out_item *o = mt_domain_item(&it, j, 1, why, sizeof(why));
    tap_ok(o && o->e.send == SEND_BLOCKED && strcmp(o->e.ref, "7") == 0 && *o->e.reason,
           "no compliance_status: blocked; an id as a string");
    cJSON_Delete(j);
    j = cJSON_Parse("{\"id\":8}");
    tap_ok(mt_domain_item(&it, j, 1, why, sizeof(why)) == NULL, "no domain_name: refused (%s)",
           why);
    cJSON_Delete(j);
    j = cJSON_Parse("{\"domain_name\":\"a.example\",\"custom_domain_tracking_enabled\":true,"
                    "\"dns_records\":[{\"key\":\"link_verification\",\"domain\":\"evil.example\","
                    "\"status\":\"pass\"}]}");
    tap_ok(mt_tracking_host(j, "a.example", host) && strcmp(host, "mt-link.a.example") == 0,
           "a record naming a host outside the domain: mt-link.<domain>");
    cJSON_Delete(j);
    items_free(&it);
}

static void body_is(cJSON *b, const char *want, const char *what)
{
    char *s = b ? cJSON_PrintUnformatted(b) : NULL;

    tap_is_str(s, want, "%s", what);
    free(s);
    cJSON_Delete(b);
}

static void test_bodies(void)
{
    mt_update_req u = {1, -1, 0};
    mt_company_req c;
    char why[256];

    body_is(mt_create_body(MT_STYLE_DOMAINS, "example.com"),
            "{\"domain\":{\"domain_name\":\"example.com\"}}", "create, /api/domains");
    body_is(mt_create_body(MT_STYLE_ACCOUNT, "example.com"),
            "{\"sending_domain\":{\"domain_name\":\"example.com\"}}",
            "create, account path: sending_domain wrapper");
    tap_ok(mt_update_check(&u, why, sizeof(why)), "update with two flags");
    body_is(mt_update_body(MT_STYLE_DOMAINS, &u),
            "{\"domain\":{\"open_tracking_enabled\":true,\"auto_unsubscribe_link_enabled\":false}}",
            "update sends only the flags given");
    body_is(mt_update_body(MT_STYLE_ACCOUNT, &u),
            "{\"sending_domain\":{\"open_tracking_enabled\":true,"
            "\"auto_unsubscribe_link_enabled\":false}}",
            "update, account path");
    u.open_tracking = u.unsubscribe = -1;
    tap_ok(!mt_update_check(&u, why, sizeof(why)), "update with nothing refused (%s)", why);
    body_is(mt_email_body(MT_STYLE_DOMAINS, "dns@example.com"), "{\"email\":\"dns@example.com\"}",
            "setup instructions body");

    memset(&c, 0, sizeof(c));
    c.v[MTC_NAME] = "Shop";
    c.v[MTC_CITY] = "Springfield";
    tap_ok(!mt_company_check(&c, true, why, sizeof(why)) && strstr(why, "--address") &&
                   strstr(why, "--zip-code") && strstr(why, "--website-url"),
           "create names every missing required field (%s)", why);
    tap_ok(mt_company_check(&c, false, why, sizeof(why)), "update with a subset");
    c.v[MTC_ADDRESS] = "1 Main St";
    c.v[MTC_COUNTRY] = "US";
    c.v[MTC_ZIP_CODE] = "12345";
    c.v[MTC_WEBSITE_URL] = "https://example.com";
    c.v[MTC_INFO_LEVEL] = "business";
    tap_ok(mt_company_check(&c, true, why, sizeof(why)), "create with the six required fields");
    body_is(mt_company_body(MT_STYLE_DOMAINS, &c),
            "{\"company_info\":{\"name\":\"Shop\",\"address\":\"1 Main St\",\"city\":"
            "\"Springfield\",\"country\":\"US\",\"zip_code\":\"12345\",\"website_url\":"
            "\"https://example.com\",\"info_level\":\"business\"}}",
            "company_info body");
    c.v[MTC_INFO_LEVEL] = "corporation";
    tap_ok(!mt_company_check(&c, true, why, sizeof(why)), "info_level outside the enum (%s)", why);
    c.v[MTC_INFO_LEVEL] = NULL;
    c.v[MTC_PRIVACY_POLICY_URL] = "example.com/privacy";
    tap_ok(!mt_company_check(&c, true, why, sizeof(why)), "a URL without scheme (%s)", why);
    c.v[MTC_PRIVACY_POLICY_URL] = NULL;
    c.v[MTC_CITY] = "";
    tap_ok(!mt_company_check(&c, false, why, sizeof(why)), "an empty value (%s)", why);
    memset(&c, 0, sizeof(c));
    tap_ok(!mt_company_check(&c, false, why, sizeof(why)), "update with nothing (%s)", why);
}

int main(void)
{
    test_domain();
    test_odd_domains();
    test_bodies();
    return tap_done();
}
