/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_policy.c - the policy protocol parser (policyd/policy.c) on raw bytes
 *
 * What Postfix (or a broken client) can send: a whole request, the same
 * request one byte at a time, several pipelined, lines and requests over
 * the limits, binary garbage, a request without its blank line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policyd/policy.h"
#include "t/lib/tap.h"

static const policy_limits lim = {16384, 4096};

/* a request as Postfix 3.7 sends it at RCPT TO (30 attributes) */
static const char postfix37[] = "request=smtpd_access_policy\n"
                                "protocol_state=RCPT\n"
                                "protocol_name=ESMTP\n"
                                "client_address=192.0.2.10\n"
                                "client_name=client.example.net\n"
                                "client_port=50123\n"
                                "reverse_client_name=client.example.net\n"
                                "server_address=192.0.2.1\n"
                                "server_port=25\n"
                                "helo_name=client.example.net\n"
                                "sender=alice@shop.example\n"
                                "recipient=bob@example.org\n"
                                "recipient_count=0\n"
                                "queue_id=\n"
                                "instance=1a2b.6560f0c1.8d3e2.0\n"
                                "size=0\n"
                                "etrn_domain=\n"
                                "stress=\n"
                                "sasl_method=\n"
                                "sasl_username=\n"
                                "sasl_sender=\n"
                                "ccert_subject=\n"
                                "ccert_issuer=\n"
                                "ccert_fingerprint=\n"
                                "ccert_pubkey_fingerprint=\n"
                                "encryption_protocol=\n"
                                "encryption_cipher=\n"
                                "encryption_keysize=0\n"
                                "policy_context=\n"
                                "compatibility_level=3.6\n"
                                "\n";

/* frame_parse - frame and parse the request at the start of text (copied) */
static int frame_parse(const char *text, size_t len, policy_req *req, size_t *used, char **copy,
                       const char **why)
{
    policy_scan st = POLICY_SCAN_INIT;
    int rc;

    *copy = malloc(len + 1);
    memcpy(*copy, text, len);
    (*copy)[len] = '\0';
    rc = policy_frame(*copy, len, &lim, &st, used, why);
    if (rc != POLICY_DONE)
        return rc;
    return policy_parse(*copy, *used, req, why);
}

static void test_whole(void)
{
    policy_req req;
    size_t used = 0;
    char *copy;
    const char *why = NULL;
    int rc = frame_parse(postfix37, strlen(postfix37), &req, &used, &copy, &why);

    tap_is_int(rc, POLICY_DONE, "a Postfix 3.7 request parses");
    tap_is_int(used, strlen(postfix37), "the whole request, blank line included, is used");
    tap_is_int(req.n_attrs, 30, "30 attributes counted");
    tap_is_str(req.v[PA_SENDER], "alice@shop.example", "sender");
    tap_is_str(req.v[PA_RECIPIENT], "bob@example.org", "recipient");
    tap_is_str(req.v[PA_PROTOCOL_STATE], "RCPT", "protocol_state");
    tap_is_str(req.v[PA_CLIENT_ADDRESS], "192.0.2.10", "client_address");
    tap_is_str(req.v[PA_SASL_USERNAME], "", "empty attribute is empty, not absent");
    tap_is_str(req.v[PA_QUEUE_ID], "", "queue_id empty at RCPT");
    tap_ok(req.v[PA_POLICY_CONTEXT] != NULL, "policy_context present");
    tap_is_str(policy_get(&req, PA_CLIENT_NAME), "client.example.net", "policy_get");
    free(copy);
}

/* byte by byte: MORE until the very last byte, then DONE; the scan resumes */
static void test_split_reads(void)
{
    size_t n = strlen(postfix37), used = 0;
    char *b = malloc(n);
    policy_scan st = POLICY_SCAN_INIT;
    const char *why;
    int rc = POLICY_MORE, early = 0;
    policy_req req;

    for (size_t i = 1; i <= n; i++) {
        b[i - 1] = postfix37[i - 1];
        rc = policy_frame(b, i, &lim, &st, &used, &why);
        if (rc != POLICY_MORE && i < n)
            early++;
        if (st.pos > i)
            early++;
        if (rc != POLICY_MORE)
            break;
    }
    tap_is_int(early, 0, "no answer before the blank line, fed one byte at a time");
    tap_is_int(rc, POLICY_DONE, "complete after the last byte");
    tap_is_int(used, n, "length of the request");
    tap_is_int(policy_parse(b, used, &req, &why), POLICY_DONE, "then it parses");
    tap_is_str(req.v[PA_RECIPIENT], "bob@example.org", "same attributes as read at once");
    free(b);
}

