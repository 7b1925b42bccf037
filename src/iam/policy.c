/*
 * policy — reading a policy document: JSON, IAM's checks, the compiled form.
 *
 * The checks run in the order IAM runs them, and the first failing stage
 * gives its message (the order and texts follow AWS's answers as recorded by
 * moto's tests against the real service, and the IAM documentation):
 *   1. grammar — JSON, known elements of the right types, Effect Allow or
 *      Deny in any case, known condition operators: "Syntax errors in policy."
 *   2. identity policies and boundaries must say Version 2012-10-17
 *   3. the "legacy parser": Effect in exact case, parsable dates in Date
 *      conditions, no "::" in a resource of fewer than six parts
 *   4. unique Sids (alphanumeric ones, except in resource policies)
 *   5. actions present; Principal present or absent as the kind requires;
 *      resources present (or, in trust policies, absent)
 *   6. resource ARN formats, which name the offending resource
 *   7. action vendors; trust policies only sts actions; principal formats
 * Then the statements are compiled (policy_int.h) and the JSON is dropped.
 */
#include "iam/policy_int.h"
#include "aws/jsonread.h"
#include "base/xalloc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MSG_SYNTAX     "Syntax errors in policy."
#define MSG_VERSION    "Policy document must be version 2012-10-17 or greater."
#define MSG_LEGACY     "The policy failed legacy parsing"
#define MSG_SID_UNIQUE "Statement IDs (SID) in a single policy must be unique."
#define MSG_SID_ALNUM                                                                              \
    "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular "      \
    "expression [0-9A-Za-z]*"
#define MSG_ACTIONS      "Policy statement must contain actions."
#define MSG_RESOURCES    "Policy statement must contain resources."
#define MSG_NO_PRINCIPAL "Policy document should not specify a principal."
#define MSG_PRINCIPAL    "Missing required field Principal"
#define MSG_VENDOR       "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
#define MSG_ONE_COLON    "Actions/Condition can contain only one colon."
#define MSG_TRUST_ACTION "AssumeRole policy may only specify STS AssumeRole actions."
#define MSG_FULLY        "Resource vendor must be fully qualified and cannot contain regexes."

#define VERSION_2012 "2012-10-17"
#define VERSION_2008 "2008-10-17"

static const char *const TOP_FIELDS[] = {"Version", "Id", "Statement", NULL};
static const char *const STATEMENT_FIELDS[] = {
    "Sid",         "Effect",    "Action",       "NotAction", "Resource",
    "NotResource", "Principal", "NotPrincipal", "Condition", NULL};
static const char *const PRINCIPAL_TYPES[] = {"AWS", "Service", "Federated", "CanonicalUser", NULL};
/* What a role trust policy may allow (IAM's "STS AssumeRole actions"). */
static const char *const TRUST_ACTIONS[] = {"sts:assumerole",
                                            "sts:assumerolewithsaml",
                                            "sts:assumerolewithwebidentity",
                                            "sts:tagsession",
                                            "sts:setsourceidentity",
                                            "sts:setcontext",
                                            NULL};
/* Where IAM resource paths may start ("IAM resource path must either be..."). */
static const char *const IAM_PATHS[] = {"user/",
                                        "federated-user/",
                                        "role/",
                                        "group/",
                                        "instance-profile/",
                                        "mfa/",
                                        "server-certificate/",
                                        "policy/",
                                        "sms-mfa/",
                                        "saml-provider/",
                                        "oidc-provider/",
                                        "report/",
                                        "access-report/",
                                        NULL};

typedef struct parser {
    iam_policy_kind_t kind;
    iam_policy_error_t *err;
    json_t *doc;
    json_t **stmts;
    size_t n_stmts;
    bool vars; /* Version 2012-10-17: ${...} are policy variables */
    char resource_error[sizeof(((iam_policy_error_t *)0)->message)];
} parser_t;

