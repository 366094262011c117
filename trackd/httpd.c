/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * httpd.c - libmicrohttpd glue of sendgate-trackd (see httpd.h)
 *
 * The only file that knows about libmicrohttpd: request callbacks collect
 * the method, path, a few headers, the client address and (for POST) a
 * bounded body, call trackreq_handle, and turn its answer into an MHD
 * response. The pixel and the 404 page are prebuilt shared responses, so
 * the common cases allocate nothing per request besides the redirect.
 */
#include "trackd/httpd.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "trackd/clientip.h"
#include "trackd/connguard.h"
#include "trackd/htmlpage.h"

#define HTTPD_SWEEP_MS   250 /* how often deadlines are checked */
#define HTTPD_REPORT_SEC 60  /* at most one warning a minute about connections closed */
#define HTTPD_SPARE_FDS  64  /* descriptors besides connections: files, LMDB, epoll, ... */
#define HTTPD_LOG_BURST  20  /* libmicrohttpd messages logged per window */
#define HTTPD_LOG_WINDOW 10  /* seconds */

/* one configuration generation, shared by the requests that started under it */
struct httpd_gen {
    trackreq_state st;
    _Atomic int refs;
};

struct httpd {
    struct MHD_Daemon *d;
    trackreq_env *env;
    size_t max_request;
    int listen_fd;
    pthread_mutex_t gen_mu;
    struct httpd_gen *gen;
    struct MHD_Response *gif, *notfound;
    connguard *guard;
    pthread_t sweeper;
    bool sweeping;
    pthread_mutex_t sweep_mu;
    pthread_cond_t sweep_cv; /* on CLOCK_MONOTONIC */
    bool stopping;
};

/* per-request state, only for requests with a body */
struct httpd_req {
    buf body;
    bool too_big;
};

/* marks a request without a body: nothing to allocate */
static struct httpd_req httpd_nobody;

static const char httpd_nocache[] = "no-store, no-cache, must-revalidate, max-age=0";
static const char httpd_csp[] = "default-src 'none'; style-src 'unsafe-inline'; "
                                "form-action 'self'; frame-ancestors 'none'";

/* httpd_gen_get - the current generation, with a reference */
static struct httpd_gen *httpd_gen_get(httpd *h)
{
    struct httpd_gen *g;

    pthread_mutex_lock(&h->gen_mu);
    g = h->gen;
    atomic_fetch_add(&g->refs, 1);
    pthread_mutex_unlock(&h->gen_mu);
    return g;
}

/* httpd_gen_put - drop a reference; the last one frees the generation */
static void httpd_gen_put(struct httpd_gen *g)
{
    if (g && atomic_fetch_sub(&g->refs, 1) == 1) {
        trackreq_state_free(&g->st);
        free(g);
    }
}

/* httpd_now_ms - monotonic milliseconds, the clock of connection deadlines */
static int64_t httpd_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* httpd_conn - the connguard record of a connection (NULL when it has none) */
static connguard_conn *httpd_conn(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

/* httpd_method - a method name as enum tmetrics_method */
static int httpd_method(const char *m)
{
    if (strcmp(m, "GET") == 0)
        return TM_GET;
    if (strcmp(m, "HEAD") == 0)
        return TM_HEAD;
    if (strcmp(m, "POST") == 0)
        return TM_POST;
    if (strcmp(m, "OPTIONS") == 0)
        return TM_OPTIONS;
    return TM_OTHER_METHOD;
}

struct httpd_xff {
    char v[CLIENTIP_XFF_MAX + 1];
    size_t n;
    bool any, too_long;
};

/* httpd_collect_xff - join every X-Forwarded-For header, in order, with commas */
static enum MHD_Result httpd_collect_xff(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *value)
{
    struct httpd_xff *x = cls;
    int w;

    (void)kind;
    if (strcasecmp(key, "X-Forwarded-For") != 0)
        return MHD_YES;
    w = snprintf(x->v + x->n, sizeof(x->v) - x->n, "%s%s", x->any ? "," : "", value ? value : "");
    x->any = true;
    if (w < 0 || (size_t)w >= sizeof(x->v) - x->n) {
        x->too_long = true; /* refused by clientip_resolve, never cut short */
        return MHD_NO;
    }
    x->n += (size_t)w;
    return MHD_YES;
}

/*
 * httpd_client - the client address: the peer, or behind trusted proxies the
 * forwarded one; false (answer 400) when a trusted proxy's header cannot be read
 */
static bool httpd_client(struct MHD_Connection *c, const trackreq_state *st, netlist_addr *out)
{
    const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    netlist_addr peer;
    struct httpd_xff x = {.n = 0, .any = false, .too_long = false};
    char text[NETLIST_ADDR_TEXT_MAX];

    x.v[0] = '\0';
    netlist_addr_from_sockaddr(ci ? ci->client_addr : NULL, &peer);
    if (st->trusted.n && netlist_match_addr(&st->trusted, &peer))
        MHD_get_connection_values(c, MHD_HEADER_KIND, httpd_collect_xff, &x);
    if (!x.too_long && clientip_resolve(&peer, x.any ? x.v : NULL, &st->trusted, out))
        return true;
    netlist_addr_format(&peer, text);
    log_debug("proxy %s: X-Forwarded-For %s; request refused", text,
              x.too_long ? "longer than 1024 bytes" : "not a list of addresses");
    return false;
}

/* httpd_headers - the headers every trackd answer of this kind carries */
static void httpd_headers(struct MHD_Response *r, const trackresp *rs)
{
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (rs->token_url) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, httpd_nocache);
        MHD_add_response_header(r, "Pragma", "no-cache");
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
        MHD_add_response_header(r, "X-Robots-Tag", "noindex, nofollow");
    }
    if (rs->page_guard) {
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
        MHD_add_response_header(r, "Content-Security-Policy", httpd_csp);
    }
    if (rs->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rs->allow);
}

