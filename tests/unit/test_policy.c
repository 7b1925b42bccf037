/*
 * test_policy — the IAM policy engine: grammar and IAM's validation messages,
 * every condition operator (with IfExists, ForAllValues/ForAnyValue, missing
 * keys and empty sets), policy variables, wildcards, and a table of decisions
 * taken from the IAM documentation's evaluation examples, with their
 * AccessDenied messages.
 *
 * Policies are written with single quotes for readability; q() turns them
 * into JSON (so a literal ' can only appear through q_raw()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iam/policy.h"

#define ACCT      "111122223333"
#define OTHER     "444455556666"
#define BOB       "arn:aws:iam::111122223333:user/Bob"
#define ROLE      "arn:aws:iam::111122223333:role/app"
#define SESSION   "arn:aws:sts::111122223333:assumed-role/app/s1"
#define ALICE     "arn:aws:iam::444455556666:user/Alice"
#define QUEUE     "arn:aws:sqs:us-east-1:111122223333:jobs"
#define V2012     "'Version':'2012-10-17',"
#define MAX_VALUE 8

/* A policy text with ' turned into " (in a static ring, enough for one case). */
static const char *q(const char *s)
{
    static char ring[8][4096];
    static int next;
    char *d = ring[next++ % 8];
    size_t n = strlen(s);
    assert_true(n < sizeof(ring[0]));
    for (size_t i = 0; i <= n; i++)
        d[i] = s[i] == '\'' ? '"' : s[i];
    return d;
}

static iam_policy_t *parse_ok(const char *json, iam_policy_kind_t kind)
{
    iam_policy_t *p = NULL;
    iam_policy_error_t err;
    if (iam_policy_parse(json, strlen(json), kind, &p, &err) != 0)
        fail_msg("refused %s: %s", json, err.message);
    return p;
}

/* ---- grammar ------------------------------------------------------------------------ */

typedef struct bad_case {
    iam_policy_kind_t kind;
    const char *doc; /* single-quoted */
    const char *message;
} bad_case_t;

#define STMT(body) "{" V2012 "'Statement':{" body "}}"
#define ALLOW_S3   "'Effect':'Allow','Action':'s3:ListBucket',"
#define BUCKET     "'Resource':'arn:aws:s3:::example_bucket'"

static const bad_case_t BAD[] = {
    {IAM_POLICY_IDENTITY, "This is not a json document", "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, "['a']", "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, "{'Statement':{" ALLOW_S3 BUCKET "}}",
     "Policy document must be version 2012-10-17 or greater."},
    {IAM_POLICY_IDENTITY, "{'Version':'2008-10-17','Statement':{" ALLOW_S3 BUCKET "}}",
     "Policy document must be version 2012-10-17 or greater."},
    {IAM_POLICY_BOUNDARY, "{'Version':'2008-10-17','Statement':{" ALLOW_S3 BUCKET "}}",
     "Policy document must be version 2012-10-17 or greater."},
    {IAM_POLICY_IDENTITY, "{'Version':'2013-10-17','Statement':{" ALLOW_S3 BUCKET "}}",
     "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, "{" V2012 "'Statement':[]}", "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, "{'Version':'2012-10-17'}", "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, "{" V2012 "'Statement':['afd']}", "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, "{" V2012 "'Statement':{" ALLOW_S3 BUCKET "},'Extra':'v'}",
     "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 BUCKET ",'Extra field':'value'"),
     "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, "{" V2012 "'Id':['x'],'Statement':{" ALLOW_S3 BUCKET "}}",
     "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, STMT("'Effect':'invalid','Action':'s3:ListBucket'," BUCKET),
     "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, STMT("'Action':'s3:ListBucket'," BUCKET), "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 "'Resource':{'a':'b'}"), "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 "'Resource':['adfdf',{}]"), "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 BUCKET ",'NotResource':'*'"), "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, STMT("'Effect':'Allow','Action':'s3:a','NotAction':'s3:b'," BUCKET),
     "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 BUCKET ",'Condition':[]"), "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 BUCKET ",'Condition':{'a':'b'}"),
     "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 BUCKET ",'Condition':{'x':{'a':'1'}}"),
     "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 BUCKET ",'Condition':{'NullIfExists':{'a':'true'}}"),
     "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY,
     STMT(ALLOW_S3 BUCKET ",'Condition':{'ForAnyValue::StringEqualsIfExists':{'a':'x'}}"),
     "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 BUCKET ",'Condition':{'DateGreaterThan':{'a':{}}}"),
     "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 BUCKET ",'Sid':{}"), "Syntax errors in policy."},
    {IAM_POLICY_IDENTITY, "{" V2012 "'Statement':{" ALLOW_S3 BUCKET "},'Statement':{}}",
     "Syntax errors in policy."}, /* duplicate key */
    {IAM_POLICY_IDENTITY, STMT("'Effect':'denY','Action':'s3:ListBucket'," BUCKET),
     "The policy failed legacy parsing"},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 BUCKET ",'Condition':{'DateGreaterThan':{'a':'sdfdsf'}}"),
     "The policy failed legacy parsing"},
    {IAM_POLICY_IDENTITY,
     STMT(ALLOW_S3 BUCKET
          ",'Condition':{'DateLessThanEquals':{'a':'2016-12-13t2:00:00.593194+1'}}"),
     "The policy failed legacy parsing"},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 "'Resource':'arn:aws:s3::example_bucket'"),
     "The policy failed legacy parsing"},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 "'Resource':'arn:aws::::example_bucket'"),
     "The policy failed legacy parsing"},
    {IAM_POLICY_IDENTITY,
     "{" V2012 "'Statement':[{'Sid':'sdf'," ALLOW_S3 BUCKET "},{'Sid':'sdf','Effect':'Allow'}]}",
     "Statement IDs (SID) in a single policy must be unique."},
    {IAM_POLICY_IDENTITY, STMT("'Sid':'a-b'," ALLOW_S3 BUCKET),
     "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular "
     "expression [0-9A-Za-z]*"},
    {IAM_POLICY_IDENTITY, STMT("'Effect':'Allow'," BUCKET),
     "Policy statement must contain actions."},
    {IAM_POLICY_IDENTITY, STMT("'Effect':'Allow','Action':[]," BUCKET),
     "Policy statement must contain actions."},
    {IAM_POLICY_IDENTITY, STMT("'Effect':'Allow','Action':'s3:ListBucket'"),
     "Policy statement must contain resources."},
    {IAM_POLICY_SESSION, STMT("'Effect':'Allow','Action':'s3:ListBucket','Resource':[]"),
     "Policy statement must contain resources."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 BUCKET ",'Principal':'*'"),
     "Policy document should not specify a principal."},
    {IAM_POLICY_RESOURCE, STMT(ALLOW_S3 BUCKET), "Missing required field Principal"},
    {IAM_POLICY_TRUST, STMT("'Effect':'Allow','Action':'sts:AssumeRole'"),
     "Missing required field Principal"},
    {IAM_POLICY_TRUST,
     STMT("'Effect':'Allow','Principal':{'AWS':'" ACCT
          "'},'Action':'sts:AssumeRole','Resource':'*'"),
     "Has prohibited field Resource"},
    {IAM_POLICY_TRUST, STMT("'Effect':'Allow','Principal':{'AWS':'*'},'Action':'*'"),
     "AssumeRole policy may only specify STS AssumeRole actions."},
    {IAM_POLICY_TRUST,
     STMT("'Effect':'Allow','Principal':{'Service':'lambda.amazonaws.com'},'Action':'sqs:*'"),
     "AssumeRole policy may only specify STS AssumeRole actions."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 "'Resource':'invalid resource'"),
     "Resource invalid resource must be in ARN format or \"*\"."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 "'Resource':''"),
     "Resource  must be in ARN format or \"*\"."},
    {IAM_POLICY_IDENTITY,
     STMT("'Effect':'Allow','NotAction':'s3s:ListBucket','Resource':'a:b:cadfsdf'"),
     "Partition \"b\" is not valid for resource \"arn:b:cadfsdf:*:*:*\"."},
    {IAM_POLICY_IDENTITY, STMT("'Effect':'Allow','NotAction':'s3:L','Resource':'a:b:c:d:e:f:g:h'"),
     "Partition \"b\" is not valid for resource \"arn:b:c:d:e:f:g:h\"."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 "'Resource':'x:b:'"),
     "Partition \"b\" is not valid for resource \"arn:b:*:*:*:*\"."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 "'Resource':'aws:s3:::example_bucket'"),
     "Partition \"s3\" is not valid for resource \"arn:s3:::example_bucket:*\"."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 "'Resource':'arn:aws'"),
     "Resource vendor must be fully qualified and cannot contain regexes."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 "'Resource':'arn:aws:iam:us-east-1::x'"),
     "IAM resource arn:aws:iam:us-east-1::x cannot contain region information."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 "'Resource':'arn:aws:s3:us-east-1::x'"),
     "Resource arn:aws:s3:us-east-1::x can not contain region information."},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 "'Resource':'arn:aws:iam:::example_bucket'"),
     "IAM resource path must either be \"*\" or start with user/, federated-user/, role/, group/, "
     "instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, "
     "oidc-provider/, report/, access-report/."},
    {IAM_POLICY_IDENTITY, STMT("'Effect':'Allow','Action':'invalid'," BUCKET),
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
    {IAM_POLICY_IDENTITY, STMT("'Effect':'Allow','NotAction':''," BUCKET),
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
    {IAM_POLICY_IDENTITY, STMT("'Effect':'Allow','Action':'a a:ListBucket'," BUCKET),
     "Vendor a a is not valid"},
    {IAM_POLICY_IDENTITY, STMT("'Effect':'Allow','Action':'s3:List:Bucket'," BUCKET),
     "Actions/Condition can contain only one colon."},
    {IAM_POLICY_RESOURCE, STMT(ALLOW_S3 BUCKET ",'Principal':{'AWS':'bob'}"),
     "Invalid principal in policy: \"AWS\":\"bob\""},
    {IAM_POLICY_RESOURCE, STMT(ALLOW_S3 BUCKET ",'Principal':{'Service':'lambda'}"),
     "Invalid principal in policy: \"SERVICE\":\"lambda\""},
    {IAM_POLICY_RESOURCE, STMT(ALLOW_S3 BUCKET ",'Principal':'arn:aws:iam::111122223333:root'"),
     "Syntax errors in policy."},
    {IAM_POLICY_RESOURCE, STMT(ALLOW_S3 BUCKET ",'Principal':{'Nobody':'x'}"),
     "Syntax errors in policy."},
};

static void test_grammar_rejections(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        iam_policy_t *p = (iam_policy_t *)1;
        iam_policy_error_t err;
        const char *doc = q(BAD[i].doc);
        int rc = iam_policy_parse(doc, strlen(doc), BAD[i].kind, &p, &err);
        if (rc == 0)
            fail_msg("case %zu accepted: %s", i, doc);
        if (strcmp(err.message, BAD[i].message) != 0)
            fail_msg("case %zu: %s\n  got:  %s\n  want: %s", i, doc, err.message, BAD[i].message);
        assert_ptr_equal(p, (iam_policy_t *)1); /* untouched on failure */
    }
}