static int fail(parser_t *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(parser_t *ps, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err->message, sizeof(ps->err->message), fmt, ap);
    va_end(ap);
    return -1;
}

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool iam_kind(const parser_t *ps)
{
    return ps->kind == IAM_POLICY_IDENTITY || ps->kind == IAM_POLICY_SESSION ||
           ps->kind == IAM_POLICY_BOUNDARY;
}

/* Calls fn on each string of a string-or-list element; stops at the first non-zero. */
typedef int (*each_fn)(parser_t *ps, const char *s, size_t n, void *arg);

static int each_string(parser_t *ps, const json_t *v, each_fn fn, void *arg)
{
    if (json_is_string(v))
        return fn(ps, json_string_value(v), json_string_length(v), arg);
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        int rc = fn(ps, json_string_value(item), json_string_length(item), arg);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- 1. grammar ----------------------------------------------------------------------- */

static bool scalar_ok(const json_t *v, bool allow_scalars)
{
    return json_is_string(v) || (allow_scalars && (json_is_number(v) || json_is_boolean(v)));
}

/* A string (or, with allow_scalars, a number or boolean), or a list of them. */
static bool string_or_strings(const json_t *v, bool allow_scalars)
{
    if (!json_is_array(v))
        return scalar_ok(v, allow_scalars);
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        if (!scalar_ok(item, allow_scalars))
            return false;
    }
    return true;
}

typedef bool (*member_fn)(const char *key, const json_t *v, const void *arg);

/* Whether every member of object o passes ok. */
static bool all_members(const json_t *o, member_fn ok, const void *arg)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        if (!ok(k, v, arg))
            return false;
    }
    return true;
}

static bool key_known(const char *key, const json_t *v, const void *known)
{
    (void)v;
    return in_list(known, key);
}

static bool fields_known(const json_t *o, const char *const *known)
{
    return all_members(o, key_known, known);
}

/* A condition value: a string, number or boolean, or a list of them. */
static bool value_ok(const char *key, const json_t *v, const void *arg)
{
    (void)key, (void)arg;
    return string_or_strings(v, true);
}

/* An operator block; an unknown operator passes only with nothing under it. */
static bool block_ok(const char *op_name, const json_t *block, const void *arg)
{
    cond_op_t op;
    (void)arg;
    return json_is_object(block) &&
           (cond_op_parse(op_name, &op) == 0 || json_object_size(block) == 0) &&
           all_members(block, value_ok, NULL);
}

/* A principal list: strings only. */
static bool principals_ok(const char *type, const json_t *v, const void *arg)
{
    (void)type, (void)arg;
    return string_or_strings(v, false);
}

static bool principal_syntax_ok(const json_t *p)
{
    if (json_is_string(p))
        return strcmp(json_string_value(p), "*") == 0;
    return json_is_object(p) && json_object_size(p) > 0 && fields_known(p, PRINCIPAL_TYPES) &&
           all_members(p, principals_ok, NULL);
}

static bool both(const json_t *st, const char *a, const char *b)
{
    return json_object_get(st, a) && json_object_get(st, b);
}

static bool statement_syntax_ok(const json_t *st)
{
    static const char *const LISTS[] = {"Action", "NotAction", "Resource", "NotResource", NULL};
    if (!json_is_object(st) || !fields_known(st, STATEMENT_FIELDS))
        return false;
    if (both(st, "Action", "NotAction") || both(st, "Resource", "NotResource") ||
        both(st, "Principal", "NotPrincipal"))
        return false;
    const json_t *effect = json_object_get(st, "Effect");
    if (!json_is_string(effect) || (strcasecmp(json_string_value(effect), "Allow") != 0 &&
                                    strcasecmp(json_string_value(effect), "Deny") != 0))
        return false;
    for (const char *const *f = LISTS; *f; f++) {
        const json_t *v = json_object_get(st, *f);
        if (v && !string_or_strings(v, false))
            return false;
    }
    const json_t *sid = json_object_get(st, "Sid"), *cond = json_object_get(st, "Condition");
    const json_t *pr = json_object_get(st, "Principal");
    pr = pr ? pr : json_object_get(st, "NotPrincipal");
    return (!sid || json_is_string(sid)) &&
           (!cond || (json_is_object(cond) && all_members(cond, block_ok, NULL))) &&
           (!pr || principal_syntax_ok(pr));
}

