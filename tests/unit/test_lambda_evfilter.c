/*
 * test_lambda_evfilter — Lambda event filtering (FilterCriteria) for SQS
 * event source mappings: each operator matching and not, "$or", the SQS body
 * as JSON or as a plain string, attributes and message attributes, nested
 * objects and arrays, every kind of refused pattern and the limits.
 *
 * The cases are tables of (pattern, body, expected); every record is the
 * same SQS record (the Lambda guide's example, with message attributes) with
 * the case's body in it.
 */
#include "lambda/evfilter.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

static const char RECORD[] =
    "{\"messageId\":\"059f36b4-87a3-44ab-83d2-661975830a7d\","
    "\"receiptHandle\":\"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a\","
    "\"attributes\":{\"ApproximateReceiveCount\":\"1\",\"SentTimestamp\":\"1545082649183\","
    "\"SenderId\":\"AIDAIENQZJOLO23YVJ4VO\",\"ApproximateFirstReceiveTimestamp\":\"1545082649185\"}"
    ","
    "\"messageAttributes\":{\"Color\":{\"stringValue\":\"Red\",\"dataType\":\"String\"},"
    "\"Size\":{\"stringValue\":\"10\",\"dataType\":\"Number\"},"
    "\"Blob\":{\"binaryValue\":\"AQID\",\"dataType\":\"Binary\"}},"
    "\"md5OfBody\":\"e4e68fb7bd0e697a0ae8f1bb342846b3\",\"eventSource\":\"aws:sqs\","
    "\"eventSourceARN\":\"arn:aws:sqs:us-east-1:000000000000:jobs\",\"awsRegion\":\"us-east-1\"}";

/* A JSON body with a field for every case. */
#define J                                                                                          \
    "{\"RecordNumber\":1234,\"TimeStamp\":\"2024-05-01T12:00:00\",\"RequestCode\":\"AAAA\","       \
    "\"Price\":15.5,\"Count\":0,\"XLimit\":301.8,\"Region\":\"us-west-2\","                        \
    "\"FileName\":\"photo.PNG\",\"Name\":\"Alice\",\"Empty\":\"\",\"Nothing\":null,\"Flag\":true," \
    "\"Tags\":[\"red\",\"blue\"],\"Scores\":[3,7],\"None\":[],"                                    \
    "\"Customer\":{\"Email\":\"a@example.com\",\"Address\":{\"City\":\"Seattle\"}},"               \
    "\"Items\":[{\"id\":1,\"kind\":\"book\"},{\"id\":2,\"kind\":\"pen\"}],"                        \
    "\"Big\":300,\"Real\":300.0}"
/* A plain-string body. */
#define P "hello world"

typedef struct mcase {
    const char *pattern;
    const char *body;
    bool match;
} mcase_t;

static json_t *record(const char *body)
{
    json_t *r = json_loads(RECORD, 0, NULL);
    assert_non_null(r);
    json_object_set_new(r, "body", json_string(body));
    return r;
}

static lambda_filter_t *compile(const char *const *patterns, size_t n)
{
    aws_error_t err;
    aws_error_clear(&err);
    lambda_filter_t *f = lambda_filter_compile(patterns, n, &err);
    if (!f)
        fail_msg("refused %s: %s", n ? patterns[0] : "(none)", err.message);
    assert_false(aws_error_is_set(&err));
    return f;
}

static void run(const mcase_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        lambda_filter_t *f = compile(&cases[i].pattern, 1);
        json_t *r = record(cases[i].body);
        if (lambda_filter_match(f, r) != cases[i].match)
            fail_msg("case %zu: %s on body %.40s: want %s", i, cases[i].pattern, cases[i].body,
                     cases[i].match ? "match" : "no match");
        json_decref(r);
        lambda_filter_free(f);
    }
}

#define RUN(cases) run(cases, sizeof(cases) / sizeof(cases[0]))

