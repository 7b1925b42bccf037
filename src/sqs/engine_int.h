/*
 * engine_int — private structures shared by the queue engine's files.
 *
 * Not part of the API (queue.h is). queue.c owns the engine, queues, waiters and
 * time; msg.c the message actions; attrs.c the queue attribute table, message
 * attribute rules and MD5s; codec.c the persistence blobs; containers.c the
 * containers (message heaps, seq map, queue name table).
 *
 * A message lives in exactly one of its queue's two heaps: `visible` (ordered by
 * seq, so the oldest visible message is received first) or `timers` (ordered by
 * the monotonic time it becomes visible: delayed or in flight). Every message is
 * also in the queue's seq map (receipt handle lookup) and age list (send order,
 * so retention expiry only ever looks at the head).
 */
#ifndef NAGARE_SQS_ENGINE_INT_H
#define NAGARE_SQS_ENGINE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/error.h"
#include "sqs/queue.h"

enum { MSG_VISIBLE, MSG_DELAYED, MSG_INFLIGHT };

typedef struct msg_attr {
    char *name;
    char *type;
    char *value; /* bytes (binary) or NUL-terminated string */
    size_t len;
    bool binary;
} msg_attr_t;

typedef struct sqs_msg sqs_msg_t;
struct sqs_msg {
    uint64_t seq;
    int64_t sent_ms;
    /* Monotonic times are signed: a restored message may predate the clock's origin. */
    int64_t sent_mono; /* retention counts from here */
    int64_t due_mono;  /* in the timer heap: when it becomes visible */
    int64_t recv_mono; /* last receive: the 12-hour visibility limit counts from here */
    int64_t first_receive_ms;
    uint32_t receive_count;
    uint32_t heap_idx;
    uint8_t where; /* MSG_* */
    uint8_t n_attrs;
    char message_id[37];
    char md5_body[33];
    char md5_attrs[33];
    char md5_sys[33];
    char *body;
    size_t body_len;
    msg_attr_t *attrs; /* sorted by name */
    char *sender_id;
    char *trace_header;
    sqs_msg_t *age_prev, *age_next;
};

typedef struct msg_heap {
    sqs_msg_t **v;
    size_t n, cap;
    bool by_due; /* false: by seq */
} msg_heap_t;

typedef struct msg_map {
    sqs_msg_t **slots; /* open addressing, linear probing; NULL = empty */
    size_t n, cap;     /* cap is a power of two */
} msg_map_t;

/* Attribute slots of a queue (values stored as strings, as AWS returns them). */
enum {
    QA_DELAY,
    QA_MAX_SIZE,
    QA_RETENTION,
    QA_WAIT,
    QA_VISIBILITY,
    QA_POLICY,
    QA_REDRIVE,
    QA_REDRIVE_ALLOW,
    QA_KMS_KEY,
    QA_KMS_REUSE,
    QA_SSE,
    QA_FIFO,
    QA_CBD,
    QA_DEDUP_SCOPE,
    QA_THROUGHPUT,
    QA_COUNT
};

typedef struct sqs_queue sqs_queue_t;
struct sqs_queue {
    uint64_t id;
    char *account, *region, *name;
    char *val[QA_COUNT]; /* NULL = unset (no value returned) */
    int ival[QA_COUNT];  /* integer attributes, parsed */
    char **tag_keys, **tag_vals;
    size_t n_tags;
    int64_t created_ms, modified_ms, purge_ms; /* wall clock; purge_ms 0 = never */
    msg_heap_t visible, timers;
    msg_map_t by_seq;
    sqs_msg_t *age_head, *age_tail;
    size_t n_delayed, n_inflight;
    sqs_waiter_t *waiters;
    sqs_queue_t *hnext;               /* name table chain */
    sqs_queue_t *all_prev, *all_next; /* every queue of the engine */
};

struct sqs_engine {
    sqs_journal_t j;
    sqs_queue_t **buckets; /* by account/region/name */
    size_t nbuckets, nqueues;
    sqs_queue_t *all;
    uint64_t next_qid, next_seq;
    sqs_queue_t *restore_q; /* last queue sqs_msg_restore used (restores come in runs) */
};

/* ---- containers.c ---- */
void heap_push(msg_heap_t *h, sqs_msg_t *m);
sqs_msg_t *heap_pop(msg_heap_t *h);
void heap_remove(msg_heap_t *h, sqs_msg_t *m);
void heap_free(msg_heap_t *h);
void map_put(msg_map_t *mp, sqs_msg_t *m);
sqs_msg_t *map_get(const msg_map_t *mp, uint64_t seq);
void map_del(msg_map_t *mp, uint64_t seq);
void map_free(msg_map_t *mp);
sqs_queue_t *qtable_get(const sqs_engine_t *e, const char *account, const char *region,
                        const char *name);
