/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tracking.h - the rewrite step at end of message
 *
 * Decides whether a message needs its body (the sending domain has open
 * or click tracking or the unsubscribe link on, and a tracking host is
 * known: the domain's own tracking domain, else [tracking] default_host),
 * and turns the collected message into header edits and a new body.
 * Whatever goes wrong here, the message is delivered unchanged: tracking
 * never bounces or delays mail.
 */
#ifndef SG_MILTER_TRACKING_H
#define SG_MILTER_TRACKING_H

#include "lib/conf.h"
#include "milter/apply.h"
#include "milter/msg.h"

/* the token keys of one configuration (state.h keeps one per bundle) */
typedef struct tracking_state tracking_state;

tracking_state *tracking_state_new(const conf *cfg, char *err, size_t errlen);
void tracking_state_free(tracking_state *ts);
const char *tracking_host(const conf *cfg, const cache_out_entry *settings);
bool tracking_needs_body(const conf *cfg, const tracking_state *ts, const cache_out_entry *settings,
                         const char **why_not);
bool tracking_run(const conf *cfg, const tracking_state *ts, milter_msg *m, apply_result *out);

#endif
