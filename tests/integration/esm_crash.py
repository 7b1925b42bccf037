"""Clients for crash.sh's event source mapping round: kill -9 while a mapping drains.

    esm_crash.py setup DIR N     a role, a queue and a function that appends each record it
                                 is given to DIR/processed (one write and an fsync per batch,
                                 before it answers); sends N messages (SendMessageBatch),
                                 appending each acknowledged body to DIR/sent; then creates
                                 the mapping (BatchSize 10) and returns once it is Enabled
    esm_crash.py check DIR       (after the restart) waits for the queue to drain, then
                                 requires: every acknowledged body given to the function at
                                 least once (0 lost), the queue empty and staying empty
                                 (nothing stuck or resurrected), the mapping still Enabled;
                                 duplicates (batches in flight at the kill) are reported

Endpoint from NAGARE_ENDPOINT.  check prints `esm-crash: lost L, duplicates D, ...`.
"""

import json
import os
import sys
import time

from nagare_client import client, iam_client
from test_lambda_esm import SQS_ALL, policy
from test_lambda_invoke import TRUST, zip_of

NAME = "esm-crash"
VT = 5  # in flight at the kill: visible again 5 s after it

FSYNC_FN = zip_of({"app.py": ("""
import os

def handler(event, context):
    recs = event.get("Records") or []
    fd = os.open(os.environ["OUT"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, "".join(r["body"] + "\\n" for r in recs).encode())
    os.fsync(fd)
    os.close(fd)
""", 0o644)})


def setup(d, n):
    lam, sqs, iam = client("lambda"), client("sqs"), iam_client()
    role = iam.create_role(RoleName=NAME, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    iam.put_role_policy(RoleName=NAME, PolicyName="sqs", PolicyDocument=policy(SQS_ALL))
    url = sqs.create_queue(QueueName=NAME, Attributes={"VisibilityTimeout": str(VT)})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    lam.create_function(FunctionName=NAME, Runtime="python3.12", Role=role["Arn"],
                        Handler="app.handler", Code={"ZipFile": FSYNC_FN}, Timeout=3,
                        Environment={"Variables": {"OUT": os.path.join(d, "processed")}})
    with open(os.path.join(d, "sent"), "a") as sent:
        for i in range(0, n, 10):
            bodies = ["esm-%d" % j for j in range(i, min(i + 10, n))]
            r = sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(k), "MessageBody": b} for k, b in enumerate(bodies)])
            sent.write("".join(bodies[int(e["Id"])] + "\n" for e in r["Successful"]))
    m = lam.create_event_source_mapping(FunctionName=NAME, BatchSize=10,
                                        EventSourceArn=arn["Attributes"]["QueueArn"])
    with open(os.path.join(d, "uuid"), "w") as f:
        f.write(m["UUID"])
    end = time.time() + 10
    while lam.get_event_source_mapping(UUID=m["UUID"])["State"] != "Enabled":
        if time.time() > end:
            sys.exit("esm-crash: the mapping never became Enabled")
        time.sleep(0.05)


def lines(path):
    try:
        with open(path) as f:
            return [x.rstrip("\n") for x in f if x.endswith("\n")]
    except OSError:
        return []


def depth(sqs, url):
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])


def check(d):
    lam, sqs = client("lambda"), client("sqs")
    url = sqs.get_queue_url(QueueName=NAME)["QueueUrl"]
    sent = set(lines(os.path.join(d, "sent")))
    end = time.time() + 60 * float(os.environ.get("NAGARE_TIME_SLACK", "1"))
    while time.time() < end and (depth(sqs, url) or not sent <= set(lines(
            os.path.join(d, "processed")))):
        time.sleep(0.2)
    time.sleep(VT + 1)  # a message still in flight somewhere would be visible again by now
    left = depth(sqs, url)
    seen = lines(os.path.join(d, "processed"))
    lost = sent - set(seen)
    dups = len(seen) - len(set(seen))
    with open(os.path.join(d, "uuid")) as f:
        st = lam.get_event_source_mapping(UUID=f.read().strip())["State"]
    print("esm-crash: sent %d, processed %d, lost %d, duplicates %d, left in queue %d, "
          "mapping %s" % (len(sent), len(set(seen)), len(lost), dups, left, st))
    if lost:
        print("esm-crash: lost e.g. %s" % sorted(lost)[:5])
    return 0 if sent and not lost and left == 0 and st == "Enabled" else 1


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("setup", "check"):
        sys.exit("usage: esm_crash.py setup DIR N | check DIR")
    d = sys.argv[2]
    if sys.argv[1] == "setup":
        setup(d, int(sys.argv[3]))
    else:
        sys.exit(check(d))


if __name__ == "__main__":
    main()
