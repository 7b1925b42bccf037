/*
 * strmap — a hash map from byte-string keys to pointers.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), the same scheme as the queue engine's seq map. Keys are
 * {pointer, length} byte strings and may hold NUL bytes (composite keys such as
 * "group\0dedup-id"); the map keeps its own copy of each key. Values are the
 * caller's: the map never frees them. Not thread-safe.
 */
#ifndef NAGARE_BASE_STRMAP_H
#define NAGARE_BASE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct strmap_slot {
    char *key; /* NULL = empty slot */
    size_t klen;
    uint64_t hash;
    void *val;
} strmap_slot_t;

typedef struct strmap {
    strmap_slot_t *slots;
    size_t n, cap; /* cap is 0 or a power of two */
} strmap_t;

#define STRMAP_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* The value stored under key, or NULL. */
void *strmap_get(const strmap_t *m, const char *key, size_t klen);
/* Stores val under key (a copy of the key is kept), replacing and returning the
 * previous value (NULL when there was none). val must not be NULL. */
void *strmap_put(strmap_t *m, const char *key, size_t klen, void *val);
/* Removes key; returns its value, or NULL when it was absent. */
void *strmap_del(strmap_t *m, const char *key, size_t klen);
/* Iteration: start with *pos = 0; returns the next occupied slot or NULL at the
 * end. The map must not change during an iteration. */
const strmap_slot_t *strmap_next(const strmap_t *m, size_t *pos);
/* Frees the map's keys and slots (not the values) and empties it. */
void strmap_free(strmap_t *m);

#endif
