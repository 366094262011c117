/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tracking.c - the rewrite step at end of message (see tracking.h)
 *
 * The engine (milter/rewrite/) gets the domain's settings and three
 * callbacks that sign tokens with the first key of [tracking] key_files:
 * https://HOST/c/TOKEN per link, /o/TOKEN for the pixel, /u/TOKEN for
 * unsubscribe. A token names the recipient only when the message has
 * exactly one; with several (or added BCC copies) it is a message-level
 * token, and sendgate-trackd's unsubscribe page then asks for nothing it
 * cannot know: the one-click POST records no recipient (doc/milter.md).
 */
#include "milter/tracking.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/log.h"
#include "lib/token.h"
#include "milter/rewrite/rewrite.h"
#include "lib/redirect.h"

struct tracking_state {
    token_keys *keys;
};

typedef struct cb_ctx {
    const tracking_state *ts;
    const char *host;
    token_claims claims;
    buf dest; /* scratch for the redirect check */
    bool failed;
} cb_ctx;

tracking_state *tracking_state_new(const conf *cfg, char *err, size_t errlen)
{
    tracking_state *ts;

    err[0] = '\0';
    if (cfg->tracking.key_files.n == 0) {
        snprintf(err, errlen,
                 "[tracking] key_files is empty: links, pixels and unsubscribe "
                 "links cannot be signed");
        return NULL;
    }
    ts = calloc(1, sizeof(*ts));
    if (ts == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ts->keys = token_keys_load(&cfg->tracking.key_files, err, errlen);
    if (ts->keys == NULL) {
        free(ts);
        return NULL;
    }
    return ts;
}

void tracking_state_free(tracking_state *ts)
{

    if (ts) {
        token_keys_free(ts->keys);
        free(ts);
    }
}

/* tracking_host - the domain's own tracking host, else the default; NULL when none */
const char *tracking_host(const conf *cfg, const cache_out_entry *settings)
{
    if (settings && *settings->tracking_host)
        return settings->tracking_host;
    if (*cfg->tracking.default_host)
        return cfg->tracking.default_host;
    return NULL;
}

/* tracking_needs_body - must the body be collected for this domain? */
bool tracking_needs_body(const conf *cfg, const tracking_state *ts, const cache_out_entry *settings,
                         const char **why_not)
{
    if (settings == NULL ||
        !(settings->open_tracking || settings->click_tracking || settings->unsubscribe)) {
        *why_not = "tracking off for the domain";
        return false;
    }
    if (tracking_host(cfg, settings) == NULL) {
        *why_not = "no tracking host (the domain has none and [tracking] default_host is empty)";
        return false;
    }
    if (ts == NULL) {
        *why_not = "no token keys ([tracking] key_files)";
        return false;
    }
    return true;
}

/* tracking_rw_options - the engine's options from the [tracking] and [milter] keys (the
   domain's switches, hosts and callbacks are the caller's) */
static void tracking_rw_options(rw_options *o, const conf *c)
{
    o->track_text = c->tracking.track_text_links;
    o->rewrite_signed = !c->tracking.skip_dkim_signed;
    o->excluded_domains = (const char *const *)c->tracking.excluded_domains.v;
    o->n_excluded_domains = c->tracking.excluded_domains.n;
    o->max_links = (unsigned)c->tracking.max_links;
    o->max_size = c->milter.max_rewrite_size;
    o->unsubscribe_text = c->tracking.unsubscribe_text;
}

static bool sign(cb_ctx *x, int purpose, buf *out)
{
    x->claims.purpose = purpose;
    if (!token_make_url(x->ts->keys, x->host, &x->claims, out)) {
        x->failed = true;
        return false;
    }
    return true;
}

static bool click_cb(void *arg, const char *url, size_t len, unsigned index, rw_part_kind kind,
                     buf *out)
{
    cb_ctx *x = arg;

    (void)kind;
    if (len > TOKEN_URL_MAX)
        return false;
    memcpy(x->claims.url, url, len);
    x->claims.url[len] = '\0';
    /* a destination sendgate-trackd would refuse to redirect to (404) stays as
       the sender wrote it: wrapping it would only break the link */
    buf_reset(&x->dest);
    if (!redirect_location(x->claims.url, &x->dest, NULL, 0)) {
        x->claims.url[0] = '\0';
        return false;
    }
    x->claims.link_index = index;
    bool ok = sign(x, TOKEN_CLICK, out);
    x->claims.url[0] = '\0';
    x->claims.link_index = 0;
    return ok;
}

static bool open_cb(void *arg, buf *out)
{
    return sign(arg, TOKEN_OPEN, out);
}

static bool unsub_cb(void *arg, buf *out)
{
    return sign(arg, TOKEN_UNSUB, out);
}

/* tracking_run - header edits and body for one message; false: deliver unchanged */
bool tracking_run(const conf *cfg, const tracking_state *ts, milter_msg *m, apply_result *out)
{
    const cache_out_entry *s = m->v.settings;
    rw_options o;
    rw_result r;
    rw_header *hv;
    cb_ctx x;
    const char *own[2];
    size_t n_own = 0;
    const unsigned char *body;
    size_t len;

    if (s == NULL || ts == NULL || m->body.too_big || m->body.failed) {
        snprintf(m->summary, sizeof(m->summary), "unchanged (%s)",
                 m->body.why ? m->body.why : "nothing to do");
        return false;
    }
    memset(&x, 0, sizeof(x));
    x.ts = ts;
    x.host = tracking_host(cfg, s);
    snprintf(x.claims.msgref, sizeof(x.claims.msgref), "%s", m->qid[0] ? m->qid : "unknown");
    for (char *p = x.claims.msgref; *p; p++)
        if (*p <= ' ' || *p > '~')
            *p = '_';
    snprintf(x.claims.domain, sizeof(x.claims.domain), "%s", m->n_domains ? m->domains[0] : "");
    if (m->n_rcpts == 1)
        snprintf(x.claims.rcpt, sizeof(x.claims.rcpt), "%s", m->rcpts[0]);
    x.claims.issued = (int64_t)time(NULL);

    rw_options_init(&o);
    tracking_rw_options(&o, cfg);
    o.click = s->click_tracking;
    o.open = s->open_tracking;
    o.unsubscribe = s->unsubscribe;
    own[n_own++] = x.host;
    if (*cfg->tracking.default_host && strcasecmp(cfg->tracking.default_host, x.host) != 0)
        own[n_own++] = cfg->tracking.default_host;
    o.own_hosts = own;
    o.n_own_hosts = n_own;
    o.click_url = click_cb;
    o.open_url = open_cb;
    o.unsub_url = unsub_cb;
    o.cb_arg = &x;

    hv = calloc(m->n_hdrs ? m->n_hdrs : 1, sizeof(*hv));
    if (hv == NULL) {
        snprintf(m->summary, sizeof(m->summary), "unchanged (out of memory)");
        return false;
    }
    for (size_t i = 0; i < m->n_hdrs; i++) {
        hv[i].name = m->hdrs[i].name;
        hv[i].value = m->hdrs[i].value;
    }
    body = body_view(&m->body, &len);
    if (body == NULL && m->body.len > 0) {
        free(hv);
        snprintf(m->summary, sizeof(m->summary), "unchanged (%s)",
                 m->body.why ? m->body.why : "body unreadable");
        return false;
    }
    buf_init(&x.dest);
    rw_status st = rw_rewrite(hv, m->n_hdrs, body ? body : (const unsigned char *)"", len, &o, &r);
    buf_free(&x.dest);
    free(hv);
    if (x.failed && st == RW_MODIFIED) {
        st = RW_FAILED;
        r.reason = "a token could not be signed";
    }
    /* a message Postfix accepted must never become one it refuses (552 5.3.4
       over message_size_limit): the new body is held to the same bound */
    if (st == RW_MODIFIED && r.body_changed && r.body.len > cfg->milter.max_rewrite_size) {
        st = RW_UNCHANGED;
        r.reason = "rewritten body larger than max_rewrite_size";
    }
    if (st != RW_MODIFIED) {
        snprintf(m->summary, sizeof(m->summary), "unchanged (%s)", r.reason ? r.reason : "-");
        rw_result_free(&r);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < r.n_edits && ok; i++) {
        const rw_hdr_edit *e = &r.edits[i];
        char op = e->op == RW_HDR_ADD ? 'a' : e->op == RW_HDR_CHANGE ? 'c' : 'd';
        ok = apply_edit_add(out, op, e->name, e->index, e->value);
    }
    if (ok && r.body_changed) {
        buf_free(&out->body);
        out->body = r.body; /* handed over, not copied: bodies can be large */
        buf_init(&r.body);
        out->body_changed = true;
    }
    unsigned skipped = 0;
    for (int k = 0; k < RW_SKIP__COUNT; k++)
        skipped += r.stats.skipped[k];
    snprintf(m->summary, sizeof(m->summary),
             "rewritten links=%u skipped=%u pixel=%s unsubscribe=%s parts=%u%s%s",
             r.stats.links_rewritten, skipped, r.stats.pixel_added ? "yes" : "no",
             r.stats.unsub_headers_added ? "yes" : "no", r.stats.parts_rewritten,
             r.stats.cte_changed ? " cte=quoted-printable" : "", r.reason ? " note=" : "");
    if (r.reason)
        strncat(m->summary, r.reason, sizeof(m->summary) - strlen(m->summary) - 1);
    rw_result_free(&r);
    if (!ok)
        snprintf(m->summary, sizeof(m->summary), "unchanged (out of memory)");
    return ok;
}
