/*
 * ids — see ids.h.
 *
 * Ids are drawn on every request (request ids, message ids, receipt handle
 * nonces), and OpenSSL's RAND_bytes costs about a microsecond a call behind
 * its locks: a tenth of a small request's budget. So each thread runs
 * xoshiro256** seeded once from RAND_bytes. These ids must be unique and
 * unpredictable enough for a local server; nothing secret derives from them.
 */
#include "base/ids.h"

#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local uint64_t state[4];
static _Thread_local int seeded;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next(void)
{
    if (!seeded) {
        if (RAND_bytes((unsigned char *)state, sizeof(state)) != 1) {
            fprintf(stderr, "nagare: the random generator failed\n");
            abort();
        }
        state[0] |= 1; /* never the all-zero state */
        seeded = 1;
    }
    uint64_t result = rotl(state[1] * 5, 7) * 9;
    uint64_t t = state[1] << 17;
    state[2] ^= state[0];
    state[3] ^= state[1];
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = rotl(state[3], 45);
    return result;
}

void ids_random(void *p, size_t n)
{
    unsigned char *o = p;
    while (n) {
        uint64_t r = next();
        size_t k = n < sizeof(r) ? n : sizeof(r);
        memcpy(o, &r, k);
        o += k;
        n -= k;
    }
}

void ids_uuid4(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    ids_random(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 15];
    }
    *o = '\0';
}
