"""SQS -> Lambda event source mappings through real boto3 clients.

A Python function (ESM_FN) appends one JSON line per invocation to the file
named by its OUT environment variable: the records it was given (whole, as
the poller built them), its pid, start and end times and how it answered.
What it answers depends on MODE and on each message's body:

    body "fail..."    a failed item (every receive)
    body "fail1..."   a failed item on its first receive only
    body "kill1..."   os._exit(1) on its first receive: the instance dies mid-batch
    body "hang1..."   sleeps 5 s on its first receive: the invocation times out
    body "resp:X"     MODE=partial answers with the malformed response X names
    MODE=whole        raises if the batch holds a failed item (the whole batch fails)
    MODE=partial      returns batchItemFailures for the failed items (ReportBatchItemFailures);
                      with STOP=1 also every item after the first failure (AWS's advice for FIFO)
    SLEEP=S           sleeps S seconds per invocation

The tests assert what a user depends on: each message processed exactly once
on success; a failed batch comes back whole and ends, after maxReceiveCount
receives, in the queue's dead-letter queue; with ReportBatchItemFailures only
the listed items come back; a malformed partial response fails the whole
batch; FIFO order per message group under concurrency; filters (non-matching
messages deleted without an invocation); the batching window; the API's
shapes, validation, states and pagination; the execution role's permissions
(checked at create and while running); scaling with a backlog (GET
/_nagare/esm), back when idle, back off on errors; throttled batches kept; an
instance killed or timed out mid-batch loses nothing.

Debian's boto3 1.26 has no ScalingConfig or EventSourceMappingArn and botocore
refuses values under a member's minimum itself: those requests are signed and
sent by hand (raw()), the same REST-JSON a newer SDK sends.  Runs under
`python3` (boto3 1.43) and `/usr/bin/python3` (boto3 1.26).  Environment:
NAGARE_ENDPOINT, NAGARE_TIME_SLACK (stretches waits under sanitizers).
"""

import base64
import datetime
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from nagare_client import ENDPOINT, client, iam_client
from test_lambda_invoke import TRUST, uniq, zip_of

SLACK = float(os.environ.get("NAGARE_TIME_SLACK", "1"))
SQS_ALL = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
VT = 2 if SLACK <= 1 else 6  # visibility timeout of the retry tests, >= the function's 1 s
ESM_PATH = "/2015-03-31/event-source-mappings/"

ESM_FN = zip_of({"app.py": ("""
import json, os, time

def out(line):
    fd = os.open(os.environ["OUT"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, (json.dumps(line) + "\\n").encode())  # one write: lines never interleave
    os.close(fd)

def handler(event, context):
    t0 = time.time()
    mode = os.environ.get("MODE", "ok")
    recs = event.get("Records") or []
    if float(os.environ.get("SLEEP", "0")):
        time.sleep(float(os.environ["SLEEP"]))
    first = [r for r in recs if r["attributes"]["ApproximateReceiveCount"] == "1"]
    failed = [r for r in recs if r["body"].startswith("fail") and
              (not r["body"].startswith("fail1") or r in first)]
    line = {"pid": os.getpid(), "t0": t0, "t1": time.time(), "records": recs}
    if any(r["body"].startswith("kill1") for r in first):
        line["result"] = "killed"
        out(line)
        os._exit(1)
    if any(r["body"].startswith("hang1") for r in first):
        line["result"] = "hung"
        out(line)
        time.sleep(5)
    if mode == "whole" and failed:
        line["result"] = "error"
        out(line)
        raise ValueError("batch holds %d failed items" % len(failed))
    if mode == "partial":
        resp = [r["body"][5:] for r in recs if r["body"].startswith("resp:")]
        if resp:
            line["result"] = "resp:" + resp[0]
            out(line)
            return {"unknown": {"batchItemFailures": [{"itemIdentifier": "no-such-id"}]},
                    "missing": {"batchItemFailures": [{}]},
                    "emptyid": {"batchItemFailures": [{"itemIdentifier": ""}]},
                    "badkey": {"batchItemFailures": [{"itemId": recs[0]["messageId"]}]},
                    "object": {},
                    "string": "not an object",
                    "list": {"batchItemFailures": "not a list"},
                    "empty": {"batchItemFailures": []},
                    "null": {"batchItemFailures": None},
                    "none": None}[resp[0]]
        ids = [r["messageId"] for r in failed]
        if os.environ.get("STOP") and failed:
            at = recs.index(failed[0])
            ids = [r["messageId"] for r in recs[at:]]
        line["result"] = "partial"
        line["failed"] = ids
        out(line)
        return {"batchItemFailures": [{"itemIdentifier": i} for i in ids]}
    line["result"] = "ok"
    out(line)
    return None
""", 0o644)})


def policy(actions):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": "*"}]})


def raw(method, path, body=None):
    """A SigV4-signed Lambda REST-JSON request: (status, error code or None, JSON body)."""
    data = json.dumps(body).encode() if body is not None else b""
    req = AWSRequest(method=method, url=ENDPOINT + path, data=data,
                     headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("test", "test"), "lambda", "us-east-1").add_auth(req)
    http = urllib.request.Request(ENDPOINT + path, data=data or None, method=method,
                                  headers=dict(req.headers.items()))
    try:
        with urllib.request.urlopen(http, timeout=30) as r:
            return r.status, None, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        code = (e.headers.get("x-amzn-ErrorType") or "").split(":")[0]
        return e.code, code, json.loads(e.read() or b"null")


def esm_status():
    """GET /_nagare/esm: {UUID: entry}."""
    with urllib.request.urlopen(ENDPOINT + "/_nagare/esm", timeout=10) as r:
        return {m["UUID"]: m for m in json.loads(r.read())["mappings"]}


