/*
 * engine — CloudWatch Logs groups, streams and events in memory; see engine.h.
 *
 * Groups are found by "account\0region\0name" and by id (restore); streams by
 * name within their group and by id. A stream's events are one array ordered
 * by (timestamp, seq): appends land at the end in the usual case, an older
 * timestamp from a later call is inserted in place. Records are fields joined
 * by NUL bytes, a version first.
 */
#include "logs/engine.h"

#include "base/buf.h"
#include "base/xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_FIELDS_MAX 10

struct logs_engine {
    logs_journal_t j;
    strmap_t groups;  /* account\0region\0name -> group */
    strmap_t by_id;   /* 8-byte group id -> group */
    strmap_t streams; /* 8-byte stream id -> stream */
    uint64_t next_id, next_seq;
};

typedef struct evkey {
    uint64_t ts, seq;
} evkey_t;

/* The retention periods AWS accepts (PutRetentionPolicy, the Days shape). */
static const int RETENTION_DAYS[] = {1,   3,   5,   7,   14,   30,   60,   90,   120,  150,  180,
                                     365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653};

/* ---- helpers ---------------------------------------------------------------- */

static size_t group_key(char *out, size_t cap, const char *account, const char *region,
                        const char *name)
{
    int n = snprintf(out, cap, "%s%c%s%c%s", account, 0, region, 0, name);
    return n < 0 || (size_t)n >= cap ? cap - 1 : (size_t)n;
}

static evkey_t key_of(const logs_event_t *ev)
{
    return (evkey_t){ev->ts < 0 ? 0 : (uint64_t)ev->ts, ev->seq};
}

static int key_cmp(evkey_t a, evkey_t b)
{
    if (a.ts != b.ts)
        return a.ts < b.ts ? -1 : 1;
    return a.seq < b.seq ? -1 : a.seq > b.seq;
}

static int64_t cutoff_of(const logs_group_t *g, int64_t now_ms)
{
    return g->retention_days ? now_ms - (int64_t)g->retention_days * 86400000 : INT64_MIN;
}

