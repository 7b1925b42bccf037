/*
 * policy_int — the compiled form of a policy, shared by the engine's files.
 *
 * Not part of the API (policy.h is). policy.c reads and validates the JSON and
 * builds these structures; condition.c owns the condition operators (their
 * table, value compilation and evaluation); match.c the matchers shared by
 * both (wildcards, policy variables, context lookups); eval.c the decision.
 *
 * Everything a compiled policy holds lives in its arena and is freed at once.
 * Evaluation reads these structures only and allocates nothing: a pattern with
 * policy variables is expanded into a caller's stack buffer.
 */
#ifndef NAGARE_IAM_POLICY_INT_H
#define NAGARE_IAM_POLICY_INT_H

#include "iam/policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- arena ---------------------------------------------------------------------------- */

typedef struct arena_block arena_block_t;
typedef struct arena {
    arena_block_t *head;
} arena_t;

/* Zeroed, aligned memory that lives until arena_free. Aborts when out of memory. */
void *arena_alloc(arena_t *a, size_t n);
/* A NUL-terminated copy of s[0..n). */
char *arena_strndup(arena_t *a, const char *s, size_t n);
void arena_free(arena_t *a);

/* ---- patterns: text with wildcards and policy variables -------------------------------- */

/* A piece of a pattern: literal text, text whose wildcard characters are
 * literal (${*}, ${?}, ${$}), or a policy variable with an optional default. */
typedef enum seg_kind { SEG_TEXT, SEG_LITERAL, SEG_VAR } seg_kind_t;

typedef struct seg {
    seg_kind_t kind;
    const char *text; /* TEXT/LITERAL: the bytes; VAR: the context key */
    size_t len;
    const char *def; /* VAR: the default value, or NULL */
    size_t def_len;
} seg_t;

/* A string from a policy. Without variables, `text` is all there is; with
 * them, `segs` says how to build the string from the request. */
typedef struct pat {
    const char *text;
    size_t len;
    const seg_t *segs; /* NULL when the text has no variables */
    size_t n_segs;
} pat_t;

/* The longest expanded pattern evaluation will build (ARNs are at most 2048). */
#define PAT_EXPAND_MAX 4096

/* Compiles s[0..n) into p, finding ${...} variables when `vars` (policy
 * language 2012-10-17) and keeping the text literal otherwise. */
void pat_compile(arena_t *a, const char *s, size_t n, bool vars, pat_t *p);
/* Expands p with the request's context into buf (PAT_EXPAND_MAX bytes) and
 * marks in lit (same size) the bytes that are literal, never wildcards.
 * Returns the length, or -1 when a variable has no value and no default (the
 * element then matches nothing) or the result would not fit. */
int pat_expand(const pat_t *p, const iam_request_t *req, char *buf, uint8_t *lit);

/* Wildcard match of s[0..sn) against p[0..pn): `*` any run (also across `:`
 * and `/`), `?` one byte; a byte whose lit[] is set is literal (lit may be
 * NULL). Case-sensitive; callers fold case beforehand where IAM does. */
bool glob_match(const char *p, const uint8_t *lit, size_t pn, const char *s, size_t sn);
/* pat_expand then glob_match; false when the pattern does not expand. */
bool pat_like(const pat_t *p, const iam_request_t *req, const char *s, size_t sn);

/* The context entry for key (case-insensitive), or NULL. */
const iam_context_key_t *ctx_find(const iam_request_t *req, const char *key, size_t key_len);

/* ---- conditions ----------------------------------------------------------------------- */

typedef enum cond_base {
    COND_STRING_EQUALS,
    COND_STRING_EQUALS_IC,
    COND_STRING_LIKE,
    COND_NUMERIC_EQ,
    COND_NUMERIC_LT,
    COND_NUMERIC_LE,
    COND_NUMERIC_GT,
    COND_NUMERIC_GE,
    COND_DATE_EQ,
    COND_DATE_LT,
    COND_DATE_LE,
    COND_DATE_GT,
    COND_DATE_GE,
    COND_BOOL,
    COND_BINARY,
    COND_IP,
    COND_ARN,
    COND_NULL,
} cond_base_t;

typedef enum cond_set { SET_NONE, SET_FOR_ALL, SET_FOR_ANY } cond_set_t;

/* An operator name taken apart: ForAnyValue:StringNotLikeIfExists. */
typedef struct cond_op {
    cond_base_t base;
    bool negated;
    bool if_exists;
    cond_set_t set;
} cond_op_t;

typedef struct date_value {
    int64_t sec;
    int32_t nsec;
} date_value_t;

typedef struct ip_value {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned prefix;
} ip_value_t;

/* One value of a condition, compiled for its operator. `ok` is false when the
 * value does not parse for the operator (it then matches nothing). */
typedef struct cond_value {
    pat_t text; /* strings, ARNs, Bool, Null: the text (with variables where allowed) */
    bool ok;
    union {
        double num;
        date_value_t date;
        ip_value_t ip;
        struct {
            const uint8_t *bytes;
            size_t len;
        } bin;
        bool truth; /* Null */
    } u;
} cond_value_t;

typedef struct cond {
    cond_op_t op;
    const char *key; /* as written; looked up case-insensitively */
    size_t key_len;
    cond_value_t *values;
    size_t n_values;
} cond_t;

/* Parses an operator name. 0, or -1 when it names no operator. */
int cond_op_parse(const char *name, cond_op_t *op);
/* Whether policy variables are expanded in this operator's values. */
bool cond_op_takes_vars(const cond_op_t *op);
/* Compiles one value written in a policy for op; `vars` as in pat_compile. */
void cond_value_compile(arena_t *a, const cond_op_t *op, const char *s, size_t n, bool vars,
                        cond_value_t *v);
/* Whether s is a date the policy language accepts (ISO 8601 or epoch seconds). */
bool cond_date_parse(const char *s, size_t n, date_value_t *out);
/* Evaluates one condition (operator, key, values) against the request. */
bool cond_eval(const cond_t *c, const iam_request_t *req);

/* ---- statements and policies ---------------------------------------------------------- */

/* An action pattern: the vendor, lower-case and without wildcards (the
 * grammar forbids them there), and the name, lower-case, with wildcards. */
typedef struct action_pat {
    bool all; /* "*" */
    const char *vendor;
    size_t vendor_len;
    const char *name;
    size_t name_len;
} action_pat_t;

typedef enum principal_kind {
    PRINCIPAL_ANY,     /* "*" or {"AWS": "*"} */
    PRINCIPAL_ACCOUNT, /* 12 digits or arn:aws:iam::ACCOUNT:root */
    PRINCIPAL_ARN,     /* a user, role or assumed-role session */
    PRINCIPAL_SERVICE, /* lambda.amazonaws.com */
    PRINCIPAL_OTHER,   /* Federated, CanonicalUser: never one of our callers */
} principal_kind_t;

typedef struct principal {
    principal_kind_t kind;
    const char *value; /* the account id, ARN or service name */
} principal_t;

typedef struct stmt {
    const char *sid; /* or NULL */
    bool deny;
    bool not_action;
    const action_pat_t *actions;
    size_t n_actions;
    bool has_resource; /* resource and trust policies may leave it out */
    bool not_resource;
    const pat_t *resources;
    size_t n_resources;
    bool has_principal;
    bool not_principal;
    const principal_t *principals;
    size_t n_principals;
    const cond_t *conds;
    size_t n_conds;
} stmt_t;

struct iam_policy {
    iam_policy_kind_t kind;
    const stmt_t *stmts;
    size_t n_stmts;
    arena_t arena;
};

#endif
