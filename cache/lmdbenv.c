/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lmdbenv.c - one LMDB environment: opening, the map, retries, damage (see lmdbenv.h)
 *
 * Data flow: lmdbenv_start checks the files (cache/envcheck.c), moves a
 * damaged data.mdb aside for a recovering writer, opens the environment
 * and its named databases and arms the watch; the owner's transactions
 * run on e->env and hand what LMDB refused to lmdbenv_retry, which
 * adopts, grows or clears, under the resize lock, and says whether to
 * redo the transaction. Every call that lets LMDB look into the map runs
 * inside a SIGBUS guard.
 */
#include "cache/lmdbenv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* the opening in progress; volatile: still right after a SIGBUS jump */
typedef struct lmdbenv_op {
    cache_env_guard g;
    MDB_txn *volatile txn;
    volatile int stage;
    volatile bool ok;
} lmdbenv_op;

/* lmdbenv_tell - tell the owner what happened (its words, its log) */
static void lmdbenv_tell(lmdbenv *e, const lmdbenv_note *n)
{
    if (e->opts.note)
        e->opts.note(e->opts.note_arg, n);
}

/* lmdbenv_failed - record where and why lmdbenv_start failed; false */
static bool lmdbenv_failed(lmdbenv_fail *f, int stage, int rc, const char *why)
{
    f->stage = stage;
    f->rc = rc;
    if (why)
        snprintf(f->why, sizeof(f->why), "%s", why);
    return false;
}

/* lmdbenv_init - a stopped environment at path (a directory) */
void lmdbenv_init(lmdbenv *e, const char *path, bool rdonly, const lmdbenv_opts *o)
{
    memset(e, 0, sizeof(*e));
    e->rdonly = rdonly;
    e->opts = *o;
    e->watch.dirfd = e->watch.fd = -1;
    snprintf(e->path, sizeof(e->path), "%s", path);
    pthread_rwlock_init(&e->resize, NULL);
}

/* lmdbenv_set_aside - a recovering writer keeps the damaged data.mdb aside and starts afresh */
static bool lmdbenv_set_aside(lmdbenv *e, const char *damage, lmdbenv_fail *f)
{
    char moved[PATH_MAX + 64];
    lmdbenv_note n = {LMDBENV_MOVED_ASIDE, 0, 0, 0, 0, damage, moved};

    if (!cache_env_set_aside(e->path, moved, sizeof(moved), f->why, sizeof(f->why))) {
        snprintf(f->damage, sizeof(f->damage), "%s", damage);
        return lmdbenv_failed(f, LMDBENV_AT_ASIDE, 0, NULL);
    }
    lmdbenv_tell(e, &n);
    return true;
}

/* lmdbenv_dbs - open (a writer: create) the named databases, once, in one transaction */
static int lmdbenv_dbs(lmdbenv *e, lmdbenv_op *op, const char *const *names, MDB_dbi *dbi, int n)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(e->env, NULL, e->rdonly ? MDB_RDONLY : 0, &txn);

    if (rc)
        return rc;
    op->txn = txn;
    for (int i = 0; i < n && rc == 0; i++)
        rc = mdb_dbi_open(txn, names[i], e->rdonly ? 0 : MDB_CREATE, &dbi[i]);
    if (rc)
        mdb_txn_abort(txn);
    else
        rc = mdb_txn_commit(txn);
    op->txn = NULL;
    return rc;
}

/* lmdbenv_open - mdb_env_open and the named databases; the files were checked */
static bool lmdbenv_open(lmdbenv *e, lmdbenv_op *op, const char *const *names, MDB_dbi *dbi, int n,
                         lmdbenv_fail *f)
{
    unsigned flags = e->opts.flags | (e->rdonly ? MDB_RDONLY : 0);
    lmdbenv_note gone = {LMDBENV_READERS_GONE, 0, 0, 0, 0, NULL, NULL};
    int rc;

    if ((rc = mdb_env_create(&e->env)) != 0) {
        e->env = NULL;
        return lmdbenv_failed(f, LMDBENV_AT_OPEN, rc, NULL);
    }
    if ((e->opts.max_readers && (rc = mdb_env_set_maxreaders(e->env, e->opts.max_readers))) ||
        (rc = mdb_env_set_maxdbs(e->env, e->opts.max_dbs)) ||
        (e->opts.map_size && (rc = mdb_env_set_mapsize(e->env, e->opts.map_size))) ||
        (rc = mdb_env_open(e->env, e->path, flags, 0660)))
        return lmdbenv_failed(f, LMDBENV_AT_OPEN, rc, NULL);
    mdb_reader_check(e->env, &gone.n);
    if (gone.n > 0)
        lmdbenv_tell(e, &gone);
    op->stage = LMDBENV_AT_DBS;
    if ((rc = lmdbenv_dbs(e, op, names, dbi, n)) != 0)
        return lmdbenv_failed(f, LMDBENV_AT_DBS, rc, NULL);
    return true;
}

/*
 * lmdbenv_open_guarded - lmdbenv_open inside a SIGBUS guard: opening a
 * writer and the first transaction read the map, and a page the check
 * passed may be cut away meanwhile
 */
static bool lmdbenv_open_guarded(lmdbenv *e, const char *const *names, MDB_dbi *dbi, int n,
                                 lmdbenv_fail *f)
{
    lmdbenv_op op;

    op.txn = NULL;
    op.stage = LMDBENV_AT_OPEN;
    cache_env_guard_push(&op.g);
    if (sigsetjmp(op.g.jb, 0) != 0) {
        if (op.txn)
            mdb_txn_abort(op.txn);
        f->fault = true;
        return lmdbenv_failed(f, op.stage, MDB_CORRUPTED, NULL);
    }
    op.ok = lmdbenv_open(e, &op, names, dbi, n, f);
    cache_env_guard_pop(&op.g);
    return op.ok;
}

