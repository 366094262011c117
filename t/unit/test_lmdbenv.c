/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_lmdbenv.c - one LMDB environment layer (cache/lmdbenv.c)
 *
 * What the provider cache and trackd's statistics rely on: the reader
 * slots and the map size asked for; a full map doubles up to its maximum,
 * is clamped there rather than refused, and at the maximum MDB_MAP_FULL
 * stands (the owner's write fails, nothing grows for ever); which LMDB
 * codes are worth a retry; a damaged file is never opened, and a
 * recovering writer moves it aside (also a sound-looking one LMDB found
 * damaged) and says so; every way of failing to start is told apart.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/lmdbenv.h"
#include "t/lib/tap.h"

static char top[] = "/tmp/sgtest-lmdbenv.XXXXXX";
static const char *const names[] = {"one", "two"};

/* what the layer told its owner */
static struct {
    int grown, full, refused, moved;
    size_t from, to;
    char damage[CACHE_ENV_WHY_MAX];
} heard;

static void note(void *arg, const lmdbenv_note *n)
{
    (void)arg;
    switch (n->event) {
    case LMDBENV_GROWN:
        heard.grown++;
        heard.from = n->from;
        heard.to = n->to;
        break;
    case LMDBENV_FULL:
        heard.full++;
        heard.from = n->from;
        break;
    case LMDBENV_GROW_REFUSED:
        heard.refused++;
        break;
    case LMDBENV_MOVED_ASIDE:
        heard.moved++;
        snprintf(heard.damage, sizeof(heard.damage), "%s", n->damage);
        break;
    default:
        break;
    }
}

/* start - an environment top/name with map (max) and readers; false: f says why */
static bool start(lmdbenv *e, const char *name, bool rdonly, size_t map, size_t max,
                  unsigned readers, bool recover, const char *content, lmdbenv_fail *f)
{
    lmdbenv_opts o = {map, max, readers, 4, 0, note, NULL};
    MDB_dbi dbi[2];
    char path[200];

    snprintf(path, sizeof(path), "%s/%s", top, name);
    lmdbenv_init(e, path, rdonly, &o);
    memset(&heard, 0, sizeof(heard));
    if (lmdbenv_start(e, names, dbi, 2, recover, content, f))
        return true;
    lmdbenv_destroy(e);
    return false;
}

/* fill - n values of 1000 bytes from key first on, in one write transaction; an LMDB code */
static int fill(lmdbenv *e, int first, int n)
{
    char key[32], val[1000];
    MDB_txn *txn;
    MDB_dbi dbi;
    int rc;

    memset(val, 'v', sizeof(val));
    if ((rc = mdb_txn_begin(e->env, NULL, 0, &txn)) != 0)
        return rc;
    rc = mdb_dbi_open(txn, "one", 0, &dbi);
    for (int i = first; i < first + n && rc == 0; i++) {
        MDB_val k = {(size_t)snprintf(key, sizeof(key), "key-%08d", i), key};
        MDB_val v = {sizeof(val), val};
        rc = mdb_put(txn, dbi, &k, &v, 0);
    }
    if (rc == 0)
        return mdb_txn_commit(txn);
    mdb_txn_abort(txn);
    return rc;
}

/* test_open - the slots and the map asked for; readers find what the writer made */
static void test_open(void)
{
    lmdbenv e;
    lmdbenv_fail f;
    unsigned readers = 0;

    tap_ok(start(&e, "open", false, 1 << 20, 4 << 20, 300, false, NULL, &f),
           "a writer creates the environment and its databases");
    mdb_env_get_maxreaders(e.env, &readers);
    tap_ok(readers >= 300, "with the reader slots asked for (%u)", readers);
    tap_is_int(lmdbenv_map_size(&e), 1 << 20, "and the map size asked for");
    tap_ok(e.watch.fd >= 0, "the watch follows data.mdb");
    lmdbenv_destroy(&e);
    tap_ok(e.env == NULL && e.watch.fd < 0, "stopped: nothing left open");

    tap_ok(start(&e, "open", true, 0, 0, 0, false, NULL, &f), "a reader opens it");
    tap_is_int(lmdbenv_map_size(&e), 1 << 20, "map size 0: the file's own");
    mdb_env_get_maxreaders(e.env, &readers);
    tap_ok(readers >= 300, "readers 0: the lock file's table, as the writer made it (%u)", readers);
    lmdbenv_destroy(&e);
}

/* test_grow - doubling, the clamp at the maximum, and MDB_MAP_FULL at it */
static void test_grow(void)
{
    lmdbenv e;
    lmdbenv_fail f;
    int rc, attempts = 0;

    if (!start(&e, "grow", false, 1 << 20, 4 << 20, 0, false, NULL, &f))
        return;
    tap_is_int(fill(&e, 0, 2000), MDB_MAP_FULL, "2 MB of values do not fit a 1 MB map");
    tap_ok(lmdbenv_retry(&e, MDB_MAP_FULL), "a full map is worth a retry");
    tap_ok(heard.grown == 1 && heard.from == 1u << 20 && heard.to == 2u << 20,
           "it doubled to 2 MB, and the owner heard of it");
    for (rc = MDB_MAP_FULL; rc == MDB_MAP_FULL && attempts < LMDBENV_RETRIES; attempts++)
        if ((rc = fill(&e, 0, 2000)) != 0 && !lmdbenv_retry(&e, rc))
            break;
    tap_is_int(rc, 0, "redone until it fits");
    tap_ok(lmdbenv_map_size(&e) <= 4u << 20, "within the maximum (%zu)", lmdbenv_map_size(&e));

    tap_is_int(fill(&e, 2000, 8000), MDB_MAP_FULL, "8 MB more do not fit even at 4 MB");
    while (lmdbenv_map_size(&e) < 4u << 20 && lmdbenv_retry(&e, MDB_MAP_FULL))
        ;
    memset(&heard, 0, sizeof(heard));
    tap_ok(!lmdbenv_retry(&e, MDB_MAP_FULL), "at the maximum: no retry, MDB_MAP_FULL stands");
    tap_ok(heard.full == 1 && heard.from == 4u << 20 && heard.grown == 0,
           "the owner hears it is full at its maximum");
    tap_is_int(lmdbenv_map_size(&e), 4 << 20, "the map stays at the maximum");
    lmdbenv_destroy(&e);

    /* 3 MB, at most 5 MB: doubling would pass the maximum, so it stops there */
    if (!start(&e, "clamp", false, 3 << 20, 5 << 20, 0, false, NULL, &f))
        return;
    tap_ok(lmdbenv_retry(&e, MDB_MAP_FULL) && heard.to == 5u << 20,
           "a doubling past the maximum is clamped to it, not refused");
    tap_is_int(lmdbenv_map_size(&e), 5 << 20, "the map is 5 MB");
    tap_ok(!lmdbenv_retry(&e, MDB_MAP_FULL) && heard.full == 1, "and then full");
    lmdbenv_destroy(&e);
}

/* test_retry - which LMDB codes a retry can mend */
static void test_retry(void)
{
    lmdbenv e;
    lmdbenv_fail f;

    if (!start(&e, "retry", false, 1 << 20, 4 << 20, 0, false, NULL, &f))
        return;
    tap_ok(lmdbenv_retry(&e, MDB_MAP_RESIZED), "MDB_MAP_RESIZED: the size adopted, retry");
    tap_is_int(lmdbenv_map_size(&e), 1 << 20, "(nobody grew it: the size is unchanged)");
    tap_ok(lmdbenv_retry(&e, MDB_READERS_FULL), "MDB_READERS_FULL: dead slots cleared, retry");
    tap_ok(!lmdbenv_retry(&e, MDB_NOTFOUND) && !lmdbenv_retry(&e, MDB_CORRUPTED) &&
                   !lmdbenv_retry(&e, ENOSPC) && !lmdbenv_retry(&e, 0),
           "anything else: no retry");
    lmdbenv_destroy(&e);
}

/* test_damage - never mapped; a recovering writer moves it aside */
static void test_damage(void)
{
    char path[300];
    lmdbenv e;
    lmdbenv_fail f;

    if (!start(&e, "damaged", false, 1 << 20, 4 << 20, 0, false, NULL, &f))
        return;
    lmdbenv_destroy(&e);
    snprintf(path, sizeof(path), "%s/damaged/data.mdb", top);
    tap_is_int(truncate(path, 0), 0, "data.mdb cut to zero length");
    tap_ok(!start(&e, "damaged", true, 0, 0, 0, true, NULL, &f) && f.stage == LMDBENV_AT_CHECK &&
                   strstr(f.why, "data.mdb is empty"),
           "a reader refuses it, even asked to recover: %s", f.why);
    tap_ok(!start(&e, "damaged", false, 1 << 20, 4 << 20, 0, false, NULL, &f) &&
                   f.stage == LMDBENV_AT_CHECK,
           "so does a writer that does not recover");
    tap_ok(start(&e, "damaged", false, 1 << 20, 4 << 20, 0, true, NULL, &f) && heard.moved == 1 &&
                   strstr(heard.damage, "data.mdb is empty"),
           "a recovering writer moves it aside, says why, and starts afresh");
    lmdbenv_destroy(&e);
    tap_ok(start(&e, "damaged", false, 1 << 20, 4 << 20, 0, true, "LMDB found it", &f) &&
                   heard.moved == 1 && strcmp(heard.damage, "LMDB found it") == 0,
           "a sound-looking file LMDB found damaged is moved aside too");
    lmdbenv_destroy(&e);
    tap_ok(start(&e, "damaged", false, 1 << 20, 4 << 20, 0, true, NULL, &f) && heard.moved == 0,
           "a sound file is left alone");
    lmdbenv_destroy(&e);
}

/* test_failures - every way of not starting, told apart */
static void test_failures(void)
{
    char path[300];
    lmdbenv e;
    lmdbenv_fail f;
    FILE *fp;

    tap_ok(!start(&e, "absent", true, 0, 0, 0, false, NULL, &f) && f.stage == LMDBENV_AT_OPEN &&
                   f.rc == ENOENT,
           "a reader of nothing: LMDBENV_AT_OPEN, ENOENT");
    snprintf(path, sizeof(path), "%s/plain", top);
    if ((fp = fopen(path, "w")) != NULL)
        fclose(fp);
    tap_ok(!start(&e, "plain/env", false, 1 << 20, 4 << 20, 0, false, NULL, &f) &&
                   f.stage == LMDBENV_AT_MKDIR && f.rc == ENOTDIR,
           "a writer that cannot make its directory: LMDBENV_AT_MKDIR");
}

/* test_missing_db - a reader asks for a named database no writer created */
static void test_missing_db(void)
{
    static const char *const other[] = {"one", "three"};
    lmdbenv_opts o = {0, 0, 0, 4, 0, NULL, NULL};
    char path[300];
    MDB_dbi dbi[2];
    lmdbenv e;
    lmdbenv_fail f;

    if (start(&e, "bare", false, 1 << 20, 4 << 20, 0, false, NULL, &f))
        lmdbenv_destroy(&e);
    snprintf(path, sizeof(path), "%s/bare", top);
    lmdbenv_init(&e, path, true, &o);
    tap_ok(!lmdbenv_start(&e, other, dbi, 2, false, NULL, &f) && f.stage == LMDBENV_AT_DBS &&
                   f.rc == MDB_NOTFOUND && !f.fault,
           "a reader missing a named database: LMDBENV_AT_DBS, MDB_NOTFOUND");
    tap_ok(e.env == NULL, "and nothing is left open");
    lmdbenv_destroy(&e);
}

int main(void)
{
    char cmd[200];

    if (mkdtemp(top) == NULL)
        return 1;
    test_open();
    test_grow();
    test_retry();
    test_damage();
    test_failures();
    test_missing_db();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
    if (system(cmd) != 0)
        tap_diag("cannot remove %s", top);
    return tap_done();
}
