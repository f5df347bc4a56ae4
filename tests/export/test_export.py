#!/usr/bin/env python3
"""test_export.py - threadlens-top --pprof, --trace and --metrics, read back.

usage: test_export.py --top BIN --threadlens BIN --schema agent/schema.h
                      --alloc-totals PROG --task-pool PROG --tmp DIR CASE

Each CASE is one ctest test (tests/export/CMakeLists.txt). The *_fixture
cases export a database with known rows (fixture_db.py) and compare exact
values; the *_run cases run a real program under `threadlens run` and compare
the export with what the database says. Readers are written here from the
format definitions: pprof_decode.py (profile.proto), trace_check.py (trace
event format), openmetrics_parse.py (OpenMetrics). pprof_go also runs
`go tool pprof` when a Go toolchain is installed, and is skipped (exit 77)
otherwise.
"""
import argparse
import glob
import os
import shutil
import sqlite3
import subprocess
import sys
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_db  # noqa: E402
import openmetrics_parse  # noqa: E402
import pprof_decode  # noqa: E402
import trace_check  # noqa: E402
from fixture_db import S, T0  # noqa: E402

ARGS = None
SKIP = 77


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def expect_eq(got, want, what):
    if got != want:
        raise AssertionError(f"{what}:\n  got:  {got!r}\n  want: {want!r}")


def workdir():
    d = os.path.join(ARGS.tmp, ARGS.case)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def fixture():
    path = os.path.join(workdir(), "fixture.db")
    fixture_db.write(path, ARGS.schema)
    return path


def run_program(prog, *options):
    """Runs prog under the agent; returns (database path, program stdout)."""
    path = os.path.join(workdir(), os.path.basename(prog) + ".db")
    cmd = [ARGS.threadlens, "run", "--db", path]
    for o in options:
        cmd += ["-o", o]
    res = subprocess.run(cmd + ["--", prog], capture_output=True, timeout=120)
    expect_eq(res.returncode, 0, f"{prog} under threadlens (stderr {res.stderr!r})")
    return path, res.stdout.decode()


def top(*args):
    return subprocess.run([ARGS.top, *args], capture_output=True, timeout=60)


def export(*args):
    res = top(*args)
    expect_eq(res.returncode, 0, f"threadlens-top {' '.join(args)} (stderr {res.stderr!r})")
    expect_eq(res.stderr, b"", "stderr")
    return res.stdout


def query(path, sql, *params):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


# ---- pprof ----------------------------------------------------------------

HEAP_TYPES = [("alloc_objects", "count"), ("alloc_space", "bytes"),
              ("inuse_objects", "count"), ("inuse_space", "bytes")]


def profile(path, kind, *extra):
    p = pprof_decode.decode(export("--pprof", kind, *extra, path))
    pprof_decode.check(p)
    return p


def by_stack(p):
    """{tuple of function names: values} (stacks are unique per profile here)."""
    out = {}
    for smp in p["sample"]:
        key = tuple(pprof_decode.frames(p, smp))
        expect(key not in out, f"two samples with stack {key}")
        out[key] = smp
    return out


def frame_name(module, offset, function):
    """The name threadlens-top gives a frame (export_pprof.c frame_name)."""
    if function and function != "??":
        return function
    if module:
        return f"{os.path.basename(module)}+0x{offset or 0:x}"
    return "??"


def db_stack(path, stack):
    rows = query(path, "SELECT module, offset, function FROM frame WHERE stack = ? ORDER BY idx",
                 stack)
    return tuple(frame_name(*r) for r in rows)


def first_proc(path):
    return query(path, "SELECT id FROM process ORDER BY id LIMIT 1")[0][0]


def check_heap_against_db(path, p):
    """inuse values of every site equal its latest site_sample; alloc_space its alloc_bytes."""
    proc = first_proc(path)
    rows = query(path, "SELECT a.stack, s.live_bytes, s.live_count, s.alloc_bytes"
                       " FROM alloc_site a JOIN site_sample s ON s.proc = a.proc AND s.site = a.id"
                       " WHERE a.proc = ? AND s.t_ns = (SELECT max(t_ns) FROM site_sample y"
                       " WHERE y.proc = a.proc AND y.site = a.id)", proc)
    samples = by_stack(p)
    expect_eq(len(samples), len(rows), "one sample per allocation site")
    for stack, live_bytes, live_count, alloc_bytes in rows:
        values = samples[db_stack(path, stack)]["value"]
        expect_eq(values[1:], [alloc_bytes, live_count, live_bytes],
                  f"alloc_space, inuse_objects, inuse_space of stack {stack}")
        expect(values[0] >= live_count, "alloc_objects below inuse_objects")


