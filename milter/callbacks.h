/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * callbacks.h - sendgate-milter's libmilter callbacks
 *
 * milter_desc is what listener.c registers with smfi_register; test mode
 * (testmode.c) and the unit tests call the callbacks directly, through
 * mlt.c in test mode. They read the running configuration and the cache
 * from state.h; when each decision is taken: see callbacks.c.
 */
#ifndef SG_MILTER_CALLBACKS_H
#define SG_MILTER_CALLBACKS_H

#include <libmilter/mfapi.h>
#include <stdbool.h>
#include <stddef.h>

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

#endif
