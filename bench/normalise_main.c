/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * normalise_main.c - bench helper: provider JSON to committed cache records
 *
 * Usage: bench_normalise DIR [DOMAINS]
 *
 * Measures what a refresh costs sendgate once the answers have arrived
 * (the network excluded: the JSON is built in memory first):
 *   Mailtrap   parse {"data": [N Domain objects]}, normalise, commit
 *   JetEmail   parse the outbound list and N settings answers (one per
 *              domain, as the API sends them), normalise, commit
 * each committed with cache_replace_provider into a cache that already
 * holds the previous refresh (the steady state: every record merged and
 * rewritten). Baseline in the same run: a plain LMDB write of the same N
 * encoded records (mdb_put in one transaction, same environment flags,
 * encoding done beforehand). Median of 5 runs after a warm-up.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cache/cache.h"
#include "cache/codec.h"
#include "lib/buf.h"
#include "providers/jetemail.h"
#include "providers/mailtrap.h"
#include "providers/pjson.h"

#define RUNS 5

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof(*v), cmp_double);
    return v[RUNS / 2];
}

/* mt_json - {"data": [...]} with n Domain objects shaped like the spec's example */
static void mt_json(buf *b, int n)
{
    static const char *const st[] = {"compliant", "compliant",    "compliant",
                                     "demo",      "under_review", "unverified_dns"};

    buf_append_str(b, "{\"data\":[");
    for (int i = 0; i < n; i++)
        buf_printf(b,
                   "%s{\"id\":%d,\"domain_name\":\"d%d.example.com\",\"demo\":false,"
                   "\"compliance_status\":\"%s\",\"dns_verified\":true,"
                   "\"dns_verified_at\":\"2026-05-01T10:00:00Z\",\"dns_records\":["
                   "{\"key\":\"verification\",\"domain\":\"ve6wza2rbpe60x7z.d%d.example.com\","
                   "\"type\":\"CNAME\",\"value\":\"smtp.mailtrap.live\",\"status\":\"pass\","
                   "\"name\":\"ve6wza2rbpe60x7z\"},{\"key\":\"spf\",\"domain\":\"d%d.example.com\","
                   "\"type\":\"TXT\",\"value\":\"v=spf1 include:_spf.smtp.mailtrap.live ~all\","
                   "\"status\":\"pass\",\"name\":\"\"},{\"key\":\"dkim1\",\"domain\":"
                   "\"rwmt1._domainkey.d%d.example.com\",\"type\":\"CNAME\",\"value\":"
                   "\"rwmt1.dkim.smtp.mailtrap.live\",\"status\":\"pass\",\"name\":"
                   "\"rwmt1._domainkey\"},{\"key\":\"dmarc\",\"domain\":\"_dmarc.d%d.example.com\","
                   "\"type\":\"TXT\",\"value\":\"v=DMARC1; p=none\",\"status\":\"pass\",\"name\":"
                   "\"_dmarc\"},{\"key\":\"link_verification\",\"domain\":"
                   "\"mt-link.d%d.example.com\",\"type\":\"CNAME\",\"value\":\"t.mailtrap.live\","
                   "\"status\":\"pass\",\"name\":\"mt-link\"}],\"open_tracking_enabled\":true,"
                   "\"click_tracking_enabled\":true,\"auto_unsubscribe_link_enabled\":true,"
                   "\"custom_domain_tracking_enabled\":%s,\"health_alerts_enabled\":true,"
                   "\"critical_alerts_enabled\":true,\"alert_recipient_email\":null,"
                   "\"permissions\":{\"can_read\":true,\"can_update\":true,\"can_destroy\":true}}",
                   i ? "," : "", 1000 + i, i, st[i % 6], i, i, i, i, i, i % 2 ? "true" : "false");
    buf_append_str(b, "]}");
}

