/*
 * fuzz_lambda_restore — the Lambda journal reader: arbitrary records read
 * back; whatever is accepted must write out and read back to the same record.
 * Must never crash, leak or read out of bounds.
 */
#include "lambda/function.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lambda_fn_t *fn = lambda_fn_from_record(data, size);
    if (!fn)
        return 0;
    size_t len, len2;
    char *rec = lambda_fn_record(fn, &len);
    lambda_fn_t *again = lambda_fn_from_record(rec, len);
    if (!again)
        abort();
    char *rec2 = lambda_fn_record(again, &len2);
    if (len != len2 || memcmp(rec, rec2, len))
        abort();
    free(rec);
    free(rec2);
    lambda_fn_free(again);
    lambda_fn_free(fn);
    return 0;
}
