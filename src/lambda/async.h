/*
 * async — asynchronous invocation as a pure engine: the pending events of
 * `InvocationType: Event`, their retries and age limit, and each function's
 * event invoke configuration (MaximumRetryAttempts, MaximumEventAgeInSeconds,
 * DestinationConfig).
 *
 * AWS's behaviour (Lambda developer guide, "Asynchronous invocation" and
 * "Configuring error handling for asynchronous invocation"): an event is
 * queued, then run; a function error is retried twice by default, the first
 * retry about one minute after the failure, the second about two minutes
 * after that; a throttle (no instance may start) is retried with exponential
 * back-off from one second up to five minutes and does not count as an
 * attempt; an event older than MaximumEventAgeInSeconds (default six hours)
 * is discarded without another attempt. A finished event goes to the
 * OnSuccess destination, a failed one to OnFailure and the function's
 * dead-letter queue; delivering them is the glue's business (service.c), as
 * is running the function.
 *
 * No HTTP, libuv or store: time (wall clock ms, which survives a restart)
 * comes in as an argument, the engine says when it next needs to run
 * (lambda_async_next_due), and every change goes through a journal. The
 * retry delays are AWS's multiplied by a scale (1.0 in production; the
 * NAGARE_LAMBDA_RETRY_SCALE environment variable lets tests shorten them).
 */
#ifndef NAGARE_LAMBDA_ASYNC_H
#define NAGARE_LAMBDA_ASYNC_H

#include "aws/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAMBDA_RETRY_MAX         2
#define LAMBDA_EVENT_AGE_MIN     60
#define LAMBDA_EVENT_AGE_MAX     21600
#define LAMBDA_RETRY_FIRST_MS    60000  /* function error: first retry after ~1 min */
#define LAMBDA_THROTTLE_FIRST_MS 1000   /* throttles back off from 1 s ... */
#define LAMBDA_THROTTLE_MAX_MS   300000 /* ... up to 5 min */

/* FunctionEventInvokeConfig of one function and qualifier. Strings owned. */
typedef struct lambda_eic {
    char account[16], region[32], name[65], qualifier[65]; /* qualifier "$LATEST" when none */
    int max_retry;                 /* MaximumRetryAttempts, -1 = not set (2) */
    int max_age_s;                 /* MaximumEventAgeInSeconds, -1 = not set (21600) */
    char *on_success, *on_failure; /* destination ARNs, NULL = none */
    uint64_t last_modified_ms;
} lambda_eic_t;

/* What Put/Update give: members not given are -1 / NULL (a NULL destination
 * pointer leaves the current one on Update; "" removes it). */
typedef struct lambda_eic_in {
    int max_retry, max_age_s;
    const char *on_success, *on_failure;
    bool has_destinations; /* DestinationConfig was given */
} lambda_eic_in_t;

/* One pending event. Strings and payload owned. */
typedef struct lambda_event {
    uint64_t id;
    char request_id[37];
    char account[16], region[32], name[65], qualifier[65]; /* qualifier "" = unqualified */
    char *payload;
    size_t len;
    uint64_t enqueued_ms; /* wall clock */
    uint64_t due_ms;      /* next attempt, wall clock */
    uint32_t attempts;    /* invocations that ran (approximateInvokeCount) */
    uint32_t throttles;   /* consecutive throttles, for the back-off */
    bool running;         /* handed out by lambda_async_take, not yet reported */
} lambda_event_t;

typedef enum lambda_outcome {
    LAMBDA_OUTCOME_SUCCESS,
    LAMBDA_OUTCOME_ERROR,    /* function error (Unhandled, timeout, crash) */
    LAMBDA_OUTCOME_THROTTLE, /* no instance could start */
} lambda_outcome_t;

typedef enum lambda_verdict {
    LAMBDA_VERDICT_RETRY,     /* the event stays, due again later */
    LAMBDA_VERDICT_SUCCESS,   /* done: OnSuccess */
    LAMBDA_VERDICT_EXHAUSTED, /* done: OnFailure / DLQ, condition "RetriesExhausted" */
    LAMBDA_VERDICT_AGED,      /* done: OnFailure / DLQ, condition "EventAgeExceeded" */
} lambda_verdict_t;

