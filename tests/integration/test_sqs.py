"""SQS integration tests for nagare with real boto3 clients.

One module, two wire protocols: run it with the image's `python3` (boto3 1.43,
SQS over AWS JSON 1.0) and with Debian's `/usr/bin/python3` (boto3 1.26, SQS
over the query protocol, XML responses), so every behaviour below is checked on
both.  The expectations are AWS's documented behaviour, not nagare's taste: the
suite is meant to pass against real SQS too (except the HTTP-level checks of
nagare's own server at the end).

Error codes: on the query protocol boto3 reports the legacy query code
(`AWS.SimpleQueueService.NonExistentQueue`).  On the JSON protocol AWS sends the
same legacy code in the `x-amzn-query-error` header and boto3 1.43 reports it as
`Error.Code` (botocore parsers.py, awsQueryCompatible), while the exception
class comes from `__type`.  So the same code is asserted on both protocols, and
the modelled exception class is asserted too.

Environment: NAGARE_ENDPOINT (default http://127.0.0.1:4566).  Needs no pytest:
`python3 -m unittest -v test_sqs` or `python3 test_sqs.py`.
"""

import hashlib
import json
import os
import socket
import struct
import sys
import threading
import time
import unittest
import urllib.parse
import urllib.request
import uuid

import boto3
import botocore
from botocore.exceptions import ClientError

from nagare_client import sqs_client

ENDPOINT = os.environ.get("NAGARE_ENDPOINT", "http://127.0.0.1:4566").rstrip("/")
ACCOUNT = "000000000000"
REGION = "us-east-1"
RUN = uuid.uuid4().hex[:8]
MIB = 1024 * 1024
# ASan builds answer slower; timing assertions get this much slack.
SLACK = float(os.environ.get("NAGARE_TIME_SLACK", "1.0"))

_seq = 0


def unique(tag):
    """A queue name no other test (or other interpreter's run) uses."""
    global _seq
    _seq += 1
    return "it-%s-%s-%d" % (tag, RUN, _seq)


def make_client(region=REGION, key="test", secret="test", owner=None):
    """An SQS client; with owner (a TestCase) it is closed at the test's end."""
    c = _client(region, key, secret)
    if owner is not None:
        owner.addCleanup(c.close)
    return c


def _client(region, key, secret):
    return sqs_client(region, key, secret, connect_timeout=5, read_timeout=60)


def md5_hex(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.md5(data).hexdigest()


def md5_of_attributes(attrs):
    """MD5OfMessageAttributes as AWS documents it: names sorted; for each,
    4-byte big-endian length + bytes of name, of data type, then a transport
    byte (1 string/number, 2 binary) and length + bytes of the value."""
    h = hashlib.md5()

    def put(b):
        h.update(struct.pack(">I", len(b)))
        h.update(b)

    for name in sorted(attrs):
        a = attrs[name]
        put(name.encode("utf-8"))
        put(a["DataType"].encode("utf-8"))
        if "StringValue" in a:
            h.update(b"\x01")
            put(a["StringValue"].encode("utf-8"))
        else:
            h.update(b"\x02")
            put(a["BinaryValue"])
    return h.hexdigest()


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sqs = make_client()

    @classmethod
    def tearDownClass(cls):
        cls.sqs.close()

    def new_queue(self, tag="q", attributes=None, client=None, **kw):
        c = client or self.sqs
        name = unique(tag)
        if attributes:
            kw["Attributes"] = attributes
        url = c.create_queue(QueueName=name, **kw)["QueueUrl"]
        self.addCleanup(self._drop, c, url)
        return name, url

    @staticmethod
    def _drop(c, url):
        try:
            c.delete_queue(QueueUrl=url)
        except ClientError:
            pass

    def assert_aws_error(self, code, status, fn, exc=None, **kw):
        """Calls fn(**kw), expects an AWS error with this code and status."""
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        e = cm.exception
        self.assertEqual(e.response["Error"]["Code"], code, e.response)
        self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], status)
        if exc is not None:
            self.assertIsInstance(e, getattr(self.sqs.exceptions, exc))
        return e

    def attrs(self, url, *names):
        return self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=list(names) or ["All"]
        )["Attributes"]

    def wait_attrs(self, url, expect, timeout=3.0):
        """Approximate* counters are eventually consistent on AWS: poll."""
        deadline = time.time() + timeout * SLACK
        while True:
            got = self.attrs(url, *expect.keys())
            if got == expect or time.time() > deadline:
                self.assertEqual(got, expect)
                return
            time.sleep(0.1)

    def receive(self, url, **kw):
        kw.setdefault("WaitTimeSeconds", 1)
        return self.sqs.receive_message(QueueUrl=url, **kw).get("Messages", [])

    def send(self, url, body, **kw):
        return self.sqs.send_message(QueueUrl=url, MessageBody=body, **kw)


