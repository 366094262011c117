/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - sendgate-policyd: Postfix policy server, socketmap server, refresher
 *
 * SYNOPSIS
 *	sendgate-policyd [-f] [-s] [-c FILE]
 *	sendgate-policyd -c FILE --once
 *
 * DESCRIPTION
 *	The life cycle of the daemon, after PostSRSd: close inherited
 *	descriptors, load the configuration, block the signals (they are read
 *	from a signalfd by the event loop), detach unless -f, write the pid
 *	file, open the listeners, open the LMDB cache read-write once (before
 *	any thread), drop privileges, start the refresher thread, tell the
 *	parent and systemd (READY=1), serve. SIGHUP reloads the configuration
 *	and keeps the old one when the new one is bad; SIGUSR1 refreshes now;
 *	SIGTERM and SIGINT stop gracefully.
 *
 *	--once refreshes every enabled provider one time and exits 0 when
 *	every refresh succeeded, with a sysexits code and the reason otherwise.
 *
 *	Logging goes to standard error with -f (the tests and a terminal) and
 *	to syslog otherwise, or with -f -s.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/verdict.h"
#include "lib/conf.h"
#include "lib/endpoint.h"
#include "lib/log.h"
#include "lib/metrics_http.h"
#include "lib/daemon.h"
#include "policyd/decide.h"
#include "policyd/pmetrics.h"
#include "lib/netlist.h"
#include "providers/refresh.h"
#include "policyd/server.h"
#include "providers/http.h"

#define PROG "sendgate-policyd"

typedef struct policyd {
    const char *conf_path;
    bool foreground, use_syslog, once;
    conf *cfg;
    cache *cache;
    netlist nets;
    decide_ctx *d;
    server *srv;
    refresher *refresher;  /* the refresher thread, NULL before it runs */
    metrics_http *metrics; /* the /metrics listener, NULL when none */
    char *pid_file;
    char *spec[SERVER__KINDS]; /* endpoints being served, to compare at reload */
    unsigned mode;
    char *group;
} policyd;

static const char *const policyd_kind_key[SERVER__KINDS] = {"policy_socket", "socketmap_socket"};

/* policyd_log_level - syslog priority of general.log_level */
static int policyd_log_level(const conf *c)
{
    static const int levels[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};

    return levels[c->general.log_level];
}

/* the refresher adapters (providers/refresh.h), defined with --once below */
static void policyd_refresher_trigger(policyd *p);
static void policyd_refresher_reload(policyd *p, conf *n);

/* policyd_usage - the synopsis on stderr */
static int policyd_usage(void)
{
    fprintf(stderr,
            "usage: %s [-f] [-s] [-c FILE]\n"
            "       %s [-c FILE] --once\n"
            "  -c FILE  configuration (default %s/sendgate.conf)\n"
            "  -f       stay in the foreground, log to standard error\n"
            "  -s       log to syslog even in the foreground\n"
            "  --once   refresh every enabled provider once and exit\n"
            "  -V       print the version\n",
            PROG, PROG, SG_CONFDIR);
    return EX_USAGE;
}

