/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.h - sendgate.conf: typed keys in one table, loaded with libinih
 *
 * SYNOPSIS
 *	conf *c = conf_load("/etc/sendgate/sendgate.conf", &report);
 *	c->milter.socket, c->handling.blocked, conf_secret(c, CK_jetemail_api_token_file)
 *
 * DESCRIPTION
 *	The file is INI: [section] headers and "key = value" lines, '#' or ';'
 *	comments, indented lines continue the previous value (lists).
 *	Every key is declared once in lib/keys/<section>.def with its type,
 *	default and a one-line help; this header turns the declarations into
 *	struct fields, CK_* identifiers and the key table. Defaults are parsed
 *	by the same code as file values, so a bad default fails the tests.
 *
 *	Unknown sections and keys, bad values and syntax errors are reported
 *	as "file:line: problem" in a conf_report; conf_load returns NULL when
 *	there was any error (conf_read returns the configuration all the
 *	same, for sendgatectl check-config to go on checking what the keys
 *	name). The file is read whole, at most INIFILE_MAX bytes of a
 *	regular file (lib/inifile.h, lib/rfile.h).
 *
 *	A secret lives in a file named by a *_file key; the file is read at
 *	load time under conf_secret_policy: a regular file of at most 4096
 *	bytes that others cannot read, holding one line.
 *
 *	The object is reference counted so a daemon can swap in a reloaded
 *	configuration while connections still use the old one.
 */
#ifndef SG_CONF_H
#define SG_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/rfile.h"

enum conf_type {
    CT_STR,
    CT_PATH,        /* absolute path or empty */
    CT_BOOL,        /* yes/no, true/false, on/off, 1/0 */
    CT_INT,         /* decimal, arg "min:max" */
    CT_DURATION,    /* seconds; suffix s, m, h, d, w */
    CT_SIZE,        /* bytes; suffix k, M, G (powers of 1024) */
    CT_ENUM,        /* one of arg "a|b|c"; stored as the index */
    CT_LIST,        /* comma/whitespace separated words */
    CT_ENDPOINT,    /* unix:/path, inet:host:port, inet6:[addr]:port */
    CT_URL,         /* http:// or https:// URL */
    CT_HOST,        /* DNS host name, stored as lowercase A-label */
    CT_SECRET_FILE, /* path of a file holding a secret */
    CT_MODE,        /* octal file mode */
};

typedef struct conf_list {
    size_t n;
    char **v;
} conf_list;

#define CONF_FIELD_CT_STR(n)         char *n;
#define CONF_FIELD_CT_PATH(n)        char *n;
#define CONF_FIELD_CT_BOOL(n)        bool n;
#define CONF_FIELD_CT_INT(n)         long n;
#define CONF_FIELD_CT_DURATION(n)    long n;
#define CONF_FIELD_CT_SIZE(n)        size_t n;
#define CONF_FIELD_CT_ENUM(n)        int n;
#define CONF_FIELD_CT_LIST(n)        conf_list n;
#define CONF_FIELD_CT_ENDPOINT(n)    char *n;
#define CONF_FIELD_CT_URL(n)         char *n;
#define CONF_FIELD_CT_HOST(n)        char *n;
#define CONF_FIELD_CT_SECRET_FILE(n) char *n;
#define CONF_FIELD_CT_MODE(n)        unsigned n;

#define SG_KEY(sec, name, type, def, arg, help) CONF_FIELD_##type(name)
struct conf_general {
#include "lib/keys/general.def"
};
struct conf_handling {
#include "lib/keys/handling.def"
};
struct conf_static {
#include "lib/keys/static.def"
};
struct conf_jetemail {
#include "lib/keys/jetemail.def"
};
struct conf_mailtrap {
#include "lib/keys/mailtrap.def"
};
struct conf_refresh {
#include "lib/keys/refresh.def"
};
struct conf_milter {
#include "lib/keys/milter.def"
};
struct conf_policyd {
#include "lib/keys/policyd.def"
};
struct conf_trackd {
#include "lib/keys/trackd.def"
};
struct conf_tracking {
#include "lib/keys/tracking.def"
};
#undef SG_KEY

