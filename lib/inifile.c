/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * inifile.c - INI parsing with line numbers (see inifile.h)
 *
 * libinih still does the key/value work (comments, inline comments,
 * continuation lines, trimming); every line reaches it through
 * inifile_reader, which checks the line's shape first. Section headers
 * never reach libinih with their real name: the reader keeps the name and
 * hands libinih a one-letter placeholder, because libinih cuts section
 * names at 49 octets.
 */
#include "lib/inifile.h"

#include <ctype.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rfile.h"

struct inifile {
    char *text; /* the whole file (rfile_read) */
    size_t len, pos;
    const char *path;
    conf_report *rep;
    inifile_fn fn;
    inifile_section_fn section_fn;
    void *user;
    int line;
    bool continuation; /* the current line continues the previous key's value */
    bool have_key;     /* a key was seen in this section (libinih's prev_name) */
    char section[INIFILE_SECTION_MAX];
};

/* inifile_bad_char - a control character other than TAB, or a CR not ending the line */
static bool inifile_bad_char(const char *line, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)line[i];
        if (ch == '\n' && i == n - 1)
            break;
        if (ch == '\r' && (i == n - 1 || (i == n - 2 && line[n - 1] == '\n')))
            continue;
        if (ch == '\0' || (ch < ' ' && ch != '\t') || ch == 0x7f)
            return true;
    }
    return false;
}

/* inifile_section - check a "[name]" line (s at '['); false when reported as bad */
static bool inifile_section(struct inifile *p, const char *s)
{
    const char *close = strchr(s, ']'), *rest, *b, *e;

    if (close == NULL) {
        conf_report_at(p->rep, true, p->path, p->line, "section header without ']'");
        return false;
    }
    rest = close + 1 + strspn(close + 1, " \t\r\n");
    if (*rest && *rest != '#' && *rest != ';') {
        conf_report_at(p->rep, true, p->path, p->line, "text after the section header's ']'");
        return false;
    }
    for (b = s + 1; b < close && isspace((unsigned char)*b); b++)
        ;
    for (e = close; e > b && isspace((unsigned char)e[-1]); e--)
        ;
    if ((size_t)(e - b) >= sizeof(p->section)) {
        conf_report_at(p->rep, true, p->path, p->line, "section name longer than %d characters",
                       (int)sizeof(p->section) - 1);
        return false;
    }
    memcpy(p->section, b, (size_t)(e - b));
    p->section[e - b] = '\0';
    p->have_key = false;
    if (p->section_fn)
        p->section_fn(p->user, p->section, p->line);
    return true;
}

/* inifile_key_line - check a key line (s at its first non-blank); false when reported */
static bool inifile_key_line(struct inifile *p, const char *s)
{
    const char *sep = strpbrk(s, "=:");
    size_t n;

    if (sep == NULL) {
        conf_report_at(p->rep, true, p->path, p->line,
                       "expected 'key = value', '[section]' or a # comment");
        return false;
    }
    for (n = (size_t)(sep - s); n && isspace((unsigned char)s[n - 1]); n--)
        ;
    if (n > INIFILE_NAME_MAX) {
        conf_report_at(p->rep, true, p->path, p->line, "key name longer than %d characters",
                       INIFILE_NAME_MAX);
        return false;
    }
    p->have_key = true;
    return true;
}

/* inifile_shape - check one line; false when it was reported and must be ignored */
static bool inifile_shape(struct inifile *p, char *line, size_t n, int num, char *str)
{
    const char *s;

    if (inifile_bad_char(line, n)) {
        conf_report_at(p->rep, true, p->path, p->line, "control character in line");
        return false;
    }
    s = line;
    if (p->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0) /* UTF-8 BOM: libinih skips it */
        s += 3;
    s += strspn(s, " \t\r\n");
    p->continuation = false;
    if (*s == '\0' || *s == '#' || *s == ';') {
        if (n > (size_t)num - 1) /* a long comment is harmless: libinih need not see it */
            strcpy(str, "\n");
        return true;
    }
    if (*s == '[') {
        if (!inifile_section(p, s))
            return false;
        strcpy(str, "[s]\n"); /* libinih sees a placeholder; the name is kept here */
        return true;
    }
    if (n > (size_t)num - 1) { /* libinih would cut it; section lines may be longer */
        conf_report_at(p->rep, true, p->path, p->line,
                       "line longer than %d characters (continue a list on indented lines)",
                       num - 2);
        return false;
    }
    if ((line[0] == ' ' || line[0] == '\t') && p->have_key) {
        p->continuation = true;
        return true;
    }
    return inifile_key_line(p, s);
}

/* inifile_reader - fgets-alike over the file's text: counts lines and checks their shape */
static char *inifile_reader(char *str, int num, void *stream)
{
    struct inifile *p = stream;
    char *line = p->text + p->pos, *nl, saved;
    size_t n;

    if (p->pos >= p->len)
        return NULL;
    nl = memchr(line, '\n', p->len - p->pos);
    n = nl ? (size_t)(nl - line) + 1 : p->len - p->pos;
    p->pos += n;
    p->line++;
    saved = line[n]; /* the line's shape checks read a string: end it here for them */
    line[n] = '\0';
    str[0] = '\0';
    if (!inifile_shape(p, line, n, num, str))
        strcpy(str, "\n"); /* reported: libinih sees an empty line */
    else if (str[0] == '\0') {
        memcpy(str, line, n);
        str[n] = '\0';
    }
    line[n] = saved;
    return str;
}

static int inifile_handler(void *user, const char *section, const char *name, const char *value)
{
    struct inifile *p = user;

    (void)section; /* a placeholder: the real name is p->section */
    if (name && value)
        p->fn(p->user, p->section, name, value, p->line, p->continuation);
    return 1;
}

/* inifile_parse_file - at most max bytes of path; false when it cannot be read; problems to rep */
bool inifile_parse_file(const char *path, const char *what, size_t max, inifile_fn fn,
                        inifile_section_fn section_fn, void *user, conf_report *rep)
{
    rfile_policy policy = {what, max, 0, false};
    struct inifile p;
    int errors = rep->errors, rc;
    char err[PATH_MAX + 512];

    memset(&p, 0, sizeof(p));
    p.path = path;
    p.rep = rep;
    p.fn = fn;
    p.section_fn = section_fn;
    p.user = user;
    if ((p.text = rfile_read(path, &policy, &p.len, err, sizeof(err))) == NULL) {
        conf_report_at(rep, true, NULL, 0, "%s", err);
        return false;
    }
    rc = ini_parse_stream(inifile_reader, &p, inifile_handler, &p);
    rfile_free(p.text, p.len);
    if (rc > 0 && rep->errors == errors)
        conf_report_at(rep, true, path, rc, "syntax error");
    return true;
}

/* inifile_parse_sections - as inifile_parse_file, at most INIFILE_MAX bytes */
bool inifile_parse_sections(const char *path, inifile_fn fn, inifile_section_fn section_fn,
                            void *user, conf_report *rep)
{
    return inifile_parse_file(path, "configuration file", INIFILE_MAX, fn, section_fn, user, rep);
}

/* inifile_parse - as inifile_parse_sections, without the section callback */
bool inifile_parse(const char *path, inifile_fn fn, void *user, conf_report *rep)
{
    return inifile_parse_sections(path, fn, NULL, user, rep);
}
