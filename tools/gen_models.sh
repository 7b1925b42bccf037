#!/bin/sh
# Regenerates the committed model tables from the botocore models on this machine:
# the image's current botocore (JSON protocol) and Debian's python3-botocore (query hints).
set -e
NEW=$(python3 -c "import botocore,os;print(os.path.dirname(botocore.__file__))")/data
OLD=$(/usr/bin/python3 -c "import botocore,os;print(os.path.dirname(botocore.__file__))")/data
first() { ls "$1"/service-2.json* | head -n 1; }
tools/gen_model.py sqs "$(first "$NEW"/sqs/2012-11-05)" "$(first "$OLD"/sqs/2012-11-05)" > src/aws/model_sqs.c
# STS likewise (query protocol in both).
tools/gen_model.py sts "$(first "$NEW"/sts/2011-06-15)" "$(first "$OLD"/sts/2011-06-15)" > src/aws/model_sts.c
# IAM is query protocol in both; the older model only adds hints the newer one lacks.
tools/gen_model.py iam "$(first "$NEW"/iam/2010-05-08)" "$(first "$OLD"/iam/2010-05-08)" > src/aws/model_iam.c
# Lambda is REST-JSON; the current model alone (routes, locations, payloads).
tools/gen_model.py lambda "$(first "$NEW"/lambda/2015-03-31)" > src/aws/model_lambda.c
# CloudWatch Logs: AWS JSON 1.1 only; the current model is the reference.
tools/gen_model.py logs "$(first "$NEW"/logs/2014-03-28)" > src/aws/model_logs.c
clang-format -i src/aws/model_*.c
