"""The boto3 clients every integration script uses: nagare's endpoint from
NAGARE_ENDPOINT, the default root credentials, no retries (a test sees the
server's first answer)."""
import os

import boto3
from botocore.config import Config

ENDPOINT = os.environ.get("NAGARE_ENDPOINT", "http://127.0.0.1:4566")


def client(service, region="us-east-1", key="test", secret="test", token=None, **config):
    return boto3.session.Session().client(
        service,
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 0}, **config),
    )


def sqs_client(region="us-east-1", key="test", secret="test", **config):
    return client("sqs", region, key, secret, **config)


def iam_client(key="test", secret="test", **config):
    # IAM is global: clients sign its requests for us-east-1.
    return client("iam", "us-east-1", key, secret, **config)
