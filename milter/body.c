/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * body.c - body collection with spill to a temporary file (see body.h)
 */
#include "milter/body.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* body_init - empty body with its limits */
void body_init(milter_body *b, size_t mem_limit, size_t max_size, const char *tmpdir)
{
    memset(b, 0, sizeof(*b));
    buf_init(&b->mem);
    b->fd = -1;
    b->mem_limit = mem_limit;
    b->max_size = max_size;
    b->tmpdir = tmpdir && *tmpdir ? tmpdir : "/tmp";
}

/* write_all - the whole buffer or false */
static bool write_all(int fd, const void *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p = (const char *)p + w;
        n -= (size_t)w;
    }
    return true;
}

/*
 * body_spill - move what is in memory into a new temporary file
 *
 * O_TMPFILE where the file system has it (never visible in the
 * directory); else mkstemp and unlink at once. Either way nobody but
 * this process can open the file, and it disappears with the descriptor.
 */
static bool body_spill(milter_body *b)
{
    char path[4096];
    int fd = open(b->tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

    if (fd < 0) {
        snprintf(path, sizeof(path), "%s/sendgate-body.XXXXXX", b->tmpdir);
        if ((fd = mkostemp(path, O_CLOEXEC)) < 0) {
            b->why = "cannot create a temporary file for a large body";
            return false;
        }
        unlink(path);
        fchmod(fd, 0600);
    }
    if (!write_all(fd, b->mem.data ? b->mem.data : "", b->mem.len)) {
        close(fd);
        b->why = "cannot write the temporary body file";
        return false;
    }
    b->fd = fd;
    buf_free(&b->mem);
    return true;
}

/* body_append - keep a chunk; false when rewriting had to be given up */
bool body_append(milter_body *b, const void *data, size_t len)
{
    if (b->too_big || b->failed)
        return false;
    if (b->len + len > b->max_size) {
        b->too_big = true;
        b->why = "body larger than max_rewrite_size";
        return false;
    }
    b->len += len;
    if (b->fd < 0 && b->mem.len + len <= b->mem_limit) {
        if (!buf_append(&b->mem, data, len)) {
            b->failed = true;
            b->why = "out of memory collecting the body";
            return false;
        }
        return true;
    }
    if ((b->fd < 0 && !body_spill(b)) || (b->fd >= 0 && !write_all(b->fd, data, len))) {
        b->failed = true;
        if (b->why == NULL)
            b->why = "cannot write the temporary body file";
        return false;
    }
    return true;
}

/* body_view - the whole body as one read-only byte range (NULL on failure) */
const unsigned char *body_view(milter_body *b, size_t *len)
{
    *len = b->len;
    if (b->too_big || b->failed)
        return NULL;
    if (b->fd < 0)
        return (const unsigned char *)(b->mem.data ? b->mem.data : "");
    if (b->map == NULL && b->len > 0) {
        void *m = mmap(NULL, b->len, PROT_READ, MAP_PRIVATE, b->fd, 0);
        if (m == MAP_FAILED) {
            b->failed = true;
            b->why = "cannot map the temporary body file";
            return NULL;
        }
        b->map = m;
        b->map_len = b->len;
    }
    return b->len ? b->map : (const unsigned char *)"";
}

/* body_free - memory, mapping and file */
void body_free(milter_body *b)
{
    if (b->map)
        munmap(b->map, b->map_len);
    if (b->fd >= 0)
        close(b->fd);
    buf_free(&b->mem);
    b->map = NULL;
    b->fd = -1;
    b->len = 0;
}
