/*
 * fuzz_session — the STS session token reader: any X-Amz-Security-Token a
 * client sends is opened (and, through the identity store, cached) before the
 * signature is checked, so a hostile token must be refused cleanly. The input
 * is tried as a token, and as a payload signed with the key (so the field
 * reader behind the MAC is reached too).
 */
#include "iam/identity.h"
#include "iam/session.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t KEY[IAM_SESSION_KEY_BYTES] = "0123456789abcdef0123456789abcdef";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *token = malloc(size + 1), secret[41];
    memcpy(token, data, size);
    token[size] = 0;
    iam_session_t s;
    if (iam_session_open(KEY, "ASIAFUZZFUZZFUZZFUZZ", token, &s, secret) == 0)
        iam_session_clear(&s);
    iam_identity_t *ids = iam_identity_new();
    iam_identity_set_token_key(ids, KEY);
    iam_principal_t p;
    aws_error_t err;
    iam_identity_lookup(ids, "ASIAFUZZFUZZFUZZFUZZ", token, size, 1700000000000ull, &p, &err);
    iam_identity_free(ids);
    free(token);
    /* Signed: version 1, the input, its MAC; base64. */
    uint8_t *raw = malloc(size + 33);
    char *b64 = malloc(4 * ((size + 35) / 3) + 1);
    raw[0] = 1;
    memcpy(raw + 1, data, size);
    digest_hmac_sha256(KEY, sizeof(KEY), raw, size + 1, raw + size + 1);
    EVP_EncodeBlock((unsigned char *)b64, raw, (int)(size + 33));
    if (iam_session_open(KEY, "ASIAFUZZFUZZFUZZFUZZ", b64, &s, secret) == 0)
        iam_session_clear(&s);
    free(raw);
    free(b64);
    return 0;
}
