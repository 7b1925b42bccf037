/*
 * msg — the message actions of the SQS engine (API in queue.h).
 *
 * SendMessage(Batch), ReceiveMessage, DeleteMessage(Batch),
 * ChangeMessageVisibility(Batch), receipt handles and message restore. Batch
 * rules (1-10 entries, distinct ids of alnum/-/_ up to 80, 1 MiB per
 * SendMessageBatch) fail the whole request; everything else fails one entry.
 *
 * A receipt handle is base64 of 33 bytes: version, queue id, seq, the receive
 * count at the receive that issued it, 8 random bytes, and a 4-byte check over
 * the rest. It carries no secret (access is decided by IAM on the queue), but
 * it survives restarts because the receive count is persisted. The receive
 * count also makes "only the latest handle deletes" (API_DeleteMessage) an O(1)
 * comparison.
 */
#include "base/digest.h"
#include "base/hex.h"
#include "base/ids.h"
#include "sqs/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base/xalloc.h"

#define HANDLE_BYTES   33
#define HANDLE_CHARS   44
#define HANDLE_VERSION 1
#define VIS_MAX        43200

/* ---- receipt handles ---- */

typedef struct handle {
    uint64_t qid, seq;
    uint32_t rc;
} handle_t;

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t handle_check(const unsigned char *p)
{
    uint32_t h = 0x811c9dc5u;
    for (int i = 0; i < HANDLE_BYTES - 4; i++)
        h = (h ^ p[i]) * 0x01000193u;
    return h ^ 0x6e616772u; /* "nagr" */
}

static void handle_make(const sqs_queue_t *q, const sqs_msg_t *m, char out[HANDLE_CHARS + 1])
{
    unsigned char b[HANDLE_BYTES];
    b[0] = HANDLE_VERSION;
    put_be(b + 1, q->id, 8);
    put_be(b + 9, m->seq, 8);
    put_be(b + 17, m->receive_count, 4);
    ids_random(b + 21, 8);
    put_be(b + 29, handle_check(b), 4);
    EVP_EncodeBlock((unsigned char *)out, b, HANDLE_BYTES);
}

static int handle_parse(const sqs_queue_t *q, const char *s, handle_t *h, aws_error_t *err)
{
    unsigned char b[HANDLE_BYTES + 3];
    bool ok = s && strlen(s) == HANDLE_CHARS &&
              EVP_DecodeBlock(b, (const unsigned char *)s, HANDLE_CHARS) == HANDLE_BYTES &&
              b[0] == HANDLE_VERSION && get_be(b + 29, 4) == handle_check(b) &&
              get_be(b + 1, 8) == q->id;
    if (!ok)
        return aws_error_set(err, 400, "ReceiptHandleIsInvalid",
                             "The input receipt handle \"%s\" is not a valid receipt handle.",
                             s ? s : "");
    h->qid = q->id;
    h->seq = get_be(b + 9, 8);
    h->rc = (uint32_t)get_be(b + 17, 4);
    return 0;
}

/* ---- batch rules ---- */

static bool batch_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n < 1 || n > 80)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* ids[i] is the i-th entry's id (stride through the entries' structs). */
static int batch_check(const char *const *ids, size_t n, const char *entry, aws_error_t *err)
{
    if (n == 0)
        return aws_error_set2(err, 400, "EmptyBatchRequest",
                              "AWS.SimpleQueueService.EmptyBatchRequest",
                              "There should be at least one %s in the request.", entry);
    if (n > SQS_BATCH_MAX)
        return aws_error_set2(err, 400, "TooManyEntriesInBatchRequest",
                              "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                              "Maximum number of entries per request are %d. You have sent %zu.",
                              SQS_BATCH_MAX, n);
    for (size_t i = 0; i < n; i++)
        if (!batch_id_ok(ids[i]))
            return aws_error_set2(err, 400, "InvalidBatchEntryId",
                                  "AWS.SimpleQueueService.InvalidBatchEntryId",
                                  "A batch entry id can only contain alphanumeric characters, "
                                  "hyphens and underscores. It can be at most 80 letters long.");
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(ids[i], ids[j]))
                return aws_error_set2(err, 400, "BatchEntryIdsNotDistinct",
                                      "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                                      "Id %s repeated.", ids[i]);
    return 0;
}

