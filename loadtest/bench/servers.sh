# shellcheck shell=bash disable=SC2034 # its variables are for the scripts that source it
# What the shell benchmarks that start Junction servers and load them share; sourced from the repository root by
# side-by-side.sh, profile-per-call.sh, large-requests.sh and big-mlp-threads.sh, not run.

# Servers on core 1, load generators and receivers on core 0, where the machine has two cores and taskset.
server_core=()
load_core=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  server_core=(taskset -c 1)
  load_core=(taskset -c 0)
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Calls a server has answered successfully so far: ANSWERED HTTP_PORT
answered() {
  curl -sf "localhost:$1/metrics" | awk '/^nv_inference_request_success\{/ { n += $2 } END { printf "%d", n }'
}

# Stops a server, if one is named, and waits for it to exit (it flushes what it holds as it stops): stop_server PID
stop_server() {
  if [ -n "${1:-}" ]; then
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}

# Waits up to a minute for a server to be ready; if it exits or never gets there, says so with the end of its log
# and fails: await_ready HTTP_PORT PID LOG NAME
await_ready() {
  local port=$1 pid=$2 log=$3 name=$4
  for _ in $(seq 120); do
    curl -sf "localhost:$port/v2/health/ready" >/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break # it exited
    sleep 0.5
  done
  curl -sf "localhost:$port/v2/health/ready" >/dev/null && return 0
  echo "server '$name' did not become ready; the end of its log:" >&2
  tail -20 "$log" >&2
  return 1
}

# Starts an OTLP receiver that only counts what it is sent, on the load generator's core; sets otlp_receiver_pid and
# otlp_endpoint. Stop it after the servers that export to it: they flush their last spans as they stop.
start_otlp_receiver() {
  local port
  port=$(free_port)
  "${load_core[@]}" java -cp "$(loadtest/bench/bench-classpath.sh)" io.junction.testkit.OtlpReceiver "$port" \
    >/dev/null 2>&1 &
  otlp_receiver_pid=$!
  otlp_endpoint="http://127.0.0.1:$port"
}
