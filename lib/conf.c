/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.c - load and validate sendgate.conf (see conf.h)
 *
 * ERROR RECOVERY
 *	Nothing in a bad file is half-applied: conf_load builds a fresh object
 *	from the defaults, applies the file, runs the per-section checks and
 *	returns NULL when anything was wrong, so a reloading daemon keeps the
 *	configuration it has.
 *
 *	The file is read by lib/inifile.c (libinih with line numbers).
 */
#include "lib/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/domain.h"
#include "lib/endpoint.h"
#include "lib/errbuf.h"
#include "lib/inifile.h"
#include "lib/log.h"
#include "lib/rfile.h"

static const conf_keydef conf_table[] = {
#define SG_KEY(sec, name, type, def, arg, help) \
    {#sec, #name, type, def, arg, help, offsetof(conf, sec.name)},
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
};

/* known sections and their cross-key checks, in file order */
static const struct {
    const char *name;
    conf_check_fn check;
} conf_sections[] = {
        {"general", conf_check_general},
        {"handling", conf_check_handling},
        {"static", conf_check_static},
        {"jetemail", conf_check_providers},
        {"mailtrap", NULL},
        {"refresh", conf_check_refresh},
        {"milter", conf_check_milter},
        {"policyd", conf_check_policyd},
        {"trackd", conf_check_trackd},
        {"tracking", conf_check_tracking},
};

#define CONF_NKEYS      (sizeof(conf_table) / sizeof(conf_table[0]))
#define CONF_SECRET_MAX 4096

/* conf_section_of - the section name as written in the file ("static_" is [static]) */
static const char *conf_section_of(const conf_keydef *d)
{
    return strcmp(d->section, "static_") == 0 ? "static" : d->section;
}

/* conf_keydefs - the key table, for show-config and the documentation test */
const conf_keydef *conf_keydefs(size_t *n)
{
    *n = CONF_NKEYS;
    return conf_table;
}

/* conf_find_key - index of section/name, or -1 */
int conf_find_key(const char *section, const char *name)
{
    for (size_t i = 0; i < CONF_NKEYS; i++)
        if (strcmp(conf_section_of(&conf_table[i]), section) == 0 &&
            strcmp(conf_table[i].name, name) == 0)
            return (int)i;
    return -1;
}

void conf_report_init(conf_report *r)
{
    buf_init(&r->text);
    r->errors = r->warnings = 0;
}

void conf_report_free(conf_report *r)
{
    buf_free(&r->text);
}

/* conf_report_vadd - append "file:line: [warning: ]text" */
static void conf_report_vadd(conf_report *r, bool error, const char *file, int line,
                             const char *fmt, va_list ap)
{
    char text[1024];

    if (r == NULL)
        return;
    vsnprintf(text, sizeof(text), fmt, ap);
    if (file && line > 0)
        buf_printf(&r->text, "%s:%d: ", file, line);
    else if (file)
        buf_printf(&r->text, "%s: ", file);
    buf_printf(&r->text, "%s%s\n", error ? "" : "warning: ", text);
    if (error)
        r->errors++;
    else
        r->warnings++;
}

/* conf_report_at - a problem at file:line (line 0: the file as a whole) */
void conf_report_at(conf_report *r, bool error, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    conf_report_vadd(r, error, file, line, fmt, ap);
    va_end(ap);
}

/* conf_report_add - a problem with key k, reported where the key was set */
void conf_report_add(conf_report *r, bool error, const conf *c, int key, const char *fmt, ...)
{
    va_list ap;
    char msg[900];
    const char *file = c->conf_file ? c->conf_file : "(defaults)";
    int line = key >= 0 ? c->conf_lines[key] : 0;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (key >= 0)
        conf_report_at(r, error, file, line, "%s.%s: %s", conf_section_of(&conf_table[key]),
                       conf_table[key].name, msg);
    else
        conf_report_at(r, error, file, line, "%s", msg);
}

/* conf_field - address of key k's field in c */
static void *conf_field(conf *c, size_t k)
{
    return (char *)c + conf_table[k].offset;
}

static const void *conf_cfield(const conf *c, size_t k)
{
    return (const char *)c + conf_table[k].offset;
}

/* conf_list_free - release a list's words */
static void conf_list_free(conf_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* conf_list_add_words - split on commas and white space, append */
static bool conf_list_add_words(conf_list *l, const char *value)
{
    const char *p = value;

    while (*p) {
        size_t n;
        char **nv;
        while (*p && (isspace((unsigned char)*p) || *p == ','))
            p++;
        if (!*p)
            break;
        n = strcspn(p, ", \t\r\n");
        if ((nv = realloc(l->v, (l->n + 1) * sizeof(*nv))) == NULL)
            return false;
        l->v = nv;
        if ((l->v[l->n] = strndup(p, n)) == NULL)
            return false;
        l->n++;
        p += n;
    }
    return true;
}

/* conf_list_has - exact (or case-insensitive) membership */
bool conf_list_has(const conf_list *l, const char *word, bool nocase)
{
    for (size_t i = 0; i < l->n; i++)
        if (nocase ? strcasecmp(l->v[i], word) == 0 : strcmp(l->v[i], word) == 0)
            return true;
    return false;
}

/* conf_parse_bool - the spellings operators use */
static bool conf_parse_bool(const char *v, bool *out)
{
    static const char *yes[] = {"yes", "true", "on", "1"}, *no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = true, true;
        if (strcasecmp(v, no[i]) == 0)
            return *out = false, true;
    }
    return false;
}

/* conf_parse_scaled - number with an optional unit suffix from units/mults */
static bool conf_parse_scaled(const char *v, const char *units, const long long *mults,
                              long long *out)
{
    char *end;
    long long n;
    const char *u;

    if (!isdigit((unsigned char)*v))
        return false;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno)
        return false;
    if (*end == '\0') {
        *out = n;
        return true;
    }
    if (end[1] != '\0' || (u = strchr(units, *end)) == NULL)
        return false;
    if (n > INT64_MAX / mults[u - units])
        return false;
    *out = n * mults[u - units];
    return true;
}