static void test_equals(void **state)
{
    (void)state;
    static const mcase_t cases[] = {
        /* the SQS guide's example, and its values OR-ed */
        {"{\"body\":{\"RequestCode\":[\"AAAA\"]}}", J, true},
        {"{\"body\":{\"RequestCode\":[\"BBBB\"]}}", J, false},
        {"{\"body\":{\"RequestCode\":[\"BBBB\",\"AAAA\"]}}", J, true},
        {"{\"body\":{\"RequestCode\":[\"aaaa\"]}}", J, false}, /* no case folding */
        /* numbers by their text: 300 is not 300.0, nor the string "1234" */
        {"{\"body\":{\"RecordNumber\":[1234]}}", J, true},
        {"{\"body\":{\"RecordNumber\":[1235]}}", J, false},
        {"{\"body\":{\"RecordNumber\":[\"1234\"]}}", J, false},
        {"{\"body\":{\"Big\":[300]}}", J, true},
        {"{\"body\":{\"Real\":[300]}}", J, false},
        {"{\"body\":{\"Real\":[300.0]}}", J, true},
        {"{\"body\":{\"Flag\":[true]}}", J, true},
        {"{\"body\":{\"Flag\":[false]}}", J, false},
        {"{\"body\":{\"Flag\":[\"true\"]}}", J, false},
        /* null and empty: a null value, not a missing field */
        {"{\"body\":{\"Nothing\":[null]}}", J, true},
        {"{\"body\":{\"Name\":[null]}}", J, false},
        {"{\"body\":{\"Missing\":[null]}}", J, false},
        {"{\"body\":{\"Empty\":[\"\"]}}", J, true},
        {"{\"body\":{\"Name\":[\"\"]}}", J, false},
        /* And */
        {"{\"body\":{\"RequestCode\":[\"AAAA\"],\"Region\":[\"us-west-2\"]}}", J, true},
        {"{\"body\":{\"RequestCode\":[\"AAAA\"],\"Region\":[\"eu-west-1\"]}}", J, false},
        {"{\"body\":{\"Customer\":{\"Address\":{\"City\":[\"Seattle\"]}}}}", J, true},
        {"{\"body\":{\"Customer\":{\"Address\":{\"City\":[\"Portland\"]}}}}", J, false},
        {"{\"body\":{\"Customer\":[\"x\"]}}", J, false}, /* an object is no leaf */
    };
    RUN(cases);
}

static void test_strings(void **state)
{
    (void)state;
    static const mcase_t cases[] = {
        {"{\"body\":{\"Name\":[{\"equals-ignore-case\":\"alice\"}]}}", J, true},
        {"{\"body\":{\"Name\":[{\"equals-ignore-case\":\"ALICE\"}]}}", J, true},
        {"{\"body\":{\"Name\":[{\"equals-ignore-case\":\"alicia\"}]}}", J, false},
        {"{\"body\":{\"Big\":[{\"equals-ignore-case\":\"300\"}]}}", J, false},
        {"{\"body\":{\"Region\":[{\"prefix\":\"us-\"}]}}", J, true},
        {"{\"body\":{\"Region\":[{\"prefix\":\"eu-\"}]}}", J, false},
        {"{\"body\":{\"Region\":[{\"prefix\":\"US-\"}]}}", J, false},
        {"{\"body\":{\"Region\":[{\"prefix\":\"\"}]}}", J, true},
        {"{\"body\":{\"Region\":[{\"prefix\":\"us-west-2-and-more\"}]}}", J, false},
        {"{\"body\":{\"Big\":[{\"prefix\":\"3\"}]}}", J, false}, /* strings only */
        {"{\"body\":{\"Region\":[{\"prefix\":{\"equals-ignore-case\":\"US-\"}}]}}", J, true},
        {"{\"body\":{\"FileName\":[{\"suffix\":\".PNG\"}]}}", J, true},
        {"{\"body\":{\"FileName\":[{\"suffix\":\".png\"}]}}", J, false},
        {"{\"body\":{\"FileName\":[{\"suffix\":{\"equals-ignore-case\":\".png\"}}]}}", J, true},
        {"{\"body\":{\"FileName\":[{\"suffix\":{\"equals-ignore-case\":\".jpg\"}}]}}", J, false},
        {"{\"body\":{\"Tags\":[{\"prefix\":\"bl\"}]}}", J, true},
        /* strings may hold NUL: compared by length, not up to the first NUL */
        {"{\"body\":{\"a\":[\"x\\u0000y\"]}}", "{\"a\":\"x\\u0000y\"}", true},
        {"{\"body\":{\"a\":[\"x\"]}}", "{\"a\":\"x\\u0000y\"}", false},
        {"{\"body\":{\"a\":[{\"suffix\":\"\\u0000y\"}]}}", "{\"a\":\"x\\u0000y\"}", true},
    };
    RUN(cases);
}

