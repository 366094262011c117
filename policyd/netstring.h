/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netstring.h - D. J. Bernstein's netstrings, the framing of Postfix socketmap tables
 *
 * SYNOPSIS
 *	rc = netstring_parse(buf, len, max, &payload, &plen, &total, &why);
 *	netstring_append(&out, "OK example.com", 14);
 *
 * DESCRIPTION
 *	A netstring is "<length>:<payload>," with the length in decimal
 *	ASCII. netstring_parse looks at the start of buf: NETSTRING_MORE when
 *	the netstring is not complete yet, NETSTRING_DONE with the payload
 *	and the bytes used, NETSTRING_BAD with a reason when the bytes cannot
 *	be a netstring (empty length, a leading zero, a non-digit, a length
 *	above max, a missing ',' terminator). Lengths are checked digit by
 *	digit, so no input overflows the arithmetic, and a length above max
 *	is refused before any of its payload arrives.
 */
#ifndef SG_POLICYD_NETSTRING_H
#define SG_POLICYD_NETSTRING_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

enum netstring_rc { NETSTRING_BAD = -1, NETSTRING_MORE = 0, NETSTRING_DONE = 1 };

int netstring_parse(const char *data, size_t len, size_t max, const char **payload, size_t *plen,
                    size_t *total, const char **why);
bool netstring_append(buf *out, const char *data, size_t len);

#endif
