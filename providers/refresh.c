/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * refresh.c - the refresher: provider APIs into the LMDB cache (see refresh.h)
 *
 * Data flow: refresh_provider asks a provider client (providers/jetemail.c,
 * providers/mailtrap.c, providers/static.c) for everything the provider
 * says, as cache items, and commits them with the provider's meta record
 * in one write transaction. A failure writes only meta: the error, the
 * count of consecutive failures and next_attempt, the persisted "no
 * request before" time that every later refresh in any process honours.
 *
 * Per process and provider there is one session: a mutex (one refresh of
 * a provider at a time), the request budget (token bucket), and what the
 * Mailtrap client learnt about its path style and account. The daemon's
 * thread (refresher_*) only decides when to call refresh_provider.
 */
#include "providers/refresh.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "lib/log.h"
#include "providers/http.h"
#include "providers/items.h"
#include "providers/jetemail.h"
#include "providers/mailtrap.h"
#include "providers/refstats.h"
#include "providers/static.h"

struct session {
    pthread_mutex_t lock;
    bool budget_ready;
    long budget_n, budget_window;
    http_budget budget;
    int mt_style;    /* the path_style the discoveries below were made with */
    int mt_resolved; /* MT_STYLE_DOMAINS or _ACCOUNT, 0 = not known */
    long mt_account; /* discovered account id, 0 = not known */
};

static struct session sessions[PROV__COUNT] = {
        {.lock = PTHREAD_MUTEX_INITIALIZER},
        {.lock = PTHREAD_MUTEX_INITIALIZER},
        {.lock = PTHREAD_MUTEX_INITIALIZER},
};

const char *refresh_result_name(int result)
{
    static const char *const names[] = {"ok", "deferred", "failed", "disabled"};

    return result >= 0 && result <= REFRESH_DISABLED ? names[result] : "?";
}

/* refresh_enabled - is the provider switched on? */
bool refresh_enabled(const conf *cfg, int provider)
{
    switch (provider) {
    case PROV_STATIC:
        return cfg->static_.enabled;
    case PROV_JETEMAIL:
        return cfg->jetemail.enabled;
    case PROV_MAILTRAP:
        return cfg->mailtrap.enabled;
    default:
        return false;
    }
}

bool refresh_any_enabled(const conf *cfg)
{
    for (int p = 0; p < PROV__COUNT; p++)
        if (refresh_enabled(cfg, p))
            return true;
    return false;
}

/* session_budget - the provider's bucket, (re)made when its settings change */
static http_budget *session_budget(struct session *s, long n, long window)
{
    if (!s->budget_ready || s->budget_n != n || s->budget_window != window) {
        http_budget_init(&s->budget, n, window, http_now_ms());
        s->budget_ready = true;
        s->budget_n = n;
        s->budget_window = window;
    }
    return &s->budget;
}

/* fmt_time - "2026-11-23T04:00:00Z" */
static const char *fmt_time(time_t t, char *out, size_t n)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}

