#!/usr/bin/env bash
# launcher.sh - checks of `threadlens run` from the outside, one case per
# ctest test (label "launcher"). The agent is an empty stand-in library, so
# these test the launcher alone: environment, database path, exec, status.
#
# usage: launcher.sh CASE THREADLENS PROBE EMPTY_LIB [STATIC_PROBE]
# Exit 0 pass, 1 fail, 77 skip (with the reason on stdout).
set -u

CASE=$1
TL=$2
PROBE=$3
EMPTY=$4
PROBE_STATIC=${5:-}

WORK=$(realpath "$(mktemp -d "${TMPDIR:-/tmp}/tl-launcher.XXXXXX")")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
mkdir .t
export THREADLENS_AGENT=$EMPTY
AGENT=$(realpath "$EMPTY")
unset LD_PRELOAD THREADLENS_OPTIONS

fail() {
    echo "FAIL launcher.$CASE: $*" >&2
    exit 1
}

# run CMD ARGS...: run it, keep its exit status, stdout and stderr.
run() {
    "$@" >.t/out 2>.t/err
    RC=$?
    OUT=$(cat .t/out)
    ERR=$(cat .t/err)
    echo "+ $* -> $RC"
}

expect_rc() {
    [ "$RC" -eq "$1" ] || fail "exit status $RC, expected $1; stderr: $ERR"
}

expect_out() {
    grep -qxF -- "$1" <<<"$OUT" || fail "stdout lacks the line '$1'; stdout: $OUT"
}

expect_err() {
    grep -qF -- "$1" <<<"$ERR" || fail "stderr lacks '$1'; stderr: $ERR"
}

expect_no_err() {
    [ -z "$ERR" ] || fail "unexpected stderr: $ERR"
}

expect_no_out() {
    [ -z "$OUT" ] || fail "the program ran, but should not have; stdout: $OUT"
}

case_usage() {
    run "$TL"
    expect_rc 2
    expect_err "usage: threadlens run"
    run "$TL" bogus
    expect_rc 2
    expect_err "unknown command 'bogus'"
    run "$TL" run
    expect_rc 2
    expect_err "no program given"
    run "$TL" run --bogus "$PROBE" env
    expect_rc 2
    expect_err "unknown option '--bogus'"
    expect_no_out
    run "$TL" run --db
    expect_rc 2
    run "$TL" --help
    expect_rc 0
    grep -qF "usage: threadlens run" <<<"$OUT" || fail "--help: no usage on stdout"
    run "$TL" run --help
    expect_rc 0
    grep -qF -- "--db FILE" <<<"$OUT" || fail "run --help: no options on stdout"
}

case_version() {
    run "$TL" --version
    expect_rc 0
    grep -qE '^threadlens [0-9]+\.[0-9]+' <<<"$OUT" || fail "bad version line: $OUT"
}

# Install layout: PREFIX/bin/threadlens finds PREFIX/lib/libthreadlens.so.
case_agent_default() {
    mkdir -p p/bin p/lib
    cp "$TL" p/bin/threadlens
    cp "$EMPTY" p/lib/libthreadlens.so
    unset THREADLENS_AGENT
    run p/bin/threadlens run -- "$PROBE" env
    expect_rc 0
    expect_out "LD_PRELOAD=$WORK/p/lib/libthreadlens.so"
    expect_no_err
}

case_agent_missing() {
    mkdir -p q/bin
    cp "$TL" q/bin/threadlens
    unset THREADLENS_AGENT
    run q/bin/threadlens run -- "$PROBE" env
    expect_rc 2
    expect_err "threadlens: cannot find the agent library (looked in $WORK/q/bin/../lib/libthreadlens.so); set THREADLENS_AGENT"
    expect_no_out
    THREADLENS_AGENT=$WORK/nope.so run "$TL" run -- "$PROBE" env
    expect_rc 2
    expect_err "(looked in $WORK/nope.so)"
    expect_no_out
}

case_preload_env() {
    run "$TL" run -- "$PROBE" env
    expect_rc 0
    expect_out "LD_PRELOAD=$AGENT"
    expect_no_err
    LD_PRELOAD=$EMPTY run "$TL" run -- "$PROBE" env
    expect_rc 0
    expect_out "LD_PRELOAD=$AGENT:$EMPTY"
    # A relative THREADLENS_AGENT is made absolute (the program may chdir).
    cp "$EMPTY" rel.so
    THREADLENS_AGENT=rel.so run "$TL" run -- "$PROBE" env
    expect_rc 0
    expect_out "LD_PRELOAD=$WORK/rel.so"
}

case_options_env() {
    run "$TL" run --db x.db -o interval=2 -ostacks=8 -- "$PROBE" env
    expect_rc 0
    expect_out "THREADLENS_OPTIONS=db=$WORK/x.db:interval=2:stacks=8"
    THREADLENS_OPTIONS=log=debug run "$TL" run --db=x.db -o log=info -- "$PROBE" env
    expect_rc 0
    expect_out "THREADLENS_OPTIONS=log=debug:db=$WORK/x.db:log=info"
    # -o db=FILE is --db FILE: made absolute, not passed twice.
    run "$TL" run -o db=y.db -o k= -- "$PROBE" env
    expect_rc 0
    expect_out "THREADLENS_OPTIONS=db=$WORK/y.db:k="
}

