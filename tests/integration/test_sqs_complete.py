"""SQS beyond standard queues, with real boto3 clients on both wire protocols:
FIFO queues, dead-letter queues and redrive, message move tasks, queue
permissions and QueueDeletedRecently.

Loaded by test_sqs.py's main (same clients, same counting), so it runs under
`python3` (boto3 1.43, AWS JSON 1.0) and `/usr/bin/python3` (boto3 1.26, query
protocol).  boto3 1.26 predates the move-task operations; for those the query
protocol is exercised with a request signed by botocore's SigV4 signer and the
XML answer read here (query_call), so both protocols are still covered.
"""

import hashlib
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from test_sqs import ACCOUNT, ENDPOINT, REGION, SLACK, Base, make_client, md5_hex, unique

NS = "{http://queue.amazonaws.com/doc/2012-11-05/}"
INT_FIELDS = {
    "ApproximateNumberOfMessagesMoved",
    "ApproximateNumberOfMessagesToMove",
    "MaxNumberOfMessagesPerSecond",
    "StartedTimestamp",
}


def _xml_value(el):
    kids = list(el)
    if not kids:
        tag = el.tag.replace(NS, "")
        return int(el.text) if tag in INT_FIELDS else (el.text or "")
    out = {}
    for k in kids:
        out.setdefault(k.tag.replace(NS, ""), []).append(_xml_value(k))
    return {k: v[0] if len(v) == 1 and k != "Results" else v for k, v in out.items()}


