/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * txn.c - the cache's transactions: lookups, writes, iterations (see cache.h)
 *
 * Every transaction runs inside a SIGBUS guard (cache/envcheck.h): a page
 * of data.mdb that vanished under a reader or a writer becomes a damaged
 * cache (cache_fault), never a dead process. Reads renew this thread's
 * handle; writes stat the file before they begin and before they commit.
 * Lookups of outbound and inbound data also check that the snapshot holds
 * a successful refresh of every required provider (cache_fill_state).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_int.h"
#include "cache/codec.h"
#include "lib/log.h"

/* ---- read transactions ---- */

/* cache_reader_exit - a thread that used the cache ends: release its read handle */
void cache_reader_exit(void *arg)
{
    cache_reader *r = arg;
    cache *c = r->c;

    /* shared: a reopen (exclusive) either saw this handle in the list or runs after */
    pthread_rwlock_rdlock(&c->e.resize);
    pthread_mutex_lock(&c->readers_mu);
    if (r->prev)
        r->prev->next = r->next;
    else
        c->readers = r->next;
    if (r->next)
        r->next->prev = r->prev;
    pthread_mutex_unlock(&c->readers_mu);
    if (r->txn)
        mdb_txn_abort(r->txn);
    pthread_rwlock_unlock(&c->e.resize);
    free(r);
}

/* cache_reader_get - this thread's read handle, made on its first lookup (NULL: none) */
static cache_reader *cache_reader_get(cache *c)
{
    cache_reader *r;

    if (!c->reader_key_ok)
        return NULL;
    if ((r = pthread_getspecific(c->reader_key)) != NULL)
        return r;
    if ((r = calloc(1, sizeof(*r))) == NULL)
        return NULL;
    r->c = c;
    if (pthread_setspecific(c->reader_key, r) != 0) {
        free(r);
        return NULL;
    }
    pthread_mutex_lock(&c->readers_mu);
    r->next = c->readers;
    if (r->next)
        r->next->prev = r;
    c->readers = r;
    pthread_mutex_unlock(&c->readers_mu);
    return r;
}

/*
 * cache_rtxn_get - this thread's read transaction, renewed (or, without a
 * per-thread handle, a new one); the caller holds the resize lock shared
 */
static int cache_rtxn_get(cache *c, cache_txn *t)
{
    cache_reader *r = cache_reader_get(c);
    MDB_txn *txn;
    int rc;

    if (r == NULL) {
        if ((rc = mdb_txn_begin(c->e.env, NULL, MDB_RDONLY, &txn)) == 0)
            t->txn = txn;
        return rc;
    }
    t->mine = true;
    if (r->txn == NULL)
        rc = mdb_txn_begin(c->e.env, NULL, MDB_RDONLY, &r->txn);
    else if ((rc = mdb_txn_renew(r->txn)) != 0 && rc != MDB_MAP_RESIZED) {
        mdb_txn_abort(r->txn); /* MAP_RESIZED leaves it reset and renewable; others: anew */
        r->txn = NULL;
    }
    if (rc == 0)
        t->txn = r->txn;
    return rc;
}

/* cache_txn_end - reset this thread's handle or abort a one-off; unlock */
static void cache_txn_end(cache *c, cache_txn *t)
{
    if (t->cur)
        mdb_cursor_close(t->cur);
    t->cur = NULL;
    if (t->txn && t->mine)
        mdb_txn_reset(t->txn);
    else if (t->txn)
        mdb_txn_abort(t->txn);
    t->txn = NULL;
    if (t->locked)
        pthread_rwlock_unlock(&c->e.resize);
    t->locked = false;
}

/*
 * cache_fault - after a SIGBUS inside a transaction: LMDB read a page that
 * is no longer in data.mdb. The transaction is dropped (this thread's
 * handle too: it may have faulted half-renewed), the lock released, and
 * the cache marked damaged. The guard was already popped by the handler.
 */
