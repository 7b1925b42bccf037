/*
 * sink — where a function's log lines go (interface B <-> C of the Lambda plan).
 *
 * Declared here exactly as the shared plan states it so that exec (engineer B)
 * can call it; engineer C's branch owns this header and its implementation.
 */
#ifndef NAGARE_LOGS_SINK_H
#define NAGARE_LOGS_SINK_H

#include <stddef.h>
#include <stdint.h>

typedef struct logs_sink logs_sink_t;
/* Appends one line to log group/stream at time_ms, as the principal `role_arn` of `account` would
 * with logs:CreateLogGroup / logs:CreateLogStream / logs:PutLogEvents (authorized through
 * iam_authorize with the role's policies: a role without them drops the lines, as AWS does, and
 * nagare logs once why). */
void logs_sink_append(logs_sink_t *s, const char *account, const char *region, const char *role_arn,
                      const char *group, const char *stream, int64_t time_ms, const char *line,
                      size_t len);

#endif