/* Request-level checks common to the three actions; n > 10 is refused even for a
 * non-batch call because the outputs hold ten results. */
static int entries_check(const char *const *ids, size_t n, bool batch, const char *entry,
                         aws_error_t *err)
{
    if (batch)
        return batch_check(ids, n, entry, err);
    if (n == 0 || n > SQS_BATCH_MAX)
        return batch_check(ids, n, entry, err);
    return 0;
}

/* ---- send ---- */

static size_t entry_size(const sqs_send_entry_t *en)
{
    size_t n = en->body_len;
    for (size_t i = 0; i < en->n_attrs; i++) {
        const sqs_msg_attr_t *a = &en->attrs[i];
        n += a->name ? strlen(a->name) : 0;
        n += a->data_type ? strlen(a->data_type) : 0;
        n += a->string_value ? strlen(a->string_value) : a->binary_len;
    }
    return n;
}

/* MessageGroupId / MessageDeduplicationId: 1-128 alphanumeric or punctuation
 * characters (API_SendMessage). */
static int fifo_id_check(const char *param, const char *v, aws_error_t *err)
{
    size_t n = strlen(v);
    bool ok = n >= 1 && n <= 128;
    for (size_t i = 0; ok && i < n; i++)
        ok = v[i] > 0x20 && v[i] < 0x7f;
    if (!ok)
        return aws_error_set(
            err, 400, "InvalidParameterValue",
            "Value %.200s for parameter %s is invalid. Reason: %s can only include "
            "alphanumeric and punctuation characters. 1 to 128 in length.",
            v, param, param);
    return 0;
}

static int fifo_validate(const sqs_queue_t *q, const sqs_send_entry_t *en, aws_error_t *err)
{
    if (!queue_fifo(q)) {
        if (en->dedup_id)
            return aws_error_set(err, 400, "InvalidParameterValue",
                                 "Value %.200s for parameter MessageDeduplicationId is invalid. "
                                 "Reason: The request includes a parameter that is not valid for "
                                 "this queue type.",
                                 en->dedup_id);
        return en->group_id ? fifo_id_check("MessageGroupId", en->group_id, err) : 0;
    }
    /* DelaySeconds 0 is accepted: only a delay is refused per message. */
    if (en->delay_seconds > 0)
        return aws_error_set(err, 400, "InvalidParameterValue",
                             "Value %d for parameter DelaySeconds is invalid. Reason: The request "
                             "include parameter that is not valid for this queue type.",
                             en->delay_seconds);
    if (!en->group_id)
        return aws_error_set(err, 400, "MissingParameter",
                             "The request must contain the parameter MessageGroupId.");
    if (fifo_id_check("MessageGroupId", en->group_id, err) < 0 ||
        (en->dedup_id && fifo_id_check("MessageDeduplicationId", en->dedup_id, err) < 0))
        return -1;
    if (!en->dedup_id && strcmp(q->val[QA_CBD], "true"))
        return aws_error_set(err, 400, "InvalidParameterValue",
                             "The queue should either have ContentBasedDeduplication enabled or "
                             "MessageDeduplicationId provided explicitly");
    return 0;
}

static int send_validate(const sqs_queue_t *q, const sqs_send_entry_t *en, aws_error_t *err)
{
    size_t asize = 0;
    if (!en->body || en->body_len == 0)
        return aws_error_set(err, 400, "MissingParameter",
                             "The request must contain the parameter MessageBody.");
    if (fifo_validate(q, en, err) < 0)
        return -1;
    if (en->delay_seconds < -1 || en->delay_seconds > 900)
        return aws_error_set(err, 400, "InvalidParameterValue",
                             "Value %d for parameter DelaySeconds is invalid. Reason: "
                             "DelaySeconds must be >= 0 and <= 900.",
                             en->delay_seconds);
    if (msg_body_check(en->body, en->body_len, err) < 0 ||
        msg_attrs_check(en->attrs, en->n_attrs, &asize, err) < 0)
        return -1;
    if (en->body_len + asize > (size_t)q->ival[QA_MAX_SIZE])
        return aws_error_set(err, 400, "InvalidParameterValue",
                             "One or more parameters are invalid. Reason: Message must be "
                             "shorter than %d bytes.",
                             q->ival[QA_MAX_SIZE]);
    if (en->trace_header && !*en->trace_header)
        return aws_error_set(err, 400, "InvalidParameterValue",
                             "The message system attribute 'AWSTraceHeader' must contain a "
                             "non-empty value.");
    return 0;
}