static int check_grammar(parser_t *ps)
{
    const json_t *doc = ps->doc;
    if (!json_is_object(doc) || !fields_known(doc, TOP_FIELDS))
        return fail(ps, MSG_SYNTAX);
    const json_t *version = json_object_get(doc, "Version"), *id = json_object_get(doc, "Id");
    if (version &&
        (!json_is_string(version) || (strcmp(json_string_value(version), VERSION_2012) != 0 &&
                                      strcmp(json_string_value(version), VERSION_2008) != 0)))
        return fail(ps, MSG_SYNTAX);
    if (id && !json_is_string(id))
        return fail(ps, MSG_SYNTAX);
    json_t *stmt = json_object_get(doc, "Statement");
    if (json_is_object(stmt)) {
        ps->stmts = xmalloc(sizeof(json_t *));
        ps->stmts[ps->n_stmts++] = stmt;
    } else if (json_is_array(stmt) && json_array_size(stmt) > 0) {
        ps->stmts = xmalloc(json_array_size(stmt) * sizeof(json_t *));
        for (size_t i = 0; i < json_array_size(stmt); i++)
            ps->stmts[ps->n_stmts++] = json_array_get(stmt, i);
    } else {
        return fail(ps, MSG_SYNTAX);
    }
    for (size_t i = 0; i < ps->n_stmts; i++)
        if (!statement_syntax_ok(ps->stmts[i]))
            return fail(ps, MSG_SYNTAX);
    ps->vars = version && strcmp(json_string_value(version), VERSION_2012) == 0;
    return 0;
}

/* ---- 3. the legacy parser and resource formats ---------------------------------------- */

/* A JSON scalar as policy text: strings as they are, numbers and booleans as written. */
static const char *scalar_text(const json_t *v, char *buf, size_t cap, size_t *len)
{
    if (json_is_string(v)) {
        *len = json_string_length(v);
        return json_string_value(v);
    }
    if (json_is_integer(v))
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, cap, "%.15g", json_real_value(v));
    else
        snprintf(buf, cap, "%s", json_is_true(v) ? "true" : "false");
    *len = strlen(buf);
    return buf;
}

static bool dates_parse(const json_t *values)
{
    const json_t *one = values;
    size_t i = 0, n = json_is_array(values) ? json_array_size(values) : 1;
    for (; i < n; i++) {
        char buf[64];
        size_t len;
        date_value_t d;
        if (json_is_array(values))
            one = json_array_get(values, i);
        const char *s = scalar_text(one, buf, sizeof(buf), &len);
        if (!cond_date_parse(s, len, &d))
            return false;
    }
    return true;
}

static bool conditions_legacy_ok(const json_t *cond)
{
    const char *op_name, *key;
    json_t *block, *values;
    json_object_foreach((json_t *)cond, op_name, block)
    {
        cond_op_t op;
        if (cond_op_parse(op_name, &op) < 0 || op.base < COND_DATE_EQ || op.base > COND_DATE_GE)
            continue;
        json_object_foreach(block, key, values)
        {
            if (!dates_parse(values))
                return false;
        }
    }
    return true;
}

/* The legacy parser's rule for resources: "::" only in a six-part ARN, and a service. */
static int resource_legacy(parser_t *ps, const char *s, size_t n, void *arg)
{
    (void)arg;
    size_t colons = 0, service_start = 0, service_end = n;
    if (n == 1 && s[0] == '*')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ':')
            continue;
        colons++;
        if (colons == 2)
            service_start = i + 1;
        if (colons == 3)
            service_end = i;
    }
    if ((colons < 5 && memmem(s, n, "::", 2)) || (colons >= 2 && service_end == service_start))
        return fail(ps, MSG_LEGACY);
    return 0;
}

