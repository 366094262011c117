/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_status.c - sendgatectl status: is sendgate working right now?
 *
 * One screen for the operator (or a monitoring check): each provider's
 * refresh state from the cache's meta records (enabled, last success and
 * its age, consecutive failures, last error, domain counts), the cache
 * itself, and, for every configured listener, whether the daemon behind it
 * answers its own protocol:
 *
 *	milter     connect, milter option negotiation (SMFIC_OPTNEG), quit
 *	policy     one policy request (null sender, RCPT stage), one action= line
 *	socketmap  one "relay" lookup of a reserved domain, one netstring back
 *	trackd     GET /healthz over HTTP/1.0
 *	metrics    GET /metrics of sendgate-policyd (policyd.metrics_listen)
 *
 * When policyd's metrics answer, its counters follow the table: policy
 * requests by action, socketmap lookups by map and result, connections,
 * and each provider's refreshes in this run of the daemon (results, 429s,
 * Retry-After waits, the request budget left), the numbers /metrics gives
 * Prometheus (doc/policyd.md), for an operator without one.
 * The probes are what Postfix itself would send, so a daemon that answers
 * here answers Postfix (permissions aside: check-config checks those).
 * The cache is a problem when it cannot be opened (missing, damaged) or
 * lacks the data of an enabled provider (never refreshed, or lost): the
 * daemons then answer handling.cache_error, and the line says why.
 * Exit status 0 when the cache is sound and every probed daemon answered,
 * EX_UNAVAILABLE otherwise. Naming services on the command line probes
 * only those.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cache/json.h"
#include "cache/verdict.h"
#include "ctl/ctl.h"
#include "lib/buf.h"
#include "lib/endpoint.h"

#define ST_TIMEOUT_MS   3000
#define ST_PROBE_DOMAIN "sendgate-status.invalid" /* RFC 2606: never a real domain */
#define ST_METRICS_MAX  (1024 * 1024)             /* a larger /metrics answer is cut */

/* the body of policyd's /metrics, when the metrics probe read one */
static buf st_scraped = BUF_INIT;

/* one probed service */
typedef struct st_probe {
    const char *name;
    const char *spec; /* configured endpoint, "" = not served */
    bool (*run)(int fd, char *detail, size_t len);
    bool tried, ok;
    char detail[256];
} st_probe;

/* st_write_all - the whole buffer or false */
static bool st_write_all(int fd, const void *p, size_t n)
{
    const char *s = p;

    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            return false;
        }
        s += w;
        n -= (size_t)w;
    }
    return true;
}

/* st_recv - recv, again after a signal; bytes read, 0 at the end or on an error */
static size_t st_recv(int fd, void *p, size_t n)
{
    ssize_t r;

    do
        r = recv(fd, p, n, 0);
    while (r < 0 && errno == EINTR);
    return r > 0 ? (size_t)r : 0;
}

/* st_read_full - exactly n bytes (the read timeout is on the socket) */
static bool st_read_full(int fd, void *p, size_t n)
{
    char *s = p;

    while (n > 0) {
        size_t r = st_recv(fd, s, n);
        if (r == 0)
            return false;
        s += r;
        n -= r;
    }
    return true;
}

/* st_read_until - read until the buffer holds end (or is full); bytes read */
static size_t st_read_until(int fd, char *rbuf, size_t len, const char *end)
{
    size_t n = 0;

    while (n + 1 < len) {
        size_t r = st_recv(fd, rbuf + n, len - 1 - n);
        if (r == 0)
            break;
        n += r;
        rbuf[n] = '\0';
        if (strstr(rbuf, end))
            break;
    }
    rbuf[n] = '\0';
    return n;
}

/* st_milter_send - one packet, written at once: length (4, big endian), command, data */
static bool st_milter_send(int fd, char cmd, const void *data, uint32_t len)
{
    char pkt[64];
    uint32_t n = htonl(len + 1);

    if (len > sizeof(pkt) - 5)
        return false;
    memcpy(pkt, &n, 4);
    pkt[4] = cmd;
    if (len)
        memcpy(pkt + 5, data, len);
    return st_write_all(fd, pkt, len + 5);
}

