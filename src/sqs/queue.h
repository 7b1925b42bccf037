/*
 * queue — the SQS queue engine (pure: no HTTP, JSON, XML, libuv or SQLite).
 *
 * The engine owns every queue and message of one server. Callers (sqs/api.c, the
 * Lambda event source mappings) pass C structs in and get C structs and an
 * aws_error_t out; each action returns 0 or -1 with `err` filled with AWS's code,
 * query-protocol code, HTTP status and message. Single-message actions
 * (SendMessage, DeleteMessage, ChangeMessageVisibility) are batches of one with
 * `batch` false: the caller maps the entry's error to the request error.
 *
 * Queues are keyed by (account, region, name): the region always comes from the
 * context, the account from the queue URL. Time never comes from a clock: every
 * call carries the wall clock (what users see) and the monotonic clock
 * (deadlines). sqs_engine_next_deadline() tells the caller when to call
 * sqs_engine_tick(), which makes delayed and timed-out messages visible and
 * drops messages past their retention period.
 *
 * Long polling: a receive that finds nothing returns 0 messages and the wait the
 * caller should apply (`wait_seconds`); the caller parks an sqs_waiter_t on the
 * queue and the engine calls it back when messages become visible or the queue
 * is deleted. Persistence: every mutation is reported through an sqs_journal_t
 * (the engine never touches SQLite) and replayed at start-up with
 * sqs_queue_restore()/sqs_msg_restore().
 *
 * FIFO queues (message groups, deduplication, receive attempts), dead-letter
 * redrive and message move tasks are here. JSON is the API layer's: it passes
 * RedrivePolicy normalised as {"deadLetterTargetArn":"<arn>","maxReceiveCount":<n>}
 * and RedriveAllowPolicy as {"redrivePermission":"<p>"[,"sourceQueueArns":[..]]};
 * Policy is stored as given. Single-threaded: call everything from the loop thread.
 */
#ifndef NAGARE_SQS_QUEUE_H
#define NAGARE_SQS_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/error.h"

#define SQS_BATCH_MAX       10      /* entries per batch request */
#define SQS_BATCH_BYTES_MAX 1048576 /* sum of a SendMessageBatch's payloads */
#define SQS_LIST_MAX        1000    /* ListQueues page size */
#define SQS_TAGS_MAX        50      /* tags per queue */
#define SQS_MSG_ATTRS_MAX   10      /* message attributes per message */

#define SQS_ARN_MAX 256 /* "arn:aws:sqs:" + region + account + 80-character name */

typedef struct sqs_engine sqs_engine_t;

/* The parts of an SQS queue ARN, arn:aws:sqs:<region>:<account>:<name>. */
typedef struct sqs_arn {
    char region[32];
    char account[16];
    char name[96];
} sqs_arn_t;

/* Splits an SQS queue ARN; -1 when arn is not one. */
int sqs_arn_parse(const char *arn, sqs_arn_t *out);

/* Mutable state of a message as persisted (wall clock milliseconds). */
typedef struct sqs_msg_state {
    int64_t visible_at_ms;    /* wall clock time the message is (or was) visible from */
    uint32_t receive_count;   /* ApproximateReceiveCount */
    int64_t first_receive_ms; /* ApproximateFirstReceiveTimestamp, 0 = never received */
} sqs_msg_state_t;

/* Where mutations go. Any callback may be NULL; the journal itself may be NULL.
 * Blobs are only valid during the call; the store copies them. */
typedef struct sqs_journal {
    void *ud;
    /* a queue was created or its attributes, tags or purge time changed */
    void (*queue_put)(void *ud, uint64_t queue_id, const void *blob, size_t len);
    /* a queue was deleted; its messages go with it */
    void (*queue_delete)(void *ud, uint64_t queue_id);
    /* the queue's messages with seq <= max_seq were purged */
    void (*queue_purge)(void *ud, uint64_t queue_id, uint64_t max_seq);
    /* a message was sent */
    void (*msg_put)(void *ud, uint64_t seq, uint64_t queue_id, const void *blob, size_t len,
                    const sqs_msg_state_t *st);
    /* a message was received or its visibility changed */
    void (*msg_state)(void *ud, uint64_t seq, const sqs_msg_state_t *st);
    /* a message was deleted (DeleteMessage or retention) */
    void (*msg_delete)(void *ud, uint64_t seq);
    /* a keyed record (kind SQS_KV_*) was written or removed */
    void (*kv_put)(void *ud, const char *kind, const char *key, const void *blob, size_t len);
    void (*kv_delete)(void *ud, const char *kind, const char *key);
} sqs_journal_t;

