/*
 * test_codec — the model-driven wire codecs: query forms decode to the same
 * trees the JSON protocol carries, outputs encode to the XML botocore reads,
 * and errors take each protocol's shape and code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "aws/codec.h"

static json_t *query(const char *op, const char *form, aws_error_t *err)
{
    json_t *pairs = codec_form_parse(form, strlen(form));
    json_t *out = NULL;
    const model_op_t *o = model_op_find(&model_sqs, op, strlen(op));
    assert_non_null(o);
    memset(err, 0, sizeof(*err));
    int rc = codec_query_decode(&model_sqs, o, pairs, &out, err);
    json_decref(pairs);
    return rc == 0 ? out : NULL;
}

static void test_form_decoding(void **state)
{
    (void)state;
    json_t *f = codec_form_parse("a=1&b=x+y%21&c=&d", 17);
    assert_string_equal(json_string_value(json_object_get(f, "b")), "x y!");
    assert_string_equal(json_string_value(json_object_get(f, "c")), "");
    assert_non_null(json_object_get(f, "d"));
    json_decref(f);
}

static void test_query_batch_with_attributes(void **state)
{
    (void)state;
    aws_error_t err;
    json_t *in = query("SendMessageBatch",
                       "Action=SendMessageBatch&QueueUrl=http%3A%2F%2Fh%2F1%2Fq"
                       "&SendMessageBatchRequestEntry.1.Id=a"
                       "&SendMessageBatchRequestEntry.1.MessageBody=hello"
                       "&SendMessageBatchRequestEntry.1.DelaySeconds=5"
                       "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=color"
                       "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=String"
                       "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=red"
                       "&SendMessageBatchRequestEntry.2.Id=b"
                       "&SendMessageBatchRequestEntry.2.MessageBody=world",
                       &err);
    assert_non_null(in);
    json_t *entries = json_object_get(in, "Entries");
    assert_int_equal(json_array_size(entries), 2);
    json_t *e0 = json_array_get(entries, 0);
    assert_string_equal(json_string_value(json_object_get(e0, "MessageBody")), "hello");
    assert_int_equal(json_integer_value(json_object_get(e0, "DelaySeconds")), 5);
    json_t *color = json_object_get(json_object_get(e0, "MessageAttributes"), "color");
    assert_string_equal(json_string_value(json_object_get(color, "StringValue")), "red");
    assert_string_equal(json_string_value(json_object_get(color, "DataType")), "String");
    json_decref(in);
}

static void test_query_maps_and_lists(void **state)
{
    (void)state;
    aws_error_t err;
    json_t *in = query("CreateQueue",
                       "QueueName=q1&Attribute.1.Name=DelaySeconds&Attribute.1.Value=3"
                       "&Attribute.2.Name=VisibilityTimeout&Attribute.2.Value=40"
                       "&Tag.1.Key=team&Tag.1.Value=core",
                       &err);
    assert_non_null(in);
    json_t *attrs = json_object_get(in, "Attributes");
    assert_string_equal(json_string_value(json_object_get(attrs, "VisibilityTimeout")), "40");
    assert_string_equal(json_string_value(json_object_get(json_object_get(in, "tags"), "team")),
                        "core");
    json_decref(in);
    in = query("ReceiveMessage",
               "QueueUrl=u&AttributeName.1=All&MessageAttributeName.1=a&MessageAttributeName.2=b"
               "&MaxNumberOfMessages=10",
               &err);
    assert_non_null(in);
    assert_int_equal(json_array_size(json_object_get(in, "MessageAttributeNames")), 2);
    assert_int_equal(json_integer_value(json_object_get(in, "MaxNumberOfMessages")), 10);
    json_decref(in);
}

/* Shapes can carry their own locationName (TagMap is "Tag"), and botocore
 * sends an empty list as "Member=": both were missed once. */
static void test_query_shape_names_and_empty_lists(void **state)
{
    (void)state;
    aws_error_t err;
    json_t *in = query("TagQueue", "QueueUrl=u&Tag.1.Key=a&Tag.1.Value=b", &err);
    assert_non_null(in);
    assert_string_equal(json_string_value(json_object_get(json_object_get(in, "Tags"), "a")), "b");
    json_decref(in);
    in = query("SendMessageBatch", "QueueUrl=u&Entries=", &err);
    assert_non_null(in);
    assert_true(json_is_array(json_object_get(in, "Entries")));
    assert_int_equal(json_array_size(json_object_get(in, "Entries")), 0);
    json_decref(in);
}

static void test_query_errors(void **state)
{
    (void)state;
    aws_error_t err;
    assert_null(query("SendMessage", "MessageBody=x", &err));
    assert_string_equal(err.code, "MissingParameter");
    assert_non_null(strstr(err.message, "QueueUrl"));
    assert_null(query("ReceiveMessage", "QueueUrl=u&MaxNumberOfMessages=ten", &err));
    assert_string_equal(err.code, "InvalidParameterValue");
}

