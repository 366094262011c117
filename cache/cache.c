/*
 * cache.c - the LMDB provider cache (see cache.h for the contract)
 */
#include "cache/cache.h"

#include <errno.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache/codec.h"
#include "lib/buf.h"
#include "lib/log.h"

enum { DB_OUTBOUND, DB_INBOUND, DB_META, DB_SUPPRESS, DB_REVOKED, DB__COUNT };
static const char *const cache_db_names[DB__COUNT] = {"outbound", "inbound", "meta", "suppress",
                                                      "revoked"};

#define CACHE_RETRIES 8
#define CACHE_KEY_MAX 511 /* LMDB\'s default maximum key size (mdb_env_get_maxkeysize) */
#define KEY_TEXT_MAX  512
#define WRITE_FAILED  (-1) /* a write step failed for a reason it already logged */

/*
 * A thread's read transaction handle. Each thread that looks something up
 * gets one (MDB_NOTLS ties the reader slot to the handle, not the thread),
 * renews it for every lookup and resets it before returning, so a lookup
 * takes no lock shared with other readers but the resize rwlock. It is
 * aborted when the thread exits (the key's destructor) or at cache_close.
 */
typedef struct cache_reader {
    MDB_txn *txn; /* NULL until the first lookup; reset between lookups */
    struct cache *c;
    struct cache_reader *prev, *next;
} cache_reader;

struct cache {
    MDB_env *env;
    MDB_dbi dbi[DB__COUNT];
    bool rdonly;
    size_t max_map_size;
    pthread_rwlock_t resize; /* shared: a txn is active; exclusive: resizing */
    pthread_key_t reader_key;
    bool reader_key_ok;
    pthread_mutex_t readers_mu; /* guards the list of every thread's reader */
    cache_reader *readers;
    char path[PATH_MAX];
};

static void cache_reader_exit(void *arg);

/* cache_db_index - named database by name, -1 if unknown */
static int cache_db_index(const char *name)
{
    for (int i = 0; i < DB__COUNT; i++)
        if (strcmp(cache_db_names[i], name) == 0)
            return i;
    return -1;
}

/* cache_open_dbis - open (or create) every named database once, before threads */
static int cache_open_dbis(cache *c)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(c->env, NULL, c->rdonly ? MDB_RDONLY : 0, &txn);

    if (rc)
        return rc;
    for (int i = 0; i < DB__COUNT && rc == 0; i++)
        rc = mdb_dbi_open(txn, cache_db_names[i], c->rdonly ? 0 : MDB_CREATE, &c->dbi[i]);
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

/* cache_open - open the environment at path (a directory) */
cache *cache_open(const char *path, enum cache_mode mode, const cache_opts *o, char *err,
                  size_t errlen)
{
    cache *c = calloc(1, sizeof(*c));
    int rc, dead = 0;
    unsigned flags = MDB_NOTLS;

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->rdonly = mode == CACHE_RDONLY;
    c->max_map_size = o->max_map_size;
    snprintf(c->path, sizeof(c->path), "%s", path);
    pthread_rwlock_init(&c->resize, NULL);
    pthread_mutex_init(&c->readers_mu, NULL);
    c->reader_key_ok = pthread_key_create(&c->reader_key, cache_reader_exit) == 0;
    if (!c->rdonly && mkdir(path, 0750) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "create cache directory %s: %s", path, strerror(errno));
        goto fail;
    }
    if (c->rdonly)
        flags |= MDB_RDONLY;
    if ((rc = mdb_env_create(&c->env)) || (rc = mdb_env_set_maxreaders(c->env, o->max_readers)) ||
        (rc = mdb_env_set_maxdbs(c->env, DB__COUNT + 2)) ||
        (rc = mdb_env_set_mapsize(c->env, o->map_size)) ||
        (rc = mdb_env_open(c->env, path, flags, 0660))) {
        snprintf(err, errlen, "open cache %s: %s%s", path, mdb_strerror(rc),
                 c->rdonly && rc == ENOENT ? " (not created yet: run sendgate-policyd or "
                                             "'sendgatectl cache load')"
                                           : "");
        goto fail;
    }
    mdb_reader_check(c->env, &dead);
    if (dead)
        log_notice("cache %s: cleared %d reader slot(s) left by dead processes", path, dead);
    if ((rc = cache_open_dbis(c))) {
        snprintf(err, errlen, "open cache databases in %s: %s", path,
                 rc == MDB_NOTFOUND ? "not initialised (no writer has opened it yet)"
                                    : mdb_strerror(rc));
        goto fail;
    }
    return c;
