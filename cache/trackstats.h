/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trackstats.h - per-domain click, open and unsubscribe counters in LMDB
 *
 * SYNOPSIS
 *	trackstats *s = trackstats_open(cfg->trackd.stats_path, cfg->trackd.stats_map_size,
 *	                                cfg->general.cache_max_readers, false, err, sizeof(err));
 *	trackstats_apply(s, events, n);                   (trackd's event writer, one txn)
 *	trackstats_prune(s, now - cfg->trackd.unique_retention);
 *	trackstats_query(s, "example.com", since, until, &rows, &nrows);   (sendgatectl stats)
 *
 * DESCRIPTION
 *	A separate LMDB environment (trackd.stats_path), never the provider
 *	cache: heavy click traffic then never holds the cache's write lock the
 *	refresher needs. Two databases:
 *
 *	  days:  "<domain>\0" + day (4 bytes, big-endian, days since 1970-01-01
 *	         UTC) -> counters of that day (clicks, unique clicks, opens,
 *	         unique opens, unsubscribes, bot-labelled clicks and opens)
 *	  msgs:  "<domain>\0<message reference>" -> day of first open, of first
 *	         click, of last activity; what makes counts unique per message.
 *	         Entries idle for longer than trackd.unique_retention are pruned.
 *
 *	Counting rules: every recorded event counts in the totals; events with a
 *	bot label also count in bot_clicks/bot_opens, but never make a message
 *	unique. A message counts once as a unique open (on the day of its first
 *	open) and once as a unique click. A click implies an open: a human click
 *	on a message with no open seen yet also counts as its first open (unique
 *	and total).
 *
 *	Only trackd's event writer writes, in one transaction per batch of
 *	events, without fsync per transaction (MDB_NOSYNC; the writer syncs
 *	about once a second and at exit): a crash loses at most the last second
 *	of counters, never the events file.
 *
 *	The environment is cache/lmdbenv.h's, like the provider cache's: the
 *	same checks before mapping, SIGBUS guard and retries. The map doubles
 *	on MDB_MAP_FULL, up to 16 times stats_map_size; a batch that finds it
 *	full at that size is not counted (and logged). Reader slots: as many
 *	as the cache has (general.cache_max_readers).
 */
#ifndef SG_CACHE_TRACKSTATS_H
#define SG_CACHE_TRACKSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/domain.h"

enum trackstats_field {
    TS_CLICKS,
    TS_CLICKS_UNIQUE,
    TS_OPENS,
    TS_OPENS_UNIQUE,
    TS_UNSUBSCRIBES,
    TS_BOT_CLICKS,
    TS_BOT_OPENS,
    TS__COUNT
};

/* event kinds: the token purposes (TOKEN_CLICK, TOKEN_OPEN, TOKEN_UNSUB) */
typedef struct trackstats_event {
    int kind;
    const char *domain;
    const char *msgref;
    int64_t when; /* unix time */
    bool bot;     /* the event carries a bot label */
} trackstats_event;

typedef struct trackstats_row {
    char domain[DOMAIN_MAX];
    uint64_t v[TS__COUNT];
} trackstats_row;

typedef struct trackstats trackstats;

trackstats *trackstats_open(const char *path, size_t map_size, unsigned max_readers, bool rdonly,
                            char *err, size_t errlen);
void trackstats_close(trackstats *s);
bool trackstats_apply(trackstats *s, const trackstats_event *ev, size_t n);
bool trackstats_sync(trackstats *s);
long trackstats_prune(trackstats *s, int64_t before);
bool trackstats_query(trackstats *s, const char *domain, int64_t since, int64_t until,
                      trackstats_row **rows, size_t *nrows);
const char *trackstats_field_name(int f);

#endif
