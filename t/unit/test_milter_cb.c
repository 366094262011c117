/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_milter_cb.c - the milter's callbacks through the mlt wrapper layer
 *
 * The callbacks are driven as libmilter would drive them, with mlt.c in
 * test mode recording every action; the running state (configuration
 * bundle, cache handle) is set up through state.h, as main.c sets it up.
 * The cache is filled from conf/demo/domains.conf by sendgatectl, as an
 * operator would.
 *
 * The wrapper itself refuses what libmilter and Postfix refuse (changes
 * outside end of message; anything between two REPLBODY pieces), and a
 * rewritten body of several MiB goes through it, as it goes through
 * Postfix (t/35-milter-large.t).
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
#include "milter/callbacks.h"
#include "milter/mlt.h"
#include "milter/msg.h"
#include "milter/state.h"
#include "t/lib/tap.h"

static int ctx_dummy;
static SMFICTX *ctx = (SMFICTX *)&ctx_dummy; /* never dereferenced in test mode */

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
    /* in pieces of at most 64 KiB, as Postfix sends it */
    for (size_t off = 0, len = strlen(body); off < len; off += 65536)
        if (milter_body_cb(ctx, (unsigned char *)body + off,
                           len - off > 65536 ? 65536 : len - off) != SMFIS_CONTINUE)
            break;
    return mlt_test_eom(ctx, milter_eom);
}

/* eom_script - an end-of-message callback sending the replies named in script */
static const char *script;
static int script_rc[64];

static sfsistat eom_script(SMFICTX *c)
{
    static const unsigned char piece[] = "new body\r\n";

    for (size_t i = 0; script[i] && i < 64; i++) {
        switch (script[i]) {
        case 'b':
            script_rc[i] = mlt_replacebody(c, piece, sizeof(piece) - 1);
            break;
        case 'p':
            script_rc[i] = mlt_progress(c);
            break;
        case 'h':
            script_rc[i] = mlt_addheader(c, "X-Test", "1");
            break;
        case 'c':
            script_rc[i] = mlt_chgheader(c, "Subject", 1, "changed");
            break;
        case 'r':
            script_rc[i] = mlt_addrcpt(c, "<bcc@example.org>", NULL);
            break;
        default:
            script_rc[i] = mlt_delrcpt(c, "<x@example.org>");
            break;
        }
    }
    return SMFIS_CONTINUE;
}

/* run_script - s through the wrapper; the index of the first refused reply, -1 if none */
static int run_script(const char *s)
{
    begin("QS");
    script = s;
    memset(script_rc, 0, sizeof(script_rc));
    mlt_test_eom(ctx, eom_script);
    for (int i = 0; s[i]; i++)
        if (script_rc[i] != MI_SUCCESS)
            return i;
    return -1;
}

/* big_html - a newsletter body of about len bytes, a link in every line */
static char *big_html(size_t len)
{
    buf b = BUF_INIT;

    buf_append_str(&b, "<html><body>\r\n");
    for (unsigned i = 0; b.len < len; i++)
        buf_printf(&b,
                   "<p>Item %u: <a href=\"https://example.org/item/%u\">offer</a> lorem ipsum "
                   "dolor sit amet</p>\r\n",
                   i, i);
    buf_append_str(&b, "</body></html>\r\n");
    return buf_steal(&b, NULL);
}

/* fields - one message made of these header fields (name, value pairs); eom status */
static sfsistat fields(const char *const *nv, size_t n)
{
    milter_data(ctx);
    for (size_t i = 0; i + 1 < n; i += 2)
        milter_header_cb(ctx, (char *)nv[i], (char *)nv[i + 1]);
    milter_eoh(ctx);
    milter_body_cb(ctx, (unsigned char *)"hi\r\n", 4);
    return mlt_test_eom(ctx, milter_eom);
}

