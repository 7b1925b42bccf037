/*
 * test_sqs_queue — unit tests of the SQS queue engine (src/sqs/queue.h).
 *
 * Time is driven by hand through the context (wall and mono clocks), so
 * visibility timeouts, delays, the purge rule and retention are tested without
 * sleeping. A recording journal plays the store: it keeps the latest blob and
 * state per queue and message, and restoring from it into a fresh engine must
 * give the same queues and messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sqs/queue.h"

static sqs_ctx_t C;

static void clock_reset(void)
{
    C.account = "000000000000";
    C.region = "us-east-1";
    C.sender_id = "AIDAEXAMPLE";
    C.now_ms = 1700000000000ull;
    C.mono_ms = 5000;
}

static void advance(sqs_engine_t *e, uint64_t ms)
{
    C.now_ms += ms;
    C.mono_ms += ms;
    if (e && sqs_engine_next_deadline(e) <= C.mono_ms)
        sqs_engine_tick(e, C.now_ms, C.mono_ms);
}

static int create(sqs_engine_t *e, const char *name, const sqs_attr_t *attrs, size_t n,
                  aws_error_t *err)
{
    sqs_create_in_t in = {name, attrs, n, NULL, 0};
    aws_error_clear(err);
    return sqs_queue_create(e, &C, &in, err);
}

static sqs_engine_t *engine_with(const char *name, const sqs_journal_t *j)
{
    aws_error_t err;
    sqs_engine_t *e = sqs_engine_new(j);
    assert_int_equal(create(e, name, NULL, 0, &err), 0);
    return e;
}

static int send_entry(sqs_engine_t *e, const char *q, const sqs_send_entry_t *en,
                      sqs_send_result_t *res)
{
    sqs_send_in_t in = {{NULL, q}, en, 1, false};
    sqs_send_out_t out;
    aws_error_t err;
    int rc = sqs_msg_send(e, &C, &in, &out, &err);
    if (rc == 0)
        *res = out.results[0];
    return rc == 0 && !aws_error_is_set(&res->err) ? 0 : -1;
}

static void send_body(sqs_engine_t *e, const char *q, const char *body, int delay)
{
    sqs_send_entry_t en = {NULL, body, strlen(body), delay, NULL, 0, NULL, NULL, NULL};
    sqs_send_result_t res;
    assert_int_equal(send_entry(e, q, &en, &res), 0);
}

static size_t receive(sqs_engine_t *e, const char *q, int max, int vis, sqs_receive_out_t *out)
{
    static const char *const all[] = {"All"};
    sqs_receive_in_t in = {{NULL, q}, max, vis, 0, all, 1, all, 1, NULL};
    aws_error_t err;
    aws_error_clear(&err);
    assert_int_equal(sqs_msg_receive(e, &C, &in, out, &err), 0);
    return out->n;
}

static const char *attr_of(const sqs_kv_list_t *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->items[i].name, name))
            return l->items[i].value;
    return NULL;
}

/* GetQueueAttributes of one name, as an integer. */
static long qattr(sqs_engine_t *e, const char *q, const char *name)
{
    sqs_attrs_get_in_t in = {{NULL, q}, &name, 1};
    sqs_kv_list_t out = {0};
    aws_error_t err;
    assert_int_equal(sqs_queue_attrs_get(e, &C, &in, &out, &err), 0);
    assert_int_equal(out.n, 1);
    long v = atol(out.items[0].value);
    sqs_kv_list_clear(&out);
    return v;
}

static int handle_op(sqs_engine_t *e, const char *q, const char *handle, int vis, bool del,
                     aws_error_t *entry_err)
{
    sqs_handle_entry_t en = {"a", handle, vis};
    sqs_handle_in_t in = {{NULL, q}, &en, 1, false};
    sqs_handle_out_t out;
    aws_error_t err;
    int rc = del ? sqs_msg_delete(e, &C, &in, &out, &err)
                 : sqs_msg_visibility_change(e, &C, &in, &out, &err);
    assert_int_equal(rc, 0);
    *entry_err = out.errs[0];
    return aws_error_is_set(entry_err) ? -1 : 0;
}

/* ---- queues ---- */

static void test_create_get_list_delete(void **state)
{
    (void)state;
    aws_error_t err;
    clock_reset();
    sqs_engine_t *e = sqs_engine_new(NULL);
    assert_int_equal(create(e, "b-queue", NULL, 0, &err), 0);
    assert_int_equal(create(e, "a_queue", NULL, 0, &err), 0);
    assert_int_equal(create(e, "a_queue", NULL, 0, &err), 0); /* idempotent */
    sqs_attr_t vis = {"VisibilityTimeout", "60"};
    assert_int_equal(create(e, "a_queue", &vis, 1, &err), -1);
    assert_string_equal(err.code, "QueueNameExists");
    assert_string_equal(err.query_code, "QueueAlreadyExists");
    assert_string_equal(err.message, "A queue already exists with the same name and a different "
                                     "value for attribute VisibilityTimeout");
    assert_int_equal(create(e, "bad name", NULL, 0, &err), -1);
    assert_string_equal(err.code, "InvalidParameterValue");
    char long_name[82];
    memset(long_name, 'x', 81);
    long_name[81] = 0;
    assert_int_equal(create(e, long_name, NULL, 0, &err), -1);

    sqs_queue_ref_t ref = {NULL, "a_queue"};
    assert_int_equal(sqs_queue_url_get(e, &C, &ref, &err), 0);
    sqs_queue_ref_t other = {"111111111111", "a_queue"};
    assert_int_equal(sqs_queue_url_get(e, &C, &other, &err), -1);
    assert_string_equal(err.code, "QueueDoesNotExist");
    assert_string_equal(err.query_code, "AWS.SimpleQueueService.NonExistentQueue");
    assert_string_equal(err.message, "The specified queue does not exist.");

    sqs_list_in_t li = {NULL, 0, NULL};
    sqs_list_out_t lo;
    assert_int_equal(sqs_queue_list(e, &C, &li, &lo, &err), 0);
    assert_int_equal(lo.n, 2);
    assert_string_equal(lo.names[0], "a_queue");
    assert_null(lo.next_token);
    sqs_list_out_clear(&lo);
    li.prefix = "b";
    assert_int_equal(sqs_queue_list(e, &C, &li, &lo, &err), 0);
    assert_int_equal(lo.n, 1);
    assert_string_equal(lo.names[0], "b-queue");
    sqs_list_out_clear(&lo);
    /* A queue of another region is invisible. */
    C.region = "eu-west-1";
    assert_int_equal(sqs_queue_url_get(e, &C, &ref, &err), -1);
    C.region = "us-east-1";

    assert_int_equal(sqs_queue_delete(e, &C, &ref, &err), 0);
    assert_int_equal(sqs_queue_url_get(e, &C, &ref, &err), -1);
    assert_int_equal(sqs_queue_delete(e, &C, &ref, &err), -1);
    sqs_engine_free(e);
}

static void test_list_pagination(void **state)
{
    (void)state;
    aws_error_t err;
    char name[16];
    clock_reset();
    sqs_engine_t *e = sqs_engine_new(NULL);
    for (int i = 0; i < 25; i++) {
        snprintf(name, sizeof(name), "q%02d", i);
        assert_int_equal(create(e, name, NULL, 0, &err), 0);
    }
    sqs_list_in_t li = {NULL, 10, NULL};
    sqs_list_out_t lo;
    size_t seen = 0;
    char *token = NULL;
    do {
        li.next_token = token;
        assert_int_equal(sqs_queue_list(e, &C, &li, &lo, &err), 0);
        for (size_t i = 0; i < lo.n; i++) {
            snprintf(name, sizeof(name), "q%02zu", seen + i);
            assert_string_equal(lo.names[i], name);
        }
        seen += lo.n;
        free(token);
        token = lo.next_token ? strdup(lo.next_token) : NULL;
        sqs_list_out_clear(&lo);
    } while (token);
    assert_int_equal(seen, 25);
    li.max_results = 1001;
    assert_int_equal(sqs_queue_list(e, &C, &li, &lo, &err), -1);
    assert_string_equal(err.code, "InvalidParameterValue");
    li.max_results = 5;
    li.next_token = "zz-not-hex";
    assert_int_equal(sqs_queue_list(e, &C, &li, &lo, &err), -1);
    sqs_engine_free(e);
}

