/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pjson.c - tolerant readers for provider JSON (see pjson.h)
 */
#include "providers/pjson.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/errbuf.h"

/* pjson_get - obj[name], else obj[alt] (alt may be NULL); NULL values count as absent */
const cJSON *pjson_get(const cJSON *obj, const char *name, const char *alt)
{
    const cJSON *v;

    if (!cJSON_IsObject(obj))
        return NULL;
    v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if ((v == NULL || cJSON_IsNull(v)) && alt)
        v = cJSON_GetObjectItemCaseSensitive(obj, alt);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

/* pjson_bool - the boolean spellings the providers use; false when v is none of them */
bool pjson_bool(const cJSON *v, bool *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on", "active", "verified", "enabled"};
    static const char *const no[] = {"false",    "0",        "no",      "off",
                                     "inactive", "disabled", "pending", "unverified"};

    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v);
        return true;
    }
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble != 0;
        return true;
    }
    if (!cJSON_IsString(v))
        return false;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        if (strcasecmp(v->valuestring, yes[i]) == 0)
            return *out = true, true;
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (strcasecmp(v->valuestring, no[i]) == 0)
            return *out = false, true;
    return false;
}

/* pjson_long - an integral number, or a string holding one */
bool pjson_long(const cJSON *v, long *out)
{
    char *end;
    long n;

    if (cJSON_IsNumber(v)) {
        /* out of range (or NaN): converting would be undefined behaviour */
        if (!(v->valuedouble >= -9223372036854775808.0 && v->valuedouble < 9223372036854775808.0))
            return false;
        if (v->valuedouble != (double)(long)v->valuedouble)
            return false;
        *out = (long)v->valuedouble;
        return true;
    }
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
        return false;
    errno = 0;
    n = strtol(v->valuestring, &end, 10);
    if (errno || *end != '\0')
        return false;
    *out = n;
    return true;
}

const char *pjson_str(const cJSON *v)
{
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* pjson_rows - the row array: result, results, data, the only array member, or root */
const cJSON *pjson_rows(const cJSON *root)
{
    static const char *const keys[] = {"result", "results", "data", "domains", "items"};
    const cJSON *v, *only = NULL;
    int arrays = 0;

    if (cJSON_IsArray(root))
        return root;
    if (!cJSON_IsObject(root))
        return NULL;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (cJSON_IsArray(v = cJSON_GetObjectItemCaseSensitive(root, keys[i])))
            return v;
    cJSON_ArrayForEach(v, root)
    {
        if (cJSON_IsArray(v)) {
            only = v;
            arrays++;
        }
    }
    return arrays == 1 ? only : NULL;
}

/* pjson_object - the record object in any single-object envelope */
const cJSON *pjson_object(const cJSON *root, const char *own_key)
{
    static const char *const keys[] = {"result", "data", "settings"};
    const cJSON *v;

    if (own_key && cJSON_IsObject(v = cJSON_GetObjectItemCaseSensitive(root, own_key)))
        return v;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (cJSON_IsObject(v = cJSON_GetObjectItemCaseSensitive(root, keys[i])))
            return v;
    v = cJSON_GetObjectItemCaseSensitive(root, "results");
    if (cJSON_IsArray(v) && cJSON_IsObject(cJSON_GetArrayItem(v, 0)))
        return cJSON_GetArrayItem(v, 0);
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 0)
        return NULL;
    return cJSON_IsObject(root) ? root : NULL;
}

/* pjson_domain - the normalised domain in field name (or alt) of obj, what it is for the message */
bool pjson_domain(const cJSON *obj, const char *name, const char *alt, const char *what,
                  char out[DOMAIN_MAX], char *err, size_t errlen)
{
    const char *d = pjson_str(pjson_get(obj, name, alt));

    if (!cJSON_IsObject(obj))
        return errbuf_set(err, errlen, "%s is not an object", what);
    if (d == NULL)
        return errbuf_set(err, errlen, "%s has no %s", what, name);
    return domain_normalize(d, strlen(d), out, err, errlen);
}
