#!/usr/bin/env bash
# nagare integration tests: every real client against the built binary.
#
# Usage: tests/integration/run.sh BINARY        (e.g. build/nagare, build/asan/nagare)
#
# 1. Starts `BINARY serve --in-memory` on a free loopback port and waits for
#    GET /_nagare/health, then runs, one after the other:
#      python-json   test_sqs.py under `python3` (boto3 1.43, AWS JSON 1.0)
#      python-query  test_sqs.py under /usr/bin/python3 (Debian boto3 1.26, query/XML)
#      iam-current   test_iam.py under `python3` (IAM is query/XML on every SDK)
#      iam-debian    test_iam.py under /usr/bin/python3
#      enforce-json  test_iam_enforce.py under `python3` (SQS over JSON; a second
#                    account's root from --account-key)
#      enforce-query test_iam_enforce.py under /usr/bin/python3 (SQS over query)
#      lambda-current test_lambda_api.py under `python3` (Lambda, REST-JSON)
#      lambda-debian  test_lambda_api.py under /usr/bin/python3
#      invoke-current test_lambda_invoke.py under `python3`: functions run (python,
#                     node, provided bash+curl and C), errors, timeouts, roles, hot reload
#      invoke-debian  test_lambda_invoke.py under /usr/bin/python3
#      async-current  test_lambda_async.py under `python3`: Event invocations, retries,
#                     destinations, dead-letter queues (servers run with
#                     NAGARE_LAMBDA_RETRY_SCALE=0.01: retries after 0.6 s and 1.2 s)
#      async-debian   test_lambda_async.py under /usr/bin/python3
#      esm-current    test_lambda_esm.py under `python3`: SQS event source mappings
#                     (batches, partial failures, DLQ, FIFO order, filters, validation,
#                     permissions, scaling through GET /_nagare/esm, killed instances)
#      esm-debian     test_lambda_esm.py under /usr/bin/python3
#      logs-current  test_logs.py under `python3` (CloudWatch Logs, AWS JSON 1.1)
#      logs-debian   test_logs.py under /usr/bin/python3
#      logs-cli      logs_cli_test.sh: `aws logs tail [--follow]`, `nagare logs [-f]`
#      invoke-cli    invoke_cli_test.sh: `nagare invoke` and a hot-reload directory
# 3. Starts `BINARY serve --no-iam` and runs noiam_check.py.
#      cli           cli_test.sh with /usr/bin/aws (CLI v2, query protocol)
#      node          `node --test` (@aws-sdk/client-sqs v3, JSON, SDK-checked MD5s)
# 2. Starts `BINARY serve --data-dir D`, writes with persist_check.py, stops the
#    server, starts it again on D and checks queues, messages and the IAM
#    directory (users, keys, groups, roles, policies) and the log groups,
#    streams and events (logs_persist.py) are still there, a pending
#    asynchronous invocation is resumed (async_persist.py), and event source
#    mappings are restored and keep polling (esm_persist.py).
#
# Counts are TEST CASES (a unittest test, a CLI check, a node test, a persistence
# check); a suite that dies without printing its summary counts as one failure.
# A server that crashed, or whose log holds a sanitizer report, is one failure.
# Ends with `integration: N passed, M failed`; exits non-zero on any failure.
# Works with CI=true and no stdin; ASan builds get longer timeouts.

