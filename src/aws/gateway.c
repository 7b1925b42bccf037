/*
 * gateway — route, decode, authenticate, authorize, handle, persist, encode.
 * See gateway.h for the contract. Nothing here knows a service's semantics.
 */
#include "aws/gateway.h"
#include "aws/sigv4.h"
#include "base/clock.h"
#include "base/ids.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "iam/authz.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_SERVICES     8
#define MAX_STATUS       8
#define DEFAULT_MAX_BODY (1024 * 1024)

#define CALL_POOL_MAX 256

struct aws_gateway {
    aws_gateway_config_t cfg;
    /* Finished calls kept for reuse: a call is a few KiB, and a malloc that
     * size per request costs glibc a fast-bin consolidation each time. */
    aws_call_t *pool[CALL_POOL_MAX];
    size_t n_pool;
    const aws_service_t *services[MAX_SERVICES];
    size_t n_services;
    sigv4_key_cache_t *keys;
    uint64_t requests;
    struct {
        const char *path;
        json_t *(*cb)(void *ud);
        void *ud;
    } status[MAX_STATUS];
    size_t n_status;
};

/* The HTTP server's header view and SigV4's are the same layout: the router
 * hands one to the other without copying. */
_Static_assert(sizeof(http_header_t) == sizeof(sigv4_header_t), "header layouts differ");
_Static_assert(offsetof(http_header_t, value_len) == offsetof(sigv4_header_t, value_len),
               "header layouts differ");
_Static_assert(sizeof(http_header_t) == sizeof(codec_header_t), "header layouts differ");
_Static_assert(offsetof(http_header_t, value_len) == offsetof(codec_header_t, value_len),
               "header layouts differ");

#define REST_MAX_HEADERS 16

_Static_assert(sizeof(((aws_call_t *)0)->region) == sizeof(((sigv4_auth_t *)0)->region),
               "the region is copied whole");

aws_gateway_t *aws_gateway_new(const aws_gateway_config_t *cfg)
{
    aws_gateway_t *gw = xcalloc(1, sizeof(*gw));
    gw->cfg = *cfg;
    gw->keys = sigv4_key_cache_new();
    return gw;
}

void aws_gateway_free(aws_gateway_t *gw)
{
    if (!gw)
        return;
    sigv4_key_cache_free(gw->keys);
    for (size_t i = 0; i < gw->n_pool; i++)
        free(gw->pool[i]);
    free(gw);
}

void aws_gateway_add_service(aws_gateway_t *gw, const aws_service_t *svc)
{
    if (gw->n_services < MAX_SERVICES)
        gw->services[gw->n_services++] = svc;
}

uint64_t aws_gateway_requests(const aws_gateway_t *gw)
{
    return gw->requests;
}

/* ---- routing ---------------------------------------------------------- */

/* The service named in the SigV4 credential scope (".../<region>/<service>/aws4_request"). */
static const aws_service_t *service_from_scope(const aws_gateway_t *gw, const http_request_t *req)
{
    size_t len;
    const char *v = http_request_header(req, "authorization", &len);
    const char *cred = NULL, *end;
    if (v) {
        cred = memmem(v, len, "Credential=", 11);
        end = v + len;
    } else if (req->query) {
        cred = memmem(req->query, req->query_len, "X-Amz-Credential=", 17);
        end = req->query + req->query_len;
    }
    for (size_t i = 0; cred && i < gw->n_services; i++) {
        const char *name = gw->services[i]->name;
        char pat[80];
        int n = snprintf(pat, sizeof(pat), v ? "/%s/aws4_request" : "%%2F%s%%2Faws4_request", name);
        if (memmem(cred, (size_t)(end - cred), pat, (size_t)n))
            return gw->services[i];
    }
    return gw->n_services ? gw->services[0] : NULL;
}

/* The REST-JSON codec's view of an HTTP request (borrowed from it). */
static codec_rest_request_t rest_request(const http_request_t *req)
{
    return (codec_rest_request_t){
        .method = req->method,
        .path = req->path,
        .path_len = req->path_len,
        .query = req->query,
        .query_len = req->query_len,
        .headers = (const codec_header_t *)req->headers,
        .n_headers = req->n_headers,
        .body = req->body,
        .body_len = req->body_len,
    };
}

