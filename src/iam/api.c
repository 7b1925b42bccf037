/*
 * api — the IAM actions: decoded input (a jansson tree from the query codec)
 * → directory → output tree, one thin handler per action.
 *
 * Each table entry declares its IAM action and how the resource ARN follows
 * from the input, so the gateway authorizes before any handler runs: user
 * actions name the user's ARN, group and role actions theirs, policy actions
 * the policy's ARN, and the List* actions without a subject the ARN prefix of
 * what they list (arn:aws:iam::ACCOUNT:user/ + PathPrefix), as AWS's
 * AccessDenied messages show. Documents go out percent-encoded, as IAM sends
 * them (botocore decodes them back into dicts). Lists page with Marker and
 * MaxItems (1-1000, default 100); a marker is the key of the next item.
 */
#include "iam/service.h"
#include "base/clock.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_ITEMS_DEFAULT 100
#define MAX_ITEMS_MAX     1000

static const char *const name_member[3] = {"UserName", "GroupName", "RoleName"};
static const char *const id_member[3] = {"UserId", "GroupId", "RoleId"};
static const char *const arn_word[3] = {"user", "group", "role"};

/* ---- small helpers ------------------------------------------------------------------------ */

static iam_dir_t *dir(const aws_call_t *c)
{
    return iam_service_dir(c->svc->state);
}

static const char *account_of(const aws_call_t *c)
{
    return c->principal.account;
}

/* IAM's timestamps: ISO 8601 in UTC, to the second. */
static json_t *date(uint64_t ms)
{
    char b[24];
    clock_iso8601(ms, b);
    return json_string(b);
}

/* A policy document as IAM returns it: percent-encoded (RFC 3986 unreserved
 * characters kept), which botocore's IAM handler unquotes and parses. */
static json_t *doc(const char *text)
{
    buf_t b;
    buf_init(&b, 0);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
            buf_putc(&b, (char)*p);
        else
            buf_printf(&b, "%%%02X", *p);
    }
    json_t *s = json_stringn(b.data, b.len);
    buf_free(&b);
    return s;
}

/* The caller's user name when the caller is an IAM user, else NULL. */
static const char *caller_user(const aws_call_t *c)
{
    return strstr(c->principal.arn, ":user/") ? strrchr(c->principal.arn, '/') + 1 : NULL;
}

/* UserName, or the calling user's own name when it is absent (GetUser,
 * CreateAccessKey, ...). NULL with ValidationError for a caller that is not a
 * user, as IAM answers. */
static const char *user_or_caller(aws_call_t *c)
{
    const char *name = aws_jstr(c->in, "UserName");
    if (!name)
        name = caller_user(c);
    if (!name)
        aws_error_set(&c->err, 400, "ValidationError",
                      "Must specify userName when calling with non-User credentials");
    return name;
}

/* Tags from a Tags member (strings borrowed from the tree); the caller frees the array. */
static iam_dir_tag_t *tags_in(const json_t *list, size_t *n)
{
    size_t i;
    json_t *t;
    iam_dir_tag_t *tags = xcalloc(json_array_size(list) + 1, sizeof(*tags));
    json_array_foreach(list, i, t) tags[i] =
        (iam_dir_tag_t){(char *)aws_jstr(t, "Key"), (char *)aws_jstr(t, "Value")};
    *n = json_array_size(list);
    return tags;
}

static json_t *tags_json(const iam_dir_tag_t *t, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s,s:s}", "Key", t[i].key, "Value", t[i].value));
    return a;
}

/* ---- pages ------------------------------------------------------------------------------------
 */

typedef struct page {
    json_t *items;
    json_t *keys;
} page_t;

static void page_init(page_t *pg)
{
    pg->items = json_array();
    pg->keys = json_array();
}

static void page_add(page_t *pg, const char *key, json_t *item)
{
    json_array_append_new(pg->items, item);
    json_array_append_new(pg->keys, json_string(key));
}

/* Sets member to the page of items that Marker and MaxItems select, and
 * IsTruncated/Marker, in c->out (created if needed). Frees pg. 0, or -1 with
 * ValidationError for a MaxItems out of range. */
static int page_out(aws_call_t *c, page_t *pg, const char *member)
{
    const json_t *mi = json_object_get(c->in, "MaxItems");
    json_int_t max = mi ? json_integer_value(mi) : MAX_ITEMS_DEFAULT;
    const char *marker = aws_jstr(c->in, "Marker");
    size_t n = json_array_size(pg->items), start = 0;
    int rc = -1;
    if (max < 1 || max > MAX_ITEMS_MAX) {
        aws_error_set(&c->err, 400, "ValidationError",
                      "1 validation error detected: Value '%lld' at 'maxItems' failed to satisfy "
                      "constraint: Member must have value %s %d",
                      (long long)max,
                      max < 1 ? "greater than or equal to" : "less than or equal to",
                      max < 1 ? 1 : MAX_ITEMS_MAX);
        goto out;
    }
    /* The marker is the next item's key; if that item went away meanwhile,
     * resume at the first key after it. */
    while (marker && start < n &&
           strcasecmp(json_string_value(json_array_get(pg->keys, start)), marker) < 0)
        start++;
    size_t end = start + (size_t)max < n ? start + (size_t)max : n;
    json_t *page = json_array();
    for (size_t i = start; i < end; i++)
        json_array_append(page, json_array_get(pg->items, i));
    if (!c->out)
        c->out = json_object();
    json_object_set_new(c->out, member, page);
    json_object_set_new(c->out, "IsTruncated", json_boolean(end < n));
    if (end < n)
        json_object_set(c->out, "Marker", json_array_get(pg->keys, end));
    rc = 0;
out:
    json_decref(pg->items);
    json_decref(pg->keys);
    return rc;
}

