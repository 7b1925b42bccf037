/*
 * test_lambda_async — the asynchronous invocation engine with time driven by
 * hand: AWS's default of two retries (~1 min, then ~2 min), MaximumRetryAttempts
 * 0, throttles that back off without counting as attempts, MaximumEventAgeInSeconds
 * discarding an old event, the retry scale, event invoke configuration
 * Put/Update/Delete/List and their ranges, and records restored whole.
 */
#include "lambda/async.h"
#include "base/xalloc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define T0 1700000000000ULL

typedef struct journal {
    int event_puts, event_dels, eic_puts, eic_dels;
    char *last_event, *last_eic;
    size_t event_len, eic_len;
} journal_t;

static void j_event_put(void *ud, const lambda_event_t *ev)
{
    journal_t *j = ud;
    j->event_puts++;
    free(j->last_event);
    j->last_event = lambda_event_record(ev, &j->event_len);
}

static void j_event_del(void *ud, const lambda_event_t *ev)
{
    (void)ev;
    ((journal_t *)ud)->event_dels++;
}

static void j_eic_put(void *ud, const lambda_eic_t *c)
{
    journal_t *j = ud;
    j->eic_puts++;
    free(j->last_eic);
    j->last_eic = lambda_eic_record(c, &j->eic_len);
}

static void j_eic_del(void *ud, const lambda_eic_t *c)
{
    (void)c;
    ((journal_t *)ud)->eic_dels++;
}

static lambda_async_t *engine(journal_t *j, double scale)
{
    memset(j, 0, sizeof(*j));
    lambda_async_journal_t jj = {j, j_event_put, j_event_del, j_eic_put, j_eic_del};
    return lambda_async_new(&jj, scale);
}

static lambda_event_t *take(lambda_async_t *as, uint64_t now, bool expect_aged)
{
    bool aged = !expect_aged;
    lambda_event_t *ev = lambda_async_take(as, now, &aged);
    assert_non_null(ev);
    assert_int_equal(aged, expect_aged);
    return ev;
}

static void test_default_retries(void **state)
{
    (void)state;
    journal_t j;
    lambda_async_t *as = engine(&j, 1.0);
    bool aged;
    lambda_async_enqueue(as, "000000000000", "us-east-1", "f", "", "rid", "{}", 2, T0);
    assert_int_equal(j.event_puts, 1);
    assert_int_equal(lambda_async_next_due(as), T0);
    lambda_event_t *ev = take(as, T0, false);
    assert_null(lambda_async_take(as, T0, &aged)); /* running: not handed out twice */
    assert_int_equal(lambda_async_next_due(as), UINT64_MAX);
    assert_int_equal(lambda_async_report(as, ev, LAMBDA_OUTCOME_ERROR, T0 + 10),
                     LAMBDA_VERDICT_RETRY);
    assert_int_equal(lambda_async_next_due(as), T0 + 10 + 60000);
    assert_null(lambda_async_take(as, T0 + 60009, &aged));
    ev = take(as, T0 + 60010, false);
    assert_int_equal(lambda_async_report(as, ev, LAMBDA_OUTCOME_ERROR, T0 + 60020),
                     LAMBDA_VERDICT_RETRY);
    assert_int_equal(lambda_async_next_due(as), T0 + 60020 + 120000);
    ev = take(as, T0 + 180020, false);
    assert_int_equal(lambda_async_report(as, ev, LAMBDA_OUTCOME_ERROR, T0 + 180030),
                     LAMBDA_VERDICT_EXHAUSTED);
    assert_int_equal(ev->attempts, 3);
    lambda_async_finish(as, ev);
    assert_int_equal(j.event_dels, 1);
    assert_int_equal(lambda_async_count(as), 0);
    lambda_async_free(as);
    free(j.last_event);
}

