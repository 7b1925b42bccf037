/*
 * sts — the STS query API as a gateway service: GetCallerIdentity and
 * AssumeRole (session credentials from session.h, verified by identity.c).
 */
#ifndef NAGARE_IAM_STS_H
#define NAGARE_IAM_STS_H

#include "aws/gateway.h"
#include "iam/authz.h"
#include "iam/directory.h"
#include "iam/identity.h"

typedef struct iam_sts iam_sts_t;

/* The STS service over ids, dir and authz (borrowed). */
iam_sts_t *iam_sts_new(iam_identity_t *ids, iam_dir_t *dir, iam_authz_t *authz);
void iam_sts_free(iam_sts_t *sts);
/* The gateway registration (borrowed from sts). */
const aws_service_t *iam_sts_gateway(iam_sts_t *sts);

#endif
