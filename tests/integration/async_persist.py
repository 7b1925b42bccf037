"""Restart check for asynchronous invocations: a pending event survives.

    async_persist.py before   a function with reserved concurrency 0 (every
                              attempt throttled, so its event stays pending)
                              and an OnSuccess queue; an Event invocation (202)
    async_persist.py after    (after the server restarted on the same dir) the
                              event invoke configuration is there; once the
                              reservation is removed the restored event runs
                              and its Success record reaches the queue

Endpoint from NAGARE_ENDPOINT.  Prints `persistence-<phase>: N passed, M failed`.
"""

import json
import sys
import time

from nagare_client import client, iam_client
from test_lambda_invoke import PY, TRUST

NAME = "async-persist"
SEND = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}


class Checks:
    def __init__(self, phase):
        self.phase, self.passed, self.failed = phase, 0, 0

    def check(self, what, ok):
        print("%s %s" % ("ok  " if ok else "FAIL", what), flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1


def before(lam, sqs, ck):
    iam = iam_client()
    role = iam.create_role(RoleName=NAME, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    iam.put_role_policy(RoleName=NAME, PolicyName="send", PolicyDocument=json.dumps(SEND))
    url = sqs.create_queue(QueueName=NAME)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    lam.create_function(FunctionName=NAME, Runtime="python3.12", Role=role["Arn"],
                        Handler="app.handler", Code={"ZipFile": PY})
    lam.put_function_concurrency(FunctionName=NAME, ReservedConcurrentExecutions=0)
    lam.put_function_event_invoke_config(
        FunctionName=NAME,
        DestinationConfig={"OnSuccess": {"Destination": arn["Attributes"]["QueueArn"]}})
    r = lam.invoke(FunctionName=NAME, InvocationType="Event", Payload=b'{"kept": true}')
    ck.check("Event invocation answered 202", r["StatusCode"] == 202)
    time.sleep(0.5)
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages")
    ck.check("throttled: no record yet", not got)


def after(lam, sqs, ck):
    c = lam.get_function_event_invoke_config(FunctionName=NAME)
    ck.check("event invoke config restored", "OnSuccess" in c["DestinationConfig"]
             and c["DestinationConfig"]["OnSuccess"].get("Destination", "").endswith(NAME))
    lam.delete_function_concurrency(FunctionName=NAME)
    url = sqs.get_queue_url(QueueName=NAME)["QueueUrl"]
    rec, end = None, time.time() + 30
    while not rec and time.time() < end:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages")
        rec = json.loads(got[0]["Body"]) if got else None
    ck.check("the restored event ran: Success record", rec is not None
             and rec["requestContext"]["condition"] == "Success"
             and rec["requestPayload"] == {"kept": True})


def run_phases(name, before_fn, after_fn):
    """The main of a restart check NAME: argv[1] picks before_fn or after_fn(lam, sqs, ck)."""
    phase = sys.argv[1] if len(sys.argv) > 1 else ""
    if phase not in ("before", "after"):
        sys.exit("usage: %s before|after" % sys.argv[0])
    ck = Checks(name + "-" + phase)
    try:
        (before_fn if phase == "before" else after_fn)(client("lambda"), client("sqs"), ck)
    except Exception as e:  # a crash is a failed check, with its reason
        ck.check("no exception (%r)" % e, False)
    print("persistence-%s: %d passed, %d failed" % (ck.phase, ck.passed, ck.failed))
    sys.exit(1 if ck.failed else 0)


if __name__ == "__main__":
    run_phases("async", before, after)
