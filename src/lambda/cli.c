/*
 * cli — `nagare invoke`: one signed Invoke over HTTP, printed; see cli.h.
 *
 * The call runs on a private loop (one connection, one request, a timeout a little over
 * Lambda's longest function timeout). The payload argument is JSON text, `@FILE` for a
 * file's contents, or `-` for standard input; none means `{}`.
 */
#include "lambda/cli.h"

#include "aws/client.h"
#include "base/b64.h"
#include "base/buf.h"
#include "base/xalloc.h"
#include "lambda/function.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define CALL_TIMEOUT_MS  ((LAMBDA_TIMEOUT_MAX + 30) * 1000)
#define PAYLOAD_FILE_MAX (6u << 20) /* the synchronous payload limit */
#define HEADER_MAX       8192

enum { EXIT_FN_ERROR = 1, EXIT_USAGE = 2, EXIT_CALL = 3 };

typedef struct cli {
    const char *endpoint, *qualifier, *function;
    char key[256], secret[256];
    aws_client_t client;
    buf_t payload;
} cli_t;

typedef struct reply {
    int status;
    char *body;
    size_t len;
    char fn_error[128], log_result[HEADER_MAX], error_type[256];
} reply_t;

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

/* The signed Invoke; r->status is the HTTP status or a negative libuv code. */
static void invoke(cli_t *c, reply_t *r)
{
    buf_t path, query;
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
        {"Content-Type", 12, ct, strlen(ct)},
        {"X-Amz-Invocation-Type", 21, type, strlen(type)},
        {"X-Amz-Log-Type", 14, log, strlen(log)},
    };
    aws_client_header_t want[] = {
        {"X-Amz-Function-Error", r->fn_error, sizeof(r->fn_error)},
        {"X-Amz-Log-Result", r->log_result, sizeof(r->log_result)},
        {"X-Amzn-ErrorType", r->error_type, sizeof(r->error_type)},
    };
    aws_client_request_t rq = {"POST",
                               "lambda",
                               path.data,
                               query.len ? query.data : NULL,
                               sh,
                               sizeof(sh) / sizeof(sh[0]),
                               c->payload.data,
                               c->payload.len,
                               CALL_TIMEOUT_MS,
                               want,
                               sizeof(want) / sizeof(want[0])};
    r->status = aws_client_call(&c->client, &rq, &r->body, &r->len);
    buf_free(&path);
    buf_free(&query);
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
            c->client.region = optarg;
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
    c.client.region = env_or("AWS_REGION", env_or("AWS_DEFAULT_REGION", "us-east-1"));
    snprintf(c.key, sizeof(c.key), "test");
    snprintf(c.secret, sizeof(c.secret), "test");
    buf_init(&c.payload, PAYLOAD_FILE_MAX);
    if (parse(argc, argv, &c) < 0) {
        usage();
        goto out;
    }
    c.client.key = c.key;
    c.client.secret = c.secret;
    if (aws_client_init(&c.client, c.endpoint) < 0) {
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
