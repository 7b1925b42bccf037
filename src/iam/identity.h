/*
 * identity — who holds which access key.
 *
 * Three kinds of callers, as in AWS: the root of an account (`test`/`test` for
 * 000000000000 unless --root-key says otherwise; --account-key adds others),
 * IAM users (their `AKIA…` keys live in the IAM directory, reached through a
 * lookup hook so this file does not depend on it), and STS sessions (`ASIA…`
 * keys whose token carries the session, see session.h). Decoded session tokens
 * are cached by key id, with their session policy compiled, so a session's
 * requests cost one string comparison after the first. Pure: no HTTP or libuv.
 */
#ifndef NAGARE_IAM_IDENTITY_H
#define NAGARE_IAM_IDENTITY_H

#include "aws/error.h"
#include "iam/policy.h"
#include "iam/session.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum iam_principal_kind {
    IAM_PRINCIPAL_ROOT,
    IAM_PRINCIPAL_USER,
    IAM_PRINCIPAL_SESSION,
} iam_principal_kind_t;

/* A decoded session, as the identity cache keeps it. */
typedef struct iam_session_entry {
    iam_session_t s;
    char secret[41];
    char *token;          /* the token it was opened from */
    iam_policy_t *policy; /* the compiled session policy, or NULL */
    char role_name[128];
} iam_session_entry_t;

/* The caller of a request, as authentication established it. */
typedef struct iam_principal {
    iam_principal_kind_t kind;
    char account[16]; /* 12-digit account id */
    char arn[256]; /* arn:aws:iam::<account>:root, ...:user/x, arn:aws:sts::...:assumed-role/r/s */
    char user_id[128]; /* the SenderId / UserId AWS reports: the account id for root */
    char access_key[129];
    char name[128];     /* the user's name; a session's role name */
    char role_arn[256]; /* sessions: the role's ARN */
    /* sessions: the decoded token, owned by the identity store and valid until
     * the next lookup (authorization reads it synchronously) */
    const iam_session_entry_t *session;
} iam_principal_t;

/* What the IAM directory says about an `AKIA…` key (iam_identity_users_fn). */
typedef struct iam_user_key {
    const char *account, *user_name, *user_arn, *user_id, *secret;
    bool active;
} iam_user_key_t;

/* Looks up a user's access key: 0 with *out filled (strings valid until the
 * directory changes), -1 when unknown. */
typedef int (*iam_identity_users_fn)(void *ud, const char *access_key, iam_user_key_t *out);

typedef struct iam_identity iam_identity_t;

/* An empty identity store; free with iam_identity_free. */
iam_identity_t *iam_identity_new(void);
void iam_identity_free(iam_identity_t *ids);
/* Makes key/secret the root credentials of account (copied). 0, or -1 when the
 * account id is not 12 digits, the key is empty or already taken. */
int iam_identity_add_root(iam_identity_t *ids, const char *account, const char *key,
                          const char *secret);
/* The accounts that have a root, in the order added (n set to their count). */
const char *iam_identity_account(const iam_identity_t *ids, size_t i);
size_t iam_identity_accounts(const iam_identity_t *ids);
/* Where users' keys are looked up (NULL: no users). */
void iam_identity_set_users(iam_identity_t *ids, iam_identity_users_fn fn, void *ud);
/* The key session tokens are signed with (copied; the server keeps it in its store). */
void iam_identity_set_token_key(iam_identity_t *ids, const uint8_t key[IAM_SESSION_KEY_BYTES]);
const uint8_t *iam_identity_token_key(const iam_identity_t *ids);

/* The principal of role_arn's session `session` in account, as a service
 * acting with the role's credentials (Lambda for a function) calls: the
 * assumed-role ARN, session policies none. */
void iam_principal_role_session(iam_principal_t *p, const char *account, const char *role_arn,
                                const char *session);

/* Authenticates an access key (and session token, token_len bytes, for `ASIA…`
 * keys) at now_ms: fills *p and returns the secret to verify the signature
 * with (owned by ids), or NULL with err set: InvalidClientTokenId (unknown or
 * inactive key, a token that is not ours), ExpiredToken (a session past its
 * expiry). */
const char *iam_identity_lookup(iam_identity_t *ids, const char *key, const char *token,
                                size_t token_len, uint64_t now_ms, iam_principal_t *p,
                                aws_error_t *err);

#endif
