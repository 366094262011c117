/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon.c - detach, pid file, privilege drop, systemd notification (see daemon.h)
 *
 * Data flow: each daemon's main.c calls these around the set-up of its
 * sockets and files; nothing here touches mail or the cache.
 */
#include "lib/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/rfile.h"

/* daemon_close_inherited - descriptors above stderr belong to whoever started us */
void daemon_close_inherited(void)
{
    if (close_range(3, ~0U, 0) < 0)
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
}

/* daemon_null_stdio - fds 0-2 on /dev/null, never left closed */
static void daemon_null_stdio(void)
{
    int fd = open("/dev/null", O_RDWR);

    if (fd < 0)
        return;
    for (int i = 0; i < 3; i++)
        if (fd != i)
            dup2(fd, i);
    if (fd > 2)
        close(fd);
}

/*
 * daemon_detach - fork into the background; returns the child's readiness fd
 *
 * The parent stays until the child writes its status (daemon_detach_done)
 * or exits, and exits with that status: a start that fails after the
 * fork (a busy socket, an unreadable cache) still fails the command.
 */
int daemon_detach(char *err, size_t errlen)
{
    int p[2], status;
    unsigned char st;
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
        snprintf(err, errlen, "detach: %s", strerror(errno));
        return -1;
    }
    if (pid > 0) {
        close(p[1]);
        if (read(p[0], &st, 1) == 1)
            _exit(st);
        if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
            _exit(WEXITSTATUS(status));
        _exit(1);
    }
    close(p[0]);
    setsid();
    return p[1];
}

/* daemon_detach_done - tell the waiting parent how the start went; stdio goes to /dev/null */
void daemon_detach_done(int fd, int status)
{
    unsigned char st = (unsigned char)status;

    if (fd < 0)
        return;
    if (write(fd, &st, 1) != 1) {
        /* the parent is gone already: nobody to tell */
    }
    close(fd);
    daemon_null_stdio();
}

/* daemon_pidfile_write - refuse when the recorded process still runs */
bool daemon_pidfile_write(const char *path, char *err, size_t errlen)
{
    FILE *f;
    long old = 0;
    mode_t um;

    if (!rfile_check_kind(path, S_IFREG, "pid file", err, errlen)) /* a FIFO would hang fopen */
        return false;
    if ((f = fopen(path, "r")) != NULL) {
        if (fscanf(f, "%ld", &old) == 1 && old > 1 && old != getpid() && kill((pid_t)old, 0) == 0) {
            fclose(f);
            snprintf(err, errlen, "pid file %s: process %ld is running", path, old);
            return false;
        }
        fclose(f);
    }
    um = umask(022);
    f = fopen(path, "w");
    umask(um);
    if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
        snprintf(err, errlen, "pid file %s: %s", path, strerror(errno));
        return false;
    }
    return true;
}

/* daemon_pidfile_remove - only when it still names us */
void daemon_pidfile_remove(const char *path)
{
    char err[256];
    long pid = 0;
    FILE *f;

    if (!rfile_check_kind(path, S_IFREG, "pid file", err, sizeof(err)) ||
        (f = fopen(path, "r")) == NULL)
        return;
    if (fscanf(f, "%ld", &pid) == 1 && pid == getpid())
        unlink(path);
    fclose(f);
}

/*
 * daemon_socket_group_check - may this process give its unix sockets to
 * group (the socket_group key named by key)? A process without root may
 * only chown a file to one of its own groups: under the systemd units
 * (User=sendgate, no capabilities) any other group fails at start. That
 * is a configuration error, reported with the fix, not a reason to retry.
 */
bool daemon_socket_group_check(const char *key, const char *group, char *err, size_t errlen)
{
    gid_t groups[256];
    struct passwd *pw;
    struct group *gr, *own;
    int n;

    if (group == NULL || *group == '\0')
        return true;
    if ((gr = getgrnam(group)) == NULL) {
        snprintf(err, errlen, "%s: no such group '%s'", key, group);
        return false;
    }
    if (geteuid() == 0 || gr->gr_gid == getegid())
        return true;
    n = getgroups(sizeof(groups) / sizeof(groups[0]), groups);
    for (int i = 0; i < n; i++)
        if (groups[i] == gr->gr_gid)
            return true;
    pw = getpwuid(geteuid());
    own = getgrgid(getegid());
    snprintf(err, errlen,
             "%s = %s: user %s is not in group %s, so it cannot give its socket to that group; "
             "fix: leave %s empty (the socket then gets group %s, the daemon's own; Postfix "
             "connects as a member: adduser postfix %s, then postfix reload)",
             key, group, pw ? pw->pw_name : "?", group, key, own ? own->gr_name : "?",
             own ? own->gr_name : "?");
    return false;
}

/* daemon_user_ids - the uid of user and the gid of group (user's own group when empty) */
bool daemon_user_ids(const char *user, const char *group, uid_t *uid, gid_t *gid, char *err,
                     size_t errlen)
{
    struct passwd *pw;

    if ((pw = getpwnam(user)) == NULL) {
        if (err)
            snprintf(err, errlen, "unknown user '%s'", user);
        return false;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    if (group && *group) {
        struct group *gr = getgrnam(group);
        if (gr == NULL) {
            if (err)
                snprintf(err, errlen, "unknown group '%s'", group);
            return false;
        }
        *gid = gr->gr_gid;
    }
    return true;
}

/* daemon_drop_privileges - initgroups, setgid, setuid; verify root cannot come back */
bool daemon_drop_privileges(const char *user, const char *group, char *err, size_t errlen)
{
    uid_t uid;
    gid_t gid;

    if (user == NULL || *user == '\0')
        return true;
    if (!daemon_user_ids(user, group, &uid, &gid, err, errlen))
        return false;
    if (getuid() == uid && geteuid() == uid && getgid() == gid)
        return true;
    if (initgroups(user, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
        snprintf(err, errlen, "drop privileges to %s: %s", user, strerror(errno));
        return false;
    }
    if (uid != 0 && setuid(0) == 0) {
        snprintf(err, errlen, "drop privileges to %s: could regain root", user);
        return false;
    }
    return true;
}

/* daemon_raise_nofile - room for want descriptors, within the hard limit */
void daemon_raise_nofile(long want)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || (rlim_t)want <= rl.rlim_cur)
        return;
    rl.rlim_cur =
            rl.rlim_max == RLIM_INFINITY || (rlim_t)want < rl.rlim_max ? (rlim_t)want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

/*
 * daemon_notify - sd_notify(3) without libsystemd: one datagram to
 * $NOTIFY_SOCKET ("@name" is the abstract namespace); false without one,
 * or with errno set when it is not a socket address or the send failed
 */
bool daemon_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sun;
    socklen_t sl;
    size_t n;
    int fd;
    bool ok;

    if (path == NULL)
        return false;
    if ((path[0] != '/' && path[0] != '@') || (n = strlen(path)) >= sizeof(sun.sun_path)) {
        errno = EINVAL;
        return false;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, n);
    if (path[0] == '@')
        sun.sun_path[0] = '\0';
    sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return false;
    ok = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun, sl) >= 0;
    close(fd);
    return ok;
}