enum conf_key {
#define SG_KEY(sec, name, type, def, arg, help) CK_##sec##_##name,
#include "lib/keys/general.def"
#include "lib/keys/handling.def"
#include "lib/keys/static.def"
#include "lib/keys/jetemail.def"
#include "lib/keys/mailtrap.def"
#include "lib/keys/refresh.def"
#include "lib/keys/milter.def"
#include "lib/keys/policyd.def"
#include "lib/keys/trackd.def"
#include "lib/keys/tracking.def"
#undef SG_KEY
    CK__COUNT
};

/* values of every [handling] row */
enum conf_action { CONF_ACCEPT = 0, CONF_REJECT = 1, CONF_TEMPFAIL = 2 };

typedef struct conf {
    struct conf_general general;
    struct conf_handling handling;
    struct conf_static static_; /* "static" is a C keyword; the section is [static] */
    struct conf_jetemail jetemail;
    struct conf_mailtrap mailtrap;
    struct conf_refresh refresh;
    struct conf_milter milter;
    struct conf_policyd policyd;
    struct conf_trackd trackd;
    struct conf_tracking tracking;

    /* bookkeeping, not keys */
    char *conf_file;               /* file loaded, NULL for embedded defaults */
    int conf_lines[CK__COUNT];     /* line of each key in conf_file, 0 = default */
    char *conf_secrets[CK__COUNT]; /* contents of CT_SECRET_FILE files */
    int conf_refcnt;
} conf;

typedef struct conf_keydef {
    const char *section;
    const char *name;
    enum conf_type type;
    const char *def;
    const char *arg;
    const char *help;
    size_t offset;
} conf_keydef;

/*
 * The findings of a configuration check, every one of them, for
 * check-config to print: a result the caller acts on, not an error
 * sentence, so it is passed instead of char *err (lib/errbuf.h).
 */
typedef struct conf_report {
    buf text; /* one "file:line: problem" per line */
    int errors;
    int warnings;
} conf_report;

conf *conf_defaults(conf_report *rep);
conf *conf_load(const char *path, conf_report *rep);
conf *conf_read(const char *path, conf_report *rep);
conf *conf_load_logged(const char *path, bool named);
void conf_ref(conf *c);
void conf_unref(conf *c);

extern const rfile_policy conf_secret_policy;

const char *conf_secret(const conf *c, enum conf_key k);
const char *conf_token(const conf *c, enum conf_key inline_key, enum conf_key file_key);
int conf_key_line(const conf *c, enum conf_key k);
const conf_keydef *conf_keydefs(size_t *n);
int conf_find_key(const char *section, const char *name);
void conf_format_value(const conf *c, int k, buf *out);
const char *conf_enum_text(const conf *c, int k);
bool conf_list_has(const conf_list *l, const char *word, bool nocase);

void conf_report_init(conf_report *r);
void conf_report_free(conf_report *r);
void conf_report_add(conf_report *r, bool error, const conf *c, int key, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
void conf_report_at(conf_report *r, bool error, const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

/* cross-key checks, one per section, each in its component (see conf.c) */
typedef bool (*conf_check_fn)(const conf *c, conf_report *r);
bool conf_check_general(const conf *c, conf_report *r);
bool conf_check_handling(const conf *c, conf_report *r);
bool conf_check_static(const conf *c, conf_report *r);
bool conf_check_providers(const conf *c, conf_report *r);
bool conf_check_refresh(const conf *c, conf_report *r);
bool conf_check_milter(const conf *c, conf_report *r);
bool conf_check_policyd(const conf *c, conf_report *r);
bool conf_check_trackd(const conf *c, conf_report *r);
bool conf_check_tracking(const conf *c, conf_report *r);

#endif
