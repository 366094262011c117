/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_conf.c - sendgate.conf loading (lib/conf.c, lib/inifile.c)
 *
 * What an operator sees: the embedded defaults load; every key type
 * accepts what the documentation promises and refuses the rest with
 * "file:line: section.key = value: reason"; unknown sections and keys,
 * duplicates, over-long lines, control characters and stray text are
 * reported where they are; the file itself, and every file read at
 * start, is read by rfile_read: a regular file within its size limit
 * (never /dev/zero, a FIFO or a directory), with the policy's modes and
 * links refused and the fix named; secrets come from files that others
 * cannot read; show-config prints values that load back to the same values; a
 * configuration lives as long as its last reference.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/conf.h"
#include "lib/inifile.h"
#include "lib/rfile.h"
#include "t/lib/tap.h"

static char dir[] = "/tmp/sgtest-conf.XXXXXX";
static char path[300];
static conf_report rep;

/* write_file - name in the test directory with the given contents and mode */
static const char *write_file(const char *name, const char *text, mode_t mode)
{
    static char p[300];
    FILE *f;

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    unlink(p);
    f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    chmod(p, mode);
    return p;
}

/* load - write text as the config file and load it; the report is in rep */
static conf *load(const char *text)
{
    snprintf(path, sizeof(path), "%s", write_file("sendgate.conf", text, 0640));
    conf_report_free(&rep);
    conf_report_init(&rep);
    return conf_load(path, &rep);
}

/* rep_line - the report on one line, for test names */
static const char *rep_line(void)
{
    static char out[2048];
    size_t n = 0;

    for (const char *r = buf_cstr(&rep.text); *r && n + 4 < sizeof(out); r++) {
        if (*r != '\n')
            out[n++] = *r;
        else if (r[1])
            out[n++] = ' ', out[n++] = '|', out[n++] = ' ';
    }
    out[n] = '\0';
    return out;
}

/* report_has - a report line starts with "file:line: " (line 0: "file: ") and holds want */
static bool report_has(const char *file, int line, const char *want)
{
    char at[400];
    const char *r = buf_cstr(&rep.text);
    size_t al;

    if (line > 0)
        snprintf(at, sizeof(at), "%s:%d: ", file, line);
    else
        snprintf(at, sizeof(at), "%s: ", file);
    al = strlen(at);
    while (*r) {
        size_t ll = strcspn(r, "\n");
        char one[1200];
        snprintf(one, sizeof(one), "%.*s", (int)ll, r);
        if (strncmp(one, at, al) == 0 && strstr(one + al, want))
            return true;
        r += ll + (r[ll] == '\n');
    }
    return false;
}

/* refused - text does not load and the report has "sendgate.conf:line: ...want..." */
static bool refused(const char *text, int line, const char *want)
{
    conf *c = load(text);
    bool ok = c == NULL && report_has(path, line, want);

    if (!ok)
        tap_diag("report: %s (want %s:%d: ...%s)", rep_line(), path, line, want);
    conf_unref(c);
    return ok;
}

/* value - key's formatted value after loading text (c must load) */
static const char *value(const char *text, const char *section, const char *key)
{
    static char out[1024];
    conf *c = load(text);
    buf b = BUF_INIT;

    if (c == NULL) {
        tap_diag("did not load: %s", rep_line());
        return "(not loaded)";
    }
    conf_format_value(c, conf_find_key(section, key), &b);
    snprintf(out, sizeof(out), "%s", buf_cstr(&b));
    buf_free(&b);
    conf_unref(c);
    return out;
}

static void test_defaults(void)
{
    conf *c;

    conf_report_init(&rep);
    c = conf_load(NULL, &rep);
    tap_ok(c != NULL && rep.errors == 0, "the embedded defaults load: %s", rep_line());
    if (c == NULL)
        return;
    tap_is_int(c->general.cache_map_size, 64 << 20, "cache_map_size 64M");
    tap_is_int(c->general.cache_max_map_size, 4LL << 30, "cache_max_map_size 4G");
    tap_is_int(c->general.cache_max_age, 3600, "cache_max_age 1h");
    tap_is_int(c->general.provider_order.n, 3, "provider_order has three words");
    tap_is_str(c->general.provider_order.v[1], "jetemail", "the second is jetemail");
    tap_is_int(c->handling.blocked, CONF_REJECT, "handling.blocked reject");
    tap_is_int(c->handling.pending, CONF_TEMPFAIL, "handling.pending tempfail");
    tap_is_int(c->handling.unknown_domain, CONF_ACCEPT, "handling.unknown_domain accept");
    tap_is_int(c->handling.exempt_senders.n, 0, "no exempt senders");
    tap_is_int(c->policyd.socket_mode, 0660, "socket_mode 0660");
    tap_ok(c->policyd.inbound_checks, "inbound_checks yes");
    tap_is_int(conf_key_line(c, CK_handling_blocked), 0, "a default has no line");
    tap_ok(c->conf_file == NULL, "no file");
    tap_ok(conf_secret(c, CK_jetemail_api_token_file) == NULL, "no secret");
    conf_unref(c);
    c = conf_defaults(&rep);
    tap_ok(c != NULL, "conf_defaults");
    conf_unref(c);
    c = load("# nothing but a comment\n\n; and another\n");
    tap_ok(c != NULL, "a file of comments loads");
    conf_unref(c);
    c = conf_load(NULL, NULL);
    tap_ok(c != NULL, "a NULL report is allowed");
    conf_unref(c);
}