/* A FIFO message's deduplication id: given, or the SHA-256 of the body
 * (ContentBasedDeduplication). NULL on standard queues. Caller frees. */
static char *dedup_id_of(const sqs_queue_t *q, const sqs_send_entry_t *en)
{
    if (!queue_fifo(q))
        return NULL;
    if (en->dedup_id)
        return xstrdup(en->dedup_id);
    uint8_t h[32];
    char *hex = xmalloc(65);
    digest_sha256(en->body, en->body_len, h);
    hex_encode(h, sizeof(h), hex);
    return hex;
}

static sqs_msg_t *msg_build(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_t *q,
                            const sqs_send_entry_t *en)
{
    sqs_msg_t *m = xcalloc(1, sizeof(*m));
    int delay = en->delay_seconds >= 0 ? en->delay_seconds : q->ival[QA_DELAY];
    m->seq = e->next_seq++;
    ids_uuid4(m->message_id);
    m->body = xmalloc(en->body_len + 1);
    memcpy(m->body, en->body, en->body_len);
    m->body[en->body_len] = 0;
    m->body_len = en->body_len;
    md5_hex(m->body, m->body_len, m->md5_body);
    m->attrs = msg_attrs_copy(en->attrs, en->n_attrs);
    m->n_attrs = (uint8_t)en->n_attrs;
    if (m->n_attrs)
        msg_attrs_md5(m->attrs, m->n_attrs, m->md5_attrs);
    if (en->trace_header) {
        m->trace_header = xstrdup(en->trace_header);
        msg_trace_md5(m->trace_header, m->md5_sys);
    }
    m->sender_id = xstrdup(ctx->sender_id ? ctx->sender_id : ctx->account);
    m->group_id = en->group_id ? xstrdup(en->group_id) : NULL;
    m->dedup_id = dedup_id_of(q, en);
    m->sent_ms = m->enqueued_ms = (int64_t)ctx->now_ms;
    m->sent_mono = (int64_t)ctx->mono_ms;
    m->due_mono = m->sent_mono + (int64_t)delay * 1000;
    m->where = delay ? MSG_DELAYED : MSG_VISIBLE;
    return m;
}

static void journal_put(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_queue_t *q,
                        const sqs_msg_t *m)
{
    if (!e->j.msg_put)
        return;
    sqs_msg_state_t st;
    size_t len;
    void *blob = msg_blob(m, &len);
    msg_state_of(m, ctx->now_ms, ctx->mono_ms, &st);
    e->j.msg_put(e->j.ud, m->seq, q->id, blob, len, &st);
    free(blob);
}

static void sequence_number(uint64_t seq, char out[21])
{
    snprintf(out, 21, "%llu", (unsigned long long)(SEQ_NUMBER_BASE + seq));
}

static void send_one(sqs_engine_t *e, const sqs_ctx_t *ctx, sqs_queue_t *q,
                     const sqs_send_entry_t *en, sqs_send_result_t *res)
{
    memset(res, 0, sizeof(*res));
    if (send_validate(q, en, &res->err) < 0)
        return;
    sqs_msg_t *m = msg_build(e, ctx, q, en);
    const dedup_t *dup =
        m->dedup_id ? fifo_dedup_find(q, m->group_id, m->dedup_id, (int64_t)ctx->mono_ms) : NULL;
    /* The digests are of what this request sent, which clients verify; the id
     * and sequence number are the original message's. */
    memcpy(res->md5_body, m->md5_body, sizeof(res->md5_body));
    memcpy(res->md5_attrs, m->md5_attrs, sizeof(res->md5_attrs));
    memcpy(res->md5_sys_attrs, m->md5_sys, sizeof(res->md5_sys_attrs));
    if (dup) {
        memcpy(res->message_id, dup->message_id, sizeof(res->message_id));
        sequence_number(dup->seq, res->sequence_number);
        msg_free(m);
        return;
    }
    memcpy(res->message_id, m->message_id, sizeof(res->message_id));
    if (queue_fifo(q)) {
        sequence_number(m->seq, res->sequence_number);
        fifo_dedup_add(e, ctx, q, m);
    }
    queue_msg_link(q, m);
    journal_put(e, ctx, q, m);
}