/*
 * lmdbenv_start - check the files, move a damaged data.mdb aside (a
 * recovering writer), open the environment and its n named databases
 * into dbi; false: f says where and why, and the environment is stopped
 */
bool lmdbenv_start(lmdbenv *e, const char *const *names, MDB_dbi *dbi, int n, bool recover,
                   const char *content_damage, lmdbenv_fail *f)
{
    cache_env_report r;

    memset(f, 0, sizeof(*f));
    recover = recover && !e->rdonly;
    if (!e->rdonly && mkdir(e->path, 0750) < 0 && errno != EEXIST)
        return lmdbenv_failed(f, LMDBENV_AT_MKDIR, errno, NULL);
    cache_env_check(e->path, &r);
    if (recover &&
        (r.state == CACHE_ENV_DAMAGED || (content_damage && r.state == CACHE_ENV_SOUND))) {
        if (!lmdbenv_set_aside(e, r.state == CACHE_ENV_DAMAGED ? r.why : content_damage, f))
            return false;
        cache_env_check(e->path, &r);
    }
    if (r.state == CACHE_ENV_DAMAGED)
        return lmdbenv_failed(f, LMDBENV_AT_CHECK, 0, r.why);
    if (!lmdbenv_open_guarded(e, names, dbi, n, f)) {
        lmdbenv_stop(e);
        return false;
    }
    /* after the databases: a new environment has grown, and shorter is damage from now on */
    if (!cache_env_watch_init(&e->watch, e->path, &r, f->why, sizeof(f->why))) {
        lmdbenv_stop(e);
        return lmdbenv_failed(f, LMDBENV_AT_WATCH, 0, NULL);
    }
    return true;
}

/* lmdbenv_stop - close the environment (no transaction may be active) */
void lmdbenv_stop(lmdbenv *e)
{
    cache_env_watch_close(&e->watch);
    if (e->env)
        mdb_env_close(e->env);
    e->env = NULL;
}

/* lmdbenv_destroy - stop, and free the lock */
void lmdbenv_destroy(lmdbenv *e)
{
    lmdbenv_stop(e);
    pthread_rwlock_destroy(&e->resize);
}

/* ---- the map ---- */

/* lmdbenv_size - the map size (mdb_env_info reads the meta pages: guarded); 0: none */
static size_t lmdbenv_size(lmdbenv *e)
{
    cache_env_guard g;
    MDB_envinfo info;
    volatile size_t size = 0;

    cache_env_guard_push(&g);
    if (sigsetjmp(g.jb, 0) != 0)
        return 0;
    if (e->env && mdb_env_info(e->env, &info) == 0)
        size = info.me_mapsize;
    cache_env_guard_pop(&g);
    return size;
}

/* lmdbenv_set_size - mdb_env_set_mapsize, guarded; the resize lock held exclusive */
static int lmdbenv_set_size(lmdbenv *e, size_t size)
{
    cache_env_guard g;
    volatile int rc = EINVAL;

    cache_env_guard_push(&g);
    if (sigsetjmp(g.jb, 0) != 0)
        return MDB_CORRUPTED;
    if (e->env)
        rc = mdb_env_set_mapsize(e->env, size);
    cache_env_guard_pop(&g);
    return rc;
}

/* lmdbenv_map_size - the current map size (0 while stopped) */
size_t lmdbenv_map_size(lmdbenv *e)
{
    size_t size;

    pthread_rwlock_rdlock(&e->resize);
    size = lmdbenv_size(e);
    pthread_rwlock_unlock(&e->resize);
    return size;
}

/*
 * lmdbenv_grow - after MDB_MAP_FULL: double the map, clamped at
 * max_map_size. False at the maximum: a map that cannot grow must fail
 * the write (MDB_MAP_FULL stands), not redo it for ever.
 */
static bool lmdbenv_grow(lmdbenv *e)
{
    lmdbenv_note n = {LMDBENV_GROWN, 0, 0, 0, 0, NULL, NULL};
    size_t max = e->opts.max_map_size;

    pthread_rwlock_wrlock(&e->resize);
    n.from = lmdbenv_size(e);
    if (n.from >= max) {
        n.event = LMDBENV_FULL;
    } else if (n.from == 0) {
        n.event = LMDBENV_GROW_REFUSED;
        n.rc = e->env ? MDB_CORRUPTED : EINVAL;
    } else {
        n.to = n.from > max / 2 ? max : n.from * 2;
        if ((n.rc = lmdbenv_set_size(e, n.to)) != 0)
            n.event = LMDBENV_GROW_REFUSED;
    }
    pthread_rwlock_unlock(&e->resize);
    lmdbenv_tell(e, &n);
    return n.event == LMDBENV_GROWN;
}

/*
 * lmdbenv_retry - what LMDB refused a transaction for (rc) fixed when it
 * can be; true: redo the transaction. The caller aborted it and holds no
 * resize lock.
 */
bool lmdbenv_retry(lmdbenv *e, int rc)
{
    int dead;

    switch (rc) {
    case MDB_MAP_RESIZED: /* another process grew the map: take its size */
        pthread_rwlock_wrlock(&e->resize);
        lmdbenv_set_size(e, 0);
        pthread_rwlock_unlock(&e->resize);
        return true;
    case MDB_MAP_FULL:
        return lmdbenv_grow(e);
    case MDB_READERS_FULL: /* slots left by processes that died, perhaps */
        pthread_rwlock_rdlock(&e->resize);
        if (e->env)
            mdb_reader_check(e->env, &dead);
        pthread_rwlock_unlock(&e->resize);
        return true;
    default:
        return false;
    }
}