set -u
BIN=${1:?usage: run.sh BINARY}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
[ -x "$BIN" ] || { echo "run.sh: $BIN is not an executable"; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nagare-integ.XXXXXX")
SERVER_PID=""
TOTAL_PASS=0
TOTAL_FAIL=0
SUMMARY=()

# Sanitizer builds are several times slower: stretch waits and timing checks.
if grep -q -a -m1 AddressSanitizer "$BIN" 2>/dev/null; then
    SLACK=3
    SUITE_TIMEOUT=420
else
    SLACK=1
    SUITE_TIMEOUT=240
fi
export NAGARE_TIME_SLACK=$SLACK
# Asynchronous invocations retry after 1 and 2 minutes in AWS: a hundredth of that here.
export NAGARE_LAMBDA_RETRY_SCALE=0.01

# Client settings must come from us only, not from the machine's AWS config.
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SQS AWS_SESSION_TOKEN AWS_REGION
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=""
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1

cleanup() {
    [ -n "$SERVER_PID" ] && kill -KILL "$SERVER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

# stop_server NAME LOG: SIGTERM, then SIGKILL after 15 s.  Counts a failure if
# the server had already died, or its log holds a sanitizer report.
stop_server() {
    local name=$1 log=$2 rc
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        wait "$SERVER_PID" 2>/dev/null
        rc=$?
        record "$name-server" 0 1 "server died during the tests (exit $rc)"
        tail -n 30 "$log"
        SERVER_PID=""
        return
    fi
    kill_server 15
    if grep -qE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' "$log"; then
        record "$name-server" 0 1 "sanitizer report in the server log"
        grep -E -A30 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' "$log" | head -n 60
    fi
}

# record SUITE PASSED FAILED [NOTE]
record() {
    TOTAL_PASS=$((TOTAL_PASS + $2))
    TOTAL_FAIL=$((TOTAL_FAIL + $3))
    SUMMARY+=("$(printf '%-20s %4d passed, %3d failed  %s' "$1" "$2" "$3" "${4:-}")")
}

# run_suite NAME PATTERN CMD...: runs CMD with output to the terminal and a
# file; PATTERN is a sed -E expression turning the summary line into "P F".
run_suite() {
    local name=$1 pattern=$2 out counts rc
    shift 2
    out="$WORK/$name.out"
    echo
    echo "=== $name: $*"
    (cd "$HERE" && timeout -k 10 "$SUITE_TIMEOUT" "$@") </dev/null 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    counts=$(sed -nE "$pattern" "$out" | tail -n 1)
    if [ -z "$counts" ]; then
        record "$name" 0 1 "no summary (exit $rc)"
    elif [ "$rc" -ne 0 ] && [ "${counts#* }" = "0" ]; then
        record "$name" "${counts% *}" 1 "exit $rc"
    else
        record "$name" "${counts% *}" "${counts#* }"
    fi
}

UNITTEST_PAT='s/^test_sqs\[[a-z]+\]: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p'
IAM_PAT='s/^test_iam\[[^]]*\]: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p'
LAMBDA_PAT='s/^test_lambda_api\[[^]]*\]: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p'

# --- 1. in-memory server, every client --------------------------------------
LOG1="$WORK/server-memory.log"
ENFORCE_PAT='s/^test_iam_enforce\[[a-z]+\]: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p'
if start_server "$LOG1" --in-memory --account-key 111122223333:other:other-secret; then
    echo "nagare: $BIN on $NAGARE_ENDPOINT (in-memory)"
    run_suite python-json "$UNITTEST_PAT" python3 test_sqs.py
    run_suite python-query "$UNITTEST_PAT" /usr/bin/python3 test_sqs.py
    run_suite iam-current "$IAM_PAT" python3 test_iam.py
    run_suite iam-debian "$IAM_PAT" /usr/bin/python3 test_iam.py
    run_suite enforce-json "$ENFORCE_PAT" python3 test_iam_enforce.py
    run_suite enforce-query "$ENFORCE_PAT" /usr/bin/python3 test_iam_enforce.py
    run_suite lambda-current "$LAMBDA_PAT" python3 test_lambda_api.py
    run_suite lambda-debian "$LAMBDA_PAT" /usr/bin/python3 test_lambda_api.py
    INVOKE_PAT='s/^test_lambda_invoke\[[^]]*\]: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p'
    export NAGARE_BUILD
    NAGARE_BUILD=$(dirname "$BIN")
    run_suite invoke-current "$INVOKE_PAT" python3 test_lambda_invoke.py
    run_suite invoke-debian "$INVOKE_PAT" /usr/bin/python3 test_lambda_invoke.py
    ASYNC_PAT='s/^test_lambda_async\[[^]]*\]: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p'
    run_suite async-current "$ASYNC_PAT" python3 test_lambda_async.py
    run_suite async-debian "$ASYNC_PAT" /usr/bin/python3 test_lambda_async.py
    ESM_PAT='s/^test_lambda_esm\[[^]]*\]: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p'
    run_suite esm-current "$ESM_PAT" python3 test_lambda_esm.py
    run_suite esm-debian "$ESM_PAT" /usr/bin/python3 test_lambda_esm.py
    run_suite cli 's/^cli: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p' \
        ./cli_test.sh "$NAGARE_ENDPOINT"
    LOGS_PAT='s/^test_logs\[[^]]*\]: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p'
    run_suite logs-current "$LOGS_PAT" python3 test_logs.py
    run_suite logs-debian "$LOGS_PAT" /usr/bin/python3 test_logs.py
    run_suite logs-cli 's/^logs-cli: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p' \
        ./logs_cli_test.sh "$NAGARE_ENDPOINT" "$BIN"
    run_suite invoke-cli 's/^invoke-cli: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p' \
        ./invoke_cli_test.sh "$NAGARE_ENDPOINT" "$BIN"
    if [ ! -d "$HERE/node_modules/@aws-sdk/client-sqs" ]; then
        echo "=== npm ci"
        (cd "$HERE" && npm ci --no-audit --no-fund </dev/null) || record npm-ci 0 1 "npm ci failed"
    fi
    # node's TAP reporter prints "# pass N" and "# fail M" on two lines: fold them.
    # shellcheck disable=SC2016 # the script is expanded by the inner bash
    run_suite node 's/^node: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p' bash -c '
        node --test --test-reporter=tap 2>&1 | tee "$0"
        rc=${PIPESTATUS[0]}
        p=$(sed -nE "s/^# pass ([0-9]+)$/\1/p" "$0" | tail -n 1)
        f=$(sed -nE "s/^# fail ([0-9]+)$/\1/p" "$0" | tail -n 1)
        [ -n "$p" ] && [ -n "$f" ] && echo "node: $p passed, $f failed"
        exit "$rc"' "$WORK/node.tap"
    stop_server memory "$LOG1"
else
    record server-memory 0 1 "did not start"
fi

# --- 2. persistence across a restart with --data-dir ------------------------
DATA="$WORK/data"
mkdir -p "$DATA"
LOG2="$WORK/server-disk.log"
PCHECK='s/^persistence-[a-z-]+: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p'
export PERSIST_STATE="$WORK/persist-session.json"
if start_server "$LOG2" --data-dir "$DATA"; then
    run_suite persistence-before "$PCHECK" python3 persist_check.py before
    run_suite persistence-logs-1 "$PCHECK" python3 logs_persist.py before
    run_suite persistence-async-1 "$PCHECK" python3 async_persist.py before
    run_suite persistence-esm-1 "$PCHECK" python3 esm_persist.py before
    stop_server disk-1 "$LOG2"
    if start_server "$LOG2" --data-dir "$DATA"; then
        run_suite persistence-after "$PCHECK" python3 persist_check.py after
        run_suite persistence-logs-2 "$PCHECK" python3 logs_persist.py after
        run_suite persistence-async-2 "$PCHECK" python3 async_persist.py after
        run_suite persistence-esm-2 "$PCHECK" python3 esm_persist.py after
        stop_server disk-2 "$LOG2"
    else
        record persistence-restart 0 1 "did not restart on the same dir"
    fi
else
    record server-disk 0 1 "did not start with --data-dir"
fi

# --- 3. --no-iam: callers identified, nothing refused -------------------------
LOG3="$WORK/server-noiam.log"
if start_server "$LOG3" --in-memory --no-iam; then
    run_suite no-iam 's/^no-iam: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p' python3 noiam_check.py
    stop_server noiam "$LOG3"
else
    record server-noiam 0 1 "did not start with --no-iam"
fi

if [ "$TOTAL_FAIL" -ne 0 ]; then
    for f in "$WORK"/server-*.log; do
        [ -f "$f" ] || continue
        echo
        echo "=== last lines of $(basename "$f")"
        tail -n 20 "$f"
    done
fi
echo
echo "=== summary ($BIN)"
for line in "${SUMMARY[@]}"; do echo "  $line"; done
echo "integration: $TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$TOTAL_FAIL" -eq 0 ]
