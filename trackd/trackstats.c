/*
 * trackstats.c - the tracking statistics environment (see trackstats.h)
 *
 * Written by sendgate-trackd's event writer thread, read by
 * `sendgatectl stats`. Values are little-endian with a version byte and a
 * field count, so a later build can add counters and still read old days.
 */
#include "trackd/trackstats.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "lib/token.h"

#define TS_VERSION    1
#define TS_KEY_MAX    (DOMAIN_MAX + TOKEN_MSGREF_MAX + 1)
#define TS_DAY_VLEN   (2 + 8 * TS__COUNT)
#define TS_MSG_VLEN   13
#define TS_GROW_LIMIT 16

struct trackstats {
    MDB_env *env;
    MDB_dbi days, msgs;
    size_t map_size, max_map_size;
    bool rdonly;
};

typedef struct ts_msg {
    uint32_t first_open;  /* day + 1, 0 = never */
    uint32_t first_click; /* day + 1, 0 = never */
    uint32_t last;        /* day of the last event */
} ts_msg;

static const char *const ts_names[TS__COUNT] = {"clicks",       "clicks_unique", "opens",
                                                "opens_unique", "unsubscribes",  "bot_clicks",
                                                "bot_opens"};

/* trackstats_field_name - a counter's name in tables and JSON */
const char *trackstats_field_name(int f)
{
    return f >= 0 && f < TS__COUNT ? ts_names[f] : "unknown";
}

static void ts_put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t ts_get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ts_day - UTC day number of a unix time */
static uint32_t ts_day(int64_t t)
{
    return t <= 0 ? 0 : (uint32_t)(t / 86400);
}

/* ts_day_key - "domain\0" + big-endian day (sorts by domain, then by day) */
static size_t ts_day_key(const char *domain, uint32_t day, unsigned char *key)
{
    size_t dl = strnlen(domain, DOMAIN_MAX - 1);

    memcpy(key, domain, dl);
    key[dl] = '\0';
    for (int i = 0; i < 4; i++)
        key[dl + 1 + i] = (unsigned char)(day >> (24 - 8 * i));
    return dl + 5;
}

/* ts_decode_day - counters from a value; unknown trailing fields ignored */
static void ts_decode_day(const MDB_val *v, uint64_t out[TS__COUNT])
{
    const unsigned char *p = v->mv_data;
    size_t nf;

    memset(out, 0, sizeof(uint64_t) * TS__COUNT);
    if (v->mv_size < 2 || p[0] != TS_VERSION)
        return;
    nf = p[1];
    for (size_t f = 0; f < nf && f < TS__COUNT && 2 + 8 * (f + 1) <= v->mv_size; f++)
        for (int i = 7; i >= 0; i--)
            out[f] = (out[f] << 8) | p[2 + 8 * f + (size_t)i];
}

static void ts_encode_day(const uint64_t in[TS__COUNT], unsigned char *p)
{
    p[0] = TS_VERSION;
    p[1] = TS__COUNT;
    for (size_t f = 0; f < TS__COUNT; f++)
        for (int i = 0; i < 8; i++)
            p[2 + 8 * f + (size_t)i] = (unsigned char)(in[f] >> (8 * i));
}

/* trackstats_open - open (and for a writer create) the environment at path */
trackstats *trackstats_open(const char *path, size_t map_size, bool rdonly, char *err,
                            size_t errlen)
{
    trackstats *s = calloc(1, sizeof(*s));
    MDB_txn *txn = NULL;
    unsigned flags = rdonly ? MDB_RDONLY : MDB_NOSYNC;
    int rc;

    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->rdonly = rdonly;
    s->map_size = map_size;
    s->max_map_size = map_size * TS_GROW_LIMIT;
    if (!rdonly && mkdir(path, 0750) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "create statistics directory %s: %s", path, strerror(errno));
        free(s);
        return NULL;
    }
    if ((rc = mdb_env_create(&s->env)) || (rc = mdb_env_set_maxdbs(s->env, 4)) ||
        (rc = mdb_env_set_maxreaders(s->env, 126)) ||
        (rc = rdonly ? 0 : mdb_env_set_mapsize(s->env, map_size)) ||
        (rc = mdb_env_open(s->env, path, flags, 0660)) ||
        (rc = mdb_txn_begin(s->env, NULL, rdonly ? MDB_RDONLY : 0, &txn)) ||
        (rc = mdb_dbi_open(txn, "days", rdonly ? 0 : MDB_CREATE, &s->days)) ||
        (rc = mdb_dbi_open(txn, "msgs", rdonly ? 0 : MDB_CREATE, &s->msgs)) ||
        (rc = mdb_txn_commit(txn))) {
        snprintf(err, errlen, "open statistics %s: %s%s", path,
                 rc == MDB_NOTFOUND ? "not initialised" : mdb_strerror(rc),
                 rdonly && (rc == ENOENT || rc == MDB_NOTFOUND)
                         ? " (sendgate-trackd has not recorded anything yet)"
                         : "");
        if (txn && rc != 0)
            mdb_txn_abort(txn);
        if (s->env)
            mdb_env_close(s->env);
        free(s);
        return NULL;
    }
    return s;
}

