#!/usr/bin/env python3
"""test_cli.py - runs the real threadlens-top against fixture databases.

usage: test_cli.py --top BIN --fixture BIN --tmp DIR CASE

Each CASE is one ctest test (tests/viewer/CMakeLists.txt lists them). The
fixture program writes the databases with the agent's schema (schema.h).
Exit codes, stderr lines, report lines and JSON values are asserted exactly.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

ARGS = None
LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
ABBA = "/opt/demo/abba"
DL = "/opt/demo/dl"
FINDING_KEYS = ["id", "pid", "kind", "severity", "summary", "resolved_ns", "threads", "locks",
                "edges", "stacks", "items", "suppressed"]
# the wait keys were appended after the schema v3 lock columns; earlier keys keep their places
LOCK_KEYS = ["id", "kind", "addr", "name", "wait_ns", "wait_max_ns"]


def fail(msg):
    raise AssertionError(msg)


def expect(cond, msg):
    if not cond:
        fail(msg)


def expect_eq(got, want, what):
    if got != want:
        fail(f"{what}:\n  got:  {got!r}\n  want: {want!r}")


def workdir():
    d = os.path.join(ARGS.tmp, ARGS.case)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def make(scenario, name=None):
    path = os.path.join(workdir() if name is None else name, scenario + ".db")
    subprocess.run([ARGS.fixture, scenario, path], check=True)
    return path


def top(*args):
    return subprocess.run([ARGS.top, *args], capture_output=True, timeout=60)


def out_text(res):
    return res.stdout.decode("utf-8")


def run_json(path, want_rc):
    res = top("--json", path)
    expect_eq(res.returncode, want_rc, f"--json exit status (stderr {res.stderr!r})")
    expect_eq(res.stderr, b"", "--json stderr")
    return json.loads(out_text(res))


def run_report(path, want_rc):
    res = top("--report", path)
    expect_eq(res.returncode, want_rc, f"--report exit status (stderr {res.stderr!r})")
    expect_eq(res.stderr, b"", "--report stderr")
    return out_text(res).split("\n")


def expect_usage_error(res, fragment):
    """Exit 2, nothing on stdout, exactly one stderr line with the prefix."""
    err = res.stderr.decode("utf-8", "replace")
    expect_eq(res.returncode, 2, f"exit status (stderr {err!r})")
    expect_eq(res.stdout, b"", "stdout")
    expect(err.endswith("\n") and err.count("\n") == 1, f"one stderr line: {err!r}")
    expect(err.startswith("threadlens-top: "), f"stderr prefix: {err!r}")
    expect(fragment in err, f"{fragment!r} in stderr {err!r}")


def expect_db_error(path, fragment):
    for mode in ("--report", "--json"):
        expect_usage_error(top(mode, path), fragment)


def expect_block(lines, block):
    """The lines of block appear consecutively in lines."""
    for i in range(len(lines) - len(block) + 1):
        if lines[i:i + len(block)] == block:
            return i
    fail("block not found:\n" + "\n".join(block) + "\n--- in ---\n" + "\n".join(lines))


def frame(function, module, offset):
    return {"function": function, "module": module, "offset": offset}


def thread_stack(function, offset, module=ABBA):
    return [frame(function, module, offset), frame("start_thread", LIBC, "0x89134")]


def item(role, thread=None, lock=None, edge=None, stack=None, detail=None):
    return {"role": role, "thread": thread, "lock": lock, "edge": edge, "stack": stack,
            "detail": detail}


def thread(id, tid, name, detail=None):
    return {"id": id, "tid": tid, "name": name, "detail": detail}


# --- cases -----------------------------------------------------------------

def case_clean_report():
    path = make("clean")
    before = open(path, "rb").read()
    lines = run_report(path, 0)
    expect_eq(lines, ["process 1234 /usr/bin/clean exited with status 0",
                      "threadlens: no findings", ""], "report")
    expect_eq(open(path, "rb").read(), before, "database bytes after a read")
    expect_eq(sorted(os.listdir(os.path.dirname(path))), ["clean.db"], "files beside the db")


def case_agent_cost_report():
    lines = run_report(make("costly"), 0)
    expect_eq(lines, [
        "process 500 /usr/bin/srv exited with status 0",
        "  agent: collector busy 100.0ms, 2.50% of the 4.00s recorded; longest tick 60.0ms;"
        " memory at most 3.0 MiB",
        "process 501 /usr/bin/srv exited with status 0; recorded since attach, 2.0 s after it started",
        "  agent: collector busy 5.0ms, 0.25% of the 2.00s recorded; longest tick 5.0ms;"
        " memory at most 4.0 KiB",
        "process 502 /usr/bin/srv still running",
        "  agent: collector busy 750ns; longest tick 750ns; memory at most 8.0 KiB",
        "threadlens: no findings", ""], "report")


def case_clean_json():
    doc = run_json(make("clean"), 0)
    expect_eq(doc, {
        "version": 1,
        "processes": [{"pid": 1234, "ppid": 1, "exe": "/usr/bin/clean", "exit_status": 0,
                       "end_reason": "exit", "attach_ns": None, "agent": {"samples": 0, "collector_ns": 0, "longest_tick_ns": None, "max_bytes": None}}],
        "findings": [],
        "summary": {"findings": 0, "error": 0, "warning": 0, "info": 0, "suppressed": 0},
    }, "document")


ABBA_LOI = {
    "id": 1, "pid": 4242, "kind": "lock-order-inversion", "severity": "error",
    "summary": "lock order inversion: lock_a -> lock_b -> lock_a by 2 threads",
    "resolved_ns": None,
    "threads": [thread(2, 5002, "worker-a"), thread(3, 5003, "worker-b")],
    "locks": [{"id": 1, "kind": "mutex", "addr": "0x55d0c0ffee00", "name": "lock_a",
               "wait_ns": 0, "wait_max_ns": 0},
              {"id": 2, "kind": "mutex", "addr": "0x55d0c0ffee40", "name": "lock_b",
               "wait_ns": 1500000, "wait_max_ns": 1500000}],
    "edges": [{"from": 1, "to": 2, "thread": 2, "threads": 1, "modes": "W->W",
               "gate_lock": None},
              {"from": 2, "to": 1, "thread": 3, "threads": 1, "modes": "W->W",
               "gate_lock": None}],
    "stacks": [
        {"role": "held", "thread": 2, "lock": 1, "edge": 0,
         "frames": thread_stack("thread_a", "0x1200")},
        {"role": "acquired", "thread": 2, "lock": 2, "edge": 0,
         "frames": thread_stack("thread_a", "0x1234")},
        {"role": "held", "thread": 3, "lock": 2, "edge": 1,
         "frames": thread_stack("thread_b", "0x1300")},
        {"role": "acquired", "thread": 3, "lock": 1, "edge": 1,
         "frames": thread_stack("thread_b", "0x1334")},
    ],
    "items": [item("edge", thread=2, edge=0), item("edge", thread=3, edge=1)],
    "suppressed": False,
}

ABBA_MISUSE = {
    "id": 3, "pid": 4242, "kind": "lock-misuse", "severity": "error",
    "summary": "unlock of rwlock 0x7f00aa00 that T2 does not hold",
    "resolved_ns": None,
    "threads": [thread(2, 5002, "worker-a")],
    "locks": [{"id": 3, "kind": "rwlock", "addr": "0x7f00aa00", "name": None, "wait_ns": 0,
               "wait_max_ns": 0}],
    "edges": [],
    "stacks": [{"role": "site", "thread": 2, "lock": 3, "edge": None,
                "frames": [frame("unlock_twice", ABBA, "0x1600"),
                           frame("main", ABBA, "0x1510")]}],
    "items": [item("thread", thread=2), item("lock", lock=3),
              item("stack", thread=2, lock=3, stack=0, detail="site"),
              item("stack", thread=2, lock=3, detail="acquired")],
    "suppressed": False,
}

ABBA_LEAK = {
    "id": 2, "pid": 4242, "kind": "thread-leak", "severity": "warning",
    "summary": "thread T4 finished but was never joined or detached",
    "resolved_ns": None,
    "threads": [thread(4, 5004, None, "zombie")],
    "locks": [], "edges": [],
    "stacks": [{"role": "created", "thread": None, "lock": None, "edge": None,
                "frames": [frame("pthread_create", "/usr/lib/libthreadlens.so", "0x500"),
                           frame("main", ABBA, "0x1500")]}],
    "items": [item("stack", stack=0, detail="created"),
              item("thread", thread=4, detail="zombie")],
    "suppressed": False,
}

ABBA_GROWTH = {
    "id": 4, "pid": 4243, "kind": "memory-growth", "severity": "info",
    "summary": "live bytes allocated at grow() rise by 1.2 MiB/s",
    "resolved_ns": None,
    "threads": [], "locks": [], "edges": [],
    "stacks": [{"role": "site", "thread": None, "lock": None, "edge": None,
                "frames": [frame(None, ABBA, "0x1700"), frame("grow", ABBA, "0x1710")]}],
    "items": [item("stack", stack=0, detail="site")],
    "suppressed": False,
}


def case_abba_json():
    doc = run_json(make("abba"), 1)
    expect_eq(doc["version"], 1, "version")
    expect_eq(doc["processes"], [
        {"pid": 4242, "ppid": 1, "exe": ABBA, "exit_status": 0, "end_reason": "exit", "attach_ns": None,
         "agent": {"samples": 3, "collector_ns": 3200, "longest_tick_ns": 2500, "max_bytes": 12288}},
        {"pid": 4243, "ppid": 4242, "exe": ABBA, "exit_status": None, "end_reason": None, "attach_ns": None,
         "agent": {"samples": 0, "collector_ns": 0, "longest_tick_ns": None, "max_bytes": None}},
    ], "processes")
    expect_eq([f["id"] for f in doc["findings"]], [1, 3, 2, 4], "finding order")
    expect_eq(doc["findings"][0], ABBA_LOI, "lock-order-inversion finding")
    expect_eq(doc["findings"][1], ABBA_MISUSE, "lock-misuse finding")
    expect_eq(doc["findings"][2], ABBA_LEAK, "thread-leak finding")
    expect_eq(doc["findings"][3], ABBA_GROWTH, "memory-growth finding")
    expect_eq(doc["summary"], {"findings": 4, "error": 2, "warning": 1, "info": 1, "suppressed": 0}, "summary")
    expect_eq(list(doc), ["version", "processes", "findings", "summary"], "top-level keys")
    for f in doc["findings"]:
        expect_eq(list(f), FINDING_KEYS, f"keys of finding {f['id']}")
        expect_eq([list(t) for t in f["threads"]], [["id", "tid", "name", "detail"]] *
                  len(f["threads"]), "thread keys")
        expect_eq([list(i) for i in f["items"]],
                  [["role", "thread", "lock", "edge", "stack", "detail"]] * len(f["items"]),
                  "item keys")
        expect_eq([list(k) for k in f["locks"]], [LOCK_KEYS] * len(f["locks"]), "lock keys")


def case_abba_report():
    lines = run_report(make("abba"), 1)
    expect_eq(lines[:3], ["process 4242 /opt/demo/abba exited with status 0",
                          "  agent: collector busy 3.2us; longest tick 2.5us; memory at most 12.0 KiB",
                          "process 4243 /opt/demo/abba still running"], "process lines")
    heads = [l for l in lines if l.startswith("WARNING: ")]
    expect_eq(heads, ["WARNING: threadlens: lock-order-inversion (pid=4242)",
                      "WARNING: threadlens: lock-misuse (pid=4242)",
                      "WARNING: threadlens: thread-leak (pid=4242)",
                      "WARNING: threadlens: memory-growth (pid=4243)"], "finding order")
    expect_block(lines, [
        "==================",
        "WARNING: threadlens: lock-order-inversion (pid=4242)",
        "  severity: error",
        "  lock order inversion: lock_a -> lock_b -> lock_a by 2 threads",
        "  Cycle: mutex lock_a -> mutex lock_b -> mutex lock_a",
        "",
        '  Thread T2 (tid 5002, "worker-a") acquired mutex lock_b while holding mutex lock_a:',
        "    #0 thread_a abba+0x1234",
        "    #1 start_thread libc.so.6+0x89134",
        "  Mutex lock_a was acquired by T2 at:",
        "    #0 thread_a abba+0x1200",
        "    #1 start_thread libc.so.6+0x89134",
        "",
        '  Thread T3 (tid 5003, "worker-b") acquired mutex lock_a while holding mutex lock_b:',
        "    #0 thread_b abba+0x1334",
        "    #1 start_thread libc.so.6+0x89134",
        "  Mutex lock_b was acquired by T3 at:",
        "    #0 thread_b abba+0x1300",
        "    #1 start_thread libc.so.6+0x89134",
        "SUMMARY: threadlens: lock-order-inversion in thread_a",
        "==================",
    ])
    expect_block(lines, [
        "  severity: error",
        "  unlock of rwlock 0x7f00aa00 that T2 does not hold",
        '  Thread T2 (tid 5002, "worker-a")',
        "  Rwlock 0x7f00aa00",
        "",
        "  Site: [T2, rwlock 0x7f00aa00]",
        "    #0 unlock_twice abba+0x1600",
        "    #1 main abba+0x1510",
        "SUMMARY: threadlens: lock-misuse in unlock_twice",
    ])
    expect_block(lines, [
        "  severity: warning",
        "  thread T4 finished but was never joined or detached",
        "",
        "  Created at:",
        "    #0 pthread_create libthreadlens.so+0x500",
        "    #1 main abba+0x1500",
        "",
        "  Thread T4 (tid 5004): finished, never joined or detached",
        "SUMMARY: threadlens: thread-leak in pthread_create",
        "==================",
    ])
    expect("  resolved:" not in "\n".join(lines), "no resolved line for open findings")
    expect_block(lines, [
        "  Site:",
        "    #0 ?? abba+0x1700",
        "    #1 grow abba+0x1710",
        "SUMMARY: threadlens: memory-growth in abba+0x1700",
        "==================",
        "threadlens: 4 findings (2 errors, 1 warning, 1 info)",
        "",
    ])
    expect_eq(lines[-2], "threadlens: 4 findings (2 errors, 1 warning, 1 info)", "last line")


def case_noerror():
    path = make("noerror")
    lines = run_report(path, 0)
    expect_eq(lines[-2], "threadlens: 2 findings (0 errors, 1 warning, 1 info)", "last line")
    doc = run_json(path, 0)
    expect_eq([(f["kind"], f["severity"]) for f in doc["findings"]],
              [("thread-leak", "warning"), ("memory-growth", "info")], "findings")
    expect_eq(doc["summary"], {"findings": 2, "error": 0, "warning": 1, "info": 1, "suppressed": 0}, "summary")


def case_escape():
    path = make("escape")
    res = top("--json", path)
    expect_eq(res.returncode, 0, "exit status")
    doc = json.loads(res.stdout.decode("utf-8"))  # strict: the output must be valid UTF-8
    expect_eq(doc["processes"][0]["exe"], '/tmp/we"ird\\dir/prog', "exe")
    expect_eq(doc["processes"][0]["ppid"], None, "ppid")
    f = doc["findings"][0]
    expect_eq(f["summary"], "line1\nline2 \x1b[31mred", "summary")
    expect_eq([t["name"] for t in f["threads"]],
              ['q"b\\s\n\t\x01', "w\u00f6rker \u2713", "bad\ufffd\ufffd", "ab\ufffd\ufffd"],
              "thread names")
    expect_eq(f["locks"][0]["name"], 'lock"q', "lock name")
    expect_eq((f["locks"][0]["wait_ns"], f["locks"][0]["wait_max_ns"]), (0, 0), "NULL waits")
    expect(b"\\u0001" in res.stdout and b"\\u001b" in res.stdout, "control chars as \\u00XX")
    expect("w\u00f6rker \u2713".encode() in res.stdout, "UTF-8 passed through unescaped")

    res = top("--report", path)
    expect_eq(res.returncode, 0, "report exit status")
    text = res.stdout.decode("utf-8", "replace")
    expect(all(c == "\n" or ord(c) >= 0x20 for c in text), f"no control chars: {text!r}")
    lines = text.split("\n")
    expect_block(lines, ["  line1?line2 ?[31mred",
                         '  Thread T2 (tid 78, "q"b\\s???")',
                         '  Thread T3 (tid 79, "w\u00f6rker \u2713")'])
    expect_block(lines, ['  Mutex lock"q (0x1000)'])
    expect_eq(lines[0], 'process 77 /tmp/we"ird\\dir/prog exited with status 3', "process")


def case_dangling():
    path = make("dangling")
    doc = run_json(path, 1)
    expect_eq(doc["processes"], [{"pid": 90, "ppid": 1, "exe": None, "exit_status": None,
                                  "end_reason": None, "attach_ns": None, "agent": {"samples": 0, "collector_ns": 0, "longest_tick_ns": None, "max_bytes": None}}],
              "processes")
    f = doc["findings"][0]
    expect_eq(f["threads"], [thread(77, None, None)], "threads")
    expect_eq(f["locks"], [{"id": 55, "kind": None, "addr": None, "name": None, "wait_ns": None,
                            "wait_max_ns": None}], "locks (row missing)")
    expect_eq(f["edges"], [], "edges (row missing)")
    expect_eq(f["stacks"], [{"role": "site", "thread": None, "lock": None, "edge": None,
                             "frames": []}], "stacks")
    expect_eq(f["items"], [item("edge", thread=77), item("thread", thread=77),
                           item("lock", lock=55), item("stack", stack=0, detail="site"),
                           item("stack", detail="created")], "items (edge and stack missing)")
    lines = run_report(path, 1)
    expect_block(lines, ["  rows are missing", "", "  Thread T77:", "    Lock #55", "    Site:",
                         "      (no stack recorded)", "SUMMARY: threadlens: deadlock"])
    expect_eq(lines[0], "process 90 ? still running", "process line")


# --- thread-grouped findings: deadlock, blocked-thread, thread-leak ---------

def dl_stack(role, thread, lock, frames):
    return {"role": role, "thread": thread, "lock": lock, "edge": None, "frames": frames}


LOCK_A = {"id": 1, "kind": "mutex", "addr": "0x55d0c0ffee00", "name": "lock_a",
          "wait_ns": 2500, "wait_max_ns": 2500}
LOCK_B = {"id": 2, "kind": "mutex", "addr": "0x55d0c0ffee40", "name": "lock_b",
          "wait_ns": 4000000000, "wait_max_ns": 4000000000}
LOCK_C = {"id": 3, "kind": "mutex", "addr": "0x55d0c0ffee80", "name": "lock_c",
          "wait_ns": 120000, "wait_max_ns": 120000}
BLOCKED_IN_LIBC = [frame(None, LIBC, "0x91e10"), frame("worker_loop", DL, "0x1820"),
                   frame("start_thread", LIBC, "0x89134")]

DEADLOCK_AB = {
    "id": 1, "pid": 4242, "kind": "deadlock", "severity": "error",
    "summary": "deadlock: T2 and T3 wait for each other",
    "resolved_ns": None,
    "threads": [thread(2, 5002, "worker-a"), thread(3, 5003, "worker-b")],
    "locks": [LOCK_B, LOCK_A],
    "edges": [],
    "stacks": [
        dl_stack("blocked", 2, 2, thread_stack("thread_a", "0x1240", DL)),
        dl_stack("acquired", 2, 1, thread_stack("thread_a", "0x1200", DL)),
        dl_stack("blocked", 3, 1, thread_stack("thread_b", "0x1340", DL)),
        dl_stack("acquired", 3, 2, thread_stack("thread_b", "0x1300", DL)),
    ],
    "items": [
        item("thread", thread=2),
        item("lock", lock=2, detail="waits"),
        item("lock", lock=1, detail="holds"),
        item("stack", thread=2, lock=2, stack=0, detail="blocked"),
        item("stack", thread=2, lock=1, stack=1, detail="acquired"),
        item("thread", thread=3),
        item("lock", lock=1, detail="waits"),
        item("lock", lock=2, detail="holds"),
        item("stack", thread=3, lock=1, stack=2, detail="blocked"),
        item("stack", thread=3, lock=2, stack=3, detail="acquired"),
    ],
    "suppressed": False,
}

DEADLOCK_JOIN = {
    "id": 2, "pid": 4242, "kind": "deadlock", "severity": "error",
    "summary": "deadlock: T1 joins T4, which waits for lock_c held by T1",
    "resolved_ns": None,
    # T4's detail is not "joins": that item describes T1's wait
    "threads": [thread(1, 4242, "dl"), thread(4, 5004, None)],
    "locks": [LOCK_C],
    "edges": [],
    "stacks": [
        dl_stack("blocked", 1, None, [frame("pthread_join", LIBC, "0x8a1f0"),
                                      frame("main", DL, "0x1550")]),
        dl_stack("acquired", 1, 3, [frame("main", DL, "0x1540")]),
        dl_stack("blocked", 4, 3, thread_stack("thread_c", "0x1440", DL)),
    ],
    "items": [
        item("thread", thread=1),
        item("thread", thread=4, detail="joins"),
        item("lock", lock=3, detail="holds"),
        item("stack", thread=1, stack=0, detail="blocked"),
        item("stack", thread=1, lock=3, stack=1, detail="acquired"),
        item("thread", thread=4),
        item("lock", lock=3, detail="waits"),
        item("stack", thread=4, lock=3, stack=2, detail="blocked"),
    ],
    "suppressed": False,
}

DEADLOCK_AB_REPORT = [
    "==================",
    "WARNING: threadlens: deadlock (pid=4242)",
    "  severity: error",
    "  deadlock: T2 and T3 wait for each other",
    "",
    '  Thread T2 (tid 5002, "worker-a") holds mutex lock_a and waits for mutex lock_b:',
    "    Blocked at:",
    "      #0 thread_a dl+0x1240",
    "      #1 start_thread libc.so.6+0x89134",
    "    Mutex lock_a acquired at:",
    "      #0 thread_a dl+0x1200",
    "      #1 start_thread libc.so.6+0x89134",
    "",
    '  Thread T3 (tid 5003, "worker-b") holds mutex lock_b and waits for mutex lock_a:',
    "    Blocked at:",
    "      #0 thread_b dl+0x1340",
    "      #1 start_thread libc.so.6+0x89134",
    "    Mutex lock_b acquired at:",
    "      #0 thread_b dl+0x1300",
    "      #1 start_thread libc.so.6+0x89134",
    "SUMMARY: threadlens: deadlock in thread_a",
    "==================",
]

DEADLOCK_JOIN_REPORT = [
    "==================",
    "WARNING: threadlens: deadlock (pid=4242)",
    "  severity: error",
    "  deadlock: T1 joins T4, which waits for lock_c held by T1",
    "",
    '  Thread T1 (tid 4242, "dl") holds mutex lock_c and waits to join T4:',
    "    Blocked at:",
    "      #0 pthread_join libc.so.6+0x8a1f0",
    "      #1 main dl+0x1550",
    "    Mutex lock_c acquired at:",
    "      #0 main dl+0x1540",
    "",
    "  Thread T4 (tid 5004) waits for mutex lock_c:",
    "    Blocked at:",
    "      #0 thread_c dl+0x1440",
    "      #1 start_thread libc.so.6+0x89134",
    "SUMMARY: threadlens: deadlock in pthread_join",
    "==================",
]


def case_deadlock_json():
    doc = run_json(make("deadlock"), 1)
    expect_eq([f["id"] for f in doc["findings"]], [1, 2], "finding order")
    expect_eq(doc["findings"][0], DEADLOCK_AB, "deadlock T2/T3")
    expect_eq(doc["findings"][1], DEADLOCK_JOIN, "deadlock with a join")
    for f in doc["findings"]:
        expect_eq(list(f), FINDING_KEYS, "finding keys")
    expect_eq(doc["summary"], {"findings": 2, "error": 2, "warning": 0, "info": 0, "suppressed": 0}, "summary")


def case_deadlock_report():
    lines = run_report(make("deadlock"), 1)
    expect_eq(lines[0], "process 4242 /opt/demo/dl exited with status 0", "process line")
    expect_eq(lines[1:1 + len(DEADLOCK_AB_REPORT)], DEADLOCK_AB_REPORT, "deadlock T2/T3")
    expect_eq(lines[1 + len(DEADLOCK_AB_REPORT):-2], DEADLOCK_JOIN_REPORT, "deadlock with a join")
    expect_eq(lines[-2:], ["threadlens: 2 findings (2 errors, 0 warnings, 0 info)", ""],
              "last line")


def case_deadlock_resolved():
    path = make("deadlock_resolved")
    doc = run_json(path, 1)
    expect_eq(doc["findings"][0], dict(DEADLOCK_AB, resolved_ns=1001460000000), "deadlock T2/T3")
    expect_eq(doc["findings"][1], dict(DEADLOCK_JOIN, resolved_ns=1000003000001), "join deadlock")
    lines = run_report(path, 1)
    # 1.46 s rounds to 1.5; 3 ms to 0.0
    want = DEADLOCK_AB_REPORT[:3] + ["  resolved: after 1.5 s"] + DEADLOCK_AB_REPORT[3:]
    expect_eq(lines[1:1 + len(want)], want, "resolved deadlock T2/T3")
    expect_block(lines, ["  severity: error", "  resolved: after 0.0 s",
                         "  deadlock: T1 joins T4, which waits for lock_c held by T1"])


BLOCKED_MUTEX = {
    "id": 2, "pid": 4242, "kind": "blocked-thread", "severity": "warning",
    "summary": "thread T2 blocked on mutex lock_b for 5.0 s",
    "resolved_ns": None,
    "threads": [thread(2, 5002, "worker-a", "mutex")],
    "locks": [LOCK_B],
    "edges": [],
    "stacks": [dl_stack("blocked", 2, 2, thread_stack("thread_a", "0x1240", DL))],
    "items": [item("thread", thread=2, detail="mutex"), item("lock", lock=2, detail="waits"),
              item("stack", thread=2, lock=2, stack=0, detail="blocked")],
    "suppressed": False,
}

BLOCKED_COND = {
    "id": 1, "pid": 4242, "kind": "blocked-thread", "severity": "info",
    "summary": "thread T3 was still waiting on a condition variable at exit",
    "resolved_ns": None,
    "threads": [thread(3, 5003, "worker-b", "cond")],
    "locks": [],
    "edges": [],
    "stacks": [dl_stack("blocked", 3, None, BLOCKED_IN_LIBC)],
    "items": [item("thread", thread=3, detail="cond"),
              item("stack", thread=3, stack=0, detail="blocked")],
    "suppressed": False,
}


def case_blocked_json():
    doc = run_json(make("blocked"), 0)
    expect_eq([f["id"] for f in doc["findings"]], [2, 1], "warning before info")
    expect_eq(doc["findings"][0], BLOCKED_MUTEX, "blocked on a mutex")
    expect_eq(doc["findings"][1], BLOCKED_COND, "blocked on a condition variable")
    expect_eq(list(doc["findings"][0]), FINDING_KEYS, "finding keys")


def case_blocked_report():
    lines = run_report(make("blocked"), 0)
    expect_eq(lines[1:-2], [
        "==================",
        "WARNING: threadlens: blocked-thread (pid=4242)",
        "  severity: warning",
        "  thread T2 blocked on mutex lock_b for 5.0 s",
        "",
        '  Thread T2 (tid 5002, "worker-a") waits for mutex lock_b:',
        "    Blocked at:",
        "      #0 thread_a dl+0x1240",
        "      #1 start_thread libc.so.6+0x89134",
        "SUMMARY: threadlens: blocked-thread in thread_a",
        "==================",
        "==================",
        "WARNING: threadlens: blocked-thread (pid=4242)",
        "  severity: info",
        "  thread T3 was still waiting on a condition variable at exit",
        "",
        '  Thread T3 (tid 5003, "worker-b") waits on a condition variable:',
        "    Blocked at:",
        "      #0 ?? libc.so.6+0x91e10",
        "      #1 worker_loop dl+0x1820",
        "      #2 start_thread libc.so.6+0x89134",
        "SUMMARY: threadlens: blocked-thread in libc.so.6+0x91e10",
        "==================",
    ], "report")
    expect_eq(lines[-2], "threadlens: 2 findings (0 errors, 1 warning, 1 info)", "last line")


LEAK = {
    "id": 1, "pid": 4242, "kind": "thread-leak", "severity": "warning",
    "summary": "3 threads created at spawn_pool were never joined or detached",
    "resolved_ns": None,
    "threads": [thread(4, 5004, None, "zombie"), thread(2, 5002, "worker-a", "running"),
                thread(3, 5003, "worker-b", "running")],
    "locks": [],
    "edges": [],
    "stacks": [dl_stack("created", None, None, [frame("spawn_pool", DL, "0x1700"),
                                                frame("main", DL, "0x1800")]),
               dl_stack("blocked", 2, None, BLOCKED_IN_LIBC)],
    "items": [item("stack", stack=0, detail="created"),
              item("thread", thread=4, detail="zombie"),
              item("thread", thread=2, detail="running"),
              item("stack", thread=2, stack=1, detail="blocked"),
              item("thread", thread=3, detail="running")],
    "suppressed": False,
}


def case_leak_json():
    doc = run_json(make("leak"), 0)
    expect_eq(doc["findings"], [LEAK], "findings")
    expect_eq(list(doc["findings"][0]), FINDING_KEYS, "finding keys")
    expect_eq(doc["summary"], {"findings": 1, "error": 0, "warning": 1, "info": 0, "suppressed": 0}, "summary")


def case_leak_report():
    lines = run_report(make("leak"), 0)
    expect_eq(lines, [
        "process 4242 /opt/demo/dl exited with status 0",
        "==================",
        "WARNING: threadlens: thread-leak (pid=4242)",
        "  severity: warning",
        "  3 threads created at spawn_pool were never joined or detached",
        "",
        "  Created at:",
        "    #0 spawn_pool dl+0x1700",
        "    #1 main dl+0x1800",
        "",
        "  Thread T4 (tid 5004): finished, never joined or detached",
        '  Thread T2 (tid 5002, "worker-a"): still running at exit',
        "    Blocked at:",
        "      #0 ?? libc.so.6+0x91e10",
        "      #1 worker_loop dl+0x1820",
        "      #2 start_thread libc.so.6+0x89134",
        '  Thread T3 (tid 5003, "worker-b"): still running at exit',
        "SUMMARY: threadlens: thread-leak in spawn_pool",
        "==================",
        "threadlens: 1 finding (0 errors, 1 warning, 0 info)",
        "",
    ], "report")


def case_missing_file():
    expect_db_error(os.path.join(workdir(), "nope.db"), "No such file or directory")


def case_text_file():
    path = os.path.join(workdir(), "notes.txt")
    with open(path, "w") as f:
        f.write("this is not a database\n" * 200)
    expect_db_error(path, "not a SQLite database")


def case_empty_file():
    path = os.path.join(workdir(), "empty.db")
    open(path, "w").close()
    expect_db_error(path, "not a threadlens database")


def case_directory():
    expect_db_error(workdir(), "Is a directory")


def case_nometa():
    expect_db_error(make("nometa"), "not a threadlens database (no 'app' row in meta)")


def case_notables():
    expect_db_error(make("notables"), "not a threadlens database")


def case_wrongapp():
    expect_db_error(make("wrongapp"), "not a threadlens database (meta app is 'somethingelse')")


def schema_version():
    """TL_SCHEMA_VERSION, as the viewer under test was built with it."""
    header = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "agent",
                          "schema.h")
    with open(header) as f:
        return int(re.search(r"#define TL_SCHEMA_VERSION (\d+)", f.read()).group(1))


def case_newer():
    expect_db_error(make("newer"), "schema version %d is newer than this threadlens-top reads"
                    % (schema_version() + 1))


def case_older():
    """A database of the previous version is refused, not misread."""
    v = schema_version()
    expect_db_error(make("older"), "older.db: schema version %d is older than this threadlens-top"
                    " reads (%d); read it with the threadlens-top of the release that wrote it"
                    % (v - 1, v))


def case_unversioned():
    expect_db_error(make("unversioned"), "unsupported schema version 0 (expected %d)"
                    % schema_version())


def case_wal():
    path = make("wal")
    expect_eq(run_report(path, 1)[-2],
              "threadlens: 4 findings (2 errors, 1 warning, 1 info)", "last line")
    expect_eq(run_json(path, 1)["findings"][0], ABBA_LOI, "lock-order-inversion finding")


def case_hold():
    """The writer holds a write transaction: the viewer reads the committed snapshot."""
    path = os.path.join(workdir(), "hold.db")
    writer = subprocess.Popen([ARGS.fixture, "hold", path], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    try:
        expect_eq(writer.stdout.readline(), b"ready\n", "writer ready")
        expect(os.path.exists(path + "-wal"), "the writer uses WAL")
        doc = run_json(path, 0)
        expect_eq([(f["kind"], f["summary"]) for f in doc["findings"]],
                  [("thread-growth", "committed")], "committed findings only")
        expect_eq(run_report(path, 0)[-2],
                  "threadlens: 1 finding (0 errors, 1 warning, 0 info)", "last line")
    finally:
        writer.stdin.close()
        expect_eq(writer.wait(timeout=60), 0, "writer exit status")


def case_odd_path():
    d = os.path.join(workdir(), "we?ird #%20 dir")
    os.makedirs(d)
    path = make("abba", d)
    expect_eq(run_json(path, 1)["findings"][0]["id"], 1, "first finding")


def case_usage():
    db = make("clean")
    res = top("--help")
    expect_eq(res.returncode, 0, "--help exit status")
    expect(b"--report" in res.stdout and b"--json" in res.stdout, "--help text")
    res = top("--version")
    expect_eq(res.returncode, 0, "--version exit status")
    expect(res.stdout.startswith(b"threadlens-top "), f"--version text {res.stdout!r}")
    # Without --report/--json it is the dashboard, which needs a terminal
    # (tests/tui drives it in tmux); a bad file is reported before that.
    expect_usage_error(top(db), "the interactive view needs a terminal; use --report or --json")
    expect_usage_error(top(), "a database file is needed")
    expect_usage_error(top(os.path.join(os.path.dirname(db), "nope.db")), "No such file or directory")
    expect_usage_error(top("--report"), "--report needs a database file")
    expect_usage_error(top("--json"), "--json needs a database file")
    expect_usage_error(top("--report", "--json", db), "cannot be combined")
    expect_usage_error(top("--report", db, db), "more than one database")
    expect_usage_error(top("--frobnicate", db), "unknown option (try --help): --frobnicate")
    expect_eq(top(db, "--report").returncode, 0, "database before the option")
    expect_eq(top("--json", "--", db).returncode, 0, "database after --")


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
        print(f"test_cli.py: no case {ARGS.case}", file=sys.stderr)
        return 2
    fn()
    print(f"viewer cli {ARGS.case}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
