/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * token.c - libFuzzer harness: token verification (what sendgate-trackd
 * does with every URL path a client sends)
 *
 * Properties: no crash; arbitrary bytes never verify (the MAC); a token
 * made from claims taken from the input verifies and gives them back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static token_keys *keys;

static const token_keys *fuzz_keys(void)
{
    static const char secret[] = "0123456789abcdef0123456789abcdef-fuzz";
    char err[256];

    if (keys == NULL) {
        keys = token_keys_new();
        if (!token_keys_add(keys, 7, secret, sizeof(secret) - 1, err, sizeof(err)))
            abort();
    }
    return keys;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    token_claims c, back;
    buf tok = BUF_INIT;
    size_t ul;

    if (token_verify(fuzz_keys(), (const char *)data, size, TOKEN_ANY, &c) == TOKEN_OK)
        abort(); /* forging a MAC by chance is not expected */
    (void)token_inspect((const char *)data, size, &c);
    /* round trip: claims from the input */
    memset(&c, 0, sizeof(c));
    c.purpose = TOKEN_CLICK;
    c.link_index = size;
    c.issued = 1795400000;
    strcpy(c.msgref, "FUZZ1");
    strcpy(c.domain, "example.com");
    ul = size < TOKEN_URL_MAX ? size : TOKEN_URL_MAX;
    memcpy(c.url, data, ul);
    c.url[ul] = '\0';
    if (token_make(fuzz_keys(), &c, &tok)) {
        if (token_verify(fuzz_keys(), tok.data, tok.len, TOKEN_CLICK, &back) != TOKEN_OK ||
            strcmp(back.url, c.url) != 0 || back.link_index != c.link_index)
            abort();
        if (token_verify(fuzz_keys(), tok.data, tok.len, TOKEN_OPEN, &back) == TOKEN_OK)
            abort(); /* a click token is never an open token */
    }
    buf_free(&tok);
    return 0;
}
