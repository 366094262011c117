/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_stats.c - sendgatectl stats: clicks, opens and unsubscribes per sending domain
 *
 * Reads the statistics environment sendgate-trackd writes (trackd.stats_path,
 * see cache/trackstats.h) and sums its day buckets over a window, as a
 * table or, with --json, for scripts.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/trackstats.h"
#include "ctl/ctl.h"
#include "lib/domain.h"

/* stats_when - "7d" (that long ago), "2024-06-01" (that UTC day), or unix seconds */
static bool stats_when(const char *s, bool until, int64_t now, int64_t *out)
{
    struct tm tm;
    char *end;
    long long v;

    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%d", &tm);
    if (end && *end == '\0') {
        *out = (int64_t)timegm(&tm) + (until ? 86400 : 0); /* --until DATE includes that day */
        return true;
    }
    v = strtoll(s, &end, 10);
    if (end == s || v < 0)
        return false;
    switch (*end) {
    case 's':
        break;
    case 'm':
        v *= 60;
        break;
    case 'h':
        v *= 3600;
        break;
    case 'd':
        v *= 86400;
        break;
    case 'w':
        v *= 604800;
        break;
    case '\0':
        if (end - s >= 9) { /* unix time */
            *out = v;
            return true;
        }
        return false;
    default:
        return false;
    }
    if (end[1] != '\0')
        return false;
    *out = now - v;
    return true;
}

static void stats_day(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, n, "%Y-%m-%d", &tm);
}

static cJSON *stats_row_json(const uint64_t v[TS__COUNT])
{
    cJSON *o = cJSON_CreateObject();

    for (int f = 0; f < TS__COUNT; f++)
        cJSON_AddNumberToObject(o, trackstats_field_name(f), (double)v[f]);
    return o;
}

/* stats_print - the table, with a total line when there are several domains */
static void stats_print(const trackstats_row *rows, size_t n, const uint64_t total[TS__COUNT],
                        const char *from, const char *to)
{
    static const char *const heads[TS__COUNT] = {"clicks", "uniq",   "opens", "uniq",
                                                 "unsubs", "bot-cl", "bot-op"};

    printf("UTC days %s to %s\n%-32s", from, to, "domain");
    for (int f = 0; f < TS__COUNT; f++)
        printf(" %9s", heads[f]);
    putchar('\n');
    for (size_t i = 0; i <= n; i++) {
        const uint64_t *v = i < n ? rows[i].v : total;
        if (i == n && n < 2)
            break;
        printf("%-32s", i < n ? rows[i].domain : "(total)");
        for (int f = 0; f < TS__COUNT; f++)
            printf(" %9llu", (unsigned long long)v[f]);
        putchar('\n');
    }
    if (n == 0)
        printf("(nothing recorded in this window)\n");
}

static int cmd_stats(ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
            {"since", required_argument, NULL, 's'}, {"until", required_argument, NULL, 'u'}, {0}};
    int64_t now = (int64_t)time(NULL), since = 0, until = 0;
    char dom[DOMAIN_MAX] = "", err[512], from[16], to[16];
    uint64_t total[TS__COUNT] = {0};
    trackstats_row *rows;
    char why[ERRBUF_MAX];
    trackstats *ts;
    conf *cfg;
    size_t n;
    int ch;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((ch != 's' && ch != 'u') ||
            !stats_when(optarg, ch == 'u', now, ch == 's' ? &since : &until))
            return ch == 's' || ch == 'u' ? ctl_fail(EX_USAGE,
                                                     "'%s': expected a duration (7d, "
                                                     "12h) or a date (2024-06-01)",
                                                     optarg)
                                          : ctl_usage("stats");
    }
    if (optind < argc - 1)
        return ctl_usage("stats");
    if (optind == argc - 1 &&
        !domain_normalize(argv[optind], strlen(argv[optind]), dom, why, sizeof(why)))
        return ctl_fail(EX_DATAERR, "%s: %s", argv[optind], why);
    cfg = ctl_config(c);
    ts = trackstats_open(cfg->trackd.stats_path, cfg->trackd.stats_map_size,
                         (unsigned)cfg->general.cache_max_readers, true, err, sizeof(err));
    if (ts == NULL)
        return ctl_fail(EX_UNAVAILABLE, "%s", err);
    if (!trackstats_query(ts, dom, since, until, &rows, &n)) {
        trackstats_close(ts);
        return ctl_fail(EX_IOERR, "cannot read the statistics");
    }
    trackstats_close(ts);
    for (size_t i = 0; i < n; i++)
        for (int f = 0; f < TS__COUNT; f++)
            total[f] += rows[i].v[f];
    stats_day(since, from, sizeof(from));
    stats_day((until ? until : now + 86400) - 1, to, sizeof(to));
    if (c->json) {
        cJSON *root = cJSON_CreateObject(), *d;
        cJSON_AddStringToObject(root, "since", since ? from : "");
        cJSON_AddStringToObject(root, "until", to);
        d = cJSON_AddObjectToObject(root, "domains");
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToObject(d, rows[i].domain, stats_row_json(rows[i].v));
        cJSON_AddItemToObject(root, "total", stats_row_json(total));
        ctl_print_json(root);
    } else
        stats_print(rows, n, total, since ? from : "(start)", to);
    free(rows);
    return 0;
}

CTL_COMMAND(stats, "stats", "[DOMAIN] [--since DURATION|DATE] [--until DURATION|DATE]",
            "clicks, opens and unsubscribes per sending domain (from sendgate-trackd)",
            "Sums sendgate-trackd's per-day counters (UTC days) over the window: --since 7d\n"
            "(seven days ago), --since 2024-06-01 (that day onwards), --until 2024-06-30\n"
            "(that day included). Columns: clicks and unique clicks (messages clicked at\n"
            "least once), opens and unique opens (a click implies an open), unsubscribes,\n"
            "then the clicks and opens labelled as bots (proxies, scanners, scripts; already\n"
            "included in the totals, never in the unique counts). --json for scripts.\n"
            "Example: sendgatectl stats example.com --since 30d",
            cmd_stats);
