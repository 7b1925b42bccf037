/*
 * directory — users, groups, roles, their keys, memberships, inline and
 * attached policies; the lookups authentication and authorization use. See
 * directory.h. Managed policies and their versions are in dirpolicy.c, the
 * journal records in dirrec.c, the AWS managed policies in managed.c.
 *
 * Every mutation validates first and changes nothing on failure; when it
 * succeeds it bumps the generation and journals the whole record of what
 * changed (records are small: inline policies are capped at 10 KiB per entity).
 */
#include "iam/directory_int.h"
#include "base/ids.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const kind_info_t dir_kind_info[3] = {
    [IAM_DIR_USER] = {"user", "iam-user", "AIDA", "userName", 64, IAM_POLICY_MAX_USER_INLINE, 5000,
                      "UsersPerAccount", "PoliciesPerUser", "TagsPerUser", sizeof(iam_dir_user_t)},
    [IAM_DIR_GROUP] = {"group", "iam-group", "AGPA", "groupName", 128, IAM_POLICY_MAX_GROUP_INLINE,
                       300, "GroupsPerAccount", "PoliciesPerGroup", NULL, sizeof(iam_dir_group_t)},
    [IAM_DIR_ROLE] = {"role", "iam-role", "AROA", "roleName", 64, IAM_POLICY_MAX_ROLE_INLINE, 1000,
                      "RolesPerAccount", "PoliciesPerRole", "TagsPerRole", sizeof(iam_dir_role_t)},
};

/* Policies first: entities name them. */
const char *const iam_dir_kinds[] = {"iam-policy", "iam-group", "iam-user", "iam-role"};
const size_t iam_dir_n_kinds = sizeof(iam_dir_kinds) / sizeof(iam_dir_kinds[0]);

/* ---- helpers -------------------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...)
{
    buf_t b;
    va_list ap;
    buf_init(&b, 0);
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return buf_steal(&b, NULL);
}

/* prefix + n random upper-case letters and digits, as IAM's unique ids. */
void dir_random_id(const char *prefix, size_t n, char *out)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char r[32];
    size_t p = strlen(prefix);
    ids_random(r, n);
    memcpy(out, prefix, p);
    for (size_t i = 0; i < n; i++)
        out[p + i] = alnum[r[i] % 36];
    out[p + n] = '\0';
}

account_t *dir_account(const iam_dir_t *d, const char *account)
{
    for (size_t i = 0; account && i < d->n_accounts; i++)
        if (!strcmp(d->accounts[i]->id, account))
            return d->accounts[i];
    return NULL;
}

static bool account_valid(const char *a)
{
    return a && strlen(a) == 12 && strspn(a, "0123456789") == 12;
}

account_t *dir_account_add(iam_dir_t *d, const char *account)
{
    account_t *a = dir_account(d, account);
    if (a || !account_valid(account))
        return a;
    a = xcalloc(1, sizeof(*a));
    snprintf(a->id, sizeof(a->id), "%s", account);
    d->accounts = xrealloc(d->accounts, (d->n_accounts + 1) * sizeof(*d->accounts));
    d->accounts[d->n_accounts++] = a;
    return a;
}

size_t dir_name_index(const void *const *a, size_t n, size_t name_offset, const char *name,
                      bool *found)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcasecmp(*(char *const *)((const char *)a[mid] + name_offset), name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

int dir_parse(const char *text, iam_policy_kind_t kind, iam_policy_t **out, aws_error_t *err)
{
    iam_policy_error_t perr;
    if (!text)
        return aws_error_set(err, 400, "MalformedPolicyDocument", "Syntax errors in policy.");
    if (iam_policy_parse(text, strlen(text), kind, out, &perr) < 0)
        return aws_error_set(err, 400, "MalformedPolicyDocument", "%s", perr.message);
    return 0;
}

void dir_entity_derive(iam_dir_entity_t *e)
{
    free(e->arn);
    e->arn = str_printf("arn:aws:iam::%s:%s%s%s", e->account, dir_kind_info[e->kind].word, e->path,
                        e->name);
    for (size_t i = 0; i < e->n_inline; i++) {
        iam_dir_inline_t *p = &e->inl[i];
        free(p->label);
        p->label = str_printf("%s inline policy %s", e->arn, p->name);
        p->ref = (iam_policy_ref_t){p->policy, p->label};
    }
    if (e->kind == IAM_DIR_ROLE) {
        iam_dir_role_t *r = (iam_dir_role_t *)e;
        r->trust_ref = (iam_policy_ref_t){r->trust, r->e.arn};
    }
}

void dir_tags_free(iam_dir_tag_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].key);
        free(t[i].value);
    }
    free(t);
}

static void inline_clear(iam_dir_inline_t *p)
{
    free(p->name);
    free(p->text);
    free(p->label);
    iam_policy_free(p->policy);
}

void dir_entity_free(iam_dir_entity_t *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_inline; i++)
        inline_clear(&e->inl[i]);
    free(e->inl);
    for (size_t i = 0; i < e->n_attached; i++)
        free(e->attached[i]);
    free(e->attached);
    dir_tags_free(e->tags, e->n_tags);
    free(e->boundary);
    free(e->name);
    free(e->path);
    free(e->arn);
    free(e->id);
    if (e->kind == IAM_DIR_USER) {
        iam_dir_user_t *u = (iam_dir_user_t *)e;
        for (size_t i = 0; i < u->n_groups; i++)
            free(u->groups[i]);
        free(u->groups);
    } else if (e->kind == IAM_DIR_ROLE) {
        iam_dir_role_t *r = (iam_dir_role_t *)e;
        free(r->trust_text);
        iam_policy_free(r->trust);
        free(r->description);
    }
    free(e);
}