static void test_anything_but(void **state)
{
    (void)state;
    static const mcase_t cases[] = {
        {"{\"body\":{\"RequestCode\":[{\"anything-but\":[\"BBBB\",\"CCCC\"]}]}}", J, true},
        {"{\"body\":{\"RequestCode\":[{\"anything-but\":[\"AAAA\"]}]}}", J, false},
        {"{\"body\":{\"RequestCode\":[{\"anything-but\":\"AAAA\"}]}}", J, false},
        {"{\"body\":{\"RequestCode\":[{\"anything-but\":\"X\"}]}}", J, true},
        {"{\"body\":{\"RecordNumber\":[{\"anything-but\":[1,2]}]}}", J, true},
        {"{\"body\":{\"RecordNumber\":[{\"anything-but\":[1234]}]}}", J, false},
        {"{\"body\":{\"RecordNumber\":[{\"anything-but\":1234}]}}", J, false},
        {"{\"body\":{\"Real\":[{\"anything-but\":300}]}}", J, false}, /* numbers by value */
        /* a missing field is not "anything but"; a null value is */
        {"{\"body\":{\"Missing\":[{\"anything-but\":\"x\"}]}}", J, false},
        {"{\"body\":{\"Nothing\":[{\"anything-but\":\"x\"}]}}", J, true},
        {"{\"body\":{\"Region\":[{\"anything-but\":{\"prefix\":\"us-\"}}]}}", J, false},
        {"{\"body\":{\"Region\":[{\"anything-but\":{\"prefix\":\"eu-\"}}]}}", J, true},
        {"{\"body\":{\"FileName\":[{\"anything-but\":{\"suffix\":\".PNG\"}}]}}", J, false},
        {"{\"body\":{\"FileName\":[{\"anything-but\":{\"suffix\":\".gif\"}}]}}", J, true},
        {"{\"body\":{\"Name\":[{\"anything-but\":{\"equals-ignore-case\":[\"ALICE\",\"bob\"]}}]}}",
         J, false},
        {"{\"body\":{\"Name\":[{\"anything-but\":{\"equals-ignore-case\":\"carol\"}}]}}", J, true},
        /* an array passes when any element is none of the values */
        {"{\"body\":{\"Tags\":[{\"anything-but\":\"red\"}]}}", J, true},
        {"{\"body\":{\"Tags\":[{\"anything-but\":[\"red\",\"blue\"]}]}}", J, false},
        {"{\"awsRegion\":[{\"anything-but\":\"us-east-1\"}]}", J, false},
    };
    RUN(cases);
}

static void test_numeric(void **state)
{
    (void)state;
    static const mcase_t cases[] = {
        {"{\"body\":{\"Price\":[{\"numeric\":[\">\",0,\"<=\",15.5]}]}}", J, true},
        {"{\"body\":{\"Price\":[{\"numeric\":[\">\",15.5,\"<\",20]}]}}", J, false},
        {"{\"body\":{\"Price\":[{\"numeric\":[\">=\",15.5,\"<\",20]}]}}", J, true},
        {"{\"body\":{\"Price\":[{\"numeric\":[\">\",0,\"<\",15.5]}]}}", J, false},
        {"{\"body\":{\"Price\":[{\"numeric\":[\">\",15.5]}]}}", J, false},
        {"{\"body\":{\"Price\":[{\"numeric\":[\">=\",15.5]}]}}", J, true},
        {"{\"body\":{\"Price\":[{\"numeric\":[\"<\",15.5]}]}}", J, false},
        {"{\"body\":{\"Price\":[{\"numeric\":[\"<=\",15.5]}]}}", J, true},
        {"{\"body\":{\"Price\":[{\"numeric\":[\"=\",15.5]}]}}", J, true},
        {"{\"body\":{\"XLimit\":[{\"numeric\":[\"=\",3.018e2]}]}}", J, true},
        {"{\"body\":{\"Real\":[{\"numeric\":[\"=\",300]}]}}", J, true}, /* by value */
        {"{\"body\":{\"Count\":[{\"numeric\":[\">\",0]}]}}", J, false},
        {"{\"body\":{\"Count\":[{\"numeric\":[\"=\",0]}]}}", J, true},
        {"{\"body\":{\"Count\":[{\"numeric\":[\">\",-1,\"<\",1]}]}}", J, true},
        {"{\"body\":{\"Count\":[{\"numeric\":[\">\",-1e9,\"<\",-1]}]}}", J, false},
        {"{\"body\":{\"Scores\":[{\"numeric\":[\">\",5]}]}}", J, true},
        {"{\"body\":{\"Scores\":[{\"numeric\":[\">\",7]}]}}", J, false},
        /* JSON numbers only: a numeric string is a string */
        {"{\"body\":{\"Name\":[{\"numeric\":[\">\",0]}]}}", J, false},
        {"{\"attributes\":{\"ApproximateReceiveCount\":[{\"numeric\":[\">\",0]}]}}", J, false},
        /* rules of a list OR-ed */
        {"{\"body\":{\"Price\":[{\"numeric\":[\"<\",0]},{\"numeric\":[\">\",10]}]}}", J, true},
    };
    RUN(cases);
}