fail:
    if (c->env)
        mdb_env_close(c->env);
    if (c->reader_key_ok)
        pthread_key_delete(c->reader_key);
    pthread_rwlock_destroy(&c->resize);
    pthread_mutex_destroy(&c->readers_mu);
    free(c);
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
    mdb_env_close(c->env);
    pthread_rwlock_destroy(&c->resize);
    pthread_mutex_destroy(&c->readers_mu);
    free(c);
}

const char *cache_path(const cache *c)
{
    return c->path;
}

/* cache_map_size - the current map size */
size_t cache_map_size(cache *c)
{
    MDB_envinfo info;

    mdb_env_info(c->env, &info);
    return info.me_mapsize;
}

/* cache_adopt_size - another process grew the map: take its size (no txn may be active) */
static void cache_adopt_size(cache *c)
{
    pthread_rwlock_wrlock(&c->resize);
    mdb_env_set_mapsize(c->env, 0);
    pthread_rwlock_unlock(&c->resize);
}

/* cache_grow - double the map after MDB_MAP_FULL; false at the configured maximum */
static bool cache_grow(cache *c)
{
    size_t cur = cache_map_size(c), next = cur * 2;
    int rc;

    if (cur >= c->max_map_size) {
        log_err("cache %s: map full at its maximum size %zu (raise general.cache_max_map_size)",
                c->path, cur);
        return false;
    }
    if (next > c->max_map_size)
        next = c->max_map_size;
    pthread_rwlock_wrlock(&c->resize);
    rc = mdb_env_set_mapsize(c->env, next);
    pthread_rwlock_unlock(&c->resize);
    if (rc) {
        log_err("cache %s: grow map to %zu: %s", c->path, next, mdb_strerror(rc));
        return false;
    }
    log_notice("cache %s: map grown from %zu to %zu bytes", c->path, cur, next);
    return true;
}

/* cache_reader_exit - a thread that used the cache ends: release its read handle */
static void cache_reader_exit(void *arg)
{
    cache_reader *r = arg;
    cache *c = r->c;

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
static int cache_rtxn_get(cache *c, MDB_txn **txn)
{
    cache_reader *r = cache_reader_get(c);
    int rc;

    if (r == NULL)
        return mdb_txn_begin(c->env, NULL, MDB_RDONLY, txn);
    if (r->txn == NULL)
        rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &r->txn);
    else if ((rc = mdb_txn_renew(r->txn)) != 0 && rc != MDB_MAP_RESIZED) {
        mdb_txn_abort(r->txn); /* MAP_RESIZED leaves it reset and renewable; others: anew */
        r->txn = NULL;
    }
    *txn = r->txn;
    return rc;
}

/* cache_rtxn_put - end a lookup's transaction: reset this thread's, abort a one-off */
static void cache_rtxn_put(cache *c, MDB_txn *t)
{
    cache_reader *r = c->reader_key_ok ? pthread_getspecific(c->reader_key) : NULL;

    if (r && r->txn == t)
        mdb_txn_reset(t);
    else
        mdb_txn_abort(t);
}

typedef int (*cache_val_fn)(void *arg, const MDB_val *v);

