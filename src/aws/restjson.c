/*
 * restjson — the REST-JSON protocol (Lambda): route by method and URI
 * template, decode labels, query string, headers and body into the one
 * JSON-shaped input tree, encode the output the same way back. See codec.h.
 *
 * This is botocore's RestJSONSerializer and RestJSONParser read backwards:
 * a non-greedy {Label} is one path segment (botocore percent-encodes '/' in
 * it), a greedy {Label+} the rest of the path; query-string lists repeat
 * their key; header members are strings, integers or booleans; a structure
 * "payload" member is the whole JSON body, a blob payload the raw body.
 * Errors carry their code in x-amzn-ErrorType and {"Type","message"} in the
 * body, which is what botocore's parser reads (header first, then body).
 */
#include "aws/codec.h"
#include "aws/jsonread.h"
#include "base/b64.h"
#include "base/xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SEGMENTS 32

/* ---- routing ------------------------------------------------------------------------------ */

typedef struct span {
    const char *p;
    size_t len;
} span_t;

/* Splits a path ("/a/b/c", leading slash skipped, a trailing one too) into
 * segments; -1 when too many. */
static int split_path(const char *p, size_t len, span_t *seg, int cap)
{
    int n = 0;
    size_t i = len && p[0] == '/' ? 1 : 0;
    if (len > 1 && p[len - 1] == '/')
        len--;
    if (i == len)
        return 0;
    while (i <= len) {
        size_t j = i;
        while (j < len && p[j] != '/')
            j++;
        if (n == cap)
            return -1;
        seg[n++] = (span_t){p + i, j - i};
        i = j + 1;
    }
    return n;
}

/* True when the raw query holds the key (and value) of a "k=v" or "k" literal. */
static bool query_has(const char *q, size_t qlen, const char *lit, size_t llen)
{
    size_t i = 0;
    while (q && i < qlen) {
        size_t end = i;
        while (end < qlen && q[end] != '&')
            end++;
        if (end - i == llen && !memcmp(q + i, lit, llen))
            return true;
        if (!memchr(lit, '=', llen) && end - i > llen && q[i + llen] == '=' &&
            !memcmp(q + i, lit, llen))
            return true;
        i = end + 1;
    }
    return false;
}

/* How well template t matches req: -1 for no match, else the number of
 * literal segments and query literals (higher is more specific). */
static int template_score(const char *t, const codec_rest_request_t *req)
{
    const char *qmark = strchr(t, '?');
    size_t tlen = qmark ? (size_t)(qmark - t) : strlen(t);
    span_t ts[MAX_SEGMENTS], rs[MAX_SEGMENTS];
    int nt = split_path(t, tlen, ts, MAX_SEGMENTS);
    int nr = split_path(req->path, req->path_len, rs, MAX_SEGMENTS);
    int score = 0, i;
    if (nt < 0 || nr < 0)
        return -1;
    for (i = 0; i < nt; i++) {
        bool label = ts[i].len > 2 && ts[i].p[0] == '{' && ts[i].p[ts[i].len - 1] == '}';
        bool greedy = label && ts[i].p[ts[i].len - 2] == '+';
        if (greedy)
            return i < nr ? score : -1;
        if (i >= nr || (label && rs[i].len == 0))
            return -1;
        if (!label && (ts[i].len != rs[i].len || memcmp(ts[i].p, rs[i].p, rs[i].len)))
            return -1;
        score += !label;
    }
    if (nr != nt)
        return -1;
    for (const char *q = qmark ? qmark + 1 : NULL; q && *q;) {
        const char *amp = strchr(q, '&');
        size_t l = amp ? (size_t)(amp - q) : strlen(q);
        if (!query_has(req->query, req->query_len, q, l))
            return -1;
        score++;
        q = amp ? amp + 1 : q + l;
    }
    return score;
}

