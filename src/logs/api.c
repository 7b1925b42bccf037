/*
 * api — the CloudWatch Logs actions: decode → engine → encode, one thin
 * handler each (Redis's command handlers). Every action names its IAM action
 * and the resource ARN authorization checks, as the Service Authorization
 * Reference lists them: group-level actions on
 * arn:aws:logs:REGION:ACCOUNT:log-group:NAME:* (the ARN DescribeLogGroups
 * reports), event reads and writes on ...:log-group:NAME:log-stream:STREAM,
 * DescribeLogGroups on ...:log-group:*.
 */
#include "aws/gateway.h"
#include "base/xalloc.h"
#include "logs/engine.h"
#include "logs/filter.h"
#include "logs/service.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENTS_LIMIT 10000

/* ---- input helpers ---------------------------------------------------------- */

static const char *in_str(const aws_call_t *c, const char *name)
{
    return json_string_value(json_object_get(c->in, name));
}

/* A member the model requires (the codec checked it is there, but it may be
 * null): "" then, which the engine refuses or does not find. */
static const char *in_req(const aws_call_t *c, const char *name)
{
    const char *v = in_str(c, name);
    return v ? v : "";
}

static int64_t in_int(const aws_call_t *c, const char *name, int64_t dflt)
{
    json_t *v = json_object_get(c->in, name);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static logs_engine_t *engine_of(const aws_call_t *c)
{
    return logs_service_engine(c->svc->state);
}

/* A limit member within [1, max], default dflt. 0, or -1 with err. */
static int in_limit(aws_call_t *c, const char *name, long max, long dflt, size_t *out)
{
    int64_t v = in_int(c, name, dflt);
    if (v < 1 || v > max)
        return aws_error_set(&c->err, 400, "InvalidParameterException",
                             "1 validation error detected: Value '%lld' at '%s' failed to satisfy "
                             "constraint: Member must have value %s %ld",
                             (long long)v, name,
                             v < 1 ? "greater than or equal to" : "less than or equal to",
                             v < 1 ? 1L : max);
    *out = (size_t)v;
    return 0;
}

/* The group a request names: logGroupName, or logGroupIdentifier (a name or
 * an ARN, with or without the trailing ":*"), into out. 0, or -1 with err. */
static int group_name(aws_call_t *c, char *out, size_t cap)
{
    const char *name = in_str(c, "logGroupName"), *ident = in_str(c, "logGroupIdentifier");
    if (name && ident)
        return aws_error_set(&c->err, 400, "InvalidParameterException",
                             "LogGroup name and LogGroup ARN are mutually exclusive parameters.");
    if (!name && !ident)
        return aws_error_set(&c->err, 400, "InvalidParameterException",
                             "Should provide either name or ARN of the log group.");
    if (ident && !strncmp(ident, "arn:", 4)) {
        const char *p = strstr(ident, ":log-group:");
        if (!p)
            return aws_error_set(&c->err, 400, "InvalidParameterException",
                                 "Invalid log group ARN: %.300s", ident);
        p += 11;
        size_t n = strlen(p);
        if (n >= 2 && !strcmp(p + n - 2, ":*"))
            n -= 2;
        snprintf(out, cap, "%.*s", (int)n, p);
        return 0;
    }
    snprintf(out, cap, "%s", name ? name : ident);
    return 0;
}

static logs_group_t *group_of(aws_call_t *c)
{
    char name[LOGS_NAME_MAX + 8];
    if (group_name(c, name, sizeof(name)) < 0)
        return NULL;
    return logs_group_find(engine_of(c), c->principal.account, c->region, name, &c->err);
}

/* ---- resources --------------------------------------------------------------- */

/* The group an action's ARN names. A request that names none (both members
 * are optional in the current model) is authorized on every group of the
 * account, then refused by its handler: a caller without logs permissions
 * learns nothing, one with them gets AWS's InvalidParameterException. */
static int arn_group(aws_call_t *c, char *name, size_t cap)
{
    if (!in_str(c, "logGroupName") && !in_str(c, "logGroupIdentifier")) {
        snprintf(name, cap, "*");
        return 0;
    }
    return group_name(c, name, cap);
}

static int res_group(aws_call_t *c, buf_t *arn)
{
    char name[LOGS_NAME_MAX + 8];
    if (arn_group(c, name, sizeof(name)) < 0)
        return -1;
    buf_printf(arn, "arn:aws:logs:%s:%s:log-group:%s%s", c->region, c->principal.account, name,
               strcmp(name, "*") ? ":*" : "");
    return 0;
}

static int res_stream(aws_call_t *c, buf_t *arn)
{
    char name[LOGS_NAME_MAX + 8];
    const char *stream = in_str(c, "logStreamName");
    if (arn_group(c, name, sizeof(name)) < 0)
        return -1;
    buf_printf(arn, "arn:aws:logs:%s:%s:log-group:%s:log-stream:%s", c->region,
               c->principal.account, name, stream ? stream : "");
    return 0;
}

static int res_groups(aws_call_t *c, buf_t *arn)
{
    buf_printf(arn, "arn:aws:logs:%s:%s:log-group:*", c->region, c->principal.account);
    return 0;
}

/* ---- groups ------------------------------------------------------------------- */

static int create_log_group(aws_call_t *c)
{
    if (logs_group_create(engine_of(c), c->principal.account, c->region, in_req(c, "logGroupName"),
                          in_str(c, "kmsKeyId"), in_str(c, "logGroupClass"), (int64_t)c->now_ms,
                          &c->err) < 0)
        return AWS_CALL_ERROR;
    return AWS_CALL_DONE;
}

static int delete_log_group(aws_call_t *c)
{
    if (logs_group_delete(engine_of(c), c->principal.account, c->region, in_req(c, "logGroupName"),
                          &c->err) < 0)
        return AWS_CALL_ERROR;
    return AWS_CALL_DONE;
}

static json_t *group_json(const logs_group_t *g, bool brief)
{
    char arn[LOGS_NAME_MAX + 128], plain[LOGS_NAME_MAX + 128];
    logs_group_arn(g, true, arn, sizeof(arn));
    logs_group_arn(g, false, plain, sizeof(plain));
    json_t *o = json_object();
    json_object_set_new(o, "logGroupName", json_string(g->name));
    json_object_set_new(o, "creationTime", json_integer(g->created_ms));
    /* With logGroupNamePattern AWS reports only the name, time and ARN. */
    if (!brief) {
        if (g->retention_days)
            json_object_set_new(o, "retentionInDays", json_integer(g->retention_days));
        json_object_set_new(o, "metricFilterCount", json_integer(0));
    }
    json_object_set_new(o, "arn", json_string(arn));
    if (!brief) {
        json_object_set_new(o, "storedBytes", json_integer((json_int_t)g->stored_bytes));
        if (g->kms_key)
            json_object_set_new(o, "kmsKeyId", json_string(g->kms_key));
        json_object_set_new(o, "logGroupClass", json_string(g->cls));
        json_object_set_new(o, "logGroupArn", json_string(plain));
    }
    return o;
}

static int describe_log_groups(aws_call_t *c)
{
    const char *prefix = in_str(c, "logGroupNamePrefix"),
               *pattern = in_str(c, "logGroupNamePattern");
    const char *token = in_str(c, "nextToken");
    logs_group_t *groups[LOGS_DESCRIBE_LIMIT];
    size_t limit;
    bool more;
    if (prefix && pattern)
        return aws_error_set(&c->err, 400, "InvalidParameterException",
                             "LogGroup name prefix and LogGroup name pattern are mutually "
                             "exclusive parameters.");
    if (in_limit(c, "limit", LOGS_DESCRIBE_LIMIT, LOGS_DESCRIBE_LIMIT, &limit) < 0)
        return AWS_CALL_ERROR;
    if (token && strncmp(token, "g/", 2))
        return aws_error_set(&c->err, 400, "InvalidParameterException",
                             "The specified nextToken is invalid.");
    size_t n = logs_group_list(engine_of(c), c->principal.account, c->region, prefix, pattern,
                               token ? token + 2 : NULL, limit, groups, &more);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, group_json(groups[i], pattern != NULL));
    c->out = json_object();
    json_object_set_new(c->out, "logGroups", list);
    if (more && n) {
        char next[LOGS_NAME_MAX + 4];
        snprintf(next, sizeof(next), "g/%s", groups[n - 1]->name);
        json_object_set_new(c->out, "nextToken", json_string(next));
    }
    return AWS_CALL_DONE;
}

