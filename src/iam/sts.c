/*
 * sts — see sts.h. Thin handlers: decode → directory/session → encode.
 *
 * AssumeRole is authorized by the gateway like any action: the caller's
 * policies for sts:AssumeRole on the role, and the role's trust policy as the
 * resource-based policy (resource_info below hands it over compiled), which
 * must allow in every case (IAM's rule for trust policies). Session tags need
 * sts:TagSession too, decided here the same way. The handler then checks
 * AssumeRole's own rules and issues the credentials (session.h).
 */
#include "iam/sts.h"
#include "base/clock.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STS_MAX_BODY        (64 * 1024)
#define SESSION_MIN         900
#define CHAINED_SESSION_MAX 3600 /* a role session assuming a role (role chaining) */

struct iam_sts {
    iam_identity_t *ids;
    iam_dir_t *dir;
    iam_authz_t *authz;
    aws_service_t gateway;
};

static iam_sts_t *sts_of(const aws_call_t *c)
{
    return c->svc->state;
}

static json_t *iso_date(int64_t ms)
{
    char b[24];
    clock_iso8601((uint64_t)ms, b);
    return json_string(b);
}

/* ---- resources ---- */

static int res_any(aws_call_t *c, buf_t *arn)
{
    (void)c;
    buf_puts(arn, "*");
    return 0;
}

static int res_role(aws_call_t *c, buf_t *arn)
{
    const char *role = aws_jstr(c->in, "RoleArn");
    buf_puts(arn, role ? role : "");
    return 0;
}

/* The gateway's resource_info: a role's trust policy, compiled. */
static void sts_resource_info(void *state, const char *arn, aws_resource_info_t *out)
{
    iam_sts_t *sts = state;
    memset(out, 0, sizeof(*out));
    if (strncmp(arn, "arn:aws:iam::", 13))
        return;
    const iam_dir_role_t *role = iam_dir_role_get(sts->dir, "", arn);
    if (role)
        out->compiled = role->trust;
}

/* ---- GetCallerIdentity ---- */

/* Who the request's credentials are (AWS requires no permission for it; authz
 * says so for the record). */
static int h_get_caller_identity(aws_call_t *c)
{
    c->out = json_pack("{s:s, s:s, s:s}", "UserId", c->principal.user_id, "Account",
                       c->principal.account, "Arn", c->principal.arn);
    return AWS_CALL_DONE;
}

/* ---- AssumeRole ---- */

/* STS's model-validation error for one member. */
static int validation(aws_call_t *c, const char *value, const char *member, const char *constraint)
{
    return aws_error_set(&c->err, 400, "ValidationError",
                         "1 validation error detected: Value '%.128s' at '%s' failed to satisfy "
                         "constraint: %s",
                         value, member, constraint);
}

static bool session_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 2 && n <= 64 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-") == n;
}

/* The caller must also be allowed sts:TagSession to pass session tags. */
static int tag_session_allowed(aws_call_t *c, const iam_dir_role_t *role)
{
    iam_decision_t d;
    buf_t msg;
    buf_init(&msg, 2048);
    iam_authz_in_t in = {.who = &c->principal,
                         .action = "sts:TagSession",
                         .resource = role->e.arn,
                         .region = c->region,
                         .source_ip = c->http->peer,
                         .now_ms = c->now_ms,
                         .resource_policy_compiled = role->trust};
    iam_authorize(sts_of(c)->authz, &in, &d, &msg);
    int rc = d.allowed ? 0 : aws_error_set(&c->err, 403, "AccessDenied", "%s", msg.data);
    buf_free(&msg);
    return rc;
}

