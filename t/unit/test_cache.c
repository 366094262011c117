/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_cache.c - the LMDB provider cache (cache/cache.c)
 *
 * The contract the milter, the policy server and the refresher rely on:
 * lookups copy records out; a provider refresh replaces exactly that
 * provider's entries (and its meta) in one transaction and leaves other
 * providers' entries alone; a full map grows and the write is redone; a
 * process that opened the cache before another one grew the map still
 * reads; an undecodable value is reported as corrupt, never trusted; and
 * a reader process never sees half of a refresh while a writer process
 * replaces a provider's records over and over. Processes are forked before
 * any environment is open in the parent (LMDB's rule).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache/cache.h"
#include "t/lib/tap.h"

static char dir[] = "/tmp/sgtest-cache.XXXXXX";
static cache_outbound *rec;

static cache *open_at(const char *name, enum cache_mode mode, size_t map, size_t max, char *err,
                      size_t errlen)
{
    cache_opts o = {map, max, 126, 0};
    char path[400];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return cache_open(path, mode, &o, err, errlen);
}

static cache *open_rw(const char *name)
{
    char err[512];
    cache *c = open_at(name, CACHE_RDWR, 1 << 20, 64 << 20, err, sizeof(err));

    if (c == NULL) /* the caller's checks are skipped: that must fail */
        tap_ok(false, "open %s: %s", name, err);
    return c;
}

/* out_entry - a filled outbound entry */
static cache_out_entry out_entry(int provider, int send, const char *reason)
{
    cache_out_entry e;

    memset(&e, 0, sizeof(e));
    e.provider = (uint8_t)provider;
    e.send = (uint8_t)send;
    e.ref = "ref-1";
    e.raw_status = "status";
    e.reason = reason;
    e.tracking_host = "";
    e.fetched_at = 1700000000;
    return e;
}

/* reason_of - provider's reason in domain's record, "" when absent, "(none)" w/o record */
static const char *reason_of(cache *c, const char *domain, int provider)
{
    const cache_out_entry *e;

    if (cache_get_outbound(c, domain, rec) != CACHE_OK)
        return "(none)";
    e = cache_outbound_find(rec, provider);
    return e ? e->reason : "";
}

static void test_open(void)
{
    char err[512];
    cache *c;

    c = open_at("missing", CACHE_RDONLY, 1 << 20, 64 << 20, err, sizeof(err));
    tap_ok(c == NULL, "read-only open of a cache nobody created fails");
    tap_ok(strstr(err, "No such file or directory") && strstr(err, "not created yet"),
           "with a clear message: %s", err);
    c = open_at("one", CACHE_RDWR, 1 << 20, 64 << 20, err, sizeof(err));
    tap_ok(c != NULL, "read-write open creates the cache: %s", c ? "ok" : err);
    if (c == NULL)
        return;
    tap_ok(strstr(cache_path(c), "/one") != NULL, "cache_path");
    tap_is_int(cache_map_size(c), 1 << 20, "map size as configured");
    tap_is_int(cache_get_outbound(c, "nothing.example", rec), CACHE_NOTFOUND, "empty: not found");
    tap_is_int(cache_get_outbound(c, "", rec), CACHE_NOTFOUND, "an empty key: not found");
    {
        char big[600];
        memset(big, 'k', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        tap_is_int(cache_get_outbound(c, big, rec), CACHE_NOTFOUND,
                   "a key longer than LMDB's limit: not found (not an error)");
    }
    {
        cache_meta m;
        tap_is_int(cache_get_meta(c, PROV_MAILTRAP, &m), CACHE_NOTFOUND, "no meta yet");
        tap_is_int(m.last_success, 0, "and the meta is zeroed");
    }
    cache_close(c);
    c = open_at("one", CACHE_RDONLY, 1 << 20, 64 << 20, err, sizeof(err));
    tap_ok(c != NULL, "read-only open once it exists");
    if (c) {
        cache_out_entry e = out_entry(PROV_STATIC, SEND_ALLOWED, "x");
        tap_is_int(cache_upsert_outbound(c, "a.example", &e), CACHE_ERROR,
                   "a read-only cache refuses writes");
        cache_close(c);
    }
    cache_close(NULL);
}

static void test_upsert_delete(void)
{
    cache *c = open_rw("two");
    cache_out_entry s = out_entry(PROV_STATIC, SEND_ALLOWED, "static says yes");
    cache_out_entry j = out_entry(PROV_JETEMAIL, SEND_BLOCKED, "jet says no");
    cache_out_entry m = out_entry(PROV_MAILTRAP, SEND_PENDING, "mailtrap is thinking");
    cache_in_entry in;
    cache_inbound ir;
    cache_smtp_server sv = {"mx.example.net", 25, 10, true};

    if (c == NULL)
        return;
    tap_is_int(cache_upsert_outbound(c, "a.example", &m), CACHE_OK, "upsert mailtrap");
    tap_is_int(cache_upsert_outbound(c, "a.example", &s), CACHE_OK, "upsert static");
    tap_is_int(cache_upsert_outbound(c, "a.example", &j), CACHE_OK, "upsert jetemail");
    tap_is_int(cache_get_outbound(c, "a.example", rec), CACHE_OK, "get");
    tap_is_int(rec->n, 3, "three entries in one record");
    tap_ok(rec->e[0].provider == PROV_STATIC && rec->e[1].provider == PROV_JETEMAIL &&
                   rec->e[2].provider == PROV_MAILTRAP,
           "kept in provider order");
    tap_is_str(rec->domain, "a.example", "the record names its domain");
    j.reason = "jet changed its mind";
    j.send = SEND_ALLOWED;
    tap_is_int(cache_upsert_outbound(c, "a.example", &j), CACHE_OK, "upsert replaces");
    tap_is_str(reason_of(c, "a.example", PROV_JETEMAIL), "jet changed its mind", "new entry");
    tap_is_int(rec->n, 3, "still three");
    tap_is_str(reason_of(c, "a.example", PROV_MAILTRAP), "mailtrap is thinking",
               "the others untouched");
    tap_is_int(cache_delete_outbound(c, "a.example", PROV_JETEMAIL), CACHE_OK, "delete one");
    tap_is_str(reason_of(c, "a.example", PROV_JETEMAIL), "", "its entry is gone");
    tap_is_int(rec->n, 2, "two left");
    tap_is_int(cache_delete_outbound(c, "a.example", PROV_JETEMAIL), CACHE_OK,
               "deleting it again is fine");
    cache_delete_outbound(c, "a.example", PROV_STATIC);
    cache_delete_outbound(c, "a.example", PROV_MAILTRAP);
    tap_is_int(cache_get_outbound(c, "a.example", rec), CACHE_NOTFOUND,
               "the last entry's delete removes the record");
    tap_is_int(cache_delete_outbound(c, "never.example", PROV_STATIC), CACHE_OK,
               "deleting from a missing record is fine");
    m.provider = 7;
    tap_is_int(cache_upsert_outbound(c, "b.example", &m), CACHE_ERROR,
               "an entry of no provider is refused");
    tap_is_int(cache_get_outbound(c, "b.example", rec), CACHE_NOTFOUND, "and nothing written");

    memset(&in, 0, sizeof(in));
    in.provider = PROV_JETEMAIL;
    in.delivery = DELIVERY_SMTP;
    in.active = true;
    in.ref = in.webhook_url = in.webhook_method = "";
    in.n_smtp = 1;
    in.smtp = &sv;
    tap_is_int(cache_upsert_inbound(c, "in.example", &in), CACHE_OK, "upsert inbound");
    tap_is_int(cache_get_inbound(c, "in.example", &ir), CACHE_OK, "get inbound");
    tap_ok(ir.n == 1 && ir.e[0].n_smtp == 1 && !strcmp(ir.e[0].smtp[0].host, "mx.example.net"),
           "inbound record back");
    cache_inbound_free(&ir);
    tap_is_int(cache_delete_inbound(c, "in.example", PROV_JETEMAIL), CACHE_OK, "delete inbound");
    tap_is_int(cache_get_inbound(c, "in.example", &ir), CACHE_NOTFOUND, "gone");
    cache_close(c);
}

/* items - n outbound items of provider p: "<prefix><i>.example" with the given reason */
static cache_out_item *items(int p, const char *prefix, int from, int n, const char *reason,
                             char (**names)[40])
{
    cache_out_item *it = calloc((size_t)n, sizeof(*it));

    *names = calloc((size_t)n, 40);
    for (int i = 0; i < n; i++) {
        snprintf((*names)[i], 40, "%s%03d.example", prefix, from + i);
        it[i].domain = (*names)[i];
        it[i].e = out_entry(p, SEND_ALLOWED, reason);
    }
    return it;
}

static void test_replace(void)
{
    cache *c = open_rw("three");
    char(*n1)[40], (*n2)[40];
    cache_out_item *jet = items(PROV_JETEMAIL, "d", 0, 2, "jet", &n1); /* d000, d001 */
    cache_out_item mt[4];
    cache_in_item in[1];
    cache_inbound ir;
    cache_meta meta = {10, 11, 12, 0, 3, 1, "ok"}, got;

    if (c == NULL)
        return;
    tap_is_int(cache_replace_provider(c, PROV_JETEMAIL, jet, 2, NULL, 0, NULL), CACHE_OK,
               "JetEmail says d000 and d001");
    /* Mailtrap: d001 (shared with JetEmail), d002, d003 */
    for (int i = 0; i < 3; i++) {
        static char nm[3][40];
        snprintf(nm[i], 40, "d%03d.example", i + 1);
        mt[i].domain = nm[i];
        mt[i].e = out_entry(PROV_MAILTRAP, SEND_BLOCKED, "mt-1");
    }
    memset(in, 0, sizeof(in));
    in[0].domain = "d003.example";
    in[0].e.provider = PROV_MAILTRAP;
    in[0].e.ref = in[0].e.webhook_url = in[0].e.webhook_method = "";
    tap_is_int(cache_replace_provider(c, PROV_MAILTRAP, mt, 3, in, 1, &meta), CACHE_OK,
               "Mailtrap says d001, d002, d003 (and inbound d003)");
    tap_is_int(cache_get_meta(c, PROV_MAILTRAP, &got), CACHE_OK, "meta written with it");
    tap_ok(got.last_attempt == 10 && got.last_success == 11 && got.n_outbound == 3 &&
                   !strcmp(got.last_error, "ok"),
           "meta fields");
    tap_is_str(reason_of(c, "d001.example", PROV_JETEMAIL), "jet", "d001: JetEmail's entry");
    tap_is_str(reason_of(c, "d001.example", PROV_MAILTRAP), "mt-1", "d001: Mailtrap's entry");

    /* the second Mailtrap refresh: d002 (changed) and d004; d001 and d003 no longer */
    mt[0].domain = "d002.example";
    mt[0].e = out_entry(PROV_MAILTRAP, SEND_ALLOWED, "mt-2");
    mt[1].domain = "d004.example";
    mt[1].e = out_entry(PROV_MAILTRAP, SEND_ALLOWED, "mt-2");
    meta.last_success = 22;
    meta.n_outbound = 2;
    meta.n_inbound = 0;
    tap_is_int(cache_replace_provider(c, PROV_MAILTRAP, mt, 2, NULL, 0, &meta), CACHE_OK,
               "second Mailtrap refresh");
    tap_is_str(reason_of(c, "d000.example", PROV_JETEMAIL), "jet",
               "d000 (JetEmail only): untouched");
    tap_is_str(reason_of(c, "d001.example", PROV_MAILTRAP), "",
               "d001: Mailtrap's entry removed (no longer listed)");
    tap_is_str(reason_of(c, "d001.example", PROV_JETEMAIL), "jet", "d001: JetEmail's entry kept");
    tap_is_int(rec->n, 1, "d001 has one entry left");
    tap_is_str(reason_of(c, "d002.example", PROV_MAILTRAP), "mt-2", "d002: replaced");
    tap_is_str(reason_of(c, "d003.example", PROV_MAILTRAP), "(none)",
               "d003 (Mailtrap only): record removed");
    tap_is_str(reason_of(c, "d004.example", PROV_MAILTRAP), "mt-2", "d004: new");
    tap_is_int(cache_get_inbound(c, "d003.example", &ir), CACHE_NOTFOUND,
               "inbound d003 removed too (Mailtrap listed no inbound domains)");
    cache_get_meta(c, PROV_MAILTRAP, &got);
    tap_ok(got.last_success == 22 && got.n_outbound == 2, "meta replaced");

    /* refused replaces change nothing */
    mt[0].e.provider = PROV_JETEMAIL;
    tap_is_int(cache_replace_provider(c, PROV_MAILTRAP, mt, 2, NULL, 0, &meta), CACHE_ERROR,
               "an item of another provider is refused");
    tap_is_int(cache_replace_provider(c, PROV__COUNT, NULL, 0, NULL, 0, NULL), CACHE_ERROR,
               "no such provider");
    mt[0].e.provider = PROV_MAILTRAP;
    mt[1].e.send = 99; /* cannot be encoded: the whole transaction is abandoned */
    mt[0].e.reason = "mt-3";
    tap_is_int(cache_replace_provider(c, PROV_MAILTRAP, mt, 2, NULL, 0, &meta), CACHE_ERROR,
               "an item that cannot be stored fails the refresh");
    tap_is_str(reason_of(c, "d002.example", PROV_MAILTRAP), "mt-2",
               "and nothing of it was written (one transaction)");
    tap_is_int(cache_replace_provider(c, PROV_MAILTRAP, NULL, 0, NULL, 0, NULL), CACHE_OK,
               "an empty refresh");
    tap_is_str(reason_of(c, "d002.example", PROV_MAILTRAP), "(none)",
               "removes all of the provider's domains");
    tap_is_str(reason_of(c, "d001.example", PROV_JETEMAIL), "jet", "but not JetEmail's");
    free(jet);
    free(n1);
    (void)n2;
    cache_close(c);
}

struct seen {
    int n, corrupt;
    char last[64];
    bool ordered;
};

static void count_out(void *arg, const char *domain, const cache_outbound *r, int rc)
{
    struct seen *s = arg;

    if (rc != CACHE_OK || r == NULL) {
        s->corrupt++;
        return;
    }
    if (strcmp(s->last, domain) >= 0)
        s->ordered = false;
    snprintf(s->last, sizeof(s->last), "%s", domain);
    s->n++;
}

static void count_raw(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)k, (void)v;
    ((struct seen *)arg)->n += kl > 0 && vl > 0;
}

static void test_corrupt_and_foreach(void)
{
    cache *c = open_rw("four");
    char(*names)[40];
    cache_out_item *it = items(PROV_STATIC, "f", 0, 20, "fine", &names);
    struct seen s = {0, 0, "", true};
    char val[64];
    size_t vl = sizeof(val);

    if (c == NULL)
        return;
    cache_replace_provider(c, PROV_STATIC, it, 20, NULL, 0, NULL);
    tap_is_int(cache_put_raw(c, "outbound", "bad.example", 11, "garbage!", 8), CACHE_OK,
               "garbage written with cache_put_raw");
    tap_is_int(cache_get_outbound(c, "bad.example", rec), CACHE_CORRUPT, "read back: corrupt");
    tap_is_int(rec->n, 0, "and no entries are handed out");
    tap_is_int(cache_foreach_outbound(c, count_out, &s), CACHE_OK, "foreach");
    tap_is_int(s.n, 20, "every good record visited");
    tap_is_int(s.corrupt, 1, "the bad one reported as corrupt");
    tap_ok(s.ordered, "in key order");
    it[0].domain = "bad.example";
    tap_is_int(cache_replace_provider(c, PROV_STATIC, it, 20, NULL, 0, NULL), CACHE_OK,
               "a refresh that lists the domain");
    tap_is_int(cache_get_outbound(c, "bad.example", rec), CACHE_OK, "replaces the bad value");
    tap_is_int(cache_get_raw(c, "outbound", "f001.example", 12, val, &vl), CACHE_CORRUPT,
               "get_raw into a buffer too small");
    tap_ok(vl > sizeof(val), "says how large the value is (%zu)", vl);
    tap_is_int(cache_put_raw(c, "suppress", "k", 1, "v", 1), CACHE_OK, "put_raw suppress");
    vl = sizeof(val);
    tap_ok(cache_get_raw(c, "suppress", "k", 1, val, &vl) == CACHE_OK && vl == 1 && val[0] == 'v',
           "get_raw");
    s.n = 0;
    tap_is_int(cache_foreach_raw(c, "suppress", count_raw, &s), CACHE_OK, "foreach_raw");
    tap_is_int(s.n, 1, "one value");
    tap_is_int(cache_del_raw(c, "suppress", "k", 1), CACHE_OK, "del_raw");
    tap_is_int(cache_del_raw(c, "suppress", "k", 1), CACHE_OK, "del_raw of nothing");
    tap_is_int(cache_get_raw(c, "suppress", "k", 1, val, &vl), CACHE_NOTFOUND, "gone");
    tap_is_int(cache_put_raw(c, "nosuchdb", "k", 1, "v", 1), CACHE_ERROR, "unknown database");
    tap_is_int(cache_put_raw(c, "meta", "mailtrap", 8, "SM\x02", 3), CACHE_OK, "garbage meta");
    {
        cache_meta m;
        tap_is_int(cache_get_meta(c, PROV_MAILTRAP, &m), CACHE_CORRUPT, "corrupt meta");
    }
    tap_is_int(cache_put_raw(c, "inbound", "i.example", 9, "SI", 2), CACHE_OK, "garbage inbound");
    {
        cache_inbound ir;
        tap_is_int(cache_get_inbound(c, "i.example", &ir), CACHE_CORRUPT, "corrupt inbound");
    }
    free(it);
    free(names);
    cache_close(c);
}

/* test_growth - a 1M map grows by doubling within one refresh; nothing is lost */
static void test_growth(void)
{
    cache *c = open_rw("grow");
    char(*names)[40], err[512];
    int n = 30000, missing = 0;
    cache_out_item *it =
            items(PROV_MAILTRAP, "g", 0, n, "a reason long enough to fill pages", &names);
    struct seen s = {0, 0, "", true};

    if (c == NULL)
        return;
    for (int i = 0; i < n; i++)
        it[i].e.tracking_host = "links.customer-domain.example";
    tap_is_int(cache_replace_provider(c, PROV_MAILTRAP, it, (size_t)n, NULL, 0, NULL), CACHE_OK,
               "30000 records into a 1M map");
    tap_ok(cache_map_size(c) >= (8u << 20), "the map grew by several doublings: %zu",
           cache_map_size(c));
    for (int i = 0; i < n; i += 7)
        missing += strcmp(reason_of(c, names[i], PROV_MAILTRAP),
                          "a reason long enough to fill pages") != 0;
    tap_is_int(missing, 0, "every record readable afterwards");
    cache_foreach_outbound(c, count_out, &s);
    tap_is_int(s.n, n, "and all 30000 are there");
    cache_close(c);

    /* a maximum the data cannot fit in: the refresh fails, the old data stays */
    c = open_at("capped", CACHE_RDWR, 1 << 20, 2 << 20, err, sizeof(err));
    tap_ok(c != NULL, "a cache with a 2M maximum opens: %s", c ? "ok" : err);
    if (c) {
        tap_is_int(cache_replace_provider(c, PROV_MAILTRAP, it, 100, NULL, 0, NULL), CACHE_OK,
                   "100 records fit in 2M");
        for (int i = 0; i < 100; i++)
            it[i].e.reason = "second";
        tap_is_int(cache_replace_provider(c, PROV_MAILTRAP, it, (size_t)n, NULL, 0, NULL),
                   CACHE_ERROR, "30000 do not: the refresh fails at the maximum");
        tap_is_str(reason_of(c, names[0], PROV_MAILTRAP), "a reason long enough to fill pages",
                   "and the first refresh's data is intact");
        tap_is_int(cache_map_size(c), 2 << 20, "the map stopped at the maximum");
        cache_close(c);
    }
    free(it);
    free(names);
}

/* wait_ok - child's exit status 0 */
static bool wait_ok(pid_t pid)
{
    int st;

    return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* test_resized - a reader opened before another process grew the map adopts the new size */
static void test_resized(void)
{
    int ready[2], go[2];
    char(*names)[40];
    cache_out_item *it = items(PROV_MAILTRAP, "r", 0, 20000, "grown elsewhere", &names);
    pid_t reader, writer;
    char b;
    cache *c = open_rw("resized");

    if (c == NULL || pipe(ready) || pipe(go))
        return;
    cache_replace_provider(c, PROV_MAILTRAP, it, 1, NULL, 0, NULL); /* r000 only */
    cache_close(c); /* no environment open across fork() */
    fflush(stdout);
    if ((reader = fork()) == 0) {
        char err[512];
        int bad = 0;
        cache *rc = open_at("resized", CACHE_RDONLY, 1 << 20, 64 << 20, err, sizeof(err));
        if (rc == NULL)
            _exit(2);
        bad += cache_get_outbound(rc, "r000.example", rec) != CACHE_OK; /* a handle exists */
        if (write(ready[1], "r", 1) != 1 || read(go[0], &b, 1) != 1)
            _exit(3);
        for (int i = 0; i < 20000; i += 97)
            bad += strcmp(reason_of(rc, names[i], PROV_MAILTRAP), "grown elsewhere") != 0;
        bad += cache_map_size(rc) <= (1u << 20);
        cache_close(rc);
        _exit(bad ? 1 : 0);
    }
    if (read(ready[0], &b, 1) != 1)
        tap_diag("reader did not start");
    if ((writer = fork()) == 0) {
        cache *wc = open_rw("resized");
        int rc = wc ? cache_replace_provider(wc, PROV_MAILTRAP, it, 20000, NULL, 0, NULL) : -1;
        size_t size = wc ? cache_map_size(wc) : 0;
        cache_close(wc);
        _exit(rc == CACHE_OK && size > (1u << 20) ? 0 : 1);
    }
    tap_ok(wait_ok(writer), "another process grew the map past the reader's size");
    if (write(go[1], "g", 1) != 1)
        tap_diag("cannot wake the reader");
    tap_ok(wait_ok(reader), "the reader, opened before, adopts the new size and reads the data");
    close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);
    free(it);
    free(names);
}

/*
 * The concurrency check. Set A: d000..d499, Mailtrap reason "gen-A", two
 * BCC addresses; set B: d250..d749, reason "gen-B", one BCC address.
 * JetEmail has every tenth domain d000..d740 throughout. A snapshot is
 * consistent when all its Mailtrap entries are of one generation, there
 * are exactly 500 of them, each in that generation's range with that
 * generation's BCC list, and all 75 JetEmail entries are there.
 */
#define GEN_N 500

static cache_out_item *gen_items(int gen, char (**names)[40])
{
    cache_out_item *it =
            items(PROV_MAILTRAP, "d", gen ? 250 : 0, GEN_N, gen ? "gen-B" : "gen-A", names);

    for (int i = 0; i < GEN_N; i++) {
        it[i].e.n_bcc = gen ? 1 : 2;
        it[i].e.bcc[0] = (cache_bcc){gen ? "b1@gen-b.example" : "a1@gen-a.example", true};
        it[i].e.bcc[1] = (cache_bcc){"a2@gen-a.example", false};
    }
    return it;
}

struct snap {
    int gen_a, gen_b, jet, bad;
};

/* check_entry - one record of a snapshot: its Mailtrap entry is whole and in range */
static void check_entry(void *arg, const char *domain, const cache_outbound *r, int rc)
{
    struct snap *s = arg;
    int i = atoi(domain + 1);
    const cache_out_entry *m = r ? cache_outbound_find(r, PROV_MAILTRAP) : NULL;

    if (rc != CACHE_OK || r == NULL) {
        s->bad++;
        return;
    }
    s->jet += cache_outbound_find(r, PROV_JETEMAIL) != NULL;
    if (m == NULL)
        return;
    if (!strcmp(m->reason, "gen-A"))
        s->bad += !(i < 500 && m->n_bcc == 2 && !strcmp(m->bcc[0].addr, "a1@gen-a.example")),
                s->gen_a++;
    else if (!strcmp(m->reason, "gen-B"))
        s->bad += !(i >= 250 && m->n_bcc == 1 && !strcmp(m->bcc[0].addr, "b1@gen-b.example")),
                s->gen_b++;
    else
        s->bad++;
}

/* reader_loop - snapshots until both generations were seen often enough; 0 = never a mix */
static int reader_loop(int done_fd, int report_fd)
{
    char err[512];
    cache *c = open_at("conc", CACHE_RDONLY, 1 << 20, 64 << 20, err, sizeof(err));
    int seen_a = 0, seen_b = 0, mixed = 0, lookups_bad = 0, snaps = 0;
    char line[200];

    if (c == NULL)
        return 2;
    /* by count: at least 300 snapshots, and until each generation showed up 20 times */
    for (snaps = 0; snaps < 300 || ((seen_a < 20 || seen_b < 20) && snaps < 200000); snaps++) {
        struct snap s = {0, 0, 0, 0};
        cache_foreach_outbound(c, check_entry, &s);
        if (s.bad || s.jet != 75 || (s.gen_a && s.gen_b) || (s.gen_a + s.gen_b) != GEN_N)
            mixed++;
        seen_a += s.gen_a == GEN_N;
        seen_b += s.gen_b == GEN_N;
        for (int k = 0; k < 20; k++) { /* single lookups: a record is always whole */
            char d[40];
            struct snap one = {0, 0, 0, 0};
            snprintf(d, sizeof(d), "d%03d.example", (snaps * 37 + k * 53) % 750);
            if (cache_get_outbound(c, d, rec) == CACHE_OK)
                check_entry(&one, d, rec, CACHE_OK);
            lookups_bad += one.bad;
        }
    }
    if (write(done_fd, "d", 1) != 1)
        mixed++;
    snprintf(line, sizeof(line), "%d snapshots: %d of set A, %d of set B, %d mixed, %d bad lookups",
             snaps, seen_a, seen_b, mixed, lookups_bad);
    if (write(report_fd, line, strlen(line)) < 0)
        mixed++;
    cache_close(c);
    return mixed || lookups_bad || !seen_a || !seen_b ? 1 : 0;
}

/* writer_loop - replace Mailtrap's records with set A, B, A, ... until the reader is done */
static int writer_loop(int done_fd, int report_fd)
{
    char(*na)[40], (*nb)[40], line[100];
    cache_out_item *a = gen_items(0, &na), *b = gen_items(1, &nb);
    cache *c = open_rw("conc");
    int n = 0, failed = 0;
    char x;

    if (c == NULL)
        return 2;
    fcntl(done_fd, F_SETFL, O_NONBLOCK);
    for (n = 0; n < 1000000 && read(done_fd, &x, 1) != 1; n++) {
        cache_meta m = {n, n, 0, 0, GEN_N, 0, ""};
        snprintf(m.last_error, sizeof(m.last_error), "%s", n % 2 ? "gen-A" : "gen-B");
        failed += cache_replace_provider(c, PROV_MAILTRAP, n % 2 ? a : b, GEN_N, NULL, 0, &m) !=
                  CACHE_OK;
    }
    snprintf(line, sizeof(line), "%d replaces, %d failed, map %zu", n, failed, cache_map_size(c));
    if (write(report_fd, line, strlen(line)) < 0)
        failed++;
    cache_close(c);
    free(a), free(b), free(na), free(nb);
    return failed ? 1 : 0;
}

static void test_concurrency(void)
{
    char(*names)[40], (*jn)[40], buf1[300] = "", buf2[300] = "";
    cache_out_item *a = gen_items(0, &names), *jet;
    int done[2], rep_r[2], rep_w[2];
    pid_t reader, writer;
    cache *c = open_rw("conc");

    if (c == NULL || pipe(done) || pipe(rep_r) || pipe(rep_w))
        return;
    jet = items(PROV_JETEMAIL, "d", 0, 75, "jet", &jn);
    for (int i = 0; i < 75; i++)
        snprintf(jn[i], 40, "d%03d.example", i * 10);
    cache_replace_provider(c, PROV_JETEMAIL, jet, 75, NULL, 0, NULL);
    cache_replace_provider(c, PROV_MAILTRAP, a, GEN_N, NULL, 0, NULL);
    cache_close(c);
    fflush(stdout);
    if ((writer = fork()) == 0)
        _exit(writer_loop(done[0], rep_w[1]));
    if ((reader = fork()) == 0)
        _exit(reader_loop(done[1], rep_r[1]));
    close(rep_r[1]), close(rep_w[1]);
    tap_ok(wait_ok(reader), "a reader never sees a mix of two refreshes");
    tap_ok(wait_ok(writer), "the writer's replaces all succeeded");
    if (read(rep_r[0], buf1, sizeof(buf1) - 1) < 0 || read(rep_w[0], buf2, sizeof(buf2) - 1) < 0)
        tap_diag("no report");
    tap_diag("reader: %s", buf1);
    tap_diag("writer: %s", buf2);
    c = open_rw("conc");
    {
        cache_meta m;
        struct snap s = {0, 0, 0, 0};
        cache_get_meta(c, PROV_MAILTRAP, &m);
        cache_foreach_outbound(c, check_entry, &s);
        tap_ok(!strcmp(m.last_error, s.gen_a ? "gen-A" : "gen-B") && s.bad == 0,
               "the meta written with the last refresh names its generation (%s)", m.last_error);
    }
    cache_close(c);
    close(done[0]), close(done[1]), close(rep_r[0]), close(rep_w[0]);
    free(a), free(names), free(jet), free(jn);
}

struct thr {
    cache *c;
    int id, bad, done;
    volatile int *stop;
};

/* thread_main - lookups until told to stop (and at least 2000), each record whole */
static void *thread_main(void *arg)
{
    struct thr *t = arg;
    cache_outbound *r = malloc(sizeof(*r));

    for (t->done = 0; t->done < 2000 || !__atomic_load_n(t->stop, __ATOMIC_ACQUIRE); t->done++) {
        char d[40];
        struct snap one = {0, 0, 0, 0};
        int rc;
        snprintf(d, sizeof(d), "d%03d.example", (t->done * 31 + t->id * 7) % 750);
        rc = cache_get_outbound(t->c, d, r);
        if (rc == CACHE_OK)
            check_entry(&one, d, r, rc);
        t->bad += one.bad + (rc != CACHE_OK && rc != CACHE_NOTFOUND);
    }
    free(r);
    return NULL;
}

/* test_threads - reader threads while this process's writer grows the map under them */
static void test_threads(void)
{
    char(*na)[40], (*nb)[40], err[512];
    cache_out_item *a = gen_items(0, &na), *b = gen_items(1, &nb);
    cache *c = open_at("threads", CACHE_RDWR, 1 << 20, 64 << 20, err, sizeof(err));
    pthread_t tid[4];
    struct thr t[4];
    volatile int stop = 0;
    int bad = 0, failed = 0, lookups = 0;

    if (c == NULL)
        return;
    cache_replace_provider(c, PROV_MAILTRAP, a, GEN_N, NULL, 0, NULL);
    for (int i = 0; i < 4; i++) {
        t[i] = (struct thr){c, i, 0, 0, &stop};
        pthread_create(&tid[i], NULL, thread_main, &t[i]);
    }
    for (int n = 0; n < 40; n++) { /* the padded reasons make the map grow meanwhile */
        cache_out_item *it = n % 2 ? a : b;
        failed += cache_replace_provider(c, PROV_MAILTRAP, it, GEN_N, NULL, 0, NULL) != CACHE_OK;
    }
    {
        char(*ng)[40];
        cache_out_item *g = items(PROV_STATIC, "zz", 0, 20000, "padding", &ng);
        failed += cache_replace_provider(c, PROV_STATIC, g, 20000, NULL, 0, NULL) != CACHE_OK;
        free(g), free(ng);
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 4; i++) {
        pthread_join(tid[i], NULL);
        bad += t[i].bad;
        lookups += t[i].done;
    }
    tap_is_int(failed, 0, "41 refreshes while 4 threads look up, the map growing meanwhile");
    tap_ok(cache_map_size(c) > (1u << 20), "the map grew (%zu)", cache_map_size(c));
    tap_is_int(bad, 0, "%d lookups from 4 threads: every record whole", lookups);
    tap_is_str(reason_of(c, "d300.example", PROV_MAILTRAP), "gen-A",
               "this thread reads after the others exited (their handles released)");
    cache_close(c); /* releases this thread's handle too */
    free(a), free(b), free(na), free(nb);
}

int main(void)
{
    char cmd[200];

    if (mkdtemp(dir) == NULL)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    rec = malloc(sizeof(*rec));
    test_open();
    test_upsert_delete();
    test_replace();
    test_corrupt_and_foreach();
    test_growth();
    test_resized();
    test_concurrency();
    test_threads();
    free(rec);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", dir);
    return tap_done();
}