/* Kinds of keyed records in the journal (restore with sqs_kv_restore). */
#define SQS_KV_DEDUP "sqs-dedup" /* FIFO deduplication records */
#define SQS_KV_TASK  "sqs-task"  /* message move tasks */

/* Who is calling and when. account/region: the caller's (ListQueues, CreateQueue,
 * default GetQueueUrl owner); sender_id: SenderId of messages sent. */
typedef struct sqs_ctx {
    const char *account;
    const char *region;
    const char *sender_id;
    uint64_t now_ms;  /* wall clock, ms since the epoch */
    uint64_t mono_ms; /* monotonic clock, ms */
} sqs_ctx_t;

/* A name/value string pair: queue attributes and tags, in and out. */
typedef struct sqs_attr {
    const char *name;
    const char *value;
} sqs_attr_t;

/* An output list of name/value pairs; the strings are owned by the list. */
typedef struct sqs_kv_list {
    sqs_attr_t *items;
    size_t n;
} sqs_kv_list_t;

/* Frees the list's strings and array and empties it. */
void sqs_kv_list_clear(sqs_kv_list_t *l);

/* ---- engine ---------------------------------------------------------------- */

/* A new empty engine reporting to journal (may be NULL; the struct is copied).
 * Free with sqs_engine_free. */
sqs_engine_t *sqs_engine_new(const sqs_journal_t *journal);
/* Frees every queue and message. Parked waiters are unlinked without a callback. */
void sqs_engine_free(sqs_engine_t *e);
/* The earliest monotonic time at which a message becomes visible or expires
 * (UINT64_MAX when nothing is pending). Cost: O(number of queues). */
uint64_t sqs_engine_next_deadline(const sqs_engine_t *e);
/* Processes everything due at mono_now (wall_now is the matching wall clock):
 * delayed and in-flight messages whose time has come become visible (waking
 * waiters), messages past the retention period are deleted. */
void sqs_engine_tick(sqs_engine_t *e, uint64_t wall_now, uint64_t mono_now);

/* ---- queues ---------------------------------------------------------------- */

typedef struct sqs_queue_ref {
    const char *account; /* owner account from the queue URL; NULL = ctx->account */
    const char *name;
} sqs_queue_ref_t;

typedef struct sqs_create_in {
    const char *name;
    const sqs_attr_t *attrs;
    size_t n_attrs;
    const sqs_attr_t *tags; /* name = key */
    size_t n_tags;
} sqs_create_in_t;

/* CreateQueue in ctx->account/ctx->region. Idempotent when the queue exists with
 * the same attributes (tags are then ignored, as AWS does); QueueNameExists when
 * an attribute differs. Errors: InvalidParameterValue (name), InvalidAttributeName,
 * InvalidAttributeValue, UnsupportedOperation (FIFO), tag errors as sqs_queue_tag. */
int sqs_queue_create(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_create_in_t *in,
                     aws_error_t *err);
/* GetQueueUrl: 0 when the queue ref names an existing queue in ctx->region, else
 * QueueDoesNotExist. The caller builds the URL from the account and name. */
int sqs_queue_url_get(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_ref_t *in,
                      aws_error_t *err);

typedef struct sqs_list_in {
    const char *prefix;     /* NULL or "" = all */
    int max_results;        /* 0 = not given (up to 1000, no NextToken); else 1..1000 */
    const char *next_token; /* NULL or a token from a previous page */
} sqs_list_in_t;

typedef struct sqs_list_out {
    char **names; /* queue names of ctx->account in ctx->region, sorted */
    size_t n;
    char *next_token; /* NULL when there is no further page */
} sqs_list_out_t;

/* ListQueues. Errors: InvalidParameterValue (MaxResults, NextToken). On success
 * out is filled and must be released with sqs_list_out_clear. */
int sqs_queue_list(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_list_in_t *in,
                   sqs_list_out_t *out, aws_error_t *err);
void sqs_list_out_clear(sqs_list_out_t *out);
/* ListDeadLetterSourceQueues: the queues of dlq's account and region whose
 * RedrivePolicy names dlq, paged like ListQueues (prefix ignored). */
