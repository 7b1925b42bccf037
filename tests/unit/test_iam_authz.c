/*
 * test_iam_authz — session tokens (src/iam/session.h), identities
 * (src/iam/identity.h) and the authorization step (src/iam/authz.h): what
 * the gateway decides with for every request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iam/authz.h"
#include "iam/identity.h"
#include "iam/session.h"

static const uint8_t KEY[IAM_SESSION_KEY_BYTES] = "0123456789abcdef0123456789abcdef";
static const uint8_t OTHER_KEY[IAM_SESSION_KEY_BYTES] = "fedcba9876543210fedcba9876543210";
#define NOW 1700000000000ull

static void session_fill(iam_session_t *s)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->account, sizeof(s->account), "000000000000");
    snprintf(s->role_arn, sizeof(s->role_arn), "arn:aws:iam::000000000000:role/app/worker");
    snprintf(s->role_id, sizeof(s->role_id), "AROAEXAMPLEROLEID0001");
    snprintf(s->name, sizeof(s->name), "job-7");
    s->issued_ms = (int64_t)NOW;
    s->expires_ms = (int64_t)NOW + 3600000;
    s->policy = strdup("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                       "\"Action\":\"sqs:SendMessage\",\"Resource\":\"*\"}]}");
    s->tag_keys[0] = strdup("team");
    s->tag_values[0] = strdup("core");
    s->n_tags = 1;
}

static void test_session_tokens(void **state)
{
    (void)state;
    iam_session_t s, o;
    char secret[41], opened[41];
    buf_t token;
    buf_init(&token, 0);
    session_fill(&s);
    iam_session_issue(KEY, &s, secret, &token);
    assert_int_equal(strlen(s.access_key), 20);
    assert_memory_equal(s.access_key, "ASIA", 4);
    assert_int_equal(strlen(secret), 40);
    assert_int_equal(iam_session_open(KEY, s.access_key, token.data, &o, opened), 0);
    assert_string_equal(opened, secret);
    assert_string_equal(o.role_arn, s.role_arn);
    assert_string_equal(o.name, "job-7");
    assert_string_equal(o.policy, s.policy);
    assert_int_equal(o.n_tags, 1);
    assert_string_equal(o.tag_values[0], "core");
    assert_int_equal(o.expires_ms, s.expires_ms);
    iam_session_clear(&o);
    /* Another server key, another key id, any altered byte: not ours. */
    assert_int_equal(iam_session_open(OTHER_KEY, s.access_key, token.data, &o, opened), -1);
    assert_int_equal(iam_session_open(KEY, "ASIAAAAAAAAAAAAAAAAA", token.data, &o, opened), -1);
    for (size_t i = 0; i < token.len; i += 7) {
        char saved = token.data[i];
        token.data[i] = saved == 'A' ? 'B' : 'A';
        assert_int_equal(iam_session_open(KEY, s.access_key, token.data, &o, opened), -1);
        token.data[i] = saved;
    }
    assert_int_equal(iam_session_open(KEY, s.access_key, "", &o, opened), -1);
    iam_session_clear(&s);
    buf_free(&token);
}

static void test_identity_lookup(void **state)
{
    (void)state;
    iam_principal_t p;
    aws_error_t err;
    iam_session_t s;
    char secret[41];
    buf_t token;
    buf_init(&token, 0);
    iam_identity_t *ids = iam_identity_new();
    assert_int_equal(iam_identity_add_root(ids, "000000000000", "test", "test"), 0);
    assert_int_equal(iam_identity_add_root(ids, "111122223333", "other", "s3cret"), 0);
    assert_int_equal(iam_identity_add_root(ids, "123", "x", "y"), -1);
    assert_int_equal(iam_identity_add_root(ids, "444455556666", "test", "dup"), -1);
    assert_string_equal(iam_identity_lookup(ids, "other", NULL, 0, NOW, &p, &err), "s3cret");
    assert_int_equal(p.kind, IAM_PRINCIPAL_ROOT);
    assert_string_equal(p.arn, "arn:aws:iam::111122223333:root");
    assert_null(iam_identity_lookup(ids, "AKIANOSUCHKEY0000000", NULL, 0, NOW, &p, &err));
    assert_string_equal(err.code, "InvalidClientTokenId");

    iam_identity_set_token_key(ids, KEY);
    session_fill(&s);
    iam_session_issue(KEY, &s, secret, &token);
    const char *got = iam_identity_lookup(ids, s.access_key, token.data, token.len, NOW, &p, &err);
    assert_non_null(got);
    assert_string_equal(got, secret);
    assert_int_equal(p.kind, IAM_PRINCIPAL_SESSION);
    assert_string_equal(p.arn, "arn:aws:sts::000000000000:assumed-role/worker/job-7");
    assert_string_equal(p.user_id, "AROAEXAMPLEROLEID0001:job-7");
    assert_string_equal(p.role_arn, s.role_arn);
    assert_non_null(p.session->policy);
    /* No token, a wrong one, an expired session. */
    assert_null(iam_identity_lookup(ids, s.access_key, NULL, 0, NOW, &p, &err));
    assert_string_equal(err.code, "InvalidClientTokenId");
    assert_null(iam_identity_lookup(ids, s.access_key, "AAAA", 4, NOW, &p, &err));
    assert_null(iam_identity_lookup(ids, s.access_key, token.data, token.len,
                                    (uint64_t)s.expires_ms, &p, &err));
    assert_string_equal(err.code, "ExpiredToken");
    iam_session_clear(&s);
    buf_free(&token);
    iam_identity_free(ids);
}