/* jet_json - the outbound list and one settings answer per domain */
static void jet_json(buf *list, char **settings, int n)
{
    buf_append_str(list, "{\"success\":true,\"result\":[");
    for (int i = 0; i < n; i++) {
        buf s = BUF_INIT;
        buf_printf(
                list,
                "%s{\"uuid\":\"%08x-1234-4abc-8def-0123456789ab\",\"domain\":\"j%d.example.net\","
                "\"status\":\"%s\",\"dns\":{\"spf\":{\"verified\":true},\"dkim\":{\"verified\":"
                "true},\"dmarc\":{\"verified\":%s},\"tracking\":{\"verified\":true}}}",
                i ? "," : "", i, i, i % 7 ? "active" : "pending", i % 5 ? "true" : "false");
        buf_printf(&s,
                   "{\"success\":true,\"settings\":{\"uuid\":\"%08x-1234-4abc-8def-0123456789ab\","
                   "\"domain\":\"j%d.example.net\",\"bccEmails\":[{\"email\":\"archive@j%d.example."
                   "net\","
                   "\"status\":1},{\"email\":\"audit@j%d.example.net\",\"status\":0}],"
                   "\"openTracking\":true,\"clickTracking\":%s,\"tracking_domain\":"
                   "\"links.j%d.example.net\"}}",
                   i, i, i, i, i % 3 ? "true" : "false", i);
        settings[i] = buf_steal(&s, NULL);
    }
    buf_append_str(list, "]}");
}

/* run_mt - parse, normalise, commit; the two times in ms */
static bool run_mt(cache *c, const buf *json, double *norm, double *commit, items *it)
{
    double t0 = now_ms(), t1;
    cJSON *root = cJSON_ParseWithLength(json->data, json->len);
    const cJSON *d;
    char why[ERRBUF_MAX] = "";
    cache_meta m = {0};

    cJSON_ArrayForEach(d, pjson_rows(root))
    {
        if (mt_domain_item(it, d, 1, why, sizeof(why)) == NULL)
            return false;
    }
    cJSON_Delete(root);
    t1 = now_ms();
    m.last_success = 1;
    m.n_outbound = (uint32_t)it->n_out;
    if (cache_replace_provider(c, PROV_MAILTRAP, it->out, it->n_out, NULL, 0, &m) != CACHE_OK)
        return false;
    *norm = t1 - t0;
    *commit = now_ms() - t1;
    return true;
}

/* run_jet - the list, every settings answer, commit */
static bool run_jet(cache *c, const buf *list, char *const *settings, double *norm, double *commit,
                    items *it)
{
    double t0 = now_ms(), t1;
    cJSON *root = cJSON_ParseWithLength(list->data, list->len);
    const cJSON *row;
    char why[ERRBUF_MAX] = "";
    cache_meta m = {0};
    int i = 0;

    cJSON_ArrayForEach(row, pjson_rows(root))
    {
        jet_out_row r;
        cache_out_item *o;
        cJSON *s = cJSON_Parse(settings[i++]);
        bool ok = jet_out_row_parse(row, &r, why, sizeof(why)) && (o = jet_out_item(it, &r, 1)) &&
                  jet_out_settings(it, &o->e, &r, s, why, sizeof(why));
        cJSON_Delete(s);
        if (!ok)
            return false;
    }
    cJSON_Delete(root);
    t1 = now_ms();
    m.last_success = 1;
    m.n_outbound = (uint32_t)it->n_out;
    if (cache_replace_provider(c, PROV_JETEMAIL, it->out, it->n_out, NULL, 0, &m) != CACHE_OK)
        return false;
    *norm = t1 - t0;
    *commit = now_ms() - t1;
    return true;
}

