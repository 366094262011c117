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

#include "milter/apply.h"
#include "milter/msg.h"
#include "milter/state.h"

void *tracking_state_new(const conf *cfg, char *err, size_t errlen);
void tracking_state_free(void *st);
const char *tracking_host(const milter_config *mc, const cache_out_entry *settings);
bool tracking_needs_body(const milter_config *mc, const cache_out_entry *settings,
                         const char **why_not);
bool tracking_run(const milter_config *mc, milter_msg *m, apply_result *out);

#endif
