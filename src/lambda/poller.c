/*
 * poller — event source mappings at work; see poller.h.
 *
 * One repeating timer (100 ms) settles States, dispatches batches whose
 * batching window closed, retries after throttles and problems, and once a
 * second reads each queue's backlog and rescales. An engine waiter that
 * fires (a queue got messages) runs the timer at once, on the next loop turn;
 * an invocation's result pumps its mapping directly.
 *
 * A run is the poller's state of one mapping. A mapping deleted while
 * batches are in flight leaves its run behind (m NULL) until they return.
 */
#include "lambda/poller.h"
#include "lambda/evfilter.h"
#include "base/b64.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    TICK_MS = 100,
    SCALE_MS = 1000,         /* rescale every second */
    ACCESS_MS = 1000,        /* the role's permissions are checked again after this */
    PROBLEM_RETRY_MS = 1000, /* a mapping with a problem tries again after this */
    THROTTLE_MIN_MS = 100,
    THROTTLE_MAX_MS = 2000,
};

typedef struct run run_t;

typedef struct item {
    char *id, *handle, *group; /* group: MessageGroupId on FIFO queues, else NULL */
} item_t;

typedef struct batch {
    run_t *run;
    item_t *items;
    size_t n, cap;
    buf_t payload;        /* {"Records":[ ... */
    uint64_t deadline_ms; /* monotonic: the batching window closes */
    uint64_t expires_ms;  /* monotonic: the first message's visibility timeout ends */
    bool ready;           /* full: invoke as soon as allowed */
    bool closed;          /* payload ends with ]} */
    bool report_failures; /* the mapping's settings when the batch was made */
    bool fifo;
    unsigned throttled; /* invocations refused so far */
} batch_t;

struct run {
    lambda_poller_t *p;
    lambda_esm_t *m; /* NULL once the mapping is gone */
    sqs_arn_t q;
    lambda_filter_t *filter; /* the mapping's FilterCriteria, NULL = none */
    int target, inflight, limit;
    int visibility_s;                   /* the queue's VisibilityTimeout */
    bool saturated, errored, throttled; /* since the last rescale */
    batch_t *filling;                   /* received, not yet invoked */
    sqs_waiter_t waiter;
    bool parked, pumping, again;
    uint64_t hold_until;     /* monotonic: nothing is received or invoked before */
    uint64_t access_checked; /* monotonic, 0 = never */
    char *problem;           /* why processing stopped, NULL when it runs */
    uint64_t backlog;
    uint64_t invocations, deleted, filtered, errors, throttles;
    run_t *next;
};

struct lambda_poller {
    lambda_service_t *svc;
    lambda_esm_reg_t *reg;
    uv_timer_t *timer;  /* NULL until started; freed by its close callback */
    uint64_t scaled_ms; /* monotonic: the last rescale */
    bool stopping;
    run_t *runs;
};

static const lambda_service_config_t *cfg(const lambda_poller_t *p)
{
    return lambda_service_config(p->svc);
}

static sqs_engine_t *engine(const lambda_poller_t *p)
{
    return cfg(p)->sqs ? sqs_service_engine(cfg(p)->sqs) : NULL;
}

static void ctx_of(const run_t *r, sqs_ctx_t *ctx)
{
    *ctx = (sqs_ctx_t){r->q.account, r->q.region, NULL, clock_wall_ms(), clock_mono_ms()};
}

static sqs_queue_ref_t ref_of(const run_t *r)
{
    return (sqs_queue_ref_t){r->q.account, r->q.name};
}

/* ---- runs ----------------------------------------------------------------------------------- */

static void waiter_cb(sqs_waiter_t *w);
static void read_queue(run_t *r);
static int limit_of(run_t *r);

/* The mapping's queue and filters as they are now (at creation and after each change). */
static void run_apply(run_t *r)
{
    aws_error_t err;
    if (sqs_arn_parse(r->m->source_arn, &r->q) < 0)
        memset(&r->q, 0, sizeof(r->q));
    lambda_filter_free(r->filter);
    r->filter = r->m->n_filters ? lambda_filter_compile((const char *const *)r->m->filters,
                                                        r->m->n_filters, &err)
                                : NULL;
    r->access_checked = 0;
    r->hold_until = 0;
    read_queue(r);
    r->limit = limit_of(r);
    r->target = r->target < r->limit ? r->target : r->limit;
}

