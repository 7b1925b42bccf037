/*
 * async — pending asynchronous invocations and event invoke configurations;
 * see async.h.
 *
 * Both live in plain arrays: a server holds few configurations, and the
 * pending events are few at a time on a developer's machine (next_due is a
 * scan, O(events)). Records are JSON documents of their own format:
 *
 *   event: {"id","request_id","account","region","name","qualifier",
 *           "payload"(base64),"enqueued","due","attempts","throttles"}
 *   eic:   {"account","region","name","qualifier","max_retry","max_age",
 *           "on_success","on_failure","modified"}
 */
#include "lambda/async.h"
#include "lambda/rec.h"
#include "base/b64.h"
#include "base/xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lambda_async {
    lambda_async_journal_t j;
    double scale;
    lambda_eic_t **eics;
    size_t n_eics, cap_eics;
    lambda_event_t **events;
    size_t n_events, cap_events;
    uint64_t next_id;
};

lambda_async_t *lambda_async_new(const lambda_async_journal_t *j, double retry_scale)
{
    lambda_async_t *as = xcalloc(1, sizeof(*as));
    if (j)
        as->j = *j;
    as->scale = retry_scale >= 0 ? retry_scale : 1.0;
    as->next_id = 1;
    return as;
}

static void eic_free(lambda_eic_t *c)
{
    free(c->on_success);
    free(c->on_failure);
    free(c);
}

static void event_free(lambda_event_t *ev)
{
    free(ev->payload);
    free(ev);
}

void lambda_async_free(lambda_async_t *as)
{
    if (!as)
        return;
    for (size_t i = 0; i < as->n_eics; i++)
        eic_free(as->eics[i]);
    for (size_t i = 0; i < as->n_events; i++)
        event_free(as->events[i]);
    free(as->eics);
    free(as->events);
    free(as);
}

/* ---- event invoke configuration ----------------------------------------------------------- */

static const char *qual_of(const char *q)
{
    return q && *q ? q : "$LATEST";
}

static bool eic_is(const lambda_eic_t *c, const char *account, const char *region, const char *name)
{
    return !strcmp(c->account, account) && !strcmp(c->region, region) && !strcmp(c->name, name);
}

static lambda_eic_t *eic_find(const lambda_async_t *as, const char *account, const char *region,
                              const char *name, const char *qualifier)
{
    for (size_t i = 0; i < as->n_eics; i++) {
        lambda_eic_t *c = as->eics[i];
        if (eic_is(c, account, region, name) && !strcmp(c->qualifier, qual_of(qualifier)))
            return c;
    }
    return NULL;
}

const lambda_eic_t *lambda_eic_get(const lambda_async_t *as, const char *account,
                                   const char *region, const char *name, const char *qualifier)
{
    return eic_find(as, account, region, name, qualifier);
}

static void eic_add(lambda_async_t *as, lambda_eic_t *c)
{
    if (as->n_eics == as->cap_eics) {
        as->cap_eics = as->cap_eics ? 2 * as->cap_eics : 8;
        as->eics = xrealloc(as->eics, as->cap_eics * sizeof(*as->eics));
    }
    as->eics[as->n_eics++] = c;
}

static int eic_check(const lambda_eic_in_t *in, aws_error_t *err)
{
    if (in->max_retry != -1 && (in->max_retry < 0 || in->max_retry > LAMBDA_RETRY_MAX))
        return aws_error_set(err, 400, "ValidationException",
                             "1 validation error detected: Value '%d' at 'maximumRetryAttempts' "
                             "failed to satisfy constraint: Member must have value %s",
                             in->max_retry,
                             in->max_retry < 0 ? "greater than or equal to 0"
                                               : "less than or equal to 2");
    if (in->max_age_s != -1 &&
        (in->max_age_s < LAMBDA_EVENT_AGE_MIN || in->max_age_s > LAMBDA_EVENT_AGE_MAX))
        return aws_error_set(err, 400, "ValidationException",
                             "1 validation error detected: Value '%d' at "
                             "'maximumEventAgeInSeconds' failed to satisfy constraint: Member "
                             "must have value %s",
                             in->max_age_s,
                             in->max_age_s < LAMBDA_EVENT_AGE_MIN ? "greater than or equal to 60"
                                                                  : "less than or equal to 21600");
    return 0;
}

static void set_dest(char **dst, const char *arn)
{
    free(*dst);
    *dst = arn && *arn ? xstrdup(arn) : NULL;
}

