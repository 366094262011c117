/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_trackd_req.c - trackd's endpoints without HTTP: trackreq_handle against a real
 * cache, statistics environment and event writer in a temporary directory
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cache/revoke.h"
#include "cache/suppress.h"
#include "cache/trackstats.h"
#include "t/lib/tap.h"
#include "trackd/trackreq.h"

static char dir[] = "/tmp/sg-test-trackd-XXXXXX";
static char path_events[300];
static trackreq_state st;
static trackreq_env env;
static tmetrics metrics;
static trackstats *stats;
static token_keys *keys;
static int64_t now_ms;

static void write_file(const char *name, const char *text, mode_t mode, char *out, size_t n)
{
    FILE *fp;

    snprintf(out, n, "%s/%s", dir, name);
    fp = fopen(out, "w");
    fputs(text, fp);
    fclose(fp);
    chmod(out, mode);
}

static void setup(const char *privacy)
{
    char conf_path[300], key_path[300], text[2000], err[512];
    conf_report rep;
    conf *cfg;
    cache_opts co = {1 << 20, 1 << 24, 126, 0};

    write_file("k", "7 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 0600,
               key_path, sizeof(key_path));
    snprintf(path_events, sizeof(path_events), "%s/events.log", dir);
    snprintf(text, sizeof(text),
             "[general]\ncache_path = %s/cache\n[trackd]\nevents_file = %s\nstats_path = %s/stats\n"
             "privacy = %s\nmetrics_allow = 127.0.0.1\nbot_window = 5s\n"
             "[tracking]\nkey_files = %s\n",
             dir, path_events, dir, privacy, key_path);
    write_file("sg.conf", text, 0644, conf_path, sizeof(conf_path));
    conf_report_init(&rep);
    cfg = conf_load(conf_path, &rep);
    if (cfg == NULL)
        tap_diag("%s", buf_cstr(&rep.text));
    conf_report_free(&rep);
    tap_ok(trackreq_state_init(&st, cfg, err, sizeof(err)), "state: %s", err);
    conf_unref(cfg); /* the state holds its own reference */
    keys = st.keys;
    tmetrics_init(&metrics);
    env.metrics = &metrics;
    pthread_mutex_init(&env.unsub_mu, NULL);
    env.cache = cache_open(st.cfg->general.cache_path, CACHE_RDWR, &co, err, sizeof(err));
    stats = trackstats_open(st.cfg->trackd.stats_path, 1 << 20, 126, false, err, sizeof(err));
    env.events = evlog_start(path_events, stats, 86400, &metrics, err, sizeof(err));
    tap_ok(env.cache && stats && env.events, "cache, statistics and event writer open");
}

static void teardown(void)
{
    evlog_stop(env.events);
    trackstats_close(stats);
    cache_close(env.cache);
    trackreq_state_free(&st);
    pthread_mutex_destroy(&env.unsub_mu);
}

static char *tok(int purpose, const char *msgref, const char *rcpt, const char *url, unsigned link,
                 int64_t issued)
{
    static char out[4][TOKEN_TEXT_MAX + 1];
    static int slot;
    token_claims c;
    buf b = BUF_INIT;
    char *r = out[slot++ % 4];

    memset(&c, 0, sizeof(c));
    c.purpose = purpose;
    c.link_index = link;
    c.issued = issued;
    snprintf(c.msgref, sizeof(c.msgref), "%s", msgref);
    snprintf(c.domain, sizeof(c.domain), "example.com");
    snprintf(c.rcpt, sizeof(c.rcpt), "%s", rcpt);
    snprintf(c.url, sizeof(c.url), "%s", url);
    buf_printf(&b, "%s", token_path(purpose));
    if (!token_make(keys, &c, &b))
        tap_diag("token_make failed");
    snprintf(r, TOKEN_TEXT_MAX + 1, "%s", buf_cstr(&b));
    buf_free(&b);
    return r;
}

