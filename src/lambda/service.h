/*
 * service — Lambda as the gateway serves it: the action table (api.c) and
 * the glue (service.c) that binds the pure function engine to the store
 * (one kv record per function, restored at start-up), keeps the code
 * directories (<data-dir>/lambda/code/ACCOUNT/REGION/NAME/<sha>; a temporary
 * directory removed at exit in in-memory mode), unpacks zips, and answers
 * authorization's resource_info with a function's resource policy and tags.
 */
#ifndef NAGARE_LAMBDA_SERVICE_H
#define NAGARE_LAMBDA_SERVICE_H

#include "aws/gateway.h"
#include "iam/authz.h"
#include "iam/directory.h"
#include "lambda/exec.h"
#include "lambda/async.h"
#include "lambda/esm.h"
#include "lambda/function.h"
#include "sqs/service.h"
#include "store/store.h"

#define LAMBDA_HOT_ENTRIES_MAX 100000

typedef struct lambda_service lambda_service_t;

typedef struct lambda_service_config {
    store_t *store;       /* borrowed; may be in-memory */
    const char *data_dir; /* NULL: in memory (code in a temporary directory) */
    iam_dir_t *dir;       /* roles: existence and trust policy */
    iam_authz_t *authz;   /* iam:PassRole decisions */
    bool enforce_iam;     /* false with --no-iam */
    lambda_exec_t *exec;  /* where invocations run; NULL: not available */
    uv_loop_t *loop;      /* the asynchronous invocations' timer; NULL: events are not run */
    sqs_service_t *sqs;   /* destinations and dead-letter queues; NULL: none delivered */
    double retry_scale;   /* multiplies AWS's retry delays (NAGARE_LAMBDA_RETRY_SCALE); 0 = 1 */
} lambda_service_config_t;

/* The Lambda service; restores every function from the store first. NULL
 * with errbuf when the store cannot be read or the code directory made. */
lambda_service_t *lambda_service_new(const lambda_service_config_t *cfg, char *errbuf,
                                     size_t errlen);
/* Removes the temporary code directory (in-memory mode) and frees svc. */
void lambda_service_free(lambda_service_t *svc);
/* The gateway registration (borrowed from svc). */
const aws_service_t *lambda_service_gateway(lambda_service_t *svc);
/* Sets the executor (after both exist). */
void lambda_service_set_exec(lambda_service_t *svc, lambda_exec_t *exec);

/* Stops running asynchronous invocations (server shutdown: before the SQS
 * service and the executor go). Pending events stay in the store and are
 * resumed at the next start. Closes the timer; call once. */
void lambda_service_stop(lambda_service_t *svc);

/* Runs one invocation of fn's version v (qualifier as invoked, "" = none)
 * through the executor; as lambda_exec_invoke (cb never called on -1).
 * ServiceException when there is no executor. */
int lambda_service_invoke(lambda_service_t *svc, const lambda_fn_t *fn, const char *qualifier,
                          const lambda_conf_t *v, const void *payload, size_t len,
                          const lambda_invoke_opts_t *opts, lambda_result_cb cb, void *ud,
                          aws_error_t *err);
/* Queues an asynchronous invocation (journaled in the current batch); it runs
 * once the batch is committed. payload copied. */
void lambda_service_enqueue(lambda_service_t *svc, const lambda_fn_t *fn, const char *qualifier,
                            const char *request_id, const void *payload, size_t len,
                            uint64_t now_ms);
/* Whether the execution role role_arn of function (account, region, name) may do action on arn
 * (an SQS queue or a Lambda function; its resource policy counts), as AWS authorizes what Lambda
 * does for a function: a session of the role, the function as the source. Always true with
 * --no-iam. why (may be NULL) gets the reason of a denial. */
bool lambda_service_role_may(lambda_service_t *svc, const char *account, const char *region,
                             const char *name, const char *role_arn, const char *action,
                             const char *arn, buf_t *why);
/* Whether the execution role role_arn of function name may deliver to arn
 * (sqs:SendMessage on a queue, lambda:InvokeFunction on a function). */
bool lambda_service_may_deliver(lambda_service_t *svc, const char *account, const char *region,
                                const char *name, const char *role_arn, const char *arn);
/* The asynchronous invocation engine (event invoke configurations). */
lambda_async_t *lambda_service_async(lambda_service_t *svc);

/* Event source mappings: the registry, and what the API calls after changing one (its State
 * settles and its settings apply at once). */
lambda_esm_reg_t *lambda_service_esms(lambda_service_t *svc);
void lambda_service_esm_changed(lambda_service_t *svc, lambda_esm_t *m);
/* GET /_nagare/esm (svc is the lambda_service_t): each mapping's concurrency, scaling and
 * counters; see lambda/poller.h. */
json_t *lambda_service_esm_status(void *svc);
/* For api.c. */
lambda_reg_t *lambda_service_reg(lambda_service_t *svc);
const lambda_service_config_t *lambda_service_config(const lambda_service_t *svc);
/* The directory holding fn's code of the given sha (a new string). */
char *lambda_service_code_dir(const lambda_service_t *svc, const char *account, const char *region,
                              const char *name, const char *code_sha256);
/* Unpacks a zip (len bytes) into the code directory for (account, region,
 * name, sha), replacing what was there. 0, or -1 with err
 * (InvalidParameterValueException for a zip that cannot be read or unpacks
 * beyond 250 MB). */
int lambda_service_unzip(const lambda_service_t *svc, const char *account, const char *region,
                         const char *name, const char *code_sha256, const void *zip, size_t len,
                         aws_error_t *err);

/* Hot reload. A fingerprint of the directory tree at dir: every entry's path, type, size and
 * modification time, order-independent, so an edit, an addition, a removal or a rename
 * changes it. 0 when dir cannot be read. Walks at most LAMBDA_HOT_ENTRIES_MAX entries. */
uint64_t lambda_code_fingerprint(const char *dir);
/* The fingerprint of a hot-reload directory as last seen. Walked again when `fresh` (a cold
 * start is coming, so what it runs must be current), when the directory's own mtime changed
 * (a file added, removed or replaced by rename, as editors save), or the first time. */
uint64_t lambda_service_hot_fingerprint(lambda_service_t *svc, const char *dir, bool fresh);

extern const aws_action_t lambda_actions[];
extern const size_t lambda_n_actions;

#endif
