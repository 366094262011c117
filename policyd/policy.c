/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy.c - framing, parsing and answering policy requests (see policy.h)
 *
 * Data flow: the event loop (server.c) reads bytes into a connection's
 * buffer, policy_frame says whether a whole request is there, policy_parse
 * splits it, decide.c gives the verdict and policy_reply_verdict formats it.
 * Nothing here does I/O or allocates, so the unit tests can feed any byte
 * sequence: split reads, pipelined requests, garbage.
 */
#include "policyd/policy.h"

#include <stdio.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const struct {
    const char *name;
    size_t len;
} policy_names[PA__COUNT] = {
        [PA_REQUEST] = {"request", 7},
        [PA_PROTOCOL_STATE] = {"protocol_state", 14},
        [PA_PROTOCOL_NAME] = {"protocol_name", 13},
        [PA_SENDER] = {"sender", 6},
        [PA_RECIPIENT] = {"recipient", 9},
        [PA_CLIENT_ADDRESS] = {"client_address", 14},
        [PA_CLIENT_NAME] = {"client_name", 11},
        [PA_SASL_USERNAME] = {"sasl_username", 13},
        [PA_QUEUE_ID] = {"queue_id", 8},
        [PA_INSTANCE] = {"instance", 8},
        [PA_POLICY_CONTEXT] = {"policy_context", 14},
};

/* policy_attr_name - the protocol name of an attribute */
const char *policy_attr_name(enum policy_attr a)
{
    return a < PA__COUNT ? policy_names[a].name : "?";
}

/* policy_get - an attribute's value, "" when Postfix did not send it */
const char *policy_get(const policy_req *r, enum policy_attr a)
{
    return r->v[a] ? r->v[a] : "";
}

/* policy_bad - set the reason and report a malformed request */
static int policy_bad(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return POLICY_BAD;
}

/* policy_frame_lines - the general case: line by line, every limit checked as bytes arrive */
static int policy_frame_lines(const char *data, size_t len, const policy_limits *lim,
                              policy_scan *st, size_t *reqlen, const char **why)
{
    size_t i = st->pos;

    while (i < len) {
        const char *nl = memchr(data + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - data) : len, ll;

        if (end - st->line_start >= lim->max_line)
            return policy_bad(why, "attribute line too long");
        if (end + (nl ? 1 : 0) > lim->max_request)
            return policy_bad(why, "request too large");
        if (nl == NULL)
            break;
        if (memchr(data + st->line_start, '\0', end - st->line_start))
            return policy_bad(why, "NUL byte in request");
        ll = end - st->line_start;
        if (ll > 0 && data[end - 1] == '\r')
            ll--;
        if (ll == 0) {
            if (st->line_start == 0)
                return policy_bad(why, "empty request");
            *reqlen = end + 1;
            st->pos = st->line_start = 0;
            return POLICY_DONE;
        }
        i = end + 1;
        st->line_start = i;
    }
    st->pos = len;
    return POLICY_MORE;
}

/*
 * policy_find_blank - the first "\n\n" in p[0..n), or NULL
 *
 * Every request is searched for its end, so this runs for every byte
 * Postfix sends: with SSE2, 16 positions at a time (a byte and its
 * successor both '\n'); glibc's memmem does not vectorise 2-byte needles.
 */
static const char *policy_find_blank(const char *p, size_t n)
{
    size_t i = 0;

#ifdef __SSE2__
    const __m128i nl = _mm_set1_epi8('\n');

    for (; i + 17 <= n; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 1));
        int m = _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, nl), _mm_cmpeq_epi8(b, nl)));
        if (m)
            return p + i + __builtin_ctz((unsigned)m);
    }
#endif
    for (; i + 1 < n; i++)
        if (p[i] == '\n' && p[i + 1] == '\n')
            return p + i;
    return NULL;
}

