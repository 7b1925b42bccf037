/* identity — see identity.h. Roots are a short array: accounts are few. */
#include "iam/identity.h"
#include "base/strmap.h"
#include "base/xalloc.h"
#include "base/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSIONS_MAX 4096 /* cached decoded sessions; the cache is emptied past this */

typedef struct root_key {
    char account[16];
    char *key;
    char *secret;
} root_key_t;

struct iam_identity {
    root_key_t *roots;
    size_t n_roots;
    iam_identity_users_fn users;
    void *users_ud;
    uint8_t token_key[IAM_SESSION_KEY_BYTES];
    bool has_token_key;
    strmap_t sessions; /* access key id -> iam_session_entry_t */
};

iam_identity_t *iam_identity_new(void)
{
    return xcalloc(1, sizeof(iam_identity_t));
}

static void entry_free(iam_session_entry_t *en)
{
    iam_session_clear(&en->s);
    iam_policy_free(en->policy);
    free(en->token);
    free(en);
}

static void sessions_clear(iam_identity_t *ids)
{
    size_t pos = 0;
    const strmap_slot_t *s;
    while ((s = strmap_next(&ids->sessions, &pos)))
        entry_free(s->val);
    strmap_free(&ids->sessions);
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
    sessions_clear(ids);
    free(ids);
}

int iam_identity_add_root(iam_identity_t *ids, const char *account, const char *key,
                          const char *secret)
{
    if (strlen(account) != 12 || strspn(account, "0123456789") != 12 || !*key)
        return -1;
    for (size_t i = 0; i < ids->n_roots; i++)
        if (!strcmp(ids->roots[i].key, key))
            return -1;
    ids->roots = xrealloc(ids->roots, (ids->n_roots + 1) * sizeof(root_key_t));
    root_key_t *r = &ids->roots[ids->n_roots++];
    snprintf(r->account, sizeof(r->account), "%s", account);
    r->key = xstrdup(key);
    r->secret = xstrdup(secret);
    return 0;
}

size_t iam_identity_accounts(const iam_identity_t *ids)
{
    return ids->n_roots;
}

const char *iam_identity_account(const iam_identity_t *ids, size_t i)
{
    return i < ids->n_roots ? ids->roots[i].account : NULL;
}

void iam_identity_set_users(iam_identity_t *ids, iam_identity_users_fn fn, void *ud)
{
    ids->users = fn;
    ids->users_ud = ud;
}

void iam_identity_set_token_key(iam_identity_t *ids, const uint8_t key[IAM_SESSION_KEY_BYTES])
{
    memcpy(ids->token_key, key, IAM_SESSION_KEY_BYTES);
    ids->has_token_key = true;
    sessions_clear(ids);
}

const uint8_t *iam_identity_token_key(const iam_identity_t *ids)
{
    return ids->has_token_key ? ids->token_key : NULL;
}

static int invalid_token(aws_error_t *err)
{
    return aws_error_set(err, 403, "InvalidClientTokenId",
                         "The security token included in the request is invalid.");
}

static const char *root_lookup(const iam_identity_t *ids, const char *key, iam_principal_t *p)
{
    for (size_t i = 0; i < ids->n_roots; i++) {
        const root_key_t *r = &ids->roots[i];
        if (strcmp(r->key, key) != 0)
            continue;
        p->kind = IAM_PRINCIPAL_ROOT;
        str_copy(p->account, sizeof(p->account), r->account);
        str_join(p->arn, sizeof(p->arn),
                 (const char *const[]){"arn:aws:iam::", r->account, ":root", NULL});
        str_copy(p->user_id, sizeof(p->user_id), r->account);
        return r->secret;
    }
    return NULL;
}

static const char *user_lookup(const iam_identity_t *ids, const char *key, iam_principal_t *p)
{
    iam_user_key_t u;
    if (!ids->users || ids->users(ids->users_ud, key, &u) < 0 || !u.active)
        return NULL;
    p->kind = IAM_PRINCIPAL_USER;
    str_copy(p->account, sizeof(p->account), u.account);
    str_copy(p->arn, sizeof(p->arn), u.user_arn);
    str_copy(p->user_id, sizeof(p->user_id), u.user_id);
    str_copy(p->name, sizeof(p->name), u.user_name);
    return u.secret;
}

