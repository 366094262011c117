/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_domain.c - domain normalisation (lib/domain.c)
 *
 * Every cache key goes through domain_normalize, so two spellings of one
 * domain must give one key and anything that is not a host name must be
 * refused with a reason: trimming, the root dot, case, IDN U-labels to
 * A-labels, and the garbage operators and providers really produce.
 */
#include <string.h>

#include "lib/domain.h"
#include "t/lib/tap.h"

/* norm - normalise a C string; the result, or "FAIL: reason" */
static const char *norm(const char *in)
{
    static char out[DOMAIN_MAX + 64];
    char tmp[DOMAIN_MAX];
    char why[ERRBUF_MAX] = "";

    if (domain_normalize(in, strlen(in), tmp, why, sizeof(why)))
        snprintf(out, sizeof(out), "%s", tmp);
    else
        snprintf(out, sizeof(out), "FAIL: %s", *why ? why : "(no reason)");
    return out;
}

static bool refused(const char *in, size_t len, const char *want_why)
{
    char tmp[DOMAIN_MAX];
    char why[ERRBUF_MAX] = "";

    if (domain_normalize(in, len, tmp, why, sizeof(why)))
        return false;
    return want_why == NULL || strstr(why, want_why);
}

static void test_good(void)
{
    tap_is_str(norm("example.com"), "example.com", "plain name unchanged");
    tap_is_str(norm("  Example.COM  "), "example.com", "trimmed and lowercased");
    tap_is_str(norm("\texample.com.\n"), "example.com", "trailing root dot dropped");
    tap_is_str(norm("MAIL.Shop-1.Example"), "mail.shop-1.example", "digits and hyphens kept");
    tap_is_str(norm("bücher.example"), "xn--bcher-kva.example", "U-label to A-label");
    tap_is_str(norm("Bücher.EXAMPLE"), "xn--bcher-kva.example", "mixed-case IDN");
    tap_is_str(norm("BÜCHER.Example."), "xn--bcher-kva.example",
               "upper-case non-ASCII letter mapped, root dot dropped");
    tap_is_str(norm("xn--bcher-kva.example"), "xn--bcher-kva.example", "A-label input kept");
    tap_is_str(norm("XN--BCHER-KVA.example"), "xn--bcher-kva.example", "A-label lowercased");
    tap_is_str(norm("faß.de"), "xn--fa-hia.de", "IDNA2008 non-transitional: ß kept");
    tap_is_str(norm("例え.テスト"), "xn--r8jz45g.xn--zckzah", "non-Latin labels");
    tap_is_str(norm("1.2.3.4"), "1.2.3.4", "an all-digit name is LDH");
    tap_is_str(norm("a"), "a", "a single label");
}

static void test_lengths(void)
{
    char name[1024], label[80];

    memset(label, 'a', 63);
    label[63] = '\0';
    snprintf(name, sizeof(name), "%s.example", label);
    tap_is_str(norm(name), name, "a 63-octet label is fine");
    label[63] = 'a';
    label[64] = '\0';
    snprintf(name, sizeof(name), "%s.example", label);
    tap_ok(refused(name, strlen(name), "longer than 63"), "a 64-octet label is refused");

    /* 253 octets: 63.63.63.61 */
    memset(name, 'b', 253);
    name[63] = name[127] = name[191] = '.';
    name[253] = '\0';
    tap_is_int(strlen(norm(name)), 253, "a 253-octet name is fine");
    name[253] = '.';
    name[254] = '\0';
    tap_is_int(strlen(norm(name)), 253, "253 octets plus the root dot is fine");
    name[253] = 'b';
    tap_ok(refused(name, strlen(name), "253"), "a 254-octet name is refused");

    /* an IDN whose A-label form is too long although its UTF-8 is not */
    snprintf(name, sizeof(name), "%s", "");
    for (int i = 0; i < 20; i++)
        strcat(name, "ü");
    strcat(name, ".example");
    tap_ok(strncmp(norm(name), "FAIL", 4) != 0, "a 20-letter IDN label is fine: %s", norm(name));
    name[0] = '\0';
    for (int i = 0; i < 60; i++)
        strcat(name, "ü");
    strcat(name, ".example");
    tap_ok(refused(name, strlen(name), NULL), "an IDN label too long as an A-label is refused");
    name[0] = '\0';
    for (int i = 0; i < 8; i++) {
        for (int j = 0; j < 30; j++)
            strcat(name, "ü");
        strcat(name, ".");
    }
    strcat(name, "example");
    tap_ok(refused(name, strlen(name), NULL), "an IDN too long as A-labels is refused");
}