int sqs_queue_dlq_sources(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_ref_t *dlq,
                          const sqs_list_in_t *in, sqs_list_out_t *out, aws_error_t *err);

/* DeleteQueue: the queue and its messages go at once; its waiters are woken. */
int sqs_queue_delete(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_ref_t *in,
                     aws_error_t *err);
/* PurgeQueue: deletes every message sent before now. A second purge within 60 s
 * fails with PurgeQueueInProgress (403). */
int sqs_queue_purge(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_ref_t *in,
                    aws_error_t *err);

typedef struct sqs_attrs_get_in {
    sqs_queue_ref_t q;
    const char *const *names; /* "All" or attribute names; n = 0 returns nothing */
    size_t n;
} sqs_attrs_get_in_t;

/* GetQueueAttributes. Unknown names -> InvalidAttributeName. On success out holds
 * the requested attributes (those without a value, e.g. an unset Policy, are left
 * out as AWS does); release with sqs_kv_list_clear. */
int sqs_queue_attrs_get(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_attrs_get_in_t *in,
                        sqs_kv_list_t *out, aws_error_t *err);

typedef struct sqs_attrs_set_in {
    sqs_queue_ref_t q;
    const sqs_attr_t *attrs;
    size_t n;
} sqs_attrs_set_in_t;

/* SetQueueAttributes: all or nothing. An empty value for Policy, RedrivePolicy,
 * RedriveAllowPolicy or KmsMasterKeyId removes it. */
int sqs_queue_attrs_set(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_attrs_set_in_t *in,
                        aws_error_t *err);

typedef struct sqs_tag_in {
    sqs_queue_ref_t q;
    const sqs_attr_t *tags;  /* TagQueue: name = key */
    const char *const *keys; /* UntagQueue */
    size_t n;
} sqs_tag_in_t;

/* TagQueue (uses tags), UntagQueue (uses keys), ListQueueTags (out, release with
 * sqs_kv_list_clear). Keys 1-128, values 0-256 characters, at most 50 tags. */
int sqs_queue_tag(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_tag_in_t *in, aws_error_t *err);
int sqs_queue_untag(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_tag_in_t *in,
                    aws_error_t *err);
int sqs_queue_tags_list(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_ref_t *in,
                        sqs_kv_list_t *out, aws_error_t *err);

/* ---- messages ---------------------------------------------------------------- */

/* A message attribute. data_type is "String", "Number" or "Binary", optionally
 * followed by ".custom". String/Number use string_value, Binary uses binary/len. */
typedef struct sqs_msg_attr {
    const char *name;
    const char *data_type;
    const char *string_value;
    const void *binary_value;
    size_t binary_len;
} sqs_msg_attr_t;

typedef struct sqs_send_entry {
    const char *id; /* batch entry Id; ignored unless batch */
    const char *body;
    size_t body_len;
    int delay_seconds; /* -1 = the queue's DelaySeconds */
    const sqs_msg_attr_t *attrs;
    size_t n_attrs;
    const char *trace_header; /* AWSTraceHeader system attribute or NULL */
    const char *group_id;     /* MessageGroupId or NULL (required on FIFO queues) */
    const char *dedup_id;     /* MessageDeduplicationId or NULL (FIFO queues only) */
} sqs_send_entry_t;

typedef struct sqs_send_in {
    sqs_queue_ref_t q;
    const sqs_send_entry_t *entries;
    size_t n;
    bool batch; /* SendMessageBatch: entry count, ids and total size are checked */
} sqs_send_in_t;

typedef struct sqs_send_result {
    aws_error_t err;          /* err.code NULL on success */
    char message_id[37];      /* UUID v4 */
    char md5_body[33];        /* hex */
    char md5_attrs[33];       /* "" when no message attributes */
    char md5_sys_attrs[33];   /* "" when no system attributes */
    char sequence_number[21]; /* FIFO queues; "" otherwise */
} sqs_send_result_t;

typedef struct sqs_send_out {
    sqs_send_result_t results[SQS_BATCH_MAX]; /* in entry order */
    size_t n;
} sqs_send_out_t;

