/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_jet_req.c - JetEmail write requests: what sendgatectl refuses
 * locally and exactly which JSON it sends (outbound settings, inbound
 * domain creation in its three delivery modes).
 */
#include "providers/jetemail.h"
#include "t/lib/tap.h"

/* body_is - the compact JSON of a body */
static void body_is(cJSON *b, const char *want, const char *what)
{
    char *s = b ? cJSON_PrintUnformatted(b) : NULL;

    tap_is_str(s, want, "%s", what);
    free(s);
    cJSON_Delete(b);
}

static jet_settings_req settings(void)
{
    jet_settings_req q;

    memset(&q, 0, sizeof(q));
    q.open_tracking = q.click_tracking = -1;
    return q;
}

static void test_settings(void)
{
    jet_settings_req q = settings();
    char why[256];

    tap_ok(!jet_settings_check(&q, why, sizeof(why)), "nothing to change: refused (%s)", why);
    q.set_bcc = true;
    q.bcc[0] = "a@example.com";
    q.bcc[1] = "b@example.com";
    q.n_bcc = q.n_bcc_given = 2;
    q.open_tracking = 1;
    q.click_tracking = 0;
    tap_ok(jet_settings_check(&q, why, sizeof(why)), "two addresses and both flags");
    body_is(jet_settings_body(&q),
            "{\"bccEmails\":[\"a@example.com\",\"b@example.com\"],\"openTracking\":true,"
            "\"clickTracking\":false}",
            "bccEmails array, booleans, nothing else");
    q = settings();
    q.set_bcc = true;
    tap_ok(jet_settings_check(&q, why, sizeof(why)), "clearing the BCC list");
    body_is(jet_settings_body(&q), "{\"bccEmails\":null}", "clearing sends null");
    q = settings();
    q.set_tracking_domain = true;
    q.tracking_domain = "Links.Example.COM";
    tap_ok(jet_settings_check(&q, why, sizeof(why)), "a tracking domain");
    body_is(jet_settings_body(&q), "{\"tracking_domain\":\"links.example.com\"}",
            "tracking_domain normalised");
    q.tracking_domain = "";
    body_is(jet_settings_body(&q), "{\"tracking_domain\":null}", "empty clears with null");
    q.tracking_domain = "not a host";
    tap_ok(!jet_settings_check(&q, why, sizeof(why)), "bad tracking host refused (%s)", why);
    q.tracking_domain = "localhost";
    tap_ok(!jet_settings_check(&q, why, sizeof(why)), "a host without a dot refused (%s)", why);
    q = settings();
    q.set_bcc = true;
    for (int i = 0; i < 6; i++)
        q.bcc[i] = "x@example.com";
    q.n_bcc = 6;
    q.n_bcc_given = 6;
    tap_ok(!jet_settings_check(&q, why, sizeof(why)) && strstr(why, "at most 5"),
           "six addresses refused (%s)", why);
    q.n_bcc = q.n_bcc_given = 2;
    q.bcc[1] = "X@example.com";
    tap_ok(!jet_settings_check(&q, why, sizeof(why)) && strstr(why, "twice"),
           "the same address twice refused (%s)", why);
    q.bcc[1] = "no-at-sign";
    tap_ok(!jet_settings_check(&q, why, sizeof(why)) && strstr(why, "no-at-sign"),
           "an invalid address refused (%s)", why);
}

static void test_servers(void)
{
    jet_server s;
    char why[256];

    tap_ok(jet_server_parse("mx.example.com:25", &s, why, sizeof(why)) && s.port == 25 &&
                   s.priority == -1 && s.tls == -1,
           "host:port");
    tap_ok(jet_server_parse("MX.example.com:2525:10:tls", &s, why, sizeof(why)) && s.port == 2525 &&
                   s.priority == 10 && s.tls == 1 && strcmp(s.host, "mx.example.com") == 0,
           "host:port:priority:tls");
    tap_ok(jet_server_parse("mx.example.com:25:20:notls", &s, why, sizeof(why)) && s.tls == 0,
           "notls");
    tap_ok(jet_server_parse("[2001:db8::1]:25:5", &s, why, sizeof(why)) &&
                   strcmp(s.host, "2001:db8::1") == 0 && s.priority == 5,
           "bracketed IPv6");
    tap_ok(!jet_server_parse("mx.example.com", &s, why, sizeof(why)), "no port refused (%s)", why);
    tap_ok(!jet_server_parse("mx.example.com:70000", &s, why, sizeof(why)), "bad port refused");
    tap_ok(!jet_server_parse("mx.example.com:25:x", &s, why, sizeof(why)), "bad priority (%s)",
           why);
    tap_ok(!jet_server_parse("mx.example.com:25:1:maybe", &s, why, sizeof(why)), "bad tls word");
    tap_ok(!jet_server_parse("mx.example.com:25:1:tls:x", &s, why, sizeof(why)), "five fields");
}

