/*
 * api — the Lambda actions: decoded input (a jansson tree from the REST-JSON
 * codec) → function engine → output tree, one thin handler per action.
 *
 * Each table entry names its IAM action and how the resource ARN follows from
 * the input (the function's ARN, qualified when the request names a version
 * or alias; "*" for ListFunctions and GetAccountSettings), so the gateway
 * authorizes before any handler runs, with the function's resource policy
 * from service.c's resource_info. CreateFunction and a Role change also need
 * iam:PassRole on the role (a second decision, made here) and a role whose
 * trust policy lets lambda.amazonaws.com assume it. Invoke hands the
 * resolved version to the executor (exec.h).
 */
#include "lambda/service.h"
#include "lambda/api_int.h"
#include "base/b64.h"
#include "base/digest.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define SYNC_PAYLOAD_MAX   6291456 /* 6 MB, request and response */
#define ASYNC_PAYLOAD_MAX  1048576 /* 1 MB (Event) */
#define CLIENT_CONTEXT_MAX 3583    /* base64 bytes of X-Amz-Client-Context */
#define LIST_DEFAULT       50
#define LIST_MAX           10000

static const char *const runtimes[] = {
    "provided.al2023", "provided.al2", "python3.9",  "python3.10", "python3.11",
    "python3.12",      "python3.13",   "nodejs18.x", "nodejs20.x", "nodejs22.x",
};

/* ---- small helpers ------------------------------------------------------------------------ */

static lambda_service_t *svc_of(const aws_call_t *c)
{
    return c->svc->state;
}

static lambda_reg_t *reg(const aws_call_t *c)
{
    return lambda_service_reg(svc_of(c));
}

/* Lambda's timestamps: 2024-01-02T03:04:05.678+0000. */
static json_t *lambda_date(uint64_t ms)
{
    char b[40];
    struct tm tm;
    time_t t = (time_t)(ms / 1000);
    gmtime_r(&t, &tm);
    size_t n = strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(b + n, sizeof(b) - n, ".%03u+0000", (unsigned)(ms % 1000));
    return json_string(b);
}

/* The function (and qualifier) a call names through FunctionName/Qualifier. */
static lambda_fn_t *fn_of(aws_call_t *c, lambda_ref_t *ref)
{
    if (lambda_ref_parse(aws_jstr(c->in, "FunctionName"), aws_jstr(c->in, "Qualifier"), ref,
                         &c->err) < 0)
        return NULL;
    return lambda_fn_find(reg(c), ref, c->principal.account, c->region, &c->err);
}

int lambda_api_validation(aws_call_t *c, const char *what, long long v, const char *constraint)
{
    return aws_error_set(&c->err, 400, "ValidationException",
                         "1 validation error detected: Value '%lld' at '%s' failed to satisfy "
                         "constraint: %s",
                         v, what, constraint);
}

/* ---- resources ---------------------------------------------------------------------------- */

static int res_function(aws_call_t *c, buf_t *arn)
{
    lambda_ref_t ref;
    if (lambda_ref_parse(aws_jstr(c->in, "FunctionName"), aws_jstr(c->in, "Qualifier"), &ref,
                         &c->err) < 0)
        return -1;
    buf_printf(arn, "arn:aws:lambda:%s:%s:function:%s", ref.region[0] ? ref.region : c->region,
               ref.account[0] ? ref.account : c->principal.account, ref.name);
    if (ref.qualifier[0])
        buf_printf(arn, ":%s", ref.qualifier);
    return 0;
}

/* Alias actions name the function's ARN (unqualified). */
static int res_function_only(aws_call_t *c, buf_t *arn)
{
    json_t *q = json_incref(json_object_get(c->in, "Qualifier"));
    json_object_del(c->in, "Qualifier");
    int rc = res_function(c, arn);
    if (q)
        json_object_set_new(c->in, "Qualifier", q);
    return rc;
}

int lambda_api_res_any(aws_call_t *c, buf_t *arn)
{
    (void)c;
    buf_puts(arn, "*");
    return 0;
}

/* The Resource label as given: authorization decides first (as for every
 * action), the handler then refuses what is not a function's ARN. */
static int res_tagged(aws_call_t *c, buf_t *arn)
{
    const char *r = aws_jstr(c->in, "Resource");
    buf_puts(arn, r ? r : "");
    return 0;
}

/* ---- FunctionConfiguration ---------------------------------------------------------------- */

typedef enum view { VIEW_STEADY, VIEW_CREATING, VIEW_UPDATING } view_t;

static json_t *conf_json(const lambda_fn_t *fn, const lambda_conf_t *v, bool qualified, view_t view)
{
    char arn[200];
    json_t *o = json_object();
    snprintf(arn, sizeof(arn), "%s%s%s", fn->arn, qualified ? ":" : "",
             qualified ? v->version : "");
    json_object_set_new(o, "FunctionName", json_string(fn->name));
    json_object_set_new(o, "FunctionArn", json_string(arn));
    if (v->runtime)
        json_object_set_new(o, "Runtime", json_string(v->runtime));
    json_object_set_new(o, "Role", json_string(v->role ? v->role : ""));
    if (v->handler)
        json_object_set_new(o, "Handler", json_string(v->handler));
    json_object_set_new(o, "CodeSize", json_integer((json_int_t)v->code_size));
    json_object_set_new(o, "Description", json_string(v->description ? v->description : ""));
    json_object_set_new(o, "Timeout", json_integer(v->timeout_s));
    json_object_set_new(o, "MemorySize", json_integer(v->memory_mb));
    json_object_set_new(o, "LastModified", lambda_date(v->last_modified_ms));
    json_object_set_new(o, "CodeSha256", json_string(v->code_sha256));
    json_object_set_new(o, "Version", json_string(v->version));
    if (v->n_env) {
        json_t *vars = json_object();
        for (size_t i = 0; i < v->n_env; i++)
            json_object_set_new(vars, v->env_keys[i], json_string(v->env_values[i]));
        json_object_set_new(o, "Environment", json_pack("{s:o}", "Variables", vars));
    }
    if (v->dlq_arn)
        json_object_set_new(o, "DeadLetterConfig", json_pack("{s:s}", "TargetArn", v->dlq_arn));
    json_object_set_new(o, "TracingConfig", json_pack("{s:s}", "Mode", "PassThrough"));
    json_object_set_new(o, "RevisionId", json_string(v->revision_id));
    json_object_set_new(o, "PackageType", json_string("Zip"));
    json_object_set_new(o, "Architectures", json_pack("[s]", "x86_64"));
    json_object_set_new(o, "EphemeralStorage", json_pack("{s:i}", "Size", 512));
    json_object_set_new(o, "SnapStart",
                        json_pack("{s:s, s:s}", "ApplyOn", "None", "OptimizationStatus", "Off"));
    json_object_set_new(
        o, "LoggingConfig",
        json_pack("{s:s, s:s+}", "LogFormat", "Text", "LogGroup", "/aws/lambda/", fn->name));
    /* The function is usable once the response is out: the transitional
     * states show in the response of the change itself, as AWS's do. */
    if (view == VIEW_CREATING) {
        json_object_set_new(o, "State", json_string("Pending"));
        json_object_set_new(o, "StateReason", json_string("The function is being created."));
        json_object_set_new(o, "StateReasonCode", json_string("Creating"));
    } else {
        json_object_set_new(o, "State", json_string("Active"));
    }
    if (view == VIEW_UPDATING) {
        json_object_set_new(o, "LastUpdateStatus", json_string("InProgress"));
        json_object_set_new(o, "LastUpdateStatusReason",
                            json_string("The function is being created."));
        json_object_set_new(o, "LastUpdateStatusReasonCode", json_string("Creating"));
    } else {
        json_object_set_new(o, "LastUpdateStatus", json_string("Successful"));
    }
    return o;
}

