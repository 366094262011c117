/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_inifile.c - the INI reader under sendgate.conf and the static
 * domains file (lib/inifile.c over libinih)
 *
 * What the callers rely on: the line of every value, continuation lines
 * flagged, section names whole however long (libinih alone cuts them at
 * 49 octets, which turned "[outbound <long domain>]" into another
 * domain), a callback for every section header even without keys, and
 * every malformed line reported at its line and otherwise ignored.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/inifile.h"
#include "t/lib/tap.h"

static char dir[] = "/tmp/sgtest-inifile.XXXXXX";
static char path[300];
static buf events;
static conf_report rep;

static void on_key(void *user, const char *section, const char *name, const char *value, int line,
                   bool continuation)
{
    (void)user;
    buf_printf(&events, "%d%s [%s] %s=%s\n", line, continuation ? "+" : "", section, name, value);
}

static void on_section(void *user, const char *section, int line)
{
    (void)user;
    buf_printf(&events, "%d [%s]\n", line, section);
}

/* parse - write text, parse it with both callbacks; events and rep are filled */
static bool parse(const char *text, size_t len)
{
    FILE *f;

    snprintf(path, sizeof(path), "%s/x.ini", dir);
    f = fopen(path, "w");
    fwrite(text, 1, len, f);
    fclose(f);
    buf_reset(&events);
    conf_report_free(&rep);
    conf_report_init(&rep);
    return inifile_parse_sections(path, on_key, on_section, NULL, &rep);
}

static const char *ev(const char *text)
{
    parse(text, strlen(text));
    return buf_cstr(&events);
}

/* reported - the report has "x.ini:line: want" */
static bool reported(int line, const char *want)
{
    char at[400];

    snprintf(at, sizeof(at), "%s:%d: %s", path, line, want);
    if (strstr(buf_cstr(&rep.text), at))
        return true;
    tap_diag("report: %.*s (want %s)", (int)strcspn(buf_cstr(&rep.text), "\n"), buf_cstr(&rep.text),
             at);
    return false;
}

static void test_basic(void)
{
    tap_is_str(ev("[a]\nk = v\nk2: v2\n\n# c\n; c\n[b]\nx=1\n"),
               "1 [a]\n2 [a] k=v\n3 [a] k2=v2\n7 [b]\n8 [b] x=1\n",
               "sections, keys, both separators, comments skipped, lines counted");
    tap_is_int(rep.errors, 0, "no problems");
    tap_is_str(ev("k = before\n[a]\n"), "1 [] k=before\n2 [a]\n",
               "a key before any section has section \"\"");
    tap_is_str(ev("[a]\nlist = one,\n  two\n\n\tthree\n# note\n  four\nnext = x\n"),
               "1 [a]\n2 [a] list=one,\n3+ [a] list=two\n5+ [a] list=three\n7+ [a] list=four\n"
               "8 [a] next=x\n",
               "continuation lines flagged, across blank and comment lines");
    tap_is_str(ev("[a]\n  indented = first\n"), "1 [a]\n2 [a] indented=first\n",
               "an indented first line of a section is a key, not a continuation");
    tap_is_str(ev("[a]\nv = text ; comment\nw = a;b\n"), "1 [a]\n2 [a] v=text\n3 [a] w=a;b\n",
               "' ;' starts a comment after a value, a bare ';' does not");
    tap_is_str(ev("[a]\nempty =\n"), "1 [a]\n2 [a] empty=\n", "an empty value");
    tap_is_str(ev("[ spaced name ]\n[]\n"), "1 [spaced name]\n2 []\n",
               "section names trimmed; an empty one is passed on");
    tap_is_str(ev("\xEF\xBB\xBF[a]\nk = v\n"), "1 [a]\n2 [a] k=v\n", "a UTF-8 BOM is skipped");
    tap_is_str(ev("[a]\r\nk = v\r\n"), "1 [a]\n2 [a] k=v\n", "CRLF line ends");
    tap_is_str(ev("[a]\nk = v"), "1 [a]\n2 [a] k=v\n", "no newline at the end");
    tap_is_str(ev(""), "", "an empty file");
}

