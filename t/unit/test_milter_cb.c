/*
 * test_milter_cb.c - the milter's callbacks through the mlt wrapper layer
 *
 * The callbacks are driven as libmilter would drive them, with mlt.c in
 * test mode recording every action; this file stands in for main.c
 * (configuration bundle and cache handle). The cache is filled from
 * conf/demo/domains.conf by sendgatectl, as an operator would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/token.h"
#include "milter/milter.h"
#include "milter/mlt.h"
#include "milter/tracking.h"
#include "t/lib/tap.h"

static milter_config *cur;
static cache *ca;

milter_config *milter_config_get(void)
{
    cur->refcnt++;
    return cur;
}

void milter_config_put(milter_config *mc)
{
    if (--mc->refcnt > 0)
        return;
    netlist_free(&mc->internal);
    tracking_state_free(mc->tracking);
    conf_unref(mc->cfg);
    free(mc);
}

cache *milter_cache(void)
{
    return ca;
}

static SMFICTX *ctx = (SMFICTX *)&cur; /* never dereferenced in test mode */

static sfsistat connect_from(const char *ip)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &sa.sin_addr);
    return milter_connect(ctx, "client.test", (_SOCK_ADDR *)&sa);
}

static sfsistat envfrom(const char *a)
{
    char buf_[300];
    char *argv[] = {buf_, NULL};
    snprintf(buf_, sizeof(buf_), "<%s>", a);
    return milter_envfrom(ctx, argv);
}

static sfsistat envrcpt(const char *a)
{
    char buf_[300];
    char *argv[] = {buf_, NULL};
    snprintf(buf_, sizeof(buf_), "<%s>", a);
    return milter_envrcpt(ctx, argv);
}

static buf actions; /* the action lines, as sendgate-milter -t prints them */

static void begin(const char *qid)
{
    mlt_test_begin();
    buf_reset(&actions);
    mlt_test_capture(&actions);
    mlt_test_macro("i", qid);
}

/* find_edit - a recorded edit: header kinds by name, recipients ('r') by address */
static const mlt_edit *find_edit(char kind, const char *name)
{
    mlt_record *r = mlt_test_record();
    for (size_t i = 0; i < r->n_edits; i++) {
        const char *key = kind == 'r' ? r->edits[i].value : r->edits[i].name;
        if (r->edits[i].kind == kind && key && strcmp(key, name) == 0)
            return &r->edits[i];
    }
    return NULL;
}

/* one message: From: header domain, body; returns the end-of-message status */
static sfsistat message(const char *from_hdr, const char *ctype, const char *body, sfsistat *eoh)
{
    char h[300];
    snprintf(h, sizeof(h), "News <%s>", from_hdr);
    milter_data(ctx);
    milter_header_cb(ctx, "From", h);
    milter_header_cb(ctx, "Subject", "unit");
    if (ctype) {
        milter_header_cb(ctx, "MIME-Version", "1.0");
        milter_header_cb(ctx, "Content-Type", (char *)ctype);
    }
    *eoh = milter_eoh(ctx);
    sfsistat b = milter_body_cb(ctx, (unsigned char *)body, strlen(body));
    (void)b;
    return milter_eom(ctx);
}

