/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store.c - the records in the cache: decode on read, merge on write (see cache.h)
 *
 * Every function here runs its LMDB work inside a transaction cache.c
 * gives it (cache_read, cache_write, cache_iterate), which also decide
 * what a damaged environment answers: CACHE_ERROR, never a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_int.h"
#include "cache/codec.h"
#include "lib/buf.h"
#include "lib/log.h"

#define KEY_TEXT_MAX 512

struct decode_arg {
    void *rec;
    const char *key;
    const char *db;
};

/* decoded - a decoder's answer: CACHE_OK, or CACHE_CORRUPT after saying why */
static int decoded(const struct decode_arg *a, bool ok, const char *why)
{
    if (ok)
        return CACHE_OK;
    log_warn("cache: %s record for %s ignored: %s", a->db, a->key, why);
    return CACHE_CORRUPT;
}

static int cache_decode_out(void *arg, const MDB_val *v)
{
    struct decode_arg *a = arg;
    char why[ERRBUF_MAX];

    return decoded(a, codec_decode_outbound(v->mv_data, v->mv_size, a->rec, why, sizeof(why)), why);
}

static int cache_decode_in(void *arg, const MDB_val *v)
{
    struct decode_arg *a = arg;
    char why[ERRBUF_MAX];

    return decoded(a, codec_decode_inbound(v->mv_data, v->mv_size, a->rec, why, sizeof(why)), why);
}

static int cache_decode_meta(void *arg, const MDB_val *v)
{
    struct decode_arg *a = arg;
    char why[ERRBUF_MAX];

    return decoded(a, codec_decode_meta(v->mv_data, v->mv_size, a->rec, why, sizeof(why)), why);
}

/* read_outbound - the outbound record; peek skips the required providers' check */
static int read_outbound(cache *c, const char *domain, cache_outbound *out, bool peek)
{
    struct decode_arg a = {out, domain, "outbound"};

    out->n = 0;
    return cache_read(c, DB_OUTBOUND, peek, domain, strlen(domain), cache_decode_out, &a);
}

/* read_inbound - the inbound record; peek skips the required providers' check */
static int read_inbound(cache *c, const char *domain, cache_inbound *out, bool peek)
{
    struct decode_arg a = {out, domain, "inbound"};

    memset(out, 0, sizeof(*out));
    return cache_read(c, DB_INBOUND, peek, domain, strlen(domain), cache_decode_in, &a);
}

/* cache_get_outbound - the outbound record of a normalised domain (a lookup for a verdict) */
int cache_get_outbound(cache *c, const char *domain, cache_outbound *out)
{
    return read_outbound(c, domain, out, false);
}

/* cache_get_inbound - the inbound record (free with cache_inbound_free on CACHE_OK) */
int cache_get_inbound(cache *c, const char *domain, cache_inbound *out)
{
    return read_inbound(c, domain, out, false);
}

/* cache_peek_outbound - what the cache holds, even while a required provider's data is missing */
int cache_peek_outbound(cache *c, const char *domain, cache_outbound *out)
{
    return read_outbound(c, domain, out, true);
}

/* cache_peek_inbound - cache_get_inbound without the required providers' check */
int cache_peek_inbound(cache *c, const char *domain, cache_inbound *out)
{
    return read_inbound(c, domain, out, true);
}

/* cache_get_meta - a provider's refresh bookkeeping */
int cache_get_meta(cache *c, int provider, cache_meta *m)
{
    const char *name = cache_provider_name(provider);
    struct decode_arg a = {m, name, "meta"};

    memset(m, 0, sizeof(*m));
    return cache_read(c, DB_META, true, name, strlen(name), cache_decode_meta, &a);
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
    return cache_read(c, i, true, key, klen, cache_copy_raw, &a);
}

/*
 * Records hold one entry per provider. rec_ops lets one merge routine
 * (decode the stored record, swap one provider's entry, re-encode) serve
 * both the outbound and the inbound database.
 */