static const struct {
    iam_policy_kind_t kind;
    const char *doc;
} GOOD[] = {
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 "'Resource':['arn:aws:s3:::example_bucket','*']")},
    {IAM_POLICY_IDENTITY, STMT("'Effect':'Allow','Action':'iam: asdf safdsf af '," BUCKET)},
    {IAM_POLICY_IDENTITY, STMT("'Effect':'Allow','Action':'*'," BUCKET)},
    {IAM_POLICY_IDENTITY, STMT("'Effect':'Allow','Action':'s3-s.x:ListBucket'," BUCKET)},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 "'Resource':'arn:aws:iam:::user/example'")},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 "'Resource':'arn:aws:fdsasf'")},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 "'Resource':'arn:aws:ec2:us-east-1::x'")},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 BUCKET ",'Condition':{}")},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 BUCKET ",'Condition':{'x':{},'y':{}}")},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 BUCKET ",'Condition':{'DateGreaterThan':{'a':[]}}")},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 BUCKET ",'Condition':{'DateGreaterThan':{'a':'01T'}}")},
    {IAM_POLICY_IDENTITY, STMT(ALLOW_S3 BUCKET ",'Condition':{'DateLessThan':{'a':'-292275054'}}")},
    {IAM_POLICY_IDENTITY,
     STMT(ALLOW_S3 BUCKET
          ",'Condition':{'DateLessThanEquals':{'a':'2016-12-13t2:00:00.593194+23'}}")},
    {IAM_POLICY_IDENTITY,
     STMT(ALLOW_S3 BUCKET ",'Condition':{'ForAnyValue:StringEqualsIfExists':{'a':'asf'}}")},
    {IAM_POLICY_IDENTITY,
     STMT(ALLOW_S3 BUCKET ",'Condition':{'NumericLessThan':{'s3:max-keys':10}}")},
    {IAM_POLICY_IDENTITY, STMT("'Effect':'Allow','NotAction':'s3:ListBucket','NotResource':'*'")},
    {IAM_POLICY_IDENTITY, "{" V2012 "'Id':'x','Statement':[{'Sid':'A1'," ALLOW_S3 BUCKET
                          "},{'Sid':''," ALLOW_S3 BUCKET "},{" ALLOW_S3 BUCKET "}]}"},
    {IAM_POLICY_RESOURCE, "{'Statement':{'Sid':'any-thing','Effect':'Allow','Principal':'*',"
                          "'Action':'sqs:SendMessage'}}"},
    {IAM_POLICY_RESOURCE, "{'Version':'2008-10-17','Statement':{'Effect':'Allow','Principal':{"
                          "'AWS':['" ACCT "','arn:aws:iam::" OTHER ":root','" SESSION
                          "'],'Service':'sns.amazonaws.com'},'Action':'SQS:SendMessage'}}"},
    {IAM_POLICY_TRUST, STMT("'Effect':'Allow','Principal':{'Service':'lambda.amazonaws.com'},"
                            "'Action':['sts:AssumeRole','sts:TagSession']")},
    {IAM_POLICY_TRUST, STMT("'Effect':'Allow','Principal':{'Federated':'cognito-identity."
                            "amazonaws.com'},'Action':'sts:AssumeRole*'")},
    {IAM_POLICY_SESSION, "{'Statement':{" ALLOW_S3 BUCKET "}}"},
};

static void test_grammar_acceptance(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(GOOD) / sizeof(GOOD[0]); i++)
        iam_policy_free(parse_ok(q(GOOD[i].doc), GOOD[i].kind));
    iam_policy_t *p = parse_ok(q(GOOD[16].doc), IAM_POLICY_IDENTITY);
    assert_int_equal(iam_policy_statement_count(p), 3);
    assert_string_equal(iam_policy_statement_sid(p, 0), "A1");
    assert_string_equal(iam_policy_statement_sid(p, 1), "");
    assert_null(iam_policy_statement_sid(p, 2));
    assert_null(iam_policy_statement_sid(p, 3));
    assert_int_equal(iam_policy_kind(p), IAM_POLICY_IDENTITY);
    iam_policy_free(p);
}

static void test_size_ignores_whitespace(void **state)
{
    (void)state;
    const char *s = "{ \"a\" :\n\t\"b c\" }\r\n";
    assert_int_equal(iam_policy_size(s, strlen(s)), 10);
    /* Characters, not bytes: é is two bytes and one character. */
    const char *u = "\"\xc3\xa9\"";
    assert_int_equal(iam_policy_size(u, strlen(u)), 3);
}

/* ---- requests ----------------------------------------------------------------------- */

static const iam_caller_t C_BOB = {IAM_CALLER_USER, BOB, ACCT, NULL};
static const iam_caller_t C_SESSION = {IAM_CALLER_SESSION, SESSION, ACCT, ROLE};
static const iam_caller_t C_ROOT = {IAM_CALLER_ROOT, "arn:aws:iam::" ACCT ":root", ACCT, NULL};
static const iam_caller_t C_ALICE = {IAM_CALLER_USER, ALICE, OTHER, NULL};
static const iam_caller_t C_OTHER_ROOT = {IAM_CALLER_ROOT, "arn:aws:iam::" OTHER ":root", OTHER,
                                          NULL};
static const iam_caller_t C_LAMBDA = {IAM_CALLER_SERVICE, "lambda.amazonaws.com", "", NULL};

/* A request under construction: its policies and context live here. */
typedef struct req_builder {
    iam_request_t req;
    iam_policy_ref_t identity[4], resource, boundary, session[2];
    iam_context_key_t ctx[8];
    const char *values[8][MAX_VALUE];
} req_builder_t;

static void rb_init(req_builder_t *b, const iam_caller_t *caller, const char *action,
                    const char *resource)
{
    memset(b, 0, sizeof(*b));
    b->req.caller = *caller;
    b->req.action = action;
    b->req.resource = resource;
    b->req.resource_account = ACCT;
    b->req.identity = b->identity;
    b->req.context = b->ctx;
    b->req.session = b->session;
}

static void rb_identity(req_builder_t *b, const char *doc, const char *label)
{
    b->identity[b->req.n_identity++] =
        (iam_policy_ref_t){parse_ok(q(doc), IAM_POLICY_IDENTITY), label};
}

static void rb_resource(req_builder_t *b, const char *doc, iam_policy_kind_t kind)
{
    b->resource = (iam_policy_ref_t){parse_ok(q(doc), kind), "resource"};
    b->req.resource_policy = &b->resource;
}

static void rb_boundary(req_builder_t *b, const char *doc)
{
    b->boundary = (iam_policy_ref_t){parse_ok(q(doc), IAM_POLICY_BOUNDARY), "boundary"};
    b->req.boundary = &b->boundary;
}

