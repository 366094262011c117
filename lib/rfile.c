/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rfile.c - bounded reads of regular files (see rfile.h)
 *
 * Why O_NONBLOCK: open(2) of a FIFO for reading waits for a writer, and
 * read(2) of one waits for data; a configuration path pointing at a FIFO
 * would stop a daemon before it logs anything. With O_NONBLOCK the open
 * returns at once and fstat tells what the file is before any read.
 * Regular files ignore the flag.
 */
#include "lib/rfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* rfile_type_name - what a file of this st_mode is, in words */
const char *rfile_type_name(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG:
        return "regular file";
    case S_IFDIR:
        return "directory";
    case S_IFIFO:
        return "FIFO";
    case S_IFCHR:
        return "character device";
    case S_IFBLK:
        return "block device";
    case S_IFSOCK:
        return "socket";
    case S_IFLNK:
        return "symbolic link";
    default:
        return "special file";
    }
}

/* rfile_open_error - why open(2) failed, with the fix */
static void rfile_open_error(const char *path, const rfile_policy *p, int err_no, char *err,
                             size_t errlen)
{
    char target[PATH_MAX];
    struct stat st;

    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && p->nofollow && err_no == ELOOP) {
        if (realpath(path, target) == NULL)
            snprintf(target, sizeof(target), "the file it points to");
        snprintf(err, errlen,
                 "%s is a symbolic link; the %s is never opened through one; fix: name %s "
                 "itself",
                 path, p->what, target);
    } else if (err_no == ENXIO && stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is a %s, not a regular file; fix: name the %s itself", path,
                 rfile_type_name(st.st_mode), p->what);
    } else if (err_no == ENOENT) {
        snprintf(err, errlen, "%s: cannot open: %s; fix: create the %s, or correct the path", path,
                 strerror(err_no), p->what);
    } else if (err_no == EACCES) {
        snprintf(err, errlen,
                 "%s: cannot open: %s; fix: let the user that reads it read the file and "
                 "search its directories (owner, group, mode), or run as root",
                 path, strerror(err_no));
    } else {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(err_no));
    }
}

/* rfile_mode_problem - "others may read it" and the like for the refused bits */
static void rfile_mode_problem(unsigned bits, char *out, size_t len)
{
    const char *sep = "";
    size_t n = 0;

    out[0] = '\0';
    if (bits & (S_IROTH | S_IWOTH | S_IXOTH)) {
        n += (size_t)snprintf(out + n, len - n, "others may %s",
                              (bits & S_IROTH) && (bits & S_IWOTH) ? "read and change it"
                              : (bits & S_IROTH)                   ? "read it"
                              : (bits & S_IWOTH)                   ? "change it"
                                                                   : "execute it");
        sep = ", and ";
    }
    if (bits & (S_IRGRP | S_IWGRP | S_IXGRP) && n < len)
        snprintf(out + n, len - n, "%sthe group may %s", sep,
                 (bits & S_IRGRP) && (bits & S_IWGRP) ? "read and change it"
                 : (bits & S_IRGRP)                   ? "read it"
                 : (bits & S_IWGRP)                   ? "change it"
                                                      : "execute it");
}

/* rfile_is_null - /dev/null, which reads as an empty file ("-c /dev/null": no configuration) */
static bool rfile_is_null(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 && minor(st->st_rdev) == 3;
}

/* rfile_acceptable - the file as fstat describes it against the policy */
static bool rfile_acceptable(const char *path, const rfile_policy *p, const struct stat *st,
                             char *err, size_t errlen)
{
    unsigned mode = (unsigned)st->st_mode & 07777, bad = mode & p->refuse_mode;
    char why[128];

    if (!S_ISREG(st->st_mode) && !rfile_is_null(st)) {
        snprintf(err, errlen, "%s is a %s, not a regular file; fix: name the %s itself", path,
                 rfile_type_name(st->st_mode), p->what);
        return false;
    }
    if (bad) {
        rfile_mode_problem(bad, why, sizeof(why));
        snprintf(err, errlen,
                 "%s has mode %04o: %s; the %s must not allow that; fix: chmod %04o %s", path, mode,
                 why, p->what, mode & ~p->refuse_mode & 0777, path);
        return false;
    }
    if ((unsigned long long)st->st_size > p->max) {
        snprintf(err, errlen,
                 "%s is %lld bytes, over the %zu-byte limit for the %s; fix: name the right file",
                 path, (long long)st->st_size, p->max, p->what);
        return false;
    }
    return true;
}

/* rfile_read_all - up to max + 1 bytes of fd into a fresh NUL-terminated buffer */
static char *rfile_read_all(int fd, const char *path, const rfile_policy *p, size_t hint,
                            size_t *len, char *err, size_t errlen)
{
    size_t want = (hint < p->max ? hint : p->max) + 1, n = 0;
    char *text = malloc(want + 1), *grown;
    ssize_t r;

    for (;;) {
        if (text == NULL) {
            snprintf(err, errlen, "%s: out of memory", path);
            return NULL;
        }
        if (n == want) { /* more than fstat said: grow, but never past max + 1 */
            if (want > p->max)
                break;
            want = want > p->max / 2 ? p->max + 1 : want * 2;
            if ((grown = realloc(text, want + 1)) == NULL) {
                rfile_free(text, n);
                text = NULL;
                continue;
            }
            text = grown;
        }
        if ((r = read(fd, text + n, want - n)) < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
            rfile_free(text, n);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > p->max) {
        snprintf(err, errlen, "%s is over the %zu-byte limit for the %s; fix: name the right file",
                 path, p->max, p->what);
        rfile_free(text, n);
        return NULL;
    }
    text[n] = '\0';
    *len = n;
    return text;
}

/* rfile_read - the whole file under policy p, or NULL with err */
char *rfile_read(const char *path, const rfile_policy *p, size_t *len, char *err, size_t errlen)
{
    int fd = open(path,
                  O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (p->nofollow ? O_NOFOLLOW : 0));
    struct stat st;
    char *text = NULL;

    *len = 0;
    if (fd < 0) {
        rfile_open_error(path, p, errno, err, errlen);
        return NULL;
    }
    if (fstat(fd, &st) < 0)
        snprintf(err, errlen, "%s: fstat: %s", path, strerror(errno));
    else if (rfile_acceptable(path, p, &st, err, errlen))
        text = rfile_read_all(fd, path, p, (size_t)st.st_size, len, err, errlen);
    close(fd);
    return text;
}

/*
 * rfile_check_kind - a path a daemon creates or writes: absent, or of type want
 * (S_IFREG, S_IFDIR or S_IFSOCK). False, with err, only when it is there and
 * is something else; a path that cannot be examined is left to the daemon.
 * A symbolic link is followed, except for a socket (the daemons replace only
 * a socket they find there, never what a link points to).
 */
bool rfile_check_kind(const char *path, unsigned want, const char *what, char *err, size_t errlen)
{
    struct stat st;
    int rc = want == S_IFSOCK ? lstat(path, &st) : stat(path, &st);

    if (rc < 0 || (st.st_mode & S_IFMT) == want)
        return true;
    snprintf(err, errlen,
             "%s is a %s, but the %s must be a %s; fix: remove it, or name another path", path,
             rfile_type_name(st.st_mode), what, rfile_type_name(want));
    return false;
}

/* rfile_free - wipe (the text may be a secret) and free */
void rfile_free(char *text, size_t len)
{
    if (text == NULL)
        return;
    explicit_bzero(text, len);
    free(text);
}
