"""IAM enforcement through the real clients: principals with exactly the
permissions their policies give, failing as AWS fails.

Run by run.sh under both `python3` (boto3 1.43: SQS over AWS JSON 1.0) and
`/usr/bin/python3` (Debian boto3 1.26: SQS over the query protocol); IAM and
STS are query-protocol services in both.  The server is started with a second
account's root (`--account-key 111122223333:other:other-secret`) so the
cross-account rules can be seen.

Environment: NAGARE_ENDPOINT (default http://127.0.0.1:4566).
"""

import json
import warnings
import sys
import time
import unittest
import urllib.parse
import urllib.request
import uuid

import boto3
import botocore
from botocore.exceptions import ClientError

import nagare_client
from nagare_client import ENDPOINT

ACCOUNT = "000000000000"
OTHER = "111122223333"
REGION = "us-east-1"
RUN = uuid.uuid4().hex[:8]
_seq = [0]
warnings.simplefilter("ignore", ResourceWarning)  # clients per principal, closed at exit


def unique(tag):
    _seq[0] += 1
    return "iam-%s-%s-%d" % (tag, RUN, _seq[0])


def client(service, key="test", secret="test", token=None):
    return nagare_client.client(service, REGION, key, secret, token)


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    st = {"Effect": "Allow", "Action": action, "Resource": resource}
    st.update(extra)
    return st


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.iam = client("iam")
        cls.sqs = client("sqs")

    def user(self, tag="u", policies=(), managed=()):
        """A new user with an access key; returns (name, arn, key, secret)."""
        name = unique(tag)
        arn = self.iam.create_user(UserName=name)["User"]["Arn"]
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        for i, p in enumerate(policies):
            self.iam.put_user_policy(UserName=name, PolicyName="p%d" % i, PolicyDocument=p)
        for m in managed:
            self.iam.attach_user_policy(UserName=name, PolicyArn=m)
        self.addCleanup(self._drop_user, name, key["AccessKeyId"], len(policies), managed)
        return name, arn, key["AccessKeyId"], key["SecretAccessKey"]

    def _drop_user(self, name, key_id, n_inline, managed):
        try:
            self.iam.delete_access_key(UserName=name, AccessKeyId=key_id)
            for i in range(n_inline):
                self.iam.delete_user_policy(UserName=name, PolicyName="p%d" % i)
            for m in managed:
                self.iam.detach_user_policy(UserName=name, PolicyArn=m)
            self.iam.delete_user(UserName=name)
        except ClientError:
            pass

    def queue(self, tag="q", sqs=None):
        name = unique(tag)
        url = (sqs or self.sqs).create_queue(QueueName=name)["QueueUrl"]
        self.addCleanup(lambda: self.sqs.delete_queue(QueueUrl=url))
        return name, url, "arn:aws:sqs:%s:%s:%s" % (REGION, ACCOUNT, name)

    def denied(self, fn, **kw):
        """Calls fn, expects AccessDenied (403); returns the message."""
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        e = cm.exception.response
        self.assertIn(e["Error"]["Code"], ("AccessDenied", "AccessDeniedException"), e)
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 403)
        return e["Error"]["Message"]


