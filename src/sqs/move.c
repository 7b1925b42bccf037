/*
 * move — message move tasks: StartMessageMoveTask, ListMessageMoveTasks,
 * CancelMessageMoveTask (API in queue.h; private to the engine otherwise).
 *
 * A task moves the messages that were in a dead-letter queue when it started
 * (seq <= the task's mark) to a destination queue, or to each message's
 * original source queue, at its rate: every step (at least 100 ms apart) moves
 * up to rate × step messages, "system optimized" being 1000 messages/s. A moved
 * message is a fresh message in its destination (receive count cleared,
 * retention restarted). The task completes when no visible message under its
 * mark remains (messages in flight at that moment stay behind), fails when a
 * destination is missing, and may be cancelled while it runs.
 *
 * Tasks are journaled (SQS_KV_TASK) at start, after each step and when they
 * end. After a restart a RUNNING task resumes where it stood; the ten most
 * recent tasks of each source are kept for ListMessageMoveTasks.
 */
#include "sqs/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/ids.h"
#include "base/xalloc.h"

#define STEP_MS      100
#define DEFAULT_RATE 1000 /* messages/s when none is given */
#define RATE_MAX     500  /* MaxNumberOfMessagesPerSecond */
#define TASKS_KEPT   10   /* per source queue */

static const char *const STATUS[] = {"RUNNING", "COMPLETED", "CANCELLED", "FAILED"};
enum { T_RUNNING, T_COMPLETED, T_CANCELLED, T_FAILED };

struct move_task {
    char id[37];
    uint64_t source_qid;
    char source_arn[SQS_ARN_MAX];
    char *dest_arn; /* NULL: each message's source */
    int rate;       /* 0: not given */
    int status;
    char failure[64];
    uint64_t moved, to_move, mark;
    int64_t started_ms;
    int64_t next_mono; /* the next step */
    move_task_t *next; /* engine list, newest first */
};

/* AWS's TaskHandle is base64 of {"taskId":..,"sourceArn":..}: so is ours. */
static void handle_of(const move_task_t *t, char *out, size_t cap)
{
    char doc[SQS_ARN_MAX + 80];
    int n = snprintf(doc, sizeof(doc), "{\"taskId\":\"%s\",\"sourceArn\":\"%s\"}", t->id,
                     t->source_arn);
    if ((size_t)(4 * ((n + 2) / 3) + 1) > cap) {
        out[0] = 0;
        return;
    }
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)doc, n);
}

int sqs_move_handle_parse(const char *handle, char id[37], char *source_arn, size_t cap)
{
    unsigned char doc[SQS_ARN_MAX + 96];
    size_t len = handle ? strlen(handle) : 0;
    if (len == 0 || len % 4 || len / 4 * 3 >= sizeof(doc))
        return -1;
    int n = EVP_DecodeBlock(doc, (const unsigned char *)handle, (int)len);
    if (n < 0)
        return -1;
    doc[n] = 0;
    char arn[SQS_ARN_MAX];
    if (sscanf((const char *)doc, "{\"taskId\":\"%36[0-9a-f-]\",\"sourceArn\":\"%255[^\"]\"}", id,
               arn) != 2 ||
        strlen(id) != 36)
        return -1;
    snprintf(source_arn, cap, "%s", arn);
    return 0;
}

/* ---- journal ---- */

static void task_journal(sqs_engine_t *e, const move_task_t *t)
{
    char blob[SQS_ARN_MAX + 200];
    if (!e->j.kv_put)
        return;
    int n = snprintf(blob, sizeof(blob), "%d %llu %llu %llu %lld %d %llu %s %s", t->status,
                     (unsigned long long)t->moved, (unsigned long long)t->to_move,
                     (unsigned long long)t->mark, (long long)t->started_ms, t->rate,
                     (unsigned long long)t->source_qid, t->dest_arn ? t->dest_arn : "-",
                     t->failure[0] ? t->failure : "-");
    e->j.kv_put(e->j.ud, SQS_KV_TASK, t->id, blob, (size_t)n);
}

static void task_free(move_task_t *t)
{
    free(t->dest_arn);
    free(t);
}

/* Keeps the newest TASKS_KEPT tasks of t's source (t is the newest). */
static void tasks_prune(sqs_engine_t *e, const move_task_t *t)
{
    size_t seen = 0;
    for (move_task_t **pp = &e->tasks; *pp;) {
        move_task_t *x = *pp;
        if (x->source_qid != t->source_qid || ++seen <= TASKS_KEPT) {
            pp = &x->next;
            continue;
        }
        *pp = x->next;
        if (e->j.kv_delete)
            e->j.kv_delete(e->j.ud, SQS_KV_TASK, x->id);
        task_free(x);
    }
}

