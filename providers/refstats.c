/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * refstats.c - the refresher's per-provider counters (see refstats.h)
 */
#include "providers/refstats.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "providers/refresh.h"

struct refstats_prov {
    _Atomic uint64_t ok, failed, deferred, http_429, waits;
    http_budget budget; /* under refstats_mu: written once a refresh, read at scrape */
    int have_budget;
};

static struct refstats_prov refstats_p[PROV__COUNT];
static pthread_mutex_t refstats_mu = PTHREAD_MUTEX_INITIALIZER;

#define INC(x) atomic_fetch_add_explicit(&(x), 1, memory_order_relaxed)
#define GET(x) atomic_load_explicit(&(x), memory_order_relaxed)

/* refstats_result - one refresh_provider result (enum refresh_result) */
void refstats_result(int provider, int rc)
{
    struct refstats_prov *p;

    if (provider < 0 || provider >= PROV__COUNT)
        return;
    p = &refstats_p[provider];
    if (rc == REFRESH_OK)
        INC(p->ok);
    else if (rc == REFRESH_FAILED)
        INC(p->failed);
    else if (rc == REFRESH_DEFERRED)
        INC(p->deferred);
}

/* refstats_failure - after a refresh that sent requests: its failure (if any) and the budget */
void refstats_failure(int provider, const http_failure *f, const http_budget *b)
{
    struct refstats_prov *p;

    if (provider < 0 || provider >= PROV__COUNT)
        return;
    p = &refstats_p[provider];
    if (f && f->status == 429)
        INC(p->http_429);
    if (f && (f->status == 429 || f->retry_after))
        INC(p->waits);
    if (b) {
        pthread_mutex_lock(&refstats_mu);
        p->budget = *b;
        p->have_budget = 1;
        pthread_mutex_unlock(&refstats_mu);
    }
}

/* refstats_get - a snapshot of one provider's counters, the budget refilled to now */
void refstats_get(int provider, refstats_snap *out)
{
    struct refstats_prov *p;

    memset(out, 0, sizeof(*out));
    out->budget_left = -1;
    if (provider < 0 || provider >= PROV__COUNT)
        return;
    p = &refstats_p[provider];
    out->ok = GET(p->ok);
    out->failed = GET(p->failed);
    out->deferred = GET(p->deferred);
    out->http_429 = GET(p->http_429);
    out->retry_after_waits = GET(p->waits);
    pthread_mutex_lock(&refstats_mu);
    if (p->have_budget) {
        http_budget b = p->budget;
        int64_t now = http_now_ms();
        if (now > b.last_ms)
            b.tokens += (double)(now - b.last_ms) * b.per_ms;
        if (b.tokens > b.capacity)
            b.tokens = b.capacity;
        out->budget_left = b.tokens > 0 ? (int64_t)b.tokens : 0;
    }
    pthread_mutex_unlock(&refstats_mu);
}