/* ---- journal ---------------------------------------------------------------------------- */

void dir_changed(iam_dir_t *d)
{
    d->generation++;
}

static char *record_key(const char *account, const char *name)
{
    return str_printf("%s/%s", account, name);
}

static void save_entity(iam_dir_t *d, const iam_dir_entity_t *e)
{
    dir_changed(d);
    if (!d->journal.kv_put)
        return;
    buf_t b;
    char *key = record_key(e->account, e->name);
    buf_init(&b, 0);
    dir_rec_entity(e, &b);
    d->journal.kv_put(d->journal.ud, dir_kind_info[e->kind].record, key, b.data, b.len);
    buf_free(&b);
    free(key);
}

static void drop_entity(iam_dir_t *d, const iam_dir_entity_t *e)
{
    dir_changed(d);
    if (!d->journal.kv_delete)
        return;
    char *key = record_key(e->account, e->name);
    d->journal.kv_delete(d->journal.ud, dir_kind_info[e->kind].record, key);
    free(key);
}

/* ---- validation -------------------------------------------------------------------------- */

/* IAM's names: [\w+=,.@-]+ of at most max characters. */
int dir_name_check(const char *name, const char *field, size_t max, aws_error_t *err)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                             "_+=,.@-";
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || strspn(name, ok) != n)
        return aws_error_set(err, 400, "ValidationError",
                             "1 validation error detected: Value '%.200s' at '%s' failed to "
                             "satisfy constraint: Member must satisfy regular expression "
                             "pattern: [\\w+=,.@-]+",
                             name ? name : "null", field);
    if (n > max)
        return aws_error_set(err, 400, "ValidationError",
                             "1 validation error detected: Value '%.200s' at '%s' failed to "
                             "satisfy constraint: Member must have length less than or equal "
                             "to %zu",
                             name, field, max);
    return 0;
}

/* "/" or "/x/.../" of printable ASCII (pathType), at most 512 characters. */
int dir_path_check(const char *path, aws_error_t *err)
{
    size_t n = strlen(path);
    bool ok = n >= 1 && n <= IAM_DIR_PATH_MAX && path[0] == '/' && path[n - 1] == '/';
    for (size_t i = 0; ok && i < n; i++)
        ok = path[i] >= 0x21 && path[i] <= 0x7e;
    if (!ok)
        return aws_error_set(err, 400, "ValidationError",
                             "The specified value for path is invalid. It must begin and end "
                             "with / and contain only alphanumeric characters and/or / "
                             "characters.");
    return 0;
}

/* Tag keys 1-128 and values 0-256 characters of text; no key twice (IAM's
 * keys are case-insensitive). */
int dir_tags_check(const iam_dir_tag_t *t, size_t n, aws_error_t *err)
{
    for (size_t i = 0; i < n; i++) {
        size_t kl = t[i].key ? strlen(t[i].key) : 0, vl = t[i].value ? strlen(t[i].value) : 0;
        bool text = true;
        for (size_t k = 0; k < kl; k++)
            text = text && (unsigned char)t[i].key[k] >= 0x20;
        for (size_t k = 0; k < vl; k++)
            text = text && (unsigned char)t[i].value[k] >= 0x20;
        if (kl == 0 || kl > 128 || vl > 256 || !text)
            return aws_error_set(err, 400, "ValidationError",
                                 "1 validation error detected: Value at 'tags.%zu.member' failed "
                                 "to satisfy constraint: Tag keys must have 1 to 128 and values "
                                 "0 to 256 characters of text",
                                 i + 1);
        for (size_t j = 0; j < i; j++)
            if (!strcasecmp(t[i].key, t[j].key))
                return aws_error_set(err, 400, "InvalidInput",
                                     "Duplicate tag keys found. Please note that Tag keys are "
                                     "case insensitive.");
    }
    return 0;
}

/* Adds or replaces tags in place; the caller checked them and the quota. */
void dir_tags_merge(iam_dir_tag_t **tags, size_t *n, const iam_dir_tag_t *in, size_t n_in)
{
    for (size_t i = 0; i < n_in; i++) {
        size_t j = 0;
        while (j < *n && strcasecmp((*tags)[j].key, in[i].key))
            j++;
        if (j == *n) {
            *tags = xrealloc(*tags, (*n + 1) * sizeof(**tags));
            (*n)++;
        } else {
            free((*tags)[j].key);
            free((*tags)[j].value);
        }
        (*tags)[j].key = xstrdup(in[i].key);
        (*tags)[j].value = xstrdup(in[i].value ? in[i].value : "");
    }
}

/* How many tags there would be after merging in[] into tags[]. */
static size_t tags_after(const iam_dir_tag_t *tags, size_t n, const iam_dir_tag_t *in, size_t n_in)
{
    size_t total = n;
    for (size_t i = 0; i < n_in; i++) {
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = !strcasecmp(tags[j].key, in[i].key);
        total += !seen;
    }
    return total;
}

