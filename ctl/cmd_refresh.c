/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_refresh.c - sendgatectl refresh [PROVIDER] [--force] [--daemon]
 *
 * Runs the refresher (providers/refresh.h) once, in this process: it works
 * whether sendgate-policyd runs or not (before the first start, on a node
 * where the daemon is stopped, from a cron job), and the operator sees
 * the outcome and the provider's error at once. It honours the persisted
 * meta.next_attempt exactly like the daemon: no request is sent before a
 * provider's Retry-After or lockout has passed, also not with --force,
 * which only skips the backoff after ordinary failures. With --daemon it
 * sends SIGUSR1 to the running sendgate-policyd instead (pid from
 * policyd.pid_file), which then refreshes every provider in its thread.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/json.h"
#include "ctl/ctl.h"
#include "providers/refresh.h"
#include "providers/http.h"

/* signal_daemon - SIGUSR1 to the pid in policyd.pid_file */
static int signal_daemon(ctl *c)
{
    conf *cfg = ctl_config(c);
    const char *pf = cfg->policyd.pid_file;
    FILE *fp;
    long pid = 0;

    if (pf == NULL || *pf == '\0')
        return ctl_fail(EX_CONFIG, "policyd.pid_file is not set: cannot find sendgate-policyd");
    if ((fp = fopen(pf, "r")) == NULL)
        return ctl_fail(EX_UNAVAILABLE, "%s: %s (is sendgate-policyd running?)", pf,
                        strerror(errno));
    if (fscanf(fp, "%ld", &pid) != 1 || pid < 2)
        pid = 0;
    fclose(fp);
    if (pid == 0)
        return ctl_fail(EX_DATAERR, "%s: no process id in it", pf);
    if (kill((pid_t)pid, SIGUSR1) != 0)
        return ctl_fail(EX_UNAVAILABLE, "sendgate-policyd (pid %ld): %s", pid, strerror(errno));
    printf("sendgate-policyd (pid %ld) asked to refresh every provider now\n", pid);
    return 0;
}

/* result_exit - one provider's result as a sysexits code */
static int result_exit(int p, int r)
{
    switch (r) {
    case REFRESH_OK:
        return 0;
    case REFRESH_DEFERRED:
        return EX_TEMPFAIL;
    case REFRESH_DISABLED:
        return EX_CONFIG;
    default:
        return p == PROV_STATIC ? EX_DATAERR : EX_UNAVAILABLE;
    }
}

/* print_json - every provider's meta record after the refresh, and the report */
static void print_json(cache *ca, const char *report)
{
    cJSON *root = cJSON_CreateObject(), *meta = cJSON_AddObjectToObject(root, "meta");
    cache_meta m;

    for (int p = 0; p < PROV__COUNT; p++)
        if (cache_get_meta(ca, p, &m) == CACHE_OK)
            cJSON_AddItemToObject(meta, cache_provider_name(p), json_meta(&m));
    cJSON_AddStringToObject(root, "report", report);
    ctl_print_json(root);
}

static int cmd_refresh(ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
            {"force", no_argument, NULL, 'f'}, {"daemon", no_argument, NULL, 'd'}, {0}};
    unsigned flags = 0;
    bool daemon = false;
    buf report = BUF_INIT;
    int ch, p = -1, ex;
    cache *ca;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch == 'f')
            flags |= REFRESH_FORCE;
        else if (ch == 'd')
            daemon = true;
        else
            return ctl_usage("refresh");
    }
    if (optind < argc - 1 || (daemon && (optind < argc || flags)))
        return ctl_usage("refresh");
    if (optind == argc - 1 && (p = cache_provider_parse(argv[optind])) < 0)
        return ctl_fail(EX_USAGE, "unknown provider '%s' (static, jetemail, mailtrap)",
                        argv[optind]);
    if (daemon)
        return signal_daemon(c);
    if (!http_global_init())
        return ctl_fail(EX_SOFTWARE, "cannot initialise libcurl");
    ca = ctl_cache_flags(c, CACHE_RDWR, CACHE_RECOVER); /* a damaged cache is rebuilt */
    if (p >= 0) {
        buf why = BUF_INIT;
        int r = refresh_provider(c->cfg, ca, p, time(NULL), flags, &why);
        buf_printf(&report, "%s: %s: %s\n", cache_provider_name(p), refresh_result_name(r),
                   buf_cstr(&why));
        buf_free(&why);
        ex = result_exit(p, r);
    } else {
        ex = refresh_all(c->cfg, ca, time(NULL), flags, &report);
    }
    if (c->json)
        print_json(ca, buf_cstr(&report));
    else
        fputs(buf_cstr(&report), ex ? stderr : stdout);
    buf_free(&report);
    return ex;
}

CTL_COMMAND(refresh, "refresh", "[PROVIDER] [--force] [--daemon]",
            "refresh the cache from the providers now",
            "Runs the refresher once in this process, for every enabled provider or only\n"
            "PROVIDER (static, jetemail, mailtrap): one cache transaction per provider; a\n"
            "failure changes no data and is recorded (sendgatectl cache dump shows meta).\n"
            "No request is sent before a provider's next_attempt (Retry-After, lockout,\n"
            "backoff), so a refresh may be deferred (exit 75). --force skips the backoff\n"
            "after ordinary failures, never a provider's rate-limit wait.\n"
            "--daemon asks the running sendgate-policyd to refresh instead (SIGUSR1 to the\n"
            "pid in policyd.pid_file).\n"
            "Exit: 0 refreshed, 75 deferred, 69 a provider failed, 65 the static file has\n"
            "errors, 78 not enabled.\n"
            "Example: sendgatectl refresh jetemail",
            cmd_refresh);