/* conf_enum_index - position of v in "a|b|c", or -1 */
static int conf_enum_index(const char *arg, const char *v)
{
    int idx = 0;
    size_t vl = strlen(v);

    for (const char *p = arg; *p; idx++) {
        size_t n = strcspn(p, "|");
        if (n == vl && strncasecmp(p, v, n) == 0)
            return idx;
        p += n;
        if (*p == '|')
            p++;
    }
    return -1;
}

/* conf_enum_name - the idx-th word of "a|b|c" into out */
static void conf_enum_name(const char *arg, int idx, char *out, size_t len)
{
    const char *p = arg;

    for (int i = 0; i < idx && *p; i++) {
        p += strcspn(p, "|");
        if (*p == '|')
            p++;
    }
    snprintf(out, len, "%.*s", (int)strcspn(p, "|"), p);
}

/* API token files: others may not read them (check-config reuses the policy) */
const rfile_policy conf_secret_policy = {"API token file", CONF_SECRET_MAX, S_IROTH, false};

/* conf_read_secret - the one-line secret of path; why (whylen bytes) says why not */
static bool conf_read_secret(const char *path, char **out, char *why, size_t whylen)
{
    size_t len, n;
    char *text = rfile_read(path, &conf_secret_policy, &len, why, whylen);

    *out = NULL;
    if (text == NULL)
        return false;
    for (n = len; n > 0 && isspace((unsigned char)text[n - 1]); n--)
        ;
    text[n] = '\0';
    if (n == 0)
        snprintf(why, whylen, "%s: file is empty; fix: write the API token into it", path);
    else if (memchr(text, '\0', n) || strpbrk(text, "\r\n"))
        snprintf(why, whylen,
                 "%s: secret must be one line; fix: leave the API token alone on the first line",
                 path);
    else if ((*out = strdup(text)) == NULL)
        snprintf(why, whylen, "%s: out of memory", path);
    rfile_free(text, len);
    return n > 0 && *out != NULL;
}

