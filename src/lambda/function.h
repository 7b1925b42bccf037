/*
 * function — the Lambda control plane as a pure engine: functions, their
 * $LATEST configuration and published versions, aliases, reserved
 * concurrency, the resource policy's statements and tags, per account and
 * region.
 *
 * What AWS shows of a function is kept here as C structs; the API (api.c)
 * turns them into responses, and the glue (service.c) journals each changed
 * function as one whole record (fnrec.c) and restores them at start-up. No
 * HTTP, no libuv, no store; time comes in as an argument. Names follow
 * Lambda's rules (1-64 of [A-Za-z0-9-_]); a FunctionName parameter may be a
 * name, a partial ARN (ACCOUNT:function:NAME) or a full ARN, with a
 * qualifier (version number, $LATEST, or an alias name).
 */
#ifndef NAGARE_LAMBDA_FUNCTION_H
#define NAGARE_LAMBDA_FUNCTION_H

#include "aws/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAMBDA_NAME_MAX       64
#define LAMBDA_TIMEOUT_MAX    900
#define LAMBDA_MEMORY_MIN     128
#define LAMBDA_MEMORY_MAX     10240
#define LAMBDA_ENV_MAX_BYTES  4096 /* Environment.Variables, as AWS counts them */
#define LAMBDA_POLICY_MAX     20480
#define LAMBDA_TAGS_MAX       50
#define LAMBDA_ACCOUNT_LIMIT  1000 /* ConcurrentExecutions */
#define LAMBDA_UNRESERVED_MIN 100  /* what reservations must leave unreserved */
#define LAMBDA_CODE_ZIP_MAX   (50u * 1024 * 1024)
#define LAMBDA_CODE_UNZIP_MAX (250u * 1024 * 1024)
#define LAMBDA_STORAGE_LIMIT  80530636800LL /* 75 GB, TotalCodeSize */
#define LAMBDA_HOT_BUCKET     "hot-reload"  /* S3Bucket naming a local code directory */

/* One version's configuration ($LATEST or a published number). Strings owned. */
typedef struct lambda_conf {
    char version[16]; /* "$LATEST", "1", ... */
    char *runtime, *role, *handler, *description;
    char *dlq_arn; /* DeadLetterConfig.TargetArn (an SQS queue), NULL = none */
    int timeout_s, memory_mb;
    char **env_keys, **env_values;
    size_t n_env;
    char code_sha256[48]; /* base64 of the zip's SHA-256 */
    uint64_t code_size;
    uint64_t last_modified_ms;
    char revision_id[37];
    /* $LATEST's revision when this version was published (PublishVersion
     * returns the last version again when nothing changed since). */
    char source_revision[37];
    uint64_t code_id; /* changes whenever code or configuration change */
    /* The hot-reload convention (Code: {S3Bucket: "hot-reload", S3Key: DIR}): the code runs
     * from this absolute directory, not a copy; NULL for a zip package. */
    char *hot_dir;
} lambda_conf_t;

typedef struct lambda_alias {
    char *name, *version, *description;
    char revision_id[37];
} lambda_alias_t;

/* A statement of the resource policy, as its JSON text (built by the API),
 * for the function (qualifier NULL) or one version or alias. */
typedef struct lambda_stmt {
    char *sid, *qualifier, *text;
} lambda_stmt_t;

typedef struct lambda_fn {
    char account[16], region[32], name[LAMBDA_NAME_MAX + 1];
    char arn[160]; /* arn:aws:lambda:REGION:ACCOUNT:function:NAME */
    lambda_conf_t latest;
    lambda_conf_t *versions; /* ascending */
    size_t n_versions;
    uint32_t last_version; /* numbers are never reused, even after a delete */
    lambda_alias_t *aliases;
    size_t n_aliases;
    int reserved; /* reserved concurrency, -1 = none */
    lambda_stmt_t *stmts;
    size_t n_stmts;
    char policy_revision[37];
    char **tag_keys, **tag_values;
    size_t n_tags;
} lambda_fn_t;

/* Where each change goes (the glue forwards to the store). Either may be NULL. */
typedef struct lambda_journal {
    void *ud;
    void (*put)(void *ud, const lambda_fn_t *fn);
    void (*del)(void *ud, const lambda_fn_t *fn);
} lambda_journal_t;

typedef struct lambda_reg lambda_reg_t;

/* A parsed FunctionName (with the Qualifier parameter folded in). */
typedef struct lambda_ref {
    char name[LAMBDA_NAME_MAX + 1];
    char qualifier[LAMBDA_NAME_MAX + 1]; /* "" = none */
    char account[16];                    /* "" = the caller's */
    char region[32];                     /* "" = the request's */
} lambda_ref_t;

lambda_reg_t *lambda_reg_new(const lambda_journal_t *j);
void lambda_reg_free(lambda_reg_t *r);

/* Parses a FunctionName parameter and an optional Qualifier parameter (may be
 * NULL). 0, or -1 with err (ValidationException / InvalidParameterValueException
 * when the qualifier given twice differs). */
int lambda_ref_parse(const char *function_name, const char *qualifier, lambda_ref_t *out,
                     aws_error_t *err);
/* True for a valid function or alias name. */
bool lambda_name_valid(const char *s);

