/*
 * fuzz_restjson — the REST-JSON router and decoder: an arbitrary method,
 * path, query string, two headers and body routed against the Lambda model,
 * decoded, and the decoded tree encoded back as the operation's output.
 * Must never crash, leak or read out of bounds.
 *
 * Input: byte 0 picks the method; then NUL-separated path, query, header
 * value (sent as X-Amz-Invocation-Type and X-Amz-Log-Type) and body.
 */
#include "aws/codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next NUL-terminated field of [*p, end), or the rest. */
static const char *field(const char **p, const char *end, size_t *len)
{
    const char *s = *p;
    const char *z = memchr(s, '\0', (size_t)(end - s));
    *len = z ? (size_t)(z - s) : (size_t)(end - s);
    *p = z ? z + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
    if (size == 0)
        return 0;
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    size_t plen, qlen, hlen, blen;
    const char *path = field(&p, end, &plen);
    const char *query = field(&p, end, &qlen);
    const char *hv = field(&p, end, &hlen);
    const char *body = field(&p, end, &blen);
    codec_header_t h[] = {{"X-Amz-Invocation-Type", 21, hv, hlen},
                          {"X-Amz-Log-Type", 14, hv, hlen}};
    codec_rest_request_t req = {methods[data[0] % 4], path, plen, query, qlen, h, 2, body, blen};
    /* the path must be a string of its own for the router's strchr on templates only */
    const model_op_t *op = codec_rest_route(&model_lambda, &req);
    if (!op)
        return 0;
    json_t *in = NULL, *headers = NULL;
    aws_error_t err = {0};
    buf_t out;
    buf_init(&out, 0);
    if (codec_rest_decode(&model_lambda, op, &req, &in, &err) == 0) {
        int status;
        codec_rest_encode(&model_lambda, op, in, &status, &headers, &out);
        json_decref(headers);
        json_decref(in);
    } else {
        codec_rest_error(&model_lambda, &err, &out);
    }
    buf_free(&out);
    return 0;
}