static void test_bool(void)
{
    static const char *const yes[] = {"yes", "YES", "true", "on", "1"};
    static const char *const no[] = {"no", "False", "off", "0"};
    char text[200];

    for (size_t i = 0; i < 5; i++) {
        snprintf(text, sizeof(text), "[policyd]\nsmtp_all_servers = %s\n", yes[i]);
        tap_is_str(value(text, "policyd", "smtp_all_servers"), "yes", "bool '%s'", yes[i]);
    }
    for (size_t i = 0; i < 4; i++) {
        snprintf(text, sizeof(text), "[policyd]\ninbound_checks = %s\n", no[i]);
        tap_is_str(value(text, "policyd", "inbound_checks"), "no", "bool '%s'", no[i]);
    }
    tap_ok(refused("[policyd]\n\ninbound_checks = yes please\n", 3,
                   "policyd.inbound_checks = yes please: expected yes or no"),
           "bad bool refused with file:line");
    tap_ok(refused("[policyd]\ninbound_checks =\n", 2, "expected yes or no"), "empty bool");
}

static void test_int(void)
{
    tap_is_str(value("[refresh]\njitter = 50\n", "refresh", "jitter"), "50", "int at its max");
    tap_is_str(value("[refresh]\njitter = 0\n", "refresh", "jitter"), "0", "int at its min");
    tap_ok(refused("[refresh]\njitter = 51\n", 2, "refresh.jitter = 51: must be between 0 and 50"),
           "int above range");
    tap_ok(refused("[refresh]\njitter = -1\n", 2, "must be between 0 and 50"), "int below");
    tap_ok(refused("[refresh]\njitter = ten\n", 2, "expected a whole number"), "not a number");
    tap_ok(refused("[refresh]\njitter = 10x\n", 2, "expected a whole number"), "trailing junk");
    tap_ok(refused("[refresh]\njitter = 99999999999999999999\n", 2, "expected a whole number"),
           "overflow");
    tap_ok(refused("[general]\ncache_max_readers = 100\n", 2, "must be between 126 and 65536"),
           "general.cache_max_readers range");
}

static void test_duration(void)
{
    static const char *const in[][2] = {
            {"90s", "90s"}, {"90", "90s"},  {"5m", "5m"},    {"300s", "5m"},
            {"2h", "2h"},   {"1d", "1d"},   {"1w", "7d"},    {"120m", "2h"},
            {"0", "0s"},    {"61s", "61s"}, {"1440m", "1d"},
    };
    static const char *const bad[] = {"5x", "m", "-5m", "5 m", "5mm", "1.5h", "5M", ""};
    char text[200];

    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        snprintf(text, sizeof(text), "[general]\ncache_max_age = %s\n", in[i][0]);
        tap_is_str(value(text, "general", "cache_max_age"), in[i][1], "duration %s shows as %s",
                   in[i][0], in[i][1]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "[general]\ncache_max_age = %s\n", bad[i]);
        tap_ok(refused(text, 2, "expected a duration such as 30s, 5m, 1h, 2d"),
               "duration '%s' refused", bad[i]);
    }
}

static void test_size(void)
{
    static const char *const in[][2] = {
            {"512k", "512k"}, {"512K", "512k"}, {"64M", "64M"},       {"64m", "64M"},
            {"1G", "1G"},     {"1024M", "1G"},  {"100000", "100000"}, {"65536", "64k"},
    };
    static const char *const bad[] = {"1T", "k", "-1k", "1.5M", "1 M", "16MB", "99999999999999G",
                                      ""};
    char text[200];

    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        snprintf(text, sizeof(text), "[refresh]\nmax_response_size = %s\n", in[i][0]);
        tap_is_str(value(text, "refresh", "max_response_size"), in[i][1], "size %s shows as %s",
                   in[i][0], in[i][1]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "[refresh]\nmax_response_size = %s\n", bad[i]);
        tap_ok(refused(text, 2, "expected a size such as 512k, 64M, 1G"), "size '%s' refused",
               bad[i]);
    }
}

static void test_enum(void)
{
    conf *c = load("[handling]\nblocked = tempfail\npending = ACCEPT\nnull_sender = reject\n");

    tap_ok(c != NULL, "enum values load");
    if (c) {
        tap_is_int(c->handling.blocked, CONF_TEMPFAIL, "tempfail");
        tap_is_int(c->handling.pending, CONF_ACCEPT, "ACCEPT (case-insensitive)");
        tap_is_int(c->handling.null_sender, CONF_REJECT, "reject");
    }
    conf_unref(c);
    tap_ok(refused("[handling]\nblocked = maybe\n", 2,
                   "handling.blocked = maybe: expected one of: accept reject tempfail"),
           "unknown enum value lists the choices");
    tap_ok(refused("[handling]\nblocked = rejectx\n", 2, "expected one of"), "prefix only");
    tap_ok(refused("[handling]\nblocked = rej\n", 2, "expected one of"), "abbreviation");
    tap_is_str(value("[general]\nsyslog_facility = local7\n", "general", "syslog_facility"),
               "local7", "the last facility");
}

