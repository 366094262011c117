/* SPDX-License-Identifier: BSD-2-Clause */
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

/*
 * inspect_open - the cache as it is, for cache get and dump: records are
 * shown even when an enabled provider's data is missing (the daemons would
 * answer handling.cache_error); missing says which, for a warning
 */
static cache *inspect_open(ctl *c, char *missing, size_t len)
{
    cache *ca = ctl_cache(c, CACHE_RDONLY);

    if (cache_health(ca, missing, len) == CACHE_OK)
        missing[0] = '\0';
    return ca;
}

/* cache_unusable - the cache cannot answer: why, as the daemons see it */
static int cache_unusable(cache *ca, const char *why, int status)
{
    char now[512];

    if (why == NULL || *why == '\0') {
        cache_health(ca, now, sizeof(now));
        why = now;
    }
    return ctl_fail(status,
                    "cache %s: %s; sendgate-milter and sendgate-policyd answer "
                    "handling.cache_error",
                    cache_path(ca), why);
}

static int cmd_cache_dump(ctl *c, int argc, char **argv)
{
    cache *ca;
    struct dump d;
    cJSON *root;
    char missing[512];

    (void)argv;
    if (argc != 1)
        return ctl_usage("cache dump");
    ca = inspect_open(c, missing, sizeof(missing));
    root = cJSON_CreateObject();
    d.out = cJSON_AddObjectToObject(root, "outbound");
    d.in = cJSON_AddObjectToObject(root, "inbound");
    if (cache_foreach_outbound(ca, dump_out, &d) != CACHE_OK ||
        cache_foreach_inbound(ca, dump_in, &d) != CACHE_OK) {
        cJSON_Delete(root);
        return cache_unusable(ca, NULL, EX_IOERR);
    }
    cJSON_AddItemToObject(root, "meta", meta_json(ca));
    ctl_print_json(root);
    if (*missing) /* printed, but it is not all the daemons need */
        fprintf(stderr, "%s: warning: cache %s: %s; the daemons answer handling.cache_error\n",
                c->prog, cache_path(ca), missing);
    return 0;
}

static int cmd_cache_get(ctl *c, int argc, char **argv)
{
    char dom[DOMAIN_MAX], why[ERRBUF_MAX];
    cache *ca;
    cache_outbound *out;
    cache_inbound in;
    cJSON *root;
    char missing[512];
    int ro, ri;

    if (argc != 2)
        return ctl_usage("cache get");
    if (!domain_normalize(argv[1], strlen(argv[1]), dom, why, sizeof(why)))
        return ctl_fail(EX_DATAERR, "'%s': %s", argv[1], why);
    ca = inspect_open(c, missing, sizeof(missing));
    if ((out = malloc(sizeof(*out))) == NULL)
        return EX_OSERR;
    ro = cache_peek_outbound(ca, dom, out);
    ri = cache_peek_inbound(ca, dom, &in);
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
    if (ro == CACHE_ERROR || ri == CACHE_ERROR) {
        cJSON_Delete(root);
        return cache_unusable(ca, NULL, EX_IOERR);
    }
    ctl_print_json(root);
    if (*missing && ro != CACHE_OK && ri != CACHE_OK) /* "not there" would mislead */
        return cache_unusable(ca, missing, EX_UNAVAILABLE);
    if (*missing)
        fprintf(stderr, "%s: warning: cache %s: %s; the daemons answer handling.cache_error\n",
                c->prog, cache_path(ca), missing);
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
    ca = ctl_cache_flags(c, CACHE_RDWR, CACHE_RECOVER); /* a damaged cache is rebuilt */
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
            "A damaged cache is named and exits 69; one without the data of an enabled\n"
            "provider (never refreshed, or lost) is printed, with a warning saying so.\n"
            "Example: sendgatectl cache dump | jq '.outbound[\"example.com\"]'",
            cmd_cache_dump);
CTL_COMMAND(cache_get, "cache get", "DOMAIN", "print one domain's cache records as JSON",
            "The domain is normalised first (lowercase, IDNA A-label), as the daemons do.\n"
            "Exit status 66 (EX_NOINPUT) when no provider knows the domain; 69 when the\n"
            "cache is damaged, or lacks the domain and an enabled provider's data (never\n"
            "refreshed, or lost); 74 when it cannot be read.\n"
            "Example: sendgatectl cache get example.com",
            cmd_cache_get);
CTL_COMMAND(cache_load, "cache load", "[--file FILE]",
            "load the static domains file into the cache (one transaction)",
            "Runs the static provider once: parses static.file (or FILE), and on success\n"
            "replaces everything the static provider had in the cache. A file with any\n"
            "error changes nothing; the problems are printed as file:line. A damaged\n"
            "cache is moved aside (data.mdb.damaged-TIME) and a new one started.\n"
            "Example: sendgatectl cache load --file /etc/sendgate/domains.conf",
            cmd_cache_load);
