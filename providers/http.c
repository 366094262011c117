/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * http.c - libcurl for the provider API clients (see http.h)
 *
 * Sits under providers/jetemail.c and providers/mailtrap.c: they build
 * paths and JSON bodies, this file sends them and turns whatever comes
 * back into a body, a status, a Retry-After time and a readable error.
 * Nothing here knows a provider; the error-body shapes of both are
 * handled by one parser because they overlap.
 */
#include "providers/http.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include <curl/curl.h>

#include "lib/conf.h"
#include "lib/log.h"

#define HTTP_DEFAULT_MAX (16u * 1024 * 1024)
#define HTTP_RETRY_MAX   86400 /* a Retry-After beyond a day is taken as a day */
#define HTTP_SLEEP_SLICE 100   /* ms: how often a budget wait looks at cancel */

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static bool http_init_ok;

static void http_init_once(void)
{
    http_init_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

/* http_global_init - curl_global_init, once per process, before threads start */
bool http_global_init(void)
{
    pthread_once(&http_once, http_init_once);
    return http_init_ok;
}

int64_t http_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* http_budget_init - a full bucket of `budget` requests refilled over `window` seconds */
void http_budget_init(http_budget *b, long budget, long window_seconds, int64_t now_ms)
{
    if (budget < 1)
        budget = 1;
    if (window_seconds < 1)
        window_seconds = 1;
    b->capacity = (double)budget;
    b->tokens = b->capacity;
    b->per_ms = (double)budget / ((double)window_seconds * 1000.0);
    b->last_ms = now_ms;
}

/* http_budget_take - 0 and one token taken, or the milliseconds to wait for one */
int64_t http_budget_take(http_budget *b, int64_t now_ms)
{
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * b->per_ms;
        if (b->tokens > b->capacity)
            b->tokens = b->capacity;
        b->last_ms = now_ms;
    }
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 0;
    }
    return (int64_t)((1.0 - b->tokens) / b->per_ms) + 1; /* rounded up */
}

/* sanitize - one printable line: control characters become spaces */
static void sanitize(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

void http_failure_clear(http_failure *f)
{
    memset(f, 0, sizeof(*f));
}

/* http_failure_set - "METHOD PATH: error" from a failed request */
void http_failure_set(http_failure *f, const char *method, const char *path, const http_response *r)
{
    f->rc = r->rc;
    f->status = r->status;
    f->retry_after = r->retry_after;
    snprintf(f->text, sizeof(f->text), "%s %s: %s", method, path, r->error);
    sanitize(f->text);
}

/* http_failure_text - a failure found after the transfer (bad JSON, bad data) */
void http_failure_text(http_failure *f, int rc, const char *fmt, ...)
{
    va_list ap;

    f->rc = rc;
    va_start(ap, fmt);
    vsnprintf(f->text, sizeof(f->text), fmt, ap);
    va_end(ap);
    sanitize(f->text);
}

/*
 * http_failure_sysexit - the sysexits code sendgatectl exits with: the
 * provider refused (4xx) EX_UNAVAILABLE; try again later (429, 5xx, the
 * network) EX_TEMPFAIL; an answer sendgate cannot read EX_PROTOCOL
 */
int http_failure_sysexit(const http_failure *f)
{
    if (f->rc == HTTP_ERR_JSON)
        return EX_PROTOCOL;
    if (f->rc == HTTP_ERR_STATUS && f->status >= 400 && f->status < 500 && f->status != 429)
        return EX_UNAVAILABLE;
    return EX_TEMPFAIL;
}

void http_response_init(http_response *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body);
}

void http_response_reset(http_response *r)
{
    buf_reset(&r->body);
    r->status = 0;
    r->retry_after = 0;
    r->rc = HTTP_OK;
    r->error[0] = '\0';
}

void http_response_free(http_response *r)
{
    buf_free(&r->body);
}

/* http_reason - the standard reason phrase of the statuses an API uses */
const char *http_reason(long status)
{
    static const struct {
        long code;
        const char *text;
    } reasons[] = {
            {400, "Bad Request"},
            {401, "Unauthorized"},
            {403, "Forbidden"},
            {404, "Not Found"},
            {405, "Method Not Allowed"},
            {409, "Conflict"},
            {413, "Payload Too Large"},
            {415, "Unsupported Media Type"},
            {422, "Unprocessable Entity"},
            {429, "Too Many Requests"},
            {500, "Internal Server Error"},
            {502, "Bad Gateway"},
            {503, "Service Unavailable"},
            {504, "Gateway Timeout"},
    };

    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].code == status)
            return reasons[i].text;
    return status >= 500 ? "server error" : status >= 400 ? "client error" : "unexpected status";
}

