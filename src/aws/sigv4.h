/*
 * sigv4 — AWS Signature Version 4: the server-side verifier and a client-side signer.
 *
 * The verifier takes a request as it arrived (raw, still percent-encoded path and query,
 * headers in arrival order, the body), reads what the Authorization header or the presigned
 * query says (sigv4_parse), then rebuilds the canonical request and the string to sign and
 * compares signatures in constant time (sigv4_verify). It follows the AWS rules for services
 * other than S3: the path is normalised (dot segments and empty segments removed) and each
 * segment URI-encoded once more; the query is decoded, re-encoded and sorted; header values are
 * trimmed and their inner whitespace runs collapsed. A request whose client did not normalise
 * its path (the suite's "unnormalized" cases) is accepted too: when the normalised form fails
 * and the path would change under normalisation, the raw form is tried; likewise a presigned
 * request whose X-Amz-Security-Token was appended after signing (the suite's
 * post-sts-header-after case) is tried without it.
 *
 * It knows nothing of HTTP parsing, principals or IAM: it says whether the secret the caller
 * looked up for auth->access_key signed this request, and nothing else. Signing keys are derived
 * once per (secret, date, region, service) and kept in a small fixed-size cache that belongs to
 * one thread (the loop); pass NULL to derive every time.
 *
 * Reference:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html and
 * the aws-c-auth signing test suite (/work/shared/testdata/sigv4).
 */
#ifndef NAGARE_AWS_SIGV4_H
#define NAGARE_AWS_SIGV4_H

#include "aws/error.h"
#include "base/buf.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Requests may be signed up to this far from the server's clock (AWS: 15 minutes). */
#define SIGV4_MAX_SKEW_SECONDS 900
/* Longest X-Amz-Expires a presigned request may carry (AWS: 7 days). */
#define SIGV4_MAX_EXPIRES_SECONDS 604800

typedef struct sigv4_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} sigv4_header_t;

/* A request as received: raw (still percent-encoded) path and query, headers in arrival order
 * (duplicates allowed), the body. Nothing is owned. */
typedef struct sigv4_request {
    const char *method;
    const char *path;
    size_t path_len;
    const char *query; /* after '?', may be NULL/0 */
    size_t query_len;
    const sigv4_header_t *headers;
    size_t n_headers;
    const void *body;
    size_t body_len;
} sigv4_request_t;

/* What the Authorization header (or presigned query) says. session_token may point into
 * token_buf of this very struct (presigned form), so do not copy the struct by value. */
typedef struct sigv4_auth {
    char access_key[129];
    char date[9]; /* YYYYMMDD from the credential scope */
    char region[64];
    char service[64];
    char amz_date[17]; /* YYYYMMDDTHHMMSSZ from X-Amz-Date (header/query) or Date */
    char signature[65];
    bool presigned;
    long expires;              /* X-Amz-Expires for presigned, else 0 */
    const char *session_token; /* X-Amz-Security-Token, points into req (or token_buf) */
    size_t session_token_len;
    char signed_headers[1024]; /* the SignedHeaders list as sent, e.g. "host;x-amz-date" */
    size_t signed_headers_len;
    char token_buf[4096]; /* the decoded X-Amz-Security-Token query parameter */
} sigv4_auth_t;

typedef struct sigv4_key_cache sigv4_key_cache_t;

/* A new, empty signing-key cache (a fixed table; never grows). Free with sigv4_key_cache_free.
 * Not thread-safe: one cache per thread. */
sigv4_key_cache_t *sigv4_key_cache_new(void);
/* Frees c and wipes the keys it held; NULL is a no-op. */
void sigv4_key_cache_free(sigv4_key_cache_t *c);
/* The 32-byte signing key for (secret, date, region, service), derived on a miss. The pointer
 * is into the cache and valid until the next call on c. */
const uint8_t *sigv4_key_cache_get(sigv4_key_cache_t *c, const char *secret, const char *date,
                                   const char *region, const char *service);
/* Derives the signing key without any cache: HMAC chain "AWS4"+secret, date, region, service,
 * "aws4_request". */
void sigv4_signing_key(const char *secret, const char *date, const char *region,
                       const char *service, uint8_t out[32]);

/* Parses the credential parts. 0 on success; -1 with err set: MissingAuthenticationToken
 * (no Authorization header and no X-Amz-Algorithm query), IncompleteSignature (malformed),
 * exactly with AWS's messages and statuses. out is fully written either way. */
int sigv4_parse(const sigv4_request_t *req, sigv4_auth_t *out, aws_error_t *err);

/* Verifies the signature of req with secret at time `now` (seconds since epoch). 0 when valid;
 * -1 with err: SignatureDoesNotMatch (403, AWS's message), RequestExpired / signature expired
 * outside the 15-minute skew (AWS's message, with the dates), presigned URL expired.
 * cache may be NULL. Payload hash: X-Amz-Content-Sha256 when present and not UNSIGNED-PAYLOAD,
 * else SHA-256 of the body. Path normalisation as the AWS suite expects for non-S3 services. */
int sigv4_verify(const sigv4_request_t *req, const sigv4_auth_t *auth, const char *secret,
                 time_t now, sigv4_key_cache_t *cache, aws_error_t *err);

/* Client side (used by `nagare bench` and tests): computes the Authorization header value for
 * req, which must already carry Host and X-Amz-Date headers (and X-Amz-Security-Token if any);
 * signs every header given. Writes a NUL-terminated value into out (size outlen). 0 or -1. */
int sigv4_sign(const sigv4_request_t *req, const char *access_key, const char *secret,
               const char *region, const char *service, const char *amz_date,
               sigv4_key_cache_t *cache, char *out, size_t outlen);

/* Flags of sigv4_canonical_request. */
#define SIGV4_CANON_NORMALIZE 1u /* normalise the path (every service but S3) */
#define SIGV4_CANON_TOKEN_UNSIGNED                                                                 \
    2u /* presigned: X-Amz-Security-Token was added after signing                                  \
        */

/* Internal, exposed for tests. Appends to out the canonical request for req as described by
 * auth (method, URI, query without X-Amz-Signature when presigned, the signed headers, the
 * payload hash), shaped by flags. 0, or -1 when out's cap is exceeded. */
int sigv4_canonical_request(const sigv4_request_t *req, const sigv4_auth_t *auth, unsigned flags,
                            buf_t *out);
/* Internal, exposed for tests. Appends the string to sign for a canonical request. 0 or -1. */
int sigv4_string_to_sign(const sigv4_auth_t *auth, const char *canonical, size_t canonical_len,
                         buf_t *out);

/* Test and fuzz helper: splits raw HTTP/1.1 text (request line, header lines where a line
 * starting with a space or tab continues the previous value, blank line, body) into req.
 * Header entries go into hdrs (at most max_hdrs); everything points into text. 0 or -1. */
int sigv4_request_from_text(const char *text, size_t len, sigv4_request_t *req,
                            sigv4_header_t *hdrs, size_t max_hdrs);

#endif
