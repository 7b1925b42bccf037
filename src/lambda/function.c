/*
 * function — see function.h. Functions live in one hash map keyed
 * "ACCOUNT/REGION/NAME"; lists sort on demand (they are rare next to
 * lookups). Every change journals the whole function once.
 */
#include "lambda/function.h"
#include "base/buf.h"
#include "base/ids.h"
#include "base/strmap.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lambda_reg {
    strmap_t fns;
    lambda_journal_t j;
    uint64_t next_code_id;
};

lambda_reg_t *lambda_reg_new(const lambda_journal_t *j)
{
    lambda_reg_t *r = xcalloc(1, sizeof(*r));
    if (j)
        r->j = *j;
    r->next_code_id = 1;
    return r;
}

void lambda_reg_free(lambda_reg_t *r)
{
    if (!r)
        return;
    size_t pos = 0;
    const strmap_slot_t *s;
    while ((s = strmap_next(&r->fns, &pos)))
        lambda_fn_free(s->val);
    strmap_free(&r->fns);
    free(r);
}

static void journal(lambda_reg_t *r, const lambda_fn_t *fn)
{
    if (r->j.put)
        r->j.put(r->j.ud, fn);
}

static void new_revision(char out[37])
{
    ids_uuid4(out);
}

static int key_of(char *out, size_t cap, const char *account, const char *region, const char *name)
{
    return snprintf(out, cap, "%s/%s/%s", account, region, name);
}

/* ---- names -------------------------------------------------------------------------------- */

bool lambda_name_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '-' && s[n] != '_')
            return false;
    return n >= 1 && n <= LAMBDA_NAME_MAX;
}

static bool qualifier_valid(const char *s)
{
    return !strcmp(s, "$LATEST") || lambda_name_valid(s);
}

static int name_error(aws_error_t *err, const char *given)
{
    return aws_error_set(err, 400, "ValidationException",
                         "1 validation error detected: Value '%.200s' at 'functionName' failed to "
                         "satisfy constraint: Member must satisfy regular expression pattern: "
                         "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:"
                         ")?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
                         given);
}

/* Splits s at ':' into at most cap parts (copies into parts); returns the count or -1. */
static int split_colon(const char *s, char parts[][LAMBDA_NAME_MAX + 1], int cap)
{
    int n = 0;
    const char *p = s;
    for (;;) {
        const char *c = strchr(p, ':');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (n == cap || len > LAMBDA_NAME_MAX)
            return -1;
        memcpy(parts[n], p, len);
        parts[n++][len] = '\0';
        if (!c)
            return n;
        p = c + 1;
    }
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return strlen(s) == n;
}

/* name | name:qual | ACCOUNT:function:name[:qual] |
 * arn:aws:lambda:REGION:ACCOUNT:function:name[:qual] */
static int ref_split(const char *s, lambda_ref_t *out)
{
    char p[8][LAMBDA_NAME_MAX + 1];
    int n = split_colon(s, p, 8), i = 0;
    if (n < 0)
        return -1;
    if (n >= 6 && !strcmp(p[0], "arn") && !strncmp(p[1], "aws", 3) && !strcmp(p[2], "lambda")) {
        if (strlen(p[3]) >= sizeof(out->region))
            return -1;
        memcpy(out->region, p[3], strlen(p[3]) + 1);
        i = 4;
    }
    if (n - i >= 3 && all_digits(p[i], 12) && !strcmp(p[i + 1], "function")) {
        memcpy(out->account, p[i], 13);
        i += 2;
    } else if (i) {
        return -1;
    }
    if (n - i < 1 || n - i > 2 || !lambda_name_valid(p[i]))
        return -1;
    memcpy(out->name, p[i], strlen(p[i]) + 1); /* split_colon bounds every part */
    if (n - i == 2) {
        if (!qualifier_valid(p[i + 1]))
            return -1;
        memcpy(out->qualifier, p[i + 1], strlen(p[i + 1]) + 1);
    }
    return 0;
}

