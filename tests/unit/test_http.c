/*
 * test_http — the HTTP/1.1 server against real sockets.
 *
 * Each test starts a server on port 0 in its own uv loop, run by a second
 * thread; the test thread is the client, with plain blocking sockets (5 s
 * receive timeout, so a bug fails instead of hanging). The handler answers by
 * path: /echo echoes, /hold keeps requests and answers the third one first,
 * /slow answers after 300 ms, /count reports the open connections. Shutdown is
 * requested through a uv_async; every test ends with a graceful shutdown and
 * checks that the loop has no handle left.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#define HOLD_N 3

typedef struct fixture {
    uv_loop_t loop;
    uv_async_t async;
    uv_timer_t slow_timer;
    http_server_t *srv;
    pthread_t thread;
    int port;
    atomic_int done;
    atomic_int slow_arrived;
    bool stopped;
    http_request_t *held[HOLD_N];
    int n_held;
    char answer_order[HOLD_N + 1];
    http_request_t *slow_req;
} fixture_t;

typedef struct client {
    int fd;
    char buf[1 << 17];
    size_t len;
} client_t;

typedef struct response {
    int status;
    char connection[32];
    char body[4096];
    size_t body_len;
} response_t;

/* ---- server side (runs on the loop thread) ------------------------------------------------- */

static bool path_is(const http_request_t *req, const char *p)
{
    return req->path_len == strlen(p) && memcmp(req->path, p, req->path_len) == 0;
}

static void respond_text(http_request_t *req, int status, const char *text)
{
    http_header_t h = {"Content-Type", 12, "text/plain", 10};
    http_respond(req, status, &h, 1, text, strlen(text));
}

static void echo(http_request_t *req)
{
    size_t tlen = 0;
    const char *t = http_request_header(req, "x-test", &tlen);
    char *out = NULL;
    int n = asprintf(&out, "%s %.*s %.*s %.*s|%.*s", req->method, (int)req->path_len, req->path,
                     (int)req->query_len, req->query ? req->query : "", (int)tlen, t ? t : "",
                     (int)req->body_len, req->body);
    assert_true(n >= 0);
    assert_int_equal(req->body[req->body_len], '\0');
    http_respond_owned(req, 200, NULL, 0, out, (size_t)n);
}

/* Answers the held requests last first: the server must still send them in order. */
static void hold(fixture_t *f, http_request_t *req)
{
    f->held[f->n_held++] = req;
    if (f->n_held < HOLD_N)
        return;
    for (int i = HOLD_N - 1; i >= 0; i--) {
        size_t len;
        const char *seq = http_request_header(f->held[i], "X-Seq", &len);
        char body[16];
        snprintf(body, sizeof body, "%.*s", (int)len, seq);
        f->answer_order[HOLD_N - 1 - i] = body[0];
        respond_text(f->held[i], 200, body);
    }
    f->n_held = 0;
}

static void on_slow_timer(uv_timer_t *t)
{
    fixture_t *f = t->data;
    respond_text(f->slow_req, 200, "slow-done");
    f->slow_req = NULL;
}

static void handler(http_request_t *req, void *ud)
{
    fixture_t *f = ud;
    char body[32];

    if (path_is(req, "/echo") || path_is(req, "/small")) {
        echo(req);
    } else if (path_is(req, "/hold")) {
        hold(f, req);
    } else if (path_is(req, "/slow")) {
        f->slow_req = req;
        uv_timer_start(&f->slow_timer, on_slow_timer, 300, 0);
        atomic_store(&f->slow_arrived, 1);
    } else if (path_is(req, "/count")) {
        snprintf(body, sizeof body, "%zu", http_server_connections(f->srv));
        respond_text(req, 200, body);
    } else {
        respond_text(req, 404, "not found");
    }
}

static size_t body_limit(const http_request_t *req, void *ud)
{
    (void)ud;
    return path_is(req, "/small") ? 10 : 1024;
}

static void on_done(void *ud)
{
    fixture_t *f = ud;
    atomic_store(&f->done, 1);
    uv_close((uv_handle_t *)&f->async, NULL);
    uv_close((uv_handle_t *)&f->slow_timer, NULL);
}

