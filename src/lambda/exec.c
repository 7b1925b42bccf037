/*
 * exec — see exec.h for the contract. How it works:
 *
 * Functions are pools (account, region, name) of instances. An instance is a
 * process group, its two output pipes, one timer and one Runtime API server.
 * An invocation is bound to an instance from the start: a warm instance that
 * is READY takes it at once, else a new instance is spawned for it (when the
 * concurrency limits allow), so there is no queue to starve. The invocation is
 * delivered when the runtime asks for `/invocation/next` (the request is held
 * while there is no work) and completes with `/response`, `/error`,
 * `/init/error`, the timer (timeout) or the process's exit, whichever comes
 * first; inst_finish() is the one place that writes END/REPORT and calls back.
 *
 * An instance's teardown always starts from the process's exit (a retired or
 * timed-out instance is killed with SIGKILL to its whole group): the exit
 * callback drains the pipes, then closes the handles and shuts the server
 * down; the instance is freed when the last of them has closed.
 *
 * Output written by the runtime before it posts its response is in the pipe by
 * then, but the loop may read the response first: the pipes are drained with
 * plain non-blocking reads before an invocation completes, so its lines land
 * before END, as in AWS.
 */
#include "lambda/exec.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/hex.h"
#include "base/ids.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "http/server.h"
#include "iam/directory.h"
#include "iam/session.h"
#include "lambda/rtapi.h"

#include <errno.h>
#include <limits.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Until the logs branch (engineer C) is merged, the sink may be absent from the link. */
#pragma weak logs_sink_append

enum {
    TAIL_BYTES = 4096,                 /* LogType Tail: the last 4 KB */
    TAIL_KEEP = 64 * 1024,             /* trimmed back to TAIL_BYTES past this */
    LINE_MAX_BYTES = 256 * 1024,       /* a CloudWatch Logs event's maximum */
    RESPONSE_MAX = 6291556,            /* the synchronous response payload limit */
    RT_BODY_CAP = 16 * 1024 * 1024,    /* what the listener reads before its own 413 */
    INIT_LIMIT_MS = 10000,             /* the init phase's limit */
    CREDS_TTL_MS = 12 * 3600 * 1000,   /* the role session's lifetime */
    CREDS_RENEW_MS = 11 * 3600 * 1000, /* an idle instance this old is retired */
    REAP_MIN_MS = 1000,
};

#define DEFAULT_MAX_CONCURRENCY 1000
#define DEFAULT_IDLE_MS         300000

typedef enum inst_state { I_STARTING, I_READY, I_BUSY, I_DEAD } inst_state_t;

typedef struct inv {
    char id[37];
    char *payload;
    size_t len;
    char *arn, *version;
    char *client_context; /* NULL: none */
    bool want_tail, delivered;
    lambda_result_cb cb;
    void *ud;
    uint64_t start_ns; /* uv_hrtime() at delivery */
    uint64_t deadline_wall_ms;
    buf_t tail;
} inv_t;

typedef struct pool pool_t;

typedef struct inst {
    lambda_exec_t *x;
    pool_t *pool;
    struct inst *next;
    inst_state_t state;
    uv_process_t proc;
    uv_pipe_t out, err;
    uv_timer_t timer;
    http_server_t *srv;
    int port, closing, pgid;
    bool exited, spawned, proc_init, retiring, initialized, cold, init_timer;
    int spawn_rc;         /* a process that could not start: its uv error */
    http_request_t *held; /* a /next waiting for work */
    inv_t *inv;
    uint64_t code_id, spawn_ms, init_ms, idle_since_ms, creds_ms;
    int timeout_s, memory_mb, max_mem_mb;
    char *version, *role_arn, *runtime;
    char entry[PATH_MAX + 16]; /* what is executed: the bootstrap or the interpreter */
    char task_root[PATH_MAX];  /* the code directory, absolute */
    char stream[128];
    buf_t line_out, line_err;
    int64_t exit_status;
    int term_signal;
} inst_t;

struct pool {
    char *account, *region, *name, *group;
    inst_t *insts;
    int busy;
    pool_t *next;
};

struct lambda_exec {
    uv_loop_t *loop;
    lambda_exec_config_t cfg;
    pool_t *pools;
    uv_timer_t reaper;
    int busy;
    size_t live; /* instances not yet freed */
    bool shutting_down, reaper_closed;
    void (*done)(void *ud);
    void *done_ud;
};

static void inst_kill(inst_t *i);
static void inst_deliver(inst_t *i);
static void exec_maybe_done(lambda_exec_t *x);

/* ---- small helpers ------------------------------------------------------------------------- */

static void iso_time(uint64_t wall_ms, char out[32])
{
    time_t t = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(wall_ms % 1000));
}

