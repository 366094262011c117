/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * smap.h - Postfix socketmap requests and replies (the bytes inside the netstrings)
 *
 * SYNOPSIS
 *	rc = smap_split(payload, plen, &req, &why);     req.map = "relay", req.key = "example.com"
 *	smap_reply(&out, SMAP_OK, "example.com");       appends the netstring "16:OK example.com,"
 *	smap_reply(&out, res.status, buf_cstr(&res.value));    a decide_smap result
 *
 * DESCRIPTION
 *	Postfix sends "<name> <key>" (socketmap:unix:/path:name), the reply is
 *	"OK <value>", "NOTFOUND ", "TEMP <reason>", "TIMEOUT <reason>" or
 *	"PERM <reason>". sendgate serves the maps relay, transport and forward
 *	(decide.c). smap_split refuses a payload without a name, without a
 *	key, or with control characters; the daemon answers such a request
 *	with PERM and keeps the connection, since the framing is still intact.
 */
#ifndef SG_POLICYD_SMAP_H
#define SG_POLICYD_SMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

#define SMAP_NAME_MAX  64
#define SMAP_KEY_MAX   1024
#define SMAP_REPLY_MAX 100000 /* Postfix refuses longer replies */

enum smap_status { SMAP_OK, SMAP_NOTFOUND, SMAP_TEMP, SMAP_TIMEOUT, SMAP_PERM };

enum smap_map { SMAP_RELAY, SMAP_TRANSPORT, SMAP_FORWARD, SMAP__COUNT };

typedef struct smap_req {
    char map[SMAP_NAME_MAX];
    char key[SMAP_KEY_MAX];
} smap_req;

/* an answer before it goes on the wire (smap_reply) */
typedef struct smap_result {
    int status; /* enum smap_status */
    buf value;  /* OK: the value; TEMP, PERM: the reason; NOTFOUND: empty */
} smap_result;

#define SMAP_RESULT_INIT        \
    {                           \
        SMAP_NOTFOUND, BUF_INIT \
    }

bool smap_split(const char *payload, size_t len, smap_req *out, const char **why);
int smap_map_index(const char *name);
const char *smap_status_name(int status);
bool smap_reply(buf *out, int status, const char *text);

#endif