int sqs_msg_send(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_send_in_t *in,
                 sqs_send_out_t *out, aws_error_t *err)
{
    const char *ids[SQS_BATCH_MAX];
    size_t total = 0;
    sqs_queue_t *q = queue_find(e, ctx, &in->q, err);
    if (!q)
        return -1;
    for (size_t i = 0; i < in->n && i < SQS_BATCH_MAX; i++) {
        ids[i] = in->entries[i].id;
        total += entry_size(&in->entries[i]);
    }
    if (entries_check(ids, in->n, in->batch, "SendMessageBatchRequestEntry", err) < 0)
        return -1;
    if (in->batch && total > SQS_BATCH_BYTES_MAX)
        return aws_error_set2(err, 400, "BatchRequestTooLong",
                              "AWS.SimpleQueueService.BatchRequestTooLong",
                              "Batch requests cannot be longer than %d bytes. You have sent %zu "
                              "bytes.",
                              SQS_BATCH_BYTES_MAX, total);
    queue_advance(e, q, ctx->mono_ms);
    out->n = in->n;
    for (size_t i = 0; i < in->n; i++)
        send_one(e, ctx, q, &in->entries[i], &out->results[i]);
    queue_wake(q);
    return 0;
}

/* ---- receive ---- */

static int range_error(aws_error_t *err, const char *param, int v, int lo, int hi)
{
    return aws_error_set(err, 400, "InvalidParameterValue",
                         "Value %d for parameter %s is invalid. Reason: Must be between %d and "
                         "%d, if provided.",
                         v, param, lo, hi);
}

static bool name_listed(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], "All") || !strcmp(names[i], name))
            return true;
    return false;
}

/* MessageAttributeNames: "All", ".*", "prefix.*" or an exact name. */
static bool attr_selected(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        if (!strcmp(names[i], "All") || !strcmp(names[i], ".*") || !strcmp(names[i], name))
            return true;
        if (len > 2 && !strcmp(names[i] + len - 2, ".*") && !strncmp(names[i], name, len - 1))
            return true;
    }
    return false;
}

static void kv_push(sqs_kv_list_t *l, const char *name, const char *value)
{
    l->items = xrealloc(l->items, (l->n + 1) * sizeof(*l->items));
    l->items[l->n].name = xstrdup(name);
    l->items[l->n].value = xstrdup(value);
    l->n++;
}

static void sys_attrs_fill(const sqs_msg_t *m, const sqs_receive_in_t *in, sqs_kv_list_t *l)
{
    char buf[32];
    const char *const *nm = in->sys_attr_names;
    size_t n = in->n_sys_attr_names;
    if (name_listed(nm, n, "SenderId"))
        kv_push(l, "SenderId", m->sender_id);
    if (n == 0)
        return;
    if (name_listed(nm, n, "SentTimestamp")) {
        snprintf(buf, sizeof(buf), "%lld", (long long)m->sent_ms);
        kv_push(l, "SentTimestamp", buf);
    }
    if (name_listed(nm, n, "ApproximateReceiveCount")) {
        snprintf(buf, sizeof(buf), "%u", m->receive_count);
        kv_push(l, "ApproximateReceiveCount", buf);
    }
    if (name_listed(nm, n, "ApproximateFirstReceiveTimestamp")) {
        snprintf(buf, sizeof(buf), "%lld", (long long)m->first_receive_ms);
        kv_push(l, "ApproximateFirstReceiveTimestamp", buf);
    }
    if (m->trace_header && name_listed(nm, n, "AWSTraceHeader"))
        kv_push(l, "AWSTraceHeader", m->trace_header);
    if (m->group_id && name_listed(nm, n, "MessageGroupId"))
        kv_push(l, "MessageGroupId", m->group_id);
    if (m->dedup_id && name_listed(nm, n, "MessageDeduplicationId"))
        kv_push(l, "MessageDeduplicationId", m->dedup_id);
    if (m->group && name_listed(nm, n, "SequenceNumber")) {
        char sn[21];
        sequence_number(m->seq, sn);
        kv_push(l, "SequenceNumber", sn);
    }
    if (m->dlq_source && name_listed(nm, n, "DeadLetterQueueSourceArn"))
        kv_push(l, "DeadLetterQueueSourceArn", m->dlq_source);
}

