/*
 * policy — IAM policy documents: parse and validate once, evaluate fast.
 *
 * iam_policy_parse reads a policy document (JSON text) of one kind, checks it
 * the way IAM does (MalformedPolicyDocument messages, in IAM's order) and
 * compiles it: actions lower-cased and split at the vendor, patterns and
 * policy variables taken apart, condition values parsed for their operator.
 * iam_eval then decides a request against the caller's identity policies, the
 * resource's policy, a permissions boundary and session policies, following
 * AWS's "Policy evaluation logic" (same account and cross-account), and says
 * which statement of which policy decided; iam_verdict_message words a denial
 * the way AWS's AccessDenied messages do.
 *
 * Pure: no I/O, no libuv, no store. Evaluation allocates nothing. Who the
 * caller is, which policies apply and which context keys a request carries is
 * the caller's business (the gateway and the IAM/STS APIs).
 */
#ifndef NAGARE_IAM_POLICY_H
#define NAGARE_IAM_POLICY_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* Size quotas in characters, white space not counted (iam_policy_size). Which
 * one applies is the caller's business. */
#define IAM_POLICY_MAX_USER_INLINE  2048
#define IAM_POLICY_MAX_GROUP_INLINE 5120
#define IAM_POLICY_MAX_ROLE_INLINE  10240
#define IAM_POLICY_MAX_MANAGED      6144
#define IAM_POLICY_MAX_TRUST        2048 /* a role's AssumeRolePolicyDocument (default quota) */
#define IAM_POLICY_MAX_SESSION      2048 /* AssumeRole's Policy parameter (plain text) */

typedef enum iam_policy_kind {
    IAM_POLICY_IDENTITY, /* attached to a user, group or role: no Principal, needs Resource */
    IAM_POLICY_RESOURCE, /* on a resource (queue, function): needs Principal */
    IAM_POLICY_TRUST,   /* a role's AssumeRolePolicyDocument: Principal, sts actions, no Resource */
    IAM_POLICY_SESSION, /* passed to AssumeRole: like an identity policy */
    IAM_POLICY_BOUNDARY, /* a permissions boundary: like an identity policy */
} iam_policy_kind_t;

typedef struct iam_policy iam_policy_t;

typedef struct iam_policy_error {
    char message[512]; /* AWS's MalformedPolicyDocument text */
} iam_policy_error_t;

/* Parses, validates and compiles text[0..len) as a policy of the given kind.
 * Returns 0 and a new policy in *out (free with iam_policy_free), or -1 with
 * err->message set to IAM's message ("Syntax errors in policy.", "Policy
 * statement must contain resources.", ...) and *out untouched. Does not check
 * the size quota (see iam_policy_size). */
int iam_policy_parse(const char *text, size_t len, iam_policy_kind_t kind, iam_policy_t **out,
                     iam_policy_error_t *err);
void iam_policy_free(iam_policy_t *p);
iam_policy_kind_t iam_policy_kind(const iam_policy_t *p);
size_t iam_policy_statement_count(const iam_policy_t *p);
/* The Sid of statement i, or NULL when it has none (or i is out of range). */
const char *iam_policy_statement_sid(const iam_policy_t *p, size_t i);
/* The size IAM counts against its quotas: characters (UTF-8 code points)
 * other than white space. */
size_t iam_policy_size(const char *text, size_t len);

/* ---- requests --------------------------------------------------------------------------- */

typedef enum iam_caller_kind {
    IAM_CALLER_ROOT,    /* arn:aws:iam::ACCOUNT:root */
    IAM_CALLER_USER,    /* arn:aws:iam::ACCOUNT:user/path/name */
    IAM_CALLER_SESSION, /* arn:aws:sts::ACCOUNT:assumed-role/role/session */
    IAM_CALLER_SERVICE, /* a service principal such as lambda.amazonaws.com */
} iam_caller_kind_t;

