/*
 * directory — IAM's directory: who exists in each account and which policies
 * they hold.
 *
 * Per account: users (with their access keys, group memberships, tags and
 * permissions boundary), groups, roles (with their trust policy), customer
 * managed policies (with up to 5 versions) and the inline and attached
 * policies of users, groups and roles; plus the AWS managed policies every
 * account shares (managed.c). Every policy document is parsed with
 * iam_policy_parse when it is written and kept compiled beside its text, so
 * what the gateway evaluates is always what the API accepted.
 *
 * Errors are IAM's: NoSuchEntity (404), EntityAlreadyExists, DeleteConflict
 * and LimitExceeded (409), MalformedPolicyDocument, InvalidInput and
 * ValidationError (400), filled into an aws_error_t with AWS's messages.
 * Names of users, groups, roles and policies are unique per account without
 * regard to case, and found without regard to case, as in IAM.
 *
 * Persistence: every change is reported through the journal as a whole
 * record per entity (kind, "ACCOUNT/NAME", text blob); iam_dir_restore reads
 * those records back at start-up. The directory never touches the store.
 *
 * Lifetimes: pointers the directory hands out (entities, refs, key views)
 * stay valid until the next change, which iam_dir_generation announces.
 *
 * Pure: no HTTP, no libuv, no SQLite; time is an argument. Single-threaded.
 */
#ifndef NAGARE_IAM_DIRECTORY_H
#define NAGARE_IAM_DIRECTORY_H

#include "aws/error.h"
#include "iam/policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* IAM's default quotas. */
#define IAM_DIR_KEYS_PER_USER   2
#define IAM_DIR_GROUPS_PER_USER 10
#define IAM_DIR_ATTACHED_MAX    10 /* managed policies per user, group or role */
#define IAM_DIR_VERSIONS_MAX    5
#define IAM_DIR_TAGS_MAX        50
#define IAM_DIR_SESSION_MIN     3600
#define IAM_DIR_SESSION_MAX     43200
#define IAM_DIR_SESSION_DEFAULT 3600
#define IAM_DIR_DESCRIPTION_MAX 1000
#define IAM_DIR_PATH_MAX        512
#define IAM_DIR_ARN_MAX         2048

typedef struct iam_dir iam_dir_t;

/* Where changes go (any callback may be NULL, and so may the journal). blob is
 * valid only during the call. */
typedef struct iam_dir_journal {
    void *ud;
    void (*kv_put)(void *ud, const char *kind, const char *key, const void *blob, size_t len);
    void (*kv_delete)(void *ud, const char *kind, const char *key);
} iam_dir_journal_t;

/* The record kinds the journal writes, in the order restore wants them. */
extern const char *const iam_dir_kinds[];
extern const size_t iam_dir_n_kinds;

typedef enum iam_dir_kind { IAM_DIR_USER, IAM_DIR_GROUP, IAM_DIR_ROLE } iam_dir_kind_t;

typedef struct iam_dir_tag {
    char *key;
    char *value;
} iam_dir_tag_t;

typedef struct iam_dir_inline {
    char *name;
    char *text;           /* the document as given */
    iam_policy_t *policy; /* compiled (IAM_POLICY_IDENTITY) */
    char *label;          /* "<entity ARN> inline policy <name>" */
    iam_policy_ref_t ref; /* {policy, label} */
} iam_dir_inline_t;

/* What users, groups and roles share. Read-only for callers. */
typedef struct iam_dir_entity {
    iam_dir_kind_t kind;
    char account[16];
    char *name, *path, *arn, *id;
    uint64_t create_ms;
    iam_dir_inline_t *inl; /* sorted by name */
    size_t n_inline;
    char **attached; /* managed policy ARNs, in attach order */
    size_t n_attached;
    iam_dir_tag_t *tags; /* users and roles */
    size_t n_tags;
    char *boundary; /* users and roles: the boundary policy's ARN, or NULL */
} iam_dir_entity_t;

typedef struct iam_dir_akey {
    char id[24];     /* AKIA + 16 */
    char secret[48]; /* 40 characters */
    bool active;
    uint64_t create_ms;
} iam_dir_akey_t;

typedef struct iam_dir_user {
    iam_dir_entity_t e;
    iam_dir_akey_t keys[IAM_DIR_KEYS_PER_USER];
    size_t n_keys;
    char **groups; /* group names, in join order */
    size_t n_groups;
} iam_dir_user_t;

