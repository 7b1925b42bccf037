/*
 * bench — see bench.h.
 *
 * Shape of a run: parse options; resolve the endpoint; on a throwaway loop,
 * create the queue (CreateQueue over the same client, so the queue URL is the
 * server's own) and pre-format the request bodies; then run one worker per
 * thread, each a libuv loop owning its share of the connections, its own
 * signing-key cache and its own histogram; merge and report.
 *
 * Every request is signed per request (SigV4, `test`/`test`, service sqs), as
 * an SDK does: X-Amz-Date changes every second and the signature covers the
 * body, so signing is part of the client's cost, and the derived key is cached.
 *
 * A test is a small state machine per connection (conn_next / on_response):
 * send and batch repeat one request; cycle loops SendMessageBatch(10) →
 * ReceiveMessage(10) → DeleteMessageBatch(the handles received) and counts the
 * messages deleted; get sends `GET /` and counts any 2xx or 4xx as done, the
 * HTTP ceiling of a server. With -d, completions after the deadline are not
 * counted (like wrk); with -n, the run ends when that many have completed.
 */
#include "bench/bench.h"
#include "aws/sigv4.h"
#include "base/buf.h"
#include "base/xalloc.h"
#include "http/client.h"

#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define BATCH_SIZE    10
#define RETRY_MS      20 /* pause after a transport error, so a dead server is not spun on */
#define FIRST_ERR_MAX 512
#define SETUP_TIMEOUT 10000 /* ms for CreateQueue and the probe */
#define JSON_CONTENT  "application/x-amz-json-1.0"
#define TARGET_PREFIX "AmazonSQS."

typedef enum test_kind {
    TEST_SEND,
    TEST_BATCH,
    TEST_CYCLE,
    TEST_GET,
    TEST_INVOKE,
    TEST_COLD
} test_kind_t;
typedef enum phase { PH_SEND, PH_RECEIVE, PH_DELETE } phase_t;

static const char *const test_names[] = {"send", "batch", "cycle", "get", "invoke", "cold"};

#define LAMBDA_CONTENT   "application/json"
#define FUNCTION_DEFAULT "nagare-bench-echo"
#define COLD_DEFAULT     10 /* cold starts measured without -n */

typedef struct opts {
    const char *endpoint;
    const char *queue;
    const char *function; /* invoke, cold */
    const char *region;
    char key[128], secret[128]; /* --key ID:SECRET, default the root's test/test */
    test_kind_t test;
    int conns, threads, pipeline, wait;
    double seconds;
    uint64_t requests; /* 0 = run for `seconds` */
    size_t size;
    bool json;
} opts_t;

/* What every worker reads and nobody writes once the run starts. */
typedef struct bench {
    opts_t o;
    struct sockaddr_storage addr;
    char host[256];
    char *queue_name;
    char *queue_url;
    char *work_body; /* SendMessage or SendMessageBatch payload */
    size_t work_len;
    char *recv_body;
    size_t recv_len;
    char *invoke_path;   /* /2015-03-31/functions/NAME/invocations */
    char *function_path; /* /2015-03-31/functions/NAME/configuration */
} bench_t;

typedef struct signer {
    sigv4_key_cache_t *keys;
    time_t sec;
    char amz_date[17];
} signer_t;

typedef struct worker worker_t;

typedef struct bconn {
    worker_t *w;
    http_conn_t *http;
    uv_timer_t retry;
    phase_t phase;
    char *del_body; /* the next DeleteMessageBatch payload (cycle) */
} bconn_t;

struct worker {
    const bench_t *b;
    uv_loop_t loop;
    uv_thread_t tid;
    uv_timer_t stop_timer;
    signer_t sig;
    bconn_t *conns;
    int n_conns;
    bool stopping;
    uint64_t quota; /* requests this worker issues with -n */
    uint64_t issued, done, errors, msgs;
    uint64_t t_start, t_end; /* uv_hrtime */
    bench_hist_t hist;
    char first_error[FIRST_ERR_MAX];
};

/* ---- histogram ---------------------------------------------------------- */

void bench_hist_init(bench_hist_t *h)
{
    memset(h, 0, sizeof(*h));
}

static size_t hist_index(uint64_t v)
{
    if (v < 2 * BENCH_HIST_SUB)
        return (size_t)v;
    unsigned k = 63u - (unsigned)__builtin_clzll(v) - 6u; /* exponent past the linear range */
    return (size_t)k * BENCH_HIST_SUB + (size_t)(v >> k);
}

/* Lowest value of bucket i, and its width. */
static uint64_t hist_lowest(size_t i, uint64_t *width)
{
    if (i < 2 * BENCH_HIST_SUB) {
        *width = 1;
        return i;
    }
    unsigned k = (unsigned)(i / BENCH_HIST_SUB) - 1u;
    *width = 1ull << k;
    return (uint64_t)(i - (size_t)k * BENCH_HIST_SUB) << k;
}