static void test_list(void)
{
    conf *c = load("[handling]\nexempt_senders = a@x.example,\n"
                   "    b@y.example  c@z.example\n"
                   "\t,d@w.example\n"
                   "# a comment between continuation lines\n"
                   "    e@v.example\n"
                   "demo_recipients = owner@x.example\n");

    tap_ok(c != NULL, "a list continued on indented lines loads: %s", rep_line());
    if (c) {
        tap_is_int(c->handling.exempt_senders.n, 5, "five words");
        tap_is_str(c->handling.exempt_senders.v[4], "e@v.example", "the last one");
        tap_ok(conf_list_has(&c->handling.exempt_senders, "C@Z.example", true),
               "conf_list_has, case-insensitive");
        tap_ok(!conf_list_has(&c->handling.exempt_senders, "C@Z.example", false),
               "conf_list_has, exact");
        tap_is_int(c->handling.demo_recipients.n, 1, "the next key is separate");
        tap_is_int(conf_key_line(c, CK_handling_exempt_senders), 2, "line of the list");
    }
    conf_unref(c);
    tap_ok(refused("[handling]\nblocked = reject\n  tempfail\n", 3,
                   "handling.blocked: only lists continue on indented lines"),
           "a continuation of a non-list key refused");
    tap_is_str(value("[general]\nprovider_order =\n", "general", "provider_order"), "",
               "an empty list");
    tap_is_str(value("[general]\nprovider_order = mailtrap,,static\n", "general", "provider_order"),
               "mailtrap, static", "empty words dropped");
}

static void test_strings(void)
{
    tap_is_str(value("[milter]\nsocket = inet:8891@127.0.0.1\n", "milter", "socket"),
               "inet:8891@127.0.0.1", "endpoint kept as written");
    tap_ok(refused("[milter]\nsocket = tcp:127.0.0.1:1\n", 2,
                   "milter.socket = tcp:127.0.0.1:1: endpoint must start with"),
           "bad endpoint refused with its reason");
    tap_ok(refused("[milter]\nsocket = inet:127.0.0.1:0\n", 2, "port must be a number"),
           "endpoint port 0");
    tap_is_str(value("[mailtrap]\nbase_url = http://127.0.0.1:9/api\n", "mailtrap", "base_url"),
               "http://127.0.0.1:9/api", "URL");
    tap_ok(refused("[mailtrap]\nbase_url = ftp://mailtrap.io\n", 2,
                   "must start with https:// or http://"),
           "URL scheme");
    tap_ok(refused("[mailtrap]\nbase_url = https://\n", 2, "URL has no host"), "URL without host");
    tap_ok(refused("[mailtrap]\nbase_url = https:///x\n", 2, "URL has no host"), "URL path only");
    tap_ok(refused("[mailtrap]\nbase_url = https://a b\n", 2, "white space"), "URL with a space");
    tap_is_str(
            value("[tracking]\ndefault_host = Track.Bücher.Example.\n", "tracking", "default_host"),
            "track.xn--bcher-kva.example", "host normalised (case, IDN, root dot)");
    tap_ok(refused("[tracking]\ndefault_host = bad_host.example\n", 2,
                   "tracking.default_host = bad_host.example: character not allowed"),
           "bad host refused");
    tap_is_str(value("[policyd]\nsocket_mode = 0600\n", "policyd", "socket_mode"), "0600", "mode");
    tap_is_str(value("[policyd]\nsocket_mode = 660\n", "policyd", "socket_mode"), "0660",
               "mode without the leading 0 is still octal");
    tap_ok(refused("[policyd]\nsocket_mode = 0999\n", 2, "expected an octal mode"), "mode 0999");
    tap_ok(refused("[policyd]\nsocket_mode = rw-rw----\n", 2, "expected an octal mode"),
           "symbolic mode");
    tap_ok(refused("[policyd]\nsocket_mode = 10000\n", 2, "expected an octal mode"),
           "mode above 07777");
    tap_ok(refused("[general]\ncache_path = var/lib/sendgate\n", 2,
                   "general.cache_path = var/lib/sendgate: path must be absolute"),
           "relative path");
    tap_is_str(value("[general]\nuser =\n", "general", "user"), "", "empty string");
    tap_is_str(value("[refresh]\nuser_agent = sendgate/1 (ops@x.example) ; comment\n", "refresh",
                     "user_agent"),
               "sendgate/1 (ops@x.example)", "a ' ;' comment after a value is dropped");
}

