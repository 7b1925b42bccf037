#!/bin/sh
# Installs what nagare needs on Debian 12 when it is missing: build libraries,
# the real clients the integration tests drive, the benchmark peers, and the
# npm packages pinned by tests/integration/package-lock.json and bench/package-lock.json.
set -e
PKGS="build-essential clang clang-format libclang-rt-14-dev pkg-config libuv1-dev libhttp-parser-dev \
libjansson-dev libsqlite3-dev libssl-dev libzip-dev libcmocka-dev libjemalloc-dev sqlite3 curl \
awscli python3-boto3 nginx-light nodejs npm"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# node/npm may come from elsewhere on the machine; only ask apt when absent.
if command -v node >/dev/null 2>&1; then
    missing=$(echo "$missing" | tr ' ' '\n' | grep -vx -e nodejs -e npm | tr '\n' ' ')
fi
if [ -n "$(echo $missing | tr -d ' ')" ]; then
    echo "deps: installing$missing"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
for d in tests/integration bench; do
    if [ -f "$d/package-lock.json" ] && [ ! -d "$d/node_modules" ]; then
        echo "deps: npm ci in $d"
        (cd "$d" && npm ci --no-audit --no-fund --loglevel=error)
    fi
done
