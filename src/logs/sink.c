/*
 * sink — Lambda's log lines into the engine, as the execution role; see sink.h.
 *
 * The principal is a session of the role, as Lambda's own is: arn
 * arn:aws:sts::ACCOUNT:assumed-role/ROLE/FUNCTION, the role's policies from
 * the IAM directory (through authz's policy source). A grant is remembered per
 * (role, group, stream) for a second; a refusal is logged once per (role,
 * group) until the role is allowed again.
 */
#include "logs/sink.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECHECK_MS  1000
#define GRANTS_MAX  4096
#define KEY_MAX     (2 * LOGS_NAME_MAX + 400)
#define ARN_MAX     (2 * LOGS_NAME_MAX + 128)
#define LAMBDA_PREF "/aws/lambda/"

typedef struct grant {
    uint64_t checked_ms;
    bool allowed;
} grant_t;

struct logs_sink {
    logs_engine_t *e;
    iam_authz_t *az;
    strmap_t grants; /* account\0region\0role\0group\0stream -> grant_t */
    strmap_t warned; /* account\0region\0role\0group -> (the map's own key) */
};

logs_sink_t *logs_sink_new(logs_engine_t *e, iam_authz_t *az)
{
    logs_sink_t *s = xcalloc(1, sizeof(*s));
    s->e = e;
    s->az = az;
    return s;
}

static void grants_clear(logs_sink_t *s)
{
    size_t pos = 0;
    const strmap_slot_t *sl;
    while ((sl = strmap_next(&s->grants, &pos)))
        free(sl->val);
    strmap_free(&s->grants);
}

void logs_sink_free(logs_sink_t *s)
{
    if (!s)
        return;
    grants_clear(s);
    strmap_free(&s->warned);
    free(s);
}

/* The session Lambda runs the function as. */
static void principal_of(const char *account, const char *role_arn, const char *group,
                         iam_principal_t *p)
{
    const char *fn =
        !strncmp(group, LAMBDA_PREF, strlen(LAMBDA_PREF)) ? group + strlen(LAMBDA_PREF) : "nagare";
    iam_principal_role_session(p, account, role_arn, fn);
}

/* Whether p may do action on arn; on a refusal, why into why. */
static bool allowed(logs_sink_t *s, const iam_principal_t *p, const char *region,
                    const char *action, const char *arn, buf_t *why)
{
    iam_decision_t d;
    iam_authz_in_t in = {
        .who = p,
        .action = action,
        .resource = arn,
        .region = region,
        .now_ms = clock_wall_ms(),
    };
    iam_authorize(s->az, &in, &d, why);
    return d.allowed;
}

/* Makes sure group and stream exist and the role may write there, creating
 * them as the role would. true when the line may be written. */
static bool authorize(logs_sink_t *s, const char *account, const char *region, const char *role_arn,
                      const char *group, const char *stream, buf_t *why)
{
    iam_principal_t p;
    aws_error_t err;
    char arn[ARN_MAX];
    int64_t now = (int64_t)clock_wall_ms();
    principal_of(account, role_arn, group, &p);
    snprintf(arn, sizeof(arn), "arn:aws:logs:%s:%s:log-group:%s:*", region, account, group);
    logs_group_t *g = logs_group_find(s->e, account, region, group, NULL);
    if (!g) {
        if (!allowed(s, &p, region, "logs:CreateLogGroup", arn, why))
            return false;
        if (logs_group_create(s->e, account, region, group, NULL, NULL, now, &err) < 0) {
            buf_puts(why, err.message);
            return false;
        }
        g = logs_group_find(s->e, account, region, group, NULL);
    }
    if (!logs_stream_find(g, stream, NULL)) {
        if (!allowed(s, &p, region, "logs:CreateLogStream", arn, why))
            return false;
        if (logs_stream_create(s->e, g, stream, now, &err) < 0) {
            buf_puts(why, err.message);
            return false;
        }
    }
    snprintf(arn, sizeof(arn), "arn:aws:logs:%s:%s:log-group:%s:log-stream:%s", region, account,
             group, stream);
    return allowed(s, &p, region, "logs:PutLogEvents", arn, why);
}

static size_t join(char *out, const char *const *parts, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strnlen(parts[i], LOGS_NAME_MAX);
        memcpy(out + len, parts[i], l);
        len += l;
        out[len++] = '\0';
    }
    return len - 1;
}

/* The grant for this stream, checked anew when older than a second or when
 * the group or stream is gone. */
static bool grant(logs_sink_t *s, const char *account, const char *region, const char *role_arn,
                  const char *group, const char *stream)
{
    char key[KEY_MAX];
    const char *parts[] = {account, region, role_arn, group, stream};
    size_t klen = join(key, parts, 5), wlen = klen - strnlen(stream, LOGS_NAME_MAX) - 1;
    uint64_t now = clock_wall_ms();
    grant_t *gr = strmap_get(&s->grants, key, klen);
    logs_group_t *g = logs_group_find(s->e, account, region, group, NULL);
    if (gr && now - gr->checked_ms < RECHECK_MS && g && logs_stream_find(g, stream, NULL))
        return gr->allowed;
    if (!gr) {
        if (s->grants.n >= GRANTS_MAX)
            grants_clear(s);
        gr = xcalloc(1, sizeof(*gr));
        strmap_put(&s->grants, key, klen, gr);
    }
    buf_t why;
    buf_init(&why, 2048);
    gr->checked_ms = now;
    gr->allowed = authorize(s, account, region, role_arn, group, stream, &why);
    if (gr->allowed) {
        strmap_del(&s->warned, key, wlen);
    } else if (!strmap_get(&s->warned, key, wlen)) {
        strmap_put(&s->warned, key, wlen, s);
        log_warn("logs: dropping the log lines of %s: the execution role %s may not write them "
                 "(it needs logs:CreateLogGroup, logs:CreateLogStream and logs:PutLogEvents, as "
                 "AWSLambdaBasicExecutionRole grants): %s",
                 group, role_arn, why.data);
    }
    buf_free(&why);
    return gr->allowed;
}

void logs_sink_append(logs_sink_t *s, const char *account, const char *region, const char *role_arn,
                      const char *group, const char *stream, int64_t time_ms, const char *line,
                      size_t len)
{
    logs_rejected_t rej;
    aws_error_t err;
    if (len == 0 || !grant(s, account, region, role_arn, group, stream))
        return;
    logs_group_t *g = logs_group_find(s->e, account, region, group, NULL);
    logs_stream_t *st = g ? logs_stream_find(g, stream, NULL) : NULL;
    logs_input_event_t ev = {time_ms, line, len < LOGS_EVENT_MAX ? len : LOGS_EVENT_MAX};
    if (st && logs_events_put(s->e, st, &ev, 1, (int64_t)clock_wall_ms(), &rej, &err) < 0)
        log_debug("logs: a line of %s was not stored: %s", group, err.message);
}
