/*
 * http/server — see server.h for the contract. How it works:
 *
 * A connection (conn) owns a TCP handle, one timer and an http-parser. Bytes
 * are read into one 64 KiB buffer shared by the whole server (libuv calls
 * alloc, read and read_cb back to back on the loop thread), so an idle
 * connection holds no read buffer at all. The parser callbacks copy the request
 * line and headers into the request's own storage and the body into a buffer
 * capped per request. A finished request goes back to a small per-server pool
 * with its storage (up to REQ_KEEP_MAX bytes per buffer), so a busy server does
 * not allocate per request; larger buffers are freed with the request, so memory
 * grows with a big request and shrinks back after it.
 *
 * Each connection keeps a queue of requests in arrival order. The parser is
 * paused in on_message_complete so the request is dispatched outside
 * http_parser_execute(); the handler may answer in any order, and conn_flush()
 * writes answers only from the head of the queue, which keeps pipelined
 * responses in request order. At most PIPELINE_MAX requests or unfinished
 * writes per connection: beyond that the unparsed bytes are set aside and
 * reading stops until responses drain (backpressure).
 *
 * The timer has one job at a time: the request deadline (from the first byte of
 * a request until it is complete: 408), the keep-alive idle timeout (nothing in
 * flight), or the linger after a final response (we half-close and discard
 * input for a while so the client reads our 413/431/400 instead of a reset).
 * While a handler holds a request no timer runs: long polls are the handler's.
 *
 * Errors found while parsing (400, 408, 413, 417, 431, 505) become a response
 * queued behind earlier ones, after which the connection is closed.
 */
#include "http/server.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <http_parser.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    READ_BUF_SIZE = 64 * 1024,
    PIPELINE_MAX = 64,
    LINGER_MS = 2000,
    LISTEN_BACKLOG = 4096,
    REQUEST_LINE_OVERHEAD = 16, /* " HTTP/1.1\r\n" and the blank line */
    HEADER_OVERHEAD = 4,        /* ": " and "\r\n" */
    HEAD_RESERVE = 1024,        /* a SigV4-signed request head fits */
    REQ_POOL_MAX = 256,         /* finished requests kept for reuse */
    REQ_KEEP_MAX = 16 * 1024,   /* larger buffers are not kept */
};

#define DEFAULT_MAX_HEADER 16384
#define DEFAULT_MAX_BODY   (1024 * 1024)
#define DEFAULT_IDLE_MS    60000
#define DEFAULT_REQUEST_MS 30000
#define CONN_KEEP_ALIVE    "Connection: keep-alive\r\n\r\n"
#define CONN_CLOSE         "Connection: close\r\n\r\n"
#define CONTINUE_RESPONSE  "HTTP/1.1 100 Continue\r\n\r\n"

enum cb_kind { CB_NONE, CB_FIELD, CB_VALUE };
enum req_state { REQ_PARSING, REQ_HANDLER, REQ_READY };
enum timer_mode { TM_NONE, TM_REQUEST, TM_IDLE, TM_LINGER };

typedef struct hdr_span {
    size_t name_off, name_len, value_off, value_len;
} hdr_span_t;

typedef struct sconn sconn_t;

typedef struct sreq {
    http_request_t pub; /* first member: the handler's pointer converts back */
    sconn_t *conn;      /* NULL once the connection is gone */
    struct sreq *next;
    enum req_state state;
    enum cb_kind last_cb;
    bool head_done, keep_alive, expect_continue, continue_sent;
    size_t head_bytes, body_cap;
    buf_t head; /* request target, then header names and values */
    hdr_span_t *spans;
    size_t n_spans, cap_spans;
    http_header_t *headers;
    size_t cap_headers;
    buf_t body;
    char *resp; /* status line and headers; room left for the Connection line */
    size_t resp_len, resp_cap;
    const char *resp_body;
    size_t resp_body_len;
    char *owned_body;
    uv_write_t wr;
} sreq_t;

