/*
 * cli — `nagare invoke`: one signed Invoke over HTTP, printed; see cli.h.
 *
 * The call runs on a private loop (one connection, one request, a timeout a little over
 * Lambda's longest function timeout). The payload argument is JSON text, `@FILE` for a
 * file's contents, or `-` for standard input; none means `{}`.
 */
#include "lambda/cli.h"

#include "aws/sigv4.h"
#include "base/b64.h"
#include "base/buf.h"
#include "base/xalloc.h"
#include "http/client.h"
#include "lambda/function.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CALL_TIMEOUT_MS  ((LAMBDA_TIMEOUT_MAX + 30) * 1000)
#define PAYLOAD_FILE_MAX (6u << 20) /* the synchronous payload limit */
#define HEADER_MAX       8192

enum { EXIT_FN_ERROR = 1, EXIT_USAGE = 2, EXIT_CALL = 3 };

typedef struct cli {
    const char *endpoint, *region, *qualifier, *function;
    char key[256], secret[256];
    struct sockaddr_storage addr;
    char host[256];
    buf_t payload;
} cli_t;

typedef struct reply {
    int status;
    char *body;
    size_t len;
    char fn_error[128], log_result[HEADER_MAX], error_type[256];
} reply_t;

static void on_response(http_conn_t *conn, const http_response_t *res, void *arg)
{
    reply_t *r = arg;
    if (res->status == UV_ECANCELED)
        return;
    r->status = res->status;
    r->body = xmemdup(res->body, res->body_len + 1);
    r->len = res->body_len;
    http_response_header(res, "X-Amz-Function-Error", r->fn_error, sizeof(r->fn_error));
    http_response_header(res, "X-Amz-Log-Result", r->log_result, sizeof(r->log_result));
    http_response_header(res, "X-Amzn-ErrorType", r->error_type, sizeof(r->error_type));
    http_conn_close(conn, NULL);
}

static void on_timeout(uv_timer_t *t)
{
    http_conn_close(t->data, NULL);
}

/* RFC 3986 unreserved characters stay, everything else is %XX (an ARN's ':', "$LATEST"). */
static void uri_encode(buf_t *b, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~')
            buf_putc(b, (char)ch);
        else
            buf_printf(b, "%%%02X", ch);
    }
}

static int send_invoke(cli_t *c, http_conn_t *conn, reply_t *r)
{
    char date[17], auth[1024];
    time_t now = time(NULL);
    struct tm tm;
    buf_t path, query;
    int rc = UV_EINVAL;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);
    buf_init(&path, 0);
    buf_init(&query, 0);
    buf_puts(&path, "/2015-03-31/functions/");
    uri_encode(&path, c->function);
    buf_puts(&path, "/invocations");
    if (c->qualifier) {
        buf_puts(&query, "Qualifier=");
        uri_encode(&query, c->qualifier);
    }
    const char *ct = "application/json", *type = "RequestResponse", *log = "Tail";
    sigv4_header_t sh[] = {
        {"Host", 4, c->host, strlen(c->host)},    {"X-Amz-Date", 10, date, strlen(date)},
        {"Content-Type", 12, ct, strlen(ct)},     {"X-Amz-Invocation-Type", 21, type, strlen(type)},
        {"X-Amz-Log-Type", 14, log, strlen(log)},
    };
    size_t n = sizeof(sh) / sizeof(sh[0]);
    sigv4_request_t req = {"POST",        path.data, path.len, query.len ? query.data : NULL,
                           query.len,     sh,        n,        c->payload.data,
                           c->payload.len};
    if (sigv4_sign(&req, c->key, c->secret, c->region, "lambda", date, NULL, auth, sizeof(auth)) <
        0)
        goto out;
    http_client_header_t h[8];
    for (size_t i = 0; i < n; i++)
        h[i] = (http_client_header_t){sh[i].name, sh[i].value};
    h[n++] = (http_client_header_t){"Authorization", auth};
    if (query.len) {
        buf_putc(&path, '?');
        buf_append(&path, query.data, query.len);
    }
    rc = http_conn_request(conn, "POST", path.data, h, n, c->payload.data, c->payload.len, r);
out:
    buf_free(&path);
    buf_free(&query);
    return rc;
}

