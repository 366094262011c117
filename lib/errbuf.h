/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * errbuf.h - one sentence saying why, into the caller's buffer
 *
 * The error convention of sendgate's library layers (lib/, cache/,
 * providers/): a function that can fail returns its success (bool, an
 * int status, a pointer) and, when the caller passes a buffer, writes one
 * sentence saying why into char *err, size_t errlen. err may be NULL and
 * errlen 0, and then nothing is written; on success nothing is written
 * or formatted, so the convention costs a hot path nothing. The sentence
 * is lowercase, without a final period and without the subject the
 * caller already knows ("empty label", not "domain example..com: empty
 * label"), so the caller can put it after its own words ("MAIL FROM %s:
 * %s"). A callee passes err and errlen on to the function whose failure
 * it reports; a reason longer than errlen is cut, never overflowed.
 * errbuf_set and errbuf_copy return false, so a bool function fails with
 * "return errbuf_set(err, errlen, "...")". Two kinds of result are not
 * errors in this sense and keep their own types: conf_report (lib/conf.h),
 * the list of findings check-config prints, and http_failure
 * (providers/http.h), the status and retry time the refresher acts on;
 * both carry their sentence with them.
 */
#ifndef SG_ERRBUF_H
#define SG_ERRBUF_H

#include <stdbool.h>
#include <stddef.h>

#define ERRBUF_MAX 256 /* room for one sentence: size a caller's buffer with it */

bool errbuf_set(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
bool errbuf_copy(char *err, size_t errlen, const char *why);

#endif
