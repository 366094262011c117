/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stalls.c - how often this machine takes the CPU away from a running thread
 *
 * SYNOPSIS
 *	stalls [-t SECONDS] [-T THREADS]
 *
 * DESCRIPTION
 *	Runs THREADS threads (default: one per online CPU) that do nothing but
 *	read CLOCK_MONOTONIC in a loop for SECONDS (default 5), and counts the
 *	gaps between two consecutive readings: on an idle machine a gap is
 *	time the thread was not running (the hypervisor ran another guest, an
 *	interrupt or a kernel thread took the CPU). A server that answers in
 *	50 us cannot answer in under 1 ms while its CPU is gone for 1 ms, so
 *	bench/policy prints this beside its latency percentiles.
 *
 *	Output, one line: threads, seconds, gaps over 0.1, 1 and 5 ms (all
 *	threads together), the longest gap in ms, and the share of the time
 *	lost in gaps over 0.1 ms.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define STALLS_MAX_THREADS 256

typedef struct probe {
    uint64_t ns; /* how long to run */
    long over100us, over1ms, over5ms;
    uint64_t longest, lost; /* ns */
} probe;

static uint64_t stalls_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void *stalls_run(void *arg)
{
    probe *p = arg;
    uint64_t start = stalls_now(), prev = start, t;

    do {
        uint64_t gap;
        t = stalls_now();
        gap = t - prev;
        prev = t;
        if (gap <= 100000)
            continue;
        p->over100us++;
        p->lost += gap;
        p->over1ms += gap > 1000000;
        p->over5ms += gap > 5000000;
        if (gap > p->longest)
            p->longest = gap;
    } while (t - start < p->ns);
    return NULL;
}

int main(int argc, char **argv)
{
    static probe ps[STALLS_MAX_THREADS];
    pthread_t th[STALLS_MAX_THREADS];
    double seconds = 5.0;
    long n = sysconf(_SC_NPROCESSORS_ONLN), over100us = 0, over1ms = 0, over5ms = 0;
    uint64_t longest = 0, lost = 0;
    int ch;

    while ((ch = getopt(argc, argv, "t:T:")) != -1) {
        if (ch == 't')
            seconds = atof(optarg);
        else if (ch == 'T')
            n = atol(optarg);
        else {
            fprintf(stderr, "usage: stalls [-t seconds] [-T threads]\n");
            return 64;
        }
    }
    if (n < 1 || n > STALLS_MAX_THREADS || seconds <= 0) {
        fprintf(stderr, "stalls: bad thread count or duration\n");
        return 64;
    }
    for (long i = 0; i < n; i++) {
        ps[i].ns = (uint64_t)(seconds * 1e9);
        if (pthread_create(&th[i], NULL, stalls_run, &ps[i]) != 0) {
            perror("stalls: pthread_create");
            return 1;
        }
    }
    for (long i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        over100us += ps[i].over100us;
        over1ms += ps[i].over1ms;
        over5ms += ps[i].over5ms;
        lost += ps[i].lost;
        if (ps[i].longest > longest)
            longest = ps[i].longest;
    }
    printf("threads=%ld seconds=%.2f over_0.1ms=%ld over_1ms=%ld over_5ms=%ld max_ms=%.2f "
           "lost_pct=%.2f\n",
           n, seconds, over100us, over1ms, over5ms, (double)longest / 1e6,
           100.0 * (double)lost / ((double)n * seconds * 1e9));
    return 0;
}
