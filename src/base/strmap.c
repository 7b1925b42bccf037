/*
 * strmap — see strmap.h. FNV-1a hashes; the table doubles at 3/4 load.
 */
#include "base/strmap.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

static uint64_t hash_of(const char *key, size_t klen)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < klen; i++)
        h = (h ^ (unsigned char)key[i]) * 0x100000001b3ull;
    return h;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t find(const strmap_t *m, const char *key, size_t klen, uint64_t h)
{
    size_t mask = m->cap - 1, i = h & mask;
    while (m->slots[i].key) {
        const strmap_slot_t *s = &m->slots[i];
        if (s->hash == h && s->klen == klen && !memcmp(s->key, key, klen))
            break;
        i = (i + 1) & mask;
    }
    return i;
}

static void grow(strmap_t *m)
{
    strmap_slot_t *old = m->slots;
    size_t oldcap = m->cap;
    m->cap = oldcap ? oldcap * 2 : 16;
    m->slots = xcalloc(m->cap, sizeof(*m->slots));
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].key)
            m->slots[find(m, old[i].key, old[i].klen, old[i].hash)] = old[i];
    free(old);
}

void *strmap_get(const strmap_t *m, const char *key, size_t klen)
{
    if (!m->n)
        return NULL;
    const strmap_slot_t *s = &m->slots[find(m, key, klen, hash_of(key, klen))];
    return s->key ? s->val : NULL;
}

void *strmap_put(strmap_t *m, const char *key, size_t klen, void *val)
{
    if ((m->n + 1) * 4 > m->cap * 3)
        grow(m);
    uint64_t h = hash_of(key, klen);
    strmap_slot_t *s = &m->slots[find(m, key, klen, h)];
    if (s->key) {
        void *prev = s->val;
        s->val = val;
        return prev;
    }
    s->key = xmalloc(klen + 1);
    memcpy(s->key, key, klen);
    s->key[klen] = 0;
    s->klen = klen;
    s->hash = h;
    s->val = val;
    m->n++;
    return NULL;
}

void *strmap_del(strmap_t *m, const char *key, size_t klen)
{
    if (!m->n)
        return NULL;
    size_t mask = m->cap - 1, i = find(m, key, klen, hash_of(key, klen));
    if (!m->slots[i].key)
        return NULL;
    void *val = m->slots[i].val;
    free(m->slots[i].key);
    m->n--;
    /* Backward shift: pull later members of the probe run into the hole unless
     * their home slot lies cyclically after the hole. */
    for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
        size_t home = m->slots[j].hash & mask;
        if (((j - home) & mask) < ((j - i) & mask))
            continue;
        m->slots[i] = m->slots[j];
        i = j;
    }
    memset(&m->slots[i], 0, sizeof(m->slots[i]));
    return val;
}

const strmap_slot_t *strmap_next(const strmap_t *m, size_t *pos)
{
    for (; *pos < m->cap; (*pos)++)
        if (m->slots[*pos].key)
            return &m->slots[(*pos)++];
    return NULL;
}

void strmap_free(strmap_t *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    m->slots = NULL;
    m->n = m->cap = 0;
}