def query_call(action, **params):
    """A signed query-protocol request; the <Action>Result as a dict, or a
    ClientError shaped as botocore raises it."""
    body = urllib.parse.urlencode({"Action": action, "Version": "2012-11-05", **params})
    req = AWSRequest(
        method="POST",
        url=ENDPOINT + "/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials("test", "test"), "sqs", REGION).add_auth(req)
    raw = urllib.request.Request(
        ENDPOINT + "/", data=body.encode(), headers=dict(req.headers), method="POST"
    )
    try:
        with urllib.request.urlopen(raw, timeout=30) as r:
            root = ET.fromstring(r.read())
    except urllib.error.HTTPError as e:
        err = ET.fromstring(e.read()).find(NS + "Error")
        raise ClientError(
            {
                "Error": {
                    "Code": err.findtext(NS + "Code"),
                    "Message": err.findtext(NS + "Message"),
                },
                "ResponseMetadata": {"HTTPStatusCode": e.code},
            },
            action,
        )
    result = root.find(NS + action + "Result")
    return {} if result is None else _xml_value(result)


def arn_of(name):
    return "arn:aws:sqs:%s:%s:%s" % (REGION, ACCOUNT, name)


class FifoBase(Base):
    def new_fifo(self, tag="f", attributes=None):
        attrs = {"FifoQueue": "true"}
        attrs.update(attributes or {})
        name = unique(tag) + ".fifo"
        url = self.sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        self.addCleanup(self._drop, self.sqs, url)
        return name, url

    def op(self, name, **kw):
        """Calls an SQS operation through boto3 when the client models it,
        else as a signed query request (boto3 1.26 lacks the move tasks)."""
        snake = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
        if name in self.sqs.meta.service_model.operation_names:
            return getattr(self.sqs, snake)(**kw)
        return query_call(name, **{k: str(v) for k, v in kw.items()})


class FifoTests(FifoBase):
    def test_fifo_queue_needs_suffix_and_attribute(self):
        for name, attrs in (
            (unique("nosuffix"), {"FifoQueue": "true"}),
            (unique("noattr") + ".fifo", {}),
        ):
            with self.subTest(name=name):
                self.assert_aws_error(
                    "InvalidParameterValue",
                    400,
                    self.sqs.create_queue,
                    QueueName=name,
                    Attributes=attrs,
                )
        _, url = self.new_fifo()
        a = self.attrs(url)
        self.assertEqual(a["FifoQueue"], "true")
        self.assertEqual(a["ContentBasedDeduplication"], "false")
        self.assertEqual(a["DeduplicationScope"], "queue")
        self.assertEqual(a["FifoThroughputLimit"], "perQueue")
        # A FIFO-only attribute is unknown to a standard queue.
        _, std = self.new_queue("std")
        self.assert_aws_error(
            "InvalidAttributeName",
            400,
            self.sqs.set_queue_attributes,
            QueueUrl=std,
            Attributes={"ContentBasedDeduplication": "true"},
        )

    def test_send_rules(self):
        _, url = self.new_fifo()
        e = self.assert_aws_error("MissingParameter", 400, self.send, url=url, body="x")
        self.assertIn("MessageGroupId", e.response["Error"]["Message"])
        self.assert_aws_error(
            "InvalidParameterValue", 400, self.send, url=url, body="x", MessageGroupId="g"
        )
        e = self.assert_aws_error(
            "InvalidParameterValue",
            400,
            self.send,
            url=url,
            body="x",
            MessageGroupId="g",
            MessageDeduplicationId="d",
            DelaySeconds=5,
        )
        self.assertIn("DelaySeconds", e.response["Error"]["Message"])
        # DelaySeconds=0 is not a delay: accepted.
        self.send(url, "x", MessageGroupId="g", MessageDeduplicationId="d0", DelaySeconds=0)
        self.assert_aws_error(
            "InvalidParameterValue",
            400,
            self.send,
            url=url,
            body="x",
            MessageGroupId="g" * 129,
            MessageDeduplicationId="d1",
        )
        _, std = self.new_queue("std")
        self.assert_aws_error(
            "InvalidParameterValue",
            400,
            self.send,
            url=std,
            body="x",
            MessageDeduplicationId="d",
        )

    def test_deduplication_returns_the_original(self):
        _, url = self.new_fifo()
        first = self.send(url, "a", MessageGroupId="g", MessageDeduplicationId="d")
        again = self.send(url, "b", MessageGroupId="g", MessageDeduplicationId="d")
        self.assertEqual(again["MessageId"], first["MessageId"])
        self.assertEqual(again["SequenceNumber"], first["SequenceNumber"])
        # The digest is of what this request sent (clients verify it).
        self.assertEqual(again["MD5OfMessageBody"], md5_hex("b"))
        got = self.receive(url, MaxNumberOfMessages=10)
        self.assertEqual([m["Body"] for m in got], ["a"])

    def test_content_based_deduplication(self):
        _, url = self.new_fifo(attributes={"ContentBasedDeduplication": "true"})
        a = self.send(url, "same", MessageGroupId="g")
        b = self.send(url, "same", MessageGroupId="g")
        c = self.send(url, "other", MessageGroupId="g")
        self.assertEqual(a["MessageId"], b["MessageId"])
        self.assertNotEqual(a["MessageId"], c["MessageId"])
        got = self.receive(url, MaxNumberOfMessages=10, AttributeNames=["All"])
        self.assertEqual([m["Body"] for m in got], ["same", "other"])
        self.assertEqual(
            got[0]["Attributes"]["MessageDeduplicationId"],
            hashlib.sha256(b"same").hexdigest(),
        )

    def test_deduplication_scope_message_group(self):
        _, url = self.new_fifo(
            attributes={
                "DeduplicationScope": "messageGroup",
                "FifoThroughputLimit": "perMessageGroupId",
            }
        )
        a = self.send(url, "a", MessageGroupId="g1", MessageDeduplicationId="d")
        b = self.send(url, "b", MessageGroupId="g2", MessageDeduplicationId="d")
        self.assertNotEqual(a["MessageId"], b["MessageId"])
        c = self.send(url, "c", MessageGroupId="g1", MessageDeduplicationId="d")
        self.assertEqual(c["MessageId"], a["MessageId"])
        got = self.receive(url, MaxNumberOfMessages=10)
        self.assertEqual(sorted(m["Body"] for m in got), ["a", "b"])

    def test_group_order_and_blocking(self):
        _, url = self.new_fifo(attributes={"ContentBasedDeduplication": "true"})
        seqs = []
        for body, group in (("a1", "a"), ("b1", "b"), ("a2", "a"), ("a3", "a"), ("b2", "b")):
            seqs.append(int(self.send(url, body, MessageGroupId=group)["SequenceNumber"]))
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(set(seqs)), len(seqs))
        first = self.receive(url, WaitTimeSeconds=0)
        self.assertEqual([m["Body"] for m in first], ["a1"])
        # Group a is in flight: only group b delivers, in order.
        second = self.receive(url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        self.assertEqual([m["Body"] for m in second], ["b1", "b2"])
        self.assertEqual(self.receive(url, WaitTimeSeconds=0), [])
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
        rest = self.receive(url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        self.assertEqual([m["Body"] for m in rest], ["a2", "a3"])
        # A message made visible again comes back first, in order.
        self.sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=rest[0]["ReceiptHandle"], VisibilityTimeout=0
        )
        self.assertEqual(self.receive(url, WaitTimeSeconds=0), [])  # a3 still in flight
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=rest[1]["ReceiptHandle"])
        again = self.receive(url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        self.assertEqual([m["Body"] for m in again], ["a2"])

    def test_system_attributes(self):
        _, url = self.new_fifo()
        sent = self.send(url, "x", MessageGroupId="grp", MessageDeduplicationId="dd")
        m = self.receive(url, AttributeNames=["All"])[0]
        a = m["Attributes"]
        self.assertEqual(a["MessageGroupId"], "grp")
        self.assertEqual(a["MessageDeduplicationId"], "dd")
        self.assertEqual(a["SequenceNumber"], sent["SequenceNumber"])
        self.assertEqual(len(a["SequenceNumber"]), 20)

    def test_receive_request_attempt_id(self):
        _, url = self.new_fifo(attributes={"ContentBasedDeduplication": "true"})
        for i in range(3):
            self.send(url, "m%d" % i, MessageGroupId="g%d" % i)
        a = self.receive(url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1")
        b = self.receive(url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1")
        self.assertEqual(len(a), 2)
        self.assertEqual(
            [(m["MessageId"], m["ReceiptHandle"]) for m in a],
            [(m["MessageId"], m["ReceiptHandle"]) for m in b],
        )
        c = self.receive(url, MaxNumberOfMessages=10, ReceiveRequestAttemptId="try-2")
        self.assertEqual([m["Body"] for m in c], ["m2"])

    def test_send_message_batch(self):
        _, url = self.new_fifo()
        r = self.sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": "a", "MessageBody": "1", "MessageGroupId": "g", "MessageDeduplicationId": "x"},
                {"Id": "b", "MessageBody": "2", "MessageGroupId": "g", "MessageDeduplicationId": "x"},
                {"Id": "c", "MessageBody": "3", "MessageGroupId": "g", "MessageDeduplicationId": "y"},
                {"Id": "d", "MessageBody": "4", "MessageDeduplicationId": "z"},
            ],
        )
        ok = {e["Id"]: e for e in r["Successful"]}
        self.assertEqual(set(ok), {"a", "b", "c"})
        self.assertEqual(ok["a"]["MessageId"], ok["b"]["MessageId"])
        self.assertLess(int(ok["a"]["SequenceNumber"]), int(ok["c"]["SequenceNumber"]))
        self.assertEqual([f["Code"] for f in r["Failed"]], ["MissingParameter"])
        got = self.receive(url, MaxNumberOfMessages=10)
        self.assertEqual([m["Body"] for m in got], ["1", "3"])

    def test_order_under_concurrent_consumers(self):
        _, url = self.new_fifo(attributes={"ContentBasedDeduplication": "true"})
        groups, per = 6, 12
        entries = [("g%d" % g, "g%d-%03d" % (g, i)) for i in range(per) for g in range(groups)]
        for k in range(0, len(entries), 10):
            self.sqs.send_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": "e%d" % j, "MessageBody": b, "MessageGroupId": g}
                    for j, (g, b) in enumerate(entries[k : k + 10])
                ],
            )
        lock = threading.Lock()
        seen = {}  # group -> bodies in the order they were handed out
        active = {}  # group -> consumers holding it right now
        overlaps = []
        errors = []

        def consume():
            c = make_client()
            try:
                idle = 0
                while idle < 3:
                    ms = c.receive_message(
                        QueueUrl=url, MaxNumberOfMessages=3, VisibilityTimeout=60, WaitTimeSeconds=0
                    ).get("Messages", [])
                    if not ms:
                        idle += 1
                        time.sleep(0.05)
                        continue
                    idle = 0
                    with lock:
                        for m in ms:
                            g = m["Body"].split("-")[0]
                            seen.setdefault(g, []).append(m["Body"])
                        for g in {m["Body"].split("-")[0] for m in ms}:
                            active[g] = active.get(g, 0) + 1
                            if active[g] > 1:
                                overlaps.append(g)
                    time.sleep(0.01)  # "processing"
                    with lock:
                        for g in {m["Body"].split("-")[0] for m in ms}:
                            active[g] -= 1
                    for m in ms:
                        c.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            except Exception as e:  # reported below
                errors.append(e)
            finally:
                c.close()

        threads = [threading.Thread(target=consume) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(overlaps, [], "a group was handed to two consumers at once")
        for g in range(groups):
            name = "g%d" % g
            self.assertEqual(seen.get(name), ["%s-%03d" % (name, i) for i in range(per)])


class DeadLetterTests(FifoBase):
    def redrive(self, url, dlq_url, count):
        arn = self.attrs(dlq_url, "QueueArn")["QueueArn"]
        doc = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": count})
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": doc})
        return arn

    def test_message_moves_after_max_receives(self):
        src_name, url = self.new_queue("src")
        _, dlq = self.new_queue("dlq")
        self.redrive(url, dlq, 2)
        sent = self.send(
            url,
            "poison",
            MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
        )
        sent_ts = None
        for i in range(2):
            m = self.receive(url, VisibilityTimeout=0, AttributeNames=["All"])
            self.assertEqual([x["MessageId"] for x in m], [sent["MessageId"]], i)
            sent_ts = m[0]["Attributes"]["SentTimestamp"]
        # The third receive attempt moves it instead of delivering it.
        self.assertEqual(self.receive(url, WaitTimeSeconds=0), [])
        got = self.receive(
            dlq, AttributeNames=["All"], MessageAttributeNames=["All"], WaitTimeSeconds=2
        )
        self.assertEqual(len(got), 1)
        m = got[0]
        self.assertEqual(m["MessageId"], sent["MessageId"])
        self.assertEqual(m["Body"], "poison")
        self.assertEqual(m["MessageAttributes"]["k"]["StringValue"], "v")
        self.assertEqual(m["Attributes"]["SentTimestamp"], sent_ts)
        self.assertEqual(m["Attributes"]["DeadLetterQueueSourceArn"], arn_of(src_name))
        self.wait_attrs(url, {"ApproximateNumberOfMessages": "0"})

    def test_fifo_dead_letter_queue(self):
        _, url = self.new_fifo(attributes={"ContentBasedDeduplication": "true"})
        _, dlq = self.new_fifo("dlq")
        self.redrive(url, dlq, 1)
        self.send(url, "one", MessageGroupId="g")
        self.send(url, "two", MessageGroupId="g")
        self.assertEqual([m["Body"] for m in self.receive(url, VisibilityTimeout=0)], ["one"])
        # "one" goes to the DLQ; "two" is delivered, in order after it.
        self.assertEqual([m["Body"] for m in self.receive(url)], ["two"])
        got = self.receive(dlq, AttributeNames=["All"])
        self.assertEqual([m["Body"] for m in got], ["one"])
        self.assertEqual(got[0]["Attributes"]["MessageGroupId"], "g")

    def test_redrive_policy_validation(self):
        _, url = self.new_queue("src")
        _, dlq = self.new_queue("dlq")
        dlq_arn = self.attrs(dlq, "QueueArn")["QueueArn"]
        _, fifo = self.new_fifo("fdlq")
        fifo_arn = self.attrs(fifo, "QueueArn")["QueueArn"]
        bad = [
            ({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 0}, "maxReceiveCount"),
            ({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1001}, "maxReceiveCount"),
            ({"deadLetterTargetArn": dlq_arn}, "maxReceiveCount"),
            ({"maxReceiveCount": 3}, "deadLetterTargetArn"),
            ({"deadLetterTargetArn": arn_of("no-such-queue-x"), "maxReceiveCount": 3}, "exist"),
            ({"deadLetterTargetArn": fifo_arn, "maxReceiveCount": 3}, "type"),
        ]
        for doc, word in bad:
            with self.subTest(doc=doc):
                e = self.assert_aws_error(
                    "InvalidParameterValue",
                    400,
                    self.sqs.set_queue_attributes,
                    QueueUrl=url,
                    Attributes={"RedrivePolicy": json.dumps(doc)},
                )
                self.assertIn(word, e.response["Error"]["Message"])
        self.assert_aws_error(
            "InvalidAttributeValue",
            400,
            self.sqs.set_queue_attributes,
            QueueUrl=url,
            Attributes={"RedrivePolicy": "not json"},
        )
        # Given as a string, returned normalised, as AWS does.
        self.sqs.set_queue_attributes(
            QueueUrl=url,
            Attributes={
                "RedrivePolicy": json.dumps({"maxReceiveCount": "7", "deadLetterTargetArn": dlq_arn})
            },
        )
        self.assertEqual(
            self.attrs(url, "RedrivePolicy")["RedrivePolicy"],
            '{"deadLetterTargetArn":"%s","maxReceiveCount":7}' % dlq_arn,
        )
        # An empty value removes it.
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": ""})
        self.assertNotIn("RedrivePolicy", self.attrs(url))

    def test_redrive_allow_policy(self):
        src_name, url = self.new_queue("src")
        _, dlq = self.new_queue("dlq")

        def allow(doc):
            self.sqs.set_queue_attributes(
                QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(doc)}
            )

        def refused():
            self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": ""})
            e = self.assert_aws_error(
                "InvalidParameterValue", 400, self.redrive, url=url, dlq_url=dlq, count=3
            )
            self.assertIn("RedrivePolicy", e.response["Error"]["Message"])

        allow({"redrivePermission": "denyAll"})
        refused()
        allow({"redrivePermission": "byQueue", "sourceQueueArns": [arn_of("someone-else")]})
        refused()
        allow({"redrivePermission": "byQueue", "sourceQueueArns": [arn_of(src_name)]})
        self.redrive(url, dlq, 3)
        self.assertEqual(
            json.loads(self.attrs(dlq, "RedriveAllowPolicy")["RedriveAllowPolicy"]),
            {"redrivePermission": "byQueue", "sourceQueueArns": [arn_of(src_name)]},
        )
        for doc in (
            {"redrivePermission": "sometimes"},
            {"redrivePermission": "byQueue"},
            {"redrivePermission": "byQueue", "sourceQueueArns": [arn_of("q%d" % i) for i in range(11)]},
            {"redrivePermission": "allowAll", "sourceQueueArns": [arn_of("x")]},
        ):
            with self.subTest(doc=doc):
                self.assert_aws_error("InvalidParameterValue", 400, allow, doc=doc)

    def test_list_dead_letter_source_queues(self):
        _, dlq = self.new_queue("dlq")
        urls = []
        for _ in range(3):
            _, u = self.new_queue("src")
            self.redrive(u, dlq, 5)
            urls.append(u)
        self.new_queue("unrelated")
        r = self.sqs.list_dead_letter_source_queues(QueueUrl=dlq)
        self.assertEqual(sorted(r["queueUrls"]), sorted(urls))
        page1 = self.sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2)
        self.assertEqual(len(page1["queueUrls"]), 2)
        page2 = self.sqs.list_dead_letter_source_queues(
            QueueUrl=dlq, MaxResults=2, NextToken=page1["NextToken"]
        )
        self.assertNotIn("NextToken", page2)
        self.assertEqual(sorted(page1["queueUrls"] + page2["queueUrls"]), sorted(urls))
        _, lonely = self.new_queue("lonely")
        # The query protocol carries an empty list as nothing at all.
        got = self.sqs.list_dead_letter_source_queues(QueueUrl=lonely).get("queueUrls", [])
        self.assertEqual(got, [])


