/*
 * fuzz_iam_restore — the IAM directory's journal records: what the store hands
 * back at start-up is read as a user, group, role or policy record. A corrupt
 * or hostile database must make restore refuse the record cleanly, never
 * crash; a record it accepts must survive the lookups authorization makes.
 *
 * Input: one byte choosing the kind, the record key up to the first newline,
 * then the record.
 */
#include "iam/directory.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const char *kind = iam_dir_kinds[data[0] % iam_dir_n_kinds];
    const uint8_t *nl = memchr(data + 1, '\n', size - 1);
    size_t klen = nl ? (size_t)(nl - (data + 1)) : size - 1;
    char *key = malloc(klen + 1);
    memcpy(key, data + 1, klen);
    key[klen] = '\0';
    const uint8_t *blob = nl ? nl + 1 : data + size;
    size_t len = (size_t)(data + size - blob);
    iam_dir_t *d = iam_dir_new(NULL);
    if (strlen(key) == klen && iam_dir_restore(d, kind, key, blob, len) == 0 && klen > 13) {
        iam_policy_ref_t refs[16];
        const iam_policy_ref_t *boundary;
        char account[13];
        memcpy(account, key, 12);
        account[12] = '\0';
        iam_dir_user_policies(d, account, key + 13, refs, 16, &boundary);
        iam_dir_role_policies(d, account, key + 13, refs, 16, &boundary);
    }
    iam_dir_free(d);
    free(key);
    return 0;
}
