/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_token.c - sendgatectl token genkey | make | decode | revoke | unrevoke | revoked
 *
 * The operator's side of the signed tracking tokens (lib/token.h): make key
 * files for tracking.key_files, look inside a token from a complaint or a
 * log and see whether the configured keys accept it, make tokens for tests,
 * and withdraw the links of a message after an abuse report (the "revoked"
 * database of the cache, which sendgate-trackd reads on every click).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/revoke.h"
#include "ctl/ctl.h"
#include "lib/domain.h"
#include "lib/token.h"

#define TOK_REVOKED (-2) /* decode: the MAC verifies, but the message is revoked */

/* tok_keys - the configured keys, or NULL with the reason in err */
static token_keys *tok_keys(ctl *c, char *err, size_t errlen)
{
    return token_keys_load(&ctl_config(c)->tracking.key_files, err, errlen);
}

/* tok_next_id - a key id not used by the configured keys (the highest plus one) */
static unsigned tok_next_id(ctl *c)
{
    char err[512];
    token_keys *k = tok_keys(c, err, sizeof(err));
    unsigned id = 1, max = 0;

    for (size_t i = 0; i < token_keys_count(k); i++)
        if (token_keys_id(k, i) > max)
            max = token_keys_id(k, i);
    for (id = max % 255 + 1; k && id != max; id = id % 255 + 1) {
        bool used = false;
        for (size_t i = 0; i < token_keys_count(k); i++)
            used |= token_keys_id(k, i) == id;
        if (!used)
            break;
    }
    token_keys_free(k);
    return id;
}

static int cmd_token_genkey(ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"id", required_argument, NULL, 'i'}, {0}};
    char err[512];
    long id = 0;
    int ch;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch != 'i')
            return ctl_usage("token genkey");
        id = strtol(optarg, NULL, 10);
        if (id < 1 || id > 255)
            return ctl_fail(EX_USAGE, "--id must be 1..255");
    }
    if (optind != argc - 1)
        return ctl_usage("token genkey");
    if (id == 0)
        id = tok_next_id(c);
    if (!token_keyfile_write(argv[optind], (unsigned)id, err, sizeof(err)))
        return ctl_fail(EX_CANTCREAT, "%s", err);
    printf("%s: key id %ld, mode 0600\n"
           "To sign with it, list it FIRST in tracking.key_files and keep the old files\n"
           "after it (old links keep verifying); then reload the milter and sendgate-trackd.\n",
           argv[optind], id);
    return 0;
}

struct tok_make_args {
    token_claims cl;
    const char *host;
};

/* tok_make_opts - the claims from the command line */
static int tok_make_opts(int argc, char **argv, struct tok_make_args *a)
{
    static const struct option opts[] = {
            {"domain", required_argument, NULL, 'd'}, {"msgref", required_argument, NULL, 'm'},
            {"link", required_argument, NULL, 'l'},   {"rcpt", required_argument, NULL, 'r'},
            {"url", required_argument, NULL, 'u'},    {"issued", required_argument, NULL, 'i'},
            {"host", required_argument, NULL, 'H'},   {0}};
    char why[ERRBUF_MAX];
    int ch;

    memset(a, 0, sizeof(*a));
    a->cl.issued = (int64_t)time(NULL);
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            if (!domain_normalize(optarg, strlen(optarg), a->cl.domain, why, sizeof(why)))
                return ctl_fail(EX_DATAERR, "--domain %s: %s", optarg, why);
            break;
        case 'm':
            snprintf(a->cl.msgref, sizeof(a->cl.msgref), "%s", optarg);
            break;
        case 'l':
            a->cl.link_index = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'r':
            snprintf(a->cl.rcpt, sizeof(a->cl.rcpt), "%s", optarg);
            break;
        case 'u':
            if (strlen(optarg) > TOKEN_URL_MAX)
                return ctl_fail(EX_DATAERR, "--url longer than %d bytes: not tracked",
                                TOKEN_URL_MAX);
            snprintf(a->cl.url, sizeof(a->cl.url), "%s", optarg);
            break;
        case 'i':
            a->cl.issued = strtoll(optarg, NULL, 10);
            break;
        case 'H':
            a->host = optarg;
            break;
        default:
            return ctl_usage("token make");
        }
    }
    if (optind != argc - 1 || (a->cl.purpose = token_purpose_parse(argv[optind])) < 0)
        return ctl_usage("token make");
    if (a->cl.purpose == TOKEN_CLICK && a->cl.url[0] == '\0')
        return ctl_fail(EX_USAGE, "a click token needs --url");
    return 0;
}

