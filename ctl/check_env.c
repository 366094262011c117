/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_env.c - sendgatectl check-config: files and sockets as the daemons meet them
 *
 * conf_load has checked the file; these checks run after it, on the paths
 * the file names (see check_env.h). They never change anything: each
 * finding is a warning naming the key (section.key at file:line, through
 * conf_report_add), the path, what is wrong and the command that fixes it.
 * The traps they catch are those operators hit most with milters and
 * policy daemons: a socket outside Postfix's chroot, a socket directory
 * the postfix user cannot search, a socket it cannot write, and secret
 * files the unprivileged daemons cannot read (or anybody may replace).
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/envcheck.h"
#include "cache/verdict.h"
#include "ctl/check_env.h"
#include "lib/endpoint.h"
#include "lib/token.h"
#include "lib/tlsfile.h"

#define ENV_MAX_GROUPS 256

/* a user as the kernel sees it when checking permissions */
typedef struct env_user {
    char name[64];
    uid_t uid;
    gid_t gid;
    gid_t groups[ENV_MAX_GROUPS];
    int ngroups;
    bool daemon;        /* the daemons' user (else the postfix user) */
    char fix_group[64]; /* the group fixes hand files to (the daemons' group) */
} env_user;

/* what postconf says about the local Postfix */
typedef struct env_postfix {
    char queue_dir[PATH_MAX];
    int chroot;         /* smtpd or cleanup chrooted: 1 yes, 0 no, -1 unknown */
    long long size_max; /* message_size_limit: 0 none, -1 unknown */
} env_postfix;

/* room a rewritten message needs under message_size_limit besides its body:
   the header, Postfix's Received: line and the queue file's envelope; and
   the queue file's records, which cost up to 1/128 of the body more than
   its line ends (1/64 here) */
#define ENV_HEADER_ROOM      (256 * 1024)
#define ENV_QUEUE_FILE(body) ((long long)(body) + (long long)(body) / 64 + ENV_HEADER_ROOM)

/* env_user_load - uid and every group of name; false when there is no such user */
static bool env_user_load(env_user *u, const char *name)
{
    struct passwd *pw = getpwnam(name);

    if (pw == NULL)
        return false;
    memset(u, 0, sizeof(*u));
    snprintf(u->name, sizeof(u->name), "%s", name);
    u->uid = pw->pw_uid;
    u->gid = pw->pw_gid;
    u->ngroups = ENV_MAX_GROUPS;
    if (getgrouplist(name, pw->pw_gid, u->groups, &u->ngroups) < 0) {
        u->groups[0] = pw->pw_gid;
        u->ngroups = 1;
    }
    return true;
}

/* env_in_group - is gid one of u's groups? */
static bool env_in_group(const env_user *u, gid_t gid)
{
    for (int i = 0; i < u->ngroups; i++)
        if (u->groups[i] == gid)
            return true;
    return false;
}

/* env_can - may u do bits (4 read, 2 write, 1 search/exec) on a file of this owner and mode? */
static bool env_can(const env_user *u, uid_t uid, gid_t gid, mode_t mode, unsigned bits)
{
    if (u->uid == 0)
        return true;
    if (u->uid == uid)
        return ((mode >> 6) & bits) == bits;
    if (env_in_group(u, gid))
        return ((mode >> 3) & bits) == bits;
    return (mode & bits) == bits;
}

/* env_describe - "owner:group 0750" of a stat */
static const char *env_describe(const struct stat *st, char *out, size_t len)
{
    struct passwd *pw = getpwuid(st->st_uid);
    struct group *gr = getgrgid(st->st_gid);
    char u[32], g[32];

    snprintf(u, sizeof(u), "%u", (unsigned)st->st_uid);
    snprintf(g, sizeof(g), "%u", (unsigned)st->st_gid);
    snprintf(out, len, "%s:%s %04o", pw ? pw->pw_name : u, gr ? gr->gr_name : g,
             (unsigned)(st->st_mode & 07777));
    return out;
}

/* env_group_name - name of gid (or the number) */
static const char *env_group_name(gid_t gid, char *out, size_t len)
{
    struct group *gr = getgrgid(gid);

    if (gr)
        snprintf(out, len, "%s", gr->gr_name);
    else
        snprintf(out, len, "%u", (unsigned)gid);
    return out;
}

