/*
 * main — the nagare command line: serve, invoke, logs, bench, version.
 *
 * `nagare serve` wires the parts together on one libuv loop: the store (its
 * own thread), the services, the gateway (the one request path) and the HTTP
 * server; SIGINT/SIGTERM shut down in order: stop accepting, answer parked
 * long polls, let in-flight requests finish, commit, close.
 */
#include "aws/gateway.h"
#include "base/clock.h"
#include "base/log.h"
#include "bench/bench.h"
#include "http/server.h"
#include "iam/authz.h"
#include "iam/identity.h"
#include "iam/bind.h"
#include "iam/service.h"
#include "iam/sts.h"
#include "lambda/cli.h"
#include "lambda/exec.h"
#include "lambda/service.h"
#include "logs/cli.h"
#include "logs/service.h"
#include "sqs/service.h"
#include "store/store.h"

#include <getopt.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define NAGARE_VERSION "0.1.0"

typedef struct serve_opts {
    const char *host;
    int port;
    const char *data_dir; /* NULL = in memory */
    const char *account;
    char root_key[256];
    char root_secret[256];
    bool iam;
    const char *account_keys[16]; /* --account-key ACCOUNT:KEYID:SECRET */
    size_t n_account_keys;
    const char *runtimes_dir; /* --runtimes-dir; default: runtimes/ beside the binary's build/ */
    int max_concurrency;      /* --max-concurrency: the account's concurrent executions */
} serve_opts_t;

typedef struct server {
    uv_loop_t *loop;
    serve_opts_t opts;
    store_t *store;
    iam_identity_t *ids;
    iam_authz_t *authz;
    iam_sts_t *sts;
    iam_binding_t *binding;
    sqs_service_t *sqs;
    iam_service_t *iam;
    lambda_service_t *lambda;
    lambda_exec_t *exec;
    logs_service_t *logs;
    aws_gateway_t *gw;
    http_server_t *http;
    uv_signal_t sigint, sigterm;
    bool stopping;
} server_t;

static void usage(FILE *f)
{
    fprintf(f, "usage: nagare serve [--host 127.0.0.1] [--port 4566] [--data-dir DIR | "
               "--in-memory]\n"
               "                    [--account 000000000000] [--root-key ID:SECRET] "
               "[--no-iam]\n"
               "                    [--account-key ACCOUNT:KEYID:SECRET]... [--runtimes-dir DIR]\n"
               "                    [--max-concurrency 1000]\n"
               "       nagare invoke <function> [payload | @file | -] [--endpoint URL] "
               "[--region R]\n"
               "                     [--qualifier Q] [--key ID:SECRET]\n"
               "       nagare logs <function> [-f] [--endpoint URL] [--region REGION]\n"
               "       nagare bench --help\n"
               "       nagare version\n");
}

