/*
 * authz — the authorization decision every action goes through.
 *
 * The gateway calls iam_authorize for every request, with the IAM action and
 * resource ARN that the action's table entry computes. Today the only
 * principals are account roots, which AWS allows everything in their own
 * account, so the decision is "allow (root)"; the IAM issue puts the policy
 * engine behind this same call and records decisions for `nagare iam explain`.
 */
#ifndef NAGARE_IAM_AUTHZ_H
#define NAGARE_IAM_AUTHZ_H

#include "iam/identity.h"

#include <stdbool.h>

typedef struct iam_decision {
    bool allowed;
    const char *reason; /* static text: which rule decided */
} iam_decision_t;

/* Decides whether principal may perform action (e.g. "sqs:SendMessage") on
 * resource (an ARN). Fills *d; never fails. */
void iam_authorize(const iam_principal_t *principal, const char *action, const char *resource,
                   iam_decision_t *d);

#endif
