/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * token.c - signed tracking tokens: encode, sign, verify, key files
 *
 * The milter calls token_make for every link, pixel and unsubscribe URL it
 * writes into a message; sendgate-trackd calls token_verify for every
 * request; sendgatectl decodes and makes tokens for operators. The format
 * is in token.h. Everything here is a pure function of its arguments and
 * the loaded keys, so unit tests and fuzzers drive it without a daemon.
 */
#include "lib/token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "lib/hex.h"

#define TOKEN_HDR_LEN 3 /* version, key id, purpose */
#define TOKEN_BIN_MAX (TOKEN_TEXT_MAX * 3 / 4)
#define TOKEN_MIN_BIN (TOKEN_HDR_LEN + 2 + 3 + TOKEN_MAC_LEN)

struct token_key {
    unsigned id;
    size_t len;
    unsigned char secret[TOKEN_KEY_MAX];
    /* HMAC-SHA256 with the key's inner and outer pads already hashed: a
       token costs two copies and two short digests, not a MAC fetch, two
       pad hashes and the allocations of a one-shot HMAC() (NULL: one-shot) */
    EVP_MD_CTX *inner, *outer;
};

struct token_keys {
    size_t n, cap;
    struct token_key *v;
};

static const char token_b64url[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* token_b64_value - the 6-bit value of a base64 or base64url character, -1 if none */
static int token_b64_value(unsigned char ch, bool url_only)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '-' || (!url_only && ch == '+'))
        return 62;
    if (ch == '_' || (!url_only && ch == '/'))
        return 63;
    return -1;
}

/* token_b64_encode - base64url without padding, appended to out */
static void token_b64_encode(const unsigned char *in, size_t n, buf *out)
{
    char *p;
    size_t i;

    if (!buf_reserve(out, (n + 2) / 3 * 4 + 1))
        return;
    p = out->data + out->len;
    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        *p++ = token_b64url[v >> 18];
        *p++ = token_b64url[(v >> 12) & 63];
        *p++ = token_b64url[(v >> 6) & 63];
        *p++ = token_b64url[v & 63];
    }
    if (n - i == 1) {
        *p++ = token_b64url[in[i] >> 2];
        *p++ = token_b64url[(in[i] & 3) << 4];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 8 | in[i + 1];
        *p++ = token_b64url[v >> 10];
        *p++ = token_b64url[(v >> 4) & 63];
        *p++ = token_b64url[(v & 15) << 2];
    }
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
}

/*
 * token_b64_decode - strict base64 into out (at most max bytes); -1 when invalid.
 * Unused low bits of the last character must be zero: otherwise two token
 * texts would decode to the same bytes and a changed character could verify.
 */
static long token_b64_decode(const char *in, size_t n, bool url_only, unsigned char *out,
                             size_t max)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;

    if (!url_only)
        while (n > 0 && in[n - 1] == '=')
            n--;
    if (n % 4 == 1 || n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) > max)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = token_b64_value((unsigned char)in[i], url_only);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical trailing bits */
        return -1;
    return (long)o;
}

/* token_put_varint - unsigned LEB128 */
static size_t token_put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;

    do {
        p[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            p[n] |= 0x80;
        n++;
    } while (v);
    return n;
}

/* token_get_varint - read a LEB128 value; false when truncated or wider than 63 bits */
static bool token_get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    uint64_t r = 0;

    for (int shift = 0; shift < 63; shift += 7) {
        if (*p >= end)
            return false;
        unsigned char b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return r <= (uint64_t)INT64_MAX;
        }
    }
    return false;
}

/* token_msgref_ok - printable ASCII without space: safe in logs, JSON and argv */
static bool token_msgref_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

/* token_find_key - the key with this id, or NULL */
static const struct token_key *token_find_key(const token_keys *k, unsigned id)
{
    for (size_t i = 0; k && i < k->n; i++)
        if (k->v[i].id == id)
            return &k->v[i];
    return NULL;
}