int lambda_eic_put(lambda_async_t *as, const char *account, const char *region, const char *name,
                   const char *qualifier, const lambda_eic_in_t *in, bool update, uint64_t now_ms,
                   const lambda_eic_t **out, aws_error_t *err)
{
    lambda_eic_t *c = eic_find(as, account, region, name, qualifier);
    if (eic_check(in, err) < 0)
        return -1;
    if (update && !c)
        return aws_error_set(err, 404, "ResourceNotFoundException",
                             "The function %s doesn't have an EventInvokeConfig", name);
    if (!c) {
        c = xcalloc(1, sizeof(*c));
        snprintf(c->account, sizeof(c->account), "%s", account);
        snprintf(c->region, sizeof(c->region), "%s", region);
        snprintf(c->name, sizeof(c->name), "%s", name);
        snprintf(c->qualifier, sizeof(c->qualifier), "%s", qual_of(qualifier));
        eic_add(as, c);
    }
    if (!update) { /* Put replaces the whole configuration */
        c->max_retry = c->max_age_s = -1;
        set_dest(&c->on_success, NULL);
        set_dest(&c->on_failure, NULL);
    }
    if (in->max_retry != -1 || !update)
        c->max_retry = in->max_retry;
    if (in->max_age_s != -1 || !update)
        c->max_age_s = in->max_age_s;
    if (in->has_destinations || !update) {
        if (in->on_success || !update)
            set_dest(&c->on_success, in->on_success);
        if (in->on_failure || !update)
            set_dest(&c->on_failure, in->on_failure);
    }
    c->last_modified_ms = now_ms;
    if (as->j.eic_put)
        as->j.eic_put(as->j.ud, c);
    *out = c;
    return 0;
}

int lambda_eic_delete(lambda_async_t *as, const char *account, const char *region, const char *name,
                      const char *qualifier)
{
    int rc = -1;
    for (size_t i = 0; i < as->n_eics;) {
        lambda_eic_t *c = as->eics[i];
        if (!eic_is(c, account, region, name) ||
            (qualifier && strcmp(c->qualifier, qual_of(qualifier)))) {
            i++;
            continue;
        }
        if (as->j.eic_del)
            as->j.eic_del(as->j.ud, c);
        eic_free(c);
        as->eics[i] = as->eics[--as->n_eics];
        rc = 0;
    }
    return rc;
}

static int eic_cmp(const void *a, const void *b)
{
    return strcmp((*(const lambda_eic_t *const *)a)->qualifier,
                  (*(const lambda_eic_t *const *)b)->qualifier);
}

size_t lambda_eic_list(const lambda_async_t *as, const char *account, const char *region,
                       const char *name, const lambda_eic_t **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < as->n_eics && n < cap; i++)
        if (eic_is(as->eics[i], account, region, name))
            out[n++] = as->eics[i];
    qsort(out, n, sizeof(*out), eic_cmp);
    return n;
}

/* ---- events ------------------------------------------------------------------------------- */

static void event_add(lambda_async_t *as, lambda_event_t *ev)
{
    if (as->n_events == as->cap_events) {
        as->cap_events = as->cap_events ? 2 * as->cap_events : 16;
        as->events = xrealloc(as->events, as->cap_events * sizeof(*as->events));
    }
    as->events[as->n_events++] = ev;
    if (ev->id >= as->next_id)
        as->next_id = ev->id + 1;
}

const lambda_event_t *lambda_async_enqueue(lambda_async_t *as, const char *account,
                                           const char *region, const char *name,
                                           const char *qualifier, const char *request_id,
                                           const void *payload, size_t len, uint64_t now_ms)
{
    lambda_event_t *ev = xcalloc(1, sizeof(*ev));
    ev->id = as->next_id;
    snprintf(ev->request_id, sizeof(ev->request_id), "%s", request_id);
    snprintf(ev->account, sizeof(ev->account), "%s", account);
    snprintf(ev->region, sizeof(ev->region), "%s", region);
    snprintf(ev->name, sizeof(ev->name), "%s", name);
    snprintf(ev->qualifier, sizeof(ev->qualifier), "%s", qualifier ? qualifier : "");
    ev->payload = xmalloc(len + 1);
    memcpy(ev->payload, payload, len);
    ev->payload[len] = '\0';
    ev->len = len;
    ev->enqueued_ms = ev->due_ms = now_ms;
    event_add(as, ev);
    if (as->j.event_put)
        as->j.event_put(as->j.ud, ev);
    return ev;
}

