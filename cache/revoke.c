/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * revoke.c - the revocation list in the cache's "revoked" database (see revoke.h)
 *
 * Written by sendgatectl, read by sendgate-trackd for every click and open.
 */
#include "cache/revoke.h"

#include <stdio.h>
#include <string.h>

#include "lib/domain.h"
#include "lib/token.h"

#define REVOKE_KEY_MAX (2 + DOMAIN_MAX + TOKEN_MSGREF_MAX)

/* revoke_key - "m:ref" or "d:domain"; 0 when the name is empty or too long */
static size_t revoke_key(int kind, const char *name, char *key)
{
    size_t n = strlen(name);

    if (n == 0 || n + 2 >= REVOKE_KEY_MAX || (kind != REVOKE_MESSAGE && kind != REVOKE_DOMAIN))
        return 0;
    key[0] = (char)kind;
    key[1] = ':';
    memcpy(key + 2, name, n);
    return n + 2;
}

/* revoke_add - revoke (again: the time and note are replaced) */
int revoke_add(cache *c, int kind, const char *name, int64_t when, const char *note)
{
    char key[REVOKE_KEY_MAX], val[8 + REVOKE_NOTE_MAX];
    size_t kl = revoke_key(kind, name, key), nl = note ? strnlen(note, REVOKE_NOTE_MAX) : 0;

    if (kl == 0)
        return CACHE_ERROR;
    for (int i = 0; i < 8; i++)
        val[i] = (char)((uint64_t)when >> (8 * i));
    memcpy(val + 8, note ? note : "", nl);
    return cache_put_raw(c, "revoked", key, kl, val, 8 + nl);
}

/* revoke_remove - take a revocation back */
int revoke_remove(cache *c, int kind, const char *name)
{
    char key[REVOKE_KEY_MAX];
    size_t kl = revoke_key(kind, name, key);

    return kl == 0 ? CACHE_ERROR : cache_del_raw(c, "revoked", key, kl);
}

/* revoke_lookup - is this one key present? */
static int revoke_lookup(cache *c, int kind, const char *name)
{
    char key[REVOKE_KEY_MAX], val[8 + REVOKE_NOTE_MAX];
    size_t kl = revoke_key(kind, name, key), vl = sizeof(val);
    int rc;

    if (kl == 0)
        return CACHE_NOTFOUND;
    rc = cache_get_raw(c, "revoked", key, kl, val, &vl);
    return rc == CACHE_CORRUPT ? CACHE_OK : rc; /* an oversized value still revokes */
}

/* revoke_check - CACHE_OK when the message or its domain is revoked, else NOTFOUND/ERROR */
int revoke_check(cache *c, const char *msgref, const char *domain)
{
    int rc = revoke_lookup(c, REVOKE_MESSAGE, msgref);

    if (rc != CACHE_NOTFOUND)
        return rc;
    return revoke_lookup(c, REVOKE_DOMAIN, domain);
}

struct revoke_iter {
    revoke_fn fn;
    void *arg;
};

static void revoke_each(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct revoke_iter *it = arg;
    const unsigned char *v = val;
    char name[REVOKE_KEY_MAX], note[REVOKE_NOTE_MAX + 1];
    uint64_t when = 0;

    if (klen < 3 || klen >= REVOKE_KEY_MAX || ((const char *)key)[1] != ':' || vlen < 8)
        return;
    snprintf(name, sizeof(name), "%.*s", (int)(klen - 2), (const char *)key + 2);
    for (int i = 7; i >= 0; i--)
        when = (when << 8) | v[i];
    snprintf(note, sizeof(note), "%.*s", (int)(vlen - 8), (const char *)val + 8);
    it->fn(it->arg, ((const char *)key)[0], name, (int64_t)when, note);
}

/* revoke_foreach - every revocation, in key order */
int revoke_foreach(cache *c, revoke_fn fn, void *arg)
{
    struct revoke_iter it = {fn, arg};

    return cache_foreach_raw(c, "revoked", revoke_each, &it);
}
