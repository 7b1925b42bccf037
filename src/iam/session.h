/*
 * session — STS session credentials that carry their own proof.
 *
 * AssumeRole hands out an `ASIA…` access key, a secret and a session token.
 * nagare keeps no table of sessions: the token holds everything the session is
 * (account, role, session name, expiry, session policy and policy ARNs, session
 * tags) followed by an HMAC-SHA256 over it under the server's token key, and
 * the secret is derived from the key id under the same key. A request signed
 * with such a key is verified by opening its token: a token that was altered,
 * issued under another key or belongs to another key id is refused; one past
 * its expiry is reported as expired. The token key lives in the store, so
 * sessions survive a restart, as they do in AWS. Pure: no I/O.
 */
#ifndef NAGARE_IAM_SESSION_H
#define NAGARE_IAM_SESSION_H

#include "base/buf.h"

#include <stddef.h>
#include <stdint.h>

#define IAM_SESSION_KEY_BYTES 32
#define IAM_SESSION_TAGS_MAX  50
#define IAM_SESSION_ARNS_MAX  10

typedef struct iam_session {
    char access_key[21]; /* ASIA + 16 */
    char account[16];
    char role_arn[256]; /* arn:aws:iam::ACCT:role/path/name */
    char role_id[32];   /* AROA… */
    char name[65];      /* RoleSessionName */
    int64_t issued_ms, expires_ms;
    char *policy; /* the session policy document, or NULL */
    char *policy_arns[IAM_SESSION_ARNS_MAX];
    size_t n_policy_arns;
    char *tag_keys[IAM_SESSION_TAGS_MAX], *tag_values[IAM_SESSION_TAGS_MAX];
    size_t n_tags;
} iam_session_t;

/* Gives s a new access key id (s->access_key), and writes its secret (40
 * characters and a NUL) and token (base64, appended to token). */
void iam_session_issue(const uint8_t key[IAM_SESSION_KEY_BYTES], iam_session_t *s, char secret[41],
                       buf_t *token);
/* Opens a token presented with access_key: 0 with *s filled (free its strings
 * with iam_session_clear) and the secret written; -1 when the token is not one
 * of ours for that key (malformed, altered, other key or other key id). Expiry
 * is the caller's check (s->expires_ms). */
int iam_session_open(const uint8_t key[IAM_SESSION_KEY_BYTES], const char *access_key,
                     const char *token, iam_session_t *s, char secret[41]);
/* Frees the strings of s. */
void iam_session_clear(iam_session_t *s);

#endif