void bench_hist_record(bench_hist_t *h, uint64_t v)
{
    h->buckets[hist_index(v)]++;
    h->count++;
    if (v > h->max)
        h->max = v;
}

void bench_hist_merge(bench_hist_t *dst, const bench_hist_t *src)
{
    for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
    dst->count += src->count;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t bench_hist_quantile(const bench_hist_t *h, double q)
{
    if (h->count == 0)
        return 0;
    if (q < 0)
        q = 0;
    uint64_t rank = (uint64_t)(q * (double)h->count + 0.5);
    if (rank < 1)
        rank = 1;
    if (rank > h->count)
        rank = h->count;
    uint64_t seen = 0;
    for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t width;
            uint64_t v = hist_lowest(i, &width) + width / 2;
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}

/* ---- signing and sending ------------------------------------------------ */

static void signer_init(signer_t *s)
{
    s->keys = sigv4_key_cache_new();
    s->sec = 0;
    s->amz_date[0] = '\0';
}

static const char *signer_date(signer_t *s)
{
    time_t now = time(NULL);
    if (now != s->sec) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(s->amz_date, sizeof(s->amz_date), "%Y%m%dT%H%M%SZ", &tm);
        s->sec = now;
    }
    return s->amz_date;
}

static sigv4_header_t sh(const char *name, const char *value)
{
    return (sigv4_header_t){name, strlen(name), value, strlen(value)};
}

/* Signs and queues one request on conn: a JSON 1.0 call when target (the
 * whole X-Amz-Target value) is set, else `GET /`. 0 or a negative libuv code. */
static int send_signed(const bench_t *b, signer_t *s, http_conn_t *conn, const char *target,
                       const char *body, size_t body_len, void *arg)
{
    const char *date = signer_date(s);
    char auth[512];
    sigv4_header_t sh_hdrs[4] = {sh("Host", b->host), sh("X-Amz-Date", date)};
    size_t n = 2;
    if (target) {
        sh_hdrs[n++] = sh("Content-Type", JSON_CONTENT);
        sh_hdrs[n++] = sh("X-Amz-Target", target);
    }
    sigv4_request_t req = {target ? "POST" : "GET", "/", 1, NULL, 0, sh_hdrs, n, target ? body : "",
                           target ? body_len : 0};
    if (sigv4_sign(&req, b->o.key, b->o.secret, b->o.region, "sqs", date, s->keys, auth,
                   sizeof(auth)) < 0)
        return UV_EINVAL;
    http_client_header_t hdrs[5];
    for (size_t i = 0; i < n; i++)
        hdrs[i] = (http_client_header_t){sh_hdrs[i].name, sh_hdrs[i].value};
    hdrs[n++] = (http_client_header_t){"Authorization", auth};
    return http_conn_request(conn, req.method, "/", hdrs, n, target ? body : NULL,
                             target ? body_len : 0, arg);
}

/* Signs and queues one Lambda REST-JSON request (service lambda). 0 or a negative libuv code. */
static int send_rest(const bench_t *b, signer_t *s, http_conn_t *conn, const char *method,
                     const char *path, const char *body, size_t body_len, void *arg)
{
    const char *date = signer_date(s);
    char auth[512];
    sigv4_header_t sh_hdrs[3] = {sh("Host", b->host), sh("X-Amz-Date", date),
                                 sh("Content-Type", LAMBDA_CONTENT)};
    sigv4_request_t req = {method, path, strlen(path), NULL, 0, sh_hdrs, 3, body, body_len};
    if (sigv4_sign(&req, b->o.key, b->o.secret, b->o.region, "lambda", date, s->keys, auth,
                   sizeof(auth)) < 0)
        return UV_EINVAL;
    http_client_header_t hdrs[4];
    for (size_t i = 0; i < 3; i++)
        hdrs[i] = (http_client_header_t){sh_hdrs[i].name, sh_hdrs[i].value};
    hdrs[3] = (http_client_header_t){"Authorization", auth};
    return http_conn_request(conn, method, path, hdrs, 4, body, body_len, arg);
}

/* ---- setup calls (CreateQueue, DeleteQueue, probe) on a private loop ----- */

typedef struct call {
    int status;
    char *body;
} call_t;

static void on_call_response(http_conn_t *conn, const http_response_t *res, void *arg)
{
    call_t *c = arg;
    if (res->status == UV_ECANCELED)
        return; /* our own timeout closed it: keep UV_ETIMEDOUT */
    c->status = res->status;
    c->body = xstrndup(res->body, res->body_len);
    http_conn_close(conn, NULL);
}

static void on_call_timeout(uv_timer_t *t)
{
    http_conn_close(t->data, NULL);
}

/* One request, waited for. Returns the status (negative libuv code when there
 * was no response); *body (caller frees) is set when a response came. */
