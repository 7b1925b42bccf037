/*
 * events — asynchronous invocations on the loop; see events.h.
 *
 * One timer, armed for the earliest due event (wall clock: the due times are
 * journaled and must mean the same after a restart). When it fires, every
 * due event is handed to the executor; its result is reported to the engine,
 * which says whether to retry or deliver. Destinations follow AWS's record
 * format ("Configuring destinations for asynchronous invocation"):
 *
 *   {"version":"1.0","timestamp":"...Z","requestContext":{"requestId",
 *    "functionArn","condition","approximateInvokeCount"},"requestPayload":...,
 *    "responseContext":{"statusCode","executedVersion","functionError"},
 *    "responsePayload":...}
 *
 * and the dead-letter queue gets the event itself with the message
 * attributes RequestID, ErrorCode and ErrorMessage. Lambda sends them as the
 * function's execution role, so each send is authorized as a session of that
 * role (sqs:SendMessage on the queue, lambda:InvokeFunction on the function,
 * with the target's resource policy); a refusal drops the record and says so
 * in nagare's log, as AWS drops it.
 */
#include "lambda/events.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/ids.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENT_KIND "lambda-event"
#define EIC_KIND   "lambda-eic"

struct lambda_events {
    lambda_service_t *svc;
    lambda_async_t *as;
    uv_timer_t *timer; /* NULL until started; freed by its close callback */
    bool stopping;
};

typedef struct run {
    lambda_events_t *e;
    lambda_event_t *ev;
} run_t;

static const lambda_service_config_t *cfg(const lambda_events_t *e)
{
    return lambda_service_config(e->svc);
}

/* ---- journal ------------------------------------------------------------------------------ */

static void event_key(const lambda_event_t *ev, char *key, size_t cap)
{
    snprintf(key, cap, "%016llx", (unsigned long long)ev->id);
}

static void eic_key(const lambda_eic_t *c, char *key, size_t cap)
{
    snprintf(key, cap, "%s/%s/%s/%s", c->account, c->region, c->name, c->qualifier);
}

static void j_event_put(void *ud, const lambda_event_t *ev)
{
    lambda_events_t *e = ud;
    char key[32];
    size_t len;
    char *blob = lambda_event_record(ev, &len);
    event_key(ev, key, sizeof(key));
    store_kv_put(cfg(e)->store, EVENT_KIND, key, blob, len);
    free(blob);
}

static void j_event_del(void *ud, const lambda_event_t *ev)
{
    lambda_events_t *e = ud;
    char key[32];
    event_key(ev, key, sizeof(key));
    store_kv_delete(cfg(e)->store, EVENT_KIND, key);
}

static void j_eic_put(void *ud, const lambda_eic_t *c)
{
    lambda_events_t *e = ud;
    char key[256];
    size_t len;
    char *blob = lambda_eic_record(c, &len);
    eic_key(c, key, sizeof(key));
    store_kv_put(cfg(e)->store, EIC_KIND, key, blob, len);
    free(blob);
}

static void j_eic_del(void *ud, const lambda_eic_t *c)
{
    lambda_events_t *e = ud;
    char key[256];
    eic_key(c, key, sizeof(key));
    store_kv_delete(cfg(e)->store, EIC_KIND, key);
}

static int restore_event_cb(void *ud, const char *key, const void *blob, size_t len)
{
    if (lambda_async_restore_event(ud, blob, len) < 0)
        log_warn("lambda: skipping an unreadable event record (%s)", key);
    return 0;
}

static int restore_eic_cb(void *ud, const char *key, const void *blob, size_t len)
{
    if (lambda_async_restore_eic(ud, blob, len) < 0)
        log_warn("lambda: skipping an unreadable event invoke config record (%s)", key);
    return 0;
}

lambda_events_t *lambda_events_new(lambda_service_t *svc, char *errbuf, size_t errlen)
{
    lambda_events_t *e = xcalloc(1, sizeof(*e));
    e->svc = svc;
    double scale = cfg(e)->retry_scale > 0 ? cfg(e)->retry_scale : 1.0;
    lambda_async_journal_t j = {e, j_event_put, j_event_del, j_eic_put, j_eic_del};
    e->as = lambda_async_new(&j, scale);
    if (store_kv_load(cfg(e)->store, EIC_KIND, restore_eic_cb, e->as) < 0 ||
        store_kv_load(cfg(e)->store, EVENT_KIND, restore_event_cb, e->as) < 0) {
        snprintf(errbuf, errlen, "lambda: cannot read the asynchronous invocation records");
        lambda_events_free(e);
        return NULL;
    }
    if (lambda_async_count(e->as))
        log_info("lambda: %zu asynchronous invocations pending", lambda_async_count(e->as));
    return e;
}