/* ---- validation of a configuration -------------------------------------------------------- */

static bool runtime_known(const char *r)
{
    for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
        if (!strcmp(runtimes[i], r))
            return true;
    return false;
}

static int check_runtime(aws_call_t *c, const char *r)
{
    if (runtime_known(r))
        return 0;
    buf_t b;
    buf_init(&b, 0);
    for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
        buf_printf(&b, "%s%s", i ? ", " : "", runtimes[i]);
    aws_error_set(&c->err, 400, "InvalidParameterValueException",
                  "Value %.64s at 'runtime' failed to satisfy constraint: Member must satisfy "
                  "enum value set: [%s] or be a valid ARN",
                  r, b.data);
    buf_free(&b);
    return -1;
}

/* The caller may pass the role (iam:PassRole) and Lambda may assume it (its
 * trust policy names lambda.amazonaws.com for sts:AssumeRole). */
static int check_role(aws_call_t *c, const char *role)
{
    const lambda_service_config_t *cfg = lambda_service_config(svc_of(c));
    static const char bad[] = "The role defined for the function cannot be assumed by Lambda.";
    if (strncmp(role, "arn:aws:iam::", 13) || !strstr(role, ":role/"))
        return aws_error_set(&c->err, 400, "ValidationException",
                             "1 validation error detected: Value '%.200s' at 'role' failed to "
                             "satisfy constraint: Member must satisfy regular expression pattern: "
                             "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
                             role);
    if (cfg->authz) {
        buf_t msg;
        iam_decision_t d;
        buf_init(&msg, 2048);
        iam_authz_in_t in = {.who = &c->principal,
                             .action = "iam:PassRole",
                             .resource = role,
                             .region = c->region,
                             .source_ip = c->http ? c->http->peer : "",
                             .now_ms = c->now_ms};
        iam_authorize(cfg->authz, &in, &d, &msg);
        if (!d.allowed && cfg->enforce_iam) {
            aws_error_set(&c->err, 403, "AccessDeniedException", "%s", msg.data);
            buf_free(&msg);
            return -1;
        }
        buf_free(&msg);
    }
    const iam_dir_role_t *r =
        cfg->dir ? iam_dir_role_get(cfg->dir, c->principal.account, role) : NULL;
    if (!r || !r->trust)
        return aws_error_set(&c->err, 400, "InvalidParameterValueException", "%s", bad);
    iam_request_t req = {
        .action = "sts:AssumeRole",
        .resource = r->e.arn,
        .resource_account = r->e.account,
        .caller = {IAM_CALLER_SERVICE, "lambda.amazonaws.com", "", NULL},
        .resource_policy = &r->trust_ref,
    };
    iam_verdict_t v;
    iam_eval(&req, &v);
    if (v.effect != IAM_ALLOW)
        return aws_error_set(&c->err, 400, "InvalidParameterValueException", "%s", bad);
    return 0;
}

static int set_env(aws_call_t *c, lambda_conf_t *conf, const json_t *env)
{
    const json_t *vars = json_object_get(env, "Variables");
    const char *k;
    json_t *v;
    size_t bytes = 0;
    for (size_t i = 0; i < conf->n_env; i++) {
        free(conf->env_keys[i]);
        free(conf->env_values[i]);
    }
    conf->n_env = 0;
    conf->env_keys = xrealloc(conf->env_keys, (json_object_size(vars) + 1) * sizeof(char *));
    conf->env_values = xrealloc(conf->env_values, (json_object_size(vars) + 1) * sizeof(char *));
    json_object_foreach((json_t *)vars, k, v)
    {
        bytes += strlen(k) + json_string_length(v);
        conf->env_keys[conf->n_env] = xstrdup(k);
        conf->env_values[conf->n_env++] = xstrdup(json_string_value(v) ? json_string_value(v) : "");
    }
    if (bytes > LAMBDA_ENV_MAX_BYTES)
        return aws_error_set(&c->err, 400, "InvalidParameterValueException",
                             "Lambda was unable to configure your environment variables because "
                             "the environment variables you have provided exceeded the 4KB limit. "
                             "String measured: %zu",
                             bytes);
    return 0;
}

static void set_str(char **dst, const char *s)
{
    if (!s)
        return;
    free(*dst);
    *dst = xstrdup(s);
}

/* DeadLetterConfig.TargetArn: an SQS queue's ARN (AWS also takes SNS topics,
 * which nagare does not serve); "" removes it. */
static int apply_dlq(aws_call_t *c, lambda_conf_t *conf)
{
    const json_t *d = json_object_get(c->in, "DeadLetterConfig");
    const char *arn = d ? aws_jstr(d, "TargetArn") : NULL;
    if (!arn)
        return 0;
    free(conf->dlq_arn);
    conf->dlq_arn = NULL;
    if (!*arn)
        return 0;
    if (strncmp(arn, "arn:aws:sqs:", 12))
        return aws_error_set(&c->err, 400, "InvalidParameterValueException",
                             "The provided target arn is invalid: %s. Only SQS queues are "
                             "supported as dead-letter targets here.",
                             arn);
    lambda_ref_t ref;
    aws_error_t ignored;
    if (conf->role &&
        lambda_ref_parse(aws_jstr(c->in, "FunctionName"), NULL, &ref, &ignored) == 0 &&
        !lambda_service_may_deliver(svc_of(c), c->principal.account, c->region, ref.name,
                                    conf->role, arn))
        return aws_error_set(&c->err, 400, "InvalidParameterValueException",
                             "The provided execution role does not have permissions to call "
                             "SendMessage on SQS");
    conf->dlq_arn = xstrdup(arn);
    return 0;
}

/* Applies the configuration members of c->in to conf. */
static int apply_config(aws_call_t *c, lambda_conf_t *conf)
{
    const json_t *in = c->in, *t = json_object_get(in, "Timeout"),
                 *m = json_object_get(in, "MemorySize");
    const char *runtime = aws_jstr(in, "Runtime"), *role = aws_jstr(in, "Role");
    if (t && (json_integer_value(t) < 1 || json_integer_value(t) > LAMBDA_TIMEOUT_MAX))
        return lambda_api_validation(c, "timeout", json_integer_value(t),
                                     json_integer_value(t) < 1
                                         ? "Member must have value greater than or equal to 1"
                                         : "Member must have value less than or equal to 900");
    if (m &&
        (json_integer_value(m) < LAMBDA_MEMORY_MIN || json_integer_value(m) > LAMBDA_MEMORY_MAX))
        return lambda_api_validation(c, "memorySize", json_integer_value(m),
                                     json_integer_value(m) < LAMBDA_MEMORY_MIN
                                         ? "Member must have value greater than or equal to 128"
                                         : "Member must have value less than or equal to 10240");
    if (runtime && check_runtime(c, runtime) < 0)
        return -1;
    if (role && (!conf->role || strcmp(role, conf->role)) && check_role(c, role) < 0)
        return -1;
    if (json_object_get(in, "Environment") &&
        set_env(c, conf, json_object_get(in, "Environment")) < 0)
        return -1;
    if (t)
        conf->timeout_s = (int)json_integer_value(t);
    if (m)
        conf->memory_mb = (int)json_integer_value(m);
    set_str(&conf->runtime, runtime);
    set_str(&conf->role, role);
    set_str(&conf->handler, aws_jstr(in, "Handler"));
    set_str(&conf->description, aws_jstr(in, "Description"));
    return apply_dlq(c, conf);
}

