#!/usr/bin/env python3
"""check_totals.py - check the agent's heap counters and its sampled per-site
estimate against a program that knows its own totals (tl-prog-alloc_totals).

Usage:
  check_totals.py --threadlens BIN --prog PROG [--workdir DIR]

The program prints one line:
  alloc_totals: allocated=N freed=M live_bytes=B
N blocks allocated and M freed by its function alloc_blocks, whose B bytes
still live stay allocated (and reachable) until exit.

Run 1, exact mode (`-o sample_bytes=1 -o interval=0.2`). The agent counts
every malloc-family call, libc's own included, so the last `sample` row is
checked with some slack:
  - heap_alloc_count >= N, and at most N + ALLOC_SLACK;
  - heap_free_count >= M;
  - N - M <= heap_live_count <= N - M + LIVE_SLACK;
  - heap_live_bytes >= B;
  - the alloc_sites rows whose function is alloc_blocks: live_count is
    exactly N - M, and live_bytes is B up to the allocator's rounding (the
    agent counts usable sizes): B <= live_bytes <= B + ROUNDING * (N - M).
Run 2, default sampling (`-o interval=0.2`, sample_bytes unset): the
alloc_blocks sites' estimated live_bytes is within TOLERANCE of B.

Each run must exit 0 with the bare program's stdout line. Every subprocess
gets a 60 s timeout. Exit status: 0 pass, 1 fail, 2 usage error. On failure
the temporary directory (with the databases) is kept and named.
"""

import argparse
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

TIMEOUT_S = 60
ALLOC_SLACK = 256   # libc-internal allocations (stdio buffers, thread set-up)
LIVE_SLACK = 64     # of those, still live at exit
ROUNDING = 32       # bytes a usable size may exceed the request by
TOLERANCE = 0.30    # sampled estimate vs truth
FUNCTION = "alloc_blocks"
LINE = re.compile(r"^alloc_totals: allocated=(\d+) freed=(\d+) live_bytes=(\d+)$", re.M)


def run_agent(threadlens, prog, db, options, cwd):
    """Runs PROG under the agent. Returns (N, M, B), or raises RuntimeError."""
    argv = [threadlens, "run", "--db", db]
    for opt in options:
        argv += ["-o", opt]
    argv += ["--", prog]
    try:
        proc = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{' '.join(argv)}: timed out after {TIMEOUT_S} s")
    out = proc.stdout.decode("utf-8", errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {proc.returncode}\nstdout:\n{out}"
                           f"stderr:\n{proc.stderr.decode('utf-8', errors='replace')}")
    m = LINE.search(out)
    if not m:
        raise RuntimeError(f"{' '.join(argv)}: no 'alloc_totals:' line in its output:\n{out}")
    return tuple(int(x) for x in m.groups())


def last_sample(con):
    row = con.execute("SELECT heap_alloc_count, heap_free_count, heap_live_count, "
                      "heap_live_bytes FROM sample ORDER BY t_ns DESC LIMIT 1").fetchone()
    if row is None:
        raise RuntimeError("the database has no sample row")
    if any(v is None for v in row):
        raise RuntimeError(f"the last sample has NULL heap counters: {row}")
    return row


def site_totals(con):
    """(live_bytes, live_count) summed over the alloc_sites of FUNCTION, or None if none."""
    rows = con.execute("SELECT live_bytes, live_count FROM alloc_sites WHERE function = ?",
                       (FUNCTION,)).fetchall()
    if not rows:
        return None
    return sum(r[0] or 0 for r in rows), sum(r[1] or 0 for r in rows)


def check_exact(db, n, m, b, fail):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        alloc, freed, live, live_bytes = last_sample(con)
        want_live = n - m
        if not n <= alloc <= n + ALLOC_SLACK:
            fail(f"exact: heap_alloc_count {alloc}, expected {n}..{n + ALLOC_SLACK}")
        if freed < m:
            fail(f"exact: heap_free_count {freed}, expected at least {m}")
        if not want_live <= live <= want_live + LIVE_SLACK:
            fail(f"exact: heap_live_count {live}, expected {want_live}..{want_live + LIVE_SLACK}")
        if live_bytes < b:
            fail(f"exact: heap_live_bytes {live_bytes}, expected at least {b}")
        site = site_totals(con)
        if site is None:
            fail(f"exact: no alloc_sites row for function {FUNCTION}")
            return
        site_bytes, site_count = site
        if site_count != want_live:
            fail(f"exact: {FUNCTION} live_count {site_count}, expected exactly {want_live}")
        if not b <= site_bytes <= b + ROUNDING * want_live:
            fail(f"exact: {FUNCTION} live_bytes {site_bytes}, expected {b}.."
                 f"{b + ROUNDING * want_live}")
        print(f"  exact: alloc_count={alloc} free_count={freed} live_count={live} "
              f"live_bytes={live_bytes}; {FUNCTION}: {site_count} blocks, {site_bytes} bytes")
    finally:
        con.close()


def check_sampled(db, b, fail):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        site = site_totals(con)
        if site is None:
            fail(f"sampled: no alloc_sites row for function {FUNCTION}")
            return
        estimate = site[0]
        error = abs(estimate - b) / b
        print(f"  sampled: {FUNCTION} live_bytes estimate {estimate}, truth {b} "
              f"({error:.1%} off)")
        if error > TOLERANCE:
            fail(f"sampled: {FUNCTION} live_bytes estimate {estimate} is {error:.1%} off the "
                 f"truth {b} (tolerance {TOLERANCE:.0%})")
    finally:
        con.close()


def main():
    ap = argparse.ArgumentParser(description="Check heap counters and sampled site estimates "
                                 "against tl-prog-alloc_totals.")
    ap.add_argument("--threadlens", required=True, help="the threadlens launcher")
    ap.add_argument("--prog", required=True, help="tl-prog-alloc_totals")
    ap.add_argument("--workdir", help="where to make the temporary directory")
    opts = ap.parse_args()

    workdir = os.path.abspath(opts.workdir) if opts.workdir else None
    if workdir:
        os.makedirs(workdir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="check_totals.", dir=workdir)
    threadlens, prog = (os.path.abspath(p) if os.sep in p else p
                        for p in (opts.threadlens, opts.prog))
    failures = []
    fail = failures.append
    try:
        exact_db = os.path.join(tmp, "exact.db")
        n, m, b = run_agent(threadlens, prog, exact_db, ["sample_bytes=1", "interval=0.2"], tmp)
        check_exact(exact_db, n, m, b, fail)
        sampled_db = os.path.join(tmp, "sampled.db")
        n2, m2, b2 = run_agent(threadlens, prog, sampled_db, ["interval=0.2"], tmp)
        if (n2, m2, b2) != (n, m, b):
            fail(f"the program printed different totals in the two runs: {(n, m, b)} and "
                 f"{(n2, m2, b2)}")
        check_sampled(sampled_db, b2, fail)
    except (RuntimeError, sqlite3.Error) as e:
        fail(str(e))

    if not failures:
        print("PASS check_totals: heap counters and the sampled site estimate match")
        shutil.rmtree(tmp, ignore_errors=True)
        return 0
    print("FAIL check_totals")
    print(f"  kept: {tmp}")
    for msg in failures:
        print("\n--- " + msg)
    return 1


if __name__ == "__main__":
    sys.exit(main())
