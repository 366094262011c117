/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_connguard.c - trackd's connection slots: deadlines, per-address limits,
 * the oldest waiting connection making room. Real sockets (socket pairs): a
 * connection counts as closed when its peer reads the end of the stream.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "t/lib/tap.h"
#include "trackd/connguard.h"

#define NCONN 64

static tmetrics m;
static int ours[NCONN], peer[NCONN];
static connguard_conn *rec[NCONN];

/* conn - a fresh socket pair for slot i */
static void conn(int i)
{
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        tap_diag("socketpair: %s", strerror(errno));
        exit(1);
    }
    ours[i] = sv[0];
    peer[i] = sv[1];
}

/* shut - has the guard ended slot i's connection (its peer sees the end of the stream)? */
static bool shut(int i)
{
    char c;

    return recv(peer[i], &c, 1, MSG_DONTWAIT) == 0;
}

static netlist_addr ip(const char *text)
{
    netlist_addr a;

    netlist_addr_parse(text, strlen(text), &a);
    return a;
}

/* open_from - slot i opened from address text at time now */
static void open_from(connguard *g, int i, const char *text, bool exempt, int64_t now)
{
    netlist_addr a = ip(text);

    conn(i);
    rec[i] = connguard_open(g, ours[i], &a, exempt, now);
}

/* done - the HTTP layer closes slot i */
static void done(connguard *g, int i)
{
    connguard_close(g, rec[i]);
    close(ours[i]);
    close(peer[i]);
    rec[i] = NULL;
}

static uint64_t dropped(int reason)
{
    return atomic_load(&m.conn_dropped[reason]);
}

static connguard *guard(size_t max, size_t per_addr, int64_t deadline)
{
    connguard_opts o = {max, per_addr, deadline, &m};

    tmetrics_init(&m);
    return connguard_new(&o);
}

static void test_per_address(void)
{
    connguard *g = guard(100, 2, 10000);

    open_from(g, 0, "192.0.2.1", false, 0);
    open_from(g, 1, "192.0.2.1", false, 1);
    open_from(g, 2, "192.0.2.2", false, 2);
    tap_ok(!shut(0) && !shut(1) && !shut(2), "two from one address, one from another: all kept");
    open_from(g, 3, "192.0.2.1", false, 3);
    tap_ok(shut(0) && !shut(1) && !shut(3) && !shut(2),
           "a third from the same address: its oldest waiting connection is closed");
    tap_is_int(dropped(TM_DROP_PER_ADDR), 1, "counted as per_address");
    tap_is_int(connguard_open_count(g), 3, "three connections held");
    tap_is_int(atomic_load(&m.conn_open), 3, "the gauge says so");
    connguard_busy(g, rec[1]);
    open_from(g, 4, "192.0.2.1", false, 4);
    tap_ok(!shut(1) && shut(3) && !shut(4), "a busy connection is passed over for the next oldest");
    connguard_busy(g, rec[4]);
    open_from(g, 5, "192.0.2.1", false, 5);
    tap_ok(!shut(1) && !shut(4) && shut(5), "every other one busy: the new connection is closed");
    open_from(g, 6, "10.9.9.9", true, 6);
    open_from(g, 7, "10.9.9.9", true, 7);
    open_from(g, 8, "10.9.9.9", true, 8);
    tap_ok(!shut(6) && !shut(7) && !shut(8), "an exempt address (trusted proxy) has no such limit");
    open_from(g, 9, "2001:db8:1:2::1", false, 9);
    open_from(g, 10, "2001:db8:1:2:ffff::2", false, 10);
    open_from(g, 11, "2001:db8:1:2::3", false, 11);
    tap_ok(shut(9) && !shut(10) && !shut(11), "IPv6 addresses of one /64 count as one client");
    open_from(g, 12, "2001:db8:1:3::1", false, 12);
    tap_ok(!shut(12), "another /64 is another client");
    for (int i = 0; i <= 12; i++)
        done(g, i);
    tap_is_int(connguard_open_count(g), 0, "all closed: nothing held");
    tap_is_int(atomic_load(&m.conn_open), 0, "gauge back to 0");
    open_from(g, 0, "192.0.2.1", false, 20);
    open_from(g, 1, "192.0.2.1", false, 21);
    tap_ok(!shut(0) && !shut(1), "an address whose connections all closed starts afresh");
    done(g, 0);
    done(g, 1);
    connguard_free(g);
}

