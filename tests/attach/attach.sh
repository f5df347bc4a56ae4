#!/usr/bin/env bash
# attach.sh - `threadlens attach PID` / `detach PID` against real running
# programs, one case per ctest test (label "attach"). Targets are started
# bare (no LD_PRELOAD); every case checks that the target's own output and
# exit status stay what they are without threadlens.
#
# usage: attach.sh CASE THREADLENS THREADLENS_TOP PROG_DIR FAKE_AGENT [STATIC_IDLE]
# Exit 0 pass, 1 fail, 77 skip (with the reason on stdout).
set -u

CASE=$1
TL=$2
TOP=$3
DIR=$4
FAKE=$5
IDLE_STATIC=${6:-}
IDLE=$DIR/tl-attach-idle
BUSY=$DIR/tl-attach-busy
TRACER=$DIR/tl-attach-tracer

WORK=$(realpath "$(mktemp -d "${TMPDIR:-/tmp}/tl-attach.XXXXXX")")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK" || exit 1
unset LD_PRELOAD THREADLENS_OPTIONS THREADLENS_AGENT

fail() {
    echo "FAIL attach.$CASE: $*" >&2
    exit 1
}

skip() {
    echo "SKIP attach.$CASE: $*"
    exit 77
}

# ptrace of a non-child needs ptrace_scope 0, or root for scopes 1 and 2.
scope=$(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0)
if [ "$scope" = 3 ] || { [ "$scope" != 0 ] && [ "$(id -u)" != 0 ]; }; then
    skip "kernel.yama.ptrace_scope is $scope: cannot ptrace a sibling process as uid $(id -u)"
fi

# run CMD ARGS...: run it, keep its exit status, stdout and stderr.
run() {
    "$@" >"$WORK/cmd.out" 2>"$WORK/cmd.err"
    RC=$?
    OUT=$(cat "$WORK/cmd.out")
    ERR=$(cat "$WORK/cmd.err")
    echo "+ $* -> $RC"
    [ -z "$OUT" ] || echo "  stdout: $OUT"
    [ -z "$ERR" ] || echo "  stderr: $ERR"
}

expect_rc() {
    [ "$RC" -eq "$1" ] || fail "exit status $RC, expected $1; stderr: $ERR"
}

expect_out() {
    [ "$OUT" = "$1" ] || fail "stdout is '$OUT', expected '$1'"
}

expect_err() {
    grep -qF -- "$1" <<<"$ERR" || fail "stderr lacks '$1'; stderr: $ERR"
}

# start NAME PROG READY_LINE: start PROG in the background (output in
# NAME.out), wait until it printed READY_LINE; sets PID.
start() {
    "$2" >"$WORK/$1.out" 2>"$WORK/$1.err" &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 100); do
        grep -qx "$3" "$WORK/$1.out" 2>/dev/null && return 0
        kill -0 "$PID" 2>/dev/null || fail "$2 exited before printing '$3'"
        sleep 0.1
    done
    fail "$2 never printed '$3'"
}

# finish NAME PID SIGNAL: send SIGNAL, wait (30 s at most); sets STATUS and
# TARGET_OUT.
finish() {
    kill -"$3" "$2" || fail "$1 is gone before SIG$3"
    for _ in $(seq 300); do
        kill -0 "$2" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$2" 2>/dev/null && fail "$1 still runs 30 s after SIG$3 (hung?)"
    wait "$2"
    STATUS=$?
    TARGET_OUT=$(cat "$WORK/$1.out")
}

# reference NAME PROG READY SIGNAL: output and status of a run without threadlens.
reference() {
    start "$1" "$2" "$3"
    [ "$4" = TERM ] && sleep 1
    finish "$1" "$PID" "$4"
    REF_OUT=$TARGET_OUT
    REF_STATUS=$STATUS
}

# same_as_reference: the target's output and status equal the bare run's.
same_as_reference() {
    [ "$STATUS" = "$REF_STATUS" ] || fail "target exit status $STATUS, $REF_STATUS without threadlens"
    [ "$TARGET_OUT" = "$REF_OUT" ] ||
        fail "target output differs from the run without threadlens: '$TARGET_OUT' vs '$REF_OUT'"
}

# A pid that no process has: a child that has been reaped.
dead_pid() {
    true &
    local p=$!
    wait "$p"
    echo "$p"
}

case_usage() {
    run "$TL" attach
    expect_rc 2
    expect_err "expected one process id"
    run "$TL" attach abc
    expect_rc 2
    expect_err "'abc' is not a process id"
    run "$TL" attach --bogus 1
    expect_rc 2
    expect_err "unknown option '--bogus'"
    run "$TL" detach -o a=1 1
    expect_rc 2
    run "$TL" attach -o nokey 1
    expect_rc 2
    expect_err "bad option 'nokey'"
    run "$TL" attach --help
    expect_rc 0
    grep -qF "usage: threadlens attach [--db FILE] [-o key=value ...] PID" <<<"$OUT" ||
        fail "attach --help lacks its usage line"
    run "$TL" --help
    expect_rc 0
    grep -qF "threadlens detach PID" <<<"$OUT" || fail "--help does not mention detach"
}