/* st_milter - option negotiation as an MTA (version 6, every action and protocol step) */
static bool st_milter(int fd, char *detail, size_t len)
{
    uint32_t offer[3] = {htonl(6), htonl(0x1ff), htonl(0x1fffff)}, reply[3], n;
    char cmd;

    if (!st_milter_send(fd, 'O', offer, sizeof(offer)) || !st_read_full(fd, &n, 4) ||
        !st_read_full(fd, &cmd, 1)) {
        snprintf(detail, len, "no answer to the milter option negotiation");
        return false;
    }
    n = ntohl(n);
    if (cmd != 'O' || n < 13 || n > 65536 || !st_read_full(fd, reply, sizeof(reply))) {
        snprintf(detail, len, "unexpected answer to the option negotiation ('%c', %u bytes)",
                 cmd >= ' ' && cmd < 127 ? cmd : '?', n);
        return false;
    }
    snprintf(detail, len, "answers: milter protocol %u, actions 0x%x, steps 0x%x", ntohl(reply[0]),
             ntohl(reply[1]), ntohl(reply[2]));
    st_milter_send(fd, 'Q', NULL, 0);
    return true;
}

/* st_policy - one request at the RCPT stage from the null sender, as smtpd sends it */
static bool st_policy(int fd, char *detail, size_t len)
{
    static const char req[] = "request=smtpd_access_policy\n"
                              "protocol_state=RCPT\n"
                              "protocol_name=ESMTP\n"
                              "client_address=127.0.0.1\n"
                              "client_name=localhost\n"
                              "helo_name=localhost\n"
                              "sender=\n"
                              "recipient=postmaster@" ST_PROBE_DOMAIN "\n"
                              "recipient_count=0\n"
                              "queue_id=\n"
                              "instance=sendgatectl.status\n"
                              "size=0\n"
                              "policy_context=sendgatectl-status\n"
                              "\n";
    char rbuf[1024];

    if (!st_write_all(fd, req, sizeof(req) - 1)) {
        snprintf(detail, len, "cannot send a policy request");
        return false;
    }
    st_read_until(fd, rbuf, sizeof(rbuf), "\n\n");
    if (strncmp(rbuf, "action=", 7) != 0 || strstr(rbuf, "\n\n") == NULL) {
        snprintf(detail, len, "no action= answer to a policy request");
        return false;
    }
    rbuf[strcspn(rbuf, "\n")] = '\0';
    snprintf(detail, len, "answers: %s (null sender, test recipient)", rbuf);
    return true;
}

/* st_socketmap - one relay lookup in netstring form */
static bool st_socketmap(int fd, char *detail, size_t len)
{
    char req[128], rbuf[512], *colon;
    int n = snprintf(req + 16, sizeof(req) - 16, "relay %s", ST_PROBE_DOMAIN);
    int h = snprintf(req, 16, "%d:", n);

    memmove(req + h, req + 16, (size_t)n);
    req[h + n] = ',';
    if (!st_write_all(fd, req, (size_t)(h + n + 1))) {
        snprintf(detail, len, "cannot send a socketmap request");
        return false;
    }
    st_read_until(fd, rbuf, sizeof(rbuf), ",");
    if ((colon = strchr(rbuf, ':')) == NULL || rbuf[strlen(rbuf) - 1] != ',') {
        snprintf(detail, len, "no netstring answer to a socketmap lookup");
        return false;
    }
    rbuf[strlen(rbuf) - 1] = '\0';
    snprintf(detail, len, "answers: relay lookup of %s gives \"%s\"", ST_PROBE_DOMAIN, colon + 1);
    return true;
}

/* st_trackd - GET /healthz */
static bool st_trackd(int fd, char *detail, size_t len)
{
    static const char req[] = "GET /healthz HTTP/1.0\r\nHost: localhost\r\n"
                              "User-Agent: sendgatectl-status\r\n\r\n";
    char rbuf[512];

    if (!st_write_all(fd, req, sizeof(req) - 1)) {
        snprintf(detail, len, "cannot send an HTTP request");
        return false;
    }
    st_read_until(fd, rbuf, sizeof(rbuf), "\r\n");
    rbuf[strcspn(rbuf, "\r\n")] = '\0';
    if (strncmp(rbuf, "HTTP/", 5) != 0) {
        snprintf(detail, len, "no HTTP answer to GET /healthz");
        return false;
    }
    snprintf(detail, len, "answers: GET /healthz: %s", rbuf);
    return strstr(rbuf, " 200") != NULL;
}