/* ---- output shapes -----------------------------------------------------------------------------
 */

static json_t *boundary_json(const char *arn)
{
    return json_pack("{s:s,s:s}", "PermissionsBoundaryType", "Policy", "PermissionsBoundaryArn",
                     arn);
}

/* A User, Group or Role; `full` adds what only the Get and Create actions return. */
static json_t *entity_json(const iam_dir_entity_t *e, bool full)
{
    json_t *o =
        json_pack("{s:s,s:s,s:s,s:s,s:o}", "Path", e->path, name_member[e->kind], e->name,
                  id_member[e->kind], e->id, "Arn", e->arn, "CreateDate", date(e->create_ms));
    if (e->kind == IAM_DIR_ROLE) {
        const iam_dir_role_t *r = (const iam_dir_role_t *)e;
        json_object_set_new(o, "AssumeRolePolicyDocument", doc(r->trust_text));
        json_object_set_new(o, "MaxSessionDuration", json_integer(r->max_session));
        if (r->description)
            json_object_set_new(o, "Description", json_string(r->description));
    }
    if (full && e->boundary)
        json_object_set_new(o, "PermissionsBoundary", boundary_json(e->boundary));
    if (full && e->n_tags)
        json_object_set_new(o, "Tags", tags_json(e->tags, e->n_tags));
    return o;
}

static json_t *policy_json(const aws_call_t *c, const iam_dir_policy_t *p, bool full)
{
    json_t *o = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:b,s:o,s:o}", "PolicyName", p->name, "PolicyId", p->id,
        "Arn", p->arn, "Path", p->path, "DefaultVersionId", p->versions[p->def].id,
        "AttachmentCount", (json_int_t)iam_dir_policy_attachments(dir(c), account_of(c), p->arn),
        "PermissionsBoundaryUsageCount",
        (json_int_t)iam_dir_policy_boundary_uses(dir(c), account_of(c), p->arn), "IsAttachable", 1,
        "CreateDate", date(p->create_ms), "UpdateDate", date(p->update_ms));
    if (full && p->description)
        json_object_set_new(o, "Description", json_string(p->description));
    if (full && p->n_tags)
        json_object_set_new(o, "Tags", tags_json(p->tags, p->n_tags));
    return o;
}

static json_t *version_json(const iam_dir_policy_t *p, const iam_dir_version_t *v, bool with_doc)
{
    json_t *o = json_pack("{s:s,s:b,s:o}", "VersionId", v->id, "IsDefaultVersion",
                          v == &p->versions[p->def], "CreateDate", date(v->create_ms));
    if (with_doc)
        json_object_set_new(o, "Document", doc(v->text));
    return o;
}

/* ---- resources
 * ----------------------------------------------------------------------------------- */

static int res_entity(aws_call_t *c, buf_t *arn, iam_dir_kind_t kind)
{
    const char *name = aws_jstr(c->in, name_member[kind]);
    const char *path = aws_jstr(c->in, "Path");
    if (!name && kind == IAM_DIR_USER) {
        buf_puts(arn, c->principal.arn); /* GetUser and key actions on oneself */
        return 0;
    }
    const iam_dir_entity_t *e = iam_dir_entity_get(dir(c), account_of(c), kind, name);
    if (e)
        buf_puts(arn, e->arn);
    else
        buf_printf(arn, "arn:aws:iam::%s:%s%s%.128s", account_of(c), arn_word[kind],
                   path ? path : "/", name ? name : "");
    return 0;
}

static int res_user(aws_call_t *c, buf_t *arn)
{
    return res_entity(c, arn, IAM_DIR_USER);
}

static int res_group(aws_call_t *c, buf_t *arn)
{
    return res_entity(c, arn, IAM_DIR_GROUP);
}

static int res_role(aws_call_t *c, buf_t *arn)
{
    return res_entity(c, arn, IAM_DIR_ROLE);
}

/* What a List action without a subject lists: arn:aws:iam::ACCOUNT:<type>/PathPrefix. */
static int res_list(aws_call_t *c, buf_t *arn, const char *type)
{
    const char *prefix = aws_jstr(c->in, "PathPrefix");
    buf_printf(arn, "arn:aws:iam::%s:%s%.400s", account_of(c), type, prefix ? prefix : "/");
    return 0;
}

static int res_users(aws_call_t *c, buf_t *arn)
{
    return res_list(c, arn, "user");
}

static int res_groups(aws_call_t *c, buf_t *arn)
{
    return res_list(c, arn, "group");
}

static int res_roles(aws_call_t *c, buf_t *arn)
{
    return res_list(c, arn, "role");
}

static int res_policies(aws_call_t *c, buf_t *arn)
{
    return res_list(c, arn, "policy");
}

static int res_policy(aws_call_t *c, buf_t *arn)
{
    const char *p = aws_jstr(c->in, "PolicyArn");
    if (p && strncmp(p, "arn:aws:iam::", 13) != 0)
        return aws_error_set(&c->err, 400, "InvalidInput", "ARN %.300s is not valid.", p);
    if (p) {
        buf_puts(arn, p);
        return 0;
    }
    const char *path = aws_jstr(c->in, "Path"), *name = aws_jstr(c->in, "PolicyName");
    buf_printf(arn, "arn:aws:iam::%s:policy%s%.128s", account_of(c), path ? path : "/",
               name ? name : "");
    return 0;
}

/* ---- users, groups, roles
 * ------------------------------------------------------------------------ */

