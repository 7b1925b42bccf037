/*
 * eval — the decision: which policies allow or deny a request, and why.
 *
 * Follows AWS's "Policy evaluation logic" and "Cross-account policy evaluation
 * logic":
 * - an explicit Deny in any policy that applies wins (identity-based policies,
 *   the resource-based policy, the permissions boundary, session policies);
 * - the account root may do anything in its own account (it has no identity
 *   policies); a service principal only what a resource policy grants it;
 * - same account: an Allow in an identity-based policy or in the resource
 *   policy suffices, but how a resource policy names the caller matters:
 *     * the caller's own ARN (an IAM user, or the assumed-role session
 *       ARN) or "*": granted directly, not limited by implicit denies in
 *       identity policies, the permissions boundary or session policies;
 *     * the role ARN of a session: limited by the boundary and session
 *       policies, not by the identity policies;
 *     * the account (root ARN or the bare id): a delegation to the account's
 *       IAM policies, which must allow on their own;
 *   identity-based allows are limited by the boundary and, for sessions, by
 *   the session policies (an intersection);
 * - cross-account: the caller's account (identity policies, boundary, session
 *   policies) and the resource policy must both allow;
 * - a role trust policy must allow explicitly, even in the same account.
 *
 * Statements are checked cheapest part first: action, resource, principal,
 * then conditions. Nothing is allocated.
 */
#include "iam/policy_int.h"

#include <string.h>

#define ACTION_MAX 256

/* How a resource policy statement names the caller, weakest first. */
typedef enum grant { GRANT_NONE, GRANT_ACCOUNT, GRANT_ROLE, GRANT_DIRECT } grant_t;

typedef struct evaluation {
    const iam_request_t *req;
    char action[ACTION_MAX]; /* lower case */
    size_t vendor_len;       /* action[0..vendor_len) is the vendor */
    const char *name;        /* after the colon */
    size_t name_len;
    bool action_ok; /* fits and has a vendor: otherwise only "*" matches it */
    size_t resource_len;
} evaluation_t;

typedef struct hit {
    const iam_policy_ref_t *ref;
    size_t stmt;
    grant_t grant;
} hit_t;