static void rb_session(req_builder_t *b, const char *doc)
{
    b->session[b->req.n_session++] =
        (iam_policy_ref_t){parse_ok(q(doc), IAM_POLICY_SESSION), "session"};
}

/* Adds a context key: values split at '|', "{}" for a key with no values. */
static void rb_ctx(req_builder_t *b, const char *key, const char *values, bool multi)
{
    size_t k = b->req.n_context++;
    static char store[8][512];
    snprintf(store[k], sizeof(store[k]), "%s", values);
    b->ctx[k] = (iam_context_key_t){.key = key, .values = b->values[k], .multi = multi};
    if (strcmp(values, "{}") == 0)
        return;
    for (char *tok = store[k], *next; tok; tok = next) {
        next = strchr(tok, '|');
        if (next)
            *next++ = '\0';
        assert_true(b->ctx[k].n_values < MAX_VALUE);
        b->values[k][b->ctx[k].n_values++] = tok;
    }
}

static void rb_free(req_builder_t *b)
{
    for (size_t i = 0; i < b->req.n_identity; i++)
        iam_policy_free((iam_policy_t *)b->identity[i].policy);
    for (size_t i = 0; i < b->req.n_session; i++)
        iam_policy_free((iam_policy_t *)b->session[i].policy);
    if (b->req.resource_policy)
        iam_policy_free((iam_policy_t *)b->resource.policy);
    if (b->req.boundary)
        iam_policy_free((iam_policy_t *)b->boundary.policy);
}

/* ---- conditions --------------------------------------------------------------------- */

typedef struct cond_case {
    const char *op;
    const char *values; /* JSON, single-quoted */
    const char *ctx;    /* NULL: key missing; "{}": no values; else values split at '|' */
    bool multi;
    bool want;
} cond_case_t;

static const cond_case_t CONDS[] = {
    {"StringEquals", "'abc'", "abc", false, true},
    {"StringEquals", "'abc'", "ABC", false, false},
    {"StringEquals", "'abc'", NULL, false, false},
    {"StringEquals", "['x','abc']", "abc", false, true},
    {"StringEquals", "'a*'", "ab", false, false},
    {"StringNotEquals", "'abc'", "abd", false, true},
    {"StringNotEquals", "'abc'", "abc", false, false},
    {"StringNotEquals", "['x','abc']", "abc", false, false},
    {"StringNotEquals", "'abc'", NULL, false, true},
    {"StringEqualsIgnoreCase", "'abc'", "ABC", false, true},
    {"StringEqualsIgnoreCase", "'abc'", "abd", false, false},
    {"StringNotEqualsIgnoreCase", "'abc'", "ABC", false, false},
    {"StringNotEqualsIgnoreCase", "'abc'", "x", false, true},
    {"StringNotEqualsIgnoreCase", "'abc'", NULL, false, true},
    {"StringLike", "'home/*'", "home/bob/x", false, true},
    {"StringLike", "'home/*'", "Home/bob", false, false},
    {"StringLike", "'h?me/*'", "hime/x", false, true},
    {"StringLike", "'h?me'", "hoome", false, false},
    {"StringLike", "'*'", "", false, true},
    {"StringLike", "'a*b*c'", "aXbYbZc", false, true},
    {"StringNotLike", "'key1*'", "key2", false, true},
    {"StringNotLike", "'key1*'", "key1x", false, false},
    {"StringNotLike", "'key1*'", NULL, false, true},
    {"StringEqualsIfExists", "'a'", NULL, false, true},
    {"StringEqualsIfExists", "'a'", "b", false, false},
    {"StringEqualsIfExists", "'a'", "a", false, true},
    {"StringNotEqualsIfExists", "'a'", NULL, false, true},
    {"StringNotEqualsIfExists", "'a'", "a", false, false},
    {"NumericEquals", "'10'", "10.0", false, true},
    {"NumericEquals", "'10'", "11", false, false},
    {"NumericEquals", "'10'", "ten", false, false},
    {"NumericEquals", "'16'", "0x10", false, false},
    {"NumericEquals", "'1e2'", "100", false, true},
    {"NumericNotEquals", "'10'", "11", false, true},
    {"NumericNotEquals", "'10'", "10", false, false},
    {"NumericNotEquals", "'10'", NULL, false, true},
    {"NumericLessThan", "'10'", "9.5", false, true},
    {"NumericLessThan", "'10'", "10", false, false},
    {"NumericLessThan", "10", "9", false, true},
    {"NumericLessThan", "'10'", NULL, false, false},
    {"NumericLessThanEquals", "'10'", "10", false, true},
    {"NumericLessThanEquals", "'10'", "11", false, false},
    {"NumericGreaterThan", "'-1.5'", "-1", false, true},
    {"NumericGreaterThan", "'10'", "10", false, false},
    {"NumericGreaterThanEquals", "'10'", "10", false, true},
    {"NumericGreaterThanEquals", "'10'", "9", false, false},
    {"NumericGreaterThanEqualsIfExists", "'10'", NULL, false, true},
    {"DateEquals", "'2020-01-01T00:00:00Z'", "1577836800", false, true},
    {"DateEquals", "'2020-01-01T00:00:00Z'", "2020-01-01T00:00:01Z", false, false},
    {"DateEquals", "'2020-01-01'", "2020-01-01T00:00:00Z", false, true},
    /* Digits alone are epoch seconds, as IAM's parser reads them (not a year). */
    {"DateEquals", "'2020'", "1970-01-01T00:33:40Z", false, true},
    {"DateEquals", "'2020'", "2020-01-01T00:00:00Z", false, false},
    {"DateNotEquals", "'2020-01-01T00:00:00Z'", "2020-01-01T00:00:01Z", false, true},
    {"DateNotEquals", "'2020-01-01T00:00:00Z'", "2020-01-01T00:00:00Z", false, false},
    {"DateLessThan", "'2020-01-01T00:00:00Z'", "2019-12-31T23:59:59Z", false, true},
    {"DateLessThan", "'2020-01-01T00:00:00Z'", "2020-01-01T00:00:00Z", false, false},
    {"DateLessThan", "'2020-01-01T00:00:00.5Z'", "2020-01-01T00:00:00.25Z", false, true},
    {"DateLessThan", "'2020-01-01T00:00:00Z'", "yesterday", false, false},
    {"DateLessThanEquals", "'2020-01-01T00:00:00Z'", "2020-01-01T00:00:00Z", false, true},
    {"DateLessThanEquals", "'2020-01-01T00:00:00Z'", "2020-01-01T00:00:00.000000001Z", false,
     false},
    {"DateGreaterThan", "'2020-01-01T00:00:00Z'", "2020-01-01T01:00:00+00:30", false, true},
    {"DateGreaterThan", "'2020-01-01T00:00:00Z'", "2020-01-01T01:00:00+01:00", false, false},
    {"DateGreaterThan", "'2020-01-01T00:00:00Z'", "2019-12-31T20:00:00-05:00", false, true},
    {"DateGreaterThanEquals", "'2020-01-01'", "2020-01-01T00:00:00Z", false, true},
    {"DateGreaterThanEquals", "'2020-01-01'", "2019-12-31T23:59:59.999Z", false, false},
    {"DateGreaterThan", "1577836800", "2020-01-01T00:00:01Z", false, true},
    {"Bool", "'true'", "true", false, true},
    {"Bool", "'true'", "TRUE", false, true},
    {"Bool", "'true'", "false", false, false},
    {"Bool", "true", "true", false, true},
    {"Bool", "'false'", NULL, false, false},
    {"BoolIfExists", "'false'", NULL, false, true},
    {"BoolIfExists", "'false'", "true", false, false},
    {"BinaryEquals", "'QmluYXJ5VmFsdWVJbkJhc2U2NA=='", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", false, true},
    {"BinaryEquals", "'QmluYXJ5VmFsdWVJbkJhc2U2NA=='", "QmluYXJ5", false, false},
    {"BinaryEquals", "'QmluYXJ5VmFsdWVJbkJhc2U2NA=='", "!!", false, false},
    {"BinaryEquals", "'!!'", "!!", false, false},
    {"IpAddress", "'203.0.113.0/24'", "203.0.113.7", false, true},
    {"IpAddress", "'203.0.113.0/24'", "203.0.114.1", false, false},
    {"IpAddress", "'203.0.113.5'", "203.0.113.5", false, true},
    {"IpAddress", "'203.0.113.5'", "203.0.113.6", false, false},
    {"IpAddress", "'203.0.113.0/25'", "203.0.113.128", false, false},
    {"IpAddress", "'203.0.113.0/25'", "203.0.113.127", false, true},
    {"IpAddress", "'0.0.0.0/0'", "1.2.3.4", false, true},
    {"IpAddress", "'2001:DB8:1234:5678::/64'", "2001:db8:1234:5678:abcd::1", false, true},
    {"IpAddress", "'2001:DB8:1234:5678::/64'", "2001:db8:1234:5679::1", false, false},
    {"IpAddress", "['203.0.113.0/24','2001:DB8::/32']", "2001:db8::9", false, true},
    {"IpAddress", "'10.0.0.0/8'", "::1", false, false},
    {"IpAddress", "'10.0.0.0/33'", "10.0.0.1", false, false},
    {"IpAddress", "'10.0.0.0/8'", "not an ip", false, false},
    {"NotIpAddress", "'10.0.0.0/8'", "11.0.0.1", false, true},
    {"NotIpAddress", "'10.0.0.0/8'", "10.1.2.3", false, false},
    {"NotIpAddress", "'10.0.0.0/8'", NULL, false, true},
    {"ArnLike", "'arn:aws:sns:*:123456789012:topic-*'",
     "arn:aws:sns:us-east-1:123456789012:topic-a", false, true},
    {"ArnLike", "'arn:aws:sns:*:123456789012:topic-*'", "arn:aws:sns:us-east-1:999:topic-a", false,
     false},
    /* The documentation's example: ArnLike compares part by part, StringLike does not. */
    {"ArnLike", "'arn:aws:someservice:*:111122223333:finance/*'",
     "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt",
     false, false},
    {"StringLike", "'arn:aws:someservice:*:111122223333:finance/*'",
     "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt",
     false, true},
    {"ArnLike", "'arn:aws:s3:::bucket/*'", "arn:aws:s3:::bucket/a:b/c", false, true},
    {"ArnLike", "'*'", "arn:aws:sns:us-east-1:1:t", false, true},
    {"ArnLike", "'arn:aws:sns'", "arn:aws:sns", false, false},
    {"ArnLike", "'arn:aws:sns:*:*:*'", "not-an-arn", false, false},
    {"ArnEquals", "'arn:aws:sns:us-east-1:1:t'", "arn:aws:sns:us-east-1:1:t", false, true},
    {"ArnEquals", "'arn:aws:sns:us-east-1:1:t'", "arn:aws:sns:us-east-1:1:T", false, false},
    {"ArnNotEquals", "'arn:aws:sns:us-east-1:1:t'", "arn:aws:sns:us-east-1:1:u", false, true},
    {"ArnNotEquals", "'arn:aws:sns:us-east-1:1:t'", "arn:aws:sns:us-east-1:1:t", false, false},
    {"ArnNotEquals", "'arn:aws:sns:us-east-1:1:t'", NULL, false, true},
    {"ArnNotLike", "'arn:aws:sns:*:1:*'", "arn:aws:sns:eu-west-1:1:x", false, false},
    {"Null", "'true'", NULL, false, true},
    {"Null", "'true'", "x", false, false},
    {"Null", "'false'", "x", false, true},
    {"Null", "'false'", NULL, false, false},
    {"Null", "'true'", "{}", true, true},
    {"Null", "'maybe'", NULL, false, false},
    /* Set operators. */
    {"ForAllValues:StringEquals", "['a','b']", "a", true, true},
    {"ForAllValues:StringEquals", "['a','b']", "a|b", true, true},
    {"ForAllValues:StringEquals", "['a','b']", "a|c", true, false},
    {"ForAllValues:StringEquals", "['a','b']", NULL, true, true},
    {"ForAllValues:StringEquals", "['a','b']", "{}", true, true},
    {"ForAnyValue:StringEquals", "['a','b']", "c|b", true, true},
    {"ForAnyValue:StringEquals", "['a','b']", "c", true, false},
    {"ForAnyValue:StringEquals", "['a','b']", NULL, true, false},
    {"ForAnyValue:StringEquals", "['a','b']", "{}", true, false},
    {"ForAnyValue:StringEqualsIfExists", "'a'", NULL, true, true},
    /* The table in "Multivalued context key examples". */
    {"ForAllValues:StringNotLike", "'key1*'", "key1:legal", true, false},
    {"ForAllValues:StringNotLike", "'key1*'", "key1:hr|key1:personnel", true, false},
    {"ForAllValues:StringNotLike", "'key1*'", "key2:audit", true, true},
    {"ForAllValues:StringNotLike", "'key1*'", "key2:audit|key1:x", true, false},
    {"ForAllValues:StringNotLike", "'key1*'", NULL, true, true},
    {"ForAnyValue:StringNotEquals", "'a'", "a|b", true, true},
    {"ForAnyValue:StringNotEquals", "'a'", "a", true, false},
    {"ForAnyValue:StringNotEquals", "'a'", NULL, true, false},
    {"ForAllValues:NumericLessThan", "'5'", "1|2|3", true, true},
    {"ForAllValues:NumericLessThan", "'5'", "1|7", true, false},
    /* A multivalued key without a qualifier. */
    {"StringEquals", "'a'", "b|a", true, true},
    {"StringEquals", "'a'", "b|c", true, false},
    {"StringNotEquals", "'a'", "b|a", true, false},
    {"StringNotEquals", "'a'", "b|c", true, true},
};

static bool cond_holds(const cond_case_t *c)
{
    char doc[2048];
    snprintf(doc, sizeof(doc),
             "{" V2012 "'Statement':{'Effect':'Allow','Action':'s3:GetObject','Resource':'*',"
             "'Condition':{'%s':{'k:Key':%s}}}}",
             c->op, c->values);
    req_builder_t b;
    rb_init(&b, &C_BOB, "s3:GetObject", "arn:aws:s3:::b/o");
    rb_identity(&b, doc, "p");
    if (c->ctx)
        rb_ctx(&b, "K:KEY", c->ctx, c->multi); /* keys are case-insensitive */
    iam_verdict_t v;
    iam_eval(&b.req, &v);
    rb_free(&b);
    assert_int_not_equal(v.effect, IAM_EXPLICIT_DENY);
    return v.effect == IAM_ALLOW;
}

static void test_condition_operators(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(CONDS) / sizeof(CONDS[0]); i++) {
        const cond_case_t *c = &CONDS[i];
        if (cond_holds(c) != c->want)
            fail_msg("case %zu: %s %s with %s: want %s", i, c->op, c->values,
                     c->ctx ? c->ctx : "(missing)", c->want ? "true" : "false");
    }
}