static void test_exists(void **state)
{
    (void)state;
    static const mcase_t cases[] = {
        {"{\"body\":{\"Name\":[{\"exists\":true}]}}", J, true},
        {"{\"body\":{\"Name\":[{\"exists\":false}]}}", J, false},
        {"{\"body\":{\"Missing\":[{\"exists\":true}]}}", J, false},
        {"{\"body\":{\"Missing\":[{\"exists\":false}]}}", J, true},
        {"{\"body\":{\"Nothing\":[{\"exists\":true}]}}", J, true}, /* null is a value */
        {"{\"body\":{\"Tags\":[{\"exists\":true}]}}", J, true},
        {"{\"body\":{\"None\":[{\"exists\":true}]}}", J, false}, /* an empty array */
        /* leaf nodes only: an object does not "exist" */
        {"{\"body\":{\"Customer\":[{\"exists\":true}]}}", J, false},
        {"{\"body\":{\"Customer\":[{\"exists\":false}]}}", J, true},
        {"{\"body\":{\"Missing\":{\"Deep\":[{\"exists\":false}]}}}", J, true},
        {"{\"body\":{\"Name\":{\"Deep\":[{\"exists\":false}]}}}", J, true},
        {"{\"body\":{\"Customer\":{\"Email\":[{\"exists\":true}]}}}", J, true},
        {"{\"messageAttributes\":{\"Blob\":{\"binaryValue\":[{\"exists\":true}]}}}", J, true},
        {"{\"messageAttributes\":{\"Color\":{\"binaryValue\":[{\"exists\":true}]}}}", J, false},
    };
    RUN(cases);
}

static void test_arrays_and_or(void **state)
{
    (void)state;
    static const mcase_t cases[] = {
        {"{\"body\":{\"Tags\":[\"blue\"]}}", J, true},
        {"{\"body\":{\"Tags\":[\"green\"]}}", J, false},
        {"{\"body\":{\"Scores\":[7]}}", J, true},
        {"{\"body\":{\"Items\":{\"kind\":[\"pen\"]}}}", J, true},
        {"{\"body\":{\"Items\":{\"id\":[2],\"kind\":[\"pen\"]}}}", J, true},
        /* two fields never match in two different elements */
        {"{\"body\":{\"Items\":{\"id\":[1],\"kind\":[\"pen\"]}}}", J, false},
        /* $or inside the body, at the top, and with an And inside it */
        {"{\"body\":{\"$or\":[{\"RequestCode\":[\"BBBB\"]},{\"Region\":[\"us-west-2\"]}]}}", J,
         true},
        {"{\"body\":{\"$or\":[{\"RequestCode\":[\"BBBB\"]},{\"Region\":[\"eu-west-1\"]}]}}", J,
         false},
        {"{\"$or\":[{\"body\":{\"RequestCode\":[\"ZZ\"]}},"
         "{\"messageAttributes\":{\"Color\":{\"stringValue\":[\"Red\"]}}}]}",
         J, true},
        {"{\"$or\":[{\"body\":{\"RequestCode\":[\"ZZ\"]}},"
         "{\"messageAttributes\":{\"Color\":{\"stringValue\":[\"Blue\"]}}}]}",
         J, false},
        {"{\"body\":{\"Name\":[\"Alice\"],\"$or\":[{\"Count\":[1]},{\"Flag\":[true]}]}}", J, true},
        {"{\"body\":{\"Name\":[\"Bob\"],\"$or\":[{\"Count\":[1]},{\"Flag\":[true]}]}}", J, false},
        {"{\"body\":{\"$or\":[{\"Count\":[1]},{\"Name\":[\"Bob\"],\"Flag\":[true]},"
         "{\"Name\":[\"Alice\"],\"Flag\":[true]}]}}",
         J, true},
        {"{\"body\":{\"$or\":[{\"Count\":[1]},{\"$or\":[{\"Flag\":[false]},{\"Big\":[300]}]}]}}", J,
         true},
        /* "$or" that is not the primitive is an ordinary field name */
        {"{\"body\":{\"$or\":{\"x\":[\"y\"]}}}", J, false},
        {"{\"body\":{\"$or\":[{\"prefix\":\"x\"},{\"suffix\":\"y\"}]}}", "{\"$or\":\"xy\"}", true},
    };
    RUN(cases);
}

