/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * endpoint.h - socket endpoints as Postfix and libmilter operators write them
 *
 *	unix:/path  (also local:/path)
 *	inet:host:port  inet:port@host  (libmilter style)  inet:*:port
 *	inet6:[addr]:port  inet6:port@addr
 *
 * endpoint_listen creates the listening socket the daemons serve: a unix
 * socket left over from a crash is removed only when nothing answers on it
 * (connect gives ECONNREFUSED), then created with the configured mode and
 * group so the postfix user can reach it.
 */
#ifndef SG_ENDPOINT_H
#define SG_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/errbuf.h"

enum endpoint_kind { EP_UNIX, EP_INET, EP_INET6 };

typedef struct endpoint {
    enum endpoint_kind kind;
    char path[108]; /* EP_UNIX: sun_path */
    char host[256]; /* EP_INET*: address or name; "" = any */
    int port;
} endpoint;

bool endpoint_parse(const char *spec, endpoint *ep, char *err, size_t errlen);
void endpoint_format(const endpoint *ep, char *out, size_t len);
bool endpoint_milter_spec(const endpoint *ep, char *out, size_t len);
int endpoint_listen(const endpoint *ep, int backlog, unsigned mode, const char *group, char *err,
                    size_t errlen);
int endpoint_connect(const endpoint *ep, int timeout_ms, char *err, size_t errlen);
int endpoint_unix_state(const char *path);
bool endpoint_set_nodelay(int fd);

/* endpoint_unix_state results */
#define EP_UNIX_ABSENT 0 /* no file */
#define EP_UNIX_STALE  1 /* a socket nobody answers on */
#define EP_UNIX_LIVE   2 /* something listens */
#define EP_UNIX_OTHER  3 /* not a socket, or cannot tell */

#endif
