"""Restart check for `nagare serve --data-dir`: queues, messages and the IAM
directory survive.

    persist_check.py before   create a queue with attributes and tags, send 3
                              messages, delete 1 (acknowledged); create an IAM
                              user (path, tags, an Inactive access key, an
                              inline policy, a boundary) in a group, a managed
                              policy with two versions, a role with a trust
                              policy and attached policies
    persist_check.py after    (after the server restarted on the same dir)
                              the queue, its attributes and tags are there and
                              exactly the 2 undeleted messages are received;
                              the IAM entities, documents and links are as
                              they were, and a new policy version is v3

Endpoint from NAGARE_ENDPOINT.  Prints `persistence-<phase>: N passed, M failed`
and exits non-zero on any failed check.
"""

import json
import os
import sys

import boto3  # noqa: F401 (imported first for a clear error when missing)

from nagare_client import ENDPOINT, iam_client, sqs_client  # noqa: E402
from nagare_client import client as client_of  # noqa: E402
NAME = "persist-check"
ACCOUNT = "000000000000"
DOC_V1 = {"Version": "2012-10-17",
          "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}
DOC_V2 = {"Version": "2012-10-17",
          "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
     "Action": "sts:AssumeRole"}]}
POLICY_ARN = "arn:aws:iam::%s:policy/persist-policy" % ACCOUNT
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
BODIES = ["kept one", "deleted", "kept two ✓"]
# Where the before phase leaves the session it made for the after phase.
STATE = os.environ.get("PERSIST_STATE", "/tmp/nagare-persist-session.json")


def client():
    return sqs_client()


class Checks:
    def __init__(self, phase):
        self.phase, self.passed, self.failed = phase, 0, 0

    def eq(self, what, expect, got):
        if expect == got:
            self.passed += 1
            print("ok   %s" % what)
        else:
            self.failed += 1
            print("FAIL %s: expected %r got %r" % (what, expect, got))

    def done(self):
        print("persistence-%s: %d passed, %d failed" % (self.phase, self.passed, self.failed))
        return 1 if self.failed else 0


def before(sqs, ck):
    url = sqs.create_queue(
        QueueName=NAME, Attributes={"VisibilityTimeout": "77"}, tags={"keep": "me"}
    )["QueueUrl"]
    for b in BODIES:
        sqs.send_message(QueueUrl=url, MessageBody=b)
    got = []
    for _ in range(10):
        got += sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=1
        ).get("Messages", [])
        if {m["Body"] for m in got} >= set(BODIES):
            break
    victim = [m for m in got if m["Body"] == "deleted"]
    ck.eq("the message to delete was received", 1, len(victim[:1]))
    if victim:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=victim[0]["ReceiptHandle"])
    n = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    ck.eq("2 messages visible before restart", "2", n["Attributes"]["ApproximateNumberOfMessages"])


def after(sqs, ck):
    url = sqs.get_queue_url(QueueName=NAME)["QueueUrl"]
    ck.eq("queue URL after restart", "%s/000000000000/%s" % (ENDPOINT.rstrip("/"), NAME), url)
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    ck.eq("VisibilityTimeout kept", "77", a.get("VisibilityTimeout"))
    ck.eq("tags kept", {"keep": "me"}, sqs.list_queue_tags(QueueUrl=url).get("Tags"))
    got = []
    for _ in range(5):
        msgs = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300, WaitTimeSeconds=1
        ).get("Messages", [])
        if not msgs and len(got) >= 2:
            break
        got += msgs
    ck.eq("exactly the undeleted messages came back", ["kept one", "kept two ✓"],
          sorted(m["Body"] for m in got))


def iam_before(iam, ck):
    iam.create_policy(PolicyName="persist-policy", PolicyDocument=json.dumps(DOC_V1))
    iam.create_policy_version(PolicyArn=POLICY_ARN, PolicyDocument=json.dumps(DOC_V2),
                              SetAsDefault=True)
    iam.create_group(GroupName="persist-group")
    iam.create_user(UserName="persist-user", Path="/keep/", Tags=[{"Key": "k", "Value": "v"}],
                    PermissionsBoundary=POLICY_ARN)
    key = iam.create_access_key(UserName="persist-user")["AccessKey"]
    iam.update_access_key(UserName="persist-user", AccessKeyId=key["AccessKeyId"],
                          Status="Inactive")
    iam.add_user_to_group(GroupName="persist-group", UserName="persist-user")
    iam.put_user_policy(UserName="persist-user", PolicyName="inline",
                        PolicyDocument=json.dumps(DOC_V1))
    iam.create_role(RoleName="persist-role", AssumeRolePolicyDocument=json.dumps(TRUST),
                    MaxSessionDuration=7200)
    iam.attach_role_policy(RoleName="persist-role", PolicyArn=POLICY_ARN)
    iam.attach_role_policy(RoleName="persist-role", PolicyArn=BASIC)
    ck.eq("IAM user readable before the restart", "persist-user",
          iam.get_user(UserName="persist-user")["User"]["UserName"])
    session_before(iam, ck)


