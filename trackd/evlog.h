/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * evlog.h - trackd's events: a queue, one writer thread, JSON lines and counters
 *
 * SYNOPSIS
 *	evlog *l = evlog_start("/var/log/sendgate/events.log", stats, retention, metrics, err, n);
 *	evlog_submit(l, &event);          (any request thread; never blocks on I/O)
 *	evlog_reopen(l, path);            (SIGHUP: log rotation)
 *	evlog_stop(l);                    (drains the queue, syncs the statistics)
 *
 * DESCRIPTION
 *	Request threads only copy an event into a bounded in-memory queue. One
 *	writer thread takes the whole queue at a time, adds the burst label
 *	(botlabel.h), formats one JSON object per event, writes the batch with
 *	one write(2) to the events file (or standard output for "-"), and
 *	applies the batch to the statistics (trackstats.h) in one LMDB
 *	transaction. So neither the disk nor LMDB is ever on a request's path.
 *	When the queue is full (the writer cannot keep up) events are dropped
 *	and counted (evlog_dropped, shown in /metrics), never waited for.
 *
 *	Event line (keys always in this order; absent values are null):
 *	  {"time":"2024-06-10T08:15:02.123Z","kind":"click","msgref":"4VxYz1AbCdz",
 *	   "link":3,"domain":"example.com","issued":1718007300,
 *	   "client":"192.0.2.0","ua":"Mozilla/5.0 ...","bot":null}
 *	kind is click, open or unsubscribe; link is null except for clicks; an
 *	unsubscribe also has "rcpt". client and ua follow trackd.privacy.
 *	Strings are JSON-escaped; bytes that are not UTF-8 become U+FFFD.
 */
#ifndef SG_TRACKD_EVLOG_H
#define SG_TRACKD_EVLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "cache/trackstats.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/token.h"
#include "lib/netlist.h"
#include "trackd/tmetrics.h"

#define EVLOG_UA_MAX    256 /* longer user agents are cut */
#define EVLOG_QUEUE_MAX 8192

typedef struct evlog_event {
    int64_t time_ms; /* when the request arrived */
    int kind;        /* TOKEN_CLICK, TOKEN_OPEN, TOKEN_UNSUB */
    unsigned link;
    int64_t issued;
    char msgref[TOKEN_MSGREF_MAX];
    char domain[DOMAIN_MAX];
    char rcpt[ADDR_MAX];                /* unsubscribe only */
    bool has_ua, has_client;            /* false: dropped by the privacy mode */
    char ua[EVLOG_UA_MAX];              /* cut at EVLOG_UA_MAX - 1 bytes */
    char client[NETLIST_ADDR_TEXT_MAX]; /* already truncated per the privacy mode */
    const char *bot;                    /* static label, or NULL */
    uint64_t burst_key;                 /* clicks: botlabel_key(msgref, full address); 0 = none */
} evlog_event;

typedef struct evlog evlog;

evlog *evlog_start(const char *path, trackstats *stats, long retention, tmetrics *m, char *err,
                   size_t errlen);
bool evlog_submit(evlog *l, const evlog_event *e);
void evlog_reopen(evlog *l, const char *path);
void evlog_stop(evlog *l);
uint64_t evlog_dropped(evlog *l);
uint64_t evlog_written(evlog *l);

void evlog_format(const evlog_event *e, buf *out);
void evlog_json_string(buf *out, const char *s);

#endif
