/*
 * attrs — SQS's value rules: queue attributes, queue names, tags, message
 * attributes and bodies, and the MD5 digests clients check.
 *
 * Queue attributes are a table (name, kind, range, default), not a ladder; the
 * limits and messages are AWS's (API_SetQueueAttributes, API_SendMessage,
 * "Amazon SQS message metadata" in the developer guide). The MD5 of message
 * attributes follows the documented algorithm: for each attribute in name
 * order, 4-byte big-endian length + UTF-8 name, length + data type, one
 * transport byte (1 string/number, 2 binary), length + value. Nothing here
 * touches engine state beyond the queue passed in.
 */
#include "sqs/engine_int.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "base/xalloc.h"
#include "base/str.h"

enum { K_INT, K_BOOL, K_STR, K_ENUM };

typedef struct qattr_def {
    const char *name;
    int kind;
    long min, max;
    const char *def;   /* default value, NULL = none (not returned) */
    const char *enums; /* K_ENUM: '|'-separated */
    bool fifo_only;
} qattr_def_t;

/* Indexed by QA_*. Defaults from API_SetQueueAttributes. */
static const qattr_def_t QATTRS[QA_COUNT] = {
    [QA_DELAY] = {"DelaySeconds", K_INT, 0, 900, "0", NULL, false},
    [QA_MAX_SIZE] = {"MaximumMessageSize", K_INT, 1024, 1048576, "1048576", NULL, false},
    [QA_RETENTION] = {"MessageRetentionPeriod", K_INT, 60, 1209600, "345600", NULL, false},
    [QA_WAIT] = {"ReceiveMessageWaitTimeSeconds", K_INT, 0, 20, "0", NULL, false},
    [QA_VISIBILITY] = {"VisibilityTimeout", K_INT, 0, 43200, "30", NULL, false},
    [QA_POLICY] = {"Policy", K_STR, 0, 0, NULL, NULL, false},
    [QA_REDRIVE] = {"RedrivePolicy", K_STR, 0, 0, NULL, NULL, false},
    [QA_REDRIVE_ALLOW] = {"RedriveAllowPolicy", K_STR, 0, 0, NULL, NULL, false},
    [QA_KMS_KEY] = {"KmsMasterKeyId", K_STR, 0, 0, NULL, NULL, false},
    [QA_KMS_REUSE] = {"KmsDataKeyReusePeriodSeconds", K_INT, 60, 86400, NULL, NULL, false},
    [QA_SSE] = {"SqsManagedSseEnabled", K_BOOL, 0, 0, "true", NULL, false},
    [QA_FIFO] = {"FifoQueue", K_BOOL, 0, 0, NULL, NULL, false},
    [QA_CBD] = {"ContentBasedDeduplication", K_BOOL, 0, 0, NULL, NULL, true},
    [QA_DEDUP_SCOPE] = {"DeduplicationScope", K_ENUM, 0, 0, NULL, "messageGroup|queue", true},
    [QA_THROUGHPUT] = {"FifoThroughputLimit", K_ENUM, 0, 0, NULL, "perQueue|perMessageGroupId",
                       true},
};

/* Read-only attributes, in the order "All" returns them after the settable ones. */
static const char *const COMPUTED[] = {
    "QueueArn",         "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp", "LastModifiedTimestamp",       "ApproximateNumberOfMessagesDelayed",
};

int qattr_index(const char *name)
{
    for (int i = 0; i < QA_COUNT; i++)
        if (!strcmp(QATTRS[i].name, name))
            return i;
    return -1;
}

const char *qattr_name(int idx)
{
    return QATTRS[idx].name;
}

void qattrs_defaults(sqs_queue_t *q)
{
    for (int i = 0; i < QA_COUNT; i++) {
        free(q->val[i]);
        q->val[i] = QATTRS[i].def ? xstrdup(QATTRS[i].def) : NULL;
        q->ival[i] = QATTRS[i].def && QATTRS[i].kind == K_INT ? atoi(QATTRS[i].def) : 0;
    }
    q->ival[QA_KMS_REUSE] = 300;
}

/* A strict non-negative decimal integer in [min, max]. */
static bool int_parse(const char *s, long min, long max, long *out)
{
    long v = 0;
    if (!*s || strlen(s) > 9)
        return false;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return v >= min && v <= max;
}

static bool enum_has(const char *list, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = list; p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, v, n))
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

/* Validates one value; its normalised form goes to *norm (NULL = remove). */
static int qattr_check(const qattr_def_t *d, const char *v, const char **norm, aws_error_t *err)
{
    long n;
    bool ok = true;
    *norm = v;
    if (d->kind == K_INT)
        ok = int_parse(v, d->min, d->max, &n);
    else if (d->kind == K_BOOL && !strcasecmp(v, "true"))
        *norm = "true";
    else if (d->kind == K_BOOL && !strcasecmp(v, "false"))
        *norm = "false";
    else if (d->kind == K_BOOL)
        ok = false;
    else if (d->kind == K_ENUM)
        ok = enum_has(d->enums, v);
    else if (!*v)
        *norm = NULL;
    if (!ok)
        return aws_error_set(err, 400, "InvalidAttributeValue",
                             "Invalid value for the parameter %s.", d->name);
    return 0;
}