/* Code.ZipFile (or ZipFile): base64 → SHA-256, size, unpacked directory. */
static int apply_zip(aws_call_t *c, lambda_conf_t *conf, const char *name, const char *b64)
{
    size_t blen = strlen(b64), n = 0;
    uint8_t *zip = xmalloc(b64_decoded_max(blen));
    uint8_t sha[32];
    int rc = -1;
    if (b64_decode(b64, blen, zip, &n) < 0 || n == 0) {
        aws_error_set(&c->err, 400, "InvalidParameterValueException",
                      "Could not unzip uploaded file. Please check your file, then try to upload "
                      "again.");
        goto out;
    }
    if (n > LAMBDA_CODE_ZIP_MAX) {
        aws_error_set(&c->err, 413, "RequestEntityTooLargeException",
                      "Request must be smaller than 70167211 bytes for the CreateFunction "
                      "operation");
        goto out;
    }
    digest_sha256(zip, n, sha);
    b64_encode_into(sha, sizeof(sha), conf->code_sha256);
    conf->code_size = n;
    rc = lambda_service_unzip(svc_of(c), c->principal.account, c->region, name, conf->code_sha256,
                              zip, n, &c->err);
out:
    free(zip);
    return rc;
}

/* Code: {S3Bucket: "hot-reload", S3Key: "/abs/dir"}: the code runs from that directory as it
 * is (no copy), so edits show at the next cold start. Any other bucket: nagare has no S3, and
 * answers as Lambda does for a bucket that does not exist. CodeSha256 is the SHA-256 of the
 * path (AWS-shaped and stable), CodeSize 0. */
static int apply_hot(aws_call_t *c, lambda_conf_t *conf, const char *bucket, const char *key)
{
    struct stat st;
    uint8_t sha[32];
    if (strcmp(bucket, LAMBDA_HOT_BUCKET))
        return aws_error_set(&c->err, 400, "InvalidParameterValueException",
                             "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 "
                             "Error Message: The specified bucket does not exist");
    if (!key || key[0] != '/' || stat(key, &st) < 0 || !S_ISDIR(st.st_mode))
        return aws_error_set(&c->err, 400, "InvalidParameterValueException",
                             "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error "
                             "Message: The hot-reload S3Key must be an absolute path to an "
                             "existing directory: %.200s",
                             key ? key : "");
    digest_sha256(key, strlen(key), sha);
    b64_encode_into(sha, sizeof(sha), conf->code_sha256);
    conf->code_size = 0;
    set_str(&conf->hot_dir, key);
    return 0;
}

/* The code members of a request (Code.* for CreateFunction, top level for UpdateFunctionCode). */
static int apply_code(aws_call_t *c, lambda_conf_t *conf, const char *name, const json_t *code)
{
    const char *zip = aws_jstr(code, "ZipFile"), *bucket = aws_jstr(code, "S3Bucket");
    if (zip) {
        free(conf->hot_dir);
        conf->hot_dir = NULL;
        return apply_zip(c, conf, name, zip);
    }
    if (bucket)
        return apply_hot(c, conf, bucket, aws_jstr(code, "S3Key"));
    return aws_error_set(&c->err, 400, "InvalidParameterValueException",
                         "Please provide a source for function code.");
}

/* ---- functions ---------------------------------------------------------------------------- */

static json_t *tags_json(const lambda_fn_t *fn)
{
    json_t *t = json_object();
    for (size_t i = 0; i < fn->n_tags; i++)
        json_object_set_new(t, fn->tag_keys[i], json_string(fn->tag_values[i]));
    return t;
}

static int tags_from(aws_call_t *c, lambda_fn_t *fn, const json_t *tags)
{
    size_t n = json_object_size(tags), i = 0;
    const char **k = xcalloc(n + 1, sizeof(char *)), **v = xcalloc(n + 1, sizeof(char *));
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)tags, key, val)
    {
        k[i] = key;
        v[i++] = json_string_value(val) ? json_string_value(val) : "";
    }
    int rc = lambda_tags_set(reg(c), fn, k, v, i, &c->err);
    free(k);
    free(v);
    return rc;
}

static int h_create_function(aws_call_t *c)
{
    lambda_conf_t conf = {.timeout_s = 3, .memory_mb = 128};
    const char *name = aws_jstr(c->in, "FunctionName");
    const json_t *code = json_object_get(c->in, "Code");
    lambda_ref_t ref;
    lambda_fn_t *fn;
    int rc = -1;
    if (lambda_ref_parse(name, NULL, &ref, &c->err) < 0)
        goto out;
    if (lambda_fn_get(reg(c), c->principal.account, c->region, ref.name)) {
        aws_error_set(&c->err, 409, "ResourceConflictException", "Function already exist: %s",
                      ref.name);
        goto out;
    }
    if (!aws_jstr(c->in, "Runtime") ||
        (strncmp(aws_jstr(c->in, "Runtime"), "provided", 8) && !aws_jstr(c->in, "Handler"))) {
        aws_error_set(&c->err, 400, "InvalidParameterValueException",
                      "Runtime and Handler are mandatory parameters for functions created with "
                      "deployment packages.");
        goto out;
    }
    if (apply_config(c, &conf) < 0 || apply_code(c, &conf, ref.name, code) < 0)
        goto out;
    if (lambda_fn_create(reg(c), c->principal.account, c->region, ref.name, &conf, c->now_ms, &fn,
                         &c->err) < 0)
        goto out;
    if (json_object_get(c->in, "Tags") && tags_from(c, fn, json_object_get(c->in, "Tags")) < 0)
        goto out;
    const lambda_conf_t *out = &fn->latest;
    if (json_is_true(json_object_get(c->in, "Publish")) &&
        lambda_fn_publish(reg(c), fn, NULL, NULL, NULL, c->now_ms, &out, &c->err) < 0)
        goto out;
    c->out = conf_json(fn, out, out != &fn->latest, VIEW_CREATING);
    rc = 0;
out:
    lambda_conf_free(&conf);
    return aws_call_result(rc);
}

static int h_get_function(aws_call_t *c)
{
    lambda_ref_t ref;
    lambda_fn_t *fn = fn_of(c, &ref);
    const lambda_conf_t *v = fn ? lambda_fn_resolve(fn, ref.qualifier, &c->err) : NULL;
    if (!v)
        return AWS_CALL_ERROR;
    c->out = json_pack("{s:o, s:{s:s}, s:o}", "Configuration",
                       conf_json(fn, v, ref.qualifier[0] != 0, VIEW_STEADY), "Code",
                       "RepositoryType", "S3", "Tags", tags_json(fn));
    /* AWS's Location is a presigned URL to the package; a hot-reload function's package is its
     * directory */
    if (v->hot_dir) {
        buf_t loc;
        buf_init(&loc, 0);
        buf_printf(&loc, "file://%s", v->hot_dir);
        json_object_set_new(json_object_get(c->out, "Code"), "Location", json_string(loc.data));
        buf_free(&loc);
    }
    if (fn->reserved >= 0)
        json_object_set_new(c->out, "Concurrency",
                            json_pack("{s:i}", "ReservedConcurrentExecutions", fn->reserved));
    return AWS_CALL_DONE;
}

