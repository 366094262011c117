/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * record.c - names of the record enums, small record helpers (see record.h)
 */
#include "cache/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const provider_names[PROV__COUNT] = {"static", "jetemail", "mailtrap"};
static const char *const send_names[SEND__COUNT] = {"allowed", "pending", "blocked", "demo"};
static const char *const delivery_names[DELIVERY__COUNT] = {"smtp", "webhook", "forward"};

static int name_index(const char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcasecmp(names[i], name) == 0)
            return i;
    return -1;
}

const char *cache_provider_name(int p)
{
    return p >= 0 && p < PROV__COUNT ? provider_names[p] : "unknown";
}

int cache_provider_parse(const char *name)
{
    return name_index(provider_names, PROV__COUNT, name);
}

const char *cache_send_name(int s)
{
    return s >= 0 && s < SEND__COUNT ? send_names[s] : "unknown";
}

int cache_send_parse(const char *name)
{
    return name_index(send_names, SEND__COUNT, name);
}

const char *cache_delivery_name(int d)
{
    return d >= 0 && d < DELIVERY__COUNT ? delivery_names[d] : "unknown";
}

int cache_delivery_parse(const char *name)
{
    return name_index(delivery_names, DELIVERY__COUNT, name);
}

/* cache_providers_text - "static, mailtrap" for a mask of 1u << provider bits */
const char *cache_providers_text(unsigned providers, char *out, size_t len)
{
    size_t n = 0;

    out[0] = '\0';
    for (int p = 0; p < PROV__COUNT && n < len; p++)
        if (providers & (1u << p))
            n += (size_t)snprintf(out + n, len - n, "%s%s", n ? ", " : "", provider_names[p]);
    return out;
}

/* cache_outbound_find - provider's entry in a decoded record, or NULL */
const cache_out_entry *cache_outbound_find(const cache_outbound *r, int provider)
{
    for (uint8_t i = 0; i < r->n; i++)
        if (r->e[i].provider == provider)
            return &r->e[i];
    return NULL;
}

/* cache_inbound_free - release a decoded inbound record */
void cache_inbound_free(cache_inbound *r)
{
    free(r->store);
    free(r->arrays);
    r->store = NULL;
    r->arrays = NULL;
    r->n = 0;
}