static int put_retention_policy(aws_call_t *c)
{
    logs_group_t *g = group_of(c);
    int64_t days = in_int(c, "retentionInDays", 0);
    if (!g)
        return AWS_CALL_ERROR;
    if (logs_retention_set(engine_of(c), g, days > 0 && days < INT_MAX ? (int)days : -1,
                           (int64_t)c->now_ms, &c->err) < 0)
        return AWS_CALL_ERROR;
    return AWS_CALL_DONE;
}

static int delete_retention_policy(aws_call_t *c)
{
    logs_group_t *g = group_of(c);
    if (!g || logs_retention_set(engine_of(c), g, 0, (int64_t)c->now_ms, &c->err) < 0)
        return AWS_CALL_ERROR;
    return AWS_CALL_DONE;
}

/* ---- streams ------------------------------------------------------------------- */

static int create_log_stream(aws_call_t *c)
{
    logs_group_t *g = group_of(c);
    if (!g || logs_stream_create(engine_of(c), g, in_req(c, "logStreamName"), (int64_t)c->now_ms,
                                 &c->err) < 0)
        return AWS_CALL_ERROR;
    return AWS_CALL_DONE;
}

static int delete_log_stream(aws_call_t *c)
{
    logs_group_t *g = group_of(c);
    if (!g || logs_stream_delete(engine_of(c), g, in_req(c, "logStreamName"), &c->err) < 0)
        return AWS_CALL_ERROR;
    return AWS_CALL_DONE;
}

