/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * botlabel.h - label machine traffic on tracking events (never refuse it)
 *
 * SYNOPSIS
 *	const char *l = botlabel_ua(user_agent);            "image_proxy", "script", ... or NULL
 *	if (!l && botlabel_early(now, claims.issued, window)) l = "early";
 *	botlabel_burst *b = botlabel_burst_new(4096);
 *	if (!l && botlabel_burst_hit(b, key, link_index, now_ms)) l = "burst";
 *
 * DESCRIPTION
 *	The signals of TRACKING.md section 5: image proxies and prefetchers
 *	(Gmail's GoogleImageProxy, Apple Mail Privacy Protection's bare
 *	"Mozilla/5.0"), security scanners and link checkers, scripts and
 *	headless browsers, an empty user agent; a hit within a few seconds of
 *	sending; several different links of one message from one address
 *	within one second. A label goes into the event and the statistics; the
 *	redirect and the pixel are served all the same. HEAD requests are never
 *	recorded at all.
 *
 *	A burst tracker belongs to one thread (trackd's event writer).
 */
#ifndef SG_TRACKD_BOTLABEL_H
#define SG_TRACKD_BOTLABEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct botlabel_burst botlabel_burst;

const char *botlabel_ua(const char *ua);
bool botlabel_early(int64_t now, int64_t issued, long window);
botlabel_burst *botlabel_burst_new(size_t slots);
void botlabel_burst_free(botlabel_burst *b);
bool botlabel_burst_hit(botlabel_burst *b, uint64_t key, unsigned link, int64_t now_ms);
uint64_t botlabel_key(const char *msgref, const char *client);

#endif
