/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * enc.c - quoted-printable (RFC 2045 6.7) and base64 (RFC 2045 6.8)
 *
 * Decoding is lenient, as readers are: a QP soft line break (=CRLF or =LF)
 * disappears, =XX in either case becomes its byte, a bad escape is kept as
 * it is; base64 ignores everything outside its alphabet and stops at '='.
 * Encoding is strict: lines of at most 76 characters, QP soft breaks never
 * split an escape, trailing white space and every byte outside printable
 * ASCII are escaped, line breaks of the decoded text become eol.
 */
#include "milter/rewrite/rw_int.h"

#include <string.h>

#include "lib/hex.h"

/* rw_qp_decode - quoted-printable to bytes; line breaks are kept as they are */
bool rw_qp_decode(const unsigned char *in, size_t len, buf *out)
{
    size_t i = 0;

    if (!buf_reserve(out, len))
        return false;
    while (i < len) {
        const unsigned char *eq = memchr(in + i, '=', len - i);
        size_t run = eq ? (size_t)(eq - (in + i)) : len - i;
        buf_append(out, in + i, run);
        i += run;
        if (i >= len)
            break;
        /* in[i] == '=' */
        if (i + 1 < len && in[i + 1] == '\n') {
            i += 2;
        } else if (i + 2 < len && in[i + 1] == '\r' && in[i + 2] == '\n') {
            i += 3;
        } else if (i + 2 < len && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
            buf_putc(out, (char)(hex_value(in[i + 1]) << 4 | hex_value(in[i + 2])));
            i += 3;
        } else {
            /* soft break with trailing white space (or stray CRs) before the line end */
            size_t j = i + 1;
            while (j < len && (in[j] == ' ' || in[j] == '\t' || in[j] == '\r'))
                j++;
            if (j > i + 1 && j < len && in[j] == '\n') {
                i = j + 1;
                continue;
            }
            buf_putc(out, '=');
            i++;
        }
    }
    return !buf_failed(out);
}

