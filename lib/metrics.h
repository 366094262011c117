/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.h - the Prometheus text exposition format (version 0.0.4)
 *
 * SYNOPSIS
 *	buf out = BUF_INIT;
 *	metrics_family(&out, "sendgate_x_requests_total", "counter", "requests served");
 *	metrics_sample(&out, "sendgate_x_requests_total", 12, "action", "reject", NULL);
 *	metrics_counter(&out, "sendgate_x_errors_total", "errors", 0);
 *	metrics_gauge(&out, "sendgate_x_connections_open", "connections held now", 3);
 *
 * DESCRIPTION
 *	metrics_family writes the HELP and TYPE lines of a metric family (the
 *	help text has its backslashes and newlines escaped); metrics_sample
 *	one sample, its labels given as name, value pairs ending in NULL,
 *	each value escaped (backslash, double quote and newline);
 *	metrics_sample_i64 the same for a signed value (a gauge that may be
 *	negative). metrics_counter and metrics_gauge are a family with one
 *	unlabelled sample. metrics_escape appends one escaped label value.
 *
 *	Names and label names are the caller's constants and are not checked.
 *	Values are integers: sendgate counts events and whole seconds.
 */
#ifndef SG_LIB_METRICS_H
#define SG_LIB_METRICS_H

#include <stdint.h>

#include "lib/buf.h"

void metrics_escape(buf *out, const char *value);
void metrics_family(buf *out, const char *name, const char *type, const char *help);
void metrics_sample(buf *out, const char *name, uint64_t value, ...) __attribute__((sentinel));
void metrics_sample_i64(buf *out, const char *name, int64_t value, ...) __attribute__((sentinel));
void metrics_counter(buf *out, const char *name, const char *help, uint64_t value);
void metrics_gauge(buf *out, const char *name, const char *help, int64_t value);

#endif