static run_t *run_of(lambda_poller_t *p, lambda_esm_t *m)
{
    if (m->run)
        return m->run;
    run_t *r = xcalloc(1, sizeof(*r));
    r->p = p;
    r->m = m;
    r->target = ESM_SCALE_START;
    r->limit = ESM_SCALE_MAX;
    r->visibility_s = 30;
    r->waiter.cb = waiter_cb;
    r->waiter.data = r;
    run_apply(r);
    r->next = p->runs;
    p->runs = r;
    m->run = r;
    return r;
}

static void batch_free(batch_t *b)
{
    if (!b)
        return;
    for (size_t k = 0; k < b->n; k++) {
        free(b->items[k].id);
        free(b->items[k].handle);
        free(b->items[k].group);
    }
    free(b->items);
    buf_free(&b->payload);
    free(b);
}

static void unpark(run_t *r)
{
    if (r->parked)
        sqs_waiter_remove(&r->waiter);
    r->parked = false;
}

static void run_free(run_t *r)
{
    lambda_poller_t *p = r->p;
    for (run_t **pp = &p->runs; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    unpark(r);
    batch_free(r->filling);
    lambda_filter_free(r->filter);
    free(r->problem);
    free(r);
}

/* LastProcessingResult, journaled when it changes. */
static void set_result(run_t *r, const char *text)
{
    if (!r->m || (r->m->last_result && !strcmp(r->m->last_result, text)))
        return;
    lambda_esm_set_str(&r->m->last_result, text);
    lambda_esm_touch(r->p->reg, r->m);
}

/* Processing stops until the cause is gone: said once in nagare's log and in
 * LastProcessingResult; tried again after PROBLEM_RETRY_MS. */
__attribute__((format(printf, 2, 3))) static void problem(run_t *r, const char *fmt, ...)
{
    char msg[512], result[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!r->problem || strcmp(r->problem, msg))
        log_warn("lambda: event source mapping %s (%s → %s) stopped: %s", r->m->uuid,
                 r->m->source_arn, r->m->function_arn, msg);
    lambda_esm_set_str(&r->problem, msg);
    snprintf(result, sizeof(result), "PROBLEM: %s", msg);
    set_result(r, result);
    r->hold_until = clock_mono_ms() + PROBLEM_RETRY_MS;
    r->access_checked = 0;
    unpark(r);
}

/* The function version the mapping invokes, or NULL (a problem). */
static const lambda_conf_t *resolve(run_t *r, lambda_fn_t **fn)
{
    aws_error_t err;
    *fn = lambda_fn_get(lambda_service_reg(r->p->svc), r->m->account, r->m->region, r->m->name);
    const lambda_conf_t *v = *fn ? lambda_fn_resolve(*fn, r->m->qualifier, &err) : NULL;
    if (!v)
        problem(r, "Function not found: %s", r->m->function_arn);
    return v;
}

static const char *const needed[] = {"ReceiveMessage", "DeleteMessage", "GetQueueAttributes"};

/* Whether the execution role may still read and delete the queue's messages (checked
 * at most once per ACCESS_MS). */
static bool access_ok(run_t *r, const lambda_conf_t *v)
{
    uint64_t now = clock_mono_ms();
    if (r->access_checked && now - r->access_checked < ACCESS_MS)
        return !r->problem;
    r->access_checked = now;
    if (!engine(r->p) ||
        sqs_queue_info(engine(r->p), r->m->source_arn, &(sqs_queue_info_t){0}) < 0) {
        problem(r, "The event source queue %s does not exist.", r->m->source_arn);
        return false;
    }
    for (size_t k = 0; k < sizeof(needed) / sizeof(needed[0]); k++) {
        char action[40];
        snprintf(action, sizeof(action), "sqs:%s", needed[k]);
        if (!lambda_service_role_may(r->p->svc, r->m->account, r->m->region, r->m->name, v->role,
                                     action, r->m->source_arn, NULL)) {
            problem(r, "The function execution role does not have permissions to call %s on SQS",
                    needed[k]);
            return false;
        }
    }
    if (r->problem) {
        log_info("lambda: event source mapping %s resumes", r->m->uuid);
        lambda_esm_set_str(&r->problem, NULL);
        set_result(r, "OK");
    }
    return true;
}

/* ---- batches -------------------------------------------------------------------------------- */

static json_t *record_of(const run_t *r, const sqs_received_t *msg)
{
    json_t *attrs = json_object(), *mattrs = json_object();
    for (size_t k = 0; k < msg->sys_attrs.n; k++)
        json_object_set_new(attrs, msg->sys_attrs.items[k].name,
                            json_string(msg->sys_attrs.items[k].value));
    for (size_t k = 0; k < msg->n_attrs; k++) {
        const sqs_msg_attr_t *a = &msg->attrs[k];
        json_t *o = json_object();
        if (a->binary_value) {
            char *b64 = xmalloc(b64_encoded_len(a->binary_len) + 1);
            b64_encode_into(a->binary_value, a->binary_len, b64);
            json_object_set_new(o, "binaryValue", json_string(b64));
            free(b64);
        } else {
            json_object_set_new(o, "stringValue", json_string(a->string_value));
        }
        json_object_set_new(o, "stringListValues", json_array());
        json_object_set_new(o, "binaryListValues", json_array());
        json_object_set_new(o, "dataType", json_string(a->data_type));
        json_object_set_new(mattrs, a->name, o);
    }
    json_t *rec =
        json_pack("{s:s, s:s, s:s%, s:o, s:o, s:s}", "messageId", msg->message_id, "receiptHandle",
                  msg->receipt_handle, "body", msg->body, msg->body_len, "attributes", attrs,
                  "messageAttributes", mattrs, "md5OfBody", msg->md5_body);
    if (!rec) /* a body that is not UTF-8 cannot have been sent; be safe all the same */
        rec = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s}", "messageId", msg->message_id,
                        "receiptHandle", msg->receipt_handle, "body", "", "attributes", attrs,
                        "messageAttributes", mattrs, "md5OfBody", msg->md5_body);
    if (msg->md5_attrs[0])
        json_object_set_new(rec, "md5OfMessageAttributes", json_string(msg->md5_attrs));
    json_object_set_new(rec, "eventSource", json_string("aws:sqs"));
    json_object_set_new(rec, "eventSourceARN", json_string(r->m->source_arn));
    json_object_set_new(rec, "awsRegion", json_string(r->q.region));
    return rec;
}

