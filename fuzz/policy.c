/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy.c - libFuzzer harness: the Postfix policy protocol parser
 *
 * Properties: no crash or sanitizer report; framing is resumable (feeding
 * the bytes in chunks whose sizes come from the input finds the same
 * request end as feeding them at once); a framed request either parses or
 * is refused with a reason; a parsed request only points inside itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policyd/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const policy_limits lim = {4096, 1024};

/* frame_whole - policy_frame over all the bytes at once */
static int frame_whole(const char *d, size_t n, size_t *reqlen)
{
    policy_scan st = POLICY_SCAN_INIT;
    const char *why;

    return policy_frame(d, n, &lim, &st, reqlen, &why);
}

/* frame_chunked - the same bytes arriving step bytes at a time */
static int frame_chunked(const char *d, size_t n, size_t step, size_t *reqlen)
{
    policy_scan st = POLICY_SCAN_INIT;
    const char *why;
    int rc = POLICY_MORE;

    for (size_t have = step < n ? step : n;; have = have + step < n ? have + step : n) {
        rc = policy_frame(d, have, &lim, &st, reqlen, &why);
        if (rc != POLICY_MORE || have == n)
            return rc;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t step, whole_len = 0, chunk_len = 0;
    int whole, chunked;
    char *copy;
    policy_req req;
    const char *why;

    if (size < 1)
        return 0;
    step = (size_t)(data[0] % 7) + 1;
    data++, size--;
    whole = frame_whole((const char *)data, size, &whole_len);
    chunked = frame_chunked((const char *)data, size, step, &chunk_len);
    if (whole != chunked || (whole == POLICY_DONE && whole_len != chunk_len))
        abort(); /* resumable framing must not depend on how the bytes arrive */
    if (whole != POLICY_DONE)
        return 0;
    if (whole_len > size)
        abort();
    copy = malloc(whole_len);
    memcpy(copy, data, whole_len);
    if (policy_parse(copy, whole_len, &req, &why) == POLICY_DONE) {
        for (int a = 0; a < PA__COUNT; a++)
            if (req.v[a] && (req.v[a] < copy || req.v[a] >= copy + whole_len))
                abort();
        buf out = BUF_INIT;
        policy_reply(&out, "DUNNO");
        buf_free(&out);
    }
    free(copy);
    return 0;
}