typedef struct iam_dir_group {
    iam_dir_entity_t e;
} iam_dir_group_t;

typedef struct iam_dir_role {
    iam_dir_entity_t e;
    char *trust_text;           /* the AssumeRolePolicyDocument as given */
    iam_policy_t *trust;        /* compiled as IAM_POLICY_TRUST */
    iam_policy_ref_t trust_ref; /* {trust, the role's ARN}: the resource policy of sts:AssumeRole */
    int max_session;            /* seconds, 3600..43200 */
    char *description;          /* or NULL */
} iam_dir_role_t;

typedef struct iam_dir_version {
    char id[16]; /* "v1", "v2", ... */
    char *text;
    iam_policy_t *policy;
    uint64_t create_ms;
} iam_dir_version_t;

/* A managed policy: customer managed (account set) or AWS managed (account
 * "aws", shared by every account). Read-only for callers. */
typedef struct iam_dir_policy {
    char account[16];
    char *name, *path, *arn, *id;
    char *description; /* or NULL */
    uint64_t create_ms, update_ms;
    iam_dir_version_t *versions; /* oldest first */
    size_t n_versions;
    size_t def;           /* index of the default version */
    unsigned next;        /* the number the next version gets */
    iam_policy_ref_t ref; /* {default version's policy, ARN} */
    iam_dir_tag_t *tags;
    size_t n_tags;
} iam_dir_policy_t;

/* ---- the directory -------------------------------------------------------------------- */

/* An empty directory that reports changes to *journal (copied; may be NULL).
 * The AWS managed policies are there from the start. Free with iam_dir_free. */
iam_dir_t *iam_dir_new(const iam_dir_journal_t *journal);
void iam_dir_free(iam_dir_t *d);
/* Makes account (12 digits) known; 0, or -1 when it is not 12 digits. Adding
 * it again does nothing. Accounts come from the server's roots. */
int iam_dir_add_account(iam_dir_t *d, const char *account);
/* A counter that changes with every change to the directory (and restore): a
 * cache of policy sets keyed by it is valid while it stays the same. */
uint64_t iam_dir_generation(const iam_dir_t *d);

/* Reads one journal record back (kind one of iam_dir_kinds, key and blob as
 * the journal wrote them). The record's account is added if unknown. 0, or -1
 * for a record that cannot be read (it is skipped; the directory is as before). */
int iam_dir_restore(iam_dir_t *d, const char *kind, const char *key, const void *blob, size_t len);

/* ---- lookups for authentication and authorization ------------------------------------- */

/* An access key, as SigV4 verification and the request context need it. The
 * strings point into the directory (see Lifetimes). */
typedef struct iam_dir_key {
    const char *account;
    const char *user_name;
    const char *user_arn;
    const char *user_id; /* AIDA...: aws:userid */
    const char *secret;
    bool active;
} iam_dir_key_t;

/* Looks up an AKIA access key of any account's user. 0 with *out filled, or
 * -1 when no user has that key (out untouched). */
int iam_dir_key_lookup(const iam_dir_t *d, const char *access_key_id, iam_dir_key_t *out);

/* The identity-based policies of a user: its inline policies, its attached
 * managed policies (their default versions), then for each of its groups the
 * group's inline and attached policies. Writes up to cap refs into out and
 * returns how many there are in all (call again with a larger out when the
 * result exceeds cap). Labels name the policy: a managed policy's ARN, or
 * "<entity ARN> inline policy <name>". *boundary (when boundary is not NULL)
 * is the user's permissions boundary, or NULL when it has none. Returns 0 for
 * an unknown user (and *boundary NULL). Refs point into the directory. */
size_t iam_dir_user_policies(iam_dir_t *d, const char *account, const char *user_name,
                             iam_policy_ref_t *out, size_t cap, const iam_policy_ref_t **boundary);
/* The same for a role (name or ARN): its inline and attached policies. */
size_t iam_dir_role_policies(iam_dir_t *d, const char *account, const char *role_name_or_arn,
                             iam_policy_ref_t *out, size_t cap, const iam_policy_ref_t **boundary);
