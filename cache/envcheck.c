/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * envcheck.c - may an LMDB environment be mapped? (see envcheck.h)
 *
 * The layout read here is LMDB 0.9's on-disk format (lmdb/mdb.c: MDB_page,
 * MDB_meta, MDB_db, MDB_node), native byte order, pgno_t and txnid_t the
 * size of size_t (no MDB_VL32). Only what is needed to tell a sound file
 * from a damaged one is decoded; everything is read with pread, so a
 * damaged file can make this code say "damaged" but never fault.
 */
#include "cache/envcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#define PSZ           sizeof(size_t) /* pgno_t, txnid_t, size_t and pointers in LMDB 0.9 */
#define PG_HDR        (PSZ + 8)      /* PAGEHDRSZ: pgno, pad, flags, lower and upper */
#define PG_FLAGS      (PSZ + 2)
#define PG_LOWER      (PSZ + 4)
#define PG_UPPER      (PSZ + 6)
#define PG_PAGES      (PSZ + 4) /* an overflow page: how many pages it spans */
#define DB_SZ         (8 + 5 * PSZ)
#define DB_DEPTH      6
#define DB_ROOT       (8 + 4 * PSZ)
#define M_MAGIC       0
#define M_VERSION     4
#define M_DBS         (8 + 2 * PSZ) /* free database, then the main database */
#define M_LAST        (M_DBS + 2 * DB_SZ)
#define M_TXNID       (M_LAST + PSZ)
#define M_END         (M_TXNID + PSZ)
#define NODE_HDR      8 /* MDB_node: lo, hi, flags, ksize (unsigned short each) */
#define MDB_MAGIC_    0xBEEFC0DEu
#define MDB_DATA_V    1u /* MDB_DATA_VERSION of LMDB 0.9 */
#define P_BRANCH_     0x01
#define P_LEAF_       0x02
#define P_OVERFL_     0x04
#define P_META_       0x08
#define P_LEAF2_      0x20
#define F_BIGDATA_    0x01
#define F_SUBDATA_    0x02
#define TREE_DEPTH    32 /* CURSOR_STACK */
#define TREE_NEST     3  /* main -> named database -> dupsort subtree */
#define MIN_PSIZE     512u
#define MAX_PSIZE     65536u
#define NO_PAGE       ((uint64_t)SIZE_MAX) /* P_INVALID: an empty tree */
#define WATCH_MS      1000                 /* the periodic check of a watch */
#define UNWRITTEN_MAX ((1u << 17) - 1)     /* MDB_IDL_UM_MAX: the dirty pages of one txn */

_Static_assert(sizeof(size_t) == sizeof(void *), "LMDB 0.9 layout: pgno_t is size_t");

