"""Clients for crash.sh: load that records only acknowledged work, then a check.

    crash_client.py setup QUEUE                 create QUEUE (FIFO when it ends in .fifo),
                                                print its URL
    crash_client.py worker URL ID LOG TAG       send and delete until the server dies
    crash_client.py check URL TAG LOG...        drain the queue after the restart and
                                                compare with the workers' logs

A worker sends unique bodies `<TAG>-w<ID>-<n>` (single SendMessage and
SendMessageBatch in turn), receives, deletes about half of what it receives
(DeleteMessage and DeleteMessageBatch in turn) and leaves the rest in flight,
so messages in flight at the kill must come back after the restart.  It
appends "S <body>" to its log only after a send was acknowledged (HTTP 200,
the entry in Successful), "T <body>" before it tries a delete, and "D <body>"
only after a delete was acknowledged, fsyncing each line.  It stops at the
first transport error: the server was killed.

On a FIFO queue (URL ending in .fifo) each worker sends as its own message
group ("w<ID>") with the body as MessageDeduplicationId, and check also
requires (a) each group's messages to come out in send order and (b)
deduplication to hold across the restart: before draining it sends every
acknowledged body again with the same deduplication id, and no body may then
be drained twice or come back after an acknowledged delete.

Receives use a 5 s visibility timeout, the worker deletes within milliseconds,
and a message it keeps is never deleted later, so the receipt handle it
deletes with is always the latest one (AWS: a delete with an older handle may
succeed without deleting).

check drains with a long visibility timeout until the queue stays empty (and
at least 6 s after the restart, so messages in flight at the kill are visible
again), then reports
  lost        = acknowledged sent - deletes tried - drained          (must be 0;
                a delete committed just before the kill may go unanswered)
  resurrected = acknowledged deleted & drained                       (must be 0)
  corrupt     = drained bodies not ours or whose MD5 does not match  (must be 0)
Uses the image's boto3 (AWS JSON 1.0); endpoint from NAGARE_ENDPOINT.
"""

import hashlib
import os
import re
import sys
import time

import boto3  # noqa: F401 (imported first for a clear error when missing)
from botocore.exceptions import BotoCoreError, ClientError

from nagare_client import ENDPOINT, sqs_client  # noqa: E402
WORKER_VT = 5
MAX_SECONDS = 30  # a worker never outlives this, even if the kill never comes


def client(read_timeout=10):
    return sqs_client(connect_timeout=2, read_timeout=read_timeout)