static const char *sys_attr(const sqs_received_t *msg, const char *name)
{
    for (size_t k = 0; k < msg->sys_attrs.n; k++)
        if (!strcmp(msg->sys_attrs.items[k].name, name))
            return msg->sys_attrs.items[k].value;
    return NULL;
}

/* Deletes the messages whose handles are given (as the role, checked by access_ok). */
static void delete_handles(run_t *r, const char *const *handles, size_t n)
{
    if (!engine(r->p))
        return;
    sqs_ctx_t ctx;
    ctx_of(r, &ctx);
    static const char *const ids[SQS_BATCH_MAX] = {"0", "1", "2", "3", "4",
                                                   "5", "6", "7", "8", "9"};
    for (size_t at = 0; at < n; at += SQS_BATCH_MAX) {
        sqs_handle_entry_t e[SQS_BATCH_MAX];
        size_t m = n - at < SQS_BATCH_MAX ? n - at : SQS_BATCH_MAX;
        for (size_t k = 0; k < m; k++)
            e[k] = (sqs_handle_entry_t){ids[k], handles[at + k], 0};
        sqs_handle_in_t in = {ref_of(r), e, m, true};
        sqs_handle_out_t out;
        aws_error_t err;
        if (sqs_msg_delete(engine(r->p), &ctx, &in, &out, &err) < 0)
            continue;
        for (size_t k = 0; k < out.n; k++)
            r->deleted += out.errs[k].code == NULL;
    }
}

