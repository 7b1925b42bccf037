/*
 * esm — event source mappings as a pure registry; see esm.h.
 *
 * The registry is a list in creation order (accounts hold a handful of
 * mappings; every lookup is a walk). Records are JSON objects of the stored
 * fields.
 */
#include "lambda/esm.h"
#include "lambda/rec.h"
#include "base/ids.h"
#include "base/xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lambda_esm_reg {
    lambda_esm_journal_t j;
    lambda_esm_t **v;
    size_t n, cap;
};

static const char *const state_names[] = {
    [ESM_CREATING] = "Creating",   [ESM_ENABLING] = "Enabling", [ESM_ENABLED] = "Enabled",
    [ESM_DISABLING] = "Disabling", [ESM_DISABLED] = "Disabled", [ESM_UPDATING] = "Updating",
    [ESM_DELETING] = "Deleting",
};

const char *lambda_esm_state_name(lambda_esm_state_t s)
{
    return state_names[s];
}

void lambda_esm_set_str(char **field, const char *s)
{
    if (*field && s && !strcmp(*field, s))
        return;
    free(*field);
    *field = s ? xstrdup(s) : NULL;
}

lambda_esm_reg_t *lambda_esm_reg_new(const lambda_esm_journal_t *j)
{
    lambda_esm_reg_t *r = xcalloc(1, sizeof(*r));
    if (j)
        r->j = *j;
    return r;
}

static void filters_free(lambda_esm_t *m)
{
    for (size_t k = 0; k < m->n_filters; k++)
        free(m->filters[k]);
    free(m->filters);
    m->filters = NULL;
    m->n_filters = 0;
}

static void esm_free(lambda_esm_t *m)
{
    filters_free(m);
    free(m->source_arn);
    free(m->function_arn);
    free(m->reason);
    free(m->last_result);
    free(m);
}

void lambda_esm_reg_free(lambda_esm_reg_t *r)
{
    if (!r)
        return;
    for (size_t k = 0; k < r->n; k++)
        esm_free(r->v[k]);
    free(r->v);
    free(r);
}

static void journal_put(lambda_esm_reg_t *r, const lambda_esm_t *m)
{
    if (r->j.put)
        r->j.put(r->j.ud, m);
}

void lambda_esm_touch(lambda_esm_reg_t *r, lambda_esm_t *m)
{
    journal_put(r, m);
}

/* ---- parameters ----------------------------------------------------------------------------- */

static int invalid(aws_error_t *err, const char *msg)
{
    return aws_error_set(err, 400, "InvalidParameterValueException", "%s", msg);
}

int lambda_esm_check(const lambda_esm_params_t *p, const lambda_esm_t *base, bool fifo,
                     aws_error_t *err)
{
    int batch = p->batch_size ? p->batch_size : base ? base->batch_size : ESM_BATCH_DEFAULT;
    int window = p->window_s >= 0 ? p->window_s : base ? base->window_s : 0;
    if (batch < 1 || batch > (fifo ? ESM_BATCH_MAX_FIFO : ESM_BATCH_MAX_STANDARD)) {
        return aws_error_set(err, 400, "InvalidParameterValueException",
                             "BatchSize must be between 1 and %d for %s SQS queue.",
                             fifo ? ESM_BATCH_MAX_FIFO : ESM_BATCH_MAX_STANDARD,
                             fifo ? "a FIFO" : "a standard");
    }
    if (window < 0 || window > ESM_WINDOW_MAX)
        return invalid(err, "MaximumBatchingWindowInSeconds must be between 0 and 300.");
    if (fifo && window > 0)
        return invalid(err, "Batching window is not supported for FIFO queues.");
    if (batch > 10 && window < 1)
        return invalid(err, "Maximum batch window in seconds must be greater than 0 if maximum "
                            "batch size is greater than 10");
    if (p->max_concurrency > 0 && (p->max_concurrency < ESM_MAX_CONCURRENCY_MIN ||
                                   p->max_concurrency > ESM_MAX_CONCURRENCY_MAX))
        return invalid(err, "MaximumConcurrency must be between 2 and 1000.");
    return 0;
}