/* httpd_response - an MHD response for rs; *shared says not to destroy it */
static struct MHD_Response *httpd_response(httpd *h, trackresp *rs, bool *shared)
{
    struct MHD_Response *r;
    size_t len = rs->body.len;

    *shared = true;
    if (rs->body_kind == TRACKRESP_GIF)
        return h->gif;
    if (rs->status == 404 && rs->token_url)
        return h->notfound;
    *shared = false;
    if (rs->body_kind == TRACKRESP_EMPTY)
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    else
        r = MHD_create_response_from_buffer(len, buf_steal(&rs->body, &len), MHD_RESPMEM_MUST_FREE);
    if (r == NULL)
        return NULL;
    httpd_headers(r, rs);
    if (rs->status == 302)
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, buf_cstr(&rs->location));
    if (rs->body_kind == TRACKRESP_HTML)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    else if (rs->body_kind == TRACKRESP_TEXT)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                rs->endpoint == TM_METRICS ? "text/plain; version=0.0.4; "
                                                             "charset=utf-8"
                                                           : "text/plain; charset=utf-8");
    return r;
}

/* httpd_refuse - a 4xx page for a request over the limits or with a bad
   X-Forwarded-For; the connection is closed */
static enum MHD_Result httpd_refuse(httpd *h, struct MHD_Connection *c, int status)
{
    buf page = BUF_INIT;
    size_t len;
    struct MHD_Response *r;
    enum MHD_Result ret;

    htmlpage_status(&page, status,
                    status == 400   ? "Bad Request"
                    : status == 413 ? "Content Too Large"
                    : status == 414 ? "URI Too Long"
                                    : "Request Header Fields Too Large");
    len = page.len;
    r = MHD_create_response_from_buffer(len, buf_steal(&page, &len), MHD_RESPMEM_MUST_FREE);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    connguard_busy(h->guard, httpd_conn(c));
    ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    tmetrics_status(h->env->metrics, status);
    return ret;
}

/* httpd_answer - handle a complete request and queue the answer */
static enum MHD_Result httpd_answer(httpd *h, struct MHD_Connection *c, const char *url, int method,
                                    const struct httpd_req *req)
{
    struct httpd_gen *g = httpd_gen_get(h);
    struct MHD_Response *r;
    struct timespec now;
    trackreq rq;
    trackresp rs;
    enum MHD_Result ret;
    bool shared;

    connguard_busy(h->guard, httpd_conn(c)); /* no longer one to make room */
    memset(&rq, 0, sizeof(rq));
    clock_gettime(CLOCK_REALTIME, &now);
    rq.method = method;
    rq.path = url;
    rq.ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
    rq.ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    rq.now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (req) {
        rq.body = req->body.data;
        rq.body_len = req->body.len;
    }
    if (!httpd_client(c, &g->st, &rq.client)) {
        httpd_gen_put(g);
        return httpd_refuse(h, c, 400);
    }
    trackresp_init(&rs);
    trackreq_handle(&g->st, h->env, &rq, &rs);
    httpd_gen_put(g);
    r = httpd_response(h, &rs, &shared);
    ret = r ? MHD_queue_response(c, (unsigned)rs.status, r) : MHD_NO;
    if (r && !shared)
        MHD_destroy_response(r);
    trackresp_free(&rs);
    return ret;
}