/* Keys and operators are AND'ed: every one must hold. */
static void test_conditions_and(void **state)
{
    (void)state;
    const char *doc = "{" V2012 "'Statement':{'Effect':'Allow','Action':'s3:*','Resource':'*',"
                      "'Condition':{'StringEquals':{'a:x':'1','a:y':'2'},'Bool':{'a:z':'true'}}}}";
    static const struct {
        const char *x, *y, *z;
        bool want;
    } cases[] = {
        {"1", "2", "true", true},
        {"1", "3", "true", false},
        {"0", "2", "true", false},
        {"1", "2", "false", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        req_builder_t b;
        rb_init(&b, &C_BOB, "s3:GetObject", "arn:aws:s3:::b/o");
        rb_identity(&b, doc, "p");
        rb_ctx(&b, "a:x", cases[i].x, false);
        rb_ctx(&b, "a:y", cases[i].y, false);
        rb_ctx(&b, "a:z", cases[i].z, false);
        iam_verdict_t v;
        iam_eval(&b.req, &v);
        assert_int_equal(v.effect == IAM_ALLOW, cases[i].want);
        rb_free(&b);
    }
}

/* ---- variables and wildcards -------------------------------------------------------- */

typedef struct match_case {
    const char *doc; /* an identity policy; JSON as is (defaults need single quotes) */
    const char *action, *resource;
    const char *username, *tag; /* context: aws:username, aws:PrincipalTag/team; NULL = absent */
    bool want;
} match_case_t;

#define ALLOW_ON(version, action, resource)                                                        \
    "{" version "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"" action                         \
    "\",\"Resource\":\"" resource "\"}}"
#define J2012 "\"Version\":\"2012-10-17\","
#define J2008 "\"Version\":\"2008-10-17\","

static const match_case_t MATCHES[] = {
    /* Actions: case-insensitive, wildcards in the name. */
    {ALLOW_ON(J2012, "SQS:sendmessage", "*"), "sqs:SendMessage", QUEUE, NULL, NULL, true},
    {ALLOW_ON(J2012, "sqs:Send*", "*"), "sqs:SendMessageBatch", QUEUE, NULL, NULL, true},
    {ALLOW_ON(J2012, "sqs:Send*", "*"), "sqs:ReceiveMessage", QUEUE, NULL, NULL, false},
    {ALLOW_ON(J2012, "iam:*AccessKey*", "*"), "iam:CreateAccessKey", "*", NULL, NULL, true},
    {ALLOW_ON(J2012, "s3:*Object", "*"), "s3:GetObject", "arn:aws:s3:::b/o", NULL, NULL, true},
    {ALLOW_ON(J2012, "s3:*Object", "*"), "s3:GetObjectAcl", "arn:aws:s3:::b/o", NULL, NULL, false},
    {ALLOW_ON(J2012, "s3:Get?bject", "*"), "s3:GetObject", "arn:aws:s3:::b/o", NULL, NULL, true},
    {ALLOW_ON(J2012, "sqs:*", "*"), "sns:Publish", "*", NULL, NULL, false},
    {ALLOW_ON(J2012, "sq:*", "*"), "sqs:SendMessage", QUEUE, NULL, NULL, false},
    {ALLOW_ON(J2012, "*", "*"), "anything:AtAll", "*", NULL, NULL, true},
    {ALLOW_ON(J2012, "sqs:*", "*"), "no-vendor", "*", NULL, NULL, false},
    /* Resources: case-sensitive; wildcards cross ':' and '/'. */
    {ALLOW_ON(J2012, "s3:*", "arn:aws:s3:::*log*"), "s3:PutObject",
     "arn:aws:s3:::carlossalazar-logs", NULL, NULL, true},
    {ALLOW_ON(J2012, "sqs:*", "arn:aws:sqs:*"), "sqs:SendMessage", QUEUE, NULL, NULL, true},
    {ALLOW_ON(J2012, "sqs:*", "arn:aws:sqs:us-east-1:111122223333:JOBS"), "sqs:SendMessage", QUEUE,
     NULL, NULL, false},
    {ALLOW_ON(J2012, "sqs:*", "arn:aws:sqs:us-east-1:111122223333:jo?s"), "sqs:SendMessage", QUEUE,
     NULL, NULL, true},
    {ALLOW_ON(J2012, "sqs:*", "arn:aws:sqs:us-east-1:*:job"), "sqs:SendMessage", QUEUE, NULL, NULL,
     false},
    {ALLOW_ON(J2012, "sqs:ListQueues", "arn:aws:sqs:*:*:*"), "sqs:ListQueues", "*", NULL, NULL,
     false},
    /* Variables. */
    {ALLOW_ON(J2012, "s3:*", "arn:aws:s3:::home/${aws:username}/*"), "s3:GetObject",
     "arn:aws:s3:::home/Bob/notes", "Bob", NULL, true},
    {ALLOW_ON(J2012, "s3:*", "arn:aws:s3:::home/${aws:username}/*"), "s3:GetObject",
     "arn:aws:s3:::home/Eve/notes", "Bob", NULL, false},
    {ALLOW_ON(J2012, "s3:*", "arn:aws:s3:::home/${aws:username}/*"), "s3:GetObject",
     "arn:aws:s3:::home//notes", NULL, NULL, false},
    {ALLOW_ON(J2012, "s3:*", "arn:aws:s3:::home/${aws:username, 'anon'}/*"), "s3:GetObject",
     "arn:aws:s3:::home/anon/x", NULL, NULL, true},
    {ALLOW_ON(J2012, "s3:*", "arn:aws:s3:::home/${aws:username,'anon'}/*"), "s3:GetObject",
     "arn:aws:s3:::home/Bob/x", "Bob", NULL, true},
    {ALLOW_ON(J2012, "s3:*", "arn:aws:s3:::t/${aws:PrincipalTag/team}"), "s3:GetObject",
     "arn:aws:s3:::t/blue", NULL, "blue", true},
    {ALLOW_ON(J2012, "s3:*", "arn:aws:s3:::t/${AWS:principaltag/TEAM}"), "s3:GetObject",
     "arn:aws:s3:::t/blue", NULL, "blue", true},
    /* A substituted value is literal: a user named "*" does not open every home. */
    {ALLOW_ON(J2012, "s3:*", "arn:aws:s3:::home/${aws:username}"), "s3:GetObject",
     "arn:aws:s3:::home/Bob", "*", NULL, false},
    {ALLOW_ON(J2012, "s3:*", "arn:aws:s3:::home/${aws:username}"), "s3:GetObject",
     "arn:aws:s3:::home/*", "*", NULL, true},
    {ALLOW_ON(J2012, "s3:*", "arn:aws:s3:::star${*}q${?}d${$}"), "s3:GetObject",
     "arn:aws:s3:::star*q?d$", NULL, NULL, true},
    {ALLOW_ON(J2012, "s3:*", "arn:aws:s3:::star${*}"), "s3:GetObject", "arn:aws:s3:::starX", NULL,
     NULL, false},
    /* Version 2008-10-17 (or none) reads ${...} as text. */
    {ALLOW_ON(J2008, "s3:*", "arn:aws:s3:::home/${aws:username}"), "s3:GetObject",
     "arn:aws:s3:::home/${aws:username}", "Bob", NULL, true},
    {ALLOW_ON(J2008, "s3:*", "arn:aws:s3:::home/${aws:username}"), "s3:GetObject",
     "arn:aws:s3:::home/Bob", "Bob", NULL, false},
    {ALLOW_ON(J2012, "s3:*", "arn:aws:s3:::home/${aws:username"), "s3:GetObject",
     "arn:aws:s3:::home/${aws:username", "Bob", NULL, true},
    /* Variables in condition values. */
    {"{" J2012
     "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\",\"Resource\":\"*\","
     "\"Condition\":{\"StringLike\":{\"aws:PrincipalTag/team\":\"${aws:username}*\"}}}}",
     "s3:ListBucket", "arn:aws:s3:::b", "blu", "blue", true},
    {"{" J2012
     "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\",\"Resource\":\"*\","
     "\"Condition\":{\"StringEquals\":{\"aws:PrincipalTag/team\":\"${aws:username}\"}}}}",
     "s3:ListBucket", "arn:aws:s3:::b", NULL, "blue", false},
    /* Numeric operators take no variables: the text stays a (bad) number. */
    {"{" J2012
     "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\",\"Resource\":\"*\","
     "\"Condition\":{\"NumericEquals\":{\"aws:PrincipalTag/team\":\"${aws:username}\"}}}}",
     "s3:ListBucket", "arn:aws:s3:::b", "5", "5", false},
};

static void test_wildcards_and_variables(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(MATCHES) / sizeof(MATCHES[0]); i++) {
        const match_case_t *m = &MATCHES[i];
        req_builder_t b;
        rb_init(&b, &C_BOB, m->action, m->resource);
        /* IAM stores no identity policy older than 2012-10-17; a 2008 document
         * is read as a session policy, which evaluates the same way. */
        iam_policy_kind_t kind =
            strstr(m->doc, "2008-10-17") ? IAM_POLICY_SESSION : IAM_POLICY_IDENTITY;
        b.identity[b.req.n_identity++] = (iam_policy_ref_t){parse_ok(m->doc, kind), "p"};
        if (m->username)
            rb_ctx(&b, "aws:username", m->username, false);
        if (m->tag)
            rb_ctx(&b, "aws:PrincipalTag/team", m->tag, false);
        iam_verdict_t v;
        iam_eval(&b.req, &v);
        if ((v.effect == IAM_ALLOW) != m->want)
            fail_msg("case %zu: %s on %s under %s: want %s", i, m->action, m->resource, m->doc,
                     m->want ? "allow" : "deny");
        rb_free(&b);
    }
}