int lambda_ref_parse(const char *function_name, const char *qualifier, lambda_ref_t *out,
                     aws_error_t *err)
{
    lambda_ref_t r = {0};
    if (!function_name || ref_split(function_name, &r) < 0)
        return name_error(err, function_name ? function_name : "");
    if (qualifier && *qualifier) {
        if (!qualifier_valid(qualifier))
            return aws_error_set(err, 400, "ValidationException",
                                 "1 validation error detected: Value '%.100s' at 'qualifier' "
                                 "failed to satisfy constraint: Member must satisfy regular "
                                 "expression pattern: (|[a-zA-Z0-9$_-]+)",
                                 qualifier);
        if (r.qualifier[0] && strcmp(r.qualifier, qualifier))
            return aws_error_set(err, 400, "InvalidParameterValueException",
                                 "The derived qualifier from the function name does not match "
                                 "the specified qualifier.");
        snprintf(r.qualifier, sizeof(r.qualifier), "%s", qualifier);
    }
    *out = r;
    return 0;
}

/* ---- lookups ------------------------------------------------------------------------------ */

lambda_fn_t *lambda_fn_get(lambda_reg_t *r, const char *account, const char *region,
                           const char *name)
{
    char key[160];
    int n = key_of(key, sizeof(key), account, region, name);
    return n > 0 && (size_t)n < sizeof(key) ? strmap_get(&r->fns, key, (size_t)n) : NULL;
}

lambda_fn_t *lambda_fn_find(lambda_reg_t *r, const lambda_ref_t *ref, const char *account,
                            const char *region, aws_error_t *err)
{
    const char *a = ref->account[0] ? ref->account : account;
    const char *g = ref->region[0] ? ref->region : region;
    lambda_fn_t *fn = lambda_fn_get(r, a, g, ref->name);
    if (!fn)
        aws_error_set(err, 404, "ResourceNotFoundException",
                      "Function not found: arn:aws:lambda:%s:%s:function:%s%s%s", g, a, ref->name,
                      ref->qualifier[0] ? ":" : "", ref->qualifier);
    return fn;
}

static const lambda_conf_t *version_get(const lambda_fn_t *fn, const char *v)
{
    for (size_t i = 0; i < fn->n_versions; i++)
        if (!strcmp(fn->versions[i].version, v))
            return &fn->versions[i];
    return NULL;
}

const lambda_alias_t *lambda_alias_get(const lambda_fn_t *fn, const char *name)
{
    for (size_t i = 0; i < fn->n_aliases; i++)
        if (!strcmp(fn->aliases[i].name, name))
            return &fn->aliases[i];
    return NULL;
}

const lambda_conf_t *lambda_fn_resolve(const lambda_fn_t *fn, const char *qualifier,
                                       aws_error_t *err)
{
    const lambda_conf_t *c = NULL;
    if (!qualifier || !*qualifier || !strcmp(qualifier, "$LATEST"))
        return &fn->latest;
    if (all_digits(qualifier, strlen(qualifier))) {
        c = version_get(fn, qualifier);
    } else {
        const lambda_alias_t *a = lambda_alias_get(fn, qualifier);
        c = a ? lambda_fn_resolve(fn, a->version, err) : NULL;
    }
    if (!c)
        aws_error_set(err, 404, "ResourceNotFoundException", "Function not found: %s:%s", fn->arn,
                      qualifier);
    return c;
}

/* ---- create, update, delete ---------------------------------------------------------------- */

void lambda_conf_copy(lambda_conf_t *dst, const lambda_conf_t *src)
{
    *dst = *src;
    dst->runtime = src->runtime ? xstrdup(src->runtime) : NULL;
    dst->role = src->role ? xstrdup(src->role) : NULL;
    dst->handler = src->handler ? xstrdup(src->handler) : NULL;
    dst->description = src->description ? xstrdup(src->description) : NULL;
    dst->hot_dir = src->hot_dir ? xstrdup(src->hot_dir) : NULL;
    dst->dlq_arn = src->dlq_arn ? xstrdup(src->dlq_arn) : NULL;
    dst->env_keys = src->n_env ? xcalloc(src->n_env, sizeof(char *)) : NULL;
    dst->env_values = src->n_env ? xcalloc(src->n_env, sizeof(char *)) : NULL;
    for (size_t i = 0; i < src->n_env; i++) {
        dst->env_keys[i] = xstrdup(src->env_keys[i]);
        dst->env_values[i] = xstrdup(src->env_values[i]);
    }
}

