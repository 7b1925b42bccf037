#!/usr/bin/env bash
# SQS through the AWS CLI v2 (Debian's /usr/bin/aws, query protocol) against nagare.
#
# Usage: cli_test.sh ENDPOINT      e.g. cli_test.sh http://127.0.0.1:4566
#
# Each check is one CLI call (or a short sequence) whose output is compared with
# what AWS documents.  Uses /usr/bin/aws explicitly: the `aws` on PATH may be a
# different (pip) CLI.  Prints a line per check and ends with
# `cli: N passed, M failed`; exits non-zero when any check failed.

set -u
ENDPOINT=${1:?usage: cli_test.sh ENDPOINT}
AWS=${AWS_CLI:-/usr/bin/aws}

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_PAGER="" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SQS

RUN=$(date +%s)-$$
Q=cli-$RUN
passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sqs() { "$AWS" --endpoint-url "$ENDPOINT" --output json sqs "$@"; }

# shellcheck source=tests/integration/checks.sh
. "$(dirname "$0")/checks.sh"

# 1. create-queue, idempotent, with attributes
sqs create-queue --queue-name "$Q" --attributes VisibilityTimeout=40 >"$tmp/create.json" 2>"$tmp/err"
URL=$(jget "$tmp/create.json" .QueueUrl)
check "create-queue returns the queue URL" "$ENDPOINT/000000000000/$Q" "$URL"
sqs create-queue --queue-name "$Q" --attributes VisibilityTimeout=40 >"$tmp/again.json" 2>&1
check "create-queue again with the same attributes is idempotent" "$URL" "$(jget "$tmp/again.json" .QueueUrl)"

sqs get-queue-url --queue-name "$Q" >"$tmp/url.json" 2>&1
check "get-queue-url" "$URL" "$(jget "$tmp/url.json" .QueueUrl)"

# 2. send-message with attributes; MD5s are AWS's documented digests
BODY="hello from the cli $RUN"
cat >"$tmp/attrs.json" <<'EOF'
{"colour": {"DataType": "String", "StringValue": "blue"},
 "count": {"DataType": "Number", "StringValue": "42"},
 "blob": {"DataType": "Binary", "BinaryValue": "AAEC/w=="}}
EOF
sqs send-message --queue-url "$URL" --message-body "$BODY" \
    --message-attributes "file://$tmp/attrs.json" >"$tmp/send.json" 2>&1
MID=$(jget "$tmp/send.json" .MessageId)
check "send-message MD5OfMessageBody" "$(printf '%s' "$BODY" | md5sum | cut -d' ' -f1)" \
    "$(jget "$tmp/send.json" .MD5OfMessageBody)"
# MD5OfMessageAttributes computed independently (sorted names, length-prefixed fields).
EXPECT_ATTR_MD5=$(python3 - "$tmp/attrs.json" <<'EOF'
import base64, hashlib, json, struct, sys
attrs = json.load(open(sys.argv[1]))
h = hashlib.md5()
def put(b):
    h.update(struct.pack(">I", len(b))); h.update(b)
for n in sorted(attrs):
    a = attrs[n]
    put(n.encode()); put(a["DataType"].encode())
    if "StringValue" in a:
        h.update(b"\x01"); put(a["StringValue"].encode())
    else:
        h.update(b"\x02"); put(base64.b64decode(a["BinaryValue"]))
print(h.hexdigest())
EOF
)
check "send-message MD5OfMessageAttributes" "$EXPECT_ATTR_MD5" "$(jget "$tmp/send.json" .MD5OfMessageAttributes)"

# 3. get-queue-attributes: counters and a set attribute
sqs get-queue-attributes --queue-url "$URL" --attribute-names All >"$tmp/ga.json" 2>&1
check "get-queue-attributes ApproximateNumberOfMessages" "1" "$(jget "$tmp/ga.json" .Attributes.ApproximateNumberOfMessages)"
check "get-queue-attributes VisibilityTimeout" "40" "$(jget "$tmp/ga.json" .Attributes.VisibilityTimeout)"
check "get-queue-attributes QueueArn" "arn:aws:sqs:us-east-1:000000000000:$Q" "$(jget "$tmp/ga.json" .Attributes.QueueArn)"

# 4. receive-message with all attributes
sqs receive-message --queue-url "$URL" --wait-time-seconds 2 --attribute-names All \
    --message-attribute-names All >"$tmp/recv.json" 2>&1
