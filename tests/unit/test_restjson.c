/*
 * test_restjson — the REST-JSON codec against the Lambda model: routing by
 * method and URI template, labels (percent-decoded), query strings (lists
 * repeat their key), headers, JSON bodies and raw payloads; encoding of
 * status codes, header members and payloads; errors as Lambda sends them.
 */
#include "aws/codec.h"
#include "base/buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static codec_rest_request_t req(const char *method, const char *path, const char *query)
{
    return (codec_rest_request_t){.method = method,
                                  .path = path,
                                  .path_len = strlen(path),
                                  .query = query,
                                  .query_len = query ? strlen(query) : 0};
}

static const char *route(const char *method, const char *path, const char *query)
{
    codec_rest_request_t r = req(method, path, query);
    const model_op_t *op = codec_rest_route(&model_lambda, &r);
    return op ? op->name : NULL;
}

static void test_routing(void **state)
{
    (void)state;
    assert_string_equal(route("GET", "/2015-03-31/functions/f", NULL), "GetFunction");
    assert_string_equal(route("GET", "/2015-03-31/functions/f/configuration", NULL),
                        "GetFunctionConfiguration");
    assert_string_equal(route("PUT", "/2015-03-31/functions/f/configuration", NULL),
                        "UpdateFunctionConfiguration");
    assert_string_equal(route("GET", "/2015-03-31/functions/", NULL), "ListFunctions");
    assert_string_equal(route("GET", "/2015-03-31/functions", NULL), "ListFunctions");
    assert_string_equal(route("POST", "/2015-03-31/functions", NULL), "CreateFunction");
    assert_string_equal(route("POST", "/2015-03-31/functions/f/invocations", NULL), "Invoke");
    assert_string_equal(route("DELETE", "/2015-03-31/functions/f/policy/s1", NULL),
                        "RemovePermission");
    assert_string_equal(route("GET",
                              "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%"
                              "3Afunction%3Af",
                              NULL),
                        "ListTags");
    /* a template's literal query key must be there */
    assert_string_equal(route("GET", "/2019-09-30/functions/f/provisioned-concurrency", "List=ALL"),
                        "ListProvisionedConcurrencyConfigs");
    assert_string_equal(
        route("GET", "/2019-09-30/functions/f/provisioned-concurrency", "Qualifier=1"),
        "GetProvisionedConcurrencyConfig");
    assert_null(route("GET", "/2015-03-31/nothing/here", NULL));
    assert_null(route("PATCH", "/2015-03-31/functions/f", NULL));
    assert_null(route("GET", "/2015-03-31/functions/f/configuration/extra", NULL));
}

static void test_decode_labels_query_headers(void **state)
{
    (void)state;
    aws_error_t err;
    json_t *in = NULL;
    codec_header_t h[] = {{"X-Amz-Invocation-Type", 21, "Event", 5},
                          {"x-amz-log-type", 14, "Tail", 4}};
    codec_rest_request_t r = req("POST",
                                 "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A"
                                 "000000000000%3Afunction%3Amy-fn/invocations",
                                 "Qualifier=live");
    r.headers = h;
    r.n_headers = 2;
    r.body = "{\"a\":1}";
    r.body_len = 7;
    const model_op_t *op = codec_rest_route(&model_lambda, &r);
    aws_error_clear(&err);
    assert_int_equal(codec_rest_decode(&model_lambda, op, &r, &in, &err), 0);
    assert_string_equal(json_string_value(json_object_get(in, "FunctionName")),
                        "arn:aws:lambda:us-east-1:000000000000:function:my-fn");
    assert_string_equal(json_string_value(json_object_get(in, "Qualifier")), "live");
    assert_string_equal(json_string_value(json_object_get(in, "InvocationType")), "Event");
    assert_string_equal(json_string_value(json_object_get(in, "LogType")), "Tail");
    /* the blob payload is the raw body, base64 in the tree */
    assert_string_equal(json_string_value(json_object_get(in, "Payload")), "eyJhIjoxfQ==");
    json_decref(in);

    /* lists repeat their key; integers are parsed */
    codec_rest_request_t u = req("DELETE", "/2017-03-31/tags/arn%3Ax", "tagKeys=a&tagKeys=b%20c");
    op = codec_rest_route(&model_lambda, &u);
    assert_string_equal(op->name, "UntagResource");
    assert_int_equal(codec_rest_decode(&model_lambda, op, &u, &in, &err), 0);
    assert_int_equal(json_array_size(json_object_get(in, "TagKeys")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(in, "TagKeys"), 1)),
                        "b c");
    json_decref(in);
    codec_rest_request_t l = req("GET", "/2015-03-31/functions/", "MaxItems=5&Marker=m");
    op = codec_rest_route(&model_lambda, &l);
    assert_int_equal(codec_rest_decode(&model_lambda, op, &l, &in, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(in, "MaxItems")), 5);
    json_decref(in);
    codec_rest_request_t bad = req("GET", "/2015-03-31/functions/", "MaxItems=five");
    assert_int_equal(codec_rest_decode(&model_lambda, op, &bad, &in, &err), -1);
    assert_string_equal(err.code, "InvalidParameterValueException");
}

