/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_http_err.c - the provider HTTP layer's pure parts: every documented
 * error body into one readable line, Retry-After, whole-buffer JSON, the
 * request budget, and the exit codes sendgatectl derives from failures.
 */
#include <sysexits.h>

#include "providers/http.h"
#include "t/lib/tap.h"

static void err_is(long status, const char *body, const char *want, const char *what)
{
    char out[HTTP_ERROR_MAX];

    http_error_message(status, body, strlen(body), out, sizeof(out));
    tap_is_str(out, want, "%s", what);
}

static void test_error_shapes(void)
{
    err_is(401, "{\"error\": \"Incorrect API token\"}", "HTTP 401: Incorrect API token",
           "Mailtrap 401: error string");
    err_is(403, "{\"errors\": \"Account access forbidden\"}", "HTTP 403: Account access forbidden",
           "Mailtrap 403: errors as a string");
    err_is(422, "{\"errors\": {\"domain_name\": [\"has already been taken\"]}}",
           "HTTP 422: domain_name: has already been taken",
           "Mailtrap 422: errors object of arrays");
    err_is(422,
           "{\"errors\": {\"name\": [\"can't be blank\"], \"email\": [\"is invalid\", \"is too "
           "long\"],"
           " \"base\": [\"Validation failed: Name can't be blank\"]}}",
           "HTTP 422: name: can't be blank; email: is invalid, is too long; Validation failed: "
           "Name "
           "can't be blank",
           "422 with several fields, several messages and base (no field name)");
    err_is(400,
           "{\"success\": false, \"errors\": [\"'from' address is invalid\", \"'to' is empty\"]}",
           "HTTP 400: 'from' address is invalid; 'to' is empty", "send API: errors array");
    err_is(400, "{\"success\": false, \"error\": \"Invalid UUID format\"}",
           "HTTP 400: Invalid UUID format", "JetEmail: success false with error");
    err_is(404, "{\"error\": \"domain not found\"}", "HTTP 404: domain not found",
           "JetEmail 404 without success");
    err_is(401, "{\"message\": \"Unauthenticated.\"}", "HTTP 401: Unauthenticated.",
           "message only (the SDKs read it first)");
    err_is(400, "{\"error\": \"bad\", \"message\": \"more detail\"}", "HTTP 400: bad; more detail",
           "error and a different message: both");
    err_is(400, "{\"error\": \"same\", \"message\": \"same\"}", "HTTP 400: same",
           "error and the same message: once");
    err_is(429, "{\"errors\": \"Rate limit exceeded\"}", "HTTP 429: Rate limit exceeded",
           "Mailtrap 429");
    err_is(400, "", "HTTP 400: Bad Request", "empty body: the reason phrase");
    err_is(502, "<html><body>Bad gateway</body></html>", "HTTP 502: Bad Gateway",
           "an HTML error page: the reason phrase");
    err_is(503, "upstream unavailable", "HTTP 503: upstream unavailable", "short plain text");
    err_is(500, "{\"error\": \"line one\\nline two\\r\"}", "HTTP 500: line one line two ",
           "no CR or LF in the line");
    err_is(422, "{\"errors\": [{\"message\": \"from is invalid\"}]}", "HTTP 422: from is invalid",
           "errors array of objects with message");
    err_is(500, "{\"foo\": 1}", "HTTP 500: Internal Server Error", "JSON without a known field");
    err_is(418, "{}", "HTTP 418: client error", "an unusual status");
}

static void test_retry_after(void)
{
    time_t until = 0;

    tap_ok(http_parse_retry_after("120", 1000, &until) && until == 1120, "delta seconds");
    tap_ok(http_parse_retry_after("  5 \r\n", 1000, &until) && until == 1005,
           "white space and CRLF around it");
    tap_ok(http_parse_retry_after("0", 1000, &until) && until == 1000, "zero");
    tap_ok(http_parse_retry_after("99999999999", 1000, &until) && until == 1000 + 86400,
           "absurd delta capped at a day");
    tap_ok(!http_parse_retry_after("-5", 1000, &until), "negative refused");
    tap_ok(!http_parse_retry_after("soon", 1000, &until), "garbage refused");
    tap_ok(!http_parse_retry_after("", 1000, &until), "empty refused");
    tap_ok(http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412000, &until) &&
                   until == 1445412480,
           "HTTP-date (IMF-fixdate)");
    tap_ok(http_parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", 1445412000, &until) &&
                   until == 1445412480,
           "HTTP-date (RFC 850)");
    tap_ok(http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1500000000, &until) &&
                   until == 1500000000,
           "a date in the past means now");
}

