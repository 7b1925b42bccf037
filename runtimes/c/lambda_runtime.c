/*
 * lambda_runtime — see lambda_runtime.h. Requests are written whole with
 * write(); the response is read into one growing buffer and fed to http-parser,
 * which finds the status, the headers we keep (the Lambda-Runtime-* ones) and
 * the body. The connection is kept alive; a failed exchange reconnects once.
 */
#include "lambda_runtime.h"

#include <errno.h>
#include <http_parser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define BASE "/2018-06-01/runtime"

enum { HDR_ID, HDR_DEADLINE, HDR_ARN, HDR_TRACE, HDR_CLIENT, HDR_COGNITO, HDR_N };

static const char *const kept_headers[HDR_N] = {
    "Lambda-Runtime-Aws-Request-Id",       "Lambda-Runtime-Deadline-Ms",
    "Lambda-Runtime-Invoked-Function-Arn", "Lambda-Runtime-Trace-Id",
    "Lambda-Runtime-Client-Context",       "Lambda-Runtime-Cognito-Identity",
};

struct lambda_rt {
    char host[256], port[16];
    int fd;
    http_parser parser;
    int status;
    bool done;
    int cur; /* the kept header being read, or -1 */
    bool in_value;
    char *hdr[HDR_N];
    char *body;
    size_t body_len, body_cap;
    char field[64];
    size_t field_len;
};

static void *xrealloc_or_die(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fputs("lambda_runtime: out of memory\n", stderr);
        abort();
    }
    return q;
}

static int rt_connect(lambda_rt_t *rt)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(rt->host, rt->port, &hints, &ai) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    rt->fd = fd;
    return 0;
}

static void rt_disconnect(lambda_rt_t *rt)
{
    if (rt->fd >= 0)
        close(rt->fd);
    rt->fd = -1;
}

lambda_rt_t *lambda_rt_open(void)
{
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    const char *colon = api ? strrchr(api, ':') : NULL;
    if (!colon || (size_t)(colon - api) >= sizeof(((lambda_rt_t *)0)->host))
        return NULL;
    lambda_rt_t *rt = calloc(1, sizeof(*rt));
    if (!rt)
        return NULL;
    snprintf(rt->host, sizeof(rt->host), "%.*s", (int)(colon - api), api);
    snprintf(rt->port, sizeof(rt->port), "%s", colon + 1);
    rt->fd = -1;
    if (rt_connect(rt) != 0) {
        free(rt);
        return NULL;
    }
    return rt;
}

void lambda_rt_close(lambda_rt_t *rt)
{
    if (!rt)
        return;
    rt_disconnect(rt);
    for (int i = 0; i < HDR_N; i++)
        free(rt->hdr[i]);
    free(rt->body);
    free(rt);
}

/* ---- response parsing ---------------------------------------------------------------------- */

static lambda_rt_t *rt_of(http_parser *p)
{
    return p->data;
}

static void append(char **s, const char *at, size_t len)
{
    size_t old = *s ? strlen(*s) : 0;
    *s = xrealloc_or_die(*s, old + len + 1);
    memcpy(*s + old, at, len);
    (*s)[old + len] = 0;
}

static int on_field(http_parser *p, const char *at, size_t len)
{
    lambda_rt_t *rt = rt_of(p);
    if (rt->in_value) {
        rt->in_value = false;
        rt->field_len = 0;
    }
    size_t room = sizeof(rt->field) - 1 - rt->field_len;
    size_t n = len < room ? len : room;
    memcpy(rt->field + rt->field_len, at, n);
    rt->field_len += n;
    rt->field[rt->field_len] = 0;
    return 0;
}

static int on_value(http_parser *p, const char *at, size_t len)
{
    lambda_rt_t *rt = rt_of(p);
    if (!rt->in_value) {
        rt->in_value = true;
        rt->cur = -1;
        for (int i = 0; i < HDR_N; i++)
            if (strcasecmp(rt->field, kept_headers[i]) == 0) {
                rt->cur = i;
                free(rt->hdr[i]);
                rt->hdr[i] = NULL;
                append(&rt->hdr[i], "", 0);
            }
    }
    if (rt->cur >= 0)
        append(&rt->hdr[rt->cur], at, len);
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    rt_of(p)->status = (int)p->status_code;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    lambda_rt_t *rt = rt_of(p);
    if (rt->body_len + len + 1 > rt->body_cap) {
        rt->body_cap = (rt->body_len + len + 1) * 2;
        rt->body = xrealloc_or_die(rt->body, rt->body_cap);
    }
    memcpy(rt->body + rt->body_len, at, len);
    rt->body_len += len;
    rt->body[rt->body_len] = 0;
    return 0;
}

static int on_complete(http_parser *p)
{
    rt_of(p)->done = true;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_header_field = on_field,
    .on_header_value = on_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_complete,
};