static void test_config_and_success(void **state)
{
    (void)state;
    journal_t j;
    lambda_async_t *as = engine(&j, 0.001);
    aws_error_t err;
    const lambda_eic_t *c;
    lambda_eic_in_t in = {0, -1, NULL, "arn:aws:sqs:us-east-1:000000000000:q", true};
    assert_int_equal(
        lambda_eic_put(as, "000000000000", "us-east-1", "f", NULL, &in, true, T0, &c, &err), -1);
    assert_string_equal(err.code, "ResourceNotFoundException");
    assert_int_equal(
        lambda_eic_put(as, "000000000000", "us-east-1", "f", NULL, &in, false, T0, &c, &err), 0);
    assert_string_equal(c->qualifier, "$LATEST");
    assert_string_equal(c->on_failure, "arn:aws:sqs:us-east-1:000000000000:q");
    lambda_eic_in_t bad = {3, -1, NULL, NULL, false};
    assert_int_equal(
        lambda_eic_put(as, "000000000000", "us-east-1", "f", NULL, &bad, true, T0, &c, &err), -1);
    assert_string_equal(err.code, "ValidationException");
    bad = (lambda_eic_in_t){-1, 59, NULL, NULL, false};
    assert_int_equal(
        lambda_eic_put(as, "000000000000", "us-east-1", "f", NULL, &bad, true, T0, &c, &err), -1);
    /* Update merges: the destination stays */
    lambda_eic_in_t upd = {-1, 120, NULL, NULL, false};
    assert_int_equal(lambda_eic_put(as, "000000000000", "us-east-1", "f", "$LATEST", &upd, true,
                                    T0 + 1, &c, &err),
                     0);
    assert_int_equal(c->max_retry, 0);
    assert_int_equal(c->max_age_s, 120);
    assert_non_null(c->on_failure);

    /* MaximumRetryAttempts 0: the first error is final */
    lambda_async_enqueue(as, "000000000000", "us-east-1", "f", "", "r1", "1", 1, T0);
    lambda_event_t *ev = take(as, T0, false);
    assert_int_equal(lambda_async_report(as, ev, LAMBDA_OUTCOME_ERROR, T0 + 5),
                     LAMBDA_VERDICT_EXHAUSTED);
    lambda_async_finish(as, ev);
    /* success */
    lambda_async_enqueue(as, "000000000000", "us-east-1", "f", "$LATEST", "r2", "2", 1, T0);
    ev = take(as, T0, false);
    assert_int_equal(lambda_async_report(as, ev, LAMBDA_OUTCOME_SUCCESS, T0 + 5),
                     LAMBDA_VERDICT_SUCCESS);
    assert_int_equal(ev->attempts, 1);
    lambda_async_finish(as, ev);

    const lambda_eic_t *list[4];
    in = (lambda_eic_in_t){-1, -1, NULL, NULL, false};
    lambda_eic_put(as, "000000000000", "us-east-1", "f", "live", &in, false, T0, &c, &err);
    assert_int_equal(lambda_eic_list(as, "000000000000", "us-east-1", "f", list, 4), 2);
    assert_string_equal(list[0]->qualifier, "$LATEST");
    assert_int_equal(lambda_eic_delete(as, "000000000000", "us-east-1", "f", "live"), 0);
    assert_int_equal(lambda_eic_delete(as, "000000000000", "us-east-1", "f", "live"), -1);
    assert_int_equal(lambda_eic_delete(as, "000000000000", "us-east-1", "f", NULL), 0);
    assert_null(lambda_eic_get(as, "000000000000", "us-east-1", "f", ""));
    lambda_async_free(as);
    free(j.last_event);
    free(j.last_eic);
}

