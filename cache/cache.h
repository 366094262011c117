/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cache.h - the LMDB provider cache
 *
 * SYNOPSIS
 *	cache_opts opts = cache_opts_from_conf(cfg, CACHE_RETRY);   ([general] cache_*)
 *	cache *c = cache_open(cfg->general.cache_path, CACHE_RDONLY, &opts, err, sizeof(err));
 *	rc = cache_get_outbound(c, "example.com", &rec);   (CACHE_OK, _NOTFOUND, _CORRUPT, _ERROR)
 *	rc = cache_replace_provider(c, PROV_MAILTRAP, out, n_out, in, n_in, &meta);
 *	if (cache_health(c, why, sizeof(why)) != CACHE_OK)   damaged, or a provider's data missing
 *
 * DESCRIPTION
 *	One environment per process, opened before any thread starts and never
 *	used across fork(). Named databases: outbound, inbound, meta, suppress,
 *	revoked. Every thread that looks something up gets its own read-only
 *	transaction handle (MDB_NOTLS, mdb_txn_renew per lookup), copies the
 *	value out and resets the transaction before returning, so no LMDB memory
 *	is ever referenced after a lookup, a reader never holds a snapshot for
 *	long and concurrent lookups share no lock but the resize lock. A thread's
 *	handle (and its LMDB reader slot) is released when the thread exits or
 *	at cache_close, whichever comes first; cache_close must not run while
 *	another thread is inside a cache call. general.cache_max_readers must
 *	cover the threads that look things up plus the other processes.
 *	Callbacks of cache_foreach_* may look things up but must not write.
 *
 *	Only the refresher and sendgatectl write. A provider refresh replaces
 *	everything that provider says, in outbound, inbound and meta, in one
 *	write transaction: a reader sees the old set or the new set, never a
 *	mix. Entries from other providers in the same records are kept.
 *
 * DAMAGE
 *	A damaged data.mdb must never crash a program nor pass for an empty
 *	cache. cache_open checks the files before LMDB maps them
 *	(cache/envcheck.h: zero length, truncated, not an LMDB file, meta
 *	pages that lie, a directory or a symbolic link in its place). Every
 *	transaction runs inside a SIGBUS guard, and a stat at most once a
 *	second (before every write) notices a data file truncated, removed or
 *	replaced while in use. LMDB's own verdicts (MDB_CORRUPTED,
 *	MDB_PAGE_NOTFOUND, ...) count as damage too. A damaged handle answers
 *	CACHE_ERROR (handling.cache_error), logs why, and is reopened at most
 *	every few seconds; cache_on_damage tells its owner once per damage.
 *	With CACHE_RECOVER (the refresher, sendgatectl cache load and refresh)
 *	a write to a damaged cache moves data.mdb aside to
 *	data.mdb.damaged-<UTC time>, starts a new environment, logs it, and
 *	writes there. With CACHE_RETRY cache_open returns such a damaged
 *	handle instead of NULL when the cache cannot be opened (missing,
 *	damaged), so a daemon starts and answers handling.cache_error.
 *
 *	Lost data is not "no domains": every successful refresh writes its
 *	provider's meta record (last_success) in the transaction with the
 *	data. A process tells cache_set_required which providers it has
 *	enabled; a lookup of outbound or inbound data answers CACHE_ERROR
 *	while one of them has no such record in the snapshot (never filled,
 *	or the data file was lost), and says so in the log. cache_peek_* are
 *	the same lookups without that check, for the refresher (carrying a
 *	domain's previous settings over) and for inspection (cache get).
 *
 * ERROR RECOVERY (cache/lmdbenv.h, after Postfix's slmdb)
 *	MDB_MAP_FULL: the write transaction is aborted, the map doubled (up to
 *	general.cache_max_map_size) and the whole write redone; at the maximum
 *	the write fails (CACHE_ERROR, logged) and the data before it stays.
 *	MDB_MAP_RESIZED: another process grew the map; adopt the new size
 *	(mdb_env_set_mapsize(env, 0)) and retry.
 *	MDB_READERS_FULL: clear slots of dead processes (mdb_reader_check)
 *	and retry; stale slots are also cleared at open. At most
 *	LMDBENV_RETRIES attempts in all.
 *	Resizing needs no transaction active in this process; an rwlock makes
 *	lookups (shared) and resizes (exclusive) exclusive of each other.
 */
#ifndef SG_CACHE_H
#define SG_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/record.h"

typedef struct cache cache;

enum cache_mode { CACHE_RDONLY, CACHE_RDWR };

enum cache_rc {
    CACHE_OK = 0,
    CACHE_NOTFOUND = 1,
    CACHE_CORRUPT = 2, /* undecodable value: treated as missing, logged */
    CACHE_ERROR = 3,   /* LMDB failed; the reason is logged */
};

/* cache_opts.flags */
#define CACHE_RETRY   0x1u /* cannot be opened: a damaged handle, not NULL (daemons) */
#define CACHE_RECOVER 0x2u /* a writer that moves a damaged data.mdb aside and starts afresh */

typedef struct cache_opts {
    size_t map_size;
    size_t max_map_size;
    unsigned max_readers;
    unsigned flags; /* CACHE_RETRY, CACHE_RECOVER */
} cache_opts;

struct conf;
cache_opts cache_opts_from_conf(const struct conf *cfg, unsigned flags);

cache *cache_open(const char *path, enum cache_mode mode, const cache_opts *o, char *err,
                  size_t errlen);
void cache_close(cache *c);
const char *cache_path(const cache *c);

int cache_get_outbound(cache *c, const char *domain, cache_outbound *out);
int cache_get_inbound(cache *c, const char *domain, cache_inbound *out);
int cache_peek_outbound(cache *c, const char *domain, cache_outbound *out);
int cache_peek_inbound(cache *c, const char *domain, cache_inbound *out);
int cache_get_meta(cache *c, int provider, cache_meta *m);
int cache_get_raw(cache *c, const char *db, const void *key, size_t klen, void *val, size_t *vlen);

int cache_replace_provider(cache *c, int provider, const cache_out_item *out, size_t n_out,
                           const cache_in_item *in, size_t n_in, const cache_meta *meta);
int cache_put_meta(cache *c, int provider, const cache_meta *m);
int cache_upsert_outbound(cache *c, const char *domain, const cache_out_entry *e);
int cache_delete_outbound(cache *c, const char *domain, int provider);
int cache_upsert_inbound(cache *c, const char *domain, const cache_in_entry *e);
int cache_delete_inbound(cache *c, const char *domain, int provider);
int cache_put_raw(cache *c, const char *db, const void *key, size_t klen, const void *val,
                  size_t vlen);
int cache_del_raw(cache *c, const char *db, const void *key, size_t klen);

/* iteration (sendgatectl cache dump); rc says whether rec decoded */
typedef void (*cache_out_fn)(void *arg, const char *domain, const cache_outbound *rec, int rc);
typedef void (*cache_in_fn)(void *arg, const char *domain, const cache_inbound *rec, int rc);
typedef void (*cache_raw_fn)(void *arg, const void *key, size_t klen, const void *val, size_t vlen);
int cache_foreach_outbound(cache *c, cache_out_fn fn, void *arg);
int cache_foreach_inbound(cache *c, cache_in_fn fn, void *arg);
int cache_foreach_raw(cache *c, const char *db, cache_raw_fn fn, void *arg);

size_t cache_map_size(cache *c);

/* damage and lost data (see DAMAGE above) */
void cache_set_required(cache *c, unsigned providers); /* bits 1u << PROV_x */
int cache_filled(cache *c, unsigned *providers);
int cache_health(cache *c, char *why, size_t len);
void cache_on_damage(cache *c, void (*fn)(void *), void *arg);

#endif
