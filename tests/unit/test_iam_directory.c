/*
 * test_iam_directory — the IAM directory: users and their keys, groups, roles
 * and trust policies, inline and managed policies with versions, attachments,
 * boundaries, tags, IAM's quotas and errors, the lookups authorization uses,
 * and the journal: every change recorded, restored into a fresh directory,
 * damaged records refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iam/directory.h"

#define ACCT  "111122223333"
#define OTHER "444455556666"
#define NOW   1700000000000ull

#define ALLOW_SEND                                                                                 \
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":"                  \
    "\"sqs:SendMessage\",\"Resource\":\"*\"}}"
#define TRUST_LAMBDA                                                                               \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":" \
    "\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"

/* ---- a journal that keeps the records, like the store's kv table ------------------------- */

#define MAX_RECORDS 64

typedef struct record {
    char kind[32];
    char key[256];
    char *blob;
    size_t len;
} record_t;

typedef struct kv {
    record_t r[MAX_RECORDS];
    size_t n;
    size_t puts, deletes;
} kv_t;

static record_t *kv_find(kv_t *kv, const char *kind, const char *key)
{
    for (size_t i = 0; i < kv->n; i++)
        if (!strcmp(kv->r[i].kind, kind) && !strcmp(kv->r[i].key, key))
            return &kv->r[i];
    return NULL;
}

static void kv_put(void *ud, const char *kind, const char *key, const void *blob, size_t len)
{
    kv_t *kv = ud;
    record_t *r = kv_find(kv, kind, key);
    kv->puts++;
    if (!r) {
        assert_true(kv->n < MAX_RECORDS);
        r = &kv->r[kv->n++];
        snprintf(r->kind, sizeof(r->kind), "%s", kind);
        snprintf(r->key, sizeof(r->key), "%s", key);
    } else {
        free(r->blob);
    }
    r->blob = malloc(len + 1);
    memcpy(r->blob, blob, len);
    r->blob[len] = '\0';
    r->len = len;
}

static void kv_delete(void *ud, const char *kind, const char *key)
{
    kv_t *kv = ud;
    record_t *r = kv_find(kv, kind, key);
    kv->deletes++;
    if (!r)
        return;
    free(r->blob);
    *r = kv->r[--kv->n];
}

static void kv_free(kv_t *kv)
{
    for (size_t i = 0; i < kv->n; i++)
        free(kv->r[i].blob);
}

static iam_dir_t *dir_new(kv_t *kv)
{
    iam_dir_journal_t j = {kv, kv_put, kv_delete};
    iam_dir_t *d = iam_dir_new(kv ? &j : NULL);
    assert_int_equal(iam_dir_add_account(d, ACCT), 0);
    return d;
}

/* Restores every record of kv into a fresh directory, in iam_dir_kinds order. */
static iam_dir_t *dir_restored(kv_t *kv)
{
    iam_dir_t *d = iam_dir_new(NULL);
    for (size_t k = 0; k < iam_dir_n_kinds; k++)
        for (size_t i = 0; i < kv->n; i++)
            if (!strcmp(kv->r[i].kind, iam_dir_kinds[k]))
                assert_int_equal(
                    iam_dir_restore(d, kv->r[i].kind, kv->r[i].key, kv->r[i].blob, kv->r[i].len),
                    0);
    return d;
}

static const iam_dir_entity_t *mk(iam_dir_t *d, iam_dir_kind_t kind, const char *name,
                                  const char *path)
{
    const iam_dir_entity_t *e = NULL;
    aws_error_t err = {0};
    iam_dir_create_t in = {.name = name, .path = path, .now_ms = NOW};
    if (kind == IAM_DIR_ROLE)
        in.trust_text = TRUST_LAMBDA;
    if (iam_dir_entity_create(d, ACCT, kind, &in, &e, &err) < 0)
        fail_msg("create %s: %s %s", name, err.code, err.message);
    return e;
}

static const iam_dir_policy_t *mk_policy(iam_dir_t *d, const char *name, const char *text)
{
    const iam_dir_policy_t *p = NULL;
    aws_error_t err = {0};
    iam_dir_policy_create_t in = {.name = name, .text = text, .now_ms = NOW};
    if (iam_dir_policy_create(d, ACCT, &in, &p, &err) < 0)
        fail_msg("create policy %s: %s %s", name, err.code, err.message);
    return p;
}

/* Asserts that rc failed with code (and, when given, message). */
static void expect_err(int rc, const aws_error_t *err, const char *code, int status,
                       const char *message)
{
    assert_int_equal(rc, -1);
    assert_string_equal(err->code, code);
    assert_int_equal(err->status, status);
    if (message)
        assert_string_equal(err->message, message);
}

/* ---- users ---------------------------------------------------------------------------- */