uint64_t lambda_async_next_due(const lambda_async_t *as)
{
    uint64_t due = UINT64_MAX;
    for (size_t i = 0; i < as->n_events; i++)
        if (!as->events[i]->running && as->events[i]->due_ms < due)
            due = as->events[i]->due_ms;
    return due;
}

static int max_age_s(const lambda_async_t *as, const lambda_event_t *ev)
{
    const lambda_eic_t *c = eic_find(as, ev->account, ev->region, ev->name, ev->qualifier);
    return c && c->max_age_s >= 0 ? c->max_age_s : LAMBDA_EVENT_AGE_MAX;
}

static int max_retry(const lambda_async_t *as, const lambda_event_t *ev)
{
    const lambda_eic_t *c = eic_find(as, ev->account, ev->region, ev->name, ev->qualifier);
    return c && c->max_retry >= 0 ? c->max_retry : LAMBDA_RETRY_MAX;
}

lambda_event_t *lambda_async_take(lambda_async_t *as, uint64_t now_ms, bool *aged)
{
    lambda_event_t *best = NULL;
    for (size_t i = 0; i < as->n_events; i++) {
        lambda_event_t *ev = as->events[i];
        if (!ev->running && ev->due_ms <= now_ms && (!best || ev->due_ms < best->due_ms))
            best = ev;
    }
    if (!best)
        return NULL;
    best->running = true;
    *aged = now_ms - best->enqueued_ms > (uint64_t)max_age_s(as, best) * 1000;
    return best;
}

static uint64_t scaled(const lambda_async_t *as, uint64_t ms)
{
    return (uint64_t)((double)ms * as->scale);
}

lambda_verdict_t lambda_async_report(lambda_async_t *as, lambda_event_t *ev,
                                     lambda_outcome_t outcome, uint64_t now_ms)
{
    uint64_t delay;
    if (outcome == LAMBDA_OUTCOME_SUCCESS) {
        ev->attempts++;
        return LAMBDA_VERDICT_SUCCESS;
    }
    if (outcome == LAMBDA_OUTCOME_THROTTLE) {
        /* not an attempt: AWS retries throttles until the event's age runs out */
        uint32_t k = ev->throttles < 9 ? ev->throttles : 9;
        delay = LAMBDA_THROTTLE_FIRST_MS << k;
        if (delay > LAMBDA_THROTTLE_MAX_MS)
            delay = LAMBDA_THROTTLE_MAX_MS;
        ev->throttles++;
    } else {
        ev->attempts++;
        ev->throttles = 0;
        if (ev->attempts > (uint32_t)max_retry(as, ev))
            return LAMBDA_VERDICT_EXHAUSTED;
        delay = LAMBDA_RETRY_FIRST_MS * ev->attempts; /* ~1 min, then ~2 min */
    }
    ev->due_ms = now_ms + scaled(as, delay);
    if (ev->due_ms - ev->enqueued_ms > (uint64_t)max_age_s(as, ev) * 1000)
        return LAMBDA_VERDICT_AGED; /* it would be too old by its next attempt */
    ev->running = false;
    if (as->j.event_put)
        as->j.event_put(as->j.ud, ev);
    return LAMBDA_VERDICT_RETRY;
}

void lambda_async_finish(lambda_async_t *as, lambda_event_t *ev)
{
    for (size_t i = 0; i < as->n_events; i++) {
        if (as->events[i] != ev)
            continue;
        as->events[i] = as->events[--as->n_events];
        if (as->j.event_del)
            as->j.event_del(as->j.ud, ev);
        event_free(ev);
        return;
    }
}

void lambda_async_release(lambda_async_t *as, lambda_event_t *ev)
{
    (void)as;
    ev->running = false;
}

size_t lambda_async_count(const lambda_async_t *as)
{
    return as->n_events;
}

/* ---- records ------------------------------------------------------------------------------ */

static char *dump(json_t *doc, size_t *len)
{
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    *len = strlen(s);
    return s;
}

