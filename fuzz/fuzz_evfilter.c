/*
 * fuzz_evfilter — the Lambda filter-pattern compiler and matcher:
 * CreateEventSourceMapping hands it any FilterCriteria a client sends, and
 * the mapping matches every SQS message body against it. The input's first
 * line is a pattern, the rest a message body (any bytes). Checked: a refusal
 * is an InvalidParameterValueException with a message, and nothing else is
 * filled; a pattern that compiles matches the record the same way twice and
 * the same way when given twice; and, for a body that is text, the pattern
 * {"body":[<the body>]} compiles and matches exactly when the body is not a
 * JSON object or array (the SQS body rule).
 */
#include "lambda/evfilter.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *record(const char *body, size_t len)
{
    json_t *r =
        json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:{s:s, s:s}}, s:s, s:s}", "messageId", "m-1",
                  "receiptHandle", "rh", "attributes", "ApproximateReceiveCount", "1", "SenderId",
                  "AIDA", "messageAttributes", "Color", "stringValue", "Red", "dataType", "String",
                  "eventSource", "aws:sqs", "awsRegion", "us-east-1");
    /* Any bytes: the matcher must not trust the body to be UTF-8. */
    json_object_set_new(r, "body", json_stringn_nocheck(body, len));
    return r;
}

static void check_refusal(const lambda_filter_t *f, const aws_error_t *err)
{
    if (f ? aws_error_is_set(err)
          : (!aws_error_is_set(err) || strcmp(err->code, "InvalidParameterValueException") ||
             err->status != 400 || !err->message[0]))
        abort();
}

/* {"body":[<body>]} must match exactly a body that is not JSON. */
static void check_plain_body(const char *body, size_t len, const json_t *rec)
{
    json_t *s = json_stringn(body, len), *doc;
    if (!s)
        return; /* not UTF-8: no JSON text can name it */
    doc = json_pack("{s:[o]}", "body", s);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    const char *one[] = {text};
    aws_error_t err;
    aws_error_clear(&err);
    lambda_filter_t *f = lambda_filter_compile(one, 1, &err);
    json_t *parsed = json_loadb(body, len, JSON_ALLOW_NUL, NULL);
    if (f && lambda_filter_match(f, rec) != (parsed == NULL))
        abort();
    if (!f && strlen(text) <= LAMBDA_FILTER_PATTERN_MAX)
        abort(); /* a short pattern of one string is always valid */
    json_decref(parsed);
    lambda_filter_free(f);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nl = memchr(p, '\n', size);
    size_t plen = nl ? (size_t)(nl - p) : size;
    size_t blen = nl ? size - plen - 1 : 0;
    char *pattern = strndup(p, plen);
    json_t *rec = record(nl ? nl + 1 : "", blen);
    const char *twice[] = {pattern, pattern};
    aws_error_t err;
    aws_error_clear(&err);
    lambda_filter_t *f = lambda_filter_compile(twice, 1, &err);
    check_refusal(f, &err);
    if (f) {
        bool m = lambda_filter_match(f, rec);
        lambda_filter_t *g = lambda_filter_compile(twice, 2, &err);
        if (!g || lambda_filter_match(f, rec) != m || lambda_filter_match(g, rec) != m)
            abort();
        lambda_filter_free(g);
    }
    lambda_filter_free(f);
    check_plain_body(nl ? nl + 1 : "", blen, rec);
    json_decref(rec);
    free(pattern);
    return 0;
}
