/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_codec.c - cache record encoding and decoding (cache/codec.c)
 *
 * A record the refresher wrote must come back field for field; a value
 * that was damaged in any way (cut anywhere, any byte changed, a header
 * or length or enum out of place) must decode as corrupt, or, where the
 * damage lands in text or in a field a reader may skip, as a record that
 * is still well-formed. It must never crash or read outside the value
 * (the test runs under ASan).
 */
#include <stdlib.h>
#include <string.h>

#include "cache/codec.h"
#include "t/lib/tap.h"

/* ---- sample records ---- */

static cache_out_entry out_e[PROV__COUNT];
static cache_in_entry in_e[PROV__COUNT];
static cache_smtp_server smtp[CACHE_MAX_SMTP];
static cache_fwd_rule rules[200];
static char rule_text[200][3][40];
static char bcc_text[CACHE_MAX_BCC][40];

static void sample_out(void)
{
    memset(out_e, 0, sizeof(out_e));
    out_e[0] = (cache_out_entry){.provider = PROV_STATIC,
                                 .send = SEND_ALLOWED,
                                 .open_tracking = true,
                                 .ref = "",
                                 .raw_status = "allowed",
                                 .reason = "allowed by the local static configuration",
                                 .tracking_host = "",
                                 .fetched_at = 0};
    out_e[1] = (cache_out_entry){.provider = PROV_JETEMAIL,
                                 .send = SEND_BLOCKED,
                                 .click_tracking = true,
                                 .unsubscribe = true,
                                 .ref = "4711",
                                 .raw_status = "dmarc_unverified",
                                 .reason = "DMARC record not verified",
                                 .tracking_host = "links.shop.example",
                                 .fetched_at = -1,
                                 .n_bcc = CACHE_MAX_BCC};
    for (int i = 0; i < CACHE_MAX_BCC; i++) {
        snprintf(bcc_text[i], sizeof(bcc_text[i]), "archive%d@shop.example", i);
        out_e[1].bcc[i].addr = bcc_text[i];
        out_e[1].bcc[i].verified = i % 3 != 0;
    }
    out_e[2] = (cache_out_entry){.provider = PROV_MAILTRAP,
                                 .send = SEND_DEMO,
                                 .open_tracking = true,
                                 .click_tracking = true,
                                 .unsubscribe = true,
                                 .ref = "b5f1c0de-uuid",
                                 .raw_status = "demo",
                                 .reason = "demo: owner only",
                                 .tracking_host = "t.mailtrap.example",
                                 .fetched_at = INT64_MAX,
                                 .n_bcc = 1};
    out_e[2].bcc[0] = (cache_bcc){"Owner@Shop.Example", true};
}

static void sample_in(void)
{
    memset(in_e, 0, sizeof(in_e));
    for (int i = 0; i < CACHE_MAX_SMTP; i++)
        smtp[i] = (cache_smtp_server){i % 2 ? "mx2.example.net" : "mx1.example.net",
                                      i == 0 ? 25 : 2500 + i, i * 10 - 20, i % 2 == 0};
    for (int i = 0; i < 200; i++) {
        snprintf(rule_text[i][0], 40, "rule-%03d", i);
        snprintf(rule_text[i][1], 40, i == 199 ? "*" : "user%d", i);
        snprintf(rule_text[i][2], 40, "dest%d@example.org", i);
        rules[i] = (cache_fwd_rule){rule_text[i][0], rule_text[i][1], rule_text[i][2], i % 2 == 0,
                                    i % 3 == 0};
    }
    in_e[0] = (cache_in_entry){.provider = PROV_STATIC,
                               .delivery = DELIVERY_SMTP,
                               .active = true,
                               .ref = "",
                               .webhook_url = "",
                               .webhook_method = "",
                               .n_smtp = CACHE_MAX_SMTP,
                               .smtp = smtp,
                               .fetched_at = 77};
    in_e[1] = (cache_in_entry){.provider = PROV_JETEMAIL,
                               .delivery = DELIVERY_FORWARD,
                               .active = true,
                               .fwd_mx_verified = true,
                               .fwd_spf_verified = true,
                               .ref = "99",
                               .webhook_url = "",
                               .webhook_method = "",
                               .n_rules = 200,
                               .rules = rules,
                               .fetched_at = 1700000000};
    in_e[2] = (cache_in_entry){.provider = PROV_MAILTRAP,
                               .delivery = DELIVERY_WEBHOOK,
                               .active = false,
                               .fwd_dkim_verified = true,
                               .fwd_dmarc_verified = true,
                               .ref = "mt-1",
                               .webhook_url = "https://hooks.example/in?x=1",
                               .webhook_method = "PUT",
                               .webhook_timeout_ms = 15000,
                               .webhook_retry_count = -1,
                               .n_smtp = 1,
                               .smtp = smtp + 3};
}