/* add_part - append one message to the error line ("; " between messages) */
static void add_part(buf *b, const char *field, const char *msg)
{
    if (msg == NULL || *msg == '\0')
        return;
    if (b->len)
        buf_append_str(b, "; ");
    if (field)
        buf_printf(b, "%s: ", field);
    buf_append_str(b, msg);
}

/* add_value - a string, an array of strings, or an object's "message" */
static void add_value(buf *b, const char *field, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        add_part(b, field, v->valuestring);
    } else if (cJSON_IsArray(v)) {
        buf line = BUF_INIT;
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
        {
            const cJSON *m =
                    cJSON_IsObject(it) ? cJSON_GetObjectItemCaseSensitive(it, "message") : it;
            if (cJSON_IsString(m) && *m->valuestring)
                buf_printf(&line, "%s%s", line.len ? (field ? ", " : "; ") : "", m->valuestring);
        }
        add_part(b, field, buf_cstr(&line));
        buf_free(&line);
    } else if (cJSON_IsObject(v)) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, "message");
        if (cJSON_IsString(m))
            add_part(b, field, m->valuestring);
    }
}

/* error_parts - every documented error shape of either provider */
static void error_parts(const cJSON *j, buf *b)
{
    const cJSON *err, *errs, *msg, *it;

    if (cJSON_IsArray(j) || cJSON_IsString(j)) {
        add_value(b, NULL, j);
        return;
    }
    err = cJSON_GetObjectItemCaseSensitive(j, "error");
    errs = cJSON_GetObjectItemCaseSensitive(j, "errors");
    msg = cJSON_GetObjectItemCaseSensitive(j, "message");
    add_value(b, NULL, err);
    if (cJSON_IsObject(errs)) { /* Mailtrap 422: {"field": ["msg", ...], "base": [...]} */
        cJSON_ArrayForEach(it, errs)
        {
            add_value(b, strcmp(it->string, "base") == 0 ? NULL : it->string, it);
        }
    } else {
        add_value(b, NULL, errs);
    }
    /* JetEmail's SDKs read message first, then error: keep both when they differ */
    if (cJSON_IsString(msg) && *msg->valuestring &&
        (!cJSON_IsString(err) || strcmp(err->valuestring, msg->valuestring) != 0))
        add_part(b, NULL, msg->valuestring);
}

/* http_error_message - "HTTP 422: domain_name: has already been taken" */
void http_error_message(long status, const char *body, size_t len, char *out, size_t outlen)
{
    buf b = BUF_INIT;
    cJSON *j = len ? cJSON_ParseWithLength(body, len) : NULL;

    if (j)
        error_parts(j, &b);
    cJSON_Delete(j);
    if (b.len == 0 && !j && len > 0 && len <= 200 && body[0] != '<') {
        /* a short plain-text body says more than the reason phrase */
        buf_append(&b, body, len);
    }
    if (b.len == 0 || buf_failed(&b))
        snprintf(out, outlen, "HTTP %ld: %s", status, http_reason(status));
    else
        snprintf(out, outlen, "HTTP %ld: %s", status, buf_cstr(&b));
    buf_free(&b);
    sanitize(out);
}

/* http_parse_retry_after - delta-seconds or HTTP-date into an absolute time */
bool http_parse_retry_after(const char *value, time_t now, time_t *until)
{
    char v[128];
    size_t n;
    time_t t;

    while (*value == ' ' || *value == '\t')
        value++;
    snprintf(v, sizeof(v), "%s", value);
    for (n = strlen(v); n && isspace((unsigned char)v[n - 1]); n--)
        v[n - 1] = '\0';
    if (n == 0)
        return false;
    if (strspn(v, "0123456789") == n) {
        long secs = n > 9 ? HTTP_RETRY_MAX : strtol(v, NULL, 10);
        *until = now + (secs > HTTP_RETRY_MAX ? HTTP_RETRY_MAX : secs);
        return true;
    }
    if (!isalpha((unsigned char)v[0]) || (t = curl_getdate(v, NULL)) == -1)
        return false; /* negative numbers and garbage */
    if (t < now)
        t = now;
    if (t > now + HTTP_RETRY_MAX)
        t = now + HTTP_RETRY_MAX;
    *until = t;
    return true;
}

