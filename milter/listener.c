/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * listener.c - open libmilter's socket (see listener.h)
 *
 * TCP_NODELAY: libmilter writes each end-of-message action as its own
 * small packet and has no option for TCP_NODELAY, so over an inet:
 * socket Nagle's algorithm and the MTA's delayed ACK cost about 40 ms per
 * message (POSTFIX-HARNESS.md P1). Linux copies the option from a
 * listening socket to the sockets accept() returns, so setting it once
 * on libmilter's listener covers every connection. libmilter does not
 * expose that descriptor: after smfi_opensocket, the process's
 * descriptors are searched for the listening TCP socket on our port.
 */
#include "milter/listener.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "lib/endpoint.h"
#include "lib/log.h"
#include "milter/callbacks.h"

/* listener_nodelay_all - TCP_NODELAY on every listening TCP socket of ours on port; count */
int listener_nodelay_all(int port)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int n = 0;

    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = atoi(de->d_name), listening = 0;
        socklen_t ol = sizeof(listening);
        int p;

        if (de->d_name[0] == '.' || fd == dirfd(d))
            continue;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ol) < 0 || !listening ||
            getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
            continue;
        if (ss.ss_family == AF_INET)
            p = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            p = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        else
            continue;
        if (p == port && endpoint_set_nodelay(fd))
            n++;
    }
    closedir(d);
    return n;
}

/* listener_unix_prepare - refuse a live socket, remove a stale one */
static int listener_unix_prepare(const char *path, char *err, size_t errlen)
{
    switch (endpoint_unix_state(path)) {
    case EP_UNIX_LIVE:
        snprintf(err, errlen, "%s: another milter is listening on this socket", path);
        return EX_UNAVAILABLE;
    case EP_UNIX_STALE:
        if (unlink(path) < 0) {
            snprintf(err, errlen, "remove stale socket %s: %s", path, strerror(errno));
            return EX_CANTCREAT;
        }
        log_notice("removed stale socket %s", path);
        return 0;
    case EP_UNIX_OTHER:
        snprintf(err, errlen, "%s exists and is not a stale socket; not removing it", path);
        return EX_CANTCREAT;
    default:
        return 0;
    }
}

/* listener_unix_finish - the configured mode and group on the new socket */
static int listener_unix_finish(const conf *cfg, const char *path, char *err, size_t errlen)
{
    gid_t gid = (gid_t)-1;

    if (*cfg->milter.socket_group) {
        struct group *gr = getgrnam(cfg->milter.socket_group);
        if (gr == NULL) {
            snprintf(err, errlen, "milter.socket_group: no such group '%s'",
                     cfg->milter.socket_group);
            return EX_CONFIG;
        }
        gid = gr->gr_gid;
    }
    if ((gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) ||
        chmod(path, cfg->milter.socket_mode) < 0) {
        int e = errno;
        snprintf(err, errlen, "set group/mode of %s: %s%s", path, strerror(e),
                 e == EPERM ? " (milter.socket_group: leave it empty, the daemon's own group)"
                            : "");
        return e == EPERM ? EX_CONFIG : EX_NOPERM; /* EPERM: a restart cannot fix it */
    }
    return 0;
}

/* listener_open - register with libmilter and open the socket; 0 or a sysexits code */
int listener_open(const conf *cfg, char *err, size_t errlen)
{
    endpoint ep;
    char why[ERRBUF_MAX] = "";
    char spec[512];
    mode_t old;
    int rc;

    if (!endpoint_parse(cfg->milter.socket, &ep, why, sizeof(why)) ||
        !endpoint_milter_spec(&ep, spec, sizeof(spec))) {
        snprintf(err, errlen, "milter.socket = %s: %s", cfg->milter.socket, why);
        return EX_CONFIG;
    }
    if (ep.kind == EP_UNIX && (rc = listener_unix_prepare(ep.path, err, errlen)) != 0)
        return rc;
    if (smfi_setconn(spec) != MI_SUCCESS || smfi_register(milter_desc) != MI_SUCCESS ||
        smfi_settimeout((int)cfg->milter.connection_timeout) != MI_SUCCESS) {
        snprintf(err, errlen, "libmilter refused the socket %s", spec);
        return EX_SOFTWARE;
    }
    old = umask(0177); /* the socket is never open to others, even before chmod */
    rc = smfi_opensocket(false);
    umask(old);
    if (rc != MI_SUCCESS) {
        snprintf(err, errlen,
                 "cannot open milter socket %s (in use, or no permission on "
                 "its directory?)",
                 spec);
        return EX_UNAVAILABLE;
    }
    if (ep.kind == EP_UNIX)
        return listener_unix_finish(cfg, ep.path, err, errlen);
    if (listener_nodelay_all(ep.port) == 0)
        log_warn("could not set TCP_NODELAY on the milter listener; expect ~40 ms per message "
                 "over inet: (prefer a unix: socket)");
    return 0;
}

/* listener_close - remove our unix socket at exit */
void listener_close(const conf *cfg)
{
    endpoint ep;

    if (endpoint_parse(cfg->milter.socket, &ep, NULL, 0) && ep.kind == EP_UNIX)
        unlink(ep.path);
}
