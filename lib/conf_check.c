/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_check.c - cross-key checks of sendgate.conf, one function per section
 *
 * conf_load runs these after every key parsed on its own. They report with
 * conf_report_add, which names the key, the file and the line where the key
 * was set, and return false when they found an error. Each component keeps
 * its section's function here so check-config sees every rule.
 */
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/conf.h"
#include "lib/domain.h"
#include "lib/netlist.h"
#include "lib/rfile.h"

static const char *const conf_providers[] = {"static", "jetemail", "mailtrap"};

/* conf_check_general - provider order, cache sizes, the user to run as */
bool conf_check_general(const conf *c, conf_report *r)
{
    const struct conf_general *g = &c->general;
    int errors = r ? r->errors : 0;

    for (size_t i = 0; i < g->provider_order.n; i++) {
        bool known = false;
        for (size_t j = 0; j < sizeof(conf_providers) / sizeof(conf_providers[0]); j++)
            known |= strcmp(g->provider_order.v[i], conf_providers[j]) == 0;
        if (!known)
            conf_report_add(r, true, c, CK_general_provider_order,
                            "unknown provider '%s' (static, jetemail, mailtrap)",
                            g->provider_order.v[i]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(g->provider_order.v[i], g->provider_order.v[j]) == 0)
                conf_report_add(r, true, c, CK_general_provider_order, "'%s' listed twice",
                                g->provider_order.v[i]);
    }
    if (g->cache_map_size > g->cache_max_map_size)
        conf_report_add(r, true, c, CK_general_cache_map_size,
                        "larger than general.cache_max_map_size");
    if (g->cache_map_size < 1048576)
        conf_report_add(r, true, c, CK_general_cache_map_size, "must be at least 1M");
    if (*g->user && getpwnam(g->user) == NULL)
        conf_report_add(r, true, c, CK_general_user, "no such user '%s'", g->user);
    if (*g->group && getgrnam(g->group) == NULL)
        conf_report_add(r, true, c, CK_general_group, "no such group '%s'", g->group);
    if (*g->group && !*g->user)
        conf_report_add(r, true, c, CK_general_group, "set general.user as well");
    return !r || r->errors == errors;
}

/* conf_check_addresses - every word of a list is a mail address */
static void conf_check_addresses(const conf *c, conf_report *r, int key, const conf_list *l)
{
    char why[ERRBUF_MAX];

    for (size_t i = 0; i < l->n; i++)
        if (!addr_is_valid(l->v[i], why, sizeof(why)))
            conf_report_add(r, true, c, key, "'%s' is not a mail address: %s", l->v[i], why);
}

/* conf_check_handling - the exempt and demo lists hold addresses and domains */
bool conf_check_handling(const conf *c, conf_report *r)
{
    const struct conf_handling *h = &c->handling;
    int errors = r ? r->errors : 0;
    char dom[DOMAIN_MAX], why[ERRBUF_MAX];

    conf_check_addresses(c, r, CK_handling_exempt_senders, &h->exempt_senders);
    conf_check_addresses(c, r, CK_handling_demo_recipients, &h->demo_recipients);
    for (size_t i = 0; i < h->exempt_domains.n; i++)
        if (!domain_normalize(h->exempt_domains.v[i], strlen(h->exempt_domains.v[i]), dom, why,
                              sizeof(why)))
            conf_report_add(r, true, c, CK_handling_exempt_domains, "'%s': %s",
                            h->exempt_domains.v[i], why);
    return !r || r->errors == errors;
}

/* conf_check_static - an enabled static provider needs its file */
bool conf_check_static(const conf *c, conf_report *r)
{
    if (c->static_.enabled && *c->static_.file == '\0') {
        conf_report_add(r, true, c, CK_static__file, "empty, but static.enabled = yes");
        return false;
    }
    return true;
}