static void test_full(void)
{
    connguard *g = guard(4, 0, 10000);
    char a[32];

    for (int i = 0; i < 4; i++) {
        snprintf(a, sizeof(a), "198.51.100.%d", i + 1);
        open_from(g, i, a, false, i);
    }
    tap_ok(!shut(0) && !shut(3), "max_connections connections: all kept");
    connguard_busy(g, rec[0]);
    connguard_idle(g, rec[0], 10); /* answered at 10: now the youngest */
    open_from(g, 4, "198.51.100.9", false, 11);
    tap_ok(shut(1) && !shut(0) && !shut(4),
           "one more: the connection waiting longest is closed (a kept-alive one counts from its "
           "answer)");
    tap_is_int(dropped(TM_DROP_FULL), 1, "counted as full");
    for (int i = 0; i <= 4; i++)
        if (i != 1)
            connguard_busy(g, rec[i]);
    open_from(g, 5, "198.51.100.10", false, 12);
    tap_ok(shut(5) && !shut(0) && !shut(2) && !shut(3) && !shut(4),
           "every slot busy answering: the new connection is closed instead");
    tap_is_int(connguard_open_count(g), 4, "never more than max_connections held");
    for (int i = 0; i <= 5; i++)
        done(g, i);
    connguard_free(g);
}

static void test_deadline(void)
{
    connguard *g = guard(100, 0, 3000);

    open_from(g, 0, "192.0.2.1", false, 1000);
    open_from(g, 1, "192.0.2.2", false, 2000);
    open_from(g, 2, "192.0.2.3", false, 2500);
    connguard_busy(g, rec[2]);
    connguard_sweep(g, 3999);
    tap_ok(!shut(0) && !shut(1) && !shut(2), "before the deadline: nothing closed");
    connguard_sweep(g, 4000);
    tap_ok(shut(0) && !shut(1), "at accept + request_timeout: closed, however busy the client");
    tap_is_int(dropped(TM_DROP_DEADLINE), 1, "counted as deadline");
    connguard_sweep(g, 5500);
    tap_ok(shut(1) && shut(2), "a busy connection past its deadline is closed too");
    open_from(g, 3, "192.0.2.4", false, 6000);
    connguard_busy(g, rec[3]);
    connguard_idle(g, rec[3], 8000);
    connguard_sweep(g, 10999);
    tap_ok(!shut(3), "kept alive: the deadline runs from the end of the answer");
    connguard_sweep(g, 11000);
    tap_ok(shut(3), "and ends there");
    connguard_idle(g, rec[3], 12000);
    connguard_busy(g, rec[3]);
    connguard_sweep(g, 20000);
    tap_is_int(dropped(TM_DROP_DEADLINE), 4, "a closed connection is not closed twice");
    tap_is_int(connguard_open_count(g), 0, "nothing held");
    for (int i = 0; i <= 3; i++)
        done(g, i);
    connguard_free(g);
}

/* test_churn - a flood through a small table: counts stay exact, the newest always get in */
static void test_churn(void)
{
    connguard *g = guard(8, 3, 1000);
    char a[32];
    int held = 0;

    for (int i = 0; i < NCONN; i++) {
        snprintf(a, sizeof(a), "203.0.113.%d", i % 5);
        open_from(g, i, a, false, i * 10);
        if (shut(i))
            held = -1000;
        if (i % 7 == 3)
            connguard_sweep(g, i * 10);
    }
    for (int i = 0; i < NCONN; i++)
        held += !shut(i);
    tap_is_int(held, 8,
               "64 connections from 5 addresses into 8 slots: 8 held, no newcomer refused");
    tap_is_int(connguard_open_count(g), 8, "and counted");
    tap_ok(!shut(NCONN - 1) && !shut(NCONN - 2), "the newest are the ones held");
    for (int i = 0; i < NCONN; i += 2)
        done(g, i);
    connguard_sweep(g, 100000);
    for (int i = 1; i < NCONN; i += 2)
        done(g, i);
    tap_is_int(connguard_open_count(g), 0, "all closed: nothing held");
    connguard_free(g);
}

int main(void)
{
    test_per_address();
    test_full();
    test_deadline();
    test_churn();
    return tap_done();
}
