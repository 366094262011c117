/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_envcheck.c - may an LMDB environment be mapped? (cache/envcheck.c)
 *
 * Real LMDB environments, built with LMDB itself, then damaged the ways a
 * disk, an operator or a full file system damage them: each must be
 * called damaged with a reason that says what happened, before LMDB maps
 * it; a sound file must never be called damaged (also when it ends before
 * its last page because the final pages are free, which LMDB allows); the
 * watch notices a file truncated, replaced or removed under an open
 * environment; the guard turns a SIGBUS in a guarded read into a return
 * and leaves every other SIGBUS deadly; a damaged file set aside is kept.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache/envcheck.h"
#include "t/lib/tap.h"

#define PSZ    sizeof(size_t)
#define HDR    (PSZ + 8)     /* page header */
#define M_DBS  (8 + 2 * PSZ) /* in a meta page, after the header */
#define DB_SZ  (8 + 5 * PSZ)
#define M_LAST (M_DBS + 2 * DB_SZ)
#define M_TXN  (M_LAST + PSZ)
#define ROOT   (8 + 4 * PSZ) /* in an MDB_db */

static char top[] = "/tmp/sgtest-envcheck.XXXXXX";
static char good[600]; /* a copy of a sound data.mdb */
static long psize;

/* build - an environment in dir with n records (every 7th larger than a page) */
static bool build(const char *dir, int n)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    char key[64], *val = malloc(9000);
    int rc;

    mkdir(dir, 0700);
    memset(val, 'v', 9000);
    if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 4)) ||
        (rc = mdb_env_set_mapsize(env, 16 << 20)) || (rc = mdb_env_open(env, dir, 0, 0600)) ||
        (rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
        (rc = mdb_dbi_open(txn, "outbound", MDB_CREATE, &dbi))) {
        tap_diag("build %s: %s", dir, mdb_strerror(rc));
        free(val);
        return false;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        MDB_val k = {(size_t)snprintf(key, sizeof(key), "domain-%05d.example", i), key};
        MDB_val v = {i % 7 ? 200 : 9000, val};
        rc = mdb_put(txn, dbi, &k, &v, 0);
    }
    rc = rc ? rc : mdb_txn_commit(txn);
    mdb_env_close(env);
    free(val);
    return rc == 0;
}

static void path_of(char *out, size_t len, const char *dir, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

/* fresh - dir/data.mdb as a copy of the sound one, lock.mdb removed */
static void fresh(const char *dir)
{
    char cmd[2000];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir '%s' && cp '%s' '%s/data.mdb'", dir, dir, good,
             dir);
    if (system(cmd) != 0)
        tap_diag("cannot copy %s", good);
}

/* refill - a sound dir/data.mdb again, whatever else is in dir */
static void refill(const char *dir)
{
    char cmd[2000];

    snprintf(cmd, sizeof(cmd), "cp '%s' '%s/data.mdb.new' && mv '%s/data.mdb.new' '%s/data.mdb'",
             good, dir, dir, dir);
    if (system(cmd) != 0)
        tap_diag("cannot copy %s", good);
}