static char *error_json(const char *type, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* {"errorMessage": ..., "errorType": type}; type NULL leaves errorType out (timeouts). */
static char *error_json(const char *type, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *o = json_pack("{s:s}", "errorMessage", msg);
    if (type)
        json_object_set_new(o, "errorType", json_string(type));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static int read_vmhwm_mb(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb < 0 ? -1 : (int)((kb + 1023) / 1024);
}

static void inst_sample_memory(inst_t *i)
{
    if (!i->spawned || i->exited)
        return;
    int mb = read_vmhwm_mb(i->pgid);
    if (mb > i->max_mem_mb)
        i->max_mem_mb = mb;
}

/* ---- log lines ----------------------------------------------------------------------------- */

static void inv_tail_add(inv_t *v, const char *line, size_t len)
{
    if (v->tail.len + len + 1 > TAIL_KEEP) {
        size_t keep = v->tail.len > TAIL_BYTES ? TAIL_BYTES : v->tail.len;
        memmove(v->tail.data, v->tail.data + v->tail.len - keep, keep);
        v->tail.len = keep;
        v->tail.data[keep] = 0;
    }
    if (len > TAIL_BYTES)
        line += len - TAIL_BYTES, len = TAIL_BYTES;
    buf_append(&v->tail, line, len);
    buf_putc(&v->tail, '\n');
}

static void inst_log(inst_t *i, const char *line, size_t len)
{
    lambda_exec_t *x = i->x;
    if (x->cfg.sink && x->cfg.sink_append)
        x->cfg.sink_append(x->cfg.sink, i->pool->account, i->pool->region, i->role_arn,
                           i->pool->group, i->stream, (int64_t)clock_wall_ms(), line, len);
    if (i->inv)
        inv_tail_add(i->inv, line, len);
}

static void inst_logf(inst_t *i, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void inst_logf(inst_t *i, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    inst_log(i, line, n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* Splits bytes from one pipe into lines; a line longer than an event's maximum is cut. */
static void lines_feed(inst_t *i, buf_t *lb, const char *p, size_t n)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (lb->len + take > LINE_MAX_BYTES)
            take = LINE_MAX_BYTES - lb->len;
        buf_append(lb, p, take);
        p += take, n -= take;
        bool full = lb->len >= LINE_MAX_BYTES;
        if (n && *p == '\n')
            p++, n--, full = true;
        if (full) {
            inst_log(i, lb->data, lb->len);
            buf_reset(lb);
        }
    }
}

static void lines_flush(inst_t *i, buf_t *lb)
{
    if (lb->len)
        inst_log(i, lb->data, lb->len);
    buf_reset(lb);
}

/* Reads what a pipe holds now, without waiting (the fd is non-blocking). */
static void pipe_drain(inst_t *i, uv_pipe_t *p, buf_t *lb)
{
    uv_os_fd_t fd;
    if (uv_is_closing((uv_handle_t *)p) || uv_fileno((uv_handle_t *)p, &fd) != 0)
        return;
    char tmp[16384];
    for (;;) {
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n <= 0)
            break;
        lines_feed(i, lb, tmp, (size_t)n);
    }
}

static void inst_drain(inst_t *i)
{
    if (!i->spawned)
        return;
    pipe_drain(i, &i->out, &i->line_out);
    pipe_drain(i, &i->err, &i->line_err);
}

static void on_pipe_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    static char rbuf[65536]; /* the loop thread's only; consumed before the next read */
    (void)suggested;
    b->base = rbuf;
    b->len = sizeof(rbuf);
}

static void on_pipe_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    inst_t *i = s->data;
    buf_t *lb = s == (uv_stream_t *)&i->out ? &i->line_out : &i->line_err;
    if (n > 0)
        lines_feed(i, lb, b->base, (size_t)n);
    else if (n < 0)
        uv_read_stop(s);
}

/* ---- invocations --------------------------------------------------------------------------- */

static void inv_free(inv_t *v)
{
    free(v->payload);
    free(v->arn);
    free(v->version);
    free(v->client_context);
    buf_free(&v->tail);
    free(v);
}

/* Completes i's invocation: END and REPORT lines, the callback, the instance back to READY (or
 * on its way out). status_note is appended to REPORT ("Status: timeout"), or NULL. */
static void inst_finish(inst_t *i, const char *function_error, const char *payload, size_t len,
                        const char *status_note)
{
    inv_t *v = i->inv;
    if (!v)
        return;
    lambda_exec_t *x = i->x;
    inst_drain(i);
    inst_sample_memory(i);
    double dur = v->delivered ? (double)(uv_hrtime() - v->start_ns) / 1e6 : 0;
    unsigned long long billed = (unsigned long long)dur + 1; /* rounded up to the next ms */
    char init[64] = "";
    if (i->cold && i->initialized)
        snprintf(init, sizeof(init), "\tInit Duration: %.2f ms", (double)i->init_ms);
    inst_logf(i, "END RequestId: %s", v->id);
    inst_logf(i,
              "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %llu ms\tMemory Size: "
              "%d MB\tMax Memory Used: %d MB%s%s%s",
              v->id, dur, billed, i->memory_mb, i->max_mem_mb < 1 ? 1 : i->max_mem_mb, init,
              status_note ? "\t" : "", status_note ? status_note : "");
    i->cold = false;
    i->inv = NULL;
    i->pool->busy--;
    x->busy--;
    size_t tlen = v->tail.len > TAIL_BYTES ? TAIL_BYTES : v->tail.len;
    lambda_result_t r = {200,
                         function_error,
                         payload,
                         len,
                         v->want_tail ? v->tail.data + v->tail.len - tlen : NULL,
                         v->version};
    uv_timer_stop(&i->timer);
    if (i->state == I_BUSY) {
        i->state = I_READY;
        i->idle_since_ms = clock_mono_ms();
    }
    if (i->retiring)
        inst_kill(i);
    v->cb(v->ud, &r);
    inv_free(v);
}

static void inst_finish_error(inst_t *i, const char *status_note, char *payload)
{
    inst_finish(i, "Unhandled", payload, strlen(payload), status_note);
    free(payload);
}

