/*
 * queue — the SQS engine: queues, time and long-poll waiters (API in queue.h).
 *
 * This file holds the engine object and the queue-level actions (CreateQueue,
 * GetQueueUrl, ListQueues, DeleteQueue, PurgeQueue, attributes, tags), the clock
 * work shared by every action (queue_advance: timers due -> visible, retention
 * expiry) and waiter wake-ups. Message actions live in msg.c, value rules in
 * attrs.c/msgattrs.c, blobs in codec.c, containers in store.c.
 *
 * Every message action first advances its queue to the caller's mono time, so
 * results are exact even when sqs_engine_tick() runs late; tick only matters
 * for waking long pollers and for expiring messages of idle queues.
 */
#include "sqs/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* ---- engine ---- */

sqs_engine_t *sqs_engine_new(const sqs_journal_t *journal)
{
    sqs_engine_t *e = xcalloc(1, sizeof(*e));
    if (journal)
        e->j = *journal;
    e->next_qid = 1;
    e->next_seq = 1;
    return e;
}

void sqs_engine_free(sqs_engine_t *e)
{
    if (!e)
        return;
    while (e->all) {
        sqs_queue_t *q = e->all;
        qtable_del(e, q);
        queue_free(q);
    }
    free(e->buckets);
    move_free_all(e);
    size_t pos = 0;
    const strmap_slot_t *s;
    while ((s = strmap_next(&e->deleted, &pos)))
        free(s->val);
    strmap_free(&e->deleted);
    free(e);
}

void msg_free(sqs_msg_t *m)
{
    free(m->body);
    msg_attrs_free(m->attrs, m->n_attrs);
    free(m->sender_id);
    free(m->trace_header);
    free(m->group_id);
    free(m->dedup_id);
    free(m->dlq_source);
    free(m);
}

void queue_free(sqs_queue_t *q)
{
    for (sqs_msg_t *m = q->age_head, *next; m; m = next) {
        next = m->age_next;
        msg_free(m);
    }
    while (q->waiters)
        sqs_waiter_remove(q->waiters);
    fifo_free(NULL, q, false);
    heap_free(&q->visible);
    heap_free(&q->timers);
    map_free(&q->by_seq);
    for (int i = 0; i < QA_COUNT; i++)
        free(q->val[i]);
    for (size_t i = 0; i < q->n_tags; i++) {
        free(q->tag_keys[i]);
        free(q->tag_vals[i]);
    }
    free(q->tag_keys);
    free(q->tag_vals);
    free(q->account);
    free(q->region);
    free(q->name);
    free(q);
}

int64_t mono_to_wall(int64_t mono, uint64_t wall_now, uint64_t mono_now)
{
    return mono - (int64_t)mono_now + (int64_t)wall_now;
}

void queue_journal_put(sqs_engine_t *e, const sqs_queue_t *q)
{
    if (!e->j.queue_put)
        return;
    size_t len;
    void *blob = queue_blob(q, &len);
    e->j.queue_put(e->j.ud, q->id, blob, len);
    free(blob);
}

sqs_queue_t *queue_find(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_ref_t *ref,
                        aws_error_t *err)
{
    const char *account = ref->account ? ref->account : ctx->account;
    sqs_queue_t *q = ref->name ? qtable_get(e, account, ctx->region, ref->name) : NULL;
    if (!q)
        aws_error_set2(err, 400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
                       "The specified queue does not exist.");
    return q;
}

/* ---- messages in a queue ---- */

/* Takes m out of the heap and counters of its state (m->where). */
static void msg_leave(sqs_queue_t *q, sqs_msg_t *m)
{
    switch (m->where) {
    case MSG_VISIBLE:
        heap_remove(&q->visible, m);
        break;
    case MSG_BLOCKED:
        q->n_blocked--;
        break;
    case MSG_DELAYED:
        q->n_delayed--;
        heap_remove(&q->timers, m);
        break;
    case MSG_INFLIGHT:
        q->n_inflight--;
        heap_remove(&q->timers, m);
        if (m->group)
            m->group->n_inflight--;
        break;
    }
}

/* Puts m into state where (m->due_mono set for the timed states). A visible
 * FIFO message starts blocked; fifo_settle decides whether it may deliver. */
