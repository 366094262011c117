/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * envcheck.h - may an LMDB environment be mapped? (the provider cache, trackd's statistics)
 *
 * SYNOPSIS
 *	cache_env_report r;
 *	if (cache_env_check(dir, &r) == CACHE_ENV_DAMAGED)   never mdb_env_open it; r.why says why
 *	cache_env_set_aside(dir, moved, sizeof(moved), why, sizeof(why));   a writer that recovers
 *
 *	cache_env_watch w;                       after mdb_env_open, one per environment
 *	cache_env_watch_init(&w, dir, &r, why, sizeof(why));
 *	cache_env_watch_check(&w, force, why, sizeof(why))   same file, not shorter? (stats)
 *	cache_env_watch_close(&w);
 *
 *	cache_env_guard g;                       around every LMDB call that may touch the map
 *	cache_env_guard_push(&g);
 *	if (sigsetjmp(g.jb, 0) != 0) { ...SIGBUS: the file ended under us (g already popped)... }
 *	...mdb_get, memcpy out of the map...
 *	cache_env_guard_pop(&g);
 *
 * DESCRIPTION
 *	LMDB maps data.mdb and trusts it: a page beyond the end of the file
 *	is a SIGBUS in whatever thread reads it, and LMDB silently turns a
 *	zero-length data.mdb into a new, empty environment. Every LMDB
 *	environment (the provider cache and trackd's statistics, both opened
 *	by cache/lmdbenv.c) is therefore checked before mdb_env_open, and its
 *	reads are guarded after it.
 *
 *	cache_env_check reads the file with pread, never through a map. It
 *	refuses: a path that is not a directory; data.mdb or lock.mdb that is
 *	not a regular file (a directory, a FIFO) or is a symbolic link (LMDB
 *	would follow it, and create its target); a zero-length data.mdb (the
 *	data is lost, not "no data yet"); a file shorter than its two meta
 *	pages; meta pages without LMDB's magic and data version, with an
 *	impossible page size, last page or root page; and a file that ends
 *	before a page the newest meta page's trees reach. The last test first
 *	compares the file size with the newest meta page's last used page; as
 *	LMDB says, a sound file may be shorter than that when the final pages
 *	are free, so only when it is shorter are the trees walked (branch,
 *	leaf and overflow pages, named databases) to find a page that is
 *	really missing. An absent data.mdb is CACHE_ENV_ABSENT: a new
 *	environment, which only a writer creates.
 *
 *	The watch notices what happens to the file after it was opened: the
 *	same inode must still be at dir/data.mdb (not removed, not replaced
 *	by a recovering writer) and it must not have shrunk (LMDB never
 *	shrinks its file; something truncated it). Two stats per call; a
 *	caller that dropped its privileges keeps the size check.
 *
 *	The guard closes the remaining window: a file truncated between two
 *	checks. See cache_env_guard_push in envcheck.c for why a SIGBUS
 *	handler and not a stat before every read transaction.
 *
 *	cache_env_lmdb_damage says which LMDB return codes mean a damaged
 *	environment (MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_INVALID, ...).
 */
#ifndef SG_CACHE_ENVCHECK_H
#define SG_CACHE_ENVCHECK_H

#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CACHE_ENV_WHY_MAX 400

enum cache_env_state {
    CACHE_ENV_SOUND = 0,   /* LMDB may map it */
    CACHE_ENV_ABSENT = 1,  /* no data.mdb yet: a new environment (a writer creates it) */
    CACHE_ENV_DAMAGED = 2, /* never map it; why says what is wrong */
};

typedef struct cache_env_report {
    int state;
    bool empty;       /* data.mdb has zero length: its data is lost */
    uint64_t size;    /* bytes in data.mdb */
    unsigned psize;   /* page size of the environment */
    uint64_t last_pg; /* last used page of the newest meta page */
    uint64_t txnid;   /* transaction of the newest meta page */
    dev_t dev;        /* data.mdb as checked */
    ino_t ino;
    char why[CACHE_ENV_WHY_MAX];
} cache_env_report;

typedef struct cache_env_watch {
    int dirfd; /* the environment's directory (O_PATH): immune to chdir and renames */
    int fd;    /* data.mdb as opened (-1 before cache_env_watch_init, like dirfd) */
    dev_t dev;
    ino_t ino;
    _Atomic uint64_t seen;     /* the largest size of data.mdb observed */
    _Atomic int64_t next_ms;   /* coarse clock: no periodic check before this */
    _Atomic uint64_t last_log; /* rate limit of the caller's complaints (free for its use) */
} cache_env_watch;

typedef struct cache_env_guard {
    sigjmp_buf jb;
    struct cache_env_guard *prev;
} cache_env_guard;

int cache_env_check(const char *dir, cache_env_report *r);
bool cache_env_set_aside(const char *dir, char *moved, size_t movedlen, char *why, size_t whylen);

bool cache_env_watch_init(cache_env_watch *w, const char *dir, const cache_env_report *r, char *why,
                          size_t len);
bool cache_env_watch_check(cache_env_watch *w, bool force, char *why, size_t len);
void cache_env_watch_close(cache_env_watch *w);

void cache_env_guard_push(cache_env_guard *g);
void cache_env_guard_pop(cache_env_guard *g);

bool cache_env_lmdb_damage(int rc);

#endif