case_no_process() {
    local p
    p=$(dead_pid)
    for cmd in attach detach; do
        run "$TL" "$cmd" "$p"
        expect_rc 1
        expect_out ""
        [ "$ERR" = "threadlens: no process with pid $p" ] || fail "message: $ERR"
    done
}

case_not_a_process() {
    start busy "$BUSY" running
    local tid
    tid=$(ls "/proc/$PID/task" | grep -vx "$PID" | head -1)
    run "$TL" attach "$tid"
    expect_rc 1
    expect_err "threadlens: $tid is a thread of process $PID; give the process id $PID"
    finish busy "$PID" TERM
    [ "$STATUS" = 0 ] || fail "busy program status $STATUS"
}

case_traced() {
    reference ref "$IDLE" waiting USR1
    start idle "$IDLE" waiting
    local target=$PID
    "$TRACER" "$target" >"$WORK/tracer.out" 2>&1 &
    local tracer=$!
    PIDS+=("$tracer")
    for _ in $(seq 50); do grep -q tracing "$WORK/tracer.out" && break; sleep 0.1; done
    grep -q tracing "$WORK/tracer.out" || fail "the tracer did not seize: $(cat "$WORK/tracer.out")"
    run "$TL" attach "$target"
    expect_rc 1
    expect_out ""
    expect_err "threadlens: cannot attach to $target (tl-attach-idle): it is already traced by process $tracer (tl-attach-tracer); detach that debugger or tracer first"
    kill -KILL "$tracer"
    wait "$tracer" 2>/dev/null
    finish idle "$target" USR1
    same_as_reference
}

case_static_binary() {
    [ -n "$IDLE_STATIC" ] || skip "no static libc installed (libc6-dev), no static program to try"
    reference ref "$IDLE_STATIC" waiting USR1
    start idle "$IDLE_STATIC" waiting
    run "$TL" attach "$PID"
    expect_rc 1
    expect_out ""
    expect_err "threadlens: cannot attach to $PID (tl-attach-idle-static): it is statically linked, so the agent cannot be loaded into it"
    grep -q threadlens "/proc/$PID/maps" && fail "something was mapped into the target"
    finish idle "$PID" USR1
    same_as_reference
}

case_seccomp() {
    export THREADLENS_AGENT=$FAKE
    local prog=$DIR/tl-attach-idle-seccomp
    reference ref "$prog" waiting USR1
    start idle "$prog" waiting
    run "$TL" attach --db "$WORK/s.db" "$PID"
    expect_rc 1
    expect_out ""
    expect_err "threadlens: warning: $PID (tl-attach-idle-seccomp) runs under a seccomp filter, which may block the calls threadlens makes (mmap, mprotect, clone)"
    expect_err "threadlens: cannot attach to $PID (tl-attach-idle-seccomp): mprotect failed in the target: Operation not permitted (blocked by its seccomp filter; threadlens cannot attach to it, start it under \`threadlens run\` instead)"
    grep -q libthreadlens "/proc/$PID/maps" && fail "the agent is mapped"
    finish idle "$PID" USR1
    same_as_reference
}

case_detach_not_loaded() {
    reference ref "$IDLE" waiting USR1
    start idle "$IDLE" waiting
    run "$TL" detach "$PID"
    expect_rc 1
    expect_out ""
    [ "$ERR" = "threadlens: $PID (tl-attach-idle) has no threadlens agent loaded; nothing to detach" ] ||
        fail "message: $ERR"
    finish idle "$PID" USR1
    same_as_reference
}

# The fake agent's log of calls: one line per attach/detach.
fake_log() {
    cat "$WORK/$1.db.log" 2>/dev/null
}

case_fake_attach_detach() {
    export THREADLENS_AGENT=$FAKE
    reference ref "$IDLE" waiting USR1
    start idle "$IDLE" waiting
    local db=$WORK/f.db
    run "$TL" attach --db "$db" -o k=v "$PID"
    expect_rc 0
    expect_out "threadlens: attached to $PID (tl-attach-idle), recording to $db"
    [ "$(fake_log f)" = "attach db=$db:k=v" ] || fail "the agent got: $(fake_log f)"
    run "$TL" detach "$PID"
    expect_rc 0
    expect_out "threadlens: detached from $PID (tl-attach-idle); recording stopped, the agent stays loaded"
    run "$TL" attach --db "$db" "$PID"
    expect_rc 0
    [ "$(fake_log f | tail -2 | head -1)" = "detach -" ] || fail "detach did not reach the agent"
    [ "$(grep -c "libthreadlens_fake.so" "/proc/$PID/maps" | head -1)" -ge 1 ] ||
        fail "the agent is not mapped"
    [ "$(grep libthreadlens "/proc/$PID/maps" | awk '{print $6}' | sort -u | wc -l)" = 1 ] ||
        fail "the agent is mapped twice"
    finish idle "$PID" USR1
    same_as_reference
}