static void msg_attrs_fill(const sqs_msg_t *m, const sqs_receive_in_t *in, sqs_received_t *r)
{
    msg_attr_t sel[SQS_MSG_ATTRS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < m->n_attrs; i++)
        if (attr_selected(in->msg_attr_names, in->n_msg_attr_names, m->attrs[i].name))
            sel[n++] = m->attrs[i];
    if (n == 0)
        return;
    r->attrs = xcalloc(n, sizeof(*r->attrs));
    for (size_t i = 0; i < n; i++) {
        r->attrs[i].name = xstrdup(sel[i].name);
        r->attrs[i].data_type = xstrdup(sel[i].type);
        if (sel[i].binary) {
            r->attrs[i].binary_value = xmemdup(sel[i].value, sel[i].len ? sel[i].len : 1);
            r->attrs[i].binary_len = sel[i].len;
        } else {
            r->attrs[i].string_value = xstrdup(sel[i].value);
        }
    }
    r->n_attrs = n;
    /* The digest covers exactly the attributes returned (they stay in name order). */
    msg_attrs_md5(sel, n, r->md5_attrs);
}

static void received_fill(const sqs_msg_t *m, const char *h, const sqs_receive_in_t *in,
                          sqs_received_t *r)
{
    memset(r, 0, sizeof(*r));
    r->message_id = xstrdup(m->message_id);
    r->receipt_handle = xstrdup(h);
    r->body = xmemdup(m->body, m->body_len + 1);
    r->body_len = m->body_len;
    memcpy(r->md5_body, m->md5_body, sizeof(r->md5_body));
    sys_attrs_fill(m, in, &r->sys_attrs);
    msg_attrs_fill(m, in, r);
}

static int receive_check(const sqs_receive_in_t *in, aws_error_t *err)
{
    if (in->max_messages < 0 || in->max_messages > SQS_BATCH_MAX)
        return range_error(err, "MaxNumberOfMessages", in->max_messages, 1, SQS_BATCH_MAX);
    if (in->visibility_timeout < -1 || in->visibility_timeout > VIS_MAX)
        return range_error(err, "VisibilityTimeout", in->visibility_timeout, 0, VIS_MAX);
    if (in->wait_seconds < -1 || in->wait_seconds > 20)
        return range_error(err, "WaitTimeSeconds", in->wait_seconds, 0, 20);
    return 0;
}

/* Moves m, received maxReceiveCount times already, to q's dead-letter queue
 * (API_SetQueueAttributes, RedrivePolicy). It keeps its id, body, attributes,
 * receive count and SentTimestamp; a standard queue's message also keeps its
 * retention clock, a FIFO queue's restarts it (SQSDeveloperGuide,
 * sqs-dead-letter-queues). -1 when the dead-letter queue is gone: m stays. */
void msg_move(sqs_engine_t *e, const sqs_ctx_t *ctx, sqs_queue_t *q, sqs_msg_t *m,
              sqs_queue_t *dest, bool dlq)
{
    char self[SQS_ARN_MAX];
    queue_msg_unlink(e, q, m);
    free(m->dlq_source);
    m->dlq_source = NULL;
    if (dlq) {
        queue_arn(q, self, sizeof(self));
        m->dlq_source = xstrdup(self);
    } else {
        m->receive_count = 0;
        m->first_receive_ms = 0;
    }
    if (!dlq || queue_fifo(dest)) {
        m->enqueued_ms = (int64_t)ctx->now_ms;
        m->sent_mono = (int64_t)ctx->mono_ms;
    }
    m->seq = e->next_seq++;
    m->due_mono = (int64_t)ctx->mono_ms;
    m->where = MSG_VISIBLE;
    queue_msg_link(dest, m);
    journal_put(e, ctx, dest, m);
    queue_wake(dest);
}

