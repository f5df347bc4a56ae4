#!/usr/bin/env python3
"""test_hostile.py - threadlens-top given hostile databases never crashes.

usage: test_hostile.py --top BIN --fixture BIN --tmp DIR CASE

Each CASE is one ctest test (tests/viewer/CMakeLists.txt lists them). A case
builds a database that is damaged (not SQLite, truncated, empty, a future
user_version, a table missing) or well-formed with hostile contents (text
where numbers belong, NULLs everywhere, 1 MiB strings, negative and huge
numbers, dangling ids, frames naming /dev/zero or a FIFO), then runs
`threadlens-top --report`, `--json`, and the dashboard in a pseudo-terminal
(it starts, draws, and quits on `q`).

A damaged database must give exit status 2, nothing on stdout and one stderr
line starting "threadlens-top: ". Hostile contents may be shown (exit 0 or 1,
--json prints valid JSON, nothing on stderr) or refused (as above); whichever,
never a crash, a sanitizer report or a hang. Sanitizer reports exit with 86
here so that they cannot pass for "findings" (exit 1).
"""
import argparse
import json
import os
import select
import shutil
import sqlite3
import subprocess
import sys
import time

ARGS = None
SAN_EXIT = 86
ENV = dict(os.environ,
           ASAN_OPTIONS="exitcode=%d:detect_leaks=1" % SAN_EXIT,
           UBSAN_OPTIONS="exitcode=%d:halt_on_error=1:print_stacktrace=1" % SAN_EXIT,
           TERM="xterm", LINES="24", COLUMNS="80")
ENV.pop("NO_COLOR", None)
TIMEOUT_S = 60


def fail(msg):
    raise AssertionError(msg)


def expect(cond, msg):
    if not cond:
        fail(msg)


def workdir():
    d = os.path.join(ARGS.tmp, ARGS.case)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def fixture(scenario="abba"):
    path = os.path.join(workdir(), "run.db")
    subprocess.run([ARGS.fixture, scenario, path], check=True)
    return path


def edit(path, *statements):
    """Runs SQL on a copy of the fixture, as an attacker with write access would."""
    db = sqlite3.connect(path)
    for sql in statements:
        db.execute(sql)
    db.commit()
    db.close()
    return path


def top(*args):
    return subprocess.run([ARGS.top, *args], capture_output=True, timeout=TIMEOUT_S, env=ENV)


def no_crash(res, what):
    err = res.stderr.decode("utf-8", "replace")
    expect(res.returncode in (0, 1, 2), f"{what}: exit status {res.returncode}: {err[-3000:]}")
    expect("Sanitizer" not in err and "runtime error" not in err, f"{what}: {err[-3000:]}")


def refused(res, what):
    """Exit 2, nothing on stdout, one stderr line with the prefix."""
    err = res.stderr.decode("utf-8", "replace")
    no_crash(res, what)
    expect(res.returncode == 2, f"{what}: exit status {res.returncode}, want 2 ({err!r})")
    expect(res.stdout == b"", f"{what}: stdout {res.stdout[:200]!r}")
    expect(err.startswith("threadlens-top: ") and err.count("\n") == 1 and err.endswith("\n"),
           f"{what}: want one 'threadlens-top: ' line, got {err[:500]!r}")
    return err


