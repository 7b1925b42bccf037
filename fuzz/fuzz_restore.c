/*
 * fuzz_restore — the persistence decoders: what the store hands back at
 * start-up is parsed as a queue blob, then as a message blob of that queue,
 * then as the keyed records (FIFO deduplication, move tasks) and a move-task
 * handle. A corrupt or hostile database must make restore fail cleanly, never
 * crash; whatever was restored must then work (a receive and a tick).
 */
#include "sqs/queue.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of p[0..n) (keys are text). */
static char *text_of(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

static void kv_records(sqs_engine_t *e, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    /* The first byte is the key's length; the rest is the blob. */
    size_t klen = p[0] < n - 1 ? p[0] : n - 1;
    char *key = text_of(p + 1, klen);
    const uint8_t *blob = p + 1 + klen;
    size_t blen = n - 1 - klen;
    sqs_kv_restore(e, SQS_KV_DEDUP, key, blob, blen, 1700000000000ull, 1000);
    sqs_kv_restore(e, SQS_KV_TASK, key, blob, blen, 1700000000000ull, 1000);
    char id[37], arn[SQS_ARN_MAX];
    sqs_move_handle_parse(key, id, arn, sizeof(arn));
    sqs_arn_t a;
    sqs_arn_parse(key, &a);
    free(key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sqs_engine_t *e = sqs_engine_new(NULL);
    /* The first two bytes split the input into a queue blob and a message blob;
     * the message blob's bytes are then read as a keyed record too. */
    size_t split = size >= 2 ? ((size_t)data[0] << 8 | data[1]) : 0;
    const uint8_t *p = size >= 2 ? data + 2 : data;
    size_t n = size >= 2 ? size - 2 : size;
    if (split > n)
        split = n;
    sqs_msg_state_t st = {0, 1, 0};
    if (sqs_queue_restore(e, 1, p, split) == 0) {
        sqs_msg_restore(e, 1, 1, p + split, n - split, &st, 1700000000000ull, 1000);
        kv_records(e, p + split, n - split);
        sqs_engine_tick(e, 1700000100000ull, 101000);
    }
    sqs_engine_free(e);
    return 0;
}
