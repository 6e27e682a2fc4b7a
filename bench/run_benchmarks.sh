#!/usr/bin/env bash
# End-to-end benchmarks of Homeward with the real `homeward` CLI (see bench/README.md).
#
#   bench/run_benchmarks.sh BUILD_DIR [--events N] [--cases C] [--donors D] [--seed S] [--results DIR] [--no-peers]
#
# Generates N events (default 10,000,000; C cases, default N / 100; D donor refs, default
# N / 10) with `homeward-bench gen`, then measures, on a fresh data directory: (a) publish into
# the embedded log, (b) a full replay `project --rebuild`, (c) `stats --json` over the result,
# (d) one case's figures in-process (homeward-read-latency: p50/p99 of find_case); Kafka over
# the dev broker (librdkafka's mock cluster): `publish --kafka` and `project --kafka`, against
# kcat producing the same records to the same cluster; and, in the same run, RocksDB's own
# db_bench (`fillseq` with the same number and size of records, WAL off and WAL on with a sync
# per batch, then `readrandom`) as the baseline, and the PostgreSQL 15 peer
# (bench/postgres_peer.sh: the same donation, refund and pledge events, the same figures by
# SQL, checked equal). --no-peers skips Kafka and PostgreSQL (quick runs, CI smoke test).
# Writes a Markdown table to bench/results/latest.md and a dated copy (or to --results DIR).
# Any failing step stops the script with a message and exit code 1.
set -euo pipefail

die() {
  echo "run_benchmarks: $*" >&2
  exit 1
}

