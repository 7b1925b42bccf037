/*
 * test_lambda_esm — event source mappings as a registry: Lambda's rules for
 * SQS parameters (batch sizes, windows, FIFO, MaximumConcurrency),
 * one mapping per queue and function, State transitions on update and
 * delete, listing by queue and function with markers, journal records that
 * read back whole (passing States settled), and the reading of
 * ReportBatchItemFailures responses.
 */
#include "lambda/esm.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ACCT  "000000000000"
#define REG   "us-east-1"
#define QUEUE "arn:aws:sqs:us-east-1:000000000000:q"
#define FN    "arn:aws:lambda:us-east-1:000000000000:function:f"

typedef struct journal {
    int puts, dels;
    char *last;
    size_t len;
} journal_t;

static void j_put(void *ud, const lambda_esm_t *m)
{
    journal_t *j = ud;
    j->puts++;
    free(j->last);
    j->last = lambda_esm_record(m, &j->len);
}

static void j_del(void *ud, const lambda_esm_t *m)
{
    (void)m;
    ((journal_t *)ud)->dels++;
}

static lambda_esm_params_t none(void)
{
    return (lambda_esm_params_t){0, -1, -1, -1, -1, false, NULL, 0};
}

static const char *check(lambda_esm_params_t p, const lambda_esm_t *base, bool fifo)
{
    static char msg[1024];
    aws_error_t err;
    aws_error_clear(&err);
    if (lambda_esm_check(&p, base, fifo, &err) == 0)
        return NULL;
    assert_string_equal(err.code, "InvalidParameterValueException");
    snprintf(msg, sizeof(msg), "%s", err.message);
    return msg;
}

static void test_rules(void **state)
{
    (void)state;
    lambda_esm_params_t p = none();
    assert_null(check(p, NULL, false));
    assert_null(check(p, NULL, true));
    p.batch_size = 11;
    assert_string_equal(check(p, NULL, false), "Maximum batch window in seconds must be greater "
                                               "than 0 if maximum batch size is greater than 10");
    p.window_s = 1;
    assert_null(check(p, NULL, false));
    p.batch_size = 10000;
    assert_null(check(p, NULL, false));
    p.batch_size = 10001;
    assert_non_null(check(p, NULL, false));
    p = none();
    p.batch_size = 11;
    assert_non_null(strstr(check(p, NULL, true), "between 1 and 10"));
    p = none();
    p.window_s = 5;
    assert_non_null(strstr(check(p, NULL, true), "not supported for FIFO"));
    p.window_s = 301;
    assert_non_null(check(p, NULL, false));
    p = none();
    p.max_concurrency = 1;
    assert_non_null(check(p, NULL, false));
    p.max_concurrency = 2;
    assert_null(check(p, NULL, false));
    p.max_concurrency = 1001;
    assert_non_null(check(p, NULL, false));
    /* an update is judged on what the mapping becomes: 100 needs the window it has */
    lambda_esm_t base = {.batch_size = 100, .window_s = 2};
    p = none();
    p.window_s = 0;
    assert_non_null(check(p, &base, false));
    p = none();
    p.batch_size = 50;
    assert_null(check(p, &base, false));
}

