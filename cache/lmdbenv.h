/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lmdbenv.h - one LMDB environment: opening, the map, retries, damage
 *
 * SYNOPSIS
 *	lmdbenv_opts o = {.map_size = ..., .max_map_size = ..., .max_readers = ...,
 *	                  .max_dbs = n, .flags = MDB_NOTLS, .note = fn, .note_arg = arg};
 *	lmdbenv e;
 *	lmdbenv_init(&e, path, rdonly, &o);
 *	if (!lmdbenv_start(&e, names, dbi, n, recover, content_damage, &fail))
 *	    ...fail.stage says where it failed, fail.rc and fail.why why
 *
 *	for (attempt = 0; attempt < LMDBENV_RETRIES; attempt++) {
 *	    pthread_rwlock_rdlock(&e.resize);   (threads that share e)
 *	    rc = ...a transaction on e.env...;
 *	    pthread_rwlock_unlock(&e.resize);
 *	    if (rc == 0 || !lmdbenv_retry(&e, rc))
 *	        break;
 *	}
 *	lmdbenv_map_size(&e);
 *	lmdbenv_stop(&e);  lmdbenv_destroy(&e);
 *
 * DESCRIPTION
 *	What every LMDB environment of sendgate shares (the provider cache,
 *	cache/cache.c, and trackd's statistics, cache/trackstats.c), after
 *	Postfix's slmdb. Its owner keeps its own policy: the words it logs,
 *	when a damaged environment is reopened, what its transactions do.
 *
 *	lmdbenv_start: a writer creates the directory; the files are checked
 *	before LMDB maps them (cache/envcheck.h); with recover, a damaged
 *	data.mdb, or a sound-looking one in which LMDB found damage
 *	(content_damage, its description), is moved aside and a new
 *	environment started; a damaged file is never mapped. Then the
 *	environment with max_readers reader slots (0: LMDB's 126), max_dbs
 *	named databases and map_size (0: the size the file has), the reader
 *	slots of dead processes cleared, the named databases opened (a writer
 *	creates them) inside a SIGBUS guard, and the watch armed: the file
 *	replaced or cut while in use (cache_env_watch_check on e.watch).
 *	The failure report is structured, not a sentence: each owner says
 *	it in the words its operators know (lmdbenv_fail).
 *
 * ERROR RECOVERY (one rule for every environment)
 *	MDB_MAP_FULL: the map doubles, clamped at max_map_size; a map already
 *	at max_map_size is not grown, and MDB_MAP_FULL stands: the write
 *	fails as its owner reports a failed write, and the data before it
 *	stays. MDB_MAP_RESIZED: another process grew the map; adopt its size
 *	(mdb_env_set_mapsize(env, 0)). MDB_READERS_FULL: clear the slots of
 *	dead processes (mdb_reader_check). lmdbenv_retry does the one that
 *	applies, after the failed transaction was aborted, and says whether
 *	it is worth redoing; an owner redoes it at most LMDBENV_RETRIES times.
 *
 *	Resizing needs no transaction active in this process. Threads that
 *	share an environment hold e.resize shared around every transaction;
 *	lmdbenv_retry resizes with it held exclusive, and so must an owner
 *	that stops or restarts the environment while other threads use it. A
 *	handle only one thread ever uses needs no lock.
 *
 *	What happened is told to the owner (opts.note) to log in its own
 *	words: the map grown, full at its maximum, a resize LMDB refused;
 *	reader slots of dead processes cleared at start; a damaged file
 *	moved aside.
 */
#ifndef SG_CACHE_LMDBENV_H
#define SG_CACHE_LMDBENV_H

#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "cache/envcheck.h"

#define LMDBENV_RETRIES 8 /* attempts at one transaction (lmdbenv_retry) */

enum lmdbenv_event {
    LMDBENV_GROWN,        /* the map grew from -> to */
    LMDBENV_FULL,         /* full at its maximum (from): MDB_MAP_FULL stands */
    LMDBENV_GROW_REFUSED, /* mdb_env_set_mapsize(to) failed with rc */
    LMDBENV_READERS_GONE, /* n reader slots of dead processes cleared (at start) */
    LMDBENV_MOVED_ASIDE,  /* data.mdb was damaged (damage) and moved to moved */
};

typedef struct lmdbenv_note {
    int event;
    int rc;
    size_t from, to;
    int n;
    const char *damage, *moved;
} lmdbenv_note;

typedef void (*lmdbenv_note_fn)(void *arg, const lmdbenv_note *n);

typedef struct lmdbenv_opts {
    size_t map_size;     /* at start; 0: the size the file has */
    size_t max_map_size; /* the map never grows beyond this */
    unsigned max_readers;
    unsigned max_dbs;
    unsigned flags; /* mdb_env_open flags besides MDB_RDONLY (MDB_NOTLS, MDB_NOSYNC) */
    lmdbenv_note_fn note;
    void *note_arg;
} lmdbenv_opts;

/* where lmdbenv_start failed */
enum lmdbenv_stage {
    LMDBENV_AT_MKDIR, /* a writer cannot create the directory: rc (errno) */
    LMDBENV_AT_ASIDE, /* damaged (damage) and cannot be moved aside (why) */
    LMDBENV_AT_CHECK, /* damaged, and not to be recovered: why */
    LMDBENV_AT_OPEN,  /* mdb_env_*: rc (ENOENT: no environment there yet) */
    LMDBENV_AT_DBS,   /* the named databases: rc (MDB_NOTFOUND: never created) */
    LMDBENV_AT_WATCH, /* the file cannot be followed: why */
};

typedef struct lmdbenv_fail {
    int stage;
    int rc;
    bool fault; /* LMDBENV_AT_DBS: a SIGBUS (rc MDB_CORRUPTED): a page vanished */
    char damage[CACHE_ENV_WHY_MAX];
    char why[CACHE_ENV_WHY_MAX];
} lmdbenv_fail;

typedef struct lmdbenv {
    MDB_env *env; /* NULL while stopped */
    bool rdonly;
    lmdbenv_opts opts;
    cache_env_watch watch;   /* data.mdb as opened: not replaced, not shorter */
    pthread_rwlock_t resize; /* shared: a transaction is active; exclusive: resizing */
    char path[PATH_MAX];
} lmdbenv;

void lmdbenv_init(lmdbenv *e, const char *path, bool rdonly, const lmdbenv_opts *o);
bool lmdbenv_start(lmdbenv *e, const char *const *names, MDB_dbi *dbi, int n, bool recover,
                   const char *content_damage, lmdbenv_fail *f);
void lmdbenv_stop(lmdbenv *e);
void lmdbenv_destroy(lmdbenv *e);

size_t lmdbenv_map_size(lmdbenv *e);
bool lmdbenv_retry(lmdbenv *e, int rc);

#endif