const model_op_t *codec_rest_route(const model_service_t *svc, const codec_rest_request_t *req)
{
    const model_op_t *best = NULL;
    int best_score = -1;
    for (int i = 0; i < svc->n_ops; i++) {
        const model_op_t *op = &svc->ops[i];
        if (!op->http_uri || strcmp(op->http_method, req->method))
            continue;
        int s = template_score(op->http_uri, req);
        if (s > best_score) {
            best = op;
            best_score = s;
        }
    }
    return best;
}

/* ---- decoding ----------------------------------------------------------------------------- */

/* The wire name of a located member: its locationName, else its own name. */
static const char *wire_name(const model_member_t *m)
{
    return m->loc ? m->loc : m->name;
}

/* A scalar from its text form (label, query value, header) as the tree holds
 * it. NULL when the text is not of the shape's type. */
static json_t *scalar(const model_shape_t *sh, const char *s, size_t len)
{
    char tmp[32];
    char *end;
    switch (sh->type) {
    case MODEL_INTEGER:
    case MODEL_LONG:
        if (len == 0 || len >= sizeof(tmp))
            return NULL;
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        errno = 0;
        long long v = strtoll(tmp, &end, 10);
        return *end || errno ? NULL : json_integer(v);
    case MODEL_BOOLEAN:
        if (len == 4 && !strncasecmp(s, "true", 4))
            return json_true();
        if (len == 5 && !strncasecmp(s, "false", 5))
            return json_false();
        return NULL;
    case MODEL_STRING:
    case MODEL_BLOB:
    case MODEL_TIMESTAMP:
        return json_stringn(s, len);
    default:
        return NULL;
    }
}

static int bad_value(aws_error_t *err, const model_member_t *m)
{
    return aws_error_set(err, 400, "InvalidParameterValueException",
                         "Invalid value for parameter %s.", m->name);
}

/* The decoded text of URI label name (from template t and the request path). */
static int label_value(const char *t, const codec_rest_request_t *req, const char *name, buf_t *out)
{
    const char *qmark = strchr(t, '?');
    span_t ts[MAX_SEGMENTS], rs[MAX_SEGMENTS];
    int nt = split_path(t, qmark ? (size_t)(qmark - t) : strlen(t), ts, MAX_SEGMENTS);
    int nr = split_path(req->path, req->path_len, rs, MAX_SEGMENTS);
    size_t nlen = strlen(name);
    for (int i = 0; i < nt && i < nr; i++) {
        if (ts[i].len < nlen + 2 || ts[i].p[0] != '{' || memcmp(ts[i].p + 1, name, nlen))
            continue;
        bool greedy = ts[i].p[nlen + 1] == '+';
        if (ts[i].p[nlen + 1 + greedy] != '}')
            continue;
        const char *start = rs[i].p;
        size_t len = greedy ? (size_t)(req->path + req->path_len - start) : rs[i].len;
        buf_reserve(out, len + 1);
        out->len = codec_url_decode(start, len, out->data, false);
        out->data[out->len] = '\0';
        return 0;
    }
    return -1;
}

/* Adds the query-string values of member m (a scalar, or a list repeating its key). */
static int query_member(const model_service_t *svc, const model_member_t *m,
                        const codec_rest_request_t *req, json_t *in, aws_error_t *err)
{
    const model_shape_t *sh = model_shape(svc, m->shape);
    const model_shape_t *el = sh->type == MODEL_LIST ? model_shape(svc, sh->member) : sh;
    const char *key = wire_name(m);
    size_t klen = strlen(key), i = 0;
    char *tmp = xmalloc(req->query_len + 1);
    json_t *list = sh->type == MODEL_LIST ? json_array() : NULL;
    int rc = 0;
    while (rc == 0 && i < req->query_len) {
        const char *q = req->query + i;
        size_t end = i;
        while (end < req->query_len && req->query[end] != '&')
            end++;
        const char *eq = memchr(q, '=', end - i);
        size_t kl = eq ? (size_t)(eq - q) : end - i;
        size_t dk = codec_url_decode(q, kl, tmp, true);
        if (dk == klen && !memcmp(tmp, key, klen)) {
            size_t dv =
                eq ? codec_url_decode(eq + 1, (size_t)(req->query + end - eq - 1), tmp, true) : 0;
            json_t *v = scalar(el, tmp, dv);
            if (!v)
                rc = bad_value(err, m);
            else if (list)
                json_array_append_new(list, v);
            else
                json_object_set_new(in, m->name, v);
        }
        i = end + 1;
    }
    if (list && rc == 0 && json_array_size(list))
        json_object_set(in, m->name, list);
    json_decref(list);
    free(tmp);
    return rc;
}

