#!/usr/bin/env bash
# symbolize.sh THREADLENS TOP PROG PROG_NODEBUG SOURCE - --report and --json name the source
# line of each frame from the module's debug info (or a separate file found by
# .gnu_debuglink), and fall back to function and module+offset without it. The expected
# line is the one marked "tl-marker: second lock" in SOURCE.
set -uo pipefail
threadlens=$1 top=$2 prog=$3 nodebug=$4 src=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

line=$(grep -n 'tl-marker: second lock' "$src" | cut -d: -f1)
[ -n "$line" ] || fail "no marker in $src"
file=$(basename "$src")

# $1 program, $2 database: records the inversion.
record() {
    "$threadlens" run --db "$work/$2" -- "$1" abba 0 > /dev/null 2> "$work/$2.err" ||
        [ $? = 3 ] || fail "$1: $(cat "$work/$2.err")"
}

record "$prog" a.db
"$top" --report "$work/a.db" > "$work/a.txt"; rc=$?
[ "$rc" = 1 ] || fail "--report exit $rc, expected 1 (an error finding)"
grep -Eq "^SUMMARY: threadlens: lock-order-inversion /.*/$file:$line in in_order$" \
    "$work/a.txt" || fail "SUMMARY without $file:$line: $(cat "$work/a.txt")"
grep -Eq "^    #0 in_order /.*/$file:$line \\($(basename "$prog")\\+0x[0-9a-f]+\\)$" \
    "$work/a.txt" || fail "frame without $file:$line: $(cat "$work/a.txt")"
grep -q "^WARNING: threadlens: lock-order-inversion (pid=[0-9]*)$" "$work/a.txt" ||
    fail "no WARNING line: $(cat "$work/a.txt")"
"$top" --json "$work/a.db" > "$work/a.json"
python3 - "$work/a.json" "$file" "$line" <<'PY' || fail "JSON frames: $(cat "$work/a.json")"
import json, sys
doc, name, line = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3])
stacks = doc["findings"][0]["stacks"]
top = {(s["role"], s["frames"][0]["file"].rsplit("/", 1)[-1], s["frames"][0]["line"])
       for s in stacks}
# held: the first lock, one line above the marked second one
assert top == {("acquired", name, line), ("held", name, line - 1)}, top
PY

record "$nodebug" b.db
"$top" --report "$work/b.db" > "$work/b.txt"
grep -q "^SUMMARY: threadlens: lock-order-inversion in in_order$" "$work/b.txt" ||
    fail "no-debug SUMMARY: $(cat "$work/b.txt")"
grep -Eq "^    #0 in_order $(basename "$nodebug")\\+0x[0-9a-f]+$" "$work/b.txt" ||
    fail "no-debug frame: $(cat "$work/b.txt")"
"$top" --json "$work/b.db" > "$work/b.json" # exits 1: an error finding
python3 - "$work/b.json" <<'PY' || fail "no-debug JSON has file/line: $(cat "$work/b.json")"

import json, sys
frames = [fr for s in json.load(open(sys.argv[1]))["findings"][0]["stacks"]
          for fr in s["frames"]]
assert frames and frames[0]["module"].endswith("nodebug"), frames
assert frames[0]["function"] == "in_order", frames
assert not any("file" in fr or "line" in fr for fr in frames if "nodebug" in (fr["module"] or ""))
PY

if command -v objcopy > /dev/null; then
    cp "$prog" "$work/split"
    (cd "$work" && objcopy --only-keep-debug split split.debug &&
        objcopy --strip-debug --add-gnu-debuglink=split.debug split) || fail "objcopy"
    ! readelf -S "$work/split" | grep -q debug_line || fail "split still has .debug_line"
    record "$work/split" c.db
    "$top" --report "$work/c.db" > "$work/c.txt"
    grep -Eq "^SUMMARY: threadlens: lock-order-inversion /.*/$file:$line in in_order$" \
        "$work/c.txt" || fail "debuglink SUMMARY: $(cat "$work/c.txt")"
else
    echo "skip: debuglink case (no objcopy)"
fi
echo "ok: symbolize"
