#!/usr/bin/env bash
# TLS with a real CA made here (openssl): a server with mutual TLS serves the
# probe, the trainer and the Python client holding a certificate of that CA;
# a certificate of another CA and a plaintext client are refused; bad TLS
# flags are clear errors.
# Usage: tls_cli_test.sh BIN_DIR SOURCE_DIR
set -uo pipefail
BIN=$1
SRC=$2
source "$SRC/scripts/lib_server.sh"
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
source "$SRC/tests/cli/cli_test_lib.sh"
command -v openssl >/dev/null || { echo "openssl is not installed"; exit 1; }

# ca NAME: a self-signed CA; leaf NAME CA SAN: a certificate signed by it.
ca() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
    -keyout "$WORK/$1.key" -out "$WORK/$1.pem" 2>/dev/null
}
leaf() {
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$WORK/$1.key" \
    -out "$WORK/$1.csr" 2>/dev/null
  printf 'subjectAltName=%s\n' "$3" >"$WORK/$1.ext"
  openssl x509 -req -in "$WORK/$1.csr" -CA "$WORK/$2.pem" -CAkey "$WORK/$2.key" \
    -CAcreateserial -days 2 -extfile "$WORK/$1.ext" -out "$WORK/$1.pem" 2>/dev/null
}
ca ca; ca other_ca
leaf server ca "IP:127.0.0.1,DNS:localhost"
leaf client ca "DNS:trainer"
leaf intruder other_ca "DNS:trainer"

DATA="$SRC/testdata/motionsense_sample"
REGEX='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
expect_error "cert without key" "--tls_key" "$BIN/tripletstream-server" --data="$DATA" \
  --tls_cert="$WORK/server.pem"
expect_error "missing cert file" "$WORK/nope.pem" "$BIN/tripletstream-server" --data="$DATA" \
  --tls_cert="$WORK/nope.pem" --tls_key="$WORK/server.key"
expect_error "not PEM" "not a PEM" "$BIN/tripletstream-probe" --servers=127.0.0.1:1 \
  --tls_ca="$WORK/server.ext"

start_server "$WORK/server.log" --data="$DATA" --user_regex="$REGEX" --stride=16 \
  --split=1,0,0 --stats_interval_s=0 --tls_cert="$WORK/server.pem" \
  --tls_key="$WORK/server.key" --tls_client_ca="$WORK/ca.pem" || exit 1
grep -q "mutual TLS" "$WORK/server.log" || fail "server log does not say mutual TLS"
ADDR=127.0.0.1:$SERVER_PORT
MTLS=(--tls_ca="$WORK/ca.pem" --tls_cert="$WORK/client.pem" --tls_key="$WORK/client.key")

ok=$("$BIN/tripletstream-probe" --servers=$ADDR --batch_size=8 "${MTLS[@]}" | tail -1) ||
  fail "probe with the right client certificate: $ok"
grep -q "digest=" <<<"$ok" || fail "probe over mutual TLS: $ok"
expect_error "certificate of another CA" "$ADDR" "$BIN/tripletstream-probe" --servers=$ADDR \
  --batch_size=8 --timeout_s=5 --tls_ca="$WORK/ca.pem" --tls_cert="$WORK/intruder.pem" \
  --tls_key="$WORK/intruder.key"
expect_error "no client certificate" "$ADDR" "$BIN/tripletstream-probe" --servers=$ADDR \
  --batch_size=8 --timeout_s=5 --tls_ca="$WORK/ca.pem"
expect_error "plaintext client" "$ADDR" "$BIN/tripletstream-probe" --servers=$ADDR \
  --batch_size=8 --timeout_s=5
expect_error "server of another CA" "$ADDR" "$BIN/tripletstream-probe" --servers=$ADDR \
  --batch_size=8 --timeout_s=5 --tls_ca="$WORK/other_ca.pem" --tls_cert="$WORK/client.pem" \
  --tls_key="$WORK/client.key"

if [[ -x "$BIN/tripletstream-trainer" ]]; then
  out=$("$BIN/tripletstream-trainer" train --servers=$ADDR "${MTLS[@]}" --steps=3 \
          --batch_size=8 --channels=8 --levels=2 --eval=false --log_every=0 2>"$WORK/t.log") ||
    fail "trainer over mutual TLS: $(tail -3 "$WORK/t.log")"
  grep -q "steps=3 " <<<"$out" || fail "trainer over mutual TLS: $out"
fi
PYDIR="$(dirname "$BIN")/python"
if [[ -d "$PYDIR/tripletstream" ]] && /usr/bin/python3 -c 'import grpc, torch' 2>/dev/null; then
  py=$(PYTHONPATH="$PYDIR" /usr/bin/python3 -m tripletstream.probe --servers=$ADDR \
         --batch_size=8 --tls_ca="$WORK/ca.pem" --tls_cert="$WORK/client.pem" \
         --tls_key="$WORK/client.key" 2>&1 | tail -1)
  [[ "$(sed -n 's/.*digest=//p' <<<"$py")" == "$(sed -n 's/.*digest=//p' <<<"$ok")" ]] ||
    fail "Python client over mutual TLS: $py"
  PYTHONPATH="$PYDIR" /usr/bin/python3 -m tripletstream.probe --servers=$ADDR --batch_size=8 \
    --tls_ca="$WORK/ca.pem" --give_up_after_s=2 >"$WORK/py_no_cert.txt" 2>&1 &&
    fail "Python client without a certificate was accepted"
fi
stop_server || fail "server exit code on SIGTERM"
finish "TLS"
