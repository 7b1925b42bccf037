/*
 * esm — event source mappings (SQS → Lambda) as a pure registry: what
 * Create/Get/Update/Delete/ListEventSourceMappings keep and show, their
 * parameter rules, and their journal records. No HTTP, libuv or store; the
 * poller (lambda/poller.c) runs them and the API (lambda/esmapi.c) serves them.
 *
 * A mapping names a queue (EventSourceArn) and a function, possibly
 * qualified (FunctionArn shows the qualifier as given). Its State moves
 * Creating → Enabled ↔ Disabled (through Enabling / Disabling) → Deleting, as
 * in AWS; the transitional states are settled by the poller, which also owns
 * LastProcessingResult. Mappings are kept in creation order, which is the
 * order ListEventSourceMappings pages through.
 */
#ifndef NAGARE_LAMBDA_ESM_H
#define NAGARE_LAMBDA_ESM_H
#include "aws/error.h"
#include "lambda/function.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESM_BATCH_DEFAULT       10
#define ESM_BATCH_MAX_STANDARD  10000
#define ESM_BATCH_MAX_FIFO      10
#define ESM_WINDOW_MAX          300 /* MaximumBatchingWindowInSeconds */
#define ESM_MAX_CONCURRENCY_MIN 2   /* ScalingConfig.MaximumConcurrency */
#define ESM_MAX_CONCURRENCY_MAX 1000

typedef enum lambda_esm_state {
    ESM_CREATING,
    ESM_ENABLING,
    ESM_ENABLED,
    ESM_DISABLING,
    ESM_DISABLED,
    ESM_UPDATING,
    ESM_DELETING,
} lambda_esm_state_t;

/* The settings Create and Update take; what Update leaves out is unchanged. */
typedef struct lambda_esm_params {
    int batch_size;      /* 0 = not given */
    int window_s;        /* -1 = not given */
    int max_concurrency; /* ScalingConfig.MaximumConcurrency; -1 = not given, 0 = none */
    int enabled;         /* -1 = not given */
    int report_failures; /* FunctionResponseTypes has ReportBatchItemFailures; -1 = not given */
    bool has_filters;    /* FilterCriteria given (n_filters 0 removes them) */
    const char *const *filters;
    size_t n_filters;
} lambda_esm_params_t;

typedef struct lambda_esm {
    char uuid[37];
    char account[16], region[32];
    char *source_arn;   /* the queue */
    char *function_arn; /* as AWS shows it: the function's ARN, with ":qualifier" if given */
    char name[LAMBDA_NAME_MAX + 1];
    char qualifier[LAMBDA_NAME_MAX + 1]; /* "" = unqualified */
    bool fifo;
    int batch_size, window_s, max_concurrency; /* max_concurrency 0 = none */
    bool report_failures, enabled;
    char **filters; /* the patterns as given */
    size_t n_filters;
    lambda_esm_state_t state;
    char *reason;      /* StateTransitionReason */
    char *last_result; /* LastProcessingResult */
    uint64_t last_modified_ms;
    void *run; /* the poller's state of this mapping */
} lambda_esm_t;

typedef struct lambda_esm_reg lambda_esm_reg_t;

/* Where each change goes (the glue forwards to the store). Either may be NULL. */
typedef struct lambda_esm_journal {
    void *ud;
    void (*put)(void *ud, const lambda_esm_t *m);
    void (*del)(void *ud, const lambda_esm_t *m);
} lambda_esm_journal_t;

lambda_esm_reg_t *lambda_esm_reg_new(const lambda_esm_journal_t *j);
/* Frees every mapping (their run must be gone). */
void lambda_esm_reg_free(lambda_esm_reg_t *r);

/* AWS's rules for the parameters of a mapping on a queue (fifo or standard),
 * applied to what the mapping would become: p over `base` (NULL on create). Filter patterns
 * are the filter module's to judge (lambda/evfilter.h).
 * 0, or -1 with InvalidParameterValueException in err. */
int lambda_esm_check(const lambda_esm_params_t *p, const lambda_esm_t *base, bool fifo,
                     aws_error_t *err);

/* A new mapping (checked already) of function (name, qualifier) in account/region on
 * source_arn; function_arn as it is to be shown. ResourceConflictException when one of the
 * same queue and function (qualifier included) exists. */
int lambda_esm_create(lambda_esm_reg_t *r, const char *account, const char *region,
                      const char *source_arn, bool fifo, const char *function_arn, const char *name,
                      const char *qualifier, const lambda_esm_params_t *p, uint64_t now_ms,
                      lambda_esm_t **out, aws_error_t *err);
/* Applies p (checked already) and, if function_arn is not NULL, a new function; Enabled
 * changes move State to Enabling / Disabling. ResourceInUseException while Deleting;
 * ResourceConflictException when the new function already has a mapping on the queue. */
int lambda_esm_update(lambda_esm_reg_t *r, lambda_esm_t *m, const lambda_esm_params_t *p,
                      const char *function_arn, const char *name, const char *qualifier,
                      uint64_t now_ms, aws_error_t *err);
/* Journals m again (the poller changed its State or LastProcessingResult). */
void lambda_esm_touch(lambda_esm_reg_t *r, lambda_esm_t *m);
/* Moves m to Deleting (journaled); the poller removes it with lambda_esm_remove. */
int lambda_esm_delete(lambda_esm_reg_t *r, lambda_esm_t *m, aws_error_t *err);
/* Removes and frees m (journaled). */
void lambda_esm_remove(lambda_esm_reg_t *r, lambda_esm_t *m);

/* The mapping of account/region with this UUID, or NULL with ResourceNotFoundException. */
lambda_esm_t *lambda_esm_get(lambda_esm_reg_t *r, const char *account, const char *region,
                             const char *uuid, aws_error_t *err);
/* Mappings of account/region in creation order, only those on source_arn and/or of function
 * (name, qualifier "" = any) when given, starting after the mapping whose UUID is `after`
 * ("" = from the first). Writes at most cap; *more says whether others follow. */
size_t lambda_esm_list(lambda_esm_reg_t *r, const char *account, const char *region,
                       const char *source_arn, const char *name, const char *qualifier,
                       const char *after, lambda_esm_t **out, size_t cap, bool *more);
/* Every mapping, for the poller: the first, and the one after m. */
lambda_esm_t *lambda_esm_first(lambda_esm_reg_t *r);
lambda_esm_t *lambda_esm_next(lambda_esm_reg_t *r, const lambda_esm_t *m);

const char *lambda_esm_state_name(lambda_esm_state_t s);
/* Sets a string field (reason, last_result) to a copy of s. */
void lambda_esm_set_str(char **field, const char *s);

/* ReportBatchItemFailures: reads a function's response for a batch of n messages (ids, and
 * their MessageGroupId or NULL) into failed[] (zeroed by the caller). 0, or -1 when the whole
 * batch failed, as AWS decides: an empty or null response, a null or missing
 * batchItemFailures, or an empty list is full success; a response that is not JSON (or not
 * an object), an item that is not an object, or an itemIdentifier that is missing, empty or
 * unknown is full failure. On FIFO queues every message of a group after its first failure
 * fails too, so the group comes back in order. */
int lambda_esm_failures(const char *payload, size_t len, const char *const *ids,
                        const char *const *groups, size_t n, bool fifo, bool *failed);

/* Journal records: a mapping as one blob, and back (NULL when it does not parse).
 * A mapping restored in a transitional state comes back settled. */
char *lambda_esm_record(const lambda_esm_t *m, size_t *len);
int lambda_esm_restore(lambda_esm_reg_t *r, const void *blob, size_t len);

#endif