static const signed char b64dec[256] = {
        ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,
        ['H'] = 8,  ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
        ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21,
        ['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28,
        ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
        ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
        ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
        ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
        ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63,
        ['/'] = 64,
};

/* rw_b64_decode - base64 to bytes (value+1 in the table, 0 = not base64) */
bool rw_b64_decode(const unsigned char *in, size_t len, buf *out)
{
    unsigned acc = 0;
    int n = 0;

    if (!buf_reserve(out, len / 4 * 3 + 3))
        return false;
    unsigned char *o = (unsigned char *)out->data + out->len;
    for (size_t i = 0; i < len && in[i] != '='; i++) {
        int v = b64dec[in[i]];
        if (v == 0)
            continue;
        acc = acc << 6 | (unsigned)(v - 1);
        if (++n == 4) {
            o[0] = (unsigned char)(acc >> 16);
            o[1] = (unsigned char)(acc >> 8);
            o[2] = (unsigned char)acc;
            o += 3;
            acc = 0;
            n = 0;
        }
    }
    if (n == 2) {
        *o++ = (unsigned char)(acc >> 4);
    } else if (n == 3) {
        o[0] = (unsigned char)(acc >> 10);
        o[1] = (unsigned char)(acc >> 2);
        o += 2;
    }
    out->len = (size_t)((char *)o - out->data);
    out->data[out->len] = '\0';
    return true;
}

static const char b64enc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* rw_b64_encode - 76-character lines, each ended with eol */
bool rw_b64_encode(const unsigned char *in, size_t len, const char *eol, buf *out)
{
    size_t eol_len = strlen(eol), col = 0;

    if (!buf_reserve(out, (len + 2) / 3 * 4 + (len / 57 + 1) * eol_len))
        return false;
    char *o = out->data + out->len;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        o[0] = b64enc[v >> 18 & 63];
        o[1] = b64enc[v >> 12 & 63];
        o[2] = i + 1 < len ? b64enc[v >> 6 & 63] : '=';
        o[3] = i + 2 < len ? b64enc[v & 63] : '=';
        o += 4;
        col += 4;
        if (col == 76) {
            memcpy(o, eol, eol_len);
            o += eol_len;
            col = 0;
        }
    }
    if (col) {
        memcpy(o, eol, eol_len);
        o += eol_len;
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
    return true;
}

/* printable ASCII (and the space) that QP never escapes in the middle of a line */
#define QP_P(c)   (((c) >= 32 && (c) <= 126 && (c) != '=') ? 1 : 0)
#define QP_R4(c)  QP_P(c), QP_P((c) + 1), QP_P((c) + 2), QP_P((c) + 3)
#define QP_R16(c) QP_R4(c), QP_R4((c) + 4), QP_R4((c) + 8), QP_R4((c) + 12)
#define QP_R64(c) QP_R16(c), QP_R16((c) + 16), QP_R16((c) + 32), QP_R16((c) + 48)
static const unsigned char qp_plain_tab[256] = {QP_R64(0), QP_R64(64), QP_R64(128), QP_R64(192)};

static inline bool qp_plain(unsigned char c)
{
    return qp_plain_tab[c] != 0;
}

/* qp_at_eol - is in[i] the last byte of its line (before LF, CRLF or the end)? */
static inline bool qp_at_eol(const unsigned char *in, size_t len, size_t i)
{
    return i + 1 == len || in[i + 1] == '\n' ||
           (in[i + 1] == '\r' && i + 2 < len && in[i + 2] == '\n');
}

/* qp_escaped - must c be written as =XX: '=', controls but tab, 8-bit bytes, white space
   that ends a line, and a '.' or '-' that starts one (a lone "." or a "--" boundary) */
static inline bool qp_escaped(unsigned char c, bool at_eol, size_t col)
{
    return c == '=' || c > 126 || (c < 32 && c != '\t') || ((c == ' ' || c == '\t') && at_eol) ||
           ((c == '.' || c == '-') && col == 0);
}

/* rw_qp_encode - lines of at most 76 characters; decoded line breaks become eol */
bool rw_qp_encode(const unsigned char *in, size_t len, const char *eol, buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t eol_len = strlen(eol), col = 0;

    /* worst case: every byte escaped, plus a soft break per 25 of them */
    if (!buf_reserve(out, len * 3 + (len / 24 + 2) * (eol_len + 1) + 16))
        return false;
    char *o = out->data + out->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = in[i];
        if (c == '\n' || (c == '\r' && i + 1 < len && in[i + 1] == '\n')) {
            if (c == '\r')
                i++;
            memcpy(o, eol, eol_len);
            o += eol_len;
            col = 0;
            continue;
        }
        if (qp_plain(c) && col > 0 && col < 74) {
            /* a run of plain characters: copied at once, up to the column limit
               (leaving the last one to the careful path below) */
            size_t j = i + 1, lim = i + (74 - col) + 1;
            if (lim > len)
                lim = len;
            while (j < lim && qp_plain_tab[in[j]])
                j++;
            /* in[i..j) is plain: all but its last byte, which may end a line */
            size_t n = j - i - 1;
            if (n > 0) {
                memcpy(o, in + i, n);
                o += n;
                col += n;
                i += n - 1;
                continue;
            }
        }
        bool at_eol = qp_at_eol(in, len, i);
        bool esc = qp_escaped(c, at_eol, col);
        size_t tl = esc ? 3 : 1;
        /* room for the token and, unless the line ends right after it, a soft break */
        if (col + tl > (at_eol ? 76u : 75u)) {
            *o++ = '=';
            memcpy(o, eol, eol_len);
            o += eol_len;
            col = 0;
            if (c == '.' || c == '-') {
                esc = true;
                tl = 3;
            }
        }
        if (esc) {
            o[0] = '=';
            o[1] = hex[c >> 4];
            o[2] = hex[c & 15];
            o += 3;
        } else {
            *o++ = (char)c;
        }
        col += tl;
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
    return true;
}

/* rw_needs_qp - would these bytes break a 7bit/8bit part (RFC 5322 998, 8-bit in 7bit, NUL, bare
 * CR)? */
bool rw_needs_qp(const unsigned char *in, size_t len, bool seven_bit)
{
    const unsigned char *p = in, *end = in + len;

    if (memchr(in, 0, len))
        return true;
    while (p < end) {
        const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
        const unsigned char *le = nl ? nl : end;
        size_t l = (size_t)(le - p);
        if (l && le[-1] == '\r' && nl)
            l--;
        if (l > 998 || memchr(p, '\r', l))
            return true;
        if (seven_bit)
            for (size_t i = 0; i < l; i++)
                if (p[i] > 127)
                    return true;
        p = nl ? nl + 1 : end;
    }
    return false;
}