def case_pprof_heap_fixture():
    path = fixture()
    p = profile(path, "heap")
    st = p["string_table"]
    expect_eq(pprof_decode.sample_types(p), HEAP_TYPES, "sample types")
    expect_eq((st[p["period_type"]["type"]], st[p["period_type"]["unit"]]), ("space", "bytes"),
              "period type")
    expect_eq(p["period"], 524288, "period: the agent's default sample_bytes")
    expect_eq(st[p["default_sample_type"]], "inuse_space", "default sample type")
    expect_eq(p["time_nanos"], T0, "time_nanos: process start")
    expect_eq(p["duration_nanos"], 5 * S, "duration_nanos: process 1 lasted 5 s")
    expect_eq(st[p["mapping"][0]["filename"]], fixture_db.APP, "mapping[0] is the main binary")
    expect_eq({st[m["filename"]] for m in p["mapping"]}, {fixture_db.APP, fixture_db.LIBC},
              "one mapping per module")
    samples = {k: v["value"] for k, v in by_stack(p).items()}
    expect_eq(samples, {
        ("alloc_leaf", "main", "libc.so.6+0x29d90"): [32, 8192, 16, 4096],
        ("make_node", "main"): [30, 3000, 0, 0],
        ("??",): [1, 64, 1, 64],
    }, "heap samples (alloc_objects estimated from the mean live block size)")
    check_heap_against_db(path, p)
    # a frame's address maps back to its module offset
    locs = {loc["id"]: loc for loc in p["location"]}
    maps = {m["id"]: m for m in p["mapping"]}
    leaf = locs[next(s for s in p["sample"] if len(s["location_id"]) == 3)["location_id"][0]]
    m = maps[leaf["mapping_id"]]
    expect_eq(leaf["address"] - m["memory_start"] + m["file_offset"], 0x1100,
              "address - memory_start + file_offset is the module offset")


def case_pprof_pid():
    path = fixture()
    p = profile(path, "heap", "--pid", "4243")
    expect_eq({k: v["value"] for k, v in by_stack(p).items()},
              {("make_node", "main"): [7, 777, 7, 777]}, "--pid 4243: the child's site only")
    expect_eq(p["time_nanos"], T0 + S, "the child's start")
    expect_eq(p["duration_nanos"], S, "the child lasted 1 s")


def case_pprof_mutex_fixture():
    path = fixture()
    p = profile(path, "mutex")
    expect_eq(pprof_decode.sample_types(p), [("contentions", "count"), ("delay", "nanoseconds")],
              "sample types")
    got = {k: (v["value"], pprof_decode.labels(p, v)) for k, v in by_stack(p).items()}
    expect_eq(got, {
        ("worker_loop", "libc.so.6+0x94ac3"):
            ([5, 1_500_000], {"lock": "queue_lock", "kind": "mutex", "acquisitions": 100}),
        ("flush_cache", "worker_loop"):
            ([2, 20_000], {"lock": "0x5080", "kind": "rwlock", "acquisitions": 40}),
    }, "one sample per contended lock, at its first stack; idle_lock left out")
    expect_eq(p["period"], 1, "every contention counted")


def case_pprof_threads_fixture():
    path = fixture()
    p = profile(path, "threads")
    expect_eq(pprof_decode.sample_types(p), [("threadcreate", "count"), ("alive", "count")],
              "sample types")
    expect_eq({k: v["value"] for k, v in by_stack(p).items()},
              {("spawn_workers", "main"): [2, 1]},
              "worker-a and worker-b created at one stack, worker-b still alive")
    p3 = profile(path, "threads", "--pid", "4242")
    expect_eq(len(p3["sample"]), 1, "--pid 4242: the first image of the pid")


def case_pprof_heap_run():
    """alloc_totals in exact mode: 4 threads keep 1024 blocks each from alloc_blocks."""
    path, out = run_program(ARGS.alloc_totals, "sample_bytes=1")
    p = profile(path, "heap")
    expect_eq(pprof_decode.sample_types(p), HEAP_TYPES, "sample types")
    check_heap_against_db(path, p)
    blocks = [s for s in p["sample"] if pprof_decode.frames(p, s)[0] == "alloc_blocks"]
    expect_eq(len(blocks), 1, "one site in alloc_blocks")
    printed = int(out.split("live_bytes=")[1].split()[0])
    values = blocks[0]["value"]
    expect_eq(values[2], 4096, "inuse_objects of alloc_blocks: 4 threads x 1024 odd blocks")
    expect(values[3] >= printed, f"inuse_space {values[3]} below the program's {printed} bytes")
    for kind in ("mutex", "threads"):
        profile(path, kind)
    threads = profile(path, "threads")
    expect_eq(sum(s["value"][0] for s in threads["sample"]), 4, "4 threads created")


