/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * body.h - a message body collected for rewriting
 *
 * In memory up to a threshold ([milter] body_memory_limit), then spilled
 * to a private temporary file (mode 0600, unlinked as soon as it is
 * created, in [milter] temp_dir) so that a large message costs disk, not
 * the milter's memory. Beyond [milter] max_rewrite_size collection stops:
 * the message is delivered unchanged (the caller logs why). body_view
 * gives the rewrite engine one contiguous view (the memory buffer, or the
 * file mapped read-only).
 */
#ifndef SG_MILTER_BODY_H
#define SG_MILTER_BODY_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

typedef struct milter_body {
    buf mem;
    int fd;           /* spill file, -1 while in memory */
    size_t len;       /* bytes collected */
    size_t mem_limit; /* spill beyond this */
    size_t max_size;  /* give up beyond this */
    const char *tmpdir;
    bool too_big;    /* max_size exceeded: nothing more is kept */
    bool failed;     /* an I/O error: rewriting is off for this message */
    const char *why; /* what went wrong, for the log */
    void *map;       /* body_view's mapping of the spill file */
    size_t map_len;
} milter_body;

void body_init(milter_body *b, size_t mem_limit, size_t max_size, const char *tmpdir);
bool body_append(milter_body *b, const void *data, size_t len);
const unsigned char *body_view(milter_body *b, size_t *len);
void body_free(milter_body *b);

#endif
