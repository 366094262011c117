/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_jet_norm.c - JetEmail answers into cache records, over fixture
 * strings in every documented (and inferred) variant: envelopes, status
 * as a number or a word, camelCase and snake_case, the send-status table,
 * BCC verification, tracking host, inbound settings old and new, rules.
 */
#include "providers/jetemail.h"
#include "providers/pjson.h"
#include "t/lib/tap.h"

static cJSON *J(const char *s)
{
    cJSON *j = cJSON_Parse(s);

    if (j == NULL)
        tap_diag("fixture does not parse: %s", s);
    return j;
}

static void send_is(const char *status, int dmarc, int want, const char *what)
{
    const char *reason;
    int send;

    jet_send_status(status, dmarc, &send, &reason);
    tap_ok(send == want && reason && *reason, "%s -> %s (%s)", what, cache_send_name(send), reason);
}

static void test_table(void)
{
    send_is("active", 1, SEND_ALLOWED, "active, DMARC verified");
    send_is("Verified", 1, SEND_ALLOWED, "verified (any case), DMARC verified");
    send_is("1", 1, SEND_ALLOWED, "status 1, DMARC verified");
    send_is("active", 0, SEND_BLOCKED, "active, DMARC not verified");
    send_is("active", -1, SEND_BLOCKED, "active, DMARC not reported");
    send_is("pending", 1, SEND_PENDING, "pending, DMARC verified");
    send_is("pending", 0, SEND_BLOCKED, "pending, no DMARC");
    send_is("disabled", 1, SEND_BLOCKED, "disabled");
    send_is("0", 1, SEND_BLOCKED, "status 0");
    send_is("suspended", 1, SEND_BLOCKED, "suspended");
    send_is("frozen", 1, SEND_BLOCKED, "a word sendgate does not know");
    send_is("", 1, SEND_BLOCKED, "no status at all");
}

static void test_rows(void)
{
    char why[ERRBUF_MAX] = "";
    jet_out_row r;
    cJSON *j;

    j = J("{\"uuid\":\"B814C25D-B18C-4044-AE31-49E22CE908B5\",\"domain\":\"Shop.Example.\","
          "\"status\":\"active\",\"dns\":{\"spf\":{\"verified\":true},\"dmarc\":{\"verified\":true}"
          ","
          "\"tracking\":{\"verified\":false}}}");
    tap_ok(jet_out_row_parse(j, &r, why, sizeof(why)), "nested dns row");
    tap_is_str(r.domain, "shop.example", "domain normalised");
    tap_is_str(r.uuid, "b814c25d-b18c-4044-ae31-49e22ce908b5", "uuid lowercased");
    tap_ok(r.dmarc == 1 && r.tracking == 0, "dns.dmarc.verified and dns.tracking.verified");
    cJSON_Delete(j);
    j = J("{\"uuid\":\"b814c25d-b18c-4044-ae31-49e22ce908b5\",\"domain\":\"a.example\",\"status\":"
          "1,"
          "\"dmarc_verified\":1}");
    tap_ok(jet_out_row_parse(j, &r, why, sizeof(why)) && strcmp(r.status, "1") == 0 && r.dmarc == 1,
           "numeric status, flat snake_case dmarc_verified as 0/1");
    cJSON_Delete(j);
    j = J("{\"id\":\"not-a-uuid/../x\",\"domain\":\"a.example\",\"status\":\"active\","
          "\"dmarcVerified\":\"true\"}");
    tap_ok(jet_out_row_parse(j, &r, why, sizeof(why)) && r.uuid[0] == '\0' && r.dmarc == 1,
           "camelCase dmarcVerified; a uuid unfit for a path is dropped");
    cJSON_Delete(j);
    j = J("{\"domain\":\"a.example\",\"status\":\"active\"}");
    tap_ok(jet_out_row_parse(j, &r, why, sizeof(why)) && r.dmarc == -1,
           "no dns information: unknown");
    cJSON_Delete(j);
    j = J("{\"status\":\"active\"}");
    tap_ok(!jet_out_row_parse(j, &r, why, sizeof(why)), "no domain: refused (%s)", why);
    cJSON_Delete(j);
    j = J("{\"domain\":\"bad domain!\"}");
    tap_ok(!jet_out_row_parse(j, &r, why, sizeof(why)), "an invalid domain: refused (%s)", why);
    cJSON_Delete(j);
}

