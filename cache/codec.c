/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * codec.c - cache record encoding and bounds-checked decoding (see codec.h)
 */
#include "cache/codec.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    KIND_OUT = 'O',
    KIND_IN = 'I',
    KIND_META = 'M',
};

enum codec_tag {
    T_END = 0, /* empty; the last field of every value: a cut value lacks it */
    T_DOMAIN = 1,
    T_ENTRY = 2, /* u8 provider; starts an entry */
    T_SEND = 3,
    T_FLAGS = 4, /* outbound: 1 open, 2 click, 4 unsubscribe */
    T_REF = 5,
    T_RAW = 6,
    T_REASON = 7,
    T_TRACKHOST = 8,
    T_FETCHED = 9,
    T_BCC = 10, /* u8 verified, address */
    T_ACTIVE = 20,
    T_DELIVERY = 21,
    T_FWDFLAGS = 22, /* 1 mx, 2 dkim, 4 spf, 8 dmarc */
    T_WH_URL = 23,
    T_WH_METHOD = 24,
    T_WH_TIMEOUT = 25,
    T_WH_RETRY = 26,
    T_SMTP = 27, /* u16 port, i32 priority, u8 tls, host */
    T_RULE = 28, /* u8 active, u8 verified, ref, localpart, destination */
    T_M_ATTEMPT = 40,
    T_M_SUCCESS = 41,
    T_M_NEXT = 42,
    T_M_FAIL = 43,
    T_M_NOUT = 44,
    T_M_NIN = 45,
    T_M_ERR = 46,
};

static const char codec_empty[] = "";

/* ---- writing ---- */

static void put_field(buf *b, uint8_t tag, const void *v, size_t len)
{
    uint8_t h[3] = {tag, (uint8_t)(len & 0xff), (uint8_t)(len >> 8)};

    if (len > 0xffff) {
        b->failed = true;
        return;
    }
    buf_append(b, h, 3);
    buf_append(b, v, len);
}

static void put_u8(buf *b, uint8_t tag, uint8_t v)
{
    put_field(b, tag, &v, 1);
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_i64(buf *b, uint8_t tag, int64_t v)
{
    uint8_t p[8];

    put_le(p, (uint64_t)v, 8);
    put_field(b, tag, p, 8);
}

static void put_u32(buf *b, uint8_t tag, uint32_t v)
{
    uint8_t p[4];

    put_le(p, v, 4);
    put_field(b, tag, p, 4);
}

/* put_str - a string field including its NUL (NULL and "" are omitted) */
static void put_str(buf *b, uint8_t tag, const char *s)
{
    if (s && *s)
        put_field(b, tag, s, strlen(s) + 1);
}

static void put_header(buf *b, uint8_t kind)
{
    uint8_t h[4] = {'S', kind, CODEC_VERSION, 0};

    buf_append(b, h, 4);
}

/* put_end - the terminator, so a value cut at a field boundary is still caught */
static void put_end(buf *b)
{
    put_field(b, T_END, "", 0);
}

/* put_prefixed - fixed-size prefix then one or more NUL-terminated strings */
static void put_prefixed(buf *b, uint8_t tag, const uint8_t *pre, size_t plen,
                         const char *const *strs, size_t nstr)
{
    uint8_t tmp[4096];
    size_t len = plen;

    memcpy(tmp, pre, plen);
    for (size_t i = 0; i < nstr; i++) {
        size_t sl = strlen(strs[i] ? strs[i] : "") + 1;
        if (len + sl > sizeof(tmp)) {
            b->failed = true;
            return;
        }
        memcpy(tmp + len, strs[i] ? strs[i] : "", sl);
        len += sl;
    }
    put_field(b, tag, tmp, len);
}

/*
 * entries_ok - what the decoder would refuse is never written: at most one
 * entry per provider, every provider and enum in range
 */
static bool entries_ok(const void *const *e, size_t n, size_t prov_off, size_t enum_off,
                       unsigned enum_count)
{
    unsigned seen = 0;

    if (n > PROV__COUNT)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t prov = *((const uint8_t *)e[i] + prov_off);
        uint8_t en = *((const uint8_t *)e[i] + enum_off);
        if (prov >= PROV__COUNT || en >= enum_count || (seen & (1u << prov)))
            return false;
        seen |= 1u << prov;
    }
    return true;
}

