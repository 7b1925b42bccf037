/*
 * test_lambda_function — the pure Lambda control-plane engine: names and
 * qualifiers, create/update/delete, versions (and PublishVersion returning the
 * last version when nothing changed), aliases and qualifier resolution,
 * reserved concurrency against the account limit, resource policy rendering,
 * tags, and the journal: every change journaled, records restored whole.
 */
#include "lambda/function.h"
#include "base/xalloc.h"
#include "lambda/service.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct journal {
    int puts, dels;
    char *last; /* the last record written */
    size_t last_len;
} journal_t;

static void j_put(void *ud, const lambda_fn_t *fn)
{
    journal_t *j = ud;
    j->puts++;
    free(j->last);
    j->last = lambda_fn_record(fn, &j->last_len);
}

static void j_del(void *ud, const lambda_fn_t *fn)
{
    (void)fn;
    ((journal_t *)ud)->dels++;
}

static lambda_conf_t conf(const char *sha)
{
    lambda_conf_t c = {.timeout_s = 3, .memory_mb = 128};
    c.runtime = xstrdup("python3.12");
    c.role = xstrdup("arn:aws:iam::000000000000:role/r");
    c.handler = xstrdup("app.handler");
    strcpy(c.code_sha256, sha);
    c.code_size = 10;
    return c;
}

static lambda_fn_t *make(lambda_reg_t *r, const char *name)
{
    lambda_conf_t c = conf("AAAA");
    lambda_fn_t *fn = NULL;
    aws_error_t err;
    assert_int_equal(lambda_fn_create(r, "000000000000", "us-east-1", name, &c, 1000, &fn, &err),
                     0);
    lambda_conf_free(&c);
    return fn;
}

static void test_refs(void **state)
{
    (void)state;
    lambda_ref_t ref;
    aws_error_t err;
    aws_error_clear(&err);
    assert_int_equal(lambda_ref_parse("my-fn", NULL, &ref, &err), 0);
    assert_string_equal(ref.name, "my-fn");
    assert_string_equal(ref.qualifier, "");
    assert_int_equal(lambda_ref_parse("my-fn:live", NULL, &ref, &err), 0);
    assert_string_equal(ref.qualifier, "live");
    assert_int_equal(lambda_ref_parse("123456789012:function:f:7", NULL, &ref, &err), 0);
    assert_string_equal(ref.account, "123456789012");
    assert_string_equal(ref.qualifier, "7");
    assert_int_equal(
        lambda_ref_parse("arn:aws:lambda:eu-west-1:123456789012:function:f", "$LATEST", &ref, &err),
        0);
    assert_string_equal(ref.region, "eu-west-1");
    assert_string_equal(ref.qualifier, "$LATEST");
    assert_int_equal(lambda_ref_parse("f:1", "2", &ref, &err), -1);
    assert_string_equal(err.code, "InvalidParameterValueException");
    assert_int_equal(lambda_ref_parse("bad name", NULL, &ref, &err), -1);
    assert_string_equal(err.code, "ValidationException");
    assert_int_equal(lambda_ref_parse("arn:aws:lambda:x:1:function:f", NULL, &ref, &err), -1);
    assert_int_equal(lambda_ref_parse("", NULL, &ref, &err), -1);
    char big[80];
    memset(big, 'a', sizeof(big) - 1);
    big[79] = '\0';
    assert_int_equal(lambda_ref_parse(big, NULL, &ref, &err), -1);
}