static int call_once(const bench_t *b, const char *target, const char *body, char **resp)
{
    uv_loop_t loop;
    uv_timer_t timer;
    signer_t s;
    call_t c = {UV_ETIMEDOUT, NULL};
    uv_loop_init(&loop);
    signer_init(&s);
    http_conn_t *conn = http_conn_new(&loop, (const struct sockaddr *)&b->addr, on_call_response);
    uv_timer_init(&loop, &timer);
    timer.data = conn;
    int rc = send_signed(b, &s, conn, target, body, body ? strlen(body) : 0, &c);
    if (rc < 0) {
        c.status = rc;
        http_conn_close(conn, NULL);
    } else {
        uv_timer_start(&timer, on_call_timeout, SETUP_TIMEOUT, 0);
        uv_unref((uv_handle_t *)&timer); /* the connection alone keeps the loop alive */
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    sigv4_key_cache_free(s.keys);
    *resp = c.body ? c.body : xstrdup("");
    return c.status;
}

static int create_queue(bench_t *b)
{
    json_t *req = json_pack("{s:s}", "QueueName", b->queue_name);
    char *body = json_dumps(req, JSON_COMPACT);
    char *resp = NULL;
    int rc = -1;
    int status = call_once(b, TARGET_PREFIX "CreateQueue", body, &resp);
    json_t *root = status == 200 ? json_loads(resp, 0, NULL) : NULL;
    const char *url = json_string_value(json_object_get(root, "QueueUrl"));
    if (!url) {
        if (status < 0)
            fprintf(stderr, "bench: CreateQueue %s on %s: %s\n", b->queue_name, b->o.endpoint,
                    uv_strerror(status));
        else
            fprintf(stderr, "bench: CreateQueue %s on %s: HTTP %d %s\n", b->queue_name,
                    b->o.endpoint, status, resp);
        goto out;
    }
    b->queue_url = xstrdup(url);
    rc = 0;
out:
    json_decref(root);
    json_decref(req);
    free(body);
    free(resp);
    return rc;
}

static void delete_queue(const bench_t *b)
{
    json_t *req = json_pack("{s:s}", "QueueUrl", b->queue_url);
    char *body = json_dumps(req, JSON_COMPACT);
    char *resp = NULL;
    int status = call_once(b, TARGET_PREFIX "DeleteQueue", body, &resp);
    if (status != 200)
        fprintf(stderr, "bench: DeleteQueue %s: %d %s\n", b->queue_url, status, resp);
    json_decref(req);
    free(body);
    free(resp);
}

/* The bodies every request of a kind shares: built once, like a client that
 * sends the same message over and over. */
static void payloads_build(bench_t *b)
{
    char *msg = xmalloc(b->o.size + 1);
    memset(msg, 'x', b->o.size);
    msg[b->o.size] = '\0';
    json_t *work;
    if (b->o.test == TEST_SEND) {
        work = json_pack("{s:s,s:s}", "QueueUrl", b->queue_url, "MessageBody", msg);
    } else {
        json_t *entries = json_array();
        for (int i = 0; i < BATCH_SIZE; i++) {
            char id[16];
            snprintf(id, sizeof(id), "m%d", i);
            json_array_append_new(entries, json_pack("{s:s,s:s}", "Id", id, "MessageBody", msg));
        }
        work = json_pack("{s:s,s:o}", "QueueUrl", b->queue_url, "Entries", entries);
    }
    json_t *recv = json_pack("{s:s,s:i,s:i}", "QueueUrl", b->queue_url, "MaxNumberOfMessages",
                             BATCH_SIZE, "WaitTimeSeconds", b->o.wait);
    b->work_body = json_dumps(work, JSON_COMPACT);
    b->work_len = strlen(b->work_body);
    b->recv_body = json_dumps(recv, JSON_COMPACT);
    b->recv_len = strlen(b->recv_body);
    json_decref(work);
    json_decref(recv);
    free(msg);
}

/* ---- Lambda calls, one at a time on a private loop and one connection ---- */

typedef struct sync_call {
    uv_loop_t loop;
    uv_timer_t timer;
    http_conn_t *conn;
    signer_t sig;
    bool done;
    int status;
    uint64_t latency_ns; /* from the request's queueing to its response */
    bool fn_error;       /* X-Amz-Function-Error was set */
    char first_error[FIRST_ERR_MAX];
} sync_call_t;

static void on_sync_response(http_conn_t *conn, const http_response_t *res, void *arg)
{
    sync_call_t *sc = arg;
    char v[64];
    (void)conn;
    if (res->status == UV_ECANCELED)
        return;
    sc->done = true;
    sc->status = res->status;
    sc->latency_ns = uv_hrtime() - res->sent_ns;
    sc->fn_error = http_response_header(res, "X-Amz-Function-Error", v, sizeof(v)) == 0;
    if ((res->status != 200 || sc->fn_error) && !sc->first_error[0])
        snprintf(sc->first_error, sizeof(sc->first_error), "HTTP %d: %.*s", res->status,
                 (int)(res->body_len < 400 ? res->body_len : 400), res->body);
}

static void on_sync_timeout(uv_timer_t *t)
{
    sync_call_t *sc = t->data;
    sc->done = true;
    sc->status = UV_ETIMEDOUT;
}

static void sync_open(const bench_t *b, sync_call_t *sc)
{
    memset(sc, 0, sizeof(*sc));
    uv_loop_init(&sc->loop);
    signer_init(&sc->sig);
    sc->conn = http_conn_new(&sc->loop, (const struct sockaddr *)&b->addr, on_sync_response);
    uv_timer_init(&sc->loop, &sc->timer);
    sc->timer.data = sc;
}

/* One signed Lambda call, waited for; returns its status (negative: no response). */
static int sync_do(const bench_t *b, sync_call_t *sc, const char *method, const char *path,
                   const char *body)
{
    sc->done = false;
    sc->fn_error = false;
    int rc = send_rest(b, &sc->sig, sc->conn, method, path, body, strlen(body), sc);
    if (rc < 0)
        return rc;
    uv_timer_start(&sc->timer, on_sync_timeout, SETUP_TIMEOUT * 3, 0);
    while (!sc->done)
        uv_run(&sc->loop, UV_RUN_ONCE);
    uv_timer_stop(&sc->timer);
    if (sc->status == UV_ETIMEDOUT && !sc->first_error[0])
        snprintf(sc->first_error, sizeof(sc->first_error), "%s %s: timed out", method, path);
    return sc->status;
}

static void sync_close(sync_call_t *sc)
{
    http_conn_close(sc->conn, NULL);
    uv_close((uv_handle_t *)&sc->timer, NULL);
    uv_run(&sc->loop, UV_RUN_DEFAULT);
    uv_loop_close(&sc->loop);
    sigv4_key_cache_free(sc->sig.keys);
}

/* ---- the run ------------------------------------------------------------ */

static void record_error(worker_t *w, int status, const char *body, size_t len)
{
    w->errors++;
    if (w->first_error[0])
        return;
    if (status < 0)
        snprintf(w->first_error, sizeof(w->first_error), "%s", uv_strerror(status));
    else
        snprintf(w->first_error, sizeof(w->first_error), "HTTP %d: %.*s", status,
                 (int)(len < FIRST_ERR_MAX ? len : FIRST_ERR_MAX), body);
}

static size_t count_substr(const char *s, size_t len, const char *needle)
{
    size_t n = 0, nl = strlen(needle);
    const char *end = s + len;
    const char *p = memmem(s, len, needle, nl);
    while (p) {
        n++;
        p += nl;
        p = memmem(p, (size_t)(end - p), needle, nl);
    }
    return n;
}

/* The next JSON string value of key in [p, end): returns the raw literal
 * (still escaped, without its quotes) and sets *len, or NULL. */
static const char *json_raw_value(const char *p, const char *end, const char *key, size_t *len,
                                  const char **next)
{
    size_t klen = strlen(key);
    while ((p = memmem(p, (size_t)(end - p), key, klen)) != NULL) {
        const char *v = p + klen;
        while (v < end && (*v == ' ' || *v == ':' || *v == '\n' || *v == '\t'))
            v++;
        p += klen;
        if (v >= end || *v != '"')
            continue;
        const char *q = ++v;
        while (q < end && *q != '"')
            q += *q == '\\' ? 2 : 1;
        if (q >= end)
            return NULL;
        *len = (size_t)(q - v);
        *next = q + 1;
        return v;
    }
    return NULL;
}

/* v in decimal, written at the end of buf. */
static const char *decimal(size_t v, char buf[24])
{
    size_t k = 23;
    buf[k] = '\0';
    do {
        buf[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return buf + k;
}

/* The DeleteMessageBatch body for the handles in a ReceiveMessage response,
 * or NULL when it holds no messages. Caller frees. The handles are copied as
 * the raw JSON literals they arrived as: a load generator that parsed whole
 * responses spent half its CPU in the JSON parser and measured itself. */
static char *delete_body_from(const bench_t *b, const char *resp, size_t len)
{
    const char *p = resp, *end = resp + len, *h;
    size_t hlen, n = 0;
    buf_t out;
    buf_init(&out, 0);
    buf_puts(&out, "{\"QueueUrl\":\"");
    buf_puts(&out, b->queue_url);
    buf_puts(&out, "\",\"Entries\":[");
    while ((h = json_raw_value(p, end, "\"ReceiptHandle\"", &hlen, &p)) != NULL) {
        char id[24];
        buf_puts(&out, n ? ",{\"Id\":\"d" : "{\"Id\":\"d");
        buf_puts(&out, decimal(n, id));
        buf_puts(&out, "\",\"ReceiptHandle\":\"");
        buf_append(&out, h, hlen);
        buf_puts(&out, "\"}");
        n++;
    }
    buf_puts(&out, "]}");
    if (n == 0) {
        buf_free(&out);
        return NULL;
    }
    return buf_steal(&out, NULL);
}

/* Counts what a successful response delivered and moves a cycle along. */
static void account(bconn_t *bc, const http_response_t *res)
{
    worker_t *w = bc->w;
    const bench_t *b = w->b;
    switch (b->o.test) {
    case TEST_GET:
    case TEST_INVOKE:
    case TEST_COLD:
        break;
    case TEST_SEND:
    case TEST_BATCH: /* one MessageId per message accepted; failed entries have none */
        w->msgs += count_substr(res->body, res->body_len, "\"MessageId\"");
        break;
    case TEST_CYCLE:
        if (bc->phase == PH_SEND) {
            bc->phase = PH_RECEIVE;
        } else if (bc->phase == PH_RECEIVE) {
            free(bc->del_body);
            bc->del_body = delete_body_from(b, res->body, res->body_len);
            bc->phase = bc->del_body ? PH_DELETE : PH_SEND;
        } else {
            /* Every entry has an Id; only failed ones have a Code. */
            size_t ids = count_substr(res->body, res->body_len, "\"Id\"");
            size_t failed = count_substr(res->body, res->body_len, "\"Code\"");
            w->msgs += ids > failed ? ids - failed : 0;
            bc->phase = PH_SEND;
        }
        break;
    }
}

static void worker_stop(worker_t *w)
{
    if (w->stopping)
        return;
    w->stopping = true;
    w->t_end = uv_hrtime();
    for (int i = 0; i < w->n_conns; i++) {
        http_conn_close(w->conns[i].http, NULL);
        uv_close((uv_handle_t *)&w->conns[i].retry, NULL);
    }
    uv_close((uv_handle_t *)&w->stop_timer, NULL);
}

static void on_stop_timer(uv_timer_t *t)
{
    worker_stop(t->data);
}

static void conn_next(bconn_t *bc);

/* Ends one request: counts it, and ends the run when -n is reached. True
 * when the connection should go on. */
static bool request_done(worker_t *w)
{
    w->done++;
    if (w->b->o.requests && w->done >= w->quota) {
        worker_stop(w);
        return false;
    }
    return true;
}

static void on_retry(uv_timer_t *t)
{
    conn_next(t->data);
}

static void conn_next(bconn_t *bc)
{
    worker_t *w = bc->w;
    const bench_t *b = w->b;
    if (w->stopping || (b->o.requests && w->issued >= w->quota))
        return;
    w->issued++;
    int rc;
    if (b->o.test == TEST_GET)
        rc = send_signed(b, &w->sig, bc->http, NULL, NULL, 0, bc);
    else if (b->o.test == TEST_INVOKE)
        rc = send_rest(b, &w->sig, bc->http, "POST", b->invoke_path, "{}", 2, bc);
    else if (b->o.test == TEST_SEND)
        rc = send_signed(b, &w->sig, bc->http, TARGET_PREFIX "SendMessage", b->work_body,
                         b->work_len, bc);
    else if (b->o.test == TEST_BATCH || bc->phase == PH_SEND)
        rc = send_signed(b, &w->sig, bc->http, TARGET_PREFIX "SendMessageBatch", b->work_body,
                         b->work_len, bc);
    else if (bc->phase == PH_RECEIVE)
        rc = send_signed(b, &w->sig, bc->http, TARGET_PREFIX "ReceiveMessage", b->recv_body,
                         b->recv_len, bc);
    else
        rc = send_signed(b, &w->sig, bc->http, TARGET_PREFIX "DeleteMessageBatch", bc->del_body,
                         strlen(bc->del_body), bc);
    if (rc < 0) {
        record_error(w, rc, NULL, 0);
        bc->phase = PH_SEND;
        if (request_done(w))
            uv_timer_start(&bc->retry, on_retry, RETRY_MS, 0);
    }
}

static void on_response(http_conn_t *conn, const http_response_t *res, void *arg)
{
    bconn_t *bc = arg;
    worker_t *w = bc->w;
    (void)conn;
    if (w->stopping)
        return; /* after the deadline: not counted */
    int st = res->status;
    bool ok = (st >= 200 && st < 300) || (w->b->o.test == TEST_GET && st >= 400 && st < 500);
    char fe[64];
    /* an invocation that failed inside the function is an error too */
    if (ok && w->b->o.test == TEST_INVOKE &&
        http_response_header(res, "X-Amz-Function-Error", fe, sizeof(fe)) == 0)
        ok = false;
    if (st > 0)
        bench_hist_record(&w->hist, (uv_hrtime() - res->sent_ns) / 1000);
    if (ok) {
        account(bc, res);
    } else {
        record_error(w, st, res->body, res->body_len);
        bc->phase = PH_SEND;
    }
    if (!request_done(w))
        return;
    if (st < 0)
        uv_timer_start(&bc->retry, on_retry, RETRY_MS, 0);
    else
        conn_next(bc);
}

static void worker_run(void *arg)
{
    worker_t *w = arg;
    const bench_t *b = w->b;
    uv_loop_init(&w->loop);
    signer_init(&w->sig);
    bench_hist_init(&w->hist);
    w->conns = xcalloc((size_t)w->n_conns, sizeof(*w->conns));
    for (int i = 0; i < w->n_conns; i++) {
        bconn_t *bc = &w->conns[i];
        bc->w = w;
        bc->http = http_conn_new(&w->loop, (const struct sockaddr *)&b->addr, on_response);
        uv_timer_init(&w->loop, &bc->retry);
        bc->retry.data = bc;
    }
    uv_timer_init(&w->loop, &w->stop_timer);
    w->stop_timer.data = w;
    w->t_start = uv_hrtime();
    if (!b->o.requests)
        uv_timer_start(&w->stop_timer, on_stop_timer, (uint64_t)(b->o.seconds * 1000.0), 0);
    else if (w->quota == 0)
        worker_stop(w);
    /* A cycle is sequential by nature; the other tests may pipeline. */
    int depth = b->o.test == TEST_CYCLE ? 1 : b->o.pipeline;
    for (int d = 0; d < depth; d++)
        for (int i = 0; i < w->n_conns; i++)
            conn_next(&w->conns[i]);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    sigv4_key_cache_free(w->sig.keys);
    for (int i = 0; i < w->n_conns; i++)
        free(w->conns[i].del_body);
    free(w->conns);
}

/* ---- options, report, main ---------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: nagare bench [--endpoint URL] [-c CONNECTIONS] [-d SECONDS | -n REQUESTS]\n"
            "                    [--test send|batch|cycle|get|invoke|cold] [--queue NAME] "
            "[--size BYTES]\n"
            "                    [--function NAME]   (invoke, cold; default " FUNCTION_DEFAULT ")\n"
            "                    [-t THREADS] [-P PIPELINE] [--wait SECONDS] [--region R] "
            "[--json]\n"
            "                    [--key ID:SECRET]   (default test:test, the root)\n"
            "  defaults: --endpoint http://127.0.0.1:4566 -c 64 -d 10 --test send --size 100\n"
            "  send: SendMessage; batch: SendMessageBatch(10); cycle: SendMessageBatch(10) ->\n"
            "  ReceiveMessage(10) -> DeleteMessageBatch on a fresh queue; get: GET / (HTTP "
            "ceiling)\n"
            "  invoke: synchronous Invoke of an existing function ({} as payload);\n"
            "  cold: UpdateFunctionConfiguration (new instances), then one timed Invoke, -n "
            "times (default 10)\n");
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_test(const char *s, test_kind_t *out)
{
    for (size_t i = 0; i < sizeof(test_names) / sizeof(test_names[0]); i++) {
        if (strcmp(s, test_names[i]) == 0) {
            *out = (test_kind_t)i;
            return 0;
        }
    }
    return -1;
}

static const struct option long_opts[] = {
    {"endpoint", required_argument, NULL, 'e'}, {"connections", required_argument, NULL, 'c'},
    {"duration", required_argument, NULL, 'd'}, {"requests", required_argument, NULL, 'n'},
    {"test", required_argument, NULL, 'T'},     {"queue", required_argument, NULL, 'q'},
    {"function", required_argument, NULL, 'f'}, {"size", required_argument, NULL, 's'},
    {"threads", required_argument, NULL, 't'},  {"pipeline", required_argument, NULL, 'P'},
    {"wait", required_argument, NULL, 'w'},     {"region", required_argument, NULL, 'r'},
    {"json", no_argument, NULL, 'j'},           {"key", required_argument, NULL, 'k'},
    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
};

static const char *opt_name(int ch)
{
    for (const struct option *o = long_opts; o->name; o++)
        if (o->val == ch)
            return o->name;
    return "?";
}

/* One option into o; 0, -1 on a bad value. */
static int apply_opt(opts_t *o, int ch, const char *arg)
{
    long v = 0;
    switch (ch) {
    case 'e':
        o->endpoint = arg;
        return 0;
    case 'q':
        o->queue = arg;
        return 0;
    case 'f':
        o->function = arg;
        return 0;
    case 'r':
        o->region = arg;
        return 0;
    case 'k': {
        const char *colon = strchr(arg, ':');
        if (!colon || colon == arg || !colon[1] || (size_t)(colon - arg) >= sizeof(o->key) ||
            strlen(colon + 1) >= sizeof(o->secret))
            return -1;
        snprintf(o->key, sizeof(o->key), "%.*s", (int)(colon - arg), arg);
        snprintf(o->secret, sizeof(o->secret), "%s", colon + 1);
        return 0;
    }
    case 'j':
        o->json = true;
        return 0;
    case 'T':
        return parse_test(arg, &o->test);
    case 'c':
        return parse_long(arg, 1, 100000, &v) < 0 ? -1 : (o->conns = (int)v, 0);
    case 't':
        return parse_long(arg, 1, 256, &v) < 0 ? -1 : (o->threads = (int)v, 0);
    case 'P':
        return parse_long(arg, 1, 1024, &v) < 0 ? -1 : (o->pipeline = (int)v, 0);
    case 'w':
        return parse_long(arg, 0, 20, &v) < 0 ? -1 : (o->wait = (int)v, 0);
    case 's':
        return parse_long(arg, 1, 1 << 20, &v) < 0 ? -1 : (o->size = (size_t)v, 0);
    case 'n':
        return parse_long(arg, 1, 2000000000L, &v) < 0 ? -1 : (o->requests = (uint64_t)v, 0);
    case 'd': {
        char *end;
        o->seconds = strtod(arg, &end);
        return (*end != '\0' || !(o->seconds > 0 && o->seconds <= 86400)) ? -1 : 0;
    }
    default:
        return -1;
    }
}

/* Fills o from argv; 0, 1 for --help, -1 on bad usage (after a message). */
static int parse_opts(int argc, char **argv, opts_t *o)
{
    *o = (opts_t){.endpoint = "http://127.0.0.1:4566",
                  .region = "us-east-1",
                  .conns = 64,
                  .threads = 1,
                  .pipeline = 1,
                  .seconds = 10,
                  .size = 100,
                  .test = TEST_SEND,
                  .function = FUNCTION_DEFAULT,
                  .key = "test",
                  .secret = "test"};
    optind = 1;
    opterr = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:d:n:t:P:h", long_opts, NULL)) != -1) {
        if (ch == 'h') {
            usage(stdout);
            return 1;
        }
        if (apply_opt(o, ch, optarg) < 0) {
            if (ch != '?')
                fprintf(stderr, "bench: bad value '%s' for %s\n", optarg, opt_name(ch));
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bench: unexpected argument %s\n", argv[optind]);
        usage(stderr);
        return -1;
    }
    if (o->threads > o->conns)
        o->threads = o->conns;
    return 0;
}

typedef struct totals {
    uint64_t done, errors, msgs;
    double seconds;
    bench_hist_t hist;
    const char *first_error;
} totals_t;

static void totals_merge(totals_t *t, const worker_t *ws, int n)
{
    memset(t, 0, sizeof(*t));
    t->first_error = "";
    for (int i = 0; i < n; i++) {
        t->done += ws[i].done;
        t->errors += ws[i].errors;
        t->msgs += ws[i].msgs;
        bench_hist_merge(&t->hist, &ws[i].hist);
        double s = (double)(ws[i].t_end - ws[i].t_start) / 1e9;
        if (s > t->seconds)
            t->seconds = s;
        if (!t->first_error[0])
            t->first_error = ws[i].first_error;
    }
    if (t->seconds <= 0)
        t->seconds = 1e-9;
}

static double ms(const bench_hist_t *h, double q)
{
    return (double)bench_hist_quantile(h, q) / 1000.0;
}

static void report(const bench_t *b, const totals_t *t)
{
    const opts_t *o = &b->o;
    double rps = (double)t->done / t->seconds, mps = (double)t->msgs / t->seconds;
    double maxms = (double)t->hist.max / 1000.0;
    if (o->json) {
        json_t *j = json_pack(
            "{s:s,s:s,s:s?,s:i,s:i,s:i,s:I,s:f,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:s}", "test",
            test_names[o->test], "endpoint", o->endpoint, "queue", b->queue_name, "connections",
            o->conns, "threads", o->threads, "size", (int)o->size, "pipeline",
            (json_int_t)o->pipeline, "seconds", t->seconds, "requests", (json_int_t)t->done,
            "messages", (json_int_t)t->msgs, "errors", (json_int_t)t->errors, "req_per_s", rps,
            "msgs_per_s", mps, "p50_ms", ms(&t->hist, 0.50), "p90_ms", ms(&t->hist, 0.90), "p99_ms",
            ms(&t->hist, 0.99), "max_ms", maxms, "first_error", t->first_error);
        char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
        printf("%s\n", s);
        free(s);
        json_decref(j);
        return;
    }
    printf("test %s  endpoint %s  connections %d  threads %d  pipeline %d  size %zu%s%s\n",
           test_names[o->test], o->endpoint, o->conns, o->threads, o->pipeline, o->size,
           b->queue_name ? "  queue " : "", b->queue_name ? b->queue_name : "");
    printf("%llu requests in %.2f s: %.1f requests/s, %.1f messages/s\n",
           (unsigned long long)t->done, t->seconds, rps, mps);
    printf("latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", ms(&t->hist, 0.50),
           ms(&t->hist, 0.90), ms(&t->hist, 0.99), maxms);
    printf("errors %llu%s%s\n", (unsigned long long)t->errors, t->first_error[0] ? "  first: " : "",
           t->first_error);
}

/* Runs the workers (one per thread; the first on this thread) and reports.
 * Returns the exit code. */
static int run_workers(const bench_t *b)
{
    int n = b->o.threads;
    worker_t *ws = xcalloc((size_t)n, sizeof(*ws));
    for (int i = 0; i < n; i++) {
        ws[i].b = b;
        ws[i].n_conns = b->o.conns / n + (i < b->o.conns % n);
        ws[i].quota = b->o.requests / (uint64_t)n + ((uint64_t)i < b->o.requests % (uint64_t)n);
    }
    for (int i = 1; i < n; i++)
        uv_thread_create(&ws[i].tid, worker_run, &ws[i]);
    worker_run(&ws[0]);
    for (int i = 1; i < n; i++)
        uv_thread_join(&ws[i].tid);
    totals_t t;
    totals_merge(&t, ws, n);
    report(b, &t);
    int rc = t.done > t.errors ? 0 : 1;
    free(ws);
    return rc;
}

/* The function's paths, and one Invoke that must succeed (it also starts an instance). */
static int lambda_setup(bench_t *b)
{
    sync_call_t sc;
    size_t n = strlen(b->o.function) + 48;
    for (const char *p = b->o.function; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
            fprintf(stderr, "bench: --function takes a function name\n");
            return -1;
        }
    b->invoke_path = xmalloc(n);
    b->function_path = xmalloc(n);
    snprintf(b->invoke_path, n, "/2015-03-31/functions/%s/invocations", b->o.function);
    snprintf(b->function_path, n, "/2015-03-31/functions/%s/configuration", b->o.function);
    sync_open(b, &sc);
    int st = sync_do(b, &sc, "POST", b->invoke_path, "{}");
    if (st != 200 || sc.fn_error)
        fprintf(stderr, "bench: Invoke %s on %s: %s\n", b->o.function, b->o.endpoint,
                st < 0 ? uv_strerror(st) : sc.first_error);
    sync_close(&sc);
    return st == 200 && !sc.fn_error ? 0 : -1;
}

/* cold: each round changes the configuration (Lambda starts new instances for the next
 * invocation), then times one Invoke on the same connection. */
static int run_cold(const bench_t *b)
{
    sync_call_t sc;
    totals_t t;
    char body[128];
    uint64_t rounds = b->o.requests ? b->o.requests : COLD_DEFAULT, t0 = uv_hrtime();
    memset(&t, 0, sizeof(t));
    sync_open(b, &sc);
    for (uint64_t i = 0; i < rounds; i++) {
        snprintf(body, sizeof(body), "{\"Description\":\"nagare bench cold %llu.%llu\"}",
                 (unsigned long long)t0, (unsigned long long)i);
        int st = sync_do(b, &sc, "PUT", b->function_path, body);
        if (st == 200)
            st = sync_do(b, &sc, "POST", b->invoke_path, "{}");
        if (st == 200 && !sc.fn_error) {
            t.done++;
            bench_hist_record(&t.hist, sc.latency_ns / 1000);
        } else {
            t.errors++;
        }
    }
    t.seconds = (double)(uv_hrtime() - t0) / 1e9;
    t.first_error = sc.first_error;
    report(b, &t);
    sync_close(&sc);
    return t.done ? 0 : 1;
}

/* Resolves the endpoint and prepares the queue and payloads. 0 or -1. */
static int bench_setup(bench_t *b)
{
    if (http_url_resolve(b->o.endpoint, &b->addr, b->host, sizeof(b->host)) < 0) {
        fprintf(stderr, "bench: cannot use endpoint %s (http://host:port expected)\n",
                b->o.endpoint);
        return -1;
    }
    if (b->o.test == TEST_INVOKE || b->o.test == TEST_COLD)
        return lambda_setup(b);
    if (b->o.test == TEST_GET) {
        char *resp;
        int st = call_once(b, NULL, NULL, &resp);
        free(resp);
        if (st < 0)
            fprintf(stderr, "bench: GET / on %s: %s\n", b->o.endpoint, uv_strerror(st));
        return st < 0 ? -1 : 0;
    }
    if (b->o.queue) {
        b->queue_name = xstrdup(b->o.queue);
    } else {
        /* A cycle starts from an empty queue: a fresh name per run. */
        char name[80];
        if (b->o.test == TEST_CYCLE)
            snprintf(name, sizeof(name), "nagare-bench-cycle-%ld-%llu", (long)getpid(),
                     (unsigned long long)(uv_hrtime() / 1000));
        else
            snprintf(name, sizeof(name), "nagare-bench");
        b->queue_name = xstrdup(name);
    }
    if (create_queue(b) < 0)
        return -1;
    payloads_build(b);
    return 0;
}

int bench_main(int argc, char **argv)
{
    bench_t b = {0};
    int rc = parse_opts(argc, argv, &b.o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    rc = 1;
    if (b.o.test == TEST_COLD)
        b.o.conns = b.o.threads = 1; /* one round after another */
    if (bench_setup(&b) < 0)
        goto out;
    rc = b.o.test == TEST_COLD ? run_cold(&b) : run_workers(&b);
    if (b.o.test == TEST_CYCLE && !b.o.queue)
        delete_queue(&b);
out:
    free(b.queue_name);
    free(b.queue_url);
    free(b.work_body);
    free(b.recv_body);
    free(b.invoke_path);
    free(b.function_path);
    return rc;
}