/* trackstats_close - sync and close */
void trackstats_close(trackstats *s)
{
    if (s == NULL)
        return;
    if (!s->rdonly)
        mdb_env_sync(s->env, 1);
    mdb_env_close(s->env);
    free(s);
}

/* trackstats_sync - flush what MDB_NOSYNC left in the page cache */
bool trackstats_sync(trackstats *s)
{
    return mdb_env_sync(s->env, 1) == 0;
}

/* ts_bump - add to counters of (domain, day) inside txn */
static int ts_bump(trackstats *s, MDB_txn *txn, const char *domain, uint32_t day,
                   const uint64_t add[TS__COUNT])
{
    unsigned char key[DOMAIN_MAX + 5], val[TS_DAY_VLEN];
    MDB_val k = {ts_day_key(domain, day, key), key}, v;
    uint64_t cur[TS__COUNT];
    int rc = mdb_get(txn, s->days, &k, &v);

    if (rc == MDB_NOTFOUND)
        memset(cur, 0, sizeof(cur));
    else if (rc == 0)
        ts_decode_day(&v, cur);
    else
        return rc;
    for (int f = 0; f < TS__COUNT; f++)
        cur[f] += add[f];
    ts_encode_day(cur, val);
    v.mv_size = sizeof(val);
    v.mv_data = val;
    return mdb_put(txn, s->days, &k, &v, 0);
}

/* ts_msg_uniques - update the message's first-seen days; count what is new */
static int ts_msg_uniques(trackstats *s, MDB_txn *txn, const trackstats_event *e, uint32_t day,
                          uint64_t add[TS__COUNT])
{
    unsigned char key[TS_KEY_MAX], val[TS_MSG_VLEN];
    size_t dl = strnlen(e->domain, DOMAIN_MAX - 1), ml = strnlen(e->msgref, TOKEN_MSGREF_MAX - 1);
    MDB_val k = {dl + 1 + ml, key}, v;
    ts_msg m = {0, 0, 0};
    int rc;

    memcpy(key, e->domain, dl);
    key[dl] = '\0';
    memcpy(key + dl + 1, e->msgref, ml);
    rc = mdb_get(txn, s->msgs, &k, &v);
    if (rc == 0 && v.mv_size >= TS_MSG_VLEN && ((unsigned char *)v.mv_data)[0] == TS_VERSION) {
        m.first_open = ts_get_u32((unsigned char *)v.mv_data + 1);
        m.first_click = ts_get_u32((unsigned char *)v.mv_data + 5);
    } else if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if (e->kind == TOKEN_CLICK && m.first_click == 0) {
        m.first_click = day + 1;
        add[TS_CLICKS_UNIQUE]++;
    }
    if (m.first_open == 0) { /* an open, or a click implying one */
        m.first_open = day + 1;
        add[TS_OPENS_UNIQUE]++;
        if (e->kind == TOKEN_CLICK)
            add[TS_OPENS]++;
    }
    m.last = day;
    val[0] = TS_VERSION;
    ts_put_u32(val + 1, m.first_open);
    ts_put_u32(val + 5, m.first_click);
    ts_put_u32(val + 9, m.last);
    v.mv_size = sizeof(val);
    v.mv_data = val;
    return mdb_put(txn, s->msgs, &k, &v, 0);
}

/* ts_apply_one - one event's effect on the counters */
static int ts_apply_one(trackstats *s, MDB_txn *txn, const trackstats_event *e)
{
    uint64_t add[TS__COUNT] = {0};
    uint32_t day = ts_day(e->when);
    int rc;

    if (e->kind == TOKEN_CLICK) {
        add[TS_CLICKS]++;
        add[TS_BOT_CLICKS] += e->bot;
    } else if (e->kind == TOKEN_OPEN) {
        add[TS_OPENS]++;
        add[TS_BOT_OPENS] += e->bot;
    } else if (e->kind == TOKEN_UNSUB)
        add[TS_UNSUBSCRIBES]++;
    else
        return 0;
    if (!e->bot && e->kind != TOKEN_UNSUB && (rc = ts_msg_uniques(s, txn, e, day, add)) != 0)
        return rc;
    return ts_bump(s, txn, e->domain, day, add);
}

/* ts_grow - double the map after MDB_MAP_FULL; false at the limit */
static bool ts_grow(trackstats *s)
{
    if (s->map_size * 2 > s->max_map_size)
        return false;
    if (mdb_env_set_mapsize(s->env, s->map_size * 2) != 0)
        return false;
    s->map_size *= 2;
    log_notice("statistics map grown to %zu bytes", s->map_size);
    return true;
}

