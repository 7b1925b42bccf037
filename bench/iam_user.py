"""Creates the least-privilege IAM user `make bench` measures enforcement with:
SendMessage/CreateQueue/GetQueueUrl on the bench's queues only. Prints ID:SECRET.

    iam_user.py ENDPOINT
"""
import json
import sys

import boto3

iam = boto3.client(
    "iam",
    endpoint_url=sys.argv[1],
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
)
iam.create_user(UserName="bench")
policy = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["sqs:SendMessage", "sqs:CreateQueue", "sqs:GetQueueUrl"],
            "Resource": "arn:aws:sqs:*:*:nagare-bench*",
        }
    ],
}
iam.put_user_policy(UserName="bench", PolicyName="send-only", PolicyDocument=json.dumps(policy))
k = iam.create_access_key(UserName="bench")["AccessKey"]
print("%s:%s" % (k["AccessKeyId"], k["SecretAccessKey"]))
