#!/usr/bin/env bash
# nagare crash test: kill -9 under load, then nothing acknowledged is lost.
#
# Usage: tests/integration/crash.sh BINARY [ROUNDS]     (default 3 rounds)
#
# One data dir for the whole run (each round recovers what the previous kill
# left, so recovery is exercised on top of recovery); new queues per round.
# Each round:
#   1. start `BINARY serve --data-dir D` on a free port, create a standard
#      queue crash-rN and a FIFO queue crash-rN.fifo;
#   2. start 4 worker processes (crash_client.py, boto3 1.43, JSON protocol),
#      two per queue, that send unique bodies and delete about half of what
#      they receive, logging only acknowledged sends/deletes (fsynced line by
#      line); on the FIFO queue each worker is a message group;
#   3. once every worker has an acknowledged send, wait a random 0.5-3 s and
#      kill -9 the server;
#   4. restart on D, drain both queues, and require 0 lost (acknowledged sent
#      and not acknowledged deleted, yet missing), 0 resurrected (acknowledged
#      deleted, yet delivered) and 0 corrupt messages; on the FIFO queue also
#      each group in send order and deduplication intact (crash_client.py).
# Then one event source mapping round on the same data dir (esm_crash.py): a
# function that fsyncs every body it is given, ESM_MESSAGES (default 2000)
# messages queued, a mapping (BatchSize 10) enabled; once the function has
# been given its first batch (plus a random 0-200 ms), kill -9; restart on D
# and wait for the drain: every acknowledged message given to the function at
# least once (0 lost), the queue empty (nothing stuck), the mapping Enabled.
# Ends with `crash: N passed, M failed` (N/M count rounds); exits non-zero on
# any failure.  CRASH_SEED=n makes the kill moments reproducible.

set -u
BIN=${1:?usage: crash.sh BINARY [ROUNDS]}
ROUNDS=${2:-3}
WORKERS=4
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
[ -x "$BIN" ] || { echo "crash.sh: $BIN is not an executable"; exit 2; }

SEED=${CRASH_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nagare-crash.XXXXXX")
DATA="$WORK/data"
LOG="$WORK/server.log"
mkdir -p "$DATA"
SERVER_PID=""
WORKER_PIDS=()
passed=0
failed=0

unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SQS AWS_SESSION_TOKEN
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

cleanup() {
    local p
    for p in "${WORKER_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    [ -n "$SERVER_PID" ] && kill -KILL "$SERVER_PID" 2>/dev/null
    if [ "$failed" -eq 0 ]; then rm -rf "$WORK"; else echo "crash.sh: kept $WORK for inspection"; fi
}
trap cleanup EXIT

# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

# every_worker_acked LOGS...: true when each log holds an acknowledged send.
every_worker_acked() {
    local f
    for f in "$@"; do grep -q '^S ' "$f" 2>/dev/null || return 1; done
}

# round N: returns 0 when the round passed.
round() {
    local n=$1
    local tag="r$n-$SEED" urls=() logs=() std=() fifo=() i delay_ms waited
    echo "--- start" >>"$LOG"
    start_server "$LOG" --data-dir "$DATA" || return 1
    for q in "crash-r$n" "crash-r$n.fifo"; do
        urls+=("$(cd "$HERE" && python3 crash_client.py setup "$q" </dev/null)") || {
            echo "  could not create $q"
            return 1
        }
    done
    WORKER_PIDS=()
    for ((i = 0; i < WORKERS; i++)); do
        logs+=("$WORK/r$n-w$i.log")
        if ((i % 2)); then fifo+=("$WORK/r$n-w$i.log"); else std+=("$WORK/r$n-w$i.log"); fi
        (cd "$HERE" && exec python3 crash_client.py worker "${urls[i % 2]}" "$i" \
            "$WORK/r$n-w$i.log" "$tag") </dev/null >>"$WORK/workers.out" 2>&1 &
        WORKER_PIDS+=($!)
    done
    for ((waited = 0; waited < 300; waited++)); do
        every_worker_acked "${logs[@]}" && break
        sleep 0.1
    done
    delay_ms=$((500 + RANDOM % 2501))
    sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
    kill_server
    echo "  kill -9 after ${delay_ms} ms of load"
    for i in "${WORKER_PIDS[@]}"; do wait "$i" 2>/dev/null; done
    WORKER_PIDS=()
    echo "--- restart" >>"$LOG"
    start_server "$LOG" --data-dir "$DATA" || {
        echo "  restart on the same data dir failed"
        return 1
    }
    local rc=0
    (cd "$HERE" && python3 crash_client.py check "${urls[0]}" "$tag" "${std[@]}") </dev/null || rc=1
    (cd "$HERE" && python3 crash_client.py check "${urls[1]}" "$tag" "${fifo[@]}") </dev/null || rc=1
    kill_server
    return $rc
}

lines_in() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# esm_round: kill -9 while an event source mapping drains; returns 0 when it passed.
esm_round() {
    local d="$WORK/esm" n=${ESM_MESSAGES:-2000} got waited delay_ms
    mkdir -p "$d"
    echo "--- esm start" >>"$LOG"
    start_server "$LOG" --data-dir "$DATA" || return 1
    (cd "$HERE" && python3 esm_crash.py setup "$d" "$n") </dev/null || {
        echo "  esm setup failed"
        return 1
    }
    for ((waited = 0; waited < 600; waited++)); do
        got=$(lines_in "$d/processed")
        [ "$got" -gt 0 ] && break
        sleep 0.05
    done
    delay_ms=$((RANDOM % 201))
    sleep "0.$(printf '%03d' "$delay_ms")"
    kill_server
    echo "  kill -9 with $(lines_in "$d/processed") of $n given to the function"
    echo "--- esm restart" >>"$LOG"
    start_server "$LOG" --data-dir "$DATA" || {
        echo "  restart on the same data dir failed"
        return 1
    }
    local rc=0
    (cd "$HERE" && python3 esm_crash.py check "$d") </dev/null || rc=1
    kill_server
    return $rc
}

echo "crash test: $BIN, $ROUNDS rounds, $WORKERS workers, seed $SEED, data $DATA"
# tally NAME CMD...: runs one round, counts it and says how it went.
tally() {
    local name=$1
    shift
    echo "$name:"
    if "$@"; then
        passed=$((passed + 1))
        echo "  $name passed"
    else
        failed=$((failed + 1))
        echo "  $name FAILED"
    fi
    [ -n "$SERVER_PID" ] && kill_server
}

for ((r = 1; r <= ROUNDS; r++)); do
    tally "round $r" round "$r"
done
tally "esm round" esm_round
if grep -qE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' "$LOG"; then
    echo "sanitizer report in the server log:"
    grep -E -A20 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' "$LOG" | head -n 40
    failed=$((failed + 1))
fi
echo "crash: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
