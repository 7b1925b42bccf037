/*
 * cli — `nagare logs`: FilterLogEvents over HTTP, printed; see cli.h.
 *
 * Each call runs on a private loop (one connection, one request, a timeout).
 * Following works as the AWS CLI's `logs tail --follow`: ask again from the
 * newest timestamp seen, and skip the events of that millisecond already
 * printed (by eventId).
 */
#include "logs/cli.h"

#include "aws/client.h"
#include "base/xalloc.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define CALL_TIMEOUT_MS 10000
#define FOLLOW_MS       1000
#define SEEN_MAX        10000

typedef struct cli {
    const char *endpoint;
    aws_client_t client;
    char group[600];
    bool follow;
    int64_t last_ts;
    char **seen; /* eventIds printed at last_ts */
    size_t n_seen;
} cli_t;

/* One signed call; returns the HTTP status (negative: no response) and the
 * body (caller frees). */
static int call(cli_t *c, const char *op, const char *body, char **out)
{
    char target[64];
    snprintf(target, sizeof(target), "Logs_20140328.%s", op);
    const char *ct = "application/x-amz-json-1.1";
    sigv4_header_t sh[] = {
        {"Content-Type", 12, ct, strlen(ct)},
        {"X-Amz-Target", 12, target, strlen(target)},
    };
    aws_client_request_t rq = {"POST",       "logs",          "/",  NULL, sh, 2, body,
                               strlen(body), CALL_TIMEOUT_MS, NULL, 0};
    size_t len;
    return aws_client_call(&c->client, &rq, out, &len);
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
            c->client.region = optarg;
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
    c.client.region = env_or("AWS_REGION", env_or("AWS_DEFAULT_REGION", "us-east-1"));
    c.client.key = env_or("AWS_ACCESS_KEY_ID", "test");
    c.client.secret = env_or("AWS_SECRET_ACCESS_KEY", "test");
    c.client.token = getenv("AWS_SESSION_TOKEN");
    if (parse(argc, argv, &c) < 0) {
        usage();
        return 2;
    }
    if (aws_client_init(&c.client, c.endpoint) < 0) {
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