/* A role by name or by ARN (arn:aws:iam::ACCOUNT:role/path/name; the ARN's
 * account wins over `account`), or NULL. Gives the ARN, id (AROA...), trust
 * policy (compiled), max session duration and tags. */
const iam_dir_role_t *iam_dir_role_get(const iam_dir_t *d, const char *account,
                                       const char *role_name_or_arn);
/* A user's tags (for aws:PrincipalTag/...): sets *tags and returns their count; 0
 * (and *tags NULL) for an unknown user. */
size_t iam_dir_user_tags(const iam_dir_t *d, const char *account, const char *user_name,
                         const iam_dir_tag_t **tags);

/* ---- entities: users, groups, roles ---------------------------------------------------- */

/* What CreateUser, CreateGroup and CreateRole take. Strings are copied. */
typedef struct iam_dir_create {
    const char *name;
    const char *path;          /* NULL = "/" */
    const iam_dir_tag_t *tags; /* users and roles */
    size_t n_tags;
    const char *boundary; /* users and roles: a managed policy ARN, or NULL */
    /* roles */
    const char *trust_text;
    const char *description;
    int max_session; /* 0 = the default, 3600 */
    uint64_t now_ms;
} iam_dir_create_t;

/* Creates a user, group or role. 0 and *out, or -1 with err (ValidationError
 * for a bad name or path, EntityAlreadyExists, MalformedPolicyDocument,
 * LimitExceeded, NoSuchEntity for an unknown boundary policy). */
int iam_dir_entity_create(iam_dir_t *d, const char *account, iam_dir_kind_t kind,
                          const iam_dir_create_t *in, const iam_dir_entity_t **out,
                          aws_error_t *err);
/* The entity of that kind and name (any case), or NULL. */
const iam_dir_entity_t *iam_dir_entity_get(const iam_dir_t *d, const char *account,
                                           iam_dir_kind_t kind, const char *name);
/* Same, or -1 with NoSuchEntity ("The user with name X cannot be found."). */
int iam_dir_entity_find(const iam_dir_t *d, const char *account, iam_dir_kind_t kind,
                        const char *name, const iam_dir_entity_t **out, aws_error_t *err);
/* All entities of a kind in an account, sorted by name (case-insensitive);
 * sets *n. The array belongs to the directory. */
const iam_dir_entity_t *const *iam_dir_entity_list(const iam_dir_t *d, const char *account,
                                                   iam_dir_kind_t kind, size_t *n);
/* Deletes an entity. DeleteConflict while it has access keys, inline or
 * attached policies, group memberships (users) or members (groups). */
int iam_dir_entity_delete(iam_dir_t *d, const char *account, iam_dir_kind_t kind, const char *name,
                          aws_error_t *err);
/* Adds or replaces tags (users and roles); LimitExceeded past 50. */
int iam_dir_entity_tag(iam_dir_t *d, const char *account, iam_dir_kind_t kind, const char *name,
                       const iam_dir_tag_t *tags, size_t n, aws_error_t *err);
int iam_dir_entity_untag(iam_dir_t *d, const char *account, iam_dir_kind_t kind, const char *name,
                         const char *const *keys, size_t n, aws_error_t *err);
/* Sets (arn) or removes (NULL) the permissions boundary of a user or role. */
int iam_dir_boundary_set(iam_dir_t *d, const char *account, iam_dir_kind_t kind, const char *name,
                         const char *arn, aws_error_t *err);

/* ---- inline and attached policies ------------------------------------------------------ */

/* PutUserPolicy and friends: creates or replaces an inline policy. -1 with
 * MalformedPolicyDocument, or LimitExceeded when the entity's inline policies
 * together exceed its quota (user 2048, group 5120, role 10240 characters). */
int iam_dir_inline_put(iam_dir_t *d, const char *account, iam_dir_kind_t kind, const char *entity,
                       const char *policy_name, const char *text, aws_error_t *err);
int iam_dir_inline_get(const iam_dir_t *d, const char *account, iam_dir_kind_t kind,
                       const char *entity, const char *policy_name, const iam_dir_inline_t **out,
                       aws_error_t *err);
int iam_dir_inline_delete(iam_dir_t *d, const char *account, iam_dir_kind_t kind,
                          const char *entity, const char *policy_name, aws_error_t *err);
