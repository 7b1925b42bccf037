/*
 * managed — the AWS managed policies nagare knows, with AWS's documents.
 *
 * The documents are the default versions published in the AWS Managed Policy
 * Reference (docs.aws.amazon.com/aws-managed-policy/latest/reference/<name>),
 * with their version ids, dates and descriptions, except:
 *   - ReadOnlyAccess: AWS's document lists read actions for every service;
 *     only its SQS, Lambda, IAM and CloudWatch Logs actions are kept here
 *     (the services nagare serves).
 *   - AmazonSQSFullAccess, AdministratorAccess and
 *     AWSLambdaSQSQueueExecutionRole: their long-standing v1 documents.
 * Every account sees these policies (arn:aws:iam::aws:policy/...); no account
 * can change or delete them.
 */
#include "iam/directory_int.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct managed_doc {
    const char *name;
    const char *path;
    const char *version;
    uint64_t create_ms, update_ms;
    const char *id; /* a stable id of AWS's form */
    const char *description;
    const char *document;
} managed_doc_t;

static const managed_doc_t docs[] = {
    {"AWSLambdaBasicExecutionRole", "/service-role/", "v1", 1428591823000, 1428591823000,
     "ANPAJNCQGXC42545SKXIK", "Provides write permissions to CloudWatch Logs.",
     "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [\n    {\n      \"Effect\" : "
     "\"Allow\",\n      \"Action\" : [\n        \"logs:CreateLogGroup\",\n        "
     "\"logs:CreateLogStream\",\n        \"logs:PutLogEvents\"\n      ],\n      \"Resource\" : "
     "\"*\"\n    }\n  ]\n}"},
    {"AWSLambdaSQSQueueExecutionRole", "/service-role/", "v1", 1529013045000, 1529013045000,
     "ANPAJFWJZI6JNND4TSELK",
     "Provides receive message, delete message, and read attribute access to SQS queues, and "
     "write permissions to CloudWatch logs.",
     "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [\n    {\n      \"Effect\" : "
     "\"Allow\",\n      \"Action\" : [\n        \"sqs:ReceiveMessage\",\n        "
     "\"sqs:DeleteMessage\",\n        \"sqs:GetQueueAttributes\",\n        "
     "\"logs:CreateLogGroup\",\n        \"logs:CreateLogStream\",\n        "
     "\"logs:PutLogEvents\"\n      ],\n      \"Resource\" : \"*\"\n    }\n  ]\n}"},
    {"AWSLambda_FullAccess", "/", "v2", 1605647640000, 1742247420000, "ANPAZKAPJZG4BWRHVNB4L",
     "Grants full access to AWS Lambda service, AWS Lambda console features, and other related "
     "AWS services.",
     "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [\n    {\n      \"Effect\" : "
     "\"Allow\",\n      \"Action\" : [\n        \"cloudformation:DescribeStacks\",\n        "
     "\"cloudformation:ListStackResources\",\n        \"cloudwatch:ListMetrics\",\n        "
     "\"cloudwatch:GetMetricData\",\n        \"ec2:DescribeSecurityGroups\",\n        "
     "\"ec2:DescribeSubnets\",\n        \"ec2:DescribeVpcs\",\n        \"kms:ListAliases\",\n  "
     "      \"iam:GetPolicy\",\n        \"iam:GetPolicyVersion\",\n        \"iam:GetRole\",\n  "
     "      \"iam:GetRolePolicy\",\n        \"iam:ListAttachedRolePolicies\",\n        "
     "\"iam:ListRolePolicies\",\n        \"iam:ListRoles\",\n        \"lambda:*\",\n        "
     "\"logs:DescribeLogGroups\",\n        \"states:DescribeStateMachine\",\n        "
     "\"states:ListStateMachines\",\n        \"tag:GetResources\",\n        "
     "\"xray:GetTraceSummaries\",\n        \"xray:BatchGetTraces\"\n      ],\n      "
     "\"Resource\" : \"*\"\n    },\n    {\n      \"Effect\" : \"Allow\",\n      \"Action\" : "
     "\"iam:PassRole\",\n      \"Resource\" : \"*\",\n      \"Condition\" : {\n        "
     "\"StringEquals\" : {\n          \"iam:PassedToService\" : \"lambda.amazonaws.com\"\n     "
     "   }\n      }\n    },\n    {\n      \"Effect\" : \"Allow\",\n      \"Action\" : [\n      "
     "  \"logs:DescribeLogStreams\",\n        \"logs:GetLogEvents\",\n        "
     "\"logs:FilterLogEvents\",\n        \"logs:StartLiveTail\",\n        "
     "\"logs:StopLiveTail\"\n      ],\n      \"Resource\" : "
     "\"arn:aws:logs:*:*:log-group:/aws/lambda/*\"\n    }\n  ]\n}"},
    {"AdministratorAccess", "/", "v1", 1423247986000, 1423247986000, "ANPAIWMBCKSKIEE64ZLYK",
     "Provides full access to AWS services and resources.",
     "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [\n    {\n      \"Effect\" : "
     "\"Allow\",\n      \"Action\" : \"*\",\n      \"Resource\" : \"*\"\n    }\n  ]\n}"},
    {"AmazonSQSFullAccess", "/", "v1", 1423248067000, 1423248067000, "ANPAI65L554VRJ33ECQS6",
     "Provides full access to Amazon SQS via the AWS Management Console.",
     "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [\n    {\n      \"Action\" : [\n   "
     "     \"sqs:*\"\n      ],\n      \"Effect\" : \"Allow\",\n      \"Resource\" : \"*\"\n    "
     "}\n  ]\n}"},
    {"AmazonSQSReadOnlyAccess", "/", "v4", 1423248066000, 1716574560000, "ANPAIUGSSQY362XGCM6KW",
     "Provides read only access to Amazon SQS via the AWS Management Console.",
     "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [\n    {\n      \"Sid\" : "
     "\"AmazonSQSReadOnlyAccess\",\n      \"Effect\" : \"Allow\",\n      \"Action\" : [\n      "
     "  \"sqs:GetQueueAttributes\",\n        \"sqs:GetQueueUrl\",\n        "
     "\"sqs:ListDeadLetterSourceQueues\",\n        \"sqs:ListQueues\",\n        "
     "\"sqs:ListMessageMoveTasks\",\n        \"sqs:ListQueueTags\"\n      ],\n      "
     "\"Resource\" : \"*\"\n    }\n  ]\n}"},
    {"IAMFullAccess", "/", "v2", 1423248008000, 1561146000000, "ANPAI7XKCFMBPM3QQRRVQ",
     "Provides full access to IAM via the AWS Management Console.",
     "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [\n    {\n      \"Effect\" : "
     "\"Allow\",\n      \"Action\" : [\n        \"iam:*\",\n        "
     "\"organizations:DescribeAccount\",\n        \"organizations:DescribeOrganization\",\n   "
     "     \"organizations:DescribeOrganizationalUnit\",\n        "
     "\"organizations:DescribePolicy\",\n        \"organizations:ListChildren\",\n        "
     "\"organizations:ListParents\",\n        \"organizations:ListPoliciesForTarget\",\n      "
     "  \"organizations:ListRoots\",\n        \"organizations:ListPolicies\",\n        "
     "\"organizations:ListTargetsForPolicy\"\n      ],\n      \"Resource\" : \"*\"\n    }\n  "
     "]\n}"},
    {"ReadOnlyAccess", "/", "v1", 1423247988000, 1423247988000, "ANPAILL3HVNFSB6DCOWYQ",
     "Provides read-only access to AWS services and resources.",
     "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [\n    {\n      \"Sid\" : "
     "\"ReadOnlyActions\",\n      \"Effect\" : \"Allow\",\n      \"Action\" : [\n        "
     "\"iam:Generate*\",\n        \"iam:Get*\",\n        \"iam:List*\",\n        "
     "\"iam:Simulate*\",\n        \"lambda:Get*\",\n        \"lambda:List*\",\n        "
     "\"logs:Describe*\",\n        \"logs:FilterLogEvents\",\n        \"logs:Get*\",\n        "
     "\"logs:ListTagsForResource\",\n        \"logs:ListTagsLogGroup\",\n        "
     "\"logs:StartQuery\",\n        \"logs:StopQuery\",\n        \"logs:TestMetricFilter\",\n  "
     "      \"sqs:Get*\",\n        \"sqs:List*\"\n      ],\n      \"Resource\" : \"*\"\n    "
     "}\n  ]\n}"},
};

