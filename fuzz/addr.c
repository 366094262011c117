/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * addr.c - libFuzzer harness: From:/To: header values (what sendgate-milter
 * reads from every From: field a client sends)
 *
 * Properties: no crash; a refused value always says why; every address
 * visited is non-empty, shorter than ADDR_MAX, has a domain part, and read
 * again on its own gives exactly itself (the walk and addr_domain agree on
 * where the domain is); addr_from keeps at most ADDR_FROM_DOMAINS domains
 * and, when it has no reason to give, has judged every address it read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
    char first[ADDR_MAX];
    unsigned n;
} seen;

static bool fuzz_again(void *arg, const char *addr, char *err, size_t errlen)
{
    seen *s = arg;

    (void)err, (void)errlen;
    if (s->n++ == 0)
        memcpy(s->first, addr, strlen(addr) + 1);
    return true;
}

static bool fuzz_visit(void *arg, const char *addr, char *err, size_t errlen)
{
    const char *d = addr_domain_part(addr);
    seen again = {.n = 0};

    (void)arg;
    (void)err, (void)errlen;
    if (*addr == '\0' || strlen(addr) >= ADDR_MAX || d == NULL || *d == '\0')
        abort();
    if (!addr_header_walk(addr, fuzz_again, &again, NULL, 0) || again.n != 1 ||
        strcmp(again.first, addr) != 0)
        abort(); /* the canonical form is a fixpoint */
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *v = malloc(size + 1);
    char why[ERRBUF_MAX] = "";
    addr_from f;

    if (v == NULL)
        return 0;
    memcpy(v, data, size);
    v[size] = '\0'; /* a header value never holds NUL: the MTA hands over a C string */
    if (!addr_header_walk(v, fuzz_visit, NULL, why, sizeof(why)) && *why == '\0')
        abort();
    addr_from_init(&f);
    addr_from_field(&f, v);
    addr_from_field(&f, v);
    if (f.n_domains > ADDR_FROM_DOMAINS || (f.why[0] == '\0' && f.addrs && f.n_domains == 0))
        abort();
    free(v);
    return 0;
}