/* ---- comparisons ---- */

static bool eq_out_entry(const cache_out_entry *a, const cache_out_entry *b)
{
    if (a->provider != b->provider || a->send != b->send || a->open_tracking != b->open_tracking ||
        a->click_tracking != b->click_tracking || a->unsubscribe != b->unsubscribe ||
        a->fetched_at != b->fetched_at || a->n_bcc != b->n_bcc || strcmp(a->ref, b->ref) ||
        strcmp(a->raw_status, b->raw_status) || strcmp(a->reason, b->reason) ||
        strcmp(a->tracking_host, b->tracking_host))
        return false;
    for (int i = 0; i < a->n_bcc; i++)
        if (strcmp(a->bcc[i].addr, b->bcc[i].addr) || a->bcc[i].verified != b->bcc[i].verified)
            return false;
    return true;
}

static bool eq_in_entry(const cache_in_entry *a, const cache_in_entry *b)
{
    if (a->provider != b->provider || a->delivery != b->delivery || a->active != b->active ||
        a->fwd_mx_verified != b->fwd_mx_verified || a->fwd_dkim_verified != b->fwd_dkim_verified ||
        a->fwd_spf_verified != b->fwd_spf_verified ||
        a->fwd_dmarc_verified != b->fwd_dmarc_verified || strcmp(a->ref, b->ref) ||
        strcmp(a->webhook_url, b->webhook_url) || strcmp(a->webhook_method, b->webhook_method) ||
        a->webhook_timeout_ms != b->webhook_timeout_ms ||
        a->webhook_retry_count != b->webhook_retry_count || a->fetched_at != b->fetched_at ||
        a->n_smtp != b->n_smtp || a->n_rules != b->n_rules)
        return false;
    for (size_t i = 0; i < a->n_smtp; i++)
        if (strcmp(a->smtp[i].host, b->smtp[i].host) || a->smtp[i].port != b->smtp[i].port ||
            a->smtp[i].priority != b->smtp[i].priority || a->smtp[i].tls != b->smtp[i].tls)
            return false;
    for (size_t i = 0; i < a->n_rules; i++)
        if (strcmp(a->rules[i].ref, b->rules[i].ref) ||
            strcmp(a->rules[i].localpart, b->rules[i].localpart) ||
            strcmp(a->rules[i].destination, b->rules[i].destination) ||
            a->rules[i].active != b->rules[i].active ||
            a->rules[i].verified != b->rules[i].verified)
            return false;
    return true;
}

/* ---- well-formedness of whatever decoded ---- */

static bool in_store(const char *s, const char *store, size_t len)
{
    return s >= store && s < store + len && memchr(s, '\0', (size_t)(store + len - s));
}

/* text_ok - a string of a decoded record: the shared "" or inside the copied value */
static bool text_ok(const char *s, const char *store, size_t len)
{
    return s != NULL && (*s == '\0' || in_store(s, store, len));
}

static bool sane_out(const cache_outbound *r)
{
    unsigned seen = 0;

    if (r->n > PROV__COUNT || !text_ok(r->domain, r->store, r->store_len))
        return false;
    for (int i = 0; i < r->n; i++) {
        const cache_out_entry *e = &r->e[i];
        if (e->provider >= PROV__COUNT || (seen & (1u << e->provider)) || e->send >= SEND__COUNT ||
            e->n_bcc > CACHE_MAX_BCC || !text_ok(e->ref, r->store, r->store_len) ||
            !text_ok(e->raw_status, r->store, r->store_len) ||
            !text_ok(e->reason, r->store, r->store_len) ||
            !text_ok(e->tracking_host, r->store, r->store_len))
            return false;
        seen |= 1u << e->provider;
        for (int j = 0; j < e->n_bcc; j++)
            if (!in_store(e->bcc[j].addr, r->store, r->store_len) || !*e->bcc[j].addr)
                return false;
    }
    return true;
}