static void on_timer(uv_timer_t *t)
{
    inst_t *i = t->data;
    if (i->init_timer) {
        /* AWS retries a slow init inside the invocation, under the function timeout. */
        i->init_timer = false;
        uv_timer_start(&i->timer, on_timer, (uint64_t)i->timeout_s * 1000, 0);
        return;
    }
    if (!i->inv)
        return;
    char when[32], msg[160];
    iso_time(clock_wall_ms(), when);
    int n = snprintf(msg, sizeof(msg), "%s %s Task timed out after %d.00 seconds", when, i->inv->id,
                     i->timeout_s);
    inst_sample_memory(i);
    inst_kill(i);
    inst_drain(i);
    inst_log(i, msg, (size_t)n);
    char *p = error_json(NULL, "%s", msg);
    inst_finish_error(i, "Status: timeout", p);
}

static void inst_deliver(inst_t *i)
{
    inv_t *v = i->inv;
    http_request_t *req = i->held;
    if (!v || v->delivered || !req)
        return;
    i->held = NULL;
    if (!i->initialized) {
        i->initialized = true;
        i->init_ms = clock_mono_ms() - i->spawn_ms;
    }
    v->delivered = true;
    v->start_ns = uv_hrtime();
    v->deadline_wall_ms = clock_wall_ms() + (uint64_t)i->timeout_s * 1000;
    i->init_timer = false;
    uv_timer_start(&i->timer, on_timer, (uint64_t)i->timeout_s * 1000, 0);
    inst_logf(i, "START RequestId: %s Version: %s", v->id, v->version);
    uint8_t rnd[20];
    char hex[41], trace[96], deadline[24];
    ids_random(rnd, sizeof(rnd));
    hex_encode(rnd, sizeof(rnd), hex);
    snprintf(trace, sizeof(trace), "Root=1-%08llx-%.24s;Parent=%.16s;Sampled=0",
             (unsigned long long)(clock_wall_ms() / 1000), hex, hex + 24);
    snprintf(deadline, sizeof(deadline), "%llu", (unsigned long long)v->deadline_wall_ms);
    http_header_t h[] = {
        {"Content-Type", 12, "application/json", 16},
        {"Lambda-Runtime-Aws-Request-Id", 29, v->id, strlen(v->id)},
        {"Lambda-Runtime-Deadline-Ms", 26, deadline, strlen(deadline)},
        {"Lambda-Runtime-Invoked-Function-Arn", 35, v->arn, strlen(v->arn)},
        {"Lambda-Runtime-Trace-Id", 23, trace, strlen(trace)},
        {"Lambda-Runtime-Client-Context", 29, v->client_context,
         v->client_context ? strlen(v->client_context) : 0},
    };
    http_respond(req, 200, h, sizeof(h) / sizeof(h[0]) - !v->client_context, v->payload, v->len);
}

/* ---- the Runtime API ----------------------------------------------------------------------- */

static void rt_json(http_request_t *req, int status, const char *body)
{
    http_header_t h = {"Content-Type", 12, "application/json", 16};
    http_respond(req, status, &h, 1, body, strlen(body));
}

static void rt_error(http_request_t *req, int status, const char *type, const char *msg)
{
    char *b = error_json(type, "%s", msg);
    rt_json(req, status, b);
    free(b);
}

static void rt_accepted(http_request_t *req)
{
    rt_json(req, 202, "{\"status\":\"OK\"}");
}

static void on_next_abort(http_request_t *req)
{
    inst_t *i = req->user;
    if (i && i->held == req)
        i->held = NULL;
    http_respond(req, 500, NULL, 0, NULL, 0);
}

static void rt_next(inst_t *i, http_request_t *req)
{
    if (i->held) /* a second poller: the first one is told off */
        rt_error(i->held, 400, "InvalidStateTransition", "Another request is waiting for work.");
    i->held = req;
    req->user = i;
    req->on_abort = on_next_abort;
    if (i->state == I_STARTING && !i->inv) {
        i->state = I_READY;
        i->idle_since_ms = clock_mono_ms();
    }
    if (!i->initialized && !i->inv) {
        i->initialized = true;
        i->init_ms = clock_mono_ms() - i->spawn_ms;
    }
    inst_deliver(i);
}

static bool rt_current(inst_t *i, http_request_t *req, const char *id, size_t id_len)
{
    if (i->inv && i->inv->delivered && strlen(i->inv->id) == id_len &&
        memcmp(i->inv->id, id, id_len) == 0)
        return true;
    rt_error(req, 400, "InvalidRequestID", "Invalid request ID");
    return false;
}

static void rt_response(inst_t *i, http_request_t *req, const char *id, size_t id_len)
{
    if (!rt_current(i, req, id, id_len))
        return;
    if (req->body_len > RESPONSE_MAX) {
        rt_error(req, 413, "RequestEntityTooLarge",
                 "Exceeded maximum allowed payload size (6291556 bytes).");
        inst_finish_error(i, NULL,
                          error_json("Function.ResponseSizeTooLarge",
                                     "Response payload size exceeded maximum allowed payload "
                                     "size (6291556 bytes)."));
        return;
    }
    inst_finish(i, NULL, req->body, req->body_len, NULL);
    rt_accepted(req);
}

