/*
 * fnrec — a function's journal record: the whole function as one JSON
 * document (its own storage format, not the API's), written on every change
 * and read back at start-up.
 *
 *   {"account","region","name","reserved","last_version","policy_revision",
 *    "latest":CONF, "versions":[CONF...], "aliases":[{name,version,description,revision}],
 *    "stmts":[{sid,qualifier,text}], "tags":{k:v}}
 *
 * A CONF of a hot-reload function also holds "hot_dir", its absolute code directory.
 *
 * Reading is strict: a record whose names or limits do not pass the API's
 * checks is refused whole, so a damaged database cannot bring in what the API
 * would not accept. fuzz/fuzz_lambda_restore.c drives the reader.
 */
#include "lambda/function.h"
#include "lambda/rec.h"
#include "base/xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *conf_json(const lambda_conf_t *c)
{
    json_t *env = json_object();
    for (size_t i = 0; i < c->n_env; i++)
        json_object_set_new(env, c->env_keys[i], json_string(c->env_values[i]));
    json_t *o =
        json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:i, s:i, s:o, s:s, s:I, s:I, s:s, s:s, s:I}",
                  "version", c->version, "runtime", c->runtime, "role", c->role, "handler",
                  c->handler, "description", c->description, "timeout", c->timeout_s, "memory",
                  c->memory_mb, "env", env, "sha", c->code_sha256, "size", (json_int_t)c->code_size,
                  "modified", (json_int_t)c->last_modified_ms, "revision", c->revision_id, "source",
                  c->source_revision, "code_id", (json_int_t)c->code_id);
    if (c->hot_dir)
        json_object_set_new(o, "hot_dir", json_string(c->hot_dir));
    if (c->dlq_arn)
        json_object_set_new(o, "dlq", json_string(c->dlq_arn));
    return o;
}

char *lambda_fn_record(const lambda_fn_t *fn, size_t *len)
{
    json_t *versions = json_array(), *aliases = json_array(), *stmts = json_array();
    json_t *tags = json_object();
    for (size_t i = 0; i < fn->n_versions; i++)
        json_array_append_new(versions, conf_json(&fn->versions[i]));
    for (size_t i = 0; i < fn->n_aliases; i++) {
        const lambda_alias_t *a = &fn->aliases[i];
        json_array_append_new(aliases, json_pack("{s:s, s:s, s:s, s:s}", "name", a->name, "version",
                                                 a->version, "description", a->description,
                                                 "revision", a->revision_id));
    }
    for (size_t i = 0; i < fn->n_stmts; i++) {
        const lambda_stmt_t *s = &fn->stmts[i];
        json_array_append_new(stmts, json_pack("{s:s, s:s?, s:s}", "sid", s->sid, "qualifier",
                                               s->qualifier, "text", s->text));
    }
    for (size_t i = 0; i < fn->n_tags; i++)
        json_object_set_new(tags, fn->tag_keys[i], json_string(fn->tag_values[i]));
    json_t *doc =
        json_pack("{s:s, s:s, s:s, s:i, s:I, s:s, s:o, s:o, s:o, s:o, s:o}", "account", fn->account,
                  "region", fn->region, "name", fn->name, "reserved", fn->reserved, "last_version",
                  (json_int_t)fn->last_version, "policy_revision", fn->policy_revision, "latest",
                  conf_json(&fn->latest), "versions", versions, "aliases", aliases, "stmts", stmts,
                  "tags", tags);
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    *len = strlen(s);
    return s;
}

/* ---- reading ------------------------------------------------------------------------------ */

static char *opt_dup(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? xstrdup(s) : NULL;
}

