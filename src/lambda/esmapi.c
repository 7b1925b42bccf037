/*
 * esmapi — Create/Get/Update/Delete/ListEventSourceMappings (REST-JSON,
 * /2015-03-31/event-source-mappings), for SQS queues.
 *
 * Create and Update check what AWS checks: the model's ranges
 * (ValidationException), Lambda's rules for SQS (lambda_esm_check), that the
 * queue exists, that the function's execution role may receive, delete and
 * read the attributes of the queue's messages (no queue policy is needed),
 * and that the queue's visibility timeout is at least the function's
 * timeout. Responses are the mapping as AWS shows it; Create, Update and
 * Delete answer 202 with the State in passing, which the poller settles.
 */
#include "lambda/api_int.h"
#include "lambda/evfilter.h"
#include "lambda/service.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ESM_LIST_DEFAULT 100

static lambda_service_t *svc_of(const aws_call_t *c)
{
    return c->svc->state;
}

static json_t *esm_json(const lambda_esm_t *m)
{
    char arn[200];
    snprintf(arn, sizeof(arn), "arn:aws:lambda:%s:%s:event-source-mapping:%s", m->region,
             m->account, m->uuid);
    json_t *types = json_array();
    if (m->report_failures)
        json_array_append_new(types, json_string("ReportBatchItemFailures"));
    json_t *o =
        json_pack("{s:s, s:i, s:i, s:s, s:s, s:f, s:s?, s:s, s:s?, s:o, s:s}", "UUID", m->uuid,
                  "BatchSize", m->batch_size, "MaximumBatchingWindowInSeconds", m->window_s,
                  "EventSourceArn", m->source_arn, "FunctionArn", m->function_arn, "LastModified",
                  (double)m->last_modified_ms / 1000.0, "LastProcessingResult", m->last_result,
                  "State", lambda_esm_state_name(m->state), "StateTransitionReason", m->reason,
                  "FunctionResponseTypes", types, "EventSourceMappingArn", arn);
    if (m->n_filters) {
        json_t *filters = json_array();
        for (size_t k = 0; k < m->n_filters; k++)
            json_array_append_new(filters, json_pack("{s:s}", "Pattern", m->filters[k]));
        json_object_set_new(o, "FilterCriteria", json_pack("{s:o}", "Filters", filters));
    }
    if (m->max_concurrency)
        json_object_set_new(o, "ScalingConfig",
                            json_pack("{s:i}", "MaximumConcurrency", m->max_concurrency));
    return o;
}

int lambda_api_res_esm(aws_call_t *c, buf_t *arn)
{
    const char *uuid = aws_jstr(c->in, "UUID");
    buf_printf(arn, "arn:aws:lambda:%s:%s:event-source-mapping:%s", c->region, c->principal.account,
               uuid ? uuid : "");
    return 0;
}

/* ---- parameters ----------------------------------------------------------------------------- */

static int range(aws_call_t *c, const char *member, const char *what, long long lo, long long hi,
                 int *out)
{
    const json_t *v = json_object_get(c->in, member);
    if (!v)
        return 0;
    long long n = json_integer_value(v);
    char constraint[80];
    if (n < lo || n > hi) {
        snprintf(constraint, sizeof(constraint), "Member must have value %s %lld",
                 n < lo ? "greater than or equal to" : "less than or equal to", n < lo ? lo : hi);
        return lambda_api_validation(c, what, n, constraint);
    }
    *out = (int)n;
    return 0;
}