/* Gives a received message back at once (it does not fit the batch's payload). */
static void give_back(run_t *r, const char *handle)
{
    sqs_ctx_t ctx;
    ctx_of(r, &ctx);
    sqs_handle_entry_t e = {NULL, handle, 0};
    sqs_handle_in_t in = {ref_of(r), &e, 1, false};
    sqs_handle_out_t out;
    aws_error_t err;
    sqs_msg_visibility_change(engine(r->p), &ctx, &in, &out, &err);
}

static void batch_add(batch_t *b, const sqs_received_t *msg, const char *json, size_t len)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->items = xrealloc(b->items, b->cap * sizeof(*b->items));
    }
    const char *group = sys_attr(msg, "MessageGroupId");
    b->items[b->n++] = (item_t){xstrdup(msg->message_id), xstrdup(msg->receipt_handle),
                                group ? xstrdup(group) : NULL};
    if (b->n > 1)
        buf_append(&b->payload, ",", 1);
    buf_append(&b->payload, json, len);
}

/* Receives into b up to BatchSize or the payload limit. 0, or -1 when the queue is gone (a
 * problem). */
static int fill(run_t *r, batch_t *b)
{
    static const char *const all[] = {"All"};
    size_t want = (size_t)r->m->batch_size - b->n;
    uint64_t now = clock_mono_ms();
    while (want > 0 && !b->ready) {
        sqs_ctx_t ctx;
        ctx_of(r, &ctx);
        sqs_receive_in_t in = {
            ref_of(r), want < SQS_BATCH_MAX ? (int)want : SQS_BATCH_MAX, -1, 0, all, 1, all, 1,
            NULL};
        sqs_receive_out_t out;
        aws_error_t err;
        if (sqs_msg_receive(engine(r->p), &ctx, &in, &out, &err) < 0) {
            problem(r, "The event source queue %s does not exist.", r->m->source_arn);
            return -1;
        }
        if (out.n == 0) {
            sqs_receive_out_clear(&out);
            break;
        }
        const char *drop[SQS_BATCH_MAX];
        size_t n_drop = 0;
        for (size_t k = 0; k < out.n; k++) {
            const sqs_received_t *msg = &out.msgs[k];
            json_t *rec = record_of(r, msg);
            if (r->filter && !lambda_filter_match(r->filter, rec)) {
                /* filtered out: deleted without an invocation, as Lambda does */
                drop[n_drop++] = msg->receipt_handle;
                r->filtered++;
                json_decref(rec);
                continue;
            }
            char *json = json_dumps(rec, JSON_COMPACT);
            json_decref(rec);
            size_t len = strlen(json);
            if (b->ready || (b->n && b->payload.len + len + 3 > ESM_EVENT_MAX_BYTES)) {
                /* the payload is full: this message and the rest of this receive go back,
                 * in order (a FIFO group stays in sequence) */
                b->ready = true;
                give_back(r, msg->receipt_handle);
            } else {
                if (!b->n) {
                    b->deadline_ms = now + (uint64_t)r->m->window_s * 1000;
                    b->expires_ms = now + (uint64_t)r->visibility_s * 1000;
                }
                batch_add(b, msg, json, len);
            }
            free(json);
        }
        delete_handles(r, drop, n_drop);
        want = want > out.n ? want - out.n : 0;
        sqs_receive_out_clear(&out);
    }
    if (b->n >= (size_t)r->m->batch_size)
        b->ready = true;
    return 0;
}

static batch_t *batch_new(run_t *r)
{
    batch_t *b = xcalloc(1, sizeof(*b));
    b->run = r;
    b->report_failures = r->m->report_failures;
    b->fifo = r->m->fifo;
    buf_init(&b->payload, 0); /* bounded by fill() at ESM_EVENT_MAX_BYTES */
    buf_append(&b->payload, "{\"Records\":[", 12);
    return b;
}

/* ---- results -------------------------------------------------------------------------------- */

static void pump(run_t *r);

/* Which items failed by the function's response (ReportBatchItemFailures); false when the
 * whole batch failed. */
