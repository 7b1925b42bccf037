/*
 * api — the SQS actions: decode (a jansson tree from either wire protocol) →
 * engine → encode, one thin handler per action like Redis's command handlers.
 *
 * Each table entry declares the IAM action and how the resource ARN follows
 * from the input, so the gateway authorizes before any handler runs. Queue
 * URLs are http://<Host>/<account>/<name>; any host is accepted on input and
 * only the last two path segments count.
 */
#include "sqs/service.h"
#include "base/b64.h"
#include "base/xalloc.h"
#include "base/str.h"
#include "iam/policy.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct qurl {
    char account[16];
    char name[96];
} qurl_t;

/* ---- small decoding helpers ---------------------------------------------- */

/* An integer member clamped into int, or dflt when absent. */
static int jint(const json_t *o, const char *k, int dflt)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        return dflt;
    json_int_t i = json_integer_value(v);
    if (i > INT_MAX)
        return INT_MAX;
    if (i < INT_MIN + 1)
        return INT_MIN + 1;
    return (int)i;
}

/* String pairs of a map member (values borrowed from the tree); caller frees. */
static sqs_attr_t *pairs_of(const json_t *map, size_t *n)
{
    const char *k;
    json_t *v;
    size_t i = 0;
    sqs_attr_t *a = xcalloc(json_object_size(map) + 1, sizeof(*a));
    json_object_foreach((json_t *)map, k, v)
    {
        a[i].name = k;
        a[i].value = json_is_string(v) ? json_string_value(v) : "";
        i++;
    }
    *n = i;
    return a;
}

/* ---- JSON-valued queue attributes -------------------------------------------- */

/* The engine takes RedrivePolicy and RedriveAllowPolicy normalised (queue.h):
 * here, where JSON is known, they are parsed, checked and rewritten; Policy must
 * be a JSON object. An empty value removes the attribute and passes as is. */
typedef struct json_attrs {
    char *owned[4]; /* normalised values the attrs now point to */
    size_t n;
} json_attrs_t;

static int doc_error(aws_error_t *err, const char *param, const char *value, const char *reason)
{
    return aws_error_set(err, 400, "InvalidParameterValue",
                         "Value %.512s for parameter %s is invalid. Reason: %s", value, param,
                         reason);
}

/* An ARN we can embed in a normalised document: printable, no quote or backslash. */
static bool arn_text_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || *s == '"' || *s == '\\' || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

static char *redrive_normalise(const json_t *doc, const char *v, aws_error_t *err)
{
    const json_t *arn = json_object_get(doc, "deadLetterTargetArn");
    const json_t *max = json_object_get(doc, "maxReceiveCount");
    long long n = -1;
    if (!json_is_string(arn)) {
        doc_error(err, "RedrivePolicy", v,
                  "Redrive policy does not contain mandatory attribute: deadLetterTargetArn.");
        return NULL;
    }
    if (json_is_integer(max))
        n = json_integer_value(max);
    else if (json_is_string(max) &&
             strspn(json_string_value(max), "0123456789") == json_string_length(max) &&
             json_string_length(max) < 10)
        n = atoll(json_string_value(max));
    if (!max || n < 0) {
        doc_error(err, "RedrivePolicy", v,
                  "Redrive policy does not contain mandatory attribute: maxReceiveCount.");
        return NULL;
    }
    if (!arn_text_ok(json_string_value(arn))) {
        doc_error(err, "RedrivePolicy", v, "Dead letter target does not exist.");
        return NULL;
    }
    char out[SQS_ARN_MAX + 96];
    snprintf(out, sizeof(out), "{\"deadLetterTargetArn\":\"%.*s\",\"maxReceiveCount\":%lld}",
             SQS_ARN_MAX, json_string_value(arn), n > 100000 ? 100000 : n);
    return xstrdup(out);
}

static char *redrive_allow_normalise(const json_t *doc, const char *v, aws_error_t *err)
{
    const char *perm = json_string_value(json_object_get(doc, "redrivePermission"));
    const json_t *arns = json_object_get(doc, "sourceQueueArns");
    bool by_queue = perm && !strcmp(perm, "byQueue");
    if (!perm || (!by_queue && strcmp(perm, "allowAll") && strcmp(perm, "denyAll"))) {
        doc_error(err, "RedriveAllowPolicy", v,
                  "Amazon SQS can't create the redrive allow policy, as it's in an unsupported "
                  "format.");
        return NULL;
    }
    if (!by_queue && arns) {
        doc_error(err, "RedriveAllowPolicy", v,
                  "sourceQueueArns can be specified only when redrivePermission is byQueue.");
        return NULL;
    }
    if (by_queue &&
        (!json_is_array(arns) || json_array_size(arns) < 1 || json_array_size(arns) > 10)) {
        doc_error(err, "RedriveAllowPolicy", v,
                  "sourceQueueArns must be a list of 1 to 10 queue ARNs when redrivePermission "
                  "is byQueue.");
        return NULL;
    }
    buf_t b;
    buf_init(&b, 0);
    buf_printf(&b, "{\"redrivePermission\":\"%s\"", perm);
    for (size_t i = 0; by_queue && i < json_array_size(arns); i++) {
        const char *arn = json_string_value(json_array_get(arns, i));
        if (!arn || !arn_text_ok(arn) || strlen(arn) >= SQS_ARN_MAX) {
            buf_free(&b);
            doc_error(err, "RedriveAllowPolicy", v, "sourceQueueArns must hold queue ARNs.");
            return NULL;
        }
        buf_printf(&b, "%s\"%s\"", i ? "," : ",\"sourceQueueArns\":[", arn);
    }
    buf_puts(&b, by_queue ? "]}" : "}");
    size_t len;
    return buf_steal(&b, &len);
}

/* A queue's Policy must be a resource policy IAM accepts (it is enforced as one). */
static bool policy_ok(const char *text)
{
    iam_policy_t *p = NULL;
    iam_policy_error_t perr;
    if (iam_policy_parse(text, strlen(text), IAM_POLICY_RESOURCE, &p, &perr) < 0)
        return false;
    iam_policy_free(p);
    return true;
}

