/*
 * store — nagare's durable state: SQLite in WAL mode, written by group commit
 * on a thread of its own.
 *
 * The loop thread owns all service state; the store thread owns the SQLite
 * connection. Mutations are appended to the current batch (data copied); at
 * the end of each loop turn (a uv_check handle) the batch is handed to the
 * store thread, which commits it in one transaction with synchronous=FULL.
 * While batch N commits, batch N+1 accumulates and is handed over as soon as
 * N is reported back (uv_async): that is group commit. Durability callbacks
 * registered while a batch was current run on the loop thread, in order,
 * once that batch is committed, so a response that depends on a mutation is
 * sent only after it is on disk.
 *
 * Within the pending (not yet handed over) batch, a msg_put followed by a
 * msg_delete of the same seq cancels both, and successive msg_state calls for
 * one seq keep only the last; everything else keeps its order. This relies on
 * a message's seq never being reused for another message.
 *
 * Every function here is called on the loop thread only. No SQL lives outside
 * src/store/; engines never include this header (glue code forwards their
 * journal calls here). Ids and seqs are stored as SQLite integers and must be
 * below 2^63. This is not a query layer: reads happen once, at startup.
 */
#ifndef NAGARE_STORE_STORE_H
#define NAGARE_STORE_STORE_H

#include <uv.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;

typedef struct store_msg_state {
    int64_t visible_at_ms; /* wall clock ms */
    uint32_t receive_count;
    int64_t first_receive_ms;
} store_msg_state_t;

/* Opens (creating) DIR/nagare.db, creating dir if missing, applies the schema,
 * starts the store thread and hooks a uv_check handle on loop that hands the
 * pending batch over at the end of each loop turn. dir == NULL: in-memory mode,
 * no SQLite and no thread; mutations are dropped and durability callbacks run at
 * the end of the loop turn with status 0. The store's handles are unreferenced
 * while idle, so they never keep the loop alive on their own. Returns 0 and sets
 * *out, or -1 with a message in errbuf (and *out untouched). */
int store_open(uv_loop_t *loop, const char *dir, store_t **out, char *errbuf, size_t errlen);
/* Commits everything pending (waiting for the store thread), calling every
 * pending durability callback before it returns, then stops the thread, closes
 * the database and closes the uv handles. The memory is released by the handles'
 * close callbacks, so the loop must run once more (uv_run) after this, as for any
 * libuv handle. Not to be called from inside a store callback. st may be NULL. */
void store_close(store_t *st);

/* Mutations, appended to the current batch. blob is copied; the caller keeps it. */
void store_queue_put(store_t *st, uint64_t queue_id, const void *blob, size_t len);
/* Deletes the queue row and all its messages. */
void store_queue_delete(store_t *st, uint64_t queue_id);
/* Deletes the queue's messages with seq <= max_seq (UINT64_MAX: all of them). */
void store_queue_purge(store_t *st, uint64_t queue_id, uint64_t max_seq);
/* Inserts (or replaces) a message row; blob and *state are copied. */
void store_msg_put(store_t *st, uint64_t seq, uint64_t queue_id, const void *blob, size_t len,
                   const store_msg_state_t *state);
/* Updates a message's receive state; no effect if the message is gone. */
void store_msg_state(store_t *st, uint64_t seq, const store_msg_state_t *state);
void store_msg_delete(store_t *st, uint64_t seq);

/* Calls cb(ud, status) on the loop thread once every mutation appended so far
 * is committed (status 0) or its commit failed (status -1, logged); right at the
 * end of this loop turn when nothing is pending, and always with status 0 in
 * in-memory mode. Callbacks run in registration order and never synchronously
 * from this call (store_close runs the pending ones before returning). */
void store_when_durable(store_t *st, void (*cb)(void *ud, int status), void *ud);

/* A counter of the mutations appended so far that a response must wait for
 * (never decreases; stays 0 in in-memory mode). The gateway compares it before
 * and after a handler to know whether to wait for store_when_durable.
 * store_msg_state does not count: a receive's new visibility and count are
 * committed with the next batch, but a crash before that only makes the
 * message visible again early (at-least-once delivery), so receives do not
 * wait for the disk. Sends, deletes and queue changes do; so does
 * ChangeMessageVisibility, whose handler asks for it explicitly. */
uint64_t store_mutation_seq(const store_t *st);

/* Startup: reads everything committed back, synchronously, before serving.
 * Queues first (by id), then messages (by seq). blob is valid only during the
 * callback. Callbacks return 0 to continue, -1 to abort. Returns 0, or -1 with
 * a message in errbuf (an aborting callback also gives -1). In-memory: no rows. */
typedef struct store_load_cbs {
    int (*queue)(void *ud, uint64_t queue_id, const void *blob, size_t len);
    int (*msg)(void *ud, uint64_t seq, uint64_t queue_id, const void *blob, size_t len,
               const store_msg_state_t *state);
} store_load_cbs_t;
int store_load(store_t *st, const store_load_cbs_t *cbs, void *ud, char *errbuf, size_t errlen);

/* Generic key/value rows for later services (IAM, Lambda): (kind, key) -> blob.
 * kind, key and blob are copied. */
void store_kv_put(store_t *st, const char *kind, const char *key, const void *blob, size_t len);
void store_kv_delete(store_t *st, const char *kind, const char *key);
/* Reads the committed rows of one kind, by key, synchronously (key and blob valid
 * only during the callback). 0, or -1 when cb aborted (returned -1) or SQLite
 * failed (logged). */
int store_kv_load(store_t *st, const char *kind,
                  int (*cb)(void *ud, const char *key, const void *blob, size_t len), void *ud);

/* Log events (CloudWatch Logs): a table of their own, because a log group's
 * deletion or retention removes its events in one statement. The message is
 * copied. */
typedef struct store_log_event {
    uint64_t seq, group_id, stream_id;
    int64_t ts, ingest; /* event time and ingestion time, ms since the epoch */
    const void *message;
    size_t len;
} store_log_event_t;
void store_log_put(store_t *st, const store_log_event_t *ev);
/* Deletes every event of a group, or of a stream. */
void store_log_group_purge(store_t *st, uint64_t group_id);
void store_log_stream_purge(store_t *st, uint64_t stream_id);
/* Deletes a group's events whose timestamp is before before_ts (retention). */
void store_log_expire(store_t *st, uint64_t group_id, int64_t before_ts);
/* Reads every committed event back in seq order (ev and its message valid only
 * during cb). 0, or -1 when cb aborted or SQLite failed (logged). */
int store_log_load(store_t *st, int (*cb)(void *ud, const store_log_event_t *ev), void *ud);

/* Figures for health/bench: batches committed (transactions), mutations
 * committed (after coalescing), mutations appended but not yet committed.
 * Mean batch size = mutations / batches. */
typedef struct store_stats {
    uint64_t batches, mutations, pending;
} store_stats_t;
void store_stats_get(const store_t *st, store_stats_t *out);

#endif