class LeastPrivilegeTests(Base):
    def test_send_only_user(self):
        _, url, arn = self.queue()
        _, other_url, other_arn = self.queue("other")
        name, user_arn, key, secret = self.user(policies=[doc(allow("sqs:SendMessage", arn))])
        sqs = client("sqs", key, secret)
        self.assertTrue(sqs.send_message(QueueUrl=url, MessageBody="hi")["MessageId"])
        msg = self.denied(sqs.receive_message, QueueUrl=url)
        self.assertEqual(
            msg,
            "User: %s is not authorized to perform: sqs:ReceiveMessage on resource: %s "
            "because no identity-based policy allows the sqs:ReceiveMessage action"
            % (user_arn, arn),
        )
        self.denied(sqs.send_message, QueueUrl=other_url, MessageBody="hi")
        # SendMessageBatch is authorized as sqs:SendMessage.
        r = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "b"}])
        self.assertEqual(len(r["Successful"]), 1)

    def test_explicit_deny_wins(self):
        _, url, arn = self.queue()
        deny = {"Effect": "Deny", "Action": "sqs:DeleteQueue", "Resource": "*"}
        _, user_arn, key, secret = self.user(
            policies=[doc(deny)], managed=["arn:aws:iam::aws:policy/AmazonSQSFullAccess"]
        )
        sqs = client("sqs", key, secret)
        sqs.send_message(QueueUrl=url, MessageBody="full access")
        msg = self.denied(sqs.delete_queue, QueueUrl=url)
        self.assertIn("with an explicit deny in an identity-based policy", msg)

    def test_not_action_and_wildcards(self):
        _, url, arn = self.queue()
        st = {"Effect": "Allow", "NotAction": "sqs:Delete*", "Resource": "arn:aws:sqs:*:*:iam-q-*"}
        _, _, key, secret = self.user(policies=[doc(st)])
        sqs = client("sqs", key, secret)
        sqs.send_message(QueueUrl=url, MessageBody="x")
        m = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]
        self.denied(sqs.delete_message, QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        self.denied(sqs.delete_queue, QueueUrl=url)
        # Resource wildcards: a queue not named iam-q-* is outside the grant.
        _, url2, _ = self.queue("z")
        self.denied(sqs.send_message, QueueUrl=url2, MessageBody="x")

    def test_conditions_on_request_tags(self):
        cond = {
            "StringEquals": {"aws:RequestTag/env": "dev"},
            "ForAllValues:StringEquals": {"aws:TagKeys": ["env"]},
        }
        st = allow("sqs:CreateQueue", "*", Condition=cond)
        _, _, key, secret = self.user(policies=[doc(st, allow("sqs:DeleteQueue"))])
        sqs = client("sqs", key, secret)
        name = unique("tagged")
        url = sqs.create_queue(QueueName=name, tags={"env": "dev"})["QueueUrl"]
        self.addCleanup(lambda: self.sqs.delete_queue(QueueUrl=url))
        self.denied(sqs.create_queue, QueueName=unique("t"), tags={"env": "prod"})
        self.denied(sqs.create_queue, QueueName=unique("t"), tags={"env": "dev", "x": "y"})
        self.denied(sqs.create_queue, QueueName=unique("t"))

    def test_managed_policy_attach_and_detach(self):
        _, url, _ = self.queue()
        ro = "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"
        name, _, key, secret = self.user()
        sqs = client("sqs", key, secret)
        self.denied(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["All"])
        self.iam.attach_user_policy(UserName=name, PolicyArn=ro)
        self.assertIn("QueueArn", sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"])
        self.denied(sqs.send_message, QueueUrl=url, MessageBody="x")
        self.iam.detach_user_policy(UserName=name, PolicyArn=ro)
        self.denied(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["All"])

    def test_group_policies_apply_to_members(self):
        _, url, arn = self.queue()
        name, _, key, secret = self.user()
        group = unique("g")
        self.iam.create_group(GroupName=group)
        self.iam.put_group_policy(
            GroupName=group, PolicyName="send", PolicyDocument=doc(allow("sqs:SendMessage", arn))
        )
        self.addCleanup(self.iam.delete_group, GroupName=group)
        self.addCleanup(self.iam.delete_group_policy, GroupName=group, PolicyName="send")
        sqs = client("sqs", key, secret)
        self.denied(sqs.send_message, QueueUrl=url, MessageBody="x")
        self.iam.add_user_to_group(GroupName=group, UserName=name)
        self.addCleanup(self.iam.remove_user_from_group, GroupName=group, UserName=name)
        sqs.send_message(QueueUrl=url, MessageBody="x")

    def test_permissions_boundary_limits(self):
        _, url, arn = self.queue()
        boundary = self.iam.create_policy(
            PolicyName=unique("b"), PolicyDocument=doc(allow("sqs:ReceiveMessage"))
        )["Policy"]["Arn"]
        self.addCleanup(self.iam.delete_policy, PolicyArn=boundary)
        name, _, key, secret = self.user(policies=[doc(allow("sqs:*"))])
        self.iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary)
        self.addCleanup(self.iam.delete_user_permissions_boundary, UserName=name)
        sqs = client("sqs", key, secret)
        sqs.receive_message(QueueUrl=url)
        msg = self.denied(sqs.send_message, QueueUrl=url, MessageBody="x")
        self.assertIn("because no permissions boundary allows the sqs:SendMessage action", msg)


class ResourcePolicyTests(Base):
    def test_queue_policy_grants_a_user_of_the_account(self):
        _, url, arn = self.queue()
        _, user_arn, key, secret = self.user()
        sqs = client("sqs", key, secret)
        self.denied(sqs.send_message, QueueUrl=url, MessageBody="x")
        policy = doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": user_arn},
                "Action": "sqs:SendMessage",
                "Resource": arn,
            }
        )
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
        sqs.send_message(QueueUrl=url, MessageBody="x")
        self.denied(sqs.receive_message, QueueUrl=url)

    def test_cross_account_needs_the_queue_policy(self):
        _, url, arn = self.queue()
        other = client("sqs", "other", "other-secret")
        msg = self.denied(other.send_message, QueueUrl=url, MessageBody="x")
        self.assertIn("arn:aws:iam::%s:root" % OTHER, msg)
        self.assertIn("because no resource-based policy allows", msg)
        self.sqs.add_permission(
            QueueUrl=url, Label="other", AWSAccountIds=[OTHER], Actions=["SendMessage"]
        )
        other.send_message(QueueUrl=url, MessageBody="x")
        self.denied(other.receive_message, QueueUrl=url)