static void test_users(void **state)
{
    (void)state;
    iam_dir_t *d = dir_new(NULL);
    aws_error_t err = {0};
    const iam_dir_entity_t *e;
    const iam_dir_entity_t *bob = mk(d, IAM_DIR_USER, "Bob", "/eng/");
    assert_string_equal(bob->arn, "arn:aws:iam::111122223333:user/eng/Bob");
    assert_int_equal(strlen(bob->id), 21);
    assert_memory_equal(bob->id, "AIDA", 4);
    for (const char *p = bob->id + 4; *p; p++)
        assert_true((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'));
    /* Names are unique and found without regard to case. */
    assert_ptr_equal(iam_dir_entity_get(d, ACCT, IAM_DIR_USER, "BOB"), bob);
    iam_dir_create_t dup = {.name = "bob", .now_ms = NOW};
    expect_err(iam_dir_entity_create(d, ACCT, IAM_DIR_USER, &dup, &e, &err), &err,
               "EntityAlreadyExists", 409, "User with name bob already exists.");
    iam_dir_create_t bad = {.name = "no spaces", .now_ms = NOW};
    expect_err(iam_dir_entity_create(d, ACCT, IAM_DIR_USER, &bad, &e, &err), &err,
               "ValidationError", 400, NULL);
    assert_non_null(strstr(err.message, "at 'userName' failed to satisfy constraint"));
    iam_dir_create_t badpath = {.name = "carol", .path = "eng", .now_ms = NOW};
    expect_err(iam_dir_entity_create(d, ACCT, IAM_DIR_USER, &badpath, &e, &err), &err,
               "ValidationError", 400, NULL);
    expect_err(iam_dir_entity_find(d, ACCT, IAM_DIR_USER, "nobody", &e, &err), &err, "NoSuchEntity",
               404, "The user with name nobody cannot be found.");
    /* Another account does not see Bob. */
    assert_int_equal(iam_dir_add_account(d, OTHER), 0);
    assert_null(iam_dir_entity_get(d, OTHER, IAM_DIR_USER, "Bob"));
    assert_int_equal(iam_dir_add_account(d, "12"), -1);
    size_t n;
    mk(d, IAM_DIR_USER, "alice", NULL);
    const iam_dir_entity_t *const *all = iam_dir_entity_list(d, ACCT, IAM_DIR_USER, &n);
    assert_int_equal(n, 2);
    assert_string_equal(all[0]->name, "alice"); /* sorted without regard to case */
    assert_int_equal(iam_dir_entity_delete(d, ACCT, IAM_DIR_USER, "ALICE", &err), 0);
    assert_null(iam_dir_entity_get(d, ACCT, IAM_DIR_USER, "alice"));
    iam_dir_free(d);
}

static void test_access_keys(void **state)
{
    (void)state;
    iam_dir_t *d = dir_new(NULL);
    aws_error_t err = {0};
    const iam_dir_akey_t *k1, *k2, *k3;
    iam_dir_key_t view;
    const iam_dir_entity_t *bob = mk(d, IAM_DIR_USER, "bob", NULL);
    assert_int_equal(iam_dir_key_create(d, ACCT, "bob", NOW, &k1, &err), 0);
    assert_int_equal(strlen(k1->id), 20);
    assert_memory_equal(k1->id, "AKIA", 4);
    assert_int_equal(strlen(k1->secret), 40);
    char id1[24];
    snprintf(id1, sizeof(id1), "%s", k1->id);
    assert_int_equal(iam_dir_key_create(d, ACCT, "bob", NOW, &k2, &err), 0);
    expect_err(iam_dir_key_create(d, ACCT, "bob", NOW, &k3, &err), &err, "LimitExceeded", 409,
               "Cannot exceed quota for AccessKeysPerUser: 2");
    assert_int_equal(iam_dir_key_lookup(d, id1, &view), 0);
    assert_string_equal(view.account, ACCT);
    assert_string_equal(view.user_name, "bob");
    assert_string_equal(view.user_arn, bob->arn);
    assert_string_equal(view.user_id, bob->id);
    assert_int_equal(strlen(view.secret), 40);
    assert_true(view.active);
    assert_int_equal(iam_dir_key_lookup(d, "AKIANOTAKEY000000000", &view), -1);
    assert_int_equal(iam_dir_key_update(d, ACCT, "bob", id1, false, &err), 0);
    assert_int_equal(iam_dir_key_lookup(d, id1, &view), 0);
    assert_false(view.active);
    expect_err(iam_dir_entity_delete(d, ACCT, IAM_DIR_USER, "bob", &err), &err, "DeleteConflict",
               409, "Cannot delete entity, must delete access keys first.");
    expect_err(iam_dir_key_delete(d, ACCT, "bob", "AKIAXXXXXXXXXXXXXXXX", &err), &err,
               "NoSuchEntity", 404, "The Access Key with id AKIAXXXXXXXXXXXXXXXX cannot be found.");
    assert_int_equal(iam_dir_key_delete(d, ACCT, "bob", id1, &err), 0);
    assert_int_equal(iam_dir_key_lookup(d, id1, &view), -1);
    iam_dir_free(d);
}

/* ---- groups and the user's policy set -------------------------------------------------- */

static void test_groups_and_policy_set(void **state)
{
    (void)state;
    iam_dir_t *d = dir_new(NULL);
    aws_error_t err = {0};
    iam_policy_ref_t refs[8];
    const iam_policy_ref_t *boundary = (const iam_policy_ref_t *)1;
    mk(d, IAM_DIR_USER, "bob", NULL);
    mk(d, IAM_DIR_GROUP, "devs", "/teams/");
    const iam_dir_policy_t *p = mk_policy(d, "send", ALLOW_SEND);
    assert_int_equal(iam_dir_group_add(d, ACCT, "DEVS", "bob", &err), 0);
    assert_int_equal(iam_dir_group_add(d, ACCT, "devs", "bob", &err), 0); /* again: nothing */
    assert_int_equal(iam_dir_inline_put(d, ACCT, IAM_DIR_USER, "bob", "own", ALLOW_SEND, &err), 0);
    assert_int_equal(iam_dir_inline_put(d, ACCT, IAM_DIR_GROUP, "devs", "g", ALLOW_SEND, &err), 0);
    assert_int_equal(iam_dir_attach(d, ACCT, IAM_DIR_GROUP, "devs", p->arn, &err), 0);
    assert_int_equal(iam_dir_attach(d, ACCT, IAM_DIR_USER, "bob",
                                    "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess", &err),
                     0);
    size_t n = iam_dir_user_policies(d, ACCT, "bob", refs, 8, &boundary);
    assert_int_equal(n, 4);
    assert_null(boundary);
    assert_string_equal(refs[0].label, "arn:aws:iam::111122223333:user/bob inline policy own");
    assert_string_equal(refs[1].label, "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess");
    assert_string_equal(refs[2].label,
                        "arn:aws:iam::111122223333:group/teams/devs inline policy g");
    assert_string_equal(refs[3].label, p->arn);
    for (size_t i = 0; i < n; i++)
        assert_non_null(refs[i].policy);
    /* A short buffer still learns the full count. */
    assert_int_equal(iam_dir_user_policies(d, ACCT, "bob", refs, 1, NULL), 4);
    expect_err(iam_dir_entity_delete(d, ACCT, IAM_DIR_GROUP, "devs", &err), &err, "DeleteConflict",
               409, "Cannot delete entity, must delete policies first.");
    assert_int_equal(iam_dir_inline_delete(d, ACCT, IAM_DIR_GROUP, "devs", "g", &err), 0);
    assert_int_equal(iam_dir_detach(d, ACCT, IAM_DIR_GROUP, "devs", p->arn, &err), 0);
    expect_err(iam_dir_detach(d, ACCT, IAM_DIR_GROUP, "devs", p->arn, &err), &err, "NoSuchEntity",
               404, NULL);
    expect_err(iam_dir_entity_delete(d, ACCT, IAM_DIR_GROUP, "devs", &err), &err, "DeleteConflict",
               409, "Cannot delete entity, must remove users from group first.");
    assert_int_equal(iam_dir_group_remove(d, ACCT, "devs", "bob", &err), 0);
    expect_err(iam_dir_group_remove(d, ACCT, "devs", "bob", &err), &err, "NoSuchEntity", 404, NULL);
    assert_int_equal(iam_dir_entity_delete(d, ACCT, IAM_DIR_GROUP, "devs", &err), 0);
    assert_int_equal(iam_dir_user_policies(d, ACCT, "nobody", refs, 8, &boundary), 0);
    iam_dir_free(d);
}

/* ---- roles ------------------------------------------------------------------------------ */

static void test_roles(void **state)
{
    (void)state;
    iam_dir_t *d = dir_new(NULL);
    aws_error_t err = {0};
    const iam_dir_entity_t *e;
    iam_policy_ref_t refs[4];
    const iam_policy_ref_t *boundary;
    const iam_dir_entity_t *app = mk(d, IAM_DIR_ROLE, "app", "/svc/");
    const iam_dir_role_t *r = iam_dir_role_get(d, ACCT, "APP");
    assert_ptr_equal(&r->e, app);
    assert_ptr_equal(iam_dir_role_get(d, "000000000000", "arn:aws:iam::111122223333:role/svc/app"),
                     r);
    assert_null(iam_dir_role_get(d, ACCT, "arn:aws:iam::111122223333:role/app")); /* wrong path */
    assert_memory_equal(r->e.id, "AROA", 4);
    assert_int_equal(r->max_session, 3600);
    assert_int_equal(iam_policy_kind(r->trust), IAM_POLICY_TRUST);
    assert_string_equal(r->trust_text, TRUST_LAMBDA);
    /* Trust policies are checked as trust policies. */
    iam_dir_create_t in = {.name = "bad", .trust_text = ALLOW_SEND, .now_ms = NOW};
    expect_err(iam_dir_entity_create(d, ACCT, IAM_DIR_ROLE, &in, &e, &err), &err,
               "MalformedPolicyDocument", 400, NULL);
    in = (iam_dir_create_t){.name = "x", .trust_text = TRUST_LAMBDA, .max_session = 100};
    expect_err(iam_dir_entity_create(d, ACCT, IAM_DIR_ROLE, &in, &e, &err), &err, "ValidationError",
               400, NULL);
    assert_non_null(strstr(err.message, "greater than or equal to 3600"));
    assert_int_equal(iam_dir_role_update(d, ACCT, "app", "does things", 7200, &err), 0);
    assert_int_equal(r->max_session, 7200);
    assert_string_equal(r->description, "does things");
    expect_err(iam_dir_role_update(d, ACCT, "app", NULL, 50000, &err), &err, "ValidationError", 400,
               NULL);
    assert_int_equal(iam_dir_role_trust_set(d, ACCT, "app", TRUST_LAMBDA, &err), 0);
    r = iam_dir_role_get(d, ACCT, "app");
    /* Policies, a boundary, and DeleteRole refused while they are there. */
    const char *admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    assert_int_equal(iam_dir_attach(d, ACCT, IAM_DIR_ROLE, "app", admin, &err), 0);
    assert_int_equal(iam_dir_boundary_set(
                         d, ACCT, IAM_DIR_ROLE, "app",
                         "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", &err),
                     0);
    assert_int_equal(iam_dir_role_policies(d, ACCT, r->e.arn, refs, 4, &boundary), 1);
    assert_string_equal(refs[0].label, admin);
    assert_non_null(boundary);
    assert_string_equal(boundary->label,
                        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole");
    expect_err(iam_dir_boundary_set(d, ACCT, IAM_DIR_ROLE, "app",
                                    "arn:aws:iam::111122223333:policy/none", &err),
               &err, "NoSuchEntity", 404, NULL);
    expect_err(iam_dir_entity_delete(d, ACCT, IAM_DIR_ROLE, "app", &err), &err, "DeleteConflict",
               409, "Cannot delete entity, must detach all policies first.");
    assert_int_equal(iam_dir_detach(d, ACCT, IAM_DIR_ROLE, "app", admin, &err), 0);
    assert_int_equal(iam_dir_inline_put(d, ACCT, IAM_DIR_ROLE, "app", "i", ALLOW_SEND, &err), 0);
    expect_err(iam_dir_entity_delete(d, ACCT, IAM_DIR_ROLE, "app", &err), &err, "DeleteConflict",
               409, "Cannot delete entity, must delete policies first.");
    assert_int_equal(iam_dir_inline_delete(d, ACCT, IAM_DIR_ROLE, "app", "i", &err), 0);
    assert_int_equal(iam_dir_entity_delete(d, ACCT, IAM_DIR_ROLE, "app", &err), 0);
    assert_null(iam_dir_role_get(d, ACCT, "app"));
    iam_dir_free(d);
}

/* ---- quotas, documents, tags ------------------------------------------------------------- */

/* A valid identity policy of about `size` characters (a long Sid). */
static char *policy_of_size(size_t size)
{
    char *s = malloc(size + 200);
    int n = snprintf(s, size + 200, "{\"Version\":\"2012-10-17\",\"Statement\":{\"Sid\":\"");
    while ((size_t)n < size)
        s[n++] = 'A';
    snprintf(s + n, 200, "\",\"Effect\":\"Allow\",\"Action\":\"sqs:*\",\"Resource\":\"*\"}}");
    return s;
}

static void test_inline_quotas_and_documents(void **state)
{
    (void)state;
    iam_dir_t *d = dir_new(NULL);
    aws_error_t err = {0};
    const iam_dir_inline_t *p;
    mk(d, IAM_DIR_USER, "bob", NULL);
    mk(d, IAM_DIR_ROLE, "app", NULL);
    char *big = policy_of_size(1500);
    assert_int_equal(iam_dir_inline_put(d, ACCT, IAM_DIR_USER, "bob", "a", big, &err), 0);
    /* The quota is for all of a user's inline policies together. */
    expect_err(iam_dir_inline_put(d, ACCT, IAM_DIR_USER, "bob", "b", big, &err), &err,
               "LimitExceeded", 409, "Maximum policy size of 2048 bytes exceeded for user bob");
    /* Replacing a policy counts only the new text. */
    assert_int_equal(iam_dir_inline_put(d, ACCT, IAM_DIR_USER, "bob", "A", big, &err), 0);
    assert_int_equal(iam_dir_inline_put(d, ACCT, IAM_DIR_ROLE, "app", "a", big, &err), 0);
    assert_int_equal(iam_dir_inline_put(d, ACCT, IAM_DIR_ROLE, "app", "b", big, &err), 0);
    free(big);
    expect_err(iam_dir_inline_put(d, ACCT, IAM_DIR_USER, "bob", "c", "{nope", &err), &err,
               "MalformedPolicyDocument", 400, "Syntax errors in policy.");
    expect_err(iam_dir_inline_put(d, ACCT, IAM_DIR_USER, "bob", "c",
                                  "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                                  "\"Action\":\"sqs:*\"}}",
                                  &err),
               &err, "MalformedPolicyDocument", 400, "Policy statement must contain resources.");
    expect_err(iam_dir_inline_get(d, ACCT, IAM_DIR_USER, "bob", "zzz", &p, &err), &err,
               "NoSuchEntity", 404, "The user policy with name zzz cannot be found.");
    assert_int_equal(iam_dir_inline_get(d, ACCT, IAM_DIR_USER, "bob", "a", &p, &err), 0);
    assert_string_equal(p->name, "A"); /* the replaced one kept its new name */
    iam_dir_free(d);
}

static void test_tags(void **state)
{
    (void)state;
    iam_dir_t *d = dir_new(NULL);
    aws_error_t err = {0};
    const iam_dir_tag_t *tags;
    mk(d, IAM_DIR_USER, "bob", NULL);
    iam_dir_tag_t t[] = {{"team", "a"}, {"env", "dev"}};
    assert_int_equal(iam_dir_entity_tag(d, ACCT, IAM_DIR_USER, "bob", t, 2, &err), 0);
    iam_dir_tag_t t2[] = {{"TEAM", "b"}};
    assert_int_equal(iam_dir_entity_tag(d, ACCT, IAM_DIR_USER, "bob", t2, 1, &err), 0);
    assert_int_equal(iam_dir_user_tags(d, ACCT, "bob", &tags), 2);
    assert_string_equal(tags[0].key, "TEAM");
    assert_string_equal(tags[0].value, "b");
    iam_dir_tag_t dup[] = {{"k", "1"}, {"K", "2"}};
    expect_err(iam_dir_entity_tag(d, ACCT, IAM_DIR_USER, "bob", dup, 2, &err), &err, "InvalidInput",
               400, "Duplicate tag keys found. Please note that Tag keys are case insensitive.");
    const char *keys[] = {"env"};
    assert_int_equal(iam_dir_entity_untag(d, ACCT, IAM_DIR_USER, "bob", keys, 1, &err), 0);
    assert_int_equal(iam_dir_user_tags(d, ACCT, "bob", &tags), 1);
    iam_dir_tag_t many[51];
    char names[51][8];
    for (int i = 0; i < 51; i++) {
        snprintf(names[i], sizeof(names[i]), "k%d", i);
        many[i] = (iam_dir_tag_t){names[i], "v"};
    }
    expect_err(iam_dir_entity_tag(d, ACCT, IAM_DIR_USER, "bob", many, 50, &err), &err,
               "LimitExceeded", 409, "Cannot exceed quota for TagsPerUser: 50");
    assert_int_equal(iam_dir_user_tags(d, ACCT, "nobody", &tags), 0);
    assert_null(tags);
    iam_dir_free(d);
}

/* ---- managed policies ---------------------------------------------------------------------- */

static void test_managed_policies(void **state)
{
    (void)state;
    iam_dir_t *d = dir_new(NULL);
    aws_error_t err = {0};
    const iam_dir_version_t *v;
    const iam_dir_policy_t *found;
    const iam_dir_policy_t *p = mk_policy(d, "send", ALLOW_SEND);
    assert_string_equal(p->arn, "arn:aws:iam::111122223333:policy/send");
    assert_memory_equal(p->id, "ANPA", 4);
    assert_string_equal(p->versions[p->def].id, "v1");
    iam_dir_policy_create_t dup = {.name = "SEND", .text = ALLOW_SEND};
    expect_err(iam_dir_policy_create(d, ACCT, &dup, &found, &err), &err, "EntityAlreadyExists", 409,
               "A policy called SEND already exists. Duplicate names are not allowed.");
    for (int i = 2; i <= 5; i++)
        assert_int_equal(iam_dir_version_create(d, ACCT, p->arn, ALLOW_SEND, i == 3, NOW, &v, &err),
                         0);
    assert_string_equal(v->id, "v5");
    assert_string_equal(p->versions[p->def].id, "v3");
    expect_err(iam_dir_version_create(d, ACCT, p->arn, ALLOW_SEND, false, NOW, &v, &err), &err,
               "LimitExceeded", 409,
               "A managed policy can have up to 5 versions. Before you create a new version, you "
               "must delete an existing version.");
    expect_err(iam_dir_version_delete(d, ACCT, p->arn, "v3", &err), &err, "DeleteConflict", 409,
               "Cannot delete the default version of a policy.");
    assert_int_equal(iam_dir_version_delete(d, ACCT, p->arn, "v2", &err), 0);
    assert_int_equal(iam_dir_version_create(d, ACCT, p->arn, ALLOW_SEND, false, NOW, &v, &err), 0);
    assert_string_equal(v->id, "v6"); /* numbers are never reused */
    assert_int_equal(iam_dir_version_set_default(d, ACCT, p->arn, "v6", NOW + 1, &err), 0);
    assert_ptr_equal(p->ref.policy, p->versions[p->n_versions - 1].policy);
    expect_err(iam_dir_version_get(d, ACCT, p->arn, "v2", &v, &err), &err, "NoSuchEntity", 404,
               NULL);
    expect_err(iam_dir_policy_delete(d, ACCT, p->arn, &err), &err, "DeleteConflict", 409, NULL);
    assert_non_null(strstr(err.message, "more than one version"));
    static const char *const old[] = {"v1", "v3", "v4", "v5"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(iam_dir_version_delete(d, ACCT, p->arn, old[i], &err), 0);
    assert_int_equal(iam_dir_policy_delete(d, ACCT, p->arn, &err), 0);
    iam_dir_free(d);
}

static void test_aws_managed(void **state)
{
    (void)state;
    static const char *const names[] = {
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/AmazonSQSFullAccess",
        "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
        "arn:aws:iam::aws:policy/AWSLambda_FullAccess",
        "arn:aws:iam::aws:policy/IAMFullAccess",
    };
    iam_dir_t *d = dir_new(NULL);
    aws_error_t err = {0};
    const iam_dir_policy_t *p;
    size_t n;
    iam_dir_policy_list_aws(d, &n);
    assert_int_equal(n, 8);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(iam_dir_policy_find(d, ACCT, names[i], &p, &err), 0);
        assert_string_equal(p->arn, names[i]);
        assert_non_null(p->ref.policy);
        assert_true(iam_policy_statement_count(p->ref.policy) >= 1);
    }
    expect_err(iam_dir_policy_delete(d, ACCT, names[0], &err), &err, "UnmodifiableEntity", 400,
               NULL);
    expect_err(iam_dir_policy_find(d, ACCT, "arn:aws:iam::aws:policy/NoSuch", &p, &err), &err,
               "NoSuchEntity", 404, "Policy arn:aws:iam::aws:policy/NoSuch was not found.");
    expect_err(iam_dir_policy_find(d, ACCT, "not-an-arn", &p, &err), &err, "InvalidInput", 400,
               "ARN not-an-arn is not valid.");
    mk(d, IAM_DIR_USER, "bob", NULL);
    assert_int_equal(iam_dir_attach(d, ACCT, IAM_DIR_USER, "bob", names[1], &err), 0);
    assert_int_equal(iam_dir_policy_attachments(d, ACCT, names[1]), 1);
    /* Attachments are per account. */
    assert_int_equal(iam_dir_add_account(d, OTHER), 0);
    assert_int_equal(iam_dir_policy_attachments(d, OTHER, names[1]), 0);
    iam_dir_free(d);
}

static void test_policy_delete_rules(void **state)
{
    (void)state;
    iam_dir_t *d = dir_new(NULL);
    aws_error_t err = {0};
    const iam_dir_policy_t *p = mk_policy(d, "send", ALLOW_SEND);
    char arn[128];
    snprintf(arn, sizeof(arn), "%s", p->arn);
    mk(d, IAM_DIR_USER, "bob", NULL);
    for (int i = 0; i < 10; i++) {
        char name[16];
        snprintf(name, sizeof(name), "p%d", i);
        const iam_dir_policy_t *q = mk_policy(d, name, ALLOW_SEND);
        assert_int_equal(iam_dir_attach(d, ACCT, IAM_DIR_USER, "bob", q->arn, &err), 0);
    }
    expect_err(iam_dir_attach(d, ACCT, IAM_DIR_USER, "bob", arn, &err), &err, "LimitExceeded", 409,
               "Cannot exceed quota for PoliciesPerUser: 10");
    expect_err(
        iam_dir_attach(d, ACCT, IAM_DIR_USER, "bob", "arn:aws:iam::111122223333:policy/x", &err),
        &err, "NoSuchEntity", 404,
        "Policy arn:aws:iam::111122223333:policy/x does not exist or is not attachable.");
    assert_int_equal(iam_dir_boundary_set(d, ACCT, IAM_DIR_USER, "bob", arn, &err), 0);
    assert_int_equal(iam_dir_policy_boundary_uses(d, ACCT, arn), 1);
    expect_err(iam_dir_policy_delete(d, ACCT, arn, &err), &err, "DeleteConflict", 409,
               "Cannot delete a policy attached to entities.");
    assert_int_equal(iam_dir_boundary_set(d, ACCT, IAM_DIR_USER, "bob", NULL, &err), 0);
    assert_int_equal(iam_dir_policy_delete(d, ACCT, arn, &err), 0);
    expect_err(iam_dir_policy_delete(d, ACCT, arn, &err), &err, "NoSuchEntity", 404, NULL);
    iam_dir_free(d);
}

/* ---- generation, journal and restore -------------------------------------------------------- */

static void test_generation(void **state)
{
    (void)state;
    iam_dir_t *d = dir_new(NULL);
    aws_error_t err = {0};
    uint64_t g0 = iam_dir_generation(d);
    mk(d, IAM_DIR_USER, "bob", NULL);
    uint64_t g1 = iam_dir_generation(d);
    assert_true(g1 != g0);
    /* A failed change changes nothing. */
    expect_err(iam_dir_inline_put(d, ACCT, IAM_DIR_USER, "bob", "x", "{", &err), &err,
               "MalformedPolicyDocument", 400, NULL);
    assert_true(iam_dir_generation(d) == g1);
    assert_int_equal(iam_dir_inline_put(d, ACCT, IAM_DIR_USER, "bob", "x", ALLOW_SEND, &err), 0);
    assert_true(iam_dir_generation(d) != g1);
    iam_dir_free(d);
}

static void test_restore_round_trip(void **state)
{
    (void)state;
    kv_t kv = {0};
    iam_dir_t *d = dir_new(&kv);
    aws_error_t err = {0};
    const iam_dir_akey_t *k;
    const iam_dir_version_t *v;
    iam_dir_key_t a, b;
    iam_policy_ref_t r1[8], r2[8];
    const iam_policy_ref_t *b1, *b2;
    /* Text with every character the record format escapes. */
    const char *odd = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Condition\":{\"StringEquals\":"
                      "{\"aws:username\":\"tab\\tnl\\nbs\\\\\"}},"
                      "\"Effect\":\"Allow\",\n\t\"Action\":\"sqs:*\",\r\n\"Resource\":\"*\"}}";
    mk(d, IAM_DIR_USER, "bob", "/eng/");
    mk(d, IAM_DIR_GROUP, "devs", NULL);
    mk(d, IAM_DIR_ROLE, "app", NULL);
    const iam_dir_policy_t *p = mk_policy(d, "send", ALLOW_SEND);
    assert_int_equal(iam_dir_version_create(d, ACCT, p->arn, odd, true, NOW, &v, &err), 0);
    assert_int_equal(iam_dir_key_create(d, ACCT, "bob", NOW, &k, &err), 0);
    char key_id[24];
    snprintf(key_id, sizeof(key_id), "%s", k->id);
    assert_int_equal(iam_dir_group_add(d, ACCT, "devs", "bob", &err), 0);
    assert_int_equal(iam_dir_inline_put(d, ACCT, IAM_DIR_USER, "bob", "odd", odd, &err), 0);
    assert_int_equal(iam_dir_attach(d, ACCT, IAM_DIR_GROUP, "devs", p->arn, &err), 0);
    assert_int_equal(iam_dir_boundary_set(d, ACCT, IAM_DIR_USER, "bob", p->arn, &err), 0);
    iam_dir_tag_t t[] = {{"team", "a\\b"}};
    assert_int_equal(iam_dir_entity_tag(d, ACCT, IAM_DIR_ROLE, "app", t, 1, &err), 0);
    assert_int_equal(iam_dir_role_update(d, ACCT, "app", "line\nbreak", 7200, &err), 0);
    mk(d, IAM_DIR_USER, "gone", NULL);
    assert_int_equal(iam_dir_entity_delete(d, ACCT, IAM_DIR_USER, "gone", &err), 0);
    assert_int_equal(kv.n, 4); /* bob, devs, app, send */
    assert_true(kv.deletes == 1);

    iam_dir_t *r = dir_restored(&kv);
    assert_int_equal(iam_dir_key_lookup(d, key_id, &a), 0);
    assert_int_equal(iam_dir_key_lookup(r, key_id, &b), 0);
    assert_string_equal(a.user_arn, b.user_arn);
    assert_string_equal(a.user_id, b.user_id);
    assert_string_equal(a.secret, b.secret);
    size_t n1 = iam_dir_user_policies(d, ACCT, "bob", r1, 8, &b1);
    size_t n2 = iam_dir_user_policies(r, ACCT, "bob", r2, 8, &b2);
    assert_int_equal(n1, n2);
    assert_int_equal(n1, 2);
    for (size_t i = 0; i < n1; i++)
        assert_string_equal(r1[i].label, r2[i].label);
    assert_string_equal(b2->label, p->arn);
    const iam_dir_inline_t *in;
    assert_int_equal(iam_dir_inline_get(r, ACCT, IAM_DIR_USER, "bob", "odd", &in, &err), 0);
    assert_string_equal(in->text, odd);
    const iam_dir_role_t *role = iam_dir_role_get(r, ACCT, "app");
    assert_int_equal(role->max_session, 7200);
    assert_string_equal(role->description, "line\nbreak");
    assert_string_equal(role->e.tags[0].value, "a\\b");
    assert_string_equal(role->e.id, iam_dir_role_get(d, ACCT, "app")->e.id);
    const iam_dir_policy_t *rp;
    assert_int_equal(iam_dir_policy_find(r, ACCT, p->arn, &rp, &err), 0);
    assert_int_equal(rp->n_versions, 2);
    assert_string_equal(rp->versions[rp->def].id, "v2");
    assert_string_equal(rp->versions[rp->def].text, odd);
    /* The next version continues the numbering. */
    assert_int_equal(iam_dir_version_create(r, ACCT, p->arn, ALLOW_SEND, false, NOW, &v, &err), 0);
    assert_string_equal(v->id, "v3");
    assert_null(iam_dir_entity_get(r, ACCT, IAM_DIR_USER, "gone"));
    /* Restoring the same record twice is refused: names are unique. */
    record_t *bob = kv_find(&kv, "iam-user", ACCT "/bob");
    assert_int_equal(iam_dir_restore(r, bob->kind, bob->key, bob->blob, bob->len), -1);
    iam_dir_free(r);
    iam_dir_free(d);
    kv_free(&kv);
}

static void test_restore_refuses_damage(void **state)
{
    (void)state;
    static const struct {
        const char *kind, *key, *blob;
    } bad[] = {
        {"iam-user", ACCT "/bob", "name\tbob\npath\t/\nid\tAIDA1\ncreated\t1\n"}, /* short id */
        {"iam-user", ACCT "/bob", "name\tbo b\npath\t/\nid\tAIDAAAAAAAAAAAAAAAAAA\ncreated\t1\n"},
        {"iam-user", ACCT "/bob", "name\tbob\npath\t/\nid\tAIDAAAAAAAAAAAAAAAAAA\ncreated\t-1\n"},
        {"iam-user", ACCT "/alice", "name\tbob\npath\t/\nid\tAIDAAAAAAAAAAAAAAAAAA\ncreated\t1\n"},
        {"iam-user", ACCT "/bob",
         "name\tbob\npath\t/\nid\tAIDAAAAAAAAAAAAAAAAAA\ncreated\t1\ninline\tp\t{nope\n"},
        {"iam-user", ACCT "/bob", "name\tbob\npath\t/\nid\tAIDAAAAAAAAAAAAAAAAAA\nname\tbob\n"},
        {"iam-user", ACCT "/bob", "name\tbob\\q\npath\t/\nid\tAIDAAAAAAAAAAAAAAAAAA\n"},
        {"iam-role", ACCT "/app", "name\tapp\npath\t/\nid\tAROAAAAAAAAAAAAAAAAAA\ncreated\t1\n"},
        {"iam-group", ACCT "/g", "name\tg\npath\t/\nid\tAGPAAAAAAAAAAAAAAAAAA\nkey\ta\tb\tc\td\n"},
        {"iam-policy", ACCT "/p", "name\tp\npath\t/\nid\tANPAAAAAAAAAAAAAAAAAA\nnext\t2\n"},
        {"iam-policy", ACCT "/p",
         "name\tp\npath\t/\nid\tANPAAAAAAAAAAAAAAAAAA\nnext\t2\nversion\tv1\t1\t" ALLOW_SEND
         "\ndefault\tv9\n"},
        {"iam-policy", ACCT "/p",
         "name\tp\npath\t/\nid\tANPAAAAAAAAAAAAAAAAAA\nnext\t2\nversion\tv3\t1\t" ALLOW_SEND
         "\ndefault\tv3\n"},
        {"iam-thing", ACCT "/x", "name\tx\n"},
        {"iam-user", "12/bob", "name\tbob\n"},
    };
    iam_dir_t *d = iam_dir_new(NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (iam_dir_restore(d, bad[i].kind, bad[i].key, bad[i].blob, strlen(bad[i].blob)) != -1)
            fail_msg("restored bad record %zu", i);
    size_t n;
    iam_dir_entity_list(d, ACCT, IAM_DIR_USER, &n);
    assert_int_equal(n, 0);
    /* A good one, with an unknown line a later version might write. */
    const char *good = "name\tbob\npath\t/\nid\tAIDAAAAAAAAAAAAAAAAAA\ncreated\t1\nfuture\tx\n";
    assert_int_equal(iam_dir_restore(d, "iam-user", ACCT "/bob", good, strlen(good)), 0);
    assert_non_null(iam_dir_entity_get(d, ACCT, IAM_DIR_USER, "bob"));
    iam_dir_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_users),
        cmocka_unit_test(test_access_keys),
        cmocka_unit_test(test_groups_and_policy_set),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_inline_quotas_and_documents),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_managed_policies),
        cmocka_unit_test(test_aws_managed),
        cmocka_unit_test(test_policy_delete_rules),
        cmocka_unit_test(test_generation),
        cmocka_unit_test(test_restore_round_trip),
        cmocka_unit_test(test_restore_refuses_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