/* token_pads - the key's HMAC-SHA256 inner and outer states (RFC 2104); false on failure */
static bool token_pads(struct token_key *key)
{
    unsigned char block[64], pad[64];
    bool ok;

    memset(block, 0, sizeof(block));
    if (key->len > sizeof(block)) { /* a key longer than the block is hashed first */
        if (!EVP_Digest(key->secret, key->len, block, NULL, EVP_sha256(), NULL))
            return false;
    } else {
        memcpy(block, key->secret, key->len);
    }
    key->inner = EVP_MD_CTX_new();
    key->outer = EVP_MD_CTX_new();
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = block[i] ^ 0x36;
    ok = key->inner && key->outer && EVP_DigestInit_ex(key->inner, EVP_sha256(), NULL) &&
         EVP_DigestUpdate(key->inner, pad, sizeof(pad));
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = block[i] ^ 0x5c;
    ok = ok && EVP_DigestInit_ex(key->outer, EVP_sha256(), NULL) &&
         EVP_DigestUpdate(key->outer, pad, sizeof(pad));
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(pad, sizeof(pad));
    if (!ok) {
        EVP_MD_CTX_free(key->inner);
        EVP_MD_CTX_free(key->outer);
        key->inner = key->outer = NULL;
    }
    return ok;
}

/* token_mac - HMAC-SHA256 of data, truncated */
static bool token_mac(const struct token_key *key, const unsigned char *data, size_t n,
                      unsigned char mac[TOKEN_MAC_LEN])
{
    unsigned char full[EVP_MAX_MD_SIZE];
    unsigned int flen = 0;
    bool ok;

    if (key->inner == NULL) {
        ok = HMAC(EVP_sha256(), key->secret, (int)key->len, data, n, full, &flen) != NULL;
    } else {
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        ok = c && EVP_MD_CTX_copy_ex(c, key->inner) && EVP_DigestUpdate(c, data, n) &&
             EVP_DigestFinal_ex(c, full, &flen) && EVP_MD_CTX_copy_ex(c, key->outer) &&
             EVP_DigestUpdate(c, full, flen) && EVP_DigestFinal_ex(c, full, &flen);
        EVP_MD_CTX_free(c);
    }
    ok = ok && flen >= TOKEN_MAC_LEN;
    if (ok)
        memcpy(mac, full, TOKEN_MAC_LEN);
    OPENSSL_cleanse(full, sizeof(full));
    return ok;
}

/* token_serialize - the claims as payload bytes (without MAC); 0 when a field is invalid */
static size_t token_serialize(const token_claims *c, unsigned id, unsigned char *p, size_t max)
{
    size_t ml = strlen(c->msgref), dl = strlen(c->domain), rl = strlen(c->rcpt), n = 0;
    size_t ul = c->purpose == TOKEN_CLICK ? strnlen(c->url, TOKEN_URL_MAX + 1) : 0;

    if (c->purpose < TOKEN_CLICK || c->purpose > TOKEN_UNSUB || ml >= TOKEN_MSGREF_MAX ||
        !token_msgref_ok(c->msgref, ml) || dl >= DOMAIN_MAX || rl >= ADDR_MAX ||
        ul > TOKEN_URL_MAX || c->issued < 0)
        return 0;
    if (TOKEN_HDR_LEN + 10 + 10 + 1 + ml + 1 + dl + 2 + rl + ul + TOKEN_MAC_LEN > max)
        return 0;
    p[n++] = TOKEN_VERSION;
    p[n++] = (unsigned char)id;
    p[n++] = (unsigned char)c->purpose;
    n += token_put_varint(p + n, c->link_index);
    n += token_put_varint(p + n, (uint64_t)c->issued);
    p[n++] = (unsigned char)ml;
    memcpy(p + n, c->msgref, ml);
    n += ml;
    p[n++] = (unsigned char)dl;
    memcpy(p + n, c->domain, dl);
    n += dl;
    n += token_put_varint(p + n, rl);
    memcpy(p + n, c->rcpt, rl);
    n += rl;
    memcpy(p + n, c->url, ul);
    return n + ul;
}

/* token_make - sign the claims with the first key; append the token text to out */
bool token_make(const token_keys *k, const token_claims *c, buf *out)
{
    unsigned char bin[TOKEN_BIN_MAX];
    size_t n, before = out->len;

    if (k == NULL || k->n == 0)
        return false;
    n = token_serialize(c, k->v[0].id, bin, sizeof(bin));
    if (n == 0 || !token_mac(&k->v[0], bin, n, bin + n))
        return false;
    n += TOKEN_MAC_LEN;
    if ((n * 4 + 2) / 3 > TOKEN_TEXT_MAX)
        return false;
    token_b64_encode(bin, n, out);
    if (buf_failed(out)) {
        out->len = before < out->len ? before : out->len;
        return false;
    }
    return true;
}