case_options_bad() {
    run "$TL" run -o novalue -- "$PROBE" env
    expect_rc 2
    expect_err "bad option 'novalue'"
    expect_no_out
    run "$TL" run -o =v -- "$PROBE" env
    expect_rc 2
    expect_err "bad option '=v'"
    expect_no_out
    run "$TL" run -o log=a:b -- "$PROBE" env
    expect_rc 2
    expect_err "cannot contain ':'"
    expect_no_out
    run "$TL" run --db a:b.db -- "$PROBE" env
    expect_rc 2
    expect_err "contains ':'"
    expect_no_out
    run "$TL" run --db "" -- "$PROBE" env
    expect_rc 2
    expect_no_out
}

case_no_dashdash() {
    run "$TL" run "$PROBE" env a b
    expect_rc 0
    expect_out "argv[1]=env"
    expect_out "argv[2]=a"
    expect_out "argv[3]=b"
    # PROG is looked up in PATH, like execvp.
    PATH=$(dirname "$PROBE"):$PATH run "$TL" run "$(basename "$PROBE")" env
    expect_rc 0
    expect_out "argv[0]=$(basename "$PROBE")"
    expect_out "LD_PRELOAD=$AGENT"
}

# Options after PROG belong to PROG.
case_args_passthrough() {
    run "$TL" run -- "$PROBE" env --db z.db -o k=v --
    expect_rc 0
    expect_out "argv[0]=$PROBE"
    expect_out "argv[2]=--db"
    expect_out "argv[3]=z.db"
    expect_out "argv[4]=-o"
    expect_out "argv[5]=k=v"
    expect_out "argv[6]=--"
    grep -qF "z.db" <<<"$(grep '^THREADLENS_OPTIONS=' .t/out)" && fail "PROG's --db was taken"
    return 0
}

# Default name ./threadlens-PROG-PID.db, with PROG's own pid: no fork.
case_db_default() {
    run "$TL" run -- "$PROBE" env
    expect_rc 0
    pid=$(sed -n 's/^pid=//p' .t/out)
    [ -n "$pid" ] || fail "no pid printed"
    expect_out "THREADLENS_OPTIONS=db=$WORK/threadlens-$(basename "$PROBE")-$pid.db"
}

case_db_absolute() {
    mkdir sub
    run "$TL" run --db sub/../sub/r.db -- "$PROBE" env
    expect_rc 0
    expect_out "THREADLENS_OPTIONS=db=$WORK/sub/r.db"
    run "$TL" run --db ./r2.db -- "$PROBE" env
    expect_rc 0
    expect_out "THREADLENS_OPTIONS=db=$WORK/r2.db"
    run "$TL" run --db "$WORK/sub/r3.db" -- "$PROBE" env
    expect_rc 0
    expect_out "THREADLENS_OPTIONS=db=$WORK/sub/r3.db"
    run "$TL" run --db nodir/r.db -- "$PROBE" env
    expect_rc 2
    expect_err "cannot use database nodir/r.db"
    expect_no_out
    run "$TL" run --db sub/ -- "$PROBE" env
    expect_rc 2
    expect_no_out
}

case_db_old_removed() {
    for f in old.db old.db-wal old.db-shm other.db; do
        echo stale >"$f"
    done
    run "$TL" run --db old.db -- "$PROBE" exit 0
    expect_rc 0
    for f in old.db old.db-wal old.db-shm; do
        [ ! -e "$f" ] || fail "$f was not removed"
    done
    [ -e other.db ] || fail "other.db was removed"
}

case_exit_status() {
    for n in 0 1 3 42 255; do
        run "$TL" run -- "$PROBE" exit "$n"
        expect_rc "$n"
    done
}

# Killed by a signal: the shell sees the same status as for the bare program.
case_signal_status() {
    for sig in 15 9 10; do
        "$PROBE" kill "$sig" 2>/dev/null
        bare=$?
        run "$TL" run -- "$PROBE" kill "$sig"
        expect_rc "$bare"
        expect_rc $((128 + sig))
    done
}

case_not_found() {
    run "$TL" run -- no-such-program-tl
    expect_rc 127
    expect_err "threadlens: cannot run no-such-program-tl: No such file or directory"
    run "$TL" run -- ./missing
    expect_rc 127
    expect_err "threadlens: cannot run ./missing: "
}

case_not_executable() {
    echo "not a program" >plain
    chmod 644 plain
    run "$TL" run -- ./plain
    expect_rc 126
    expect_err "threadlens: cannot run ./plain: Permission denied"
    mkdir adir
    run "$TL" run -- ./adir
    expect_rc 126
    expect_err "threadlens: cannot run ./adir: "
}

case_static_binary() {
    if [ -z "$PROBE_STATIC" ]; then
        echo "skipped: no static libc (libc.a) to link a static test program"
        exit 77
    fi
    run "$TL" run --db s.db -- "$PROBE_STATIC" env x
    expect_rc 0
    expect_err "threadlens: $PROBE_STATIC is statically linked; the agent cannot be preloaded. Running it without threadlens."
    expect_out "LD_PRELOAD=(unset)"
    expect_out "argv[2]=x"
    # Found through PATH too; the warning names PROG as given.
    name=$(basename "$PROBE_STATIC")
    PATH=$(dirname "$PROBE_STATIC"):$PATH run "$TL" run -- "$name" exit 5
    expect_rc 5
    expect_err "threadlens: $name is statically linked"
}

declare -F "case_$CASE" >/dev/null || fail "no such case"
"case_$CASE"
echo "PASS launcher.$CASE"