/* cache_read - look key up in db and hand the value to fn inside the transaction */
static int cache_read(cache *c, int db, const void *key, size_t klen, cache_val_fn fn, void *arg)
{
    MDB_txn *txn;
    MDB_val k = {klen, (void *)key}, v;
    int rc = 0, dead;

    if (klen == 0 || klen > CACHE_KEY_MAX) /* nothing can be stored under such a key */
        return CACHE_NOTFOUND;
    for (int attempt = 0; attempt < CACHE_RETRIES; attempt++) {
        pthread_rwlock_rdlock(&c->resize);
        rc = cache_rtxn_get(c, &txn);
        if (rc == 0)
            break;
        pthread_rwlock_unlock(&c->resize);
        if (rc == MDB_MAP_RESIZED)
            cache_adopt_size(c);
        else if (rc == MDB_READERS_FULL)
            mdb_reader_check(c->env, &dead);
        else
            break;
    }
    if (rc) {
        log_err("cache %s: begin read: %s", c->path, mdb_strerror(rc));
        return CACHE_ERROR;
    }
    rc = mdb_get(txn, c->dbi[db], &k, &v);
    if (rc == 0)
        rc = fn(arg, &v);
    else if (rc == MDB_NOTFOUND)
        rc = CACHE_NOTFOUND;
    else {
        log_err("cache %s: read %s: %s", c->path, cache_db_names[db], mdb_strerror(rc));
        rc = CACHE_ERROR;
    }
    cache_rtxn_put(c, txn);
    pthread_rwlock_unlock(&c->resize);
    return rc;
}

struct decode_arg {
    void *rec;
    const char *key;
    const char *db;
};

static int cache_decode_out(void *arg, const MDB_val *v)
{
    struct decode_arg *a = arg;
    const char *why;

    if (codec_decode_outbound(v->mv_data, v->mv_size, a->rec, &why))
        return CACHE_OK;
    log_warn("cache: %s record for %s ignored: %s", a->db, a->key, why);
    return CACHE_CORRUPT;
}

static int cache_decode_in(void *arg, const MDB_val *v)
{
    struct decode_arg *a = arg;
    const char *why;

    if (codec_decode_inbound(v->mv_data, v->mv_size, a->rec, &why))
        return CACHE_OK;
    log_warn("cache: %s record for %s ignored: %s", a->db, a->key, why);
    return CACHE_CORRUPT;
}

static int cache_decode_meta(void *arg, const MDB_val *v)
{
    struct decode_arg *a = arg;
    const char *why;

    if (codec_decode_meta(v->mv_data, v->mv_size, a->rec, &why))
        return CACHE_OK;
    log_warn("cache: %s record for %s ignored: %s", a->db, a->key, why);
    return CACHE_CORRUPT;
}

/* cache_get_outbound - the outbound record of a normalised domain */
int cache_get_outbound(cache *c, const char *domain, cache_outbound *out)
{
    struct decode_arg a = {out, domain, "outbound"};

    out->n = 0;
    return cache_read(c, DB_OUTBOUND, domain, strlen(domain), cache_decode_out, &a);
}

/* cache_get_inbound - the inbound record (free with cache_inbound_free on CACHE_OK) */
int cache_get_inbound(cache *c, const char *domain, cache_inbound *out)
{
    struct decode_arg a = {out, domain, "inbound"};

    memset(out, 0, sizeof(*out));
    return cache_read(c, DB_INBOUND, domain, strlen(domain), cache_decode_in, &a);
}

/* cache_get_meta - a provider's refresh bookkeeping */
int cache_get_meta(cache *c, int provider, cache_meta *m)
{
    const char *name = cache_provider_name(provider);
    struct decode_arg a = {m, name, "meta"};

    memset(m, 0, sizeof(*m));
    return cache_read(c, DB_META, name, strlen(name), cache_decode_meta, &a);
}

struct raw_arg {
    void *val;
    size_t *vlen;
};