static void test_envelopes(void)
{
    static const char *const lists[] = {
            "{\"success\":true,\"result\":[{\"domain\":\"a.example\"}]}",
            "{\"success\":true,\"results\":[{\"domain\":\"a.example\"}]}",
            "{\"data\":[{\"domain\":\"a.example\"}]}",
            "[{\"domain\":\"a.example\"}]",
            "{\"success\":true,\"smarthosts\":[{\"domain\":\"a.example\"}]}",
    };

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        cJSON *j = J(lists[i]);
        tap_ok(jet_find_row(j, "a.example") != NULL, "rows found in %s", lists[i]);
        cJSON_Delete(j);
    }
    cJSON *j = J("{\"success\":true,\"a\":[],\"b\":[]}");
    tap_ok(pjson_rows(j) == NULL, "two unnamed arrays: no guess");
    cJSON_Delete(j);
}

/* settings - parse a row and apply a settings answer to a fresh item */
static cache_out_item *settings(items *it, const char *row, const char *ans, bool *ok, char *why,
                                size_t whylen)
{
    cJSON *r = J(row), *a = J(ans);
    jet_out_row jr;
    cache_out_item *o = NULL;

    *ok = false;
    if (jet_out_row_parse(r, &jr, why, whylen) && (o = jet_out_item(it, &jr, 100)))
        *ok = jet_out_settings(it, &o->e, &jr, a, why, whylen);
    cJSON_Delete(r);
    cJSON_Delete(a);
    return o;
}

static void test_settings(void)
{
    const char *row =
            "{\"uuid\":\"b814c25d-b18c-4044-ae31-49e22ce908b5\",\"domain\":\"shop.example\","
            "\"status\":\"active\",\"dns\":{\"dmarc\":{\"verified\":true},"
            "\"tracking\":{\"verified\":true}}}";
    char why[ERRBUF_MAX] = "";
    cache_out_item *o;
    items it;
    bool ok;

    items_init(&it, PROV_JETEMAIL);
    o = settings(
            &it, row,
            "{\"success\":true,\"settings\":{\"uuid\":\"b814c25d-b18c-4044-ae31-49e22ce908b5\","
            "\"domain\":\"shop.example\",\"bccEmails\":[{\"email\":\"a@shop.example\",\"status\":1}"
            ","
            "{\"email\":\"b@shop.example\",\"status\":0},{\"email\":\"not an "
            "address\",\"status\":1},"
            "\"c@shop.example\"],\"openTracking\":true,\"clickTracking\":false,"
            "\"tracking_domain\":\"Links.Shop.Example\"}}",
            &ok, why, sizeof(why));
    tap_ok(ok, "settings envelope with camelCase fields");
    tap_ok(o->e.send == SEND_ALLOWED && strcmp(o->e.raw_status, "active") == 0,
           "send status from the list");
    tap_ok(o->e.open_tracking && !o->e.click_tracking && !o->e.unsubscribe, "tracking flags");
    tap_is_int(o->e.n_bcc, 3, "three usable BCC addresses (the invalid one dropped)");
    tap_ok(o->e.bcc[0].verified && !o->e.bcc[1].verified && !o->e.bcc[2].verified,
           "status 1 verified, 0 pending, a bare address pending");
    tap_is_str(o->e.tracking_host, "links.shop.example", "tracking host normalised");
    tap_is_str(o->e.ref, "b814c25d-b18c-4044-ae31-49e22ce908b5", "ref is the uuid");
    tap_is_int(o->e.fetched_at, 100, "fetched_at");

    o = settings(&it, row,
                 "{\"success\":true,\"result\":{\"open_tracking\":1,\"click_tracking\":\"true\","
                 "\"bcc_emails\":[{\"email\":\"a@shop.example\",\"status\":\"1\"}],"
                 "\"trackingDomain\":\"t.shop.example\"}}",
                 &ok, why, sizeof(why));
    tap_ok(ok && o->e.open_tracking && o->e.click_tracking && o->e.n_bcc == 1 &&
                   o->e.bcc[0].verified && strcmp(o->e.tracking_host, "t.shop.example") == 0,
           "result envelope, snake_case, 0/1 and string booleans, trackingDomain");
    o = settings(&it, row, "{\"openTracking\":true,\"bccEmails\":null,\"tracking_domain\":null}",
                 &ok, why, sizeof(why));
    tap_ok(ok && o->e.open_tracking && o->e.n_bcc == 0 && *o->e.tracking_host == '\0',
           "top-level fields, null BCC and tracking domain");
    o = settings(&it,
                 "{\"uuid\":\"b814c25d-b18c-4044-ae31-49e22ce908b5\",\"domain\":\"shop.example\","
                 "\"status\":\"active\",\"dns\":{\"dmarc\":{\"verified\":true},\"tracking\":{"
                 "\"verified\":false}}}",
                 "{\"settings\":{\"tracking_domain\":\"links.shop.example\"}}", &ok, why,
                 sizeof(why));
    tap_ok(ok && *o->e.tracking_host == '\0', "tracking DNS not verified: no tracking host");
    settings(&it, row, "{\"settings\":{\"domain\":\"other.example\",\"openTracking\":true}}", &ok,
             why, sizeof(why));
    tap_ok(!ok, "an answer about another domain is refused (%s)", why);
    settings(&it, row, "{\"success\":false,\"error\":\"Domain not found or access denied\"}", &ok,
             why, sizeof(why));
    tap_ok(!ok, "success false is refused (%s)", why);
    settings(&it, row, "[1,2]", &ok, why, sizeof(why));
    tap_ok(!ok, "not an object: refused (%s)", why);
    tap_ok(!items_failed(&it), "no allocation failed");
    items_free(&it);
}