char *lambda_event_record(const lambda_event_t *ev, size_t *len)
{
    char *b64 = xmalloc(b64_encoded_len(ev->len) + 1);
    b64_encode_into(ev->payload, ev->len, b64);
    json_t *doc =
        json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "id",
                  (json_int_t)ev->id, "request_id", ev->request_id, "account", ev->account,
                  "region", ev->region, "name", ev->name, "qualifier", ev->qualifier, "payload",
                  b64, "enqueued", (json_int_t)ev->enqueued_ms, "due", (json_int_t)ev->due_ms,
                  "attempts", (json_int_t)ev->attempts, "throttles", (json_int_t)ev->throttles);
    free(b64);
    return dump(doc, len);
}

char *lambda_eic_record(const lambda_eic_t *c, size_t *len)
{
    json_t *doc =
        json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s?, s:s?, s:I}", "account", c->account,
                  "region", c->region, "name", c->name, "qualifier", c->qualifier, "max_retry",
                  c->max_retry, "max_age", c->max_age_s, "on_success", c->on_success, "on_failure",
                  c->on_failure, "modified", (json_int_t)c->last_modified_ms);
    return dump(doc, len);
}

static json_int_t num(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static int event_read(const json_t *doc, lambda_event_t *ev)
{
    const char *b64 = json_string_value(json_object_get(doc, "payload"));
    if (!b64 || lambda_rec_str(ev->request_id, sizeof(ev->request_id), doc, "request_id") < 0 ||
        lambda_rec_str(ev->account, sizeof(ev->account), doc, "account") < 0 ||
        lambda_rec_str(ev->region, sizeof(ev->region), doc, "region") < 0 ||
        lambda_rec_str(ev->name, sizeof(ev->name), doc, "name") < 0 ||
        lambda_rec_str(ev->qualifier, sizeof(ev->qualifier), doc, "qualifier") < 0 ||
        num(doc, "id") <= 0 || num(doc, "attempts") < 0 || num(doc, "throttles") < 0)
        return -1;
    ev->payload = xmalloc(b64_decoded_max(strlen(b64)) + 1);
    if (b64_decode(b64, strlen(b64), (uint8_t *)ev->payload, &ev->len) < 0)
        return -1;
    ev->payload[ev->len] = '\0';
    ev->id = (uint64_t)num(doc, "id");
    ev->enqueued_ms = (uint64_t)num(doc, "enqueued");
    ev->due_ms = (uint64_t)num(doc, "due");
    ev->attempts = (uint32_t)num(doc, "attempts");
    ev->throttles = (uint32_t)num(doc, "throttles");
    return 0;
}

int lambda_async_restore_event(lambda_async_t *as, const void *blob, size_t len)
{
    json_error_t jerr;
    json_t *doc = json_loadb(blob, len, 0, &jerr);
    lambda_event_t *ev = xcalloc(1, sizeof(*ev));
    int rc = -1;
    if (!json_is_object(doc) || event_read(doc, ev) < 0) {
        event_free(ev);
        goto out;
    }
    event_add(as, ev);
    rc = 0;
out:
    json_decref(doc);
    return rc;
}

int lambda_async_restore_eic(lambda_async_t *as, const void *blob, size_t len)
{
    json_error_t jerr;
    json_t *doc = json_loadb(blob, len, 0, &jerr);
    lambda_eic_t *c = xcalloc(1, sizeof(*c));
    lambda_eic_in_t in = {(int)num(doc, "max_retry"), (int)num(doc, "max_age"), NULL, NULL, false};
    aws_error_t err;
    int rc = -1;
    if (!json_is_object(doc) ||
        lambda_rec_str(c->account, sizeof(c->account), doc, "account") < 0 ||
        lambda_rec_str(c->region, sizeof(c->region), doc, "region") < 0 ||
        lambda_rec_str(c->name, sizeof(c->name), doc, "name") < 0 ||
        lambda_rec_str(c->qualifier, sizeof(c->qualifier), doc, "qualifier") < 0 ||
        !c->qualifier[0] || eic_check(&in, &err) < 0 ||
        eic_find(as, c->account, c->region, c->name, c->qualifier)) {
        eic_free(c);
        goto out;
    }
    c->max_retry = in.max_retry;
    c->max_age_s = in.max_age_s;
    set_dest(&c->on_success, json_string_value(json_object_get(doc, "on_success")));
    set_dest(&c->on_failure, json_string_value(json_object_get(doc, "on_failure")));
    c->last_modified_ms = (uint64_t)num(doc, "modified");
    eic_add(as, c);
    rc = 0;
out:
    json_decref(doc);
    return rc;
}