static void test_lifecycle(void **state)
{
    (void)state;
    journal_t j = {0};
    lambda_esm_journal_t jj = {&j, j_put, j_del};
    lambda_esm_reg_t *r = lambda_esm_reg_new(&jj);
    lambda_esm_params_t p = none();
    lambda_esm_t *m, *m2;
    aws_error_t err;
    p.batch_size = 5;
    assert_int_equal(lambda_esm_create(r, ACCT, REG, QUEUE, false, FN, "f", "", &p, 1000, &m, &err),
                     0);
    assert_int_equal(m->state, ESM_CREATING);
    assert_true(m->enabled);
    assert_int_equal(m->batch_size, 5);
    assert_string_equal(m->last_result, "No records processed");
    assert_int_equal(strlen(m->uuid), 36);
    assert_int_equal(j.puts, 1);
    /* the same queue and function again: a conflict naming the first */
    assert_int_equal(
        lambda_esm_create(r, ACCT, REG, QUEUE, false, FN, "f", "", &p, 1000, &m2, &err), -1);
    assert_string_equal(err.code, "ResourceConflictException");
    assert_non_null(strstr(err.message, m->uuid));
    /* ...but an alias of it is another function */
    assert_int_equal(
        lambda_esm_create(r, ACCT, REG, QUEUE, false, FN ":live", "f", "live", &p, 1000, &m2, &err),
        0);
    m->state = ESM_ENABLED;
    p = none();
    p.enabled = 0;
    assert_int_equal(lambda_esm_update(r, m, &p, NULL, NULL, NULL, 2000, &err), 0);
    assert_int_equal(m->state, ESM_DISABLING);
    assert_false(m->enabled);
    assert_int_equal(m->last_modified_ms, 2000);
    /* moving m to the alias would duplicate m2 */
    assert_int_equal(lambda_esm_update(r, m, &p, FN ":live", "f", "live", 2000, &err), -1);
    assert_string_equal(err.code, "ResourceConflictException");
    assert_int_equal(lambda_esm_delete(r, m, &err), 0);
    assert_int_equal(m->state, ESM_DELETING);
    assert_int_equal(lambda_esm_update(r, m, &p, NULL, NULL, NULL, 3000, &err), -1);
    assert_string_equal(err.code, "ResourceInUseException");
    assert_ptr_equal(lambda_esm_get(r, ACCT, REG, m->uuid, &err), m);
    assert_null(lambda_esm_get(r, "111122223333", REG, m->uuid, &err));
    assert_string_equal(err.code, "ResourceNotFoundException");
    char uuid[37];
    memcpy(uuid, m->uuid, sizeof(uuid));
    lambda_esm_remove(r, m);
    assert_int_equal(j.dels, 1);
    assert_null(lambda_esm_get(r, ACCT, REG, uuid, &err));
    assert_ptr_equal(lambda_esm_first(r), m2);
    lambda_esm_reg_free(r);
    free(j.last);
}

static void test_list(void **state)
{
    (void)state;
    lambda_esm_reg_t *r = lambda_esm_reg_new(NULL);
    lambda_esm_params_t p = none();
    lambda_esm_t *made[5], *out[5];
    aws_error_t err;
    char q[80], name[8];
    for (int k = 0; k < 5; k++) {
        snprintf(q, sizeof(q), "%s%d", QUEUE, k % 2);
        snprintf(name, sizeof(name), "f%d", k);
        assert_int_equal(
            lambda_esm_create(r, ACCT, REG, q, false, FN, name, "", &p, 1, &made[k], &err), 0);
    }
    bool more;
    size_t n = lambda_esm_list(r, ACCT, REG, NULL, NULL, NULL, NULL, out, 2, &more);
    assert_int_equal(n, 2);
    assert_true(more);
    assert_ptr_equal(out[0], made[0]);
    n = lambda_esm_list(r, ACCT, REG, NULL, NULL, NULL, out[1]->uuid, out, 2, &more);
    assert_int_equal(n, 2);
    assert_ptr_equal(out[0], made[2]);
    n = lambda_esm_list(r, ACCT, REG, NULL, NULL, NULL, out[1]->uuid, out, 2, &more);
    assert_int_equal(n, 1);
    assert_false(more);
    snprintf(q, sizeof(q), "%s1", QUEUE);
    n = lambda_esm_list(r, ACCT, REG, q, NULL, NULL, NULL, out, 5, &more);
    assert_int_equal(n, 2);
    assert_ptr_equal(out[1], made[3]);
    n = lambda_esm_list(r, ACCT, REG, NULL, "f4", "", NULL, out, 5, &more);
    assert_int_equal(n, 1);
    assert_ptr_equal(out[0], made[4]);
    n = lambda_esm_list(r, "111122223333", REG, NULL, NULL, NULL, NULL, out, 5, &more);
    assert_int_equal(n, 0);
    lambda_esm_reg_free(r);
}

