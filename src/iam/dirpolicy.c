/*
 * dirpolicy — managed policies in the directory: customer managed policies
 * with their versions (at most 5, v1..vN, one the default), and the AWS
 * managed ones every account sees (built by managed.c, read-only). See
 * directory.h for the contract.
 */
#include "iam/directory_int.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define POLICIES_PER_ACCOUNT 1500

void dir_policy_derive(iam_dir_policy_t *p)
{
    buf_t b;
    buf_init(&b, 0);
    buf_printf(&b, "arn:aws:iam::%s:policy%s%s", p->account, p->path, p->name);
    free(p->arn);
    p->arn = buf_steal(&b, NULL);
    p->ref = (iam_policy_ref_t){p->versions[p->def].policy, p->arn};
}

void dir_policy_free(iam_dir_policy_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_versions; i++) {
        free(p->versions[i].text);
        iam_policy_free(p->versions[i].policy);
    }
    free(p->versions);
    dir_tags_free(p->tags, p->n_tags);
    free(p->name);
    free(p->path);
    free(p->arn);
    free(p->id);
    free(p->description);
    free(p);
}

static void save_policy(iam_dir_t *d, const iam_dir_policy_t *p)
{
    dir_changed(d);
    if (!d->journal.kv_put)
        return;
    buf_t b, key;
    buf_init(&b, 0);
    buf_init(&key, 0);
    buf_printf(&key, "%s/%s", p->account, p->name);
    dir_rec_policy(p, &b);
    d->journal.kv_put(d->journal.ud, "iam-policy", key.data, b.data, b.len);
    buf_free(&b);
    buf_free(&key);
}

static void drop_policy(iam_dir_t *d, const iam_dir_policy_t *p)
{
    dir_changed(d);
    if (!d->journal.kv_delete)
        return;
    buf_t key;
    buf_init(&key, 0);
    buf_printf(&key, "%s/%s", p->account, p->name);
    d->journal.kv_delete(d->journal.ud, "iam-policy", key.data);
    buf_free(&key);
}

/* policyPathType: "/" or "/a/b/" of [A-Za-z0-9.,+@=_-] between slashes. */
static int policy_path_check(const char *path, aws_error_t *err)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                             ".,+@=_-/";
    size_t n = strlen(path);
    if (dir_path_check(path, err) < 0)
        return -1;
    if (strspn(path, ok) != n || strstr(path, "//"))
        return aws_error_set(err, 400, "ValidationError",
                             "The specified value for path is invalid. It must begin and end "
                             "with / and contain only alphanumeric characters and/or / "
                             "characters.");
    return 0;
}

/* A managed policy document: parsed, and within PolicySize. */
static int managed_parse(const char *text, iam_policy_t **out, aws_error_t *err)
{
    if (dir_parse(text, IAM_POLICY_IDENTITY, out, err) < 0)
        return -1;
    if (iam_policy_size(text, strlen(text)) > IAM_POLICY_MAX_MANAGED) {
        iam_policy_free(*out);
        *out = NULL;
        return aws_error_set(err, 409, "LimitExceeded", "Cannot exceed quota for PolicySize: %d",
                             IAM_POLICY_MAX_MANAGED);
    }
    return 0;
}

static void policy_insert(account_t *a, iam_dir_policy_t *p)
{
    bool found;
    size_t i = dir_policy_index(a->pols, a->n_pols, p->name, &found);
    a->pols = xrealloc(a->pols, (a->n_pols + 1) * sizeof(*a->pols));
    memmove(&a->pols[i + 1], &a->pols[i], (a->n_pols - i) * sizeof(p));
    a->pols[i] = p;
    a->n_pols++;
}

int dir_policy_adopt(iam_dir_t *d, iam_dir_policy_t *p)
{
    account_t *a = dir_account_add(d, p->account);
    bool found;
    if (!a)
        return -1;
    dir_policy_index(a->pols, a->n_pols, p->name, &found);
    if (found)
        return -1;
    policy_insert(a, p);
    dir_changed(d);
    return 0;
}

static int create_check(account_t *a, const iam_dir_policy_create_t *in, aws_error_t *err)
{
    bool found;
    if (dir_name_check(in->name, "policyName", 128, err) < 0 ||
        policy_path_check(in->path ? in->path : "/", err) < 0 ||
        dir_tags_check(in->tags, in->n_tags, err) < 0)
        return -1;
    if (in->description && strlen(in->description) > IAM_DIR_DESCRIPTION_MAX)
        return aws_error_set(err, 400, "ValidationError",
                             "1 validation error detected: Value at 'description' failed to "
                             "satisfy constraint: Member must have length less than or equal "
                             "to %d",
                             IAM_DIR_DESCRIPTION_MAX);
    if (in->n_tags > IAM_DIR_TAGS_MAX)
        return aws_error_set(err, 409, "LimitExceeded", "Cannot exceed quota for TagsPerPolicy: %d",
                             IAM_DIR_TAGS_MAX);
    dir_policy_index(a->pols, a->n_pols, in->name, &found);
    if (found)
        return aws_error_set(err, 409, "EntityAlreadyExists",
                             "A policy called %s already exists. Duplicate names are not "
                             "allowed.",
                             in->name);
    if (a->n_pols >= POLICIES_PER_ACCOUNT)
        return aws_error_set(err, 409, "LimitExceeded",
                             "Cannot exceed quota for PoliciesPerAccount: %d",
                             POLICIES_PER_ACCOUNT);
    return 0;
}

