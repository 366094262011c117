/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_cache_damage.c - a damaged cache or statistics environment never
 * crashes a program and never passes for an empty one
 *
 * Through the real API on real LMDB files: a cache that lost its data
 * (or never had any) answers CACHE_ERROR while an enabled provider has no
 * successful refresh in it; a reader of a damaged file gets a clear
 * reason, or with CACHE_RETRY a handle that answers CACHE_ERROR; a file
 * truncated under an open handle gives CACHE_ERROR, not SIGBUS; a
 * recovering writer moves the damaged file aside and writes a new cache
 * (at open and at its next write); a reader notices the file a writer
 * put in place and reads it; trackd's statistics do the same. Processes
 * are forked before the parent opens the environment they share (LMDB's
 * rule).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/trackstats.h"
#include "lib/token.h"
#include "t/lib/tap.h"

#define STATIC_BIT   (1u << PROV_STATIC)
#define MAILTRAP_BIT (1u << PROV_MAILTRAP)

static char top[] = "/tmp/sgtest-cdamage.XXXXXX";
static cache_outbound rec;

static cache *open_at(const char *dir, enum cache_mode mode, unsigned flags, char *err,
                      size_t errlen)
{
    cache_opts o = {1 << 20, 64 << 20, 126, flags};

    err[0] = '\0';
    return cache_open(dir, mode, &o, err, errlen);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* fill - n blocked domains of the static provider, with a successful meta record */
static int fill(cache *c, int n, bool success)
{
    cache_out_item *it = calloc((size_t)n, sizeof(*it));
    char(*names)[40] = calloc((size_t)n, 40);
    cache_meta m;
    int rc;

    memset(&m, 0, sizeof(m));
    m.last_attempt = time(NULL);
    m.last_success = success ? m.last_attempt : 0;
    for (int i = 0; i < n; i++) {
        snprintf(names[i], 40, "blocked-%04d.example", i);
        it[i].domain = names[i];
        it[i].e.provider = PROV_STATIC;
        it[i].e.send = SEND_BLOCKED;
        it[i].e.ref = "ref";
        it[i].e.raw_status = "suspended";
        it[i].e.reason = "a reason long enough to make the records take a few pages of the file";
        it[i].e.tracking_host = "";
    }
    rc = cache_replace_provider(c, PROV_STATIC, it, (size_t)n, NULL, 0, &m);
    free(it);
    free(names);
    return rc;
}

static void path_of(char *out, size_t len, const char *dir, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

/* damaged_files - how many data.mdb.damaged-* files dir holds */
static int damaged_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d)) != NULL)
        n += strncmp(e->d_name, "data.mdb.damaged-", 17) == 0;
    if (d)
        closedir(d);
    return n;
}

static bool has(const char *s, const char *needle)
{
    if (strstr(s, needle))
        return true;
    tap_diag("'%s' does not say '%s'", s, needle);
    return false;
}

/* logged - a lookup with stderr (the log) captured into log */
static int logged(cache *c, const char *domain, char *log, size_t len)
{
    char path[400];
    int saved, fd, rc;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/log", top);
    fflush(stderr);
    saved = dup(2);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    rc = cache_get_outbound(c, domain, &rec);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    n = pread(fd, log, len - 1, 0);
    log[n > 0 ? n : 0] = '\0';
    log[strcspn(log, "\n")] = '\0'; /* the first line, for a TAP description */
    close(fd);
    return rc;
}

/* make_good - a cache with 300 blocked static domains, closed */
static void make_good(const char *dir)
{
    char err[512];
    cache *c = open_at(dir, CACHE_RDWR, 0, err, sizeof(err));

    if (c == NULL || fill(c, 300, true) != CACHE_OK)
        tap_diag("cannot build %s: %s", dir, err);
    cache_close(c);
}

