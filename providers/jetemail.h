/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jetemail.h - the JetEmail account API: refresh reads, normalisation, writes
 *
 * SYNOPSIS
 *	jet_client j;
 *	jet_client_init(&j, cfg, budget, cancel, err, sizeof(err));
 *	jet_fetch(&j, cache, &items, now, &stats, &fail);       the refresher
 *	cJSON *root = jet_call(&j, "GET", "/outbound/domains", NULL, &fail);   sendgatectl
 *	jet_client_free(&j);
 *
 * DESCRIPTION
 *	Reads (PROVIDERS.md part 1; shapes marked [I] there are accepted in
 *	every documented variant):
 *	  GET /outbound/domains                    rows under result, results,
 *	                                           data, or a bare array
 *	  GET /outbound/domains/{uuid}/settings    {"settings": {...}} (also
 *	                                           result/data/top level);
 *	                                           bccEmails [{email, status 0|1}],
 *	                                           openTracking, clickTracking,
 *	                                           tracking_domain (camelCase or
 *	                                           snake_case alike)
 *	  GET /inbound/domains                     status 1/0 or "active"/"disabled"
 *	  GET /inbound/settings/{uuid}             {"result": {...}} or
 *	                                           {"results": [{...}]} (older)
 *	  GET /inbound/domains/{uuid}/forward-rules  only for forward domains
 *	An answer {"success": false, ...} with a 2xx status is an error too.
 *
 *	Send status. JetEmail documents no "may send" flag for a domain, but
 *	it refuses to send for a domain without a verified DMARC record
 *	(p=none is enough). sendgate derives the send status from the
 *	domain's status word and dns.dmarc.verified with this table:
 *
 *	  status (word or number)                   DMARC verified   otherwise
 *	  active verified enabled approved valid    allowed          blocked
 *	    ok, 1, true
 *	  pending verifying checking processing     pending          blocked
 *	    in_progress
 *	  disabled inactive suspended blocked       blocked          blocked
 *	    rejected failed unverified deleted,
 *	    0, false
 *	  anything else, or missing                 blocked          blocked
 *
 *	DMARC verified means dns.dmarc.verified (or dmarc_verified,
 *	dmarcVerified, dns.dmarc as a boolean) is true; when the answer does
 *	not say, DMARC counts as not verified. SPF and DKIM are kept out of
 *	the decision (JetEmail does not document refusing on them).
 *	The raw status word is kept; the reason says what the owner must do.
 *
 *	Settings: open and click tracking as given (off when absent); BCC
 *	addresses with status 1 are verified, every other status (and a bare
 *	address string) is pending, and pending addresses are never added to
 *	mail. The tracking host is tracking_domain when it is set, a valid
 *	host name, and the list does not say dns.tracking.verified = false;
 *	otherwise "" (the milter then uses the operator's default host).
 *	JetEmail has no unsubscribe-link setting: unsubscribe is off.
 *
 *	Inbound: status, delivery type, SMTP servers ("host:port" strings,
 *	in order of preference, or {url, priority, tls_enabled} objects; the
 *	older single "nexthop" too), webhook URL, method, timeout and retry
 *	count, the four forward_*_verified flags, forward rules with active
 *	and verified (0/1). The webhook secret, headers and auth header are
 *	never read into the cache.
 */
#ifndef SG_PROVIDERS_JETEMAIL_H
#define SG_PROVIDERS_JETEMAIL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "cache/cache.h"
#include "lib/conf.h"
#include "lib/domain.h"
#include "lib/errbuf.h"
#include "providers/http.h"
#include "providers/items.h"

#define JET_MAX_BCC     5 /* the API's maxItems */
#define JET_MAX_SERVERS 16
#define JET_MAX_HEADERS 16

/* ---- normalisation (pure; providers/jetnorm.c) ---- */

typedef struct jet_out_row {
    char uuid[40];
    char domain[DOMAIN_MAX];
    char status[48]; /* the raw status, as text ("active", "1") */
    int dmarc;       /* dns.dmarc.verified: 1, 0, or -1 when the answer does not say */
    int tracking;    /* dns.tracking.verified: 1, 0, -1 */
} jet_out_row;

typedef struct jet_in_row {
    char uuid[40];
    char domain[DOMAIN_MAX];
    int delivery; /* enum cache_delivery, -1 unknown */
    int active;   /* 1, 0, -1 unknown */
} jet_in_row;

bool jet_uuid_valid(const char *s);
bool jet_out_row_parse(const cJSON *row, jet_out_row *r, char *err, size_t errlen);
void jet_send_status(const char *status, int dmarc, int *send, const char **reason);
cache_out_item *jet_out_item(items *it, const jet_out_row *r, int64_t now);
bool jet_out_settings(items *it, cache_out_entry *e, const jet_out_row *r, const cJSON *root,
                      char *err, size_t errlen);
bool jet_in_row_parse(const cJSON *row, jet_in_row *r, char *err, size_t errlen);
cache_in_item *jet_in_item(items *it, const jet_in_row *r, int64_t now);
bool jet_in_settings(items *it, cache_in_entry *e, const cJSON *root, char *err, size_t errlen);
bool jet_in_rules(items *it, cache_in_entry *e, const cJSON *root, char *err, size_t errlen);
bool jet_smtp_parse(const char *spec, cache_smtp_server *s, char *host, size_t hostlen);
bool jet_failed_answer(const cJSON *root, char *why, size_t whylen);

/* ---- the client (providers/jetemail.c) ---- */

typedef struct jet_client {
    http_client h;
} jet_client;

typedef struct jet_stats {
    unsigned n_out, n_in;
    unsigned carried; /* domains whose per-domain call failed: previous entry kept */
    unsigned skipped; /* rows sendgate could not read (and had no previous entry for) */
} jet_stats;

bool jet_client_init(jet_client *j, const conf *cfg, http_budget *b, const atomic_bool *cancel,
                     char *err, size_t errlen);
void jet_client_free(jet_client *j);
cJSON *jet_call(jet_client *j, const char *method, const char *path, const cJSON *body,
                http_failure *f);
bool jet_fetch(jet_client *j, cache *prev, items *it, int64_t now, jet_stats *st, http_failure *f);
bool jet_fetch_outbound_one(jet_client *j, const cJSON *row, items *it, int64_t now,
                            http_failure *f);
bool jet_fetch_inbound_one(jet_client *j, const cJSON *row, items *it, int64_t now,
                           http_failure *f);
const cJSON *jet_find_row(const cJSON *root, const char *domain);

/* ---- writes: validation and bodies (pure; providers/jetreq.c) ---- */

typedef struct jet_settings_req {
    bool set_bcc; /* send bccEmails */
    size_t n_bcc; /* 0 with set_bcc: clear (null) */
    const char *bcc[JET_MAX_BCC + 1];
    size_t n_bcc_given; /* how many --bcc were given (to refuse more than 5) */
    int open_tracking;  /* -1 unchanged, 0, 1 */
    int click_tracking;
    bool set_tracking_domain;
    const char *tracking_domain; /* "" clears (null) */
} jet_settings_req;

typedef struct jet_server {
    char host[DOMAIN_MAX];
    int port;
    int priority; /* -1 not given */
    int tls;      /* -1 not given, 0, 1 */
} jet_server;

typedef struct jet_inbound_req {
    const char *domain;
    const char *delivery; /* "smtp", "webhook", "forward" */
    size_t n_servers;
    jet_server servers[JET_MAX_SERVERS];
    const char *webhook_url, *webhook_method, *webhook_auth_header;
    size_t n_headers;
    const char *headers[JET_MAX_HEADERS]; /* "Name: value" */
    long webhook_timeout;                 /* ms, -1 unset */
    long webhook_retry_count;             /* -1 unset */
} jet_inbound_req;

bool jet_settings_check(const jet_settings_req *r, char *why, size_t whylen);
cJSON *jet_settings_body(const jet_settings_req *r);
bool jet_server_parse(const char *spec, jet_server *s, char *why, size_t whylen);
bool jet_inbound_check(const jet_inbound_req *r, char *why, size_t whylen);
cJSON *jet_inbound_body(const jet_inbound_req *r);
bool jet_domain_check(const char *in, char out[DOMAIN_MAX], char *why, size_t whylen);

#endif