/* IAM's message for a partition other than aws: the resource rebuilt from its
 * parts after the partition (rest[0..end), or NULL when there is none), "*"
 * for the missing ones. */
static void partition_error(char *out, size_t cap, const char *part, size_t part_len,
                            const char *rest, const char *end)
{
    const char *f[4] = {"*", "*", "*", "*"};
    size_t fl[4] = {1, 1, 1, 1}, k = 0;
    for (const char *p = rest; p && k < 4; k++) {
        const char *c = k < 3 ? memchr(p, ':', (size_t)(end - p)) : NULL;
        f[k] = p;
        fl[k] = (size_t)((c ? c : end) - p);
        p = c ? c + 1 : NULL;
    }
    if (k == 1 && fl[0] == 0) {
        f[0] = "*";
        fl[0] = 1;
    }
    snprintf(out, cap,
             "Partition \"%.*s\" is not valid for resource \"arn:%.*s:%.*s:%.*s:%.*s:%.*s\".",
             (int)part_len, part, (int)part_len, part, (int)fl[0], f[0], (int)fl[1], f[1],
             (int)fl[2], f[2], (int)fl[3], f[3]);
}

/* The message for a resource IAM would not take for its format, or "" (first one wins). */
static int resource_format(parser_t *ps, const char *s, size_t n, void *arg)
{
    (void)arg;
    char *out = ps->resource_error;
    size_t cap = sizeof(ps->resource_error);
    const char *end = s + n, *c1 = memchr(s, ':', n);
    if (out[0] || (n == 1 && s[0] == '*'))
        return 0;
    if (!c1) {
        snprintf(out, cap, "Resource %.*s must be in ARN format or \"*\".", (int)n, s);
        return 0;
    }
    const char *part = c1 + 1, *c2 = memchr(part, ':', (size_t)(end - part));
    size_t part_len = (size_t)((c2 ? c2 : end) - part);
    if (part_len != 3 || memcmp(part, "aws", 3) != 0) {
        partition_error(out, cap, part, part_len, c2 ? c2 + 1 : NULL, end);
        return 0;
    }
    if (!c2) {
        snprintf(out, cap, MSG_FULLY);
        return 0;
    }
    const char *service = c2 + 1, *c3 = memchr(service, ':', (size_t)(end - service));
    size_t service_len = (size_t)((c3 ? c3 : end) - service);
    bool iam = service_len == 3 && memcmp(service, "iam", 3) == 0;
    bool s3 = service_len == 2 && memcmp(service, "s3", 2) == 0;
    if ((iam || s3) && !(c3 && c3 + 1 < end && c3[1] == ':')) {
        snprintf(out, cap,
                 iam ? "IAM resource %.*s cannot contain region information."
                     : "Resource %.*s can not contain region information.",
                 (int)n, s);
        return 0;
    }
    if (iam) {
        const char *c4 = memchr(c3 + 1, ':', (size_t)(end - c3 - 1));
        const char *c5 = c4 ? memchr(c4 + 1, ':', (size_t)(end - c4 - 1)) : NULL;
        const char *path = c5 ? c5 + 1 : end;
        for (const char *const *ok = IAM_PATHS; *ok; ok++)
            if ((size_t)(end - path) >= strlen(*ok) && memcmp(path, *ok, strlen(*ok)) == 0)
                return 0;
        snprintf(out, cap,
                 "IAM resource path must either be \"*\" or start with user/, federated-user/, "
                 "role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, "
                 "saml-provider/, oidc-provider/, report/, access-report/.");
    }
    return 0;
}

