/*
 * events — the glue that runs asynchronous invocations (lambda/async.h) on
 * the loop: their journal into the store (kinds "lambda-event" and
 * "lambda-eic", restored at start-up), the timer for the next due event, the
 * executor, and delivery of the results: destination records to an SQS queue
 * (through the queue engine) or another function (queued as its own
 * asynchronous event), and the original event to the function's dead-letter
 * queue, each authorized as the function's execution role. Private to
 * lambda/service.c.
 */
#ifndef NAGARE_LAMBDA_EVENTS_H
#define NAGARE_LAMBDA_EVENTS_H

#include "lambda/service.h"

typedef struct lambda_events lambda_events_t;

/* Restores every event and configuration from the service's store. NULL with
 * errbuf when the store cannot be read. */
lambda_events_t *lambda_events_new(lambda_service_t *svc, char *errbuf, size_t errlen);
/* Starts running events on loop (the service's executor must be set). */
void lambda_events_start(lambda_events_t *e, uv_loop_t *loop);
/* Stops: results that arrive later leave their events pending. */
void lambda_events_stop(lambda_events_t *e);
void lambda_events_free(lambda_events_t *e);
lambda_async_t *lambda_events_engine(lambda_events_t *e);
/* Whether function name's execution role may send to arn (an SQS queue or a
 * function) now: what Put/UpdateFunctionEventInvokeConfig and a dead-letter
 * target check at configuration time, as AWS does. Always true with --no-iam. */
bool lambda_events_may_deliver(lambda_events_t *e, const char *account, const char *region,
                               const char *name, const char *role_arn, const char *arn);
/* Queues an event and runs it once the store has committed it. */
void lambda_events_enqueue(lambda_events_t *e, const char *account, const char *region,
                           const char *name, const char *qualifier, const char *request_id,
                           const void *payload, size_t len, uint64_t now_ms);

#endif
