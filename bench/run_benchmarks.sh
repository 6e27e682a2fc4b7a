#!/usr/bin/env bash
# End-to-end benchmarks of Homeward with the real `homeward` CLI (see bench/README.md).
#
#   bench/run_benchmarks.sh BUILD_DIR [--events N] [--seed S] [--results DIR]
#
# Generates N events (default 1000000) with `homeward-bench gen`, then measures, on a fresh
# data directory: (a) publish into the embedded log, (b) a full replay
# `project --rebuild`, (c) `stats --json` over the result; and, in the same run, RocksDB's
# own db_bench `fillseq` with the same number and size of records, WAL off and WAL on with a
# sync per batch, as the baseline. Writes a Markdown table to bench/results/latest.md and a
# dated copy (or to --results DIR). Any failing step stops the script with a message and exit
# code 1.
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
EVENTS=1000000
SEED=1
RESULTS_DIR=""
while (($#)); do
  case "$1" in
    --events) (($# >= 2)) || usage; EVENTS=$2; shift 2 ;;
    --seed) (($# >= 2)) || usage; SEED=$2; shift 2 ;;
    --results) (($# >= 2)) || usage; RESULTS_DIR=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run_benchmarks: unknown argument $1" >&2; usage ;;
  esac
done
[[ $EVENTS =~ ^[1-9][0-9]*$ ]] || die "--events must be a positive integer, not '$EVENTS'"
[[ $SEED =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer, not '$SEED'"

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
readonly SCRIPT_DIR
RESULTS_DIR=${RESULTS_DIR:-$SCRIPT_DIR/results}
readonly RESULTS_DIR
readonly HOMEWARD="$BUILD_DIR/homeward"
readonly GENERATOR="$BUILD_DIR/homeward-bench"
readonly DB_BENCH="${DB_BENCH:-/usr/bin/db_bench}"
readonly TIME=/usr/bin/time
[[ -x $HOMEWARD ]] || die "$HOMEWARD not found: build first (./run build)"
[[ -x $GENERATOR ]] || die "$GENERATOR not found: build first (./run build)"
[[ -x $DB_BENCH ]] || die "$DB_BENCH not found: install rocksdb-tools"
[[ -x $TIME ]] || die "$TIME not found: install the 'time' package (peak RSS comes from it)"
command -v jq >/dev/null || command -v python3 >/dev/null \
  || die "jq or python3 is needed to read 'stats --json'"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/homeward-bench.XXXXXX")
readonly WORK
trap 'rm -rf "$WORK"' EXIT

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
run_timed generate "$GENERATOR" gen --events "$EVENTS" --seed "$SEED" --out "$EVENTS_FILE"
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

Run $STAMP, commit \`$COMMIT\`, $(thousands "$EVENTS") events (\`homeward-bench gen --seed $SEED\`).
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

cp "$REPORT" "$RESULTS_DIR/latest.md"
cp "$REPORT" "$RESULTS_DIR/$STAMP.md"
cat "$REPORT"
echo "run_benchmarks: wrote $RESULTS_DIR/latest.md and $RESULTS_DIR/$STAMP.md" >&2