/* conf_set_string - replace a string field */
static bool conf_set_string(char **field, const char *v)
{
    char *n = strdup(v);

    if (n == NULL)
        return false;
    free(*field);
    *field = n;
    return true;
}

/* conf_check_url - http(s) URL with a host and no white space */
static bool conf_check_url(const char *v, char *err, size_t errlen)
{
    const char *h;

    if (strncasecmp(v, "https://", 8) == 0)
        h = v + 8;
    else if (strncasecmp(v, "http://", 7) == 0)
        h = v + 7;
    else
        return errbuf_set(err, errlen, "must start with https:// or http://");
    if (*h == '\0' || *h == '/')
        return errbuf_set(err, errlen, "URL has no host");
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return errbuf_set(err, errlen, "URL contains white space or control characters");
    return true;
}

/* conf_set_value - parse v for key k into c; err explains a refusal */
static bool conf_set_value(conf *c, size_t k, const char *v, bool append, char *err, size_t errlen)
{
    const conf_keydef *d = &conf_table[k];
    void *f = conf_field(c, k);
    static const long long dmult[] = {1, 60, 3600, 86400, 604800};
    static const long long smult[] = {1024, 1024, 1048576, 1048576, 1073741824LL, 1073741824LL};
    long long n;

    switch (d->type) {
    case CT_LIST:
        if (!append)
            conf_list_free(f);
        return conf_list_add_words(f, v) || errbuf_set(err, errlen, "out of memory");
    case CT_BOOL:
        return conf_parse_bool(v, f) || errbuf_set(err, errlen, "expected yes or no");
    case CT_INT: {
        long lo = 0, hi = 0;
        char *end;
        errno = 0;
        n = strtoll(v, &end, 10);
        if (errno || end == v || *end)
            return errbuf_set(err, errlen, "expected a whole number");
        if (d->arg && sscanf(d->arg, "%ld:%ld", &lo, &hi) == 2 && (n < lo || n > hi))
            return errbuf_set(err, errlen, "must be between %ld and %ld", lo, hi);
        *(long *)f = (long)n;
        return true;
    }
    case CT_DURATION:
        if (!conf_parse_scaled(v, "smhdw", dmult, &n) || n > LONG_MAX)
            return errbuf_set(err, errlen, "expected a duration such as 30s, 5m, 1h, 2d");
        *(long *)f = (long)n;
        return true;
    case CT_SIZE:
        if (!conf_parse_scaled(v, "kKmMgG", smult, &n))
            return errbuf_set(err, errlen, "expected a size such as 512k, 64M, 1G");
        *(size_t *)f = (size_t)n;
        return true;
    case CT_ENUM: {
        int idx = conf_enum_index(d->arg, v);
        if (idx < 0) {
            errbuf_set(err, errlen, "expected one of: %s", d->arg);
            for (char *p = err; p && p < err + errlen && *p; p++)
                if (*p == '|')
                    *p = ' ';
            return false;
        }
        *(int *)f = idx;
        return true;
    }
    case CT_MODE: {
        char *end;
        unsigned long m = strtoul(v, &end, 8);
        if (*v == '\0' || *end || m > 07777)
            return errbuf_set(err, errlen, "expected an octal mode such as 0660");
        *(unsigned *)f = (unsigned)m;
        return true;
    }
    case CT_PATH:
        if (*v && *v != '/')
            return errbuf_set(err, errlen, "path must be absolute");
        break;
    case CT_SECRET_FILE:
        if (*v && *v != '/')
            return errbuf_set(err, errlen, "path must be absolute");
        break;
    case CT_ENDPOINT:
        if (*v) {
            endpoint ep;
            if (!endpoint_parse(v, &ep, err, errlen))
                return false;
        }
        break;
    case CT_URL:
        if (*v && !conf_check_url(v, err, errlen))
            return false;
        break;
    case CT_HOST:
        if (*v) {
            char host[DOMAIN_MAX];
            if (!domain_normalize(v, strlen(v), host, err, errlen))
                return false;
            return conf_set_string(f, host) || errbuf_set(err, errlen, "out of memory");
        }
        break;
    case CT_STR:
        break;
    }
    return conf_set_string(f, v) || errbuf_set(err, errlen, "out of memory");
}