/* A multivalued key is never a policy variable. */
static void test_multivalued_key_is_no_variable(void **state)
{
    (void)state;
    req_builder_t b;
    rb_init(&b, &C_BOB, "s3:GetObject", "arn:aws:s3:::t/a");
    b.identity[b.req.n_identity++] = (iam_policy_ref_t){
        parse_ok(ALLOW_ON(J2012, "s3:*", "arn:aws:s3:::t/${aws:TagKeys}"), IAM_POLICY_IDENTITY),
        "p"};
    rb_ctx(&b, "aws:TagKeys", "a", true);
    iam_verdict_t v;
    iam_eval(&b.req, &v);
    assert_int_equal(v.effect, IAM_IMPLICIT_DENY);
    b.ctx[0].multi = false;
    iam_eval(&b.req, &v);
    assert_int_equal(v.effect, IAM_ALLOW);
    rb_free(&b);
}

/* ---- decisions ---------------------------------------------------------------------- */

#define P_SQS_ALL                                                                                  \
    "{" V2012 "'Statement':{'Sid':'AllowSqs','Effect':'Allow','Action':'sqs:*','Resource':'*'}}"
#define P_DENY_SEND                                                                                \
    "{" V2012                                                                                      \
    "'Statement':{'Sid':'DenySend','Effect':'Deny','Action':'sqs:SendMessage','Resource':'*'}}"
#define P_RECEIVE_ONLY                                                                             \
    "{" V2012                                                                                      \
    "'Statement':{'Sid':'Recv','Effect':'Allow','Action':'sqs:ReceiveMessage','Resource':'*'}}"
#define P_DENY_ALL "{" V2012 "'Statement':{'Sid':'No','Effect':'Deny','Action':'*','Resource':'*'}}"
#define RP_NOT(principal, effect)                                                                  \
    "{" V2012 "'Statement':{'Sid':'Rp','Effect':'" effect "','NotPrincipal':" principal            \
    ",'Action':'sqs:*','Resource':'" QUEUE "'}}"