static iam_principal_t root_of(const char *account)
{
    iam_principal_t p = {.kind = IAM_PRINCIPAL_ROOT};
    snprintf(p.account, sizeof(p.account), "%s", account);
    snprintf(p.arn, sizeof(p.arn), "arn:aws:iam::%s:root", account);
    snprintf(p.user_id, sizeof(p.user_id), "%s", account);
    return p;
}

static const char *QUEUE = "arn:aws:sqs:us-east-1:000000000000:q";

static void test_authorize_roots_and_resource_policies(void **state)
{
    (void)state;
    iam_decision_t d;
    buf_t msg;
    buf_init(&msg, 4096);
    iam_authz_t *az = iam_authz_new();
    iam_principal_t own = root_of("000000000000"), other = root_of("111122223333");
    iam_authz_in_t in = {.who = &own,
                         .action = "sqs:SendMessage",
                         .resource = QUEUE,
                         .region = "us-east-1",
                         .source_ip = "127.0.0.1",
                         .now_ms = NOW};
    iam_authorize(az, &in, &d, &msg);
    assert_true(d.allowed);
    /* An ARN that names no account is nobody's: not the caller's own. */
    in.resource = "arn:aws:sqs:us-east-1::q";
    iam_authorize(az, &in, &d, NULL);
    assert_false(d.allowed);
    in.resource = QUEUE;
    /* Another account's root needs the queue's policy. */
    in.who = &other;
    iam_authorize(az, &in, &d, &msg);
    assert_false(d.allowed);
    assert_string_equal(msg.data, "User: arn:aws:iam::111122223333:root is not authorized to "
                                  "perform: sqs:SendMessage on resource: "
                                  "arn:aws:sqs:us-east-1:000000000000:q because no "
                                  "resource-based policy allows the sqs:SendMessage action");
    char policy[512];
    snprintf(policy, sizeof(policy),
             "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"share\",\"Effect\":\"Allow\","
             "\"Principal\":{\"AWS\":\"111122223333\"},\"Action\":\"SQS:SendMessage\","
             "\"Resource\":\"%s\",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":"
             "\"127.0.0.0/8\"}}}]}",
             QUEUE);
    in.resource_policy = policy;
    iam_authorize(az, &in, &d, NULL);
    assert_true(d.allowed);
    assert_non_null(strstr(d.reason, "share"));
    /* The condition reads aws:SourceIp from the request. */
    in.source_ip = "10.0.0.1";
    iam_authorize(az, &in, &d, NULL);
    assert_false(d.allowed);
    in.source_ip = "127.0.0.1";
    in.action = "sqs:ReceiveMessage";
    iam_authorize(az, &in, &d, NULL);
    assert_false(d.allowed);
    /* A changed policy text is recompiled; an explicit deny binds even the owner. */
    snprintf(policy, sizeof(policy),
             "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\","
             "\"Action\":\"sqs:*\",\"Resource\":\"%s\"}]}",
             QUEUE);
    in.who = &own;
    buf_reset(&msg);
    iam_authorize(az, &in, &d, &msg);
    assert_false(d.allowed);
    assert_non_null(strstr(msg.data, "with an explicit deny in a resource-based policy"));
    /* GetCallerIdentity needs no permission, even from another account. */
    iam_authz_in_t gci = {
        .who = &other, .action = "sts:GetCallerIdentity", .resource = "*", .now_ms = NOW};
    iam_authorize(az, &gci, &d, NULL);
    assert_true(d.allowed);
    /* Every decision is in the log, newest first. */
    assert_int_equal(iam_authz_log_count(az), 8);
    const iam_decision_record_t *r = iam_authz_log_get(az, 0);
    assert_string_equal(r->action, "sts:GetCallerIdentity");
    r = iam_authz_log_get(az, 1);
    assert_false(r->allowed);
    assert_string_equal(r->principal, "arn:aws:iam::000000000000:root");
    assert_null(iam_authz_log_get(az, 8));
    buf_free(&msg);
    iam_authz_free(az);
}

/* A policy source with one user whose policy tests the context keys. */
typedef struct fake_dir {
    iam_policy_t *policy;
} fake_dir_t;

