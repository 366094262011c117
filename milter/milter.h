/*
 * milter.h - sendgate-milter: contexts and the pieces main.c wires together
 *
 * DATA FLOW
 *	Postfix/Sendmail -> libmilter -> callbacks.c (one connection context
 *	per SMTP connection, one message context per transaction) -> the
 *	verdict (cache/verdict.c) at MAIL FROM or end of header, BCC and
 *	suppression at end of message, the body buffered by body.c and handed
 *	to tracking.c, whose header edits and new body apply.c sends back.
 *	Every smfi_* call goes through mlt.c, so test mode (testmode.c,
 *	`sendgate-milter -t`) drives the very same callbacks without an MTA.
 *
 * CONFIGURATION
 *	A milter_config bundles the parsed sendgate.conf with what is derived
 *	from it (internal networks). Each connection takes a reference at
 *	connect and drops it at close; SIGHUP installs a new bundle, and the
 *	old one is freed when its last connection ends.
 */
#ifndef SG_MILTER_H
#define SG_MILTER_H

#include <libmilter/mfapi.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "cache/cache.h"
#include "cache/verdict.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "milter/body.h"
#include "lib/netlist.h"

/* [milter] domain_source */
enum { MILTER_SOURCE_HEADER = 0, MILTER_SOURCE_ENVELOPE = 1 };
/* [milter] from_fallback */
enum { MILTER_FALLBACK_NONE = 0, MILTER_FALLBACK_ENVELOPE = 1 };

/* header fields kept for the rewrite step: beyond either bound the message
   is delivered unchanged; the From: fields are judged wherever they are */
#define MILTER_MAX_HEADERS      1000
#define MILTER_MAX_HEADER_BYTES (1024 * 1024)
#define MILTER_MAX_DOMAINS      ADDR_FROM_DOMAINS /* distinct From: domains judged */
#define MILTER_QID_MAX          64

typedef struct milter_config {
    conf *cfg;
    netlist internal; /* [milter] internal_networks */
    void *tracking;   /* tracking.c's per-configuration state (token keys) */
    int refcnt;
} milter_config;

typedef struct milter_header {
    char *name;
    char *value;
} milter_header;

/* one SMTP transaction (MAIL FROM to end of message or abort) */
typedef struct milter_msg {
    char qid[MILTER_QID_MAX];
    char sender[ADDR_MAX]; /* "" = null sender */
    char env_domain[DOMAIN_MAX];
    bool have_env_domain;
    char **rcpts; /* accepted recipients, as given (without <>) */
    size_t n_rcpts, cap_rcpts;
    milter_header *hdrs;
    size_t n_hdrs, cap_hdrs, hdr_bytes;
    bool too_many_headers;
    addr_from from; /* every From: field, read as it arrives (domain_source = header) */
    char domains[MILTER_MAX_DOMAINS][DOMAIN_MAX]; /* sending domain(s) decided on */
    size_t n_domains;
    const char *domain_from; /* "header", "envelope", "envelope (no From: address)" */
    cache_outbound *rec;     /* record of the domain the settings come from */
    verdict v;
    verdict refuse; /* decided at end of header, given at end of message */
    bool refusing;
    bool decided;    /* a verdict has been reached for this message */
    bool needs_body; /* tracking: the body must be collected */
    milter_body body;
    unsigned bcc_added;
    unsigned rcpts_removed;
    struct timespec started;
    char summary[256]; /* what the rewrite step did, for the log line */
} milter_msg;

/* one SMTP connection */
typedef struct milter_conn {
    milter_config *mc;
    bool outgoing;
    bool non_smtpd; /* sendmail(1)/pickup submission: never reject a recipient */
    char client_addr[64];
    char client_name[256];
    const char *why_outgoing;
    milter_msg *msg;
} milter_conn;

/* main.c */
milter_config *milter_config_get(void);
void milter_config_put(milter_config *mc);
cache *milter_cache(void);

/* callbacks.c */
extern struct smfiDesc milter_desc;
/* the MTA may skip waiting for our answer to headers, DATA and end of
   headers (SMFIP_NR_*): only over a unix: socket, since over TCP the MTA's
   unanswered small writes meet Nagle and delayed ACKs (set by main.c) */
extern bool milter_noreply;
sfsistat milter_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr);
sfsistat milter_envfrom(SMFICTX *ctx, char **argv);
sfsistat milter_envrcpt(SMFICTX *ctx, char **argv);
sfsistat milter_data(SMFICTX *ctx);
sfsistat milter_header_cb(SMFICTX *ctx, char *name, char *value);
sfsistat milter_eoh(SMFICTX *ctx);
sfsistat milter_body_cb(SMFICTX *ctx, unsigned char *chunk, size_t len);
sfsistat milter_eom(SMFICTX *ctx);
sfsistat milter_abort(SMFICTX *ctx);
sfsistat milter_close(SMFICTX *ctx);
sfsistat milter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                          unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                          unsigned long *pf2, unsigned long *pf3);
void milter_msg_free(milter_msg *m);

/* outgoing.c */
bool milter_is_outgoing(const milter_config *mc, const char *client_addr, const char *daemon_name,
                        const char *auth_authen, const char **why);
bool milter_list_has(const conf_list *l, const char *word);

/* reply.c */
void milter_reply_text(const char *text, char *out, size_t len);
sfsistat milter_apply_verdict(SMFICTX *ctx, const verdict *v, const char *qid, const char *stage);

#endif