#define RP(principal, effect)                                                                      \
    "{" V2012 "'Statement':{'Sid':'Rp','Effect':'" effect "','Principal':" principal               \
    ",'Action':'sqs:*','Resource':'" QUEUE "'}}"
#define TRUST(principal)                                                                           \
    "{" V2012 "'Statement':{'Sid':'Trust','Effect':'Allow','Principal':" principal                 \
    ",'Action':'sts:AssumeRole'}}"

#define P_NOT_IAM                                                                                  \
    "{" V2012 "'Statement':{'Sid':'NotIam','Effect':'Allow','NotAction':'iam:*','Resource':'*'}}"
#define P_ONLY_JOBS                                                                                \
    "{" V2012                                                                                      \
    "'Statement':{'Sid':'OnlyJobs','Effect':'Deny','Action':'sqs:*','NotResource':'" QUEUE "'}}"
#define P_ASSUME                                                                                   \
    "{" V2012                                                                                      \
    "'Statement':{'Sid':'Assume','Effect':'Allow','Action':'sts:AssumeRole','Resource':'" ROLE     \
    "'}}"
#define P_STS_ALL "{" V2012 "'Statement':{'Effect':'Allow','Action':'sts:*','Resource':'*'}}"
#define TRUST_NO_BOB                                                                               \
    "{" V2012 "'Statement':{'Sid':'NoBob','Effect':'Deny','Principal':{'AWS':'" BOB "'},"          \
    "'Action':'sts:AssumeRole'}}"
/* The documentation's carlossalazar example. */
#define P_CARLOS                                                                                   \
    "{" V2012 "'Statement':[{'Sid':'AllowS3Self','Effect':'Allow','Action':'s3:*','Resource':["    \
    "'arn:aws:s3:::carlossalazar/*','arn:aws:s3:::carlossalazar']},{'Sid':'DenyS3Logs',"           \
    "'Effect':'Deny','Action':'s3:*','Resource':'arn:aws:s3:::*log*'}]}"

typedef struct eval_case {
    const char *name;
    const iam_caller_t *caller;
    const char *identity[2];
    const char *resource_policy;
    iam_policy_kind_t resource_kind;
    const char *boundary;
    const char *session;
    const char *action, *resource, *resource_account;
    iam_effect_t effect;
    iam_layer_t layer;
    const char *sid; /* the deciding statement, or NULL */
} eval_case_t;

#define SEND "sqs:SendMessage", QUEUE, ACCT
#define RECV "sqs:ReceiveMessage", QUEUE, ACCT
#define R_   IAM_POLICY_RESOURCE

