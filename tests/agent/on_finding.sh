#!/usr/bin/env bash
# on_finding.sh THREADLENS ABBA PROG - on_finding=CMD gets each new finding as one JSON line
# on stdin, runs without the agent, and neither a slow nor a failing command changes the
# program's output or status. Suppressed findings run no command.
set -uo pipefail
threadlens=$1 abba=$2 prog=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat > "$work/hook.sh" <<HOOK
#!/bin/sh
cat >> "$work/findings.jsonl"
env > "$work/env.txt"
HOOK
printf '#!/bin/sh\nsleep 30\n' > "$work/slow.sh"
printf '#!/bin/sh\ncat > /dev/null\nexit 1\n' > "$work/failing.sh"
chmod +x "$work"/*.sh

bare=$("$abba"); bare_rc=$?

out=$(timeout 60 "$threadlens" run --db "$work/a.db" -o "on_finding=$work/hook.sh" \
      -- "$abba" 2> "$work/a.err"); rc=$?
[ "$rc" = "$bare_rc" ] || fail "hook: status $rc, bare $bare_rc"
[ "$out" = "$bare" ] || fail "hook: stdout '$out', bare '$bare'"
for _ in $(seq 50); do [ -s "$work/env.txt" ] && break; sleep 0.1; done
python3 - "$work/findings.jsonl" "$work/a.db" <<'PY' ||
    fail "findings.jsonl: $(cat "$work/findings.jsonl" 2>&1)"
import json, sqlite3, sys
lines = open(sys.argv[1]).read().splitlines()
rows = sqlite3.connect(sys.argv[2]).execute("SELECT kind, severity FROM finding").fetchall()
assert len(lines) == len(rows) == 1, (lines, rows)
f = json.loads(lines[0])
assert (f["kind"], f["severity"]) == rows[0] == ("lock-order-inversion", "error"), f
assert "lock_a" in f["summary"] and isinstance(f["pid"], int) and f["time_ns"] > 0, f
functions = {fr["function"] for s in f["stacks"] for fr in s["frames"]}
assert {"thread_a", "thread_b"} <= functions, functions
for s in f["stacks"]:
    for fr in s["frames"]:
        assert set(fr) == {"function", "module", "offset"} and fr["offset"].startswith("0x"), fr
PY
! grep -q '^THREADLENS_OPTIONS=' "$work/env.txt" || fail "the command saw THREADLENS_OPTIONS"
! grep -q '^LD_PRELOAD=.*libthreadlens' "$work/env.txt" || fail "the command ran under the agent"

# A command that never ends does not hold the program (timeout 20 would say 124).
out=$(timeout 20 "$threadlens" run --db "$work/b.db" -o "on_finding=$work/slow.sh" \
      -- "$abba" 2> "$work/b.err"); rc=$?
[ "$rc" = "$bare_rc" ] || fail "slow command: status $rc; stderr: $(cat "$work/b.err")"
[ "$out" = "$bare" ] || fail "slow command: stdout '$out'"

for cmd in "$work/failing.sh" /nonexistent/command; do
    out=$(timeout 20 "$threadlens" run --db "$work/c.db" -o "on_finding=$cmd" -- "$abba" \
          2> "$work/c.err"); rc=$?
    [ "$rc" = "$bare_rc" ] || fail "$cmd: status $rc; stderr: $(cat "$work/c.err")"
    [ "$out" = "$bare" ] || fail "$cmd: stdout '$out'"
done

# A failing command does not stop the halt either: the program still ends with 66.
out=$(timeout 60 "$threadlens" run --db "$work/d.db" -o "on_finding=$work/failing.sh" \
      -o halt_on_error=1 -o interval=0.1 -- "$prog" abba 30 2> /dev/null); rc=$?
[ "$rc" = 66 ] || fail "failing command with halt_on_error: status $rc"

# Suppressed: no command runs (the agent waits for running commands at exit).
rm -f "$work/findings.jsonl"
echo "lock-order-inversion:thread_a" > "$work/supp.txt"
"$threadlens" run --db "$work/e.db" -o "suppressions=$work/supp.txt" \
    -o "on_finding=$work/hook.sh" -- "$abba" > /dev/null 2>&1
[ ! -e "$work/findings.jsonl" ] || fail "a suppressed finding ran the command"
echo "ok: on_finding"