static void test_structure(void)
{
    char longline[400];

    tap_ok(refused("[general]\nlog_level = info\n[nosuch]\nkey = 1\n", 3,
                   "unknown section [nosuch]"),
           "unknown section at its header line");
    tap_ok(refused("[general]\n[nosuch]\n", 2, "unknown section [nosuch]"),
           "an unknown section without keys is reported too");
    tap_ok(refused("[general]\nlog_level = info\n\nloglevel = info\n", 4,
                   "unknown key 'loglevel' in [general]"),
           "unknown key");
    tap_ok(refused("[general]\nblocked = reject\n", 2, "unknown key 'blocked' in [general]"),
           "a key of another section");
    tap_ok(refused("log_level = info\n", 1, "log_level: key outside a [section]"),
           "a key before any section");
    tap_ok(refused("[general]\nlog_level = info\n[handling]\n[general]\nlog_level = debug\n", 5,
                   "general.log_level: given twice (first on line 2)"),
           "duplicate key, also across repeated sections");
    tap_ok(refused("[general\nlog_level = info\n", 1, "section header without ']'"),
           "unterminated section header");
    tap_ok(refused("[general] junk\n", 1, "text after the section header's ']'"),
           "text after the header");
    {
        conf *c = load("[ general ]  # comment\nlog_level = debug\n");
        tap_ok(c != NULL, "white space inside the brackets and a comment after them");
        conf_unref(c);
        c = load("[general]\r\nlog_level = debug\r\n");
        tap_ok(c != NULL, "CRLF line ends are fine");
        conf_unref(c);
    }
    tap_ok(refused("[general]\njust some words\n", 2,
                   "expected 'key = value', '[section]' or a # comment"),
           "a line that is neither key nor section");
    tap_ok(refused("[general]\nlog_level = in\x01"
                   "fo\n",
                   2, "control character in line"),
           "control character");
    tap_ok(refused("[general]\nlog_level = info\r\ruser =\n", 2, "control character in line"),
           "a bare CR inside a line");
    /* "[refresh]\n" is 10 octets, then a line of 199 characters */
    memset(longline, 'x', sizeof(longline));
    memcpy(longline, "[refresh]\nuser_agent = ", 23);
    longline[10 + 199] = '\n';
    longline[10 + 200] = '\0';
    tap_ok(refused(longline, 2, "line longer than 198 characters"), "a 199-character line");
    longline[10 + 198] = '\n';
    longline[10 + 199] = '\0';
    {
        conf *c = load(longline);
        tap_ok(c && strlen(c->refresh.user_agent) == 185, "a 198-character line is fine: %s",
               rep_line());
        conf_unref(c);
    }
    {
        char name[200];
        snprintf(name, sizeof(name), "[general]\n%060d = 1\n", 0);
        tap_ok(refused(name, 2, "key name longer than 48 characters"), "over-long key name");
    }
    tap_ok(refused("[general]\n= value\n", 2, "unknown key '' in [general]"), "missing key name");
    {
        conf *c;
        conf_report_free(&rep);
        conf_report_init(&rep);
        c = conf_load("/nonexistent/sendgate.conf", &rep);
        tap_ok(c == NULL && strstr(buf_cstr(&rep.text),
                                   "/nonexistent/sendgate.conf: cannot open: No such file"),
               "missing file: %s", rep_line());
    }
    tap_ok(refused("[general]\nlog_level = bogus\nuser = nosuchuser-sendgate\n", 2,
                   "expected one of") &&
                   report_has(path, 3, "no such user"),
           "every problem is reported, not just the first");
}

/* rd - rfile_read of name in the test directory under p; the error in err */
static char rd_err[1024];
static char *rd(const char *name, const rfile_policy *p, size_t *len)
{
    char full[400];

    if (name[0] == '/')
        snprintf(full, sizeof(full), "%s", name);
    else
        snprintf(full, sizeof(full), "%s/%s", dir, name);
    rd_err[0] = '\0';
    return rfile_read(full, p, len, rd_err, sizeof(rd_err));
}