/* Finds service, protocol and operation. 0, or -1 with call->err. */
static int route(aws_call_t *c, json_t **form)
{
    aws_gateway_t *gw = c->gw;
    http_request_t *req = c->http;
    size_t len;
    const char *target = http_request_header(req, "x-amz-target", &len);
    *form = NULL;
    if (target) {
        const char *dot = memchr(target, '.', len);
        for (size_t i = 0; dot && i < gw->n_services; i++) {
            const model_service_t *m = gw->services[i]->model;
            if (m->target_prefix && strlen(m->target_prefix) == (size_t)(dot - target) &&
                !strncmp(m->target_prefix, target, (size_t)(dot - target))) {
                c->svc = gw->services[i];
                c->proto = AWS_PROTO_JSON;
                c->op = model_op_find(m, dot + 1, len - (size_t)(dot + 1 - target));
                break;
            }
        }
        if (!c->svc)
            return aws_error_set(&c->err, 400, "UnknownOperationException",
                                 "The requested operation %.*s is not recognized.", (int)len,
                                 target);
    } else if ((c->svc = service_from_scope(gw, req)) && c->svc->model->rest_json) {
        /* REST-JSON (Lambda): the operation is the method and path. */
        codec_rest_request_t rr = rest_request(req);
        c->proto = AWS_PROTO_RESTJSON;
        c->op = codec_rest_route(c->svc->model, &rr);
        if (!c->op)
            return aws_error_set(&c->err, 404, "UnknownOperationException",
                                 "Unknown operation %s %.*s.", req->method, (int)req->path_len,
                                 req->path);
    } else {
        c->proto = AWS_PROTO_QUERY;
        if (!strcmp(req->method, "POST"))
            *form = codec_form_parse(req->body, req->body_len);
        else
            *form = codec_form_parse(req->query ? req->query : "", req->query_len);
        const char *action = json_string_value(json_object_get(*form, "Action"));
        if (!action)
            return aws_error_set(&c->err, 400, "MissingAction",
                                 "Could not find operation: no Action parameter given.");
        if (c->svc)
            c->op = model_op_find(c->svc->model, action, strlen(action));
    }
    if (!c->svc)
        return aws_error_set(&c->err, 400, "InvalidAction", "No service serves this request.");
    for (size_t i = 0; c->op && !c->action && i < c->svc->n_actions; i++)
        if (!strcmp(c->svc->actions[i].name, c->op->name))
            c->action = &c->svc->actions[i];
    if (!c->action)
        return aws_error_set(&c->err, 400,
                             c->proto == AWS_PROTO_JSON ? "UnknownOperationException"
                                                        : "InvalidAction",
                             "The action or operation requested is invalid. Verify that the "
                             "action is typed correctly.");
    return 0;
}

/* ---- authentication --------------------------------------------------- */

static int authenticate(aws_call_t *c)
{
    http_request_t *req = c->http;
    sigv4_request_t sr = {
        .method = req->method,
        .path = req->path,
        .path_len = req->path_len,
        .query = req->query,
        .query_len = req->query_len,
        .headers = (const sigv4_header_t *)req->headers,
        .n_headers = req->n_headers,
        .body = req->body,
        .body_len = req->body_len,
    };
    sigv4_auth_t auth;
    if (sigv4_parse(&sr, &auth, &c->err) < 0)
        return -1;
    memcpy(c->region, auth.region, sizeof(c->region)); /* same size, NUL-terminated */
    const char *secret =
        iam_identity_lookup(c->gw->cfg.identity, auth.access_key, auth.session_token,
                            auth.session_token_len, c->now_ms, &c->principal, &c->err);
    if (!secret)
        return -1;
    return sigv4_verify(&sr, &auth, secret, (time_t)(c->now_ms / 1000), c->gw->keys, &c->err);
}

/* ---- authorization ---------------------------------------------------- */

/* The tags a request sets (aws:RequestTag/...): an input member "Tags" or
 * "tags" that is a map (SQS, Lambda) or a list of {Key, Value} (IAM, STS). */
