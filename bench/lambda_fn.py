"""Creates the function `make bench` invokes: build/lambda-echo (runtimes/c's example, which
echoes its event) zipped as the `bootstrap` of a provided.al2023 function named
nagare-bench-echo, with an execution role Lambda may assume (no policies: it logs nowhere).

    lambda_fn.py ENDPOINT LAMBDA_ECHO_BINARY
"""
import io
import json
import sys
import zipfile

import boto3

kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="test",
          aws_secret_access_key="test")
trust = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}
role = boto3.client("iam", **kw).create_role(
    RoleName="nagare-bench", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
b = io.BytesIO()
with zipfile.ZipFile(b, "w") as z:
    info = zipfile.ZipInfo("bootstrap")
    info.external_attr = 0o755 << 16
    with open(sys.argv[2], "rb") as f:
        z.writestr(info, f.read())
boto3.client("lambda", **kw).create_function(
    FunctionName="nagare-bench-echo", Runtime="provided.al2023", Role=role, Handler="echo",
    Code={"ZipFile": b.getvalue()}, MemorySize=128, Timeout=10)
