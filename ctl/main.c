/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - sendgatectl: the operator's command-line tool
 *
 * Usage: sendgatectl [-c FILE] [--json] COMMAND [ARGS...]
 * Commands register themselves (see ctl.h); `sendgatectl help` lists them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/verdict.h"
#include "ctl/ctl.h"
#include "lib/log.h"

extern const ctl_command __start_sg_ctl_cmds[];
extern const ctl_command __stop_sg_ctl_cmds[];

#define CTL_DEFAULT_CONF SG_CONFDIR "/sendgate.conf"

static const char *ctl_prog = "sendgatectl";

/* ctl_fail - print "sendgatectl: text" and return status */
int ctl_fail(int status, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", ctl_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

/* ctl_config - load the configuration once; exit EX_CONFIG when it is bad */
conf *ctl_config(ctl *c)
{
    conf_report rep;
    const char *path = c->conf_path;

    if (c->cfg)
        return c->cfg;
    if (!c->conf_explicit && access(path, F_OK) != 0)
        path = NULL; /* no file at the default place: embedded defaults */
    conf_report_init(&rep);
    c->cfg = conf_load(path, &rep);
    fputs(buf_cstr(&rep.text), stderr);
    conf_report_free(&rep);
    if (c->cfg == NULL)
        exit(ctl_fail(EX_CONFIG, "configuration has errors; nothing done"));
    log_set_level(log_level_parse("warning"));
    return c->cfg;
}

/*
 * ctl_cache_flags - open the cache named by the configuration; exit when it
 * cannot be opened (missing, damaged: the message says which). Lookups need
 * the data of every enabled provider, as in the daemons (cache_set_required).
 * flags: CACHE_RECOVER for the commands that refill it (cache load, refresh).
 */
cache *ctl_cache_flags(ctl *c, enum cache_mode mode, unsigned flags)
{
    conf *cfg = ctl_config(c);
    cache_opts o = cache_opts_from_conf(cfg, flags);
    char err[512];

    if (c->cache)
        return c->cache;
    c->cache = cache_open(cfg->general.cache_path, mode, &o, err, sizeof(err));
    if (c->cache == NULL)
        exit(ctl_fail(mode == CACHE_RDONLY ? EX_UNAVAILABLE : EX_CANTCREAT, "%s", err));
    cache_set_required(c->cache, verdict_required(cfg));
    return c->cache;
}

/* ctl_cache - ctl_cache_flags without flags */
cache *ctl_cache(ctl *c, enum cache_mode mode)
{
    return ctl_cache_flags(c, mode, 0);
}

/* ctl_print_json - pretty JSON on stdout, consuming j */
void ctl_print_json(cJSON *j)
{
    char *s = cJSON_Print(j);

    if (s) {
        puts(s);
        free(s);
    }
    cJSON_Delete(j);
}

static void ctl_list(FILE *fp)
{
    fprintf(fp,
            "usage: %s [-c FILE] [--json] COMMAND [ARGS...]\n\n"
            "  -c FILE   configuration file (default %s)\n"
            "  --json    machine-readable output where a command has it\n\n"
            "commands:\n",
            ctl_prog, CTL_DEFAULT_CONF);
    for (const ctl_command *k = __start_sg_ctl_cmds; k < __stop_sg_ctl_cmds; k++)
        fprintf(fp, "  %-34s %s\n", k->name, k->summary);
    fprintf(fp, "\n'%s COMMAND --help' explains a command; sendgatectl(8) has examples.\n",
            ctl_prog);
}

/* ctl_find - the command named by the longest run of leading words */
static const ctl_command *ctl_find(int argc, char **argv, int *words)
{
    const ctl_command *best = NULL;
    int best_words = 0;

    for (const ctl_command *k = __start_sg_ctl_cmds; k < __stop_sg_ctl_cmds; k++) {
        const char *p = k->name;
        int w = 0;
        while (w < argc) {
            size_t n = strcspn(p, " ");
            if (strlen(argv[w]) != n || strncmp(argv[w], p, n) != 0)
                break;
            w++;
            p += n;
            if (*p == '\0')
                break;
            p++;
        }
        if (*p == '\0' && w > best_words) {
            best = k;
            best_words = w;
        }
    }
    *words = best_words;
    return best;
}

static void ctl_help_one(const ctl_command *k, FILE *fp)
{
    fprintf(fp, "usage: %s [-c FILE] %s%s%s\n\n%s\n", ctl_prog, k->name, *k->args ? " " : "",
            k->args, k->summary);
    if (k->help && *k->help)
        fprintf(fp, "\n%s\n", k->help);
}

/* ctl_usage - the command's synopsis on stderr; EX_USAGE */
int ctl_usage(const char *name)
{
    for (const ctl_command *k = __start_sg_ctl_cmds; k < __stop_sg_ctl_cmds; k++)
        if (strcmp(k->name, name) == 0)
            ctl_help_one(k, stderr);
    return EX_USAGE;
}

int main(int argc, char **argv)
{
    ctl c = {0};
    const ctl_command *k;
    char **rest = calloc((size_t)argc + 1, sizeof(*rest));
    int n = 0, words, rc;
    bool help = false;

    c.prog = ctl_prog;
    c.conf_path = CTL_DEFAULT_CONF;
    log_open(ctl_prog, LOG_DEST_STDERR, LOG_MAIL);
    log_set_level(LOG_WARNING);
    if (rest == NULL)
        return EX_OSERR;
    for (int i = 1; i < argc; i++) { /* global options, anywhere on the line */
        if (strcmp(argv[i], "--json") == 0)
            c.json = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            help = true;
        else if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && n == 0) {
            if (++i >= argc)
                return ctl_fail(EX_USAGE, "-c needs a file name");
            c.conf_path = argv[i];
            c.conf_explicit = true;
        } else if (strncmp(argv[i], "--config=", 9) == 0 && n == 0) {
            c.conf_path = argv[i] + 9;
            c.conf_explicit = true;
        } else
            rest[n++] = argv[i];
    }
    if (n == 0 || strcmp(rest[0], "help") == 0) {
        k = n > 1 ? ctl_find(n - 1, rest + 1, &words) : NULL;
        if (k)
            ctl_help_one(k, stdout);
        else
            ctl_list(n == 0 && !help ? stderr : stdout);
        free(rest);
        return n == 0 && !help ? EX_USAGE : 0;
    }
    if ((k = ctl_find(n, rest, &words)) == NULL) {
        fprintf(stderr, "%s: unknown command '%s'\n\n", ctl_prog, rest[0]);
        ctl_list(stderr);
        free(rest);
        return EX_USAGE;
    }
    if (help) {
        ctl_help_one(k, stdout);
        free(rest);
        return 0;
    }
    rc = k->run(&c, n - words + 1, rest + words - 1); /* argv[0]: the last command word */
    if (c.cache)
        cache_close(c.cache);
    conf_unref(c.cfg);
    free(rest);
    return rc;
}