static void test_versions_and_aliases(void **state)
{
    (void)state;
    journal_t j = {0};
    lambda_journal_t lj = {&j, j_put, j_del};
    lambda_reg_t *r = lambda_reg_new(&lj);
    lambda_fn_t *fn = make(r, "f");
    const lambda_conf_t *v1, *v;
    const lambda_alias_t *a;
    aws_error_t err;
    aws_error_clear(&err);
    assert_string_equal(fn->arn, "arn:aws:lambda:us-east-1:000000000000:function:f");
    assert_int_equal(lambda_fn_publish(r, fn, "first", NULL, NULL, 2000, &v1, &err), 0);
    assert_string_equal(v1->version, "1");
    assert_string_equal(v1->description, "first");
    /* nothing changed: the same version again */
    assert_int_equal(lambda_fn_publish(r, fn, NULL, NULL, NULL, 3000, &v, &err), 0);
    assert_ptr_equal(v, v1);
    assert_int_equal(lambda_fn_publish(r, fn, NULL, "BBBB", NULL, 3000, &v, &err), -1);
    assert_string_equal(err.code, "InvalidParameterValueException");
    assert_int_equal(lambda_fn_publish(r, fn, NULL, NULL, "nope", 3000, &v, &err), -1);
    assert_int_equal(err.status, 412);
    lambda_conf_t c = conf("BBBB");
    uint64_t old_id = fn->latest.code_id;
    lambda_fn_set_latest(r, fn, &c, 4000);
    assert_true(fn->latest.code_id != old_id);
    assert_int_equal(lambda_fn_publish(r, fn, NULL, NULL, NULL, 5000, &v, &err), 0);
    assert_string_equal(v->version, "2");
    /* aliases and qualifiers */
    assert_int_equal(lambda_alias_create(r, fn, "live", "1", NULL, &a, &err), 0);
    assert_int_equal(lambda_alias_create(r, fn, "live", "1", NULL, &a, &err), -1);
    assert_int_equal(err.status, 409);
    assert_int_equal(lambda_alias_create(r, fn, "x", "9", NULL, &a, &err), -1);
    assert_int_equal(err.status, 404);
    assert_int_equal(lambda_alias_create(r, fn, "12", "1", NULL, &a, &err), -1);
    assert_string_equal(lambda_fn_resolve(fn, "live", &err)->code_sha256, "AAAA");
    assert_string_equal(lambda_fn_resolve(fn, "2", &err)->code_sha256, "BBBB");
    assert_string_equal(lambda_fn_resolve(fn, "$LATEST", &err)->version, "$LATEST");
    assert_null(lambda_fn_resolve(fn, "7", &err));
    assert_null(lambda_fn_resolve(fn, "dev", &err));
    assert_string_equal(err.code, "ResourceNotFoundException");
    assert_int_equal(lambda_alias_update(r, fn, "live", "2", "d", NULL, &a, &err), 0);
    assert_string_equal(lambda_fn_resolve(fn, "live", &err)->version, "2");
    /* a version an alias uses cannot go; another can */
    assert_int_equal(lambda_fn_delete(r, fn, "2", &err), -1);
    assert_int_equal(err.status, 409);
    assert_int_equal(lambda_fn_delete(r, fn, "1", &err), 0);
    assert_int_equal(fn->n_versions, 1);
    assert_int_equal(lambda_alias_delete(r, fn, "live", &err), 0);
    /* numbers are not reused */
    lambda_conf_t c3 = conf("CCCC");
    lambda_fn_set_latest(r, fn, &c3, 6000);
    assert_int_equal(lambda_fn_publish(r, fn, NULL, NULL, NULL, 7000, &v, &err), 0);
    assert_string_equal(v->version, "3");
    assert_true(j.puts > 8);
    assert_int_equal(lambda_fn_delete(r, fn, "", &err), 0);
    assert_int_equal(j.dels, 1);
    assert_null(lambda_fn_get(r, "000000000000", "us-east-1", "f"));
    free(j.last);
    lambda_reg_free(r);
}