static int cache_copy_raw(void *arg, const MDB_val *v)
{
    struct raw_arg *a = arg;

    if (v->mv_size > *a->vlen) {
        *a->vlen = v->mv_size;
        return CACHE_CORRUPT;
    }
    memcpy(a->val, v->mv_data, v->mv_size);
    *a->vlen = v->mv_size;
    return CACHE_OK;
}

/* cache_get_raw - copy a value of any named database into val (*vlen: in size, out length) */
int cache_get_raw(cache *c, const char *db, const void *key, size_t klen, void *val, size_t *vlen)
{
    struct raw_arg a = {val, vlen};
    int i = cache_db_index(db);

    if (i < 0)
        return CACHE_ERROR;
    return cache_read(c, i, key, klen, cache_copy_raw, &a);
}

/* ---- writing ---- */

typedef int (*cache_write_fn)(cache *c, MDB_txn *txn, void *arg);

/* cache_write - run fn in a write transaction; grow and redo on MDB_MAP_FULL */
static int cache_write(cache *c, cache_write_fn fn, void *arg)
{
    MDB_txn *txn;
    int rc = 0;

    if (c->rdonly) {
        log_err("cache %s: opened read-only, cannot write", c->path);
        return CACHE_ERROR;
    }
    for (int attempt = 0; attempt < CACHE_RETRIES; attempt++) {
        /* shared, so another thread's adopt or grow waits for this transaction */
        pthread_rwlock_rdlock(&c->resize);
        if ((rc = mdb_txn_begin(c->env, NULL, 0, &txn)) == 0) {
            rc = fn(c, txn, arg);
            if (rc == 0)
                rc = mdb_txn_commit(txn);
            else
                mdb_txn_abort(txn);
        }
        pthread_rwlock_unlock(&c->resize);
        if (rc == MDB_MAP_RESIZED) {
            cache_adopt_size(c);
            continue;
        }
        if (rc == MDB_MAP_FULL && cache_grow(c))
            continue;
        break;
    }
    if (rc == 0)
        return CACHE_OK;
    if (rc != WRITE_FAILED)
        log_err("cache %s: write: %s", c->path, mdb_strerror(rc));
    return CACHE_ERROR;
}

/*
 * Records hold one entry per provider. rec_ops lets one merge routine
 * (decode the stored record, swap one provider's entry, re-encode) serve
 * both the outbound and the inbound database.
 */
typedef struct rec_ops {
    int db;
    size_t rec_size;
    bool (*decode)(const void *v, size_t len, void *rec, const char **why);
    void (*release)(void *rec);
    size_t (*count)(const void *rec);
    const void *(*entry)(const void *rec, size_t i);
    int (*provider)(const void *entry);
    bool (*encode)(buf *b, const char *domain, const void *const *e, size_t n);
} rec_ops;

static bool out_decode(const void *v, size_t len, void *rec, const char **why)
{
    return codec_decode_outbound(v, len, rec, why);
}
static void out_release(void *rec)
{
    (void)rec;
}
static size_t out_count(const void *rec)
{
    return ((const cache_outbound *)rec)->n;
}
static const void *out_entry(const void *rec, size_t i)
{
    return &((const cache_outbound *)rec)->e[i];
}
static int out_provider(const void *e)
{
    return ((const cache_out_entry *)e)->provider;
}
static bool out_encode(buf *b, const char *domain, const void *const *e, size_t n)
{
    return codec_encode_outbound(b, domain, (const cache_out_entry *const *)e, n);
}
static bool in_decode(const void *v, size_t len, void *rec, const char **why)
{
    return codec_decode_inbound(v, len, rec, why);
}
static void in_release(void *rec)
{
    cache_inbound_free(rec);
}
static size_t in_count(const void *rec)
{
    return ((const cache_inbound *)rec)->n;
}
static const void *in_entry(const void *rec, size_t i)
{
    return &((const cache_inbound *)rec)->e[i];
}
static int in_provider(const void *e)
{
    return ((const cache_in_entry *)e)->provider;
}
static bool in_encode(buf *b, const char *domain, const void *const *e, size_t n)
{
    return codec_encode_inbound(b, domain, (const cache_in_entry *const *)e, n);
}

