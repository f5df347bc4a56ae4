"""fixture_db.py - writes a threadlens database with known contents for the
export tests, using the agent's own schema: the SQL and the version are read
from agent/schema.h (TL_SCHEMA_SQL, TL_SCHEMA_VERSION), so the fixture
follows the schema as it changes. Columns the rows below do not name are left
NULL.

The run (times in seconds after T0):
  process 1: pid 4242, /opt/fixture/app, 0 .. 5 s, ended by exec
  process 2: pid 4243, forked child with an odd exe name, 1 .. 2 s
  process 3: pid 4242 again (the exec'ed image), 5.1 .. 6 s
"""
import re
import sqlite3

T0 = 1_700_000_000_000_000_000
S = 1_000_000_000
APP = "/opt/fixture/app"
LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
CHILD = '/opt/fixture/we"ird\\app\n'  # quote, backslash, newline: escaping

# stack id -> frames (module, offset, function), innermost first
STACKS = {
    1: [(APP, 0x1100, "alloc_leaf"), (APP, 0x1200, "main"), (LIBC, 0x29D90, None)],
    2: [(APP, 0x1300, "make_node"), (APP, 0x1200, "main")],
    3: [(APP, 0x1400, "spawn_workers"), (APP, 0x1200, "main")],
    4: [(APP, 0x1500, "worker_loop"), (LIBC, 0x94AC3, None)],
    5: [(APP, 0x1600, "flush_cache"), (APP, 0x1500, "worker_loop")],
    6: [(None, None, None)],
}

# (proc, site, stack, [(t, live_bytes, live_count, alloc_bytes)])
SITES = [
    (1, 1, 1, [(1, 1000, 10, 5000), (3, 4096, 16, 8192)]),
    (1, 2, 2, [(1, 300, 3, 300), (3, 0, 0, 3000)]),
    (1, 3, 6, [(2, 64, 1, 64)]),
    (2, 1, 2, [(1.5, 777, 7, 777)]),
]

# (proc, id, name, kind, first_stack, acquisitions, contentions, wait_ns, wait_max_ns)
LOCKS = [
    (1, 1, "queue_lock", "mutex", 4, 100, 5, 1_500_000, 900_000),
    (1, 2, None, "rwlock", 5, 40, 2, 20_000, 15_000),
    (1, 3, "idle_lock", "mutex", 4, 10, 0, 0, 0),
    (2, 1, "child_lock", "mutex", 5, 3, 1, 700, 700),
]

# (proc, id, tid, name, create_stack, start, end)
THREADS = [
    (1, 1, 4242, "app", None, 0.001, None),
    (1, 2, 4250, "worker-a", 3, 0.1, 3.0),
    (1, 3, 4251, "worker-b", 3, 0.2, None),
    (1, 4, 4252, None, None, 0.3, 4.0),
    (2, 1, 4243, "child", None, 1.0, None),
    (3, 1, 4242, "app2", None, 5.1, None),
    (3, 2, 4260, "late", 3, 5.2, 5.9),
]

# (proc, id, name, queued, started, ended, submit_thread, run_thread)
TASKS = [
    (1, 1, "job-a", 0.5, 0.6, 0.9, 1, 2),
    (1, 2, "job-b", 1.0, 1.1, 5.5, 1, 2),   # ends after its thread: clipped at 3.0
    (1, 3, None, 0.7, 0.8, 1.2, 1, 2),      # crosses the end of job-a: clipped at 0.9
    (1, 4, "never-run", 2.0, None, None, 1, None),
]

# (proc, thread, wait_kind, wait_lock, since)
WAITS = [
    (1, 3, "mutex", 1, 4.0),          # 1 s, until the process ends
    (1, 1, "join", None, 4.9999995),  # 0.5 us: under the threshold
]

# (proc, t, threads_live, heap_live_bytes, rss_bytes, tasks_in_flight, contentions, acquisitions,
#  tick_ns, agent_bytes)
SAMPLES = [
    (1, 1, 3, 1300, None, 2, 1, 50, 0, 131072),
    (1, 2, 4, 2000, 9_000_000, 1, 4, 120, 1_500_000, 196608),
    (1, 3, 3, 4096, 10_000_000, 1, 7, 150, 250_000, 200704),
    (2, 1.5, 1, 777, 2_000_000, 0, 1, 3, 0, None),
    (3, 5.5, 2, 100, 3_000_000, 0, 0, 0, 400_000, 65536),
]

