/*
 * http/server — the HTTP/1.1 server every service sits behind.
 *
 * One libuv loop thread, no per-connection threads. It parses with http-parser,
 * enforces the limits (header block, per-request body cap, slow-client and idle
 * timeouts), supports keep-alive, pipelining (responses strictly in request
 * order), `Expect: 100-continue` and chunked request bodies, and hands each
 * complete request to one callback. The callback may answer at once or later
 * (from any loop callback) with http_respond(); the server adds Content-Length
 * and Connection. It knows nothing about AWS: routing is the caller's business.
 *
 * Not supported: HEAD semantics, Upgrade/CONNECT (answered, then the connection
 * is closed), chunked responses, TLS, request trailers (ignored).
 */
#ifndef NAGARE_HTTP_SERVER_H
#define NAGARE_HTTP_SERVER_H

#include <uv.h>
#include <stddef.h>
#include <stdint.h>

typedef struct http_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} http_header_t;

typedef struct http_server http_server_t;

/* One request. Valid from the request callback until http_respond() is called for it, even if
 * the client disconnects meanwhile (then the response is dropped). Strings are NOT NUL-terminated
 * unless stated; body is NUL-terminated for convenience (body[body_len] == 0). */
typedef struct http_request {
    const char *method; /* NUL-terminated, "GET", "POST", ... */
    const char *url;    /* raw request target */
    size_t url_len;
    const char *path; /* target up to '?' (raw, percent-encoded) */
    size_t path_len;
    const char *query; /* after '?', NULL/0 when absent */
    size_t query_len;
    const http_header_t *headers; /* arrival order, duplicates kept */
    size_t n_headers;
    const char *body;
    size_t body_len;
    int http_minor;   /* 0 or 1 */
    const char *peer; /* the client's IP address, "" when unknown */
    void *user;       /* free for the handler's use */
    /* Set by a handler that holds the request a while (a long poll): called
     * once if the client goes away before the response; the handler should
     * then stop its work and respond (the response is dropped). */
    void (*on_abort)(struct http_request *req);
} http_request_t;

typedef struct http_server_config {
    size_t max_header_bytes; /* default 16384; request line + headers, else 431 */
    size_t max_body;         /* default 1 MiB; cap when body_limit_cb is NULL, else 413 */
    /* Called once the head is complete (req has no body yet): returns the body cap for this
     * request (so each service can enforce its own limit -> 413). May be NULL. */
    size_t (*body_limit_cb)(const http_request_t *req, void *ud);
    uint64_t idle_timeout_ms;    /* keep-alive idle; default 60000 */
    uint64_t request_timeout_ms; /* slow client: whole request; default 30000, else 408 */
} http_server_config_t;

typedef void (*http_request_cb)(http_request_t *req, void *ud);

/* Creates a server on loop. cfg may be NULL for defaults (zero fields also take the default).
 * cb(req, ud) is called on the loop thread for each complete request. 0 or negative uv error;
 * *out is set only on success. The server is freed by http_server_shutdown(). Sets SIGPIPE to
 * ignored if it was at its default, so a vanished client is an EPIPE, not a dead process. */
int http_server_new(uv_loop_t *loop, const http_server_config_t *cfg, http_request_cb cb, void *ud,
                    http_server_t **out);
/* Binds and listens on host ("127.0.0.1", "0.0.0.0", "::1", "[::1]", "localhost" meaning
 * 127.0.0.1; NULL is 127.0.0.1); port 0 picks a free port. 0 or negative uv error (the server
 * is then still to be freed with http_server_shutdown). */
int http_server_listen(http_server_t *s, const char *host, int port);
/* The bound port (0 before a successful listen). */
int http_server_port(const http_server_t *s);
/* Serves an already-connected stream socket (TCP or a socketpair end) as one more connection.
 * On success the server owns fd; on failure (negative uv error) the caller still does. */
int http_server_adopt(http_server_t *s, uv_os_sock_t fd);
/* Sends the response for req (copies headers and body; adds Content-Length and Connection, and
 * drops any Content-Length or Connection header given). After this call req is invalid. Exactly
 * once per request. */
void http_respond(http_request_t *req, int status, const http_header_t *headers, size_t n_headers,
                  const char *body, size_t body_len);
/* Like http_respond but takes ownership of a malloc'd body (no copy); it is freed once written
 * or dropped. */
void http_respond_owned(http_request_t *req, int status, const http_header_t *headers,
                        size_t n_headers, char *body, size_t body_len);
/* First header with this name, case-insensitive; NULL when absent. *len (if len is not NULL)
 * receives the value's length. */
const char *http_request_header(const http_request_t *req, const char *name, size_t *len);
/* Graceful shutdown: stops accepting, lets requests already begun finish and their responses
 * flush (the last one says Connection: close), closes idle connections. done(ud) is called on
 * the loop once every connection is closed and the server freed. Call once. */
void http_server_shutdown(http_server_t *s, void (*done)(void *ud), void *ud);
/* Current number of open connections (for tests/health). */
size_t http_server_connections(const http_server_t *s);

#endif
