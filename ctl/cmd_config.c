/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_config.c - sendgatectl check-config | show-config
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl/check_env.h"
#include "ctl/check_files.h"
#include "ctl/ctl.h"

/* cmd_check_config - like `postfix check`: every problem with file:line, non-zero on error */
static int cmd_check_config(ctl *c, int argc, char **argv)
{
    conf_report rep;
    conf *cfg;
    const char *path = c->conf_path;
    bool ok;

    (void)argv;
    if (argc != 1)
        return ctl_usage("check-config");
    if (!c->conf_explicit && access(path, F_OK) != 0) {
        fprintf(stderr, "%s: no %s; checking the embedded defaults\n", c->prog, path);
        path = NULL;
    }
    conf_report_init(&rep);
    cfg = conf_read(path, &rep); /* kept with errors: the files it names are checked too */
    if (cfg) {
        check_files(cfg, &rep); /* the daemons' loaders on the files they need */
        check_env(cfg, &rep);   /* files and sockets as the daemons and Postfix meet them */
    }
    ok = cfg && rep.errors == 0;
    fputs(buf_cstr(&rep.text), stdout);
    if (ok)
        printf("%s: configuration OK%s\n", path ? path : "(defaults)",
               rep.warnings ? " (with warnings)" : "");
    else
        printf("%s: %d error%s: the daemons would refuse this configuration\n",
               path ? path : "(defaults)", rep.errors, rep.errors == 1 ? "" : "s");
    conf_unref(cfg);
    conf_report_free(&rep);
    return ok ? 0 : EX_CONFIG;
}

/* key_section - the section as written in the file ("static_" is [static]) */
static const char *key_section(const conf_keydef *d)
{
    return strcmp(d->section, "static_") == 0 ? "static" : d->section;
}

/* show_match - does the name (SECTION or SECTION.KEY) select key d? */
static bool show_match(const conf_keydef *d, const char *name)
{
    size_t sl = strlen(key_section(d));

    return strcmp(name, key_section(d)) == 0 ||
           (strncmp(name, key_section(d), sl) == 0 && name[sl] == '.' &&
            strcmp(name + sl + 1, d->name) == 0);
}

/* show_unknown - the first name that selects no key, or NULL */
static const char *show_unknown(const conf_keydef *defs, size_t n, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        bool found = false;
        for (size_t k = 0; k < n && !found; k++)
            found = show_match(&defs[k], argv[i]);
        if (!found)
            return argv[i];
    }
    return NULL;
}

/* show_wanted - no names given, or one of them selects d */
static bool show_wanted(const conf_keydef *d, int argc, char **argv)
{
    if (argc == 0)
        return true;
    for (int i = 0; i < argc; i++)
        if (show_match(d, argv[i]))
            return true;
    return false;
}

/* cmd_show_config - like postconf: effective values, -d defaults, -n only changed keys */
static int cmd_show_config(ctl *c, int argc, char **argv)
{
    bool defaults = false, changed = false;
    size_t n;
    const conf_keydef *defs = conf_keydefs(&n);
    conf *cfg, *dcfg = NULL;
    cJSON *root = NULL;
    const char *bad;
    int i = 1;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-d") == 0)
            defaults = true;
        else if (strcmp(argv[i], "-n") == 0)
            changed = true;
        else
            return ctl_usage("show-config");
    }
    if ((bad = show_unknown(defs, n, argc - i, argv + i)) != NULL)
        return ctl_fail(EX_USAGE,
                        "%s: unknown section or key (sendgatectl show-config -d lists "
                        "them all)",
                        bad);
    if (defaults && (dcfg = conf_defaults(NULL)) == NULL)
        return EX_SOFTWARE;
    cfg = defaults ? dcfg : ctl_config(c);
    if (c->json)
        root = cJSON_CreateObject();
    for (size_t k = 0; k < n; k++) {
        buf v = BUF_INIT;
        if (!show_wanted(&defs[k], argc - i, argv + i) ||
            (changed && conf_key_line(cfg, (enum conf_key)k) == 0))
            continue;
        conf_format_value(cfg, (int)k, &v);
        if (root) {
            cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, key_section(&defs[k]));
            if (sec == NULL)
                sec = cJSON_AddObjectToObject(root, key_section(&defs[k]));
            cJSON_AddStringToObject(sec, defs[k].name, buf_cstr(&v));
        } else {
            printf("%s.%s = %s\n", key_section(&defs[k]), defs[k].name, buf_cstr(&v));
        }
        buf_free(&v);
    }
    if (root)
        ctl_print_json(root);
    conf_unref(dcfg);
    return 0;
}

CTL_COMMAND(check_config, "check-config", "",
            "validate the configuration file; problems are printed as file:line",
            "Exit status 0 when the file is valid (warnings allowed), 78 (EX_CONFIG)\n"
            "otherwise. Unknown keys, bad values, and every file a daemon would refuse\n"
            "(key, token, TLS and static domains files, read by the daemons' own\n"
            "loaders) are all reported, not just the first, with the fix.\n"
            "Example: sendgatectl -c /etc/sendgate/sendgate.conf check-config",
            cmd_check_config);
CTL_COMMAND(show_config, "show-config", "[-d] [-n] [SECTION | SECTION.KEY ...]",
            "print configuration values, like postconf",
            "-d prints the embedded defaults, -n only the keys set in the file.\n"
            "Secrets are never printed. --json prints {\"section\": {\"key\": \"value\"}}.\n"
            "An unknown section or key is an error (exit 64).\n"
            "Example: sendgatectl show-config -n handling",
            cmd_show_config);
