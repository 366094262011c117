/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_addr.c - mail addresses (lib/addr.c)
 *
 * Envelope paths as MTAs pass them (MAIL FROM / RCPT TO, the milter's
 * macros), From:/To: header values as real mail writes them (display
 * names, quoted strings holding commas and '@', comments, groups,
 * encoded-words) and the garbage that must yield no address at all; the
 * strict checker used for configured addresses; domains of addresses.
 */
#include <string.h>

#include "lib/addr.h"
#include "t/lib/tap.h"

/* env - addr_envelope result or "FAIL: why" */
static const char *env(const char *in)
{
    static char out[ADDR_MAX + 64];
    char a[ADDR_MAX];
    char why[ERRBUF_MAX] = "";

    if (addr_envelope(in, a, why, sizeof(why)))
        snprintf(out, sizeof(out), "%s", a);
    else
        snprintf(out, sizeof(out), "FAIL: %s", *why ? why : "(none)");
    return out;
}

/* hdr - the addresses of a header value joined with '|' */
static const char *hdr(const char *value)
{
    static char out[4096];
    char list[8][ADDR_MAX];
    size_t n = addr_header_list(value, list, 8);

    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(out, "|");
        strcat(out, list[i]);
    }
    return out;
}

static bool walk_visit(void *arg, const char *addr, char *err, size_t errlen)
{
    char *out = arg;

    (void)err, (void)errlen;
    if (*out)
        strcat(out, "|");
    strcat(out, addr);
    return true;
}

/* walk - addr_header_walk: the addresses joined with '|', or "ERR: why" */
static const char *walk(const char *value)
{
    static char out[8192];
    char why[ERRBUF_MAX] = "";

    out[0] = '\0';
    if (!addr_header_walk(value, walk_visit, out, why, sizeof(why)))
        snprintf(out, sizeof(out), "ERR: %s", *why ? why : "(none)");
    return out;
}

/* from - addr_from over the fields given: "d1|d2" or "UNJUDGEABLE: why" */
static const char *from(const char *const *fields, size_t n)
{
    static char out[2048];
    addr_from f;
    const char *missing;

    addr_from_init(&f);
    for (size_t i = 0; i < n; i++)
        addr_from_field(&f, fields[i]);
    if (f.why[0] || (missing = addr_from_missing(&f)) != NULL) {
        snprintf(out, sizeof(out), "UNJUDGEABLE: %s", f.why[0] ? f.why : missing);
        return out;
    }
    out[0] = '\0';
    for (size_t i = 0; i < f.n_domains; i++) {
        if (i)
            strcat(out, "|");
        strcat(out, f.domains[i]);
    }
    return out;
}

static const char *from1(const char *value)
{
    return from(&value, 1);
}

static void test_envelope(void)
{
    char longaddr[ADDR_MAX + 10];

    tap_is_str(env("<a@b.example>"), "a@b.example", "angle brackets removed");
    tap_is_str(env("a@b.example"), "a@b.example", "bare address kept");
    tap_is_str(env("  <a@b.example>  "), "a@b.example", "white space around");
    tap_is_str(env("< a@b.example >"), "a@b.example", "white space inside the brackets");
    tap_is_str(env("<>"), "", "null sender");
    tap_is_str(env(""), "", "empty input is the null sender");
    tap_is_str(env("<@relay1.example,@relay2.example:a@b.example>"), "a@b.example",
               "source route dropped");
    tap_is_str(env("@relay.example:a@b.example"), "a@b.example", "bare source route dropped");
    tap_is_str(env("<\"john doe\"@b.example>"), "\"john doe\"@b.example", "quoted local part");
    tap_is_str(env("<a@b.example"), "FAIL: unbalanced '<'", "missing '>'");
    tap_is_str(env("<"), "FAIL: unbalanced '<'", "a lone '<'");
    tap_ok(strncmp(env("a@b.example>"), "FAIL", 4) == 0, "stray '>': %s", env("a@b.example>"));
    tap_ok(strncmp(env("<<a@b.example>>"), "FAIL", 4) == 0, "double brackets refused");
    tap_ok(strncmp(env("<@relay.example>"), "FAIL", 4) == 0, "source route without colon");
    tap_ok(strncmp(env("<a\r\n@b.example>"), "FAIL", 4) == 0, "CR LF refused");
    tap_ok(strncmp(env("a\x7f@b.example"), "FAIL", 4) == 0, "DEL refused");
    memset(longaddr, 'x', sizeof(longaddr) - 1);
    longaddr[sizeof(longaddr) - 1] = '\0';
    longaddr[10] = '@';
    tap_is_str(env(longaddr), "FAIL: address too long", "over-long address refused, not cut");
}

