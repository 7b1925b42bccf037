/*
 * poller — runs the event source mappings (lambda/esm.h) on the loop: reads
 * each mapping's queue through the queue engine (no HTTP), builds batches,
 * invokes the function synchronously and deletes what it processed, as the
 * function's execution role. Private to lambda/service.c.
 *
 * Per mapping: up to `target` batches run at once. A batch is received up to
 * BatchSize (repeated receives of 10) or the 6 MB payload limit, waiting up to
 * MaximumBatchingWindowInSeconds for more; with no messages the mapping parks
 * an engine waiter, so a send wakes it at once. Success deletes the batch; a
 * function error or timeout leaves it to come back after the visibility
 * timeout; with ReportBatchItemFailures only the reported items stay (on FIFO,
 * a group's items after its first failure stay too, so its order holds).
 * Messages a FilterCriteria does not match are deleted without an invocation,
 * as in AWS.
 *
 * Scaling (AWS's standard mode, on a one-second tick): `target` starts at 5
 * concurrent batches, grows by 5 a second while a backlog remains and every
 * batch slot was busy, halves when the function errors or is throttled, and
 * falls back to 5 while the queue is empty; it never exceeds the mapping's
 * limit: ScalingConfig.MaximumConcurrency (else 1,250), the function's
 * reserved concurrency and the account's (--max-concurrency). FIFO queues
 * scale to their active message groups by themselves: the engine never hands
 * out a group that is in flight.
 *
 * Access: every second (and before resuming) the role's sqs:ReceiveMessage,
 * sqs:DeleteMessage and sqs:GetQueueAttributes on the queue are authorized;
 * a denial, a missing queue or a missing function stops the mapping's
 * processing with LastProcessingResult "PROBLEM: ..." and it resumes by
 * itself once the cause is gone.
 */
#ifndef NAGARE_LAMBDA_POLLER_H
#define NAGARE_LAMBDA_POLLER_H
#include "lambda/esm.h"
#include "lambda/service.h"

#include <jansson.h>

#define ESM_SCALE_START     5
#define ESM_SCALE_STEP      5    /* per second: AWS adds up to 300 a minute */
#define ESM_SCALE_MAX       1250 /* per mapping without MaximumConcurrency */
#define ESM_EVENT_MAX_BYTES 6291456

typedef struct lambda_poller lambda_poller_t;

lambda_poller_t *lambda_poller_new(lambda_service_t *svc, lambda_esm_reg_t *reg);
/* Starts running every mapping on loop (the service's executor and SQS must be set). */
void lambda_poller_start(lambda_poller_t *p, uv_loop_t *loop);
/* A mapping was created, updated or deleted: settle its State and apply its settings now. */
void lambda_poller_kick(lambda_poller_t *p, lambda_esm_t *m);
/* Stops polling (server shutdown: before the SQS service goes); results that arrive later
 * delete nothing, so their messages come back after the visibility timeout. Closes the
 * timer; call once. */
void lambda_poller_stop(lambda_poller_t *p);
/* Frees p once the loop ran after stop and the executor completed every invocation. */
void lambda_poller_free(lambda_poller_t *p);
/* What GET /_nagare/esm shows: {"mappings":[{UUID, FunctionArn, EventSourceArn, State,
 * concurrency, target, limit, backlog, invocations, messagesDeleted, messagesFiltered,
 * functionErrors, throttles, lastProcessingResult}]} (a new reference). */
json_t *lambda_poller_status(lambda_poller_t *p);

#endif
