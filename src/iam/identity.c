/* identity — see identity.h. A short array: accounts are few. */
#include "iam/identity.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct root_key {
    char account[16];
    char *key;
    char *secret;
} root_key_t;

struct iam_identity {
    root_key_t *roots;
    size_t n_roots;
};

iam_identity_t *iam_identity_new(void)
{
    return xcalloc(1, sizeof(iam_identity_t));
}

void iam_identity_free(iam_identity_t *ids)
{
    if (!ids)
        return;
    for (size_t i = 0; i < ids->n_roots; i++) {
        free(ids->roots[i].key);
        free(ids->roots[i].secret);
    }
    free(ids->roots);
    free(ids);
}

int iam_identity_add_root(iam_identity_t *ids, const char *account, const char *key,
                          const char *secret)
{
    if (strlen(account) != 12 || strspn(account, "0123456789") != 12 || !*key)
        return -1;
    ids->roots = xrealloc(ids->roots, (ids->n_roots + 1) * sizeof(root_key_t));
    root_key_t *r = &ids->roots[ids->n_roots++];
    snprintf(r->account, sizeof(r->account), "%s", account);
    r->key = xstrdup(key);
    r->secret = xstrdup(secret);
    return 0;
}

const char *iam_identity_lookup(const iam_identity_t *ids, const char *key, iam_principal_t *p)
{
    for (size_t i = 0; i < ids->n_roots; i++) {
        const root_key_t *r = &ids->roots[i];
        if (strcmp(r->key, key) != 0)
            continue;
        memset(p, 0, sizeof(*p));
        snprintf(p->account, sizeof(p->account), "%s", r->account);
        snprintf(p->arn, sizeof(p->arn), "arn:aws:iam::%s:root", r->account);
        snprintf(p->user_id, sizeof(p->user_id), "%s", r->account);
        snprintf(p->access_key, sizeof(p->access_key), "%s", key);
        p->root = true;
        return r->secret;
    }
    return NULL;
}
