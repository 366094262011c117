/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pjson.h - tolerant readers for provider JSON (cJSON underneath)
 *
 * The providers' documentation disagrees with itself about field names
 * (camelCase or snake_case), types (status 1 or "active"; 0/1 or
 * false/true) and envelopes ("result", "results", "data", a bare array).
 * These helpers accept every documented variant in one place, so the
 * normalisers read like the table of fields they implement.
 *
 *	pjson_get(obj, "open_tracking", "openTracking")   first name present
 *	pjson_bool(v, &b)    true/false, 0/1, "true"/"1"/"yes"/"on"/"verified"...
 *	pjson_long(v, &n)    a number, or a string of digits
 *	pjson_str(v)         the string, or NULL (numbers are not strings)
 *	pjson_rows(root)     the array of rows in any JetEmail envelope
 *	pjson_object(root)   the object in {"result": {}}, {"results": [{}]},
 *	                     {"data": {}}, {"settings": {}} or root itself
 *	pjson_domain(obj, "domain", "domain_name", "a row", out, err, len)
 *	                     the normalised domain an object names
 */
#ifndef SG_PROVIDERS_PJSON_H
#define SG_PROVIDERS_PJSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "lib/domain.h"

const cJSON *pjson_get(const cJSON *obj, const char *name, const char *alt);
bool pjson_bool(const cJSON *v, bool *out);
bool pjson_long(const cJSON *v, long *out);
const char *pjson_str(const cJSON *v);
const cJSON *pjson_rows(const cJSON *root);
const cJSON *pjson_object(const cJSON *root, const char *own_key);
bool pjson_domain(const cJSON *obj, const char *name, const char *alt, const char *what,
                  char out[DOMAIN_MAX], char *err, size_t errlen);

#endif