static void test_smtp(void)
{
    cache_smtp_server s;
    char host[DOMAIN_MAX];

    tap_ok(jet_smtp_parse("Mail.Example.com:587", &s, host, sizeof(host)) && s.port == 587 &&
                   strcmp(host, "mail.example.com") == 0,
           "host:port, host lowercased");
    tap_ok(jet_smtp_parse("mail.example.com", &s, host, sizeof(host)) && s.port == 25,
           "no port: 25");
    tap_ok(jet_smtp_parse("smtp://mx.example.com:2525/", &s, host, sizeof(host)) && s.port == 2525,
           "smtp:// prefix");
    tap_ok(jet_smtp_parse("[2001:db8::25]:2525", &s, host, sizeof(host)) && s.port == 2525 &&
                   strcmp(host, "2001:db8::25") == 0,
           "bracketed IPv6 with a port, stored bare");
    tap_ok(jet_smtp_parse("192.0.2.1:25", &s, host, sizeof(host)), "IPv4 literal");
    tap_ok(!jet_smtp_parse("mx.example.com:0", &s, host, sizeof(host)), "port 0 refused");
    tap_ok(!jet_smtp_parse("mx.example.com:99999", &s, host, sizeof(host)), "port too large");
    tap_ok(!jet_smtp_parse("mx example.com:25", &s, host, sizeof(host)), "a space refused");
    tap_ok(!jet_smtp_parse("[zz]:25", &s, host, sizeof(host)), "bad IPv6 refused");
}

/* inbound - row + settings (+ rules) into an item */
static cache_in_item *inbound(items *it, const char *row, const char *set, const char *rules,
                              bool *ok, char *why, size_t whylen)
{
    cJSON *r = J(row), *s = J(set), *ru = rules ? J(rules) : NULL;
    cache_in_item *in = NULL;
    jet_in_row jr;

    *ok = false;
    if (jet_in_row_parse(r, &jr, why, whylen) && (in = jet_in_item(it, &jr, 7)))
        *ok = jet_in_settings(it, &in->e, s, why, whylen) &&
              (!ru || jet_in_rules(it, &in->e, ru, why, whylen));
    cJSON_Delete(r);
    cJSON_Delete(s);
    cJSON_Delete(ru);
    return in;
}

