/*
 * cache.c - the LMDB environment of the provider cache (see cache.h for the contract)
 *
 * Data flow: cache_open checks the files (cache/envcheck.c) and opens the
 * environment; every lookup, write and iteration runs in a transaction
 * begun here (cache_read, cache_write, cache_iterate), inside a SIGBUS
 * guard; store.c does the record work inside them. A damaged environment
 * is never used again: the handle is marked damaged, every call answers
 * CACHE_ERROR, and the environment is reopened (readers) or moved aside
 * and rebuilt (a writer opened with CACHE_RECOVER) when it can be.
 */
#include "cache/cache.h"

#include <errno.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cache/cache_int.h"
#include "cache/codec.h"
#include "cache/envcheck.h"
#include "lib/log.h"

const char *const cache_db_names[DB__COUNT] = {"outbound", "inbound", "meta", "suppress",
                                               "revoked"};

#define CACHE_RETRIES 8
#define RETRY_SECONDS 5     /* a damaged or missing cache is reopened at most this often */
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
    MDB_env *env; /* NULL while damaged and closed */
    MDB_dbi dbi[DB__COUNT];
    bool rdonly;
    cache_opts opts;
    cache_env_watch watch;   /* data.mdb as opened: not replaced, not shorter */
    pthread_rwlock_t resize; /* shared: a txn is active; exclusive: resizing or reopening */
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
    char path[PATH_MAX];
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

static void cache_reader_exit(void *arg);

/* cache_db_index - named database by name, -1 if unknown */
int cache_db_index(const char *name)
{
    for (int i = 0; i < DB__COUNT; i++)
        if (strcmp(cache_db_names[i], name) == 0)
            return i;
    return -1;
}

MDB_dbi cache_dbi(const cache *c, int db)
{
    return c->dbi[db];
}

const char *cache_path(const cache *c)
{
    return c->path;
}

/* ---- damage ---- */

/* cache_note - what is wrong now; logged when it changes, else once a minute */
static void cache_note(cache *c, bool content, const char *why)
{
    time_t now = time(NULL);

    pthread_mutex_lock(&c->note_mu);
    c->content_damage |= content;
    if (strcmp(c->why, why) != 0 || now - c->why_logged >= LOG_SECONDS) {
        snprintf(c->why, sizeof(c->why), "%s", why);
        c->why_logged = now;
        log_err("cache %s: %s; handling.cache_error applies until it %s", c->path, why,
                c->opts.flags & CACHE_RECOVER
                        ? "is rebuilt (by the next refresh)"
                        : "can be opened sound (sendgate-policyd rebuilds a damaged cache)");
    }
    pthread_mutex_unlock(&c->note_mu);
}