static int h_get_function_configuration(aws_call_t *c)
{
    lambda_ref_t ref;
    lambda_fn_t *fn = fn_of(c, &ref);
    const lambda_conf_t *v = fn ? lambda_fn_resolve(fn, ref.qualifier, &c->err) : NULL;
    if (!v)
        return AWS_CALL_ERROR;
    c->out = conf_json(fn, v, ref.qualifier[0] != 0, VIEW_STEADY);
    return AWS_CALL_DONE;
}

int lambda_api_max_items(aws_call_t *c, int dflt)
{
    const json_t *m = json_object_get(c->in, "MaxItems");
    if (!m)
        return dflt;
    if (json_integer_value(m) < 1 || json_integer_value(m) > LIST_MAX)
        return lambda_api_validation(c, "maxItems", json_integer_value(m),
                                     "Member must have value less than or equal to 10000");
    return (int)json_integer_value(m);
}

static int h_list_functions(aws_call_t *c)
{
    int max = lambda_api_max_items(c, LIST_DEFAULT);
    const char *marker = aws_jstr(c->in, "Marker");
    bool all =
        aws_jstr(c->in, "FunctionVersion") && !strcmp(aws_jstr(c->in, "FunctionVersion"), "ALL");
    if (max < 0)
        return AWS_CALL_ERROR;
    const lambda_fn_t **fns = xcalloc((size_t)max + 1, sizeof(*fns));
    size_t n = lambda_fn_list(reg(c), c->principal.account, c->region, marker ? marker : "", fns,
                              (size_t)max + 1);
    json_t *list = json_array();
    for (size_t i = 0; i < n && i < (size_t)max; i++) {
        json_array_append_new(list, conf_json(fns[i], &fns[i]->latest, false, VIEW_STEADY));
        for (size_t k = 0; all && k < fns[i]->n_versions; k++)
            json_array_append_new(list, conf_json(fns[i], &fns[i]->versions[k], true, VIEW_STEADY));
    }
    c->out = json_pack("{s:o}", "Functions", list);
    if (n > (size_t)max)
        json_object_set_new(c->out, "NextMarker", json_string(fns[max - 1]->name));
    free(fns);
    return AWS_CALL_DONE;
}

static int h_list_versions(aws_call_t *c)
{
    lambda_ref_t ref;
    lambda_fn_t *fn = fn_of(c, &ref);
    int max = lambda_api_max_items(c, LIST_DEFAULT);
    const char *marker = aws_jstr(c->in, "Marker");
    if (!fn || max < 0)
        return AWS_CALL_ERROR;
    json_t *list = json_array();
    size_t total = fn->n_versions + 1, start = 0, i;
    /* $LATEST first, then versions ascending; the marker is a position */
    if (marker)
        start = (size_t)strtoul(marker, NULL, 10);
    for (i = start; i < total && i < start + (size_t)max; i++)
        json_array_append_new(list, i == 0
                                        ? conf_json(fn, &fn->latest, true, VIEW_STEADY)
                                        : conf_json(fn, &fn->versions[i - 1], true, VIEW_STEADY));
    c->out = json_pack("{s:o}", "Versions", list);
    if (i < total) {
        char m[24];
        snprintf(m, sizeof(m), "%zu", i);
        json_object_set_new(c->out, "NextMarker", json_string(m));
    }
    return AWS_CALL_DONE;
}

/* A code or configuration change: AWS refuses a stale RevisionId. */
static int revision_ok(aws_call_t *c, const lambda_fn_t *fn)
{
    const char *rev = aws_jstr(c->in, "RevisionId");
    if (rev && strcmp(rev, fn->latest.revision_id))
        return aws_error_set(&c->err, 412, "PreconditionFailedException",
                             "The Revision Id provided does not match the latest Revision Id. "
                             "Call the GetFunction/GetAlias API to retrieve the latest Revision "
                             "Id");
    return 0;
}

static void retire(aws_call_t *c, const lambda_fn_t *fn)
{
    lambda_exec_t *x = lambda_service_config(svc_of(c))->exec;
    if (x)
        lambda_exec_forget(x, fn->account, fn->region, fn->name);
}

static int update_latest(aws_call_t *c, bool code)
{
    lambda_ref_t ref;
    lambda_fn_t *fn = fn_of(c, &ref);
    lambda_conf_t conf;
    if (!fn || revision_ok(c, fn) < 0)
        return AWS_CALL_ERROR;
    lambda_conf_copy(&conf, &fn->latest);
    int rc = code ? apply_code(c, &conf, fn->name, c->in) : apply_config(c, &conf);
    if (rc == 0) {
        lambda_fn_set_latest(reg(c), fn, &conf, c->now_ms);
        retire(c, fn);
        const lambda_conf_t *out = &fn->latest;
        if (code && json_is_true(json_object_get(c->in, "Publish")))
            rc = lambda_fn_publish(reg(c), fn, NULL, NULL, NULL, c->now_ms, &out, &c->err);
        if (rc == 0)
            c->out = conf_json(fn, out, out != &fn->latest, VIEW_UPDATING);
    }
    lambda_conf_free(&conf);
    return aws_call_result(rc);
}

static int h_update_function_code(aws_call_t *c)
{
    return update_latest(c, true);
}

static int h_update_function_configuration(aws_call_t *c)
{
    return update_latest(c, false);
}

static int h_delete_function(aws_call_t *c)
{
    lambda_ref_t ref;
    lambda_fn_t *fn = fn_of(c, &ref);
    if (!fn)
        return AWS_CALL_ERROR;
    if (!ref.qualifier[0])
        retire(c, fn);
    char account[16], region[32], name[LAMBDA_NAME_MAX + 1];
    snprintf(account, sizeof(account), "%s", fn->account);
    snprintf(region, sizeof(region), "%s", fn->region);
    snprintf(name, sizeof(name), "%s", fn->name);
    if (lambda_fn_delete(reg(c), fn, ref.qualifier, &c->err) < 0)
        return AWS_CALL_ERROR;
    /* the function's (or the version's) event invoke configurations go with it */
    lambda_eic_delete(lambda_service_async(svc_of(c)), account, region, name,
                      ref.qualifier[0] ? ref.qualifier : NULL);
    c->out = json_pack("{s:i}", "StatusCode", 204);
    return AWS_CALL_DONE;
}

static int h_publish_version(aws_call_t *c)
{
    lambda_ref_t ref;
    lambda_fn_t *fn = fn_of(c, &ref);
    const lambda_conf_t *v;
    if (!fn ||
        lambda_fn_publish(reg(c), fn, aws_jstr(c->in, "Description"), aws_jstr(c->in, "CodeSha256"),
                          aws_jstr(c->in, "RevisionId"), c->now_ms, &v, &c->err) < 0)
        return AWS_CALL_ERROR;
    c->out = conf_json(fn, v, true, VIEW_STEADY);
    return AWS_CALL_DONE;
}

/* ---- aliases ------------------------------------------------------------------------------ */

static json_t *alias_json(const lambda_fn_t *fn, const lambda_alias_t *a)
{
    return json_pack("{s:s++, s:s, s:s, s:s, s:s}", "AliasArn", fn->arn, ":", a->name, "Name",
                     a->name, "FunctionVersion", a->version, "Description", a->description,
                     "RevisionId", a->revision_id);
}

static lambda_fn_t *alias_fn(aws_call_t *c)
{
    lambda_ref_t ref;
    if (lambda_ref_parse(aws_jstr(c->in, "FunctionName"), NULL, &ref, &c->err) < 0)
        return NULL;
    return lambda_fn_find(reg(c), &ref, c->principal.account, c->region, &c->err);
}

