/*
 * error — the one AWS error type.
 *
 * A request-level failure is filled once (code, message, HTTP status, who is
 * at fault) and encoded by whichever protocol codec serves the request. The
 * `code` is the modern (JSON protocol) code, e.g. "QueueDoesNotExist";
 * `query_code` is the query-protocol code where it differs, e.g.
 * "AWS.SimpleQueueService.NonExistentQueue" (NULL means same as code).
 */
#ifndef NAGARE_AWS_ERROR_H
#define NAGARE_AWS_ERROR_H

#include <stdarg.h>
#include <stdbool.h>

typedef struct aws_error {
    const char *code;       /* static string; NULL means "no error" */
    const char *query_code; /* static string or NULL */
    int status;             /* HTTP status */
    bool sender;            /* true: client fault (Sender), false: Receiver */
    char message[1024];
} aws_error_t;

/* Fills err (status 400, sender fault) with a printf-style message; returns -1 so
 * callers can write `return aws_error_set(err, ...)`. */
int aws_error_set(aws_error_t *err, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Same, with a distinct query-protocol code. */
int aws_error_set2(aws_error_t *err, int status, const char *code, const char *query_code,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Clears err to "no error". */
void aws_error_clear(aws_error_t *err);
/* True when err holds an error. */
bool aws_error_is_set(const aws_error_t *err);

#endif
