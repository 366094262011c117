/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_buf.c - the growable buffer (lib/buf.c)
 *
 * Appends of every kind, growth across many reallocations, the size limit
 * (also on the inline buf_putc path), the sticky failure that lets callers
 * check once at the end, and handing the storage over with buf_steal.
 */
#include <string.h>

#include "lib/buf.h"
#include "t/lib/tap.h"

static void test_append(void)
{
    buf b = BUF_INIT;
    size_t len = 99;
    char *s;

    tap_is_str(buf_cstr(&b), "", "an empty buffer reads as \"\"");
    tap_ok(buf_append(&b, "abc", 3), "append");
    tap_ok(buf_append(&b, NULL, 0), "append of nothing");
    tap_ok(buf_append_str(&b, "def"), "append_str");
    tap_ok(buf_putc(&b, 'g'), "putc");
    tap_ok(buf_printf(&b, "-%d-%s", 42, "x"), "printf");
    tap_is_str(buf_cstr(&b), "abcdefg-42-x", "contents");
    tap_is_int(b.len, 12, "length");
    tap_ok(b.data[b.len] == '\0', "always NUL-terminated");
    tap_ok(buf_append(&b, "\0z", 2), "binary append");
    tap_is_mem(b.data, b.len, "abcdefg-42-x\0z", 14, "binary contents kept");
    buf_reset(&b);
    tap_is_str(buf_cstr(&b), "", "reset empties");
    tap_ok(b.cap > 0, "reset keeps the storage");
    s = buf_steal(&b, &len);
    tap_is_str(s, "", "steal after reset: an empty string");
    tap_is_int(len, 0, "of length 0");
    free(s);
    buf_free(&b);
}

static void test_growth(void)
{
    buf b = BUF_INIT;
    bool ok = true;

    for (int i = 0; i < 100000; i++)
        ok &= buf_putc(&b, (char)('a' + i % 26));
    tap_ok(ok && b.len == 100000, "100000 putc grow the buffer");
    ok = true;
    for (int i = 0; i < 100000 && ok; i++)
        ok = b.data[i] == (char)('a' + i % 26);
    tap_ok(ok, "every byte in place after growing");
    buf_reset(&b);
    tap_ok(buf_printf(&b, "%5000d|", 7), "printf longer than the current capacity");
    tap_is_int(b.len, 5001, "its length");
    tap_ok(b.data[4999] == '7' && b.data[5000] == '|', "its contents");
    buf_free(&b);
    tap_ok(b.data == NULL && b.len == 0 && b.cap == 0, "free leaves an empty buffer");
}

static void test_limit(void)
{
    buf b = BUF_INIT;

    buf_set_limit(&b, 8);
    tap_ok(buf_append_str(&b, "12345678"), "append up to the limit");
    tap_ok(!buf_failed(&b), "not failed at exactly the limit");
    tap_ok(!buf_putc(&b, '9'), "putc beyond the limit refused, though capacity is left");
    tap_ok(buf_failed(&b), "and the buffer is failed");
    tap_is_str(buf_cstr(&b), "12345678", "contents unchanged by the refused byte");

    buf_reset(&b);
    tap_ok(!buf_failed(&b), "reset clears the failure");
    tap_ok(!buf_append_str(&b, "123456789"), "one append over the limit refused");
    buf_reset(&b);
    tap_ok(!buf_printf(&b, "%s", "0123456789"), "printf over the limit refused");
    tap_ok(buf_failed(&b), "failed");
    buf_reset(&b);
    for (int i = 0; i < 8; i++)
        buf_putc(&b, 'x');
    tap_ok(!buf_failed(&b) && b.len == 8, "eight putc fit a limit of 8");
    tap_ok(!buf_putc(&b, 'x') && b.len == 8, "the ninth does not");
    buf_set_limit(&b, 0);
    buf_reset(&b);
    tap_ok(buf_printf(&b, "%100s", "") && b.len == 100, "limit 0 removes the cap");
    buf_free(&b);
}

static void test_sticky(void)
{
    buf b = BUF_INIT;
    size_t len = 99;

    buf_set_limit(&b, 4);
    buf_append_str(&b, "ab");
    buf_append_str(&b, "cdef"); /* fails */
    tap_ok(buf_failed(&b), "failure recorded");
    tap_ok(!buf_append_str(&b, "x"), "a later small append is a no-op");
    tap_ok(!buf_putc(&b, 'x'), "so is putc");
    tap_ok(!buf_printf(&b, "y"), "and printf");
    tap_ok(!buf_reserve(&b, 1), "and reserve");
    tap_is_str(buf_cstr(&b), "ab", "nothing was appended after the failure");
    tap_ok(buf_steal(&b, &len) == NULL, "steal of a failed buffer gives NULL");
    tap_is_int(len, 0, "and length 0");
    tap_ok(b.data == NULL && !b.failed, "the buffer is empty and usable again");
    tap_is_int(b.limit, 4, "and keeps its limit");
    tap_ok(buf_append_str(&b, "abcd") && !buf_append_str(&b, "e"), "the limit still applies");
    buf_free(&b);
}

static void test_steal(void)
{
    buf b = BUF_INIT;
    size_t len = 0;
    char *s;

    s = buf_steal(&b, &len);
    tap_ok(s != NULL && *s == '\0' && len == 0, "steal of an untouched buffer: \"\"");
    free(s);
    buf_printf(&b, "hello %s", "world");
    s = buf_steal(&b, &len);
    tap_is_str(s, "hello world", "steal hands over the contents");
    tap_is_int(len, 11, "with their length");
    tap_ok(b.data == NULL && b.len == 0 && b.cap == 0, "the buffer no longer owns them");
    free(s);
    buf_append_str(&b, "again");
    s = buf_steal(&b, NULL);
    tap_is_str(s, "again", "a stolen-from buffer is reusable; len may be NULL");
    free(s);
}

int main(void)
{
    test_append();
    test_growth();
    test_limit();
    test_sticky();
    test_steal();
    return tap_done();
}