void lambda_conf_free(lambda_conf_t *c)
{
    free(c->runtime);
    free(c->role);
    free(c->handler);
    free(c->description);
    free(c->hot_dir);
    free(c->dlq_arn);
    for (size_t i = 0; i < c->n_env; i++) {
        free(c->env_keys[i]);
        free(c->env_values[i]);
    }
    free(c->env_keys);
    free(c->env_values);
    memset(c, 0, sizeof(*c));
}

static void alias_free(lambda_alias_t *a)
{
    free(a->name);
    free(a->version);
    free(a->description);
}

static void stmt_free(lambda_stmt_t *s)
{
    free(s->sid);
    free(s->qualifier);
    free(s->text);
}

void lambda_fn_free(lambda_fn_t *fn)
{
    if (!fn)
        return;
    lambda_conf_free(&fn->latest);
    for (size_t i = 0; i < fn->n_versions; i++)
        lambda_conf_free(&fn->versions[i]);
    for (size_t i = 0; i < fn->n_aliases; i++)
        alias_free(&fn->aliases[i]);
    for (size_t i = 0; i < fn->n_stmts; i++)
        stmt_free(&fn->stmts[i]);
    for (size_t i = 0; i < fn->n_tags; i++) {
        free(fn->tag_keys[i]);
        free(fn->tag_values[i]);
    }
    free(fn->versions);
    free(fn->aliases);
    free(fn->stmts);
    free(fn->tag_keys);
    free(fn->tag_values);
    free(fn);
}

static void fn_insert(lambda_reg_t *r, lambda_fn_t *fn)
{
    char key[160];
    int n = key_of(key, sizeof(key), fn->account, fn->region, fn->name);
    strmap_put(&r->fns, key, (size_t)n, fn);
    if (fn->latest.code_id >= r->next_code_id)
        r->next_code_id = fn->latest.code_id + 1;
    for (size_t i = 0; i < fn->n_versions; i++)
        if (fn->versions[i].code_id >= r->next_code_id)
            r->next_code_id = fn->versions[i].code_id + 1;
}

int lambda_fn_create(lambda_reg_t *r, const char *account, const char *region, const char *name,
                     lambda_conf_t *conf, uint64_t now_ms, lambda_fn_t **out, aws_error_t *err)
{
    if (lambda_fn_get(r, account, region, name))
        return aws_error_set(err, 409, "ResourceConflictException", "Function already exist: %s",
                             name);
    lambda_fn_t *fn = xcalloc(1, sizeof(*fn));
    snprintf(fn->account, sizeof(fn->account), "%s", account);
    snprintf(fn->region, sizeof(fn->region), "%s", region);
    snprintf(fn->name, sizeof(fn->name), "%s", name);
    snprintf(fn->arn, sizeof(fn->arn), "arn:aws:lambda:%s:%s:function:%s", region, account, name);
    fn->reserved = -1;
    new_revision(fn->policy_revision);
    fn_insert(r, fn);
    lambda_fn_set_latest(r, fn, conf, now_ms);
    *out = fn;
    return 0;
}

void lambda_fn_set_latest(lambda_reg_t *r, lambda_fn_t *fn, lambda_conf_t *conf, uint64_t now_ms)
{
    lambda_conf_free(&fn->latest);
    fn->latest = *conf;
    memset(conf, 0, sizeof(*conf));
    snprintf(fn->latest.version, sizeof(fn->latest.version), "$LATEST");
    fn->latest.last_modified_ms = now_ms;
    fn->latest.code_id = r->next_code_id++;
    new_revision(fn->latest.revision_id);
    journal(r, fn);
}