static void test_pipelined(void)
{
    char b[4096];
    size_t used = 0, off = 0, n;
    policy_scan st = POLICY_SCAN_INIT;
    policy_req req;
    const char *why;
    int count = 0;

    n = (size_t)snprintf(b, sizeof(b),
                         "request=smtpd_access_policy\nsender=a@x.example\n\n"
                         "request=smtpd_access_policy\nsender=b@y.example\n\n"
                         "request=smtpd_access_policy\nsender=c@z.exa");
    while (policy_frame(b + off, n - off, &lim, &st, &used, &why) == POLICY_DONE) {
        tap_is_int(policy_parse(b + off, used, &req, &why), POLICY_DONE, "pipelined request %d",
                   count + 1);
        tap_is_str(req.v[PA_SENDER], count == 0 ? "a@x.example" : "b@y.example", "its own sender");
        off += used;
        count++;
    }
    tap_is_int(count, 2, "two complete requests in one read");
    tap_is_int(policy_frame(b + off, n - off, &lim, &st, &used, &why), POLICY_MORE,
               "the third waits for more bytes");
}

static void test_limits(void)
{
    policy_limits small = {1024, 256};
    policy_scan st = POLICY_SCAN_INIT;
    char b[4096];
    size_t used;
    const char *why = "";

    memset(b, 'a', sizeof(b));
    memcpy(b, "sender=", 7);
    tap_is_int(policy_frame(b, 300, &small, &st, &used, &why), POLICY_BAD,
               "an over-long line is refused before its newline arrives");
    tap_is_str(why, "attribute line too long", "reason");

    st = (policy_scan)POLICY_SCAN_INIT;
    memset(b, '7', sizeof(b));
    for (size_t i = 0; i + 100 <= sizeof(b); i += 100) { /* 100-byte "x=777...\n" lines */
        b[i] = 'x';
        b[i + 1] = '=';
        b[i + 99] = '\n';
    }
    tap_is_int(policy_frame(b, 2000, &small, &st, &used, &why), POLICY_BAD,
               "a request over max_request_size is refused without its end");
    tap_is_str(why, "request too large", "reason");

    st = (policy_scan)POLICY_SCAN_INIT;
    tap_is_int(policy_frame(b, 1000, &small, &st, &used, &why), POLICY_MORE,
               "just under the limit is still waiting");
}

static void test_garbage(void)
{
    static const unsigned char bin[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01,
                                        0x00, 0x01, 0xfc, '\n', '\n'};
    policy_scan st = POLICY_SCAN_INIT;
    policy_req req;
    size_t used;
    const char *why = "";
    char *copy;

    tap_is_int(policy_frame((const char *)bin, sizeof(bin), &lim, &st, &used, &why), POLICY_BAD,
               "binary garbage with a NUL byte (a TLS hello) is refused");
    tap_is_str(why, "NUL byte in request", "reason");
    tap_is_int(frame_parse("GET / HTTP/1.0\r\n\r\n", 18, &req, &used, &copy, &why), POLICY_BAD,
               "an HTTP request is refused");
    tap_is_str(why, "attribute line without '='", "reason");
    free(copy);
    tap_is_int(frame_parse("=value\n\n", 8, &req, &used, &copy, &why), POLICY_BAD,
               "empty attribute name refused");
    free(copy);
    tap_is_int(frame_parse("na me=v\n\n", 9, &req, &used, &copy, &why), POLICY_BAD,
               "space in a name refused");
    free(copy);
    tap_is_int(frame_parse("\n", 1, &req, &used, &copy, &why), POLICY_BAD,
               "an empty request (a lone blank line) is refused");
    free(copy);
    tap_is_int(frame_parse("sender=a@b.example\n\n", 20, &req, &used, &copy, &why), POLICY_BAD,
               "a request without request= is refused");
    tap_is_str(why, "no request= attribute", "reason");
    free(copy);
    tap_is_int(frame_parse("request=junk\n\n", 14, &req, &used, &copy, &why), POLICY_BAD,
               "an unknown request type is refused");
    free(copy);
}

