/*
 * fifo — what FIFO queues add to the engine (private to src/sqs): message
 * groups, deduplication records and receive attempts.
 *
 * Groups keep delivery in order (engine_int.h has the invariant): a group's
 * head is in the queue's `visible` heap only while it is visible and nothing
 * of its group is in flight; fifo_settle() restores that after any change.
 * Deduplication records (API_SendMessage: "any messages sent with the same
 * message deduplication ID are accepted successfully but aren't delivered
 * during the 5-minute deduplication interval") are journaled, so they hold
 * across a restart; receive attempts are kept in memory only.
 */
#include "sqs/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* ---- groups ---- */

void fifo_settle(sqs_queue_t *q, msg_group_t *g)
{
    sqs_msg_t *h = g->head;
    if (!h)
        return;
    if (g->n_inflight == 0 && h->where == MSG_BLOCKED) {
        q->n_blocked--;
        h->where = MSG_VISIBLE;
        heap_push(&q->visible, h);
    } else if (g->n_inflight > 0 && h->where == MSG_VISIBLE) {
        heap_remove(&q->visible, h);
        h->where = MSG_BLOCKED;
        q->n_blocked++;
    }
}

void fifo_link(sqs_queue_t *q, sqs_msg_t *m)
{
    const char *id = m->group_id ? m->group_id : "";
    msg_group_t *g = strmap_get(&q->groups, id, strlen(id));
    if (!g) {
        g = xcalloc(1, sizeof(*g));
        g->id = xstrdup(id);
        strmap_put(&q->groups, id, strlen(id), g);
    }
    /* Seq order; only a restore can arrive out of order. */
    sqs_msg_t *after = g->tail;
    while (after && after->seq > m->seq)
        after = after->grp_prev;
    m->grp_prev = after;
    m->grp_next = after ? after->grp_next : g->head;
    if (m->grp_next)
        m->grp_next->grp_prev = m;
    else
        g->tail = m;
    if (after)
        after->grp_next = m;
    else
        g->head = m;
    m->group = g;
    /* A former head that was deliverable is now behind m. */
    sqs_msg_t *old = m->grp_next;
    if (!after && old && old->where == MSG_VISIBLE) {
        heap_remove(&q->visible, old);
        old->where = MSG_BLOCKED;
        q->n_blocked++;
    }
}

void fifo_unlink(sqs_queue_t *q, sqs_msg_t *m)
{
    msg_group_t *g = m->group;
    if (m->grp_prev)
        m->grp_prev->grp_next = m->grp_next;
    else
        g->head = m->grp_next;
    if (m->grp_next)
        m->grp_next->grp_prev = m->grp_prev;
    else
        g->tail = m->grp_prev;
    m->group = NULL;
    m->grp_prev = m->grp_next = NULL;
    if (g->head) {
        fifo_settle(q, g);
        return;
    }
    strmap_del(&q->groups, g->id, strlen(g->id));
    free(g->id);
    free(g);
}

/* ---- deduplication ---- */

/* The record key: the id, prefixed by the group under DeduplicationScope
 * messageGroup. Returns the length written to key (at most 258 bytes). */
static size_t dedup_key(const sqs_queue_t *q, const char *group, const char *id, char *key)
{
    size_t n = 0;
    if (q->val[QA_DEDUP_SCOPE] && !strcmp(q->val[QA_DEDUP_SCOPE], "messageGroup") && group) {
        n = strlen(group);
        memcpy(key, group, n);
        key[n++] = 0;
    }
    size_t idn = strlen(id);
    memcpy(key + n, id, idn);
    return n + idn;
}

/* The journal key of a record: queue id and the hex of the record key. */
static void dedup_jkey(const sqs_queue_t *q, const dedup_t *d, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%llu/", (unsigned long long)q->id);
    for (size_t i = 0; i < d->klen && (size_t)n + 3 < cap; i++)
        n += snprintf(out + n, cap - (size_t)n, "%02x", (unsigned char)d->key[i]);
}

const dedup_t *fifo_dedup_find(const sqs_queue_t *q, const char *group, const char *id,
                               int64_t mono_now)
{
    char key[2 * 129 + 2];
    size_t klen = dedup_key(q, group, id, key);
    const dedup_t *d = strmap_get(&q->dedups, key, klen);
    return d && d->expires_mono > mono_now ? d : NULL;
}

static void dedup_journal(sqs_engine_t *e, const sqs_queue_t *q, const dedup_t *d, bool put)
{
    char jkey[600];
    dedup_jkey(q, d, jkey, sizeof(jkey));
    if (!put) {
        if (e->j.kv_delete)
            e->j.kv_delete(e->j.ud, SQS_KV_DEDUP, jkey);
        return;
    }
    if (!e->j.kv_put)
        return;
    char blob[128];
    int n = snprintf(blob, sizeof(blob), "%s %llu %lld", d->message_id, (unsigned long long)d->seq,
                     (long long)d->expires_ms);
    e->j.kv_put(e->j.ud, SQS_KV_DEDUP, jkey, blob, (size_t)n);
}

/* Lists d in expiry order (sends append; restores may come in any order).
 * False, leaving d to the caller, when its key is already recorded. */
static bool dedup_insert(sqs_queue_t *q, dedup_t *d)
{
    if (strmap_get(&q->dedups, d->key, d->klen))
        return false;
    strmap_put(&q->dedups, d->key, d->klen, d);
    dedup_t **pp = &q->dedup_head;
    if (q->dedup_tail && q->dedup_tail->expires_mono <= d->expires_mono)
        pp = &q->dedup_tail->next;
    while (*pp && (*pp)->expires_mono <= d->expires_mono)
        pp = &(*pp)->next;
    d->next = *pp;
    *pp = d;
    if (!d->next)
        q->dedup_tail = d;
    return true;
}