static void apply(lambda_esm_t *m, const lambda_esm_params_t *p)
{
    if (p->batch_size)
        m->batch_size = p->batch_size;
    if (p->window_s >= 0)
        m->window_s = p->window_s;
    if (p->max_concurrency >= 0)
        m->max_concurrency = p->max_concurrency;
    if (p->report_failures >= 0)
        m->report_failures = p->report_failures;
    if (p->has_filters) {
        filters_free(m);
        m->filters = p->n_filters ? xcalloc(p->n_filters, sizeof(char *)) : NULL;
        for (size_t k = 0; k < p->n_filters; k++)
            m->filters[k] = xstrdup(p->filters[k]);
        m->n_filters = p->n_filters;
    }
}

/* ---- registry ------------------------------------------------------------------------------- */

static lambda_esm_t *find_pair(lambda_esm_reg_t *r, const char *account, const char *region,
                               const char *source_arn, const char *name, const char *qualifier,
                               const lambda_esm_t *except)
{
    for (size_t k = 0; k < r->n; k++) {
        lambda_esm_t *m = r->v[k];
        if (m != except && !strcmp(m->account, account) && !strcmp(m->region, region) &&
            !strcmp(m->source_arn, source_arn) && !strcmp(m->name, name) &&
            !strcmp(m->qualifier, qualifier))
            return m;
    }
    return NULL;
}

static int conflict(const lambda_esm_t *m, const char *source_arn, const char *name,
                    aws_error_t *err)
{
    return aws_error_set(err, 409, "ResourceConflictException",
                         "An event source mapping with SQS arn (\" %s \") and function (\" %s \") "
                         "already exists. Please update or delete the existing mapping with UUID "
                         "%s",
                         source_arn, name, m->uuid);
}

static void add(lambda_esm_reg_t *r, lambda_esm_t *m)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 8;
        r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
    }
    r->v[r->n++] = m;
}

int lambda_esm_create(lambda_esm_reg_t *r, const char *account, const char *region,
                      const char *source_arn, bool fifo, const char *function_arn, const char *name,
                      const char *qualifier, const lambda_esm_params_t *p, uint64_t now_ms,
                      lambda_esm_t **out, aws_error_t *err)
{
    const lambda_esm_t *dup = find_pair(r, account, region, source_arn, name, qualifier, NULL);
    if (dup)
        return conflict(dup, source_arn, name, err);
    lambda_esm_t *m = xcalloc(1, sizeof(*m));
    ids_uuid4(m->uuid);
    snprintf(m->account, sizeof(m->account), "%s", account);
    snprintf(m->region, sizeof(m->region), "%s", region);
    snprintf(m->name, sizeof(m->name), "%s", name);
    snprintf(m->qualifier, sizeof(m->qualifier), "%s", qualifier);
    m->source_arn = xstrdup(source_arn);
    m->function_arn = xstrdup(function_arn);
    m->fifo = fifo;
    m->batch_size = ESM_BATCH_DEFAULT;
    apply(m, p);
    m->enabled = p->enabled != 0;
    m->state = ESM_CREATING;
    m->reason = xstrdup("USER_INITIATED");
    m->last_result = xstrdup("No records processed");
    m->last_modified_ms = now_ms;
    add(r, m);
    journal_put(r, m);
    *out = m;
    return 0;
}

int lambda_esm_update(lambda_esm_reg_t *r, lambda_esm_t *m, const lambda_esm_params_t *p,
                      const char *function_arn, const char *name, const char *qualifier,
                      uint64_t now_ms, aws_error_t *err)
{
    if (m->state == ESM_DELETING)
        return aws_error_set(err, 409, "ResourceInUseException",
                             "Cannot update the event source mapping because it is in use.");
    if (function_arn) {
        const lambda_esm_t *dup =
            find_pair(r, m->account, m->region, m->source_arn, name, qualifier, m);
        if (dup)
            return conflict(dup, m->source_arn, name, err);
        lambda_esm_set_str(&m->function_arn, function_arn);
        snprintf(m->name, sizeof(m->name), "%s", name);
        snprintf(m->qualifier, sizeof(m->qualifier), "%s", qualifier);
    }
    apply(m, p);
    if (p->enabled >= 0 && (p->enabled != 0) != m->enabled) {
        m->enabled = p->enabled != 0;
        m->state = m->enabled ? ESM_ENABLING : ESM_DISABLING;
    } else if (m->state == ESM_ENABLED || m->state == ESM_DISABLED) {
        m->state = ESM_UPDATING;
    }
    lambda_esm_set_str(&m->reason, "USER_INITIATED");
    m->last_modified_ms = now_ms;
    journal_put(r, m);
    return 0;
}

