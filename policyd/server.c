/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server.c - epoll event loop for policy and socketmap clients (see server.h)
 *
 * Data flow: a listener accepts; the connection's bytes go through
 * policy_frame/policy_parse or netstring_parse/smap_split; decide.c
 * decides; policy_reply_verdict or smap_reply append the answer to the
 * output buffer; one send() per batch of answers. The refresher runs in
 * its own thread and only writes LMDB, so nothing here ever waits on the
 * network.
 */
#include "policyd/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "policyd/netstring.h"
#include "policyd/pmetrics.h"
#include "policyd/smap.h"

#define SERVER_EVENTS     256
#define SERVER_IN_INITIAL 4096
#define SERVER_ACCEPTS    64    /* per wake-up and listener, so one listener cannot starve */
#define SERVER_WARN_MS    10000 /* at most one connection-limit warning per 10 s */
#define SERVER_PAUSE_MS   200   /* accept pause after EMFILE/ENFILE */

enum tag { TAG_LISTENER, TAG_CONN, TAG_SIGNAL };

typedef struct listener {
    enum tag tag; /* first: epoll's data.ptr points at it */
    enum server_kind kind;
    int fd;
    char name[128];
    char unix_path[108]; /* removed at shutdown if it is still our socket */
    dev_t dev;
    ino_t ino;
    long long paused_until; /* ms; 0 = accepting */
} listener;

typedef struct conn {
    enum tag tag;
    enum server_kind kind;
    int fd;
    struct conn *prev, *next; /* idle order: least recently active first */
    long long last;           /* ms of the last activity */
    char *in;
    size_t inlen, incap;
    policy_scan scan;
    buf out;
    size_t outoff;
    bool blocked; /* waiting for EPOLLOUT, not reading */
    char peer[64];
} conn;

struct server {
    int ep;
    enum tag sigtag;
    int sigfd;
    server_opts o;
    decide_ctx *d;
    server_signal_fn on_signal;
    void *arg;
    listener *ls[SERVER__KINDS];
    conn *head, *tail;
    long nconns;
    bool stopping, signalled;
    long long now, drain_deadline, last_limit_warn;
    unsigned long refused, served[SERVER__KINDS], accepted;
};

/* server_now_ms - monotonic milliseconds (coarse clock: cheap, ms-accurate enough) */
static long long server_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *kind_name(enum server_kind k)
{
    return k == SERVER_POLICY ? "policy" : "socketmap";
}

/* server_new - epoll set with the signalfd for SIGTERM, SIGINT, SIGHUP, SIGUSR1 */
server *server_new(const server_opts *o, decide_ctx *d, server_signal_fn fn, void *arg, char *err,
                   size_t errlen)
{
    server *s = calloc(1, sizeof(*s));
    sigset_t set;
    struct epoll_event ev = {.events = EPOLLIN};

    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->o = *o;
    s->d = d;
    s->on_signal = fn;
    s->arg = arg;
    s->sigtag = TAG_SIGNAL;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    ev.data.ptr = &s->sigtag;
    if (s->ep < 0 || s->sigfd < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, s->sigfd, &ev) < 0) {
        snprintf(err, errlen, "event loop set-up: %s", strerror(errno));
        server_free(s);
        return NULL;
    }
    s->now = server_now_ms();
    return s;
}

void server_set_opts(server *s, const server_opts *o)
{
    s->o = *o;
}

void server_set_decide(server *s, decide_ctx *d)
{
    s->d = d;
}

/* server_listen - serve kind on fd (already bound and listening); takes the fd */
bool server_listen(server *s, enum server_kind kind, int fd, const char *name,
                   const char *unix_path)
{
    listener *l = calloc(1, sizeof(*l));
    struct epoll_event ev = {.events = EPOLLIN};
    struct stat st;

    if (l == NULL)
        return false;
    l->tag = TAG_LISTENER;
    l->kind = kind;
    l->fd = fd;
    snprintf(l->name, sizeof(l->name), "%s", name);
    if (unix_path && stat(unix_path, &st) == 0) {
        snprintf(l->unix_path, sizeof(l->unix_path), "%s", unix_path);
        l->dev = st.st_dev;
        l->ino = st.st_ino;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    ev.data.ptr = l;
    if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        log_err("%s: epoll: %s", name, strerror(errno));
        free(l);
        return false;
    }
    server_unlisten(s, kind);
    s->ls[kind] = l;
    return true;
}