/* test_rfile - the size-limited reader every start-up file goes through */
static void test_rfile(void)
{
    rfile_policy small = {"test file", 16, 0, false};
    rfile_policy keyish = {"key file", 4096, 0026, true};
    char fifo[400], link[400], target[400];
    size_t len = 99;
    char *t;

    write_file("sixteen", "0123456789abcdef", 0600);
    t = rd("sixteen", &small, &len);
    tap_ok(t && len == 16 && strcmp(t, "0123456789abcdef") == 0, "exactly max bytes are read");
    rfile_free(t, len);
    write_file("seventeen", "0123456789abcdefX", 0600);
    t = rd("seventeen", &small, &len);
    tap_ok(t == NULL && strstr(rd_err, "is 17 bytes, over the 16-byte limit for the test file") &&
                   strstr(rd_err, "; fix: "),
           "max + 1 bytes are refused: %s", rd_err);
    t = rd("/dev/zero", &small, &len);
    tap_ok(t == NULL && strstr(rd_err, "/dev/zero is a character device, not a regular file"),
           "/dev/zero is refused before reading: %s", rd_err);
    t = rd("/dev/urandom", &small, &len);
    tap_ok(t == NULL && strstr(rd_err, "/dev/urandom is a character device"),
           "/dev/urandom likewise: %s", rd_err);
    t = rd("/dev/null", &small, &len);
    tap_ok(t && len == 0 && *t == '\0', "/dev/null reads as an empty file");
    rfile_free(t, len);
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    mkfifo(fifo, 0600);
    t = rd("fifo", &small, &len); /* without O_NONBLOCK this would wait for a writer forever */
    tap_ok(t == NULL && strstr(rd_err, "is a FIFO, not a regular file"),
           "a FIFO is refused without waiting: %s", rd_err);
    t = rd(dir, &small, &len);
    tap_ok(t == NULL && strstr(rd_err, "is a directory, not a regular file"),
           "a directory is refused: %s", rd_err);
    t = rd("missing", &small, &len);
    tap_ok(t == NULL && strstr(rd_err, "missing: cannot open: No such file or directory; fix: "),
           "a missing file, with the fix: %s", rd_err);
    {
        FILE *f;
        snprintf(target, sizeof(target), "%s/nuls", dir);
        f = fopen(target, "w");
        fwrite("a\0b\0c", 1, 5, f);
        fclose(f);
        t = rd("nuls", &small, &len);
        tap_ok(t && len == 5 && memcmp(t, "a\0b\0c", 6) == 0,
               "NUL bytes are kept, and len says where the text ends");
        rfile_free(t, len);
    }

    /* modes and links: the policy decides, for root as for anybody */
    write_file("key", "1 secret\n", 0644);
    t = rd("key", &keyish, &len);
    tap_ok(t == NULL && strstr(rd_err, "has mode 0644: others may read it") &&
                   strstr(rd_err, "fix: chmod 0640 "),
           "0644 refused, fix chmod 0640: %s", rd_err);
    write_file("key", "1 secret\n", 0660);
    t = rd("key", &keyish, &len);
    tap_ok(t == NULL && strstr(rd_err, "has mode 0660: the group may change it") &&
                   strstr(rd_err, "fix: chmod 0640 "),
           "0660 refused, fix chmod 0640: %s", rd_err);
    write_file("key", "1 secret\n", 0602);
    t = rd("key", &keyish, &len);
    tap_ok(t == NULL && strstr(rd_err, "has mode 0602: others may change it") &&
                   strstr(rd_err, "fix: chmod 0600 "),
           "0602 refused, fix chmod 0600: %s", rd_err);
    write_file("key", "1 secret\n", 0640);
    t = rd("key", &keyish, &len);
    tap_ok(t && len == 9, "0640 is read: %s", rd_err);
    rfile_free(t, len);
    snprintf(link, sizeof(link), "%s/key.link", dir);
    snprintf(target, sizeof(target), "%s/key", dir);
    unlink(link);
    tap_ok(symlink(target, link) == 0, "a symbolic link to the key");
    t = rd("key.link", &keyish, &len);
    tap_ok(t == NULL && strstr(rd_err, "key.link is a symbolic link") &&
                   strstr(rd_err, "fix: name ") && strstr(rd_err, target),
           "nofollow: the link is refused, naming its target: %s", rd_err);
    t = rd("key.link", &small, &len);
    tap_ok(t && len == 9, "without nofollow the link is followed");
    rfile_free(t, len);

    /* paths the daemons create: absent or of the right kind */
    tap_ok(rfile_check_kind(link, S_IFREG, "pid file", rd_err, sizeof(rd_err)),
           "a regular file (through a link) is a pid file");
    tap_ok(rfile_check_kind("/nonexistent/x.pid", S_IFREG, "pid file", rd_err, sizeof(rd_err)),
           "nothing there yet is fine");
    tap_ok(!rfile_check_kind(dir, S_IFREG, "pid file", rd_err, sizeof(rd_err)) &&
                   strstr(rd_err, "is a directory, but the pid file must be a regular file"),
           "a directory where a pid file goes: %s", rd_err);
    tap_ok(!rfile_check_kind(fifo, S_IFDIR, "cache", rd_err, sizeof(rd_err)) &&
                   strstr(rd_err, "is a FIFO, but the cache must be a directory"),
           "a FIFO where a directory goes: %s", rd_err);
    tap_ok(!rfile_check_kind(link, S_IFSOCK, "socket", rd_err, sizeof(rd_err)) &&
                   strstr(rd_err, "is a symbolic link, but the socket must be a socket"),
           "a socket path is not followed: %s", rd_err);
}

/* conf_from - conf_load of path; the report in rep */
static conf *conf_from(const char *file)
{
    conf_report_free(&rep);
    conf_report_init(&rep);
    return conf_load(file, &rep);
}