/* The error document the runtime posted, or one made from its error type header. */
static char *error_body(http_request_t *req)
{
    json_t *doc = json_loadb(req->body, req->body_len, 0, NULL);
    if (json_is_object(doc)) { /* passed on as the runtime wrote it */
        json_decref(doc);
        return xstrndup(req->body, req->body_len);
    }
    json_decref(doc);
    size_t tlen = 0;
    const char *type = http_request_header(req, "Lambda-Runtime-Function-Error-Type", &tlen);
    char t[256];
    snprintf(t, sizeof(t), "%.*s", type ? (int)(tlen < 255 ? tlen : 255) : 0, type ? type : "");
    return error_json(t[0] ? t : "Runtime.Unknown", "%.*s",
                      (int)(req->body_len < 900 ? req->body_len : 900), req->body);
}

static void rt_fn_error(inst_t *i, http_request_t *req, const char *id, size_t id_len)
{
    if (!rt_current(i, req, id, id_len))
        return;
    inst_finish_error(i, NULL, error_body(req));
    rt_accepted(req);
}

static void rt_init_error(inst_t *i, http_request_t *req)
{
    if (i->initialized) {
        rt_error(req, 403, "InvalidStateTransition",
                 "State transition from Ready to InitError failed for runtime.");
        return;
    }
    char *body = error_body(req);
    rt_accepted(req);
    inst_log(i, body, strlen(body));
    i->retiring = true; /* AWS starts a fresh instance for the next invoke */
    if (i->inv) {
        i->initialized = true;
        i->init_ms = clock_mono_ms() - i->spawn_ms;
        i->inv->delivered = true;
        i->inv->start_ns = uv_hrtime();
        inst_logf(i, "START RequestId: %s Version: %s", i->inv->id, i->inv->version);
        inst_finish(i, "Unhandled", body, strlen(body), "Status: error\tError Type: Runtime.Init");
    } else {
        inst_kill(i);
    }
    free(body);
}

static void on_rt_request(http_request_t *req, void *ud)
{
    inst_t *i = ud;
    const char *id = NULL;
    size_t id_len = 0;
    if (i->state == I_DEAD) {
        rt_error(req, 500, "ContainerError", "The instance is shutting down.");
        return;
    }
    switch (lambda_rt_parse(req->method, req->path, req->path_len, &id, &id_len)) {
    case LAMBDA_RT_NEXT:
        rt_next(i, req);
        break;
    case LAMBDA_RT_RESPONSE:
        rt_response(i, req, id, id_len);
        break;
    case LAMBDA_RT_ERROR:
        rt_fn_error(i, req, id, id_len);
        break;
    case LAMBDA_RT_INIT_ERROR:
        rt_init_error(i, req);
        break;
    case LAMBDA_RT_BAD_METHOD:
        rt_error(req, 405, "MethodNotAllowed", "Method not allowed.");
        break;
    case LAMBDA_RT_NOT_FOUND:
        rt_error(req, 404, "NotFound", "Not found.");
        break;
    }
}

static size_t rt_body_limit(const http_request_t *req, void *ud)
{
    (void)req, (void)ud;
    return RT_BODY_CAP;
}

/* ---- instance teardown --------------------------------------------------------------------- */

static void pool_unlink(inst_t *i)
{
    for (inst_t **pp = &i->pool->insts; *pp; pp = &(*pp)->next)
        if (*pp == i) {
            *pp = i->next;
            return;
        }
}

static void inst_free_maybe(inst_t *i)
{
    if (i->closing)
        return;
    lambda_exec_t *x = i->x;
    buf_free(&i->line_out);
    buf_free(&i->line_err);
    free(i->version);
    free(i->role_arn);
    free(i->runtime);
    free(i);
    x->live--;
    exec_maybe_done(x);
}

static void on_inst_closed(uv_handle_t *h)
{
    inst_t *i = h->data;
    i->closing--;
    inst_free_maybe(i);
}

static void on_srv_done(void *ud)
{
    inst_t *i = ud;
    i->closing--;
    inst_free_maybe(i);
}

static void inst_close_handle(inst_t *i, uv_handle_t *h)
{
    i->closing++;
    uv_close(h, on_inst_closed);
}

/* The process is gone (or never started): complete what is pending and close everything. */
static void inst_teardown(inst_t *i)
{
    inst_drain(i);
    lines_flush(i, &i->line_out);
    lines_flush(i, &i->line_err);
    if (i->inv && i->spawn_rc) {
        char *p = error_json("Runtime.InvalidEntrypoint",
                             "RequestId: %s Error: Couldn't find valid bootstrap(s): [%s] (%s)",
                             i->inv->id, i->entry, uv_strerror(i->spawn_rc));
        inst_logf(i, "%s", p);
        i->inv->delivered = true;
        i->inv->start_ns = uv_hrtime();
        inst_finish_error(i, "Status: error\tError Type: Runtime.InvalidEntrypoint", p);
    }
    if (i->inv) {
        char reason[64];
        if (i->term_signal)
            snprintf(reason, sizeof(reason), "signal: %s",
                     i->term_signal == SIGKILL ? "killed" : strsignal(i->term_signal));
        else
            snprintf(reason, sizeof(reason), "exit status %lld", (long long)i->exit_status);
        char *p =
            error_json("Runtime.ExitError", "RequestId: %s Error: Runtime exited with error: %s",
                       i->inv->id, reason);
        inst_logf(i, "RequestId: %s Error: Runtime exited with error: %s", i->inv->id, reason);
        if (!i->inv->delivered) {
            i->inv->delivered = true;
            i->inv->start_ns = uv_hrtime();
        }
        inst_finish_error(i, "Status: error\tError Type: Runtime.ExitError", p);
    }
    i->state = I_DEAD;
    pool_unlink(i);
    if (i->held) {
        http_request_t *req = i->held;
        i->held = NULL;
        rt_error(req, 500, "ContainerError", "The instance is shutting down.");
    }
    i->closing++; /* held while closing handles so that the count cannot reach 0 early */
    if (i->proc_init)
        inst_close_handle(i, (uv_handle_t *)&i->proc);
    inst_close_handle(i, (uv_handle_t *)&i->out);
    inst_close_handle(i, (uv_handle_t *)&i->err);
    inst_close_handle(i, (uv_handle_t *)&i->timer);
    if (i->srv) {
        i->closing++;
        http_server_shutdown(i->srv, on_srv_done, i);
    }
    i->closing--;
    inst_free_maybe(i);
}

