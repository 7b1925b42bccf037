/*
 * test_bench — the bench's latency histogram and its HTTP client.
 *
 * The histogram must report percentiles within its stated error and never
 * above the true maximum. The client is driven against a scripted libuv
 * server on 127.0.0.1: pipelined requests get Content-Length, chunked and
 * "Connection: close" answers in order, the request after the close goes out
 * on a new connection, and a refused connect completes the request with a
 * negative status instead of hanging.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bench/bench.h"
#include "http/client.h"

#include <stdlib.h>
#include <string.h>

static void assert_near(uint64_t got, uint64_t want, double rel)
{
    double d = (double)got - (double)want;
    if (d < 0)
        d = -d;
    if (d > rel * (double)want) {
        fail_msg("got %llu, want %llu within %.1f%%", (unsigned long long)got,
                 (unsigned long long)want, rel * 100);
    }
}

static void test_hist_percentiles(void **state)
{
    (void)state;
    bench_hist_t *h = malloc(sizeof(*h));
    bench_hist_init(h);
    assert_int_equal(bench_hist_quantile(h, 0.5), 0);
    for (uint64_t v = 1; v <= 100000; v++)
        bench_hist_record(h, v);
    assert_int_equal(h->count, 100000);
    assert_int_equal(h->max, 100000);
    assert_near(bench_hist_quantile(h, 0.50), 50000, 0.02);
    assert_near(bench_hist_quantile(h, 0.99), 99000, 0.02);
    assert_true(bench_hist_quantile(h, 1.0) <= 100000);
    assert_near(bench_hist_quantile(h, 1.0), 100000, 0.02);
    free(h);
}

static void test_hist_small_values_exact_and_merge(void **state)
{
    (void)state;
    bench_hist_t *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    bench_hist_init(a);
    bench_hist_init(b);
    for (int i = 0; i < 99; i++)
        bench_hist_record(a, 7);
    bench_hist_record(b, 100);
    bench_hist_record(b, UINT64_MAX); /* the last bucket must exist */
    assert_int_equal(bench_hist_quantile(a, 0.5), 7);
    bench_hist_merge(a, b);
    assert_int_equal(a->count, 101);
    assert_int_equal(a->max, UINT64_MAX);
    assert_int_equal(bench_hist_quantile(a, 0.5), 7);
    assert_int_equal(bench_hist_quantile(a, 0.99), 100);
    assert_true(bench_hist_quantile(a, 1.0) > (UINT64_MAX / 64) * 63);
    free(a);
    free(b);
}

static void test_url_resolve(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    char hp[64];
    assert_int_equal(http_url_resolve("http://127.0.0.1:4566", &ss, hp, sizeof(hp)), 0);
    assert_string_equal(hp, "127.0.0.1:4566");
    assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 4566);
    assert_int_equal(http_url_resolve("http://127.0.0.1/x", &ss, hp, sizeof(hp)), 0);
    assert_string_equal(hp, "127.0.0.1");
    assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 80);
    assert_int_equal(http_url_resolve("http://[::1]:9/", &ss, hp, sizeof(hp)), 0);
    assert_string_equal(hp, "[::1]:9");
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(http_url_resolve("https://127.0.0.1:1", &ss, hp, sizeof(hp)), -1);
    assert_int_equal(http_url_resolve("127.0.0.1:1", &ss, hp, sizeof(hp)), -1);
    assert_int_equal(http_url_resolve("http://127.0.0.1:1", &ss, hp, 4), -1);
}

/* ---- a scripted server -------------------------------------------------- */

static const char *const script[] = {
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Amz-Function-Error:  Unhandled\r\n\r\nhello",
    "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye",
};

typedef struct peer {
    uv_tcp_t tcp;
    int answered;
    char buf[4096];
    size_t len;
} peer_t;

typedef struct fixture {
    uv_loop_t loop;
    uv_tcp_t listener;
    int accepts;
    int got;
    int status[8];
    char body[8][32];
    char fn_error[8][32]; /* the X-Amz-Function-Error header, "-" when absent */
    http_conn_t *conn;
} fixture_t;

static fixture_t fx;

static void on_peer_closed(uv_handle_t *h)
{
    free(h->data);
}

static void peer_alloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
    peer_t *p = h->data;
    (void)n;
    *b = uv_buf_init(p->buf + p->len, (unsigned)(sizeof(p->buf) - p->len));
}