def in_flight_at_most(calls):
    """The most invocations (logged t0..t1) that ran at one moment."""
    ends = sorted([(c["t0"], 1) for c in calls] + [(c["t1"], -1) for c in calls],
                  key=lambda e: (e[0], e[1]))  # an end before a start at the same instant
    most = now = 0
    for _, step in ends:
        now += step
        most = max(most, now)
    return most


def wait_for(what, pred, seconds):
    end = time.time() + seconds * SLACK
    while True:
        v = pred()
        if v or time.time() > end:
            return v
        time.sleep(0.1)


class EsmTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lam = client("lambda", read_timeout=120)
        cls.iam = iam_client()
        cls.sqs = client("sqs")
        cls.role_name = uniq("esm")
        cls.role = cls.iam.create_role(RoleName=cls.role_name,
                                       AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
        cls.iam.put_role_policy(RoleName=cls.role_name, PolicyName="sqs",
                                PolicyDocument=policy(SQS_ALL))
        cls.dir = tempfile.mkdtemp(prefix="nagare-esm-")
        cls.new_sdk = "ScalingConfig" in cls.lam.meta.service_model.operation_model(
            "CreateEventSourceMapping").input_shape.members

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    # --- helpers ------------------------------------------------------------------------

    def function(self, role=None, timeout=3, **env):
        """A function running ESM_FN with env; returns (name, its log path, its ARN)."""
        name = uniq("fn")
        log = os.path.join(self.dir, name + ".jsonl")
        env.setdefault("MODE", "ok")
        env["OUT"] = log
        r = self.lam.create_function(FunctionName=name, Runtime="python3.12",
                                     Role=role or self.role, Handler="app.handler",
                                     Code={"ZipFile": ESM_FN}, Timeout=timeout,
                                     Environment={"Variables": {k: str(v) for k, v in env.items()}})
        self.addCleanup(self.lam.delete_function, FunctionName=name)
        return name, log, r["FunctionArn"]

    def queue(self, fifo=False, vt=30, dlq=None, receives=2):
        """A queue (its DLQ's ARN and maxReceiveCount when dlq is given); returns (url, arn)."""
        attrs = {"VisibilityTimeout": str(vt)}
        name = uniq("q")
        if fifo:
            name += ".fifo"
            attrs.update(FifoQueue="true", ContentBasedDeduplication="true")
        if dlq:
            attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq,
                                                 "maxReceiveCount": str(receives)})
        url = self.sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        self.addCleanup(self.sqs.delete_queue, QueueUrl=url)
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return url, arn["Attributes"]["QueueArn"]

    def delete_quietly(self, uuid):
        try:
            self.lam.delete_event_source_mapping(UUID=uuid)
        except ClientError:
            pass  # the test deleted it already

    def mapping(self, fn, arn, state="Enabled", **kw):
        """Creates a mapping (deleted at cleanup) and waits until it reaches state."""
        m = self.lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, **kw)
        self.addCleanup(self.delete_quietly, m["UUID"])
        self.assertEqual(m["State"], "Creating")
        self.wait_state(m["UUID"], state)
        return m

    def wait_state(self, uuid, state, seconds=5):
        got = wait_for(state, lambda: self.lam.get_event_source_mapping(UUID=uuid)["State"]
                       == state, seconds)
        if not got:
            self.fail("mapping %s never reached %s (now %s)" % (
                uuid, state, self.lam.get_event_source_mapping(UUID=uuid)["State"]))

    def send(self, url, bodies, **kw):
        """SendMessageBatch in tens; returns the message ids in order."""
        ids = []
        for i in range(0, len(bodies), 10):
            entries = [dict(Id=str(j), MessageBody=b, **kw)
                       for j, b in enumerate(bodies[i:i + 10])]
            r = self.sqs.send_message_batch(QueueUrl=url, Entries=entries)
            self.assertFalse(r.get("Failed"), r.get("Failed"))
            ids += [e["MessageId"] for e in sorted(r["Successful"], key=lambda e: int(e["Id"]))]
        return ids

    def lines(self, log):
        try:
            with open(log) as f:
                return [json.loads(x) for x in f if x.strip()]
        except OSError:
            return []

    def seen(self, log, result=None):
        """[(messageId, body, receive count)] of every record given, in log order."""
        return [(r["messageId"], r["body"], int(r["attributes"]["ApproximateReceiveCount"]))
                for line in self.lines(log) if result is None or line["result"] == result
                for r in line["records"]]

    def receive_counts(self, log):
        """{body: [ApproximateReceiveCount of each time the function was given it]}."""
        counts = {}
        for _, body, n in self.seen(log):
            counts.setdefault(body, []).append(n)
        return counts

    def depth(self, url):
        a = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed"])["Attributes"]
        return sum(int(v) for v in a.values())

    def wait_empty(self, url, seconds=20):
        if not wait_for("empty", lambda: self.depth(url) == 0, seconds):
            arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            why = [{k: v for k, v in m.items() if k not in ("UUID", "FunctionArn")}
                   for m in esm_status().values()
                   if m["EventSourceArn"] == arn["Attributes"]["QueueArn"]]
            self.fail("%s still holds %d messages; its mappings: %s" % (url, self.depth(url), why))

    def drain(self, url):
        """Every body in url (each received once, with a long visibility timeout)."""
        bodies = []
        while True:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                           VisibilityTimeout=60, WaitTimeSeconds=0).get("Messages")
            if not got:
                return bodies
            bodies += [m["Body"] for m in got]

    def until_dlq(self, mode, bodies, **kw):
        """bodies through a mapping (kw) to a function in mode, on a queue with a DLQ after 2
        receives, until the queue is empty; returns (the function's log, the DLQ's bodies)."""
        dlq_url, dlq_arn = self.queue()
        url, arn = self.queue(vt=VT, dlq=dlq_arn, receives=2)
        fn, log, _ = self.function(timeout=1, MODE=mode)
        self.send(url, bodies)
        self.mapping(fn, arn, **kw)
        self.wait_empty(url, 20)
        time.sleep(0.5)
        return log, sorted(self.drain(dlq_url))

    def error(self, call, **kw):
        with self.assertRaises(ClientError) as cm:
            call(**kw)
        return cm.exception.response["Error"]["Code"], cm.exception.response["Error"]["Message"]

    # --- behaviour ----------------------------------------------------------------------

    def test_drains_every_message_exactly_once(self):
        url, arn = self.queue()
        fn, log, _ = self.function()
        m = self.mapping(fn, arn, BatchSize=10)
        got = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
        self.assertNotIn("Policy", got.get("Attributes", {}))  # no queue policy is needed
        ids = self.send(url, ["m-%d" % i for i in range(200)])
        wait_for("200 seen", lambda: len(self.seen(log)) >= 200, 20)
        self.wait_empty(url)
        time.sleep(1)  # a duplicate would show up now
        seen = [s[0] for s in self.seen(log)]
        self.assertEqual(sorted(seen), sorted(ids))  # every id, none twice
        calls = self.lines(log)
        self.assertTrue(all(1 <= len(c["records"]) <= 10 for c in calls))
        self.assertTrue(all(c["result"] == "ok" for c in calls))
        st = esm_status()[m["UUID"]]
        self.assertEqual(st["messagesDeleted"], 200)
        self.assertEqual(st["invocations"], len(calls))
        self.assertEqual(st["functionErrors"], 0)
        self.assertEqual(st["backlog"], 0)
        self.assertEqual(st["EventSourceArn"], arn)
        self.assertEqual(self.lam.get_event_source_mapping(UUID=m["UUID"])
                         ["LastProcessingResult"], "OK")

    def test_payload_limit_splits_batches(self):
        # ten 900 KB messages are 9 MB, over the 6 MB a synchronous invocation takes: the
        # poller sends what fits and the rest follows in order, none lost, none twice
        url, arn = self.queue()
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "1048576"})
        fn, log, _ = self.function(timeout=10)
        ids = [self.sqs.send_message(QueueUrl=url, MessageBody=("%d-" % i) + "x" * 900000)
               ["MessageId"] for i in range(10)]
        self.mapping(fn, arn, BatchSize=10, MaximumBatchingWindowInSeconds=1)
        self.wait_empty(url, 30)
        time.sleep(0.5)
        self.assertEqual(sorted(s[0] for s in self.seen(log)), sorted(ids))
        calls = self.lines(log)
        self.assertGreaterEqual(len(calls), 2)
        for c in calls:
            self.assertLessEqual(len(json.dumps({"Records": c["records"]})), 6291456)

    def test_event_shape(self):
        url, arn = self.queue()
        fn, log, _ = self.function()
        self.mapping(fn, arn, BatchSize=10)
        attrs = {"s": {"DataType": "String", "StringValue": "hello"},
                 "n": {"DataType": "Number", "StringValue": "42"},
                 "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"}}
        before = int(time.time() * 1000)
        r = self.sqs.send_message(QueueUrl=url, MessageBody="shape", MessageAttributes=attrs)
        plain = self.sqs.send_message(QueueUrl=url, MessageBody="plain")
        wait_for("seen", lambda: len(self.seen(log)) >= 2, 10)
        recs = {r2["body"]: r2 for line in self.lines(log) for r2 in line["records"]}
        rec = recs["shape"]
        self.assertEqual(rec["messageId"], r["MessageId"])
        self.assertTrue(rec["receiptHandle"])
        self.assertEqual(rec["md5OfBody"], hashlib.md5(b"shape").hexdigest())
        self.assertEqual(rec["md5OfMessageAttributes"], r["MD5OfMessageAttributes"])
        self.assertEqual(rec["eventSource"], "aws:sqs")
        self.assertEqual(rec["eventSourceARN"], arn)
        self.assertEqual(rec["awsRegion"], "us-east-1")
        a = rec["attributes"]
        self.assertEqual(a["ApproximateReceiveCount"], "1")
        self.assertTrue(a["SenderId"])
        self.assertGreaterEqual(int(a["SentTimestamp"]), before - 1000)
        self.assertGreaterEqual(int(a["ApproximateFirstReceiveTimestamp"]), int(a["SentTimestamp"]))
        self.assertEqual(rec["messageAttributes"], {
            "s": {"stringValue": "hello", "stringListValues": [], "binaryListValues": [],
                  "dataType": "String"},
            "n": {"stringValue": "42", "stringListValues": [], "binaryListValues": [],
                  "dataType": "Number"},
            "b": {"binaryValue": base64.b64encode(b"\x00\x01\xff").decode(),
                  "stringListValues": [], "binaryListValues": [], "dataType": "Binary"}})
        self.assertEqual(recs["plain"]["messageId"], plain["MessageId"])
        self.assertEqual(recs["plain"]["messageAttributes"], {})

    def test_whole_batch_failure_returns_every_message_then_dlq(self):
        bodies = ["fail-%d" % i for i in range(3)] + ["ok-%d" % i for i in range(12)]
        log, in_dlq = self.until_dlq("whole", bodies, BatchSize=5)
        calls = self.lines(log)
        # A message in a failed batch was not deleted: it came back, or went to the DLQ
        # once it had been received maxReceiveCount (2) times; nothing else is in the DLQ.
        done = {r["body"] for c in calls if c["result"] == "ok" for r in c["records"]}
        for c in calls:
            if c["result"] == "error":
                for r in c["records"]:
                    self.assertTrue(r["body"] in done or r["body"] in in_dlq, r["body"])
        self.assertEqual(sorted(done | set(in_dlq)), sorted(bodies))
        self.assertFalse(done & set(in_dlq))
        self.assertTrue({"fail-0", "fail-1", "fail-2"} <= set(in_dlq))
        counts = self.receive_counts(log)
        for body in in_dlq:  # received exactly maxReceiveCount times, counted 1, 2
            self.assertEqual(sorted(counts.get(body, [])), [1, 2], body)
        for body in done:
            self.assertEqual(len([1 for c in calls if c["result"] == "ok"
                                  for r in c["records"] if r["body"] == body]), 1, body)

    def test_whole_batch_failure_one_message_per_batch(self):
        bodies = ["ok-%d" % i for i in range(8)] + ["fail-%d" % i for i in range(3)]
        log, in_dlq = self.until_dlq("whole", bodies, BatchSize=1)
        self.assertEqual(in_dlq, ["fail-0", "fail-1", "fail-2"])
        counts = self.receive_counts(log)
        self.assertEqual(counts, {b: ([1, 2] if b.startswith("fail") else [1]) for b in bodies})

    def test_partial_batch_failure(self):
        bodies = ["ok-%d" % i for i in range(25)] + ["fail-%d" % i for i in range(5)]
        log, in_dlq = self.until_dlq("partial", bodies, BatchSize=10,
                                     FunctionResponseTypes=["ReportBatchItemFailures"])
        self.assertEqual(in_dlq, sorted(b for b in bodies if b[:4] == "fail"))
        counts = self.receive_counts(log)
        # the listed items came back (and then went to the DLQ); the rest were deleted at once
        self.assertEqual(counts, {b: ([1, 2] if b.startswith("fail") else [1]) for b in bodies})

    def test_partial_response_success_and_malformed(self):
        # AWS's list: an empty or null list, an empty or null response are a success; an
        # invalid response, an empty, null or misnamed itemIdentifier, an unknown id fail
        ok = ["resp:empty", "resp:null", "resp:none", "resp:object"]
        bad = ["resp:unknown", "resp:missing", "resp:emptyid", "resp:badkey", "resp:string",
               "resp:list"]
        log, in_dlq = self.until_dlq("partial", ok + bad, BatchSize=1,
                                     FunctionResponseTypes=["ReportBatchItemFailures"])
        self.assertEqual(in_dlq, sorted(bad))
        counts = self.receive_counts(log)
        self.assertEqual(counts, {b: ([1] if b in ok else [1, 2]) for b in ok + bad})

    def test_batch_item_failures_need_the_response_type(self):
        # Without FunctionResponseTypes ["ReportBatchItemFailures"] the function's answer is
        # not read: a batchItemFailures list is a success and the whole batch is deleted.
        url, arn = self.queue(vt=VT)
        fn, log, _ = self.function(timeout=1, MODE="partial")
        self.send(url, ["fail1-a", "ok-b", "ok-c"])
        self.mapping(fn, arn, BatchSize=10)
        self.wait_empty(url, 10)
        time.sleep(VT + 1)
        self.assertEqual(sorted(s[1] for s in self.seen(log)), ["fail1-a", "ok-b", "ok-c"])

    def test_fifo_order_per_group_under_concurrency(self):
        url, arn = self.queue(fifo=True)
        fn, log, _ = self.function(SLEEP=0.1)
        groups = ["g%d" % g for g in range(4)]
        for k in range(0, 20, 5):  # interleaved: g0 0-4, g1 0-4, ..., g0 5-9, ...
            for g in groups:
                self.send(url, ["%s-%d" % (g, k + j) for j in range(5)], MessageGroupId=g)
        self.mapping(fn, arn, BatchSize=3)
        self.wait_empty(url, 20)
        calls = sorted(self.lines(log), key=lambda c: c["t0"])
        order = {g: [] for g in groups}
        for c in calls:
            for r in c["records"]:
                g = r["attributes"]["MessageGroupId"]
                order[g].append(int(r["body"].split("-")[1]))
                self.assertEqual(r["body"].split("-")[0], g)
                self.assertTrue(r["attributes"]["SequenceNumber"].isdigit())
                self.assertTrue(r["attributes"]["MessageDeduplicationId"])
        for g in groups:
            self.assertEqual(order[g], list(range(20)), g)
        # batches of different groups ran at once, never more than there are groups
        most = in_flight_at_most(calls)
        self.assertGreaterEqual(most, 2)
        self.assertLessEqual(most, len(groups))

    def test_fifo_partial_failure_keeps_group_order(self):
        url, arn = self.queue(fifo=True, vt=VT)
        fn, log, _ = self.function(timeout=1, MODE="partial", STOP=1)
        self.send(url, ["fail1-3" if i == 3 else "m-%d" % i for i in range(10)],
                  MessageGroupId="one")
        self.mapping(fn, arn, BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"])
        self.wait_empty(url, 20)
        seq = [int(s[1].split("-")[1]) for s in self.seen(log)]
        # 0.. up to the failure, then the failed item and the rest of the group, in order
        again = seq.index(3, seq.index(3) + 1)
        self.assertEqual(seq[:again], list(range(len(seq[:again]))))
        self.assertGreaterEqual(again, 4)
        self.assertEqual(seq[again:], list(range(3, 10)))

    def test_filters(self):
        url, arn = self.queue()
        fn, log, _ = self.function()
        pats = [{"body": {"kind": [{"prefix": "ord"}, "refund"]}},
                {"body": {"n": [{"numeric": [">", 10, "<=", 20]}]}},
                {"body": {"vip": [{"exists": True}]}},
                {"body": {"city": [{"suffix": "burg"}]}},
                {"body": {"tier": [{"anything-but": ["free"]}],
                          "color": [{"equals-ignore-case": "red"}]}}]
        fc = {"Filters": [{"Pattern": json.dumps(p)} for p in pats]}
        m = self.mapping(fn, arn, FilterCriteria=fc)
        self.assertEqual(m["FilterCriteria"], fc)
        match = [{"kind": "order-1"}, {"kind": "refund"}, {"n": 15}, {"n": 20}, {"vip": False},
                 {"city": "Hamburg"}, {"tier": "pro", "color": "RED"}]
        miss = [{"kind": "return"}, {"kind": "refunds"}, {"n": 10}, {"n": 21}, {"n": "15"},
                {"city": "Paris"}, {"tier": "free", "color": "red"},
                {"tier": "pro", "color": "blue"}, {"other": 1}]
        bodies = [json.dumps(dict(b, i=i)) for i, b in enumerate(match + miss)]
        self.send(url, bodies + ["plain text order"])
        self.wait_empty(url, 10)  # the ones that do not match are deleted too
        time.sleep(0.5)
        self.assertEqual(sorted(s[1] for s in self.seen(log)), sorted(bodies[:len(match)]))
        st = esm_status()[m["UUID"]]
        self.assertEqual(st["functionErrors"], 0)

    def test_disabled_mapping_does_not_poll(self):
        url, arn = self.queue()
        fn, log, _ = self.function()
        m = self.mapping(fn, arn, state="Disabled", Enabled=False)
        self.send(url, ["a", "b", "c"])
        time.sleep(1.5)
        self.assertEqual(self.seen(log), [])
        self.assertEqual(self.depth(url), 3)
        u = self.lam.update_event_source_mapping(UUID=m["UUID"], Enabled=True)
        self.assertEqual(u["State"], "Enabling")
        self.wait_state(m["UUID"], "Enabled")
        self.wait_empty(url, 10)
        self.assertEqual(sorted(s[1] for s in self.seen(log)), ["a", "b", "c"])

    def test_instance_killed_or_timed_out_mid_batch_loses_nothing(self):
        url, arn = self.queue(vt=VT)
        fn, log, _ = self.function(timeout=1)
        bodies = ["kill1-%d" % i for i in range(10)] + ["hang1-%d" % i for i in range(10)]
        self.send(url, bodies)
        m = self.mapping(fn, arn, BatchSize=5)
        self.wait_empty(url, 20)
        time.sleep(0.5)
        ok = [(b, n) for _, b, n in self.seen(log, "ok")]
        self.assertEqual(sorted(b for b, _ in ok), sorted(bodies))  # each once, after a retry
        self.assertTrue(all(n >= 2 for _, n in ok))
        failed = [b for _, b, _ in self.seen(log, "killed") + self.seen(log, "hung")]
        self.assertEqual(set(failed), set(bodies))  # every first attempt died or timed out
        self.assertGreaterEqual(esm_status()[m["UUID"]]["functionErrors"], 4)

    def batched(self, n, **kw):
        """n messages sent at once through a new mapping (kw); (invocations, first send time)."""
        url, arn = self.queue()
        fn, log, _ = self.function()
        self.mapping(fn, arn, **kw)
        t0 = time.time()
        self.send(url, ["w-%d" % i for i in range(n)])
        self.wait_empty(url, 10)
        return self.lines(log), t0

    def test_batching_window_fills_the_batch(self):
        calls, t0 = self.batched(30, BatchSize=50, MaximumBatchingWindowInSeconds=2)
        # one invocation with all 30, made when the window closed (the batch was not full)
        self.assertEqual([len(c["records"]) for c in calls], [30])
        self.assertGreaterEqual(calls[0]["t0"] - t0, 1.5)
        # a full batch does not wait for the window
        calls, t0 = self.batched(22, BatchSize=11, MaximumBatchingWindowInSeconds=30)
        self.assertLess(max(c["t0"] for c in calls) - t0, 10)
        self.assertEqual(sorted(len(c["records"]) for c in calls), [11, 11])

    def test_errors_back_off(self):
        url, arn = self.queue(vt=VT)
        fn, log, _ = self.function(timeout=1, MODE="whole")
        self.send(url, ["fail-%d" % i for i in range(60)])
        m = self.mapping(fn, arn, BatchSize=1)
        # once the function fails, fewer batches at once (AWS backs off on errors)
        backed = wait_for("back-off", lambda: (lambda s: s["functionErrors"] and s["target"] < 5)(
            esm_status()[m["UUID"]]), 5)
        self.assertTrue(backed, esm_status()[m["UUID"]])
        self.assertEqual(self.lam.get_event_source_mapping(UUID=m["UUID"])
                         ["LastProcessingResult"], "PROBLEM: Function call failed")

    def test_throttled_batches_wait_for_concurrency(self):
        url, arn = self.queue()
        fn, log, _ = self.function()
        self.lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=0)
        m = self.mapping(fn, arn, BatchSize=5)
        self.send(url, ["t-%d" % i for i in range(5)])
        time.sleep(2)
        self.assertEqual(self.seen(log), [])
        self.assertEqual(self.depth(url), 5)  # nothing lost or deleted meanwhile
        self.lam.delete_function_concurrency(FunctionName=fn)
        self.wait_empty(url, 15)
        self.assertEqual(sorted(s[1] for s in self.seen(log)), ["t-%d" % i for i in range(5)])

    def test_scaling_with_a_backlog_and_back(self):
        url, arn = self.queue()
        fn, log, _ = self.function(SLEEP=0.25)
        self.send(url, ["s-%d" % i for i in range(240)])
        m = self.raw_create(fn, arn, BatchSize=1, ScalingConfig={"MaximumConcurrency": 20})
        self.assertEqual(m["ScalingConfig"], {"MaximumConcurrency": 20})
        t0, samples = time.time(), []
        while self.depth(url) and time.time() - t0 < 60 * SLACK:
            st = esm_status().get(m["UUID"])
            if st:
                samples.append((time.time() - t0, st))
            time.sleep(0.1)
        self.wait_empty(url, 5)
        self.assertTrue(samples)
        self.assertEqual(samples[-1][1]["limit"], 20)  # MaximumConcurrency is the cap
        self.assertGreater(max(s["backlog"] for _, s in samples), 100)
        self.assertGreater(max(s["target"] for _, s in samples), 5)
        self.assertGreater(max(s["concurrency"] for _, s in samples), 5)
        self.assertLessEqual(max(s["target"] for _, s in samples), 20)
        self.assertLessEqual(max(s["concurrency"] for _, s in samples), 20)
        # AWS adds concurrency gradually: here up to 5 more batches a second
        for t, s in samples:
            self.assertLessEqual(s["target"], 5 + 5 * (t + 2), "target %d at %.1f s" % (
                s["target"], t))
        self.assertEqual(sorted(x[1] for x in self.seen(log)),
                         sorted("s-%d" % i for i in range(240)))
        # idle: back to the start, nothing in flight
        back = wait_for("idle", lambda: (lambda s: s["target"] <= 5 and s["concurrency"] == 0)(
            esm_status()[m["UUID"]]), 20)
        self.assertTrue(back, esm_status()[m["UUID"]])
        self.assertEqual(esm_status()[m["UUID"]]["backlog"], 0)

    def test_permission_loss_stops_and_restore_resumes(self):
        role_name = uniq("esmperm")
        role = self.iam.create_role(RoleName=role_name,
                                    AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
        self.iam.put_role_policy(RoleName=role_name, PolicyName="sqs",
                                 PolicyDocument=policy(SQS_ALL))
        url, arn = self.queue()
        fn, log, _ = self.function(role=role)
        m = self.mapping(fn, arn)
        self.send(url, ["before"])
        self.assertTrue(wait_for("before", lambda: self.seen(log), 10))
        self.iam.delete_role_policy(RoleName=role_name, PolicyName="sqs")
        res = wait_for("problem", lambda: (lambda r: r if r.startswith("PROBLEM") else None)(
            self.lam.get_event_source_mapping(UUID=m["UUID"]).get("LastProcessingResult", "")),
            25)
        self.assertTrue(res, "LastProcessingResult never reported the lost permission")
        self.assertIn("ReceiveMessage", res)
        self.assertTrue(esm_status()[m["UUID"]]["lastProcessingResult"].startswith("PROBLEM"))
        self.send(url, ["during-%d" % i for i in range(3)])
        time.sleep(2)
        self.assertEqual([s[1] for s in self.seen(log)], ["before"])
        self.assertEqual(self.depth(url), 3)
        self.iam.put_role_policy(RoleName=role_name, PolicyName="sqs",
                                 PolicyDocument=policy(SQS_ALL))
        self.wait_empty(url, 20)
        self.assertEqual(sorted(s[1] for s in self.seen(log)),
                         ["before", "during-0", "during-1", "during-2"])
        self.assertTrue(wait_for("ok", lambda: self.lam.get_event_source_mapping(
            UUID=m["UUID"])["LastProcessingResult"] == "OK", 5))

    # --- API ----------------------------------------------------------------------------

    def raw_create(self, fn, arn, **kw):
        """CreateEventSourceMapping signed by hand (ScalingConfig on every SDK), then Enabled."""
        body = dict(FunctionName=fn, EventSourceArn=arn, **kw)
        status, code, m = raw("POST", ESM_PATH, body)
        self.assertEqual((status, code), (202, None), m)
        self.addCleanup(self.delete_quietly, m["UUID"])
        self.wait_state(m["UUID"], "Enabled")
        return m

    def test_crud_shapes(self):
        url, arn = self.queue()
        fn, _, fn_arn = self.function()
        fc = {"Filters": [{"Pattern": json.dumps({"body": {"a": [1]}})}]}
        m = self.lam.create_event_source_mapping(
            FunctionName=fn, EventSourceArn=arn, BatchSize=50, MaximumBatchingWindowInSeconds=2,
            FunctionResponseTypes=["ReportBatchItemFailures"], FilterCriteria=fc)
        self.addCleanup(self.delete_quietly, m["UUID"])
        self.assertEqual(m["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertRegex(m["UUID"], r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")
        self.assertEqual(m["EventSourceArn"], arn)
        self.assertEqual(m["FunctionArn"], fn_arn)
        self.assertEqual(m["BatchSize"], 50)
        self.assertEqual(m["MaximumBatchingWindowInSeconds"], 2)
        self.assertEqual(m["FunctionResponseTypes"], ["ReportBatchItemFailures"])
        self.assertEqual(m["FilterCriteria"], fc)
        self.assertEqual(m["State"], "Creating")
        self.assertEqual(m["StateTransitionReason"], "USER_INITIATED")
        self.assertIsInstance(m["LastModified"], datetime.datetime)
        self.wait_state(m["UUID"], "Enabled")
        status, code, g = raw("GET", ESM_PATH + m["UUID"])
        self.assertEqual(status, 200)
        self.assertEqual(g["EventSourceMappingArn"],
                         "arn:aws:lambda:us-east-1:%s:event-source-mapping:%s"
                         % (fn_arn.split(":")[4], m["UUID"]))
        self.assertIsInstance(g["LastProcessingResult"], str)
        for k in ("UUID", "EventSourceArn", "FunctionArn", "BatchSize", "State",
                  "MaximumBatchingWindowInSeconds", "FunctionResponseTypes", "FilterCriteria",
                  "StateTransitionReason", "LastModified"):
            self.assertIn(k, g)
        # defaults: BatchSize 10, no window, no response types
        url2, arn2 = self.queue()
        d = self.mapping(fn, arn2)
        self.assertEqual(d["BatchSize"], 10)
        self.assertEqual(d.get("MaximumBatchingWindowInSeconds", 0), 0)
        self.assertEqual(d.get("FunctionResponseTypes", []), [])
        # Update changes what it names and keeps the rest
        u = self.lam.update_event_source_mapping(UUID=m["UUID"], BatchSize=7,
                                                 FunctionResponseTypes=[])
        self.assertEqual(u["BatchSize"], 7)
        self.assertEqual(u.get("FunctionResponseTypes", []), [])
        self.assertEqual(u["MaximumBatchingWindowInSeconds"], 2)
        self.assertEqual(u["FilterCriteria"], fc)
        g = self.lam.get_event_source_mapping(UUID=m["UUID"])
        self.assertEqual((g["BatchSize"], g["MaximumBatchingWindowInSeconds"]), (7, 2))
        status, code, body = raw("PUT", ESM_PATH + m["UUID"],
                                 {"ScalingConfig": {"MaximumConcurrency": 7}})
        self.assertEqual((status, code), (202, None), body)
        self.assertEqual(body["ScalingConfig"], {"MaximumConcurrency": 7})
        self.assertEqual(raw("GET", ESM_PATH + m["UUID"])[2]["ScalingConfig"],
                         {"MaximumConcurrency": 7})
        # the function named by its ARN finds the same mappings
        by_arn = self.lam.list_event_source_mappings(FunctionName=fn_arn)["EventSourceMappings"]
        self.assertEqual(sorted(x["UUID"] for x in by_arn), sorted([m["UUID"], d["UUID"]]))

    def test_state_transitions_and_delete(self):
        url, arn = self.queue()
        fn, log, _ = self.function()
        m = self.mapping(fn, arn)
        u = self.lam.update_event_source_mapping(UUID=m["UUID"], Enabled=False)
        self.assertEqual(u["State"], "Disabling")
        self.wait_state(m["UUID"], "Disabled")
        g = self.lam.get_event_source_mapping(UUID=m["UUID"])
        self.assertEqual(g["StateTransitionReason"], "USER_INITIATED")
        self.send(url, ["while-disabled"])
        time.sleep(1.5)
        self.assertEqual((self.seen(log), self.depth(url)), ([], 1))  # disabled: not polled
        u = self.lam.update_event_source_mapping(UUID=m["UUID"], Enabled=True)
        self.assertEqual(u["State"], "Enabling")
        self.wait_state(m["UUID"], "Enabled")
        self.wait_empty(url, 10)
        self.assertEqual([s[1] for s in self.seen(log)], ["while-disabled"])
        d = self.lam.delete_event_source_mapping(UUID=m["UUID"])
        self.assertEqual(d["State"], "Deleting")
        self.assertEqual(d["UUID"], m["UUID"])

        def gone():
            try:
                self.lam.get_event_source_mapping(UUID=m["UUID"])
                return False
            except ClientError as e:
                return e.response["Error"]["Code"] == "ResourceNotFoundException"
        self.assertTrue(wait_for("deleted", gone, 5))
        self.assertEqual(self.error(self.lam.delete_event_source_mapping, UUID=m["UUID"])[0],
                         "ResourceNotFoundException")
        self.assertEqual(self.error(self.lam.update_event_source_mapping, UUID=m["UUID"],
                                    BatchSize=2)[0], "ResourceNotFoundException")
        self.assertEqual(self.lam.list_event_source_mappings(FunctionName=fn)
                         ["EventSourceMappings"], [])
        self.assertNotIn(m["UUID"], esm_status())
        self.send(url, ["after-delete"])
        time.sleep(1.5)
        self.assertEqual(self.depth(url), 1)  # deleted: nothing polls the queue any more
        self.assertEqual([s[1] for s in self.seen(log)], ["while-disabled"])

    def test_list_and_pagination(self):
        fn, _, fn_arn = self.function()
        other, _, _ = self.function()
        arns = [self.queue()[1] for _ in range(3)]
        mine = [self.mapping(fn, a)["UUID"] for a in arns]
        theirs = self.mapping(other, arns[0])["UUID"]
        page = self.lam.list_event_source_mappings(FunctionName=fn, MaxItems=2)
        self.assertEqual(len(page["EventSourceMappings"]), 2)
        self.assertIn("NextMarker", page)
        rest = self.lam.list_event_source_mappings(FunctionName=fn, MaxItems=2,
                                                   Marker=page["NextMarker"])
        self.assertEqual(len(rest["EventSourceMappings"]), 1)
        self.assertNotIn("NextMarker", rest)
        got = [x["UUID"] for x in page["EventSourceMappings"] + rest["EventSourceMappings"]]
        self.assertEqual(sorted(got), sorted(mine))
        self.assertTrue(all(x["FunctionArn"] == fn_arn
                            for x in page["EventSourceMappings"] + rest["EventSourceMappings"]))
        by_src = self.lam.list_event_source_mappings(EventSourceArn=arns[0])["EventSourceMappings"]
        self.assertEqual(sorted(x["UUID"] for x in by_src), sorted([mine[0], theirs]))
        one = self.lam.list_event_source_mappings(EventSourceArn=arns[0], MaxItems=1)
        two = self.lam.list_event_source_mappings(EventSourceArn=arns[0], MaxItems=1,
                                                  Marker=one["NextMarker"])
        self.assertEqual(sorted(x["UUID"] for x in one["EventSourceMappings"]
                                + two["EventSourceMappings"]), sorted([mine[0], theirs]))
        both = self.lam.list_event_source_mappings(FunctionName=other, EventSourceArn=arns[0])
        self.assertEqual([x["UUID"] for x in both["EventSourceMappings"]], [theirs])
        self.assertEqual(self.lam.list_event_source_mappings(EventSourceArn=arns[2],
                                                             FunctionName=other)
                         ["EventSourceMappings"], [])

    def test_validation(self):
        url, arn = self.queue()
        furl, farn = self.queue(fifo=True)
        fn, _, _ = self.function()
        create = self.lam.create_event_source_mapping
        bad = "InvalidParameterValueException"
        self.assertEqual(self.error(create, FunctionName=fn, EventSourceArn=arn, BatchSize=11),
                         (bad, "Maximum batch window in seconds must be greater than 0 if "
                          "maximum batch size is greater than 10"))
        self.assertEqual(self.error(create, FunctionName=fn, EventSourceArn=farn, BatchSize=11,
                                    MaximumBatchingWindowInSeconds=1)[0], bad)
        # outside the API model's bounds: AWS's ValidationException, "1 validation error
        # detected: Value '0' at 'batchSize' failed to satisfy constraint: ..." (sent by hand,
        # as botocore refuses values under a minimum itself)
        for body, member in (({"BatchSize": 0}, "batchSize"),
                             ({"BatchSize": 10001, "MaximumBatchingWindowInSeconds": 1},
                              "batchSize"),
                             ({"MaximumBatchingWindowInSeconds": -1},
                              "maximumBatchingWindowInSeconds"),
                             ({"MaximumBatchingWindowInSeconds": 301},
                              "maximumBatchingWindowInSeconds"),
                             ({"ScalingConfig": {"MaximumConcurrency": 1}},
                              "scalingConfig.maximumConcurrency"),
                             ({"ScalingConfig": {"MaximumConcurrency": 1001}},
                              "scalingConfig.maximumConcurrency")):
            status, code, out = raw("POST", ESM_PATH, dict(body, FunctionName=fn,
                                                           EventSourceArn=arn))
            self.assertEqual((status, code), (400, "ValidationException"), body)
            self.assertIn("at '%s' failed to satisfy constraint: Member must have value"
                          % member, out.get("message") or out.get("Message"))
        self.assertEqual(self.lam.list_event_source_mappings(FunctionName=fn)
                         ["EventSourceMappings"], [])
        # the limits themselves are accepted
        m = self.mapping(fn, arn, BatchSize=10000, MaximumBatchingWindowInSeconds=300)
        self.assertEqual((m["BatchSize"], m["MaximumBatchingWindowInSeconds"]), (10000, 300))
        self.assertEqual(self.mapping(fn, farn, BatchSize=10)["BatchSize"], 10)
        # the same queue and function twice
        code, _ = self.error(create, FunctionName=fn, EventSourceArn=arn)
        self.assertEqual(code, "ResourceConflictException")
        # Update checks the same rules
        self.assertEqual(self.error(self.lam.update_event_source_mapping, UUID=m["UUID"],
                                    BatchSize=11, MaximumBatchingWindowInSeconds=0),
                         (bad, "Maximum batch window in seconds must be greater than 0 if "
                          "maximum batch size is greater than 10"))
        status, code, _ = raw("PUT", ESM_PATH + m["UUID"],
                              {"ScalingConfig": {"MaximumConcurrency": 1}})
        self.assertEqual((status, code), (400, "ValidationException"))
        self.assertEqual(self.lam.get_event_source_mapping(UUID=m["UUID"])["BatchSize"], 10000)
        # unknown function, unknown queue
        self.assertEqual(self.error(create, FunctionName=uniq("nope"), EventSourceArn=arn)[0],
                         "ResourceNotFoundException")
        self.assertEqual(self.error(create, FunctionName=fn, EventSourceArn=arn + "-nope")[0],
                         bad)
        self.assertEqual(self.error(self.lam.get_event_source_mapping,
                                    UUID="00000000-0000-0000-0000-000000000000")[0],
                         "ResourceNotFoundException")

    def test_visibility_timeout_below_function_timeout(self):
        url, arn = self.queue(vt=30)
        fn, _, _ = self.function(timeout=60)
        self.assertEqual(self.error(self.lam.create_event_source_mapping, FunctionName=fn,
                                    EventSourceArn=arn),
                         ("InvalidParameterValueException", "Queue visibility timeout: 30 "
                          "seconds is less than Function timeout: 60 seconds"))
        self.lam.update_function_configuration(FunctionName=fn, Timeout=30)
        wait_for("updated", lambda: self.lam.get_function_configuration(FunctionName=fn)
                 .get("LastUpdateStatus", "Successful") == "Successful", 5)
        self.mapping(fn, arn)  # equal is enough

    def test_execution_role_needs_each_sqs_permission(self):
        url, arn = self.queue()
        have = []
        for missing in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes"):
            name = uniq("partrole")
            role = self.iam.create_role(RoleName=name,
                                        AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
            if have:
                self.iam.put_role_policy(RoleName=name, PolicyName="some",
                                         PolicyDocument=policy(have))
            fn, _, _ = self.function(role=role)
            self.assertEqual(self.error(self.lam.create_event_source_mapping, FunctionName=fn,
                                        EventSourceArn=arn),
                             ("InvalidParameterValueException",
                              "The provided execution role does not have permissions to call "
                              "%s on SQS" % missing))
            have.append("sqs:" + missing)
        # a policy on another queue does not count
        name = uniq("otherq")
        role = self.iam.create_role(RoleName=name,
                                    AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
        self.iam.put_role_policy(RoleName=name, PolicyName="other", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": SQS_ALL, "Resource": arn + "-other"}]}))
        fn, _, _ = self.function(role=role)
        self.assertEqual(self.error(self.lam.create_event_source_mapping, FunctionName=fn,
                                    EventSourceArn=arn)[0], "InvalidParameterValueException")
        # and one scoped to exactly this queue is enough, with no queue policy
        self.iam.put_role_policy(RoleName=name, PolicyName="this", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": SQS_ALL, "Resource": arn}]}))
        self.mapping(fn, arn)


def main():
    print("test_lambda_esm: python %s, boto3 %s" % (sys.version.split()[0], boto3.__version__),
          flush=True)
    prog = unittest.main(module=__name__, verbosity=2, exit=False)
    r = prog.result
    failed = {getattr(c, "test_case", c).id() for c, _ in r.failures + r.errors}
    passed = r.testsRun - len(failed) - len(r.skipped)
    print("test_lambda_esm[boto%s]: %d passed, %d failed, %d skipped"
          % (boto3.__version__, passed, len(failed), len(r.skipped)))
    sys.exit(1 if failed or r.testsRun == 0 else 0)


if __name__ == "__main__":
    main()
