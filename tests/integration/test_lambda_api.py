"""Lambda control-plane integration tests for nagare with real boto3 clients.

Lambda speaks REST-JSON on every SDK, so this module runs under the image's
`python3` (boto3 1.43) and Debian's `/usr/bin/python3` (boto3 1.26). The
expectations are AWS's documented behaviour: status codes, error codes in
x-amzn-ErrorType (ResourceNotFoundException 404, ResourceConflictException
409, InvalidParameterValueException 400, PreconditionFailedException 412,
RequestEntityTooLargeException 413, AccessDeniedException 403), ARNs with
qualifiers, the resource policy as AWS renders it, the role trust and
iam:PassRole checks. Running functions comes with the executor; here Invoke is
exercised up to the executor (DryRun, limits, authorization).

Environment: NAGARE_ENDPOINT (default http://127.0.0.1:4566). Prints
`test_lambda_api[boto3 X]: N passed, M failed`.
"""

import base64
import hashlib
import io
import json
import sys
import unittest
import uuid
import zipfile

import boto3
import botocore
from botocore.exceptions import ClientError

from nagare_client import client, iam_client

ACCOUNT = "000000000000"
RUN = uuid.uuid4().hex[:8]
TRUST_LAMBDA = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}
TRUST_EC2 = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}
_seq = 0


def uniq(prefix):
    global _seq
    _seq += 1
    return "%s-%s-%d" % (prefix, RUN, _seq)


def zip_of(files):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return b.getvalue()


CODE = zip_of({"app.py": "def handler(event, context):\n    return event\n"})


class LambdaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lam = client("lambda")
        cls.iam = iam_client()
        cls.role = cls.iam.create_role(RoleName=uniq("exec"),
                                       AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA))["Role"]["Arn"]

    def assertError(self, code, status, fn, *args, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(*args, **kw)
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], code, err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status, err)
        return err

    def create(self, name=None, **kw):
        args = dict(FunctionName=name or uniq("fn"), Runtime="python3.12", Role=self.role,
                    Handler="app.handler", Code={"ZipFile": CODE})
        args.update(kw)
        return self.lam.create_function(**args)

    # ---- functions ----------------------------------------------------------------------

    def test_create_get_delete(self):
        name = uniq("fn")
        f = self.create(name, Timeout=30, MemorySize=256, Description="d",
                        Environment={"Variables": {"A": "1"}}, Tags={"team": "x"})
        self.assertEqual(f["ResponseMetadata"]["HTTPStatusCode"], 201)
        self.assertEqual(f["FunctionArn"], "arn:aws:lambda:us-east-1:%s:function:%s" % (ACCOUNT, name))
        self.assertEqual(f["CodeSha256"], base64.b64encode(hashlib.sha256(CODE).digest()).decode())
        self.assertEqual(f["CodeSize"], len(CODE))
        self.assertEqual(f["State"], "Pending")
        self.assertEqual((f["Timeout"], f["MemorySize"], f["Version"]), (30, 256, "$LATEST"))
        g = self.lam.get_function(FunctionName=name)
        self.assertEqual(g["Configuration"]["State"], "Active")
        self.assertEqual(g["Configuration"]["LastUpdateStatus"], "Successful")
        self.assertEqual(g["Configuration"]["Environment"]["Variables"], {"A": "1"})
        self.assertEqual(g["Tags"], {"team": "x"})
        # the waiter AWS's own tools use
        self.lam.get_waiter("function_active_v2").wait(FunctionName=name)
        c = self.lam.get_function_configuration(FunctionName=f["FunctionArn"])
        self.assertEqual(c["Description"], "d")
        d = self.lam.delete_function(FunctionName=name)
        self.assertIn(d["ResponseMetadata"]["HTTPStatusCode"], (200, 204))
        self.assertError("ResourceNotFoundException", 404, self.lam.get_function, FunctionName=name)

    def test_errors(self):
        name = uniq("fn")
        self.create(name)
        err = self.assertError("ResourceConflictException", 409, self.create, name)
        self.assertIn(name, err["Error"]["Message"])
        err = self.assertError("ResourceNotFoundException", 404, self.lam.get_function,
                               FunctionName=uniq("none"))
        self.assertTrue(err["Error"]["Message"].startswith("Function not found: arn:aws:lambda:"))
        self.assertError("ValidationException", 400, self.create, Timeout=901)
        self.assertError("ValidationException", 400, self.create, MemorySize=10241)
        self.assertError("InvalidParameterValueException", 400, self.create, Runtime="cobol1")
        self.assertError("InvalidParameterValueException", 400, self.create,
                         Code={"ZipFile": b"not a zip"})

    def test_role_must_be_assumable(self):
        msg = "The role defined for the function cannot be assumed by Lambda."
        ec2 = self.iam.create_role(RoleName=uniq("ec2"),
                                   AssumeRolePolicyDocument=json.dumps(TRUST_EC2))["Role"]["Arn"]
        err = self.assertError("InvalidParameterValueException", 400, self.create, Role=ec2)
        self.assertEqual(err["Error"]["Message"], msg)
        missing = "arn:aws:iam::%s:role/%s" % (ACCOUNT, uniq("missing"))
        err = self.assertError("InvalidParameterValueException", 400, self.create, Role=missing)
        self.assertEqual(err["Error"]["Message"], msg)
        name = uniq("fn")
        self.create(name)
        self.assertError("InvalidParameterValueException", 400,
                         self.lam.update_function_configuration, FunctionName=name, Role=ec2)

    def test_pass_role(self):
        user = uniq("dev")
        self.iam.create_user(UserName=user)
        key = self.iam.create_access_key(UserName=user)["AccessKey"]
        allow = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}]}
        self.iam.put_user_policy(UserName=user, PolicyName="lambda", PolicyDocument=json.dumps(allow))
        lam = client("lambda", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
        args = dict(FunctionName=uniq("fn"), Runtime="python3.12", Role=self.role,
                    Handler="app.handler", Code={"ZipFile": CODE})
        err = self.assertError("AccessDeniedException", 403, lam.create_function, **args)
        self.assertIn("iam:PassRole", err["Error"]["Message"])
        passrole = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": self.role}]}
        self.iam.put_user_policy(UserName=user, PolicyName="pass", PolicyDocument=json.dumps(passrole))
        self.assertEqual(lam.create_function(**args)["ResponseMetadata"]["HTTPStatusCode"], 201)

    def test_list_functions_pages(self):
        names = sorted(uniq("page") for _ in range(5))
        for n in names:
            self.create(n)
        seen, marker = [], None
        while True:
            kw = {"MaxItems": 2}
            if marker:
                kw["Marker"] = marker
            page = self.lam.list_functions(**kw)
            self.assertLessEqual(len(page["Functions"]), 2)
            seen += [f["FunctionName"] for f in page["Functions"]]
            marker = page.get("NextMarker")
            if not marker:
                break
        self.assertEqual([n for n in seen if n in names], names)
        self.assertEqual(seen, sorted(seen))
        paged = [f["FunctionName"] for p in self.lam.get_paginator("list_functions").paginate()
                 for f in p["Functions"]]
        self.assertTrue(set(names) <= set(paged))

    def test_update_code_and_configuration(self):
        name = uniq("fn")
        f = self.create(name)
        new = zip_of({"app.py": "def handler(e, c):\n    return 1\n"})
        u = self.lam.update_function_code(FunctionName=name, ZipFile=new)
        self.assertNotEqual(u["CodeSha256"], f["CodeSha256"])
        self.assertNotEqual(u["RevisionId"], f["RevisionId"])
        u = self.lam.update_function_configuration(FunctionName=name, Timeout=60, Handler="app.h2",
                                                   Environment={"Variables": {"B": "2"}})
        self.assertEqual((u["Timeout"], u["Handler"]), (60, "app.h2"))
        self.lam.get_waiter("function_updated_v2").wait(FunctionName=name)
        self.assertError("PreconditionFailedException", 412, self.lam.update_function_configuration,
                         FunctionName=name, Timeout=5, RevisionId=f["RevisionId"])

    # ---- versions and aliases -----------------------------------------------------------

    def test_versions_aliases_qualifiers(self):
        name = uniq("fn")
        f = self.create(name)
        v1 = self.lam.publish_version(FunctionName=name, Description="one")
        self.assertEqual(v1["Version"], "1")
        self.assertEqual(v1["FunctionArn"], f["FunctionArn"] + ":1")
        self.assertEqual(self.lam.publish_version(FunctionName=name)["Version"], "1")
        self.lam.update_function_configuration(FunctionName=name, Timeout=9)
        self.assertEqual(self.lam.publish_version(FunctionName=name)["Version"], "2")
        vs = self.lam.list_versions_by_function(FunctionName=name)["Versions"]
        self.assertEqual([v["Version"] for v in vs], ["$LATEST", "1", "2"])
        a = self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        self.assertEqual(a["AliasArn"], f["FunctionArn"] + ":live")
        self.assertError("ResourceConflictException", 409, self.lam.create_alias,
                         FunctionName=name, Name="live", FunctionVersion="1")
        self.assertError("ResourceNotFoundException", 404, self.lam.create_alias,
                         FunctionName=name, Name="x", FunctionVersion="9")
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name, Qualifier="live")["Timeout"], 3)
        self.assertEqual(self.lam.get_function(FunctionName=f["FunctionArn"] + ":2")["Configuration"]["Timeout"], 9)
        self.assertError("ResourceNotFoundException", 404, self.lam.get_function,
                         FunctionName=name, Qualifier="7")
        u = self.lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
        self.assertEqual(u["FunctionVersion"], "2")
        self.assertEqual(self.lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"], "2")
        self.assertEqual(len(self.lam.list_aliases(FunctionName=name)["Aliases"]), 1)
        self.assertError("ResourceConflictException", 409, self.lam.delete_function,
                         FunctionName=name, Qualifier="2")
        self.lam.delete_function(FunctionName=name, Qualifier="1")
        self.lam.delete_alias(FunctionName=name, Name="live")
        self.assertError("ResourceNotFoundException", 404, self.lam.get_alias,
                         FunctionName=name, Name="live")

    # ---- concurrency, policy, tags, account ---------------------------------------------

    def test_concurrency(self):
        name = uniq("fn")
        self.create(name)
        self.assertNotIn("ReservedConcurrentExecutions", self.lam.get_function_concurrency(FunctionName=name))
        before = self.lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=10)
        self.assertEqual(self.lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"], 10)
        self.assertEqual(self.lam.get_function(FunctionName=name)["Concurrency"]["ReservedConcurrentExecutions"], 10)
        after = self.lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
        self.assertEqual(before - after, 10)
        self.assertError("InvalidParameterValueException", 400, self.lam.put_function_concurrency,
                         FunctionName=name, ReservedConcurrentExecutions=after + 10)
        self.lam.delete_function_concurrency(FunctionName=name)
        self.assertNotIn("ReservedConcurrentExecutions", self.lam.get_function_concurrency(FunctionName=name))

    def test_permissions(self):
        name = uniq("fn")
        f = self.create(name)
        self.assertError("ResourceNotFoundException", 404, self.lam.get_policy, FunctionName=name)
        st = self.lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                                     Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::bucket",
                                     SourceAccount=ACCOUNT)
        self.assertEqual(st["ResponseMetadata"]["HTTPStatusCode"], 201)
        self.assertEqual(json.loads(st["Statement"]), {
            "Sid": "s3", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "lambda:InvokeFunction", "Resource": f["FunctionArn"],
            "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT},
                          "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}}})
        self.lam.add_permission(FunctionName=name, StatementId="acct", Action="lambda:GetFunction",
                                Principal="111122223333")
        p = self.lam.get_policy(FunctionName=name)
        doc = json.loads(p["Policy"])
        self.assertEqual((doc["Version"], doc["Id"]), ("2012-10-17", "default"))
        self.assertEqual([s["Sid"] for s in doc["Statement"]], ["s3", "acct"])
        self.assertEqual(doc["Statement"][1]["Principal"], {"AWS": "arn:aws:iam::111122223333:root"})
        self.assertError("ResourceConflictException", 409, self.lam.add_permission, FunctionName=name,
                         StatementId="s3", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
        self.assertError("PreconditionFailedException", 412, self.lam.remove_permission,
                         FunctionName=name, StatementId="s3", RevisionId="stale")
        self.lam.remove_permission(FunctionName=name, StatementId="s3")
        self.assertError("ResourceNotFoundException", 404, self.lam.remove_permission,
                         FunctionName=name, StatementId="s3")

    def test_tags(self):
        f = self.create(Tags={"a": "1"})
        arn = f["FunctionArn"]
        self.lam.tag_resource(Resource=arn, Tags={"b": "2", "a": "3"})
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"], {"a": "3", "b": "2"})
        self.lam.untag_resource(Resource=arn, TagKeys=["a", "zz"])
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"], {"b": "2"})
        self.assertError("ResourceNotFoundException", 404, self.lam.list_tags,
                         Resource=arn.replace(f["FunctionName"], uniq("none")))

    def test_account_settings(self):
        s = self.lam.get_account_settings()
        self.assertEqual(s["AccountLimit"]["ConcurrentExecutions"], 1000)
        self.assertGreaterEqual(s["AccountUsage"]["FunctionCount"], 0)

    # ---- invoke up to the executor ------------------------------------------------------

    def test_invoke_dry_run(self):
        name = uniq("fn")
        self.create(name)
        self.lam.publish_version(FunctionName=name)
        r = self.lam.invoke(FunctionName=name, InvocationType="DryRun", Payload=b'{"a":1}')
        self.assertEqual(r["StatusCode"], 204)
        self.assertEqual(self.lam.invoke(FunctionName=name, InvocationType="DryRun", Qualifier="1")["StatusCode"], 204)
        self.assertError("ResourceNotFoundException", 404, self.lam.invoke, FunctionName=name,
                         InvocationType="DryRun", Qualifier="5")
        self.assertError("InvalidRequestContentException", 400, self.lam.invoke, FunctionName=name,
                         InvocationType="DryRun", Payload=b"{not json")
        self.assertError("RequestEntityTooLargeException", 413, self.lam.invoke, FunctionName=name,
                         Payload=b'"' + b"x" * 6291456 + b'"')
        self.assertError("RequestEntityTooLargeException", 413, self.lam.invoke, FunctionName=name,
                         InvocationType="Event", Payload=b'"' + b"x" * 1048576 + b'"')

    def test_invoke_authorization(self):
        name = uniq("fn")
        f = self.create(name)
        user = uniq("caller")
        u = self.iam.create_user(UserName=user)["User"]
        key = self.iam.create_access_key(UserName=user)["AccessKey"]
        lam = client("lambda", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
        err = self.assertError("AccessDeniedException", 403, lam.invoke, FunctionName=name,
                               InvocationType="DryRun")
        self.assertIn("lambda:InvokeFunction", err["Error"]["Message"])
        # the function's resource policy naming the user lets it in
        self.lam.add_permission(FunctionName=name, StatementId="u", Action="lambda:InvokeFunction",
                                Principal=u["Arn"])
        self.assertEqual(lam.invoke(FunctionName=f["FunctionArn"], InvocationType="DryRun")["StatusCode"], 204)
        self.assertError("AccessDeniedException", 403, lam.get_function, FunctionName=name)


def main():
    c = client("lambda")
    proto = c.meta.service_model.protocol
    c.close()
    print("test_lambda_api: python %s, boto3 %s, botocore %s, Lambda protocol %s"
          % (sys.version.split()[0], boto3.__version__, botocore.__version__, proto), flush=True)
    prog = unittest.main(module=__name__, verbosity=2, exit=False)
    r = prog.result
    failed = {getattr(case, "test_case", case).id() for case, _ in r.failures + r.errors}
    passed = r.testsRun - len(failed) - len(r.skipped)
    print("test_lambda_api[boto%s]: %d passed, %d failed, %d skipped"
          % (boto3.__version__, passed, len(failed), len(r.skipped)))
    sys.exit(1 if failed or r.testsRun == 0 else 0)


if __name__ == "__main__":
    main()