/* patch - write len bytes at off of dir/data.mdb */
static void patch(const char *dir, off_t off, const void *p, size_t len)
{
    char path[700];
    int fd;

    path_of(path, sizeof(path), dir, "data.mdb");
    fd = open(path, O_WRONLY);
    if (fd < 0 || pwrite(fd, p, len, off) != (ssize_t)len)
        tap_diag("patch %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
}

/* newest_meta - offset of the meta page with the higher txnid (as LMDB picks) */
static off_t newest_meta(const char *dir)
{
    char path[700];
    size_t t0 = 0, t1 = 0;
    int fd;

    path_of(path, sizeof(path), dir, "data.mdb");
    fd = open(path, O_RDONLY);
    if (pread(fd, &t0, PSZ, (off_t)(HDR + M_TXN)) != (ssize_t)PSZ ||
        pread(fd, &t1, PSZ, psize + (off_t)(HDR + M_TXN)) != (ssize_t)PSZ)
        tap_diag("cannot read the meta pages");
    close(fd);
    return t0 < t1 ? psize : 0;
}

static size_t meta_field(const char *dir, off_t meta, size_t field)
{
    char path[700];
    size_t v = 0;
    int fd;

    path_of(path, sizeof(path), dir, "data.mdb");
    fd = open(path, O_RDONLY);
    if (pread(fd, &v, PSZ, meta + (off_t)(HDR + field)) != (ssize_t)PSZ)
        tap_diag("cannot read a meta field");
    close(fd);
    return v;
}

static int check(const char *dir, cache_env_report *r)
{
    int st = cache_env_check(dir, r);

    if (st != CACHE_ENV_SOUND)
        tap_diag("%s: %s", dir, r->why);
    return st;
}

static bool has(const char *s, const char *needle)
{
    bool ok = strstr(s, needle) != NULL;

    if (!ok)
        tap_diag("'%s' does not say '%s'", s, needle);
    return ok;
}

static void test_sound(void)
{
    char dir[600], path[1400];
    cache_env_report r;
    struct stat st;

    snprintf(dir, sizeof(dir), "%s/sound", top);
    tap_ok(build(dir, 400), "an environment built by LMDB itself");
    path_of(path, sizeof(path), dir, "data.mdb");
    stat(path, &st);
    tap_is_int(check(dir, &r), CACHE_ENV_SOUND, "a sound environment is sound");
    tap_ok(r.psize == (unsigned)psize && r.size == (uint64_t)st.st_size && r.last_pg >= 2 &&
                   (r.last_pg + 1) * r.psize <= r.size,
           "page size %u, %llu bytes, last page %llu read from its meta pages", r.psize,
           (unsigned long long)r.size, (unsigned long long)r.last_pg);
    snprintf(good, sizeof(good), "%s/good.mdb", top);
    snprintf(path, sizeof(path), "cp '%s/data.mdb' '%s'", dir, good);
    tap_is_int(system(path), 0, "kept as the model for the damaged copies");

    snprintf(dir, sizeof(dir), "%s/absent", top);
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_ABSENT, "no directory: a new environment");
    mkdir(dir, 0700);
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_ABSENT, "no data.mdb: a new environment");
    tap_ok(has(r.why, "does not exist yet"), "and it says so");
}

static void test_lengths(void)
{
    char dir[600], path[700];
    cache_env_report r;
    struct stat st;

    snprintf(dir, sizeof(dir), "%s/len", top);
    path_of(path, sizeof(path), dir, "data.mdb");
    fresh(dir);
    tap_is_int(truncate(path, 0), 0, "data.mdb truncated to 0 bytes");
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_DAMAGED, "zero length: damaged");
    tap_ok(r.empty && has(r.why, "empty (0 bytes)") && has(r.why, "lost its data"),
           "lost data, not an empty cache: %s", r.why);

    fresh(dir);
    stat(path, &st);
    tap_is_int(truncate(path, 16384), 0, "truncated to 16 KiB (of %lld)", (long long)st.st_size);
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_DAMAGED, "16 KiB: damaged");
    tap_ok(has(r.why, "truncated: 16384 bytes"), "the size is named: %s", r.why);

    fresh(dir);
    tap_is_int(truncate(path, st.st_size / 2), 0, "truncated to half");
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_DAMAGED, "half: damaged");
    tap_ok(has(r.why, "truncated") && has(r.why, "ends at byte"), "the missing page is named: %s",
           r.why);

    fresh(dir);
    tap_is_int(truncate(path, psize + 20), 0, "cut inside the second meta page");
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_DAMAGED, "a meta page cut: damaged");
    tap_ok(has(r.why, "shorter than its second meta page"), "%s", r.why);

    fresh(dir);
    tap_is_int(truncate(path, 100), 0, "cut inside the first meta page");
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_DAMAGED, "a first meta page cut: damaged");
    tap_ok(has(r.why, "shorter than its first meta page"), "%s", r.why);
}

