/*
 * model — service models as C tables, generated from botocore (tools/gen_model.py).
 *
 * The codecs are generic: they learn from these tables which operations a
 * service has, what each input and output looks like, which members are
 * required, and how the query protocol names and flattens lists and maps.
 * A service's handlers never see wire formats, only jansson trees shaped like
 * the JSON protocol's payloads, validated against the model.
 */
#ifndef NAGARE_AWS_MODEL_H
#define NAGARE_AWS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum model_type {
    MODEL_STRUCTURE,
    MODEL_LIST,
    MODEL_MAP,
    MODEL_STRING,
    MODEL_INTEGER,
    MODEL_LONG,
    MODEL_BOOLEAN,
    MODEL_BLOB,
    MODEL_TIMESTAMP,
    MODEL_DOUBLE,
} model_type_t;

/* Where a REST-JSON member travels (botocore's "location"). */
typedef enum model_location {
    MODEL_LOC_BODY = 0, /* in the JSON body (or it is the payload) */
    MODEL_LOC_URI,      /* a {label} of the request URI */
    MODEL_LOC_QUERY,    /* the query string */
    MODEL_LOC_HEADER,   /* one header */
    MODEL_LOC_HEADERS,  /* every header with the prefix loc (a map) */
    MODEL_LOC_STATUS,   /* the response's HTTP status code */
} model_location_t;

typedef struct model_member {
    const char *name; /* JSON name */
    const char *loc;  /* query/XML name, or the label/key/header name, when it differs; else NULL */
    int shape;
    bool required;
    model_location_t location;
} model_member_t;

typedef struct model_shape {
    const char *name;
    model_type_t type;
    bool flattened;
    const model_member_t *members; /* structure */
    int n_members;
    int member; /* list */
    const char *member_loc;
    int key, value; /* map */
    const char *key_loc, *value_loc;
    bool exception; /* error shapes: query-protocol code and status */
    const char *error_code;
    int status;
    bool sender;
    const char *payload; /* REST: the member that is the whole body, or NULL */
} model_shape_t;

typedef struct model_op {
    const char *name;
    int input;  /* shape index or -1 */
    int output; /* shape index or -1 */
    const char *result_wrapper;
    const char *http_method; /* REST: "GET", ... */
    const char *http_uri;    /* REST: "/2015-03-31/functions/{FunctionName}" */
    int http_status;         /* REST: the success status (200, 201, 202, 204) */
} model_op_t;

typedef struct model_service {
    const char *name;
    const char *target_prefix; /* X-Amz-Target prefix, e.g. "AmazonSQS" */
    const char *json_version;
    const char *xml_ns;
    const char *api_version;
    bool rest_json; /* REST-JSON (routed by method and URI) */
    const model_shape_t *shapes;
    int n_shapes;
    const model_op_t *ops;
    int n_ops;
} model_service_t;

extern const model_service_t model_sqs;
extern const model_service_t model_sts;
extern const model_service_t model_iam;
extern const model_service_t model_lambda;
extern const model_service_t model_logs;

/* The operation named name (len bytes), or NULL. */
const model_op_t *model_op_find(const model_service_t *svc, const char *name, size_t len);
/* The shape at index i (i must be valid). */
const model_shape_t *model_shape(const model_service_t *svc, int i);
/* The exception shape named code, or NULL: gives the query-protocol code of an error. */
const model_shape_t *model_error_find(const model_service_t *svc, const char *code);

#endif