typedef struct rec_ops {
    int db;
    size_t rec_size;
    bool (*decode)(const void *v, size_t len, void *rec, char *err, size_t errlen);
    void (*release)(void *rec);
    bool (*encode)(buf *b, const char *domain, const void *const *e, size_t n);
    size_t n_off, e_off, entry_size; /* the record's uint8_t n and its entries e[] */
    size_t provider_off;             /* an entry's uint8_t provider */
} rec_ops;

/* rec_count / rec_entry / rec_provider - a decoded record's entries, whatever its kind */
static size_t rec_count(const rec_ops *ops, const void *rec)
{
    return *((const uint8_t *)rec + ops->n_off);
}
static const void *rec_entry(const rec_ops *ops, const void *rec, size_t i)
{
    return (const char *)rec + ops->e_off + i * ops->entry_size;
}
static int rec_provider(const rec_ops *ops, const void *e)
{
    return *((const uint8_t *)e + ops->provider_off);
}

static bool out_decode(const void *v, size_t len, void *rec, char *err, size_t errlen)
{
    return codec_decode_outbound(v, len, rec, err, errlen);
}
static void out_release(void *rec)
{
    (void)rec;
}
static bool out_encode(buf *b, const char *domain, const void *const *e, size_t n)
{
    return codec_encode_outbound(b, domain, (const cache_out_entry *const *)e, n);
}
static bool in_decode(const void *v, size_t len, void *rec, char *err, size_t errlen)
{
    return codec_decode_inbound(v, len, rec, err, errlen);
}
static void in_release(void *rec)
{
    cache_inbound_free(rec);
}
static bool in_encode(buf *b, const char *domain, const void *const *e, size_t n)
{
    return codec_encode_inbound(b, domain, (const cache_in_entry *const *)e, n);
}

/* REC_OPS - the operations of a record type rec whose entries are of type entry */
#define REC_OPS(db, rec, entry, pfx)                                                  \
    {                                                                                 \
        db, sizeof(rec), pfx##_decode, pfx##_release, pfx##_encode, offsetof(rec, n), \
                offsetof(rec, e), sizeof(entry), offsetof(entry, provider)            \
    }
static const rec_ops out_ops = REC_OPS(DB_OUTBOUND, cache_outbound, cache_out_entry, out);
static const rec_ops in_ops = REC_OPS(DB_INBOUND, cache_inbound, cache_in_entry, in);

