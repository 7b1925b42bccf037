/*
 * fuzz_policy — libFuzzer driver for the IAM policy reader and evaluator.
 *
 * The first byte picks the policy kind (identity, resource, trust, session,
 * boundary) and the caller (user, session, root, service, another account's
 * user); the rest is the document. A document that parses is put where its
 * kind sits in a fixed request — with context keys of every operator's type,
 * so conditions, variables and principals all run — and evaluated. Checked:
 * a refusal has a message; a verdict is well-formed (an implicit deny names
 * no statement, anything else names a statement of a policy of the request)
 * and every denial words a message; evaluating twice gives the same verdict.
 */
#include "iam/policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ACCT "111122223333"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const iam_caller_t CALLERS[] = {
    {IAM_CALLER_USER, "arn:aws:iam::" ACCT ":user/Bob", ACCT, NULL},
    {IAM_CALLER_SESSION, "arn:aws:sts::" ACCT ":assumed-role/app/s1", ACCT,
     "arn:aws:iam::" ACCT ":role/app"},
    {IAM_CALLER_ROOT, "arn:aws:iam::" ACCT ":root", ACCT, NULL},
    {IAM_CALLER_SERVICE, "lambda.amazonaws.com", "", NULL},
    {IAM_CALLER_USER, "arn:aws:iam::444455556666:user/Alice", "444455556666", NULL},
};

static const char *const V_USER[] = {"Bob"};
static const char *const V_TAGS[] = {"team", "cost-center", ""};
static const char *const V_IP[] = {"203.0.113.7"};
static const char *const V_TIME[] = {"2024-05-01T12:00:00Z"};
static const char *const V_EPOCH[] = {"1714564800"};
static const char *const V_TRUE[] = {"true"};
static const char *const V_NUM[] = {"10"};
static const char *const V_ARN[] = {"arn:aws:sns:us-east-1:" ACCT ":topic"};
static const char *const V_B64[] = {"QmluYXJ5"};
static const char *const V_IP6[] = {"2001:db8::1"};

static const iam_context_key_t CONTEXT[] = {
    {"aws:username", V_USER, 1, false},
    {"aws:TagKeys", V_TAGS, 3, true},
    {"aws:SourceIp", V_IP, 1, false},
    {"aws:CurrentTime", V_TIME, 1, false},
    {"aws:EpochTime", V_EPOCH, 1, false},
    {"aws:SecureTransport", V_TRUE, 1, false},
    {"s3:max-keys", V_NUM, 1, false},
    {"aws:SourceArn", V_ARN, 1, false},
    {"aws:PrincipalTag/team", V_USER, 1, false},
    {"k:binary", V_B64, 1, false},
    {"k:ip6", V_IP6, 1, false},
};

/* Parsed once: what the layers the fuzzed policy does not fill hold. */
static iam_policy_t *allow_all;

static void check_verdict(const iam_request_t *req, const iam_verdict_t *v)
{
    const iam_policy_ref_t *refs[] = {req->resource_policy, req->boundary};
    bool known = v->policy == NULL;
    for (size_t i = 0; i < req->n_identity; i++)
        known |= v->policy == &req->identity[i];
    for (size_t i = 0; i < req->n_session; i++)
        known |= v->policy == &req->session[i];
    for (size_t i = 0; i < 2; i++)
        known |= refs[i] && v->policy == refs[i];
    if (!known ||
        (v->effect == IAM_IMPLICIT_DENY) != (v->policy == NULL && v->layer != IAM_LAYER_ROOT) ||
        (v->policy && v->statement >= iam_policy_statement_count(v->policy->policy)))
        abort();
    if (v->effect != IAM_ALLOW) {
        buf_t msg;
        buf_init(&msg, 0);
        if (iam_verdict_message(req, v, &msg) != 0 || msg.len == 0)
            abort();
        buf_free(&msg);
    }
}

static void evaluate(const iam_policy_t *p, const iam_caller_t *caller)
{
    iam_policy_ref_t fuzzed = {p, "fuzzed"}, base = {allow_all, "base"};
    iam_request_t req = {
        .action = "sqs:SendMessage",
        .resource = "arn:aws:sqs:us-east-1:" ACCT ":jobs",
        .resource_account = ACCT,
        .caller = *caller,
        .context = CONTEXT,
        .n_context = sizeof(CONTEXT) / sizeof(CONTEXT[0]),
        .identity = &base,
        .n_identity = 1,
    };
    switch (iam_policy_kind(p)) {
    case IAM_POLICY_IDENTITY:
        req.identity = &fuzzed;
        break;
    case IAM_POLICY_RESOURCE:
    case IAM_POLICY_TRUST:
        req.resource_policy = &fuzzed;
        break;
    case IAM_POLICY_SESSION:
        req.session = &fuzzed;
        req.n_session = 1;
        break;
    case IAM_POLICY_BOUNDARY:
        req.boundary = &fuzzed;
        break;
    }
    iam_verdict_t v, again;
    iam_eval(&req, &v);
    check_verdict(&req, &v);
    iam_eval(&req, &again);
    if (memcmp(&v, &again, sizeof(v)) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (!allow_all) {
        static const char doc[] =
            "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
            "\"Resource\":\"*\"}}";
        iam_policy_error_t err;
        if (iam_policy_parse(doc, strlen(doc), IAM_POLICY_IDENTITY, &allow_all, &err) != 0)
            abort();
    }
    iam_policy_kind_t kind = (iam_policy_kind_t)(data[0] % 5);
    const iam_caller_t *caller = &CALLERS[(data[0] / 5) % (sizeof(CALLERS) / sizeof(CALLERS[0]))];
    const char *text = (const char *)data + 1;
    iam_policy_t *p = NULL;
    iam_policy_error_t err;
    size_t n = iam_policy_size(text, size - 1);
    if (n > size - 1)
        abort();
    if (iam_policy_parse(text, size - 1, kind, &p, &err) != 0) {
        if (!err.message[0] || p)
            abort();
        return 0;
    }
    if (iam_policy_statement_count(p) == 0 || iam_policy_kind(p) != kind)
        abort();
    evaluate(p, caller);
    iam_policy_free(p);
    return 0;
}