/* test_conf_file - sendgate.conf itself: a bounded read of a regular file */
static void test_conf_file(void)
{
    char fifo[400], big[400];
    conf *c;
    FILE *f;

    c = conf_from("/dev/zero");
    tap_ok(c == NULL && strstr(buf_cstr(&rep.text), "/dev/zero is a character device, not a "
                                                    "regular file; fix: name the configuration "
                                                    "file itself"),
           "-c /dev/zero: refused at once: %s", rep_line());
    c = conf_from("/dev/urandom");
    tap_ok(c == NULL && strstr(buf_cstr(&rep.text), "/dev/urandom is a character device"),
           "-c /dev/urandom: refused: %s", rep_line());
    snprintf(fifo, sizeof(fifo), "%s/conf.fifo", dir);
    mkfifo(fifo, 0600);
    c = conf_from(fifo);
    tap_ok(c == NULL && strstr(buf_cstr(&rep.text), "conf.fifo is a FIFO, not a regular file"),
           "a FIFO: refused, not waited on: %s", rep_line());
    c = conf_from(dir);
    tap_ok(c == NULL && strstr(buf_cstr(&rep.text), "is a directory, not a regular file"),
           "a directory: refused (it used to read as an empty file): %s", rep_line());
    snprintf(big, sizeof(big), "%s/big.conf", dir);
    f = fopen(big, "w");
    for (int i = 0; i < INIFILE_MAX / 16 + 1; i++)
        fputs("# filler line..\n", f);
    fclose(f);
    c = conf_from(big);
    tap_ok(c == NULL && strstr(buf_cstr(&rep.text), "over the 1048576-byte limit for the "
                                                    "configuration file"),
           "a file over INIFILE_MAX: refused: %s", rep_line());
    {
        bool cut = truncate(big, INIFILE_MAX) == 0;
        c = conf_from(big);
        tap_ok(cut && c != NULL, "a file of exactly INIFILE_MAX bytes of comments loads: %s",
               rep_line());
    }
    conf_unref(c);
    c = conf_from("/dev/null");
    tap_ok(c != NULL && c->conf_file && conf_key_line(c, CK_general_user) == 0,
           "-c /dev/null: the embedded defaults");
    conf_unref(c);

    /* conf_read keeps what it could read, for check-config */
    conf_report_free(&rep);
    conf_report_init(&rep);
    snprintf(path, sizeof(path), "%s",
             write_file("half.conf", "[general]\nlog_level = bogus\n[tracking]\nkey_files = /k\n",
                        0640));
    c = conf_read(path, &rep);
    tap_ok(c && rep.errors == 1 && c->tracking.key_files.n == 1 &&
                   conf_key_line(c, CK_tracking_key_files) == 4,
           "conf_read: the configuration with its error, key_files at line 4: %s", rep_line());
    conf_unref(c);
    conf_report_free(&rep);
    conf_report_init(&rep);
    tap_ok(conf_read("/dev/zero", &rep) == NULL && rep.errors == 1,
           "conf_read: NULL when the file cannot be read");
}

/* test_nul - a NUL byte cannot be written with fputs */
static void test_nul(void)
{
    FILE *f;
    conf *c;

    snprintf(path, sizeof(path), "%s/nul.conf", dir);
    f = fopen(path, "w");
    fwrite("[general]\nuser = ab\0cd\n", 1, 23, f);
    fclose(f);
    conf_report_free(&rep);
    conf_report_init(&rep);
    c = conf_load(path, &rep);
    tap_ok(c == NULL && strstr(buf_cstr(&rep.text), ":2: control character in line"),
           "NUL byte in a line: %s", rep_line());
}

static void test_secrets(void)
{
    char text[600], tok[300];
    conf *c;

    snprintf(tok, sizeof(tok), "%s", write_file("jet.token", "api_abc123\n", 0640));
    snprintf(text, sizeof(text), "[jetemail]\napi_token_file = %s\n", tok);
    c = load(text);
    tap_ok(c != NULL, "a secret file readable by owner and group loads: %s", rep_line());
    tap_is_str(c ? conf_secret(c, CK_jetemail_api_token_file) : NULL, "api_abc123",
               "its contents, without the newline");
    tap_is_str(c ? conf_token(c, CK_jetemail_api_token, CK_jetemail_api_token_file) : NULL,
               "api_abc123", "conf_token finds it");
    conf_unref(c);

    chmod(tok, 0644);
    tap_ok(refused(text, 2, "jetemail.api_token_file: "), "a world-readable secret is refused");
    tap_ok(strstr(buf_cstr(&rep.text), "has mode 0644: others may read it") &&
                   strstr(buf_cstr(&rep.text), "; fix: chmod 0640 "),
           "with a clear message and the fix: %s", rep_line());
    write_file("jet.token", "", 0600);
    tap_ok(refused(text, 2, "file is empty"), "an empty secret file is refused");
    write_file("jet.token", "  \n\n", 0600);
    tap_ok(refused(text, 2, "file is empty"), "white space only is empty");
    write_file("jet.token", "line1\nline2\n", 0600);
    tap_ok(refused(text, 2, "secret must be one line"), "a two-line secret is refused");
    unlink(tok);
    tap_ok(refused(text, 2, "No such file or directory"), "a missing secret file");
    tap_ok(refused("[jetemail]\napi_token_file = jet.token\n", 2, "path must be absolute"),
           "a relative secret path");
    snprintf(text, sizeof(text), "[jetemail]\napi_token_file = %s\n", dir);
    tap_ok(refused(text, 2, "not a regular file"), "a directory is not a secret file");
    snprintf(tok, sizeof(tok), "%s/jet.fifo", dir);
    mkfifo(tok, 0600);
    snprintf(text, sizeof(text), "[jetemail]\napi_token_file = %s\n", tok);
    tap_ok(refused(text, 2, "is a FIFO, not a regular file"),
           "a FIFO is refused at once, not waited on");
    tap_ok(refused("[jetemail]\napi_token_file = /dev/zero\n", 2,
                   "/dev/zero is a character device, not a regular file"),
           "/dev/zero is not a secret file");
    {
        char big[4200];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        snprintf(tok, sizeof(tok), "%s", write_file("jet.token", big, 0600));
        snprintf(text, sizeof(text), "[jetemail]\napi_token_file = %s\n", tok);
        tap_ok(refused(text, 2, "over the 4096-byte limit for the API token file"),
               "a secret file over 4096 bytes is refused");
    }

    /* precedence: the file wins over an inline token; inline alone works */
    snprintf(tok, sizeof(tok), "%s", write_file("mt.token", "from-file\n", 0600));
    snprintf(text, sizeof(text), "[mailtrap]\napi_token = inline-token\napi_token_file = %s\n",
             tok);
    c = load(text);
    tap_is_str(c ? conf_token(c, CK_mailtrap_api_token, CK_mailtrap_api_token_file) : NULL,
               "from-file", "conf_token: the file wins over the inline token");
    conf_unref(c);
    c = load("[mailtrap]\napi_token = inline-token\n");
    tap_is_str(c ? conf_token(c, CK_mailtrap_api_token, CK_mailtrap_api_token_file) : NULL,
               "inline-token", "conf_token: the inline token alone");
    if (c) {
        buf b = BUF_INIT;
        conf_format_value(c, CK_mailtrap_api_token, &b);
        tap_is_str(buf_cstr(&b), "(set, not shown)", "show-config masks the inline token");
        buf_free(&b);
    }
    conf_unref(c);
    c = load("[mailtrap]\n");
    tap_ok(c && conf_token(c, CK_mailtrap_api_token, CK_mailtrap_api_token_file) == NULL,
           "conf_token: none set gives NULL");
    conf_unref(c);
    c = load("[mailtrap]\nenabled = yes\n");
    tap_ok(c == NULL && strstr(buf_cstr(&rep.text), "provider enabled but no API token"),
           "an enabled provider without a token is refused: %s", rep_line());
    conf_unref(c);
}

