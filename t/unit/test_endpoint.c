/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_endpoint.c - socket endpoints (lib/endpoint.c)
 *
 * Every spelling Postfix and libmilter operators write, the mistakes they
 * make (with the reason shown to them), and the sockets themselves: a unix
 * socket gets its mode and group, a stale socket left by a crash is
 * replaced, a live one or a regular file is never touched; TCP listeners
 * on loopback; the smfi_setconn() form for libmilter.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/endpoint.h"
#include "t/lib/tap.h"

static char tmpdir[] = "/tmp/sgtest-endpoint.XXXXXX";

static bool parse(const char *spec, endpoint *ep, char why[ERRBUF_MAX])
{
    why[0] = '\0';
    return endpoint_parse(spec, ep, why, ERRBUF_MAX);
}

static void test_parse_good(void)
{
    endpoint ep;
    char why[ERRBUF_MAX] = "";

    tap_ok(parse("unix:/run/sendgate/milter.sock", &ep, why) && ep.kind == EP_UNIX &&
                   !strcmp(ep.path, "/run/sendgate/milter.sock"),
           "unix:/path");
    tap_ok(parse("local:/var/spool/postfix/sendgate/m", &ep, why) && ep.kind == EP_UNIX &&
                   !strcmp(ep.path, "/var/spool/postfix/sendgate/m"),
           "local:/path (libmilter's spelling)");
    tap_ok(parse("inet:127.0.0.1:8891", &ep, why) && ep.kind == EP_INET &&
                   !strcmp(ep.host, "127.0.0.1") && ep.port == 8891,
           "inet:host:port");
    tap_ok(parse("inet:localhost:10031", &ep, why) && !strcmp(ep.host, "localhost") &&
                   ep.port == 10031,
           "inet:name:port");
    tap_ok(parse("inet:8891@127.0.0.1", &ep, why) && ep.kind == EP_INET &&
                   !strcmp(ep.host, "127.0.0.1") && ep.port == 8891,
           "inet:port@host (libmilter style)");
    tap_ok(parse("inet:*:25", &ep, why) && ep.host[0] == '\0' && ep.port == 25,
           "inet:*:port means any address");
    tap_ok(parse("inet:65535@*", &ep, why) && ep.host[0] == '\0' && ep.port == 65535,
           "inet:port@* and the highest port");
    tap_ok(parse("inet6:[::1]:8891", &ep, why) && ep.kind == EP_INET6 && !strcmp(ep.host, "::1") &&
                   ep.port == 8891,
           "inet6:[addr]:port");
    tap_ok(parse("inet6:8891@::1", &ep, why) && ep.kind == EP_INET6 && !strcmp(ep.host, "::1") &&
                   ep.port == 8891,
           "inet6:port@addr");
    tap_ok(parse("inet6:[2001:db8::25]:1", &ep, why) && !strcmp(ep.host, "2001:db8::25") &&
                   ep.port == 1,
           "inet6 with a long address and port 1");
    tap_ok(parse("inet6:[*]:8891", &ep, why) && ep.host[0] == '\0', "inet6:[*]:port is any");
}

