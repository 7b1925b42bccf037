/*
 * sts — see sts.h. Thin handlers: decode → identity/session → encode.
 */
#include "iam/sts.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STS_MAX_BODY (64 * 1024)

struct iam_sts {
    iam_identity_t *ids;
    aws_service_t gateway;
};

static int res_any(aws_call_t *c, buf_t *arn)
{
    (void)c;
    buf_puts(arn, "*");
    return 0;
}

/* GetCallerIdentity: who the request's credentials are (AWS requires no
 * permission for it; authz says so for the record). */
static int h_get_caller_identity(aws_call_t *c)
{
    c->out = json_pack("{s:s, s:s, s:s}", "UserId", c->principal.user_id, "Account",
                       c->principal.account, "Arn", c->principal.arn);
    return AWS_CALL_DONE;
}

static const aws_action_t sts_actions[] = {
    {"GetCallerIdentity", "sts:GetCallerIdentity", res_any, h_get_caller_identity},
};

iam_sts_t *iam_sts_new(iam_identity_t *ids)
{
    iam_sts_t *sts = xcalloc(1, sizeof(*sts));
    sts->ids = ids;
    sts->gateway = (aws_service_t){
        "sts",        &model_sts, sts_actions, sizeof(sts_actions) / sizeof(sts_actions[0]),
        STS_MAX_BODY, sts,        NULL};
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