static int json_attrs_normalise(sqs_attr_t *a, size_t n, json_attrs_t *keep, aws_error_t *err)
{
    for (size_t i = 0; i < n; i++) {
        bool redrive = !strcmp(a[i].name, "RedrivePolicy");
        bool allow = !strcmp(a[i].name, "RedriveAllowPolicy");
        if ((!redrive && !allow && strcmp(a[i].name, "Policy")) || !a[i].value[0])
            continue;
        json_t *doc = json_loads(a[i].value, JSON_REJECT_DUPLICATES, NULL);
        char *norm = NULL;
        int rc = 0;
        if (!json_is_object(doc) || (!redrive && !allow && !policy_ok(a[i].value)))
            rc = aws_error_set(err, 400, "InvalidAttributeValue",
                               "Invalid value for the parameter %s.", a[i].name);
        else if (redrive || allow)
            norm = redrive ? redrive_normalise(doc, a[i].value, err)
                           : redrive_allow_normalise(doc, a[i].value, err);
        json_decref(doc);
        if (rc < 0 || ((redrive || allow) && !norm))
            return -1;
        if (norm && keep->n < sizeof(keep->owned) / sizeof(keep->owned[0])) {
            keep->owned[keep->n++] = norm;
            a[i].value = norm;
        } else {
            free(norm);
        }
    }
    return 0;
}

static void json_attrs_free(json_attrs_t *keep)
{
    for (size_t i = 0; i < keep->n; i++)
        free(keep->owned[i]);
    keep->n = 0;
}

/* Tag keys and values are text: valid UTF-8 without control characters
 * (they are echoed in XML and JSON). 0, or -1 with InvalidParameterValue. */
static int tags_check(const sqs_attr_t *t, size_t n, aws_error_t *err)
{
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 2; k++) {
            const char *s = k ? t[i].value : t[i].name;
            json_t *probe = json_string(s); /* NULL unless valid UTF-8 */
            bool ok = probe != NULL;
            json_decref(probe);
            for (const char *p = s; ok && *p; p++)
                ok = (unsigned char)*p >= 0x20;
            if (!ok)
                return aws_error_set(err, 400, "InvalidParameterValue",
                                     "Tag keys and values must be valid UTF-8 text without "
                                     "control characters.");
        }
    }
    return 0;
}

/* Strings of a list member (borrowed); caller frees. */
static const char **strings_of(const json_t *list, size_t *n)
{
    size_t i, k = 0;
    json_t *v;
    const char **s = xcalloc(json_array_size(list) + 1, sizeof(*s));
    json_array_foreach(list, i, v) if (json_is_string(v)) s[k++] = json_string_value(v);
    *n = k;
    return s;
}

/* Parses the last two segments of a queue URL. 0, or -1 with InvalidAddress. */
static int qurl_parse(const char *url, qurl_t *u, aws_error_t *err)
{
    const char *p = url ? strstr(url, "://") : NULL;
    p = p ? strchr(p + 3, '/') : url;
    if (p && *p == '/')
        p++;
    const char *slash = p ? strchr(p, '/') : NULL;
    if (!slash || slash - p == 0 || slash - p >= (long)sizeof(u->account) || !slash[1] ||
        strchr(slash + 1, '/') || strlen(slash + 1) >= sizeof(u->name))
        return aws_error_set(err, 400, "InvalidAddress",
                             "The address %.200s is not valid for this endpoint.", url ? url : "");
    str_copyn(u->account, sizeof(u->account), p, (size_t)(slash - p));
    str_copy(u->name, sizeof(u->name), slash + 1);
    return 0;
}

static int queue_ref(aws_call_t *c, qurl_t *u, sqs_queue_ref_t *ref)
{
    const char *url = aws_jstr(c->in, "QueueUrl");
    if (qurl_parse(url, u, &c->err) < 0)
        return -1;
    ref->account = u->account;
    ref->name = u->name;
    return 0;
}

static json_t *queue_url(const aws_call_t *c, const char *account, const char *name)
{
    char url[512];
    snprintf(url, sizeof(url), "http://%s/%s/%s", c->host[0] ? c->host : "localhost:4566", account,
             name);
    return json_string(url);
}

static sqs_engine_t *engine(const aws_call_t *c)
{
    return sqs_service_engine(c->svc->state);
}

/* Ends a handler: re-arms the engine's deadline timer and maps rc. */
static int done(aws_call_t *c, int rc)
{
    sqs_service_rearm(c->svc->state);
    return rc < 0 ? AWS_CALL_ERROR : AWS_CALL_DONE;
}

/* ---- resources ------------------------------------------------------------ */

static int res_queue_url(aws_call_t *c, buf_t *arn)
{
    qurl_t u;
    if (qurl_parse(aws_jstr(c->in, "QueueUrl"), &u, &c->err) < 0)
        return -1;
    const char *parts[] = {"arn:aws:sqs:", c->region, ":", u.account, ":", u.name};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        buf_puts(arn, parts[i]);
    return 0;
}

static int res_queue_name(aws_call_t *c, buf_t *arn)
{
    const char *owner = aws_jstr(c->in, "QueueOwnerAWSAccountId");
    const char *name = aws_jstr(c->in, "QueueName");
    buf_printf(arn, "arn:aws:sqs:%s:%s:%.100s", c->region, owner ? owner : c->principal.account,
               name ? name : "");
    return 0;
}

/* Move tasks act on their source queue: SourceArn, or the one in TaskHandle. */
static int res_source_arn(aws_call_t *c, buf_t *arn)
{
    const char *src = aws_jstr(c->in, "SourceArn");
    buf_puts(arn, src ? src : "");
    return 0;
}

static int res_task_handle(aws_call_t *c, buf_t *arn)
{
    char id[37], src[SQS_ARN_MAX];
    if (sqs_move_handle_parse(aws_jstr(c->in, "TaskHandle"), id, src, sizeof(src)) < 0)
        return aws_error_set(&c->err, 400, "InvalidParameterValue",
                             "Value for parameter TaskHandle is invalid.");
    buf_puts(arn, src);
    return 0;
}

static int res_any(aws_call_t *c, buf_t *arn)
{
    (void)c;
    buf_puts(arn, "*");
    return 0;
}

/* ---- queues ----------------------------------------------------------------- */

