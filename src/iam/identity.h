/*
 * identity — who holds which access key.
 *
 * For now: the root of each account (`test`/`test` for 000000000000 unless
 * --root-key says otherwise). The IAM issue adds users' access keys and STS
 * session credentials behind the same lookup. Pure: no HTTP or libuv.
 */
#ifndef NAGARE_IAM_IDENTITY_H
#define NAGARE_IAM_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

/* The caller of a request, as authentication established it. */
typedef struct iam_principal {
    char account[16];  /* 12-digit account id */
    char arn[256];     /* arn:aws:iam::<account>:root, ...:user/x, ...:assumed-role/r/s */
    char user_id[128]; /* the SenderId AWS reports: the account id for root */
    char access_key[129];
    bool root;
} iam_principal_t;

typedef struct iam_identity iam_identity_t;

/* An empty identity store; free with iam_identity_free. */
iam_identity_t *iam_identity_new(void);
void iam_identity_free(iam_identity_t *ids);
/* Makes key/secret the root credentials of account (copied). 0, or -1 when the
 * account id is not 12 digits or the key is empty. */
int iam_identity_add_root(iam_identity_t *ids, const char *account, const char *key,
                          const char *secret);
/* Looks up an access key: fills *p and returns the secret (owned by ids), or
 * NULL when the key is unknown (the caller answers InvalidClientTokenId). */
const char *iam_identity_lookup(const iam_identity_t *ids, const char *key, iam_principal_t *p);

#endif
