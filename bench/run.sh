#!/usr/bin/env bash
# run.sh - overhead of threadlens and its peers, one table.
#
# Builds a Release tree, then times each benchmark bare and under each tool,
# alternating (bare, tool, bare, tool, ...) so drift in machine load hits both
# sides alike, and prints the medians and their ratio:
#   tl-bench-lock, tl-bench-alloc, tl-bench-striped   microbenchmarks (bench/*.c);
#                          a second row gives the ns/iter each printed for its
#                          timed loop, the per-call cost without a run's fixed cost
#   pigz -p 2, zstd -T2, xz -T2     real threaded programs on a deterministic input
#   memcached -t 4         a server under a client load (tl-bench-memcached-load,
#                          4 connections of set+get pairs): the client's time
#                          for the load, so the ratio is the inverse of throughput;
#                          "cold" times the server's first sight of the keys (the
#                          agent learns thousands of lock edges), "warm" a second pass.
#                          The server runs on the first half of the CPUs and the
#                          client on the other half, as a client on another machine
#                          would: the server's throughput on its own CPUs. The
#                          "shared" rows let both float over every CPU, where the
#                          client's CPU time and the server's compete
#   true                   the fixed cost of a run (launch, database, exit report)
#   sh: 50 x true          a shell loop of 50 fork+exec'd commands (per-process cost)
# Tools: threadlens (`threadlens run`); ThreadSanitizer (the microbenchmarks
# rebuilt with -fsanitize=thread); Helgrind and heaptrack where installed.
# Helgrind is ~100x slower, so it runs the microbenchmarks with ITER/100
# iterations against a bare run of the same size (the ratio is still
# like for like); its rows say "iters/100". Timings only, never a pass/fail.
#
# usage: bash bench/run.sh      environment: ROUNDS (default 5), BUILD (default
#        build-release), LOCK_ITERS (20000000), ALLOC_ITERS (10000000),
#        STRIPED_ITERS (10000000),
#        MEMCACHED_OPS (set+get pairs per connection, 20000), ONLY (regex on
#        "benchmark tool" to run a subset), SKIP_REAL=1 (microbenchmarks only)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

rounds=${ROUNDS:-5}
build=${BUILD:-build-release}
# Long enough (about 0.5 s bare) that the fixed cost of a run, its own row, does not hide the per-call cost.
lock_iters=${LOCK_ITERS:-20000000}
alloc_iters=${ALLOC_ITERS:-10000000}
striped_iters=${STRIPED_ITERS:-10000000}
# About 2 s of load: a server's throughput is what it sustains. At 5000 pairs
# (0.5 s) the collector's one-off write of what the agent learned first (13k
# lock-order edges, about 80 ms of CPU on a 2-core machine) fell inside the
# timed window, and the ratios moved by 10% from run to run.
memcached_ops=${MEMCACHED_OPS:-20000}
only=${ONLY:-.}

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTL_BUILD_TESTS=OFF > /dev/null
cmake --build "$build" -j2 > /dev/null
bin=$build/bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tsan_dir=$build/bench-tsan
mkdir -p "$tsan_dir"
tsan=1
for name in lock alloc striped; do
    cc -O2 -g -fsanitize=thread -pthread "bench/bench_$name.c" -o "$tsan_dir/tl-bench-$name" 2> /dev/null ||
        tsan=0
done

