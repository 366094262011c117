/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cache.c - the LMDB environment of the provider cache (see cache.h for the contract)
 *
 * Data flow: cache_open starts the environment (cache/lmdbenv.c: the
 * files checked, then opened); every lookup, write and iteration runs in
 * a transaction begun by txn.c (cache_read, cache_write, cache_iterate),
 * inside a SIGBUS guard; store.c does the record work inside them. A
 * damaged environment is never used again: the handle is marked damaged,
 * every call answers CACHE_ERROR, and the environment is reopened
 * (readers) or moved aside and rebuilt (a writer opened with
 * CACHE_RECOVER) when it can be.
 */
#include "cache/cache.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache_int.h"
#include "lib/conf.h"
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
    return c->e.path;
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
        log_err("cache %s: %s; handling.cache_error applies until it %s", c->e.path, why,
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
        log_err("cache %s: %s: %s", c->e.path, what, mdb_strerror(rc));
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

/* cache_env_note - what the environment layer did, in the cache's words */
static void cache_env_note(void *arg, const lmdbenv_note *n)
{
    cache *c = arg;

    switch (n->event) {
    case LMDBENV_GROWN:
        log_notice("cache %s: map grown from %zu to %zu bytes", c->e.path, n->from, n->to);
        break;
    case LMDBENV_FULL:
        log_err("cache %s: map full at its maximum size %zu (raise general.cache_max_map_size)",
                c->e.path, n->from);
        break;
    case LMDBENV_GROW_REFUSED:
        log_err("cache %s: grow map to %zu: %s", c->e.path, n->to, mdb_strerror(n->rc));
        break;
    case LMDBENV_READERS_GONE:
        log_notice("cache %s: cleared %d reader slot(s) left by dead processes", c->e.path, n->n);
        break;
    case LMDBENV_MOVED_ASIDE: /* a writer's answer to a damaged data.mdb */
        log_err("cache %s is damaged (%s): moved it to %s and started a new, empty cache; "
                "handling.cache_error applies until every enabled provider has refreshed it "
                "(the unsubscriptions and revocations it held stay in the moved file)",
                c->e.path, n->damage, n->moved);
        pthread_mutex_lock(&c->note_mu);
        c->content_damage = false;
        pthread_mutex_unlock(&c->note_mu);
        break;
    }
}

/* cache_env_failed - why the environment could not be started, in the cache's words */
static void cache_env_failed(cache *c, const lmdbenv_fail *f, char *err, size_t errlen)
{
    const char *path = c->e.path;

    switch (f->stage) {
    case LMDBENV_AT_MKDIR:
        snprintf(err, errlen, "create cache directory %s: %s", path, strerror(f->rc));
        break;
    case LMDBENV_AT_ASIDE:
        snprintf(err, errlen, "cache %s is damaged (%s) and %s", path, f->damage, f->why);
        break;
    case LMDBENV_AT_CHECK:
        snprintf(err, errlen, "cache %s is damaged: %s", path, f->why);
        break;
    case LMDBENV_AT_OPEN:
        snprintf(err, errlen, "open cache %s: %s%s", path, mdb_strerror(f->rc),
                 c->rdonly && f->rc == ENOENT ? " (not created yet: run sendgate-policyd or "
                                                "'sendgatectl cache load')"
                                              : "");
        break;
    case LMDBENV_AT_DBS:
        snprintf(err, errlen, "open cache databases in %s: %s", path,
                 f->rc == MDB_NOTFOUND ? "not initialised (no writer has opened it yet)"
                                       : mdb_strerror(f->rc));
        break;
    default:
        snprintf(err, errlen, "open cache %s: %s", path, f->why);
        break;
    }
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
    lmdbenv_stop(&c->e);
}

/*
 * cache_env_start - check the files, move a damaged data.mdb aside when
 * recovering (also one LMDB found damaged that the check passes), open.
 * Only at open or with the resize lock held exclusive.
 */
static bool cache_env_start(cache *c, bool recover, char *err, size_t errlen)
{
    char content[CACHE_ENV_WHY_MAX];
    bool have;
    lmdbenv_fail f;

    pthread_mutex_lock(&c->note_mu);
    have = c->content_damage;
    snprintf(content, sizeof(content), "%s", c->why);
    pthread_mutex_unlock(&c->note_mu);
    atomic_store(&c->filled, 0);
    if (lmdbenv_start(&c->e, cache_db_names, c->dbi, DB__COUNT, recover, have ? content : NULL, &f))
        return true;
    cache_env_failed(c, &f, err, errlen);
    return false;
}

/* cache_opts_from_conf - the options [general] sets (cache_*), with flags (CACHE_RETRY, ...) */
cache_opts cache_opts_from_conf(const conf *cfg, unsigned flags)
{
    cache_opts o = {(size_t)cfg->general.cache_map_size, (size_t)cfg->general.cache_max_map_size,
                    (unsigned)cfg->general.cache_max_readers, flags};

    return o;
}

/* cache_open - open the environment at path (a directory); see cache.h for the flags */
cache *cache_open(const char *path, enum cache_mode mode, const cache_opts *o, char *err,
                  size_t errlen)
{
    cache *c = calloc(1, sizeof(*c));
    lmdbenv_opts eo = {.map_size = o->map_size,
                       .max_map_size = o->max_map_size,
                       .max_readers = o->max_readers,
                       .max_dbs = DB__COUNT + 2,
                       .flags = MDB_NOTLS, /* a reader slot per handle, not per thread */
                       .note = cache_env_note,
                       .note_arg = c};

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->rdonly = mode == CACHE_RDONLY;
    c->opts = *o;
    if (c->rdonly)
        c->opts.flags &= ~CACHE_RECOVER;
    lmdbenv_init(&c->e, path, c->rdonly, &eo);
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
    lmdbenv_destroy(&c->e);
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

    pthread_rwlock_wrlock(&c->e.resize);
    if (!atomic_load(&c->damaged) || (!recover && now < atomic_load(&c->next_try))) {
        ok = !atomic_load(&c->damaged); /* another thread was quicker */
        pthread_rwlock_unlock(&c->e.resize);
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
        log_notice("cache %s: opened again, sound", c->e.path);
    }
    pthread_rwlock_unlock(&c->e.resize);
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
    return atomic_load(&c->damaged) ? 0 : lmdbenv_map_size(&c->e);
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
