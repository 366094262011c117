/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * codec.h - versioned binary encoding of cache records
 *
 * A value is a 4-octet header ('S', kind, version, 0) followed by fields
 * (tag: 1 octet, length: 2 octets little-endian, value) and ends with an
 * empty terminator field (tag 0), so a value cut anywhere, even between
 * two fields, is caught. Strings carry their NUL, so a decoded record
 * points straight into its copy of the value. Decoding checks every
 * length against the end of the value, the terminator,
 * every string for its terminator, every enum against its range and the
 * overall shape (entries after the domain, at most one per provider); a
 * value that fails any check is "corrupt": the caller treats the domain
 * as missing and logs it, it is never trusted in part. Unknown tags are
 * skipped, so a newer writer can add fields without breaking older
 * readers; an unknown version is refused.
 */
#ifndef SG_CACHE_CODEC_H
#define SG_CACHE_CODEC_H

#include <stdbool.h>
#include <stddef.h>

#include "cache/record.h"
#include "lib/buf.h"
#include "lib/errbuf.h"

#define CODEC_VERSION 2 /* 2: values end with a terminator field */

bool codec_encode_outbound(buf *b, const char *domain, const cache_out_entry *const *e, size_t n);
bool codec_decode_outbound(const void *val, size_t len, cache_outbound *out, char *err,
                           size_t errlen);

bool codec_encode_inbound(buf *b, const char *domain, const cache_in_entry *const *e, size_t n);
bool codec_decode_inbound(const void *val, size_t len, cache_inbound *out, char *err,
                          size_t errlen);

bool codec_encode_meta(buf *b, const cache_meta *m);
bool codec_decode_meta(const void *val, size_t len, cache_meta *m, char *err, size_t errlen);

#endif