static int role_session_check(int s, aws_error_t *err)
{
    if (s < IAM_DIR_SESSION_MIN || s > IAM_DIR_SESSION_MAX)
        return aws_error_set(
            err, 400, "ValidationError",
            "1 validation error detected: Value '%d' at 'maxSessionDuration' "
            "failed to satisfy constraint: Member must have value %s %d",
            s, s < IAM_DIR_SESSION_MIN ? "greater than or equal to" : "less than or equal to",
            s < IAM_DIR_SESSION_MIN ? IAM_DIR_SESSION_MIN : IAM_DIR_SESSION_MAX);
    return 0;
}

static int description_check(const char *s, aws_error_t *err)
{
    if (s && strlen(s) > IAM_DIR_DESCRIPTION_MAX)
        return aws_error_set(err, 400, "ValidationError",
                             "1 validation error detected: Value at 'description' failed to "
                             "satisfy constraint: Member must have length less than or equal "
                             "to %d",
                             IAM_DIR_DESCRIPTION_MAX);
    return 0;
}

/* A trust policy: parsed, and within ACLSizePerRole. */
static int trust_parse(const char *text, iam_policy_t **out, aws_error_t *err)
{
    if (dir_parse(text, IAM_POLICY_TRUST, out, err) < 0)
        return -1;
    if (iam_policy_size(text, strlen(text)) > IAM_POLICY_MAX_TRUST) {
        iam_policy_free(*out);
        *out = NULL;
        return aws_error_set(err, 409, "LimitExceeded",
                             "Cannot exceed quota for ACLSizePerRole: %d", IAM_POLICY_MAX_TRUST);
    }
    return 0;
}

/* ---- the directory ------------------------------------------------------------------------ */

iam_dir_t *iam_dir_new(const iam_dir_journal_t *journal)
{
    iam_dir_t *d = xcalloc(1, sizeof(*d));
    if (journal)
        d->journal = *journal;
    d->aws = dir_managed_build(&d->n_aws);
    return d;
}

void iam_dir_free(iam_dir_t *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_accounts; i++) {
        account_t *a = d->accounts[i];
        for (int k = 0; k < 3; k++) {
            for (size_t j = 0; j < a->n_ents[k]; j++)
                dir_entity_free(a->ents[k][j]);
            free(a->ents[k]);
        }
        for (size_t j = 0; j < a->n_pols; j++)
            dir_policy_free(a->pols[j]);
        free(a->pols);
        free(a);
    }
    free(d->accounts);
    for (size_t i = 0; i < d->n_aws; i++)
        dir_policy_free(d->aws[i]);
    free(d->aws);
    free(d);
}

int iam_dir_add_account(iam_dir_t *d, const char *account)
{
    return dir_account_add(d, account) ? 0 : -1;
}

uint64_t iam_dir_generation(const iam_dir_t *d)
{
    return d->generation;
}

/* ---- entities ------------------------------------------------------------------------------ */

const iam_dir_entity_t *iam_dir_entity_get(const iam_dir_t *d, const char *account,
                                           iam_dir_kind_t kind, const char *name)
{
    account_t *a = dir_account(d, account);
    bool found;
    if (!a || !name)
        return NULL;
    size_t i = dir_entity_index(a->ents[kind], a->n_ents[kind], name, &found);
    return found ? a->ents[kind][i] : NULL;
}

int iam_dir_entity_find(const iam_dir_t *d, const char *account, iam_dir_kind_t kind,
                        const char *name, const iam_dir_entity_t **out, aws_error_t *err)
{
    const iam_dir_entity_t *e = iam_dir_entity_get(d, account, kind, name);
    if (!e)
        return aws_error_set(err, 404, "NoSuchEntity", "The %s with name %.200s cannot be found.",
                             dir_kind_info[kind].word, name ? name : "");
    *out = e;
    return 0;
}

/* The same, writable: for mutations. */
static iam_dir_entity_t *find_mut(iam_dir_t *d, const char *account, iam_dir_kind_t kind,
                                  const char *name, aws_error_t *err)
{
    const iam_dir_entity_t *e = NULL;
    return iam_dir_entity_find(d, account, kind, name, &e, err) < 0 ? NULL : (iam_dir_entity_t *)e;
}

const iam_dir_entity_t *const *iam_dir_entity_list(const iam_dir_t *d, const char *account,
                                                   iam_dir_kind_t kind, size_t *n)
{
    account_t *a = dir_account(d, account);
    *n = a ? a->n_ents[kind] : 0;
    return a ? (const iam_dir_entity_t *const *)a->ents[kind] : NULL;
}

/* A managed policy by ARN for this account (its own or AWS's), or NULL. */
static const iam_dir_policy_t *policy_by_arn(const iam_dir_t *d, const char *account,
                                             const char *arn)
{
    const iam_dir_policy_t *p = NULL;
    aws_error_t err;
    return arn && iam_dir_policy_find(d, account, arn, &p, &err) == 0 ? p : NULL;
}

static int boundary_check(const iam_dir_t *d, const char *account, const char *arn,
                          aws_error_t *err)
{
    if (!policy_by_arn(d, account, arn))
        return aws_error_set(err, 404, "NoSuchEntity",
                             "Scope ARN: %.300s does not exist or is not attachable.", arn);
    return 0;
}