/* token_make_url - "https://HOST/c/TOKEN" (or /o/, /u/) appended to out; nothing on failure */
bool token_make_url(const token_keys *k, const char *host, const token_claims *c, buf *out)
{
    size_t before = out->len;
    const char *path = token_path(c->purpose);

    if (path == NULL || host == NULL || *host == '\0')
        return false;
    buf_printf(out, "https://%s%s", host, path);
    if (buf_failed(out) || !token_make(k, c, out)) {
        if (out->data && before <= out->len) {
            out->len = before;
            out->data[before] = '\0';
        }
        return false;
    }
    return true;
}

/* token_get_str - a length-prefixed string into dst (size dstlen, NUL-terminated) */
static bool token_get_str(const unsigned char **p, const unsigned char *end, uint64_t len,
                          char *dst, size_t dstlen)
{
    if (len >= dstlen || (uint64_t)(end - *p) < len || memchr(*p, '\0', (size_t)len))
        return false;
    memcpy(dst, *p, (size_t)len);
    dst[len] = '\0';
    *p += len;
    return true;
}

/* token_parse - the fields of a decoded token (MAC not checked) into out */
static int token_parse(const unsigned char *bin, size_t n, token_claims *out)
{
    const unsigned char *p = bin + TOKEN_HDR_LEN, *end = bin + n - TOKEN_MAC_LEN;
    uint64_t idx, issued, len;

    memset(out, 0, sizeof(*out));
    out->key_id = bin[1];
    out->purpose = bin[2];
    if (out->purpose < TOKEN_CLICK || out->purpose > TOKEN_UNSUB)
        return TOKEN_EMALFORMED;
    if (!token_get_varint(&p, end, &idx) || idx > UINT32_MAX || !token_get_varint(&p, end, &issued))
        return TOKEN_EMALFORMED;
    out->link_index = (unsigned)idx;
    out->issued = (int64_t)issued;
    if (p >= end)
        return TOKEN_EMALFORMED;
    len = *p++;
    if (!token_get_str(&p, end, len, out->msgref, sizeof(out->msgref)) ||
        !token_msgref_ok(out->msgref, strlen(out->msgref)) || p >= end)
        return TOKEN_EMALFORMED;
    len = *p++;
    if (!token_get_str(&p, end, len, out->domain, sizeof(out->domain)))
        return TOKEN_EMALFORMED;
    if (!token_get_varint(&p, end, &len) || !token_get_str(&p, end, len, out->rcpt, ADDR_MAX))
        return TOKEN_EMALFORMED;
    if (!token_get_str(&p, end, (uint64_t)(end - p), out->url, sizeof(out->url)))
        return TOKEN_EMALFORMED;
    return TOKEN_OK;
}

/* token_decode_bin - base64url text to bytes with the basic shape checked */
static int token_decode_bin(const char *tok, size_t len, unsigned char *bin, size_t *n)
{
    long r;

    if (len > TOKEN_TEXT_MAX)
        return TOKEN_EMALFORMED;
    r = token_b64_decode(tok, len, true, bin, TOKEN_BIN_MAX);
    if (r < (long)TOKEN_MIN_BIN)
        return TOKEN_EMALFORMED;
    *n = (size_t)r;
    return bin[0] == TOKEN_VERSION ? TOKEN_OK : TOKEN_EVERSION;
}

/* token_verify - check a token's MAC with the configured keys, then its purpose */
int token_verify(const token_keys *k, const char *tok, size_t len, int want_purpose,
                 token_claims *out)
{
    unsigned char bin[TOKEN_BIN_MAX], mac[TOKEN_MAC_LEN];
    const struct token_key *key;
    size_t n;
    int rc = token_decode_bin(tok, len, bin, &n);

    if (rc != TOKEN_OK)
        return rc;
    if ((key = token_find_key(k, bin[1])) == NULL)
        return TOKEN_EUNKNOWN_KEY;
    if (!token_mac(key, bin, n - TOKEN_MAC_LEN, mac) ||
        CRYPTO_memcmp(mac, bin + n - TOKEN_MAC_LEN, TOKEN_MAC_LEN) != 0)
        return TOKEN_EBAD_MAC;
    if ((rc = token_parse(bin, n, out)) != TOKEN_OK)
        return rc;
    if (want_purpose != TOKEN_ANY && out->purpose != want_purpose)
        return TOKEN_EWRONG_PURPOSE;
    return TOKEN_OK;
}

/* token_inspect - the claims of a token WITHOUT checking its MAC (sendgatectl token decode) */
int token_inspect(const char *tok, size_t len, token_claims *out)
{
    unsigned char bin[TOKEN_BIN_MAX];
    size_t n;
    int rc = token_decode_bin(tok, len, bin, &n);

    if (rc != TOKEN_OK) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    return token_parse(bin, n, out);
}

