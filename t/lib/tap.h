/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tap.h - a small TAP producer for the C unit tests
 *
 * Each t/unit/test_*.c includes this header, calls the tap_* checks and ends
 * with `return tap_done();`. The plan is printed at the end ("1..N"), so a
 * test never has to count its checks; prove(1) collects the stream. Failed
 * checks print the got/expected values as TAP diagnostics (# lines).
 *
 * Header-only on purpose: every test binary is one translation unit linked
 * against libsendgate.a, and the helper must not end up in the product.
 */
#ifndef SG_TAP_H
#define SG_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count_;
static int tap_failed_;

__attribute__((format(printf, 2, 3))) static inline bool tap_ok(bool cond, const char *fmt, ...)
{
    va_list ap;

    tap_count_++;
    printf("%sok %d - ", cond ? "" : "not ", tap_count_);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!cond)
        tap_failed_++;
    fflush(stdout);
    return cond;
}

__attribute__((format(printf, 1, 2))) static inline void tap_diag(const char *fmt, ...)
{
    va_list ap;

    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/* tap_is_int - integer equality with diagnostics */
#define tap_is_int(got, want, ...)                                          \
    do {                                                                    \
        long long tap_g_ = (long long)(got), tap_w_ = (long long)(want);    \
        if (!tap_ok(tap_g_ == tap_w_, __VA_ARGS__))                         \
            tap_diag("     got: %lld\n#   expected: %lld", tap_g_, tap_w_); \
    } while (0)

/* tap_is_str - string equality (NULL-safe) with diagnostics */
#define tap_is_str(got, want, ...)                                                       \
    do {                                                                                 \
        const char *tap_g_ = (got), *tap_w_ = (want);                                    \
        bool tap_eq_ = (tap_g_ == NULL || tap_w_ == NULL) ? tap_g_ == tap_w_             \
                                                          : strcmp(tap_g_, tap_w_) == 0; \
        if (!tap_ok(tap_eq_, __VA_ARGS__))                                               \
            tap_diag("     got: '%s'\n#   expected: '%s'", tap_g_ ? tap_g_ : "(null)",   \
                     tap_w_ ? tap_w_ : "(null)");                                        \
    } while (0)

/* tap_is_mem - byte-exact comparison of two buffers with lengths */
#define tap_is_mem(got, glen, want, wlen, ...)                                                \
    do {                                                                                      \
        const void *tap_g_ = (got), *tap_w_ = (want);                                         \
        size_t tap_gl_ = (glen), tap_wl_ = (wlen);                                            \
        bool tap_eq_ =                                                                        \
                tap_gl_ == tap_wl_ && (tap_gl_ == 0 || memcmp(tap_g_, tap_w_, tap_gl_) == 0); \
        if (!tap_ok(tap_eq_, __VA_ARGS__))                                                    \
            tap_diag("     got (%zu): '%.*s'\n#   expected (%zu): '%.*s'", tap_gl_,           \
                     (int)(tap_gl_ > 2000 ? 2000 : tap_gl_), (const char *)tap_g_, tap_wl_,   \
                     (int)(tap_wl_ > 2000 ? 2000 : tap_wl_), (const char *)tap_w_);           \
    } while (0)

/* tap_done - print the plan; exit status is non-zero when a check failed */
static inline int tap_done(void)
{
    printf("1..%d\n", tap_count_);
    fflush(stdout);
    return tap_failed_ ? 1 : 0;
}

#endif
