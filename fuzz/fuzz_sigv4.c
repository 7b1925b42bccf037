/*
 * fuzz_sigv4 — libFuzzer driver for the SigV4 parser and verifier.
 *
 * The first byte picks what the rest is: 0 a whole HTTP request head and body (request line,
 * headers, blank line, body), 1 the value of an Authorization header on a fixed request, 2 the
 * query string of a fixed request (presigned form). Each goes through sigv4_parse and, when that
 * succeeds, sigv4_verify with and without a key cache, and sigv4_sign. Nothing may crash, leak
 * or read out of bounds; results are not checked.
 */
#include "aws/sigv4.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1440938160 /* 2015-08-30T12:36:00Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const sigv4_request_t *req, sigv4_key_cache_t *cache)
{
    static sigv4_auth_t auth;
    aws_error_t err;
    char out[512];
    if (sigv4_parse(req, &auth, &err) == 0) {
        sigv4_verify(req, &auth, "secret", NOW, NULL, &err);
        sigv4_verify(req, &auth, "secret", NOW, cache, &err);
    }
    sigv4_sign(req, "AKID", "secret", "us-east-1", "sqs", "20150830T123600Z", cache, out,
               sizeof(out));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sigv4_key_cache_t *cache;
    if (!cache)
        cache = sigv4_key_cache_new();
    if (size < 1)
        return 0;
    /* A private copy, so reads past the end are caught exactly. */
    size_t n = size - 1;
    char *text = malloc(n ? n : 1);
    memcpy(text, data + 1, n);
    sigv4_header_t hdrs[64] = {
        {"Host", 4, "example.amazonaws.com", 21},
        {"X-Amz-Date", 10, "20150830T123600Z", 16},
        {"Authorization", 13, text, n},
    };
    sigv4_request_t req = {"GET", "/", 1, NULL, 0, hdrs, 3, NULL, 0};
    switch (data[0] % 3) {
    case 0:
        if (sigv4_request_from_text(text, n, &req, hdrs, 64) == 0)
            exercise(&req, cache);
        break;
    case 1:
        exercise(&req, cache);
        break;
    default:
        req.query = text;
        req.query_len = n;
        req.n_headers = 2;
        exercise(&req, cache);
        break;
    }
    free(text);
    return 0;
}