static void test_garbage(void)
{
    static const char *const bad[][2] = {
            {"", "empty"},
            {"   ", "empty"},
            {".", "empty"},
            {"example..com", "empty label"},
            {".example.com", "empty label"},
            {"example.com..", "empty label"},
            {"exa mple.com", "not allowed"},
            {"exam_ple.com", "not allowed"},
            {"_dmarc.example.com", "not allowed"},
            {"-example.com", "starts with '-'"},
            {"example-.com", "ends with '-'"},
            {"example.com-", "ends with '-'"},
            {"shop.-x.example", "starts with '-'"},
            {"exa!mple.com", "not allowed"},
            {"exa/mple.com", "not allowed"},
            {"user@example.com", "not allowed"},
            {"[192.0.2.1]", "not allowed"},
            {"xn--zz.example", "xn--"},
            {"xn--a.example", "xn--"},
            {"mail.xn--zz.example", "xn--"},
            {"mail.XN--ZZ.example", "xn--"},
            {"exa\xa0mple.com", "internationalized"},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        tap_ok(refused(bad[i][0], strlen(bad[i][0]), bad[i][1]), "'%s' refused (%s): %s", bad[i][0],
               bad[i][1], norm(bad[i][0]));
    tap_ok(refused("b\xff"
                   "r.example",
                   11, "internationalized"),
           "invalid UTF-8 refused");
    tap_ok(refused("b\xc3"
                   ".example",
                   10, "internationalized"),
           "truncated UTF-8 refused");
    tap_ok(refused("exa\0mple.com", 12, "NUL"), "NUL inside refused");
    tap_ok(refused("example.com\0", 12, "NUL"), "NUL at the end refused");
    tap_ok(refused("ex\x01"
                   "ample.com",
                   12, NULL),
           "control character refused");
    tap_ok(refused("ü ü.example", strlen("ü ü.example"), NULL), "space inside an IDN refused");
    tap_is_str(norm("axn--zz.example"), "axn--zz.example", "\"xn--\" inside a label is no A-label");
    tap_is_str(norm("\v\f example.com \r\n"), "example.com", "white space trimmed at both ends");
    {
        char out[DOMAIN_MAX];
        tap_ok(!domain_normalize("", 0, out, NULL, 0), "a NULL err is allowed");
    }
}

static void test_len_param(void)
{
    char out[DOMAIN_MAX];
    char why[ERRBUF_MAX] = "";

    tap_ok(domain_normalize("example.com.trailing", 11, out, why, sizeof(why)) &&
                   !strcmp(out, "example.com"),
           "only len octets are read");
    tap_ok(domain_is_valid_ascii("example.com", 11, why, sizeof(why)),
           "domain_is_valid_ascii accepts LDH");
    tap_ok(!domain_is_valid_ascii("exa_mple.com", 12, why, sizeof(why)), "and refuses the rest");
}

static void test_subdomain(void)
{
    tap_ok(domain_is_subdomain("example.com", "example.com"), "a domain is its own subdomain");
    tap_ok(domain_is_subdomain("mail.example.com", "example.com"), "one level down");
    tap_ok(domain_is_subdomain("a.b.example.com", "example.com"), "two levels down");
    tap_ok(!domain_is_subdomain("badexample.com", "example.com"), "suffix without a dot is not");
    tap_ok(!domain_is_subdomain("example.com", "mail.example.com"), "the parent is not a child");
    tap_ok(!domain_is_subdomain("example.org", "example.com"), "other domain");
    tap_ok(!domain_is_subdomain("com", "example.com"), "a shorter name is never a subdomain");
}

int main(void)
{
    test_good();
    test_lengths();
    test_garbage();
    test_len_param();
    test_subdomain();
    return tap_done();
}