static bool sane_in(const cache_inbound *r, size_t len)
{
    unsigned seen = 0;

    if (r->n > PROV__COUNT || !text_ok(r->domain, r->store, len))
        return false;
    for (int i = 0; i < r->n; i++) {
        const cache_in_entry *e = &r->e[i];
        if (e->provider >= PROV__COUNT || (seen & (1u << e->provider)) ||
            e->delivery >= DELIVERY__COUNT || !text_ok(e->ref, r->store, len) ||
            !text_ok(e->webhook_url, r->store, len) || !text_ok(e->webhook_method, r->store, len))
            return false;
        seen |= 1u << e->provider;
        for (size_t j = 0; j < e->n_smtp; j++)
            if (!text_ok(e->smtp[j].host, r->store, len) || e->smtp[j].port > 65535)
                return false;
        for (size_t j = 0; j < e->n_rules; j++)
            if (!text_ok(e->rules[j].ref, r->store, len) ||
                !text_ok(e->rules[j].localpart, r->store, len) ||
                !text_ok(e->rules[j].destination, r->store, len))
                return false;
    }
    return true;
}

/* ---- round trips ---- */

static cache_outbound *rec_out;

static void test_roundtrip_out(void)
{
    const cache_out_entry *list[3] = {&out_e[0], &out_e[1], &out_e[2]};
    buf b = BUF_INIT;
    char why[ERRBUF_MAX] = "";
    bool ok;

    sample_out();
    tap_ok(codec_encode_outbound(&b, "shop.example", list, 3), "encode three providers");
    ok = codec_decode_outbound(b.data, b.len, rec_out, why, sizeof(why));
    tap_ok(ok, "decode: %s", ok ? "ok" : why);
    tap_is_str(rec_out->domain, "shop.example", "domain");
    tap_is_int(rec_out->n, 3, "three entries");
    for (int i = 0; i < 3 && ok; i++)
        tap_ok(eq_out_entry(&rec_out->e[i], &out_e[i]), "entry %d (%s) identical", i,
               cache_provider_name(out_e[i].provider));
    tap_ok(cache_outbound_find(rec_out, PROV_MAILTRAP) == &rec_out->e[2], "find by provider");
    tap_ok(ok && rec_out->e[1].bcc[15].addr >= rec_out->store &&
                   rec_out->e[1].bcc[15].addr < rec_out->store + rec_out->store_len,
           "strings point into the record's own copy");
    memset(b.data, 0xAA, b.len);
    tap_ok(ok && !strcmp(rec_out->e[1].reason, "DMARC record not verified"),
           "the record survives the value being overwritten (copied out)");

    /* every combination of the three flags */
    for (int flags = 0; flags < 8; flags++) {
        cache_out_entry e = out_e[0];
        const cache_out_entry *one[1] = {&e};
        e.open_tracking = flags & 1;
        e.click_tracking = flags & 2;
        e.unsubscribe = flags & 4;
        e.send = (uint8_t)(flags % SEND__COUNT);
        buf_reset(&b);
        codec_encode_outbound(&b, "f.example", one, 1);
        tap_ok(codec_decode_outbound(b.data, b.len, rec_out, why, sizeof(why)) &&
                       eq_out_entry(&rec_out->e[0], &e),
               "flags %d%d%d, send %s", flags & 1, (flags >> 1) & 1, (flags >> 2) & 1,
               cache_send_name(e.send));
    }
    buf_reset(&b);
    tap_ok(codec_encode_outbound(&b, "none.example", NULL, 0), "a record with no entries");
    tap_ok(codec_decode_outbound(b.data, b.len, rec_out, why, sizeof(why)) && rec_out->n == 0,
           "decodes with n = 0");
    buf_free(&b);
}

