#!/usr/bin/env bash
# options_garbage.sh AGENT THREADLENS PROG - garbage in THREADLENS_OPTIONS and in
# `threadlens run -o` (cases faults.sh does not cover): huge numbers, empty
# values, 100 KB keys and values, lone separators and '=', unterminated quotes,
# signals a program relies on. Each gives at most one agent line naming the bad
# option; the defaults are used and stdout and exit status are unchanged.
set -euo pipefail
agent=$1 threadlens=$2 prog=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

set +e
bare_out=$("$prog" 2>/dev/null); bare_rc=$?
set -e
big=$(head -c 100000 /dev/zero | tr '\0' 'x')
n=0

# check NAME LINES PATTERN: the run's stdout, status and agent lines (in $work/err).
check() {
    local name=$1 lines=$2 pattern=$3 err
    err=$(grep '^threadlens:' "$work/err" | grep -v ' finding' || true)
    [ "$(cat "$work/out")" = "$bare_out" ] || fail "$name: stdout changed"
    [ "$(cat "$work/rc")" = "$bare_rc" ] || fail "$name: exit status $(cat "$work/rc"), bare $bare_rc"
    [ "$(printf '%s' "$err" | grep -c .)" = "$lines" ] || fail "$name: want $lines line(s), got: $err"
    [ -z "$pattern" ] || printf '%s\n' "$err" | grep -q -- "$pattern" || fail "$name: no '$pattern' in: $err"
    echo "ok: $name${err:+: ${err:0:120}}"
}

# env_case NAME OPTIONS LINES PATTERN: THREADLENS_OPTIONS with LD_PRELOAD.
env_case() {
    n=$((n + 1))
    set +e
    THREADLENS_OPTIONS="db=$work/e$n.db:$2" LD_PRELOAD="$agent" "$prog" >"$work/out" 2>"$work/err"
    echo $? >"$work/rc"
    set -e
    check "env: $1" "$3" "$4"
}

# run_case NAME OPTION LINES PATTERN: one `threadlens run -o OPTION`.
run_case() {
    n=$((n + 1))
    set +e
    "$threadlens" run --db "$work/r$n.db" -o "$2" -- "$prog" >"$work/out" 2>"$work/err"
    echo $? >"$work/rc"
    set -e
    check "run -o: $1" "$3" "$4"
}

env_case "huge number" "interval=1e400" 1 "bad value '1e400' for option 'interval'"
env_case "negative count" "stacks=-1" 1 "option 'stacks'"
env_case "size overflow" "max_heap=99999999999999999999999g" 1 "option 'max_heap'"
env_case "trailing garbage" "interval=0.5garbage" 1 "option 'interval'"
env_case "empty value" "interval=" 1 "bad value '' for option 'interval'"
env_case "empty db" "db=" 1 "option 'db'"
env_case "lone equals" "=" 1 "not key=value"
env_case "value without key" "=5" 1 "not key=value"
env_case "lone separators" ":,: ,	:" 0 ""
env_case "lone quote" '"' 1 "not key=value"
env_case "unterminated quote" 'interval="0.5' 1 "option 'interval' has an unterminated quote"
env_case "unterminated quote eats the rest" "stacks='8:interval=2" 1 "option 'stacks'"
env_case "100 KB key" "$big=1" 1 "option too long"
env_case "100 KB value" "log=$big" 1 "option too long"
env_case "SIGSEGV as stack signal" "stack_signal=11" 1 "option 'stack_signal'"
env_case "SIGINT as stack signal" "stack_signal=2" 1 "option 'stack_signal'"
env_case "bad log level" "log=LOUD" 1 "option 'log'"
run_case "unknown key" "colour=blue" 1 "unknown option 'colour'"
run_case "huge number" "block_threshold=1e999" 1 "option 'block_threshold'"
run_case "100 KB value" "interval=$big" 1 "option too long"
run_case "unterminated quote" "trend_window='30" 1 "unterminated quote"
echo "all garbage option cases passed"
