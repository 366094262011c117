/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - sendgate-trackd: the click, open and unsubscribe endpoint
 *
 * Usage: sendgate-trackd [-f] [-s] [-c FILE]
 *
 * Recipients' mail clients reach this daemon through the tracking URLs the
 * milter wrote into their messages (https://<tracking host>/c|o|u/<token>),
 * normally via a TLS-terminating proxy. A thin shell: it reads the
 * configuration, opens the listening socket, the provider cache (for
 * revocations and unsubscriptions), the statistics environment, the token
 * keys and the events file (starting the event writer, evlog.c), drops
 * privileges, starts the HTTP server (httpd.c), tells systemd it is ready,
 * and then only waits for signals:
 * SIGHUP reloads the configuration and the token keys (key rotation) and
 * reopens the events file; SIGTERM and SIGINT stop gracefully.
 * It logs like the other daemons (lib/log.c): to syslog, or with -f to
 * standard error, unless -s keeps syslog.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/trackstats.h"
#include "lib/conf.h"
#include "lib/daemon.h"
#include "lib/endpoint.h"
#include "lib/log.h"
#include "trackd/evlog.h"
#include "trackd/httpd.h"
#include "lib/tlsfile.h"
#include "trackd/trackreq.h"

#define TRACKD_PROG    "sendgate-trackd"
#define TRACKD_CONF    SG_CONFDIR "/sendgate.conf"
#define TRACKD_BACKLOG 4096 /* a burst waits here; accepted at once, see httpd.h */
#define TRACKD_GRACE   5

struct trackd_opts {
    const char *conf_path;
    bool conf_explicit;
    bool foreground;
    bool use_syslog; /* -s: syslog even with -f */
};

/* trackd_notify - tell systemd; a $NOTIFY_SOCKET that cannot be told is worth a warning */
static void trackd_notify(const char *msg)
{
    if (!daemon_notify(msg) && getenv("NOTIFY_SOCKET"))
        log_warn("cannot notify systemd: %s", strerror(errno));
}

/* trackd_load_conf - the configuration file, reporting problems to the log */
static conf *trackd_load_conf(const struct trackd_opts *o)
{
    return conf_load_logged(o->conf_path, o->conf_explicit);
}

/* trackd_listen - the listening socket; inet6 on the any address also takes IPv4 */
static int trackd_listen(const char *spec, char *err, size_t errlen)
{
    struct sockaddr_in6 sin6;
    char why[ERRBUF_MAX];
    endpoint ep;
    int fd, zero = 0, one = 1;

    if (!endpoint_parse(spec, &ep, why, sizeof(why))) {
        snprintf(err, errlen, "trackd.listen = %s: %s", spec, why);
        return -1;
    }
    if (ep.kind == EP_INET6 && (ep.host[0] == '\0' || strcmp(ep.host, "::") == 0)) {
        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        sin6.sin6_addr = in6addr_any;
        sin6.sin6_port = htons((uint16_t)ep.port);
        if ((fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0 ||
            listen(fd, TRACKD_BACKLOG) < 0) {
            snprintf(err, errlen, "listen on %s: %s", spec, strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
    } else if ((fd = endpoint_listen(&ep, TRACKD_BACKLOG, 0, NULL, err, errlen)) < 0)
        return -1;
    endpoint_set_nodelay(fd);
    return fd;
}

/*
 * trackd_chown_state - hand trackd's own files to the user it is about to become:
 * the statistics environment and the events file. Open descriptors keep working
 * either way; this is for the next start and for SIGHUP's reopen of the events file.
 * The provider cache belongs to sendgate-policyd and is left alone.
 */
static void trackd_chown_state(const conf *c, uid_t uid, gid_t gid)
{
    static const char *const files[] = {"", "/data.mdb", "/lock.mdb"};
    char path[4200];

    if (geteuid() != 0)
        return;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", c->trackd.stats_path, files[i]);
        if (chown(path, uid, gid) != 0)
            log_warn("chown %s: %s", path, strerror(errno));
    }
    if (c->trackd.events_file[0] == '/' && chown(c->trackd.events_file, uid, gid) != 0)
        log_warn("chown %s: %s", c->trackd.events_file, strerror(errno));
}

/* trackd_drop_privileges - become general.user (and group), handing it trackd's files first */
static bool trackd_drop_privileges(const conf *c)
{
    char err[512];
    uid_t uid;
    gid_t gid;

    if (*c->general.user == '\0')
        return true;
    if (!daemon_user_ids(c->general.user, c->general.group, &uid, &gid, err, sizeof(err))) {
        log_err("%s", err);
        return false;
    }
    if (getuid() != uid || geteuid() != uid)
        trackd_chown_state(c, uid, gid);
    if (!daemon_drop_privileges(c->general.user, c->general.group, err, sizeof(err))) {
        log_err("%s", err);
        return false;
    }
    return true;
}

/* trackd_detach - into the background (not with -f); *ready tells the waiting parent */
static bool trackd_detach(int *ready, char *err, size_t errlen)
{
    if ((*ready = daemon_detach(err, errlen)) < 0)
        return false;
    if (chdir("/") != 0) {
        snprintf(err, errlen, "detach: chdir /: %s", strerror(errno));
        return false;
    }
    return true;
}

/* trackd_settle - the pid file (a failure is only a warning), then the privilege drop */
static bool trackd_settle(const conf *c)
{
    char err[PATH_MAX + 256];

    if (*c->trackd.pid_file && !daemon_pidfile_write(c->trackd.pid_file, err, sizeof(err)))
        log_warn("%s", err);
    return trackd_drop_privileges(c);
}

/* trackd_restart_keys - keys whose change needs a restart: warn on reload */
static void trackd_restart_keys(const conf *a, const conf *b)
{
    const struct conf_trackd *x = &a->trackd, *y = &b->trackd;

    if (strcmp(x->listen, y->listen) || strcmp(x->tls_cert_file, y->tls_cert_file) ||
        strcmp(x->tls_key_file, y->tls_key_file) || x->threads != y->threads ||
        x->max_connections != y->max_connections ||
        x->max_connections_per_ip != y->max_connections_per_ip ||
        x->connection_timeout != y->connection_timeout ||
        x->request_timeout != y->request_timeout || x->max_request_size != y->max_request_size ||
        strcmp(x->stats_path, y->stats_path) ||
        strcmp(a->general.cache_path, b->general.cache_path))
        log_warn("reload: listen, TLS, connection, size and path settings change only on restart");
}

/* trackd_reload - SIGHUP: configuration, keys, lists, events file */
static void trackd_reload(const struct trackd_opts *o, httpd *h, evlog *ev, conf **cur)
{
    trackreq_state st;
    char err[512];
    conf *c;

    trackd_notify("RELOADING=1");
    if ((c = trackd_load_conf(o)) == NULL)
        log_err("reload: configuration has errors; keeping the running one");
    else if (!trackreq_state_init(&st, c, err, sizeof(err))) {
        log_err("reload: %s; keeping the running configuration", err);
        conf_unref(c);
    } else {
        trackd_restart_keys(*cur, c);
        log_set_level(LOG_ERR + c->general.log_level);
        log_info("reloaded: %zu token key(s), signing key id %u", token_keys_count(st.keys),
                 token_keys_id(st.keys, 0));
        httpd_swap_state(h, &st);
        conf_unref(*cur);
        *cur = c;
    }
    evlog_reopen(ev, (*cur)->trackd.events_file);
    trackd_notify("READY=1");
}

/*
 * trackd_serve - run until SIGTERM/SIGINT (st is taken over); signals are taken with
 * sigwait. Once serving, the parent waiting on *ready (when detached) exits 0.
 */
static int trackd_serve(const struct trackd_opts *o, conf **cfg, trackreq_state *st, int listen_fd,
                        httpd_opts *ho, trackreq_env *env, const sigset_t *sigs, int *ready)
{
    char err[512];
    httpd *h;
    int sig;

    ho->listen_fd = listen_fd;
    if ((h = httpd_start(ho, env, st, err, sizeof(err))) == NULL) {
        close(listen_fd);
        log_err("%s", err);
        return EX_SOFTWARE;
    }
    log_info("listening on %s%s", (*cfg)->trackd.listen, ho->tls_cert_pem ? " (TLS)" : "");
    daemon_detach_done(*ready, 0);
    *ready = -1;
    trackd_notify("READY=1");
    for (;;) {
        if (sigwait(sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP)
            trackd_reload(o, h, env->events, cfg);
        else if (sig == SIGTERM || sig == SIGINT)
            break;
    }
    trackd_notify("STOPPING=1");
    log_info("stopping");
    httpd_stop(h, TRACKD_GRACE);
    return 0;
}

/*
 * trackd_open_stores - the provider cache (read-write: unsubscriptions) and the statistics
 *
 * Neither stops the links from working. The provider cache is opened with
 * CACHE_RETRY: while it is missing or damaged (sendgate-policyd rebuilds
 * it) a handle still answers, unsubscriptions get the "try again" page and
 * the cache is reopened every few seconds. Damaged statistics are moved
 * aside and started again (trackstats.c); when even that fails, trackd
 * runs without counters: the events file still records every event.
 */
static bool trackd_open_stores(const conf *c, cache **ca, trackstats **ts)
{
    cache_opts co = cache_opts_from_conf(c, CACHE_RETRY);
    char err[512] = "";

    if ((*ca = cache_open(c->general.cache_path, CACHE_RDWR, &co, err, sizeof(err))) == NULL) {
        log_err("%s", err);
        return false;
    }
    if (*err)
        log_err("%s; unsubscriptions cannot be recorded until it can be opened", err);
    *ts = trackstats_open(c->trackd.stats_path, c->trackd.stats_map_size,
                          (unsigned)c->general.cache_max_readers, false, err, sizeof(err));
    if (*ts == NULL)
        log_err("%s; statistics are not kept (the events file still records every event)", err);
    return true;
}

/*
 * trackd_fd_limit - enough descriptors for max_connections: the soft limit is
 * raised towards the hard one, and when even that is too low, max_connections
 * is lowered to what fits (with a warning) rather than failing at accept.
 */
static void trackd_fd_limit(httpd_opts *ho)
{
    unsigned need = httpd_fds_needed(ho->max_connections, ho->threads), fit;
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur >= need)
        return;
    fit = httpd_max_for_fds((unsigned long)rl.rlim_cur, ho->threads);
    if (fit < 16)
        fit = 16;
    log_warn("trackd.max_connections = %u needs %u file descriptors, the limit is %lu: "
             "serving %u at once (raise LimitNOFILE or ulimit -n)",
             ho->max_connections, need, (unsigned long)rl.rlim_cur, fit);
    ho->max_connections = fit;
}

/* trackd_httpd_opts - the server settings of the configuration (TLS files read into tls) */
static bool trackd_httpd_opts(const conf *c, httpd_opts *ho, tlsfile *tls)
{
    const struct conf_trackd *t = &c->trackd;
    char err[512];
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    memset(ho, 0, sizeof(*ho));
    ho->threads = t->threads ? (unsigned)t->threads : (unsigned)(ncpu > 0 ? ncpu : 1);
    ho->max_connections = (unsigned)t->max_connections;
    ho->max_per_ip = (unsigned)t->max_connections_per_ip;
    ho->timeout = (unsigned)t->connection_timeout;
    ho->request_timeout = (unsigned)t->request_timeout;
    trackd_fd_limit(ho);
    ho->max_request = t->max_request_size;
    if (*t->tls_cert_file) {
        if (tlsfile_load(t->tls_cert_file, t->tls_key_file, tls, err, sizeof(err)) != TLSFILE_OK) {
            log_err("%s", err);
            return false;
        }
        ho->tls_cert_pem = tls->cert;
        ho->tls_key_pem = tls->key;
    }
    return true;
}

static int trackd_usage(void)
{
    fprintf(stderr,
            "usage: %s [-f] [-s] [-c FILE]\n"
            "  -f       stay in the foreground, log to standard error\n"
            "  -s       log to syslog even with -f\n"
            "  -c FILE  configuration file (default %s)\n"
            "  -V       print the version\n",
            TRACKD_PROG, TRACKD_CONF);
    return EX_USAGE;
}

/* trackd_run - everything after option parsing; returns the exit status */
static int trackd_run(const struct trackd_opts *o, conf *cfg, const sigset_t *sigs)
{
    trackreq_env env;
    trackreq_state st;
    trackstats *ts = NULL;
    tmetrics metrics;
    httpd_opts ho;
    tlsfile tls = {NULL, NULL, 0, 0};
    char err[512];
    int fd, rc = EX_SOFTWARE, ready = -1;

    memset(&env, 0, sizeof(env));
    memset(&st, 0, sizeof(st));
    memset(&ho, 0, sizeof(ho));
    pthread_mutex_init(&env.unsub_mu, NULL);
    tmetrics_init(&metrics);
    env.metrics = &metrics;
    if (!o->foreground && strcmp(cfg->trackd.events_file, "-") == 0)
        log_warn("events_file = - (standard output) without -f: events are discarded");
    if ((fd = trackd_listen(cfg->trackd.listen, err, sizeof(err))) < 0) {
        log_err("%s", err);
        rc = EX_UNAVAILABLE;
    } else if (!trackd_httpd_opts(cfg, &ho, &tls))
        rc = EX_CONFIG;
    else if (!o->foreground && !trackd_detach(&ready, err, sizeof(err))) {
        log_err("%s", err);
        rc = EX_OSERR;
    } else if (!trackd_open_stores(cfg, &env.cache, &ts))
        rc = EX_UNAVAILABLE;
    else if (!trackreq_state_init(&st, cfg, err, sizeof(err))) { /* the keys */
        log_err("%s", err);
        rc = EX_CONFIG;
    } else if ((env.events = evlog_start(cfg->trackd.events_file, ts, cfg->trackd.unique_retention,
                                         &metrics, err, sizeof(err))) == NULL)
        log_err("%s", err);
    else if (!trackd_settle(cfg)) /* after every file is open */
        rc = EX_NOPERM;
    else {
        log_info("%zu token key(s), signing key id %u", token_keys_count(st.keys),
                 token_keys_id(st.keys, 0));
        rc = trackd_serve(o, &cfg, &st, fd, &ho, &env, sigs, &ready);
        fd = -1; /* the server closed it */
    }
    trackreq_state_free(&st);
    if (fd >= 0)
        close(fd);
    evlog_stop(env.events);
    trackstats_close(ts);
    cache_close(env.cache);
    pthread_mutex_destroy(&env.unsub_mu);
    if (*cfg->trackd.pid_file)
        daemon_pidfile_remove(cfg->trackd.pid_file);
    tlsfile_free(&tls);
    conf_unref(cfg);
    daemon_detach_done(ready, rc); /* a start that failed after the detach */
    return rc;
}

int main(int argc, char **argv)
{
    struct trackd_opts o = {TRACKD_CONF, false, false, false};
    enum log_dest dest;
    sigset_t sigs;
    conf *cfg;
    int ch;

    while ((ch = getopt(argc, argv, "fsc:hV")) != -1) {
        switch (ch) {
        case 'f':
            o.foreground = true;
            break;
        case 's':
            o.use_syslog = true;
            break;
        case 'c':
            o.conf_path = optarg;
            o.conf_explicit = true;
            break;
        case 'V':
            printf("%s %s\n", TRACKD_PROG, SG_VERSION);
            return 0;
        default:
            return trackd_usage();
        }
    }
    if (optind != argc)
        return trackd_usage();
    dest = o.foreground && !o.use_syslog ? LOG_DEST_STDERR : LOG_DEST_SYSLOG;
    log_open(TRACKD_PROG, dest, LOG_MAIL);
    if ((cfg = trackd_load_conf(&o)) == NULL) {
        log_err("configuration has errors; not starting");
        return EX_CONFIG;
    }
    if (dest == LOG_DEST_SYSLOG) { /* the configured facility */
        log_close();
        log_open(TRACKD_PROG, dest,
                 log_facility_parse(conf_enum_text(cfg, CK_general_syslog_facility)));
    }
    log_set_level(LOG_ERR + cfg->general.log_level);
    /* every thread inherits this mask; the main thread takes the signals with sigwait */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    return trackd_run(&o, cfg, &sigs);
}
