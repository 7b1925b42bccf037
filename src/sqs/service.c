/*
 * service — binds the pure queue engine to the loop; see service.h.
 *
 * The engine reports mutations through its journal; here they go into the
 * store's current batch, and the gateway holds each response until its batch
 * is committed. One uv timer follows the engine's next deadline. A long poll
 * is an engine waiter plus a uv timer for its deadline.
 */
#include "sqs/service.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQS_MAX_BODY (4u * 1024 * 1024) /* 1 MiB of message, percent- or JSON-encoded */

typedef struct poll poll_t;

struct sqs_service {
    uv_loop_t *loop;
    iam_tag_t tags[SQS_TAGS_MAX]; /* sqs_resource_info's answer */
    store_t *store;
    sqs_engine_t *engine;
    aws_service_t gateway;
    uv_timer_t timer;
    uint64_t armed; /* mono ms the timer is set for, UINT64_MAX = idle */
    poll_t *polls;  /* parked long polls */
    bool stopping;  /* no new parking: shutdown answers long polls at once */
    void (*done)(void *ud);
    void *done_ud;
};

struct poll {
    sqs_waiter_t waiter;
    uv_timer_t timer;
    aws_call_t *call;
    sqs_service_t *svc;
    int (*retry)(aws_call_t *call, sqs_poll_event_t event);
    poll_t *prev, *next;
};

/* ---- journal → store ------------------------------------------------------- */

static store_msg_state_t state_of(const sqs_msg_state_t *s)
{
    return (store_msg_state_t){s->visible_at_ms, s->receive_count, s->first_receive_ms};
}

static void j_queue_put(void *ud, uint64_t id, const void *blob, size_t len)
{
    store_queue_put(ud, id, blob, len);
}

static void j_queue_delete(void *ud, uint64_t id)
{
    store_queue_delete(ud, id);
}

static void j_queue_purge(void *ud, uint64_t id, uint64_t max_seq)
{
    store_queue_purge(ud, id, max_seq);
}

static void j_msg_put(void *ud, uint64_t seq, uint64_t qid, const void *blob, size_t len,
                      const sqs_msg_state_t *st)
{
    store_msg_state_t s = state_of(st);
    store_msg_put(ud, seq, qid, blob, len, &s);
}

static void j_msg_state(void *ud, uint64_t seq, const sqs_msg_state_t *st)
{
    store_msg_state_t s = state_of(st);
    store_msg_state(ud, seq, &s);
}

static void j_msg_delete(void *ud, uint64_t seq)
{
    store_msg_delete(ud, seq);
}

static void j_kv_put(void *ud, const char *kind, const char *key, const void *blob, size_t len)
{
    store_kv_put(ud, kind, key, blob, len);
}

static void j_kv_delete(void *ud, const char *kind, const char *key)
{
    store_kv_delete(ud, kind, key);
}

/* ---- recovery --------------------------------------------------------------- */

typedef struct restore {
    sqs_engine_t *engine;
    uint64_t wall, mono;
    size_t queues, msgs, bad;
} restore_t;

static int r_queue(void *ud, uint64_t id, const void *blob, size_t len)
{
    restore_t *r = ud;
    if (sqs_queue_restore(r->engine, id, blob, len) < 0)
        r->bad++;
    else
        r->queues++;
    return 0;
}

static int r_msg(void *ud, uint64_t seq, uint64_t qid, const void *blob, size_t len,
                 const store_msg_state_t *st)
{
    restore_t *r = ud;
    sqs_msg_state_t s = {st->visible_at_ms, st->receive_count, st->first_receive_ms};
    if (sqs_msg_restore(r->engine, seq, qid, blob, len, &s, r->wall, r->mono) < 0)
        r->bad++;
    else
        r->msgs++;
    return 0;
}

static int r_kv(restore_t *r, const char *kind, const char *key, const void *blob, size_t len)
{
    if (sqs_kv_restore(r->engine, kind, key, blob, len, r->wall, r->mono) < 0)
        r->bad++;
    return 0;
}

static int r_dedup(void *ud, const char *key, const void *blob, size_t len)
{
    return r_kv(ud, SQS_KV_DEDUP, key, blob, len);
}

static int r_task(void *ud, const char *key, const void *blob, size_t len)
{
    return r_kv(ud, SQS_KV_TASK, key, blob, len);
}

/* ---- deadlines ------------------------------------------------------------------ */

static void tick_cb(uv_timer_t *t)
{
    sqs_service_t *svc = t->data;
    svc->armed = UINT64_MAX;
    sqs_engine_tick(svc->engine, clock_wall_ms(), clock_mono_ms());
    sqs_service_rearm(svc);
}

void sqs_service_rearm(sqs_service_t *svc)
{
    uint64_t next = sqs_engine_next_deadline(svc->engine);
    if (next == svc->armed)
        return;
    svc->armed = next;
    if (next == UINT64_MAX) {
        uv_timer_stop(&svc->timer);
        return;
    }
    uint64_t now = clock_mono_ms();
    uv_timer_start(&svc->timer, tick_cb, next > now ? next - now : 0, 0);
}

/* ---- long polls --------------------------------------------------------------------- */

static void poll_unlink(poll_t *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        p->svc->polls = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
}

static void poll_closed_cb(uv_handle_t *h)
{
    free(h->data);
}

/* Ends a poll: unparks it and runs the retry, which answers or parks anew. */
static void poll_fire(poll_t *p, sqs_poll_event_t event)
{
    aws_call_t *call = p->call;
    int (*retry)(aws_call_t *, sqs_poll_event_t) = p->retry;
    call->on_abort = NULL;
    call->parked = NULL;
    sqs_waiter_remove(&p->waiter);
    uv_timer_stop(&p->timer);
    poll_unlink(p);
    uv_close((uv_handle_t *)&p->timer, poll_closed_cb);
    if (retry(call, event) != AWS_CALL_PENDING)
        aws_call_finish(call);
}

