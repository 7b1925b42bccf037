/*
 * exec — where Lambda functions run: instances, the Runtime API, timeouts, logs.
 *
 * An instance is a child process (uv_spawn, detached into its own process
 * group, working directory the function's code directory) with its own Runtime
 * API listener on 127.0.0.1:<port>, so the server knows which instance asks for
 * `/2018-06-01/runtime/invocation/next`. Each instance runs one invocation at a
 * time; a warm instance of the same code is reused, and more instances are
 * started up to the function's reserved concurrency and the account limit
 * (beyond: TooManyRequestsException). Idle instances are reaped after a while.
 * The function timeout kills the process group; a runtime that exits mid-way is
 * reported as Runtime.ExitError and replaced by the next invoke. Stdout and
 * stderr are captured line by line into the log sink with START/END/REPORT
 * lines, and the last 4 KB of an invocation's log are kept for LogType Tail.
 *
 * Instances get the environment of DESIGN.md §1, including the execution
 * role's temporary credentials (minted as an STS session of the role, valid
 * 12 hours; an instance near its credentials' expiry is retired when idle).
 *
 * Not here: function configuration and its validation (lambda/function.c), the
 * Lambda API (lambda/api.c), asynchronous invocation and retries.
 */
#ifndef NAGARE_LAMBDA_EXEC_H
#define NAGARE_LAMBDA_EXEC_H

#include "aws/error.h"
#include "iam/identity.h"
#include "logs/sink.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct iam_dir;

typedef struct lambda_exec lambda_exec_t;

typedef struct lambda_fn_spec { /* one function version to run (strings borrowed for the call) */
    const char *account, *region;
    const char *name;     /* function name */
    const char *version;  /* "$LATEST" or "1", "2", ... */
    const char *arn;      /* the invoked (possibly qualified) function ARN */
    const char *runtime;  /* "provided.al2023", "provided.al2", "python3.9".."python3.13",
                             "nodejs18.x".."nodejs22.x" */
    const char *handler;  /* "app.handler"; ignored by provided */
    const char *code_dir; /* directory holding the unpacked code */
    bool hot;             /* code_dir is a hot-reload directory (the user's, not a copy) */
    uint64_t code_id; /* changes when the code or config changes: warm instances of an older id are
                         retired */
    int timeout_s;    /* 1..900 */
    int memory_mb;    /* 128..10240 (reported; not enforced) */
    const char *const *env_keys, *const *env_values;
    size_t n_env;         /* Environment.Variables */
    const char *role_arn; /* execution role: instances get its temporary credentials */
    int reserved;         /* reserved concurrency, -1 = none */
} lambda_fn_spec_t;

typedef struct lambda_result {
    int status;                 /* 200 */
    const char *function_error; /* NULL, or "Unhandled" (X-Amz-Function-Error) */
    const char *payload;
    size_t payload_len;   /* the response, or {"errorMessage","errorType","stackTrace"} */
    const char *log_tail; /* last 4 KB of this invocation's log (for LogType: Tail), or NULL */
    const char *executed_version;
} lambda_result_t;

/* cb is called exactly once, on the loop thread, unless lambda_exec_invoke returns -1. */
typedef void (*lambda_result_cb)(void *ud, const lambda_result_t *r);

typedef struct lambda_exec_config {
    const char *endpoint_url; /* AWS_ENDPOINT_URL of the instances, e.g. http://127.0.0.1:4566 */
    iam_identity_t *ids; /* its token key signs the role sessions; NULL: no credentials given */
    struct iam_dir *dir; /* optional: the role's id (AROA…) for its sessions */
    const char *runtimes_dir; /* holding python/bootstrap and nodejs/bootstrap.js */
    const char *python;       /* interpreter, default "python3" (found on PATH) */
    const char *node;         /* default "node" */
    int max_concurrency;      /* account limit of concurrent executions; default 1000 */
    uint64_t idle_ms;         /* an idle instance is reaped after this; default 300000 */
    logs_sink_t *sink;        /* where log lines go; NULL: nowhere (the tail is still kept) */
    /* how lines reach the sink: NULL means logs_sink_append (tests put a recorder here) */
    void (*sink_append)(logs_sink_t *s, const char *account, const char *region,
                        const char *role_arn, const char *group, const char *stream,
                        int64_t time_ms, const char *line, size_t len);
} lambda_exec_config_t;

/* Creates the executor on loop (cfg copied; its strings too). Free with lambda_exec_shutdown. */
lambda_exec_t *lambda_exec_new(uv_loop_t *loop, const lambda_exec_config_t *cfg);

typedef struct lambda_invoke_opts { /* per invocation; NULL means all defaults */
    bool want_log_tail;             /* LogType: Tail */
    const char *client_context;     /* the decoded ClientContext JSON, passed to the runtime as
                                       Lambda-Runtime-Client-Context; NULL: none */
} lambda_invoke_opts_t;

/* Queues one synchronous invocation. -1 with err: TooManyRequestsException (429, "Rate Exceeded."
 * / reserved concurrency reached) when no instance may be started. */
int lambda_exec_invoke(lambda_exec_t *x, const lambda_fn_spec_t *fn, const void *payload,
                       size_t len, const lambda_invoke_opts_t *opts, lambda_result_cb cb, void *ud,
                       aws_error_t *err);
/* True when an idle instance of fn's code id and version would take an invocation now (no
 * cold start). */
bool lambda_exec_warm(const lambda_exec_t *x, const lambda_fn_spec_t *fn);

/* The account's limit of concurrent executions (--max-concurrency). */
int lambda_exec_max_concurrency(const lambda_exec_t *x);

/* Retires every instance of a function (deleted, or code/config changed). Idle instances are
 * stopped now; busy ones finish their invocation first, as in AWS. */
void lambda_exec_forget(lambda_exec_t *x, const char *account, const char *region,
                        const char *name);

/* Instances alive (starting, idle or busy), in all or (name not NULL) one function. */
size_t lambda_exec_instances(const lambda_exec_t *x, const char *account, const char *region,
                             const char *name);

/* Stops every instance (invocations in flight complete as Runtime.ExitError), closes every handle
 * and frees x; done(ud) is then called on the loop. Call once. */
void lambda_exec_shutdown(lambda_exec_t *x, void (*done)(void *ud), void *ud);

#endif