static int check_legacy(parser_t *ps)
{
    static const char *const KEYS[] = {"Resource", "NotResource", NULL};
    for (size_t i = 0; i < ps->n_stmts; i++) {
        const json_t *st = ps->stmts[i], *cond = json_object_get(st, "Condition");
        const char *effect = json_string_value(json_object_get(st, "Effect"));
        if ((strcmp(effect, "Allow") != 0 && strcmp(effect, "Deny") != 0) ||
            (cond && !conditions_legacy_ok(cond)))
            return fail(ps, MSG_LEGACY);
    }
    /* A resource format error is reported later, but it stops the legacy
     * parser from looking at resources (so its message wins over the legacy one). */
    for (const char *const *key = KEYS; *key; key++) {
        for (size_t i = 0; i < ps->n_stmts; i++) {
            const json_t *v = json_object_get(ps->stmts[i], *key);
            if (!v)
                continue;
            each_string(ps, v, resource_format, NULL);
            if (!ps->resource_error[0] && each_string(ps, v, resource_legacy, NULL))
                return -1;
        }
    }
    return 0;
}

/* ---- 4, 5. Sids and required elements ------------------------------------------------- */

static int check_sids(parser_t *ps)
{
    for (size_t i = 0; i < ps->n_stmts; i++) {
        const char *sid = json_string_value(json_object_get(ps->stmts[i], "Sid"));
        if (!sid || !*sid)
            continue;
        for (size_t j = 0; j < i; j++) {
            const char *other = json_string_value(json_object_get(ps->stmts[j], "Sid"));
            if (other && strcmp(sid, other) == 0)
                return fail(ps, MSG_SID_UNIQUE);
        }
    }
    if (ps->kind == IAM_POLICY_RESOURCE)
        return 0;
    for (size_t i = 0; i < ps->n_stmts; i++) {
        const char *sid = json_string_value(json_object_get(ps->stmts[i], "Sid"));
        for (; sid && *sid; sid++)
            if (!is_alnum(*sid))
                return fail(ps, MSG_SID_ALNUM);
    }
    return 0;
}

/* Whether the statement has the element (or its Not form), non-empty when a list. */
static bool has_element(const json_t *st, const char *name, const char *not_name)
{
    const json_t *v = json_object_get(st, name);
    v = v ? v : json_object_get(st, not_name);
    return v && (!json_is_array(v) || json_array_size(v) > 0);
}

static int check_required(parser_t *ps)
{
    for (size_t i = 0; i < ps->n_stmts; i++)
        if (!has_element(ps->stmts[i], "Action", "NotAction"))
            return fail(ps, MSG_ACTIONS);
    for (size_t i = 0; i < ps->n_stmts; i++) {
        const json_t *st = ps->stmts[i];
        bool principal = json_object_get(st, "Principal") || json_object_get(st, "NotPrincipal");
        if (iam_kind(ps) && principal)
            return fail(ps, MSG_NO_PRINCIPAL);
        if (!iam_kind(ps) && !principal)
            return fail(ps, MSG_PRINCIPAL);
        if (iam_kind(ps) && !has_element(st, "Resource", "NotResource"))
            return fail(ps, MSG_RESOURCES);
        if (ps->kind == IAM_POLICY_TRUST && json_object_get(st, "Resource"))
            return fail(ps, "Has prohibited field Resource");
        if (ps->kind == IAM_POLICY_TRUST && json_object_get(st, "NotResource"))
            return fail(ps, "Has prohibited field NotResource");
    }
    if (ps->resource_error[0])
        return fail(ps, "%s", ps->resource_error);
    return 0;
}

/* ---- 7. actions and principals -------------------------------------------------------- */

static int action_format(parser_t *ps, const char *s, size_t n, void *arg)
{
    (void)arg;
    const char *colon = memchr(s, ':', n);
    if (n == 1 && s[0] == '*')
        return 0;
    if (!colon)
        return fail(ps, MSG_VENDOR);
    if (memchr(colon + 1, ':', n - (size_t)(colon - s) - 1))
        return fail(ps, MSG_ONE_COLON);
    for (const char *c = s; c < colon; c++) {
        if (!is_alnum(*c) && *c != '-' && *c != '.')
            return fail(ps, "Vendor %.*s is not valid", (int)(colon - s), s);
    }
    return 0;
}

