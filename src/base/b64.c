/* b64 — see b64.h. */
#include "base/b64.h"

#include <openssl/evp.h>
#include <string.h>

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_decode(const char *s, size_t len, uint8_t *out, size_t *outlen)
{
    size_t pad = len && s[len - 1] == '=' ? (len > 1 && s[len - 2] == '=' ? 2 : 1) : 0;
    size_t body = 0;
    while (body < len - pad && s[body] && strchr(ALPHABET, s[body]))
        body++;
    if (len % 4 || body != len - pad)
        return -1;
    int n = len ? EVP_DecodeBlock(out, (const unsigned char *)s, (int)len) : 0;
    if (n < 0)
        return -1;
    *outlen = (size_t)n - pad;
    return 0;
}

size_t b64_encode_into(const void *p, size_t len, char *out)
{
    size_t n = 0;
    /* EVP_EncodeBlock takes an int length: feed it in whole groups of 3. */
    while (len > 0) {
        size_t chunk = len > (size_t)3 << 28 ? (size_t)3 << 28 : len;
        n += (size_t)EVP_EncodeBlock((unsigned char *)out + n, p, (int)chunk);
        p = (const char *)p + chunk;
        len -= chunk;
    }
    out[n] = '\0';
    return n;
}
