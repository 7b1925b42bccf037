/*
 * fuzz_restore — the persistence blob decoders: what the store hands back at
 * start-up is parsed as a queue blob, then as a message blob of that queue.
 * A corrupt or hostile database must make restore fail cleanly, never crash.
 */
#include "sqs/queue.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sqs_engine_t *e = sqs_engine_new(NULL);
    /* The first two bytes split the input into a queue blob and a message blob. */
    size_t split = size >= 2 ? ((size_t)data[0] << 8 | data[1]) : 0;
    const uint8_t *p = size >= 2 ? data + 2 : data;
    size_t n = size >= 2 ? size - 2 : size;
    if (split > n)
        split = n;
    sqs_msg_state_t st = {0, 1, 0};
    if (sqs_queue_restore(e, 1, p, split) == 0)
        sqs_msg_restore(e, 1, 1, p + split, n - split, &st, 1700000000000ull, 1000);
    sqs_engine_free(e);
    return 0;
}
