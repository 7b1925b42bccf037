/*
 * bind — connects the IAM directory to authentication and authorization: the
 * identity store finds users' access keys in it, authorization finds users'
 * and roles' policies, tags and managed policies in it. The directory knows
 * neither; they know it only through these hooks.
 */
#ifndef NAGARE_IAM_BIND_H
#define NAGARE_IAM_BIND_H

#include "iam/authz.h"
#include "iam/directory.h"
#include "iam/identity.h"

typedef struct iam_binding iam_binding_t;

/* Makes ids and az read dir (all borrowed; dir must outlive them). Free the
 * binding after ids and az are done with it. */
iam_binding_t *iam_bind(iam_dir_t *dir, iam_identity_t *ids, iam_authz_t *az);
void iam_binding_free(iam_binding_t *b);

#endif
