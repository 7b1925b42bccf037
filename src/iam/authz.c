/*
 * authz — see authz.h.
 *
 * The request handed to iam_eval is built on the stack: the principal's
 * policies come from the policy source (the directory keeps them compiled),
 * session policies from the cached session, the resource policy from a cache
 * keyed by resource ARN that recompiles only when the policy text changed. An
 * account root acting in its own account on a resource without a policy is
 * allowed at once, as AWS allows it: that is the common case of a local stack
 * and it costs nothing. Context keys: AWS's global condition keys
 * (reference_policies_condition-keys) that a local request can have.
 */
#include "iam/authz.h"
#include "base/clock.h"
#include "base/strmap.h"
#include "base/xalloc.h"
#include "base/str.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TAGS_MAX    50
#define CONTEXT_MAX (16 + 3 * TAGS_MAX)

typedef struct rp_entry {
    char *text;
    iam_policy_t *policy; /* NULL when the text is not a policy IAM accepts */
} rp_entry_t;

struct iam_authz {
    iam_policy_source_t src;
    bool has_src;
    strmap_t rp; /* resource ARN -> rp_entry_t */
    iam_decision_record_t *log;
    size_t log_n, log_next;
};

iam_authz_t *iam_authz_new(void)
{
    iam_authz_t *az = xcalloc(1, sizeof(*az));
    /* Not zeroed: the ring's pages are only touched (resident) as decisions fill it. */
    az->log = xmalloc(IAM_DECISION_LOG_MAX * sizeof(*az->log));
    return az;
}

static void rp_free(rp_entry_t *e)
{
    free(e->text);
    iam_policy_free(e->policy);
    free(e);
}

void iam_authz_free(iam_authz_t *az)
{
    if (!az)
        return;
    size_t pos = 0;
    const strmap_slot_t *s;
    while ((s = strmap_next(&az->rp, &pos)))
        rp_free(s->val);
    strmap_free(&az->rp);
    free(az->log);
    free(az);
}

void iam_authz_set_source(iam_authz_t *az, const iam_policy_source_t *src)
{
    az->has_src = src != NULL;
    if (src)
        az->src = *src;
}

/* The compiled policy for a resource's policy text (cached by resource ARN). */
static const iam_policy_t *resource_policy(iam_authz_t *az, const char *arn, const char *text)
{
    size_t klen = strlen(arn);
    rp_entry_t *e = strmap_get(&az->rp, arn, klen);
    if (e && !strcmp(e->text, text))
        return e->policy;
    if (!e) {
        e = xcalloc(1, sizeof(*e));
        strmap_put(&az->rp, arn, klen, e);
    }
    free(e->text);
    iam_policy_free(e->policy);
    e->text = xstrdup(text);
    e->policy = NULL;
    iam_policy_error_t err;
    iam_policy_parse(text, strlen(text), IAM_POLICY_RESOURCE, &e->policy, &err);
    return e->policy;
}

/* ---- context keys ---- */

typedef struct context {
    iam_context_key_t keys[CONTEXT_MAX];
    const char *values[CONTEXT_MAX];
    char names[3 * TAGS_MAX][160]; /* "aws:PrincipalTag/<key>" and the like */
    const char *tag_keys[TAGS_MAX];
    size_t n, n_names;
    char now_iso[32], now_epoch[24];
} context_t;

static void ctx_add(context_t *c, const char *key, const char *value)
{
    if (c->n >= CONTEXT_MAX || !value)
        return;
    c->values[c->n] = value;
    c->keys[c->n] = (iam_context_key_t){key, &c->values[c->n], 1, false};
    c->n++;
}

static void ctx_tag(context_t *c, const char *prefix, const char *key, const char *value)
{
    if (c->n_names >= sizeof(c->names) / sizeof(c->names[0]))
        return;
    char *name = c->names[c->n_names++];
    snprintf(name, sizeof(c->names[0]), "%s%s", prefix, key);
    ctx_add(c, name, value);
}

static void ctx_principal_tags(iam_authz_t *az, const iam_principal_t *p, context_t *c)
{
    const char *const *keys = NULL, *const *values = NULL;
    size_t n = az->has_src && az->src.principal_tags && p->kind != IAM_PRINCIPAL_ROOT
                   ? az->src.principal_tags(az->src.ud, p, &keys, &values)
                   : 0;
    /* Session tags override the role's tags of the same key (id_session-tags). */
    const iam_session_t *s = p->session ? &p->session->s : NULL;
    for (size_t i = 0; s && i < s->n_tags; i++)
        ctx_tag(c, "aws:PrincipalTag/", s->tag_keys[i], s->tag_values[i]);
    for (size_t i = 0; i < n; i++) {
        bool shadowed = false;
        for (size_t k = 0; s && k < s->n_tags && !shadowed; k++)
            shadowed = !strcasecmp(s->tag_keys[k], keys[i]);
        if (!shadowed)
            ctx_tag(c, "aws:PrincipalTag/", keys[i], values[i]);
    }
}