/* codec_encode_outbound - a domain's outbound entries, one per provider */
bool codec_encode_outbound(buf *b, const char *domain, const cache_out_entry *const *e, size_t n)
{
    size_t start = b->len;

    if (!entries_ok((const void *const *)e, n, offsetof(cache_out_entry, provider),
                    offsetof(cache_out_entry, send), SEND__COUNT))
        return false;
    put_header(b, KIND_OUT);
    put_str(b, T_DOMAIN, domain);
    for (size_t i = 0; i < n; i++) {
        const cache_out_entry *x = e[i];
        put_u8(b, T_ENTRY, x->provider);
        put_u8(b, T_SEND, x->send);
        put_u8(b, T_FLAGS,
               (uint8_t)((x->open_tracking ? 1 : 0) | (x->click_tracking ? 2 : 0) |
                         (x->unsubscribe ? 4 : 0)));
        put_str(b, T_REF, x->ref);
        put_str(b, T_RAW, x->raw_status);
        put_str(b, T_REASON, x->reason);
        put_str(b, T_TRACKHOST, x->tracking_host);
        put_i64(b, T_FETCHED, x->fetched_at);
        for (size_t j = 0; j < x->n_bcc && j < CACHE_MAX_BCC; j++) {
            uint8_t v = x->bcc[j].verified ? 1 : 0;
            const char *a = x->bcc[j].addr;
            if (a && *a) /* an empty address is nothing to add to mail */
                put_prefixed(b, T_BCC, &v, 1, &a, 1);
        }
    }
    put_end(b);
    return !buf_failed(b) && b->len - start <= CACHE_OUT_MAX;
}

/* codec_encode_inbound - a domain's inbound entries */
bool codec_encode_inbound(buf *b, const char *domain, const cache_in_entry *const *e, size_t n)
{
    size_t start = b->len;

    if (!entries_ok((const void *const *)e, n, offsetof(cache_in_entry, provider),
                    offsetof(cache_in_entry, delivery), DELIVERY__COUNT))
        return false;
    put_header(b, KIND_IN);
    put_str(b, T_DOMAIN, domain);
    for (size_t i = 0; i < n; i++) {
        const cache_in_entry *x = e[i];
        put_u8(b, T_ENTRY, x->provider);
        put_u8(b, T_ACTIVE, x->active ? 1 : 0);
        put_u8(b, T_DELIVERY, x->delivery);
        put_u8(b, T_FWDFLAGS,
               (uint8_t)((x->fwd_mx_verified ? 1 : 0) | (x->fwd_dkim_verified ? 2 : 0) |
                         (x->fwd_spf_verified ? 4 : 0) | (x->fwd_dmarc_verified ? 8 : 0)));
        put_str(b, T_REF, x->ref);
        put_str(b, T_WH_URL, x->webhook_url);
        put_str(b, T_WH_METHOD, x->webhook_method);
        put_u32(b, T_WH_TIMEOUT, (uint32_t)x->webhook_timeout_ms);
        put_u32(b, T_WH_RETRY, (uint32_t)x->webhook_retry_count);
        put_i64(b, T_FETCHED, x->fetched_at);
        for (size_t j = 0; j < x->n_smtp && j < CACHE_MAX_SMTP; j++) {
            uint8_t pre[7];
            const char *h = x->smtp[j].host;
            put_le(pre, (uint64_t)x->smtp[j].port, 2);
            put_le(pre + 2, (uint64_t)(uint32_t)x->smtp[j].priority, 4);
            pre[6] = x->smtp[j].tls ? 1 : 0;
            put_prefixed(b, T_SMTP, pre, 7, &h, 1);
        }
        for (size_t j = 0; j < x->n_rules && j < CACHE_MAX_RULES; j++) {
            const cache_fwd_rule *r = &x->rules[j];
            uint8_t pre[2] = {r->active ? 1 : 0, r->verified ? 1 : 0};
            const char *s[3] = {r->ref, r->localpart, r->destination};
            put_prefixed(b, T_RULE, pre, 2, s, 3);
        }
    }
    put_end(b);
    return !buf_failed(b) && b->len - start <= CACHE_IN_MAX;
}

