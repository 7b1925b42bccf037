"""IAM integration tests for nagare with real boto3 clients.

IAM speaks the query protocol (form parameters in, XML out) on every SDK, so
this module runs under the image's `python3` (boto3 1.43) and Debian's
`/usr/bin/python3` (boto3 1.26) to cover both botocore parsers.  The
expectations are AWS's documented behaviour: error codes and HTTP statuses
(NoSuchEntity 404, EntityAlreadyExists 409, DeleteConflict 409, LimitExceeded
409, MalformedPolicyDocument 400, InvalidInput 400, ValidationError 400),
ARNs and ids, documents returned URL-encoded (botocore decodes them into
dicts), the AWS managed policies with their documents, quotas.

Environment: NAGARE_ENDPOINT (default http://127.0.0.1:4566).  Runs with
`python3 test_iam.py`; prints `test_iam[boto3 X]: N passed, M failed`.
"""

import json
import re
import sys
import unittest
import uuid

import boto3
import botocore
from botocore.exceptions import ClientError

from nagare_client import iam_client

ACCOUNT = "000000000000"
RUN = uuid.uuid4().hex[:8]
_seq = 0

ALLOW_SEND = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}],
}
TRUST_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def unique(tag):
    """A name no other test (or the other interpreter's run) uses."""
    global _seq
    _seq += 1
    return "it-%s-%s-%d" % (tag, RUN, _seq)


def doc_of_size(n):
    """A valid identity policy of about n non-blank characters."""
    pad = "A" * max(0, n - 100)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": pad, "Effect": "Allow", "Action": "sqs:*", "Resource": "*"}
            ],
        }
    )


class IamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.iam = iam_client(connect_timeout=5, read_timeout=30)
        # For what botocore would refuse before sending: the server's answer.
        cls.raw = iam_client(connect_timeout=5, read_timeout=30, parameter_validation=False)

    @classmethod
    def tearDownClass(cls):
        cls.iam.close()
        cls.raw.close()

    def assertError(self, code, status, fn, *args, message=None, **kwargs):
        with self.assertRaises(ClientError) as cm:
            fn(*args, **kwargs)
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], code, err)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)
        if message is not None:
            if hasattr(message, "search"):
                self.assertRegex(err["Message"], message)
            else:
                self.assertEqual(err["Message"], message)
        return err

    def user(self, tag="u", **kwargs):
        name = unique(tag)
        return self.iam.create_user(UserName=name, **kwargs)["User"]

    def role(self, tag="r", **kwargs):
        name = unique(tag)
        return self.iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA), **kwargs
        )["Role"]

    def policy(self, tag="p", doc=ALLOW_SEND, **kwargs):
        name = unique(tag)
        return self.iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(doc), **kwargs)[
            "Policy"
        ]