static size_t request_tags(const aws_call_t *c, iam_tag_t *out, size_t cap)
{
    const json_t *t = json_object_get(c->in, "Tags");
    if (!t)
        t = json_object_get(c->in, "tags");
    size_t n = 0;
    if (json_is_object(t)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)t, k, v) if (n < cap && json_is_string(v)) out[n++] =
            (iam_tag_t){k, json_string_value(v)};
    } else if (json_is_array(t)) {
        size_t i;
        json_t *e;
        json_array_foreach(t, i, e)
        {
            const char *k = json_string_value(json_object_get(e, "Key"));
            const char *v = json_string_value(json_object_get(e, "Value"));
            if (k && n < cap)
                out[n++] = (iam_tag_t){k, v ? v : ""};
        }
    }
    return n;
}

static int authorize(aws_call_t *c)
{
    buf_t arn, msg;
    iam_decision_t d;
    iam_tag_t tags[50];
    aws_resource_info_t info = {0};
    int rc = -1;
    buf_init(&arn, 0); /* bounded by the input it is built from */
    buf_init(&msg, 2048);
    if (c->action->resource(c, &arn) < 0)
        goto out;
    /* No resource, no decision: an ARN that cannot be built is refused, never
     * widened to "*". */
    if (arn.len == 0 || arn.len >= sizeof(c->resource)) {
        aws_error_set(&c->err, 400, "InvalidParameterValue",
                      "The resource this request names is not valid.");
        goto out;
    }
    memcpy(c->resource, arn.data, arn.len + 1);
    if (c->svc->resource_info)
        c->svc->resource_info(c->svc->state, c->resource, &info);
    iam_authz_in_t in = {
        .who = &c->principal,
        .action = c->action->iam_action,
        .resource = c->resource,
        .region = c->region,
        .source_ip = c->http->peer,
        .now_ms = c->now_ms,
        .resource_policy = info.policy,
        .resource_policy_compiled = info.compiled,
        .request_tags = tags,
        .n_request_tags = request_tags(c, tags, sizeof(tags) / sizeof(tags[0])),
        .resource_tags = info.tags,
        .n_resource_tags = info.n_tags,
    };
    iam_authorize(c->gw->cfg.authz, &in, &d, &msg);
    if (!c->gw->cfg.enforce_iam && !d.allowed) {
        d.allowed = true;
        snprintf(d.reason, sizeof(d.reason), "IAM enforcement is off (--no-iam)");
    }
    log_debug("authorize %s %s %s: %s", c->principal.arn, c->action->iam_action, c->resource,
              d.reason);
    if (!d.allowed) {
        /* REST-JSON (Lambda) and JSON services whose model names the error
         * (CloudWatch Logs) answer AccessDeniedException; SQS, IAM and STS
         * answer AccessDenied. */
        aws_error_set(&c->err, 403,
                      c->proto == AWS_PROTO_RESTJSON ||
                              model_error_find(c->svc->model, "AccessDeniedException")
                          ? "AccessDeniedException"
                          : "AccessDenied",
                      "%s", msg.data);
        goto out;
    }
    rc = 0;
out:
    buf_free(&arn);
    buf_free(&msg);
    return rc;
}

/* ---- persist and encode ----------------------------------------------- */

static aws_call_t *call_new(aws_gateway_t *gw)
{
    aws_call_t *c = gw->n_pool ? gw->pool[--gw->n_pool] : xmalloc(sizeof(*c));
    memset(c, 0, offsetof(aws_call_t, err));
    aws_error_clear(&c->err);
    memset(&c->principal, 0, sizeof(*c) - offsetof(aws_call_t, principal));
    c->gw = gw;
    /* A call that fails before its handler has mutated nothing. */
    c->mutation_mark = gw->cfg.store ? store_mutation_seq(gw->cfg.store) : 0;
    return c;
}

static void call_free(aws_call_t *c)
{
    aws_gateway_t *gw = c->gw;
    json_decref(c->in);
    json_decref(c->out);
    if (gw->n_pool < CALL_POOL_MAX)
        gw->pool[gw->n_pool++] = c;
    else
        free(c);
}

