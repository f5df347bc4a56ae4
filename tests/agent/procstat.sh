#!/usr/bin/env bash
# procstat.sh THREADLENS PROG - the sample rows' kernel counters are the
# process's own: PROG (procstat_probe.c) holds 40 more descriptors, 3 more
# threads and 48 MiB more resident memory for a second and prints what /proc
# says then; the samples of that second must say the same (descriptors and
# threads exactly, resident bytes within 10%), and the context switch counts
# must be there and never go down.
set -euo pipefail
threadlens=$1 prog=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

db=$work/run.db
"$threadlens" run --db "$db" -o interval=0.1 -- "$prog" > "$work/out" 2> "$work/err" ||
    fail "the probe failed: $(cat "$work/err")"
read -r _ fds _ threads _ rss_kb < "$work/out"
echo "probe saw: fds $fds threads $threads rss_kb $rss_kb"
[ "$fds" -ge 43 ] && [ "$threads" -ge 5 ] && [ "$rss_kb" -ge $((48 * 1024)) ] ||
    fail "the probe's own view is off: $(cat "$work/out")"

q() { sqlite3 "file:$db?mode=ro" "$1"; }
[ "$(q "SELECT count(*) FROM sample WHERE fds = $fds")" -ge 3 ] ||
    fail "no three samples with $fds descriptors: $(q 'SELECT group_concat(fds) FROM sample')"
[ "$(q "SELECT count(*) FROM sample WHERE os_threads = $threads")" -ge 3 ] ||
    fail "no three samples with $threads threads: $(q 'SELECT group_concat(os_threads) FROM sample')"
[ "$(q "SELECT count(*) FROM sample WHERE fds = $fds AND abs(rss_bytes - $rss_kb * 1024) <= $rss_kb * 1024 / 10")" -ge 3 ] ||
    fail "no three samples within 10% of $rss_kb kB resident: $(q 'SELECT group_concat(rss_bytes) FROM sample')"
[ "$(q 'SELECT count(*) FROM sample WHERE ctx_voluntary IS NULL OR ctx_voluntary < 0 OR ctx_involuntary < 0')" = 0 ] ||
    fail "context switch counts missing: $(q 'SELECT group_concat(ctx_voluntary) FROM sample')"
[ "$(q 'SELECT count(*) FROM sample a JOIN sample b ON b.t_ns > a.t_ns AND b.ctx_voluntary < a.ctx_voluntary')" = 0 ] ||
    fail "voluntary context switches went down: $(q 'SELECT group_concat(ctx_voluntary) FROM sample')"
echo "PASS: procstat"
