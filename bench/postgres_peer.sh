#!/usr/bin/env bash
# The PostgreSQL peer of the end-to-end benchmark (see bench/README.md).
#
#   bench/postgres_peer.sh EVENTS_NDJSON HOMEWARD_BIN WORK_DIR
#
# Takes the donation, refund and pledge subset of EVENTS_NDJSON (CaseOpened, DonationReceived,
# PledgeMade, PledgeFulfilled, PledgeCancelled, RefundIssued lines), then:
#   Homeward: `homeward publish` of the subset into a fresh data directory, then
#             `homeward cases --json` (which projects the log, then prints every case);
#   PostgreSQL 15: a private cluster (initdb, pg_ctl on 127.0.0.1, a free port, in a temp dir;
#             as the `postgres` user when run as root), COPY of the same lines into a jsonb
#             table, bench/postgres_peer.sql (the SPEC section 5 figures of every case by SQL),
#             and the figures exported as JSON;
# checks that every case's figures are exactly equal, and prints KEY=VALUE lines on standard
# output for bench/run_benchmarks.sh (times in seconds, wall clock). Exits 1 on any failure,
# including a single differing figure.
set -euo pipefail

die() {
  echo "postgres_peer: $*" >&2
  exit 1
}
(($# == 3)) || { sed -n '4,4p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
EVENTS_FILE=$1
HOMEWARD=$2
WORK=$3
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)}
[[ -n $PG_BIN && -x $PG_BIN/initdb ]] || die "PostgreSQL 15 not found (install the 'postgresql' package)"
[[ -r $EVENTS_FILE ]] || die "cannot read $EVENTS_FILE"
[[ -x $HOMEWARD ]] || die "$HOMEWARD is not executable"
mkdir -p "$WORK"

now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.3f", e - s }'; }

SUBSET="$WORK/subset.ndjson"
grep -E '^\{"type":"(CaseOpened|DonationReceived|PledgeMade|PledgeFulfilled|PledgeCancelled|RefundIssued)"' \
  "$EVENTS_FILE" >"$SUBSET" || die "no event of the subset in $EVENTS_FILE"
SUBSET_EVENTS=$(wc -l <"$SUBSET")

# --- Homeward ----------------------------------------------------------------------------------
HW_DATA="$WORK/homeward-data"
start=$(now)
rc=0
"$HOMEWARD" --data "$HW_DATA" publish "$SUBSET" >"$WORK/hw-publish.out" 2>"$WORK/hw-publish.err" || rc=$?
# Exit 3 means some lines were refused at stage 1; the generator's lines all pass it.
((rc == 0)) || { tail -5 "$WORK/hw-publish.err" >&2; die "homeward publish failed ($rc)"; }
mid=$(now)
"$HOMEWARD" --data "$HW_DATA" cases --json >"$WORK/hw-cases.json" 2>"$WORK/hw-cases.err" \
  || { tail -5 "$WORK/hw-cases.err" >&2; die "homeward cases --json failed"; }
end=$(now)
HW_PUBLISH_S=$(elapsed "$start" "$mid")
HW_PROJECT_S=$(elapsed "$mid" "$end")
HW_TOTAL_S=$(elapsed "$start" "$end")

