"""The boto3 SQS client every integration script uses: nagare's endpoint from
NAGARE_ENDPOINT, the default root credentials, no retries (a test sees the
server's first answer)."""
import os

import boto3
from botocore.config import Config

ENDPOINT = os.environ.get("NAGARE_ENDPOINT", "http://127.0.0.1:4566")


def sqs_client(region="us-east-1", key="test", secret="test", **config):
    return boto3.session.Session().client(
        "sqs",
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 0}, **config),
    )
