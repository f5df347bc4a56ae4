#!/usr/bin/env bash
# halt_on_error.sh THREADLENS TOP PROG - halt_on_error=1 ends a program at its first error
# finding, with status 66 (or exitcode's), once the finding is in the database; a program
# without errors runs to its own end and status (PROG exits 3 after "work done").
set -uo pipefail
threadlens=$1 top=$2 prog=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# $1 database, $2 expected exit_status: the run's JSON holds the inversion and the status.
check_db() {
    "$top" --json "$work/$1" > "$work/$1.json"
    python3 - "$work/$1.json" "$2" <<'PY' || fail "$1: $(cat "$work/$1.json")"
import json, sys
doc = json.load(open(sys.argv[1]))
kinds = [f["kind"] for f in doc["findings"]]
assert kinds == ["lock-order-inversion"], kinds
proc = doc["processes"][0]
assert proc["exit_status"] == int(sys.argv[2]), proc
assert proc["end_reason"] == "halt_on_error", proc
PY
}

out=$(timeout 60 "$threadlens" run --db "$work/a.db" -o halt_on_error=1 -o interval=0.1 \
      -- "$prog" abba 30 2> "$work/a.err"); rc=$?
[ "$rc" = 66 ] || fail "abba: status $rc, expected 66; stderr: $(cat "$work/a.err")"
[ "$out" = "locks done" ] || fail "abba: stdout '$out', expected the work to be cut short"
grep -q "^threadlens: 1 finding, 1 error" "$work/a.err" || fail "no summary: $(cat "$work/a.err")"
check_db a.db 66

out=$(timeout 60 "$threadlens" run --db "$work/b.db" -o halt_on_error=1 -o exitcode=7 \
      -o interval=0.1 -- "$prog" abba 30 2> "$work/b.err"); rc=$?
[ "$rc" = 7 ] || fail "exitcode=7: status $rc; stderr: $(cat "$work/b.err")"
check_db b.db 7

out=$(timeout 60 "$threadlens" run --db "$work/c.db" -o halt_on_error=1 -o interval=0.1 \
      -- "$prog" clean 1 2> "$work/c.err"); rc=$?
[ "$rc" = 3 ] || fail "clean: status $rc, expected its own 3; stderr: $(cat "$work/c.err")"
[ "$out" = "locks done
work done" ] || fail "clean: stdout '$out'"

out=$(timeout 60 "$threadlens" run --db "$work/d.db" -o interval=0.1 -- "$prog" abba 1 \
      2> /dev/null); rc=$?
[ "$rc" = 3 ] || fail "abba without halt_on_error: status $rc, expected 3"
echo "ok: halt_on_error"
