#!/usr/bin/env bash
# faults.sh AGENT PROG - the agent steps aside on bad input and the program never notices:
# same stdout, same exit status, and exactly one stderr line per problem.
set -euo pipefail
agent=$1 prog=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

bare_out=$("$prog" 2>/dev/null); bare_rc=$?

# run_case NAME OPTIONS EXPECTED_LINES PATTERN: runs PROG under the agent with THREADLENS_OPTIONS.
run_case() {
    local name=$1 opts=$2 lines=$3 pattern=$4 out rc err
    set +e
    out=$(THREADLENS_OPTIONS="$opts" LD_PRELOAD="$agent" "$prog" 2>"$work/err"); rc=$?
    set -e
    err=$(grep '^threadlens:' "$work/err" | grep -v 'finding' || true)
    [ "$out" = "$bare_out" ] || fail "$name: stdout changed"
    [ "$rc" = "$bare_rc" ] || fail "$name: exit status $rc, bare $bare_rc"
    [ "$(printf '%s' "$err" | grep -c .)" = "$lines" ] || fail "$name: expected $lines line(s), got: $err"
    [ -z "$pattern" ] || printf '%s\n' "$err" | grep -q -- "$pattern" || fail "$name: no '$pattern' in: $err"
    echo "ok: $name"
}

run_case "unwritable db" "db=$work/missing/dir/run.db" 1 "cannot open"
run_case "db is a directory" "db=$work" 1 "running without threadlens"
run_case "unknown key" "db=$work/a.db:colour=blue" 1 "unknown option 'colour'"
run_case "bad number" "db=$work/b.db:interval=fast" 1 "bad value 'fast' for option 'interval'"
run_case "nan interval" "db=$work/c.db:interval=nan" 1 "option 'interval'"
run_case "no equals" "db=$work/d.db:verbose" 1 "not key=value"
run_case "empty entries" "db=$work/e.db:::" 0 ""
run_case "huge value" "db=$work/f.db:stacks=$(printf '9%.0s' $(seq 1 5000))" 1 "too long"
[ -s "$work/a.db" ] || fail "a database with a bad option next to it was not written"
echo "all fault cases passed"