static void test_attributes(void **state)
{
    (void)state;
    aws_error_t err;
    clock_reset();
    sqs_engine_t *e = engine_with("q", NULL);
    sqs_attr_t bad[] = {
        {"DelaySeconds", "901"},          {"MaximumMessageSize", "1023"},
        {"MessageRetentionPeriod", "59"}, {"ReceiveMessageWaitTimeSeconds", "21"},
        {"VisibilityTimeout", "43201"},   {"VisibilityTimeout", "-1"},
        {"VisibilityTimeout", "1.5"},     {"KmsDataKeyReusePeriodSeconds", "59"},
        {"SqsManagedSseEnabled", "yes"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        sqs_attrs_set_in_t in = {{NULL, "q"}, &bad[i], 1};
        assert_int_equal(sqs_queue_attrs_set(e, &C, &in, &err), -1);
        assert_string_equal(err.code, "InvalidAttributeValue");
        char msg[128];
        snprintf(msg, sizeof(msg), "Invalid value for the parameter %s.", bad[i].name);
        assert_string_equal(err.message, msg);
    }
    sqs_attr_t unknown[] = {
        {"Bogus", "1"}, {"QueueArn", "x"}, {"ContentBasedDeduplication", "true"}};
    for (size_t i = 0; i < 3; i++) {
        sqs_attrs_set_in_t in = {{NULL, "q"}, &unknown[i], 1};
        assert_int_equal(sqs_queue_attrs_set(e, &C, &in, &err), -1);
        assert_string_equal(err.code, "InvalidAttributeName");
    }
    /* All or nothing: a bad second attribute leaves the first unapplied. */
    sqs_attr_t mixed[] = {{"DelaySeconds", "5"}, {"VisibilityTimeout", "x"}};
    sqs_attrs_set_in_t mi = {{NULL, "q"}, mixed, 2};
    assert_int_equal(sqs_queue_attrs_set(e, &C, &mi, &err), -1);
    assert_int_equal(qattr(e, "q", "DelaySeconds"), 0);

    advance(e, 3000);
    sqs_attr_t good[] = {{"VisibilityTimeout", "45"}, {"Policy", "{\"Version\":\"2012-10-17\"}"}};
    sqs_attrs_set_in_t gi = {{NULL, "q"}, good, 2};
    assert_int_equal(sqs_queue_attrs_set(e, &C, &gi, &err), 0);

    const char *all = "All";
    sqs_attrs_get_in_t in = {{NULL, "q"}, &all, 1};
    sqs_kv_list_t out = {0};
    assert_int_equal(sqs_queue_attrs_get(e, &C, &in, &out, &err), 0);
    assert_string_equal(attr_of(&out, "QueueArn"), "arn:aws:sqs:us-east-1:000000000000:q");
    assert_string_equal(attr_of(&out, "VisibilityTimeout"), "45");
    assert_string_equal(attr_of(&out, "MaximumMessageSize"), "1048576");
    assert_string_equal(attr_of(&out, "MessageRetentionPeriod"), "345600");
    assert_string_equal(attr_of(&out, "SqsManagedSseEnabled"), "true");
    assert_string_equal(attr_of(&out, "Policy"), "{\"Version\":\"2012-10-17\"}");
    assert_string_equal(attr_of(&out, "CreatedTimestamp"), "1700000000");
    assert_string_equal(attr_of(&out, "LastModifiedTimestamp"), "1700000003");
    assert_string_equal(attr_of(&out, "ApproximateNumberOfMessages"), "0");
    assert_null(attr_of(&out, "RedrivePolicy"));
    assert_null(attr_of(&out, "FifoQueue"));
    sqs_kv_list_clear(&out);
    const char *unk = "Nope";
    sqs_attrs_get_in_t ui = {{NULL, "q"}, &unk, 1};
    assert_int_equal(sqs_queue_attrs_get(e, &C, &ui, &out, &err), -1);
    assert_string_equal(err.code, "InvalidAttributeName");
    assert_string_equal(err.message, "Unknown Attribute Nope.");
    /* An empty Policy removes it. */
    sqs_attr_t clear = {"Policy", ""};
    sqs_attrs_set_in_t ci = {{NULL, "q"}, &clear, 1};
    assert_int_equal(sqs_queue_attrs_set(e, &C, &ci, &err), 0);
    const char *pol = "Policy";
    sqs_attrs_get_in_t pi = {{NULL, "q"}, &pol, 1};
    assert_int_equal(sqs_queue_attrs_get(e, &C, &pi, &out, &err), 0);
    assert_int_equal(out.n, 0);
    /* FIFO: a FifoQueue attribute on a standard name is refused. */
    sqs_attr_t fifo = {"FifoQueue", "true"};
    assert_int_equal(create(e, "plain", &fifo, 1, &err), -1);
    assert_string_equal(err.code, "InvalidParameterValue");
    sqs_engine_free(e);
}

static void test_tags(void **state)
{
    (void)state;
    aws_error_t err;
    char keys[51][8];
    sqs_attr_t tags[51];
    clock_reset();
    sqs_engine_t *e = engine_with("q", NULL);
    for (int i = 0; i < 51; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        tags[i] = (sqs_attr_t){keys[i], "v"};
    }
    sqs_tag_in_t in = {{NULL, "q"}, tags, NULL, 50};
    assert_int_equal(sqs_queue_tag(e, &C, &in, &err), 0);
    in.tags = &tags[50];
    in.n = 1;
    assert_int_equal(sqs_queue_tag(e, &C, &in, &err), -1); /* the 51st */
    assert_string_equal(err.code, "InvalidParameterValue");
    sqs_attr_t over = {"k1", "new"};
    in.tags = &over;
    assert_int_equal(sqs_queue_tag(e, &C, &in, &err), 0); /* overwrite is fine */
    sqs_attr_t empty_key = {"", "v"};
    in.tags = &empty_key;
    assert_int_equal(sqs_queue_tag(e, &C, &in, &err), -1);
    const char *del[] = {"k0", "missing"};
    sqs_tag_in_t un = {{NULL, "q"}, NULL, del, 2};
    assert_int_equal(sqs_queue_untag(e, &C, &un, &err), 0);
    sqs_kv_list_t out = {0};
    sqs_queue_ref_t ref = {NULL, "q"};
    assert_int_equal(sqs_queue_tags_list(e, &C, &ref, &out, &err), 0);
    assert_int_equal(out.n, 49);
    assert_null(attr_of(&out, "k0"));
    assert_string_equal(attr_of(&out, "k1"), "new");
    sqs_kv_list_clear(&out);
    sqs_engine_free(e);
}

/* ---- messages ---- */

static void test_send_receive_delete(void **state)
{
    (void)state;
    aws_error_t err;
    sqs_receive_out_t out;
    clock_reset();
    sqs_engine_t *e = engine_with("q", NULL);
    send_body(e, "q", "first", -1);
    advance(e, 1);
    send_body(e, "q", "second", -1);
    assert_int_equal(qattr(e, "q", "ApproximateNumberOfMessages"), 2);
    assert_int_equal(receive(e, "q", 1, -1, &out), 1);
    assert_string_equal(out.msgs[0].body, "first"); /* oldest first */
    assert_string_equal(out.msgs[0].md5_body, "8b04d5e3775d298e78455efc5ca404d5");
    assert_string_equal(attr_of(&out.msgs[0].sys_attrs, "SenderId"), "AIDAEXAMPLE");
    assert_string_equal(attr_of(&out.msgs[0].sys_attrs, "ApproximateReceiveCount"), "1");
    assert_string_equal(attr_of(&out.msgs[0].sys_attrs, "SentTimestamp"), "1700000000000");
    char *handle = strdup(out.msgs[0].receipt_handle);
    sqs_receive_out_clear(&out);
    assert_int_equal(qattr(e, "q", "ApproximateNumberOfMessages"), 1);
    assert_int_equal(qattr(e, "q", "ApproximateNumberOfMessagesNotVisible"), 1);
    assert_int_equal(handle_op(e, "q", handle, 0, true, &err), 0);
    assert_int_equal(qattr(e, "q", "ApproximateNumberOfMessagesNotVisible"), 0);
    /* Deleting again with the spent handle succeeds. */
    assert_int_equal(handle_op(e, "q", handle, 0, true, &err), 0);
    free(handle);
    assert_int_equal(receive(e, "q", 10, -1, &out), 1);
    assert_string_equal(out.msgs[0].body, "second");
    sqs_receive_out_clear(&out);
    assert_int_equal(receive(e, "q", 10, -1, &out), 0);
    sqs_engine_free(e);
}

static void test_visibility_timeout(void **state)
{
    (void)state;
    aws_error_t err;
    sqs_receive_out_t out;
    clock_reset();
    sqs_engine_t *e = engine_with("q", NULL);
    send_body(e, "q", "m", -1);
    assert_int_equal(receive(e, "q", 1, 10, &out), 1);
    char *h1 = strdup(out.msgs[0].receipt_handle);
    sqs_receive_out_clear(&out);
    assert_int_equal(sqs_engine_next_deadline(e), C.mono_ms + 10000);
    advance(e, 9999);
    assert_int_equal(receive(e, "q", 1, -1, &out), 0);
    advance(e, 1);
    assert_int_equal(qattr(e, "q", "ApproximateNumberOfMessages"), 1);
    assert_int_equal(receive(e, "q", 1, 30, &out), 1);
    assert_string_equal(attr_of(&out.msgs[0].sys_attrs, "ApproximateReceiveCount"), "2");
    assert_string_equal(attr_of(&out.msgs[0].sys_attrs, "ApproximateFirstReceiveTimestamp"),
                        "1700000000000");
    char *h2 = strdup(out.msgs[0].receipt_handle);
    assert_string_not_equal(h1, h2);
    sqs_receive_out_clear(&out);
    /* The older handle no longer deletes, nor changes visibility. */
    assert_int_equal(handle_op(e, "q", h1, 0, true, &err), 0);
    assert_int_equal(qattr(e, "q", "ApproximateNumberOfMessagesNotVisible"), 1);
    assert_int_equal(handle_op(e, "q", h1, 5, false, &err), -1);
    assert_string_equal(err.code, "InvalidParameterValue");
    /* Extend, then make visible at once. */
    assert_int_equal(handle_op(e, "q", h2, 43201, false, &err), -1);
    assert_int_equal(handle_op(e, "q", h2, 100, false, &err), 0);
    advance(e, 50000);
    assert_int_equal(receive(e, "q", 1, -1, &out), 0);
    assert_int_equal(handle_op(e, "q", h2, 0, false, &err), 0);
    assert_int_equal(handle_op(e, "q", h2, 10, false, &err), -1);
    assert_string_equal(err.code, "MessageNotInflight");
    /* The 12-hour limit counts from the receive. */
    assert_int_equal(receive(e, "q", 1, 43200, &out), 1);
    char *h3 = strdup(out.msgs[0].receipt_handle);
    sqs_receive_out_clear(&out);
    advance(e, 1000);
    assert_int_equal(handle_op(e, "q", h3, 43200, false, &err), -1);
    assert_non_null(strstr(err.message, "beyond the limit [43200 seconds]"));
    assert_int_equal(handle_op(e, "q", h3, 43199, false, &err), 0);
    free(h1);
    free(h2);
    free(h3);
    sqs_engine_free(e);
}

static void test_delays(void **state)
{
    (void)state;
    aws_error_t err;
    sqs_receive_out_t out;
    clock_reset();
    sqs_engine_t *e = engine_with("q", NULL);
    sqs_attr_t d = {"DelaySeconds", "5"};
    sqs_attrs_set_in_t in = {{NULL, "q"}, &d, 1};
    assert_int_equal(sqs_queue_attrs_set(e, &C, &in, &err), 0);
    send_body(e, "q", "queue-delay", -1);
    send_body(e, "q", "no-delay", 0);
    send_body(e, "q", "long-delay", 900);
    assert_int_equal(qattr(e, "q", "ApproximateNumberOfMessagesDelayed"), 2);
    assert_int_equal(receive(e, "q", 10, -1, &out), 1);
    assert_string_equal(out.msgs[0].body, "no-delay");
    sqs_receive_out_clear(&out);
    assert_int_equal(sqs_engine_next_deadline(e), C.mono_ms + 5000);
    advance(e, 5000);
    assert_int_equal(receive(e, "q", 10, -1, &out), 1);
    assert_string_equal(out.msgs[0].body, "queue-delay");
    sqs_receive_out_clear(&out);
    sqs_send_entry_t en = {NULL, "x", 1, 901, NULL, 0, NULL, NULL, NULL};
    sqs_send_result_t res;
    assert_int_equal(send_entry(e, "q", &en, &res), -1);
    assert_string_equal(res.err.code, "InvalidParameterValue");
    sqs_engine_free(e);
}

static int woken;

static void waiter_cb(sqs_waiter_t *w)
{
    woken++;
    (void)w;
}

static void test_waiters(void **state)
{
    (void)state;
    aws_error_t err;
    sqs_waiter_t w1 = {waiter_cb, NULL, NULL, NULL, NULL}, w2 = w1, w3 = w1;
    sqs_queue_ref_t ref = {NULL, "q"};
    clock_reset();
    woken = 0;
    sqs_engine_t *e = engine_with("q", NULL);
    sqs_queue_ref_t missing = {NULL, "nope"};
    assert_int_equal(sqs_waiter_add(e, &C, &missing, &w1, &err), -1);
    assert_int_equal(sqs_waiter_add(e, &C, &ref, &w1, &err), 0);
    assert_int_equal(sqs_waiter_add(e, &C, &ref, &w2, &err), 0);
    sqs_waiter_remove(&w2);
    send_body(e, "q", "delayed", 2);
    assert_int_equal(woken, 0); /* nothing visible yet */
    advance(e, 2000);
    assert_int_equal(woken, 1); /* the delay ended: w1 woken, removed w2 not */
    assert_null(w1.queue);
    send_body(e, "q", "now", 0);
    assert_int_equal(woken, 1); /* no waiter parked */
    assert_int_equal(sqs_waiter_add(e, &C, &ref, &w1, &err), 0);
    send_body(e, "q", "again", 0);
    assert_int_equal(woken, 2);
    assert_int_equal(sqs_waiter_add(e, &C, &ref, &w3, &err), 0);
    assert_int_equal(sqs_queue_delete(e, &C, &ref, &err), 0);
    assert_int_equal(woken, 3); /* deleting the queue wakes its pollers */
    sqs_engine_free(e);
}

static void test_purge(void **state)
{
    (void)state;
    aws_error_t err;
    sqs_receive_out_t out;
    sqs_queue_ref_t ref = {NULL, "q"};
    clock_reset();
    sqs_engine_t *e = engine_with("q", NULL);
    send_body(e, "q", "a", -1);
    send_body(e, "q", "b", 30);
    assert_int_equal(sqs_queue_purge(e, &C, &ref, &err), 0);
    assert_int_equal(qattr(e, "q", "ApproximateNumberOfMessagesDelayed"), 0);
    send_body(e, "q", "after", -1);
    advance(e, 59999);
    assert_int_equal(sqs_queue_purge(e, &C, &ref, &err), -1);
    assert_string_equal(err.code, "PurgeQueueInProgress");
    assert_int_equal(err.status, 403);
    assert_string_equal(err.message, "Only one PurgeQueue operation on q is allowed every 60 "
                                     "seconds.");
    assert_int_equal(receive(e, "q", 10, -1, &out), 1);
    assert_string_equal(out.msgs[0].body, "after");
    sqs_receive_out_clear(&out);
    advance(e, 1);
    assert_int_equal(sqs_queue_purge(e, &C, &ref, &err), 0);
    sqs_engine_free(e);
}

static void test_retention(void **state)
{
    (void)state;
    aws_error_t err;
    clock_reset();
    sqs_engine_t *e = engine_with("q", NULL);
    sqs_attr_t r = {"MessageRetentionPeriod", "60"};
    sqs_attrs_set_in_t in = {{NULL, "q"}, &r, 1};
    assert_int_equal(sqs_queue_attrs_set(e, &C, &in, &err), 0);
    send_body(e, "q", "old", -1);
    advance(e, 30000);
    send_body(e, "q", "young", -1);
    assert_int_equal(sqs_engine_next_deadline(e), C.mono_ms + 30000);
    advance(e, 30000);
    assert_int_equal(qattr(e, "q", "ApproximateNumberOfMessages"), 1);
    advance(e, 30000);
    assert_int_equal(qattr(e, "q", "ApproximateNumberOfMessages"), 0);
    assert_int_equal(sqs_engine_next_deadline(e), UINT64_MAX);
    sqs_engine_free(e);
}

static void test_message_attributes_md5(void **state)
{
    (void)state;
    sqs_receive_out_t out;
    clock_reset();
    sqs_engine_t *e = engine_with("q", NULL);
    static const unsigned char bin[] = {0, 1, 2};
    sqs_msg_attr_t attrs[] = {
        {"Population", "Number", "1250800", NULL, 0},
        {"City", "String", "Any City", NULL, 0},
        {"Bin", "Binary", NULL, bin, 3},
    };
    sqs_send_entry_t en = {
        NULL, "hello", 5, -1, attrs, 3, "Root=1-5759e988-bd862e3fe1be46a994272793", NULL, NULL};
    sqs_send_result_t res;
    assert_int_equal(send_entry(e, "q", &en, &res), 0);
    /* Reference values computed with Python's hashlib following the documented
     * algorithm (names sorted; 4-byte big-endian length before name, type and
     * value; transport byte 1 for String/Number, 2 for Binary):
     *   h.update(lv(n)+lv(t)+(b'\x02' if t=='Binary' else b'\x01')+lv(v)) */
    assert_string_equal(res.md5_attrs, "dedb79470dd89409d15b691a2b2d05f7");
    assert_string_equal(res.md5_sys_attrs, "62a56dd927315f2b2e12832b84617ea5");
    assert_string_equal(res.md5_body, "5d41402abc4b2a76b9719d911017c592");
    assert_int_equal(strlen(res.message_id), 36);
    assert_int_equal(res.message_id[14], '4'); /* UUID v4 */

    static const char *const pick[] = {"Ci.*", "Population"};
    static const char *const none[] = {"x"};
    sqs_receive_in_t in = {{NULL, "q"}, 1, -1, 0, none, 1, pick, 2, NULL};
    aws_error_t err;
    assert_int_equal(sqs_msg_receive(e, &C, &in, &out, &err), 0);
    assert_int_equal(out.n, 1);
    /* "Ci.*" is a prefix ending at a period: it does not select "City". */
    assert_int_equal(out.msgs[0].n_attrs, 1);
    assert_string_equal(out.msgs[0].attrs[0].name, "Population");
    assert_int_equal(out.msgs[0].sys_attrs.n, 0);
    sqs_receive_out_clear(&out);
    sqs_engine_free(e);
}

static void test_send_validation(void **state)
{
    (void)state;
    sqs_send_result_t res;
    clock_reset();
    sqs_engine_t *e = engine_with("q", NULL);
    sqs_send_entry_t en = {NULL, "a\x01", 2, -1, NULL, 0, NULL, NULL, NULL};
    assert_int_equal(send_entry(e, "q", &en, &res), -1);
    assert_string_equal(res.err.code, "InvalidMessageContents");
    en.body = "\xed\xa0\x80"; /* a UTF-16 surrogate encoded as UTF-8 */
    en.body_len = 3;
    assert_int_equal(send_entry(e, "q", &en, &res), -1);
    en.body = "caf\xc3\xa9 \xf0\x9f\x98\x80\t\n";
    en.body_len = strlen(en.body);
    assert_int_equal(send_entry(e, "q", &en, &res), 0);
    en.body_len = 0;
    assert_int_equal(send_entry(e, "q", &en, &res), -1);

    sqs_attr_t max = {"MaximumMessageSize", "1024"};
    sqs_attrs_set_in_t si = {{NULL, "q"}, &max, 1};
    aws_error_t err;
    assert_int_equal(sqs_queue_attrs_set(e, &C, &si, &err), 0);
    char big[1030];
    memset(big, 'x', sizeof(big));
    en.body = big;
    en.body_len = 1024;
    assert_int_equal(send_entry(e, "q", &en, &res), 0);
    sqs_msg_attr_t a = {"n", "String", "v", NULL, 0};
    en.attrs = &a;
    en.n_attrs = 1;
    assert_int_equal(send_entry(e, "q", &en, &res), -1); /* attributes count toward the size */
    assert_string_equal(res.err.code, "InvalidParameterValue");
    en.body_len = 10;
    sqs_msg_attr_t bad[] = {{"AWS.x", "String", "v", NULL, 0}, {"a..b", "String", "v", NULL, 0},
                            {"ok", "Text", "v", NULL, 0},      {"ok", "String", "", NULL, 0},
                            {"ok", "Number", "12x", NULL, 0},  {"ok", "Binary", NULL, NULL, 0}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        en.attrs = &bad[i];
        assert_int_equal(send_entry(e, "q", &en, &res), -1);
        assert_string_equal(res.err.code, "InvalidParameterValue");
    }
    sqs_msg_attr_t custom = {"ok", "Number.float", "-1.5e3", NULL, 0};
    en.attrs = &custom;
    assert_int_equal(send_entry(e, "q", &en, &res), 0);
    sqs_msg_attr_t many[11];
    for (int i = 0; i < 11; i++)
        many[i] = (sqs_msg_attr_t){"same", "String", "v", NULL, 0};
    en.attrs = many;
    en.n_attrs = 11;
    assert_int_equal(send_entry(e, "q", &en, &res), -1);
    sqs_engine_free(e);
}

static void test_batch_rules(void **state)
{
    (void)state;
    aws_error_t err;
    sqs_send_out_t out;
    sqs_send_entry_t en[11];
    char ids[11][8];
    clock_reset();
    sqs_engine_t *e = engine_with("q", NULL);
    for (int i = 0; i < 11; i++) {
        snprintf(ids[i], sizeof(ids[i]), "id-%d", i);
        en[i] = (sqs_send_entry_t){ids[i], "body", 4, -1, NULL, 0, NULL, NULL, NULL};
    }
    sqs_send_in_t in = {{NULL, "q"}, en, 0, true};
    assert_int_equal(sqs_msg_send(e, &C, &in, &out, &err), -1);
    assert_string_equal(err.code, "EmptyBatchRequest");
    in.n = 11;
    assert_int_equal(sqs_msg_send(e, &C, &in, &out, &err), -1);
    assert_string_equal(err.code, "TooManyEntriesInBatchRequest");
    assert_string_equal(err.query_code, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest");
    in.n = 3;
    en[1].id = "id-0";
    assert_int_equal(sqs_msg_send(e, &C, &in, &out, &err), -1);
    assert_string_equal(err.code, "BatchEntryIdsNotDistinct");
    en[1].id = "bad id!";
    assert_int_equal(sqs_msg_send(e, &C, &in, &out, &err), -1);
    assert_string_equal(err.code, "InvalidBatchEntryId");
    en[1].id = ids[1];
    /* Per-entry failure: the other entries are sent. */
    en[1].body = "\x02";
    en[1].body_len = 1;
    assert_int_equal(sqs_msg_send(e, &C, &in, &out, &err), 0);
    assert_int_equal(out.n, 3);
    assert_null(out.results[0].err.code);
    assert_string_equal(out.results[1].err.code, "InvalidMessageContents");
    assert_null(out.results[2].err.code);
    assert_int_equal(qattr(e, "q", "ApproximateNumberOfMessages"), 2);
    /* Total payload above 1 MiB. */
    char *big = malloc(600000);
    memset(big, 'x', 600000);
    en[0].body = en[1].body = big;
    en[0].body_len = en[1].body_len = 600000;
    in.n = 2;
    assert_int_equal(sqs_msg_send(e, &C, &in, &out, &err), -1);
    assert_string_equal(err.code, "BatchRequestTooLong");
    free(big);
    sqs_engine_free(e);
}

static void test_receipt_handles(void **state)
{
    (void)state;
    aws_error_t err;
    sqs_receive_out_t out;
    clock_reset();
    sqs_engine_t *e = engine_with("q", NULL);
    aws_error_t cerr;
    assert_int_equal(create(e, "other", NULL, 0, &cerr), 0);
    send_body(e, "q", "m", -1);
    assert_int_equal(receive(e, "q", 1, -1, &out), 1);
    char *h = strdup(out.msgs[0].receipt_handle);
    sqs_receive_out_clear(&out);
    assert_int_equal(handle_op(e, "q", "garbage", 0, true, &err), -1);
    assert_string_equal(err.code, "ReceiptHandleIsInvalid");
    assert_string_equal(err.message,
                        "The input receipt handle \"garbage\" is not a valid receipt handle.");
    char *tampered = strdup(h);
    tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
    assert_int_equal(handle_op(e, "q", tampered, 0, true, &err), -1);
    assert_string_equal(err.code, "ReceiptHandleIsInvalid");
    /* A valid handle of another queue is not valid here. */
    assert_int_equal(handle_op(e, "other", h, 0, true, &err), -1);
    assert_string_equal(err.code, "ReceiptHandleIsInvalid");
    assert_int_equal(handle_op(e, "q", h, 0, true, &err), 0);
    assert_int_equal(qattr(e, "q", "ApproximateNumberOfMessagesNotVisible"), 0);
    /* Batch delete: per-entry results. */
    sqs_handle_entry_t he[2] = {{"a", "bad", 0}, {"b", h, 0}};
    sqs_handle_in_t in = {{NULL, "q"}, he, 2, true};
    sqs_handle_out_t ho;
    assert_int_equal(sqs_msg_delete(e, &C, &in, &ho, &err), 0);
    assert_string_equal(ho.errs[0].code, "ReceiptHandleIsInvalid");
    assert_null(ho.errs[1].code);
    he[1].id = "a";
    assert_int_equal(sqs_msg_delete(e, &C, &in, &ho, &err), -1);
    assert_string_equal(err.code, "BatchEntryIdsNotDistinct");
    free(h);
    free(tampered);
    sqs_engine_free(e);
}

/* ---- journal round-trip ---- */

#define REC_MAX 64

typedef struct rec_item {
    bool used;
    uint64_t id, qid;
    void *blob;
    size_t len;
    sqs_msg_state_t st;
} rec_item_t;

typedef struct rec_kv {
    char kind[16], key[640];
    void *blob;
    size_t len;
} rec_kv_t;

typedef struct rec {
    rec_item_t queues[REC_MAX], msgs[REC_MAX];
    rec_kv_t kv[REC_MAX];
    int puts, states, deletes, purges;
} rec_t;

static rec_item_t *rec_slot(rec_item_t *items, uint64_t id, bool create)
{
    for (int i = 0; i < REC_MAX; i++)
        if (items[i].used && items[i].id == id)
            return &items[i];
    for (int i = 0; create && i < REC_MAX; i++)
        if (!items[i].used) {
            items[i].used = true;
            items[i].id = id;
            return &items[i];
        }
    return NULL;
}

static void rec_drop(rec_item_t *it)
{
    free(it->blob);
    memset(it, 0, sizeof(*it));
}

static void rec_queue_put(void *ud, uint64_t id, const void *blob, size_t len)
{
    rec_item_t *it = rec_slot(((rec_t *)ud)->queues, id, true);
    free(it->blob);
    it->blob = malloc(len);
    memcpy(it->blob, blob, len);
    it->len = len;
}

static void rec_queue_delete(void *ud, uint64_t id)
{
    rec_t *r = ud;
    rec_drop(rec_slot(r->queues, id, false));
    for (int i = 0; i < REC_MAX; i++)
        if (r->msgs[i].used && r->msgs[i].qid == id)
            rec_drop(&r->msgs[i]);
}

static void rec_queue_purge(void *ud, uint64_t id, uint64_t max_seq)
{
    rec_t *r = ud;
    r->purges++;
    for (int i = 0; i < REC_MAX; i++)
        if (r->msgs[i].used && r->msgs[i].qid == id && r->msgs[i].id <= max_seq)
            rec_drop(&r->msgs[i]);
}

static void rec_msg_put(void *ud, uint64_t seq, uint64_t qid, const void *blob, size_t len,
                        const sqs_msg_state_t *st)
{
    rec_t *r = ud;
    rec_item_t *it = rec_slot(r->msgs, seq, true);
    r->puts++;
    it->qid = qid;
    it->blob = malloc(len);
    memcpy(it->blob, blob, len);
    it->len = len;
    it->st = *st;
}

static void rec_msg_state(void *ud, uint64_t seq, const sqs_msg_state_t *st)
{
    rec_t *r = ud;
    r->states++;
    rec_slot(r->msgs, seq, false)->st = *st;
}

static void rec_msg_delete(void *ud, uint64_t seq)
{
    rec_t *r = ud;
    r->deletes++;
    rec_drop(rec_slot(r->msgs, seq, false));
}

static rec_kv_t *rec_kv_slot(rec_t *r, const char *kind, const char *key, bool create)
{
    for (int i = 0; i < REC_MAX; i++)
        if (r->kv[i].blob && !strcmp(r->kv[i].kind, kind) && !strcmp(r->kv[i].key, key))
            return &r->kv[i];
    for (int i = 0; create && i < REC_MAX; i++)
        if (!r->kv[i].blob) {
            snprintf(r->kv[i].kind, sizeof(r->kv[i].kind), "%s", kind);
            snprintf(r->kv[i].key, sizeof(r->kv[i].key), "%s", key);
            return &r->kv[i];
        }
    return NULL;
}

static void rec_kv_put(void *ud, const char *kind, const char *key, const void *blob, size_t len)
{
    rec_kv_t *kv = rec_kv_slot(ud, kind, key, true);
    assert_non_null(kv);
    free(kv->blob);
    kv->blob = malloc(len + 1);
    memcpy(kv->blob, blob, len);
    kv->len = len;
}

static void rec_kv_delete(void *ud, const char *kind, const char *key)
{
    rec_kv_t *kv = rec_kv_slot(ud, kind, key, false);
    if (kv) {
        free(kv->blob);
        memset(kv, 0, sizeof(*kv));
    }
}

static void rec_free(rec_t *r)
{
    for (int i = 0; i < REC_MAX; i++) {
        rec_drop(&r->queues[i]);
        rec_drop(&r->msgs[i]);
        rec_kv_delete(r, r->kv[i].kind, r->kv[i].key);
    }
}

static sqs_engine_t *rec_restore(rec_t *r)
{
    sqs_engine_t *e = sqs_engine_new(NULL);
    for (int i = 0; i < REC_MAX; i++)
        if (r->queues[i].used)
            assert_int_equal(
                sqs_queue_restore(e, r->queues[i].id, r->queues[i].blob, r->queues[i].len), 0);
    for (int i = 0; i < REC_MAX; i++)
        if (r->msgs[i].used)
            assert_int_equal(sqs_msg_restore(e, r->msgs[i].id, r->msgs[i].qid, r->msgs[i].blob,
                                             r->msgs[i].len, &r->msgs[i].st, C.now_ms, C.mono_ms),
                             0);
    for (int i = 0; i < REC_MAX; i++)
        if (r->kv[i].blob)
            assert_int_equal(sqs_kv_restore(e, r->kv[i].kind, r->kv[i].key, r->kv[i].blob,
                                            r->kv[i].len, C.now_ms, C.mono_ms),
                             0);
    return e;
}

#define REC_JOURNAL(r)                                                                             \
    {                                                                                              \
        (r), rec_queue_put, rec_queue_delete, rec_queue_purge, rec_msg_put, rec_msg_state,         \
            rec_msg_delete, rec_kv_put, rec_kv_delete                                              \
    }

static void test_journal_roundtrip(void **state)
{
    (void)state;
    static rec_t r;
    aws_error_t err;
    sqs_receive_out_t out;
    sqs_journal_t j = REC_JOURNAL(&r);
    clock_reset();
    sqs_engine_t *e = sqs_engine_new(&j);
    sqs_attr_t attrs[] = {{"VisibilityTimeout", "40"}, {"DelaySeconds", "0"}};
    sqs_attr_t tags[] = {{"team", "core"}};
    sqs_create_in_t ci = {"keep", attrs, 2, tags, 1};
    assert_int_equal(sqs_queue_create(e, &C, &ci, &err), 0);
    assert_int_equal(create(e, "gone", NULL, 0, &err), 0);
    send_body(e, "gone", "lost", -1);
    sqs_queue_ref_t gone = {NULL, "gone"};
    assert_int_equal(sqs_queue_delete(e, &C, &gone, &err), 0);
    sqs_msg_attr_t a = {"k", "String", "v", NULL, 0};
    sqs_send_entry_t en = {NULL, "visible", 7, -1, &a, 1, "Root=1", NULL, NULL};
    sqs_send_result_t res;
    assert_int_equal(send_entry(e, "keep", &en, &res), 0);
    send_body(e, "keep", "inflight", -1);
    send_body(e, "keep", "delayed", 100);
    send_body(e, "keep", "deleted", -1);
    /* Receive "visible" and "inflight"; return "visible" to the queue. */
    assert_int_equal(receive(e, "keep", 2, -1, &out), 2);
    char *h_vis = strdup(out.msgs[0].receipt_handle);
    char *h_inf = strdup(out.msgs[1].receipt_handle);
    sqs_receive_out_clear(&out);
    assert_int_equal(receive(e, "keep", 1, -1, &out), 1);
    assert_string_equal(out.msgs[0].body, "deleted");
    assert_int_equal(handle_op(e, "keep", out.msgs[0].receipt_handle, 0, true, &err), 0);
    sqs_receive_out_clear(&out);
    assert_int_equal(handle_op(e, "keep", h_vis, 0, false, &err), 0);
    assert_int_equal(r.deletes, 1);

    advance(NULL, 10000);
    sqs_engine_t *e2 = rec_restore(&r);
    assert_int_equal(qattr(e2, "keep", "VisibilityTimeout"), 40);
    assert_int_equal(qattr(e2, "keep", "CreatedTimestamp"), 1700000000);
    assert_int_equal(qattr(e2, "keep", "ApproximateNumberOfMessages"), 1);
    assert_int_equal(qattr(e2, "keep", "ApproximateNumberOfMessagesNotVisible"), 1);
    assert_int_equal(qattr(e2, "keep", "ApproximateNumberOfMessagesDelayed"), 1);
    sqs_queue_ref_t ref = {NULL, "gone"};
    assert_int_equal(sqs_queue_url_get(e2, &C, &ref, &err), -1);
    sqs_kv_list_t tl = {0};
    ref.name = "keep";
    assert_int_equal(sqs_queue_tags_list(e2, &C, &ref, &tl, &err), 0);
    assert_string_equal(attr_of(&tl, "team"), "core");
    sqs_kv_list_clear(&tl);
    /* The restored visible message keeps its id, digests and receive count. */
    assert_int_equal(receive(e2, "keep", 1, -1, &out), 1);
    assert_string_equal(out.msgs[0].body, "visible");
    assert_string_equal(out.msgs[0].message_id, res.message_id);
    assert_string_equal(out.msgs[0].md5_attrs, res.md5_attrs);
    assert_string_equal(attr_of(&out.msgs[0].sys_attrs, "ApproximateReceiveCount"), "2");
    assert_string_equal(attr_of(&out.msgs[0].sys_attrs, "AWSTraceHeader"), "Root=1");
    sqs_receive_out_clear(&out);
    /* A handle issued before the restart still deletes. */
    assert_int_equal(handle_op(e2, "keep", h_inf, 0, true, &err), 0);
    assert_int_equal(qattr(e2, "keep", "ApproximateNumberOfMessagesNotVisible"), 1);
    /* The in-flight message's remaining timeout (40 s - 10 s) carried over. */
    advance(e2, 90000);
    assert_int_equal(qattr(e2, "keep", "ApproximateNumberOfMessagesDelayed"), 0);
    assert_int_equal(qattr(e2, "keep", "ApproximateNumberOfMessages"), 2);
    /* New sends continue after the highest restored seq. */
    send_body(e2, "keep", "new", -1);
    /* Corrupt blobs are refused. */
    rec_item_t *q = rec_slot(r.queues, 1, false);
    assert_int_equal(sqs_queue_restore(e2, 99, q->blob, q->len - 1), -1);
    assert_int_equal(sqs_queue_restore(e2, 99, "Q\x02", 2), -1);
    assert_int_equal(
        sqs_msg_restore(e2, 500, 1, "M\x01\xff\xff\xff\xff", 6, &r.msgs[0].st, C.now_ms, C.mono_ms),
        -1);
    free(h_vis);
    free(h_inf);
    sqs_engine_free(e);
    sqs_engine_free(e2);
    rec_free(&r);
}

/* ---- FIFO queues ---- */

static const sqs_attr_t FIFO_ATTRS[] = {{"FifoQueue", "true"}};

static int send_fifo(sqs_engine_t *e, const char *q, const char *body, const char *group,
                     const char *dedup, sqs_send_result_t *res)
{
    sqs_send_entry_t en = {NULL, body, strlen(body), -1, NULL, 0, NULL, group, dedup};
    return send_entry(e, q, &en, res);
}

/* Receives up to max; the bodies joined by ',' into got (handles freed). */
static size_t receive_bodies(sqs_engine_t *e, const char *q, int max, int vis, char *got,
                             size_t cap, char **first_handle)
{
    sqs_receive_out_t out;
    size_t n = receive(e, q, max, vis, &out);
    got[0] = 0;
    for (size_t i = 0; i < n; i++)
        snprintf(got + strlen(got), cap - strlen(got), "%s%s", i ? "," : "", out.msgs[i].body);
    if (first_handle)
        *first_handle = n ? strdup(out.msgs[0].receipt_handle) : NULL;
    sqs_receive_out_clear(&out);
    return n;
}

static void test_fifo_groups(void **state)
{
    (void)state;
    aws_error_t err;
    sqs_send_result_t r;
    char got[256], *h = NULL;
    clock_reset();
    sqs_engine_t *e = sqs_engine_new(NULL);
    assert_int_equal(create(e, "plain.fifo", NULL, 0, &err), -1); /* FifoQueue not given */
    assert_string_equal(err.code, "InvalidParameterValue");
    assert_int_equal(create(e, "f.fifo", FIFO_ATTRS, 1, &err), 0);
    const char *order[][2] = {{"a1", "a"}, {"b1", "b"}, {"a2", "a"}, {"a3", "a"}, {"b2", "b"}};
    uint64_t last = 0;
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(send_fifo(e, "f.fifo", order[i][0], order[i][1], order[i][0], &r), 0);
        uint64_t sn = strtoull(r.sequence_number, NULL, 10);
        assert_int_equal(strlen(r.sequence_number), 20);
        assert_true(sn > last);
        last = sn;
    }
    assert_int_equal(qattr(e, "f.fifo", "ApproximateNumberOfMessages"), 5);
    /* One group at a time, in order; a receive takes several of a group. */
    assert_int_equal(receive_bodies(e, "f.fifo", 2, 30, got, sizeof(got), &h), 2);
    assert_string_equal(got, "a1,a2");
    assert_int_equal(receive_bodies(e, "f.fifo", 10, 30, got, sizeof(got), NULL), 2);
    assert_string_equal(got, "b1,b2");
    assert_int_equal(receive_bodies(e, "f.fifo", 10, 30, got, sizeof(got), NULL), 0);
    assert_int_equal(qattr(e, "f.fifo", "ApproximateNumberOfMessages"), 1); /* a3, blocked */
    /* a1 deleted, a2 still in flight: a3 waits. */
    assert_int_equal(handle_op(e, "f.fifo", h, 0, true, &err), 0);
    free(h);
    assert_int_equal(receive_bodies(e, "f.fifo", 10, 30, got, sizeof(got), NULL), 0);
    /* The timeout returns a2 first, then a3 follows in the same receive. */
    advance(e, 30000);
    assert_int_equal(receive_bodies(e, "f.fifo", 10, 30, got, sizeof(got), NULL), 4);
    assert_string_equal(got, "b1,b2,a2,a3");
    sqs_engine_free(e);
}

static void test_fifo_send_rules(void **state)
{
    (void)state;
    aws_error_t err;
    sqs_send_result_t r;
    clock_reset();
    sqs_engine_t *e = sqs_engine_new(NULL);
    assert_int_equal(create(e, "f.fifo", FIFO_ATTRS, 1, &err), 0);
    assert_int_equal(send_fifo(e, "f.fifo", "x", NULL, "d", &r), -1);
    assert_string_equal(r.err.code, "MissingParameter");
    assert_int_equal(send_fifo(e, "f.fifo", "x", "g", NULL, &r), -1);
    assert_string_equal(r.err.message, "The queue should either have ContentBasedDeduplication "
                                       "enabled or MessageDeduplicationId provided explicitly");
    assert_int_equal(send_fifo(e, "f.fifo", "x", "g g", "d", &r), -1);
    assert_string_equal(r.err.code, "InvalidParameterValue");
    sqs_send_entry_t delayed = {NULL, "x", 1, 3, NULL, 0, NULL, "g", "d"};
    assert_int_equal(send_entry(e, "f.fifo", &delayed, &r), -1);
    assert_string_equal(r.err.message, "Value 3 for parameter DelaySeconds is invalid. Reason: The "
                                       "request include parameter that is not valid for this "
                                       "queue type.");
    delayed.delay_seconds = 0;
    assert_int_equal(send_entry(e, "f.fifo", &delayed, &r), 0);
    assert_int_equal(create(e, "std", NULL, 0, &err), 0);
    assert_int_equal(send_fifo(e, "std", "x", NULL, "d", &r), -1);
    /* Standard queues take a MessageGroupId (fair queues) and report it. */
    assert_int_equal(send_fifo(e, "std", "x", "tenant", NULL, &r), 0);
    assert_string_equal(r.sequence_number, "");
    sqs_receive_out_t out;
    assert_int_equal(receive(e, "std", 1, -1, &out), 1);
    assert_string_equal(attr_of(&out.msgs[0].sys_attrs, "MessageGroupId"), "tenant");
    sqs_receive_out_clear(&out);
    sqs_engine_free(e);
}

static void test_fifo_deduplication(void **state)
{
    (void)state;
    aws_error_t err;
    sqs_send_result_t a, b;
    char got[128];
    clock_reset();
    sqs_engine_t *e = sqs_engine_new(NULL);
    sqs_attr_t cbd[] = {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"}};
    assert_int_equal(create(e, "f.fifo", cbd, 2, &err), 0);
    assert_int_equal(send_fifo(e, "f.fifo", "same", "g", NULL, &a), 0);
    advance(e, 299999);
    assert_int_equal(send_fifo(e, "f.fifo", "same", "g", NULL, &b), 0);
    assert_string_equal(a.message_id, b.message_id);
    assert_string_equal(a.sequence_number, b.sequence_number);
    advance(e, 1); /* five minutes after the first send: a new message */
    assert_int_equal(send_fifo(e, "f.fifo", "same", "g", NULL, &b), 0);
    assert_string_not_equal(a.message_id, b.message_id);
    assert_int_equal(receive_bodies(e, "f.fifo", 10, 30, got, sizeof(got), NULL), 2);
    /* messageGroup scope: the same id in two groups is two messages. */
    sqs_attr_t scoped[] = {{"FifoQueue", "true"}, {"DeduplicationScope", "messageGroup"}};
    assert_int_equal(create(e, "s.fifo", scoped, 2, &err), 0);
    assert_int_equal(send_fifo(e, "s.fifo", "1", "g1", "d", &a), 0);
    assert_int_equal(send_fifo(e, "s.fifo", "2", "g2", "d", &b), 0);
    assert_string_not_equal(a.message_id, b.message_id);
    assert_int_equal(send_fifo(e, "s.fifo", "3", "g1", "d", &b), 0);
    assert_string_equal(a.message_id, b.message_id);
    assert_int_equal(qattr(e, "s.fifo", "ApproximateNumberOfMessages"), 2);
    sqs_engine_free(e);
}

static void test_fifo_receive_attempts(void **state)
{
    (void)state;
    aws_error_t err;
    sqs_send_result_t r;
    sqs_receive_out_t a, b;
    static const char *const all[] = {"All"};
    clock_reset();
    sqs_engine_t *e = sqs_engine_new(NULL);
    assert_int_equal(create(e, "f.fifo", FIFO_ATTRS, 1, &err), 0);
    for (int i = 0; i < 3; i++) {
        char body[8];
        snprintf(body, sizeof(body), "m%d", i);
        assert_int_equal(send_fifo(e, "f.fifo", body, body, body, &r), 0);
    }
    sqs_receive_in_t in = {{NULL, "f.fifo"}, 2, 10, 0, all, 1, all, 1, "attempt-1"};
    assert_int_equal(sqs_msg_receive(e, &C, &in, &a, &err), 0);
    advance(e, 9000);
    assert_int_equal(sqs_msg_receive(e, &C, &in, &b, &err), 0);
    assert_int_equal(b.n, 2);
    for (size_t i = 0; i < 2; i++)
        assert_string_equal(a.msgs[i].receipt_handle, b.msgs[i].receipt_handle);
    sqs_receive_out_clear(&b);
    /* The retry restarted the visibility timeout: still hidden 9 s later. */
    advance(e, 9000);
    in.attempt_id = "attempt-2";
    assert_int_equal(sqs_msg_receive(e, &C, &in, &b, &err), 0);
    assert_int_equal(b.n, 1);
    assert_string_equal(b.msgs[0].body, "m2");
    sqs_receive_out_clear(&b);
    /* A message deleted since: the attempt is spent and receives anew. */
    assert_int_equal(handle_op(e, "f.fifo", a.msgs[0].receipt_handle, 0, true, &err), 0);
    in.attempt_id = "attempt-1";
    advance(e, 5000);
    assert_int_equal(sqs_msg_receive(e, &C, &in, &b, &err), 0);
    assert_int_equal(b.n, 1);
    assert_string_equal(b.msgs[0].body, "m1");
    sqs_receive_out_clear(&a);
    sqs_receive_out_clear(&b);
    sqs_engine_free(e);
}

/* ---- dead-letter queues ---- */

static void set_attr(sqs_engine_t *e, const char *q, const char *name, const char *value, int rc,
                     aws_error_t *err)
{
    sqs_attr_t a = {name, value};
    sqs_attrs_set_in_t in = {{NULL, q}, &a, 1};
    aws_error_clear(err);
    assert_int_equal(sqs_queue_attrs_set(e, &C, &in, err), rc);
}

static void test_redrive(void **state)
{
    (void)state;
    aws_error_t err;
    char got[128];
    sqs_receive_out_t out;
    clock_reset();
    sqs_engine_t *e = sqs_engine_new(NULL);
    assert_int_equal(create(e, "src", NULL, 0, &err), 0);
    assert_int_equal(create(e, "dlq", NULL, 0, &err), 0);
    assert_int_equal(create(e, "f.fifo", FIFO_ATTRS, 1, &err), 0);
#define REDRIVE_DOC(buf, name, count)                                                              \
    snprintf(buf, sizeof(buf),                                                                     \
             "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:%s\","                 \
             "\"maxReceiveCount\":%d}",                                                            \
             name, count)
    char doc[256];
    REDRIVE_DOC(doc, "dlq", 0);
    set_attr(e, "src", "RedrivePolicy", doc, -1, &err);
    assert_non_null(strstr(err.message, "Invalid value for maxReceiveCount: 0"));
    REDRIVE_DOC(doc, "nope", 2);
    set_attr(e, "src", "RedrivePolicy", doc, -1, &err);
    REDRIVE_DOC(doc, "f.fifo", 2);
    set_attr(e, "src", "RedrivePolicy", doc, -1, &err);
    assert_non_null(strstr(err.message, "same type"));
    set_attr(e, "dlq", "RedriveAllowPolicy", "{\"redrivePermission\":\"denyAll\"}", 0, &err);
    REDRIVE_DOC(doc, "dlq", 2);
    set_attr(e, "src", "RedrivePolicy", doc, -1, &err);
    set_attr(e, "dlq", "RedriveAllowPolicy",
             "{\"redrivePermission\":\"byQueue\",\"sourceQueueArns\":[\"arn:aws:sqs:us-east-1:"
             "000000000000:src\"]}",
             0, &err);
    set_attr(e, "src", "RedrivePolicy", doc, 0, &err);
    set_attr(e, "dlq", "MessageRetentionPeriod", "60", 0, &err);

    send_body(e, "src", "poison", -1);
    advance(e, 50000);
    for (int i = 0; i < 2; i++)
        assert_int_equal(receive_bodies(e, "src", 1, 0, got, sizeof(got), NULL), 1);
    assert_int_equal(receive_bodies(e, "src", 1, 0, got, sizeof(got), NULL), 0);
    assert_int_equal(receive(e, "dlq", 1, 0, &out), 1);
    assert_string_equal(out.msgs[0].body, "poison");
    assert_string_equal(attr_of(&out.msgs[0].sys_attrs, "DeadLetterQueueSourceArn"),
                        "arn:aws:sqs:us-east-1:000000000000:src");
    assert_string_equal(attr_of(&out.msgs[0].sys_attrs, "ApproximateReceiveCount"), "3");
    assert_string_equal(attr_of(&out.msgs[0].sys_attrs, "SentTimestamp"), "1700000000000");
    sqs_receive_out_clear(&out);
    /* Retention counts from the original enqueue: 60 s after the send. */
    advance(e, 9000);
    assert_int_equal(qattr(e, "dlq", "ApproximateNumberOfMessages"), 1);
    advance(e, 1000);
    assert_int_equal(qattr(e, "dlq", "ApproximateNumberOfMessages"), 0);

    sqs_list_in_t li = {NULL, 0, NULL};
    sqs_list_out_t lo;
    sqs_queue_ref_t dlq = {NULL, "dlq"};
    assert_int_equal(sqs_queue_dlq_sources(e, &C, &dlq, &li, &lo, &err), 0);
    assert_int_equal(lo.n, 1);
    assert_string_equal(lo.names[0], "src");
    sqs_list_out_clear(&lo);
    /* The DLQ gone: messages stay and are delivered. */
    assert_int_equal(sqs_queue_delete(e, &C, &dlq, &err), 0);
    send_body(e, "src", "stays", -1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(receive_bodies(e, "src", 1, 0, got, sizeof(got), NULL), 1);
    /* QueueDeletedRecently for a minute. */
    assert_int_equal(create(e, "dlq", NULL, 0, &err), -1);
    assert_string_equal(err.code, "QueueDeletedRecently");
    advance(e, 60000);
    assert_int_equal(create(e, "dlq", NULL, 0, &err), 0);
    sqs_engine_free(e);
}

/* ---- move tasks ---- */

static void drive_to_dlq(sqs_engine_t *e, int n)
{
    aws_error_t err;
    char got[1024], body[16];
    set_attr(e, "src", "RedrivePolicy",
             "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:dlq\","
             "\"maxReceiveCount\":1}",
             0, &err);
    for (int i = 0; i < n; i++) {
        snprintf(body, sizeof(body), "m%d", i);
        send_body(e, "src", body, -1);
    }
    while (receive_bodies(e, "src", 10, 0, got, sizeof(got), NULL))
        ;
    assert_int_equal(qattr(e, "dlq", "ApproximateNumberOfMessages"), n);
}

static void test_move_tasks(void **state)
{
    (void)state;
    static rec_t r;
    aws_error_t err;
    char handle[SQS_TASK_HANDLE_MAX], id[37], arn[SQS_ARN_MAX];
    sqs_move_info_t info[SQS_MOVE_LIST_MAX];
    size_t n;
    uint64_t moved;
    sqs_journal_t j = REC_JOURNAL(&r);
    clock_reset();
    sqs_engine_t *e = sqs_engine_new(&j);
    assert_int_equal(create(e, "src", NULL, 0, &err), 0);
    assert_int_equal(create(e, "dlq", NULL, 0, &err), 0);
    drive_to_dlq(e, 10);
    const char *dlq_arn = "arn:aws:sqs:us-east-1:000000000000:dlq";
    sqs_move_in_t in = {"arn:aws:sqs:us-east-1:000000000000:src", NULL, 0};
    assert_int_equal(sqs_move_start(e, &C, &in, handle, sizeof(handle), &err), -1);
    assert_string_equal(err.message, "Source queue must be configured as a Dead Letter Queue.");
    in = (sqs_move_in_t){dlq_arn, NULL, 501};
    assert_int_equal(sqs_move_start(e, &C, &in, handle, sizeof(handle), &err), -1);
    in.rate = 2;
    assert_int_equal(sqs_move_start(e, &C, &in, handle, sizeof(handle), &err), 0);
    assert_int_equal(sqs_move_handle_parse(handle, id, arn, sizeof(arn)), 0);
    assert_string_equal(arn, dlq_arn);
    assert_int_equal(sqs_move_start(e, &C, &in, handle, sizeof(handle), &err), -1);
    /* 2 messages/s: one every 500 ms. */
    for (int i = 0; i < 4; i++)
        advance(e, 500);
    assert_int_equal(sqs_move_list(e, &C, dlq_arn, 0, info, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(info[0].status, "RUNNING");
    assert_int_equal(info[0].to_move, 10);
    assert_in_range(info[0].moved, 4, 5);
    assert_int_equal(qattr(e, "src", "ApproximateNumberOfMessages"), info[0].moved);

    /* A restart resumes the task where it stood. */
    sqs_engine_t *e2 = rec_restore(&r);
    assert_int_equal(sqs_move_list(e2, &C, dlq_arn, 0, info, &n, &err), 0);
    assert_string_equal(info[0].status, "RUNNING");
    uint64_t before = info[0].moved;
    for (int i = 0; i < 2; i++)
        advance(e2, 500);
    assert_int_equal(sqs_move_list(e2, &C, dlq_arn, 0, info, &n, &err), 0);
    assert_in_range(info[0].moved, before + 1, before + 3);
    assert_int_equal(sqs_move_cancel(e2, &C, info[0].handle, &moved, &err), 0);
    assert_int_equal(moved, info[0].moved);
    assert_int_equal(sqs_move_cancel(e2, &C, info[0].handle, &moved, &err), -1);
    advance(e2, 5000);
    assert_int_equal(qattr(e2, "src", "ApproximateNumberOfMessages"), moved);
    /* Unlimited: the rest moves at once, then COMPLETED. */
    in.rate = 0;
    assert_int_equal(sqs_move_start(e2, &C, &in, handle, sizeof(handle), &err), 0);
    advance(e2, 200);
    assert_int_equal(sqs_move_list(e2, &C, dlq_arn, 10, info, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(info[0].status, "COMPLETED");
    assert_string_equal(info[0].handle, "");
    assert_string_equal(info[1].status, "CANCELLED");
    assert_int_equal(qattr(e2, "src", "ApproximateNumberOfMessages"), 10);
    assert_int_equal(qattr(e2, "dlq", "ApproximateNumberOfMessages"), 0);
    sqs_engine_free(e);
    sqs_engine_free(e2);
    rec_free(&r);
}

static void test_fifo_journal_roundtrip(void **state)
{
    (void)state;
    static rec_t r;
    aws_error_t err;
    sqs_send_result_t a, b;
    char got[128];
    sqs_journal_t j = REC_JOURNAL(&r);
    clock_reset();
    sqs_engine_t *e = sqs_engine_new(&j);
    assert_int_equal(create(e, "f.fifo", FIFO_ATTRS, 1, &err), 0);
    assert_int_equal(send_fifo(e, "f.fifo", "x1", "x", "d1", &a), 0);
    assert_int_equal(send_fifo(e, "f.fifo", "x2", "x", "d2", &b), 0);
    assert_int_equal(send_fifo(e, "f.fifo", "y1", "y", "d3", &b), 0);
    assert_int_equal(receive_bodies(e, "f.fifo", 1, 30, got, sizeof(got), NULL), 1);
    advance(NULL, 1000);
    sqs_engine_t *e2 = rec_restore(&r);
    /* Deduplication and group order hold across the restart. */
    assert_int_equal(send_fifo(e2, "f.fifo", "again", "x", "d1", &b), 0);
    assert_string_equal(a.message_id, b.message_id);
    assert_string_equal(a.sequence_number, b.sequence_number);
    assert_int_equal(receive_bodies(e2, "f.fifo", 10, 30, got, sizeof(got), NULL), 1);
    assert_string_equal(got, "y1"); /* group x is still in flight */
    advance(e2, 30000);
    assert_int_equal(receive_bodies(e2, "f.fifo", 10, 30, got, sizeof(got), NULL), 3);
    assert_string_equal(got, "x1,x2,y1"); /* y1's timeout ended too; x is older */
    /* Records expire on time and leave the journal. */
    advance(e2, 300000);
    assert_int_equal(send_fifo(e2, "f.fifo", "x1", "x", "d1", &b), 0);
    assert_string_not_equal(a.message_id, b.message_id);
    sqs_engine_free(e);
    sqs_engine_free(e2);
    rec_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_get_list_delete),
        cmocka_unit_test(test_list_pagination),
        cmocka_unit_test(test_attributes),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_send_receive_delete),
        cmocka_unit_test(test_visibility_timeout),
        cmocka_unit_test(test_delays),
        cmocka_unit_test(test_waiters),
        cmocka_unit_test(test_purge),
        cmocka_unit_test(test_retention),
        cmocka_unit_test(test_message_attributes_md5),
        cmocka_unit_test(test_send_validation),
        cmocka_unit_test(test_batch_rules),
        cmocka_unit_test(test_receipt_handles),
        cmocka_unit_test(test_journal_roundtrip),
        cmocka_unit_test(test_fifo_groups),
        cmocka_unit_test(test_fifo_send_rules),
        cmocka_unit_test(test_fifo_deduplication),
        cmocka_unit_test(test_fifo_receive_attempts),
        cmocka_unit_test(test_redrive),
        cmocka_unit_test(test_move_tasks),
        cmocka_unit_test(test_fifo_journal_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