static void sequence_token(const logs_stream_t *s, char out[64])
{
    snprintf(out, 64, "%056llu", (unsigned long long)s->uploads + 1);
}

static json_t *stream_json(const logs_stream_t *s)
{
    char arn[2 * LOGS_NAME_MAX + 128], seq[64];
    int64_t first, last;
    logs_group_arn(s->group, false, arn, sizeof(arn));
    size_t n = strlen(arn);
    snprintf(arn + n, sizeof(arn) - n, ":log-stream:%s", s->name);
    json_t *o = json_object();
    json_object_set_new(o, "logStreamName", json_string(s->name));
    json_object_set_new(o, "creationTime", json_integer(s->created_ms));
    if (logs_stream_span(s, &first, &last)) {
        json_object_set_new(o, "firstEventTimestamp", json_integer(first));
        json_object_set_new(o, "lastEventTimestamp", json_integer(last));
        json_object_set_new(o, "lastIngestionTime", json_integer(s->last_ingest));
    }
    sequence_token(s, seq);
    json_object_set_new(o, "uploadSequenceToken", json_string(seq));
    json_object_set_new(o, "arn", json_string(arn));
    json_object_set_new(o, "storedBytes", json_integer(0)); /* deprecated: AWS reports 0 */
    return o;
}

static int describe_log_streams(aws_call_t *c)
{
    const char *prefix = in_str(c, "logStreamNamePrefix"), *order = in_str(c, "orderBy");
    const char *token = in_str(c, "nextToken");
    const logs_stream_t *streams[LOGS_DESCRIBE_LIMIT];
    size_t limit, offset = 0;
    bool more, by_time = order && !strcmp(order, "LastEventTime");
    logs_group_t *g = group_of(c);
    if (!g || in_limit(c, "limit", LOGS_DESCRIBE_LIMIT, LOGS_DESCRIBE_LIMIT, &limit) < 0)
        return AWS_CALL_ERROR;
    if (order && !by_time && strcmp(order, "LogStreamName"))
        return aws_error_set(&c->err, 400, "InvalidParameterException",
                             "1 validation error detected: Value '%.100s' at 'orderBy' failed to "
                             "satisfy constraint: Member must satisfy enum value set: "
                             "[LogStreamName, LastEventTime]",
                             order);
    if (by_time && prefix)
        return aws_error_set(&c->err, 400, "InvalidParameterException",
                             "Cannot order by LastEventTime with a logStreamNamePrefix.");
    if (token) {
        char *end;
        offset = strncmp(token, "s/", 2) ? 0 : strtoul(token + 2, &end, 10);
        if (strncmp(token, "s/", 2) || *end || end == token + 2)
            return aws_error_set(&c->err, 400, "InvalidParameterException",
                                 "The specified nextToken is invalid.");
    }
    json_t *v = json_object_get(c->in, "descending");
    size_t n = logs_stream_list(g, prefix, by_time, json_is_true(v), offset, limit, streams, &more);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, stream_json(streams[i]));
    c->out = json_object();
    json_object_set_new(c->out, "logStreams", list);
    if (more) {
        char next[32];
        snprintf(next, sizeof(next), "s/%zu", offset + n);
        json_object_set_new(c->out, "nextToken", json_string(next));
    }
    return AWS_CALL_DONE;
}

