"""The event source mapping pipeline of `make bench`: SQS -> Lambda through a no-op C worker.

    esm_bench.py setup ENDPOINT LAMBDA_NOOP_BINARY
        a role allowed sqs:ReceiveMessage/DeleteMessage/GetQueueAttributes, the queue
        nagare-esm-bench, the function nagare-esm-noop (build/lambda-noop zipped as the
        `bootstrap` of a provided.al2023 function) and a mapping between them with
        BatchSize 10, created disabled (the queue is filled before it polls)
    esm_bench.py run ENDPOINT EXPECTED
        checks the queue holds EXPECTED messages, enables the mapping and times until
        ApproximateNumberOfMessages + ApproximateNumberOfMessagesNotVisible is 0, sampling
        GET /_nagare/esm meanwhile; prints one JSON line: messages, seconds, msgs_per_s,
        and the mapping's counters and the highest concurrency it reached

run.sh fills the queue in between with `nagare bench --test batch -n N/10`.
"""
import io
import json
import sys
import time
import urllib.request
import zipfile

import boto3
from botocore.config import Config

QUEUE, FUNCTION, ROLE = "nagare-esm-bench", "nagare-esm-noop", "nagare-esm-bench"
TIMEOUT = 600  # a drain slower than 167 msgs/s is reported as not finished


def clients(endpoint):
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
              aws_secret_access_key="test", config=Config(retries={"max_attempts": 0}))
    return boto3.client("iam", **kw), boto3.client("sqs", **kw), boto3.client("lambda", **kw)


def setup(endpoint, binary):
    iam, sqs, lam = clients(endpoint)
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(RoleName=ROLE, PolicyName="sqs", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
            "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]}]}))
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        with open(binary, "rb") as f:
            z.writestr(info, f.read())
    lam.create_function(FunctionName=FUNCTION, Runtime="provided.al2023", Role=role["Arn"],
                        Handler="noop", Code={"ZipFile": b.getvalue()}, MemorySize=128,
                        Timeout=10)
    lam.create_event_source_mapping(FunctionName=FUNCTION, BatchSize=10, Enabled=False,
                                    EventSourceArn=arn["Attributes"]["QueueArn"])


def depth(sqs, url):
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])


def status(endpoint, uuid):
    try:
        with urllib.request.urlopen(endpoint + "/_nagare/esm", timeout=5) as r:
            for m in json.loads(r.read())["mappings"]:
                if m["UUID"] == uuid:
                    return m
    except (OSError, ValueError, KeyError):
        pass
    return {}


def run(endpoint, expected):
    _, sqs, lam = clients(endpoint)
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    queued = depth(sqs, url)
    if queued != expected:
        sys.exit("esm_bench: the queue holds %d messages, not %d" % (queued, expected))
    uuid = lam.list_event_source_mappings(FunctionName=FUNCTION)["EventSourceMappings"][0]["UUID"]
    t0 = time.monotonic()
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    left, most, st = queued, 0, {}
    while left and time.monotonic() - t0 < TIMEOUT:
        time.sleep(0.05)
        st = status(endpoint, uuid) or st
        most = max(most, st.get("concurrency", 0))
        left = depth(sqs, url)
    secs = time.monotonic() - t0
    st = status(endpoint, uuid) or st
    print(json.dumps({"messages": queued - left, "left": left, "seconds": secs,
                      "msgs_per_s": (queued - left) / secs, "max_concurrency": most,
                      "target": st.get("target"), "limit": st.get("limit"),
                      "invocations": st.get("invocations"),
                      "deleted": st.get("messagesDeleted"),
                      "errors": st.get("functionErrors"), "throttles": st.get("throttles")}))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("setup", "run"):
        sys.exit("usage: esm_bench.py setup ENDPOINT BINARY | run ENDPOINT EXPECTED")
    if sys.argv[1] == "setup":
        setup(sys.argv[2], sys.argv[3])
    else:
        run(sys.argv[2], int(sys.argv[3]))