static void evaluation_init(evaluation_t *ev, const iam_request_t *req)
{
    size_t n = strlen(req->action);
    ev->req = req;
    ev->resource_len = req->resource ? strlen(req->resource) : 0;
    ev->action_ok = n < ACTION_MAX;
    if (!ev->action_ok)
        return;
    for (size_t i = 0; i <= n; i++) {
        char c = req->action[i];
        ev->action[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    const char *colon = strchr(ev->action, ':');
    ev->action_ok = colon != NULL;
    if (colon) {
        ev->vendor_len = (size_t)(colon - ev->action);
        ev->name = colon + 1;
        ev->name_len = n - ev->vendor_len - 1;
    }
}

static bool action_matches(const stmt_t *st, const evaluation_t *ev)
{
    bool any = false;
    for (size_t i = 0; i < st->n_actions && !any; i++) {
        const action_pat_t *a = &st->actions[i];
        any = a->all || (ev->action_ok && a->vendor_len == ev->vendor_len &&
                         memcmp(a->vendor, ev->action, a->vendor_len) == 0 &&
                         glob_match(a->name, NULL, a->name_len, ev->name, ev->name_len));
    }
    return any != st->not_action;
}

static bool resource_matches(const stmt_t *st, const evaluation_t *ev)
{
    if (!st->has_resource)
        return true; /* a resource policy without Resource: the resource it is on */
    bool any = false;
    for (size_t i = 0; i < st->n_resources && !any; i++)
        any = pat_like(&st->resources[i], ev->req, ev->req->resource, ev->resource_len);
    return any != st->not_resource;
}

static bool str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static grant_t principal_grant(const principal_t *p, const iam_caller_t *c)
{
    bool service = c->kind == IAM_CALLER_SERVICE;
    switch (p->kind) {
    case PRINCIPAL_ANY:
        return GRANT_DIRECT;
    case PRINCIPAL_ACCOUNT:
        if (service || !str_eq(p->value, c->account))
            return GRANT_NONE;
        return c->kind == IAM_CALLER_ROOT ? GRANT_DIRECT : GRANT_ACCOUNT;
    case PRINCIPAL_ARN:
        if (!service && str_eq(p->value, c->arn))
            return GRANT_DIRECT;
        return c->kind == IAM_CALLER_SESSION && str_eq(p->value, c->role_arn) ? GRANT_ROLE
                                                                              : GRANT_NONE;
    case PRINCIPAL_SERVICE:
        return service && str_eq(p->value, c->arn) ? GRANT_DIRECT : GRANT_NONE;
    default:
        return GRANT_NONE;
    }
}

/* NotPrincipal applies unless every name the caller goes by is listed: its
 * ARN, its role's ARN for a session, its account (hence AWS's advice to list
 * all three for a session). A grant through it delegates like an account grant. */
static grant_t not_principal_grant(const stmt_t *st, const iam_caller_t *c)
{
    bool service = c->kind == IAM_CALLER_SERVICE;
    bool own = false, role = c->kind != IAM_CALLER_SESSION, account = service;
    for (size_t i = 0; i < st->n_principals; i++) {
        const principal_t *p = &st->principals[i];
        grant_t g = principal_grant(p, c);
        own |= g == GRANT_DIRECT;
        role |= p->kind == PRINCIPAL_ANY || g == GRANT_ROLE;
        account |= p->kind == PRINCIPAL_ANY || g == GRANT_ACCOUNT ||
                   (p->kind == PRINCIPAL_ACCOUNT && g == GRANT_DIRECT);
    }
    if (own && role && account)
        return GRANT_NONE;
    return c->kind == IAM_CALLER_ROOT ? GRANT_DIRECT : GRANT_ACCOUNT;
}

/* How the statement's Principal names the caller (GRANT_DIRECT when the
 * statement has no Principal: identity-based policies). */
static grant_t statement_grant(const stmt_t *st, const iam_caller_t *c)
{
    if (!st->has_principal)
        return GRANT_DIRECT;
    if (st->not_principal)
        return not_principal_grant(st, c);
    grant_t best = GRANT_NONE;
    for (size_t i = 0; i < st->n_principals && best != GRANT_DIRECT; i++) {
        grant_t g = principal_grant(&st->principals[i], c);
        best = g > best ? g : best;
    }
    return best;
}

static bool conditions_hold(const stmt_t *st, const iam_request_t *req)
{
    for (size_t i = 0; i < st->n_conds; i++)
        if (!cond_eval(&st->conds[i], req))
            return false;
    return true;
}

/* How the statement applies to the request: GRANT_NONE when it does not. */
static grant_t statement_applies(const stmt_t *st, const evaluation_t *ev)
{
    if (!action_matches(st, ev) || !resource_matches(st, ev))
        return GRANT_NONE;
    grant_t g = statement_grant(st, &ev->req->caller);
    return g != GRANT_NONE && conditions_hold(st, ev->req) ? g : GRANT_NONE;
}

/* Finds, among refs[0..n), the first Deny statement that applies (deny) or the
 * Allow statement that applies with the strongest grant. */
static bool find(const evaluation_t *ev, const iam_policy_ref_t *refs, size_t n, bool deny,
                 hit_t *hit)
{
    hit->grant = GRANT_NONE;
    for (size_t r = 0; r < n; r++) {
        const iam_policy_t *p = refs[r].policy;
        for (size_t i = 0; i < p->n_stmts; i++) {
            if (p->stmts[i].deny != deny)
                continue;
            grant_t g = statement_applies(&p->stmts[i], ev);
            if (g <= hit->grant)
                continue;
            *hit = (hit_t){.ref = &refs[r], .stmt = i, .grant = g};
            if (deny || g == GRANT_DIRECT)
                return true;
        }
    }
    return hit->grant != GRANT_NONE;
}

static void decide(iam_verdict_t *v, iam_effect_t effect, iam_layer_t layer, const hit_t *hit)
{
    *v = (iam_verdict_t){.effect = effect, .layer = layer};
    if (hit) {
        v->policy = hit->ref;
        v->statement = hit->stmt;
        v->sid = hit->ref->policy->stmts[hit->stmt].sid;
    }
}

/* The explicit-deny pass over every layer that applies to the caller. */
static bool find_explicit_deny(const evaluation_t *ev, bool iam_caller, iam_verdict_t *v)
{
    const iam_request_t *req = ev->req;
    struct {
        iam_layer_t layer;
        const iam_policy_ref_t *refs;
        size_t n;
    } layers[] = {
        {IAM_LAYER_IDENTITY, req->identity, iam_caller ? req->n_identity : 0},
        {IAM_LAYER_RESOURCE, req->resource_policy, req->resource_policy ? 1 : 0},
        {IAM_LAYER_BOUNDARY, req->boundary, iam_caller && req->boundary ? 1 : 0},
        {IAM_LAYER_SESSION, req->session,
         req->caller.kind == IAM_CALLER_SESSION ? req->n_session : 0},
    };
    for (size_t i = 0; i < sizeof(layers) / sizeof(layers[0]); i++) {
        hit_t hit;
        if (find(ev, layers[i].refs, layers[i].n, true, &hit)) {
            decide(v, IAM_EXPLICIT_DENY, layers[i].layer, &hit);
            return true;
        }
    }
    return false;
}

/* The callers without identity policies: the root and service principals. */
static void eval_root_or_service(const evaluation_t *ev, bool same_account, iam_verdict_t *v)
{
    const iam_request_t *req = ev->req;
    hit_t rp;
    bool rp_ok = req->resource_policy && find(ev, req->resource_policy, 1, false, &rp);
    bool trust = req->resource_policy && req->resource_policy->policy->kind == IAM_POLICY_TRUST;
    if (req->caller.kind == IAM_CALLER_ROOT && same_account && !trust)
        decide(v, IAM_ALLOW, IAM_LAYER_ROOT, NULL);
    else if (rp_ok)
        decide(v, IAM_ALLOW, IAM_LAYER_RESOURCE, &rp);
    else
        decide(v, IAM_IMPLICIT_DENY, IAM_LAYER_RESOURCE, NULL);
}

void iam_eval(const iam_request_t *req, iam_verdict_t *v)
{
    evaluation_t ev;
    evaluation_init(&ev, req);
    const iam_caller_t *c = &req->caller;
    bool iam_caller = c->kind == IAM_CALLER_USER || c->kind == IAM_CALLER_SESSION;
    bool same_account =
        c->kind != IAM_CALLER_SERVICE && (!req->resource_account || !req->resource_account[0] ||
                                          str_eq(req->resource_account, c->account));
    if (find_explicit_deny(&ev, iam_caller, v))
        return;
    if (!iam_caller) {
        eval_root_or_service(&ev, same_account, v);
        return;
    }
    hit_t id, bd, ss, rp;
    bool rp_ok = req->resource_policy && find(&ev, req->resource_policy, 1, false, &rp);
    bool trust = req->resource_policy && req->resource_policy->policy->kind == IAM_POLICY_TRUST;
    bool id_ok = find(&ev, req->identity, req->n_identity, false, &id);
    bool bd_ok = !req->boundary || find(&ev, req->boundary, 1, false, &bd);
    bool ss_ok = c->kind != IAM_CALLER_SESSION || req->n_session == 0 ||
                 find(&ev, req->session, req->n_session, false, &ss);
    bool role_grant = same_account && rp_ok && rp.grant == GRANT_ROLE;
    if (same_account && rp_ok && rp.grant == GRANT_DIRECT)
        decide(v, IAM_ALLOW, IAM_LAYER_RESOURCE, &rp);
    else if (trust && !rp_ok)
        decide(v, IAM_IMPLICIT_DENY, IAM_LAYER_RESOURCE, NULL);
    else if (!id_ok && !role_grant)
        decide(v, IAM_IMPLICIT_DENY, IAM_LAYER_IDENTITY, NULL);
    else if (!bd_ok)
        decide(v, IAM_IMPLICIT_DENY, IAM_LAYER_BOUNDARY, NULL);
    else if (!ss_ok)
        decide(v, IAM_IMPLICIT_DENY, IAM_LAYER_SESSION, NULL);
    else if (!same_account && !rp_ok)
        decide(v, IAM_IMPLICIT_DENY, IAM_LAYER_RESOURCE, NULL);
    else if (role_grant || !same_account)
        decide(v, IAM_ALLOW, IAM_LAYER_RESOURCE, &rp);
    else
        decide(v, IAM_ALLOW, IAM_LAYER_IDENTITY, &id);
}

/* ---- messages ------------------------------------------------------------------------- */

const char *iam_layer_name(iam_layer_t layer)
{
    static const char *const NAMES[] = {
        [IAM_LAYER_ROOT] = "account root",
        [IAM_LAYER_IDENTITY] = "identity-based policy",
        [IAM_LAYER_RESOURCE] = "resource-based policy",
        [IAM_LAYER_BOUNDARY] = "permissions boundary",
        [IAM_LAYER_SESSION] = "session policy",
    };
    return (unsigned)layer < sizeof(NAMES) / sizeof(NAMES[0]) ? NAMES[layer] : "policy";
}

int iam_verdict_message(const iam_request_t *req, const iam_verdict_t *v, buf_t *out)
{
    if (v->effect == IAM_ALLOW)
        return -1;
    bool trust = v->layer == IAM_LAYER_RESOURCE && req->resource_policy &&
                 req->resource_policy->policy->kind == IAM_POLICY_TRUST;
    const char *what = trust ? "role trust policy" : iam_layer_name(v->layer);
    int rc =
        buf_printf(out, "User: %s is not authorized to perform: %s", req->caller.arn, req->action);
    if (rc == 0 && req->resource && req->resource[0] && strcmp(req->resource, "*") != 0)
        rc = buf_printf(out, " on resource: %s", req->resource);
    if (rc < 0)
        return -1;
    if (v->effect == IAM_EXPLICIT_DENY) {
        /* "an identity-based policy", "a permissions boundary", "the role trust policy" */
        const char *article = trust ? "the" : v->layer == IAM_LAYER_IDENTITY ? "an" : "a";
        return buf_printf(out, " with an explicit deny in %s %s", article, what);
    }
    return buf_printf(out, " because no %s allows the %s action", what, req->action);
}