class QueueTests(Base):
    def test_create_queue_is_idempotent(self):
        name = unique("idem")
        a = {"VisibilityTimeout": "45", "DelaySeconds": "1"}
        url = self.sqs.create_queue(QueueName=name, Attributes=a)["QueueUrl"]
        self.addCleanup(self._drop, self.sqs, url)
        self.assertTrue(url.endswith("/%s/%s" % (ACCOUNT, name)), url)
        again = self.sqs.create_queue(QueueName=name, Attributes=a)["QueueUrl"]
        self.assertEqual(again, url)
        self.assertEqual(self.sqs.get_queue_url(QueueName=name)["QueueUrl"], url)

    def test_create_queue_with_different_attributes_fails(self):
        name, url = self.new_queue("diff", {"VisibilityTimeout": "45"})
        self.assert_aws_error(
            "QueueAlreadyExists",
            400,
            self.sqs.create_queue,
            exc="QueueNameExists",
            QueueName=name,
            Attributes={"VisibilityTimeout": "46"},
        )
        self.assertEqual(self.attrs(url, "VisibilityTimeout")["VisibilityTimeout"], "45")

    def test_create_queue_rejects_invalid_names(self):
        for bad in ["has space", "bad!name", "dot.name", "x" * 81]:
            with self.subTest(name=bad):
                self.assert_aws_error(
                    "InvalidParameterValue", 400, self.sqs.create_queue, QueueName=bad
                )
        longest = ("it-max-%s-" % RUN).ljust(80, "x")
        url = self.sqs.create_queue(QueueName=longest)["QueueUrl"]
        self.addCleanup(self._drop, self.sqs, url)
        self.assertTrue(url.endswith("/" + longest))

    def test_create_queue_rejects_bad_attributes(self):
        self.assert_aws_error(
            "InvalidAttributeValue",
            400,
            self.sqs.create_queue,
            QueueName=unique("badv"),
            Attributes={"VisibilityTimeout": "43201"},
        )
        self.assert_aws_error(
            "InvalidAttributeName",
            400,
            self.sqs.create_queue,
            exc="InvalidAttributeName",
            QueueName=unique("badn"),
            Attributes={"NoSuchAttribute": "1"},
        )

    def test_get_queue_url_of_missing_queue(self):
        self.assert_aws_error(
            "AWS.SimpleQueueService.NonExistentQueue",
            400,
            self.sqs.get_queue_url,
            exc="QueueDoesNotExist",
            QueueName=unique("missing"),
        )

    def test_list_queues_by_prefix(self):
        prefix = unique("pfx")
        mine = set()
        for i in range(3):
            mine.add(self.sqs.create_queue(QueueName="%s-%d" % (prefix, i))["QueueUrl"])
        for u in mine:
            self.addCleanup(self._drop, self.sqs, u)
        _, other = self.new_queue("other")
        got = set(self.sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []))
        self.assertEqual(got, mine)
        everything = set(self.sqs.list_queues().get("QueueUrls", []))
        self.assertTrue(mine | {other} <= everything)
        none = self.sqs.list_queues(QueueNamePrefix=unique("nothing"))
        self.assertEqual(none.get("QueueUrls", []), [])

    def test_list_queues_pages_with_max_results(self):
        prefix = unique("page")
        mine = set()
        for i in range(5):
            mine.add(self.sqs.create_queue(QueueName="%s-%d" % (prefix, i))["QueueUrl"])
        for u in mine:
            self.addCleanup(self._drop, self.sqs, u)
        seen, pages, token = [], [], None
        while True:
            kw = {"QueueNamePrefix": prefix, "MaxResults": 2}
            if token:
                kw["NextToken"] = token
            r = self.sqs.list_queues(**kw)
            pages.append(len(r.get("QueueUrls", [])))
            seen += r.get("QueueUrls", [])
            token = r.get("NextToken")
            if not token or len(pages) > 5:
                break
        self.assertEqual(pages, [2, 2, 1])
        self.assertEqual(sorted(seen), sorted(mine))
        self.assert_aws_error(
            "InvalidParameterValue", 400, self.sqs.list_queues, MaxResults=1001
        )

    def test_delete_queue(self):
        name = unique("del")
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        self.sqs.delete_queue(QueueUrl=url)
        self.assert_aws_error(
            "AWS.SimpleQueueService.NonExistentQueue",
            400,
            self.sqs.get_queue_url,
            QueueName=name,
        )
        self.assertNotIn(url, self.sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", []))
        for fn, kw in [
            (self.sqs.delete_queue, {}),
            (self.sqs.send_message, {"MessageBody": "x"}),
            (self.sqs.receive_message, {}),
            (self.sqs.get_queue_attributes, {"AttributeNames": ["All"]}),
        ]:
            with self.subTest(op=fn.__name__):
                self.assert_aws_error(
                    "AWS.SimpleQueueService.NonExistentQueue",
                    400,
                    fn,
                    exc="QueueDoesNotExist",
                    QueueUrl=url,
                    **kw
                )

    def test_queue_attributes_defaults(self):
        t0 = int(time.time())
        name, url = self.new_queue("attrs")
        a = self.attrs(url)
        self.assertEqual(a["QueueArn"], "arn:aws:sqs:%s:%s:%s" % (REGION, ACCOUNT, name))
        expect = {
            "VisibilityTimeout": "30",
            "MaximumMessageSize": str(MIB),
            "MessageRetentionPeriod": "345600",
            "DelaySeconds": "0",
            "ReceiveMessageWaitTimeSeconds": "0",
            "ApproximateNumberOfMessages": "0",
            "ApproximateNumberOfMessagesNotVisible": "0",
            "ApproximateNumberOfMessagesDelayed": "0",
        }
        for k, v in expect.items():
            self.assertEqual(a.get(k), v, k)
        for k in ("CreatedTimestamp", "LastModifiedTimestamp"):
            self.assertTrue(t0 - 5 <= int(a[k]) <= time.time() + 5, (k, a[k]))
        # Selecting attributes returns exactly those.
        self.assertEqual(
            set(self.attrs(url, "QueueArn", "DelaySeconds")), {"QueueArn", "DelaySeconds"}
        )

    def test_set_each_settable_attribute(self):
        name, url = self.new_queue("set")
        _, dlq = self.new_queue("dlq")
        dlq_arn = self.attrs(dlq, "QueueArn")["QueueArn"]
        before = int(self.attrs(url, "LastModifiedTimestamp")["LastModifiedTimestamp"])
        values = {
            "DelaySeconds": "900",
            "MaximumMessageSize": "1024",
            "MessageRetentionPeriod": "60",
            "ReceiveMessageWaitTimeSeconds": "20",
            "VisibilityTimeout": "43200",
        }
        for k, v in values.items():
            with self.subTest(attr=k):
                self.sqs.set_queue_attributes(QueueUrl=url, Attributes={k: v})
                self.assertEqual(self.attrs(url, k), {k: v})
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}
        self.sqs.set_queue_attributes(
            QueueUrl=url, Attributes={"RedrivePolicy": json.dumps(redrive)}
        )
        got = json.loads(self.attrs(url, "RedrivePolicy")["RedrivePolicy"])
        self.assertEqual(got["deadLetterTargetArn"], dlq_arn)
        self.assertEqual(int(got["maxReceiveCount"]), 3)
        arn = "arn:aws:sqs:%s:%s:%s" % (REGION, ACCOUNT, name)
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "owner",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                }
            ],
        }
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
        self.assertEqual(json.loads(self.attrs(url, "Policy")["Policy"]), policy)
        after = int(self.attrs(url, "LastModifiedTimestamp")["LastModifiedTimestamp"])
        self.assertGreaterEqual(after, before)

    def test_set_attributes_rejects_invalid_values(self):
        _, url = self.new_queue("inval")
        bad = {
            "DelaySeconds": ["901", "-1", "abc"],
            "MaximumMessageSize": ["1023", str(MIB + 1)],
            "MessageRetentionPeriod": ["59", "1209601"],
            "ReceiveMessageWaitTimeSeconds": ["21"],
            "VisibilityTimeout": ["43201"],
            "Policy": ["{not json"],
        }
        for k, vs in bad.items():
            for v in vs:
                with self.subTest(attr=k, value=v):
                    self.assert_aws_error(
                        "InvalidAttributeValue",
                        400,
                        self.sqs.set_queue_attributes,
                        QueueUrl=url,
                        Attributes={k: v},
                    )
        self.assertEqual(self.attrs(url, "DelaySeconds"), {"DelaySeconds": "0"})
        self.assert_aws_error(
            "InvalidAttributeName",
            400,
            self.sqs.set_queue_attributes,
            exc="InvalidAttributeName",
            QueueUrl=url,
            Attributes={"Colour": "blue"},
        )
        self.assert_aws_error(
            "InvalidAttributeName",
            400,
            self.sqs.get_queue_attributes,
            exc="InvalidAttributeName",
            QueueUrl=url,
            AttributeNames=["Colour"],
        )

    def test_tags_must_be_text(self):
        _, url = self.new_queue("tagtext")
        self.assert_aws_error(
            "InvalidParameterValue", 400, self.sqs.tag_queue, QueueUrl=url, Tags={"k": "a\x01b"}
        )
        # Nothing was stored, and the listing stays readable on both protocols.
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url).get("Tags", {}), {})

    def test_queue_owner_must_name_an_account(self):
        # A resource that names no account (or cannot be named at all) is
        # refused before any lookup; it is never taken for the caller's own.
        self.assert_aws_error(
            "AccessDenied", 403, self.sqs.get_queue_url, QueueName="x", QueueOwnerAWSAccountId=""
        )
        self.assert_aws_error(
            "InvalidParameterValue",
            400,
            self.sqs.get_queue_url,
            QueueName="x",
            QueueOwnerAWSAccountId="1" * 600,
        )

    def test_tags(self):
        _, url = self.new_queue("tags", tags={"team": "core"})
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url).get("Tags"), {"team": "core"})
        self.sqs.tag_queue(QueueUrl=url, Tags={"env": "ci", "team": "infra"})
        self.assertEqual(
            self.sqs.list_queue_tags(QueueUrl=url).get("Tags"), {"env": "ci", "team": "infra"}
        )
        self.sqs.untag_queue(QueueUrl=url, TagKeys=["team", "absent"])
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url).get("Tags"), {"env": "ci"})
        self.sqs.untag_queue(QueueUrl=url, TagKeys=["env"])
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url).get("Tags", {}), {})
        gone = url + "-nope"
        self.assert_aws_error(
            "AWS.SimpleQueueService.NonExistentQueue",
            400,
            self.sqs.tag_queue,
            QueueUrl=gone,
            Tags={"a": "b"},
        )

    def test_regions_are_isolated(self):
        eu = make_client(region="eu-west-1", owner=self)
        name, url = self.new_queue("region", {"VisibilityTimeout": "40"})
        self.assert_aws_error(
            "AWS.SimpleQueueService.NonExistentQueue", 400, eu.get_queue_url, QueueName=name
        )
        self.assertNotIn(url, eu.list_queues(QueueNamePrefix=name).get("QueueUrls", []))
        # The same name with other attributes is a different queue in eu-west-1.
        eu_url = eu.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "50"})[
            "QueueUrl"
        ]
        self.addCleanup(self._drop, eu, eu_url)
        arn = eu.get_queue_attributes(QueueUrl=eu_url, AttributeNames=["QueueArn"])
        self.assertEqual(
            arn["Attributes"]["QueueArn"], "arn:aws:sqs:eu-west-1:%s:%s" % (ACCOUNT, name)
        )
        eu.send_message(QueueUrl=eu_url, MessageBody="in europe")
        self.assertEqual(self.receive(url, WaitTimeSeconds=0), [])
        self.assertEqual(self.attrs(url, "VisibilityTimeout"), {"VisibilityTimeout": "40"})

    def test_bad_signatures_are_rejected(self):
        wrong = make_client(secret="not-the-secret", owner=self)
        self.assert_aws_error("SignatureDoesNotMatch", 403, wrong.list_queues)
        unknown = make_client(key="AKIANOSUCHKEY0000000", owner=self)
        self.assert_aws_error("InvalidClientTokenId", 403, unknown.list_queues)