static void msg_enter(sqs_queue_t *q, sqs_msg_t *m, int where)
{
    m->where = (uint8_t)where;
    switch (where) {
    case MSG_VISIBLE:
    case MSG_BLOCKED:
        if (m->group) {
            m->where = MSG_BLOCKED;
            q->n_blocked++;
        } else {
            m->where = MSG_VISIBLE;
            heap_push(&q->visible, m);
        }
        break;
    case MSG_DELAYED:
        q->n_delayed++;
        heap_push(&q->timers, m);
        break;
    case MSG_INFLIGHT:
        q->n_inflight++;
        heap_push(&q->timers, m);
        if (m->group)
            m->group->n_inflight++;
        break;
    }
}

void queue_msg_set(sqs_queue_t *q, sqs_msg_t *m, int where)
{
    msg_leave(q, m);
    msg_enter(q, m, where);
    if (m->group)
        fifo_settle(q, m->group);
}

void queue_msg_link(sqs_queue_t *q, sqs_msg_t *m)
{
    map_put(&q->by_seq, m);
    /* The age list is in enqueue order (ties by seq). Sends append; restores
     * and dead-letter moves may land earlier. */
    sqs_msg_t *after = q->age_tail;
    while (after && (after->sent_mono > m->sent_mono ||
                     (after->sent_mono == m->sent_mono && after->seq > m->seq)))
        after = after->age_prev;
    m->age_prev = after;
    m->age_next = after ? after->age_next : q->age_head;
    if (m->age_next)
        m->age_next->age_prev = m;
    else
        q->age_tail = m;
    if (after)
        after->age_next = m;
    else
        q->age_head = m;
    if (queue_fifo(q))
        fifo_link(q, m);
    msg_enter(q, m, m->where);
    if (m->group)
        fifo_settle(q, m->group);
}

void queue_msg_unlink(sqs_engine_t *e, sqs_queue_t *q, sqs_msg_t *m)
{
    msg_leave(q, m);
    if (m->group)
        fifo_unlink(q, m);
    map_del(&q->by_seq, m->seq);
    if (m->age_prev)
        m->age_prev->age_next = m->age_next;
    else
        q->age_head = m->age_next;
    if (m->age_next)
        m->age_next->age_prev = m->age_prev;
    else
        q->age_tail = m->age_prev;
    m->age_prev = m->age_next = NULL;
    if (e && e->j.msg_delete)
        e->j.msg_delete(e->j.ud, m->seq);
}

void queue_msg_drop(sqs_engine_t *e, sqs_queue_t *q, sqs_msg_t *m, bool journal)
{
    queue_msg_unlink(journal ? e : NULL, q, m);
    msg_free(m);
}

void msg_state_of(const sqs_msg_t *m, uint64_t wall_now, uint64_t mono_now, sqs_msg_state_t *st)
{
    st->visible_at_ms = mono_to_wall(m->due_mono, wall_now, mono_now);
    st->receive_count = m->receive_count;
    st->first_receive_ms = m->first_receive_ms;
}

void queue_advance(sqs_engine_t *e, sqs_queue_t *q, uint64_t mono_now)
{
    int64_t now = (int64_t)mono_now;
    int64_t keep = (int64_t)q->ival[QA_RETENTION] * 1000;
    bool woke = false;
    while (q->timers.n && q->timers.v[0]->due_mono <= now) {
        queue_msg_set(q, q->timers.v[0], MSG_VISIBLE);
        woke = true;
    }
    while (q->age_head && q->age_head->sent_mono + keep <= now)
        queue_msg_drop(e, q, q->age_head, true);
    if (queue_fifo(q))
        fifo_expire(e, q, now);
    if (woke)
        queue_wake(q);
}

/* ---- time ---- */

static int64_t queue_deadline(const sqs_queue_t *q)
{
    int64_t d = INT64_MAX;
    if (q->timers.n)
        d = q->timers.v[0]->due_mono;
    if (q->age_head) {
        int64_t exp = q->age_head->sent_mono + (int64_t)q->ival[QA_RETENTION] * 1000;
        d = exp < d ? exp : d;
    }
    int64_t f = fifo_deadline(q);
    return f < d ? f : d;
}