/* Checks what CreateUser/Group/Role takes; the role's trust policy comes back compiled. */
static int create_check(const iam_dir_t *d, account_t *a, iam_dir_kind_t kind,
                        const iam_dir_create_t *in, iam_policy_t **trust, aws_error_t *err)
{
    const kind_info_t *k = &dir_kind_info[kind];
    bool found;
    *trust = NULL;
    if (dir_name_check(in->name, k->name_field, k->name_max, err) < 0 ||
        dir_path_check(in->path ? in->path : "/", err) < 0 ||
        dir_tags_check(in->tags, in->n_tags, err) < 0)
        return -1;
    if (k->tags_quota && in->n_tags > IAM_DIR_TAGS_MAX)
        return aws_error_set(err, 409, "LimitExceeded", "Cannot exceed quota for %s: %d",
                             k->tags_quota, IAM_DIR_TAGS_MAX);
    if (in->boundary && boundary_check(d, a->id, in->boundary, err) < 0)
        return -1;
    dir_entity_index(a->ents[kind], a->n_ents[kind], in->name, &found);
    if (found)
        return aws_error_set(err, 409, "EntityAlreadyExists", "%c%s with name %s already exists.",
                             k->word[0] - 'a' + 'A', k->word + 1, in->name);
    if (a->n_ents[kind] >= k->account_max)
        return aws_error_set(err, 409, "LimitExceeded", "Cannot exceed quota for %s: %zu",
                             k->account_quota, k->account_max);
    if (kind != IAM_DIR_ROLE)
        return 0;
    int max_session = in->max_session ? in->max_session : IAM_DIR_SESSION_DEFAULT;
    if (role_session_check(max_session, err) < 0 || description_check(in->description, err) < 0)
        return -1;
    return trust_parse(in->trust_text, trust, err);
}

static void entity_insert(account_t *a, iam_dir_entity_t *e)
{
    bool found;
    iam_dir_kind_t kind = e->kind;
    size_t i = dir_entity_index(a->ents[kind], a->n_ents[kind], e->name, &found);
    a->ents[kind] = xrealloc(a->ents[kind], (a->n_ents[kind] + 1) * sizeof(*a->ents[kind]));
    memmove(&a->ents[kind][i + 1], &a->ents[kind][i], (a->n_ents[kind] - i) * sizeof(e));
    a->ents[kind][i] = e;
    a->n_ents[kind]++;
}

/* Inserts a restored entity: refused when the name is taken. */
int dir_entity_adopt(iam_dir_t *d, iam_dir_entity_t *e)
{
    account_t *a = dir_account_add(d, e->account);
    bool found;
    if (!a)
        return -1;
    dir_entity_index(a->ents[e->kind], a->n_ents[e->kind], e->name, &found);
    if (found)
        return -1;
    if (e->kind == IAM_DIR_USER) {
        const iam_dir_user_t *u = (const iam_dir_user_t *)e;
        iam_dir_key_t probe;
        for (size_t i = 0; i < u->n_keys; i++)
            if (iam_dir_key_lookup(d, u->keys[i].id, &probe) == 0)
                return -1; /* a key belongs to one user */
    }
    entity_insert(a, e);
    dir_changed(d);
    return 0;
}

int iam_dir_entity_create(iam_dir_t *d, const char *account, iam_dir_kind_t kind,
                          const iam_dir_create_t *in, const iam_dir_entity_t **out,
                          aws_error_t *err)
{
    account_t *a = dir_account(d, account);
    iam_policy_t *trust;
    char id[32];
    if (!a)
        return aws_error_set(err, 404, "NoSuchEntity", "The account %s is not known.", account);
    if (create_check(d, a, kind, in, &trust, err) < 0)
        return -1;
    iam_dir_entity_t *e = xcalloc(1, dir_kind_info[kind].size);
    e->kind = kind;
    snprintf(e->account, sizeof(e->account), "%s", a->id);
    e->name = xstrdup(in->name);
    e->path = xstrdup(in->path ? in->path : "/");
    dir_random_id(dir_kind_info[kind].id_prefix, 17, id);
    e->id = xstrdup(id);
    e->create_ms = in->now_ms;
    e->boundary = dup_or_null(in->boundary);
    dir_tags_merge(&e->tags, &e->n_tags, in->tags, in->n_tags);
    if (kind == IAM_DIR_ROLE) {
        iam_dir_role_t *r = (iam_dir_role_t *)e;
        r->trust_text = xstrdup(in->trust_text);
        r->trust = trust;
        r->max_session = in->max_session ? in->max_session : IAM_DIR_SESSION_DEFAULT;
        r->description = dup_or_null(in->description);
    }
    dir_entity_derive(e);
    entity_insert(a, e);
    save_entity(d, e);
    *out = e;
    return 0;
}

static bool has_members(const account_t *a, const char *group)
{
    for (size_t i = 0; i < a->n_ents[IAM_DIR_USER]; i++)
        if (iam_dir_group_has((const iam_dir_user_t *)a->ents[IAM_DIR_USER][i], group))
            return true;
    return false;
}

static int delete_check(const account_t *a, const iam_dir_entity_t *e, aws_error_t *err)
{
    const char *what = NULL;
    if (e->kind == IAM_DIR_USER && ((const iam_dir_user_t *)e)->n_keys)
        what = "must delete access keys first";
    else if (e->n_inline)
        what = "must delete policies first";
    else if (e->n_attached)
        what = "must detach all policies first";
    else if ((e->kind == IAM_DIR_USER && ((const iam_dir_user_t *)e)->n_groups) ||
             (e->kind == IAM_DIR_GROUP && has_members(a, e->name)))
        what = "must remove users from group first";
    if (what)
        return aws_error_set(err, 409, "DeleteConflict", "Cannot delete entity, %s.", what);
    return 0;
}

