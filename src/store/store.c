/*
 * store — SQLite persistence with group commit on a thread of its own.
 *
 * A batch is an array of small op records (one malloc per op at most, for the
 * copied data) plus the durability callbacks registered while it was current.
 * The loop thread appends to `cur`; a uv_check handle hands `cur` to the store
 * thread at the end of a loop turn unless a batch is already `inflight`. The
 * store thread runs every op of the batch inside one transaction, frees the
 * copied data and posts the batch back (mutex-protected slot + uv_async); the
 * loop thread then runs the batch's callbacks and recycles it. At most one
 * batch is in flight, so batch N+1 grows while N commits.
 *
 * Loop liveness: the check and async handles are unreferenced; the async handle
 * is referenced only while a batch is in flight (so uv_run waits for the
 * commit), and a uv_idle handle is started while `cur` has work and nothing is
 * in flight, so the loop does not block in poll and the check runs this turn.
 *
 * Checkpoints (copying the WAL back into the database file, and its fsync)
 * run on a thread and connection of their own, started the first time the
 * WAL reaches CKPT_FRAMES: done by the committing thread, as SQLite's
 * automatic checkpoint does, they held up one commit in fifteen for several
 * milliseconds, a third of all commit time. The checkpointer's PASSIVE
 * checkpoint never blocks the writer. Should it fall behind, the committing
 * thread checkpoints itself once the WAL reaches CKPT_HARD_FRAMES, which
 * bounds the WAL.
 *
 * Ops bind one shared parameter numbering (?1 id or seq, ?2 queue id or max
 * seq, ?3 blob, ?4-?6 message state, ?7 kind, ?8 key, ?9 a second id), so one
 * binder and a table of SQL text per op type do all the writing. Log events
 * use ?1 seq, ?2 stream id, ?9 group id, ?3 the message, and the state's
 * first and last fields (?4 timestamp, ?6 ingestion time). Runs of message
 * puts or deletes (a SendMessageBatch, a DeleteMessageBatch) are written by
 * one multi-row statement each, up to RUN_MAX rows: a statement's step, reset
 * and bindings cost about as much as the row it writes.
 */
#include "store/store.h"

#include "base/buf.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SCHEMA_VERSION   2     /* 2: log_events */
#define SPARE_MAX        2     /* recycled batches kept */
#define KEEP_OPS_MAX     65536 /* larger op arrays are freed on recycle */
#define NO_OP            UINT32_MAX
#define RUN_MAX          16    /* message rows one statement writes */
#define CKPT_FRAMES      1000  /* WAL frames that start a checkpoint (SQLite's default) */
#define CKPT_HARD_FRAMES 10000 /* ... that the committing thread checkpoints itself */

enum op_type {
    OP_NONE, /* cancelled by coalescing */
    OP_QUEUE_PUT,
    OP_QUEUE_DELETE,
    OP_QUEUE_PURGE,
    OP_MSG_PUT,
    OP_MSG_STATE,
    OP_MSG_DELETE,
    OP_KV_PUT,
    OP_KV_DELETE,
    OP_LOG_PUT,
    OP_LOG_GROUP_PURGE,
    OP_LOG_STREAM_PURGE,
    OP_LOG_EXPIRE,
    OP_COUNT
};