class Users(IamTest):
    def test_create_get_list_delete(self):
        u = self.user(Path="/eng/", Tags=[{"Key": "team", "Value": "blue"}])
        name = u["UserName"]
        self.assertEqual(u["Arn"], "arn:aws:iam::%s:user/eng/%s" % (ACCOUNT, name))
        self.assertRegex(u["UserId"], r"^AIDA[A-Z0-9]{17}$")
        self.assertEqual(u["Path"], "/eng/")
        self.assertEqual(u["Tags"], [{"Key": "team", "Value": "blue"}])
        # Names are found without regard to case.
        got = self.iam.get_user(UserName=name.upper())["User"]
        self.assertEqual(got["UserId"], u["UserId"])
        self.assertEqual(got["Tags"], [{"Key": "team", "Value": "blue"}])
        names = [x["UserName"] for x in self.iam.list_users(PathPrefix="/eng/")["Users"]]
        self.assertIn(name, names)
        self.iam.delete_user(UserName=name)
        self.assertError("NoSuchEntity", 404, self.iam.get_user, UserName=name,
                         message="The user with name %s cannot be found." % name)

    def test_duplicate_and_invalid_names(self):
        u = self.user()
        self.assertError("EntityAlreadyExists", 409, self.iam.create_user,
                         UserName=u["UserName"].upper(),
                         message="User with name %s already exists." % u["UserName"].upper())
        self.assertError("ValidationError", 400, self.iam.create_user, UserName="no spaces",
                         message=re.compile("at 'userName' failed to satisfy constraint"))
        self.assertError("ValidationError", 400, self.iam.create_user, UserName=unique("x"),
                         Path="nopath")
        self.assertError("NoSuchEntity", 404, self.iam.delete_user, UserName=unique("ghost"))

    def test_pagination(self):
        prefix = "/page-%s/" % RUN
        made = sorted(self.user(Path=prefix)["UserName"] for _ in range(3))
        page = self.iam.list_users(PathPrefix=prefix, MaxItems=2)
        self.assertTrue(page["IsTruncated"])
        rest = self.iam.list_users(PathPrefix=prefix, MaxItems=2, Marker=page["Marker"])
        self.assertFalse(rest["IsTruncated"])
        got = [u["UserName"] for u in page["Users"] + rest["Users"]]
        self.assertEqual(got, made)
        paginated = [
            u["UserName"]
            for p in self.iam.get_paginator("list_users").paginate(
                PathPrefix=prefix, PaginationConfig={"PageSize": 1}
            )
            for u in p["Users"]
        ]
        self.assertEqual(paginated, made)
        self.assertError("ValidationError", 400, self.raw.list_users, MaxItems=0)

    def test_get_user_without_name_is_the_caller(self):
        me = self.iam.get_user()["User"]
        self.assertEqual(me["Arn"], "arn:aws:iam::%s:root" % ACCOUNT)
        self.assertEqual(me["UserId"], ACCOUNT)

    def test_tags(self):
        name = self.user()["UserName"]
        self.iam.tag_user(UserName=name, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
        self.iam.tag_user(UserName=name, Tags=[{"Key": "A", "Value": "3"}])
        tags = self.iam.list_user_tags(UserName=name)["Tags"]
        self.assertEqual(sorted((t["Key"], t["Value"]) for t in tags), [("A", "3"), ("b", "2")])
        self.iam.untag_user(UserName=name, TagKeys=["b"])
        self.assertEqual(self.iam.list_user_tags(UserName=name)["Tags"], [{"Key": "A", "Value": "3"}])
        self.assertError("InvalidInput", 400, self.iam.tag_user, UserName=name,
                         Tags=[{"Key": "k", "Value": "1"}, {"Key": "K", "Value": "2"}])
        too_many = [{"Key": "k%d" % i, "Value": "v"} for i in range(50)]
        self.assertError("LimitExceeded", 409, self.iam.tag_user, UserName=name, Tags=too_many)


class AccessKeys(IamTest):
    def test_lifecycle_and_quota(self):
        name = self.user()["UserName"]
        k1 = self.iam.create_access_key(UserName=name)["AccessKey"]
        self.assertRegex(k1["AccessKeyId"], r"^AKIA[A-Z0-9]{16}$")
        self.assertEqual(len(k1["SecretAccessKey"]), 40)
        self.assertEqual(k1["Status"], "Active")
        self.assertEqual(k1["UserName"], name)
        k2 = self.iam.create_access_key(UserName=name)["AccessKey"]
        self.assertNotEqual(k1["AccessKeyId"], k2["AccessKeyId"])
        self.assertError("LimitExceeded", 409, self.iam.create_access_key, UserName=name,
                         message="Cannot exceed quota for AccessKeysPerUser: 2")
        listed = self.iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
        self.assertEqual(sorted(k["AccessKeyId"] for k in listed),
                         sorted([k1["AccessKeyId"], k2["AccessKeyId"]]))
        # The secret is shown once, at creation.
        self.assertTrue(all("SecretAccessKey" not in k for k in listed))
        self.iam.update_access_key(UserName=name, AccessKeyId=k1["AccessKeyId"], Status="Inactive")
        status = {k["AccessKeyId"]: k["Status"]
                  for k in self.iam.list_access_keys(UserName=name)["AccessKeyMetadata"]}
        self.assertEqual(status[k1["AccessKeyId"]], "Inactive")
        self.assertError("ValidationError", 400, self.raw.update_access_key, UserName=name,
                         AccessKeyId=k1["AccessKeyId"], Status="Maybe")
        self.assertError("DeleteConflict", 409, self.iam.delete_user, UserName=name,
                         message="Cannot delete entity, must delete access keys first.")
        for k in (k1, k2):
            self.iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
        self.assertError("NoSuchEntity", 404, self.iam.delete_access_key, UserName=name,
                         AccessKeyId=k1["AccessKeyId"])
        self.iam.delete_user(UserName=name)


class Groups(IamTest):
    def test_membership(self):
        user = self.user()["UserName"]
        group = unique("g")
        g = self.iam.create_group(GroupName=group, Path="/teams/")["Group"]
        self.assertRegex(g["GroupId"], r"^AGPA[A-Z0-9]{17}$")
        self.assertEqual(g["Arn"], "arn:aws:iam::%s:group/teams/%s" % (ACCOUNT, group))
        self.assertError("EntityAlreadyExists", 409, self.iam.create_group, GroupName=group)
        self.iam.add_user_to_group(GroupName=group, UserName=user)
        got = self.iam.get_group(GroupName=group)
        self.assertEqual(got["Group"]["GroupName"], group)
        self.assertEqual([u["UserName"] for u in got["Users"]], [user])
        groups = self.iam.list_groups_for_user(UserName=user)["Groups"]
        self.assertEqual([x["GroupName"] for x in groups], [group])
        self.assertIn(group, [x["GroupName"] for x in self.iam.list_groups(PathPrefix="/teams/")["Groups"]])
        self.assertError("DeleteConflict", 409, self.iam.delete_group, GroupName=group,
                         message="Cannot delete entity, must remove users from group first.")
        self.assertError("DeleteConflict", 409, self.iam.delete_user, UserName=user)
        self.iam.remove_user_from_group(GroupName=group, UserName=user)
        self.assertEqual(self.iam.get_group(GroupName=group)["Users"], [])
        self.iam.delete_group(GroupName=group)
        self.iam.delete_user(UserName=user)
        self.assertError("NoSuchEntity", 404, self.iam.get_group, GroupName=group)


class Roles(IamTest):
    def test_trust_policy_and_updates(self):
        r = self.role(Description="runs lambdas", MaxSessionDuration=7200,
                      Tags=[{"Key": "app", "Value": "x"}])
        name = r["RoleName"]
        self.assertRegex(r["RoleId"], r"^AROA[A-Z0-9]{17}$")
        self.assertEqual(r["Arn"], "arn:aws:iam::%s:role/%s" % (ACCOUNT, name))
        self.assertEqual(r["AssumeRolePolicyDocument"], TRUST_LAMBDA)
        got = self.iam.get_role(RoleName=name)["Role"]
        self.assertEqual(got["AssumeRolePolicyDocument"], TRUST_LAMBDA)
        self.assertEqual(got["MaxSessionDuration"], 7200)
        self.assertEqual(got["Description"], "runs lambdas")
        self.assertEqual(got["Tags"], [{"Key": "app", "Value": "x"}])
        self.assertIn(name, [x["RoleName"] for x in self.iam.list_roles()["Roles"]])
        trust = dict(TRUST_LAMBDA)
        trust["Statement"] = [dict(TRUST_LAMBDA["Statement"][0],
                                   Principal={"AWS": "arn:aws:iam::%s:root" % ACCOUNT})]
        self.iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
        self.assertEqual(self.iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"], trust)
        self.iam.update_role(RoleName=name, MaxSessionDuration=43200, Description="changed")
        got = self.iam.get_role(RoleName=name)["Role"]
        self.assertEqual((got["MaxSessionDuration"], got["Description"]), (43200, "changed"))
        self.assertError("ValidationError", 400, self.raw.update_role, RoleName=name,
                         MaxSessionDuration=43201)
        self.iam.tag_role(RoleName=name, Tags=[{"Key": "env", "Value": "dev"}])
        self.assertEqual(len(self.iam.list_role_tags(RoleName=name)["Tags"]), 2)
        self.iam.untag_role(RoleName=name, TagKeys=["env"])
        self.assertEqual(self.iam.list_role_tags(RoleName=name)["Tags"], [{"Key": "app", "Value": "x"}])
        self.iam.delete_role(RoleName=name)
        self.assertError("NoSuchEntity", 404, self.iam.get_role, RoleName=name,
                         message="The role with name %s cannot be found." % name)

    def test_refusals(self):
        self.assertError("MalformedPolicyDocument", 400, self.iam.create_role, RoleName=unique("r"),
                         AssumeRolePolicyDocument="{not json")
        # An identity policy is no trust policy: it has no Principal.
        self.assertError("MalformedPolicyDocument", 400, self.iam.create_role, RoleName=unique("r"),
                         AssumeRolePolicyDocument=json.dumps(ALLOW_SEND))
        self.assertError("ValidationError", 400, self.raw.create_role, RoleName=unique("r"),
                         AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA), MaxSessionDuration=60)
        r = self.role()
        self.assertError("EntityAlreadyExists", 409, self.iam.create_role, RoleName=r["RoleName"],
                         AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA))

    def test_delete_refused_while_policies_remain(self):
        name = self.role()["RoleName"]
        arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        self.iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        self.assertError("DeleteConflict", 409, self.iam.delete_role, RoleName=name,
                         message="Cannot delete entity, must detach all policies first.")
        self.iam.detach_role_policy(RoleName=name, PolicyArn=arn)
        self.iam.put_role_policy(RoleName=name, PolicyName="send", PolicyDocument=json.dumps(ALLOW_SEND))
        self.assertError("DeleteConflict", 409, self.iam.delete_role, RoleName=name,
                         message="Cannot delete entity, must delete policies first.")
        self.iam.delete_role_policy(RoleName=name, PolicyName="send")
        self.iam.delete_role(RoleName=name)