int iam_dir_entity_delete(iam_dir_t *d, const char *account, iam_dir_kind_t kind, const char *name,
                          aws_error_t *err)
{
    iam_dir_entity_t *e = find_mut(d, account, kind, name, err);
    if (!e)
        return -1;
    account_t *a = dir_account(d, account);
    if (delete_check(a, e, err) < 0)
        return -1;
    bool found;
    size_t i = dir_entity_index(a->ents[kind], a->n_ents[kind], e->name, &found);
    memmove(&a->ents[kind][i], &a->ents[kind][i + 1], (a->n_ents[kind] - i - 1) * sizeof(e));
    a->n_ents[kind]--;
    drop_entity(d, e);
    dir_entity_free(e);
    return 0;
}

/* Users and roles carry tags and boundaries; groups do not. */
static iam_dir_entity_t *find_tagged(iam_dir_t *d, const char *account, iam_dir_kind_t kind,
                                     const char *name, aws_error_t *err)
{
    if (!dir_kind_info[kind].tags_quota) {
        aws_error_set(err, 400, "InvalidInput", "Only users and roles have tags and boundaries.");
        return NULL;
    }
    return find_mut(d, account, kind, name, err);
}

int iam_dir_entity_tag(iam_dir_t *d, const char *account, iam_dir_kind_t kind, const char *name,
                       const iam_dir_tag_t *tags, size_t n, aws_error_t *err)
{
    iam_dir_entity_t *e = find_tagged(d, account, kind, name, err);
    if (!e || dir_tags_check(tags, n, err) < 0)
        return -1;
    if (tags_after(e->tags, e->n_tags, tags, n) > IAM_DIR_TAGS_MAX)
        return aws_error_set(err, 409, "LimitExceeded", "Cannot exceed quota for %s: %d",
                             dir_kind_info[kind].tags_quota, IAM_DIR_TAGS_MAX);
    dir_tags_merge(&e->tags, &e->n_tags, tags, n);
    save_entity(d, e);
    return 0;
}

int iam_dir_entity_untag(iam_dir_t *d, const char *account, iam_dir_kind_t kind, const char *name,
                         const char *const *keys, size_t n, aws_error_t *err)
{
    iam_dir_entity_t *e = find_tagged(d, account, kind, name, err);
    if (!e)
        return -1;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < e->n_tags; j++) {
            if (strcasecmp(e->tags[j].key, keys[i]))
                continue;
            free(e->tags[j].key);
            free(e->tags[j].value);
            e->tags[j] = e->tags[--e->n_tags];
            break;
        }
    }
    save_entity(d, e);
    return 0;
}

int iam_dir_boundary_set(iam_dir_t *d, const char *account, iam_dir_kind_t kind, const char *name,
                         const char *arn, aws_error_t *err)
{
    iam_dir_entity_t *e = find_tagged(d, account, kind, name, err);
    if (!e || (arn && boundary_check(d, account, arn, err) < 0))
        return -1;
    const iam_dir_policy_t *p = arn ? policy_by_arn(d, account, arn) : NULL;
    free(e->boundary);
    e->boundary = p ? xstrdup(p->arn) : NULL;
    save_entity(d, e);
    return 0;
}

/* ---- inline and attached policies ---------------------------------------------------------- */

static size_t inline_index(const iam_dir_entity_t *e, const char *name, bool *found)
{
    size_t i = 0;
    while (i < e->n_inline && strcasecmp(e->inl[i].name, name) < 0)
        i++;
    *found = i < e->n_inline && !strcasecmp(e->inl[i].name, name);
    return i;
}

/* The characters of inline policy the entity would hold with text as policy i. */
static size_t inline_total(const iam_dir_entity_t *e, size_t skip, const char *text)
{
    size_t total = iam_policy_size(text, strlen(text));
    for (size_t i = 0; i < e->n_inline; i++)
        if (i != skip)
            total += iam_policy_size(e->inl[i].text, strlen(e->inl[i].text));
    return total;
}

int iam_dir_inline_put(iam_dir_t *d, const char *account, iam_dir_kind_t kind, const char *entity,
                       const char *policy_name, const char *text, aws_error_t *err)
{
    const kind_info_t *k = &dir_kind_info[kind];
    iam_dir_entity_t *e = find_mut(d, account, kind, entity, err);
    iam_policy_t *pol;
    bool found;
    if (!e || dir_name_check(policy_name, "policyName", 128, err) < 0 ||
        dir_parse(text, IAM_POLICY_IDENTITY, &pol, err) < 0)
        return -1;
    size_t i = inline_index(e, policy_name, &found);
    if (inline_total(e, found ? i : SIZE_MAX, text) > k->inline_quota) {
        iam_policy_free(pol);
        return aws_error_set(err, 409, "LimitExceeded",
                             "Maximum policy size of %zu bytes exceeded for %s %s", k->inline_quota,
                             k->word, e->name);
    }
    if (found) {
        inline_clear(&e->inl[i]);
    } else {
        e->inl = xrealloc(e->inl, (e->n_inline + 1) * sizeof(*e->inl));
        memmove(&e->inl[i + 1], &e->inl[i], (e->n_inline - i) * sizeof(*e->inl));
        e->n_inline++;
    }
    e->inl[i] =
        (iam_dir_inline_t){.name = xstrdup(policy_name), .text = xstrdup(text), .policy = pol};
    dir_entity_derive(e);
    save_entity(d, e);
    return 0;
}