int main(void)
{
    char dir[] = "/tmp/sgtest-mcb.XXXXXX", path[512], key[512], cmd[2048], err[256];
    char cwd[512];
    const char *top = getenv("SG_TOP") ? getenv("SG_TOP") : getcwd(cwd, sizeof(cwd)); /* absolute */
    const char *bld = getenv("SG_BUILD");
    conf_report rep;
    sfsistat eoh;

    log_open("test_milter_cb", LOG_DEST_STDERR, LOG_MAIL);
    if (!mkdtemp(dir) || !bld)
        return tap_ok(false, "SG_BUILD set (make check) and a scratch directory"), tap_done();
    snprintf(key, sizeof(key), "%s/token.key", dir);
    tap_ok(token_keyfile_write(key, 1, err, sizeof(err)), "token key written");
    snprintf(path, sizeof(path), "%s/sendgate.conf", dir);
    FILE *f = fopen(path, "w");
    fprintf(f,
            "[general]\ncache_path = %s/cache\nstate_dir = %s\n[static]\nenabled = yes\nfile = "
            "%s/conf/demo/domains.conf\n"
            "[tracking]\nkey_files = %s\n[handling]\ndemo_recipients = owner@trial.example\n",
            dir, dir, top, key);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "%s/bin/sendgatectl -c %s cache load >/dev/null", bld, path);
    tap_is_int(system(cmd), 0, "cache loaded from conf/demo/domains.conf");

    conf_report_init(&rep);
    conf *cfg = conf_load(path, &rep);
    conf_report_free(&rep);
    cur = calloc(1, sizeof(*cur));
    cur->cfg = cfg;
    cur->refcnt = 1;
    tap_ok(cfg && netlist_parse(&cur->internal, &cfg->milter.internal_networks, err, sizeof(err)),
           "configuration bundle");
    cur->tracking = tracking_state_new(cfg, err, sizeof(err));
    tap_ok(cur->tracking != NULL, "token keys loaded");
    cache_opts o = {cfg->general.cache_map_size, cfg->general.cache_max_map_size, 126, 0};
    snprintf(path, sizeof(path), "%s/cache", dir);
    ca = cache_open(path, CACHE_RDONLY, &o, err, sizeof(err));
    tap_ok(ca != NULL, "cache opened read-only");
    mlt_testmode = true;

    /* negotiation: only what sendgate uses */
    {
        unsigned long f0 = 0x1ff, f1 = 0x1fffff, p0, p1, p2, p3;
        begin("Q0");
        milter_noreply = true; /* as over a unix: socket */
        tap_is_int(milter_negotiate(ctx, f0, f1, 0, 0, &p0, &p1, &p2, &p3), SMFIS_CONTINUE,
                   "negotiate");
        tap_ok((p0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT_PAR)) ==
                               (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY |
                                SMFIF_ADDRCPT_PAR) &&
                       !(p0 & (SMFIF_CHGFROM | SMFIF_QUARANTINE)),
               "actions: headers, body, recipients with ESMTP args; not CHGFROM or QUARANTINE");
        tap_ok((p1 & (SMFIP_NOHELO | SMFIP_SKIP | SMFIP_NR_HDR)) ==
                               (SMFIP_NOHELO | SMFIP_SKIP | SMFIP_NR_HDR) &&
                       !(p1 & (SMFIP_NOBODY | SMFIP_NODATA | SMFIP_NOHDRS)),
               "steps: no HELO, SKIP, no reply to headers; body, DATA and headers still sent");
        tap_is_int(milter_header_cb(ctx, "X", "y"), SMFIS_NOREPLY,
                   "a header gets no reply when agreed");
        milter_close(ctx);
        milter_noreply = false; /* as over TCP */
        milter_negotiate(ctx, f0, f1, 0, 0, &p0, &p1, &p2, &p3);
        tap_ok(!(p1 & (SMFIP_NR_HDR | SMFIP_NR_DATA | SMFIP_NR_EOH)),
               "over TCP every step is answered (no Nagle stalls on the MTA's side)");
        tap_is_int(milter_header_cb(ctx, "X", "y"), SMFIS_CONTINUE, "and a header gets CONTINUE");
        milter_close(ctx);
        mlt_test_end();
    }

    /* an inbound connection is left alone */
    begin("Q1");
    tap_is_int(connect_from("192.0.2.7"), SMFIS_CONTINUE,
               "unknown client: connect continues (auth may follow)");
    tap_is_int(envfrom("hello@unverified.example"), SMFIS_ACCEPT,
               "no auth, not internal, not an outbound daemon: accepted untouched at MAIL FROM");
    milter_close(ctx);
    mlt_test_end();

    /* blocked domain: refused at end of message with the provider's reason */
    begin("Q2");
    connect_from("127.0.0.1");
    tap_is_int(envfrom("bounce@shop.example"), SMFIS_CONTINUE,
               "internal client: MAIL FROM continues");
    tap_is_int(envrcpt("customer@example.org"), SMFIS_CONTINUE, "RCPT TO continues");
    tap_is_int(message("hello@unverified.example", NULL, "hi\r\n", &eoh), SMFIS_REJECT,
               "blocked From: domain: SMFIS_REJECT at end of message");
    tap_is_str(mlt_test_record()->rcode, "550", "550");
    tap_is_str(mlt_test_record()->xcode, "5.7.1", "5.7.1");
    tap_ok(strstr(buf_cstr(&mlt_test_record()->reply),
                  "unverified.example is not allowed to send") != NULL,
           "the reply names the domain: %s", buf_cstr(&mlt_test_record()->reply));
    tap_ok(mlt_test_record()->n_edits == 0 && !mlt_test_record()->body_replaced,
           "nothing changed on a refused message");
    tap_ok(strstr(buf_cstr(&actions), "REJECT 550 5.7.1 domain unverified.example") != NULL,
           "the action line: REJECT 550 5.7.1 ...");
    milter_close(ctx);
    mlt_test_end();

    /* under review: 451 4.7.1 */
    begin("Q3");
    connect_from("127.0.0.1");
    envfrom("a@review.example");
    envrcpt("customer@example.org");
    tap_is_int(message("a@review.example", NULL, "hi\r\n", &eoh), SMFIS_TEMPFAIL,
               "pending domain: SMFIS_TEMPFAIL");
    tap_is_str(mlt_test_record()->xcode, "4.7.1", "4.7.1");
    milter_close(ctx);
    mlt_test_end();

    /* allowed: verified BCC added with NOTIFY=NEVER, pending not; the body rewritten */
    begin("Q4");
    mlt_test_macro("{auth_authen}", "alice");
    connect_from("192.0.2.7");
    tap_is_int(envfrom("news@shop.example"), SMFIS_CONTINUE, "authenticated client: outgoing");
    envrcpt("customer@example.org");
    tap_is_int(message("news@shop.example", "text/html; charset=utf-8",
                       "<html><body><a href=\"https://example.org/x\">x</a></body></html>\r\n",
                       &eoh),
               SMFIS_CONTINUE, "allowed domain: continues at end of message");
    tap_ok(find_edit('r', "<archive@shop.example>") &&
                   strstr(buf_cstr(&actions), "ADDRCPT <archive@shop.example> NOTIFY=NEVER\n") !=
                           NULL,
           "verified BCC added with NOTIFY=NEVER");
    tap_ok(find_edit('r', "<audit@shop.example>") == NULL, "pending BCC not added");
    tap_ok(find_edit('a', "Bcc") == NULL, "no Bcc: header");
    tap_ok(find_edit('a', "List-Unsubscribe") && find_edit('a', "X-Sendgate-Tracked"),
           "List-Unsubscribe and the marker header added");
    tap_ok(mlt_test_record()->body_replaced && strstr(buf_cstr(&mlt_test_record()->body),
                                                      "https://links.shop.example/c/") != NULL,
           "the body was replaced, its link on the tracking host");
    milter_close(ctx);
    mlt_test_end();

    /* a domain without tracking: the body is skipped */
    begin("Q5");
    connect_from("127.0.0.1");
    envfrom("x@trial.example");
    envrcpt("owner@trial.example");
    milter_data(ctx);
    milter_header_cb(ctx, "From", "x@trial.example");
    milter_eoh(ctx);
    tap_is_int(milter_body_cb(ctx, (unsigned char *)"hi\r\n", 4), SMFIS_SKIP,
               "no tracking for the domain: SMFIS_SKIP, the MTA stops sending the body");
    tap_is_int(milter_eom(ctx), SMFIS_CONTINUE, "and the message continues");
    milter_close(ctx);
    mlt_test_end();

    cache_close(ca);
    milter_config_put(cur);
    buf_free(&actions);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", dir);
    return tap_done();
}