class InlinePolicies(IamTest):
    def check_kind(self, kind, name):
        put = getattr(self.iam, "put_%s_policy" % kind)
        get = getattr(self.iam, "get_%s_policy" % kind)
        delete = getattr(self.iam, "delete_%s_policy" % kind)
        lst = getattr(self.iam, "list_%s_policies" % kind)
        key = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
        put(**{key: name}, PolicyName="send", PolicyDocument=json.dumps(ALLOW_SEND))
        put(**{key: name}, PolicyName="also", PolicyDocument=json.dumps(ALLOW_SEND, indent=2))
        got = get(**{key: name}, PolicyName="send")
        self.assertEqual(got[key], name)
        self.assertEqual(got["PolicyDocument"], ALLOW_SEND)
        self.assertEqual(lst(**{key: name})["PolicyNames"], ["also", "send"])
        self.assertError("MalformedPolicyDocument", 400, put, **{key: name}, PolicyName="bad",
                         PolicyDocument="{", message="Syntax errors in policy.")
        self.assertError("MalformedPolicyDocument", 400, put, **{key: name}, PolicyName="bad",
                         PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                             {"Effect": "Allow", "Action": "sqs:*"}]}),
                         message="Policy statement must contain resources.")
        self.assertError("NoSuchEntity", 404, get, **{key: name}, PolicyName="nope",
                         message="The %s policy with name nope cannot be found." % kind)
        delete(**{key: name}, PolicyName="send")
        delete(**{key: name}, PolicyName="also")
        self.assertEqual(lst(**{key: name})["PolicyNames"], [])

    def test_user_group_role(self):
        self.check_kind("user", self.user()["UserName"])
        group = unique("g")
        self.iam.create_group(GroupName=group)
        self.check_kind("group", group)
        self.check_kind("role", self.role()["RoleName"])

    def test_size_quotas(self):
        user = self.user()["UserName"]
        self.iam.put_user_policy(UserName=user, PolicyName="a", PolicyDocument=doc_of_size(1500))
        # The quota counts all of a user's inline policies together.
        self.assertError("LimitExceeded", 409, self.iam.put_user_policy, UserName=user,
                         PolicyName="b", PolicyDocument=doc_of_size(1000),
                         message="Maximum policy size of 2048 bytes exceeded for user %s" % user)
        role = self.role()["RoleName"]
        self.iam.put_role_policy(RoleName=role, PolicyName="a", PolicyDocument=doc_of_size(9000))
        self.assertError("LimitExceeded", 409, self.iam.put_role_policy, RoleName=role,
                         PolicyName="b", PolicyDocument=doc_of_size(2000))
        self.assertError("LimitExceeded", 409, self.iam.create_policy, PolicyName=unique("big"),
                         PolicyDocument=doc_of_size(7000),
                         message="Cannot exceed quota for PolicySize: 6144")