static uint16_t rd16(const unsigned char *p)
{
    uint16_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static uint32_t rd32(const unsigned char *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static uint64_t rdsz(const unsigned char *p)
{
    size_t v;

    memcpy(&v, p, sizeof(v));
    return (uint64_t)v;
}

static int damaged(cache_env_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int damaged(cache_env_report *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->why, sizeof(r->why), fmt, ap);
    va_end(ap);
    r->state = CACHE_ENV_DAMAGED;
    return r->state;
}

/* ---- the meta pages ---- */

typedef struct env_meta {
    unsigned psize;
    uint64_t last_pg, txnid, root[2];
    unsigned depth[2];
} env_meta;

/* meta_read - meta page i (at offset off); false after filling r */
static bool meta_read(int fd, int i, uint64_t off, env_meta *m, cache_env_report *r)
{
    unsigned char b[PG_HDR + M_END];
    const unsigned char *p = b + PG_HDR;
    ssize_t n = pread(fd, b, sizeof(b), (off_t)off);

    if (n != (ssize_t)sizeof(b)) {
        damaged(r, "data.mdb is truncated: %llu bytes, shorter than its %s meta page",
                (unsigned long long)r->size, i ? "second" : "first");
        return false;
    }
    if (!(rd16(b + PG_FLAGS) & P_META_) || rd32(p + M_MAGIC) != MDB_MAGIC_) {
        damaged(r,
                "data.mdb is not an LMDB data file, or its meta page %d is damaged (no LMDB "
                "magic number)",
                i);
        return false;
    }
    if (rd32(p + M_VERSION) != MDB_DATA_V) {
        damaged(r, "data.mdb meta page %d has data format %u; this LMDB reads format %u", i,
                rd32(p + M_VERSION), MDB_DATA_V);
        return false;
    }
    m->psize = rd32(p + M_DBS); /* mm_psize is the free database's md_pad */
    m->last_pg = rdsz(p + M_LAST);
    m->txnid = rdsz(p + M_TXNID);
    for (int d = 0; d < 2; d++) {
        m->root[d] = rdsz(p + M_DBS + (size_t)d * DB_SZ + DB_ROOT);
        m->depth[d] = rd16(p + M_DBS + (size_t)d * DB_SZ + DB_DEPTH);
    }
    return true;
}

/* meta_sane - what LMDB trusts without checking: page size, last page, the roots */
static bool meta_sane(int i, const env_meta *m, cache_env_report *r)
{
    static const char *const tree[2] = {"free-page", "main"};

    if (m->psize < MIN_PSIZE || m->psize > MAX_PSIZE || (m->psize & (m->psize - 1))) {
        damaged(r, "data.mdb meta page %d: impossible page size %u", i, m->psize);
        return false;
    }
    if (m->last_pg < 1 || m->last_pg >= UINT64_MAX / m->psize - 1) {
        damaged(r, "data.mdb meta page %d: impossible last page %llu", i,
                (unsigned long long)m->last_pg);
        return false;
    }
    for (int d = 0; d < 2; d++)
        if ((m->root[d] != NO_PAGE && (m->root[d] < 2 || m->root[d] > m->last_pg)) ||
            m->depth[d] > TREE_DEPTH) {
            damaged(r,
                    "data.mdb meta page %d: the %s tree's root page %llu (depth %u) is not "
                    "among pages 2..%llu",
                    i, tree[d], (unsigned long long)m->root[d], m->depth[d],
                    (unsigned long long)m->last_pg);
            return false;
        }
    return true;
}

/* ---- the trees, walked only when the file is shorter than the last page says ---- */

typedef struct env_walk {
    int fd;
    unsigned psize;
    uint64_t size, last_pg, visits;
    const char *tree;
    cache_env_report *r;
} env_walk;

/* walk_range - pages [pgno, pgno + n) exist: inside 2..last_pg and inside the file */
static bool walk_range(env_walk *w, uint64_t pgno, uint64_t n)
{
    if (pgno < 2 || pgno > w->last_pg || n == 0 || n > w->last_pg - pgno + 1) {
        damaged(w->r, "data.mdb: the %s tree points to page %llu, outside pages 2..%llu", w->tree,
                (unsigned long long)pgno, (unsigned long long)w->last_pg);
        return false;
    }
    if ((pgno + n) * w->psize > w->size) {
        damaged(w->r,
                "data.mdb is truncated: %llu bytes, but page %llu of the %s tree ends at "
                "byte %llu",
                (unsigned long long)w->size, (unsigned long long)(pgno + n - 1), w->tree,
                (unsigned long long)((pgno + n) * w->psize));
        return false;
    }
    return true;
}

/* walk_read - page pgno into p, which must say it is page pgno */
static bool walk_read(env_walk *w, uint64_t pgno, unsigned char *p, size_t len)
{
    if (++w->visits > w->last_pg + 1) {
        damaged(w->r, "data.mdb: the %s tree loops", w->tree);
        return false;
    }
    if (pread(w->fd, p, len, (off_t)(pgno * w->psize)) != (ssize_t)len || rdsz(p) != pgno) {
        damaged(w->r, "data.mdb: page %llu of the %s tree is not that page (damaged data)",
                (unsigned long long)pgno, w->tree);
        return false;
    }
    return true;
}

/* walk_overflow - a value stored on its own pages: all of them inside the file */
static bool walk_overflow(env_walk *w, uint64_t pgno, uint64_t dsize)
{
    unsigned char hdr[PG_HDR];
    uint64_t pages;

    if (!walk_range(w, pgno, 1) || !walk_read(w, pgno, hdr, sizeof(hdr)))
        return false;
    pages = rd32(hdr + PG_PAGES);
    if (!(rd16(hdr + PG_FLAGS) & P_OVERFL_) || pages * w->psize < dsize + PG_HDR) {
        damaged(w->r, "data.mdb: overflow page %llu of the %s tree is damaged",
                (unsigned long long)pgno, w->tree);
        return false;
    }
    return walk_range(w, pgno, pages);
}

static bool walk_page(env_walk *w, uint64_t pgno, int depth, int nest);

/* walk_node - one node of a page: its child, its overflow pages or its subtree */
static bool walk_node(env_walk *w, const unsigned char *p, unsigned off, bool branch, int depth,
                      int nest)
{
    const unsigned char *n = p + off;
    uint64_t lo = rd16(n), hi = rd16(n + 2), dsize = lo | hi << 16;
    unsigned flags = rd16(n + 4), dp = off + NODE_HDR + rd16(n + 6);

    if (branch) /* the child's page number: lo, hi, and on 64-bit systems the flags word */
        return walk_page(w, dsize | (PSZ > 4 ? (uint64_t)flags << 32 : 0), depth + 1, nest);
    if (flags & F_BIGDATA_) {
        if (dp + PSZ > w->psize)
            goto bad;
        return walk_overflow(w, rdsz(p + dp), dsize);
    }
    if (flags & F_SUBDATA_) { /* a named database (or a dupsort subtree): its own tree */
        uint64_t root;
        if (dp + DB_SZ > w->psize)
            goto bad;
        root = rdsz(p + dp + DB_ROOT);
        return root == NO_PAGE || walk_page(w, root, 0, nest + 1);
    }
    if (dp + dsize <= w->psize)
        return true;
bad:
    damaged(w->r, "data.mdb: a node of the %s tree runs past the end of its page", w->tree);
    return false;
}

/* walk_page - a branch or leaf page and everything below it */
static bool walk_page(env_walk *w, uint64_t pgno, int depth, int nest)
{
    unsigned char *p;
    unsigned flags, lower, upper;
    bool ok = true;

    if (depth > TREE_DEPTH || nest > TREE_NEST) {
        damaged(w->r, "data.mdb: the %s tree is deeper than LMDB allows", w->tree);
        return false;
    }
    if (!walk_range(w, pgno, 1))
        return false;
    if ((p = malloc(w->psize)) == NULL)
        return true; /* out of memory: nothing proves the file damaged */
    if (!walk_read(w, pgno, p, w->psize)) {
        free(p);
        return false;
    }
    flags = rd16(p + PG_FLAGS);
    lower = rd16(p + PG_LOWER);
    upper = rd16(p + PG_UPPER);
    if (!(flags & (P_BRANCH_ | P_LEAF_)) || lower < PG_HDR || lower > upper || upper > w->psize ||
        (lower - PG_HDR) % 2) {
        damaged(w->r, "data.mdb: page %llu of the %s tree is neither a sound branch nor leaf page",
                (unsigned long long)pgno, w->tree);
        ok = false;
    }
    for (unsigned i = 0; ok && !(flags & P_LEAF2_) && i < (lower - PG_HDR) / 2; i++) {
        unsigned off = rd16(p + PG_HDR + 2 * i);
        if (off < upper || off + NODE_HDR > w->psize) {
            damaged(w->r, "data.mdb: page %llu of the %s tree has a node outside the page",
                    (unsigned long long)pgno, w->tree);
            ok = false;
        } else
            ok = walk_node(w, p, off, flags & P_BRANCH_, depth, nest);
    }
    free(p);
    return ok;
}

/* check_trees - every page the newest meta page's trees reach lies inside the file */
static bool check_trees(int fd, const env_meta *m, cache_env_report *r)
{
    static const char *const tree[2] = {"free-page", "main"};
    env_walk w = {fd, m->psize, r->size, m->last_pg, 0, NULL, r};

    for (int d = 0; d < 2; d++) {
        w.tree = tree[d];
        if (m->root[d] != NO_PAGE && !walk_page(&w, m->root[d], 0, 0))
            return false;
    }
    return true;
}

/* check_data - data.mdb itself, open as fd */
static int check_data(int fd, cache_env_report *r)
{
    env_meta m[2];
    const env_meta *newest;

    if (r->size == 0) {
        r->empty = true;
        return damaged(r, "data.mdb is empty (0 bytes): the cache has lost its data (truncated, "
                          "or written on a full disk)");
    }
    if (!meta_read(fd, 0, 0, &m[0], r) || !meta_sane(0, &m[0], r) ||
        !meta_read(fd, 1, m[0].psize, &m[1], r) || !meta_sane(1, &m[1], r))
        return r->state;
    if (m[1].psize != m[0].psize)
        return damaged(r, "data.mdb: its meta pages disagree on the page size (%u, %u)", m[0].psize,
                       m[1].psize);
    newest = &m[m[0].txnid < m[1].txnid]; /* as mdb_env_pick_meta */
    r->psize = newest->psize;
    r->last_pg = newest->last_pg;
    r->txnid = newest->txnid;
    /*
     * A sound file may end before the last page when the final pages are
     * free: pages a transaction dirtied and freed again are never written.
     * They are at most one transaction's dirty pages (LMDB's MDB_IDL_UM_MAX),
     * so a last page further out is a lie; closer, the trees are walked.
     */
    if ((newest->last_pg + 1) * newest->psize > r->size) {
        uint64_t missing = newest->last_pg + 1 - r->size / newest->psize;
        if (missing > UNWRITTEN_MAX)
            return damaged(r,
                           "data.mdb is truncated, or its meta page lies: %llu bytes, but "
                           "its last page is %llu (%llu pages further)",
                           (unsigned long long)r->size, (unsigned long long)newest->last_pg,
                           (unsigned long long)missing);
        if (!check_trees(fd, newest, r))
            return r->state;
    }
    return r->state = CACHE_ENV_SOUND;
}

/* check_entry - dir/name: absent, or a regular file (no link); 1 = present, 0 = absent */
static int check_entry(const char *dir, const char *name, struct stat *st, cache_env_report *r)
{
    char path[PATH_MAX + 16], target[256];
    ssize_t n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (lstat(path, st) < 0) {
        if (errno == ENOENT)
            return 0;
        damaged(r, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISLNK(st->st_mode)) {
        n = readlink(path, target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = '\0';
        damaged(r,
                "%s is a symbolic link (to %s): LMDB would follow it; sendgate needs the "
                "file itself there",
                name, target);
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        damaged(r, "%s is %s, not LMDB's %s file", name,
                S_ISDIR(st->st_mode) ? "a directory" : "not a regular file",
                strcmp(name, "data.mdb") == 0 ? "data" : "lock");
        return -1;
    }
    return 1;
}

/* cache_env_check - is dir an LMDB environment LMDB may map? (see envcheck.h) */
int cache_env_check(const char *dir, cache_env_report *r)
{
    char path[PATH_MAX + 16];
    struct stat st;
    int fd, have;

    memset(r, 0, sizeof(*r));
    if (stat(dir, &st) < 0) {
        if (errno == ENOENT) {
            snprintf(r->why, sizeof(r->why), "%s does not exist", dir);
            return r->state = CACHE_ENV_ABSENT;
        }
        return damaged(r, "%s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return damaged(r, "%s is not a directory (an LMDB environment is one)", dir);
    if (check_entry(dir, "lock.mdb", &st, r) < 0 ||
        (have = check_entry(dir, "data.mdb", &st, r)) < 0)
        return r->state;
    if (have == 0) {
        snprintf(r->why, sizeof(r->why), "%s/data.mdb does not exist yet", dir);
        return r->state = CACHE_ENV_ABSENT;
    }
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
        return damaged(r, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return damaged(r, "data.mdb is not a regular file");
    }
    r->size = (uint64_t)st.st_size;
    r->dev = st.st_dev;
    r->ino = st.st_ino;
    check_data(fd, r);
    close(fd);
    return r->state;
}

/*
 * cache_env_set_aside - move a damaged data.mdb out of the way, keeping it
 *
 * data.mdb becomes data.mdb.damaged-YYYYMMDDTHHMMSSZ (never replacing an
 * earlier one) for the operator to inspect or salvage; lock.mdb is removed,
 * so the new environment gets a lock file of its own: a process still
 * holding the old files keeps them together until it reopens (sharing one
 * lock file between two data files would mix their transactions).
 */
bool cache_env_set_aside(const char *dir, char *moved, size_t movedlen, char *why, size_t whylen)
{
    char from[PATH_MAX + 16], to[PATH_MAX + 64], stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    int rc = -1;

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(from, sizeof(from), "%s/data.mdb", dir);
    for (int i = 0; i < 100 && rc < 0; i++) {
        if (i == 0)
            snprintf(to, sizeof(to), "%s/data.mdb.damaged-%s", dir, stamp);
        else
            snprintf(to, sizeof(to), "%s/data.mdb.damaged-%s.%d", dir, stamp, i);
        rc = renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
        if (rc < 0 && errno != EEXIST)
            break;
    }
    if (rc < 0) {
        snprintf(why, whylen, "cannot move %s aside: %s", from, strerror(errno));
        return false;
    }
    snprintf(moved, movedlen, "%s", to);
    snprintf(from, sizeof(from), "%s/lock.mdb", dir);
    if (unlink(from) < 0 && errno != ENOENT) {
        snprintf(to, sizeof(to), "%s/lock.mdb.damaged-%s", dir, stamp);
        if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) < 0) {
            snprintf(why, whylen, "cannot remove %s: %s", from, strerror(errno));
            return false;
        }
    }
    return true;
}

/* ---- the watch ---- */

static int64_t coarse_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * cache_env_watch_init - follow dir/data.mdb from now on; r: what was
 * checked before opening. The watch keeps a descriptor of its own on the
 * file: a daemon that dropped its privileges may no longer look into the
 * directory, but can always fstat what it opened.
 */
bool cache_env_watch_init(cache_env_watch *w, const char *dir, const cache_env_report *r, char *why,
                          size_t len)
{
    struct stat st;

    w->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    w->fd = w->dirfd < 0 ? -1 : openat(w->dirfd, "data.mdb", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (w->fd < 0 || fstat(w->fd, &st) < 0) {
        snprintf(why, len, "%s/data.mdb: %s", dir, strerror(errno));
        cache_env_watch_close(w);
        return false;
    }
    if (r->state == CACHE_ENV_SOUND &&
        (st.st_dev != r->dev || st.st_ino != r->ino || (uint64_t)st.st_size < r->size)) {
        snprintf(why, len, "%s/data.mdb changed while it was being opened", dir);
        cache_env_watch_close(w);
        return false;
    }
    w->dev = st.st_dev;
    w->ino = st.st_ino;
    atomic_init(&w->seen, (uint64_t)st.st_size);
    atomic_init(&w->next_ms, coarse_ms() + WATCH_MS);
    atomic_init(&w->last_log, 0);
    return true;
}

/*
 * cache_env_watch_check - still the file that was opened, and no shorter?
 * Without force, at most once a second (a coarse clock read otherwise);
 * writers force it before every write transaction. The size comes from
 * the watch's own descriptor; the name is looked up too, to notice a
 * file moved aside or removed, unless the directory can no longer be
 * searched (privileges dropped).
 */
bool cache_env_watch_check(cache_env_watch *w, bool force, char *why, size_t len)
{
    int64_t now = coarse_ms();
    uint64_t seen;
    struct stat st, at;
    int rc;

    if (!force && now < atomic_load_explicit(&w->next_ms, memory_order_relaxed))
        return true;
    atomic_store_explicit(&w->next_ms, now + WATCH_MS, memory_order_relaxed);
    if (fstat(w->fd, &st) < 0) {
        snprintf(why, len, "data.mdb: %s", strerror(errno));
        return false;
    }
    rc = fstatat(w->dirfd, "data.mdb", &at, AT_SYMLINK_NOFOLLOW);
    if (rc == 0 && (at.st_dev != w->dev || at.st_ino != w->ino)) {
        snprintf(why, len, "data.mdb was replaced while in use (moved aside by a writer?)");
        return false;
    }
    if (st.st_nlink == 0 || (rc < 0 && errno == ENOENT)) {
        snprintf(why, len, "data.mdb was removed while in use");
        return false;
    }
    seen = atomic_load(&w->seen);
    if ((uint64_t)st.st_size < seen) {
        snprintf(why, len, "data.mdb shrank from %llu to %llu bytes while in use (truncated)",
                 (unsigned long long)seen, (unsigned long long)st.st_size);
        return false;
    }
    while ((uint64_t)st.st_size > seen &&
           !atomic_compare_exchange_weak(&w->seen, &seen, (uint64_t)st.st_size))
        ;
    return true;
}

void cache_env_watch_close(cache_env_watch *w)
{
    if (w->fd >= 0)
        close(w->fd);
    if (w->dirfd >= 0)
        close(w->dirfd);
    w->fd = w->dirfd = -1;
}

/* ---- the guard ---- */

/*
 * Why a SIGBUS guard and not a stat before every read transaction: a
 * stat costs a system call (1.2 to 1.7 us on the test machine, more than
 * the whole lookup it would protect), and it still leaves the window
 * between the stat and the read. The guard costs a sigsetjmp without the
 * signal mask (a few ns) and closes that window: a page that vanished
 * under a reader raises SIGBUS in that thread, the handler jumps back to
 * the guard's sigsetjmp, and the caller reports the cache damaged instead
 * of the process dying. What the handler may interrupt is LMDB reading a
 * read-only snapshot (no lock held, the transaction is aborted after the
 * jump) or a write transaction whose writer lock the caller's abort
 * releases; writers also stat the file before every write transaction
 * (cache_env_watch_check with force), so mdb_txn_begin never faults with
 * the writer lock taken. A SIGBUS outside any guard goes to the handler
 * that was there before (the default one, or the sanitizer's).
 */
static _Thread_local cache_env_guard *guard_top;
static struct sigaction guard_prev;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

static void guard_handler(int sig, siginfo_t *si, void *uc)
{
    cache_env_guard *g = guard_top;

    if (g != NULL) {
        guard_top = g->prev;
        siglongjmp(g->jb, 1);
    }
    if ((guard_prev.sa_flags & SA_SIGINFO) && guard_prev.sa_sigaction) {
        guard_prev.sa_sigaction(sig, si, uc);
    } else if (guard_prev.sa_handler != SIG_DFL && guard_prev.sa_handler != SIG_IGN) {
        guard_prev.sa_handler(sig);
    } else {
        signal(sig, SIG_DFL);
        raise(sig);
    }
}

static void guard_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = guard_handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER; /* no mask to restore after the jump */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &guard_prev);
}

/* cache_env_guard_push - arm a guard; the caller calls sigsetjmp(g->jb, 0) next */
void cache_env_guard_push(cache_env_guard *g)
{
    pthread_once(&guard_once, guard_install);
    g->prev = guard_top;
    guard_top = g;
}

/* cache_env_guard_pop - disarm it (not after a fault: the handler already did) */
void cache_env_guard_pop(cache_env_guard *g)
{
    guard_top = g->prev;
}

/* cache_env_lmdb_damage - does an LMDB return code mean a damaged environment? */
bool cache_env_lmdb_damage(int rc)
{
    return rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID ||
           rc == MDB_VERSION_MISMATCH || rc == MDB_PANIC;
}