/* A case in a row or two: clang-format would give every field its own line. */
// clang-format off
static const eval_case_t EVALS[] = {
    {"identity allow", &C_BOB, {P_SQS_ALL}, NULL, R_, NULL, NULL, SEND, IAM_ALLOW,
     IAM_LAYER_IDENTITY, "AllowSqs"},
    {"nothing allows", &C_BOB, {NULL}, NULL, R_, NULL, NULL, SEND, IAM_IMPLICIT_DENY,
     IAM_LAYER_IDENTITY, NULL},
    {"explicit deny wins over allow", &C_BOB, {P_SQS_ALL, P_DENY_SEND}, NULL, R_, NULL, NULL, SEND,
     IAM_EXPLICIT_DENY, IAM_LAYER_IDENTITY, "DenySend"},
    {"deny for another action", &C_BOB, {P_SQS_ALL, P_DENY_SEND}, NULL, R_, NULL, NULL, RECV,
     IAM_ALLOW, IAM_LAYER_IDENTITY, "AllowSqs"},
    {"resource policy deny wins", &C_BOB, {P_SQS_ALL}, RP("'*'", "Deny"), R_, NULL, NULL, SEND,
     IAM_EXPLICIT_DENY, IAM_LAYER_RESOURCE, "Rp"},
    {"NotAction allow", &C_BOB, {P_NOT_IAM}, NULL, R_, NULL, NULL, SEND, IAM_ALLOW,
     IAM_LAYER_IDENTITY, "NotIam"},
    {"NotAction allow excludes", &C_BOB, {P_NOT_IAM}, NULL, R_, NULL, NULL, "iam:CreateUser",
     "arn:aws:iam::" ACCT ":user/x", ACCT, IAM_IMPLICIT_DENY, IAM_LAYER_IDENTITY, NULL},
    {"NotResource deny", &C_BOB, {P_SQS_ALL, P_ONLY_JOBS}, NULL, R_, NULL, NULL, "sqs:SendMessage",
     QUEUE "2", ACCT, IAM_EXPLICIT_DENY, IAM_LAYER_IDENTITY, "OnlyJobs"},
    {"NotResource deny spares the named", &C_BOB, {P_SQS_ALL, P_ONLY_JOBS}, NULL, R_, NULL, NULL,
     SEND, IAM_ALLOW, IAM_LAYER_IDENTITY, "AllowSqs"},
    /* Permissions boundaries: an intersection with identity policies. */
    {"boundary allows too", &C_BOB, {P_SQS_ALL}, NULL, R_, P_RECEIVE_ONLY, NULL, RECV, IAM_ALLOW,
     IAM_LAYER_IDENTITY, "AllowSqs"},
    {"boundary does not allow", &C_BOB, {P_SQS_ALL}, NULL, R_, P_RECEIVE_ONLY, NULL, SEND,
     IAM_IMPLICIT_DENY, IAM_LAYER_BOUNDARY, NULL},
    {"boundary alone grants nothing", &C_BOB, {NULL}, NULL, R_, P_SQS_ALL, NULL, SEND,
     IAM_IMPLICIT_DENY, IAM_LAYER_IDENTITY, NULL},
    {"boundary explicit deny", &C_BOB, {P_SQS_ALL}, NULL, R_, P_DENY_SEND, NULL, SEND,
     IAM_EXPLICIT_DENY, IAM_LAYER_BOUNDARY, "DenySend"},
    /* Session policies: an intersection with the role's identity policies. */
    {"session policy allows too", &C_SESSION, {P_SQS_ALL}, NULL, R_, NULL, P_RECEIVE_ONLY, RECV,
     IAM_ALLOW, IAM_LAYER_IDENTITY, "AllowSqs"},
    {"session policy does not allow", &C_SESSION, {P_SQS_ALL}, NULL, R_, NULL, P_RECEIVE_ONLY, SEND,
     IAM_IMPLICIT_DENY, IAM_LAYER_SESSION, NULL},
    {"session policy alone grants nothing", &C_SESSION, {NULL}, NULL, R_, NULL, P_SQS_ALL, SEND,
     IAM_IMPLICIT_DENY, IAM_LAYER_IDENTITY, NULL},
    {"session without session policy", &C_SESSION, {P_SQS_ALL}, NULL, R_, NULL, NULL, SEND,
     IAM_ALLOW, IAM_LAYER_IDENTITY, "AllowSqs"},
    {"session policies do not apply to users", &C_BOB, {P_SQS_ALL}, NULL, R_, NULL, P_DENY_ALL,
     SEND, IAM_ALLOW, IAM_LAYER_IDENTITY, "AllowSqs"},
    {"session policy explicit deny", &C_SESSION, {P_SQS_ALL}, NULL, R_, NULL, P_DENY_SEND, SEND,
     IAM_EXPLICIT_DENY, IAM_LAYER_SESSION, "DenySend"},
    /* Same-account resource policies: how the caller is named matters. */
    {"resource policy names the user", &C_BOB, {NULL}, RP("{'AWS':'" BOB "'}", "Allow"), R_, NULL,
     NULL, SEND, IAM_ALLOW, IAM_LAYER_RESOURCE, "Rp"},
    {"user grant not limited by boundary", &C_BOB, {NULL}, RP("{'AWS':'" BOB "'}", "Allow"), R_,
     P_RECEIVE_ONLY, NULL, SEND, IAM_ALLOW, IAM_LAYER_RESOURCE, "Rp"},
    {"resource policy names the session", &C_SESSION, {NULL}, RP("{'AWS':'" SESSION "'}", "Allow"),
     R_, P_RECEIVE_ONLY, P_RECEIVE_ONLY, SEND, IAM_ALLOW, IAM_LAYER_RESOURCE, "Rp"},
    {"resource policy names the role", &C_SESSION, {NULL}, RP("{'AWS':'" ROLE "'}", "Allow"), R_,
     NULL, NULL, SEND, IAM_ALLOW, IAM_LAYER_RESOURCE, "Rp"},
    {"role grant limited by session policy", &C_SESSION, {NULL}, RP("{'AWS':'" ROLE "'}", "Allow"),
     R_, NULL, P_RECEIVE_ONLY, SEND, IAM_IMPLICIT_DENY, IAM_LAYER_SESSION, NULL},
    {"role grant limited by boundary", &C_SESSION, {NULL}, RP("{'AWS':'" ROLE "'}", "Allow"), R_,
     P_RECEIVE_ONLY, NULL, SEND, IAM_IMPLICIT_DENY, IAM_LAYER_BOUNDARY, NULL},
    {"role ARN is not a user's", &C_BOB, {NULL}, RP("{'AWS':'" ROLE "'}", "Allow"), R_, NULL, NULL,
     SEND, IAM_IMPLICIT_DENY, IAM_LAYER_IDENTITY, NULL},
    {"account grant delegates", &C_BOB, {NULL}, RP("{'AWS':'arn:aws:iam::" ACCT ":root'}", "Allow"),
     R_, NULL, NULL, SEND, IAM_IMPLICIT_DENY, IAM_LAYER_IDENTITY, NULL},
    {"bare account id delegates", &C_BOB, {P_SQS_ALL}, RP("{'AWS':'" ACCT "'}", "Allow"), R_, NULL,
     NULL, SEND, IAM_ALLOW, IAM_LAYER_IDENTITY, "AllowSqs"},
    {"wildcard principal grants", &C_SESSION, {NULL}, RP("'*'", "Allow"), R_, NULL, NULL, SEND,
     IAM_ALLOW, IAM_LAYER_RESOURCE, "Rp"},
    {"resource policy for another user", &C_BOB, {NULL},
     RP("{'AWS':'arn:aws:iam::" ACCT ":user/Eve'}", "Allow"), R_, NULL, NULL, SEND,
     IAM_IMPLICIT_DENY, IAM_LAYER_IDENTITY, NULL},
    {"resource policy on another resource", &C_BOB, {NULL}, RP("{'AWS':'" BOB "'}", "Allow"), R_,
     NULL, NULL, "sqs:SendMessage", QUEUE "2", ACCT, IAM_IMPLICIT_DENY, IAM_LAYER_IDENTITY, NULL},
    /* Cross-account: both sides must allow. */
    {"cross-account both allow", &C_ALICE, {P_SQS_ALL}, RP("{'AWS':'" OTHER "'}", "Allow"), R_,
     NULL, NULL, SEND, IAM_ALLOW, IAM_LAYER_RESOURCE, "Rp"},
    {"cross-account identity missing", &C_ALICE, {NULL}, RP("{'AWS':'" ALICE "'}", "Allow"), R_,
     NULL, NULL, SEND, IAM_IMPLICIT_DENY, IAM_LAYER_IDENTITY, NULL},
    {"cross-account resource policy missing", &C_ALICE, {P_SQS_ALL}, NULL, R_, NULL, NULL, SEND,
     IAM_IMPLICIT_DENY, IAM_LAYER_RESOURCE, NULL},
    {"cross-account names the wrong account", &C_ALICE, {P_SQS_ALL},
     RP("{'AWS':'" ACCT "'}", "Allow"), R_, NULL, NULL, SEND, IAM_IMPLICIT_DENY, IAM_LAYER_RESOURCE,
     NULL},
    {"cross-account boundary applies", &C_ALICE, {P_SQS_ALL}, RP("{'AWS':'" ALICE "'}", "Allow"),
     R_, P_RECEIVE_ONLY, NULL, SEND, IAM_IMPLICIT_DENY, IAM_LAYER_BOUNDARY, NULL},
    /* The account root. */
    {"root in its own account", &C_ROOT, {NULL}, NULL, R_, NULL, NULL, SEND, IAM_ALLOW,
     IAM_LAYER_ROOT, NULL},
    {"root ignores identity policies", &C_ROOT, {P_DENY_ALL}, NULL, R_, NULL, NULL, SEND, IAM_ALLOW,
     IAM_LAYER_ROOT, NULL},
    {"root is denied by a resource policy", &C_ROOT, {NULL}, RP("'*'", "Deny"), R_, NULL, NULL,
     SEND, IAM_EXPLICIT_DENY, IAM_LAYER_RESOURCE, "Rp"},
    {"root elsewhere needs the resource policy", &C_OTHER_ROOT, {NULL}, NULL, R_, NULL, NULL, SEND,
     IAM_IMPLICIT_DENY, IAM_LAYER_RESOURCE, NULL},
    {"root elsewhere, account named", &C_OTHER_ROOT, {NULL}, RP("{'AWS':'" OTHER "'}", "Allow"), R_,
     NULL, NULL, SEND, IAM_ALLOW, IAM_LAYER_RESOURCE, "Rp"},
    /* Service principals. */
    {"service named", &C_LAMBDA, {NULL}, RP("{'Service':'lambda.amazonaws.com'}", "Allow"), R_,
     NULL, NULL, SEND, IAM_ALLOW, IAM_LAYER_RESOURCE, "Rp"},
    {"another service named", &C_LAMBDA, {NULL}, RP("{'Service':'sns.amazonaws.com'}", "Allow"), R_,
     NULL, NULL, SEND, IAM_IMPLICIT_DENY, IAM_LAYER_RESOURCE, NULL},
    {"service without resource policy", &C_LAMBDA, {NULL}, NULL, R_, NULL, NULL, SEND,
     IAM_IMPLICIT_DENY, IAM_LAYER_RESOURCE, NULL},
    {"account grant is not for services", &C_LAMBDA, {NULL}, RP("{'AWS':'" ACCT "'}", "Allow"), R_,
     NULL, NULL, SEND, IAM_IMPLICIT_DENY, IAM_LAYER_RESOURCE, NULL},
    /* NotPrincipal with Deny: a session is spared only when its session, role and account
     * are all listed. */
    {"NotPrincipal spares the listed session", &C_SESSION, {P_SQS_ALL},
     RP_NOT("{'AWS':['" SESSION "','" ROLE "','" ACCT "']}", "Deny"), R_, NULL, NULL, SEND,
     IAM_ALLOW, IAM_LAYER_IDENTITY, "AllowSqs"},
    {"NotPrincipal without the role", &C_SESSION, {P_SQS_ALL},
     RP_NOT("{'AWS':['" SESSION "','" ACCT "']}", "Deny"), R_, NULL, NULL, SEND, IAM_EXPLICIT_DENY,
     IAM_LAYER_RESOURCE, "Rp"},
    {"NotPrincipal denies others", &C_BOB, {P_SQS_ALL},
     RP_NOT("{'AWS':['" SESSION "','" ROLE "','" ACCT "']}", "Deny"), R_, NULL, NULL, SEND,
     IAM_EXPLICIT_DENY, IAM_LAYER_RESOURCE, "Rp"},
    /* Role trust policies must allow, even in the same account. */
    {"trust names the account, identity allows", &C_BOB, {P_ASSUME},
     TRUST("{'AWS':'arn:aws:iam::" ACCT ":root'}"), IAM_POLICY_TRUST, NULL, NULL, "sts:AssumeRole",
     ROLE, ACCT, IAM_ALLOW, IAM_LAYER_IDENTITY, "Assume"},
    {"trust names the account, no identity allow", &C_BOB, {NULL},
     TRUST("{'AWS':'arn:aws:iam::" ACCT ":root'}"), IAM_POLICY_TRUST, NULL, NULL, "sts:AssumeRole",
     ROLE, ACCT, IAM_IMPLICIT_DENY, IAM_LAYER_IDENTITY, NULL},
    {"trust names the user", &C_BOB, {NULL}, TRUST("{'AWS':'" BOB "'}"), IAM_POLICY_TRUST, NULL,
     NULL, "sts:AssumeRole", ROLE, ACCT, IAM_ALLOW, IAM_LAYER_RESOURCE, "Trust"},
    {"trust names someone else", &C_BOB, {P_SQS_ALL, P_STS_ALL}, TRUST("{'AWS':'" ALICE "'}"),
     IAM_POLICY_TRUST, NULL, NULL, "sts:AssumeRole", ROLE, ACCT, IAM_IMPLICIT_DENY,
     IAM_LAYER_RESOURCE, NULL},
    {"trust denies the user", &C_BOB, {NULL}, TRUST_NO_BOB, IAM_POLICY_TRUST, NULL, NULL,
     "sts:AssumeRole", ROLE, ACCT, IAM_EXPLICIT_DENY, IAM_LAYER_RESOURCE, "NoBob"},
    {"trust for lambda", &C_LAMBDA, {NULL}, TRUST("{'Service':'lambda.amazonaws.com'}"),
     IAM_POLICY_TRUST, NULL, NULL, "sts:AssumeRole", ROLE, ACCT, IAM_ALLOW, IAM_LAYER_RESOURCE,
     "Trust"},
    /* The documentation's carlossalazar example: the deny on *log* buckets wins. */
    {"carlossalazar-logs", &C_BOB, {P_CARLOS}, NULL, R_, NULL, NULL, "s3:PutObject",
     "arn:aws:s3:::carlossalazar-logs/f", ACCT, IAM_EXPLICIT_DENY, IAM_LAYER_IDENTITY,
     "DenyS3Logs"},
    {"carlossalazar", &C_BOB, {P_CARLOS}, NULL, R_, NULL, NULL, "s3:PutObject",
     "arn:aws:s3:::carlossalazar/f", ACCT, IAM_ALLOW, IAM_LAYER_IDENTITY, "AllowS3Self"},
    /* A resource owned by nobody in particular ("*") is the caller's own account. */
    {"no resource account", &C_BOB, {P_SQS_ALL}, NULL, R_, NULL, NULL, "sqs:ListQueues", "*", NULL,
     IAM_ALLOW, IAM_LAYER_IDENTITY, "AllowSqs"},

};
// clang-format on

