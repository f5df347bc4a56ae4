#!/usr/bin/env bash
# exitcode.sh THREADLENS BUGGY CLEAN - exitcode=N replaces the status only when error findings
# exist, after the program's own output is flushed; print_summary=0 silences the exit line.
set -uo pipefail
threadlens=$1 buggy=$2 clean=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

bare=$("$buggy")
out=$("$threadlens" run --db "$work/a.db" -o exitcode=66 -- "$buggy" 2> "$work/a.err"); rc=$?
[ "$rc" = 66 ] || fail "buggy program: status $rc, expected 66"
[ "$out" = "$bare" ] || fail "buggy program: stdout '$out' (piped), bare '$bare'"
grep -q "^threadlens: 1 finding, 1 error" "$work/a.err" || fail "no summary line: $(cat "$work/a.err")"

"$threadlens" run --db "$work/b.db" -o exitcode=66 -- "$clean" > /dev/null 2>&1; rc=$?
[ "$rc" = 0 ] || fail "clean program: status $rc, expected 0"

"$threadlens" run --db "$work/c.db" -o print_summary=0 -- "$buggy" > /dev/null 2> "$work/c.err"
! grep -q "^threadlens:" "$work/c.err" || fail "print_summary=0 still printed: $(cat "$work/c.err")"
echo "ok: exitcode and print_summary"
