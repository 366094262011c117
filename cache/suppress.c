/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * suppress.c - the unsubscription table (see suppress.h)
 */
#include "cache/suppress.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/domain.h"

#define SUPPRESS_KEY_MAX (DOMAIN_MAX + ADDR_MAX + 1)

/* suppress_key - "domain\0rcpt" with the recipient lowercased; 0 when too long */
static size_t suppress_key(const char *domain, const char *rcpt, char *key)
{
    size_t dl = strlen(domain), rl = strlen(rcpt);

    if (dl >= DOMAIN_MAX || rl >= ADDR_MAX || dl == 0 || rl == 0 || dl + 1 + rl > 511)
        return 0; /* 511: LMDB's largest key; such a pair can never have been stored */
    memcpy(key, domain, dl + 1);
    for (size_t i = 0; i < rl; i++)
        key[dl + 1 + i] = (char)tolower((unsigned char)rcpt[i]);
    return dl + 1 + rl;
}

/* suppress_add - record (idempotently: the first time and reference are kept) */
int suppress_add(cache *c, const char *domain, const char *rcpt, int64_t when, const char *ref)
{
    char key[SUPPRESS_KEY_MAX], val[8 + SUPPRESS_REF_MAX];
    size_t kl = suppress_key(domain, rcpt, key), rl;
    suppress_entry old;

    if (kl == 0)
        return CACHE_ERROR;
    if (suppress_check(c, domain, rcpt, &old) == CACHE_OK)
        return CACHE_OK;
    for (int i = 0; i < 8; i++)
        val[i] = (char)((uint64_t)when >> (8 * i));
    rl = strnlen(ref ? ref : "", SUPPRESS_REF_MAX - 1);
    memcpy(val + 8, ref ? ref : "", rl);
    return cache_put_raw(c, "suppress", key, kl, val, 8 + rl);
}

/* suppress_check - CACHE_OK when rcpt unsubscribed from domain, CACHE_NOTFOUND when not */
int suppress_check(cache *c, const char *domain, const char *rcpt, suppress_entry *e)
{
    char key[SUPPRESS_KEY_MAX], val[8 + SUPPRESS_REF_MAX];
    size_t kl = suppress_key(domain, rcpt, key), vl = sizeof(val);
    int rc;
    uint64_t w = 0;

    if (kl == 0)
        return CACHE_NOTFOUND;
    rc = cache_get_raw(c, "suppress", key, kl, val, &vl);
    if (rc != CACHE_OK)
        return rc;
    if (vl < 8)
        return CACHE_CORRUPT;
    if (e) {
        for (int i = 7; i >= 0; i--)
            w = (w << 8) | (unsigned char)val[i];
        e->when = (int64_t)w;
        snprintf(e->ref, sizeof(e->ref), "%.*s", (int)(vl - 8), val + 8);
    }
    return CACHE_OK;
}

/* suppress_remove - forget an unsubscription (operator override) */
int suppress_remove(cache *c, const char *domain, const char *rcpt)
{
    char key[SUPPRESS_KEY_MAX];
    size_t kl = suppress_key(domain, rcpt, key);

    return kl == 0 ? CACHE_ERROR : cache_del_raw(c, "suppress", key, kl);
}
