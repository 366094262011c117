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
    const char *why = NULL;

    if (addr_envelope(in, a, &why))
        snprintf(out, sizeof(out), "%s", a);
    else
        snprintf(out, sizeof(out), "FAIL: %s", why ? why : "(none)");
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

static void test_valid(void)
{
    const char *why;
    char l64[100], l65[100];

    tap_ok(addr_is_valid("a@b.example", &why), "simple address");
    tap_ok(addr_is_valid("first.last+tag@shop.example", &why), "dots and plus");
    tap_ok(addr_is_valid("o'brien!#$%&*/=?^_`{|}~-@shop.example", &why), "all of atext");
    tap_ok(addr_is_valid("user@bücher.example", &why), "IDN domain");
    tap_ok(addr_is_valid("user@Shop.Example.", &why), "domain normalised when checked");
    tap_ok(!addr_is_valid("noatsign", &why) && strstr(why, "local@domain"), "no '@'");
    tap_ok(!addr_is_valid("@b.example", &why), "empty local part");
    tap_ok(!addr_is_valid("a@", &why) && strstr(why, "empty"), "empty domain: %s", why);
    tap_ok(!addr_is_valid(".a@b.example", &why), "leading dot");
    tap_ok(!addr_is_valid("a.@b.example", &why), "trailing dot");
    tap_ok(!addr_is_valid("a..b@b.example", &why), "double dot");
    tap_ok(!addr_is_valid("a b@b.example", &why), "space in local part");
    tap_ok(!addr_is_valid("a@b.example ", &why), "trailing space: %s", why);
    tap_ok(!addr_is_valid("a@b .example", &why), "space in domain");
    tap_ok(!addr_is_valid("\"q\"@b.example", &why), "quoted local parts are not for config");
    tap_ok(!addr_is_valid("a@b_c.example", &why), "bad domain: %s", why);
    tap_ok(!addr_is_valid("a@[192.0.2.1]", &why), "address literal");
    tap_ok(!addr_is_valid("<a@b.example>", &why), "brackets");
    memset(l64, 'x', 64);
    strcpy(l64 + 64, "@b.example");
    tap_ok(addr_is_valid(l64, &why), "64-octet local part is fine");
    memset(l65, 'x', 65);
    strcpy(l65 + 65, "@b.example");
    tap_ok(!addr_is_valid(l65, &why) && strstr(why, "64"), "65 octets refused");
}

static void test_domain(void)
{
    char d[DOMAIN_MAX];
    const char *why;

    tap_ok(addr_domain("a@Shop.Example.", d, &why) && !strcmp(d, "shop.example"),
           "domain normalised: %s", d);
    tap_ok(addr_domain("a@bücher.example", d, &why) && !strcmp(d, "xn--bcher-kva.example"),
           "IDN domain to A-label");
    tap_ok(addr_domain("\"a@x\"@shop.example", d, &why) && !strcmp(d, "shop.example"),
           "'@' inside a quoted local part ignored");
    tap_ok(!addr_domain("noat", d, &why) && strstr(why, "no domain"), "no domain");
    tap_ok(!addr_domain("a@", d, &why), "empty domain");
    tap_ok(!addr_domain("a@[192.0.2.1]", d, &why) && strstr(why, "literal"), "address literal");
    tap_ok(!addr_domain("a@b_c.example", d, &why), "bad domain refused");
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
    test_valid();
    test_domain();
    return tap_done();
}
