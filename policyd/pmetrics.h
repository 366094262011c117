/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pmetrics.h - sendgate-policyd's counters and their Prometheus text form
 *
 * SYNOPSIS
 *	pmetrics_init();                                       (main.c, at start)
 *	pmetrics_policy(action);  pmetrics_smap(map, status);  (server.c, per answer)
 *	pmetrics_conn(+1);  pmetrics_conn(-1);                 (server.c)
 *	pmetrics_render(cache, &out);                          (GET /metrics, lib/metrics_http.h)
 *
 * DESCRIPTION
 *	Relaxed atomic counters bumped by the event loop; the refresher's
 *	counters are in providers/refstats.h, the persisted refresh facts in
 *	the cache's meta records, read at scrape time. Names:
 *	  sendgate_policyd_policy_requests_total{action}       accept, reject, tempfail
 *	  sendgate_policyd_socketmap_lookups_total{map,result}
 *	      map: relay, transport, forward, other (unknown names and requests
 *	      refused before a map was named); result: ok, notfound, temp,
 *	      timeout, perm
 *	  sendgate_policyd_connections_open                    (gauge)
 *	  sendgate_policyd_connections_total                   accepted
 *	  sendgate_policyd_refresh_runs_total{provider,result} ok, failed, deferred
 *	  sendgate_policyd_refresh_http_429_total{provider}
 *	  sendgate_policyd_refresh_retry_after_waits_total{provider}
 *	  sendgate_policyd_refresh_budget_requests_left{provider}   (gauge; -1 unknown)
 *	  sendgate_policyd_refresh_last_success_time_seconds{provider}   (gauge; 0 never)
 *	  sendgate_policyd_refresh_consecutive_failures{provider}   (gauge)
 *	  sendgate_policyd_refresh_next_attempt_time_seconds{provider}   (gauge; 0 none)
 *	  sendgate_policyd_cache_age_seconds{provider}          (gauge; providers refreshed once)
 *	  sendgate_policyd_cache_records{provider,table}       (gauge; outbound, inbound)
 *	  sendgate_policyd_cache_readable                      (gauge; 1 or 0)
 *	  sendgate_policyd_start_time_seconds                  (gauge)
 *	The refresh counters count this process's refreshes since it started.
 */
#ifndef SG_POLICYD_PMETRICS_H
#define SG_POLICYD_PMETRICS_H

#include "lib/buf.h"

void pmetrics_init(void);
void pmetrics_policy(int action);
void pmetrics_smap(const char *map, int status);
void pmetrics_conn(int delta);
void pmetrics_render(void *cache, buf *out);

#endif