/* conf_check_token - an enabled provider has a token, preferably in a file */
static void conf_check_token(const conf *c, conf_report *r, bool enabled, int inline_key,
                             int file_key, const char *token)
{
    struct stat st;

    if (enabled && conf_token(c, inline_key, file_key) == NULL)
        conf_report_add(r, true, c, file_key, "provider enabled but no API token: set %s",
                        "api_token_file (or api_token)");
    if (token && *token && c->conf_file && stat(c->conf_file, &st) == 0 && (st.st_mode & S_IROTH))
        conf_report_add(r, false, c, inline_key,
                        "token written in a world-readable file; move it to api_token_file");
    if (token && *token && conf_secret(c, file_key))
        conf_report_add(r, false, c, inline_key,
                        "ignored: api_token_file is set too and wins; remove one of them");
}

/*
 * conf_check_api - one provider's URL and request budget against its
 * documented limit (limit requests per `per` seconds); the budget_window
 * key follows request_budget in lib/keys/<provider>.def
 */
static void conf_check_api(const conf *c, conf_report *r, int url_key, const char *url,
                           int budget_key, long budget, long window, long limit, long per,
                           const char *who)
{
    const char *host = url + (strncmp(url, "https://", 8) == 0 ? 8 : 7);

    if (strncmp(url, "http://", 7) == 0 && strncmp(host, "127.", 4) != 0 &&
        strncmp(host, "localhost", 9) != 0 && strncmp(host, "[::1]", 5) != 0)
        conf_report_add(r, false, c, url_key, "plain http: the API token travels unencrypted");
    if (window < 1)
        conf_report_add(r, true, c, budget_key + 1, "must be at least 1s");
    else if ((double)budget / (double)window > (double)limit / (double)per)
        conf_report_add(r, false, c, budget_key,
                        "%ld per %lds is more than %s allows (%ld per %lds for the whole account; "
                        "divide it by the number of nodes)",
                        budget, window, who, limit, per);
}

/* conf_check_providers - [jetemail] and [mailtrap] */
bool conf_check_providers(const conf *c, conf_report *r)
{
    int errors = r ? r->errors : 0;

    conf_check_token(c, r, c->jetemail.enabled, CK_jetemail_api_token, CK_jetemail_api_token_file,
                     c->jetemail.api_token);
    conf_check_token(c, r, c->mailtrap.enabled, CK_mailtrap_api_token, CK_mailtrap_api_token_file,
                     c->mailtrap.api_token);
    conf_check_api(c, r, CK_jetemail_base_url, c->jetemail.base_url, CK_jetemail_request_budget,
                   c->jetemail.request_budget, c->jetemail.budget_window, 240, 60, "JetEmail");
    conf_check_api(c, r, CK_mailtrap_base_url, c->mailtrap.base_url, CK_mailtrap_request_budget,
                   c->mailtrap.request_budget, c->mailtrap.budget_window, 150, 10, "Mailtrap");
    if (c->jetemail.retry_after_default < 1)
        conf_report_add(r, true, c, CK_jetemail_retry_after_default, "must be at least 1s");
    if (c->mailtrap.retry_after_default < 1)
        conf_report_add(r, true, c, CK_mailtrap_retry_after_default, "must be at least 1s");
    if (c->mailtrap.path_style == 2 && c->mailtrap.account_id == 0 && c->mailtrap.enabled)
        conf_report_add(r, false, c, CK_mailtrap_path_style,
                        "account paths without mailtrap.account_id: the account is looked up "
                        "with GET /api/accounts (it must be the only one the token sees)");
    return !r || r->errors == errors;
}

