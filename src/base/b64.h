/*
 * b64 — strict base64 decoding (RFC 4648 alphabet, padding only at the end).
 *
 * OpenSSL's EVP_DecodeBlock does the work; this adds what it does not check:
 * it skips whitespace and accepts padding anywhere, AWS does neither.
 */
#ifndef NAGARE_BASE_B64_H
#define NAGARE_BASE_B64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes b64_decode may write for len characters of input (a bound, not the
 * exact decoded length). */
static inline size_t b64_decoded_max(size_t len)
{
    return len / 4 * 3 + 1;
}

/* Decodes s[0..len) into out (room for b64_decoded_max(len) bytes) and sets
 * *outlen. 0, or -1 when s is not strict base64 (out is then unspecified). */
/* Writes the base64 of p (len bytes) and a NUL into out, which has room for
 * b64_encoded_len(len) + 1 bytes; returns the length written. */
static inline size_t b64_encoded_len(size_t len)
{
    return (len + 2) / 3 * 4;
}
size_t b64_encode_into(const void *p, size_t len, char *out);

int b64_decode(const char *s, size_t len, uint8_t *out, size_t *outlen);

#endif
