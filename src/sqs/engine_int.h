/*
 * engine_int — private structures shared by the queue engine's files.
 *
 * Not part of the API (queue.h is). queue.c owns the engine, queues, waiters and
 * time; msg.c the message actions; attrs.c the queue attribute table, message
 * attribute rules and MD5s; codec.c the persistence blobs; containers.c the
 * containers (message heaps, seq map, queue name table).
 *
 * A message lives in at most one of its queue's two heaps: `visible` (ordered by
 * seq, so the oldest visible message is received first) or `timers` (ordered by
 * the monotonic time it becomes visible: delayed or in flight). Every message is
 * also in the queue's seq map (receipt handle lookup) and age list (enqueue
 * order, so retention expiry only ever looks at the head; a message moved to a
 * dead-letter queue keeps its original enqueue time and is placed by it).
 *
 * FIFO queues add message groups: each group lists its messages in seq order.
 * Only a group's head can be received, and only while none of the group is in
 * flight, so in a FIFO queue `visible` holds just the heads of the groups that
 * may deliver; their other visible messages are MSG_BLOCKED (in no heap) and a
 * receive takes them in order after the head. Deduplication records and receive
 * attempts are kept per queue for five minutes, in expiry order.
 */
#ifndef NAGARE_SQS_ENGINE_INT_H
#define NAGARE_SQS_ENGINE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/error.h"
#include "base/strmap.h"
#include "sqs/queue.h"

/* MSG_BLOCKED (FIFO only): visible, but behind its group's head or with the
 * group in flight; in no heap. */
enum { MSG_VISIBLE, MSG_DELAYED, MSG_INFLIGHT, MSG_BLOCKED };

#define FIFO_WINDOW_MS  (5 * 60 * 1000)         /* deduplication and receive-attempt interval */
#define SEQ_NUMBER_BASE 10000000000000000000ull /* SequenceNumber = base + seq: 20 digits */

typedef struct msg_attr {
    char *name;
    char *type;
    char *value; /* bytes (binary) or NUL-terminated string */
    size_t len;
    bool binary;
} msg_attr_t;

typedef struct sqs_msg sqs_msg_t;

/* A FIFO message group: its messages in seq order. */
typedef struct msg_group {
    char *id;
    sqs_msg_t *head, *tail;
    uint32_t n_inflight;
} msg_group_t;

struct sqs_msg {
    uint64_t seq;
    int64_t sent_ms;     /* SentTimestamp */
    int64_t enqueued_ms; /* retention counts from here: sent_ms, or a move's time */
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
    char *group_id;   /* MessageGroupId or NULL */
    char *dedup_id;   /* MessageDeduplicationId (FIFO: explicit or content-based) */
    char *dlq_source; /* DeadLetterQueueSourceArn once moved to a DLQ, else NULL */
    sqs_msg_t *age_prev, *age_next;
    msg_group_t *group; /* FIFO queues only */
    sqs_msg_t *grp_prev, *grp_next;
};

/* A deduplication record: a send within the window with this key is a duplicate. */
typedef struct dedup {
    char *key; /* [group "\0"] dedup id: the strmap key */
    size_t klen;
    int64_t expires_mono;
    int64_t expires_ms; /* the same instant on the wall clock (journaled) */
    uint64_t seq;       /* the original message's seq: its SequenceNumber */
    char message_id[37];
    struct dedup *next; /* expiry order */
} dedup_t;

/* A FIFO receive with a ReceiveRequestAttemptId: a retry gets these back. */
typedef struct attempt {
    char *key;
    size_t klen;
    int64_t expires_mono;
    size_t n;
    uint64_t seqs[SQS_BATCH_MAX];
    uint32_t rcs[SQS_BATCH_MAX];
    char handles[SQS_BATCH_MAX][48];
    struct attempt *next;
} attempt_t;

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

typedef struct move_task move_task_t;

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
    size_t n_blocked; /* FIFO: visible messages in no heap */
    strmap_t groups;  /* FIFO: group id -> msg_group_t */
    strmap_t dedups;  /* FIFO: key -> dedup_t */
    dedup_t *dedup_head, *dedup_tail;
    strmap_t attempts; /* FIFO: ReceiveRequestAttemptId -> attempt_t */
    attempt_t *attempt_head, *attempt_tail;
    int max_receives;                 /* RedrivePolicy maxReceiveCount, 0 = no redrive */
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
    strmap_t deleted;       /* "account/region/name" -> int64_t mono ms of its DeleteQueue */
    move_task_t *tasks;     /* message move tasks, newest first */
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
/* The InvalidParameterValue of a bad queue name (-1). */
int queue_name_error(aws_error_t *err);
/* True when attrs ask for FifoQueue=true. */
bool fifo_requested(const sqs_attr_t *attrs, size_t n);
/* q's ARN into out. */
void queue_arn(const sqs_queue_t *q, char *out, size_t cap);
/* Parses a normalised RedrivePolicy; -1 when it is not one. */
int redrive_parse(const char *v, char *target, size_t cap, int *max);
/* Whether a RedriveAllowPolicy (normalised; NULL = none) admits source_arn. */
bool redrive_allows(const char *allow, const char *source_arn);
/* Sets q->max_receives from its RedrivePolicy. */
void queue_redrive_update(sqs_queue_t *q);

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

