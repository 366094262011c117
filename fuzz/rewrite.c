/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rewrite.c - libFuzzer harness: the rewrite engine over arbitrary bodies
 *
 * The first input byte picks the top-level headers (HTML or text, 7bit,
 * QP or base64, multipart with boundary "B", multipart/signed); the rest
 * is the body. Properties: no crash or sanitizer report; a modified body
 * keeps every line within 998 octets unless the input already had a longer
 * one; a second pass over the output, with the added headers in place and
 * no marker header, adds no pixel and rewrites no link (unless the first
 * pass stripped opt-out markers, which only the marker header remembers).
 *
 * The HTML tokenizer (rw_html) on the body of a text/html input, taken as
 * decoded HTML: the output ends with the input's bytes from the first
 * construct that never closes, byte for byte, and the footer and pixel
 * place lies before them; without any link rewritten the output is the
 * input; run again over its own output it rewrites nothing, finds the
 * break the same distance from the end and changes no byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/rewrite/rewrite.h"
#include "milter/rewrite/rw_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *own[] = {"t.test"};

static bool click(void *arg, const char *url, size_t len, unsigned index, rw_part_kind kind,
                  buf *out)
{
    (void)arg;
    (void)kind;
    (void)url;
    (void)len;
    return buf_printf(out, "https://t.test/c/%u", index);
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

static size_t longest_line(const unsigned char *p, size_t n)
{
    size_t best = 0, cur = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            cur = 0;
        } else if (p[i] != '\r' && ++cur > best) {
            best = cur;
        }
    }
    return best;
}

/* html_properties - rw_html's promises about broken HTML, on the body as is */
static void html_properties(const rw_options *o, const unsigned char *in, size_t len)
{
    rw_stats st, st2;
    rw_links l, l2;
    rw_html_out h, h2;
    buf out, out2;

    memset(&st, 0, sizeof(st));
    memset(&st2, 0, sizeof(st2));
    buf_init(&out);
    buf_init(&out2);
    rw_links_init(&l, o, &st);
    if (!rw_html(&l, in, len, &out, &h))
        abort(); /* no allocation fails here short of the whole process */
    if (h.break_at != (size_t)-1) {
        size_t tail = len - h.break_at;
        if (h.break_at > len || out.len < tail ||
            memcmp(out.data + out.len - tail, in + h.break_at, tail) != 0)
            abort(); /* a byte from the break on changed */
        if (h.insert_at != (size_t)-1 && h.insert_at > out.len - tail)
            abort(); /* the footer and pixel place inside the broken construct */
    } else if (h.insert_at > out.len) {
        abort();
    }
    if (h.changed != (st.links_rewritten + st.markers_stripped != 0) ||
        (!h.changed && (out.len != len || (len && memcmp(out.data, in, len) != 0))))
        abort(); /* changed but no link, or a byte changed without a link */
    rw_links_init(&l2, o, &st2);
    if (!rw_html(&l2, (const unsigned char *)(out.data ? out.data : ""), out.len, &out2, &h2))
        abort();
    if (st2.links_rewritten != 0 && st.markers_stripped == 0)
        abort(); /* a link of our own rewritten again */
    if (st.markers_stripped == 0 &&
        ((h.break_at == (size_t)-1) != (h2.break_at == (size_t)-1) ||
         (h.break_at != (size_t)-1 && len - h.break_at != out.len - h2.break_at) ||
         out2.len != out.len || (out.len && memcmp(out2.data, out.data, out.len) != 0)))
        abort(); /* the second pass sees another break, or changes a byte */
    rw_links_free(&l);
    rw_links_free(&l2);
    buf_free(&out);
    buf_free(&out2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {
            "text/html; charset=utf-8", "text/plain", "multipart/alternative; boundary=B",
            "multipart/mixed; boundary=\"B\"", "multipart/signed; boundary=B"};
    static const char *const ctes[] = {"7bit", "quoted-printable", "base64", "8bit"};
    rw_header h[8];
    size_t n = 0;
    rw_options o;
    rw_result r, r2;

    if (size < 1)
        return 0;
    h[n++] = (rw_header){"Content-Type", types[data[0] % 5]};
    h[n++] = (rw_header){"Content-Transfer-Encoding", ctes[(data[0] / 5) % 4]};
    rw_options_init(&o);
    o.click = o.open = o.unsubscribe = true;
    o.track_text = (data[0] & 0x80) != 0;
    o.own_hosts = own;
    o.n_own_hosts = 1;
    o.max_links = 100000;
    o.marker_header = NULL;
    o.click_url = click;
    o.open_url = opn;
    o.unsub_url = unsub;
    const unsigned char *body = data + 1;
    size = size - 1;
    if (data[0] % 5 == 0) /* a text/html single part: the body is the HTML (encoded or not) */
        html_properties(&o, body, size);
    if (rw_rewrite(h, n, body, size, &o, &r) == RW_MODIFIED) {
        const unsigned char *out = r.body_changed ? (const unsigned char *)r.body.data : body;
        size_t out_len = r.body_changed ? r.body.len : size;
        if (r.body_changed && longest_line(out, out_len) > 998 && longest_line(body, size) <= 998)
            abort();
        /* the second pass sees the first one's header edits */
        static char cte_buf[32];
        for (size_t i = 0; i < r.n_edits && n < 8; i++) {
            if (r.edits[i].op == RW_HDR_ADD && strcmp(r.edits[i].name, "List-Unsubscribe") == 0)
                h[n++] = (rw_header){"List-Unsubscribe", "<https://t.test/u/U>"};
            if (r.edits[i].op == RW_HDR_CHANGE) {
                snprintf(cte_buf, sizeof(cte_buf), "%s", r.edits[i].value);
                h[1].value = cte_buf;
            }
        }
        /* opt-out markers are stripped on the first pass, so without the
           marker header a second pass would track those links: that is what
           the marker header is for, and such inputs only check the pixel */
        if (rw_rewrite(h, n, out, out_len, &o, &r2) == RW_MODIFIED &&
            ((r2.stats.links_rewritten != 0 && r.stats.markers_stripped == 0) ||
             r2.stats.pixel_added))
            abort();
        rw_result_free(&r2);
    }
    rw_result_free(&r);
    return 0;
}
