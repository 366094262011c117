/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * provcmd.h - the plumbing sendgatectl's provider commands share
 *
 * SYNOPSIS
 *	static const provcmd_api api = {PROV_JETEMAIL, "jetemail", true, start, stop};
 *	provcmd p;
 *	jet_client j;
 *
 *	if ((rc = provcmd_open(&p, c, &api, &j)) != 0)
 *		return rc;
 *	ans = jet_call(&j, "GET", "/outbound/domains", NULL, &p.f);
 *	jet_client_free(&j);
 *	return provcmd_answer(&p, ans, print_rows);
 *
 * DESCRIPTION
 *	ctl/cmd_jetemail.c and ctl/cmd_mailtrap.c keep only their endpoints;
 *	what every provider command does around a request is here.
 *
 *	provcmd_open opens the client through the provider's start (its
 *	request budget, its token: EX_CONFIG when it fails) and refuses to
 *	send anything while the provider's rate-limit lockout, a 429 recorded
 *	in the cache by the refresher or an earlier command, still runs
 *	(EX_TEMPFAIL). provcmd_fail reports a failed request (p.f) with its
 *	exit status and records a new lockout. provcmd_answer prints an answer,
 *	--json as the provider sent it, otherwise through the command's text
 *	printer. provcmd_cache opens the cache for a write-through (a warning,
 *	not a failure, when it cannot: the provider did change);
 *	provcmd_write_items and provcmd_forget write a change through.
 *
 *	Every function returning int returns the command's exit status
 *	(sysexits.h, see ctl.h), 0 when all went well.
 */
#ifndef SG_CTL_PROVCMD_H
#define SG_CTL_PROVCMD_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl/ctl.h"
#include "providers/http.h"
#include "providers/items.h"

typedef struct provcmd provcmd;

/* what a provider's command file tells the plumbing */
typedef struct provcmd_api {
    int prov;                       /* PROV_JETEMAIL, PROV_MAILTRAP */
    const char *name;               /* "jetemail": the prefix of every message */
    bool lockout_needs_retry_after; /* a 429 without Retry-After is no account lockout */
    /* start: the request budget and the client at p->client; false with a reason */
    bool (*start)(provcmd *p, char *err, size_t errlen);
    void (*stop)(provcmd *p); /* frees the client start made */
} provcmd_api;

struct provcmd {
    ctl *c;
    conf *cfg;
    const provcmd_api *api;
    void *client;       /* the provider's client (jet_client, mt_client) */
    http_budget budget; /* the client's request budget */
    http_failure f;     /* why the last request failed */
};

int provcmd_open(provcmd *p, ctl *c, const provcmd_api *api, void *client);
int provcmd_fail(provcmd *p);
int provcmd_answer(provcmd *p, cJSON *ans, void (*text)(const cJSON *ans));
int provcmd_onoff(const char *v);
cache *provcmd_cache(ctl *c);
void provcmd_write_items(ctl *c, const items *it);
void provcmd_forget(ctl *c, const char *domain, int prov, bool inbound);

#endif