/*
 * env_fix - the command that gives u the permission bits on a path of st.
 * The daemons' user gets its own files (chown for what it writes, its
 * group for what it only reads); the postfix user joins the group that
 * already has the bits, or the daemons' group.
 */
static void env_fix(const env_user *u, const char *path, const struct stat *st, unsigned bits,
                    char *out, size_t len)
{
    static const char *const letters[] = {"", "x", "w", "wx", "r", "rx", "rw", "rwx"};
    char g[64];

    env_group_name(st->st_gid, g, sizeof(g));
    if (u->uid == st->st_uid)
        snprintf(out, len, "chmod u+%s %s", letters[bits], path);
    else if (env_in_group(u, st->st_gid))
        snprintf(out, len, "chmod g+%s %s", letters[bits], path);
    else if (u->daemon && (bits & 2))
        snprintf(out, len, "chown %s:%s %s", u->name, u->fix_group, path);
    else if (u->daemon)
        snprintf(out, len, "chgrp %s %s && chmod g+%s %s", u->fix_group, path, letters[bits], path);
    else if (((st->st_mode >> 3) & bits) == bits && st->st_gid != 0)
        snprintf(out, len, "adduser %s %s, then postfix reload", u->name, g);
    else
        snprintf(out, len, "chgrp %s %s && chmod g+%s %s, and adduser %s %s, then postfix reload",
                 u->fix_group, path, letters[bits], path, u->name, u->fix_group);
}

/* env_reach results */
enum env_reach_rc { ENV_REACHED, ENV_DENIED, ENV_UNKNOWN };

/*
 * env_reach - can u get through every directory above path? ENV_DENIED with
 * the first directory that stops it (blocker, bst); ENV_UNKNOWN when a
 * directory cannot be examined (errno; e.g. check-config not run as root).
 */
static enum env_reach_rc env_reach(const env_user *u, const char *path, char *blocker, size_t len,
                                   struct stat *bst)
{
    char dir[PATH_MAX];
    size_t n = strlen(path);

    blocker[0] = '\0';
    if (n >= sizeof(dir) || path[0] != '/')
        return errno = EINVAL, ENV_UNKNOWN;
    for (size_t i = 1; i < n; i++) {
        if (path[i] != '/')
            continue;
        memcpy(dir, path, i);
        dir[i] = '\0';
        snprintf(blocker, len, "%s", dir);
        if (stat(dir, bst) < 0)
            return ENV_UNKNOWN;
        if (!env_can(u, bst->st_uid, bst->st_gid, bst->st_mode, 1))
            return ENV_DENIED;
    }
    return ENV_REACHED;
}

/* env_check_access - u reaches path and may do bits on it; warns and returns false otherwise */
static bool env_check_access(const conf *c, conf_report *r, int key, const env_user *u,
                             const char *path, unsigned bits, const char *why)
{
    static const char *const verbs[] = {"",     "search", "write",          "write into",
                                        "read", "read",   "read and write", "use"};
    char blocker[PATH_MAX], desc[128], fix[PATH_MAX * 2 + 128];
    struct stat st;

    switch (env_reach(u, path, blocker, sizeof(blocker), &st)) {
    case ENV_REACHED:
        break;
    case ENV_UNKNOWN:
        conf_report_add(r, false, c, key, "cannot check %s: %s: %s%s", path, blocker,
                        strerror(errno), errno == EACCES ? " (run check-config as root)" : "");
        return false;
    case ENV_DENIED:
        env_fix(u, blocker, &st, 1, fix, sizeof(fix));
        conf_report_add(r, false, c, key,
                        "%s: user %s cannot search directory %s (%s), but %s; fix: %s", path,
                        u->name, blocker, env_describe(&st, desc, sizeof(desc)), why, fix);
        return false;
    }
    if (stat(path, &st) < 0) {
        conf_report_add(r, false, c, key, "%s: %s", path, strerror(errno));
        return false;
    }
    if (!env_can(u, st.st_uid, st.st_gid, st.st_mode, bits)) {
        env_fix(u, path, &st, bits, fix, sizeof(fix));
        if (S_ISDIR(st.st_mode))
            conf_report_add(r, false, c, key,
                            "user %s cannot %s directory %s (%s), but %s; fix: %s", u->name,
                            verbs[bits], path, env_describe(&st, desc, sizeof(desc)), why, fix);
        else
            conf_report_add(r, false, c, key, "%s (%s): user %s cannot %s it, but %s; fix: %s",
                            path, env_describe(&st, desc, sizeof(desc)), u->name, verbs[bits], why,
                            fix);
        return false;
    }
    return true;
}