/* Moves m, received maxReceiveCount times already, to q's dead-letter queue
 * (API_SetQueueAttributes, RedrivePolicy). It keeps its id, body, attributes,
 * receive count and SentTimestamp; a standard queue's message also keeps its
 * retention clock, a FIFO queue's restarts it (SQSDeveloperGuide,
 * sqs-dead-letter-queues). -1 when the dead-letter queue is gone: m stays. */
static int redrive(sqs_engine_t *e, const sqs_ctx_t *ctx, sqs_queue_t *q, sqs_msg_t *m)
{
    char target[SQS_ARN_MAX];
    int max;
    if (redrive_parse(q->val[QA_REDRIVE], target, sizeof(target), &max) < 0)
        return -1;
    sqs_queue_t *dlq = queue_by_arn(e, target);
    if (!dlq || dlq == q)
        return -1;
    msg_move(e, ctx, q, m, dlq, true);
    return 0;
}

/* Receives m: in flight until the visibility timeout, with a new handle. */
static void take(sqs_engine_t *e, const sqs_ctx_t *ctx, sqs_queue_t *q, sqs_msg_t *m, int vis,
                 const sqs_receive_in_t *in, sqs_receive_out_t *out, attempt_t *a)
{
    char h[HANDLE_CHARS + 1];
    m->receive_count++;
    if (!m->first_receive_ms)
        m->first_receive_ms = (int64_t)ctx->now_ms;
    m->recv_mono = (int64_t)ctx->mono_ms;
    m->due_mono = m->recv_mono + (int64_t)vis * 1000;
    queue_msg_set(q, m, MSG_INFLIGHT);
    handle_make(q, m, h);
    if (a) {
        a->seqs[a->n] = m->seq;
        a->rcs[a->n] = m->receive_count;
        memcpy(a->handles[a->n++], h, sizeof(h));
    }
    received_fill(m, h, in, &out->msgs[out->n++]);
    if (e->j.msg_state) {
        sqs_msg_state_t st;
        msg_state_of(m, ctx->now_ms, ctx->mono_ms, &st);
        e->j.msg_state(e->j.ud, m->seq, &st);
    }
}

/* Takes m unless it is due for the dead-letter queue (then moves it). */
static void take_or_redrive(sqs_engine_t *e, const sqs_ctx_t *ctx, sqs_queue_t *q, sqs_msg_t *m,
                            int vis, const sqs_receive_in_t *in, sqs_receive_out_t *out,
                            attempt_t *a)
{
    if (q->max_receives && m->receive_count >= (uint32_t)q->max_receives &&
        redrive(e, ctx, q, m) == 0)
        return;
    take(e, ctx, q, m, vis, in, out, a);
}

/* A retried ReceiveRequestAttemptId: the same messages and handles, their
 * visibility timeout restarted, while none of them was deleted, received
 * again or made visible (API_ReceiveMessage). False when that no longer holds. */
static bool attempt_replay(const sqs_engine_t *e, const sqs_ctx_t *ctx, sqs_queue_t *q,
                           const attempt_t *a, int vis, const sqs_receive_in_t *in,
                           sqs_receive_out_t *out)
{
    for (size_t i = 0; i < a->n; i++) {
        const sqs_msg_t *m = map_get(&q->by_seq, a->seqs[i]);
        if (!m || m->receive_count != a->rcs[i] || m->where != MSG_INFLIGHT)
            return false;
    }
    for (size_t i = 0; i < a->n; i++) {
        sqs_msg_t *m = map_get(&q->by_seq, a->seqs[i]);
        m->due_mono = (int64_t)ctx->mono_ms + (int64_t)vis * 1000;
        queue_msg_set(q, m, MSG_INFLIGHT);
        received_fill(m, a->handles[i], in, &out->msgs[out->n++]);
        if (e->j.msg_state) {
            sqs_msg_state_t st;
            msg_state_of(m, ctx->now_ms, ctx->mono_ms, &st);
            e->j.msg_state(e->j.ud, m->seq, &st);
        }
    }
    return true;
}