def go_binary():
    found = shutil.which("go")
    if found:
        return found
    cands = sorted(glob.glob("/usr/lib/go-*/bin/go"))
    return cands[-1] if cands else None


def case_pprof_go():
    go = go_binary()
    if not go:
        print("SKIP: no Go toolchain (golang-go) installed: go tool pprof not checked")
        return SKIP
    path = fixture()
    d = os.path.dirname(path)
    env = dict(os.environ, HOME=d, PPROF_TMPDIR=d, PPROF_BINARY_PATH=d, GOFLAGS="")
    for kind, leaf in (("heap", "alloc_leaf"), ("mutex", "worker_loop"),
                       ("threads", "spawn_workers")):
        f = os.path.join(d, kind + ".pb.gz")
        with open(f, "wb") as out:
            out.write(export("--pprof", kind, path))
        res = subprocess.run([go, "tool", "pprof", "-top", f], capture_output=True, env=env,
                             timeout=120)
        text = res.stdout.decode()
        expect_eq(res.returncode, 0, f"go tool pprof -top {kind} (stderr {res.stderr!r})")
        expect(leaf in text, f"go tool pprof -top {kind}: no {leaf} in\n{text}")
    res = subprocess.run([go, "tool", "pprof", "-raw", os.path.join(d, "heap.pb.gz")],
                         capture_output=True, env=env, timeout=120)
    raw = res.stdout.decode()
    expect(" 32       8192         16       4096:" in raw or "32 8192 16 4096" in " ".join(
        raw.split()), f"go tool pprof -raw: alloc_leaf's values not found in\n{raw}")
    return 0


# ---- trace ----------------------------------------------------------------

def us(t):
    """Seconds after T0 as the trace's microseconds."""
    return Decimal(int(round(t * S))) / 1000


def trace(path, *extra):
    doc = trace_check.load(export("--trace", *extra, path).decode())
    return doc, trace_check.check(doc)


def x_events(doc, cat):
    return [e for e in doc["traceEvents"] if e["ph"] == "X" and e.get("cat") == cat]


def case_trace_fixture():
    path = fixture()
    doc, _ = trace(path)
    events = doc["traceEvents"]
    names = {(e["pid"], e["args"]["name"]) for e in events if e["name"] == "process_name"}
    expect_eq(names, {(4242, "app (pid 4242)"), (4243, 'we"ird\\app\n (pid 4243)')},
              "process names (two images of 4242 share one)")
    threads = {(e["pid"], e["tid"], e["ts"], e["dur"]) for e in x_events(doc, "thread")}
    expect_eq(threads, {
        (4242, 4242, us(0), us(5)), (4242, 4250, us(0.1), us(2.9)),
        (4242, 4251, us(0.2), us(4.8)), (4242, 4252, us(0.3), us(3.7)),
        (4243, 4243, us(1), us(1)), (4242, 4242, us(5.1), us(0.9)),
        (4242, 4260, us(5.2), us(0.7)),
    }, "thread lifetimes: start to end, or to the process end")
    tasks = {e["name"]: (e["tid"], e["ts"], e["dur"], e["args"].get("clipped", False))
             for e in x_events(doc, "task")}
    expect_eq(tasks, {
        "task job-a": (4250, us(0.6), us(0.3), False),
        "task job-b": (4250, us(1.1), us(1.9), True),
        "task #3": (4250, us(0.8), us(0.1), True),
    }, "task runs on their thread; job-b cut at the thread's end, #3 at job-a's")
    waits = [(e["name"], e["tid"], e["ts"], e["dur"]) for e in x_events(doc, "wait")]
    expect_eq(waits, [("wait mutex queue_lock", 4251, us(4), us(1))],
              "the 1 s lock wait; the 0.5 us join wait is under the threshold")
    queued = [e for e in events if e["ph"] in "be"]
    expect_eq(len(queued), 8, "a queued begin/end pair per task")
    never = [e["ts"] for e in queued if e["id"] == "1.4"]
    expect_eq(never, [us(2), us(5)], "a task never started waits until the process ends")
    instants = [(e["pid"], e["name"]) for e in events if e["ph"] == "i"]
    expect_eq(len(instants), 6, "one instant per finding")
    counters = {}
    for e in events:
        if e["ph"] == "C":
            counters.setdefault(e["name"], []).append(e)
    expect_eq(sorted(counters), sorted(["threads_live", "heap_live_bytes", "rss_bytes",
                                        "tasks_in_flight", "contentions"]), "counter names")
    expect_eq([(e["ts"], e["args"]["threads_live"]) for e in counters["threads_live"]
               if e["pid"] == 4243], [(us(1.5), 1)], "the child's threads_live")
    expect_eq(len(counters["rss_bytes"]), 4, "a NULL rss_bytes is left out")
    doc2, _ = trace(path, "--pid", "4243")
    expect_eq({e["pid"] for e in doc2["traceEvents"]}, {4243}, "--pid 4243: the child only")


