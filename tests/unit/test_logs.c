/*
 * test_logs — the CloudWatch Logs engine, filter patterns, the store's log
 * table and the Lambda sink.
 *
 * Engine tests drive time by hand (NOW); the journal is captured into arrays
 * so a restore into a fresh engine can be compared with the original. The
 * sink tests authorize through a real authz with a policy source that gives
 * the role one policy.
 */
#include "logs/engine.h"
#include "logs/filter.h"
#include "logs/sink.h"
#include "store/store.h"

#include "base/clock.h"
#include "base/xalloc.h"
#include "iam/authz.h"
#include "iam/policy.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOW  1700000000000LL
#define ACCT "000000000000"
#define REG  "us-east-1"

/* ---- filter patterns -------------------------------------------------------- */

static bool matches(const char *pattern, const char *msg)
{
    logs_filter_t *f;
    char err[256];
    if (logs_filter_parse(pattern, strlen(pattern), &f, err, sizeof(err)) < 0)
        fail_msg("pattern %s: %s", pattern, err);
    bool m = logs_filter_match(f, msg, strlen(msg));
    logs_filter_free(f);
    return m;
}

static bool refused(const char *pattern)
{
    logs_filter_t *f = NULL;
    char err[256] = "";
    int rc = logs_filter_parse(pattern, strlen(pattern), &f, err, sizeof(err));
    assert_true(rc < 0 || f);
    if (rc == 0)
        logs_filter_free(f);
    else
        assert_true(err[0]);
    return rc < 0;
}

static void test_filter_terms(void **state)
{
    (void)state;
    assert_true(matches("", "anything"));
    assert_true(matches("   ", "anything"));
    assert_true(matches("ERROR", "[ERROR] disk full"));
    assert_false(matches("ERROR", "[error] disk full")); /* case-sensitive */
    assert_true(matches("ERROR disk", "[ERROR] disk full"));
    assert_false(matches("ERROR memory", "[ERROR] disk full"));
    assert_true(matches("\"disk full\"", "[ERROR] disk full"));
    assert_false(matches("\"full disk\"", "[ERROR] disk full"));
    assert_true(matches("\"say \\\"hi\\\"\"", "they say \"hi\" here"));
    assert_true(matches("\"\"", "x"));
    assert_true(matches("?ERROR ?WARN", "WARN low memory"));
    assert_true(matches("?ERROR ?WARN", "ERROR"));
    assert_false(matches("?ERROR ?WARN", "INFO fine"));
    assert_true(matches("ERROR -Exiting", "ERROR retrying"));
    assert_false(matches("ERROR -Exiting", "ERROR Exiting now"));
    assert_true(matches("?\"disk full\" ?oom", "killed: oom"));
    assert_true(matches("Duration ?ERROR ?REPORT", "REPORT Duration: 3 ms"));
    assert_false(matches("Duration ?ERROR ?REPORT", "START Duration"));
}