class ManagedPolicies(IamTest):
    def test_versions(self):
        p = self.policy(Description="send only", Path="/app/")
        arn = p["Arn"]
        self.assertEqual(arn, "arn:aws:iam::%s:policy/app/%s" % (ACCOUNT, p["PolicyName"]))
        self.assertRegex(p["PolicyId"], r"^ANPA[A-Z0-9]{17}$")
        self.assertEqual((p["DefaultVersionId"], p["AttachmentCount"], p["IsAttachable"]),
                         ("v1", 0, True))
        got = self.iam.get_policy(PolicyArn=arn)["Policy"]
        self.assertEqual(got["Description"], "send only")
        v1 = self.iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
        self.assertEqual((v1["Document"], v1["IsDefaultVersion"]), (ALLOW_SEND, True))
        wider = {"Version": "2012-10-17",
                 "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}
        v2 = self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(wider),
                                            SetAsDefault=True)["PolicyVersion"]
        self.assertEqual((v2["VersionId"], v2["IsDefaultVersion"]), ("v2", True))
        self.assertNotIn("Document", v2)
        for _ in range(3):
            self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(ALLOW_SEND))
        self.assertError("LimitExceeded", 409, self.iam.create_policy_version, PolicyArn=arn,
                         PolicyDocument=json.dumps(ALLOW_SEND))
        versions = self.iam.list_policy_versions(PolicyArn=arn)["Versions"]
        self.assertEqual([v["VersionId"] for v in versions], ["v5", "v4", "v3", "v2", "v1"])
        self.assertEqual([v["VersionId"] for v in versions if v["IsDefaultVersion"]], ["v2"])
        self.assertEqual(self.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"], "v2")
        self.assertError("DeleteConflict", 409, self.iam.delete_policy_version, PolicyArn=arn,
                         VersionId="v2", message="Cannot delete the default version of a policy.")
        self.assertError("DeleteConflict", 409, self.iam.delete_policy, PolicyArn=arn)
        self.iam.set_default_policy_version(PolicyArn=arn, VersionId="v5")
        self.assertError("NoSuchEntity", 404, self.iam.get_policy_version, PolicyArn=arn,
                         VersionId="v9")
        self.assertError("MalformedPolicyDocument", 400, self.iam.create_policy, PolicyName=unique("m"),
                         PolicyDocument="[]")
        for v in ("v1", "v2", "v3", "v4"):
            self.iam.delete_policy_version(PolicyArn=arn, VersionId=v)
        self.iam.delete_policy(PolicyArn=arn)
        self.assertError("NoSuchEntity", 404, self.iam.get_policy, PolicyArn=arn,
                         message="Policy %s was not found." % arn)

    def test_attach_detach(self):
        p = self.policy()
        user, role = self.user()["UserName"], self.role()["RoleName"]
        group = unique("g")
        self.iam.create_group(GroupName=group)
        self.iam.attach_user_policy(UserName=user, PolicyArn=p["Arn"])
        self.iam.attach_group_policy(GroupName=group, PolicyArn=p["Arn"])
        self.iam.attach_role_policy(RoleName=role, PolicyArn=p["Arn"])
        self.assertEqual(self.iam.get_policy(PolicyArn=p["Arn"])["Policy"]["AttachmentCount"], 3)
        for kind, key, name in (("user", "UserName", user), ("group", "GroupName", group),
                                ("role", "RoleName", role)):
            listed = getattr(self.iam, "list_attached_%s_policies" % kind)(**{key: name})
            self.assertEqual(listed["AttachedPolicies"],
                             [{"PolicyName": p["PolicyName"], "PolicyArn": p["Arn"]}])
        ents = self.iam.list_entities_for_policy(PolicyArn=p["Arn"])
        self.assertEqual([u["UserName"] for u in ents["PolicyUsers"]], [user])
        self.assertEqual([g["GroupName"] for g in ents["PolicyGroups"]], [group])
        self.assertEqual([r["RoleName"] for r in ents["PolicyRoles"]], [role])
        attached = [x["Arn"] for x in self.iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]]
        self.assertIn(p["Arn"], attached)
        self.assertError("DeleteConflict", 409, self.iam.delete_policy, PolicyArn=p["Arn"],
                         message="Cannot delete a policy attached to entities.")
        self.assertError("NoSuchEntity", 404, self.iam.attach_user_policy, UserName=user,
                         PolicyArn="arn:aws:iam::%s:policy/nothing-%s" % (ACCOUNT, RUN))
        self.assertError("InvalidInput", 400, self.raw.attach_user_policy, UserName=user,
                         PolicyArn="not-an-arn", message="ARN not-an-arn is not valid.")
        self.iam.detach_user_policy(UserName=user, PolicyArn=p["Arn"])
        self.iam.detach_group_policy(GroupName=group, PolicyArn=p["Arn"])
        self.iam.detach_role_policy(RoleName=role, PolicyArn=p["Arn"])
        self.assertError("NoSuchEntity", 404, self.iam.detach_role_policy, RoleName=role,
                         PolicyArn=p["Arn"])
        self.iam.delete_policy(PolicyArn=p["Arn"])

    def test_attached_quota(self):
        user = self.user()["UserName"]
        for _ in range(10):
            self.iam.attach_user_policy(UserName=user, PolicyArn=self.policy()["Arn"])
        self.assertError("LimitExceeded", 409, self.iam.attach_user_policy, UserName=user,
                         PolicyArn=self.policy()["Arn"],
                         message="Cannot exceed quota for PoliciesPerUser: 10")


