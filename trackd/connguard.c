/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * connguard.c - connection deadlines, per-address limits and the last slot (see connguard.h)
 *
 * One lock over everything: every operation is a few list moves. Waiting
 * connections sit on two lists in deadline order, the global one and their
 * address's, so the oldest waiting one under either limit is a list head.
 * Deadlines only ever move to now + deadline_ms, which is never earlier than
 * any deadline already set, so appending keeps both lists in order. Busy
 * connections (answering) sit on a list of their own that the sweep reads
 * whole; a connection is busy for as long as its answer takes to send.
 */
#include "trackd/connguard.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { CG_WAITING, CG_BUSY, CG_CLOSING };
enum { CG_ALL, CG_ADDR }; /* which list links */

struct cg_list {
    connguard_conn *head, *tail;
};

/* one client address (an IPv6 one cut to its /64) with connections */
struct cg_addr {
    netlist_addr key;
    size_t live;            /* waiting and busy connections */
    size_t refs;            /* records pointing here, closing ones included */
    struct cg_list waiting; /* in deadline order */
    struct cg_addr *next;   /* hash chain */
};

struct connguard_conn {
    int fd;
    int state;
    int64_t deadline;
    struct cg_addr *addr; /* NULL: exempt from the per-address limit */
    connguard_conn *prev[2], *next[2];
};

struct connguard {
    pthread_mutex_t mu;
    size_t max, per_addr, live;
    int64_t deadline_ms;
    tmetrics *metrics;
    struct cg_list waiting, busy;
    struct cg_addr **hash;
    size_t hmask;
};

static void cg_append(struct cg_list *l, connguard_conn *k, int w)
{
    k->next[w] = NULL;
    k->prev[w] = l->tail;
    if (l->tail)
        l->tail->next[w] = k;
    else
        l->head = k;
    l->tail = k;
}

static void cg_unlink(struct cg_list *l, connguard_conn *k, int w)
{
    if (k->prev[w])
        k->prev[w]->next[w] = k->next[w];
    else
        l->head = k->next[w];
    if (k->next[w])
        k->next[w]->prev[w] = k->prev[w];
    else
        l->tail = k->prev[w];
    k->prev[w] = k->next[w] = NULL;
}

/* cg_key - the address a per-address limit counts: IPv4 whole, IPv6 by its /64 */
static netlist_addr cg_key(const netlist_addr *a)
{
    netlist_addr k = *a;

    if (k.family == AF_INET6)
        memset(k.a + 8, 0, 8);
    return k;
}

static size_t cg_hash(const netlist_addr *k)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)k->family;

    for (size_t i = 0; i < sizeof(k->a); i++)
        h = (h ^ k->a[i]) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 29));
}

/* cg_addr_get - the record of a's address, made when new; NULL when out of memory */
static struct cg_addr *cg_addr_get(connguard *g, const netlist_addr *a)
{
    netlist_addr k = cg_key(a);
    size_t i = cg_hash(&k) & g->hmask;
    struct cg_addr *e;

    for (e = g->hash[i]; e; e = e->next)
        if (e->key.family == k.family && memcmp(e->key.a, k.a, sizeof(k.a)) == 0)
            return e;
    if ((e = calloc(1, sizeof(*e))) == NULL)
        return NULL;
    e->key = k;
    e->next = g->hash[i];
    g->hash[i] = e;
    return e;
}

/* cg_addr_put - drop one reference; the last one removes the address */
static void cg_addr_put(connguard *g, struct cg_addr *e)
{
    struct cg_addr **pp;

    if (e == NULL || --e->refs > 0)
        return;
    for (pp = &g->hash[cg_hash(&e->key) & g->hmask]; *pp != e; pp = &(*pp)->next)
        ;
    *pp = e->next;
    free(e);
}

/* cg_gauge - publish the number of connections held */
static void cg_gauge(connguard *g)
{
    if (g->metrics)
        atomic_store_explicit(&g->metrics->conn_open, g->live, memory_order_relaxed);
}

/* cg_take - off the lists of its state (the counts stay) */
static void cg_take(connguard *g, connguard_conn *k)
{
    if (k->state == CG_WAITING) {
        cg_unlink(&g->waiting, k, CG_ALL);
        if (k->addr)
            cg_unlink(&k->addr->waiting, k, CG_ADDR);
    } else if (k->state == CG_BUSY)
        cg_unlink(&g->busy, k, CG_ALL);
}

/* cg_put_waiting - at the tail of the waiting lists, deadline from now */
static void cg_put_waiting(connguard *g, connguard_conn *k, int64_t now_ms)
{
    k->state = CG_WAITING;
    k->deadline = now_ms + g->deadline_ms;
    cg_append(&g->waiting, k, CG_ALL);
    if (k->addr)
        cg_append(&k->addr->waiting, k, CG_ADDR);
}

