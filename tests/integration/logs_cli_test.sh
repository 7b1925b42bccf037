#!/usr/bin/env bash
# CloudWatch Logs through the AWS CLI v2 (Debian's /usr/bin/aws) and `nagare logs`.
#
# Usage: logs_cli_test.sh ENDPOINT NAGARE_BINARY
#
# `aws logs tail GROUP` must print what was put, and `aws logs tail --follow`
# must print what arrives while it runs (it polls FilterLogEvents every 5 s);
# `nagare logs FUNCTION [-f]` does the same for /aws/lambda/FUNCTION. Prints a
# line per check and ends with `logs-cli: N passed, M failed`.

set -u
ENDPOINT=${1:?usage: logs_cli_test.sh ENDPOINT NAGARE_BINARY}
NAGARE=${2:?usage: logs_cli_test.sh ENDPOINT NAGARE_BINARY}
AWS=${AWS_CLI:-/usr/bin/aws}
SLACK=${NAGARE_TIME_SLACK:-1}

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_PAGER="" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL

FN=clitest-$(date +%s)-$$
G=/aws/lambda/$FN
S='2024/01/01/[$LATEST]00112233445566778899aabbccddeeff'
passed=0
failed=0
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

logs() { "$AWS" --endpoint-url "$ENDPOINT" --output json logs "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
put() { logs put-log-events --log-group-name "$G" --log-stream-name "$S" \
    --log-events "timestamp=$(now_ms),message=$1" >/dev/null; }

# shellcheck source=tests/integration/checks.sh
. "$(dirname "$0")/checks.sh"

# waitfor FILE TEXT SECONDS: "yes" once FILE contains TEXT, "no" after SECONDS
waitfor() {
    local i
    for ((i = 0; i < $3 * 10 * SLACK; i++)); do
        grep -qF -- "$2" "$1" 2>/dev/null && { echo yes; return; }
        sleep 0.1
    done
    echo no
}

logs create-log-group --log-group-name "$G"
logs create-log-stream --log-group-name "$G" --log-stream-name "$S"
put "first line"
put "second line"

out=$("$AWS" --endpoint-url "$ENDPOINT" logs tail "$G" 2>&1)
check "aws logs tail prints the events" 2 "$(grep -cE 'first line|second line' <<<"$out")"
check "aws logs tail names the stream" yes \
    "$(grep -qF '[$LATEST]00112233445566778899aabbccddeeff second line' <<<"$out" && echo yes || echo "$out")"
out=$("$AWS" --endpoint-url "$ENDPOINT" logs tail "$G" --filter-pattern second --format short 2>&1)
check "aws logs tail --filter-pattern" 1 "$(grep -c 'line' <<<"$out")"

"$AWS" --endpoint-url "$ENDPOINT" logs tail "$G" --follow --since 1m >"$tmp/follow" 2>&1 &
pids+=($!)
check "aws logs tail --follow shows the backlog" yes "$(waitfor "$tmp/follow" "second line" 10)"
put "third line"
check "aws logs tail --follow shows new events" yes "$(waitfor "$tmp/follow" "third line" 12)"

out=$("$NAGARE" logs "$FN" --endpoint "$ENDPOINT" 2>&1)
check "nagare logs prints the lines" "first line
second line
third line" "$out"
out=$("$NAGARE" logs "no-such-$FN" --endpoint "$ENDPOINT" 2>&1)
check "nagare logs of a function that never logged" yes \
    "$(grep -q 'no log group' <<<"$out" && echo yes || echo "$out")"
"$NAGARE" logs "$FN" -f --endpoint "$ENDPOINT" >"$tmp/nfollow" 2>&1 &
pids+=($!)
check "nagare logs -f shows the backlog" yes "$(waitfor "$tmp/nfollow" "third line" 5)"
put "fourth line"
check "nagare logs -f shows new lines" yes "$(waitfor "$tmp/nfollow" "fourth line" 5)"
check "nagare logs -f prints each line once" 1 "$(grep -c 'third line' "$tmp/nfollow")"

echo "logs-cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