/* conf_defaults - every key at its default */
conf *conf_defaults(conf_report *rep)
{
    conf *c = calloc(1, sizeof(*c));
    char why[ERRBUF_MAX];

    if (c == NULL)
        return NULL;
    c->conf_refcnt = 1;
    for (size_t k = 0; k < CONF_NKEYS; k++) {
        if (!conf_set_value(c, k, conf_table[k].def, false, why, sizeof(why))) {
            conf_report_at(rep, true, "(defaults)", 0, "%s.%s: %s", conf_section_of(&conf_table[k]),
                           conf_table[k].name, why);
            conf_unref(c);
            return NULL;
        }
    }
    return c;
}

/* parse state for the inifile callback */
struct conf_parse {
    conf *c;
    conf_report *rep;
    const char *file;
    int last_key;    /* key of the previous value line, for continuations */
    bool section_ok; /* the current section is one of ours */
    bool seen[CONF_NKEYS];
};

/* conf_section_known - is name one of ours? */
static bool conf_section_known(const char *name)
{
    for (size_t i = 0; i < sizeof(conf_sections) / sizeof(conf_sections[0]); i++)
        if (strcmp(conf_sections[i].name, name) == 0)
            return true;
    return false;
}

/* conf_section - a [section] header: report an unknown one once, at its line */
static void conf_section(void *user, const char *section, int line)
{
    struct conf_parse *p = user;

    p->section_ok = conf_section_known(section);
    p->last_key = -1;
    if (!p->section_ok)
        conf_report_at(p->rep, true, p->file, line, "unknown section [%s]", section);
}

/* conf_handler - one key = value (or a continuation line) */
static void conf_handler(void *user, const char *section, const char *name, const char *value,
                         int line, bool continuation)
{
    struct conf_parse *p = user;
    char why[ERRBUF_MAX];
    bool append;
    int k;

    if (!p->section_ok) /* its keys are not reported again */
        return;
    if (*section == '\0') {
        conf_report_at(p->rep, true, p->file, line, "%s: key outside a [section]", name);
        return;
    }
    if ((k = conf_find_key(section, name)) < 0) {
        conf_report_at(p->rep, true, p->file, line, "unknown key '%s' in [%s]", name, section);
        return;
    }
    append = continuation && k == p->last_key;
    if (append && conf_table[k].type != CT_LIST) {
        conf_report_at(p->rep, true, p->file, line, "%s.%s: only lists continue on indented lines",
                       section, name);
        return;
    }
    if (!append && p->seen[k]) {
        conf_report_at(p->rep, true, p->file, line, "%s.%s: given twice (first on line %d)",
                       section, name, p->c->conf_lines[k]);
        return;
    }
    p->last_key = k;
    if (!conf_set_value(p->c, (size_t)k, value, append, why, sizeof(why))) {
        conf_report_at(p->rep, true, p->file, line, "%s.%s = %s: %s", section, name, value, why);
        return;
    }
    if (!p->seen[k])
        p->c->conf_lines[k] = line;
    p->seen[k] = true;
}

/* conf_load_secrets - read every non-empty CT_SECRET_FILE */
static void conf_load_secrets(conf *c, conf_report *rep)
{
    for (size_t k = 0; k < CONF_NKEYS; k++) {
        char why[PATH_MAX + 512];
        const char *path;
        if (conf_table[k].type != CT_SECRET_FILE)
            continue;
        path = *(char **)conf_field(c, k);
        if (path == NULL || *path == '\0')
            continue;
        if (!conf_read_secret(path, &c->conf_secrets[k], why, sizeof(why)))
            conf_report_add(rep, true, c, (int)k, "%s", why);
    }
}

/*
 * conf_derive_paths - the state files follow general.state_dir: a file
 * that sets state_dir and not cache_path (stats_path) gets
 * STATE_DIR/cache (STATE_DIR/stats)
 */