static void test_lost_data(void)
{
    char dir[400], err[512], why[512];
    unsigned filled;
    cache *c;

    snprintf(dir, sizeof(dir), "%s/lost", top);
    c = open_at(dir, CACHE_RDWR, 0, err, sizeof(err));
    tap_ok(c != NULL, "a new cache: %s", err);
    if (c == NULL)
        return;
    tap_is_int(cache_get_outbound(c, "blocked-0001.example", &rec), CACHE_NOTFOUND,
               "nothing required: an unknown domain is just not found");
    cache_set_required(c, STATIC_BIT);
    tap_is_int(cache_get_outbound(c, "blocked-0001.example", &rec), CACHE_ERROR,
               "static enabled but never refreshed into it: CACHE_ERROR, not 'unknown'");
    tap_ok(cache_health(c, why, sizeof(why)) == CACHE_ERROR && has(why, "no data from static"),
           "health says so: %s", why);
    tap_is_int(fill(c, 3, false), CACHE_OK, "a failed refresh writes meta without a success");
    tap_is_int(cache_get_outbound(c, "blocked-0001.example", &rec), CACHE_ERROR,
               "still CACHE_ERROR");
    tap_is_int(fill(c, 3, true), CACHE_OK, "a successful refresh");
    tap_is_int(cache_get_outbound(c, "blocked-0001.example", &rec), CACHE_OK, "the domain is read");
    tap_is_int(cache_get_outbound(c, "other.example", &rec), CACHE_NOTFOUND,
               "an unknown domain is unknown again");
    tap_ok(cache_filled(c, &filled) == CACHE_OK && filled == STATIC_BIT,
           "cache_filled: static only");
    cache_set_required(c, STATIC_BIT | MAILTRAP_BIT);
    tap_is_int(cache_get_outbound(c, "blocked-0001.example", &rec), CACHE_ERROR,
               "mailtrap enabled too and never refreshed: CACHE_ERROR");
    tap_ok(cache_health(c, why, sizeof(why)) == CACHE_ERROR && has(why, "no data from mailtrap"),
           "naming only mailtrap: %s", why);
    tap_is_int(cache_peek_outbound(c, "blocked-0001.example", &rec), CACHE_OK,
               "cache_peek_outbound still shows the record (refresher, inspection)");
    tap_is_int(cache_get_meta(c, PROV_STATIC, &(cache_meta){0}), CACHE_OK, "meta reads");
    cache_close(c);
}

static void test_damaged_open(void)
{
    char dir[400], path[500], err[512], why[512];
    cache *c;

    snprintf(dir, sizeof(dir), "%s/zero", top);
    make_good(dir);
    path_of(path, sizeof(path), dir, "data.mdb");
    tap_is_int(truncate(path, 0), 0, "data.mdb truncated to zero length");
    c = open_at(dir, CACHE_RDONLY, 0, err, sizeof(err));
    tap_ok(c == NULL && has(err, "is damaged: data.mdb is empty"), "a reader refuses it: %s", err);
    c = open_at(dir, CACHE_RDWR, 0, err, sizeof(err));
    tap_ok(c == NULL && has(err, "is damaged"),
           "a writer without CACHE_RECOVER refuses it too (LMDB would make it a new, empty one)");
    c = open_at(dir, CACHE_RDONLY, CACHE_RETRY, err, sizeof(err));
    tap_ok(c != NULL && has(err, "data.mdb is empty"), "CACHE_RETRY: a handle, and the reason");
    if (c) {
        tap_is_int(cache_get_outbound(c, "blocked-0001.example", &rec), CACHE_ERROR,
                   "every lookup answers CACHE_ERROR");
        tap_is_int(cache_get_meta(c, PROV_STATIC, &(cache_meta){0}), CACHE_ERROR, "meta too");
        tap_ok(cache_health(c, why, sizeof(why)) == CACHE_ERROR && has(why, "data.mdb is empty"),
               "health: %s", why);
        tap_is_int(cache_map_size(c), 0, "no map");
        cache_close(c);
    }
    tap_is_int(damaged_files(dir), 0, "readers never move anything");

    c = open_at(dir, CACHE_RDWR, CACHE_RECOVER, err, sizeof(err));
    tap_ok(c != NULL, "a recovering writer opens it: %s", err);
    tap_is_int(damaged_files(dir), 1, "the damaged file was moved aside, kept");
    if (c) {
        cache_set_required(c, STATIC_BIT);
        tap_is_int(cache_get_outbound(c, "blocked-0001.example", &rec), CACHE_ERROR,
                   "the new cache has no data yet: CACHE_ERROR");
        tap_is_int(fill(c, 5, true), CACHE_OK, "a refresh fills it");
        tap_is_int(cache_get_outbound(c, "blocked-0001.example", &rec), CACHE_OK, "and it answers");
        cache_close(c);
    }
}

