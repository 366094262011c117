/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trackreq.c - sendgate-trackd's endpoints: click, open, unsubscribe, metrics, health
 *
 * Sits between the HTTP layer (httpd.c) and the pure pieces: tokens
 * (lib/token), the destination check (lib/redirect.c), bot labels (botlabel.c),
 * the one-click body (oneclick.c), pages (htmlpage.c), revocations
 * (revoke.c), the suppression table (cache/suppress) and the event writer
 * (evlog.c). See trackreq.h for the behaviour of each endpoint.
 */
#include "trackd/trackreq.h"

#include <stdio.h>
#include <string.h>

#include "cache/revoke.h"
#include "cache/suppress.h"
#include "lib/log.h"
#include "trackd/botlabel.h"
#include "trackd/clientip.h"
#include "trackd/htmlpage.h"
#include "trackd/oneclick.h"
#include "lib/redirect.h"

/* a transparent 1x1 GIF89a: header, screen, 2-colour table, transparency, image, trailer */
const unsigned char trackreq_gif[TRACKREQ_GIF_LEN] = {
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
        0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

/* trackreq_state_init - keys and address lists of one configuration */
bool trackreq_state_init(trackreq_state *st, conf *cfg, char *err, size_t errlen)
{
    memset(st, 0, sizeof(*st));
    if ((st->keys = token_keys_load(&cfg->tracking.key_files, err, errlen)) == NULL)
        return false;
    if (!netlist_parse(&st->trusted, &cfg->trackd.trusted_proxies, NETLIST_HOST_BITS, err,
                       errlen) ||
        !netlist_parse(&st->metrics_allow, &cfg->trackd.metrics_allow, NETLIST_HOST_BITS, err,
                       errlen)) {
        trackreq_state_free(st);
        return false;
    }
    conf_ref(cfg);
    st->cfg = cfg;
    return true;
}

/* trackreq_state_free - release one configuration generation */
void trackreq_state_free(trackreq_state *st)
{
    token_keys_free(st->keys);
    netlist_free(&st->trusted);
    netlist_free(&st->metrics_allow);
    if (st->cfg)
        conf_unref(st->cfg);
    memset(st, 0, sizeof(*st));
}

void trackresp_init(trackresp *rs)
{
    memset(rs, 0, sizeof(*rs));
    buf_init(&rs->body);
    buf_init(&rs->location);
}

void trackresp_free(trackresp *rs)
{
    buf_free(&rs->body);
    buf_free(&rs->location);
}

/* tr_page - an HTML answer */
static void tr_notfound(trackresp *rs)
{
    rs->status = 404;
    rs->body_kind = TRACKRESP_HTML;
    htmlpage_notfound(&rs->body);
}

static void tr_status(trackresp *rs, int status, const char *text)
{
    rs->status = status;
    rs->body_kind = TRACKRESP_HTML;
    htmlpage_status(&rs->body, status, text);
}

/* tr_method_ok - answer OPTIONS and refused methods; true when the method is served */
static bool tr_method_ok(const trackreq *rq, trackresp *rs, bool post, const char *allow)
{
    if (rq->method == TM_GET || rq->method == TM_HEAD || (post && rq->method == TM_POST))
        return true;
    rs->allow = allow;
    if (rq->method == TM_OPTIONS)
        rs->status = 204;
    else
        tr_status(rs, 405, "Method Not Allowed");
    return false;
}

/* tr_record - hand one event to the event writer, applying the privacy mode */
static void tr_record(const trackreq_state *st, trackreq_env *env, const trackreq *rq,
                      const token_claims *c)
{
    const struct conf_trackd *t = &st->cfg->trackd;
    netlist_addr a = rq->client;
    char full[NETLIST_ADDR_TEXT_MAX];
    evlog_event e;

    memset(&e, 0, sizeof(e));
    e.time_ms = rq->now_ms;
    e.kind = c->purpose;
    e.link = c->link_index;
    e.issued = c->issued;
    memcpy(e.msgref, c->msgref, sizeof(e.msgref));
    memcpy(e.domain, c->domain, sizeof(e.domain));
    if (c->purpose == TOKEN_UNSUB)
        memcpy(e.rcpt, c->rcpt, sizeof(e.rcpt));
    e.bot = botlabel_ua(rq->ua);
    if (e.bot == NULL && c->purpose != TOKEN_UNSUB &&
        botlabel_early(rq->now_ms / 1000, c->issued, t->bot_window))
        e.bot = "early";
    netlist_addr_format(&a, full);
    if (c->purpose == TOKEN_CLICK)
        e.burst_key = botlabel_key(c->msgref, full);
    if (t->privacy != TRACKREQ_DROP) {
        e.has_ua = rq->ua != NULL;
        snprintf(e.ua, sizeof(e.ua), "%s", rq->ua ? rq->ua : "");
        if (t->privacy == TRACKREQ_TRUNCATE)
            clientip_truncate(&a);
        netlist_addr_format(&a, e.client);
        e.has_client = e.client[0] != '\0';
    }
    evlog_submit(env->events, &e);
}

/* tr_verify - a token from the path; false (404 or GIF prepared by the caller) when bad */
static bool tr_verify(const trackreq_state *st, trackreq_env *env, const trackreq *rq, int ep,
                      int purpose, token_claims *c)
{
    const char *tok = rq->path + 3;
    int rc = token_verify(st->keys, tok, strlen(tok), purpose, c);

    if (rc != TOKEN_OK) {
        tmetrics_bad_token(env->metrics, ep, rc);
        log_debug("%s token refused: %s", token_purpose_name(purpose), token_result_name(rc));
        return false;
    }
    return true;
}

/* tr_click - GET|HEAD /c/TOKEN */
static void tr_click(const trackreq_state *st, trackreq_env *env, const trackreq *rq, trackresp *rs)
{
    token_claims c;
    char why[ERRBUF_MAX];

    if (!tr_method_ok(rq, rs, false, "GET, HEAD, OPTIONS"))
        return;
    if (!tr_verify(st, env, rq, TM_CLICK, TOKEN_CLICK, &c)) {
        tr_notfound(rs);
        return;
    }
    if (revoke_check(env->cache, c.msgref, c.domain) == CACHE_OK) {
        tmetrics_bad_token(env->metrics, TM_CLICK, TM_REASON_REVOKED);
        tr_notfound(rs);
        return;
    }
    if (!redirect_location(c.url, &rs->location, why, sizeof(why))) {
        tmetrics_bad_token(env->metrics, TM_CLICK, TM_REASON_BAD_DEST);
        log_warn("message %s link %u: destination refused: %s", c.msgref, c.link_index, why);
        buf_reset(&rs->location);
        tr_notfound(rs);
        return;
    }
    rs->status = 302;
    if (rq->method == TM_GET)
        tr_record(st, env, rq, &c);
}

/* tr_open - GET|HEAD /o/TOKEN: the pixel, whatever the token */
static void tr_open(const trackreq_state *st, trackreq_env *env, const trackreq *rq, trackresp *rs)
{
    token_claims c;

    if (!tr_method_ok(rq, rs, false, "GET, HEAD, OPTIONS"))
        return;
    rs->status = 200;
    rs->body_kind = TRACKRESP_GIF;
    if (!tr_verify(st, env, rq, TM_OPEN, TOKEN_OPEN, &c))
        return;
    if (revoke_check(env->cache, c.msgref, c.domain) == CACHE_OK) {
        tmetrics_bad_token(env->metrics, TM_OPEN, TM_REASON_REVOKED);
        return;
    }
    if (rq->method == TM_GET)
        tr_record(st, env, rq, &c);
}

/* tr_unsub_post - record an unsubscription once; the page to show */
static enum htmlpage_unsub tr_unsub_post(const trackreq_state *st, trackreq_env *env,
                                         const trackreq *rq, const token_claims *c)
{
    int rc;

    pthread_mutex_lock(&env->unsub_mu);
    rc = suppress_check(env->cache, c->domain, c->rcpt, NULL);
    if (rc == CACHE_OK) {
        pthread_mutex_unlock(&env->unsub_mu);
        atomic_fetch_add_explicit(&env->metrics->unsub_repeat, 1, memory_order_relaxed);
        return HTMLPAGE_DONE;
    }
    rc = suppress_add(env->cache, c->domain, c->rcpt, rq->now_ms / 1000, c->msgref);
    pthread_mutex_unlock(&env->unsub_mu);
    if (rc != CACHE_OK) {
        atomic_fetch_add_explicit(&env->metrics->unsub_error, 1, memory_order_relaxed);
        log_err("message %s: cannot record the unsubscription of %s from %s", c->msgref, c->rcpt,
                c->domain);
        return HTMLPAGE_FAILED;
    }
    log_info("message %s: %s unsubscribed from %s", c->msgref, c->rcpt, c->domain);
    tr_record(st, env, rq, c);
    return HTMLPAGE_DONE;
}

/* tr_unsub - GET|HEAD|POST /u/TOKEN */
static void tr_unsub(const trackreq_state *st, trackreq_env *env, const trackreq *rq, trackresp *rs)
{
    enum htmlpage_unsub page;
    token_claims c;

    if (!tr_method_ok(rq, rs, true, "GET, HEAD, POST, OPTIONS"))
        return;
    if (!tr_verify(st, env, rq, TM_UNSUB, TOKEN_UNSUB, &c)) {
        tr_notfound(rs);
        return;
    }
    rs->page_guard = true;
    if (c.rcpt[0] == '\0') {
        if (rq->method == TM_POST)
            atomic_fetch_add_explicit(&env->metrics->unsub_nobody, 1, memory_order_relaxed);
        page = HTMLPAGE_NOBODY;
    } else if (rq->method != TM_POST)
        page = suppress_check(env->cache, c.domain, c.rcpt, NULL) == CACHE_OK ? HTMLPAGE_DONE
                                                                              : HTMLPAGE_CONFIRM;
    else if (!oneclick_body(rq->ctype, rq->body ? rq->body : "", rq->body_len)) {
        tr_status(rs, 400, "Bad Request");
        return;
    } else
        page = tr_unsub_post(st, env, rq, &c);
    rs->status = page == HTMLPAGE_FAILED ? 503 : 200;
    rs->body_kind = TRACKRESP_HTML;
    htmlpage_unsub(&rs->body, page, c.domain, c.rcpt);
}

/* tr_admin - /metrics and /healthz, for allowed clients only */
static void tr_admin(const trackreq_state *st, trackreq_env *env, const trackreq *rq, trackresp *rs,
                     bool metrics)
{
    if (!tr_method_ok(rq, rs, false, "GET, HEAD, OPTIONS"))
        return;
    if (st->metrics_allow.n && !netlist_match_addr(&st->metrics_allow, &rq->client)) {
        tr_status(rs, 403, "Forbidden");
        return;
    }
    rs->status = 200;
    rs->body_kind = TRACKRESP_TEXT;
    if (metrics)
        tmetrics_render(env->metrics, evlog_dropped(env->events), evlog_written(env->events),
                        &rs->body);
    else
        buf_append_str(&rs->body, "ok\n");
}

/* trackreq_handle - route one request (see trackreq.h) */
void trackreq_handle(const trackreq_state *st, trackreq_env *env, const trackreq *rq, trackresp *rs)
{
    const char *p = rq->path;

    if (strncmp(p, "/c/", 3) == 0)
        rs->endpoint = TM_CLICK;
    else if (strncmp(p, "/o/", 3) == 0)
        rs->endpoint = TM_OPEN;
    else if (strncmp(p, "/u/", 3) == 0)
        rs->endpoint = TM_UNSUB;
    else if (strcmp(p, "/metrics") == 0)
        rs->endpoint = TM_METRICS;
    else if (strcmp(p, "/healthz") == 0)
        rs->endpoint = TM_HEALTHZ;
    else
        rs->endpoint = TM_OTHER;
    tmetrics_request(env->metrics, rs->endpoint, rq->method);
    rs->token_url = rs->endpoint <= TM_UNSUB;
    switch (rs->endpoint) {
    case TM_CLICK:
        tr_click(st, env, rq, rs);
        break;
    case TM_OPEN:
        tr_open(st, env, rq, rs);
        break;
    case TM_UNSUB:
        tr_unsub(st, env, rq, rs);
        break;
    case TM_METRICS:
    case TM_HEALTHZ:
        tr_admin(st, env, rq, rs, rs->endpoint == TM_METRICS);
        break;
    default:
        rs->token_url = true; /* the same neutral, uncached 404 */
        tr_notfound(rs);
    }
    tmetrics_status(env->metrics, rs->status);
}