/* Up to two statements per op type, run in order with the same bindings. */
static const char *const op_sql[OP_COUNT][2] = {
    [OP_QUEUE_PUT] = {"INSERT OR REPLACE INTO queues(id, blob) VALUES(?1, ?3)", NULL},
    [OP_QUEUE_DELETE] = {"DELETE FROM messages WHERE queue_id = ?1",
                         "DELETE FROM queues WHERE id = ?1"},
    [OP_QUEUE_PURGE] = {"DELETE FROM messages WHERE queue_id = ?1 AND seq <= ?2", NULL},
    [OP_MSG_PUT] = {"INSERT OR REPLACE INTO messages(seq, queue_id, blob, visible_at,"
                    " receive_count, first_receive) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                    NULL},
    [OP_MSG_STATE] = {"UPDATE messages SET visible_at = ?4, receive_count = ?5,"
                      " first_receive = ?6 WHERE seq = ?1",
                      NULL},
    [OP_MSG_DELETE] = {"DELETE FROM messages WHERE seq = ?1", NULL},
    [OP_KV_PUT] = {"INSERT OR REPLACE INTO kv(kind, key, blob) VALUES(?7, ?8, ?3)", NULL},
    [OP_KV_DELETE] = {"DELETE FROM kv WHERE kind = ?7 AND key = ?8", NULL},
    [OP_LOG_PUT] = {"INSERT OR REPLACE INTO log_events(seq, stream_id, group_id, ts, ingest,"
                    " message) VALUES(?1, ?2, ?9, ?4, ?6, ?3)",
                    NULL},
    [OP_LOG_GROUP_PURGE] = {"DELETE FROM log_events WHERE group_id = ?1", NULL},
    [OP_LOG_STREAM_PURGE] = {"DELETE FROM log_events WHERE stream_id = ?1", NULL},
    [OP_LOG_EXPIRE] = {"DELETE FROM log_events WHERE group_id = ?1 AND ts < ?4", NULL},
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS queues(id INTEGER PRIMARY KEY, blob BLOB);"
    "CREATE TABLE IF NOT EXISTS messages(seq INTEGER PRIMARY KEY, queue_id INTEGER,"
    " blob BLOB, visible_at INTEGER, receive_count INTEGER, first_receive INTEGER);"
    "CREATE INDEX IF NOT EXISTS messages_queue ON messages(queue_id);"
    "CREATE TABLE IF NOT EXISTS kv(kind TEXT, key TEXT, blob BLOB, PRIMARY KEY(kind, key));"
    "CREATE TABLE IF NOT EXISTS log_events(seq INTEGER PRIMARY KEY, stream_id INTEGER,"
    " group_id INTEGER, ts INTEGER, ingest INTEGER, message BLOB);"
    "CREATE INDEX IF NOT EXISTS log_events_group ON log_events(group_id, ts);"
    "CREATE INDEX IF NOT EXISTS log_events_stream ON log_events(stream_id);";

typedef struct op {
    uint8_t type;
    uint64_t id;  /* queue id, or seq for message ops */
    uint64_t arg; /* queue id of a message, or max seq of a purge; a log event's stream */
    uint64_t id2; /* a log event's group id */
    store_msg_state_t state;
    char *mem;        /* owned copy: the blob, or kind\0key\0blob; freed after commit */
    const char *key;  /* kv ops: inside mem (kind is mem itself) */
    const void *blob; /* inside mem, or NULL when the op has no blob */
    size_t len;
} op_t;

typedef struct waiter {
    void (*cb)(void *ud, int status);
    void *ud;
} waiter_t;

typedef struct batch {
    op_t *ops;
    size_t nops, opcap;
    size_t live; /* ops not cancelled */
    waiter_t *waiters;
    size_t nwait, waitcap;
    int status; /* set by the store thread */
    struct batch *next;
} batch_t;

/* seq -> index of the latest msg_put/msg_state op for it in `cur`. Entries of an
 * older generation are empty, so clearing the map at hand-over is gen++. */
typedef struct seq_slot {
    uint64_t seq;
    uint32_t idx;
    uint32_t gen;
} seq_slot_t;

struct store {
    uv_loop_t *loop;
    uv_check_t check;
    uv_idle_t idle;
    uv_async_t async;
    int open_handles;

    sqlite3 *db; /* NULL in in-memory mode */
    sqlite3_stmt *stmt[OP_COUNT][2];
    sqlite3_stmt *put_run[RUN_MAX + 1], *del_run[RUN_MAX + 1]; /* by rows; on first use */
    sqlite3_stmt *begin, *commit, *rollback;

    batch_t *cur, *inflight, *spare;
    size_t nspare;
    seq_slot_t *map;
    size_t mapcap, mapcount;
    uint32_t mapgen;

    /* Shared with the store thread, under mu. */
    uv_thread_t thread;
    bool thread_started;
    uv_mutex_t mu;
    uv_cond_t work_cv, done_cv;
    batch_t *todo, *done;
    bool stop;

    /* The checkpointer: its own thread and connection, started on first use
     * by the store thread; under ck_mu. */
    char *path;
    uv_thread_t ck_thread;
    bool ck_started, ck_want, ck_stop;
    uv_mutex_t ck_mu;
    uv_cond_t ck_cv;

    store_stats_t stats;
    uint64_t appended; /* mutations ever appended: see store_mutation_seq */
};

/* ---- batches ---------------------------------------------------------------- */

static batch_t *batch_get(store_t *st)
{
    batch_t *b = st->spare;
    if (b) {
        st->spare = b->next;
        st->nspare--;
        b->next = NULL;
        return b;
    }
    return xcalloc(1, sizeof(*b));
}

static void batch_free(batch_t *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->nops; i++)
        free(b->ops[i].mem);
    free(b->ops);
    free(b->waiters);
    free(b);
}

/* Empties a batch whose op data was already freed and keeps it for reuse. */
static void batch_recycle(store_t *st, batch_t *b)
{
    if (st->nspare >= SPARE_MAX) {
        batch_free(b);
        return;
    }
    if (b->opcap > KEEP_OPS_MAX) {
        free(b->ops);
        b->ops = NULL;
        b->opcap = 0;
    }
    b->nops = b->live = b->nwait = 0;
    b->status = 0;
    b->next = st->spare;
    st->spare = b;
    st->nspare++;
}

/* ---- the seq map of the current batch --------------------------------------- */

static seq_slot_t *map_slot(store_t *st, uint64_t seq)
{
    size_t mask = st->mapcap - 1;
    size_t i = (size_t)((seq * 0x9E3779B97F4A7C15ull) >> 32) & mask;
    while (st->map[i].gen == st->mapgen && st->map[i].seq != seq)
        i = (i + 1) & mask;
    return &st->map[i];
}

static void map_grow(store_t *st)
{
    seq_slot_t *old = st->map;
    size_t oldcap = st->mapcap;
    st->mapcap = oldcap ? oldcap * 2 : 1024;
    st->map = xcalloc(st->mapcap, sizeof(*st->map));
    /* Generation 0 marks fresh slots empty; live entries move to generation 1. */
    uint32_t gen = st->mapgen;
    st->mapgen = 1;
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].gen == gen) {
            seq_slot_t *s = map_slot(st, old[i].seq);
            *s = old[i];
            s->gen = 1;
        }
    }
    free(old);
}

/* Index of the latest put/state op for seq in cur, or NO_OP. */
static uint32_t map_get(store_t *st, uint64_t seq)
{
    if (!st->mapcount)
        return NO_OP;
    seq_slot_t *s = map_slot(st, seq);
    return s->gen == st->mapgen ? s->idx : NO_OP;
}

static void map_set(store_t *st, uint64_t seq, uint32_t idx)
{
    if ((st->mapcount + 1) * 2 > st->mapcap)
        map_grow(st);
    seq_slot_t *s = map_slot(st, seq);
    if (s->gen != st->mapgen) {
        s->gen = st->mapgen;
        s->seq = seq;
        st->mapcount++;
    }
    s->idx = idx;
}