static int h_create_queue(aws_call_t *c)
{
    sqs_ctx_t ctx;
    sqs_create_in_t in = {.name = aws_jstr(c->in, "QueueName")};
    sqs_attr_t *attrs = pairs_of(json_object_get(c->in, "Attributes"), &in.n_attrs);
    sqs_attr_t *tags = pairs_of(json_object_get(c->in, "tags"), &in.n_tags);
    json_attrs_t keep = {0};
    in.attrs = attrs;
    in.tags = tags;
    sqs_service_ctx(c, &ctx);
    int rc = json_attrs_normalise(attrs, in.n_attrs, &keep, &c->err);
    if (rc == 0)
        rc = tags_check(tags, in.n_tags, &c->err);
    if (rc == 0)
        rc = sqs_queue_create(engine(c), &ctx, &in, &c->err);
    json_attrs_free(&keep);
    free(attrs);
    free(tags);
    if (rc == 0)
        c->out = json_pack("{s:o}", "QueueUrl", queue_url(c, ctx.account, in.name));
    return done(c, rc);
}

static int h_get_queue_url(aws_call_t *c)
{
    sqs_ctx_t ctx;
    sqs_queue_ref_t q = {aws_jstr(c->in, "QueueOwnerAWSAccountId"), aws_jstr(c->in, "QueueName")};
    sqs_service_ctx(c, &ctx);
    int rc = sqs_queue_url_get(engine(c), &ctx, &q, &c->err);
    if (rc == 0)
        c->out = json_pack("{s:o}", "QueueUrl",
                           queue_url(c, q.account ? q.account : ctx.account, q.name));
    return done(c, rc);
}

static int h_list_queues(aws_call_t *c)
{
    sqs_ctx_t ctx;
    sqs_list_in_t in = {aws_jstr(c->in, "QueueNamePrefix"), jint(c->in, "MaxResults", 0),
                        aws_jstr(c->in, "NextToken")};
    sqs_list_out_t out = {0};
    sqs_service_ctx(c, &ctx);
    if (json_object_get(c->in, "MaxResults") && in.max_results == 0)
        in.max_results = -1; /* given as 0: out of range */
    int rc = sqs_queue_list(engine(c), &ctx, &in, &out, &c->err);
    if (rc < 0)
        return done(c, rc);
    c->out = json_object();
    if (out.n) {
        json_t *urls = json_array();
        for (size_t i = 0; i < out.n; i++)
            json_array_append_new(urls, queue_url(c, ctx.account, out.names[i]));
        json_object_set_new(c->out, "QueueUrls", urls);
    }
    if (out.next_token)
        json_object_set_new(c->out, "NextToken", json_string(out.next_token));
    sqs_list_out_clear(&out);
    return done(c, 0);
}

/* The shape shared by DeleteQueue and PurgeQueue. */
static int queue_only(aws_call_t *c, int (*fn)(sqs_engine_t *, const sqs_ctx_t *,
                                               const sqs_queue_ref_t *, aws_error_t *))
{
    sqs_ctx_t ctx;
    qurl_t u;
    sqs_queue_ref_t q;
    if (queue_ref(c, &u, &q) < 0)
        return AWS_CALL_ERROR;
    sqs_service_ctx(c, &ctx);
    return done(c, fn(engine(c), &ctx, &q, &c->err));
}

static int h_delete_queue(aws_call_t *c)
{
    return queue_only(c, sqs_queue_delete);
}

static int h_purge_queue(aws_call_t *c)
{
    return queue_only(c, sqs_queue_purge);
}

static json_t *kv_object(const sqs_kv_list_t *l)
{
    json_t *o = json_object();
    for (size_t i = 0; i < l->n; i++)
        json_object_set_new(o, l->items[i].name, json_string(l->items[i].value));
    return o;
}

static int h_get_queue_attributes(aws_call_t *c)
{
    sqs_ctx_t ctx;
    qurl_t u;
    sqs_attrs_get_in_t in = {0};
    sqs_kv_list_t out = {0};
    if (queue_ref(c, &u, &in.q) < 0)
        return AWS_CALL_ERROR;
    const char **names = strings_of(json_object_get(c->in, "AttributeNames"), &in.n);
    in.names = names;
    sqs_service_ctx(c, &ctx);
    int rc = sqs_queue_attrs_get(engine(c), &ctx, &in, &out, &c->err);
    free(names);
    if (rc == 0) {
        c->out = json_object();
        if (out.n)
            json_object_set_new(c->out, "Attributes", kv_object(&out));
        sqs_kv_list_clear(&out);
    }
    return done(c, rc);
}

static int h_set_queue_attributes(aws_call_t *c)
{
    sqs_ctx_t ctx;
    qurl_t u;
    sqs_attrs_set_in_t in = {0};
    if (queue_ref(c, &u, &in.q) < 0)
        return AWS_CALL_ERROR;
    sqs_attr_t *attrs = pairs_of(json_object_get(c->in, "Attributes"), &in.n);
    json_attrs_t keep = {0};
    in.attrs = attrs;
    sqs_service_ctx(c, &ctx);
    int rc = json_attrs_normalise(attrs, in.n, &keep, &c->err);
    if (rc == 0)
        rc = sqs_queue_attrs_set(engine(c), &ctx, &in, &c->err);
    json_attrs_free(&keep);
    free(attrs);
    return done(c, rc);
}

static int h_tag_queue(aws_call_t *c)
{
    sqs_ctx_t ctx;
    qurl_t u;
    sqs_tag_in_t in = {0};
    if (queue_ref(c, &u, &in.q) < 0)
        return AWS_CALL_ERROR;
    sqs_attr_t *tags = pairs_of(json_object_get(c->in, "Tags"), &in.n);
    in.tags = tags;
    sqs_service_ctx(c, &ctx);
    int rc = tags_check(tags, in.n, &c->err);
    if (rc == 0)
        rc = sqs_queue_tag(engine(c), &ctx, &in, &c->err);
    free(tags);
    return done(c, rc);
}

static int h_untag_queue(aws_call_t *c)
{
    sqs_ctx_t ctx;
    qurl_t u;
    sqs_tag_in_t in = {0};
    if (queue_ref(c, &u, &in.q) < 0)
        return AWS_CALL_ERROR;
    const char **keys = strings_of(json_object_get(c->in, "TagKeys"), &in.n);
    in.keys = keys;
    sqs_service_ctx(c, &ctx);
    int rc = sqs_queue_untag(engine(c), &ctx, &in, &c->err);
    free(keys);
    return done(c, rc);
}