static void test_inbound(void)
{
    char why[ERRBUF_MAX] = "";
    cache_in_item *in;
    jet_in_row r;
    items it;
    bool ok;
    cJSON *j;

    j = J("{\"uuid\":\"550e8400-e29b-41d4-a716-446655440000\",\"domain\":\"in.example\","
          "\"delivery_type\":\"smtp\",\"status\":1}");
    tap_ok(jet_in_row_parse(j, &r, why, sizeof(why)) && r.active == 1 &&
                   r.delivery == DELIVERY_SMTP,
           "list row with numeric status 1");
    cJSON_Delete(j);
    j = J("{\"uuid\":\"550e8400-e29b-41d4-a716-446655440000\",\"domain\":\"in.example\","
          "\"delivery_type\":\"forward\",\"status\":\"disabled\"}");
    tap_ok(jet_in_row_parse(j, &r, why, sizeof(why)) && r.active == 0 &&
                   r.delivery == DELIVERY_FORWARD,
           "list row with status \"disabled\"");
    cJSON_Delete(j);

    items_init(&it, PROV_JETEMAIL);
    in = inbound(&it,
                 "{\"uuid\":\"550e8400-e29b-41d4-a716-446655440000\",\"domain\":\"in.example\","
                 "\"delivery_type\":\"smtp\",\"status\":1}",
                 "{\"success\":true,\"result\":{\"uuid\":\"550e8400-e29b-41d4-a716-446655440000\","
                 "\"status\":\"active\",\"delivery_type\":\"smtp\",\"smtp_servers\":["
                 "\"mx1.in.example:25\",{\"url\":\"mx2.in.example:2525\",\"priority\":5,"
                 "\"tls_enabled\":true},\"bad host:x\"],\"webhook_secret\":\"whsec_x\"}}",
                 NULL, &ok, why, sizeof(why));
    tap_ok(ok && in->e.active && in->e.delivery == DELIVERY_SMTP, "newer result shape");
    tap_is_int(in->e.n_smtp, 2, "two usable servers (the bad one dropped)");
    tap_ok(in->e.n_smtp == 2 && in->e.smtp[0].priority == 1 && in->e.smtp[0].port == 25 &&
                   !in->e.smtp[0].tls && in->e.smtp[1].priority == 5 && in->e.smtp[1].tls &&
                   strcmp(in->e.smtp[1].host, "mx2.in.example") == 0,
           "string servers in list order, objects with priority and TLS");
    tap_is_str(in->e.ref, "550e8400-e29b-41d4-a716-446655440000", "ref");

    in = inbound(&it,
                 "{\"uuid\":\"550e8400-e29b-41d4-a716-446655440000\",\"domain\":\"old.example\","
                 "\"delivery_type\":\"smtp\",\"status\":\"active\"}",
                 "{\"success\":true,\"results\":[{\"nexthop\":\"mail.internal-server.com:587\","
                 "\"status\":\"disabled\",\"digestSettings\":[]}]}",
                 NULL, &ok, why, sizeof(why));
    tap_ok(ok && !in->e.active && in->e.n_smtp == 1 && in->e.smtp[0].port == 587,
           "older results[0] shape with nexthop; its status wins over the list's");

    in = inbound(
            &it,
            "{\"uuid\":\"650e8400-e29b-41d4-a716-446655440000\",\"domain\":\"hook.example\","
            "\"delivery_type\":\"webhook\",\"status\":1}",
            "{\"result\":{\"delivery_type\":\"webhook\",\"webhook_url\":\"https://h.example/x\","
            "\"webhook_method\":\"put\",\"webhook_timeout\":10000,\"webhook_retry_count\":5,"
            "\"webhook_auth_header\":\"Bearer S\",\"webhook_headers\":{\"X\":\"y\"}}}",
            NULL, &ok, why, sizeof(why));
    tap_ok(ok && strcmp(in->e.webhook_url, "https://h.example/x") == 0 &&
                   strcmp(in->e.webhook_method, "PUT") == 0 && in->e.webhook_timeout_ms == 10000 &&
                   in->e.webhook_retry_count == 5,
           "webhook URL, method, timeout and retries");
    in = inbound(&it,
                 "{\"uuid\":\"650e8400-e29b-41d4-a716-446655440000\",\"domain\":\"hook2.example\","
                 "\"delivery_type\":\"webhook\",\"status\":1}",
                 "{\"result\":{\"webhookUrl\":\"https://h.example/y\"}}", NULL, &ok, why,
                 sizeof(why));
    tap_ok(ok && strcmp(in->e.webhook_method, "POST") == 0 && in->e.webhook_timeout_ms == 30000 &&
                   in->e.webhook_retry_count == 3,
           "camelCase URL; documented defaults POST, 30000 ms, 3 retries");

    in = inbound(&it,
                 "{\"uuid\":\"750e8400-e29b-41d4-a716-446655440000\",\"domain\":\"fwd.example\","
                 "\"delivery_type\":\"forward\",\"status\":1}",
                 "{\"result\":{\"forward_mx_verified\":1,\"forward_dkim_verified\":true,"
                 "\"forward_spf_verified\":1,\"forward_dmarc_verified\":0}}",
                 "{\"success\":true,\"result\":[{\"uuid\":\"7c1f7c14-1234-4abc-8def-0123456789ab\","
                 "\"localpart\":\"Support\",\"destination\":\"team@x.example\",\"active\":1,"
                 "\"verified\":1},{\"localpart\":\"*\",\"destination\":\"all@x.example\","
                 "\"active\":0,\"verified\":1},{\"localpart\":\"bad\",\"destination\":\"nope\","
                 "\"active\":1,\"verified\":1}]}",
                 &ok, why, sizeof(why));
    tap_ok(ok && in->e.fwd_mx_verified && in->e.fwd_dkim_verified && in->e.fwd_spf_verified &&
                   !in->e.fwd_dmarc_verified,
           "forward_*_verified as 0/1 and booleans");
    tap_is_int(in->e.n_rules, 2, "two usable rules");
    tap_ok(in->e.n_rules == 2 && strcmp(in->e.rules[0].localpart, "support") == 0 &&
                   in->e.rules[0].active && in->e.rules[0].verified &&
                   strcmp(in->e.rules[1].localpart, "*") == 0 && !in->e.rules[1].active,
           "localpart lowercased, catch-all kept, active/verified from 0/1");

    inbound(&it,
            "{\"uuid\":\"550e8400-e29b-41d4-a716-446655440000\",\"domain\":\"x.example\","
            "\"status\":1}",
            "{\"result\":{\"status\":\"active\"}}", NULL, &ok, why, sizeof(why));
    tap_ok(!ok, "no delivery type anywhere: refused (%s)", why);
    inbound(&it,
            "{\"uuid\":\"550e8400-e29b-41d4-a716-446655440000\",\"domain\":\"x.example\","
            "\"delivery_type\":\"smtp\"}",
            "{\"success\":true,\"results\":[]}", NULL, &ok, why, sizeof(why));
    tap_ok(!ok, "empty results: refused (%s)", why);
    inbound(&it,
            "{\"uuid\":\"550e8400-e29b-41d4-a716-446655440000\",\"domain\":\"x.example\","
            "\"delivery_type\":\"smtp\"}",
            "{\"result\":{\"delivery_type\":\"carrier-pigeon\"}}", NULL, &ok, why, sizeof(why));
    tap_ok(!ok, "unknown delivery type: refused (%s)", why);
    tap_ok(!items_failed(&it), "no allocation failed");
    items_free(&it);
}

int main(void)
{
    test_table();
    test_rows();
    test_envelopes();
    test_settings();
    test_smtp();
    test_inbound();
    return tap_done();
}
