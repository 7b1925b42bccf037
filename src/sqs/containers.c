/*
 * store — the queue engine's containers (private to src/sqs).
 *
 * Message heaps (binary min-heaps that keep each message's index so any message
 * can be removed in O(log n)), the seq -> message map of a queue (open
 * addressing, linear probing, backward-shift deletion: no tombstones) and the
 * engine's queue table (chained hash on account/region/name). Nothing here knows
 * SQS semantics; see engine_int.h for how they are combined.
 */
#include "sqs/engine_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* ---- heaps ---- */

static bool before(const msg_heap_t *h, const sqs_msg_t *a, const sqs_msg_t *b)
{
    if (h->by_due && a->due_mono != b->due_mono)
        return a->due_mono < b->due_mono;
    return a->seq < b->seq;
}

static void heap_set(msg_heap_t *h, size_t i, sqs_msg_t *m)
{
    h->v[i] = m;
    m->heap_idx = (uint32_t)i;
}

static void sift_up(msg_heap_t *h, size_t i)
{
    sqs_msg_t *m = h->v[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(h, m, h->v[p]))
            break;
        heap_set(h, i, h->v[p]);
        i = p;
    }
    heap_set(h, i, m);
}

static void sift_down(msg_heap_t *h, size_t i)
{
    sqs_msg_t *m = h->v[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && before(h, h->v[c + 1], h->v[c]))
            c++;
        if (!before(h, h->v[c], m))
            break;
        heap_set(h, i, h->v[c]);
        i = c;
    }
    heap_set(h, i, m);
}

void heap_push(msg_heap_t *h, sqs_msg_t *m)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 64;
        h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
    }
    h->v[h->n++] = m;
    sift_up(h, h->n - 1);
}

sqs_msg_t *heap_pop(msg_heap_t *h)
{
    if (h->n == 0)
        return NULL;
    sqs_msg_t *top = h->v[0];
    heap_remove(h, top);
    return top;
}

void heap_remove(msg_heap_t *h, sqs_msg_t *m)
{
    size_t i = m->heap_idx;
    sqs_msg_t *last = h->v[--h->n];
    if (i == h->n)
        return;
    heap_set(h, i, last);
    if (i > 0 && before(h, last, h->v[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

void heap_free(msg_heap_t *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

/* ---- seq map ---- */

static size_t slot_of(uint64_t seq, size_t cap)
{
    /* Fibonacci hashing spreads consecutive seqs. */
    return (size_t)((seq * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

static void map_grow(msg_map_t *mp)
{
    size_t old_cap = mp->cap;
    sqs_msg_t **old = mp->slots;
    mp->cap = old_cap ? old_cap * 2 : 64;
    mp->slots = xcalloc(mp->cap, sizeof(*mp->slots));
    mp->n = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            map_put(mp, old[i]);
    free(old);
}

void map_put(msg_map_t *mp, sqs_msg_t *m)
{
    if ((mp->n + 1) * 4 > mp->cap * 3)
        map_grow(mp);
    size_t i = slot_of(m->seq, mp->cap);
    while (mp->slots[i])
        i = (i + 1) & (mp->cap - 1);
    mp->slots[i] = m;
    mp->n++;
}

static size_t map_find(const msg_map_t *mp, uint64_t seq)
{
    if (mp->cap == 0)
        return SIZE_MAX;
    size_t i = slot_of(seq, mp->cap);
    while (mp->slots[i]) {
        if (mp->slots[i]->seq == seq)
            return i;
        i = (i + 1) & (mp->cap - 1);
    }
    return SIZE_MAX;
}

sqs_msg_t *map_get(const msg_map_t *mp, uint64_t seq)
{
    size_t i = map_find(mp, seq);
    return i == SIZE_MAX ? NULL : mp->slots[i];
}

void map_del(msg_map_t *mp, uint64_t seq)
{
    size_t i = map_find(mp, seq);
    if (i == SIZE_MAX)
        return;
    size_t mask = mp->cap - 1;
    mp->slots[i] = NULL;
    mp->n--;
    /* Backward shift: move later members of the probe run into the hole when
     * their home slot does not lie cyclically in (hole, j]. */
    for (size_t j = (i + 1) & mask; mp->slots[j]; j = (j + 1) & mask) {
        size_t home = slot_of(mp->slots[j]->seq, mp->cap);
        bool stays = (j > i) ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        mp->slots[i] = mp->slots[j];
        mp->slots[j] = NULL;
        i = j;
    }
}

void map_free(msg_map_t *mp)
{
    free(mp->slots);
    memset(mp, 0, sizeof(*mp));
}

/* ---- queue table ---- */

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return (h ^ 0xff) * 0x100000001b3ull; /* separator */
}

static size_t qbucket(const sqs_engine_t *e, const char *account, const char *region,
                      const char *name)
{
    uint64_t h = fnv(fnv(fnv(0xcbf29ce484222325ull, account), region), name);
    return (size_t)(h & (e->nbuckets - 1));
}

sqs_queue_t *qtable_get(const sqs_engine_t *e, const char *account, const char *region,
                        const char *name)
{
    if (e->nbuckets == 0)
        return NULL;
    for (sqs_queue_t *q = e->buckets[qbucket(e, account, region, name)]; q; q = q->hnext)
        if (!strcmp(q->name, name) && !strcmp(q->account, account) && !strcmp(q->region, region))
            return q;
    return NULL;
}

sqs_queue_t *qtable_get_id(const sqs_engine_t *e, uint64_t id)
{
    /* Only used at restore time and by receipt handles' owner check: a list walk
     * over queues (few) is enough. */
    for (sqs_queue_t *q = e->all; q; q = q->all_next)
        if (q->id == id)
            return q;
    return NULL;
}

static void qtable_insert(sqs_engine_t *e, sqs_queue_t *q)
{
    size_t b = qbucket(e, q->account, q->region, q->name);
    q->hnext = e->buckets[b];
    e->buckets[b] = q;
}

void qtable_put(sqs_engine_t *e, sqs_queue_t *q)
{
    if (e->nqueues + 1 > e->nbuckets) {
        sqs_queue_t *all = e->all;
        free(e->buckets);
        e->nbuckets = e->nbuckets ? e->nbuckets * 2 : 16;
        e->buckets = xcalloc(e->nbuckets, sizeof(*e->buckets));
        for (sqs_queue_t *p = all; p; p = p->all_next)
            qtable_insert(e, p);
    }
    qtable_insert(e, q);
    q->all_prev = NULL;
    q->all_next = e->all;
    if (e->all)
        e->all->all_prev = q;
    e->all = q;
    e->nqueues++;
}

void qtable_del(sqs_engine_t *e, sqs_queue_t *q)
{
    sqs_queue_t **pp = &e->buckets[qbucket(e, q->account, q->region, q->name)];
    while (*pp != q)
        pp = &(*pp)->hnext;
    *pp = q->hnext;
    if (q->all_prev)
        q->all_prev->all_next = q->all_next;
    else
        e->all = q->all_next;
    if (q->all_next)
        q->all_next->all_prev = q->all_prev;
    e->nqueues--;
    if (e->restore_q == q)
        e->restore_q = NULL;
}
