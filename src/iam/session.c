/*
 * session — see session.h.
 *
 * A token is base64 of: version byte, payload, HMAC-SHA256(key, version ||
 * payload). The payload is the session's fields in a fixed order, each string
 * as a 2-byte big-endian length and its bytes, times as 8 bytes. The secret is
 * the first 40 characters of base64(HMAC-SHA256(key, "secret:" || key id)).
 */
#include "iam/session.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/b64.h"
#include "base/digest.h"
#include "base/ids.h"
#include "base/xalloc.h"

#define TOKEN_VERSION 1
#define MAC_BYTES     32
#define TOKEN_MAX     (16 * 1024) /* characters: a header's worth */

static void derive_secret(const uint8_t key[IAM_SESSION_KEY_BYTES], const char *access_key,
                          char secret[41])
{
    uint8_t mac[MAC_BYTES];
    char msg[64], b64[48];
    size_t n = (size_t)snprintf(msg, sizeof(msg), "secret:%s", access_key);
    digest_hmac_sha256(key, IAM_SESSION_KEY_BYTES, msg, n, mac);
    EVP_EncodeBlock((unsigned char *)b64, mac, MAC_BYTES);
    memcpy(secret, b64, 40);
    secret[40] = 0;
}

/* ---- writing ---- */

static void put_str(buf_t *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 0xffff)
        n = 0xffff;
    buf_putc(b, (char)(n >> 8));
    buf_putc(b, (char)n);
    buf_append(b, s ? s : "", n);
}

static void put_u64(buf_t *b, uint64_t v)
{
    for (int i = 7; i >= 0; i--)
        buf_putc(b, (char)(v >> (8 * i)));
}

void iam_session_issue(const uint8_t key[IAM_SESSION_KEY_BYTES], iam_session_t *s, char secret[41],
                       buf_t *token)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    uint8_t rnd[16], mac[MAC_BYTES];
    ids_random(rnd, sizeof(rnd));
    memcpy(s->access_key, "ASIA", 4);
    for (int i = 0; i < 16; i++)
        s->access_key[4 + i] = alnum[rnd[i] & 31];
    s->access_key[20] = 0;
    buf_t p;
    buf_init(&p, 0);
    buf_putc(&p, TOKEN_VERSION);
    put_str(&p, s->access_key);
    put_str(&p, s->account);
    put_str(&p, s->role_arn);
    put_str(&p, s->role_id);
    put_str(&p, s->name);
    put_u64(&p, (uint64_t)s->issued_ms);
    put_u64(&p, (uint64_t)s->expires_ms);
    buf_putc(&p, s->policy != NULL);
    put_str(&p, s->policy);
    buf_putc(&p, (char)s->n_policy_arns);
    for (size_t i = 0; i < s->n_policy_arns; i++)
        put_str(&p, s->policy_arns[i]);
    buf_putc(&p, (char)s->n_tags);
    for (size_t i = 0; i < s->n_tags; i++) {
        put_str(&p, s->tag_keys[i]);
        put_str(&p, s->tag_values[i]);
    }
    digest_hmac_sha256(key, IAM_SESSION_KEY_BYTES, p.data, p.len, mac);
    buf_append(&p, mac, MAC_BYTES);
    size_t at = token->len;
    buf_reserve(token, 4 * ((p.len + 2) / 3) + 1);
    token->len += (size_t)EVP_EncodeBlock((unsigned char *)token->data + at,
                                          (const unsigned char *)p.data, (int)p.len);
    token->data[token->len] = 0;
    buf_free(&p);
    derive_secret(key, s->access_key, secret);
}

/* ---- reading ---- */

typedef struct cur {
    const uint8_t *p, *end;
    bool bad;
} cur_t;

static const uint8_t *take(cur_t *c, size_t n)
{
    if (c->bad || (size_t)(c->end - c->p) < n) {
        c->bad = true;
        return NULL;
    }
    const uint8_t *r = c->p;
    c->p += n;
    return r;
}