/* ---- fifo.c ---- */
static inline bool queue_fifo(const sqs_queue_t *q)
{
    return q->val[QA_FIFO] != NULL;
}
/* Adds m (m->group_id) to its group, creating the group; m->where already set. */
void fifo_link(sqs_queue_t *q, sqs_msg_t *m);
/* Removes m from its group (freeing an empty group) and settles the group. */
void fifo_unlink(sqs_queue_t *q, sqs_msg_t *m);
/* Puts g's head in or out of the visible heap as the group's state requires. */
void fifo_settle(sqs_queue_t *q, msg_group_t *g);
/* The live deduplication record for (group, id), or NULL. */
const dedup_t *fifo_dedup_find(const sqs_queue_t *q, const char *group, const char *id,
                               int64_t mono_now);
/* Records m (group_id, dedup_id, seq, message_id) for the window; journaled. */
void fifo_dedup_add(sqs_engine_t *e, const sqs_ctx_t *ctx, sqs_queue_t *q, const sqs_msg_t *m);
/* Re-creates a journaled record; -1 when corrupt or its queue is unknown. */
int fifo_dedup_restore(sqs_engine_t *e, const char *jkey, const void *blob, size_t len,
                       uint64_t wall_now, uint64_t mono_now);
/* The live receive attempt with this id, or NULL. */
attempt_t *fifo_attempt_find(sqs_queue_t *q, const char *id, int64_t mono_now);
/* A fresh (emptied) attempt record for id, live for the window. */
attempt_t *fifo_attempt_new(sqs_queue_t *q, const char *id, int64_t mono_now);
/* Drops expired deduplication records (journaled) and receive attempts. */
void fifo_expire(sqs_engine_t *e, sqs_queue_t *q, int64_t mono_now);
/* When the next deduplication record expires (INT64_MAX: none). */
int64_t fifo_deadline(const sqs_queue_t *q);
/* Frees groups, records and attempts; journal: delete the records too. */
void fifo_free(sqs_engine_t *e, sqs_queue_t *q, bool journal);

/* ---- move.c ---- */
/* Runs the steps of move tasks that are due. */
void move_tick(sqs_engine_t *e, uint64_t wall_now, uint64_t mono_now);
/* The next step of a running task (INT64_MAX: none). */
int64_t move_deadline(const sqs_engine_t *e);
/* Drops the tasks whose source is queue qid (deleted), journaling it. */
void move_forget_queue(sqs_engine_t *e, uint64_t qid);
void move_free_all(sqs_engine_t *e);
/* Re-creates a journaled task (key = task id); -1 when corrupt. */
int move_task_restore(sqs_engine_t *e, const char *key, const void *blob, size_t len,
                      uint64_t mono_now);

/* ---- queue.c ---- */
void queue_free(sqs_queue_t *q);
void msg_free(sqs_msg_t *m);
void queue_journal_put(sqs_engine_t *e, const sqs_queue_t *q);
/* The queue an SQS ARN names, or NULL. */
sqs_queue_t *queue_by_arn(sqs_engine_t *e, const char *arn);
sqs_queue_t *queue_find(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_ref_t *ref,
                        aws_error_t *err);
void queue_wake(sqs_queue_t *q);
/* Links a message into q (map, age list, heap according to m->where/due). */
void queue_msg_link(sqs_queue_t *q, sqs_msg_t *m);
/* Unlinks a message from q (journaling its delete when e is not NULL) without
 * freeing it. */
void queue_msg_unlink(sqs_engine_t *e, sqs_queue_t *q, sqs_msg_t *m);
/* Unlinks and frees a message, journaling the delete when journal is true. */
void queue_msg_drop(sqs_engine_t *e, sqs_queue_t *q, sqs_msg_t *m, bool journal);
/* Moves a linked message to state where (MSG_VISIBLE, MSG_DELAYED or
 * MSG_INFLIGHT with due_mono set), keeping heaps, counters and groups right. */
void queue_msg_set(sqs_queue_t *q, sqs_msg_t *m, int where);
/* Moves m from q to dest as a new entry there (journaled, dest's waiters woken).
 * dlq: a dead-letter move (keeps the receive count, records q as its source,
 * keeps the retention clock unless dest is FIFO); otherwise a move task's
 * redrive (a fresh message: count and source cleared, retention restarted). */
void msg_move(sqs_engine_t *e, const sqs_ctx_t *ctx, sqs_queue_t *q, sqs_msg_t *m,
              sqs_queue_t *dest, bool dlq);
/* Converts a monotonic time to wall time using a pair of current clocks. */
int64_t mono_to_wall(int64_t mono, uint64_t wall_now, uint64_t mono_now);
/* Makes due timers visible and drops expired messages of q at mono_now. */
void queue_advance(sqs_engine_t *e, sqs_queue_t *q, uint64_t mono_now);
/* The current journal state of m. */
void msg_state_of(const sqs_msg_t *m, uint64_t wall_now, uint64_t mono_now, sqs_msg_state_t *st);

#endif