static int h_list_queue_tags(aws_call_t *c)
{
    sqs_ctx_t ctx;
    qurl_t u;
    sqs_queue_ref_t q;
    sqs_kv_list_t out = {0};
    if (queue_ref(c, &u, &q) < 0)
        return AWS_CALL_ERROR;
    sqs_service_ctx(c, &ctx);
    int rc = sqs_queue_tags_list(engine(c), &ctx, &q, &out, &c->err);
    if (rc == 0) {
        c->out = json_object();
        if (out.n)
            json_object_set_new(c->out, "Tags", kv_object(&out));
        sqs_kv_list_clear(&out);
    }
    return done(c, rc);
}

/* ---- sending -------------------------------------------------------------------- */

/* Decoded binary attribute values live here until the send returns. */
typedef struct scratch {
    void *blocks[SQS_BATCH_MAX * (SQS_MSG_ATTRS_MAX + 1)];
    size_t n;
    sqs_msg_attr_t attrs[SQS_BATCH_MAX][SQS_MSG_ATTRS_MAX + 1];
} scratch_t;

/* Decodes base64 (as the JSON and query protocols carry blobs) into a new
 * block the caller frees. -1 if invalid. */
static int b64_decode_new(const char *s, size_t len, unsigned char **out, size_t *outlen)
{
    unsigned char *d = xmalloc(b64_decoded_max(len));
    if (b64_decode(s, len, d, outlen) < 0) {
        free(d);
        return -1;
    }
    *out = d;
    return 0;
}

static char *b64_encode(const void *p, size_t len)
{
    char *s = xmalloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)s, p, (int)len);
    return s;
}

/* Message attributes of one entry; more than SQS_MSG_ATTRS_MAX are passed on
 * as count so the engine reports the error. -1 with err on a bad blob. */
static int msg_attrs_of(const json_t *map, scratch_t *s, size_t entry, size_t *n, aws_error_t *err)
{
    const char *k;
    json_t *v;
    size_t i = 0;
    json_object_foreach((json_t *)map, k, v)
    {
        if (i > SQS_MSG_ATTRS_MAX) {
            i++;
            continue;
        }
        sqs_msg_attr_t *a = &s->attrs[entry][i++];
        memset(a, 0, sizeof(*a));
        a->name = k;
        a->data_type = aws_jstr(v, "DataType");
        a->string_value = aws_jstr(v, "StringValue");
        const json_t *bv = json_object_get(v, "BinaryValue");
        if (json_is_string(bv)) {
            unsigned char *d;
            if (b64_decode_new(json_string_value(bv), json_string_length(bv), &d, &a->binary_len) <
                0)
                return aws_error_set(err, 400, "InvalidParameterValue",
                                     "The binary value of message attribute %s is not valid "
                                     "base64.",
                                     k);
            a->binary_value = d;
            s->blocks[s->n++] = d;
        }
    }
    *n = i;
    return 0;
}

static void scratch_free(scratch_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->blocks[i]);
}

static int send_entry_of(const json_t *e, scratch_t *s, size_t i, sqs_send_entry_t *out,
                         aws_error_t *err)
{
    const json_t *body = json_object_get(e, "MessageBody");
    memset(out, 0, sizeof(*out));
    out->id = aws_jstr(e, "Id");
    out->body = json_string_value(body);
    out->body_len = json_string_length(body);
    out->delay_seconds = jint(e, "DelaySeconds", -1);
    out->group_id = aws_jstr(e, "MessageGroupId");
    out->dedup_id = aws_jstr(e, "MessageDeduplicationId");
    out->trace_header =
        aws_jstr(json_object_get(json_object_get(e, "MessageSystemAttributes"), "AWSTraceHeader"),
                 "StringValue");
    if (msg_attrs_of(json_object_get(e, "MessageAttributes"), s, i, &out->n_attrs, err) < 0)
        return -1;
    out->attrs = s->attrs[i];
    return 0;
}

/* Sets key (a literal) to s, a string the engine made (an id, a digest, a
 * receipt handle: ASCII), without jansson's UTF-8 checks, which walk both a
 * byte at a time and showed in profiles of the batch paths. */
static void set_ascii(json_t *o, const char *key, const char *s)
{
    json_object_set_new_nocheck(o, key, json_string_nocheck(s));
}

static void result_fields(json_t *o, const sqs_send_result_t *r)
{
    set_ascii(o, "MessageId", r->message_id);
    set_ascii(o, "MD5OfMessageBody", r->md5_body);
    if (r->md5_attrs[0])
        set_ascii(o, "MD5OfMessageAttributes", r->md5_attrs);
    if (r->md5_sys_attrs[0])
        set_ascii(o, "MD5OfMessageSystemAttributes", r->md5_sys_attrs);
    if (r->sequence_number[0])
        set_ascii(o, "SequenceNumber", r->sequence_number);
}

/* {"Id": id} for a batch entry's result. The id came from the decoded request,
 * which jansson has checked for UTF-8 already; json_pack would parse its format
 * again for each of the ten entries. */
static json_t *entry_result(const char *id)
{
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "Id", json_string_nocheck(id ? id : ""));
    return o;
}

/* {"Successful": ok, "Failed": failed}, taking both. */
static json_t *batch_result(json_t *ok, json_t *failed)
{
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "Successful", ok);
    json_object_set_new_nocheck(o, "Failed", failed);
    return o;
}

static json_t *failure(const char *id, const aws_error_t *e)
{
    return json_pack("{s:s, s:b, s:s, s:s}", "Id", id ? id : "", "SenderFault", e->sender, "Code",
                     e->code, "Message", e->message);
}