/* REST-JSON: status, x-amzn-ErrorType or the output's header members, body. */
static void respond_rest(aws_call_t *c, buf_t *body)
{
    static const char ct[] = "application/json";
    http_header_t h[REST_MAX_HEADERS];
    size_t nh = 0;
    int status = c->err.status;
    json_t *headers = NULL;
    h[nh++] = (http_header_t){"x-amzn-RequestId", 16, c->request_id, 36};
    h[nh++] = (http_header_t){"Content-Type", 12, ct, sizeof(ct) - 1};
    if (aws_error_is_set(&c->err)) {
        codec_rest_error(c->svc ? c->svc->model : NULL, &c->err, body);
        h[nh++] = (http_header_t){"x-amzn-ErrorType", 16, c->err.code, strlen(c->err.code)};
    } else {
        codec_rest_encode(c->svc->model, c->op, c->out, &status, &headers, body);
        const char *k;
        json_t *v;
        json_object_foreach(headers, k, v) if (nh < REST_MAX_HEADERS) h[nh++] =
            (http_header_t){k, strlen(k), json_string_value(v), json_string_length(v)};
    }
    size_t len;
    char *data = buf_steal(body, &len);
    http_respond_owned(c->http, status, h, nh, data, len);
    json_decref(headers);
    call_free(c);
}

static void respond(aws_call_t *c)
{
    buf_t body;
    char qerr[300];
    http_header_t h[3];
    size_t nh = 0;
    const model_service_t *m = c->svc ? c->svc->model : NULL;
    bool failed = aws_error_is_set(&c->err);
    buf_init(&body, 0);
    buf_reserve(&body, 4096); /* a ReceiveMessage of ten small messages fits */
    if (c->proto == AWS_PROTO_RESTJSON) {
        respond_rest(c, &body);
        return;
    }
    h[nh++] = (http_header_t){"x-amzn-RequestId", 16, c->request_id, 36};
    if (c->proto == AWS_PROTO_JSON) {
        /* The model's JSON version: SQS speaks 1.0, CloudWatch Logs 1.1. */
        const char *ct = m && m->json_version && !strcmp(m->json_version, "1.1")
                             ? "application/x-amz-json-1.1"
                             : "application/x-amz-json-1.0";
        h[nh++] = (http_header_t){"Content-Type", 12, ct, 26};
        if (failed) {
            codec_json_error(m, &c->err, &body, qerr, sizeof(qerr));
            h[nh++] = (http_header_t){"x-amzn-query-error", 18, qerr, strlen(qerr)};
        } else {
            codec_json_encode(c->out, &body);
        }
    } else {
        h[nh++] = (http_header_t){"Content-Type", 12, "text/xml", 8};
        if (failed)
            codec_query_error(m, &c->err, c->request_id, &body);
        else
            codec_query_encode(m, c->op, c->out, c->request_id, &body);
    }
    size_t len;
    char *data = buf_steal(&body, &len);
    http_respond_owned(c->http, failed ? c->err.status : 200, h, nh, data, len);
    call_free(c);
}

static void durable_cb(void *ud, int status)
{
    aws_call_t *c = ud;
    if (status < 0 && !aws_error_is_set(&c->err)) {
        json_decref(c->out);
        c->out = NULL;
        aws_error_set(&c->err, 500, "InternalFailure",
                      "The request could not be stored durably. Try again.");
    }
    respond(c);
}

void aws_call_require_durable(aws_call_t *c)
{
    c->mutation_mark = UINT64_MAX; /* never the store's count */
}

void aws_call_finish(aws_call_t *c)
{
    store_t *st = c->gw->cfg.store;
    if (st && store_mutation_seq(st) != c->mutation_mark) {
        store_when_durable(st, durable_cb, c);
        return;
    }
    respond(c);
}

/* ---- the path ----------------------------------------------------------- */

/* 200 with doc (taken) as its body. */
static void respond_json(http_request_t *req, json_t *doc)
{
    char *body = json_dumps(doc, JSON_COMPACT);
    http_header_t h = {"Content-Type", 12, "application/json", 16};
    http_respond(req, 200, &h, 1, body, strlen(body));
    free(body);
    json_decref(doc);
}

/* GET /_nagare/health: status, request count, and each service's actions
 * (what tools and tests enumerate). Built once per call; it is not hot. */
