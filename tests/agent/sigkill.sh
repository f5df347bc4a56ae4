#!/usr/bin/env bash
# sigkill.sh THREADLENS TOP PROG - SIGKILL at any moment leaves a sound database:
# ten runs of PROG (tests/agent/busy_phases.c, busy for a few seconds) under
# `threadlens run` are killed after a random delay; each database must pass
# PRAGMA integrity_check, hold the ticks committed before the kill (a process
# row and samples) and be readable by threadlens-top --json.
set -euo pipefail
threadlens=$1 top=$2 prog=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

RANDOM=20261123 # the delays differ between kills, not between test runs
for i in $(seq 1 10); do
    db=$work/run$i.db
    # 30 to 1500 ms: before the first tick, mid-tick, mid-phase, anywhere.
    delay_ms=$((30 + RANDOM % 1470))
    "$threadlens" run --db "$db" -o interval=0.05 -- "$prog" 1 100000 </dev/null \
        >/dev/null 2>"$work/err$i" &
    pid=$!
    sleep "$(printf '0.%03d' "$delay_ms")"
    [ "$delay_ms" -lt 1000 ] || sleep 1
    kill -KILL "$pid" 2>/dev/null || fail "run $i ended before the kill"
    wait "$pid" 2>/dev/null || true
    [ -e "$db" ] || { echo "run $i: killed after ${delay_ms} ms, before the database existed"; continue; }
    check=$(sqlite3 "file:$db?mode=ro" 'PRAGMA integrity_check' 2>&1) ||
        fail "run $i: sqlite3 cannot read the database: $check"
    [ "$check" = ok ] || fail "run $i (kill after ${delay_ms} ms): integrity_check: $check"
    procs=$(sqlite3 "file:$db?mode=ro" 'SELECT count(*) FROM process' 2>/dev/null || echo 0)
    samples=$(sqlite3 "file:$db?mode=ro" 'SELECT count(*) FROM sample' 2>/dev/null || echo 0)
    # Ticks come every 50 ms: a run killed after 400 ms committed several.
    if [ "$delay_ms" -ge 400 ]; then
        [ "$procs" = 1 ] || fail "run $i (kill after ${delay_ms} ms): $procs process rows"
        [ "$samples" -ge 1 ] || fail "run $i (kill after ${delay_ms} ms): no sample rows"
    fi
    set +e
    "$top" --json "$db" >"$work/json$i" 2>"$work/toperr$i"; rc=$?
    set -e
    if [ "$procs" -ge 1 ]; then
        [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "run $i: threadlens-top exit $rc: $(cat "$work/toperr$i")"
        python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/json$i" ||
            fail "run $i: invalid JSON"
    fi
    echo "run $i: killed after ${delay_ms} ms: integrity ok, $procs process, $samples samples, top exit $rc"
done
echo "all kills left sound databases"