static int trust_action(parser_t *ps, const char *s, size_t n, void *arg)
{
    (void)arg;
    /* A pattern is fine when it covers at least one STS AssumeRole action. */
    char lower[256];
    if (n >= sizeof(lower))
        return fail(ps, MSG_TRUST_ACTION);
    for (size_t i = 0; i < n; i++)
        lower[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
    if (n < 4 || memcmp(lower, "sts:", 4) != 0)
        return fail(ps, MSG_TRUST_ACTION);
    for (const char *const *a = TRUST_ACTIONS; *a; a++)
        if (glob_match(lower, NULL, n, *a, strlen(*a)))
            return 0;
    return fail(ps, MSG_TRUST_ACTION);
}

static bool all_digits(const char *s, size_t n, size_t want)
{
    return n == want && strspn(s, "0123456789") >= n;
}

/* arn:aws:iam::ACCOUNT:root|user/...|role/... or
 * arn:aws:sts::ACCOUNT:assumed-role/R/S|federated-user/U */
static bool aws_principal_ok(const char *s, size_t n)
{
    static const char *const IAM_FORMS[] = {"root", "user/", "role/", NULL};
    static const char *const STS_FORMS[] = {"assumed-role/", "federated-user/", NULL};
    if ((n == 1 && s[0] == '*') || all_digits(s, n, 12))
        return true;
    const char *const *forms = NULL;
    if (n > 13 && memcmp(s, "arn:aws:iam::", 13) == 0)
        forms = IAM_FORMS;
    else if (n > 13 && memcmp(s, "arn:aws:sts::", 13) == 0)
        forms = STS_FORMS;
    if (!forms || n < 13 + 13 || !all_digits(s + 13, 12, 12) || s[25] != ':')
        return false;
    const char *rest = s + 26;
    size_t rest_len = n - 26;
    for (; *forms; forms++) {
        size_t fl = strlen(*forms);
        bool exact = (*forms)[fl - 1] != '/';
        if (exact ? (rest_len == fl && memcmp(rest, *forms, fl) == 0)
                  : (rest_len > fl && memcmp(rest, *forms, fl) == 0))
            return true;
    }
    return false;
}

static int principal_value(parser_t *ps, const char *s, size_t n, void *arg)
{
    const char *type = arg;
    bool ok = n > 0 && !memchr(s, ' ', n);
    if (strcmp(type, "AWS") == 0)
        ok = aws_principal_ok(s, n);
    else if (strcmp(type, "Service") == 0)
        ok = ok && memchr(s, '.', n);
    if (!ok)
        return fail(ps, "Invalid principal in policy: \"%s\":\"%.*s\"",
                    strcmp(type, "Service") == 0 ? "SERVICE" : type, (int)n, s);
    return 0;
}

static int check_values(parser_t *ps)
{
    static const char *const ACTIONS[] = {"Action", "NotAction", NULL};
    for (size_t i = 0; i < ps->n_stmts; i++)
        for (const char *const *k = ACTIONS; *k; k++) {
            const json_t *v = json_object_get(ps->stmts[i], *k);
            if (v && each_string(ps, v, action_format, NULL))
                return -1;
            if (v && ps->kind == IAM_POLICY_TRUST && each_string(ps, v, trust_action, NULL))
                return -1;
        }
    for (size_t i = 0; i < ps->n_stmts; i++) {
        const json_t *pr = json_object_get(ps->stmts[i], "Principal");
        pr = pr ? pr : json_object_get(ps->stmts[i], "NotPrincipal");
        if (!json_is_object(pr))
            continue;
        const char *type;
        json_t *v;
        json_object_foreach((json_t *)pr, type, v)
        {
            if (each_string(ps, v, principal_value, (void *)type))
                return -1;
        }
    }
    return 0;
}

/* ---- compiling ------------------------------------------------------------------------ */

static size_t count_strings(const json_t *v)
{
    return !v ? 0 : json_is_array(v) ? json_array_size(v) : 1;
}

static const json_t *string_at(const json_t *v, size_t i)
{
    return json_is_array(v) ? json_array_get(v, i) : v;
}

static void compile_actions(arena_t *a, const json_t *v, stmt_t *st)
{
    action_pat_t *acts = arena_alloc(a, count_strings(v) * sizeof(action_pat_t));
    for (size_t i = 0; i < count_strings(v); i++) {
        const json_t *s = string_at(v, i);
        size_t n = json_string_length(s);
        char *low = arena_strndup(a, json_string_value(s), n);
        for (char *c = low; *c; c++)
            *c = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
        char *colon = strchr(low, ':');
        acts[i].all = !colon;
        if (colon) {
            acts[i].vendor = low;
            acts[i].vendor_len = (size_t)(colon - low);
            acts[i].name = colon + 1;
            acts[i].name_len = n - acts[i].vendor_len - 1;
        }
    }
    st->actions = acts;
    st->n_actions = count_strings(v);
}

static void compile_resources(arena_t *a, const json_t *v, bool vars, stmt_t *st)
{
    pat_t *res = arena_alloc(a, count_strings(v) * sizeof(pat_t));
    for (size_t i = 0; i < count_strings(v); i++) {
        const json_t *s = string_at(v, i);
        pat_compile(a, json_string_value(s), json_string_length(s), vars, &res[i]);
    }
    st->resources = res;
    st->n_resources = count_strings(v);
}

static principal_t principal_of(arena_t *a, const char *type, const char *s, size_t n)
{
    principal_t p = {.kind = PRINCIPAL_OTHER};
    if (strcmp(type, "AWS") == 0) {
        p.kind = PRINCIPAL_ARN;
        if (n == 1 && s[0] == '*') {
            p.kind = PRINCIPAL_ANY;
        } else if (all_digits(s, n, 12)) {
            p.kind = PRINCIPAL_ACCOUNT;
        } else if (n == 30 && memcmp(s, "arn:aws:iam::", 13) == 0 &&
                   memcmp(s + 25, ":root", 5) == 0) {
            p.kind = PRINCIPAL_ACCOUNT;
            s += 13;
            n = 12;
        }
    } else if (strcmp(type, "Service") == 0) {
        p.kind = PRINCIPAL_SERVICE;
    }
    p.value = arena_strndup(a, s, n);
    return p;
}

static void compile_principals(arena_t *a, const json_t *v, stmt_t *st)
{
    st->has_principal = true;
    if (json_is_string(v)) {
        principal_t *any = arena_alloc(a, sizeof(principal_t));
        any->kind = PRINCIPAL_ANY;
        st->principals = any;
        st->n_principals = 1;
        return;
    }
    const char *type;
    json_t *list;
    size_t n = 0;
    json_object_foreach((json_t *)v, type, list)
    {
        n += count_strings(list);
    }
    principal_t *ps = arena_alloc(a, n * sizeof(principal_t));
    n = 0;
    json_object_foreach((json_t *)v, type, list)
    {
        for (size_t i = 0; i < count_strings(list); i++) {
            const json_t *s = string_at(list, i);
            ps[n++] = principal_of(a, type, json_string_value(s), json_string_length(s));
        }
    }
    st->principals = ps;
    st->n_principals = n;
}

static void compile_conditions(arena_t *a, const json_t *cond, bool vars, stmt_t *st)
{
    const char *op_name, *key;
    json_t *block, *values;
    size_t n = 0;
    json_object_foreach((json_t *)cond, op_name, block)
    {
        n += json_object_size(block);
    }
    cond_t *conds = arena_alloc(a, n * sizeof(cond_t));
    n = 0;
    json_object_foreach((json_t *)cond, op_name, block)
    {
        cond_op_t op;
        if (cond_op_parse(op_name, &op) < 0)
            continue; /* an unknown operator with an empty block */
        json_object_foreach(block, key, values)
        {
            cond_t *c = &conds[n++];
            c->op = op;
            c->key = arena_strndup(a, key, strlen(key));
            c->key_len = strlen(key);
            c->n_values = count_strings(values);
            c->values = arena_alloc(a, c->n_values * sizeof(cond_value_t));
            for (size_t i = 0; i < c->n_values; i++) {
                char buf[64];
                size_t len;
                const char *s = scalar_text(string_at(values, i), buf, sizeof(buf), &len);
                cond_value_compile(a, &op, s, len, vars, &c->values[i]);
            }
        }
    }
    st->conds = conds;
    st->n_conds = n;
}

static void compile_statement(arena_t *a, const json_t *js, bool vars, stmt_t *st)
{
    const json_t *sid = json_object_get(js, "Sid"), *v;
    st->sid = sid ? arena_strndup(a, json_string_value(sid), json_string_length(sid)) : NULL;
    st->deny = strcmp(json_string_value(json_object_get(js, "Effect")), "Deny") == 0;
    st->not_action = !json_object_get(js, "Action");
    compile_actions(a, json_object_get(js, st->not_action ? "NotAction" : "Action"), st);
    if ((v = json_object_get(js, "Resource")) || (v = json_object_get(js, "NotResource"))) {
        st->has_resource = true;
        st->not_resource = !json_object_get(js, "Resource");
        compile_resources(a, v, vars, st);
    }
    if ((v = json_object_get(js, "Principal")) || (v = json_object_get(js, "NotPrincipal"))) {
        st->not_principal = !json_object_get(js, "Principal");
        compile_principals(a, v, st);
    }
    if ((v = json_object_get(js, "Condition")))
        compile_conditions(a, v, vars, st);
}

static iam_policy_t *compile(parser_t *ps)
{
    iam_policy_t *p = xcalloc(1, sizeof(*p));
    p->kind = ps->kind;
    stmt_t *stmts = arena_alloc(&p->arena, ps->n_stmts * sizeof(stmt_t));
    for (size_t i = 0; i < ps->n_stmts; i++)
        compile_statement(&p->arena, ps->stmts[i], ps->vars, &stmts[i]);
    p->stmts = stmts;
    p->n_stmts = ps->n_stmts;
    return p;
}

/* ---- API ------------------------------------------------------------------------------ */

int iam_policy_parse(const char *text, size_t len, iam_policy_kind_t kind, iam_policy_t **out,
                     iam_policy_error_t *err)
{
    parser_t ps = {.kind = kind, .err = err};
    jsonread_error_t jerr = {0};
    int rc = -1;
    err->message[0] = '\0';
    ps.doc = jsonread_parse(text, len, &jerr);
    if (!ps.doc) {
        fail(&ps, MSG_SYNTAX);
        goto out;
    }
    if (check_grammar(&ps) < 0)
        goto out;
    if ((kind == IAM_POLICY_IDENTITY || kind == IAM_POLICY_BOUNDARY) && !ps.vars) {
        fail(&ps, MSG_VERSION);
        goto out;
    }
    if (check_legacy(&ps) < 0 || check_sids(&ps) < 0 || check_required(&ps) < 0 ||
        check_values(&ps) < 0)
        goto out;
    *out = compile(&ps);
    rc = 0;
out:
    free(ps.stmts);
    json_decref(ps.doc);
    return rc;
}

void iam_policy_free(iam_policy_t *p)
{
    if (!p)
        return;
    arena_free(&p->arena);
    free(p);
}

iam_policy_kind_t iam_policy_kind(const iam_policy_t *p)
{
    return p->kind;
}

size_t iam_policy_statement_count(const iam_policy_t *p)
{
    return p->n_stmts;
}

const char *iam_policy_statement_sid(const iam_policy_t *p, size_t i)
{
    return i < p->n_stmts ? p->stmts[i].sid : NULL;
}

size_t iam_policy_size(const char *text, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        n += !space && (c & 0xc0) != 0x80;
    }
    return n;
}