/* httpd_count - add up the bytes of the request line and headers */
static enum MHD_Result httpd_count(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    size_t *n = cls;

    (void)kind;
    *n += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF, or "&" and "=" */
    return MHD_YES;
}

/* httpd_oversized - 414 or 431 when the request line or headers exceed max_request */
static int httpd_oversized(httpd *h, struct MHD_Connection *c, const char *url)
{
    size_t n = strlen(url);

    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, httpd_count, &n);
    if (n > h->max_request)
        return 414;
    MHD_get_connection_values(c, MHD_HEADER_KIND, httpd_count, &n);
    return n > h->max_request ? 431 : 0;
}

/* httpd_access - libmicrohttpd's request callback (called again for each body chunk) */
static enum MHD_Result httpd_access(void *cls, struct MHD_Connection *c, const char *url,
                                    const char *method, const char *version, const char *upload,
                                    size_t *upload_size, void **con_cls)
{
    httpd *h = cls;
    struct httpd_req *req = *con_cls;
    int m = httpd_method(method);

    (void)version;
    if (req == NULL) {
        const char *cl;
        int over = httpd_oversized(h, c, url);
        if (over)
            return httpd_refuse(h, c, over);
        /*
         * Never answer in the first call: libmicrohttpd 0.9.75 closes the connection
         * after a response queued before the request was complete, which would cost
         * every click a new TCP (and TLS) handshake.
         */
        if (m != TM_POST) {
            *con_cls = &httpd_nobody;
            return MHD_YES;
        }
        cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > h->max_request)
            return httpd_refuse(h, c, 413);
        if ((req = calloc(1, sizeof(*req))) == NULL)
            return MHD_NO;
        buf_init(&req->body);
        buf_set_limit(&req->body, h->max_request);
        *con_cls = req;
        return MHD_YES;
    }
    if (req == &httpd_nobody) {
        *upload_size = 0; /* a body where none belongs: ignored */
        return httpd_answer(h, c, url, m, NULL);
    }
    if (*upload_size) {
        /* past the limit the rest is read and dropped: a client still sending
           would not read an early answer */
        if (!req->too_big && !buf_append(&req->body, upload, *upload_size))
            req->too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    if (req->too_big)
        return httpd_refuse(h, c, 413);
    return httpd_answer(h, c, url, m, req);
}

/* httpd_completed - free the per-request state; an answered connection waits for the next */
static void httpd_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                            enum MHD_RequestTerminationCode toe)
{
    httpd *h = cls;
    struct httpd_req *req = *con_cls;

    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        connguard_idle(h->guard, httpd_conn(c), httpd_now_ms());
    if (req && req != &httpd_nobody) {
        buf_free(&req->body);
        free(req);
        *con_cls = NULL;
    }
}

/*
 * httpd_notify - a connection accepted or closed: connguard keeps its slot.
 * CLOSED comes before libmicrohttpd closes the socket, which is what lets
 * connguard shut sockets down from other threads (connguard.h).
 */
static void httpd_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                         enum MHD_ConnectionNotificationCode code)
{
    httpd *h = cls;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        struct httpd_gen *g = httpd_gen_get(h);
        netlist_addr peer;
        bool exempt;

        netlist_addr_from_sockaddr(ci ? ci->client_addr : NULL, &peer);
        exempt = netlist_match_addr(&g->st.trusted, &peer);
        httpd_gen_put(g);
        *socket_context =
                fd ? connguard_open(h->guard, fd->connect_fd, &peer, exempt, httpd_now_ms()) : NULL;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        connguard_close(h->guard, *socket_context);
        *socket_context = NULL;
    }
}

/* httpd_report - a warning when connections were closed to make room since the last one */
static void httpd_report(httpd *h, uint64_t last[TM__DROP])
{
    tmetrics *m = h->env->metrics;
    uint64_t now[TM__DROP];

    for (int i = 0; i < TM__DROP; i++)
        now[i] = atomic_load_explicit(&m->conn_dropped[i], memory_order_relaxed);
    if (now[TM_DROP_FULL] != last[TM_DROP_FULL] || now[TM_DROP_PER_ADDR] != last[TM_DROP_PER_ADDR])
        log_warn("connection flood? in the last %d s %llu connection(s) closed to make room at "
                 "max_connections, %llu at max_connections_per_ip, %llu past request_timeout",
                 HTTPD_REPORT_SEC, (unsigned long long)(now[TM_DROP_FULL] - last[TM_DROP_FULL]),
                 (unsigned long long)(now[TM_DROP_PER_ADDR] - last[TM_DROP_PER_ADDR]),
                 (unsigned long long)(now[TM_DROP_DEADLINE] - last[TM_DROP_DEADLINE]));
    memcpy(last, now, sizeof(now));
}