/* Attaches a managed policy (attaching it again does nothing); NoSuchEntity
 * for an unknown policy, LimitExceeded past 10. */
int iam_dir_attach(iam_dir_t *d, const char *account, iam_dir_kind_t kind, const char *entity,
                   const char *policy_arn, aws_error_t *err);
int iam_dir_detach(iam_dir_t *d, const char *account, iam_dir_kind_t kind, const char *entity,
                   const char *policy_arn, aws_error_t *err);

/* ---- users: access keys and groups ------------------------------------------------------ */

/* A new access key (Active) for a user; LimitExceeded past 2. */
int iam_dir_key_create(iam_dir_t *d, const char *account, const char *user, uint64_t now_ms,
                       const iam_dir_akey_t **out, aws_error_t *err);
int iam_dir_key_update(iam_dir_t *d, const char *account, const char *user, const char *key_id,
                       bool active, aws_error_t *err);
int iam_dir_key_delete(iam_dir_t *d, const char *account, const char *user, const char *key_id,
                       aws_error_t *err);
/* Group membership; adding a member again does nothing. */
int iam_dir_group_add(iam_dir_t *d, const char *account, const char *group, const char *user,
                      aws_error_t *err);
int iam_dir_group_remove(iam_dir_t *d, const char *account, const char *group, const char *user,
                         aws_error_t *err);
/* Whether user is a member of group. */
bool iam_dir_group_has(const iam_dir_user_t *user, const char *group);

/* ---- roles ------------------------------------------------------------------------------ */

int iam_dir_role_trust_set(iam_dir_t *d, const char *account, const char *role, const char *text,
                           aws_error_t *err);
/* UpdateRole: description (NULL = unchanged) and max session (0 = unchanged). */
int iam_dir_role_update(iam_dir_t *d, const char *account, const char *role,
                        const char *description, int max_session, aws_error_t *err);

/* ---- managed policies ------------------------------------------------------------------- */

typedef struct iam_dir_policy_create {
    const char *name;
    const char *path; /* NULL = "/" */
    const char *text;
    const char *description;
    const iam_dir_tag_t *tags;
    size_t n_tags;
    uint64_t now_ms;
} iam_dir_policy_create_t;

int iam_dir_policy_create(iam_dir_t *d, const char *account, const iam_dir_policy_create_t *in,
                          const iam_dir_policy_t **out, aws_error_t *err);
/* A managed policy by ARN: the account's own or an AWS managed one. -1 with
 * NoSuchEntity ("Policy ARN was not found.") or InvalidInput (not an ARN). */
int iam_dir_policy_find(const iam_dir_t *d, const char *account, const char *arn,
                        const iam_dir_policy_t **out, aws_error_t *err);
/* The account's customer managed policies sorted by name, and the AWS
 * managed ones (sorted by name). */
const iam_dir_policy_t *const *iam_dir_policy_list(const iam_dir_t *d, const char *account,
                                                   size_t *n);
const iam_dir_policy_t *const *iam_dir_policy_list_aws(const iam_dir_t *d, size_t *n);
/* How many users, groups and roles of account have the policy attached, and
 * how many use it as their permissions boundary. */
size_t iam_dir_policy_attachments(const iam_dir_t *d, const char *account, const char *arn);
size_t iam_dir_policy_boundary_uses(const iam_dir_t *d, const char *account, const char *arn);
/* DeleteConflict while attached, used as a boundary, or with versions besides
 * the default. AWS managed policies cannot be deleted. */
int iam_dir_policy_delete(iam_dir_t *d, const char *account, const char *arn, aws_error_t *err);
/* A new version (the default when set_default); LimitExceeded past 5. */
int iam_dir_version_create(iam_dir_t *d, const char *account, const char *arn, const char *text,
                           bool set_default, uint64_t now_ms, const iam_dir_version_t **out,
                           aws_error_t *err);
int iam_dir_version_get(const iam_dir_t *d, const char *account, const char *arn,
                        const char *version, const iam_dir_version_t **out, aws_error_t *err);
/* DeleteConflict for the default version. */
int iam_dir_version_delete(iam_dir_t *d, const char *account, const char *arn, const char *version,
                           aws_error_t *err);
int iam_dir_version_set_default(iam_dir_t *d, const char *account, const char *arn,
                                const char *version, uint64_t now_ms, aws_error_t *err);

#endif