/* The parameters of Create/Update into p; patterns point into c->in (freed by the caller). */
static int params_of(aws_call_t *c, lambda_esm_params_t *p, const char ***patterns)
{
    *p = (lambda_esm_params_t){0, -1, -1, -1, -1, false, NULL, 0};
    *patterns = NULL;
    const json_t *enabled = json_object_get(c->in, "Enabled");
    const json_t *sc = json_object_get(c->in, "ScalingConfig");
    const json_t *types = json_object_get(c->in, "FunctionResponseTypes");
    const json_t *fc = json_object_get(c->in, "FilterCriteria");
    if (range(c, "BatchSize", "batchSize", 1, ESM_BATCH_MAX_STANDARD, &p->batch_size) < 0 ||
        range(c, "MaximumBatchingWindowInSeconds", "maximumBatchingWindowInSeconds", 0,
              ESM_WINDOW_MAX, &p->window_s) < 0)
        return -1;
    if (enabled)
        p->enabled = json_is_true(enabled);
    if (sc) {
        const json_t *mc = json_object_get(sc, "MaximumConcurrency");
        long long n = json_integer_value(mc);
        p->max_concurrency = mc ? (int)n : 0;
        if (mc && (n < ESM_MAX_CONCURRENCY_MIN || n > ESM_MAX_CONCURRENCY_MAX))
            return lambda_api_validation(c, "scalingConfig.maximumConcurrency", n,
                                         n < ESM_MAX_CONCURRENCY_MIN
                                             ? "Member must have value greater than or equal to 2"
                                             : "Member must have value less than or equal to "
                                               "1000");
    }
    if (types) {
        size_t k;
        json_t *t;
        p->report_failures = 0;
        json_array_foreach(types, k, t)
        {
            if (!json_is_string(t) || strcmp(json_string_value(t), "ReportBatchItemFailures"))
                return aws_error_set(&c->err, 400, "ValidationException",
                                     "1 validation error detected: Value '[%s]' at "
                                     "'functionResponseTypes' failed to satisfy constraint: "
                                     "Member must satisfy constraint: [Member must satisfy enum "
                                     "value set: [ReportBatchItemFailures]]",
                                     json_is_string(t) ? json_string_value(t) : "");
            p->report_failures = 1;
        }
    }
    if (fc) {
        const json_t *list = json_object_get(fc, "Filters");
        size_t k, n = json_array_size(list);
        json_t *f;
        p->has_filters = true;
        *patterns = xcalloc(n ? n : 1, sizeof(char *));
        json_array_foreach(list, k, f)
        {
            (*patterns)[p->n_filters++] = json_string_value(json_object_get(f, "Pattern"));
        }
        p->filters = *patterns;
        lambda_filter_t *compiled = lambda_filter_compile(p->filters, p->n_filters, &c->err);
        if (!compiled)
            return -1;
        lambda_filter_free(compiled);
    }
    return 0;
}

/* The function a FunctionName names, its configuration and the ARN to show. */
static const lambda_conf_t *function_of(aws_call_t *c, lambda_ref_t *ref, lambda_fn_t **fn,
                                        char *arn, size_t cap)
{
    if (lambda_ref_parse(aws_jstr(c->in, "FunctionName"), NULL, ref, &c->err) < 0)
        return NULL;
    *fn = lambda_fn_find(lambda_service_reg(svc_of(c)), ref, c->principal.account, c->region,
                         &c->err);
    const lambda_conf_t *v = *fn ? lambda_fn_resolve(*fn, ref->qualifier, &c->err) : NULL;
    if (v)
        snprintf(arn, cap, "%s%s%s", (*fn)->arn, ref->qualifier[0] ? ":" : "", ref->qualifier);
    return v;
}

static sqs_engine_t *engine(aws_call_t *c)
{
    sqs_service_t *sqs = lambda_service_config(svc_of(c))->sqs;
    return sqs ? sqs_service_engine(sqs) : NULL;
}

/* The queue's VisibilityTimeout, or -1 with AWS's error when the queue does not exist. */
static int queue_visibility(aws_call_t *c, const char *arn)
{
    static const char *const names[] = {"VisibilityTimeout"};
    sqs_arn_t a;
    sqs_kv_list_t out = {0};
    aws_error_t err;
    int vt = -1;
    if (engine(c) && sqs_arn_parse(arn, &a) == 0) {
        sqs_ctx_t ctx = {a.account, a.region, NULL, c->now_ms, c->mono_ms};
        sqs_attrs_get_in_t in = {{a.account, a.name}, names, 1};
        if (sqs_queue_attrs_get(engine(c), &ctx, &in, &out, &err) == 0 && out.n == 1)
            vt = atoi(out.items[0].value);
        sqs_kv_list_clear(&out);
    }
    if (vt < 0)
        aws_error_set(&c->err, 400, "InvalidParameterValueException",
                      "Error occurred while ReceiveMessage. SQS Error Code: "
                      "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified "
                      "queue does not exist or you do not have access to it.");
    return vt;
}

static const char *const needed[] = {"ReceiveMessage", "DeleteMessage", "GetQueueAttributes"};

/* What AWS checks of a function and its queue: the role's permissions, then the timeouts. */
static int check_pair(aws_call_t *c, const lambda_fn_t *fn, const lambda_conf_t *v,
                      const char *source_arn)
{
    int vt = queue_visibility(c, source_arn);
    if (vt < 0)
        return -1;
    for (size_t k = 0; k < sizeof(needed) / sizeof(needed[0]); k++) {
        char action[40];
        snprintf(action, sizeof(action), "sqs:%s", needed[k]);
        if (!lambda_service_role_may(svc_of(c), fn->account, fn->region, fn->name, v->role, action,
                                     source_arn, NULL))
            return aws_error_set(&c->err, 400, "InvalidParameterValueException",
                                 "The provided execution role does not have permissions to call "
                                 "%s on SQS",
                                 needed[k]);
    }
    if (vt < v->timeout_s)
        return aws_error_set(&c->err, 400, "InvalidParameterValueException",
                             "Queue visibility timeout: %d seconds is less than Function timeout: "
                             "%d seconds",
                             vt, v->timeout_s);
    return 0;
}

