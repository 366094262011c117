/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - sendgate-milter: start-up, signals, reload, the libmilter main loop
 *
 * Usage: sendgate-milter [-f] [-s] [-c FILE]
 *        sendgate-milter [-c FILE] -t MESSAGE --from ADDR --rcpt ADDR ...   (test mode)
 *
 * START-UP ORDER
 *	inherited descriptors closed; configuration loaded and checked; all
 *	signals blocked (every thread inherits the mask); detach unless -f;
 *	the LMDB cache opened once, before any libmilter thread; the socket
 *	opened (a stale unix socket removed only when nothing answers on it;
 *	mode and group applied; TCP_NODELAY set on an inet listener);
 *	privileges dropped; the reload worker and smfi_main's thread started;
 *	READY=1 to systemd; the main thread waits for signals.
 *
 * SIGNALS
 *	SIGHUP reloads sendgate.conf: a file with errors is refused and the
 *	running configuration kept. Connections keep the configuration they
 *	started with. SIGTERM and SIGINT stop the milter (smfi_stop). Why the
 *	main thread takes them, not libmilter's: see milter_reloader.
 */
#include <errno.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cache/verdict.h"
#include "lib/endpoint.h"
#include "lib/log.h"
#include "milter/callbacks.h"
#include "milter/listener.h"
#include "milter/state.h"
#include "milter/testmode.h"
#include "lib/daemon.h"

#define MILTER_DEFAULT_CONF SG_CONFDIR "/sendgate.conf"

static const char *milter_conf_path = MILTER_DEFAULT_CONF;
static bool milter_conf_explicit;

/* milter_load - read and check the configuration; NULL with the problems logged */
static conf *milter_load(void)
{
    return conf_load_logged(milter_conf_path, milter_conf_explicit);
}

/* milter_reload - SIGHUP: install a new configuration, or keep the old one */
static void milter_reload(void)
{
    conf *cfg = milter_load();
    milter_config *mc;
    char err[512] = "";

    if (cfg == NULL) {
        log_err("reload refused: %s has errors; the running configuration stays", milter_conf_path);
        return;
    }
    if ((mc = state_config_build(cfg, err, sizeof(err))) == NULL) {
        log_err("reload refused: %s; the running configuration stays", err);
        return;
    }
    state_config_install(mc);  /* the reload worker is the only one that installs */
    if (state_cache() != NULL) /* providers enabled or disabled: what lookups need */
        cache_set_required(state_cache(), verdict_required(mc->cfg));
    log_set_level(log_level_parse(conf_enum_text(mc->cfg, CK_general_log_level)));
    log_info("configuration reloaded from %s", milter_conf_path);
}

/*
 * Signals. smfi_main starts a thread of libmilter's own that sigwaits for
 * SIGHUP, SIGTERM and SIGINT and stops the milter on any of them, SIGHUP
 * included (libmilter/signal.c): a reload delivered there would end the
 * milter. Linux gives a process-directed signal to the main thread first
 * when that thread can take it, so the main thread is the one that
 * sigwaits, smfi_main runs in a thread of its own, and reloads are done by
 * a worker: the main thread is back in sigwait at once. Should libmilter
 * stop by itself all the same, the milter exits 75, not 0, and systemd's
 * Restart=on-failure starts it again.
 */
static pthread_mutex_t milter_sig_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t milter_sig_cond = PTHREAD_COND_INITIALIZER;
static bool milter_reload_pending, milter_reloader_quit; /* under milter_sig_lock */
static bool milter_stop_requested, milter_main_done;     /* under milter_sig_lock */
static pthread_t milter_main_thread;
static int milter_main_rc;

/* milter_reloader - the worker that reloads on each SIGHUP the main thread hands over */
static void *milter_reloader(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&milter_sig_lock);
    for (;;) {
        while (!milter_reload_pending && !milter_reloader_quit)
            pthread_cond_wait(&milter_sig_cond, &milter_sig_lock);
        if (milter_reloader_quit)
            break;
        milter_reload_pending = false;
        pthread_mutex_unlock(&milter_sig_lock);
        daemon_notify("RELOADING=1");
        milter_reload();
        daemon_notify("READY=1");
        pthread_mutex_lock(&milter_sig_lock);
    }
    pthread_mutex_unlock(&milter_sig_lock);
    OPENSSL_thread_stop(); /* token keys were loaded here */
    return NULL;
}

