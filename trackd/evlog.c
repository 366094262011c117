/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * evlog.c - event queue and writer thread of sendgate-trackd (see evlog.h)
 *
 * Request threads call evlog_submit; the writer thread (evlog_run) owns the
 * events file descriptor, the burst tracker and the statistics
 * environment. The queue is two preallocated arrays: producers fill one
 * under a mutex, the writer swaps it for the other and works without the
 * lock, so a request thread never waits for more than a memcpy.
 */
#include "trackd/evlog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "trackd/botlabel.h"

#define EVLOG_SYNC_SECS  1
#define EVLOG_PRUNE_SECS 86400

struct evlog {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    evlog_event *fill, *work; /* EVLOG_QUEUE_MAX each */
    size_t nfill;
    bool stop;
    char *reopen_path; /* set by evlog_reopen, taken by the writer */
    bool reopen;

    /* writer thread only */
    int fd;      /* -1: no events file */
    bool own_fd; /* false for standard output */
    trackstats *stats;
    tmetrics *metrics;
    long retention;
    botlabel_burst *burst;
    buf out;
    trackstats_event *tse;
    time_t last_sync, last_prune, last_werr;

    _Atomic uint64_t dropped, written;
};

/* evlog_open_file - the events file: "-" = standard output, "" = none */
static bool evlog_open_file(const char *path, int *fd, bool *own, char *err, size_t errlen)
{
    if (path == NULL || *path == '\0') {
        *fd = -1;
        *own = false;
    } else if (strcmp(path, "-") == 0) {
        *fd = STDOUT_FILENO;
        *own = false;
    } else {
        int f = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
        if (f < 0) {
            snprintf(err, errlen, "events file %s: %s", path, strerror(errno));
            return false;
        }
        *fd = f;
        *own = true;
    }
    return true;
}

/* evlog_utf8_len - length of a valid UTF-8 sequence at p (n bytes left), 0 if invalid */
static size_t evlog_utf8_len(const unsigned char *p, size_t n)
{
    size_t len;
    uint32_t cp;

    if (p[0] < 0xc2 || p[0] > 0xf4)
        return 0;
    len = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
    if (n < len)
        return 0;
    cp = p[0] & (0xff >> (len + 1));
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* evlog_json_string - s as a JSON string literal (quotes included) */
void evlog_json_string(buf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);

    buf_putc(out, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            buf_putc(out, '\\');
            buf_putc(out, (char)c);
        } else if (c == '\n')
            buf_append_str(out, "\\n");
        else if (c == '\t')
            buf_append_str(out, "\\t");
        else if (c == '\r')
            buf_append_str(out, "\\r");
        else if (c < 0x20 || c == 0x7f)
            buf_printf(out, "\\u%04x", c);
        else if (c >= 0x80) {
            size_t l = evlog_utf8_len(p + i, n - i);
            if (l == 0) {
                buf_append_str(out, "\\ufffd");
                i++;
            } else {
                buf_append(out, p + i, l);
                i += l;
            }
            continue;
        } else
            buf_putc(out, (char)c);
        i++;
    }
    buf_putc(out, '"');
}

/* evlog_opt_string - a JSON string, or null when absent */
static void evlog_opt_string(buf *out, const char *key, bool present, const char *s)
{
    buf_printf(out, ",\"%s\":", key);
    if (present)
        evlog_json_string(out, s);
    else
        buf_append_str(out, "null");
}

