/*
 * codec — the persistence blobs of queues and messages (private to src/sqs).
 *
 * A blob is a magic byte ('Q' or 'M'), a version byte (2), then fields in a
 * fixed order: integers little-endian of fixed width, strings as a u32 length
 * and the bytes. Queue attributes are stored by name, so adding attributes
 * later keeps old blobs readable. The reader takes a cursor and a bound and
 * rejects anything short, oversized or trailing: a corrupt blob gives -1, never
 * a crash. Message MD5s are recomputed on restore rather than stored.
 */
#include "sqs/engine_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/xalloc.h"

#define BLOB_VERSION 2 /* 2: messages carry group, deduplication id and DLQ source */
#define TIME_MAX     (INT64_C(1) << 47) /* ms: year 6429; keeps time arithmetic in range */
#define STR_MAX      (2u * 1024 * 1024) /* above any SQS string (body <= 1 MiB) */

/* ---- writer ---- */

static void put_u64(buf_t *b, uint64_t v)
{
    unsigned char p[8];
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    buf_append(b, p, 8);
}

static void put_str(buf_t *b, const char *s, size_t len)
{
    unsigned char p[4] = {(unsigned char)len, (unsigned char)(len >> 8), (unsigned char)(len >> 16),
                          (unsigned char)(len >> 24)};
    buf_append(b, p, 4);
    buf_append(b, s, len);
}

static void put_cstr(buf_t *b, const char *s)
{
    put_str(b, s ? s : "", s ? strlen(s) : 0);
}

static void *finish(buf_t *b, size_t *len)
{
    return buf_steal(b, len);
}

void *queue_blob(const sqs_queue_t *q, size_t *len)
{
    buf_t b;
    buf_init(&b, 0);
    buf_putc(&b, 'Q');
    buf_putc(&b, BLOB_VERSION);
    put_cstr(&b, q->account);
    put_cstr(&b, q->region);
    put_cstr(&b, q->name);
    put_u64(&b, (uint64_t)q->created_ms);
    put_u64(&b, (uint64_t)q->modified_ms);
    put_u64(&b, (uint64_t)q->purge_ms);
    size_t n = 0;
    for (int i = 0; i < QA_COUNT; i++)
        n += q->val[i] != NULL;
    put_u64(&b, n);
    for (int i = 0; i < QA_COUNT; i++)
        if (q->val[i]) {
            put_cstr(&b, qattr_name(i));
            put_cstr(&b, q->val[i]);
        }
    put_u64(&b, q->n_tags);
    for (size_t i = 0; i < q->n_tags; i++) {
        put_cstr(&b, q->tag_keys[i]);
        put_cstr(&b, q->tag_vals[i]);
    }
    return finish(&b, len);
}

void *msg_blob(const sqs_msg_t *m, size_t *len)
{
    buf_t b;
    buf_init(&b, 0);
    /* One allocation for a message without attributes (the fixed fields, ids
     * and sender fit in 256 bytes) instead of growing through three or four. */
    buf_reserve(&b, 256 + m->body_len);
    buf_putc(&b, 'M');
    buf_putc(&b, BLOB_VERSION);
    put_cstr(&b, m->message_id);
    put_u64(&b, (uint64_t)m->sent_ms);
    put_cstr(&b, m->sender_id);
    put_str(&b, m->body, m->body_len);
    buf_putc(&b, m->trace_header != NULL);
    put_cstr(&b, m->trace_header);
    buf_putc(&b, (char)m->n_attrs);
    for (size_t i = 0; i < m->n_attrs; i++) {
        put_cstr(&b, m->attrs[i].name);
        put_cstr(&b, m->attrs[i].type);
        buf_putc(&b, m->attrs[i].binary);
        put_str(&b, m->attrs[i].value, m->attrs[i].len);
    }
    put_u64(&b, (uint64_t)m->enqueued_ms);
    const char *const opt[] = {m->group_id, m->dedup_id, m->dlq_source};
    for (size_t i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
        buf_putc(&b, opt[i] != NULL);
        put_cstr(&b, opt[i]);
    }
    return finish(&b, len);
}

/* ---- reader ---- */

typedef struct cur {
    const unsigned char *p, *end;
    bool bad;
} cur_t;

static const unsigned char *take(cur_t *c, size_t n)
{
    if (c->bad || (size_t)(c->end - c->p) < n) {
        c->bad = true;
        return NULL;
    }
    const unsigned char *r = c->p;
    c->p += n;
    return r;
}