uint64_t sqs_engine_next_deadline(const sqs_engine_t *e)
{
    int64_t d = move_deadline(e);
    for (const sqs_queue_t *q = e->all; q; q = q->all_next) {
        int64_t qd = queue_deadline(q);
        d = qd < d ? qd : d;
    }
    if (d == INT64_MAX)
        return UINT64_MAX;
    return d < 0 ? 0 : (uint64_t)d;
}

void sqs_engine_tick(sqs_engine_t *e, uint64_t wall_now, uint64_t mono_now)
{
    for (sqs_queue_t *q = e->all, *next; q; q = next) {
        next = q->all_next;
        if (queue_deadline(q) <= (int64_t)mono_now)
            queue_advance(e, q, mono_now);
    }
    move_tick(e, wall_now, mono_now);
}

/* ---- waiters ---- */

static void waiter_unlink(sqs_waiter_t *w)
{
    sqs_queue_t *q = w->queue;
    if (w->prev)
        w->prev->next = w->next;
    else
        q->waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
    w->queue = NULL;
}

void queue_wake(sqs_queue_t *q)
{
    /* Wake waiters one at a time while messages remain visible: a callback that
     * receives at once takes its messages before the next is woken, so one send
     * does not stampede every poller. Bounded by the count at entry because
     * callbacks may park themselves again. */
    size_t budget = 0;
    for (sqs_waiter_t *w = q->waiters; w; w = w->next)
        budget++;
    while (budget-- && q->waiters && q->visible.n) {
        sqs_waiter_t *w = q->waiters;
        waiter_unlink(w);
        w->cb(w);
    }
}

int sqs_waiter_add(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_ref_t *ref,
                   sqs_waiter_t *w, aws_error_t *err)
{
    sqs_queue_t *q = queue_find(e, ctx, ref, err);
    if (!q)
        return -1;
    /* Append: the longest-waiting poller is served first. */
    sqs_waiter_t *tail = q->waiters;
    while (tail && tail->next)
        tail = tail->next;
    w->queue = q;
    w->next = NULL;
    w->prev = tail;
    if (tail)
        tail->next = w;
    else
        q->waiters = w;
    return 0;
}

void sqs_waiter_remove(sqs_waiter_t *w)
{
    if (w->queue)
        waiter_unlink(w);
}

/* ---- create / lookup / list / delete / purge ---- */

static sqs_queue_t *queue_alloc(const sqs_ctx_t *ctx, const char *name, bool fifo)
{
    sqs_queue_t *q = xcalloc(1, sizeof(*q));
    q->account = xstrdup(ctx->account);
    q->region = xstrdup(ctx->region);
    q->name = xstrdup(name);
    q->timers.by_due = true;
    qattrs_defaults(q);
    if (fifo) {
        /* A FIFO queue shows its FIFO attributes' defaults (API_GetQueueAttributes). */
        static const struct {
            int idx;
            const char *value;
        } defs[] = {{QA_FIFO, "true"},
                    {QA_CBD, "false"},
                    {QA_DEDUP_SCOPE, "queue"},
                    {QA_THROUGHPUT, "perQueue"}};
        for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
            q->val[defs[i].idx] = xstrdup(defs[i].value);
    }
    q->created_ms = q->modified_ms = (int64_t)ctx->now_ms;
    return q;
}

static int tags_set(sqs_queue_t *q, const sqs_attr_t *tags, size_t n, aws_error_t *err);

/* QueueNameExists unless candidate t has the same attribute values as q. */
static int queue_same(const sqs_queue_t *q, const sqs_queue_t *t, aws_error_t *err)
{
    for (int i = 0; i < QA_COUNT; i++) {
        const char *a = q->val[i] ? q->val[i] : "", *b = t->val[i] ? t->val[i] : "";
        if (strcmp(a, b))
            return aws_error_set2(err, 400, "QueueNameExists", "QueueAlreadyExists",
                                  "A queue already exists with the same name and a different "
                                  "value for attribute %s",
                                  qattr_name(i));
    }
    return 0;
}

/* ---- recently deleted names ---- */

#define DELETED_WINDOW_MS 60000 /* QueueDeletedRecently: 60 s after a DeleteQueue */

