/*
 * engine — CloudWatch Logs, the pure part: log groups, log streams and their
 * events, per account and region.
 *
 * Groups and streams are small records journaled whole (kv rows); events are
 * journaled one by one (a table of their own, see store.h), and removed in
 * bulk when a group or stream is deleted or a retention policy expires them.
 * Everything is held in memory: a stream's events sit in one array ordered by
 * (timestamp, sequence), the order GetLogEvents and FilterLogEvents return
 * them in. The engine validates what AWS validates (names, limits, the
 * PutLogEvents batch rules) and words its errors as AWS does; it knows no
 * JSON, HTTP or libuv. Time is always an argument (ms since the epoch).
 *
 * Tokens: GetLogEvents answers "f/<56 digits>/s" and "b/<56 digits>/s" as AWS
 * does; the digits are the (timestamp, sequence) of the boundary event, so a
 * token stays valid while events arrive. FilterLogEvents' eventId is 56 digits
 * (timestamp, sequence, stream), its nextToken the key of the last event sent.
 */
#ifndef NAGARE_LOGS_ENGINE_H
#define NAGARE_LOGS_ENGINE_H

#include "aws/error.h"
#include "base/strmap.h"
#include "logs/filter.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGS_NAME_MAX       512
#define LOGS_BATCH_EVENTS   10000
#define LOGS_BATCH_BYTES    1048576 /* messages in UTF-8 plus 26 bytes per event */
#define LOGS_EVENT_OVERHEAD 26
#define LOGS_EVENT_MAX      (LOGS_BATCH_BYTES - LOGS_EVENT_OVERHEAD)
#define LOGS_RESPONSE_BYTES 1048576 /* GetLogEvents / FilterLogEvents page size */
#define LOGS_TOO_OLD_MS     (14LL * 86400000)
#define LOGS_TOO_NEW_MS     (2LL * 3600000)
#define LOGS_BATCH_SPAN_MS  (24LL * 3600000)
#define LOGS_TOKEN_MAX      64
#define LOGS_DESCRIBE_LIMIT 50

typedef struct logs_engine logs_engine_t;

typedef struct logs_event {
    int64_t ts, ingest;
    uint64_t seq;
    char *msg; /* NUL-terminated (owned) */
    size_t len;
} logs_event_t;

/* Read-only outside the engine. */
typedef struct logs_stream {
    uint64_t id;
    char *name;
    int64_t created_ms;
    logs_event_t *events; /* ordered by (ts, seq) */
    size_t n, cap;
    int64_t last_ingest;
    uint64_t uploads; /* PutLogEvents calls: the (ignored) sequence token */
    struct logs_group *group;
} logs_stream_t;

typedef struct logs_group {
    uint64_t id;
    char *account, *region, *name;
    char *kms_key; /* NULL = none */
    char *cls;     /* logGroupClass: STANDARD, INFREQUENT_ACCESS, DELIVERY */
    int64_t created_ms;
    int retention_days; /* 0 = never expire */
    strmap_t streams;   /* name -> logs_stream_t */
    uint64_t stored_bytes;
} logs_group_t;

/* Where mutations go (the service glue forwards them to the store). The
 * callbacks copy what they keep. */
typedef struct logs_event_rec {
    uint64_t seq, group_id, stream_id;
    int64_t ts, ingest;
    const char *msg;
    size_t len;
} logs_event_rec_t;

typedef struct logs_journal {
    void *ud;
    void (*group_put)(void *ud, uint64_t id, const void *blob, size_t len);
    void (*group_delete)(void *ud, uint64_t id);
    void (*stream_put)(void *ud, uint64_t id, const void *blob, size_t len);
    void (*stream_delete)(void *ud, uint64_t id);
    void (*event_put)(void *ud, const logs_event_rec_t *ev);
    void (*expire)(void *ud, uint64_t group_id, int64_t before_ts);
} logs_journal_t;

/* An engine journaling to j (copied; NULL = nowhere). Free with logs_engine_free. */
logs_engine_t *logs_engine_new(const logs_journal_t *j);
void logs_engine_free(logs_engine_t *e);

/* ---- groups ---- */

/* Creates group name in account/region. kms_key and cls may be NULL. 0, or -1
 * with err: InvalidParameterException (name), ResourceAlreadyExistsException. */
int logs_group_create(logs_engine_t *e, const char *account, const char *region, const char *name,
                      const char *kms_key, const char *cls, int64_t now_ms, aws_error_t *err);
/* The group, or NULL with err ResourceNotFoundException (err may be NULL). */
logs_group_t *logs_group_find(logs_engine_t *e, const char *account, const char *region,
                              const char *name, aws_error_t *err);
/* Deletes the group, its streams and events. 0, or -1 with err. */
int logs_group_delete(logs_engine_t *e, const char *account, const char *region, const char *name,
                      aws_error_t *err);
/* Groups of account/region in name order whose name starts with prefix (or,
 * when pattern is set, contains it), after the name `after` (NULL: from the
 * start): at most limit into out; *more says whether others follow. */
