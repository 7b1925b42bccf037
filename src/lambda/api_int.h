/*
 * api_int — what the files of the Lambda API share: api.c (functions,
 * versions, aliases, invocation, ...) and esmapi.c (event source mappings).
 */
#ifndef NAGARE_LAMBDA_API_INT_H
#define NAGARE_LAMBDA_API_INT_H
#include "aws/gateway.h"

/* MaxItems (1-10000), dflt when absent; -1 with ValidationException. */
int lambda_api_max_items(aws_call_t *c, int dflt);
/* ValidationException: "1 validation error detected: Value 'v' at 'what' failed to satisfy
 * constraint: <constraint>"; returns -1. */
int lambda_api_validation(aws_call_t *c, const char *what, long long v, const char *constraint);
/* The resource of actions on no particular resource: "*". */
int lambda_api_res_any(aws_call_t *c, buf_t *arn);

/* esmapi.c: the event source mapping actions and their resource (the mapping's ARN). */
int lambda_api_res_esm(aws_call_t *c, buf_t *arn);
int lambda_api_create_esm(aws_call_t *c);
int lambda_api_get_esm(aws_call_t *c);
int lambda_api_update_esm(aws_call_t *c);
int lambda_api_delete_esm(aws_call_t *c);
int lambda_api_list_esm(aws_call_t *c);

#endif