static void test_decode_json_body(void **state)
{
    (void)state;
    aws_error_t err;
    json_t *in = NULL;
    codec_rest_request_t r = req("PUT", "/2015-03-31/functions/f/configuration", NULL);
    r.body = "{\"Timeout\":30,\"FunctionName\":\"ignored\"}";
    r.body_len = strlen(r.body);
    const model_op_t *op = codec_rest_route(&model_lambda, &r);
    aws_error_clear(&err);
    assert_int_equal(codec_rest_decode(&model_lambda, op, &r, &in, &err), 0);
    /* the label wins over a body member of the same name */
    assert_string_equal(json_string_value(json_object_get(in, "FunctionName")), "f");
    assert_int_equal(json_integer_value(json_object_get(in, "Timeout")), 30);
    json_decref(in);
    r.body = "{\"Timeout\":\"x\"}";
    r.body_len = strlen(r.body);
    assert_int_equal(codec_rest_decode(&model_lambda, op, &r, &in, &err), -1);
    r.body = "{nope";
    r.body_len = strlen(r.body);
    aws_error_clear(&err);
    assert_int_equal(codec_rest_decode(&model_lambda, op, &r, &in, &err), -1);
    assert_string_equal(err.code, "InvalidRequestContentException");
}

static void test_encode(void **state)
{
    (void)state;
    const model_op_t *op = model_op_find(&model_lambda, "Invoke", 6);
    json_t *out = json_pack("{s:i, s:s, s:s, s:s}", "StatusCode", 200, "FunctionError", "Unhandled",
                            "ExecutedVersion", "$LATEST", "Payload", "eyJhIjoxfQ==");
    json_t *headers = NULL;
    int status = 0;
    buf_t body;
    buf_init(&body, 0);
    codec_rest_encode(&model_lambda, op, out, &status, &headers, &body);
    assert_int_equal(status, 200);
    assert_string_equal(body.data, "{\"a\":1}");
    assert_string_equal(json_string_value(json_object_get(headers, "X-Amz-Function-Error")),
                        "Unhandled");
    assert_string_equal(json_string_value(json_object_get(headers, "X-Amz-Executed-Version")),
                        "$LATEST");
    json_decref(headers);
    json_decref(out);
    /* DryRun: 204 and no body */
    buf_reset(&body);
    out = json_pack("{s:i}", "StatusCode", 204);
    codec_rest_encode(&model_lambda, op, out, &status, &headers, &body);
    assert_int_equal(status, 204);
    assert_int_equal(body.len, 0);
    json_decref(headers);
    json_decref(out);
    /* CreateFunction: 201 and the JSON of the members */
    buf_reset(&body);
    op = model_op_find(&model_lambda, "CreateFunction", 14);
    out = json_pack("{s:s}", "FunctionName", "f");
    codec_rest_encode(&model_lambda, op, out, &status, &headers, &body);
    assert_int_equal(status, 201);
    assert_string_equal(body.data, "{\"FunctionName\":\"f\"}");
    json_decref(headers);
    json_decref(out);
    buf_free(&body);
}

static void test_errors(void **state)
{
    (void)state;
    aws_error_t err;
    buf_t b;
    buf_init(&b, 0);
    aws_error_clear(&err);
    aws_error_set(&err, 404, "ResourceNotFoundException", "Function not found: x");
    codec_rest_error(&model_lambda, &err, &b);
    /* the model spells this one's member "Message" ... */
    assert_string_equal(b.data, "{\"Type\":\"User\",\"Message\":\"Function not found: x\"}");
    buf_reset(&b);
    aws_error_clear(&err);
    aws_error_set(&err, 400, "InvalidParameterValueException", "bad");
    codec_rest_error(&model_lambda, &err, &b);
    /* ... and this one's "message" */
    assert_string_equal(b.data, "{\"Type\":\"User\",\"message\":\"bad\"}");
    buf_reset(&b);
    aws_error_clear(&err);
    aws_error_set(&err, 500, "ServiceException", "oops");
    codec_rest_error(&model_lambda, &err, &b);
    assert_non_null(strstr(b.data, "\"Type\":\"Service\""));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing),          cmocka_unit_test(test_decode_labels_query_headers),
        cmocka_unit_test(test_decode_json_body), cmocka_unit_test(test_encode),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