static const codec_header_t *header_find(const codec_rest_request_t *req, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < req->n_headers; i++)
        if (req->headers[i].name_len == len && !strncasecmp(req->headers[i].name, name, len))
            return &req->headers[i];
    return NULL;
}

/* Every header starting with m's prefix, into a map member. */
static void headers_member(const model_member_t *m, const codec_rest_request_t *req, json_t *in)
{
    const char *prefix = wire_name(m);
    size_t plen = strlen(prefix);
    json_t *map = json_object();
    for (size_t i = 0; i < req->n_headers; i++) {
        const codec_header_t *h = &req->headers[i];
        if (h->name_len > plen && !strncasecmp(h->name, prefix, plen))
            json_object_setn_new(map, h->name + plen, h->name_len - plen,
                                 json_stringn(h->value, h->value_len));
    }
    if (json_object_size(map))
        json_object_set(in, m->name, map);
    json_decref(map);
}

static int located_member(const model_service_t *svc, const model_op_t *op, const model_member_t *m,
                          const codec_rest_request_t *req, json_t *in, aws_error_t *err)
{
    const model_shape_t *sh = model_shape(svc, m->shape);
    json_t *v = NULL;
    if (m->location == MODEL_LOC_URI) {
        buf_t b;
        buf_init(&b, 0);
        if (label_value(op->http_uri, req, wire_name(m), &b) == 0)
            v = scalar(sh, b.data, b.len);
        buf_free(&b);
        if (!v)
            return bad_value(err, m);
    } else if (m->location == MODEL_LOC_QUERY) {
        return query_member(svc, m, req, in, err);
    } else if (m->location == MODEL_LOC_HEADERS) {
        headers_member(m, req, in);
        return 0;
    } else if (m->location == MODEL_LOC_HEADER) {
        const codec_header_t *h = header_find(req, wire_name(m));
        if (!h)
            return 0;
        v = scalar(sh, h->value, h->value_len);
        if (!v)
            return bad_value(err, m);
    } else {
        return 0;
    }
    json_object_set_new(in, m->name, v);
    return 0;
}

/* The body: the JSON object of the unlocated members, the JSON of a structure
 * payload, or the raw bytes of a blob/string payload. */
static int decode_body(const model_service_t *svc, const model_shape_t *in_sh,
                       const codec_rest_request_t *req, json_t *in, aws_error_t *err)
{
    const model_member_t *pm = NULL;
    for (int i = 0; in_sh->payload && i < in_sh->n_members; i++)
        if (!strcmp(in_sh->members[i].name, in_sh->payload))
            pm = &in_sh->members[i];
    const model_shape_t *psh = pm ? model_shape(svc, pm->shape) : NULL;
    if (psh && psh->type != MODEL_STRUCTURE) {
        if (req->body_len == 0)
            return 0;
        if (psh->type == MODEL_STRING) {
            json_object_set_new(in, pm->name, json_stringn(req->body, req->body_len));
            return 0;
        }
        char *b64 = xmalloc(b64_encoded_len(req->body_len) + 1);
        size_t n = b64_encode_into(req->body, req->body_len, b64);
        json_object_set_new(in, pm->name, json_stringn_nocheck(b64, n));
        free(b64);
        return 0;
    }
    json_t *body = NULL;
    if (req->body_len) {
        jsonread_error_t jerr = {0};
        body = jsonread_parse(req->body, req->body_len, &jerr);
        if (!json_is_object(body)) {
            json_decref(body);
            return aws_error_set(err, 400, "InvalidRequestContentException",
                                 "Could not parse request body into json: %s", jerr.text);
        }
    }
    if (pm && body)
        json_object_set_new(in, pm->name, body);
    else if (body) {
        json_object_update_missing(in, body);
        json_decref(body);
    }
    return 0;
}