static int cache_fault(cache *c, cache_txn *t)
{
    cache_reader *r = c->reader_key_ok ? pthread_getspecific(c->reader_key) : NULL;

    if (t->cur)
        mdb_cursor_close(t->cur);
    if (t->txn && !t->mine) {
        mdb_txn_abort(t->txn); /* a one-off read, or a write: the abort releases its lock */
    } else if (t->mine && r && r->txn) {
        mdb_txn_abort(r->txn); /* perhaps half-renewed */
        r->txn = NULL;
    }
    if (t->locked)
        pthread_rwlock_unlock(&c->e.resize);
    cache_damaged(c, true,
                  "a page of data.mdb vanished while it was %s (SIGBUS): the file was "
                  "truncated while in use",
                  t->write ? "written" : "read");
    return CACHE_ERROR;
}

/*
 * cache_lock_sound - the resize lock shared (t->locked) on an environment
 * still sound, true; or false with the lock let go: the environment was
 * damaged meanwhile, or (*again) its file was replaced or cut, damage now
 * noted, so that a next attempt reopens it. force: check the file now
 * (writers), not at most once a second (cache_env_watch_check). Inline:
 * it is on the read path of every lookup.
 */
__attribute__((always_inline)) static inline bool cache_lock_sound(cache *c, cache_txn *t,
                                                                   bool force, bool *again)
{
    char why[CACHE_ENV_WHY_MAX];

    *again = false;
    pthread_rwlock_rdlock(&c->e.resize);
    t->locked = true;
    if (c->e.env == NULL || atomic_load(&c->damaged)) { /* damaged meanwhile */
        cache_txn_end(c, t);
        return false;
    }
    if (!cache_env_watch_check(&c->e.watch, force, why, sizeof(why))) {
        cache_txn_end(c, t);
        cache_damaged(c, false, "%s", why);
        *again = true;
        return false;
    }
    return true;
}

/*
 * cache_rbegin - the resize lock shared and a read transaction on a sound
 * environment; 0, or CACHE_ERROR after logging why. own: this thread's
 * handle (lookups) rather than a one-off transaction (iterations).
 */
static int cache_rbegin(cache *c, cache_txn *t, bool own)
{
    bool again;
    int rc = 0;
    MDB_txn *txn;

    for (int attempt = 0; attempt < CACHE_RETRIES; attempt++) {
        if (!cache_usable(c, false))
            return CACHE_ERROR;
        if (!cache_lock_sound(c, t, false, &again)) {
            if (again) /* replaced by a recovering writer: the next attempt reopens */
                continue;
            return CACHE_ERROR;
        }
        if (own)
            rc = cache_rtxn_get(c, t);
        else if ((rc = mdb_txn_begin(c->e.env, NULL, MDB_RDONLY, &txn)) == 0)
            t->txn = txn;
        if (rc == 0)
            return 0;
        cache_txn_end(c, t);
        if (!lmdbenv_retry(&c->e, rc)) /* MDB_MAP_RESIZED, MDB_READERS_FULL */
            break;
    }
    if (rc != 0) /* else the damage that used up the attempts was logged */
        cache_lmdb_failed(c, "begin read", rc);
    return CACHE_ERROR;
}

/*
 * cache_fill_state - providers whose last refresh succeeded, in txn's snapshot.
 * Every successful refresh writes its provider's meta record (last_success)
 * in the transaction that writes its data, so a provider without one has
 * never filled this cache, or the file that held its data was lost. Read
 * once per committed transaction, then remembered with its txnid.
 */
static unsigned cache_fill_state(cache *c, MDB_txn *txn)
{
    uint64_t id = mdb_txn_id(txn), cur = atomic_load_explicit(&c->filled, memory_order_relaxed);
    unsigned mask = 0;

    if ((cur & FILLED_VALID) && cur >> 8 == id)
        return (unsigned)(cur & 0x7f);
    for (int p = 0; p < PROV__COUNT; p++) {
        const char *name = cache_provider_name(p);
        MDB_val k = {strlen(name), (void *)name}, v;
        cache_meta m;
        if (mdb_get(txn, c->dbi[DB_META], &k, &v) == 0 &&
            codec_decode_meta(v.mv_data, v.mv_size, &m, NULL, 0) && m.last_success > 0)
            mask |= 1u << p;
    }
    atomic_store_explicit(&c->filled, id << 8 | FILLED_VALID | mask, memory_order_relaxed);
    return mask;
}

