"""Asynchronous invocation (InvocationType Event) through real boto3 clients.

Event returns 202 and the function runs; a failing function is retried
MaximumRetryAttempts times, then its record (AWS's destination format,
condition RetriesExhausted) lands in the OnFailure queue; a succeeding one's
record lands in the OnSuccess queue; the event itself goes to the function's
DeadLetterConfig queue; a role without sqs:SendMessage has its destination
record dropped (and Put is refused for it, as AWS checks the role at
configuration time); Put/Get/Update/Delete/ListFunctionEventInvokeConfig(s) with
AWS's shapes and errors.

The server runs with NAGARE_LAMBDA_RETRY_SCALE (run.sh sets 0.01: retries
after 0.6 s and 1.2 s instead of 1 and 2 minutes). Runs under `python3`
(boto3 1.43) and Debian's `/usr/bin/python3` (boto3 1.26).
"""

import json
import sys
import time
import unittest

import boto3
from botocore.exceptions import ClientError

from nagare_client import client, iam_client
from test_lambda_invoke import PY, TRUST, uniq

SLACK = float(__import__("os").environ.get("NAGARE_TIME_SLACK", "1"))
SEND = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["sqs:SendMessage", "lambda:InvokeFunction"], "Resource": "*"}]}


class AsyncTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lam = client("lambda", read_timeout=120)
        cls.iam = iam_client()
        cls.sqs = client("sqs")
        cls.role_name = uniq("async")
        cls.role = cls.iam.create_role(RoleName=cls.role_name,
                                       AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
        cls.iam.put_role_policy(RoleName=cls.role_name, PolicyName="send",
                                PolicyDocument=json.dumps(SEND))
        cls.bare_name = uniq("bare")
        cls.bare = cls.iam.create_role(RoleName=cls.bare_name,
                                       AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]

    def function(self, role=None, **kw):
        name = uniq("fn")
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Role=role or self.role,
                                 Handler="app.handler", Code={"ZipFile": PY}, **kw)
        self.addCleanup(self.lam.delete_function, FunctionName=name)
        return name

    def queue(self):
        url = self.sqs.create_queue(QueueName=uniq("q"))["QueueUrl"]
        self.addCleanup(self.sqs.delete_queue, QueueUrl=url)
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return url, arn["Attributes"]["QueueArn"]

    def wait_message(self, url, seconds=20):
        end = time.time() + seconds * SLACK
        while time.time() < end:
            got = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1,
                                           MessageAttributeNames=["All"]).get("Messages")
            if got:
                return got[0]
        self.fail("no message in %s" % url)

    def event(self, name, payload):
        r = self.lam.invoke(FunctionName=name, InvocationType="Event",
                            Payload=json.dumps(payload))
        self.assertEqual(r["StatusCode"], 202)
        return r["ResponseMetadata"]["RequestId"]

    def test_event_returns_202_and_runs(self):
        url, arn = self.queue()
        name = self.function()
        self.event(name, {"queue": url})  # the function sends to the queue itself
        self.assertEqual(self.wait_message(url)["Body"], "from lambda")

    def test_retries_then_on_failure_record(self):
        url, arn = self.queue()
        name = self.function()
        c = self.lam.put_function_event_invoke_config(
            FunctionName=name, MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": arn}})
        self.assertEqual(c["MaximumRetryAttempts"], 1)
        self.assertTrue(c["FunctionArn"].endswith(":function:%s:$LATEST" % name))
        rid = self.event(name, {"fail": True, "n": 7})
        rec = json.loads(self.wait_message(url)["Body"])
        self.assertEqual(rec["version"], "1.0")
        self.assertTrue(rec["timestamp"].endswith("Z"))
        ctx = rec["requestContext"]
        self.assertEqual(ctx["requestId"], rid)
        self.assertEqual(ctx["condition"], "RetriesExhausted")
        self.assertEqual(ctx["approximateInvokeCount"], 2)
        self.assertTrue(ctx["functionArn"].endswith(":function:%s:$LATEST" % name))
        self.assertEqual(rec["requestPayload"], {"fail": True, "n": 7})
        self.assertEqual(rec["responseContext"]["functionError"], "Unhandled")
        self.assertEqual(rec["responseContext"]["statusCode"], 200)
        self.assertEqual(rec["responseContext"]["executedVersion"], "$LATEST")
        self.assertEqual(rec["responsePayload"]["errorType"], "ValueError")

    def test_on_success_record(self):
        url, arn = self.queue()
        name = self.function()
        self.lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}})
        rid = self.event(name, {"a": 1})
        rec = json.loads(self.wait_message(url)["Body"])
        self.assertEqual(rec["requestContext"]["condition"], "Success")
        self.assertEqual(rec["requestContext"]["requestId"], rid)
        self.assertEqual(rec["requestContext"]["approximateInvokeCount"], 1)
        self.assertEqual(rec["responsePayload"]["echo"], {"a": 1})
        self.assertNotIn("functionError", rec["responseContext"])

    def test_dead_letter_queue(self):
        url, arn = self.queue()
        name = self.function(DeadLetterConfig={"TargetArn": arn})
        conf = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual(conf["DeadLetterConfig"]["TargetArn"], arn)
        self.lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
        rid = self.event(name, {"fail": True})
        m = self.wait_message(url)
        self.assertEqual(json.loads(m["Body"]), {"fail": True})
        self.assertEqual(m["MessageAttributes"]["RequestID"]["StringValue"], rid)
        self.assertIn("ErrorMessage", m["MessageAttributes"])

    def test_role_without_send_drops_the_record(self):
        url, arn = self.queue()
        name = self.function(role=self.bare)
        dest = {"OnSuccess": {"Destination": arn}}
        # AWS checks the role at configuration time ...
        with self.assertRaises(ClientError) as cm:
            self.lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig=dest)
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidParameterValueException")
        self.assertIn("does not have permissions to call SendMessage on %s" % arn,
                      cm.exception.response["Error"]["Message"])
        self.iam.put_role_policy(RoleName=self.bare_name, PolicyName="send",
                                 PolicyDocument=json.dumps(SEND))
        self.lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig=dest)
        # ... and again when it delivers: a role that lost the permission has its record dropped
        self.iam.delete_role_policy(RoleName=self.bare_name, PolicyName="send")
        self.event(name, {"b": 1})
        time.sleep(2 * SLACK)
        got = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages")
        self.assertFalse(got)
        self.iam.put_role_policy(RoleName=self.bare_name, PolicyName="send",
                                 PolicyDocument=json.dumps(SEND))
        self.addCleanup(self.iam.delete_role_policy, RoleName=self.bare_name,
                        PolicyName="send")
        self.event(name, {"b": 2})
        rec = json.loads(self.wait_message(url)["Body"])
        self.assertEqual(rec["requestPayload"], {"b": 2})

    def test_dead_letter_target_needs_the_role(self):
        url, arn = self.queue()
        with self.assertRaises(ClientError) as cm:
            self.function(role=self.bare, DeadLetterConfig={"TargetArn": arn})
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidParameterValueException")
        self.assertIn("permissions to call SendMessage on SQS",
                      cm.exception.response["Error"]["Message"])

    def test_on_success_to_another_function(self):
        url, arn = self.queue()
        target = self.function()
        self.lam.put_function_event_invoke_config(
            FunctionName=target, DestinationConfig={"OnSuccess": {"Destination": arn}})
        tarn = self.lam.get_function(FunctionName=target)["Configuration"]["FunctionArn"]
        name = self.function()
        self.lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": tarn}})
        self.event(name, {"c": 3})
        rec = json.loads(self.wait_message(url)["Body"])  # the target's own OnSuccess
        self.assertEqual(rec["requestPayload"]["requestPayload"], {"c": 3})
        self.assertEqual(rec["requestPayload"]["requestContext"]["condition"], "Success")

    def test_event_invoke_config_api(self):
        name = self.function()
        with self.assertRaises(ClientError) as cm:
            self.lam.get_function_event_invoke_config(FunctionName=name)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        with self.assertRaises(ClientError) as cm:
            self.lam.update_function_event_invoke_config(FunctionName=name,
                                                         MaximumRetryAttempts=1)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        # out-of-range values are refused by botocore itself; the server's checks are
        # in tests/unit/test_lambda_async.c
        c = self.lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=2,
                                                      MaximumEventAgeInSeconds=3600)
        self.assertEqual(c["MaximumEventAgeInSeconds"], 3600)
        self.assertIn("LastModified", c)
        u = self.lam.update_function_event_invoke_config(FunctionName=name,
                                                         MaximumRetryAttempts=0)
        self.assertEqual((u["MaximumRetryAttempts"], u["MaximumEventAgeInSeconds"]), (0, 3600))
        p = self.lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
        self.assertNotIn("MaximumEventAgeInSeconds", p)  # Put replaces the whole configuration
        g = self.lam.get_function_event_invoke_config(FunctionName=name)
        self.assertEqual(g["MaximumRetryAttempts"], 1)
        self.lam.publish_version(FunctionName=name)
        self.lam.put_function_event_invoke_config(FunctionName=name, Qualifier="1",
                                                  MaximumRetryAttempts=2)
        lst = self.lam.list_function_event_invoke_configs(FunctionName=name)
        self.assertEqual([c["FunctionArn"].rsplit(":", 1)[1]
                          for c in lst["FunctionEventInvokeConfigs"]], ["$LATEST", "1"])
        page = self.lam.list_function_event_invoke_configs(FunctionName=name, MaxItems=1)
        self.assertEqual(len(page["FunctionEventInvokeConfigs"]), 1)
        self.assertIn("NextMarker", page)
        self.lam.delete_function_event_invoke_config(FunctionName=name, Qualifier="1")
        with self.assertRaises(ClientError) as cm:
            self.lam.delete_function_event_invoke_config(FunctionName=name, Qualifier="1")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        with self.assertRaises(ClientError) as cm:
            self.lam.put_function_event_invoke_config(
                FunctionName=name, DestinationConfig={"OnFailure": {"Destination": "nope"}})
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidParameterValueException")


def main():
    print("test_lambda_async: python %s, boto3 %s" % (sys.version.split()[0], boto3.__version__),
          flush=True)
    prog = unittest.main(module=__name__, verbosity=2, exit=False)
    r = prog.result
    failed = {getattr(c, "test_case", c).id() for c, _ in r.failures + r.errors}
    passed = r.testsRun - len(failed) - len(r.skipped)
    print("test_lambda_async[boto%s]: %d passed, %d failed, %d skipped"
          % (boto3.__version__, passed, len(failed), len(r.skipped)))
    sys.exit(1 if failed or r.testsRun == 0 else 0)


if __name__ == "__main__":
    main()