static int h_send_message(aws_call_t *c)
{
    sqs_ctx_t ctx;
    qurl_t u;
    /* On the stack: a large malloc per request makes glibc consolidate its
     * fast bins every time, which showed as a fifth of the CPU in profiles. */
    scratch_t scratch, *s = &scratch;
    scratch.n = 0;
    sqs_send_entry_t entry;
    sqs_send_in_t in = {.entries = &entry, .n = 1, .batch = false};
    sqs_send_out_t outbuf, *out = &outbuf;
    int rc = -1;
    if (queue_ref(c, &u, &in.q) < 0 || send_entry_of(c->in, s, 0, &entry, &c->err) < 0)
        goto out;
    sqs_service_ctx(c, &ctx);
    if (sqs_msg_send(engine(c), &ctx, &in, out, &c->err) < 0)
        goto out;
    if (out->results[0].err.code) {
        c->err = out->results[0].err;
        goto out;
    }
    c->out = json_object();
    result_fields(c->out, &out->results[0]);
    rc = 0;
out:
    scratch_free(s);
    return done(c, rc);
}

static int h_send_message_batch(aws_call_t *c)
{
    sqs_ctx_t ctx;
    qurl_t u;
    scratch_t scratch, *s = &scratch;
    scratch.n = 0;
    sqs_send_entry_t entries[SQS_BATCH_MAX];
    const json_t *list = json_object_get(c->in, "Entries");
    sqs_send_in_t in = {.entries = entries, .n = json_array_size(list), .batch = true};
    sqs_send_out_t outbuf, *out = &outbuf;
    int rc = -1;
    if (queue_ref(c, &u, &in.q) < 0)
        goto out;
    for (size_t i = 0; i < in.n && i < SQS_BATCH_MAX; i++)
        if (send_entry_of(json_array_get(list, i), s, i, &entries[i], &c->err) < 0)
            goto out;
    sqs_service_ctx(c, &ctx);
    if (sqs_msg_send(engine(c), &ctx, &in, out, &c->err) < 0)
        goto out;
    json_t *ok = json_array(), *failed = json_array();
    for (size_t i = 0; i < out->n; i++) {
        const sqs_send_result_t *r = &out->results[i];
        if (r->err.code) {
            json_array_append_new(failed, failure(entries[i].id, &r->err));
            continue;
        }
        json_t *o = entry_result(entries[i].id);
        result_fields(o, r);
        json_array_append_new(ok, o);
    }
    c->out = batch_result(ok, failed);
    rc = 0;
out:
    scratch_free(s);
    return done(c, rc);
}

/* ---- receiving ---------------------------------------------------------------------- */

static json_t *received_json(const sqs_received_t *m)
{
    json_t *o = json_object();
    set_ascii(o, "MessageId", m->message_id);
    set_ascii(o, "ReceiptHandle", m->receipt_handle);
    set_ascii(o, "MD5OfBody", m->md5_body);
    json_object_set_new_nocheck(o, "Body", json_stringn_nocheck(m->body, m->body_len));
    if (m->sys_attrs.n)
        json_object_set_new(o, "Attributes", kv_object(&m->sys_attrs));
    if (m->n_attrs) {
        json_t *attrs = json_object();
        for (size_t i = 0; i < m->n_attrs; i++) {
            const sqs_msg_attr_t *a = &m->attrs[i];
            json_t *v = json_pack("{s:s}", "DataType", a->data_type);
            if (a->binary_value) {
                char *b = b64_encode(a->binary_value, a->binary_len);
                json_object_set_new(v, "BinaryValue", json_string(b));
                free(b);
            } else {
                json_object_set_new(v, "StringValue", json_string(a->string_value));
            }
            json_object_set_new(attrs, a->name, v);
        }
        json_object_set_new(o, "MessageAttributes", attrs);
        set_ascii(o, "MD5OfMessageAttributes", m->md5_attrs);
    }
    return o;
}

typedef struct receive_req {
    qurl_t u;
    sqs_receive_in_t in;
    const char **sys_names;
    const char **attr_names;
} receive_req_t;

static void receive_req_free(aws_call_t *c)
{
    receive_req_t *r = c->data;
    if (!r)
        return;
    free(r->sys_names);
    free(r->attr_names);
    free(r);
    c->data = NULL;
}

/* One receive attempt. Parks the call when nothing came and time is left. */
static int receive_try(aws_call_t *c, sqs_poll_event_t event)
{
    receive_req_t *r = c->data;
    sqs_ctx_t ctx;
    sqs_receive_out_t out;
    if (event == SQS_POLL_GONE) {
        /* Nobody would get these messages: take none. */
        receive_req_free(c);
        c->out = json_object();
        return done(c, 0);
    }
    sqs_service_ctx(c, &ctx);
    if (sqs_msg_receive(engine(c), &ctx, &r->in, &out, &c->err) < 0) {
        receive_req_free(c);
        return done(c, -1);
    }
    if (out.n == 0 && out.wait_seconds > 0 && event == SQS_POLL_WAKE) {
        sqs_receive_out_clear(&out);
        int rc = sqs_service_park(c->svc->state, c, &r->in.q, out.wait_seconds, receive_try);
        if (rc == AWS_CALL_ERROR)
            receive_req_free(c);
        return rc;
    }
    json_decref(c->out);
    c->out = json_object();
    if (out.n) {
        json_t *msgs = json_array();
        for (size_t i = 0; i < out.n; i++)
            json_array_append_new(msgs, received_json(&out.msgs[i]));
        json_object_set_new(c->out, "Messages", msgs);
    }
    sqs_receive_out_clear(&out);
    receive_req_free(c);
    return done(c, 0);
}

/* AttributeNames and MessageSystemAttributeNames both select system attributes. */
static const char **sys_names_of(const json_t *in, size_t *n)
{
    size_t a, b;
    const char **x = strings_of(json_object_get(in, "AttributeNames"), &a);
    const char **y = strings_of(json_object_get(in, "MessageSystemAttributeNames"), &b);
    x = xrealloc(x, (a + b + 1) * sizeof(*x));
    memcpy(x + a, y, b * sizeof(*y));
    free(y);
    *n = a + b;
    return x;
}