/* trackstats_apply - the effect of n events, in one write transaction */
bool trackstats_apply(trackstats *s, const trackstats_event *ev, size_t n)
{
    MDB_txn *txn;
    int rc;

    for (;;) {
        if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
            break;
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = ts_apply_one(s, txn, &ev[i]);
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
        if (rc != MDB_MAP_FULL || !ts_grow(s))
            break;
    }
    if (rc != 0)
        log_err("statistics: %zu event(s) not counted: %s", n, mdb_strerror(rc));
    return rc == 0;
}

/* trackstats_prune - forget messages idle since before; returns how many, -1 on error */
long trackstats_prune(trackstats *s, int64_t before)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    uint32_t cutoff = ts_day(before);
    long n = 0;
    int rc;

    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
        return -1;
    if ((rc = mdb_cursor_open(txn, s->msgs, &cur)) != 0) {
        mdb_txn_abort(txn);
        return -1;
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const unsigned char *p = v.mv_data;
        if (v.mv_size < TS_MSG_VLEN || ts_get_u32(p + 9) < cutoff) {
            if ((rc = mdb_cursor_del(cur, 0)) != 0)
                break;
            n++;
        }
    }
    mdb_cursor_close(cur);
    if (rc == 0 || rc == MDB_NOTFOUND)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    if (rc == 0)
        return n;
    log_err("statistics: pruning failed: %s", mdb_strerror(rc));
    return -1;
}

/* ts_rows_add - fold one day's counters into the row of its domain (rows sorted by key) */
static bool ts_rows_add(trackstats_row **rows, size_t *n, size_t *cap, const char *domain,
                        const uint64_t v[TS__COUNT])
{
    trackstats_row *r;

    if (*n == 0 || strcmp((*rows)[*n - 1].domain, domain) != 0) {
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            trackstats_row *nr = realloc(*rows, nc * sizeof(*nr));
            if (nr == NULL)
                return false;
            *rows = nr;
            *cap = nc;
        }
        r = &(*rows)[(*n)++];
        memset(r, 0, sizeof(*r));
        snprintf(r->domain, sizeof(r->domain), "%s", domain);
    }
    r = &(*rows)[*n - 1];
    for (int f = 0; f < TS__COUNT; f++)
        r->v[f] += v[f];
    return true;
}

/* ts_txn_read - a read transaction, adopting a map another process grew */
static int ts_txn_read(trackstats *s, MDB_txn **txn)
{
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);

    if (rc == MDB_MAP_RESIZED && mdb_env_set_mapsize(s->env, 0) == 0)
        rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
    return rc;
}

/*
 * trackstats_query - per-domain sums over the days of [since, until) (unix times,
 * rounded to whole UTC days: the day holding since is included); domain NULL or "" = all.
 * Rows come sorted by domain; the caller frees *rows.
 */
bool trackstats_query(trackstats *s, const char *domain, int64_t since, int64_t until,
                      trackstats_row **rows, size_t *nrows)
{
    unsigned char key[DOMAIN_MAX + 5];
    uint32_t d0 = ts_day(since), d1 = until <= 0 ? 0 : (uint32_t)((until + 86399) / 86400);
    size_t cap = 0, dl = domain ? strlen(domain) : 0;
    uint64_t v[TS__COUNT];
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, val;
    int rc, op = MDB_FIRST;

    *rows = NULL;
    *nrows = 0;
    if (ts_txn_read(s, &txn) != 0)
        return false;
    if (mdb_cursor_open(txn, s->days, &cur) != 0) {
        mdb_txn_abort(txn);
        return false;
    }
    if (dl) {
        k.mv_size = ts_day_key(domain, d0, key);
        k.mv_data = key;
        op = MDB_SET_RANGE;
    }
    for (rc = mdb_cursor_get(cur, &k, &val, op); rc == 0;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        const unsigned char *p = k.mv_data;
        size_t kl = k.mv_size;
        uint32_t day;
        if (kl < 5 || p[kl - 5] != '\0' || memchr(p, '\0', kl - 5) != NULL)
            continue; /* not ours */
        if (dl && (kl - 5 != dl || memcmp(p, domain, dl) != 0))
            break;
        day = (uint32_t)p[kl - 4] << 24 | (uint32_t)p[kl - 3] << 16 | (uint32_t)p[kl - 2] << 8 |
              p[kl - 1];
        if (day < d0 || (until > 0 && day >= d1))
            continue;
        ts_decode_day(&val, v);
        if (!ts_rows_add(rows, nrows, &cap, (const char *)p, v)) {
            rc = ENOMEM;
            break;
        }
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        free(*rows);
        *rows = NULL;
        *nrows = 0;
        return false;
    }
    return true;
}
