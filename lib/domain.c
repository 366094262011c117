/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * domain.c - domain name normalisation (see domain.h)
 */
#include "lib/domain.h"

#include <idn2.h>
#include <stdlib.h>
#include <string.h>

/* letters, digits and '-': the octets of an LDH label (ASCII, whatever the locale) */
static const unsigned char domain_ldh[256] = {
        ['-'] = 1,
        ['0' ... '9'] = 1,
        ['A' ... 'Z'] = 1,
        ['a' ... 'z'] = 1,
};

static char domain_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

static bool domain_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* domain_is_valid_ascii - LDH host name check on an already lowercased name */
bool domain_is_valid_ascii(const char *d, size_t len, char *err, size_t errlen)
{
    size_t label = 0;

    if (len == 0)
        return errbuf_set(err, errlen, "empty domain");
    if (len > DOMAIN_MAX - 1)
        return errbuf_set(err, errlen, "domain longer than 253 octets");
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)d[i];
        if (ch == '.') {
            if (label == 0)
                return errbuf_set(err, errlen, "empty label");
            if (d[i - 1] == '-')
                return errbuf_set(err, errlen, "label ends with '-'");
            label = 0;
            continue;
        }
        if (!domain_ldh[ch])
            return errbuf_set(err, errlen, "character not allowed in a host name");
        if (label == 0 && ch == '-')
            return errbuf_set(err, errlen, "label starts with '-'");
        if (++label > 63)
            return errbuf_set(err, errlen, "label longer than 63 octets");
    }
    if (label == 0)
        return errbuf_set(err, errlen, "empty label");
    if (d[len - 1] == '-')
        return errbuf_set(err, errlen, "label ends with '-'");
    return true;
}

/* domain_to_alabel - IDNA2008 conversion of a name with non-ASCII octets */
static bool domain_to_alabel(const char *in, size_t len, char out[DOMAIN_MAX], char *err,
                             size_t errlen)
{
    char *tmp, *alabel = NULL;
    int rc;

    if ((tmp = strndup(in, len)) == NULL)
        return errbuf_set(err, errlen, "out of memory");
    rc = idn2_lookup_u8((const uint8_t *)tmp, (uint8_t **)&alabel,
                        IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    free(tmp);
    if (rc != IDN2_OK)
        return errbuf_set(err, errlen, "not a valid internationalized domain name");
    if (strlen(alabel) >= DOMAIN_MAX) {
        idn2_free(alabel);
        return errbuf_set(err, errlen, "domain longer than 253 octets");
    }
    strcpy(out, alabel);
    idn2_free(alabel);
    return true;
}

/* domain_has_alabel - does a lowercased name have a label starting "xn--"? */
static bool domain_has_alabel(const char *d)
{
    for (const char *p = d; p; p = strchr(p, '.'), p = p ? p + 1 : NULL)
        if (p[0] == 'x' && p[1] == 'n' && p[2] == '-' && p[3] == '-')
            return true;
    return false;
}

/*
 * domain_check_alabels - an ASCII name written with A-labels must decode:
 * "xn--zz.example" is not a name any provider or resolver agrees on, and
 * letting it through would give one domain two spellings in the cache
 */
static bool domain_check_alabels(const char *d, char *err, size_t errlen)
{
    char *tmp = NULL;
    int rc = idn2_lookup_u8((const uint8_t *)d, (uint8_t **)&tmp,
                            IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);

    idn2_free(tmp);
    if (rc != IDN2_OK)
        return errbuf_set(err, errlen,
                          "not a valid internationalized domain name (bad xn-- label)");
    return true;
}

/* domain_normalize - trim, drop the root dot, A-label, lowercase, validate */
bool domain_normalize(const char *in, size_t len, char out[DOMAIN_MAX], char *err, size_t errlen)
{
    bool ascii = true;

    while (len && domain_space(in[0]))
        in++, len--;
    while (len && domain_space(in[len - 1]))
        len--;
    if (len && in[len - 1] == '.')
        len--;
    if (len == 0)
        return errbuf_set(err, errlen, "empty domain");
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\0')
            return errbuf_set(err, errlen, "NUL in domain");
        if ((unsigned char)in[i] >= 0x80)
            ascii = false;
    }
    if (ascii) {
        if (len >= DOMAIN_MAX)
            return errbuf_set(err, errlen, "domain longer than 253 octets");
        for (size_t i = 0; i < len; i++)
            out[i] = domain_lower(in[i]);
        out[len] = '\0';
    } else if (!domain_to_alabel(in, len, out, err, errlen)) {
        return false;
    }
    if (!domain_is_valid_ascii(out, strlen(out), err, errlen))
        return false;
    return !ascii || !domain_has_alabel(out) || domain_check_alabels(out, err, errlen);
}

/* domain_is_subdomain - d equals parent or ends with "." parent (both normalised) */
bool domain_is_subdomain(const char *d, const char *parent)
{
    size_t dl = strlen(d), pl = strlen(parent);

    if (dl == pl)
        return strcmp(d, parent) == 0;
    return dl > pl && d[dl - pl - 1] == '.' && strcmp(d + dl - pl, parent) == 0;
}