static void health(aws_gateway_t *gw, http_request_t *req)
{
    json_t *services = json_object();
    for (size_t i = 0; i < gw->n_services; i++) {
        const aws_service_t *svc = gw->services[i];
        json_t *actions = json_array();
        for (size_t k = 0; k < svc->n_actions; k++)
            json_array_append_new(actions, json_string(svc->actions[k].name));
        json_object_set_new(services, svc->name, actions);
    }
    respond_json(req, json_pack("{s:s, s:o, s:I}", "status", "ok", "services", services, "requests",
                                (json_int_t)gw->requests));
}

void aws_gateway_add_status(aws_gateway_t *gw, const char *path, json_t *(*cb)(void *ud), void *ud)
{
    if (gw->n_status < MAX_STATUS)
        gw->status[gw->n_status++] = (__typeof__(gw->status[0])){path, cb, ud};
}

/* GET of a registered /_nagare/ status page; false when path is none of them. */
static bool status_page(aws_gateway_t *gw, http_request_t *req)
{
    for (size_t i = 0; i < gw->n_status; i++) {
        if (strlen(gw->status[i].path) != req->path_len ||
            memcmp(req->path, gw->status[i].path, req->path_len))
            continue;
        respond_json(req, gw->status[i].cb(gw->status[i].ud));
        return true;
    }
    return false;
}

/* The client of a waiting call went away: let the service stop waiting. */
static void http_abort_cb(http_request_t *req)
{
    aws_call_t *c = req->user;
    if (c->on_abort)
        c->on_abort(c);
}

static int decode(aws_call_t *c, json_t *form)
{
    const model_service_t *m = c->svc->model;
    if (c->proto == AWS_PROTO_JSON)
        return codec_json_decode(m, c->op, c->http->body, c->http->body_len, &c->in, &c->err);
    if (c->proto == AWS_PROTO_RESTJSON) {
        codec_rest_request_t rr = rest_request(c->http);
        return codec_rest_decode(m, c->op, &rr, &c->in, &c->err);
    }
    return codec_query_decode(m, c->op, form, &c->in, &c->err);
}

void aws_gateway_request_cb(http_request_t *req, void *ud)
{
    aws_gateway_t *gw = ud;
    json_t *form = NULL;
    gw->requests++;
    if (req->path_len == 15 && !memcmp(req->path, "/_nagare/health", 15)) {
        health(gw, req);
        return;
    }
    if (req->path_len > 9 && !memcmp(req->path, "/_nagare/", 9) && status_page(gw, req))
        return;
    aws_call_t *c = call_new(gw);
    c->http = req;
    c->now_ms = clock_wall_ms();
    c->mono_ms = clock_mono_ms();
    req->user = c;
    req->on_abort = http_abort_cb;
    ids_uuid4(c->request_id);
    size_t hl;
    const char *host = http_request_header(req, "host", &hl);
    if (host) {
        size_t n = hl < sizeof(c->host) - 1 ? hl : sizeof(c->host) - 1;
        memcpy(c->host, host, n);
        c->host[n] = '\0';
    }
    int rc = AWS_CALL_ERROR;
    if (route(c, &form) < 0 || authenticate(c) < 0 || decode(c, form) < 0 || authorize(c) < 0)
        goto out;
    c->mutation_mark = gw->cfg.store ? store_mutation_seq(gw->cfg.store) : 0;
    rc = c->action->handle(c);
out:
    json_decref(form);
    if (rc != AWS_CALL_PENDING)
        aws_call_finish(c);
}

size_t aws_gateway_body_limit_cb(const http_request_t *req, void *ud)
{
    aws_gateway_t *gw = ud;
    size_t len;
    const char *target = http_request_header(req, "x-amz-target", &len);
    for (size_t i = 0; i < gw->n_services; i++) {
        const aws_service_t *s = gw->services[i];
        const char *p = s->model->target_prefix;
        if (target && p && len > strlen(p) && !strncmp(target, p, strlen(p)))
            return s->max_body;
    }
    if (!target) {
        const aws_service_t *s = service_from_scope(gw, req);
        if (s)
            return s->max_body;
    }
    return DEFAULT_MAX_BODY;
}
