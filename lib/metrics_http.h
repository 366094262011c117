/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics_http.h - a small HTTP listener serving GET /metrics (libmicrohttpd)
 *
 * SYNOPSIS
 *	metrics_http *mh = metrics_http_start(fd, &allow, render, arg, err, sizeof(err));
 *	...
 *	metrics_http_stop(mh);                  NULL is fine
 *
 * DESCRIPTION
 *	Serves the text render() appends to a buffer, as the Prometheus text
 *	format (version 0.0.4), on GET and HEAD /metrics, from one thread of
 *	its own, on the listening socket fd (endpoint_listen; the listener
 *	takes it over and closes it when it stops). render runs in that
 *	thread, one scrape at a time: what it reads from other threads must
 *	be atomics or a cache lookup.
 *
 *	Clients whose address is not in allow (taken over; empty = anyone)
 *	get 403; clients on a unix socket have no address and are always
 *	served (the socket's mode guards it). Other paths get 404, other
 *	methods 405. A request line and headers over METRICS_HTTP_MAX_REQUEST
 *	octets get 431 or the connection closed, at most
 *	METRICS_HTTP_MAX_CONNS connections are held, and an idle one is
 *	closed after METRICS_HTTP_TIMEOUT seconds.
 */
#ifndef SG_LIB_METRICS_HTTP_H
#define SG_LIB_METRICS_HTTP_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/netlist.h"

#define METRICS_HTTP_MAX_REQUEST 8192
#define METRICS_HTTP_MAX_CONNS   16
#define METRICS_HTTP_TIMEOUT     10

typedef struct metrics_http metrics_http;
typedef void (*metrics_http_render_fn)(void *arg, buf *out);

metrics_http *metrics_http_start(int fd, netlist *allow, metrics_http_render_fn render, void *arg,
                                 char *err, size_t errlen);
void metrics_http_stop(metrics_http *mh);

#endif
