/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trackstats.c - the tracking statistics environment (see trackstats.h)
 *
 * Written by sendgate-trackd's event writer thread, read by
 * `sendgatectl stats`. Values are little-endian with a version byte and a
 * field count, so a later build can add counters and still read old days.
 */
#include "cache/trackstats.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/lmdbenv.h"
#include "lib/log.h"
#include "lib/token.h"

#define TS_VERSION    1
#define TS_KEY_MAX    (DOMAIN_MAX + TOKEN_MSGREF_MAX + 1)
#define TS_DAY_VLEN   (2 + 8 * TS__COUNT)
#define TS_MSG_VLEN   13
#define TS_GROW_LIMIT 16
#define TS_RETRY_SECS 60 /* a damaged environment is rebuilt at most this often */

enum { TS_DAYS, TS_MSGS, TS_DBS };

static const char *const ts_db_names[TS_DBS] = {"days", "msgs"};

/*
 * The environment is cache/lmdbenv.c's, as the provider cache's: the
 * files are checked before LMDB maps them, every transaction runs inside
 * a SIGBUS guard, a stat notices a file truncated or replaced while open,
 * and a full map grows by the same rule. The writer (sendgate-trackd's
 * event thread, the only user of its handle: no resize lock is taken)
 * moves a damaged data.mdb aside and starts new counters, at open or at
 * its next batch; until then events are only written to the events file.
 * A reader (sendgatectl stats) says what is wrong and stops.
 */
struct trackstats {
    lmdbenv e; /* e.env NULL while damaged */
    MDB_dbi dbi[TS_DBS];
    bool damaged, content; /* content: LMDB found it, the file check may not */
    time_t next_try;
};

/* one transaction in progress; volatile: still right after a SIGBUS jump */
typedef struct ts_op {
    cache_env_guard g;
    MDB_txn *volatile txn;
    MDB_cursor *volatile cur;
    volatile long n;
    volatile bool ok;
} ts_op;

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

/* ts_env_note - what the environment layer did, in the statistics' words */
static void ts_env_note(void *arg, const lmdbenv_note *n)
{
    trackstats *s = arg;

    if (n->event == LMDBENV_GROWN) {
        log_notice("statistics map grown to %zu bytes", n->to);
    } else if (n->event == LMDBENV_MOVED_ASIDE) {
        log_err("statistics %s are damaged (%s): moved them to %s; counting starts again from "
                "zero (the events file has every event)",
                s->e.path, n->damage, n->moved);
        s->content = false;
    } /* a full map fails the batch, which says so */
}

/* ts_env_failed - why the environment could not be started, in the statistics' words */
static void ts_env_failed(trackstats *s, const lmdbenv_fail *f, char *err, size_t errlen)
{
    const char *path = s->e.path, *absent = "";

    if (s->e.rdonly && (f->rc == ENOENT || f->rc == MDB_NOTFOUND))
        absent = " (sendgate-trackd has not recorded anything yet)";
    if (f->fault) {
        snprintf(err, errlen, "statistics %s: a page vanished while opening them (truncated)",
                 path);
        s->content = true;
        return;
    }
    switch (f->stage) {
    case LMDBENV_AT_MKDIR:
        snprintf(err, errlen, "create statistics directory %s: %s", path, strerror(f->rc));
        break;
    case LMDBENV_AT_ASIDE:
        snprintf(err, errlen, "statistics %s are damaged (%s) and %s", path, f->damage, f->why);
        break;
    case LMDBENV_AT_CHECK:
        snprintf(err, errlen, "statistics %s are damaged: %s%s", path, f->why,
                 s->e.rdonly ? " (sendgate-trackd moves them aside when it starts)" : "");
        break;
    case LMDBENV_AT_OPEN:
        snprintf(err, errlen, "open statistics %s: %s%s", path, mdb_strerror(f->rc),
                 f->rc == ENOENT ? absent : "");
        break;
    case LMDBENV_AT_DBS:
        snprintf(err, errlen, "open statistics %s: %s%s", path,
                 f->rc == MDB_NOTFOUND ? "not initialised" : mdb_strerror(f->rc),
                 f->rc == MDB_NOTFOUND ? absent : "");
        break;
    default:
        snprintf(err, errlen, "open statistics %s: %s", path, f->why);
        break;
    }
}