int move_task_restore(sqs_engine_t *e, const char *key, const void *blob, size_t len,
                      uint64_t mono_now)
{
    char text[SQS_ARN_MAX + 200], dest[SQS_ARN_MAX], failure[64];
    unsigned long long moved, to_move, mark, qid;
    long long started;
    int status, rate;
    if (len >= sizeof(text) || strlen(key) != 36)
        return -1;
    memcpy(text, blob, len);
    text[len] = 0;
    if (sscanf(text, "%d %llu %llu %llu %lld %d %llu %255s %63s", &status, &moved, &to_move, &mark,
               &started, &rate, &qid, dest, failure) != 9 ||
        status < T_RUNNING || status > T_FAILED || rate < 0 || rate > RATE_MAX || !time_ok(started))
        return -1;
    sqs_queue_t *q = qtable_get_id(e, qid);
    if (!q)
        return -1;
    move_task_t *t = xcalloc(1, sizeof(*t));
    memcpy(t->id, key, sizeof(t->id));
    t->source_qid = qid;
    queue_arn(q, t->source_arn, sizeof(t->source_arn));
    t->dest_arn = strcmp(dest, "-") ? xstrdup(dest) : NULL;
    t->rate = rate;
    t->status = status;
    snprintf(t->failure, sizeof(t->failure), "%s", strcmp(failure, "-") ? failure : "");
    t->moved = moved;
    t->to_move = to_move;
    t->mark = mark;
    t->started_ms = started;
    t->next_mono = (int64_t)mono_now;
    /* Newest first: restores come by id (random), so insert by start time. */
    move_task_t **pp = &e->tasks;
    while (*pp && (*pp)->started_ms > t->started_ms)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
    return 0;
}

/* ---- actions ---- */

static int rate_error(aws_error_t *err, int rate)
{
    return aws_error_set(err, 400, "InvalidParameterValue",
                         "Value %d for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: "
                         "Must be between 1 and %d.",
                         rate, RATE_MAX);
}

static bool is_dlq(const sqs_engine_t *e, const sqs_queue_t *q)
{
    char arn[SQS_ARN_MAX], target[SQS_ARN_MAX];
    int max;
    queue_arn(q, arn, sizeof(arn));
    for (const sqs_queue_t *s = e->all; s; s = s->all_next)
        if (s->val[QA_REDRIVE] &&
            redrive_parse(s->val[QA_REDRIVE], target, sizeof(target), &max) == 0 &&
            !strcmp(target, arn))
            return true;
    return false;
}

static sqs_queue_t *queue_of_arn(sqs_engine_t *e, const sqs_ctx_t *ctx, const char *arn,
                                 aws_error_t *err)
{
    sqs_arn_t a;
    sqs_queue_t *q = NULL;
    if (arn && sqs_arn_parse(arn, &a) == 0 && !strcmp(a.region, ctx->region))
        q = qtable_get(e, a.account, a.region, a.name);
    if (!q)
        aws_error_set(err, 400, "ResourceNotFoundException",
                      "The resource that you requested couldn't be found.");
    return q;
}

int sqs_move_start(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_move_in_t *in, char *handle,
                   size_t cap, aws_error_t *err)
{
    sqs_queue_t *src = queue_of_arn(e, ctx, in->source_arn, err), *dest = NULL;
    if (!src)
        return -1;
    if (in->dest_arn && !(dest = queue_of_arn(e, ctx, in->dest_arn, err)))
        return -1;
    if (in->rate < 0 || in->rate > RATE_MAX)
        return rate_error(err, in->rate);
    if (!is_dlq(e, src))
        return aws_error_set(err, 400, "InvalidParameterValue",
                             "Source queue must be configured as a Dead Letter Queue.");
    if (dest == src || (dest && queue_fifo(dest) != queue_fifo(src)))
        return aws_error_set(err, 400, "InvalidParameterValue",
                             "The destination queue must be another queue of the source's type.");
    for (const move_task_t *t = e->tasks; t; t = t->next)
        if (t->source_qid == src->id && t->status == T_RUNNING)
            return aws_error_set(err, 400, "InvalidParameterValue",
                                 "There is already a task running. Only one active task is "
                                 "allowed for a source queue arn at a given time.");
    queue_advance(e, src, ctx->mono_ms);
    move_task_t *t = xcalloc(1, sizeof(*t));
    ids_uuid4(t->id);
    t->source_qid = src->id;
    queue_arn(src, t->source_arn, sizeof(t->source_arn));
    if (dest) {
        char arn[SQS_ARN_MAX];
        queue_arn(dest, arn, sizeof(arn));
        t->dest_arn = xstrdup(arn);
    }
    t->rate = in->rate;
    t->to_move = src->visible.n + src->n_blocked + src->n_inflight + src->n_delayed;
    t->mark = e->next_seq - 1;
    t->started_ms = (int64_t)ctx->now_ms;
    t->next_mono = (int64_t)ctx->mono_ms;
    t->next = e->tasks;
    e->tasks = t;
    task_journal(e, t);
    tasks_prune(e, t);
    handle_of(t, handle, cap);
    return 0;
}

static void info_of(const move_task_t *t, sqs_move_info_t *o)
{
    memset(o, 0, sizeof(*o));
    if (t->status == T_RUNNING)
        handle_of(t, o->handle, sizeof(o->handle));
    o->status = STATUS[t->status];
    snprintf(o->source_arn, sizeof(o->source_arn), "%s", t->source_arn);
    snprintf(o->dest_arn, sizeof(o->dest_arn), "%s", t->dest_arn ? t->dest_arn : "");
    snprintf(o->failure, sizeof(o->failure), "%s", t->failure);
    o->rate = t->rate;
    o->moved = t->moved;
    o->to_move = t->to_move;
    o->started_ms = t->started_ms;
}

