/*
 * cli — `nagare logs`: FilterLogEvents over HTTP, printed; see cli.h.
 *
 * Each call runs on a private loop (one connection, one request, a timeout).
 * Following works as the AWS CLI's `logs tail --follow`: ask again from the
 * newest timestamp seen, and skip the events of that millisecond already
 * printed (by eventId).
 */
#include "logs/cli.h"

#include "aws/sigv4.h"
#include "base/xalloc.h"
#include "http/client.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CALL_TIMEOUT_MS 10000
#define FOLLOW_MS       1000
#define SEEN_MAX        10000

typedef struct cli {
    const char *endpoint, *region, *key, *secret, *token;
    struct sockaddr_storage addr;
    char host[256];
    char group[600];
    bool follow;
    int64_t last_ts;
    char **seen; /* eventIds printed at last_ts */
    size_t n_seen;
} cli_t;

typedef struct reply {
    int status;
    char *body;
} reply_t;

static void on_response(http_conn_t *conn, const http_response_t *res, void *arg)
{
    reply_t *r = arg;
    if (res->status == UV_ECANCELED)
        return;
    r->status = res->status;
    r->body = xstrndup(res->body, res->body_len);
    http_conn_close(conn, NULL);
}

static void on_timeout(uv_timer_t *t)
{
    http_conn_close(t->data, NULL);
}

static int send_call(cli_t *c, http_conn_t *conn, const char *op, const char *body, reply_t *r)
{
    char date[17], target[64], auth[1024];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(target, sizeof(target), "Logs_20140328.%s", op);
    const char *ct = "application/x-amz-json-1.1";
    sigv4_header_t sh[5] = {
        {"Host", 4, c->host, strlen(c->host)},
        {"X-Amz-Date", 10, date, strlen(date)},
        {"Content-Type", 12, ct, strlen(ct)},
        {"X-Amz-Target", 12, target, strlen(target)},
    };
    size_t n = 4;
    if (c->token)
        sh[n++] = (sigv4_header_t){"X-Amz-Security-Token", 20, c->token, strlen(c->token)};
    sigv4_request_t req = {"POST", "/", 1, NULL, 0, sh, n, body, strlen(body)};
    if (sigv4_sign(&req, c->key, c->secret, c->region, "logs", date, NULL, auth, sizeof(auth)) < 0)
        return UV_EINVAL;
    http_client_header_t h[6];
    for (size_t i = 0; i < n; i++)
        h[i] = (http_client_header_t){sh[i].name, sh[i].value};
    h[n++] = (http_client_header_t){"Authorization", auth};
    return http_conn_request(conn, "POST", "/", h, n, body, strlen(body), r);
}

/* One signed call; returns the HTTP status (negative: no response) and the
 * body (caller frees). */