static void on_async(uv_async_t *a)
{
    fixture_t *f = a->data;
    http_server_shutdown(f->srv, on_done, f);
}

static void *loop_main(void *arg)
{
    fixture_t *f = arg;
    uv_run(&f->loop, UV_RUN_DEFAULT);
    return NULL;
}

static fixture_t *start(const http_server_config_t *cfg)
{
    fixture_t *f = calloc(1, sizeof *f);

    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(http_server_new(&f->loop, cfg, handler, f, &f->srv), 0);
    assert_int_equal(http_server_listen(f->srv, "localhost", 0), 0);
    f->port = http_server_port(f->srv);
    assert_true(f->port > 0);
    uv_async_init(&f->loop, &f->async, on_async);
    f->async.data = f;
    uv_timer_init(&f->loop, &f->slow_timer);
    f->slow_timer.data = f;
    assert_int_equal(pthread_create(&f->thread, NULL, loop_main, f), 0);
    return f;
}

static void request_shutdown(fixture_t *f)
{
    if (!f->stopped)
        uv_async_send(&f->async);
    f->stopped = true;
}

/* Shuts down, waits for the loop to end and checks that nothing was left open. */
static void stop(fixture_t *f)
{
    request_shutdown(f);
    pthread_join(f->thread, NULL);
    assert_int_equal(atomic_load(&f->done), 1);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
}

/* ---- client side (the test thread) --------------------------------------------------------- */

static client_t *cl_connect(int port)
{
    client_t *c = calloc(1, sizeof *c);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {.tv_sec = 5};

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(c->fd >= 0);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return c;
}

static void cl_close(client_t *c)
{
    close(c->fd);
    free(c);
}

static void cl_send(client_t *c, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        assert_true(n > 0);
        data += n;
        len -= (size_t)n;
    }
}

static void cl_sends(client_t *c, const char *s)
{
    cl_send(c, s, strlen(s));
}

/* Reads more into the buffer; returns bytes read, 0 on EOF, -1 on timeout or error. */
static ssize_t cl_fill(client_t *c)
{
    assert_true(c->len < sizeof c->buf);
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (n > 0)
        c->len += (size_t)n;
    return n;
}

