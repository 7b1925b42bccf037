/*
 * service — SQS as the gateway serves it: the action table (api.c) and the
 * glue that binds the pure queue engine to the loop (service.c): the journal
 * into the store, the timer for the engine's next deadline, long polls parked
 * as engine waiters, and recovery at start-up.
 */
#ifndef NAGARE_SQS_SERVICE_H
#define NAGARE_SQS_SERVICE_H

#include "aws/gateway.h"
#include "sqs/queue.h"
#include "store/store.h"

#include <uv.h>

typedef struct sqs_service sqs_service_t;

/* The SQS service on loop, persisting to st (borrowed; may be in-memory).
 * Restores every queue and message from st first. NULL with errbuf on a
 * store that cannot be read. */
sqs_service_t *sqs_service_new(uv_loop_t *loop, store_t *st, char *errbuf, size_t errlen);
/* The gateway registration (borrowed from svc). */
const aws_service_t *sqs_service_gateway(sqs_service_t *svc);
/* The engine, for other services (event source mappings) on the same loop. */
sqs_engine_t *sqs_service_engine(sqs_service_t *svc);
/* Answers every parked long poll now (shutdown); they return no messages. */
void sqs_service_drain(sqs_service_t *svc);
/* Closes the timer and frees everything; done(ud) runs once the handles closed. */
void sqs_service_free(sqs_service_t *svc, void (*done)(void *ud), void *ud);

/* For api.c: the engine context of a call, and re-arming the deadline timer
 * after anything that may have changed it. */
void sqs_service_ctx(const aws_call_t *call, sqs_ctx_t *ctx);
void sqs_service_rearm(sqs_service_t *svc);
/* Why a parked receive runs again. */
typedef enum sqs_poll_event {
    SQS_POLL_WAKE,    /* messages may be there: receive again */
    SQS_POLL_TIMEOUT, /* the wait is over (or the server stops): receive once more, answer */
    SQS_POLL_GONE,    /* the client went away: answer without receiving */
} sqs_poll_event_t;

/* Parks a long-polling receive until wait_seconds after the request arrived;
 * retry(call, event) then answers or parks anew. Returns AWS_CALL_PENDING, or
 * AWS_CALL_ERROR with call->err when the queue is gone. While the server
 * stops, it does not park: it returns retry(call, SQS_POLL_TIMEOUT). */
int sqs_service_park(sqs_service_t *svc, aws_call_t *call, const sqs_queue_ref_t *q,
                     int wait_seconds, int (*retry)(aws_call_t *call, sqs_poll_event_t event));

extern const aws_action_t sqs_actions[];
extern const size_t sqs_n_actions;

#endif