/* SendMessage / SendMessageBatch. -1 for request-level errors (QueueDoesNotExist,
 * EmptyBatchRequest, TooManyEntriesInBatchRequest, BatchEntryIdsNotDistinct,
 * InvalidBatchEntryId, BatchRequestTooLong); otherwise 0 with a result per entry,
 * each either sent or failed (InvalidParameterValue, InvalidMessageContents,
 * MissingParameter). Sent messages wake the queue's waiters before returning.
 * On a FIFO queue a send whose deduplication id was seen in the last five
 * minutes succeeds with the original MessageId and SequenceNumber and enqueues
 * nothing. */
int sqs_msg_send(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_send_in_t *in,
                 sqs_send_out_t *out, aws_error_t *err);

typedef struct sqs_receive_in {
    sqs_queue_ref_t q;
    int max_messages;                  /* 0 = not given (1); else 1..10 */
    int visibility_timeout;            /* -1 = the queue's */
    int wait_seconds;                  /* -1 = the queue's ReceiveMessageWaitTimeSeconds */
    const char *const *sys_attr_names; /* AttributeNames + MessageSystemAttributeNames */
    size_t n_sys_attr_names;
    const char *const *msg_attr_names; /* "All", ".*", "prefix.*" or exact names */
    size_t n_msg_attr_names;
    const char *attempt_id; /* ReceiveRequestAttemptId (FIFO queues) or NULL */
} sqs_receive_in_t;

/* A received message; every pointer is owned by the sqs_receive_out_t. */
typedef struct sqs_received {
    char *message_id;
    char *receipt_handle;
    char *body;
    size_t body_len;
    char md5_body[33];
    char md5_attrs[33]; /* over the returned attributes; "" when none */
    sqs_kv_list_t sys_attrs;
    sqs_msg_attr_t *attrs; /* selected message attributes, sorted by name */
    size_t n_attrs;
} sqs_received_t;

typedef struct sqs_receive_out {
    sqs_received_t msgs[SQS_BATCH_MAX];
    size_t n;
    int wait_seconds; /* long-poll time to apply when n == 0 */
} sqs_receive_out_t;

/* ReceiveMessage: up to max_messages of the oldest visible messages, each with a
 * new receipt handle, made invisible for the visibility timeout. A message
 * already received maxReceiveCount times moves to the dead-letter queue of the
 * queue's RedrivePolicy instead. FIFO queues deliver each group in order, one
 * batch of a group at a time, and return a retried ReceiveRequestAttemptId's
 * messages and handles again for five minutes. Errors:
 * QueueDoesNotExist, InvalidParameterValue (ranges), InvalidAttributeName. On
 * success release out with sqs_receive_out_clear. */
int sqs_msg_receive(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_receive_in_t *in,
                    sqs_receive_out_t *out, aws_error_t *err);
void sqs_receive_out_clear(sqs_receive_out_t *out);

typedef struct sqs_handle_entry {
    const char *id; /* batch entry Id; ignored unless batch */
    const char *receipt_handle;
    int visibility_timeout; /* ChangeMessageVisibility only */
} sqs_handle_entry_t;

typedef struct sqs_handle_in {
    sqs_queue_ref_t q;
    const sqs_handle_entry_t *entries;
    size_t n;
    bool batch;
} sqs_handle_in_t;

typedef struct sqs_handle_out {
    aws_error_t errs[SQS_BATCH_MAX]; /* per entry; code NULL = success */
    size_t n;
} sqs_handle_out_t;

/* DeleteMessage(Batch). A malformed handle fails with ReceiptHandleIsInvalid; a
 * well-formed handle whose message is gone, or which is not the latest handle of
 * its message, succeeds without deleting anything (AWS documents this). */
int sqs_msg_delete(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_handle_in_t *in,
                   sqs_handle_out_t *out, aws_error_t *err);
/* ChangeMessageVisibility(Batch): 0-43200 s from now, and not beyond 12 hours
 * after the receive; MessageNotInflight when the message is visible; 0 makes it
 * visible at once (waking waiters). */
int sqs_msg_visibility_change(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_handle_in_t *in,
                              sqs_handle_out_t *out, aws_error_t *err);

/* ---- long polling ------------------------------------------------------------- */

typedef struct sqs_waiter sqs_waiter_t;
/* Called at most once per add, after the waiter was unlinked, synchronously at the
 * end of the engine call that made messages visible. It may receive from the queue
 * and park itself again; it must not delete or purge the queue. */
typedef void (*sqs_waiter_cb)(sqs_waiter_t *w);