/* policyd_args - command line; returns -1 to go on, else an exit status */
static int policyd_args(policyd *p, int argc, char **argv)
{
    static const struct option longopts[] = {{"once", no_argument, NULL, 'O'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};
    int ch;

    p->conf_path = SG_CONFDIR "/sendgate.conf";
    while ((ch = getopt_long(argc, argv, "c:fsVh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            p->conf_path = optarg;
            break;
        case 'f':
            p->foreground = true;
            break;
        case 's':
            p->use_syslog = true;
            break;
        case 'O':
            p->once = true;
            break;
        case 'V':
            printf("%s %s\n", PROG, SG_VERSION);
            return EX_OK;
        default:
            return policyd_usage();
        }
    }
    return optind < argc ? policyd_usage() : -1;
}

/* policyd_report - every line of a configuration report, at prio */
static void policyd_report(const conf_report *rep, int prio)
{
    const char *s = buf_cstr(&rep->text), *nl;

    while (s && *s) {
        nl = strchr(s, '\n');
        log_msg(prio, "%.*s", (int)(nl ? nl - s : (long)strlen(s)), s);
        s = nl ? nl + 1 : s + strlen(s);
    }
}

/* policyd_load - load and check the configuration; NULL after logging why */
static conf *policyd_load(const char *path, int prio)
{
    conf_report rep;
    conf *c;

    conf_report_init(&rep);
    c = conf_load(path, &rep);
    policyd_report(&rep, c ? LOG_WARNING : prio);
    conf_report_free(&rep);
    return c;
}

/* policyd_opts - the event loop's limits from the configuration */
static void policyd_opts(const conf *c, server_opts *o)
{
    o->policy.max_request = c->policyd.max_request_size;
    o->policy.max_line = c->policyd.max_attribute_size;
    o->max_netstring = c->policyd.max_netstring;
    o->idle_timeout = c->policyd.idle_timeout;
    o->max_connections = c->policyd.max_connections;
}

/* policyd_open_listener - bind one endpoint; -1 after filling err */
static int policyd_open_listener(const conf *c, const char *spec, char *path, char *err,
                                 size_t errlen)
{
    endpoint ep;
    char why[ERRBUF_MAX];
    int fd;

    if (!endpoint_parse(spec, &ep, why, sizeof(why))) {
        snprintf(err, errlen, "%s: %s", spec, why);
        return -1;
    }
    /* the kernel caps the backlog at net.core.somaxconn */
    fd = endpoint_listen(&ep, 4096, c->policyd.socket_mode, c->policyd.socket_group, err, errlen);
    if (fd >= 0 && ep.kind != EP_UNIX)
        endpoint_set_nodelay(fd);
    snprintf(path, 108, "%s", ep.kind == EP_UNIX ? ep.path : "");
    return fd;
}

/* policyd_spec - the endpoint of a kind of listener in c ("" = not served) */
static const char *policyd_spec(const conf *c, enum server_kind k)
{
    return k == SERVER_POLICY ? c->policyd.policy_socket : c->policyd.socketmap_socket;
}

/* policyd_has_unix - does a configured listener live on a unix socket (socket_group applies)? */
static bool policyd_has_unix(const conf *c)
{
    for (int k = 0; k < SERVER__KINDS; k++)
        if (strncmp(policyd_spec(c, k), "unix:", 5) == 0)
            return true;
    return false;
}

/* policyd_listen - open every configured listener and hand it to the event loop */
static bool policyd_listen(policyd *p)
{
    char err[512], path[108];

    for (int k = 0; k < SERVER__KINDS; k++) {
        const char *spec = policyd_spec(p->cfg, k);
        int fd;
        if (*spec == '\0')
            continue;
        if ((fd = policyd_open_listener(p->cfg, spec, path, err, sizeof(err))) < 0) {
            log_err("policyd.%s: %s", policyd_kind_key[k], err);
            return false;
        }
        if (!server_listen(p->srv, k, fd, spec, *path ? path : NULL))
            return false;
        p->spec[k] = strdup(spec);
        log_info("%s service listening on %s", k == SERVER_POLICY ? "policy" : "socketmap", spec);
    }
    if (p->spec[SERVER_POLICY] == NULL && p->spec[SERVER_SMAP] == NULL)
        log_info("policy_socket and socketmap_socket are empty: only refreshing the cache");
    p->mode = p->cfg->policyd.socket_mode;
    p->group = strdup(p->cfg->policyd.socket_group);
    return true;
}

/* policyd_chown_cache - let the unprivileged user keep writing the cache it will own */
static void policyd_chown_cache(const conf *c)
{
    static const char *const files[] = {"", "/data.mdb", "/lock.mdb"};
    struct passwd *pw;
    struct group *gr;
    char path[4096];

    if (geteuid() != 0 || *c->general.user == '\0' || (pw = getpwnam(c->general.user)) == NULL)
        return;
    gr = *c->general.group ? getgrnam(c->general.group) : NULL;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", c->general.cache_path, files[i]);
        if (chown(path, pw->pw_uid, gr ? gr->gr_gid : pw->pw_gid) < 0 && errno != ENOENT)
            log_warn("chown %s to %s: %s", path, c->general.user, strerror(errno));
    }
}

/* policyd_cache_damaged - the cache was found damaged: refresh now, which rebuilds it */
static void policyd_cache_damaged(void *arg)
{
    policyd_refresher_trigger(arg);
}

/*
 * policyd_open_cache - read-write (the refresher writes), created when
 * missing. CACHE_RECOVER: a damaged data.mdb is moved aside and a new cache
 * started (here, or at the first write after the damage is found); the
 * refresher then fills it. The daemon (not --once) also opens with
 * CACHE_RETRY: a cache that cannot be opened even so still gives a handle,
 * so the daemon serves handling.cache_error instead of refusing to start.
 */
static bool policyd_open_cache(policyd *p)
{
    const struct conf_general *g = &p->cfg->general;
    cache_opts o = cache_opts_from_conf(p->cfg, CACHE_RECOVER | (p->once ? 0 : CACHE_RETRY));
    char err[512] = "";

    p->cache = cache_open(g->cache_path, CACHE_RDWR, &o, err, sizeof(err));
    if (p->cache == NULL || *err) {
        log_err("%s%s", *err ? err : "cache: out of memory",
                p->cache ? "; handling.cache_error applies until it can be opened" : "");
        if (p->cache == NULL)
            return false;
    }
    cache_set_required(p->cache, verdict_required(p->cfg));
    cache_on_damage(p->cache, policyd_cache_damaged, p);
    policyd_chown_cache(p->cfg);
    return true;
}

/* policyd_metrics_start - the /metrics listener (policyd.metrics_listen), when configured */
static bool policyd_metrics_start(policyd *p)
{
    const char *spec = p->cfg->policyd.metrics_listen;
    netlist allow = NETLIST_INIT;
    char err[512], path[108];
    int fd;

    pmetrics_init();
    if (spec == NULL || *spec == '\0')
        return true;
    if (!netlist_parse(&allow, &p->cfg->policyd.metrics_allow, NETLIST_HOST_BITS, err,
                       sizeof(err))) {
        log_err("policyd.metrics_allow: %s", err);
        return false;
    }
    if ((fd = policyd_open_listener(p->cfg, spec, path, err, sizeof(err))) < 0 ||
        (p->metrics = metrics_http_start(fd, &allow, pmetrics_render, p->cache, err,
                                         sizeof(err))) == NULL) {
        netlist_free(&allow);
        log_err("policyd.metrics_listen: %s", err);
        return false;
    }
    log_info("metrics listening on %s", spec);
    return true;
}

/* policyd_nets - parse internal_networks (check-config already did; this cannot fail twice) */
static bool policyd_nets(const conf *c, netlist *nl)
{
    char err[256];

    if (netlist_parse(nl, &c->policyd.internal_networks, 0, err, sizeof(err)))
        return true;
    log_err("policyd.internal_networks: %s", err);
    return false;
}

static bool policyd_same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* policyd_same_list - the same words in the same order */
static bool policyd_same_list(const conf_list *a, const conf_list *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!policyd_same(a->v[i], b->v[i]))
            return false;
    return true;
}

