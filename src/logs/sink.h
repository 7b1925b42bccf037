/*
 * sink — where a Lambda function's log lines go.
 *
 * Lambda's execution layer hands every line a function prints (and its
 * START / END / REPORT lines) to logs_sink_append. The line is written as the
 * function's execution role would write it in AWS: a session of that role
 * must be allowed logs:CreateLogGroup (when the group does not exist yet),
 * logs:CreateLogStream (when the stream does not) and logs:PutLogEvents, as
 * iam_authorize decides with the role's policies (what
 * AWSLambdaBasicExecutionRole grants). Without them the line is dropped, as
 * AWS drops it, and nagare's own log says once per function why. Decisions are
 * re-checked at most once a second per stream, so a policy change takes
 * effect at once and a busy function does not flood the decision log.
 */
#ifndef NAGARE_LOGS_SINK_H
#define NAGARE_LOGS_SINK_H

#include "iam/authz.h"
#include "logs/engine.h"

#include <stddef.h>
#include <stdint.h>

typedef struct logs_sink logs_sink_t;

/* A sink writing into e, authorizing with az (both borrowed; they must
 * outlive the sink). Free with logs_sink_free. */
logs_sink_t *logs_sink_new(logs_engine_t *e, iam_authz_t *az);
void logs_sink_free(logs_sink_t *s);

/* Appends one line to log group/stream at time_ms, as the principal `role_arn` of `account` would
 * with logs:CreateLogGroup / logs:CreateLogStream / logs:PutLogEvents (authorized through
 * iam_authorize with the role's policies: a role without them drops the lines, as AWS does, and
 * nagare logs once why). */
void logs_sink_append(logs_sink_t *s, const char *account, const char *region, const char *role_arn,
                      const char *group, const char *stream, int64_t time_ms, const char *line,
                      size_t len);

#endif
