# lib.sh — shared by run.sh and crash.sh: start nagare on a free port and wait
# for its health check. Needs BIN set to the binary under test.

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# kill_server [SECONDS]: SIGTERM, then SIGKILL after SECONDS (0 = at once);
# reaps the server and clears SERVER_PID.
kill_server() {
    local i
    if [ "${1:-0}" -gt 0 ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        for ((i = 0; i < $1 * 10; i++)); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
    fi
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
}

# start_server LOG ARGS...: starts BINARY serve ARGS on a free port; sets PORT,
# SERVER_PID and NAGARE_ENDPOINT; returns 1 if health never answered.
start_server() {
    local log=$1 i
    shift
    for _ in 1 2 3; do
        PORT=$(free_port)
        "$BIN" serve --host 127.0.0.1 --port "$PORT" "$@" </dev/null >>"$log" 2>&1 &
        SERVER_PID=$!
        for ((i = 0; i < 300; i++)); do
            if curl -fsS -m 2 "http://127.0.0.1:$PORT/_nagare/health" >/dev/null 2>&1; then
                export NAGARE_ENDPOINT="http://127.0.0.1:$PORT"
                return 0
            fi
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill_server
    done
    echo "  server did not become healthy; log tail:"
    tail -n 30 "$log"
    return 1
}