static size_t deleted_key(const sqs_ctx_t *ctx, const char *name, char *key, size_t cap)
{
    int n = snprintf(key, cap, "%s/%s/%s", ctx->account, ctx->region, name);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Remembers q's name as deleted now; forgets names deleted over a minute ago. */
static void deleted_note(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_t *q)
{
    char key[256];
    size_t pos = 0;
    const strmap_slot_t *s;
    int64_t now = (int64_t)ctx->mono_ms;
    while ((s = strmap_next(&e->deleted, &pos))) {
        int64_t *at = s->val;
        if (now - *at < DELETED_WINDOW_MS)
            continue;
        free(strmap_del(&e->deleted, s->key, s->klen));
        pos = 0; /* the table changed: rescan */
    }
    int64_t *at = xmalloc(sizeof(*at));
    *at = now;
    sqs_ctx_t owner = *ctx;
    owner.account = q->account;
    free(strmap_put(&e->deleted, key, deleted_key(&owner, q->name, key, sizeof(key)), at));
}

static int deleted_check(sqs_engine_t *e, const sqs_ctx_t *ctx, const char *name, aws_error_t *err)
{
    char key[256];
    const int64_t *at = strmap_get(&e->deleted, key, deleted_key(ctx, name, key, sizeof(key)));
    if (at && (int64_t)ctx->mono_ms - *at < DELETED_WINDOW_MS)
        return aws_error_set2(err, 400, "QueueDeletedRecently",
                              "AWS.SimpleQueueService.QueueDeletedRecently",
                              "You must wait 60 seconds after deleting a queue before you can "
                              "create another with the same name.");
    return 0;
}

/* ---- dead-letter queues ---- */

sqs_queue_t *queue_by_arn(sqs_engine_t *e, const char *arn)
{
    sqs_arn_t a;
    if (sqs_arn_parse(arn, &a) < 0)
        return NULL;
    return qtable_get(e, a.account, a.region, a.name);
}

static int redrive_error(aws_error_t *err, const char *value, const char *reason)
{
    return aws_error_set(err, 400, "InvalidParameterValue",
                         "Value %.512s for parameter RedrivePolicy is invalid. Reason: %s", value,
                         reason);
}

/* Checks a RedrivePolicy value (normalised by the API) that q is about to take:
 * the dead-letter queue exists in q's account and region, is of q's type and
 * its RedriveAllowPolicy admits q (API_SetQueueAttributes). */
static int redrive_check(sqs_engine_t *e, const sqs_queue_t *q, const sqs_attr_t *attrs, size_t n,
                         aws_error_t *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *v = attrs[i].value;
        char target[SQS_ARN_MAX], self[SQS_ARN_MAX];
        int max;
        if (!attrs[i].name || strcmp(attrs[i].name, "RedrivePolicy") || !v || !*v)
            continue;
        if (redrive_parse(v, target, sizeof(target), &max) < 0)
            return redrive_error(err, v, "Redrive policy is not a valid JSON document.");
        if (max < 1 || max > 1000) {
            char reason[128];
            snprintf(reason, sizeof(reason),
                     "Invalid value for maxReceiveCount: %d, valid values are from 1 to 1000 both "
                     "inclusive.",
                     max);
            return redrive_error(err, v, reason);
        }
        sqs_arn_t a;
        sqs_queue_t *dlq = sqs_arn_parse(target, &a) == 0 && !strcmp(a.account, q->account) &&
                                   !strcmp(a.region, q->region)
                               ? qtable_get(e, a.account, a.region, a.name)
                               : NULL;
        if (!dlq)
            return redrive_error(err, v, "Dead letter target does not exist.");
        if (queue_fifo(dlq) != queue_fifo(q))
            return redrive_error(err, v,
                                 "Dead-letter queue must be same type of queue as the source.");
        queue_arn(q, self, sizeof(self));
        if (!redrive_allows(dlq->val[QA_REDRIVE_ALLOW], self))
            return redrive_error(err, v,
                                 "Dead letter target's RedriveAllowPolicy does not allow this "
                                 "queue as a source.");
    }
    return 0;
}