/* cache_damaged - stop using the environment; tell the owner (cache_on_damage) once */
static void cache_damaged(cache *c, bool content, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void cache_damaged(cache *c, bool content, const char *fmt, ...)
{
    char why[CACHE_ENV_WHY_MAX];
    va_list ap;
    bool first;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    atomic_store(&c->next_try, (long long)time(NULL)); /* replaced: reopen at the next call */
    first = !atomic_exchange(&c->damaged, true);
    cache_note(c, content, why);
    if (first && c->on_damage)
        c->on_damage(c->on_damage_arg);
}

/* cache_lmdb_failed - an LMDB error: damage when LMDB says so, else an ordinary failure */
static void cache_lmdb_failed(cache *c, const char *what, int rc)
{
    if (cache_env_lmdb_damage(rc))
        cache_damaged(c, true, "%s: %s (LMDB found damaged data)", what, mdb_strerror(rc));
    else
        log_err("cache %s: %s: %s", c->path, what, mdb_strerror(rc));
}

/* ---- opening ---- */

/* cache_txn_init - nothing begun, nothing locked */
static void cache_txn_init(cache_txn *t, bool write)
{
    t->txn = NULL;
    t->cur = NULL;
    t->locked = false;
    t->mine = false;
    t->write = write;
    t->rc = 0;
}

/* cache_open_dbis - open (or create) every named database once, before threads */
static int cache_open_dbis(cache *c)
{
    cache_txn t;
    MDB_txn *txn;

    cache_txn_init(&t, !c->rdonly);
    cache_env_guard_push(&t.g);
    if (sigsetjmp(t.g.jb, 0) != 0) {
        if (t.txn)
            mdb_txn_abort(t.txn);
        return MDB_CORRUPTED;
    }
    if ((t.rc = mdb_txn_begin(c->env, NULL, c->rdonly ? MDB_RDONLY : 0, &txn)) == 0) {
        t.txn = txn;
        for (int i = 0; i < DB__COUNT && t.rc == 0; i++)
            t.rc = mdb_dbi_open(txn, cache_db_names[i], c->rdonly ? 0 : MDB_CREATE, &c->dbi[i]);
        if (t.rc)
            mdb_txn_abort(txn);
        else
            t.rc = mdb_txn_commit(txn);
    }
    cache_env_guard_pop(&t.g);
    return t.rc;
}

/* cache_recover - a writer's answer to a damaged data.mdb: keep it aside, start afresh */
static bool cache_recover(cache *c, const char *damage, char *err, size_t errlen)
{
    char moved[PATH_MAX + 64], why[CACHE_ENV_WHY_MAX];

    if (!cache_env_set_aside(c->path, moved, sizeof(moved), why, sizeof(why))) {
        snprintf(err, errlen, "cache %s is damaged (%s) and %s", c->path, damage, why);
        return false;
    }
    log_err("cache %s is damaged (%s): moved it to %s and started a new, empty cache; "
            "handling.cache_error applies until every enabled provider has refreshed it "
            "(the unsubscriptions and revocations it held stay in the moved file)",
            c->path, damage, moved);
    pthread_mutex_lock(&c->note_mu);
    c->content_damage = false;
    pthread_mutex_unlock(&c->note_mu);
    return true;
}

/* cache_env_open - mdb_env_open and the databases; the files were checked */
static bool cache_env_open(cache *c, const cache_env_report *r, char *err, size_t errlen)
{
    unsigned flags = MDB_NOTLS | (c->rdonly ? MDB_RDONLY : 0);
    char why[CACHE_ENV_WHY_MAX];
    int rc, dead = 0;

    if ((rc = mdb_env_create(&c->env)) ||
        (rc = mdb_env_set_maxreaders(c->env, c->opts.max_readers)) ||
        (rc = mdb_env_set_maxdbs(c->env, DB__COUNT + 2)) ||
        (rc = mdb_env_set_mapsize(c->env, c->opts.map_size)) ||
        (rc = mdb_env_open(c->env, c->path, flags, 0660))) {
        snprintf(err, errlen, "open cache %s: %s%s", c->path, mdb_strerror(rc),
                 c->rdonly && rc == ENOENT ? " (not created yet: run sendgate-policyd or "
                                             "'sendgatectl cache load')"
                                           : "");
        return false;
    }
    mdb_reader_check(c->env, &dead);
    if (dead)
        log_notice("cache %s: cleared %d reader slot(s) left by dead processes", c->path, dead);
    if ((rc = cache_open_dbis(c))) {
        snprintf(err, errlen, "open cache databases in %s: %s", c->path,
                 rc == MDB_NOTFOUND ? "not initialised (no writer has opened it yet)"
                                    : mdb_strerror(rc));
        return false;
    }
    /* after the databases: a new environment has grown, and shorter is damage from now on */
    if (!cache_env_watch_init(&c->watch, c->path, r, why, sizeof(why))) {
        snprintf(err, errlen, "open cache %s: %s", c->path, why);
        return false;
    }
    return true;
}

/* cache_env_stop - abort every thread's handle, close the environment (no txn active) */
static void cache_env_stop(cache *c)
{
    pthread_mutex_lock(&c->readers_mu);
    for (cache_reader *r = c->readers; r; r = r->next)
        if (r->txn) {
            mdb_txn_abort(r->txn);
            r->txn = NULL;
        }
    pthread_mutex_unlock(&c->readers_mu);
    cache_env_watch_close(&c->watch);
    if (c->env)
        mdb_env_close(c->env);
    c->env = NULL;
}

/*
 * cache_env_start - check the files, move a damaged data.mdb aside when
 * recovering, open. Only at open or with the resize lock held exclusive.
 */
static bool cache_env_start(cache *c, bool recover, char *err, size_t errlen)
{
    cache_env_report r;
    bool content;

    if (!c->rdonly && mkdir(c->path, 0750) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "create cache directory %s: %s", c->path, strerror(errno));
        return false;
    }
    pthread_mutex_lock(&c->note_mu);
    content = c->content_damage;
    pthread_mutex_unlock(&c->note_mu);
    cache_env_check(c->path, &r);
    if (recover && (r.state == CACHE_ENV_DAMAGED || (content && r.state == CACHE_ENV_SOUND))) {
        if (!cache_recover(c, r.state == CACHE_ENV_DAMAGED ? r.why : c->why, err, errlen))
            return false;
        cache_env_check(c->path, &r);
    }
    if (r.state == CACHE_ENV_DAMAGED) {
        snprintf(err, errlen, "cache %s is damaged: %s", c->path, r.why);
        return false;
    }
    atomic_store(&c->filled, 0);
    if (cache_env_open(c, &r, err, errlen))
        return true;
    cache_env_stop(c);
    return false;
}

