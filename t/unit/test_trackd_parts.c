/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_trackd_parts.c - trackd's pure pieces: X-Forwarded-For and truncation
 * (the address lists are lib/netlist's, test_netlist.c), redirect check,
 * bot labels, one-click bodies, pages, event lines
 */
#include <stdio.h>
#include <string.h>

#include "t/lib/tap.h"
#include "trackd/botlabel.h"
#include "trackd/clientip.h"
#include "trackd/evlog.h"
#include "trackd/htmlpage.h"
#include "trackd/oneclick.h"
#include "lib/redirect.h"

static netlist list_of(char **words, size_t n)
{
    conf_list l = {n, words};
    netlist out = NETLIST_INIT;
    char err[200];

    if (!netlist_parse(&out, &l, NETLIST_HOST_BITS, err, sizeof(err)))
        tap_diag("list: %s", err);
    return out;
}

/* resolve - the client's address text, or "refused" */
static const char *resolve(const char *peer, const char *xff, netlist *trusted)
{
    static char text[NETLIST_ADDR_TEXT_MAX];
    netlist_addr p, out;

    netlist_addr_parse(peer, strlen(peer), &p);
    if (!clientip_resolve(&p, xff, trusted, &out))
        return "refused";
    netlist_addr_format(&out, text);
    return text;
}

static void test_clientip(void)
{
    char *w[] = {"127.0.0.1", "10.0.0.0/8", "2001:db8::/32", "::ffff:192.168.0.0/120"};
    netlist trusted = list_of(w, 4), empty = NETLIST_INIT;
    netlist_addr a;
    char text[NETLIST_ADDR_TEXT_MAX];

    tap_is_str(resolve("203.0.113.9", "1.2.3.4", &trusted), "203.0.113.9",
               "X-Forwarded-For from an untrusted peer is ignored");
    tap_is_str(resolve("127.0.0.1", "198.51.100.7", &trusted), "198.51.100.7",
               "trusted proxy: the forwarded client");
    tap_is_str(resolve("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.0.0.5", &trusted), "198.51.100.7",
               "rightmost untrusted address wins, spoofed left part ignored");
    tap_is_str(resolve("127.0.0.1", "garbage, 198.51.100.7", &trusted), "198.51.100.7",
               "garbage left of the client does not matter");
    tap_is_str(resolve("127.0.0.1", "198.51.100.7, garbage", &trusted), "refused",
               "garbage from the proxy side: refused, not the peer");
    {
        /* what the trusted proxies wrote must be addresses: never a fall-back to the proxy */
        static const char *const bad[] = {
                "",                            /* empty header */
                " ",                           /* blank */
                "198.51.100.7,",               /* empty element at the right */
                "198.51.100.7, ,10.0.0.1",     /* empty element between trusted hops */
                "unknown",                     /* what some proxies write */
                "198.51.100.7 10.0.0.1",       /* no comma */
                "198.51.100.7, 10.0.0.1 x",    /* junk after a trusted hop */
                "198.51.100.7:",               /* empty port */
                "198.51.100.7:8o",             /* port not digits */
                "198.51.100.7:123456",         /* port too long */
                "[2001:db8::1",                /* unterminated bracket */
                "[2001:db8::1]x",              /* junk after the bracket */
                "[2001:db8::1]:",              /* empty port */
                "[198.51.100.7]",              /* IPv4 in brackets */
                "[]",                          /* empty brackets */
                "2001:db8::1%eth0",            /* zone id */
                "198.51.100.7\r\nX-Evil: 1",   /* CR LF */
                "198.51.100.256",              /* not an address */
                "10.0.0.1, garbage, 10.0.0.2", /* garbage between trusted hops */
        };
        size_t refused = 0;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            if (strcmp(resolve("127.0.0.1", bad[i], &trusted), "refused") == 0)
                refused++;
            else
                tap_diag("not refused: '%s' -> %s", bad[i], resolve("127.0.0.1", bad[i], &trusted));
        }
        tap_is_int(refused, sizeof(bad) / sizeof(bad[0]),
                   "%zu malformed X-Forwarded-For from a trusted proxy: refused",
                   sizeof(bad) / sizeof(bad[0]));
    }
    {
        char big[CLIENTIP_XFF_MAX + 2];
        size_t len = 0;
        while (len + 16 <= CLIENTIP_XFF_MAX)
            len += (size_t)snprintf(big + len, sizeof(big) - len, "%s198.51.100.7", len ? "," : "");
        while (len < CLIENTIP_XFF_MAX)
            big[len++] = ' ';
        big[len] = '\0';
        tap_is_str(resolve("127.0.0.1", big, &trusted), "198.51.100.7",
                   "an X-Forwarded-For of exactly 1024 bytes: read");
        big[len++] = ' ';
        big[len] = '\0';
        tap_is_str(resolve("127.0.0.1", big, &trusted), "refused",
                   "an X-Forwarded-For of 1025 bytes from a trusted proxy: refused");
        tap_is_str(resolve("203.0.113.9", big, &trusted), "203.0.113.9",
                   "the same from an untrusted peer: ignored, the peer");
    }
    tap_is_str(resolve("127.0.0.1", "[2001:db8::7]:443", &trusted), "2001:db8::7", "[IPv6]:port");
    tap_is_str(resolve("127.0.0.1", " 198.51.100.7 \t", &trusted), "198.51.100.7",
               "blanks around an element");
    tap_is_str(resolve("127.0.0.1", "unknown, 198.51.100.7", &trusted), "198.51.100.7",
               "what the client wrote is never read");
    tap_is_str(resolve("127.0.0.1", "[2001:db9::1]:443, 198.51.100.7:5555", &trusted),
               "198.51.100.7", "ports are stripped");
    tap_is_str(resolve("127.0.0.1", "10.0.0.1, 10.0.0.2", &trusted), "10.0.0.1",
               "all trusted: the leftmost");
    tap_is_str(resolve("127.0.0.1", "198.51.100.7", &empty), "127.0.0.1", "no trusted proxies");

    netlist_addr_parse("198.51.100.77", 13, &a);
    clientip_truncate(&a);
    netlist_addr_format(&a, text);
    tap_is_str(text, "198.51.100.0", "IPv4 truncated to /24");
    netlist_addr_parse("2001:db8:1234:5678::9", 21, &a);
    clientip_truncate(&a);
    netlist_addr_format(&a, text);
    tap_is_str(text, "2001:db8:1234::", "IPv6 truncated to /48");
    netlist_free(&trusted);
}

