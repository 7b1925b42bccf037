/*
 * filter — CloudWatch Logs filter patterns for unstructured events.
 *
 * What FilterLogEvents (and `aws logs tail --filter-pattern`) take, as AWS
 * documents under "Filter pattern syntax for metric filters, subscription
 * filters, filter log events, and Live Tail" (unstructured log events):
 *
 *   ERROR               events containing the term (case-sensitive)
 *   ERROR ARGUMENTS     every term must occur (AND)
 *   "Internal Error"    a quoted phrase, matched as is (\" and \\ escape)
 *   ?ERROR ?WARN        any of the ?-terms occurs (OR)
 *   ERROR -Exiting      a -term must not occur
 *   %ERR[O]?R?-\d+%     a regular expression in AWS's subset (letters, digits,
 *                       :_#=@/;,- and ^$?[]{}|\*+.; no groups), run by regcomp
 *   "" or empty         every event
 *
 * JSON ({ $.x = ... }) and space-delimited ([a, b, ...]) patterns are not
 * supported: they are refused with a message saying so, never half-matched.
 * Pure: no I/O.
 */
#ifndef NAGARE_LOGS_FILTER_H
#define NAGARE_LOGS_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#define LOGS_FILTER_MAX 1024 /* FilterPattern's length limit in the model */

typedef struct logs_filter logs_filter_t;

/* Parses pattern (len bytes, need not be NUL-terminated). 0 with *out set (a
 * filter the caller frees with logs_filter_free), or -1 with a message for
 * InvalidParameterException in err (*out untouched). */
int logs_filter_parse(const char *pattern, size_t len, logs_filter_t **out, char *err,
                      size_t errlen);
/* Whether msg (len bytes, NUL-terminated at msg[len]) matches. */
bool logs_filter_match(const logs_filter_t *f, const char *msg, size_t len);
void logs_filter_free(logs_filter_t *f);

#endif
