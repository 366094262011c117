/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics_http.c - GET /metrics over libmicrohttpd (see metrics_http.h)
 */
#include "lib/metrics_http.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/errbuf.h"
#include "lib/log.h"

struct metrics_http {
    struct MHD_Daemon *d;
    netlist allow;
    metrics_http_render_fn render;
    void *arg;
    int fd;
};

/* marks the first call of a request, answered on the second */
static int metrics_http_seen;

/* metrics_http_allowed - is the client in the allow list (unix-socket clients are)? */
static bool metrics_http_allowed(const metrics_http *mh, struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    netlist_addr peer;

    if (mh->allow.n == 0 || ci == NULL || ci->client_addr == NULL ||
        ci->client_addr->sa_family == AF_UNIX)
        return true;
    return netlist_addr_from_sockaddr(ci->client_addr, &peer) &&
           netlist_match_addr(&mh->allow, &peer);
}

/* metrics_http_reply - queue one answer; body is copied (NULL: empty) */
static enum MHD_Result metrics_http_reply(struct MHD_Connection *c, unsigned status,
                                          const char *ctype, const char *body, size_t len)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    /* HEAD: libmicrohttpd sends the headers GET would, without the body */
    r = MHD_create_response_from_buffer(len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* metrics_http_text - a short plain-text answer */
static enum MHD_Result metrics_http_text(struct MHD_Connection *c, unsigned status,
                                         const char *text)
{
    return metrics_http_reply(c, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* metrics_http_access - libmicrohttpd's request callback */
static enum MHD_Result metrics_http_access(void *cls, struct MHD_Connection *c, const char *url,
                                           const char *method, const char *version,
                                           const char *upload, size_t *upload_size, void **con_cls)
{
    metrics_http *mh = cls;
    bool head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    enum MHD_Result ret;
    buf out = BUF_INIT;

    (void)version;
    (void)upload;
    if (*con_cls == NULL) {
        *con_cls = &metrics_http_seen;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0; /* a body where none belongs: ignored */
        return MHD_YES;
    }
    if (!metrics_http_allowed(mh, c))
        return metrics_http_text(c, MHD_HTTP_FORBIDDEN, "forbidden\n");
    if (strcmp(url, "/metrics") != 0)
        return metrics_http_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
    if (!head && strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return metrics_http_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    mh->render(mh->arg, &out);
    if (buf_failed(&out)) {
        buf_free(&out);
        return metrics_http_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    }
    ret = metrics_http_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", out.data,
                             out.len);
    buf_free(&out);
    return ret;
}

/* metrics_http_log - libmicrohttpd's complaints (a bad request, say), at debug level */
static void metrics_http_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;

    (void)cls;
    if (!log_enabled(LOG_DEBUG))
        return;
    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = '\0';
    log_debug("metrics http: %s", line);
}

/* metrics_http_start - serve on fd (taken over, with *allow) from a thread of its own */
metrics_http *metrics_http_start(int fd, netlist *allow, metrics_http_render_fn render, void *arg,
                                 char *err, size_t errlen)
{
    metrics_http *mh = calloc(1, sizeof(*mh));

    if (mh == NULL) {
        close(fd);
        netlist_free(allow);
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    mh->allow = *allow;
    memset(allow, 0, sizeof(*allow));
    mh->render = render;
    mh->arg = arg;
    mh->fd = fd;
    mh->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG, 0,
                             NULL, NULL, metrics_http_access, mh, MHD_OPTION_LISTEN_SOCKET, fd,
                             MHD_OPTION_EXTERNAL_LOGGER, metrics_http_log, mh,
                             MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_MAX_CONNS,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_HTTP_TIMEOUT,
                             MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_HTTP_MAX_REQUEST,
                             MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_END);
    if (mh->d == NULL) {
        errbuf_set(err, errlen, "libmicrohttpd refused to start the metrics listener");
        metrics_http_stop(mh);
        return NULL;
    }
    mh->fd = -1; /* libmicrohttpd closes it when it stops */
    return mh;
}

/* metrics_http_stop - stop the thread, close the socket, free */
void metrics_http_stop(metrics_http *mh)
{
    if (mh == NULL)
        return;
    if (mh->d)
        MHD_stop_daemon(mh->d);
    if (mh->fd >= 0)
        close(mh->fd);
    netlist_free(&mh->allow);
    free(mh);
}