static buf loc_buf = BUF_INIT;

static const char *loc(const char *url)
{
    buf_reset(&loc_buf);
    if (!redirect_location(url, &loc_buf, NULL, 0))
        return NULL;
    return buf_cstr(&loc_buf);
}

static void test_redirect(void)
{
    tap_is_str(loc("https://example.com/a?b=1&c=2#f"), "https://example.com/a?b=1&c=2#f",
               "plain URL kept byte for byte");
    tap_is_str(loc("HTTP://Example.com/%20x"), "HTTP://Example.com/%20x", "case and escapes kept");
    tap_is_str(loc("https://example.com/caf\xc3\xa9 x"), "https://example.com/caf%C3%A9%20x",
               "non-ASCII and space percent-encoded");
    tap_is_str(loc("https://example.com/a\r\nSet-Cookie: x"),
               "https://example.com/a%0D%0ASet-Cookie:%20x", "CR LF cannot inject a header");
    tap_is_str(loc("https://b\xc3\xbc\x63her.example/x"), "https://xn--bcher-kva.example/x",
               "IDN host becomes its A-label");
    tap_is_str(loc("https://user@example.com:8443/p"), "https://user@example.com:8443/p",
               "userinfo and port kept");
    tap_is_str(loc("http://[2001:db8::1]:8080/"), "http://[2001:db8::1]:8080/", "IPv6 literal");
    tap_ok(loc("//evil.example/") == NULL, "protocol-relative refused");
    tap_ok(loc("https:///evil.example/") == NULL, "https:/// refused");
    tap_ok(loc("https:\\\\evil.example/") == NULL, "backslashes refused");
    tap_ok(loc("https://\\evil.example/") == NULL, "https://\\ refused");
    tap_ok(loc("javascript:alert(1)") == NULL, "javascript: refused");
    tap_ok(loc("mailto:a@example.com") == NULL, "mailto: refused");
    tap_ok(loc("ftp://example.com/") == NULL, "ftp: refused");
    tap_ok(loc("/relative") == NULL, "relative refused");
    tap_ok(loc("https://:443/") == NULL, "empty host refused");
    tap_ok(loc("") == NULL, "empty refused");
    tap_is_str(loc("https://[::1]/"), "https://[::1]/", "IPv6 loopback literal");
    tap_is_str(loc("https://[::ffff:192.0.2.1]:443"), "https://[::ffff:192.0.2.1]:443",
               "v4-mapped literal, no path");
    tap_is_str(loc("http://a-b_c.Example.COM.:/x"), "http://a-b_c.Example.COM.:/x",
               "name with - _ and a trailing dot; empty port");
    tap_is_str(loc("https://u%40x:p;w@example.com/"), "https://u%40x:p;w@example.com/",
               "escaped userinfo");
    tap_is_str(loc("https://example.com:65535?q"), "https://example.com:65535?q", "highest port");
    tap_is_str(loc("https://example.com#f"), "https://example.com#f", "fragment right after host");
    {
        /* every malformed authority: refused, never repaired into some other host */
        static const char *const bad[] = {
                "https://[::1/",                   /* unterminated IPv6 literal */
                "https://[::1",                    /* unterminated, nothing after */
                "https://[::1?x]/",                /* the bracket is past the authority */
                "https://[]/",                     /* empty literal */
                "https://[::1]x/",                 /* junk after the literal */
                "https://[::1]:x/",                /* port not digits */
                "https://[::1]]/",                 /* two closing brackets */
                "https://[fe80::1%25eth0]/",       /* zone id */
                "https://[v1.fe80::1]/",           /* IPvFuture */
                "https://[192.0.2.1]/",            /* IPv4 in brackets */
                "https://[::1/]/",                 /* slash inside the literal */
                "https://::1/",                    /* IPv6 without brackets */
                "https://exa]mple.com/",           /* stray bracket */
                "https://exa[mple.com/",           /* stray bracket */
                "https://example.com:99999/",      /* port out of range */
                "https://example.com:65536/",      /* port out of range */
                "https://example.com:8a/",         /* port not digits */
                "https://example.com:80:80/",      /* two ports */
                "https://example.com: 80/",        /* space in the port */
                "https://example.com:-1/",         /* negative port */
                "https://a@b@evil.example/",       /* two @ */
                "https://@/",                      /* userinfo, no host */
                "https://user@/x",                 /* userinfo, no host */
                "https://user@:80/",               /* userinfo, port, no host */
                "https://us er@example.com/",      /* space in the userinfo */
                "https://u\x01@example.com/",      /* control byte in the userinfo */
                "https://u%4@example.com/",        /* short escape in the userinfo */
                "https://u%zz@example.com/",       /* bad escape in the userinfo */
                "https://u<>@example.com/",        /* < > in the userinfo */
                "https://exa mple.com/",           /* space in the host */
                "https://example.com /",           /* trailing space in the host */
                "https:// example.com/",           /* leading space */
                "https://exa\tmple.com/",          /* tab */
                "https://example.com\r\nX: y/",    /* CR LF */
                "https://exa\x7fmple.com/",        /* DEL */
                "https://exa%2emple.com/",         /* escape in the host */
                "https://exa\"mple.com/",          /* quote */
                "https://exa<mple.com/",           /* angle bracket */
                "https://exa{mple}.com/",          /* brace */
                "https://exa|mple.com/",           /* pipe */
                "https://exa^mple.com/",           /* caret */
                "https://exa`mple.com/",           /* backquote */
                "https://example.com;x/",          /* sub-delim in the host */
                "https://example.com&x/",          /* sub-delim in the host */
                "https://b\xc3\xbc cher.example/", /* space in an IDN host */
                "https://\xff\xfe.example/",       /* not UTF-8 */
        };
        size_t refused = 0;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            if (loc(bad[i]) == NULL)
                refused++;
            else
                tap_diag("redirected: %s", bad[i]);
        }
        tap_is_int(refused, sizeof(bad) / sizeof(bad[0]),
                   "%zu malformed authorities refused (unterminated or invalid IPv6 literal, bad "
                   "port, empty host, userinfo tricks, spaces, controls, escapes)",
                   sizeof(bad) / sizeof(bad[0]));
    }
    buf_free(&loc_buf);
}

