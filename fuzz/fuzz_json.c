/*
 * fuzz_json — the AWS JSON decoder. Each input is read by our reader and by
 * jansson's: both must accept or both refuse, and accepted inputs must give
 * equal trees (jsonread.h promises exactly that). Then the tree is validated
 * against an SQS operation's input shape and encoded back as JSON (which
 * jansson must read back equal) and as XML.
 */
#include "aws/codec.h"
#include "aws/jsonread.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void differential(const char *p, size_t n)
{
    jsonread_error_t rerr;
    json_error_t jerr;
    json_t *ours = jsonread_parse(p, n, &rerr);
    json_t *ref = json_loadb(p, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    /* jansson ends its input at a raw NUL byte after a scalar ("[1\0]" reads
     * as [1]); ours refuses any raw NUL, as RFC 8259 does. That is the one
     * disagreement allowed. */
    bool nul_quirk = !ours && ref && memchr(p, '\0', n);
    if ((!ours != !ref && !nul_quirk) || (ours && !json_equal(ours, ref))) {
        fprintf(stderr, "jsonread and jansson disagree: ours %s, jansson %s\n",
                ours ? "accepted" : rerr.text, ref ? "accepted" : jerr.text);
        abort();
    }
    if (ours) {
        buf_t out;
        buf_init(&out, 0);
        codec_json_encode(ours, &out);
        json_t *back = json_loadb(out.data, out.len, JSON_ALLOW_NUL, &jerr);
        if (!back || !json_equal(back, ours)) {
            fprintf(stderr, "encoded JSON does not read back equal: %s\n", jerr.text);
            abort();
        }
        json_decref(back);
        buf_free(&out);
    }
    json_decref(ours);
    json_decref(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    differential((const char *)data + 1, size - 1);
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
