/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * buf.c - growable byte buffer (see buf.h)
 */
#include "lib/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* buf_init - empty buffer, nothing allocated */
void buf_init(buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = 0;
    b->failed = false;
}

/* buf_free - release storage; the buffer may be reused after buf_init */
void buf_free(buf *b)
{
    free(b->data);
    buf_init(b);
}

/* buf_reset - forget the contents and the failure, keep the storage */
void buf_reset(buf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->data)
        b->data[0] = '\0';
}

/* buf_set_limit - cap the length; 0 removes the cap */
void buf_set_limit(buf *b, size_t limit)
{
    b->limit = limit;
}

/* buf_reserve - make room for extra more bytes plus the NUL */
bool buf_reserve(buf *b, size_t extra)
{
    size_t need, ncap;
    char *n;

    if (b->failed)
        return false;
    if (extra > SIZE_MAX / 2 - b->len || (b->limit && b->len + extra > b->limit)) {
        b->failed = true;
        return false;
    }
    need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap *= 2;
    n = realloc(b->data, ncap);
    if (n == NULL) {
        b->failed = true;
        return false;
    }
    b->data = n;
    b->cap = ncap;
    return true;
}

/* buf_append - append n bytes */
bool buf_append(buf *b, const void *p, size_t n)
{
    if (!buf_reserve(b, n))
        return false;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

/* buf_append_str - append a NUL-terminated string */
bool buf_append_str(buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

/* buf_printf - append formatted text */
bool buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed)
        return false;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(b, (size_t)n)) {
        b->failed = true;
        return false;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

/* buf_cstr - the contents as a C string ("" when nothing was appended) */
const char *buf_cstr(const buf *b)
{
    return b->data ? b->data : "";
}

/*
 * buf_steal - hand the storage to the caller (NULL if failed); the buffer
 * is left empty and unfailed, with its limit kept so a capped buffer stays
 * capped when it is reused
 */
char *buf_steal(buf *b, size_t *len)
{
    char *d = b->failed ? NULL : b->data;
    size_t limit = b->limit;

    if (d == NULL && !b->failed)
        d = calloc(1, 1);
    if (len)
        *len = d ? b->len : 0;
    if (b->failed)
        free(b->data);
    buf_init(b);
    b->limit = limit;
    return d;
}

/*
 * buf_array_add - one more zeroed element at the end of the array *arr of
 * *n elem-sized items (room for *cap), which doubles from first when full;
 * the new element, or NULL when out of memory (the array is left as it was)
 */
void *buf_array_add(void **arr, size_t *n, size_t *cap, size_t elem, size_t first)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : first;
        void *v = realloc(*arr, nc * elem);
        if (v == NULL)
            return NULL;
        *arr = v;
        *cap = nc;
    }
    memset((char *)*arr + *n * elem, 0, elem);
    return (char *)*arr + (*n)++ * elem;
}