typedef struct lambda_async_journal {
    void *ud;
    void (*event_put)(void *ud, const lambda_event_t *ev);
    void (*event_del)(void *ud, const lambda_event_t *ev);
    void (*eic_put)(void *ud, const lambda_eic_t *c);
    void (*eic_del)(void *ud, const lambda_eic_t *c);
} lambda_async_journal_t;

typedef struct lambda_async lambda_async_t;

/* A new engine (journal copied; may be NULL); retry_scale multiplies AWS's delays. */
lambda_async_t *lambda_async_new(const lambda_async_journal_t *j, double retry_scale);
void lambda_async_free(lambda_async_t *as);

/* ---- event invoke configuration ---- */

/* Put (replace whole) or Update (merge) the configuration of (fn, qualifier).
 * update on a missing one: ResourceNotFoundException. Ranges are checked
 * (ValidationException). *out points into the engine. */
int lambda_eic_put(lambda_async_t *as, const char *account, const char *region, const char *name,
                   const char *qualifier, const lambda_eic_in_t *in, bool update, uint64_t now_ms,
                   const lambda_eic_t **out, aws_error_t *err);
/* The configuration, or NULL (qualifier "" means $LATEST). */
const lambda_eic_t *lambda_eic_get(const lambda_async_t *as, const char *account,
                                   const char *region, const char *name, const char *qualifier);
/* Deletes one (qualifier given) or every (qualifier NULL: the function went)
 * configuration of a function. 0, or -1 when none matched. */
int lambda_eic_delete(lambda_async_t *as, const char *account, const char *region, const char *name,
                      const char *qualifier);
/* The function's configurations, qualifier order; returns how many (<= cap). */
size_t lambda_eic_list(const lambda_async_t *as, const char *account, const char *region,
                       const char *name, const lambda_eic_t **out, size_t cap);

/* ---- events ---- */

/* Queues an event (payload copied), due now. Returns it (owned by the engine). */
const lambda_event_t *lambda_async_enqueue(lambda_async_t *as, const char *account,
                                           const char *region, const char *name,
                                           const char *qualifier, const char *request_id,
                                           const void *payload, size_t len, uint64_t now_ms);
/* The earliest due time of an event not running; UINT64_MAX when none. */
uint64_t lambda_async_next_due(const lambda_async_t *as);
/* An event due at now_ms, marked running, or NULL. An event past its age is
 * handed out too, with *aged true: the caller reports it failed
 * (lambda_async_finish) without running it. */
lambda_event_t *lambda_async_take(lambda_async_t *as, uint64_t now_ms, bool *aged);
/* Reports how a running event's attempt went. RETRY leaves it pending (due
 * later, journaled); any other verdict leaves it for the caller to deliver,
 * then lambda_async_finish. */
lambda_verdict_t lambda_async_report(lambda_async_t *as, lambda_event_t *ev,
                                     lambda_outcome_t outcome, uint64_t now_ms);
/* Removes a finished event (journaled) and frees it. */
void lambda_async_finish(lambda_async_t *as, lambda_event_t *ev);
/* Puts a running event back as pending without change (the server stops). */
void lambda_async_release(lambda_async_t *as, lambda_event_t *ev);
/* Events held (pending and running). */
size_t lambda_async_count(const lambda_async_t *as);

/* ---- records (journal and restore) ---- */

char *lambda_event_record(const lambda_event_t *ev, size_t *len);
char *lambda_eic_record(const lambda_eic_t *c, size_t *len);
/* Reads back a record: 0, or -1 when it does not parse (nothing is added). */
int lambda_async_restore_event(lambda_async_t *as, const void *blob, size_t len);
int lambda_async_restore_eic(lambda_async_t *as, const void *blob, size_t len);

#endif