static void cl_consume(client_t *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

static size_t header_value(const char *head, const char *name, char *out, size_t cap)
{
    const char *p = strcasestr(head, name);
    if (!p)
        return 0;
    p += strlen(name);
    size_t n = strcspn(p, "\r\n");
    n = n < cap - 1 ? n : cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return n;
}

/* Reads one response; 0 on success, -1 on EOF or timeout before a whole response. */
static int cl_response(client_t *c, response_t *r)
{
    char *end;
    char cl[32] = "";

    memset(r, 0, sizeof *r);
    for (;;) {
        c->buf[c->len] = '\0';
        end = strstr(c->buf, "\r\n\r\n");
        if (end)
            break;
        if (cl_fill(c) <= 0)
            return -1;
    }
    *end = '\0';
    assert_int_equal(sscanf(c->buf, "HTTP/1.1 %d", &r->status), 1);
    assert_true(header_value(c->buf, "\r\nContent-Length: ", cl, sizeof cl) > 0);
    header_value(c->buf, "\r\nConnection: ", r->connection, sizeof r->connection);
    size_t head = (size_t)(end - c->buf) + 4;
    r->body_len = strtoul(cl, NULL, 10);
    assert_true(r->body_len < sizeof r->body);
    while (c->len < head + r->body_len) {
        if (cl_fill(c) <= 0)
            return -1;
    }
    memcpy(r->body, c->buf + head, r->body_len);
    cl_consume(c, head + r->body_len);
    return 0;
}

/* True when the server closed the connection (EOF, or a reset after our unread data). */
static bool cl_closed(client_t *c)
{
    char tmp[256];
    ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return false; /* timed out: still open */
    return n <= 0 && c->len == 0;
}

static void expect_status(client_t *c, int status, const char *connection)
{
    response_t r;
    assert_int_equal(cl_response(c, &r), 0);
    assert_int_equal(r.status, status);
    assert_string_equal(r.connection, connection);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_simple_request(void **state)
{
    (void)state;
    fixture_t *f = start(NULL);
    client_t *c = cl_connect(f->port);
    response_t r;

    cl_sends(c, "POST /echo?a=1&b=2 HTTP/1.1\r\nHost: x\r\nx-TEST: yes\r\n"
                "Content-Length: 5\r\n\r\nhello");
    assert_int_equal(cl_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.connection, "keep-alive");
    assert_int_equal(r.body_len, strlen("POST /echo a=1&b=2 yes|hello"));
    assert_memory_equal(r.body, "POST /echo a=1&b=2 yes|hello", r.body_len);
    cl_close(c);
    stop(f);
}

static void test_keep_alive(void **state)
{
    (void)state;
    fixture_t *f = start(NULL);
    client_t *c = cl_connect(f->port);
    response_t r;

    for (int i = 0; i < 3; i++) {
        cl_sends(c, "GET /count HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_int_equal(cl_response(c, &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.connection, "keep-alive");
        assert_memory_equal(r.body, "1", 1); /* the same single connection each time */
    }
    /* HTTP/1.0 keeps the connection only when asked to. */
    cl_sends(c, "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    expect_status(c, 200, "keep-alive");
    cl_sends(c, "GET /echo HTTP/1.0\r\n\r\n");
    expect_status(c, 200, "close");
    assert_true(cl_closed(c));
    cl_close(c);

    /* Connection: close on 1.1 is honoured too. */
    c = cl_connect(f->port);
    cl_sends(c, "GET /echo HTTP/1.1\r\nConnection: close\r\n\r\n");
    expect_status(c, 200, "close");
    assert_true(cl_closed(c));
    cl_close(c);
    stop(f);
}

static void test_pipelined_out_of_order(void **state)
{
    (void)state;
    fixture_t *f = start(NULL);
    client_t *c = cl_connect(f->port);
    response_t r;

    cl_sends(c, "GET /hold HTTP/1.1\r\nX-Seq: 1\r\n\r\n"
                "POST /hold HTTP/1.1\r\nX-Seq: 2\r\nContent-Length: 3\r\n\r\nabc"
                "GET /hold HTTP/1.1\r\nX-Seq: 3\r\n\r\n");
    for (int i = 1; i <= HOLD_N; i++) {
        assert_int_equal(cl_response(c, &r), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, 1);
        assert_int_equal(r.body[0], '0' + i);
    }
    assert_string_equal(f->answer_order, "321");
    /* The connection is still usable afterwards. */
    cl_sends(c, "GET /echo HTTP/1.1\r\n\r\n");
    expect_status(c, 200, "keep-alive");
    cl_close(c);
    stop(f);
}

/* Far more pipelined requests than the server keeps in flight, then a half-close: every one is
 * answered, in order, before the server closes. */
static void test_pipeline_backpressure(void **state)
{
    (void)state;
    enum { N = 300 };
    fixture_t *f = start(NULL);
    client_t *c = cl_connect(f->port);
    char *all = malloc(N * 64);
    size_t len = 0;
    response_t r;
    char want[64];

    for (int i = 0; i < N; i++)
        len += (size_t)sprintf(all + len, "GET /echo?i=%d HTTP/1.1\r\n\r\n", i);
    cl_send(c, all, len);
    shutdown(c->fd, SHUT_WR);
    for (int i = 0; i < N; i++) {
        assert_int_equal(cl_response(c, &r), 0);
        assert_int_equal(r.status, 200);
        int n = snprintf(want, sizeof want, "GET /echo i=%d |", i);
        assert_int_equal(r.body_len, n);
        assert_memory_equal(r.body, want, r.body_len);
    }
    assert_true(cl_closed(c));
    free(all);
    cl_close(c);
    stop(f);
}

static void test_expect_continue(void **state)
{
    (void)state;
    fixture_t *f = start(NULL);
    client_t *c = cl_connect(f->port);
    const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    response_t r;

    cl_sends(c, "PUT /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    while (c->len < sizeof cont - 1)
        assert_true(cl_fill(c) > 0);
    assert_memory_equal(c->buf, cont, sizeof cont - 1);
    cl_consume(c, sizeof cont - 1);
    cl_sends(c, "hello");
    assert_int_equal(cl_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, "PUT /echo  |hello", r.body_len);
    cl_close(c);
    stop(f);
}

static void test_chunked_body(void **state)
{
    (void)state;
    fixture_t *f = start(NULL);
    client_t *c = cl_connect(f->port);
    response_t r;

    cl_sends(c, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
    usleep(20000); /* let the server see the body in pieces */
    cl_sends(c, "lo\r\n6;ext=1\r\n world\r\n");
    usleep(20000);
    cl_sends(c, "0\r\nTrailer: x\r\n\r\n");
    assert_int_equal(cl_response(c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, strlen("POST /echo  |hello world"));
    assert_memory_equal(r.body, "POST /echo  |hello world", r.body_len);
    cl_close(c);
    stop(f);
}

static char *big_header_request(size_t value_len)
{
    char *req = malloc(value_len + 128);
    int n = sprintf(req, "GET /echo HTTP/1.1\r\nX-Big: ");
    memset(req + n, 'a', value_len);
    strcpy(req + n + value_len, "\r\n\r\n");
    return req;
}

static void test_header_limit(void **state)
{
    (void)state;
    fixture_t *f = start(NULL);
    client_t *c = cl_connect(f->port);
    char *req = big_header_request(15 * 1024);

    cl_sends(c, req); /* under the 16 KiB default */
    expect_status(c, 200, "keep-alive");
    free(req);
    req = big_header_request(17 * 1024);
    cl_sends(c, req);
    expect_status(c, 431, "close");
    assert_true(cl_closed(c));
    free(req);
    cl_close(c);
    stop(f);
}

static void test_body_limit(void **state)
{
    (void)state;
    http_server_config_t cfg = {.body_limit_cb = body_limit};
    fixture_t *f = start(&cfg);
    char body[2048];
    char head[128];
    client_t *c = cl_connect(f->port);

    memset(body, 'b', sizeof body);
    snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nContent-Length: %d\r\n\r\n", 1024);
    cl_sends(c, head);
    cl_send(c, body, 1024); /* exactly the cap */
    expect_status(c, 200, "keep-alive");
    snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", sizeof body);
    cl_sends(c, head);
    cl_send(c, body, sizeof body);
    expect_status(c, 413, "close");
    assert_true(cl_closed(c));
    cl_close(c);

    /* A chunked body is cut off when it passes the per-request cap. */
    c = cl_connect(f->port);
    cl_sends(c, "POST /small HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                "6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n");
    expect_status(c, 413, "close");
    assert_true(cl_closed(c));
    cl_close(c);
    stop(f);
}

static void test_garbage_is_400(void **state)
{
    (void)state;
    fixture_t *f = start(NULL);
    client_t *c = cl_connect(f->port);

    cl_sends(c, "GET /echo HTTP/1.1\r\n\r\n"
                "G@RBAGE \x01\x02 nonsense\r\n\r\n");
    expect_status(c, 200, "keep-alive");
    expect_status(c, 400, "close");
    assert_true(cl_closed(c));
    cl_close(c);

    c = cl_connect(f->port);
    cl_sends(c, "POST /echo HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
    expect_status(c, 400, "close");
    assert_true(cl_closed(c));
    cl_close(c);
    stop(f);
}

static void test_idle_timeout(void **state)
{
    (void)state;
    http_server_config_t cfg = {.idle_timeout_ms = 200};
    fixture_t *f = start(&cfg);
    client_t *c = cl_connect(f->port);

    cl_sends(c, "GET /echo HTTP/1.1\r\n\r\n");
    expect_status(c, 200, "keep-alive");
    double t0 = now_ms();
    assert_true(cl_closed(c));
    double waited = now_ms() - t0;
    assert_true(waited >= 150 && waited < 2000);
    cl_close(c);
    stop(f);
}

static void test_request_timeout(void **state)
{
    (void)state;
    http_server_config_t cfg = {.request_timeout_ms = 300};
    fixture_t *f = start(&cfg);
    client_t *c = cl_connect(f->port);

    double t0 = now_ms();
    cl_sends(c, "GET /echo HTTP/1.1\r\nHo");
    usleep(150 * 1000);
    cl_sends(c, "st: x\r\n"); /* trickling does not extend the deadline */
    expect_status(c, 408, "close");
    assert_true(now_ms() - t0 >= 250);
    assert_true(cl_closed(c));
    cl_close(c);
    stop(f);
}

static void test_many_connections(void **state)
{
    (void)state;
    enum { N = 1200 };
    struct rlimit rl;
    client_t **cs = calloc(N, sizeof *cs);
    response_t r;

    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 2 * N + 64) {
        rl.rlim_cur = rl.rlim_max < 2 * N + 64 ? rl.rlim_max : 2 * N + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    assert_true(rl.rlim_cur >= 2 * N + 64);
    fixture_t *f = start(NULL);
    for (int i = 0; i < N; i++)
        cs[i] = cl_connect(f->port);
    for (int i = 0; i < N; i++)
        cl_sends(cs[i], "GET /count HTTP/1.1\r\n\r\n");
    for (int i = 0; i < N; i++) {
        assert_int_equal(cl_response(cs[i], &r), 0);
        assert_int_equal(r.status, 200);
    }
    /* All N answered and none closed: the server holds them all at once. */
    cl_sends(cs[0], "GET /count HTTP/1.1\r\n\r\n");
    assert_int_equal(cl_response(cs[0], &r), 0);
    r.body[r.body_len] = '\0';
    assert_int_equal(atoi(r.body), N);
    for (int i = 0; i < N; i++)
        cl_close(cs[i]);
    free(cs);
    stop(f);
}

static void test_graceful_shutdown(void **state)
{
    (void)state;
    fixture_t *f = start(NULL);
    client_t *idle = cl_connect(f->port);
    client_t *busy = cl_connect(f->port);
    response_t r;

    cl_sends(idle, "GET /echo HTTP/1.1\r\n\r\n");
    expect_status(idle, 200, "keep-alive");
    cl_sends(busy, "GET /slow HTTP/1.1\r\n\r\n");
    while (!atomic_load(&f->slow_arrived))
        usleep(1000);
    request_shutdown(f);
    assert_true(cl_closed(idle)); /* idle connections go at once */
    assert_int_equal(cl_response(busy, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.connection, "close");
    assert_memory_equal(r.body, "slow-done", r.body_len);
    assert_true(cl_closed(busy));
    pthread_join(f->thread, NULL);
    assert_int_equal(atomic_load(&f->done), 1);
    assert_int_equal(uv_loop_close(&f->loop), 0);

    /* Nothing listens any more. */
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_not_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    close(fd);
    cl_close(idle);
    cl_close(busy);
    free(f);
}

static void test_listen_hosts(void **state)
{
    (void)state;
    uv_loop_t loop;
    http_server_t *s;
    const char *ok[] = {"127.0.0.1", "::1", "[::1]", "0.0.0.0", "localhost"};

    uv_loop_init(&loop);
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(http_server_new(&loop, NULL, handler, NULL, &s), 0);
        int rc = http_server_listen(s, ok[i], 0);
        /* ::1 may be missing in a container without IPv6. */
        assert_true(rc == 0 || (strchr(ok[i], ':') && rc == UV_EADDRNOTAVAIL));
        assert_true(rc != 0 || http_server_port(s) > 0);
        http_server_shutdown(s, NULL, NULL);
    }
    assert_int_equal(http_server_new(&loop, NULL, handler, NULL, &s), 0);
    assert_int_equal(http_server_listen(s, "not-an-address", 0), UV_EINVAL);
    http_server_shutdown(s, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_request),         cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_pipelined_out_of_order), cmocka_unit_test(test_pipeline_backpressure),
        cmocka_unit_test(test_expect_continue),        cmocka_unit_test(test_chunked_body),
        cmocka_unit_test(test_header_limit),           cmocka_unit_test(test_body_limit),
        cmocka_unit_test(test_garbage_is_400),         cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_request_timeout),        cmocka_unit_test(test_many_connections),
        cmocka_unit_test(test_graceful_shutdown),      cmocka_unit_test(test_listen_hosts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
