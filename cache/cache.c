/*
 * cache.c - the LMDB environment of the provider cache (see cache.h for the contract)
 *
 * Data flow: cache_open checks the files (cache/envcheck.c) and opens the
 * environment; every lookup, write and iteration runs in a transaction
 * begun by txn.c (cache_read, cache_write, cache_iterate), inside a SIGBUS
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
#include "cache/envcheck.h"
#include "lib/log.h"

const char *const cache_db_names[DB__COUNT] = {"outbound", "inbound", "meta", "suppress",
                                               "revoked"};

#define RETRY_SECONDS 5 /* a damaged or missing cache is reopened at most this often */

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
void cache_damaged(cache *c, bool content, const char *fmt, ...)
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
void cache_lmdb_failed(cache *c, const char *what, int rc)
{
    if (cache_env_lmdb_damage(rc))
        cache_damaged(c, true, "%s: %s (LMDB found damaged data)", what, mdb_strerror(rc));
    else
        log_err("cache %s: %s: %s", c->path, what, mdb_strerror(rc));
}

/* ---- opening ---- */

/* cache_txn_init - nothing begun, nothing locked */
void cache_txn_init(cache_txn *t, bool write)
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
    c->watch.dirfd = c->watch.fd = -1;
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
bool cache_usable(cache *c, bool write)
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
void cache_adopt_size(cache *c)
{
    pthread_rwlock_wrlock(&c->resize);
    cache_set_mapsize(c, 0);
    pthread_rwlock_unlock(&c->resize);
}

/* cache_grow - double the map after MDB_MAP_FULL; false at the configured maximum */
bool cache_grow(cache *c)
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

/* ---- state for operators ---- */

/* cache_set_required - lookups of domains need data from these providers (1u << PROV_x) */
void cache_set_required(cache *c, unsigned providers)
{
    atomic_store(&c->required, providers & ((1u << PROV__COUNT) - 1));
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