static void test_header(void)
{
    char one[1][ADDR_MAX];

    tap_is_str(hdr("a@b.example"), "a@b.example", "bare address");
    tap_is_str(hdr("John Doe <john@shop.example>"), "john@shop.example", "display name");
    tap_is_str(hdr("\"Doe, John\" <john@shop.example>"), "john@shop.example",
               "comma inside a quoted display name");
    tap_is_str(hdr("\"john@evil.example\" <john@shop.example>"), "john@shop.example",
               "an address-looking display name is not the address");
    tap_is_str(hdr("\"a\\\"b, c\" <x@shop.example>"), "x@shop.example",
               "escaped quote inside a quoted string");
    tap_is_str(hdr("john@shop.example (John, <Doe>)"), "john@shop.example",
               "comment with comma and brackets after the address");
    tap_is_str(hdr("(c1) John (c2) <john@shop.example> (c3)"), "john@shop.example",
               "comments everywhere");
    tap_is_str(hdr("a@one.example, \"B\" <b@two.example>,c@three.example"),
               "a@one.example|b@two.example|c@three.example", "several addresses");
    tap_is_str(hdr("Friends: a@one.example, B <b@two.example>;"), "a@one.example|b@two.example",
               "a group");
    tap_is_str(hdr("undisclosed-recipients:;"), "", "an empty group");
    tap_is_str(hdr("Team: a@one.example;, c@three.example"), "a@one.example|c@three.example",
               "a group followed by a mailbox");
    tap_is_str(hdr("=?UTF-8?B?SsO8cmdlbg==?= <j@shop.example>"), "j@shop.example",
               "encoded-word display name");
    tap_is_str(hdr("=?ISO-8859-1?Q?Andr=E9_Pirard?= <andre@shop.example>"), "andre@shop.example",
               "Q-encoded display name");
    tap_is_str(hdr("\"john doe\"@shop.example"), "\"john doe\"@shop.example",
               "quoted local part kept with its space");
    tap_is_str(hdr("John <@relay.example:john@shop.example>"), "john@shop.example",
               "source route in an angle-addr");
    tap_is_str(hdr("john\r\n @shop.example"), "john@shop.example", "folding removed");
    tap_is_str(hdr("John Doe <JOHN@Shop.Example>"), "JOHN@Shop.Example", "case preserved");

    /* garbage: no address at all */
    static const char *const junk[] = {
            "",
            "not an address",
            "@",
            "a@",
            "@b.example",
            "John <john@shop.example",
            "\"unterminated@shop.example",
            "John <>",
            "<a@b.example> <c@d.example>",
            "a@b@",
            "a@(comment)",
            "a)b@c.example",
    };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        tap_is_str(hdr(junk[i]), "", "garbage gives no address: '%s'", junk[i]);
    tap_is_int(addr_header_list("a@b.example, c@d.example", one, 1), 1,
               "at most max addresses are returned");
    tap_is_str(one[0], "a@b.example", "the first one");
}

