/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tmetrics.h - sendgate-trackd's counters and their Prometheus text form
 *
 * SYNOPSIS
 *	tmetrics m;  tmetrics_init(&m);
 *	tmetrics_request(&m, TM_CLICK, TM_GET);   tmetrics_status(&m, 302);
 *	tmetrics_bad_token(&m, TM_CLICK, TOKEN_EBAD_MAC);
 *	tmetrics_render(&m, evlog_dropped(ev), evlog_written(ev), &body);   (GET /metrics)
 *
 * DESCRIPTION
 *	Lock-free relaxed atomic counters, bumped by every request thread.
 *	Names (all counters unless noted):
 *	  sendgate_trackd_requests_total{endpoint,method}
 *	  sendgate_trackd_responses_total{code}
 *	  sendgate_trackd_clicks_total, _opens_total, _unsubscribes_total
 *	      (recorded events; HEAD and bad tokens are never recorded)
 *	  sendgate_trackd_bot_events_total{label}
 *	  sendgate_trackd_bad_tokens_total{endpoint,reason}
 *	      reason: malformed, version, unknown_key, bad_mac, wrong_purpose,
 *	      revoked, bad_destination
 *	  sendgate_trackd_unsubscribe_repeats_total (already unsubscribed)
 *	  sendgate_trackd_unsubscribe_unpersonalised_total (token names nobody)
 *	  sendgate_trackd_unsubscribe_errors_total (the cache refused the write)
 *	  sendgate_trackd_events_written_total, _events_dropped_total
 *	  sendgate_trackd_connections_open (gauge)
 *	  sendgate_trackd_connections_closed_total{reason}
 *	      connections trackd closed itself (connguard.h): deadline
 *	      (request_timeout passed), full (max_connections), per_address
 *	      (max_connections_per_ip)
 *	  sendgate_trackd_start_time_seconds (gauge)
 *	Counters for a token's sending domain are in the statistics
 *	(sendgatectl stats), not here: a domain label would be unbounded.
 */
#ifndef SG_TRACKD_TMETRICS_H
#define SG_TRACKD_TMETRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/token.h"

enum tmetrics_endpoint { TM_CLICK, TM_OPEN, TM_UNSUB, TM_METRICS, TM_HEALTHZ, TM_OTHER, TM__EP };
enum tmetrics_method { TM_GET, TM_HEAD, TM_POST, TM_OPTIONS, TM_OTHER_METHOD, TM__METHOD };

/* bad-token reasons beyond token_verify's results */
#define TM_REASON_REVOKED  TOKEN_RESULT_COUNT
#define TM_REASON_BAD_DEST (TOKEN_RESULT_COUNT + 1)
#define TM__REASON         (TOKEN_RESULT_COUNT + 2)

enum tmetrics_conn_drop { TM_DROP_DEADLINE, TM_DROP_FULL, TM_DROP_PER_ADDR, TM__DROP };

#define TM__STATUS 13
#define TM__BOT    10

typedef struct tmetrics {
    _Atomic uint64_t requests[TM__EP][TM__METHOD];
    _Atomic uint64_t status[TM__STATUS];
    _Atomic uint64_t events[4]; /* by token purpose */
    _Atomic uint64_t bot[TM__BOT];
    _Atomic uint64_t bad_tokens[3][TM__REASON];
    _Atomic uint64_t unsub_repeat, unsub_nobody, unsub_error;
    _Atomic uint64_t conn_open; /* a gauge, set by connguard */
    _Atomic uint64_t conn_dropped[TM__DROP];
    int64_t start_time;
} tmetrics;

void tmetrics_init(tmetrics *m);
void tmetrics_request(tmetrics *m, int endpoint, int method);
void tmetrics_status(tmetrics *m, int code);
void tmetrics_event(tmetrics *m, int kind, const char *bot);
void tmetrics_bad_token(tmetrics *m, int endpoint, int reason);
void tmetrics_render(tmetrics *m, uint64_t dropped, uint64_t written, buf *out);

#endif