static bool version_in_use(const lambda_fn_t *fn, const char *v)
{
    for (size_t i = 0; i < fn->n_aliases; i++)
        if (!strcmp(fn->aliases[i].version, v))
            return true;
    return false;
}

int lambda_fn_delete(lambda_reg_t *r, lambda_fn_t *fn, const char *qualifier, aws_error_t *err)
{
    if (qualifier && *qualifier) {
        if (!strcmp(qualifier, "$LATEST") || !all_digits(qualifier, strlen(qualifier)))
            return aws_error_set(err, 400, "InvalidParameterValueException",
                                 "Deletion of aliases or $LATEST is not supported via "
                                 "DeleteFunction; use DeleteAlias or an unqualified name.");
        const lambda_conf_t *v = version_get(fn, qualifier);
        if (!v)
            return aws_error_set(err, 404, "ResourceNotFoundException", "Function not found: %s:%s",
                                 fn->arn, qualifier);
        if (version_in_use(fn, qualifier))
            return aws_error_set(err, 409, "ResourceConflictException",
                                 "Unable to delete version because the following aliases "
                                 "reference it: an alias of %s",
                                 fn->name);
        size_t i = (size_t)(v - fn->versions);
        lambda_conf_free(&fn->versions[i]);
        memmove(&fn->versions[i], &fn->versions[i + 1],
                (fn->n_versions - i - 1) * sizeof(*fn->versions));
        fn->n_versions--;
        journal(r, fn);
        return 0;
    }
    char key[160];
    int n = key_of(key, sizeof(key), fn->account, fn->region, fn->name);
    strmap_del(&r->fns, key, (size_t)n);
    if (r->j.del)
        r->j.del(r->j.ud, fn);
    lambda_fn_free(fn);
    return 0;
}

int lambda_fn_publish(lambda_reg_t *r, lambda_fn_t *fn, const char *description,
                      const char *code_sha256, const char *revision_id, uint64_t now_ms,
                      const lambda_conf_t **out, aws_error_t *err)
{
    if (revision_id && strcmp(revision_id, fn->latest.revision_id))
        return aws_error_set(err, 412, "PreconditionFailedException",
                             "The Revision Id provided does not match the latest Revision Id. "
                             "Call the GetFunction/GetAlias API to retrieve the latest Revision "
                             "Id");
    if (code_sha256 && strcmp(code_sha256, fn->latest.code_sha256))
        return aws_error_set(err, 400, "InvalidParameterValueException",
                             "CodeSHA256 (%.64s) is different from current CodeSHA256 in "
                             "$LATEST (%s). Please try again with the CodeSHA256 in $LATEST.",
                             code_sha256, fn->latest.code_sha256);
    if (fn->n_versions &&
        !strcmp(fn->versions[fn->n_versions - 1].source_revision, fn->latest.revision_id)) {
        *out = &fn->versions[fn->n_versions - 1];
        return 0;
    }
    fn->versions = xrealloc(fn->versions, (fn->n_versions + 1) * sizeof(*fn->versions));
    lambda_conf_t *v = &fn->versions[fn->n_versions++];
    lambda_conf_copy(v, &fn->latest);
    snprintf(v->version, sizeof(v->version), "%u", ++fn->last_version);
    snprintf(v->source_revision, sizeof(v->source_revision), "%s", fn->latest.revision_id);
    if (description) {
        free(v->description);
        v->description = xstrdup(description);
    }
    v->last_modified_ms = now_ms;
    new_revision(v->revision_id);
    journal(r, fn);
    *out = v;
    return 0;
}

/* ---- aliases ------------------------------------------------------------------------------ */

static int alias_target_ok(const lambda_fn_t *fn, const char *version, aws_error_t *err)
{
    if (!strcmp(version, "$LATEST") || version_get(fn, version))
        return 0;
    return aws_error_set(err, 404, "ResourceNotFoundException", "Function not found: %s:%s",
                         fn->arn, version);
}

