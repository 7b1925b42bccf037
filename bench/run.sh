#!/bin/bash
# bench/run.sh — `make bench`: nagare against its peers and the loopback HTTP ceiling.
#
#   bench/run.sh build/nagare        (BENCH_SECONDS=N sets each test's length, default 10)
#
# Starts, one after another on free loopback ports: nagare (durable store, SigV4 on), fauxqs
# (npm, JSON protocol), moto (python3 -m moto.server) and nginx (`return 200 "ok"`, the
# HTTP ceiling). For each: the time from exec to the first 200 (a tight loop of connect
# attempts), idle RSS, then `nagare bench` for each test (send, batch, cycle; get for nginx)
# with the server's CPU seconds during the test. Prints a table and the ratios nagare is
# judged by. Then nagare's SQS -> Lambda pipeline: ESM_MESSAGES (100,000) queued, an event
# source mapping to a no-op C function enabled, the time until the queue is empty. A peer that
# cannot start is reported as n/a with the reason; the script fails only when nagare itself
# cannot be benchmarked. Installs nothing but `npm ci` in bench/.
set -u
NAGARE=${1:-build/nagare}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
HERE=$(cd "$(dirname "$0")" && pwd)
case "$NAGARE" in /*) ;; *) NAGARE="$PWD/$NAGARE" ;; esac
TMP=$(mktemp -d "${TMPDIR:-/tmp}/nagare-bench.XXXXXX")
SERVER_PID=""

cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$SERVER_PID" 2>/dev/null
        SERVER_PID=""
    fi
}
trap 'cleanup; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

if [ ! -x "$NAGARE" ]; then
    echo "bench: $NAGARE not found (run make first)" >&2
    exit 1
fi

# Starts a server and measures exec -> first 200 with a tight loop of connect
# attempts; does it STARTUP_RUNS times (default 5) and reports the median, the
# last start staying up for the benchmark (one start alone is noisy at the
# millisecond scale).
# usage: launch LOG PORT PATH CMD...; prints "ok PID MS" or "fail REASON".
LAUNCHER='
import os, socket, statistics, subprocess, sys, time
log, port, path, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
runs = max(1, int(os.environ.get("STARTUP_RUNS", "5")))
req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n" % (path, port)).encode()
out = open(log, "ab")
def last_line():
    try:
        lines = [l for l in open(log, errors="replace").read().splitlines() if l.strip()]
        return lines[-1][:160] if lines else "no output"
    except OSError:
        return "no log"
def start():
    t0 = time.monotonic()
    try:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                             cwd=os.environ.get("LAUNCH_CWD") or None)
    except OSError as e:
        print("fail cannot exec %s: %s" % (cmd[0], e.strerror)); sys.exit(0)
    while True:
        if p.poll() is not None:
            print("fail exited (status %d): %s" % (p.returncode, last_line())); sys.exit(0)
        if time.monotonic() - t0 > 60:
            p.kill(); print("fail no 200 on %s within 60 s: %s" % (path, last_line())); sys.exit(0)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(req)
                head = s.recv(16)
                if head[:7] == b"HTTP/1." and head[9:12] == b"200":
                    return p, (time.monotonic() - t0) * 1000.0
        except OSError:
            pass
        time.sleep(0.0005)
times = []
for i in range(runs):
    p, ms = start()
    times.append(ms)
    if i < runs - 1:
        p.terminate()
        p.wait()
print("ok %d %.1f" % (p.pid, statistics.median(times)))
'

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# utime + stime in clock ticks; fields 14 and 15 of /proc/PID/stat, counted after "(comm)".
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'; }
TCK=$(getconf CLK_TCK)

# usage: bench_server NAME PORT CONNS SECONDS TESTS...; appends to tests.tsv. A test may be
# TEST@CONNS (its own connection count); `cold` runs COLD_RUNS rounds instead of SECONDS.
bench_server() {
    local name=$1 port=$2 conns=$3 secs=$4
    shift 4
    local t c0 c1 out spec c len
    for spec in "$@"; do
        t=${spec%@*}
        c=$conns
        [ "$t" != "$spec" ] && c=${spec#*@}
        len=(-d "$secs")
        [ "$t" = cold ] && len=(-n "${COLD_RUNS:-10}")
        out="$TMP/$name.$spec.json"
        c0=$(cpu_ticks "$SERVER_PID")
        "$NAGARE" bench --endpoint "http://127.0.0.1:$port" --test "$t" -c "$c" "${len[@]}" \
            --key "${BENCH_KEY:-test:test}" --json >"$out" 2>"$TMP/$name.$spec.err"
        c1=$(cpu_ticks "$SERVER_PID")
        if [ ! -s "$out" ]; then
            printf '%s\t%s\tn/a\t%s\n' "$name" "$spec" "$(head -c 200 "$TMP/$name.$spec.err" | tr '\t\n' '  ')" >>"$TMP/tests.tsv"
        else
            printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$spec" \
                "$(awk -v a="${c0:-0}" -v b="${c1:-0}" -v t="$TCK" 'BEGIN { printf "%.2f", (b - a) / t }')" \
                "$(rss_kib "$SERVER_PID")" "$out" >>"$TMP/tests.tsv"
        fi
        printf '  %-7s %-9s done\n' "$name" "$spec" >&2
    done
}

# usage: [PORT=P] run_server NAME HEALTH_PATH CONNS SECONDS "TESTS" CMD...
# CMD may contain @PORT@; without PORT a free port is chosen.
run_server() {
    local name=$1 path=$2 conns=$3 secs=$4 tests=$5
    shift 5
    local port args=() a res
    port=${PORT:-$(free_port)}
    for a in "$@"; do args+=("${a//@PORT@/$port}"); done
    echo "bench: starting $name on port $port" >&2
    res=$(python3 -c "$LAUNCHER" "$TMP/$name.log" "$port" "$path" "${args[@]}")
    case "$res" in
    ok\ *)
        local ms
        read -r _ SERVER_PID ms <<<"$res"
        sleep 0.5 # let it settle before reading the idle RSS
        printf '%s\tok\t%s\t%s\n' "$name" "$ms" "$(rss_kib "$SERVER_PID")" >>"$TMP/startup.tsv"
        # IAM runs: the tests act as a least-privilege IAM user instead of the root.
        local BENCH_KEY=
        case "$name" in nagare-iam*) BENCH_KEY=$(python3 "$HERE/iam_user.py" "http://127.0.0.1:$port") ;; esac
        # Lambda runs: the no-op function (runtimes/c's echo) must exist first.
        if [ "$name" = nagare-lambda ] &&
            ! python3 "$HERE/lambda_fn.py" "http://127.0.0.1:$port" "$(dirname "$NAGARE")/lambda-echo" \
                >"$TMP/lambda_fn.log" 2>&1; then
            printf '%s\tsetup\tn/a\t%s\n' "$name" "$(tail -n 1 "$TMP/lambda_fn.log")" >>"$TMP/tests.tsv"
            tests=""
        fi
        # shellcheck disable=SC2086
        bench_server "$name" "$port" "$conns" "$secs" $tests
        cleanup
        ;;
    *)
        printf '%s\tn/a\t%s\n' "$name" "${res#fail }" >>"$TMP/startup.tsv"
        echo "bench: $name n/a: ${res#fail }" >&2
        ;;
    esac
}

: >"$TMP/startup.tsv"
: >"$TMP/tests.tsv"

# nagare: durable store in a fresh directory, SigV4 on.
mkdir -p "$TMP/nagare-data"
run_server nagare /_nagare/health "$CONNS" "$SECS" "send batch cycle" \
    "$NAGARE" serve --host 127.0.0.1 --port @PORT@ --data-dir "$TMP/nagare-data"

# IAM enforcement's cost: SendMessage as an IAM user whose policy allows it, with
# enforcement on and with --no-iam (the same user exists in both).
mkdir -p "$TMP/nagare-iam-data" "$TMP/nagare-iam-off-data"
run_server nagare-iam /_nagare/health "$CONNS" "$SECS" "send" \
    "$NAGARE" serve --host 127.0.0.1 --port @PORT@ --data-dir "$TMP/nagare-iam-data"
run_server nagare-iam-off /_nagare/health "$CONNS" "$SECS" "send" \
    "$NAGARE" serve --host 127.0.0.1 --port @PORT@ --data-dir "$TMP/nagare-iam-off-data" --no-iam

# Lambda: warm synchronous Invoke of a no-op provided.al2023 function (build/lambda-echo) with
# 1 and 16 clients, the signed GET round trip it is compared with, and cold starts.
mkdir -p "$TMP/nagare-lambda-data"
run_server nagare-lambda /_nagare/health 1 "$SECS" "get@1 invoke@1 invoke@16 cold" \
    "$NAGARE" serve --host 127.0.0.1 --port @PORT@ --data-dir "$TMP/nagare-lambda-data"

# SQS -> Lambda: ESM_MESSAGES (default 100,000) queued with `nagare bench --test batch`, then
# an event source mapping (BatchSize 10) to a no-op C function (build/lambda-noop) enabled and
# timed until the queue is empty (esm_bench.py). Writes $TMP/esm.json or $TMP/esm.na.
esm_pipeline() {
    local port res pid n=${ESM_MESSAGES:-100000} c0 c1
    port=$(free_port)
    mkdir -p "$TMP/nagare-esm-data"
    echo "bench: starting nagare-esm on port $port" >&2
    res=$(STARTUP_RUNS=1 python3 -c "$LAUNCHER" "$TMP/nagare-esm.log" "$port" /_nagare/health \
        "$NAGARE" serve --host 127.0.0.1 --port "$port" --data-dir "$TMP/nagare-esm-data")
    case "$res" in
    ok\ *) read -r _ pid _ <<<"$res" ;;
    *)
        echo "nagare did not start: ${res#fail }" >"$TMP/esm.na"
        return
        ;;
    esac
    SERVER_PID=$pid
    if ! python3 "$HERE/esm_bench.py" setup "http://127.0.0.1:$port" "$(dirname "$NAGARE")/lambda-noop" \
        >"$TMP/esm-setup.log" 2>&1; then
        echo "setup: $(tail -n 1 "$TMP/esm-setup.log")" >"$TMP/esm.na"
    elif ! "$NAGARE" bench --endpoint "http://127.0.0.1:$port" --test batch -c 16 \
        -n $((n / 10)) --queue nagare-esm-bench --json >"$TMP/esm-fill.json" 2>"$TMP/esm-fill.err"; then
        echo "filling the queue: $(head -c 200 "$TMP/esm-fill.err")" >"$TMP/esm.na"
    else
        echo "  nagare-esm $n messages queued, draining" >&2
        c0=$(cpu_ticks "$SERVER_PID")
        if python3 "$HERE/esm_bench.py" run "http://127.0.0.1:$port" "$n" >"$TMP/esm.out" 2>&1; then
            c1=$(cpu_ticks "$SERVER_PID")
            tail -n 1 "$TMP/esm.out" | python3 -c 'import json, sys
r = json.loads(sys.stdin.read()); r["cpu"] = (int(sys.argv[2]) - int(sys.argv[1])) / int(sys.argv[3])
print(json.dumps(r))' "${c0:-0}" "${c1:-0}" "$TCK" >"$TMP/esm.json"
        else
            echo "drain: $(tail -n 1 "$TMP/esm.out")" >"$TMP/esm.na"
        fi
    fi
    cleanup
}
esm_pipeline

# fauxqs: the pinned npm package, started through its library API without the request logger
# (its CLI logs every request, which would measure the logger).
if [ ! -d "$HERE/node_modules/fauxqs" ] && command -v npm >/dev/null 2>&1; then
    (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) >"$TMP/npm.log" 2>&1 ||
        echo "bench: npm ci failed: $(tail -n 1 "$TMP/npm.log")" >&2
fi
if [ -d "$HERE/node_modules/fauxqs" ]; then
    LAUNCH_CWD="$HERE" run_server fauxqs /health "$CONNS" "$SECS" "send batch cycle" \
        node --input-type=module -e \
        "import { startFauxqs } from 'fauxqs'; await startFauxqs({ port: @PORT@, logger: false });"
else
    printf 'fauxqs\tn/a\tnode_modules/fauxqs missing (npm ci in bench/ failed or npm absent)\n' >>"$TMP/startup.tsv"
fi

# moto: slow (a threaded Python server that closes every connection), so fewer connections
# and half the time.
MOTO_SECS=$(awk -v s="$SECS" 'BEGIN { h = s / 2; print (h < 2 ? 2 : h) }')
run_server moto / 4 "$MOTO_SECS" "send batch cycle" python3 -m moto.server -H 127.0.0.1 -p @PORT@

# nginx: the loopback HTTP ceiling.
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
    mkdir -p "$TMP/nginx"
    NGINX_PORT=$(free_port)
    sed -e "s#@DIR@#$TMP/nginx#g" -e "s#@PORT@#$NGINX_PORT#g" "$HERE/nginx.conf" >"$TMP/nginx/nginx.conf"
    PORT=$NGINX_PORT run_server nginx / "$CONNS" "$SECS" "get" \
        "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log"
else
    printf 'nginx\tn/a\tnginx not installed (tools/deps.sh installs nginx-light)\n' >>"$TMP/startup.tsv"
fi

python3 - "$TMP/startup.tsv" "$TMP/tests.tsv" "$SECS" "$TMP/esm" <<'EOF'
import json, os, sys
startup = {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    startup[f[0]] = f[1:]
tests = {}
for line in open(sys.argv[2]):
    f = line.rstrip("\n").split("\t")
    if f[2] == "n/a":
        tests[(f[0], f[1])] = {"na": f[3] if len(f) > 3 else ""}
        continue
    try:
        r = json.loads(open(f[4]).read().splitlines()[-1])
    except (OSError, ValueError, IndexError) as e:
        tests[(f[0], f[1])] = {"na": "bad bench output: %s" % e}
        continue
    r["cpu"] = float(f[2]); r["rss"] = int(f[3] or 0) / 1024.0
    tests[(f[0], f[1])] = r

print()
print("nagare bench, %s s per test (moto: fewer connections, half the time)" % sys.argv[3])
print()
print("%-14s %12s %10s" % ("server", "startup ms", "idle RSS"))
for name in ("nagare", "nagare-iam", "nagare-iam-off", "nagare-lambda", "fauxqs", "moto", "nginx"):
    s = startup.get(name)
    if not s:
        continue
    if s[0] == "ok":
        print("%-14s %12s %7.1f MiB" % (name, s[1], int(s[2] or 0) / 1024.0))
    else:
        print("%-14s %12s  %s" % (name, "n/a", s[1]))
print()
print("%-14s %-9s %10s %10s %8s %8s %8s %9s %7s" %
      ("server", "test", "req/s", "msgs/s", "p50 ms", "p99 ms", "max ms", "CPU s", "RSS MiB"))
for (name, test), r in tests.items():
    if "na" in r:
        print("%-14s %-9s n/a  %s" % (name, test, r["na"]))
        continue
    print("%-14s %-9s %10.0f %10.0f %8.2f %8.2f %8.1f %9.2f %7.1f%s" %
          (name, test, r["req_per_s"], r["msgs_per_s"], r["p50_ms"], r["p99_ms"], r["max_ms"],
           r["cpu"], r["rss"],
           ("  errors %d: %s" % (r["errors"], r["first_error"][:100])) if r["errors"] else ""))

def get(name, test, key):
    r = tests.get((name, test))
    return r.get(key) if r and "na" not in r else None

def ratio(label, a, b, target, fmt="%.2f"):
    """Prints a / b against its target, or n/a when either side did not run."""
    if a is None or b is None or b == 0:
        print("%-40s n/a" % label)
        return
    v = a / b
    print("%-40s %s  (target %s)" % (label, fmt % v, target))

print()
ratio("cycle msgs/s, nagare / fauxqs", get("nagare", "cycle", "msgs_per_s"),
      get("fauxqs", "cycle", "msgs_per_s"), ">= 5")
ratio("send req/s nagare / GET req/s nginx", get("nagare", "send", "req_per_s"),
      get("nginx", "get", "req_per_s"), ">= 0.5")
ratio("send as IAM user, enforced / --no-iam", get("nagare-iam", "send", "req_per_s"),
      get("nagare-iam-off", "send", "req_per_s"), ">= 0.95")
def lam(label, v, target, unit="ms"):
    if v is None:
        print("%-40s n/a" % label)
    else:
        print("%-40s %.3f %s  (target %s)" % (label, v, unit, target))

inv1, get1 = get("nagare-lambda", "invoke@1", "p50_ms"), get("nagare-lambda", "get@1", "p50_ms")
lam("warm Invoke p50, 1 client", inv1, "overhead below")
lam("warm Invoke p50 overhead over signed GET", None if inv1 is None or get1 is None else
    inv1 - get1, "< 0.5 ms")
for c in ("1", "16"):
    r = get("nagare-lambda", "invoke@" + c, "req_per_s")
    if r is not None:
        print("%-40s %.0f invokes/s, p99 %.3f ms" % ("warm Invoke, %s client%s" % (c, "" if c == "1" else "s"), r,
              get("nagare-lambda", "invoke@" + c, "p99_ms")))
lam("cold start (provided), median", get("nagare-lambda", "cold", "p50_ms"), "< 20 ms")
esm = sys.argv[4]
if os.path.exists(esm + ".json"):
    e = json.load(open(esm + ".json"))
    print("%-40s %.0f msgs/s: %d messages in %.2f s, %s" % (
        "SQS -> Lambda (BatchSize 10, C no-op)", e["msgs_per_s"], e["messages"], e["seconds"],
        "drained" if not e["left"] else "%d LEFT after the time limit" % e["left"]))
    print("%-40s %.2f  (target >= 1)" % ("  msgs/s / 20,000", e["msgs_per_s"] / 20000.0))
    print("%-40s %s batches in flight at most (limit %s), %s invocations, %s errors, "
          "%s throttles, server CPU %.2f s" % ("  mapping", e["max_concurrency"], e["limit"],
                                               e["invocations"], e["errors"], e["throttles"],
                                               e["cpu"]))
else:
    na = open(esm + ".na").read().strip() if os.path.exists(esm + ".na") else "not run"
    print("%-40s n/a  (%s)" % ("SQS -> Lambda (BatchSize 10, C no-op)", na))
sn, sx = startup.get("nagare"), startup.get("nginx")
if sn and sx and sn[0] == "ok" and sx[0] == "ok":
    print("%-40s %s ms vs %s ms" % ("startup nagare vs nginx", sn[1], sx[1]))
else:
    print("%-40s n/a" % "startup nagare vs nginx")
if sn and sn[0] == "ok":
    print("%-40s %.1f MiB  (target < 8 MiB)" % ("idle RSS nagare", int(sn[2] or 0) / 1024.0))
else:
    print("%-40s n/a  (%s)" % ("idle RSS nagare", sn[1] if sn else "not run"))
EOF
report_rc=$?

# The script fails only when nagare itself could not be benchmarked.
if ! grep -q "^nagare	ok" "$TMP/startup.tsv"; then
    echo "bench: nagare did not start: $(grep '^nagare' "$TMP/startup.tsv" | cut -f3)" >&2
    exit 1
fi
exit $report_rc
