/*
 * authz — the authorization decision every action goes through.
 *
 * The gateway (and STS, for a role's trust policy) asks iam_authorize whether
 * a principal may perform an IAM action on a resource. The answer comes from
 * the policy engine (policy.h) over everything that applies: the caller's
 * identity-based policies and permissions boundary (from the IAM directory,
 * through a policy source), its session policies (from the session token), and
 * the resource's policy (an SQS queue's Policy, compiled once per text and
 * cached), with the request context keys AWS documents (aws:PrincipalArn,
 * aws:SourceIp, aws:RequestTag/..., ...). A denial comes with AWS's
 * AccessDenied message. Every decision is recorded, with the statement that
 * decided, in a bounded in-memory log that `nagare iam explain` reads.
 */
#ifndef NAGARE_IAM_AUTHZ_H
#define NAGARE_IAM_AUTHZ_H

#include "base/buf.h"
#include "iam/identity.h"
#include "iam/policy.h"

#include <stdbool.h>
#include <stdint.h>

#define IAM_IDENTITY_POLICIES_MAX 64 /* per principal: inline, attached, groups' */
#define IAM_DECISION_LOG_MAX      1024

/* Where identity-based policies come from (the IAM directory). Any callback may
 * be NULL (no policies). Results point into the source and stay valid until it
 * changes; authorization reads them synchronously. */
typedef struct iam_policy_source {
    void *ud;
    /* A user's (by name) or role's (by ARN) policies into out (cap entries); the
     * permissions boundary into *boundary (NULL: none). Returns the count. */
    size_t (*user_policies)(void *ud, const char *account, const char *user, iam_policy_ref_t *out,
                            size_t cap, const iam_policy_ref_t **boundary);
    size_t (*role_policies)(void *ud, const char *account, const char *role_arn,
                            iam_policy_ref_t *out, size_t cap, const iam_policy_ref_t **boundary);
    /* The tags of a user or role (aws:PrincipalTag/...): their count, the
     * arrays through keys/values. */
    size_t (*principal_tags)(void *ud, const iam_principal_t *p, const char *const **keys,
                             const char *const **values);
    /* A managed policy by ARN (session PolicyArns), or NULL. */
    const iam_policy_t *(*managed)(void *ud, const char *arn);
} iam_policy_source_t;

/* A tag of the request (aws:RequestTag/, aws:TagKeys) or the resource
 * (aws:ResourceTag/). */
typedef struct iam_tag {
    const char *key, *value;
} iam_tag_t;

typedef struct iam_authz_in {
    const iam_principal_t *who;
    const char *action;   /* "sqs:SendMessage" */
    const char *resource; /* an ARN, or "*" */
    const char *region;   /* aws:RequestedRegion */
    const char *source_ip;
    uint64_t now_ms;
    const char *resource_policy; /* the resource's policy document, NULL = none */
    /* ...or one already compiled (a role's trust policy for sts:AssumeRole) */
    const iam_policy_t *resource_policy_compiled;
    const iam_tag_t *request_tags;
    size_t n_request_tags;
    const iam_tag_t *resource_tags;
    size_t n_resource_tags;
    /* A service acting on a user's behalf (an event source mapping's poller,
     * a destination): aws:SourceArn and aws:SourceAccount. NULL = none. */
    const char *source_arn, *source_account;
} iam_authz_in_t;

typedef struct iam_decision {
    bool allowed;
    char reason[384]; /* which policy and statement decided, or what allowed nothing */
} iam_decision_t;

/* One recorded decision. */
typedef struct iam_decision_record {
    uint64_t at_ms;
    bool allowed;
    char principal[256];
    char action[96];
    char resource[512];
    char reason[384];
} iam_decision_record_t;

typedef struct iam_authz iam_authz_t;

iam_authz_t *iam_authz_new(void);
void iam_authz_free(iam_authz_t *az);
/* Where user and role policies come from (copied; NULL = none). */
void iam_authz_set_source(iam_authz_t *az, const iam_policy_source_t *src);
/* Decides in; on a denial appends AWS's AccessDenied message to message (may be
 * NULL). Records the decision. Never fails. */
void iam_authorize(iam_authz_t *az, const iam_authz_in_t *in, iam_decision_t *d, buf_t *message);
/* The recorded decisions: how many are held, and the i-th newest (0 = latest). */
size_t iam_authz_log_count(const iam_authz_t *az);
const iam_decision_record_t *iam_authz_log_get(const iam_authz_t *az, size_t i);

#endif