/* from_case - a transaction with these fields: eom status, reply in *reply */
static sfsistat from_case(const char *qid, const char *sender, const char *const *nv, size_t n,
                          const char **reply)
{
    sfsistat rc;

    begin(qid);
    connect_from("127.0.0.1");
    envfrom(sender);
    envrcpt("customer@example.org");
    rc = fields(nv, n);
    *reply = buf_cstr(&mlt_test_record()->reply);
    return rc;
}

static void from_end(void)
{
    milter_close(ctx);
    mlt_test_end();
}

/* every From: address judged, and what cannot be judged is a decision */
static void test_from(conf *cfg)
{
    static const char *const comment[] = {"From", "(x bad@unverified.example"};
    static const char *const two[] = {"From", "news@shop.example",     "Subject", "s",
                                      "from", "bad@unverified.example"};
    static const char *const none[] = {"Subject", "no From: here"};
    static const char *const group[] = {"From", "undisclosed-recipients:;"};
    static const char *const spaced[] = {"From ", "bad@unverified.example"};
    const char **many = calloc(2 * (MSG_MAX_HEADERS + 3), sizeof(*many));
    char names[MSG_MAX_HEADERS + 1][16];
    const char *reply;
    size_t n = 0;

    tap_is_int(from_case("F1", "news@shop.example", comment, 2, &reply), SMFIS_REJECT,
               "an unterminated comment: rejected");
    tap_is_str(reply, "cannot judge the From: header: unterminated comment", "the reply says why");
    tap_is_str(mlt_test_record()->rcode, "550", "550 (handling.unjudgeable_from = reject)");
    from_end();
    tap_is_int(from_case("F2", "news@shop.example", two, 6, &reply), SMFIS_REJECT,
               "a second From: field with a blocked domain: rejected");
    tap_ok(strstr(reply, "unverified.example is not allowed") != NULL, "for that domain: %s",
           reply);
    from_end();
    tap_is_int(from_case("F3", "news@shop.example", spaced, 2, &reply), SMFIS_REJECT,
               "a field named 'From ' is a From: field");
    from_end();
    for (size_t i = 0; i <= MSG_MAX_HEADERS; i++) {
        snprintf(names[i], sizeof(names[i]), "X-F%zu", i);
        many[n++] = names[i];
        many[n++] = "filler";
    }
    many[n++] = "From";
    many[n++] = "bad@unverified.example";
    tap_is_int(from_case("F4", "news@shop.example", many, n, &reply), SMFIS_REJECT,
               "From: after %d other fields: still judged", MSG_MAX_HEADERS + 1);
    tap_ok(strstr(reply, "unverified.example is not allowed") != NULL, "by its domain: %s", reply);
    from_end();
    many[n - 1] = "news@shop.example";
    tap_is_int(from_case("F5", "news@shop.example", many, n, &reply), SMFIS_CONTINUE,
               "an allowed From: after as many fields: accepted");
    tap_ok(find_edit('a', "List-Unsubscribe") == NULL && !mlt_test_record()->body_replaced,
           "and not rewritten (more fields than are kept for rewriting)");
    from_end();
    free(many);
    tap_is_int(from_case("F6", "news@shop.example", none, 2, &reply), SMFIS_REJECT,
               "no From: field: rejected, not judged by the envelope");
    tap_is_str(reply, "cannot judge the From: header: no From: field", "the reply says so");
    from_end();

    cfg->handling.unjudgeable_from = CONF_TEMPFAIL;
    tap_is_int(from_case("F7", "news@shop.example", comment, 2, &reply), SMFIS_TEMPFAIL,
               "unjudgeable_from = tempfail: SMFIS_TEMPFAIL");
    tap_is_str(mlt_test_record()->xcode, "4.7.1", "4.7.1");
    from_end();
    cfg->handling.unjudgeable_from = CONF_ACCEPT;
    tap_is_int(from_case("F8", "news@shop.example", comment, 2, &reply), SMFIS_CONTINUE,
               "unjudgeable_from = accept: the message goes on");
    from_end();
    cfg->handling.unjudgeable_from = CONF_REJECT;

    tap_is_int(from_case("F9", "bounce@unverified.example", group, 2, &reply), SMFIS_REJECT,
               "only an empty group: rejected");
    tap_is_str(reply, "cannot judge the From: header: no address in the From: field",
               "no address in the From: field");
    from_end();
    cfg->milter.from_fallback = MILTER_FALLBACK_ENVELOPE;
    tap_is_int(from_case("F10", "bounce@unverified.example", group, 2, &reply), SMFIS_REJECT,
               "from_fallback = envelope: the blocked envelope domain is judged instead");
    tap_ok(strstr(reply, "unverified.example is not allowed") != NULL, "%s", reply);
    from_end();
    tap_is_int(from_case("F11", "news@shop.example", group, 2, &reply), SMFIS_CONTINUE,
               "from_fallback = envelope: an allowed envelope domain passes");
    from_end();
    tap_is_int(from_case("F12", "news@shop.example", comment, 2, &reply), SMFIS_REJECT,
               "from_fallback = envelope never covers an unreadable From:");
    from_end();
    cfg->milter.from_fallback = MILTER_FALLBACK_NONE;
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
    milter_config *mc = cfg ? state_config_build(cfg, err, sizeof(err)) : NULL;
    tap_ok(mc != NULL, "configuration bundle%s%s", mc ? "" : ": ", mc ? "" : err);
    if (mc == NULL)
        return tap_done();
    tap_ok(mc->tracking != NULL, "token keys loaded");
    state_config_install(mc);
    tap_ok(state_cache() != NULL, "cache opened read-only");
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

    /* a link sendgate-trackd would refuse to redirect to is left as written */
    begin("Q4b");
    mlt_test_macro("{auth_authen}", "alice");
    connect_from("192.0.2.7");
    envfrom("news@shop.example");
    envrcpt("customer@example.org");
    tap_is_int(message("news@shop.example", "text/html; charset=utf-8",
                       "<html><body><a href=\"https://[::1/x\">a</a> <a "
                       "href=\"https://a@b@example.org/\">b</a> <a "
                       "href=\"https://example.org:99999/\">c</a> <a "
                       "href=\"https://example.org/ok\">d</a></body></html>\r\n",
                       &eoh),
               SMFIS_CONTINUE, "malformed destinations: the message continues");
    {
        const char *nb = buf_cstr(&mlt_test_record()->body);
        tap_ok(strstr(nb, "href=\"https://[::1/x\"") &&
                       strstr(nb, "href=\"https://a@b@example.org/\"") &&
                       strstr(nb, "href=\"https://example.org:99999/\""),
               "links trackd would answer with 404 (bad IPv6 literal, two @, bad port) stay as "
               "written");
        tap_ok(strstr(nb, "https://example.org/ok") == NULL &&
                       strstr(nb, "https://links.shop.example/c/") != NULL,
               "the well-formed link beside them is rewritten");
    }
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
    tap_is_int(mlt_test_eom(ctx, milter_eom), SMFIS_CONTINUE, "and the message continues");
    milter_close(ctx);
    mlt_test_end();

    /* the wrapper refuses what Postfix refuses: b = REPLBODY piece, p = progress,
       h = add header, c = change header, r = add recipient, d = delete recipient */
    tap_is_int(run_script("bbb"), -1, "REPLBODY pieces back to back: accepted");
    tap_ok(!mlt_test_record()->mta_failed && mlt_test_record()->body_pieces == 3,
           "the three pieces make the new body");
    tap_is_int(run_script("bbbbbbbbbbbbbbbbpb"), 17,
               "16 pieces, progress, a 17th piece (what apply_body once sent at 1 MiB): the "
               "17th is refused");
    tap_ok(mlt_test_record()->mta_failed && strcmp(mlt_test_record()->mta_why,
                                                   "body replacement requests can't "
                                                   "currently be mixed with other requests") == 0,
           "as Postfix refuses it: body replacement requests can't currently be mixed ...");
    tap_ok(strstr(buf_cstr(&actions), "MTA REFUSED REPLBODY: body replacement") != NULL,
           "the action line says MTA REFUSED REPLBODY");
    for (const char *k = "phcrd"; *k; k++) {
        char seq[4] = {'b', *k, 'b', 0};
        tap_is_int(run_script(seq), 2, "'%s': a piece after %s is refused", seq,
                   *k == 'p'   ? "progress"
                   : *k == 'h' ? "a header added"
                   : *k == 'c' ? "a header changed"
                   : *k == 'r' ? "a recipient added"
                               : "a recipient deleted");
        tap_ok(script_rc[1] == MI_SUCCESS && mlt_test_record()->mta_failed,
               "'%s': the reply in between went out and ended the body; the message is deferred",
               seq);
    }
    tap_is_int(run_script("bphbh"), 3,
               "after a refusal every later call fails too (Postfix dropped the milter)");
    tap_ok(script_rc[4] == MI_FAILURE, "the header after the refused piece failed as well");
    tap_is_int(run_script("prdhcbbb"), -1,
               "progress and every change before the body, then the pieces: accepted");
    tap_is_int(run_script("bbhcrdp"), -1,
               "changes and progress after a complete body: accepted, as Postfix accepts them");
    tap_ok(!mlt_test_record()->mta_failed && mlt_test_record()->body_pieces == 2,
           "and the body is the two pieces");
    begin("QO");
    tap_is_int(mlt_replacebody(ctx, (const unsigned char *)"x", 1), MI_FAILURE,
               "REPLBODY outside end of message: refused, as libmilter refuses it");
    tap_is_int(mlt_progress(ctx), MI_FAILURE, "progress too");
    tap_is_int(mlt_addheader(ctx, "X", "y"), MI_FAILURE, "a header too");
    tap_ok(mlt_test_record()->lib_refused == 3 && !mlt_test_record()->body_replaced &&
                   strstr(buf_cstr(&actions), "LIBMILTER REFUSED REPLBODY") != NULL,
           "counted and printed as LIBMILTER REFUSED");
    mlt_test_end();

    /* a rewritten body far over 1 MiB goes through the wrapper in one run */
    {
        char *html = big_html(3 * 1024 * 1024);
        begin("Q7");
        mlt_test_macro("{auth_authen}", "alice");
        connect_from("192.0.2.7");
        envfrom("news@shop.example");
        envrcpt("customer@example.org");
        tap_is_int(message("news@shop.example", "text/html; charset=utf-8", html, &eoh),
                   SMFIS_CONTINUE, "a 3 MiB newsletter: continues at end of message");
        mlt_record *r = mlt_test_record();
        tap_ok(!r->mta_failed && r->lib_refused == 0, "no reply refused by libmilter or Postfix");
        tap_ok(r->body_replaced && r->body.len > strlen(html) &&
                       r->body_pieces == (r->body.len + 65534) / 65535,
               "the new body (%zu bytes) went out as %u back-to-back pieces of 65535 bytes",
               r->body.len, r->body_pieces);
        tap_ok(strstr(buf_cstr(&r->body), "https://links.shop.example/c/") != NULL &&
                       r->body.len > 16 &&
                       memcmp(r->body.data + r->body.len - 16, "</body></html>\r\n", 16) == 0,
               "its links are rewritten and it is whole to the end");
        const char *a = buf_cstr(&actions), *pr = strstr(a, "PROGRESS\n");
        const char *rc = strstr(a, "ADDRCPT <archive@shop.example>");
        tap_ok(pr && rc && rc < pr && strstr(pr, "ADDHEADER List-Unsubscribe:") != NULL,
               "order: BCC recipient, progress (after the rewriting), headers, then the body");
        milter_close(ctx);
        mlt_test_end();
        free(html);
    }

    test_from(cfg);

    state_end();
    buf_free(&actions);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", dir);
    return tap_done();
}