static size_t fake_user_policies(void *ud, const char *account, const char *user,
                                 iam_policy_ref_t *out, size_t cap, const iam_policy_ref_t **bd)
{
    fake_dir_t *f = ud;
    (void)account;
    *bd = NULL;
    if (strcmp(user, "alice") || cap < 1)
        return 0;
    out[0] = (iam_policy_ref_t){f->policy, "arn:aws:iam::000000000000:policy/tagged"};
    return 1;
}

static size_t fake_tags(void *ud, const iam_principal_t *p, const char *const **keys,
                        const char *const **values)
{
    static const char *const k[] = {"team"}, *const v[] = {"core"};
    (void)ud;
    (void)p;
    *keys = k;
    *values = v;
    return 1;
}

static void test_authorize_users_and_context_keys(void **state)
{
    (void)state;
    fake_dir_t f;
    iam_policy_error_t perr;
    const char *doc =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"own\",\"Effect\":\"Allow\","
        "\"Action\":\"sqs:*\",\"Resource\":\"arn:aws:sqs:*:*:${aws:username}-*\","
        "\"Condition\":{\"StringEquals\":{\"aws:PrincipalTag/team\":\"core\","
        "\"aws:RequestedRegion\":\"us-east-1\"},\"ForAllValues:StringEquals\":"
        "{\"aws:TagKeys\":[\"env\"]},\"Bool\":{\"aws:SecureTransport\":\"false\"}}}]}";
    assert_int_equal(iam_policy_parse(doc, strlen(doc), IAM_POLICY_IDENTITY, &f.policy, &perr), 0);
    iam_policy_source_t src = {
        .ud = &f, .user_policies = fake_user_policies, .principal_tags = fake_tags};
    iam_authz_t *az = iam_authz_new();
    iam_authz_set_source(az, &src);
    iam_principal_t alice = {.kind = IAM_PRINCIPAL_USER,
                             .account = "000000000000",
                             .arn = "arn:aws:iam::000000000000:user/alice",
                             .user_id = "AIDAEXAMPLEALICE0001",
                             .name = "alice"};
    iam_decision_t d;
    buf_t msg;
    buf_init(&msg, 4096);
    iam_tag_t env = {"env", "ci"}, other = {"cost", "x"};
    iam_authz_in_t in = {.who = &alice,
                         .action = "sqs:CreateQueue",
                         .resource = "arn:aws:sqs:us-east-1:000000000000:alice-jobs",
                         .region = "us-east-1",
                         .now_ms = NOW,
                         .request_tags = &env,
                         .n_request_tags = 1};
    iam_authorize(az, &in, &d, &msg);
    assert_true(d.allowed);
    assert_non_null(strstr(d.reason, "policy/tagged"));
    in.request_tags = &other; /* a tag key the policy does not allow */
    iam_authorize(az, &in, &d, &msg);
    assert_false(d.allowed);
    in.request_tags = &env;
    in.region = "eu-west-1";
    iam_authorize(az, &in, &d, &msg);
    assert_false(d.allowed);
    in.region = "us-east-1";
    /* aws:SourceArn is there only when a service acts for the caller. */
    const char *src_doc = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                          "\"Principal\":{\"AWS\":\"111122223333\"},\"Action\":\"sqs:SendMessage\","
                          "\"Resource\":\"*\",\"Condition\":{\"ArnLike\":{\"aws:SourceArn\":"
                          "\"arn:aws:lambda:*:111122223333:function:*\"}}}]}";
    iam_principal_t bob_root = root_of("111122223333");
    iam_authz_in_t via = {.who = &bob_root,
                          .action = "sqs:SendMessage",
                          .resource = QUEUE,
                          .region = "us-east-1",
                          .now_ms = NOW,
                          .resource_policy = src_doc};
    iam_authorize(az, &via, &d, NULL);
    assert_false(d.allowed);
    via.source_arn = "arn:aws:lambda:us-east-1:111122223333:function:worker";
    via.source_account = "111122223333";
    iam_authorize(az, &via, &d, NULL);
    assert_true(d.allowed);
    in.resource = "arn:aws:sqs:us-east-1:000000000000:bob-jobs";
    buf_reset(&msg);
    iam_authorize(az, &in, &d, &msg);
    assert_false(d.allowed);
    assert_string_equal(msg.data, "User: arn:aws:iam::000000000000:user/alice is not authorized "
                                  "to perform: sqs:CreateQueue on resource: "
                                  "arn:aws:sqs:us-east-1:000000000000:bob-jobs because no "
                                  "identity-based policy allows the sqs:CreateQueue action");
    buf_free(&msg);
    iam_authz_free(az);
    iam_policy_free(f.policy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_tokens),
        cmocka_unit_test(test_identity_lookup),
        cmocka_unit_test(test_authorize_roots_and_resource_policies),
        cmocka_unit_test(test_authorize_users_and_context_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