/* st_metrics - GET /metrics of policyd; the body kept in st_scraped */
static bool st_metrics(int fd, char *detail, size_t len)
{
    static const char req[] = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n"
                              "User-Agent: sendgatectl-status\r\n\r\n";
    buf in = BUF_INIT;
    char chunk[8192];
    const char *body;
    ssize_t r;

    if (!st_write_all(fd, req, sizeof(req) - 1)) {
        snprintf(detail, len, "cannot send an HTTP request");
        return false;
    }
    while (in.len < ST_METRICS_MAX &&
           ((r = recv(fd, chunk, sizeof(chunk), 0)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            buf_append(&in, chunk, (size_t)r);
    if (strncmp(buf_cstr(&in), "HTTP/", 5) != 0) {
        snprintf(detail, len, "no HTTP answer to GET /metrics");
        buf_free(&in);
        return false;
    }
    snprintf(detail, len, "answers: GET /metrics: %.*s", (int)strcspn(buf_cstr(&in), "\r\n"),
             buf_cstr(&in));
    body = strstr(buf_cstr(&in), "\r\n\r\n");
    if (strstr(detail, " 200") == NULL || body == NULL) {
        buf_free(&in);
        return false;
    }
    buf_reset(&st_scraped);
    buf_append_str(&st_scraped, body + 4);
    buf_free(&in);
    return true;
}

/* st_sample - the value of one series ("name{labels}") in st_scraped; -1 when absent */
static long long st_sample(const char *series)
{
    const char *text = buf_cstr(&st_scraped), *p = text;
    size_t n = strlen(series);

    while (p && (p = strstr(p, series)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return strtoll(p + n + 1, NULL, 10);
        p += n;
    }
    return -1;
}

/* st_print_metrics - policyd's counters, when its /metrics answered */
static void st_print_metrics(void)
{
    static const char *const actions[] = {"accept", "reject", "tempfail"};
    static const char *const maps[] = {"relay", "transport", "forward", "other"};
    static const char *const results[] = {"ok", "notfound", "temp", "timeout", "perm"};
    static const char pre[] = "sendgate_policyd_";
    char name[200];
    int shown = 0;

    if (st_scraped.len == 0)
        return;
    printf("\npolicyd (since it started)\n  policy requests:");
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "%spolicy_requests_total{action=\"%s\"}", pre, actions[i]);
        printf("%s %s %lld", i ? "," : "", actions[i], st_sample(name));
    }
    printf("\n  socketmap lookups:");
    for (int m = 0; m < 4; m++)
        for (int r = 0; r < 5; r++) {
            long long v;
            snprintf(name, sizeof(name), "%ssocketmap_lookups_total{map=\"%s\",result=\"%s\"}", pre,
                     maps[m], results[r]);
            if ((v = st_sample(name)) > 0)
                printf("%s %s %s %lld", shown++ ? "," : "", maps[m], results[r], v);
        }
    snprintf(name, sizeof(name), "%sconnections_total", pre);
    printf("%s\n  connections: %lld open, %lld accepted\n", shown ? "" : " none",
           st_sample("sendgate_policyd_connections_open"), st_sample(name));
    for (int p = 0; p < PROV__COUNT; p++) {
        const char *pn = cache_provider_name(p);
        long long v[6];
        snprintf(name, sizeof(name), "%srefresh_runs_total{provider=\"%s\",result=\"ok\"}", pre,
                 pn);
        v[0] = st_sample(name);
        snprintf(name, sizeof(name), "%srefresh_runs_total{provider=\"%s\",result=\"failed\"}", pre,
                 pn);
        v[1] = st_sample(name);
        snprintf(name, sizeof(name), "%srefresh_runs_total{provider=\"%s\",result=\"deferred\"}",
                 pre, pn);
        v[2] = st_sample(name);
        snprintf(name, sizeof(name), "%srefresh_http_429_total{provider=\"%s\"}", pre, pn);
        v[3] = st_sample(name);
        snprintf(name, sizeof(name), "%srefresh_retry_after_waits_total{provider=\"%s\"}", pre, pn);
        v[4] = st_sample(name);
        snprintf(name, sizeof(name), "%srefresh_budget_requests_left{provider=\"%s\"}", pre, pn);
        v[5] = st_sample(name);
        if (v[0] <= 0 && v[1] <= 0 && v[2] <= 0)
            continue;
        printf("  %s refreshes: %lld ok, %lld failed, %lld deferred; 429s %lld, Retry-After waits "
               "%lld",
               pn, v[0], v[1], v[2], v[3], v[4]);
        if (v[5] >= 0)
            printf("; budget left %lld", v[5]);
        printf("\n");
    }
}

/* st_metrics_json - every sample of policyd's /metrics as "series": value */
static void st_metrics_json(cJSON *root)
{
    const char *p = buf_cstr(&st_scraped);
    cJSON *o;

    if (st_scraped.len == 0)
        return;
    o = cJSON_AddObjectToObject(root, "policyd_metrics");
    while (p && *p) {
        size_t n = strcspn(p, "\n");
        const char *sp = memrchr(p, ' ', n);
        if (*p != '#' && sp) {
            char key[256];
            snprintf(key, sizeof(key), "%.*s", (int)(sp - p), p);
            cJSON_AddNumberToObject(o, key, strtod(sp + 1, NULL));
        }
        p += n + (p[n] == '\n');
    }
}

/* st_probe_run - connect to the endpoint and run the probe */
static void st_probe_run(st_probe *p)
{
    struct timeval tv = {ST_TIMEOUT_MS / 1000, (ST_TIMEOUT_MS % 1000) * 1000};
    char err[200];
    endpoint ep;
    int fd;

    p->tried = true;
    if (!endpoint_parse(p->spec, &ep, err, sizeof(err))) {
        snprintf(p->detail, sizeof(p->detail), "bad endpoint: %s", err);
        return;
    }
    if ((fd = endpoint_connect(&ep, ST_TIMEOUT_MS, err, sizeof(err))) < 0) {
        snprintf(p->detail, sizeof(p->detail), "not answering: %s", err);
        return;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    p->ok = p->run(fd, p->detail, sizeof(p->detail));
    close(fd);
}

/* provider state for the table and JSON */
typedef struct st_prov {
    bool enabled, have_meta;
    cache_meta m;
    unsigned out, in; /* records in the cache naming this provider */
} st_prov;

static void st_count_out(void *arg, const char *domain, const cache_outbound *rec, int rc)
{
    st_prov *pv = arg;

    (void)domain;
    if (rc == CACHE_OK)
        for (int i = 0; i < rec->n; i++)
            if (rec->e[i].provider < PROV__COUNT)
                pv[rec->e[i].provider].out++;
}

static void st_count_in(void *arg, const char *domain, const cache_inbound *rec, int rc)
{
    st_prov *pv = arg;

    (void)domain;
    if (rc == CACHE_OK)
        for (int i = 0; i < rec->n; i++)
            if (rec->e[i].provider < PROV__COUNT)
                pv[rec->e[i].provider].in++;
}

/* st_enabled - is provider p switched on in the configuration? */
static bool st_enabled(const conf *cfg, int p)
{
    return p == PROV_STATIC     ? cfg->static_.enabled
           : p == PROV_JETEMAIL ? cfg->jetemail.enabled
                                : cfg->mailtrap.enabled;
}

/* st_age - "3m", "2h", "5d" */
static const char *st_age(int64_t secs, char *out, size_t len)
{
    if (secs < 0)
        secs = 0;
    if (secs < 120)
        snprintf(out, len, "%llds", (long long)secs);
    else if (secs < 7200)
        snprintf(out, len, "%lldm", (long long)secs / 60);
    else if (secs < 172800)
        snprintf(out, len, "%lldh", (long long)secs / 3600);
    else
        snprintf(out, len, "%lldd", (long long)(secs / 86400));
    return out;
}

/* st_time - local "YYYY-MM-DD HH:MM:SS", or "never" */
static const char *st_time(int64_t t, char *out, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (t <= 0 || localtime_r(&tt, &tm) == NULL)
        snprintf(out, len, "never");
    else
        strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
    return out;
}

/* st_stale - enabled, not static, and the last success is older than cache_max_age */
static bool st_stale(const conf *cfg, int p, const st_prov *pv, int64_t now)
{
    if (!pv->enabled || p == PROV_STATIC || cfg->general.cache_max_age <= 0)
        return false;
    return !pv->have_meta || now - pv->m.last_success > cfg->general.cache_max_age;
}

/* st_print_providers - the human table */
static void st_print_providers(const conf *cfg, const st_prov *pv, int64_t now)
{
    char t[32], a[32];

    printf("%-9s %-7s %8s %7s  %-19s %6s %8s  %s\n", "provider", "enabled", "outbound", "inbound",
           "last success", "age", "failures", "last error");
    for (int p = 0; p < PROV__COUNT; p++) {
        const st_prov *v = &pv[p];
        bool ok = v->have_meta && v->m.last_success > 0;
        printf("%-9s %-7s %8u %7u  %-19s %6s %8u  %s%s\n", cache_provider_name(p),
               v->enabled ? "yes" : "no", v->out, v->in,
               st_time(ok ? v->m.last_success : 0, t, sizeof(t)),
               ok ? st_age(now - v->m.last_success, a, sizeof(a)) : "-",
               v->have_meta ? v->m.failures : 0,
               v->have_meta && v->m.last_error[0] ? v->m.last_error : "-",
               st_stale(cfg, p, v, now) ? " (STALE: older than general.cache_max_age)" : "");
    }
}

/* st_provider_json - one provider's state */
static cJSON *st_provider_json(const conf *cfg, int p, const st_prov *v, int64_t now)
{
    cJSON *o = v->have_meta ? json_meta(&v->m) : cJSON_CreateObject();

    cJSON_AddBoolToObject(o, "enabled", v->enabled);
    cJSON_AddNumberToObject(o, "cached_outbound", v->out);
    cJSON_AddNumberToObject(o, "cached_inbound", v->in);
    if (v->have_meta && v->m.last_success > 0)
        cJSON_AddNumberToObject(o, "age_seconds", (double)(now - v->m.last_success));
    else
        cJSON_AddNullToObject(o, "age_seconds");
    cJSON_AddBoolToObject(o, "stale", st_stale(cfg, p, v, now));
    return o;
}

/* st_load_providers - meta records and per-provider record counts; false when the cache failed */
static bool st_load_providers(const conf *cfg, st_prov *pv, char *err, size_t errlen,
                              size_t *map_size)
{
    const struct conf_general *g = &cfg->general;
    cache_opts o = cache_opts_from_conf(cfg, 0);
    cache *ca;
    bool ok;

    memset(pv, 0, sizeof(*pv) * PROV__COUNT);
    for (int p = 0; p < PROV__COUNT; p++)
        pv[p].enabled = st_enabled(cfg, p);
    if ((ca = cache_open(g->cache_path, CACHE_RDONLY, &o, err, errlen)) == NULL)
        return false;
    for (int p = 0; p < PROV__COUNT; p++)
        pv[p].have_meta = cache_get_meta(ca, p, &pv[p].m) == CACHE_OK;
    ok = cache_foreach_outbound(ca, st_count_out, pv) == CACHE_OK &&
         cache_foreach_inbound(ca, st_count_in, pv) == CACHE_OK;
    /* lost data is not "no domains": an enabled provider without a refresh in this cache */
    cache_set_required(ca, verdict_required(cfg));
    if (cache_health(ca, err, errlen) != CACHE_OK)
        ok = false;
    *map_size = cache_map_size(ca);
    cache_close(ca);
    return ok;
}

/* st_reason - an error without the "cache PATH " the line already starts with */
static const char *st_reason(const char *err, const char *path)
{
    size_t n = strlen(path);

    if (strncmp(err, "cache ", 6) == 0 && strncmp(err + 6, path, n) == 0 &&
        strncmp(err + 6 + n, " is ", 4) == 0)
        return err + 6 + n + 1;
    return err;
}

/* st_wanted - no names given, or this service named */
static bool st_wanted(const char *name, int argc, char **argv)
{
    if (argc <= 1)
        return true;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return true;
    return false;
}

/* st_report - print everything (human or JSON); returns the exit status */
static int st_report(ctl *c, const conf *cfg, const st_prov *pv, bool cache_ok, const char *cerr,
                     size_t map_size, st_probe *pr, size_t npr)
{
    int64_t now = (int64_t)time(NULL);
    int bad = cache_ok ? 0 : 1;

    for (size_t i = 0; i < npr; i++)
        bad += pr[i].tried && !pr[i].ok;
    if (c->json) {
        cJSON *root = cJSON_CreateObject(), *ps, *sv;
        cJSON_AddStringToObject(root, "config", cfg->conf_file ? cfg->conf_file : "(defaults)");
        cJSON *cj = cJSON_AddObjectToObject(root, "cache");
        cJSON_AddStringToObject(cj, "path", cfg->general.cache_path);
        cJSON_AddBoolToObject(cj, "ok", cache_ok);
        cJSON_AddNumberToObject(cj, "map_size", (double)map_size);
        if (!cache_ok)
            cJSON_AddStringToObject(cj, "error", cerr);
        ps = cJSON_AddObjectToObject(root, "providers");
        for (int p = 0; p < PROV__COUNT; p++)
            cJSON_AddItemToObject(ps, cache_provider_name(p),
                                  st_provider_json(cfg, p, &pv[p], now));
        sv = cJSON_AddObjectToObject(root, "services");
        for (size_t i = 0; i < npr; i++) {
            cJSON *o = cJSON_AddObjectToObject(sv, pr[i].name);
            cJSON_AddStringToObject(o, "endpoint", pr[i].spec);
            cJSON_AddStringToObject(o, "state",
                                    !*pr[i].spec   ? "not configured"
                                    : !pr[i].tried ? "not probed"
                                    : pr[i].ok     ? "ok"
                                                   : "failed");
            cJSON_AddStringToObject(o, "detail", pr[i].detail);
        }
        st_metrics_json(root);
        cJSON_AddNumberToObject(root, "problems", bad);
        ctl_print_json(root);
        return bad ? EX_UNAVAILABLE : 0;
    }
    printf("configuration %s\n", cfg->conf_file ? cfg->conf_file : "(embedded defaults)");
    if (cache_ok)
        printf("cache %s: map %zu MiB, data older than %lds is stale\n\n", cfg->general.cache_path,
               map_size >> 20, cfg->general.cache_max_age);
    else
        printf("cache %s%s %s; the daemons answer handling.cache_error (%s)\n\n",
               cfg->general.cache_path, st_reason(cerr, cfg->general.cache_path) == cerr ? ":" : "",
               st_reason(cerr, cfg->general.cache_path),
               verdict_action_name(cfg->handling.cache_error));
    st_print_providers(cfg, pv, now);
    printf("\n%-10s %-52s %s\n", "service", "endpoint", "state");
    for (size_t i = 0; i < npr; i++)
        printf("%-10s %-52s %s\n", pr[i].name, *pr[i].spec ? pr[i].spec : "-",
               !*pr[i].spec   ? "not configured"
               : !pr[i].tried ? "not probed"
                              : pr[i].detail);
    st_print_metrics();
    if (bad)
        printf("\n%d problem(s)\n", bad);
    return bad ? EX_UNAVAILABLE : 0;
}

static int cmd_status(ctl *c, int argc, char **argv)
{
    conf *cfg = ctl_config(c);
    st_probe pr[] = {
            {"milter", cfg->milter.socket, st_milter, false, false, ""},
            {"policy", cfg->policyd.policy_socket, st_policy, false, false, ""},
            {"socketmap", cfg->policyd.socketmap_socket, st_socketmap, false, false, ""},
            {"trackd", cfg->trackd.listen, st_trackd, false, false, ""},
            {"metrics", cfg->policyd.metrics_listen, st_metrics, false, false, ""},
    };
    size_t npr = sizeof(pr) / sizeof(pr[0]), map_size = 0;
    st_prov pv[PROV__COUNT];
    char cerr[512] = "";
    bool cache_ok;
    int rc;

    for (int i = 1; i < argc; i++) {
        bool known = false;
        for (size_t j = 0; j < npr; j++)
            known |= strcmp(argv[i], pr[j].name) == 0;
        if (!known)
            return ctl_usage("status");
    }
    if (cfg->policyd.metrics_listen == NULL || *cfg->policyd.metrics_listen == '\0')
        npr--; /* policyd's metrics are listed only where they are configured */
    cache_ok = st_load_providers(cfg, pv, cerr, sizeof(cerr), &map_size);
    for (size_t i = 0; i < npr; i++)
        if (pr[i].spec && *pr[i].spec && st_wanted(pr[i].name, argc, argv))
            st_probe_run(&pr[i]);
        else if (pr[i].spec == NULL)
            pr[i].spec = "";
    rc = st_report(c, cfg, pv, cache_ok, cerr, map_size, pr, npr);
    buf_free(&st_scraped);
    return rc;
}

CTL_COMMAND(status, "status", "[milter] [policy] [socketmap] [trackd] [metrics]",
            "providers' refresh state, the cache, and whether each daemon answers",
            "Shows each provider's last refresh, its age, failures, last error and the\n"
            "domains it has in the cache, then probes every configured listener with its\n"
            "own protocol: milter option negotiation, one policy request, one socketmap\n"
            "lookup, GET /healthz on sendgate-trackd, GET /metrics on sendgate-policyd\n"
            "(policyd.metrics_listen; its counters follow the table). Naming services\n"
            "probes only those.\n"
            "The cache line names a damaged cache, or one without the data of an enabled\n"
            "provider (never refreshed, or lost): the daemons then answer\n"
            "handling.cache_error. Exit status 0 when the cache is sound and every probed\n"
            "daemon answered, 69 (EX_UNAVAILABLE) otherwise. --json prints the same as\n"
            "one object.\n"
            "Example: sendgatectl status milter policy socketmap",
            cmd_status);
