#!/usr/bin/env bash
# libs.sh THREADLENS PROG - the libraries the agent brings into a process:
# besides itself only libm, whatever the process does; libunwind (and its
# liblzma) only once a thread has taken many heap samples, and then within a
# few of the collector's looks; never libgcc_s (its unwinder is linked in).
# PROG is tests/agent/libs_probe.c.
set -euo pipefail
threadlens=$1 prog=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

libs() { sort -u "$1" | grep -v -e '^libthreadlens\.so' -e '^ld-linux' -e '^libc\.so' | tr '\n' ' '; }

"$prog" quiet > "$work/bare"
"$threadlens" run --db "$work/quiet.db" -- "$prog" quiet > "$work/quiet"
grep -q '^libthreadlens\.so' "$work/quiet" || fail "the agent is not mapped: $(libs "$work/quiet")"
added=$(comm -13 <(sort -u "$work/bare") <(sort -u "$work/quiet") | grep -v '^libthreadlens\.so' |
    grep -v '^libm\.so' | tr '\n' ' ' || true)
[ -z "$added" ] || fail "a quiet process got more than the agent and libm: $added"

"$threadlens" run --db "$work/sampling.db" -o sample_bytes=1 -- "$prog" sampling > "$work/sampling"
grep -q '^libunwind\.so' "$work/sampling" ||
    fail "500 ms of heap samples and no libunwind: $(libs "$work/sampling")"
grep -q '^libgcc_s\.so' "$work/sampling" && fail "libgcc_s loaded: $(libs "$work/sampling")"
echo "PASS: libs (quiet: agent and libm only; sampling: $(libs "$work/sampling"))"