check "receive-message body" "$BODY" "$(jget "$tmp/recv.json" '.Messages[0].Body')"
check "receive-message id" "$MID" "$(jget "$tmp/recv.json" '.Messages[0].MessageId')"
check "receive-message string attribute" "blue" "$(jget "$tmp/recv.json" '.Messages[0].MessageAttributes.colour.StringValue')"
check "receive-message number attribute" "42" "$(jget "$tmp/recv.json" '.Messages[0].MessageAttributes.count.StringValue')"
check "receive-message binary attribute" "AAEC/w==" "$(jget "$tmp/recv.json" '.Messages[0].MessageAttributes.blob.BinaryValue')"
check "receive-message ApproximateReceiveCount" "1" "$(jget "$tmp/recv.json" '.Messages[0].Attributes.ApproximateReceiveCount')"
check "receive-message MD5OfMessageAttributes" "$EXPECT_ATTR_MD5" "$(jget "$tmp/recv.json" '.Messages[0].MD5OfMessageAttributes')"
RH=$(jget "$tmp/recv.json" '.Messages[0].ReceiptHandle')

# 5. delete-message
sqs delete-message --queue-url "$URL" --receipt-handle "$RH" >"$tmp/del.out" 2>&1
check "delete-message exit status" "0" "$?"
sqs get-queue-attributes --queue-url "$URL" \
    --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible >"$tmp/ga2.json" 2>&1
check "queue empty after delete" "0/0" \
    "$(jget "$tmp/ga2.json" .Attributes.ApproximateNumberOfMessages)/$(jget "$tmp/ga2.json" .Attributes.ApproximateNumberOfMessagesNotVisible)"

# 6. list-queues by prefix
sqs list-queues --queue-name-prefix "$Q" >"$tmp/lq.json" 2>&1
check "list-queues by prefix" "$URL" "$(jq -r '.QueueUrls | join(",")' "$tmp/lq.json" 2>/dev/null)"

# 7. tags
sqs tag-queue --queue-url "$URL" --tags team=core,env=ci >/dev/null 2>&1
sqs list-queue-tags --queue-url "$URL" >"$tmp/tags.json" 2>&1
check "tag-queue then list-queue-tags" "env=ci,team=core" \
    "$(jq -r '.Tags | to_entries | map("\(.key)=\(.value)") | sort | join(",")' "$tmp/tags.json" 2>/dev/null)"
sqs untag-queue --queue-url "$URL" --tag-keys team >/dev/null 2>&1
sqs list-queue-tags --queue-url "$URL" >"$tmp/tags2.json" 2>&1
check "untag-queue" "env=ci" \
    "$(jq -r '.Tags | to_entries | map("\(.key)=\(.value)") | sort | join(",")' "$tmp/tags2.json" 2>/dev/null)"

# 8. set-queue-attributes
sqs set-queue-attributes --queue-url "$URL" --attributes DelaySeconds=3 >/dev/null 2>&1
sqs get-queue-attributes --queue-url "$URL" --attribute-names DelaySeconds >"$tmp/ga3.json" 2>&1
check "set-queue-attributes DelaySeconds" "3" "$(jget "$tmp/ga3.json" .Attributes.DelaySeconds)"
sqs set-queue-attributes --queue-url "$URL" --attributes DelaySeconds=0 >/dev/null 2>&1

# 9. purge-queue
sqs send-message --queue-url "$URL" --message-body one >/dev/null 2>&1
sqs send-message --queue-url "$URL" --message-body two >/dev/null 2>&1
sqs purge-queue --queue-url "$URL" >/dev/null 2>"$tmp/purge.err"
check "purge-queue exit status" "0" "$?"
sqs receive-message --queue-url "$URL" >"$tmp/recv2.json" 2>&1
check "queue empty after purge" "0" "$(jq -rs 'map(.Messages // []) | add // [] | length' "$tmp/recv2.json" 2>/dev/null)"

# 10. errors: the right code on stderr and exit status 254 (service error)
sqs get-queue-url --queue-name "no-such-queue-$RUN" >/dev/null 2>"$tmp/err1"
rc=$?
check "get-queue-url of a missing queue exits 254" "254" "$rc"
check "missing queue error code on stderr" "yes" \
    "$(has 'AWS.SimpleQueueService.NonExistentQueue' "$tmp/err1")"
sqs create-queue --queue-name "$Q" --attributes VisibilityTimeout=41 >/dev/null 2>"$tmp/err2"
check "create-queue with other attributes: QueueAlreadyExists" "yes" \
    "$(has 'QueueAlreadyExists' "$tmp/err2")"
sqs set-queue-attributes --queue-url "$URL" --attributes VisibilityTimeout=99999 >/dev/null 2>"$tmp/err3"
check "invalid attribute value: InvalidAttributeValue" "yes" \
    "$(has 'InvalidAttributeValue' "$tmp/err3")"
AWS_SECRET_ACCESS_KEY=wrong sqs list-queues >/dev/null 2>"$tmp/err4"
check "wrong secret: SignatureDoesNotMatch" "yes" \
    "$(has 'SignatureDoesNotMatch' "$tmp/err4")"

# 11. delete-queue
sqs delete-queue --queue-url "$URL" >/dev/null 2>&1
check "delete-queue exit status" "0" "$?"
sqs get-queue-url --queue-name "$Q" >/dev/null 2>"$tmp/err5"
check "deleted queue is gone" "yes" \
    "$(has 'AWS.SimpleQueueService.NonExistentQueue' "$tmp/err5")"

