/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * suppress.h - recipients who unsubscribed from a sending domain
 *
 * sendgate-trackd records a one-click unsubscription here (database
 * "suppress" of the cache environment); sendgate-milter and
 * sendgate-policyd consult it for every recipient and apply
 * handling.suppressed_recipient (default: reject that recipient, 550
 * 5.7.1) for that sending domain only. The key is
 * "<sending domain>\0<recipient, lowercased>", the value the time and the
 * message reference of the unsubscription.
 */
#ifndef SG_CACHE_SUPPRESS_H
#define SG_CACHE_SUPPRESS_H

#include <stdint.h>

#include "cache/cache.h"

#define SUPPRESS_REF_MAX 128

typedef struct suppress_entry {
    int64_t when;               /* unix time of the (first) unsubscription */
    char ref[SUPPRESS_REF_MAX]; /* message reference of the link used */
} suppress_entry;

int suppress_add(cache *c, const char *domain, const char *rcpt, int64_t when, const char *ref);
int suppress_check(cache *c, const char *domain, const char *rcpt, suppress_entry *e);
int suppress_remove(cache *c, const char *domain, const char *rcpt);

#endif