static void test_xml_encoding(void **state)
{
    (void)state;
    const model_op_t *op = model_op_find(&model_sqs, "ReceiveMessage", 14);
    json_t *out = json_pack("{s:[{s:s, s:s, s:{s:s}, s:{s:{s:s, s:s}}}]}", "Messages", "Body",
                            "a<b&\r", "ReceiptHandle", "rh", "Attributes", "SenderId", "123",
                            "MessageAttributes", "k", "DataType", "String", "StringValue", "v");
    buf_t b;
    buf_init(&b, 0);
    codec_query_encode(&model_sqs, op, out, "rid", &b);
    assert_non_null(strstr(b.data, "<ReceiveMessageResponse xmlns=\"http://queue.amazonaws.com/"
                                   "doc/2012-11-05/\"><ReceiveMessageResult><Message>"));
    assert_non_null(strstr(b.data, "<Body>a&lt;b&amp;&#xD;</Body>"));
    assert_non_null(strstr(b.data, "<Attribute><Name>SenderId</Name><Value>123</Value>"));
    assert_non_null(strstr(b.data, "<MessageAttribute><Name>k</Name><Value><StringValue>v"
                                   "</StringValue><DataType>String</DataType></Value>"));
    assert_non_null(strstr(b.data, "<RequestId>rid</RequestId>"));
    buf_free(&b);
    json_decref(out);
}

/* XML 1.0 cannot carry control characters other than tab, LF and CR: they
 * once broke the ListQueueTags document for boto3. */
static void test_xml_escapes_control_characters(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b, 0);
    codec_xml_escape(&b,
                     "a\x01"
                     "b\tc\nd",
                     7);
    assert_string_equal(b.data, "a&#xFFFD;b\tc\nd");
    buf_free(&b);
}

/* Keys past the longest model name are not indexed (their prefixes would
 * cost the key's length squared) and so decode to nothing. */
static void test_query_ignores_overlong_keys(void **state)
{
    (void)state;
    aws_error_t err;
    char form[2048] = "QueueUrl=u&MessageBody=x&";
    size_t n = strlen(form);
    for (int i = 0; i < 600; i++, n += 2)
        memcpy(form + n, "a.", 2);
    memcpy(form + n, "=1", 3);
    json_t *in = query("SendMessage", form, &err);
    assert_non_null(in);
    assert_int_equal(json_object_size(in), 2);
    json_decref(in);
}

static void test_errors_per_protocol(void **state)
{
    (void)state;
    aws_error_t err;
    buf_t b;
    char hdr[128];
    aws_error_set(&err, 400, "QueueDoesNotExist", "The specified queue does not exist.");
    buf_init(&b, 0);
    codec_query_error(&model_sqs, &err, "rid", &b);
    assert_non_null(strstr(b.data, "<Code>AWS.SimpleQueueService.NonExistentQueue</Code>"));
    assert_non_null(strstr(b.data, "<Type>Sender</Type>"));
    buf_reset(&b);
    codec_json_error(&model_sqs, &err, &b, hdr, sizeof(hdr));
    assert_non_null(strstr(b.data, "\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\""));
    assert_string_equal(hdr, "AWS.SimpleQueueService.NonExistentQueue;Sender");
    buf_free(&b);
}

/* IAM: its own namespace, result wrapper, list shapes and error document;
 * Tags come in as Tags.member.N.Key/Value. */
static void test_iam_query(void **state)
{
    (void)state;
    aws_error_t err = {0};
    buf_t b;
    const char *form = "Action=CreateUser&UserName=bob&Tags.member.1.Key=k&Tags.member.1.Value=v";
    const model_op_t *op = model_op_find(&model_iam, "CreateUser", 10);
    json_t *pairs = codec_form_parse(form, strlen(form)), *in = NULL;
    assert_int_equal(codec_query_decode(&model_iam, op, pairs, &in, &err), 0);
    assert_string_equal(json_string_value(json_object_get(in, "UserName")), "bob");
    json_t *tag = json_array_get(json_object_get(in, "Tags"), 0);
    assert_string_equal(json_string_value(json_object_get(tag, "Value")), "v");
    json_decref(pairs);
    json_decref(in);
    op = model_op_find(&model_iam, "ListUsers", 9);
    json_t *out = json_pack("{s:[{s:s}],s:b}", "Users", "UserName", "bob", "IsTruncated", 0);
    buf_init(&b, 0);
    codec_query_encode(&model_iam, op, out, "rid", &b);
    assert_non_null(strstr(b.data, "<ListUsersResponse xmlns=\"https://iam.amazonaws.com/doc/"
                                   "2010-05-08/\"><ListUsersResult><Users><member><UserName>bob"
                                   "</UserName></member></Users><IsTruncated>false</IsTruncated>"));
    buf_reset(&b);
    aws_error_set(&err, 404, "NoSuchEntity", "The user with name x cannot be found.");
    codec_query_error(&model_iam, &err, "rid", &b);
    assert_non_null(strstr(b.data, "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/"
                                   "2010-05-08/\"><Error><Type>Sender</Type><Code>NoSuchEntity"));
    buf_free(&b);
    json_decref(out);
}