static bool partial(const batch_t *b, const lambda_result_t *res, bool fifo, bool *failed)
{
    const char **ids = xcalloc(b->n ? b->n : 1, sizeof(char *));
    const char **groups = xcalloc(b->n ? b->n : 1, sizeof(char *));
    for (size_t k = 0; k < b->n; k++) {
        ids[k] = b->items[k].id;
        groups[k] = b->items[k].group;
    }
    bool ok =
        lambda_esm_failures(res->payload, res->payload_len, ids, groups, b->n, fifo, failed) == 0;
    free(ids);
    free(groups);
    return ok;
}

static void on_result(void *ud, const lambda_result_t *res)
{
    batch_t *b = ud;
    run_t *r = b->run;
    r->inflight--;
    if (r->p->stopping) {
        batch_free(b); /* its messages come back after the visibility timeout */
        return;
    }
    bool *failed = xcalloc(b->n ? b->n : 1, sizeof(bool));
    bool ok = !res->function_error && (!b->report_failures || partial(b, res, b->fifo, failed));
    if (!ok) {
        /* the whole batch comes back after the visibility timeout */
        r->errors++;
        r->errored = true;
        set_result(r, "PROBLEM: Function call failed");
    } else {
        /* what was processed is deleted even if the mapping went meanwhile */
        const char **handles = xcalloc(b->n ? b->n : 1, sizeof(char *));
        size_t n = 0;
        for (size_t k = 0; k < b->n; k++)
            if (!failed[k])
                handles[n++] = b->items[k].handle;
        delete_handles(r, handles, n);
        free(handles);
        sqs_service_rearm(cfg(r->p)->sqs);
        set_result(r, "OK");
    }
    free(failed);
    batch_free(b);
    if (r->m)
        pump(r);
    else if (!r->inflight)
        run_free(r);
}

/* Invokes the function with b. 0 when it runs (b is the result's), 1 when throttled (b is
 * kept to try again), -1 when it cannot run (b freed; its messages come back). */
static int dispatch(run_t *r, batch_t *b, lambda_fn_t *fn, const lambda_conf_t *v)
{
    aws_error_t err;
    if (!b->closed) {
        buf_append(&b->payload, "]}", 2);
        b->closed = true;
    }
    aws_error_clear(&err);
    if (lambda_service_invoke(r->p->svc, fn, r->m->qualifier, v, b->payload.data, b->payload.len,
                              NULL, on_result, b, &err) == 0) {
        r->inflight++;
        r->invocations++;
        return 0;
    }
    if (err.status == 429) {
        uint64_t now = clock_mono_ms();
        uint64_t delay = (uint64_t)THROTTLE_MIN_MS << (b->throttled < 5 ? b->throttled : 5);
        delay = delay < THROTTLE_MAX_MS ? delay : THROTTLE_MAX_MS;
        r->throttles++;
        r->throttled = true;
        b->throttled++;
        r->hold_until = now + delay;
        if (now + delay < b->expires_ms)
            return 1;
    } else {
        problem(r, "%s", err.message);
    }
    batch_free(b); /* its messages come back after the visibility timeout */
    return -1;
}

/* ---- pumping -------------------------------------------------------------------------------- */

static bool active(const run_t *r)
{
    return r->m && !r->p->stopping && r->m->enabled && r->m->state == ESM_ENABLED && engine(r->p);
}

static void park(run_t *r)
{
    sqs_ctx_t ctx;
    aws_error_t err;
    sqs_queue_ref_t q = ref_of(r);
    if (r->parked)
        return;
    ctx_of(r, &ctx);
    if (sqs_waiter_add(engine(r->p), &ctx, &q, &r->waiter, &err) < 0)
        problem(r, "The event source queue %s does not exist.", r->m->source_arn);
    else
        r->parked = true;
}

