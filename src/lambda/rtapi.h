/*
 * rtapi — the Lambda Runtime API's routes, parsed (pure: no I/O).
 *
 * A runtime speaks to its instance's listener with four requests
 * (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
 *   GET  /2018-06-01/runtime/invocation/next
 *   POST /2018-06-01/runtime/invocation/{AwsRequestId}/response
 *   POST /2018-06-01/runtime/invocation/{AwsRequestId}/error
 *   POST /2018-06-01/runtime/init/error
 * This file turns a method and a raw path into one of them; exec does the rest.
 */
#ifndef NAGARE_LAMBDA_RTAPI_H
#define NAGARE_LAMBDA_RTAPI_H

#include <stddef.h>

typedef enum lambda_rt_route {
    LAMBDA_RT_NOT_FOUND,  /* 404 */
    LAMBDA_RT_BAD_METHOD, /* a known path with the wrong method: 405 */
    LAMBDA_RT_NEXT,
    LAMBDA_RT_RESPONSE,
    LAMBDA_RT_ERROR,
    LAMBDA_RT_INIT_ERROR,
} lambda_rt_route_t;

/* Parses method (NUL-terminated) and path (path_len bytes, not NUL-terminated, no query). For
 * RESPONSE and ERROR, *id and *id_len point at the request id inside path (non-empty, without
 * '/'); they are left alone otherwise. */
lambda_rt_route_t lambda_rt_parse(const char *method, const char *path, size_t path_len,
                                  const char **id, size_t *id_len);

#endif