static void on_proc_exit(uv_process_t *p, int64_t status, int sig)
{
    inst_t *i = p->data;
    i->exited = true;
    i->exit_status = status;
    i->term_signal = sig;
    kill(-i->pgid, SIGKILL); /* whatever the runtime started goes with it */
    inst_teardown(i);
}

/* Stops the process group; the exit callback tears the instance down. */
static void inst_kill(inst_t *i)
{
    i->retiring = true;
    if (i->state != I_DEAD && i->state != I_BUSY)
        i->state = I_DEAD;
    if (i->spawned && !i->exited)
        kill(-i->pgid, SIGKILL);
}

/* ---- spawning ------------------------------------------------------------------------------ */

typedef struct env {
    char **v;
    size_t n, cap;
} env_t;

static void env_add(env_t *e, const char *k, const char *v)
{
    if (e->n + 2 > e->cap) {
        e->cap = e->cap ? e->cap * 2 : 32;
        e->v = xrealloc(e->v, e->cap * sizeof(char *));
    }
    size_t kl = strlen(k), vl = strlen(v);
    char *s = xmalloc(kl + vl + 2);
    memcpy(s, k, kl);
    s[kl] = '=';
    memcpy(s + kl + 1, v, vl + 1);
    e->v[e->n++] = s;
    e->v[e->n] = NULL;
}

static void env_free(env_t *e)
{
    for (size_t k = 0; k < e->n; k++)
        free(e->v[k]);
    free(e->v);
}

/* The role's temporary credentials, as the Lambda service gets them with sts:AssumeRole. */
static void env_add_credentials(lambda_exec_t *x, const lambda_fn_spec_t *fn, env_t *e)
{
    const uint8_t *key = x->cfg.ids ? iam_identity_token_key(x->cfg.ids) : NULL;
    if (!key || !fn->role_arn || !fn->role_arn[0])
        return;
    iam_session_t s;
    memset(&s, 0, sizeof(s));
    snprintf(s.account, sizeof(s.account), "%s", fn->account);
    snprintf(s.role_arn, sizeof(s.role_arn), "%s", fn->role_arn);
    const iam_dir_role_t *role =
        x->cfg.dir ? iam_dir_role_get(x->cfg.dir, fn->account, fn->role_arn) : NULL;
    snprintf(s.role_id, sizeof(s.role_id), "%s", role ? role->e.id : "");
    snprintf(s.name, sizeof(s.name), "%s", fn->name); /* AWS names the session after the function */
    s.issued_ms = (int64_t)clock_wall_ms();
    s.expires_ms = s.issued_ms + CREDS_TTL_MS;
    char secret[41];
    buf_t token;
    buf_init(&token, 0);
    iam_session_issue(key, &s, secret, &token);
    env_add(e, "AWS_ACCESS_KEY_ID", s.access_key);
    env_add(e, "AWS_SECRET_ACCESS_KEY", secret);
    env_add(e, "AWS_SESSION_TOKEN", token.data);
    buf_free(&token);
}

typedef enum rt_kind { RT_PROVIDED, RT_PYTHON, RT_NODE } rt_kind_t;

static const struct {
    const char *prefix;
    rt_kind_t kind;
    const char *script; /* under runtimes_dir */
} runtime_table[] = {
    {"provided", RT_PROVIDED, NULL},
    {"python3.", RT_PYTHON, "python/bootstrap"},
    {"nodejs", RT_NODE, "nodejs/bootstrap.js"},
};

static int runtime_find(const char *runtime)
{
    for (size_t k = 0; k < sizeof(runtime_table) / sizeof(runtime_table[0]); k++)
        if (runtime &&
            strncmp(runtime, runtime_table[k].prefix, strlen(runtime_table[k].prefix)) == 0)
            return (int)k;
    return -1;
}