/*
 * env_check_secret - a secret or key file the daemons read under policy: the
 * loader (run by check_files or conf_read) refuses the bits of the policy as
 * errors; what it lets pass but should not be (a group that may replace an
 * API token) and whether the daemons' user can read it are warned about here.
 */
static void env_check_secret(const conf *c, conf_report *r, int key, const env_user *run,
                             const char *path, const rfile_policy *policy)
{
    struct stat st;
    char desc[128];

    if (stat(path, &st) < 0)
        return; /* the loader reported it */
    if (st.st_mode & (S_IWGRP | S_IWOTH) & ~policy->refuse_mode)
        conf_report_add(r, false, c, key,
                        "%s (%s) may be replaced by group or others; fix: chmod go-w %s", path,
                        env_describe(&st, desc, sizeof(desc)), path);
    if (run)
        env_check_access(c, r, key, run, path, 4, "the daemons run as that user");
}

/* env_check_parent - the daemons create files in the directory of path */
static void env_check_parent(const conf *c, conf_report *r, int key, const env_user *run,
                             const char *path)
{
    char dir[PATH_MAX];
    char *slash;

    snprintf(dir, sizeof(dir), "%s", path);
    if ((slash = strrchr(dir, '/')) == NULL)
        return;
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    if (access(dir, F_OK) < 0 && errno == ENOENT) {
        conf_report_add(r, false, c, key,
                        "%s: directory %s does not exist; fix: systemd-tmpfiles --create "
                        "sendgate.conf, or install -d -o %s -g %s -m 0750 %s",
                        path, dir, run->name, run->name, dir);
        return;
    }
    env_check_access(c, r, key, run, dir, 3, "the daemons create files there");
}

/* env_check_lmdb - an LMDB environment the daemons write (cache, statistics) */
static void env_check_lmdb(const conf *c, conf_report *r, int key, const env_user *run,
                           const char *dir)
{
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    char path[PATH_MAX];
    struct stat st;

    if (stat(dir, &st) < 0) {
        if (errno == ENOENT)
            env_check_parent(c, r, key, run, dir);
        return;
    }
    if (!env_check_access(c, r, key, run, dir, 3, "the daemons write this LMDB environment"))
        return;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        if (stat(path, &st) == 0 && !env_can(run, st.st_uid, st.st_gid, st.st_mode, 6))
            conf_report_add(r, false, c, key,
                            "%s is not writable by user %s (a command run as root created it?); "
                            "fix: chown -R %s: %s",
                            path, run->name, run->name, dir);
    }
}

/* env_postconf - one line of `postconf ARGS` output per call of fn */
static bool env_postconf(const char *args, void (*fn)(void *, const char *), void *arg)
{
    char cmd[256], line[4096];
    FILE *fp;
    int st;

    snprintf(cmd, sizeof(cmd), "postconf %s 2>/dev/null", args);
    if ((fp = popen(cmd, "r")) == NULL)
        return false;
    while (fgets(line, sizeof(line), fp)) {
        line[strcspn(line, "\n")] = '\0';
        fn(arg, line);
    }
    st = pclose(fp);
    return st == 0;
}

static void env_pf_queue(void *arg, const char *line)
{
    env_postfix *pf = arg;

    if (line[0] == '/')
        snprintf(pf->queue_dir, sizeof(pf->queue_dir), "%s", line);
}

