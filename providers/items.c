/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * items.c - arena-backed sets of cache write items (see items.h)
 */
#include "providers/items.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

#define ITEMS_CHUNK 65536

struct items_chunk {
    items_chunk *next;
    size_t used, size;
    max_align_t data[]; /* aligned for any element type */
};

void items_init(items *s, int provider)
{
    memset(s, 0, sizeof(*s));
    s->provider = provider;
}

void items_free(items *s)
{
    items_chunk *c = s->chunks, *n;

    for (; c; c = n) {
        n = c->next;
        free(c);
    }
    free(s->out);
    free(s->in);
    items_init(s, s->provider);
}

bool items_failed(const items *s)
{
    return s->failed;
}

/* items_alloc - n zeroed bytes from the arena, aligned for any type */
void *items_alloc(items *s, size_t n)
{
    const size_t align = sizeof(max_align_t);
    items_chunk *c = s->chunks;
    void *p;

    n = (n + align - 1) / align * align;
    if (n == 0)
        n = align;
    if (c == NULL || c->size - c->used < n) {
        size_t size = n > ITEMS_CHUNK ? n : ITEMS_CHUNK;
        if ((c = malloc(sizeof(*c) + size)) == NULL) {
            s->failed = true;
            return NULL;
        }
        c->used = 0;
        c->size = size;
        c->next = s->chunks;
        s->chunks = c;
    }
    p = (char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

/* items_strn - a NUL-terminated copy of n bytes; "" when out of memory */
const char *items_strn(items *s, const char *str, size_t n)
{
    char *p;

    if (str == NULL || n == 0)
        return "";
    if ((p = items_alloc(s, n + 1)) == NULL)
        return "";
    memcpy(p, str, n);
    p[n] = '\0';
    return p;
}

const char *items_str(items *s, const char *str)
{
    return items_strn(s, str, str ? strlen(str) : 0);
}

/* add - one more zeroed item, its domain (every item's first field) a copy of domain */
static void *add(items *s, void **arr, size_t *n, size_t *cap, size_t elem, const char *domain)
{
    void *v = buf_array_add(arr, n, cap, elem, 64);

    if (v == NULL)
        s->failed = true;
    else
        *(const char **)v = items_str(s, domain);
    return v;
}

_Static_assert(offsetof(cache_out_item, domain) == 0 && offsetof(cache_in_item, domain) == 0,
               "add() sets the domain as an item's first field");

/* items_add_out - a new outbound entry for domain (copied), strings "" */
cache_out_item *items_add_out(items *s, const char *domain)
{
    cache_out_item *it = add(s, (void **)&s->out, &s->n_out, &s->cap_out, sizeof(*it), domain);

    if (it == NULL)
        return NULL;
    it->e.provider = (uint8_t)s->provider;
    it->e.send = SEND_BLOCKED;
    it->e.ref = it->e.raw_status = it->e.reason = it->e.tracking_host = "";
    return it;
}

/* items_add_in - a new inbound entry for domain (copied), strings "" */
cache_in_item *items_add_in(items *s, const char *domain)
{
    cache_in_item *it = add(s, (void **)&s->in, &s->n_in, &s->cap_in, sizeof(*it), domain);

    if (it == NULL)
        return NULL;
    it->e.provider = (uint8_t)s->provider;
    it->e.ref = it->e.webhook_url = it->e.webhook_method = "";
    return it;
}

/* items_copy_out - dst = src with every string copied into the arena */
bool items_copy_out(items *s, cache_out_entry *dst, const cache_out_entry *src)
{
    *dst = *src;
    dst->ref = items_str(s, src->ref);
    dst->raw_status = items_str(s, src->raw_status);
    dst->reason = items_str(s, src->reason);
    dst->tracking_host = items_str(s, src->tracking_host);
    for (uint8_t i = 0; i < src->n_bcc && i < CACHE_MAX_BCC; i++)
        dst->bcc[i].addr = items_str(s, src->bcc[i].addr);
    return !s->failed;
}

/* items_copy_in - dst = src with strings and arrays copied into the arena */
bool items_copy_in(items *s, cache_in_entry *dst, const cache_in_entry *src)
{
    *dst = *src;
    dst->ref = items_str(s, src->ref);
    dst->webhook_url = items_str(s, src->webhook_url);
    dst->webhook_method = items_str(s, src->webhook_method);
    dst->smtp = src->n_smtp ? items_alloc(s, src->n_smtp * sizeof(*dst->smtp)) : NULL;
    dst->rules = src->n_rules ? items_alloc(s, src->n_rules * sizeof(*dst->rules)) : NULL;
    if ((src->n_smtp && !dst->smtp) || (src->n_rules && !dst->rules))
        return false;
    for (size_t i = 0; i < src->n_smtp; i++) {
        dst->smtp[i] = src->smtp[i];
        dst->smtp[i].host = items_str(s, src->smtp[i].host);
    }
    for (size_t i = 0; i < src->n_rules; i++) {
        dst->rules[i] = src->rules[i];
        dst->rules[i].ref = items_str(s, src->rules[i].ref);
        dst->rules[i].localpart = items_str(s, src->rules[i].localpart);
        dst->rules[i].destination = items_str(s, src->rules[i].destination);
    }
    return !s->failed;
}