/* server_unlisten - stop accepting for kind; remove the unix socket if it is still ours */
void server_unlisten(server *s, enum server_kind kind)
{
    listener *l = s->ls[kind];
    struct stat st;

    if (l == NULL)
        return;
    epoll_ctl(s->ep, EPOLL_CTL_DEL, l->fd, NULL);
    close(l->fd);
    if (*l->unix_path && stat(l->unix_path, &st) == 0 && st.st_dev == l->dev &&
        st.st_ino == l->ino && unlink(l->unix_path) < 0)
        log_debug("remove %s: %s", l->unix_path, strerror(errno));
    free(l);
    s->ls[kind] = NULL;
}

/* idle list: O(1) touch keeps it ordered by last activity */
static void idle_unlink(server *s, conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        s->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        s->tail = c->prev;
    c->prev = c->next = NULL;
}

static void idle_append(server *s, conn *c)
{
    c->prev = s->tail;
    c->next = NULL;
    if (s->tail)
        s->tail->next = c;
    else
        s->head = c;
    s->tail = c;
}

static void conn_touch(server *s, conn *c)
{
    c->last = s->now;
    if (s->tail != c) {
        idle_unlink(s, c);
        idle_append(s, c);
    }
}

static void conn_close(server *s, conn *c)
{
    idle_unlink(s, c);
    epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    buf_free(&c->out);
    free(c);
    s->nconns--;
    pmetrics_conn(-1);
}

/* conn_peer - "192.0.2.1:4711" or "unix", for log lines */
static void conn_peer(conn *c, const struct sockaddr_storage *ss)
{
    char a[INET6_ADDRSTRLEN] = "?";

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)ss;
        inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
        snprintf(c->peer, sizeof(c->peer), "%s:%d", a, ntohs(in->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
        snprintf(c->peer, sizeof(c->peer), "[%s]:%d", a, ntohs(in6->sin6_port));
    } else {
        snprintf(c->peer, sizeof(c->peer), "unix");
    }
}

/* server_limit_warn - the connection limit was hit (logged at most every SERVER_WARN_MS) */
static void server_limit_warn(server *s, listener *l)
{
    s->refused++;
    if (s->now - s->last_limit_warn < SERVER_WARN_MS && s->last_limit_warn)
        return;
    s->last_limit_warn = s->now;
    log_warn("%s: %ld connections, the max_connections limit: closed %lu new connection(s); "
             "raise policyd.max_connections or check the clients",
             l->name, s->nconns, s->refused);
    s->refused = 0;
}

/* server_accept_one - a new connection, or a pause on descriptor exhaustion; false: stop */
static bool server_accept_one(server *s, listener *l)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    struct epoll_event ev = {.events = EPOLLIN};
    int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    conn *c;

    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            log_warn("%s: accept: %s; pausing for %d ms", l->name, strerror(errno),
                     SERVER_PAUSE_MS);
            ev.events = 0;
            ev.data.ptr = l;
            epoll_ctl(s->ep, EPOLL_CTL_MOD, l->fd, &ev);
            l->paused_until = s->now + SERVER_PAUSE_MS;
        }
        return false; /* EAGAIN, or a connection that died before we took it */
    }
    if (s->nconns >= s->o.max_connections || (c = calloc(1, sizeof(*c))) == NULL) {
        close(fd);
        server_limit_warn(s, l);
        return true;
    }
    c->tag = TAG_CONN;
    c->kind = l->kind;
    c->fd = fd;
    conn_peer(c, &ss);
    ev.data.ptr = c;
    if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        log_err("%s: epoll: %s", l->name, strerror(errno));
        close(fd);
        free(c);
        return true;
    }
    s->nconns++;
    pmetrics_conn(1);
    s->accepted++;
    c->last = s->now;
    idle_append(s, c);
    return true;
}

static void server_accept(server *s, listener *l)
{
    for (int i = 0; i < SERVER_ACCEPTS && !s->stopping; i++)
        if (!server_accept_one(s, l))
            break;
}

/* conn_events - read or write interest (one or the other: no reading while blocked) */
static void conn_events(server *s, conn *c, bool blocked)
{
    struct epoll_event ev = {.events = blocked ? EPOLLOUT : EPOLLIN, .data.ptr = c};

    if (c->blocked != blocked && epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->blocked = blocked;
}

/* conn_flush - send what is pending; false when the connection is gone */
static bool conn_flush(server *s, conn *c)
{
    while (c->outoff < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->outoff, c->out.len - c->outoff, MSG_NOSIGNAL);
        if (n > 0) {
            c->outoff += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            conn_events(s, c, true);
            return true;
        }
        log_debug("%s client %s: send: %s", kind_name(c->kind), c->peer,
                  n < 0 ? strerror(errno) : "nothing sent");
        return false;
    }
    c->outoff = 0;
    c->out.len = 0;
    if (c->out.data)
        c->out.data[0] = '\0';
    conn_events(s, c, false);
    return true;
}

