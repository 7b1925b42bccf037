#!/usr/bin/env bash
# `nagare invoke` and hot reload, end to end with the AWS CLI v2 (Debian's /usr/bin/aws).
#
# Usage: invoke_cli_test.sh ENDPOINT NAGARE_BINARY
#
# A python function whose code is a local directory (Code S3Bucket=hot-reload, S3Key=DIR):
# `nagare invoke` prints its result on stdout and its log tail on stderr, exits 1 on a
# function error and 3 when the call fails; payloads come from the argument, @FILE or stdin;
# --qualifier picks a published version; an edit to the directory shows after a configuration
# change forces a cold start, and a new file shows at once (the directory changed). Prints a
# line per check and ends with `invoke-cli: N passed, M failed`.

set -u
ENDPOINT=${1:?usage: invoke_cli_test.sh ENDPOINT NAGARE_BINARY}
NAGARE=${2:?usage: invoke_cli_test.sh ENDPOINT NAGARE_BINARY}
AWS=${AWS_CLI:-/usr/bin/aws}

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_PAGER="" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL

FN=invoke-$(date +%s)-$$
ROLE=invoke-role-$$
passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

aws_() { "$AWS" --endpoint-url "$ENDPOINT" --output json "$@"; }
inv() { "$NAGARE" invoke "$@" --endpoint "$ENDPOINT" 2>"$tmp/err"; }

# shellcheck source=tests/integration/checks.sh
. "$(dirname "$0")/checks.sh"

code() {
    cat >"$tmp/fn/app.py" <<PY
import os
def handler(event, context):
    print("log from $1")
    if event.get("fail"):
        raise ValueError("asked to fail")
    extra = sorted(f for f in os.listdir(".") if f.endswith(".txt"))
    return {"v": "$1", "event": event, "extra": extra}
PY
}

mkdir -p "$tmp/fn"
code one
aws_ iam create-role --role-name "$ROLE" --assume-role-policy-document \
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}' \
    >/dev/null
aws_ lambda create-function --function-name "$FN" --runtime python3.12 --handler app.handler \
    --role "arn:aws:iam::000000000000:role/$ROLE" \
    --code "S3Bucket=hot-reload,S3Key=$tmp/fn" >"$tmp/create.json"
check "create-function with a hot-reload directory" 0 \
    "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["CodeSize"])' <"$tmp/create.json")"
check "get-function shows the directory" "file://$tmp/fn" \
    "$(aws_ lambda get-function --function-name "$FN" --query Code.Location --output text)"

out=$(inv "$FN" '{"a":1}')
rc=$?
check "invoke prints the result" '{"v": "one", "event": {"a": 1}, "extra": []} 0' "$out $rc"
check "invoke prints the log tail on stderr" yes \
    "$(grep -q '^log from one$' "$tmp/err" && grep -q '^REPORT RequestId' "$tmp/err" && echo yes)"

out=$(inv "$FN" '{"fail":true}')
rc=$?
check "a function error exits 1" 1 "$rc"
check "a function error prints its payload" ValueError \
    "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["errorType"])' <<<"$out")"

inv "no-such-$FN" >/dev/null
check "an unknown function exits 3" 3 "$?"
check "an unknown function is reported" yes \
    "$(grep -q ResourceNotFoundException "$tmp/err" && echo yes)"
"$NAGARE" invoke "$FN" --endpoint "$ENDPOINT" --key nobody:nothing >/dev/null 2>"$tmp/err"
check "an unknown key exits 3" 3 "$?"

echo '{"from":"file"}' >"$tmp/payload.json"
check "payload from @file" '{"from": "file"}' \
    "$(inv "$FN" "@$tmp/payload.json" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["event"]))')"
check "payload from stdin" '{"from": "stdin"}' \
    "$(echo '{"from":"stdin"}' | inv "$FN" - | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["event"]))')"
check "no payload sends {}" '{}' \
    "$(inv "$FN" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["event"]))')"

# An edit in place is seen by the next cold start, which a configuration change forces.
code two
aws_ lambda update-function-configuration --function-name "$FN" --description edited >/dev/null
check "an edit shows after a configuration change" two \
    "$(inv "$FN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["v"])')"
# A new file changes the directory: warm instances of the old code are retired at once.
touch "$tmp/fn/added.txt"
check "a new file shows at the next invoke" '["added.txt"]' \
    "$(inv "$FN" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["extra"]))')"

aws_ lambda publish-version --function-name "$FN" >/dev/null
check "--qualifier picks a version" '1 two' \
    "$(inv "$FN" --qualifier 1 >/dev/null && grep -o 'Version: [0-9$A-Z]*' "$tmp/err" | head -n1 | cut -d' ' -f2) $(inv "$FN" --qualifier 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["v"])')"
check "no __pycache__ is written into the directory" no \
    "$([ -d "$tmp/fn/__pycache__" ] && echo yes || echo no)"

aws_ lambda delete-function --function-name "$FN"
check "delete-function leaves the directory alone" yes "$([ -f "$tmp/fn/app.py" ] && echo yes)"

echo "invoke-cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
