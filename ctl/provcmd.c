/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * provcmd.c - the plumbing sendgatectl's provider commands share
 *
 * See provcmd.h. The rate-limit rule is the refresher's (providers/refresh.h):
 * a command sends nothing inside a recorded lockout, because a request
 * there would only prolong it, and records the 429s it receives so that
 * nothing, the refresher included, calls before the lockout ends.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ctl/provcmd.h"
#include "providers/refresh.h"

/* held - the provider's lockout, recorded in the cache, still runs: send nothing */
static int held(provcmd *p)
{
    conf *cfg = p->cfg;
    cache_opts o = cache_opts_from_conf(cfg, 0);
    char err[256], why[ERRBUF_MAX];
    cache *ca = p->c->cache
                        ? p->c->cache
                        : cache_open(cfg->general.cache_path, CACHE_RDONLY, &o, err, sizeof(err));
    int rc = 0;

    if (ca && refresh_held(ca, p->api->prov, time(NULL), why, sizeof(why)))
        rc = ctl_fail(EX_TEMPFAIL, "%s: %s; nothing sent", p->api->name, why);
    if (ca && ca != p->c->cache)
        cache_close(ca);
    return rc;
}

/* provcmd_open - the client; EX_CONFIG when it cannot start, EX_TEMPFAIL when held */
int provcmd_open(provcmd *p, ctl *c, const provcmd_api *api, void *client)
{
    char err[256];
    int rc;

    memset(p, 0, sizeof(*p));
    p->c = c;
    p->cfg = ctl_config(c);
    p->api = api;
    p->client = client;
    if (!api->start(p, err, sizeof(err)))
        return ctl_fail(EX_CONFIG, "%s: %s", api->name, err);
    if ((rc = held(p)) != 0)
        api->stop(p);
    return rc;
}

/*
 * provcmd_fail - report the failed request in p->f. A 429 is the
 * provider's lockout (for JetEmail only with Retry-After: without it, it
 * is the per-address BCC verification limit of the settings call):
 * recorded in the cache.
 */
int provcmd_fail(provcmd *p)
{
    if (p->f.status == 429 && (p->f.retry_after || !p->api->lockout_needs_retry_after) &&
        provcmd_cache(p->c))
        refresh_note_429(p->cfg, p->c->cache, p->api->prov, time(NULL), p->f.retry_after,
                         p->f.text);
    return ctl_fail(http_failure_sysexit(&p->f), "%s: %s", p->api->name, p->f.text);
}

/* provcmd_answer - a request's answer (NULL: it failed) printed and freed */
int provcmd_answer(provcmd *p, cJSON *ans, void (*text)(const cJSON *ans))
{
    if (ans == NULL)
        return provcmd_fail(p);
    if (p->c->json) {
        ctl_print_json(ans);
        return 0;
    }
    text(ans);
    cJSON_Delete(ans);
    return 0;
}

/* provcmd_onoff - "on" / "off" (and yes/no, true/false); -1 otherwise */
int provcmd_onoff(const char *v)
{
    if (!strcasecmp(v, "on") || !strcasecmp(v, "yes") || !strcasecmp(v, "true"))
        return 1;
    if (!strcasecmp(v, "off") || !strcasecmp(v, "no") || !strcasecmp(v, "false"))
        return 0;
    return -1;
}

/* provcmd_cache - the cache for a write-through, or NULL with a warning */
cache *provcmd_cache(ctl *c)
{
    conf *cfg = ctl_config(c);
    cache_opts o = cache_opts_from_conf(cfg, 0);
    char err[512];

    if (c->cache == NULL &&
        (c->cache = cache_open(cfg->general.cache_path, CACHE_RDWR, &o, err, sizeof(err))) == NULL)
        fprintf(stderr,
                "%s: warning: the provider changed, but the cache was not updated: %s; "
                "the next refresh brings the change\n",
                c->prog, err);
    return c->cache;
}

/* provcmd_write_items - upsert what a write-through produced */
void provcmd_write_items(ctl *c, const items *it)
{
    cache *ca = it->n_out + it->n_in ? provcmd_cache(c) : NULL;

    for (size_t i = 0; ca && i < it->n_out; i++)
        if (cache_upsert_outbound(ca, it->out[i].domain, &it->out[i].e) != CACHE_OK)
            fprintf(stderr, "%s: warning: cache not updated for %s\n", c->prog, it->out[i].domain);
    for (size_t i = 0; ca && i < it->n_in; i++)
        if (cache_upsert_inbound(ca, it->in[i].domain, &it->in[i].e) != CACHE_OK)
            fprintf(stderr, "%s: warning: cache not updated for %s\n", c->prog, it->in[i].domain);
}

/* provcmd_forget - a deleted domain's entry of provider prov leaves the cache */
void provcmd_forget(ctl *c, const char *domain, int prov, bool inbound)
{
    int rc;

    if (provcmd_cache(c) == NULL)
        return;
    rc = inbound ? cache_delete_inbound(c->cache, domain, prov)
                 : cache_delete_outbound(c->cache, domain, prov);
    if (rc != CACHE_OK && rc != CACHE_NOTFOUND)
        fprintf(stderr, "%s: warning: cache not updated for %s\n", c->prog, domain);
}