lambda_async_t *lambda_events_engine(lambda_events_t *e)
{
    return e->as;
}

/* ---- the timer ---------------------------------------------------------------------------- */

static void timer_cb(uv_timer_t *t);

static void arm(lambda_events_t *e)
{
    if (!e->timer || e->stopping)
        return;
    uint64_t due = lambda_async_next_due(e->as), now = clock_wall_ms();
    if (due == UINT64_MAX)
        uv_timer_stop(e->timer);
    else
        uv_timer_start(e->timer, timer_cb, due > now ? due - now : 0, 0);
}

static void kick_cb(void *ud, int status)
{
    (void)status; /* a failed commit is logged by the store; the event is in memory anyway */
    arm(ud);
}

void lambda_events_enqueue(lambda_events_t *e, const char *account, const char *region,
                           const char *name, const char *qualifier, const char *request_id,
                           const void *payload, size_t len, uint64_t now_ms)
{
    lambda_async_enqueue(e->as, account, region, name, qualifier, request_id, payload, len, now_ms);
    store_when_durable(cfg(e)->store, kick_cb, e);
}

void lambda_events_start(lambda_events_t *e, uv_loop_t *loop)
{
    if (e->timer || !loop)
        return;
    e->timer = xmalloc(sizeof(*e->timer));
    uv_timer_init(loop, e->timer);
    e->timer->data = e;
    arm(e);
}

static void timer_close_cb(uv_handle_t *h)
{
    free(h);
}

void lambda_events_stop(lambda_events_t *e)
{
    e->stopping = true;
    if (e->timer)
        uv_close((uv_handle_t *)e->timer, timer_close_cb);
    e->timer = NULL;
}

void lambda_events_free(lambda_events_t *e)
{
    if (!e)
        return;
    lambda_async_free(e->as);
    free(e);
}

bool lambda_events_may_deliver(lambda_events_t *e, const char *account, const char *region,
                               const char *name, const char *role_arn, const char *arn)
{
    const char *action =
        !strncmp(arn, "arn:aws:lambda:", 15) ? "lambda:InvokeFunction" : "sqs:SendMessage";
    return lambda_service_role_may(e->svc, account, region, name, role_arn, action, arn, NULL);
}

/* ---- delivery ----------------------------------------------------------------------------- */

typedef struct delivery {
    const lambda_fn_t *fn;
    const lambda_conf_t *v;
    const lambda_event_t *ev;
    iam_principal_t who;
    const char *what; /* "OnSuccess", "OnFailure", "dead-letter" for the log */
} delivery_t;

static void dropped(const delivery_t *d, const char *target, const char *why)
{
    log_warn("lambda: %s record of %s (request %s) to %s dropped: %s", d->what, d->fn->name,
             d->ev->request_id, target, why);
}

static void to_queue(lambda_events_t *e, const delivery_t *d, const char *arn, const char *body,
                     size_t len, const sqs_msg_attr_t *attrs, size_t n_attrs)
{
    sqs_arn_t a;
    sqs_queue_info_t qi;
    buf_t why;
    buf_init(&why, 2048);
    sqs_engine_t *q = cfg(e)->sqs ? sqs_service_engine(cfg(e)->sqs) : NULL;
    if (!q || sqs_arn_parse(arn, &a) < 0 || sqs_queue_info(q, arn, &qi) < 0) {
        dropped(d, arn, "the queue does not exist");
        goto out;
    }
    if (!lambda_service_role_may(e->svc, d->fn->account, d->fn->region, d->fn->name, d->v->role,
                                 "sqs:SendMessage", arn, &why)) {
        dropped(d, arn, why.data ? why.data : "access denied");
        goto out;
    }
    sqs_ctx_t ctx = {a.account, a.region, d->who.user_id, clock_wall_ms(), clock_mono_ms()};
    sqs_send_entry_t entry = {
        .body = body, .body_len = len, .delay_seconds = -1, .attrs = attrs, .n_attrs = n_attrs};
    sqs_send_in_t in = {{a.account, a.name}, &entry, 1, false};
    sqs_send_out_t out;
    aws_error_t err;
    if (sqs_msg_send(q, &ctx, &in, &out, &err) < 0)
        dropped(d, arn, err.message);
    else if (out.results[0].err.code)
        dropped(d, arn, out.results[0].err.message);
    sqs_service_rearm(cfg(e)->sqs);
out:
    buf_free(&why);
}