class MoveTaskTests(FifoBase):
    def dead_letters(self, sources, dlq, per_source):
        """Sends per_source messages to each source and drives them to dlq."""
        arn = self.attrs(dlq, "QueueArn")["QueueArn"]
        doc = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 1})
        for u in sources:
            self.sqs.set_queue_attributes(QueueUrl=u, Attributes={"RedrivePolicy": doc})
            for i in range(per_source):
                self.send(u, "%s-%d" % (u.rsplit("/", 1)[1], i))
            while len(self.receive(u, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0)):
                pass
        self.wait_attrs(dlq, {"ApproximateNumberOfMessages": str(per_source * len(sources))})
        return arn

    def wait_task(self, arn, status, timeout=10.0):
        deadline = time.time() + timeout * SLACK
        while True:
            t = self.op("ListMessageMoveTasks", SourceArn=arn)["Results"][0]
            if t["Status"] == status or time.time() > deadline:
                self.assertEqual(t["Status"], status, t)
                return t
            time.sleep(0.1)

    def test_move_back_to_original_sources(self):
        _, a = self.new_queue("a")
        _, b = self.new_queue("b")
        _, dlq = self.new_queue("dlq")
        arn = self.dead_letters([a, b], dlq, 3)
        handle = self.op("StartMessageMoveTask", SourceArn=arn)["TaskHandle"]
        self.assertTrue(handle)
        t = self.wait_task(arn, "COMPLETED")
        self.assertEqual(t["ApproximateNumberOfMessagesMoved"], 6)
        self.assertEqual(t["ApproximateNumberOfMessagesToMove"], 6)
        self.assertNotIn("TaskHandle", t)
        for u in (a, b):
            got = self.receive(u, MaxNumberOfMessages=10, AttributeNames=["All"])
            self.assertEqual(len(got), 3)
            # A redriven message starts over: it can fail maxReceiveCount times again.
            self.assertEqual({m["Attributes"]["ApproximateReceiveCount"] for m in got}, {"1"})
        self.wait_attrs(dlq, {"ApproximateNumberOfMessages": "0"})

    def test_move_to_destination_at_a_rate(self):
        _, src = self.new_queue("src")
        _, dlq = self.new_queue("dlq")
        _, dest = self.new_queue("dest")
        arn = self.dead_letters([src], dlq, 12)
        dest_arn = self.attrs(dest, "QueueArn")["QueueArn"]
        self.op(
            "StartMessageMoveTask",
            SourceArn=arn,
            DestinationArn=dest_arn,
            MaxNumberOfMessagesPerSecond=6,
        )
        time.sleep(1.0)
        t = self.op("ListMessageMoveTasks", SourceArn=arn)["Results"][0]
        self.assertEqual(t["Status"], "RUNNING")
        self.assertEqual(t["DestinationArn"], dest_arn)
        self.assertEqual(t["MaxNumberOfMessagesPerSecond"], 6)
        self.assertTrue(1 <= t["ApproximateNumberOfMessagesMoved"] <= 10, t)
        self.wait_task(arn, "COMPLETED")
        self.wait_attrs(dest, {"ApproximateNumberOfMessages": "12"})

    def test_errors_and_cancel(self):
        _, src = self.new_queue("src")
        _, dlq = self.new_queue("dlq")
        arn = self.dead_letters([src], dlq, 5)
        src_arn = self.attrs(src, "QueueArn")["QueueArn"]
        e = self.assert_aws_error(
            "InvalidParameterValue", 400, self.op, name="StartMessageMoveTask", SourceArn=src_arn
        )
        self.assertIn("Dead Letter Queue", e.response["Error"]["Message"])
        self.assert_aws_error(
            "ResourceNotFoundException",
            400,
            self.op,
            name="StartMessageMoveTask",
            SourceArn=arn_of("no-such-queue-x"),
        )
        for rate in (0, 501):
            self.assert_aws_error(
                "InvalidParameterValue",
                400,
                self.op,
                name="StartMessageMoveTask",
                SourceArn=arn,
                MaxNumberOfMessagesPerSecond=rate,
            )
        h = self.op("StartMessageMoveTask", SourceArn=arn, MaxNumberOfMessagesPerSecond=1)[
            "TaskHandle"
        ]
        e = self.assert_aws_error(
            "InvalidParameterValue", 400, self.op, name="StartMessageMoveTask", SourceArn=arn
        )
        self.assertIn("already a task running", e.response["Error"]["Message"])
        moved = self.op("CancelMessageMoveTask", TaskHandle=h)["ApproximateNumberOfMessagesMoved"]
        self.assertLess(int(moved), 5)
        t = self.op("ListMessageMoveTasks", SourceArn=arn, MaxResults=10)["Results"]
        self.assertEqual(t[0]["Status"], "CANCELLED")
        self.assert_aws_error(
            "InvalidParameterValue", 400, self.op, name="CancelMessageMoveTask", TaskHandle=h
        )