/* rec_merge - in txn: set provider's entry of domain to e (NULL removes it) */
static int rec_merge(cache *c, MDB_txn *txn, const rec_ops *ops, void *scratch, buf *b,
                     const char *domain, int provider, const void *e)
{
    MDB_val k = {strlen(domain), (void *)domain}, v;
    const void *list[PROV__COUNT + 1];
    size_t n = 0;
    bool have = false;
    char why[ERRBUF_MAX];
    int rc = mdb_get(txn, cache_dbi(c, ops->db), &k, &v);

    if (rc == 0) {
        have = ops->decode(v.mv_data, v.mv_size, scratch, why, sizeof(why));
        if (!have)
            log_warn("cache: replacing undecodable %s record of %s (%s)", cache_db_names[ops->db],
                     domain, why);
    } else if (rc != MDB_NOTFOUND) {
        return rc;
    }
    /* entries stay ordered by provider id */
    for (size_t i = 0; have && i < rec_count(ops, scratch); i++)
        if (rec_provider(ops, rec_entry(ops, scratch, i)) != provider)
            list[n++] = rec_entry(ops, scratch, i);
    if (e) {
        size_t pos = n++;
        for (; pos > 0 && rec_provider(ops, list[pos - 1]) > provider; pos--)
            list[pos] = list[pos - 1];
        list[pos] = e;
    }
    if (n == 0) {
        rc = rc == 0 ? mdb_del(txn, cache_dbi(c, ops->db), &k, NULL) : 0;
    } else {
        buf_reset(b);
        if (!ops->encode(b, domain, list, n)) {
            log_err("cache: %s record of %s cannot be stored (too large, or a provider or "
                    "status out of range)",
                    cache_db_names[ops->db], domain);
            rc = WRITE_FAILED;
        } else {
            MDB_val nv = {b->len, b->data};
            rc = mdb_put(txn, cache_dbi(c, ops->db), &k, &nv, 0);
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

    if (a->n && (sorted = malloc(a->n * sizeof(*sorted))) == NULL)
        return ENOMEM;
    for (size_t i = 0; i < a->n; i++)
        sorted[i] = item_domain(a, i);
    if (a->n) /* qsort and bsearch take no NULL array, even for 0 elements */
        qsort(sorted, a->n, sizeof(*sorted), cmp_str);
    /* pass 1: domains where this provider has an entry but no longer says anything */
    if ((rc = mdb_cursor_open(txn, cache_dbi(c, a->ops->db), &cur)))
        goto out;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        bool mine = false;
        char *key;
        if (!a->ops->decode(v.mv_data, v.mv_size, scratch, NULL, 0))
            continue;
        for (size_t i = 0; i < rec_count(a->ops, scratch); i++)
            mine |= rec_provider(a->ops, rec_entry(a->ops, scratch, i)) == a->provider;
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

/* items_mine - does every write item belong to the provider? (false after saying which not) */
static bool items_mine(cache *c, const struct replace_arg *a)
{
    for (size_t i = 0; i < a->n; i++) {
        int p = rec_provider(a->ops, item_entry(a, i));
        if (p != a->provider) {
            log_err("cache %s: replace %s: item %s belongs to %s", cache_path(c),
                    cache_provider_name(a->provider), item_domain(a, i), cache_provider_name(p));
            return false;
        }
    }
    return true;
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
    rc = mdb_put(txn, cache_dbi(c, DB_META), &k, &v, 0);
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
        log_err("cache %s: replace: no provider %d", cache_path(c), provider);
        return CACHE_ERROR;
    }
    if (!items_mine(c, &ra.out) || !items_mine(c, &ra.in))
        return CACHE_ERROR;
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

/* merge - set (e) or remove (NULL) one provider's entry of a domain's record */
static int merge(cache *c, const rec_ops *ops, const char *domain, int provider, const void *e)
{
    struct merge_arg a = {ops, domain, provider, e};

    return cache_write(c, merge_txn, &a);
}

/* cache_upsert_outbound - write one provider's entry for one domain (sendgatectl write-through) */
int cache_upsert_outbound(cache *c, const char *domain, const cache_out_entry *e)
{
    return merge(c, &out_ops, domain, e->provider, e);
}

int cache_delete_outbound(cache *c, const char *domain, int provider)
{
    return merge(c, &out_ops, domain, provider, NULL);
}

int cache_upsert_inbound(cache *c, const char *domain, const cache_in_entry *e)
{
    return merge(c, &in_ops, domain, e->provider, e);
}

int cache_delete_inbound(cache *c, const char *domain, int provider)
{
    return merge(c, &in_ops, domain, provider, NULL);
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
        return mdb_put(txn, cache_dbi(c, a->db), &a->k, &a->v, 0);
    rc = mdb_del(txn, cache_dbi(c, a->db), &a->k, NULL);
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

struct iter_arg {
    void *fn;
    void *arg;
};

static void iter_out(void *arg, const MDB_val *k, const MDB_val *v)
{
    struct iter_arg *a = arg;
    char key[KEY_TEXT_MAX];
    cache_outbound *rec = malloc(sizeof(*rec));
    char why[ERRBUF_MAX];
    bool ok;

    snprintf(key, sizeof(key), "%.*s", (int)k->mv_size, (const char *)k->mv_data);
    ok = rec ? codec_decode_outbound(v->mv_data, v->mv_size, rec, why, sizeof(why))
             : errbuf_copy(why, sizeof(why), "out of memory");
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
    char why[ERRBUF_MAX];
    bool ok;

    snprintf(key, sizeof(key), "%.*s", (int)k->mv_size, (const char *)k->mv_data);
    ok = codec_decode_inbound(v->mv_data, v->mv_size, &rec, why, sizeof(why));
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