static void map_clear(store_t *st)
{
    st->mapcount = 0;
    if (++st->mapgen == 0) {
        if (st->map)
            memset(st->map, 0, st->mapcap * sizeof(*st->map));
        st->mapgen = 1;
    }
}

/* ---- the store thread ------------------------------------------------------- */

static int64_t int_of(uint64_t v)
{
    return (int64_t)v;
}

/* Binds every parameter slot the statement has from the op's fields. */
static int op_bind(sqlite3_stmt *s, const op_t *op)
{
    int n = sqlite3_bind_parameter_count(s), rc = SQLITE_OK;
    for (int i = 1; i <= n && rc == SQLITE_OK; i++) {
        switch (i) {
        case 1:
            rc = sqlite3_bind_int64(s, i, int_of(op->id));
            break;
        case 2:
            rc = sqlite3_bind_int64(s, i, int_of(op->arg));
            break;
        case 3:
            rc = op->blob ? sqlite3_bind_blob64(s, i, op->blob, op->len, SQLITE_STATIC)
                          : sqlite3_bind_null(s, i);
            break;
        case 4:
            rc = sqlite3_bind_int64(s, i, op->state.visible_at_ms);
            break;
        case 5:
            rc = sqlite3_bind_int64(s, i, op->state.receive_count);
            break;
        case 6:
            rc = sqlite3_bind_int64(s, i, op->state.first_receive_ms);
            break;
        case 7:
            rc = sqlite3_bind_text(s, i, op->mem, -1, SQLITE_STATIC);
            break;
        case 8:
            rc = sqlite3_bind_text(s, i, op->key, -1, SQLITE_STATIC);
            break;
        case 9:
            rc = sqlite3_bind_int64(s, i, int_of(op->id2));
            break;
        default:
            rc = SQLITE_RANGE;
            break;
        }
    }
    return rc;
}

/* Runs one statement to completion and resets it; an SQLite result code. */
static int stmt_run(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int op_exec(store_t *st, const op_t *op)
{
    for (int k = 0; k < 2 && st->stmt[op->type][k]; k++) {
        sqlite3_stmt *s = st->stmt[op->type][k];
        int rc = op_bind(s, op);
        if (rc == SQLITE_OK)
            rc = stmt_run(s);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

/* Commits every op of b in one transaction and frees the ops' data. Store thread. */
static sqlite3_stmt *prepare(sqlite3 *db, const char *sql);

/* The statement that puts or deletes n message rows (2 <= n <= RUN_MAX),
 * prepared on first use; NULL when SQLite refuses it. */
static sqlite3_stmt *run_stmt(store_t *st, enum op_type type, size_t n)
{
    sqlite3_stmt **slot = type == OP_MSG_PUT ? &st->put_run[n] : &st->del_run[n];
    if (*slot)
        return *slot;
    buf_t sql;
    buf_init(&sql, 0); /* bounded by RUN_MAX */
    if (type == OP_MSG_PUT) {
        buf_puts(&sql, "INSERT OR REPLACE INTO messages(seq, queue_id, blob, visible_at,"
                       " receive_count, first_receive) VALUES ");
        for (size_t i = 0; i < n; i++)
            buf_puts(&sql, i ? ",(?,?,?,?,?,?)" : "(?,?,?,?,?,?)");
    } else {
        buf_puts(&sql, "DELETE FROM messages WHERE seq IN (");
        for (size_t i = 0; i < n; i++)
            buf_puts(&sql, i ? ",?" : "?");
        buf_putc(&sql, ')');
    }
    *slot = prepare(st->db, sql.data);
    buf_free(&sql);
    return *slot;
}

/* Binds one message row of a multi-row put at parameter base + 1. */
static int run_bind_put(sqlite3_stmt *s, int base, const op_t *op)
{
    int rc = sqlite3_bind_int64(s, base + 1, int_of(op->id));
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, base + 2, int_of(op->arg));
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob64(s, base + 3, op->blob, op->len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, base + 4, op->state.visible_at_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, base + 5, op->state.receive_count);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, base + 6, op->state.first_receive_ms);
    return rc;
}

/* Runs n ops of one type, puts or deletes of messages, as one statement. */
static int run_exec(store_t *st, const op_t *const *run, size_t n)
{
    if (n == 1)
        return op_exec(st, run[0]);
    sqlite3_stmt *s = run_stmt(st, run[0]->type, n);
    if (!s)
        return sqlite3_errcode(st->db);
    int rc = SQLITE_OK;
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        if (run[0]->type == OP_MSG_PUT)
            rc = run_bind_put(s, (int)(6 * i), run[i]);
        else
            rc = sqlite3_bind_int64(s, (int)i + 1, int_of(run[i]->id));
    }
    return rc == SQLITE_OK ? stmt_run(s) : rc;
}

/* Runs the ops of b in order: runs of message puts or deletes (cancelled ops
 * in between are nothing) by multi-row statements, the rest one by one. */
static int batch_exec(store_t *st, const batch_t *b)
{
    int rc = SQLITE_OK;
    for (size_t i = 0; i < b->nops && rc == SQLITE_OK;) {
        const op_t *op = &b->ops[i];
        if (op->type != OP_MSG_PUT && op->type != OP_MSG_DELETE) {
            if (op->type != OP_NONE)
                rc = op_exec(st, op);
            i++;
            continue;
        }
        const op_t *run[RUN_MAX];
        size_t n = 0;
        for (; i < b->nops && n < RUN_MAX; i++) {
            uint8_t t = b->ops[i].type;
            if (t == op->type)
                run[n++] = &b->ops[i];
            else if (t != OP_NONE)
                break;
        }
        rc = run_exec(st, run, n);
    }
    return rc;
}