class MessageTests(Base):
    def test_send_receive_delete(self):
        _, url = self.new_queue("basic")
        body = "héllo wörld ✓ " + RUN
        r = self.send(url, body)
        self.assertEqual(r["MD5OfMessageBody"], md5_hex(body))
        self.assertTrue(r["MessageId"])
        msgs = self.receive(url)
        self.assertEqual(len(msgs), 1)
        m = msgs[0]
        self.assertEqual(m["Body"], body)
        self.assertEqual(m["MessageId"], r["MessageId"])
        self.assertEqual(m["MD5OfBody"], md5_hex(body))
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        self.wait_attrs(
            url,
            {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"},
        )

    def test_message_attributes_and_md5(self):
        _, url = self.new_queue("mattr")
        attrs = {
            "s": {"DataType": "String", "StringValue": "text ✓"},
            "n": {"DataType": "Number", "StringValue": "-12.5"},
            "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff"},
            "custom": {"DataType": "String.trace", "StringValue": "abc"},
            "Number.kind": {"DataType": "Number.int", "StringValue": "7"},
        }
        r = self.send(url, "with attributes", MessageAttributes=attrs)
        self.assertEqual(r["MD5OfMessageAttributes"], md5_of_attributes(attrs))
        m = self.receive(url, MessageAttributeNames=["All"])[0]
        self.assertEqual(m["MD5OfMessageAttributes"], md5_of_attributes(attrs))
        got = m["MessageAttributes"]
        self.assertEqual(set(got), set(attrs))
        self.assertEqual(got["b"]["BinaryValue"], b"\x00\x01\xfe\xff")
        self.assertEqual(got["b"]["DataType"], "Binary")
        self.assertEqual(got["n"], {"DataType": "Number", "StringValue": "-12.5"})
        self.assertEqual(got["custom"]["DataType"], "String.trace")

    def test_message_attribute_selection(self):
        _, url = self.new_queue("msel")
        attrs = {
            "alpha.one": {"DataType": "String", "StringValue": "1"},
            "alpha.two": {"DataType": "String", "StringValue": "2"},
            "beta": {"DataType": "Number", "StringValue": "3"},
        }
        self.send(url, "x", MessageAttributes=attrs)
        m = self.receive(url, MessageAttributeNames=["beta"], VisibilityTimeout=0)[0]
        self.assertEqual(set(m["MessageAttributes"]), {"beta"})
        m = self.receive(url, MessageAttributeNames=["alpha.*"], VisibilityTimeout=0)[0]
        self.assertEqual(set(m["MessageAttributes"]), {"alpha.one", "alpha.two"})
        m = self.receive(url, VisibilityTimeout=0)[0]
        self.assertNotIn("MessageAttributes", m)
        self.assertNotIn("Attributes", m)

    def test_invalid_message_attributes(self):
        _, url = self.new_queue("mbad")
        cases = [
            {"x": {"DataType": "Colour", "StringValue": "red"}},
            {"AWS.reserved": {"DataType": "String", "StringValue": "v"}},
        ]
        for attrs in cases:
            with self.subTest(attrs=attrs):
                self.assert_aws_error(
                    "InvalidParameterValue",
                    400,
                    self.sqs.send_message,
                    QueueUrl=url,
                    MessageBody="x",
                    MessageAttributes=attrs,
                )

    def test_message_size_limits(self):
        _, url = self.new_queue("size")
        big = "a" * MIB
        r = self.send(url, big)
        self.assertEqual(r["MD5OfMessageBody"], md5_hex(big))
        self.assert_aws_error(
            "InvalidParameterValue", 400, self.sqs.send_message, QueueUrl=url, MessageBody=big + "a"
        )
        m = self.receive(url)[0]
        self.assertEqual(len(m["Body"]), MIB)
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "1024"})
        self.send(url, "b" * 1024)
        self.assert_aws_error(
            "InvalidParameterValue", 400, self.sqs.send_message, QueueUrl=url, MessageBody="b" * 1025
        )
        # Attributes count towards the size: name + type + value.
        attrs = {"k": {"DataType": "String", "StringValue": "v" * 10}}
        self.assert_aws_error(
            "InvalidParameterValue",
            400,
            self.sqs.send_message,
            QueueUrl=url,
            MessageBody="b" * 1010,
            MessageAttributes=attrs,
        )

    def test_invalid_message_contents(self):
        _, url = self.new_queue("chars")
        for body in ["bad \x01 char", "bad \x00 nul", "bad \ufffe"]:
            with self.subTest(body=repr(body)):
                self.assert_aws_error(
                    "InvalidMessageContents",
                    400,
                    self.sqs.send_message,
                    exc="InvalidMessageContents",
                    QueueUrl=url,
                    MessageBody=body,
                )
        ok = "tab\tnl\ncr\r \ud7ff \ue000 \U0001f600"
        self.send(url, ok)
        self.assertEqual(self.receive(url)[0]["Body"], ok)

    def test_delay_seconds(self):
        _, url = self.new_queue("delay")
        self.send(url, "later", DelaySeconds=2)
        self.send(url, "now")
        self.wait_attrs(
            url, {"ApproximateNumberOfMessagesDelayed": "1", "ApproximateNumberOfMessages": "1"}
        )
        first = self.receive(url, WaitTimeSeconds=0, MaxNumberOfMessages=10)
        self.assertEqual([m["Body"] for m in first], ["now"])
        time.sleep(2.3)
        later = self.receive(url, WaitTimeSeconds=2, MaxNumberOfMessages=10)
        self.assertEqual([m["Body"] for m in later], ["later"])
        self.assert_aws_error(
            "InvalidParameterValue",
            400,
            self.sqs.send_message,
            QueueUrl=url,
            MessageBody="x",
            DelaySeconds=901,
        )

    def test_queue_delay_applies_to_new_messages(self):
        _, url = self.new_queue("qdelay", {"DelaySeconds": "2"})
        self.send(url, "held")
        self.assertEqual(self.receive(url, WaitTimeSeconds=0), [])
        msgs = self.receive(url, WaitTimeSeconds=4)
        self.assertEqual([m["Body"] for m in msgs], ["held"])

    def test_send_message_batch(self):
        _, url = self.new_queue("batch")
        attrs = {"k": {"DataType": "String", "StringValue": "v"}}
        entries = [
            {"Id": "ok-1", "MessageBody": "one"},
            {"Id": "ok_2", "MessageBody": "two", "MessageAttributes": attrs},
            {"Id": "bad", "MessageBody": "bad \x01"},
            {"Id": "late", "MessageBody": "delayed", "DelaySeconds": 1},
        ]
        r = self.sqs.send_message_batch(QueueUrl=url, Entries=entries)
        ok = {e["Id"]: e for e in r.get("Successful", [])}
        self.assertEqual(set(ok), {"ok-1", "ok_2", "late"})
        self.assertEqual(ok["ok-1"]["MD5OfMessageBody"], md5_hex("one"))
        self.assertEqual(ok["ok_2"]["MD5OfMessageAttributes"], md5_of_attributes(attrs))
        failed = r.get("Failed", [])
        self.assertEqual([f["Id"] for f in failed], ["bad"])
        self.assertTrue(failed[0]["SenderFault"])
        self.assertEqual(failed[0]["Code"], "InvalidMessageContents")
        got = []
        deadline = time.time() + 5 * SLACK
        while len(got) < 3 and time.time() < deadline:
            got += [m["Body"] for m in self.receive(url, MaxNumberOfMessages=10)]
        self.assertEqual(sorted(got), ["delayed", "one", "two"])

    def test_send_message_batch_errors(self):
        _, url = self.new_queue("batcherr")
        too_many = [{"Id": "m%d" % i, "MessageBody": "x"} for i in range(11)]
        self.assert_aws_error(
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            400,
            self.sqs.send_message_batch,
            exc="TooManyEntriesInBatchRequest",
            QueueUrl=url,
            Entries=too_many,
        )
        dup = [{"Id": "same", "MessageBody": "x"}, {"Id": "same", "MessageBody": "y"}]
        self.assert_aws_error(
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            400,
            self.sqs.send_message_batch,
            exc="BatchEntryIdsNotDistinct",
            QueueUrl=url,
            Entries=dup,
        )
        self.assert_aws_error(
            "AWS.SimpleQueueService.EmptyBatchRequest",
            400,
            self.sqs.send_message_batch,
            exc="EmptyBatchRequest",
            QueueUrl=url,
            Entries=[],
        )
        self.assert_aws_error(
            "AWS.SimpleQueueService.InvalidBatchEntryId",
            400,
            self.sqs.send_message_batch,
            exc="InvalidBatchEntryId",
            QueueUrl=url,
            Entries=[{"Id": "not valid!", "MessageBody": "x"}],
        )
        huge = [{"Id": "h%d" % i, "MessageBody": "z" * (MIB // 2)} for i in range(3)]
        self.assert_aws_error(
            "AWS.SimpleQueueService.BatchRequestTooLong",
            400,
            self.sqs.send_message_batch,
            exc="BatchRequestTooLong",
            QueueUrl=url,
            Entries=huge,
        )
        self.wait_attrs(url, {"ApproximateNumberOfMessages": "0"})

    def test_receive_max_number_and_errors(self):
        _, url = self.new_queue("maxn")
        sent = ["m%d" % i for i in range(5)]
        self.sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": b, "MessageBody": b} for b in sent]
        )
        first = self.receive(url, MaxNumberOfMessages=3)
        # AWS never returns more than MaxNumberOfMessages (it may return fewer).
        self.assertTrue(1 <= len(first) <= 3, len(first))
        got = [m["Body"] for m in first]
        deadline = time.time() + 5 * SLACK
        while len(got) < 5 and time.time() < deadline:
            got += [m["Body"] for m in self.receive(url, MaxNumberOfMessages=10)]
        self.assertEqual(sorted(got), sent)
        for n in (0, 11):
            with self.subTest(max=n):
                self.assert_aws_error(
                    "InvalidParameterValue",
                    400,
                    self.sqs.receive_message,
                    QueueUrl=url,
                    MaxNumberOfMessages=n,
                )
        self.assert_aws_error(
            "InvalidParameterValue",
            400,
            self.sqs.receive_message,
            QueueUrl=url,
            WaitTimeSeconds=21,
        )

    def test_visibility_timeout_and_receive_count(self):
        t0 = time.time()
        _, url = self.new_queue("vis")
        self.send(url, "again")
        m1 = self.receive(url, VisibilityTimeout=1, AttributeNames=["All"])[0]
        self.assertEqual(m1["Attributes"]["ApproximateReceiveCount"], "1")
        sent_ms = int(m1["Attributes"]["SentTimestamp"])
        first_ms = int(m1["Attributes"]["ApproximateFirstReceiveTimestamp"])
        self.assertTrue(t0 * 1000 - 5000 <= sent_ms <= first_ms <= time.time() * 1000 + 5000)
        self.assertTrue(m1["Attributes"]["SenderId"])
        self.wait_attrs(
            url,
            {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "1"},
        )
        self.assertEqual(self.receive(url, WaitTimeSeconds=0), [])
        time.sleep(1.3)
        m2 = self.receive(url, VisibilityTimeout=30, AttributeNames=["ApproximateReceiveCount"])[0]
        self.assertEqual(m2["MessageId"], m1["MessageId"])
        self.assertEqual(m2["Attributes"], {"ApproximateReceiveCount": "2"})
        self.assertNotEqual(m2["ReceiptHandle"], m1["ReceiptHandle"])
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m2["ReceiptHandle"])
        self.wait_attrs(url, {"ApproximateNumberOfMessagesNotVisible": "0"})

    def test_queue_visibility_timeout_attribute(self):
        _, url = self.new_queue("qvis", {"VisibilityTimeout": "1"})
        self.send(url, "v")
        self.assertEqual(len(self.receive(url)), 1)
        self.assertEqual(self.receive(url, WaitTimeSeconds=0), [])
        msgs = self.receive(url, WaitTimeSeconds=3)
        self.assertEqual(len(msgs), 1)

    def test_long_poll_returns_when_a_message_arrives(self):
        _, url = self.new_queue("lpoll")
        sender = make_client(owner=self)

        def later():
            time.sleep(0.5)
            sender.send_message(QueueUrl=url, MessageBody="wake up")

        t = threading.Thread(target=later)
        start = time.time()
        t.start()
        msgs = self.receive(url, WaitTimeSeconds=5)
        took = time.time() - start
        t.join()
        self.assertEqual([m["Body"] for m in msgs], ["wake up"])
        self.assertLess(took, 1.5 * SLACK + 0.5, "long poll answered after %.2fs" % took)

    def test_long_poll_waits_when_nothing_arrives(self):
        _, url = self.new_queue("lwait")
        start = time.time()
        msgs = self.receive(url, WaitTimeSeconds=2)
        took = time.time() - start
        self.assertEqual(msgs, [])
        self.assertGreaterEqual(took, 1.8)
        self.assertLess(took, 3.5 * SLACK)

    def test_abandoned_long_poll_takes_no_message(self):
        # A client that gives up on a long poll (its read times out and it
        # closes the connection) must not swallow the next message: AWS hands
        # it to a consumer that is still there.
        _, url = self.new_queue("lgone")
        quitter = sqs_client(connect_timeout=5, read_timeout=1)
        self.addCleanup(quitter.close)
        with self.assertRaises(Exception):
            quitter.receive_message(QueueUrl=url, WaitTimeSeconds=10)
        quitter.close()
        time.sleep(0.3 * SLACK)
        self.send(url, "for whoever is still here")
        msgs = self.receive(url, WaitTimeSeconds=2)
        self.assertEqual([m["Body"] for m in msgs], ["for whoever is still here"])

    def test_queue_receive_wait_time_attribute(self):
        _, url = self.new_queue("lattr", {"ReceiveMessageWaitTimeSeconds": "2"})
        start = time.time()
        msgs = self.sqs.receive_message(QueueUrl=url).get("Messages", [])
        self.assertEqual(msgs, [])
        self.assertGreaterEqual(time.time() - start, 1.8)

    def test_delete_message_errors(self):
        _, url = self.new_queue("delerr")
        self.assert_aws_error(
            "ReceiptHandleIsInvalid",
            400,
            self.sqs.delete_message,
            exc="ReceiptHandleIsInvalid",
            QueueUrl=url,
            ReceiptHandle="not-a-receipt-handle",
        )

    def test_delete_message_batch(self):
        _, url = self.new_queue("delb")
        self.sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "a"}, {"Id": "b", "MessageBody": "b"}]
        )
        msgs = []
        deadline = time.time() + 5 * SLACK
        while len(msgs) < 2 and time.time() < deadline:
            msgs += self.receive(url, MaxNumberOfMessages=10)
        self.assertEqual(len(msgs), 2)
        entries = [{"Id": "e%d" % i, "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)]
        entries.append({"Id": "junk", "ReceiptHandle": "garbage"})
        r = self.sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        self.assertEqual(sorted(e["Id"] for e in r.get("Successful", [])), ["e0", "e1"])
        self.assertEqual(len(r["Failed"]), 1)
        self.assertEqual(r["Failed"][0]["Id"], "junk")
        self.assertEqual(r["Failed"][0]["Code"], "ReceiptHandleIsInvalid")
        self.assertTrue(r["Failed"][0]["SenderFault"])
        self.wait_attrs(
            url,
            {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"},
        )
        self.assert_aws_error(
            "AWS.SimpleQueueService.EmptyBatchRequest",
            400,
            self.sqs.delete_message_batch,
            QueueUrl=url,
            Entries=[],
        )
        self.assert_aws_error(
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            400,
            self.sqs.delete_message_batch,
            QueueUrl=url,
            Entries=[{"Id": "x", "ReceiptHandle": "h"}, {"Id": "x", "ReceiptHandle": "h"}],
        )

    def test_change_message_visibility(self):
        _, url = self.new_queue("cmv")
        self.send(url, "m")
        m1 = self.receive(url, VisibilityTimeout=60)[0]
        self.assertEqual(self.receive(url, WaitTimeSeconds=0), [])
        self.sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=m1["ReceiptHandle"], VisibilityTimeout=0
        )
        m2 = self.receive(url, VisibilityTimeout=60, AttributeNames=["ApproximateReceiveCount"])[0]
        self.assertEqual(m2["MessageId"], m1["MessageId"])
        self.assertEqual(m2["Attributes"]["ApproximateReceiveCount"], "2")
        self.assert_aws_error(
            "ReceiptHandleIsInvalid",
            400,
            self.sqs.change_message_visibility,
            QueueUrl=url,
            ReceiptHandle="garbage",
            VisibilityTimeout=5,
        )
        self.assert_aws_error(
            "InvalidParameterValue",
            400,
            self.sqs.change_message_visibility,
            QueueUrl=url,
            ReceiptHandle=m2["ReceiptHandle"],
            VisibilityTimeout=43201,
        )

    def test_change_message_visibility_batch(self):
        _, url = self.new_queue("cmvb")
        self.sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "a"}, {"Id": "b", "MessageBody": "b"}]
        )
        msgs = []
        deadline = time.time() + 5 * SLACK
        while len(msgs) < 2 and time.time() < deadline:
            msgs += self.receive(url, MaxNumberOfMessages=10, VisibilityTimeout=60)
        self.assertEqual(len(msgs), 2)
        entries = [
            {"Id": "e%d" % i, "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, m in enumerate(msgs)
        ]
        entries.append({"Id": "junk", "ReceiptHandle": "garbage", "VisibilityTimeout": 0})
        r = self.sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
        self.assertEqual(sorted(e["Id"] for e in r.get("Successful", [])), ["e0", "e1"])
        self.assertEqual([f["Id"] for f in r["Failed"]], ["junk"])
        self.assertEqual(r["Failed"][0]["Code"], "ReceiptHandleIsInvalid")
        again = []
        deadline = time.time() + 5 * SLACK
        while len(again) < 2 and time.time() < deadline:
            again += self.receive(url, MaxNumberOfMessages=10)
        self.assertEqual(sorted(m["Body"] for m in again), ["a", "b"])
        self.assert_aws_error(
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            400,
            self.sqs.change_message_visibility_batch,
            QueueUrl=url,
            Entries=[
                {"Id": "i%d" % i, "ReceiptHandle": "h", "VisibilityTimeout": 1} for i in range(11)
            ],
        )

    def test_purge_queue(self):
        _, url = self.new_queue("purge")
        self.sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(4)]
        )
        self.receive(url, VisibilityTimeout=60)
        self.sqs.purge_queue(QueueUrl=url)
        self.wait_attrs(
            url,
            {
                "ApproximateNumberOfMessages": "0",
                "ApproximateNumberOfMessagesNotVisible": "0",
            },
        )
        self.assertEqual(self.receive(url, WaitTimeSeconds=0), [])
        self.assert_aws_error(
            "AWS.SimpleQueueService.PurgeQueueInProgress",
            403,
            self.sqs.purge_queue,
            exc="PurgeQueueInProgress",
            QueueUrl=url,
        )
        # Messages sent after the purge are kept.
        self.send(url, "after")
        self.assertEqual([m["Body"] for m in self.receive(url)], ["after"])


