/* authz — see authz.h. */
#include "iam/authz.h"

#include <string.h>

/* The account in an ARN (arn:partition:service:region:account:...), or "". */
static void arn_account(const char *arn, char *out, size_t outlen)
{
    const char *p = arn;
    out[0] = '\0';
    for (int i = 0; i < 4 && p; i++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    if (!p)
        return;
    size_t n = strcspn(p, ":");
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

void iam_authorize(const iam_principal_t *principal, const char *action, const char *resource,
                   iam_decision_t *d)
{
    char account[32];
    (void)action;
    arn_account(resource, account, sizeof(account));
    /* An account's root may do anything to its own account's resources, to
     * "*" (actions such as ListQueues that name no resource), and to the AWS
     * managed policies (arn:aws:iam::aws:policy/...) every account reads and
     * attaches. */
    if (principal->root && (strcmp(resource, "*") == 0 || strcmp(account, "aws") == 0 ||
                            strcmp(account, principal->account) == 0)) {
        d->allowed = true;
        d->reason = "account root: implicit allow in its own account";
        return;
    }
    d->allowed = false;
    d->reason = "no policy allows this cross-account request";
}