static int cmd_token_make(ctl *c, int argc, char **argv)
{
    struct tok_make_args a;
    char err[512];
    token_keys *k;
    buf t = BUF_INIT;
    int rc = tok_make_opts(argc, argv, &a);

    if (rc != 0)
        return rc;
    if ((k = tok_keys(c, err, sizeof(err))) == NULL)
        return ctl_fail(EX_CONFIG, "%s", err);
    if (!a.host && *ctl_config(c)->tracking.default_host)
        a.host = ctl_config(c)->tracking.default_host;
    if (a.host)
        buf_printf(&t, "https://%s%s", a.host, token_path(a.cl.purpose));
    if (!token_make(k, &a.cl, &t))
        rc = ctl_fail(EX_DATAERR, "no token: a field is too long or invalid (message "
                                  "reference: printable ASCII without spaces)");
    else
        puts(buf_cstr(&t));
    buf_free(&t);
    token_keys_free(k);
    return rc;
}

/* tok_from_arg - the token in a bare token or a whole tracking URL */
static void tok_from_arg(const char *arg, const char **tok, size_t *len)
{
    const char *q = arg + strcspn(arg, "?#"), *slash = arg;

    for (const char *p = arg; p < q; p++)
        if (*p == '/')
            slash = p + 1;
    *tok = slash;
    *len = (size_t)(q - slash);
}

/* tok_json - the claims (and the verdict) as JSON */
static cJSON *tok_json(const token_claims *cl, int inspect, int verify, const char *why)
{
    cJSON *j = cJSON_CreateObject();

    if (inspect == TOKEN_OK) {
        cJSON_AddStringToObject(j, "purpose", token_purpose_name(cl->purpose));
        cJSON_AddNumberToObject(j, "key_id", cl->key_id);
        cJSON_AddStringToObject(j, "msgref", cl->msgref);
        cJSON_AddNumberToObject(j, "link", cl->link_index);
        cJSON_AddNumberToObject(j, "issued", (double)cl->issued);
        cJSON_AddStringToObject(j, "domain", cl->domain);
        if (cl->rcpt[0])
            cJSON_AddStringToObject(j, "rcpt", cl->rcpt);
        else
            cJSON_AddNullToObject(j, "rcpt");
        if (cl->purpose == TOKEN_CLICK)
            cJSON_AddStringToObject(j, "url", cl->url);
    }
    cJSON_AddBoolToObject(j, "valid", verify == TOKEN_OK);
    cJSON_AddStringToObject(j, "result", why ? why : token_result_name(verify));
    return j;
}

static void tok_print(const token_claims *cl, int inspect, int verify, const char *why)
{
    char when[64];
    time_t t = (time_t)cl->issued;
    struct tm tm;

    if (inspect == TOKEN_OK) {
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
        printf("purpose:  %s\nkey id:   %u\nmessage:  %s\nlink:     %u\nissued:   %s (%lld)\n"
               "domain:   %s\nrcpt:     %s\n",
               token_purpose_name(cl->purpose), cl->key_id, cl->msgref, cl->link_index, when,
               (long long)cl->issued, cl->domain, cl->rcpt[0] ? cl->rcpt : "(none: several)");
        if (cl->purpose == TOKEN_CLICK)
            printf("url:      %s\n", cl->url);
    } else
        printf("cannot be decoded: %s\n", token_result_name(inspect));
    printf("verdict:  %s\n", verify == TOKEN_OK ? "valid" : why ? why : token_result_name(verify));
}

