/*
 * fuzz_esm — what event source mappings read: journal records (whatever is
 * accepted must write out and read back to the same record) and functions'
 * ReportBatchItemFailures responses. Must never crash, leak or read out of
 * bounds.
 */
#include "lambda/esm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ids[] = {"a", "b", "c"};
    static const char *const groups[] = {"g", NULL, "g"};
    bool failed[3] = {false, false, false};
    lambda_esm_failures((const char *)data, size, ids, groups, 3, size % 2, failed);
    lambda_esm_reg_t *r = lambda_esm_reg_new(NULL), *r2 = lambda_esm_reg_new(NULL);
    if (lambda_esm_restore(r, data, size) == 0) {
        size_t len, len2;
        char *rec = lambda_esm_record(lambda_esm_first(r), &len);
        if (lambda_esm_restore(r2, rec, len) < 0)
            abort();
        char *rec2 = lambda_esm_record(lambda_esm_first(r2), &len2);
        if (len != len2 || memcmp(rec, rec2, len))
            abort();
        free(rec);
        free(rec2);
    }
    lambda_esm_reg_free(r);
    lambda_esm_reg_free(r2);
    return 0;
}
