/*
 * test_store — the store's contract: what is acknowledged is on disk.
 *
 * Each test opens a store in a fresh temporary directory, appends mutations
 * while a real libuv loop turns, waits for the durability callbacks, closes,
 * reopens and compares what store_load gives back. One test forks a writer and
 * SIGKILLs it, then checks that every seq it acknowledged survived.
 */
#include "store/store.h"

#include "base/xalloc.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- fixtures ---------------------------------------------------------------- */

typedef struct fix {
    uv_loop_t loop;
    char dir[64];
    store_t *st;
} fix_t;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int fix_setup(void **state)
{
    fix_t *f = xcalloc(1, sizeof(*f));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    strcpy(f->dir, "/tmp/nagare-test-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static void fix_close(fix_t *f)
{
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0); /* runs the close callbacks */
}

static void fix_open(fix_t *f, const char *dir)
{
    char err[256] = "";
    int rc = store_open(&f->loop, dir, &f->st, err, sizeof(err));
    if (rc != 0)
        fail_msg("store_open: %s", err);
}

static int fix_teardown(void **state)
{
    fix_t *f = *state;
    if (f->st)
        fix_close(f);
    assert_int_equal(uv_loop_close(&f->loop), 0); /* no handle leaked */
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* What store_load gave back. */
typedef struct row {
    uint64_t id, queue_id;
    char blob[64];
    size_t len;
    store_msg_state_t state;
} row_t;

typedef struct loaded {
    row_t queues[16];
    size_t nqueues;
    row_t *msgs;
    size_t nmsgs, cap;
} loaded_t;

static int on_load_queue(void *ud, uint64_t id, const void *blob, size_t len)
{
    loaded_t *l = ud;
    assert_true(l->nqueues < 16);
    row_t *r = &l->queues[l->nqueues++];
    *r = (row_t){.id = id, .len = len};
    memcpy(r->blob, blob, len < sizeof(r->blob) ? len : sizeof(r->blob));
    return 0;
}

static int on_load_msg(void *ud, uint64_t seq, uint64_t qid, const void *blob, size_t len,
                       const store_msg_state_t *state)
{
    loaded_t *l = ud;
    if (l->nmsgs == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->msgs = xrealloc(l->msgs, l->cap * sizeof(*l->msgs));
    }
    row_t *r = &l->msgs[l->nmsgs++];
    *r = (row_t){.id = seq, .queue_id = qid, .len = len, .state = *state};
    memcpy(r->blob, blob, len < sizeof(r->blob) ? len : sizeof(r->blob));
    return 0;
}

/* Closes the fixture's store, reopens it and loads everything into l. */
static void reload(fix_t *f, loaded_t *l)
{
    fix_close(f);
    fix_open(f, f->dir);
    memset(l, 0, sizeof(*l));
    store_load_cbs_t cbs = {on_load_queue, on_load_msg};
    char err[256] = "";
    if (store_load(f->st, &cbs, l, err, sizeof(err)) != 0)
        fail_msg("store_load: %s", err);
}

static const row_t *find_msg(const loaded_t *l, uint64_t seq)
{
    for (size_t i = 0; i < l->nmsgs; i++)
        if (l->msgs[i].id == seq)
            return &l->msgs[i];
    return NULL;
}

/* Durability callbacks record their order and status here. */
typedef struct acks {
    int order[16];
    int status[16];
    int n;
} acks_t;

static acks_t g_acks;

static void ack_cb(void *ud, int status)
{
    int id = (int)(intptr_t)ud;
    assert_true(g_acks.n < 16);
    g_acks.order[g_acks.n] = id;
    g_acks.status[g_acks.n] = status;
    g_acks.n++;
}

static void wait_durable(fix_t *f)
{
    int before = g_acks.n;
    store_when_durable(f->st, ack_cb, (void *)(intptr_t)1000);
    assert_int_equal(g_acks.n, before); /* never synchronous */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(g_acks.n, before + 1);
    assert_int_equal(g_acks.status[before], 0);
}

static store_msg_state_t mstate(int64_t vis, uint32_t count, int64_t first)
{
    return (store_msg_state_t){vis, count, first};
}

static void put_msg(store_t *st, uint64_t seq, uint64_t qid)
{
    char blob[32];
    int n = snprintf(blob, sizeof(blob), "msg-%llu", (unsigned long long)seq);
    store_msg_state_t s = mstate(0, 0, 0);
    store_msg_put(st, seq, qid, blob, (size_t)n, &s);
}

/* ---- tests ------------------------------------------------------------------- */

static void test_round_trip(void **state)
{
    fix_t *f = *state;
    fix_open(f, f->dir);
    store_queue_put(f->st, 2, "queue-two", 9);
    store_queue_put(f->st, 1, "queue-one", 9);
    store_msg_state_t s = mstate(1700000000123, 0, 0);
    store_msg_put(f->st, 10, 1, "hello\0world", 11, &s);
    put_msg(f->st, 11, 2);
    put_msg(f->st, 12, 2);
    wait_durable(f);

    /* Later batches: a state change and a delete of rows already on disk. */
    s = mstate(1700000009999, 3, 1700000001000);
    store_msg_state(f->st, 11, &s);
    store_msg_delete(f->st, 12);
    store_queue_put(f->st, 2, "queue-2b", 8);
    wait_durable(f);

    loaded_t l;
    reload(f, &l);
    assert_int_equal(l.nqueues, 2);
    assert_int_equal(l.queues[0].id, 1);
    assert_memory_equal(l.queues[0].blob, "queue-one", 9);
    assert_int_equal(l.queues[1].id, 2);
    assert_int_equal(l.queues[1].len, 8);
    assert_memory_equal(l.queues[1].blob, "queue-2b", 8);
    assert_int_equal(l.nmsgs, 2);
    assert_int_equal(l.msgs[0].id, 10);
    assert_int_equal(l.msgs[0].queue_id, 1);
    assert_int_equal(l.msgs[0].len, 11);
    assert_memory_equal(l.msgs[0].blob, "hello\0world", 11);
    assert_int_equal(l.msgs[0].state.visible_at_ms, 1700000000123);
    assert_int_equal(l.msgs[1].id, 11);
    assert_int_equal(l.msgs[1].state.visible_at_ms, 1700000009999);
    assert_int_equal(l.msgs[1].state.receive_count, 3);
    assert_int_equal(l.msgs[1].state.first_receive_ms, 1700000001000);
    free(l.msgs);
}

static void test_callbacks_in_order(void **state)
{
    fix_t *f = *state;
    fix_open(f, f->dir);
    g_acks.n = 0;
    store_when_durable(f->st, ack_cb, (void *)1); /* nothing pending */
    put_msg(f->st, 1, 1);
    store_when_durable(f->st, ack_cb, (void *)2);
    store_when_durable(f->st, ack_cb, (void *)3);
    assert_int_equal(g_acks.n, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(g_acks.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(g_acks.order[i], i + 1);
        assert_int_equal(g_acks.status[i], 0);
    }
    store_stats_t stats;
    store_stats_get(f->st, &stats);
    assert_int_equal(stats.batches, 1);
    assert_int_equal(stats.mutations, 1);
    assert_int_equal(stats.pending, 0);
}

static void test_coalesce(void **state)
{
    fix_t *f = *state;
    fix_open(f, f->dir);
    store_msg_state_t s1 = mstate(100, 1, 50), s2 = mstate(200, 2, 50), s3 = mstate(300, 3, 60);
    put_msg(f->st, 1, 7);
    put_msg(f->st, 2, 7);
    put_msg(f->st, 3, 7);
    store_msg_delete(f->st, 2); /* cancels put 2 */
    store_msg_state(f->st, 1, &s1);
    store_msg_state(f->st, 1, &s2); /* put 1 carries s2 */
    put_msg(f->st, 4, 7);
    store_queue_purge(f->st, 7, 4); /* removes 1, 3, 4 as put so far */
    store_msg_state(f->st, 4, &s3); /* folded into put 4: still purged */
    put_msg(f->st, 5, 7);
    store_msg_state(f->st, 5, &s1);
    store_msg_state(f->st, 5, &s3);
    store_stats_t stats;
    store_stats_get(f->st, &stats);
    assert_int_equal(stats.pending, 5); /* puts 1, 3, 4, 5 and the purge */
    wait_durable(f);
    store_stats_get(f->st, &stats);
    assert_int_equal(stats.batches, 1);
    assert_int_equal(stats.mutations, 5);

    /* Rows already on disk: the last of several states wins, deletes stay. */
    put_msg(f->st, 6, 7);
    wait_durable(f);
    store_msg_state(f->st, 5, &s1);
    store_msg_state(f->st, 5, &s2);
    store_msg_state(f->st, 6, &s1);
    store_msg_delete(f->st, 6);
    wait_durable(f);
    store_stats_get(f->st, &stats);
    assert_int_equal(stats.mutations, 5 + 1 + 2); /* state 5 (last), delete 6 */

    loaded_t l;
    reload(f, &l);
    assert_int_equal(l.nmsgs, 1);
    assert_int_equal(l.msgs[0].id, 5);
    assert_int_equal(l.msgs[0].state.visible_at_ms, 200);
    assert_int_equal(l.msgs[0].state.receive_count, 2);
    assert_int_equal(l.msgs[0].state.first_receive_ms, 50);
    free(l.msgs);
}

/* Runs of puts and deletes longer than one multi-row statement, broken by
 * other ops and by cancelled ones, keep their order and all their rows. */
static void test_long_runs(void **state)
{
    fix_t *f = *state;
    fix_open(f, f->dir);
    for (uint64_t seq = 1; seq <= 40; seq++)
        put_msg(f->st, seq, 1 + seq % 2);
    store_msg_delete(f->st, 7); /* cancels put 7 inside the run */
    wait_durable(f);
    store_msg_state_t s = mstate(500, 2, 400);
    for (uint64_t seq = 1; seq <= 20; seq++)
        store_msg_delete(f->st, seq);
    store_msg_state(f->st, 30, &s); /* breaks the run of deletes */
    for (uint64_t seq = 21; seq <= 25; seq++)
        store_msg_delete(f->st, seq);
    for (uint64_t seq = 41; seq <= 60; seq++)
        put_msg(f->st, seq, 3);
    wait_durable(f);

    loaded_t l;
    reload(f, &l);
    assert_int_equal(l.nmsgs, 15 + 20); /* 26..40 and 41..60 */
    for (size_t i = 0; i < l.nmsgs; i++) {
        uint64_t seq = 26 + i;
        assert_int_equal(l.msgs[i].id, seq);
        assert_int_equal(l.msgs[i].queue_id, seq <= 40 ? 1 + seq % 2 : 3);
        char blob[32];
        int n = snprintf(blob, sizeof(blob), "msg-%llu", (unsigned long long)seq);
        assert_int_equal(l.msgs[i].len, n);
        assert_memory_equal(l.msgs[i].blob, blob, (size_t)n);
        assert_int_equal(l.msgs[i].state.visible_at_ms, seq == 30 ? 500 : 0);
    }
    free(l.msgs);
}

static void test_purge_and_queue_delete(void **state)
{
    fix_t *f = *state;
    fix_open(f, f->dir);
    store_queue_put(f->st, 1, "a", 1);
    store_queue_put(f->st, 2, "b", 1);
    store_queue_put(f->st, 3, "c", 1);
    for (uint64_t seq = 1; seq <= 10; seq++)
        put_msg(f->st, seq, 1);
    for (uint64_t seq = 11; seq <= 15; seq++)
        put_msg(f->st, seq, 2);
    for (uint64_t seq = 16; seq <= 18; seq++)
        put_msg(f->st, seq, 3);
    wait_durable(f);
    store_queue_purge(f->st, 1, 5);
    store_queue_delete(f->st, 2);
    store_queue_purge(f->st, 3, UINT64_MAX);
    put_msg(f->st, 19, 3); /* after the purge: stays */
    wait_durable(f);

    loaded_t l;
    reload(f, &l);
    assert_int_equal(l.nqueues, 2);
    assert_int_equal(l.queues[0].id, 1);
    assert_int_equal(l.queues[1].id, 3);
    assert_int_equal(l.nmsgs, 6);
    for (uint64_t seq = 6; seq <= 10; seq++) {
        const row_t *r = find_msg(&l, seq);
        assert_non_null(r);
        assert_int_equal(r->queue_id, 1);
    }
    assert_non_null(find_msg(&l, 19));
    free(l.msgs);
}

typedef struct kvrows {
    char keys[8][16];
    char blobs[8][16];
    size_t lens[8];
    int n;
} kvrows_t;

static int on_kv(void *ud, const char *key, const void *blob, size_t len)
{
    kvrows_t *r = ud;
    assert_true(r->n < 8 && len < 16);
    snprintf(r->keys[r->n], 16, "%s", key);
    memcpy(r->blobs[r->n], blob, len);
    r->lens[r->n++] = len;
    return 0;
}

static void test_kv(void **state)
{
    fix_t *f = *state;
    fix_open(f, f->dir);
    store_kv_put(f->st, "role", "b-role", "x\0y", 3);
    store_kv_put(f->st, "role", "a-role", "", 0);
    store_kv_put(f->st, "role", "gone", "zz", 2);
    store_kv_put(f->st, "func", "b-role", "other", 5);
    wait_durable(f);
    store_kv_delete(f->st, "role", "gone");
    store_kv_put(f->st, "func", "b-role", "newer", 5);
    wait_durable(f);
    fix_close(f);
    fix_open(f, f->dir);

    kvrows_t r = {0};
    assert_int_equal(store_kv_load(f->st, "role", on_kv, &r), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.keys[0], "a-role");
    assert_int_equal(r.lens[0], 0);
    assert_string_equal(r.keys[1], "b-role");
    assert_int_equal(r.lens[1], 3);
    assert_memory_equal(r.blobs[1], "x\0y", 3);
    memset(&r, 0, sizeof(r));
    assert_int_equal(store_kv_load(f->st, "func", on_kv, &r), 0);
    assert_int_equal(r.n, 1);
    assert_memory_equal(r.blobs[0], "newer", 5);
    memset(&r, 0, sizeof(r));
    assert_int_equal(store_kv_load(f->st, "nothing", on_kv, &r), 0);
    assert_int_equal(r.n, 0);
}

static void test_in_memory(void **state)
{
    fix_t *f = *state;
    fix_open(f, NULL);
    g_acks.n = 0;
    put_msg(f->st, 1, 1);
    store_when_durable(f->st, ack_cb, (void *)1);
    store_when_durable(f->st, ack_cb, (void *)2);
    assert_int_equal(g_acks.n, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(g_acks.n, 2);
    assert_int_equal(g_acks.order[0], 1);
    assert_int_equal(g_acks.order[1], 2);
    assert_int_equal(g_acks.status[0], 0);
    loaded_t l = {0};
    store_load_cbs_t cbs = {on_load_queue, on_load_msg};
    assert_int_equal(store_load(f->st, &cbs, &l, NULL, 0), 0);
    assert_int_equal(l.nmsgs, 0);
}

static void test_close_flushes(void **state)
{
    fix_t *f = *state;
    fix_open(f, f->dir);
    g_acks.n = 0;
    put_msg(f->st, 1, 1);
    put_msg(f->st, 2, 1);
    store_when_durable(f->st, ack_cb, (void *)1);
    store_close(f->st); /* without the loop ever turning */
    f->st = NULL;
    assert_int_equal(g_acks.n, 1);
    assert_int_equal(g_acks.status[0], 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    fix_open(f, f->dir);
    loaded_t l;
    reload(f, &l);
    assert_int_equal(l.nmsgs, 2);
    free(l.msgs);
}

/* A failing commit (a trigger stands in for a full disk) reports -1 to exactly
 * its own waiters, commits nothing of its batch, and later batches succeed. */
static void test_commit_failure(void **state)
{
    fix_t *f = *state;
    fix_open(f, f->dir);
    char path[128];
    snprintf(path, sizeof(path), "%s/nagare.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER t BEFORE INSERT ON messages WHEN NEW.seq = 666"
                                  " BEGIN SELECT RAISE(ABORT, 'simulated disk full'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    g_acks.n = 0;
    put_msg(f->st, 665, 1);
    put_msg(f->st, 666, 1);
    store_when_durable(f->st, ack_cb, (void *)1);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    put_msg(f->st, 667, 1);
    store_when_durable(f->st, ack_cb, (void *)2);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(g_acks.n, 2);
    assert_int_equal(g_acks.status[0], -1);
    assert_int_equal(g_acks.status[1], 0);
    loaded_t l;
    reload(f, &l);
    assert_int_equal(l.nmsgs, 1);
    assert_int_equal(l.msgs[0].id, 667);
    free(l.msgs);
}

static void test_open_errors(void **state)
{
    fix_t *f = *state;
    char path[128], err[256] = "";
    snprintf(path, sizeof(path), "%s/file", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    store_t *st = NULL;
    assert_int_equal(store_open(&f->loop, path, &st, err, sizeof(err)), -1);
    assert_null(st);
    assert_non_null(strstr(err, "file"));

    /* A database written by a newer schema is refused, not modified. */
    snprintf(path, sizeof(path), "%s/nagare.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(&f->loop, f->dir, &st, err, sizeof(err)), -1);
    assert_null(st);
    assert_non_null(strstr(err, "99"));
}

/* ---- group commit under load ------------------------------------------------ */

#define LOAD_TOTAL    100000
#define LOAD_PER_TURN 5

typedef struct writer {
    store_t *st;
    uv_idle_t idle;
    uint64_t next, total;
    int per_turn;
    int ack_fd; /* fork test: acknowledged seqs are written here */
    int done;
} writer_t;

static void writer_ack(void *ud, int status)
{
    writer_t *w = ud;
    assert_int_equal(status, 0);
    w->done = 1;
}

static void writer_ack_seq(void *ud, int status)
{
    uint64_t seq = (uint64_t)(uintptr_t)ud;
    char line[32];
    int n = snprintf(line, sizeof(line), "%llu\n", (unsigned long long)seq);
    if (status == 0 && write(STDOUT_FILENO, line, (size_t)n) != n)
        _exit(3);
}

static void writer_turn(uv_idle_t *h)
{
    writer_t *w = h->data;
    for (int i = 0; i < w->per_turn && w->next <= w->total; i++) {
        uint64_t seq = w->next++;
        put_msg(w->st, seq, 1 + seq % 3);
    }
    if (w->ack_fd >= 0)
        store_when_durable(w->st, writer_ack_seq, (void *)(uintptr_t)(w->next - 1));
    if (w->next > w->total) {
        store_when_durable(w->st, writer_ack, w);
        uv_close((uv_handle_t *)h, NULL);
    }
}

static void test_group_commit(void **state)
{
    fix_t *f = *state;
    fix_open(f, f->dir);
    writer_t w = {
        .st = f->st, .next = 1, .total = LOAD_TOTAL, .per_turn = LOAD_PER_TURN, .ack_fd = -1};
    uv_idle_init(&f->loop, &w.idle);
    w.idle.data = &w;
    uv_idle_start(&w.idle, writer_turn);
    uint64_t t0 = uv_hrtime();
    uv_run(&f->loop, UV_RUN_DEFAULT);
    double secs = (double)(uv_hrtime() - t0) / 1e9;
    assert_int_equal(w.done, 1);
    store_stats_t stats;
    store_stats_get(f->st, &stats);
    print_message("%d msg_put in %.2fs: %llu transactions, %.0f per transaction\n", LOAD_TOTAL,
                  secs, (unsigned long long)stats.batches,
                  (double)stats.mutations / (double)stats.batches);
    assert_int_equal(stats.mutations, LOAD_TOTAL);
    assert_int_equal(stats.pending, 0);
    /* Handing over each turn's 5 puts would be 20000 transactions. */
    assert_true(stats.batches < LOAD_TOTAL / 10);

    loaded_t l;
    reload(f, &l);
    assert_int_equal(l.nmsgs, LOAD_TOTAL);
    for (size_t i = 0; i < l.nmsgs; i++) {
        assert_int_equal(l.msgs[i].id, i + 1);
        assert_int_equal(l.msgs[i].queue_id, 1 + (i + 1) % 3);
    }
    free(l.msgs);
}

static off_t file_size(const char *dir, const char *name)
{
    char path[128];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &sb) == 0 ? sb.st_size : 0;
}

/* Checkpoints run on the checkpointer's own connection while commits go on:
 * the database file takes the rows before the store closes, and the WAL
 * stays bounded. */
static void test_checkpoints(void **state)
{
    fix_t *f = *state;
    fix_open(f, f->dir);
    off_t db_before = file_size(f->dir, "nagare.db");
    uint64_t seq = 1;
    for (int turn = 0; turn < 300; turn++) {
        for (int i = 0; i < 50; i++, seq++)
            put_msg(f->st, seq, 1);
        g_acks.n = 0;
        wait_durable(f);
    }
    /* The checkpointer is asynchronous: give it a moment. */
    for (int i = 0; i < 200 && file_size(f->dir, "nagare.db") < db_before + 256 * 1024; i++)
        usleep(10000);
    assert_true(file_size(f->dir, "nagare.db") >= db_before + 256 * 1024);
    assert_true(file_size(f->dir, "nagare.db-wal") < 10000 * (4096 + 24) + 32);
    loaded_t l;
    reload(f, &l);
    assert_int_equal(l.nmsgs, seq - 1);
    free(l.msgs);
}

/* ---- kill -9 ------------------------------------------------------------------ */

static void child_write_forever(const char *dir, int fd)
{
    uv_loop_t loop;
    store_t *st;
    char err[256];
    dup2(fd, STDOUT_FILENO);
    if (uv_loop_init(&loop) != 0 || store_open(&loop, dir, &st, err, sizeof(err)) != 0)
        _exit(2);
    writer_t w = {.st = st, .next = 1, .total = UINT32_MAX, .per_turn = 20, .ack_fd = fd};
    uv_idle_init(&loop, &w.idle);
    w.idle.data = &w;
    uv_idle_start(&w.idle, writer_turn);
    uv_run(&loop, UV_RUN_DEFAULT);
    _exit(4);
}

static void test_kill9(void **state)
{
    fix_t *f = *state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_write_forever(f->dir, fds[1]);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    assert_non_null(in);
    unsigned long long seq, acked = 0;
    int lines = 0;
    while (acked < 20000 && fscanf(in, "%llu", &seq) == 1) {
        acked = seq > acked ? seq : acked;
        lines++;
    }
    kill(pid, SIGKILL);
    int wstatus;
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    assert_true(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL);
    while (fscanf(in, "%llu", &seq) == 1) /* acks written before the kill */
        acked = seq > acked ? seq : acked;
    fclose(in);
    assert_true(acked >= 20000);

    loaded_t l;
    fix_open(f, f->dir);
    reload(f, &l);
    print_message("acknowledged %llu (%d acks read before the kill), found %zu\n", acked, lines,
                  l.nmsgs);
    assert_true(l.nmsgs >= acked);
    for (uint64_t s = 1; s <= acked; s++) {
        const row_t *r = &l.msgs[s - 1];
        char blob[32];
        int n = snprintf(blob, sizeof(blob), "msg-%llu", (unsigned long long)s);
        assert_int_equal(r->id, s);
        assert_int_equal(r->len, n);
        assert_memory_equal(r->blob, blob, (size_t)n);
    }
    free(l.msgs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_callbacks_in_order, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_coalesce, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_long_runs, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_purge_and_queue_delete, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_kv, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_in_memory, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_close_flushes, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_commit_failure, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_group_commit, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_kill9, fix_setup, fix_teardown),
    };
    alarm(120); /* a lost wake-up would otherwise hang the suite */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
