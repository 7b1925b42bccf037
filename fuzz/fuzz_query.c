/*
 * fuzz_query — the query-protocol decoder: arbitrary form strings decoded
 * against every SQS operation's input shape, and the result re-encoded as XML.
 * Must never crash, leak or read out of bounds.
 */
#include "aws/codec.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    /* The first byte picks the operation, the rest is the form. */
    const model_op_t *op = &model_sqs.ops[data[0] % model_sqs.n_ops];
    json_t *form = codec_form_parse((const char *)data + 1, size - 1);
    json_t *in = NULL;
    aws_error_t err = {0};
    if (codec_query_decode(&model_sqs, op, form, &in, &err) == 0) {
        buf_t out;
        buf_init(&out, 0);
        if (op->input >= 0)
            codec_query_encode(&model_sqs, op, in, "req", &out);
        buf_free(&out);
        json_decref(in);
    } else {
        buf_t out;
        buf_init(&out, 0);
        codec_query_error(&model_sqs, &err, "req", &out);
        buf_free(&out);
    }
    json_decref(form);
    return 0;
}