static int h_create_alias(aws_call_t *c)
{
    lambda_fn_t *fn = alias_fn(c);
    const lambda_alias_t *a;
    if (!fn ||
        lambda_alias_create(reg(c), fn, aws_jstr(c->in, "Name"), aws_jstr(c->in, "FunctionVersion"),
                            aws_jstr(c->in, "Description"), &a, &c->err) < 0)
        return AWS_CALL_ERROR;
    c->out = alias_json(fn, a);
    return AWS_CALL_DONE;
}

static int h_get_alias(aws_call_t *c)
{
    lambda_fn_t *fn = alias_fn(c);
    const lambda_alias_t *a = fn ? lambda_alias_get(fn, aws_jstr(c->in, "Name")) : NULL;
    if (fn && !a)
        aws_error_set(&c->err, 404, "ResourceNotFoundException", "Alias not found: %s:%s", fn->arn,
                      aws_jstr(c->in, "Name"));
    if (!a)
        return AWS_CALL_ERROR;
    c->out = alias_json(fn, a);
    return AWS_CALL_DONE;
}

static int h_update_alias(aws_call_t *c)
{
    lambda_fn_t *fn = alias_fn(c);
    const lambda_alias_t *a;
    if (!fn || lambda_alias_update(
                   reg(c), fn, aws_jstr(c->in, "Name"), aws_jstr(c->in, "FunctionVersion"),
                   aws_jstr(c->in, "Description"), aws_jstr(c->in, "RevisionId"), &a, &c->err) < 0)
        return AWS_CALL_ERROR;
    c->out = alias_json(fn, a);
    return AWS_CALL_DONE;
}

static int h_delete_alias(aws_call_t *c)
{
    lambda_fn_t *fn = alias_fn(c);
    return aws_call_result(fn ? lambda_alias_delete(reg(c), fn, aws_jstr(c->in, "Name"), &c->err)
                              : -1);
}

static int h_list_aliases(aws_call_t *c)
{
    lambda_fn_t *fn = alias_fn(c);
    const char *ver = aws_jstr(c->in, "FunctionVersion"), *marker = aws_jstr(c->in, "Marker");
    int max = lambda_api_max_items(c, LIST_DEFAULT);
    if (!fn || max < 0)
        return AWS_CALL_ERROR;
    json_t *list = json_array();
    size_t i = marker ? (size_t)strtoul(marker, NULL, 10) : 0, n = 0;
    for (; i < fn->n_aliases && n < (size_t)max; i++) {
        if (ver && strcmp(ver, fn->aliases[i].version))
            continue;
        json_array_append_new(list, alias_json(fn, &fn->aliases[i]));
        n++;
    }
    c->out = json_pack("{s:o}", "Aliases", list);
    if (i < fn->n_aliases) {
        char m[24];
        snprintf(m, sizeof(m), "%zu", i);
        json_object_set_new(c->out, "NextMarker", json_string(m));
    }
    return AWS_CALL_DONE;
}

/* ---- concurrency -------------------------------------------------------------------------- */

static int h_put_function_concurrency(aws_call_t *c)
{
    lambda_fn_t *fn = alias_fn(c);
    json_int_t n = json_integer_value(json_object_get(c->in, "ReservedConcurrentExecutions"));
    if (!fn)
        return AWS_CALL_ERROR;
    if (n < 0)
        return aws_call_result(
            lambda_api_validation(c, "reservedConcurrentExecutions", n,
                                  "Member must have value greater than or equal to 0"));
    if (lambda_fn_set_reserved(reg(c), fn, (int)n, &c->err) < 0)
        return AWS_CALL_ERROR;
    c->out = json_pack("{s:i}", "ReservedConcurrentExecutions", (int)n);
    return AWS_CALL_DONE;
}

static int h_get_function_concurrency(aws_call_t *c)
{
    lambda_fn_t *fn = alias_fn(c);
    if (!fn)
        return AWS_CALL_ERROR;
    c->out = fn->reserved >= 0 ? json_pack("{s:i}", "ReservedConcurrentExecutions", fn->reserved)
                               : json_object();
    return AWS_CALL_DONE;
}

static int h_delete_function_concurrency(aws_call_t *c)
{
    lambda_fn_t *fn = alias_fn(c);
    return aws_call_result(fn ? lambda_fn_set_reserved(reg(c), fn, -1, &c->err) : -1);
}

/* ---- resource policy ---------------------------------------------------------------------- */

/* The statement's Principal as AWS writes it: a service, an account root, an ARN, or "*". */
static json_t *principal_json(const char *p)
{
    size_t n = strlen(p);
    bool digits = n == 12;
    for (size_t i = 0; digits && i < n; i++)
        digits = isdigit((unsigned char)p[i]);
    if (!strcmp(p, "*"))
        return json_string("*");
    if (digits)
        return json_pack("{s:s++}", "AWS", "arn:aws:iam::", p, ":root");
    if (!strncmp(p, "arn:", 4))
        return json_pack("{s:s}", "AWS", p);
    return json_pack("{s:s}", "Service", p);
}

static json_t *statement_json(aws_call_t *c, const lambda_fn_t *fn, const char *qualifier)
{
    const json_t *in = c->in;
    json_t *cond = json_object(), *eq = json_object();
    char res[240];
    snprintf(res, sizeof(res), "%s%s%s", fn->arn, *qualifier ? ":" : "", qualifier);
    if (aws_jstr(in, "SourceAccount"))
        json_object_set_new(eq, "AWS:SourceAccount", json_string(aws_jstr(in, "SourceAccount")));
    if (aws_jstr(in, "EventSourceToken"))
        json_object_set_new(eq, "lambda:EventSourceToken",
                            json_string(aws_jstr(in, "EventSourceToken")));
    if (aws_jstr(in, "PrincipalOrgID"))
        json_object_set_new(eq, "aws:PrincipalOrgID", json_string(aws_jstr(in, "PrincipalOrgID")));
    if (aws_jstr(in, "FunctionUrlAuthType"))
        json_object_set_new(eq, "lambda:FunctionUrlAuthType",
                            json_string(aws_jstr(in, "FunctionUrlAuthType")));
    if (json_object_size(eq))
        json_object_set(cond, "StringEquals", eq);
    if (aws_jstr(in, "SourceArn"))
        json_object_set_new(cond, "ArnLike",
                            json_pack("{s:s}", "AWS:SourceArn", aws_jstr(in, "SourceArn")));
    json_t *st =
        json_pack("{s:s, s:s, s:o, s:s, s:s}", "Sid", aws_jstr(in, "StatementId"), "Effect",
                  "Allow", "Principal", principal_json(aws_jstr(in, "Principal")), "Action",
                  aws_jstr(in, "Action"), "Resource", res);
    if (json_object_size(cond))
        json_object_set(st, "Condition", cond);
    json_decref(cond);
    json_decref(eq);
    return st;
}

static bool action_valid(const char *a)
{
    if (!strcmp(a, "*") || !strcmp(a, "lambda:*"))
        return true;
    if (strncmp(a, "lambda:", 7) || !a[7])
        return false;
    for (const char *p = a + 7; *p; p++)
        if (!isalpha((unsigned char)*p) && *p != '*')
            return false;
    return true;
}