/* conn_bad - log a malformed request; the caller closes without answering it */
static void conn_bad(conn *c, const char *why)
{
    log_warn("%s client %s: malformed request (%s); closing the connection without an answer",
             kind_name(c->kind), c->peer, why);
}

/* conn_policy_one - answer the request at in[off]; 0 = need more, -1 = bad, else bytes used */
static long conn_policy_one(server *s, conn *c, size_t off)
{
    policy_req req;
    verdict v;
    size_t reqlen = 0;
    const char *why = "?";
    int rc = policy_frame(c->in + off, c->inlen - off, &s->o.policy, &c->scan, &reqlen, &why);

    if (rc == POLICY_MORE)
        return 0;
    if (rc == POLICY_BAD || policy_parse(c->in + off, reqlen, &req, &why) != POLICY_DONE) {
        conn_bad(c, why);
        return -1;
    }
    pmetrics_policy(decide_policy(s->d, &req, &v));
    policy_reply_verdict(&c->out, &v);
    s->served[SERVER_POLICY]++;
    return (long)reqlen;
}

/* conn_smap_answer - the decision on one socketmap request, as a netstring */
static void conn_smap_answer(server *s, conn *c, const smap_req *q)
{
    smap_result r = SMAP_RESULT_INIT;
    size_t before = c->out.len;

    decide_smap(s->d, q, &r);
    pmetrics_smap(q->map, r.status);
    smap_reply(&c->out, r.status, buf_cstr(&r.value));
    if (log_enabled(LOG_DEBUG))
        log_debug("socketmap %s %s: %.*s", q->map, q->key, (int)(c->out.len - before),
                  c->out.data ? c->out.data + before : "");
    buf_free(&r.value);
}

/* conn_smap_one - answer the netstring at in[off]; same results as conn_policy_one */
static long conn_smap_one(server *s, conn *c, size_t off)
{
    const char *payload, *why = "?";
    size_t plen, total;
    smap_req q;
    int rc = netstring_parse(c->in + off, c->inlen - off, s->o.max_netstring, &payload, &plen,
                             &total, &why);

    if (rc == NETSTRING_MORE)
        return 0;
    if (rc == NETSTRING_BAD) {
        conn_bad(c, why);
        return -1;
    }
    if (!smap_split(payload, plen, &q, &why)) {
        /* the framing is intact: refuse this request, keep the connection */
        log_warn("socketmap client %s: bad request (%s)", c->peer, why);
        smap_reply(&c->out, SMAP_PERM, why);
        pmetrics_smap(NULL, SMAP_PERM);
    } else {
        conn_smap_answer(s, c, &q);
    }
    s->served[SERVER_SMAP]++;
    return (long)total;
}

/* conn_process - answer every complete request in the input buffer; false: close */
static bool conn_process(server *s, conn *c)
{
    size_t off = 0;
    long used;
    bool ok = true;

    while (off < c->inlen) {
        used = c->kind == SERVER_POLICY ? conn_policy_one(s, c, off) : conn_smap_one(s, c, off);
        if (used < 0) {
            ok = false;
            break;
        }
        if (used == 0)
            break;
        off += (size_t)used;
    }
    if (buf_failed(&c->out)) {
        log_err("%s client %s: out of memory for the answer", kind_name(c->kind), c->peer);
        return false;
    }
    if (off > 0) {
        memmove(c->in, c->in + off, c->inlen - off);
        c->inlen -= off;
    }
    /* answers to the requests before a malformed one still go out (best effort) */
    if (!conn_flush(s, c))
        return false;
    return ok;
}

/* conn_limit - largest input buffer for this kind of connection */
static size_t conn_limit(const server *s, const conn *c)
{
    return c->kind == SERVER_POLICY ? s->o.policy.max_request : s->o.max_netstring + 24;
}

