/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policyload.c - a load client for Postfix SMTP access policy servers (bench/policy)
 *
 * SYNOPSIS
 *	policyload [-c CONNS] [-t SECONDS] [-w WARMUP] [-r RATE] [-m unique|fixed]
 *	           [-D domain,domain...] (inet:HOST:PORT | unix:/PATH | -S)
 *
 * DESCRIPTION
 *	Keeps CONNS persistent connections, each with one request outstanding,
 *	as Postfix's smtpd processes do; every request carries the 30
 *	attributes Postfix 3.7 sends at RCPT TO. One thread, epoll.
 *
 *	Closed loop (default): each answer immediately triggers the next
 *	request on that connection; the figure is the server's throughput and
 *	the latency includes queueing (at CONNS outstanding requests, the mean
 *	latency is CONNS / throughput by Little's law).
 *	Open loop (-r RATE): requests are scheduled at RATE per second in
 *	total, round-robin over the connections. A request sent on time is
 *	timed from its send; one whose connection is still busy with the
 *	previous answer waits, and is timed from when it was due, so a slow
 *	server cannot hide its queue (no coordinated omission).
 *
 *	-m unique (default) varies client, sender and recipient in every
 *	request; senders' domains cycle through -D (default shop.example).
 *	-m fixed sends the same request every time.
 *	-w WARMUP requests (default 1000) are sent before the clock starts.
 *	-S starts a built-in null responder (a child process answering
 *	action=DUNNO to every request it frames, on loopback TCP) and
 *	measures against it: the ceiling of this client on this machine. It
 *	is a process of its own, as every server is: as a thread of the
 *	client it shared its address space and was scheduled beside it, and
 *	its open-loop p99 at 500 connections came out at 0.7 ms where the
 *	same code in its own process had 1.8 ms (same hour, 5 runs each).
 *
 *	Output, one line: conns, requests, seconds, rps, p50/p99/p99.9/max
 *	latency in milliseconds, answers that were not action=..., errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAX   2048
#define IN_MAX    8192
#define QUEUE_MAX 64

typedef struct conn {
    int fd;
    char req[REQ_MAX];
    size_t reqlen, sent;
    char in[IN_MAX];
    size_t inlen;
    bool busy;
    uint64_t t_due;            /* when the outstanding request was due (ns) */
    uint64_t queue[QUEUE_MAX]; /* open loop: due times waiting for this connection */
    unsigned qhead, qlen;
} conn;

static struct {
    int conns;
    double seconds;
    long warmup;
    double rate;
    bool unique, selftest;
    char *domains[64];
    int ndomains;
    const char *target;
} opt = {10, 5.0, 1000, 0, true, false, {NULL}, 0, NULL};

static uint64_t *lat;
static size_t nlat, caplat;
static unsigned long seq, answered, bad, errors;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "policyload: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* build_request - a Postfix 3.7 RCPT TO request (30 attributes) */
static void build_request(conn *c)
{
    unsigned long n = opt.unique ? seq : 0;
    const char *dom = opt.domains[n % (unsigned long)opt.ndomains];

    seq++;
    c->reqlen = (size_t)snprintf(
            c->req, sizeof(c->req),
            "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
            "client_address=10.%lu.%lu.%lu\nclient_name=host%lu.client.example\n"
            "client_port=%lu\nreverse_client_name=host%lu.client.example\n"
            "server_address=192.0.2.1\nserver_port=25\nhelo_name=host%lu.client.example\n"
            "sender=user%lu@%s\nrecipient=rcpt%lu@example.org\nrecipient_count=0\n"
            "queue_id=\ninstance=%lx.6560f0c1.%lx.0\nsize=0\netrn_domain=\nstress=\n"
            "sasl_method=\nsasl_username=\nsasl_sender=\nccert_subject=\nccert_issuer=\n"
            "ccert_fingerprint=\nccert_pubkey_fingerprint=\nencryption_protocol=TLSv1.3\n"
            "encryption_cipher=TLS_AES_256_GCM_SHA384\nencryption_keysize=256\n"
            "policy_context=\ncompatibility_level=3.6\n\n",
            (n >> 16) & 255, (n >> 8) & 255, n & 255, n, 1024 + n % 60000, n, n, n, dom, n, n, n);
    c->sent = 0;
}

static void record(uint64_t ns)
{
    if (nlat == caplat) {
        caplat = caplat ? caplat * 2 : 1 << 20;
        if ((lat = realloc(lat, caplat * sizeof(*lat))) == NULL)
            die("memory");
    }
    lat[nlat++] = ns;
}

/* conn_send - write the rest of the current request; false on error */
static bool conn_send(conn *c)
{
    while (c->sent < c->reqlen) {
        ssize_t n = send(c->fd, c->req + c->sent, c->reqlen - c->sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN)
            return true; /* the loop retries on the next answer wait; requests are small */
        if (n <= 0)
            return false;
        c->sent += (size_t)n;
    }
    return true;
}

static void conn_start(conn *c, uint64_t due)
{
    build_request(c);
    c->busy = true;
    c->t_due = due;
    if (!conn_send(c))
        errors++;
}

static int connect_target(const char *target)
{
    int fd, one = 1;

    if (strncmp(target, "unix:", 5) == 0) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", target + 5);
        if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
            connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
            die(target);
    } else {
        char host[256];
        const char *t = strncmp(target, "inet:", 5) == 0 ? target + 5 : target;
        const char *colon = strrchr(t, ':');
        struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
        if (colon == NULL)
            die("target must be inet:host:port or unix:/path");
        snprintf(host, sizeof(host), "%.*s", (int)(colon - t), t);
        if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
            die("resolve");
        if ((fd = socket(res->ai_family, SOCK_STREAM, 0)) < 0 ||
            connect(fd, res->ai_addr, res->ai_addrlen) < 0)
            die(target);
        freeaddrinfo(res);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* answer - a complete answer arrived on c: record it, start the next request */
static void answer(conn *c, bool measuring, uint64_t t)
{
    if (strncmp(c->in, "action=", 7) != 0)
        bad++;
    answered++;
    if (measuring)
        record(t - c->t_due);
    c->busy = false;
    c->inlen = 0;
    if (opt.rate <= 0) {
        conn_start(c, t);
    } else if (c->qlen) {
        uint64_t due = c->queue[c->qhead];
        c->qhead = (c->qhead + 1) % QUEUE_MAX;
        c->qlen--;
        conn_start(c, due);
    }
}

/* conn_read - read answers; false when the server closed the connection */
static bool conn_read(conn *c, bool measuring)
{
    ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen - 1, 0);
    char *end;

    if (n == 0 || (n < 0 && errno != EAGAIN))
        return false;
    if (n < 0)
        return true;
    c->inlen += (size_t)n;
    c->in[c->inlen] = '\0';
    if ((end = memmem(c->in, c->inlen, "\n\n", 2)) != NULL) {
        if ((size_t)(end + 2 - c->in) != c->inlen)
            bad++; /* more than one answer to one request */
        answer(c, measuring, now_ns());
    }
    if (c->busy && c->sent < c->reqlen && !conn_send(c))
        errors++;
    return true;
}

/* schedule - open loop: hand due requests to their connections */
static void schedule(conn *cs, uint64_t t0, unsigned long *k, uint64_t t)
{
    uint64_t period = (uint64_t)(1e9 / opt.rate);

    while (t0 + *k * period <= t) {
        conn *c = &cs[*k % (unsigned long)opt.conns];
        uint64_t due = t0 + *k * period;
        (*k)++;
        if (!c->busy)
            conn_start(c, t); /* on time: the clock runs from the send (this client's own
                                 lateness is not the server's) */
        else if (c->qlen < QUEUE_MAX)
            c->queue[(c->qhead + c->qlen++) % QUEUE_MAX] = due;
        else
            errors++; /* the server is hopelessly behind: dropped */
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static double pct(double p)
{
    size_t i = (size_t)(p * (double)(nlat - 1));

    return nlat ? (double)lat[i] / 1e6 : 0;
}

/* report - the one output line */
static void report(uint64_t ns, unsigned long done)
{
    double secs = (double)ns / 1e9;

    qsort(lat, nlat, sizeof(*lat), cmp_u64);
    printf("conns=%d requests=%lu seconds=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f "
           "max_ms=%.3f bad=%lu errors=%lu\n",
           opt.conns, done, secs, (double)done / secs, pct(0.50), pct(0.99), pct(0.999),
           nlat ? (double)lat[nlat - 1] / 1e6 : 0, bad, errors);
}

static void run(void)
{
    conn *cs = calloc((size_t)opt.conns, sizeof(*cs));
    int ep = epoll_create1(0);
    struct epoll_event ev, evs[512];
    uint64_t t0 = 0, tstart = 0, tend = 0;
    unsigned long k = 0, answered_at_start = 0;
    bool measuring = false;

    if (cs == NULL || ep < 0)
        die("setup");
    for (int i = 0; i < opt.conns; i++) {
        cs[i].fd = connect_target(opt.target);
        ev.events = EPOLLIN;
        ev.data.ptr = &cs[i];
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    }
    t0 = now_ns();
    if (opt.rate <= 0)
        for (int i = 0; i < opt.conns; i++)
            conn_start(&cs[i], t0);
    for (;;) {
        uint64_t t = now_ns();
        struct timespec timeout = {0, 100000000};
        int n;
        if (opt.rate > 0) {
            schedule(cs, t0, &k, t);
            uint64_t next = t0 + k * (uint64_t)(1e9 / opt.rate), wait = next > t ? next - t : 0;
            timeout.tv_sec = (time_t)(wait / 1000000000);
            timeout.tv_nsec = (long)(wait % 1000000000);
        }
        if (!measuring && answered >= (unsigned long)opt.warmup) {
            measuring = true;
            tstart = t;
            answered_at_start = answered;
        }
        if (measuring && t - tstart >= (uint64_t)(opt.seconds * 1e9)) {
            tend = t;
            break;
        }
        n = epoll_pwait2(ep, evs, 512, &timeout, NULL); /* ns timeouts for the schedule */
        for (int i = 0; i < n; i++)
            if (!conn_read(evs[i].data.ptr, measuring)) {
                fprintf(stderr, "policyload: the server closed a connection\n");
                exit(1);
            }
    }
    report(tend - tstart, answered - answered_at_start);
    for (int i = 0; i < opt.conns; i++)
        close(cs[i].fd);
    free(cs);
    close(ep);
}

/* ---- the null responder (-S): what a server that does nothing costs ---- */

typedef struct nconn {
    int fd;
    char last; /* last byte seen, for a "\n\n" split across reads */
} nconn;

static pid_t null_pid; /* the -S responder's process, killed when the run is over */

static void null_server(int lfd)
{
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, evs[512];
    static const char dunno[] = "action=DUNNO\n\n";
    char buf[65536], out[64 * (sizeof(dunno) - 1)];

    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (;;) {
        int n = epoll_wait(ep, evs, 512, -1);
        for (int i = 0; i < n; i++) {
            nconn *c = evs[i].data.ptr;
            if (c == NULL) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                if (fd < 0 || (c = calloc(1, sizeof(*c))) == NULL)
                    continue;
                c->fd = fd;
                ev.data.ptr = c;
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                continue;
            }
            ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
            size_t answers = 0, o = 0;
            if (r <= 0) {
                if (r == 0 || errno != EAGAIN) {
                    close(c->fd);
                    free(c);
                }
                continue;
            }
            for (ssize_t j = 0; j < r; j++) { /* frame requests: count blank lines */
                if (buf[j] == '\n' && c->last == '\n')
                    answers++;
                c->last = buf[j] == '\n' && c->last == '\n' ? 0 : buf[j];
            }
            while (answers-- && o + sizeof(dunno) - 1 <= sizeof(out)) {
                memcpy(out + o, dunno, sizeof(dunno) - 1);
                o += sizeof(dunno) - 1;
            }
            if (o && send(c->fd, out, o, MSG_NOSIGNAL) < 0)
                continue;
        }
    }
}

/* start_null_server - listen on loopback, serve in a child; returns "inet:127.0.0.1:PORT" */
static const char *start_null_server(void)
{
    static char target[64];
    int lfd;
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sin);
    int one = 1;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0 ||
        setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
        bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 4096) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sin, &sl) < 0)
        die("null responder");
    if ((null_pid = fork()) < 0)
        die("fork");
    if (null_pid == 0) { /* the responder: dies with the client, however the client ends */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() == 1)
            _exit(1);
        null_server(lfd);
        _exit(0);
    }
    close(lfd);
    snprintf(target, sizeof(target), "inet:127.0.0.1:%d", ntohs(sin.sin_port));
    return target;
}

