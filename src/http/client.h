/*
 * client — a small HTTP/1.1 keep-alive client on libuv, for `nagare bench`.
 *
 * One http_conn_t is one TCP connection to one address. Requests are written
 * as they are given (so a caller that sends again before the answer arrives is
 * pipelining); responses are read with http-parser (Content-Length, chunked or
 * close-delimited bodies) and handed back in order, one callback per request,
 * with the status, the body and the time the request was queued. When the
 * server does not keep the connection alive, the next request reconnects
 * transparently. A transport failure completes every outstanding request with
 * a negative libuv error code as its status; the connection stays usable (the
 * next request reconnects).
 *
 * It is not a general client: no TLS, no redirects, and bodies over
 * HTTP_CLIENT_MAX_BODY (headers over HTTP_CLIENT_MAX_HEADERS) fail the connection.
 */
#ifndef NAGARE_HTTP_CLIENT_H
#define NAGARE_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

/* Largest response body accepted: ten 256 KiB SQS messages plus JSON overhead. */
#define HTTP_CLIENT_MAX_BODY (8u << 20)
/* Largest header block kept (Lambda's X-Amz-Log-Result is 4 KB of log, base64). */
#define HTTP_CLIENT_MAX_HEADERS (64u << 10)

typedef struct http_conn http_conn_t;

typedef struct http_client_header {
    const char *name;
    const char *value;
} http_client_header_t;

typedef struct http_response {
    int status;       /* HTTP status, or a negative libuv error code (no response) */
    const char *body; /* NUL-terminated; valid only during the callback */
    size_t body_len;
    uint64_t sent_ns;    /* uv_hrtime() when the request was queued */
    const char *headers; /* "name: value\n" per header, as received; valid during the callback */
    size_t headers_len;
} http_response_t;

/* Copies the value of the first header called name (any case) into out (cap bytes, NUL
 * terminated). 0, or -1 when it is absent or longer than cap - 1. */
int http_response_header(const http_response_t *res, const char *name, char *out, size_t cap);

/* Called once per request, in request order. arg is the request's argument. */
typedef void (*http_response_cb)(http_conn_t *conn, const http_response_t *res, void *arg);
typedef void (*http_conn_close_cb)(http_conn_t *conn);

/* Creates a connection object for addr (copied) on loop; no I/O happens until
 * the first request. Every response is delivered to cb with the request's
 * argument. The caller owns the result and releases it with http_conn_close. */
http_conn_t *http_conn_new(uv_loop_t *loop, const struct sockaddr *addr, http_response_cb cb);

/* Queues a request: the request line, then headers (the caller supplies Host
 * and the rest), then Content-Length when body is not NULL, then the body.
 * Bytes are copied; arg comes back in the response callback. Connects first
 * when not connected. Returns 0, or a negative libuv code (nothing queued,
 * no callback) when the connection is closing or the connect fails at once. */
int http_conn_request(http_conn_t *conn, const char *method, const char *target,
                      const http_client_header_t *headers, size_t n_headers, const void *body,
                      size_t body_len, void *arg);

/* Number of requests sent whose response has not arrived yet. */
size_t http_conn_pending(const http_conn_t *conn);

/* Closes the connection: outstanding requests complete with UV_ECANCELED,
 * then close_cb (may be NULL) runs from the loop and the object is freed.
 * Safe to call from within a response callback. */
void http_conn_close(http_conn_t *conn, http_conn_close_cb close_cb);

/* Sets and gets a caller pointer carried by the connection. */
void http_conn_set_data(http_conn_t *conn, void *data);
void *http_conn_data(const http_conn_t *conn);

/* Parses "http://host[:port][/...]" and resolves host (numeric or by name,
 * blocking) into *addr. Writes "host[:port]" as it appeared, for the Host
 * header, into hostport. 0 or -1 (unsupported scheme, bad URL, unresolved). */
int http_url_resolve(const char *url, struct sockaddr_storage *addr, char *hostport,
                     size_t hostport_len);

#endif