int sqs_msg_receive(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_receive_in_t *in,
                    sqs_receive_out_t *out, aws_error_t *err)
{
    sqs_queue_t *q = queue_find(e, ctx, &in->q, err);
    if (!q || receive_check(in, err) < 0)
        return -1;
    queue_advance(e, q, ctx->mono_ms);
    size_t max = in->max_messages ? (size_t)in->max_messages : 1;
    int vis = in->visibility_timeout >= 0 ? in->visibility_timeout : q->ival[QA_VISIBILITY];
    attempt_t *a = NULL;
    out->n = 0;
    out->wait_seconds = in->wait_seconds >= 0 ? in->wait_seconds : q->ival[QA_WAIT];
    if (queue_fifo(q) && in->attempt_id && *in->attempt_id) {
        a = fifo_attempt_find(q, in->attempt_id, (int64_t)ctx->mono_ms);
        if (a && a->n && attempt_replay(e, ctx, q, a, vis, in, out))
            return 0;
        a = fifo_attempt_new(q, in->attempt_id, (int64_t)ctx->mono_ms);
    }
    while (out->n < max && q->visible.n) {
        sqs_msg_t *m = q->visible.v[0];
        sqs_msg_t *next = m->grp_next;
        size_t before = out->n;
        take_or_redrive(e, ctx, q, m, vis, in, out, a);
        /* A FIFO group's visible followers come along, in order. */
        while (out->n > before && out->n < max && next && next->where == MSG_BLOCKED) {
            m = next;
            next = m->grp_next;
            take_or_redrive(e, ctx, q, m, vis, in, out, a);
        }
    }
    return 0;
}

void sqs_receive_out_clear(sqs_receive_out_t *out)
{
    for (size_t i = 0; i < out->n; i++) {
        sqs_received_t *r = &out->msgs[i];
        free(r->message_id);
        free(r->receipt_handle);
        free(r->body);
        sqs_kv_list_clear(&r->sys_attrs);
        for (size_t k = 0; k < r->n_attrs; k++) {
            free((char *)r->attrs[k].name);
            free((char *)r->attrs[k].data_type);
            free((char *)r->attrs[k].string_value);
            free((void *)r->attrs[k].binary_value);
        }
        free(r->attrs);
    }
    out->n = 0;
}

/* ---- delete / change visibility ---- */

static sqs_queue_t *handles_begin(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_handle_in_t *in,
                                  const char *entry, sqs_handle_out_t *out, aws_error_t *err)
{
    const char *ids[SQS_BATCH_MAX];
    sqs_queue_t *q = queue_find(e, ctx, &in->q, err);
    if (!q)
        return NULL;
    for (size_t i = 0; i < in->n && i < SQS_BATCH_MAX; i++)
        ids[i] = in->entries[i].id;
    if (entries_check(ids, in->n, in->batch, entry, err) < 0)
        return NULL;
    queue_advance(e, q, ctx->mono_ms);
    /* Entry by entry, not a memset: the errors' message buffers are ten KiB. */
    for (size_t i = 0; i < in->n; i++)
        aws_error_clear(&out->errs[i]);
    out->n = in->n;
    return q;
}

int sqs_msg_delete(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_handle_in_t *in,
                   sqs_handle_out_t *out, aws_error_t *err)
{
    sqs_queue_t *q = handles_begin(e, ctx, in, "DeleteMessageBatchRequestEntry", out, err);
    if (!q)
        return -1;
    for (size_t i = 0; i < in->n; i++) {
        handle_t h;
        if (handle_parse(q, in->entries[i].receipt_handle, &h, &out->errs[i]) < 0)
            continue;
        sqs_msg_t *m = map_get(&q->by_seq, h.seq);
        /* Only the latest handle deletes; an older or spent one succeeds quietly. */
        if (m && m->receive_count == h.rc)
            queue_msg_drop(e, q, m, true);
    }
    return 0;
}