static int batch_commit(store_t *st, batch_t *b)
{
    int rc = stmt_run(st->begin);
    if (rc == SQLITE_OK)
        rc = batch_exec(st, b);
    if (rc == SQLITE_OK)
        rc = stmt_run(st->commit);
    if (rc != SQLITE_OK) {
        log_warn("store: commit of %zu mutations failed: %s", b->live, sqlite3_errmsg(st->db));
        if (!sqlite3_get_autocommit(st->db))
            stmt_run(st->rollback);
    }
    for (size_t i = 0; i < b->nops; i++) {
        free(b->ops[i].mem);
        b->ops[i].mem = NULL;
    }
    return rc == SQLITE_OK ? 0 : -1;
}

static void store_thread_main(void *arg)
{
    store_t *st = arg;
    uv_mutex_lock(&st->mu);
    for (;;) {
        while (!st->todo && !st->stop)
            uv_cond_wait(&st->work_cv, &st->mu);
        if (!st->todo)
            break;
        batch_t *b = st->todo;
        st->todo = NULL;
        uv_mutex_unlock(&st->mu);
        b->status = batch_commit(st, b);
        uv_mutex_lock(&st->mu);
        st->done = b;
        uv_cond_signal(&st->done_cv);
        uv_async_send(&st->async);
    }
    uv_mutex_unlock(&st->mu);
}

/* ---- checkpoints ------------------------------------------------------------ */

/* Opens the checkpointer's connection; NULL (logged) on failure. */
static sqlite3 *ckpt_open(const char *path)
{
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    /* A checkpoint syncs the WAL before copying and the database after. */
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA synchronous = FULL", NULL, NULL, NULL) != SQLITE_OK) {
        log_warn("store: checkpointer: %s", db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static void ckpt_thread_main(void *arg)
{
    store_t *st = arg;
    sqlite3 *db = NULL;
    uv_mutex_lock(&st->ck_mu);
    for (;;) {
        while (!st->ck_want && !st->ck_stop)
            uv_cond_wait(&st->ck_cv, &st->ck_mu);
        if (st->ck_stop)
            break;
        st->ck_want = false;
        uv_mutex_unlock(&st->ck_mu);
        if (!db)
            db = ckpt_open(st->path);
        int rc = db ? sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL)
                    : SQLITE_OK;
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) /* busy: another checkpoint is running */
            log_warn("store: checkpoint: %s", sqlite3_errmsg(db));
        uv_mutex_lock(&st->ck_mu);
    }
    uv_mutex_unlock(&st->ck_mu);
    sqlite3_close(db);
}

/* Asks the checkpointer for a checkpoint, starting it the first time. */
static void ckpt_request(store_t *st)
{
    uv_mutex_lock(&st->ck_mu);
    if (!st->ck_started && uv_thread_create(&st->ck_thread, ckpt_thread_main, st) == 0)
        st->ck_started = true;
    st->ck_want = true;
    uv_cond_signal(&st->ck_cv);
    uv_mutex_unlock(&st->ck_mu);
}

/* SQLite's WAL hook, called on the store thread after each commit with the
 * WAL's size in frames. Replaces the automatic checkpoint. */
static int wal_hook_cb(void *ud, sqlite3 *db, const char *name, int frames)
{
    store_t *st = ud;
    if (frames >= CKPT_HARD_FRAMES)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    else if (frames >= CKPT_FRAMES)
        ckpt_request(st);
    return SQLITE_OK;
}

/* Stops the checkpointer (closing its connection). */
static void ckpt_stop(store_t *st)
{
    uv_mutex_lock(&st->ck_mu);
    st->ck_stop = true;
    uv_cond_signal(&st->ck_cv);
    bool started = st->ck_started;
    uv_mutex_unlock(&st->ck_mu);
    if (started)
        uv_thread_join(&st->ck_thread);
    st->ck_started = false;
}

/* ---- loop side -------------------------------------------------------------- */

static void on_idle(uv_idle_t *h)
{
    (void)h; /* only keeps the loop turning until the check hands the batch over */
}

/* Makes sure the loop turns (and the check runs) while cur has work to hand over. */
static void arm(store_t *st)
{
    batch_t *c = st->cur;
    if (!st->inflight && (c->nops || c->nwait))
        uv_idle_start(&st->idle, on_idle);
}

/* Runs b's callbacks with status, accounts for it and recycles it. */
static void batch_finish(store_t *st, batch_t *b, int status)
{
    if (b->live && status == 0) {
        st->stats.batches++;
        st->stats.mutations += b->live;
    }
    for (size_t i = 0; i < b->nwait; i++)
        b->waiters[i].cb(b->waiters[i].ud, status);
    batch_recycle(st, b);
}

/* Takes cur out (leaving a fresh batch behind) so that callbacks it runs can
 * append to the new one. */
static batch_t *cur_take(store_t *st)
{
    batch_t *b = st->cur;
    st->cur = batch_get(st);
    map_clear(st);
    return b;
}

static void handover(store_t *st)
{
    batch_t *b = cur_take(st);
    st->inflight = b;
    uv_ref((uv_handle_t *)&st->async);
    uv_mutex_lock(&st->mu);
    st->todo = b;
    uv_cond_signal(&st->work_cv);
    uv_mutex_unlock(&st->mu);
}

/* Called when nothing is in flight: hands cur over, or, when it holds no live
 * mutation, runs its callbacks now: everything before them is committed. */