# --- PostgreSQL --------------------------------------------------------------------------------
PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/homeward-pg.XXXXXX")
AS_PG=()
if [[ $(id -u) -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' user (package postgresql)"
  chown postgres: "$PG_DIR"
  AS_PG=(runuser -u postgres --)
fi
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
stop_pg() {
  "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap stop_pg EXIT
"${AS_PG[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
  >"$WORK/pg-initdb.log" 2>&1 || { tail -5 "$WORK/pg-initdb.log" >&2; die "initdb failed"; }
# Settings a team would give a reporting database on this machine; durability stays on.
"${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $PG_DIR -c shared_buffers=512MB -c work_mem=256MB -c maintenance_work_mem=512MB -c max_wal_size=8GB -c max_parallel_workers_per_gather=2" \
  start >/dev/null || { cat "$PG_DIR/server.log" >&2 2>/dev/null; die "pg_ctl start failed"; }
psql_pg() { "${AS_PG[@]}" "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }

psql_pg -c "CREATE TABLE raw (seq bigint GENERATED ALWAYS AS IDENTITY, doc jsonb NOT NULL)"
start=$(now)
# CSV with quote and delimiter bytes that never occur in the lines: each line is one jsonb value.
psql_pg -c "COPY raw (doc) FROM STDIN WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')" <"$SUBSET"
mid=$(now)
psql_pg -f - <"$SCRIPT_DIR/postgres_peer.sql" >"$WORK/pg-sql.out"
psql_pg -At >"$WORK/pg-cases.json" <<'SQL'
SELECT coalesce(json_agg(json_build_object(
  'case_id', case_id, 'currency', currency, 'goal', goal, 'received', received,
  'refunded', refunded, 'net', net, 'pledged', pledged, 'disbursed', 0, 'available', net,
  'remaining', greatest(goal - net, 0), 'surplus', greatest(net - goal, 0),
  'donations', donations, 'donors', donors, 'refunds', refunds,
  'status', CASE WHEN net >= goal THEN 'funded' ELSE 'open' END,
  'opened_at', (extract(epoch FROM opened_at) * 1000000)::bigint,
  'fully_funded_at', (extract(epoch FROM fully_funded_at) * 1000000)::bigint,
  'events_applied', events_applied, 'duplicates', duplicates, 'events_rejected', events_rejected)
  ORDER BY case_id COLLATE "C"), '[]') FROM figures;
SQL
end=$(now)
PG_LOAD_S=$(elapsed "$start" "$mid")
PG_SQL_S=$(elapsed "$mid" "$end")
PG_TOTAL_S=$(elapsed "$start" "$end")

# --- compare every figure -------------------------------------------------------------------
COMPARE=$(python3 - "$WORK/hw-cases.json" "$WORK/pg-cases.json" <<'PY'
import json, sys
from datetime import datetime, timezone

def minor(text):
    # Homeward writes amounts with exactly the currency's exponent digits.
    negative = text.startswith("-")
    value = int(text.lstrip("-").replace(".", ""))
    return -value if negative else value

def micros(text):
    if text is None:
        return None
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if "." in text else "%Y-%m-%dT%H:%M:%SZ"
    t = datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
    return int(t.timestamp()) * 1000000 + t.microsecond

amounts = ["goal", "received", "refunded", "net", "pledged", "disbursed", "available",
           "remaining", "surplus"]
plain = ["currency", "donations", "donors", "refunds", "status", "events_applied", "duplicates",
         "events_rejected"]
homeward = {c["case_id"]: c for c in json.load(open(sys.argv[1]))}
postgres = {c["case_id"]: c for c in json.load(open(sys.argv[2]))}
problems = []
if homeward.keys() != postgres.keys():
    problems.append(f"case sets differ: {len(homeward)} in Homeward, {len(postgres)} in PostgreSQL")
compared = 0
for case_id in sorted(homeward.keys() & postgres.keys()):
    h, p = homeward[case_id], postgres[case_id]
    for field in amounts:
        compared += 1
        if minor(h[field]) != p[field]:
            problems.append(f"{case_id}.{field}: Homeward {h[field]}, PostgreSQL {p[field]}")
    for field in plain:
        compared += 1
        if h[field] != p[field]:
            problems.append(f"{case_id}.{field}: Homeward {h[field]}, PostgreSQL {p[field]}")
    for field in ["opened_at", "fully_funded_at"]:
        compared += 1
        if micros(h[field]) != p[field]:
            problems.append(f"{case_id}.{field}: Homeward {h[field]}, PostgreSQL {p[field]}")
for line in problems[:10]:
    print(line, file=sys.stderr)
print(f"{len(homeward)} {compared} {len(problems)}")
PY
) || die "comparing the figures failed"
read -r CASES COMPARED DIFFERENCES <<<"$COMPARE"
((DIFFERENCES == 0)) || die "$DIFFERENCES of $COMPARED figures differ between Homeward and PostgreSQL"

cat <<EOF
PEER_SUBSET_EVENTS=$SUBSET_EVENTS
PEER_CASES=$CASES
PEER_FIGURES_COMPARED=$COMPARED
PEER_HW_PUBLISH_S=$HW_PUBLISH_S
PEER_HW_PROJECT_S=$HW_PROJECT_S
PEER_HW_TOTAL_S=$HW_TOTAL_S
PEER_PG_LOAD_S=$PG_LOAD_S
PEER_PG_SQL_S=$PG_SQL_S
PEER_PG_TOTAL_S=$PG_TOTAL_S
EOF
