/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * items.h - what one provider said, as cache write items
 *
 * SYNOPSIS
 *	items it;
 *	items_init(&it);
 *	cache_out_item *o = items_add_out(&it, "example.com");
 *	o->e.ref = items_str(&it, uuid);
 *	cache_replace_provider(c, PROV_JETEMAIL, it.out, it.n_out, it.in, it.n_in, &meta);
 *	items_free(&it);
 *
 * DESCRIPTION
 *	The provider clients normalise API answers into cache_out_item and
 *	cache_in_item arrays (cache/record.h). Every string and array the
 *	items point to is carved from one arena owned by the set, so a whole
 *	refresh (10,000 domains) is freed at once and costs few allocations.
 *	A failed allocation is sticky: items_failed() says so once at the end.
 *	New entries start with every string "" and the provider set.
 */
#ifndef SG_PROVIDERS_ITEMS_H
#define SG_PROVIDERS_ITEMS_H

#include <stdbool.h>
#include <stddef.h>

#include "cache/record.h"

typedef struct items_chunk items_chunk;

typedef struct items {
    int provider;
    cache_out_item *out;
    size_t n_out, cap_out;
    cache_in_item *in;
    size_t n_in, cap_in;
    items_chunk *chunks;
    bool failed;
} items;

void items_init(items *s, int provider);
void items_free(items *s);
void *items_alloc(items *s, size_t n);
const char *items_str(items *s, const char *str);
const char *items_strn(items *s, const char *str, size_t n);
cache_out_item *items_add_out(items *s, const char *domain);
cache_in_item *items_add_in(items *s, const char *domain);
bool items_copy_out(items *s, cache_out_entry *dst, const cache_out_entry *src);
bool items_copy_in(items *s, cache_in_entry *dst, const cache_in_entry *src);
bool items_failed(const items *s);

#endif