static void test_botlabel(void)
{
    botlabel_burst *b = botlabel_burst_new(64);
    uint64_t k1 = botlabel_key("msg1", "192.0.2.1"), k2 = botlabel_key("msg1", "192.0.2.2");

    tap_is_str(botlabel_ua("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via "
                           "ggpht.com GoogleImageProxy)"),
               "image_proxy", "Gmail image proxy");
    tap_is_str(botlabel_ua("Mozilla/5.0"), "apple_proxy", "bare Mozilla/5.0 (Apple MPP)");
    tap_is_str(botlabel_ua(NULL), "empty_ua", "no user agent");
    tap_is_str(botlabel_ua("  "), "empty_ua", "blank user agent");
    tap_is_str(botlabel_ua("python-requests/2.31"), "script", "python-requests");
    tap_is_str(botlabel_ua("curl/8.0.1"), "script", "curl");
    tap_is_str(botlabel_ua("Mozilla/5.0 HeadlessChrome/120"), "headless", "headless Chrome");
    tap_is_str(botlabel_ua("Barracuda Sentinel (EE)"), "scanner", "Barracuda");
    tap_ok(botlabel_ua("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
                       "(KHTML, like Gecko) Version/17.0 Safari/605.1.15") == NULL,
           "a browser is not labelled");
    tap_ok(botlabel_early(1000, 998, 5), "2 s after sending: early");
    tap_ok(!botlabel_early(1000, 900, 5), "100 s after: not early");
    tap_ok(!botlabel_early(1000, 998, 0), "window 0: never early");
    tap_ok(!botlabel_burst_hit(b, k1, 1, 10000), "first click: no burst");
    tap_ok(!botlabel_burst_hit(b, k1, 1, 10100), "same link again: no burst (double click)");
    tap_ok(!botlabel_burst_hit(b, k2, 2, 10150), "other address: independent");
    tap_ok(botlabel_burst_hit(b, k1, 2, 10200), "second link within 1 s: burst");
    tap_ok(botlabel_burst_hit(b, k1, 3, 10900), "third link: burst");
    tap_ok(!botlabel_burst_hit(b, k1, 4, 12000), "after the window: no burst");
    botlabel_burst_free(b);
}

