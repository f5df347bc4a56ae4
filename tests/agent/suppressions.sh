#!/usr/bin/env bash
# suppressions.sh THREADLENS TOP ABBA LEAKY - suppressed findings stay in the database, marked,
# counted and never fail the exit status, from the agent's suppressions= option or the
# viewer's --suppressions; --show-suppressed lists them; a bad file is one line, no harm.
set -uo pipefail
threadlens=$1 top=$2 abba=$3 leaky=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
json() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

cat > "$work/supp" <<'RULES'
# known inversion in the demo threads
lock-order-inversion:thread_*
leak:lose_buffers   # LSan's spelling of memory-leak
RULES

"$threadlens" run --db "$work/a.db" -o suppressions="$work/supp" -- "$abba" > /dev/null 2> "$work/a.err"
grep -q "0 findings, 0 errors (1 suppressed)" "$work/a.err" || fail "exit line: $(cat "$work/a.err")"
"$top" --json "$work/a.db" > "$work/a.json"; rc=$?
[ "$rc" = 0 ] || fail "a suppressed error still fails the exit status ($rc)"
[ "$(json 'len(d["findings"]), d["summary"]["suppressed"]' < "$work/a.json")" = "(0, 1)" ] ||
    fail "suppressed finding listed or not counted: $(cat "$work/a.json")"
"$top" --json --show-suppressed "$work/a.db" > "$work/b.json"
[ "$(json '[(f["kind"], f["suppressed"]) for f in d["findings"]]' < "$work/b.json")" = \
  "[('lock-order-inversion', True)]" ] || fail "--show-suppressed: $(cat "$work/b.json")"
"$top" --report "$work/a.db" | grep -q "no findings; 1 suppressed" || fail "report closing line"

"$threadlens" run --db "$work/c.db" -- "$abba" > /dev/null 2>&1
"$top" --report "$work/c.db" > /dev/null; [ $? = 1 ] || fail "unsuppressed error must fail"
"$top" --report --suppressions "$work/supp" "$work/c.db" > /dev/null || fail "viewer-side rules"

"$threadlens" run --db "$work/d.db" -o sample_bytes=1 -o suppressions="$work/supp" -- "$leaky" \
    > /dev/null 2>&1
[ "$(json 'd["summary"]["suppressed"], len(d["findings"])' < <("$top" --json "$work/d.db"))" = "(1, 0)" ] ||
    fail "leak: rule did not suppress the memory-leak"

echo "nonsense" > "$work/bad"
"$threadlens" run --db "$work/e.db" -o suppressions="$work/bad" -- "$abba" > "$work/e.out" 2> "$work/e.err"
[ $? = 0 ] || fail "a bad suppressions file changed the exit status"
[ "$(grep -c "suppressions file" "$work/e.err")" = 1 ] || fail "bad file: $(cat "$work/e.err")"
"$top" --report --suppressions "$work/bad" "$work/e.db" > /dev/null 2>&1; [ $? = 2 ] ||
    fail "viewer: a bad suppressions file must be a usage error (2)"
echo "ok: suppressions"