static void test_json(void)
{
    char why[200];
    cJSON *j;

    j = http_parse_json("{\"data\": []}\n", 13, why, sizeof(why));
    tap_ok(j != NULL, "one JSON value with trailing white space");
    cJSON_Delete(j);
    j = http_parse_json("{\"data\": [{\"id\": 1,", 19, why, sizeof(why));
    tap_ok(j == NULL && strstr(why, "truncated") != NULL, "cut JSON: says it ends early (%s)", why);
    j = http_parse_json("{\"a\": 1} {\"b\": 2}", 17, why, sizeof(why));
    tap_ok(j == NULL && strstr(why, "after the value") != NULL, "two values refused (%s)", why);
    j = http_parse_json("{\"a\": [oops}", 12, why, sizeof(why));
    tap_ok(j == NULL && strstr(why, "malformed") != NULL, "malformed JSON refused (%s)", why);
    j = http_parse_json("", 0, why, sizeof(why));
    tap_ok(j == NULL && strstr(why, "empty") != NULL, "an empty 2xx body where JSON was expected");
    j = http_parse_json("{\"a\": 1}\0garbage", 16, why, sizeof(why));
    tap_ok(j == NULL, "a NUL inside the body is not the end of it");
}

static void test_budget(void)
{
    http_budget b;

    http_budget_init(&b, 3, 1, 0);
    tap_is_int(http_budget_take(&b, 0), 0, "budget 3/s: first request goes");
    tap_is_int(http_budget_take(&b, 0), 0, "second");
    tap_is_int(http_budget_take(&b, 0), 0, "third");
    tap_ok(http_budget_take(&b, 0) >= 333, "the fourth waits a third of a second");
    tap_is_int(http_budget_take(&b, 334), 0, "and goes after it");
    tap_ok(http_budget_take(&b, 334) > 0, "then the bucket is empty again");
    tap_is_int(http_budget_take(&b, 100000), 0, "a long pause refills it");
    tap_is_int(http_budget_take(&b, 100000), 0, "up to its capacity");
    tap_is_int(http_budget_take(&b, 100000), 0, "three in all");
    tap_ok(http_budget_take(&b, 100000) > 0, "never more than the budget in a burst");
    http_budget_init(&b, 240, 60, 0);
    for (int i = 0; i < 240; i++)
        http_budget_take(&b, 0);
    tap_ok(http_budget_take(&b, 0) >= 250, "240/min: the 241st request waits a quarter second");
}

static void test_sysexit(void)
{
    http_failure f;

    http_failure_clear(&f);
    f.rc = HTTP_ERR_STATUS;
    f.status = 422;
    tap_is_int(http_failure_sysexit(&f), EX_UNAVAILABLE, "422: the provider refused");
    f.status = 429;
    tap_is_int(http_failure_sysexit(&f), EX_TEMPFAIL, "429: try later");
    f.status = 503;
    tap_is_int(http_failure_sysexit(&f), EX_TEMPFAIL, "5xx: try later");
    f.rc = HTTP_ERR_TRANSPORT;
    tap_is_int(http_failure_sysexit(&f), EX_TEMPFAIL, "network: try later");
    f.rc = HTTP_ERR_JSON;
    tap_is_int(http_failure_sysexit(&f), EX_PROTOCOL, "unreadable answer: EX_PROTOCOL");
}

/* test_refused - a real request to a port nobody listens on: a transport error, no status */
static void test_refused(void)
{
    http_opts o = {
            .base_url = "http://127.0.0.1:1", .token = "t", .connect_timeout = 2, .timeout = 2};
    http_client h;
    http_response r;
    http_failure f;

    tap_ok(http_global_init(), "curl_global_init");
    tap_ok(http_client_init(&h, &o), "client");
    http_response_init(&r);
    tap_is_int(http_request(&h, "GET", "/outbound/domains", NULL, &r), HTTP_ERR_TRANSPORT,
               "connection refused: transport error");
    tap_is_int(r.status, 0, "no status");
    http_failure_set(&f, "GET", "/outbound/domains", &r);
    tap_ok(strncmp(f.text, "GET /outbound/domains: ", 23) == 0 && strlen(f.text) > 23,
           "failure text names the request: %s", f.text);
    tap_ok(strstr(f.text, "Bearer") == NULL, "and never the token");
    http_response_free(&r);
    http_client_free(&h);
}

int main(void)
{
    test_error_shapes();
    test_retry_after();
    test_json();
    test_budget();
    test_sysexit();
    test_refused();
    return tap_done();
}