/* The qualifier a policy action names must exist (a version or alias). */
static int policy_target(aws_call_t *c, lambda_fn_t **fn, lambda_ref_t *ref)
{
    *fn = fn_of(c, ref);
    if (!*fn)
        return -1;
    if (ref->qualifier[0] && !lambda_fn_resolve(*fn, ref->qualifier, &c->err))
        return -1;
    if (!strcmp(ref->qualifier, "$LATEST"))
        ref->qualifier[0] = '\0';
    return 0;
}

static int h_add_permission(aws_call_t *c)
{
    lambda_ref_t ref;
    lambda_fn_t *fn;
    const char *sid = aws_jstr(c->in, "StatementId"), *action = aws_jstr(c->in, "Action");
    if (policy_target(c, &fn, &ref) < 0)
        return AWS_CALL_ERROR;
    if (!lambda_name_valid(sid) && !strchr(sid, '.'))
        return aws_call_result(
            aws_error_set(&c->err, 400, "ValidationException",
                          "1 validation error detected: Value '%.100s' at 'statementId' "
                          "failed to satisfy constraint: Member must satisfy regular "
                          "expression pattern: ([a-zA-Z0-9-_.]+)",
                          sid));
    if (!action_valid(action))
        return aws_call_result(
            aws_error_set(&c->err, 400, "ValidationException",
                          "1 validation error detected: Value '%.100s' at 'action' failed "
                          "to satisfy constraint: Member must satisfy regular expression "
                          "pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])",
                          action));
    json_t *st = statement_json(c, fn, ref.qualifier);
    char *text = json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER);
    int rc = lambda_policy_add(reg(c), fn, ref.qualifier, sid, text, aws_jstr(c->in, "RevisionId"),
                               &c->err);
    if (rc == 0)
        c->out = json_pack("{s:s}", "Statement", text);
    free(text);
    json_decref(st);
    return aws_call_result(rc);
}

static int h_remove_permission(aws_call_t *c)
{
    lambda_ref_t ref;
    lambda_fn_t *fn;
    if (policy_target(c, &fn, &ref) < 0)
        return AWS_CALL_ERROR;
    return aws_call_result(lambda_policy_remove(reg(c), fn, ref.qualifier,
                                                aws_jstr(c->in, "StatementId"),
                                                aws_jstr(c->in, "RevisionId"), &c->err));
}

static int h_get_policy(aws_call_t *c)
{
    lambda_ref_t ref;
    lambda_fn_t *fn;
    if (policy_target(c, &fn, &ref) < 0)
        return AWS_CALL_ERROR;
    char *doc = lambda_policy_render(fn, ref.qualifier);
    if (!doc)
        return aws_call_result(aws_error_set(&c->err, 404, "ResourceNotFoundException",
                                             "The resource you requested does not exist."));
    c->out = json_pack("{s:s, s:s}", "Policy", doc, "RevisionId", fn->policy_revision);
    free(doc);
    return AWS_CALL_DONE;
}

/* ---- tags and account --------------------------------------------------------------------- */

static lambda_fn_t *tagged_fn(aws_call_t *c)
{
    lambda_ref_t ref;
    const char *r = aws_jstr(c->in, "Resource");
    if (!r || strncmp(r, "arn:aws:lambda:", 15) || lambda_ref_parse(r, NULL, &ref, &c->err) < 0) {
        aws_error_set(&c->err, 400, "ValidationException",
                      "1 validation error detected: Value '%.200s' at 'resource' failed to "
                      "satisfy constraint: Member must satisfy regular expression pattern: "
                      "arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:"
                      "\\d{12}:function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
                      r ? r : "");
        return NULL;
    }
    lambda_fn_t *fn = lambda_fn_find(reg(c), &ref, c->principal.account, c->region, &c->err);
    if (fn && ref.qualifier[0]) {
        aws_error_set(&c->err, 400, "InvalidParameterValueException",
                      "Tags are not supported on function versions or aliases.");
        return NULL;
    }
    return fn;
}

static int h_tag_resource(aws_call_t *c)
{
    lambda_fn_t *fn = tagged_fn(c);
    return aws_call_result(fn ? tags_from(c, fn, json_object_get(c->in, "Tags")) : -1);
}

static int h_untag_resource(aws_call_t *c)
{
    lambda_fn_t *fn = tagged_fn(c);
    const json_t *keys = json_object_get(c->in, "TagKeys");
    if (!fn)
        return AWS_CALL_ERROR;
    size_t n = json_array_size(keys);
    const char **k = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        k[i] = json_string_value(json_array_get(keys, i))
                   ? json_string_value(json_array_get(keys, i))
                   : "";
    lambda_tags_remove(reg(c), fn, k, n);
    free(k);
    return AWS_CALL_DONE;
}

static int h_list_tags(aws_call_t *c)
{
    lambda_fn_t *fn = tagged_fn(c);
    if (!fn)
        return AWS_CALL_ERROR;
    c->out = json_pack("{s:o}", "Tags", tags_json(fn));
    return AWS_CALL_DONE;
}

static int h_get_account_settings(aws_call_t *c)
{
    size_t n;
    uint64_t bytes;
    lambda_reg_usage(reg(c), c->principal.account, c->region, &n, &bytes);
    c->out = json_pack(
        "{s:{s:I, s:I, s:I, s:i, s:i}, s:{s:I, s:I}}", "AccountLimit", "TotalCodeSize",
        (json_int_t)LAMBDA_STORAGE_LIMIT, "CodeSizeUnzipped", (json_int_t)LAMBDA_CODE_UNZIP_MAX,
        "CodeSizeZipped", (json_int_t)LAMBDA_CODE_ZIP_MAX, "ConcurrentExecutions",
        LAMBDA_ACCOUNT_LIMIT, "UnreservedConcurrentExecutions",
        lambda_reg_unreserved(reg(c), c->principal.account, c->region), "AccountUsage",
        "TotalCodeSize", (json_int_t)bytes, "FunctionCount", (json_int_t)n);
    return AWS_CALL_DONE;
}

/* ---- invoke ------------------------------------------------------------------------------- */

static void invoke_cb(void *ud, const lambda_result_t *r)
{
    aws_call_t *c = ud;
    char *b64 = xmalloc(b64_encoded_len(r->payload_len) + 1);
    b64_encode_into(r->payload, r->payload_len, b64);
    c->out = json_pack("{s:i, s:s}", "StatusCode", r->status ? r->status : 200, "Payload", b64);
    free(b64);
    if (r->function_error)
        json_object_set_new(c->out, "FunctionError", json_string(r->function_error));
    if (r->executed_version)
        json_object_set_new(c->out, "ExecutedVersion", json_string(r->executed_version));
    if (r->log_tail && json_is_object(c->out)) {
        size_t n = strlen(r->log_tail);
        char *t = xmalloc(b64_encoded_len(n) + 1);
        b64_encode_into(r->log_tail, n, t);
        json_object_set_new(c->out, "LogResult", json_string(t));
        free(t);
    }
    aws_call_finish(c);
}

static int payload_of(aws_call_t *c, char **out, size_t *len, size_t max)
{
    const char *b64 = aws_jstr(c->in, "Payload");
    size_t n = 0;
    *out = NULL;
    *len = 0;
    if (!b64)
        return 0;
    char *p = xmalloc(b64_decoded_max(strlen(b64)) + 1);
    b64_decode(b64, strlen(b64), (uint8_t *)p, &n);
    if (n > max) {
        free(p);
        return aws_error_set(&c->err, 413, "RequestEntityTooLargeException",
                             "Request must be smaller than %zu bytes for the InvokeFunction "
                             "operation",
                             max);
    }
    json_error_t jerr;
    json_t *doc = n ? json_loadb(p, n, JSON_DECODE_ANY, &jerr) : NULL;
    if (n && !doc) {
        free(p);
        return aws_error_set(&c->err, 400, "InvalidRequestContentException",
                             "Could not parse request body into json: Could not parse payload "
                             "into json: %s",
                             jerr.text);
    }
    json_decref(doc);
    *out = p;
    *len = n;
    return 0;
}