def case_trace_run():
    path, _ = run_program(ARGS.task_pool)
    doc, _ = trace(path)
    ran = query(path, "SELECT count(*) FROM task k JOIN thread h ON h.proc = k.proc"
                      " AND h.id = k.run_thread WHERE k.started_ns IS NOT NULL")[0][0]
    expect_eq(len(x_events(doc, "task")), ran, "one task span per task that ran")
    nthreads = query(path, "SELECT count(*) FROM thread")[0][0]
    expect_eq(len(x_events(doc, "thread")), nthreads, "one lifetime per thread")
    nsamples = query(path, "SELECT count(*) FROM sample WHERE threads_live IS NOT NULL")[0][0]
    expect_eq(len([e for e in doc["traceEvents"] if e["name"] == "threads_live"]), nsamples,
              "a threads_live counter per sample")


# ---- metrics --------------------------------------------------------------

def metrics(path, *extra):
    return openmetrics_parse.parse(export("--metrics", *extra, path).decode())


def value(fams, name, pid, **labels):
    fam = name[:-len("_total")] if name.endswith("_total") else name
    for n, lab, v in fams[fam]["samples"]:
        if n == name and lab["pid"] == str(pid) and all(lab[k] == w for k, w in labels.items()):
            return v
    raise AssertionError(f"no sample {name} for pid {pid} {labels}")


SAMPLE_COLUMNS = {
    "threadlens_threads_live": "threads_live",
    "threadlens_threads_created_total": "threads_total",
    "threadlens_tasks_in_flight": "tasks_in_flight",
    "threadlens_tasks_submitted_total": "tasks_total",
    "threadlens_heap_live_bytes": "heap_live_bytes",
    "threadlens_rss_bytes": "rss_bytes",
    "threadlens_lock_acquisitions_total": "acquisitions",
    "threadlens_lock_contentions_total": "contentions",
    "threadlens_agent_bytes": "agent_bytes",
}


def check_metrics_against_db(path, fams):
    """Every process shown matches its (last image's) latest sample row."""
    procs = query(path, "SELECT id, pid FROM process p"
                        " WHERE id = (SELECT max(id) FROM process q WHERE q.pid = p.pid)")
    for proc, pid in procs:
        row = query(path, "SELECT " + ", ".join(SAMPLE_COLUMNS.values()) +
                    " FROM sample WHERE proc = ? ORDER BY t_ns DESC LIMIT 1", proc)
        for name, v in zip(SAMPLE_COLUMNS, row[0] if row else []):
            if v is not None:
                expect_eq(value(fams, name, pid), float(v), f"{name} of pid {pid}")
        wait = query(path, "SELECT coalesce(sum(wait_ns), 0) FROM lock WHERE proc = ?", proc)
        expect_eq(value(fams, "threadlens_lock_wait_seconds_total", pid), wait[0][0] / 1e9,
                  f"lock wait of pid {pid}")
        spent = query(path, "SELECT sum(tick_ns) FROM sample WHERE proc = ?", proc)[0][0]
        if spent is not None:
            expect_eq(value(fams, "threadlens_collector_seconds_total", pid), spent / 1e9,
                      f"collector time of pid {pid}")
    return procs