/* policyd_reload_sockets - new listeners for changed endpoints; false: roll back */
static bool policyd_reload_sockets(policyd *p, const conf *n, int fds[SERVER__KINDS],
                                   char paths[SERVER__KINDS][108])
{
    char err[512];

    for (int k = 0; k < SERVER__KINDS; k++) {
        const char *spec = policyd_spec(n, k);
        fds[k] = -1;
        paths[k][0] = '\0';
        if (policyd_same(spec, p->spec[k]) || *spec == '\0')
            continue;
        if ((fds[k] = policyd_open_listener(n, spec, paths[k], err, sizeof(err))) < 0) {
            log_err("reload: policyd.%s: %s; keeping the running configuration",
                    policyd_kind_key[k], err);
            for (int j = 0; j < k; j++)
                if (fds[j] >= 0)
                    close(fds[j]);
            return false;
        }
    }
    return true;
}

/* policyd_reload_commit - switch listeners, limits and answers to the new configuration */
static void policyd_reload_commit(policyd *p, conf *n, netlist *nets, int fds[SERVER__KINDS],
                                  char paths[SERVER__KINDS][108])
{
    server_opts o;
    conf *old = p->cfg;

    for (int k = 0; k < SERVER__KINDS; k++) {
        const char *spec = policyd_spec(n, k);
        if (fds[k] >= 0 && server_listen(p->srv, k, fds[k], spec, *paths[k] ? paths[k] : NULL))
            log_info("reload: %s now listening on %s", policyd_kind_key[k], spec);
        else if (*spec == '\0' && p->spec[k])
            server_unlisten(p->srv, k);
        if (fds[k] >= 0 || *spec == '\0') {
            free(p->spec[k]);
            p->spec[k] = *spec ? strdup(spec) : NULL;
        }
    }
    if (strcmp(old->general.cache_path, n->general.cache_path) ||
        strcmp(old->general.user, n->general.user) ||
        strcmp(old->general.group, n->general.group) ||
        !policyd_same(old->policyd.pid_file, n->policyd.pid_file) ||
        n->policyd.socket_mode != p->mode || !policyd_same(n->policyd.socket_group, p->group))
        log_warn("reload: changes to cache_path, user, group, pid_file, socket_mode or "
                 "socket_group take effect at the next restart");
    if (!policyd_same(old->policyd.metrics_listen, n->policyd.metrics_listen) ||
        !policyd_same_list(&old->policyd.metrics_allow, &n->policyd.metrics_allow))
        log_warn("reload: changes to metrics_listen or metrics_allow take effect at the next "
                 "restart");
    policyd_opts(n, &o);
    server_set_opts(p->srv, &o);
    netlist_free(&p->nets);
    p->nets = *nets;
    p->d->cfg = n;
    p->d->internal = &p->nets;
    p->cfg = n;
    cache_set_required(p->cache, verdict_required(n));
    log_set_level(policyd_log_level(n));
    policyd_refresher_reload(p, n);
    conf_unref(old);
}

