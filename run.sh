#!/bin/bash
# Installs, builds and starts Consilium locally, then prints the URL to open.
#   ./run.sh            start on https://127.0.0.1:8443/
#   CS_PORT=9443 ./run.sh
# Stop with Ctrl-C (everything started here is stopped with it).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
PORT=${CS_PORT:-8443}

./scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
./scripts/tls.sh var/tls

CONF=var/consilium.conf
if [ ! -f "$CONF" ]; then
  secret=$(openssl rand -hex 32)
  sed -e "s|@ROOT@|$ROOT|g" -e "s|@SECRET@|$secret|" -e "s|@PORT@|$PORT|" \
    -e "s|@TOTP_KEY@|$(openssl rand -hex 32)|" server/consilium.conf.in > "$CONF"
  chmod 600 "$CONF"
  echo "run: wrote $CONF"
fi

# A configuration from before the database existed gets its section.
if ! grep -q '^\[database\]' "$CONF"; then
  printf '\n[database]\ndatabase_url=\ndatabase_owner_url=\ntotp_key=%s\n' \
    "$(openssl rand -hex 32)" >> "$CONF"
fi

pids=()
pg_started=0
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$pg_started" = 1 ]; then ./scripts/pg.sh stop var/pg || true; fi
}
trap cleanup EXIT INT TERM

# PostgreSQL: our own cluster in var/pg, unless the configuration names
# another database.
db_url=$(sed -n 's/^database_url=//p' "$CONF" | head -1)
local_url=$(./scripts/pg.sh url var/pg app)
if [ -z "$db_url" ] || [ "$db_url" = "$local_url" ]; then
  ./scripts/pg.sh start var/pg >/dev/null
  pg_started=1
  owner_url=$(./scripts/pg.sh url var/pg owner)
  sed -i -e "s|^database_url=.*|database_url=$local_url|" \
    -e "s|^database_owner_url=.*|database_owner_url=$owner_url|" "$CONF"
fi

./build/server/consiliumd --config "$CONF" &
pids+=($!)
sleep 1
kill -0 "${pids[0]}" || { echo "consiliumd did not start"; exit 1; }

port=$(sed -n 's/^port=//p' "$CONF" | head -1)
mint() { ./build/server/consiliumd --config "$CONF" --mint-token --room demo --user "$1" --name "$2" --role "$3" --ttl 43200; }
echo
echo "Consilium is running. Open (accept the self-signed certificate):"
echo "  doctor:  https://127.0.0.1:$port/?token=$(mint doctor1 'Dr Demo' doctor)"
echo "  patient: https://127.0.0.1:$port/?token=$(mint patient1 'Patient Demo' patient)"
echo "First admin of a fresh database (password on standard input, TOTP set up at first login):"
echo "  ./build/server/consiliumd --config $CONF --create-admin --email admin@example.org"
echo "Accounts, booking, visits, referrals: https://127.0.0.1:$port/account.html (then Clinic)"
echo "REST API: https://127.0.0.1:$port/api/v1/ (docs/api.md, docs/consultations.md)"
echo "Press Ctrl-C to stop."
wait "${pids[0]}"