static void test_concurrency_policy_tags(void **state)
{
    (void)state;
    lambda_reg_t *r = lambda_reg_new(NULL);
    lambda_fn_t *a = make(r, "a"), *b = make(r, "b");
    aws_error_t err;
    aws_error_clear(&err);
    assert_int_equal(lambda_fn_set_reserved(r, a, 800, &err), 0);
    assert_int_equal(lambda_reg_unreserved(r, "000000000000", "us-east-1"), 200);
    assert_int_equal(lambda_fn_set_reserved(r, b, 101, &err), -1); /* would leave 99 */
    assert_int_equal(lambda_fn_set_reserved(r, b, 100, &err), 0);
    assert_int_equal(lambda_fn_set_reserved(r, a, 900, &err), -1);
    assert_int_equal(lambda_fn_set_reserved(r, a, 800, &err), 0); /* its own counts as free */
    assert_int_equal(lambda_fn_set_reserved(r, a, -1, &err), 0);
    assert_int_equal(lambda_reg_unreserved(r, "000000000000", "us-east-1"), 900);

    assert_null(lambda_policy_render(a, ""));
    assert_int_equal(lambda_policy_add(r, a, "", "s1", "{\"Sid\":\"s1\"}", NULL, &err), 0);
    assert_int_equal(lambda_policy_add(r, a, "", "s1", "{\"Sid\":\"s1\"}", NULL, &err), -1);
    assert_string_equal(err.code, "ResourceConflictException");
    assert_int_equal(lambda_policy_add(r, a, "live", "s1", "{\"Sid\":\"q\"}", NULL, &err), 0);
    assert_int_equal(lambda_policy_add(r, a, "", "s2", "{\"Sid\":\"s2\"}", "stale", &err), -1);
    assert_int_equal(err.status, 412);
    assert_int_equal(
        lambda_policy_add(r, a, "", "s2", "{\"Sid\":\"s2\"}", a->policy_revision, &err), 0);
    char *doc = lambda_policy_render(a, "");
    assert_string_equal(doc, "{\"Version\":\"2012-10-17\",\"Id\":\"default\",\"Statement\":[{"
                             "\"Sid\":\"s1\"},{\"Sid\":\"s2\"}]}");
    free(doc);
    doc = lambda_policy_render(a, "live");
    assert_non_null(strstr(doc, "\"q\""));
    free(doc);
    assert_int_equal(lambda_policy_remove(r, a, "", "s9", NULL, &err), -1);
    assert_int_equal(err.status, 404);
    assert_int_equal(lambda_policy_remove(r, a, "", "s1", NULL, &err), 0);

    const char *k[] = {"a", "b"}, *v[] = {"1", "2"};
    assert_int_equal(lambda_tags_set(r, a, k, v, 2, &err), 0);
    const char *v2[] = {"3"};
    assert_int_equal(lambda_tags_set(r, a, k, v2, 1, &err), 0);
    assert_int_equal(a->n_tags, 2);
    assert_string_equal(a->tag_values[0], "3");
    lambda_tags_remove(r, a, k, 1);
    assert_int_equal(a->n_tags, 1);
    assert_string_equal(a->tag_keys[0], "b");

    const lambda_fn_t *list[4];
    assert_int_equal(lambda_fn_list(r, "000000000000", "us-east-1", "", list, 4), 2);
    assert_string_equal(list[0]->name, "a");
    assert_int_equal(lambda_fn_list(r, "000000000000", "us-east-1", "a", list, 4), 1);
    assert_int_equal(lambda_fn_list(r, "000000000000", "eu-west-1", "", list, 4), 0);
    lambda_reg_free(r);
}

static void test_restore(void **state)
{
    (void)state;
    journal_t j = {0};
    lambda_journal_t lj = {&j, j_put, j_del};
    lambda_reg_t *r = lambda_reg_new(&lj);
    lambda_fn_t *fn = make(r, "f");
    const lambda_conf_t *v;
    const lambda_alias_t *a;
    aws_error_t err;
    const char *k[] = {"team"}, *val[] = {"x"};
    lambda_conf_t c = conf("AAAA");
    c.n_env = 1;
    c.env_keys = xcalloc(1, sizeof(char *));
    c.env_values = xcalloc(1, sizeof(char *));
    c.env_keys[0] = xstrdup("K");
    c.env_values[0] = xstrdup("V\tW");
    lambda_fn_set_latest(r, fn, &c, 1500);
    lambda_fn_publish(r, fn, NULL, NULL, NULL, 2000, &v, &err);
    lambda_alias_create(r, fn, "live", "1", "d", &a, &err);
    lambda_fn_set_reserved(r, fn, 5, &err);
    lambda_policy_add(r, fn, "", "s1", "{\"Sid\":\"s1\"}", NULL, &err);
    lambda_tags_set(r, fn, k, val, 1, &err);

    lambda_fn_t *back = lambda_fn_from_record(j.last, j.last_len);
    assert_non_null(back);
    size_t len2;
    char *again = lambda_fn_record(back, &len2);
    assert_int_equal(len2, j.last_len);
    assert_memory_equal(again, j.last, len2);
    free(again);
    lambda_reg_t *r2 = lambda_reg_new(NULL);
    assert_int_equal(lambda_reg_restore(r2, back), 0);
    lambda_fn_t *f2 = lambda_fn_get(r2, "000000000000", "us-east-1", "f");
    assert_string_equal(lambda_fn_resolve(f2, "live", &err)->version, "1");
    assert_string_equal(f2->latest.env_values[0], "V\tW");
    assert_int_equal(f2->reserved, 5);
    /* a restored registry hands out code ids beyond those it restored */
    lambda_fn_t *g = make(r2, "g");
    assert_true(g->latest.code_id > f2->latest.code_id);
    /* damaged records are refused whole */
    assert_null(lambda_fn_from_record("{}", 2));
    assert_null(lambda_fn_from_record("nope", 4));
    char *bad = xstrdup(j.last);
    char *t = strstr(bad, "\"timeout\":3");
    t[10] = '0';
    assert_null(lambda_fn_from_record(bad, strlen(bad)));
    free(bad);
    free(j.last);
    lambda_reg_free(r2);
    lambda_reg_free(r);
}

