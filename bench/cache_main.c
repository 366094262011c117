/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cache_main.c - bench helper: the cache's read path, lookups per second
 *
 * Usage: bench_cache DIR [DOMAINS [THREADS]]
 *
 * What every message and every policy request costs on the mail path:
 * cache_get_outbound (a read transaction, the LMDB lookup, the copy out
 * and the decode of a domain's record), single thread, over DOMAINS
 * domains with realistic records (one to three providers, reasons, a
 * tracking host, up to four BCC addresses), looked up in a shuffled order,
 * with every provider's data required (cache_set_required) as the daemons
 * require the enabled providers'; every lookup runs in the SIGBUS guard.
 * Baseline in the same run: a plain mdb_get of the same keys inside one
 * read transaction, without decoding or copying (what LMDB alone costs).
 * Then the same lookups from THREADS threads at once (total rate), to show
 * what concurrent readers get. Median of 5 runs after a warm-up.
 */
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cache/cache.h"

#define RUNS   5
#define ROUNDS 20 /* passes over all keys per run */

static char **keys;
static int nkeys;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof(*v), cmp_double);
    return v[RUNS / 2];
}

/* fill - n domains: every one from Mailtrap, a third also from JetEmail, a fifth static */
static bool fill(cache *c, int n)
{
    cache_out_item *it = calloc((size_t)n, sizeof(*it));
    char(*names)[64] = calloc((size_t)n, 64), (*bcc)[4][64] = calloc((size_t)n, sizeof(*bcc));
    bool ok = true;

    for (int i = 0; i < n; i++) {
        snprintf(names[i], 64, "sender-%05d.customer-domain.example", i);
        for (int j = 0; j < 4; j++)
            snprintf(bcc[i][j], 64, "archive%d@sender-%05d.customer-domain.example", j, i);
    }
    for (int p = 0; p < PROV__COUNT && ok; p++) {
        size_t m = 0;
        cache_meta meta = {0};
        for (int i = 0; i < n; i++) {
            cache_out_entry *e;
            if ((p == PROV_JETEMAIL && i % 3) || (p == PROV_STATIC && i % 5))
                continue;
            it[m].domain = names[i];
            e = &it[m++].e;
            memset(e, 0, sizeof(*e));
            e->provider = (uint8_t)p;
            e->send = i % 10 == 0 ? SEND_BLOCKED : SEND_ALLOWED;
            e->open_tracking = e->click_tracking = e->unsubscribe = true;
            e->ref = "0b5c1a2e-6f0d-4c1e-9a55-3d2f1e0c9b77";
            e->raw_status = i % 10 == 0 ? "unverified_dns" : "compliant";
            e->reason = i % 10 == 0 ? "DNS records not verified; publish the records shown on "
                                      "the provider's Domains page"
                                    : "domain passed the provider's compliance checks";
            e->tracking_host = "links.customer-domain.example";
            e->fetched_at = 1700000000;
            e->n_bcc = (uint8_t)(i % 5);
            for (int j = 0; j < e->n_bcc; j++)
                e->bcc[j] = (cache_bcc){bcc[i][j], j % 2 == 0};
        }
        meta.n_outbound = (uint32_t)m;
        meta.last_attempt = meta.last_success = 1700000000; /* a refresh that succeeded */
        ok = cache_replace_provider(c, p, it, m, NULL, 0, &meta) == CACHE_OK;
    }
    keys = calloc((size_t)n, sizeof(*keys));
    for (int i = 0; i < n; i++)
        keys[i] = strdup(names[i]);
    srand(42);
    for (int i = n - 1; i > 0; i--) { /* shuffled: no help from locality of key order */
        int j = rand() % (i + 1);
        char *t = keys[i];
        keys[i] = keys[j];
        keys[j] = t;
    }
    nkeys = n;
    free(it);
    free(names);
    free(bcc);
    return ok;
}

/* run_cache - ROUNDS passes of cache_get_outbound; lookups per second */
static double run_cache(cache *c, cache_outbound *rec, long *bad)
{
    double t0 = now_s();

    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < nkeys; i++)
            *bad += cache_get_outbound(c, keys[i], rec) != CACHE_OK || rec->n == 0;
    return (double)ROUNDS * nkeys / (now_s() - t0);
}

/* run_plain - the baseline: mdb_get of the same keys in one read transaction */
static double run_plain(MDB_env *env, MDB_dbi dbi, long *bad)
{
    MDB_txn *txn;
    size_t sum = 0;
    double t0 = now_s();

    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < nkeys; i++) {
            MDB_val k = {strlen(keys[i]), keys[i]}, v;
            if (mdb_get(txn, dbi, &k, &v) != 0)
                (*bad)++;
            else
                sum += v.mv_size;
        }
    mdb_txn_abort(txn);
    if (sum == 0)
        (*bad)++;
    return (double)ROUNDS * nkeys / (now_s() - t0);
}

