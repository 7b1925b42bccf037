/*
 * client — one signed AWS request from a command-line tool (`nagare invoke`,
 * `nagare logs`): its own loop, one connection, SigV4 over the given headers
 * plus Host, X-Amz-Date and (with a session token) X-Amz-Security-Token, and a
 * timeout. Not for servers or load: `nagare bench` keeps its connections.
 */
#ifndef NAGARE_AWS_CLIENT_H
#define NAGARE_AWS_CLIENT_H
#include "aws/sigv4.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct aws_client {
    struct sockaddr_storage addr;
    char host[256];                            /* host:port, the Host header */
    const char *region, *key, *secret, *token; /* token NULL: none */
} aws_client_t;

/* A response header the caller wants, copied into buf (cap bytes; "" when absent). */
typedef struct aws_client_header {
    const char *name;
    char *buf;
    size_t cap;
} aws_client_header_t;

typedef struct aws_client_request {
    const char *method, *service;
    const char *path;              /* URI-encoded */
    const char *query;             /* canonical (sorted, encoded), or NULL */
    const sigv4_header_t *headers; /* signed, besides those the client adds (at most 8) */
    size_t n_headers;
    const void *body;
    size_t len;
    uint64_t timeout_ms;
    aws_client_header_t *want; /* response headers to copy */
    size_t n_want;
} aws_client_request_t;

/* Resolves endpoint (http://host:port) into c; -1 when it is not one. */
int aws_client_init(aws_client_t *c, const char *endpoint);
/* Sends rq and waits: the HTTP status, or a negative libuv code (UV_ETIMEDOUT, a refused
 * connection, UV_EINVAL when it cannot be signed). *body (NUL-terminated, caller frees, ""
 * without a response) and *len. */
int aws_client_call(const aws_client_t *c, const aws_client_request_t *rq, char **body,
                    size_t *len);

#endif