# Deterministic input for the compressors: 64 MiB of xorshift text, fairly compressible.
input=$work/input.txt
python3 - "$input" <<'PY'
import sys
x, words, out = 88172645463325252, [b"lock", b"thread", b"mutex", b"heap", b"wait", b"edge"], []
for _ in range(64 * 1024 * 1024 // 48):
    x ^= (x << 13) & 0xFFFFFFFFFFFFFFFF; x ^= x >> 7; x ^= (x << 17) & 0xFFFFFFFFFFFFFFFF
    out.append(b"%s %s %08x %d\n" % (words[x % 6], words[(x >> 8) % 6], x & 0xFFFFFFFF, x % 1000))
open(sys.argv[1], "wb").write(b"".join(out))
PY

# Milliseconds one run of "$@" takes, or those a load reported in
# $work/load.ms; fails when the command fails. Its output is discarded, or kept
# in $work/last.out when keep_out=1 (a microbenchmark's one line: never a
# compressor's output, whose writing would be timed too).
keep_out=0
time_ms() {
    rm -f "$work/load.ms" "$work/last.out"
    local out=/dev/null
    if [ $keep_out = 1 ]; then out=$work/last.out; fi
    local t0=$EPOCHREALTIME
    "$@" > "$out" 2> "$work/last.err" || { echo "failed: $*: $(tail -3 "$work/last.err")" >&2; return 1; }
    local t1=$EPOCHREALTIME
    if [ -s "$work/load.ms" ]; then cat "$work/load.ms"; return; fi
    python3 -c "print(round(($t1 - $t0) * 1000, 1))"
}

# summary BARE... -- TOOL...: the two medians, their ratio, and the median and quartiles of
# the rounds' own ratios (tool over the bare run just before it): how far the
# machine's drift moves a ratio, next to the ratio itself.
summary() {
    python3 - "$@" <<'PY'
import statistics, sys
args = sys.argv[1:]
cut = args.index("--")
bare, tool = [float(a) for a in args[:cut]], [float(a) for a in args[cut + 1:]]
pairs = sorted(t / b for b, t in zip(bare, tool))
q = statistics.quantiles(pairs, n=4) if len(pairs) > 1 else [pairs[0]] * 3
bm, tm = statistics.median(bare), statistics.median(tool)
print(f"{bm:.1f} {tm:.1f} {tm / bm:.2f} {q[1]:.2f}({q[0]:.2f}-{q[2]:.2f})")
PY
}

printf '%-22s %-12s %6s %12s %12s %8s %17s\n' benchmark tool rounds "bare ms" "tool ms" ratio "rounds' ratios"

# The ns/iter a microbenchmark printed for its timed loop in its last run, if it printed one.
per_iter() {
    if [ -f "$work/last.out" ]; then sed -n 's|.* \([0-9.]*\) ns/iter$|\1|p' "$work/last.out"; fi
}

# row NAME TOOL NOTE -- BARE... ::: TOOL...   alternates the two commands ROUNDS times.
# A microbenchmark's row is followed by one of the ns/iter it printed: its loop
# alone, without the fixed cost of a run (start, database, exit).
row() {
    local name=$1 tool=$2 note=$3
    shift 4
    grep -Eq "$only" <<< "$name $tool" || return 0
    local bare=() under=() seen=0
    for a in "$@"; do
        if [ "$a" = ":::" ]; then seen=1; elif [ $seen = 0 ]; then bare+=("$a"); else under+=("$a"); fi
    done
    local b=() t=() bi=() ti=() ms
    keep_out=0
    if [[ $name == tl-bench-* ]]; then keep_out=1; fi
    for ((r = 0; r < rounds; r++)); do
        ms=$(time_ms "${bare[@]}") || return 0
        b+=("$ms") bi+=($(per_iter))
        ms=$(time_ms "${under[@]}") || { printf '%-22s %-12s failed\n' "$name" "$tool"; return 0; }
        t+=("$ms") ti+=($(per_iter))
        rm -f "$work"/run.db* "$work"/heaptrack.*
    done
    local bm tm ratio paired
    read -r bm tm ratio paired < <(summary "${b[@]}" -- "${t[@]}")
    printf '%-22s %-12s %6d %12.1f %12.1f %7.2fx %17s %s\n' "$name" "$tool" "$rounds" "$bm" "$tm" \
        "$ratio" "$paired" "$note"
    [ ${#bi[@]} = "$rounds" ] && [ ${#ti[@]} = "$rounds" ] || return 0
    read -r bm tm ratio paired < <(summary "${bi[@]}" -- "${ti[@]}")
    printf '%-22s %-12s %6d %9.1f ns %9.1f ns %7.2fx %17s %s\n' "  its loop, ns/iter" "$tool" \
        "$rounds" "$bm" "$tm" "$ratio" "$paired" "$note"
}

tl_run=("$bin/threadlens" run --db "$work/run.db" --)
tl() { "${tl_run[@]}" "$@"; }

# memcached_load bare|tl cold|warm pinned|shared: starts memcached on a free port
# (under threadlens for tl), runs the client load against it, stops it, and
# takes as its own duration the client's milliseconds (time_ms reads it from
# $work/load.ms). pinned: the server on the first half of the CPUs, the client
# on the rest (taskset; threadlens and its collector inherit the server's).
memcached_load() {
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    local server=(memcached -t 4 -U 0 -l 127.0.0.1 -p "$port") client=()
    [ "$(id -u)" = 0 ] && server+=(-u root) # memcached refuses root without it
    [ "$1" = tl ] && server=("${tl_run[@]}" "${server[@]}")
    if [ "$3" = pinned ]; then
        server=(taskset -c "$server_cpus" "${server[@]}")
        client=(taskset -c "$client_cpus")
    fi
    "${server[@]}" & # binaries, not the tl function: $! must be the server (or taskset, which execs it)
    local pid=$! rc=0
    "${client[@]}" "$bin/tl-bench-memcached-load" "$port" 4 "$memcached_ops" \
        "$([ "$2" = warm ] && echo 1 || echo 0)" > "$work/load.ms" || rc=1
    kill -TERM $pid 2> /dev/null
    wait $pid || true # memcached exits non-zero on SIGTERM; the load's checks decide
    return $rc
}
true_bin=$(type -P true) # an exec on both sides: the bare side must not be bash's builtin
row "true (fixed cost)" threadlens "" -- "$true_bin" ::: tl "$true_bin"
# A script's or a build's shape: a shell forking and exec'ing short commands,
# every one of them a process the agent starts in, records and closes.
loop="for i in \$(seq 50); do $true_bin; done"
row "sh: 50 x true" threadlens "(fork+exec each)" -- bash -c "$loop" ::: tl bash -c "$loop"
micro=("lock:$bin/tl-bench-lock:$lock_iters" "alloc:$bin/tl-bench-alloc:$alloc_iters"
    "striped:$bin/tl-bench-striped:$striped_iters")
for m in "${micro[@]}"; do
    IFS=: read -r name prog iters <<< "$m"
    row "tl-bench-$name" threadlens "" -- "$prog" "$iters" ::: tl "$prog" "$iters"
    [ $tsan = 1 ] && row "tl-bench-$name" tsan "" -- "$prog" "$iters" ::: \
        env TSAN_OPTIONS=report_bugs=0 "$tsan_dir/tl-bench-$name" "$iters"
    command -v valgrind > /dev/null &&
        row "tl-bench-$name" helgrind "(iters/100)" -- "$prog" $((iters / 100)) ::: \
            valgrind --tool=helgrind -q "$prog" $((iters / 100))
    [ "$name" = alloc ] && command -v heaptrack > /dev/null && # a heap profiler: alloc only
        row "tl-bench-$name" heaptrack "" -- "$prog" "$iters" ::: \
            heaptrack -o "$work/heaptrack.out" "$prog" "$iters"
done

if [ "${SKIP_REAL:-0}" != 1 ]; then
    command -v pigz > /dev/null &&
        row "pigz -p 2" threadlens "" -- pigz -p 2 -c "$input" ::: tl pigz -p 2 -c "$input"
    command -v zstd > /dev/null &&
        row "zstd -T2 -3" threadlens "" -- zstd -T2 -3 -c "$input" ::: tl zstd -T2 -3 -c "$input"
    command -v xz > /dev/null &&
        row "xz -T2 -1" threadlens "" -- xz -T2 -1 -c "$input" ::: tl xz -T2 -1 -c "$input"
    if command -v memcached > /dev/null; then
        ncpu=$(nproc)
        server_cpus=0-$((ncpu / 2 - 1)) client_cpus=$((ncpu / 2))-$((ncpu - 1))
        for w in cold warm; do
            [ "$ncpu" -ge 2 ] && command -v taskset > /dev/null &&
                row "memcached -t 4 $w" threadlens "(server on CPUs $server_cpus)" -- \
                    memcached_load bare $w pinned ::: memcached_load tl $w pinned
            row "memcached shared $w" threadlens "(client on the same CPUs)" -- \
                memcached_load bare $w shared ::: memcached_load tl $w shared
        done
    fi
fi
echo "(ratio = tool median / bare median over alternating rounds; wall time, so a loaded"
echo " machine shows in both columns and makes ratios noisy: compare with \`uptime\`;"
echo " rounds' ratios = each round's tool run over the bare run just before it: their"
echo " median, and their middle half in brackets; \"its loop\" = the ns/iter a"
echo " microbenchmark printed for its timed loop, without the start and exit of a run)"
