/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tmetrics.c - trackd's request and event counters, rendered for Prometheus
 *
 * Bumped from every request thread (and the event writer for burst labels);
 * read by GET /metrics. See tmetrics.h for the names.
 */
#include "trackd/tmetrics.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/metrics.h"

static const char *const tm_endpoints[TM__EP] = {"click",   "open",    "unsubscribe",
                                                 "metrics", "healthz", "other"};
static const char *const tm_methods[TM__METHOD] = {"GET", "HEAD", "POST", "OPTIONS", "other"};
static const int tm_codes[TM__STATUS] = {200, 204, 302, 400, 403, 404, 405,
                                         413, 414, 431, 500, 503, 0};
static const char *const tm_bots[TM__BOT] = {"image_proxy", "apple_proxy", "scanner",  "headless",
                                             "script",      "crawler",     "empty_ua", "early",
                                             "burst",       "other"};

static const char *const tm_drops[TM__DROP] = {"deadline", "full", "per_address"};

#define INC(x) atomic_fetch_add_explicit(&(x), 1, memory_order_relaxed)
#define GET(x) atomic_load_explicit(&(x), memory_order_relaxed)

/* tmetrics_init - all zero, start time now */
void tmetrics_init(tmetrics *m)
{
    memset(m, 0, sizeof(*m));
    m->start_time = (int64_t)time(NULL);
}

/* tmetrics_request - one request to an endpoint */
void tmetrics_request(tmetrics *m, int endpoint, int method)
{
    if (endpoint >= 0 && endpoint < TM__EP && method >= 0 && method < TM__METHOD)
        INC(m->requests[endpoint][method]);
}

/* tmetrics_status - one response with this status code */
void tmetrics_status(tmetrics *m, int code)
{
    int i = 0;

    while (tm_codes[i] && tm_codes[i] != code)
        i++;
    INC(m->status[i]);
}

/* tmetrics_event - one recorded event, and its bot label if any */
void tmetrics_event(tmetrics *m, int kind, const char *bot)
{
    int i = 0;

    if (kind >= TOKEN_CLICK && kind <= TOKEN_UNSUB)
        INC(m->events[kind]);
    if (bot == NULL)
        return;
    while (i < TM__BOT - 1 && strcmp(tm_bots[i], bot) != 0)
        i++;
    INC(m->bot[i]);
}

/* tmetrics_bad_token - a token refused on a token endpoint, by reason */
void tmetrics_bad_token(tmetrics *m, int endpoint, int reason)
{
    if (endpoint >= TM_CLICK && endpoint <= TM_UNSUB && reason >= 0 && reason < TM__REASON)
        INC(m->bad_tokens[endpoint][reason]);
}

/* tm_reason_name - token_verify result names plus trackd's own */
static const char *tm_reason_name(int r)
{
    if (r == TM_REASON_REVOKED)
        return "revoked";
    if (r == TM_REASON_BAD_DEST)
        return "bad_destination";
    return token_result_name(r);
}

/* tmetrics_render - the Prometheus text exposition format (version 0.0.4) */
void tmetrics_render(tmetrics *m, uint64_t dropped, uint64_t written, buf *out)
{
    static const char *const kinds[4] = {NULL, "clicks", "opens", "unsubscribes"};
    char name[80];

    metrics_family(out, "sendgate_trackd_requests_total", "counter", "HTTP requests by endpoint");
    for (int e = 0; e < TM__EP; e++)
        for (int k = 0; k < TM__METHOD; k++)
            buf_printf(out, "sendgate_trackd_requests_total{endpoint=\"%s\",method=\"%s\"} %llu\n",
                       tm_endpoints[e], tm_methods[k], (unsigned long long)GET(m->requests[e][k]));
    metrics_family(out, "sendgate_trackd_responses_total", "counter",
                   "HTTP responses by status code");
    for (int i = 0; i < TM__STATUS; i++) {
        if (tm_codes[i])
            buf_printf(out, "sendgate_trackd_responses_total{code=\"%d\"} %llu\n", tm_codes[i],
                       (unsigned long long)GET(m->status[i]));
        else
            buf_printf(out, "sendgate_trackd_responses_total{code=\"other\"} %llu\n",
                       (unsigned long long)GET(m->status[i]));
    }
    for (int k = TOKEN_CLICK; k <= TOKEN_UNSUB; k++) {
        snprintf(name, sizeof(name), "sendgate_trackd_%s_total", kinds[k]);
        metrics_counter(out, name, "recorded events", GET(m->events[k]));
    }
    metrics_family(out, "sendgate_trackd_bot_events_total", "counter",
                   "recorded events carrying a bot label");
    for (int i = 0; i < TM__BOT; i++)
        buf_printf(out, "sendgate_trackd_bot_events_total{label=\"%s\"} %llu\n", tm_bots[i],
                   (unsigned long long)GET(m->bot[i]));
    metrics_family(out, "sendgate_trackd_bad_tokens_total", "counter",
                   "tokens refused, by endpoint and reason");
    for (int e = TM_CLICK; e <= TM_UNSUB; e++)
        for (int r = 1; r < TM__REASON; r++)
            buf_printf(out,
                       "sendgate_trackd_bad_tokens_total{endpoint=\"%s\",reason=\"%s\"} %llu\n",
                       tm_endpoints[e], tm_reason_name(r),
                       (unsigned long long)GET(m->bad_tokens[e][r]));
    metrics_counter(out, "sendgate_trackd_unsubscribe_repeats_total",
                    "unsubscriptions of a recipient already unsubscribed", GET(m->unsub_repeat));
    metrics_counter(out, "sendgate_trackd_unsubscribe_unpersonalised_total",
                    "unsubscribe requests whose token names no recipient", GET(m->unsub_nobody));
    metrics_counter(out, "sendgate_trackd_unsubscribe_errors_total",
                    "unsubscriptions the cache could not record", GET(m->unsub_error));
    metrics_counter(out, "sendgate_trackd_events_written_total",
                    "events written by the event writer", written);
    metrics_counter(out, "sendgate_trackd_events_dropped_total",
                    "events dropped because the writer queue was full", dropped);
    metrics_family(out, "sendgate_trackd_connections_open", "gauge", "client connections held now");
    buf_printf(out, "sendgate_trackd_connections_open %llu\n",
               (unsigned long long)GET(m->conn_open));
    metrics_family(out, "sendgate_trackd_connections_closed_total", "counter",
                   "connections trackd closed itself: past request_timeout, or to make room at "
                   "max_connections or max_connections_per_ip");
    for (int i = 0; i < TM__DROP; i++)
        buf_printf(out, "sendgate_trackd_connections_closed_total{reason=\"%s\"} %llu\n",
                   tm_drops[i], (unsigned long long)GET(m->conn_dropped[i]));
    metrics_family(out, "sendgate_trackd_start_time_seconds", "gauge",
                   "unix time the daemon started");
    buf_printf(out, "sendgate_trackd_start_time_seconds %lld\n", (long long)m->start_time);
}
