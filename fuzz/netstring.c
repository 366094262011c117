/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netstring.c - libFuzzer harness: netstring framing and socketmap requests
 *
 * Properties: no crash; a parsed netstring's payload lies inside the input
 * and re-encoding it gives exactly the bytes consumed; a socketmap request
 * that splits has a non-empty map name and key without control characters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policyd/netstring.h"
#include "policyd/smap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d = (const char *)data, *payload, *why;
    size_t plen, total, off = 0;

    while (off < size) {
        int rc = netstring_parse(d + off, size - off, 2048, &payload, &plen, &total, &why);
        buf again = BUF_INIT;
        smap_req req;
        if (rc != NETSTRING_DONE)
            break;
        if (payload < d + off || payload + plen > d + off + total || total > size - off)
            abort();
        netstring_append(&again, payload, plen);
        if (again.len != total || memcmp(again.data, d + off, total) != 0)
            abort();
        buf_free(&again);
        if (smap_split(payload, plen, &req, &why)) {
            if (req.map[0] == '\0' || req.key[0] == '\0')
                abort();
            for (const char *p = req.key; *p; p++)
                if ((unsigned char)*p < ' ')
                    abort();
        }
        off += total;
    }
    return 0;
}