static int validate_group_name(const char *name, aws_error_t *err)
{
    size_t n = strlen(name);
    if (n < 1 || n > LOGS_NAME_MAX ||
        strspn(name, "._-/#ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "abcdefghijklmnopqrstuvwxyz0123456789") != n)
        return aws_error_set(err, 400, "InvalidParameterException",
                             "1 validation error detected: Value '%.600s' at 'logGroupName' failed "
                             "to satisfy constraint: Member must satisfy regular expression "
                             "pattern: [\\.\\-_/#A-Za-z0-9]+",
                             name);
    return 0;
}

static int validate_stream_name(const char *name, aws_error_t *err)
{
    size_t n = strlen(name);
    if (n < 1 || n > LOGS_NAME_MAX || strpbrk(name, ":*"))
        return aws_error_set(err, 400, "InvalidParameterException",
                             "1 validation error detected: Value '%.600s' at 'logStreamName' "
                             "failed to satisfy constraint: Member must satisfy regular "
                             "expression pattern: [^:*]*",
                             name);
    return 0;
}

/* ---- records ---------------------------------------------------------------- */

static void group_record(const logs_group_t *g, buf_t *b)
{
    buf_printf(b, "v1%c%s%c%s%c%s%c%" PRId64 "%c%d%c%s%c%s", 0, g->account, 0, g->region, 0,
               g->name, 0, g->created_ms, 0, g->retention_days, 0, g->kms_key ? g->kms_key : "", 0,
               g->cls);
}

static void stream_record(const logs_stream_t *s, buf_t *b)
{
    buf_printf(b, "v1%c%" PRIu64 "%c%s%c%" PRId64, 0, s->group->id, 0, s->name, 0, s->created_ms);
}

/* Splits a record into NUL-separated fields (the record is copied into
 * *copy, which the caller frees). Returns the field count. */
static size_t record_split(const void *blob, size_t len, char **copy, char **f, size_t cap)
{
    char *p = xmalloc(len + 1);
    size_t n = 0;
    memcpy(p, blob, len);
    p[len] = '\0';
    for (size_t i = 0, start = 0; i <= len && n < cap; i++) {
        if (p[i] == '\0') {
            f[n++] = p + start;
            start = i + 1;
        }
    }
    *copy = p;
    return n;
}

static void journal_group(logs_engine_t *e, const logs_group_t *g)
{
    buf_t b;
    if (!e->j.group_put)
        return;
    buf_init(&b, 0);
    group_record(g, &b);
    e->j.group_put(e->j.ud, g->id, b.data, b.len);
    buf_free(&b);
}

static void journal_stream(logs_engine_t *e, const logs_stream_t *s)
{
    buf_t b;
    if (!e->j.stream_put)
        return;
    buf_init(&b, 0);
    stream_record(s, &b);
    e->j.stream_put(e->j.ud, s->id, b.data, b.len);
    buf_free(&b);
}

/* ---- the engine --------------------------------------------------------------- */

logs_engine_t *logs_engine_new(const logs_journal_t *j)
{
    logs_engine_t *e = xcalloc(1, sizeof(*e));
    if (j)
        e->j = *j;
    return e;
}

static void stream_free(logs_stream_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->events[i].msg);
    free(s->events);
    free(s->name);
    free(s);
}

static void group_free(logs_group_t *g)
{
    size_t pos = 0;
    const strmap_slot_t *sl;
    while ((sl = strmap_next(&g->streams, &pos)))
        stream_free(sl->val);
    strmap_free(&g->streams);
    free(g->account);
    free(g->region);
    free(g->name);
    free(g->kms_key);
    free(g->cls);
    free(g);
}

void logs_engine_free(logs_engine_t *e)
{
    if (!e)
        return;
    size_t pos = 0;
    const strmap_slot_t *sl;
    while ((sl = strmap_next(&e->groups, &pos)))
        group_free(sl->val);
    strmap_free(&e->groups);
    strmap_free(&e->by_id);
    strmap_free(&e->streams);
    free(e);
}

/* ---- groups --------------------------------------------------------------------- */

static logs_group_t *group_add(logs_engine_t *e, uint64_t id, const char *account,
                               const char *region, const char *name, int64_t created)
{
    char k[LOGS_NAME_MAX + 64];
    logs_group_t *g = xcalloc(1, sizeof(*g));
    g->id = id;
    g->account = xstrdup(account);
    g->region = xstrdup(region);
    g->name = xstrdup(name);
    g->cls = xstrdup("STANDARD");
    g->created_ms = created;
    strmap_put(&e->groups, k, group_key(k, sizeof(k), account, region, name), g);
    strmap_put(&e->by_id, (const char *)&g->id, sizeof(g->id), g);
    if (id > e->next_id)
        e->next_id = id;
    return g;
}

int logs_group_create(logs_engine_t *e, const char *account, const char *region, const char *name,
                      const char *kms_key, const char *cls, int64_t now_ms, aws_error_t *err)
{
    if (validate_group_name(name, err) < 0)
        return -1;
    if (cls && strcmp(cls, "STANDARD") && strcmp(cls, "INFREQUENT_ACCESS") &&
        strcmp(cls, "DELIVERY"))
        return aws_error_set(err, 400, "InvalidParameterException",
                             "1 validation error detected: Value '%.100s' at 'logGroupClass' "
                             "failed to satisfy constraint: Member must satisfy enum value set: "
                             "[STANDARD, INFREQUENT_ACCESS, DELIVERY]",
                             cls);
    if (logs_group_find(e, account, region, name, NULL))
        return aws_error_set(err, 400, "ResourceAlreadyExistsException",
                             "The specified log group already exists");
    logs_group_t *g = group_add(e, e->next_id + 1, account, region, name, now_ms);
    if (kms_key && *kms_key)
        g->kms_key = xstrdup(kms_key);
    if (cls) {
        free(g->cls);
        g->cls = xstrdup(cls);
    }
    journal_group(e, g);
    return 0;
}

logs_group_t *logs_group_find(logs_engine_t *e, const char *account, const char *region,
                              const char *name, aws_error_t *err)
{
    char k[LOGS_NAME_MAX + 64];
    logs_group_t *g = NULL;
    if (strlen(name) <= LOGS_NAME_MAX)
        g = strmap_get(&e->groups, k, group_key(k, sizeof(k), account, region, name));
    if (!g && err)
        aws_error_set(err, 400, "ResourceNotFoundException",
                      "The specified log group does not exist.");
    return g;
}

int logs_group_delete(logs_engine_t *e, const char *account, const char *region, const char *name,
                      aws_error_t *err)
{
    char k[LOGS_NAME_MAX + 64];
    logs_group_t *g = logs_group_find(e, account, region, name, err);
    if (!g)
        return -1;
    size_t pos = 0;
    const strmap_slot_t *sl;
    while ((sl = strmap_next(&g->streams, &pos))) {
        logs_stream_t *s = sl->val;
        strmap_del(&e->streams, (const char *)&s->id, sizeof(s->id));
        if (e->j.stream_delete)
            e->j.stream_delete(e->j.ud, s->id);
    }
    if (e->j.group_delete)
        e->j.group_delete(e->j.ud, g->id);
    strmap_del(&e->groups, k, group_key(k, sizeof(k), account, region, name));
    strmap_del(&e->by_id, (const char *)&g->id, sizeof(g->id));
    group_free(g);
    return 0;
}

static int group_name_cmp(const void *a, const void *b)
{
    return strcmp((*(logs_group_t *const *)a)->name, (*(logs_group_t *const *)b)->name);
}

size_t logs_group_list(logs_engine_t *e, const char *account, const char *region,
                       const char *prefix, const char *pattern, const char *after, size_t limit,
                       logs_group_t **out, bool *more)
{
    logs_group_t **all = xmalloc((e->groups.n + 1) * sizeof(*all));
    size_t n = 0, pos = 0, plen = prefix ? strlen(prefix) : 0;
    const strmap_slot_t *sl;
    while ((sl = strmap_next(&e->groups, &pos))) {
        logs_group_t *g = sl->val;
        if (strcmp(g->account, account) || strcmp(g->region, region))
            continue;
        if ((prefix && strncmp(g->name, prefix, plen)) || (pattern && !strstr(g->name, pattern)))
            continue;
        if (after && strcmp(g->name, after) <= 0)
            continue;
        all[n++] = g;
    }
    qsort(all, n, sizeof(*all), group_name_cmp);
    *more = n > limit;
    n = n > limit ? limit : n;
    memcpy(out, all, n * sizeof(*all));
    free(all);
    return n;
}

void logs_group_arn(const logs_group_t *g, bool star, char *out, size_t outlen)
{
    snprintf(out, outlen, "arn:aws:logs:%s:%s:log-group:%s%s", g->region, g->account, g->name,
             star ? ":*" : "");
}

/* Drops the events of s older than cutoff; true when any went. */
static bool stream_expire(logs_group_t *g, logs_stream_t *s, int64_t cutoff)
{
    size_t k = 0;
    while (k < s->n && s->events[k].ts < cutoff) {
        g->stored_bytes -= s->events[k].len;
        free(s->events[k].msg);
        k++;
    }
    if (k == 0)
        return false;
    memmove(s->events, s->events + k, (s->n - k) * sizeof(*s->events));
    s->n -= k;
    return true;
}

static void group_expire(logs_engine_t *e, logs_group_t *g, int64_t now_ms)
{
    int64_t cutoff = cutoff_of(g, now_ms);
    bool any = false;
    size_t pos = 0;
    const strmap_slot_t *sl;
    if (cutoff == INT64_MIN)
        return;
    while ((sl = strmap_next(&g->streams, &pos)))
        any |= stream_expire(g, sl->val, cutoff);
    if (any && e->j.expire)
        e->j.expire(e->j.ud, g->id, cutoff);
}

int logs_retention_set(logs_engine_t *e, logs_group_t *g, int days, int64_t now_ms,
                       aws_error_t *err)
{
    bool ok = days == 0;
    for (size_t i = 0; i < sizeof(RETENTION_DAYS) / sizeof(RETENTION_DAYS[0]); i++)
        ok |= days == RETENTION_DAYS[i];
    if (!ok)
        return aws_error_set(err, 400, "InvalidParameterException",
                             "1 validation error detected: Value '%d' at 'retentionInDays' failed "
                             "to satisfy constraint: Member must satisfy enum value set: [1, 3, "
                             "5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, "
                             "1827, 2192, 2557, 2922, 3288, 3653]",
                             days);
    g->retention_days = days;
    journal_group(e, g);
    group_expire(e, g, now_ms);
    return 0;
}

void logs_engine_expire(logs_engine_t *e, int64_t now_ms)
{
    size_t pos = 0;
    const strmap_slot_t *sl;
    while ((sl = strmap_next(&e->groups, &pos)))
        group_expire(e, sl->val, now_ms);
}

/* ---- streams -------------------------------------------------------------------- */

static logs_stream_t *stream_add(logs_engine_t *e, logs_group_t *g, uint64_t id, const char *name,
                                 int64_t created)
{
    logs_stream_t *s = xcalloc(1, sizeof(*s));
    s->id = id;
    s->name = xstrdup(name);
    s->created_ms = created;
    s->group = g;
    strmap_put(&g->streams, name, strlen(name), s);
    strmap_put(&e->streams, (const char *)&s->id, sizeof(s->id), s);
    if (id > e->next_id)
        e->next_id = id;
    return s;
}

int logs_stream_create(logs_engine_t *e, logs_group_t *g, const char *name, int64_t now_ms,
                       aws_error_t *err)
{
    if (validate_stream_name(name, err) < 0)
        return -1;
    if (logs_stream_find(g, name, NULL))
        return aws_error_set(err, 400, "ResourceAlreadyExistsException",
                             "The specified log stream already exists");
    journal_stream(e, stream_add(e, g, e->next_id + 1, name, now_ms));
    return 0;
}

logs_stream_t *logs_stream_find(const logs_group_t *g, const char *name, aws_error_t *err)
{
    logs_stream_t *s = strmap_get(&g->streams, name, strlen(name));
    if (!s && err)
        aws_error_set(err, 400, "ResourceNotFoundException",
                      "The specified log stream does not exist.");
    return s;
}

int logs_stream_delete(logs_engine_t *e, logs_group_t *g, const char *name, aws_error_t *err)
{
    logs_stream_t *s = logs_stream_find(g, name, err);
    if (!s)
        return -1;
    for (size_t i = 0; i < s->n; i++)
        g->stored_bytes -= s->events[i].len;
    if (e->j.stream_delete)
        e->j.stream_delete(e->j.ud, s->id);
    strmap_del(&g->streams, name, strlen(name));
    strmap_del(&e->streams, (const char *)&s->id, sizeof(s->id));
    stream_free(s);
    return 0;
}

bool logs_stream_span(const logs_stream_t *s, int64_t *first, int64_t *last)
{
    if (!s->n)
        return false;
    *first = s->events[0].ts;
    *last = s->events[s->n - 1].ts;
    return true;
}

typedef struct stream_order {
    bool by_time, descending;
} stream_order_t;

static stream_order_t g_order; /* qsort has no context argument; the engine is single-threaded */

static int stream_cmp(const void *pa, const void *pb)
{
    const logs_stream_t *a = *(const logs_stream_t *const *)pa;
    const logs_stream_t *b = *(const logs_stream_t *const *)pb;
    int c = 0;
    if (g_order.by_time) {
        int64_t ta = a->n ? a->events[a->n - 1].ts : INT64_MIN;
        int64_t tb = b->n ? b->events[b->n - 1].ts : INT64_MIN;
        c = ta < tb ? -1 : ta > tb;
    }
    if (c == 0)
        c = strcmp(a->name, b->name);
    return g_order.descending ? -c : c;
}

size_t logs_stream_list(const logs_group_t *g, const char *prefix, bool by_time, bool descending,
                        size_t offset, size_t limit, const logs_stream_t **out, bool *more)
{
    const logs_stream_t **all = xmalloc((g->streams.n + 1) * sizeof(*all));
    size_t n = 0, pos = 0, plen = prefix ? strlen(prefix) : 0;
    const strmap_slot_t *sl;
    while ((sl = strmap_next(&g->streams, &pos))) {
        const logs_stream_t *s = sl->val;
        if (!prefix || !strncmp(s->name, prefix, plen))
            all[n++] = s;
    }
    g_order = (stream_order_t){by_time, descending};
    qsort(all, n, sizeof(*all), stream_cmp);
    size_t k = 0;
    for (size_t i = offset; i < n && k < limit; i++)
        out[k++] = all[i];
    *more = offset + k < n;
    free(all);
    return k;
}

/* ---- events ------------------------------------------------------------------------ */

/* Inserts ev (taking its message) at its (ts, seq) place. */
static void stream_insert(logs_stream_t *s, const logs_event_t *ev)
{
    size_t lo = 0, hi = s->n;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->events = xrealloc(s->events, s->cap * sizeof(*s->events));
    }
    if (s->n && key_cmp(key_of(&s->events[s->n - 1]), key_of(ev)) > 0) {
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (key_cmp(key_of(&s->events[mid]), key_of(ev)) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    } else {
        lo = s->n;
    }
    memmove(s->events + lo + 1, s->events + lo, (s->n - lo) * sizeof(*s->events));
    s->events[lo] = *ev;
    s->n++;
    if (ev->ingest > s->last_ingest)
        s->last_ingest = ev->ingest;
    s->group->stored_bytes += ev->len;
}

/* Checks the batch rules that fail the whole request. */
static int batch_check(const logs_input_event_t *ev, size_t n, aws_error_t *err)
{
    size_t bytes = 0;
    if (n < 1 || n > LOGS_BATCH_EVENTS)
        return aws_error_set(err, 400, "InvalidParameterException",
                             "1 validation error detected: Value at 'logEvents' failed to "
                             "satisfy constraint: Member must have length %s %d",
                             n < 1 ? "greater than or equal to" : "less than or equal to",
                             n < 1 ? 1 : LOGS_BATCH_EVENTS);
    for (size_t i = 0; i < n; i++) {
        if (ev[i].len < 1)
            return aws_error_set(err, 400, "InvalidParameterException",
                                 "1 validation error detected: Value '' at "
                                 "'logEvents.%zu.member.message' failed to satisfy constraint: "
                                 "Member must have length greater than or equal to 1",
                                 i + 1);
        if (ev[i].len > LOGS_EVENT_MAX)
            return aws_error_set(err, 400, "InvalidParameterException",
                                 "Log event too large: %zu bytes exceeds limit of %d", ev[i].len,
                                 LOGS_EVENT_MAX);
        if (i && ev[i].ts < ev[i - 1].ts)
            return aws_error_set(err, 400, "InvalidParameterException",
                                 "Log events in a single PutLogEvents request must be in "
                                 "chronological order.");
        bytes += ev[i].len + LOGS_EVENT_OVERHEAD;
    }
    if (bytes > LOGS_BATCH_BYTES)
        return aws_error_set(err, 400, "InvalidParameterException",
                             "Upload too large: %zu bytes exceeds limit of %d", bytes,
                             LOGS_BATCH_BYTES);
    return 0;
}

int logs_events_put(logs_engine_t *e, logs_stream_t *s, const logs_input_event_t *ev, size_t n,
                    int64_t now_ms, logs_rejected_t *rej, aws_error_t *err)
{
    *rej = (logs_rejected_t){-1, -1, -1};
    if (batch_check(ev, n, err) < 0)
        return -1;
    int64_t cutoff = cutoff_of(s->group, now_ms);
    size_t old = 0, expired = 0, fresh = n;
    while (old < n && ev[old].ts < now_ms - LOGS_TOO_OLD_MS)
        old++;
    while (expired < n && ev[expired].ts < cutoff)
        expired++;
    while (fresh > 0 && ev[fresh - 1].ts > now_ms + LOGS_TOO_NEW_MS)
        fresh--;
    size_t first = old > expired ? old : expired;
    if (first < fresh && ev[fresh - 1].ts - ev[first].ts > LOGS_BATCH_SPAN_MS)
        return aws_error_set(err, 400, "InvalidParameterException",
                             "The batch of log events in a single PutLogEvents request cannot "
                             "span more than 24 hours.");
    rej->too_old_end = old ? (long)old : -1;
    rej->expired_end = expired ? (long)expired : -1;
    rej->too_new_start = fresh < n ? (long)fresh : -1;
    for (size_t i = first; i < fresh; i++) {
        logs_event_t x = {ev[i].ts, now_ms, ++e->next_seq, xmalloc(ev[i].len + 1), ev[i].len};
        memcpy(x.msg, ev[i].msg, x.len);
        x.msg[x.len] = '\0';
        stream_insert(s, &x);
        if (e->j.event_put) {
            logs_event_rec_t r = {x.seq, s->group->id, s->id, x.ts, now_ms, x.msg, x.len};
            e->j.event_put(e->j.ud, &r);
        }
    }
    s->uploads++;
    return 0;
}

/* ---- tokens ------------------------------------------------------------------------- */

static void token_write(char dir, evkey_t k, char out[LOGS_TOKEN_MAX])
{
    snprintf(out, LOGS_TOKEN_MAX, "%c/%020" PRIu64 "%020" PRIu64 "0000000000000000/s", dir, k.ts,
             k.seq);
}

/* Reads a token of direction dir ('f', 'b' or 'n'; *dir = 0 accepts 'f' or
 * 'b' and says which). 0, or -1 with err. */
static int token_read(const char *t, char *dir, evkey_t *k, aws_error_t *err)
{
    char a[21], b[21];
    size_t n = strlen(t);
    bool ok = n == 60 && t[1] == '/' && !strcmp(t + 58, "/s") &&
              (*dir ? t[0] == *dir : t[0] == 'f' || t[0] == 'b');
    for (size_t i = 2; ok && i < 58; i++)
        ok = t[i] >= '0' && t[i] <= '9';
    if (!ok)
        return aws_error_set(err, 400, "InvalidParameterException",
                             "The specified nextToken is invalid.");
    memcpy(a, t + 2, 20);
    memcpy(b, t + 22, 20);
    a[20] = b[20] = '\0';
    *dir = t[0];
    k->ts = strtoull(a, NULL, 10);
    k->seq = strtoull(b, NULL, 10);
    return 0;
}

void logs_event_id(const logs_stream_t *s, const logs_event_t *ev, char out[LOGS_TOKEN_MAX])
{
    evkey_t k = key_of(ev);
    snprintf(out, LOGS_TOKEN_MAX, "%020" PRIu64 "%020" PRIu64 "%016" PRIu64, k.ts, k.seq,
             (uint64_t)(s->id % 10000000000000000ull));
}

/* ---- reading ------------------------------------------------------------------------- */

/* First index of s whose ts >= ts. */
static size_t lower_ts(const logs_stream_t *s, int64_t ts)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->events[mid].ts < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First index of s whose key > k (strict) or >= k. */
static size_t lower_key(const logs_stream_t *s, evkey_t k, bool strict)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = key_cmp(key_of(&s->events[mid]), k);
        if (c < 0 || (strict && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static size_t clampz(size_t v, size_t lo, size_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int logs_events_get(const logs_stream_t *s, const logs_get_req_t *req, int64_t now_ms,
                    logs_get_page_t *out, aws_error_t *err)
{
    int64_t start = req->start, cutoff = cutoff_of(s->group, now_ms);
    size_t lo = lower_ts(s, start > cutoff ? start : cutoff);
    size_t hi = req->end == INT64_MAX ? s->n : lower_ts(s, req->end);
    char dir = 0;
    evkey_t k = {0, 0};
    size_t i, j;
    hi = hi < lo ? lo : hi;
    if (req->token && token_read(req->token, &dir, &k, err) < 0)
        return -1;
    bool forward = req->token ? dir == 'f' : req->from_head;
    if (forward) {
        i = req->token ? clampz(lower_key(s, k, true), lo, hi) : lo;
        j = i + req->limit < hi ? i + req->limit : hi;
        size_t bytes = 0;
        for (size_t x = i; x < j; x++)
            if ((bytes += s->events[x].len + LOGS_EVENT_OVERHEAD) > LOGS_RESPONSE_BYTES)
                j = x;
    } else {
        j = req->token ? clampz(lower_key(s, k, false), lo, hi) : hi;
        i = j - lo > req->limit ? j - req->limit : lo;
        size_t bytes = 0;
        for (size_t x = j; x > i; x--)
            if ((bytes += s->events[x - 1].len + LOGS_EVENT_OVERHEAD) > LOGS_RESPONSE_BYTES)
                i = x;
    }
    out->events = s->n ? s->events + i : NULL; /* an empty stream has no array */
    out->n = j - i;
    if (out->n) {
        token_write('f', key_of(&s->events[j - 1]), out->forward);
        token_write('b', key_of(&s->events[i]), out->backward);
        return 0;
    }
    /* Nothing here: the token passed in comes back, as AWS does at the end. */
    evkey_t before = i ? key_of(&s->events[i - 1]) : (evkey_t){0, 0};
    evkey_t after = i < s->n ? key_of(&s->events[i]) : (evkey_t){UINT64_MAX, UINT64_MAX};
    token_write('f', before, out->forward);
    token_write('b', after, out->backward);
    if (req->token)
        snprintf(dir == 'f' ? out->forward : out->backward, LOGS_TOKEN_MAX, "%s", req->token);
    return 0;
}

static int hit_cmp(const void *pa, const void *pb)
{
    const logs_hit_t *a = pa, *b = pb;
    return key_cmp(key_of(a->ev), key_of(b->ev));
}

typedef struct hits {
    logs_hit_t *v;
    size_t n, cap;
} hits_t;

static void stream_scan(const logs_stream_t *s, const logs_filter_req_t *req, int64_t from,
                        const evkey_t *after, hits_t *h)
{
    for (size_t i = lower_ts(s, from); i < s->n && s->events[i].ts <= req->end; i++) {
        const logs_event_t *ev = &s->events[i];
        if (after && key_cmp(key_of(ev), *after) <= 0)
            continue;
        if (req->filter && !logs_filter_match(req->filter, ev->msg, ev->len))
            continue;
        if (h->n == h->cap) {
            h->cap = h->cap ? h->cap * 2 : 64;
            h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
        }
        h->v[h->n++] = (logs_hit_t){s, ev};
    }
}

int logs_events_filter(const logs_group_t *g, const logs_filter_req_t *req, int64_t now_ms,
                       logs_hit_t **hits, size_t *n, char next[LOGS_TOKEN_MAX], aws_error_t *err)
{
    evkey_t after;
    char dir = 'n';
    hits_t h = {0};
    if (req->streams && req->prefix)
        return aws_error_set(err, 400, "InvalidParameterException",
                             "logStreamNames and logStreamNamePrefix are mutually exclusive.");
    if (req->token && token_read(req->token, &dir, &after, err) < 0)
        return -1;
    int64_t cutoff = cutoff_of(g, now_ms), from = req->start > cutoff ? req->start : cutoff;
    size_t plen = req->prefix ? strlen(req->prefix) : 0;
    if (req->streams) {
        for (size_t i = 0; i < req->n_streams; i++) {
            const logs_stream_t *s = logs_stream_find(g, req->streams[i], NULL);
            if (s)
                stream_scan(s, req, from, req->token ? &after : NULL, &h);
        }
    } else {
        size_t pos = 0;
        const strmap_slot_t *sl;
        while ((sl = strmap_next(&g->streams, &pos))) {
            const logs_stream_t *s = sl->val;
            if (!req->prefix || !strncmp(s->name, req->prefix, plen))
                stream_scan(s, req, from, req->token ? &after : NULL, &h);
        }
    }
    qsort(h.v, h.n, sizeof(*h.v), hit_cmp);
    size_t keep = h.n < req->limit ? h.n : req->limit, bytes = 0;
    for (size_t i = 0; i < keep; i++)
        if ((bytes += h.v[i].ev->len + LOGS_EVENT_OVERHEAD) > LOGS_RESPONSE_BYTES)
            keep = i ? i : 1;
    next[0] = '\0';
    if (keep < h.n)
        token_write('n', key_of(h.v[keep - 1].ev), next);
    *hits = h.v;
    *n = keep;
    return 0;
}

/* ---- restore ---------------------------------------------------------------------------- */

int logs_group_restore(logs_engine_t *e, uint64_t id, const void *blob, size_t len)
{
    char *copy, *f[RECORD_FIELDS_MAX];
    size_t n = record_split(blob, len, &copy, f, RECORD_FIELDS_MAX);
    int rc = -1;
    if (n != 8 || strcmp(f[0], "v1") || !id || strmap_get(&e->by_id, (const char *)&id, 8))
        goto out;
    if (logs_group_find(e, f[1], f[2], f[3], NULL))
        goto out;
    logs_group_t *g = group_add(e, id, f[1], f[2], f[3], strtoll(f[4], NULL, 10));
    g->retention_days = atoi(f[5]);
    if (*f[6])
        g->kms_key = xstrdup(f[6]);
    free(g->cls);
    g->cls = xstrdup(*f[7] ? f[7] : "STANDARD");
    rc = 0;
out:
    free(copy);
    return rc;
}

int logs_stream_restore(logs_engine_t *e, uint64_t id, const void *blob, size_t len)
{
    char *copy, *f[RECORD_FIELDS_MAX];
    size_t n = record_split(blob, len, &copy, f, RECORD_FIELDS_MAX);
    int rc = -1;
    uint64_t gid = n == 4 ? strtoull(f[1], NULL, 10) : 0;
    logs_group_t *g = gid ? strmap_get(&e->by_id, (const char *)&gid, 8) : NULL;
    if (!g || strcmp(f[0], "v1") || !id || strmap_get(&e->streams, (const char *)&id, 8) ||
        logs_stream_find(g, f[2], NULL))
        goto out;
    stream_add(e, g, id, f[2], strtoll(f[3], NULL, 10));
    rc = 0;
out:
    free(copy);
    return rc;
}

int logs_event_restore(logs_engine_t *e, const logs_event_rec_t *ev)
{
    logs_stream_t *s = strmap_get(&e->streams, (const char *)&ev->stream_id, 8);
    if (!s || s->group->id != ev->group_id)
        return -1;
    logs_event_t x = {ev->ts, ev->ingest, ev->seq, xmalloc(ev->len + 1), ev->len};
    memcpy(x.msg, ev->msg, ev->len);
    x.msg[x.len] = '\0';
    stream_insert(s, &x);
    if (ev->seq > e->next_seq)
        e->next_seq = ev->seq;
    return 0;
}