static int create(aws_call_t *c, iam_dir_kind_t kind, const char *out_member)
{
    const iam_dir_entity_t *e;
    iam_dir_create_t in = {
        .name = aws_jstr(c->in, name_member[kind]),
        .path = aws_jstr(c->in, "Path"),
        .boundary = aws_jstr(c->in, "PermissionsBoundary"),
        .trust_text = aws_jstr(c->in, "AssumeRolePolicyDocument"),
        .description = aws_jstr(c->in, "Description"),
        .max_session = (int)json_integer_value(json_object_get(c->in, "MaxSessionDuration")),
        .now_ms = c->now_ms,
    };
    iam_dir_tag_t *tags = tags_in(json_object_get(c->in, "Tags"), &in.n_tags);
    in.tags = tags;
    int rc = iam_dir_entity_create(dir(c), account_of(c), kind, &in, &e, &c->err);
    free(tags);
    if (rc == 0)
        c->out = json_pack("{s:o}", out_member, entity_json(e, true));
    return aws_call_result(rc);
}

static int h_create_user(aws_call_t *c)
{
    return create(c, IAM_DIR_USER, "User");
}

static int h_create_group(aws_call_t *c)
{
    return create(c, IAM_DIR_GROUP, "Group");
}

static int h_create_role(aws_call_t *c)
{
    return create(c, IAM_DIR_ROLE, "Role");
}

/* GetUser of the account root: IAM describes the root itself. */
static int get_root(aws_call_t *c)
{
    c->out = json_pack("{s:{s:s,s:s,s:s}}", "User", "UserId", c->principal.user_id, "Arn",
                       c->principal.arn, "Path", "/");
    return AWS_CALL_DONE;
}

static int h_get_user(aws_call_t *c)
{
    const iam_dir_entity_t *e;
    if (!aws_jstr(c->in, "UserName") && c->principal.kind == IAM_PRINCIPAL_ROOT)
        return get_root(c);
    const char *name = user_or_caller(c);
    if (!name || iam_dir_entity_find(dir(c), account_of(c), IAM_DIR_USER, name, &e, &c->err) < 0)
        return AWS_CALL_ERROR;
    c->out = json_pack("{s:o}", "User", entity_json(e, true));
    return AWS_CALL_DONE;
}

static int h_get_role(aws_call_t *c)
{
    const iam_dir_entity_t *e;
    if (iam_dir_entity_find(dir(c), account_of(c), IAM_DIR_ROLE, aws_jstr(c->in, "RoleName"), &e,
                            &c->err) < 0)
        return AWS_CALL_ERROR;
    c->out = json_pack("{s:o}", "Role", entity_json(e, true));
    return AWS_CALL_DONE;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return !prefix || !strncmp(s, prefix, strlen(prefix));
}

static int list(aws_call_t *c, iam_dir_kind_t kind, const char *member)
{
    size_t n;
    page_t pg;
    const char *prefix = aws_jstr(c->in, "PathPrefix");
    const iam_dir_entity_t *const *all = iam_dir_entity_list(dir(c), account_of(c), kind, &n);
    page_init(&pg);
    for (size_t i = 0; i < n; i++)
        if (has_prefix(all[i]->path, prefix))
            page_add(&pg, all[i]->name, entity_json(all[i], false));
    return aws_call_result(page_out(c, &pg, member));
}

static int h_list_users(aws_call_t *c)
{
    return list(c, IAM_DIR_USER, "Users");
}

static int h_list_groups(aws_call_t *c)
{
    return list(c, IAM_DIR_GROUP, "Groups");
}

static int h_list_roles(aws_call_t *c)
{
    return list(c, IAM_DIR_ROLE, "Roles");
}

static int delete_entity(aws_call_t *c, iam_dir_kind_t kind)
{
    return aws_call_result(iam_dir_entity_delete(dir(c), account_of(c), kind,
                                                 aws_jstr(c->in, name_member[kind]), &c->err));
}

static int h_delete_user(aws_call_t *c)
{
    return delete_entity(c, IAM_DIR_USER);
}

static int h_delete_group(aws_call_t *c)
{
    return delete_entity(c, IAM_DIR_GROUP);
}

static int h_delete_role(aws_call_t *c)
{
    return delete_entity(c, IAM_DIR_ROLE);
}

static int h_get_group(aws_call_t *c)
{
    const iam_dir_entity_t *g;
    size_t n;
    page_t pg;
    if (iam_dir_entity_find(dir(c), account_of(c), IAM_DIR_GROUP, aws_jstr(c->in, "GroupName"), &g,
                            &c->err) < 0)
        return AWS_CALL_ERROR;
    const iam_dir_entity_t *const *users =
        iam_dir_entity_list(dir(c), account_of(c), IAM_DIR_USER, &n);
    page_init(&pg);
    for (size_t i = 0; i < n; i++)
        if (iam_dir_group_has((const iam_dir_user_t *)users[i], g->name))
            page_add(&pg, users[i]->name, entity_json(users[i], false));
    c->out = json_pack("{s:o}", "Group", entity_json(g, false));
    return aws_call_result(page_out(c, &pg, "Users"));
}

static int h_add_user_to_group(aws_call_t *c)
{
    return aws_call_result(iam_dir_group_add(dir(c), account_of(c), aws_jstr(c->in, "GroupName"),
                                             aws_jstr(c->in, "UserName"), &c->err));
}

static int h_remove_user_from_group(aws_call_t *c)
{
    return aws_call_result(iam_dir_group_remove(dir(c), account_of(c), aws_jstr(c->in, "GroupName"),
                                                aws_jstr(c->in, "UserName"), &c->err));
}

