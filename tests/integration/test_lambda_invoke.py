"""Lambda functions run by nagare, invoked through real boto3 clients.

Every runtime (python, nodejs, provided with AWS's bash+curl tutorial
bootstrap, provided with the C runtime library's echo example), errors,
timeouts, LogType Tail, reserved concurrency, and the seed's pattern ①: a
function whose execution role lacks sqs:SendMessage fails with AWS's
AccessDenied, and succeeds once the role has it.

Runs under `python3` (boto3 1.43) and Debian's `/usr/bin/python3` (boto3
1.26): Lambda is REST-JSON on both.  The functions themselves use the
machine's `python3` and `node`.  Environment: NAGARE_ENDPOINT, and
NAGARE_BUILD (default ../../build) for the C example.
"""

import base64
import io
import json
import os
import sys
import threading
import unittest
import uuid
import zipfile

import boto3
from botocore.exceptions import ClientError

from nagare_client import client, iam_client

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("NAGARE_BUILD", os.path.join(HERE, "..", "..", "build"))
RUN = uuid.uuid4().hex[:8]
TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}
_seq = [0]


def uniq(prefix):
    _seq[0] += 1
    return "%s-%s-%d" % (prefix, RUN, _seq[0])


def zip_of(files):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        for name, (text, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            z.writestr(info, text)
    return b.getvalue()


PY = zip_of({"app.py": ("""
import json, os, time
import boto3

def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("queue"):
        r = boto3.client("sqs").send_message(QueueUrl=event["queue"], MessageBody="from lambda")
        return {"sent": r["MessageId"]}
    print("hello from python")
    return {"echo": event, "fn": context.function_name, "arn": context.invoked_function_arn,
            "left": context.get_remaining_time_in_millis() > 0,
            "region": os.environ["AWS_REGION"], "key": os.environ["AWS_ACCESS_KEY_ID"][:4],
            "custom": context.client_context.custom if context.client_context else None,
            "app": context.client_context.client.app_title if context.client_context else None}
""", 0o644)})

NODE = zip_of({"index.js": ("""
exports.handler = async (event, context) => {
  if (event.fail) throw new TypeError("node failed");
  console.log("hello from node");
  const out = { echo: event, left: context.getRemainingTimeInMillis() > 0 };
  if (context.clientContext) out.custom = context.clientContext.custom;
  return out;
};
""", 0o644)})

# AWS's custom-runtime tutorial (docs: runtimes-walkthrough), bootstrap and function.sh.
TUTORIAL = zip_of({
    "bootstrap": ("""#!/bin/sh

set -euo pipefail

# Initialization - load function handler
source $LAMBDA_TASK_ROOT/"$(echo $_HANDLER | cut -d. -f1).sh"

# Processing
while true
do
  HEADERS="$(mktemp)"
  # Get an event. The HTTP request will block until one is received
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")

  # Extract request ID by scraping response headers received above
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)

  # Run the handler function from the script
  RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA")

  # Send the response
  curl "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response"  -d "$RESPONSE"
done
""", 0o755),
    "function.sh": ("""function handler () {
  EVENT_DATA=$1
  echo "$EVENT_DATA" 1>&2;
  RESPONSE="Echoing request: '$EVENT_DATA'"

  echo $RESPONSE
}
""", 0o644),
})


class InvokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lam = client("lambda", read_timeout=120)
        cls.iam = iam_client()
        cls.sqs = client("sqs")
        cls.role_name = uniq("exec")
        cls.role = cls.iam.create_role(RoleName=cls.role_name,
                                       AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]

    def function(self, code, runtime="python3.12", handler="app.handler", **kw):
        name = uniq("fn")
        self.lam.create_function(FunctionName=name, Runtime=runtime, Role=self.role,
                                 Handler=handler, Code={"ZipFile": code}, **kw)
        self.addCleanup(self.lam.delete_function, FunctionName=name)
        return name

    def invoke(self, name, payload, **kw):
        r = self.lam.invoke(FunctionName=name, Payload=json.dumps(payload), **kw)
        return r, json.loads(r["Payload"].read() or b"null")

    def test_python(self):
        name = self.function(PY)
        r, out = self.invoke(name, {"a": 1}, LogType="Tail")
        self.assertEqual(r["StatusCode"], 200)
        self.assertNotIn("FunctionError", r)
        self.assertEqual(r["ExecutedVersion"], "$LATEST")
        self.assertEqual(out["echo"], {"a": 1})
        self.assertEqual(out["fn"], name)
        self.assertTrue(out["arn"].endswith(":function:" + name))
        self.assertEqual((out["left"], out["region"], out["key"]), (True, "us-east-1", "ASIA"))
        log = base64.b64decode(r["LogResult"]).decode()
        self.assertIn("hello from python", log)
        self.assertIn("REPORT RequestId:", log)
        self.assertEqual((out["custom"], out["app"]), (None, None))

    def test_client_context_reaches_the_handler(self):
        cc = {"client": {"app_title": "shop"}, "custom": {"tenant": "t-1"}, "env": {}}
        b64 = base64.b64encode(json.dumps(cc).encode()).decode()
        r, out = self.invoke(self.function(PY), {}, ClientContext=b64)
        self.assertEqual((out["custom"], out["app"]), ({"tenant": "t-1"}, "shop"))
        name = self.function(NODE, runtime="nodejs20.x", handler="index.handler")
        r, out = self.invoke(name, {}, ClientContext=b64)
        self.assertEqual(out["custom"], {"tenant": "t-1"})
        for bad, code in (("not base64!", "InvalidRequestContentException"),
                          (base64.b64encode(b"[1]").decode(), "InvalidRequestContentException"),
                          ("A" * 3584, "InvalidParameterValueException")):
            with self.assertRaises(self.lam.exceptions.ClientError) as e:
                self.invoke(name, {}, ClientContext=bad)
            self.assertEqual(e.exception.response["Error"]["Code"], code)

    def test_python_error_and_timeout(self):
        name = self.function(PY, Timeout=1)
        r, out = self.invoke(name, {"fail": True})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual((out["errorType"], out["errorMessage"]), ("ValueError", "asked to fail"))
        self.assertIsInstance(out["stackTrace"], list)
        r, out = self.invoke(name, {"sleep": 3})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertIn("Task timed out after 1.00 seconds", out["errorMessage"])
        # The next invocation gets a fresh instance and works.
        r, out = self.invoke(name, {"b": 2})
        self.assertEqual(out["echo"], {"b": 2})

    def test_nodejs(self):
        name = self.function(NODE, runtime="nodejs20.x", handler="index.handler")
        r, out = self.invoke(name, {"n": 1})
        self.assertEqual(out, {"echo": {"n": 1}, "left": True})
        r, out = self.invoke(name, {"fail": True})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual((out["errorType"], out["errorMessage"]), ("TypeError", "node failed"))

    def test_tutorial_bootstrap_runs_unchanged(self):
        name = self.function(TUTORIAL, runtime="provided.al2023", handler="function.handler")
        r = self.lam.invoke(FunctionName=name, Payload=b'{"text":"Hello"}')
        self.assertEqual(r["Payload"].read(), b"Echoing request: '{\"text\":\"Hello\"}'")

    def test_c_runtime_example(self):
        with open(os.path.join(BUILD, "lambda-echo"), "rb") as f:
            echo = f.read()
        name = self.function(zip_of({"bootstrap": (echo, 0o755)}), runtime="provided.al2023",
                             handler="unused")
        r, out = self.invoke(name, {"c": [1, 2]})
        self.assertEqual(out, {"c": [1, 2]})

    def test_execution_role_decides_what_the_function_may_do(self):
        q = self.sqs.create_queue(QueueName=uniq("out"))["QueueUrl"]
        self.addCleanup(self.sqs.delete_queue, QueueUrl=q)
        name = self.function(PY)
        r, out = self.invoke(name, {"queue": q})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertIn("AccessDenied", out["errorMessage"])
        self.assertIn("assumed-role/%s/%s is not authorized to perform: sqs:SendMessage"
                      % (self.role_name, name), out["errorMessage"])
        policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}
        self.iam.put_role_policy(RoleName=self.role_name, PolicyName="send",
                                 PolicyDocument=json.dumps(policy))
        self.addCleanup(self.iam.delete_role_policy, RoleName=self.role_name, PolicyName="send")
        r, out = self.invoke(name, {"queue": q})
        self.assertNotIn("FunctionError", r)
        got = self.sqs.receive_message(QueueUrl=q, WaitTimeSeconds=1)["Messages"]
        self.assertEqual(got[0]["MessageId"], out["sent"])

    def test_logs_need_the_basic_execution_role(self):
        logs = client("logs")
        plain = self.function(PY)
        self.invoke(plain, {"quiet": True})
        with self.assertRaises(ClientError) as cm:
            logs.filter_log_events(logGroupName="/aws/lambda/" + plain)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        role = uniq("logged")
        arn = self.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST))[
            "Role"]["Arn"]
        basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        self.iam.attach_role_policy(RoleName=role, PolicyArn=basic)
        self.addCleanup(self.iam.detach_role_policy, RoleName=role, PolicyArn=basic)
        name = uniq("fn")
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Role=arn,
                                 Handler="app.handler", Code={"ZipFile": PY})
        self.addCleanup(self.lam.delete_function, FunctionName=name)
        self.invoke(name, {"x": 1})
        events = logs.filter_log_events(logGroupName="/aws/lambda/" + name)["events"]
        lines = [e["message"] for e in events]
        self.assertTrue(lines[0].startswith("START RequestId: "), lines)
        self.assertIn("hello from python", "".join(lines))
        self.assertTrue(any(m.startswith("REPORT RequestId: ") for m in lines), lines)
        streams = logs.describe_log_streams(logGroupName="/aws/lambda/" + name)["logStreams"]
        self.assertRegex(streams[0]["logStreamName"], r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")

    def test_reserved_concurrency_throttles(self):
        name = self.function(PY)
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
        with self.assertRaises(ClientError) as cm:
            self.invoke(name, {})
        self.assertEqual(cm.exception.response["Error"]["Code"], "TooManyRequestsException")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 429)
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
        results, errors = [], []

        def call():
            try:
                results.append(self.invoke(name, {"sleep": 1})[0]["StatusCode"])
            except ClientError as e:
                errors.append(e.response["Error"]["Code"])

        threads = [threading.Thread(target=call) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertIn(200, results)
        self.assertIn("TooManyRequestsException", errors)


class HotReloadTest(unittest.TestCase):
    """Code: {S3Bucket: "hot-reload", S3Key: DIR} runs DIR as it is; edits show at the next
    cold start (forced here by a configuration change, as AWS starts new instances then)."""

    @classmethod
    def setUpClass(cls):
        cls.lam = client("lambda", read_timeout=120)
        cls.iam = iam_client()
        cls.role = cls.iam.create_role(RoleName=uniq("hot"),
                                       AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]

    def setUp(self):
        import tempfile
        self.dir = tempfile.mkdtemp(prefix="nagare-hot-")
        self.addCleanup(__import__("shutil").rmtree, self.dir, True)

    def write(self, name, text, mode=0o644):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)

    def hot_function(self, runtime="python3.12", handler="app.handler"):
        name = uniq("hot")
        r = self.lam.create_function(FunctionName=name, Runtime=runtime, Role=self.role,
                                     Handler=handler,
                                     Code={"S3Bucket": "hot-reload", "S3Key": self.dir})
        self.addCleanup(self.lam.delete_function, FunctionName=name)
        return name, r

    def call(self, name):
        r = self.lam.invoke(FunctionName=name, Payload=b"{}")
        return json.loads(r["Payload"].read())

    def test_python_edit_shows_at_next_cold_start(self):
        self.write("app.py", "def handler(e, c):\n    return 'one'\n")
        name, r = self.hot_function()
        self.assertEqual(r["CodeSize"], 0)
        self.assertEqual(len(base64.b64decode(r["CodeSha256"])), 32)
        got = self.lam.get_function(FunctionName=name)
        self.assertEqual(got["Code"]["RepositoryType"], "S3")
        self.assertEqual(got["Code"]["Location"], "file://" + self.dir)
        self.assertEqual(got["Configuration"]["PackageType"], "Zip")
        self.assertEqual(self.call(name), "one")
        # an edit in place (same directory entries): not seen by the warm instance ...
        self.write("app.py", "def handler(e, c):\n    return 'two'\n")
        # ... but by the next cold start, which a configuration change forces
        self.lam.update_function_configuration(FunctionName=name, Description="edited")
        self.assertEqual(self.call(name), "two")

    def test_new_file_retires_warm_instances(self):
        self.write("app.py", "import os\ndef handler(e, c):\n"
                   "    return sorted(f for f in os.listdir('.') if f.endswith('.txt'))\n")
        name, _ = self.hot_function()
        self.assertEqual(self.call(name), [])
        self.write("a.txt", "x")  # the directory changed: the next invoke starts afresh
        self.assertEqual(self.call(name), ["a.txt"])

    def test_provided_bootstrap_in_place(self):
        with open(os.path.join(BUILD, "lambda-echo"), "rb") as f:
            echo = f.read()
        path = os.path.join(self.dir, "bootstrap")
        with open(path, "wb") as f:
            f.write(echo)
        os.chmod(path, 0o755)
        name, _ = self.hot_function(runtime="provided.al2023", handler="unused")
        r = self.lam.invoke(FunctionName=name, Payload=b'{"hot":1}')
        self.assertEqual(json.loads(r["Payload"].read()), {"hot": 1})

    def test_update_function_code_between_zip_and_directory(self):
        self.write("app.py", "def handler(e, c):\n    return 'dir'\n")
        name = uniq("hot")
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Role=self.role,
                                 Handler="app.handler", Code={"ZipFile": zip_of({"app.py": (
                                     "def handler(e, c):\n    return 'zip'\n", 0o644)})})
        self.addCleanup(self.lam.delete_function, FunctionName=name)
        self.assertEqual(self.call(name), "zip")
        self.lam.update_function_code(FunctionName=name, S3Bucket="hot-reload", S3Key=self.dir)
        self.assertEqual(self.call(name), "dir")
        self.assertEqual(self.lam.get_function(FunctionName=name)["Code"]["Location"],
                         "file://" + self.dir)
        self.lam.update_function_code(FunctionName=name, ZipFile=zip_of({"app.py": (
            "def handler(e, c):\n    return 'zip2'\n", 0o644)}))
        self.assertEqual(self.call(name), "zip2")
        self.assertNotIn("Location", self.lam.get_function(FunctionName=name)["Code"])

    def test_bad_sources_are_refused(self):
        for code in ({"S3Bucket": "hot-reload", "S3Key": "relative/dir"},
                     {"S3Bucket": "hot-reload", "S3Key": self.dir + "/missing"},
                     {"S3Bucket": "some-bucket", "S3Key": "code.zip"}):
            with self.assertRaises(ClientError) as cm:
                self.lam.create_function(FunctionName=uniq("bad"), Runtime="python3.12",
                                         Role=self.role, Handler="app.handler", Code=code)
            self.assertEqual(cm.exception.response["Error"]["Code"],
                             "InvalidParameterValueException", code)


def main():
    print("test_lambda_invoke: python %s, boto3 %s" % (sys.version.split()[0], boto3.__version__),
          flush=True)
    prog = unittest.main(module=__name__, verbosity=2, exit=False)
    r = prog.result
    failed = {getattr(c, "test_case", c).id() for c, _ in r.failures + r.errors}
    passed = r.testsRun - len(failed) - len(r.skipped)
    print("test_lambda_invoke[boto%s]: %d passed, %d failed, %d skipped"
          % (boto3.__version__, passed, len(failed), len(r.skipped)))
    sys.exit(1 if failed or r.testsRun == 0 else 0)


if __name__ == "__main__":
    main()
