#!/usr/bin/env bash
# db_faults.sh CASE AGENT THREADLENS TOP PROG - the database fails under the agent and
# the program never notices: same stdout, same exit status, and the agent says
# what happened in exactly one stderr line (then stops recording).
#
# PROG is tests/agent/busy_phases.c: 3 phases of locking, allocating threads,
# one stdin line between phases, exit status 7. Cases:
#   readonly_agent     the database's directory is not writable (LD_PRELOAD)
#   readonly_launcher  the same through `threadlens run --db`
#   disk_full          the file system fills up during the run (a 300 KiB tmpfs)
#   deleted            the database (and its -wal, -shm) is deleted after phase 0
#   replaced           another file is renamed over the database after phase 0
# readonly_* and disk_full need a tmpfs mount (root); without one they skip (77).
set -euo pipefail
case=$1 agent=$2 threadlens=$3 top=$4 prog=$5
work=$(mktemp -d)
mnt=""
cleanup() {
    exec 3>&- 2>/dev/null || true
    [ -z "$mnt" ] || umount "$mnt" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $case: $*"; exit 1; }
skip() { echo "SKIP: $case: $*"; exit 77; }

set +e
bare_out=$(printf '\n\n' | "$prog" 3 60); bare_rc=$?
set -e

# mount_tmpfs OPTIONS: a private tmpfs at $work/mnt, or skip.
mount_tmpfs() {
    mkdir -p "$work/mnt"
    [ "$(id -u)" = 0 ] || skip "needs root to mount a tmpfs"
    mount -t tmpfs -o "$1" tl-faults "$work/mnt" 2>/dev/null || skip "mount -t tmpfs not permitted here"
    mnt=$work/mnt
}

# agent_lines FILE: the agent's stderr lines, without the exit summary about findings.
agent_lines() {
    grep '^threadlens:' "$1" | grep -v ' finding' || true
}

# expect_one_line FILE PATTERN
expect_one_line() {
    local lines
    lines=$(agent_lines "$1")
    [ "$(printf '%s' "$lines" | grep -c .)" = 1 ] || fail "want one agent line, got: '$lines'"
    printf '%s\n' "$lines" | grep -q -- "$2" || fail "no '$2' in: $lines"
    echo "agent said: $lines"
}

expect_program_unharmed() {
    [ "$(cat "$work/out")" = "$bare_out" ] || fail "stdout changed: $(cat "$work/out")"
    [ "$(cat "$work/rc")" = "$bare_rc" ] || fail "exit status $(cat "$work/rc"), bare $bare_rc"
}

# run_with_damage DB DAMAGE_FUNCTION: runs PROG under the agent writing DB, calls
# DAMAGE_FUNCTION after phase 0, lets a few collector ticks pass, finishes.
run_with_damage() {
    local db=$1 damage=$2
    mkfifo "$work/in"
    ( set +e
      THREADLENS_OPTIONS="db=$db:interval=0.05" LD_PRELOAD="$agent" "$prog" 3 60 \
          <"$work/in" >"$work/out" 2>"$work/err"
      echo $? >"$work/rc" ) &
    local runner=$!
    exec 3>"$work/in"
    for _ in $(seq 1 600); do
        grep -q '^phase 0' "$work/out" 2>/dev/null && break
        sleep 0.05
    done
    grep -q '^phase 0' "$work/out" || fail "phase 0 never ended"
    sleep 0.3 # a few ticks written before the damage
    "$damage" "$db"
    sleep 0.5 # a few ticks after it: the agent notices at its next tick
    echo >&3
    sleep 0.3
    echo >&3
    exec 3>&-
    wait "$runner"
}

delete_db() { rm -f "$1" "$1-wal" "$1-shm"; }

replace_db() {
    printf 'not the database\n' >"$work/other"
    mv "$work/other" "$1"
}

case $case in
readonly_agent)
    mount_tmpfs ro,size=64k
    set +e
    THREADLENS_OPTIONS="db=$mnt/run.db" LD_PRELOAD="$agent" "$prog" 3 60 \
        < <(printf '\n\n') >"$work/out" 2>"$work/err"
    echo $? >"$work/rc"
    set -e
    expect_program_unharmed
    expect_one_line "$work/err" "cannot record to $mnt/run.db"
    ;;
readonly_launcher)
    mount_tmpfs ro,size=64k
    set +e
    "$threadlens" run --db "$mnt/run.db" -- "$prog" 3 60 < <(printf '\n\n') \
        >"$work/out" 2>"$work/err"
    echo $? >"$work/rc"
    set -e
    expect_program_unharmed
    expect_one_line "$work/err" "$mnt/run.db"
    ;;
disk_full)
    mount_tmpfs size=300k
    set +e
    # Every allocation sampled and a tick every 20 ms fill 300 KiB within the run.
    THREADLENS_OPTIONS="db=$mnt/run.db:interval=0.02:sample_bytes=1" LD_PRELOAD="$agent" \
        "$prog" 3 600 < <(printf '\n\n') >"$work/out" 2>"$work/err"
    echo $? >"$work/rc"
    set -e
    bare_out=$(printf '\n\n' | "$prog" 3 600 || true)
    expect_program_unharmed
    expect_one_line "$work/err" "stopped recording: database $mnt/run.db failed (.*full"
    # What was committed before the disk filled is intact and readable.
    [ "$(sqlite3 "file:$mnt/run.db?mode=ro" 'PRAGMA integrity_check')" = ok ] ||
        fail "integrity_check failed"
    set +e
    "$top" --json "$mnt/run.db" >"$work/json"; top_rc=$?
    set -e
    [ "$top_rc" = 0 ] || [ "$top_rc" = 1 ] || fail "threadlens-top --json exit status $top_rc"
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/json" ||
        fail "invalid JSON"
    ;;
deleted)
    run_with_damage "$work/run.db" delete_db
    expect_program_unharmed
    expect_one_line "$work/err" "database $work/run.db was deleted"
    [ ! -e "$work/run.db" ] || fail "the agent made a new $work/run.db"
    ;;
replaced)
    run_with_damage "$work/run.db" replace_db
    expect_program_unharmed
    expect_one_line "$work/err" "database $work/run.db was replaced"
    [ "$(cat "$work/run.db")" = "not the database" ] || fail "the replacement file was written"
    ;;
*)
    echo "db_faults.sh: unknown case $case" >&2
    exit 2
    ;;
esac
echo "ok: $case"
