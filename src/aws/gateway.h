/*
 * gateway — the one request path (DESIGN.md §2).
 *
 *   route → decode → authenticate → authorize → handle → persist → encode
 *
 * Services register a table of actions: the operation name, the IAM action,
 * how to compute the resource ARN from the decoded input, and the handler.
 * The gateway runs every step for every request, so no handler is reached
 * without a SigV4-authenticated principal and an IAM decision, and no
 * response that depends on a mutation leaves before the store has committed
 * it. Handlers see the decoded input as a jansson tree shaped like the JSON
 * protocol (see codec.h) and produce one the same way; protocols are the
 * codecs' business.
 */
#ifndef NAGARE_AWS_GATEWAY_H
#define NAGARE_AWS_GATEWAY_H

#include "aws/codec.h"
#include "aws/error.h"
#include "aws/model.h"
#include "http/server.h"
#include "iam/authz.h"
#include "iam/identity.h"
#include "store/store.h"

#include <jansson.h>
#include <uv.h>

typedef struct aws_gateway aws_gateway_t;
typedef struct aws_call aws_call_t;
typedef struct aws_service aws_service_t;

/* What a handler returns. */
enum {
    AWS_CALL_DONE = 0,    /* out (or err) is set: respond now */
    AWS_CALL_PENDING = 1, /* the handler calls aws_call_finish later (long polls) */
    AWS_CALL_ERROR = -1,  /* err is set */
};

typedef struct aws_action {
    const char *name;       /* the model's operation name, e.g. "SendMessage" */
    const char *iam_action; /* e.g. "sqs:SendMessage" */
    /* Writes the resource ARN the action touches into arn; 0, or -1 with call->err. */
    int (*resource)(aws_call_t *call, buf_t *arn);
    int (*handle)(aws_call_t *call);
} aws_action_t;

/* What authorization needs to know of a resource: its policy and tags (both
 * owned by the service, valid until the service runs again). */
typedef struct aws_resource_info {
    const char *policy;           /* the resource-based policy document, NULL = none */
    const iam_policy_t *compiled; /* ...or already compiled (a role's trust policy) */
    const iam_tag_t *tags;
    size_t n_tags;
} aws_resource_info_t;

struct aws_service {
    const char *name; /* SigV4 signing name, e.g. "sqs" */
    const model_service_t *model;
    const aws_action_t *actions;
    size_t n_actions;
    size_t max_body; /* HTTP body cap for this service's requests (413 above it) */
    void *state;     /* the service's own state, for its handlers */
    /* The policy and tags of the resource an ARN names (NULL: the service has
     * no resource policies); leaves *out zeroed for an unknown resource. */
    void (*resource_info)(void *state, const char *arn, aws_resource_info_t *out);
};

/* One request on its way through the path. */
struct aws_call {
    aws_gateway_t *gw;
    const aws_service_t *svc;
    const aws_action_t *action;
    const model_op_t *op;
    aws_protocol_t proto;
    http_request_t *http;
    json_t *in;  /* decoded input (owned by the call) */
    json_t *out; /* the handler's output (owned by the call; NULL = empty) */
    aws_error_t err;
    iam_principal_t principal;
    char region[64];
    char request_id[37];
    char host[256]; /* the Host header, for URLs the response carries */
    char resource[512];
    uint64_t now_ms;  /* wall clock when the request arrived */
    uint64_t mono_ms; /* monotonic clock then: deadlines count from here */
    uint64_t mutation_mark;
    void *data; /* free for an asynchronous handler */
    /* Set by a service while the call waits (a long poll): the client went
     * away; the service stops waiting and finishes the call. */
    void (*on_abort)(aws_call_t *call);
    void *parked; /* the service's record of the wait */
};

typedef struct aws_gateway_config {
    uv_loop_t *loop;
    iam_identity_t *identity; /* not owned */
    iam_authz_t *authz;       /* not owned */
    store_t *store;           /* not owned */
    bool enforce_iam;         /* false with --no-iam: authenticated callers may do anything */
} aws_gateway_config_t;

/* The string member k of a decoded input object o, or NULL (handlers' shorthand). */
static inline const char *aws_jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* What a handler returns for rc: 0, or -1 with call->err set. */
static inline int aws_call_result(int rc)
{
    return rc < 0 ? AWS_CALL_ERROR : AWS_CALL_DONE;
}

/* A gateway over the given identity store and store (both borrowed). */
aws_gateway_t *aws_gateway_new(const aws_gateway_config_t *cfg);
void aws_gateway_free(aws_gateway_t *gw);
/* Registers a service (borrowed: it must outlive the gateway). */
void aws_gateway_add_service(aws_gateway_t *gw, const aws_service_t *svc);
/* Serves GET `path` (under /_nagare/, unauthenticated, like /_nagare/health) with the JSON
 * cb(ud) returns (a new reference): services' status pages. path is borrowed. */
void aws_gateway_add_status(aws_gateway_t *gw, const char *path, json_t *(*cb)(void *ud), void *ud);
/* The http_request_cb to give the HTTP server (ud = the gateway). */
void aws_gateway_request_cb(http_request_t *req, void *ud);
/* The body_limit_cb to give the HTTP server (ud = the gateway). */
size_t aws_gateway_body_limit_cb(const http_request_t *req, void *ud);
/* Completes a call whose handler returned AWS_CALL_PENDING (or is the tail of
 * the path for one that returned DONE/ERROR): waits for durability of any
 * mutation the call made, encodes, responds and frees the call. */
void aws_call_finish(aws_call_t *call);
/* Makes the call's response wait for the store's next commit even though its
 * mutations are of the kind that do not hold responses (store_mutation_seq):
 * ChangeMessageVisibility is a promise about the future and must survive. */
void aws_call_require_durable(aws_call_t *call);
/* Requests served so far (for health and bench). */
uint64_t aws_gateway_requests(const aws_gateway_t *gw);

#endif