static int h_list_groups_for_user(aws_call_t *c)
{
    const iam_dir_entity_t *e;
    page_t pg;
    if (iam_dir_entity_find(dir(c), account_of(c), IAM_DIR_USER, aws_jstr(c->in, "UserName"), &e,
                            &c->err) < 0)
        return AWS_CALL_ERROR;
    const iam_dir_user_t *u = (const iam_dir_user_t *)e;
    page_init(&pg);
    for (size_t i = 0; i < u->n_groups; i++) {
        const iam_dir_entity_t *g =
            iam_dir_entity_get(dir(c), account_of(c), IAM_DIR_GROUP, u->groups[i]);
        if (g)
            page_add(&pg, g->name, entity_json(g, false));
    }
    return aws_call_result(page_out(c, &pg, "Groups"));
}

static int h_update_assume_role_policy(aws_call_t *c)
{
    return aws_call_result(iam_dir_role_trust_set(dir(c), account_of(c),
                                                  aws_jstr(c->in, "RoleName"),
                                                  aws_jstr(c->in, "PolicyDocument"), &c->err));
}

static int h_update_role(aws_call_t *c)
{
    const json_t *ms = json_object_get(c->in, "MaxSessionDuration");
    /* A MaxSessionDuration given as 0 is out of range, not "unchanged". */
    int max_session = ms ? (int)json_integer_value(ms) : 0;
    if (ms && max_session == 0)
        max_session = -1;
    int rc = iam_dir_role_update(dir(c), account_of(c), aws_jstr(c->in, "RoleName"),
                                 aws_jstr(c->in, "Description"), max_session, &c->err);
    if (rc == 0)
        c->out = json_object();
    return aws_call_result(rc);
}

/* ---- access keys
 * ---------------------------------------------------------------------------------- */

static int h_create_access_key(aws_call_t *c)
{
    const iam_dir_akey_t *k;
    const char *user = user_or_caller(c);
    if (!user || iam_dir_key_create(dir(c), account_of(c), user, c->now_ms, &k, &c->err) < 0)
        return AWS_CALL_ERROR;
    const iam_dir_entity_t *e = iam_dir_entity_get(dir(c), account_of(c), IAM_DIR_USER, user);
    c->out = json_pack("{s:{s:s,s:s,s:s,s:s,s:o}}", "AccessKey", "UserName", e->name, "AccessKeyId",
                       k->id, "Status", "Active", "SecretAccessKey", k->secret, "CreateDate",
                       date(k->create_ms));
    return AWS_CALL_DONE;
}

static int h_list_access_keys(aws_call_t *c)
{
    const iam_dir_entity_t *e;
    page_t pg;
    if (!aws_jstr(c->in, "UserName") && c->principal.kind == IAM_PRINCIPAL_ROOT) {
        page_init(&pg); /* the root's own keys are not IAM users' keys */
        return aws_call_result(page_out(c, &pg, "AccessKeyMetadata"));
    }
    const char *user = user_or_caller(c);
    if (!user || iam_dir_entity_find(dir(c), account_of(c), IAM_DIR_USER, user, &e, &c->err) < 0)
        return AWS_CALL_ERROR;
    const iam_dir_user_t *u = (const iam_dir_user_t *)e;
    page_init(&pg);
    for (size_t i = 0; i < u->n_keys; i++)
        page_add(&pg, u->keys[i].id,
                 json_pack("{s:s,s:s,s:s,s:o}", "UserName", e->name, "AccessKeyId", u->keys[i].id,
                           "Status", u->keys[i].active ? "Active" : "Inactive", "CreateDate",
                           date(u->keys[i].create_ms)));
    return aws_call_result(page_out(c, &pg, "AccessKeyMetadata"));
}

static int h_update_access_key(aws_call_t *c)
{
    const char *status = aws_jstr(c->in, "Status");
    const char *user = user_or_caller(c);
    if (!user)
        return AWS_CALL_ERROR;
    if (strcmp(status, "Active") && strcmp(status, "Inactive"))
        return aws_error_set(&c->err, 400, "ValidationError",
                             "1 validation error detected: Value '%.64s' at 'status' failed to "
                             "satisfy constraint: Member must satisfy enum value set: [Active, "
                             "Inactive]",
                             status);
    return aws_call_result(iam_dir_key_update(dir(c), account_of(c), user,
                                              aws_jstr(c->in, "AccessKeyId"),
                                              !strcmp(status, "Active"), &c->err));
}

static int h_delete_access_key(aws_call_t *c)
{
    const char *user = user_or_caller(c);
    if (!user)
        return AWS_CALL_ERROR;
    return aws_call_result(
        iam_dir_key_delete(dir(c), account_of(c), user, aws_jstr(c->in, "AccessKeyId"), &c->err));
}

/* ---- inline policies
 * ------------------------------------------------------------------------------ */

static int inline_put(aws_call_t *c, iam_dir_kind_t kind)
{
    return aws_call_result(iam_dir_inline_put(
        dir(c), account_of(c), kind, aws_jstr(c->in, name_member[kind]),
        aws_jstr(c->in, "PolicyName"), aws_jstr(c->in, "PolicyDocument"), &c->err));
}

static int inline_get(aws_call_t *c, iam_dir_kind_t kind)
{
    const iam_dir_inline_t *p;
    const char *entity = aws_jstr(c->in, name_member[kind]);
    if (iam_dir_inline_get(dir(c), account_of(c), kind, entity, aws_jstr(c->in, "PolicyName"), &p,
                           &c->err) < 0)
        return AWS_CALL_ERROR;
    const iam_dir_entity_t *e = iam_dir_entity_get(dir(c), account_of(c), kind, entity);
    c->out = json_pack("{s:s,s:s,s:o}", name_member[kind], e->name, "PolicyName", p->name,
                       "PolicyDocument", doc(p->text));
    return AWS_CALL_DONE;
}

static int inline_delete(aws_call_t *c, iam_dir_kind_t kind)
{
    return aws_call_result(iam_dir_inline_delete(dir(c), account_of(c), kind,
                                                 aws_jstr(c->in, name_member[kind]),
                                                 aws_jstr(c->in, "PolicyName"), &c->err));
}

