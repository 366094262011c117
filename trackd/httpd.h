/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * httpd.h - sendgate-trackd's HTTP server (libmicrohttpd)
 *
 * SYNOPSIS
 *	httpd_opts o = {.listen_fd = fd, .threads = 4, ...};
 *	httpd *h = httpd_start(&o, &env, state, err, sizeof(err));
 *	httpd_swap_state(h, new_state);     (SIGHUP: new keys, lists, privacy mode)
 *	httpd_stop(h, 5);                   (SIGTERM: stop accepting, let requests finish)
 *
 * DESCRIPTION
 *	A thread pool of libmicrohttpd epoll loops on a listening socket the
 *	daemon opened itself (before dropping privileges). Each request is
 *	turned into a trackreq (trackreq.h), the client address resolved
 *	through trusted proxies' X-Forwarded-For, and the trackresp turned
 *	back into a response. Request line plus headers are bounded by
 *	max_request (libmicrohttpd answers 414/431 beyond it), a POST body
 *	too (413). The configuration generation (keys, address lists, privacy)
 *	is reference counted: a reload never disturbs a request in flight.
 *
 *	Every connection holds a slot in a connguard (connguard.h): a whole
 *	request has request_timeout, one address max_per_ip connections, and a
 *	new connection over a limit closes the oldest one still waiting for
 *	its request, so a flood cannot keep real clients in the listen queue.
 *	libmicrohttpd's own limit is set above max_connections (sockets shut
 *	but not yet closed); httpd_fds_needed says how many descriptors that
 *	takes, httpd_max_for_fds how many connections fit in a descriptor limit.
 */
#ifndef SG_TRACKD_HTTPD_H
#define SG_TRACKD_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "trackd/trackreq.h"

typedef struct httpd_opts {
    int listen_fd;
    unsigned threads;
    unsigned max_connections;
    unsigned max_per_ip;                    /* 0: no limit */
    unsigned timeout;                       /* seconds without a byte */
    unsigned request_timeout;               /* seconds for a whole request and its answer */
    size_t max_request;                     /* bytes: request line + headers, and a POST body */
    const char *tls_cert_pem, *tls_key_pem; /* both NULL: plain HTTP */
} httpd_opts;

typedef struct httpd httpd;

httpd *httpd_start(const httpd_opts *o, trackreq_env *env, trackreq_state *st, char *err,
                   size_t errlen);
void httpd_swap_state(httpd *h, trackreq_state *st);
void httpd_stop(httpd *h, int grace_secs);
unsigned httpd_fds_needed(unsigned max_connections, unsigned threads);
unsigned httpd_max_for_fds(unsigned long fds, unsigned threads);

#endif
