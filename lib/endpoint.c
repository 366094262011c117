/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * endpoint.c - parse, listen on and connect to socket endpoints (see endpoint.h)
 */
#include "lib/endpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* endpoint_parse_port - decimal 1..65535 */
static bool endpoint_parse_port(const char *s, int *port)
{
    char *end;
    long v;

    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < 1 || v > 65535)
        return false;
    *port = (int)v;
    return true;
}

/* endpoint_parse_inet - "host:port", "[addr]:port" or "port@host" */
static bool endpoint_parse_inet(const char *rest, endpoint *ep, char *err, size_t errlen)
{
    const char *at = strchr(rest, '@'), *colon;
    char portbuf[16];
    size_t hl;

    if (at) { /* libmilter's port@host */
        hl = strlen(at + 1);
        if ((size_t)(at - rest) >= sizeof(portbuf) || hl >= sizeof(ep->host))
            goto bad;
        memcpy(portbuf, rest, (size_t)(at - rest));
        portbuf[at - rest] = '\0';
        memcpy(ep->host, at + 1, hl + 1);
    } else if (rest[0] == '[') {
        const char *close = strchr(rest, ']');
        if (close == NULL || close[1] != ':')
            goto bad;
        hl = (size_t)(close - rest - 1);
        if (hl >= sizeof(ep->host) || strlen(close + 2) >= sizeof(portbuf))
            goto bad;
        memcpy(ep->host, rest + 1, hl);
        ep->host[hl] = '\0';
        strcpy(portbuf, close + 2);
    } else {
        if ((colon = strrchr(rest, ':')) == NULL)
            goto bad;
        hl = (size_t)(colon - rest);
        if (hl >= sizeof(ep->host) || strlen(colon + 1) >= sizeof(portbuf))
            goto bad;
        if (ep->kind == EP_INET && memchr(rest, ':', hl))
            return errbuf_set(err, errlen,
                              "IPv6 address in inet: endpoint (use inet6:[addr]:port)");
        memcpy(ep->host, rest, hl);
        ep->host[hl] = '\0';
        strcpy(portbuf, colon + 1);
    }
    if (strcmp(ep->host, "*") == 0)
        ep->host[0] = '\0';
    if (!endpoint_parse_port(portbuf, &ep->port))
        return errbuf_set(err, errlen, "port must be a number from 1 to 65535");
    return true;
bad:
    return errbuf_copy(err, errlen,
                       ep->kind == EP_INET6 ? "expected inet6:[address]:port"
                                            : "expected inet:host:port");
}

/* endpoint_parse - parse a socket specification; err says what is wrong */
bool endpoint_parse(const char *spec, endpoint *ep, char *err, size_t errlen)
{
    memset(ep, 0, sizeof(*ep));
    if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
        const char *p = strchr(spec, ':') + 1;
        ep->kind = EP_UNIX;
        if (p[0] != '/')
            return errbuf_set(err, errlen, "unix socket path must be absolute");
        if (strlen(p) >= sizeof(ep->path))
            return errbuf_set(err, errlen, "unix socket path longer than 107 characters");
        strcpy(ep->path, p);
        return true;
    }
    if (strncmp(spec, "inet:", 5) == 0) {
        ep->kind = EP_INET;
        return endpoint_parse_inet(spec + 5, ep, err, errlen);
    }
    if (strncmp(spec, "inet6:", 6) == 0) {
        ep->kind = EP_INET6;
        return endpoint_parse_inet(spec + 6, ep, err, errlen);
    }
    return errbuf_set(err, errlen, "endpoint must start with unix:, inet: or inet6:");
}

/* endpoint_format - canonical text form, for logs */
void endpoint_format(const endpoint *ep, char *out, size_t len)
{
    if (ep->kind == EP_UNIX)
        snprintf(out, len, "unix:%s", ep->path);
    else if (ep->kind == EP_INET)
        snprintf(out, len, "inet:%s:%d", ep->host[0] ? ep->host : "*", ep->port);
    else
        snprintf(out, len, "inet6:[%s]:%d", ep->host[0] ? ep->host : "::", ep->port);
}

/* endpoint_milter_spec - the form smfi_setconn() understands */
bool endpoint_milter_spec(const endpoint *ep, char *out, size_t len)
{
    int n;

    if (ep->kind == EP_UNIX)
        n = snprintf(out, len, "unix:%s", ep->path);
    else if (ep->kind == EP_INET)
        n = snprintf(out, len, "inet:%d@%s", ep->port, ep->host[0] ? ep->host : "0.0.0.0");
    else
        n = snprintf(out, len, "inet6:%d@%s", ep->port, ep->host[0] ? ep->host : "::");
    return n > 0 && (size_t)n < len;
}

/* endpoint_unix_state - is there a live listener at path? */
int endpoint_unix_state(const char *path)
{
    struct sockaddr_un sun;
    struct stat st;
    int fd, rc, saved;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? EP_UNIX_ABSENT : EP_UNIX_OTHER;
    if (!S_ISSOCK(st.st_mode))
        return EP_UNIX_OTHER;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return EP_UNIX_OTHER;
    rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
    saved = errno;
    close(fd);
    if (rc == 0)
        return EP_UNIX_LIVE;
    return saved == ECONNREFUSED ? EP_UNIX_STALE : EP_UNIX_OTHER;
}