/* req - one request; the response in rs (caller frees) */
static void req(int method, const char *path, const char *ua, const char *ctype, const char *body,
                trackresp *rs)
{
    trackreq rq;

    memset(&rq, 0, sizeof(rq));
    rq.method = method;
    rq.path = path;
    rq.ua = ua;
    rq.ctype = ctype;
    rq.body = body;
    rq.body_len = body ? strlen(body) : 0;
    rq.now_ms = now_ms;
    netlist_addr_parse("198.51.100.23", 13, &rq.client);
    trackresp_init(rs);
    trackreq_handle(&st, &env, &rq, rs);
}

static int status(int method, const char *path, const char *ua)
{
    trackresp rs;
    int s;

    req(method, path, ua, NULL, NULL, &rs);
    s = rs.status;
    trackresp_free(&rs);
    return s;
}

static const char *ff = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

static void test_click_open(void)
{
    int64_t sent = now_ms / 1000 - 3600;
    char *c1 = tok(TOKEN_CLICK, "M1", "", "https://shop.example.net/p?q=1", 1, sent);
    char *o1 = tok(TOKEN_OPEN, "M1", "", "", 0, sent);
    char bad[TOKEN_TEXT_MAX + 1];
    trackresp rs;

    req(TM_GET, c1, ff, NULL, NULL, &rs);
    tap_is_int(rs.status, 302, "valid click: 302");
    tap_is_str(buf_cstr(&rs.location), "https://shop.example.net/p?q=1", "to the original URL");
    tap_ok(rs.token_url, "with the no-store/no-referrer/noindex headers");
    trackresp_free(&rs);
    tap_is_int(status(TM_HEAD, c1, ff), 302, "HEAD: same answer (not recorded)");
    snprintf(bad, sizeof(bad), "%s", c1);
    bad[10] = bad[10] == 'A' ? 'B' : 'A';
    req(TM_GET, bad, ff, NULL, NULL, &rs);
    tap_ok(rs.status == 404 && rs.location.len == 0, "tampered: 404, no Location");
    trackresp_free(&rs);
    snprintf(bad, sizeof(bad), "/o/%s", c1 + 3);
    req(TM_GET, bad, ff, NULL, NULL, &rs);
    tap_ok(rs.status == 200 && rs.body_kind == TRACKRESP_GIF, "click token as open: still a GIF");
    trackresp_free(&rs);
    snprintf(bad, sizeof(bad), "/c/%s", o1 + 3);
    tap_is_int(status(TM_GET, bad, ff), 404, "open token as click: 404");
    req(TM_GET, o1, ff, NULL, NULL, &rs);
    tap_ok(rs.status == 200 && rs.body_kind == TRACKRESP_GIF, "valid open: GIF");
    trackresp_free(&rs);
    tap_is_int(status(TM_GET, "/o/garbage", ff), 200, "garbage open token: 200 anyway");
    tap_is_int(status(TM_GET, tok(TOKEN_CLICK, "M1", "", "javascript:alert(1)", 2, sent), ff), 404,
               "signed javascript: destination: 404");
    req(TM_GET, tok(TOKEN_CLICK, "M1", "", "https://[::1/", 3, sent), ff, NULL, NULL, &rs);
    tap_ok(rs.status == 404 && rs.location.len == 0,
           "signed https://[::1/ (unterminated IPv6 literal): 404, no Location");
    trackresp_free(&rs);
    tap_is_int(status(TM_POST, c1, ff), 405, "POST on a click: 405");
    tap_is_int(status(TM_OPTIONS, c1, ff), 204, "OPTIONS: 204");
    tap_is_int(status(TM_GET, "/", ff), 404, "/: 404");
    tap_is_int(status(TM_GET, "/c/", ff), 404, "empty token: 404");
    /* a second message: opened by a bot, clicked early */
    tap_is_int(status(TM_GET, tok(TOKEN_OPEN, "M2", "", "", 0, sent), "Mozilla/5.0"), 200,
               "Apple proxy open");
    tap_is_int(
            status(TM_GET, tok(TOKEN_CLICK, "M2", "", "https://x.example/", 0, now_ms / 1000), ff),
            302, "click 0 s after sending");
    tap_is_int(atomic_load(&metrics.bad_tokens[TM_CLICK][TOKEN_EBAD_MAC]), 1,
               "metrics: one bad MAC on click");
    tap_is_int(atomic_load(&metrics.bad_tokens[TM_CLICK][TOKEN_EWRONG_PURPOSE]), 1,
               "metrics: one wrong purpose on click");
    tap_is_int(atomic_load(&metrics.bad_tokens[TM_CLICK][TM_REASON_BAD_DEST]), 2,
               "metrics: two bad destinations");
}