/* http_parse_json - exactly one JSON value filling the buffer */
cJSON *http_parse_json(const char *body, size_t len, char *why, size_t whylen)
{
    const char *end = NULL;
    cJSON *j;

    if (len == 0) {
        snprintf(why, whylen, "empty answer where JSON was expected");
        return NULL;
    }
    j = cJSON_ParseWithLengthOpts(body, len, &end, false);
    if (j == NULL) {
        size_t at = end && end >= body ? (size_t)(end - body) : 0;
        if (at + 1 >= len) /* cJSON reports running out of input at the last byte */
            snprintf(why, whylen, "JSON answer ends early after %zu bytes (truncated)", len);
        else
            snprintf(why, whylen, "malformed JSON answer (error at byte %zu of %zu)", at, len);
        return NULL;
    }
    while (end && (size_t)(end - body) < len && isspace((unsigned char)*end))
        end++;
    if (end && (size_t)(end - body) < len) {
        snprintf(why, whylen, "malformed JSON answer: data after the value (byte %zu)",
                 (size_t)(end - body));
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* http_json - the 2xx body as JSON; NULL with r->error and *rc otherwise */
cJSON *http_json(http_response *r, int *rc)
{
    cJSON *j;

    if (r->rc != HTTP_OK) {
        *rc = r->rc;
        return NULL;
    }
    j = http_parse_json(r->body.data ? r->body.data : "", r->body.len, r->error, sizeof(r->error));
    *rc = r->rc = j ? HTTP_OK : HTTP_ERR_JSON;
    return j;
}

struct xfer {
    http_client *h;
    http_response *r;
    bool toobig;
};

/* on_body - collect the body, refusing more than max_response */
static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb;

    if (!buf_append(&x->r->body, p, n)) {
        x->toobig = true;
        return 0; /* CURLE_WRITE_ERROR ends the transfer */
    }
    return n;
}

/* on_header - Retry-After; a new status line (100 Continue) starts over */
static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb;
    char line[256];

    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0)
        x->r->retry_after = 0;
    if (n > 12 && n < sizeof(line) && strncasecmp(p, "Retry-After:", 12) == 0) {
        memcpy(line, p + 12, n - 12);
        line[n - 12] = '\0';
        if (!http_parse_retry_after(line, time(NULL), &x->r->retry_after))
            x->r->retry_after = 0;
    }
    return n;
}

/* on_progress - a raised cancel flag aborts the transfer */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct xfer *x = arg;

    (void)dt, (void)dn, (void)ut, (void)un;
    return x->h->o.cancel && atomic_load(x->h->o.cancel) ? 1 : 0;
}

/* http_client_init - a curl handle with the settings that never change */
bool http_client_init(http_client *h, const http_opts *o)
{
    char ua[64];
    CURL *c;

    memset(h, 0, sizeof(*h));
    h->o = *o;
    if (h->o.max_response == 0)
        h->o.max_response = HTTP_DEFAULT_MAX;
    if (!http_global_init() || (c = curl_easy_init()) == NULL)
        return false;
    h->curl = c;
    snprintf(ua, sizeof(ua), "sendgate/%s", SG_VERSION);
    curl_easy_setopt(c, CURLOPT_USERAGENT, o->user_agent && *o->user_agent ? o->user_agent : ua);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file && *o->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->connect_timeout > 0 ? o->connect_timeout : 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout > 0 ? o->timeout : 30L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->o.max_response);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    return true;
}

/* http_opts_refresh - the [refresh] settings every provider client shares */
void http_opts_refresh(http_opts *o, const struct conf *cfg, http_budget *b,
                       const atomic_bool *cancel)
{
    o->user_agent = cfg->refresh.user_agent;
    o->ca_file = cfg->refresh.ca_file;
    o->connect_timeout = cfg->refresh.connect_timeout;
    o->timeout = cfg->refresh.timeout;
    o->max_response = cfg->refresh.max_response_size;
    o->budget = b;
    o->cancel = cancel;
}

void http_client_free(http_client *h)
{
    if (h->curl)
        curl_easy_cleanup(h->curl);
    h->curl = NULL;
}

/* budget_wait - take a token, sleeping in slices; false when cancelled */
static bool budget_wait(http_client *h)
{
    int64_t wait;

    if (h->o.budget == NULL)
        return true;
    while ((wait = http_budget_take(h->o.budget, http_now_ms())) > 0) {
        struct timespec ts;
        if (h->o.cancel && atomic_load(h->o.cancel))
            return false;
        if (wait > HTTP_SLEEP_SLICE)
            wait = HTTP_SLEEP_SLICE;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)wait * 1000000L;
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
            ;
    }
    return true;
}

