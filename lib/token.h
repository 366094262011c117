/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * token.h - signed, stateless tracking tokens (click, open, unsubscribe)
 *
 * SYNOPSIS
 *	token_keys *k = token_keys_load(&cfg->tracking.key_files, err, sizeof(err));
 *
 *	token_claims c = {.purpose = TOKEN_CLICK, .link_index = 3, .issued = time(NULL)};
 *	snprintf(c.msgref, sizeof(c.msgref), "%s", queue_id);
 *	snprintf(c.domain, sizeof(c.domain), "%s", sending_domain);
 *	snprintf(c.url, sizeof(c.url), "%s", entity_decoded_href);
 *	if (token_make(k, &c, &out))   ... "https://" host token_path(TOKEN_CLICK) out
 *	token_make_url(k, "t.example.com", &c, &out);   https://t.example.com/c/TOKEN
 *
 *	rc = token_verify(k, tok, len, TOKEN_CLICK, &c);   (TOKEN_OK or a TOKEN_E* reason)
 *	token_keys_free(k);
 *
 * DESCRIPTION
 *	The milter signs one token per rewritten link, one for the open pixel
 *	and one for the unsubscribe URL; sendgate-trackd verifies them and
 *	needs no database to know where a link goes. Tokens never expire;
 *	a message's links are withdrawn by revocation (trackd), not by time.
 *
 *	Format (version 1), then base64url without padding:
 *
 *	  version(1) key_id(1) purpose(1)
 *	  varint link_index, varint issued (unix seconds)
 *	  len(1) msgref, len(1) domain, varint len + rcpt, rest: url
 *	  MAC(16) = HMAC-SHA256(key, everything before it), first 128 bits
 *
 *	The version, key id and purpose are inside the MAC'd bytes, so a
 *	click token can never verify as an open token and a key id cannot be
 *	swapped. Verification compares the MAC with CRYPTO_memcmp.
 *	A token's text is at most TOKEN_TEXT_MAX characters; token_make
 *	refuses anything longer (the caller then leaves the link untracked).
 *
 *	Keys: one key per file, files named by tracking.key_files; the first
 *	file's key signs, every key verifies (rotation). A key file holds one
 *	line "ID SECRET" (# comments and blank lines allowed): ID 1..255,
 *	SECRET at least 32 bytes written as hex, or as base64/base64url
 *	(padding optional) when it is not pure hex. The file is read under
 *	token_keyfile_policy (lib/rfile.h): a regular file of at most
 *	TOKEN_FILE_MAX bytes, opened without following a symbolic link,
 *	refused when others may read, change or execute it or the group may
 *	change it; two keys with the same id are refused too. sendgatectl
 *	check-config loads the files with token_keys_add_file, as the
 *	daemons do.
 *
 * THREADS
 *	token_keys is read-only after loading; token_make and token_verify
 *	may run in any number of threads at once.
 */
#ifndef SG_TOKEN_H
#define SG_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/domain.h"
#include "lib/rfile.h"

#define TOKEN_VERSION    1
#define TOKEN_MSGREF_MAX 128  /* message reference, with its NUL */
#define TOKEN_URL_MAX    1024 /* original URL, bytes, without the NUL */
#define TOKEN_TEXT_MAX   1536 /* whole encoded token, characters */
#define TOKEN_MAC_LEN    16   /* HMAC-SHA256 truncated to 128 bits */
#define TOKEN_KEY_MIN    32   /* secret bytes, at least */
#define TOKEN_KEY_MAX    128  /* secret bytes, at most */
#define TOKEN_FILE_MAX   4096 /* bytes in a key file, at most */

/* purposes; 0 = any (token_verify only) */
enum token_purpose { TOKEN_ANY = 0, TOKEN_CLICK = 1, TOKEN_OPEN = 2, TOKEN_UNSUB = 3 };

/* token_verify results: distinct reasons for logs and metrics */
enum token_result {
    TOKEN_OK = 0,
    TOKEN_EMALFORMED = 1,    /* not base64url, too short or too long, bad field */
    TOKEN_EVERSION = 2,      /* a version this build does not know */
    TOKEN_EUNKNOWN_KEY = 3,  /* key id not among the configured keys */
    TOKEN_EBAD_MAC = 4,      /* MAC does not verify: tampered or forged */
    TOKEN_EWRONG_PURPOSE = 5 /* genuine, but e.g. a click token used as an open token */
};
#define TOKEN_RESULT_COUNT 6

typedef struct token_keys token_keys;

typedef struct token_claims {
    int purpose;                   /* enum token_purpose */
    unsigned key_id;               /* verify: the key that signed; make: ignored (first key) */
    char msgref[TOKEN_MSGREF_MAX]; /* message reference: printable ASCII, no space */
    unsigned link_index;           /* click: the link's position in the message */
    int64_t issued;                /* unix time the message was signed (bot labelling) */
    char domain[DOMAIN_MAX];       /* sending domain */
    char rcpt[ADDR_MAX];           /* recipient; "" when the message had several */
    char url[TOKEN_URL_MAX + 1];   /* click: the original URL as opaque bytes; else "" */
} token_claims;

extern const rfile_policy token_keyfile_policy;

token_keys *token_keys_new(void);
bool token_keys_add(token_keys *k, unsigned id, const void *secret, size_t len, char *err,
                    size_t errlen);
bool token_keys_add_file(token_keys *k, const char *path, char *err, size_t errlen);
token_keys *token_keys_load(const conf_list *files, char *err, size_t errlen);
void token_keys_free(token_keys *k);
size_t token_keys_count(const token_keys *k);
unsigned token_keys_id(const token_keys *k, size_t i);

bool token_make(const token_keys *k, const token_claims *c, buf *out);
bool token_make_url(const token_keys *k, const char *host, const token_claims *c, buf *out);
int token_verify(const token_keys *k, const char *tok, size_t len, int want_purpose,
                 token_claims *out);
int token_inspect(const char *tok, size_t len, token_claims *out);

const char *token_purpose_name(int purpose);
int token_purpose_parse(const char *name);
const char *token_result_name(int rc);
const char *token_path(int purpose);

bool token_keyfile_write(const char *path, unsigned id, char *err, size_t errlen);

#endif