/* token_keys_new - an empty key set */
token_keys *token_keys_new(void)
{
    return calloc(1, sizeof(token_keys));
}

/* token_keys_free - forget the keys, wiping the secrets */
void token_keys_free(token_keys *k)
{
    if (k == NULL)
        return;
    for (size_t i = 0; i < k->n; i++) {
        EVP_MD_CTX_free(k->v[i].inner);
        EVP_MD_CTX_free(k->v[i].outer);
    }
    if (k->v)
        OPENSSL_cleanse(k->v, k->cap * sizeof(*k->v));
    free(k->v);
    free(k);
}

/* token_keys_add - append a key (the first added signs) */
bool token_keys_add(token_keys *k, unsigned id, const void *secret, size_t len, char *err,
                    size_t errlen)
{
    if (id < 1 || id > 255) {
        snprintf(err, errlen, "key id %u out of range 1..255", id);
        return false;
    }
    if (len < TOKEN_KEY_MIN || len > TOKEN_KEY_MAX) {
        snprintf(err, errlen, "key %u: secret of %zu bytes (need %d..%d)", id, len, TOKEN_KEY_MIN,
                 TOKEN_KEY_MAX);
        return false;
    }
    if (token_find_key(k, id)) {
        snprintf(err, errlen, "key id %u configured twice", id);
        return false;
    }
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 4;
        struct token_key *v = calloc(cap, sizeof(*v));
        if (v == NULL) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
        if (k->v) {
            memcpy(v, k->v, k->n * sizeof(*v));
            OPENSSL_cleanse(k->v, k->cap * sizeof(*v));
            free(k->v);
        }
        k->v = v;
        k->cap = cap;
    }
    k->v[k->n].id = id;
    k->v[k->n].len = len;
    memcpy(k->v[k->n].secret, secret, len);
    token_pads(&k->v[k->n]); /* on failure the one-shot HMAC() is used */
    k->n++;
    return true;
}

/* token_keys_count - how many keys are loaded */
size_t token_keys_count(const token_keys *k)
{
    return k ? k->n : 0;
}

/* token_keys_id - the id of key i (0 signs) */
unsigned token_keys_id(const token_keys *k, size_t i)
{
    return k && i < k->n ? k->v[i].id : 0;
}

/* token_hex_decode - an even-length hex string; -1 when it is not one */
static long token_hex_decode(const char *s, size_t n, unsigned char *out, size_t max)
{
    if (n % 2 || n / 2 > max)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int a = hex_value(s[i]), b = hex_value(s[i + 1]);
        if (a < 0 || b < 0)
            return -1;
        out[i / 2] = (unsigned char)(a << 4 | b);
    }
    return (long)(n / 2);
}

/* token_parse_keyline - "ID SECRET" into id and secret */
static bool token_parse_keyline(char *line, unsigned *id, unsigned char *sec, size_t *slen,
                                const char **why)
{
    char *end, *s;
    unsigned long v;
    long n;
    size_t sl;

    errno = 0;
    v = strtoul(line, &end, 10);
    if (end == line || errno || v < 1 || v > 255 || (*end != ' ' && *end != '\t')) {
        *why = "the line must be 'ID SECRET' with ID 1..255";
        return false;
    }
    s = end + strspn(end, " \t");
    sl = strcspn(s, " \t\r\n");
    if (s[sl + strspn(s + sl, " \t\r\n")] != '\0') {
        *why = "text after the secret";
        return false;
    }
    n = token_hex_decode(s, sl, sec, TOKEN_KEY_MAX);
    if (n < 0)
        n = token_b64_decode(s, sl, false, sec, TOKEN_KEY_MAX);
    if (n < 0) {
        *why = "the secret is neither hex nor base64";
        return false;
    }
    *id = (unsigned)v;
    *slen = (size_t)n;
    return true;
}

/* key files: a regular file, never through a symbolic link, that only owner and group may read */
const rfile_policy token_keyfile_policy = {"token key file", TOKEN_FILE_MAX,
                                           S_IROTH | S_IWOTH | S_IWGRP, true};