/* cache_open - open the environment at path (a directory); see cache.h for the flags */
cache *cache_open(const char *path, enum cache_mode mode, const cache_opts *o, char *err,
                  size_t errlen)
{
    cache *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->rdonly = mode == CACHE_RDONLY;
    c->opts = *o;
    if (c->rdonly)
        c->opts.flags &= ~CACHE_RECOVER;
    c->watch.dirfd = -1;
    snprintf(c->path, sizeof(c->path), "%s", path);
    pthread_rwlock_init(&c->resize, NULL);
    pthread_mutex_init(&c->readers_mu, NULL);
    pthread_mutex_init(&c->note_mu, NULL);
    c->reader_key_ok = pthread_key_create(&c->reader_key, cache_reader_exit) == 0;
    if (cache_env_start(c, c->opts.flags & CACHE_RECOVER, err, errlen))
        return c;
    if (c->opts.flags & CACHE_RETRY) { /* a handle that answers CACHE_ERROR and retries */
        atomic_store(&c->damaged, true);
        atomic_store(&c->next_try, (long long)time(NULL) + RETRY_SECONDS);
        pthread_mutex_lock(&c->note_mu);
        snprintf(c->why, sizeof(c->why), "%s", err);
        c->why_logged = time(NULL);
        pthread_mutex_unlock(&c->note_mu);
        return c;
    }
    cache_close(c);
    return NULL;
}

/*
 * cache_close - abort every thread's read transaction, close the environment.
 * No other thread may be inside a cache call; threads that used the cache
 * may still be running (their handles are released here, not at their exit).
 */
void cache_close(cache *c)
{
    if (c == NULL)
        return;
    if (c->reader_key_ok)
        pthread_key_delete(c->reader_key); /* no destructor runs for it any more */
    pthread_mutex_lock(&c->readers_mu);
    while (c->readers) {
        cache_reader *r = c->readers;
        c->readers = r->next;
        if (r->txn)
            mdb_txn_abort(r->txn);
        free(r);
    }
    pthread_mutex_unlock(&c->readers_mu);
    cache_env_stop(c);
    pthread_rwlock_destroy(&c->resize);
    pthread_mutex_destroy(&c->readers_mu);
    pthread_mutex_destroy(&c->note_mu);
    free(c);
}

/* cache_reopen - the damaged environment closed and opened again (recovered by a writer) */
static bool cache_reopen(cache *c, bool recover)
{
    char err[CACHE_ENV_WHY_MAX + 128];
    long long now = (long long)time(NULL);
    bool ok;

    pthread_rwlock_wrlock(&c->resize);
    if (!atomic_load(&c->damaged) || (!recover && now < atomic_load(&c->next_try))) {
        ok = !atomic_load(&c->damaged); /* another thread was quicker */
        pthread_rwlock_unlock(&c->resize);
        return ok;
    }
    atomic_store(&c->next_try, now + RETRY_SECONDS);
    cache_env_stop(c);
    ok = cache_env_start(c, recover, err, sizeof(err));
    if (ok) {
        atomic_store(&c->damaged, false);
        pthread_mutex_lock(&c->note_mu);
        c->why[0] = '\0';
        pthread_mutex_unlock(&c->note_mu);
        log_notice("cache %s: opened again, sound", c->path);
    }
    pthread_rwlock_unlock(&c->resize);
    if (!ok)
        cache_note(c, false, err);
    return ok;
}