static int h_receive_message(aws_call_t *c)
{
    receive_req_t *r = xcalloc(1, sizeof(*r));
    c->data = r;
    if (queue_ref(c, &r->u, &r->in.q) < 0) {
        receive_req_free(c);
        return AWS_CALL_ERROR;
    }
    r->in.max_messages = jint(c->in, "MaxNumberOfMessages", 0);
    if (json_object_get(c->in, "MaxNumberOfMessages") && r->in.max_messages == 0)
        r->in.max_messages = -1; /* given as 0: out of range */
    r->in.visibility_timeout = jint(c->in, "VisibilityTimeout", -1);
    r->in.wait_seconds = jint(c->in, "WaitTimeSeconds", -1);
    r->sys_names = sys_names_of(c->in, &r->in.n_sys_attr_names);
    r->in.sys_attr_names = r->sys_names;
    r->attr_names =
        strings_of(json_object_get(c->in, "MessageAttributeNames"), &r->in.n_msg_attr_names);
    r->in.msg_attr_names = r->attr_names;
    r->in.attempt_id = aws_jstr(c->in, "ReceiveRequestAttemptId");
    return receive_try(c, SQS_POLL_WAKE);
}

/* ---- receipt handles ---------------------------------------------------------------- */

typedef int (*handle_fn)(sqs_engine_t *, const sqs_ctx_t *, const sqs_handle_in_t *,
                         sqs_handle_out_t *, aws_error_t *);

static int handles_single(aws_call_t *c, handle_fn fn)
{
    sqs_ctx_t ctx;
    qurl_t u;
    sqs_handle_entry_t e = {NULL, aws_jstr(c->in, "ReceiptHandle"),
                            jint(c->in, "VisibilityTimeout", 0)};
    sqs_handle_in_t in = {.entries = &e, .n = 1, .batch = false};
    sqs_handle_out_t out;
    if (queue_ref(c, &u, &in.q) < 0)
        return AWS_CALL_ERROR;
    sqs_service_ctx(c, &ctx);
    int rc = fn(engine(c), &ctx, &in, &out, &c->err);
    if (rc == 0 && out.errs[0].code) {
        c->err = out.errs[0];
        rc = -1;
    }
    return done(c, rc);
}

static int handles_batch(aws_call_t *c, handle_fn fn)
{
    sqs_ctx_t ctx;
    qurl_t u;
    sqs_handle_entry_t entries[SQS_BATCH_MAX];
    const json_t *list = json_object_get(c->in, "Entries");
    sqs_handle_in_t in = {.entries = entries, .n = json_array_size(list), .batch = true};
    sqs_handle_out_t out;
    if (queue_ref(c, &u, &in.q) < 0)
        return AWS_CALL_ERROR;
    for (size_t i = 0; i < in.n && i < SQS_BATCH_MAX; i++) {
        const json_t *e = json_array_get(list, i);
        entries[i] = (sqs_handle_entry_t){aws_jstr(e, "Id"), aws_jstr(e, "ReceiptHandle"),
                                          jint(e, "VisibilityTimeout", 0)};
    }
    sqs_service_ctx(c, &ctx);
    if (fn(engine(c), &ctx, &in, &out, &c->err) < 0)
        return done(c, -1);
    json_t *ok = json_array(), *failed = json_array();
    for (size_t i = 0; i < out.n; i++) {
        if (out.errs[i].code)
            json_array_append_new(failed, failure(entries[i].id, &out.errs[i]));
        else
            json_array_append_new(ok, entry_result(entries[i].id));
    }
    c->out = batch_result(ok, failed);
    return done(c, 0);
}

static int h_delete_message(aws_call_t *c)
{
    return handles_single(c, sqs_msg_delete);
}

static int h_delete_message_batch(aws_call_t *c)
{
    return handles_batch(c, sqs_msg_delete);
}

static int h_change_visibility(aws_call_t *c)
{
    aws_call_require_durable(c);
    return handles_single(c, sqs_msg_visibility_change);
}

static int h_change_visibility_batch(aws_call_t *c)
{
    aws_call_require_durable(c);
    return handles_batch(c, sqs_msg_visibility_change);
}

/* ---- dead-letter sources and move tasks ----------------------------------------------- */

static int h_list_dlq_sources(aws_call_t *c)
{
    sqs_ctx_t ctx;
    qurl_t u;
    sqs_queue_ref_t q;
    sqs_list_in_t in = {NULL, jint(c->in, "MaxResults", 0), aws_jstr(c->in, "NextToken")};
    sqs_list_out_t out = {0};
    if (queue_ref(c, &u, &q) < 0)
        return AWS_CALL_ERROR;
    if (json_object_get(c->in, "MaxResults") && in.max_results == 0)
        in.max_results = -1; /* given as 0: out of range */
    sqs_service_ctx(c, &ctx);
    if (sqs_queue_dlq_sources(engine(c), &ctx, &q, &in, &out, &c->err) < 0)
        return done(c, -1);
    json_t *urls = json_array();
    for (size_t i = 0; i < out.n; i++)
        json_array_append_new(urls, queue_url(c, u.account, out.names[i]));
    c->out = json_pack("{s:o}", "queueUrls", urls);
    if (out.next_token)
        json_object_set_new(c->out, "NextToken", json_string(out.next_token));
    sqs_list_out_clear(&out);
    return done(c, 0);
}

static int h_start_move_task(aws_call_t *c)
{
    sqs_ctx_t ctx;
    char handle[SQS_TASK_HANDLE_MAX];
    const json_t *rate = json_object_get(c->in, "MaxNumberOfMessagesPerSecond");
    sqs_move_in_t in = {aws_jstr(c->in, "SourceArn"), aws_jstr(c->in, "DestinationArn"),
                        jint(c->in, "MaxNumberOfMessagesPerSecond", 0)};
    if (rate && in.rate == 0)
        in.rate = -1; /* given as 0: out of range */
    sqs_service_ctx(c, &ctx);
    int rc = sqs_move_start(engine(c), &ctx, &in, handle, sizeof(handle), &c->err);
    if (rc == 0)
        c->out = json_pack("{s:s}", "TaskHandle", handle);
    return done(c, rc);
}

static json_t *move_info_json(const sqs_move_info_t *t)
{
    json_t *o = json_object();
    if (t->handle[0])
        json_object_set_new(o, "TaskHandle", json_string(t->handle));
    json_object_set_new(o, "Status", json_string(t->status));
    json_object_set_new(o, "SourceArn", json_string(t->source_arn));
    if (t->dest_arn[0])
        json_object_set_new(o, "DestinationArn", json_string(t->dest_arn));
    if (t->rate)
        json_object_set_new(o, "MaxNumberOfMessagesPerSecond", json_integer(t->rate));
    json_object_set_new(o, "ApproximateNumberOfMessagesMoved", json_integer((json_int_t)t->moved));
    json_object_set_new(o, "ApproximateNumberOfMessagesToMove",
                        json_integer((json_int_t)t->to_move));
    if (t->failure[0])
        json_object_set_new(o, "FailureReason", json_string(t->failure));
    json_object_set_new(o, "StartedTimestamp", json_integer(t->started_ms));
    return o;
}

