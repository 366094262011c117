/*
 * cmd_cache.c - sendgatectl cache dump | get | load
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/json.h"
#include "ctl/ctl.h"
#include "lib/domain.h"
#include "providers/static.h"

struct dump {
    cJSON *out, *in;
};

static void dump_out(void *arg, const char *domain, const cache_outbound *rec, int rc)
{
    struct dump *d = arg;

    if (rc == CACHE_OK)
        cJSON_AddItemToObject(d->out, domain, json_outbound(rec));
}

static void dump_in(void *arg, const char *domain, const cache_inbound *rec, int rc)
{
    struct dump *d = arg;

    if (rc == CACHE_OK)
        cJSON_AddItemToObject(d->in, domain, json_inbound(rec));
}

/* meta_json - every provider's bookkeeping */
static cJSON *meta_json(cache *ca)
{
    cJSON *meta = cJSON_CreateObject();
    cache_meta m;

    for (int p = 0; p < PROV__COUNT; p++)
        if (cache_get_meta(ca, p, &m) == CACHE_OK)
            cJSON_AddItemToObject(meta, cache_provider_name(p), json_meta(&m));
    return meta;
}

static int cmd_cache_dump(ctl *c, int argc, char **argv)
{
    cache *ca;
    struct dump d;
    cJSON *root;

    (void)argv;
    if (argc != 1)
        return ctl_usage("cache dump");
    ca = ctl_cache(c, CACHE_RDONLY);
    root = cJSON_CreateObject();
    d.out = cJSON_AddObjectToObject(root, "outbound");
    d.in = cJSON_AddObjectToObject(root, "inbound");
    if (cache_foreach_outbound(ca, dump_out, &d) != CACHE_OK ||
        cache_foreach_inbound(ca, dump_in, &d) != CACHE_OK) {
        cJSON_Delete(root);
        return ctl_fail(EX_IOERR, "cannot read the cache %s", cache_path(ca));
    }
    cJSON_AddItemToObject(root, "meta", meta_json(ca));
    ctl_print_json(root);
    return 0;
}

static int cmd_cache_get(ctl *c, int argc, char **argv)
{
    char dom[DOMAIN_MAX];
    const char *why;
    cache *ca;
    cache_outbound *out;
    cache_inbound in;
    cJSON *root;
    int ro, ri;

    if (argc != 2)
        return ctl_usage("cache get");
    if (!domain_normalize(argv[1], strlen(argv[1]), dom, &why))
        return ctl_fail(EX_DATAERR, "'%s': %s", argv[1], why);
    ca = ctl_cache(c, CACHE_RDONLY);
    if ((out = malloc(sizeof(*out))) == NULL)
        return EX_OSERR;
    ro = cache_get_outbound(ca, dom, out);
    ri = cache_get_inbound(ca, dom, &in);
    root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "domain", dom);
    if (ro == CACHE_OK)
        cJSON_AddItemToObject(root, "outbound", json_outbound(out));
    else
        cJSON_AddNullToObject(root, "outbound");
    if (ri == CACHE_OK) {
        cJSON_AddItemToObject(root, "inbound", json_inbound(&in));
        cache_inbound_free(&in);
    } else
        cJSON_AddNullToObject(root, "inbound");
    free(out);
    ctl_print_json(root);
    if (ro == CACHE_ERROR || ri == CACHE_ERROR)
        return EX_IOERR;
    return ro == CACHE_OK || ri == CACHE_OK ? 0 : ctl_fail(EX_NOINPUT, "%s: not in the cache", dom);
}

static int cmd_cache_load(ctl *c, int argc, char **argv)
{
    conf *cfg = ctl_config(c);
    const char *file = cfg->static_.file;
    conf_report rep;
    cache *ca;
    int rc;

    if (argc == 3 && strcmp(argv[1], "--file") == 0)
        file = argv[2];
    else if (argc != 1)
        return ctl_usage("cache load");
    else if (!cfg->static_.enabled)
        return ctl_fail(EX_CONFIG, "static.enabled = no in %s; enable it or give --file",
                        cfg->conf_file ? cfg->conf_file : "the configuration");
    ca = ctl_cache(c, CACHE_RDWR);
    conf_report_init(&rep);
    rc = static_refresh(ca, file, (int64_t)time(NULL), &rep);
    fputs(buf_cstr(&rep.text), stderr);
    conf_report_free(&rep);
    if (rc != CACHE_OK)
        return ctl_fail(rep.errors ? EX_DATAERR : EX_IOERR, "%s: nothing loaded", file);
    return 0;
}

CTL_COMMAND(cache_dump, "cache dump", "", "print the whole cache as JSON",
            "Prints {\"outbound\": {...}, \"inbound\": {...}, \"meta\": {...}}: every domain\n"
            "with what each provider says about it, and each provider's refresh state.\n"
            "Example: sendgatectl cache dump | jq '.outbound[\"example.com\"]'",
            cmd_cache_dump);
CTL_COMMAND(cache_get, "cache get", "DOMAIN", "print one domain's cache records as JSON",
            "The domain is normalised first (lowercase, IDNA A-label), as the daemons do.\n"
            "Exit status 66 (EX_NOINPUT) when no provider knows the domain.\n"
            "Example: sendgatectl cache get example.com",
            cmd_cache_get);
CTL_COMMAND(cache_load, "cache load", "[--file FILE]",
            "load the static domains file into the cache (one transaction)",
            "Runs the static provider once: parses static.file (or FILE), and on success\n"
            "replaces everything the static provider had in the cache. A file with any\n"
            "error changes nothing; the problems are printed as file:line.\n"
            "Example: sendgatectl cache load --file /etc/sendgate/domains.conf",
            cmd_cache_load);