/* env_pf_service - a master.cf line: does an smtpd or cleanup service run chrooted? */
static void env_pf_service(void *arg, const char *line)
{
    env_postfix *pf = arg;
    char f[8][128];

    if (sscanf(line, "%127s %127s %127s %127s %127s %127s %127s %127s", f[0], f[1], f[2], f[3],
               f[4], f[5], f[6], f[7]) != 8)
        return;
    if (strcmp(f[7], "smtpd") != 0 && strcmp(f[7], "cleanup") != 0)
        return;
    if (strcmp(f[4], "y") == 0)
        pf->chroot = 1;
    else if (pf->chroot < 0)
        pf->chroot = 0; /* "-" is Postfix's default: no chroot since 3.0 */
}

/* env_pf_size - postconf -h message_size_limit: bytes, 0 for no limit */
static void env_pf_size(void *arg, const char *line)
{
    env_postfix *pf = arg;
    char *end;
    long long v = strtoll(line, &end, 10);

    if (end != line && *end == '\0' && v >= 0)
        pf->size_max = v;
}

/* env_postfix_load - what postconf says; without it Debian's defaults and no size limit */
static void env_postfix_load(env_postfix *pf)
{
    snprintf(pf->queue_dir, sizeof(pf->queue_dir), "/var/spool/postfix");
    pf->chroot = -1;
    pf->size_max = -1;
    env_postconf("-h queue_directory", env_pf_queue, pf);
    env_postconf("-M", env_pf_service, pf);
    env_postconf("-h message_size_limit", env_pf_size, pf);
}

/*
 * env_check_size - a rewritten body may reach max_rewrite_size; with the
 * header the message must still fit Postfix's message_size_limit, or
 * Postfix refuses mail it accepted before sendgate made it larger (552)
 */
static void env_check_size(const conf *c, conf_report *r, const env_postfix *pf)
{
    if (pf->size_max <= 0 || ENV_QUEUE_FILE(c->milter.max_rewrite_size) <= pf->size_max)
        return;
    conf_report_add(r, false, c, CK_milter_max_rewrite_size,
                    "a rewritten body may be as large as max_rewrite_size (%zu bytes); with the "
                    "header and the queue file's records that may exceed Postfix's "
                    "message_size_limit (%lld), and Postfix would refuse such a message "
                    "(552 5.3.4) though it accepted it before rewriting; fix: max_rewrite_size = "
                    "%lldM or less, or raise message_size_limit",
                    c->milter.max_rewrite_size, pf->size_max,
                    (pf->size_max - ENV_HEADER_ROOM) * 64 / 65 / (1024 * 1024));
}

/* env_keydef - the table entry of key k */
static const conf_keydef *env_keydef(int k)
{
    size_t n;

    return &conf_keydefs(&n)[k];
}

/* env_socket_key - the section's key called name (socket_mode, socket_group), or -1 */
static int env_socket_key(const conf_keydef *d, const char *name)
{
    const char *sec = strcmp(d->section, "static_") == 0 ? "static" : d->section;

    return conf_find_key(sec, name);
}

/* env_socket_expect - owner, group and mode the daemon will give a socket not there yet */
static bool env_socket_expect(const conf *c, const conf_keydef *d, const env_user *run,
                              struct stat *st)
{
    int km = env_socket_key(d, "socket_mode"), kg = env_socket_key(d, "socket_group");
    buf v = BUF_INIT;
    struct group *gr;

    if (km < 0)
        return false;
    memset(st, 0, sizeof(*st));
    conf_format_value(c, km, &v);
    st->st_mode = (mode_t)strtoul(buf_cstr(&v), NULL, 8);
    buf_free(&v);
    st->st_uid = run ? run->uid : 0;
    st->st_gid = run ? run->gid : 0;
    if (kg >= 0) {
        conf_format_value(c, kg, &v);
        if (*buf_cstr(&v) && (gr = getgrnam(buf_cstr(&v))) != NULL)
            st->st_gid = gr->gr_gid;
        buf_free(&v);
    }
    return true;
}

