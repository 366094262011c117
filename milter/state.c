/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * state.c - the running configuration and the cache handle (see state.h)
 */
#include "milter/state.h"

#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache/verdict.h"
#include "lib/log.h"
#include "milter/tracking.h"

static pthread_mutex_t state_cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static milter_config *state_current;
static cache *state_cache_handle;

/* user_name - the user this process runs as, for messages */
static const char *user_name(void)
{
    struct passwd *pw = getpwuid(geteuid());

    return pw ? pw->pw_name : "?";
}

/* key_fix - the command that makes the first unusable key file usable */
static void key_fix(const conf *cfg, char *fix, size_t len)
{
    struct group *gr = getgrgid(getegid());

    for (size_t i = 0; i < cfg->tracking.key_files.n; i++) {
        const char *f = cfg->tracking.key_files.v[i];
        if (access(f, F_OK) != 0) {
            snprintf(fix, len, "sendgatectl token genkey %s", f);
            return;
        }
        if (access(f, R_OK) != 0) {
            snprintf(fix, len, "chgrp %s %s && chmod 0640 %s", gr ? gr->gr_name : "sendgate", f, f);
            return;
        }
    }
    snprintf(fix, len, "sendgatectl check-config names the command");
}

/* state_config_build - a configuration bundle from a loaded conf (consumes cfg) */
milter_config *state_config_build(conf *cfg, char *err, size_t errlen)
{
    milter_config *mc = calloc(1, sizeof(*mc));

    if (mc == NULL) {
        conf_unref(cfg);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    mc->cfg = cfg;
    mc->refcnt = 1;
    if (!netlist_parse(&mc->internal, &cfg->milter.internal_networks, 0, err, errlen)) {
        state_config_put(mc);
        return NULL;
    }
    if (cfg->tracking.key_files.n == 0 && *cfg->tracking.default_host) {
        snprintf(err, errlen,
                 "tracking.default_host = %s, but tracking.key_files is empty: links cannot be "
                 "signed; fix: sendgatectl token genkey %s/token-1.key and list it in "
                 "tracking.key_files, or empty tracking.default_host to turn tracking off",
                 cfg->tracking.default_host, SG_CONFDIR);
        state_config_put(mc);
        return NULL;
    } else if (cfg->tracking.key_files.n == 0) {
        /* tracking is off: mail goes out unchanged, as the operator chose */
        log_info("tracking is off (tracking.key_files is empty)");
    } else if ((mc->tracking = tracking_state_new(cfg, err, errlen)) == NULL) {
        /* configured but unusable: refuse, rather than send tracked domains' mail untracked */
        char why[400], fix[300];
        int n;
        snprintf(why, sizeof(why), "%s", err);
        char *generic = strstr(why, "; fix: "); /* the loader's general advice: ours is exact */
        if (generic)
            *generic = '\0';
        key_fix(cfg, fix, sizeof(fix));
        n = snprintf(err, errlen,
                     "tracking.key_files: %s; the milter (user %s) must read every key file to "
                     "sign links; fix: %s, or empty tracking.key_files to send mail untracked",
                     why, user_name(), fix);
        if (n < 0 || (size_t)n >= errlen) /* very long paths: say at least what to run */
            snprintf(err, errlen, "tracking.key_files: cannot load the keys; fix: %s", fix);
        state_config_put(mc);
        return NULL;
    }
    err[0] = '\0';
    return mc;
}

/* state_config_install - mc (and its reference) becomes the running configuration */
void state_config_install(milter_config *mc)
{
    milter_config *old;

    pthread_mutex_lock(&state_cfg_lock);
    old = state_current;
    state_current = mc;
    pthread_mutex_unlock(&state_cfg_lock);
    if (old)
        state_config_put(old);
}

/* state_config_get - a reference on the running configuration */
milter_config *state_config_get(void)
{
    milter_config *mc;

    pthread_mutex_lock(&state_cfg_lock);
    mc = state_current;
    mc->refcnt++;
    pthread_mutex_unlock(&state_cfg_lock);
    return mc;
}

/* state_config_put - drop a reference; the last one frees the bundle */
void state_config_put(milter_config *mc)
{
    bool last;

    pthread_mutex_lock(&state_cfg_lock);
    last = --mc->refcnt == 0;
    pthread_mutex_unlock(&state_cfg_lock);
    if (!last)
        return;
    netlist_free(&mc->internal);
    tracking_state_free(mc->tracking);
    conf_unref(mc->cfg);
    free(mc);
}

/* state_cache - the process's cache handle, opened on first use (see state.h) */
cache *state_cache(void)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static time_t last_try;
    cache *c;

    pthread_mutex_lock(&lock);
    if (state_cache_handle == NULL && time(NULL) - last_try >= 10) {
        milter_config *mc = state_config_get();
        cache_opts o = cache_opts_from_conf(mc->cfg, CACHE_RETRY);
        char err[512] = "";
        last_try = time(NULL);
        state_cache_handle =
                cache_open(mc->cfg->general.cache_path, CACHE_RDONLY, &o, err, sizeof(err));
        if (state_cache_handle == NULL || *err)
            log_err("%s; handling.cache_error applies until it can be opened",
                    *err ? err : "out of memory");
        else
            log_info("cache %s opened", mc->cfg->general.cache_path);
        if (state_cache_handle)
            cache_set_required(state_cache_handle, verdict_required(mc->cfg));
        state_config_put(mc);
    }
    c = state_cache_handle;
    pthread_mutex_unlock(&lock);
    return c;
}

/* state_end - at exit: the cache closed, the running configuration dropped */
void state_end(void)
{
    if (state_cache_handle)
        cache_close(state_cache_handle);
    state_cache_handle = NULL;
    if (state_current)
        state_config_put(state_current);
    state_current = NULL;
}