int lambda_rec_str(char *dst, size_t cap, const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    if (!s || strlen(s) >= cap)
        return -1;
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

static int conf_read(const json_t *o, lambda_conf_t *c)
{
    const json_t *env = json_object_get(o, "env");
    const char *k;
    json_t *v;
    if (!json_is_object(o) || !json_is_object(env) ||
        lambda_rec_str(c->version, sizeof(c->version), o, "version") < 0 ||
        lambda_rec_str(c->code_sha256, sizeof(c->code_sha256), o, "sha") < 0 ||
        lambda_rec_str(c->revision_id, sizeof(c->revision_id), o, "revision") < 0 ||
        lambda_rec_str(c->source_revision, sizeof(c->source_revision), o, "source") < 0)
        return -1;
    c->runtime = opt_dup(o, "runtime");
    c->role = opt_dup(o, "role");
    c->handler = opt_dup(o, "handler");
    c->description = opt_dup(o, "description");
    c->hot_dir = opt_dup(o, "hot_dir");
    if (c->hot_dir && c->hot_dir[0] != '/')
        return -1;
    c->dlq_arn = opt_dup(o, "dlq");
    c->timeout_s = (int)json_integer_value(json_object_get(o, "timeout"));
    c->memory_mb = (int)json_integer_value(json_object_get(o, "memory"));
    c->code_size = (uint64_t)json_integer_value(json_object_get(o, "size"));
    c->last_modified_ms = (uint64_t)json_integer_value(json_object_get(o, "modified"));
    c->code_id = (uint64_t)json_integer_value(json_object_get(o, "code_id"));
    if (c->timeout_s < 1 || c->timeout_s > LAMBDA_TIMEOUT_MAX || c->memory_mb < LAMBDA_MEMORY_MIN ||
        c->memory_mb > LAMBDA_MEMORY_MAX)
        return -1;
    c->env_keys = xcalloc(json_object_size(env) + 1, sizeof(char *));
    c->env_values = xcalloc(json_object_size(env) + 1, sizeof(char *));
    json_object_foreach((json_t *)env, k, v)
    {
        if (!json_is_string(v))
            return -1;
        c->env_keys[c->n_env] = xstrdup(k);
        c->env_values[c->n_env++] = xstrdup(json_string_value(v));
    }
    return 0;
}

static int aliases_read(const json_t *arr, lambda_fn_t *fn)
{
    size_t i;
    json_t *a;
    fn->aliases = xcalloc(json_array_size(arr) + 1, sizeof(*fn->aliases));
    json_array_foreach(arr, i, a)
    {
        lambda_alias_t *al = &fn->aliases[fn->n_aliases++];
        al->name = opt_dup(a, "name");
        al->version = opt_dup(a, "version");
        al->description = opt_dup(a, "description");
        if (!al->name || !al->version || !al->description || !lambda_name_valid(al->name) ||
            lambda_rec_str(al->revision_id, sizeof(al->revision_id), a, "revision") < 0)
            return -1;
    }
    return 0;
}

static int stmts_read(const json_t *arr, lambda_fn_t *fn)
{
    size_t i;
    json_t *s;
    fn->stmts = xcalloc(json_array_size(arr) + 1, sizeof(*fn->stmts));
    json_array_foreach(arr, i, s)
    {
        lambda_stmt_t *st = &fn->stmts[fn->n_stmts++];
        st->sid = opt_dup(s, "sid");
        st->qualifier = opt_dup(s, "qualifier");
        st->text = opt_dup(s, "text");
        if (!st->sid || !st->text)
            return -1;
    }
    return 0;
}

static int tags_read(const json_t *o, lambda_fn_t *fn)
{
    const char *k;
    json_t *v;
    if (json_object_size(o) > LAMBDA_TAGS_MAX)
        return -1;
    fn->tag_keys = xcalloc(json_object_size(o) + 1, sizeof(char *));
    fn->tag_values = xcalloc(json_object_size(o) + 1, sizeof(char *));
    json_object_foreach((json_t *)o, k, v)
    {
        if (!json_is_string(v))
            return -1;
        fn->tag_keys[fn->n_tags] = xstrdup(k);
        fn->tag_values[fn->n_tags++] = xstrdup(json_string_value(v));
    }
    return 0;
}

static int fn_read(const json_t *doc, lambda_fn_t *fn)
{
    const json_t *versions = json_object_get(doc, "versions");
    const json_t *aliases = json_object_get(doc, "aliases");
    const json_t *stmts = json_object_get(doc, "stmts");
    const json_t *tags = json_object_get(doc, "tags");
    size_t i;
    json_t *v;
    if (lambda_rec_str(fn->account, sizeof(fn->account), doc, "account") < 0 ||
        lambda_rec_str(fn->region, sizeof(fn->region), doc, "region") < 0 ||
        lambda_rec_str(fn->name, sizeof(fn->name), doc, "name") < 0 ||
        !lambda_name_valid(fn->name) ||
        lambda_rec_str(fn->policy_revision, sizeof(fn->policy_revision), doc, "policy_revision") <
            0 ||
        !json_is_array(versions) || !json_is_array(aliases) || !json_is_array(stmts) ||
        !json_is_object(tags))
        return -1;
    snprintf(fn->arn, sizeof(fn->arn), "arn:aws:lambda:%s:%s:function:%s", fn->region, fn->account,
             fn->name);
    fn->reserved = (int)json_integer_value(json_object_get(doc, "reserved"));
    fn->last_version = (uint32_t)json_integer_value(json_object_get(doc, "last_version"));
    if (fn->reserved < -1 || fn->reserved > LAMBDA_ACCOUNT_LIMIT)
        return -1;
    if (conf_read(json_object_get(doc, "latest"), &fn->latest) < 0)
        return -1;
    fn->versions = xcalloc(json_array_size(versions) + 1, sizeof(*fn->versions));
    json_array_foreach(versions, i,
                       v) if (conf_read(v, &fn->versions[fn->n_versions++]) < 0) return -1;
    if (aliases_read(aliases, fn) < 0 || stmts_read(stmts, fn) < 0 || tags_read(tags, fn) < 0)
        return -1;
    return 0;
}

lambda_fn_t *lambda_fn_from_record(const void *blob, size_t len)
{
    json_error_t jerr;
    json_t *doc = json_loadb(blob, len, 0, &jerr);
    lambda_fn_t *fn = xcalloc(1, sizeof(*fn));
    if (!json_is_object(doc) || fn_read(doc, fn) < 0) {
        lambda_fn_free(fn);
        fn = NULL;
    }
    json_decref(doc);
    return fn;
}