static void env_build(inst_t *i, const lambda_fn_spec_t *fn, env_t *e)
{
    lambda_exec_t *x = i->x;
    char num[32];
    for (size_t k = 0; k < fn->n_env; k++)
        env_add(e, fn->env_keys[k], fn->env_values[k]);
    snprintf(num, sizeof(num), "127.0.0.1:%d", i->port);
    env_add(e, "AWS_LAMBDA_RUNTIME_API", num);
    env_add(e, "AWS_LAMBDA_FUNCTION_NAME", fn->name);
    env_add(e, "AWS_LAMBDA_FUNCTION_VERSION", fn->version);
    snprintf(num, sizeof(num), "%d", fn->memory_mb);
    env_add(e, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", num);
    env_add(e, "AWS_LAMBDA_LOG_GROUP_NAME", i->pool->group);
    env_add(e, "AWS_LAMBDA_LOG_STREAM_NAME", i->stream);
    env_add(e, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    env_add(e, "_HANDLER", fn->handler ? fn->handler : "");
    env_add(e, "LAMBDA_TASK_ROOT", i->task_root);
    env_add(e, "LAMBDA_RUNTIME_DIR", x->cfg.runtimes_dir);
    env_add(e, "AWS_REGION", fn->region);
    env_add(e, "AWS_DEFAULT_REGION", fn->region);
    if (runtime_table[runtime_find(fn->runtime)].kind != RT_PROVIDED) {
        char ee[96];
        snprintf(ee, sizeof(ee), "AWS_Lambda_%s", fn->runtime);
        env_add(e, "AWS_EXECUTION_ENV", ee);
    }
    if (x->cfg.endpoint_url)
        env_add(e, "AWS_ENDPOINT_URL", x->cfg.endpoint_url);
    env_add_credentials(x, fn, e);
    env_add(e, "TZ", ":UTC");
    env_add(e, "LANG", "en_US.UTF-8");
    /* A hot-reload directory is the user's own: no __pycache__ written into it, and none
     * whose second-granular timestamps would hide an edit made within the same second. */
    if (fn->hot)
        env_add(e, "PYTHONDONTWRITEBYTECODE", "1");
    const char *path = getenv("PATH");
    env_add(e, "PATH", path ? path : "/usr/local/bin:/usr/bin:/bin");
}

static void stream_name(inst_t *i)
{
    time_t t = (time_t)(clock_wall_ms() / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    uint8_t rnd[16];
    char hex[33];
    ids_random(rnd, sizeof(rnd));
    hex_encode(rnd, sizeof(rnd), hex);
    snprintf(i->stream, sizeof(i->stream), "%04d/%02d/%02d/[%s]%s", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, i->version, hex);
}

/* True when the file starts with "#!/bin/sh". */
static bool sh_script(const char *file)
{
    char head[16] = "";
    FILE *f = fopen(file, "r");
    if (!f)
        return false;
    size_t n = fread(head, 1, sizeof(head) - 1, f);
    fclose(f);
    head[n] = 0;
    return strncmp(head, "#!/bin/sh", 9) == 0 &&
           (head[9] == '\n' || head[9] == ' ' || head[9] == '\r');
}

/* Starts the process; 0, or a negative uv error (the handles are then initialised but idle). */
static int inst_spawn_process(inst_t *i, const lambda_fn_spec_t *fn)
{
    lambda_exec_t *x = i->x;
    int rt = runtime_find(fn->runtime);
    if (!realpath(fn->code_dir, i->task_root))
        snprintf(i->task_root, sizeof(i->task_root), "%s", fn->code_dir);
    snprintf(i->entry, sizeof(i->entry), "%s/bootstrap", i->task_root);
    if (rt < 0)
        return UV_EINVAL;
    char script[4096];
    const char *args[4] = {NULL};
    if (runtime_table[rt].kind == RT_PROVIDED && sh_script(i->entry)) {
        /* Amazon Linux's /bin/sh is bash, and bootstraps (AWS's tutorial's among them) rely on
         * it: `set -o pipefail`, `source`. */
        args[0] = "bash";
        args[1] = i->entry;
    } else if (runtime_table[rt].kind == RT_PROVIDED) {
        args[0] = i->entry;
    } else {
        snprintf(script, sizeof(script), "%s/%s", x->cfg.runtimes_dir, runtime_table[rt].script);
        args[0] = runtime_table[rt].kind == RT_PYTHON ? x->cfg.python : x->cfg.node;
        args[1] = script;
        snprintf(i->entry, sizeof(i->entry), "%s", args[0]);
    }
    env_t e = {0};
    env_build(i, fn, &e);
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&i->out},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&i->err},
    };
    uv_process_options_t o = {
        .exit_cb = on_proc_exit,
        .file = args[0],
        .args = (char **)args,
        .env = e.v,
        .cwd = i->task_root,
        .flags = UV_PROCESS_DETACHED,
        .stdio_count = 3,
        .stdio = stdio,
    };
    int rc = uv_spawn(x->loop, &i->proc, &o);
    i->proc_init = true; /* initialised even when the spawn fails, and closed alike */
    env_free(&e);
    if (rc < 0)
        return rc;
    i->spawned = true;
    i->pgid = i->proc.pid;
    uv_read_start((uv_stream_t *)&i->out, on_pipe_alloc, on_pipe_read);
    uv_read_start((uv_stream_t *)&i->err, on_pipe_alloc, on_pipe_read);
    return 0;
}

static void on_spawn_failed(uv_timer_t *t)
{
    inst_teardown(t->data);
}

