/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server.h - sendgate-policyd's event loop: policy and socketmap connections
 *
 * SYNOPSIS
 *	server *s = server_new(&opts, decide, on_signal, arg, err, sizeof(err));
 *	server_listen(s, SERVER_POLICY, fd, "unix:/path", "/path");
 *	server_run(s);                    returns after server_shutdown and the drain
 *
 * DESCRIPTION
 *	One thread, non-blocking sockets, epoll (level-triggered). Each
 *	connection has an input buffer bounded by the request size limits and
 *	an output buffer; complete requests are answered as soon as they are
 *	read, several per read when Postfix (or anyone) pipelines them. When a
 *	peer does not read its answers, reading from it stops until it does.
 *
 *	Signals arrive through a signalfd (the caller blocks them in every
 *	thread first) and are handed to on_signal between two events, so the
 *	handler may reload the configuration, replace listeners or start the
 *	shutdown without any async-signal-safety concerns.
 *
 *	Limits: idle_timeout closes connections nobody used for that long
 *	(longer than Postfix's max_idle, so Postfix normally closes first);
 *	max_connections closes connections beyond the limit as soon as they
 *	are accepted, with a rate-limited warning, so Postfix fails over to
 *	its default action at once instead of waiting for its timeout.
 *
 *	server_shutdown closes the listeners (removing unix sockets it
 *	created), answers what is already buffered, closes idle connections
 *	and waits up to SERVER_DRAIN_MS for requests that are half received.
 *
 * ERRORS
 *	A malformed request is logged with the peer and the reason, and the
 *	connection is closed without an answer (Postfix then applies its own
 *	default); every other connection keeps being served.
 */
#ifndef SG_POLICYD_SERVER_H
#define SG_POLICYD_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "policyd/decide.h"
#include "policyd/policy.h"

#define SERVER_DRAIN_MS 10000

enum server_kind { SERVER_POLICY, SERVER_SMAP, SERVER__KINDS };

typedef struct server_opts {
    policy_limits policy;
    size_t max_netstring;
    long idle_timeout; /* seconds */
    long max_connections;
} server_opts;

typedef struct server server;
typedef void (*server_signal_fn)(void *arg, int signo);

server *server_new(const server_opts *o, decide_ctx *d, server_signal_fn fn, void *arg, char *err,
                   size_t errlen);
void server_set_opts(server *s, const server_opts *o);
void server_set_decide(server *s, decide_ctx *d);
bool server_listen(server *s, enum server_kind kind, int fd, const char *name,
                   const char *unix_path);
void server_unlisten(server *s, enum server_kind kind);
int server_run(server *s);
void server_shutdown(server *s);
void server_free(server *s);

#endif