static void test_filter_regex_and_errors(void **state)
{
    (void)state;
    assert_true(matches("%ERR[O]?R?-\\d+%", "ERROR-42"));
    assert_true(matches("%ERR[O]?R?-\\d+%", "ERR-7"));
    assert_false(matches("%ERR[O]?R?-\\d+%", "ERROR-x"));
    assert_true(matches("%\\d{1,3}\\.\\d{1,3}%", "ip 10.0"));
    assert_true(matches("%^[hc]at%", "cat food"));
    assert_false(matches("%^[hc]at%", "a cat"));
    assert_true(matches("%[Ee]rror|[Ff]ail%", "it failed: Fail"));
    assert_true(refused("%ERR(OR)%")); /* no groups in AWS's subset */
    assert_true(refused("%a b%"));     /* nor blanks */
    assert_true(refused("%R+++%"));    /* nor repeated quantifiers */
    assert_true(refused("%a{9}{9}%"));
    assert_true(refused("\"unterminated"));
    assert_true(refused("{ $.level = \"ERROR\" }"));
    assert_true(refused("[ip, user, ...]"));
    assert_true(refused("%[unbalanced%"));
    assert_true(refused("ERROR ?"));
    assert_true(refused("ERROR -"));
    char big[LOGS_FILTER_MAX + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_true(refused(big));
    assert_true(refused("%%")); /* an empty regular expression */
}

/* ---- a journal captured in memory ---------------------------------------------- */

typedef struct rec {
    int kind; /* 'g', 'G' (delete), 's', 'S', 'e', 'x' */
    uint64_t id, group;
    int64_t ts, ingest;
    char *blob;
    size_t len;
} rec_t;

typedef struct journal {
    rec_t *v;
    size_t n, cap;
} journal_t;

static rec_t *rec_add(journal_t *j, int kind, uint64_t id, const void *blob, size_t len)
{
    if (j->n == j->cap) {
        j->cap = j->cap ? j->cap * 2 : 64;
        j->v = xrealloc(j->v, j->cap * sizeof(*j->v));
    }
    rec_t *r = &j->v[j->n++];
    *r = (rec_t){.kind = kind, .id = id, .len = len, .blob = blob ? xmemdup(blob, len + 1) : NULL};
    return r;
}

static void jg_put(void *ud, uint64_t id, const void *b, size_t len)
{
    rec_add(ud, 'g', id, b, len);
}
static void jg_del(void *ud, uint64_t id)
{
    rec_add(ud, 'G', id, NULL, 0);
}
static void js_put(void *ud, uint64_t id, const void *b, size_t len)
{
    rec_add(ud, 's', id, b, len);
}
static void js_del(void *ud, uint64_t id)
{
    rec_add(ud, 'S', id, NULL, 0);
}
static void je_put(void *ud, const logs_event_rec_t *ev)
{
    rec_t *r = rec_add(ud, 'e', ev->seq, ev->msg, ev->len);
    r->group = ev->stream_id; /* what restore needs besides the group id */
    r->ts = ev->ts;
    r->ingest = ev->ingest;
}
static void jx(void *ud, uint64_t group, int64_t before)
{
    rec_t *r = rec_add(ud, 'x', group, NULL, 0);
    r->ts = before;
}

static void journal_free(journal_t *j)
{
    for (size_t i = 0; i < j->n; i++)
        free(j->v[i].blob);
    free(j->v);
    memset(j, 0, sizeof(*j));
}

static logs_engine_t *engine_with(journal_t *j)
{
    logs_journal_t lj = {j, jg_put, jg_del, js_put, js_del, je_put, jx};
    return logs_engine_new(&lj);
}

static logs_stream_t *stream_in(logs_engine_t *e, const char *group, const char *stream)
{
    aws_error_t err;
    logs_group_t *g = logs_group_find(e, ACCT, REG, group, NULL);
    if (!g) {
        assert_int_equal(logs_group_create(e, ACCT, REG, group, NULL, NULL, NOW, &err), 0);
        g = logs_group_find(e, ACCT, REG, group, NULL);
    }
    if (!logs_stream_find(g, stream, NULL))
        assert_int_equal(logs_stream_create(e, g, stream, NOW, &err), 0);
    return logs_stream_find(g, stream, NULL);
}

static void put(logs_engine_t *e, logs_stream_t *s, int64_t ts, const char *msg)
{
    logs_input_event_t ev = {ts, msg, strlen(msg)};
    logs_rejected_t rej;
    aws_error_t err;
    assert_int_equal(logs_events_put(e, s, &ev, 1, NOW, &rej, &err), 0);
    assert_int_equal(rej.too_old_end, -1);
}

/* ---- groups and streams ----------------------------------------------------------- */

static void test_groups(void **state)
{
    (void)state;
    logs_engine_t *e = logs_engine_new(NULL);
    aws_error_t err;
    assert_int_equal(logs_group_create(e, ACCT, REG, "/aws/lambda/a", NULL, NULL, NOW, &err), 0);
    assert_int_equal(logs_group_create(e, ACCT, REG, "/aws/lambda/a", NULL, NULL, NOW, &err), -1);
    assert_string_equal(err.code, "ResourceAlreadyExistsException");
    assert_int_equal(logs_group_create(e, ACCT, REG, "bad name", NULL, NULL, NOW, &err), -1);
    assert_string_equal(err.code, "InvalidParameterException");
    assert_int_equal(logs_group_create(e, ACCT, REG, "", NULL, NULL, NOW, &err), -1);
    assert_int_equal(logs_group_create(e, ACCT, REG, "x", NULL, "GOLD", NOW, &err), -1);
    /* same name, another region and another account: separate groups */
    assert_int_equal(
        logs_group_create(e, ACCT, "eu-west-1", "/aws/lambda/a", NULL, NULL, NOW, &err), 0);
    assert_int_equal(
        logs_group_create(e, "111111111111", REG, "/aws/lambda/a", NULL, NULL, NOW, &err), 0);
    assert_int_equal(
        logs_group_create(e, ACCT, REG, "/aws/lambda/b", "k", "INFREQUENT_ACCESS", NOW, &err), 0);
    assert_int_equal(logs_group_create(e, ACCT, REG, "app", NULL, NULL, NOW, &err), 0);

    logs_group_t *out[8];
    bool more;
    size_t n = logs_group_list(e, ACCT, REG, NULL, NULL, NULL, 8, out, &more);
    assert_int_equal(n, 3);
    assert_false(more);
    assert_string_equal(out[0]->name, "/aws/lambda/a");
    assert_string_equal(out[2]->name, "app");
    n = logs_group_list(e, ACCT, REG, "/aws/", NULL, NULL, 1, out, &more);
    assert_int_equal(n, 1);
    assert_true(more);
    n = logs_group_list(e, ACCT, REG, "/aws/", NULL, out[0]->name, 1, out, &more);
    assert_int_equal(n, 1);
    assert_false(more);
    assert_string_equal(out[0]->name, "/aws/lambda/b");
    assert_string_equal(out[0]->cls, "INFREQUENT_ACCESS");
    n = logs_group_list(e, ACCT, REG, NULL, "lambda/b", NULL, 8, out, &more);
    assert_int_equal(n, 1);
    char arn[256];
    logs_group_arn(out[0], true, arn, sizeof(arn));
    assert_string_equal(arn, "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/b:*");

    logs_group_t *g = logs_group_find(e, ACCT, REG, "app", &err);
    assert_int_equal(logs_stream_create(e, g, "a:b", NOW, &err), -1);
    assert_string_equal(err.code, "InvalidParameterException");
    assert_int_equal(logs_stream_create(e, g, "2024/01/01/[$LATEST]abc", NOW, &err), 0);
    assert_int_equal(logs_stream_create(e, g, "2024/01/01/[$LATEST]abc", NOW, &err), -1);
    assert_string_equal(err.code, "ResourceAlreadyExistsException");
    assert_null(logs_stream_find(g, "nope", &err));
    assert_string_equal(err.code, "ResourceNotFoundException");
    assert_string_equal(err.message, "The specified log stream does not exist.");
    assert_int_equal(logs_group_delete(e, ACCT, REG, "app", &err), 0);
    assert_int_equal(logs_group_delete(e, ACCT, REG, "app", &err), -1);
    assert_string_equal(err.message, "The specified log group does not exist.");
    logs_engine_free(e);
}

static void test_stream_order(void **state)
{
    (void)state;
    logs_engine_t *e = logs_engine_new(NULL);
    logs_stream_t *a = stream_in(e, "g", "a"), *b = stream_in(e, "g", "b");
    stream_in(e, "g", "c");
    put(e, b, NOW - 10, "old");
    put(e, a, NOW - 5, "newer");
    const logs_stream_t *out[4];
    bool more;
    size_t n = logs_stream_list(a->group, NULL, true, true, 0, 4, out, &more);
    assert_int_equal(n, 3);
    assert_string_equal(out[0]->name, "a");
    assert_string_equal(out[1]->name, "b");
    assert_string_equal(out[2]->name, "c"); /* no events: last */
    n = logs_stream_list(a->group, "b", false, false, 0, 4, out, &more);
    assert_int_equal(n, 1);
    n = logs_stream_list(a->group, NULL, false, false, 1, 1, out, &more);
    assert_string_equal(out[0]->name, "b");
    assert_true(more);
    int64_t first, last;
    assert_true(logs_stream_span(b, &first, &last));
    assert_int_equal(first, NOW - 10);
    logs_engine_free(e);
}

/* ---- PutLogEvents ----------------------------------------------------------------------- */

static void test_put_rules(void **state)
{
    (void)state;
    logs_engine_t *e = logs_engine_new(NULL);
    logs_stream_t *s = stream_in(e, "g", "s");
    logs_rejected_t rej;
    aws_error_t err;
    logs_input_event_t ev[4] = {{NOW, "b", 1}, {NOW - 1, "a", 1}};
    assert_int_equal(logs_events_put(e, s, ev, 2, NOW, &rej, &err), -1);
    assert_string_equal(err.message,
                        "Log events in a single PutLogEvents request must be in chronological "
                        "order.");
    ev[0] = (logs_input_event_t){NOW - 25 * 3600000LL, "a", 1};
    ev[1] = (logs_input_event_t){NOW, "b", 1};
    assert_int_equal(logs_events_put(e, s, ev, 2, NOW, &rej, &err), -1);
    assert_non_null(strstr(err.message, "cannot span more than 24 hours"));
    ev[0] = (logs_input_event_t){NOW, "", 0};
    assert_int_equal(logs_events_put(e, s, ev, 1, NOW, &rej, &err), -1);
    assert_int_equal(logs_events_put(e, s, ev, 0, NOW, &rej, &err), -1);
    char *big = xcalloc(1, LOGS_BATCH_BYTES);
    memset(big, 'x', LOGS_BATCH_BYTES - 1);
    ev[0] = (logs_input_event_t){NOW, big, LOGS_EVENT_MAX + 1};
    assert_int_equal(logs_events_put(e, s, ev, 1, NOW, &rej, &err), -1);
    assert_non_null(strstr(err.message, "Log event too large"));
    ev[0] = (logs_input_event_t){NOW, big, LOGS_EVENT_MAX};
    assert_int_equal(logs_events_put(e, s, ev, 1, NOW, &rej, &err), 0);
    ev[1] = (logs_input_event_t){NOW, "y", 1};
    assert_int_equal(logs_events_put(e, s, ev, 2, NOW, &rej, &err), -1);
    assert_non_null(strstr(err.message, "Upload too large"));
    free(big);

    /* too old, too new: rejected by index, the rest kept */
    ev[0] = (logs_input_event_t){NOW - 15 * 86400000LL, "old", 3};
    ev[1] = (logs_input_event_t){NOW - 1000, "ok1", 3};
    ev[2] = (logs_input_event_t){NOW, "ok2", 3};
    ev[3] = (logs_input_event_t){NOW + 3 * 3600000LL, "new", 3};
    size_t before = s->n;
    assert_int_equal(logs_events_put(e, s, ev, 4, NOW, &rej, &err), 0);
    assert_int_equal(rej.too_old_end, 1);
    assert_int_equal(rej.too_new_start, 3);
    assert_int_equal(rej.expired_end, -1);
    assert_int_equal(s->n, before + 2);

    /* expired by the group's retention */
    assert_int_equal(logs_retention_set(e, s->group, 1, NOW, &err), 0);
    ev[0] = (logs_input_event_t){NOW - 2 * 86400000LL, "exp", 3};
    ev[1] = (logs_input_event_t){NOW, "ok", 2};
    assert_int_equal(logs_events_put(e, s, ev, 2, NOW, &rej, &err), 0);
    assert_int_equal(rej.expired_end, 1);
    assert_int_equal(rej.too_old_end, -1);
    assert_int_equal(logs_retention_set(e, s->group, 2, NOW, &err), -1);
    assert_string_equal(err.code, "InvalidParameterException");
    logs_engine_free(e);
}

static void test_put_out_of_order_calls(void **state)
{
    (void)state;
    logs_engine_t *e = logs_engine_new(NULL);
    logs_stream_t *s = stream_in(e, "g", "s");
    put(e, s, NOW - 10, "c");
    put(e, s, NOW - 30, "a");
    put(e, s, NOW - 20, "b");
    put(e, s, NOW - 20, "b2");
    assert_int_equal(s->n, 4);
    assert_string_equal(s->events[0].msg, "a");
    assert_string_equal(s->events[1].msg, "b");
    assert_string_equal(s->events[2].msg, "b2");
    assert_string_equal(s->events[3].msg, "c");
    logs_engine_free(e);
}

/* ---- GetLogEvents ------------------------------------------------------------------------- */

static void get(const logs_stream_t *s, logs_get_req_t *req, logs_get_page_t *page)
{
    aws_error_t err;
    if (logs_events_get(s, req, NOW, page, &err) < 0)
        fail_msg("get: %s", err.message);
}

static void test_get_tokens(void **state)
{
    (void)state;
    logs_engine_t *e = logs_engine_new(NULL);
    logs_stream_t *s = stream_in(e, "g", "s");
    char msg[16];
    for (int i = 0; i < 10; i++) {
        snprintf(msg, sizeof(msg), "m%d", i);
        put(e, s, NOW - 100 + i, msg);
    }
    logs_get_page_t p;
    /* default: the newest events */
    logs_get_req_t req = {INT64_MIN, INT64_MAX, false, NULL, 3};
    get(s, &req, &p);
    assert_int_equal(p.n, 3);
    assert_string_equal(p.events[0].msg, "m7");
    assert_int_equal(strlen(p.forward), 60);
    assert_int_equal(strncmp(p.forward, "f/", 2), 0);
    assert_int_equal(strncmp(p.backward, "b/", 2), 0);
    /* backward from there */
    char tok[LOGS_TOKEN_MAX];
    strcpy(tok, p.backward);
    req.token = tok;
    get(s, &req, &p);
    assert_int_equal(p.n, 3);
    assert_string_equal(p.events[0].msg, "m4");
    assert_string_equal(p.events[2].msg, "m6");
    /* from the head, page by page, to the end: the same token comes back */
    req = (logs_get_req_t){INT64_MIN, INT64_MAX, true, NULL, 4};
    get(s, &req, &p);
    assert_string_equal(p.events[0].msg, "m0");
    int pages = 1, seen = (int)p.n;
    for (;;) {
        strcpy(tok, p.forward);
        req.token = tok;
        get(s, &req, &p);
        if (!p.n)
            break;
        seen += (int)p.n;
        pages++;
    }
    assert_int_equal(seen, 10);
    assert_int_equal(pages, 3);
    assert_string_equal(p.forward, tok);
    /* a new event shows up behind the old token */
    put(e, s, NOW, "late");
    get(s, &req, &p);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.events[0].msg, "late");
    /* time range: [start, end) */
    req = (logs_get_req_t){NOW - 98, NOW - 95, true, NULL, 100};
    get(s, &req, &p);
    assert_int_equal(p.n, 3);
    assert_string_equal(p.events[0].msg, "m2");
    /* a token that is not ours */
    aws_error_t err;
    req.token = "f/123/s";
    assert_int_equal(logs_events_get(s, &req, NOW, &p, &err), -1);
    assert_string_equal(err.code, "InvalidParameterException");
    /* an empty stream */
    logs_stream_t *empty = stream_in(e, "g", "empty");
    req = (logs_get_req_t){INT64_MIN, INT64_MAX, false, NULL, 10};
    get(empty, &req, &p);
    assert_int_equal(p.n, 0);
    assert_int_equal(strlen(p.forward), 60);
    logs_engine_free(e);
}

