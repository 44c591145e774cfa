#!/bin/bash
# Creates a self-signed ECDSA P-256 certificate for local use if none exists.
set -euo pipefail
dir=${1:-var/tls}
mkdir -p "$dir"
if [ ! -s "$dir/cert.pem" ] || [ ! -s "$dir/key.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 825 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" 2>/dev/null
  chmod 600 "$dir/key.pem"
  echo "tls: generated self-signed certificate in $dir"
fi