class PermissionTests(FifoBase):
    def test_add_and_remove_permission(self):
        name, url = self.new_queue("perm")
        self.sqs.add_permission(
            QueueUrl=url, Label="one", AWSAccountIds=["111122223333"], Actions=["SendMessage"]
        )
        self.sqs.add_permission(
            QueueUrl=url,
            Label="two",
            AWSAccountIds=["111122223333", "444455556666"],
            Actions=["ReceiveMessage", "DeleteMessage"],
        )
        policy = json.loads(self.attrs(url, "Policy")["Policy"])
        arn = arn_of(name)
        self.assertEqual(
            policy,
            {
                "Version": "2012-10-17",
                "Id": arn + "/SQSDefaultPolicy",
                "Statement": [
                    {
                        "Sid": "one",
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                        "Action": "SQS:SendMessage",
                        "Resource": arn,
                    },
                    {
                        "Sid": "two",
                        "Effect": "Allow",
                        "Principal": {
                            "AWS": [
                                "arn:aws:iam::111122223333:root",
                                "arn:aws:iam::444455556666:root",
                            ]
                        },
                        "Action": ["SQS:ReceiveMessage", "SQS:DeleteMessage"],
                        "Resource": arn,
                    },
                ],
            },
        )
        bad = [
            ("InvalidParameterValue", 400, "one", ["111122223333"], ["SendMessage"]),  # exists
            ("InvalidParameterValue", 400, "three", ["111122223333"], ["CreateQueue"]),
            ("OverLimit", 403, "four", ["111122223333"], ["SendMessage"] * 8),
            ("InvalidParameterValue", 400, "five", ["not-an-account"], ["SendMessage"]),
            ("InvalidParameterValue", 400, "bad label!", ["111122223333"], ["SendMessage"]),
        ]
        for code, status, label, accounts, actions in bad:
            with self.subTest(label=label):
                e = self.assert_aws_error(
                    code,
                    status,
                    self.sqs.add_permission,
                    QueueUrl=url,
                    Label=label,
                    AWSAccountIds=accounts,
                    Actions=actions,
                )
                if label == "one":
                    self.assertIn("Already exists", e.response["Error"]["Message"])
        self.sqs.remove_permission(QueueUrl=url, Label="one")
        left = json.loads(self.attrs(url, "Policy")["Policy"])
        self.assertEqual([s["Sid"] for s in left["Statement"]], ["two"])
        self.sqs.remove_permission(QueueUrl=url, Label="two")
        self.assertNotIn("Policy", self.attrs(url))
        e = self.assert_aws_error(
            "InvalidParameterValue", 400, self.sqs.remove_permission, QueueUrl=url, Label="two"
        )
        self.assertIn("can't find label", e.response["Error"]["Message"])

    def test_policy_attribute_must_be_a_resource_policy(self):
        _, url = self.new_queue("pol")
        no_principal = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}],
        }
        for bad in ("not json", "[1, 2]", '{"Statement": "x"}', json.dumps(no_principal)):
            with self.subTest(value=bad):
                self.assert_aws_error(
                    "InvalidAttributeValue",
                    400,
                    self.sqs.set_queue_attributes,
                    QueueUrl=url,
                    Attributes={"Policy": bad},
                )

    def test_queue_deleted_recently(self):
        name, url = self.new_queue("gone")
        self.sqs.delete_queue(QueueUrl=url)
        e = self.assert_aws_error(
            "AWS.SimpleQueueService.QueueDeletedRecently",
            400,
            self.sqs.create_queue,
            QueueName=name,
        )
        self.assertIn("60 seconds", e.response["Error"]["Message"])