int lambda_esm_delete(lambda_esm_reg_t *r, lambda_esm_t *m, aws_error_t *err)
{
    if (m->state == ESM_DELETING)
        return aws_error_set(err, 409, "ResourceInUseException",
                             "Cannot delete the event source mapping because it is in use.");
    m->state = ESM_DELETING;
    lambda_esm_set_str(&m->reason, "USER_INITIATED");
    journal_put(r, m);
    return 0;
}

void lambda_esm_remove(lambda_esm_reg_t *r, lambda_esm_t *m)
{
    for (size_t k = 0; k < r->n; k++) {
        if (r->v[k] != m)
            continue;
        if (r->j.del)
            r->j.del(r->j.ud, m);
        memmove(&r->v[k], &r->v[k + 1], (r->n - k - 1) * sizeof(*r->v));
        r->n--;
        esm_free(m);
        return;
    }
}

lambda_esm_t *lambda_esm_get(lambda_esm_reg_t *r, const char *account, const char *region,
                             const char *uuid, aws_error_t *err)
{
    for (size_t k = 0; uuid && k < r->n; k++)
        if (!strcmp(r->v[k]->uuid, uuid) && !strcmp(r->v[k]->account, account) &&
            !strcmp(r->v[k]->region, region))
            return r->v[k];
    aws_error_set(err, 404, "ResourceNotFoundException",
                  "The resource you requested does not exist.");
    return NULL;
}

size_t lambda_esm_list(lambda_esm_reg_t *r, const char *account, const char *region,
                       const char *source_arn, const char *name, const char *qualifier,
                       const char *after, lambda_esm_t **out, size_t cap, bool *more)
{
    size_t n = 0, k = 0;
    *more = false;
    if (after && after[0]) {
        while (k < r->n && strcmp(r->v[k]->uuid, after))
            k++;
        k++;
    }
    for (; k < r->n; k++) {
        lambda_esm_t *m = r->v[k];
        if (strcmp(m->account, account) || strcmp(m->region, region) ||
            (source_arn && strcmp(m->source_arn, source_arn)) || (name && strcmp(m->name, name)) ||
            (name && qualifier && qualifier[0] && strcmp(m->qualifier, qualifier)))
            continue;
        if (n == cap) {
            *more = true;
            break;
        }
        out[n++] = m;
    }
    return n;
}

lambda_esm_t *lambda_esm_first(lambda_esm_reg_t *r)
{
    return r->n ? r->v[0] : NULL;
}

lambda_esm_t *lambda_esm_next(lambda_esm_reg_t *r, const lambda_esm_t *m)
{
    for (size_t k = 0; k + 1 < r->n; k++)
        if (r->v[k] == m)
            return r->v[k + 1];
    return NULL;
}

/* ---- batch responses ------------------------------------------------------------------------ */

int lambda_esm_failures(const char *payload, size_t len, const char *const *ids,
                        const char *const *groups, size_t n, bool fifo, bool *failed)
{
    if (!len)
        return 0;
    json_t *doc = json_loadb(payload, len, JSON_DECODE_ANY, NULL);
    json_t *list = json_is_object(doc) ? json_object_get(doc, "batchItemFailures") : NULL;
    bool ok = doc && (json_is_null(doc) || json_is_object(doc)) &&
              (!list || json_is_null(list) || json_is_array(list));
    size_t k;
    json_t *e;
    json_array_foreach(list, k, e)
    {
        const char *id = json_string_value(json_object_get(e, "itemIdentifier"));
        size_t at = 0;
        while (id && at < n && strcmp(ids[at], id))
            at++;
        if (!id || !id[0] || at == n) {
            ok = false;
            break;
        }
        failed[at] = true;
    }
    json_decref(doc);
    for (size_t i = 0; ok && fifo && i < n; i++)
        for (size_t j = i + 1; failed[i] && j < n; j++)
            if (groups[i] && groups[j] && !strcmp(groups[i], groups[j]))
                failed[j] = true;
    return ok ? 0 : -1;
}