class HttpTests(unittest.TestCase):
    """HTTP/1.1 behaviour of nagare's own server, with raw sockets."""

    def setUp(self):
        u = urllib.parse.urlsplit(ENDPOINT)
        self.addr = (u.hostname, u.port or 80)

    def connect(self):
        s = socket.create_connection(self.addr, timeout=10)
        self.addCleanup(s.close)
        return s

    @staticmethod
    def read_response(s):
        """Reads one response; returns (status, headers dict, body)."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        while len(body) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
        return status, headers, body

    def test_health(self):
        s = self.connect()
        s.sendall(b"GET /_nagare/health HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, body = self.read_response(s)
        self.assertEqual(status, 200)
        self.assertIn("json", headers.get("content-type", ""))
        self.assertEqual(json.loads(body)["status"], "ok")

    def test_keep_alive_serves_two_requests_on_one_connection(self):
        s = self.connect()
        for _ in range(2):
            s.sendall(b"GET /_nagare/health HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _, body = self.read_response(s)
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["status"], "ok")

    def test_oversized_header_block_gets_431(self):
        s = self.connect()
        big = b"X-Filler: " + b"a" * (17 * 1024) + b"\r\n"
        try:
            s.sendall(b"GET /_nagare/health HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading it all
        status, _, _ = self.read_response(s)
        self.assertEqual(status, 431)

    def test_malformed_request_gets_400(self):
        s = self.connect()
        s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        status, _, _ = self.read_response(s)
        self.assertEqual(status, 400)

    def test_unsigned_sqs_request_is_refused(self):
        # No Authorization header at all: AWS answers 4xx (MissingAuthenticationToken).
        s = self.connect()
        body = b"Action=ListQueues&Version=2012-11-05"
        s.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        status, _, _ = self.read_response(s)
        self.assertIn(status, (400, 403))


def main():
    c = make_client()
    c.close()
    print(
        "test_sqs: python %s, boto3 %s, botocore %s, SQS protocol %s, endpoint %s"
        % (
            sys.version.split()[0],
            boto3.__version__,
            botocore.__version__,
            c.meta.service_model.protocol,
            ENDPOINT,
        ),
        flush=True,
    )
    import test_sqs_complete

    suite = unittest.TestSuite()
    for module in (sys.modules[__name__], test_sqs_complete):
        suite.addTests(unittest.defaultTestLoader.loadTestsFromModule(module))
    if len(sys.argv) > 1:  # dotted names of tests to run: test_sqs_complete.FifoTests, ...
        suite = unittest.defaultTestLoader.loadTestsFromNames(sys.argv[1:])
    r = unittest.TextTestRunner(verbosity=2).run(suite)
    # A test with several failing subtests still counts as one failed test.
    failed = set()
    for case, _ in r.failures + r.errors:
        failed.add(getattr(case, "test_case", case).id())
    skipped = len(r.skipped)
    passed = r.testsRun - len(failed) - skipped
    proto = c.meta.service_model.protocol
    print("test_sqs[%s]: %d passed, %d failed, %d skipped" % (proto, passed, len(failed), skipped))
    sys.exit(1 if failed or r.testsRun == 0 else 0)


if __name__ == "__main__":
    main()