static int cmd_token_decode(ctl *c, int argc, char **argv)
{
    token_claims cl, vc;
    const char *tok, *why = NULL;
    char err[512], whybuf[600];
    token_keys *k;
    size_t len;
    int inspect, verify;

    if (argc != 2)
        return ctl_usage("token decode");
    tok_from_arg(argv[1], &tok, &len);
    inspect = token_inspect(tok, len, &cl);
    if ((k = tok_keys(c, err, sizeof(err))) == NULL) {
        snprintf(whybuf, sizeof(whybuf), "not verified: %s", err);
        why = whybuf;
        verify = -1;
    } else
        verify = token_verify(k, tok, len, TOKEN_ANY, &vc);
    if (verify == TOKEN_OK && c->cfg) {
        cache_opts co = cache_opts_from_conf(c->cfg, 0);
        cache *ca = cache_open(c->cfg->general.cache_path, CACHE_RDONLY, &co, err, sizeof(err));
        if (ca && revoke_check(ca, vc.msgref, vc.domain) == CACHE_OK) {
            why = "valid, but revoked (trackd answers 404)";
            verify = TOK_REVOKED;
        }
        cache_close(ca);
    }
    if (c->json)
        ctl_print_json(tok_json(&cl, inspect, verify, why));
    else
        tok_print(&cl, inspect, verify, why);
    token_keys_free(k);
    return verify == TOKEN_OK ? 0 : EX_DATAERR;
}

/* tok_revoke_args - [--domain] NAME [--note TEXT] */
static int tok_revoke_args(int argc, char **argv, const char *cmd, int *kind, const char **name,
                           const char **note)
{
    static const struct option opts[] = {
            {"domain", no_argument, NULL, 'd'}, {"note", required_argument, NULL, 'n'}, {0}};
    int ch;

    *kind = REVOKE_MESSAGE;
    *note = "";
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch == 'd')
            *kind = REVOKE_DOMAIN;
        else if (ch == 'n' && note)
            *note = optarg;
        else
            return ctl_usage(cmd);
    }
    if (optind != argc - 1 || argv[optind][0] == '\0')
        return ctl_usage(cmd);
    *name = argv[optind];
    return 0;
}

static int cmd_token_revoke(ctl *c, int argc, char **argv)
{
    const char *name, *note;
    char dom[DOMAIN_MAX], why[ERRBUF_MAX];
    int kind, rc = tok_revoke_args(argc, argv, "token revoke", &kind, &name, &note);

    if (rc)
        return rc;
    if (kind == REVOKE_DOMAIN) {
        if (!domain_normalize(name, strlen(name), dom, why, sizeof(why)))
            return ctl_fail(EX_DATAERR, "%s: %s", name, why);
        name = dom;
    }
    if (revoke_add(ctl_cache(c, CACHE_RDWR), kind, name, (int64_t)time(NULL), note) != CACHE_OK)
        return ctl_fail(EX_IOERR, "cannot write the revocation");
    printf("revoked %s %s: its links now answer 404\n",
           kind == REVOKE_DOMAIN ? "domain" : "message", name);
    return 0;
}

static int cmd_token_unrevoke(ctl *c, int argc, char **argv)
{
    const char *name, *note;
    char dom[DOMAIN_MAX];
    int kind, rc = tok_revoke_args(argc, argv, "token unrevoke", &kind, &name, &note);

    if (rc)
        return rc;
    if (kind == REVOKE_DOMAIN && domain_normalize(name, strlen(name), dom, NULL, 0))
        name = dom;
    rc = revoke_remove(ctl_cache(c, CACHE_RDWR), kind, name);
    if (rc == CACHE_NOTFOUND)
        return ctl_fail(EX_NOINPUT, "%s was not revoked", name);
    return rc == CACHE_OK ? 0 : ctl_fail(EX_IOERR, "cannot write the cache");
}