/* cache_usable - not damaged, or reopened now; false: answer CACHE_ERROR */
static bool cache_usable(cache *c, bool write)
{
    bool recover = write && (c->opts.flags & CACHE_RECOVER);

    if (!atomic_load_explicit(&c->damaged, memory_order_acquire))
        return true;
    if (!recover && (long long)time(NULL) < atomic_load(&c->next_try))
        return false;
    return cache_reopen(c, recover);
}

/* cache_on_damage - fn(arg) runs once each time the cache is found damaged */
void cache_on_damage(cache *c, void (*fn)(void *), void *arg)
{
    c->on_damage = fn;
    c->on_damage_arg = arg;
}

/* ---- the map ---- */

/* cache_map_size - the current map size (0 when the cache is damaged) */
size_t cache_map_size(cache *c)
{
    cache_env_guard g;
    MDB_envinfo info;
    volatile size_t size = 0;

    pthread_rwlock_rdlock(&c->resize);
    cache_env_guard_push(&g);
    if (sigsetjmp(g.jb, 0) != 0) {
        pthread_rwlock_unlock(&c->resize);
        return 0;
    }
    if (c->env && !atomic_load(&c->damaged) && mdb_env_info(c->env, &info) == 0)
        size = info.me_mapsize;
    cache_env_guard_pop(&g);
    pthread_rwlock_unlock(&c->resize);
    return size;
}

/* cache_set_mapsize - mdb_env_set_mapsize (it reads the meta pages: guarded) */
static int cache_set_mapsize(cache *c, size_t size)
{
    cache_env_guard g;

    cache_env_guard_push(&g);
    if (sigsetjmp(g.jb, 0) != 0)
        return MDB_CORRUPTED;
    int rc = c->env ? mdb_env_set_mapsize(c->env, size) : EINVAL;
    cache_env_guard_pop(&g);
    return rc;
}

/* cache_adopt_size - another process grew the map: take its size (no txn may be active) */
static void cache_adopt_size(cache *c)
{
    pthread_rwlock_wrlock(&c->resize);
    cache_set_mapsize(c, 0);
    pthread_rwlock_unlock(&c->resize);
}

/* cache_grow - double the map after MDB_MAP_FULL; false at the configured maximum */
static bool cache_grow(cache *c)
{
    size_t cur = cache_map_size(c), next = cur * 2;
    int rc;

    if (cur >= c->opts.max_map_size) {
        log_err("cache %s: map full at its maximum size %zu (raise general.cache_max_map_size)",
                c->path, cur);
        return false;
    }
    if (next > c->opts.max_map_size)
        next = c->opts.max_map_size;
    pthread_rwlock_wrlock(&c->resize);
    rc = cache_set_mapsize(c, next);
    pthread_rwlock_unlock(&c->resize);
    if (rc) {
        log_err("cache %s: grow map to %zu: %s", c->path, next, mdb_strerror(rc));
        return false;
    }
    log_notice("cache %s: map grown from %zu to %zu bytes", c->path, cur, next);
    return true;
}

/* ---- read transactions ---- */

/* cache_reader_exit - a thread that used the cache ends: release its read handle */
static void cache_reader_exit(void *arg)
{
    cache_reader *r = arg;
    cache *c = r->c;

    /* shared: a reopen (exclusive) either saw this handle in the list or runs after */
    pthread_rwlock_rdlock(&c->resize);
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
    pthread_rwlock_unlock(&c->resize);
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
        if ((rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn)) == 0)
            t->txn = txn;
        return rc;
    }
    t->mine = true;
    if (r->txn == NULL)
        rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &r->txn);
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
        pthread_rwlock_unlock(&c->resize);
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
        pthread_rwlock_unlock(&c->resize);
    cache_damaged(c, true,
                  "a page of data.mdb vanished while it was %s (SIGBUS): the file was "
                  "truncated while in use",
                  t->write ? "written" : "read");
    return CACHE_ERROR;
}

/*
 * cache_rbegin - the resize lock shared and a read transaction on a sound
 * environment; 0, or CACHE_ERROR after logging why. own: this thread's
 * handle (lookups) rather than a one-off transaction (iterations).
 */