static void conf_derive_paths(conf *c, conf_report *rep)
{
    static const struct {
        enum conf_key key;
        const char *leaf;
    } derived[] = {{CK_general_cache_path, "/cache"}, {CK_trackd_stats_path, "/stats"}};
    char path[PATH_MAX];
    size_t n = strlen(c->general.state_dir);

    if (c->conf_lines[CK_general_state_dir] == 0)
        return;
    while (n > 1 && c->general.state_dir[n - 1] == '/')
        n--;
    for (size_t i = 0; i < sizeof(derived) / sizeof(derived[0]); i++) {
        char **field = conf_field(c, derived[i].key);
        if (c->conf_lines[derived[i].key] != 0)
            continue;
        if (n == 0 || (size_t)snprintf(path, sizeof(path), "%.*s%s", (int)n, c->general.state_dir,
                                       derived[i].leaf) >= sizeof(path)) {
            conf_report_add(rep, true, c, CK_general_state_dir,
                            "must be an absolute directory path");
            return;
        }
        if (!conf_set_string(field, path))
            conf_report_add(rep, true, c, CK_general_state_dir, "out of memory");
    }
}

/* conf_build - defaults, then the file, then the checks; NULL on errors unless keep */
static conf *conf_build(const char *path, conf_report *rep, bool keep)
{
    struct conf_parse p;
    conf_report local;
    int errors_before;
    conf *c;

    if (rep == NULL) {
        conf_report_init(&local);
        rep = &local;
    }
    errors_before = rep->errors;
    if ((c = conf_defaults(rep)) == NULL)
        goto out;
    if (path) {
        memset(&p, 0, sizeof(p));
        p.c = c;
        p.rep = rep;
        p.file = path;
        p.last_key = -1;
        p.section_ok = true;
        if ((c->conf_file = strdup(path)) == NULL ||
            !inifile_parse_sections(path, conf_handler, conf_section, &p, rep))
            goto fail;
        conf_load_secrets(c, rep);
        conf_derive_paths(c, rep);
    }
    for (size_t i = 0; i < sizeof(conf_sections) / sizeof(conf_sections[0]); i++)
        if (conf_sections[i].check)
            conf_sections[i].check(c, rep);
    if (rep->errors == errors_before || keep)
        goto out;
fail:
    conf_unref(c);
    c = NULL;
out:
    if (rep == &local)
        conf_report_free(&local);
    return c;
}

/* conf_load - defaults, then the file, then the checks; NULL on any error */
conf *conf_load(const char *path, conf_report *rep)
{
    return conf_build(path, rep, false);
}

/* conf_read - as conf_load, but a file that could be read comes back even with errors */
conf *conf_read(const char *path, conf_report *rep)
{
    return conf_build(path, rep, true);
}

/*
 * conf_load_logged - a daemon's conf_load: each problem becomes a log line
 * (warnings, or errors when the configuration is refused); a path that was not
 * named on the command line (named false) and holds no file means the embedded
 * defaults. NULL when refused.
 */