static bool is_fifo(const char *arn)
{
    size_t n = strlen(arn);
    return n > 5 && !strcmp(arn + n - 5, ".fifo");
}

/* ---- actions -------------------------------------------------------------------------------- */

static int answer(aws_call_t *c, lambda_esm_t *m, bool changed)
{
    c->out = esm_json(m);
    if (changed)
        lambda_service_esm_changed(svc_of(c), m);
    return AWS_CALL_DONE;
}

int lambda_api_create_esm(aws_call_t *c)
{
    const char *source = aws_jstr(c->in, "EventSourceArn");
    lambda_ref_t ref;
    lambda_fn_t *fn;
    char farn[240];
    lambda_esm_params_t p;
    const char **patterns;
    lambda_esm_t *m = NULL;
    sqs_arn_t a;
    int rc = params_of(c, &p, &patterns);
    const lambda_conf_t *v = rc == 0 ? function_of(c, &ref, &fn, farn, sizeof(farn)) : NULL;
    if (!v)
        rc = -1;
    else if (!source || sqs_arn_parse(source, &a) < 0)
        rc = aws_error_set(&c->err, 400, "InvalidParameterValueException",
                           "Unrecognized event source, must be kinesis, dynamodb stream or sqs. "
                           "nagare serves SQS event sources.");
    else if (lambda_esm_check(&p, NULL, is_fifo(source), &c->err) < 0 ||
             check_pair(c, fn, v, source) < 0)
        rc = -1;
    else
        rc = lambda_esm_create(lambda_service_esms(svc_of(c)), c->principal.account, c->region,
                               source, is_fifo(source), farn, fn->name, ref.qualifier, &p,
                               c->now_ms, &m, &c->err);
    free(patterns);
    return rc < 0 ? AWS_CALL_ERROR : answer(c, m, true);
}

static lambda_esm_t *esm_of(aws_call_t *c)
{
    return lambda_esm_get(lambda_service_esms(svc_of(c)), c->principal.account, c->region,
                          aws_jstr(c->in, "UUID"), &c->err);
}

int lambda_api_get_esm(aws_call_t *c)
{
    lambda_esm_t *m = esm_of(c);
    return m ? answer(c, m, false) : AWS_CALL_ERROR;
}

int lambda_api_update_esm(aws_call_t *c)
{
    lambda_esm_t *m = esm_of(c);
    lambda_ref_t ref;
    lambda_fn_t *fn = NULL;
    char farn[240];
    lambda_esm_params_t p;
    const char **patterns = NULL;
    const lambda_conf_t *v = NULL;
    int rc = m ? params_of(c, &p, &patterns) : -1;
    if (rc == 0 && aws_jstr(c->in, "FunctionName")) {
        v = function_of(c, &ref, &fn, farn, sizeof(farn));
        rc = v ? check_pair(c, fn, v, m->source_arn) : -1;
    }
    if (rc == 0)
        rc = lambda_esm_check(&p, m, m->fifo, &c->err);
    if (rc == 0)
        rc = lambda_esm_update(lambda_service_esms(svc_of(c)), m, &p, v ? farn : NULL,
                               v ? fn->name : NULL, v ? ref.qualifier : NULL, c->now_ms, &c->err);
    free(patterns);
    return rc < 0 ? AWS_CALL_ERROR : answer(c, m, true);
}

int lambda_api_delete_esm(aws_call_t *c)
{
    lambda_esm_t *m = esm_of(c);
    if (!m || lambda_esm_delete(lambda_service_esms(svc_of(c)), m, &c->err) < 0)
        return AWS_CALL_ERROR;
    return answer(c, m, true);
}

int lambda_api_list_esm(aws_call_t *c)
{
    int max = lambda_api_max_items(c, ESM_LIST_DEFAULT);
    const char *name = aws_jstr(c->in, "FunctionName");
    lambda_ref_t ref;
    if (max < 0 || (name && lambda_ref_parse(name, NULL, &ref, &c->err) < 0))
        return AWS_CALL_ERROR;
    lambda_esm_t **v = xcalloc((size_t)max, sizeof(*v));
    bool more;
    size_t n = lambda_esm_list(lambda_service_esms(svc_of(c)), c->principal.account, c->region,
                               aws_jstr(c->in, "EventSourceArn"), name ? ref.name : NULL,
                               name ? ref.qualifier : NULL, aws_jstr(c->in, "Marker"), v,
                               (size_t)max, &more);
    json_t *list = json_array();
    for (size_t k = 0; k < n; k++)
        json_array_append_new(list, esm_json(v[k]));
    c->out = json_pack("{s:o}", "EventSourceMappings", list);
    if (more && n)
        json_object_set_new(c->out, "NextMarker", json_string(v[n - 1]->uuid));
    free(v);
    return AWS_CALL_DONE;
}