static const rec_ops out_ops = {
        DB_OUTBOUND, sizeof(cache_outbound), out_decode, out_release, out_count,
        out_entry,   out_provider,           out_encode};
static const rec_ops in_ops = {DB_INBOUND, sizeof(cache_inbound), in_decode, in_release, in_count,
                               in_entry,   in_provider,           in_encode};

/* rec_merge - in txn: set provider's entry of domain to e (NULL removes it) */
static int rec_merge(cache *c, MDB_txn *txn, const rec_ops *ops, void *scratch, buf *b,
                     const char *domain, int provider, const void *e)
{
    MDB_val k = {strlen(domain), (void *)domain}, v;
    const void *list[PROV__COUNT + 1];
    size_t n = 0;
    bool have = false;
    const char *why;
    int rc = mdb_get(txn, c->dbi[ops->db], &k, &v);

    if (rc == 0) {
        have = ops->decode(v.mv_data, v.mv_size, scratch, &why);
        if (!have)
            log_warn("cache: replacing undecodable %s record of %s (%s)", cache_db_names[ops->db],
                     domain, why);
    } else if (rc != MDB_NOTFOUND) {
        return rc;
    }
    /* entries stay ordered by provider id */
    for (size_t i = 0; have && i < ops->count(scratch); i++)
        if (ops->provider(ops->entry(scratch, i)) != provider)
            list[n++] = ops->entry(scratch, i);
    if (e) {
        size_t pos = n++;
        for (; pos > 0 && ops->provider(list[pos - 1]) > provider; pos--)
            list[pos] = list[pos - 1];
        list[pos] = e;
    }
    if (n == 0) {
        rc = rc == 0 ? mdb_del(txn, c->dbi[ops->db], &k, NULL) : 0;
    } else {
        buf_reset(b);
        if (!ops->encode(b, domain, list, n)) {
            log_err("cache: %s record of %s cannot be stored (too large, or a provider or "
                    "status out of range)",
                    cache_db_names[ops->db], domain);
            rc = WRITE_FAILED;
        } else {
            MDB_val nv = {b->len, b->data};
            rc = mdb_put(txn, c->dbi[ops->db], &k, &nv, 0);
        }
    }
    if (have)
        ops->release(scratch);
    return rc;
}