/* env_check_chroot - a chrooted smtpd/cleanup sees only the queue directory */
static void env_check_chroot(const conf *c, conf_report *r, int key, const env_postfix *pf,
                             const char *path)
{
    size_t qn = strlen(pf->queue_dir);
    const char *base = strrchr(path, '/');

    if (strncmp(path, pf->queue_dir, qn) == 0 && path[qn] == '/')
        return;
    if (pf->chroot == 0)
        return;
    conf_report_add(r, false, c, key,
                    "%s is outside Postfix's queue directory %s; %s, so it cannot reach the "
                    "socket; fix: put it under %s, e.g. unix:%s/sendgate%s",
                    path, pf->queue_dir,
                    pf->chroot > 0 ? "master.cf runs smtpd or cleanup chrooted there"
                                   : "a chrooted smtpd (Debian's master.cf: chroot = y) sees only "
                                     "that directory",
                    pf->queue_dir, pf->queue_dir, base ? base : "/NAME.sock");
}

/*
 * env_check_group - socket_group names a group the daemons' user is not in:
 * started as that user (systemd's User=, general.user empty) the daemon may
 * not hand its socket to the group and fails at start.
 */
static void env_check_group(const conf *c, conf_report *r, int kg, const env_user *run)
{
    struct group *gr;
    buf v = BUF_INIT;

    if (run == NULL || run->uid == 0 || *c->general.user)
        return;
    conf_format_value(c, kg, &v);
    if (*buf_cstr(&v) && (gr = getgrnam(buf_cstr(&v))) != NULL && !env_in_group(run, gr->gr_gid))
        conf_report_add(r, false, c, kg,
                        "user %s, whom the systemd units run the daemons as, is not in group %s, "
                        "so the daemon cannot give its socket to that group and will not start; "
                        "fix: leave socket_group empty (the sockets get group %s, and postfix is "
                        "a member: adduser postfix %s)",
                        run->name, buf_cstr(&v), run->fix_group, run->fix_group);
    buf_free(&v);
}

/* env_check_socket - can Postfix (user pfu) connect to this unix socket, can the daemon make it? */
static void env_check_socket(const conf *c, conf_report *r, int key, const env_user *run,
                             const env_user *pfu, const env_postfix *pf, const char *path)
{
    char dir[PATH_MAX], desc[128], fix[PATH_MAX * 2 + 128];
    const char *sec = env_keydef(key)->section;
    struct stat st;
    bool exists;
    char *slash;

    env_check_chroot(c, r, key, pf, path);
    snprintf(dir, sizeof(dir), "%s", path);
    if ((slash = strrchr(dir, '/')) != NULL && slash != dir)
        *slash = '\0';
    if (stat(dir, &st) < 0 && errno != ENOENT) {
        conf_report_add(r, false, c, key, "cannot check %s: %s%s", dir, strerror(errno),
                        errno == EACCES ? " (run check-config as root)" : "");
        return;
    }
    if (access(dir, F_OK) < 0) {
        conf_report_add(r, false, c, key,
                        "%s: directory %s: %s; fix: systemd-tmpfiles --create sendgate.conf, or "
                        "install -d -o %s -g %s -m 0750 %s",
                        path, dir, strerror(errno), run ? run->name : "sendgate",
                        run ? run->name : "sendgate", dir);
        return;
    }
    if (run)
        env_check_access(c, r, key, run, dir, 3, "the daemon creates its socket there");
    if (pfu == NULL)
        return;
    if (!env_check_access(c, r, key, pfu, dir, 1, "Postfix connects to the socket"))
        return;
    if ((exists = lstat(path, &st) == 0)) {
        if (!S_ISSOCK(st.st_mode))
            return; /* an error from check_files: the daemon will not replace it */
    } else if (!env_socket_expect(c, &*env_keydef(key), run, &st))
        return; /* not there yet, and nothing says how it will be made */
    if (env_can(pfu, st.st_uid, st.st_gid, st.st_mode, 2))
        return;
    if ((st.st_mode & S_IWGRP) && st.st_gid != 0)
        env_fix(pfu, path, &st, 2, fix, sizeof(fix));
    else
        snprintf(fix, sizeof(fix),
                 "in [%s] set socket_group = %s and socket_mode = 0660, and adduser %s %s, "
                 "then postfix reload",
                 sec, pfu->fix_group, pfu->name, pfu->fix_group);
    conf_report_add(r, false, c, key, "%s (%s%s): user %s cannot connect to it; fix: %s", path,
                    env_describe(&st, desc, sizeof(desc)),
                    exists ? "" : ", as the daemon will create it", pfu->name, fix);
}

