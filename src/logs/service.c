/*
 * service — binds the Logs engine to the loop and the store; see service.h.
 *
 * Groups and streams are kv rows (kinds "logs-group" and "logs-stream", keyed
 * by their zero-padded id so they load in creation order); events go to the
 * store's log table. Deleting a group or stream removes its events there in
 * one statement; retention removes a group's old events likewise.
 */
#include "logs/service.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* PutLogEvents: 1 MiB of messages, JSON-escaped (up to 6 bytes a byte for
 * control characters) plus the events' framing. */
#define LOGS_MAX_BODY     (8u * 1024 * 1024)
#define RETENTION_TICK_MS 60000

#define KV_GROUP  "logs-group"
#define KV_STREAM "logs-stream"

struct logs_service {
    store_t *store;
    logs_engine_t *engine;
    logs_sink_t *sink;
    aws_service_t gateway;
    uv_timer_t timer;
};

/* ---- journal → store ------------------------------------------------------- */

/* A group's or stream's kv row: (kind, zero-padded id). blob NULL deletes it. */
static void kv_row(store_t *st, const char *kind, uint64_t id, const void *blob, size_t len)
{
    char k[24];
    snprintf(k, sizeof(k), "%020" PRIu64, id);
    if (blob)
        store_kv_put(st, kind, k, blob, len);
    else
        store_kv_delete(st, kind, k);
}

static void j_group_put(void *ud, uint64_t id, const void *blob, size_t len)
{
    kv_row(ud, KV_GROUP, id, blob ? blob : "", len);
}

static void j_group_delete(void *ud, uint64_t id)
{
    kv_row(ud, KV_GROUP, id, NULL, 0);
    store_log_group_purge(ud, id);
}

static void j_stream_put(void *ud, uint64_t id, const void *blob, size_t len)
{
    kv_row(ud, KV_STREAM, id, blob ? blob : "", len);
}

static void j_stream_delete(void *ud, uint64_t id)
{
    kv_row(ud, KV_STREAM, id, NULL, 0);
    store_log_stream_purge(ud, id);
}

static void j_event_put(void *ud, const logs_event_rec_t *ev)
{
    store_log_event_t r = {ev->seq,    ev->group_id, ev->stream_id, ev->ts,
                           ev->ingest, ev->msg,      ev->len};
    store_log_put(ud, &r);
}

static void j_expire(void *ud, uint64_t group_id, int64_t before_ts)
{
    store_log_expire(ud, group_id, before_ts);
}

/* ---- recovery --------------------------------------------------------------- */

typedef struct restore {
    logs_engine_t *engine;
    size_t groups, streams, events, bad;
} restore_t;

static uint64_t key_id(const char *key)
{
    return strtoull(key, NULL, 10);
}

static int r_group(void *ud, const char *key, const void *blob, size_t len)
{
    restore_t *r = ud;
    if (logs_group_restore(r->engine, key_id(key), blob, len) < 0)
        r->bad++;
    else
        r->groups++;
    return 0;
}

static int r_stream(void *ud, const char *key, const void *blob, size_t len)
{
    restore_t *r = ud;
    if (logs_stream_restore(r->engine, key_id(key), blob, len) < 0)
        r->bad++;
    else
        r->streams++;
    return 0;
}

static int r_event(void *ud, const store_log_event_t *ev)
{
    restore_t *r = ud;
    logs_event_rec_t rec = {ev->seq,    ev->group_id, ev->stream_id, ev->ts,
                            ev->ingest, ev->message,  ev->len};
    if (logs_event_restore(r->engine, &rec) < 0)
        r->bad++;
    else
        r->events++;
    return 0;
}

/* ---- retention ---------------------------------------------------------------- */

static void tick_cb(uv_timer_t *t)
{
    logs_service_t *svc = t->data;
    logs_engine_expire(svc->engine, (int64_t)clock_wall_ms());
}

/* ---- the service ------------------------------------------------------------------ */

logs_service_t *logs_service_new(uv_loop_t *loop, store_t *st, iam_authz_t *az, char *errbuf,
                                 size_t errlen)
{
    logs_service_t *svc = xcalloc(1, sizeof(*svc));
    logs_journal_t j = {st,          j_group_put, j_group_delete, j_stream_put, j_stream_delete,
                        j_event_put, j_expire};
    restore_t r = {0};
    svc->store = st;
    /* Restoring journals nothing: the records come from the store. */
    r.engine = logs_engine_new(&j);
    if (store_kv_load(st, KV_GROUP, r_group, &r) < 0 ||
        store_kv_load(st, KV_STREAM, r_stream, &r) < 0 || store_log_load(st, r_event, &r) < 0) {
        snprintf(errbuf, errlen, "cannot read the log groups, streams or events");
        logs_engine_free(r.engine);
        free(svc);
        return NULL;
    }
    svc->engine = r.engine;
    if (r.groups || r.bad)
        log_info("logs: restored %zu groups, %zu streams and %zu events (%zu unreadable records "
                 "skipped)",
                 r.groups, r.streams, r.events, r.bad);
    svc->sink = logs_sink_new(svc->engine, az);
    svc->gateway = (aws_service_t){"logs",        &model_logs, logs_actions, logs_n_actions,
                                   LOGS_MAX_BODY, svc,         NULL};
    uv_timer_init(loop, &svc->timer);
    svc->timer.data = svc;
    uv_timer_start(&svc->timer, tick_cb, RETENTION_TICK_MS, RETENTION_TICK_MS);
    uv_unref((uv_handle_t *)&svc->timer);
    return svc;
}

static void closed_cb(uv_handle_t *h)
{
    logs_service_t *svc = h->data;
    logs_sink_free(svc->sink);
    logs_engine_free(svc->engine);
    free(svc);
}

void logs_service_free(logs_service_t *svc)
{
    if (svc)
        uv_close((uv_handle_t *)&svc->timer, closed_cb);
}

const aws_service_t *logs_service_gateway(logs_service_t *svc)
{
    return &svc->gateway;
}

logs_engine_t *logs_service_engine(logs_service_t *svc)
{
    return svc->engine;
}

logs_sink_t *logs_service_sink(logs_service_t *svc)
{
    return svc->sink;
}
