/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * static_httpd.c - bench baseline: one file served by libmicrohttpd like trackd serves
 *
 * Usage: static_httpd PORT FILE [THREADS]
 *
 * bench/trackd drives sendgate-trackd's click endpoint and this responder
 * with the same load in the same run: the difference is what verifying a
 * token, checking revocations, building the redirect and recording the
 * event cost on top of the HTTP library itself. Same daemon flags as
 * trackd/httpd.c (epoll thread pool, turbo, keep-alive via answering in the
 * second callback); the file is read once into memory. Never installed.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int static_marker;

/* static_access - every GET gets the file */
static enum MHD_Result static_access(void *cls, struct MHD_Connection *c, const char *url,
                                     const char *method, const char *version, const char *upload,
                                     size_t *upload_size, void **con_cls)
{
    (void)url, (void)method, (void)version, (void)upload;
    if (*con_cls == NULL) {
        *con_cls = &static_marker;
        return MHD_YES;
    }
    *upload_size = 0;
    return MHD_queue_response(c, 200, cls);
}

/* static_load - the whole file */
static char *static_load(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *data = NULL;
    long n;

    if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
        fseek(fp, 0, SEEK_SET) != 0 || (data = malloc((size_t)n + 1)) == NULL ||
        fread(data, 1, (size_t)n, fp) != (size_t)n) {
        free(data);
        data = NULL;
    } else
        *len = (size_t)n;
    if (fp)
        fclose(fp);
    return data;
}

int main(int argc, char **argv)
{
    struct MHD_Daemon *d;
    struct MHD_Response *r;
    unsigned threads;
    size_t len = 0;
    struct sockaddr_in sin;
    sigset_t sigs;
    char *data;
    int sig;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: static_httpd PORT FILE [THREADS]\n");
        return 64;
    }
    threads = argc == 4 ? (unsigned)atoi(argv[3]) : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    if ((data = static_load(argv[2], &len)) == NULL) {
        perror(argv[2]);
        return 66;
    }
    r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    memset(&sin, 0, sizeof(sin)); /* loopback only */
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)atoi(argv[1]));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    d = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ITC,
            (uint16_t)atoi(argv[1]), NULL, NULL, static_access, r, MHD_OPTION_SOCK_ADDR,
            (struct sockaddr *)&sin, MHD_OPTION_THREAD_POOL_SIZE, threads ? threads : 1u,
            MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "static_httpd: cannot listen on port %s\n", argv[1]);
        return 69;
    }
    sigwait(&sigs, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(r);
    free(data);
    return 0;
}