static uint64_t get_u64(cur_t *c)
{
    const unsigned char *p = take(c, 8);
    uint64_t v = 0;
    for (int i = 7; p && i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static int get_u8(cur_t *c)
{
    const unsigned char *p = take(c, 1);
    return p ? *p : -1;
}

/* A malloc'ed NUL-terminated copy (strings must not contain NUL unless binary);
 * NULL when bad. */
static char *get_str(cur_t *c, size_t *len, bool binary)
{
    const unsigned char *p = take(c, 4);
    if (!p)
        return NULL;
    size_t n = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
    const unsigned char *s = n <= STR_MAX ? take(c, n) : NULL;
    if (!s || (!binary && memchr(s, 0, n))) {
        c->bad = true;
        return NULL;
    }
    char *r = xmalloc(n + 1);
    memcpy(r, s, n);
    r[n] = 0;
    if (len)
        *len = n;
    return r;
}

bool time_ok(int64_t ms)
{
    return ms >= 0 && ms < TIME_MAX;
}

/* The blob's version (1 or 2), or -1 when the header is not magic's. */
static int header_version(cur_t *c, char magic)
{
    if (get_u8(c) != magic)
        return -1;
    int v = get_u8(c);
    return v == 1 || v == 2 ? v : -1;
}

/* An optional string: a presence byte and a string; NULL when absent. */
static char *get_opt(cur_t *c)
{
    int has = get_u8(c);
    char *s = get_str(c, NULL, false);
    if (has != 1 && has != 0)
        c->bad = true;
    if (has == 1)
        return s;
    free(s);
    return NULL;
}

static int queue_attrs_read(sqs_queue_t *q, cur_t *c)
{
    uint64_t n = get_u64(c);
    if (n > QA_COUNT)
        return -1;
    for (uint64_t i = 0; i < n && !c->bad; i++) {
        char *name = get_str(c, NULL, false);
        char *val = get_str(c, NULL, false);
        int idx = name ? qattr_index(name) : -1;
        if (idx >= 0 && val && !qattr_valid(idx, val))
            c->bad = true;
        else if (idx >= 0 && val) {
            free(q->val[idx]);
            q->val[idx] = val;
            q->ival[idx] = atoi(val);
            val = NULL;
        }
        free(name);
        free(val);
    }
    return c->bad ? -1 : 0;
}

int queue_unblob(sqs_queue_t *q, const void *blob, size_t len)
{
    cur_t c = {blob, (const unsigned char *)blob + len, false};
    if (header_version(&c, 'Q') < 0)
        return -1;
    q->account = get_str(&c, NULL, false);
    q->region = get_str(&c, NULL, false);
    q->name = get_str(&c, NULL, false);
    q->created_ms = (int64_t)get_u64(&c);
    q->modified_ms = (int64_t)get_u64(&c);
    q->purge_ms = (int64_t)get_u64(&c);
    qattrs_defaults(q);
    if (c.bad || !time_ok(q->created_ms) || !time_ok(q->modified_ms) || !time_ok(q->purge_ms) ||
        queue_attrs_read(q, &c) < 0)
        return -1;
    uint64_t nt = get_u64(&c);
    if (nt > SQS_TAGS_MAX)
        return -1;
    q->tag_keys = xcalloc(nt + 1, sizeof(char *));
    q->tag_vals = xcalloc(nt + 1, sizeof(char *));
    for (; q->n_tags < nt && !c.bad; q->n_tags++) {
        q->tag_keys[q->n_tags] = get_str(&c, NULL, false);
        q->tag_vals[q->n_tags] = get_str(&c, NULL, false);
    }
    queue_redrive_update(q);
    return c.bad || c.p != c.end ? -1 : 0;
}

static int msg_attrs_read(sqs_msg_t *m, cur_t *c)
{
    int n = get_u8(c);
    if (n < 0 || n > SQS_MSG_ATTRS_MAX)
        return -1;
    m->attrs = n ? xcalloc((size_t)n, sizeof(*m->attrs)) : NULL;
    for (; m->n_attrs < n && !c->bad; m->n_attrs++) {
        msg_attr_t *a = &m->attrs[m->n_attrs];
        a->name = get_str(c, NULL, false);
        a->type = get_str(c, NULL, false);
        a->binary = get_u8(c) == 1;
        a->value = get_str(c, &a->len, true);
    }
    return c->bad ? -1 : 0;
}

int msg_unblob(sqs_msg_t *m, const void *blob, size_t len)
{
    cur_t c = {blob, (const unsigned char *)blob + len, false};
    size_t idlen = 0;
    int version = header_version(&c, 'M');
    if (version < 0)
        return -1;
    char *id = get_str(&c, &idlen, false);
    if (id && idlen == 36)
        memcpy(m->message_id, id, 37);
    free(id);
    m->sent_ms = (int64_t)get_u64(&c);
    m->sender_id = get_str(&c, NULL, false);
    m->body = get_str(&c, &m->body_len, true);
    m->trace_header = get_opt(&c);
    if (c.bad || idlen != 36 || !time_ok(m->sent_ms) || msg_attrs_read(m, &c) < 0)
        return -1;
    m->enqueued_ms = m->sent_ms;
    if (version >= 2) {
        m->enqueued_ms = (int64_t)get_u64(&c);
        m->group_id = get_opt(&c);
        m->dedup_id = get_opt(&c);
        m->dlq_source = get_opt(&c);
    }
    if (c.bad || c.p != c.end || !time_ok(m->enqueued_ms))
        return -1;
    md5_hex(m->body, m->body_len, m->md5_body);
    if (m->n_attrs)
        msg_attrs_md5(m->attrs, m->n_attrs, m->md5_attrs);
    return 0;
}
