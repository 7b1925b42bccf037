"""Restart check for SQS event source mappings: mappings survive and keep polling.

    esm_persist.py before   a function (test_lambda_esm's ESM_FN, logging what it is
                            given to a file) with two mappings: esm-persist (Enabled,
                            BatchSize 4, processes a message before the restart) and
                            esm-persist-off (Enabled false, two messages waiting)
    esm_persist.py after    (after the server restarted on the same dir) both mappings
                            are there with their UUIDs, settings and states; messages
                            sent now to esm-persist are processed, each once; the
                            disabled one still has its messages and processes them
                            once it is enabled

The function's log lives next to PERSIST_STATE (run.sh's work dir).  Endpoint
from NAGARE_ENDPOINT.  Prints `persistence-<phase>: N passed, M failed`.
"""

import json
import os
import tempfile
import time

from async_persist import run_phases
from nagare_client import iam_client
from test_lambda_esm import ESM_FN, SQS_ALL, policy
from test_lambda_invoke import TRUST

NAME = "esm-persist"
HERE = os.path.dirname(os.environ.get("PERSIST_STATE") or os.path.join(tempfile.gettempdir(), "x"))
LOG = os.path.join(HERE, "esm-persist.jsonl")
IDS = os.path.join(HERE, "esm-persist.uuids")


def seen():
    try:
        with open(LOG) as f:
            return [r["body"] for x in f if x.strip() for r in json.loads(x)["records"]]
    except OSError:
        return []


def wait_for(pred, seconds):
    end = time.time() + seconds
    while not pred() and time.time() < end:
        time.sleep(0.1)
    return pred()


def state(lam, uuid):
    return lam.get_event_source_mapping(UUID=uuid)["State"]


def before(lam, sqs, ck):
    iam = iam_client()
    role = iam.create_role(RoleName=NAME, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    iam.put_role_policy(RoleName=NAME, PolicyName="sqs", PolicyDocument=policy(SQS_ALL))
    arns = []
    for q in (NAME, NAME + "-off"):
        url = sqs.create_queue(QueueName=q)["QueueUrl"]
        arns.append(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
                    ["Attributes"]["QueueArn"])
    lam.create_function(FunctionName=NAME, Runtime="python3.12", Role=role["Arn"],
                        Handler="app.handler", Code={"ZipFile": ESM_FN},
                        Environment={"Variables": {"OUT": LOG}})
    on = lam.create_event_source_mapping(FunctionName=NAME, EventSourceArn=arns[0], BatchSize=4)
    off = lam.create_event_source_mapping(FunctionName=NAME, EventSourceArn=arns[1],
                                          Enabled=False)
    with open(IDS, "w") as f:
        json.dump([on["UUID"], off["UUID"]], f)
    ck.check("mapping Enabled", wait_for(lambda: state(lam, on["UUID"]) == "Enabled", 5))
    ck.check("mapping Disabled", wait_for(lambda: state(lam, off["UUID"]) == "Disabled", 5))
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=NAME)["QueueUrl"], MessageBody="b-0")
    off_url = sqs.get_queue_url(QueueName=NAME + "-off")["QueueUrl"]
    for i in range(2):
        sqs.send_message(QueueUrl=off_url, MessageBody="off-%d" % i)
    ck.check("processed before the restart", wait_for(lambda: seen() == ["b-0"], 10))


def after(lam, sqs, ck):
    with open(IDS) as f:
        on, off = json.load(f)
    m = lam.get_event_source_mapping(UUID=on)
    ck.check("mapping restored (BatchSize 4, the function)", m["BatchSize"] == 4
             and m["FunctionArn"].endswith(":function:" + NAME)
             and m["EventSourceArn"].endswith(":" + NAME))
    ck.check("restored mapping is Enabled", wait_for(lambda: state(lam, on) == "Enabled", 5))
    listed = lam.list_event_source_mappings(FunctionName=NAME)["EventSourceMappings"]
    ck.check("both mappings listed", sorted(x["UUID"] for x in listed) == sorted([on, off]))
    ck.check("disabled mapping still Disabled", state(lam, off) == "Disabled")
    url = sqs.get_queue_url(QueueName=NAME)["QueueUrl"]
    for i in range(6):
        sqs.send_message(QueueUrl=url, MessageBody="a-%d" % i)
    want = ["a-%d" % i for i in range(6)]
    ck.check("messages sent after the restart processed",
             wait_for(lambda: sorted(seen()[1:]) == want, 15))
    time.sleep(0.5)
    ck.check("each once, nothing replayed", sorted(seen()) == ["a-%d" % i for i in range(6)]
             + ["b-0"])
    off_url = sqs.get_queue_url(QueueName=NAME + "-off")["QueueUrl"]
    a = sqs.get_queue_attributes(QueueUrl=off_url, AttributeNames=["ApproximateNumberOfMessages"])
    ck.check("disabled mapping's messages untouched",
             a["Attributes"]["ApproximateNumberOfMessages"] == "2")
    lam.update_event_source_mapping(UUID=off, Enabled=True)
    ck.check("enabled after the restart: its messages processed",
             wait_for(lambda: sorted(x for x in seen() if x.startswith("off")) == [
                 "off-0", "off-1"], 15))


if __name__ == "__main__":
    run_phases("esm", before, after)