static void test_revoke(void)
{
    int64_t sent = now_ms / 1000 - 3600;
    char *c = tok(TOKEN_CLICK, "M3", "", "https://x.example/", 1, sent);

    tap_is_int(status(TM_GET, c, ff), 302, "before revocation: 302");
    tap_is_int(revoke_add(env.cache, REVOKE_MESSAGE, "M3", 1, "test"), CACHE_OK, "revoked");
    tap_is_int(status(TM_GET, c, ff), 404, "after revocation: 404");
    tap_is_int(status(TM_GET, tok(TOKEN_OPEN, "M3", "", "", 0, sent), ff), 200,
               "open of a revoked message: GIF, not recorded");
    revoke_add(env.cache, REVOKE_DOMAIN, "example.com", 1, "");
    tap_is_int(status(TM_GET, tok(TOKEN_CLICK, "M4", "", "https://x.example/", 1, sent), ff), 404,
               "domain revoked: 404");
    revoke_remove(env.cache, REVOKE_DOMAIN, "example.com");
}

static void test_unsubscribe(void)
{
    char *u = tok(TOKEN_UNSUB, "M5", "Jane@Example.org", "", 0, 1);
    char *n = tok(TOKEN_UNSUB, "M6", "", "", 0, 1);
    suppress_entry se;
    trackresp rs;

    req(TM_GET, u, ff, NULL, NULL, &rs);
    tap_ok(rs.status == 200 && strstr(buf_cstr(&rs.body), "<form"), "GET: confirmation page");
    tap_ok(rs.page_guard, "with frame and content restrictions");
    trackresp_free(&rs);
    tap_is_int(suppress_check(env.cache, "example.com", "jane@example.org", NULL), CACHE_NOTFOUND,
               "GET changed nothing");
    req(TM_POST, u, ff, "application/x-www-form-urlencoded", "List-Unsubscribe=Nope", &rs);
    tap_is_int(rs.status, 400, "POST without the one-click field: 400");
    trackresp_free(&rs);
    req(TM_POST, u, ff, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", &rs);
    tap_ok(rs.status == 200 && rs.location.len == 0 && strstr(buf_cstr(&rs.body), "unsubscribed"),
           "one-click POST: 200 page, no redirect");
    trackresp_free(&rs);
    tap_is_int(suppress_check(env.cache, "example.com", "jane@example.org", &se), CACHE_OK,
               "suppressed");
    tap_is_str(se.ref, "M5", "with the message reference");
    req(TM_POST, u, ff, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", &rs);
    tap_is_int(rs.status, 200, "repeated POST: 200");
    trackresp_free(&rs);
    tap_is_int(atomic_load(&metrics.unsub_repeat), 1, "counted as a repeat");
    req(TM_GET, u, ff, NULL, NULL, &rs);
    tap_ok(strstr(buf_cstr(&rs.body), "<form") == NULL, "GET after: already unsubscribed");
    trackresp_free(&rs);
    req(TM_POST, n, ff, NULL, "List-Unsubscribe=One-Click", &rs);
    tap_ok(rs.status == 200 && strstr(buf_cstr(&rs.body), "several recipients"),
           "token without recipient: explained, nothing recorded");
    trackresp_free(&rs);
    tap_is_int(status(TM_OTHER_METHOD, u, ff), 405, "other method: 405");
}

static void test_admin(void)
{
    trackresp rs;
    trackreq rq;

    req(TM_GET, "/metrics", ff, NULL, NULL, &rs);
    tap_is_int(rs.status, 403, "/metrics from an address not allowed: 403");
    trackresp_free(&rs);
    memset(&rq, 0, sizeof(rq));
    rq.method = TM_GET;
    rq.path = "/metrics";
    netlist_addr_parse("127.0.0.1", 9, &rq.client);
    trackresp_init(&rs);
    trackreq_handle(&st, &env, &rq, &rs);
    tap_ok(rs.status == 200 && strstr(buf_cstr(&rs.body), "sendgate_trackd_requests_total{"),
           "/metrics from 127.0.0.1");
    trackresp_free(&rs);
}

/* count_lines - lines of the events file containing needle */
static int count_lines(const char *needle)
{
    char line[4096];
    int n = 0;
    FILE *fp = fopen(path_events, "r");

    while (fp && fgets(line, sizeof(line), fp))
        n += strstr(line, needle) != NULL;
    if (fp)
        fclose(fp);
    return n;
}

static void test_recorded(void)
{
    trackstats_row *rows;
    size_t n;
    trackstats *ro;
    char err[300];

    evlog_stop(env.events); /* drains the queue into the file and the statistics */
    env.events = NULL;
    tap_is_int(count_lines("\n"), 6, "six events recorded");
    tap_is_int(count_lines("\"kind\":\"click\""), 3, "three clicks (HEAD, bad, revoked are not)");
    tap_is_int(count_lines("\"kind\":\"open\""), 2, "two opens (bad and revoked are not)");
    tap_is_int(count_lines("\"kind\":\"unsubscribe\""), 1, "one unsubscribe (repeat is not)");
    tap_is_int(count_lines("\"bot\":\"apple_proxy\""), 1, "Apple proxy labelled");
    tap_is_int(count_lines("\"bot\":\"early\""), 1, "early click labelled");
    tap_is_int(count_lines("\"client\":\"198.51.100.0\""), 6, "addresses truncated to /24");
    ro = trackstats_open(st.cfg->trackd.stats_path, 0, 126, true, err, sizeof(err));
    tap_ok(ro && trackstats_query(ro, "example.com", 0, 0, &rows, &n) && n == 1,
           "statistics for example.com");
    if (ro && n == 1) {
        tap_is_int(rows[0].v[TS_CLICKS], 3, "clicks");
        tap_is_int(rows[0].v[TS_CLICKS_UNIQUE], 2, "unique clicks: M1, M3 (M2's was early)");
        tap_is_int(rows[0].v[TS_BOT_CLICKS], 1, "bot clicks");
        tap_is_int(rows[0].v[TS_OPENS], 4, "opens: 2 + implied by the first clicks of M1 and M3");
        tap_is_int(rows[0].v[TS_OPENS_UNIQUE], 2, "unique opens: M1, M3 (M2 only by bots)");
        tap_is_int(rows[0].v[TS_BOT_OPENS], 1, "bot opens");
        tap_is_int(rows[0].v[TS_UNSUBSCRIBES], 1, "unsubscribes");
        free(rows);
    }
    tap_ok(ro && trackstats_query(ro, NULL, now_ms / 1000 + 2 * 86400, 0, &rows, &n) && n == 0,
           "nothing in a future window");
    free(rows);
    trackstats_close(ro);
}

int main(void)
{
    char cmd[100];

    if (mkdtemp(dir) == NULL)
        return 1;
    now_ms = (int64_t)time(NULL) * 1000;
    setup("truncate");
    test_click_open();
    test_revoke();
    test_unsubscribe();
    test_admin();
    test_recorded();
    teardown();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        tap_diag("cannot remove %s", dir);
    return tap_done();
}
