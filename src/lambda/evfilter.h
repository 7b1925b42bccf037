/*
 * evfilter — Lambda event filtering (FilterCriteria) for SQS event source
 * mappings: which records of a batch the function is sent.
 *
 * A mapping holds up to five filters; each is a pattern, a JSON object in
 * the syntax AWS shares with EventBridge ("Control which events Lambda sends
 * to your function", Filter rule syntax): field names mirror the record,
 * leaves are arrays of rules (a value, or one of prefix, suffix,
 * equals-ignore-case, anything-but, numeric, exists), "$or" joins
 * alternatives. A record is sent when at least one pattern matches it; the
 * SQS message body is matched as parsed JSON or as a plain string by the rule
 * of "Properly filtering Amazon SQS messages" (see evfilter.c).
 *
 * What this is not: the mapping itself (polling, deleting what is filtered
 * out), and EventBridge's wildcard and cidr rules, which Lambda does not
 * document; they are refused. Pure: jansson and base/ only, no I/O.
 */
#ifndef NAGARE_LAMBDA_EVFILTER_H
#define NAGARE_LAMBDA_EVFILTER_H

#include "aws/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct lambda_filter lambda_filter_t;

#define LAMBDA_FILTERS_MAX        5    /* filters per mapping (AWS default quota) */
#define LAMBDA_FILTER_PATTERN_MAX 4096 /* characters per pattern (Filter.Pattern's model) */

/* Compiles FilterCriteria.Filters[].Pattern: n NUL-terminated JSON texts as
 * the user gave them (a NULL entry is a filter without a Pattern). Returns a
 * filter the caller frees with lambda_filter_free; n == 0 gives one that
 * matches every record. NULL with err filled (InvalidParameterValueException,
 * HTTP 400) when there are more than LAMBDA_FILTERS_MAX patterns, one is
 * longer than LAMBDA_FILTER_PATTERN_MAX characters, or one is not a valid
 * pattern ("Invalid filter pattern definition.", what Lambda answers). The
 * patterns are copied: the caller keeps its strings. */
lambda_filter_t *lambda_filter_compile(const char *const *patterns, size_t n, aws_error_t *err);
/* True when record — one element of an SQS event's Records[] as nagare
 * builds it ("body" a string, "attributes", "messageAttributes", ...) —
 * matches at least one pattern of f. record is only read. */
bool lambda_filter_match(const lambda_filter_t *f, const json_t *record);
/* Number of patterns in f (0: everything matches). */
size_t lambda_filter_count(const lambda_filter_t *f);
/* Frees f; NULL is allowed. */
void lambda_filter_free(lambda_filter_t *f);

#endif
