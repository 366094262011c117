/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * buf.h - growable byte buffer
 *
 * A buffer that always keeps room for a terminating NUL (so buf_cstr() is
 * free) and remembers allocation failure: after a failed append every later
 * append is a no-op and buf_failed() says so, which lets callers build a
 * long output and check once at the end (the sticky-error idea from Knot's
 * LMDB wrapper). An optional size limit turns "too big" into the same
 * failure, for capped network reads.
 */
#ifndef SG_BUF_H
#define SG_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct buf {
    char *data;   /* NUL-terminated when data != NULL */
    size_t len;   /* bytes used, not counting the NUL */
    size_t cap;   /* bytes allocated */
    size_t limit; /* maximum len, 0 = unlimited */
    bool failed;  /* sticky: allocation failed or limit exceeded */
} buf;

#define BUF_INIT             \
    {                        \
        NULL, 0, 0, 0, false \
    }

void buf_init(buf *b);
void buf_free(buf *b);
void buf_reset(buf *b);
void buf_set_limit(buf *b, size_t limit);
bool buf_reserve(buf *b, size_t extra);
bool buf_append(buf *b, const void *p, size_t n);
bool buf_append_str(buf *b, const char *s);
bool buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *buf_cstr(const buf *b);
char *buf_steal(buf *b, size_t *len);
void *buf_array_add(void **arr, size_t *n, size_t *cap, size_t elem, size_t first);

/* buf_putc - append one byte; the common case stays inline (the limit still applies) */
static inline bool buf_putc(buf *b, char c)
{
    if (b->len + 1 < b->cap && !b->failed && (b->limit == 0 || b->len < b->limit)) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return true;
    }
    return buf_append(b, &c, 1);
}

static inline bool buf_failed(const buf *b)
{
    return b->failed;
}

#endif