/* evlog_format - one event as one JSON line (see evlog.h) */
void evlog_format(const evlog_event *e, buf *out)
{
    time_t secs = (time_t)(e->time_ms / 1000);
    struct tm tm;
    char ts[40];

    gmtime_r(&secs, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    buf_printf(out, "{\"time\":\"%s.%03dZ\",\"kind\":\"%s\",\"msgref\":", ts,
               (int)(e->time_ms % 1000), token_purpose_name(e->kind));
    evlog_json_string(out, e->msgref);
    if (e->kind == TOKEN_CLICK)
        buf_printf(out, ",\"link\":%u", e->link);
    else
        buf_append_str(out, ",\"link\":null");
    buf_append_str(out, ",\"domain\":");
    evlog_json_string(out, e->domain);
    if (e->kind == TOKEN_UNSUB)
        evlog_opt_string(out, "rcpt", true, e->rcpt);
    buf_printf(out, ",\"issued\":%lld", (long long)e->issued);
    evlog_opt_string(out, "client", e->has_client, e->client);
    evlog_opt_string(out, "ua", e->has_ua, e->ua);
    evlog_opt_string(out, "bot", e->bot != NULL, e->bot ? e->bot : "");
    buf_append_str(out, "}\n");
}

/* evlog_write_all - the batch with as few write(2) calls as the kernel allows */
static void evlog_write_all(evlog *l)
{
    size_t off = 0;

    while (l->fd >= 0 && off < l->out.len) {
        ssize_t w = write(l->fd, l->out.data + off, l->out.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            time_t now = time(NULL);
            if (now - l->last_werr >= 60) {
                log_err("events file: write failed: %s; events lost", strerror(errno));
                l->last_werr = now;
            }
            return;
        }
        off += (size_t)w;
    }
}

/* evlog_do_reopen - switch to a new events file (log rotation) */
static void evlog_do_reopen(evlog *l, const char *path)
{
    char err[512];
    int fd;
    bool own;

    if (!evlog_open_file(path, &fd, &own, err, sizeof(err))) {
        log_err("%s; keeping the old one", err);
        return;
    }
    if (l->own_fd)
        close(l->fd);
    l->fd = fd;
    l->own_fd = own;
}

/* evlog_batch - label, format, write and count n events */
static void evlog_batch(evlog *l, evlog_event *ev, size_t n)
{
    buf_reset(&l->out);
    for (size_t i = 0; i < n; i++) {
        evlog_event *e = &ev[i];
        if (e->bot == NULL && e->burst_key &&
            botlabel_burst_hit(l->burst, e->burst_key, e->link, e->time_ms))
            e->bot = "burst";
        evlog_format(e, &l->out);
        if (l->metrics)
            tmetrics_event(l->metrics, e->kind, e->bot);
        l->tse[i] = (trackstats_event){e->kind, e->domain, e->msgref, e->time_ms / 1000,
                                       e->bot != NULL};
    }
    evlog_write_all(l);
    if (l->stats)
        trackstats_apply(l->stats, l->tse, n);
    atomic_fetch_add_explicit(&l->written, n, memory_order_relaxed);
}

/* evlog_housekeeping - sync the statistics now and then, prune once a day */
static void evlog_housekeeping(evlog *l)
{
    time_t now = time(NULL);

    if (l->stats == NULL)
        return;
    if (now - l->last_sync >= EVLOG_SYNC_SECS) {
        trackstats_sync(l->stats);
        l->last_sync = now;
    }
    if (l->retention > 0 && now - l->last_prune >= EVLOG_PRUNE_SECS) {
        long n = trackstats_prune(l->stats, (int64_t)now - l->retention);
        if (n > 0)
            log_info("statistics: forgot %ld message(s) idle for over %lds", n, l->retention);
        l->last_prune = now;
    }
}

/* evlog_run - the writer thread */
static void *evlog_run(void *arg)
{
    evlog *l = arg;
    bool stop = false;

    while (!stop) {
        evlog_event *batch;
        size_t n;
        char *path = NULL;
        bool reopen;
        struct timespec until;

        pthread_mutex_lock(&l->mu);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += EVLOG_SYNC_SECS;
        while (l->nfill == 0 && !l->stop && !l->reopen)
            if (pthread_cond_timedwait(&l->cv, &l->mu, &until) == ETIMEDOUT)
                break;
        batch = l->fill;
        n = l->nfill;
        l->fill = l->work;
        l->work = batch;
        l->nfill = 0;
        stop = l->stop;
        reopen = l->reopen;
        path = l->reopen_path;
        l->reopen = false;
        l->reopen_path = NULL;
        pthread_mutex_unlock(&l->mu);

        if (reopen) {
            evlog_do_reopen(l, path);
            free(path);
        }
        if (n)
            evlog_batch(l, batch, n);
        evlog_housekeeping(l);
    }
    return NULL;
}

/* evlog_free - release everything (the thread is not running) */
static void evlog_free(evlog *l)
{
    if (l->own_fd)
        close(l->fd);
    botlabel_burst_free(l->burst);
    buf_free(&l->out);
    free(l->fill);
    free(l->work);
    free(l->tse);
    free(l->reopen_path);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}

/* evlog_start - open the events file and start the writer thread */
evlog *evlog_start(const char *path, trackstats *stats, long retention, tmetrics *m, char *err,
                   size_t errlen)
{
    evlog *l = calloc(1, sizeof(*l));

    if (l == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    buf_init(&l->out);
    l->fd = -1;
    l->stats = stats;
    l->metrics = m;
    l->retention = retention;
    l->last_sync = time(NULL);
    l->fill = calloc(EVLOG_QUEUE_MAX, sizeof(evlog_event));
    l->work = calloc(EVLOG_QUEUE_MAX, sizeof(evlog_event));
    l->tse = calloc(EVLOG_QUEUE_MAX, sizeof(trackstats_event));
    l->burst = botlabel_burst_new(4096);
    if (!l->fill || !l->work || !l->tse || !l->burst) {
        snprintf(err, errlen, "out of memory");
        evlog_free(l);
        return NULL;
    }
    if (!evlog_open_file(path, &l->fd, &l->own_fd, err, errlen)) {
        evlog_free(l);
        return NULL;
    }
    if (pthread_create(&l->thread, NULL, evlog_run, l) != 0) {
        snprintf(err, errlen, "cannot start the event writer thread");
        evlog_free(l);
        return NULL;
    }
    return l;
}

/* evlog_submit - queue a copy of e; false (and counted) when the queue is full */
bool evlog_submit(evlog *l, const evlog_event *e)
{
    bool ok;

    pthread_mutex_lock(&l->mu);
    ok = l->nfill < EVLOG_QUEUE_MAX;
    if (ok) {
        l->fill[l->nfill++] = *e;
        pthread_cond_signal(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    if (!ok)
        atomic_fetch_add_explicit(&l->dropped, 1, memory_order_relaxed);
    return ok;
}

/* evlog_reopen - have the writer reopen (or switch to) path before its next batch */
void evlog_reopen(evlog *l, const char *path)
{
    char *copy = strdup(path ? path : "");

    pthread_mutex_lock(&l->mu);
    free(l->reopen_path);
    l->reopen_path = copy;
    l->reopen = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

/* evlog_stop - write what is queued, stop the thread, close */
void evlog_stop(evlog *l)
{
    if (l == NULL)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    if (l->stats)
        trackstats_sync(l->stats);
    evlog_free(l);
}

/* evlog_dropped - events lost because the queue was full */
uint64_t evlog_dropped(evlog *l)
{
    return atomic_load_explicit(&l->dropped, memory_order_relaxed);
}

/* evlog_written - events written so far */
uint64_t evlog_written(evlog *l)
{
    return atomic_load_explicit(&l->written, memory_order_relaxed);
}
