/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rewrite_main.c - bench/rewrite's driver: the rewrite engine's throughput
 *
 * A 20 KB newsletter (tables, inline styles, 60 links, a footer, UTF-8
 * text) as a single part in 8bit, quoted-printable and base64, click and
 * open tracking on, the click callback building a URL of realistic length
 * (no crypto: token signing is lib/token's cost, not the engine's). For
 * each variant: MB/s of input rewritten (the median of 5 timed windows,
 * with their range), beside memcpy of the same bytes in the same run (the
 * ceiling).
 *
 *	bench_rewrite [seconds-per-variant [8bit|qp|base64]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "milter/rewrite/rewrite.h"
#include "milter/rewrite/rw_int.h"

static const char *own[] = {"t.example.com"};

static bool click(void *arg, const char *url, size_t len, unsigned index, rw_part_kind kind,
                  buf *out)
{
    /* a URL of a real token's length (about 150 bytes), without the HMAC:
       signing is lib/token's cost, not the engine's */
    static const char prefix[] =
            "https://t.example.com/c/AQcAAAAAZ2VuZXJhdGVkLXRva2VuLWZvci1iZW5jaG1h"
            "cmstbGluay0wMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw";
    char digits[16];
    size_t n = 0;

    (void)arg;
    (void)kind;
    (void)url;
    (void)len;
    do {
        digits[n++] = (char)('0' + index % 10);
        index /= 10;
    } while (index && n < sizeof(digits));
    buf_append(out, prefix, sizeof(prefix) - 1);
    while (n)
        buf_putc(out, digits[--n]);
    return !buf_failed(out);
}

static bool opn(void *arg, buf *out)
{
    (void)arg;
    return buf_append_str(out, "https://t.example.com/o/AQcAAAAAb3Blbi10b2tlbi1mb3ItYmVuY2htYXJr");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void newsletter(buf *b)
{
    buf_append_str(b,
                   "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>td{font-family:Arial}"
                   "</style></head><body style=\"margin:0\">\r\n<table width=\"100%\" "
                   "cellpadding=\"0\">\r\n");
    for (int i = 0; b->len < 20000; i++) {
        buf_printf(
                b,
                "<tr><td class=\"item\" style=\"padding:12px 24px;color:#333333;font-size:15px\">"
                "<h2 style=\"margin:0\">Offre spéciale n°%d</h2><p>Découvrez notre sélection: des "
                "produits choisis pour vous, livrés en 48 h.</p>\r\n<a "
                "href=\"https://shop.example.com/"
                "products/"
                "item-%d?utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=nov\" "
                "style=\"color:#0066cc\">Voir le produit</a></td></tr>\r\n",
                i, i);
    }
    buf_append_str(
            b,
            "</table><p><a href=\"mailto:help@shop.example.com\">help</a></p></body></html>\r\n");
}

#define WINDOWS 5

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void variant(const char *name, const char *cte, const buf *body, double secs)
{
    rw_header h[] = {{"Content-Type", "text/html; charset=utf-8"},
                     {"Content-Transfer-Encoding", cte}};
    rw_options o;
    rw_result r;
    size_t links = 0;
    char *dst = malloc(body->len);
    double t0, el;

    rw_options_init(&o);
    o.click = o.open = true;
    o.own_hosts = own;
    o.n_own_hosts = 1;
    o.click_url = click;
    o.open_url = opn;
    /* WINDOWS timed windows: the median is the figure, the spread is shown
       (on a shared machine other tenants only ever slow a window down) */
    double w[WINDOWS];
    for (int wi = 0; wi < WINDOWS; wi++) {
        size_t iters = 0;
        t0 = now();
        do {
            for (int k = 0; k < 20; k++) {
                if (rw_rewrite(h, 2, (const unsigned char *)body->data, body->len, &o, &r) !=
                    RW_MODIFIED) {
                    fprintf(stderr, "bench_rewrite: %s: not modified (%s)\n", name, r.reason);
                    exit(1);
                }
                links = r.stats.links_rewritten;
                rw_result_free(&r);
                iters++;
            }
            el = now() - t0;
        } while (el < secs / WINDOWS);
        w[wi] = (double)body->len * (double)iters / el / 1e6;
    }
    qsort(w, WINDOWS, sizeof(w[0]), cmp_double);
    double mbs = w[WINDOWS / 2];

    size_t citers = 0;
    t0 = now();
    do {
        for (int k = 0; k < 200; k++) {
            memcpy(dst, body->data, body->len);
            __asm__ volatile("" : : "r"(dst) : "memory");
            citers++;
        }
        el = now() - t0;
    } while (el < secs / 2);
    double cmbs = (double)body->len * (double)citers / el / 1e6;
    printf("%-7s %8.0f MB/s  (median of %d windows, %.0f-%.0f; %zu bytes, %zu links, %.0f "
           "messages/s)   memcpy %8.0f MB/s   ratio %.3f\n",
           name, mbs, WINDOWS, w[0], w[WINDOWS - 1], body->len, links,
           mbs * 1e6 / (double)body->len, cmbs, mbs / cmbs);
    free(dst);
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    buf html, qp, b64;

    buf_init(&html);
    buf_init(&qp);
    buf_init(&b64);
    newsletter(&html);
    rw_qp_encode((const unsigned char *)html.data, html.len, "\r\n", &qp);
    rw_b64_encode((const unsigned char *)html.data, html.len, "\r\n", &b64);
    const char *only = argc > 2 ? argv[2] : NULL; /* one variant (profiling) */
    if (!only || strcmp(only, "8bit") == 0)
        variant("8bit", "8bit", &html, secs);
    if (!only || strcmp(only, "qp") == 0)
        variant("qp", "quoted-printable", &qp, secs);
    if (!only || strcmp(only, "base64") == 0)
        variant("base64", "base64", &b64, secs);
    buf_free(&html);
    buf_free(&qp);
    buf_free(&b64);
    return 0;
}