static void test_general_checks(void)
{
    tap_ok(refused("[general]\nprovider_order = static, sendgrid\n", 2,
                   "general.provider_order: unknown provider 'sendgrid'"),
           "unknown provider in provider_order");
    tap_ok(refused("[general]\nprovider_order = mailtrap, static, mailtrap\n", 2,
                   "'mailtrap' listed twice"),
           "provider listed twice");
    tap_ok(refused("[general]\ncache_map_size = 8G\n", 2,
                   "general.cache_map_size: larger than general.cache_max_map_size"),
           "map size above the maximum");
    tap_ok(refused("[general]\ncache_map_size = 512k\n", 2, "must be at least 1M"),
           "map size below 1M");
    tap_ok(refused("[general]\nuser = nosuchuser-sendgate\n", 2, "no such user"), "unknown user");
    tap_ok(refused("[general]\ngroup = root\n", 2, "set general.user as well"),
           "group without user");
    tap_ok(refused("[handling]\nexempt_senders = ok@x.example, not-an-address\n", 2,
                   "'not-an-address' is not a mail address"),
           "exempt_senders holds addresses");
    tap_ok(refused("[handling]\ndemo_recipients = owner@\n", 2, "is not a mail address"),
           "demo_recipients holds addresses");
    tap_ok(refused("[handling]\nexempt_domains = good.example, bad_domain.example\n", 2,
                   "'bad_domain.example'"),
           "exempt_domains holds domains");
}

/* test_state_dir - cache_path and stats_path follow state_dir unless set themselves */
static void test_state_dir(void)
{
    conf *c = load("[general]\nstate_dir = /srv/sendgate/\n");

    tap_is_str(c ? c->general.cache_path : NULL, "/srv/sendgate/cache",
               "state_dir moves cache_path (trailing slash dropped)");
    tap_is_str(c ? c->trackd.stats_path : NULL, "/srv/sendgate/stats", "and stats_path");
    conf_unref(c);
    c = load("[general]\nstate_dir = /srv/sg\ncache_path = /fast/cache\n");
    tap_is_str(c ? c->general.cache_path : NULL, "/fast/cache", "a cache_path of its own wins");
    tap_is_str(c ? c->trackd.stats_path : NULL, "/srv/sg/stats", "stats_path still follows");
    conf_unref(c);
    c = load("[general]\ncache_path = /fast/cache\n");
    tap_is_str(c ? c->trackd.stats_path : NULL, SG_STATEDIR "/stats",
               "without state_dir the defaults stay");
    conf_unref(c);
    tap_ok(refused("[general]\nstate_dir =\n", 2, "general.state_dir: must be an absolute"),
           "an empty state_dir is refused");
}

/* test_sockets_optional - a Sendmail site needs no policy or socketmap socket */
static void test_sockets_optional(void)
{
    conf *c = load("[milter]\nmta = sendmail\n[policyd]\npolicy_socket =\nsocketmap_socket =\n");

    tap_ok(c != NULL, "both policy sockets empty is a valid configuration (%s)", rep_line());
    tap_is_int(c ? c->milter.mta : -1, 1, "milter.mta = sendmail");
    conf_unref(c);
}