/* test_truncated_under - a file cut under an open reader: CACHE_ERROR, never SIGBUS */
static void test_truncated_under(void)
{
    char dir[400], path[500], err[512], why[512];
    double t0;
    cache *c;

    snprintf(dir, sizeof(dir), "%s/under", top);
    make_good(dir);
    path_of(path, sizeof(path), dir, "data.mdb");
    t0 = now_s();
    c = open_at(dir, CACHE_RDONLY, 0, err, sizeof(err));
    tap_ok(c != NULL, "a reader on a sound cache: %s", err);
    if (c == NULL)
        return;
    tap_is_int(cache_get_outbound(c, "blocked-0299.example", &rec), CACHE_OK, "a lookup");
    tap_is_int(truncate(path, 16384), 0, "data.mdb truncated to 16 KiB under it");
    tap_is_int(logged(c, "blocked-0299.example", why, sizeof(why)), CACHE_ERROR,
               "the next lookup: CACHE_ERROR, the process alive");
    if (now_s() - t0 < 0.9) /* before the once-a-second stat: the guard caught it */
        tap_ok(has(why, "SIGBUS") && has(why, "truncated while in use"),
               "the SIGBUS guard caught the read, and the log says so: %s", why);
    else
        tap_ok(has(why, "truncated") || has(why, "shrank"), "the watch saw it: %s", why);
    tap_ok(cache_health(c, why, sizeof(why)) == CACHE_ERROR && has(why, "truncated: 16384 bytes"),
           "health: still damaged, %s", why);
    tap_is_int(cache_get_outbound(c, "blocked-0001.example", &rec), CACHE_ERROR,
               "and every lookup after it");
    tap_is_int(cache_foreach_outbound(c, NULL, NULL), CACHE_ERROR, "iteration too");
    cache_close(c);

    /* a write to a file cut under a recovering writer: moved aside, written afresh */
    snprintf(dir, sizeof(dir), "%s/under-writer", top);
    path_of(path, sizeof(path), dir, "data.mdb");
    make_good(dir);
    c = open_at(dir, CACHE_RDWR, CACHE_RECOVER, err, sizeof(err));
    tap_ok(c != NULL, "a recovering writer on a sound cache");
    if (c == NULL)
        return;
    tap_is_int(truncate(path, 8192), 0, "data.mdb cut to 8 KiB under it");
    tap_is_int(fill(c, 7, true), CACHE_OK, "its next refresh succeeds");
    tap_is_int(damaged_files(dir), 1, "into a new file; the damaged one kept");
    tap_is_int(cache_get_outbound(c, "blocked-0006.example", &rec), CACHE_OK, "the new data reads");
    tap_is_int(cache_get_outbound(c, "blocked-0100.example", &rec), CACHE_NOTFOUND,
               "and only the new data");
    cache_close(c);
}

static int damage_calls;
static void on_damage(void *arg)
{
    (void)arg;
    damage_calls++;
}

/* wait_lookup - the new file's domain reads within 10 s (a damaged handle retries every 5) */
static bool wait_lookup(cache *c)
{
    for (int i = 0; i < 100; i++) {
        if (cache_get_outbound(c, "blocked-0008.example", &rec) == CACHE_OK)
            return true;
        usleep(100000);
    }
    return false;
}

/*
 * test_reader_follows - a reader process keeps answering CACHE_ERROR after
 * the damage, notices the file a recovering writer puts in place, reads it
 */