/* conn_read - one read into the input buffer, then answers; false: close */
static bool conn_read(server *s, conn *c)
{
    size_t limit = conn_limit(s, c);
    ssize_t n;

    if (c->inlen == c->incap) {
        size_t cap = c->incap ? c->incap * 2 : SERVER_IN_INITIAL;
        char *p;
        if (c->incap >= limit) {
            conn_bad(c, "request too large");
            return false;
        }
        if (cap > limit)
            cap = limit;
        if ((p = realloc(c->in, cap)) == NULL) {
            log_err("%s client %s: out of memory", kind_name(c->kind), c->peer);
            return false;
        }
        c->in = p;
        c->incap = cap;
    }
    n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
    if (n == 0) {
        if (c->inlen)
            log_info("%s client %s: disconnected in the middle of a request", kind_name(c->kind),
                     c->peer);
        return false;
    }
    if (n < 0)
        return errno == EAGAIN || errno == EINTR;
    c->inlen += (size_t)n;
    conn_touch(s, c);
    return conn_process(s, c);
}

/* conn_event - readiness on a client connection */
static void conn_event(server *s, conn *c, uint32_t events)
{
    bool keep = true;

    if (events & EPOLLOUT) {
        keep = conn_flush(s, c);
        /* answers are out: there may be requests read before we blocked */
        if (keep && !c->blocked && c->inlen)
            keep = conn_process(s, c);
    } else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        keep = conn_read(s, c);
    }
    if (keep && s->stopping && c->inlen == 0 && c->out.len == 0)
        keep = false; /* draining: nothing half-done on this one */
    if (!keep)
        conn_close(s, c);
}

/* server_signals - hand every pending signal to the owner */
static void server_signals(server *s)
{
    struct signalfd_siginfo si;

    while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        if (s->on_signal)
            s->on_signal(s->arg, (int)si.ssi_signo);
}

/* server_timers - idle timeouts, resumed listeners, the drain deadline */
static void server_timers(server *s)
{
    long long idle_ms = s->o.idle_timeout * 1000LL;

    while (s->head && s->head->last + idle_ms <= s->now) {
        log_debug("%s client %s: idle for %lds, closing", kind_name(s->head->kind), s->head->peer,
                  s->o.idle_timeout);
        conn_close(s, s->head);
    }
    for (int k = 0; k < SERVER__KINDS; k++) {
        listener *l = s->ls[k];
        if (l && l->paused_until && l->paused_until <= s->now) {
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};
            epoll_ctl(s->ep, EPOLL_CTL_MOD, l->fd, &ev);
            l->paused_until = 0;
        }
    }
    if (s->stopping && s->now >= s->drain_deadline && s->head) {
        log_warn("shutdown: closing %ld connection(s) with unfinished requests", s->nconns);
        while (s->head)
            conn_close(s, s->head);
    }
}

/* server_dispatch - one epoll event */
static void server_dispatch(server *s, struct epoll_event *ev)
{
    enum tag *t = ev->data.ptr;

    if (*t == TAG_SIGNAL)
        s->signalled = true; /* handled after the batch: handlers may free connections */
    else if (*t == TAG_LISTENER)
        server_accept(s, (listener *)t);
    else
        conn_event(s, (conn *)t, ev->events);
}

/* server_run - serve until server_shutdown and the drain are done */
int server_run(server *s)
{
    struct epoll_event evs[SERVER_EVENTS];

    while (!s->stopping || s->head) {
        int n = epoll_wait(s->ep, evs, SERVER_EVENTS, 1000);
        if (n < 0 && errno != EINTR) {
            log_err("epoll_wait: %s", strerror(errno));
            return -1;
        }
        s->now = server_now_ms();
        if (s->d)
            s->d->now = (int64_t)time(NULL);
        s->signalled = false;
        for (int i = 0; i < n; i++)
            server_dispatch(s, &evs[i]);
        if (s->signalled)
            server_signals(s);
        server_timers(s);
    }
    log_info("served %lu policy request(s) and %lu socketmap lookup(s) on %lu connection(s)",
             s->served[SERVER_POLICY], s->served[SERVER_SMAP], s->accepted);
    return 0;
}

/* server_shutdown - stop accepting, close idle connections, drain the rest */
void server_shutdown(server *s)
{
    conn *c, *next;

    if (s->stopping)
        return;
    s->stopping = true;
    s->drain_deadline = s->now + SERVER_DRAIN_MS;
    for (int k = 0; k < SERVER__KINDS; k++)
        server_unlisten(s, k);
    for (c = s->head; c; c = next) {
        next = c->next;
        if (c->inlen == 0 && c->out.len == 0)
            conn_close(s, c);
    }
}

void server_free(server *s)
{
    if (s == NULL)
        return;
    while (s->head)
        conn_close(s, s->head);
    for (int k = 0; k < SERVER__KINDS; k++)
        server_unlisten(s, k);
    if (s->sigfd >= 0)
        close(s->sigfd);
    if (s->ep >= 0)
        close(s->ep);
    free(s);
}