static void flush(store_t *st)
{
    batch_t *c = st->cur;
    if (c->live && st->db) {
        handover(st);
        return;
    }
    if (c->nwait) {
        batch_finish(st, cur_take(st), 0);
        return;
    }
    c->nops = 0; /* all cancelled: their data is already freed */
    map_clear(st);
}

/* The in-flight batch b came back from the store thread. */
static void complete(store_t *st, batch_t *b)
{
    int status = b->status;
    st->inflight = NULL;
    uv_unref((uv_handle_t *)&st->async);
    batch_finish(st, b, status);
    /* Callbacks registered with no mutation of their own waited for b. */
    if (!st->inflight && !st->cur->live && st->cur->nwait)
        batch_finish(st, cur_take(st), status);
    arm(st);
}

static void on_async(uv_async_t *h)
{
    store_t *st = h->data;
    uv_mutex_lock(&st->mu);
    batch_t *b = st->done;
    st->done = NULL;
    uv_mutex_unlock(&st->mu);
    if (b)
        complete(st, b);
}

static void on_check(uv_check_t *h)
{
    store_t *st = h->data;
    uv_idle_stop(&st->idle);
    if (!st->inflight)
        flush(st);
}

/* Blocks until the in-flight batch is committed; returns it (loop thread). */
static batch_t *inflight_wait(store_t *st)
{
    uv_mutex_lock(&st->mu);
    while (!st->done)
        uv_cond_wait(&st->done_cv, &st->mu);
    batch_t *b = st->done;
    st->done = NULL;
    uv_mutex_unlock(&st->mu);
    return b;
}

/* Blocks until the store thread is not using the connection; the finished batch
 * stays posted for on_async. */
static void store_quiesce(store_t *st)
{
    if (!st->inflight)
        return;
    uv_mutex_lock(&st->mu);
    while (!st->done)
        uv_cond_wait(&st->done_cv, &st->mu);
    uv_mutex_unlock(&st->mu);
}

/* ---- open and close --------------------------------------------------------- */

static void seterr(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errbuf && errlen)
        vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

/* mkdir -p; 0 or -1 with errno set. */
static int mkdir_p(const char *dir)
{
    char *p = xstrdup(dir);
    int ret = -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            goto out;
        *s = '/';
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST)
        goto out;
    struct stat sb;
    if (stat(p, &sb) != 0)
        goto out;
    if (!S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        goto out;
    }
    ret = 0;
out:
    free(p);
    return ret;
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
        return NULL;
    return s;
}

/* Runs a one-row statement and returns its first column as an integer, or
 * stores its text in txt (when given); an SQLite result code. */
static int query_one(sqlite3 *db, const char *sql, int64_t *num, char *txt, size_t txtlen)
{
    sqlite3_stmt *s = prepare(db, sql);
    if (!s)
        return sqlite3_errcode(db);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        if (num)
            *num = sqlite3_column_int64(s, 0);
        if (txt)
            snprintf(txt, txtlen, "%s", (const char *)sqlite3_column_text(s, 0));
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc;
}

