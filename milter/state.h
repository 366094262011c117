/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * state.h - sendgate-milter's running state: the configuration and the cache
 *
 * SYNOPSIS
 *	milter_config *mc = state_config_build(cfg, err, sizeof(err));   consumes cfg
 *	state_config_install(mc);             the running configuration from now on
 *	mc = state_config_get(); ... state_config_put(mc);     one reference
 *	cache *c = state_cache();             opened on first use
 *	state_end();                          at exit
 *
 * CONFIGURATION
 *	A milter_config bundles the parsed sendgate.conf with what is derived
 *	from it (internal networks, the tracking keys). Each connection takes
 *	a reference at connect and drops it at close; SIGHUP installs a new
 *	bundle, and the old one is freed when its last connection ends.
 *
 * CACHE
 *	One handle for the process, opened read-only with CACHE_RETRY: a
 *	cache that is missing or damaged still gives a handle, which answers
 *	CACHE_ERROR (handling.cache_error) and reopens itself every few
 *	seconds; the milter never repairs it (sendgate-policyd does).
 *	state_cache is NULL only when out of memory, then retried every 10
 *	seconds.
 *
 * The daemon (main.c), test mode and the unit tests set the state up
 * this way; the callbacks only read it.
 */
#ifndef SG_MILTER_STATE_H
#define SG_MILTER_STATE_H

#include <stddef.h>

#include "cache/cache.h"
#include "lib/conf.h"
#include "lib/netlist.h"

/* [milter] domain_source */
enum { MILTER_SOURCE_HEADER = 0, MILTER_SOURCE_ENVELOPE = 1 };
/* [milter] from_fallback */
enum { MILTER_FALLBACK_NONE = 0, MILTER_FALLBACK_ENVELOPE = 1 };

typedef struct milter_config {
    conf *cfg;
    netlist internal;                /* [milter] internal_networks */
    struct tracking_state *tracking; /* tracking.c's per-configuration state (token keys) */
    int refcnt;
} milter_config;

milter_config *state_config_build(conf *cfg, char *err, size_t errlen);
void state_config_install(milter_config *mc);
milter_config *state_config_get(void);
void state_config_put(milter_config *mc);
cache *state_cache(void);
void state_end(void);

#endif
