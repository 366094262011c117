/*
 * tracking.c - the rewrite step at end of message (see tracking.h)
 *
 * Until the rewrite engine (milter/rewrite/) is wired in, a message whose
 * domain has tracking on gets only the processing marker header.
 */
#include "milter/tracking.h"

#include <stdio.h>
#include <string.h>

#include "lib/log.h"

#define TRACKING_MARKER "X-Sendgate-Tracked"

void *tracking_state_new(const conf *cfg, char *err, size_t errlen)
{
    (void)cfg;
    (void)err;
    (void)errlen;
    return NULL;
}

void tracking_state_free(void *st)
{
    (void)st;
}

/* tracking_host - the domain's own tracking host, else the default; NULL when none */
const char *tracking_host(const milter_config *mc, const cache_out_entry *settings)
{
    if (settings && *settings->tracking_host)
        return settings->tracking_host;
    if (*mc->cfg->tracking.default_host)
        return mc->cfg->tracking.default_host;
    return NULL;
}

/* tracking_needs_body - must the body be collected for this domain? */
bool tracking_needs_body(const milter_config *mc, const cache_out_entry *settings,
                         const char **why_not)
{
    if (settings == NULL || !(settings->open_tracking || settings->click_tracking ||
                              settings->unsubscribe)) {
        *why_not = "tracking off for the domain";
        return false;
    }
    if (tracking_host(mc, settings) == NULL) {
        *why_not = "no tracking host (the domain has none and [tracking] default_host is empty)";
        return false;
    }
    return true;
}

/* tracking_run - header edits and body for one message; false: deliver unchanged */
bool tracking_run(const milter_config *mc, milter_msg *m, apply_result *out)
{
    char value[128];

    (void)mc;
    snprintf(value, sizeof(value), "pending-engine qid=%s", m->qid[0] ? m->qid : "unknown");
    snprintf(m->summary, sizeof(m->summary), "marker only");
    return apply_edit_add(out, 'a', TRACKING_MARKER, 0, value);
}
