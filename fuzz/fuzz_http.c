/*
 * fuzz_http — libFuzzer driver for the HTTP server's parsing glue.
 *
 * Each input is sent, as a client would, through one end of a socketpair whose
 * other end the server adopts (http_server_adopt), so it runs the real path:
 * reads, header and body limits (kept small here so they are reached), chunked
 * bodies, Expect, pipelining with answers given out of order, error responses
 * and the closing sequence. The first byte picks the write size, so requests
 * also arrive split at arbitrary points. After each input the connection must
 * be gone and no request left unanswered (else abort).
 */
#include "http/server.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_HELD 256

static uv_loop_t *loop;
static http_server_t *server;
static http_request_t *held[MAX_HELD];
static size_t n_held;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void answer(http_request_t *req)
{
    size_t sum = req->body_len + req->url_len + req->path_len + req->query_len;
    char body[64];

    for (size_t i = 0; i < req->n_headers; i++) {
        const http_header_t *h = &req->headers[i];
        for (size_t j = 0; j < h->name_len; j++)
            sum += (unsigned char)h->name[j];
        for (size_t j = 0; j < h->value_len; j++)
            sum += (unsigned char)h->value[j];
    }
    if (req->body[req->body_len] != '\0')
        abort();
    if (http_request_header(req, "host", NULL))
        sum++;
    int n = snprintf(body, sizeof body, "%s %zu", req->method, sum);
    http_header_t h = {"X-Sum", 5, body, (size_t)n};
    http_respond(req, 200, &h, 1, body, (size_t)n);
}

/* Answers odd requests at once and holds the others, answered later in reverse order. */
static void handler(http_request_t *req, void *ud)
{
    (void)ud;
    if (req->url_len % 2 || n_held == MAX_HELD)
        answer(req);
    else
        held[n_held++] = req;
}

static size_t body_limit(const http_request_t *req, void *ud)
{
    (void)ud;
    return req->path_len == 2 ? 0 : 512;
}

static void answer_held(void)
{
    while (n_held > 0)
        answer(held[--n_held]);
}

static void drain(int fd)
{
    char buf[4096];
    while (read(fd, buf, sizeof buf) > 0)
        ;
}

static void setup(void)
{
    http_server_config_t cfg = {.max_header_bytes = 1024, .body_limit_cb = body_limit};

    loop = uv_default_loop();
    if (http_server_new(loop, &cfg, handler, NULL, &server) < 0)
        abort();
}

/* One turn of the world: the server runs, the handler's held answers go out, the client
 * reads what it was sent. */
static void turn(int client)
{
    uv_run(loop, UV_RUN_NOWAIT);
    answer_held();
    drain(client);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int sv[2];

    if (!server)
        setup();
    if (size == 0)
        return 0;
    size_t step = (size_t)data[0] % 64 + 1;
    data++;
    size--;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
        abort();
    if (http_server_adopt(server, sv[0]) < 0)
        abort();
    for (size_t off = 0, spins = 0; off < size && spins < 100000; spins++) {
        size_t n = size - off < step ? size - off : step;
        ssize_t w = send(sv[1], data + off, n, MSG_NOSIGNAL);
        if (w > 0)
            off += (size_t)w;
        else if (w < 0 && http_server_connections(server) == 0)
            break; /* the server closed on an error: the rest is never read */
        turn(sv[1]);
    }
    shutdown(sv[1], SHUT_WR);
    for (int i = 0; i < 100000 && (http_server_connections(server) || n_held); i++)
        turn(sv[1]);
    if (http_server_connections(server) || n_held)
        abort(); /* a connection or a request that never finishes */
    close(sv[1]);
    return 0;
}