struct replace_arg {
    int provider;
    const void *items; /* cache_out_item[] or cache_in_item[] */
    size_t n;
    size_t item_size;
    size_t entry_off;
    const rec_ops *ops;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* item_domain / item_entry - the fields of the i-th write item */
static const char *item_domain(const struct replace_arg *a, size_t i)
{
    return *(const char *const *)((const char *)a->items + i * a->item_size);
}
static const void *item_entry(const struct replace_arg *a, size_t i)
{
    return (const char *)a->items + i * a->item_size + a->entry_off;
}

/* replace_one_db - in txn: make db hold exactly the given items for the provider */
static int replace_one_db(cache *c, MDB_txn *txn, const struct replace_arg *a, void *scratch,
                          buf *b)
{
    MDB_cursor *cur;
    MDB_val k, v;
    const char **sorted = NULL, **stale = NULL;
    size_t nstale = 0, capstale = 0;
    int rc;
    const char *why;

    if (a->n && (sorted = malloc(a->n * sizeof(*sorted))) == NULL)
        return ENOMEM;
    for (size_t i = 0; i < a->n; i++)
        sorted[i] = item_domain(a, i);
    if (a->n) /* qsort and bsearch take no NULL array, even for 0 elements */
        qsort(sorted, a->n, sizeof(*sorted), cmp_str);
    /* pass 1: domains where this provider has an entry but no longer says anything */
    if ((rc = mdb_cursor_open(txn, c->dbi[a->ops->db], &cur)))
        goto out;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        bool mine = false;
        char *key;
        if (!a->ops->decode(v.mv_data, v.mv_size, scratch, &why))
            continue;
        for (size_t i = 0; i < a->ops->count(scratch); i++)
            mine |= a->ops->provider(a->ops->entry(scratch, i)) == a->provider;
        a->ops->release(scratch);
        if (!mine || (key = strndup(k.mv_data, k.mv_size)) == NULL)
            continue;
        if (a->n && bsearch(&key, sorted, a->n, sizeof(*sorted), cmp_str)) {
            free(key);
            continue;
        }
        if (nstale == capstale) {
            capstale = capstale ? capstale * 2 : 64;
            const char **ns = realloc(stale, capstale * sizeof(*ns));
            if (ns == NULL) {
                free(key);
                rc = ENOMEM;
                break;
            }
            stale = ns;
        }
        stale[nstale++] = key;
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        goto out;
    rc = 0;
    for (size_t i = 0; i < nstale && rc == 0; i++)
        rc = rec_merge(c, txn, a->ops, scratch, b, stale[i], a->provider, NULL);
    /* pass 2: every item the provider sent */
    for (size_t i = 0; i < a->n && rc == 0; i++)
        rc = rec_merge(c, txn, a->ops, scratch, b, item_domain(a, i), a->provider,
                       item_entry(a, i));
out:
    for (size_t i = 0; i < nstale; i++)
        free((char *)stale[i]);
    free(stale);
    free(sorted);
    return rc;
}

struct replace_all {
    struct replace_arg out, in;
    const cache_meta *meta;
};

/* put_meta_txn - store meta for provider inside txn */
static int put_meta_txn(cache *c, MDB_txn *txn, int provider, const cache_meta *m)
{
    buf b = BUF_INIT;
    const char *name = cache_provider_name(provider);
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc;

    if (!codec_encode_meta(&b, m)) {
        buf_free(&b);
        return ENOMEM;
    }
    v.mv_size = b.len;
    v.mv_data = b.data;
    rc = mdb_put(txn, c->dbi[DB_META], &k, &v, 0);
    buf_free(&b);
    return rc;
}

static int replace_txn(cache *c, MDB_txn *txn, void *arg)
{
    struct replace_all *ra = arg;
    void *scratch = malloc(sizeof(cache_outbound) > sizeof(cache_inbound) ? sizeof(cache_outbound)
                                                                          : sizeof(cache_inbound));
    buf b = BUF_INIT;
    int rc;

    if (scratch == NULL)
        return ENOMEM;
    rc = replace_one_db(c, txn, &ra->out, scratch, &b);
    if (rc == 0)
        rc = replace_one_db(c, txn, &ra->in, scratch, &b);
    if (rc == 0 && ra->meta)
        rc = put_meta_txn(c, txn, ra->out.provider, ra->meta);
    buf_free(&b);
    free(scratch);
    return rc;
}

/* cache_replace_provider - one transaction: provider's outbound, inbound and meta */
int cache_replace_provider(cache *c, int provider, const cache_out_item *out, size_t n_out,
                           const cache_in_item *in, size_t n_in, const cache_meta *meta)
{
    struct replace_all ra = {
            {provider, out, n_out, sizeof(cache_out_item), offsetof(cache_out_item, e), &out_ops},
            {provider, in, n_in, sizeof(cache_in_item), offsetof(cache_in_item, e), &in_ops},
            meta,
    };

    if (provider < 0 || provider >= PROV__COUNT) {
        log_err("cache %s: replace: no provider %d", c->path, provider);
        return CACHE_ERROR;
    }
    for (size_t i = 0; i < n_out; i++)
        if (out[i].e.provider != provider) {
            log_err("cache %s: replace %s: item %s belongs to %s", c->path,
                    cache_provider_name(provider), out[i].domain,
                    cache_provider_name(out[i].e.provider));
            return CACHE_ERROR;
        }
    for (size_t i = 0; i < n_in; i++)
        if (in[i].e.provider != provider) {
            log_err("cache %s: replace %s: item %s belongs to %s", c->path,
                    cache_provider_name(provider), in[i].domain,
                    cache_provider_name(in[i].e.provider));
            return CACHE_ERROR;
        }
    return cache_write(c, replace_txn, &ra);
}

struct meta_arg {
    int provider;
    const cache_meta *m;
};

static int meta_txn(cache *c, MDB_txn *txn, void *arg)
{
    struct meta_arg *a = arg;

    return put_meta_txn(c, txn, a->provider, a->m);
}

/* cache_put_meta - record a refresh outcome without touching any domain */
int cache_put_meta(cache *c, int provider, const cache_meta *m)
{
    struct meta_arg a = {provider, m};

    if (provider < 0 || provider >= PROV__COUNT)
        return CACHE_ERROR;
    return cache_write(c, meta_txn, &a);
}

struct merge_arg {
    const rec_ops *ops;
    const char *domain;
    int provider;
    const void *entry;
};

static int merge_txn(cache *c, MDB_txn *txn, void *arg)
{
    struct merge_arg *a = arg;
    void *scratch = malloc(a->ops->rec_size);
    buf b = BUF_INIT;
    int rc;

    if (scratch == NULL)
        return ENOMEM;
    rc = rec_merge(c, txn, a->ops, scratch, &b, a->domain, a->provider, a->entry);
    buf_free(&b);
    free(scratch);
    return rc;
}

/* cache_upsert_outbound - write one provider's entry for one domain (sendgatectl write-through) */
int cache_upsert_outbound(cache *c, const char *domain, const cache_out_entry *e)
{
    struct merge_arg a = {&out_ops, domain, e->provider, e};

    return cache_write(c, merge_txn, &a);
}

int cache_delete_outbound(cache *c, const char *domain, int provider)
{
    struct merge_arg a = {&out_ops, domain, provider, NULL};

    return cache_write(c, merge_txn, &a);
}

int cache_upsert_inbound(cache *c, const char *domain, const cache_in_entry *e)
{
    struct merge_arg a = {&in_ops, domain, e->provider, e};

    return cache_write(c, merge_txn, &a);
}

int cache_delete_inbound(cache *c, const char *domain, int provider)
{
    struct merge_arg a = {&in_ops, domain, provider, NULL};

    return cache_write(c, merge_txn, &a);
}

struct raw_write {
    int db;
    MDB_val k, v;
    bool del;
};

static int raw_txn(cache *c, MDB_txn *txn, void *arg)
{
    struct raw_write *a = arg;
    int rc;

    if (!a->del)
        return mdb_put(txn, c->dbi[a->db], &a->k, &a->v, 0);
    rc = mdb_del(txn, c->dbi[a->db], &a->k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* cache_put_raw / cache_del_raw - plain key/value writes (suppress, revoked) */
int cache_put_raw(cache *c, const char *db, const void *key, size_t klen, const void *val,
                  size_t vlen)
{
    struct raw_write a = {cache_db_index(db), {klen, (void *)key}, {vlen, (void *)val}, false};

    return a.db < 0 ? CACHE_ERROR : cache_write(c, raw_txn, &a);
}

int cache_del_raw(cache *c, const char *db, const void *key, size_t klen)
{
    struct raw_write a = {cache_db_index(db), {klen, (void *)key}, {0, NULL}, true};

    return a.db < 0 ? CACHE_ERROR : cache_write(c, raw_txn, &a);
}

/* ---- iteration ---- */

typedef void (*cache_iter_fn)(void *arg, const MDB_val *k, const MDB_val *v);

/*
 * cache_iterate - walk a database in one read snapshot. The callback runs
 * inside the snapshot with the resize lock held shared: it may look things
 * up but must not write to this cache (a write that grows the map would
 * wait for this very lock).
 */
static int cache_iterate(cache *c, int db, cache_iter_fn fn, void *arg)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = 0, dead;

    for (int attempt = 0; attempt < CACHE_RETRIES; attempt++) {
        pthread_rwlock_rdlock(&c->resize);
        if ((rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn)) == 0)
            break;
        pthread_rwlock_unlock(&c->resize);
        if (rc == MDB_MAP_RESIZED)
            cache_adopt_size(c);
        else if (rc == MDB_READERS_FULL)
            mdb_reader_check(c->env, &dead);
        else
            break;
    }
    if (rc == 0) {
        if ((rc = mdb_cursor_open(txn, c->dbi[db], &cur)) == 0) {
            for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
                 rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
                fn(arg, &k, &v);
            mdb_cursor_close(cur);
        }
        mdb_txn_abort(txn);
        pthread_rwlock_unlock(&c->resize);
    }
    if (rc == MDB_NOTFOUND || rc == 0)
        return CACHE_OK;
    log_err("cache %s: iterate %s: %s", c->path, cache_db_names[db], mdb_strerror(rc));
    return CACHE_ERROR;
}

struct iter_arg {
    void *fn;
    void *arg;
};

static void iter_out(void *arg, const MDB_val *k, const MDB_val *v)
{
    struct iter_arg *a = arg;
    char key[KEY_TEXT_MAX];
    cache_outbound *rec = malloc(sizeof(*rec));
    const char *why = "out of memory";
    bool ok;

    snprintf(key, sizeof(key), "%.*s", (int)k->mv_size, (const char *)k->mv_data);
    ok = rec && codec_decode_outbound(v->mv_data, v->mv_size, rec, &why);
    if (!ok)
        log_warn("cache: outbound record for %s ignored: %s", key, why);
    ((cache_out_fn)a->fn)(a->arg, key, ok ? rec : NULL, ok ? CACHE_OK : CACHE_CORRUPT);
    free(rec);
}

static void iter_in(void *arg, const MDB_val *k, const MDB_val *v)
{
    struct iter_arg *a = arg;
    char key[KEY_TEXT_MAX];
    cache_inbound rec;
    const char *why;
    bool ok;

    snprintf(key, sizeof(key), "%.*s", (int)k->mv_size, (const char *)k->mv_data);
    ok = codec_decode_inbound(v->mv_data, v->mv_size, &rec, &why);
    if (!ok)
        log_warn("cache: inbound record for %s ignored: %s", key, why);
    ((cache_in_fn)a->fn)(a->arg, key, ok ? &rec : NULL, ok ? CACHE_OK : CACHE_CORRUPT);
    if (ok)
        cache_inbound_free(&rec);
}

static void iter_raw(void *arg, const MDB_val *k, const MDB_val *v)
{
    struct iter_arg *a = arg;

    ((cache_raw_fn)a->fn)(a->arg, k->mv_data, k->mv_size, v->mv_data, v->mv_size);
}

int cache_foreach_outbound(cache *c, cache_out_fn fn, void *arg)
{
    struct iter_arg a = {(void *)fn, arg};

    return cache_iterate(c, DB_OUTBOUND, iter_out, &a);
}

int cache_foreach_inbound(cache *c, cache_in_fn fn, void *arg)
{
    struct iter_arg a = {(void *)fn, arg};

    return cache_iterate(c, DB_INBOUND, iter_in, &a);
}

int cache_foreach_raw(cache *c, const char *db, cache_raw_fn fn, void *arg)
{
    struct iter_arg a = {(void *)fn, arg};
    int i = cache_db_index(db);

    return i < 0 ? CACHE_ERROR : cache_iterate(c, i, iter_raw, &a);
}
