#!/usr/bin/env bash
# HTTP benchmarks of `homeward serve` (docs/http.md), each with its same-run baseline:
#
#   bench/http_bench.sh BUILD_DIR [--cases N] [--duration S] [--post-events N]
#                       [--visible-seconds V] [--results FILE]
#
# (a) GET /v1/cases/{id} with wrk: 64 keep-alive connections, 2 threads, random ids over N
#     cases (default 100,000), for S seconds (default 10); the baseline is nginx (Debian's,
#     started here on 127.0.0.1 with as many workers as serve has network threads) serving a
#     static file of the same size as one case document, measured the same way, in the same run.
# (b) POST /v1/events in batches of 1,000 events (one keep-alive connection, one request after
#     the other) against `homeward publish` of the same events into a fresh data directory.
# (c) publish to visible: homeward-publish-visible (bench/publish_visible.cc) posts events at
#     1,000 and at 10,000 events/s for V seconds (default 10; a fresh serve for each rate, 1,000
#     cases opened first) and times each event from its POST's answer to the first message of its
#     case on GET /v1/changes that includes it; the baselines are the POST answer's own latency
#     and the round trip of GET /livez on the same server, in the same run.
# Prints a Markdown table, also written to --results FILE when given. Every server this script
# starts is stopped by its PID on exit.
set -euo pipefail

die() {
  echo "http_bench: $*" >&2
  exit 1
}
(($# >= 1)) || die "usage: bench/http_bench.sh BUILD_DIR [--cases N] [--duration S] [--post-events N] [--visible-seconds V] [--results FILE]"
BUILD_DIR=$1
shift
CASES=100000
DURATION=10
POST_EVENTS=100000
VISIBLE_SECONDS=10
RESULTS=""
while (($#)); do
  case "$1" in
    --cases) CASES=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --post-events) POST_EVENTS=$2; shift 2 ;;
    --visible-seconds) VISIBLE_SECONDS=$2; shift 2 ;;
    --results) RESULTS=$2; shift 2 ;;
    *) die "unknown argument $1" ;;
  esac
done
[[ $CASES =~ ^[1-9][0-9]*$ ]] || die "--cases must be a positive integer"
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "--duration must be a positive integer"
[[ $POST_EVENTS =~ ^[1-9][0-9]*000$ ]] || die "--post-events must be a multiple of 1,000"
[[ $VISIBLE_SECONDS =~ ^[1-9][0-9]*$ ]] || die "--visible-seconds must be a positive integer"
readonly HOMEWARD="$BUILD_DIR/homeward" GENERATOR="$BUILD_DIR/homeward-bench"
readonly VISIBLE="$BUILD_DIR/homeward-publish-visible"
[[ -x $HOMEWARD && -x $GENERATOR && -x $VISIBLE ]] || die "build first (./run build)"
command -v wrk >/dev/null || die "wrk not found (Debian package wrk)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || die "nginx not found (Debian package nginx)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/homeward-http-bench.XXXXXX")
SERVE_PID="" NGINX_PID=""
cleanup() {
  [[ -n $SERVE_PID ]] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
  [[ -n $NGINX_PID ]] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# Starts serve on DIR; sets SERVE_PID and ADDR.
start_serve() {
  "$HOMEWARD" --data "$1" serve --listen 127.0.0.1:0 --threads 2 --workers 2 \
    >"$WORK/serve.out" 2>"$WORK/serve.err" &
  SERVE_PID=$!
  for _ in $(seq 600); do
    ADDR=$(head -1 "$WORK/serve.out" 2>/dev/null || true)
    [[ -n $ADDR ]] && curl -sf "http://$ADDR/readyz" >/dev/null && return 0
    sleep 0.1
  done
  die "serve did not become ready: $(cat "$WORK/serve.err")"
}
stop_serve() {
  kill -TERM "$SERVE_PID"
  wait "$SERVE_PID" || die "serve did not stop cleanly"
  SERVE_PID=""
}

# wrk's Requests/sec and 99th percentile (in ms) from its --latency output.
wrk_figures() {
  python3 - "$1" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1))
m = re.search(r"\s99%\s+([0-9.]+)(us|ms|s)\b", text)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{rps:.0f} {p99:.2f} {errors.group(1) if errors else 0}")
EOF
}

echo "http_bench: $CASES cases, wrk for ${DURATION}s per target, POST of $POST_EVENTS events," \
  "publish to visible for ${VISIBLE_SECONDS}s per rate" >&2
# (a) reads: a ledger of CASES cases (two events each).
"$GENERATOR" gen --events $((CASES * 2)) --cases "$CASES" --seed 7 --out "$WORK/reads.ndjson"
"$HOMEWARD" --quiet --data "$WORK/reads" publish "$WORK/reads.ndjson" >/dev/null || [[ $? == 3 ]]
start_serve "$WORK/reads"
cat >"$WORK/cases.lua" <<EOF
math.randomseed(7)
request = function()
  return wrk.format("GET", string.format("/v1/cases/case-%06d", math.random(1, $CASES)))
end
EOF
SAMPLE=$(curl -sf "http://$ADDR/v1/cases/case-000001") || die "no case-000001"
wrk -t2 -c64 -d"${DURATION}s" --latency -s "$WORK/cases.lua" "http://$ADDR" >"$WORK/wrk-serve.txt"
read -r SERVE_RPS SERVE_P99 SERVE_ERRORS <<<"$(wrk_figures "$WORK/wrk-serve.txt")"
stop_serve