int iam_dir_policy_create(iam_dir_t *d, const char *account, const iam_dir_policy_create_t *in,
                          const iam_dir_policy_t **out, aws_error_t *err)
{
    account_t *a = dir_account(d, account);
    iam_policy_t *pol;
    char id[32];
    if (!a)
        return aws_error_set(err, 404, "NoSuchEntity", "The account %s is not known.", account);
    if (create_check(a, in, err) < 0 || managed_parse(in->text, &pol, err) < 0)
        return -1;
    iam_dir_policy_t *p = xcalloc(1, sizeof(*p));
    snprintf(p->account, sizeof(p->account), "%s", a->id);
    p->name = xstrdup(in->name);
    p->path = xstrdup(in->path ? in->path : "/");
    dir_random_id("ANPA", 17, id);
    p->id = xstrdup(id);
    p->description = in->description ? xstrdup(in->description) : NULL;
    p->create_ms = p->update_ms = in->now_ms;
    p->versions = xcalloc(1, sizeof(*p->versions));
    p->versions[0] = (iam_dir_version_t){"v1", xstrdup(in->text), pol, in->now_ms};
    p->n_versions = 1;
    p->next = 2;
    dir_tags_merge(&p->tags, &p->n_tags, in->tags, in->n_tags);
    dir_policy_derive(p);
    policy_insert(a, p);
    save_policy(d, p);
    *out = p;
    return 0;
}

/* Splits arn:aws:iam::ACCOUNT:policy/path/name; 0, or -1 when it is not one. */
static int policy_arn_split(const char *arn, char account[16], const char **name)
{
    const char *colon = arn && !strncmp(arn, "arn:aws:iam::", 13) ? strchr(arn + 13, ':') : NULL;
    size_t alen = colon ? (size_t)(colon - (arn + 13)) : 0;
    if (!colon || alen == 0 || alen > 12 || strncmp(colon + 1, "policy/", 7))
        return -1;
    snprintf(account, 16, "%.*s", (int)alen, arn + 13);
    *name = strrchr(colon, '/') + 1;
    return **name ? 0 : -1;
}

int iam_dir_policy_find(const iam_dir_t *d, const char *account, const char *arn,
                        const iam_dir_policy_t **out, aws_error_t *err)
{
    char acct[16];
    const char *name;
    bool found = false;
    size_t i = 0;
    if (policy_arn_split(arn, acct, &name) < 0)
        return aws_error_set(err, 400, "InvalidInput", "ARN %.300s is not valid.", arn ? arn : "");
    iam_dir_policy_t *const *list = NULL;
    if (!strcmp(acct, "aws")) {
        list = d->aws;
        i = dir_policy_index(list, d->n_aws, name, &found);
    } else if (account && !strcmp(acct, account)) {
        account_t *a = dir_account(d, account);
        list = a ? a->pols : NULL;
        if (a)
            i = dir_policy_index(list, a->n_pols, name, &found);
    }
    if (!found || strcasecmp(list[i]->arn, arn))
        return aws_error_set(err, 404, "NoSuchEntity", "Policy %.300s was not found.", arn);
    *out = list[i];
    return 0;
}

/* The same, writable, refusing AWS managed policies (which no account changes). */
static iam_dir_policy_t *find_own(const iam_dir_t *d, const char *account, const char *arn,
                                  aws_error_t *err)
{
    const iam_dir_policy_t *p;
    if (iam_dir_policy_find(d, account, arn, &p, err) < 0)
        return NULL;
    if (!strcmp(p->account, "aws")) {
        aws_error_set(err, 400, "UnmodifiableEntity",
                      "Cannot perform the operation on the AWS managed policy %s.", p->arn);
        return NULL;
    }
    return (iam_dir_policy_t *)p;
}

const iam_dir_policy_t *const *iam_dir_policy_list(const iam_dir_t *d, const char *account,
                                                   size_t *n)
{
    account_t *a = dir_account(d, account);
    *n = a ? a->n_pols : 0;
    return a ? (const iam_dir_policy_t *const *)a->pols : NULL;
}

const iam_dir_policy_t *const *iam_dir_policy_list_aws(const iam_dir_t *d, size_t *n)
{
    *n = d->n_aws;
    return (const iam_dir_policy_t *const *)d->aws;
}

/* Counts the entities of account for which use(e, arn) holds. */
static size_t count_uses(const iam_dir_t *d, const char *account, const char *arn,
                         bool (*use)(const iam_dir_entity_t *e, const char *arn))
{
    account_t *a = dir_account(d, account);
    size_t n = 0;
    for (int k = 0; a && k < 3; k++)
        for (size_t i = 0; i < a->n_ents[k]; i++)
            n += use(a->ents[k][i], arn);
    return n;
}