int lambda_alias_create(lambda_reg_t *r, lambda_fn_t *fn, const char *name, const char *version,
                        const char *description, const lambda_alias_t **out, aws_error_t *err)
{
    if (!lambda_name_valid(name) || all_digits(name, strlen(name)))
        return aws_error_set(err, 400, "ValidationException",
                             "1 validation error detected: Value '%.100s' at 'name' failed to "
                             "satisfy constraint: Member must satisfy regular expression pattern: "
                             "(?!^[0-9]+$)([a-zA-Z0-9-_]+)",
                             name);
    if (lambda_alias_get(fn, name))
        return aws_error_set(err, 409, "ResourceConflictException", "Alias already exists: %s:%s",
                             fn->arn, name);
    if (alias_target_ok(fn, version, err) < 0)
        return -1;
    fn->aliases = xrealloc(fn->aliases, (fn->n_aliases + 1) * sizeof(*fn->aliases));
    lambda_alias_t *a = &fn->aliases[fn->n_aliases++];
    a->name = xstrdup(name);
    a->version = xstrdup(version);
    a->description = xstrdup(description ? description : "");
    new_revision(a->revision_id);
    journal(r, fn);
    *out = a;
    return 0;
}

static lambda_alias_t *alias_find(lambda_fn_t *fn, const char *name, aws_error_t *err)
{
    lambda_alias_t *a = (lambda_alias_t *)lambda_alias_get(fn, name);
    if (!a)
        aws_error_set(err, 404, "ResourceNotFoundException", "Alias not found: %s:%s", fn->arn,
                      name);
    return a;
}

int lambda_alias_update(lambda_reg_t *r, lambda_fn_t *fn, const char *name, const char *version,
                        const char *description, const char *revision_id,
                        const lambda_alias_t **out, aws_error_t *err)
{
    lambda_alias_t *a = alias_find(fn, name, err);
    if (!a)
        return -1;
    if (revision_id && strcmp(revision_id, a->revision_id))
        return aws_error_set(err, 412, "PreconditionFailedException",
                             "The Revision Id provided does not match the latest Revision Id. "
                             "Call the GetFunction/GetAlias API to retrieve the latest Revision "
                             "Id");
    if (version && alias_target_ok(fn, version, err) < 0)
        return -1;
    if (version) {
        free(a->version);
        a->version = xstrdup(version);
    }
    if (description) {
        free(a->description);
        a->description = xstrdup(description);
    }
    new_revision(a->revision_id);
    journal(r, fn);
    *out = a;
    return 0;
}

int lambda_alias_delete(lambda_reg_t *r, lambda_fn_t *fn, const char *name, aws_error_t *err)
{
    (void)err;
    lambda_alias_t *a = (lambda_alias_t *)lambda_alias_get(fn, name);
    if (!a) /* DeleteAlias of an unknown alias succeeds, as in AWS */
        return 0;
    size_t i = (size_t)(a - fn->aliases);
    alias_free(a);
    memmove(&fn->aliases[i], &fn->aliases[i + 1], (fn->n_aliases - i - 1) * sizeof(*fn->aliases));
    fn->n_aliases--;
    journal(r, fn);
    return 0;
}

/* ---- concurrency -------------------------------------------------------------------------- */

int lambda_reg_unreserved(const lambda_reg_t *r, const char *account, const char *region)
{
    int left = LAMBDA_ACCOUNT_LIMIT;
    size_t pos = 0;
    const strmap_slot_t *s;
    while ((s = strmap_next(&r->fns, &pos))) {
        const lambda_fn_t *f = s->val;
        if (f->reserved > 0 && !strcmp(f->account, account) && !strcmp(f->region, region))
            left -= f->reserved;
    }
    return left;
}