static void pump_once(run_t *r)
{
    lambda_fn_t *fn;
    const lambda_conf_t *v;
    if (!active(r) || clock_mono_ms() < r->hold_until || !(v = resolve(r, &fn)) || !access_ok(r, v))
        return;
    while (r->inflight < r->target) {
        batch_t *b = r->filling ? r->filling : batch_new(r);
        r->filling = NULL;
        if (fill(r, b) < 0) {
            batch_free(b);
            break;
        }
        if (b->n == 0) {
            batch_free(b);
            park(r);
            break;
        }
        if (!b->ready && clock_mono_ms() < b->deadline_ms) {
            r->filling = b; /* the batching window is open: wait for more */
            park(r);
            break;
        }
        int rc = dispatch(r, b, fn, v);
        if (rc > 0)
            r->filling = b;
        if (rc != 0)
            break;
    }
    if (r->inflight >= r->target)
        r->saturated = true;
    sqs_service_rearm(cfg(r->p)->sqs);
}

/* Runs until nothing more can start; re-entered calls (an invocation that completes at
 * once, a waiter woken by our own give-back) run again after the current one. */
static void pump(run_t *r)
{
    if (r->pumping) {
        r->again = true;
        return;
    }
    r->pumping = true;
    do {
        r->again = false;
        pump_once(r);
    } while (r->again && r->m);
    r->pumping = false;
}

static void tick_cb(uv_timer_t *t);

/* Messages arrived (or the queue went): the next loop turn pumps, outside the engine call
 * that woke us (a send, a receive moving messages to this dead-letter queue, a delete). */
static void waiter_cb(sqs_waiter_t *w)
{
    run_t *r = w->data;
    r->parked = false;
    if (r->p->timer && !r->p->stopping)
        uv_timer_start(r->p->timer, tick_cb, 0, TICK_MS);
}

/* ---- the tick ------------------------------------------------------------------------------- */

static int limit_of(run_t *r)
{
    int limit = r->m->max_concurrency > 0 ? r->m->max_concurrency : ESM_SCALE_MAX;
    lambda_fn_t *fn =
        lambda_fn_get(lambda_service_reg(r->p->svc), r->m->account, r->m->region, r->m->name);
    if (fn && fn->reserved >= 0 && fn->reserved < limit)
        limit = fn->reserved;
    int account = cfg(r->p)->exec ? lambda_exec_max_concurrency(cfg(r->p)->exec) : limit;
    return account < limit ? account : limit;
}

/* The queue's backlog and visibility timeout. */
static void read_queue(run_t *r)
{
    static const char *const names[] = {"ApproximateNumberOfMessages", "VisibilityTimeout"};
    sqs_ctx_t ctx;
    sqs_kv_list_t out = {0};
    aws_error_t err;
    ctx_of(r, &ctx);
    sqs_attrs_get_in_t in = {ref_of(r), names, 2};
    if (!engine(r->p) || sqs_queue_attrs_get(engine(r->p), &ctx, &in, &out, &err) < 0)
        return;
    for (size_t k = 0; k < out.n; k++) {
        if (!strcmp(out.items[k].name, names[0]))
            r->backlog = strtoull(out.items[k].value, NULL, 10);
        else
            r->visibility_s = atoi(out.items[k].value);
    }
    sqs_kv_list_clear(&out);
}

static void rescale(run_t *r)
{
    read_queue(r);
    r->limit = limit_of(r);
    int t = r->target;
    if (r->errored || r->throttled)
        t = t / 2 > 1 ? t / 2 : 1;
    else if (r->backlog > 0 && r->saturated)
        t += ESM_SCALE_STEP;
    else if (r->backlog == 0 && r->inflight == 0)
        t = t / 2 > ESM_SCALE_START ? t / 2 : ESM_SCALE_START;
    t = t < r->limit ? t : r->limit;
    if (t != r->target)
        log_info("lambda: event source mapping %s: %d concurrent batches (was %d; %d in flight, "
                 "backlog %llu, limit %d)",
                 r->m->uuid, t, r->target, r->inflight, (unsigned long long)r->backlog, r->limit);
    r->target = t;
    r->errored = r->throttled = r->saturated = false;
}

