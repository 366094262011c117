/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * refresh.h - the refresher: provider APIs into the LMDB cache
 *
 * SYNOPSIS
 *	#include "providers/refresh.h"
 *
 *	http_global_init();      (providers/http.h; once, before any thread)
 *
 *	One pass (sendgate-policyd --once, sendgatectl refresh):
 *	buf report = BUF_INIT;
 *	int ex = refresh_all(cfg, cache, time(NULL), 0, &report);
 *	  ex: EX_OK when every enabled provider was refreshed; otherwise
 *	  EX_TEMPFAIL (only deferrals: a provider's next_attempt is ahead),
 *	  EX_UNAVAILABLE (a provider refresh failed), EX_DATAERR (the static
 *	  file has errors), EX_CONFIG (no provider is enabled). report holds
 *	  one line per provider ("jetemail: ok, 12 outbound, 3 inbound").
 *
 *	One provider:
 *	int r = refresh_provider(cfg, cache, PROV_JETEMAIL, time(NULL), 0, &outcome);
 *	  r: REFRESH_OK, REFRESH_DEFERRED, REFRESH_FAILED or REFRESH_DISABLED
 *	  outcome: what happened, success included ("12 outbound, 3 inbound"):
 *	  a report like refresh_all's, so a buf, not an error buffer
 *	  (doc/hacking.md, "Errors")
 *
 *	The daemon's thread:
 *	refresher *r = refresher_start(cfg, cache);   (after the privilege drop)
 *	refresher_trigger(r);                          SIGUSR1: refresh now
 *	refresher_reload(r, new_cfg);                  SIGHUP, after the new config is in use
 *	refresher_stop(r);                             joins the thread; NULL is fine
 *
 * DESCRIPTION
 *	A refresh of one provider fetches everything the provider says
 *	(JetEmail: outbound domains and their settings, inbound domains, their
 *	settings and forward rules; Mailtrap: the domains; static: the local
 *	file), normalises it into cache records and commits it in ONE LMDB
 *	write transaction together with the provider's meta record
 *	(cache_replace_provider): readers see the old or the new state,
 *	never a mix.
 *
 *	A failed refresh (network error, timeout, any HTTP error, malformed,
 *	truncated or oversized JSON) changes no domain data: only the meta
 *	record is written (last attempt, last error, consecutive failures,
 *	next_attempt). A JetEmail domain whose per-domain settings call fails
 *	with an HTTP error keeps its previous cache entry (carried over into
 *	the new transaction); a domain never seen before gets the list data
 *	with tracking and BCC off.
 *
 *	Rate limits. meta.next_attempt is the persisted "no request before"
 *	time of a provider, set after a failure to the later of
 *	  - the provider's Retry-After (seconds or HTTP-date); on a 429
 *	    without one, [jetemail|mailtrap] retry_after_default (JetEmail's
 *	    documented 5-minute lockout; retrying inside it prolongs it);
 *	  - exponential backoff: refresh.backoff_min doubled per consecutive
 *	    failure, at most refresh.backoff_max.
 *	No request is sent before next_attempt, by the daemon, after a
 *	restart, or by sendgatectl refresh: such a refresh returns
 *	REFRESH_DEFERRED without touching the network. REFRESH_FORCE skips
 *	the backoff of ordinary failures but never a rate-limit wait
 *	(a last error of "HTTP 429 ..."). Within a refresh every request takes
 *	a token from the provider's budget (request_budget per budget_window,
 *	a token bucket per process), waiting when the bucket is empty.
 *
 *	sendgatectl's provider commands share the rule: refresh_held says
 *	whether a rate-limit wait is running (they then send nothing), and
 *	refresh_note_429 records a 429 they received so the refresher, in any
 *	process, waits as well.
 *
 *	The thread polls each enabled provider every refresh.interval, spread
 *	by +-refresh.jitter percent, and sooner after a failure (at
 *	next_attempt). refresher_stop interrupts a transfer or a wait
 *	promptly. The refresher holds a reference on its configuration.
 *
 *	Logging: one line per refresh (info on success, warning on failure);
 *	tokens and webhook secrets are never logged.
 */
#ifndef SG_PROVIDERS_REFRESH_H
#define SG_PROVIDERS_REFRESH_H

#include <stdbool.h>
#include <time.h>

#include "cache/cache.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/errbuf.h"

enum refresh_result {
    REFRESH_OK = 0,       /* new data committed */
    REFRESH_DEFERRED = 1, /* nothing sent: meta.next_attempt is still ahead */
    REFRESH_FAILED = 2,   /* tried and failed: old data kept, meta says why */
    REFRESH_DISABLED = 3, /* the provider is not enabled in the configuration */
};

/* flags */
#define REFRESH_FORCE 0x1u /* ignore the backoff of ordinary failures (never Retry-After) */

typedef struct refresher refresher;

int refresh_provider(const conf *cfg, cache *c, int provider, time_t now, unsigned flags,
                     buf *outcome);
int refresh_all(const conf *cfg, cache *c, time_t now, unsigned flags, buf *report);
const char *refresh_result_name(int result);
bool refresh_held(cache *c, int provider, time_t now, char *why, size_t whylen);
void refresh_note_429(const conf *cfg, cache *c, int provider, time_t now, time_t retry_after,
                      const char *error);
bool refresh_any_enabled(const conf *cfg);
bool refresh_enabled(const conf *cfg, int provider);

refresher *refresher_start(conf *cfg, cache *c);
void refresher_trigger(refresher *r);
void refresher_reload(refresher *r, conf *cfg);
void refresher_stop(refresher *r);

#endif
