/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_files.c - sendgatectl check-config: the daemons' own loaders on the files they need
 *
 * See check_files.h. The loaders are called, never imitated: a rule added
 * to lib/token.c or lib/tlsfile.c reaches check-config without a change
 * here.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl/check_files.h"
#include "lib/endpoint.h"
#include "lib/rfile.h"
#include "lib/token.h"
#include "providers/static.h"
#include "lib/tlsfile.h"

#define FILES_ERR_MAX (PATH_MAX * 2 + 512)

/* files_key_files - every key file into one set, as the daemons load them */
static void files_key_files(const conf *c, conf_report *r)
{
    const conf_list *l = &c->tracking.key_files;
    token_keys *k = token_keys_new();
    char err[FILES_ERR_MAX];

    if (k == NULL)
        return;
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i][0] == '/' && !token_keys_add_file(k, l->v[i], err, sizeof(err)))
            conf_report_add(r, true, c, CK_tracking_key_files, "%s", err);
    token_keys_free(k);
    if (l->n == 0 && *c->tracking.default_host)
        conf_report_add(r, false, c, CK_tracking_default_host,
                        "tracking.key_files is empty: the milter signs no links and "
                        "sendgate-trackd will not start; fix: sendgatectl token genkey "
                        "%s/k1.key, then key_files = %s/k1.key",
                        SG_CONFDIR, SG_CONFDIR);
}

/* files_tls - trackd's certificate and key, as sendgate-trackd loads them */
static void files_tls(const conf *c, conf_report *r)
{
    const struct conf_trackd *t = &c->trackd;
    char err[FILES_ERR_MAX];
    tlsfile tls;
    int rc;

    if (*t->tls_cert_file == '\0' || *t->tls_key_file == '\0')
        return; /* one without the other: conf_check_trackd reported it */
    rc = tlsfile_load(t->tls_cert_file, t->tls_key_file, &tls, err, sizeof(err));
    if (rc != TLSFILE_OK)
        conf_report_add(r, true, c,
                        rc == TLSFILE_CERT ? CK_trackd_tls_cert_file : CK_trackd_tls_key_file, "%s",
                        err);
    tlsfile_free(&tls);
}

/* files_static - the static domains file, as the refresher parses it */
static void files_static(const conf *c, conf_report *r)
{
    static_domains *s;

    if (!c->static_.enabled || *c->static_.file == '\0')
        return;
    if ((s = static_parse(c->static_.file, (int64_t)time(NULL), r)) != NULL)
        static_free(s);
}

/* files_kind - path, when it exists, is of type want (a path the daemon creates) */
static void files_kind(const conf *c, conf_report *r, int key, const char *path, unsigned want,
                       const char *what)
{
    char err[FILES_ERR_MAX];

    if (path[0] == '/' && !rfile_check_kind(path, want, what, err, sizeof(err)))
        conf_report_add(r, true, c, key, "%s", err);
}

/* files_socket - a unix socket endpoint: the daemon replaces a socket, nothing else */
static void files_socket(const conf *c, conf_report *r, int key, const char *spec)
{
    endpoint ep;

    if (*spec && endpoint_parse(spec, &ep, NULL, 0) && ep.kind == EP_UNIX)
        files_kind(c, r, key, ep.path, S_IFSOCK, "listening socket");
}

/* files_events - trackd appends to it: a file, a FIFO or a device, never a directory */
static void files_events(const conf *c, conf_report *r)
{
    const char *path = c->trackd.events_file;
    char err[FILES_ERR_MAX];
    struct stat st;

    if (path[0] != '/' || stat(path, &st) < 0 || !(S_ISDIR(st.st_mode) || S_ISSOCK(st.st_mode)))
        return;
    snprintf(err, sizeof(err),
             "%s is a %s; sendgate-trackd appends events to a file; fix: name "
             "a file, e.g. %s/events.json",
             path, rfile_type_name(st.st_mode), S_ISDIR(st.st_mode) ? path : "/var/log/sendgate");
    conf_report_add(r, true, c, CK_trackd_events_file, "%s", err);
}

/* files_paths - what the daemons create or write */
static void files_paths(const conf *c, conf_report *r)
{
    files_kind(c, r, CK_general_cache_path, c->general.cache_path, S_IFDIR,
               "provider cache (an LMDB environment)");
    files_kind(c, r, CK_trackd_stats_path, c->trackd.stats_path, S_IFDIR,
               "statistics store (an LMDB environment)");
    files_kind(c, r, CK_milter_pid_file, c->milter.pid_file, S_IFREG, "pid file");
    files_kind(c, r, CK_policyd_pid_file, c->policyd.pid_file, S_IFREG, "pid file");
    files_kind(c, r, CK_trackd_pid_file, c->trackd.pid_file, S_IFREG, "pid file");
    files_kind(c, r, CK_milter_temp_dir, c->milter.temp_dir, S_IFDIR,
               "directory for spilled bodies");
    files_socket(c, r, CK_milter_socket, c->milter.socket);
    files_socket(c, r, CK_policyd_policy_socket, c->policyd.policy_socket);
    files_socket(c, r, CK_policyd_socketmap_socket, c->policyd.socketmap_socket);
    files_events(c, r);
}

/* check_files - every check of check_files.h; returns the number of errors added */
int check_files(const conf *c, conf_report *r)
{
    int before = r->errors;

    files_key_files(c, r);
    files_tls(c, r);
    files_static(c, r);
    files_paths(c, r);
    return r->errors - before;
}
