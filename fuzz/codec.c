/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * codec.c - libFuzzer harness: the cache record decoders
 *
 * The cache is written only by sendgate, but a damaged disk, an old
 * version or a foreign writer can leave any bytes there, and a decoder
 * must then say "corrupt", never crash. Properties: no crash; whatever
 * decodes re-encodes to a value that decodes to the same record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* same_out - two decoded outbound records say the same things */
static bool same_out(const cache_outbound *a, const cache_outbound *b)
{
    if (a->n != b->n || strcmp(a->domain, b->domain) != 0)
        return false;
    for (uint8_t i = 0; i < a->n; i++) {
        const cache_out_entry *x = &a->e[i], *y = &b->e[i];
        if (x->provider != y->provider || x->send != y->send || x->n_bcc != y->n_bcc ||
            x->open_tracking != y->open_tracking || x->click_tracking != y->click_tracking ||
            x->unsubscribe != y->unsubscribe || x->fetched_at != y->fetched_at ||
            strcmp(x->reason, y->reason) || strcmp(x->tracking_host, y->tracking_host))
            return false;
        for (uint8_t j = 0; j < x->n_bcc; j++)
            if (strcmp(x->bcc[j].addr, y->bcc[j].addr) || x->bcc[j].verified != y->bcc[j].verified)
                return false;
    }
    return true;
}

static void check_outbound(const uint8_t *data, size_t size)
{
    static cache_outbound a, b;
    const cache_out_entry *list[PROV__COUNT];
    char why[ERRBUF_MAX] = "";
    buf enc = BUF_INIT;

    if (!codec_decode_outbound(data, size, &a, why, sizeof(why)))
        return;
    for (uint8_t i = 0; i < a.n; i++)
        list[i] = &a.e[i];
    if (!codec_encode_outbound(&enc, a.domain, list, a.n) ||
        !codec_decode_outbound(enc.data, enc.len, &b, why, sizeof(why)) || !same_out(&a, &b))
        abort();
    buf_free(&enc);
}

static void check_inbound(const uint8_t *data, size_t size)
{
    cache_inbound a, b;
    const cache_in_entry *list[PROV__COUNT];
    char why[ERRBUF_MAX] = "";
    buf enc = BUF_INIT;

    if (!codec_decode_inbound(data, size, &a, why, sizeof(why)))
        return;
    for (uint8_t i = 0; i < a.n; i++)
        list[i] = &a.e[i];
    if (!codec_encode_inbound(&enc, a.domain, list, a.n) ||
        !codec_decode_inbound(enc.data, enc.len, &b, why, sizeof(why)))
        abort();
    if (a.n != b.n)
        abort();
    for (uint8_t i = 0; i < a.n; i++)
        if (a.e[i].n_rules != b.e[i].n_rules || a.e[i].n_smtp != b.e[i].n_smtp)
            abort();
    cache_inbound_free(&b);
    cache_inbound_free(&a);
    buf_free(&enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cache_meta m;
    char why[ERRBUF_MAX] = "";

    check_outbound(data, size);
    check_inbound(data, size);
    (void)codec_decode_meta(data, size, &m, why, sizeof(why));
    return 0;
}