int sqs_move_list(sqs_engine_t *e, const sqs_ctx_t *ctx, const char *source_arn, int max_results,
                  sqs_move_info_t out[SQS_MOVE_LIST_MAX], size_t *n, aws_error_t *err)
{
    sqs_queue_t *src = queue_of_arn(e, ctx, source_arn, err);
    if (!src)
        return -1;
    if (max_results < 0 || max_results > SQS_MOVE_LIST_MAX)
        return aws_error_set(err, 400, "InvalidParameterValue",
                             "Value %d for parameter MaxResults is invalid. Reason: Must be "
                             "between 1 and %d.",
                             max_results, SQS_MOVE_LIST_MAX);
    size_t max = max_results ? (size_t)max_results : 1;
    *n = 0;
    for (const move_task_t *t = e->tasks; t && *n < max; t = t->next)
        if (t->source_qid == src->id)
            info_of(t, &out[(*n)++]);
    return 0;
}

int sqs_move_cancel(sqs_engine_t *e, const sqs_ctx_t *ctx, const char *handle, uint64_t *moved,
                    aws_error_t *err)
{
    char id[37], arn[SQS_ARN_MAX];
    (void)ctx;
    move_task_t *t = NULL;
    if (sqs_move_handle_parse(handle, id, arn, sizeof(arn)) == 0)
        for (t = e->tasks; t && strcmp(t->id, id); t = t->next)
            ;
    if (!t)
        return aws_error_set(err, 400, "ResourceNotFoundException",
                             "The resource that you requested couldn't be found.");
    if (t->status != T_RUNNING)
        return aws_error_set(err, 400, "InvalidParameterValue",
                             "Only a task whose status is RUNNING can be cancelled.");
    t->status = T_CANCELLED;
    task_journal(e, t);
    *moved = t->moved;
    return 0;
}

/* ---- running ---- */

static void task_end(sqs_engine_t *e, move_task_t *t, int status, const char *failure)
{
    t->status = status;
    snprintf(t->failure, sizeof(t->failure), "%s", failure ? failure : "");
    task_journal(e, t);
}

static void task_step(sqs_engine_t *e, move_task_t *t, uint64_t wall_now, uint64_t mono_now)
{
    sqs_queue_t *src = qtable_get_id(e, t->source_qid);
    sqs_ctx_t ctx = {.now_ms = wall_now, .mono_ms = mono_now};
    if (!src) {
        task_end(e, t, T_FAILED, "AWS.SimpleQueueService.NonExistentQueue");
        return;
    }
    queue_advance(e, src, mono_now);
    int rate = t->rate ? t->rate : DEFAULT_RATE;
    int64_t interval = rate >= 1000 / STEP_MS ? STEP_MS : 1000 / rate;
    long quota = (long)((rate * interval + 999) / 1000);
    while (quota-- > 0 && src->visible.n && src->visible.v[0]->seq <= t->mark) {
        sqs_msg_t *m = src->visible.v[0];
        const char *to = t->dest_arn ? t->dest_arn : m->dlq_source;
        sqs_queue_t *dest = to ? queue_by_arn(e, to) : NULL;
        if (!dest || dest == src) {
            task_end(e, t, T_FAILED,
                     to ? "AWS.SimpleQueueService.NonExistentQueue"
                        : "CouldNotDetermineMessageSource");
            return;
        }
        msg_move(e, &ctx, src, m, dest, false);
        t->moved++;
    }
    if (!src->visible.n || src->visible.v[0]->seq > t->mark) {
        task_end(e, t, T_COMPLETED, NULL);
        return;
    }
    t->next_mono = (int64_t)mono_now + interval;
    task_journal(e, t);
}

void move_tick(sqs_engine_t *e, uint64_t wall_now, uint64_t mono_now)
{
    for (move_task_t *t = e->tasks; t; t = t->next)
        if (t->status == T_RUNNING && t->next_mono <= (int64_t)mono_now)
            task_step(e, t, wall_now, mono_now);
}

int64_t move_deadline(const sqs_engine_t *e)
{
    int64_t d = INT64_MAX;
    for (const move_task_t *t = e->tasks; t; t = t->next)
        if (t->status == T_RUNNING && t->next_mono < d)
            d = t->next_mono;
    return d;
}

void move_forget_queue(sqs_engine_t *e, uint64_t qid)
{
    for (move_task_t **pp = &e->tasks; *pp;) {
        move_task_t *t = *pp;
        if (t->source_qid != qid) {
            pp = &t->next;
            continue;
        }
        *pp = t->next;
        if (e->j.kv_delete)
            e->j.kv_delete(e->j.ud, SQS_KV_TASK, t->id);
        task_free(t);
    }
}

void move_free_all(sqs_engine_t *e)
{
    while (e->tasks) {
        move_task_t *t = e->tasks;
        e->tasks = t->next;
        task_free(t);
    }
}