struct sconn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    char peer[48]; /* the client's IP address ("" when unknown: a socketpair) */
    http_parser parser;
    http_server_t *srv;
    sconn_t *prev, *next;
    sreq_t *q_head, *q_tail; /* arrival order; q_tail may be cur */
    sreq_t *cur;             /* being parsed */
    size_t q_len, writes;
    char *pending; /* unparsed bytes set aside while paused */
    size_t pending_len;
    uv_shutdown_t shut_req;
    int fail_status;
    int handles;
    enum timer_mode tmode;
    uint64_t tdue, tarmed; /* loop time the mode's deadline falls due; the timer's */
    bool closing, draining, paused, feeding, eof, shut, lingering, reading;
};

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    http_server_config_t cfg;
    http_request_cb cb;
    void *ud;
    sconn_t *conns;
    size_t n_conns;
    int port;
    bool shutting_down, listener_closed;
    void (*done)(void *ud);
    void *done_ud;
    sreq_t *req_pool; /* finished requests with their storage, linked by next */
    size_t n_req_pool;
    char rbuf[READ_BUF_SIZE];
};

static void conn_flush(sconn_t *c);
static void conn_close(sconn_t *c);
static void conn_feed(sconn_t *c, const char *data, size_t len);
static void conn_fail(sconn_t *c, int status);

/* ---- requests ------------------------------------------------------------------------------ */

/* A pooled request, emptied but keeping its storage, or a new one. */
static sreq_t *req_alloc(http_server_t *s)
{
    sreq_t *r = s->req_pool;
    if (!r) {
        r = xcalloc(1, sizeof *r);
        buf_init(&r->head, 0); /* bounded by head_bytes against max_header_bytes */
        buf_init(&r->body, 0); /* bounded by body_cap */
        buf_reserve(&r->head, HEAD_RESERVE);
        return r;
    }
    s->req_pool = r->next;
    s->n_req_pool--;
    sreq_t keep = *r;
    memset(r, 0, sizeof *r);
    r->head = keep.head;
    r->body = keep.body;
    buf_reset(&r->head);
    buf_reset(&r->body);
    r->spans = keep.spans;
    r->cap_spans = keep.cap_spans;
    r->headers = keep.headers;
    r->cap_headers = keep.cap_headers;
    r->resp = keep.resp;
    r->resp_cap = keep.resp_cap;
    return r;
}

static sreq_t *req_new(sconn_t *c)
{
    sreq_t *r = req_alloc(c->srv);
    r->conn = c;
    r->head_bytes = REQUEST_LINE_OVERHEAD;
    r->pub.method = "";
    r->pub.url = r->pub.path = r->pub.body = "";
    r->pub.peer = c->peer;
    if (c->q_tail)
        c->q_tail->next = r;
    else
        c->q_head = r;
    c->q_tail = r;
    c->q_len++;
    return r;
}

static void req_free(sreq_t *r)
{
    buf_free(&r->head);
    buf_free(&r->body);
    free(r->spans);
    free(r->headers);
    free(r->resp);
    free(r->owned_body);
    free(r);
}

/* Ends a request of a live connection: back to the server's pool when its
 * storage is of the usual size, else freed. */
static void req_done(http_server_t *s, sreq_t *r)
{
    free(r->owned_body);
    r->owned_body = NULL;
    if (s->n_req_pool >= REQ_POOL_MAX || r->head.cap > REQ_KEEP_MAX || r->body.cap > REQ_KEEP_MAX ||
        r->resp_cap > REQ_KEEP_MAX) {
        req_free(r);
        return;
    }
    r->next = s->req_pool;
    s->req_pool = r;
    s->n_req_pool++;
}

static void req_pool_free(http_server_t *s)
{
    while (s->req_pool) {
        sreq_t *r = s->req_pool;
        s->req_pool = r->next;
        req_free(r);
    }
    s->n_req_pool = 0;
}

/* Splits the request target into path and query; absolute-form targets keep only their path. */
static void req_split_target(sreq_t *r, int is_connect)
{
    http_request_t *q = &r->pub;
    const char *url = q->url;
    size_t len = q->url_len;
    struct http_parser_url u;

    if (len > 0 && url[0] != '/' && url[0] != '*') {
        http_parser_url_init(&u);
        if (http_parser_parse_url(url, len, is_connect, &u) == 0 &&
            (u.field_set & (1 << UF_PATH))) {
            url += u.field_data[UF_PATH].off;
            len -= u.field_data[UF_PATH].off;
        }
    }
    const char *qm = memchr(url, '?', len);
    q->path = url;
    q->path_len = qm ? (size_t)(qm - url) : len;
    if (qm) {
        q->query = qm + 1;
        q->query_len = len - q->path_len - 1;
    }
}

