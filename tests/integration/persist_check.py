"""Restart check for `nagare serve --data-dir`: queues and messages survive.

    persist_check.py before   create a queue with attributes and tags, send 3
                              messages, delete 1 (acknowledged)
    persist_check.py after    (after the server restarted on the same dir)
                              the queue, its attributes and tags are there and
                              exactly the 2 undeleted messages are received

Endpoint from NAGARE_ENDPOINT.  Prints `persistence-<phase>: N passed, M failed`
and exits non-zero on any failed check.
"""

import os
import sys

import boto3  # noqa: F401 (imported first for a clear error when missing)

from nagare_client import ENDPOINT, sqs_client  # noqa: E402
NAME = "persist-check"
BODIES = ["kept one", "deleted", "kept two ✓"]


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


def main():
    phase = sys.argv[1] if len(sys.argv) > 1 else ""
    if phase not in ("before", "after"):
        sys.exit("usage: persist_check.py before|after")
    ck = Checks(phase)
    try:
        (before if phase == "before" else after)(client(), ck)
    except Exception as e:  # any client error is a failed check, reported
        ck.eq("no error", None, repr(e))
    sys.exit(ck.done())


if __name__ == "__main__":
    main()