static void test_parse_bad(void)
{
    static const char *const bad[][2] = {
            {"", "must start with"},
            {"/run/x.sock", "must start with"},
            {"tcp:127.0.0.1:25", "must start with"},
            {"unix:relative.sock", "absolute"},
            {"unix:", "absolute"},
            {"inet:127.0.0.1", "expected inet:host:port"},
            {"inet:127.0.0.1:", "port"},
            {"inet:127.0.0.1:0", "port"},
            {"inet:127.0.0.1:65536", "port"},
            {"inet:127.0.0.1:-1", "port"},
            {"inet:127.0.0.1:25x", "port"},
            {"inet:127.0.0.1: 25", "port"},
            {"inet:x@127.0.0.1", "port"},
            {"inet:::1:25", "inet6"},
            {"inet6:[::1]", "expected inet6"},
            {"inet6:[::1:25", "expected inet6"},
            {"inet6:[::1]25", "expected inet6"},
            {"inet6:[::1]:99999", "port"},
    };
    endpoint ep;
    char why[ERRBUF_MAX] = "";
    char longpath[200];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bool ok = parse(bad[i][0], &ep, why);
        tap_ok(!ok && strstr(why, bad[i][1]), "'%s' refused: %s", bad[i][0],
               *why ? why : "(accepted)");
    }
    memset(longpath, 'a', sizeof(longpath));
    memcpy(longpath, "unix:/", 6);
    longpath[5 + 108] = '\0'; /* a 108-octet path */
    tap_ok(!parse(longpath, &ep, why) && strstr(why, "107"), "unix path too long: %s", why);
    longpath[5 + 107] = '\0';
    tap_ok(parse(longpath, &ep, why), "a 107-octet path fits sun_path");
    tap_ok(!endpoint_parse("inet:1", &ep, NULL, 0), "a NULL err is allowed");
}

static void test_format(void)
{
    endpoint ep;
    char why[ERRBUF_MAX] = "";
    char out[400];

    parse("inet:8891@127.0.0.1", &ep, why);
    endpoint_format(&ep, out, sizeof(out));
    tap_is_str(out, "inet:127.0.0.1:8891", "format: canonical inet");
    parse("inet:*:25", &ep, why);
    endpoint_format(&ep, out, sizeof(out));
    tap_is_str(out, "inet:*:25", "format: any address");
    parse("inet6:8891@::1", &ep, why);
    endpoint_format(&ep, out, sizeof(out));
    tap_is_str(out, "inet6:[::1]:8891", "format: inet6");
    parse("local:/run/m.sock", &ep, why);
    endpoint_format(&ep, out, sizeof(out));
    tap_is_str(out, "unix:/run/m.sock", "format: local: becomes unix:");

    tap_ok(endpoint_milter_spec(&ep, out, sizeof(out)), "milter spec of a unix socket");
    tap_is_str(out, "unix:/run/m.sock", "libmilter: unix:/path");
    parse("inet:127.0.0.1:8891", &ep, why);
    endpoint_milter_spec(&ep, out, sizeof(out));
    tap_is_str(out, "inet:8891@127.0.0.1", "libmilter: inet:port@host");
    parse("inet:*:8891", &ep, why);
    endpoint_milter_spec(&ep, out, sizeof(out));
    tap_is_str(out, "inet:8891@0.0.0.0", "libmilter: any address spelled out");
    parse("inet6:[::1]:8891", &ep, why);
    endpoint_milter_spec(&ep, out, sizeof(out));
    tap_is_str(out, "inet6:8891@::1", "libmilter: inet6:port@addr");
    parse("inet6:[*]:8891", &ep, why);
    endpoint_milter_spec(&ep, out, sizeof(out));
    tap_is_str(out, "inet6:8891@::", "libmilter: any IPv6 address");
    tap_ok(!endpoint_milter_spec(&ep, out, 5), "milter spec that does not fit is refused");
}

/* unix_ep - endpoint for tmpdir/name */
static endpoint unix_ep(const char *name)
{
    endpoint ep;
    char spec[200];
    char why[ERRBUF_MAX] = "";

    snprintf(spec, sizeof(spec), "unix:%s/%s", tmpdir, name);
    parse(spec, &ep, why);
    return ep;
}

/* roundtrip - connect to ep, accept on lfd, send a byte across */
static bool roundtrip(int lfd, const endpoint *ep)
{
    char err[256], c = 0;
    int cfd = endpoint_connect(ep, 2000, err, sizeof(err)), afd;
    bool ok;

    if (cfd < 0) {
        tap_diag("connect: %s", err);
        return false;
    }
    afd = accept(lfd, NULL, NULL);
    ok = afd >= 0 && write(cfd, "x", 1) == 1 && read(afd, &c, 1) == 1 && c == 'x';
    if (afd >= 0)
        close(afd);
    close(cfd);
    return ok;
}