/* The function, or NULL. */
lambda_fn_t *lambda_fn_get(lambda_reg_t *r, const char *account, const char *region,
                           const char *name);
/* The function a ref names (in account/region unless the ref says otherwise),
 * or NULL with ResourceNotFoundException in err. */
lambda_fn_t *lambda_fn_find(lambda_reg_t *r, const lambda_ref_t *ref, const char *account,
                            const char *region, aws_error_t *err);
/* The configuration a qualifier selects ("" or $LATEST, a version number, an
 * alias). NULL with ResourceNotFoundException. */
const lambda_conf_t *lambda_fn_resolve(const lambda_fn_t *fn, const char *qualifier,
                                       aws_error_t *err);
/* Creates a function whose $LATEST is *conf (taken: the caller's struct is
 * zeroed). 0 with *out, or -1 with ResourceConflictException. */
int lambda_fn_create(lambda_reg_t *r, const char *account, const char *region, const char *name,
                     lambda_conf_t *conf, uint64_t now_ms, lambda_fn_t **out, aws_error_t *err);
/* Replaces $LATEST by *conf (taken), bumping revision and code id. */
void lambda_fn_set_latest(lambda_reg_t *r, lambda_fn_t *fn, lambda_conf_t *conf, uint64_t now_ms);
/* Deletes the function (qualifier "") or one version. -1 with err for an
 * unknown version, or ResourceConflictException for a version an alias uses. */
int lambda_fn_delete(lambda_reg_t *r, lambda_fn_t *fn, const char *qualifier, aws_error_t *err);
/* Publishes $LATEST (or returns the last version when nothing changed).
 * code_sha256 / revision_id: the caller's expectations, NULL = none. */
int lambda_fn_publish(lambda_reg_t *r, lambda_fn_t *fn, const char *description,
                      const char *code_sha256, const char *revision_id, uint64_t now_ms,
                      const lambda_conf_t **out, aws_error_t *err);

/* Aliases. */
const lambda_alias_t *lambda_alias_get(const lambda_fn_t *fn, const char *name);
int lambda_alias_create(lambda_reg_t *r, lambda_fn_t *fn, const char *name, const char *version,
                        const char *description, const lambda_alias_t **out, aws_error_t *err);
/* version / description NULL: unchanged. revision_id: expected, NULL = any. */
int lambda_alias_update(lambda_reg_t *r, lambda_fn_t *fn, const char *name, const char *version,
                        const char *description, const char *revision_id,
                        const lambda_alias_t **out, aws_error_t *err);
int lambda_alias_delete(lambda_reg_t *r, lambda_fn_t *fn, const char *name, aws_error_t *err);

/* Reserved concurrency: n (0..), checked against the account limit minus
 * the unreserved minimum; -1 removes it. */
int lambda_fn_set_reserved(lambda_reg_t *r, lambda_fn_t *fn, int n, aws_error_t *err);
/* The account's unreserved concurrency (limit minus every reservation). */
int lambda_reg_unreserved(const lambda_reg_t *r, const char *account, const char *region);

/* Resource policy statements. text is the statement's JSON (copied). */
int lambda_policy_add(lambda_reg_t *r, lambda_fn_t *fn, const char *qualifier, const char *sid,
                      const char *text, const char *revision_id, aws_error_t *err);
int lambda_policy_remove(lambda_reg_t *r, lambda_fn_t *fn, const char *qualifier, const char *sid,
                         const char *revision_id, aws_error_t *err);
/* The policy document of fn for qualifier ("" = the function's own) into a
 * new string, as AWS renders it; NULL when it has no statements. */
char *lambda_policy_render(const lambda_fn_t *fn, const char *qualifier);

/* Tags: set (add or replace) and remove. LAMBDA_TAGS_MAX at most. */
int lambda_tags_set(lambda_reg_t *r, lambda_fn_t *fn, const char *const *keys,
                    const char *const *values, size_t n, aws_error_t *err);
void lambda_tags_remove(lambda_reg_t *r, lambda_fn_t *fn, const char *const *keys, size_t n);

/* Functions of account/region in name order, from the first name after
 * `after` ("" = from the start); returns how many were written (<= cap). */
size_t lambda_fn_list(const lambda_reg_t *r, const char *account, const char *region,
                      const char *after, const lambda_fn_t **out, size_t cap);
/* Counts and total code size of account/region (GetAccountSettings). */
void lambda_reg_usage(const lambda_reg_t *r, const char *account, const char *region,
                      size_t *functions, uint64_t *code_bytes);

/* Adds a function read back from the journal (taken whole). 0, or -1 when one
 * of that name exists. */
int lambda_reg_restore(lambda_reg_t *r, lambda_fn_t *fn);

/* Configuration copies and frees. */
void lambda_conf_copy(lambda_conf_t *dst, const lambda_conf_t *src);
void lambda_conf_free(lambda_conf_t *c);
void lambda_fn_free(lambda_fn_t *fn);

/* Journal records (fnrec.c): a function as one blob, and back. */
char *lambda_fn_record(const lambda_fn_t *fn, size_t *len);
/* A new function from a record; NULL when it does not parse or check. */
lambda_fn_t *lambda_fn_from_record(const void *blob, size_t len);

#endif