static int read_response(lambda_rt_t *rt)
{
    http_parser_init(&rt->parser, HTTP_RESPONSE);
    rt->parser.data = rt;
    rt->done = rt->in_value = false;
    rt->status = 0;
    rt->field_len = 0;
    rt->body_len = 0;
    for (int i = 0; i < HDR_N; i++) {
        free(rt->hdr[i]);
        rt->hdr[i] = NULL;
    }
    char buf[65536];
    while (!rt->done) {
        ssize_t n = read(rt->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        size_t used = http_parser_execute(&rt->parser, &settings, buf, (size_t)n);
        if (!rt->done && used != (size_t)n)
            return -1;
    }
    if (!rt->body) {
        rt->body = xrealloc_or_die(NULL, 1);
        rt->body_cap = 1;
    }
    rt->body[rt->body_len] = 0;
    return http_should_keep_alive(&rt->parser) ? 0 : 1;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

/* One exchange: 0 with rt->status and the body read, or -1. Reconnects once if the kept
 * connection turns out to be closed. */
static int exchange(lambda_rt_t *rt, const char *method, const char *path, const char *extra,
                    const void *body, size_t len)
{
    char head[1024];
    int hn = snprintf(head, sizeof(head),
                      "%s " BASE "%s HTTP/1.1\r\nHost: %s:%s\r\n%sContent-Length: %zu\r\n\r\n",
                      method, path, rt->host, rt->port, extra ? extra : "", len);
    if (hn < 0 || (size_t)hn >= sizeof(head))
        return -1;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (rt->fd < 0 && rt_connect(rt) != 0)
            return -1;
        int rc = -1;
        if (write_all(rt->fd, head, (size_t)hn) == 0 && (!len || write_all(rt->fd, body, len) == 0))
            rc = read_response(rt);
        if (rc >= 0) {
            if (rc == 1)
                rt_disconnect(rt);
            return 0;
        }
        rt_disconnect(rt);
    }
    return -1;
}

/* ---- the API ------------------------------------------------------------------------------- */

int lambda_rt_next(lambda_rt_t *rt, lambda_invocation_t *inv)
{
    if (exchange(rt, "GET", "/invocation/next", NULL, NULL, 0) != 0 || rt->status != 200 ||
        !rt->hdr[HDR_ID])
        return -1;
    for (int i = 0; i < HDR_N; i++)
        if (!rt->hdr[i])
            append(&rt->hdr[i], "", 0);
    inv->request_id = rt->hdr[HDR_ID];
    inv->deadline_ms = strtoll(rt->hdr[HDR_DEADLINE], NULL, 10);
    inv->function_arn = rt->hdr[HDR_ARN];
    inv->trace_id = rt->hdr[HDR_TRACE];
    inv->client_context = rt->hdr[HDR_CLIENT];
    inv->cognito_identity = rt->hdr[HDR_COGNITO];
    inv->payload = rt->body;
    inv->payload_len = rt->body_len;
    if (inv->trace_id[0])
        setenv("_X_AMZN_TRACE_ID", inv->trace_id, 1);
    return 0;
}

int lambda_rt_respond(lambda_rt_t *rt, const char *request_id, const void *body, size_t len)
{
    char path[256];
    snprintf(path, sizeof(path), "/invocation/%s/response", request_id);
    if (exchange(rt, "POST", path, "Content-Type: application/json\r\n", body, len) != 0)
        return -1;
    return rt->status == 202 ? 0 : -1;
}

/* Appends s to out as a JSON string's contents (out has room for 6 bytes per byte of s). */
static size_t json_escape(char *out, const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            n += (size_t)sprintf(out + n, "\\%c", c);
        else if (c < 0x20)
            n += (size_t)sprintf(out + n, "\\u%04x", c);
        else
            out[n++] = (char)c;
    }
    out[n] = 0;
    return n;
}

static int post_error(lambda_rt_t *rt, const char *path, const char *type, const char *message)
{
    size_t tl = strlen(type), ml = strlen(message);
    char *doc = malloc(6 * (tl + ml) + 64), extra[512];
    if (!doc)
        return -1;
    size_t n = (size_t)sprintf(doc, "{\"errorMessage\":\"");
    n += json_escape(doc + n, message);
    n += (size_t)sprintf(doc + n, "\",\"errorType\":\"");
    n += json_escape(doc + n, type);
    n += (size_t)sprintf(doc + n, "\",\"stackTrace\":[]}");
    snprintf(extra, sizeof(extra),
             "Content-Type: application/json\r\nLambda-Runtime-Function-Error-Type: %.256s\r\n",
             type);
    int rc = exchange(rt, "POST", path, extra, doc, n);
    free(doc);
    return rc == 0 && rt->status == 202 ? 0 : -1;
}

int lambda_rt_fail(lambda_rt_t *rt, const char *request_id, const char *error_type,
                   const char *message)
{
    char path[256];
    snprintf(path, sizeof(path), "/invocation/%s/error", request_id);
    return post_error(rt, path, error_type, message);
}

int lambda_rt_init_error(lambda_rt_t *rt, const char *error_type, const char *message)
{
    return post_error(rt, "/init/error", error_type, message);
}

int lambda_rt_run(lambda_handler_fn h, void *ud)
{
    lambda_rt_t *rt = lambda_rt_open();
    if (!rt) {
        fputs("lambda_runtime: AWS_LAMBDA_RUNTIME_API is unset or unreachable\n", stderr);
        return 1;
    }
    lambda_invocation_t inv;
    while (lambda_rt_next(rt, &inv) == 0) {
        char *out = NULL;
        size_t out_len = 0;
        char id[128];
        snprintf(id, sizeof(id), "%s", inv.request_id);
        if (h(ud, &inv, &out, &out_len) == 0)
            lambda_rt_respond(rt, id, out ? out : "null", out ? out_len : 4);
        else
            lambda_rt_fail(rt, id, "HandlerError", out ? out : "handler failed");
        free(out);
    }
    lambda_rt_close(rt);
    return 1;
}