static int parse_serve(int argc, char **argv, serve_opts_t *o)
{
    static const struct option longs[] = {
        {"host", required_argument, 0, 'h'},
        {"port", required_argument, 0, 'p'},
        {"data-dir", required_argument, 0, 'd'},
        {"in-memory", no_argument, 0, 'm'},
        {"account", required_argument, 0, 'a'},
        {"root-key", required_argument, 0, 'k'},
        {"no-iam", no_argument, 0, 'n'},
        {"account-key", required_argument, 0, 'K'},
        {"runtimes-dir", required_argument, 0, 'R'},
        {"max-concurrency", required_argument, 0, 'C'},
        {"help", no_argument, 0, '?'},
        {0, 0, 0, 0},
    };
    bool in_memory = false;
    int c;
    *o = (serve_opts_t){.host = "127.0.0.1",
                        .port = 4566,
                        .data_dir = "./.nagare",
                        .account = "000000000000",
                        .root_key = "test",
                        .root_secret = "test",
                        .iam = true};
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        const char *colon;
        switch (c) {
        case 'h':
            o->host = optarg;
            break;
        case 'p':
            o->port = atoi(optarg);
            break;
        case 'd':
            o->data_dir = optarg;
            break;
        case 'm':
            in_memory = true;
            break;
        case 'a':
            o->account = optarg;
            break;
        case 'n':
            o->iam = false;
            break;
        case 'R':
            o->runtimes_dir = optarg;
            break;
        case 'C':
            o->max_concurrency = atoi(optarg);
            if (o->max_concurrency < 1) {
                fprintf(stderr, "nagare: --max-concurrency must be at least 1\n");
                return -1;
            }
            break;
        case 'K':
            if (o->n_account_keys == sizeof(o->account_keys) / sizeof(o->account_keys[0])) {
                fprintf(stderr, "nagare: too many --account-key\n");
                return -1;
            }
            o->account_keys[o->n_account_keys++] = optarg;
            break;
        case 'k':
            colon = strchr(optarg, ':');
            if (!colon || colon == optarg || !colon[1]) {
                fprintf(stderr, "nagare: --root-key takes ID:SECRET\n");
                return -1;
            }
            snprintf(o->root_key, sizeof(o->root_key), "%.*s", (int)(colon - optarg), optarg);
            snprintf(o->root_secret, sizeof(o->root_secret), "%s", colon + 1);
            break;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (o->port < 0 || o->port > 65535) {
        fprintf(stderr, "nagare: --port must be 0-65535\n");
        return -1;
    }
    if (in_memory)
        o->data_dir = NULL;
    return 0;
}

static void http_closed_cb(void *ud)
{
    server_t *s = ud;
    s->http = NULL;
    lambda_service_stop(s->lambda); /* before the queues its destinations use go */
    sqs_service_free(s->sqs, NULL, NULL);
    s->sqs = NULL;
    if (s->exec)
        lambda_exec_shutdown(s->exec, NULL, NULL); /* instances stopped, handles closed */
    s->exec = NULL;
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
}

static void signal_cb(uv_signal_t *h, int signum)
{
    server_t *s = h->data;
    if (s->stopping) {
        log_warn("second signal %d: exiting at once", signum);
        exit(1);
    }
    s->stopping = true;
    log_info("shutting down (signal %d)", signum);
    sqs_service_drain(s->sqs);
    http_server_shutdown(s->http, http_closed_cb, s);
}

/* Thousands of client connections need as many descriptors: take the hard
 * limit, as servers do. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* --account-key ACCOUNT:KEYID:SECRET: the root of another account. */
static int account_keys_add(server_t *s)
{
    for (size_t i = 0; i < s->opts.n_account_keys; i++) {
        char account[32], key[256];
        const char *spec = s->opts.account_keys[i];
        const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2 && c1 - spec < (long)sizeof(account) && c2 - c1 - 1 < (long)sizeof(key)) {
            snprintf(account, sizeof(account), "%.*s", (int)(c1 - spec), spec);
            snprintf(key, sizeof(key), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
            if (c2[1] && iam_identity_add_root(s->ids, account, key, c2 + 1) == 0)
                continue;
        }
        fprintf(stderr,
                "nagare: --account-key takes ACCOUNT:KEYID:SECRET (12-digit account, a key id "
                "not used by another account): %s\n",
                spec);
        return -1;
    }
    return 0;
}

static int token_key_cb(void *ud, const char *key, const void *blob, size_t len)
{
    uint8_t *out = ud;
    if (strcmp(key, "token-key") || len != IAM_SESSION_KEY_BYTES)
        return 0;
    memcpy(out, blob, len);
    out[IAM_SESSION_KEY_BYTES] = 1;
    return 0;
}

/* The key STS session tokens are signed with: made once, kept in the store so
 * sessions outlive a restart. */
static int token_key_load(server_t *s)
{
    uint8_t key[IAM_SESSION_KEY_BYTES + 1] = {0};
    if (store_kv_load(s->store, "iam-server", token_key_cb, key) < 0) {
        fprintf(stderr, "nagare: cannot read the store\n");
        return -1;
    }
    if (!key[IAM_SESSION_KEY_BYTES]) {
        /* The kernel's CSPRNG: OpenSSL's generator would be set up (a megabyte
         * of its pages) before any request needs it. */
        if (getrandom(key, IAM_SESSION_KEY_BYTES, 0) != IAM_SESSION_KEY_BYTES) {
            fprintf(stderr, "nagare: getrandom failed\n");
            return -1;
        }
        store_kv_put(s->store, "iam-server", "token-key", key, IAM_SESSION_KEY_BYTES);
    }
    iam_identity_set_token_key(s->ids, key);
    return 0;
}

/* runtimes/ of the source tree the binary was built in: the nearest directory
 * above the binary's (build/nagare, build/asan/nagare) that holds one. */
static void runtimes_default(char *out, size_t cap)
{
    char dir[4096], probe[4200];
    size_t n = sizeof(dir);
    out[0] = 0;
    if (uv_exepath(dir, &n) != 0)
        return;
    for (int up = 0; up < 4; up++) {
        char *slash = strrchr(dir, '/');
        if (!slash)
            return;
        *slash = 0;
        snprintf(probe, sizeof(probe), "%s/runtimes/python/bootstrap", dir);
        if (access(probe, R_OK) == 0) {
            snprintf(out, cap, "%s/runtimes", dir);
            return;
        }
    }
}

/* Lambda's executor: its instances call back at the port now listening. */
static int exec_start(server_t *s, iam_dir_t *dir)
{
    char endpoint[128], runtimes[4200];
    const char *host = s->opts.host;
    if (!strcmp(host, "0.0.0.0") || !strcmp(host, "localhost"))
        host = "127.0.0.1";
    snprintf(endpoint, sizeof(endpoint), "http://%s:%d", host, http_server_port(s->http));
    if (s->opts.runtimes_dir)
        snprintf(runtimes, sizeof(runtimes), "%s", s->opts.runtimes_dir);
    else
        runtimes_default(runtimes, sizeof(runtimes));
    lambda_exec_config_t ecfg = {.endpoint_url = endpoint,
                                 .ids = s->ids,
                                 .dir = dir,
                                 .runtimes_dir = runtimes,
                                 .max_concurrency = s->opts.max_concurrency,
                                 .sink = logs_service_sink(s->logs)};
    s->exec = lambda_exec_new(s->loop, &ecfg);
    if (!s->exec) {
        fprintf(stderr, "nagare: cannot start the Lambda executor\n");
        return -1;
    }
    lambda_service_set_exec(s->lambda, s->exec);
    return 0;
}

static int serve_start(server_t *s)
{
    char err[512];
    raise_fd_limit();
    if (store_open(s->loop, s->opts.data_dir, &s->store, err, sizeof(err)) < 0) {
        fprintf(stderr, "nagare: cannot open the store: %s\n", err);
        return -1;
    }
    s->ids = iam_identity_new();
    if (iam_identity_add_root(s->ids, s->opts.account, s->opts.root_key, s->opts.root_secret) < 0) {
        fprintf(stderr, "nagare: --account must be 12 digits\n");
        return -1;
    }
    if (account_keys_add(s) < 0 || token_key_load(s) < 0)
        return -1;
    s->authz = iam_authz_new();
    s->sqs = sqs_service_new(s->loop, s->store, err, sizeof(err));
    if (!s->sqs) {
        fprintf(stderr, "nagare: cannot restore SQS state: %s\n", err);
        return -1;
    }
    s->iam = iam_service_new(s->store, err, sizeof(err));
    if (!s->iam) {
        fprintf(stderr, "nagare: cannot restore IAM state: %s\n", err);
        return -1;
    }
    iam_dir_t *dir = iam_service_dir(s->iam);
    for (size_t i = 0; i < iam_identity_accounts(s->ids); i++)
        iam_dir_add_account(dir, iam_identity_account(s->ids, i));
    s->binding = iam_bind(dir, s->ids, s->authz);
    s->sts = iam_sts_new(s->ids, dir, s->authz);
    s->logs = logs_service_new(s->loop, s->store, s->authz, err, sizeof(err));
    if (!s->logs) {
        fprintf(stderr, "nagare: cannot restore CloudWatch Logs state: %s\n", err);
        return -1;
    }
    const char *scale = getenv("NAGARE_LAMBDA_RETRY_SCALE");
    lambda_service_config_t lcfg = {s->store, s->opts.data_dir, dir,
                                    s->authz, s->opts.iam,      NULL,
                                    s->loop,  s->sqs,           scale ? strtod(scale, NULL) : 1.0};
    s->lambda = lambda_service_new(&lcfg, err, sizeof(err));
    if (!s->lambda) {
        fprintf(stderr, "nagare: cannot restore Lambda state: %s\n", err);
        return -1;
    }
    aws_gateway_config_t gcfg = {s->loop, s->ids, s->authz, s->store, s->opts.iam};
    s->gw = aws_gateway_new(&gcfg);
    aws_gateway_add_service(s->gw, sqs_service_gateway(s->sqs));
    aws_gateway_add_service(s->gw, iam_service_gateway(s->iam));
    aws_gateway_add_service(s->gw, iam_sts_gateway(s->sts));
    aws_gateway_add_service(s->gw, lambda_service_gateway(s->lambda));
    aws_gateway_add_service(s->gw, logs_service_gateway(s->logs));
    aws_gateway_add_status(s->gw, "/_nagare/esm", lambda_service_esm_status, s->lambda);
    http_server_config_t hcfg = {
        .max_header_bytes = 16 * 1024,
        .max_body = 4 * 1024 * 1024,
        .body_limit_cb = aws_gateway_body_limit_cb,
        .idle_timeout_ms = 60000,
        .request_timeout_ms = 30000,
    };
    int rc = http_server_new(s->loop, &hcfg, aws_gateway_request_cb, s->gw, &s->http);
    if (rc == 0)
        rc = http_server_listen(s->http, s->opts.host, s->opts.port);
    if (rc < 0) {
        fprintf(stderr, "nagare: cannot listen on %s:%d: %s\n", s->opts.host, s->opts.port,
                uv_strerror(rc));
        return -1;
    }
    return exec_start(s, dir);
}

static int cmd_serve(int argc, char **argv)
{
    server_t s = {0};
    if (parse_serve(argc, argv, &s.opts) < 0)
        return 2;
    s.loop = uv_default_loop();
    if (serve_start(&s) < 0) {
        lambda_service_free(s.lambda); /* its temporary code directory goes */
        return 1;
    }
    uv_signal_init(s.loop, &s.sigint);
    uv_signal_init(s.loop, &s.sigterm);
    s.sigint.data = s.sigterm.data = &s;
    uv_signal_start(&s.sigint, signal_cb, SIGINT);
    uv_signal_start(&s.sigterm, signal_cb, SIGTERM);
    printf("nagare %s ready on http://%s:%d  region: from each request's SigV4 scope  "
           "root credentials: %s/%s (account %s)  store: %s  IAM: %s\n",
           NAGARE_VERSION, s.opts.host, http_server_port(s.http), s.opts.root_key,
           s.opts.root_secret, s.opts.account, s.opts.data_dir ? s.opts.data_dir : "in memory",
           s.opts.iam ? "enforced" : "off (--no-iam: every authenticated call is allowed)");
    fflush(stdout);
    uv_run(s.loop, UV_RUN_DEFAULT);
    aws_gateway_free(s.gw);
    logs_service_free(s.logs); /* its timer closes on the next run */
    store_close(s.store);      /* commits what is pending; its handles close on the loop */
    uv_run(s.loop, UV_RUN_DEFAULT);
    iam_sts_free(s.sts);
    iam_authz_free(s.authz);
    iam_binding_free(s.binding);
    lambda_service_free(s.lambda);
    iam_service_free(s.iam);
    iam_identity_free(s.ids);
    if (uv_loop_close(s.loop) != 0)
        log_warn("handles still open at exit");
    log_info("stopped");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "serve"))
        return cmd_serve(argc - 1, argv + 1);
    if (!strcmp(argv[1], "invoke"))
        return lambda_cli_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "logs"))
        return logs_cli_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "bench"))
        return bench_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("nagare %s\n", NAGARE_VERSION);
        return 0;
    }
    usage(stderr);
    return 2;
}
