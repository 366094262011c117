/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * static.c - the static provider (file format in static.h)
 *
 * Where it sits: sendgate-policyd's refresher and `sendgatectl cache load`
 * call static_refresh; the file is parsed completely into cache items
 * first (lib/inifile.c, every problem reported as file:line) and only a
 * file without any problem is written, with cache_replace_provider, in
 * one transaction. A bad file changes nothing but the static provider's
 * meta record, which says why.
 */
#include "providers/static.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache/verdict.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/domain.h"
#include "lib/inifile.h"
#include "lib/log.h"

struct static_domains {
    cache_out_item *out;
    size_t n_out, cap_out;
    cache_in_item *in;
    size_t n_in, cap_in;
    char **strings; /* every string the items point to */
    size_t n_strings, cap_strings;
};

/* single-valued keys: given twice in one section is an error (lists accumulate) */
static const char *const static_scalars[] = {
        "status",        "reason",   "open_tracking", "click_tracking", "unsubscribe",
        "tracking_host", "delivery", "webhook_url",   "webhook_method", "forward_dns_verified",
};
#define STATIC_NSCALARS (sizeof(static_scalars) / sizeof(static_scalars[0]))

struct static_parse {
    static_domains *s;
    conf_report *rep;
    const char *path;
    int64_t now;
    char section[INIFILE_SECTION_MAX];
    cache_out_entry *out;      /* current [outbound ...] entry, or NULL */
    cache_in_entry *in;        /* current [inbound ...] entry, or NULL */
    bool skip;                 /* current section is broken: ignore its keys */
    bool in_section;           /* a section header was seen */
    bool reason_set;           /* the section gave its own reason */
    int seen[STATIC_NSCALARS]; /* line where each single-valued key was set, 0 = not yet */
};

/* keep - copy a string into the set's string pool */
static const char *keep(static_domains *s, const char *str, size_t n)
{
    char *copy = strndup(str, n), **slot = NULL;

    if (copy == NULL || (slot = buf_array_add((void **)&s->strings, &s->n_strings, &s->cap_strings,
                                              sizeof(*slot), 64)) == NULL) {
        free(copy);
        return NULL;
    }
    return *slot = copy;
}

static const char *keep_str(static_domains *s, const char *str)
{
    return keep(s, str, strlen(str));
}

