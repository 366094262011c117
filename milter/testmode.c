/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testmode.c - the offline driver (see testmode.h)
 */
#include "milter/testmode.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "milter/callbacks.h"
#include "milter/mlt.h"

typedef struct tm_header {
    char *name;
    char *value; /* folded lines joined with "\n", as Postfix passes them */
    bool deleted;
} tm_header;

typedef struct tm_message {
    buf raw;
    bool crlf; /* the input used CRLF */
    tm_header *hdrs;
    size_t n_hdrs;
    const char *body; /* into raw */
    size_t body_len;
} tm_message;

bool testmode_add_rcpt(testmode_args *t, const char *rcpt)
{
    char **v = realloc(t->rcpts, (t->n_rcpts + 1) * sizeof(*v));

    if (v == NULL)
        return false;
    t->rcpts = v;
    t->rcpts[t->n_rcpts++] = (char *)rcpt;
    return true;
}

void testmode_free(testmode_args *t)
{
    free(t->rcpts);
    t->rcpts = NULL;
}

/* tm_read - the whole file */
static bool tm_read(const char *path, buf *b)
{
    FILE *fp = fopen(path, "rb");
    char chunk[65536];
    size_t n;

    if (fp == NULL)
        return false;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_append(b, chunk, n);
    fclose(fp);
    return !buf_failed(b);
}

/* tm_line_end - end of the line starting at p (at the LF, or the end) */
static const char *tm_line_end(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));

    return nl ? nl : end;
}

/* tm_add_header - one field: name and value (leading white space after the colon dropped) */
static bool tm_add_header(tm_message *m, const char *start, const char *end)
{
    const char *colon = memchr(start, ':', (size_t)(end - start)), *v;
    tm_header *h, *nv = realloc(m->hdrs, (m->n_hdrs + 1) * sizeof(*nv));
    buf val = BUF_INIT;

    if (nv == NULL)
        return false;
    m->hdrs = nv;
    if (colon == NULL)
        return true; /* not a header field: ignored, as an MTA would refuse it */
    for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
        ;
    for (const char *p = v; p < end; p++) /* CRLF folding becomes LF */
        if (!(*p == '\r' && p + 1 < end && p[1] == '\n'))
            buf_putc(&val, *p);
    h = &m->hdrs[m->n_hdrs++];
    h->name = strndup(start, (size_t)(colon - start));
    h->value = buf_steal(&val, NULL);
    h->deleted = false;
    return h->name && h->value;
}

/* tm_parse - header fields (with their continuation lines) and the body */
static bool tm_parse(tm_message *m)
{
    const char *p = m->raw.data ? m->raw.data : "", *end = p + m->raw.len, *field = NULL;

    m->crlf = memmem(p, m->raw.len, "\r\n", 2) != NULL;
    while (p < end) {
        const char *le = tm_line_end(p, end);
        size_t ll = (size_t)(le - p) - (le > p && le[-1] == '\r' ? 1 : 0);
        if (ll == 0) { /* the blank line */
            if (field &&
                !tm_add_header(m, field,
                               p - (p[-1] == '\n' ? (p - 1 > field && p[-2] == '\r' ? 2 : 1) : 0)))
                return false;
            p = le < end ? le + 1 : end;
            m->body = p;
            m->body_len = (size_t)(end - p);
            return true;
        }
        if ((*p == ' ' || *p == '\t') && field) {
            p = le < end ? le + 1 : end;
            continue;
        }
        if (field &&
            !tm_add_header(m, field,
                           p - (p[-1] == '\n' ? (p - 1 > field && p[-2] == '\r' ? 2 : 1) : 0)))
            return false;
        field = p;
        p = le < end ? le + 1 : end;
    }
    if (field && !tm_add_header(m, field, end))
        return false;
    m->body = end;
    m->body_len = 0;
    return true;
}

static void tm_free(tm_message *m)
{
    for (size_t i = 0; i < m->n_hdrs; i++) {
        free(m->hdrs[i].name);
        free(m->hdrs[i].value);
    }
    free(m->hdrs);
    buf_free(&m->raw);
}

/* tm_crlf - the body as an MTA hands it to a milter: CRLF line ends */
static void tm_crlf(const char *p, size_t n, buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            buf_putc(out, '\r');
        buf_putc(out, p[i]);
    }
}

/* tm_emit - bytes to stdout in the input's line-ending style */
static void tm_emit(const tm_message *m, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!m->crlf && p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
            continue;
        if (m->crlf && p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            putchar('\r');
        putchar(p[i]);
    }
}