/* codec_encode_meta - a provider's refresh bookkeeping */
bool codec_encode_meta(buf *b, const cache_meta *m)
{
    put_header(b, KIND_META);
    put_i64(b, T_M_ATTEMPT, m->last_attempt);
    put_i64(b, T_M_SUCCESS, m->last_success);
    put_i64(b, T_M_NEXT, m->next_attempt);
    put_u32(b, T_M_FAIL, m->failures);
    put_u32(b, T_M_NOUT, m->n_outbound);
    put_u32(b, T_M_NIN, m->n_inbound);
    put_str(b, T_M_ERR, m->last_error);
    put_end(b);
    return !buf_failed(b);
}

/* ---- reading ---- */

typedef struct codec_rd {
    const uint8_t *p, *end;
} codec_rd;

typedef struct codec_field {
    uint8_t tag;
    uint16_t len;
    const uint8_t *v;
} codec_field;

/* rd_open - check the header; position after it */
static bool rd_open(codec_rd *r, const void *val, size_t len, uint8_t kind, char *err,
                    size_t errlen)
{
    const uint8_t *p = val;

    if (len < 4 || p[0] != 'S' || p[1] != kind)
        return errbuf_set(err, errlen, "not a sendgate record of this kind");
    if (p[2] != CODEC_VERSION)
        return errbuf_set(err, errlen, "unknown record version");
    r->p = p + 4;
    r->end = p + len;
    return true;
}

/*
 * rd_next - next field; false at the terminator, or with *bad set when a
 * length runs past the end, the terminator is missing (the value was cut)
 * or anything follows it
 */