/* cache_unfilled - lookups are refused: say which providers are missing (rate-limited) */
static void cache_unfilled(cache *c, unsigned missing)
{
    char names[64];
    time_t now = time(NULL);

    pthread_mutex_lock(&c->note_mu);
    if (missing != c->unfilled_last || now - c->unfilled_logged >= LOG_SECONDS) {
        c->unfilled_last = missing;
        c->unfilled_logged = now;
        log_err("cache %s has no data from %s (never refreshed into this cache, or lost with a "
                "damaged data file): handling.cache_error applies until a refresh succeeds",
                c->e.path, cache_providers_text(missing, names, sizeof(names)));
    }
    pthread_mutex_unlock(&c->note_mu);
}

/* cache_read_body - cache_read inside its guard */
static int cache_read_body(cache *c, cache_txn *t, int db, bool raw, const void *key, size_t klen,
                           cache_val_fn fn, void *arg)
{
    MDB_val k = {klen, (void *)key}, v;
    unsigned missing = 0;
    int rc, lmdb_rc = 0;

    if (cache_rbegin(c, t, true) != 0)
        return CACHE_ERROR;
    if (!raw && (db == DB_OUTBOUND || db == DB_INBOUND) && atomic_load(&c->required))
        missing = atomic_load(&c->required) & ~cache_fill_state(c, t->txn);
    if (missing) {
        cache_txn_end(c, t);
        cache_unfilled(c, missing);
        return CACHE_ERROR;
    }
    rc = mdb_get(t->txn, c->dbi[db], &k, &v);
    if (rc == 0)
        rc = fn(arg, &v);
    else if (rc == MDB_NOTFOUND)
        rc = CACHE_NOTFOUND;
    else {
        lmdb_rc = rc;
        rc = CACHE_ERROR;
    }
    cache_txn_end(c, t);
    if (lmdb_rc) {
        char what[64];
        snprintf(what, sizeof(what), "read %s", cache_db_names[db]);
        cache_lmdb_failed(c, what, lmdb_rc);
    }
    return rc;
}

/* cache_read - look key up in db and hand the value to fn inside the transaction */
int cache_read(cache *c, int db, bool raw, const void *key, size_t klen, cache_val_fn fn, void *arg)
{
    cache_txn t;

    if (klen == 0 || klen > CACHE_KEY_MAX) /* nothing can be stored under such a key */
        return CACHE_NOTFOUND;
    cache_txn_init(&t, false);
    cache_env_guard_push(&t.g);
    if (sigsetjmp(t.g.jb, 0) != 0)
        return cache_fault(c, &t);
    t.rc = cache_read_body(c, &t, db, raw, key, klen, fn, arg);
    cache_env_guard_pop(&t.g);
    return t.rc;
}

/* ---- write transactions ---- */

/* cache_write_body - cache_write inside its guard */
static int cache_write_body(cache *c, cache_txn *t, cache_write_fn fn, void *arg)
{
    char why[CACHE_ENV_WHY_MAX];
    bool recover = c->opts.flags & CACHE_RECOVER, again;
    MDB_txn *txn;
    int rc = 0;

    for (int attempt = 0; attempt < CACHE_RETRIES; attempt++) {
        rc = NOT_USABLE;
        if (!cache_usable(c, true))
            return NOT_USABLE;
        /* shared, so another thread's adopt or grow waits for this transaction; and a
         * stat before every write: mdb_txn_begin must not fault with the writer lock held */
        if (!cache_lock_sound(c, t, true, &again))
            continue;
        if ((rc = mdb_txn_begin(c->e.env, NULL, 0, &txn)) == 0) {
            t->txn = txn;
            rc = fn(c, txn, arg);
            /*
             * and before the commit: the pages are written then, and written
             * into a file cut meanwhile they would make it whole again around
             * holes where the tree's other pages were
             */
            if (rc == 0 && !cache_env_watch_check(&c->e.watch, true, why, sizeof(why))) {
                mdb_txn_abort(txn);
                t->txn = NULL;
                cache_txn_end(c, t);
                cache_damaged(c, false, "%s", why);
                continue;
            }
            if (rc == 0)
                rc = mdb_txn_commit(txn);
            else
                mdb_txn_abort(txn);
            t->txn = NULL;
        }
        /* the size this commit gave the file: shorter than that is damage from now on */
        if (rc == 0 && !cache_env_watch_check(&c->e.watch, true, why, sizeof(why))) {
            cache_txn_end(c, t);
            cache_damaged(c, false, "%s", why);
            return 0; /* committed; the damage shows at the next call */
        }
        cache_txn_end(c, t);
        if (lmdbenv_retry(&c->e, rc)) /* adopted or grown the map (lmdbenv.h) */
            continue;
        if (cache_env_lmdb_damage(rc)) {
            cache_lmdb_failed(c, "write", rc);
            if (recover)
                continue; /* the next attempt moves the file aside and writes afresh */
            return NOT_USABLE;
        }
        break;
    }
    return rc;
}