/* tm_apply_edits - header changes the callbacks made, onto the parsed message */
static void tm_print(tm_message *m, const mlt_record *r)
{
    const char *eol = m->crlf ? "\r\n" : "\n";

    for (size_t i = 0; i < r->n_edits; i++) {
        const mlt_edit *e = &r->edits[i];
        int seen = 0;
        if (e->kind != 'c')
            continue;
        for (size_t j = 0; j < m->n_hdrs; j++) {
            if (m->hdrs[j].deleted || strcasecmp(m->hdrs[j].name, e->name) != 0 ||
                ++seen != e->index)
                continue;
            if (e->value == NULL) {
                m->hdrs[j].deleted = true;
            } else {
                free(m->hdrs[j].value);
                m->hdrs[j].value = strdup(e->value);
            }
            break;
        }
    }
    for (size_t j = 0; j < m->n_hdrs; j++)
        if (!m->hdrs[j].deleted) {
            printf("%s: ", m->hdrs[j].name);
            tm_emit(m, m->hdrs[j].value, strlen(m->hdrs[j].value));
            fputs(eol, stdout);
        }
    for (size_t i = 0; i < r->n_edits; i++)
        if (r->edits[i].kind == 'a') {
            printf("%s: ", r->edits[i].name);
            tm_emit(m, r->edits[i].value, strlen(r->edits[i].value));
            fputs(eol, stdout);
        }
    fputs(eol, stdout);
    if (r->body_replaced)
        tm_emit(m, r->body.data ? r->body.data : "", r->body.len);
    else
        fwrite(m->body, 1, m->body_len, stdout);
}

/* tm_connect_addr - the client's sockaddr for the connect callback */
static bool tm_connect_addr(const char *ip, struct sockaddr_storage *ss)
{
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(40000);
        return true;
    }
    if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(40000);
        return true;
    }
    return false;
}

/* tm_session - the SMTP transaction through the callbacks; true when delivered */
static bool tm_session(SMFICTX *ctx, const testmode_args *t, tm_message *m)
{
    char from[ADDR_MAX + 2], rcpt[ADDR_MAX + 2];
    char *argv[2] = {from, NULL};
    buf body = BUF_INIT;
    size_t accepted = 0;
    sfsistat rc;

    snprintf(from, sizeof(from), "<%s>", t->from ? t->from : "");
    if ((rc = milter_envfrom(ctx, argv)) == SMFIS_ACCEPT)
        return true; /* not outgoing: untouched */
    if (rc != SMFIS_CONTINUE)
        return false;
    for (size_t i = 0; i < t->n_rcpts; i++) {
        snprintf(rcpt, sizeof(rcpt), "<%s>", t->rcpts[i]);
        argv[0] = rcpt;
        if (milter_envrcpt(ctx, argv) == SMFIS_CONTINUE)
            accepted++;
    }
    if (accepted == 0 || milter_data(ctx) != SMFIS_CONTINUE)
        return false;
    for (size_t i = 0; i < m->n_hdrs; i++)
        if (milter_header_cb(ctx, m->hdrs[i].name, m->hdrs[i].value) != SMFIS_CONTINUE)
            return false;
    if (milter_eoh(ctx) != SMFIS_CONTINUE)
        return false;
    tm_crlf(m->body, m->body_len, &body);
    for (size_t off = 0; off < body.len || off == 0; off += 65536) {
        size_t n = body.len - off > 65536 ? 65536 : body.len - off;
        rc = milter_body_cb(ctx, (unsigned char *)(body.data ? body.data : "") + off, n);
        if (rc == SMFIS_SKIP || body.len == 0)
            break;
        if (rc != SMFIS_CONTINUE) {
            buf_free(&body);
            return false;
        }
    }
    buf_free(&body);
    return mlt_test_eom(ctx, milter_eom) == SMFIS_CONTINUE;
}

/* testmode_run - one message through the callbacks */
int testmode_run(const testmode_args *t)
{
    static int dummy;
    SMFICTX *ctx = (SMFICTX *)&dummy; /* never dereferenced in test mode */
    struct sockaddr_storage sa;
    tm_message m;
    bool delivered, refused;
    const char *ip = t->client_ip ? t->client_ip : "192.0.2.1";

    memset(&m, 0, sizeof(m));
    if (t->from == NULL || t->n_rcpts == 0) {
        fprintf(stderr, "sendgate-milter: -t needs --from and at least one --rcpt\n");
        return EX_USAGE;
    }
    if (!tm_read(t->message, &m.raw) || !tm_parse(&m)) {
        fprintf(stderr, "sendgate-milter: cannot read %s\n", t->message);
        tm_free(&m);
        return EX_NOINPUT;
    }
    if (!tm_connect_addr(ip, &sa)) {
        fprintf(stderr, "sendgate-milter: --client-ip %s: not an IP address\n", ip);
        tm_free(&m);
        return EX_USAGE;
    }
    mlt_test_begin();
    mlt_test_macro("i", t->queue_id ? t->queue_id : "TESTQID");
    if (t->auth)
        mlt_test_macro("{auth_authen}", t->auth);
    if (t->daemon_name)
        mlt_test_macro("{daemon_name}", t->daemon_name);
    milter_connect(ctx, "client.test", (_SOCK_ADDR *)&sa);
    delivered = tm_session(ctx, t, &m);
    refused = mlt_test_record()->mta_failed;
    if (refused) /* what Postfix answers when a reply of the milter is refused */
        mlt_test_action("TEMPFAIL %s", MLT_MTA_REPLY);
    else if (delivered && mlt_test_record()->body_replaced)
        mlt_test_action("REPLBODY %zu", mlt_test_record()->body.len);
    if (delivered && !refused) {
        mlt_test_action("ACCEPT");
        tm_print(&m, mlt_test_record());
    }
    milter_close(ctx);
    fflush(stdout);
    mlt_test_end();
    tm_free(&m);
    return refused || mlt_test_record()->lib_refused ? EX_SOFTWARE : 0;
}
