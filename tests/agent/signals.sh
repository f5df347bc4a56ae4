#!/usr/bin/env bash
# signals.sh THREADLENS PROG DEADLOCK_PROG - a process killed by a signal keeps what the
# agent saw and dies of that signal as it would bare; on_deadlock=abort aborts after writing.
set -uo pipefail
set -m # job control: background jobs keep SIGINT at its default (else bash ignores it)
threadlens=$1 prog=$2 deadlock=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
query() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print("|".join(str(r) for r in c.execute(sys.argv[2]).fetchone()))' "$@"; }

# wait_ready OUT PID: until the program printed "ready" (10 s at most).
wait_ready() {
    for _ in $(seq 100); do grep -q ready "$1" 2>/dev/null && return 0; kill -0 "$2" 2>/dev/null || return 1; sleep 0.1; done
    return 1
}

for sig in TERM INT HUP; do
    "$prog" > "$work/bare.out" & pid=$!
    wait_ready "$work/bare.out" $pid || fail "bare program never got ready"
    kill -$sig $pid; wait $pid; bare_rc=$?

    db="$work/$sig.db"
    # interval=60: no tick happens before the signal, so only the signal flush can write it.
    "$threadlens" run --db "$db" -o interval=60 -- "$prog" > "$work/agent.out" & pid=$!
    wait_ready "$work/agent.out" $pid || fail "program under the agent never got ready"
    kill -$sig $pid; wait $pid; rc=$?
    [ "$rc" = "$bare_rc" ] || fail "SIG$sig: status $rc under the agent, $bare_rc bare"
    [ "$(query "$db" "select count(*) from finding where kind='lock-order-inversion'")" = 1 ] ||
        fail "SIG$sig: the inversion was not flushed"
    [ "$(query "$db" "select end_reason from process")" = signal ] || fail "SIG$sig: end_reason"
    [ "$(query "$db" "pragma integrity_check")" = ok ] || fail "SIG$sig: integrity"
    echo "ok: SIG$sig flushed, status $rc as bare"
done

db="$work/abort.db"
timeout 20 "$threadlens" run --db "$db" -o interval=0.2 -o on_deadlock=abort -- "$deadlock" \
    > /dev/null 2> "$work/abort.err"
rc=$?
[ "$rc" = 134 ] || fail "on_deadlock=abort: status $rc, expected 134 (SIGABRT)"
[ "$(query "$db" "select count(*) from finding where kind='deadlock'")" = 1 ] ||
    fail "on_deadlock=abort: the deadlock was not written before the abort"
grep -q "on_deadlock=abort" "$work/abort.err" || fail "on_deadlock=abort: no stderr line"
echo "ok: on_deadlock=abort wrote the deadlock and aborted"