/* test_roundtrip - show-config output, loaded again, gives the same values */
static void test_roundtrip(void)
{
    conf *a, *b;
    size_t n;
    const conf_keydef *defs = conf_keydefs(&n);
    buf text = BUF_INIT, va = BUF_INIT, vb = BUF_INIT;
    const char *last = "";
    int same = 0, compared = 0;

    a = load("[general]\ncache_max_age = 90m\ncache_map_size = 96M\n"
             "provider_order = mailtrap, static\n"
             "[handling]\nblocked = tempfail\nexempt_senders = a@x.example b@y.example\n"
             "exempt_domains = bücher.example\n"
             "[refresh]\nmax_response_size = 1536k\njitter = 7\nuser_agent = sg test/1\n"
             "[policyd]\nsocket_mode = 0604\ninternal_networks = 10.0.0.0/8, 192.0.2.1\n"
             "[tracking]\ndefault_host = T.Example\n"
             "[milter]\nsocket = inet6:[::1]:8891\n");
    tap_ok(a != NULL, "a configuration with non-default values: %s", rep_line());
    if (a == NULL)
        return;
    for (size_t k = 0; k < n; k++) {
        const char *sec = strcmp(defs[k].section, "static_") ? defs[k].section : "static";
        if (strcmp(sec, last))
            buf_printf(&text, "[%s]\n", sec);
        last = sec;
        buf_reset(&va);
        conf_format_value(a, (int)k, &va);
        buf_printf(&text, "%s = %s\n", defs[k].name, buf_cstr(&va));
    }
    b = load(buf_cstr(&text));
    tap_ok(b != NULL, "show-config output loads again: %s", rep_line());
    for (size_t k = 0; b && k < n; k++) {
        buf_reset(&va);
        buf_reset(&vb);
        conf_format_value(a, (int)k, &va);
        conf_format_value(b, (int)k, &vb);
        compared++;
        if (strcmp(buf_cstr(&va), buf_cstr(&vb)) == 0)
            same++;
        else
            tap_diag("%s.%s: '%s' became '%s'", defs[k].section, defs[k].name, buf_cstr(&va),
                     buf_cstr(&vb));
    }
    tap_is_int(same, (long long)n, "every one of the %d keys has the same value after the trip",
               compared);
    tap_is_int(b ? b->general.cache_max_age : 0, 5400, "90m survived as 90m");
    tap_is_str(b ? b->tracking.default_host : NULL, "t.example", "host survived");
    conf_unref(a);
    conf_unref(b);
    buf_free(&text);
    buf_free(&va);
    buf_free(&vb);
}

static void test_keys(void)
{
    size_t n;
    const conf_keydef *defs = conf_keydefs(&n);

    tap_is_int(n, CK__COUNT, "the key table has every key");
    tap_is_int(conf_find_key("handling", "blocked"), CK_handling_blocked, "conf_find_key");
    tap_is_int(conf_find_key("static", "enabled"), CK_static__enabled,
               "conf_find_key knows [static]");
    tap_is_int(conf_find_key("general", "nosuch"), -1, "unknown key: -1");
    tap_is_str(defs[CK_general_cache_path].name, "cache_path", "keydef name");
}

/* heap bytes in use: ASan's count when it runs (it keeps its own heap), glibc's otherwise */
size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

static size_t heap_in_use(void)
{
    if (__sanitizer_get_current_allocated_bytes)
        return __sanitizer_get_current_allocated_bytes();
    return mallinfo2().uordblks;
}

static void test_refcount(void)
{
    conf *c = conf_load(NULL, NULL);

    conf_ref(c);
    conf_ref(c);
    tap_is_int(c->conf_refcnt, 3, "two more references");
    size_t held = heap_in_use();
    conf_unref(c);
    conf_unref(c);
    tap_is_int(c->conf_refcnt, 1, "released twice, still alive");
    tap_is_int(heap_in_use(), held, "nothing freed while a reference is left");
    tap_ok(c->general.provider_order.n == 3, "and usable");
    conf_unref(c); /* freed here: ASan would report a leak or a double free */
    size_t after = heap_in_use();
    if (!tap_ok(after + sizeof(conf) <= held, "the last unref frees the configuration"))
        tap_diag("heap in use %zu before, %zu after (a conf is %zu bytes)", held, after,
                 sizeof(conf));
    conf_unref(NULL);
    tap_is_int(heap_in_use(), after, "unref(NULL) is a no-op");
}

int main(void)
{
    char cmd[200];

    if (mkdtemp(dir) == NULL)
        return 1;
    conf_report_init(&rep);
    test_defaults();
    test_bool();
    test_int();
    test_duration();
    test_size();
    test_enum();
    test_list();
    test_strings();
    test_structure();
    test_nul();
    test_rfile();
    test_conf_file();
    test_secrets();
    test_general_checks();
    test_state_dir();
    test_sockets_optional();
    test_roundtrip();
    test_keys();
    test_refcount();
    conf_report_free(&rep);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", dir);
    return tap_done();
}
