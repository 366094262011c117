/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rawmilter.c - bench/smtp's protocol floor: bench/nullmilter.c without libmilter
 *
 * SYNOPSIS
 *	rawmilter /path/to/socket
 *
 * DESCRIPTION
 *	The same null milter as bench/nullmilter.c (the same negotiation and
 *	macro lists, "continue" everywhere, the body skipped, one recipient
 *	added with NOTIFY=NEVER at end of message), speaking the milter
 *	protocol itself: one epoll thread, every read takes whatever the MTA
 *	has sent, all the answers to it go out in one write. It measures what
 *	the protocol costs when the library's poll-before-every-read and
 *	worker hand-offs are taken away; it is a benchmark tool, not a milter
 *	to run (no timeouts, no limits beyond a packet size cap, unix: only).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define RM_MAX_PACKET (1024 * 1024)

typedef struct rm_conn {
    int fd;
    unsigned char *in;
    size_t len, cap;
    unsigned char out[4096];
    size_t olen;
    uint32_t proto; /* the negotiated protocol flags */
} rm_conn;

static void rm_put(rm_conn *c, char cmd, const void *data, size_t n)
{
    uint32_t l = htonl((uint32_t)n + 1);

    if (c->olen + 5 + n > sizeof(c->out))
        return; /* never for these answers */
    memcpy(c->out + c->olen, &l, 4);
    c->out[c->olen + 4] = (unsigned char)cmd;
    memcpy(c->out + c->olen + 5, data, n);
    c->olen += 5 + n;
}

static void rm_optneg(rm_conn *c, const unsigned char *d, size_t n)
{
    static const struct {
        uint32_t stage;
        const char *macros;
    } lists[] = {{SMFIM_CONNECT, "{daemon_name} {client_addr}"},
                 {SMFIM_ENVFROM, "i {auth_authen}"},
                 {SMFIM_DATA, "i"},
                 {SMFIM_EOH, "i"},
                 {SMFIM_EOM, "i"}};
    unsigned char r[512];
    uint32_t v[3] = {0, 0, 0};
    size_t rl = 12;

    for (int i = 0; i < 3 && n >= (size_t)(i + 1) * 4; i++) {
        memcpy(&v[i], d + i * 4, 4);
        v[i] = ntohl(v[i]);
    }
    uint32_t actions = v[1] & (SMFIF_ADDRCPT | SMFIF_ADDRCPT_PAR | SMFIF_SETSYMLIST);
    c->proto = v[2] & (SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_SKIP | SMFIP_NR_HDR | SMFIP_NR_DATA |
                       SMFIP_NR_EOH);
    uint32_t w[3] = {htonl(SMFI_PROT_VERSION), htonl(actions), htonl(c->proto)};
    memcpy(r, w, 12);
    if (actions & SMFIF_SETSYMLIST)
        for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
            uint32_t st = htonl(lists[i].stage);
            size_t ml = strlen(lists[i].macros) + 1;
            memcpy(r + rl, &st, 4);
            memcpy(r + rl + 4, lists[i].macros, ml);
            rl += 4 + ml;
        }
    rm_put(c, SMFIC_OPTNEG, r, rl);
}

/* rm_packet - one command from the MTA; false: close the connection */
static bool rm_packet(rm_conn *c, char cmd, const unsigned char *d, size_t n)
{
    static const char rcpt[] = "<archive@shop.example>\0NOTIFY=NEVER";

    switch (cmd) {
    case SMFIC_OPTNEG:
        rm_optneg(c, d, n);
        break;
    case SMFIC_MACRO:
    case SMFIC_ABORT:
    case SMFIC_QUIT_NC:
        break;
    case SMFIC_DATA:
    case SMFIC_HEADER:
    case SMFIC_EOH: {
        uint32_t nr = cmd == SMFIC_DATA     ? SMFIP_NR_DATA
                      : cmd == SMFIC_HEADER ? SMFIP_NR_HDR
                                            : SMFIP_NR_EOH;
        if (!(c->proto & nr))
            rm_put(c, SMFIR_CONTINUE, "", 0);
        break;
    }
    case SMFIC_BODY:
        rm_put(c, (c->proto & SMFIP_SKIP) ? SMFIR_SKIP : SMFIR_CONTINUE, "", 0);
        break;
    case SMFIC_BODYEOB:
        rm_put(c, SMFIR_ADDRCPT_PAR, rcpt, sizeof(rcpt));
        rm_put(c, SMFIR_CONTINUE, "", 0);
        break;
    case SMFIC_QUIT:
        return false;
    default: /* connect, HELO, MAIL, RCPT, unknown */
        rm_put(c, SMFIR_CONTINUE, "", 0);
        break;
    }
    return true;
}

/* rm_flush - write the answers (blocking briefly if the socket is full) */
static bool rm_flush(rm_conn *c)
{
    size_t off = 0;

    while (off < c->olen) {
        ssize_t w = write(c->fd, c->out + off, c->olen - off);
        if (w < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = c->fd, .events = POLLOUT};
            poll(&p, 1, 1000);
            continue;
        }
        if (w <= 0)
            return false;
        off += (size_t)w;
    }
    c->olen = 0;
    return true;
}

/* rm_readable - read what is there, answer every whole packet; false: close */
static bool rm_readable(rm_conn *c)
{
    for (;;) {
        if (c->cap - c->len < 65536) {
            size_t nc = c->cap ? c->cap * 2 : 131072;
            unsigned char *p = realloc(c->in, nc);
            if (p == NULL)
                return false;
            c->in = p;
            c->cap = nc;
        }
        size_t room = c->cap - c->len;
        ssize_t r = read(c->fd, c->in + c->len, room);
        if (r < 0 && errno == EAGAIN)
            break;
        if (r <= 0)
            return false;
        c->len += (size_t)r;
        if ((size_t)r < room)
            break; /* a short read: the socket is empty */
    }
    size_t off = 0;
    while (c->len - off >= 5) {
        uint32_t l;
        memcpy(&l, c->in + off, 4);
        l = ntohl(l);
        if (l == 0 || l > RM_MAX_PACKET)
            return false;
        if (c->len - off < 4 + (size_t)l)
            break;
        if (!rm_packet(c, (char)c->in[off + 4], c->in + off + 5, l - 1))
            return false;
        off += 4 + (size_t)l;
    }
    memmove(c->in, c->in + off, c->len - off);
    c->len -= off;
    return rm_flush(c);
}

int main(int argc, char **argv)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct epoll_event ev, evs[64];
    int lfd, ep;

    if (argc != 2 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
        fprintf(stderr, "usage: rawmilter /path/to/socket\n");
        return 64;
    }
    strcpy(sun.sun_path, argv[1]);
    unlink(argv[1]);
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (lfd < 0 || ep < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
        chmod(argv[1], 0666) < 0 || listen(lfd, 128) < 0) {
        perror("rawmilter");
        return 1;
    }
    ev.events = EPOLLIN;
    ev.data.ptr = NULL;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1);
        for (int i = 0; i < n; i++) {
            rm_conn *c = evs[i].data.ptr;
            if (c == NULL) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0 || (c = calloc(1, sizeof(*c))) == NULL) {
                    if (fd >= 0)
                        close(fd);
                    continue;
                }
                c->fd = fd;
                ev.events = EPOLLIN;
                ev.data.ptr = c;
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            } else if (!rm_readable(c)) {
                close(c->fd); /* also leaves the epoll set */
                free(c->in);
                free(c);
            }
        }
    }
}