static void to_function(lambda_events_t *e, const delivery_t *d, const char *arn, const char *body,
                        size_t len)
{
    lambda_ref_t ref;
    aws_error_t err;
    buf_t why;
    buf_init(&why, 2048);
    lambda_fn_t *target =
        lambda_ref_parse(arn, NULL, &ref, &err) == 0
            ? lambda_fn_find(lambda_service_reg(e->svc), &ref, d->fn->account, d->fn->region, &err)
            : NULL;
    if (!target || !lambda_fn_resolve(target, ref.qualifier, &err)) {
        dropped(d, arn, "the function does not exist");
        goto out;
    }
    if (!lambda_service_role_may(e->svc, d->fn->account, d->fn->region, d->fn->name, d->v->role,
                                 "lambda:InvokeFunction", arn, &why)) {
        dropped(d, arn, why.data ? why.data : "access denied");
        goto out;
    }
    char rid[37];
    ids_uuid4(rid);
    lambda_events_enqueue(e, target->account, target->region, target->name, ref.qualifier, rid,
                          body, len, clock_wall_ms());
out:
    buf_free(&why);
}

static void send_record(lambda_events_t *e, const delivery_t *d, const char *arn, const char *body,
                        size_t len)
{
    if (!strncmp(arn, "arn:aws:sqs:", 12))
        to_queue(e, d, arn, body, len, NULL, 0);
    else if (!strncmp(arn, "arn:aws:lambda:", 15))
        to_function(e, d, arn, body, len);
    else
        dropped(d, arn, "nagare delivers to SQS queues and Lambda functions only");
}

static json_t *json_or_string(const char *s, size_t len)
{
    json_error_t jerr;
    json_t *j = len ? json_loadb(s, len, JSON_DECODE_ANY, &jerr) : json_null();
    return j ? j : json_stringn(s, len);
}

static json_t *iso_now(void)
{
    char b[40];
    uint64_t ms = clock_wall_ms();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(b + n, sizeof(b) - n, ".%03uZ", (unsigned)(ms % 1000));
    return json_string(b);
}

/* AWS's destination record; r is the last attempt's result (NULL: none ran). */
static char *record_of(const delivery_t *d, const char *condition, const lambda_result_t *r,
                       size_t *len)
{
    char arn[240];
    snprintf(arn, sizeof(arn), "%s:%s", d->fn->arn, d->v->version);
    json_t *doc =
        json_pack("{s:s, s:o, s:{s:s, s:s, s:s, s:i}, s:o}", "version", "1.0", "timestamp",
                  iso_now(), "requestContext", "requestId", d->ev->request_id, "functionArn", arn,
                  "condition", condition, "approximateInvokeCount", (int)d->ev->attempts,
                  "requestPayload", json_or_string(d->ev->payload, d->ev->len));
    if (r) {
        json_t *rc =
            json_pack("{s:i, s:s}", "statusCode", r->status ? r->status : 200, "executedVersion",
                      r->executed_version ? r->executed_version : d->v->version);
        if (r->function_error)
            json_object_set_new(rc, "functionError", json_string(r->function_error));
        json_object_set_new(doc, "responseContext", rc);
        json_object_set_new(doc, "responsePayload", json_or_string(r->payload, r->payload_len));
    }
    char *s = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(doc);
    *len = strlen(s);
    return s;
}

/* The dead-letter queue gets the event itself, with why it failed. */
static void to_dlq(lambda_events_t *e, const delivery_t *d, const lambda_result_t *r)
{
    char code[8], msg[1025];
    snprintf(code, sizeof(code), "%d", r && r->status ? r->status : 200);
    snprintf(msg, sizeof(msg), "%.*s", r ? (int)(r->payload_len < 1024 ? r->payload_len : 1024) : 0,
             r && r->payload ? r->payload : "");
    if (!r)
        snprintf(msg, sizeof(msg), "Event age exceeded");
    sqs_msg_attr_t attrs[3] = {
        {"RequestID", "String", d->ev->request_id, NULL, 0},
        {"ErrorCode", "Number", code, NULL, 0},
        {"ErrorMessage", "String", msg, NULL, 0},
    };
    to_queue(e, d, d->v->dlq_arn, d->ev->payload ? d->ev->payload : "", d->ev->len, attrs, 3);
}