static void test_long_names(void)
{
    char text[700], want[700], dom[260];

    memset(dom, 'd', 250);
    memcpy(dom + 240, ".example", 9);
    snprintf(text, sizeof(text), "[outbound %s]\nstatus = x\n", dom);
    snprintf(want, sizeof(want), "1 [outbound %s]\n2 [outbound %s] status=x\n", dom, dom);
    tap_is_str(ev(text), want, "a 258-octet section name arrives whole");
    memset(text, 'n', sizeof(text));
    text[0] = '[';
    text[INIFILE_SECTION_MAX + 1] = ']';
    text[INIFILE_SECTION_MAX + 2] = '\n';
    text[INIFILE_SECTION_MAX + 3] = '\0';
    ev(text);
    tap_ok(reported(1, "section name longer than 299 characters"), "a section name too long");
    tap_is_str(buf_cstr(&events), "", "and it is not passed on");
    snprintf(text, sizeof(text), "[a]\n%048d = 1\n%049d = 2\n", 0, 0);
    snprintf(want, sizeof(want), "1 [a]\n2 [a] %048d=1\n", 0);
    tap_is_str(ev(text), want, "a 48-octet key name is fine");
    tap_ok(reported(3, "key name longer than 48 characters"), "a 49-octet key name is reported");
}

static void test_problems(void)
{
    char text[600];

    tap_is_str(ev("[a]\nk = 1\n[b\nx = 2\n"), "1 [a]\n2 [a] k=1\n4 [a] x=2\n",
               "an unterminated header is skipped");
    tap_ok(reported(3, "section header without ']'"), "and reported");
    ev("[a] b\n");
    tap_ok(reported(1, "text after the section header's ']'"), "text after ']'");
    tap_is_str(ev("[a] # fine\n[b] ; fine\n"), "1 [a]\n2 [b]\n", "a comment after ']' is fine");
    tap_is_str(ev("[a]\nwords only\nk = v\n"), "1 [a]\n3 [a] k=v\n", "a stray line is skipped");
    tap_ok(reported(2, "expected 'key = value', '[section]' or a # comment"), "and reported");
    parse("[a]\nk = a\0b\nj = 1\n", 18);
    tap_ok(reported(2, "control character in line"), "NUL reported");
    tap_is_str(buf_cstr(&events), "1 [a]\n3 [a] j=1\n", "the line is skipped, the rest read");
    ev("[a]\nk = a\x1b[0mb\n");
    tap_ok(reported(2, "control character in line"), "ESC reported");
    ev("[a]\nk = a\rb\n");
    tap_ok(reported(2, "control character in line"), "a CR inside the line reported");
    ev("[a]\nk = tab\there\n");
    tap_is_int(rep.errors, 0, "a TAB is fine");
    memset(text, 'x', sizeof(text));
    memcpy(text, "[a]\nk = ", 8);
    text[4 + 199] = '\n';
    text[4 + 200] = '\0';
    ev(text);
    tap_ok(reported(2, "line longer than 198 characters"), "a 199-character line is too long");
    text[4 + 198] = '\n';
    text[4 + 199] = '\0';
    ev(text);
    tap_is_int(rep.errors, 0, "a 198-character line is fine");
    tap_is_int(strlen(buf_cstr(&events)), strlen("1 [a]\n2 [a] k=\n") + 194,
               "and its value arrives whole");
    memset(text, 'x', sizeof(text));
    memcpy(text, "[a]\n# ", 6);
    text[500] = '\n';
    memcpy(text + 501, "k = v\n", 7);
    tap_is_str(ev(text), "1 [a]\n3 [a] k=v\n", "a long comment is fine");
    tap_is_int(rep.errors, 0, "and not reported");
    tap_ok(!inifile_parse_sections("/nonexistent/x.ini", on_key, on_section, NULL, &rep),
           "a missing file: false");
    tap_ok(strstr(buf_cstr(&rep.text), "/nonexistent/x.ini: cannot open"), "reported");
}

static void test_no_section_fn(void)
{
    FILE *f;

    snprintf(path, sizeof(path), "%s/y.ini", dir);
    f = fopen(path, "w");
    fputs("[a]\nk = v\n[b]\n", f);
    fclose(f);
    buf_reset(&events);
    conf_report_free(&rep);
    conf_report_init(&rep);
    tap_ok(inifile_parse(path, on_key, NULL, &rep), "inifile_parse without a section callback");
    tap_is_str(buf_cstr(&events), "2 [a] k=v\n", "keys only");
}

int main(void)
{
    char cmd[200];

    if (mkdtemp(dir) == NULL)
        return 1;
    conf_report_init(&rep);
    test_basic();
    test_long_names();
    test_problems();
    test_no_section_fn();
    buf_free(&events);
    conf_report_free(&rep);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", dir);
    return tap_done();
}