# 12. FIFO: groups, deduplication, sequence numbers
F=$Q.fifo
sqs create-queue --queue-name "$F" --attributes FifoQueue=true >"$tmp/f.json" 2>&1
FURL=$(jget "$tmp/f.json" .QueueUrl)
check "create-queue FIFO" "$ENDPOINT/000000000000/$F" "$FURL"
sqs send-message --queue-url "$FURL" --message-body one --message-group-id g \
    --message-deduplication-id d1 >"$tmp/f1.json" 2>&1
sqs send-message --queue-url "$FURL" --message-body two --message-group-id g \
    --message-deduplication-id d1 >"$tmp/f2.json" 2>&1
check "FIFO duplicate send returns the original MessageId" "$(jget "$tmp/f1.json" .MessageId)" \
    "$(jget "$tmp/f2.json" .MessageId)"
check "FIFO SequenceNumber has 20 digits" "20" "$(jget "$tmp/f1.json" .SequenceNumber | tr -d '\n' | wc -c)"
sqs send-message --queue-url "$FURL" --message-body three --message-group-id g \
    --message-deduplication-id d3 >/dev/null 2>&1
sqs receive-message --queue-url "$FURL" --max-number-of-messages 10 --attribute-names All \
    >"$tmp/f3.json" 2>&1
check "FIFO receive: one group, in order, no duplicate" "one,three" \
    "$(jq -r '[.Messages[].Body] | join(",")' "$tmp/f3.json" 2>/dev/null)"
check "FIFO receive: MessageGroupId attribute" "g" "$(jget "$tmp/f3.json" '.Messages[0].Attributes.MessageGroupId')"
sqs send-message --queue-url "$FURL" --message-body x >/dev/null 2>"$tmp/err6"
check "FIFO send without a group: MissingParameter" "yes" "$(has 'MissingParameter' "$tmp/err6")"

# 13. dead-letter queue, redrive, source listing, permissions
D=$Q-dlq
DURL=$(sqs create-queue --queue-name "$D" 2>/dev/null | jq -r .QueueUrl)
S=$Q-src
REDRIVE="{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:$D\",\"maxReceiveCount\":\"1\"}"
jq -n --arg r "$REDRIVE" '{RedrivePolicy: $r}' >"$tmp/redrive.json"
SURL=$(sqs create-queue --queue-name "$S" --attributes "file://$tmp/redrive.json" 2>/dev/null | jq -r .QueueUrl)
sqs send-message --queue-url "$SURL" --message-body poison >/dev/null 2>&1
sqs receive-message --queue-url "$SURL" --visibility-timeout 0 >/dev/null 2>&1
sqs receive-message --queue-url "$SURL" >"$tmp/src2.json" 2>&1
check "second receive past maxReceiveCount gets nothing" "0" \
    "$(jq -rs 'map(.Messages // []) | add // [] | length' "$tmp/src2.json" 2>/dev/null)"
sqs receive-message --queue-url "$DURL" --attribute-names All >"$tmp/dlq.json" 2>&1
check "the message is in the dead-letter queue" "poison" "$(jget "$tmp/dlq.json" '.Messages[0].Body')"
check "DeadLetterQueueSourceArn" "arn:aws:sqs:us-east-1:000000000000:$S" \
    "$(jget "$tmp/dlq.json" '.Messages[0].Attributes.DeadLetterQueueSourceArn')"
sqs list-dead-letter-source-queues --queue-url "$DURL" >"$tmp/srcs.json" 2>&1
check "list-dead-letter-source-queues" "$SURL" "$(jq -r '.queueUrls | join(",")' "$tmp/srcs.json" 2>/dev/null)"
sqs add-permission --queue-url "$SURL" --label share --aws-account-ids 111122223333 \
    --actions SendMessage >/dev/null 2>&1
sqs get-queue-attributes --queue-url "$SURL" --attribute-names Policy >"$tmp/pol.json" 2>&1
check "add-permission writes the statement" "share SQS:SendMessage arn:aws:iam::111122223333:root" \
    "$(jget "$tmp/pol.json" .Attributes.Policy | jq -r '.Statement[0] | "\(.Sid) \(.Action) \(.Principal.AWS)"' 2>/dev/null)"
sqs remove-permission --queue-url "$SURL" --label share >/dev/null 2>&1
check "remove-permission exit status" "0" "$?"
for u in "$FURL" "$DURL" "$SURL"; do sqs delete-queue --queue-url "$u" >/dev/null 2>&1; done
sqs create-queue --queue-name "$D" >/dev/null 2>"$tmp/err7"
check "re-create within 60 s: QueueDeletedRecently" "yes" "$(has 'QueueDeletedRecently' "$tmp/err7")"

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