static void deliver(lambda_events_t *e, const lambda_event_t *ev, const char *condition,
                    const lambda_result_t *r)
{
    aws_error_t err;
    lambda_fn_t *fn = lambda_fn_get(lambda_service_reg(e->svc), ev->account, ev->region, ev->name);
    const lambda_conf_t *v = fn ? lambda_fn_resolve(fn, ev->qualifier, &err) : NULL;
    if (!v || !v->role)
        return;
    bool ok = !strcmp(condition, "Success");
    const lambda_eic_t *c = lambda_eic_get(e->as, ev->account, ev->region, ev->name, ev->qualifier);
    const char *dest = c ? (ok ? c->on_success : c->on_failure) : NULL;
    delivery_t d = {fn, v, ev, {0}, ok ? "OnSuccess" : "OnFailure"};
    iam_principal_role_session(&d.who, fn->account, v->role, fn->name);
    if (!ok)
        log_info("lambda: asynchronous invocation %s of %s failed (%s after %u attempts)",
                 ev->request_id, fn->name, condition, ev->attempts);
    if (dest) {
        size_t len;
        char *body = record_of(&d, condition, r, &len);
        send_record(e, &d, dest, body, len);
        free(body);
    }
    if (!ok && v->dlq_arn) {
        d.what = "dead-letter";
        to_dlq(e, &d, r);
    }
}

/* ---- running ------------------------------------------------------------------------------ */

static const char *const conditions[] = {
    [LAMBDA_VERDICT_SUCCESS] = "Success",
    [LAMBDA_VERDICT_EXHAUSTED] = "RetriesExhausted",
    [LAMBDA_VERDICT_AGED] = "EventAgeExceeded",
};

static void outcome(lambda_events_t *e, lambda_event_t *ev, lambda_outcome_t oc,
                    const lambda_result_t *r)
{
    lambda_verdict_t v = lambda_async_report(e->as, ev, oc, clock_wall_ms());
    if (v != LAMBDA_VERDICT_RETRY) {
        deliver(e, ev, conditions[v], r);
        lambda_async_finish(e->as, ev);
    }
    arm(e);
}

static void result_cb(void *ud, const lambda_result_t *r)
{
    run_t *run = ud;
    lambda_events_t *e = run->e;
    lambda_event_t *ev = run->ev;
    free(run);
    if (e->stopping) { /* stays pending in the store: resumed at the next start */
        lambda_async_release(e->as, ev);
        return;
    }
    outcome(e, ev, r->function_error ? LAMBDA_OUTCOME_ERROR : LAMBDA_OUTCOME_SUCCESS, r);
}

static void run_event(lambda_events_t *e, lambda_event_t *ev, bool aged)
{
    aws_error_t err;
    lambda_fn_t *fn = lambda_fn_get(lambda_service_reg(e->svc), ev->account, ev->region, ev->name);
    const lambda_conf_t *v = fn ? lambda_fn_resolve(fn, ev->qualifier, &err) : NULL;
    if (aged || !v) {
        if (!v)
            log_warn("lambda: dropping asynchronous invocation %s: function %s%s%s is gone",
                     ev->request_id, ev->name, ev->qualifier[0] ? ":" : "", ev->qualifier);
        else
            deliver(e, ev, "EventAgeExceeded", NULL);
        lambda_async_finish(e->as, ev);
        return;
    }
    run_t *run = xmalloc(sizeof(*run));
    *run = (run_t){e, ev};
    if (lambda_service_invoke(e->svc, fn, ev->qualifier, v, ev->payload, ev->len, NULL, result_cb,
                              run, &err) < 0) {
        free(run);
        outcome(e, ev,
                err.code && !strcmp(err.code, "TooManyRequestsException") ? LAMBDA_OUTCOME_THROTTLE
                                                                          : LAMBDA_OUTCOME_ERROR,
                NULL);
    }
}

static void timer_cb(uv_timer_t *t)
{
    lambda_events_t *e = t->data;
    lambda_event_t *ev;
    bool aged;
    while (!e->stopping && (ev = lambda_async_take(e->as, clock_wall_ms(), &aged)))
        run_event(e, ev, aged);
    arm(e);
}