# (proc, kind, severity, t, resolved, suppressed)
FINDINGS = [
    (1, "lock-order-inversion", "error", 2, None, 0),
    (1, "thread-leak", "warning", 4, None, 0),
    (1, "thread-leak", "warning", 4, None, 0),
    (1, "memory-leak", "warning", 5, None, 1),
    (1, "deadlock", "error", 3, 3.5, 0),
    (3, "limit-exceeded", "error", 5.6, None, 0),
]


def ns(t):
    return None if t is None else T0 + int(round(t * S))


def schema(schema_h):
    text = open(schema_h).read()
    version = int(re.search(r"#define TL_SCHEMA_VERSION (\d+)", text).group(1))
    body = text[text.index("#define TL_SCHEMA_SQL"):]
    lines = []
    for line in body.split("\n")[1:]:
        lines.append(line)
        if not line.rstrip().endswith("\\"):
            break
    literals = re.findall(r'"((?:[^"\\]|\\.)*)"', "\n".join(lines))
    sql = "".join(lit.encode().decode("unicode_escape") for lit in literals)
    return version, sql


def write(path, schema_h):
    version, sql = schema(schema_h)
    db = sqlite3.connect(path)
    db.executescript(sql)
    db.execute(f"PRAGMA user_version = {version}")
    db.execute("INSERT INTO meta(key, value) VALUES('app', 'threadlens')")
    db.executemany(
        "INSERT INTO process(id, pid, ppid, exe, cmdline, start_ns, end_ns, exit_status,"
        " end_reason) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(1, 4242, 1, APP, "app", ns(0), ns(5), None, "exec"),
         (2, 4243, 4242, CHILD, "app", ns(1), ns(2), 0, "exit"),
         (3, 4242, 1, APP, "app --child", ns(5.1), ns(6), 0, "exit")])
    for sid, frames in STACKS.items():
        db.execute("INSERT INTO stack(id, hash, depth) VALUES(?, ?, ?)", (sid, 1000 + sid,
                                                                        len(frames)))
        db.executemany("INSERT INTO frame(stack, idx, module, offset, function)"
                       " VALUES(?, ?, ?, ?, ?)",
                       [(sid, i, *f) for i, f in enumerate(frames)])
    for proc, site, stack, rows in SITES:
        fn = STACKS[stack][0][2]
        db.execute("INSERT INTO alloc_site(proc, id, stack, function, first_ns)"
                   " VALUES(?, ?, ?, ?, ?)", (proc, site, stack, fn, ns(rows[0][0])))
        db.executemany("INSERT INTO site_sample(proc, site, t_ns, live_bytes, live_count,"
                       " alloc_bytes) VALUES(?, ?, ?, ?, ?, ?)",
                       [(proc, site, ns(t), b, c, a) for t, b, c, a in rows])
    db.executemany("INSERT INTO lock(proc, id, addr, kind, name, first_stack, acquisitions,"
                   " contentions, wait_ns, wait_max_ns) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [(p, i, 0x5000 + i * 64, k, n, st, a, c, w, m)
                    for p, i, n, k, st, a, c, w, m in LOCKS])
    db.executemany("INSERT INTO thread(proc, id, tid, name, creator, create_stack, start_ns,"
                   " end_ns, end_how) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [(p, i, tid, n, 1 if st else None, st, ns(a), ns(b), "return" if b else None)
                    for p, i, tid, n, st, a, b in THREADS])
    db.executemany("INSERT INTO task(proc, id, name, queued_ns, started_ns, ended_ns,"
                   " submit_thread, run_thread) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                   [(p, i, n, ns(q), ns(s), ns(e), st, rt) for p, i, n, q, s, e, st, rt in TASKS])
    db.executemany("INSERT INTO thread_state(proc, thread, t_ns, wait_kind, wait_lock,"
                   " wait_since_ns) VALUES(?, ?, ?, ?, ?, ?)",
                   [(p, t, ns(5), k, lk, ns(since)) for p, t, k, lk, since in WAITS])
    db.executemany("INSERT INTO sample(proc, t_ns, threads_live, threads_total, heap_live_bytes,"
                   " rss_bytes, tasks_in_flight, contentions, acquisitions, tick_ns, agent_bytes)"
                   " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [(p, ns(t), th, th + 1, h, r, k, c, a, tk, ab)
                    for p, t, th, h, r, k, c, a, tk, ab in SAMPLES])
    db.executemany("INSERT INTO finding(proc, kind, severity, summary, t_ns, resolved_ns,"
                   " suppressed) VALUES(?, ?, ?, ?, ?, ?, ?)",
                   [(p, k, sev, f"{k} \"quoted\" summary", ns(t), ns(r), sup)
                    for p, k, sev, t, r, sup in FINDINGS])
    db.commit()
    db.close()