static void test_contents(void)
{
    char dir[600], path[700], *junk;
    cache_env_report r;
    struct stat st;
    off_t m;
    size_t v;
    int fd;

    snprintf(dir, sizeof(dir), "%s/bytes", top);
    path_of(path, sizeof(path), dir, "data.mdb");
    fresh(dir);
    stat(path, &st);
    junk = malloc((size_t)st.st_size);
    srand(13);
    for (off_t i = 0; i < st.st_size; i++)
        junk[i] = (char)rand();
    patch(dir, 0, junk, (size_t)st.st_size);
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_DAMAGED, "random bytes: damaged");
    tap_ok(has(r.why, "not an LMDB data file"), "%s", r.why);

    fresh(dir);
    patch(dir, 0, junk, (size_t)psize * 2);
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_DAMAGED, "both meta pages scrambled: damaged");
    fresh(dir);
    patch(dir, psize, junk, (size_t)psize);
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_DAMAGED, "the second meta page scrambled");
    tap_ok(has(r.why, "meta page 1"), "names the page: %s", r.why);

    /* meta pages with LMDB's magic that lie */
    fresh(dir);
    m = newest_meta(dir);
    v = (size_t)1 << 40;
    patch(dir, m + (off_t)(HDR + M_LAST), &v, PSZ);
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_DAMAGED, "a last page far beyond the file");
    tap_ok(has(r.why, "truncated") && has(r.why, "pages further"), "%s", r.why);
    fresh(dir);
    v = meta_field(dir, m, M_LAST) + 50;
    patch(dir, m + (off_t)(HDR + M_DBS + DB_SZ + ROOT), &v, PSZ);
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_DAMAGED, "a root page after the last page");
    tap_ok(has(r.why, "root page"), "%s", r.why);
    fresh(dir);
    v = 1000;
    patch(dir, HDR + M_DBS, &v, 4);
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_DAMAGED, "a page size of 1000");
    tap_ok(has(r.why, "impossible page size 1000"), "%s", r.why);
    fresh(dir);
    v = 7;
    patch(dir, m + (off_t)HDR + 4, &v, 4);
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_DAMAGED, "another data format version");
    tap_ok(has(r.why, "data format 7"), "%s", r.why);

    /* free final pages: LMDB allows a file shorter than its last page */
    fresh(dir);
    v = meta_field(dir, m, M_LAST) + 3;
    patch(dir, m + (off_t)(HDR + M_LAST), &v, PSZ);
    tap_is_int(check(dir, &r), CACHE_ENV_SOUND,
               "a file ending before its last page, every tree page inside it: sound");
    /* the same, with a tree page that is not what it claims: the walk finds it */
    v = meta_field(dir, m, M_DBS + DB_SZ + ROOT); /* the main tree's root */
    {
        size_t bad = 999999;
        patch(dir, (off_t)v * psize, &bad, PSZ);
    }
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_DAMAGED, "and with its root page overwritten");
    tap_ok(has(r.why, "is not that page"), "%s", r.why);
    free(junk);

    /* not a file */
    fresh(dir);
    unlink(path);
    mkdir(path, 0700);
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_DAMAGED, "data.mdb a directory: damaged");
    tap_ok(has(r.why, "data.mdb is a directory"), "%s", r.why);
    rmdir(path);
    tap_is_int(symlink(good, path), 0, "data.mdb a symbolic link to a sound file");
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_DAMAGED, "a symbolic link: damaged");
    tap_ok(has(r.why, "symbolic link (to ") && has(r.why, good), "the target is named: %s", r.why);
    unlink(path);
    tap_is_int(symlink("/nonexistent/data.mdb", path), 0, "a dangling symbolic link");
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_DAMAGED,
               "damaged, not absent (LMDB would create its target)");

    fresh(dir);
    path_of(path, sizeof(path), dir, "lock.mdb");
    mkdir(path, 0700);
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_DAMAGED, "lock.mdb a directory: damaged");
    tap_ok(has(r.why, "lock.mdb is a directory"), "%s", r.why);
    rmdir(path);
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    tap_ok(fd >= 0 && write(fd, "garbage garbage garbage", 23) == 23, "a garbage lock.mdb");
    close(fd);
    tap_is_int(check(dir, &r), CACHE_ENV_SOUND, "is no reason to call data.mdb damaged");
}