static void test_body_format(void **state)
{
    (void)state;
    static const mcase_t cases[] = {
        /* plain string body, plain string pattern: filtered */
        {"{\"body\":[\"hello world\"]}", P, true},
        {"{\"body\":[\"bye\"]}", P, false},
        {"{\"body\":[{\"prefix\":\"hello\"}]}", P, true},
        {"{\"body\":[{\"suffix\":\"world\"}]}", P, true},
        {"{\"body\":[{\"anything-but\":\"bye\"}]}", P, true},
        {"{\"body\":[{\"exists\":true}]}", P, true},
        /* plain string body, JSON pattern: dropped */
        {"{\"body\":{\"RequestCode\":[\"AAAA\"]}}", P, false},
        {"{\"body\":{\"RequestCode\":[{\"exists\":false}]}}", P, false},
        /* JSON body, plain string pattern: dropped, even one the text satisfies */
        {"{\"body\":["
         "\"{\\\"a\\\":1}\""
         "]}",
         "{\"a\":1}", false},
        {"{\"body\":[{\"prefix\":\"{\"}]}", J, false},
        {"{\"body\":[{\"exists\":true}]}", J, false},
        {"{\"body\":[{\"anything-but\":\"x\"}]}", J, false},
        /* what counts as JSON: an object or an array; a bare number is a string */
        {"{\"body\":[\"42\"]}", "42", true},
        {"{\"body\":[\"[1,2]\"]}", "[1,2]", false},
        {"{\"body\":{\"a\":[\"x\"]}}", "[{\"a\":\"y\"},{\"a\":\"x\"}]", true},
        {"{\"body\":[{\"prefix\":\"{\"}]}", "{not json", true},
        {"{\"body\":{\"a\":[\"x\"]}}", "{\"a\":\"x\"} trailing", false},
        /* no body in the pattern: the body's format does not matter */
        {"{\"attributes\":{\"ApproximateReceiveCount\":[\"1\"]}}", J, true},
        {"{\"attributes\":{\"ApproximateReceiveCount\":[\"1\"]}}", P, true},
        {"{\"body\":{\"RequestCode\":[\"AAAA\"]},\"eventSource\":[\"aws:sqs\"]}", J, true},
        {"{\"body\":{\"RequestCode\":[\"AAAA\"]},\"eventSource\":[\"aws:sns\"]}", J, false},
    };
    RUN(cases);
}

static void test_attributes(void **state)
{
    (void)state;
    static const mcase_t cases[] = {
        {"{\"messageAttributes\":{\"Color\":{\"stringValue\":[\"Red\"]}}}", P, true},
        {"{\"messageAttributes\":{\"Color\":{\"stringValue\":[\"Blue\"]}}}", P, false},
        {"{\"messageAttributes\":{\"Size\":{\"dataType\":[\"Number\"],\"stringValue\":[\"10\"]}}}",
         P, true},
        {"{\"messageAttributes\":{\"Missing\":{\"stringValue\":[{\"exists\":false}]}}}", P, true},
        {"{\"attributes\":{\"SenderId\":[{\"prefix\":\"AIDA\"}]}}", P, true},
        {"{\"attributes\":{\"ApproximateReceiveCount\":[{\"anything-but\":\"1\"}]}}", P, false},
        {"{\"eventSource\":[\"aws:sqs\"],\"awsRegion\":[\"us-east-1\"]}", P, true},
        {"{\"eventSourceARN\":[{\"suffix\":\":jobs\"}]}", P, true},
    };
    RUN(cases);
}