static void usage(void)
{
    fprintf(stderr, "usage: policyload [-c conns] [-t seconds] [-w warmup] [-r rate] "
                    "[-m unique|fixed] [-D domains] (inet:host:port | unix:/path | -S)\n");
    exit(64);
}

int main(int argc, char **argv)
{
    struct rlimit rl;
    int ch;

    while ((ch = getopt(argc, argv, "c:t:w:r:m:D:S")) != -1) {
        switch (ch) {
        case 'c':
            opt.conns = atoi(optarg);
            break;
        case 't':
            opt.seconds = atof(optarg);
            break;
        case 'w':
            opt.warmup = atol(optarg);
            break;
        case 'r':
            opt.rate = atof(optarg);
            break;
        case 'm':
            opt.unique = strcmp(optarg, "fixed") != 0;
            break;
        case 'D':
            for (char *tok = strtok(optarg, ","); tok && opt.ndomains < 64; tok = strtok(NULL, ","))
                opt.domains[opt.ndomains++] = tok;
            break;
        case 'S':
            opt.selftest = true;
            break;
        default:
            usage();
        }
    }
    if (opt.ndomains == 0)
        opt.domains[opt.ndomains++] = "shop.example";
    if (opt.conns < 1 || opt.seconds <= 0 || (!opt.selftest && optind != argc - 1))
        usage();
    signal(SIGPIPE, SIG_IGN);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)opt.conns * 2 + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    opt.target = opt.selftest ? start_null_server() : argv[optind];
    run();
    if (null_pid > 0) {
        kill(null_pid, SIGKILL);
        waitpid(null_pid, NULL, 0);
    }
    return 0;
}
