/*
 * fuzz_json — the AWS JSON decoder: arbitrary bodies parsed and validated
 * against every SQS operation's input shape, then encoded back (JSON, and XML
 * through the query encoder, which walks the same tree).
 */
#include "aws/codec.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const model_op_t *op = &model_sqs.ops[data[0] % model_sqs.n_ops];
    json_t *in = NULL;
    aws_error_t err = {0};
    buf_t out;
    buf_init(&out, 0);
    if (codec_json_decode(&model_sqs, op, (const char *)data + 1, size - 1, &in, &err) == 0) {
        codec_json_encode(in, &out);
        buf_reset(&out);
        codec_query_encode(&model_sqs, op, in, "req", &out);
        json_decref(in);
    } else {
        char hdr[300];
        codec_json_error(&model_sqs, &err, &out, hdr, sizeof(hdr));
    }
    buf_free(&out);
    return 0;
}