/* Several filters are OR-ed; none means everything passes. */
static void test_filters_or(void **state)
{
    (void)state;
    const char *pats[] = {
        "{\"body\":{\"RequestCode\":[\"BBBB\"]}}",
        "{\"messageAttributes\":{\"Color\":{\"stringValue\":[\"Red\"]}}}",
    };
    json_t *rj = record(J), *rp = record(P);
    lambda_filter_t *f = compile(pats, 2);
    assert_int_equal(lambda_filter_count(f), 2);
    assert_true(lambda_filter_match(f, rj));
    assert_true(lambda_filter_match(f, rp));
    lambda_filter_free(f);
    f = compile(pats, 1);
    assert_false(lambda_filter_match(f, rj));
    lambda_filter_free(f);
    f = compile(NULL, 0);
    assert_int_equal(lambda_filter_count(f), 0);
    assert_true(lambda_filter_match(f, rj));
    assert_true(lambda_filter_match(f, rp));
    lambda_filter_free(f);
    lambda_filter_free(NULL);
    json_decref(rj);
    json_decref(rp);
}

static void refused(const char *const *patterns, size_t n, const char *want)
{
    aws_error_t err;
    aws_error_clear(&err);
    lambda_filter_t *f = lambda_filter_compile(patterns, n, &err);
    if (f)
        fail_msg("accepted: %s", n ? patterns[n - 1] : "(none)");
    assert_string_equal(err.code, "InvalidParameterValueException");
    assert_int_equal(err.status, 400);
    assert_true(err.sender);
    if (want)
        assert_string_equal(err.message, want);
    else
        assert_true(err.message[0]);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        NULL, /* a filter without a Pattern */
        "",
        "not json",
        "{\"a\":[\"x\"]} trailing",
        "[]",
        "[{\"a\":[\"x\"]}]",
        "\"str\"",
        "42",
        "null",
        "{}",
        /* leaves must be non-empty arrays; objects must not be empty */
        "{\"a\":\"x\"}",
        "{\"a\":1}",
        "{\"a\":null}",
        "{\"a\":[]}",
        "{\"a\":{}}",
        "{\"a\":{\"b\":{}}}",
        "{\"a\":[[\"x\"]]}",
        /* match expressions: one known operator with a fitting operand */
        "{\"a\":[{}]}",
        "{\"a\":[{\"prefix\":\"x\",\"suffix\":\"y\"}]}",
        "{\"a\":[{\"unknown\":1}]}",
        "{\"a\":[{\"wildcard\":\"x*\"}]}",
        "{\"a\":[{\"cidr\":\"10.0.0.0/8\"}]}",
        "{\"a\":[{\"prefix\":1}]}",
        "{\"a\":[{\"prefix\":null}]}",
        "{\"a\":[{\"prefix\":[\"x\"]}]}",
        "{\"a\":[{\"prefix\":{\"foo\":\"x\"}}]}",
        "{\"a\":[{\"prefix\":{\"equals-ignore-case\":1}}]}",
        "{\"a\":[{\"prefix\":{\"equals-ignore-case\":\"x\",\"foo\":\"y\"}}]}",
        "{\"a\":[{\"suffix\":[]}]}",
        "{\"a\":[{\"equals-ignore-case\":5}]}",
        "{\"a\":[{\"equals-ignore-case\":[\"x\"]}]}",
        "{\"a\":[{\"exists\":\"true\"}]}",
        "{\"a\":[{\"exists\":1}]}",
        "{\"a\":[{\"exists\":null}]}",
        "{\"a\":[{\"anything-but\":null}]}",
        "{\"a\":[{\"anything-but\":true}]}",
        "{\"a\":[{\"anything-but\":[]}]}",
        "{\"a\":[{\"anything-but\":[1,\"a\"]}]}",
        "{\"a\":[{\"anything-but\":[null]}]}",
        "{\"a\":[{\"anything-but\":[[1]]}]}",
        "{\"a\":[{\"anything-but\":{}}]}",
        "{\"a\":[{\"anything-but\":{\"prefix\":\"\"}}]}",
        "{\"a\":[{\"anything-but\":{\"prefix\":1}}]}",
        "{\"a\":[{\"anything-but\":{\"suffix\":[\"x\"]}}]}",
        "{\"a\":[{\"anything-but\":{\"wildcard\":\"x\"}}]}",
        "{\"a\":[{\"anything-but\":{\"equals-ignore-case\":[1]}}]}",
        "{\"a\":[{\"anything-but\":{\"equals-ignore-case\":[]}}]}",
        "{\"a\":[{\"anything-but\":{\"prefix\":\"a\",\"suffix\":\"b\"}}]}",
        "{\"a\":[{\"anything-but\":{\"exists\":true}}]}",
        /* numeric: malformed ranges and wrong operand types */
        "{\"a\":[{\"numeric\":\"x\"}]}",
        "{\"a\":[{\"numeric\":5}]}",
        "{\"a\":[{\"numeric\":[]}]}",
        "{\"a\":[{\"numeric\":[\">\"]}]}",
        "{\"a\":[{\"numeric\":[\">\",1,\"<\"]}]}",
        "{\"a\":[{\"numeric\":[\"=\",\"1\"]}]}",
        "{\"a\":[{\"numeric\":[\"==\",1]}]}",
        "{\"a\":[{\"numeric\":[1,\">\"]}]}",
        "{\"a\":[{\"numeric\":[\">\",5,\"<\",1]}]}",
        "{\"a\":[{\"numeric\":[\">\",1,\"<\",1]}]}",
        "{\"a\":[{\"numeric\":[\"<\",1,\">\",0]}]}",
        "{\"a\":[{\"numeric\":[\"=\",1,\"<\",2]}]}",
        "{\"a\":[{\"numeric\":[\">\",1,\">\",2]}]}",
        "{\"a\":[{\"numeric\":[\">\",0,\"<=\",5,\"=\",3]}]}",
        "{\"a\":[{\"numeric\":[\">\",0,\"<=\",null]}]}",
        /* $or: two or more non-empty objects, or else an ordinary field */
        "{\"$or\":[{\"a\":[\"x\"]}]}",
        "{\"$or\":[]}",
        "{\"$or\":[{\"a\":[\"x\"]},{}]}",
        "{\"$or\":[{\"a\":[\"x\"]},\"b\"]}",
        "{\"$or\":[{\"a\":[\"x\"]},{\"b\":\"y\"}]}",
        "{\"body\":{\"$or\":[{\"a\":[\"x\"]},{\"b\":[{\"numeric\":[\">\"]}]}]}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        refused(&bad[i], 1, "Invalid filter pattern definition.");
    /* A bad pattern anywhere refuses the whole criteria. */
    const char *second_bad[] = {"{\"a\":[\"x\"]}", "{\"a\":[{\"prefix\":1}]}"};
    refused(second_bad, 2, "Invalid filter pattern definition.");
}