/* milter_libmilter - smfi_main; when it ends without being asked to, wake the main thread */
static void *milter_libmilter(void *arg)
{
    bool asked;

    (void)arg;
    milter_main_rc = smfi_main();
    pthread_mutex_lock(&milter_sig_lock);
    milter_main_done = true;
    asked = milter_stop_requested;
    pthread_mutex_unlock(&milter_sig_lock);
    if (!asked)
        pthread_kill(milter_main_thread, SIGTERM);
    return NULL;
}

/* milter_signals - the main thread's sigwait loop; true when libmilter stopped by itself */
static bool milter_signals(const sigset_t *set)
{
    bool done;
    int sig;

    for (;;) {
        if (sigwait(set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            pthread_mutex_lock(&milter_sig_lock);
            milter_reload_pending = true;
            pthread_cond_signal(&milter_sig_cond);
            pthread_mutex_unlock(&milter_sig_lock);
            continue;
        }
        pthread_mutex_lock(&milter_sig_lock);
        done = milter_main_done;
        milter_stop_requested = true;
        pthread_mutex_unlock(&milter_sig_lock);
        if (done)
            return true;
        log_info("signal %d: stopping", sig);
        daemon_notify("STOPPING=1");
        smfi_stop();
        return false;
    }
}

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: sendgate-milter [-f] [-s] [-c FILE]\n"
            "       sendgate-milter [-c FILE] -t MESSAGE --from ADDR --rcpt ADDR [--rcpt "
            "ADDR...]\n"
            "                       [--auth USER] [--client-ip IP] [--daemon-name NAME] "
            "[--queue-id ID]\n"
            "  -c FILE  configuration (default %s)\n"
            "  -f       stay in the foreground, log to standard error\n"
            "  -s       log to syslog even with -f\n"
            "  -t FILE  test mode: run the callbacks on a message without an MTA; the\n"
            "           actions go to standard error, the message as delivered to stdout\n"
            "  -V       print the version\n",
            MILTER_DEFAULT_CONF);
}

/* milter_serve_with - the daemon proper, started with the configuration mc */
static int milter_serve_with(const milter_config *mc, bool foreground)
{
    milter_config *last;
    sigset_t set;
    pthread_t reloader, libmilter;
    char err[512];
    int ready = -1, rc;
    bool is_unix, by_itself;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread: they all inherit it */
    signal(SIGPIPE, SIG_IGN);
    if (!foreground && (ready = daemon_detach(err, sizeof(err))) < 0) {
        log_err("%s", err);
        return EX_OSERR;
    }
    if (*mc->cfg->milter.pid_file &&
        !daemon_pidfile_write(mc->cfg->milter.pid_file, err, sizeof(err))) {
        log_err("%s", err);
        daemon_detach_done(ready, EX_CANTCREAT);
        return EX_CANTCREAT;
    }
    (void)state_cache(); /* open it now, before libmilter starts threads */
    is_unix = strncmp(mc->cfg->milter.socket, "unix:", 5) == 0 ||
              strncmp(mc->cfg->milter.socket, "local:", 6) == 0;
    milter_noreply = is_unix;
    /* a group the process may not give the socket to: exit 78, not a restart loop */
    if (is_unix && !daemon_socket_group_check("milter.socket_group", mc->cfg->milter.socket_group,
                                              err, sizeof(err))) {
        log_err("%s", err);
        daemon_detach_done(ready, EX_CONFIG);
        return EX_CONFIG;
    }
    if ((rc = listener_open(mc->cfg, err, sizeof(err))) != 0) {
        log_err("%s", err);
        daemon_detach_done(ready, rc);
        return rc;
    }
    if ((*mc->cfg->general.user || *mc->cfg->general.group) &&
        !daemon_drop_privileges(mc->cfg->general.user, mc->cfg->general.group, err, sizeof(err))) {
        log_err("%s", err);
        daemon_detach_done(ready, EX_NOPERM);
        return EX_NOPERM;
    }
    milter_main_thread = pthread_self();
    if (pthread_create(&reloader, NULL, milter_reloader, NULL) != 0 ||
        pthread_create(&libmilter, NULL, milter_libmilter, NULL) != 0) {
        log_err("cannot start threads");
        daemon_detach_done(ready, EX_OSERR);
        return EX_OSERR;
    }
    log_info("sendgate-milter %s ready on %s", SG_VERSION, mc->cfg->milter.socket);
    daemon_detach_done(ready, 0);
    daemon_notify("READY=1");
    by_itself = milter_signals(&set);
    pthread_join(libmilter, NULL);
    pthread_mutex_lock(&milter_sig_lock);
    milter_reloader_quit = true;
    pthread_cond_signal(&milter_sig_cond);
    pthread_mutex_unlock(&milter_sig_lock);
    pthread_join(reloader, NULL);
    last = state_config_get(); /* the one running now: reloads may have changed it */
    listener_close(last->cfg);
    if (*last->cfg->milter.pid_file)
        daemon_pidfile_remove(last->cfg->milter.pid_file);
    state_config_put(last);
    if (milter_main_rc != MI_SUCCESS)
        return EX_SOFTWARE;
    if (by_itself) {
        log_err("libmilter stopped without being asked to (a signal its own thread took); "
                "exiting 75 so that systemd starts the milter again");
        return EX_TEMPFAIL;
    }
    return 0;
}