/* X-Amz-Client-Context: up to 3,583 bytes of base64 holding a JSON object, which the runtime
 * gets decoded (Lambda-Runtime-Client-Context). *out NULL when absent. */
static int client_context_of(aws_call_t *c, char **out)
{
    const char *b64 = aws_jstr(c->in, "ClientContext");
    size_t n = 0, blen = b64 ? strlen(b64) : 0;
    *out = NULL;
    if (!b64)
        return 0;
    if (blen > CLIENT_CONTEXT_MAX)
        return aws_error_set(&c->err, 400, "InvalidParameterValueException",
                             "Client context must be %d bytes or less when base64 encoded",
                             CLIENT_CONTEXT_MAX);
    char *p = xmalloc(b64_decoded_max(blen) + 1);
    json_t *doc = NULL;
    if (b64_decode(b64, blen, (uint8_t *)p, &n) == 0) {
        p[n] = 0;
        doc = json_loadb(p, n, 0, NULL);
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        free(p);
        return aws_error_set(&c->err, 400, "InvalidRequestContentException",
                             "Client context must be a valid Base64-encoded JSON object.");
    }
    json_decref(doc);
    *out = p;
    return 0;
}

static int h_invoke(aws_call_t *c)
{
    lambda_ref_t ref;
    lambda_fn_t *fn = fn_of(c, &ref);
    const lambda_conf_t *v = fn ? lambda_fn_resolve(fn, ref.qualifier, &c->err) : NULL;
    const char *type = aws_jstr(c->in, "InvocationType");
    bool event = type && !strcmp(type, "Event"), dry = type && !strcmp(type, "DryRun");
    char *payload = NULL, *cc = NULL;
    size_t len;
    if (!v || client_context_of(c, &cc) < 0 ||
        payload_of(c, &payload, &len, event ? ASYNC_PAYLOAD_MAX : SYNC_PAYLOAD_MAX) < 0) {
        free(cc);
        return AWS_CALL_ERROR;
    }
    if (dry) {
        free(cc);
        free(payload);
        c->out = json_pack("{s:i}", "StatusCode", 204);
        return AWS_CALL_DONE;
    }
    lambda_exec_t *x = lambda_service_config(svc_of(c))->exec;
    if (!x) {
        free(cc);
        free(payload);
        return aws_call_result(
            aws_error_set(&c->err, 500, "ServiceException",
                          "Function execution is not available in this server."));
    }
    const char *log = aws_jstr(c->in, "LogType");
    int rc;
    if (event) {
        /* stored durably (the gateway holds the 202 for the commit), run once committed */
        lambda_service_enqueue(svc_of(c), fn, ref.qualifier, c->request_id, payload, len,
                               c->now_ms);
        rc = 0;
    } else {
        /* AWS passes the client context to synchronous invocations only */
        lambda_invoke_opts_t opts = {log && !strcmp(log, "Tail"), cc};
        rc = lambda_service_invoke(svc_of(c), fn, ref.qualifier, v, payload, len, &opts, invoke_cb,
                                   c, &c->err);
    }
    free(cc);
    free(payload);
    if (rc < 0)
        return AWS_CALL_ERROR;
    if (event) {
        c->out = json_pack("{s:i}", "StatusCode", 202);
        return AWS_CALL_DONE;
    }
    return AWS_CALL_PENDING;
}

/* ---- event invoke configuration ----------------------------------------------------------- */

static json_t *eic_json(const lambda_fn_t *fn, const lambda_eic_t *e)
{
    json_t *o = json_object(), *dest = json_object();
    char arn[240];
    snprintf(arn, sizeof(arn), "%s:%s", fn->arn, e->qualifier);
    json_object_set_new(o, "LastModified", json_real((double)e->last_modified_ms / 1000.0));
    json_object_set_new(o, "FunctionArn", json_string(arn));
    if (e->max_retry >= 0)
        json_object_set_new(o, "MaximumRetryAttempts", json_integer(e->max_retry));
    if (e->max_age_s >= 0)
        json_object_set_new(o, "MaximumEventAgeInSeconds", json_integer(e->max_age_s));
    json_object_set_new(dest, "OnSuccess",
                        e->on_success ? json_pack("{s:s}", "Destination", e->on_success)
                                      : json_object());
    json_object_set_new(dest, "OnFailure",
                        e->on_failure ? json_pack("{s:s}", "Destination", e->on_failure)
                                      : json_object());
    json_object_set_new(o, "DestinationConfig", dest);
    return o;
}

/* A destination is an SQS queue or a Lambda function here (AWS also takes SNS
 * topics, EventBridge buses and S3 buckets, which nagare does not serve). */
static int dest_of(aws_call_t *c, const json_t *dc, const char *which, const char **out)
{
    const json_t *d = json_object_get(dc, which);
    const char *arn = d ? aws_jstr(d, "Destination") : NULL;
    *out = d ? (arn ? arn : "") : NULL;
    if (!arn || !*arn || !strncmp(arn, "arn:aws:sqs:", 12) || !strncmp(arn, "arn:aws:lambda:", 15))
        return 0;
    return aws_error_set(&c->err, 400, "InvalidParameterValueException",
                         "The destination ARN %s is invalid.", arn);
}

static int put_eic(aws_call_t *c, bool update)
{
    lambda_ref_t ref;
    lambda_fn_t *fn = fn_of(c, &ref);
    const json_t *r = json_object_get(c->in, "MaximumRetryAttempts"),
                 *a = json_object_get(c->in, "MaximumEventAgeInSeconds"),
                 *dc = json_object_get(c->in, "DestinationConfig");
    lambda_eic_in_t in = {r ? (int)json_integer_value(r) : -1, a ? (int)json_integer_value(a) : -1,
                          NULL, NULL, dc != NULL};
    const lambda_eic_t *e;
    if (!fn || !lambda_fn_resolve(fn, ref.qualifier, &c->err))
        return AWS_CALL_ERROR;
    if (r && json_integer_value(r) < 0)
        return aws_call_result(
            lambda_api_validation(c, "maximumRetryAttempts", json_integer_value(r),
                                  "Member must have value greater than or equal to 0"));
    if (dc && (dest_of(c, dc, "OnSuccess", &in.on_success) < 0 ||
               dest_of(c, dc, "OnFailure", &in.on_failure) < 0))
        return AWS_CALL_ERROR;
    const char *dests[2] = {in.on_success, in.on_failure};
    for (size_t i = 0; i < 2; i++)
        if (dests[i] && *dests[i] &&
            !lambda_service_may_deliver(svc_of(c), fn->account, fn->region, fn->name,
                                        lambda_fn_resolve(fn, ref.qualifier, &c->err)->role,
                                        dests[i]))
            return aws_call_result(aws_error_set(
                &c->err, 400, "InvalidParameterValueException",
                "The function's execution role does not have permissions to call %s on %s",
                strncmp(dests[i], "arn:aws:sqs:", 12) ? "InvokeFunction" : "SendMessage",
                dests[i]));
    if (lambda_eic_put(lambda_service_async(svc_of(c)), fn->account, fn->region, fn->name,
                       ref.qualifier, &in, update, c->now_ms, &e, &c->err) < 0)
        return AWS_CALL_ERROR;
    c->out = eic_json(fn, e);
    return AWS_CALL_DONE;
}