int lambda_fn_set_reserved(lambda_reg_t *r, lambda_fn_t *fn, int n, aws_error_t *err)
{
    int free_now =
        lambda_reg_unreserved(r, fn->account, fn->region) + (fn->reserved > 0 ? fn->reserved : 0);
    if (n > free_now - LAMBDA_UNRESERVED_MIN)
        return aws_error_set(err, 400, "InvalidParameterValueException",
                             "Specified ReservedConcurrentExecutions for function decreases "
                             "account's UnreservedConcurrentExecution below its minimum value "
                             "of [%d].",
                             LAMBDA_UNRESERVED_MIN);
    fn->reserved = n;
    journal(r, fn);
    return 0;
}

/* ---- policy ------------------------------------------------------------------------------- */

static bool same_qualifier(const lambda_stmt_t *s, const char *q)
{
    return !strcmp(s->qualifier ? s->qualifier : "", q ? q : "");
}

static int revision_check(const lambda_fn_t *fn, const char *revision_id, aws_error_t *err)
{
    if (revision_id && strcmp(revision_id, fn->policy_revision))
        return aws_error_set(err, 412, "PreconditionFailedException",
                             "The Revision Id provided does not match the latest Revision Id. "
                             "Call the GetPolicy API to retrieve the latest Revision Id");
    return 0;
}

int lambda_policy_add(lambda_reg_t *r, lambda_fn_t *fn, const char *qualifier, const char *sid,
                      const char *text, const char *revision_id, aws_error_t *err)
{
    size_t total = strlen(text);
    if (revision_check(fn, revision_id, err) < 0)
        return -1;
    for (size_t i = 0; i < fn->n_stmts; i++) {
        if (same_qualifier(&fn->stmts[i], qualifier) && !strcmp(fn->stmts[i].sid, sid))
            return aws_error_set(err, 409, "ResourceConflictException",
                                 "The statement id (%s) provided already exists. Please provide "
                                 "a new statement id, or remove the existing statement.",
                                 sid);
        if (same_qualifier(&fn->stmts[i], qualifier))
            total += strlen(fn->stmts[i].text) + 1;
    }
    if (total + 64 > LAMBDA_POLICY_MAX)
        return aws_error_set(err, 400, "PolicyLengthExceededException",
                             "The final policy size (%zu) is bigger than the limit (%d).",
                             total + 64, LAMBDA_POLICY_MAX);
    fn->stmts = xrealloc(fn->stmts, (fn->n_stmts + 1) * sizeof(*fn->stmts));
    fn->stmts[fn->n_stmts++] = (lambda_stmt_t){
        xstrdup(sid), qualifier && *qualifier ? xstrdup(qualifier) : NULL, xstrdup(text)};
    new_revision(fn->policy_revision);
    journal(r, fn);
    return 0;
}

int lambda_policy_remove(lambda_reg_t *r, lambda_fn_t *fn, const char *qualifier, const char *sid,
                         const char *revision_id, aws_error_t *err)
{
    if (revision_check(fn, revision_id, err) < 0)
        return -1;
    for (size_t i = 0; i < fn->n_stmts; i++) {
        if (!same_qualifier(&fn->stmts[i], qualifier) || strcmp(fn->stmts[i].sid, sid))
            continue;
        stmt_free(&fn->stmts[i]);
        memmove(&fn->stmts[i], &fn->stmts[i + 1], (fn->n_stmts - i - 1) * sizeof(*fn->stmts));
        fn->n_stmts--;
        new_revision(fn->policy_revision);
        journal(r, fn);
        return 0;
    }
    return aws_error_set(err, 404, "ResourceNotFoundException",
                         "Statement %s is not found in resource policy.", sid);
}

char *lambda_policy_render(const lambda_fn_t *fn, const char *qualifier)
{
    buf_t b;
    size_t n = 0;
    buf_init(&b, 0);
    buf_puts(&b, "{\"Version\":\"2012-10-17\",\"Id\":\"default\",\"Statement\":[");
    for (size_t i = 0; i < fn->n_stmts; i++) {
        if (!same_qualifier(&fn->stmts[i], qualifier))
            continue;
        if (n++)
            buf_putc(&b, ',');
        buf_puts(&b, fn->stmts[i].text);
    }
    buf_puts(&b, "]}");
    if (n == 0) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b, NULL);
}

