/*
 * cache_int.h - what cache.c (the LMDB environment) gives store.c (the records)
 *
 * cache.c owns the environment: opening, checking and reopening it, the
 * read, write and iteration transactions with their retries and the SIGBUS
 * guard. store.c encodes, decodes and merges the records inside those
 * transactions. Nothing outside cache/ includes this header.
 */
#ifndef SG_CACHE_INT_H
#define SG_CACHE_INT_H

#include <lmdb.h>

#include "cache/cache.h"

enum { DB_OUTBOUND, DB_INBOUND, DB_META, DB_SUPPRESS, DB_REVOKED, DB__COUNT };

#define CACHE_KEY_MAX 511  /* LMDB's default maximum key size (mdb_env_get_maxkeysize) */
#define WRITE_FAILED  (-1) /* a write step failed for a reason it already logged */

extern const char *const cache_db_names[DB__COUNT];

/* a value found by cache_read, handed over inside the transaction */
typedef int (*cache_val_fn)(void *arg, const MDB_val *v);
/* the work of one write transaction: 0, an LMDB code, or WRITE_FAILED */
typedef int (*cache_write_fn)(cache *c, MDB_txn *txn, void *arg);
/* every key and value of a database, in one read snapshot */
typedef void (*cache_iter_fn)(void *arg, const MDB_val *k, const MDB_val *v);

int cache_db_index(const char *name);
MDB_dbi cache_dbi(const cache *c, int db);
/* raw: whatever cache_set_required says (the refresher, inspection); else lookups of
 * outbound and inbound data answer CACHE_ERROR while a required provider's data is missing */
int cache_read(cache *c, int db, bool raw, const void *key, size_t klen, cache_val_fn fn,
               void *arg);
int cache_write(cache *c, cache_write_fn fn, void *arg);
int cache_iterate(cache *c, int db, cache_iter_fn fn, void *arg);

#endif