int sqs_queue_create(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_create_in_t *in,
                     aws_error_t *err)
{
    bool fifo = false;
    int rc = -1;
    if (queue_name_check(in->name, &fifo, err) < 0)
        return -1;
    sqs_queue_t *t = queue_alloc(ctx, in->name, fifo);
    sqs_queue_t *q = qtable_get(e, ctx->account, ctx->region, in->name);
    if (qattrs_apply(t, in->attrs, in->n_attrs, true, err) < 0)
        goto out;
    if (fifo && !fifo_requested(in->attrs, in->n_attrs)) {
        /* A .fifo name is only a FIFO queue's; as a standard name the dot is invalid. */
        queue_name_error(err);
        goto out;
    }
    if (q) {
        rc = queue_same(q, t, err);
        goto out;
    }
    if (deleted_check(e, ctx, in->name, err) < 0 ||
        redrive_check(e, t, in->attrs, in->n_attrs, err) < 0)
        goto out;
    if (tags_check(in->tags, in->n_tags, err) < 0 || tags_set(t, in->tags, in->n_tags, err) < 0)
        goto out;
    t->id = e->next_qid++;
    qtable_put(e, t);
    queue_journal_put(e, t);
    t = NULL;
    rc = 0;
out:
    if (t)
        queue_free(t);
    return rc;
}