/* ---- tags --------------------------------------------------------------------------------- */

static ssize_t tag_index(const lambda_fn_t *fn, const char *key)
{
    for (size_t i = 0; i < fn->n_tags; i++)
        if (!strcmp(fn->tag_keys[i], key))
            return (ssize_t)i;
    return -1;
}

int lambda_tags_set(lambda_reg_t *r, lambda_fn_t *fn, const char *const *keys,
                    const char *const *values, size_t n, aws_error_t *err)
{
    size_t added = 0;
    for (size_t i = 0; i < n; i++)
        added += tag_index(fn, keys[i]) < 0;
    if (fn->n_tags + added > LAMBDA_TAGS_MAX)
        return aws_error_set(err, 400, "InvalidParameterValueException",
                             "Number of tags exceeds resource tag limit.");
    for (size_t i = 0; i < n; i++) {
        ssize_t k = tag_index(fn, keys[i]);
        if (k >= 0) {
            free(fn->tag_values[k]);
            fn->tag_values[k] = xstrdup(values[i]);
            continue;
        }
        fn->tag_keys = xrealloc(fn->tag_keys, (fn->n_tags + 1) * sizeof(char *));
        fn->tag_values = xrealloc(fn->tag_values, (fn->n_tags + 1) * sizeof(char *));
        fn->tag_keys[fn->n_tags] = xstrdup(keys[i]);
        fn->tag_values[fn->n_tags++] = xstrdup(values[i]);
    }
    journal(r, fn);
    return 0;
}

void lambda_tags_remove(lambda_reg_t *r, lambda_fn_t *fn, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ssize_t k = tag_index(fn, keys[i]);
        if (k < 0)
            continue;
        free(fn->tag_keys[k]);
        free(fn->tag_values[k]);
        fn->n_tags--;
        fn->tag_keys[k] = fn->tag_keys[fn->n_tags];
        fn->tag_values[k] = fn->tag_values[fn->n_tags];
    }
    journal(r, fn);
}

/* ---- lists -------------------------------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const lambda_fn_t *const *)a)->name, (*(const lambda_fn_t *const *)b)->name);
}

size_t lambda_fn_list(const lambda_reg_t *r, const char *account, const char *region,
                      const char *after, const lambda_fn_t **out, size_t cap)
{
    size_t pos = 0, n = 0, m = 0;
    const strmap_slot_t *s;
    const lambda_fn_t **all = xmalloc((r->fns.n + 1) * sizeof(*all));
    while ((s = strmap_next(&r->fns, &pos))) {
        const lambda_fn_t *f = s->val;
        if (!strcmp(f->account, account) && !strcmp(f->region, region) &&
            strcmp(f->name, after) > 0)
            all[n++] = f;
    }
    qsort(all, n, sizeof(*all), by_name);
    for (; m < n && m < cap; m++)
        out[m] = all[m];
    free(all);
    return m;
}

void lambda_reg_usage(const lambda_reg_t *r, const char *account, const char *region,
                      size_t *functions, uint64_t *code_bytes)
{
    size_t pos = 0, n = 0;
    uint64_t bytes = 0;
    const strmap_slot_t *s;
    while ((s = strmap_next(&r->fns, &pos))) {
        const lambda_fn_t *f = s->val;
        if (strcmp(f->account, account) || strcmp(f->region, region))
            continue;
        n++;
        bytes += f->latest.code_size;
        for (size_t i = 0; i < f->n_versions; i++)
            bytes += f->versions[i].code_size;
    }
    *functions = n;
    *code_bytes = bytes;
}

int lambda_reg_restore(lambda_reg_t *r, lambda_fn_t *fn)
{
    if (lambda_fn_get(r, fn->account, fn->region, fn->name))
        return -1;
    fn_insert(r, fn);
    return 0;
}