static inst_t *inst_new(lambda_exec_t *x, pool_t *pool, const lambda_fn_spec_t *fn)
{
    inst_t *i = xcalloc(1, sizeof(*i));
    i->x = x;
    i->pool = pool;
    i->state = I_STARTING;
    i->code_id = fn->code_id;
    i->timeout_s = fn->timeout_s > 0 ? fn->timeout_s : 3;
    i->memory_mb = fn->memory_mb > 0 ? fn->memory_mb : 128;
    i->version = xstrdup(fn->version ? fn->version : "$LATEST");
    i->role_arn = xstrdup(fn->role_arn ? fn->role_arn : "");
    i->runtime = xstrdup(fn->runtime ? fn->runtime : "");
    i->cold = true;
    i->spawn_ms = i->creds_ms = clock_mono_ms();
    buf_init(&i->line_out, LINE_MAX_BYTES + 1);
    buf_init(&i->line_err, LINE_MAX_BYTES + 1);
    stream_name(i);
    uv_timer_init(x->loop, &i->timer);
    uv_pipe_init(x->loop, &i->out, 0);
    uv_pipe_init(x->loop, &i->err, 0);
    i->timer.data = i->out.data = i->err.data = i->proc.data = i;
    i->next = pool->insts;
    pool->insts = i;
    x->live++;
    return i;
}

/* A new instance for fn; its first invocation is assigned by the caller. Never fails: a process
 * that cannot start completes the invocation with Runtime.InvalidEntrypoint (see inst_assign). */
static inst_t *inst_start(lambda_exec_t *x, pool_t *pool, const lambda_fn_spec_t *fn, int *spawn_rc)
{
    inst_t *i = inst_new(x, pool, fn);
    http_server_config_t sc = {.body_limit_cb = rt_body_limit, .idle_timeout_ms = 3600 * 1000};
    int rc = http_server_new(x->loop, &sc, on_rt_request, i, &i->srv);
    if (rc == 0) {
        rc = http_server_listen(i->srv, "127.0.0.1", 0);
        i->port = http_server_port(i->srv);
    }
    if (rc == 0)
        rc = inst_spawn_process(i, fn);
    *spawn_rc = rc;
    if (rc == 0) {
        i->init_timer = true;
        uv_timer_start(&i->timer, on_timer, INIT_LIMIT_MS, 0);
    }
    return i;
}

static void inst_assign(inst_t *i, inv_t *v, int spawn_rc, const char *code_dir)
{
    lambda_exec_t *x = i->x;
    i->inv = v;
    i->state = I_BUSY;
    i->pool->busy++;
    x->busy++;
    if (spawn_rc == 0) {
        inst_deliver(i);
        return;
    }
    /* AWS: "Couldn't find valid bootstrap(s)"; reported from the loop, never from invoke itself. */
    log_warn("lambda %s: cannot start the runtime in %s: %s", i->pool->name, code_dir,
             uv_strerror(spawn_rc));
    i->spawn_rc = spawn_rc;
    i->exited = true;
    uv_timer_start(&i->timer, on_spawn_failed, 0, 0);
}

/* ---- pools and the public API -------------------------------------------------------------- */

static pool_t *pool_find(lambda_exec_t *x, const char *account, const char *region,
                         const char *name)
{
    for (pool_t *p = x->pools; p; p = p->next)
        if (!strcmp(p->account, account) && !strcmp(p->region, region) && !strcmp(p->name, name))
            return p;
    return NULL;
}

static pool_t *pool_get(lambda_exec_t *x, const lambda_fn_spec_t *fn)
{
    pool_t *p = pool_find(x, fn->account, fn->region, fn->name);
    if (p)
        return p;
    p = xcalloc(1, sizeof(*p));
    p->account = xstrdup(fn->account);
    p->region = xstrdup(fn->region);
    p->name = xstrdup(fn->name);
    size_t n = strlen(fn->name) + 13;
    p->group = xmalloc(n);
    snprintf(p->group, n, "/aws/lambda/%s", fn->name);
    p->next = x->pools;
    x->pools = p;
    return p;
}

/* A READY instance of this code and version (older code's idle instances are retired). */
static inst_t *pool_take_warm(pool_t *p, const lambda_fn_spec_t *fn)
{
    inst_t *best = NULL;
    for (inst_t *i = p->insts; i; i = i->next) {
        if (i->state != I_READY || i->retiring)
            continue;
        if (i->code_id != fn->code_id)
            inst_kill(i);
        else if (!best && !strcmp(i->version, fn->version))
            best = i;
    }
    return best;
}

/* Makes room for one more process when the account's instance count is at its limit. */
static void exec_evict_idle(lambda_exec_t *x)
{
    inst_t *oldest = NULL;
    size_t alive = 0;
    for (pool_t *p = x->pools; p; p = p->next)
        for (inst_t *i = p->insts; i; i = i->next) {
            alive += !i->retiring;
            if (i->state == I_READY && !i->retiring &&
                (!oldest || i->idle_since_ms < oldest->idle_since_ms))
                oldest = i;
        }
    if (oldest && alive >= (size_t)x->cfg.max_concurrency)
        inst_kill(oldest);
}

int lambda_exec_invoke(lambda_exec_t *x, const lambda_fn_spec_t *fn, const void *payload,
                       size_t len, const lambda_invoke_opts_t *opts, lambda_result_cb cb, void *ud,
                       aws_error_t *err)
{
    pool_t *p = pool_get(x, fn);
    if (x->shutting_down || fn->reserved == 0 || (fn->reserved > 0 && p->busy >= fn->reserved) ||
        x->busy >= x->cfg.max_concurrency)
        return aws_error_set(err, 429, "TooManyRequestsException", "Rate Exceeded.");
    inv_t *v = xcalloc(1, sizeof(*v));
    ids_uuid4(v->id);
    v->payload = xmemdup(payload ? payload : "", len);
    v->len = len;
    v->arn = xstrdup(fn->arn ? fn->arn : "");
    v->version = xstrdup(fn->version ? fn->version : "$LATEST");
    v->want_tail = opts && opts->want_log_tail;
    v->client_context = opts && opts->client_context ? xstrdup(opts->client_context) : NULL;
    v->cb = cb;
    v->ud = ud;
    buf_init(&v->tail, 0); /* trimmed to TAIL_KEEP by inv_tail_add */
    int rc = 0;
    inst_t *i = pool_take_warm(p, fn);
    if (!i) {
        exec_evict_idle(x);
        i = inst_start(x, p, fn, &rc);
    }
    inst_assign(i, v, rc, fn->code_dir);
    return 0;
}