/* accepted_nodelay - does a connection accepted on lfd have TCP_NODELAY (inherited)? */
static bool accepted_nodelay(int lfd, const endpoint *ep)
{
    char err[256];
    int cfd = endpoint_connect(ep, 2000, err, sizeof(err)), afd, on = 0;
    socklen_t len = sizeof(on);

    if (cfd < 0)
        return false;
    afd = accept(lfd, NULL, NULL);
    bool ok = afd >= 0 && getsockopt(afd, IPPROTO_TCP, TCP_NODELAY, &on, &len) == 0 && on != 0;
    if (afd >= 0)
        close(afd);
    close(cfd);
    return ok;
}

/* test_group - a group the socket can be given: another one when root */
static const char *test_group(void)
{
    static char name[256];
    struct group *gr;

    if (geteuid() == 0) { /* root may give the socket any group: pick another one */
        setgrent();
        while ((gr = getgrent()) != NULL && gr->gr_gid == getegid())
            ;
        if (gr)
            snprintf(name, sizeof(name), "%s", gr->gr_name);
        endgrent();
        if (gr)
            return name;
    }
    gr = getgrgid(getegid());
    if (gr)
        snprintf(name, sizeof(name), "%s", gr->gr_name);
    return gr ? name : NULL;
}

static void test_unix(void)
{
    endpoint ep = unix_ep("m.sock"), ep2;
    char err[256];
    struct stat st;
    int fd, fd2, stale;
    const char *group = test_group();
    struct group *gr = group ? getgrnam(group) : NULL;
    struct sockaddr_un sun;

    tap_is_int(endpoint_unix_state(ep.path), EP_UNIX_ABSENT, "no socket yet");
    fd = endpoint_listen(&ep, 16, 0660, group, err, sizeof(err));
    tap_ok(fd >= 0, "listen on a unix socket (group %s): %s", group, fd < 0 ? err : "ok");
    tap_ok(stat(ep.path, &st) == 0 && S_ISSOCK(st.st_mode), "the socket exists");
    tap_is_int(st.st_mode & 07777, 0660, "mode 0660 applied");
    tap_ok(gr && st.st_gid == gr->gr_gid, "group %s applied", group);
    tap_ok(roundtrip(fd, &ep), "connect and exchange a byte");
    tap_is_int(endpoint_unix_state(ep.path), EP_UNIX_LIVE, "state: live");
    close(accept(fd, NULL, NULL)); /* the probe's connection */

    fd2 = endpoint_listen(&ep, 16, 0660, NULL, err, sizeof(err));
    tap_ok(fd2 < 0 && strstr(err, "another process is listening"), "a live socket is refused: %s",
           err);
    close(accept(fd, NULL, NULL)); /* the liveness probe's connection */
    tap_ok(roundtrip(fd, &ep), "and the live listener still works");
    close(fd);

    /* a stale socket: bound, then its listener died without unlinking */
    ep2 = unix_ep("stale.sock");
    stale = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", ep2.path);
    tap_ok(bind(stale, (struct sockaddr *)&sun, sizeof(sun)) == 0, "stale socket file made");
    close(stale);
    tap_is_int(endpoint_unix_state(ep2.path), EP_UNIX_STALE, "state: stale");
    fd = endpoint_listen(&ep2, 16, 0600, NULL, err, sizeof(err));
    tap_ok(fd >= 0, "a stale socket is replaced: %s", fd < 0 ? err : "ok");
    tap_ok(stat(ep2.path, &st) == 0 && (st.st_mode & 07777) == 0600, "mode 0600 applied");
    tap_ok(roundtrip(fd, &ep2), "the new listener answers");
    close(fd);

    /* a regular file where the socket should go is never removed */
    ep2 = unix_ep("regular");
    fd2 = open(ep2.path, O_CREAT | O_WRONLY, 0644);
    tap_ok(write(fd2, "keep", 4) == 4, "regular file written");
    close(fd2);
    tap_is_int(endpoint_unix_state(ep2.path), EP_UNIX_OTHER, "state of a regular file: other");
    fd = endpoint_listen(&ep2, 16, 0660, NULL, err, sizeof(err));
    tap_ok(fd < 0 && strstr(err, "not removing"), "a regular file is refused: %s", err);
    tap_ok(stat(ep2.path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 4, "and left in place");

    ep2 = unix_ep("g.sock");
    fd = endpoint_listen(&ep2, 16, 0660, "no-such-group-sendgate", err, sizeof(err));
    tap_ok(fd < 0 && strstr(err, "unknown group"), "unknown group refused: %s", err);
    tap_is_int(endpoint_unix_state(ep2.path), EP_UNIX_ABSENT, "and nothing was created");

    ep2 = unix_ep("nodir/x.sock");
    fd = endpoint_listen(&ep2, 16, 0660, NULL, err, sizeof(err));
    tap_ok(fd < 0 && strstr(err, "bind"), "missing directory: %s", err);
    ep2 = unix_ep("nobody.sock");
    fd = endpoint_connect(&ep2, 1000, err, sizeof(err));
    tap_ok(fd < 0 && strstr(err, "connect"), "connect to nothing fails: %s", err);
}

/* free_port - a TCP port nothing listens on right now */
static int free_port(int family)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd = socket(family, SOCK_STREAM, 0), port = -1;

    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sl = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = in6addr_loopback;
        sl = sizeof(*sin6);
    }
    if (fd >= 0 && bind(fd, (struct sockaddr *)&ss, sl) == 0 &&
        getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                       : ((struct sockaddr_in6 *)&ss)->sin6_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static void test_inet(void)
{
    endpoint ep;
    char spec[100], err[256];
    char why[ERRBUF_MAX] = "";
    int fd, fd2, port = free_port(AF_INET);

    snprintf(spec, sizeof(spec), "inet:127.0.0.1:%d", port);
    tap_ok(parse(spec, &ep, why), "parse %s", spec);
    fd = endpoint_listen(&ep, 16, 0, NULL, err, sizeof(err));
    tap_ok(fd >= 0, "listen on %s: %s", spec, fd < 0 ? err : "ok");
    tap_ok(endpoint_set_nodelay(fd), "TCP_NODELAY on the listener");
    tap_ok(accepted_nodelay(fd, &ep), "an accepted connection inherits TCP_NODELAY from the "
                                      "listener (what the milter relies on)");
    tap_ok(roundtrip(fd, &ep), "connect and exchange a byte over TCP");
    fd2 = endpoint_listen(&ep, 16, 0, NULL, err, sizeof(err));
    tap_ok(fd2 < 0 && strstr(err, "bind"), "second listener on the same port: %s", err);
    close(fd);
    fd = endpoint_connect(&ep, 1000, err, sizeof(err));
    tap_ok(fd < 0 && strstr(err, "refused"), "connect after close is refused: %s", err);

    port = free_port(AF_INET6);
    snprintf(spec, sizeof(spec), "inet6:%d@::1", port);
    tap_ok(parse(spec, &ep, why), "parse %s", spec);
    fd = endpoint_listen(&ep, 16, 0, NULL, err, sizeof(err));
    tap_ok(fd >= 0, "listen on %s: %s", spec, fd < 0 ? err : "ok");
    tap_ok(fd >= 0 && roundtrip(fd, &ep), "connect over IPv6 loopback");
    if (fd >= 0)
        close(fd);

    tap_ok(parse("inet:no-such-host.invalid:25", &ep, why), "parse an unresolvable name");
    fd = endpoint_connect(&ep, 1000, err, sizeof(err));
    tap_ok(fd < 0 && strstr(err, "resolve"), "unresolvable name: %s", err);
}

int main(void)
{
    char cmd[200];

    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_parse_good();
    test_parse_bad();
    test_format();
    test_unix();
    test_inet();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", tmpdir);
    return tap_done();
}