bool qattr_valid(int idx, const char *value)
{
    const char *norm;
    aws_error_t err;
    return qattr_check(&QATTRS[idx], value, &norm, &err) == 0 && norm && !strcmp(norm, value);
}

static int fifo_name_error(aws_error_t *err)
{
    return aws_error_set(err, 400, "InvalidParameterValue",
                         "The name of a FIFO queue can only include alphanumeric characters, "
                         "hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in "
                         "length.");
}

/* Checks one attribute against q; *idx and *norm say what to store. */
static int qattr_validate(const sqs_queue_t *q, const sqs_attr_t *a, bool create, int *idx,
                          const char **norm, aws_error_t *err)
{
    bool fifo = q->val[QA_FIFO] != NULL;
    int i = a->name ? qattr_index(a->name) : -1;
    if (i < 0 || (QATTRS[i].fifo_only && !fifo) || (i == QA_FIFO && !create))
        return aws_error_set(err, 400, "InvalidAttributeName", "Unknown Attribute %s.",
                             a->name ? a->name : "");
    if (qattr_check(&QATTRS[i], a->value ? a->value : "", norm, err) < 0)
        return -1;
    if (i == QA_FIFO && (!strcmp(*norm, "true")) != fifo)
        return fifo_name_error(err);
    *idx = i;
    return 0;
}

int qattrs_apply(sqs_queue_t *q, const sqs_attr_t *attrs, size_t n, bool create, aws_error_t *err)
{
    int idx;
    const char *norm;
    for (size_t k = 0; k < n; k++)
        if (qattr_validate(q, &attrs[k], create, &idx, &norm, err) < 0)
            return -1;
    for (size_t k = 0; k < n; k++) {
        qattr_validate(q, &attrs[k], create, &idx, &norm, err);
        if (idx == QA_FIFO)
            continue; /* fixed by the name at creation */
        free(q->val[idx]);
        q->val[idx] = norm ? xstrdup(norm) : NULL;
        if (QATTRS[idx].kind == K_INT)
            q->ival[idx] = atoi(norm);
    }
    queue_redrive_update(q);
    return 0;
}

static void kv_add(sqs_kv_list_t *out, const char *name, const char *value)
{
    out->items = xrealloc(out->items, (out->n + 1) * sizeof(*out->items));
    out->items[out->n].name = xstrdup(name);
    out->items[out->n].value = xstrdup(value);
    out->n++;
}

/* A computed attribute's value into buf, or NULL when name is not one. */
static const char *computed_get(const sqs_queue_t *q, const char *name, char *buf, size_t sz)
{
    if (!strcmp(name, "QueueArn"))
        queue_arn(q, buf, sz);
    else if (!strcmp(name, "ApproximateNumberOfMessages"))
        snprintf(buf, sz, "%zu", q->visible.n + q->n_blocked);
    else if (!strcmp(name, "ApproximateNumberOfMessagesNotVisible"))
        snprintf(buf, sz, "%zu", q->n_inflight);
    else if (!strcmp(name, "ApproximateNumberOfMessagesDelayed"))
        snprintf(buf, sz, "%zu", q->n_delayed);
    else if (!strcmp(name, "CreatedTimestamp"))
        snprintf(buf, sz, "%" PRId64, q->created_ms / 1000);
    else if (!strcmp(name, "LastModifiedTimestamp"))
        snprintf(buf, sz, "%" PRId64, q->modified_ms / 1000);
    else
        return NULL;
    return buf;
}

/* The value GetQueueAttributes shows for settable attribute i (NULL = none). */
static const char *stored_get(const sqs_queue_t *q, int i)
{
    /* AWS reports SSE-SQS off when a KMS key is configured (SSE-KMS instead). */
    if (i == QA_SSE && q->val[QA_KMS_KEY])
        return "false";
    if (i == QA_KMS_REUSE && q->val[QA_KMS_KEY] && !q->val[i])
        return "300";
    return q->val[i];
}

static void collect_all(const sqs_queue_t *q, sqs_kv_list_t *out)
{
    char buf[512];
    for (size_t k = 0; k < sizeof(COMPUTED) / sizeof(*COMPUTED); k++)
        kv_add(out, COMPUTED[k], computed_get(q, COMPUTED[k], buf, sizeof(buf)));
    for (int i = 0; i < QA_COUNT; i++)
        if (stored_get(q, i))
            kv_add(out, QATTRS[i].name, stored_get(q, i));
}

int qattrs_collect(const sqs_queue_t *q, const char *const *names, size_t n, sqs_kv_list_t *out,
                   aws_error_t *err)
{
    char buf[512];
    sqs_kv_list_t l = {0};
    for (size_t k = 0; k < n; k++) {
        const char *v = computed_get(q, names[k], buf, sizeof(buf));
        int i = qattr_index(names[k]);
        if (!strcmp(names[k], "All")) {
            sqs_kv_list_clear(&l);
            collect_all(q, &l);
            break;
        }
        if (!v && i < 0) {
            sqs_kv_list_clear(&l);
            return aws_error_set(err, 400, "InvalidAttributeName", "Unknown Attribute %s.",
                                 names[k]);
        }
        if (!v)
            v = stored_get(q, i);
        if (v)
            kv_add(&l, names[k], v);
    }
    *out = l;
    return 0;
}

