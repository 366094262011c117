/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * static.h - the static provider: domains described in a local file
 *
 * The file is INI, one section per domain, and is loaded into the cache
 * exactly like an API provider's answer (one write transaction replacing
 * everything the static provider said before). It serves the demo, the
 * tests, and operators who want local overrides. The format is documented
 * in sendgate.conf(5) and conf/domains.conf:
 *
 *	[outbound example.com]
 *	status = compliant            Mailtrap vocabulary, or allowed|pending|blocked|demo
 *	reason = ...                  optional: replaces the standard explanation
 *	open_tracking = yes           click_tracking, unsubscribe likewise (default no)
 *	tracking_host = t.example.com
 *	bcc = archive@example.com     verified BCC recipients
 *	bcc_pending = new@example.com BCC recipients still unverified (never added)
 *
 *	[inbound example.net]
 *	status = active               or disabled
 *	delivery = smtp               smtp | webhook | forward
 *	smtp_servers = mx1.example.net:25:10:tls, mx2.example.net:2525:20
 *	webhook_url = https://hooks.example.net/in    webhook_method = POST|PUT
 *	forward = support -> team@example.org         one rule per (continued) line,
 *	          * -> catchall@example.org unverified  flags: inactive, unverified
 *	forward_dns_verified = yes    the MX, DKIM, SPF and DMARC checks all passed
 *
 * Any error (file:line) refuses the whole file: nothing is written. The
 * file is a regular file of at most STATIC_FILE_MAX bytes (lib/rfile.h).
 */
#ifndef SG_PROVIDERS_STATIC_H
#define SG_PROVIDERS_STATIC_H

#include <stdint.h>

#include "cache/cache.h"
#include "lib/conf.h"

#define STATIC_FILE_MAX (16 * 1024 * 1024) /* bytes: some 150,000 domains */

typedef struct static_domains static_domains;

static_domains *static_parse(const char *path, int64_t now, conf_report *rep);
void static_free(static_domains *s);
size_t static_count_outbound(const static_domains *s);
size_t static_count_inbound(const static_domains *s);
int static_store(cache *c, const static_domains *s, int64_t now);
int static_refresh(cache *c, const char *path, int64_t now, conf_report *rep);

#endif