static int h_put_eic(aws_call_t *c)
{
    return put_eic(c, false);
}

static int h_update_eic(aws_call_t *c)
{
    return put_eic(c, true);
}

static int eic_missing(aws_call_t *c, const lambda_fn_t *fn, const char *qualifier)
{
    return aws_error_set(&c->err, 404, "ResourceNotFoundException",
                         "The function %s:%s doesn't have an EventInvokeConfig", fn->arn,
                         qualifier[0] ? qualifier : "$LATEST");
}

static int h_get_eic(aws_call_t *c)
{
    lambda_ref_t ref;
    lambda_fn_t *fn = fn_of(c, &ref);
    if (!fn || !lambda_fn_resolve(fn, ref.qualifier, &c->err))
        return AWS_CALL_ERROR;
    const lambda_eic_t *e = lambda_eic_get(lambda_service_async(svc_of(c)), fn->account, fn->region,
                                           fn->name, ref.qualifier);
    if (!e)
        return aws_call_result(eic_missing(c, fn, ref.qualifier));
    c->out = eic_json(fn, e);
    return AWS_CALL_DONE;
}

static int h_delete_eic(aws_call_t *c)
{
    lambda_ref_t ref;
    lambda_fn_t *fn = fn_of(c, &ref);
    if (!fn || !lambda_fn_resolve(fn, ref.qualifier, &c->err))
        return AWS_CALL_ERROR;
    if (lambda_eic_delete(lambda_service_async(svc_of(c)), fn->account, fn->region, fn->name,
                          ref.qualifier) < 0)
        return aws_call_result(eic_missing(c, fn, ref.qualifier));
    c->out = json_pack("{s:i}", "StatusCode", 204);
    return AWS_CALL_DONE;
}

#define EIC_LIST_MAX 50

static int h_list_eic(aws_call_t *c)
{
    lambda_ref_t ref;
    lambda_fn_t *fn = fn_of(c, &ref);
    const json_t *mi = json_object_get(c->in, "MaxItems");
    const char *marker = aws_jstr(c->in, "Marker");
    const lambda_eic_t *all[256];
    if (!fn)
        return AWS_CALL_ERROR;
    long long max = mi ? json_integer_value(mi) : EIC_LIST_MAX;
    if (max < 1 || max > EIC_LIST_MAX)
        return aws_call_result(
            lambda_api_validation(c, "maxItems", max,
                                  max < 1 ? "Member must have value greater than or equal to 1"
                                          : "Member must have value less than or equal to 50"));
    size_t n = lambda_eic_list(lambda_service_async(svc_of(c)), fn->account, fn->region, fn->name,
                               all, sizeof(all) / sizeof(all[0]));
    size_t i = marker ? (size_t)strtoul(marker, NULL, 10) : 0;
    json_t *list = json_array();
    for (; i < n && json_array_size(list) < (size_t)max; i++)
        json_array_append_new(list, eic_json(fn, all[i]));
    c->out = json_pack("{s:o}", "FunctionEventInvokeConfigs", list);
    if (i < n) {
        char m[24];
        snprintf(m, sizeof(m), "%zu", i);
        json_object_set_new(c->out, "NextMarker", json_string(m));
    }
    return AWS_CALL_DONE;
}

/* ---- the table ---------------------------------------------------------------------------- */

const aws_action_t lambda_actions[] = {
    {"AddPermission", "lambda:AddPermission", res_function, h_add_permission},
    {"CreateAlias", "lambda:CreateAlias", res_function_only, h_create_alias},
    {"CreateEventSourceMapping", "lambda:CreateEventSourceMapping", lambda_api_res_any,
     lambda_api_create_esm},
    {"CreateFunction", "lambda:CreateFunction", res_function_only, h_create_function},
    {"DeleteEventSourceMapping", "lambda:DeleteEventSourceMapping", lambda_api_res_esm,
     lambda_api_delete_esm},
    {"DeleteAlias", "lambda:DeleteAlias", res_function_only, h_delete_alias},
    {"DeleteFunction", "lambda:DeleteFunction", res_function, h_delete_function},
    {"DeleteFunctionEventInvokeConfig", "lambda:DeleteFunctionEventInvokeConfig", res_function,
     h_delete_eic},
    {"DeleteFunctionConcurrency", "lambda:DeleteFunctionConcurrency", res_function_only,
     h_delete_function_concurrency},
    {"GetAccountSettings", "lambda:GetAccountSettings", lambda_api_res_any, h_get_account_settings},
    {"GetAlias", "lambda:GetAlias", res_function_only, h_get_alias},
    {"GetEventSourceMapping", "lambda:GetEventSourceMapping", lambda_api_res_esm,
     lambda_api_get_esm},
    {"GetFunction", "lambda:GetFunction", res_function, h_get_function},
    {"GetFunctionConcurrency", "lambda:GetFunctionConcurrency", res_function_only,
     h_get_function_concurrency},
    {"GetFunctionConfiguration", "lambda:GetFunctionConfiguration", res_function,
     h_get_function_configuration},
    {"GetFunctionEventInvokeConfig", "lambda:GetFunctionEventInvokeConfig", res_function,
     h_get_eic},
    {"GetPolicy", "lambda:GetPolicy", res_function, h_get_policy},
    {"Invoke", "lambda:InvokeFunction", res_function, h_invoke},
    {"ListAliases", "lambda:ListAliases", res_function_only, h_list_aliases},
    {"ListEventSourceMappings", "lambda:ListEventSourceMappings", lambda_api_res_any,
     lambda_api_list_esm},
    {"ListFunctionEventInvokeConfigs", "lambda:ListFunctionEventInvokeConfigs", res_function_only,
     h_list_eic},
    {"ListFunctions", "lambda:ListFunctions", lambda_api_res_any, h_list_functions},
    {"ListTags", "lambda:ListTags", res_tagged, h_list_tags},
    {"ListVersionsByFunction", "lambda:ListVersionsByFunction", res_function_only, h_list_versions},
    {"PublishVersion", "lambda:PublishVersion", res_function_only, h_publish_version},
    {"PutFunctionConcurrency", "lambda:PutFunctionConcurrency", res_function_only,
     h_put_function_concurrency},
    {"PutFunctionEventInvokeConfig", "lambda:PutFunctionEventInvokeConfig", res_function,
     h_put_eic},
    {"RemovePermission", "lambda:RemovePermission", res_function, h_remove_permission},
    {"TagResource", "lambda:TagResource", res_tagged, h_tag_resource},
    {"UntagResource", "lambda:UntagResource", res_tagged, h_untag_resource},
    {"UpdateAlias", "lambda:UpdateAlias", res_function_only, h_update_alias},
    {"UpdateEventSourceMapping", "lambda:UpdateEventSourceMapping", lambda_api_res_esm,
     lambda_api_update_esm},
    {"UpdateFunctionEventInvokeConfig", "lambda:UpdateFunctionEventInvokeConfig", res_function,
     h_update_eic},
    {"UpdateFunctionCode", "lambda:UpdateFunctionCode", res_function_only, h_update_function_code},
    {"UpdateFunctionConfiguration", "lambda:UpdateFunctionConfiguration", res_function_only,
     h_update_function_configuration},
};
const size_t lambda_n_actions = sizeof(lambda_actions) / sizeof(lambda_actions[0]);