static void tok_list_one(void *arg, int kind, const char *name, int64_t when, const char *note)
{
    cJSON *arr = arg, *o;
    char ts[64];
    time_t t = (time_t)when;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (arr == NULL) {
        printf("%-8s %-40s %s  %s\n", kind == REVOKE_DOMAIN ? "domain" : "message", name, ts, note);
        return;
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", kind == REVOKE_DOMAIN ? "domain" : "message");
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "time", ts);
    cJSON_AddStringToObject(o, "note", note);
    cJSON_AddItemToArray(arr, o);
}

static int cmd_token_revoked(ctl *c, int argc, char **argv)
{
    cJSON *arr = c->json ? cJSON_CreateArray() : NULL;

    (void)argv;
    if (argc != 1)
        return ctl_usage("token revoked");
    if (revoke_foreach(ctl_cache(c, CACHE_RDONLY), tok_list_one, arr) != CACHE_OK) {
        cJSON_Delete(arr);
        return ctl_fail(EX_IOERR, "cannot read the cache");
    }
    if (arr)
        ctl_print_json(arr);
    return 0;
}

CTL_COMMAND(token_genkey, "token genkey", "[--id N] FILE",
            "write a new token key file (mode 0600) for tracking.key_files",
            "FILE must not exist. The file holds one line 'ID SECRET': a key id 1..255 (by\n"
            "default one the configured keys do not use) and 32 random bytes in hex.\n"
            "Rotation: list the new file first in tracking.key_files, keep the old ones after\n"
            "it, reload; links signed with the old keys keep working.\n"
            "Example: sendgatectl token genkey /etc/sendgate/token-2.key",
            cmd_token_genkey);
CTL_COMMAND(token_make, "token make",
            "PURPOSE --domain D --msgref REF [--url URL] [--link N] [--rcpt ADDR] [--issued T] "
            "[--host H]",
            "sign a click, open or unsubscribe token with the configured key",
            "PURPOSE is click (needs --url), open or unsubscribe. With --host (or\n"
            "tracking.default_host) the whole URL is printed, https://H/c/TOKEN.\n"
            "For tests and for operators checking trackd by hand.\n"
            "Example: sendgatectl token make click --domain example.com --msgref 4VxYz1 \\\n"
            "           --link 1 --url https://example.com/offer",
            cmd_token_make);
CTL_COMMAND(token_decode, "token decode", "TOKEN|URL",
            "show what a token holds and whether the configured keys accept it",
            "Accepts a bare token or a whole tracking URL. The fields are shown even when the\n"
            "MAC does not verify; the verdict says why (malformed, version, unknown_key,\n"
            "bad_mac) or that the message was revoked. Exit status 0 only for a valid token.\n"
            "Example: sendgatectl token decode https://t.example.com/c/AQUB...",
            cmd_token_decode);
CTL_COMMAND(token_revoke, "token revoke", "[--domain] REF|DOMAIN [--note TEXT]",
            "make every link of a message (or a sending domain) answer 404",
            "For abuse reports: sendgate-trackd sees the revocation at once, refuses the\n"
            "message's click links with 404 and stops recording its opens. Unsubscribe links\n"
            "keep working. Stored in the cache's \"revoked\" database.\n"
            "Example: sendgatectl token revoke 4VxYz1AbCdz --note 'phishing, ticket 812'",
            cmd_token_revoke);
CTL_COMMAND(token_unrevoke, "token unrevoke", "[--domain] REF|DOMAIN", "take a revocation back",
            "Example: sendgatectl token unrevoke 4VxYz1AbCdz", cmd_token_unrevoke);
CTL_COMMAND(token_revoked, "token revoked", "", "list revoked messages and domains",
            "Kind, name, time (UTC) and note of each revocation; --json for scripts.",
            cmd_token_revoked);
