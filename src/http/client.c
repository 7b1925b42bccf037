/*
 * client — see client.h.
 *
 * A connection moves IDLE → CONNECTING → CONNECTED → (RESETTING → IDLE)* and
 * finally to freed via http_conn_close. Requests are formatted straight into
 * `out`; a flush swaps `out` with `inflight` and hands it to one uv_write, so
 * pipelined requests coalesce into one write without a copy per request.
 *
 * The queue of outstanding requests is a ring of {arg, sent time}. Its head is
 * the oldest request; the last `n_unsent` entries are still in `out` (never
 * written on this socket). When a socket dies, the written entries fail and the
 * unsent ones move to the next socket, which is how a server that answers
 * "Connection: close" (moto's werkzeug) is followed without losing requests.
 * A connect that fails fails every entry instead, so a dead endpoint cannot
 * cause an endless reconnect loop.
 */
#include "http/client.h"
#include "base/buf.h"
#include "base/xalloc.h"

#include <http_parser.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum conn_state { ST_IDLE, ST_CONNECTING, ST_CONNECTED, ST_RESETTING };

typedef struct pending {
    void *arg;
    uint64_t sent_ns;
} pending_t;

struct http_conn {
    uv_loop_t *loop;
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_write_t write_req;
    struct sockaddr_storage addr;
    http_response_cb cb;
    http_conn_close_cb close_cb;
    void *data;
    enum conn_state state;
    bool writing;    /* write_req is in use */
    bool closing;    /* http_conn_close was called */
    bool must_reset; /* the last response said the server will close */
    buf_t out;       /* formatted requests not yet handed to the socket */
    buf_t inflight;  /* bytes of the current uv_write */
    pending_t *q;    /* ring of outstanding requests */
    size_t q_head, q_len, q_cap, n_unsent;
    http_parser parser;
    buf_t body;
    buf_t hdrs;    /* the response's headers, "name: value\n" each */
    bool in_value; /* the parser is inside a header value */
    int status;
    char rbuf[64 * 1024];
};

static void start_connect(http_conn_t *c);
static void reset(http_conn_t *c, int err, bool fail_unsent);

static void queue_push(http_conn_t *c, void *arg)
{
    if (c->q_len == c->q_cap) {
        size_t cap = c->q_cap ? c->q_cap * 2 : 8;
        pending_t *q = xmalloc(cap * sizeof(*q));
        for (size_t i = 0; i < c->q_len; i++)
            q[i] = c->q[(c->q_head + i) % c->q_cap];
        free(c->q);
        c->q = q;
        c->q_cap = cap;
        c->q_head = 0;
    }
    c->q[(c->q_head + c->q_len) % c->q_cap] = (pending_t){arg, uv_hrtime()};
    c->q_len++;
}

static pending_t queue_pop(http_conn_t *c)
{
    pending_t p = c->q[c->q_head];
    c->q_head = (c->q_head + 1) % c->q_cap;
    c->q_len--;
    if (c->n_unsent > c->q_len)
        c->n_unsent = c->q_len;
    return p;
}

/* Completes up to n of the oldest requests with err. Re-checks the queue each
 * time because a callback may close the connection (which empties it). */
static void fail_oldest(http_conn_t *c, size_t n, int err)
{
    while (n-- > 0 && c->q_len > 0) {
        pending_t p = queue_pop(c);
        http_response_t res = {err, "", 0, p.sent_ns, "", 0};
        c->cb(c, &res, p.arg);
    }
}

static void on_write(uv_write_t *req, int status)
{
    http_conn_t *c = req->data;
    c->writing = false;
    buf_reset(&c->inflight);
    if (status < 0) {
        if (status != UV_ECANCELED)
            reset(c, status, false);
        return;
    }
    if (c->state == ST_CONNECTED && !c->must_reset && !c->closing && c->out.len > 0) {
        buf_t t = c->out;
        c->out = c->inflight;
        c->inflight = t;
        c->n_unsent = 0;
        uv_buf_t b = uv_buf_init(c->inflight.data, (unsigned)c->inflight.len);
        c->writing = true;
        int rc = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
        if (rc < 0) {
            c->writing = false;
            reset(c, rc, false);
        }
    }
}

/* Hands what is in `out` to the socket when it can take it. Written at once
 * when the socket takes it all, as it usually does: no write request, no
 * callback, and none of the epoll_ctl calls libuv makes each time a queued
 * write drains (the server does the same for its responses). */
static void flush(http_conn_t *c)
{
    if (c->writing || c->out.len == 0 || c->state != ST_CONNECTED || c->must_reset || c->closing)
        return;
    uv_buf_t b = uv_buf_init(c->out.data, (unsigned)c->out.len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n > 0 && (size_t)n == c->out.len) {
        buf_reset(&c->out);
        c->n_unsent = 0;
        return;
    }
    if (n > 0) { /* the rest goes through a queued write */
        memmove(c->out.data, c->out.data + n, c->out.len - (size_t)n);
        c->out.len -= (size_t)n;
        c->n_unsent = 0;
    }
    c->write_req.data = c;
    on_write(&c->write_req, 0); /* the swap-and-write path, with nothing to release */
}