/*
 * env_check_sendmail - the milter socket as Sendmail meets it ([milter] mta
 * = sendmail): its MTA runs as root, so no group is needed and there is no
 * chroot, but it refuses a socket below a group- or world-writable
 * directory ("unsafe: World writable directory"); the daemon still creates
 * the socket there.
 */
static void env_check_sendmail(const conf *c, conf_report *r, int key, const env_user *run,
                               const char *path)
{
    char dir[PATH_MAX], desc[128];
    struct stat st;
    char *slash;

    snprintf(dir, sizeof(dir), "%s", path);
    if ((slash = strrchr(dir, '/')) != NULL && slash != dir)
        *slash = '\0';
    if (access(dir, F_OK) < 0) {
        conf_report_add(r, false, c, key,
                        "%s: directory %s: %s; fix: socket = unix:/run/sendgate/milter.sock "
                        "(systemd-tmpfiles --create sendgate.conf makes the directory), or "
                        "install -d -o %s -g %s -m 0750 %s",
                        path, dir, strerror(errno), run ? run->name : "sendgate",
                        run ? run->name : "sendgate", dir);
        return;
    }
    for (size_t i = 0, n = strlen(dir); i < n; i++) { /* "/", then every prefix */
        char sub[PATH_MAX];
        if (i > 0 && dir[i] != '/' && i + 1 < n)
            continue;
        snprintf(sub, sizeof(sub), "%.*s", (int)(i == 0 ? 1 : dir[i] == '/' ? i : i + 1), dir);
        if (stat(sub, &st) == 0 && (st.st_mode & (S_IWGRP | S_IWOTH))) {
            conf_report_add(r, false, c, key,
                            "%s: Sendmail refuses a milter socket below the group- or "
                            "world-writable directory %s (%s); fix: a directory of the "
                            "daemon's own, e.g. socket = unix:/run/sendgate/milter.sock",
                            path, sub, env_describe(&st, desc, sizeof(desc)));
            return;
        }
    }
    if (run)
        env_check_access(c, r, key, run, dir, 3, "the daemon creates its socket there");
}

/* env_is_suffix - does s end in suf? */
static bool env_is_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);

    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* env_check_key - the checks one key of the table needs */
static void env_check_key(const conf *c, conf_report *r, int k, const env_user *run,
                          const env_user *pfu, const env_postfix *pf)
{
    const conf_keydef *d = env_keydef(k);
    buf v = BUF_INIT;
    const char *s;

    conf_format_value(c, k, &v);
    s = buf_cstr(&v);
    if (d->type == CT_SECRET_FILE && *s) {
        env_check_secret(c, r, k, run, s, &conf_secret_policy);
    } else if (strcmp(d->name, "key_files") == 0) {
        const conf_list *l = (const conf_list *)((const char *)c + d->offset);
        for (size_t i = 0; i < l->n; i++)
            env_check_secret(c, r, k, run, l->v[i], &token_keyfile_policy);
    } else if (k == CK_trackd_tls_key_file && *s) {
        env_check_secret(c, r, k, run, s, &tlsfile_key_policy);
    } else if (strcmp(d->name, "socket_group") == 0) {
        env_check_group(c, r, k, run);
    } else if (d->type == CT_ENDPOINT && strcmp(d->section, "trackd") != 0) {
        endpoint ep;
        bool sendmail = c->milter.mta == 1; /* [milter] mta = sendmail */
        if (sendmail && *s && strcmp(d->section, "policyd") == 0)
            conf_report_add(r, false, c, k,
                            "Sendmail ([milter] mta = sendmail) does not use this Postfix "
                            "service; fix: leave policy_socket and socketmap_socket empty "
                            "(sendgate-policyd then only refreshes the cache)");
        else if (*s && endpoint_parse(s, &ep, NULL, 0) && ep.kind == EP_UNIX && sendmail)
            env_check_sendmail(c, r, k, run, ep.path);
        else if (*s && endpoint_parse(s, &ep, NULL, 0) && ep.kind == EP_UNIX)
            env_check_socket(c, r, k, run, pfu, pf, ep.path);
    } else if (run && *s == '/' &&
               (strcmp(d->name, "pid_file") == 0 || strcmp(d->name, "events_file") == 0)) {
        env_check_parent(c, r, k, run, s);
    } else if (run && *s == '/' && env_is_suffix(d->name, "_path")) {
        env_check_lmdb(c, r, k, run, s);
    } else if (run && *s == '/' && env_is_suffix(d->name, "_file")) {
        struct stat st;
        bool wanted = conf_key_line(c, (enum conf_key)k) > 0 ||
                      (k == CK_static__file && c->static_.enabled);
        if (stat(s, &st) == 0 || wanted)
            env_check_access(c, r, k, run, s, 4, "the daemons read it");
    }
    buf_free(&v);
}

