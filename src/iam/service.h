/*
 * service — IAM as the gateway serves it: the action table (api.c) and the
 * glue that binds the pure directory to the store (service.c): the journal
 * into store_kv_put/store_kv_delete and recovery at start-up.
 *
 * IAM is global: its ARNs carry no region, and clients sign its requests for
 * us-east-1. The gateway routes query requests here by the SigV4 scope's
 * service name ("iam").
 */
#ifndef NAGARE_IAM_SERVICE_H
#define NAGARE_IAM_SERVICE_H

#include "aws/gateway.h"
#include "iam/directory.h"
#include "store/store.h"

typedef struct iam_service iam_service_t;

/* The IAM service persisting to st (borrowed; may be in-memory). Restores the
 * directory from st first; unreadable records are skipped and counted in the
 * log. NULL with errbuf when the store cannot be read. */
iam_service_t *iam_service_new(store_t *st, char *errbuf, size_t errlen);
void iam_service_free(iam_service_t *svc);
/* The gateway registration (borrowed from svc). */
const aws_service_t *iam_service_gateway(iam_service_t *svc);
/* The directory: the server adds its accounts; authentication and
 * authorization read it. Borrowed from svc. */
iam_dir_t *iam_service_dir(iam_service_t *svc);

extern const aws_action_t iam_actions[];
extern const size_t iam_n_actions;

#endif