static int on_message_begin(http_parser *p)
{
    http_conn_t *c = p->data;
    buf_reset(&c->body);
    buf_reset(&c->hdrs);
    c->in_value = false;
    c->status = 0;
    return 0;
}

/* Field and value may each come in pieces: a field after a value starts a new line. */
static int on_header_field(http_parser *p, const char *at, size_t len)
{
    http_conn_t *c = p->data;
    if (c->in_value && buf_putc(&c->hdrs, '\n') < 0)
        return -1;
    c->in_value = false;
    return buf_append(&c->hdrs, at, len) < 0 ? -1 : 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    http_conn_t *c = p->data;
    if (!c->in_value && buf_puts(&c->hdrs, ": ") < 0)
        return -1;
    c->in_value = true;
    return buf_append(&c->hdrs, at, len) < 0 ? -1 : 0;
}

static int on_headers_complete(http_parser *p)
{
    http_conn_t *c = p->data;
    if (c->in_value && buf_putc(&c->hdrs, '\n') < 0)
        return -1;
    c->in_value = false;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    http_conn_t *c = p->data;
    return buf_append(&c->body, at, len) < 0 ? -1 : 0;
}

static int on_message_complete(http_parser *p)
{
    http_conn_t *c = p->data;
    if (c->q_len == 0 || c->q_len == c->n_unsent)
        return -1; /* a response nobody asked for */
    /* Decided before the callback so that requests it queues wait for the
     * next socket instead of being written to one the server is closing. */
    if (!http_should_keep_alive(p))
        c->must_reset = true;
    pending_t e = queue_pop(c);
    http_response_t res = {(int)p->status_code, c->body.data ? c->body.data : "", c->body.len,
                           e.sent_ns,           c->hdrs.data ? c->hdrs.data : "", c->hdrs.len};
    c->cb(c, &res, e.arg);
    return (c->closing || c->must_reset) ? -1 : 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    http_conn_t *c = h->data;
    (void)suggested;
    *b = uv_buf_init(c->rbuf, sizeof(c->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    http_conn_t *c = s->data;
    if (nread == 0 || c->state != ST_CONNECTED)
        return;
    if (nread > 0)
        http_parser_execute(&c->parser, &parser_settings, b->base, (size_t)nread);
    else if (nread == UV_EOF)
        http_parser_execute(&c->parser, &parser_settings, NULL, 0); /* close-delimited body */
    if (c->closing || c->state != ST_CONNECTED)
        return;
    if (c->must_reset || nread == UV_EOF) {
        reset(c, UV_ECONNRESET, false);
    } else if (nread < 0) {
        reset(c, (int)nread, false);
    } else if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK) {
        reset(c, c->body.len >= HTTP_CLIENT_MAX_BODY ? UV_ENOBUFS : UV_EPROTO, false);
    }
}

static void on_connect(uv_connect_t *req, int status)
{
    http_conn_t *c = req->data;
    if (c->closing || c->state != ST_CONNECTING)
        return;
    if (status < 0) {
        reset(c, status, true);
        return;
    }
    c->state = ST_CONNECTED;
    uv_tcp_nodelay(&c->tcp, 1);
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc < 0) {
        reset(c, rc, true);
        return;
    }
    flush(c);
}

static void on_tcp_closed(uv_handle_t *h)
{
    http_conn_t *c = h->data;
    if (c->closing) {
        if (c->close_cb)
            c->close_cb(c);
        buf_free(&c->out);
        buf_free(&c->inflight);
        buf_free(&c->body);
        buf_free(&c->hdrs);
        free(c->q);
        free(c);
        return;
    }
    c->state = ST_IDLE;
    c->must_reset = false;
    c->writing = false;
    buf_reset(&c->inflight);
    if (c->q_len > 0)
        start_connect(c); /* the unsent requests go to a fresh socket */
}

/* Drops the socket. Requests written to it fail with err; unsent ones are
 * kept for the next socket unless fail_unsent (a connect failure). */
static void reset(http_conn_t *c, int err, bool fail_unsent)
{
    if (c->state == ST_RESETTING || c->state == ST_IDLE)
        return;
    c->state = ST_RESETTING;
    uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
    size_t n = fail_unsent ? c->q_len : c->q_len - c->n_unsent;
    fail_oldest(c, n, err);
}

static void start_connect(http_conn_t *c)
{
    uv_tcp_init(c->loop, &c->tcp);
    c->tcp.data = c;
    c->connect_req.data = c;
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    c->must_reset = false;
    c->state = ST_CONNECTING;
    int rc =
        uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *)&c->addr, on_connect);
    if (rc < 0)
        reset(c, rc, true);
}

