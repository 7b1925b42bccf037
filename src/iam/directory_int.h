/*
 * directory_int — what directory.c, dirrec.c and managed.c share. Not API.
 *
 * The directory keeps, per account, one array of entity pointers per kind and
 * one of customer managed policies, each sorted by name without regard to
 * case (IAM's uniqueness rule), so lookups are binary searches and lists come
 * out in order. Entities are separately allocated: pointers handed out stay
 * put while other entities come and go.
 */
#ifndef NAGARE_IAM_DIRECTORY_INT_H
#define NAGARE_IAM_DIRECTORY_INT_H

#include "base/buf.h"
#include "iam/directory.h"

#include <stddef.h>

/* What differs between users, groups and roles: a table, not a ladder. */
typedef struct kind_info {
    const char *word;           /* "user": ARNs and messages */
    const char *record;         /* "iam-user": the journal kind */
    const char *id_prefix;      /* "AIDA" */
    const char *name_field;     /* "userName": ValidationError messages */
    size_t name_max;            /* 64, 128, 64 */
    size_t inline_quota;        /* characters of inline policy, all together */
    size_t account_max;         /* entities of this kind per account */
    const char *account_quota;  /* "UsersPerAccount" */
    const char *attached_quota; /* "PoliciesPerUser" */
    const char *tags_quota;     /* "TagsPerUser", or NULL: no tags */
    size_t size;                /* the struct's size */
} kind_info_t;

extern const kind_info_t dir_kind_info[3];

typedef struct account {
    char id[16];
    iam_dir_entity_t **ents[3];
    size_t n_ents[3];
    iam_dir_policy_t **pols;
    size_t n_pols;
} account_t;

struct iam_dir {
    iam_dir_journal_t journal;
    account_t **accounts;
    size_t n_accounts;
    iam_dir_policy_t **aws; /* AWS managed policies, sorted by name */
    size_t n_aws;
    uint64_t generation;
};

/* ---- directory.c: shared helpers -------------------------------------------------------- */

account_t *dir_account(const iam_dir_t *d, const char *account);
account_t *dir_account_add(iam_dir_t *d, const char *account);
/* Index of name in an array of pointers to structs sorted by their `char *`
 * member at name_offset (without regard to case): where it is (*found) or
 * would go. dir_entity_index and dir_policy_index say which member. */
size_t dir_name_index(const void *const *a, size_t n, size_t name_offset, const char *name,
                      bool *found);
static inline size_t dir_entity_index(iam_dir_entity_t *const *a, size_t n, const char *name,
                                      bool *found)
{
    return dir_name_index((const void *const *)a, n, offsetof(iam_dir_entity_t, name), name, found);
}
static inline size_t dir_policy_index(iam_dir_policy_t *const *a, size_t n, const char *name,
                                      bool *found)
{
    return dir_name_index((const void *const *)a, n, offsetof(iam_dir_policy_t, name), name, found);
}
/* Fills in the ARN, inline labels and refs that follow from an entity's fields. */
void dir_entity_derive(iam_dir_entity_t *e);
void dir_policy_derive(iam_dir_policy_t *p);
/* Frees an entity or a managed policy and everything it owns. */
void dir_entity_free(iam_dir_entity_t *e);
void dir_policy_free(iam_dir_policy_t *p);
/* Writes prefix + n random upper-case letters and digits (IAM's unique ids). */
void dir_random_id(const char *prefix, size_t n, char *out);
/* A change happened: bumps the generation. */
void dir_changed(iam_dir_t *d);
/* IAM's validation of names ([\w+=,.@-]+, at most max), paths and tags: 0, or
 * -1 with ValidationError / InvalidInput. */
int dir_name_check(const char *name, const char *field, size_t max, aws_error_t *err);
int dir_path_check(const char *path, aws_error_t *err);
int dir_tags_check(const iam_dir_tag_t *t, size_t n, aws_error_t *err);
/* Adds or replaces tags (copies); the caller checked them. */
void dir_tags_merge(iam_dir_tag_t **tags, size_t *n, const iam_dir_tag_t *in, size_t n_in);
void dir_tags_free(iam_dir_tag_t *t, size_t n);
/* Inserts a restored entity or policy (taken over on success): -1 when its
 * name (or a user's access key) is taken. */
int dir_entity_adopt(iam_dir_t *d, iam_dir_entity_t *e);
int dir_policy_adopt(iam_dir_t *d, iam_dir_policy_t *p);
/* Parses text as a policy of kind: 0 and *out, or -1 with MalformedPolicyDocument. */
int dir_parse(const char *text, iam_policy_kind_t kind, iam_policy_t **out, aws_error_t *err);

/* ---- dirrec.c: the journal records ------------------------------------------------------- */

/* Writes an entity's or a policy's record (text: one field per line). */
void dir_rec_entity(const iam_dir_entity_t *e, buf_t *out);
void dir_rec_policy(const iam_dir_policy_t *p, buf_t *out);
/* Reads a record back into a new entity / policy of the given account; NULL
 * when the record is damaged, names are invalid or a document does not parse. */
iam_dir_entity_t *dir_rec_entity_parse(iam_dir_kind_t kind, const char *account, const char *text,
                                       size_t len);
iam_dir_policy_t *dir_rec_policy_parse(const char *account, const char *text, size_t len);

/* ---- managed.c: AWS managed policies ----------------------------------------------------- */

/* Builds the AWS managed policies (sorted by name); sets *n. Aborts if a
 * document in the table does not parse: that is a bug, caught by the tests. */
iam_dir_policy_t **dir_managed_build(size_t *n);

#endif
