/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_rewrite.c - the rewrite engine, case by case (TRACKING.md section 9)
 *
 * The click callback writes https://t.test/c/<index>~<url>, so every test
 * sees exactly which links were rewritten, with which index, from which
 * decoded URL; the pixel is https://t.test/o/P and unsubscribe
 * https://t.test/u/U.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/rewrite/rewrite.h"
#include "milter/rewrite/rw_int.h"
#include "t/lib/tap.h"

static bool click(void *arg, const char *url, size_t len, unsigned index, rw_part_kind kind,
                  buf *out)
{
    (void)arg;
    return buf_printf(out, "https://t.test/c/%u%s~%.*s", index, kind == RW_PART_TEXT ? "t" : "",
                      (int)len, url);
}

static bool opn(void *arg, buf *out)
{
    (void)arg;
    return buf_append_str(out, "https://t.test/o/P");
}

static bool unsub(void *arg, buf *out)
{
    (void)arg;
    return buf_append_str(out, "https://t.test/u/U");
}

static const char *own[] = {"t.test"};
static const char *excl[] = {"excluded.example"};

static void opts(rw_options *o, bool c, bool p, bool u)
{
    rw_options_init(o);
    o->click = c;
    o->open = p;
    o->unsubscribe = u;
    o->own_hosts = own;
    o->n_own_hosts = 1;
    o->excluded_domains = excl;
    o->n_excluded_domains = 1;
    o->click_url = click;
    o->open_url = opn;
    o->unsub_url = unsub;
}

static rw_header html_hdrs[] = {{"Content-Type", "text/html; charset=utf-8"},
                                {"Content-Transfer-Encoding", "8bit"}};

/* html - rewrite an HTML single part (8bit) with clicks only; returns the new body or the input */
static char *html(const char *in, const rw_options *o, rw_result *r)
{
    rw_status s = rw_rewrite(html_hdrs, 2, (const unsigned char *)in, strlen(in), o, r);
    if (s == RW_MODIFIED && r->body_changed)
        return strndup(r->body.data, r->body.len);
    return strdup(in);
}

static void same_html(const char *in, const char *want, const char *name)
{
    rw_options o;
    rw_result r;
    opts(&o, true, false, false);
    char *got = html(in, &o, &r);
    tap_is_str(got, want, "%s", name);
    free(got);
    rw_result_free(&r);
}

/* ---- broken HTML: rewritten up to the first construct that never closes ---- */

static const char PIXEL[] =
        "<img src=\"https://t.test/o/P\" width=\"1\" height=\"1\" alt=\"\" border=\"0\" "
        "style=\"display:block;width:1px;height:1px;border:0;overflow:hidden\" tabindex=\"-1\">";
static const char FOOTER[] = "<p style=\"font-size:12px;color:#666666;text-align:center\"><a "
                             "href=\"https://t.test/u/U\">Unsubscribe</a></p>";

enum { ENC_8BIT, ENC_QP, ENC_B64 };
static const char *const enc_name[] = {"8bit", "quoted-printable", "base64"};

/* encode - the body of a single part in that encoding */
static void encode(int enc, const char *in, buf *out)
{
    buf_reset(out);
    if (enc == ENC_QP)
        rw_qp_encode((const unsigned char *)in, strlen(in), "\r\n", out);
    else if (enc == ENC_B64)
        rw_b64_encode((const unsigned char *)in, strlen(in), "\r\n", out);
    else
        buf_append_str(out, in);
}

/* decoded - a single part's body decoded from its encoding */
static void decoded(int enc, const char *p, size_t n, buf *out)
{
    buf_reset(out);
    if (enc == ENC_QP)
        rw_qp_decode((const unsigned char *)p, n, out);
    else if (enc == ENC_B64)
        rw_b64_decode((const unsigned char *)p, n, out);
    else
        buf_append(out, p, n);
}

/*
 * second_pass_same - the output through the engine again, with the first
 * pass's List-Unsubscribe and encoding change in place and no marker header
 * (so only the content can stop it): nothing is rewritten, no pixel, no footer
 */
static bool second_pass_same(const rw_header *h, size_t n, const rw_result *r1, const char *in,
                             rw_options o)
{
    rw_header h2[8];
    size_t n2 = 0;
    for (size_t i = 0; i < n && n2 < 7; i++)
        h2[n2++] = h[i];
    for (size_t i = 0; i < r1->n_edits && n2 < 7; i++) {
        const rw_hdr_edit *e = &r1->edits[i];
        if (e->op == RW_HDR_ADD && strcmp(e->name, "List-Unsubscribe") == 0)
            h2[n2++] = (rw_header){"List-Unsubscribe", e->value};
        if (e->op == RW_HDR_CHANGE)
            for (size_t k = 0; k < n2; k++)
                if (strcmp(h2[k].name, e->name) == 0)
                    h2[k].value = e->value;
    }
    const char *b = r1->body_changed ? r1->body.data : in;
    size_t bl = r1->body_changed ? r1->body.len : strlen(in);
    rw_result r2;
    o.marker_header = NULL;
    rw_status s = rw_rewrite(h2, n2, (const unsigned char *)b, bl, &o, &r2);
    bool same = s == RW_UNCHANGED && r2.stats.links_rewritten == 0 && !r2.stats.pixel_added &&
                !r2.stats.unsub_footer_added;
    rw_result_free(&r2);
    return same;
}

/*
 * broken_case - in as a single text/html part in each encoding: the decoded
 * output is exactly want, links links rewritten, the pixel added or not, the
 * part counted as broken or not, and a second pass changes nothing
 */
