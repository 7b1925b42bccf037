/*
 * exec — where Lambda functions run (engineer B's module). This is the
 * interface of the shared plan, exactly, so that the API can be written
 * against it before the executor is merged; the merge replaces this file
 * with the executor's own header.
 */
#ifndef NAGARE_LAMBDA_EXEC_H
#define NAGARE_LAMBDA_EXEC_H

#include "aws/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Queues one synchronous invocation. -1 with err: TooManyRequestsException (429, "Rate Exceeded."
 * / reserved concurrency reached) when no instance may be started. */
int lambda_exec_invoke(lambda_exec_t *x, const lambda_fn_spec_t *fn, const void *payload,
                       size_t len, bool want_log_tail, lambda_result_cb cb, void *ud,
                       aws_error_t *err);
/* Retires every instance of a function (deleted, or code/config changed). */
void lambda_exec_forget(lambda_exec_t *x, const char *account, const char *region,
                        const char *name);

#endif