static void test_records(void **state)
{
    (void)state;
    journal_t j = {0};
    lambda_esm_journal_t jj = {&j, j_put, j_del};
    lambda_esm_reg_t *r = lambda_esm_reg_new(&jj);
    const char *pats[] = {"{\"body\":{\"a\":[1]}}", "{\"attributes\":{\"x\":[\"y\"]}}"};
    lambda_esm_params_t p = {100, 3, 20, 1, 1, true, pats, 2};
    lambda_esm_t *m;
    aws_error_t err;
    assert_int_equal(
        lambda_esm_create(r, ACCT, REG, QUEUE, false, FN ":2", "f", "2", &p, 77, &m, &err), 0);
    lambda_esm_set_str(&m->last_result, "OK");
    lambda_esm_touch(r, m);
    lambda_esm_reg_t *r2 = lambda_esm_reg_new(NULL);
    assert_int_equal(lambda_esm_restore(r2, j.last, j.len), 0);
    assert_int_equal(lambda_esm_restore(r2, j.last, j.len), -1); /* the same UUID twice */
    lambda_esm_t *b = lambda_esm_first(r2);
    assert_string_equal(b->uuid, m->uuid);
    assert_string_equal(b->function_arn, FN ":2");
    assert_string_equal(b->qualifier, "2");
    assert_int_equal(b->batch_size, 100);
    assert_int_equal(b->window_s, 3);
    assert_int_equal(b->max_concurrency, 20);
    assert_true(b->report_failures);
    assert_int_equal(b->n_filters, 2);
    assert_string_equal(b->filters[1], pats[1]);
    assert_string_equal(b->last_result, "OK");
    assert_int_equal(b->last_modified_ms, 77);
    assert_int_equal(b->state, ESM_ENABLED); /* Creating when it was written: settled */
    assert_int_equal(lambda_esm_restore(r2, "{\"uuid\":1}", 10), -1);
    assert_int_equal(lambda_esm_restore(r2, "nope", 4), -1);
    lambda_esm_reg_free(r2);
    lambda_esm_reg_free(r);
    free(j.last);
}

static int failures(const char *payload, bool fifo, bool *failed)
{
    static const char *const ids[] = {"a", "b", "c", "d"};
    static const char *const groups[] = {"g1", "g2", "g1", "g1"};
    memset(failed, 0, 4 * sizeof(bool));
    return lambda_esm_failures(payload, strlen(payload), ids, groups, 4, fifo, failed);
}

static void test_batch_failures(void **state)
{
    (void)state;
    bool f[4];
    const char *success[] = {"",
                             "null",
                             "{}",
                             "{\"batchItemFailures\":null}",
                             "{\"batchItemFailures\":[]}",
                             "{\"statusCode\":200}"};
    for (size_t k = 0; k < sizeof(success) / sizeof(success[0]); k++) {
        assert_int_equal(failures(success[k], false, f), 0);
        assert_false(f[0] || f[1] || f[2] || f[3]);
    }
    const char *whole[] = {
        "not json",
        "\"ok\"",
        "[1]",
        "{\"batchItemFailures\":{}}",
        "{\"batchItemFailures\":[{\"itemIdentifier\":\"\"}]}",
        "{\"batchItemFailures\":[{\"itemIdentifier\":null}]}",
        "{\"batchItemFailures\":[{\"itemIdentifer\":\"a\"}]}",
        "{\"batchItemFailures\":[{\"itemIdentifier\":\"zzz\"}]}",
        "{\"batchItemFailures\":[\"a\"]}",
    };
    for (size_t k = 0; k < sizeof(whole) / sizeof(whole[0]); k++)
        assert_int_equal(failures(whole[k], false, f), -1);
    assert_int_equal(failures("{\"batchItemFailures\":[{\"itemIdentifier\":\"c\"}]}", false, f), 0);
    assert_true(!f[0] && !f[1] && f[2] && !f[3]);
    /* FIFO: group g1 stops at c, so d comes back too; g2's b is done */
    assert_int_equal(failures("{\"batchItemFailures\":[{\"itemIdentifier\":\"c\"}]}", true, f), 0);
    assert_true(!f[0] && !f[1] && f[2] && f[3]);
    assert_int_equal(failures("{\"batchItemFailures\":[{\"itemIdentifier\":\"a\"}]}", true, f), 0);
    assert_true(f[0] && !f[1] && f[2] && f[3]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),          cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_list),           cmocka_unit_test(test_records),
        cmocka_unit_test(test_batch_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