static bool attached_to(const iam_dir_entity_t *e, const char *arn)
{
    for (size_t i = 0; i < e->n_attached; i++)
        if (!strcasecmp(e->attached[i], arn))
            return true;
    return false;
}

static bool bounded_by(const iam_dir_entity_t *e, const char *arn)
{
    return e->boundary && !strcasecmp(e->boundary, arn);
}

size_t iam_dir_policy_attachments(const iam_dir_t *d, const char *account, const char *arn)
{
    return count_uses(d, account, arn, attached_to);
}

size_t iam_dir_policy_boundary_uses(const iam_dir_t *d, const char *account, const char *arn)
{
    return count_uses(d, account, arn, bounded_by);
}

int iam_dir_policy_delete(iam_dir_t *d, const char *account, const char *arn, aws_error_t *err)
{
    iam_dir_policy_t *p = find_own(d, account, arn, err);
    if (!p)
        return -1;
    if (iam_dir_policy_attachments(d, account, p->arn) ||
        iam_dir_policy_boundary_uses(d, account, p->arn))
        return aws_error_set(err, 409, "DeleteConflict",
                             "Cannot delete a policy attached to entities.");
    if (p->n_versions > 1)
        return aws_error_set(err, 409, "DeleteConflict",
                             "This policy has more than one version. Before you delete a "
                             "policy, you must delete the policy's versions. The default version "
                             "is deleted with the policy.");
    account_t *a = dir_account(d, account);
    bool found;
    size_t i = dir_policy_index(a->pols, a->n_pols, p->name, &found);
    memmove(&a->pols[i], &a->pols[i + 1], (a->n_pols - i - 1) * sizeof(p));
    a->n_pols--;
    drop_policy(d, p);
    dir_policy_free(p);
    return 0;
}

int iam_dir_version_create(iam_dir_t *d, const char *account, const char *arn, const char *text,
                           bool set_default, uint64_t now_ms, const iam_dir_version_t **out,
                           aws_error_t *err)
{
    iam_dir_policy_t *p = find_own(d, account, arn, err);
    iam_policy_t *pol;
    if (!p)
        return -1;
    if (p->n_versions >= IAM_DIR_VERSIONS_MAX)
        return aws_error_set(err, 409, "LimitExceeded",
                             "A managed policy can have up to %d versions. Before you create a "
                             "new version, you must delete an existing version.",
                             IAM_DIR_VERSIONS_MAX);
    if (managed_parse(text, &pol, err) < 0)
        return -1;
    p->versions = xrealloc(p->versions, (p->n_versions + 1) * sizeof(*p->versions));
    iam_dir_version_t *v = &p->versions[p->n_versions++];
    *v = (iam_dir_version_t){.text = xstrdup(text), .policy = pol, .create_ms = now_ms};
    snprintf(v->id, sizeof(v->id), "v%u", p->next++);
    if (set_default) {
        p->def = p->n_versions - 1;
        p->update_ms = now_ms;
    }
    dir_policy_derive(p);
    save_policy(d, p);
    *out = v;
    return 0;
}

static int version_index(const iam_dir_policy_t *p, const char *version, size_t *i,
                         aws_error_t *err)
{
    for (size_t k = 0; version && k < p->n_versions; k++) {
        if (!strcmp(p->versions[k].id, version)) {
            *i = k;
            return 0;
        }
    }
    return aws_error_set(err, 404, "NoSuchEntity",
                         "Policy %s version %.32s does not exist or is not attachable.", p->arn,
                         version ? version : "");
}

int iam_dir_version_get(const iam_dir_t *d, const char *account, const char *arn,
                        const char *version, const iam_dir_version_t **out, aws_error_t *err)
{
    const iam_dir_policy_t *p;
    size_t i;
    if (iam_dir_policy_find(d, account, arn, &p, err) < 0 || version_index(p, version, &i, err) < 0)
        return -1;
    *out = &p->versions[i];
    return 0;
}

int iam_dir_version_delete(iam_dir_t *d, const char *account, const char *arn, const char *version,
                           aws_error_t *err)
{
    iam_dir_policy_t *p = find_own(d, account, arn, err);
    size_t i;
    if (!p || version_index(p, version, &i, err) < 0)
        return -1;
    if (i == p->def)
        return aws_error_set(err, 409, "DeleteConflict",
                             "Cannot delete the default version of a policy.");
    free(p->versions[i].text);
    iam_policy_free(p->versions[i].policy);
    memmove(&p->versions[i], &p->versions[i + 1], (p->n_versions - i - 1) * sizeof(*p->versions));
    p->n_versions--;
    if (p->def > i)
        p->def--;
    dir_policy_derive(p);
    save_policy(d, p);
    return 0;
}

int iam_dir_version_set_default(iam_dir_t *d, const char *account, const char *arn,
                                const char *version, uint64_t now_ms, aws_error_t *err)
{
    iam_dir_policy_t *p = find_own(d, account, arn, err);
    size_t i;
    if (!p || version_index(p, version, &i, err) < 0)
        return -1;
    p->def = i;
    p->update_ms = now_ms;
    dir_policy_derive(p);
    save_policy(d, p);
    return 0;
}