static int visibility_one(sqs_engine_t *e, const sqs_ctx_t *ctx, sqs_queue_t *q,
                          const sqs_handle_entry_t *en, aws_error_t *err)
{
    handle_t h;
    int t = en->visibility_timeout;
    int64_t now = (int64_t)ctx->mono_ms, due = now + (int64_t)t * 1000;
    if (t < 0 || t > VIS_MAX)
        return range_error(err, "VisibilityTimeout", t, 0, VIS_MAX);
    if (handle_parse(q, en->receipt_handle, &h, err) < 0)
        return -1;
    sqs_msg_t *m = map_get(&q->by_seq, h.seq);
    if (!m || m->receive_count != h.rc)
        return aws_error_set(err, 400, "InvalidParameterValue",
                             "Value %s for parameter ReceiptHandle is invalid. Reason: Message "
                             "does not exist or is not available for visibility timeout change.",
                             en->receipt_handle);
    if (m->where != MSG_INFLIGHT)
        return aws_error_set2(err, 400, "MessageNotInflight",
                              "AWS.SimpleQueueService.MessageNotInflight",
                              "The message referred to isn't in flight.");
    if (due - m->recv_mono > (int64_t)VIS_MAX * 1000)
        return aws_error_set(err, 400, "InvalidParameterValue",
                             "Value %d for parameter VisibilityTimeout is invalid. Reason: Total "
                             "VisibilityTimeout for the message is beyond the limit [43200 "
                             "seconds]",
                             t);
    m->due_mono = due;
    queue_msg_set(q, m, t == 0 ? MSG_VISIBLE : MSG_INFLIGHT);
    if (e->j.msg_state) {
        sqs_msg_state_t st;
        msg_state_of(m, ctx->now_ms, ctx->mono_ms, &st);
        e->j.msg_state(e->j.ud, m->seq, &st);
    }
    return 0;
}

int sqs_msg_visibility_change(sqs_engine_t *e, const sqs_ctx_t *ctx, const sqs_handle_in_t *in,
                              sqs_handle_out_t *out, aws_error_t *err)
{
    sqs_queue_t *q =
        handles_begin(e, ctx, in, "ChangeMessageVisibilityBatchRequestEntry", out, err);
    if (!q)
        return -1;
    for (size_t i = 0; i < in->n; i++)
        visibility_one(e, ctx, q, &in->entries[i], &out->errs[i]);
    queue_wake(q);
    return 0;
}

/* ---- restore ---- */

int sqs_msg_restore(sqs_engine_t *e, uint64_t seq, uint64_t queue_id, const void *blob, size_t len,
                    const sqs_msg_state_t *st, uint64_t wall_now, uint64_t mono_now)
{
    sqs_queue_t *q = e->restore_q;
    if (!q || q->id != queue_id)
        q = e->restore_q = qtable_get_id(e, queue_id);
    if (!q || seq == 0 || map_get(&q->by_seq, seq) || !time_ok(st->visible_at_ms) ||
        !time_ok(st->first_receive_ms) || wall_now >= (uint64_t)INT64_MAX / 2 ||
        mono_now >= (uint64_t)INT64_MAX / 2)
        return -1;
    sqs_msg_t *m = xcalloc(1, sizeof(*m));
    if (msg_unblob(m, blob, len) < 0) {
        msg_free(m);
        return -1;
    }
    int64_t skew = (int64_t)mono_now - (int64_t)wall_now; /* mono = wall + skew */
    m->seq = seq;
    m->receive_count = st->receive_count;
    m->first_receive_ms = st->first_receive_ms;
    m->sent_mono = m->enqueued_ms + skew;
    m->due_mono = st->visible_at_ms + skew;
    /* The last receive time is not persisted; the first one is a safe stand-in. */
    m->recv_mono = m->first_receive_ms ? m->first_receive_ms + skew : m->sent_mono;
    if (m->due_mono <= (int64_t)mono_now)
        m->where = MSG_VISIBLE;
    else
        m->where = m->receive_count ? MSG_INFLIGHT : MSG_DELAYED;
    if (m->trace_header)
        msg_trace_md5(m->trace_header, m->md5_sys);
    /* Messages already past retention are linked too: the next tick drops them
     * and journals the delete. */
    queue_msg_link(q, m);
    if (seq >= e->next_seq)
        e->next_seq = seq + 1;
    return 0;
}
