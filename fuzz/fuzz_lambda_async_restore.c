/*
 * fuzz_lambda_async_restore — the asynchronous invocation records (pending
 * events and event invoke configurations) read back: whatever is accepted
 * must write out and read back to the same record. Must never crash, leak or
 * read out of bounds.
 */
#include "lambda/async.h"

#include <jansson.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip_event(lambda_async_t *as)
{
    bool aged;
    lambda_event_t *ev = lambda_async_take(as, UINT64_MAX, &aged);
    if (!ev)
        return;
    size_t len, len2;
    char *rec = lambda_event_record(ev, &len);
    lambda_async_t *b = lambda_async_new(NULL, 1.0);
    if (lambda_async_restore_event(b, rec, len) < 0)
        abort();
    lambda_event_t *again = lambda_async_take(b, UINT64_MAX, &aged);
    char *rec2 = lambda_event_record(again, &len2);
    if (len != len2 || memcmp(rec, rec2, len))
        abort();
    free(rec);
    free(rec2);
    lambda_async_free(b);
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void roundtrip_eic(lambda_async_t *as, const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)data, size, 0, &jerr);
    const lambda_eic_t *c = lambda_eic_get(as, str(doc, "account"), str(doc, "region"),
                                           str(doc, "name"), str(doc, "qualifier"));
    if (!c)
        abort();
    size_t len, len2;
    char *rec = lambda_eic_record(c, &len);
    lambda_async_t *b = lambda_async_new(NULL, 1.0);
    if (lambda_async_restore_eic(b, rec, len) < 0)
        abort();
    char *rec2 =
        lambda_eic_record(lambda_eic_get(b, c->account, c->region, c->name, c->qualifier), &len2);
    if (len != len2 || memcmp(rec, rec2, len))
        abort();
    free(rec);
    free(rec2);
    lambda_async_free(b);
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lambda_async_t *as = lambda_async_new(NULL, 1.0);
    if (lambda_async_restore_event(as, data, size) == 0)
        roundtrip_event(as);
    if (lambda_async_restore_eic(as, data, size) == 0)
        roundtrip_eic(as, data, size);
    lambda_async_free(as);
    return 0;
}