/*
 * env_check_state - the cache and the statistics as the daemons will find
 * them: damaged (each daemon answers handling.cache_error until the owner
 * rebuilds it), or a cache without the data of an enabled provider (never
 * refreshed, or lost). A cache not created yet is the normal state of a new
 * installation: sendgate-policyd creates and fills it at its first start.
 */
static void env_check_state(const conf *c, conf_report *r)
{
    cache_opts o = cache_opts_from_conf(c, 0);
    cache_env_report er;
    char why[512];
    cache *ca;

    if (cache_env_check(c->trackd.stats_path, &er) == CACHE_ENV_DAMAGED)
        conf_report_add(r, false, c, CK_trackd_stats_path,
                        "%s is damaged: %s; sendgate-trackd moves it aside and starts counting "
                        "again at its next start",
                        c->trackd.stats_path, er.why);
    if (cache_env_check(c->general.cache_path, &er) == CACHE_ENV_DAMAGED) {
        conf_report_add(r, false, c, CK_general_cache_path,
                        "%s is damaged: %s; until sendgate-policyd rebuilds it (at its next start "
                        "or refresh; or run 'sendgatectl cache load' or 'sendgatectl refresh') "
                        "the daemons answer handling.cache_error (%s)",
                        c->general.cache_path, er.why,
                        verdict_action_name(c->handling.cache_error));
        return;
    }
    /* no lock.mdb: opening would create one owned by whoever runs this (root) */
    snprintf(why, sizeof(why), "%s/lock.mdb", c->general.cache_path);
    if (er.state != CACHE_ENV_SOUND || access(why, F_OK) != 0 ||
        (ca = cache_open(c->general.cache_path, CACHE_RDONLY, &o, why, sizeof(why))) == NULL)
        return;
    cache_set_required(ca, verdict_required(c));
    if (cache_health(ca, why, sizeof(why)) != CACHE_OK)
        conf_report_add(r, false, c, CK_general_cache_path,
                        "%s has %s; the daemons answer handling.cache_error (%s) until a refresh "
                        "succeeds (sendgatectl status shows each provider's last error)",
                        c->general.cache_path, why, verdict_action_name(c->handling.cache_error));
    cache_close(ca);
}

/* check_env - every check of check_env.h; returns the number of warnings added */
int check_env(const conf *c, conf_report *r)
{
    env_user run, pfu;
    bool have_run = false, have_pfu;
    env_postfix pf;
    size_t n;
    int before = r->warnings;

    if (*c->general.user)
        have_run = env_user_load(&run, c->general.user);
    else
        have_run = env_user_load(&run, "sendgate");
    if (have_run && *c->general.group) {
        struct group *gr = getgrnam(c->general.group);
        if (gr)
            run.gid = gr->gr_gid;
    }
    if (have_run) {
        run.daemon = true;
        env_group_name(run.gid, run.fix_group, sizeof(run.fix_group));
    }
    if ((have_pfu = env_user_load(&pfu, "postfix")))
        snprintf(pfu.fix_group, sizeof(pfu.fix_group), "%s", have_run ? run.fix_group : "sendgate");
    env_postfix_load(&pf);
    conf_keydefs(&n);
    for (size_t k = 0; k < n; k++)
        env_check_key(c, r, (int)k, have_run ? &run : NULL, have_pfu ? &pfu : NULL, &pf);
    env_check_size(c, r, &pf);
    env_check_state(c, r);
    return r->warnings - before;
}