int codec_rest_decode(const model_service_t *svc, const model_op_t *op,
                      const codec_rest_request_t *req, json_t **out, aws_error_t *err)
{
    json_t *in = json_object();
    if (op->input >= 0) {
        const model_shape_t *sh = model_shape(svc, op->input);
        for (int i = 0; i < sh->n_members; i++)
            if (located_member(svc, op, &sh->members[i], req, in, err) < 0)
                goto fail;
        if (decode_body(svc, sh, req, in, err) < 0 || codec_json_validate(svc, op, in, err) < 0)
            goto fail;
    }
    *out = in;
    return 0;
fail:
    json_decref(in);
    return -1;
}

/* ---- encoding ----------------------------------------------------------------------------- */

static void header_out(json_t *headers, const char *name, const json_t *v)
{
    char tmp[32];
    if (json_is_string(v)) {
        json_object_set(headers, name, (json_t *)v);
    } else if (json_is_integer(v)) {
        snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        json_object_set_new(headers, name, json_string(tmp));
    } else if (json_is_boolean(v)) {
        json_object_set_new(headers, name, json_string(json_is_true(v) ? "true" : "false"));
    }
}

/* The raw bytes of a blob payload (base64 in the tree) into body. */
static void raw_payload(const model_shape_t *psh, const json_t *v, buf_t *body)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (!s)
        return;
    if (psh->type == MODEL_STRING) {
        buf_append(body, s, len);
        return;
    }
    buf_reserve(body, b64_decoded_max(len) + 1);
    size_t n = 0;
    if (b64_decode(s, len, (uint8_t *)body->data + body->len, &n) == 0) {
        body->len += n;
        body->data[body->len] = '\0';
    }
}

void codec_rest_encode(const model_service_t *svc, const model_op_t *op, const json_t *output,
                       int *status, json_t **headers, buf_t *body)
{
    *status = op->http_status ? op->http_status : 200;
    *headers = json_object();
    if (op->output < 0)
        return;
    const model_shape_t *sh = model_shape(svc, op->output);
    json_t *rest = output ? json_copy((json_t *)output) : json_object();
    const model_member_t *pm = NULL;
    for (int i = 0; i < sh->n_members; i++) {
        const model_member_t *m = &sh->members[i];
        const json_t *v = json_object_get(rest, m->name);
        if (sh->payload && !strcmp(m->name, sh->payload))
            pm = m;
        if (!v || m->location == MODEL_LOC_BODY)
            continue;
        if (m->location == MODEL_LOC_STATUS && json_is_integer(v))
            *status = (int)json_integer_value(v);
        else if (m->location == MODEL_LOC_HEADER)
            header_out(*headers, wire_name(m), v);
        json_object_del(rest, m->name);
    }
    if (pm) {
        const model_shape_t *psh = model_shape(svc, pm->shape);
        const json_t *v = json_object_get(rest, pm->name);
        if (psh->type == MODEL_STRUCTURE)
            codec_json_encode(v, body);
        else
            raw_payload(psh, v, body);
    } else {
        codec_json_encode(rest, body);
    }
    json_decref(rest);
}

/* The error shape's message member as the model spells it ("message" or "Message"). */
static const char *message_member(const model_service_t *svc, const char *code)
{
    const model_shape_t *sh = svc ? model_error_find(svc, code) : NULL;
    for (int i = 0; sh && i < sh->n_members; i++)
        if (!strcasecmp(sh->members[i].name, "message"))
            return sh->members[i].name;
    return "message";
}

void codec_rest_error(const model_service_t *svc, const aws_error_t *err, buf_t *out)
{
    json_t *doc = json_pack("{s:s, s:s}", "Type", err->sender ? "User" : "Service",
                            message_member(svc, err->code), err->message);
    codec_json_encode(doc, out);
    json_decref(doc);
}