static bool rd_next(codec_rd *r, codec_field *f, bool *bad)
{
    size_t left = (size_t)(r->end - r->p);

    *bad = true;
    if (left < 3)
        return false;
    f->tag = r->p[0];
    f->len = (uint16_t)(r->p[1] | (r->p[2] << 8));
    if (f->len > left - 3)
        return false;
    f->v = r->p + 3;
    r->p += 3 + f->len;
    if (f->tag == T_END) {
        *bad = f->len != 0 || r->p != r->end;
        return false;
    }
    *bad = false;
    return true;
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;

    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* fld_str - a whole field as one string: NUL-terminated, no NUL inside */
static const char *fld_str(const uint8_t *v, size_t len)
{
    if (len == 0 || v[len - 1] != '\0' || memchr(v, '\0', len - 1))
        return NULL;
    return (const char *)v;
}

/* fld_strs - n consecutive strings filling [v, v+len) exactly */
static bool fld_strs(const uint8_t *v, size_t len, const char **out, size_t n)
{
    size_t off = 0;

    for (size_t i = 0; i < n; i++) {
        const uint8_t *z = off < len ? memchr(v + off, '\0', len - off) : NULL;
        if (z == NULL)
            return false;
        out[i] = (const char *)v + off;
        off = (size_t)(z - v) + 1;
    }
    return off == len;
}

static bool fld_int(const codec_field *f, size_t want, uint64_t *out)
{
    if (f->len != want)
        return false;
    *out = get_le(f->v, (int)want);
    return true;
}

/* out_entry_init - defaults for fields a record may omit */
static void out_entry_init(cache_out_entry *e, uint8_t provider)
{
    memset(e, 0, sizeof(*e));
    e->provider = provider;
    e->send = 0xff; /* required: checked at the end */
    e->ref = e->raw_status = e->reason = e->tracking_host = codec_empty;
}

/* out_field - apply one field to the current outbound entry */
static bool out_field(cache_out_entry *e, const codec_field *f)
{
    uint64_t v;
    const char *s;

    switch (f->tag) {
    case T_SEND:
        if (!fld_int(f, 1, &v) || v >= SEND__COUNT)
            return false;
        e->send = (uint8_t)v;
        return true;
    case T_FLAGS:
        if (!fld_int(f, 1, &v))
            return false;
        e->open_tracking = v & 1;
        e->click_tracking = (v & 2) != 0;
        e->unsubscribe = (v & 4) != 0;
        return true;
    case T_FETCHED:
        if (!fld_int(f, 8, &v))
            return false;
        e->fetched_at = (int64_t)v;
        return true;
    case T_BCC:
        if (f->len < 3 || e->n_bcc >= CACHE_MAX_BCC || f->v[0] > 1 ||
            (s = fld_str(f->v + 1, f->len - 1U)) == NULL)
            return false;
        e->bcc[e->n_bcc].verified = f->v[0] == 1;
        e->bcc[e->n_bcc++].addr = s;
        return true;
    case T_REF:
    case T_RAW:
    case T_REASON:
    case T_TRACKHOST:
        if ((s = fld_str(f->v, f->len)) == NULL)
            return false;
        *(f->tag == T_REF      ? &e->ref
          : f->tag == T_RAW    ? &e->raw_status
          : f->tag == T_REASON ? &e->reason
                               : &e->tracking_host) = s;
        return true;
    default:
        return true; /* a newer writer's field */
    }
}

/* out_known / in_known - tags of an entry's fields (others are a newer writer's) */
static bool out_known(uint8_t tag)
{
    return tag >= T_SEND && tag <= T_BCC;
}

static bool in_known(uint8_t tag)
{
    return tag == T_REF || tag == T_FETCHED || (tag >= T_ACTIVE && tag <= T_RULE);
}

/* entry_start - begin entry for provider p unless it repeats or overflows */
static bool entry_start(const codec_field *f, uint8_t n, const uint8_t *seen, uint8_t *p)
{
    uint64_t v;

    if (!fld_int(f, 1, &v) || v >= PROV__COUNT || n >= PROV__COUNT)
        return false;
    for (uint8_t i = 0; i < n; i++)
        if (seen[i] == v)
            return false;
    *p = (uint8_t)v;
    return true;
}

/* codec_decode_outbound - copy val into out->store and decode it in place */
bool codec_decode_outbound(const void *val, size_t len, cache_outbound *out, char *err,
                           size_t errlen)
{
    codec_rd r;
    codec_field f;
    uint8_t seen[PROV__COUNT], prov;
    bool bad;
    cache_out_entry *cur = NULL;

    out->n = 0;
    out->domain = codec_empty;
    if (len > sizeof(out->store))
        return errbuf_set(err, errlen, "record larger than any outbound record");
    memcpy(out->store, val, len);
    out->store_len = len;
    if (!rd_open(&r, out->store, len, KIND_OUT, err, errlen))
        return false;
    while (rd_next(&r, &f, &bad)) {
        if (f.tag == T_DOMAIN) {
            if (cur || (out->domain = fld_str(f.v, f.len)) == NULL)
                goto corrupt;
        } else if (f.tag == T_ENTRY) {
            if (!entry_start(&f, out->n, seen, &prov))
                goto corrupt;
            seen[out->n] = prov;
            cur = &out->e[out->n++];
            out_entry_init(cur, prov);
        } else if (cur == NULL ? out_known(f.tag) : !out_field(cur, &f)) {
            goto corrupt; /* an entry's field before any entry, or a bad field */
        }
    }
    if (bad)
        goto corrupt;
    for (uint8_t i = 0; i < out->n; i++)
        if (out->e[i].send >= SEND__COUNT)
            goto corrupt;
    return true;
corrupt:
    out->n = 0;
    return errbuf_set(err, errlen, "corrupt outbound record");
}

/* in_entry_init - defaults for an inbound entry */
static void in_entry_init(cache_in_entry *e, uint8_t provider)
{
    memset(e, 0, sizeof(*e));
    e->provider = provider;
    e->delivery = 0xff;
    e->ref = e->webhook_url = e->webhook_method = codec_empty;
}

/* in_field - apply one field to the current inbound entry (arrays already sized) */
static bool in_field(cache_in_entry *e, const codec_field *f)
{
    uint64_t v;
    const char *s[3];

    switch (f->tag) {
    case T_ACTIVE:
        if (!fld_int(f, 1, &v) || v > 1)
            return false;
        e->active = v == 1;
        return true;
    case T_DELIVERY:
        if (!fld_int(f, 1, &v) || v >= DELIVERY__COUNT)
            return false;
        e->delivery = (uint8_t)v;
        return true;
    case T_FWDFLAGS:
        if (!fld_int(f, 1, &v))
            return false;
        e->fwd_mx_verified = v & 1;
        e->fwd_dkim_verified = (v & 2) != 0;
        e->fwd_spf_verified = (v & 4) != 0;
        e->fwd_dmarc_verified = (v & 8) != 0;
        return true;
    case T_WH_TIMEOUT:
    case T_WH_RETRY:
        if (!fld_int(f, 4, &v))
            return false;
        *(f->tag == T_WH_TIMEOUT ? &e->webhook_timeout_ms : &e->webhook_retry_count) =
                (int)(int32_t)(uint32_t)v;
        return true;
    case T_FETCHED:
        if (!fld_int(f, 8, &v))
            return false;
        e->fetched_at = (int64_t)v;
        return true;
    case T_REF:
    case T_WH_URL:
    case T_WH_METHOD:
        if ((s[0] = fld_str(f->v, f->len)) == NULL)
            return false;
        *(f->tag == T_REF      ? &e->ref
          : f->tag == T_WH_URL ? &e->webhook_url
                               : &e->webhook_method) = s[0];
        return true;
    case T_SMTP: {
        cache_smtp_server *sv = &e->smtp[e->n_smtp];
        if (e->n_smtp >= CACHE_MAX_SMTP || f->len < 8 || !fld_strs(f->v + 7, f->len - 7U, s, 1) ||
            f->v[6] > 1)
            return false;
        sv->port = (int)get_le(f->v, 2);
        sv->priority = (int)(int32_t)(uint32_t)get_le(f->v + 2, 4);
        sv->tls = f->v[6] == 1;
        sv->host = s[0];
        e->n_smtp++;
        return true;
    }
    case T_RULE: {
        cache_fwd_rule *ru = &e->rules[e->n_rules];
        /* the writer never stores more: more is a corrupt record */
        if (e->n_rules >= CACHE_MAX_RULES || f->len < 5 || f->v[0] > 1 || f->v[1] > 1 ||
            !fld_strs(f->v + 2, f->len - 2U, s, 3))
            return false;
        ru->active = f->v[0] == 1;
        ru->verified = f->v[1] == 1;
        ru->ref = s[0];
        ru->localpart = s[1];
        ru->destination = s[2];
        e->n_rules++;
        return true;
    }
    default:
        return true;
    }
}

/* in_count - first pass: how many servers and rules, to size the arrays */
static bool in_count(const cache_inbound *out, size_t len, size_t *n_smtp, size_t *n_rules)
{
    codec_rd r;
    codec_field f;
    bool bad;

    *n_smtp = *n_rules = 0;
    if (!rd_open(&r, out->store, len, KIND_IN, NULL, 0))
        return false;
    while (rd_next(&r, &f, &bad)) {
        if (f.tag == T_SMTP)
            (*n_smtp)++;
        else if (f.tag == T_RULE)
            (*n_rules)++;
    }
    return !bad;
}

/* codec_decode_inbound - heap copy of val, decoded in place; free with cache_inbound_free */
bool codec_decode_inbound(const void *val, size_t len, cache_inbound *out, char *err, size_t errlen)
{
    codec_rd r;
    codec_field f;
    uint8_t seen[PROV__COUNT], prov;
    size_t n_smtp, n_rules;
    cache_smtp_server *smtp;
    cache_fwd_rule *rules;
    cache_in_entry *cur = NULL;
    bool bad;

    memset(out, 0, sizeof(*out));
    out->domain = codec_empty;
    if (len > CACHE_IN_MAX || (out->store = malloc(len ? len : 1)) == NULL)
        return errbuf_copy(err, errlen,
                           len > CACHE_IN_MAX ? "record larger than any inbound record"
                                              : "out of memory");
    memcpy(out->store, val, len);
    if (!rd_open(&r, out->store, len, KIND_IN, err, errlen))
        goto fail;
    if (!in_count(out, len, &n_smtp, &n_rules))
        goto corrupt;
    out->arrays = calloc(1, n_smtp * sizeof(*smtp) + n_rules * sizeof(*rules) + 1);
    if (out->arrays == NULL) {
        errbuf_set(err, errlen, "out of memory");
        goto fail;
    }
    smtp = out->arrays;
    rules = (cache_fwd_rule *)(smtp + n_smtp);
    while (rd_next(&r, &f, &bad)) {
        if (f.tag == T_DOMAIN) {
            if (cur || (out->domain = fld_str(f.v, f.len)) == NULL)
                goto corrupt;
        } else if (f.tag == T_ENTRY) {
            if (!entry_start(&f, out->n, seen, &prov))
                goto corrupt;
            seen[out->n] = prov;
            if (cur) { /* the next entry's arrays start after this one's */
                smtp += cur->n_smtp;
                rules += cur->n_rules;
            }
            cur = &out->e[out->n++];
            in_entry_init(cur, prov);
            cur->smtp = smtp;
            cur->rules = rules;
        } else if (cur == NULL ? in_known(f.tag) : !in_field(cur, &f)) {
            goto corrupt;
        }
    }
    if (bad)
        goto corrupt;
    for (uint8_t i = 0; i < out->n; i++)
        if (out->e[i].delivery >= DELIVERY__COUNT)
            goto corrupt;
    return true;
corrupt:
    errbuf_set(err, errlen, "corrupt inbound record");
fail:
    cache_inbound_free(out);
    return false;
}

/* codec_decode_meta - provider bookkeeping */
bool codec_decode_meta(const void *val, size_t len, cache_meta *m, char *err, size_t errlen)
{
    codec_rd r;
    codec_field f;
    uint64_t v;
    bool bad;
    const char *s;

    memset(m, 0, sizeof(*m));
    if (!rd_open(&r, val, len, KIND_META, err, errlen))
        return false;
    while (rd_next(&r, &f, &bad)) {
        switch (f.tag) {
        case T_M_ATTEMPT:
        case T_M_SUCCESS:
        case T_M_NEXT:
            if (!fld_int(&f, 8, &v))
                goto corrupt;
            *(f.tag == T_M_ATTEMPT   ? &m->last_attempt
              : f.tag == T_M_SUCCESS ? &m->last_success
                                     : &m->next_attempt) = (int64_t)v;
            break;
        case T_M_FAIL:
        case T_M_NOUT:
        case T_M_NIN:
            if (!fld_int(&f, 4, &v))
                goto corrupt;
            *(f.tag == T_M_FAIL   ? &m->failures
              : f.tag == T_M_NOUT ? &m->n_outbound
                                  : &m->n_inbound) = (uint32_t)v;
            break;
        case T_M_ERR:
            if ((s = fld_str(f.v, f.len)) == NULL)
                goto corrupt;
            snprintf(m->last_error, sizeof(m->last_error), "%s", s);
            break;
        default:
            break;
        }
    }
    if (!bad)
        return true;
corrupt:
    memset(m, 0, sizeof(*m));
    return errbuf_set(err, errlen, "corrupt meta record");
}