/*
 * policy_frame - does data start with a complete request? Resumes at st->pos.
 *
 * Only complete lines are judged; an incomplete one is measured against
 * the limits so that a peer cannot make the buffer grow without bound.
 * This is the hot path, so the usual case takes a short cut: one search
 * for the blank line, and when the whole request is shorter than
 * max_line no line in it can be too long. NUL bytes are looked for in
 * this request's complete lines only.
 */
int policy_frame(const char *data, size_t len, const policy_limits *lim, policy_scan *st,
                 size_t *reqlen, const char **why)
{
    size_t from = st->pos ? st->pos - 1 : 0, end = len;
    const char *e = NULL;

    if (len > 0 && data[0] != '\n')
        e = policy_find_blank(data + from, len - from);
    if (e)
        end = (size_t)(e - data) + 2;
    /* a CR makes "\r\n" lines count as blank (policy_frame_lines); the short
       cut only knows "\n\n", so requests with a CR take the long way */
    if (e && end <= lim->max_line && !memchr(data, '\r', end)) {
        /* only this request's bytes: a NUL in a pipelined next request must not
           refuse this one, or the answer would depend on how the bytes arrived */
        if (memchr(data + st->line_start, '\0', end - st->line_start))
            return policy_bad(why, "NUL byte in request");
        *reqlen = end;
        st->pos = st->line_start = 0;
        return POLICY_DONE;
    }
    return policy_frame_lines(data, len, lim, st, reqlen, why);
}

/* policy_name_chars - attribute names are short words: letters, digits, '_', '-', '.' */
static const unsigned char policy_name_chars[256] = {
        ['-'] = 1, ['.'] = 1, ['_'] = 1, ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
};

/*
 * policy_name_end - the first byte at or after p that is no name character
 * (end when there is none). Postfix sends some 30 lines a request, so this
 * and policy_line_end run for nearly every byte of it: with SSE2, 16 bytes
 * at a time, a bit per byte (letters are case-folded with 0x20 and tested
 * as one unsigned range, as are digits, both by the signed-compare trick).
 */
static char *policy_name_end(char *p, const char *end)
{
#ifdef __SSE2__
    const __m128i fold = _mm_set1_epi8(0x20), bias_a = _mm_set1_epi8((char)('a' + 128)),
                  n26 = _mm_set1_epi8(26 - 128), bias_0 = _mm_set1_epi8((char)('0' + 128)),
                  n10 = _mm_set1_epi8(10 - 128), us = _mm_set1_epi8('_'), dash = _mm_set1_epi8('-'),
                  dot = _mm_set1_epi8('.');

    for (; end - p >= 16; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i alpha = _mm_cmplt_epi8(_mm_sub_epi8(_mm_or_si128(x, fold), bias_a), n26);
        __m128i digit = _mm_cmplt_epi8(_mm_sub_epi8(x, bias_0), n10);
        __m128i punct = _mm_or_si128(_mm_cmpeq_epi8(x, us),
                                     _mm_or_si128(_mm_cmpeq_epi8(x, dash), _mm_cmpeq_epi8(x, dot)));
        unsigned m = ~(unsigned)_mm_movemask_epi8(_mm_or_si128(alpha, _mm_or_si128(digit, punct))) &
                     0xffffu;
        if (m)
            return p + __builtin_ctz(m);
    }
#endif
    while (p < end && policy_name_chars[(unsigned char)*p])
        p++;
    return p;
}

/* policy_line_end - the first '\n' in [p, end), or NULL (values are short: no memchr call) */
static char *policy_line_end(char *p, const char *end)
{
#ifdef __SSE2__
    const __m128i nl = _mm_set1_epi8('\n');

    for (; end - p >= 16; p += 16) {
        unsigned m = (unsigned)_mm_movemask_epi8(
                _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), nl));
        if (m)
            return p + __builtin_ctz(m);
    }
#endif
    return memchr(p, '\n', (size_t)(end - p));
}

