"""CloudWatch Logs integration tests for nagare with real boto3 clients.

Logs speaks AWS JSON 1.1 on every SDK, so this module runs under the image's
`python3` (boto3 1.43) and Debian's `/usr/bin/python3` (boto3 1.26). The
expectations are AWS's documented behaviour: error codes
(ResourceNotFoundException, ResourceAlreadyExistsException,
InvalidParameterException, AccessDeniedException), PutLogEvents' batch rules
and rejectedLogEventsInfo, GetLogEvents' forward/backward tokens (the same
token comes back at the end of the stream), FilterLogEvents' text patterns and
pagination, retention, and IAM enforcement on log-group ARNs.

Environment: NAGARE_ENDPOINT (default http://127.0.0.1:4566). Prints
`test_logs[boto3 X]: N passed, M failed`.
"""

import json
import sys
import time
import unittest
import uuid

import boto3
import botocore
from botocore.exceptions import ClientError

from nagare_client import client, iam_client

ACCOUNT = "000000000000"
RUN = uuid.uuid4().hex[:8]
_seq = 0
DAY = 86400000


def unique(tag):
    global _seq
    _seq += 1
    return "/it/%s/%s-%d" % (tag, RUN, _seq)


def now_ms():
    return int(time.time() * 1000)


class LogsTest(unittest.TestCase):
    def setUp(self):
        self.logs = client("logs")

    def code(self, ctx):
        return ctx.exception.response["Error"]["Code"]

    def group_with_stream(self, tag, stream="s"):
        g = unique(tag)
        self.logs.create_log_group(logGroupName=g)
        self.logs.create_log_stream(logGroupName=g, logStreamName=stream)
        return g

    def put(self, g, s, events):
        return self.logs.put_log_events(logGroupName=g, logStreamName=s, logEvents=events)

    # ---- groups and streams ----

    def test_groups(self):
        g = unique("grp")
        self.logs.create_log_group(logGroupName=g, tags={"team": "a"})
        with self.assertRaises(ClientError) as cm:
            self.logs.create_log_group(logGroupName=g)
        self.assertEqual(self.code(cm), "ResourceAlreadyExistsException")
        r = self.logs.describe_log_groups(logGroupNamePrefix=g)["logGroups"]
        self.assertEqual(len(r), 1)
        self.assertEqual(r[0]["logGroupName"], g)
        self.assertEqual(r[0]["arn"], "arn:aws:logs:us-east-1:%s:log-group:%s:*" % (ACCOUNT, g))
        self.assertNotIn("retentionInDays", r[0])
        self.assertAlmostEqual(r[0]["creationTime"], now_ms(), delta=60000)
        with self.assertRaises(ClientError) as cm:
            self.logs.create_log_group(logGroupName="bad name!")
        self.assertEqual(self.code(cm), "InvalidParameterException")
        self.logs.delete_log_group(logGroupName=g)
        with self.assertRaises(ClientError) as cm:
            self.logs.delete_log_group(logGroupName=g)
        self.assertEqual(self.code(cm), "ResourceNotFoundException")
        self.assertEqual(cm.exception.response["Error"]["Message"],
                         "The specified log group does not exist.")

    def test_groups_are_per_region(self):
        g = unique("region")
        self.logs.create_log_group(logGroupName=g)
        other = client("logs", region="eu-west-1")
        self.assertEqual(other.describe_log_groups(logGroupNamePrefix=g)["logGroups"], [])
        other.create_log_group(logGroupName=g)
        other.delete_log_group(logGroupName=g)

    def test_describe_groups_paginates(self):
        base = unique("page")
        for i in range(7):
            self.logs.create_log_group(logGroupName="%s/%d" % (base, i))
        pages = self.logs.get_paginator("describe_log_groups").paginate(
            logGroupNamePrefix=base, PaginationConfig={"PageSize": 3})
        names = [g["logGroupName"] for p in pages for g in p["logGroups"]]
        self.assertEqual(names, ["%s/%d" % (base, i) for i in range(7)])
        with self.assertRaises(ClientError) as cm:
            self.logs.describe_log_groups(logGroupNamePrefix=base, nextToken="nonsense")
        self.assertEqual(self.code(cm), "InvalidParameterException")

    def test_streams(self):
        g = self.group_with_stream("streams", "b")
        self.logs.create_log_stream(logGroupName=g, logStreamName="a")
        self.logs.create_log_stream(logGroupName=g, logStreamName="2024/01/01/[$LATEST]0123")
        with self.assertRaises(ClientError) as cm:
            self.logs.create_log_stream(logGroupName=g, logStreamName="a")
        self.assertEqual(self.code(cm), "ResourceAlreadyExistsException")
        with self.assertRaises(ClientError) as cm:
            self.logs.create_log_stream(logGroupName=g, logStreamName="x:y")
        self.assertEqual(self.code(cm), "InvalidParameterException")
        with self.assertRaises(ClientError) as cm:
            self.logs.create_log_stream(logGroupName=g + "-missing", logStreamName="a")
        self.assertEqual(self.code(cm), "ResourceNotFoundException")
        t = now_ms()
        self.put(g, "b", [{"timestamp": t - 10, "message": "x"}])
        self.put(g, "a", [{"timestamp": t - 5, "message": "y"}])
        names = [s["logStreamName"] for s in self.logs.describe_log_streams(logGroupName=g)["logStreams"]]
        self.assertEqual(names, ["2024/01/01/[$LATEST]0123", "a", "b"])
        r = self.logs.describe_log_streams(logGroupName=g, orderBy="LastEventTime", descending=True)
        self.assertEqual([s["logStreamName"] for s in r["logStreams"]][:2], ["a", "b"])
        s = r["logStreams"][0]
        self.assertEqual(s["firstEventTimestamp"], t - 5)
        self.assertEqual(s["lastEventTimestamp"], t - 5)
        self.assertIn("lastIngestionTime", s)
        self.assertEqual(s["arn"], "arn:aws:logs:us-east-1:%s:log-group:%s:log-stream:a" % (ACCOUNT, g))
        with self.assertRaises(ClientError) as cm:
            self.logs.describe_log_streams(logGroupName=g, orderBy="LastEventTime", logStreamNamePrefix="a")
        self.assertEqual(self.code(cm), "InvalidParameterException")
        pages = self.logs.get_paginator("describe_log_streams").paginate(
            logGroupName=g, PaginationConfig={"PageSize": 1})
        self.assertEqual(len([s for p in pages for s in p["logStreams"]]), 3)
        # logGroupIdentifier takes the ARN too (SDKs whose model has it)
        shape = self.logs.meta.service_model.operation_model("DescribeLogStreams").input_shape
        if "logGroupIdentifier" not in shape.members or "logGroupName" in shape.required_members:
            return
        arn = "arn:aws:logs:us-east-1:%s:log-group:%s:*" % (ACCOUNT, g)
        r = self.logs.describe_log_streams(logGroupIdentifier=arn, logStreamNamePrefix="a")
        self.assertEqual([s["logStreamName"] for s in r["logStreams"]], ["a"])

    # ---- PutLogEvents ----

    def test_put_rules(self):
        g = self.group_with_stream("put")
        t = now_ms()
        r = self.put(g, "s", [{"timestamp": t, "message": "hello"}])
        self.assertNotIn("rejectedLogEventsInfo", r)
        # the sequence token is ignored, as AWS does now
        self.logs.put_log_events(logGroupName=g, logStreamName="s", sequenceToken="bogus",
                                 logEvents=[{"timestamp": t, "message": "again"}])
        r = self.put(g, "s", [
            {"timestamp": t - 15 * DAY, "message": "too old"},
            {"timestamp": t, "message": "fine"},
            {"timestamp": t + 3 * 3600000, "message": "too new"},
        ])
        self.assertEqual(r["rejectedLogEventsInfo"],
                         {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 2})
        msgs = [e["message"] for e in self.logs.get_log_events(
            logGroupName=g, logStreamName="s", startFromHead=True)["events"]]
        self.assertEqual(msgs, ["hello", "again", "fine"])
        with self.assertRaises(ClientError) as cm:
            self.put(g, "s", [{"timestamp": t, "message": "b"}, {"timestamp": t - 1, "message": "a"}])
        self.assertEqual(self.code(cm), "InvalidParameterException")
        self.assertIn("chronological order", cm.exception.response["Error"]["Message"])
        with self.assertRaises(ClientError) as cm:
            self.put(g, "s", [{"timestamp": t - 2 * DAY, "message": "a"}, {"timestamp": t, "message": "b"}])
        self.assertIn("24 hours", cm.exception.response["Error"]["Message"])
        with self.assertRaises(ClientError) as cm:
            self.put(g, "s", [{"timestamp": t, "message": "x" * 600000}, {"timestamp": t, "message": "y" * 600000}])
        self.assertIn("Upload too large", cm.exception.response["Error"]["Message"])
        with self.assertRaises(ClientError) as cm:
            self.put(g, "nope", [{"timestamp": t, "message": "x"}])
        self.assertEqual(self.code(cm), "ResourceNotFoundException")
        self.assertEqual(cm.exception.response["Error"]["Message"],
                         "The specified log stream does not exist.")

    def test_put_many_and_unicode(self):
        g = self.group_with_stream("many")
        t = now_ms()
        self.put(g, "s", [{"timestamp": t, "message": "line %d ✓ \"q\"\n" % i} for i in range(10000)])
        r = self.logs.get_log_events(logGroupName=g, logStreamName="s", startFromHead=True, limit=3)
        self.assertEqual(r["events"][1]["message"], "line 1 ✓ \"q\"\n")
        with self.assertRaises(ClientError) as cm:
            self.put(g, "s", [{"timestamp": t, "message": "x"}] * 10001)
        self.assertEqual(self.code(cm), "InvalidParameterException")

    # ---- GetLogEvents ----

    def test_get_tokens(self):
        g = self.group_with_stream("get")
        t = now_ms() - 1000
        self.put(g, "s", [{"timestamp": t + i, "message": "m%d" % i} for i in range(10)])
        r = self.logs.get_log_events(logGroupName=g, logStreamName="s", limit=3)
        self.assertEqual([e["message"] for e in r["events"]], ["m7", "m8", "m9"])
        self.assertTrue(r["nextForwardToken"].startswith("f/"))
        self.assertTrue(r["nextBackwardToken"].startswith("b/"))
        r = self.logs.get_log_events(logGroupName=g, logStreamName="s", limit=3,
                                     nextToken=r["nextBackwardToken"])
        self.assertEqual([e["message"] for e in r["events"]], ["m4", "m5", "m6"])
        seen, token = [], None
        for _ in range(10):
            kw = {"nextToken": token} if token else {"startFromHead": True}
            r = self.logs.get_log_events(logGroupName=g, logStreamName="s", limit=4, **kw)
            seen += [e["message"] for e in r["events"]]
            if r["nextForwardToken"] == token:
                break
            token = r["nextForwardToken"]
        self.assertEqual(seen, ["m%d" % i for i in range(10)])
        self.assertEqual(r["events"], [])
        r = self.logs.get_log_events(logGroupName=g, logStreamName="s", startTime=t + 2,
                                     endTime=t + 5, startFromHead=True)
        self.assertEqual([e["message"] for e in r["events"]], ["m2", "m3", "m4"])
        self.assertIn("ingestionTime", r["events"][0])
        with self.assertRaises(ClientError) as cm:
            self.logs.get_log_events(logGroupName=g, logStreamName="s", nextToken="f/1/s")
        self.assertEqual(self.code(cm), "InvalidParameterException")

    # ---- FilterLogEvents ----

    def test_filter(self):
        g = self.group_with_stream("filter", "inst-a")
        self.logs.create_log_stream(logGroupName=g, logStreamName="inst-b")
        self.logs.create_log_stream(logGroupName=g, logStreamName="other")
        t = now_ms() - 10000
        self.put(g, "inst-a", [{"timestamp": t, "message": "[ERROR] disk full"},
                               {"timestamp": t + 30, "message": "[INFO] ok"}])
        self.put(g, "inst-b", [{"timestamp": t + 10, "message": "[WARN] slow"},
                               {"timestamp": t + 40, "message": "[ERROR] Exiting"}])
        self.put(g, "other", [{"timestamp": t + 20, "message": "Internal Server Error"}])

        def msgs(**kw):
            pages = self.logs.get_paginator("filter_log_events").paginate(logGroupName=g, **kw)
            return [e["message"] for p in pages for e in p["events"]]

        self.assertEqual(len(msgs()), 5)
        self.assertEqual(msgs(filterPattern="ERROR"), ["[ERROR] disk full", "[ERROR] Exiting"])
        self.assertEqual(msgs(filterPattern="ERROR -Exiting"), ["[ERROR] disk full"])
        self.assertEqual(msgs(filterPattern="?WARN ?INFO"), ["[WARN] slow", "[INFO] ok"])
        self.assertEqual(msgs(filterPattern='"Server Error"'), ["Internal Server Error"])
        self.assertEqual(msgs(filterPattern="%^.ERR%"), ["[ERROR] disk full", "[ERROR] Exiting"])
        self.assertEqual(msgs(logStreamNamePrefix="inst-", startTime=t + 10, endTime=t + 30),
                         ["[WARN] slow", "[INFO] ok"])
        self.assertEqual(msgs(logStreamNames=["other", "inst-b"]),
                         ["[WARN] slow", "Internal Server Error", "[ERROR] Exiting"])
        self.assertEqual(msgs(PaginationConfig={"PageSize": 2}), [
            "[ERROR] disk full", "[WARN] slow", "Internal Server Error", "[INFO] ok",
            "[ERROR] Exiting"])
        r = self.logs.filter_log_events(logGroupName=g, limit=1)
        e = r["events"][0]
        self.assertEqual(e["logStreamName"], "inst-a")
        self.assertEqual(len(e["eventId"]), 56)
        self.assertIn("nextToken", r)
        with self.assertRaises(ClientError) as cm:
            self.logs.filter_log_events(logGroupName=g, filterPattern='"unterminated')
        self.assertEqual(self.code(cm), "InvalidParameterException")
        with self.assertRaises(ClientError) as cm:
            self.logs.filter_log_events(logGroupName=g, logStreamNames=["a"], logStreamNamePrefix="a")
        self.assertEqual(self.code(cm), "InvalidParameterException")
        with self.assertRaises(ClientError) as cm:
            self.logs.filter_log_events(logGroupName=g + "-none")
        self.assertEqual(self.code(cm), "ResourceNotFoundException")

    # ---- retention ----

    def test_retention(self):
        g = self.group_with_stream("retention")
        t = now_ms()
        self.put(g, "s", [{"timestamp": t - 3 * DAY, "message": "three days ago"}])
        self.put(g, "s", [{"timestamp": t, "message": "now"}])
        self.logs.put_retention_policy(logGroupName=g, retentionInDays=1)
        r = self.logs.describe_log_groups(logGroupNamePrefix=g)["logGroups"][0]
        self.assertEqual(r["retentionInDays"], 1)
        msgs = [e["message"] for e in self.logs.get_log_events(
            logGroupName=g, logStreamName="s", startFromHead=True)["events"]]
        self.assertEqual(msgs, ["now"])
        r = self.put(g, "s", [{"timestamp": t - 2 * DAY, "message": "expired"},
                              {"timestamp": t, "message": "kept"}])
        self.assertEqual(r["rejectedLogEventsInfo"], {"expiredLogEventEndIndex": 1})
        with self.assertRaises(ClientError) as cm:
            self.logs.put_retention_policy(logGroupName=g, retentionInDays=2)
        self.assertEqual(self.code(cm), "InvalidParameterException")
        self.logs.delete_retention_policy(logGroupName=g)
        r = self.logs.describe_log_groups(logGroupNamePrefix=g)["logGroups"][0]
        self.assertNotIn("retentionInDays", r)

    # ---- IAM ----

    def test_iam_on_log_group_arns(self):
        iam = iam_client()
        user = "logs-user-%s" % RUN
        allowed = unique("allowed")
        denied = unique("denied")
        self.logs.create_log_group(logGroupName=denied)
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                           "logs:GetLogEvents", "logs:FilterLogEvents"],
                "Resource": "arn:aws:logs:us-east-1:%s:log-group:%s:*" % (ACCOUNT, allowed),
            }],
        }))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        try:
            u = client("logs", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
            u.create_log_group(logGroupName=allowed)
            u.create_log_stream(logGroupName=allowed, logStreamName="s")
            u.put_log_events(logGroupName=allowed, logStreamName="s",
                             logEvents=[{"timestamp": now_ms(), "message": "hi"}])
            self.assertEqual(len(u.filter_log_events(logGroupName=allowed)["events"]), 1)
            for call, kw in ((u.create_log_stream, {"logGroupName": denied, "logStreamName": "s"}),
                             (u.delete_log_group, {"logGroupName": allowed}),
                             (u.describe_log_groups, {})):
                with self.assertRaises(ClientError) as cm:
                    call(**kw)
                self.assertEqual(self.code(cm), "AccessDeniedException")
                self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        finally:
            iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
            iam.delete_user_policy(UserName=user, PolicyName="p")
            iam.delete_user(UserName=user)


def main():
    c = client("logs")
    proto = c.meta.service_model.protocol
    print("test_logs: python %s, boto3 %s, botocore %s, Logs protocol %s"
          % (sys.version.split()[0], boto3.__version__, botocore.__version__, proto), flush=True)
    prog = unittest.main(module=__name__, verbosity=2, exit=False)
    r = prog.result
    failed = {getattr(case, "test_case", case).id() for case, _ in r.failures + r.errors}
    passed = r.testsRun - len(failed) - len(r.skipped)
    print("test_logs[boto%s]: %d passed, %d failed, %d skipped"
          % (boto3.__version__, passed, len(failed), len(r.skipped)))
    sys.exit(1 if failed or r.testsRun == 0 else 0)


if __name__ == "__main__":
    main()