int iam_dir_inline_get(const iam_dir_t *d, const char *account, iam_dir_kind_t kind,
                       const char *entity, const char *policy_name, const iam_dir_inline_t **out,
                       aws_error_t *err)
{
    const iam_dir_entity_t *e = NULL;
    bool found = false;
    if (iam_dir_entity_find(d, account, kind, entity, &e, err) < 0)
        return -1;
    size_t i = policy_name ? inline_index(e, policy_name, &found) : 0;
    if (!policy_name || !found)
        return aws_error_set(err, 404, "NoSuchEntity",
                             "The %s policy with name %.200s cannot be found.",
                             dir_kind_info[kind].word, policy_name ? policy_name : "");
    *out = &e->inl[i];
    return 0;
}

int iam_dir_inline_delete(iam_dir_t *d, const char *account, iam_dir_kind_t kind,
                          const char *entity, const char *policy_name, aws_error_t *err)
{
    const iam_dir_inline_t *p;
    if (iam_dir_inline_get(d, account, kind, entity, policy_name, &p, err) < 0)
        return -1;
    iam_dir_entity_t *e = find_mut(d, account, kind, entity, err);
    size_t i = (size_t)(p - e->inl);
    inline_clear(&e->inl[i]);
    memmove(&e->inl[i], &e->inl[i + 1], (e->n_inline - i - 1) * sizeof(*e->inl));
    e->n_inline--;
    save_entity(d, e);
    return 0;
}

static size_t attached_index(const iam_dir_entity_t *e, const char *arn)
{
    size_t i = 0;
    while (i < e->n_attached && strcasecmp(e->attached[i], arn))
        i++;
    return i;
}

int iam_dir_attach(iam_dir_t *d, const char *account, iam_dir_kind_t kind, const char *entity,
                   const char *policy_arn, aws_error_t *err)
{
    iam_dir_entity_t *e = find_mut(d, account, kind, entity, err);
    const iam_dir_policy_t *p;
    if (!e || iam_dir_policy_find(d, account, policy_arn, &p, err) < 0) {
        if (e && !strcmp(err->code, "NoSuchEntity"))
            aws_error_set(err, 404, "NoSuchEntity",
                          "Policy %.300s does not exist or is not attachable.", policy_arn);
        return -1;
    }
    if (attached_index(e, p->arn) < e->n_attached)
        return 0;
    if (e->n_attached >= IAM_DIR_ATTACHED_MAX)
        return aws_error_set(err, 409, "LimitExceeded", "Cannot exceed quota for %s: %d",
                             dir_kind_info[kind].attached_quota, IAM_DIR_ATTACHED_MAX);
    e->attached = xrealloc(e->attached, (e->n_attached + 1) * sizeof(*e->attached));
    e->attached[e->n_attached++] = xstrdup(p->arn);
    save_entity(d, e);
    return 0;
}

int iam_dir_detach(iam_dir_t *d, const char *account, iam_dir_kind_t kind, const char *entity,
                   const char *policy_arn, aws_error_t *err)
{
    iam_dir_entity_t *e = find_mut(d, account, kind, entity, err);
    if (!e)
        return -1;
    size_t i = policy_arn ? attached_index(e, policy_arn) : e->n_attached;
    if (i == e->n_attached)
        return aws_error_set(err, 404, "NoSuchEntity", "Policy %.300s was not found.",
                             policy_arn ? policy_arn : "");
    free(e->attached[i]);
    memmove(&e->attached[i], &e->attached[i + 1], (e->n_attached - i - 1) * sizeof(char *));
    e->n_attached--;
    save_entity(d, e);
    return 0;
}

/* ---- users: access keys and groups ----------------------------------------------------------- */

static iam_dir_user_t *user_mut(iam_dir_t *d, const char *account, const char *name,
                                aws_error_t *err)
{
    return (iam_dir_user_t *)find_mut(d, account, IAM_DIR_USER, name, err);
}

int iam_dir_key_create(iam_dir_t *d, const char *account, const char *user, uint64_t now_ms,
                       const iam_dir_akey_t **out, aws_error_t *err)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    iam_dir_user_t *u = user_mut(d, account, user, err);
    iam_dir_key_t probe;
    unsigned char r[40];
    if (!u)
        return -1;
    if (u->n_keys >= IAM_DIR_KEYS_PER_USER)
        return aws_error_set(err, 409, "LimitExceeded",
                             "Cannot exceed quota for AccessKeysPerUser: %d",
                             IAM_DIR_KEYS_PER_USER);
    iam_dir_akey_t *k = &u->keys[u->n_keys];
    do
        dir_random_id("AKIA", 16, k->id);
    while (iam_dir_key_lookup(d, k->id, &probe) == 0);
    ids_random(r, sizeof(r));
    for (size_t i = 0; i < sizeof(r); i++)
        k->secret[i] = b64[r[i] % 64];
    k->secret[sizeof(r)] = '\0';
    k->active = true;
    k->create_ms = now_ms;
    u->n_keys++;
    save_entity(d, &u->e);
    *out = k;
    return 0;
}