static void test_json_validation(void **state)
{
    (void)state;
    aws_error_t err = {0};
    json_t *in = NULL;
    const model_op_t *op = model_op_find(&model_sqs, "SendMessage", 11);
    const char *bad = "{\"QueueUrl\":\"u\",\"MessageBody\":\"x\",\"DelaySeconds\":\"5\"}";
    assert_int_equal(codec_json_decode(&model_sqs, op, bad, strlen(bad), &in, &err), -1);
    assert_string_equal(err.code, "SerializationException");
    const char *missing = "{\"QueueUrl\":\"u\"}";
    assert_int_equal(codec_json_decode(&model_sqs, op, missing, strlen(missing), &in, &err), -1);
    assert_string_equal(err.code, "MissingParameter");
    const char *ok = "{\"QueueUrl\":\"u\",\"MessageBody\":\"x\",\"DelaySeconds\":5}";
    assert_int_equal(codec_json_decode(&model_sqs, op, ok, strlen(ok), &in, &err), 0);
    json_decref(in);
    assert_int_equal(codec_json_decode(&model_sqs, op, "{", 1, &in, &err), -1);
    assert_string_equal(err.code, "SerializationException");
    /* Several faults: the first member in the model's order is the one reported, whatever
     * the order of the request's keys (MessageBody comes before DelaySeconds there). */
    const char *two = "{\"DelaySeconds\":\"5\",\"QueueUrl\":\"u\"}";
    assert_int_equal(codec_json_decode(&model_sqs, op, two, strlen(two), &in, &err), -1);
    assert_string_equal(err.code, "MissingParameter");
    assert_non_null(strstr(err.message, "MessageBody"));
    const char *batch = "{\"QueueUrl\":\"u\",\"Entries\":[{\"DelaySeconds\":\"x\",\"Id\":\"a\"}]}";
    op = model_op_find(&model_sqs, "SendMessageBatch", 16);
    assert_int_equal(codec_json_decode(&model_sqs, op, batch, strlen(batch), &in, &err), -1);
    assert_string_equal(err.code, "MissingParameter");
    assert_non_null(strstr(err.message, "MessageBody"));
}

static void test_json_encoding(void **state)
{
    (void)state;
    buf_t b;
    json_t *v = json_pack("{s:s, s:[i, b, n], s:s#}", "a", "q\"\\\n\x01\xe3\x81\x82", "l", 7, 1,
                          "z", "x\0y", (size_t)3);
    buf_init(&b, 0);
    codec_json_encode(v, &b);
    assert_string_equal(b.data, "{\"a\":\"q\\\"\\\\\\n\\u0001\xe3\x81\x82\",\"l\":[7,true,null],"
                                "\"z\":\"x\\u0000y\"}");
    /* What we write, jansson reads back to the same tree. */
    json_t *back = json_loadb(b.data, b.len, JSON_ALLOW_NUL, NULL);
    assert_true(json_equal(v, back));
    json_decref(back);
    json_decref(v);
    buf_free(&b);
}

/* Strings are scanned eight bytes at a time: every byte that needs escaping
 * is found wherever it sits in a word, next to UTF-8 or plain bytes. */
static void test_json_escapes_at_every_offset(void **state)
{
    (void)state;
    static const char specials[] = {'"', '\\', '\n', '\x01', '\x1f', '\0'};
    static const char *const fills[] = {"a", "\xc3\xa9", "\x7f"};
    for (size_t f = 0; f < sizeof(fills) / sizeof(fills[0]); f++) {
        for (size_t k = 0; k < sizeof(specials); k++) {
            for (size_t at = 0; at < 24; at++) {
                char s[64];
                size_t n = 0;
                while (n < 40)
                    for (const char *p = fills[f]; *p && n < 40; p++)
                        s[n++] = *p;
                s[at] = specials[k];
                json_t *v = json_stringn(s, n);
                if (!v) /* the special split a UTF-8 sequence */
                    continue;
                buf_t b;
                buf_init(&b, 0);
                codec_json_encode(v, &b);
                json_t *back = json_loadb(b.data, b.len, JSON_ALLOW_NUL | JSON_DECODE_ANY, NULL);
                assert_non_null(back);
                assert_true(json_equal(v, back));
                if ((unsigned char)specials[k] < 0x20) /* no raw control character left */
                    assert_null(memchr(b.data, specials[k], b.len));
                json_decref(back);
                json_decref(v);
                buf_free(&b);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_decoding),
        cmocka_unit_test(test_query_batch_with_attributes),
        cmocka_unit_test(test_query_maps_and_lists),
        cmocka_unit_test(test_query_shape_names_and_empty_lists),
        cmocka_unit_test(test_query_errors),
        cmocka_unit_test(test_xml_encoding),
        cmocka_unit_test(test_xml_escapes_control_characters),
        cmocka_unit_test(test_query_ignores_overlong_keys),
        cmocka_unit_test(test_errors_per_protocol),
        cmocka_unit_test(test_iam_query),
        cmocka_unit_test(test_json_validation),
        cmocka_unit_test(test_json_encoding),
        cmocka_unit_test(test_json_escapes_at_every_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