/* the strict walk: every address, or a reason; never a silently shorter list */
static void test_walk(void)
{
    char big[4096];

    /* what real mail writes */
    tap_is_str(walk("a@one.example, B <b@two.example>"), "a@one.example|b@two.example",
               "two mailboxes");
    tap_is_str(walk("\"bad@unverified.example\" <good@shop.example>"), "good@shop.example",
               "a quoted display name holding an address is a name");
    tap_is_str(walk("\"Doe, John <x@y.example>\" <john@shop.example>"), "john@shop.example",
               "a quoted name holding ',' and '<...>'");
    tap_is_str(walk("good@shop.example (bad@unverified.example)"), "good@shop.example",
               "a comment holding an address is a comment");
    tap_is_str(walk("(bad@unverified.example) good@shop.example"), "good@shop.example",
               "a comment before the address");
    tap_is_str(walk("Good (a (nested) comment, with <bad@x.example>) <good@shop.example>"),
               "good@shop.example", "nested comments with specials");
    tap_is_str(walk("=?UTF-8?B?YmFkQHVudmVyaWZpZWQuZXhhbXBsZQ==?= <good@shop.example>"),
               "good@shop.example", "an encoded-word display name is a name");
    tap_is_str(walk("=?UTF-8?Q?bad=40unverified.example?= <good@shop.example>"),
               "good@shop.example", "a Q-encoded '@' in the name stays in the name");
    tap_is_str(walk("Team: a@one.example, B <b@two.example>;, c@three.example"),
               "a@one.example|b@two.example|c@three.example", "a group and a mailbox after it");
    tap_is_str(walk("undisclosed-recipients:;"), "", "an empty group: no address, no error");
    tap_is_str(walk("Team: a@one.example"), "a@one.example",
               "a group left open at the end loses nothing");
    tap_is_str(walk("News\r\n <news@shop.example>,\r\n\tother@two.example"),
               "news@shop.example|other@two.example", "folded across lines");
    tap_is_str(walk("\"a@b\\\" c\"@shop.example"), "\"a@b\\\" c\"@shop.example",
               "quoted local part with '@' and a quoted-pair");
    tap_is_str(walk("\"split\r\n name\"@shop.example"), "\"split name\"@shop.example",
               "folding inside a quoted local part removed");
    tap_is_str(walk("<@r1.example,@r2.example:john@shop.example>"), "john@shop.example",
               "route of two hops");
    tap_is_str(walk("John < @r1.example : john @ shop.example >"), "john@shop.example",
               "white space around route and addr-spec");
    tap_is_str(walk("first . last @ shop . example"), "first.last@shop.example",
               "obsolete white space around dots");
    tap_is_str(walk("a..b@docomo.example"), "a..b@docomo.example", "lenient dots in a local part");
    tap_is_str(walk("us\xc3\xa9r@b\xc3\xbc"
                    "cher.example"),
               "us\xc3\xa9r@b\xc3\xbc"
               "cher.example",
               "UTF-8 local part and domain (RFC 6532)");
    tap_is_str(walk("a@[192.0.2.1]"), "a@[192.0.2.1]", "a domain literal is read (judged later)");
    tap_is_str(walk("John Q. Public <jqp@shop.example>"), "jqp@shop.example",
               "obsolete phrase with a dot");
    tap_is_str(walk(""), "", "empty value: no address");
    tap_is_str(walk("a@one.example,,b@two.example,"), "a@one.example|b@two.example",
               "empty list elements");
    tap_is_str(walk("bad@unverified.example <good@shop.example>"),
               "bad@unverified.example|good@shop.example",
               "an unquoted '@' in the name: both addresses are visited");

    /* what must stop the walk, with a reason */
    static const struct {
        const char *in, *why;
    } bad[] = {
            {"(x bad@unverified.example", "unterminated comment"},
            {"good@shop.example (x", "unterminated comment"},
            {"\"bad@unverified.example", "unterminated quoted string"},
            {"a@[192.0.2.1", "unterminated domain literal"},
            {"John <john@shop.example", "missing '>'"},
            {"John <@r1.example john@shop.example>", "malformed route in '<...>'"},
            {"john@shop.example>", "'>' without '<'"},
            {"<a@b.example> <c@d.example>", "text after '>'"},
            {"John <john@shop.example> bad@unverified.example", "text after '>'"},
            {"not an address", "white space inside a local part"},
            {"Name", "a name without an address"},
            {"=?UTF-8?B?YmFkQHVudmVyaWZpZWQuZXhhbXBsZQ==?=", "a name without an address"},
            {"John <>", "empty address"},
            {"@shop.example", "empty local part"},
            {"a@", "empty domain"},
            {"a@(comment)", "empty domain"},
            {"a@b@c.example", "more than one '@' in an address"},
            {"a@shop.example bad@unverified.example", "white space inside a domain"},
            {"a@shop .example x", "white space inside a domain"},
            {"a@\"q\".example", "quoted string in a domain"},
            {"a)b@c.example", "')' without '('"},
            {"a\\b@c.example", "backslash outside a quoted string"},
            {"a\x01@c.example", "control character"},
            {"A: B: c@d.example;;", "a group inside a group"},
            {"a@b: c@d.example;", "'@' in a group name"},
            {"a@b.example;", "';' outside a group"},
            {"<a@b.example, c@d.example>", "misplaced special character in '<...>'"},
            {"Name <a@b.example", "missing '>'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[200];
        snprintf(want, sizeof(want), "ERR: %s", bad[i].why);
        tap_is_str(walk(bad[i].in), want, "refused: '%s'", bad[i].in);
    }
    memset(big, 'x', sizeof(big) - 20);
    strcpy(big + sizeof(big) - 20, "@shop.example");
    tap_is_str(walk(big), "ERR: address too long", "an address over ADDR_MAX is refused, not cut");
    tap_is_str(walk("a@one.example, (x"), "ERR: unterminated comment",
               "an error after a good address still fails the whole value");
}

/* addr_from: every address of every field, or the reason why not */
static void test_from(void)
{
    static const char *const two[] = {"a@shop.example", "b@unverified.example"};
    static const char *const three[] = {"a@shop.example", "(x", "c@unverified.example"};
    static const char *const none[] = {"undisclosed-recipients:;"};
    char nine[1024] = "", ninth[1024] = "";

    tap_is_str(from1("News <news@Shop.Example.>"), "shop.example", "domain normalised");
    tap_is_str(from1("a@shop.example, b@SHOP.example, c@shop.example"), "shop.example",
               "one domain for three addresses");
    tap_is_str(from(two, 2), "shop.example|unverified.example", "every From: field counts");
    tap_is_str(from(three, 3), "UNJUDGEABLE: unterminated comment (From: field 2)",
               "an unreadable second field is named");
    tap_is_str(from(NULL, 0), "UNJUDGEABLE: no From: field", "no From: field");
    tap_is_str(from1(""), "UNJUDGEABLE: no address in the From: field", "an empty From: field");
    tap_is_str(from(none, 1), "UNJUDGEABLE: no address in the From: field", "only an empty group");
    tap_is_str(from1("a@[192.0.2.1]"), "UNJUDGEABLE: address literal, not a domain",
               "a domain literal has no domain to judge");
    tap_ok(strncmp(from1("a@bad_domain.example"), "UNJUDGEABLE: ", 13) == 0,
           "a domain that is not a host name: %s", from1("a@bad_domain.example"));
    tap_ok(strncmp(from1("x@=?utf-8?q?unverified.example?="), "UNJUDGEABLE: ", 13) == 0,
           "an encoded-word as the domain: %s", from1("x@=?utf-8?q?unverified.example?="));
    tap_is_str(from1("u@b\xc3\xbc"
                     "cher.example"),
               "xn--bcher-kva.example", "IDN domain as A-label");
    for (int i = 1; i <= 9; i++) {
        char one[64];
        snprintf(one, sizeof(one), "%su%d@d%d.example", i > 1 ? ", " : "", i, i);
        strcat(nine, one);
    }
    tap_is_str(from1(nine), "UNJUDGEABLE: more than 8 distinct domains", "a ninth domain");
    for (int i = 1; i <= 8; i++) {
        char one[64];
        snprintf(one, sizeof(one), "u%d@shop.example, ", i);
        strcat(ninth, one);
    }
    strcat(ninth, "bad@unverified.example");
    tap_is_str(from1(ninth), "shop.example|unverified.example",
               "nine addresses of two domains: every one judged");
}

static void test_valid(void)
{
    char why[ERRBUF_MAX] = "";
    char l64[100], l65[100];

    tap_ok(addr_is_valid("a@b.example", why, sizeof(why)), "simple address");
    tap_ok(addr_is_valid("first.last+tag@shop.example", why, sizeof(why)), "dots and plus");
    tap_ok(addr_is_valid("o'brien!#$%&*/=?^_`{|}~-@shop.example", why, sizeof(why)),
           "all of atext");
    tap_ok(addr_is_valid("user@bücher.example", why, sizeof(why)), "IDN domain");
    tap_ok(addr_is_valid("user@Shop.Example.", why, sizeof(why)), "domain normalised when checked");
    tap_ok(!addr_is_valid("noatsign", why, sizeof(why)) && strstr(why, "local@domain"), "no '@'");
    tap_ok(!addr_is_valid("@b.example", why, sizeof(why)), "empty local part");
    tap_ok(!addr_is_valid("a@", why, sizeof(why)) && strstr(why, "empty"), "empty domain: %s", why);
    tap_ok(!addr_is_valid(".a@b.example", why, sizeof(why)), "leading dot");
    tap_ok(!addr_is_valid("a.@b.example", why, sizeof(why)), "trailing dot");
    tap_ok(!addr_is_valid("a..b@b.example", why, sizeof(why)), "double dot");
    tap_ok(!addr_is_valid("a b@b.example", why, sizeof(why)), "space in local part");
    tap_ok(!addr_is_valid("a@b.example ", why, sizeof(why)), "trailing space: %s", why);
    tap_ok(!addr_is_valid("a@b .example", why, sizeof(why)), "space in domain");
    tap_ok(!addr_is_valid("\"q\"@b.example", why, sizeof(why)),
           "quoted local parts are not for config");
    tap_ok(!addr_is_valid("a@b_c.example", why, sizeof(why)), "bad domain: %s", why);
    tap_ok(!addr_is_valid("a@[192.0.2.1]", why, sizeof(why)), "address literal");
    tap_ok(!addr_is_valid("<a@b.example>", why, sizeof(why)), "brackets");
    memset(l64, 'x', 64);
    strcpy(l64 + 64, "@b.example");
    tap_ok(addr_is_valid(l64, why, sizeof(why)), "64-octet local part is fine");
    memset(l65, 'x', 65);
    strcpy(l65 + 65, "@b.example");
    tap_ok(!addr_is_valid(l65, why, sizeof(why)) && strstr(why, "64"), "65 octets refused");
}

static void test_domain(void)
{
    char d[DOMAIN_MAX];
    char why[ERRBUF_MAX] = "";

    tap_ok(addr_domain("a@Shop.Example.", d, why, sizeof(why)) && !strcmp(d, "shop.example"),
           "domain normalised: %s", d);
    tap_ok(addr_domain("a@bücher.example", d, why, sizeof(why)) &&
                   !strcmp(d, "xn--bcher-kva.example"),
           "IDN domain to A-label");
    tap_ok(addr_domain("\"a@x\"@shop.example", d, why, sizeof(why)) && !strcmp(d, "shop.example"),
           "'@' inside a quoted local part ignored");
    tap_ok(!addr_domain("noat", d, why, sizeof(why)) && strstr(why, "no domain"), "no domain");
    tap_ok(!addr_domain("a@", d, why, sizeof(why)), "empty domain");
    tap_ok(!addr_domain("a@[192.0.2.1]", d, why, sizeof(why)) && strstr(why, "literal"),
           "address literal");
    tap_ok(!addr_domain("a@b_c.example", d, why, sizeof(why)), "bad domain refused");
    tap_is_str(addr_domain_part("a@b@c.example"), "c.example", "domain part after the last '@'");
    tap_ok(addr_domain_part("plain") == NULL, "no domain part");
    tap_ok(addr_equal("John@Shop.example", "john@shop.EXAMPLE"), "addr_equal ignores case");
    {
        char *list[] = {"a@b.example", "C@D.example"};
        tap_ok(addr_list_has(list, 2, "c@d.example"), "addr_list_has finds");
        tap_ok(!addr_list_has(list, 2, "e@f.example"), "addr_list_has misses");
        tap_ok(!addr_list_has(NULL, 0, "e@f.example"), "empty list");
    }
}

int main(void)
{
    test_envelope();
    test_header();
    test_walk();
    test_from();
    test_valid();
    test_domain();
    return tap_done();
}
