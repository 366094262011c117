/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon.h - process hygiene for the daemons (sendgate-policyd, -milter, -trackd)
 *
 * SYNOPSIS
 *	daemon_close_inherited();
 *	int ready = daemon_detach(err, len);     child: fd to report readiness; parent exits
 *	daemon_pidfile_write(path, err, len);
 *	daemon_socket_group_check("milter.socket_group", group, err, len);
 *	daemon_user_ids("sendgate", "", &uid, &gid, err, len);   to chown state first
 *	daemon_drop_privileges("sendgate", "", err, len);
 *	daemon_detach_done(ready, 0);            the parent exits 0
 *	daemon_notify("READY=1");                systemd Type=notify, without libsystemd
 *
 * DESCRIPTION
 *	After PostSRSd and the lessons in ANCHORS.md section 7: inherited
 *	descriptors are closed at start (they stalled package installs);
 *	a detached daemon reopens /dev/null on 0, 1 and 2 (a closed stdout
 *	later reused by a socket corrupts the stream); the parent of a
 *	detached daemon waits until the child is serving, so its exit status
 *	says whether the start worked; privileges are dropped with
 *	initgroups() first, so the user's supplementary groups (the one that
 *	may read the cache, say) are kept.
 */
#ifndef SG_LIB_DAEMON_H
#define SG_LIB_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

void daemon_close_inherited(void);
int daemon_detach(char *err, size_t errlen);
void daemon_detach_done(int fd, int status);
bool daemon_pidfile_write(const char *path, char *err, size_t errlen);
void daemon_pidfile_remove(const char *path);
bool daemon_socket_group_check(const char *key, const char *group, char *err, size_t errlen);
bool daemon_user_ids(const char *user, const char *group, uid_t *uid, gid_t *gid, char *err,
                     size_t errlen);
bool daemon_drop_privileges(const char *user, const char *group, char *err, size_t errlen);
void daemon_raise_nofile(long want);
bool daemon_notify(const char *state);

#endif