http_conn_t *http_conn_new(uv_loop_t *loop, const struct sockaddr *addr, http_response_cb cb)
{
    http_conn_t *c = xcalloc(1, sizeof(*c));
    c->loop = loop;
    c->cb = cb;
    memcpy(&c->addr, addr,
           addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    buf_init(&c->out, 0); /* our own output */
    buf_init(&c->inflight, 0);
    buf_init(&c->body, HTTP_CLIENT_MAX_BODY);
    buf_init(&c->hdrs, HTTP_CLIENT_MAX_HEADERS);
    c->state = ST_IDLE;
    return c;
}

/* Appends the request. Plain appends rather than printf: this runs once per
 * request of a load generator, and vsnprintf's cost showed in profiles. */
static void format_request(buf_t *out, const char *method, const char *target,
                           const http_client_header_t *headers, size_t n_headers, const void *body,
                           size_t body_len)
{
    buf_puts(out, method);
    buf_putc(out, ' ');
    buf_puts(out, target);
    buf_puts(out, " HTTP/1.1\r\n");
    for (size_t i = 0; i < n_headers; i++) {
        buf_puts(out, headers[i].name);
        buf_append(out, ": ", 2);
        buf_puts(out, headers[i].value);
        buf_append(out, "\r\n", 2);
    }
    if (body) {
        char digits[24];
        size_t n = 0, v = body_len;
        do {
            digits[sizeof(digits) - ++n] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        buf_puts(out, "Content-Length: ");
        buf_append(out, digits + sizeof(digits) - n, n);
        buf_append(out, "\r\n", 2);
    }
    buf_append(out, "\r\n", 2);
    if (body)
        buf_append(out, body, body_len);
}

int http_conn_request(http_conn_t *c, const char *method, const char *target,
                      const http_client_header_t *headers, size_t n_headers, const void *body,
                      size_t body_len, void *arg)
{
    if (c->closing)
        return UV_ECANCELED;
    if (c->state == ST_IDLE) {
        start_connect(c);
        if (c->state != ST_CONNECTING)
            return UV_ECONNREFUSED; /* failed at once; nothing was queued */
    }
    format_request(&c->out, method, target, headers, n_headers, body, body_len);
    queue_push(c, arg);
    c->n_unsent++;
    flush(c);
    return 0;
}

size_t http_conn_pending(const http_conn_t *c)
{
    return c->q_len;
}

void http_conn_close(http_conn_t *c, http_conn_close_cb close_cb)
{
    if (c->closing)
        return;
    c->closing = true;
    c->close_cb = close_cb;
    if (c->state == ST_IDLE) {
        /* No socket: open and close one so the free still happens from the loop. */
        uv_tcp_init(c->loop, &c->tcp);
        c->tcp.data = c;
        uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
    } else if (c->state != ST_RESETTING) {
        uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
    }
    c->state = ST_RESETTING;
    fail_oldest(c, c->q_len, UV_ECANCELED);
}

void http_conn_set_data(http_conn_t *c, void *data)
{
    c->data = data;
}

void *http_conn_data(const http_conn_t *c)
{
    return c->data;
}

int http_url_resolve(const char *url, struct sockaddr_storage *addr, char *hostport,
                     size_t hostport_len)
{
    struct http_parser_url u;
    int rc = -1;
    struct addrinfo *ai = NULL;
    char *host = NULL;
    http_parser_url_init(&u);
    if (http_parser_parse_url(url, strlen(url), 0, &u) != 0)
        goto out;
    if (!(u.field_set & (1 << UF_SCHEMA)) || !(u.field_set & (1 << UF_HOST)) ||
        (u.field_set & (1 << UF_USERINFO)))
        goto out;
    if (u.field_data[UF_SCHEMA].len != 4 ||
        strncasecmp(url + u.field_data[UF_SCHEMA].off, "http", 4))
        goto out;
    host = xstrndup(url + u.field_data[UF_HOST].off, u.field_data[UF_HOST].len);
    size_t start = u.field_data[UF_SCHEMA].off + 7; /* past "http://" */
    size_t end = u.field_data[UF_HOST].off + u.field_data[UF_HOST].len;
    if (url[end] == ']')
        end++;
    if (u.field_set & (1 << UF_PORT))
        end = u.field_data[UF_PORT].off + u.field_data[UF_PORT].len;
    if (end - start >= hostport_len)
        goto out;
    char port[8];
    snprintf(port, sizeof(port), "%u", (u.field_set & (1 << UF_PORT)) ? u.port : 80u);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    if (getaddrinfo(host, port, &hints, &ai) != 0 || ai->ai_addrlen > sizeof(*addr))
        goto out;
    memcpy(addr, ai->ai_addr, ai->ai_addrlen);
    memcpy(hostport, url + start, end - start);
    hostport[end - start] = '\0';
    rc = 0;
out:
    if (ai)
        freeaddrinfo(ai);
    free(host);
    return rc;
}

int http_response_header(const http_response_t *res, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    const char *p = res->headers, *end = p ? p + res->headers_len : p;
    int rc = -1;
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) >= n + 2 && !strncasecmp(p, name, n) && p[n] == ':') {
            const char *v = p + n + 1;
            while (v < eol && *v == ' ')
                v++;
            if ((size_t)(eol - v) < cap) {
                memcpy(out, v, (size_t)(eol - v));
                out[eol - v] = '\0';
                rc = 0;
            }
            break;
        }
        p = eol + 1;
    }
    return rc;
}