static int inline_list(aws_call_t *c, iam_dir_kind_t kind)
{
    const iam_dir_entity_t *e;
    page_t pg;
    if (iam_dir_entity_find(dir(c), account_of(c), kind, aws_jstr(c->in, name_member[kind]), &e,
                            &c->err) < 0)
        return AWS_CALL_ERROR;
    page_init(&pg);
    for (size_t i = 0; i < e->n_inline; i++)
        page_add(&pg, e->inl[i].name, json_string(e->inl[i].name));
    return aws_call_result(page_out(c, &pg, "PolicyNames"));
}

static int h_put_user_policy(aws_call_t *c)
{
    return inline_put(c, IAM_DIR_USER);
}
static int h_put_group_policy(aws_call_t *c)
{
    return inline_put(c, IAM_DIR_GROUP);
}
static int h_put_role_policy(aws_call_t *c)
{
    return inline_put(c, IAM_DIR_ROLE);
}
static int h_get_user_policy(aws_call_t *c)
{
    return inline_get(c, IAM_DIR_USER);
}
static int h_get_group_policy(aws_call_t *c)
{
    return inline_get(c, IAM_DIR_GROUP);
}
static int h_get_role_policy(aws_call_t *c)
{
    return inline_get(c, IAM_DIR_ROLE);
}
static int h_delete_user_policy(aws_call_t *c)
{
    return inline_delete(c, IAM_DIR_USER);
}
static int h_delete_group_policy(aws_call_t *c)
{
    return inline_delete(c, IAM_DIR_GROUP);
}
static int h_delete_role_policy(aws_call_t *c)
{
    return inline_delete(c, IAM_DIR_ROLE);
}
static int h_list_user_policies(aws_call_t *c)
{
    return inline_list(c, IAM_DIR_USER);
}
static int h_list_group_policies(aws_call_t *c)
{
    return inline_list(c, IAM_DIR_GROUP);
}
static int h_list_role_policies(aws_call_t *c)
{
    return inline_list(c, IAM_DIR_ROLE);
}

/* ---- attached policies, boundaries, tags -------------------------------------------------------
 */

static int attach(aws_call_t *c, iam_dir_kind_t kind)
{
    return aws_call_result(iam_dir_attach(dir(c), account_of(c), kind,
                                          aws_jstr(c->in, name_member[kind]),
                                          aws_jstr(c->in, "PolicyArn"), &c->err));
}

static int detach(aws_call_t *c, iam_dir_kind_t kind)
{
    return aws_call_result(iam_dir_detach(dir(c), account_of(c), kind,
                                          aws_jstr(c->in, name_member[kind]),
                                          aws_jstr(c->in, "PolicyArn"), &c->err));
}

static int list_attached(aws_call_t *c, iam_dir_kind_t kind)
{
    const iam_dir_entity_t *e;
    const char *prefix = aws_jstr(c->in, "PathPrefix");
    page_t pg;
    if (iam_dir_entity_find(dir(c), account_of(c), kind, aws_jstr(c->in, name_member[kind]), &e,
                            &c->err) < 0)
        return AWS_CALL_ERROR;
    page_init(&pg);
    for (size_t i = 0; i < e->n_attached; i++) {
        const iam_dir_policy_t *p;
        aws_error_t err;
        if (iam_dir_policy_find(dir(c), account_of(c), e->attached[i], &p, &err) < 0 ||
            !has_prefix(p->path, prefix))
            continue;
        page_add(&pg, p->arn, json_pack("{s:s,s:s}", "PolicyName", p->name, "PolicyArn", p->arn));
    }
    return aws_call_result(page_out(c, &pg, "AttachedPolicies"));
}

static int h_attach_user_policy(aws_call_t *c)
{
    return attach(c, IAM_DIR_USER);
}
static int h_attach_group_policy(aws_call_t *c)
{
    return attach(c, IAM_DIR_GROUP);
}
static int h_attach_role_policy(aws_call_t *c)
{
    return attach(c, IAM_DIR_ROLE);
}
static int h_detach_user_policy(aws_call_t *c)
{
    return detach(c, IAM_DIR_USER);
}
static int h_detach_group_policy(aws_call_t *c)
{
    return detach(c, IAM_DIR_GROUP);
}
static int h_detach_role_policy(aws_call_t *c)
{
    return detach(c, IAM_DIR_ROLE);
}
static int h_list_attached_user_policies(aws_call_t *c)
{
    return list_attached(c, IAM_DIR_USER);
}
static int h_list_attached_group_policies(aws_call_t *c)
{
    return list_attached(c, IAM_DIR_GROUP);
}
static int h_list_attached_role_policies(aws_call_t *c)
{
    return list_attached(c, IAM_DIR_ROLE);
}

static int boundary(aws_call_t *c, iam_dir_kind_t kind, bool put)
{
    return aws_call_result(
        iam_dir_boundary_set(dir(c), account_of(c), kind, aws_jstr(c->in, name_member[kind]),
                             put ? aws_jstr(c->in, "PermissionsBoundary") : NULL, &c->err));
}

static int h_put_user_permissions_boundary(aws_call_t *c)
{
    return boundary(c, IAM_DIR_USER, true);
}
static int h_delete_user_permissions_boundary(aws_call_t *c)
{
    return boundary(c, IAM_DIR_USER, false);
}
static int h_put_role_permissions_boundary(aws_call_t *c)
{
    return boundary(c, IAM_DIR_ROLE, true);
}
static int h_delete_role_permissions_boundary(aws_call_t *c)
{
    return boundary(c, IAM_DIR_ROLE, false);
}