static int by_name(const void *a, const void *b)
{
    return strcasecmp((*(iam_dir_policy_t *const *)a)->name, (*(iam_dir_policy_t *const *)b)->name);
}

iam_dir_policy_t **dir_managed_build(size_t *n)
{
    size_t count = sizeof(docs) / sizeof(docs[0]);
    iam_dir_policy_t **out = xcalloc(count, sizeof(*out));
    for (size_t i = 0; i < count; i++) {
        const managed_doc_t *m = &docs[i];
        iam_dir_policy_t *p = xcalloc(1, sizeof(*p));
        iam_policy_t *pol;
        aws_error_t err;
        if (dir_parse(m->document, IAM_POLICY_IDENTITY, &pol, &err) < 0) {
            fprintf(stderr, "nagare: AWS managed policy %s does not parse: %s\n", m->name,
                    err.message);
            abort();
        }
        snprintf(p->account, sizeof(p->account), "aws");
        p->name = xstrdup(m->name);
        p->path = xstrdup(m->path);
        p->id = xstrdup(m->id);
        p->description = xstrdup(m->description);
        p->create_ms = m->create_ms;
        p->update_ms = m->update_ms;
        p->versions = xcalloc(1, sizeof(*p->versions));
        p->versions[0] = (iam_dir_version_t){
            .text = xstrdup(m->document), .policy = pol, .create_ms = m->update_ms};
        snprintf(p->versions[0].id, sizeof(p->versions[0].id), "%s", m->version);
        p->n_versions = 1;
        p->next = 2;
        dir_policy_derive(p);
        out[i] = p;
    }
    qsort(out, count, sizeof(*out), by_name); /* the directory binary-searches them */
    *n = count;
    return out;
}