static void ctx_build(iam_authz_t *az, const iam_authz_in_t *in, context_t *c)
{
    const iam_principal_t *p = in->who;
    clock_iso8601(in->now_ms, c->now_iso);
    snprintf(c->now_epoch, sizeof(c->now_epoch), "%" PRIu64, in->now_ms / 1000);
    c->n = c->n_names = 0;
    ctx_add(c, "aws:PrincipalArn", p->kind == IAM_PRINCIPAL_SESSION ? p->role_arn : p->arn);
    ctx_add(c, "aws:PrincipalAccount", p->account);
    ctx_add(c, "aws:userid", p->user_id);
    if (p->kind == IAM_PRINCIPAL_USER)
        ctx_add(c, "aws:username", p->name);
    ctx_add(c, "aws:PrincipalType",
            p->kind == IAM_PRINCIPAL_ROOT   ? "Account"
            : p->kind == IAM_PRINCIPAL_USER ? "User"
                                            : "AssumedRole");
    ctx_add(c, "aws:CurrentTime", c->now_iso);
    ctx_add(c, "aws:EpochTime", c->now_epoch);
    ctx_add(c, "aws:SecureTransport", "false"); /* nagare serves plain HTTP */
    ctx_add(c, "aws:SourceIp", in->source_ip && *in->source_ip ? in->source_ip : NULL);
    ctx_add(c, "aws:RequestedRegion", in->region);
    ctx_add(c, "aws:SourceArn", in->source_arn);
    ctx_add(c, "aws:SourceAccount", in->source_account);
    /* Present (false) for temporary credentials, absent for long-term keys. */
    if (p->kind == IAM_PRINCIPAL_SESSION)
        ctx_add(c, "aws:MultiFactorAuthPresent", "false");
    ctx_principal_tags(az, p, c);
    size_t nt = in->n_request_tags < TAGS_MAX ? in->n_request_tags : TAGS_MAX;
    for (size_t i = 0; i < nt; i++) {
        ctx_tag(c, "aws:RequestTag/", in->request_tags[i].key, in->request_tags[i].value);
        c->tag_keys[i] = in->request_tags[i].key;
    }
    if (nt && c->n < CONTEXT_MAX)
        c->keys[c->n++] = (iam_context_key_t){"aws:TagKeys", c->tag_keys, nt, true};
    for (size_t i = 0; i < in->n_resource_tags && i < TAGS_MAX; i++)
        ctx_tag(c, "aws:ResourceTag/", in->resource_tags[i].key, in->resource_tags[i].value);
}

/* ---- the request ---- */

/* The resource's account: the fifth field of its ARN; "" (the caller's own)
 * for "*" and for AWS managed policies. An ARN whose account is empty or too
 * long names nobody's resource: "-", which is no caller's account. */
static void resource_account(const char *arn, char out[16])
{
    const char *p = arn;
    str_copy(out, 16, strcmp(arn, "*") ? "-" : "");
    for (int i = 0; i < 4 && p; i++) {
        p = strchr(p, ':');
        p = p ? p + 1 : NULL;
    }
    const char *end = p ? strchr(p, ':') : NULL;
    if (end && end > p && end - p < 16)
        str_copyn(out, 16, p, (size_t)(end - p));
    /* AWS managed policies (arn:aws:iam::aws:policy/...) belong to no account
     * a caller could be outside of: identity policies alone decide. */
    if (!strcmp(out, "aws"))
        out[0] = 0;
}

typedef struct evaluation {
    iam_request_t req;
    iam_policy_ref_t identity[IAM_IDENTITY_POLICIES_MAX];
    iam_policy_ref_t session[1 + IAM_SESSION_ARNS_MAX];
    iam_policy_ref_t rp;
    const iam_policy_ref_t *boundary;
    char account[16];
    context_t ctx;
} evaluation_t;

static void session_policies(iam_authz_t *az, const iam_session_entry_t *en, evaluation_t *ev)
{
    size_t n = 0;
    if (en->policy)
        ev->session[n++] = (iam_policy_ref_t){en->policy, "the session policy"};
    for (size_t i = 0; i < en->s.n_policy_arns && az->has_src && az->src.managed; i++) {
        const iam_policy_t *p = az->src.managed(az->src.ud, en->s.policy_arns[i]);
        if (p)
            ev->session[n++] = (iam_policy_ref_t){p, en->s.policy_arns[i]};
    }
    ev->req.session = ev->session;
    ev->req.n_session = n;
}