struct thr {
    cache *c;
    long bad;
    int first;
};

static void *thread_main(void *arg)
{
    struct thr *t = arg;
    cache_outbound *rec = malloc(sizeof(*rec));

    for (int r = 0; r < ROUNDS / 2; r++)
        for (int i = 0; i < nkeys; i++) {
            const char *k = keys[(i + t->first) % nkeys];
            t->bad += cache_get_outbound(t->c, k, rec) != CACHE_OK;
        }
    free(rec);
    return NULL;
}

/* run_threads - nthr threads doing cache_get_outbound at once; total lookups per second */
static double run_threads(cache *c, int nthr, long *bad)
{
    pthread_t tid[64];
    struct thr t[64];
    double t0 = now_s();

    for (int i = 0; i < nthr; i++) {
        t[i] = (struct thr){c, 0, i * nkeys / nthr};
        pthread_create(&tid[i], NULL, thread_main, &t[i]);
    }
    for (int i = 0; i < nthr; i++) {
        pthread_join(tid[i], NULL);
        *bad += t[i].bad;
    }
    return (double)nthr * (ROUNDS / 2) * nkeys / (now_s() - t0);
}

/* plain_open - the environment opened directly, read-only */
static MDB_env *plain_open(const char *path, MDB_dbi *dbi)
{
    MDB_env *env;
    MDB_txn *txn;

    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
        mdb_env_open(env, path, MDB_RDONLY | MDB_NOTLS, 0660))
        return NULL;
    if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) || mdb_dbi_open(txn, "outbound", 0, dbi))
        return NULL;
    mdb_txn_commit(txn);
    return env;
}

int main(int argc, char **argv)
{
    int n = argc > 2 ? atoi(argv[2]) : 10000, nthr = argc > 3 ? atoi(argv[3]) : 4;
    double got[RUNS], base[RUNS], thr[RUNS];
    cache_opts o = {64u << 20, 4096u << 20, 126, 0};
    char path[4096], err[512];
    cache_outbound *rec = malloc(sizeof(*rec));
    long bad = 0;
    MDB_dbi dbi;
    MDB_env *env;
    cache *c;

    if (argc < 2 || n < 1 || nthr < 1 || nthr > 64)
        return fprintf(stderr, "usage: bench_cache DIR [DOMAINS [THREADS]]\n"), 64;
    mkdir(argv[1], 0700);
    snprintf(path, sizeof(path), "%s/cache", argv[1]);
    if ((c = cache_open(path, CACHE_RDWR, &o, err, sizeof(err))) == NULL || !fill(c, n))
        return fprintf(stderr, "bench_cache: cannot fill %s: %s\n", path, err), 1;
    cache_close(c);
    /* one environment handle per process at a time: LMDB's rule, so the two alternate */
    for (int r = -1; r < RUNS; r++) { /* run -1 warms the page cache */
        if ((env = plain_open(path, &dbi)) == NULL)
            return fprintf(stderr, "bench_cache: mdb open %s failed\n", path), 1;
        base[r < 0 ? 0 : r] = run_plain(env, dbi, &bad);
        mdb_env_close(env);
        if ((c = cache_open(path, CACHE_RDONLY, &o, err, sizeof(err))) == NULL)
            return fprintf(stderr, "bench_cache: %s\n", err), 1;
        /* as the milter and policyd do: every provider enabled, its data required */
        cache_set_required(c, (1u << PROV__COUNT) - 1);
        got[r < 0 ? 0 : r] = run_cache(c, rec, &bad);
        thr[r < 0 ? 0 : r] = run_threads(c, nthr, &bad);
        cache_close(c);
    }
    if (bad)
        return fprintf(stderr, "bench_cache: %ld lookups failed\n", bad), 1;
    printf("domains                       %d (shuffled), %d lookups per run, median of %d runs\n",
           n, ROUNDS * n, RUNS);
    printf("cache_get_outbound            %10.0f lookups/s  (%.0f ns each: read txn, lookup, "
           "copy, decode)\n",
           median(got), 1e9 / median(got));
    printf("baseline mdb_get              %10.0f lookups/s  (%.0f ns each: one read txn, no "
           "decode)\n",
           median(base), 1e9 / median(base));
    printf("cache_get_outbound x%-2d       %10.0f lookups/s  (all threads together)\n", nthr,
           median(thr));
    free(rec);
    for (int i = 0; i < nkeys; i++)
        free(keys[i]);
    free(keys);
    return 0;
}