class AckLog:
    """Append-only log of acknowledged operations, fsynced per line."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def add(self, kind, bodies):
        if not bodies:
            return
        os.write(self.fd, "".join("%s %s\n" % (kind, b) for b in bodies).encode())
        os.fsync(self.fd)


def keep(body):
    """Deterministic choice of which received messages get deleted (about half)."""
    return hashlib.md5(body.encode()).digest()[0] & 1 == 0


def fifo_fields(url, body):
    """MessageGroupId (the worker) and MessageDeduplicationId on a FIFO queue."""
    if not url.endswith(".fifo"):
        return {}
    return {"MessageGroupId": body.rsplit("-", 1)[0], "MessageDeduplicationId": body}


def send_some(sqs, url, log, prefix, n, batch):
    if not batch:
        body = "%s-%d" % (prefix, n)
        sqs.send_message(QueueUrl=url, MessageBody=body, **fifo_fields(url, body))
        log.add("S", [body])
        return n + 1
    entries = [{"Id": str(i), "MessageBody": "%s-%d" % (prefix, n + i)} for i in range(5)]
    for e in entries:
        e.update(fifo_fields(url, e["MessageBody"]))
    r = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    ok = {e["Id"] for e in r.get("Successful", [])}
    log.add("S", [e["MessageBody"] for e in entries if e["Id"] in ok])
    return n + 5


def delete_some(sqs, url, log, batch):
    msgs = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=WORKER_VT
    ).get("Messages", [])
    doomed = [m for m in msgs if not keep(m["Body"])]
    # A delete the server committed but could not answer before the kill
    # legitimately removes the message: record the attempt first.
    log.add("T", [m["Body"] for m in doomed])
    if doomed and batch:
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(doomed)]
        r = sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        ok = {e["Id"] for e in r.get("Successful", [])}
        log.add("D", [m["Body"] for i, m in enumerate(doomed) if str(i) in ok])
    else:
        for m in doomed:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            log.add("D", [m["Body"]])


def worker(url, wid, path, tag):
    sqs, log = client(), AckLog(path)
    prefix, n, turn = "%s-w%s" % (tag, wid), 0, 0
    deadline = time.time() + MAX_SECONDS
    try:
        while time.time() < deadline:
            n = send_some(sqs, url, log, prefix, n, turn % 2 == 1)
            if turn % 2 == 0:
                delete_some(sqs, url, log, turn % 4 == 0)
            turn += 1
    except (BotoCoreError, ClientError, OSError) as e:
        # Expected when the server is killed; anything else ends up in the log.
        os.write(log.fd, ("# stopped: %s\n" % type(e).__name__).encode())
        os.fsync(log.fd)


def read_logs(paths):
    """Returns (acknowledged sends, attempted deletes, acknowledged deletes)."""
    logs = {"S": set(), "T": set(), "D": set()}
    for p in paths:
        with open(p, encoding="utf-8") as f:
            for line in f:
                kind, _, body = line.rstrip("\n").partition(" ")
                if kind in logs:
                    logs[kind].add(body)
    return logs["S"], logs["T"], logs["D"]


def drain(url, restarted_at):
    """Every message, once each: body -> MD5OfBody, and the bodies in the order
    they came (a FIFO queue's are deleted as they come, or its groups would
    stay blocked behind them)."""
    sqs = client(read_timeout=30)
    got, order, empty = {}, [], 0
    while empty < 2 or time.time() < restarted_at + 6:
        msgs = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600, WaitTimeSeconds=1
        ).get("Messages", [])
        empty = 0 if msgs else empty + 1
        for m in msgs:
            order.append(m["Body"])
            got.setdefault(m["Body"], m["MD5OfBody"])
            if url.endswith(".fifo"):
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got, order


def resend(url, bodies):
    """Sends acknowledged bodies again with their deduplication ids (FIFO)."""
    sqs = client()
    for b in sorted(bodies):
        sqs.send_message(QueueUrl=url, MessageBody=b, **fifo_fields(url, b))


def out_of_order(order):
    """Bodies drained after a later one of their own group."""
    last, bad = {}, []
    for b in order:
        group, _, n = b.rpartition("-")
        if int(n) < last.get(group, -1):
            bad.append(b)
        last[group] = max(int(n), last.get(group, -1))
    return bad


def check(url, tag, paths):
    restarted_at = time.time()
    sent, tried, deleted = read_logs(paths)
    fifo = url.endswith(".fifo")
    try:
        if fifo:
            resend(url, sent)
        got, order = drain(url, restarted_at)
    except (BotoCoreError, ClientError) as e:
        print("  draining after the restart failed: %s" % e)
        print("  acknowledged: %d sent, %d deleted; lost %d" % (len(sent), len(deleted), len(sent - tried)))
        return 1
    pat = re.compile(r"^%s-w\d+-\d+$" % re.escape(tag))
    corrupt = [b for b, md5 in got.items() if not pat.match(b) or hashlib.md5(b.encode()).hexdigest() != md5]
    lost = sorted(sent - tried - deleted - set(got))
    resurrected = sorted(deleted & set(got))
    twice = sorted({b for b in order if order.count(b) > 1}) if fifo else []
    unordered = out_of_order(order) if fifo else []
    print(
        "  %s: acknowledged %d sent, %d deleted; after restart: %d drained; "
        "lost %d, resurrected %d, corrupt %d%s"
        % (
            "fifo" if fifo else "standard",
            len(sent),
            len(deleted),
            len(got),
            len(lost),
            len(resurrected),
            len(corrupt),
            ", duplicated %d, out of order %d" % (len(twice), len(unordered)) if fifo else "",
        )
    )
    problems = (
        ("lost", lost),
        ("resurrected", resurrected),
        ("corrupt", corrupt),
        ("duplicated", twice),
        ("out of order", unordered),
    )
    for name, items in problems:
        if items:
            print("  %s (first 10): %s" % (name, items[:10]))
    if not sent:
        print("  no send was acknowledged before the kill: the round proves nothing")
    return 0 if sent and not any(items for _, items in problems) else 1


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "setup" and len(sys.argv) == 3:
        name = sys.argv[2]
        attrs = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
        print(client().create_queue(QueueName=name, Attributes=attrs)["QueueUrl"])
    elif mode == "worker" and len(sys.argv) == 6:
        worker(*sys.argv[2:6])
    elif mode == "check" and len(sys.argv) >= 5:
        sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