int sqs_queue_url_get(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_ref_t *in,
                      aws_error_t *err)
{
    return queue_find(e, ctx, in, err) ? 0 : -1;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* NextToken is the hex of the last name returned; names sort after it. */
static char *token_make(const char *name)
{
    size_t n = strlen(name);
    char *t = xmalloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
        snprintf(t + 2 * i, 3, "%02x", (unsigned char)name[i]);
    t[2 * n] = 0;
    return t;
}

static int token_parse(const char *tok, char *name, size_t cap, aws_error_t *err)
{
    size_t n = strlen(tok);
    bool ok = n % 2 == 0 && n / 2 < cap && n > 0;
    for (size_t i = 0; ok && i < n / 2; i++) {
        unsigned v;
        ok = sscanf(tok + 2 * i, "%2x", &v) == 1 && v > 0;
        name[i] = (char)v;
    }
    if (!ok)
        return aws_error_set(err, 400, "InvalidParameterValue", "Invalid NextToken value.");
    name[n / 2] = 0;
    return 0;
}

/* Which queues a listing wants: ctx's own, by prefix, or the sources of a DLQ. */
typedef struct list_filter {
    const char *prefix;
    const char *dlq_arn; /* ListDeadLetterSourceQueues: queues redriving to this ARN */
} list_filter_t;

static bool list_wants(const sqs_queue_t *q, const sqs_ctx_t *ctx, const list_filter_t *f)
{
    char target[SQS_ARN_MAX];
    int max;
    if (strcmp(q->account, ctx->account) || strcmp(q->region, ctx->region))
        return false;
    if (f->prefix && *f->prefix && strncmp(q->name, f->prefix, strlen(f->prefix)))
        return false;
    return !f->dlq_arn || (q->val[QA_REDRIVE] &&
                           redrive_parse(q->val[QA_REDRIVE], target, sizeof(target), &max) == 0 &&
                           !strcmp(target, f->dlq_arn));
}

static size_t list_gather(sqs_engine_t *e, const sqs_ctx_t *ctx, const list_filter_t *f,
                          const char *after, char ***names)
{
    size_t n = 0;
    *names = xmalloc((e->nqueues + 1) * sizeof(char *));
    for (sqs_queue_t *q = e->all; q; q = q->all_next)
        if (list_wants(q, ctx, f) && (!after || strcmp(q->name, after) > 0))
            (*names)[n++] = q->name;
    qsort(*names, n, sizeof(char *), name_cmp);
    return n;
}

/* One page of the queue names f selects (ListQueues, ListDeadLetterSourceQueues). */
static int list_page(sqs_engine_t *e, const sqs_ctx_t *ctx, const list_filter_t *f,
                     const sqs_list_in_t *in, sqs_list_out_t *out, aws_error_t *err)
{
    char after[96];
    char **names;
    if (in->max_results < 0 || in->max_results > SQS_LIST_MAX)
        return aws_error_set(err, 400, "InvalidParameterValue",
                             "Value %d for parameter MaxResults is invalid. Reason: MaxResults "
                             "must be an integer between 1 and 1000.",
                             in->max_results);
    if (in->next_token && *in->next_token &&
        token_parse(in->next_token, after, sizeof(after), err) < 0)
        return -1;
    size_t n = list_gather(e, ctx, f, in->next_token && *in->next_token ? after : NULL, &names);
    size_t page = in->max_results ? (size_t)in->max_results : SQS_LIST_MAX;
    memset(out, 0, sizeof(*out));
    if (in->max_results && n > page)
        out->next_token = token_make(names[page - 1]);
    out->n = n < page ? n : page;
    for (size_t i = 0; i < out->n; i++)
        names[i] = xstrdup(names[i]);
    out->names = names;
    return 0;
}

int sqs_queue_list(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_list_in_t *in,
                   sqs_list_out_t *out, aws_error_t *err)
{
    list_filter_t f = {in->prefix, NULL};
    return list_page(e, ctx, &f, in, out, err);
}

int sqs_queue_dlq_sources(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_ref_t *dlq,
                          const sqs_list_in_t *in, sqs_list_out_t *out, aws_error_t *err)
{
    char arn[SQS_ARN_MAX];
    sqs_queue_t *q = queue_find(e, ctx, dlq, err);
    if (!q)
        return -1;
    queue_arn(q, arn, sizeof(arn));
    list_filter_t f = {NULL, arn};
    sqs_ctx_t owner = *ctx;
    owner.account = q->account;
    return list_page(e, &owner, &f, in, out, err);
}

void sqs_list_out_clear(sqs_list_out_t *out)
{
    for (size_t i = 0; i < out->n; i++)
        free(out->names[i]);
    free(out->names);
    free(out->next_token);
    memset(out, 0, sizeof(*out));
}

int sqs_queue_delete(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_ref_t *in,
                     aws_error_t *err)
{
    sqs_queue_t *q = queue_find(e, ctx, in, err);
    if (!q)
        return -1;
    qtable_del(e, q);
    if (e->j.queue_delete)
        e->j.queue_delete(e->j.ud, q->id);
    fifo_free(e, q, true);
    move_forget_queue(e, q->id);
    deleted_note(e, ctx, q);
    /* Woken pollers retry and get QueueDoesNotExist. */
    while (q->waiters) {
        sqs_waiter_t *w = q->waiters;
        waiter_unlink(w);
        w->cb(w);
    }
    queue_free(q);
    return 0;
}

int sqs_queue_purge(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_ref_t *in,
                    aws_error_t *err)
{
    sqs_queue_t *q = queue_find(e, ctx, in, err);
    if (!q)
        return -1;
    if (q->purge_ms && (int64_t)ctx->now_ms - q->purge_ms < 60000)
        return aws_error_set2(
            err, 403, "PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress",
            "Only one PurgeQueue operation on %s is allowed every 60 seconds.", q->name);
    if (e->j.queue_purge)
        e->j.queue_purge(e->j.ud, q->id, e->next_seq - 1);
    while (q->age_head)
        queue_msg_drop(e, q, q->age_head, false);
    q->purge_ms = (int64_t)ctx->now_ms;
    queue_journal_put(e, q);
    return 0;
}

/* ---- attributes ---- */

int sqs_queue_attrs_get(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_attrs_get_in_t *in,
                        sqs_kv_list_t *out, aws_error_t *err)
{
    sqs_queue_t *q = queue_find(e, ctx, &in->q, err);
    if (!q)
        return -1;
    queue_advance(e, q, ctx->mono_ms);
    return qattrs_collect(q, in->names, in->n, out, err);
}

int sqs_queue_attrs_set(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_attrs_set_in_t *in,
                        aws_error_t *err)
{
    sqs_queue_t *q = queue_find(e, ctx, &in->q, err);
    if (!q || redrive_check(e, q, in->attrs, in->n, err) < 0 ||
        qattrs_apply(q, in->attrs, in->n, false, err) < 0)
        return -1;
    q->modified_ms = (int64_t)ctx->now_ms;
    queue_journal_put(e, q);
    /* A shorter retention period applies to messages already in the queue. */
    queue_advance(e, q, ctx->mono_ms);
    return 0;
}

int sqs_queue_info(const sqs_engine_t *e, const char *arn, sqs_queue_info_t *out)
{
    sqs_arn_t a;
    const sqs_queue_t *q =
        sqs_arn_parse(arn, &a) == 0 ? qtable_get(e, a.account, a.region, a.name) : NULL;
    if (!q)
        return -1;
    out->policy = q->val[QA_POLICY];
    out->tag_keys = (const char *const *)q->tag_keys;
    out->tag_values = (const char *const *)q->tag_vals;
    out->n_tags = q->n_tags;
    return 0;
}

/* ---- tags ---- */

static int tag_find(const sqs_queue_t *q, const char *key)
{
    for (size_t i = 0; i < q->n_tags; i++)
        if (!strcmp(q->tag_keys[i], key))
            return (int)i;
    return -1;
}

/* Merges tags into q; nothing changes when the result would exceed 50 tags. */
static int tags_set(sqs_queue_t *q, const sqs_attr_t *tags, size_t n, aws_error_t *err)
{
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup = dup || !strcmp(tags[j].name, tags[i].name);
        added += !dup && tag_find(q, tags[i].name) < 0;
    }
    if (q->n_tags + added > SQS_TAGS_MAX)
        return aws_error_set(err, 400, "InvalidParameterValue", "Too many tags added for queue %s.",
                             q->name);
    q->tag_keys = xrealloc(q->tag_keys, (q->n_tags + added + 1) * sizeof(char *));
    q->tag_vals = xrealloc(q->tag_vals, (q->n_tags + added + 1) * sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        int k = tag_find(q, tags[i].name);
        const char *v = tags[i].value ? tags[i].value : "";
        if (k >= 0) {
            free(q->tag_vals[k]);
            q->tag_vals[k] = xstrdup(v);
            continue;
        }
        q->tag_keys[q->n_tags] = xstrdup(tags[i].name);
        q->tag_vals[q->n_tags++] = xstrdup(v);
    }
    return 0;
}