static int h_list_move_tasks(aws_call_t *c)
{
    sqs_ctx_t ctx;
    sqs_move_info_t *tasks = xcalloc(SQS_MOVE_LIST_MAX, sizeof(*tasks));
    size_t n = 0;
    int max = jint(c->in, "MaxResults", 0);
    if (json_object_get(c->in, "MaxResults") && max == 0)
        max = -1; /* given as 0: out of range */
    sqs_service_ctx(c, &ctx);
    int rc = sqs_move_list(engine(c), &ctx, aws_jstr(c->in, "SourceArn"), max, tasks, &n, &c->err);
    if (rc == 0) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, move_info_json(&tasks[i]));
        c->out = json_pack("{s:o}", "Results", list);
    }
    free(tasks);
    return done(c, rc);
}

static int h_cancel_move_task(aws_call_t *c)
{
    sqs_ctx_t ctx;
    uint64_t moved = 0;
    sqs_service_ctx(c, &ctx);
    int rc = sqs_move_cancel(engine(c), &ctx, aws_jstr(c->in, "TaskHandle"), &moved, &c->err);
    if (rc == 0)
        c->out = json_pack("{s:I}", "ApproximateNumberOfMessagesMoved", (json_int_t)moved);
    return done(c, rc);
}

/* ---- queue permissions ------------------------------------------------------------------- */

/* AddPermission's action names (API_AddPermission: the actions a queue's owner
 * may share). */
static const char *const SHAREABLE[] = {
    "*",           "ChangeMessageVisibility",    "DeleteMessage", "GetQueueAttributes",
    "GetQueueUrl", "ListDeadLetterSourceQueues", "PurgeQueue",    "ReceiveMessage",
    "SendMessage",
};

static bool label_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= 80 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789-_") == n;
}

static bool account_ok(const char *s)
{
    return s && strlen(s) == 12 && strspn(s, "0123456789") == 12;
}

/* The queue's Policy as a document with a Statement list (a new one when the
 * queue has none). NULL with c->err when the queue is gone. */
static json_t *policy_load(aws_call_t *c, const sqs_ctx_t *ctx, const sqs_queue_ref_t *q,
                           const char *arn)
{
    const char *names[] = {"Policy"};
    sqs_attrs_get_in_t in = {*q, names, 1};
    sqs_kv_list_t out = {0};
    if (sqs_queue_attrs_get(engine(c), ctx, &in, &out, &c->err) < 0)
        return NULL;
    json_t *doc = out.n ? json_loads(out.items[0].value, 0, NULL) : NULL;
    sqs_kv_list_clear(&out);
    if (!json_is_object(doc)) {
        json_decref(doc);
        char id[SQS_ARN_MAX + 32];
        snprintf(id, sizeof(id), "%s/SQSDefaultPolicy", arn);
        doc = json_pack("{s:s, s:s, s:[]}", "Version", "2012-10-17", "Id", id, "Statement");
    }
    json_t *st = json_object_get(doc, "Statement");
    if (json_is_object(st))
        json_object_set_new(doc, "Statement", json_pack("[O]", st));
    else if (!json_is_array(st))
        json_object_set_new(doc, "Statement", json_array());
    return doc;
}

/* Writes doc back as the queue's Policy (no statement left: no policy). */
static int policy_store(aws_call_t *c, const sqs_ctx_t *ctx, const sqs_queue_ref_t *q, json_t *doc)
{
    bool empty = json_array_size(json_object_get(doc, "Statement")) == 0;
    char *text = empty ? NULL : json_dumps(doc, JSON_COMPACT);
    sqs_attr_t attr = {"Policy", text ? text : ""};
    sqs_attrs_set_in_t in = {*q, &attr, 1};
    int rc = sqs_queue_attrs_set(engine(c), ctx, &in, &c->err);
    free(text);
    return rc;
}

static int label_index(const json_t *statements, const char *label)
{
    size_t i;
    json_t *st;
    json_array_foreach(statements, i, st)
    {
        const char *sid = aws_jstr(st, "Sid");
        if (sid && !strcmp(sid, label))
            return (int)i;
    }
    return -1;
}

/* AddPermission's checks, in AWS's order; 0 or -1 with c->err. */
static int permission_check(aws_call_t *c, const char *label, const json_t *accounts,
                            const json_t *actions)
{
    size_t i;
    json_t *v;
    if (!label_ok(label))
        return aws_error_set(
            &c->err, 400, "InvalidParameterValue",
            "Value %.100s for parameter Label is invalid. Reason: Can only include "
            "alphanumeric characters, hyphens, or underscores. 1 to 80 in length.",
            label ? label : "");
    if (json_array_size(actions) == 0)
        return aws_error_set(&c->err, 400, "MissingParameter",
                             "The request must contain the parameter Actions.");
    if (json_array_size(accounts) == 0)
        return aws_error_set(&c->err, 400, "InvalidParameterValue",
                             "Value [] for parameter PrincipalId is invalid. Reason: Unable to "
                             "verify.");
    if (json_array_size(actions) > 7)
        return aws_error_set(&c->err, 403, "OverLimit",
                             "%zu Actions were found, maximum allowed is 7.",
                             json_array_size(actions));
    json_array_foreach(accounts, i, v) if (!account_ok(json_string_value(v))) return aws_error_set(
        &c->err, 400, "InvalidParameterValue",
        "Value %.100s for parameter PrincipalId is invalid. Reason: Unable to verify.",
        json_is_string(v) ? json_string_value(v) : "");
    json_array_foreach(actions, i, v)
    {
        const char *a = json_string_value(v);
        bool ok = false;
        for (size_t k = 0; a && !ok && k < sizeof(SHAREABLE) / sizeof(SHAREABLE[0]); k++)
            ok = !strcmp(a, SHAREABLE[k]);
        if (!ok)
            return aws_error_set(&c->err, 400, "InvalidParameterValue",
                                 "Value SQS:%.100s for parameter ActionName is invalid. Reason: "
                                 "Only the queue owner is allowed to invoke this action.",
                                 a ? a : "");
    }
    return 0;
}

