/*
 * client — one signed request on a private loop; see client.h.
 */
#include "aws/client.h"
#include "base/xalloc.h"
#include "http/client.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { EXTRA_MAX = 8 };

typedef struct reply {
    const aws_client_request_t *rq;
    int status;
    char *body;
    size_t len;
} reply_t;

static void on_response(http_conn_t *conn, const http_response_t *res, void *arg)
{
    reply_t *r = arg;
    if (res->status == UV_ECANCELED)
        return;
    r->status = res->status;
    r->body = xmalloc(res->body_len + 1);
    if (res->body_len)
        memcpy(r->body, res->body, res->body_len);
    r->body[res->body_len] = '\0';
    r->len = res->body_len;
    for (size_t i = 0; i < r->rq->n_want; i++)
        http_response_header(res, r->rq->want[i].name, r->rq->want[i].buf, r->rq->want[i].cap);
    http_conn_close(conn, NULL);
}

static void on_timeout(uv_timer_t *t)
{
    http_conn_close(t->data, NULL);
}

static int send_signed(const aws_client_t *c, http_conn_t *conn, reply_t *r)
{
    const aws_client_request_t *rq = r->rq;
    char date[17], auth[1024];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);
    if (rq->n_headers > EXTRA_MAX)
        return UV_EINVAL;
    sigv4_header_t sh[EXTRA_MAX + 3] = {
        {"Host", 4, c->host, strlen(c->host)},
        {"X-Amz-Date", 10, date, strlen(date)},
    };
    size_t n = 2;
    if (c->token)
        sh[n++] = (sigv4_header_t){"X-Amz-Security-Token", 20, c->token, strlen(c->token)};
    memcpy(&sh[n], rq->headers, rq->n_headers * sizeof(*sh));
    n += rq->n_headers;
    sigv4_request_t req = {
        rq->method, rq->path, strlen(rq->path), rq->query, rq->query ? strlen(rq->query) : 0,
        sh,         n,        rq->body,         rq->len};
    if (sigv4_sign(&req, c->key, c->secret, c->region, rq->service, date, NULL, auth,
                   sizeof(auth)) < 0)
        return UV_EINVAL;
    http_client_header_t h[EXTRA_MAX + 4];
    for (size_t i = 0; i < n; i++)
        h[i] = (http_client_header_t){sh[i].name, sh[i].value};
    h[n++] = (http_client_header_t){"Authorization", auth};
    size_t tlen = strlen(rq->path) + (rq->query ? strlen(rq->query) + 1 : 0) + 1;
    char *target = xmalloc(tlen);
    strcpy(target, rq->path);
    if (rq->query) {
        strcat(target, "?");
        strcat(target, rq->query);
    }
    int rc = http_conn_request(conn, rq->method, target, h, n, rq->body, rq->len, r);
    free(target);
    return rc;
}

int aws_client_init(aws_client_t *c, const char *endpoint)
{
    return http_url_resolve(endpoint, &c->addr, c->host, sizeof(c->host));
}

int aws_client_call(const aws_client_t *c, const aws_client_request_t *rq, char **body, size_t *len)
{
    uv_loop_t loop;
    uv_timer_t timer;
    reply_t r = {rq, UV_ETIMEDOUT, NULL, 0};
    for (size_t i = 0; i < rq->n_want; i++)
        rq->want[i].buf[0] = '\0';
    uv_loop_init(&loop);
    http_conn_t *conn = http_conn_new(&loop, (const struct sockaddr *)&c->addr, on_response);
    uv_timer_init(&loop, &timer);
    timer.data = conn;
    int rc = send_signed(c, conn, &r);
    if (rc < 0) {
        r.status = rc;
        http_conn_close(conn, NULL);
    } else {
        uv_timer_start(&timer, on_timeout, rq->timeout_ms, 0);
        uv_unref((uv_handle_t *)&timer);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    *body = r.body ? r.body : xstrdup("");
    *len = r.body ? r.len : 0;
    return r.status;
}