/* test_open_garbage_lock - LMDB rebuilds a garbage lock file nobody holds */
static void test_open_garbage_lock(void)
{
    char dir[600];
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_stat ms;
    int rc;

    snprintf(dir, sizeof(dir), "%s/bytes", top); /* the garbage lock.mdb of test_contents */
    rc = mdb_env_create(&env);
    mdb_env_set_maxdbs(env, 4);
    rc = rc ? rc : mdb_env_open(env, dir, MDB_RDONLY, 0600);
    rc = rc ? rc : mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    rc = rc ? rc : mdb_dbi_open(txn, "outbound", 0, &dbi);
    rc = rc ? rc : mdb_stat(txn, dbi, &ms);
    tap_ok(rc == 0 && ms.ms_entries == 400, "and LMDB opens the data with it: %s",
           mdb_strerror(rc));
    if (rc == 0)
        mdb_txn_abort(txn);
    mdb_env_close(env);
}

static void test_set_aside(void)
{
    char dir[600], moved[900], moved2[900], why[CACHE_ENV_WHY_MAX], path[700];
    cache_env_report r;
    struct stat st;

    snprintf(dir, sizeof(dir), "%s/aside", top);
    fresh(dir);
    path_of(path, sizeof(path), dir, "lock.mdb");
    close(open(path, O_WRONLY | O_CREAT, 0600));
    tap_ok(cache_env_set_aside(dir, moved, sizeof(moved), why, sizeof(why)),
           "a damaged data.mdb set aside");
    tap_ok(strstr(moved, "/data.mdb.damaged-") && stat(moved, &st) == 0 && st.st_size > 0,
           "kept as %s", moved);
    tap_ok(stat(path, &st) < 0 && errno == ENOENT, "its lock file is gone");
    tap_is_int(cache_env_check(dir, &r), CACHE_ENV_ABSENT, "the place is free for a new one");
    refill(dir);
    tap_ok(cache_env_set_aside(dir, moved2, sizeof(moved2), why, sizeof(why)) &&
                   strcmp(moved, moved2) != 0 && stat(moved, &st) == 0,
           "a second one in the same second does not replace the first (%s)", moved2);
    tap_ok(!cache_env_set_aside(dir, moved2, sizeof(moved2), why, sizeof(why)) &&
                   has(why, "cannot move"),
           "nothing to set aside: an error, %s", why);
}

static void test_watch(void)
{
    char dir[600], path[700], why[CACHE_ENV_WHY_MAX];
    cache_env_report r;
    cache_env_watch w;

    snprintf(dir, sizeof(dir), "%s/watch", top);
    path_of(path, sizeof(path), dir, "data.mdb");
    fresh(dir);
    check(dir, &r);
    tap_ok(cache_env_watch_init(&w, dir, &r, why, sizeof(why)), "a watch on a sound file");
    tap_ok(cache_env_watch_check(&w, true, why, sizeof(why)), "it is the same, not shorter");
    tap_ok(cache_env_watch_check(&w, false, why, sizeof(why)),
           "unforced within the second: no stat, fine");
    tap_is_int(truncate(path, (off_t)r.size + 4096), 0, "the file grows (a writer)");
    tap_ok(cache_env_watch_check(&w, true, why, sizeof(why)), "growing is what LMDB does");
    tap_is_int(truncate(path, 16384), 0, "then it is truncated");
    tap_ok(!cache_env_watch_check(&w, true, why, sizeof(why)) && has(why, "shrank from"),
           "the watch says it shrank: %s", why);
    cache_env_watch_close(&w);

    fresh(dir);
    check(dir, &r);
    cache_env_watch_init(&w, dir, &r, why, sizeof(why));
    refill(dir); /* a new file renamed over it */
    tap_ok(!cache_env_watch_check(&w, true, why, sizeof(why)) && has(why, "replaced"),
           "a file replaced at the path: %s", why);
    unlink(path);
    tap_ok(!cache_env_watch_check(&w, true, why, sizeof(why)) && has(why, "was removed"),
           "a file removed: %s", why);
    cache_env_watch_close(&w);

    fresh(dir);
    check(dir, &r);
    truncate(path, 8192);
    tap_ok(!cache_env_watch_init(&w, dir, &r, why, sizeof(why)) && has(why, "changed"),
           "a file that shrank between the check and the open: %s", why);
}