usage() {
  sed -n '4,4p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

(($# >= 1)) || usage
BUILD_DIR=$1
shift
EVENTS=10000000
CASES=""
DONORS=""
SEED=1
RESULTS_DIR=""
PEERS=1
while (($#)); do
  case "$1" in
    --events) (($# >= 2)) || usage; EVENTS=$2; shift 2 ;;
    --seed) (($# >= 2)) || usage; SEED=$2; shift 2 ;;
    --cases) (($# >= 2)) || usage; CASES=$2; shift 2 ;;
    --donors) (($# >= 2)) || usage; DONORS=$2; shift 2 ;;
    --no-peers) PEERS=0; shift ;;
    --results) (($# >= 2)) || usage; RESULTS_DIR=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run_benchmarks: unknown argument $1" >&2; usage ;;
  esac
done
[[ $EVENTS =~ ^[1-9][0-9]*$ ]] || die "--events must be a positive integer, not '$EVENTS'"
[[ $SEED =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer, not '$SEED'"
# The issue's shape: 10M events over 100k cases and 1M donors.
CASES=${CASES:-$((EVENTS / 100 > 0 ? EVENTS / 100 : 1))}
DONORS=${DONORS:-$((EVENTS / 10 > 0 ? EVENTS / 10 : 1))}
[[ $CASES =~ ^[1-9][0-9]*$ ]] || die "--cases must be a positive integer, not '$CASES'"
[[ $DONORS =~ ^[1-9][0-9]*$ ]] || die "--donors must be a positive integer, not '$DONORS'"

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
readonly SCRIPT_DIR
RESULTS_DIR=${RESULTS_DIR:-$SCRIPT_DIR/results}
readonly RESULTS_DIR
readonly HOMEWARD="$BUILD_DIR/homeward"
readonly GENERATOR="$BUILD_DIR/homeward-bench"
readonly READ_LATENCY="$BUILD_DIR/homeward-read-latency"
readonly DB_BENCH="${DB_BENCH:-/usr/bin/db_bench}"
readonly TIME=/usr/bin/time
[[ -x $HOMEWARD ]] || die "$HOMEWARD not found: build first (./run build)"
[[ -x $GENERATOR ]] || die "$GENERATOR not found: build first (./run build)"
[[ -x $READ_LATENCY ]] || die "$READ_LATENCY not found: build first (./run build)"
[[ -x $DB_BENCH ]] || die "$DB_BENCH not found: install rocksdb-tools"
[[ -x $TIME ]] || die "$TIME not found: install the 'time' package (peak RSS comes from it)"
command -v jq >/dev/null || command -v python3 >/dev/null \
  || die "jq or python3 is needed to read 'stats --json'"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/homeward-bench.XXXXXX")
readonly WORK
BROKER_PID=""
cleanup() {
  # The dev broker is the only process this script leaves running in the background.
  if [[ -n $BROKER_PID ]]; then kill "$BROKER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# run_timed NAME COMMAND...: runs COMMAND under /usr/bin/time -v with its output in
# $WORK/NAME.{out,err}; sets SECONDS_TAKEN (wall clock from date +%s.%N), CPU_SECONDS (user +
# system, from time -v) and PEAK_RSS_MB.
# A non-zero exit stops the script and shows the command's last lines of stderr.
run_timed() {
  local name=$1
  shift
  local start end rc=0
  echo "run_benchmarks: $name: $*" >&2
  start=$(date +%s.%N)
  "$TIME" -v -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
  end=$(date +%s.%N)
  if ((rc != 0)); then
    tail -n 20 "$WORK/$name.err" >&2
    die "$name failed with exit code $rc: $*"
  fi
  SECONDS_TAKEN=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')
  local rss_kb
  rss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/$name.time")
  [[ -n $rss_kb ]] || die "$name: no peak RSS in the output of $TIME"
  PEAK_RSS_MB=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
  CPU_SECONDS=$(awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ { t += $2 }
                            END { printf "%.2f", t }' "$WORK/$name.time")
}

per_second() { awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.001; printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "n/a"; else printf "%.2f", a / b }'; }
thousands() { sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta' <<<"$1"; }

# json_get FILE EXPRESSION: a value of the JSON document in FILE (jq syntax, e.g. .events.applied).
json_get() {
  if command -v jq >/dev/null; then
    jq -er "$2" "$1"
  else
    python3 - "$1" "$2" <<'PY'
import json, sys
value = json.load(open(sys.argv[1]))
for key in sys.argv[2].lstrip(".").split("."):
    value = value[key]
print(value)
PY
  fi
}

# db_bench's "fillseq : 1.234 micros/op 810372 ops/sec; ..." line -> ops/sec.
# db_bench's "readrandom : ..." line -> ops/sec and its "Percentiles: P50: a ... P99: b" line
# (microseconds) -> P50 and P99; sets READ_OPS, READ_P50_US, READ_P99_US.
db_bench_reads() {
  READ_OPS=$(awk '/^readrandom/ { for (i = 1; i <= NF; ++i) if ($i == "ops/sec;" || $i == "ops/sec") print $(i - 1) }' "$1")
  [[ $READ_OPS =~ ^[0-9.]+$ ]] || die "cannot read ops/sec from db_bench output $1"
  READ_OPS=$(printf "%.0f" "$READ_OPS")
  READ_P50_US=$(awk '/^Percentiles:/ { for (i = 1; i <= NF; ++i) if ($i == "P50:") { print $(i + 1); exit } }' "$1")
  READ_P99_US=$(awk '/^Percentiles:/ { for (i = 1; i <= NF; ++i) if ($i == "P99:") { print $(i + 1); exit } }' "$1")
  [[ -n $READ_P50_US && -n $READ_P99_US ]] || die "cannot read percentiles from db_bench output $1"
}

db_bench_ops() {
  local ops
  ops=$(awk '/^fillseq/ { for (i = 1; i <= NF; ++i) if ($i == "ops/sec;" || $i == "ops/sec") print $(i - 1) }' "$1")
  [[ $ops =~ ^[0-9.]+$ ]] || die "cannot read ops/sec from db_bench output $1"
  printf "%.0f" "$ops"
}

export LC_NUMERIC=C
# Other work on the machine skews wall-clock figures; the report shows the load it started with.
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)

# --- generate ------------------------------------------------------------------------------
EVENTS_FILE="$WORK/events.ndjson"
run_timed generate "$GENERATOR" gen --events "$EVENTS" --cases "$CASES" --donors "$DONORS" \
  --seed "$SEED" --out "$EVENTS_FILE"
GEN_SECONDS=$SECONDS_TAKEN
LINES=$(wc -l <"$EVENTS_FILE")
((LINES == EVENTS)) || die "the generator wrote $LINES lines, not $EVENTS"
NDJSON_BYTES=$(stat -c %s "$EVENTS_FILE")
MEAN_LINE=$(awk -v b="$NDJSON_BYTES" -v n="$EVENTS" 'BEGIN { printf "%.0f", b / n }')
MEAN_WIRE=$(awk '/mean wire size:/ { printf "%.0f", $4 }' "$WORK/generate.err")
[[ $MEAN_WIRE =~ ^[0-9]+$ ]] || die "cannot read the mean wire size from the generator's summary"
GEN_DUPLICATES=$(awk '/re-sent lines/ { print $NF }' "$WORK/generate.err")
GEN_REJECTIONS=$(awk '/lines written to be rejected/ { print $NF }' "$WORK/generate.err")

# --- (a) publish ---------------------------------------------------------------------------
DATA="$WORK/data"
run_timed publish "$HOMEWARD" --data "$DATA" publish "$EVENTS_FILE"
PUBLISH_SECONDS=$SECONDS_TAKEN
PUBLISH_CPU=$CPU_SECONDS
PUBLISH_RSS=$PEAK_RSS_MB
PUBLISH_RATE=$(per_second "$EVENTS" "$PUBLISH_SECONDS")

# --- (b) replay ----------------------------------------------------------------------------
run_timed replay "$HOMEWARD" --data "$DATA" project --rebuild
REPLAY_SECONDS=$SECONDS_TAKEN
REPLAY_CPU=$CPU_SECONDS
REPLAY_RSS=$PEAK_RSS_MB
REPLAY_RATE=$(per_second "$EVENTS" "$REPLAY_SECONDS")

# --- (c) stats --json ----------------------------------------------------------------------
run_timed stats "$HOMEWARD" --data "$DATA" stats --json
STATS_SECONDS=$SECONDS_TAKEN
STATS_CPU=$CPU_SECONDS
STATS_RSS=$PEAK_RSS_MB
STATS_JSON="$WORK/stats.out"
APPLIED=$(json_get "$STATS_JSON" .events.applied) || die "stats --json has no events.applied"
DUPLICATES=$(json_get "$STATS_JSON" .events.duplicates) || die "stats --json has no events.duplicates"
REJECTED=$(json_get "$STATS_JSON" .events.rejected) || die "stats --json has no events.rejected"
(((APPLIED + DUPLICATES + REJECTED) == EVENTS)) \
  || die "stats counts $APPLIED applied + $DUPLICATES duplicates + $REJECTED rejected, not $EVENTS events"
CONSISTENT="yes"
if [[ $DUPLICATES != "$GEN_DUPLICATES" || $REJECTED != "$GEN_REJECTIONS" ]]; then
  CONSISTENT="NO: the generator meant $GEN_DUPLICATES duplicates and $GEN_REJECTIONS rejections"
  echo "run_benchmarks: warning: $CONSISTENT" >&2
fi
dir_bytes() { if [[ -d $1 ]]; then du -sb "$1" | cut -f1; else echo 0; fi; }
LOG_BYTES=$(dir_bytes "$DATA/log")
PROJ_BYTES=$(dir_bytes "$DATA/projections")

# --- (d) one case's figures in-process ------------------------------------------------------
run_timed read_latency "$READ_LATENCY" --store "$DATA/projections" --samples 100000 --seed "$SEED"
LAT_JSON="$WORK/read_latency.out"
CASE_P50_NS=$(json_get "$LAT_JSON" .p50_ns) || die "homeward-read-latency printed no p50_ns"
CASE_P99_NS=$(json_get "$LAT_JSON" .p99_ns) || die "homeward-read-latency printed no p99_ns"
IMPACT_MS=$(json_get "$LAT_JSON" .impact_report_ms) || die "homeward-read-latency printed no impact_report_ms"
LAT_CASES=$(json_get "$LAT_JSON" .cases) || die "homeward-read-latency printed no cases"
us() { awk -v n="$1" 'BEGIN { printf "%.2f", n / 1000 }'; }

# --- baseline: RocksDB db_bench fillseq, same record count and size -------------------------
DB_COMMON=(--benchmarks=fillseq --num="$EVENTS" --batch_size=1000 --key_size=8
  --value_size="$MEAN_WIRE" --threads=1 --histogram=0)
run_timed dbbench_nowal "$DB_BENCH" "${DB_COMMON[@]}" --db="$WORK/dbbench-nowal" --disable_wal=1
NOWAL_RATE=$(db_bench_ops "$WORK/dbbench_nowal.out")
NOWAL_SECONDS=$SECONDS_TAKEN
NOWAL_CPU=$CPU_SECONDS
run_timed dbbench_sync "$DB_BENCH" "${DB_COMMON[@]}" --db="$WORK/dbbench-sync" --disable_wal=0 --sync=1
SYNC_RATE=$(db_bench_ops "$WORK/dbbench_sync.out")
SYNC_SECONDS=$SECONDS_TAKEN
SYNC_CPU=$CPU_SECONDS
# Random point reads of the same keys, on the WAL-off database just written: RocksDB's floor
# for one lookup, beside one case's figures (a lookup plus decoding a summary).
READS=$((EVENTS < 1000000 ? EVENTS : 1000000))
run_timed dbbench_read "$DB_BENCH" --benchmarks=readrandom --use_existing_db=1 --num="$EVENTS" \
  --reads="$READS" --key_size=8 --value_size="$MEAN_WIRE" --threads=1 --histogram=1 \
  --db="$WORK/dbbench-nowal"
db_bench_reads "$WORK/dbbench_read.out"

# --- Kafka over the dev broker, against kcat -----------------------------------------------
KAFKA_MEASURED=0
KAFKA_NOTE="not measured: --no-peers"
if ((PEERS)); then
  if ! "$HOMEWARD" dev-broker --help >/dev/null 2>&1; then
    KAFKA_NOTE="not measured: this homeward has no dev-broker command"
  elif ! command -v kcat >/dev/null; then
    KAFKA_NOTE="not measured: kcat is not installed"
  else
    TOPIC=homeward.bench
    # librdkafka's mock cluster keeps at most 5 MiB per partition and silently drops the
    # oldest records beyond it. Records are keyed by case_id, and the hottest case of the
    # Zipf skew alone overflows one partition past a few hundred thousand events, so Kafka
    # is measured on the stream's first KAFKA_EVENTS events, over 16 partitions.
    KAFKA_EVENTS=$((EVENTS < 100000 ? EVENTS : 100000))
    PARTITIONS=16
    head -n "$KAFKA_EVENTS" "$EVENTS_FILE" >"$WORK/kafka.ndjson"
    "$HOMEWARD" --topic "$TOPIC" dev-broker --partitions "$PARTITIONS" >"$WORK/broker.out" 2>"$WORK/broker.err" &
    BROKER_PID=$!
    for _ in $(seq 300); do [[ -s $WORK/broker.out ]] && break; sleep 0.1; done
    BROKER=$(head -n 1 "$WORK/broker.out")
    [[ -n $BROKER ]] || { cat "$WORK/broker.err" >&2; die "the dev broker printed no address"; }
    run_timed kafka_publish "$HOMEWARD" --kafka "$BROKER" --topic "$TOPIC" --data "$WORK/kafka-data" \
      publish "$WORK/kafka.ndjson"
    KPUB_SECONDS=$SECONDS_TAKEN
    KPUB_CPU=$CPU_SECONDS
    KPUB_RATE=$(per_second "$KAFKA_EVENTS" "$KPUB_SECONDS")
    run_timed kafka_project "$HOMEWARD" --kafka "$BROKER" --topic "$TOPIC" --data "$WORK/kafka-data" project
    KPROJ_SECONDS=$SECONDS_TAKEN
    KPROJ_CPU=$CPU_SECONDS
    KPROJ_RATE=$(per_second "$KAFKA_EVENTS" "$KPROJ_SECONDS")
    # kcat sends exactly the records Homeward sent: the same keys (case_id) and the same
    # FlatBuffers values, written by `homeward-bench kcat-input` with delimiters that no record
    # holds (it checks), with Homeward's two headers: kcat -H gives every message the same
    # ones, so the type header is the most common type's (donation_received). It runs twice:
    # with librdkafka's defaults, and with Homeward's producer settings (printed by kcat-input
    # after the delimiters: idempotence, acks=all, the same batching and lz4), which is the
    # same Kafka work and the baseline of the target.
    mapfile -t KCAT_ARGS < <("$GENERATOR" kcat-input --in "$WORK/kafka.ndjson" --out "$WORK/kcat.in")
    ((${#KCAT_ARGS[@]} > 2)) || die "homeward-bench kcat-input printed no delimiters and settings"
    KCAT_COMMON=(kcat -P -b "$BROKER" -t "$TOPIC" -K "${KCAT_ARGS[0]}" -D "${KCAT_ARGS[1]}"
      -H homeward.type=donation_received -H homeward.schema_version=1)
    KCAT_SETTINGS=()
    for setting in "${KCAT_ARGS[@]:2}"; do KCAT_SETTINGS+=(-X "$setting"); done
    run_timed kcat_defaults "${KCAT_COMMON[@]}" -l "$WORK/kcat.in"
    KCATD_SECONDS=$SECONDS_TAKEN
    KCATD_CPU=$CPU_SECONDS
    KCATD_RATE=$(per_second "$KAFKA_EVENTS" "$KCATD_SECONDS")
    run_timed kcat "${KCAT_COMMON[@]}" "${KCAT_SETTINGS[@]}" -l "$WORK/kcat.in"
    KCAT_SECONDS=$SECONDS_TAKEN
    KCAT_CPU=$CPU_SECONDS
    KCAT_RATE=$(per_second "$KAFKA_EVENTS" "$KCAT_SECONDS")
    kill "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
    BROKER_PID=""
    KAFKA_MEASURED=1
  fi
fi

# --- the PostgreSQL 15 peer -------------------------------------------------------------------
PEER_MEASURED=0
if ((PEERS)); then
  echo "run_benchmarks: postgres peer: $SCRIPT_DIR/postgres_peer.sh" >&2
  "$SCRIPT_DIR/postgres_peer.sh" "$EVENTS_FILE" "$HOMEWARD" "$WORK/peer" >"$WORK/peer.env" 2>"$WORK/peer.err" \
    || { tail -n 20 "$WORK/peer.err" >&2; die "the PostgreSQL peer failed (see above)"; }
  # shellcheck disable=SC1091
  source "$WORK/peer.env"
  PEER_MEASURED=1
fi

# --- report --------------------------------------------------------------------------------
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MEM_GB=$(awk '/^MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
ROCKSDB_VERSION=$(dpkg-query -W -f='${Version}' librocksdb-dev 2>/dev/null || echo unknown)
COMMIT=$(git -C "$SCRIPT_DIR/.." rev-parse --short HEAD 2>/dev/null || echo unknown)
STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

mkdir -p "$RESULTS_DIR"
REPORT="$WORK/report.md"
cat >"$REPORT" <<EOF
# Homeward end-to-end benchmarks

Run $STAMP, commit \`$COMMIT\`, $(thousands "$EVENTS") events over $(thousands "$CASES") cases and $(thousands "$DONORS") donor refs (\`homeward-bench gen --seed $SEED\`).
What each figure means: bench/README.md.

## Machine

| | |
| --- | --- |
| CPU | ${CPU_MODEL:-unknown}, $(nproc) cores (nproc) |
| memory | $MEM_GB GiB |
| load average at start | $LOAD_AT_START (1, 5, 15 min) |
| kernel | $(uname -sr) |
| RocksDB | $ROCKSDB_VERSION (Debian librocksdb-dev; db_bench from rocksdb-tools) |

## Input

| | |
| --- | --- |
| events | $(thousands "$EVENTS") lines, $(mb "$NDJSON_BYTES") MiB of NDJSON, mean $MEAN_LINE bytes/line |
| wire size | mean $MEAN_WIRE bytes/event (FlatBuffers, as the log stores it) |
| generated in | $GEN_SECONDS s |
| outcome (stats --json) | $(thousands "$APPLIED") applied, $(thousands "$DUPLICATES") duplicates, $(thousands "$REJECTED") rejected |
| as the generator meant | $CONSISTENT |
| on disk after replay | log $(mb "$LOG_BYTES") MiB, projections $(mb "$PROJ_BYTES") MiB |

## Results

| step | command | wall s | CPU s | events/s | peak RSS MiB |
| --- | --- | ---: | ---: | ---: | ---: |
| (a) publish | \`homeward --data D publish FILE\` | $PUBLISH_SECONDS | $PUBLISH_CPU | $(thousands "$PUBLISH_RATE") | $PUBLISH_RSS |
| (b) replay | \`homeward --data D project --rebuild\` | $REPLAY_SECONDS | $REPLAY_CPU | $(thousands "$REPLAY_RATE") | $REPLAY_RSS |
| (c) query | \`homeward --data D stats --json\` | $STATS_SECONDS | $STATS_CPU | | $STATS_RSS |

## Baseline: RocksDB db_bench fillseq, $(thousands "$EVENTS") records of 8 + $MEAN_WIRE bytes, batches of 1000

| db_bench | wall s | CPU s | records/s (db_bench) |
| --- | ---: | ---: | ---: |
| WAL off (\`--disable_wal=1\`) | $NOWAL_SECONDS | $NOWAL_CPU | $(thousands "$NOWAL_RATE") |
| WAL on, synced per batch (\`--sync=1\`) | $SYNC_SECONDS | $SYNC_CPU | $(thousands "$SYNC_RATE") |

## Ratios

| | ratio |
| --- | ---: |
| publish events/s ÷ db_bench WAL on + sync records/s | $(ratio "$PUBLISH_RATE" "$SYNC_RATE") |
| publish events/s ÷ db_bench WAL off records/s | $(ratio "$PUBLISH_RATE" "$NOWAL_RATE") |
| replay events/s ÷ db_bench WAL off records/s | $(ratio "$REPLAY_RATE" "$NOWAL_RATE") |
EOF

# --- reads, Kafka, the PostgreSQL peer and the issue's targets ------------------------------
verdict() { if (($1)); then echo "met"; else echo "**missed**"; fi; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 >= b + 0) ? 1 : 0 }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 < b + 0) ? 1 : 0 }'; }
cat >>"$REPORT" <<EOF

## Reads

| read | figure |
| --- | ---: |
| one case's figures in-process (\`find_case\`, 100,000 random ids of $(thousands "$LAT_CASES") cases): p50 | $(us "$CASE_P50_NS") µs |
| the same: p99 | $(us "$CASE_P99_NS") µs |
| impact report over every case, in-process | $IMPACT_MS ms |
| \`homeward stats --json\` (process start to exit) | $STATS_SECONDS s |
| db_bench \`readrandom\` on the WAL-off database: ops/s | $(thousands "$READ_OPS") |
| db_bench \`readrandom\`: p50 / p99 | $READ_P50_US / $READ_P99_US µs |
EOF
if ((KAFKA_MEASURED)); then
  cat >>"$REPORT" <<EOF

## Kafka (librdkafka's mock cluster via \`homeward dev-broker\`, $PARTITIONS partitions, on this machine)

The stream's first $(thousands "$KAFKA_EVENTS") events: the mock cluster keeps at most 5 MiB per partition.

| step | wall s | CPU s | events/s |
| --- | ---: | ---: | ---: |
| \`homeward --kafka B publish FILE\` | $KPUB_SECONDS | $KPUB_CPU | $(thousands "$KPUB_RATE") |
| \`homeward --kafka B project\` | $KPROJ_SECONDS | $KPROJ_CPU | $(thousands "$KPROJ_RATE") |
| \`kcat -P\` of the same records (case_id keys, FlatBuffers values, the two headers), librdkafka's defaults | $KCATD_SECONDS | $KCATD_CPU | $(thousands "$KCATD_RATE") |
| the same, with Homeward's producer settings (idempotence, acks=all, its batching, lz4): the baseline | $KCAT_SECONDS | $KCAT_CPU | $(thousands "$KCAT_RATE") |
EOF
else
  printf '\n## Kafka\n\n%s\n' "$KAFKA_NOTE" >>"$REPORT"
fi
if ((PEER_MEASURED)); then
  PEER_SPEEDUP=$(ratio "$PEER_PG_TOTAL_S" "$PEER_HW_TOTAL_S")
  cat >>"$REPORT" <<EOF

## Peer: PostgreSQL 15, the same job by SQL (bench/postgres_peer.sh)

$(thousands "$PEER_SUBSET_EVENTS") events (the CaseOpened, donation, refund and pledge lines), $(thousands "$PEER_CASES") cases; all $(thousands "$PEER_FIGURES_COMPARED") compared figures are identical.

| | load s | figures s | total s |
| --- | ---: | ---: | ---: |
| Homeward: \`publish\`, then \`cases --json\` (projects, then prints every case) | $PEER_HW_PUBLISH_S | $PEER_HW_PROJECT_S | $PEER_HW_TOTAL_S |
| PostgreSQL: COPY into jsonb, then the SPEC section 5 figures by SQL, exported as JSON | $PEER_PG_LOAD_S | $PEER_PG_SQL_S | $PEER_PG_TOTAL_S |
| PostgreSQL total ÷ Homeward total | | | $PEER_SPEEDUP |
EOF
else
  printf '\n## Peer: PostgreSQL 15\n\nnot measured: --no-peers\n' >>"$REPORT"
fi
{
  echo
  echo "## Targets of issue 4 (this run)"
  echo
  echo "| target | figure | baseline in this run | |"
  echo "| --- | ---: | ---: | --- |"
  echo "| replay ≥ 1,000,000 events/s | $(thousands "$REPLAY_RATE") events/s | | $(verdict "$(ge "$REPLAY_RATE" 1000000)") |"
  echo "| replay ≥ 0.65 × db_bench fillseq WAL off | $(ratio "$REPLAY_RATE" "$NOWAL_RATE") × | $(thousands "$NOWAL_RATE") records/s | $(verdict "$(ge "$(ratio "$REPLAY_RATE" "$NOWAL_RATE")" 0.65)") |"
  echo "| replay peak memory < 2 GiB | $REPLAY_RSS MiB | | $(verdict "$(lt "$REPLAY_RSS" 2048)") |"
  echo "| durable publish ≥ 300,000 events/s | $(thousands "$PUBLISH_RATE") events/s | db_bench WAL on + sync $(thousands "$SYNC_RATE") records/s | $(verdict "$(ge "$PUBLISH_RATE" 300000)") |"
  if ((KAFKA_MEASURED)); then
    echo "| Kafka publish ≥ 0.9 × kcat | $(ratio "$KPUB_RATE" "$KCAT_RATE") × ($(ratio "$KPUB_RATE" "$KCATD_RATE") × kcat with librdkafka's defaults) | kcat $(thousands "$KCAT_RATE") events/s | $(verdict "$(ge "$(ratio "$KPUB_RATE" "$KCAT_RATE")" 0.9)") |"
  else
    echo "| Kafka publish ≥ 0.9 × kcat | $KAFKA_NOTE | | |"
  fi
  echo "| one case p99 < 10 µs | $(us "$CASE_P99_NS") µs | db_bench readrandom p99 $READ_P99_US µs | $(verdict "$(lt "$CASE_P99_NS" 10000)") |"
  if ((PEER_MEASURED)); then
    echo "| ≥ 10 × faster than PostgreSQL, identical figures | $PEER_SPEEDUP × | PostgreSQL $PEER_PG_TOTAL_S s | $(verdict "$(ge "$PEER_SPEEDUP" 10)") |"
  else
    echo "| ≥ 10 × faster than PostgreSQL, identical figures | not measured: --no-peers | | |"
  fi
} >>"$REPORT"

# The HTTP API (bench/http_bench.sh): wrk against serve and nginx, POST against publish.
{
  echo
  echo "## HTTP API: homeward serve (bench/http_bench.sh)"
  echo
  "$SCRIPT_DIR/http_bench.sh" "$BUILD_DIR" --cases "$(( CASES < 100000 ? CASES : 100000 ))" \
    --post-events "$(( EVENTS >= 100000 ? 100000 : 1000 ))" \
    --visible-seconds "$(( EVENTS >= 100000 ? 10 : 1 ))"
} >>"$REPORT"

cp "$REPORT" "$RESULTS_DIR/latest.md"
cp "$REPORT" "$RESULTS_DIR/$STAMP.md"
cat "$REPORT"
echo "run_benchmarks: wrote $RESULTS_DIR/latest.md and $RESULTS_DIR/$STAMP.md" >&2