/* ---- events ---------------------------------------------------------------------- */

static json_t *rejected_json(const logs_rejected_t *r)
{
    if (r->too_new_start < 0 && r->too_old_end < 0 && r->expired_end < 0)
        return NULL;
    json_t *o = json_object();
    if (r->too_new_start >= 0)
        json_object_set_new(o, "tooNewLogEventStartIndex", json_integer(r->too_new_start));
    if (r->too_old_end >= 0)
        json_object_set_new(o, "tooOldLogEventEndIndex", json_integer(r->too_old_end));
    if (r->expired_end >= 0)
        json_object_set_new(o, "expiredLogEventEndIndex", json_integer(r->expired_end));
    return o;
}

static int put_log_events(aws_call_t *c)
{
    json_t *list = json_object_get(c->in, "logEvents"), *e;
    logs_group_t *g = group_of(c);
    logs_stream_t *s = g ? logs_stream_find(g, in_req(c, "logStreamName"), &c->err) : NULL;
    size_t n = json_array_size(list), i;
    logs_rejected_t rej;
    char seq[64];
    if (!s)
        return AWS_CALL_ERROR;
    logs_input_event_t *ev = xcalloc(n ? n : 1, sizeof(*ev));
    json_array_foreach(list, i, e)
    {
        json_t *m = json_object_get(e, "message");
        ev[i] = (logs_input_event_t){(int64_t)json_integer_value(json_object_get(e, "timestamp")),
                                     json_string_value(m), json_string_length(m)};
    }
    int rc = logs_events_put(engine_of(c), s, ev, n, (int64_t)c->now_ms, &rej, &c->err);
    free(ev);
    if (rc < 0)
        return AWS_CALL_ERROR;
    c->out = json_object();
    sequence_token(s, seq);
    json_object_set_new(c->out, "nextSequenceToken", json_string(seq));
    json_t *r = rejected_json(&rej);
    if (r)
        json_object_set_new(c->out, "rejectedLogEventsInfo", r);
    return AWS_CALL_DONE;
}

static json_t *event_json(const logs_event_t *ev)
{
    json_t *o = json_object();
    json_object_set_new(o, "timestamp", json_integer(ev->ts));
    json_object_set_new(o, "message", json_stringn(ev->msg, ev->len));
    json_object_set_new(o, "ingestionTime", json_integer(ev->ingest));
    return o;
}

static int get_log_events(aws_call_t *c)
{
    logs_group_t *g = group_of(c);
    logs_stream_t *s = g ? logs_stream_find(g, in_req(c, "logStreamName"), &c->err) : NULL;
    logs_get_req_t req = {in_int(c, "startTime", INT64_MIN), in_int(c, "endTime", INT64_MAX),
                          json_is_true(json_object_get(c->in, "startFromHead")),
                          in_str(c, "nextToken"), 0};
    logs_get_page_t page;
    if (!s || in_limit(c, "limit", EVENTS_LIMIT, EVENTS_LIMIT, &req.limit) < 0 ||
        logs_events_get(s, &req, (int64_t)c->now_ms, &page, &c->err) < 0)
        return AWS_CALL_ERROR;
    json_t *list = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(list, event_json(&page.events[i]));
    c->out = json_object();
    json_object_set_new(c->out, "events", list);
    json_object_set_new(c->out, "nextForwardToken", json_string(page.forward));
    json_object_set_new(c->out, "nextBackwardToken", json_string(page.backward));
    return AWS_CALL_DONE;
}