class AwsManagedPolicies(IamTest):
    EXPECTED = {
        "arn:aws:iam::aws:policy/AdministratorAccess": "*",
        "arn:aws:iam::aws:policy/ReadOnlyAccess": "sqs:Get*",
        "arn:aws:iam::aws:policy/AmazonSQSFullAccess": "sqs:*",
        "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess": "sqs:ListQueues",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": "logs:PutLogEvents",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole": "sqs:ReceiveMessage",
        "arn:aws:iam::aws:policy/AWSLambda_FullAccess": "lambda:*",
        "arn:aws:iam::aws:policy/IAMFullAccess": "iam:*",
    }

    def test_present_with_documents(self):
        listed = {p["Arn"]: p for p in self.iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]}
        for arn, action in self.EXPECTED.items():
            with self.subTest(arn=arn):
                self.assertIn(arn, listed)
                p = self.iam.get_policy(PolicyArn=arn)["Policy"]
                v = self.iam.get_policy_version(PolicyArn=arn, VersionId=p["DefaultVersionId"])
                doc = v["PolicyVersion"]["Document"]
                self.assertEqual(doc["Version"], "2012-10-17")
                stmts = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
                actions = []
                for s in stmts:
                    a = s["Action"]
                    actions += a if isinstance(a, list) else [a]
                self.assertIn(action, actions)
        basic = listed["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
        self.assertEqual(basic["Path"], "/service-role/")
        local = [p["Arn"] for p in self.iam.list_policies(Scope="Local", MaxItems=1000)["Policies"]]
        self.assertFalse(any(a.startswith("arn:aws:iam::aws:") for a in local))

    def test_attach_to_role_and_unmodifiable(self):
        role = self.role()["RoleName"]
        arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
        self.iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        self.assertEqual(self.iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"],
                         [{"PolicyName": "AWSLambdaSQSQueueExecutionRole", "PolicyArn": arn}])
        self.assertGreaterEqual(self.iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"], 1)
        self.assertError("UnmodifiableEntity", 400, self.iam.delete_policy, PolicyArn=arn)
        self.assertError("UnmodifiableEntity", 400, self.iam.create_policy_version, PolicyArn=arn,
                         PolicyDocument=json.dumps(ALLOW_SEND))
        self.iam.detach_role_policy(RoleName=role, PolicyArn=arn)


class Boundaries(IamTest):
    def test_user_and_role(self):
        p = self.policy()
        user = self.user(PermissionsBoundary=p["Arn"])
        self.assertEqual(user["PermissionsBoundary"],
                         {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": p["Arn"]})
        self.assertEqual(self.iam.get_policy(PolicyArn=p["Arn"])["Policy"]["PermissionsBoundaryUsageCount"], 1)
        self.assertError("DeleteConflict", 409, self.iam.delete_policy, PolicyArn=p["Arn"])
        self.iam.delete_user_permissions_boundary(UserName=user["UserName"])
        self.assertNotIn("PermissionsBoundary", self.iam.get_user(UserName=user["UserName"])["User"])
        role = self.role()["RoleName"]
        admin = "arn:aws:iam::aws:policy/AdministratorAccess"
        self.iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=admin)
        got = self.iam.get_role(RoleName=role)["Role"]
        self.assertEqual(got["PermissionsBoundary"]["PermissionsBoundaryArn"], admin)
        self.iam.delete_role_permissions_boundary(RoleName=role)
        self.assertNotIn("PermissionsBoundary", self.iam.get_role(RoleName=role)["Role"])
        self.assertError("NoSuchEntity", 404, self.iam.put_user_permissions_boundary,
                         UserName=user["UserName"],
                         PermissionsBoundary="arn:aws:iam::%s:policy/none-%s" % (ACCOUNT, RUN))
        self.iam.delete_policy(PolicyArn=p["Arn"])


class Errors(IamTest):
    def test_error_shapes(self):
        err = self.assertError("NoSuchEntity", 404, self.iam.get_role, RoleName=unique("none"))
        self.assertTrue(err["Message"])
        try:
            self.iam.get_user(UserName=unique("none"))
        except self.iam.exceptions.NoSuchEntityException as e:
            self.assertEqual(e.response["Error"]["Type"], "Sender")
        else:
            self.fail("no NoSuchEntityException")
        self.assertError("InvalidInput", 400, self.raw.get_policy, PolicyArn="nope")

    def test_unknown_action(self):
        self.assertError("InvalidAction", 400, self.iam.get_account_summary)


def main():
    c = iam_client()
    proto = c.meta.service_model.protocol
    c.close()
    print("test_iam: python %s, boto3 %s, botocore %s, IAM protocol %s"
          % (sys.version.split()[0], boto3.__version__, botocore.__version__, proto), flush=True)
    prog = unittest.main(module=__name__, verbosity=2, exit=False)
    r = prog.result
    failed = set()
    for case, _ in r.failures + r.errors:
        failed.add(getattr(case, "test_case", case).id())
    skipped = len(r.skipped)
    passed = r.testsRun - len(failed) - skipped
    print("test_iam[boto%s]: %d passed, %d failed, %d skipped"
          % (boto3.__version__, passed, len(failed), skipped))
    sys.exit(1 if failed or r.testsRun == 0 else 0)


if __name__ == "__main__":
    main()
