# Shell helpers to run tripletstream-server in the background (sourced).

# start_server LOG ARGS... : starts the server with --port=0, waits for its
# "serving on" line (dataset loaded) and sets SERVER_PID and SERVER_PORT.
start_server() {
  local log=$1
  shift
  : >"$log"  # Exists before the background redirect opens it.
  "$BIN/tripletstream-server" --port=0 "$@" >"$log" 2>&1 &
  SERVER_PID=$!
  SERVER_PORT=""
  for _ in $(seq 1 600); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "server exited early; its log:" >&2
      cat "$log" >&2
      return 1
    fi
    SERVER_PORT=$(sed -n 's/.*serving on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$log" | head -1)
    [[ -n "$SERVER_PORT" ]] && return 0
    sleep 0.1
  done
  echo "server did not start within 60 s; its log:" >&2
  cat "$log" >&2
  return 1
}

# metrics_port_of LOG: the port of the "metrics on http://HOST:PORT/metrics"
# line a server or trainer logged (empty until it is there).
metrics_port_of() {
  sed -n 's/.*metrics on http:[^ ]*:\([0-9][0-9]*\)\/metrics.*/\1/p' "$1" | head -1
}

# stop_server: SIGTERM and wait; returns the server's exit code.
stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  local rc=0
  wait "$SERVER_PID" || rc=$?
  return $rc
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# prometheus_query PORT PROMQL: the first result's value from the
# Prometheus on 127.0.0.1:PORT, or nothing.
prometheus_query() {
  curl -sf --get "http://127.0.0.1:$1/api/v1/query" --data-urlencode "query=$2" |
    /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' \
    2>/dev/null || true
}
