/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trackreq.h - what sendgate-trackd answers to a request, without HTTP plumbing
 *
 * SYNOPSIS
 *	trackreq rq = {.method = TM_GET, .path = "/c/<token>", .ua = ua, .client = addr,
 *	               .now_ms = now};
 *	trackresp rs;  trackresp_init(&rs);
 *	trackreq_handle(&state, &env, &rq, &rs);     rs.status, rs.location, rs.body ...
 *	trackresp_free(&rs);
 *
 * DESCRIPTION
 *	The daemon's HTTP layer (httpd.c, libmicrohttpd) turns a request into a
 *	trackreq and the trackresp back into a response; everything in between
 *	is here, so unit tests drive the endpoints without a server:
 *
 *	GET|HEAD /c/TOKEN  click token: 302 to the re-validated destination;
 *	                   bad, tampered, wrong-purpose or revoked: 404 page.
 *	GET|HEAD /o/TOKEN  always 200 with a 43-byte transparent GIF.
 *	GET|HEAD /u/TOKEN  confirmation page with a button (changes nothing).
 *	POST     /u/TOKEN  List-Unsubscribe=One-Click (RFC 8058) or the button:
 *	                   suppress_add(domain, rcpt), once; 200 page, no redirect.
 *	GET|HEAD /metrics  Prometheus text;  /healthz  "ok".  Both only for
 *	                   clients in trackd.metrics_allow (else 403).
 *	OPTIONS on an endpoint: 204 with Allow; other methods: 405.
 *
 *	Only GET and POST record: HEAD answers the same and records nothing.
 *	Recording means: one event into the event writer (evlog.h), which
 *	also updates the statistics and the event counters of /metrics.
 *	Every response to a token URL is no-store, no-referrer and noindex.
 */
#ifndef SG_TRACKD_TRACKREQ_H
#define SG_TRACKD_TRACKREQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/cache.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/token.h"
#include "lib/netlist.h"
#include "trackd/evlog.h"
#include "trackd/tmetrics.h"

#define TRACKREQ_GIF_LEN 43
extern const unsigned char trackreq_gif[TRACKREQ_GIF_LEN];

enum trackreq_privacy { TRACKREQ_FULL = 0, TRACKREQ_TRUNCATE = 1, TRACKREQ_DROP = 2 };

/* one configuration generation: replaced as a whole on SIGHUP */
typedef struct trackreq_state {
    conf *cfg;
    token_keys *keys;
    netlist trusted, metrics_allow;
} trackreq_state;

/* what lives as long as the daemon */
typedef struct trackreq_env {
    cache *cache;
    evlog *events;
    tmetrics *metrics;
    pthread_mutex_t unsub_mu; /* check-then-add of an unsubscription is one step */
} trackreq_env;

typedef struct trackreq {
    int method;          /* enum tmetrics_method */
    const char *path;    /* without the query string */
    const char *ua;      /* User-Agent, NULL when absent */
    netlist_addr client; /* after trusted-proxy resolution */
    const char *ctype;   /* Content-Type of a POST */
    const char *body;
    size_t body_len;
    int64_t now_ms;
} trackreq;

enum trackresp_body { TRACKRESP_EMPTY, TRACKRESP_GIF, TRACKRESP_HTML, TRACKRESP_TEXT };

typedef struct trackresp {
    int status;
    int body_kind;     /* enum trackresp_body */
    buf body;          /* HTML or text */
    buf location;      /* 302 only */
    const char *allow; /* Allow header (405, OPTIONS) */
    bool token_url;    /* no-store, no-referrer, noindex */
    bool page_guard;   /* unsubscribe pages: frame and content restrictions */
    int endpoint;      /* enum tmetrics_endpoint, for the caller's logs */
} trackresp;

bool trackreq_state_init(trackreq_state *st, conf *cfg, char *err, size_t errlen);
void trackreq_state_free(trackreq_state *st);
void trackresp_init(trackresp *rs);
void trackresp_free(trackresp *rs);
void trackreq_handle(const trackreq_state *st, trackreq_env *env, const trackreq *rq,
                     trackresp *rs);

#endif