/* ts_env_start - check, recover (writer), open the environment and its databases */
static bool ts_env_start(trackstats *s, char *err, size_t errlen)
{
    lmdbenv_fail f;

    if (lmdbenv_start(&s->e, ts_db_names, s->dbi, TS_DBS, true,
                      s->content ? "LMDB found damaged data" : NULL, &f))
        return true;
    ts_env_failed(s, &f, err, errlen);
    return false;
}

/*
 * trackstats_open - open (and for a writer create, or rebuild when
 * damaged) the environment: map_size at first, doubling up to 16 times
 * that; max_readers reader slots (general.cache_max_readers)
 */
trackstats *trackstats_open(const char *path, size_t map_size, unsigned max_readers, bool rdonly,
                            char *err, size_t errlen)
{
    trackstats *s = calloc(1, sizeof(*s));
    lmdbenv_opts o = {.map_size = rdonly ? 0 : map_size, /* a reader takes the file's */
                      .max_map_size = map_size * TS_GROW_LIMIT,
                      .max_readers = max_readers,
                      .max_dbs = 4,
                      .flags = rdonly ? 0 : MDB_NOSYNC,
                      .note = ts_env_note,
                      .note_arg = s};

    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    lmdbenv_init(&s->e, path, rdonly, &o);
    if (!ts_env_start(s, err, errlen)) {
        lmdbenv_destroy(&s->e);
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
    if (!s->e.rdonly && s->e.env && !s->damaged)
        mdb_env_sync(s->e.env, 1);
    lmdbenv_destroy(&s->e);
    free(s);
}

/* trackstats_sync - flush what MDB_NOSYNC left in the page cache */
bool trackstats_sync(trackstats *s)
{
    return s->e.env && !s->damaged && mdb_env_sync(s->e.env, 1) == 0;
}

/* ts_damaged - stop using the environment; the writer rebuilds it at its next batch */
static void ts_damaged(trackstats *s, bool content, const char *why)
{
    s->content |= content;
    if (!s->damaged)
        log_err("statistics %s: %s; counters are not kept until %s", s->e.path, why,
                s->e.rdonly ? "the file is sound again"
                            : "they are moved aside and started again (the events file has every "
                              "event)");
    s->damaged = true;
    s->next_try = time(NULL);
}

/* ts_ready - a sound environment to use now; the writer rebuilds a damaged one */
static bool ts_ready(trackstats *s, bool write)
{
    char err[CACHE_ENV_WHY_MAX + 128], why[CACHE_ENV_WHY_MAX];

    if (s->damaged) {
        if (s->e.rdonly || time(NULL) < s->next_try)
            return false;
        s->next_try = time(NULL) + TS_RETRY_SECS;
        lmdbenv_stop(&s->e);
        if (!ts_env_start(s, err, sizeof(err))) {
            log_err("%s; counters are not kept (the events file has every event)", err);
            return false;
        }
        s->damaged = false;
        log_notice("statistics %s: counting again", s->e.path);
    }
    if (!cache_env_watch_check(&s->e.watch, write, why, sizeof(why))) {
        ts_damaged(s, false, why);
        return false;
    }
    return true;
}

/* ts_fault - after a SIGBUS inside a transaction: drop it, mark the environment damaged */
static bool ts_fault(trackstats *s, ts_op *op)
{
    if (op->cur)
        mdb_cursor_close(op->cur);
    if (op->txn)
        mdb_txn_abort(op->txn); /* a writer's abort releases the writer lock */
    ts_damaged(s, true,
               "a page of data.mdb vanished while it was used (SIGBUS): the file was truncated "
               "while in use");
    return false;
}

/* ts_failed - an LMDB error: damage when LMDB says so */
static void ts_failed(trackstats *s, int rc)
{
    char why[128];

    if (!cache_env_lmdb_damage(rc))
        return;
    snprintf(why, sizeof(why), "%s (LMDB found damaged data)", mdb_strerror(rc));
    ts_damaged(s, true, why);
}

/* ts_bump - add to counters of (domain, day) inside txn */
static int ts_bump(trackstats *s, MDB_txn *txn, const char *domain, uint32_t day,
                   const uint64_t add[TS__COUNT])
{
    unsigned char key[DOMAIN_MAX + 5], val[TS_DAY_VLEN];
    MDB_val k = {ts_day_key(domain, day, key), key}, v;
    uint64_t cur[TS__COUNT];
    int rc = mdb_get(txn, s->dbi[TS_DAYS], &k, &v);

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
    return mdb_put(txn, s->dbi[TS_DAYS], &k, &v, 0);
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
    rc = mdb_get(txn, s->dbi[TS_MSGS], &k, &v);
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
    return mdb_put(txn, s->dbi[TS_MSGS], &k, &v, 0);
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

/* ts_apply_body - trackstats_apply inside its guard */
static bool ts_apply_body(trackstats *s, ts_op *op, const trackstats_event *ev, size_t n)
{
    MDB_txn *txn;
    int rc = 0;

    for (int attempt = 0; attempt < LMDBENV_RETRIES; attempt++) {
        if ((rc = mdb_txn_begin(s->e.env, NULL, 0, &txn)) == 0) {
            op->txn = txn;
            for (size_t i = 0; i < n && rc == 0; i++)
                rc = ts_apply_one(s, txn, &ev[i]);
            if (rc == 0 && !ts_ready(s, true)) { /* cut meanwhile: committing would fill holes */
                mdb_txn_abort(txn);
                op->txn = NULL;
                return false;
            }
            if (rc == 0)
                rc = mdb_txn_commit(txn);
            else
                mdb_txn_abort(txn);
            op->txn = NULL;
        }
        if (rc == 0 || !lmdbenv_retry(&s->e, rc)) /* a full map grows (lmdbenv.h) */
            break;
    }
    if (rc == 0) /* the size this commit gave the file: shorter is damage from now on */
        ts_ready(s, true);
    if (rc != 0) {
        log_err("statistics: %zu event(s) not counted: %s", n, mdb_strerror(rc));
        ts_failed(s, rc);
    }
    return rc == 0;
}

/* trackstats_apply - the effect of n events, in one write transaction */
bool trackstats_apply(trackstats *s, const trackstats_event *ev, size_t n)
{
    ts_op op;

    if (!ts_ready(s, true))
        return false;
    op.txn = NULL;
    op.cur = NULL;
    cache_env_guard_push(&op.g);
    if (sigsetjmp(op.g.jb, 0) != 0)
        return ts_fault(s, &op);
    op.ok = ts_apply_body(s, &op, ev, n);
    cache_env_guard_pop(&op.g);
    return op.ok;
}

/* ts_prune_txn - one attempt: delete the idle messages in one write transaction; an LMDB code */
static int ts_prune_txn(trackstats *s, ts_op *op, uint32_t cutoff, bool *begun)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    long n = 0;
    int rc;

    if ((rc = mdb_txn_begin(s->e.env, NULL, 0, &txn)) != 0)
        return rc;
    op->txn = txn;
    if ((rc = mdb_cursor_open(txn, s->dbi[TS_MSGS], &cur)) != 0) {
        mdb_txn_abort(txn);
        op->txn = NULL;
        return rc;
    }
    op->cur = cur;
    *begun = true;
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
    op->cur = NULL;
    if (rc == 0 || rc == MDB_NOTFOUND)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    op->txn = NULL;
    op->n = n;
    return rc;
}

/* ts_prune_body - trackstats_prune inside its guard */
static long ts_prune_body(trackstats *s, ts_op *op, int64_t before)
{
    bool begun = false;
    int rc = 0;

    for (int attempt = 0; attempt < LMDBENV_RETRIES; attempt++)
        if ((rc = ts_prune_txn(s, op, ts_day(before), &begun)) == 0 || !lmdbenv_retry(&s->e, rc))
            break;
    if (rc == 0)
        return op->n;
    if (begun) {
        log_err("statistics: pruning failed: %s", mdb_strerror(rc));
        ts_failed(s, rc);
    }
    return -1;
}

/* trackstats_prune - forget messages idle since before; returns how many, -1 on error */
long trackstats_prune(trackstats *s, int64_t before)
{
    ts_op op;

    if (!ts_ready(s, true))
        return -1;
    op.txn = NULL;
    op.cur = NULL;
    cache_env_guard_push(&op.g);
    if (sigsetjmp(op.g.jb, 0) != 0) {
        ts_fault(s, &op);
        return -1;
    }
    op.n = ts_prune_body(s, &op, before);
    cache_env_guard_pop(&op.g);
    return op.n;
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

/* ts_txn_read - a read transaction, adopting a map another process grew (lmdbenv_retry) */
static int ts_txn_read(trackstats *s, MDB_txn **txn)
{
    int rc = 0;

    for (int attempt = 0; attempt < LMDBENV_RETRIES; attempt++)
        if ((rc = mdb_txn_begin(s->e.env, NULL, MDB_RDONLY, txn)) == 0 || !lmdbenv_retry(&s->e, rc))
            break;
    return rc;
}

/* ts_query_body - trackstats_query inside its guard; an LMDB code */
static int ts_query_body(trackstats *s, ts_op *op, const char *domain, int64_t since, int64_t until,
                         trackstats_row **rows, size_t *nrows)
{
    unsigned char key[DOMAIN_MAX + 5];
    uint32_t d0 = ts_day(since), d1 = until <= 0 ? 0 : (uint32_t)((until + 86399) / 86400);
    size_t cap = 0, dl = domain ? strlen(domain) : 0;
    uint64_t v[TS__COUNT];
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, val;
    int rc, how = MDB_FIRST;

    if ((rc = ts_txn_read(s, &txn)) != 0)
        return rc;
    op->txn = txn;
    if ((rc = mdb_cursor_open(txn, s->dbi[TS_DAYS], &cur)) != 0)
        return rc;
    op->cur = cur;
    if (dl) {
        k.mv_size = ts_day_key(domain, d0, key);
        k.mv_data = key;
        how = MDB_SET_RANGE;
    }
    for (rc = mdb_cursor_get(cur, &k, &val, how); rc == 0;
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
        if (!ts_rows_add(rows, nrows, &cap, (const char *)p, v))
            return ENOMEM;
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * trackstats_query - per-domain sums over the days of [since, until) (unix times,
 * rounded to whole UTC days: the day holding since is included); domain NULL or "" = all.
 * Rows come sorted by domain; the caller frees *rows.
 */
bool trackstats_query(trackstats *s, const char *domain, int64_t since, int64_t until,
                      trackstats_row **rows, size_t *nrows)
{
    ts_op op;

    *rows = NULL;
    *nrows = 0;
    if (!ts_ready(s, false))
        return false;
    op.txn = NULL;
    op.cur = NULL;
    cache_env_guard_push(&op.g);
    if (sigsetjmp(op.g.jb, 0) != 0) {
        ts_fault(s, &op);
        op.n = EIO;
    } else {
        op.n = ts_query_body(s, &op, domain, since, until, rows, nrows);
        cache_env_guard_pop(&op.g);
        if (op.cur)
            mdb_cursor_close(op.cur);
        if (op.txn)
            mdb_txn_abort(op.txn);
        if (op.n != 0)
            ts_failed(s, (int)op.n);
    }
    if (op.n != 0) {
        free(*rows);
        *rows = NULL;
        *nrows = 0;
        return false;
    }
    return true;
}