static int get_u8(cur_t *c)
{
    const uint8_t *p = take(c, 1);
    return p ? *p : -1;
}

/* A string into a fixed field (cap bytes with the NUL), or malloc'ed when cap is 0. */
static char *get_str(cur_t *c, char *field, size_t cap)
{
    const uint8_t *h = take(c, 2);
    size_t n = h ? (size_t)h[0] << 8 | h[1] : 0;
    const uint8_t *s = h ? take(c, n) : NULL;
    if (!s || memchr(s, 0, n) || (cap && n >= cap)) {
        c->bad = true;
        return NULL;
    }
    char *out = cap ? field : xmalloc(n + 1);
    memcpy(out, s, n);
    out[n] = 0;
    return out;
}

static int64_t get_time(cur_t *c)
{
    const uint8_t *p = take(c, 8);
    uint64_t v = 0;
    for (int i = 0; p && i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)(v & INT64_MAX);
}

static void fields_read(cur_t *c, iam_session_t *s)
{
    char key_id[21];
    get_str(c, key_id, sizeof(key_id));
    get_str(c, s->account, sizeof(s->account));
    get_str(c, s->role_arn, sizeof(s->role_arn));
    get_str(c, s->role_id, sizeof(s->role_id));
    get_str(c, s->name, sizeof(s->name));
    s->issued_ms = get_time(c);
    s->expires_ms = get_time(c);
    int has_policy = get_u8(c);
    char *policy = get_str(c, NULL, 0);
    if (has_policy == 1)
        s->policy = policy;
    else
        free(policy);
    int n = get_u8(c);
    for (; !c->bad && n > 0 && s->n_policy_arns < IAM_SESSION_ARNS_MAX && n--;)
        s->policy_arns[s->n_policy_arns++] = get_str(c, NULL, 0);
    c->bad |= n > 0;
    n = get_u8(c);
    for (; !c->bad && n > 0 && s->n_tags < IAM_SESSION_TAGS_MAX && n--; s->n_tags++) {
        s->tag_keys[s->n_tags] = get_str(c, NULL, 0);
        s->tag_values[s->n_tags] = get_str(c, NULL, 0);
    }
    c->bad |= n > 0;
    if (!c->bad && strcmp(key_id, s->access_key))
        c->bad = true;
}

int iam_session_open(const uint8_t key[IAM_SESSION_KEY_BYTES], const char *access_key,
                     const char *token, iam_session_t *s, char secret[41])
{
    size_t len = token ? strlen(token) : 0, n = 0;
    uint8_t mac[MAC_BYTES];
    if (len < 4 || len > TOKEN_MAX || strlen(access_key) != 20)
        return -1;
    uint8_t *raw = xmalloc(b64_decoded_max(len));
    int rc = -1;
    memset(s, 0, sizeof(*s));
    if (b64_decode(token, len, raw, &n) < 0 || n < 1 + MAC_BYTES || raw[0] != TOKEN_VERSION)
        goto out;
    digest_hmac_sha256(key, IAM_SESSION_KEY_BYTES, raw, n - MAC_BYTES, mac);
    if (CRYPTO_memcmp(mac, raw + n - MAC_BYTES, MAC_BYTES) != 0)
        goto out;
    cur_t c = {raw + 1, raw + n - MAC_BYTES, false};
    snprintf(s->access_key, sizeof(s->access_key), "%s", access_key);
    fields_read(&c, s);
    if (c.bad || c.p != c.end)
        goto out;
    derive_secret(key, access_key, secret);
    rc = 0;
out:
    free(raw);
    if (rc < 0)
        iam_session_clear(s);
    return rc;
}

void iam_session_clear(iam_session_t *s)
{
    free(s->policy);
    for (size_t i = 0; i < s->n_policy_arns; i++)
        free(s->policy_arns[i]);
    for (size_t i = 0; i < s->n_tags; i++) {
        free(s->tag_keys[i]);
        free(s->tag_values[i]);
    }
    s->policy = NULL;
    s->n_policy_arns = s->n_tags = 0;
}