/* guarded_read - one byte at p under a guard; -1 when it faulted */
static int guarded_read(const volatile char *p)
{
    cache_env_guard g;
    volatile int v = -1;

    cache_env_guard_push(&g);
    if (sigsetjmp(g.jb, 0) != 0)
        return -1;
    v = *p;
    cache_env_guard_pop(&g);
    return v;
}

static void test_guard(void)
{
    char path[700];
    cache_env_guard outer;
    volatile int inner = 0;
    char *map;
    int fd, st;
    pid_t pid;

    snprintf(path, sizeof(path), "%s/mapped", top);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    tap_ok(fd >= 0 && ftruncate(fd, 3 * psize) == 0, "a 3-page file");
    map = mmap(NULL, 3 * (size_t)psize, PROT_READ, MAP_SHARED, fd, 0);
    tap_ok(map != MAP_FAILED, "mapped");
    tap_is_int(guarded_read(map + 2 * psize), 0, "a guarded read inside the file");
    tap_is_int(ftruncate(fd, psize), 0, "the file truncated under the map");
    tap_is_int(guarded_read(map + 2 * psize), -1, "a guarded read past its end returns, no crash");
    tap_is_int(guarded_read(map + 2 * psize), -1, "and again (the signal is not left blocked)");
    tap_is_int(guarded_read(map), 0, "the page still there reads");

    cache_env_guard_push(&outer);
    if (sigsetjmp(outer.jb, 0) == 0) {
        inner = guarded_read(map + 2 * psize); /* the inner guard catches its own fault */
        cache_env_guard_pop(&outer);
    } else
        inner = -99;
    tap_is_int(inner, -1, "nested guards: the innermost one takes the fault");

    fflush(stdout);
    if ((pid = fork()) == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2); /* the sanitizer's report, when there is one */
        volatile char c = map[2 * psize];
        (void)c;
        _exit(0);
    }
    waitpid(pid, &st, 0);
    tap_ok(!(WIFEXITED(st) && WEXITSTATUS(st) == 0),
           "an unguarded read past the end is still deadly (the handler does not hide it)");
    munmap(map, 3 * (size_t)psize);
    close(fd);
}

int main(void)
{
    char cmd[200];

    psize = sysconf(_SC_PAGESIZE);
    if (mkdtemp(top) == NULL)
        return 1;
    test_sound();
    test_lengths();
    test_contents();
    test_open_garbage_lock();
    test_set_aside();
    test_watch();
    test_guard();
    tap_ok(cache_env_lmdb_damage(MDB_CORRUPTED) && cache_env_lmdb_damage(MDB_PAGE_NOTFOUND) &&
                   cache_env_lmdb_damage(MDB_INVALID) && !cache_env_lmdb_damage(MDB_NOTFOUND) &&
                   !cache_env_lmdb_damage(MDB_MAP_FULL) && !cache_env_lmdb_damage(ENOENT),
           "LMDB's damage codes, and only those");
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
    if (system(cmd) != 0)
        tap_diag("cannot remove %s", top);
    return tap_done();
}