/* baseline - the same records, pre-encoded, mdb_put in one transaction */
static double baseline(const char *dir, const items *it)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    buf *vals = calloc(it->n_out, sizeof(*vals));
    double t0, t;

    mkdir(dir, 0700);
    for (size_t i = 0; i < it->n_out; i++) {
        const cache_out_entry *e = &it->out[i].e;
        codec_encode_outbound(&vals[i], it->out[i].domain, &e, 1);
    }
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 4) ||
        mdb_env_set_mapsize(env, 256u << 20) || mdb_env_open(env, dir, MDB_NOTLS, 0660))
        return -1;
    t0 = now_ms();
    mdb_txn_begin(env, NULL, 0, &txn);
    mdb_dbi_open(txn, "outbound", MDB_CREATE, &dbi);
    for (size_t i = 0; i < it->n_out; i++) {
        MDB_val k = {strlen(it->out[i].domain), (void *)it->out[i].domain};
        MDB_val v = {vals[i].len, vals[i].data};
        mdb_put(txn, dbi, &k, &v, 0);
    }
    mdb_txn_commit(txn);
    t = now_ms() - t0;
    mdb_env_close(env);
    for (size_t i = 0; i < it->n_out; i++)
        buf_free(&vals[i]);
    free(vals);
    return t;
}

int main(int argc, char **argv)
{
    int n = argc > 2 ? atoi(argv[2]) : 10000;
    double mn[RUNS], mc[RUNS], jn[RUNS], jc[RUNS], mt_all[RUNS], jet_all[RUNS], base[RUNS], w1, w2;
    char path[4096], err[256], **settings;
    cache_opts o = {64u << 20, 4096u << 20, 126, 0};
    buf mt = BUF_INIT, jl = BUF_INIT;
    cache *c;
    items it;

    if (argc < 2 || n < 1)
        return fprintf(stderr, "usage: bench_normalise DIR [DOMAINS]\n"), 64;
    snprintf(path, sizeof(path), "%s/cache", argv[1]);
    mkdir(path, 0700);
    if ((c = cache_open(path, CACHE_RDWR, &o, err, sizeof(err))) == NULL)
        return fprintf(stderr, "%s\n", err), 1;
    settings = calloc((size_t)n, sizeof(*settings));
    mt_json(&mt, n);
    jet_json(&jl, settings, n);
    for (int r = -1; r < RUNS; r++) { /* run -1 fills the cache: the warm-up */
        items_init(&it, PROV_MAILTRAP);
        if (!run_mt(c, &mt, r < 0 ? &w1 : &mn[r], r < 0 ? &w2 : &mc[r], &it))
            return fprintf(stderr, "mailtrap run failed\n"), 1;
        if (r >= 0) {
            snprintf(path, sizeof(path), "%s/plain%d", argv[1], r);
            base[r] = baseline(path, &it);
        }
        items_free(&it);
        items_init(&it, PROV_JETEMAIL);
        if (!run_jet(c, &jl, settings, r < 0 ? &w1 : &jn[r], r < 0 ? &w2 : &jc[r], &it))
            return fprintf(stderr, "jetemail run failed\n"), 1;
        items_free(&it);
        if (r >= 0) {
            mt_all[r] = mn[r] + mc[r];
            jet_all[r] = jn[r] + jc[r];
        }
    }
    printf("domains                         %d per provider (JSON: Mailtrap %.1f MB, JetEmail "
           "list %.1f MB + %d settings answers)\n",
           n, (double)mt.len / 1e6, (double)jl.len / 1e6, n);
    printf("mailtrap  normalise + commit    %7.1f ms  (parse+normalise %.1f, commit %.1f)\n",
           median(mt_all), median(mn), median(mc));
    printf("jetemail  normalise + commit    %7.1f ms  (parse+normalise %.1f, commit %.1f)\n",
           median(jet_all), median(jn), median(jc));
    printf("baseline  plain LMDB write      %7.1f ms  (the same %d records, pre-encoded, one "
           "transaction)\n",
           median(base), n);
    cache_close(c);
    for (int i = 0; i < n; i++)
        free(settings[i]);
    free(settings);
    buf_free(&mt);
    buf_free(&jl);
    return 0;
}
