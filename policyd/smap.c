/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * smap.c - socketmap request splitting and reply formatting (see smap.h)
 *
 * Data flow: netstring.c frames the bytes, smap_split turns the payload
 * into map name and key, decide.c answers from the cache, smap_reply puts
 * the answer back into a netstring. Pure functions, driven by unit tests.
 */
#include "policyd/smap.h"

#include <string.h>

static const char *const smap_maps[SMAP__COUNT] = {"relay", "transport", "forward"};
static const char *const smap_statuses[] = {"OK", "NOTFOUND", "TEMP", "TIMEOUT", "PERM"};

/* smap_map_index - SMAP_RELAY... for a map name, -1 when sendgate has no such map */
int smap_map_index(const char *name)
{
    for (int i = 0; i < SMAP__COUNT; i++)
        if (strcmp(name, smap_maps[i]) == 0)
            return i;
    return -1;
}

const char *smap_status_name(int status)
{
    return status >= SMAP_OK && status <= SMAP_PERM ? smap_statuses[status] : "PERM";
}

/* smap_bad - set the reason and refuse */
static bool smap_bad(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return false;
}

/* smap_split - "name key" into its parts; the key is everything after the first space */
bool smap_split(const char *payload, size_t len, smap_req *out, const char **why)
{
    const char *sp = memchr(payload, ' ', len);
    size_t nl, kl;

    memset(out, 0, sizeof(*out));
    if (sp == NULL)
        return smap_bad(why, "request without a key (expected 'name key')");
    nl = (size_t)(sp - payload);
    kl = len - nl - 1;
    if (nl == 0)
        return smap_bad(why, "request without a map name");
    if (nl >= sizeof(out->map))
        return smap_bad(why, "map name too long");
    if (kl == 0)
        return smap_bad(why, "empty key");
    if (kl >= sizeof(out->key))
        return smap_bad(why, "key too long");
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)payload[i] < ' ' || payload[i] == 0x7f)
            return smap_bad(why, "control character in request");
    memcpy(out->map, payload, nl);
    memcpy(out->key, sp + 1, kl);
    return true;
}

/* smap_reply - append "STATUS text" as a netstring; control characters become spaces */
bool smap_reply(buf *out, int status, const char *text)
{
    const char *s = smap_status_name(status);

    text = text ? text : "";
    buf_printf(out, "%zu:%s ", strlen(s) + 1 + strlen(text), s);
    for (const char *p = text; *p; p++)
        buf_putc(out, (unsigned char)*p < ' ' || *p == 0x7f ? ' ' : *p);
    buf_putc(out, ',');
    return !buf_failed(out);
}