/* The cached session for key, opening (and caching) token when it is new. */
static iam_session_entry_t *session_get(iam_identity_t *ids, const char *key, const char *token,
                                        size_t token_len)
{
    iam_session_entry_t *en = strmap_get(&ids->sessions, key, strlen(key));
    if (en && strlen(en->token) == token_len && !memcmp(en->token, token, token_len))
        return en;
    if (!ids->has_token_key || token_len == 0)
        return NULL;
    char *text = xmalloc(token_len + 1);
    memcpy(text, token, token_len);
    text[token_len] = 0;
    iam_session_entry_t *fresh = xcalloc(1, sizeof(*fresh));
    iam_policy_error_t perr;
    if (iam_session_open(ids->token_key, key, text, &fresh->s, fresh->secret) < 0 ||
        (fresh->s.policy && iam_policy_parse(fresh->s.policy, strlen(fresh->s.policy),
                                             IAM_POLICY_SESSION, &fresh->policy, &perr) < 0)) {
        free(text);
        iam_session_clear(&fresh->s);
        free(fresh);
        return NULL;
    }
    fresh->token = text;
    const char *slash = strrchr(fresh->s.role_arn, '/');
    snprintf(fresh->role_name, sizeof(fresh->role_name), "%s", slash ? slash + 1 : "");
    if (ids->sessions.n >= SESSIONS_MAX)
        sessions_clear(ids);
    iam_session_entry_t *old = strmap_put(&ids->sessions, key, strlen(key), fresh);
    if (old)
        entry_free(old);
    return fresh;
}

static const char *session_lookup(iam_identity_t *ids, const char *key, const char *token,
                                  size_t token_len, uint64_t now_ms, iam_principal_t *p,
                                  aws_error_t *err)
{
    const iam_session_entry_t *en = session_get(ids, key, token, token_len);
    if (!en) {
        invalid_token(err);
        return NULL;
    }
    if ((int64_t)now_ms >= en->s.expires_ms) {
        aws_error_set(err, 403, "ExpiredToken",
                      "The security token included in the request is "
                      "expired");
        return NULL;
    }
    p->kind = IAM_PRINCIPAL_SESSION;
    p->session = en;
    snprintf(p->account, sizeof(p->account), "%s", en->s.account);
    snprintf(p->arn, sizeof(p->arn), "arn:aws:sts::%s:assumed-role/%s/%s", en->s.account,
             en->role_name, en->s.name);
    snprintf(p->user_id, sizeof(p->user_id), "%s:%s", en->s.role_id, en->s.name);
    snprintf(p->name, sizeof(p->name), "%s", en->role_name);
    snprintf(p->role_arn, sizeof(p->role_arn), "%s", en->s.role_arn);
    return en->secret;
}

const char *iam_identity_lookup(iam_identity_t *ids, const char *key, const char *token,
                                size_t token_len, uint64_t now_ms, iam_principal_t *p,
                                aws_error_t *err)
{
    const char *secret;
    memset(p, 0, sizeof(*p));
    str_copy(p->access_key, sizeof(p->access_key), key);
    if (!strncmp(key, "ASIA", 4))
        return session_lookup(ids, key, token, token_len, now_ms, p, err);
    secret = root_lookup(ids, key, p);
    if (!secret)
        secret = user_lookup(ids, key, p);
    if (!secret)
        invalid_token(err);
    return secret;
}

void iam_principal_role_session(iam_principal_t *p, const char *account, const char *role_arn,
                                const char *session)
{
    const char *slash = strrchr(role_arn, '/');
    const char *role = slash ? slash + 1 : role_arn;
    memset(p, 0, sizeof(*p));
    p->kind = IAM_PRINCIPAL_SESSION;
    snprintf(p->account, sizeof(p->account), "%s", account);
    snprintf(p->name, sizeof(p->name), "%s", role);
    snprintf(p->role_arn, sizeof(p->role_arn), "%s", role_arn);
    snprintf(p->arn, sizeof(p->arn), "arn:aws:sts::%s:assumed-role/%s/%.64s", account, role,
             session);
    snprintf(p->user_id, sizeof(p->user_id), "%s:%.64s", role, session);
}