/*
 * cache_write - run fn in a write transaction; grow and redo on MDB_MAP_FULL.
 * A SIGBUS inside it (the file cut between the stat and the write) aborts
 * the transaction; what fn had allocated is lost (a rare path, not worth
 * threading a cleanup through every write). A recovering writer then
 * tries once more, which moves the damaged file aside.
 */
int cache_write(cache *c, cache_write_fn fn, void *arg)
{
    cache_txn t;
    volatile int round = 0;

    if (c->rdonly) {
        log_err("cache %s: opened read-only, cannot write", c->e.path);
        return CACHE_ERROR;
    }
again:
    cache_txn_init(&t, true);
    cache_env_guard_push(&t.g);
    if (sigsetjmp(t.g.jb, 0) != 0) {
        cache_fault(c, &t);
        if ((c->opts.flags & CACHE_RECOVER) && round++ == 0)
            goto again;
        return CACHE_ERROR;
    }
    t.rc = cache_write_body(c, &t, fn, arg);
    cache_env_guard_pop(&t.g);
    if (t.rc == 0)
        return CACHE_OK;
    if (t.rc != WRITE_FAILED && t.rc != NOT_USABLE)
        log_err("cache %s: write: %s", c->e.path, mdb_strerror(t.rc));
    return CACHE_ERROR;
}

/* ---- iteration ---- */

/* cache_iterate_body - cache_iterate inside its guard */
static int cache_iterate_body(cache *c, cache_txn *t, int db, cache_iter_fn fn, void *arg)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;

    if (cache_rbegin(c, t, false) != 0)
        return CACHE_ERROR;
    if ((rc = mdb_cursor_open(t->txn, c->dbi[db], &cur)) == 0) {
        t->cur = cur;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
            fn(arg, &k, &v);
    }
    cache_txn_end(c, t);
    if (rc == MDB_NOTFOUND || rc == 0)
        return CACHE_OK;
    char what[64];
    snprintf(what, sizeof(what), "iterate %s", cache_db_names[db]);
    cache_lmdb_failed(c, what, rc);
    return CACHE_ERROR;
}

/*
 * cache_iterate - walk a database in one read snapshot. The callback runs
 * inside the snapshot with the resize lock held shared: it may look things
 * up but must not write to this cache (a write that grows the map would
 * wait for this very lock).
 */
int cache_iterate(cache *c, int db, cache_iter_fn fn, void *arg)
{
    cache_txn t;

    cache_txn_init(&t, false);
    cache_env_guard_push(&t.g);
    if (sigsetjmp(t.g.jb, 0) != 0)
        return cache_fault(c, &t);
    t.rc = cache_iterate_body(c, &t, db, fn, arg);
    cache_env_guard_pop(&t.g);
    return t.rc;
}

/* cache_filled_body - cache_filled inside its guard */
static int cache_filled_body(cache *c, cache_txn *t, unsigned *providers)
{
    if (cache_rbegin(c, t, true) != 0)
        return CACHE_ERROR;
    *providers = cache_fill_state(c, t->txn);
    cache_txn_end(c, t);
    return CACHE_OK;
}

/* cache_filled - the providers whose refresh succeeded into this cache (see cache.h) */
int cache_filled(cache *c, unsigned *providers)
{
    cache_txn t;

    *providers = 0;
    cache_txn_init(&t, false);
    cache_env_guard_push(&t.g);
    if (sigsetjmp(t.g.jb, 0) != 0)
        return cache_fault(c, &t);
    t.rc = cache_filled_body(c, &t, providers);
    cache_env_guard_pop(&t.g);
    return t.rc;
}