static void on_peer_written(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

/* Answers every complete request head in order; closes after script[2]. */
static void peer_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    peer_t *p = s->data;
    (void)b;
    if (n < 0) {
        uv_close((uv_handle_t *)s, on_peer_closed);
        return;
    }
    p->len += (size_t)n;
    char *end;
    while ((end = memmem(p->buf, p->len, "\r\n\r\n", 4)) != NULL) {
        size_t used = (size_t)(end + 4 - p->buf);
        memmove(p->buf, p->buf + used, p->len - used);
        p->len -= used;
        const char *r = script[p->answered++ % 3];
        uv_write_t *w = malloc(sizeof(*w));
        uv_buf_t out = uv_buf_init((char *)r, (unsigned)strlen(r));
        uv_write(w, s, &out, 1, on_peer_written);
        if (p->answered % 3 == 0) {
            uv_close((uv_handle_t *)s, on_peer_closed);
            return;
        }
    }
}

static void on_accept(uv_stream_t *server, int status)
{
    assert_int_equal(status, 0);
    peer_t *p = calloc(1, sizeof(*p));
    uv_tcp_init(&fx.loop, &p->tcp);
    p->tcp.data = p;
    assert_int_equal(uv_accept(server, (uv_stream_t *)&p->tcp), 0);
    fx.accepts++;
    uv_read_start((uv_stream_t *)&p->tcp, peer_alloc, peer_read);
}

static void on_closed_listener(uv_handle_t *h)
{
    (void)h;
}

static void on_client_response(http_conn_t *c, const http_response_t *res, void *arg)
{
    (void)arg;
    int i = fx.got++;
    fx.status[i] = res->status;
    snprintf(fx.body[i], sizeof(fx.body[i]), "%.*s", (int)res->body_len, res->body);
    if (http_response_header(res, "x-amz-function-error", fx.fn_error[i], sizeof(fx.fn_error[i])))
        strcpy(fx.fn_error[i], "-");
    char tiny[4];
    assert_int_equal(http_response_header(res, "Transfer-Encoding", tiny, sizeof(tiny)), -1);
    if (i == 2) /* after the close: this one must go out on a new connection */
        assert_int_equal(http_conn_request(c, "GET", "/", NULL, 0, NULL, 0, NULL), 0);
    if (i == 3) {
        http_conn_close(c, NULL);
        uv_close((uv_handle_t *)&fx.listener, on_closed_listener);
    }
}

static void test_client_pipeline_chunked_and_reconnect(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof(fx));
    uv_loop_init(&fx.loop);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_init(&fx.loop, &fx.listener);
    assert_int_equal(uv_tcp_bind(&fx.listener, (struct sockaddr *)&a, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&fx.listener, 8, on_accept), 0);
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    uv_tcp_getsockname(&fx.listener, (struct sockaddr *)&ss, &len);
    fx.conn = http_conn_new(&fx.loop, (struct sockaddr *)&ss, on_client_response);
    http_client_header_t h[] = {{"Host", "127.0.0.1"}};
    for (int i = 0; i < 3; i++)
        assert_int_equal(http_conn_request(fx.conn, "GET", "/", h, 1, NULL, 0, NULL), 0);
    assert_int_equal(http_conn_pending(fx.conn), 3);
    uv_run(&fx.loop, UV_RUN_DEFAULT);
    assert_int_equal(fx.got, 4);
    assert_int_equal(fx.status[0], 200);
    assert_string_equal(fx.body[0], "hello");
    assert_string_equal(fx.fn_error[0], "Unhandled"); /* any case, leading blanks dropped */
    assert_string_equal(fx.fn_error[1], "-");
    assert_string_equal(fx.fn_error[3], "Unhandled"); /* kept apart per response */
    assert_int_equal(fx.status[1], 404);
    assert_string_equal(fx.body[1], "abcde");
    assert_int_equal(fx.status[2], 200);
    assert_string_equal(fx.body[2], "bye");
    assert_int_equal(fx.status[3], 200);
    assert_string_equal(fx.body[3], "hello");
    assert_int_equal(fx.accepts, 2);
    assert_int_equal(uv_loop_close(&fx.loop), 0);
}

static void on_refused(http_conn_t *c, const http_response_t *res, void *arg)
{
    *(int *)arg = res->status;
    http_conn_close(c, NULL);
}

static void test_client_refused_completes_with_error(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    /* Bind then close a listener so the port is (almost certainly) unused. */
    uv_tcp_t t;
    struct sockaddr_in a;
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_init(&loop, &t);
    uv_tcp_bind(&t, (struct sockaddr *)&a, 0);
    uv_tcp_getsockname(&t, (struct sockaddr *)&ss, &len);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    int status = 0;
    http_conn_t *c = http_conn_new(&loop, (struct sockaddr *)&ss, on_refused);
    assert_int_equal(http_conn_request(c, "GET", "/", NULL, 0, NULL, 0, &status), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(status, UV_ECONNREFUSED);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hist_percentiles),
        cmocka_unit_test(test_hist_small_values_exact_and_merge),
        cmocka_unit_test(test_url_resolve),
        cmocka_unit_test(test_client_pipeline_chunked_and_reconnect),
        cmocka_unit_test(test_client_refused_completes_with_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