static iam_dir_akey_t *user_key(iam_dir_user_t *u, const char *key_id, aws_error_t *err)
{
    for (size_t i = 0; key_id && i < u->n_keys; i++)
        if (!strcmp(u->keys[i].id, key_id))
            return &u->keys[i];
    aws_error_set(err, 404, "NoSuchEntity", "The Access Key with id %.128s cannot be found.",
                  key_id ? key_id : "");
    return NULL;
}

int iam_dir_key_update(iam_dir_t *d, const char *account, const char *user, const char *key_id,
                       bool active, aws_error_t *err)
{
    iam_dir_user_t *u = user_mut(d, account, user, err);
    iam_dir_akey_t *k = u ? user_key(u, key_id, err) : NULL;
    if (!k)
        return -1;
    k->active = active;
    save_entity(d, &u->e);
    return 0;
}

int iam_dir_key_delete(iam_dir_t *d, const char *account, const char *user, const char *key_id,
                       aws_error_t *err)
{
    iam_dir_user_t *u = user_mut(d, account, user, err);
    iam_dir_akey_t *k = u ? user_key(u, key_id, err) : NULL;
    if (!k)
        return -1;
    size_t i = (size_t)(k - u->keys);
    memmove(&u->keys[i], &u->keys[i + 1], (u->n_keys - i - 1) * sizeof(*k));
    u->n_keys--;
    save_entity(d, &u->e);
    return 0;
}

bool iam_dir_group_has(const iam_dir_user_t *user, const char *group)
{
    for (size_t i = 0; i < user->n_groups; i++)
        if (!strcasecmp(user->groups[i], group))
            return true;
    return false;
}

/* The group and the user a membership change names: the user, or NULL with NoSuchEntity. */
static iam_dir_user_t *membership(iam_dir_t *d, const char *account, const char *group,
                                  const char *user, const iam_dir_entity_t **g, aws_error_t *err)
{
    if (iam_dir_entity_find(d, account, IAM_DIR_GROUP, group, g, err) < 0)
        return NULL;
    return user_mut(d, account, user, err);
}

int iam_dir_group_add(iam_dir_t *d, const char *account, const char *group, const char *user,
                      aws_error_t *err)
{
    const iam_dir_entity_t *g = NULL;
    iam_dir_user_t *u = membership(d, account, group, user, &g, err);
    if (!u)
        return -1;
    if (iam_dir_group_has(u, g->name))
        return 0;
    if (u->n_groups >= IAM_DIR_GROUPS_PER_USER)
        return aws_error_set(err, 409, "LimitExceeded", "Cannot exceed quota for GroupsPerUser: %d",
                             IAM_DIR_GROUPS_PER_USER);
    u->groups = xrealloc(u->groups, (u->n_groups + 1) * sizeof(*u->groups));
    u->groups[u->n_groups++] = xstrdup(g->name);
    save_entity(d, &u->e);
    return 0;
}

int iam_dir_group_remove(iam_dir_t *d, const char *account, const char *group, const char *user,
                         aws_error_t *err)
{
    const iam_dir_entity_t *g = NULL;
    iam_dir_user_t *u = membership(d, account, group, user, &g, err);
    if (!u)
        return -1;
    for (size_t i = 0; i < u->n_groups; i++) {
        if (strcasecmp(u->groups[i], g->name))
            continue;
        free(u->groups[i]);
        memmove(&u->groups[i], &u->groups[i + 1], (u->n_groups - i - 1) * sizeof(char *));
        u->n_groups--;
        save_entity(d, &u->e);
        return 0;
    }
    return aws_error_set(err, 404, "NoSuchEntity", "The user with name %s cannot be found.", user);
}

/* ---- roles ------------------------------------------------------------------------------------
 */

int iam_dir_role_trust_set(iam_dir_t *d, const char *account, const char *role, const char *text,
                           aws_error_t *err)
{
    iam_dir_role_t *r = (iam_dir_role_t *)find_mut(d, account, IAM_DIR_ROLE, role, err);
    iam_policy_t *trust;
    if (!r || trust_parse(text, &trust, err) < 0)
        return -1;
    free(r->trust_text);
    iam_policy_free(r->trust);
    r->trust_text = xstrdup(text);
    r->trust = trust;
    dir_entity_derive(&r->e);
    save_entity(d, &r->e);
    return 0;
}

int iam_dir_role_update(iam_dir_t *d, const char *account, const char *role,
                        const char *description, int max_session, aws_error_t *err)
{
    iam_dir_role_t *r = (iam_dir_role_t *)find_mut(d, account, IAM_DIR_ROLE, role, err);
    if (!r || (max_session && role_session_check(max_session, err) < 0) ||
        description_check(description, err) < 0)
        return -1;
    if (description) {
        free(r->description);
        r->description = xstrdup(description);
    }
    if (max_session)
        r->max_session = max_session;
    save_entity(d, &r->e);
    return 0;
}

/* ---- lookups ----------------------------------------------------------------------------------
 */