static void test_oneclick(void)
{
    const char *mp = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n"
                     "One-Click\r\n--XyZ--\r\n";
    const char *mp2 = "--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n"
                      "--XyZ\r\nContent-Disposition: form-data; name=List-Unsubscribe\r\n\r\n"
                      "One-Click\r\n--XyZ--\r\n";
    const char *bad = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n"
                      "Nope\r\n--XyZ--\r\n";

    tap_ok(oneclick_body("application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", 26),
           "RFC 8058 urlencoded body");
    tap_ok(oneclick_body(NULL, "List-Unsubscribe=One-Click\r\n", 28), "no content type");
    tap_ok(oneclick_body("application/x-www-form-urlencoded; charset=utf-8",
                         "a=b&List%2DUnsubscribe=One%2dClick", 34),
           "percent-encoded, among other fields");
    tap_ok(!oneclick_body("application/x-www-form-urlencoded", "List-Unsubscribe=Two-Click", 26),
           "wrong value");
    tap_ok(!oneclick_body("application/x-www-form-urlencoded", "", 0), "empty body");
    tap_ok(!oneclick_body("application/json", "{\"List-Unsubscribe\":\"One-Click\"}", 32),
           "JSON is not a form");
    tap_ok(oneclick_body("multipart/form-data; boundary=XyZ", mp, strlen(mp)), "multipart");
    tap_ok(oneclick_body("multipart/form-data; boundary=\"XyZ\"", mp2, strlen(mp2)),
           "multipart, quoted boundary, second part");
    tap_ok(!oneclick_body("multipart/form-data; boundary=XyZ", bad, strlen(bad)),
           "multipart with another value");
    tap_ok(!oneclick_body("multipart/form-data", mp, strlen(mp)), "multipart without boundary");
}