int sqs_queue_tag(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_tag_in_t *in, aws_error_t *err)
{
    sqs_queue_t *q = queue_find(e, ctx, &in->q, err);
    if (!q || tags_check(in->tags, in->n, err) < 0 || tags_set(q, in->tags, in->n, err) < 0)
        return -1;
    queue_journal_put(e, q);
    return 0;
}

int sqs_queue_untag(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_tag_in_t *in, aws_error_t *err)
{
    sqs_queue_t *q = queue_find(e, ctx, &in->q, err);
    if (!q)
        return -1;
    for (size_t i = 0; i < in->n; i++) {
        int k = in->keys[i] ? tag_find(q, in->keys[i]) : -1;
        if (k < 0)
            continue;
        free(q->tag_keys[k]);
        free(q->tag_vals[k]);
        q->n_tags--;
        q->tag_keys[k] = q->tag_keys[q->n_tags];
        q->tag_vals[k] = q->tag_vals[q->n_tags];
    }
    queue_journal_put(e, q);
    return 0;
}

int sqs_queue_tags_list(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_ref_t *in,
                        sqs_kv_list_t *out, aws_error_t *err)
{
    sqs_queue_t *q = queue_find(e, ctx, in, err);
    if (!q)
        return -1;
    out->n = q->n_tags;
    out->items = xcalloc(q->n_tags + 1, sizeof(*out->items));
    for (size_t i = 0; i < q->n_tags; i++) {
        out->items[i].name = xstrdup(q->tag_keys[i]);
        out->items[i].value = xstrdup(q->tag_vals[i]);
    }
    return 0;
}

/* ---- restore ---- */

int sqs_queue_restore(sqs_engine_t *e, uint64_t queue_id, const void *blob, size_t len)
{
    sqs_queue_t *q = xcalloc(1, sizeof(*q));
    q->timers.by_due = true;
    bool fifo;
    aws_error_t err;
    if (queue_unblob(q, blob, len) < 0 || queue_name_check(q->name, &fifo, &err) < 0 ||
        !*q->account || !*q->region || qtable_get_id(e, queue_id) ||
        qtable_get(e, q->account, q->region, q->name)) {
        queue_free(q);
        return -1;
    }
    q->id = queue_id;
    qtable_put(e, q);
    if (queue_id >= e->next_qid)
        e->next_qid = queue_id + 1;
    return 0;
}

int sqs_kv_restore(sqs_engine_t *e, const char *kind, const char *key, const void *blob, size_t len,
                   uint64_t wall_now, uint64_t mono_now)
{
    if (!strcmp(kind, SQS_KV_DEDUP))
        return fifo_dedup_restore(e, key, blob, len, wall_now, mono_now);
    if (!strcmp(kind, SQS_KV_TASK))
        return move_task_restore(e, key, blob, len, mono_now);
    return -1;
}