/* token_keys_add_file - load one key file (see token.h for the format) */
bool token_keys_add_file(token_keys *k, const char *path, char *err, size_t errlen)
{
    char *text, *line, *save = NULL;
    unsigned char sec[TOKEN_KEY_MAX];
    const char *why = "no key line";
    unsigned id = 0;
    size_t slen = 0, len;
    int found = 0;
    bool ok = false;

    if ((text = rfile_read(path, &token_keyfile_policy, &len, err, errlen)) == NULL)
        return false;
    if (memchr(text, '\0', len)) { /* strtok_r would see a shorter file */
        why = "NUL bytes in the file";
        found = 2;
    }
    for (line = strtok_r(text, "\n", &save); line && found < 2;
         line = strtok_r(NULL, "\n", &save)) {
        line += strspn(line, " \t\r");
        if (*line == '\0' || *line == '#')
            continue;
        if (found++ || !token_parse_keyline(line, &id, sec, &slen, &why)) {
            if (found > 1)
                why = "more than one key line (one key per file)";
            found = 2;
        }
    }
    if (found != 1)
        snprintf(err, errlen,
                 "%s: %s; fix: one line 'ID SECRET' (sendgatectl token genkey writes one)", path,
                 why);
    else if (token_keys_add(k, id, sec, slen, err, errlen))
        ok = true;
    else {
        char e2[256];
        snprintf(e2, sizeof(e2), "%s", err);
        snprintf(err, errlen, "%s: %s", path, e2);
    }
    rfile_free(text, len);
    OPENSSL_cleanse(sec, sizeof(sec));
    return ok;
}

/* token_keys_load - every file of the list, in order; NULL with err on any problem */
token_keys *token_keys_load(const conf_list *files, char *err, size_t errlen)
{
    token_keys *k = token_keys_new();

    if (k == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; files && i < files->n; i++)
        if (!token_keys_add_file(k, files->v[i], err, errlen)) {
            token_keys_free(k);
            return NULL;
        }
    if (k->n == 0) {
        snprintf(err, errlen, "no token keys configured (tracking.key_files)");
        token_keys_free(k);
        return NULL;
    }
    return k;
}

/* token_keyfile_write - a new key file, mode 0600, never overwriting one */
bool token_keyfile_write(const char *path, unsigned id, char *err, size_t errlen)
{
    unsigned char sec[32];
    char line[160];
    int fd, n = 0;
    bool ok;

    if (id < 1 || id > 255) {
        snprintf(err, errlen, "key id %u out of range 1..255", id);
        return false;
    }
    if (RAND_bytes(sec, sizeof(sec)) != 1) {
        snprintf(err, errlen, "no random bytes from OpenSSL");
        return false;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        OPENSSL_cleanse(sec, sizeof(sec));
        return false;
    }
    n = snprintf(line, sizeof(line), "# sendgate token key (tracking.key_files): ID SECRET\n%u ",
                 id);
    for (size_t i = 0; i < sizeof(sec); i++)
        n += snprintf(line + n, sizeof(line) - (size_t)n, "%02x", sec[i]);
    n += snprintf(line + n, sizeof(line) - (size_t)n, "\n");
    ok = fchmod(fd, 0600) == 0 && write(fd, line, (size_t)n) == n && fsync(fd) == 0;
    if (!ok)
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    if (close(fd) != 0 && ok) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        ok = false;
    }
    if (!ok)
        unlink(path);
    OPENSSL_cleanse(sec, sizeof(sec));
    OPENSSL_cleanse(line, sizeof(line));
    return ok;
}

static const char *const token_purposes[] = {"any", "click", "open", "unsubscribe"};
static const char *const token_results[TOKEN_RESULT_COUNT] = {
        "ok", "malformed", "version", "unknown_key", "bad_mac", "wrong_purpose"};

/* token_purpose_name - "click", "open", "unsubscribe" ("any" for 0) */
const char *token_purpose_name(int purpose)
{
    return purpose >= 0 && purpose <= TOKEN_UNSUB ? token_purposes[purpose] : "unknown";
}

/* token_purpose_parse - the purpose named (also "unsub"); -1 when none */
int token_purpose_parse(const char *name)
{
    for (int i = TOKEN_CLICK; i <= TOKEN_UNSUB; i++)
        if (strcmp(name, token_purposes[i]) == 0)
            return i;
    return strcmp(name, "unsub") == 0 ? TOKEN_UNSUB : -1;
}

/* token_result_name - a token_verify result as a metric label ("bad_mac") */
const char *token_result_name(int rc)
{
    return rc >= 0 && rc < TOKEN_RESULT_COUNT ? token_results[rc] : "unknown";
}

/* token_path - the URL path prefix trackd serves a purpose on ("/c/", "/o/", "/u/") */
const char *token_path(int purpose)
{
    switch (purpose) {
    case TOKEN_CLICK:
        return "/c/";
    case TOKEN_OPEN:
        return "/o/";
    case TOKEN_UNSUB:
        return "/u/";
    default:
        return NULL;
    }
}