static int tag(aws_call_t *c, iam_dir_kind_t kind)
{
    size_t n;
    iam_dir_tag_t *tags = tags_in(json_object_get(c->in, "Tags"), &n);
    int rc = iam_dir_entity_tag(dir(c), account_of(c), kind, aws_jstr(c->in, name_member[kind]),
                                tags, n, &c->err);
    free(tags);
    return aws_call_result(rc);
}

static int untag(aws_call_t *c, iam_dir_kind_t kind)
{
    const json_t *list = json_object_get(c->in, "TagKeys");
    size_t i, n = 0;
    json_t *k;
    const char **keys = xcalloc(json_array_size(list) + 1, sizeof(*keys));
    json_array_foreach(list, i, k) if (json_is_string(k)) keys[n++] = json_string_value(k);
    int rc = iam_dir_entity_untag(dir(c), account_of(c), kind, aws_jstr(c->in, name_member[kind]),
                                  keys, n, &c->err);
    free(keys);
    return aws_call_result(rc);
}

static int list_tags(aws_call_t *c, iam_dir_kind_t kind)
{
    const iam_dir_entity_t *e;
    page_t pg;
    if (iam_dir_entity_find(dir(c), account_of(c), kind, aws_jstr(c->in, name_member[kind]), &e,
                            &c->err) < 0)
        return AWS_CALL_ERROR;
    page_init(&pg);
    for (size_t i = 0; i < e->n_tags; i++)
        page_add(&pg, e->tags[i].key,
                 json_pack("{s:s,s:s}", "Key", e->tags[i].key, "Value", e->tags[i].value));
    return aws_call_result(page_out(c, &pg, "Tags"));
}

static int h_tag_user(aws_call_t *c)
{
    return tag(c, IAM_DIR_USER);
}
static int h_untag_user(aws_call_t *c)
{
    return untag(c, IAM_DIR_USER);
}
static int h_list_user_tags(aws_call_t *c)
{
    return list_tags(c, IAM_DIR_USER);
}
static int h_tag_role(aws_call_t *c)
{
    return tag(c, IAM_DIR_ROLE);
}
static int h_untag_role(aws_call_t *c)
{
    return untag(c, IAM_DIR_ROLE);
}
static int h_list_role_tags(aws_call_t *c)
{
    return list_tags(c, IAM_DIR_ROLE);
}

/* ---- managed policies
 * ------------------------------------------------------------------------------ */

static int h_create_policy(aws_call_t *c)
{
    const iam_dir_policy_t *p;
    iam_dir_policy_create_t in = {
        .name = aws_jstr(c->in, "PolicyName"),
        .path = aws_jstr(c->in, "Path"),
        .text = aws_jstr(c->in, "PolicyDocument"),
        .description = aws_jstr(c->in, "Description"),
        .now_ms = c->now_ms,
    };
    iam_dir_tag_t *tags = tags_in(json_object_get(c->in, "Tags"), &in.n_tags);
    in.tags = tags;
    int rc = iam_dir_policy_create(dir(c), account_of(c), &in, &p, &c->err);
    free(tags);
    if (rc == 0)
        c->out = json_pack("{s:o}", "Policy", policy_json(c, p, true));
    return aws_call_result(rc);
}

static int h_get_policy(aws_call_t *c)
{
    const iam_dir_policy_t *p;
    if (iam_dir_policy_find(dir(c), account_of(c), aws_jstr(c->in, "PolicyArn"), &p, &c->err) < 0)
        return AWS_CALL_ERROR;
    c->out = json_pack("{s:o}", "Policy", policy_json(c, p, true));
    return AWS_CALL_DONE;
}

static int h_delete_policy(aws_call_t *c)
{
    return aws_call_result(
        iam_dir_policy_delete(dir(c), account_of(c), aws_jstr(c->in, "PolicyArn"), &c->err));
}

/* ListPolicies' filters: Scope, OnlyAttached, PathPrefix, PolicyUsageFilter. */
typedef struct policy_filter {
    const char *prefix;
    bool only_attached;
    const char *usage; /* PermissionsPolicy, PermissionsBoundary or NULL */
} policy_filter_t;

static bool policy_selected(const aws_call_t *c, const policy_filter_t *f,
                            const iam_dir_policy_t *p)
{
    size_t attached = iam_dir_policy_attachments(dir(c), account_of(c), p->arn);
    size_t bounds = iam_dir_policy_boundary_uses(dir(c), account_of(c), p->arn);
    if (!has_prefix(p->path, f->prefix))
        return false;
    if (f->usage && !strcmp(f->usage, "PermissionsPolicy"))
        bounds = 0;
    else if (f->usage && !strcmp(f->usage, "PermissionsBoundary"))
        attached = 0;
    return !f->only_attached || attached || bounds;
}

static int h_list_policies(aws_call_t *c)
{
    const char *scope = aws_jstr(c->in, "Scope");
    policy_filter_t f = {aws_jstr(c->in, "PathPrefix"),
                         json_is_true(json_object_get(c->in, "OnlyAttached")),
                         aws_jstr(c->in, "PolicyUsageFilter")};
    bool local = !scope || !strcmp(scope, "All") || !strcmp(scope, "Local");
    bool aws = !scope || !strcmp(scope, "All") || !strcmp(scope, "AWS");
    size_t n_local = 0, n_aws = 0;
    page_t pg;
    if (!local && !aws)
        return aws_error_set(&c->err, 400, "ValidationError",
                             "1 validation error detected: Value '%.32s' at 'scope' failed to "
                             "satisfy constraint: Member must satisfy enum value set: [All, AWS, "
                             "Local]",
                             scope);
    const iam_dir_policy_t *const *mine = iam_dir_policy_list(dir(c), account_of(c), &n_local);
    const iam_dir_policy_t *const *theirs = iam_dir_policy_list_aws(dir(c), &n_aws);
    page_init(&pg);
    /* AWS managed policies first, then the account's own; each sorted by name. */
    for (size_t i = 0; aws && i < n_aws; i++)
        if (policy_selected(c, &f, theirs[i]))
            page_add(&pg, theirs[i]->arn, policy_json(c, theirs[i], false));
    for (size_t i = 0; local && i < n_local; i++)
        if (policy_selected(c, &f, mine[i]))
            page_add(&pg, mine[i]->arn, policy_json(c, mine[i], false));
    return aws_call_result(page_out(c, &pg, "Policies"));
}

