/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * listener.h - libmilter's listening socket, the way operators need it
 *
 * libmilter opens the socket itself (smfi_setconn/smfi_opensocket); this
 * module wraps that with what libmilter does not do: a unix socket left
 * by a crash is removed only when nothing answers on it (a live milter is
 * never taken over), the socket gets [milter] socket_mode and
 * socket_group and is never world-accessible while being created, and an
 * inet listener gets TCP_NODELAY (see listener.c).
 */
#ifndef SG_MILTER_LISTENER_H
#define SG_MILTER_LISTENER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/conf.h"

int listener_open(const conf *cfg, char *err, size_t errlen);
void listener_close(const conf *cfg);
int listener_nodelay_all(int port);

#endif