void sqs_kv_list_clear(sqs_kv_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free((char *)l->items[i].name);
        free((char *)l->items[i].value);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

int queue_name_check(const char *name, bool *fifo, aws_error_t *err)
{
    size_t len = name ? strlen(name) : 0;
    bool f = len > 5 && !strcmp(name + len - 5, ".fifo");
    size_t base = f ? len - 5 : len;
    bool ok = len >= 1 && len <= 80;
    for (size_t i = 0; ok && i < base; i++) {
        char c = name[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_';
    }
    if (!ok)
        return queue_name_error(err);
    *fifo = f;
    return 0;
}

int queue_name_error(aws_error_t *err)
{
    return aws_error_set(err, 400, "InvalidParameterValue",
                         "Can only include alphanumeric characters, hyphens, or underscores. 1 "
                         "to 80 in length");
}

bool fifo_requested(const sqs_attr_t *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (attrs[i].name && !strcmp(attrs[i].name, "FifoQueue") && attrs[i].value &&
            !strcasecmp(attrs[i].value, "true"))
            return true;
    return false;
}

/* ---- ARNs and redrive documents ---- */

int sqs_arn_parse(const char *arn, sqs_arn_t *out)
{
    static const char prefix[] = "arn:aws:sqs:";
    if (!arn || strncmp(arn, prefix, sizeof(prefix) - 1))
        return -1;
    const char *region = arn + sizeof(prefix) - 1;
    const char *c1 = strchr(region, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || c1 == region || c2 == c1 + 1 || !c2[1] || strchr(c2 + 1, ':') ||
        (size_t)(c1 - region) >= sizeof(out->region) ||
        (size_t)(c2 - c1 - 1) >= sizeof(out->account) || strlen(c2 + 1) >= sizeof(out->name))
        return -1;
    str_copyn(out->region, sizeof(out->region), region, (size_t)(c1 - region));
    str_copyn(out->account, sizeof(out->account), c1 + 1, (size_t)(c2 - c1 - 1));
    str_copy(out->name, sizeof(out->name), c2 + 1);
    return 0;
}

void queue_arn(const sqs_queue_t *q, char *out, size_t cap)
{
    snprintf(out, cap, "arn:aws:sqs:%s:%s:%s", q->region, q->account, q->name);
}

/* The engine takes RedrivePolicy normalised, exactly
 * {"deadLetterTargetArn":"<arn>","maxReceiveCount":<n>} (queue.h). */
int redrive_parse(const char *v, char *target, size_t cap, int *max)
{
    static const char head[] = "{\"deadLetterTargetArn\":\"", mid[] = "\",\"maxReceiveCount\":";
    if (!v || strncmp(v, head, sizeof(head) - 1))
        return -1;
    const char *arn = v + sizeof(head) - 1, *q = strchr(arn, '"');
    if (!q || (size_t)(q - arn) >= cap || strncmp(q, mid, sizeof(mid) - 1))
        return -1;
    const char *num = q + sizeof(mid) - 1;
    char *end;
    long n = strtol(num, &end, 10);
    if (end == num || strcmp(end, "}") || n < INT_MIN || n > INT_MAX)
        return -1;
    snprintf(target, cap, "%.*s", (int)(q - arn), arn);
    *max = (int)n;
    return 0;
}

bool redrive_allows(const char *allow, const char *source_arn)
{
    if (!allow || strstr(allow, "\"allowAll\""))
        return true;
    if (strstr(allow, "\"denyAll\""))
        return false;
    char quoted[SQS_ARN_MAX + 2];
    snprintf(quoted, sizeof(quoted), "\"%s\"", source_arn);
    return strstr(allow, quoted) != NULL;
}

void queue_redrive_update(sqs_queue_t *q)
{
    char target[SQS_ARN_MAX];
    int max = 0;
    if (!q->val[QA_REDRIVE] || redrive_parse(q->val[QA_REDRIVE], target, sizeof(target), &max) < 0)
        max = 0;
    q->max_receives = max;
}

int tags_check(const sqs_attr_t *tags, size_t n, aws_error_t *err)
{
    for (size_t i = 0; i < n; i++) {
        size_t kl = tags[i].name ? strlen(tags[i].name) : 0;
        size_t vl = tags[i].value ? strlen(tags[i].value) : 0;
        if (kl < 1 || kl > 128)
            return aws_error_set(err, 400, "InvalidParameterValue",
                                 "Tag keys must be between 1 and 128 characters in length.");
        if (vl > 256)
            return aws_error_set(err, 400, "InvalidParameterValue",
                                 "Tag values must be between 0 and 256 characters in length.");
    }
    return 0;
}
