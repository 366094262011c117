/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * provider_json.c - libFuzzer harness: what the refresher does with a
 * provider's answer (JSON parsing, error shapes, row normalisation)
 *
 * Properties: no crash or sanitizer report on any body; error messages
 * are bounded NUL-terminated strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "providers/http.h"
#include "providers/items.h"
#include "providers/jetemail.h"
#include "providers/mailtrap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void rows(const cJSON *root, items *it)
{
    const cJSON *row;
    char why[ERRBUF_MAX] = "";

    if (!cJSON_IsArray(root))
        return;
    cJSON_ArrayForEach(row, root)
    {
        jet_out_row o;
        jet_in_row in;
        if (jet_out_row_parse(row, &o, why, sizeof(why)))
            (void)jet_out_item(it, &o, 0);
        if (jet_in_row_parse(row, &in, why, sizeof(why)))
            (void)jet_in_item(it, &in, 0);
        (void)mt_domain_item(it, row, 0, why, sizeof(why));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[512], why[256];
    cJSON *root;
    items it;

    http_error_message(422, (const char *)data, size, msg, sizeof(msg));
    if (strlen(msg) >= sizeof(msg))
        abort();
    root = http_parse_json((const char *)data, size, why, sizeof(why));
    if (root == NULL)
        return 0;
    items_init(&it, PROV_JETEMAIL);
    rows(root, &it);
    rows(cJSON_GetObjectItemCaseSensitive(root, "result"), &it);
    rows(cJSON_GetObjectItemCaseSensitive(root, "data"), &it);
    items_free(&it);
    cJSON_Delete(root);
    return 0;
}