/* The session to issue, from the request; -1 with c->err. */
static int session_of(aws_call_t *c, const iam_dir_role_t *role, iam_session_t *s)
{
    const char *name = aws_jstr(c->in, "RoleSessionName");
    const char *policy = aws_jstr(c->in, "Policy");
    const json_t *arns = json_object_get(c->in, "PolicyArns");
    const json_t *tags = json_object_get(c->in, "Tags");
    json_int_t duration = json_integer_value(json_object_get(c->in, "DurationSeconds"));
    int max = c->principal.kind == IAM_PRINCIPAL_SESSION ? CHAINED_SESSION_MAX : role->max_session;
    if (!json_object_get(c->in, "DurationSeconds"))
        duration = 3600 < max ? 3600 : max;
    memset(s, 0, sizeof(*s));
    if (!session_name_ok(name))
        return validation(c, name ? name : "", "roleSessionName",
                          "Member must satisfy regular expression pattern: [\\w+=,.@-]* and "
                          "have length between 2 and 64");
    if (duration < SESSION_MIN)
        return validation(c, "", "durationSeconds",
                          "Member must have value greater than or equal to 900");
    if (duration > max)
        return aws_error_set(&c->err, 400, "ValidationError",
                             "The requested DurationSeconds exceeds the %s set for this role.",
                             c->principal.kind == IAM_PRINCIPAL_SESSION
                                 ? "1 hour session limit for roles assumed by role chaining"
                                 : "MaxSessionDuration");
    if (policy && iam_policy_size(policy, strlen(policy)) > IAM_POLICY_MAX_SESSION)
        return aws_error_set(&c->err, 400, "PackedPolicyTooLarge",
                             "Packed size of the session policy exceeds the limit.");
    if (policy) {
        iam_policy_t *p;
        iam_policy_error_t perr;
        if (iam_policy_parse(policy, strlen(policy), IAM_POLICY_SESSION, &p, &perr) < 0)
            return aws_error_set(&c->err, 400, "MalformedPolicyDocument", "%s", perr.message);
        iam_policy_free(p);
    }
    if (json_array_size(arns) > IAM_SESSION_ARNS_MAX ||
        json_array_size(tags) > IAM_SESSION_TAGS_MAX)
        return aws_error_set(&c->err, 400, "ValidationError",
                             "1 validation error detected: too many PolicyArns or Tags.");
    snprintf(s->account, sizeof(s->account), "%s", role->e.account);
    snprintf(s->role_arn, sizeof(s->role_arn), "%s", role->e.arn);
    snprintf(s->role_id, sizeof(s->role_id), "%s", role->e.id);
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->issued_ms = (int64_t)c->now_ms;
    s->expires_ms = (int64_t)c->now_ms + duration * 1000;
    s->policy = policy ? xstrdup(policy) : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(arns, i, v)
    {
        const char *arn = aws_jstr(v, "arn");
        if (arn)
            s->policy_arns[s->n_policy_arns++] = xstrdup(arn);
    }
    json_array_foreach(tags, i, v)
    {
        const char *k = aws_jstr(v, "Key"), *val = aws_jstr(v, "Value");
        if (!k)
            continue;
        s->tag_keys[s->n_tags] = xstrdup(k);
        s->tag_values[s->n_tags++] = xstrdup(val ? val : "");
    }
    return 0;
}

static int h_assume_role(aws_call_t *c)
{
    iam_sts_t *sts = sts_of(c);
    iam_session_t s;
    char secret[41];
    if (c->principal.kind == IAM_PRINCIPAL_ROOT)
        return aws_error_set(&c->err, 403, "AccessDenied",
                             "Roles may not be assumed by root accounts.");
    const iam_dir_role_t *role = iam_dir_role_get(sts->dir, c->principal.account, c->resource);
    const uint8_t *key = iam_identity_token_key(sts->ids);
    if (!role || !key)
        return aws_error_set(&c->err, 403, "AccessDenied",
                             "User: %s is not authorized to perform: sts:AssumeRole on resource: "
                             "%s",
                             c->principal.arn, c->resource);
    if (json_array_size(json_object_get(c->in, "Tags")) && tag_session_allowed(c, role) < 0)
        return AWS_CALL_ERROR;
    if (session_of(c, role, &s) < 0) {
        iam_session_clear(&s);
        return AWS_CALL_ERROR;
    }
    buf_t token;
    buf_init(&token, 0);
    iam_session_issue(key, &s, secret, &token);
    char user[256], arn[512];
    const char *slash = strrchr(role->e.arn, '/');
    snprintf(user, sizeof(user), "%s:%s", role->e.id, s.name);
    snprintf(arn, sizeof(arn), "arn:aws:sts::%s:assumed-role/%s/%s", s.account,
             slash ? slash + 1 : role->e.name, s.name);
    c->out =
        json_pack("{s:{s:s, s:s, s:s, s:o}, s:{s:s, s:s}}", "Credentials", "AccessKeyId",
                  s.access_key, "SecretAccessKey", secret, "SessionToken", token.data, "Expiration",
                  iso_date(s.expires_ms), "AssumedRoleUser", "AssumedRoleId", user, "Arn", arn);
    if (s.policy || s.n_policy_arns || s.n_tags) {
        /* PackedPolicySize: the percentage of the packed limit used. AWS packs
         * (compresses) policies and tags in its own format; this counts the
         * policy's characters without white space, and a fixed allowance per
         * policy ARN and tag: an estimate, as the value is in AWS. */
        size_t used = (s.policy ? iam_policy_size(s.policy, strlen(s.policy)) : 0) +
                      80 * s.n_policy_arns + 64 * s.n_tags;
        json_object_set_new(c->out, "PackedPolicySize",
                            json_integer((json_int_t)(used * 100 / IAM_POLICY_MAX_SESSION)));
    }
    buf_free(&token);
    iam_session_clear(&s);
    return AWS_CALL_DONE;
}

static const aws_action_t sts_actions[] = {
    {"AssumeRole", "sts:AssumeRole", res_role, h_assume_role},
    {"GetCallerIdentity", "sts:GetCallerIdentity", res_any, h_get_caller_identity},
};

iam_sts_t *iam_sts_new(iam_identity_t *ids, iam_dir_t *dir, iam_authz_t *authz)
{
    iam_sts_t *sts = xcalloc(1, sizeof(*sts));
    sts->ids = ids;
    sts->dir = dir;
    sts->authz = authz;
    sts->gateway = (aws_service_t){
        "sts",        &model_sts, sts_actions,      sizeof(sts_actions) / sizeof(sts_actions[0]),
        STS_MAX_BODY, sts,        sts_resource_info};
    return sts;
}

void iam_sts_free(iam_sts_t *sts)
{
    free(sts);
}

const aws_service_t *iam_sts_gateway(iam_sts_t *sts)
{
    return &sts->gateway;
}
