/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * refstats.h - what the refresher did in this process, for the metrics
 *
 * SYNOPSIS
 *	refstats_result(provider, rc);                    (refresh.c, after every refresh)
 *	refstats_failure(provider, &failure, &budget);    (refresh.c, after a request went out)
 *	refstats_get(provider, &snap);                    (at scrape time, any thread)
 *
 * DESCRIPTION
 *	Process-wide counters per provider, bumped with relaxed atomics by the
 *	refresher (or sendgatectl's one-shot refresh): refreshes by result
 *	(ok, failed; deferred ones sent nothing and are counted apart), the
 *	HTTP 429 answers that ended a refresh, the waits a Retry-After (or a
 *	429's default lockout) imposed, and the request budget left after the
 *	provider's last refresh (its token bucket, refilled to now at
 *	snapshot time; -1 before the first request). Persisted facts (last
 *	success, records, next attempt) are in the cache's meta records.
 */
#ifndef SG_PROVIDERS_REFSTATS_H
#define SG_PROVIDERS_REFSTATS_H

#include <stdint.h>

#include "cache/record.h"
#include "providers/http.h"

typedef struct refstats_snap {
    uint64_t ok, failed, deferred;
    uint64_t http_429;          /* refreshes ended by an HTTP 429 */
    uint64_t retry_after_waits; /* failures that set a Retry-After or lockout wait */
    int64_t budget_left;        /* whole requests; -1 = unknown (no request yet) */
} refstats_snap;

void refstats_result(int provider, int rc);
void refstats_failure(int provider, const http_failure *f, const http_budget *b);
void refstats_get(int provider, refstats_snap *out);

#endif