def session_before(iam, ck):
    """An STS session made now must still work after the restart (its token is
    checked with a key nagare keeps in its store)."""
    user_arn = iam.create_user(UserName="persist-assumer")["User"]["Arn"]
    key = iam.create_access_key(UserName="persist-assumer")["AccessKey"]
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="persist-session-role",
                           AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    sts = client_of("sts", "us-east-1", key["AccessKeyId"], key["SecretAccessKey"])
    c = sts.assume_role(RoleArn=role, RoleSessionName="kept")["Credentials"]
    with open(STATE, "w") as f:
        json.dump({k: c[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}, f)
    ck.eq("session made", True, c["AccessKeyId"].startswith("ASIA"))


def session_after(ck):
    with open(STATE) as f:
        c = json.load(f)
    who = client_of("sts", "us-east-1", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    ck.eq("STS session valid after the restart",
          "arn:aws:sts::%s:assumed-role/persist-session-role/kept" % ACCOUNT,
          who.get_caller_identity()["Arn"])


def iam_after(iam, ck):
    session_after(ck)
    u = iam.get_user(UserName="persist-user")["User"]
    ck.eq("user ARN kept", "arn:aws:iam::%s:user/keep/persist-user" % ACCOUNT, u["Arn"])
    ck.eq("user tags kept", [{"Key": "k", "Value": "v"}], u.get("Tags"))
    ck.eq("user boundary kept", POLICY_ARN, u.get("PermissionsBoundary", {}).get(
        "PermissionsBoundaryArn"))
    keys = iam.list_access_keys(UserName="persist-user")["AccessKeyMetadata"]
    ck.eq("access key kept, Inactive", [("AKIA", 20, "Inactive")],
          [(k["AccessKeyId"][:4], len(k["AccessKeyId"]), k["Status"]) for k in keys])
    ck.eq("group membership kept", ["persist-group"],
          [g["GroupName"] for g in iam.list_groups_for_user(UserName="persist-user")["Groups"]])
    ck.eq("inline policy kept", DOC_V1,
          iam.get_user_policy(UserName="persist-user", PolicyName="inline")["PolicyDocument"])
    p = iam.get_policy(PolicyArn=POLICY_ARN)["Policy"]
    ck.eq("default version and counts kept", ("v2", 1, 1),
          (p["DefaultVersionId"], p["AttachmentCount"], p["PermissionsBoundaryUsageCount"]))
    ck.eq("version documents kept", DOC_V2, iam.get_policy_version(
        PolicyArn=POLICY_ARN, VersionId="v2")["PolicyVersion"]["Document"])
    v3 = iam.create_policy_version(PolicyArn=POLICY_ARN, PolicyDocument=json.dumps(DOC_V1))
    ck.eq("version numbering continues", "v3", v3["PolicyVersion"]["VersionId"])
    r = iam.get_role(RoleName="persist-role")["Role"]
    ck.eq("role trust and session kept", (TRUST, 7200),
          (r["AssumeRolePolicyDocument"], r["MaxSessionDuration"]))
    ck.eq("role attachments kept", [POLICY_ARN, BASIC], [
        a["PolicyArn"] for a in iam.list_attached_role_policies(RoleName="persist-role")[
            "AttachedPolicies"]])


def main():
    phase = sys.argv[1] if len(sys.argv) > 1 else ""
    if phase not in ("before", "after"):
        sys.exit("usage: persist_check.py before|after")
    ck = Checks(phase)
    try:
        (before if phase == "before" else after)(client(), ck)
    except Exception as e:  # any client error is a failed check, reported
        ck.eq("no error", None, repr(e))
    try:
        (iam_before if phase == "before" else iam_after)(iam_client(), ck)
    except Exception as e:
        ck.eq("no IAM error", None, repr(e))
    sys.exit(ck.done())


if __name__ == "__main__":
    main()
