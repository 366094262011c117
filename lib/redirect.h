/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * redirect.h - the Location header of a click redirect
 *
 * SYNOPSIS
 *	buf loc = BUF_INIT;
 *	if (!redirect_location(claims.url, &loc, why, sizeof(why)))  -> 404, never a redirect
 *
 * DESCRIPTION
 *	The destination inside a verified click token is what the sender wrote,
 *	but trackd still re-validates it before redirecting: only absolute
 *	http:// and https:// URLs with a host (no "//host" or "https:///x"
 *	tricks, no backslash in place of a slash), nothing else. The authority
 *	must parse one way only: at most one "@", a valid IPv6 literal in
 *	brackets or a host name of letters, digits, "-", "." and "_", a port of
 *	digits up to 65535; no space, control byte or escape in it. A header must
 *	be ASCII without controls, so bytes outside 0x21..0x7e in the path,
 *	query and fragment are percent-encoded; a non-ASCII host name becomes
 *	its IDNA A-label. Everything else is kept byte for byte: no
 *	normalisation.
 */
#ifndef SG_LIB_REDIRECT_H
#define SG_LIB_REDIRECT_H

#include <stdbool.h>

#include "lib/buf.h"
#include "lib/errbuf.h"

bool redirect_location(const char *url, buf *out, char *err, size_t errlen);

#endif
