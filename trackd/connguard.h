/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * connguard.h - who holds sendgate-trackd's connection slots, and for how long
 *
 * SYNOPSIS
 *	connguard_opts o = {.max = 4096, .per_addr = 64, .deadline_ms = 10000,
 *	                    .metrics = &metrics};
 *	connguard *g = connguard_new(&o);
 *	connguard_conn *k = connguard_open(g, fd, &peer, exempt, now_ms);  (accepted)
 *	connguard_busy(g, k);            (a complete request is being answered)
 *	connguard_idle(g, k, now_ms);    (answered; the connection waits for the next)
 *	connguard_close(g, k);           (closed, whoever closed it)
 *	connguard_sweep(g, now_ms);      (a few times a second)
 *	connguard_free(g);
 *
 * DESCRIPTION
 *	libmicrohttpd's connection timeout is an idle timeout: one byte every
 *	few seconds keeps a connection forever, and a full connection table
 *	leaves new clients in the listen queue. connguard closes that door for
 *	the HTTP layer (httpd.c), which tells it about every connection:
 *
 *	Deadline. A connection gets deadline_ms from its accept (TLS handshake,
 *	request line, headers, body) to the end of its answer, and again from
 *	the end of each answer to the end of the next one on a kept-alive
 *	connection. connguard_sweep closes every connection past its deadline,
 *	however busy it keeps itself.
 *
 *	Per address. At most per_addr connections from one client address (an
 *	IPv6 client by its /64); 0 is no limit. Exempt connections (from a
 *	trusted proxy, which carries many clients) count only towards max.
 *
 *	Last slot. A connection that would go over a limit does not wait in
 *	the listen queue: the oldest connection under that limit that is still
 *	waiting for its request (or for the next one) is closed instead. Only
 *	when every other connection under the limit is busy answering is the
 *	new one closed. A flood of idle or trickling connections therefore
 *	only ever displaces itself, oldest first, and a real client's request,
 *	which arrives right after its connection, finds a slot.
 *
 *	"Closed" means shutdown(2) of the socket, under connguard's lock and
 *	before connguard_close has been called for it, so the descriptor is
 *	still the connection's own: the HTTP layer sees the end of the stream
 *	and closes the connection in its own thread as it would any other.
 *	Counts go to metrics (tmetrics.h): connections open, and connections
 *	closed by reason (deadline, full, per_address).
 */
#ifndef SG_TRACKD_CONNGUARD_H
#define SG_TRACKD_CONNGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/netlist.h"
#include "trackd/tmetrics.h"

typedef struct connguard_opts {
    size_t max;          /* connections at once */
    size_t per_addr;     /* from one address (IPv6: /64); 0: no limit */
    int64_t deadline_ms; /* accept (or the previous answer) to the end of the answer */
    tmetrics *metrics;   /* may be NULL */
} connguard_opts;

typedef struct connguard connguard;
typedef struct connguard_conn connguard_conn;

connguard *connguard_new(const connguard_opts *o);
void connguard_free(connguard *g);
connguard_conn *connguard_open(connguard *g, int fd, const netlist_addr *peer, bool exempt,
                               int64_t now_ms);
void connguard_busy(connguard *g, connguard_conn *k);
void connguard_idle(connguard *g, connguard_conn *k, int64_t now_ms);
void connguard_close(connguard *g, connguard_conn *k);
void connguard_sweep(connguard *g, int64_t now_ms);
size_t connguard_open_count(connguard *g);

#endif
