/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pmetrics.c - policyd's counters, rendered for Prometheus (see pmetrics.h)
 */
#include "policyd/pmetrics.h"

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "cache/verdict.h"
#include "lib/conf.h"
#include "lib/metrics.h"
#include "policyd/smap.h"
#include "providers/refstats.h"

#define PM_ACTIONS  3                 /* accept, reject, tempfail */
#define PM_MAPS     (SMAP__COUNT + 1) /* the maps and "other" */
#define PM_STATUSES (SMAP_PERM + 1)

static const char *const pm_maps[PM_MAPS] = {"relay", "transport", "forward", "other"};
static const char *const pm_results[PM_STATUSES] = {"ok", "notfound", "temp", "timeout", "perm"};
static const int pm_actions[PM_ACTIONS] = {CONF_ACCEPT, CONF_REJECT, CONF_TEMPFAIL};

static struct {
    _Atomic uint64_t policy[PM_ACTIONS];
    _Atomic uint64_t smap[PM_MAPS][PM_STATUSES];
    _Atomic int64_t conn_open;
    _Atomic uint64_t conn_total;
    int64_t start_time;
} pm;

#define INC(x) atomic_fetch_add_explicit(&(x), 1, memory_order_relaxed)
#define GET(x) atomic_load_explicit(&(x), memory_order_relaxed)

/* pmetrics_init - the start time (the counters start at zero) */
void pmetrics_init(void)
{
    pm.start_time = (int64_t)time(NULL);
}

/* pmetrics_policy - one policy request answered with this action (CONF_ACCEPT, ...) */
void pmetrics_policy(int action)
{
    for (int i = 0; i < PM_ACTIONS; i++)
        if (pm_actions[i] == action)
            INC(pm.policy[i]);
}

/* pmetrics_smap - one socketmap answer; map NULL: the request named none */
void pmetrics_smap(const char *map, int status)
{
    int m = map ? smap_map_index(map) : -1;

    if (m < 0 || m >= SMAP__COUNT)
        m = SMAP__COUNT;
    if (status < 0 || status >= PM_STATUSES)
        status = SMAP_PERM;
    INC(pm.smap[m][status]);
}

/* pmetrics_conn - a connection accepted (+1) or closed (-1) */
void pmetrics_conn(int delta)
{
    atomic_fetch_add_explicit(&pm.conn_open, delta, memory_order_relaxed);
    if (delta > 0)
        INC(pm.conn_total);
}

/* pm_requests - the event loop's counters */
static void pm_requests(buf *out)
{
    metrics_family(out, "sendgate_policyd_policy_requests_total", "counter",
                   "policy requests answered, by action");
    for (int i = 0; i < PM_ACTIONS; i++)
        metrics_sample(out, "sendgate_policyd_policy_requests_total", GET(pm.policy[i]), "action",
                       verdict_action_name(pm_actions[i]), NULL);
    metrics_family(out, "sendgate_policyd_socketmap_lookups_total", "counter",
                   "socketmap requests answered, by map and result");
    for (int m = 0; m < PM_MAPS; m++)
        for (int r = 0; r < PM_STATUSES; r++)
            metrics_sample(out, "sendgate_policyd_socketmap_lookups_total", GET(pm.smap[m][r]),
                           "map", pm_maps[m], "result", pm_results[r], NULL);
    metrics_gauge(out, "sendgate_policyd_connections_open", "client connections held now",
                  GET(pm.conn_open));
    metrics_counter(out, "sendgate_policyd_connections_total", "client connections accepted",
                    GET(pm.conn_total));
}