/* policyd_reload - SIGHUP: load, check, open new sockets, then switch, or keep the old */
static void policyd_reload(policyd *p)
{
    struct timespec ts;
    char msg[96], paths[SERVER__KINDS][108];
    int fds[SERVER__KINDS];
    netlist nets = NETLIST_INIT;
    conf *n;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%lld",
             (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
    daemon_notify(msg);
    log_info("reloading %s", p->conf_path);
    if ((n = policyd_load(p->conf_path, LOG_ERR)) == NULL) {
        log_err("reload: %s has errors; keeping the running configuration", p->conf_path);
    } else if (!policyd_nets(n, &nets) || !policyd_reload_sockets(p, n, fds, paths)) {
        netlist_free(&nets);
        conf_unref(n);
    } else {
        policyd_reload_commit(p, n, &nets, fds, paths);
        log_info("reloaded %s", p->conf_path);
    }
    daemon_notify("READY=1");
}

/* policyd_signal - the event loop hands us each signal between two events */
static void policyd_signal(void *arg, int signo)
{
    policyd *p = arg;

    switch (signo) {
    case SIGHUP:
        policyd_reload(p);
        break;
    case SIGUSR1:
        log_info("SIGUSR1: refreshing the providers now");
        policyd_refresher_trigger(p);
        break;
    default:
        log_info("%s: stopping (finishing the answers in progress)", strsignal(signo));
        daemon_notify("STOPPING=1");
        server_shutdown(p->srv);
        break;
    }
}

/* policyd_block_signals - before any thread, so only the signalfd sees them */
static void policyd_block_signals(void)
{
    sigset_t set;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* policyd_log_setup - stderr in the foreground (unless -s), syslog otherwise */
static void policyd_log_setup(const policyd *p)
{
    const conf *c = p->cfg;
    static const char *const facilities[] = {"mail",   "daemon", "user",   "local0",
                                             "local1", "local2", "local3", "local4",
                                             "local5", "local6", "local7"};

    if (!p->foreground || p->use_syslog)
        log_open(PROG, LOG_DEST_SYSLOG, log_facility_parse(facilities[c->general.syslog_facility]));
    log_set_level(policyd_log_level(c));
}

/* policyd_report_lines - each line of a refresh report, at prio */
static void policyd_report_lines(const buf *report, int prio)
{
    const char *s = buf_cstr(report), *nl;

    while (s && *s) {
        nl = strchr(s, '\n');
        log_msg(prio, "refresh: %.*s", (int)(nl ? nl - s : (long)strlen(s)), s);
        s = nl ? nl + 1 : s + strlen(s);
    }
}

/*
 * policyd_refresh_once - --once: every enabled provider once, now
 *
 * REFRESH_FORCE: an operator asking for a refresh wants one even inside
 * the backoff after an ordinary failure; a provider's rate-limit wait
 * (Retry-After, lockout) is still honoured, and reported as EX_TEMPFAIL.
 */
static int policyd_refresh_once(policyd *p)
{
    buf report = BUF_INIT;
    int ex;

    if (!refresh_any_enabled(p->cfg)) {
        log_err("--once: no provider is enabled ([static], [jetemail] or [mailtrap] enabled = "
                "yes)");
        return EX_CONFIG;
    }
    if (!policyd_open_cache(p))
        return EX_UNAVAILABLE;
    if (!http_global_init()) {
        log_err("--once: cannot initialise libcurl");
        ex = EX_SOFTWARE;
    } else {
        ex = refresh_all(p->cfg, p->cache, time(NULL), REFRESH_FORCE, &report);
        policyd_report_lines(&report, ex == EX_OK ? LOG_INFO : LOG_ERR);
    }
    buf_free(&report);
    cache_close(p->cache);
    p->cache = NULL;
    return ex;
}

/* policyd_refresher_start - the refresher thread, after the privilege drop */
static bool policyd_refresher_start(policyd *p)
{
    if (!refresh_any_enabled(p->cfg))
        log_warn("no provider is enabled: the cache changes only through sendgatectl "
                 "(enable [static], [jetemail] or [mailtrap])");
    if ((p->refresher = refresher_start(p->cfg, p->cache)) == NULL) {
        log_err("cannot start the refresher");
        return false;
    }
    return true;
}

static void policyd_refresher_trigger(policyd *p)
{
    if (p->refresher)
        refresher_trigger(p->refresher);
}

static void policyd_refresher_reload(policyd *p, conf *n)
{
    if (p->refresher)
        refresher_reload(p->refresher, n);
}

static void policyd_refresher_stop(policyd *p)
{
    refresher_stop(p->refresher);
    p->refresher = NULL;
}

/* policyd_start - everything between the configuration and the first answer */
static int policyd_start(policyd *p, int ready)
{
    server_opts o;
    char err[512];

    if (p->cfg->policyd.pid_file && *p->cfg->policyd.pid_file) {
        if (!daemon_pidfile_write(p->cfg->policyd.pid_file, err, sizeof(err))) {
            log_err("%s", err);
            return EX_CANTCREAT;
        }
        p->pid_file = strdup(p->cfg->policyd.pid_file);
    }
    daemon_raise_nofile(p->cfg->policyd.max_connections + 64);
    policyd_opts(p->cfg, &o);
    if (!policyd_nets(p->cfg, &p->nets))
        return EX_CONFIG;
    if ((p->srv = server_new(&o, NULL, policyd_signal, p, err, sizeof(err))) == NULL) {
        log_err("%s", err);
        return EX_OSERR;
    }
    if (policyd_has_unix(p->cfg) &&
        !daemon_socket_group_check("policyd.socket_group", p->cfg->policyd.socket_group, err,
                                   sizeof(err))) {
        log_err("%s", err);
        return EX_CONFIG;
    }
    if (!policyd_listen(p))
        return EX_UNAVAILABLE;
    if (!policyd_open_cache(p) || !policyd_metrics_start(p))
        return EX_UNAVAILABLE;
    if ((p->d = decide_new(p->cfg, p->cache, &p->nets)) == NULL)
        return EX_OSERR;
    server_set_decide(p->srv, p->d);
    if (!daemon_drop_privileges(p->cfg->general.user, p->cfg->general.group, err, sizeof(err))) {
        log_err("%s", err);
        return EX_NOPERM;
    }
    if (!policyd_refresher_start(p))
        return EX_SOFTWARE;
    daemon_detach_done(ready, EX_OK);
    daemon_notify("READY=1");
    log_info("sendgate-policyd %s ready (cache %s)", SG_VERSION, p->cfg->general.cache_path);
    return EX_OK;
}

/* policyd_cleanup - stop the refresher, close everything, remove the pid file */
static void policyd_cleanup(policyd *p)
{
    policyd_refresher_stop(p);
    metrics_http_stop(p->metrics);
    server_free(p->srv);
    decide_free(p->d);
    if (p->cache)
        cache_close(p->cache);
    netlist_free(&p->nets);
    if (p->pid_file)
        daemon_pidfile_remove(p->pid_file);
    free(p->pid_file);
    for (int k = 0; k < SERVER__KINDS; k++)
        free(p->spec[k]);
    free(p->group);
    conf_unref(p->cfg);
}

int main(int argc, char **argv)
{
    policyd p;
    int rc, ready = -1;
    char err[512];

    memset(&p, 0, sizeof(p));
    if ((rc = policyd_args(&p, argc, argv)) >= 0)
        return rc;
    daemon_close_inherited();
    log_open(PROG, LOG_DEST_STDERR, LOG_MAIL);
    if ((p.cfg = policyd_load(p.conf_path, LOG_ERR)) == NULL) {
        log_err("%s: configuration has errors", p.conf_path);
        return EX_CONFIG;
    }
    log_set_level(policyd_log_level(p.cfg));
    if (p.once) {
        rc = policyd_refresh_once(&p);
        conf_unref(p.cfg);
        return rc;
    }
    policyd_block_signals();
    if (!p.foreground && (ready = daemon_detach(err, sizeof(err))) < 0) {
        log_err("%s", err);
        conf_unref(p.cfg);
        return EX_OSERR;
    }
    policyd_log_setup(&p);
    rc = policyd_start(&p, ready);
    if (rc == EX_OK && server_run(p.srv) < 0)
        rc = EX_SOFTWARE;
    policyd_cleanup(&p);
    if (rc != EX_OK)
        daemon_detach_done(ready, rc);
    log_info("stopped");
    return rc;
}