static void test_reader_follows(void)
{
    char dir[400], path[500], err[512];
    int to_child[2], from_child[2], st;
    char b = 0;
    pid_t pid;
    cache *c;

    snprintf(dir, sizeof(dir), "%s/follow", top);
    make_good(dir);
    path_of(path, sizeof(path), dir, "data.mdb");
    if (pipe(to_child) < 0 || pipe(from_child) < 0)
        return;
    fflush(stdout);
    if ((pid = fork()) == 0) { /* the writer: waits, then rebuilds the damaged cache */
        cache *w;
        if (read(to_child[0], &b, 1) != 1)
            _exit(2);
        w = open_at(dir, CACHE_RDWR, CACHE_RECOVER, err, sizeof(err));
        b = w && fill(w, 9, true) == CACHE_OK ? 'y' : 'n';
        cache_close(w);
        _exit(write(from_child[1], &b, 1) == 1 ? 0 : 2);
    }
    c = open_at(dir, CACHE_RDONLY, CACHE_RETRY, err, sizeof(err));
    cache_on_damage(c, on_damage, NULL);
    cache_set_required(c, STATIC_BIT);
    tap_is_int(cache_get_outbound(c, "blocked-0200.example", &rec), CACHE_OK,
               "a reader process on a sound cache");
    truncate(path, 16384);
    tap_is_int(cache_get_outbound(c, "blocked-0200.example", &rec), CACHE_ERROR,
               "cut under it: CACHE_ERROR");
    tap_is_int(cache_get_outbound(c, "blocked-0200.example", &rec), CACHE_ERROR,
               "until a writer rebuilds it");
    tap_is_int(damage_calls, 1, "cache_on_damage told the owner once");
    if (write(to_child[1], "x", 1) != 1 || read(from_child[0], &b, 1) != 1)
        b = 0;
    waitpid(pid, &st, 0);
    tap_ok(b == 'y' && WIFEXITED(st) && WEXITSTATUS(st) == 0,
           "a writer process moved it aside and refilled it");
    tap_ok(wait_lookup(c), "the reader reopens the new file by itself and reads it");
    tap_is_int(cache_get_outbound(c, "blocked-0200.example", &rec), CACHE_NOTFOUND,
               "the new data, not the old");
    cache_close(c);
}

static bool count_one(trackstats *s, const char *domain)
{
    trackstats_event ev = {TOKEN_CLICK, domain, "M1", 0, false};

    ev.when = time(NULL);
    return trackstats_apply(s, &ev, 1);
}

static uint64_t clicks(trackstats *s, const char *domain)
{
    trackstats_row *rows;
    size_t n;
    uint64_t v = 0;

    if (trackstats_query(s, domain, 0, 0, &rows, &n) && n == 1)
        v = rows[0].v[TS_CLICKS];
    else if (n == 0)
        v = 0;
    free(rows);
    return v;
}

/* test_stats - trackd's statistics: rebuilt by their writer, refused by a reader, no crash */
static void test_stats(void)
{
    char dir[400], path[500], err[512];
    trackstats *s, *ro;
    trackstats_row *rows;
    size_t n;

    snprintf(dir, sizeof(dir), "%s/stats", top);
    path_of(path, sizeof(path), dir, "data.mdb");
    s = trackstats_open(dir, 1 << 20, 126, false, err, sizeof(err));
    tap_ok(s != NULL && count_one(s, "example.com") && count_one(s, "example.com"),
           "statistics counting");
    tap_is_int(clicks(s, "example.com"), 2, "two clicks");
    trackstats_close(s);
    tap_is_int(truncate(path, 0), 0, "their data.mdb truncated to zero length");
    ro = trackstats_open(dir, 1 << 20, 126, true, err, sizeof(err));
    tap_ok(ro == NULL && has(err, "are damaged: data.mdb is empty") &&
                   has(err, "sendgate-trackd moves them aside"),
           "sendgatectl stats refuses them, saying why: %s", err);
    s = trackstats_open(dir, 1 << 20, 126, false, err, sizeof(err));
    tap_ok(s != NULL && damaged_files(dir) == 1, "sendgate-trackd moves them aside, starts anew");
    tap_ok(s && count_one(s, "example.com") && clicks(s, "example.com") == 1,
           "and counts again from zero");
    tap_is_int(truncate(path, 4096), 0, "cut to one page under the open writer");
    tap_ok(!count_one(s, "example.com"), "the next batch is not counted, no crash");
    tap_ok(count_one(s, "example.com") && damaged_files(dir) == 2,
           "the batch after it rebuilds them and is counted");
    tap_ok(!trackstats_query(s, "nobody.example", 0, 0, &rows, &n) || n == 0,
           "queries work on the new file");
    free(rows);
    trackstats_close(s);
}

int main(void)
{
    char cmd[200];

    if (mkdtemp(top) == NULL)
        return 1;
    test_reader_follows(); /* forks: before this process opens anything */
    test_lost_data();
    test_damaged_open();
    test_truncated_under();
    test_stats();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
    if (system(cmd) != 0)
        tap_diag("cannot remove %s", top);
    return tap_done();
}