size_t logs_group_list(logs_engine_t *e, const char *account, const char *region,
                       const char *prefix, const char *pattern, const char *after, size_t limit,
                       logs_group_t **out, bool *more);
/* Sets (days > 0, one of the values AWS allows) or removes (days == 0) the
 * group's retention, expiring what it no longer keeps. 0, or -1 with err. */
int logs_retention_set(logs_engine_t *e, logs_group_t *g, int days, int64_t now_ms,
                       aws_error_t *err);
/* The ARN of a group ("...:log-group:NAME:*" when star) into out. */
void logs_group_arn(const logs_group_t *g, bool star, char *out, size_t outlen);

/* ---- streams ---- */

/* 0, or -1 with err: InvalidParameterException, ResourceAlreadyExistsException. */
int logs_stream_create(logs_engine_t *e, logs_group_t *g, const char *name, int64_t now_ms,
                       aws_error_t *err);
/* The stream, or NULL with err ResourceNotFoundException (err may be NULL). */
logs_stream_t *logs_stream_find(const logs_group_t *g, const char *name, aws_error_t *err);
int logs_stream_delete(logs_engine_t *e, logs_group_t *g, const char *name, aws_error_t *err);
/* The group's streams, by name (prefix filter) or by last event time, from
 * offset: at most limit into out (borrowed); *more says whether others follow. */
size_t logs_stream_list(const logs_group_t *g, const char *prefix, bool by_time, bool descending,
                        size_t offset, size_t limit, const logs_stream_t **out, bool *more);
/* First and last event timestamps; false when the stream is empty. */
bool logs_stream_span(const logs_stream_t *s, int64_t *first, int64_t *last);

/* ---- events ---- */

typedef struct logs_input_event {
    int64_t ts;
    const char *msg; /* len bytes (copied) */
    size_t len;
} logs_input_event_t;

/* Indexes of rejected events as RejectedLogEventsInfo reports them; -1 = none. */
typedef struct logs_rejected {
    long too_new_start, too_old_end, expired_end;
} logs_rejected_t;

/* PutLogEvents: validates the batch (count, size, order, 24-hour span) and
 * appends the events that are neither too old, expired, nor too new (those
 * are reported in *rej). 0, or -1 with err (InvalidParameterException). */
int logs_events_put(logs_engine_t *e, logs_stream_t *s, const logs_input_event_t *ev, size_t n,
                    int64_t now_ms, logs_rejected_t *rej, aws_error_t *err);

typedef struct logs_get_req {
    int64_t start, end; /* [start, end): INT64_MIN / INT64_MAX for none */
    bool from_head;
    const char *token; /* nextForwardToken or nextBackwardToken, or NULL */
    size_t limit;      /* 1..10000 */
} logs_get_req_t;

typedef struct logs_get_page {
    const logs_event_t *events; /* into the stream: valid until it changes */
    size_t n;
    char forward[LOGS_TOKEN_MAX], backward[LOGS_TOKEN_MAX];
} logs_get_page_t;

/* GetLogEvents over one stream. 0, or -1 with err (a token that is not ours). */
int logs_events_get(const logs_stream_t *s, const logs_get_req_t *req, int64_t now_ms,
                    logs_get_page_t *out, aws_error_t *err);

typedef struct logs_filter_req {
    const char *const *streams; /* logStreamNames, or NULL */
    size_t n_streams;
    const char *prefix;          /* logStreamNamePrefix, or NULL */
    int64_t start, end;          /* [start, end]: INT64_MIN / INT64_MAX for none */
    const logs_filter_t *filter; /* NULL = every event */
    const char *token;           /* nextToken, or NULL */
    size_t limit;                /* 1..10000 */
} logs_filter_req_t;

typedef struct logs_hit {
    const logs_stream_t *stream;
    const logs_event_t *ev;
} logs_hit_t;

/* FilterLogEvents over a group: the matching events of the chosen streams in
 * time order. *hits is a new array (caller frees; entries valid until the
 * group changes); next is "" when nothing follows. 0, or -1 with err. */
int logs_events_filter(const logs_group_t *g, const logs_filter_req_t *req, int64_t now_ms,
                       logs_hit_t **hits, size_t *n, char next[LOGS_TOKEN_MAX], aws_error_t *err);
/* The eventId FilterLogEvents gives an event (56 digits). */
void logs_event_id(const logs_stream_t *s, const logs_event_t *ev, char out[LOGS_TOKEN_MAX]);

/* Removes the events every group's retention no longer keeps (journaled). */
void logs_engine_expire(logs_engine_t *e, int64_t now_ms);

/* ---- restore (journals nothing) ---- */

/* 0, or -1 for a record that cannot be read (or whose group is unknown). */
int logs_group_restore(logs_engine_t *e, uint64_t id, const void *blob, size_t len);
int logs_stream_restore(logs_engine_t *e, uint64_t id, const void *blob, size_t len);
int logs_event_restore(logs_engine_t *e, const logs_event_rec_t *ev);

#endif