/* Creates the schema in a fresh database, refuses one from a newer nagare. */
static int schema_apply(sqlite3 *db, char *errbuf, size_t errlen)
{
    int64_t version = 0;
    if (query_one(db, "PRAGMA user_version", &version, NULL, 0) != SQLITE_OK)
        return -1;
    if (version > SCHEMA_VERSION) {
        seterr(errbuf, errlen, "schema version %lld is newer than this nagare's (%d)",
               (long long)version, SCHEMA_VERSION);
        return -2;
    }
    if (version == SCHEMA_VERSION)
        return 0;
    char sql[sizeof(schema_sql) + 64];
    snprintf(sql, sizeof(sql), "BEGIN;%sPRAGMA user_version = %d;COMMIT;", schema_sql,
             SCHEMA_VERSION);
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int stmts_prepare(store_t *st)
{
    for (int t = 0; t < OP_COUNT; t++) {
        for (int k = 0; k < 2 && op_sql[t][k]; k++) {
            st->stmt[t][k] = prepare(st->db, op_sql[t][k]);
            if (!st->stmt[t][k])
                return -1;
        }
    }
    st->begin = prepare(st->db, "BEGIN IMMEDIATE");
    st->commit = prepare(st->db, "COMMIT");
    st->rollback = prepare(st->db, "ROLLBACK");
    return st->begin && st->commit && st->rollback ? 0 : -1;
}

static void db_close(store_t *st)
{
    if (!st->db)
        return;
    for (int t = 0; t < OP_COUNT; t++)
        for (int k = 0; k < 2; k++)
            sqlite3_finalize(st->stmt[t][k]);
    for (int n = 0; n <= RUN_MAX; n++) {
        sqlite3_finalize(st->put_run[n]);
        sqlite3_finalize(st->del_run[n]);
    }
    sqlite3_finalize(st->begin);
    sqlite3_finalize(st->commit);
    sqlite3_finalize(st->rollback);
    if (sqlite3_close(st->db) != SQLITE_OK)
        log_warn("store: close: %s", sqlite3_errmsg(st->db));
    st->db = NULL;
}

/* Configures an open connection: WAL (SQLite recovers a WAL left by a crash by
 * itself), synchronous=FULL, the schema and the statements. 0, -1 for an SQLite
 * error (see sqlite3_errmsg), -2 with the message already in errbuf. */
static int db_setup(store_t *st, const char *path, bool fresh, char *errbuf, size_t errlen)
{
    char mode[16] = "";
    sqlite3_busy_timeout(st->db, 5000);
    /* Until the schema is in place nothing worth keeping is stored, so the
     * set-up skips its fsyncs (nine on a new database: most of the start-up
     * time); the schema is idempotent and is applied again if a crash
     * interrupts it. Everything after runs with synchronous=FULL. */
    if (sqlite3_exec(st->db, "PRAGMA synchronous = OFF", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    /* A new, empty database becomes WAL by writing its first page in rollback
     * mode: with the default journal that creates, writes and deletes a
     * journal file for it (a fifth of the start-up). The page is one write,
     * which a killed process does either whole or not at all; the journal
     * would only help against a power cut, which synchronous=OFF does not
     * protect here anyway. Never for an existing file: leaving WAL there
     * would checkpoint it. */
    if (fresh &&
        sqlite3_exec(st->db, "PRAGMA journal_mode = MEMORY", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    if (query_one(st->db, "PRAGMA journal_mode = WAL", NULL, mode, sizeof(mode)) != SQLITE_OK)
        return -1;
    if (strcmp(mode, "wal") != 0) {
        seterr(errbuf, errlen, "%s: cannot use a WAL journal (got %s)", path, mode);
        return -2;
    }
    int rc = schema_apply(st->db, errbuf, errlen);
    if (rc != 0)
        return rc;
    if (sqlite3_exec(st->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    sqlite3_wal_hook(st->db, wal_hook_cb, st); /* instead of the automatic checkpoint */
    return stmts_prepare(st);
}

/* Opens (creating) DIR/nagare.db; 0, or -1 with errbuf set and no connection. */
static int db_open(store_t *st, const char *dir, char *errbuf, size_t errlen)
{
    int ret = -1;
    char *path = NULL;
    if (mkdir_p(dir) != 0) {
        seterr(errbuf, errlen, "%s: %s", dir, strerror(errno));
        goto out;
    }
    size_t n = strlen(dir) + sizeof("/nagare.db");
    path = xmalloc(n);
    snprintf(path, n, "%s/nagare.db", dir);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    struct stat sb;
    bool fresh = stat(path, &sb) < 0 ? errno == ENOENT : sb.st_size == 0;
    int rc = sqlite3_open_v2(path, &st->db, flags, NULL);
    if (rc == SQLITE_OK)
        rc = db_setup(st, path, fresh, errbuf, errlen);
    if (rc == -2)
        goto out;
    if (rc != 0) {
        seterr(errbuf, errlen, "%s: %s", path, st->db ? sqlite3_errmsg(st->db) : "no memory");
        goto out;
    }
    st->path = path;
    path = NULL;
    ret = 0;
out:
    if (ret != 0)
        db_close(st);
    free(path);
    return ret;
}

static void on_closed(uv_handle_t *h)
{
    store_t *st = h->data;
    if (--st->open_handles == 0)
        free(st);
}

static void handles_close(store_t *st)
{
    st->open_handles = 3;
    uv_close((uv_handle_t *)&st->check, on_closed);
    uv_close((uv_handle_t *)&st->idle, on_closed);
    uv_close((uv_handle_t *)&st->async, on_closed);
}

static int handles_init(store_t *st)
{
    if (uv_async_init(st->loop, &st->async, on_async) != 0)
        return -1;
    uv_check_init(st->loop, &st->check);
    uv_idle_init(st->loop, &st->idle);
    st->async.data = st->check.data = st->idle.data = st;
    uv_check_start(&st->check, on_check);
    uv_unref((uv_handle_t *)&st->check);
    uv_unref((uv_handle_t *)&st->async);
    return 0;
}

/* Stops the store thread and then the checkpointer it may have started. */
static void thread_stop(store_t *st)
{
    if (!st->thread_started)
        return;
    uv_mutex_lock(&st->mu);
    st->stop = true;
    uv_cond_signal(&st->work_cv);
    uv_mutex_unlock(&st->mu);
    uv_thread_join(&st->thread);
    ckpt_stop(st);
    uv_cond_destroy(&st->work_cv);
    uv_cond_destroy(&st->done_cv);
    uv_mutex_destroy(&st->mu);
    uv_cond_destroy(&st->ck_cv);
    uv_mutex_destroy(&st->ck_mu);
    st->thread_started = false;
}

static int thread_start(store_t *st)
{
    if (uv_mutex_init(&st->mu) != 0)
        return -1;
    if (uv_mutex_init(&st->ck_mu) != 0) {
        uv_mutex_destroy(&st->mu);
        return -1;
    }
    uv_cond_init(&st->work_cv);
    uv_cond_init(&st->done_cv);
    uv_cond_init(&st->ck_cv);
    if (uv_thread_create(&st->thread, store_thread_main, st) != 0) {
        uv_cond_destroy(&st->work_cv);
        uv_cond_destroy(&st->done_cv);
        uv_cond_destroy(&st->ck_cv);
        uv_mutex_destroy(&st->mu);
        uv_mutex_destroy(&st->ck_mu);
        return -1;
    }
    st->thread_started = true;
    return 0;
}

/* Frees everything but the struct and its handles. */
static void store_release(store_t *st)
{
    db_close(st);
    batch_free(st->cur);
    st->cur = NULL;
    while (st->spare) {
        batch_t *b = st->spare;
        st->spare = b->next;
        batch_free(b);
    }
    free(st->map);
    st->map = NULL;
    free(st->path);
    st->path = NULL;
}

int store_open(uv_loop_t *loop, const char *dir, store_t **out, char *errbuf, size_t errlen)
{
    int ret = -1;
    store_t *st = xcalloc(1, sizeof(*st));
    st->loop = loop;
    st->cur = batch_get(st);
    /* SQLite's memory statistics take a global mutex on every allocation;
     * nothing reads them. Only possible before SQLite initialises, so a
     * later store_open (or an earlier user of SQLite) leaves it as it is. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (dir && db_open(st, dir, errbuf, errlen) != 0)
        goto out;
    if (handles_init(st) != 0) {
        seterr(errbuf, errlen, "store: cannot create the loop's async handle");
        goto out;
    }
    if (dir && thread_start(st) != 0) {
        seterr(errbuf, errlen, "store: cannot start the store thread");
        store_release(st);
        handles_close(st); /* frees st */
        return -1;
    }
    *out = st;
    st = NULL;
    ret = 0;
out:
    if (st) {
        store_release(st);
        free(st);
    }
    return ret;
}

/* Commits everything pending and runs every waiting callback, blocking. */
static void store_drain(store_t *st)
{
    for (;;) {
        if (st->inflight)
            complete(st, inflight_wait(st));
        else if (st->cur->nops || st->cur->nwait)
            flush(st);
        else
            break;
    }
}

void store_close(store_t *st)
{
    if (!st)
        return;
    store_drain(st);
    thread_stop(st);
    store_release(st);
    handles_close(st);
}

/* ---- mutations -------------------------------------------------------------- */

uint64_t store_mutation_seq(const store_t *st)
{
    return st->appended;
}

static op_t *op_add(store_t *st, enum op_type type, uint64_t id)
{
    batch_t *b = st->cur;
    if (b->nops == b->opcap) {
        b->opcap = b->opcap ? b->opcap * 2 : 64;
        b->ops = xrealloc(b->ops, b->opcap * sizeof(*b->ops));
    }
    op_t *op = &b->ops[b->nops++];
    *op = (op_t){.type = type, .id = id};
    b->live++;
    /* A message's receive state is committed with the batch but holds no
     * response: losing the last receives in a crash only makes those messages
     * visible again early, which at-least-once delivery allows. */
    if (type != OP_MSG_STATE)
        st->appended++;
    arm(st);
    return op;
}

static void op_blob_copy(op_t *op, const void *blob, size_t len)
{
    op->mem = xmemdup(blob, len);
    op->blob = op->mem;
    op->len = len;
}

static void op_cancel(store_t *st, op_t *op)
{
    free(op->mem);
    op->mem = NULL;
    op->type = OP_NONE;
    st->cur->live--;
}

void store_queue_put(store_t *st, uint64_t queue_id, const void *blob, size_t len)
{
    if (!st->db)
        return;
    op_blob_copy(op_add(st, OP_QUEUE_PUT, queue_id), blob, len);
}

void store_queue_delete(store_t *st, uint64_t queue_id)
{
    if (st->db)
        op_add(st, OP_QUEUE_DELETE, queue_id);
}

void store_queue_purge(store_t *st, uint64_t queue_id, uint64_t max_seq)
{
    if (!st->db)
        return;
    /* Seqs are below 2^63; a larger bound (UINT64_MAX) means every message. */
    op_add(st, OP_QUEUE_PURGE, queue_id)->arg = max_seq > INT64_MAX ? INT64_MAX : max_seq;
}

void store_msg_put(store_t *st, uint64_t seq, uint64_t queue_id, const void *blob, size_t len,
                   const store_msg_state_t *state)
{
    if (!st->db)
        return;
    op_t *op = op_add(st, OP_MSG_PUT, seq);
    op->arg = queue_id;
    op->state = *state;
    op_blob_copy(op, blob, len);
    map_set(st, seq, (uint32_t)(st->cur->nops - 1));
}

void store_msg_state(store_t *st, uint64_t seq, const store_msg_state_t *state)
{
    if (!st->db)
        return;
    uint32_t idx = map_get(st, seq);
    if (idx != NO_OP) {
        /* The latest put or state of seq in this batch takes the new state:
         * nothing between them can observe the difference. */
        st->cur->ops[idx].state = *state;
        return;
    }
    op_add(st, OP_MSG_STATE, seq)->state = *state;
    map_set(st, seq, (uint32_t)(st->cur->nops - 1));
}

void store_msg_delete(store_t *st, uint64_t seq)
{
    if (!st->db)
        return;
    uint32_t idx = map_get(st, seq);
    if (idx != NO_OP) {
        op_t *op = &st->cur->ops[idx];
        bool was_put = op->type == OP_MSG_PUT;
        op_cancel(st, op);
        map_set(st, seq, NO_OP);
        if (was_put)
            return; /* the row never reaches the disk: seqs are never reused */
    }
    op_add(st, OP_MSG_DELETE, seq);
}

void store_kv_put(store_t *st, const char *kind, const char *key, const void *blob, size_t len)
{
    if (!st->db)
        return;
    size_t kl = strlen(kind) + 1, yl = strlen(key) + 1;
    op_t *op = op_add(st, OP_KV_PUT, 0);
    op->mem = xmalloc(kl + yl + len + 1);
    memcpy(op->mem, kind, kl);
    memcpy(op->mem + kl, key, yl);
    if (len)
        memcpy(op->mem + kl + yl, blob, len);
    op->key = op->mem + kl;
    op->blob = op->mem + kl + yl;
    op->len = len;
}

void store_kv_delete(store_t *st, const char *kind, const char *key)
{
    if (!st->db)
        return;
    size_t kl = strlen(kind) + 1, yl = strlen(key) + 1;
    op_t *op = op_add(st, OP_KV_DELETE, 0);
    op->mem = xmalloc(kl + yl);
    memcpy(op->mem, kind, kl);
    memcpy(op->mem + kl, key, yl);
    op->key = op->mem + kl;
}

void store_log_put(store_t *st, const store_log_event_t *ev)
{
    if (!st->db)
        return;
    op_t *op = op_add(st, OP_LOG_PUT, ev->seq);
    op->arg = ev->stream_id;
    op->id2 = ev->group_id;
    op->state.visible_at_ms = ev->ts;
    op->state.first_receive_ms = ev->ingest;
    op_blob_copy(op, ev->message, ev->len);
}

void store_log_group_purge(store_t *st, uint64_t group_id)
{
    if (st->db)
        op_add(st, OP_LOG_GROUP_PURGE, group_id);
}

void store_log_stream_purge(store_t *st, uint64_t stream_id)
{
    if (st->db)
        op_add(st, OP_LOG_STREAM_PURGE, stream_id);
}

void store_log_expire(store_t *st, uint64_t group_id, int64_t before_ts)
{
    if (st->db)
        op_add(st, OP_LOG_EXPIRE, group_id)->state.visible_at_ms = before_ts;
}

void store_when_durable(store_t *st, void (*cb)(void *ud, int status), void *ud)
{
    batch_t *b = st->cur;
    if (b->nwait == b->waitcap) {
        b->waitcap = b->waitcap ? b->waitcap * 2 : 16;
        b->waiters = xrealloc(b->waiters, b->waitcap * sizeof(*b->waiters));
    }
    b->waiters[b->nwait++] = (waiter_t){cb, ud};
    arm(st);
}

/* ---- reading back ----------------------------------------------------------- */

static const void *column_blob(sqlite3_stmt *s, int col, size_t *len)
{
    const void *p = sqlite3_column_blob(s, col);
    *len = (size_t)sqlite3_column_bytes(s, col);
    return p ? p : "";
}

static int load_queues(store_t *st, const store_load_cbs_t *cbs, void *ud)
{
    sqlite3_stmt *s = prepare(st->db, "SELECT id, blob FROM queues ORDER BY id");
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
    for (; rc == SQLITE_ROW; rc = sqlite3_step(s)) {
        size_t len;
        const void *blob = column_blob(s, 1, &len);
        if (cbs->queue && cbs->queue(ud, (uint64_t)sqlite3_column_int64(s, 0), blob, len) != 0)
            break;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : rc == SQLITE_ROW ? -2 : -1;
}

static int load_msgs(store_t *st, const store_load_cbs_t *cbs, void *ud)
{
    sqlite3_stmt *s = prepare(st->db, "SELECT seq, queue_id, blob, visible_at, receive_count,"
                                      " first_receive FROM messages ORDER BY seq");
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
    for (; rc == SQLITE_ROW; rc = sqlite3_step(s)) {
        size_t len;
        const void *blob = column_blob(s, 2, &len);
        store_msg_state_t state = {
            .visible_at_ms = sqlite3_column_int64(s, 3),
            .receive_count = (uint32_t)sqlite3_column_int64(s, 4),
            .first_receive_ms = sqlite3_column_int64(s, 5),
        };
        uint64_t seq = (uint64_t)sqlite3_column_int64(s, 0);
        uint64_t qid = (uint64_t)sqlite3_column_int64(s, 1);
        if (cbs->msg && cbs->msg(ud, seq, qid, blob, len, &state) != 0)
            break;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : rc == SQLITE_ROW ? -2 : -1;
}

int store_load(store_t *st, const store_load_cbs_t *cbs, void *ud, char *errbuf, size_t errlen)
{
    if (!st->db)
        return 0;
    store_quiesce(st);
    int rc = load_queues(st, cbs, ud);
    if (rc == 0)
        rc = load_msgs(st, cbs, ud);
    if (rc == -1)
        seterr(errbuf, errlen, "store: load: %s", sqlite3_errmsg(st->db));
    else if (rc == -2)
        seterr(errbuf, errlen, "store: load aborted by its callback");
    return rc == 0 ? 0 : -1;
}

int store_kv_load(store_t *st, const char *kind,
                  int (*cb)(void *ud, const char *key, const void *blob, size_t len), void *ud)
{
    if (!st->db)
        return 0;
    store_quiesce(st);
    sqlite3_stmt *s = prepare(st->db, "SELECT key, blob FROM kv WHERE kind = ?1 ORDER BY key");
    int rc = s ? sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC) : SQLITE_ERROR;
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    for (; rc == SQLITE_ROW; rc = sqlite3_step(s)) {
        size_t len;
        const void *blob = column_blob(s, 1, &len);
        if (cb(ud, (const char *)sqlite3_column_text(s, 0), blob, len) != 0)
            break;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        log_warn("store: kv load of %s: %s", kind, sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_log_load(store_t *st, int (*cb)(void *ud, const store_log_event_t *ev), void *ud)
{
    if (!st->db)
        return 0;
    store_quiesce(st);
    sqlite3_stmt *s = prepare(st->db, "SELECT seq, stream_id, group_id, ts, ingest, message"
                                      " FROM log_events ORDER BY seq");
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
    for (; rc == SQLITE_ROW; rc = sqlite3_step(s)) {
        store_log_event_t ev = {
            .seq = (uint64_t)sqlite3_column_int64(s, 0),
            .stream_id = (uint64_t)sqlite3_column_int64(s, 1),
            .group_id = (uint64_t)sqlite3_column_int64(s, 2),
            .ts = sqlite3_column_int64(s, 3),
            .ingest = sqlite3_column_int64(s, 4),
        };
        ev.message = column_blob(s, 5, &ev.len);
        if (cb(ud, &ev) != 0)
            break;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        log_warn("store: log events load: %s", sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

void store_stats_get(const store_t *st, store_stats_t *out)
{
    *out = st->stats;
    out->pending = st->cur->live + (st->inflight ? st->inflight->live : 0);
}