static void poll_waiter_cb(sqs_waiter_t *w)
{
    poll_fire(w->data, SQS_POLL_WAKE);
}

static void poll_timer_cb(uv_timer_t *t)
{
    poll_fire(t->data, SQS_POLL_TIMEOUT);
}

static void poll_abort_cb(aws_call_t *call)
{
    poll_fire(call->parked, SQS_POLL_GONE);
}

int sqs_service_park(sqs_service_t *svc, aws_call_t *call, const sqs_queue_ref_t *q,
                     int wait_seconds, int (*retry)(aws_call_t *call, sqs_poll_event_t event))
{
    sqs_ctx_t ctx;
    if (svc->stopping)
        return retry(call, SQS_POLL_TIMEOUT);
    poll_t *p = xcalloc(1, sizeof(*p));
    sqs_service_ctx(call, &ctx);
    p->waiter.cb = poll_waiter_cb;
    p->waiter.data = p;
    if (sqs_waiter_add(svc->engine, &ctx, q, &p->waiter, &call->err) < 0) {
        free(p);
        return AWS_CALL_ERROR;
    }
    p->call = call;
    p->svc = svc;
    p->retry = retry;
    call->on_abort = poll_abort_cb;
    call->parked = p;
    /* The deadline counts from the request's arrival, not from this retry. */
    uint64_t end = call->mono_ms + (uint64_t)wait_seconds * 1000u, now = clock_mono_ms();
    uv_timer_init(svc->loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, poll_timer_cb, end > now ? end - now : 0, 0);
    p->next = svc->polls;
    if (p->next)
        p->next->prev = p;
    svc->polls = p;
    return AWS_CALL_PENDING;
}

void sqs_service_drain(sqs_service_t *svc)
{
    svc->stopping = true;
    while (svc->polls)
        poll_fire(svc->polls, SQS_POLL_TIMEOUT);
}

/* ---- the service ------------------------------------------------------------------------ */

void sqs_service_ctx(const aws_call_t *call, sqs_ctx_t *ctx)
{
    ctx->account = call->principal.account;
    ctx->region = call->region;
    ctx->sender_id = call->principal.user_id;
    ctx->now_ms = clock_wall_ms();
    ctx->mono_ms = clock_mono_ms();
}

/* The gateway's resource_info: a queue's Policy and tags for authorization. */
static void sqs_resource_info(void *state, const char *arn, aws_resource_info_t *out)
{
    sqs_service_t *svc = state;
    sqs_queue_info_t qi;
    memset(out, 0, sizeof(*out));
    if (sqs_queue_info(svc->engine, arn, &qi) < 0)
        return;
    out->policy = qi.policy;
    for (size_t i = 0; i < qi.n_tags && i < SQS_TAGS_MAX; i++)
        svc->tags[i] = (iam_tag_t){qi.tag_keys[i], qi.tag_values[i]};
    out->tags = svc->tags;
    out->n_tags = qi.n_tags < SQS_TAGS_MAX ? qi.n_tags : SQS_TAGS_MAX;
}

sqs_service_t *sqs_service_new(uv_loop_t *loop, store_t *st, char *errbuf, size_t errlen)
{
    sqs_service_t *svc = xcalloc(1, sizeof(*svc));
    sqs_journal_t j = {st,          j_queue_put,  j_queue_delete, j_queue_purge, j_msg_put,
                       j_msg_state, j_msg_delete, j_kv_put,       j_kv_delete};
    restore_t r = {0};
    svc->loop = loop;
    svc->store = st;
    svc->armed = UINT64_MAX;
    /* Restoring journals nothing: the records come from the store. */
    r.engine = sqs_engine_new(&j);
    r.wall = clock_wall_ms();
    r.mono = clock_mono_ms();
    store_load_cbs_t cbs = {r_queue, r_msg};
    if (store_load(st, &cbs, &r, errbuf, errlen) < 0 ||
        store_kv_load(st, SQS_KV_DEDUP, r_dedup, &r) < 0 ||
        store_kv_load(st, SQS_KV_TASK, r_task, &r) < 0) {
        sqs_engine_free(r.engine);
        free(svc);
        return NULL;
    }
    svc->engine = r.engine;
    if (r.queues || r.bad)
        log_info("sqs: restored %zu queues and %zu messages (%zu unreadable records skipped)",
                 r.queues, r.msgs, r.bad);
    svc->gateway = (aws_service_t){"sqs",        &model_sqs, sqs_actions,      sqs_n_actions,
                                   SQS_MAX_BODY, svc,        sqs_resource_info};
    uv_timer_init(loop, &svc->timer);
    svc->timer.data = svc;
    uv_unref((uv_handle_t *)&svc->timer);
    sqs_service_rearm(svc);
    return svc;
}

const aws_service_t *sqs_service_gateway(sqs_service_t *svc)
{
    return &svc->gateway;
}

sqs_engine_t *sqs_service_engine(sqs_service_t *svc)
{
    return svc->engine;
}

static void service_closed_cb(uv_handle_t *h)
{
    sqs_service_t *svc = h->data;
    void (*done)(void *) = svc->done;
    void *ud = svc->done_ud;
    sqs_engine_free(svc->engine);
    free(svc);
    if (done)
        done(ud);
}

void sqs_service_free(sqs_service_t *svc, void (*done)(void *ud), void *ud)
{
    sqs_service_drain(svc);
    svc->done = done;
    svc->done_ud = ud;
    uv_close((uv_handle_t *)&svc->timer, service_closed_cb);
}
