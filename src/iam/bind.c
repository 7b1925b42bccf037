/* bind — see bind.h. Adapters from the directory's lookups to the hooks. */
#include "iam/bind.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct iam_binding {
    iam_dir_t *dir;
    const char *tag_keys[IAM_DIR_TAGS_MAX], *tag_values[IAM_DIR_TAGS_MAX];
};

static int users(void *ud, const char *access_key, iam_user_key_t *out)
{
    iam_binding_t *b = ud;
    iam_dir_key_t k;
    if (iam_dir_key_lookup(b->dir, access_key, &k) < 0)
        return -1;
    *out = (iam_user_key_t){k.account, k.user_name, k.user_arn, k.user_id, k.secret, k.active};
    return 0;
}

static size_t user_policies(void *ud, const char *account, const char *user, iam_policy_ref_t *out,
                            size_t cap, const iam_policy_ref_t **boundary)
{
    iam_binding_t *b = ud;
    size_t n = iam_dir_user_policies(b->dir, account, user, out, cap, boundary);
    return n < cap ? n : cap;
}

static size_t role_policies(void *ud, const char *account, const char *role_arn,
                            iam_policy_ref_t *out, size_t cap, const iam_policy_ref_t **boundary)
{
    iam_binding_t *b = ud;
    size_t n = iam_dir_role_policies(b->dir, account, role_arn, out, cap, boundary);
    return n < cap ? n : cap;
}

/* aws:PrincipalTag/...: a user's tags, or a session's role's (the session's
 * own tags are added by authz). The arrays are rebuilt per call. */
static size_t principal_tags(void *ud, const iam_principal_t *p, const char *const **keys,
                             const char *const **values)
{
    iam_binding_t *b = ud;
    const iam_dir_tag_t *tags = NULL;
    size_t n = 0;
    if (p->kind == IAM_PRINCIPAL_USER) {
        n = iam_dir_user_tags(b->dir, p->account, p->name, &tags);
    } else if (p->kind == IAM_PRINCIPAL_SESSION) {
        const iam_dir_role_t *r = iam_dir_role_get(b->dir, p->account, p->role_arn);
        tags = r ? r->e.tags : NULL;
        n = r ? r->e.n_tags : 0;
    }
    for (size_t i = 0; i < n && i < IAM_DIR_TAGS_MAX; i++) {
        b->tag_keys[i] = tags[i].key;
        b->tag_values[i] = tags[i].value;
    }
    *keys = b->tag_keys;
    *values = b->tag_values;
    return n < IAM_DIR_TAGS_MAX ? n : IAM_DIR_TAGS_MAX;
}

static const iam_policy_t *managed(void *ud, const char *arn)
{
    iam_binding_t *b = ud;
    const iam_dir_policy_t *p = NULL;
    aws_error_t err;
    char account[16] = "";
    /* arn:aws:iam::<account>:policy/... */
    const char *a = strncmp(arn, "arn:aws:iam::", 13) ? NULL : arn + 13;
    const char *colon = a ? strchr(a, ':') : NULL;
    if (colon && colon - a < (long)sizeof(account))
        snprintf(account, sizeof(account), "%.*s", (int)(colon - a), a);
    if (iam_dir_policy_find(b->dir, account, arn, &p, &err) < 0 || !p)
        return NULL;
    return p->ref.policy;
}

iam_binding_t *iam_bind(iam_dir_t *dir, iam_identity_t *ids, iam_authz_t *az)
{
    iam_binding_t *b = xcalloc(1, sizeof(*b));
    b->dir = dir;
    iam_identity_set_users(ids, users, b);
    iam_policy_source_t src = {b, user_policies, role_policies, principal_tags, managed};
    iam_authz_set_source(az, &src);
    return b;
}

void iam_binding_free(iam_binding_t *b)
{
    free(b);
}