case_fake_already() {
    export THREADLENS_AGENT=$FAKE
    reference ref "$IDLE" waiting USR1
    start idle "$IDLE" waiting
    run "$TL" attach --db "$WORK/a.db" "$PID"
    expect_rc 0
    run "$TL" attach --db "$WORK/a.db" "$PID"
    expect_rc 1
    expect_out ""
    expect_err "threadlens: $PID (tl-attach-idle) is already attached and recording; nothing changed (run \`threadlens detach $PID\` first to start again)"
    finish idle "$PID" USR1
    same_as_reference
}

case_fake_agent_fails() {
    export THREADLENS_AGENT=$FAKE
    reference ref "$IDLE" waiting USR1
    start idle "$IDLE" waiting
    run "$TL" attach --db "$WORK/x.db" -o fail=1 "$PID"
    expect_rc 1
    expect_out ""
    expect_err "threadlens: the agent could not start recording in $PID (tl-attach-idle) (error -5); it printed why on that program's stderr"
    finish idle "$PID" USR1
    same_as_reference
}

case_fake_dlopen_fails() {
    echo "not a library" >"$WORK/libthreadlens_bogus.so"
    export THREADLENS_AGENT=$WORK/libthreadlens_bogus.so
    reference ref "$IDLE" waiting USR1
    start idle "$IDLE" waiting
    run "$TL" attach "$PID"
    expect_rc 1
    expect_out ""
    expect_err "threadlens: cannot attach to $PID (tl-attach-idle): loading $WORK/libthreadlens_bogus.so failed there: $WORK/libthreadlens_bogus.so:"
    grep -q libthreadlens "/proc/$PID/maps" && fail "the bogus agent is mapped"
    finish idle "$PID" USR1
    same_as_reference
}

# inversion PROG: attach to the idle program, make it invert, find the inversion.
inversion() {
    reference ref "$1" waiting USR1
    start idle "$1" waiting
    local db=$WORK/inv.db
    run "$TL" attach --db "$db" "$PID"
    expect_rc 0
    expect_out "threadlens: attached to $PID ($(basename "$1")), recording to $db"
    finish idle "$PID" USR1
    same_as_reference
    run "$TOP" --json "$db"
    [ "$RC" = 0 ] || [ "$RC" = 1 ] || fail "threadlens-top --json failed ($RC): $ERR"
    python3 -c '
import json, sys
report = json.load(open(sys.argv[1]))
kinds = [f["kind"] for f in report["findings"]]
if kinds != ["lock-order-inversion"]:
    sys.exit("expected exactly one lock-order-inversion, found %s" % kinds)
if any(p["attach_ns"] is None for p in report["processes"]):
    sys.exit("the process row does not say it was recorded since an attach")
' "$WORK/cmd.out" || fail "the inversion was not found as expected"
}

case_inversion() {
    inversion "$IDLE"
}

case_inversion_noplt() {
    objdump -d "$DIR/tl-attach-idle-noplt" | grep -q 'call  *\*.*<pthread_mutex_lock@' ||
        fail "the -fno-plt build does not call pthread_mutex_lock through its GOT"
    inversion "$DIR/tl-attach-idle-noplt"
}

case_inversion_relro() {
    readelf -d "$DIR/tl-attach-idle-relro" | grep -q BIND_NOW ||
        readelf -d "$DIR/tl-attach-idle-relro" | grep -q 'FLAGS.*NOW' ||
        fail "the full-RELRO build is not bound now"
    inversion "$DIR/tl-attach-idle-relro"
}

# cycles: attach and detach 20 times to busy threads; nothing else changes.
cycles() {
    reference ref "$BUSY" running TERM
    start busy "$BUSY" running
    local db=$WORK/cycles.db
    for i in $(seq 20); do
        run "$TL" attach --db "$db" "$PID"
        expect_rc 0
        run "$TL" detach "$PID"
        expect_rc 0
        echo "cycle $i done"
    done
    finish busy "$PID" TERM
    same_as_reference
}

case_cycles() {
    cycles
}

case_fake_cycles() {
    export THREADLENS_AGENT=$FAKE
    cycles
    [ "$(grep -c '^attach ' "$WORK/cycles.db.log")" = 20 ] || fail "the agent saw too few attaches"
    [ "$(grep -c '^detach ' "$WORK/cycles.db.log")" = 20 ] || fail "the agent saw too few detaches"
}

"case_$CASE"
echo "PASS attach.$CASE"