class StsTests(Base):
    def role(self, trust_principal, policies=()):
        name = unique("r")
        trust = doc(
            {"Effect": "Allow", "Principal": {"AWS": trust_principal}, "Action": "sts:AssumeRole"}
        )
        arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        for i, p in enumerate(policies):
            self.iam.put_role_policy(RoleName=name, PolicyName="p%d" % i, PolicyDocument=p)
        self.addCleanup(self._drop_role, name, len(policies))
        return name, arn

    def _drop_role(self, name, n):
        for i in range(n):
            self.iam.delete_role_policy(RoleName=name, PolicyName="p%d" % i)
        self.iam.delete_role(RoleName=name)

    def test_get_caller_identity(self):
        me = client("sts").get_caller_identity()
        self.assertEqual((me["Account"], me["Arn"]), (ACCOUNT, "arn:aws:iam::%s:root" % ACCOUNT))
        _, user_arn, key, secret = self.user()
        me = client("sts", key, secret).get_caller_identity()
        self.assertEqual(me["Arn"], user_arn)
        self.assertTrue(me["UserId"].startswith("AIDA"))

    def test_assume_role_and_use_the_session(self):
        _, url, qarn = self.queue()
        uname, user_arn, key, secret = self.user()
        rname, rarn = self.role(user_arn, [doc(allow("sqs:SendMessage", qarn))])
        sts = client("sts", key, secret)
        r = sts.assume_role(RoleArn=rarn, RoleSessionName="job-1", DurationSeconds=900)
        c = r["Credentials"]
        self.assertTrue(c["AccessKeyId"].startswith("ASIA"))
        self.assertEqual(
            r["AssumedRoleUser"]["Arn"], "arn:aws:sts::%s:assumed-role/%s/job-1" % (ACCOUNT, rname)
        )
        exp = c["Expiration"]
        self.assertLess(abs(exp.timestamp() - (time.time() + 900)), 60)
        token = (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        who = client("sts", *token).get_caller_identity()
        self.assertEqual(who["Arn"], r["AssumedRoleUser"]["Arn"])
        sqs = client("sqs", *token)
        sqs.send_message(QueueUrl=url, MessageBody="as the role")
        msg = self.denied(sqs.receive_message, QueueUrl=url)
        self.assertIn(r["AssumedRoleUser"]["Arn"], msg)
        # A token altered by one character is not ours.
        bad = c["SessionToken"][:-6] + ("A" if c["SessionToken"][-6] != "A" else "B") + c["SessionToken"][-5:]
        with self.assertRaises(ClientError) as cm:
            client("sts", c["AccessKeyId"], c["SecretAccessKey"], bad).get_caller_identity()
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidClientTokenId")

    def test_trust_policy_decides(self):
        _, user_arn, key, secret = self.user()
        _, rarn = self.role("arn:aws:iam::%s:user/someone-else" % ACCOUNT)
        self.denied(client("sts", key, secret).assume_role, RoleArn=rarn, RoleSessionName="s1")
        # A trust policy naming the account delegates: the user needs sts:AssumeRole itself.
        _, rarn2 = self.role("arn:aws:iam::%s:root" % ACCOUNT)
        self.denied(client("sts", key, secret).assume_role, RoleArn=rarn2, RoleSessionName="s2")
        _, _, key2, secret2 = self.user(policies=[doc(allow("sts:AssumeRole", rarn2))])
        client("sts", key2, secret2).assume_role(RoleArn=rarn2, RoleSessionName="s3")
        # Roots may not assume roles.
        msg = self.denied(client("sts").assume_role, RoleArn=rarn2, RoleSessionName="s4")
        self.assertEqual(msg, "Roles may not be assumed by root accounts.")

    def test_session_policy_intersects(self):
        _, url, qarn = self.queue()
        _, user_arn, key, secret = self.user()
        _, rarn = self.role(user_arn, [doc(allow("sqs:*", qarn))])
        r = client("sts", key, secret).assume_role(
            RoleArn=rarn, RoleSessionName="narrow", Policy=doc(allow("sqs:ReceiveMessage", qarn))
        )
        c = r["Credentials"]
        sqs = client("sqs", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        sqs.receive_message(QueueUrl=url)
        msg = self.denied(sqs.send_message, QueueUrl=url, MessageBody="x")
        self.assertIn("because no session policy allows the sqs:SendMessage action", msg)

    def test_assume_role_validation(self):
        _, user_arn, key, secret = self.user()
        _, rarn = self.role(user_arn)
        sts = client("sts", key, secret)
        for kw in (
            {"RoleSessionName": "has space"},
            {"RoleSessionName": "ok", "DurationSeconds": 43201},
        ):
            with self.subTest(kw=kw):
                with self.assertRaises(ClientError) as cm:
                    sts.assume_role(RoleArn=rarn, **kw)
                self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationError")
        with self.assertRaises(ClientError) as cm:
            sts.assume_role(RoleArn=rarn, RoleSessionName="ok", Policy="{not json")
        self.assertEqual(cm.exception.response["Error"]["Code"], "MalformedPolicyDocument")


class EveryActionIsAuthorized(Base):
    """A principal with no policies is denied every action nagare serves
    (except GetCallerIdentity, which AWS lets anyone call): no handler is
    reachable without an IAM decision."""

    def test_no_policies_no_access(self):
        _, _, key, secret = self.user("nobody")
        _, url, arn = self.queue()
        placeholders = {
            "QueueUrl": url,
            "QueueName": unique("nq"),
            "SourceArn": arn,
            "RoleArn": "arn:aws:iam::%s:role/none" % ACCOUNT,
            "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "TaskHandle": TASK_HANDLE,
        }
        checked = 0
        for service, actions in SERVED.items():
            c = client(service, key, secret)
            model = c.meta.service_model
            self.assertTrue(actions, service)
            for op_name in actions:
                if op_name not in model.operation_names:
                    continue  # an operation newer than this botocore (boto3 1.26)
                op = model.operation_model(op_name)
                params = self.minimal(op.input_shape, placeholders)
                method = getattr(c, botocore.xform_name(op_name))
                with self.subTest(op="%s:%s" % (service, op_name)):
                    if op_name == "GetCallerIdentity":
                        method(**params)
                        continue
                    try:
                        method(**params)
                        self.fail("%s:%s was allowed" % (service, op_name))
                    except ClientError as e:
                        code = e.response["Error"]["Code"]
                        self.assertIn(code, ("AccessDenied", "AccessDeniedException"), op_name)
                    checked += 1
        self.assertGreater(checked, 60)

    @classmethod
    def minimal(cls, shape, placeholders, name=""):
        """The smallest input the model accepts: required members only."""
        if shape is None:
            return {}
        t = shape.type_name
        if t == "structure":
            return {
                m: cls.minimal(shape.members[m], placeholders, m) for m in shape.required_members
            }
        if t == "list":
            return [cls.minimal(shape.member, placeholders, name)]
        if t == "map":
            return {"k": cls.minimal(shape.value, placeholders, name)}
        if name in placeholders:
            return placeholders[name]
        if t == "string":
            if name.endswith("Arn"):
                return "arn:aws:iam::%s:user/x" % ACCOUNT
            return "x" * max(1, shape.metadata.get("min", 1))
        if t in ("integer", "long"):
            return max(1, shape.metadata.get("min", 1))
        if t == "boolean":
            return False
        if t == "blob":
            return b"x"
        return None


# A well-formed handle of a task that does not exist.
TASK_HANDLE = (
    "eyJ0YXNrSWQiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiLCJzb3VyY2VBcm4iOiJhcm46"
    "YXdzOnNxczp1cy1lYXN0LTE6MDAwMDAwMDAwMDAwOnEifQ=="
)
SERVED = {}  # service -> the actions nagare serves, as its health endpoint lists them


def main():
    with urllib.request.urlopen(ENDPOINT + "/_nagare/health", timeout=10) as r:
        SERVED.update(json.loads(r.read())["services"])
    s3 = client("sqs")
    proto = s3.meta.service_model.protocol
    print(
        "test_iam_enforce: python %s, boto3 %s, SQS protocol %s, endpoint %s"
        % (sys.version.split()[0], boto3.__version__, proto, ENDPOINT),
        flush=True,
    )
    prog = unittest.main(module=__name__, verbosity=2, exit=False)
    r = prog.result
    failed = {getattr(c, "test_case", c).id() for c, _ in r.failures + r.errors}
    passed = r.testsRun - len(failed) - len(r.skipped)
    print("test_iam_enforce[%s]: %d passed, %d failed, %d skipped" % (proto, passed, len(failed), len(r.skipped)))
    sys.exit(1 if failed or r.testsRun == 0 else 0)


if __name__ == "__main__":
    main()