/* A hot-reload function keeps its directory through records; a relative one is refused. */
static void test_restore_hot_dir(void **state)
{
    (void)state;
    journal_t j = {0};
    lambda_journal_t lj = {&j, j_put, j_del};
    lambda_reg_t *r = lambda_reg_new(&lj);
    lambda_fn_t *fn = make(r, "h");
    lambda_conf_t c = conf("AAAA");
    c.hot_dir = xstrdup("/src/my-fn");
    lambda_fn_set_latest(r, fn, &c, 1500);
    lambda_conf_t copy;
    lambda_conf_copy(&copy, &fn->latest);
    assert_string_equal(copy.hot_dir, "/src/my-fn");
    lambda_conf_free(&copy);
    lambda_fn_t *back = lambda_fn_from_record(j.last, j.last_len);
    assert_non_null(back);
    assert_string_equal(back->latest.hot_dir, "/src/my-fn");
    lambda_fn_free(back);
    char *bad = xstrdup(j.last);
    char *t = strstr(bad, "\"/src/my-fn\"");
    t[1] = 's';
    assert_null(lambda_fn_from_record(bad, strlen(bad)));
    free(bad);
    free(j.last);
    lambda_reg_free(r);
}

/* The fingerprint moves with an edit in place, an addition, a removal and a rename, in a
 * subdirectory too, and stays put when nothing changed. */
static void test_code_fingerprint(void **state)
{
    (void)state;
    char dir[] = "/tmp/nagare-fp-XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/sub", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/sub/a.py", dir);
    FILE *f = fopen(path, "w");
    fputs("one", f);
    fclose(f);
    uint64_t a = lambda_code_fingerprint(dir);
    assert_int_not_equal(a, 0);
    assert_int_equal(lambda_code_fingerprint(dir), a);
    /* same size, a later mtime (set explicitly: the edit may fall in the same tick) */
    f = fopen(path, "w");
    fputs("two", f);
    fclose(f);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1234567890, 5}};
    utimensat(AT_FDCWD, path, ts, 0);
    uint64_t b = lambda_code_fingerprint(dir);
    assert_int_not_equal(b, a);
    char to[256];
    snprintf(to, sizeof(to), "%s/sub/b.py", dir);
    assert_int_equal(rename(path, to), 0);
    uint64_t c = lambda_code_fingerprint(dir);
    assert_int_not_equal(c, b);
    assert_int_equal(unlink(to), 0);
    uint64_t d = lambda_code_fingerprint(dir);
    assert_int_not_equal(d, c);
    snprintf(path, sizeof(path), "%s/sub", dir);
    rmdir(path);
    rmdir(dir);
    assert_int_equal(lambda_code_fingerprint(dir), 0); /* gone */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_versions_and_aliases),
        cmocka_unit_test(test_concurrency_policy_tags),
        cmocka_unit_test(test_restore),
        cmocka_unit_test(test_restore_hot_dir),
        cmocka_unit_test(test_code_fingerprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
