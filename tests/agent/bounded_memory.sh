#!/usr/bin/env bash
# bounded_memory.sh THREADLENS TOP CHURN - the agent's own memory stays bounded on a
# program that makes and destroys 1,000,000 locks and 100,000 threads over its life
# (tl-prog-churn_locks_threads, in waves of 100 threads). The program prints its peak
# resident memory (VmHWM); the agent's share is the difference with a bare run.
#
# Bounded means it does not grow with the run: the same program with a quarter of the
# waves must peak within growth_limit_kb of the full run. Measured 2026-11-23: 22-24 MB
# over the bare run for 250, 1000 and 2000 waves (records of gone threads and locks are
# reused two collector passes after their rows are written, and the collector writes
# between ticks when changes pile up). Before the drain passes it was 160 MB for a
# quarter and 320 MB for the full run; without recycling, 577 MB. Also checks the full
# run has no finding and exits 0, and that the agent's own count of its memory
# (sample.agent_bytes) is there and bounded alike.
set -uo pipefail
threadlens=$1 top=$2 churn=$3
limit_kb=$((96 * 1024))
growth_limit_kb=$((32 * 1024))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
hwm() { awk '/^VmHWM:/ {print $2}' "$1"; }

"$churn" 1000 100 10 memory > "$work/bare.out" || fail "bare run failed"

# agent_run WAVES NAME: runs the churn under the agent; prints its VmHWM in kB.
agent_run() {
    "$threadlens" run --db "$work/$2.db" -- "$churn" "$1" 100 10 memory > "$work/$2.out" \
        2> "$work/$2.err" || fail "run under the agent failed: $(cat "$work/$2.err")"
    grep -q "out of memory\|stopped recording\|table full" "$work/$2.err" &&
        fail "the agent stepped aside: $(cat "$work/$2.err")"
    hwm "$work/$2.out"
}
quarter_kb=$(agent_run 250 quarter) || exit 1
agent_kb=$(agent_run 1000 run) || exit 1
head -1 "$work/bare.out" | cmp -s - <(head -1 "$work/run.out") ||
    fail "output differs: $(head -1 "$work/run.out")"
bare_kb=$(hwm "$work/bare.out")
[ -n "$bare_kb" ] && [ -n "$agent_kb" ] && [ -n "$quarter_kb" ] || fail "no VmHWM line"
overhead_kb=$((agent_kb - bare_kb)) growth_kb=$((agent_kb - quarter_kb))
echo "VmHWM bare ${bare_kb} kB; under the agent ${quarter_kb} kB (250 waves)," \
     "${agent_kb} kB (1000 waves): agent overhead ${overhead_kb} kB"
[ "$overhead_kb" -lt "$limit_kb" ] || fail "agent overhead ${overhead_kb} kB >= ${limit_kb} kB"
[ "$growth_kb" -lt "$growth_limit_kb" ] ||
    fail "the agent grew ${growth_kb} kB from 250 to 1000 waves (limit ${growth_limit_kb} kB)"

json=$("$top" --json "$work/run.db") || fail "threadlens-top --json failed (status $?): $json"
python3 - "$json" <<'PY' || fail "unexpected findings: $json"
import json, sys
sys.exit(0 if json.loads(sys.argv[1])["findings"] == [] else 1)
PY

# The agent's own count of its memory (sample.agent_bytes): there, bounded the same way,
# and no more than the whole difference in VmHWM (which also has SQLite's heap).
quarter_json=$("$top" --json "$work/quarter.db") || fail "threadlens-top --json failed: $quarter_json"
read -r quarter_own own < <(python3 - "$quarter_json" "$json" <<'PY'
import json, sys
print(*(json.loads(a)["processes"][0]["agent"]["max_bytes"] or 0 for a in sys.argv[1:]))
PY
) || fail "no agent.max_bytes"
echo "agent_bytes at most ${quarter_own} B (250 waves), ${own} B (1000 waves)"
[ "$own" -gt 0 ] && [ "$quarter_own" -gt 0 ] || fail "no agent_bytes in the samples"
[ $((own / 1024)) -lt "$limit_kb" ] || fail "agent_bytes ${own} B >= ${limit_kb} kB"
[ $(((own - quarter_own) / 1024)) -lt "$growth_limit_kb" ] ||
    fail "agent_bytes grew from ${quarter_own} to ${own} B (limit ${growth_limit_kb} kB)"
echo "ok: agent memory bounded, no findings"