static int cache_rbegin(cache *c, cache_txn *t, bool own)
{
    char why[CACHE_ENV_WHY_MAX];
    int rc = 0, dead;
    MDB_txn *txn;

    for (int attempt = 0; attempt < CACHE_RETRIES; attempt++) {
        if (!cache_usable(c, false))
            return CACHE_ERROR;
        pthread_rwlock_rdlock(&c->resize);
        t->locked = true;
        if (c->env == NULL || atomic_load(&c->damaged)) { /* damaged meanwhile */
            cache_txn_end(c, t);
            return CACHE_ERROR;
        }
        if (!cache_env_watch_check(&c->watch, false, why, sizeof(why))) {
            cache_txn_end(c, t);
            cache_damaged(c, false, "%s", why);
            continue; /* replaced by a recovering writer: the next attempt reopens */
        }
        if (own)
            rc = cache_rtxn_get(c, t);
        else if ((rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn)) == 0)
            t->txn = txn;
        if (rc == 0)
            return 0;
        cache_txn_end(c, t);
        if (rc == MDB_MAP_RESIZED)
            cache_adopt_size(c);
        else if (rc == MDB_READERS_FULL)
            mdb_reader_check(c->env, &dead);
        else
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
        const char *name = cache_provider_name(p), *why;
        MDB_val k = {strlen(name), (void *)name}, v;
        cache_meta m;
        if (mdb_get(txn, c->dbi[DB_META], &k, &v) == 0 &&
            codec_decode_meta(v.mv_data, v.mv_size, &m, &why) && m.last_success > 0)
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
                c->path, cache_providers_text(missing, names, sizeof(names)));
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
    bool recover = c->opts.flags & CACHE_RECOVER;
    MDB_txn *txn;
    int rc = 0;

    for (int attempt = 0; attempt < CACHE_RETRIES; attempt++) {
        rc = NOT_USABLE;
        if (!cache_usable(c, true))
            return NOT_USABLE;
        /* shared, so another thread's adopt or grow waits for this transaction */
        pthread_rwlock_rdlock(&c->resize);
        t->locked = true;
        if (c->env == NULL || atomic_load(&c->damaged)) { /* damaged meanwhile */
            cache_txn_end(c, t);
            continue;
        }
        /* a stat before every write: mdb_txn_begin must not fault with the writer lock held */
        if (!cache_env_watch_check(&c->watch, true, why, sizeof(why))) {
            cache_txn_end(c, t);
            cache_damaged(c, false, "%s", why);
            continue;
        }
        if ((rc = mdb_txn_begin(c->env, NULL, 0, &txn)) == 0) {
            t->txn = txn;
            rc = fn(c, txn, arg);
            /*
             * and before the commit: the pages are written then, and written
             * into a file cut meanwhile they would make it whole again around
             * holes where the tree's other pages were
             */
            if (rc == 0 && !cache_env_watch_check(&c->watch, true, why, sizeof(why))) {
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
        if (rc == 0 && !cache_env_watch_check(&c->watch, true, why, sizeof(why))) {
            cache_txn_end(c, t);
            cache_damaged(c, false, "%s", why);
            return 0; /* committed; the damage shows at the next call */
        }
        cache_txn_end(c, t);
        if (rc == MDB_MAP_RESIZED) {
            cache_adopt_size(c);
            continue;
        }
        if (rc == MDB_MAP_FULL && cache_grow(c))
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
        log_err("cache %s: opened read-only, cannot write", c->path);
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
        log_err("cache %s: write: %s", c->path, mdb_strerror(t.rc));
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

/* ---- state for operators ---- */

/* cache_set_required - lookups of domains need data from these providers (1u << PROV_x) */
void cache_set_required(cache *c, unsigned providers)
{
    atomic_store(&c->required, providers & ((1u << PROV__COUNT) - 1));
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

/* cache_health - CACHE_OK, or CACHE_ERROR and why lookups answer handling.cache_error */
int cache_health(cache *c, char *why, size_t len)
{
    unsigned filled, missing;
    char names[64];

    if (cache_filled(c, &filled) != CACHE_OK) {
        pthread_mutex_lock(&c->note_mu);
        snprintf(why, len, "%s", *c->why ? c->why : "cannot be read (see the log)");
        pthread_mutex_unlock(&c->note_mu);
        return CACHE_ERROR;
    }
    if ((missing = atomic_load(&c->required) & ~filled) != 0) {
        snprintf(why, len,
                 "no data from %s: never refreshed into this cache, or lost with a damaged "
                 "data file",
                 cache_providers_text(missing, names, sizeof(names)));
        return CACHE_ERROR;
    }
    snprintf(why, len, "sound");
    return CACHE_OK;
}