static void report(struct static_parse *p, int line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void report(struct static_parse *p, int line, const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    conf_report_at(p->rep, true, p->path, line, "%s", text);
}

/* described_twice - is dom already an outbound (or inbound) domain of the file? */
static bool described_twice(const struct static_parse *p, bool outbound, const char *dom)
{
    for (size_t i = 0; outbound && i < p->s->n_out; i++)
        if (strcmp(p->s->out[i].domain, dom) == 0)
            return true;
    for (size_t i = 0; !outbound && i < p->s->n_in; i++)
        if (strcmp(p->s->in[i].domain, dom) == 0)
            return true;
    return false;
}

/* new_entry - the item of a new section, with the defaults of the format */
static void new_entry(struct static_parse *p, bool outbound, const char *dom)
{
    if (outbound) {
        cache_out_item *it =
                buf_array_add((void **)&p->s->out, &p->s->n_out, &p->s->cap_out, sizeof(*it), 16);
        if (it == NULL || (it->domain = keep_str(p->s, dom)) == NULL)
            return;
        p->out = &it->e;
        p->out->provider = PROV_STATIC;
        p->out->send = SEND_ALLOWED;
        p->out->fetched_at = p->now;
        p->out->ref = p->out->raw_status = p->out->tracking_host = "";
        p->out->reason = "allowed by the local static configuration";
    } else {
        cache_in_item *it =
                buf_array_add((void **)&p->s->in, &p->s->n_in, &p->s->cap_in, sizeof(*it), 16);
        if (it == NULL || (it->domain = keep_str(p->s, dom)) == NULL)
            return;
        p->in = &it->e;
        p->in->provider = PROV_STATIC;
        p->in->active = true;
        p->in->delivery = DELIVERY_SMTP;
        p->in->fetched_at = p->now;
        p->in->ref = p->in->webhook_url = p->in->webhook_method = "";
    }
    p->skip = false;
}

/*
 * start_section - "[outbound DOMAIN]" or "[inbound DOMAIN]"; called for
 * every header, so a section without keys still describes its domain
 */
static void start_section(void *user, const char *section, int line)
{
    struct static_parse *p = user;
    char dom[DOMAIN_MAX], why[ERRBUF_MAX];
    const char *sp = strchr(section, ' ');
    bool outbound = strncmp(section, "outbound ", 9) == 0;
    bool inbound = strncmp(section, "inbound ", 8) == 0;

    snprintf(p->section, sizeof(p->section), "%s", section);
    p->out = NULL;
    p->in = NULL;
    p->skip = true;
    p->in_section = true;
    p->reason_set = false;
    memset(p->seen, 0, sizeof(p->seen));
    if (!outbound && !inbound) {
        report(p, line, "[%s]: expected [outbound DOMAIN] or [inbound DOMAIN]", section);
        return;
    }
    if (!domain_normalize(sp + 1, strlen(sp + 1), dom, why, sizeof(why))) {
        report(p, line, "[%s]: %s", section, why);
        return;
    }
    if (described_twice(p, outbound, dom)) {
        report(p, line, "[%s]: domain %s described twice", section, dom);
        return;
    }
    new_entry(p, outbound, dom);
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") || !strcmp(v, "1"))
        return *out = true, true;
    if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off") || !strcmp(v, "0"))
        return *out = false, true;
    return false;
}

/* parse_uint - decimal digits only, at most max */
static bool parse_uint(const char *v, long max, int *out)
{
    long n = 0;

    if (*v == '\0' || strlen(v) > 9)
        return false;
    for (; *v; v++) {
        if (!isdigit((unsigned char)*v))
            return false;
        n = n * 10 + (*v - '0');
    }
    if (n > max)
        return false;
    *out = (int)n;
    return true;
}

/* out_status - "compliant" etc. (Mailtrap words) or sendgate's allowed/pending/blocked/demo */
static bool out_status(struct static_parse *p, const char *v)
{
    int send = cache_send_parse(v);
    const char *reason;

    if (send < 0 && !verdict_map_mailtrap(v, &send, &reason))
        return false;
    if (cache_send_parse(v) == send)
        reason = send == SEND_ALLOWED   ? "allowed by the local static configuration"
                 : send == SEND_DEMO    ? "demo domain: may send only to the account owner"
                 : send == SEND_PENDING ? "held by the local static configuration"
                                        : "blocked by the local static configuration";
    p->out->send = (uint8_t)send;
    p->out->raw_status = keep_str(p->s, v);
    if (!p->reason_set)
        p->out->reason = reason;
    return p->out->raw_status != NULL;
}

/* out_bcc - a list of addresses, verified or pending */
static void out_bcc(struct static_parse *p, const char *v, bool verified, int line)
{
    char word[ADDR_MAX];
    char why[ERRBUF_MAX];

    while (*v) {
        size_t n;
        v += strspn(v, ", \t");
        if ((n = strcspn(v, ", \t")) == 0)
            break;
        if (n >= sizeof(word)) {
            report(p, line, "bcc: address too long");
            return;
        }
        memcpy(word, v, n);
        word[n] = '\0';
        v += n;
        if (!addr_is_valid(word, why, sizeof(why))) {
            report(p, line, "bcc address '%s': %s", word, why);
            continue;
        }
        if (p->out->n_bcc >= CACHE_MAX_BCC) {
            report(p, line, "more than %d BCC addresses in [%s]", CACHE_MAX_BCC, p->section);
            return;
        }
        p->out->bcc[p->out->n_bcc].verified = verified;
        p->out->bcc[p->out->n_bcc++].addr = keep_str(p->s, word);
    }
}

/* outbound_key - one key of an [outbound ...] section */
static void outbound_key(struct static_parse *p, const char *name, const char *v, int line)
{
    bool b;
    char host[DOMAIN_MAX];
    char why[ERRBUF_MAX];

    if (strcmp(name, "status") == 0) {
        if (!out_status(p, v))
            report(p, line,
                   "status = %s: unknown (allowed, pending, blocked, demo, or a Mailtrap "
                   "compliance status)",
                   v);
    } else if (strcmp(name, "reason") == 0) {
        p->out->reason = keep_str(p->s, v);
        p->reason_set = true;
    } else if (!strcmp(name, "open_tracking") || !strcmp(name, "click_tracking") ||
               !strcmp(name, "unsubscribe")) {
        if (!parse_bool(v, &b))
            report(p, line, "%s = %s: expected yes or no", name, v);
        else
            *(name[0] == 'o'   ? &p->out->open_tracking
              : name[0] == 'c' ? &p->out->click_tracking
                               : &p->out->unsubscribe) = b;
    } else if (strcmp(name, "tracking_host") == 0) {
        if (*v && !domain_normalize(v, strlen(v), host, why, sizeof(why)))
            report(p, line, "tracking_host = %s: %s", v, why);
        else
            p->out->tracking_host = *v ? keep_str(p->s, host) : "";
    } else if (strcmp(name, "bcc") == 0 || strcmp(name, "bcc_pending") == 0) {
        out_bcc(p, v, strcmp(name, "bcc") == 0, line);
    } else {
        report(p, line, "unknown key '%s' in [%s]", name, p->section);
    }
}

/* smtp_fields - split "host:port[:priority[:tls]]" keeping empty fields; count or -1 */
static int smtp_fields(char *item, char *f[4])
{
    int nf = 0;

    for (char *q = item; nf < 4; nf++) {
        f[nf] = q;
        if ((q = strchr(q, ':')) == NULL)
            return nf + 1;
        *q++ = '\0';
    }
    return -1; /* a fifth field */
}

/* smtp_item - one "host:port[:priority[:tls]]"; false when malformed */
static bool smtp_item(struct static_parse *p, char *item, cache_smtp_server *sv)
{
    char *f[4], host[DOMAIN_MAX];
    int nf = smtp_fields(item, f);

    if (nf < 2 || !domain_normalize(f[0], strlen(f[0]), host, NULL, 0) ||
        !parse_uint(f[1], 65535, &sv->port) || sv->port == 0)
        return false;
    sv->priority = 10;
    if (nf >= 3 && !parse_uint(f[2], 65535, &sv->priority))
        return false;
    if (nf == 4 && strcasecmp(f[3], "tls") != 0)
        return false;
    sv->tls = nf == 4;
    return (sv->host = keep_str(p->s, host)) != NULL;
}

/* in_smtp - "host:port[:priority[:tls]], ..." */
static void in_smtp(struct static_parse *p, const char *v, int line)
{
    while (*v) {
        char item[300], shown[300];
        cache_smtp_server sv;
        size_t n;
        v += strspn(v, ", \t");
        if ((n = strcspn(v, ", \t")) == 0)
            break;
        snprintf(item, sizeof(item), "%.*s", (int)n, v);
        snprintf(shown, sizeof(shown), "%s", item);
        v += n;
        if (n >= sizeof(item) - 1 || !smtp_item(p, item, &sv)) {
            report(p, line, "smtp server '%s': expected host:port[:priority[:tls]]", shown);
            continue;
        }
        if (p->in->n_smtp >= CACHE_MAX_SMTP) {
            report(p, line, "more than %d SMTP servers in [%s]", CACHE_MAX_SMTP, p->section);
            return;
        }
        if (p->in->smtp == NULL &&
            (p->in->smtp = calloc(CACHE_MAX_SMTP, sizeof(*p->in->smtp))) == NULL)
            return;
        p->in->smtp[p->in->n_smtp++] = sv;
    }
}

/* fwd_local - the local part of a rule: "*" or dot-atom characters, lowercased */
static bool fwd_local(const char *v, size_t ln, char *local, size_t size)
{
    static const char atext[] = "!#$%&'*+-/=?^_`{|}~.";

    if (ln == 0 || ln >= size)
        return false;
    for (size_t i = 0; i < ln; i++) {
        if (!isalnum((unsigned char)v[i]) && !strchr(atext, v[i]))
            return false;
        local[i] = (char)tolower((unsigned char)v[i]);
    }
    local[ln] = '\0';
    return true;
}

/* fwd_add - append one rule */
static bool fwd_add(struct static_parse *p, const char *local, const char *dest, bool active,
                    bool verified)
{
    cache_fwd_rule *r = realloc(p->in->rules, (p->in->n_rules + 1) * sizeof(*r));

    if (r == NULL)
        return false;
    p->in->rules = r;
    r += p->in->n_rules++;
    r->ref = "";
    r->localpart = keep_str(p->s, local);
    r->destination = keep_str(p->s, dest);
    r->active = active;
    r->verified = verified;
    return true;
}

/* in_forward - "localpart -> dest[, dest] [inactive] [unverified]" */
static void in_forward(struct static_parse *p, const char *v, int line)
{
    const char *arrow = strstr(v, "->");
    char local[80], rest[1024], why[ERRBUF_MAX], *save = NULL, *tok;
    bool active = true, verified = true;
    size_t ln, dests = 0;

    if (arrow == NULL) {
        report(p, line, "forward = %s: expected 'localpart -> destination'", v);
        return;
    }
    for (ln = (size_t)(arrow - v); ln && isspace((unsigned char)v[ln - 1]); ln--)
        ;
    if (!fwd_local(v, ln, local, sizeof(local))) {
        report(p, line, "forward = %s: bad local part (a local part or *)", v);
        return;
    }
    snprintf(rest, sizeof(rest), "%s", arrow + 2);
    for (tok = strtok_r(rest, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        if (strcmp(tok, "inactive") == 0)
            active = false;
        else if (strcmp(tok, "unverified") == 0)
            verified = false;
    }
    snprintf(rest, sizeof(rest), "%s", arrow + 2);
    for (tok = strtok_r(rest, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        if (!strcmp(tok, "inactive") || !strcmp(tok, "unverified"))
            continue;
        dests++;
        if (!addr_is_valid(tok, why, sizeof(why))) {
            report(p, line, "forward destination '%s': %s", tok, why);
            continue;
        }
        if (p->in->n_rules >= CACHE_MAX_RULES) {
            report(p, line, "more than %d forward rules in [%s]", CACHE_MAX_RULES, p->section);
            return;
        }
        if (!fwd_add(p, local, tok, active, verified))
            return;
    }
    if (dests == 0)
        report(p, line, "forward = %s: no destination address", v);
}

/* url_ok - an http(s) URL with a host, no white space or control characters */
static bool url_ok(const char *v)
{
    const char *h = !strncmp(v, "https://", 8) ? v + 8 : !strncmp(v, "http://", 7) ? v + 7 : NULL;

    if (h == NULL || *h == '\0' || *h == '/')
        return false;
    for (; *v; v++)
        if ((unsigned char)*v <= ' ' || (unsigned char)*v >= 0x7f)
            return false;
    return true;
}

/* inbound_key - one key of an [inbound ...] section */
static void inbound_key(struct static_parse *p, const char *name, const char *v, int line)
{
    bool b;
    int d;

    if (strcmp(name, "status") == 0) {
        if (strcasecmp(v, "active") && strcasecmp(v, "disabled"))
            report(p, line, "status = %s: expected active or disabled", v);
        p->in->active = strcasecmp(v, "active") == 0;
    } else if (strcmp(name, "delivery") == 0) {
        if ((d = cache_delivery_parse(v)) < 0)
            report(p, line, "delivery = %s: expected smtp, webhook or forward", v);
        else
            p->in->delivery = (uint8_t)d;
    } else if (strcmp(name, "smtp_servers") == 0) {
        in_smtp(p, v, line);
    } else if (strcmp(name, "webhook_url") == 0) {
        if (!url_ok(v))
            report(p, line, "webhook_url = %s: expected an http(s) URL", v);
        p->in->webhook_url = keep_str(p->s, v);
    } else if (strcmp(name, "webhook_method") == 0) {
        if (strcmp(v, "POST") && strcmp(v, "PUT"))
            report(p, line, "webhook_method = %s: expected POST or PUT", v);
        p->in->webhook_method = keep_str(p->s, v);
    } else if (strcmp(name, "forward") == 0) {
        in_forward(p, v, line);
    } else if (strcmp(name, "forward_dns_verified") == 0) {
        if (!parse_bool(v, &b)) {
            report(p, line, "%s = %s: expected yes or no", name, v);
            return;
        }
        p->in->fwd_mx_verified = p->in->fwd_dkim_verified = b;
        p->in->fwd_spf_verified = p->in->fwd_dmarc_verified = b;
    } else {
        report(p, line, "unknown key '%s' in [%s]", name, p->section);
    }
}

/* scalar_once - false (reported) when a single-valued key repeats or continues */
static bool scalar_once(struct static_parse *p, const char *name, int line, bool continuation)
{
    for (size_t i = 0; i < STATIC_NSCALARS; i++) {
        if (strcmp(name, static_scalars[i]) != 0)
            continue;
        if (continuation) {
            report(p, line,
                   "%s: only bcc, bcc_pending, smtp_servers and forward continue on "
                   "indented lines",
                   name);
            return false;
        }
        if (p->seen[i]) {
            report(p, line, "%s given twice in [%s] (first on line %d)", name, p->section,
                   p->seen[i]);
            return false;
        }
        p->seen[i] = line;
    }
    return true;
}

static void static_handler(void *user, const char *section, const char *name, const char *value,
                           int line, bool continuation)
{
    struct static_parse *p = user;

    (void)section; /* start_section saw it first */
    if (!p->in_section) {
        report(p, line, "%s: key outside an [outbound DOMAIN] or [inbound DOMAIN] section", name);
        return;
    }
    if (p->skip || !scalar_once(p, name, line, continuation))
        return;
    if (p->out)
        outbound_key(p, name, value, line);
    else if (p->in)
        inbound_key(p, name, value, line);
}

/* static_parse - the whole file, or NULL (with file:line reasons in rep) */
static_domains *static_parse(const char *path, int64_t now, conf_report *rep)
{
    struct static_parse p;
    int errors = rep->errors;

    memset(&p, 0, sizeof(p));
    if ((p.s = calloc(1, sizeof(*p.s))) == NULL)
        return NULL;
    p.rep = rep;
    p.path = path;
    p.now = now;
    if (!inifile_parse_file(path, "static domains file", STATIC_FILE_MAX, static_handler,
                            start_section, &p, rep) ||
        rep->errors != errors) {
        static_free(p.s);
        return NULL;
    }
    return p.s;
}

void static_free(static_domains *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_in; i++) {
        free(s->in[i].e.smtp);
        free(s->in[i].e.rules);
    }
    for (size_t i = 0; i < s->n_strings; i++)
        free(s->strings[i]);
    free(s->strings);
    free(s->out);
    free(s->in);
    free(s);
}

size_t static_count_outbound(const static_domains *s)
{
    return s->n_out;
}

size_t static_count_inbound(const static_domains *s)
{
    return s->n_in;
}

/* static_store - replace the static provider's data in one transaction */
int static_store(cache *c, const static_domains *s, int64_t now)
{
    cache_meta m;

    memset(&m, 0, sizeof(m));
    m.last_attempt = m.last_success = now;
    m.n_outbound = (uint32_t)s->n_out;
    m.n_inbound = (uint32_t)s->n_in;
    return cache_replace_provider(c, PROV_STATIC, s->out, s->n_out, s->in, s->n_in, &m);
}

/* static_refresh - parse and store; on a bad file nothing changes and meta records why */
int static_refresh(cache *c, const char *path, int64_t now, conf_report *rep)
{
    size_t before = rep->text.len;
    static_domains *s = static_parse(path, now, rep);
    cache_meta m;
    int rc;

    if (s == NULL) {
        const char *first = buf_cstr(&rep->text) + before; /* this file's first problem */
        cache_get_meta(c, PROV_STATIC, &m);
        m.last_attempt = now;
        m.failures++;
        snprintf(m.last_error, sizeof(m.last_error), "%.*s", (int)strcspn(first, "\n"), first);
        cache_put_meta(c, PROV_STATIC, &m);
        return CACHE_ERROR;
    }
    rc = static_store(c, s, now);
    if (rc == CACHE_OK)
        log_info("static: loaded %zu outbound and %zu inbound domains from %s", s->n_out, s->n_in,
                 path);
    static_free(s);
    return rc;
}
