/*
 * lambda_runtime — a small C client of the AWS Lambda Runtime API, for
 * `provided.al2023` / `provided.al2` functions written in C.
 *
 * One keep-alive TCP connection to $AWS_LAMBDA_RUNTIME_API (reopened if the
 * server closes it); responses parsed with http-parser. A function is a loop:
 *
 *     lambda_rt_t *rt = lambda_rt_open();
 *     lambda_invocation_t inv;
 *     while (lambda_rt_next(rt, &inv) == 0)
 *         lambda_rt_respond(rt, inv.request_id, inv.payload, inv.payload_len);
 *
 * or lambda_rt_run(handler, ud), which does that and reports a handler's
 * failure through /invocation/{id}/error (a handler may fail). Works against AWS as against nagare.
 * Blocking and single-threaded, like the runtime loop it serves.
 */
#ifndef LAMBDA_RUNTIME_H
#define LAMBDA_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

typedef struct lambda_rt lambda_rt_t;

/* One invocation; every pointer is valid until the next call on the same lambda_rt_t. */
typedef struct lambda_invocation {
    const char *request_id;
    int64_t deadline_ms; /* Unix epoch milliseconds */
    const char *function_arn;
    const char *trace_id;         /* "" when absent */
    const char *client_context;   /* "" when absent */
    const char *cognito_identity; /* "" when absent */
    const char *payload;          /* the event, NUL-terminated */
    size_t payload_len;
} lambda_invocation_t;

/* Connects to $AWS_LAMBDA_RUNTIME_API ("host:port"). NULL when it is unset or unreachable. */
lambda_rt_t *lambda_rt_open(void);
void lambda_rt_close(lambda_rt_t *rt);

/* Waits for the next invocation. 0, or -1 when the Runtime API fails (the function should exit). */
int lambda_rt_next(lambda_rt_t *rt, lambda_invocation_t *inv);
/* Posts the response of request_id. 0 when accepted (202), else -1. */
int lambda_rt_respond(lambda_rt_t *rt, const char *request_id, const void *body, size_t len);
/* Posts an invocation error {"errorMessage","errorType","stackTrace":[]}. 0 or -1. */
int lambda_rt_fail(lambda_rt_t *rt, const char *request_id, const char *error_type,
                   const char *message);
/* Posts an initialisation error (before the first lambda_rt_next). 0 or -1. */
int lambda_rt_init_error(lambda_rt_t *rt, const char *error_type, const char *message);

/* What a handler returns: 0 with *out and *out_len (malloc'd, the loop frees it), or -1 with *out a
 * malloc'd error message (or NULL) reported as error_type "HandlerError". */
typedef int (*lambda_handler_fn)(void *ud, const lambda_invocation_t *inv, char **out,
                                 size_t *out_len);
/* Opens the runtime and serves invocations with h until the Runtime API goes away: returns 1. */
int lambda_rt_run(lambda_handler_fn h, void *ud);

#endif