/* Fills the public view once the head is complete (the head storage no longer moves). */
static void req_finish_head(sreq_t *r, const http_parser *p)
{
    const char *base = r->head.data ? r->head.data : "";

    r->head_done = true;
    r->pub.method = http_method_str((enum http_method)p->method);
    r->pub.http_minor = p->http_minor;
    r->keep_alive = http_should_keep_alive(p) != 0;
    r->pub.url = base;
    req_split_target(r, p->method == HTTP_CONNECT);
    if (r->n_spans > r->cap_headers) {
        free(r->headers);
        r->headers = xmalloc(r->n_spans * sizeof *r->headers);
        r->cap_headers = r->n_spans;
    }
    for (size_t i = 0; i < r->n_spans; i++) {
        const hdr_span_t *sp = &r->spans[i];
        r->headers[i] =
            (http_header_t){base + sp->name_off, sp->name_len, base + sp->value_off, sp->value_len};
    }
    r->pub.headers = r->headers;
    r->pub.n_headers = r->n_spans;
}

static bool header_is(const http_header_t *h, const char *name)
{
    size_t n = strlen(name);
    return h->name_len == n && strncasecmp(h->name, name, n) == 0;
}

static char *put_bytes(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

/* Writes v in decimal. */
static char *put_uint(char *p, size_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* Builds the status line and headers; the body goes in the same allocation when copied. The
 * allocation is the request's own, reused from one response to the next. */
static void resp_build(sreq_t *r, int status, const http_header_t *h, size_t n, const char *body,
                       size_t body_len, bool copy_body)
{
    if (status < 100 || status > 999)
        status = 500; /* the status line has three digits */
    const char *reason = http_status_str((enum http_status)status);
    size_t cap = 64 + strlen(reason) + sizeof CONN_KEEP_ALIVE;

    for (size_t i = 0; i < n; i++)
        cap += h[i].name_len + h[i].value_len + HEADER_OVERHEAD;
    size_t need = cap + (copy_body ? body_len : 0);
    if (need > r->resp_cap) {
        free(r->resp);
        r->resp = xmalloc(need);
        r->resp_cap = need;
    }
    char *p = r->resp;
    p = put_bytes(p, "HTTP/1.1 ", 9);
    p = put_uint(p, (size_t)status);
    *p++ = ' ';
    p = put_bytes(p, reason, strlen(reason));
    p = put_bytes(p, "\r\n", 2);
    for (size_t i = 0; i < n; i++) {
        if (header_is(&h[i], "Content-Length") || header_is(&h[i], "Connection"))
            continue;
        memcpy(p, h[i].name, h[i].name_len);
        p += h[i].name_len;
        *p++ = ':';
        *p++ = ' ';
        memcpy(p, h[i].value, h[i].value_len);
        p += h[i].value_len;
        *p++ = '\r';
        *p++ = '\n';
    }
    p = put_bytes(p, "Content-Length: ", 16);
    p = put_uint(p, body_len);
    p = put_bytes(p, "\r\n", 2);
    r->resp_len = (size_t)(p - r->resp);
    r->resp_body = body;
    if (copy_body && body_len) {
        memcpy(r->resp + cap, body, body_len);
        r->resp_body = r->resp + cap;
    }
    r->resp_body_len = body_len;
}

/* ---- timers and reading -------------------------------------------------------------------- */

static void on_timer(uv_timer_t *t)
{
    sconn_t *c = t->data;
    uint64_t now = uv_now(c->srv->loop);

    if (c->tmode == TM_NONE)
        return;
    if (now < c->tdue) { /* armed for an earlier deadline that has since moved on */
        c->tarmed = c->tdue;
        uv_timer_start(&c->timer, on_timer, c->tdue - now, 0);
        return;
    }
    if (c->tmode == TM_REQUEST && c->cur && !c->shut)
        conn_fail(c, 408);
    else
        conn_close(c);
}

/* Sets the timer's job. Lazily: the deadlines move with every request, and
 * re-arming a libuv timer (a heap removal and insertion) two or three times
 * per request showed in profiles, so a timer already armed for an earlier
 * moment is left alone and on_timer re-arms it for what is due by then. A
 * timer with no job is stopped only when the server shuts down (it would keep
 * the loop alive); otherwise it fires once for nothing. */
static void conn_timer_set(sconn_t *c, enum timer_mode m, uint64_t ms)
{
    c->tmode = m;
    if (m == TM_NONE) {
        if (c->srv->shutting_down)
            uv_timer_stop(&c->timer);
        return;
    }
    c->tdue = uv_now(c->srv->loop) + ms;
    if (uv_is_active((uv_handle_t *)&c->timer) && c->tarmed <= c->tdue)
        return;
    c->tarmed = c->tdue;
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* Picks the idle timer or none once no request is being parsed (the request deadline is armed
 * at the first byte of a request and the linger timer by the final response). */
static void conn_timer_update(sconn_t *c)
{
    if (c->closing || c->shut || c->cur)
        return;
    if (!c->q_head && !c->writes && !c->draining && !c->paused && !c->eof) {
        if (c->tmode != TM_IDLE)
            conn_timer_set(c, TM_IDLE, c->srv->cfg.idle_timeout_ms);
    } else if (c->tmode != TM_NONE) {
        conn_timer_set(c, TM_NONE, 0);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    sconn_t *c = h->data;
    (void)suggested;
    *b = uv_buf_init(c->srv->rbuf, READ_BUF_SIZE);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b);

static bool conn_wants_input(const sconn_t *c)
{
    if (c->closing || c->eof)
        return false;
    if (c->lingering)
        return true;
    if (c->shut || c->paused)
        return false;
    return !c->draining || c->cur != NULL;
}

static void conn_read_update(sconn_t *c)
{
    bool want = conn_wants_input(c);

    if (want == c->reading)
        return;
    c->reading = want;
    if (!want) {
        uv_read_stop((uv_stream_t *)&c->tcp);
    } else if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
        c->reading = false;
        conn_close(c);
    }
}

/* ---- closing ------------------------------------------------------------------------------- */

static void server_maybe_done(http_server_t *s)
{
    if (!s->shutting_down || !s->listener_closed || s->n_conns)
        return;
    void (*done)(void *) = s->done;
    void *ud = s->done_ud;
    req_pool_free(s);
    free(s);
    if (done)
        done(ud);
}

static void on_conn_closed(uv_handle_t *h)
{
    sconn_t *c = h->data;
    http_server_t *s = c->srv;

    if (--c->handles > 0)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    free(c->pending);
    free(c);
    server_maybe_done(s);
}

/* Closes at once; requests a handler still holds are detached (their responses are dropped). */
static void conn_close(sconn_t *c)
{
    if (c->closing)
        return;
    c->closing = true;
    for (sreq_t *r = c->q_head, *next; r; r = next) {
        next = r->next;
        if (r->state == REQ_HANDLER) {
            r->conn = NULL;
            r->next = NULL;
            if (r->pub.on_abort)
                r->pub.on_abort(&r->pub); /* may respond, which frees r */
        } else {
            req_done(c->srv, r);
        }
    }
    c->q_head = c->q_tail = c->cur = NULL;
    c->q_len = 0;
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_shutdown(uv_shutdown_t *sr, int status)
{
    sconn_t *c = sr->data;

    if (c->closing)
        return;
    if (status < 0 || c->eof) {
        conn_close(c);
        return;
    }
    /* Discard what the client still sends so our final response is read, not reset. */
    c->lingering = true;
    conn_timer_set(c, TM_LINGER, LINGER_MS);
    conn_read_update(c);
}

/* Half-closes after the final response: uv_shutdown waits for the queued writes. */
static void conn_shutdown(sconn_t *c)
{
    c->shut = true;
    c->draining = true;
    c->shut_req.data = c;
    conn_read_update(c);
    /* Bound the flush too, so a client that never reads cannot pin the connection. */
    conn_timer_set(c, TM_LINGER, c->srv->cfg.request_timeout_ms);
    if (uv_shutdown(&c->shut_req, (uv_stream_t *)&c->tcp, on_shutdown) < 0)
        conn_close(c);
}

/* No more requests will come: after a final response, on server shutdown, or on EOF once the
 * bytes set aside have been parsed. */
static bool conn_ending(const sconn_t *c)
{
    return c->draining || (c->eof && !c->paused && !c->feeding);
}

static void conn_maybe_finish(sconn_t *c)
{
    if (c->closing || c->shut)
        return;
    if (conn_ending(c) && !c->cur && !c->q_head && !c->writes)
        conn_close(c);
}

/* ---- writing ------------------------------------------------------------------------------- */

/* Parses the bytes set aside once half the in-flight requests are done (not at the first, so
 * a long pipelined burst is not copied aside again for every request). */
static void conn_resume(sconn_t *c)
{
    if (!c->paused || c->q_len + c->writes > PIPELINE_MAX / 2)
        return;
    char *p = c->pending;
    size_t n = c->pending_len;
    c->pending = NULL;
    c->pending_len = 0;
    c->paused = false;
    conn_feed(c, p, n);
    free(p);
}

static void on_written(uv_write_t *wr, int status)
{
    sreq_t *r = wr->data;
    sconn_t *c = r->conn;

    req_done(c->srv, r);
    c->writes--;
    if (c->closing || c->shut)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    conn_resume(c);
    if (c->closing)
        return;
    conn_maybe_finish(c);
    conn_read_update(c);
    conn_timer_update(c);
}

static int conn_write_resp(sconn_t *c, sreq_t *r, bool last)
{
    const char *tail = last ? CONN_CLOSE : CONN_KEEP_ALIVE;
    size_t tail_len = last ? sizeof CONN_CLOSE - 1 : sizeof CONN_KEEP_ALIVE - 1;
    uv_buf_t bufs[2];

    memcpy(r->resp + r->resp_len, tail, tail_len);
    bufs[0] = uv_buf_init(r->resp, (unsigned)(r->resp_len + tail_len));
    bufs[1] = uv_buf_init((char *)r->resp_body, (unsigned)r->resp_body_len);
    unsigned nbufs = r->resp_body_len ? 2 : 1;
    /* Write now when nothing is queued: the socket usually takes it all, and
     * then there is no write request, no callback, and none of the epoll_ctl
     * calls libuv makes each time a queued write drains (one per response,
     * a tenth of the CPU of a small request). Connections that are paused or
     * ending keep the queued path, whose callback moves them on. */
    if (c->writes == 0 && !last && !c->paused && !conn_ending(c)) {
        int n = uv_try_write((uv_stream_t *)&c->tcp, bufs, nbufs);
        if (n > 0 && (size_t)n == bufs[0].len + (nbufs > 1 ? bufs[1].len : 0)) {
            req_done(c->srv, r);
            return 0;
        }
        for (size_t done = n > 0 ? (size_t)n : 0; done > 0;) {
            size_t k = done < bufs[0].len ? done : bufs[0].len;
            bufs[0].base += k;
            bufs[0].len -= k;
            done -= k;
            if (bufs[0].len == 0) {
                bufs[0] = bufs[1];
                nbufs = 1;
            }
        }
    }
    r->wr.data = r;
    if (uv_write(&r->wr, (uv_stream_t *)&c->tcp, bufs, nbufs, on_written) < 0) {
        req_done(c->srv, r);
        return -1;
    }
    c->writes++;
    return 0;
}

static void on_continue_written(uv_write_t *wr, int status)
{
    (void)status;
    free(wr);
}

static void conn_send_continue(sconn_t *c, sreq_t *r)
{
    static char text[] = CONTINUE_RESPONSE;
    uv_buf_t b = uv_buf_init(text, sizeof text - 1);
    uv_write_t *wr = xmalloc(sizeof *wr);

    r->continue_sent = true;
    if (uv_write(wr, (uv_stream_t *)&c->tcp, &b, 1, on_continue_written) < 0) {
        free(wr);
        c->draining = true; /* the write side is gone; finish without more input */
    }
}

/* Writes every answered request at the head of the queue, in order; the last response of a
 * connection says Connection: close and half-closes. Then sends 100 Continue if the request
 * being parsed is now first in line and asked for it. */
static void conn_flush(sconn_t *c)
{
    sreq_t *r;

    for (r = c->q_head; r && r->state == REQ_READY; r = c->q_head) {
        c->q_head = r->next;
        if (!c->q_head)
            c->q_tail = NULL;
        c->q_len--;
        bool last = !r->keep_alive || (conn_ending(c) && !c->q_head && !c->cur);
        if (conn_write_resp(c, r, last) < 0) {
            conn_close(c);
            return;
        }
        if (last) {
            conn_shutdown(c);
            return;
        }
    }
    if (r && r == c->cur && r->expect_continue && !r->continue_sent)
        conn_send_continue(c, r);
}

/* ---- parsing ------------------------------------------------------------------------------- */

static int head_account(sconn_t *c, sreq_t *r, size_t n)
{
    r->head_bytes += n;
    if (r->head_bytes > c->srv->cfg.max_header_bytes) {
        c->fail_status = 431;
        return -1;
    }
    return 0;
}

static int on_message_begin(http_parser *p)
{
    sconn_t *c = p->data;

    c->cur = req_new(c);
    conn_timer_set(c, TM_REQUEST, c->srv->cfg.request_timeout_ms);
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    sconn_t *c = p->data;
    sreq_t *r = c->cur;

    if (head_account(c, r, len) < 0)
        return -1;
    buf_append(&r->head, at, len);
    r->pub.url_len += len;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    sconn_t *c = p->data;
    sreq_t *r = c->cur;

    if (r->head_done) /* trailers: ignored */
        return 0;
    if (r->last_cb != CB_FIELD) {
        if (head_account(c, r, HEADER_OVERHEAD) < 0)
            return -1;
        if (r->n_spans == r->cap_spans) {
            r->cap_spans = r->cap_spans ? r->cap_spans * 2 : 16;
            r->spans = xrealloc(r->spans, r->cap_spans * sizeof *r->spans);
        }
        r->spans[r->n_spans++] = (hdr_span_t){r->head.len, 0, r->head.len, 0};
        r->last_cb = CB_FIELD;
    }
    if (head_account(c, r, len) < 0)
        return -1;
    buf_append(&r->head, at, len);
    r->spans[r->n_spans - 1].name_len += len;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    sconn_t *c = p->data;
    sreq_t *r = c->cur;

    if (r->head_done)
        return 0;
    hdr_span_t *sp = &r->spans[r->n_spans - 1];
    if (r->last_cb != CB_VALUE) {
        sp->value_off = r->head.len;
        r->last_cb = CB_VALUE;
    }
    if (head_account(c, r, len) < 0)
        return -1;
    buf_append(&r->head, at, len);
    sp->value_len += len;
    return 0;
}

/* Checks version, body cap and Expect; a nonzero return makes the parser fail with
 * c->fail_status. */
static int on_headers_complete(http_parser *p)
{
    sconn_t *c = p->data;
    sreq_t *r = c->cur;
    http_server_t *s = c->srv;
    bool has_len = (p->flags & F_CONTENTLENGTH) != 0;
    size_t elen;

    req_finish_head(r, p);
    c->fail_status = p->http_major != 1 ? 505 : 0;
    if (c->fail_status)
        return -1;
    r->body_cap = s->cfg.body_limit_cb ? s->cfg.body_limit_cb(&r->pub, s->ud) : s->cfg.max_body;
    if (has_len && p->content_length > r->body_cap) {
        c->fail_status = 413;
        return -1;
    }
    if (has_len) /* at most body_cap: room for the whole body at once */
        buf_reserve(&r->body, (size_t)p->content_length);
    const char *expect = http_request_header(&r->pub, "Expect", &elen);
    if (expect) {
        bool cont = elen == 12 && strncasecmp(expect, "100-continue", 12) == 0;
        /* RFC 9110 10.1.1: an expectation we cannot meet is answered 417. */
        c->fail_status = cont ? 0 : 417;
        if (c->fail_status)
            return -1;
        bool body = (p->flags & F_CHUNKED) || (has_len && p->content_length > 0);
        r->expect_continue = body && p->http_minor >= 1;
    }
    if (r->expect_continue && c->q_head == r)
        conn_send_continue(c, r);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    sconn_t *c = p->data;
    sreq_t *r = c->cur;

    if (r->body.len + len > r->body_cap) {
        c->fail_status = 413;
        return -1;
    }
    buf_append(&r->body, at, len);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    /* Dispatch happens in conn_feed, outside http_parser_execute, so a handler that answers
     * (or closes) at once never runs inside the parser. */
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void conn_dispatch(sconn_t *c)
{
    sreq_t *r = c->cur;
    http_server_t *s = c->srv;

    c->cur = NULL;
    r->state = REQ_HANDLER;
    r->expect_continue = false;
    r->pub.body = r->body.data ? r->body.data : "";
    r->pub.body_len = r->body.len;
    /* Upgrade and CONNECT are not supported: answer, then close. */
    if (!r->keep_alive || c->parser.upgrade) {
        r->keep_alive = false;
        c->draining = true;
    }
    conn_timer_update(c);
    s->cb(&r->pub, s->ud);
}

/* Turns the request being parsed (or a new entry) into an error response and ends the
 * connection after it. */
static void conn_fail(sconn_t *c, int status)
{
    if (c->closing)
        return;
    sreq_t *r = c->cur ? c->cur : req_new(c);
    c->cur = NULL;
    c->draining = true;
    r->keep_alive = false;
    r->expect_continue = false;
    r->state = REQ_READY;
    resp_build(r, status, NULL, 0, NULL, 0, true);
    conn_flush(c);
    if (!c->closing) {
        conn_read_update(c);
        conn_timer_update(c);
    }
}

static int status_for(const sconn_t *c, enum http_errno err)
{
    if (c->fail_status)
        return c->fail_status;
    return err == HPE_HEADER_OVERFLOW ? 431 : 400;
}

/* Runs bytes through the parser, dispatching each complete request in order. Sets bytes aside
 * (and pauses) when too many requests are in flight. */
static void conn_feed(sconn_t *c, const char *data, size_t len)
{
    c->feeding = true;
    while (len > 0 && !c->closing) {
        if (c->draining && !c->cur)
            break;
        if (!c->cur && c->q_len + c->writes >= PIPELINE_MAX) {
            c->pending = xmemdup(data, len);
            c->pending_len = len;
            c->paused = true;
            break;
        }
        size_t n = http_parser_execute(&c->parser, &parser_settings, data, len);
        enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);
        data += n;
        len -= n;
        if (err == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            conn_dispatch(c);
        } else if (err != HPE_OK) {
            conn_fail(c, status_for(c, err));
            break;
        }
    }
    c->feeding = false;
}

/* The client closed its side: a request a handler holds with an abort hook
 * (a long poll) is told, since no client waits for it any more. Each hook runs
 * once; the list is walked again after each, as the hook may respond. */
static void conn_abort_held(sconn_t *c)
{
    bool again = true;
    while (again && !c->closing) {
        again = false;
        for (sreq_t *r = c->q_head; r; r = r->next) {
            if (r->state != REQ_HANDLER || !r->pub.on_abort)
                continue;
            void (*abort_cb)(http_request_t *) = r->pub.on_abort;
            r->pub.on_abort = NULL;
            abort_cb(&r->pub);
            again = true;
            break;
        }
    }
}

static void conn_eof(sconn_t *c)
{
    c->eof = true;
    conn_abort_held(c);
    if (c->closing)
        return;
    if (c->lingering || c->cur) {
        conn_close(c);
        return;
    }
    conn_maybe_finish(c);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    sconn_t *c = st->data;

    if (nread > 0 && !c->lingering)
        conn_feed(c, b->base, (size_t)nread);
    else if (nread == UV_EOF)
        conn_eof(c);
    else if (nread < 0)
        conn_close(c);
    if (c->closing)
        return;
    conn_maybe_finish(c);
    if (c->closing)
        return;
    conn_read_update(c);
    conn_timer_update(c);
}

/* ---- connections and the server ------------------------------------------------------------ */

/* Sets up a connection around a connected c->tcp and starts reading. */
/* The client's address, once per connection (aws:SourceIp). */
static void peer_name(sconn_t *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    c->peer[0] = 0;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) < 0)
        return;
    if (ss.ss_family == AF_INET)
        uv_ip4_name((const struct sockaddr_in *)&ss, c->peer, sizeof(c->peer));
    else if (ss.ss_family == AF_INET6)
        uv_ip6_name((const struct sockaddr_in6 *)&ss, c->peer, sizeof(c->peer));
}

static void conn_start(http_server_t *s, sconn_t *c)
{
    c->srv = s;
    c->tcp.data = c;
    c->handles = 2;
    uv_timer_init(s->loop, &c->timer);
    c->timer.data = c;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    uv_tcp_nodelay(&c->tcp, 1); /* fails harmlessly on a socketpair */
    peer_name(c);
    conn_timer_update(c);
    conn_read_update(c);
}

static void on_unstarted_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_connection(uv_stream_t *ls, int status)
{
    http_server_t *s = ls->data;
    sconn_t *c;

    if (status < 0) {
        log_warn("http: accept: %s", uv_strerror(status));
        return;
    }
    c = xcalloc(1, sizeof *c);
    uv_tcp_init(s->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(ls, (uv_stream_t *)&c->tcp) < 0) {
        uv_close((uv_handle_t *)&c->tcp, on_unstarted_closed);
        return;
    }
    conn_start(s, c);
}

int http_server_adopt(http_server_t *s, uv_os_sock_t fd)
{
    sconn_t *c = xcalloc(1, sizeof *c);
    int rc;

    uv_tcp_init(s->loop, &c->tcp);
    c->tcp.data = c;
    /* On failure uv_tcp_open has not attached fd, so closing the handle leaves it alone. */
    rc = uv_tcp_open(&c->tcp, fd);
    if (rc < 0) {
        uv_close((uv_handle_t *)&c->tcp, on_unstarted_closed);
        return rc;
    }
    conn_start(s, c);
    return 0;
}

int http_server_new(uv_loop_t *loop, const http_server_config_t *cfg, http_request_cb cb, void *ud,
                    http_server_t **out)
{
    http_server_t *s = xcalloc(1, sizeof *s);
    struct sigaction sa;

    /* A client that goes away must cost an EPIPE from the write, not the process. */
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
    if (cfg)
        s->cfg = *cfg;
    if (!s->cfg.max_header_bytes)
        s->cfg.max_header_bytes = DEFAULT_MAX_HEADER;
    if (!s->cfg.max_body)
        s->cfg.max_body = DEFAULT_MAX_BODY;
    if (!s->cfg.idle_timeout_ms)
        s->cfg.idle_timeout_ms = DEFAULT_IDLE_MS;
    if (!s->cfg.request_timeout_ms)
        s->cfg.request_timeout_ms = DEFAULT_REQUEST_MS;
    s->loop = loop;
    s->cb = cb;
    s->ud = ud;
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    *out = s;
    return 0;
}

static int addr_parse(const char *host, int port, struct sockaddr_storage *ss)
{
    char tmp[64];
    size_t n;

    if (!host || strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    n = strlen(host);
    if (n >= 2 && n < sizeof tmp && host[0] == '[' && host[n - 1] == ']') {
        memcpy(tmp, host + 1, n - 2);
        tmp[n - 2] = '\0';
        host = tmp;
    }
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
        return 0;
    return uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss);
}

int http_server_listen(http_server_t *s, const char *host, int port)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    int rc;

    rc = addr_parse(host, port, &ss);
    if (rc < 0)
        goto out;
    rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&ss, 0);
    if (rc < 0)
        goto out;
    rc = uv_listen((uv_stream_t *)&s->listener, LISTEN_BACKLOG, on_connection);
    if (rc < 0)
        goto out;
    rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len);
    if (rc < 0)
        goto out;
    s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
