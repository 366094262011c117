/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * json.h - cache records as JSON (sendgatectl cache dump / cache get)
 */
#ifndef SG_CACHE_JSON_H
#define SG_CACHE_JSON_H

#include <cJSON.h>

#include "cache/record.h"

cJSON *json_outbound(const cache_outbound *rec);
cJSON *json_inbound(const cache_inbound *rec);
cJSON *json_meta(const cache_meta *m);
void json_add_time(cJSON *obj, const char *name, int64_t t);

#endif