static void test_throttle_and_age(void **state)
{
    (void)state;
    journal_t j;
    lambda_async_t *as = engine(&j, 1.0);
    aws_error_t err;
    const lambda_eic_t *c;
    lambda_eic_in_t in = {-1, 60, NULL, NULL, false};
    lambda_eic_put(as, "000000000000", "us-east-1", "f", NULL, &in, false, T0, &c, &err);
    lambda_async_enqueue(as, "000000000000", "us-east-1", "f", "", "r", "x", 1, T0);
    /* throttles back off 1 s, 2 s, 4 s ... and are not attempts */
    lambda_event_t *ev = take(as, T0, false);
    assert_int_equal(lambda_async_report(as, ev, LAMBDA_OUTCOME_THROTTLE, T0),
                     LAMBDA_VERDICT_RETRY);
    assert_int_equal(lambda_async_next_due(as), T0 + 1000);
    ev = take(as, T0 + 1000, false);
    assert_int_equal(lambda_async_report(as, ev, LAMBDA_OUTCOME_THROTTLE, T0 + 1000),
                     LAMBDA_VERDICT_RETRY);
    assert_int_equal(lambda_async_next_due(as), T0 + 3000);
    assert_int_equal(ev->attempts, 0);
    /* an error whose retry would come after the 60 s age: EventAgeExceeded */
    ev = take(as, T0 + 3000, false);
    assert_int_equal(lambda_async_report(as, ev, LAMBDA_OUTCOME_ERROR, T0 + 3000),
                     LAMBDA_VERDICT_AGED);
    lambda_async_finish(as, ev);
    /* an event found past its age when due is handed out aged */
    lambda_async_enqueue(as, "000000000000", "us-east-1", "f", "", "r", "x", 1, T0);
    ev = take(as, T0 + 60001, true);
    lambda_async_finish(as, ev);
    lambda_async_free(as);
    free(j.last_event);
    free(j.last_eic);
}

static void test_records(void **state)
{
    (void)state;
    journal_t j;
    lambda_async_t *as = engine(&j, 0.5);
    aws_error_t err;
    const lambda_eic_t *c;
    lambda_eic_in_t in = {1, 3600, "arn:aws:sqs:us-east-1:000000000000:ok", NULL, true};
    lambda_eic_put(as, "000000000000", "us-east-1", "f", "live", &in, false, T0, &c, &err);
    lambda_async_enqueue(as, "000000000000", "us-east-1", "f", "live", "rid-1", "{\"a\":1}", 7, T0);
    lambda_event_t *ev = take(as, T0, false);
    assert_int_equal(lambda_async_report(as, ev, LAMBDA_OUTCOME_ERROR, T0), LAMBDA_VERDICT_RETRY);
    assert_int_equal(lambda_async_next_due(as), T0 + 30000); /* scaled by 0.5 */

    journal_t j2;
    lambda_async_t *as2 = engine(&j2, 0.5);
    assert_int_equal(lambda_async_restore_eic(as2, j.last_eic, j.eic_len), 0);
    assert_int_equal(lambda_async_restore_eic(as2, j.last_eic, j.eic_len), -1); /* twice */
    assert_int_equal(lambda_async_restore_event(as2, j.last_event, j.event_len), 0);
    assert_int_equal(lambda_async_restore_event(as2, "{}", 2), -1);
    assert_int_equal(lambda_async_restore_eic(as2, "[", 1), -1);
    c = lambda_eic_get(as2, "000000000000", "us-east-1", "f", "live");
    assert_non_null(c);
    assert_int_equal(c->max_retry, 1);
    assert_string_equal(c->on_success, "arn:aws:sqs:us-east-1:000000000000:ok");
    assert_int_equal(lambda_async_next_due(as2), T0 + 30000);
    ev = take(as2, T0 + 30000, false);
    assert_int_equal(ev->len, 7);
    assert_memory_equal(ev->payload, "{\"a\":1}", 7);
    assert_string_equal(ev->request_id, "rid-1");
    assert_int_equal(ev->attempts, 1);
    assert_int_equal(lambda_async_report(as2, ev, LAMBDA_OUTCOME_ERROR, T0 + 30000),
                     LAMBDA_VERDICT_EXHAUSTED);
    lambda_async_finish(as2, ev);
    /* new ids continue after the restored ones */
    const lambda_event_t *e2 =
        lambda_async_enqueue(as2, "000000000000", "us-east-1", "f", "", "r", "x", 1, T0);
    assert_true(e2->id > 1);
    lambda_async_free(as2);
    lambda_async_free(as);
    free(j.last_event);
    free(j.last_eic);
    free(j2.last_event);
    free(j2.last_eic);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_retries),
        cmocka_unit_test(test_config_and_success),
        cmocka_unit_test(test_throttle_and_age),
        cmocka_unit_test(test_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