/* milter_serve - the daemon, after the configuration is known good */
static int milter_serve(bool foreground)
{
    milter_config *mc = state_config_get();
    int rc = milter_serve_with(mc, foreground);

    state_config_put(mc);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
            {"from", required_argument, NULL, 'F'},
            {"rcpt", required_argument, NULL, 'R'},
            {"auth", required_argument, NULL, 'A'},
            {"client-ip", required_argument, NULL, 'I'},
            {"daemon-name", required_argument, NULL, 'D'},
            {"queue-id", required_argument, NULL, 'Q'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    bool foreground = false, use_syslog = false;
    testmode_args t;
    char err[512] = "";
    milter_config *mc;
    conf *cfg;
    int ch, rc;

    memset(&t, 0, sizeof(t));
    while ((ch = getopt_long(argc, argv, "c:fst:Vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            milter_conf_path = optarg;
            milter_conf_explicit = true;
            break;
        case 'f':
            foreground = true;
            break;
        case 's':
            use_syslog = true;
            break;
        case 't':
            t.message = optarg;
            break;
        case 'F':
            t.from = optarg;
            break;
        case 'R':
            if (!testmode_add_rcpt(&t, optarg))
                return EX_OSERR;
            break;
        case 'A':
            t.auth = optarg;
            break;
        case 'I':
            t.client_ip = optarg;
            break;
        case 'D':
            t.daemon_name = optarg;
            break;
        case 'Q':
            t.queue_id = optarg;
            break;
        case 'V':
            printf("sendgate-milter %s\n", SG_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            testmode_free(&t);
            return EX_USAGE;
        }
    }
    if (optind != argc || (t.message == NULL && (t.from || t.n_rcpts))) {
        usage(stderr);
        testmode_free(&t);
        return EX_USAGE;
    }
    if (t.message == NULL)
        daemon_close_inherited();
    log_open("sendgate-milter",
             (foreground && !use_syslog) || t.message ? LOG_DEST_STDERR : LOG_DEST_SYSLOG,
             LOG_MAIL);
    if ((cfg = milter_load()) == NULL)
        return EX_CONFIG;
    log_close();
    log_open("sendgate-milter",
             (foreground && !use_syslog) || t.message ? LOG_DEST_STDERR : LOG_DEST_SYSLOG,
             log_facility_parse(conf_enum_text(cfg, CK_general_syslog_facility)));
    log_set_level(log_level_parse(conf_enum_text(cfg, CK_general_log_level)));
    if ((mc = state_config_build(cfg, err, sizeof(err))) == NULL) {
        log_err("%s", err);
        return EX_CONFIG;
    }
    state_config_install(mc);
    if (t.message) {
        rc = testmode_run(&t);
        testmode_free(&t);
    } else {
        rc = milter_serve(foreground);
    }
    state_end();
    return rc;
}