/* ---- FilterLogEvents ------------------------------------------------------------------------ */

static void test_filter_events(void **state)
{
    (void)state;
    logs_engine_t *e = logs_engine_new(NULL);
    logs_stream_t *a = stream_in(e, "g", "inst-a"), *b = stream_in(e, "g", "inst-b");
    logs_stream_t *c = stream_in(e, "g", "other");
    put(e, a, NOW - 50, "a ERROR one");
    put(e, b, NOW - 40, "b INFO two");
    put(e, a, NOW - 30, "a ERROR three");
    put(e, b, NOW - 20, "b ERROR four");
    put(e, c, NOW - 10, "c ERROR five");
    logs_filter_t *f;
    char why[128];
    assert_int_equal(logs_filter_parse("ERROR", 5, &f, why, sizeof(why)), 0);
    logs_filter_req_t req = {.start = INT64_MIN, .end = INT64_MAX, .filter = f, .limit = 2};
    logs_hit_t *hits;
    size_t n;
    char next[LOGS_TOKEN_MAX];
    aws_error_t err;
    assert_int_equal(logs_events_filter(a->group, &req, NOW, &hits, &n, next, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(hits[0].ev->msg, "a ERROR one");
    assert_string_equal(hits[1].ev->msg, "a ERROR three");
    assert_true(next[0]);
    char id[LOGS_TOKEN_MAX];
    logs_event_id(hits[0].stream, hits[0].ev, id);
    assert_int_equal(strlen(id), 56);
    free(hits);
    char tok[LOGS_TOKEN_MAX];
    strcpy(tok, next);
    req.token = tok;
    assert_int_equal(logs_events_filter(a->group, &req, NOW, &hits, &n, next, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(hits[0].ev->msg, "b ERROR four");
    assert_string_equal(hits[1].ev->msg, "c ERROR five");
    assert_string_equal(next, "");
    free(hits);
    /* prefix, names, time range (end inclusive) */
    req = (logs_filter_req_t){.prefix = "inst-", .start = NOW - 40, .end = NOW - 20, .limit = 100};
    assert_int_equal(logs_events_filter(a->group, &req, NOW, &hits, &n, next, &err), 0);
    assert_int_equal(n, 3);
    free(hits);
    const char *names[] = {"other", "missing"};
    req = (logs_filter_req_t){
        .streams = names, .n_streams = 2, .start = INT64_MIN, .end = INT64_MAX, .limit = 100};
    assert_int_equal(logs_events_filter(a->group, &req, NOW, &hits, &n, next, &err), 0);
    assert_int_equal(n, 1);
    free(hits);
    req.prefix = "x";
    assert_int_equal(logs_events_filter(a->group, &req, NOW, &hits, &n, next, &err), -1);
    assert_string_equal(err.code, "InvalidParameterException");
    req.prefix = NULL;
    req.token = "n/garbage";
    assert_int_equal(logs_events_filter(a->group, &req, NOW, &hits, &n, next, &err), -1);
    logs_filter_free(f);
    logs_engine_free(e);
}

/* ---- retention ---------------------------------------------------------------------------- */

static void test_retention(void **state)
{
    (void)state;
    journal_t j = {0};
    logs_engine_t *e = engine_with(&j);
    logs_stream_t *s = stream_in(e, "g", "s");
    aws_error_t err;
    put(e, s, NOW - 3 * 86400000LL, "three days");
    put(e, s, NOW - 86400000LL / 2, "half a day");
    logs_engine_expire(e, NOW); /* no policy: nothing goes */
    assert_int_equal(s->n, 2);
    assert_int_equal(logs_retention_set(e, s->group, 1, NOW, &err), 0);
    assert_int_equal(s->n, 1);
    assert_string_equal(s->events[0].msg, "half a day");
    assert_int_equal(j.v[j.n - 1].kind, 'x');
    assert_int_equal(j.v[j.n - 1].ts, NOW - 86400000LL);
    /* later, the timer's sweep takes the rest */
    logs_engine_expire(e, NOW + 86400000LL);
    assert_int_equal(s->n, 0);
    assert_int_equal(s->group->stored_bytes, 0);
    /* reads hide what the sweep has not reached yet */
    put(e, s, NOW - 1000, "recent");
    logs_get_page_t p;
    logs_get_req_t req = {INT64_MIN, INT64_MAX, true, NULL, 10};
    assert_int_equal(logs_events_get(s, &req, NOW + 2 * 86400000LL, &p, &err), 0);
    assert_int_equal(p.n, 0);
    assert_int_equal(logs_retention_set(e, s->group, 0, NOW, &err), 0);
    assert_int_equal(s->group->retention_days, 0);
    logs_engine_free(e);
    journal_free(&j);
}

/* ---- journal and restore ----------------------------------------------------------------------
 */

/* Restores what the store would hold: the last record of each group and
 * stream that was not deleted since (events are restored by the test). */
static void replay(logs_engine_t *e, const journal_t *j)
{
    for (int pass = 0; pass < 2; pass++) {
        int kind = pass == 0 ? 'g' : 's', del = pass == 0 ? 'G' : 'S';
        for (size_t i = 0; i < j->n; i++) {
            const rec_t *r = &j->v[i];
            bool superseded = false;
            for (size_t k = i + 1; k < j->n; k++)
                superseded |= j->v[k].id == r->id && (j->v[k].kind == del || j->v[k].kind == kind);
            if (r->kind != kind || superseded)
                continue;
            if (pass == 0)
                assert_int_equal(logs_group_restore(e, r->id, r->blob, r->len), 0);
            else
                assert_int_equal(logs_stream_restore(e, r->id, r->blob, r->len), 0);
        }
    }
}

static void test_restore(void **state)
{
    (void)state;
    journal_t j = {0};
    logs_engine_t *e = engine_with(&j);
    aws_error_t err;
    logs_stream_t *s = stream_in(e, "/aws/lambda/f", "2024/01/01/[$LATEST]00ff");
    put(e, s, NOW - 5, "one");
    put(e, s, NOW - 4, "two");
    assert_int_equal(logs_retention_set(e, s->group, 7, NOW, &err), 0);
    stream_in(e, "gone", "x");
    assert_int_equal(logs_group_delete(e, ACCT, REG, "gone", &err), 0);

    logs_engine_t *r = logs_engine_new(NULL);
    replay(r, &j);
    logs_group_t *g = logs_group_find(r, ACCT, REG, "/aws/lambda/f", NULL);
    assert_non_null(g);
    assert_int_equal(g->retention_days, 7);
    assert_null(logs_group_find(r, ACCT, REG, "gone", NULL));
    logs_stream_t *rs = logs_stream_find(g, "2024/01/01/[$LATEST]00ff", NULL);
    assert_non_null(rs);
    for (size_t i = 0; i < j.n; i++) {
        if (j.v[i].kind != 'e')
            continue;
        logs_event_rec_t ev = {j.v[i].id,     g->id,       j.v[i].group, j.v[i].ts,
                               j.v[i].ingest, j.v[i].blob, j.v[i].len};
        assert_int_equal(logs_event_restore(r, &ev), 0);
    }
    assert_int_equal(rs->n, 2);
    assert_string_equal(rs->events[1].msg, "two");
    /* new ids and seqs continue after the restored ones */
    logs_stream_t *n2 = stream_in(r, "/aws/lambda/f", "next");
    assert_true(n2->id > rs->id);
    put(r, n2, NOW, "three");
    assert_true(n2->events[0].seq > rs->events[1].seq);
    /* damaged records */
    assert_int_equal(logs_group_restore(r, 99, "v9", 2), -1);
    assert_int_equal(logs_stream_restore(r, 98,
                                         "v1\0"
                                         "12345\0x\0"
                                         "1",
                                         13),
                     -1);
    logs_engine_free(r);
    logs_engine_free(e);
    journal_free(&j);
}

/* ---- the store's log table ----------------------------------------------------------------------
 */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void durable_cb(void *ud, int status)
{
    *(int *)ud = status + 1;
}

static void wait_durable(uv_loop_t *loop, store_t *st)
{
    int done = 0;
    store_when_durable(st, durable_cb, &done);
    while (!done)
        uv_run(loop, UV_RUN_ONCE);
    assert_int_equal(done, 1);
}

typedef struct loaded {
    uint64_t seqs[16];
    char msgs[16][16];
    size_t n;
} loaded_t;

static int on_event(void *ud, const store_log_event_t *ev)
{
    loaded_t *l = ud;
    assert_true(l->n < 16);
    l->seqs[l->n] = ev->seq;
    snprintf(l->msgs[l->n++], 16, "%.*s", (int)ev->len, (const char *)ev->message);
    return 0;
}

static void test_store_table(void **state)
{
    (void)state;
    uv_loop_t loop;
    char dir[] = "/tmp/nagare-test-logs-XXXXXX", err[256];
    store_t *st;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(store_open(&loop, dir, &st, err, sizeof(err)), 0);
    store_log_event_t ev[] = {
        {1, 10, 100, NOW - 10, NOW, "g10 old", 7}, {2, 10, 100, NOW, NOW, "g10 new", 7},
        {3, 10, 101, NOW, NOW, "s101", 4},         {4, 20, 200, NOW, NOW, "g20", 3},
        {5, 30, 300, NOW, NOW, "g30", 3},
    };
    for (size_t i = 0; i < 5; i++)
        store_log_put(st, &ev[i]);
    wait_durable(&loop, st);
    store_log_expire(st, 10, NOW - 5);
    store_log_stream_purge(st, 101);
    store_log_group_purge(st, 20);
    wait_durable(&loop, st);
    store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(store_open(&loop, dir, &st, err, sizeof(err)), 0);
    loaded_t l = {0};
    assert_int_equal(store_log_load(st, on_event, &l), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.msgs[0], "g10 new");
    assert_string_equal(l.msgs[1], "g30");
    store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the sink ----------------------------------------------------------------------------------
 */

static iam_policy_t *g_role_policy;

static size_t role_policies(void *ud, const char *account, const char *role_arn,
                            iam_policy_ref_t *out, size_t cap, const iam_policy_ref_t **boundary)
{
    (void)ud, (void)account, (void)cap;
    *boundary = NULL;
    if (!g_role_policy || strcmp(role_arn, "arn:aws:iam::000000000000:role/exec"))
        return 0;
    out[0] = (iam_policy_ref_t){g_role_policy, "inline:role/exec/logs"};
    return 1;
}

static void role_policy_set(const char *doc)
{
    iam_policy_error_t perr;
    iam_policy_free(g_role_policy);
    g_role_policy = NULL;
    if (doc)
        assert_int_equal(
            iam_policy_parse(doc, strlen(doc), IAM_POLICY_IDENTITY, &g_role_policy, &perr), 0);
}

static void test_sink(void **state)
{
    (void)state;
    iam_authz_t *az = iam_authz_new();
    iam_policy_source_t src = {.role_policies = role_policies};
    iam_authz_set_source(az, &src);
    logs_engine_t *e = logs_engine_new(NULL);
    logs_sink_t *sink = logs_sink_new(e, az);
    const char *role = "arn:aws:iam::000000000000:role/exec";
    const char *group = "/aws/lambda/fn", *stream = "2024/01/01/[$LATEST]abcd";
    int64_t now = (int64_t)clock_wall_ms();

    /* no policy: dropped, nothing created */
    logs_sink_append(sink, ACCT, REG, role, group, stream, now, "START", 5);
    assert_null(logs_group_find(e, ACCT, REG, group, NULL));

    /* AWSLambdaBasicExecutionRole's grant, as the console scopes it */
    role_policy_set("{\"Version\":\"2012-10-17\",\"Statement\":["
                    "{\"Effect\":\"Allow\",\"Action\":\"logs:CreateLogGroup\","
                    "\"Resource\":\"arn:aws:logs:us-east-1:000000000000:*\"},"
                    "{\"Effect\":\"Allow\",\"Action\":[\"logs:CreateLogStream\","
                    "\"logs:PutLogEvents\"],\"Resource\":"
                    "\"arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/fn:*\"}]}");
    logs_sink_t *fresh = logs_sink_new(e, az); /* no remembered refusal */
    logs_sink_append(fresh, ACCT, REG, role, group, stream, now, "START", 5);
    logs_sink_append(fresh, ACCT, REG, role, group, stream, now + 1, "hello", 5);
    logs_group_t *g = logs_group_find(e, ACCT, REG, group, NULL);
    assert_non_null(g);
    logs_stream_t *s = logs_stream_find(g, stream, NULL);
    assert_non_null(s);
    assert_int_equal(s->n, 2);
    assert_string_equal(s->events[1].msg, "hello");

    /* another function's group is outside the grant for streams */
    logs_sink_append(fresh, ACCT, REG, role, "/aws/lambda/other", stream, now, "x", 1);
    g = logs_group_find(e, ACCT, REG, "/aws/lambda/other", NULL);
    assert_non_null(g); /* CreateLogGroup was allowed on the account's groups */
    assert_null(logs_stream_find(g, stream, NULL));

    /* only PutLogEvents: an existing group and stream are written to */
    role_policy_set("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                    "\"Action\":\"logs:PutLogEvents\",\"Resource\":\"*\"}]}");
    logs_sink_t *third = logs_sink_new(e, az);
    logs_sink_append(third, ACCT, REG, role, group, stream, now + 2, "third", 5);
    assert_int_equal(s->n, 3);
    logs_sink_append(third, ACCT, REG, role, group, "new-stream", now, "dropped", 7);
    assert_null(logs_stream_find(logs_group_find(e, ACCT, REG, group, NULL), "new-stream", NULL));

    logs_sink_free(third);
    logs_sink_free(fresh);
    logs_sink_free(sink);
    role_policy_set(NULL);
    logs_engine_free(e);
    iam_authz_free(az);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_terms), cmocka_unit_test(test_filter_regex_and_errors),
        cmocka_unit_test(test_groups),       cmocka_unit_test(test_stream_order),
        cmocka_unit_test(test_put_rules),    cmocka_unit_test(test_put_out_of_order_calls),
        cmocka_unit_test(test_get_tokens),   cmocka_unit_test(test_filter_events),
        cmocka_unit_test(test_retention),    cmocka_unit_test(test_restore),
        cmocka_unit_test(test_store_table),  cmocka_unit_test(test_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
