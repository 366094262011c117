/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_metrics.c - the Prometheus text format helpers (lib/metrics.c)
 *
 * Label values with backslashes, quotes and newlines escaped as the
 * exposition format wants, HELP text escaped, the family lines, samples
 * with and without labels, signed gauges.
 */
#include <stdint.h>

#include "lib/metrics.h"
#include "t/lib/tap.h"

static void test_escape(void)
{
    buf b = BUF_INIT;

    metrics_escape(&b, "a\\b\"c\nd");
    tap_is_str(buf_cstr(&b), "a\\\\b\\\"c\\nd", "backslash, quote and newline escaped");
    buf_reset(&b);
    metrics_escape(&b, NULL);
    metrics_escape(&b, "plain.example");
    tap_is_str(buf_cstr(&b), "plain.example", "NULL is empty, plain text unchanged");
    buf_free(&b);
}

static void test_family(void)
{
    buf b = BUF_INIT;

    metrics_family(&b, "x_total", "counter", "a \"quoted\" \\ help\nline");
    tap_is_str(buf_cstr(&b),
               "# HELP x_total a \"quoted\" \\\\ help\\nline\n# TYPE x_total counter\n",
               "HELP escapes backslash and newline, keeps quotes; TYPE follows");
    buf_free(&b);
}

static void test_samples(void)
{
    buf b = BUF_INIT;

    metrics_sample(&b, "x_total", 0, NULL);
    metrics_sample(&b, "x_total", UINT64_MAX, "map", "relay", NULL);
    metrics_sample(&b, "x_total", 7, "map", "for\"ward", "result", "ok", NULL);
    tap_is_str(buf_cstr(&b),
               "x_total 0\n"
               "x_total{map=\"relay\"} 18446744073709551615\n"
               "x_total{map=\"for\\\"ward\",result=\"ok\"} 7\n",
               "samples: no labels, one, two (escaped)");
    buf_reset(&b);
    metrics_sample_i64(&b, "g", -5, "p", "static", NULL);
    tap_is_str(buf_cstr(&b), "g{p=\"static\"} -5\n", "a negative gauge value");
    buf_reset(&b);
    metrics_counter(&b, "c_total", "help", 3);
    metrics_gauge(&b, "g_seconds", "help", -1);
    tap_is_str(buf_cstr(&b),
               "# HELP c_total help\n# TYPE c_total counter\nc_total 3\n"
               "# HELP g_seconds help\n# TYPE g_seconds gauge\ng_seconds -1\n",
               "metrics_counter and metrics_gauge");
    buf_free(&b);
}

int main(void)
{
    test_escape();
    test_family();
    test_samples();
    return tap_done();
}
