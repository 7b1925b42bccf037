/*
 * digest — SHA-256, HMAC-SHA256 and MD5 through OpenSSL, fast for small inputs.
 *
 * OpenSSL 3's one-shot calls (SHA256(), HMAC(), EVP_Digest with EVP_md5())
 * fetch the algorithm from the provider store and build a context on every
 * call, behind locks: a fifth of a small request's CPU in profiles. Here the
 * algorithms are fetched once per process and each thread keeps its contexts
 * and re-initialises them. Safe from any thread.
 */
#ifndef NAGARE_BASE_DIGEST_H
#define NAGARE_BASE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

void digest_sha256(const void *p, size_t n, uint8_t out[32]);
void digest_hmac_sha256(const uint8_t *key, size_t key_len, const void *msg, size_t n,
                        uint8_t out[32]);
void digest_md5(const void *p, size_t n, uint8_t out[16]);

/* An HMAC-SHA256 key prepared once (its inner and outer pads hashed) for many
 * messages: SigV4 signs every request with one cached key, and preparing the
 * key each time was half the cost of the HMAC. One thread at a time per key. */
typedef struct digest_hmac_key digest_hmac_key_t;
/* A prepared copy of key; free with digest_hmac_key_free. */
digest_hmac_key_t *digest_hmac_key_new(const uint8_t *key, size_t key_len);
void digest_hmac_key_free(digest_hmac_key_t *k);
/* The HMAC-SHA256 of (msg, n) under k. */
void digest_hmac_key_run(digest_hmac_key_t *k, const void *msg, size_t n, uint8_t out[32]);

/* An MD5 over several pieces: begin, add each piece, finish. One at a time per
 * thread (the context is the thread's). */
void digest_md5_begin(void);
void digest_md5_add(const void *p, size_t n);
void digest_md5_finish(uint8_t out[16]);

#endif