static void request_build(iam_authz_t *az, const iam_authz_in_t *in, evaluation_t *ev)
{
    const iam_principal_t *p = in->who;
    iam_request_t *r = &ev->req;
    memset(r, 0, sizeof(*r));
    r->action = in->action;
    r->resource = in->resource;
    resource_account(in->resource, ev->account);
    r->resource_account = ev->account;
    r->caller = (iam_caller_t){p->kind == IAM_PRINCIPAL_ROOT   ? IAM_CALLER_ROOT
                               : p->kind == IAM_PRINCIPAL_USER ? IAM_CALLER_USER
                                                               : IAM_CALLER_SESSION,
                               p->arn, p->account, p->role_arn};
    ev->boundary = NULL;
    if (az->has_src && p->kind == IAM_PRINCIPAL_USER && az->src.user_policies)
        r->n_identity = az->src.user_policies(az->src.ud, p->account, p->name, ev->identity,
                                              IAM_IDENTITY_POLICIES_MAX, &ev->boundary);
    else if (az->has_src && p->kind == IAM_PRINCIPAL_SESSION && az->src.role_policies)
        r->n_identity = az->src.role_policies(az->src.ud, p->account, p->role_arn, ev->identity,
                                              IAM_IDENTITY_POLICIES_MAX, &ev->boundary);
    r->identity = ev->identity;
    r->boundary = ev->boundary;
    if (p->session)
        session_policies(az, p->session, ev);
    const iam_policy_t *rp = in->resource_policy_compiled;
    if (!rp && in->resource_policy)
        rp = resource_policy(az, in->resource, in->resource_policy);
    if (rp) {
        ev->rp = (iam_policy_ref_t){rp, in->resource};
        r->resource_policy = &ev->rp;
    }
    ctx_build(az, in, &ev->ctx);
    r->context = ev->ctx.keys;
    r->n_context = ev->ctx.n;
}

/* ---- the decision ---- */

static void reason_of(const iam_verdict_t *v, iam_decision_t *d)
{
    const char *layer = iam_layer_name(v->layer);
    if (v->effect == IAM_ALLOW && v->layer == IAM_LAYER_ROOT)
        str_copy(d->reason, sizeof(d->reason), "allowed: the account root in its own account");
    else if (v->effect == IAM_IMPLICIT_DENY)
        snprintf(d->reason, sizeof(d->reason), "denied: no %s allows it", layer);
    else
        snprintf(d->reason, sizeof(d->reason), "%s by %s %s, statement %zu%s%s%s",
                 v->effect == IAM_ALLOW ? "allowed" : "explicitly denied", layer,
                 v->policy && v->policy->label ? v->policy->label : "", v->statement,
                 v->sid ? " (Sid " : "", v->sid ? v->sid : "", v->sid ? ")" : "");
}

static void record(iam_authz_t *az, const iam_authz_in_t *in, const iam_decision_t *d)
{
    iam_decision_record_t *r = &az->log[az->log_next];
    az->log_next = (az->log_next + 1) % IAM_DECISION_LOG_MAX;
    if (az->log_n < IAM_DECISION_LOG_MAX)
        az->log_n++;
    r->at_ms = in->now_ms;
    r->allowed = d->allowed;
    str_copy(r->principal, sizeof(r->principal), in->who->arn);
    str_copy(r->action, sizeof(r->action), in->action);
    str_copy(r->resource, sizeof(r->resource), in->resource);
    str_copy(r->reason, sizeof(r->reason), d->reason);
}

/* Actions AWS documents as needing no permission at all. */
static const char *const FREE_ACTIONS[] = {"sts:GetCallerIdentity"};

void iam_authorize(iam_authz_t *az, const iam_authz_in_t *in, iam_decision_t *d, buf_t *message)
{
    char account[16];
    for (size_t i = 0; i < sizeof(FREE_ACTIONS) / sizeof(FREE_ACTIONS[0]); i++) {
        if (strcasecmp(in->action, FREE_ACTIONS[i]))
            continue;
        d->allowed = true;
        snprintf(d->reason, sizeof(d->reason), "allowed: %s requires no permission", in->action);
        record(az, in, d);
        return;
    }
    resource_account(in->resource, account);
    /* The root in its own account, no resource policy: allowed (the fast path). */
    if (in->who->kind == IAM_PRINCIPAL_ROOT && !in->resource_policy &&
        !in->resource_policy_compiled && (!account[0] || !strcmp(account, in->who->account))) {
        d->allowed = true;
        str_copy(d->reason, sizeof(d->reason), "allowed: the account root in its own account");
        record(az, in, d);
        return;
    }
    evaluation_t *ev = xmalloc(sizeof(*ev));
    iam_verdict_t v;
    request_build(az, in, ev);
    iam_eval(&ev->req, &v);
    d->allowed = v.effect == IAM_ALLOW;
    reason_of(&v, d);
    if (!d->allowed && message)
        iam_verdict_message(&ev->req, &v, message);
    record(az, in, d);
    free(ev);
}

size_t iam_authz_log_count(const iam_authz_t *az)
{
    return az->log_n;
}

const iam_decision_record_t *iam_authz_log_get(const iam_authz_t *az, size_t i)
{
    if (i >= az->log_n)
        return NULL;
    return &az->log[(az->log_next + IAM_DECISION_LOG_MAX - 1 - i) % IAM_DECISION_LOG_MAX];
}