static void test_roundtrip_in(void)
{
    const cache_in_entry *list[3] = {&in_e[0], &in_e[1], &in_e[2]};
    cache_inbound r;
    buf b = BUF_INIT;
    char why[ERRBUF_MAX] = "";
    bool ok;

    sample_in();
    tap_ok(codec_encode_inbound(&b, "example.net", list, 3), "encode inbound, three providers");
    tap_diag("inbound value: %zu octets", b.len);
    ok = codec_decode_inbound(b.data, b.len, &r, why, sizeof(why));
    tap_ok(ok, "decode: %s", ok ? "ok" : why);
    tap_is_str(ok ? r.domain : NULL, "example.net", "domain");
    tap_is_int(ok ? r.n : 0, 3, "three entries");
    for (int i = 0; i < 3 && ok; i++)
        tap_ok(eq_in_entry(&r.e[i], &in_e[i]), "entry %d identical (%zu servers, %zu rules)", i,
               in_e[i].n_smtp, in_e[i].n_rules);
    if (ok)
        cache_inbound_free(&r);
    tap_ok(r.store == NULL && r.arrays == NULL, "cache_inbound_free releases everything");
    buf_free(&b);
}

static void test_roundtrip_meta(void)
{
    cache_meta m = {1700000000, 1699999000, 1700000300, 7, 10000, 42, ""}, d;
    buf b = BUF_INIT;
    char why[ERRBUF_MAX] = "";

    snprintf(m.last_error, sizeof(m.last_error), "GET /api/domains: 429 Too Many Requests");
    tap_ok(codec_encode_meta(&b, &m), "encode meta");
    tap_ok(codec_decode_meta(b.data, b.len, &d, why, sizeof(why)), "decode meta");
    tap_ok(d.last_attempt == m.last_attempt && d.last_success == m.last_success &&
                   d.next_attempt == m.next_attempt && d.failures == 7 && d.n_outbound == 10000 &&
                   d.n_inbound == 42 && !strcmp(d.last_error, m.last_error),
           "every field identical");
    memset(&m, 0, sizeof(m));
    buf_reset(&b);
    codec_encode_meta(&b, &m);
    tap_ok(codec_decode_meta(b.data, b.len, &d, why, sizeof(why)) && d.last_error[0] == '\0' &&
                   d.last_success == 0,
           "an empty meta record");
    buf_free(&b);
}

static void test_encode_refuses(void)
{
    cache_out_entry a = out_e[0], c = out_e[0];
    const cache_out_entry *dup[2] = {&a, &c}, *one[1] = {&a};
    cache_in_entry ie = in_e[0];
    const cache_in_entry *ione[1] = {&ie};
    buf b = BUF_INIT;
    char *big = malloc(20000);

    tap_ok(!codec_encode_outbound(&b, "d.example", dup, 2), "two entries of one provider");
    buf_reset(&b);
    a.provider = PROV__COUNT;
    tap_ok(!codec_encode_outbound(&b, "d.example", one, 1), "provider out of range");
    buf_reset(&b);
    a.provider = PROV_STATIC;
    a.send = SEND__COUNT;
    tap_ok(!codec_encode_outbound(&b, "d.example", one, 1), "send status out of range");
    buf_reset(&b);
    a.send = SEND_ALLOWED;
    memset(big, 'r', 19999);
    big[19999] = '\0';
    a.reason = big;
    tap_ok(!codec_encode_outbound(&b, "d.example", one, 1), "a record over %d octets",
           CACHE_OUT_MAX);
    buf_reset(&b);
    ie.delivery = DELIVERY__COUNT;
    tap_ok(!codec_encode_inbound(&b, "d.example", ione, 1), "delivery out of range");
    buf_free(&b);
    free(big);
}

/* ---- damage ---- */

/* damage_out - every cut and many byte changes of an encoded outbound value */
static void damage_out(const buf *good)
{
    unsigned char *v = malloc(good->len);
    char why[ERRBUF_MAX] = "";
    int cut_ok = 0, flips = 0, flip_valid = 0, insane = 0;

    for (size_t len = 0; len < good->len; len++) {
        memcpy(v, good->data, len);
        if (codec_decode_outbound(v, len, rec_out, why, sizeof(why)))
            cut_ok++;
    }
    tap_is_int(cut_ok, 0, "every one of %zu cuts of a %zu-octet outbound value is corrupt",
               good->len, good->len);
    for (size_t i = 0; i < good->len; i++) { /* every other value of every octet */
        for (unsigned x = 1; x < 256; x++) {
            memcpy(v, good->data, good->len);
            v[i] ^= (unsigned char)x;
            flips++;
            if (codec_decode_outbound(v, good->len, rec_out, why, sizeof(why))) {
                flip_valid++;
                insane += !sane_out(rec_out);
            }
        }
    }
    tap_is_int(insane, 0, "%d byte changes: %d corrupt, %d still well-formed, none malformed",
               flips, flips - flip_valid, flip_valid);
    free(v);
}