int iam_dir_key_lookup(const iam_dir_t *d, const char *access_key_id, iam_dir_key_t *out)
{
    for (size_t a = 0; access_key_id && a < d->n_accounts; a++) {
        const account_t *acct = d->accounts[a];
        for (size_t i = 0; i < acct->n_ents[IAM_DIR_USER]; i++) {
            const iam_dir_user_t *u = (const iam_dir_user_t *)acct->ents[IAM_DIR_USER][i];
            for (size_t k = 0; k < u->n_keys; k++) {
                if (strcmp(u->keys[k].id, access_key_id))
                    continue;
                *out = (iam_dir_key_t){u->e.account, u->e.name,         u->e.arn,
                                       u->e.id,      u->keys[k].secret, u->keys[k].active};
                return 0;
            }
        }
    }
    return -1;
}

/* Appends an entity's inline and attached policies to out (up to cap); returns the new count. */
static size_t entity_refs(const iam_dir_t *d, const iam_dir_entity_t *e, iam_policy_ref_t *out,
                          size_t n, size_t cap)
{
    for (size_t i = 0; i < e->n_inline; i++, n++)
        if (n < cap)
            out[n] = e->inl[i].ref;
    for (size_t i = 0; i < e->n_attached; i++) {
        const iam_dir_policy_t *p = policy_by_arn(d, e->account, e->attached[i]);
        if (!p)
            continue;
        if (n < cap)
            out[n] = p->ref;
        n++;
    }
    return n;
}

static void boundary_ref(const iam_dir_t *d, const iam_dir_entity_t *e,
                         const iam_policy_ref_t **boundary)
{
    const iam_dir_policy_t *p = e && e->boundary ? policy_by_arn(d, e->account, e->boundary) : NULL;
    if (boundary)
        *boundary = p ? &p->ref : NULL;
}

size_t iam_dir_user_policies(iam_dir_t *d, const char *account, const char *user_name,
                             iam_policy_ref_t *out, size_t cap, const iam_policy_ref_t **boundary)
{
    const iam_dir_user_t *u =
        (const iam_dir_user_t *)iam_dir_entity_get(d, account, IAM_DIR_USER, user_name);
    size_t n = 0;
    boundary_ref(d, u ? &u->e : NULL, boundary);
    if (!u)
        return 0;
    n = entity_refs(d, &u->e, out, n, cap);
    for (size_t i = 0; i < u->n_groups; i++) {
        const iam_dir_entity_t *g = iam_dir_entity_get(d, account, IAM_DIR_GROUP, u->groups[i]);
        if (g)
            n = entity_refs(d, g, out, n, cap);
    }
    return n;
}

size_t iam_dir_role_policies(iam_dir_t *d, const char *account, const char *role_name_or_arn,
                             iam_policy_ref_t *out, size_t cap, const iam_policy_ref_t **boundary)
{
    const iam_dir_role_t *r = iam_dir_role_get(d, account, role_name_or_arn);
    boundary_ref(d, r ? &r->e : NULL, boundary);
    return r ? entity_refs(d, &r->e, out, 0, cap) : 0;
}

const iam_dir_role_t *iam_dir_role_get(const iam_dir_t *d, const char *account,
                                       const char *role_name_or_arn)
{
    const char *s = role_name_or_arn;
    char acct[16];
    if (s && !strncmp(s, "arn:aws:iam::", 13)) {
        const char *colon = strchr(s + 13, ':');
        if (!colon || colon - (s + 13) != 12 || strncmp(colon + 1, "role/", 5))
            return NULL;
        snprintf(acct, sizeof(acct), "%.12s", s + 13);
        const iam_dir_entity_t *e =
            iam_dir_entity_get(d, acct, IAM_DIR_ROLE, strrchr(colon + 1, '/') + 1);
        return e && !strcasecmp(e->arn, s) ? (const iam_dir_role_t *)e : NULL;
    }
    return (const iam_dir_role_t *)iam_dir_entity_get(d, account, IAM_DIR_ROLE, s);
}

size_t iam_dir_user_tags(const iam_dir_t *d, const char *account, const char *user_name,
                         const iam_dir_tag_t **tags)
{
    const iam_dir_entity_t *e = iam_dir_entity_get(d, account, IAM_DIR_USER, user_name);
    *tags = e ? e->tags : NULL;
    return e ? e->n_tags : 0;
}

/* ---- restore ------------------------------------------------------------------------------------
 */

int iam_dir_restore(iam_dir_t *d, const char *kind, const char *key, const void *blob, size_t len)
{
    char account[16];
    const char *slash = key ? strchr(key, '/') : NULL;
    if (!slash || slash - key != 12)
        return -1;
    snprintf(account, sizeof(account), "%.12s", key);
    if (!account_valid(account))
        return -1;
    if (!strcmp(kind, "iam-policy")) {
        iam_dir_policy_t *p = dir_rec_policy_parse(account, blob, len);
        if (!p || strcasecmp(p->name, slash + 1) || dir_policy_adopt(d, p) < 0) {
            dir_policy_free(p);
            return -1;
        }
        return 0;
    }
    for (int k = 0; k < 3; k++) {
        if (strcmp(kind, dir_kind_info[k].record))
            continue;
        iam_dir_entity_t *e = dir_rec_entity_parse((iam_dir_kind_t)k, account, blob, len);
        if (!e || strcasecmp(e->name, slash + 1) || dir_entity_adopt(d, e) < 0) {
            dir_entity_free(e);
            return -1;
        }
        return 0;
    }
    return -1;
}
