/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * oneclick.h - recognise an RFC 8058 one-click unsubscribe POST body
 *
 * SYNOPSIS
 *	if (oneclick_body(content_type, body, len)) ... record the unsubscription
 *
 * DESCRIPTION
 *	RFC 8058 has the mail client POST "List-Unsubscribe=One-Click" to the
 *	List-Unsubscribe URL, as application/x-www-form-urlencoded or as
 *	multipart/form-data; trackd's own confirmation page posts the same
 *	field. oneclick_body finds that field in either encoding (names and
 *	values compared exactly after form decoding; a missing content type is
 *	read as urlencoded). Anything else is not an unsubscription.
 */
#ifndef SG_TRACKD_ONECLICK_H
#define SG_TRACKD_ONECLICK_H

#include <stdbool.h>
#include <stddef.h>

bool oneclick_body(const char *ctype, const char *body, size_t len);

#endif