def case_metrics_fixture():
    path = fixture()
    fams = metrics(path)
    for name in ("threadlens_threads_live", "threadlens_tasks_in_flight",
                 "threadlens_heap_live_bytes", "threadlens_rss_bytes",
                 "threadlens_lock_contentions", "threadlens_lock_wait_seconds",
                 "threadlens_findings"):
        expect(name in fams, f"no family {name}")
        expect(fams[name]["help"], f"{name} has no HELP")
    expect_eq(fams["threadlens_lock_contentions"]["type"], "counter", "contentions type")
    check_metrics_against_db(path, fams)
    expect_eq(value(fams, "threadlens_threads_live", 4242), 2.0, "pid 4242: its last image")
    expect_eq(value(fams, "threadlens_heap_live_bytes", 4243), 777.0, "the child's heap")
    expect_eq(value(fams, "threadlens_lock_wait_seconds_total", 4243), 7e-7, "700 ns")
    expect_eq(value(fams, "threadlens_agent_bytes", 4242), 65536.0, "its last image's agent")
    expect_eq(value(fams, "threadlens_collector_seconds_total", 4242), 4e-4, "its collector")
    expect_eq(value(fams, "threadlens_collector_seconds_total", 4243), 0.0, "one sample, 0 ns")
    expect(not any(lab["pid"] == "4243" for _, lab, _ in fams["threadlens_agent_bytes"]["samples"]),
           "an unknown agent_bytes is left out")
    expect_eq(value(fams, "threadlens_findings", 4242, kind="limit-exceeded",
                    severity="error"), 1.0, "the exec'ed image's finding")
    expect_eq(value(fams, "threadlens_findings", 4242, kind="thread-leak",
                    severity="warning"), 0.0, "the first image's findings are not the pid's now")
    exe = {lab["exe"] for _, lab, _ in fams["threadlens_threads_live"]["samples"]}
    expect_eq(exe, {fixture_db.APP, fixture_db.CHILD},
              "exe labels: quote, backslash and newline escaped, read back")
    one = metrics(path, "--pid", "4243")
    expect_eq({lab["pid"] for _, lab, _ in one["threadlens_threads_live"]["samples"]}, {"4243"},
              "--pid 4243")


def case_metrics_findings():
    """Process 1 alone (not exec'ed over): findings by kind, resolved and suppressed apart."""
    path = fixture()
    db = sqlite3.connect(path)
    db.execute("UPDATE process SET pid = 4000 WHERE id = 1")
    db.commit()
    db.close()
    fams = metrics(path, "--pid", "4000")
    want = {("lock-order-inversion", "error"): 1.0, ("thread-leak", "warning"): 2.0}
    for _, lab, v in fams["threadlens_findings"]["samples"]:
        expect_eq(v, want.get((lab["kind"], lab["severity"]), 0.0),
                  f"findings {lab['kind']}/{lab['severity']} (the deadlock is resolved)")
    expect_eq(len(fams["threadlens_findings"]["samples"]), 33, "every kind and severity")
    expect_eq(value(fams, "threadlens_findings_suppressed", 4000), 1.0, "one suppressed")
    expect_eq(value(fams, "threadlens_lock_wait_seconds_total", 4000), 0.00152,
              "1.5 ms + 20 us of lock waits")


def case_metrics_run():
    path, _ = run_program(ARGS.task_pool)
    fams = metrics(path)
    procs = check_metrics_against_db(path, fams)
    expect_eq(len(procs), 1, "one process")
    expect_eq(value(fams, "threadlens_tasks_submitted_total", procs[0][1]), 201.0,
              "task_pool submits 201 tasks")


# ---- damaged databases ----------------------------------------------------

DAMAGE = [
    "UPDATE frame SET offset = -1 WHERE stack = 1 AND idx = 0",
    "UPDATE frame SET offset = 4611686018427387904 WHERE stack = 2 AND idx = 0",
    "UPDATE frame SET function = CAST(X'66ff6f' AS TEXT) WHERE stack = 4 AND idx = 0",
    "UPDATE frame SET module = '' WHERE stack = 5 AND idx = 1",
    "UPDATE thread SET name = CAST(X'77c3' AS TEXT) WHERE proc = 1 AND id = 2",
    "UPDATE thread SET start_ns = -5 WHERE proc = 1 AND id = 3",
    "UPDATE thread SET end_ns = 9223372036854775807 WHERE proc = 1 AND id = 4",
    "UPDATE process SET exe = CAST(X'2f6f70742fff0a' AS TEXT) WHERE id IN (1, 3)",
    "UPDATE process SET start_ns = NULL, end_ns = NULL WHERE id = 2",
    "UPDATE task SET started_ns = ended_ns + 1000 WHERE proc = 1 AND id = 1",
    "UPDATE task SET run_thread = 99 WHERE proc = 1 AND id = 2",
    "UPDATE task SET queued_ns = -9223372036854775808 WHERE proc = 1 AND id = 4",
    "UPDATE site_sample SET live_bytes = -100, alloc_bytes = 9223372036854775807",
    "UPDATE lock SET wait_ns = NULL, name = 'a' || char(10) || 'b'",
    "UPDATE thread_state SET wait_since_ns = -1",
    "INSERT INTO sample(proc, t_ns, threads_live) VALUES(2, 9223372036854775807, -3)",
    "INSERT INTO finding(proc, kind, severity, summary) VALUES(1, 'bogus', 'fatal', 'x')",
]