/* pm_refresher - what this process's refresher did, per provider */
static void pm_refresher(buf *out)
{
    static const char *const results[] = {"ok", "failed", "deferred"};
    static const char n_runs[] = "sendgate_policyd_refresh_runs_total";
    static const char n_429[] = "sendgate_policyd_refresh_http_429_total";
    static const char n_wait[] = "sendgate_policyd_refresh_retry_after_waits_total";
    static const char n_budget[] = "sendgate_policyd_refresh_budget_requests_left";
    refstats_snap s[PROV__COUNT];

    for (int p = 0; p < PROV__COUNT; p++)
        refstats_get(p, &s[p]);
    metrics_family(out, n_runs, "counter", "provider refreshes since start, by result");
    for (int p = 0; p < PROV__COUNT; p++) {
        uint64_t v[] = {s[p].ok, s[p].failed, s[p].deferred};
        for (int r = 0; r < 3; r++)
            metrics_sample(out, n_runs, v[r], "provider", cache_provider_name(p), "result",
                           results[r], NULL);
    }
    metrics_family(out, n_429, "counter", "refreshes ended by an HTTP 429 answer");
    for (int p = 0; p < PROV__COUNT; p++)
        metrics_sample(out, n_429, s[p].http_429, "provider", cache_provider_name(p), NULL);
    metrics_family(out, n_wait, "counter",
                   "failed refreshes that set a Retry-After (or rate-limit lockout) wait");
    for (int p = 0; p < PROV__COUNT; p++)
        metrics_sample(out, n_wait, s[p].retry_after_waits, "provider", cache_provider_name(p),
                       NULL);
    metrics_family(out, n_budget, "gauge",
                   "requests left in the provider's request budget now (-1: none sent yet)");
    for (int p = 0; p < PROV__COUNT; p++)
        metrics_sample_i64(out, n_budget, s[p].budget_left, "provider", cache_provider_name(p),
                           NULL);
}

/* pm_meta_gauge - one gauge family with a sample per provider from its meta record */
static void pm_meta_gauge(buf *out, const char *name, const char *help, const cache_meta *m,
                          int field, int64_t now)
{
    metrics_family(out, name, "gauge", help);
    for (int p = 0; p < PROV__COUNT; p++) {
        int64_t v = field == 0   ? m[p].last_success
                    : field == 1 ? (int64_t)m[p].failures
                    : field == 2 ? m[p].next_attempt
                                 : now - m[p].last_success;
        if (field == 3 && m[p].last_success <= 0)
            continue; /* never refreshed: no age */
        metrics_sample_i64(out, name, v, "provider", cache_provider_name(p), NULL);
    }
}

/* pm_cache - the persisted refresh facts and the records, read from the cache now */
static void pm_cache(cache *c, buf *out)
{
    static const char n_rec[] = "sendgate_policyd_cache_records";
    cache_meta m[PROV__COUNT] = {0};
    int64_t now = (int64_t)time(NULL);
    int readable = 1;

    for (int p = 0; p < PROV__COUNT; p++) {
        int rc = c ? cache_get_meta(c, p, &m[p]) : CACHE_ERROR;
        if (rc != CACHE_OK && rc != CACHE_NOTFOUND)
            readable = 0;
        if (rc != CACHE_OK)
            m[p] = (cache_meta){0};
    }
    pm_meta_gauge(out, "sendgate_policyd_refresh_last_success_time_seconds",
                  "unix time of the provider's last successful refresh (0: never)", m, 0, now);
    pm_meta_gauge(out, "sendgate_policyd_refresh_consecutive_failures",
                  "the provider's failed refreshes since its last success", m, 1, now);
    pm_meta_gauge(out, "sendgate_policyd_refresh_next_attempt_time_seconds",
                  "unix time before which no request goes to the provider (0: none)", m, 2, now);
    pm_meta_gauge(out, "sendgate_policyd_cache_age_seconds",
                  "seconds since the provider's data in the cache was refreshed", m, 3, now);
    metrics_family(out, n_rec, "gauge", "records the provider's last refresh wrote, by table");
    for (int p = 0; p < PROV__COUNT; p++) {
        metrics_sample(out, n_rec, m[p].n_outbound, "provider", cache_provider_name(p), "table",
                       "outbound", NULL);
        metrics_sample(out, n_rec, m[p].n_inbound, "provider", cache_provider_name(p), "table",
                       "inbound", NULL);
    }
    metrics_gauge(out, "sendgate_policyd_cache_readable",
                  "1 when the cache's refresh records could be read", readable);
}

/* pmetrics_render - every series, in the Prometheus text format (arg: the cache) */
void pmetrics_render(void *arg, buf *out)
{
    pm_requests(out);
    pm_refresher(out);
    pm_cache(arg, out);
    metrics_gauge(out, "sendgate_policyd_start_time_seconds", "unix time the daemon started",
                  pm.start_time);
}
