/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.c - Prometheus text exposition helpers (see metrics.h)
 */
#include "lib/metrics.h"

#include <stdarg.h>
#include <stddef.h>

/* metrics_escape - a label value: backslash, double quote and newline escaped */
void metrics_escape(buf *out, const char *value)
{
    for (const char *p = value ? value : ""; *p; p++) {
        if (*p == '\\')
            buf_append_str(out, "\\\\");
        else if (*p == '"')
            buf_append_str(out, "\\\"");
        else if (*p == '\n')
            buf_append_str(out, "\\n");
        else
            buf_putc(out, *p);
    }
}

/* metrics_help - a HELP text: backslash and newline escaped (quotes stay) */
static void metrics_help(buf *out, const char *help)
{
    for (const char *p = help ? help : ""; *p; p++) {
        if (*p == '\\')
            buf_append_str(out, "\\\\");
        else if (*p == '\n')
            buf_append_str(out, "\\n");
        else
            buf_putc(out, *p);
    }
}

/* metrics_family - the HELP and TYPE lines of one metric family */
void metrics_family(buf *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s ", name);
    metrics_help(out, help);
    buf_printf(out, "\n# TYPE %s %s\n", name, type);
}

/* metrics_labels - "{a=\"x\",b=\"y\"}" from name, value pairs ending in NULL; nothing when none */
static void metrics_labels(buf *out, va_list ap)
{
    const char *k, *v;
    int n = 0;

    while ((k = va_arg(ap, const char *)) != NULL) {
        v = va_arg(ap, const char *);
        buf_printf(out, "%s%s=\"", n++ ? "," : "{", k);
        metrics_escape(out, v);
        buf_putc(out, '"');
    }
    if (n)
        buf_putc(out, '}');
}

/* metrics_sample - one sample line; labels as name, value pairs ending in NULL */
void metrics_sample(buf *out, const char *name, uint64_t value, ...)
{
    va_list ap;

    buf_append_str(out, name);
    va_start(ap, value);
    metrics_labels(out, ap);
    va_end(ap);
    buf_printf(out, " %llu\n", (unsigned long long)value);
}

/* metrics_sample_i64 - metrics_sample for a value that may be negative */
void metrics_sample_i64(buf *out, const char *name, int64_t value, ...)
{
    va_list ap;

    buf_append_str(out, name);
    va_start(ap, value);
    metrics_labels(out, ap);
    va_end(ap);
    buf_printf(out, " %lld\n", (long long)value);
}

/* metrics_counter - a counter family with one unlabelled sample */
void metrics_counter(buf *out, const char *name, const char *help, uint64_t value)
{
    metrics_family(out, name, "counter", help);
    metrics_sample(out, name, value, NULL);
}

/* metrics_gauge - a gauge family with one unlabelled sample */
void metrics_gauge(buf *out, const char *name, const char *help, int64_t value)
{
    metrics_family(out, name, "gauge", help);
    metrics_sample_i64(out, name, value, NULL);
}
