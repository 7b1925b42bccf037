"""`nagare serve --no-iam`: SigV4 still identifies every caller, but any
authenticated caller may do anything.

    noiam_check.py      (against a server started with --no-iam)

Prints `no-iam: N passed, M failed`; endpoint from NAGARE_ENDPOINT.
"""

import sys
import uuid

import boto3  # noqa: F401 (a clear error when missing)
from botocore.exceptions import ClientError

import nagare_client


def client(service, key="test", secret="test"):
    return nagare_client.client(service, "us-east-1", key, secret)


def main():
    passed = failed = 0

    def check(what, ok):
        nonlocal passed, failed
        print(("ok   " if ok else "FAIL ") + what)
        passed, failed = passed + ok, failed + (not ok)

    iam, name = client("iam"), "noiam-" + uuid.uuid4().hex[:8]
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user_sqs = client("sqs", key["AccessKeyId"], key["SecretAccessKey"])
    url = user_sqs.create_queue(QueueName=name)["QueueUrl"]
    check("a user without policies creates a queue", url.endswith("/" + name))
    sent = user_sqs.send_message(QueueUrl=url, MessageBody="x")
    check("and sends to it", bool(sent.get("MessageId")))
    who = client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    check("the caller is still identified", who["Arn"].endswith(":user/" + name))
    try:
        client("sqs", key["AccessKeyId"], "wrong").list_queues()
        check("a wrong secret is still refused", False)
    except ClientError as e:
        check("a wrong secret is still refused", e.response["Error"]["Code"] == "SignatureDoesNotMatch")
    print("no-iam: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