def shown_or_refused(res, what, is_json):
    no_crash(res, what)
    if res.returncode == 2:
        return refused(res, what)
    expect(res.stderr == b"", f"{what}: stderr {res.stderr[:500]!r}")
    if is_json:
        try:
            doc = json.loads(res.stdout.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            fail(f"{what}: invalid JSON ({e}): {res.stdout[:300]!r}")
        expect(isinstance(doc.get("findings"), list), f"{what}: no findings list")
    return None


def dashboard(path):
    """Starts the dashboard in a pseudo-terminal, lets it draw, quits with q.
    Returns (exit status, output)."""
    master, slave = os.openpty()
    proc = subprocess.Popen([ARGS.top, path], stdin=slave, stdout=slave, stderr=subprocess.PIPE,
                            env=ENV, start_new_session=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 1.5
    sent_q = False
    try:
        while True:
            timeout = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([master], [], [], min(timeout, 0.2))
            if ready:
                try:
                    out += os.read(master, 65536)
                except OSError:
                    break
            if proc.poll() is not None:
                break
            if time.monotonic() >= deadline:
                if sent_q:
                    fail(f"dashboard still running 20 s after 'q'")
                os.write(master, b"q")
                sent_q = True
                deadline = time.monotonic() + 20
        rc = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
        os.close(master)
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    expect(rc in (0, 2), f"dashboard exit status {rc}: {err[-3000:]}")
    expect("Sanitizer" not in err and "runtime error" not in err, f"dashboard: {err[-3000:]}")
    return rc, err


def expect_refused(path, fragment):
    for mode in ("--report", "--json"):
        err = refused(top(mode, path), mode)
        expect(fragment in err, f"{mode}: {fragment!r} not in {err!r}")
    rc, err = dashboard(path)
    expect(rc == 2 and fragment in err, f"dashboard: exit {rc}, {err!r}")


def expect_survived(path):
    shown_or_refused(top("--report", path), "--report", False)
    shown_or_refused(top("--json", path), "--json", True)
    dashboard(path)


# ---- damaged files -------------------------------------------------------

def case_garbage():
    path = os.path.join(workdir(), "garbage.db")
    with open(path, "wb") as f:
        f.write(bytes((i * 7919 + 13) % 256 for i in range(65536)))
    expect_refused(path, "not a SQLite database")


def case_zero_bytes():
    path = os.path.join(workdir(), "zero.db")
    open(path, "wb").close()
    expect_refused(path, "not a threadlens database")


def truncated(keep):
    path = fixture()
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[:keep(len(data))])
    return path


def case_truncated_half():
    expect_refused(truncated(lambda n: n // 2), "run.db: ")


def case_truncated_header():
    expect_refused(truncated(lambda n: 100), "run.db: ")


def case_truncated_page():
    expect_refused(truncated(lambda n: 4096 + 1000), "run.db: ")


def case_corrupt_pages():
    """Every page after the first overwritten with a pattern."""
    path = fixture()
    with open(path, "r+b") as f:
        size = f.seek(0, 2)
        for off in range(4096 + 8, size, 4096):
            f.seek(off)
            f.write(b"\xff\x00\x7f" * 300)
    expect_refused(path, "run.db: ")


def case_future_version():
    path = edit(fixture(), "PRAGMA user_version = 2147483647")
    expect_refused(path, "is newer than this threadlens-top reads")


def case_negative_version():
    path = edit(fixture(), "PRAGMA user_version = -1")
    expect_refused(path, "unsupported schema version -1")


def missing(table):
    expect_refused(edit(fixture(), f"DROP TABLE {table}"), f"no such table: {table}")


def case_missing_finding():
    missing("finding")


def case_missing_finding_item():
    missing("finding_item")


def case_missing_process():
    expect_refused(edit(fixture(), "DROP VIEW IF EXISTS findings", "DROP TABLE process"),
                   "no such table: process")


def case_missing_lock_edge():
    missing("lock_edge")


def case_missing_frame():
    missing("frame")


def case_missing_meta():
    expect_refused(edit(fixture(), "DROP TABLE meta"), "not a threadlens database")


def case_missing_columns():
    """A table of the right name with none of the right columns."""
    path = edit(fixture(), "DROP TABLE finding", "CREATE TABLE finding(x)",
                "INSERT INTO finding VALUES(1)")
    expect_refused(path, "no such column")


# ---- hostile contents ----------------------------------------------------

def tables(path):
    db = sqlite3.connect(path)
    names = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'meta'")]
    cols = {t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")] for t in names}
    db.close()
    return cols


def every_column(path, value_sql, skip_not_null=True):
    """Sets every column of every table but meta to value_sql, where allowed."""
    db = sqlite3.connect(path)
    for table, cols in tables(path).items():
        notnull = {r[1] for r in db.execute(f"PRAGMA table_info({table})") if r[3]}
        for col in cols:
            if skip_not_null and col in notnull:
                continue
            try:
                db.execute(f'UPDATE {table} SET "{col}" = {value_sql}')
            except sqlite3.IntegrityError:
                pass
    db.commit()
    db.close()
    return path


def case_nulls_everywhere():
    expect_survived(every_column(fixture(), "NULL"))


def case_text_for_numbers():
    expect_survived(every_column(fixture(), "'twelve'", skip_not_null=False))


def case_blobs_everywhere():
    expect_survived(every_column(fixture(), "x'00ff00fe'", skip_not_null=False))


def case_negative_numbers():
    expect_survived(every_column(fixture(), "-9223372036854775808", skip_not_null=False))


def case_huge_numbers():
    expect_survived(every_column(fixture(), "9223372036854775807", skip_not_null=False))


def case_real_numbers():
    expect_survived(every_column(fixture(), "-1e308", skip_not_null=False))


def case_huge_strings():
    """1 MiB function names, summaries, lock and thread names."""
    big = "printf('%.*c', 1048576, 'x')"
    path = edit(fixture(), f"UPDATE frame SET function = {big}, module = {big}",
                f"UPDATE finding SET summary = {big}, kind = {big}",
                f"UPDATE lock SET name = {big}", f"UPDATE thread SET name = {big}",
                f"UPDATE finding_item SET detail = {big}")
    expect_survived(path)


def case_control_characters():
    path = edit(fixture(), "UPDATE frame SET function = char(27) || '[2J' || char(0, 7, 10, 13)",
                "UPDATE thread SET name = char(1, 27, 155) || 'x'",
                "UPDATE finding SET summary = char(10) || '\"}{' || char(8232)")
    expect_survived(path)


def case_dangling_ids():
    path = edit(fixture(), "UPDATE finding_item SET thread = thread + 1000, lock = 77777,"
                " edge = -3, stack = 424242", "UPDATE finding SET proc = 99")
    expect_survived(path)


def case_many_items():
    """Items referencing each other many times over, and duplicate seqs."""
    path = edit(fixture(),
                "CREATE TEMP TABLE n(i)",
                "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 2000)"
                " INSERT INTO n SELECT i FROM c",
                "INSERT INTO finding_item SELECT f.finding, f.seq + n.i * 100, f.role, f.thread,"
                " f.lock, f.edge, f.stack, f.detail FROM finding_item f, n")
    expect_survived(path)


def case_frames_special_files():
    """Modules naming a device and a FIFO: symbolization must not read or block on them."""
    d = workdir()
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    path = os.path.join(d, "run.db")
    subprocess.run([ARGS.fixture, "abba", path], check=True)
    edit(path, "UPDATE frame SET module = '/dev/zero' WHERE idx = 0",
         f"UPDATE frame SET module = '{fifo}' WHERE idx = 1")
    expect_survived(path)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--top", required=True)
    p.add_argument("--fixture", required=True)
    p.add_argument("--tmp", required=True)
    p.add_argument("case")
    ARGS = p.parse_args()
    fn = globals().get("case_" + ARGS.case)
    if fn is None:
        print(f"test_hostile.py: no case {ARGS.case}", file=sys.stderr)
        return 2
    fn()
    print(f"viewer hostile {ARGS.case}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