/* One value, or a list of several: how AWS renders a statement's members. */
static json_t *one_or_list(json_t *list)
{
    if (json_array_size(list) != 1)
        return list;
    json_t *one = json_incref(json_array_get(list, 0));
    json_decref(list);
    return one;
}

/* The start of Add/RemovePermission: the queue (u, q), the context and the
 * queue's policy document; NULL with c->err when the queue is gone. */
static json_t *permission_begin(aws_call_t *c, sqs_ctx_t *ctx, qurl_t *u, sqs_queue_ref_t *q,
                                char arn[SQS_ARN_MAX])
{
    if (queue_ref(c, u, q) < 0)
        return NULL;
    sqs_service_ctx(c, ctx);
    snprintf(arn, SQS_ARN_MAX, "arn:aws:sqs:%s:%s:%s", c->region, u->account, u->name);
    return policy_load(c, ctx, q, arn);
}

static int h_add_permission(aws_call_t *c)
{
    sqs_ctx_t ctx;
    qurl_t u;
    sqs_queue_ref_t q;
    char arn[SQS_ARN_MAX];
    const char *label = aws_jstr(c->in, "Label");
    const json_t *accounts = json_object_get(c->in, "AWSAccountIds");
    const json_t *actions = json_object_get(c->in, "Actions");
    if (permission_check(c, label, accounts, actions) < 0)
        return done(c, -1);
    json_t *doc = permission_begin(c, &ctx, &u, &q, arn);
    if (!doc)
        return done(c, -1);
    json_t *statements = json_object_get(doc, "Statement");
    int rc = -1;
    if (label_index(statements, label) >= 0) {
        aws_error_set(&c->err, 400, "InvalidParameterValue",
                      "Value %s for parameter Label is invalid. Reason: Already exists.", label);
        goto out;
    }
    json_t *principals = json_array(), *names = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(accounts, i, v) json_array_append_new(
        principals, json_sprintf("arn:aws:iam::%s:root", json_string_value(v)));
    json_array_foreach(actions, i, v)
        json_array_append_new(names, json_sprintf("SQS:%s", json_string_value(v)));
    json_array_append_new(statements,
                          json_pack("{s:s, s:s, s:{s:o}, s:o, s:s}", "Sid", label, "Effect",
                                    "Allow", "Principal", "AWS", one_or_list(principals), "Action",
                                    one_or_list(names), "Resource", arn));
    rc = policy_store(c, &ctx, &q, doc);
out:
    json_decref(doc);
    return done(c, rc);
}

static int h_remove_permission(aws_call_t *c)
{
    sqs_ctx_t ctx;
    qurl_t u;
    sqs_queue_ref_t q;
    char arn[SQS_ARN_MAX];
    const char *label = aws_jstr(c->in, "Label");
    json_t *doc = permission_begin(c, &ctx, &u, &q, arn);
    if (!doc)
        return done(c, -1);
    json_t *statements = json_object_get(doc, "Statement");
    int k = label ? label_index(statements, label) : -1, rc = -1;
    if (k < 0)
        aws_error_set(&c->err, 400, "InvalidParameterValue",
                      "Value %.100s for parameter Label is invalid. Reason: can't find label on "
                      "existing policy.",
                      label ? label : "");
    else {
        json_array_remove(statements, (size_t)k);
        rc = policy_store(c, &ctx, &q, doc);
    }
    json_decref(doc);
    return done(c, rc);
}

/* ---- the table ------------------------------------------------------------------------- */

const aws_action_t sqs_actions[] = {
    {"AddPermission", "sqs:AddPermission", res_queue_url, h_add_permission},
    {"CancelMessageMoveTask", "sqs:CancelMessageMoveTask", res_task_handle, h_cancel_move_task},
    {"ChangeMessageVisibility", "sqs:ChangeMessageVisibility", res_queue_url, h_change_visibility},
    {"ChangeMessageVisibilityBatch", "sqs:ChangeMessageVisibility", res_queue_url,
     h_change_visibility_batch},
    {"CreateQueue", "sqs:CreateQueue", res_queue_name, h_create_queue},
    {"DeleteMessage", "sqs:DeleteMessage", res_queue_url, h_delete_message},
    {"DeleteMessageBatch", "sqs:DeleteMessage", res_queue_url, h_delete_message_batch},
    {"DeleteQueue", "sqs:DeleteQueue", res_queue_url, h_delete_queue},
    {"GetQueueAttributes", "sqs:GetQueueAttributes", res_queue_url, h_get_queue_attributes},
    {"GetQueueUrl", "sqs:GetQueueUrl", res_queue_name, h_get_queue_url},
    {"ListDeadLetterSourceQueues", "sqs:ListDeadLetterSourceQueues", res_queue_url,
     h_list_dlq_sources},
    {"ListMessageMoveTasks", "sqs:ListMessageMoveTasks", res_source_arn, h_list_move_tasks},
    {"ListQueueTags", "sqs:ListQueueTags", res_queue_url, h_list_queue_tags},
    {"ListQueues", "sqs:ListQueues", res_any, h_list_queues},
    {"PurgeQueue", "sqs:PurgeQueue", res_queue_url, h_purge_queue},
    {"ReceiveMessage", "sqs:ReceiveMessage", res_queue_url, h_receive_message},
    {"RemovePermission", "sqs:RemovePermission", res_queue_url, h_remove_permission},
    {"SendMessage", "sqs:SendMessage", res_queue_url, h_send_message},
    {"SendMessageBatch", "sqs:SendMessage", res_queue_url, h_send_message_batch},
    {"SetQueueAttributes", "sqs:SetQueueAttributes", res_queue_url, h_set_queue_attributes},
    {"StartMessageMoveTask", "sqs:StartMessageMoveTask", res_source_arn, h_start_move_task},
    {"TagQueue", "sqs:TagQueue", res_queue_url, h_tag_queue},
    {"UntagQueue", "sqs:UntagQueue", res_queue_url, h_untag_queue},
};
const size_t sqs_n_actions = sizeof(sqs_actions) / sizeof(sqs_actions[0]);