/* cg_shut - end a connection for reason (enum tmetrics_conn_drop): its slot is free at once */
static void cg_shut(connguard *g, connguard_conn *k, int reason)
{
    cg_take(g, k);
    k->state = CG_CLOSING;
    g->live--;
    if (k->addr)
        k->addr->live--;
    shutdown(k->fd, SHUT_RDWR); /* the descriptor is still this connection's: see connguard.h */
    if (g->metrics)
        atomic_fetch_add_explicit(&g->metrics->conn_dropped[reason], 1, memory_order_relaxed);
}

/* connguard_new - an empty table (NULL when out of memory) */
connguard *connguard_new(const connguard_opts *o)
{
    connguard *g = calloc(1, sizeof(*g));
    size_t n = 64;

    if (g == NULL)
        return NULL;
    while (n < 2 * o->max && n < ((size_t)1 << 20))
        n <<= 1;
    if ((g->hash = calloc(n, sizeof(*g->hash))) == NULL) {
        free(g);
        return NULL;
    }
    g->hmask = n - 1;
    g->max = o->max;
    g->per_addr = o->per_addr;
    g->deadline_ms = o->deadline_ms;
    g->metrics = o->metrics;
    pthread_mutex_init(&g->mu, NULL);
    cg_gauge(g);
    return g;
}

/* connguard_free - release the table (every connection has been closed by then) */
void connguard_free(connguard *g)
{
    if (g == NULL)
        return;
    pthread_mutex_destroy(&g->mu);
    free(g->hash);
    free(g);
}

/* cg_make_room - close the oldest waiting connection over a limit; k itself when no other waits */
static void cg_make_room(connguard *g, connguard_conn *k)
{
    if (k->addr && k->state != CG_CLOSING && k->addr->live > g->per_addr)
        cg_shut(g, k->addr->waiting.head ? k->addr->waiting.head : k, TM_DROP_PER_ADDR);
    if (k->state != CG_CLOSING && g->live > g->max)
        cg_shut(g, g->waiting.head ? g->waiting.head : k, TM_DROP_FULL);
}

/*
 * connguard_open - a new connection on fd from peer; exempt: no per-address limit.
 * The record is kept until connguard_close, even when the connection was shut
 * at once (NULL only when out of memory: the socket has been shut then).
 */
connguard_conn *connguard_open(connguard *g, int fd, const netlist_addr *peer, bool exempt,
                               int64_t now_ms)
{
    connguard_conn *k = calloc(1, sizeof(*k));

    pthread_mutex_lock(&g->mu);
    if (k && g->per_addr && !exempt && (k->addr = cg_addr_get(g, peer)) == NULL) {
        free(k);
        k = NULL;
    }
    if (k == NULL) {
        shutdown(fd, SHUT_RDWR);
        pthread_mutex_unlock(&g->mu);
        return NULL;
    }
    k->fd = fd;
    if (k->addr) {
        k->addr->refs++;
        k->addr->live++;
    }
    g->live++;
    cg_put_waiting(g, k, now_ms);
    cg_make_room(g, k);
    cg_gauge(g);
    pthread_mutex_unlock(&g->mu);
    return k;
}

/* connguard_busy - a complete request is being answered: not a candidate to make room */
void connguard_busy(connguard *g, connguard_conn *k)
{
    if (k == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    if (k->state == CG_WAITING) {
        cg_take(g, k);
        k->state = CG_BUSY;
        cg_append(&g->busy, k, CG_ALL);
    }
    pthread_mutex_unlock(&g->mu);
}

/* connguard_idle - answered and kept alive: waiting again, with a new deadline */
void connguard_idle(connguard *g, connguard_conn *k, int64_t now_ms)
{
    if (k == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    if (k->state == CG_BUSY) {
        cg_take(g, k);
        cg_put_waiting(g, k, now_ms);
    }
    pthread_mutex_unlock(&g->mu);
}

/* connguard_close - the connection is gone: forget it */
void connguard_close(connguard *g, connguard_conn *k)
{
    if (k == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    if (k->state != CG_CLOSING) {
        cg_take(g, k);
        g->live--;
        if (k->addr)
            k->addr->live--;
        cg_gauge(g);
    }
    cg_addr_put(g, k->addr);
    pthread_mutex_unlock(&g->mu);
    free(k);
}

/* connguard_sweep - close every connection past its deadline */
void connguard_sweep(connguard *g, int64_t now_ms)
{
    connguard_conn *k, *next;

    pthread_mutex_lock(&g->mu);
    while ((k = g->waiting.head) != NULL && k->deadline <= now_ms)
        cg_shut(g, k, TM_DROP_DEADLINE);
    for (k = g->busy.head; k; k = next) {
        next = k->next[CG_ALL];
        if (k->deadline <= now_ms)
            cg_shut(g, k, TM_DROP_DEADLINE);
    }
    cg_gauge(g);
    pthread_mutex_unlock(&g->mu);
}

/* connguard_open_count - connections held now (those being closed not counted) */
size_t connguard_open_count(connguard *g)
{
    size_t n;

    pthread_mutex_lock(&g->mu);
    n = g->live;
    pthread_mutex_unlock(&g->mu);
    return n;
}