/* endpoint_listen_unix - remove a stale socket, bind, set mode and group */
static int endpoint_listen_unix(const endpoint *ep, int backlog, unsigned mode, const char *group,
                                char *err, size_t errlen)
{
    struct sockaddr_un sun;
    mode_t old;
    gid_t gid = (gid_t)-1;
    int fd;

    if (group && *group) {
        struct group *gr = getgrnam(group);
        if (gr == NULL) {
            snprintf(err, errlen, "unknown group '%s' for socket %s", group, ep->path);
            return -1;
        }
        gid = gr->gr_gid;
    }
    switch (endpoint_unix_state(ep->path)) {
    case EP_UNIX_LIVE:
        snprintf(err, errlen, "%s: another process is listening on this socket", ep->path);
        return -1;
    case EP_UNIX_STALE:
        if (unlink(ep->path) < 0) {
            snprintf(err, errlen, "remove stale socket %s: %s", ep->path, strerror(errno));
            return -1;
        }
        break;
    case EP_UNIX_OTHER:
        snprintf(err, errlen, "%s exists and is not a stale socket; not removing it", ep->path);
        return -1;
    default:
        break;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", ep->path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    old = umask(0177); /* never world-accessible, even for an instant */
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        umask(old);
        snprintf(err, errlen, "bind %s: %s", ep->path, strerror(errno));
        close(fd);
        return -1;
    }
    umask(old);
    if ((gid != (gid_t)-1 && chown(ep->path, (uid_t)-1, gid) < 0) || chmod(ep->path, mode) < 0) {
        snprintf(err, errlen, "set owner/mode of %s: %s", ep->path, strerror(errno));
        close(fd);
        unlink(ep->path);
        return -1;
    }
    if (listen(fd, backlog) < 0) {
        snprintf(err, errlen, "listen %s: %s", ep->path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* endpoint_resolve - the addresses of an inet endpoint (free them); NULL after saying why */
static struct addrinfo *endpoint_resolve(const endpoint *ep, int flags, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    char port[16];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = ep->kind == EP_INET6 ? AF_INET6 : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = flags;
    snprintf(port, sizeof(port), "%d", ep->port);
    rc = getaddrinfo(ep->host[0] ? ep->host : NULL, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "resolve %s: %s", ep->host, gai_strerror(rc));
        return NULL;
    }
    return res;
}

/* endpoint_listen_inet - bind the first address the name resolves to */
static int endpoint_listen_inet(const endpoint *ep, int backlog, char *err, size_t errlen)
{
    struct addrinfo *res = endpoint_resolve(ep, AI_PASSIVE, err, errlen);
    int fd, one = 1;

    if (res == NULL)
        return -1;
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (res->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
        char spec[300];
        endpoint_format(ep, spec, sizeof(spec));
        snprintf(err, errlen, "bind %s: %s", spec, strerror(errno));
        close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* endpoint_listen - a listening socket for ep (mode and group apply to unix sockets) */
int endpoint_listen(const endpoint *ep, int backlog, unsigned mode, const char *group, char *err,
                    size_t errlen)
{
    if (ep->kind == EP_UNIX)
        return endpoint_listen_unix(ep, backlog, mode, group, err, errlen);
    return endpoint_listen_inet(ep, backlog, err, errlen);
}

/* endpoint_set_nodelay - TCP_NODELAY; on Linux accepted sockets inherit it from the listener */
bool endpoint_set_nodelay(int fd)
{
    int one = 1;

    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0;
}

/* endpoint_connect - blocking connect with a timeout; returns fd or -1 */
int endpoint_connect(const endpoint *ep, int timeout_ms, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    struct addrinfo *res;
    struct pollfd pfd;
    int fd, rc, soerr = 0;
    socklen_t el = sizeof(soerr);

    memset(&ss, 0, sizeof(ss));
    if (ep->kind == EP_UNIX) {
        struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
        sun->sun_family = AF_UNIX;
        snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", ep->path);
        sl = sizeof(*sun);
    } else {
        if ((res = endpoint_resolve(ep, 0, err, errlen)) == NULL)
            return -1;
        memcpy(&ss, res->ai_addr, res->ai_addrlen);
        sl = res->ai_addrlen;
        freeaddrinfo(res);
    }
    if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    rc = connect(fd, (struct sockaddr *)&ss, sl);
    if (rc < 0 && errno == EINPROGRESS) {
        pfd.fd = fd;
        pfd.events = POLLOUT;
        rc = poll(&pfd, 1, timeout_ms);
        if (rc == 0) {
            errno = ETIMEDOUT;
            rc = -1;
        } else if (rc > 0) {
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el);
            errno = soerr;
            rc = soerr ? -1 : 0;
        }
    }
    if (rc < 0) {
        snprintf(err, errlen, "connect: %s", strerror(errno));
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}