static void run_eval_case(const eval_case_t *e, iam_verdict_t *v, req_builder_t *b)
{
    rb_init(b, e->caller, e->action, e->resource);
    b->req.resource_account = e->resource_account;
    for (size_t i = 0; i < 2 && e->identity[i]; i++)
        rb_identity(b, e->identity[i],
                    i ? "arn:aws:iam::111122223333:policy/second" : "inline:user/Bob/first");
    if (e->resource_policy)
        rb_resource(b, e->resource_policy, e->resource_kind);
    if (e->boundary)
        rb_boundary(b, e->boundary);
    if (e->session)
        rb_session(b, e->session);
    iam_eval(&b->req, v);
}

static void test_evaluation_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(EVALS) / sizeof(EVALS[0]); i++) {
        const eval_case_t *e = &EVALS[i];
        req_builder_t b;
        iam_verdict_t v;
        run_eval_case(e, &v, &b);
        const char *sid = v.sid;
        if (v.effect != e->effect || v.layer != e->layer ||
            (e->sid ? !sid || strcmp(sid, e->sid) != 0 : v.policy != NULL))
            fail_msg("%s: got effect %d layer %s sid %s; want effect %d layer %s sid %s", e->name,
                     v.effect, iam_layer_name(v.layer), sid ? sid : "-", e->effect,
                     iam_layer_name(e->layer), e->sid ? e->sid : "-");
        rb_free(&b);
    }
}

/* The verdict names the deciding policy by its label and the statement by index. */
static void test_verdict_names_policy(void **state)
{
    (void)state;
    req_builder_t b;
    rb_init(&b, &C_BOB, "sqs:SendMessage", QUEUE);
    rb_identity(&b, P_SQS_ALL, "inline:user/Bob/first");
    rb_identity(&b,
                "{" V2012 "'Statement':[{'Effect':'Allow','Action':'sns:*','Resource':'*'},"
                "{'Effect':'Deny','Action':'sqs:Send*','Resource':'" QUEUE "'}]}",
                "arn:aws:iam::111122223333:policy/second");
    iam_verdict_t v;
    iam_eval(&b.req, &v);
    assert_int_equal(v.effect, IAM_EXPLICIT_DENY);
    assert_string_equal(v.policy->label, "arn:aws:iam::111122223333:policy/second");
    assert_int_equal(v.statement, 1);
    assert_null(v.sid);
    rb_free(&b);
}

/* ---- messages ----------------------------------------------------------------------- */

static void expect_message(const char *name, const char *want)
{
    for (size_t i = 0; i < sizeof(EVALS) / sizeof(EVALS[0]); i++) {
        if (strcmp(EVALS[i].name, name) != 0)
            continue;
        req_builder_t b;
        iam_verdict_t v;
        buf_t out;
        buf_init(&out, 4096);
        run_eval_case(&EVALS[i], &v, &b);
        assert_int_equal(iam_verdict_message(&b.req, &v, &out), 0);
        assert_string_equal(out.data, want);
        buf_free(&out);
        rb_free(&b);
        return;
    }
    fail_msg("no case %s", name);
}

#define NOT_AUTH(who, action) "User: " who " is not authorized to perform: " action

static void test_access_denied_messages(void **state)
{
    (void)state;
    expect_message("nothing allows",
                   NOT_AUTH(BOB, "sqs:SendMessage") " on resource: " QUEUE
                                                    " because no identity-based policy allows the "
                                                    "sqs:SendMessage action");
    expect_message(
        "explicit deny wins over allow",
        NOT_AUTH(BOB, "sqs:SendMessage") " on resource: " QUEUE
                                         " with an explicit deny in an identity-based policy");
    expect_message(
        "resource policy deny wins",
        NOT_AUTH(BOB, "sqs:SendMessage") " on resource: " QUEUE
                                         " with an explicit deny in a resource-based policy");
    expect_message("boundary does not allow",
                   NOT_AUTH(BOB, "sqs:SendMessage") " on resource: " QUEUE
                                                    " because no permissions boundary allows the "
                                                    "sqs:SendMessage action");
    expect_message(
        "boundary explicit deny",
        NOT_AUTH(BOB, "sqs:SendMessage") " on resource: " QUEUE
                                         " with an explicit deny in a permissions boundary");
    expect_message(
        "session policy does not allow",
        NOT_AUTH(SESSION,
                 "sqs:SendMessage") " on resource: " QUEUE
                                    " because no session policy allows the sqs:SendMessage action");
    expect_message(
        "session policy explicit deny",
        NOT_AUTH(SESSION, "sqs:SendMessage") " on resource: " QUEUE
                                             " with an explicit deny in a session policy");
    expect_message("cross-account resource policy missing",
                   NOT_AUTH(ALICE, "sqs:SendMessage") " on resource: " QUEUE
                                                      " because no resource-based policy allows "
                                                      "the sqs:SendMessage action");
    expect_message(
        "trust names someone else",
        NOT_AUTH(
            BOB,
            "sts:AssumeRole") " on resource: " ROLE
                              " because no role trust policy allows the sts:AssumeRole action");
    expect_message(
        "trust denies the user",
        NOT_AUTH(BOB, "sts:AssumeRole") " on resource: " ROLE
                                        " with an explicit deny in the role trust policy");
    expect_message("NotAction allow excludes",
                   NOT_AUTH(BOB, "iam:CreateUser") " on resource: arn:aws:iam::" ACCT
                                                   ":user/x because no identity-based policy "
                                                   "allows the iam:CreateUser action");

    /* No "on resource" for actions on no resource; no message for an allow. */
    req_builder_t b;
    iam_verdict_t v;
    buf_t out;
    buf_init(&out, 4096);
    rb_init(&b, &C_BOB, "sqs:ListQueues", "*");
    iam_eval(&b.req, &v);
    assert_int_equal(iam_verdict_message(&b.req, &v, &out), 0);
    assert_string_equal(
        out.data,
        NOT_AUTH(
            BOB,
            "sqs:ListQueues") " because no identity-based policy allows the sqs:ListQueues action");
    rb_identity(&b, P_SQS_ALL, "p");
    iam_eval(&b.req, &v);
    buf_reset(&out);
    assert_int_equal(iam_verdict_message(&b.req, &v, &out), -1);
    rb_free(&b);
    buf_free(&out);
    assert_string_equal(iam_layer_name(IAM_LAYER_IDENTITY), "identity-based policy");
}

/* ---- speed -------------------------------------------------------------------------- */

/* A typical request: three policies, a few statements, a condition. Prints the
 * cost per evaluation (informative only; nothing is asserted about time). */
static void test_evaluation_speed(void **state)
{
    (void)state;
    req_builder_t b;
    rb_init(&b, &C_SESSION, "sqs:SendMessage", QUEUE);
    rb_identity(&b,
                "{" V2012 "'Statement':[{'Effect':'Allow','Action':['sqs:ReceiveMessage',"
                "'sqs:DeleteMessage'],'Resource':'arn:aws:sqs:*:*:in-*'},{'Effect':'Allow',"
                "'Action':'sqs:Send*','Resource':'arn:aws:sqs:us-east-1:" ACCT ":*',"
                "'Condition':{'Bool':{'aws:SecureTransport':'true'}}}]}",
                "p1");
    rb_identity(&b, "{" V2012 "'Statement':{'Effect':'Allow','Action':'logs:*','Resource':'*'}}",
                "p2");
    rb_resource(&b, RP("{'AWS':'" ACCT "'}", "Allow"), IAM_POLICY_RESOURCE);
    rb_ctx(&b, "aws:SecureTransport", "true", false);
    rb_ctx(&b, "aws:username", "app", false);
    iam_verdict_t v;
    enum { N = 200000 };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < N; i++)
        iam_eval(&b.req, &v);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(v.effect, IAM_ALLOW);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / N;
    printf("# iam_eval: %.0f ns per evaluation\n", ns);
    rb_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grammar_rejections),
        cmocka_unit_test(test_grammar_acceptance),
        cmocka_unit_test(test_size_ignores_whitespace),
        cmocka_unit_test(test_condition_operators),
        cmocka_unit_test(test_conditions_and),
        cmocka_unit_test(test_wildcards_and_variables),
        cmocka_unit_test(test_multivalued_key_is_no_variable),
        cmocka_unit_test(test_evaluation_table),
        cmocka_unit_test(test_verdict_names_policy),
        cmocka_unit_test(test_access_denied_messages),
        cmocka_unit_test(test_evaluation_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