/* conf_check_refresh - [refresh]: interval, backoff, timeouts, limits, CA file */
bool conf_check_refresh(const conf *c, conf_report *r)
{
    const struct conf_refresh *f = &c->refresh;
    int errors = r ? r->errors : 0;
    char why[PATH_MAX + 256];

    if (f->interval < 10)
        conf_report_add(r, true, c, CK_refresh_interval, "must be at least 10s");
    if (f->backoff_min < 1)
        conf_report_add(r, true, c, CK_refresh_backoff_min, "must be at least 1s");
    if (f->backoff_max < f->backoff_min)
        conf_report_add(r, true, c, CK_refresh_backoff_max, "must not be below backoff_min");
    if (f->timeout < 1)
        conf_report_add(r, true, c, CK_refresh_timeout, "must be at least 1s");
    if (f->connect_timeout < 1 || f->connect_timeout > f->timeout)
        conf_report_add(r, true, c, CK_refresh_connect_timeout,
                        "must be at least 1s and at most refresh.timeout");
    if (f->max_response_size < 65536)
        conf_report_add(r, true, c, CK_refresh_max_response_size, "must be at least 64k");
    if (*f->ca_file && access(f->ca_file, R_OK) != 0)
        conf_report_add(r, true, c, CK_refresh_ca_file, "cannot read %s", f->ca_file);
    else if (*f->ca_file && !rfile_check_kind(f->ca_file, S_IFREG, "CA file", why, sizeof(why)))
        conf_report_add(r, true, c, CK_refresh_ca_file, "%s", why);
    if (strpbrk(f->user_agent, "\r\n"))
        conf_report_add(r, true, c, CK_refresh_user_agent, "must be one line");
    return !r || r->errors == errors;
}

/* conf_check_milter - [milter] */
bool conf_check_milter(const conf *c, conf_report *r)
{
    int errors = r ? r->errors : 0;
    char err[256];
    netlist nl = NETLIST_INIT;

    if (*c->milter.socket == '\0')
        conf_report_add(r, true, c, CK_milter_socket, "must not be empty");
    if (!netlist_parse(&nl, &c->milter.internal_networks, 0, err, sizeof(err)))
        conf_report_add(r, true, c, CK_milter_internal_networks, "%s", err);
    netlist_free(&nl);
    if (*c->milter.socket_group && getgrnam(c->milter.socket_group) == NULL)
        conf_report_add(r, true, c, CK_milter_socket_group, "no such group '%s'",
                        c->milter.socket_group);
    if (c->milter.socket_mode & 0007)
        conf_report_add(r, false, c, CK_milter_socket_mode,
                        "others may connect to the milter socket; 0660 with socket_group is "
                        "enough for Postfix");
    if (c->milter.body_memory_limit > c->milter.max_rewrite_size)
        conf_report_add(r, false, c, CK_milter_body_memory_limit,
                        "larger than max_rewrite_size: bodies never spill to disk");
    if (c->milter.connection_timeout < 10)
        conf_report_add(r, true, c, CK_milter_connection_timeout, "must be at least 10s");
    return !r || r->errors == errors;
}

/*
 * conf_check_policyd - [policyd]: sockets, size limits, networks, transports.
 * Both sockets may be empty: the daemon then only refreshes the cache (a
 * Sendmail site, which has no use for Postfix's policy and socketmap
 * services).
 */
bool conf_check_policyd(const conf *c, conf_report *r)
{
    const struct conf_policyd *p = &c->policyd;
    int errors = r ? r->errors : 0;
    netlist_net net;
    char why[ERRBUF_MAX];

    if (*p->socket_group && getgrnam(p->socket_group) == NULL)
        conf_report_add(r, true, c, CK_policyd_socket_group, "no such group '%s'", p->socket_group);
    if (p->idle_timeout < 1)
        conf_report_add(r, true, c, CK_policyd_idle_timeout, "must be at least 1s");
    else if (p->idle_timeout < 300)
        conf_report_add(r, false, c, CK_policyd_idle_timeout,
                        "shorter than Postfix's smtpd_policy_service_max_idle (300s): Postfix "
                        "will find connections closed under it");
    if (p->max_request_size < 1024)
        conf_report_add(r, true, c, CK_policyd_max_request_size, "must be at least 1k");
    if (p->max_attribute_size < 256 || p->max_attribute_size > p->max_request_size)
        conf_report_add(r, true, c, CK_policyd_max_attribute_size,
                        "must be at least 256 and at most max_request_size");
    if (p->max_netstring < 512 || p->max_netstring > 1048576)
        conf_report_add(r, true, c, CK_policyd_max_netstring, "must be between 512 and 1M");
    for (size_t i = 0; i < p->internal_networks.n; i++)
        if (!netlist_parse_word(p->internal_networks.v[i], 0, &net, why, sizeof(why)))
            conf_report_add(r, true, c, CK_policyd_internal_networks, "'%s': %s",
                            p->internal_networks.v[i], why);
    if (*p->smtp_transport == '\0' || strpbrk(p->smtp_transport, ": \t"))
        conf_report_add(r, true, c, CK_policyd_smtp_transport,
                        "expected a master.cf service name such as smtp or relay");
    if (*p->webhook_transport && !strchr(p->webhook_transport, ':'))
        conf_report_add(r, true, c, CK_policyd_webhook_transport,
                        "expected transport:nexthop, e.g. error:5.3.0 delivered by webhook only");
    return !r || r->errors == errors;
}