/* The signed Invoke; r->status is the HTTP status or a negative libuv code. */
static void invoke(cli_t *c, reply_t *r)
{
    uv_loop_t loop;
    uv_timer_t timer;
    r->status = UV_ETIMEDOUT;
    uv_loop_init(&loop);
    http_conn_t *conn = http_conn_new(&loop, (const struct sockaddr *)&c->addr, on_response);
    uv_timer_init(&loop, &timer);
    timer.data = conn;
    int rc = send_invoke(c, conn, r);
    if (rc < 0) {
        r->status = rc;
        http_conn_close(conn, NULL);
    } else {
        uv_timer_start(&timer, on_timeout, CALL_TIMEOUT_MS, 0);
        uv_unref((uv_handle_t *)&timer);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

/* The payload argument: JSON text, @FILE, or - (stdin). 0 or -1 (reported). */
static int payload_read(cli_t *c, const char *arg)
{
    FILE *f = NULL;
    char chunk[65536];
    size_t n;
    int rc = 0;
    if (arg[0] != '@' && strcmp(arg, "-")) {
        buf_puts(&c->payload, arg);
        return 0;
    }
    f = arg[0] == '@' ? fopen(arg + 1, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "nagare invoke: cannot read %s\n", arg + 1);
        return -1;
    }
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = buf_append(&c->payload, chunk, n);
    if (rc < 0)
        fprintf(stderr, "nagare invoke: the payload is over %u bytes\n", PAYLOAD_FILE_MAX);
    if (f != stdin)
        fclose(f);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: nagare invoke <function> [payload | @file | -] [--endpoint URL] "
                    "[--region R]\n"
                    "                     [--qualifier VERSION|ALIAS] [--key ID:SECRET]\n");
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

static int parse_key(cli_t *c, const char *arg)
{
    const char *colon = strchr(arg, ':');
    if (!colon || colon == arg || !colon[1] || (size_t)(colon - arg) >= sizeof(c->key) ||
        strlen(colon + 1) >= sizeof(c->secret))
        return -1;
    snprintf(c->key, sizeof(c->key), "%.*s", (int)(colon - arg), arg);
    snprintf(c->secret, sizeof(c->secret), "%s", colon + 1);
    return 0;
}

static int parse(int argc, char **argv, cli_t *c)
{
    static const struct option longs[] = {
        {"endpoint", required_argument, 0, 'e'},
        {"region", required_argument, 0, 'r'},
        {"qualifier", required_argument, 0, 'q'},
        {"key", required_argument, 0, 'k'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (o == 'e')
            c->endpoint = optarg;
        else if (o == 'r')
            c->region = optarg;
        else if (o == 'q')
            c->qualifier = optarg;
        else if (o != 'k' || parse_key(c, optarg) < 0)
            return -1;
    }
    if (optind != argc - 1 && optind != argc - 2)
        return -1;
    c->function = argv[optind];
    if (optind == argc - 2)
        return payload_read(c, argv[optind + 1]);
    buf_puts(&c->payload, "{}");
    return 0;
}

/* Prints what came back; returns the exit status. */
static int report(const reply_t *r)
{
    if (r->log_result[0]) {
        size_t len = strlen(r->log_result), n = 0;
        char *log = xmalloc(b64_decoded_max(len) + 1);
        if (b64_decode(r->log_result, len, (uint8_t *)log, &n) == 0)
            fwrite(log, 1, n, stderr);
        free(log);
    }
    if (r->status < 0) {
        fprintf(stderr, "nagare invoke: %s\n", uv_strerror(r->status));
        return EXIT_CALL;
    }
    if (r->status >= 300) {
        fprintf(stderr, "nagare invoke: %s (HTTP %d): %.*s\n",
                r->error_type[0] ? r->error_type : "error", r->status, (int)r->len,
                r->body ? r->body : "");
        return EXIT_CALL;
    }
    fwrite(r->body, 1, r->len, stdout);
    if (r->len && r->body[r->len - 1] != '\n')
        putchar('\n');
    fflush(stdout);
    return r->fn_error[0] ? EXIT_FN_ERROR : 0;
}

int lambda_cli_main(int argc, char **argv)
{
    cli_t c = {0};
    reply_t r = {0};
    int rc = EXIT_USAGE;
    c.endpoint = env_or("AWS_ENDPOINT_URL", "http://127.0.0.1:4566");
    c.region = env_or("AWS_REGION", env_or("AWS_DEFAULT_REGION", "us-east-1"));
    snprintf(c.key, sizeof(c.key), "test");
    snprintf(c.secret, sizeof(c.secret), "test");
    buf_init(&c.payload, PAYLOAD_FILE_MAX);
    if (parse(argc, argv, &c) < 0) {
        usage();
        goto out;
    }
    if (http_url_resolve(c.endpoint, &c.addr, c.host, sizeof(c.host)) < 0) {
        fprintf(stderr, "nagare invoke: cannot use endpoint %s (http://host:port expected)\n",
                c.endpoint);
        goto out;
    }
    invoke(&c, &r);
    rc = report(&r);
out:
    free(r.body);
    buf_free(&c.payload);
    return rc;
}