typedef struct iam_caller {
    iam_caller_kind_t kind;
    const char *arn;      /* the caller's ARN; for a service, its name */
    const char *account;  /* 12 digits; "" or NULL for a service */
    const char *role_arn; /* sessions: the role's ARN, arn:aws:iam::ACCOUNT:role/path/name */
} iam_caller_t;

/* A request context key and its values. A single-valued key has one value;
 * a multivalued key (aws:TagKeys) any number, and is never a policy variable. */
typedef struct iam_context_key {
    const char *key; /* any case: keys are case-insensitive */
    const char *const *values;
    size_t n_values;
    bool multi;
} iam_context_key_t;

typedef struct iam_policy_ref {
    const iam_policy_t *policy;
    const char *label; /* how the verdict names it: an ARN, "inline:user/NAME/POLICY", ... */
} iam_policy_ref_t;

/* Everything iam_eval reads; nothing is copied or kept. BinaryEquals reads a
 * context value as base64, the way policies write binary values. */
typedef struct iam_request {
    const char *action;           /* "sqs:SendMessage" (any case) */
    const char *resource;         /* the resource's ARN, or "*" for actions on none */
    const char *resource_account; /* who owns the resource; NULL or "" = the caller's account */
    iam_caller_t caller;
    const iam_context_key_t *context;
    size_t n_context;
    const iam_policy_ref_t *identity; /* the caller's identity-based policies */
    size_t n_identity;
    const iam_policy_ref_t *resource_policy; /* NULL: none (a trust policy for sts:AssumeRole) */
    const iam_policy_ref_t *boundary;        /* NULL: no permissions boundary */
    const iam_policy_ref_t *session;         /* session policies; none when n_session is 0 */
    size_t n_session;
} iam_request_t;

typedef enum iam_effect { IAM_ALLOW, IAM_EXPLICIT_DENY, IAM_IMPLICIT_DENY } iam_effect_t;

typedef enum iam_layer {
    IAM_LAYER_ROOT,     /* the account root in its own account */
    IAM_LAYER_IDENTITY, /* identity-based policies */
    IAM_LAYER_RESOURCE, /* the resource-based policy (or role trust policy) */
    IAM_LAYER_BOUNDARY, /* the permissions boundary */
    IAM_LAYER_SESSION,  /* session policies */
} iam_layer_t;

/* What iam_eval decided and why.
 * - ALLOW: `layer` and `policy`/`statement` name the statement that granted:
 *   the identity-based one, or the resource policy's when it named the caller
 *   (or its role) directly, and always for cross-account requests and service
 *   principals; for the root in its own account, layer ROOT and no policy.
 *   Layers that only had to agree (boundary, session policies) are not named.
 * - EXPLICIT_DENY: the first Deny statement that applied.
 * - IMPLICIT_DENY: `layer` is the layer that allowed nothing; `policy` is NULL. */
typedef struct iam_verdict {
    iam_effect_t effect;
    iam_layer_t layer;
    const iam_policy_ref_t *policy; /* points into the request's policy refs */
    size_t statement;               /* index in the policy's Statement list */
    const char *sid;                /* that statement's Sid, or NULL */
} iam_verdict_t;

/* Decides req. Never fails; allocates nothing. The verdict points into req and
 * its policies, which must outlive its use. */
void iam_eval(const iam_request_t *req, iam_verdict_t *v);

/* Appends AWS's AccessDenied message for a denial to out, e.g. "User:
 * arn:aws:iam::123456789012:user/Bob is not authorized to perform:
 * sqs:SendMessage on resource: arn:aws:sqs:us-east-1:123456789012:q because no
 * identity-based policy allows the sqs:SendMessage action". 0, or -1 when out
 * is full or the verdict is an ALLOW. */
int iam_verdict_message(const iam_request_t *req, const iam_verdict_t *v, buf_t *out);

/* "identity-based policy", "resource-based policy", "permissions boundary",
 * "session policy", "account root". */
const char *iam_layer_name(iam_layer_t layer);

#endif