/* httpd_sweeper - the thread that closes connections past their deadline */
static void *httpd_sweeper(void *arg)
{
    httpd *h = arg;
    uint64_t last[TM__DROP] = {0};
    int64_t report = httpd_now_ms() + HTTPD_REPORT_SEC * 1000;
    struct timespec until;

    pthread_mutex_lock(&h->sweep_mu);
    while (!h->stopping) {
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += HTTPD_SWEEP_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&h->sweep_cv, &h->sweep_mu, &until);
        connguard_sweep(h->guard, httpd_now_ms());
        if (httpd_now_ms() >= report) {
            httpd_report(h, last);
            report += HTTPD_REPORT_SEC * 1000;
        }
    }
    pthread_mutex_unlock(&h->sweep_mu);
    return NULL;
}

/* httpd_sweeper_init - the sweeper's lock and its monotonic condition variable */
static void httpd_sweeper_init(httpd *h)
{
    pthread_condattr_t ca;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->sweep_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&h->sweep_mu, NULL);
}

/* httpd_sweeper_stop - end the thread (after the server stopped) */
static void httpd_sweeper_stop(httpd *h)
{
    if (!h->sweeping)
        return;
    pthread_mutex_lock(&h->sweep_mu);
    h->stopping = true;
    pthread_cond_signal(&h->sweep_cv);
    pthread_mutex_unlock(&h->sweep_mu);
    pthread_join(h->sweeper, NULL);
    h->sweeping = false;
}

/*
 * httpd_log - libmicrohttpd's own complaints, into our log. A flood makes one
 * per connection (a failed TLS handshake, say), so at most HTTPD_LOG_BURST
 * lines go out every HTTPD_LOG_WINDOW seconds and the rest are counted.
 */
static void httpd_log(void *cls, const char *fmt, va_list ap)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static int64_t window;
    static unsigned long lines, dropped;
    unsigned long was_dropped = 0;
    int64_t now = httpd_now_ms() / 1000 / HTTPD_LOG_WINDOW;
    char line[512];
    size_t n;
    bool show;

    (void)cls;
    pthread_mutex_lock(&mu);
    if (now != window) {
        was_dropped = dropped;
        window = now;
        lines = dropped = 0;
    }
    show = lines < HTTPD_LOG_BURST;
    if (show)
        lines++;
    else
        dropped++;
    pthread_mutex_unlock(&mu);
    if (was_dropped)
        log_info("http: %lu more messages of libmicrohttpd not logged", was_dropped);
    if (!show)
        return;
    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = '\0';
    log_info("http: %s", line);
}