static json_t *filtered_json(const logs_hit_t *h)
{
    char id[LOGS_TOKEN_MAX];
    json_t *o = json_object();
    logs_event_id(h->stream, h->ev, id);
    json_object_set_new(o, "logStreamName", json_string(h->stream->name));
    json_object_set_new(o, "timestamp", json_integer(h->ev->ts));
    json_object_set_new(o, "message", json_stringn(h->ev->msg, h->ev->len));
    json_object_set_new(o, "ingestionTime", json_integer(h->ev->ingest));
    json_object_set_new(o, "eventId", json_string(id));
    return o;
}

/* The logStreamNames of a FilterLogEvents request (NULL when absent); the
 * array is the caller's to free, its strings borrowed from the input. */
static const char **stream_names(aws_call_t *c, size_t *n)
{
    json_t *list = json_object_get(c->in, "logStreamNames"), *v;
    size_t i;
    *n = 0;
    if (!json_is_array(list))
        return NULL;
    const char **names = xcalloc(json_array_size(list) + 1, sizeof(*names));
    json_array_foreach(list, i, v) if (json_is_string(v)) names[(*n)++] = json_string_value(v);
    return names;
}

static int filter_log_events(aws_call_t *c)
{
    logs_group_t *g = group_of(c);
    const char *pattern = in_str(c, "filterPattern");
    logs_filter_t *f = NULL;
    logs_hit_t *hits = NULL;
    size_t n = 0, n_streams;
    char next[LOGS_TOKEN_MAX];
    logs_filter_req_t req = {
        .prefix = in_str(c, "logStreamNamePrefix"),
        .start = in_int(c, "startTime", INT64_MIN),
        .end = in_int(c, "endTime", INT64_MAX),
        .token = in_str(c, "nextToken"),
    };
    if (!g || in_limit(c, "limit", EVENTS_LIMIT, EVENTS_LIMIT, &req.limit) < 0)
        return AWS_CALL_ERROR;
    char why[512];
    if (pattern && logs_filter_parse(pattern, strlen(pattern), &f, why, sizeof(why)) < 0)
        return aws_error_set(&c->err, 400, "InvalidParameterException", "%s", why);
    const char **names = stream_names(c, &n_streams);
    req.streams = names;
    req.n_streams = n_streams;
    req.filter = f;
    int rc = logs_events_filter(g, &req, (int64_t)c->now_ms, &hits, &n, next, &c->err);
    free(names);
    if (rc == 0) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, filtered_json(&hits[i]));
        c->out = json_object();
        json_object_set_new(c->out, "events", list);
        json_object_set_new(c->out, "searchedLogStreams", json_array());
        if (next[0])
            json_object_set_new(c->out, "nextToken", json_string(next));
    }
    free(hits);
    logs_filter_free(f);
    return rc < 0 ? AWS_CALL_ERROR : AWS_CALL_DONE;
}

/* ---- the table ------------------------------------------------------------------------ */

const aws_action_t logs_actions[] = {
    {"CreateLogGroup", "logs:CreateLogGroup", res_group, create_log_group},
    {"CreateLogStream", "logs:CreateLogStream", res_group, create_log_stream},
    {"DeleteLogGroup", "logs:DeleteLogGroup", res_group, delete_log_group},
    {"DeleteLogStream", "logs:DeleteLogStream", res_group, delete_log_stream},
    {"DeleteRetentionPolicy", "logs:DeleteRetentionPolicy", res_group, delete_retention_policy},
    {"DescribeLogGroups", "logs:DescribeLogGroups", res_groups, describe_log_groups},
    {"DescribeLogStreams", "logs:DescribeLogStreams", res_group, describe_log_streams},
    {"FilterLogEvents", "logs:FilterLogEvents", res_group, filter_log_events},
    {"GetLogEvents", "logs:GetLogEvents", res_stream, get_log_events},
    {"PutLogEvents", "logs:PutLogEvents", res_stream, put_log_events},
    {"PutRetentionPolicy", "logs:PutRetentionPolicy", res_group, put_retention_policy},
};
const size_t logs_n_actions = sizeof(logs_actions) / sizeof(logs_actions[0]);