static void damage_in(const buf *good)
{
    unsigned char *v = malloc(good->len);
    cache_inbound r;
    char why[ERRBUF_MAX] = "";
    int cut_ok = 0, flips = 0, flip_valid = 0, insane = 0;

    for (size_t len = 0; len < good->len; len++) {
        memcpy(v, good->data, len);
        if (codec_decode_inbound(v, len, &r, why, sizeof(why))) {
            cut_ok++;
            cache_inbound_free(&r);
        }
    }
    tap_is_int(cut_ok, 0, "every one of %zu cuts of an inbound value is corrupt", good->len);
    for (size_t i = 0; i < good->len; i++) {
        for (unsigned x = 1; x < 256; x++) {
            memcpy(v, good->data, good->len);
            v[i] ^= (unsigned char)x;
            flips++;
            if (codec_decode_inbound(v, good->len, &r, why, sizeof(why))) {
                flip_valid++;
                insane += !sane_in(&r, good->len);
                cache_inbound_free(&r);
            }
        }
    }
    tap_is_int(insane, 0, "%d inbound byte changes: %d corrupt, %d well-formed, none malformed",
               flips, flips - flip_valid, flip_valid);
    free(v);
}

static void damage_meta(const buf *good)
{
    unsigned char *v = malloc(good->len);
    cache_meta m;
    char why[ERRBUF_MAX] = "";
    int cut_ok = 0, flips = 0, bad_text = 0;

    for (size_t len = 0; len < good->len; len++) {
        memcpy(v, good->data, len);
        cut_ok += codec_decode_meta(v, len, &m, why, sizeof(why));
    }
    tap_is_int(cut_ok, 0, "every cut of a meta value is corrupt");
    for (size_t i = 0; i < good->len; i++) {
        for (unsigned x = 1; x < 256; x++) {
            memcpy(v, good->data, good->len);
            v[i] ^= (unsigned char)x;
            flips++;
            if (codec_decode_meta(v, good->len, &m, why, sizeof(why)))
                bad_text += memchr(m.last_error, '\0', sizeof(m.last_error)) == NULL;
        }
    }
    tap_is_int(bad_text, 0, "%d meta byte changes never leave an unterminated text", flips);
    free(v);
}

static void test_damage(void)
{
    const cache_out_entry *list[3] = {&out_e[0], &out_e[1], &out_e[2]};
    const cache_in_entry *ilist[3] = {&in_e[0], &in_e[1], &in_e[2]};
    cache_in_entry small = in_e[1];
    const cache_in_entry *slist[2] = {&in_e[0], &small};
    cache_meta m = {1, 2, 3, 4, 5, 6, "some error"};
    buf b = BUF_INIT;

    sample_out();
    sample_in();
    codec_encode_outbound(&b, "shop.example", list, 3);
    damage_out(&b);
    buf_reset(&b);
    small.n_rules = 3; /* every cut of the big record would take a while under ASan */
    codec_encode_inbound(&b, "example.net", slist, 2);
    damage_in(&b);
    buf_reset(&b);
    codec_encode_inbound(&b, "example.net", ilist, 3);
    {
        cache_inbound r;
        char why[ERRBUF_MAX] = "";
        int cut_ok = 0;
        for (size_t len = 0; len < b.len; len += 97)
            if (codec_decode_inbound(b.data, len, &r, why, sizeof(why)))
                cut_ok++, cache_inbound_free(&r);
        tap_is_int(cut_ok, 0, "cuts of the 200-rule inbound value are corrupt");
    }
    buf_reset(&b);
    codec_encode_meta(&b, &m);
    damage_meta(&b);
    buf_free(&b);
}

/* ---- hand-made values ---- */

static buf hb;

static void h_start(char magic, char kind, uint8_t version)
{
    uint8_t h[4] = {(uint8_t)magic, (uint8_t)kind, version, 0};

    buf_reset(&hb);
    buf_append(&hb, h, 4);
}

static void h_field(uint8_t tag, const void *v, size_t len)
{
    uint8_t h[3] = {tag, (uint8_t)len, (uint8_t)(len >> 8)};

    buf_append(&hb, h, 3);
    buf_append(&hb, v, len);
}

static void h_u8(uint8_t tag, uint8_t v)
{
    h_field(tag, &v, 1);
}