static void broken_case(const char *name, const char *in, const char *want, unsigned links,
                        bool pixel, bool broken, bool unsubscribe)
{
    buf body, dec;
    buf_init(&body);
    buf_init(&dec);
    for (int enc = ENC_8BIT; enc <= ENC_B64; enc++) {
        rw_header h[] = {{"Content-Type", "text/html; charset=utf-8"},
                         {"Content-Transfer-Encoding", enc_name[enc]}};
        rw_options o;
        rw_result r;
        opts(&o, true, true, unsubscribe);
        encode(enc, in, &body);
        rw_status st = rw_rewrite(h, 2, (const unsigned char *)body.data, body.len, &o, &r);
        if (r.body_changed)
            decoded(enc, r.body.data, r.body.len, &dec);
        else
            decoded(enc, body.data, body.len, &dec);
        tap_is_mem(dec.data, dec.len, want, strlen(want), "%s (%s): exact bytes", name,
                   enc_name[enc]);
        bool cte_kept = true;
        for (size_t i = 0; i < r.n_edits; i++)
            if (r.edits[i].op == RW_HDR_CHANGE)
                cte_kept = false;
        if (!tap_ok(st != RW_FAILED && r.stats.links_rewritten == links &&
                            r.stats.pixel_added == pixel &&
                            r.stats.parts_broken == (broken ? 1u : 0u) && cte_kept &&
                            (!broken || (r.reason && strstr(r.reason, "broken HTML"))) &&
                            second_pass_same(h, 2, &r, body.data, o),
                    "%s (%s): %u link(s), pixel %s, %s, second pass changes nothing", name,
                    enc_name[enc], links, pixel ? "added" : "none",
                    broken ? "broken (said in the reason)" : "not broken"))
            tap_diag("status %s links %u pixel %d broken %u reason %s", rw_status_name(st),
                     r.stats.links_rewritten, r.stats.pixel_added, r.stats.parts_broken,
                     r.reason ? r.reason : "-");
        rw_result_free(&r);
    }
    buf_free(&body);
    buf_free(&dec);
}

