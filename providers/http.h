/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * http.h - the small HTTP layer under the provider API clients
 *
 * SYNOPSIS
 *	http_global_init();                     once, before any thread
 *
 *	http_opts o = {.base_url = cfg->jetemail.base_url, .token = tok, ...};
 *	http_client h;
 *	http_client_init(&h, &o);
 *	http_response r;
 *	http_response_init(&r);
 *	rc = http_request(&h, "GET", "/outbound/domains", NULL, &r);
 *	  rc: HTTP_OK (2xx, body in r.body) or HTTP_ERR_* with r.error set
 *	cJSON *j = http_json(&r, &rc);          the body as JSON, or NULL with r.error
 *	http_response_free(&r);
 *	http_client_free(&h);
 *
 * DESCRIPTION
 *	libcurl with the settings an API client on a mail server needs:
 *	TLS verification on (optionally another CA file), redirects off,
 *	only http and https, connect and total timeouts, no signals
 *	(CURLOPT_NOSIGNAL: threads), an explicit User-Agent (Mailtrap's edge
 *	may block requests without one), a cap on the answer size (checked
 *	against Content-Length and while receiving), the token as
 *	"Authorization: Bearer" or "Api-Token", and keep-alive within one
 *	client. Request bodies are JSON; any method may carry one (JetEmail
 *	deletes with a JSON body).
 *
 *	Every request takes a token from an optional http_budget (a token
 *	bucket: budget requests per window, bursts up to the budget) and
 *	waits when it is empty; a cancel flag interrupts the wait and any
 *	transfer in progress.
 *
 *	Errors become one readable line: "HTTP 422: domain_name: has already
 *	been taken" from every documented error body (`error` string,
 *	`errors` string, `errors` object of arrays, `errors` array,
 *	`message`), or the transport's reason. Retry-After (delta seconds or
 *	an HTTP-date) is returned as an absolute time.
 *
 *	The error text never contains the token, CR or LF.
 */
#ifndef SG_PROVIDERS_HTTP_H
#define SG_PROVIDERS_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cJSON.h>

#include "lib/buf.h"

#define HTTP_ERROR_MAX 480

enum http_auth { HTTP_AUTH_BEARER = 0, HTTP_AUTH_API_TOKEN = 1 };

enum http_rc {
    HTTP_OK = 0,
    HTTP_ERR_STATUS = 1,    /* the server answered with a non-2xx status */
    HTTP_ERR_TRANSPORT = 2, /* no complete answer: DNS, connect, TLS, timeout, truncation */
    HTTP_ERR_TOOBIG = 3,    /* the answer exceeds max_response */
    HTTP_ERR_JSON = 4,      /* http_json: the 2xx body is not one JSON value */
    HTTP_ERR_CANCELLED = 5, /* the cancel flag was raised */
};

/* token bucket: `budget` requests per `window` seconds, full at start */
typedef struct http_budget {
    double tokens;
    double capacity;
    double per_ms; /* refill rate */
    int64_t last_ms;
} http_budget;

typedef struct http_opts {
    const char *base_url;   /* "https://api.jetemail.com"; a trailing '/' is ignored */
    const char *token;      /* NULL: no authentication header */
    int auth;               /* enum http_auth */
    const char *user_agent; /* NULL or "": "sendgate/VERSION" */
    const char *ca_file;    /* NULL or "": the system's CA store */
    long connect_timeout;   /* seconds */
    long timeout;           /* seconds, whole request */
    size_t max_response;    /* bytes; 0: 16 MiB */
    http_budget *budget;    /* NULL: no pacing */
    const atomic_bool *cancel;
} http_opts;

typedef struct http_client {
    http_opts o;
    void *curl;             /* CURL *, reused for keep-alive */
    unsigned long requests; /* sent so far */
} http_client;

typedef struct http_response {
    long status;        /* HTTP status; 0 when there was no answer */
    buf body;           /* the answer's body, NUL-terminated */
    time_t retry_after; /* absolute time from Retry-After; 0 = none */
    int rc;             /* enum http_rc of the last step */
    char error[HTTP_ERROR_MAX];
} http_response;

/*
 * why a multi-request operation failed: the request and what came back.
 * The refresher acts on the status and the retry time, so this result is
 * passed instead of char *err (lib/errbuf.h); text is its sentence.
 */
typedef struct http_failure {
    int rc;                          /* enum http_rc */
    long status;                     /* HTTP status, 0 when none */
    time_t retry_after;              /* absolute, 0 = none */
    char text[HTTP_ERROR_MAX + 160]; /* "GET /outbound/domains: HTTP 500: ..." */
} http_failure;

bool http_global_init(void);
void http_failure_clear(http_failure *f);
void http_failure_set(http_failure *f, const char *method, const char *path,
                      const http_response *r);
void http_failure_text(http_failure *f, int rc, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int http_failure_sysexit(const http_failure *f);

bool http_client_init(http_client *h, const http_opts *o);
struct conf;
void http_opts_refresh(http_opts *o, const struct conf *cfg, http_budget *b,
                       const atomic_bool *cancel);
void http_client_free(http_client *h);
int http_request(http_client *h, const char *method, const char *path, const char *json_body,
                 http_response *r);
cJSON *http_json(http_response *r, int *rc);

void http_response_init(http_response *r);
void http_response_reset(http_response *r);
void http_response_free(http_response *r);

/* pure helpers (unit tested) */
void http_error_message(long status, const char *body, size_t len, char *out, size_t outlen);
bool http_parse_retry_after(const char *value, time_t now, time_t *until);
const char *http_reason(long status);
cJSON *http_parse_json(const char *body, size_t len, char *why, size_t whylen);
void http_budget_init(http_budget *b, long budget, long window_seconds, int64_t now_ms);
int64_t http_budget_take(http_budget *b, int64_t now_ms);
int64_t http_now_ms(void);

#endif