static void h_end(void)
{
    h_field(0, "", 0);
}

static bool h_out(void)
{
    char why[ERRBUF_MAX] = "";

    return codec_decode_outbound(hb.data, hb.len, rec_out, why, sizeof(why));
}

static bool h_in(void)
{
    cache_inbound r;
    char why[ERRBUF_MAX] = "";
    bool ok = codec_decode_inbound(hb.data, hb.len, &r, why, sizeof(why));

    if (ok)
        cache_inbound_free(&r);
    return ok;
}

/* h_entry - "d.example" with one entry of provider p, send s */
static void h_entry(uint8_t p, uint8_t s)
{
    h_start('S', 'O', CODEC_VERSION);
    h_field(1, "d.example", 10);
    h_u8(2, p);
    h_u8(3, s);
}

static void test_handmade(void)
{
    h_entry(PROV_MAILTRAP, SEND_PENDING);
    h_end();
    tap_ok(h_out() && rec_out->n == 1 && rec_out->e[0].send == SEND_PENDING,
           "a minimal hand-made record decodes");
    tap_ok(!strcmp(rec_out->e[0].reason, "") && rec_out->e[0].n_bcc == 0,
           "omitted fields are empty");

    h_start('X', 'O', CODEC_VERSION);
    h_end();
    tap_ok(!h_out(), "wrong magic");
    h_start('S', 'I', CODEC_VERSION);
    h_end();
    tap_ok(!h_out(), "wrong kind (inbound value read as outbound)");
    tap_ok(h_in(), "but fine as inbound");
    h_start('S', 'O', 1);
    h_end();
    tap_ok(!h_out(), "old version 1 (no terminator) refused");
    h_start('S', 'O', CODEC_VERSION + 1);
    h_end();
    tap_ok(!h_out(), "a newer version refused");
    h_start('S', 'O', CODEC_VERSION);
    tap_ok(!h_out(), "a header without terminator");
    tap_ok(!codec_decode_outbound("SO", 2, rec_out, NULL, 0), "a short header");

    h_entry(0, 0);
    buf_append(&hb,
               "\x07\x0a\x00"
               "abc",
               6); /* says 10 octets, has 3 */
    tap_ok(!h_out(), "a length running past the end");
    h_entry(0, 0);
    buf_append(&hb, "\x07\x05", 2); /* half a field header */
    tap_ok(!h_out(), "half a field header");
    h_entry(0, 0);
    h_field(7, "abc", 3);
    h_end();
    tap_ok(!h_out(), "a string without its NUL");
    h_entry(0, 0);
    h_field(7, "a\0bc", 5);
    h_end();
    tap_ok(!h_out(), "a NUL inside a string");
    h_entry(0, 0);
    h_field(7, "", 0);
    h_end();
    tap_ok(!h_out(), "an empty string field");
    h_entry(0, 0);
    h_field(10, "\x01\0", 2);
    h_end();
    tap_ok(!h_out(), "an empty BCC address");
    h_entry(0, 0);
    h_field(10, "\x02x@y.example", 13);
    h_end();
    tap_ok(!h_out(), "a BCC verified flag out of range");
    h_entry(0, 0);
    h_u8(2, 0);
    h_u8(3, 0);
    h_end();
    tap_ok(!h_out(), "two entries of one provider");
    h_entry(PROV__COUNT, 0);
    h_end();
    tap_ok(!h_out(), "provider out of range");
    h_entry(0, SEND__COUNT);
    h_end();
    tap_ok(!h_out(), "send status out of range");
    h_start('S', 'O', CODEC_VERSION);
    h_u8(2, 1);
    h_end();
    tap_ok(!h_out(), "an entry without its send status");
    h_start('S', 'O', CODEC_VERSION);
    h_u8(3, 0);
    h_u8(2, 1);
    h_u8(3, 0);
    h_end();
    tap_ok(!h_out(), "an entry's field before the first entry");
    h_entry(0, 0);
    h_field(1, "e.example", 10);
    h_end();
    tap_ok(!h_out(), "the domain after an entry");
    h_entry(0, 0);
    h_field(9, "\1\2\3\4", 4);
    h_end();
    tap_ok(!h_out(), "a time field of the wrong size");
    h_entry(0, 0);
    h_field(0, "x", 1);
    tap_ok(!h_out(), "a terminator with contents");
    h_entry(0, 0);
    h_end();
    h_u8(3, 0);
    tap_ok(!h_out(), "a field after the terminator");
    h_entry(0, 0);
    h_end();
    buf_append(&hb, "", 1);
    tap_ok(!h_out(), "a stray octet after the terminator");

    /* fields a newer writer might add are skipped, before and inside entries */
    h_start('S', 'O', CODEC_VERSION);
    h_field(200, "future", 6);
    h_field(1, "d.example", 10);
    h_u8(2, 1);
    h_field(201, "\xff\xff", 2);
    h_u8(3, SEND_BLOCKED);
    h_end();
    tap_ok(h_out() && rec_out->n == 1 && rec_out->e[0].send == SEND_BLOCKED,
           "unknown tags are skipped");

    {
        static char huge[CACHE_OUT_MAX + 10];
        memcpy(huge, hb.data, hb.len);
        tap_ok(!codec_decode_outbound(huge, sizeof(huge), rec_out, NULL, 0),
               "a value larger than any outbound record");
    }

    /* inbound specifics */
    h_start('S', 'I', CODEC_VERSION);
    h_u8(2, 0);
    h_u8(21, DELIVERY__COUNT);
    h_end();
    tap_ok(!h_in(), "delivery out of range");
    h_start('S', 'I', CODEC_VERSION);
    h_u8(2, 0);
    h_u8(20, 2);
    h_end();
    tap_ok(!h_in(), "active flag out of range");
    h_start('S', 'I', CODEC_VERSION);
    h_u8(2, 0);
    h_end();
    tap_ok(!h_in(), "an inbound entry without its delivery type");
    h_start('S', 'I', CODEC_VERSION);
    h_field(27, "\x19\0\x0a\0\0\0\x01mx", 10);
    h_u8(2, 0);
    h_u8(21, 0);
    h_end();
    tap_ok(!h_in(), "an SMTP server before the first entry");
    h_start('S', 'I', CODEC_VERSION);
    h_u8(2, 0);
    h_u8(21, 0);
    h_field(27, "\x19\0\x0a\0\0\0\x01mx\0", 10);
    h_field(28, "\1\1r\0l\0d@e", 9);
    h_end();
    tap_ok(!h_in(), "a forward rule with a string missing its NUL");
    h_start('S', 'I', CODEC_VERSION);
    h_u8(2, 0);
    h_u8(21, 0);
    h_field(27, "\x19\0\x0a\0\0\0\x01mx\0", 10);
    h_field(28, "\1\1r\0l\0d@e\0", 10);
    h_end();
    tap_ok(h_in(), "the same rule with its NUL decodes");
    h_start('S', 'I', CODEC_VERSION);
    h_u8(2, 0);
    h_u8(21, 0);
    h_field(28, "\1\1r\0l\0d@e\0x\0", 12);
    h_end();
    tap_ok(!h_in(), "a forward rule with a fourth string");
    h_start('S', 'I', CODEC_VERSION);
    h_u8(2, 0);
    h_u8(21, 0);
    h_field(27, "\x19\0\x0a\0\0\0\x02mx\0", 10);
    h_end();
    tap_ok(!h_in(), "an SMTP TLS flag out of range");

    /* meta specifics */
    {
        cache_meta m;
        char why[ERRBUF_MAX] = "";
        h_start('S', 'M', CODEC_VERSION);
        h_field(43, "\1\0", 2);
        h_end();
        tap_ok(!codec_decode_meta(hb.data, hb.len, &m, why, sizeof(why)),
               "a meta counter of the wrong size");
        h_start('S', 'M', CODEC_VERSION);
        h_field(46, "oops", 4);
        h_end();
        tap_ok(!codec_decode_meta(hb.data, hb.len, &m, why, sizeof(why)),
               "a meta error without NUL");
        h_start('S', 'O', CODEC_VERSION);
        h_end();
        tap_ok(!codec_decode_meta(hb.data, hb.len, &m, why, sizeof(why)),
               "an outbound value is not meta");
    }
    buf_free(&hb);
}

int main(void)
{
    rec_out = malloc(sizeof(*rec_out));
    sample_out();
    sample_in();
    test_roundtrip_out();
    test_roundtrip_in();
    test_roundtrip_meta();
    test_encode_refuses();
    test_damage();
    test_handmade();
    free(rec_out);
    return tap_done();
}
