#!/bin/bash
# Smoke test of cs-loadgen: 2 consult visits for 5 s against a private
# consiliumd on loopback; passes when nothing is lost, no client fails and
# packets arrive (cs-loadgen --expect-clean). Usage: smoke-test.sh LOADGEN CONSILIUMD
# LG_WRAP, if set, prefixes the load generator's command (e.g. a debugger);
# LG_ARGS adds options to it (e.g. --video-kbps 600).
set -euo pipefail
LOADGEN=$1
CONSILIUMD=$2
SRC=${CS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DIR=$(mktemp -d)
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT

"$SRC/scripts/tls.sh" "$DIR/tls" >/dev/null 2>&1
SECRET=$(openssl rand -hex 32)
BASE=$((30000 + RANDOM % 300 * 100))
cat >"$DIR/consilium.conf" <<CONF
[server]
listen_address=127.0.0.1
port=0
tls_cert=$DIR/tls/cert.pem
tls_key=$DIR/tls/key.pem
web_root=$SRC/clients/web
log_format=text

[auth]
token_secret=$SECRET

[media]
workers=1
bind_address=127.0.0.1
port_min=$BASE
port_max=$((BASE + 99))
max_participants=16
CONF

"$CONSILIUMD" --config "$DIR/consilium.conf" >"$DIR/log" 2>&1 &
PID=$!
PORT=
for _ in $(seq 100); do
  PORT=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)/.*|\1|p' "$DIR/log" | head -1)
  [ -n "$PORT" ] && break
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$PORT" ]; then
  echo "consiliumd did not start:"; cat "$DIR/log"; exit 1
fi

if ! ${LG_WRAP:-} "$LOADGEN" --url "wss://127.0.0.1:$PORT/ws" --token-secret "$SECRET" --scenario consults \
    --count 2 --duration 5 --warmup 2 --sfu-pid "$PID" --expect-clean ${LG_ARGS:-}; then
  echo "--- consiliumd log"; tail -30 "$DIR/log"; exit 1
fi
