/*
 * service — CloudWatch Logs as the gateway serves it (AWS JSON 1.1, X-Amz-Target
 * Logs_20140328.*): the action table (api.c) and the glue that binds the pure
 * engine to the loop and the store (service.c): groups and streams as kv
 * records, events in the store's log table, a minute timer that applies
 * retention policies, recovery at start-up, and the sink Lambda writes to.
 */
#ifndef NAGARE_LOGS_SERVICE_H
#define NAGARE_LOGS_SERVICE_H

#include "aws/gateway.h"
#include "iam/authz.h"
#include "logs/engine.h"
#include "logs/sink.h"
#include "store/store.h"

#include <uv.h>

typedef struct logs_service logs_service_t;

/* The Logs service on loop, persisting to st and authorizing its sink with az
 * (both borrowed). Restores every group, stream and event from st first. NULL
 * with errbuf when the store cannot be read. */
logs_service_t *logs_service_new(uv_loop_t *loop, store_t *st, iam_authz_t *az, char *errbuf,
                                 size_t errlen);
/* Closes the timer; the memory goes once the loop has run again (as for any handle). */
void logs_service_free(logs_service_t *svc);
/* The gateway registration (borrowed from svc). */
const aws_service_t *logs_service_gateway(logs_service_t *svc);
logs_engine_t *logs_service_engine(logs_service_t *svc);
/* The sink for Lambda's execution layer (borrowed from svc). */
logs_sink_t *logs_service_sink(logs_service_t *svc);

extern const aws_action_t logs_actions[];
extern const size_t logs_n_actions;

#endif