/* Caller-allocated; only cb and data are the caller's fields. */
struct sqs_waiter {
    sqs_waiter_cb cb;
    void *data;
    /* private */
    struct sqs_waiter *prev, *next;
    void *queue;
};

/* Parks w on the queue until messages become visible or the queue is deleted.
 * -1 with QueueDoesNotExist when there is no such queue (cb is then never called).
 * w must not already be parked. */
int sqs_waiter_add(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_ref_t *q, sqs_waiter_t *w,
                   aws_error_t *err);
/* Unparks w (timeout, client gone); harmless when it is not parked. */
void sqs_waiter_remove(sqs_waiter_t *w);

/* ---- restore ------------------------------------------------------------------- */

/* Recreates a queue from its journal blob. -1 on a corrupt blob or duplicate id. */
int sqs_queue_restore(sqs_engine_t *e, uint64_t queue_id, const void *blob, size_t len);
/* Recreates a message of a restored queue (feed them in seq order: inserts are then
 * O(1)). -1 on a corrupt blob or state, an unknown queue or a duplicate seq.
 * Messages already past retention are kept until the next sqs_engine_tick, which
 * deletes them through the journal. */
int sqs_msg_restore(sqs_engine_t *e, uint64_t seq, uint64_t queue_id, const void *blob, size_t len,
                    const sqs_msg_state_t *st, uint64_t wall_now, uint64_t mono_now);

/* What authorization reads of a queue: its Policy (NULL: none) and tags. The
 * pointers are the queue's, valid until the next engine call. */
typedef struct sqs_queue_info {
    const char *policy;
    const char *const *tag_keys, *const *tag_values;
    size_t n_tags;
} sqs_queue_info_t;

/* The queue an ARN names: 0 with *out filled, -1 when there is none. */
int sqs_queue_info(const sqs_engine_t *e, const char *arn, sqs_queue_info_t *out);

/* ---- message move tasks --------------------------------------------------------- */

#define SQS_MOVE_LIST_MAX   10  /* ListMessageMoveTasks MaxResults */
#define SQS_TASK_HANDLE_MAX 512 /* base64 of {"taskId":..,"sourceArn":..} */

typedef struct sqs_move_in {
    const char *source_arn; /* a dead-letter queue */
    const char *dest_arn;   /* NULL: each message's original source queue */
    int rate;               /* MaxNumberOfMessagesPerSecond 1-500, 0 = not given */
} sqs_move_in_t;

typedef struct sqs_move_info {
    char handle[SQS_TASK_HANDLE_MAX]; /* "" unless RUNNING */
    const char *status;               /* RUNNING, COMPLETED, CANCELLED, FAILED */
    char source_arn[SQS_ARN_MAX];
    char dest_arn[SQS_ARN_MAX]; /* "" when none was given */
    char failure[64];           /* FailureReason, "" when none */
    int rate;                   /* 0 when none was given */
    uint64_t moved, to_move;
    int64_t started_ms;
} sqs_move_info_t;

/* StartMessageMoveTask: the task handle into handle (cap bytes). Errors:
 * ResourceNotFoundException (a queue ARN), InvalidParameterValue (not a DLQ,
 * rate, a task already running, destination of another type). The task runs in
 * sqs_engine_tick. */
int sqs_move_start(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_move_in_t *in, char *handle,
                   size_t cap, aws_error_t *err);
/* ListMessageMoveTasks: the source's most recent tasks, newest first, up to
 * max_results (0 = 1). */
int sqs_move_list(sqs_engine_t *e, const sqs_ctx_t *ctx, const char *source_arn, int max_results,
                  sqs_move_info_t out[SQS_MOVE_LIST_MAX], size_t *n, aws_error_t *err);
/* CancelMessageMoveTask: *moved = messages moved so far. */
int sqs_move_cancel(sqs_engine_t *e, const sqs_ctx_t *ctx, const char *handle, uint64_t *moved,
                    aws_error_t *err);
/* The task id and source ARN a handle carries; -1 when it is not a handle. */
int sqs_move_handle_parse(const char *handle, char id[37], char *source_arn, size_t cap);

/* Recreates a keyed record (kind SQS_KV_*) journaled through kv_put, after the
 * queues and messages. -1 on a corrupt record or one whose queue is gone. */
int sqs_kv_restore(sqs_engine_t *e, const char *kind, const char *key, const void *blob, size_t len,
                   uint64_t wall_now, uint64_t mono_now);

#endif