def case_damaged():
    """Out-of-range times and offsets, bad UTF-8, NULLs: valid output, no crash."""
    path = fixture()
    db = sqlite3.connect(path)
    for sql in DAMAGE:
        db.execute(sql)
    db.commit()
    db.close()
    for kind in ("heap", "mutex", "threads"):
        for extra in ([], ["--pid", "4243"]):
            p = profile(path, kind, *extra)
            expect(p["sample"] or (kind == "threads" and extra),  # the child creates none
                   f"{kind} {extra}: samples are still written")
    heap = profile(path, "heap")
    names = {n for s in heap["sample"] for n in pprof_decode.frames(heap, s)}
    expect("alloc_leaf" in names and "make_node" in names,
           f"frames with out-of-range offsets keep their names: {names}")
    mutex = profile(path, "mutex")
    expect(any(n.startswith("f\ufffdo") for s in mutex["sample"]
               for n in pprof_decode.frames(mutex, s)), "bad UTF-8 in a name becomes U+FFFD")
    doc, threads = trace(path)
    expect(threads, "thread tracks")
    fams = metrics(path)
    exe = {lab["exe"] for _, lab, _ in fams["threadlens_threads_live"]["samples"]}
    expect("/opt/\ufffd\n" in exe, f"exe label with bad UTF-8 and a newline: {exe}")
    expect_eq(value(fams, "threadlens_threads_live", 4243), -3.0, "the latest sample, as stored")


# ---- bad inputs -----------------------------------------------------------

def expect_error(res, fragment):
    err = res.stderr.decode("utf-8", "replace")
    expect_eq(res.returncode, 2, f"exit status (stderr {err!r})")
    expect_eq(res.stdout, b"", "nothing on stdout")
    expect(err.startswith("threadlens-top: ") and err.count("\n") == 1,
           f"one line with the prefix: {err!r}")
    expect(fragment in err, f"{fragment!r} not in {err!r}")


def case_bad_inputs():
    path = fixture()
    missing = os.path.join(os.path.dirname(path), "missing.db")
    text = os.path.join(os.path.dirname(path), "text.db")
    with open(text, "w") as f:
        f.write("not a database\n")
    expect_error(top("--pprof", "cpu", path), "unknown profile kind (heap, mutex or threads): cpu")
    expect_error(top("--pprof"), "--pprof needs a value")
    expect_error(top("--pprof", "heap"), "--pprof needs a database file")
    expect_error(top("--trace"), "--trace needs a database file")
    expect_error(top("--metrics"), "--metrics needs a database file")
    for mode in (["--pprof", "heap"], ["--trace"], ["--metrics"]):
        expect_error(top(*mode, missing), "cannot open " + missing)
        expect_error(top(*mode, text), "not a SQLite database")
        expect_error(top(*mode, "--pid", "99999", path), "no process with pid 99999")
    expect_error(top("--metrics", "--pid", "x1", path), "--pid needs a process id")
    expect_error(top("--trace", "--metrics", path), "cannot be combined")
    expect_error(top("--report", "--pid", "4242", path), "--pid applies to")
    expect_error(top("--pid", "4242", path), "--pid applies to")
    helptext = top("--help").stdout.decode()
    for flag in ("--pprof KIND", "--trace", "--metrics", "--pid N"):
        expect(flag in helptext, f"--help does not mention {flag}")


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    for opt in ("--top", "--threadlens", "--schema", "--alloc-totals", "--task-pool", "--tmp"):
        ap.add_argument(opt, required=True)
    ap.add_argument("case")
    ARGS = ap.parse_args()
    fn = globals().get("case_" + ARGS.case)
    if not fn:
        print(f"unknown case {ARGS.case}", file=sys.stderr)
        return 2
    rc = fn() or 0
    if rc == 0:
        print(f"ok {ARGS.case}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