# The baseline: nginx serving a static file of the size of one case document.
mkdir -p "$WORK/nginx/html" "$WORK/nginx/logs"
printf '%s' "$SAMPLE" >"$WORK/nginx/html/case.json"
NGINX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $WORK/nginx/tmp;
  proxy_temp_path $WORK/nginx/tmp;
  fastcgi_temp_path $WORK/nginx/tmp;
  uwsgi_temp_path $WORK/nginx/tmp;
  scgi_temp_path $WORK/nginx/tmp;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/nginx/html;
    default_type application/json;
  }
}
EOF
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$NGINX_PORT/case.json" >/dev/null && break; sleep 0.1; done
wrk -t2 -c64 -d"${DURATION}s" --latency "http://127.0.0.1:$NGINX_PORT/case.json" >"$WORK/wrk-nginx.txt"
read -r NGINX_RPS NGINX_P99 NGINX_ERRORS <<<"$(wrk_figures "$WORK/wrk-nginx.txt")"
kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=""

# (b) publishing: the same events through the CLI and through POST /v1/events.
"$GENERATOR" gen --events "$POST_EVENTS" --seed 11 --out "$WORK/post.ndjson"
CLI_START=$(date +%s.%N)
"$HOMEWARD" --quiet --data "$WORK/cli-publish" publish "$WORK/post.ndjson" >/dev/null || [[ $? == 3 ]]
CLI_SECONDS=$(python3 -c "import time; print(time.time() - $CLI_START)")
start_serve "$WORK/http-publish"
POST_SECONDS=$(python3 - "$ADDR" "$WORK/post.ndjson" <<'EOF'
import http.client, sys, time
host, port = sys.argv[1].rsplit(":", 1)
lines = open(sys.argv[2], "rb").read().splitlines(keepends=True)
batches = [b"".join(lines[i:i + 1000]) for i in range(0, len(lines), 1000)]
connection = http.client.HTTPConnection(host, int(port))
start = time.time()
appended = 0
for body in batches:
    connection.request("POST", "/v1/events", body, {"Content-Type": "application/x-ndjson"})
    answer = connection.getresponse()
    text = answer.read()
    if answer.status != 200:
        sys.exit(f"POST answered {answer.status}: {text[:300]!r}")
    appended += int(text.split(b'"appended":', 1)[1].split(b",", 1)[0])
elapsed = time.time() - start
if appended != len(lines):
    sys.exit(f"appended {appended} of {len(lines)}")
print(f"{elapsed:.3f}")
EOF
) || die "the POST benchmark failed"
stop_serve

# (c) publish to visible: 1,000 cases opened, then 10,000 events/s at most for VISIBLE_SECONDS.
"$GENERATOR" gen --events $((1000 + 10000 * VISIBLE_SECONDS)) --cases 1000 --seed 13 \
  --out "$WORK/visible.ndjson" 2>/dev/null
for rate in 1000 10000; do
  start_serve "$WORK/visible-$rate"
  "$VISIBLE" --url "http://$ADDR" --events "$WORK/visible.ndjson" --rate "$rate" \
    --seconds "$VISIBLE_SECONDS" >"$WORK/visible-$rate.json" \
    || die "the publish-to-visible benchmark at $rate events/s failed"
  stop_serve
done

REPORT=$(python3 - "$WORK/visible-1000.json" "$WORK/visible-10000.json" <<EOF
import json, sys
serve_rps, serve_p99, nginx_rps, nginx_p99 = $SERVE_RPS, $SERVE_P99, $NGINX_RPS, $NGINX_P99
cli_s, post_s, events = $CLI_SECONDS, $POST_SECONDS, $POST_EVENTS
print("| benchmark | figure | baseline (same run) | ratio | target |")
print("| --- | --- | --- | --- | --- |")
print(f"| GET /v1/cases/{{id}}, wrk 64 conns, $CASES cases | {serve_rps:,.0f} req/s, p99 {serve_p99:.2f} ms"
      f" (non-2xx: $SERVE_ERRORS) | nginx static file of the same size: {nginx_rps:,.0f} req/s,"
      f" p99 {nginx_p99:.2f} ms | {serve_rps / nginx_rps:.2f} | >= 20,000 req/s, p99 <= 5 ms, >= 0.5 x nginx |")
print(f"| POST /v1/events, batches of 1,000 | {events / post_s:,.0f} events/s ({post_s:.2f} s)"
      f" | homeward publish, same events: {events / cli_s:,.0f} events/s ({cli_s:.2f} s) |"
      f" {cli_s / post_s:.2f} | >= 0.8 x publish |")
for path in sys.argv[1:]:
    v = json.load(open(path))
    seen, post, livez = v["visible"], v["post_answer"], v["livez"]
    target = "p99 <= 50 ms" if v["rate_target"] == 1000 else "(measured)"
    print(f"| publish to visible, {v['rate_target']:,} events/s for {v['seconds']:.1f} s"
          f" ({v['events_per_request']} per POST, {v['senders']} connections; achieved"
          f" {v['rate_achieved']:,.0f} events/s, {v['late_requests']} requests late)"
          f" | p50 {seen['p50_ms']:.2f} ms, p99 {seen['p99_ms']:.2f} ms, max {seen['max_ms']:.1f} ms"
          f" over {seen['count']:,} events ({v['visible_before_answer']:,} seen before their answer)"
          f" | the POST's answer: p50 {post['p50_ms']:.2f} ms, p99 {post['p99_ms']:.2f} ms;"
          f" GET /livez: p50 {livez['p50_ms']:.3f} ms, p99 {livez['p99_ms']:.3f} ms"
          f" | {seen['p99_ms'] / post['p99_ms']:.2f} x the POST's p99 | {target} |")
EOF
)
echo "$REPORT"
[[ -n $RESULTS ]] && echo "$REPORT" >"$RESULTS"
exit 0