static int h_create_policy_version(aws_call_t *c)
{
    const iam_dir_version_t *v;
    const iam_dir_policy_t *p;
    const char *arn = aws_jstr(c->in, "PolicyArn");
    bool set_default = json_is_true(json_object_get(c->in, "SetAsDefault"));
    if (iam_dir_version_create(dir(c), account_of(c), arn, aws_jstr(c->in, "PolicyDocument"),
                               set_default, c->now_ms, &v, &c->err) < 0 ||
        iam_dir_policy_find(dir(c), account_of(c), arn, &p, &c->err) < 0)
        return AWS_CALL_ERROR;
    c->out = json_pack("{s:o}", "PolicyVersion", version_json(p, v, false));
    return AWS_CALL_DONE;
}

static int h_get_policy_version(aws_call_t *c)
{
    const iam_dir_version_t *v;
    const iam_dir_policy_t *p;
    const char *arn = aws_jstr(c->in, "PolicyArn");
    if (iam_dir_version_get(dir(c), account_of(c), arn, aws_jstr(c->in, "VersionId"), &v, &c->err) <
            0 ||
        iam_dir_policy_find(dir(c), account_of(c), arn, &p, &c->err) < 0)
        return AWS_CALL_ERROR;
    c->out = json_pack("{s:o}", "PolicyVersion", version_json(p, v, true));
    return AWS_CALL_DONE;
}

static int h_list_policy_versions(aws_call_t *c)
{
    const iam_dir_policy_t *p;
    page_t pg;
    if (iam_dir_policy_find(dir(c), account_of(c), aws_jstr(c->in, "PolicyArn"), &p, &c->err) < 0)
        return AWS_CALL_ERROR;
    page_init(&pg);
    /* Newest first, as IAM lists them. */
    for (size_t i = p->n_versions; i-- > 0;)
        page_add(&pg, p->versions[i].id, version_json(p, &p->versions[i], false));
    return aws_call_result(page_out(c, &pg, "Versions"));
}

static int h_delete_policy_version(aws_call_t *c)
{
    return aws_call_result(iam_dir_version_delete(dir(c), account_of(c),
                                                  aws_jstr(c->in, "PolicyArn"),
                                                  aws_jstr(c->in, "VersionId"), &c->err));
}

static int h_set_default_policy_version(aws_call_t *c)
{
    return aws_call_result(
        iam_dir_version_set_default(dir(c), account_of(c), aws_jstr(c->in, "PolicyArn"),
                                    aws_jstr(c->in, "VersionId"), c->now_ms, &c->err));
}

/* Whether an entity uses the policy the way PolicyUsageFilter asks. */
static bool entity_uses(const iam_dir_entity_t *e, const char *arn, const char *usage)
{
    bool attached = false, bound = e->boundary && !strcasecmp(e->boundary, arn);
    for (size_t i = 0; i < e->n_attached; i++)
        attached = attached || !strcasecmp(e->attached[i], arn);
    if (usage && !strcmp(usage, "PermissionsPolicy"))
        return attached;
    if (usage && !strcmp(usage, "PermissionsBoundary"))
        return bound;
    return attached || bound;
}

static int h_list_entities_for_policy(aws_call_t *c)
{
    static const char *const members[3] = {"PolicyUsers", "PolicyGroups", "PolicyRoles"};
    static const char *const filters[3] = {"User", "Group", "Role"};
    const iam_dir_policy_t *p;
    const char *filter = aws_jstr(c->in, "EntityFilter"),
               *usage = aws_jstr(c->in, "PolicyUsageFilter");
    if (iam_dir_policy_find(dir(c), account_of(c), aws_jstr(c->in, "PolicyArn"), &p, &c->err) < 0)
        return AWS_CALL_ERROR;
    c->out = json_pack("{s:b}", "IsTruncated", 0);
    for (int k = 0; k < 3; k++) {
        size_t n;
        json_t *a = json_array();
        const iam_dir_entity_t *const *all = iam_dir_entity_list(dir(c), account_of(c), k, &n);
        for (size_t i = 0; (!filter || !strcmp(filter, filters[k])) && i < n; i++)
            if (has_prefix(all[i]->path, aws_jstr(c->in, "PathPrefix")) &&
                entity_uses(all[i], p->arn, usage))
                json_array_append_new(a, json_pack("{s:s,s:s}", name_member[k], all[i]->name,
                                                   id_member[k], all[i]->id));
        json_object_set_new(c->out, members[k], a);
    }
    return AWS_CALL_DONE;
}

/* ---- the table
 * ------------------------------------------------------------------------------------ */

