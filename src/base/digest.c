/* digest — see digest.h. */
#include "base/digest.h"
#include "base/xalloc.h"

#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A context per algorithm: re-initialising a context for another algorithm
 * frees its state and allocates the other's, and requests alternate SHA-256
 * (SigV4) and MD5 (message digests). */
typedef struct ctxs {
    EVP_MD_CTX *sha256, *md5;
    EVP_MAC_CTX *mac;
} ctxs_t;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static EVP_MD *alg_sha256, *alg_md5;
static EVP_MAC_CTX *hmac_template; /* HMAC with SHA-256 set, no key */

static void ctxs_free(void *p)
{
    ctxs_t *c = p;
    EVP_MD_CTX_free(c->sha256);
    EVP_MD_CTX_free(c->md5);
    EVP_MAC_CTX_free(c->mac);
    free(c);
}

static void fail(const char *what)
{
    fprintf(stderr, "nagare: OpenSSL: %s\n", what);
    abort();
}

static void fetch(void)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    alg_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    alg_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
    hmac_template = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac); /* the context holds its own reference */
    if (!alg_sha256 || !alg_md5 || !hmac_template ||
        EVP_MAC_CTX_set_params(hmac_template, params) != 1)
        fail("no SHA-256, MD5 or HMAC");
    if (pthread_key_create(&key, ctxs_free) != 0)
        fail("no thread key");
}

static ctxs_t *ctxs(void)
{
    pthread_once(&once, fetch);
    ctxs_t *c = pthread_getspecific(key);
    if (!c) {
        c = xmalloc(sizeof(*c));
        c->sha256 = EVP_MD_CTX_new();
        c->md5 = EVP_MD_CTX_new();
        c->mac = EVP_MAC_CTX_dup(hmac_template);
        if (!c->sha256 || !c->md5 || !c->mac)
            fail("cannot make contexts");
        pthread_setspecific(key, c);
    }
    return c;
}

static void digest(EVP_MD_CTX *md, const EVP_MD *alg, const void *p, size_t n, uint8_t *out)
{
    if (EVP_DigestInit_ex2(md, alg, NULL) != 1 || EVP_DigestUpdate(md, p, n) != 1 ||
        EVP_DigestFinal_ex(md, out, NULL) != 1)
        fail("digest failed");
}

void digest_sha256(const void *p, size_t n, uint8_t out[32])
{
    EVP_MD_CTX *md = ctxs()->sha256; /* first: it fetches the algorithms */
    digest(md, alg_sha256, p, n, out);
}

void digest_md5(const void *p, size_t n, uint8_t out[16])
{
    EVP_MD_CTX *md = ctxs()->md5; /* first: it fetches the algorithms */
    digest(md, alg_md5, p, n, out);
}

void digest_hmac_sha256(const uint8_t *k, size_t key_len, const void *msg, size_t n,
                        uint8_t out[32])
{
    size_t len = 32;
    EVP_MAC_CTX *mac = ctxs()->mac;
    if (EVP_MAC_init(mac, k, key_len, NULL) != 1 || EVP_MAC_update(mac, msg, n) != 1 ||
        EVP_MAC_final(mac, out, &len, 32) != 1)
        fail("HMAC failed");
}

void digest_md5_begin(void)
{
    EVP_MD_CTX *md = ctxs()->md5;
    if (EVP_DigestInit_ex2(md, alg_md5, NULL) != 1)
        fail("MD5 init failed");
}

void digest_md5_add(const void *p, size_t n)
{
    EVP_DigestUpdate(ctxs()->md5, p, n);
}

void digest_md5_finish(uint8_t out[16])
{
    if (EVP_DigestFinal_ex(ctxs()->md5, out, NULL) != 1)
        fail("MD5 final failed");
}

struct digest_hmac_key {
    EVP_MAC_CTX *mac;
};

digest_hmac_key_t *digest_hmac_key_new(const uint8_t *bytes, size_t key_len)
{
    pthread_once(&once, fetch);
    digest_hmac_key_t *k = xmalloc(sizeof(*k));
    k->mac = EVP_MAC_CTX_dup(hmac_template);
    if (!k->mac || EVP_MAC_init(k->mac, bytes, key_len, NULL) != 1)
        fail("cannot prepare an HMAC key");
    return k;
}

void digest_hmac_key_free(digest_hmac_key_t *k)
{
    if (!k)
        return;
    EVP_MAC_CTX_free(k->mac); /* cleanses the key */
    free(k);
}

void digest_hmac_key_run(digest_hmac_key_t *k, const void *msg, size_t n, uint8_t out[32])
{
    size_t len = 32;
    /* No key: the HMAC restarts from the pads hashed at preparation. */
    if (EVP_MAC_init(k->mac, NULL, 0, NULL) != 1 || EVP_MAC_update(k->mac, msg, n) != 1 ||
        EVP_MAC_final(k->mac, out, &len, 32) != 1)
        fail("HMAC failed");
}