/* conf_check_trackd_nets - every word an address or CIDR network, host bits ignored */
static void conf_check_trackd_nets(const conf *c, conf_report *r, int key, const conf_list *l)
{
    netlist_net net;

    for (size_t i = 0; i < l->n; i++)
        if (!netlist_parse_word(l->v[i], NETLIST_HOST_BITS, &net, NULL, 0))
            conf_report_add(r, true, c, key, "'%s' is not an address or CIDR network", l->v[i]);
}

/* conf_check_trackd - [trackd] */
bool conf_check_trackd(const conf *c, conf_report *r)
{
    const struct conf_trackd *t = &c->trackd;
    int errors = r ? r->errors : 0;

    if (*t->listen == '\0' || strncmp(t->listen, "inet", 4) != 0)
        conf_report_add(r, true, c, CK_trackd_listen,
                        "must be an inet:host:port or inet6:[addr]:port endpoint");
    if (!*t->tls_cert_file != !*t->tls_key_file)
        conf_report_add(r, true, c,
                        *t->tls_cert_file ? CK_trackd_tls_key_file : CK_trackd_tls_cert_file,
                        "tls_cert_file and tls_key_file go together");
    if (*t->events_file && strcmp(t->events_file, "-") != 0 && t->events_file[0] != '/')
        conf_report_add(r, true, c, CK_trackd_events_file,
                        "'%s': an absolute path, - (standard output) or empty (none)",
                        t->events_file);
    if (t->max_request_size < 1024 || t->max_request_size > 1048576)
        conf_report_add(r, true, c, CK_trackd_max_request_size, "must be between 1k and 1M");
    if (t->connection_timeout < 1)
        conf_report_add(r, true, c, CK_trackd_connection_timeout, "must be at least 1s");
    if (t->request_timeout < 1)
        conf_report_add(r, true, c, CK_trackd_request_timeout, "must be at least 1s");
    if (t->stats_map_size < 1048576)
        conf_report_add(r, true, c, CK_trackd_stats_map_size, "must be at least 1M");
    if (*t->stats_path == '\0')
        conf_report_add(r, true, c, CK_trackd_stats_path, "must not be empty");
    conf_check_trackd_nets(c, r, CK_trackd_trusted_proxies, &t->trusted_proxies);
    conf_check_trackd_nets(c, r, CK_trackd_metrics_allow, &t->metrics_allow);
    return !r || r->errors == errors;
}

/* conf_check_tracking - [tracking] */
bool conf_check_tracking(const conf *c, conf_report *r)
{
    int errors = r ? r->errors : 0;

    for (size_t i = 0; i < c->tracking.key_files.n; i++)
        if (c->tracking.key_files.v[i][0] != '/')
            conf_report_add(r, true, c, CK_tracking_key_files, "'%s': path must be absolute",
                            c->tracking.key_files.v[i]);
    for (size_t i = 0; i < c->tracking.excluded_domains.n; i++) {
        const char *d = c->tracking.excluded_domains.v[i];
        char norm[DOMAIN_MAX], why[ERRBUF_MAX];
        if (!domain_normalize(d, strlen(d), norm, why, sizeof(why)))
            conf_report_add(r, true, c, CK_tracking_excluded_domains, "'%s': %s", d, why);
    }
    if (strpbrk(c->tracking.unsubscribe_text, "<>&\"\r\n"))
        conf_report_add(r, true, c, CK_tracking_unsubscribe_text,
                        "must be plain text (no <, >, &, quotes or line breaks)");
    return !r || r->errors == errors;
}