/* copy_text - as much of src as fits (meta's error field is shorter than a failure text) */
static void copy_text(char *dst, size_t n, const char *src)
{
    size_t len = strnlen(src, n - 1);

    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* rate_limited - was the last failure a 429 (whose wait --force must not skip)? */
static bool rate_limited(const cache_meta *m)
{
    return strstr(m->last_error, "HTTP 429") != NULL;
}

/* next_attempt - backoff doubling per failure, never before a Retry-After or lockout */
static time_t next_attempt(const conf *cfg, int provider, const cache_meta *m,
                           const http_failure *f, time_t now)
{
    long back = cfg->refresh.backoff_min > 0 ? cfg->refresh.backoff_min : 1;
    time_t next, ra = f->retry_after;

    for (uint32_t i = 1; i < m->failures && back < cfg->refresh.backoff_max; i++)
        back *= 2;
    if (back > cfg->refresh.backoff_max)
        back = cfg->refresh.backoff_max;
    next = now + back;
    if (f->status == 429 && ra == 0)
        ra = now + (provider == PROV_JETEMAIL ? cfg->jetemail.retry_after_default
                                              : cfg->mailtrap.retry_after_default);
    return ra > next ? ra : next;
}

/* record_failure - meta only: the domains stay as they were */
static void record_failure(const conf *cfg, cache *c, int provider, time_t now,
                           const http_failure *f, buf *why)
{
    const char *name = cache_provider_name(provider);
    char when[32];
    cache_meta m;

    if (cache_get_meta(c, provider, &m) != CACHE_OK)
        memset(&m, 0, sizeof(m));
    m.last_attempt = now;
    m.failures++;
    copy_text(m.last_error, sizeof(m.last_error), f->text);
    m.next_attempt = next_attempt(cfg, provider, &m, f, now);
    if (cache_put_meta(c, provider, &m) != CACHE_OK)
        log_err("%s: cannot record the failed refresh in the cache", name);
    fmt_time((time_t)m.next_attempt, when, sizeof(when));
    log_warn("%s: refresh failed (%u in a row), previous data kept: %s; next attempt not "
             "before %s",
             name, m.failures, f->text, when);
    buf_printf(why, "%s; previous data kept; next attempt not before %s", f->text, when);
}

/* commit - the provider's items and a fresh meta record in one transaction */
static int commit(cache *c, int provider, const items *it, time_t now, const char *note,
                  http_failure *f)
{
    cache_meta m;

    memset(&m, 0, sizeof(m));
    m.last_attempt = m.last_success = now;
    m.n_outbound = (uint32_t)it->n_out;
    m.n_inbound = (uint32_t)it->n_in;
    copy_text(m.last_error, sizeof(m.last_error), note);
    if (cache_replace_provider(c, provider, it->out, it->n_out, it->in, it->n_in, &m) != CACHE_OK) {
        http_failure_text(f, HTTP_ERR_TRANSPORT, "cannot write the cache (see the log)");
        return REFRESH_FAILED;
    }
    return REFRESH_OK;
}

/* fetch_jetemail - jet_fetch with a client for this refresh; note = kept domains */
static bool fetch_jetemail(const conf *cfg, cache *c, struct session *s, items *it, time_t now,
                           const atomic_bool *cancel, http_failure *f, buf *note)
{
    jet_client j;
    jet_stats st;
    bool ok;

    if (!jet_client_init(
                &j, cfg,
                session_budget(s, cfg->jetemail.request_budget, cfg->jetemail.budget_window),
                cancel, f->text, sizeof(f->text)))
        return false;
    ok = jet_fetch(&j, c, it, now, &st, f);
    jet_client_free(&j);
    if (ok && st.carried + st.skipped)
        buf_printf(note, "%u domain(s) kept from before, %u skipped: %s", st.carried, st.skipped,
                   f->text);
    return ok;
}

/* fetch_mailtrap - mt_fetch, remembering the path style and account it found */
static bool fetch_mailtrap(const conf *cfg, struct session *s, items *it, time_t now,
                           const atomic_bool *cancel, http_failure *f, buf *note)
{
    mt_client m;
    unsigned skipped;
    bool ok;

    if (!mt_client_init(
                &m, cfg,
                session_budget(s, cfg->mailtrap.request_budget, cfg->mailtrap.budget_window),
                cancel, f->text, sizeof(f->text)))
        return false;
    if (s->mt_style != cfg->mailtrap.path_style) {
        s->mt_style = cfg->mailtrap.path_style;
        s->mt_resolved = 0;
        s->mt_account = 0;
    }
    m.resolved = s->mt_resolved;
    if (m.account_id == 0)
        m.account_id = s->mt_account;
    ok = mt_fetch(&m, it, now, &skipped, f);
    s->mt_resolved = m.resolved;
    if (cfg->mailtrap.account_id == 0)
        s->mt_account = m.account_id;
    mt_client_free(&m);
    if (ok && skipped)
        buf_printf(note, "%u domain(s) skipped (unreadable; see the log)", skipped);
    return ok;
}

/* refresh_held - is a provider's rate-limit wait (Retry-After, lockout) still running? */
bool refresh_held(cache *c, int provider, time_t now, char *why, size_t whylen)
{
    char when[32];
    cache_meta m;

    if (c == NULL || cache_get_meta(c, provider, &m) != CACHE_OK || m.next_attempt <= now ||
        !rate_limited(&m))
        return false;
    errbuf_set(why, whylen, "rate limited until %s (%s)",
               fmt_time((time_t)m.next_attempt, when, sizeof(when)), m.last_error);
    return true;
}

/*
 * refresh_note_429 - a 429 that sendgatectl received: no request before
 * its Retry-After (or the provider's default wait), refresher included.
 * Domain data and the failure count stay as they are.
 */
void refresh_note_429(const conf *cfg, cache *c, int provider, time_t now, time_t retry_after,
                      const char *error)
{
    cache_meta m;
    time_t until = retry_after
                           ? retry_after
                           : now + (provider == PROV_JETEMAIL ? cfg->jetemail.retry_after_default
                                                              : cfg->mailtrap.retry_after_default);

    if (c == NULL || provider < 0 || provider >= PROV__COUNT)
        return;
    if (cache_get_meta(c, provider, &m) != CACHE_OK)
        memset(&m, 0, sizeof(m));
    if (until > m.next_attempt)
        m.next_attempt = until;
    copy_text(m.last_error, sizeof(m.last_error), error);
    if (cache_put_meta(c, provider, &m) != CACHE_OK)
        log_warn("%s: cannot record the rate limit in the cache", cache_provider_name(provider));
}

/* refresh_static - the local file (no network, no backoff) */
static int refresh_static(const conf *cfg, cache *c, time_t now, buf *why)
{
    conf_report rep;
    int rc;

    conf_report_init(&rep);
    rc = static_refresh(c, cfg->static_.file, (int64_t)now, &rep);
    if (rc == CACHE_OK)
        buf_printf(why, "%s loaded", cfg->static_.file);
    else
        buf_printf(why, "%s: %.*s", cfg->static_.file, (int)strcspn(buf_cstr(&rep.text), "\n"),
                   buf_cstr(&rep.text));
    conf_report_free(&rep);
    return rc == CACHE_OK ? REFRESH_OK : REFRESH_FAILED;
}

/* deferred - is a request not yet allowed? (why says until when) */
static bool deferred(cache *c, int provider, time_t now, unsigned flags, buf *why)
{
    char when[32];
    cache_meta m;

    if (cache_get_meta(c, provider, &m) != CACHE_OK || m.next_attempt <= now)
        return false;
    if ((flags & REFRESH_FORCE) && !rate_limited(&m))
        return false;
    buf_printf(why, "no request before %s (%s%s)",
               fmt_time((time_t)m.next_attempt, when, sizeof(when)),
               rate_limited(&m) ? "rate limited: " : "backing off after: ", m.last_error);
    return true;
}

/* refresh_locked - one provider, its session held */
static int refresh_locked(const conf *cfg, cache *c, int provider, time_t now, unsigned flags,
                          buf *why, const atomic_bool *cancel)
{
    struct session *s = &sessions[provider];
    buf note = BUF_INIT;
    http_failure f;
    items it;
    bool ok;
    int rc;

    if (deferred(c, provider, now, flags, why))
        return REFRESH_DEFERRED;
    http_failure_clear(&f);
    items_init(&it, provider);
    if (provider == PROV_JETEMAIL)
        ok = fetch_jetemail(cfg, c, s, &it, now, cancel, &f, &note);
    else
        ok = fetch_mailtrap(cfg, s, &it, now, cancel, &f, &note);
    if (ok)
        ok = commit(c, provider, &it, now, buf_cstr(&note), &f) == REFRESH_OK;
    if (ok) {
        log_info("%s: refreshed: %zu outbound and %zu inbound domains%s%s",
                 cache_provider_name(provider), it.n_out, it.n_in, note.len ? "; " : "",
                 buf_cstr(&note));
        buf_printf(why, "%zu outbound, %zu inbound%s%s", it.n_out, it.n_in, note.len ? "; " : "",
                   buf_cstr(&note));
        rc = REFRESH_OK;
    } else if (f.rc == HTTP_ERR_CANCELLED) {
        buf_printf(why, "cancelled");
        rc = REFRESH_FAILED; /* stopping is not the provider's failure: meta untouched */
    } else {
        record_failure(cfg, c, provider, now, &f, why);
        rc = REFRESH_FAILED;
    }
    refstats_failure(provider, ok ? NULL : &f, s->budget_ready ? &s->budget : NULL);
    items_free(&it);
    buf_free(&note);
    return rc;
}

/* refresh_one - refresh_provider with a cancel flag (the daemon's thread) */
static int refresh_one(const conf *cfg, cache *c, int provider, time_t now, unsigned flags,
                       buf *why, const atomic_bool *cancel)
{
    int rc;

    if (provider < 0 || provider >= PROV__COUNT || !refresh_enabled(cfg, provider)) {
        buf_printf(why, "not enabled");
        return REFRESH_DISABLED;
    }
    if (!http_global_init()) {
        buf_printf(why, "cannot initialise libcurl");
        return REFRESH_FAILED;
    }
    pthread_mutex_lock(&sessions[provider].lock);
    if (provider == PROV_STATIC)
        rc = refresh_static(cfg, c, now, why);
    else
        rc = refresh_locked(cfg, c, provider, now, flags, why, cancel);
    pthread_mutex_unlock(&sessions[provider].lock);
    refstats_result(provider, rc);
    return rc;
}

/* refresh_provider - one refresh of one provider (see refresh.h) */
int refresh_provider(const conf *cfg, cache *c, int provider, time_t now, unsigned flags,
                     buf *outcome)
{
    return refresh_one(cfg, c, provider, now, flags, outcome, NULL);
}

/* refresh_all - every enabled provider once; a sysexits code (see refresh.h) */
int refresh_all(const conf *cfg, cache *c, time_t now, unsigned flags, buf *report)
{
    int ex = EX_OK;

    if (!refresh_any_enabled(cfg)) {
        buf_printf(report, "no provider is enabled (static, jetemail or mailtrap)\n");
        return EX_CONFIG;
    }
    for (int p = 0; p < PROV__COUNT; p++) {
        buf why = BUF_INIT;
        int r;
        if (!refresh_enabled(cfg, p))
            continue;
        r = refresh_provider(cfg, c, p, now, flags, &why);
        buf_printf(report, "%s: %s: %s\n", cache_provider_name(p), refresh_result_name(r),
                   buf_cstr(&why));
        buf_free(&why);
        if (r == REFRESH_DEFERRED && ex == EX_OK)
            ex = EX_TEMPFAIL;
        else if (r == REFRESH_FAILED && p == PROV_STATIC && ex != EX_UNAVAILABLE)
            ex = EX_DATAERR;
        else if (r == REFRESH_FAILED)
            ex = EX_UNAVAILABLE;
    }
    return ex;
}

/* ---- the daemon's thread ---- */

struct refresher {
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    conf *cfg;
    cache *cache;
    bool stop;
    unsigned force; /* bit per provider: SIGUSR1 asked for a refresh now */
    atomic_bool cancel;
    time_t due[PROV__COUNT];
    unsigned seed;
};

/* jittered - interval spread by +-jitter percent */
static time_t jittered(refresher *r, const conf *cfg)
{
    long iv = cfg->refresh.interval, span = iv * cfg->refresh.jitter / 100;

    if (span > 0)
        iv += (long)(rand_r(&r->seed) % (unsigned)(2 * span + 1)) - span;
    return iv > 1 ? iv : 1;
}

/* next_due - after a refresh: the interval, or meta.next_attempt after a failure */
static time_t next_due(refresher *r, const conf *cfg, int p, int res, time_t now)
{
    cache_meta m;

    if (res == REFRESH_OK || p == PROV_STATIC)
        return now + jittered(r, cfg);
    if (cache_get_meta(r->cache, p, &m) == CACHE_OK && m.next_attempt > now)
        return (time_t)m.next_attempt;
    return now + (cfg->refresh.backoff_min > 0 ? cfg->refresh.backoff_min : 30);
}

/* wait_until - sleep on the condition variable until `due` (wall clock) or a signal */
static void wait_until(refresher *r, time_t due, time_t now)
{
    struct timespec ts;

    if (due == 0) {
        pthread_cond_wait(&r->cond, &r->lock);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += due - now;
    pthread_cond_timedwait(&r->cond, &r->lock, &ts);
}

/* earliest - the enabled provider due first, -1 when none is enabled */
static int earliest(refresher *r)
{
    int best = -1;

    for (int p = 0; p < PROV__COUNT; p++)
        if (refresh_enabled(r->cfg, p) && (best < 0 || r->due[p] < r->due[best]))
            best = p;
    return best;
}

/* refresher_main - refresh whichever provider is due; sleep until the next */
static void *refresher_main(void *arg)
{
    refresher *r = arg;

    pthread_mutex_lock(&r->lock);
    while (!r->stop) {
        time_t now = time(NULL);
        int p = earliest(r), res;
        unsigned flags;
        buf why = BUF_INIT;
        conf *cfg;
        if (p < 0 || r->due[p] > now) {
            wait_until(r, p < 0 ? 0 : r->due[p], now);
            continue;
        }
        flags = (r->force & (1u << p)) ? REFRESH_FORCE : 0;
        r->force &= ~(1u << p);
        cfg = r->cfg;
        conf_ref(cfg);
        pthread_mutex_unlock(&r->lock);
        res = refresh_one(cfg, r->cache, p, now, flags, &why, &r->cancel);
        if (res == REFRESH_DEFERRED)
            log_info("%s: %s", cache_provider_name(p), buf_cstr(&why));
        buf_free(&why);
        pthread_mutex_lock(&r->lock);
        r->due[p] = next_due(r, cfg, p, res, time(NULL));
        conf_unref(cfg);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* refresher_start - the thread; it holds its own reference on cfg */
refresher *refresher_start(conf *cfg, cache *c)
{
    refresher *r = calloc(1, sizeof(*r));
    pthread_condattr_t ca;
    time_t now = time(NULL);

    if (r == NULL || !http_global_init()) {
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    conf_ref(cfg);
    r->cfg = cfg;
    r->cache = c;
    r->seed = (unsigned)now ^ (unsigned)getpid();
    atomic_init(&r->cancel, false);
    for (int p = 0; p < PROV__COUNT; p++)
        r->due[p] = now; /* a refresh honours meta.next_attempt by itself */
    if (pthread_create(&r->tid, NULL, refresher_main, r) != 0) {
        log_err("cannot start the refresher thread");
        conf_unref(cfg);
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return NULL;
    }
    return r;
}

/* refresher_trigger - refresh every enabled provider now (backoff skipped, Retry-After kept) */
void refresher_trigger(refresher *r)
{
    time_t now = time(NULL);

    if (r == NULL)
        return;
    pthread_mutex_lock(&r->lock);
    for (int p = 0; p < PROV__COUNT; p++) {
        r->due[p] = now;
        r->force |= 1u << p;
    }
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* refresher_reload - use cfg from the next refresh on; newly enabled providers at once */
void refresher_reload(refresher *r, conf *cfg)
{
    conf *old;
    time_t now = time(NULL);

    if (r == NULL)
        return;
    conf_ref(cfg);
    pthread_mutex_lock(&r->lock);
    old = r->cfg;
    for (int p = 0; p < PROV__COUNT; p++)
        if (refresh_enabled(cfg, p) && !refresh_enabled(old, p))
            r->due[p] = now;
    r->cfg = cfg;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    conf_unref(old);
}

/* refresher_stop - interrupt a transfer or a wait, join, free */
void refresher_stop(refresher *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    atomic_store(&r->cancel, true);
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->tid, NULL);
    conf_unref(r->cfg);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