conf *conf_load_logged(const char *path, bool named)
{
    conf_report rep;
    conf *c;

    if (!named && access(path, F_OK) != 0)
        path = NULL; /* no file at the default place: embedded defaults */
    conf_report_init(&rep);
    c = conf_load(path, &rep);
    if (rep.text.len) {
        char *save = NULL;
        for (char *l = strtok_r(rep.text.data, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            log_msg(c ? LOG_WARNING : LOG_ERR, "%s", l);
    }
    conf_report_free(&rep);
    return c;
}

void conf_ref(conf *c)
{
    __atomic_add_fetch(&c->conf_refcnt, 1, __ATOMIC_ACQ_REL);
}

/* conf_unref - free with the last reference */
void conf_unref(conf *c)
{
    if (c == NULL || __atomic_sub_fetch(&c->conf_refcnt, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    for (size_t k = 0; k < CONF_NKEYS; k++) {
        void *f = conf_field(c, k);
        switch (conf_table[k].type) {
        case CT_LIST:
            conf_list_free(f);
            break;
        case CT_STR:
        case CT_PATH:
        case CT_ENDPOINT:
        case CT_URL:
        case CT_HOST:
        case CT_SECRET_FILE:
            free(*(char **)f);
            break;
        default:
            break;
        }
        if (c->conf_secrets[k]) {
            explicit_bzero(c->conf_secrets[k], strlen(c->conf_secrets[k]));
            free(c->conf_secrets[k]);
        }
    }
    free(c->conf_file);
    free(c);
}

/* conf_secret - contents of the file named by CT_SECRET_FILE key k (NULL if none) */
const char *conf_secret(const conf *c, enum conf_key k)
{
    return c->conf_secrets[k];
}

/* conf_token - an inline secret key or its *_file twin, whichever is set */
const char *conf_token(const conf *c, enum conf_key inline_key, enum conf_key file_key)
{
    const char *v = *(char *const *)conf_cfield(c, inline_key);

    if (c->conf_secrets[file_key])
        return c->conf_secrets[file_key];
    return v && *v ? v : NULL;
}

int conf_key_line(const conf *c, enum conf_key k)
{
    return c->conf_lines[k];
}

/* conf_is_secret_name - keys whose values show-config masks */
static bool conf_is_secret_name(const char *name)
{
    size_t n = strlen(name);

    return (n >= 6 && strcmp(name + n - 6, "_token") == 0) ||
           (n >= 7 && strcmp(name + n - 7, "_secret") == 0) ||
           (n >= 9 && strcmp(name + n - 9, "_password") == 0);
}

/* conf_enum_text - the word of an enum key's current value (e.g. "info"), "" otherwise */
const char *conf_enum_text(const conf *c, int k)
{
    static _Thread_local char word[64];

    word[0] = '\0';
    if (k >= 0 && (size_t)k < CONF_NKEYS && conf_table[k].type == CT_ENUM)
        conf_enum_name(conf_table[k].arg, *(const int *)conf_cfield(c, (size_t)k), word,
                       sizeof(word));
    return word;
}

typedef struct conf_unit {
    long long n;
    const char *suffix;
} conf_unit;

/* conf_format_unit - v in the largest of units (largest first, the last 1) that divides it */
static void conf_format_unit(buf *out, long long v, const conf_unit *units)
{
    size_t i = 0;

    while (units[i].n != 1 && (v == 0 || v % units[i].n != 0))
        i++;
    buf_printf(out, "%lld%s", v / units[i].n, units[i].suffix);
}

/* conf_format_value - key k's value as it would be written in the file */
void conf_format_value(const conf *c, int k, buf *out)
{
    const conf_keydef *d = &conf_table[k];
    const void *f = conf_cfield(c, (size_t)k);
    char tmp[128];

    switch (d->type) {
    case CT_BOOL:
        buf_append_str(out, *(const bool *)f ? "yes" : "no");
        break;
    case CT_INT:
        buf_printf(out, "%ld", *(const long *)f);
        break;
    case CT_DURATION: {
        static const conf_unit days[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
        conf_format_unit(out, *(const long *)f, days);
        break;
    }
    case CT_SIZE: {
        static const conf_unit bytes[] = {{1073741824, "G"}, {1048576, "M"}, {1024, "k"}, {1, ""}};
        conf_format_unit(out, (long long)*(const size_t *)f, bytes);
        break;
    }
    case CT_ENUM:
        conf_enum_name(d->arg, *(const int *)f, tmp, sizeof(tmp));
        buf_append_str(out, tmp);
        break;
    case CT_MODE:
        buf_printf(out, "%04o", *(const unsigned *)f);
        break;
    case CT_LIST: {
        const conf_list *l = f;
        for (size_t i = 0; i < l->n; i++)
            buf_printf(out, "%s%s", i ? ", " : "", l->v[i]);
        break;
    }
    default: {
        const char *s = *(char *const *)f;
        if (s && *s && conf_is_secret_name(d->name))
            buf_append_str(out, "(set, not shown)");
        else
            buf_append_str(out, s ? s : "");
    }
    }
}