static void broken_html_tests(void)
{
    /* a well-formed start, then the break and everything after it: a link, a
       </body> and a </html> that a browser never sees as such */
#define PRE  "<html><body><p><a href=\"http://a.example/1\">one</a></p>\r\n"
#define WPRE "<html><body><p><a href=\"https://t.test/c/0~http://a.example/1\">one</a></p>\r\n"
    static const struct {
        const char *name, *tail;
    } cls[] = {
            {"a tag whose quote never closes",
             "<a href=\"http://a.example/2>two</a></body></html>\r\n"},
            {"a tag without its '>' at the end", "<a href=http://a.example/2 class=x\r\n"},
            {"an open quote in another attribute",
             "<img alt=\"it's <a href='http://a.example/2'>two</a></body></html>\r\n"},
            {"a comment that never closes",
             "<!-- <a href=\"http://a.example/2\">two</a></body></html>\r\n"},
            {"an Outlook conditional comment that never closes",
             "<!--[if mso]><a href=\"http://a.example/2\">two</a></body></html>\r\n"},
            {"script without </script>",
             "<script>var u = '<a href=\"http://a.example/2\">';</body></html>\r\n"},
            {"style without </style>", "<STYLE>a[href=\"http://a.example/2\"]{}</body></html>\r\n"},
            {"textarea without its end tag",
             "<textarea><a href=\"http://a.example/2\">two</a></body></html>\r\n"},
            {"title without its end tag",
             "<title><a href=\"http://a.example/2\">two</a></body></html>\r\n"},
            {"xmp without its end tag", "<xmp><a href=\"http://a.example/2\">two</a></body>\r\n"},
            {"iframe without its end tag",
             "<iframe src=\"x\"><a href=\"http://a.example/2\">two</a></body>\r\n"},
            {"noembed without its end tag",
             "<noembed><a href=\"http://a.example/2\">two</a></body>\r\n"},
            {"noframes without its end tag",
             "<noframes><a href=\"http://a.example/2\">two</a></body>\r\n"},
            {"plaintext (never closes, even with </plaintext>)",
             "<plaintext><a href=\"http://a.example/2\">two</a></plaintext></body></html>\r\n"},
            {"CDATA that never closes",
             "<![CDATA[<a href=\"http://a.example/2\">two</a></body></html>\r\n"},
            {"<!DOCTYPE without '>'", "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0//EN\"\r\n"},
            {"a processing instruction without '>'",
             "<?xml version=\"1.0\" encoding=\"utf-8\"?\r\n"},
            {"<! without '>'", "<!x <a href=http://a.example/2\r\n"},
            {"a bogus end tag (</ and no letter) without '>'",
             "</ p <a href=http://a.example/2\r\n"},
            {"'<' and junk that never closes", "<b<c d=\"<a href='http://a.example/2'>\r\n"},
            {"'<a' at the very end", "<a"},
            {"'<!-' at the very end", "<!-"},
            {"'</' at the very end", "</"},
    };
    char want[512], in[512];
    for (size_t k = 0; k < sizeof(cls) / sizeof(cls[0]); k++) {
        snprintf(in, sizeof(in), "%s%s", PRE, cls[k].tail);
        snprintf(want, sizeof(want), "%s%s", WPRE, cls[k].tail);
        broken_case(cls[k].name, in, want, 1, false, true, false);
    }

    /* the break after </body>: the pixel goes before that </body>, which is
       outside every tag and comment; the rest is kept byte for byte */
    snprintf(want, sizeof(want),
             "<html><body><a href=\"https://t.test/c/0~http://a.example/1\">one</a>%s</body>"
             "</html>\r\n<!-- <a href=\"http://a.example/2\">two</a></body>\r\n",
             PIXEL);
    broken_case("a break after </body>: the pixel before that </body>",
                "<html><body><a href=\"http://a.example/1\">one</a></body></html>\r\n"
                "<!-- <a href=\"http://a.example/2\">two</a></body>\r\n",
                want, 1, true, true, false);
    snprintf(want, sizeof(want),
             "<p><a href=\"https://t.test/c/0~http://a.example/1\">one</a></p>%s</html>"
             "<style>a{}</body>",
             PIXEL);
    broken_case("a break after </html> (no </body>): the pixel before that </html>",
                "<p><a href=\"http://a.example/1\">one</a></p></html><style>a{}</body>", want, 1,
                true, true, false);
    snprintf(want, sizeof(want),
             "<body><a href=\"https://t.test/c/0~http://a.example/1\">one</a></body>%s</body>"
             "<a href=\"http://a.example/2",
             PIXEL);
    broken_case("several </body> before the break: before the last of them",
                "<body><a href=\"http://a.example/1\">one</a></body></body>"
                "<a href=\"http://a.example/2",
                want, 1, true, true, false);
    /* the footer follows the pixel's rule */
    snprintf(in, sizeof(in), "%s%s", PRE, "<!-- <a href=\"http://a.example/2\">two</a></body>");
    snprintf(want, sizeof(want), "%s%s", WPRE,
             "<!-- <a href=\"http://a.example/2\">two</a></body>");
    broken_case("unsubscribe on, break before </body>: no footer, no pixel", in, want, 1, false,
                true, true);
    snprintf(want, sizeof(want),
             "<body><a href=\"https://t.test/c/0~http://a.example/1\">one</a>%s%s</body>"
             "<!-- <a href=\"http://a.example/2\">two</a></body>",
             FOOTER, PIXEL);
    broken_case("unsubscribe on, break after </body>: footer and pixel before it",
                "<body><a href=\"http://a.example/1\">one</a></body>"
                "<!-- <a href=\"http://a.example/2\">two</a></body>",
                want, 1, true, true, true);

    /* not breaks: '<' as text, an empty end tag, a closed bogus comment */
    snprintf(want, sizeof(want),
             "<body><p>1 < 2, <3, << and </> and <?x?> and <!x> and </ 3 > <</p>"
             "<a href=\"https://t.test/c/0~http://a.example/1\">one</a>%s</body>",
             PIXEL);
    broken_case("'<' as text, </>, closed <?...>, <!...> and </ ...>: not breaks",
                "<body><p>1 < 2, <3, << and </> and <?x?> and <!x> and </ 3 > <</p>"
                "<a href=\"http://a.example/1\">one</a></body>",
                want, 1, true, false, false);
    snprintf(want, sizeof(want),
             "<p>x</p></ junk <a href=\"http://a.example/1\">one</a>"
             "<a href=\"https://t.test/c/0~http://a.example/2\">two</a>%s",
             PIXEL);
    broken_case("a bogus end tag swallows up to its '>' (a link inside is no link)",
                "<p>x</p></ junk <a href=\"http://a.example/1\">one</a>"
                "<a href=\"http://a.example/2\">two</a>",
                want, 1, true, false, false);
    snprintf(want, sizeof(want),
             "<iframe><a href=\"http://a.example/1\">one</a></iframe>"
             "<a href=\"https://t.test/c/0~http://a.example/2\">two</a>%s</body>",
             PIXEL);
    broken_case("links inside a closed iframe are text: untouched",
                "<iframe><a href=\"http://a.example/1\">one</a></iframe>"
                "<a href=\"http://a.example/2\">two</a></body>",
                want, 1, true, false, false);
    snprintf(want, sizeof(want), "<p>a < b</p><%s", PIXEL);
    broken_case("a lone '<' at the very end is text: the pixel after it", "<p>a < b</p><", want, 0,
                true, false, false);

    /* QP: the break in the decoded text, its bytes split by soft line breaks */
    {
        rw_header h[] = {{"Content-Type", "text/html; charset=utf-8"},
                         {"Content-Transfer-Encoding", "quoted-printable"}};
        const char *qp = "<p><a href=3D\"http://a.ex=\r\nample/1\">one</a></p><!=\r\n-- <a "
                         "href=3D\"http://a.example/2\">tw=C3=A9</a>=\r\n</body>\r\n";
        const char *w = "<p><a href=\"https://t.test/c/0~http://a.example/1\">one</a></p><!-- <a "
                        "href=\"http://a.example/2\">tw\xc3\xa9</a></body>\r\n";
        rw_options o;
        rw_result r;
        buf d;
        buf_init(&d);
        opts(&o, true, true, false);
        rw_status st = rw_rewrite(h, 2, (const unsigned char *)qp, strlen(qp), &o, &r);
        decoded(ENC_QP, r.body.data, r.body.len, &d);
        tap_is_mem(d.data, d.len, w, strlen(w),
                   "QP with soft breaks inside the link and inside the '<!--' that never closes: "
                   "decoded output exact");
        tap_ok(st == RW_MODIFIED && r.stats.links_rewritten == 1 && !r.stats.pixel_added &&
                       second_pass_same(h, 2, &r, qp, o),
               "QP: one link, no pixel, a second pass changes nothing");
        buf_free(&d);
        rw_result_free(&r);
    }

    /* multipart: the primary HTML is broken before </body>: no pixel anywhere
       (not in a later HTML part either), the text part still gets its footer */
    {
        rw_header h[] = {{"Content-Type", "multipart/alternative; boundary=\"B\""}};
        const char *mp = "--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
                         "--B\r\nContent-Type: text/html\r\n\r\n" PRE "<!-- </body>\r\n"
                         "--B\r\nContent-Type: text/html\r\n\r\n<p>second</p></body>\r\n--B--\r\n";
        const char *w = "--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n\r\n"
                        "Unsubscribe: <https://t.test/u/U>\r\n\r\n"
                        "--B\r\nContent-Type: text/html\r\n\r\n" WPRE "<!-- </body>\r\n"
                        "--B\r\nContent-Type: text/html\r\n\r\n<p>second</p></body>\r\n--B--\r\n";
        rw_options o;
        rw_result r;
        opts(&o, true, true, true);
        rw_status st = rw_rewrite(h, 1, (const unsigned char *)mp, strlen(mp), &o, &r);
        tap_is_mem(r.body.data, r.body.len, w, strlen(w),
                   "multipart, broken primary HTML: its link rewritten, no footer or pixel in any "
                   "HTML part, the text footer added");
        tap_ok(st == RW_MODIFIED && !r.stats.pixel_added && r.stats.unsub_headers_added &&
                       r.reason && strstr(r.reason, "no footer or pixel") &&
                       second_pass_same(h, 1, &r, mp, o),
               "multipart: List-Unsubscribe headers still added, the reason says why no pixel, "
               "a second pass changes nothing");
        rw_result_free(&r);
    }
#undef PRE
#undef WPRE
}