static int call(cli_t *c, const char *op, const char *body, char **out)
{
    uv_loop_t loop;
    uv_timer_t timer;
    reply_t r = {UV_ETIMEDOUT, NULL};
    uv_loop_init(&loop);
    http_conn_t *conn = http_conn_new(&loop, (const struct sockaddr *)&c->addr, on_response);
    uv_timer_init(&loop, &timer);
    timer.data = conn;
    int rc = send_call(c, conn, op, body, &r);
    if (rc < 0) {
        r.status = rc;
        http_conn_close(conn, NULL);
    } else {
        uv_timer_start(&timer, on_timeout, CALL_TIMEOUT_MS, 0);
        uv_unref((uv_handle_t *)&timer);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    *out = r.body ? r.body : xstrdup("");
    return r.status;
}

static bool seen(const cli_t *c, const char *id)
{
    for (size_t i = 0; i < c->n_seen; i++)
        if (!strcmp(c->seen[i], id))
            return true;
    return false;
}

static void seen_reset(cli_t *c)
{
    for (size_t i = 0; i < c->n_seen; i++)
        free(c->seen[i]);
    c->n_seen = 0;
}

/* Prints one event unless already printed; remembers it. */
static void print_event(cli_t *c, json_t *ev)
{
    const char *id = json_string_value(json_object_get(ev, "eventId"));
    const char *msg = json_string_value(json_object_get(ev, "message"));
    int64_t ts = json_integer_value(json_object_get(ev, "timestamp"));
    if (!id || !msg || (ts == c->last_ts && seen(c, id)))
        return;
    if (ts > c->last_ts) {
        seen_reset(c);
        c->last_ts = ts;
    }
    if (ts == c->last_ts && c->n_seen < SEEN_MAX)
        c->seen[c->n_seen++] = xstrdup(id);
    size_t len = strlen(msg);
    fputs(msg, stdout);
    if (!len || msg[len - 1] != '\n')
        putchar('\n');
}

/* One pass: every page of events from last_ts on. 0, 1 (no such group yet),
 * or -1 (reported). */
static int pass(cli_t *c)
{
    char *token = NULL;
    int rc = 0;
    do {
        json_t *req =
            json_pack("{s:s, s:I}", "logGroupName", c->group, "startTime", (json_int_t)c->last_ts);
        if (token)
            json_object_set_new(req, "nextToken", json_string(token));
        char *body = json_dumps(req, JSON_COMPACT), *resp;
        json_decref(req);
        free(token);
        token = NULL;
        int status = call(c, "FilterLogEvents", body, &resp);
        free(body);
        json_t *doc = json_loads(resp, 0, NULL);
        const char *type = json_string_value(json_object_get(doc, "__type"));
        if (status == 400 && type && strstr(type, "ResourceNotFoundException")) {
            rc = 1;
        } else if (status != 200) {
            fprintf(stderr, "nagare logs: %s: %s\n", c->endpoint,
                    status < 0 ? uv_strerror(status) : resp);
            rc = -1;
        } else {
            size_t i;
            json_t *ev;
            json_array_foreach(json_object_get(doc, "events"), i, ev) print_event(c, ev);
            const char *next = json_string_value(json_object_get(doc, "nextToken"));
            token = next ? xstrdup(next) : NULL;
        }
        json_decref(doc);
        free(resp);
    } while (token && rc == 0);
    fflush(stdout);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: nagare logs <function> [-f|--follow] [--endpoint URL] "
                    "[--region REGION]\n");
}

static int parse(int argc, char **argv, cli_t *c)
{
    static const struct option longs[] = {
        {"follow", no_argument, 0, 'f'},
        {"endpoint", required_argument, 0, 'e'},
        {"region", required_argument, 0, 'r'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "f", longs, NULL)) != -1) {
        if (o == 'f')
            c->follow = true;
        else if (o == 'e')
            c->endpoint = optarg;
        else if (o == 'r')
            c->region = optarg;
        else
            return -1;
    }
    if (optind != argc - 1)
        return -1;
    snprintf(c->group, sizeof(c->group), "/aws/lambda/%s", argv[optind]);
    return 0;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

int logs_cli_main(int argc, char **argv)
{
    cli_t c = {0};
    c.endpoint = env_or("AWS_ENDPOINT_URL", "http://127.0.0.1:4566");
    c.region = env_or("AWS_REGION", env_or("AWS_DEFAULT_REGION", "us-east-1"));
    c.key = env_or("AWS_ACCESS_KEY_ID", "test");
    c.secret = env_or("AWS_SECRET_ACCESS_KEY", "test");
    c.token = getenv("AWS_SESSION_TOKEN");
    if (parse(argc, argv, &c) < 0) {
        usage();
        return 2;
    }
    if (http_url_resolve(c.endpoint, &c.addr, c.host, sizeof(c.host)) < 0) {
        fprintf(stderr, "nagare logs: cannot use endpoint %s (http://host:port expected)\n",
                c.endpoint);
        return 2;
    }
    c.seen = xcalloc(SEEN_MAX, sizeof(*c.seen));
    int rc = pass(&c);
    if (rc == 1 && !c.follow)
        fprintf(stderr, "nagare logs: no log group %s (the function has not logged yet)\n",
                c.group);
    while (c.follow && rc >= 0) {
        usleep(FOLLOW_MS * 1000);
        rc = pass(&c);
    }
    seen_reset(&c);
    free(c.seen);
    return rc < 0 ? 1 : 0;
}
