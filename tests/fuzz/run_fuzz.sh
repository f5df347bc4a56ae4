#!/usr/bin/env bash
# run_fuzz.sh CLANG SRC OUT HARNESS SECONDS [FIXTURE [VIEWER_SOURCES [COMMON_SOURCES]]]
# Builds one libFuzzer harness of tests/fuzz with clang (ASan + UBSan) and runs
# it for SECONDS over a copy of its seed corpus, tests/fuzz/corpus/HARNESS
# (every seed, including the kept crash reproducers, runs first).
# For fuzz_db, FIXTURE (the viewer tests' tl_viewer_fixture) adds databases of
# the current schema as seeds, shrunk to 512-byte pages; for fuzz_db_sql it
# writes the template database the input SQL edits. VIEWER_SOURCES and
# COMMON_SOURCES are the source lists of tl_viewer and tl_common
# (':'-separated, relative to viewer/ and common/), so the harnesses link what
# threadlens-top does. Exits 77 (skip) when clang cannot build a fuzzer here,
# 0 when nothing crashed, 1 otherwise (the crashing input is kept in OUT).
set -euo pipefail
clang=$1 src=$2 out=$3 harness=$4 seconds=$5 fixture=${6:-} viewer_sources=${7:-} common_sources=${8:-suppress.c}

mkdir -p "$out"
probe="$out/probe.c"
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$probe"
if ! "$clang" -fsanitize=fuzzer "$probe" -o "$out/probe" 2>/dev/null; then
    echo "SKIP: $clang cannot build a libFuzzer binary (install libclang-rt-dev)"
    exit 77
fi

flags=(-g -O1 -std=gnu17 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=all -I"$src/agent" -I"$src/common" -I"$src/viewer")
case $harness in
fuzz_db | fuzz_db_sql)
    sources=()
    IFS=: read -r -a names <<<"$viewer_sources"
    for f in "${names[@]}"; do
        case $f in
        /*) sources+=("$f") ;;
        *) sources+=("$src/viewer/$f") ;;
        esac
    done
    sources+=("$src/tests/fuzz/viewer_load.c")
    libs=($(pkg-config --libs sqlite3 ncursesw) -lm)
    ;;
fuzz_options)
    sources=("$src/agent/options.c" "$src/agent/log.c")
    libs=(-lm)
    ;;
*)
    echo "run_fuzz.sh: unknown harness $harness" >&2
    exit 2
    ;;
esac
IFS=: read -r -a names <<<"$common_sources"
for f in "${names[@]}"; do
    case $f in
    /*) sources+=("$f") ;;
    *) sources+=("$src/common/$f") ;;
    esac
done
"$clang" "${flags[@]}" "$src/tests/fuzz/$harness.c" "${sources[@]}" \
    "${libs[@]}" -o "$out/$harness"

if [ "$harness" = fuzz_db_sql ]; then
    export TL_FUZZ_TEMPLATE="$out/template.db"
    "$fixture" abba "$TL_FUZZ_TEMPLATE" || { echo "FAIL: cannot make the template database"; exit 1; }
fi

work="$out/$harness.corpus"
rm -rf "$work" && mkdir -p "$work"
cp "$src/tests/fuzz/corpus/$harness/"* "$work/" 2>/dev/null || true
if [ -n "$fixture" ] && command -v sqlite3 >/dev/null; then
    for scenario in clean abba deadlock blocked leak; do
        "$fixture" "$scenario" "$work/seed-$scenario.db" >/dev/null 2>&1 || continue
        sqlite3 "$work/seed-$scenario.db" 'PRAGMA journal_mode=DELETE; PRAGMA page_size=512; VACUUM;' \
            >/dev/null 2>&1 || rm -f "$work/seed-$scenario.db"
    done
fi
dict=()
[ -f "$src/tests/fuzz/$harness.dict" ] && dict=(-dict="$src/tests/fuzz/$harness.dict")
cd "$out"
if ! ASAN_OPTIONS=detect_leaks=1 "./$harness" "${dict[@]}" -max_total_time="$seconds" \
        -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$out/$harness-" "$work" 2>"$out/$harness.log"; then
    tail -n 60 "$out/$harness.log"
    echo "FAIL: $harness crashed; reproducer: $(ls "$out/$harness-"* 2>/dev/null | head -n 1)"
    exit 1
fi
grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$out/$harness.log" || true
echo "ok: $harness ran ${seconds}s without a crash"