/* policy_lookup - index of a known attribute name, -1 for the many sendgate ignores */
static int policy_lookup(const char *s, size_t n)
{
    int a = -1;

    /* by length first: most of the ~30 names Postfix sends fail here at once */
    switch (n) {
    case 6:
        a = PA_SENDER;
        break;
    case 7:
        a = PA_REQUEST;
        break;
    case 8:
        a = s[0] == 'q' ? PA_QUEUE_ID : PA_INSTANCE;
        break;
    case 9:
        a = PA_RECIPIENT;
        break;
    case 11:
        a = PA_CLIENT_NAME;
        break;
    case 13:
        a = s[0] == 'p' ? PA_PROTOCOL_NAME : PA_SASL_USERNAME;
        break;
    case 14:
        a = s[0] == 'c' ? PA_CLIENT_ADDRESS : s[1] == 'r' ? PA_PROTOCOL_STATE : PA_POLICY_CONTEXT;
        break;
    default:
        return -1;
    }
    return policy_names[a].name[n - 1] == s[n - 1] && policy_names[a].name[0] == s[0] &&
                           memcmp(policy_names[a].name, s, n) == 0
                   ? a
                   : -1;
}

/* policy_line_error - why the line at name is no "name=value" line */
static int policy_line_error(const char *name, const char *stop, const char *end, const char **why)
{
    const char *nl = memchr(name, '\n', (size_t)(end - name));

    if (memchr(name, '=', (size_t)((nl ? nl : end) - name)) == NULL)
        return policy_bad(why, "attribute line without '='");
    return policy_bad(why, stop == name ? "empty attribute name" : "malformed attribute name");
}

/*
 * policy_parse - split a request policy_frame accepted (len bytes, blank
 * line included) in place: the name is scanned and checked in one pass,
 * the value's end found with memchr, and only known attributes get their
 * '=' and newline replaced by NULs.
 */
int policy_parse(char *req, size_t len, policy_req *out, const char **why)
{
    char *p = req, *end = req + len;

    memset(out, 0, sizeof(*out));
    while (p < end) {
        char *name = p, *nl, *vend;
        int a;

        p = policy_name_end(name, end);
        if (p == name && p < end && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')))
            break; /* the blank line that ends the request */
        if (p == end || *p != '=' || p == name)
            return policy_line_error(name, p, end, why);
        nl = policy_line_end(p + 1, end);
        if (nl == NULL)
            return policy_bad(why, "request not terminated by an empty line");
        vend = nl > p + 1 && nl[-1] == '\r' ? nl - 1 : nl;
        out->n_attrs++;
        if ((a = policy_lookup(name, (size_t)(p - name))) >= 0) {
            *p = *vend = '\0';
            out->v[a] = p + 1; /* a repeated attribute: the last one counts */
        }
        p = nl + 1;
    }
    if (out->n_attrs == 0)
        return policy_bad(why, "empty request");
    if (out->v[PA_REQUEST] == NULL)
        return policy_bad(why, "no request= attribute");
    if (strcmp(out->v[PA_REQUEST], "smtpd_access_policy") != 0)
        return policy_bad(why, "request type is not smtpd_access_policy");
    return POLICY_DONE;
}

/*
 * policy_reply - append "action=ACTION" and the empty line
 *
 * Control characters would end the line early and desynchronise the
 * stream (a second action line for one request), so they become spaces.
 */
bool policy_reply(buf *out, const char *action)
{
    size_t start = out->len;

    buf_append_str(out, "action=");
    for (const char *p = action; *p; p++)
        buf_putc(out, (unsigned char)*p < ' ' || *p == 0x7f ? ' ' : *p);
    buf_append(out, "\n\n", 2);
    if (buf_failed(out)) {
        if (out->data)
            out->len = start, out->data[start] = '\0';
        return false;
    }
    return true;
}

/* policy_reply_verdict - a verdict as the action: DUNNO when accepted, else "CODE ESC text" */
bool policy_reply_verdict(buf *out, const verdict *v)
{
    char action[VERDICT_TEXT_MAX + 32];

    if (v->action == CONF_ACCEPT)
        return policy_reply(out, "DUNNO");
    snprintf(action, sizeof(action), "%d %s %s", v->code, v->esc, v->text);
    return policy_reply(out, action);
}
