/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl.h - sendgatectl's command registry and shared helpers
 *
 * Every command lives in a ctl/cmd_*.c file and registers itself with
 * CTL_COMMAND (a table in a linker section, so adding a command touches
 * only its own file). main.c matches the longest run of command words
 * ("cache dump", "jetemail outbound set"), handles -c, --json and --help,
 * and calls the command with the remaining arguments, getopt-style: argv[0]
 * is the last command word.
 *
 * Exit statuses are those of sysexits.h: 0 success, EX_USAGE bad
 * arguments, EX_DATAERR invalid input refused locally, EX_CONFIG bad
 * configuration, EX_UNAVAILABLE the provider or a daemon refused,
 * EX_TEMPFAIL try again later, EX_SOFTWARE internal error.
 */
#ifndef SG_CTL_H
#define SG_CTL_H

#include <stdbool.h>
#include <sysexits.h>

#include <cJSON.h>

#include "cache/cache.h"
#include "lib/conf.h"

typedef struct ctl {
    const char *prog;
    const char *conf_path;
    bool conf_explicit; /* -c given: a missing file is an error */
    bool json;          /* --json */
    conf *cfg;
    cache *cache;
} ctl;

typedef struct ctl_command {
    const char *name;    /* command words, e.g. "cache dump" */
    const char *args;    /* argument synopsis */
    const char *summary; /* one line for the command list */
    const char *help;    /* details and an example, printed by --help */
    int (*run)(ctl *c, int argc, char **argv);
} ctl_command;

#define CTL_COMMAND(id, ...)              \
    static const ctl_command ctl_cmd_##id \
            __attribute__((used, section("sg_ctl_cmds"), aligned(sizeof(void *)))) = {__VA_ARGS__}

conf *ctl_config(ctl *c);
cache *ctl_cache(ctl *c, enum cache_mode mode);
cache *ctl_cache_flags(ctl *c, enum cache_mode mode, unsigned flags);
void ctl_print_json(cJSON *j);
int ctl_usage(const char *name);
int ctl_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