static jet_inbound_req inbound(const char *domain, const char *delivery)
{
    jet_inbound_req q;

    memset(&q, 0, sizeof(q));
    q.domain = domain;
    q.delivery = delivery;
    q.webhook_timeout = q.webhook_retry_count = -1;
    return q;
}

static void test_inbound(void)
{
    char why[256];
    jet_inbound_req q = inbound("Example.NET", "smtp");

    tap_ok(!jet_inbound_check(&q, why, sizeof(why)) && strstr(why, "--server"),
           "smtp without servers refused (%s)", why);
    jet_server_parse("mx1.example.net:25", &q.servers[0], why, sizeof(why));
    jet_server_parse("mx2.example.net:25:20:tls", &q.servers[1], why, sizeof(why));
    q.n_servers = 2;
    tap_ok(jet_inbound_check(&q, why, sizeof(why)), "smtp with two servers");
    body_is(jet_inbound_body(&q),
            "{\"domain\":\"example.net\",\"delivery_type\":\"smtp\",\"smtp_servers\":["
            "\"mx1.example.net:25\",{\"url\":\"mx2.example.net:25\",\"priority\":20,"
            "\"tls_enabled\":true}]}",
            "smtp body: string and object servers");
    q.webhook_url = "https://h.example.net/";
    tap_ok(!jet_inbound_check(&q, why, sizeof(why)) && strstr(why, "--webhook-url"),
           "a webhook field with smtp refused (%s)", why);

    q = inbound("example.net", "webhook");
    tap_ok(!jet_inbound_check(&q, why, sizeof(why)), "webhook without URL refused (%s)", why);
    q.webhook_url = "ftp://h.example.net/";
    tap_ok(!jet_inbound_check(&q, why, sizeof(why)), "non-http URL refused (%s)", why);
    q.webhook_url = "https://h.example.net/in";
    q.webhook_method = "PUT";
    q.headers[0] = "X-Team: mail";
    q.n_headers = 1;
    q.webhook_timeout = 5000;
    q.webhook_retry_count = 0;
    q.webhook_auth_header = "Bearer abc";
    tap_ok(jet_inbound_check(&q, why, sizeof(why)), "full webhook request");
    body_is(jet_inbound_body(&q),
            "{\"domain\":\"example.net\",\"delivery_type\":\"webhook\",\"webhook_url\":"
            "\"https://h.example.net/in\",\"webhook_method\":\"PUT\",\"webhook_headers\":"
            "{\"X-Team\":\"mail\"},\"webhook_timeout\":5000,\"webhook_retry_count\":0,"
            "\"webhook_auth_header\":\"Bearer abc\"}",
            "webhook body");
    q.webhook_method = "GET";
    tap_ok(!jet_inbound_check(&q, why, sizeof(why)), "method GET refused (%s)", why);
    q.webhook_method = NULL;
    q.headers[0] = "Bad Header: x";
    tap_ok(!jet_inbound_check(&q, why, sizeof(why)), "bad header name refused (%s)", why);
    q.headers[0] = "X: ok";
    q.webhook_timeout = 0;
    tap_ok(!jet_inbound_check(&q, why, sizeof(why)), "timeout 0 refused (%s)", why);
    q.webhook_timeout = -1;
    jet_server_parse("mx1.example.net:25", &q.servers[0], why, sizeof(why));
    q.n_servers = 1;
    tap_ok(!jet_inbound_check(&q, why, sizeof(why)) && strstr(why, "--server"),
           "a server with webhook refused (%s)", why);

    q = inbound("example.net", "forward");
    tap_ok(jet_inbound_check(&q, why, sizeof(why)), "forward alone");
    body_is(jet_inbound_body(&q), "{\"domain\":\"example.net\",\"delivery_type\":\"forward\"}",
            "forward body has only domain and type");
    q.webhook_retry_count = 2;
    tap_ok(!jet_inbound_check(&q, why, sizeof(why)), "webhook retries with forward refused (%s)",
           why);
    q = inbound("example.net", "pigeon");
    tap_ok(!jet_inbound_check(&q, why, sizeof(why)), "unknown delivery refused (%s)", why);
    q = inbound("example", "forward");
    tap_ok(!jet_inbound_check(&q, why, sizeof(why)), "a domain without a dot refused (%s)", why);
    q = inbound("example.123", "forward");
    tap_ok(!jet_inbound_check(&q, why, sizeof(why)), "a numeric TLD refused (%s)", why);
    q = inbound("exa mple.com", "forward");
    tap_ok(!jet_inbound_check(&q, why, sizeof(why)), "a space refused (%s)", why);
}

int main(void)
{
    test_settings();
    test_servers();
    test_inbound();
    return tap_done();
}