/* Moves a mapping out of a passing State. false when it was removed. */
static bool settle(lambda_poller_t *p, lambda_esm_t *m)
{
    run_t *r = run_of(p, m);
    lambda_esm_state_t s = m->state;
    if (s == ESM_DELETING) {
        unpark(r);
        batch_free(r->filling); /* its messages come back after the visibility timeout */
        r->filling = NULL;
        r->m = NULL;
        m->run = NULL;
        lambda_esm_remove(p->reg, m);
        if (!r->inflight)
            run_free(r);
        return false;
    }
    if (s == ESM_CREATING || s == ESM_ENABLING || s == ESM_DISABLING || s == ESM_UPDATING)
        m->state = m->enabled ? ESM_ENABLED : ESM_DISABLED;
    if (m->state != s)
        lambda_esm_touch(p->reg, m);
    if (m->state == ESM_DISABLED) {
        unpark(r);
        batch_free(r->filling);
        r->filling = NULL;
    }
    return true;
}

static void tick_cb(uv_timer_t *t)
{
    lambda_poller_t *p = t->data;
    bool scale = clock_mono_ms() - p->scaled_ms >= SCALE_MS;
    if (scale)
        p->scaled_ms = clock_mono_ms();
    lambda_esm_t *m = lambda_esm_first(p->reg);
    while (m) {
        lambda_esm_t *next = lambda_esm_next(p->reg, m);
        if (settle(p, m)) {
            run_t *r = m->run;
            if (scale && active(r))
                rescale(r);
            uint64_t now = clock_mono_ms();
            if (active(r) && now >= r->hold_until &&
                (!r->parked || (r->filling && now >= r->filling->deadline_ms) || r->problem ||
                 (scale && r->inflight < r->target)))
                pump(r);
        }
        m = next;
    }
}

/* ---- life ----------------------------------------------------------------------------------- */

lambda_poller_t *lambda_poller_new(lambda_service_t *svc, lambda_esm_reg_t *reg)
{
    lambda_poller_t *p = xcalloc(1, sizeof(*p));
    p->svc = svc;
    p->reg = reg;
    return p;
}

void lambda_poller_start(lambda_poller_t *p, uv_loop_t *loop)
{
    if (p->timer || !loop)
        return;
    p->timer = xmalloc(sizeof(*p->timer));
    uv_timer_init(loop, p->timer);
    p->timer->data = p;
    uv_timer_start(p->timer, tick_cb, 0, TICK_MS);
    uv_unref((uv_handle_t *)p->timer);
}

void lambda_poller_kick(lambda_poller_t *p, lambda_esm_t *m)
{
    if (m->run)
        run_apply(m->run);
    if (p->timer && !p->stopping)
        uv_timer_start(p->timer, tick_cb, 0, TICK_MS);
}

static void timer_closed(uv_handle_t *h)
{
    free(h);
}

void lambda_poller_stop(lambda_poller_t *p)
{
    if (!p || p->stopping)
        return;
    p->stopping = true;
    for (run_t *r = p->runs; r; r = r->next) {
        unpark(r);
        batch_free(r->filling);
        r->filling = NULL;
    }
    if (p->timer)
        uv_close((uv_handle_t *)p->timer, timer_closed);
    p->timer = NULL;
}

void lambda_poller_free(lambda_poller_t *p)
{
    if (!p)
        return;
    while (p->runs) {
        run_t *r = p->runs;
        if (r->m)
            r->m->run = NULL;
        run_free(r);
    }
    free(p);
}

json_t *lambda_poller_status(lambda_poller_t *p)
{
    json_t *list = json_array();
    for (lambda_esm_t *m = lambda_esm_first(p->reg); m; m = lambda_esm_next(p->reg, m)) {
        const run_t *r = m->run;
        run_t zero = {0};
        if (!r)
            r = &zero;
        json_array_append_new(
            list,
            json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, "
                      "s:s?}",
                      "UUID", m->uuid, "FunctionArn", m->function_arn, "EventSourceArn",
                      m->source_arn, "State", lambda_esm_state_name(m->state), "concurrency",
                      r->inflight, "target", r->target, "limit", r->limit, "backlog",
                      (json_int_t)r->backlog, "invocations", (json_int_t)r->invocations,
                      "messagesDeleted", (json_int_t)r->deleted, "messagesFiltered",
                      (json_int_t)r->filtered, "functionErrors", (json_int_t)r->errors, "throttles",
                      (json_int_t)r->throttles, "lastProcessingResult", m->last_result));
    }
    return json_pack("{s:o}", "mappings", list);
}