static void dedup_free(dedup_t *d)
{
    free(d->key);
    free(d);
}

void fifo_dedup_add(sqs_engine_t *e, const sqs_ctx_t *ctx, sqs_queue_t *q, const sqs_msg_t *m)
{
    char key[2 * 129 + 2];
    dedup_t *d = xcalloc(1, sizeof(*d));
    d->klen = dedup_key(q, m->group_id, m->dedup_id, key);
    d->key = xmemdup(key, d->klen);
    d->expires_mono = (int64_t)ctx->mono_ms + FIFO_WINDOW_MS;
    d->expires_ms = (int64_t)ctx->now_ms + FIFO_WINDOW_MS;
    d->seq = m->seq;
    memcpy(d->message_id, m->message_id, sizeof(d->message_id));
    if (!dedup_insert(q, d)) {
        dedup_free(d); /* the caller found no live record: cannot happen */
        return;
    }
    dedup_journal(e, q, d, true);
}

int fifo_dedup_restore(sqs_engine_t *e, const char *jkey, const void *blob, size_t len,
                       uint64_t wall_now, uint64_t mono_now)
{
    char text[128], id[37];
    unsigned long long qid, seq;
    long long exp;
    int used = 0;
    if (len >= sizeof(text))
        return -1;
    memcpy(text, blob, len);
    text[len] = 0;
    if (sscanf(jkey, "%llu/%n", &qid, &used) != 1 ||
        sscanf(text, "%36s %llu %lld", id, &seq, &exp) != 3 || strlen(id) != 36)
        return -1;
    sqs_queue_t *q = qtable_get_id(e, qid);
    const char *hex = jkey + used;
    size_t hn = strlen(hex);
    if (!q || hn % 2 || hn == 0 || hn > 2 * 258 || !time_ok(exp))
        return -1;
    dedup_t *d = xcalloc(1, sizeof(*d));
    d->klen = hn / 2;
    d->key = xmalloc(d->klen + 1);
    for (size_t i = 0; i < d->klen; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        d->key[i] = (char)v;
    }
    memcpy(d->message_id, id, sizeof(d->message_id));
    d->seq = seq;
    d->expires_ms = exp;
    d->expires_mono = exp - (int64_t)wall_now + (int64_t)mono_now;
    if (!dedup_insert(q, d)) {
        dedup_free(d);
        return -1;
    }
    return 0;
}

/* ---- receive attempts ---- */

attempt_t *fifo_attempt_find(sqs_queue_t *q, const char *id, int64_t mono_now)
{
    attempt_t *a = strmap_get(&q->attempts, id, strlen(id));
    return a && a->expires_mono > mono_now ? a : NULL;
}

attempt_t *fifo_attempt_new(sqs_queue_t *q, const char *id, int64_t mono_now)
{
    attempt_t *a = strmap_get(&q->attempts, id, strlen(id));
    if (!a) {
        a = xcalloc(1, sizeof(*a));
        a->klen = strlen(id);
        a->key = xstrdup(id);
        strmap_put(&q->attempts, id, a->klen, a);
        if (q->attempt_tail)
            q->attempt_tail->next = a;
        else
            q->attempt_head = a;
        q->attempt_tail = a;
    }
    /* (An existing record is live: expired ones are pruned before any receive.) */
    a->expires_mono = mono_now + FIFO_WINDOW_MS;
    a->n = 0;
    return a;
}

/* ---- expiry ---- */

void fifo_expire(sqs_engine_t *e, sqs_queue_t *q, int64_t mono_now)
{
    while (q->dedup_head && q->dedup_head->expires_mono <= mono_now) {
        dedup_t *d = q->dedup_head;
        q->dedup_head = d->next;
        if (!q->dedup_head)
            q->dedup_tail = NULL;
        strmap_del(&q->dedups, d->key, d->klen);
        dedup_journal(e, q, d, false);
        dedup_free(d);
    }
    while (q->attempt_head && q->attempt_head->expires_mono <= mono_now) {
        attempt_t *a = q->attempt_head;
        q->attempt_head = a->next;
        if (!q->attempt_head)
            q->attempt_tail = NULL;
        strmap_del(&q->attempts, a->key, a->klen);
        free(a->key);
        free(a);
    }
}

int64_t fifo_deadline(const sqs_queue_t *q)
{
    return q->dedup_head ? q->dedup_head->expires_mono : INT64_MAX;
}

void fifo_free(sqs_engine_t *e, sqs_queue_t *q, bool journal)
{
    size_t pos = 0;
    const strmap_slot_t *s;
    while ((s = strmap_next(&q->groups, &pos))) {
        msg_group_t *g = s->val;
        free(g->id);
        free(g);
    }
    strmap_free(&q->groups);
    for (dedup_t *d = q->dedup_head, *next; d; d = next) {
        next = d->next;
        if (journal && e)
            dedup_journal(e, q, d, false);
        dedup_free(d);
    }
    q->dedup_head = q->dedup_tail = NULL;
    strmap_free(&q->dedups);
    for (attempt_t *a = q->attempt_head, *next; a; a = next) {
        next = a->next;
        free(a->key);
        free(a);
    }
    q->attempt_head = q->attempt_tail = NULL;
    strmap_free(&q->attempts);
}