/* headers - authentication, content type, no Expect: 100-continue */
static struct curl_slist *headers(const http_client *h, bool has_body)
{
    struct curl_slist *l = NULL, *n;
    buf auth = BUF_INIT;

    l = curl_slist_append(l, "Accept: application/json");
    if (l && has_body && (n = curl_slist_append(l, "Content-Type: application/json")))
        l = n;
    if (l && (n = curl_slist_append(l, "Expect:")))
        l = n;
    if (l && h->o.token && *h->o.token) {
        if (h->o.auth == HTTP_AUTH_API_TOKEN)
            buf_printf(&auth, "Api-Token: %s", h->o.token);
        else
            buf_printf(&auth, "Authorization: Bearer %s", h->o.token);
        n = buf_failed(&auth) ? NULL : curl_slist_append(l, buf_cstr(&auth));
        explicit_bzero(auth.data, auth.cap);
        buf_free(&auth);
        if (n == NULL) {
            curl_slist_free_all(l);
            return NULL;
        }
        l = n;
    }
    return l;
}

/* transport_error - the reason a transfer ended without an answer */
static int transport_error(http_response *r, CURLcode cc, const char *errbuf, bool toobig,
                           size_t max)
{
    if (toobig || cc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(r->error, sizeof(r->error),
                 "answer larger than %zu bytes (refresh.max_response_size)", max);
        return r->rc = HTTP_ERR_TOOBIG;
    }
    if (cc == CURLE_ABORTED_BY_CALLBACK) {
        snprintf(r->error, sizeof(r->error), "cancelled");
        return r->rc = HTTP_ERR_CANCELLED;
    }
    if (cc == CURLE_PARTIAL_FILE)
        snprintf(r->error, sizeof(r->error), "answer truncated: %s",
                 *errbuf ? errbuf : curl_easy_strerror(cc));
    else
        snprintf(r->error, sizeof(r->error), "%s", *errbuf ? errbuf : curl_easy_strerror(cc));
    sanitize(r->error);
    return r->rc = HTTP_ERR_TRANSPORT;
}

/* set_method - GET, or any method with an optional JSON body */
static void set_method(CURL *c, const char *method, const char *body)
{
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L); /* resets POST state of the previous request */
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
    if (strcmp(method, "GET") == 0 && body == NULL)
        return;
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    if (strcmp(method, "POST") != 0 || body == NULL)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
}

/* http_request - one request; HTTP_OK for a 2xx answer, else r->error says why */
int http_request(http_client *h, const char *method, const char *path, const char *json_body,
                 http_response *r)
{
    CURL *c = h->curl;
    char errbuf[CURL_ERROR_SIZE] = "";
    struct xfer x = {h, r, false};
    struct curl_slist *hdr;
    buf url = BUF_INIT;
    CURLcode cc;
    size_t blen;

    http_response_reset(r);
    buf_set_limit(&r->body, h->o.max_response);
    blen = strlen(h->o.base_url);
    while (blen && h->o.base_url[blen - 1] == '/')
        blen--;
    buf_append(&url, h->o.base_url, blen);
    buf_append_str(&url, path);
    if (c == NULL || buf_failed(&url) || (hdr = headers(h, json_body != NULL)) == NULL) {
        buf_free(&url);
        snprintf(r->error, sizeof(r->error), "out of memory");
        return r->rc = HTTP_ERR_TRANSPORT;
    }
    if (!budget_wait(h)) {
        curl_slist_free_all(hdr);
        buf_free(&url);
        snprintf(r->error, sizeof(r->error), "cancelled");
        return r->rc = HTTP_ERR_CANCELLED;
    }
    curl_easy_setopt(c, CURLOPT_URL, buf_cstr(&url));
    set_method(c, method, json_body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
    h->requests++;
    cc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(hdr);
    buf_free(&url);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (cc != CURLE_OK)
        return transport_error(r, cc, errbuf, x.toobig, h->o.max_response);
    log_debug("%s %s: HTTP %ld, %zu bytes", method, path, r->status, r->body.len);
    if (r->status < 200 || r->status > 299) {
        http_error_message(r->status, r->body.data, r->body.len, r->error, sizeof(r->error));
        return r->rc = HTTP_ERR_STATUS;
    }
    return r->rc = HTTP_OK;
}