static void test_pages(void)
{
    buf b = BUF_INIT;
    char m[100];

    htmlpage_unsub(&b, HTMLPAGE_CONFIRM, "ex<ample>.com", "jane@example.org");
    tap_ok(strstr(b.data, "ex&lt;ample&gt;.com") != NULL, "values are escaped");
    tap_ok(strstr(b.data, "j***@example.org") != NULL, "recipient masked");
    tap_ok(strstr(b.data, "method=\"post\"") && strstr(b.data, "value=\"One-Click\""),
           "the button posts the one-click field");
    tap_ok(strstr(b.data, "<script") == NULL, "no script");
    buf_reset(&b);
    htmlpage_unsub(&b, HTMLPAGE_NOBODY, "example.com", "");
    tap_ok(strstr(b.data, "several recipients") && !strstr(b.data, "<form"),
           "unpersonalised page has no button");
    htmlpage_mask_addr("noat", m, sizeof(m));
    tap_is_str(m, "***", "no @: fully masked");
    buf_free(&b);
}

static void test_events(void)
{
    evlog_event e;
    buf b = BUF_INIT;

    memset(&e, 0, sizeof(e));
    e.time_ms = 1718007302123;
    e.kind = TOKEN_CLICK;
    e.link = 3;
    e.issued = 1718007300;
    strcpy(e.msgref, "4VxYz1");
    strcpy(e.domain, "example.com");
    e.has_client = true;
    strcpy(e.client, "192.0.2.0");
    e.has_ua = true;
    strcpy(e.ua, "A \"quoted\" \\ UA\x01\xff\xc3\xa9");
    e.bot = "early";
    evlog_format(&e, &b);
    tap_is_str(b.data,
               "{\"time\":\"2024-06-10T08:15:02.123Z\",\"kind\":\"click\",\"msgref\":\"4VxYz1\","
               "\"link\":3,\"domain\":\"example.com\",\"issued\":1718007300,"
               "\"client\":\"192.0.2.0\",\"ua\":\"A \\\"quoted\\\" \\\\ UA\\u0001\\ufffd\xc3\xa9\","
               "\"bot\":\"early\"}\n",
               "click event line, escaping and invalid UTF-8");
    buf_reset(&b);
    e.kind = TOKEN_UNSUB;
    strcpy(e.rcpt, "jane@example.org");
    e.has_ua = e.has_client = false;
    e.bot = NULL;
    evlog_format(&e, &b);
    tap_ok(strstr(b.data, "\"kind\":\"unsubscribe\"") && strstr(b.data, "\"link\":null") &&
                   strstr(b.data, "\"rcpt\":\"jane@example.org\"") &&
                   strstr(b.data, "\"client\":null,\"ua\":null,\"bot\":null}"),
           "unsubscribe line with dropped client and UA: %s", b.data);
    buf_free(&b);
}

int main(void)
{
    test_clientip();
    test_redirect();
    test_botlabel();
    test_oneclick();
    test_pages();
    test_events();
    return tap_done();
}