sqs_queue_t *qtable_get_id(const sqs_engine_t *e, uint64_t id);
void qtable_put(sqs_engine_t *e, sqs_queue_t *q);
void qtable_del(sqs_engine_t *e, sqs_queue_t *q);

/* ---- attrs.c ---- */
/* Index of a queue attribute by name (QA_*), or -1 when not settable/unknown. */
int qattr_index(const char *name);
const char *qattr_name(int idx);
/* True when value is a valid, normalised stored value of attribute idx (restore). */
bool qattr_valid(int idx, const char *value);
/* Validates and applies attrs to q (creating: create=true). Nothing changes on -1. */
int qattrs_apply(sqs_queue_t *q, const sqs_attr_t *attrs, size_t n, bool create, aws_error_t *err);
/* Sets q's defaults (all attributes unset -> AWS defaults). */
void qattrs_defaults(sqs_queue_t *q);
/* GetQueueAttributes: the named attributes ("All" = every one) with a value,
 * computed ones included, appended to out. InvalidAttributeName on an unknown name. */
int qattrs_collect(const sqs_queue_t *q, const char *const *names, size_t n, sqs_kv_list_t *out,
                   aws_error_t *err);
/* Validates message attributes; fills *size with their byte count (names, types, values). */
int msg_attrs_check(const sqs_msg_attr_t *a, size_t n, size_t *size, aws_error_t *err);
/* Validates a body's characters (UTF-8, XML 1.0 set AWS allows). */
int msg_body_check(const char *body, size_t len, aws_error_t *err);
/* MD5OfMessageAttributes of attributes sorted by name (hex, 33 bytes). */
void msg_attrs_md5(const msg_attr_t *a, size_t n, char out[33]);
void md5_hex(const void *p, size_t len, char out[33]);
/* Lower-case hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
/* MD5OfMessageSystemAttributes for an AWSTraceHeader value. */
void msg_trace_md5(const char *trace, char out[33]);
/* Copies attrs sorted by name; *out owned by the caller (msg_attrs_free). */
msg_attr_t *msg_attrs_copy(const sqs_msg_attr_t *a, size_t n);
void msg_attrs_free(msg_attr_t *a, size_t n);
/* Checks a tag set (keys 1-128, values 0-256). */
int tags_check(const sqs_attr_t *tags, size_t n, aws_error_t *err);
/* Queue name rules; fifo set when it ends in .fifo. */
int queue_name_check(const char *name, bool *fifo, aws_error_t *err);

/* ---- codec.c ---- */
/* Serialises q / m into a malloc'ed blob (caller frees). */
void *queue_blob(const sqs_queue_t *q, size_t *len);
void *msg_blob(const sqs_msg_t *m, size_t *len);
/* Parses; -1 on any corruption. q / m fields are allocated (freed by the caller
 * on -1 as well, through queue_free/msg_free). */
int queue_unblob(sqs_queue_t *q, const void *blob, size_t len);
int msg_unblob(sqs_msg_t *m, const void *blob, size_t len);
/* True when a restored wall-clock time (ms) is in a sane range (0 .. 2^47). */
bool time_ok(int64_t ms);

/* ---- queue.c ---- */
void queue_free(sqs_queue_t *q);
void msg_free(sqs_msg_t *m);
void queue_journal_put(sqs_engine_t *e, const sqs_queue_t *q);
sqs_queue_t *queue_find(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_ref_t *ref,
                        aws_error_t *err);
void queue_wake(sqs_queue_t *q);
/* Links a message into q (map, age list, heap according to m->where/due). */
void queue_msg_link(sqs_queue_t *q, sqs_msg_t *m);
/* Unlinks and frees a message, journaling the delete when journal is true. */
void queue_msg_drop(sqs_engine_t *e, sqs_queue_t *q, sqs_msg_t *m, bool journal);
/* Converts a monotonic time to wall time using a pair of current clocks. */
int64_t mono_to_wall(int64_t mono, uint64_t wall_now, uint64_t mono_now);
/* Makes due timers visible and drops expired messages of q at mono_now. */
void queue_advance(sqs_engine_t *e, sqs_queue_t *q, uint64_t mono_now);
/* The current journal state of m. */
void msg_state_of(const sqs_msg_t *m, uint64_t wall_now, uint64_t mono_now, sqs_msg_state_t *st);

#endif