int main(void)
{
    rw_options o;
    rw_result r;
    char *got;

    /* --- href syntax ------------------------------------------------------- */
    same_html("<a href=\"http://a.example/x\">x</a>",
              "<a href=\"https://t.test/c/0~http://a.example/x\">x</a>", "double quotes");
    same_html("<a href='http://a.example/x'>x</a>",
              "<a href='https://t.test/c/0~http://a.example/x'>x</a>", "single quotes kept");
    same_html("<a href=http://a.example/x>x</a>",
              "<a href=\"https://t.test/c/0~http://a.example/x\">x</a>",
              "unquoted value gets double quotes");
    same_html("<A HREF=\"http://a.example/\">x</A><a Href=\"https://b.example/\">y</a>",
              "<A HREF=\"https://t.test/c/0~http://a.example/\">x</A><a "
              "Href=\"https://t.test/c/1~https://b.example/\">y</a>",
              "HREF, Href, <A>; indexes in order");
    same_html("<a\n  class=\"b\"\n  href = \"  http://a.example/x \n\"\n>x</a>",
              "<a\n  class=\"b\"\n  href = \"https://t.test/c/0~http://a.example/x\"\n>x</a>",
              "spaces and newlines around = and in the value; tag over lines");
    same_html("<a title=\"a > b\" href=\"http://a.example/?q=1>2\">x</a>",
              "<a title=\"a > b\" href=\"https://t.test/c/0~http://a.example/?q=1&gt;2\">x</a>",
              "> inside a sibling attribute and inside the URL");
    same_html("<a data-href=\"http://a.example/\">x</a><a "
              "href=\"http://b.example/?href=http://c.example/\">y</a>",
              "<a data-href=\"http://a.example/\">x</a><a "
              "href=\"https://t.test/c/0~http://b.example/?href=http://c.example/\">y</a>",
              "data-href and ?href= are not hrefs");
    same_html("<a href=\"http://a.example/1\" href=\"http://a.example/2\">x</a>",
              "<a href=\"https://t.test/c/0~http://a.example/1\" href=\"http://a.example/2\">x</a>",
              "duplicate href: the first one counts");
    same_html("<a>x</a><a href=\"\">y</a><a href=\" \">z</a>",
              "<a>x</a><a href=\"\">y</a><a href=\" \">z</a>",
              "no href, empty and blank href untouched");
    same_html("<area shape=\"rect\" href=\"http://a.example/map\">",
              "<area shape=\"rect\" href=\"https://t.test/c/0~http://a.example/map\">",
              "<area href>");

    /* --- schemes ------------------------------------------------------------- */
    const char *skip = "<a href=\"mailto:a@b.example\">1</a><a href=\"MAILTO:a@b.example\">2</a><a "
                       "href=\"tel:+1\">3</a>"
                       "<a href=\"sms:1\">4</a><a href=\"#frag\">5</a><a href=\"cid:img1\">6</a><a "
                       "href=\"/promo\">7</a>"
                       "<a href=\"//cdn.example/x\">8</a><a href=\"javascript:alert(1)\">9</a>"
                       "<a href=\"data:text/html,x\">10</a><a href=\"ftp://f.example/\">11</a><a "
                       "href=\"www.x.com\">12</a>";
    same_html(skip, skip,
              "mailto, tel, sms, #, cid, relative, //, javascript, data, ftp, www. untouched");

    /* --- URL content ---------------------------------------------------------- */
    same_html("<a href=\"http://a.example/?a=1&amp;b=2&#38;c=3&#x26;d=4\">x</a>",
              "<a href=\"https://t.test/c/0~http://a.example/?a=1&amp;b=2&amp;c=3&amp;d=4\">x</a>",
              "&amp; &#38; &#x26; decoded before signing, &amp; in the output");
    same_html("<a href=\"https://a.example/%20%EF/(x)/@y/[]/#!z\">x</a>",
              "<a href=\"https://t.test/c/0~https://a.example/%20%EF/(x)/@y/[]/#!z\">x</a>",
              "percent escapes, parentheses, @, [] and #! kept as they are");
    same_html("<a href=\"https://bücher.example/ü/😀\">x</a>",
              "<a href=\"https://t.test/c/0~https://bücher.example/ü/😀\">x</a>",
              "Unicode host and path as bytes");
    {
        char big[2300], in[2400], want[2400];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        snprintf(in, sizeof(in), "<a href=\"http://a.example/%s\">x</a>", big);
        snprintf(want, sizeof(want), "%s", in);
        same_html(in, want, "a URL over 2 KB is left alone (never truncated)");
    }
    same_html("<a href=\"{{url}}\">1</a><a href=\"http://a.example/{x}\">2</a>"
              "<a href=\"%unsubscribe_url%\">3</a><a href=\"http://a.example/*|UNSUB|*\">4</a>"
              "<a href=\"http://a.example/[[PERMALINK]]\">5</a><a "
              "href=\"http://a.example/%7B%7Bx%7D%7D\">6</a>"
              "<a href=\"http://a.example/?p=%25done%25\">7</a>",
              "<a href=\"{{url}}\">1</a><a href=\"http://a.example/{x}\">2</a>"
              "<a href=\"%unsubscribe_url%\">3</a><a href=\"http://a.example/*|UNSUB|*\">4</a>"
              "<a href=\"http://a.example/[[PERMALINK]]\">5</a><a "
              "href=\"http://a.example/%7B%7Bx%7D%7D\">6</a>"
              "<a href=\"https://t.test/c/0~http://a.example/?p=%25done%25\">7</a>",
              "placeholders untouched; %25done%25 is not one");

    /* --- opt-outs ----------------------------------------------------------------- */
    same_html("<a data-no-track href=\"http://a.example/1\">1</a>"
              "<a href=\"http://a.example/2\" DATA-NO-TRACK=\"true\">2</a>"
              "<a data-no-track=1 href=\"http://a.example/3\">3</a>"
              "<a clicktracking=\"off\" href=\"http://a.example/4\">4</a>"
              "<a data-pm-no-track href=\"http://a.example/5\">5</a>"
              "<a disable-tracking='true' href=\"http://a.example/6\">6</a>"
              "<a ses:no-track href=\"http://a.example/7\">7</a>"
              "<a data-msys-clicktrack=\"0\" href=\"http://a.example/8\">8</a>"
              "<a data-mautic-disable-tracking=\"true\" href=\"http://a.example/9\">9</a>"
              "<a data-skip-click href=\"http://a.example/10\">10</a>",
              "<a href=\"http://a.example/1\">1</a><a href=\"http://a.example/2\">2</a>"
              "<a href=\"http://a.example/3\">3</a><a href=\"http://a.example/4\">4</a>"
              "<a href=\"http://a.example/5\">5</a><a href=\"http://a.example/6\">6</a>"
              "<a href=\"http://a.example/7\">7</a><a href=\"http://a.example/8\">8</a>"
              "<a href=\"http://a.example/9\">9</a><a href=\"http://a.example/10\">10</a>",
              "every vendor marker honoured, any case, before or after href, and stripped");
    same_html("<a data-no-tracking href=\"http://a.example/1\">1</a><a clicktracking=\"on\" "
              "href=\"http://a.example/2\">2</a>"
              "<a href=\"http://a.example/?data-no-track=1\">3</a>",
              "<a data-no-tracking href=\"https://t.test/c/0~http://a.example/1\">1</a><a "
              "clicktracking=\"on\" href=\"https://t.test/c/1~http://a.example/2\">2</a>"
              "<a href=\"https://t.test/c/2~http://a.example/?data-no-track=1\">3</a>",
              "look-alike data-no-tracking, clicktracking=on and a marker inside the URL are "
              "tracked");
    same_html("<a href=\"https+notrack://a.example/x\">x</a>",
              "<a href=\"https://a.example/x\">x</a>",
              "https+notrack:// becomes https:// untracked");

    /* --- own origin, exclusions ---------------------------------------------------- */
    same_html("<a href=\"https://t.test/c/abc\">1</a><a href=\"https://t.test/u/abc\">2</a>"
              "<a href=\"https://other.example/redirect?u=x\">3</a><a "
              "href=\"https://excluded.example/\">4</a>"
              "<a href=\"https://www.excluded.example/\">5</a><a "
              "href=\"https://notexcluded.example/\">6</a>"
              "<a href=\"https://a.example/unsubscribe?id=1\">7</a>",
              "<a href=\"https://t.test/c/abc\">1</a><a href=\"https://t.test/u/abc\">2</a>"
              "<a href=\"https://t.test/c/0~https://other.example/redirect?u=x\">3</a><a "
              "href=\"https://excluded.example/\">4</a>"
              "<a href=\"https://www.excluded.example/\">5</a><a "
              "href=\"https://t.test/c/1~https://notexcluded.example/\">6</a>"
              "<a href=\"https://a.example/unsubscribe?id=1\">7</a>",
              "own host, excluded domains and subdomains, unsubscribe links skipped; another "
              "host's /redirect tracked");
    same_html("<a href=\"http://a.example/\">1</a><a href=\"http://a.example/\">2</a>",
              "<a href=\"https://t.test/c/0~http://a.example/\">1</a><a "
              "href=\"https://t.test/c/1~http://a.example/\">2</a>",
              "the same URL twice: two links, two indexes");
    same_html("<a href=\"https://a.example/x/UnSubScribe\">1</a>"
              "<a href=\"https://a.example/?l=bbbunsubscribe&amp;x=1\">2</a>"
              "<a href=\"https://a.example/unsubscrib\">3</a>"
              "<a href=\"https://a.example/subscribe-unsubscribe\">4</a>"
              "<a href=\"https://a.example/un-subscribe\">5</a>",
              "<a href=\"https://a.example/x/UnSubScribe\">1</a>"
              "<a href=\"https://a.example/?l=bbbunsubscribe&amp;x=1\">2</a>"
              "<a href=\"https://t.test/c/0~https://a.example/unsubscrib\">3</a>"
              "<a href=\"https://a.example/subscribe-unsubscribe\">4</a>"
              "<a href=\"https://t.test/c/1~https://a.example/un-subscribe\">5</a>",
              "unsubscribe found in any case and at any offset; near misses are tracked");
    opts(&o, true, false, false);
    o.max_links = 2;
    got = html("<a href=\"http://a.example/1\">1</a><a href=\"https://t.test/c/x\">own</a>"
               "<a href=\"http://a.example/2\">2</a>",
               &o, &r);
    tap_is_str(got,
               "<a href=\"https://t.test/c/0~http://a.example/1\">1</a><a "
               "href=\"https://t.test/c/x\">own</a>"
               "<a href=\"http://a.example/2\">2</a>",
               "the cap: links already on the own host count, later links are left alone");
    tap_is_int(r.stats.skipped[RW_SKIP_CAP], 1, "one link skipped by the cap");
    free(got);
    rw_result_free(&r);

    /* --- comments and raw text ------------------------------------------------------- */
    const char *raw = "<!-- <a href=\"http://a.example/c\">c</a> --><!--[if mso]><v:roundrect "
                      "href=\"http://a.example/v\">"
                      "<![endif]--><script>var s='<a href=\"http://a.example/s\">';</script>"
                      "<style>a[href=\"http://a.example/st\"]{}</style><![CDATA[<a "
                      "href=\"http://a.example/d\">]]>";
    same_html(raw, raw,
              "comments, Outlook conditional comments, script, style and CDATA untouched");

    /* --- pixel ------------------------------------------------------------------------ */
    const char *px =
            "<img src=\"https://t.test/o/P\" width=\"1\" height=\"1\" alt=\"\" border=\"0\" "
            "style=\"display:block;width:1px;height:1px;border:0;overflow:hidden\" "
            "tabindex=\"-1\">";
    char want[1024];
    opts(&o, false, true, false);
    got = html("<html><body><p>a</p><!-- </body> --></BODY ></html>", &o, &r);
    snprintf(want, sizeof(want), "<html><body><p>a</p><!-- </body> -->%s</BODY ></html>", px);
    tap_is_str(got, want, "pixel before </BODY >, not before the </body> in a comment");
    tap_ok(r.stats.pixel_added && r.stats.links_rewritten == 0, "opens on, clicks off: pixel only");
    free(got);
    rw_result_free(&r);
    got = html("<p>a</p></body><p>b</p></body>", &o, &r);
    snprintf(want, sizeof(want), "<p>a</p></body><p>b</p>%s</body>", px);
    tap_is_str(got, want, "several </body>: before the last");
    free(got);
    rw_result_free(&r);
    got = html("<p>fragment</p>", &o, &r);
    snprintf(want, sizeof(want), "<p>fragment</p>%s", px);
    tap_is_str(got, want, "no </body>: appended");
    free(got);
    rw_result_free(&r);
    got = html("<p>quoted reply <img src=\"https://t.test/o/OLD\"></p></body>", &o, &r);
    tap_ok(!r.stats.pixel_added, "an own pixel already there: no second pixel");
    free(got);
    rw_result_free(&r);
    opts(&o, false, false, false);
    tap_is_int(rw_rewrite(html_hdrs, 2, (const unsigned char *)"<a href=\"http://a.example/\">", 28,
                          &o, &r),
               RW_UNCHANGED, "everything off: unchanged");
    rw_result_free(&r);

    /* --- MIME: QP single part, soft break inside href ----------------------------------- */
    {
        rw_header h[] = {{"Content-Type", "text/html; charset=\"iso-8859-1\""},
                         {"Content-Transfer-Encoding", "quoted-printable"}};
        const char *in = "<p>Caf=E9 <a href=3D\"http://a.exa=\r\nmple/x?y=3D1\">x</a></p>\r\n";
        opts(&o, true, false, false);
        tap_is_int(rw_rewrite(h, 2, (const unsigned char *)in, strlen(in), &o, &r), RW_MODIFIED,
                   "QP part rewritten");
        buf dec;
        buf_init(&dec);
        rw_qp_decode((const unsigned char *)r.body.data, r.body.len, &dec);
        tap_is_mem(dec.data, dec.len,
                   "<p>Caf\xe9 <a href=\"https://t.test/c/0~http://a.example/x?y=1\">x</a></p>\r\n",
                   strlen("<p>Caf\xe9 <a "
                          "href=\"https://t.test/c/0~http://a.example/x?y=1\">x</a></p>\r\n"),
                   "QP soft break and =3D inside the href decoded; Latin-1 byte kept");
        bool short_lines = true;
        for (const char *p = r.body.data, *e = p + r.body.len; p < e;) {
            const char *nl = memchr(p, '\n', (size_t)(e - p));
            size_t l = (size_t)((nl ? nl : e) - p);
            if (l && p[l - 1] == '\r')
                l--;
            if (l > 76)
                short_lines = false;
            p = nl ? nl + 1 : e;
        }
        tap_ok(short_lines, "QP output lines at most 76");
        tap_is_int(r.n_edits, 1, "only the marker header is added (encoding kept)");
        buf_free(&dec);
        rw_result_free(&r);
    }
    /* --- 8bit single part, one long line: switches to QP with a header change -------------- */
    {
        rw_header h[] = {{"Content-Type", "text/html"}, {"MIME-Version", "1.0"}};
        buf in;
        buf_init(&in);
        for (int i = 0; i < 900; i++)
            buf_append_str(&in, "<a href=\"http://a.example/\">x</a>");
        opts(&o, true, false, false);
        tap_is_int(rw_rewrite(h, 2, (const unsigned char *)in.data, in.len, &o, &r), RW_MODIFIED,
                   "long line");
        tap_ok(r.stats.cte_changed && r.n_edits >= 1 && r.edits[0].op == RW_HDR_CHANGE &&
                       strcmp(r.edits[0].name, "Content-Transfer-Encoding") == 0 &&
                       strcmp(r.edits[0].value, "quoted-printable") == 0,
               "a line over 998 octets: the part becomes quoted-printable by a header change");
        tap_is_int(r.stats.links_rewritten, 500, "the default cap of 500 links");
        buf_free(&in);
        rw_result_free(&r);
    }
    /* --- multipart: attachment, rfc822, alternative text + html, preamble, epilogue --------- */
    {
        rw_header h[] = {{"Content-Type", "multipart/mixed; boundary=\"XX\""},
                         {"MIME-Version", "1.0"}};
        const char *in =
                "preamble\r\n"
                "--XX\r\n"
                "Content-Type: multipart/alternative; boundary=YY\r\n\r\n"
                "--YY\r\nContent-Type: text/plain\r\n\r\nSee http://a.example/p and "
                "http://b.example/q.\r\n"
                "--YY\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                "PGEgaHJlZj0iaHR0cDovL2IuZXhhbXBsZS9xIj5xPC9hPjxhIGRhdGEtbm8tdHJhY2sgaHJlZj0i\r\n"
                "aHR0cDovL2EuZXhhbXBsZS9wIj5wPC9hPjwvYm9keT4=\r\n"
                "--YY--\r\n"
                "--XX\r\nContent-Type: text/html; name=\"a.html\"\r\nContent-Disposition: "
                "attachment\r\n\r\n"
                "<a href=\"http://att.example/\">att</a>\r\n"
                "--XX\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: text/html\r\n\r\n"
                "<a href=\"http://fwd.example/\">fwd</a>\r\n"
                "--XX--\r\nepilogue\r\n";
        opts(&o, true, true, true);
        o.track_text = true;
        tap_is_int(rw_rewrite(h, 2, (const unsigned char *)in, strlen(in), &o, &r), RW_MODIFIED,
                   "multipart");
        const char *b = r.body.data;
        tap_ok(strncmp(b, "preamble\r\n--XX\r\n", 16) == 0, "preamble kept");
        tap_ok(r.body.len > 18 && memcmp(b + r.body.len - 18, "--XX--\r\nepilogue\r\n", 18) == 0,
               "close delimiter and epilogue kept");
        tap_ok(strstr(b, "<a href=\"http://att.example/\">att</a>") &&
                       strstr(b, "<a href=\"http://fwd.example/\">fwd</a>"),
               "attachment and message/rfc822 untouched");
        tap_ok(strstr(b,
                      "See http://a.example/p and https://t.test/c/0t~http://b.example/q.\r\n") !=
                       NULL,
               "text part: the URL opted out in the HTML is left, the other gets the HTML link's "
               "index, "
               "trailing period not part of the URL");
        tap_ok(strstr(b, "Unsubscribe: <https://t.test/u/U>") != NULL, "text footer");
        /* decode the HTML part back */
        const char *s = strstr(b, "base64\r\n\r\n");
        const char *e = s ? strstr(s, "--YY--") : NULL;
        buf dec;
        buf_init(&dec);
        if (s && e)
            rw_b64_decode((const unsigned char *)s + 10, (size_t)(e - s - 10), &dec);
        buf_putc(&dec, 0);
        tap_ok(strstr(dec.data, "<a href=\"https://t.test/c/0~http://b.example/q\">q</a><a "
                                "href=\"http://a.example/p\">p</a>") &&
                       strstr(dec.data, "<a href=\"https://t.test/u/U\">Unsubscribe</a></p><img "
                                        "src=\"https://t.test/o/P\"") &&
                       strstr(dec.data, "</body>"),
               "base64 HTML: link rewritten, marker stripped, footer then pixel before </body>");
        int hdr_adds = 0;
        for (size_t i = 0; i < r.n_edits; i++)
            if (r.edits[i].op == RW_HDR_ADD && (!strcmp(r.edits[i].name, "List-Unsubscribe") ||
                                                !strcmp(r.edits[i].name, "List-Unsubscribe-Post")))
                hdr_adds++;
        tap_is_int(hdr_adds, 2, "List-Unsubscribe and List-Unsubscribe-Post added");
        buf_free(&dec);

        /* a second pass over the output changes nothing (marker) */
        rw_header h2[] = {{"Content-Type", "multipart/mixed; boundary=\"XX\""},
                          {"X-Sendgate-Tracked", "links=1"}};
        rw_result r2;
        tap_is_int(rw_rewrite(h2, 2, (const unsigned char *)r.body.data, r.body.len, &o, &r2),
                   RW_UNCHANGED, "a second pass changes nothing");
        rw_result_free(&r2);
        rw_result_free(&r);
    }
    /* --- gates ---------------------------------------------------------------------------- */
    {
        rw_header sig[] = {{"Content-Type", "text/html"},
                           {"DKIM-Signature", "v=1; a=rsa-sha256; d=x"}};
        opts(&o, true, true, true);
        tap_is_int(rw_rewrite(sig, 2, (const unsigned char *)"<a href=\"http://a.example/\">", 28,
                              &o, &r),
                   RW_UNCHANGED, "DKIM-signed: unchanged by default");
        rw_result_free(&r);
        rw_header sm[] = {
                {"Content-Type",
                 "multipart/signed; boundary=Z; protocol=\"application/pkcs7-signature\""}};
        tap_is_int(rw_rewrite(sm, 1,
                              (const unsigned char
                                       *)"--Z\r\n\r\n<a href=\"http://a.example/\">\r\n--Z--\r\n",
                              45, &o, &r),
                   RW_UNCHANGED, "multipart/signed: unchanged");
        rw_result_free(&r);
        rw_header jp[] = {{"Content-Type", "text/html; charset=ISO-2022-JP"}};
        tap_is_int(rw_rewrite(jp, 1, (const unsigned char *)"<a href=\"http://a.example/\">", 28,
                              &o, &r),
                   RW_MODIFIED, "ISO-2022-JP: the part is skipped (headers only)");
        tap_ok(!r.body_changed && r.stats.parts_skipped == 1,
               "the ISO-2022-JP body is not touched");
        rw_result_free(&r);
        rw_header oo[] = {{"Content-Type", "text/html"}, {"X-Sendgate-Track", " Off"}};
        tap_is_int(rw_rewrite(oo, 2, (const unsigned char *)"<a href=\"http://a.example/\">", 28,
                              &o, &r),
                   RW_MODIFIED, "opt-out header");
        tap_ok(!r.body_changed && r.n_edits == 2 && r.edits[0].op == RW_HDR_DELETE &&
                       strcmp(r.edits[0].name, "X-Sendgate-Track") == 0,
               "opt-out header honoured and removed, body untouched");
        rw_result_free(&r);
        rw_header lu[] = {{"Content-Type", "text/plain"},
                          {"List-Unsubscribe", "<mailto:u@x.example>"}};
        opts(&o, false, false, true);
        tap_is_int(rw_rewrite(lu, 2, (const unsigned char *)"hi\r\n", 4, &o, &r), RW_UNCHANGED,
                   "List-Unsubscribe already there: not duplicated, no footer");
        rw_result_free(&r);
        rw_header mal[] = {{"Content-Type", "multipart/mixed; boundary=Q"}};
        opts(&o, true, true, false);
        tap_is_int(
                rw_rewrite(mal, 1,
                           (const unsigned char *)"no boundary here <a href=\"http://a.example/\">",
                           45, &o, &r),
                RW_UNCHANGED, "a multipart without its boundary: unchanged");
        rw_result_free(&r);
    }
    /* --- found by the fuzzer: broken HTML and header-only parts ------------------------------ */
    {
        opts(&o, true, true, false);
        const char *broken[] = {"<a href=\"http://a.example/x>\r\n", /* a quote never closes */
                                "<p>x</p><!-- c </html>\r\n",        /* a comment never closes */
                                "<style>a{}</html>"};                /* raw text never closes */
        for (size_t k = 0; k < sizeof(broken) / sizeof(broken[0]); k++) {
            rw_status st = rw_rewrite(html_hdrs, 2, (const unsigned char *)broken[k],
                                      strlen(broken[k]), &o, &r);
            tap_ok(st == RW_UNCHANGED && !r.body_changed && r.stats.parts_broken == 1,
                   "broken HTML %zu, nothing to rewrite before the break: unchanged (no pixel "
                   "inside it)",
                   k);
            rw_result_free(&r);
        }
        broken_html_tests();
        rw_header mp[] = {{"Content-Type", "multipart/alternative; boundary=B"}};
        const char *hdr_only = "--B\r\nContent-Type: text/html\r\nX-Note: no body\r\n--B--\r\n";
        tap_is_int(rw_rewrite(mp, 1, (const unsigned char *)hdr_only, strlen(hdr_only), &o, &r),
                   RW_UNCHANGED, "a part with no empty line (all header) is not a candidate");
        rw_result_free(&r);
        rw_header empty[] = {{"Content-Type", ""}, {"Content-Transfer-Encoding", "  "}};
        tap_is_int(rw_rewrite(empty, 2, (const unsigned char *)"<p>x</p>", 8, &o, &r), RW_UNCHANGED,
                   "empty header values: text/plain 7bit by default, nothing to do without text "
                   "links");
        tap_ok(!r.stats.pixel_added, "no pixel in a text/plain message");
        rw_result_free(&r);
    }
    /* --- bare LF input keeps LF ------------------------------------------------------------- */
    {
        rw_header h[] = {{"Content-Type", "text/plain"}};
        opts(&o, false, false, true);
        const char *in = "line one\nline two\n";
        rw_rewrite(h, 1, (const unsigned char *)in, strlen(in), &o, &r);
        tap_is_mem(r.body.data, r.body.len,
                   "line one\nline two\n\nUnsubscribe: <https://t.test/u/U>\n",
                   strlen("line one\nline two\n\nUnsubscribe: <https://t.test/u/U>\n"),
                   "bare-LF input: the footer lines end with LF too");
        rw_result_free(&r);
    }
    /* --- encoders ------------------------------------------------------------------------------
     */
    {
        buf e, d;
        buf_init(&e);
        buf_init(&d);
        unsigned char all[256];
        for (int i = 0; i < 256; i++)
            all[i] = (unsigned char)i;
        rw_b64_encode(all, 256, "\r\n", &e);
        rw_b64_decode((const unsigned char *)e.data, e.len, &d);
        tap_is_mem(d.data, d.len, all, 256, "base64 round trip of every byte");
        buf_reset(&e);
        buf_reset(&d);
        const char *t = "a=b \r\n.dot\r\n--XX boundary-like\r\ntrailing space \r\n";
        rw_qp_encode((const unsigned char *)t, strlen(t), "\r\n", &e);
        tap_ok(strstr(e.data, "\r\n=2Ddot") == NULL && strstr(e.data, "=2E") &&
                       strstr(e.data, "=2D-XX") && strstr(e.data, "space=20\r\n"),
               "QP escapes '=', a leading '.', a leading '-' and trailing white space");
        rw_qp_decode((const unsigned char *)e.data, e.len, &d);
        tap_is_mem(d.data, d.len, t, strlen(t), "QP round trip");
        buf_reset(&d);
        rw_qp_decode((const unsigned char *)"a=3d=ZZb=\n c", 12, &d);
        tap_is_mem(d.data, d.len, "a==ZZb c", 8,
                   "QP: lowercase hex, bad escapes kept, soft break removed");
        buf_free(&e);
        buf_free(&d);
    }

    /* --- the word-at-a-time scans: every special byte at every offset of a word ---- */
    {
        static const char probe[] = "&\"'<>=?%;/:#\x01\t\x7f\xff";
        int bad = 0;
        buf enc;
        buf_init(&enc);
        for (size_t k = 0; k < sizeof(probe) - 1; k++)
            for (size_t at = 0; at < 20; at++) {
                char in[24], exp[64];
                memset(in, 'a', sizeof(in));
                in[at] = probe[k];
                const char *rep = probe[k] == '&'    ? "&amp;"
                                  : probe[k] == '"'  ? "&quot;"
                                  : probe[k] == '\'' ? "&#39;"
                                  : probe[k] == '<'  ? "&lt;"
                                  : probe[k] == '>'  ? "&gt;"
                                                     : NULL;
                size_t wl = 0;
                memcpy(exp, in, at);
                wl = at;
                if (rep) {
                    memcpy(exp + wl, rep, strlen(rep));
                    wl += strlen(rep);
                } else {
                    exp[wl++] = probe[k];
                }
                memcpy(exp + wl, in + at + 1, sizeof(in) - at - 1);
                wl += sizeof(in) - at - 1;
                buf_reset(&enc);
                rw_attr_encode(in, sizeof(in), &enc);
                if (enc.len != wl || memcmp(enc.data, exp, wl) != 0)
                    bad++;
            }
        tap_is_int(bad, 0, "attribute encoding: each special and plain byte at offsets 0-19");
        buf_free(&enc);

        /* href decoding: an entity, a space and a tab at offsets 0-19 of the path */
        static const struct {
            const char *in, *out;
        } dec[] = {{"&amp;", "&amp;"}, {" ", "%20"}, {"\t", ""}, {"&#x41;", "A"}};
        bad = 0;
        for (size_t k = 0; k < sizeof(dec) / sizeof(dec[0]); k++)
            for (int at = 0; at < 20; at++) {
                char in[160], exp[160];
                rw_options o2;
                rw_result r2;
                snprintf(in, sizeof(in), "<a href=\"https://a.example/%.*s%syyyyyyyy\">x</a>", at,
                         "pppppppppppppppppppp", dec[k].in);
                snprintf(exp, sizeof(exp),
                         "<a href=\"https://t.test/c/0~https://a.example/%.*s%syyyyyyyy\">x</a>",
                         at, "pppppppppppppppppppp", dec[k].out);
                opts(&o2, true, false, false);
                char *h = html(in, &o2, &r2);
                if (!h || strcmp(h, exp) != 0)
                    bad++;
                free(h);
                rw_result_free(&r2);
            }
        tap_is_int(bad, 0, "href decoding: entity, space and tab at offsets 0-19");
    }
    return tap_done();
}