int lambda_exec_max_concurrency(const lambda_exec_t *x)
{
    return x->cfg.max_concurrency;
}

bool lambda_exec_warm(const lambda_exec_t *x, const lambda_fn_spec_t *fn)
{
    for (const pool_t *p = x->pools; p; p = p->next) {
        if (strcmp(p->account, fn->account) || strcmp(p->region, fn->region) ||
            strcmp(p->name, fn->name))
            continue;
        for (const inst_t *i = p->insts; i; i = i->next)
            if (i->state == I_READY && !i->retiring && i->code_id == fn->code_id &&
                !strcmp(i->version, fn->version))
                return true;
    }
    return false;
}

void lambda_exec_forget(lambda_exec_t *x, const char *account, const char *region, const char *name)
{
    pool_t *p = pool_find(x, account, region, name);
    if (!p)
        return;
    for (inst_t *i = p->insts; i; i = i->next) {
        i->retiring = true;
        if (i->state != I_BUSY)
            inst_kill(i);
    }
}

size_t lambda_exec_instances(const lambda_exec_t *x, const char *account, const char *region,
                             const char *name)
{
    size_t n = 0;
    for (pool_t *p = x->pools; p; p = p->next) {
        if (name &&
            (strcmp(p->account, account) || strcmp(p->region, region) || strcmp(p->name, name)))
            continue;
        for (inst_t *i = p->insts; i; i = i->next)
            n += i->state != I_DEAD;
    }
    return n;
}

static void on_reap(uv_timer_t *t)
{
    lambda_exec_t *x = t->data;
    uint64_t now = clock_mono_ms();
    for (pool_t *p = x->pools; p; p = p->next)
        for (inst_t *i = p->insts; i; i = i->next)
            if (i->state == I_READY &&
                (now - i->idle_since_ms >= x->cfg.idle_ms || now - i->creds_ms >= CREDS_RENEW_MS))
                inst_kill(i);
}

lambda_exec_t *lambda_exec_new(uv_loop_t *loop, const lambda_exec_config_t *cfg)
{
    lambda_exec_t *x = xcalloc(1, sizeof(*x));
    x->loop = loop;
    x->cfg = *cfg;
    x->cfg.endpoint_url = cfg->endpoint_url ? xstrdup(cfg->endpoint_url) : NULL;
    char abs[PATH_MAX];
    const char *rd = cfg->runtimes_dir ? cfg->runtimes_dir : "runtimes";
    x->cfg.runtimes_dir = xstrdup(realpath(rd, abs) ? abs : rd); /* children run elsewhere */
    x->cfg.python = xstrdup(cfg->python ? cfg->python : "python3");
    x->cfg.node = xstrdup(cfg->node ? cfg->node : "node");
    if (!x->cfg.sink_append)
        x->cfg.sink_append = logs_sink_append;
    if (x->cfg.max_concurrency <= 0)
        x->cfg.max_concurrency = DEFAULT_MAX_CONCURRENCY;
    if (!x->cfg.idle_ms)
        x->cfg.idle_ms = DEFAULT_IDLE_MS;
    uint64_t every = x->cfg.idle_ms / 4 < REAP_MIN_MS ? REAP_MIN_MS : x->cfg.idle_ms / 4;
    if (every > 60000)
        every = 60000;
    uv_timer_init(loop, &x->reaper);
    x->reaper.data = x;
    uv_timer_start(&x->reaper, on_reap, every, every);
    uv_unref((uv_handle_t *)&x->reaper); /* idle reaping alone keeps no loop alive */
    return x;
}

static void exec_free(lambda_exec_t *x)
{
    while (x->pools) {
        pool_t *p = x->pools;
        x->pools = p->next;
        free(p->account);
        free(p->region);
        free(p->name);
        free(p->group);
        free(p);
    }
    free((char *)x->cfg.endpoint_url);
    free((char *)x->cfg.runtimes_dir);
    free((char *)x->cfg.python);
    free((char *)x->cfg.node);
    void (*done)(void *) = x->done;
    void *ud = x->done_ud;
    free(x);
    if (done)
        done(ud);
}

static void exec_maybe_done(lambda_exec_t *x)
{
    if (x->shutting_down && x->reaper_closed && x->live == 0)
        exec_free(x);
}

static void on_reaper_closed(uv_handle_t *h)
{
    lambda_exec_t *x = h->data;
    x->reaper_closed = true;
    exec_maybe_done(x);
}

void lambda_exec_shutdown(lambda_exec_t *x, void (*done)(void *ud), void *ud)
{
    x->shutting_down = true;
    x->done = done;
    x->done_ud = ud;
    for (pool_t *p = x->pools; p; p = p->next)
        for (inst_t *i = p->insts; i; i = i->next) {
            inst_kill(i);
            i->state = I_DEAD;
        }
    uv_close((uv_handle_t *)&x->reaper, on_reaper_closed);
}
