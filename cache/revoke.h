/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * revoke.h - withdraw the links of a message (or of a whole sending domain)
 *
 * SYNOPSIS
 *	revoke_add(cache, REVOKE_MESSAGE, "4VxYz1AbCdz", time(NULL), "phishing report #123");
 *	if (revoke_check(cache, claims.msgref, claims.domain) == CACHE_OK)  -> 404
 *	revoke_foreach(cache, fn, arg);    revoke_remove(cache, REVOKE_MESSAGE, ref);
 *
 * DESCRIPTION
 *	Tokens are stateless and never expire, so an abuse report needs a
 *	server-side list: `sendgatectl token revoke` writes it into the "revoked"
 *	database of the provider cache (LMDB), and sendgate-trackd reads it on
 *	every click: a revoked message's links answer 404 at once, without a
 *	restart, and its opens are no longer recorded. Unsubscribe links keep
 *	working (a recipient must always be able to leave).
 *	Key "m:<message reference>" or "d:<sending domain>"; value the time
 *	(8 bytes, little-endian) and a free-text note.
 */
#ifndef SG_CACHE_REVOKE_H
#define SG_CACHE_REVOKE_H

#include <stdint.h>

#include "cache/cache.h"

enum revoke_kind { REVOKE_MESSAGE = 'm', REVOKE_DOMAIN = 'd' };

#define REVOKE_NOTE_MAX 256

typedef void (*revoke_fn)(void *arg, int kind, const char *name, int64_t when, const char *note);

int revoke_add(cache *c, int kind, const char *name, int64_t when, const char *note);
int revoke_remove(cache *c, int kind, const char *name);
int revoke_check(cache *c, const char *msgref, const char *domain);
int revoke_foreach(cache *c, revoke_fn fn, void *arg);

#endif