/* httpd_shared - the prebuilt pixel and 404 responses */
static bool httpd_shared(httpd *h)
{
    trackresp rs;
    static buf page = BUF_INIT; /* built once, kept for the process's lifetime */

    trackresp_init(&rs);
    rs.token_url = true;
    h->gif = MHD_create_response_from_buffer(TRACKREQ_GIF_LEN, (void *)trackreq_gif,
                                             MHD_RESPMEM_PERSISTENT);
    if (page.len == 0)
        htmlpage_notfound(&page);
    h->notfound = MHD_create_response_from_buffer(page.len, page.data, MHD_RESPMEM_PERSISTENT);
    if (h->gif == NULL || h->notfound == NULL)
        return false;
    httpd_headers(h->gif, &rs);
    MHD_add_response_header(h->gif, MHD_HTTP_HEADER_CONTENT_TYPE, "image/gif");
    MHD_add_response_header(h->gif, MHD_HTTP_HEADER_EXPIRES, "0");
    httpd_headers(h->notfound, &rs);
    MHD_add_response_header(h->notfound, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    return true;
}

/* httpd_mhd_limit - libmicrohttpd's limit: room for sockets shut but not yet closed */
static unsigned httpd_mhd_limit(unsigned max_connections)
{
    return max_connections + max_connections / 4 + 64;
}

/* httpd_fds_needed - file descriptors the server may use with max_connections */
unsigned httpd_fds_needed(unsigned max_connections, unsigned threads)
{
    return httpd_mhd_limit(max_connections) + HTTPD_SPARE_FDS + 4 * threads;
}

/* httpd_max_for_fds - the largest max_connections that fits in fds descriptors (0: none) */
unsigned httpd_max_for_fds(unsigned long fds, unsigned threads)
{
    unsigned long spare = 64 + HTTPD_SPARE_FDS + 4UL * threads;

    return fds > spare ? (unsigned)((fds - spare) * 4 / 5) : 0;
}

/* httpd_free - release what httpd_start built */
static void httpd_free(httpd *h)
{
    httpd_sweeper_stop(h);
    pthread_mutex_destroy(&h->sweep_mu);
    pthread_cond_destroy(&h->sweep_cv);
    connguard_free(h->guard);
    if (h->gif)
        MHD_destroy_response(h->gif);
    if (h->notfound)
        MHD_destroy_response(h->notfound);
    httpd_gen_put(h->gen);
    pthread_mutex_destroy(&h->gen_mu);
    free(h);
}

/* httpd_start - serve on o->listen_fd; takes over *st (and clears it) */
httpd *httpd_start(const httpd_opts *o, trackreq_env *env, trackreq_state *st, char *err,
                   size_t errlen)
{
    httpd *h = calloc(1, sizeof(*h));
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    unsigned threads = o->threads ? o->threads : 1;
    connguard_opts go = {o->max_connections, o->max_per_ip, (int64_t)o->request_timeout * 1000,
                         env->metrics};

    if (h == NULL || (h->gen = calloc(1, sizeof(*h->gen))) == NULL) {
        free(h);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&h->gen_mu, NULL);
    httpd_sweeper_init(h);
    h->gen->st = *st;
    h->gen->refs = 1;
    memset(st, 0, sizeof(*st));
    h->env = env;
    h->max_request = o->max_request;
    h->listen_fd = o->listen_fd;
    if (!httpd_shared(h) || (h->guard = connguard_new(&go)) == NULL) {
        snprintf(err, errlen, "out of memory for the shared responses or the connection table");
        httpd_free(h);
        return NULL;
    }
    h->sweeping = pthread_create(&h->sweeper, NULL, httpd_sweeper, h) == 0;
    if (!h->sweeping) {
        snprintf(err, errlen, "cannot start the connection sweeper thread");
        httpd_free(h);
        return NULL;
    }
    if (o->tls_cert_pem)
        flags |= MHD_USE_TLS;
    h->d = MHD_start_daemon(
            flags, 0, NULL, NULL, httpd_access, h, MHD_OPTION_EXTERNAL_LOGGER, httpd_log, h,
            MHD_OPTION_LISTEN_SOCKET, o->listen_fd, MHD_OPTION_THREAD_POOL_SIZE, threads,
            MHD_OPTION_CONNECTION_LIMIT, httpd_mhd_limit(o->max_connections),
            MHD_OPTION_CONNECTION_TIMEOUT, o->timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
            (size_t)(o->max_request * 2 + 8192), MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
            MHD_OPTION_NOTIFY_COMPLETED, httpd_completed, h, MHD_OPTION_NOTIFY_CONNECTION,
            httpd_notify, h, o->tls_cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
            o->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY, o->tls_key_pem, MHD_OPTION_END);
    if (h->d == NULL) {
        snprintf(err, errlen, "libmicrohttpd refused to start%s",
                 o->tls_cert_pem ? " (check the TLS certificate and key)" : "");
        httpd_free(h);
        return NULL;
    }
    return h;
}

/* httpd_swap_state - serve new requests under st (taken over); old ones finish as they were */
void httpd_swap_state(httpd *h, trackreq_state *st)
{
    struct httpd_gen *g = calloc(1, sizeof(*g)), *old;

    if (g == NULL) {
        log_err("reload: out of memory; keeping the old configuration");
        trackreq_state_free(st);
        return;
    }
    g->st = *st;
    g->refs = 1;
    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&h->gen_mu);
    old = h->gen;
    h->gen = g;
    pthread_mutex_unlock(&h->gen_mu);
    httpd_gen_put(old);
}

/* httpd_stop - stop accepting, give open connections up to grace_secs, stop */
void httpd_stop(httpd *h, int grace_secs)
{
    MHD_socket fd;

    if (h == NULL)
        return;
    fd = MHD_quiesce_daemon(h->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    for (int i = 0; i < grace_secs * 10; i++) {
        const union MHD_DaemonInfo *di =
                MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (di == NULL || di->num_connections == 0)
            break;
        usleep(100000);
    }
    MHD_stop_daemon(h->d);
    httpd_free(h);
}
