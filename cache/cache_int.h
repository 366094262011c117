/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cache_int.h - the inside of the cache module
 *
 * cache.c owns the environment (on cache/lmdbenv.c, which opens, checks,
 * grows and rebuilds it): when it is reopened, what is wrong with it, in
 * the cache's words. txn.c runs the read, write and iteration
 * transactions on it, with their retries and the SIGBUS guard. store.c
 * encodes, decodes and merges the records inside those transactions.
 * Nothing outside cache/ includes this header.
 */
#ifndef SG_CACHE_INT_H
#define SG_CACHE_INT_H

#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "cache/cache.h"
#include "cache/lmdbenv.h"

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

/* ---- the environment handle (cache.c), shared with the transactions (txn.c) ---- */

#define CACHE_RETRIES LMDBENV_RETRIES
#define LOG_SECONDS   60    /* the same complaint is logged at most this often */
#define FILLED_VALID  0x80u /* in cache.filled: the mask below is that of txnid filled >> 8 */
#define NOT_USABLE    (-2)  /* a write found the environment damaged (already logged) */

/*
 * A thread's read transaction handle. Each thread that looks something up
 * gets one (MDB_NOTLS ties the reader slot to the handle, not the thread),
 * renews it for every lookup and resets it before returning, so a lookup
 * takes no lock shared with other readers but the resize rwlock. It is
 * aborted when the thread exits (the key's destructor), at a reopen, or at
 * cache_close.
 */
typedef struct cache_reader {
    MDB_txn *txn; /* NULL until the first lookup; reset between lookups */
    struct cache *c;
    struct cache_reader *prev, *next;
} cache_reader;

struct cache {
    lmdbenv e; /* e.env NULL while damaged and closed; e.resize: shared while a txn is
                  active, exclusive while resizing or reopening */
    MDB_dbi dbi[DB__COUNT];
    bool rdonly;
    cache_opts opts;
    pthread_key_t reader_key;
    bool reader_key_ok;
    pthread_mutex_t readers_mu; /* guards the list of every thread's reader */
    cache_reader *readers;
    atomic_bool damaged;        /* every call answers CACHE_ERROR until a reopen succeeds */
    _Atomic long long next_try; /* no reopen before this (time(NULL)) */
    atomic_uint required;       /* providers lookups need data from (cache_set_required) */
    _Atomic uint64_t filled;    /* fill state of the last snapshot: txnid << 8 | VALID | mask */
    pthread_mutex_t note_mu;    /* guards what follows */
    bool content_damage;        /* LMDB found it, not the file check: a recovering writer moves
                                   the file aside even when the check passes it */
    char why[CACHE_ENV_WHY_MAX];
    time_t why_logged, unfilled_logged;
    unsigned unfilled_last;
    void (*on_damage)(void *);
    void *on_damage_arg;
};

/* one transaction in progress; volatile: still right after a SIGBUS jump */
typedef struct cache_txn {
    cache_env_guard g;
    MDB_txn *volatile txn;
    MDB_cursor *volatile cur;
    volatile bool locked; /* the resize lock, shared */
    volatile bool mine;   /* txn is this thread's reader handle */
    volatile bool write;
    volatile int rc;
} cache_txn;

void cache_reader_exit(void *arg);
void cache_txn_init(cache_txn *t, bool write);
void cache_damaged(cache *c, bool content, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void cache_lmdb_failed(cache *c, const char *what, int rc);
bool cache_usable(cache *c, bool write);

#endif
