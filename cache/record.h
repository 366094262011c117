/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * record.h - what the cache holds about a domain
 *
 * Three record kinds live in the LMDB environment (see cache.h):
 *
 *	outbound  key: sending domain (lowercase A-label)
 *	          value: one cache_out_entry per provider that knows the domain
 *	inbound   key: receiving domain
 *	          value: one cache_in_entry per provider that knows the domain
 *	meta      key: provider name
 *	          value: cache_meta (refresh bookkeeping)
 *
 * Strings in decoded records point into storage owned by the record
 * (copied out of the LMDB transaction), so a record stays valid after the
 * transaction ends and needs no freeing for outbound and meta; inbound
 * records can be large (200 forward rules) and are freed with
 * cache_inbound_free.
 */
#ifndef SG_CACHE_RECORD_H
#define SG_CACHE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cache_provider { PROV_STATIC = 0, PROV_JETEMAIL = 1, PROV_MAILTRAP = 2, PROV__COUNT };

/* normalised "may this domain send?" */
enum cache_send {
    SEND_ALLOWED = 0, /* e.g. Mailtrap compliant */
    SEND_PENDING = 1, /* the provider is deciding (under_review): ask again soon */
    SEND_BLOCKED = 2, /* the provider refuses this domain */
    SEND_DEMO = 3,    /* only to the account owner (Mailtrap demo) */
    SEND__COUNT
};

enum cache_delivery {
    DELIVERY_SMTP = 0,
    DELIVERY_WEBHOOK = 1,
    DELIVERY_FORWARD = 2,
    DELIVERY__COUNT
};

#define CACHE_MAX_BCC   16
#define CACHE_MAX_SMTP  16
#define CACHE_MAX_RULES 1000
#define CACHE_OUT_MAX   16384 /* largest encoded outbound value */
#define CACHE_IN_MAX    262144
#define CACHE_ERROR_MAX 512

typedef struct cache_bcc {
    const char *addr;
    bool verified; /* JetEmail status 1; pending addresses are never added to mail */
} cache_bcc;

typedef struct cache_out_entry {
    uint8_t provider; /* enum cache_provider */
    uint8_t send;     /* enum cache_send */
    bool open_tracking;
    bool click_tracking;
    bool unsubscribe;          /* add List-Unsubscribe and a footer link */
    const char *ref;           /* the provider's id for the domain (uuid, number) */
    const char *raw_status;    /* the provider's own status word */
    const char *reason;        /* human text: why, and what the owner must do */
    const char *tracking_host; /* the domain's own tracking host, "" = none */
    int64_t fetched_at;        /* unix time the provider said this */
    uint8_t n_bcc;
    cache_bcc bcc[CACHE_MAX_BCC];
} cache_out_entry;

typedef struct cache_outbound {
    const char *domain;
    uint8_t n;
    cache_out_entry e[PROV__COUNT];
    size_t store_len;
    char store[CACHE_OUT_MAX]; /* the value, copied out of LMDB; strings point here */
} cache_outbound;

typedef struct cache_smtp_server {
    const char *host;
    int port;
    int priority; /* lower value = preferred, as for MX records */
    bool tls;
} cache_smtp_server;

typedef struct cache_fwd_rule {
    const char *ref;         /* rule uuid */
    const char *localpart;   /* lowercase; "*" = catch-all */
    const char *destination; /* bare local@domain */
    bool active;
    bool verified; /* destination owner confirmed */
} cache_fwd_rule;

typedef struct cache_in_entry {
    uint8_t provider;
    uint8_t delivery; /* enum cache_delivery */
    bool active;
    bool fwd_mx_verified, fwd_dkim_verified, fwd_spf_verified, fwd_dmarc_verified;
    const char *ref;
    const char *webhook_url;
    const char *webhook_method;
    int webhook_timeout_ms;
    int webhook_retry_count;
    int64_t fetched_at;
    size_t n_smtp;
    cache_smtp_server *smtp;
    size_t n_rules;
    cache_fwd_rule *rules;
} cache_in_entry;

typedef struct cache_inbound {
    const char *domain;
    uint8_t n;
    cache_in_entry e[PROV__COUNT];
    char *store;  /* heap copy of the value */
    void *arrays; /* heap block for smtp[] and rules[] */
} cache_inbound;

typedef struct cache_meta {
    int64_t last_attempt; /* last refresh started */
    int64_t last_success; /* last refresh committed */
    int64_t next_attempt; /* no request before this (Retry-After, backoff, lockout) */
    uint32_t failures;    /* consecutive failed refreshes */
    uint32_t n_outbound;  /* records written by the last success */
    uint32_t n_inbound;
    char last_error[CACHE_ERROR_MAX];
} cache_meta;

/* write-side items: a domain and what one provider says about it */
typedef struct cache_out_item {
    const char *domain;
    cache_out_entry e;
} cache_out_item;

typedef struct cache_in_item {
    const char *domain;
    cache_in_entry e;
} cache_in_item;

const char *cache_provider_name(int p);
int cache_provider_parse(const char *name);
const char *cache_send_name(int s);
int cache_send_parse(const char *name);
const char *cache_delivery_name(int d);
int cache_delivery_parse(const char *name);
const char *cache_providers_text(unsigned providers, char *out, size_t len);
const cache_out_entry *cache_outbound_find(const cache_outbound *r, int provider);
void cache_inbound_free(cache_inbound *r);

#endif
