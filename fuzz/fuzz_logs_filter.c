/*
 * fuzz_logs_filter — the CloudWatch Logs filter-pattern parser and matcher:
 * FilterLogEvents hands it any filterPattern a client sends. The input's first
 * line is the pattern, the rest a message it is matched against; a pattern
 * that parses must match the message without fault, and an empty pattern
 * must match everything.
 */
#include "logs/filter.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nl = memchr(p, '\n', size);
    size_t plen = nl ? (size_t)(nl - p) : size;
    size_t mlen = nl ? size - plen - 1 : 0;
    char *msg = malloc(mlen + 1), err[512];
    memcpy(msg, nl ? nl + 1 : "", mlen);
    msg[mlen] = '\0';
    logs_filter_t *f = NULL;
    if (logs_filter_parse(p, plen, &f, err, sizeof(err)) == 0) {
        bool m = logs_filter_match(f, msg, mlen);
        if (plen == 0 && !m)
            abort();
        logs_filter_free(f);
    } else if (!err[0]) {
        abort(); /* a refusal always says why */
    }
    free(msg);
    return 0;
}