const aws_action_t iam_actions[] = {
    {"AddUserToGroup", "iam:AddUserToGroup", res_group, h_add_user_to_group},
    {"AttachGroupPolicy", "iam:AttachGroupPolicy", res_group, h_attach_group_policy},
    {"AttachRolePolicy", "iam:AttachRolePolicy", res_role, h_attach_role_policy},
    {"AttachUserPolicy", "iam:AttachUserPolicy", res_user, h_attach_user_policy},
    {"CreateAccessKey", "iam:CreateAccessKey", res_user, h_create_access_key},
    {"CreateGroup", "iam:CreateGroup", res_group, h_create_group},
    {"CreatePolicy", "iam:CreatePolicy", res_policy, h_create_policy},
    {"CreatePolicyVersion", "iam:CreatePolicyVersion", res_policy, h_create_policy_version},
    {"CreateRole", "iam:CreateRole", res_role, h_create_role},
    {"CreateUser", "iam:CreateUser", res_user, h_create_user},
    {"DeleteAccessKey", "iam:DeleteAccessKey", res_user, h_delete_access_key},
    {"DeleteGroup", "iam:DeleteGroup", res_group, h_delete_group},
    {"DeleteGroupPolicy", "iam:DeleteGroupPolicy", res_group, h_delete_group_policy},
    {"DeletePolicy", "iam:DeletePolicy", res_policy, h_delete_policy},
    {"DeletePolicyVersion", "iam:DeletePolicyVersion", res_policy, h_delete_policy_version},
    {"DeleteRole", "iam:DeleteRole", res_role, h_delete_role},
    {"DeleteRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary", res_role,
     h_delete_role_permissions_boundary},
    {"DeleteRolePolicy", "iam:DeleteRolePolicy", res_role, h_delete_role_policy},
    {"DeleteUser", "iam:DeleteUser", res_user, h_delete_user},
    {"DeleteUserPermissionsBoundary", "iam:DeleteUserPermissionsBoundary", res_user,
     h_delete_user_permissions_boundary},
    {"DeleteUserPolicy", "iam:DeleteUserPolicy", res_user, h_delete_user_policy},
    {"DetachGroupPolicy", "iam:DetachGroupPolicy", res_group, h_detach_group_policy},
    {"DetachRolePolicy", "iam:DetachRolePolicy", res_role, h_detach_role_policy},
    {"DetachUserPolicy", "iam:DetachUserPolicy", res_user, h_detach_user_policy},
    {"GetGroup", "iam:GetGroup", res_group, h_get_group},
    {"GetGroupPolicy", "iam:GetGroupPolicy", res_group, h_get_group_policy},
    {"GetPolicy", "iam:GetPolicy", res_policy, h_get_policy},
    {"GetPolicyVersion", "iam:GetPolicyVersion", res_policy, h_get_policy_version},
    {"GetRole", "iam:GetRole", res_role, h_get_role},
    {"GetRolePolicy", "iam:GetRolePolicy", res_role, h_get_role_policy},
    {"GetUser", "iam:GetUser", res_user, h_get_user},
    {"GetUserPolicy", "iam:GetUserPolicy", res_user, h_get_user_policy},
    {"ListAccessKeys", "iam:ListAccessKeys", res_user, h_list_access_keys},
    {"ListAttachedGroupPolicies", "iam:ListAttachedGroupPolicies", res_group,
     h_list_attached_group_policies},
    {"ListAttachedRolePolicies", "iam:ListAttachedRolePolicies", res_role,
     h_list_attached_role_policies},
    {"ListAttachedUserPolicies", "iam:ListAttachedUserPolicies", res_user,
     h_list_attached_user_policies},
    {"ListEntitiesForPolicy", "iam:ListEntitiesForPolicy", res_policy, h_list_entities_for_policy},
    {"ListGroupPolicies", "iam:ListGroupPolicies", res_group, h_list_group_policies},
    {"ListGroups", "iam:ListGroups", res_groups, h_list_groups},
    {"ListGroupsForUser", "iam:ListGroupsForUser", res_user, h_list_groups_for_user},
    {"ListPolicies", "iam:ListPolicies", res_policies, h_list_policies},
    {"ListPolicyVersions", "iam:ListPolicyVersions", res_policy, h_list_policy_versions},
    {"ListRolePolicies", "iam:ListRolePolicies", res_role, h_list_role_policies},
    {"ListRoleTags", "iam:ListRoleTags", res_role, h_list_role_tags},
    {"ListRoles", "iam:ListRoles", res_roles, h_list_roles},
    {"ListUserPolicies", "iam:ListUserPolicies", res_user, h_list_user_policies},
    {"ListUserTags", "iam:ListUserTags", res_user, h_list_user_tags},
    {"ListUsers", "iam:ListUsers", res_users, h_list_users},
    {"PutGroupPolicy", "iam:PutGroupPolicy", res_group, h_put_group_policy},
    {"PutRolePermissionsBoundary", "iam:PutRolePermissionsBoundary", res_role,
     h_put_role_permissions_boundary},
    {"PutRolePolicy", "iam:PutRolePolicy", res_role, h_put_role_policy},
    {"PutUserPermissionsBoundary", "iam:PutUserPermissionsBoundary", res_user,
     h_put_user_permissions_boundary},
    {"PutUserPolicy", "iam:PutUserPolicy", res_user, h_put_user_policy},
    {"RemoveUserFromGroup", "iam:RemoveUserFromGroup", res_group, h_remove_user_from_group},
    {"SetDefaultPolicyVersion", "iam:SetDefaultPolicyVersion", res_policy,
     h_set_default_policy_version},
    {"TagRole", "iam:TagRole", res_role, h_tag_role},
    {"TagUser", "iam:TagUser", res_user, h_tag_user},
    {"UntagRole", "iam:UntagRole", res_role, h_untag_role},
    {"UntagUser", "iam:UntagUser", res_user, h_untag_user},
    {"UpdateAccessKey", "iam:UpdateAccessKey", res_user, h_update_access_key},
    {"UpdateAssumeRolePolicy", "iam:UpdateAssumeRolePolicy", res_role, h_update_assume_role_policy},
    {"UpdateRole", "iam:UpdateRole", res_role, h_update_role},
};
const size_t iam_n_actions = sizeof(iam_actions) / sizeof(iam_actions[0]);