/* ---- records -------------------------------------------------------------------------------- */

char *lambda_esm_record(const lambda_esm_t *m, size_t *len)
{
    json_t *filters = json_array();
    for (size_t k = 0; k < m->n_filters; k++)
        json_array_append_new(filters, json_string(m->filters[k]));
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:b, s:b, s:o, s:i, s:s*, s:s*, "
        "s:I}",
        "uuid", m->uuid, "account", m->account, "region", m->region, "source", m->source_arn,
        "function", m->function_arn, "name", m->name, "qualifier", m->qualifier, "fifo", m->fifo,
        "batch", m->batch_size, "window", m->window_s, "maxConcurrency", m->max_concurrency,
        "reportFailures", m->report_failures, "enabled", m->enabled, "filters", filters, "state",
        (int)m->state, "reason", m->reason, "lastResult", m->last_result, "modified",
        (json_int_t)m->last_modified_ms);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    *len = strlen(s);
    return s;
}

int lambda_esm_restore(lambda_esm_reg_t *r, const void *blob, size_t len)
{
    json_t *o = json_loadb(blob, len, 0, NULL), *filters = NULL;
    const char *uuid = NULL, *account = NULL, *region = NULL, *source = NULL, *function = NULL,
               *name = NULL, *qualifier = NULL, *reason = NULL, *last = NULL;
    int fifo = 0, batch = 0, window = 0, maxc = 0, rf = 0, enabled = 0, state = 0;
    json_int_t modified = 0;
    if (!o ||
        json_unpack(o,
                    "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:b, s:b, s:o, "
                    "s:i, s?s, s?s, s:I}",
                    "uuid", &uuid, "account", &account, "region", &region, "source", &source,
                    "function", &function, "name", &name, "qualifier", &qualifier, "fifo", &fifo,
                    "batch", &batch, "window", &window, "maxConcurrency", &maxc, "reportFailures",
                    &rf, "enabled", &enabled, "filters", &filters, "state", &state, "reason",
                    &reason, "lastResult", &last, "modified", &modified) < 0 ||
        !json_is_array(filters) || state < 0 || state > ESM_DELETING) {
        json_decref(o);
        return -1;
    }
    lambda_esm_t *m = xcalloc(1, sizeof(*m));
    bool ok = lambda_rec_str(m->uuid, sizeof(m->uuid), o, "uuid") == 0 &&
              lambda_rec_str(m->account, sizeof(m->account), o, "account") == 0 &&
              lambda_rec_str(m->region, sizeof(m->region), o, "region") == 0 &&
              lambda_rec_str(m->name, sizeof(m->name), o, "name") == 0 &&
              lambda_rec_str(m->qualifier, sizeof(m->qualifier), o, "qualifier") == 0;
    m->source_arn = xstrdup(source);
    m->function_arn = xstrdup(function);
    m->fifo = fifo;
    m->batch_size = batch;
    m->window_s = window;
    m->max_concurrency = maxc;
    m->report_failures = rf;
    m->enabled = enabled;
    m->reason = reason ? xstrdup(reason) : NULL;
    m->last_result = last ? xstrdup(last) : NULL;
    m->last_modified_ms = (uint64_t)modified;
    m->n_filters = json_array_size(filters);
    m->filters = m->n_filters ? xcalloc(m->n_filters, sizeof(char *)) : NULL;
    for (size_t k = 0; k < m->n_filters; k++) {
        const char *f = json_string_value(json_array_get(filters, k));
        m->filters[k] = xstrdup(f ? f : "");
        ok = ok && f;
    }
    /* what was in passing when the server stopped is settled now */
    m->state = state == ESM_DELETING ? ESM_DELETING : enabled ? ESM_ENABLED : ESM_DISABLED;
    json_decref(o);
    lambda_esm_t *other = NULL;
    for (size_t k = 0; ok && k < r->n; k++)
        if (!strcmp(r->v[k]->uuid, m->uuid))
            other = r->v[k];
    if (!ok || other || batch < 1 || batch > ESM_BATCH_MAX_STANDARD || window < 0 ||
        window > ESM_WINDOW_MAX) {
        esm_free(m);
        return -1;
    }
    add(r, m);
    return 0;
}