out:
    return rc;
}

int http_server_port(const http_server_t *s)
{
    return s->port;
}

size_t http_server_connections(const http_server_t *s)
{
    return s->n_conns;
}

static void req_respond(http_request_t *req, int status, const http_header_t *headers, size_t n,
                        const char *body, size_t body_len, char *owned)
{
    sreq_t *r = (sreq_t *)req;
    sconn_t *c = r->conn;

    if (!c) { /* client gone: drop the response */
        free(owned);
        req_free(r);
        return;
    }
    r->owned_body = owned;
    resp_build(r, status, headers, n, body, body_len, owned == NULL);
    r->state = REQ_READY;
    conn_flush(c);
    if (!c->closing)
        conn_timer_update(c);
}

void http_respond(http_request_t *req, int status, const http_header_t *headers, size_t n_headers,
                  const char *body, size_t body_len)
{
    req_respond(req, status, headers, n_headers, body, body_len, NULL);
}

void http_respond_owned(http_request_t *req, int status, const http_header_t *headers,
                        size_t n_headers, char *body, size_t body_len)
{
    if (!body)
        body = xmalloc(1);
    req_respond(req, status, headers, n_headers, body, body_len, body);
}

const char *http_request_header(const http_request_t *req, const char *name, size_t *len)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        if (header_is(&req->headers[i], name)) {
            if (len)
                *len = req->headers[i].value_len;
            return req->headers[i].value;
        }
    }
    return NULL;
}

static void on_listener_closed(uv_handle_t *h)
{
    http_server_t *s = h->data;

    s->listener_closed = true;
    server_maybe_done(s);
}

void http_server_shutdown(http_server_t *s, void (*done)(void *ud), void *ud)
{
    if (s->shutting_down)
        return;
    s->shutting_down = true;
    s->done = done;
    s->done_ud = ud;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    for (sconn_t *c = s->conns, *next; c; c = next) {
        next = c->next; /* conns leave the list only in close callbacks */
        if (c->closing || c->shut)
            continue;
        c->draining = true;
        free(c->pending); /* set-aside pipelined requests are not begun: drop them */
        c->pending = NULL;
        c->pending_len = 0;
        c->paused = false;
        conn_maybe_finish(c);
        if (c->closing)
            continue;
        conn_read_update(c);
        conn_timer_update(c);
        if (c->tmode == TM_NONE) /* a lazily armed timer must not hold the loop */
            uv_timer_stop(&c->timer);
    }
}