static void test_limits(void **state)
{
    (void)state;
    const char *pats[LAMBDA_FILTERS_MAX + 1];
    for (size_t i = 0; i <= LAMBDA_FILTERS_MAX; i++)
        pats[i] = "{\"a\":[\"x\"]}";
    lambda_filter_free(compile(pats, LAMBDA_FILTERS_MAX));
    refused(pats, LAMBDA_FILTERS_MAX + 1, "The maximum number of filters is 5.");

    /* {"a":["xxx..."]}: 10 characters around the string */
    char text[3 * LAMBDA_FILTER_PATTERN_MAX];
    const char *one[] = {text};
    size_t fill = LAMBDA_FILTER_PATTERN_MAX - 10;
    memcpy(text, "{\"a\":[\"", 7);
    memset(text + 7, 'x', fill);
    strcpy(text + 7 + fill, "\"]}");
    assert_int_equal(strlen(text), LAMBDA_FILTER_PATTERN_MAX);
    lambda_filter_free(compile(one, 1));
    strcpy(text + 7 + fill, "x\"]}");
    refused(one, 1, NULL);
    /* Characters, not bytes: as many two-byte letters fit. */
    char *p = text + 7;
    for (size_t i = 0; i < fill; i++, p += 2)
        memcpy(p, "\xc3\xa9", 2);
    strcpy(p, "\"]}");
    assert_true(strlen(text) > LAMBDA_FILTER_PATTERN_MAX);
    lambda_filter_t *f = compile(one, 1);
    json_t *r = record(P);
    assert_false(lambda_filter_match(f, r));
    json_decref(r);
    lambda_filter_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equals),       cmocka_unit_test(test_strings),
        cmocka_unit_test(test_anything_but), cmocka_unit_test(test_numeric),
        cmocka_unit_test(test_exists),       cmocka_unit_test(test_arrays_and_or),
        cmocka_unit_test(test_body_format),  cmocka_unit_test(test_attributes),
        cmocka_unit_test(test_filters_or),   cmocka_unit_test(test_refused),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