static void test_missing_blank_line(void)
{
    const char *t = "request=smtpd_access_policy\nsender=a@b.example\nrecipient=c@d.example\n";
    policy_scan st = POLICY_SCAN_INIT;
    size_t used;
    const char *why;

    tap_is_int(policy_frame(t, strlen(t), &lim, &st, &used, &why), POLICY_MORE,
               "without the blank line the request is not complete");
    tap_is_int(policy_frame(t, strlen(t), &lim, &st, &used, &why), POLICY_MORE,
               "and asking again changes nothing");
}

/* the blank line at every offset and alignment (the SIMD search and its scalar tail) */
static void test_alignments(void)
{
    char b[256];
    int wrong = 0;

    for (size_t k = 0; k < 120; k++) {
        policy_scan st = POLICY_SCAN_INIT;
        size_t used = 0, n, want;
        const char *why;
        n = (size_t)snprintf(
                b, sizeof(b), "request=smtpd_access_policy\nx=%.*s\n\n", (int)k,
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        want = n;
        n += (size_t)snprintf(b + n, sizeof(b) - n, "request=smtpd_access_policy\n\n");
        if (policy_frame(b, n, &lim, &st, &used, &why) != POLICY_DONE || used != want)
            wrong++;
        st = (policy_scan)POLICY_SCAN_INIT;
        if (policy_frame(b, want - 1, &lim, &st, &used, &why) != POLICY_MORE)
            wrong++;
    }
    tap_is_int(wrong, 0, "the end of a request is found wherever it falls, never early");
}

static void test_misc(void)
{
    policy_req req;
    size_t used;
    char *copy;
    const char *why;
    const char *t = "request=smtpd_access_policy\r\nx-unknown=1\r\nsender=s@d.example\r\n"
                    "sender=later@d.example\r\nfoo=bar=baz\r\n\r\n";
    buf out = BUF_INIT;

    tap_is_int(frame_parse(t, strlen(t), &req, &used, &copy, &why), POLICY_DONE,
               "CRLF line ends are tolerated, unknown attributes ignored");
    tap_is_str(req.v[PA_SENDER], "later@d.example", "a repeated attribute: the last counts");
    tap_is_int(req.n_attrs, 5, "every line counted");
    free(copy);

    policy_reply(&out, "DUNNO");
    tap_is_str(buf_cstr(&out), "action=DUNNO\n\n", "reply: one action line and a blank line");
    buf_reset(&out);
    policy_reply(&out, "550 5.7.1 evil\ntext\r");
    tap_is_str(buf_cstr(&out), "action=550 5.7.1 evil text \n\n",
               "control characters cannot start a second line");
    buf_free(&out);
    tap_is_str(policy_attr_name(PA_SASL_USERNAME), "sasl_username", "attribute names");
}

/* frame_stepwise - frame text arriving step bytes at a time */
static int frame_stepwise(const char *text, size_t len, size_t step, size_t *used)
{
    policy_scan st = POLICY_SCAN_INIT;
    const char *why;
    int rc = POLICY_MORE;

    for (size_t have = step; rc == POLICY_MORE; have += step) {
        rc = policy_frame(text, have < len ? have : len, &lim, &st, used, &why);
        if (have >= len)
            break;
    }
    return rc;
}

/* test_arrival_independent - the framing never depends on how the bytes arrive (found by
 * fuzz/policy.c) */
static void test_arrival_independent(void)
{
    static const struct {
        const char *text;
        size_t len;
        int rc;
        size_t used;
        const char *what;
    } cases[] = {
#define CASE(text) text, sizeof(text) - 1
            {CASE("request=smtpd_access_policy\n\nx\0y\n\n"), POLICY_DONE, 29,
             "a NUL in the pipelined next request does not refuse this one"},
            {CASE("a=b\n\r\nc=d\n\n"), POLICY_DONE, 6, "a CRLF blank line ends the request"},
            {CASE("\r\na=b\n\n"), POLICY_BAD, 0, "a CRLF first line is an empty request"},
            {CASE("**\0\n"), POLICY_BAD, 0,
             "a NUL in a line that completes later is still refused"},
#undef CASE
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t bad_step = 0, used = 0;
        int rc = 0;
        for (size_t step = 1; step <= cases[i].len && bad_step == 0; step++) {
            used = 0;
            rc = frame_stepwise(cases[i].text, cases[i].len, step, &used);
            if (rc != cases[i].rc || (rc == POLICY_DONE && used != cases[i].used))
                bad_step = step;
        }
        if (!tap_ok(bad_step == 0, "%s, however the bytes arrive", cases[i].what))
            tap_diag("arriving %zu at a time: rc %d used %zu", bad_step, rc, used);
    }
}

/* parse_only - policy_parse on a copy of text (no framing: any byte may be in it) */
static int parse_only(const char *text, size_t len, policy_req *req, char **copy)
{
    const char *why;

    *copy = malloc(len);
    memcpy(*copy, text, len);
    return policy_parse(*copy, len, req, &why);
}

/*
 * test_scan_sweep - every byte value at every offset of a 40-byte name, and
 * a line end at every offset of a value: the 16-byte name and newline scans
 * and their scalar tails must agree with the protocol's definition of a
 * name (ASCII letters, digits, '_', '-', '.') wherever the byte falls
 */
static void test_scan_sweep(void)
{
    int wrong = 0;

    for (int b = 1; b < 256; b++) {
        bool namech = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
                      b == '_' || b == '-' || b == '.';
        for (size_t pos = 0; pos < 40; pos++) {
            char t[128], *copy;
            policy_req req;
            int n, rc, want;
            size_t want_attrs = 2;

            n = snprintf(t, sizeof(t), "request=smtpd_access_policy\n%s=v\n\n",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
            t[28 + pos] = (char)b;
            rc = parse_only(t, (size_t)n, &req, &copy);
            if (namech || (b == '=' && pos > 0))
                want = POLICY_DONE;
            else if (b == '\n' && pos == 0)
                want = POLICY_DONE, want_attrs = 1; /* a blank line: the request ends there */
            else
                want = POLICY_BAD;
            if (rc != want || (rc == POLICY_DONE && req.n_attrs != want_attrs)) {
                if (wrong++ < 5)
                    tap_diag("byte 0x%02x at name offset %zu: rc %d, %zu attributes", b, pos, rc,
                             req.n_attrs);
            }
            free(copy);
        }
    }
    tap_is_int(wrong, 0, "a name is letters, digits, '_', '-' and '.', whatever byte is where");

    wrong = 0;
    for (size_t k = 0; k < 40; k++) {
        for (int crlf = 0; crlf < 2; crlf++) {
            char t[160], *copy;
            policy_req req;
            int n = snprintf(t, sizeof(t), "sender=%.*s%s\nrequest=smtpd_access_policy\n\n", (int)k,
                             "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", crlf ? "\r" : "");
            int rc = parse_only(t, (size_t)n, &req, &copy);
            if (rc != POLICY_DONE || strlen(req.v[PA_SENDER]) != k || req.n_attrs != 2) {
                if (wrong++ < 5)
                    tap_diag("value of %zu bytes%s: rc %d", k, crlf ? " + CR" : "", rc);
            }
            free(copy);
        }
    }
    tap_is_int(wrong, 0, "a value ends at its newline (and one CR before it) at any length");
}

int main(void)
{
    test_whole();
    test_split_reads();
    test_pipelined();
    test_limits();
    test_garbage();
    test_missing_blank_line();
    test_alignments();
    test_misc();
    test_arrival_independent();
    test_scan_sweep();
    return tap_done();
}
