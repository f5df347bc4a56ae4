#!/usr/bin/env python3
"""test_tui.py - drives the real threadlens-top dashboard in tmux.

usage: test_tui.py --top BIN --run BIN --bin DIR --spawner BIN --tmp DIR CASE

Each CASE is one ctest test (tests/tui/CMakeLists.txt). The `setup` case runs
sample programs under the agent (`threadlens run`) and keeps their databases
in TMP/dbs for the others. Every case starts its own tmux server (-L), so
cases may run in parallel. Screens are checked for content, not layout:
helpers wait until a text or pattern appears and dump the screen when it
does not. Exit status 77 means skipped (no tmux).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

ARGS = None
SKIP = 77
TIMEOUT = 15.0  # seconds to wait for a screen to show something
LEAK_STEADY_OPTS = ["interval=0.25", "trend_min_duration=3", "trend_window=6",
                    "sample_bytes=65536"]
PROGRAMS = {
    "abba": ("abba_two_threads", []),
    "pool": ("worker_pool", []),
    "leaks": ("thread_leaks", []),
    "leak_steady": ("leak_steady", LEAK_STEADY_OPTS),
}


def fail(msg):
    raise AssertionError(msg)


def expect(cond, msg):
    if not cond:
        fail(msg)


def db(name):
    path = os.path.join(ARGS.tmp, "dbs", name + ".db")
    expect(os.path.exists(path), f"{path} missing: did the tui_setup test run?")
    return path


def run_under_agent(prog, opts, path):
    argv = [ARGS.run, "run", "--db", path]
    for o in opts:
        argv += ["-o", o]
    argv += ["--", os.path.join(ARGS.bin, "tl-prog-" + prog)]
    res = subprocess.run(argv, capture_output=True, timeout=120)
    expect(res.returncode == 0, f"{prog} under the agent exited {res.returncode}: "
                                f"{res.stderr.decode(errors='replace')}")


class Pane:
    """One tmux server with one window running a command. TERM is tmux's own,
    so the keys tmux sends match the terminfo the program reads."""
    count = 0

    def __init__(self, command, width=120, height=40, env=None):
        Pane.count += 1
        self.sock = f"tltui-{ARGS.case}-{os.getpid()}-{Pane.count}"
        environ = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        environ.update(env or {})
        prefix = " ".join(f"{k}={shq(v)}" for k, v in environ.items())
        unset = "" if "NO_COLOR" in environ else "unset NO_COLOR; "
        shell = f"{unset}exec env {prefix} {command}"
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", str(width),
                  "-y", str(height), "sh", "-c", shell, ";",
                  "set-option", "-t", "main", "remain-on-exit", "on")

    def tmux(self, *args, check=True):
        res = subprocess.run(["tmux", "-L", self.sock, *args], capture_output=True, timeout=30)
        if check and res.returncode != 0:
            fail(f"tmux {' '.join(args)}: {res.stderr.decode(errors='replace')}")
        return res.stdout.decode("utf-8", "replace")

    def keys(self, *keys):
        for k in keys:
            self.tmux("send-keys", "-t", "main", k)
            time.sleep(0.15)

    def type(self, text):
        self.tmux("send-keys", "-t", "main", "-l", text)
        time.sleep(0.3)

    def screen(self, escapes=False, history=False, joined=False):
        """The visible screen; with history, every line since the start (tmux
        may move the first lines into history when it sizes the new window);
        joined: a line the pane wrapped comes back whole (a long path)."""
        args = ["capture-pane", "-p", "-t", "main"] + (["-e"] if escapes else [])
        args += ["-S", "-"] if history else []
        args += ["-J"] if joined else []
        return self.tmux(*args)

    def status(self):
        return self.tmux("display-message", "-p", "-t", "main",
                         "#{pane_dead} #{pane_dead_status}").split()

    def wait(self, what, timeout=TIMEOUT, absent=False):
        """Waits until `what` (a string, a compiled regex or a function of the
        screen) holds, or fails showing the last screen. Returns the screen."""
        deadline = time.time() + timeout
        while True:
            s = self.screen()
            if isinstance(what, str):
                ok = what in s
            elif hasattr(what, "search"):
                ok = what.search(s) is not None
            else:
                ok = bool(what(s))
            if ok != absent:
                return s
            if time.time() > deadline:
                fail(f"timed out waiting for {'absence of ' if absent else ''}{what!r}; "
                     f"screen:\n{s}")
            time.sleep(0.1)

    def wait_exit(self, timeout=TIMEOUT):
        """Waits until the pane's command exits; returns its status (tmux sets
        it a moment after marking the pane dead)."""
        deadline = time.time() + timeout
        dead_since = None
        while time.time() < deadline:
            st = self.status()
            if st and st[0] == "1" and len(st) > 1:
                return int(st[1])
            if st and st[0] == "1":
                dead_since = dead_since or time.time()
                if time.time() - dead_since > 2:
                    return None  # dead, status not reported by this tmux
            time.sleep(0.1)
        fail(f"still running after {timeout} s; screen:\n{self.screen()}")

    def close(self):
        self.tmux("kill-server", check=False)


def shq(s):
    return "'" + str(s).replace("'", "'\\''") + "'"


def top_pane(path, *opts, **kw):
    p = Pane(" ".join([shq(ARGS.top), *opts, shq(path)]), **kw)
    p.wait("1 Overview")
    return p


def rows_with(screen, word):
    return [l for l in screen.splitlines() if word in l]


# ---- cases ---------------------------------------------------------------

def case_setup():
    d = os.path.join(ARGS.tmp, "dbs")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, (prog, opts) in PROGRAMS.items():
        run_under_agent(prog, opts, os.path.join(d, name + ".db"))


def case_overview():
    # Wide enough for the program's full path, which a long build directory
    # would push past an 80-column screen's edge.
    p = top_pane(db("abba"), width=80 + len(ARGS.top))
    try:
        s = p.wait("lock-order-inversion")
        for want in ["exited with status 0", "tl-prog-abba_two_threads", "Threads", "live",
                     "total", "Heap live", "RSS", "Lock acquisitions", "Findings: 1 (1 error"]:
            expect(want in s, f"{want!r} on the overview:\n{s}")
        expect(re.search(r"Threads\s+\d+ live / 3 total", s), f"thread counts:\n{s}")
    finally:
        p.close()


def case_views():
    p = top_pane(db("abba"))
    try:
        p.keys("2")
        s = p.wait(re.compile(r"STATE.*\n(.*\n)*.*exited"))
        expect(len(rows_with(s, "exited")) >= 3, f"three exited threads:\n{s}")
        p.keys("3")
        s = p.wait("lock_b")
        expect("lock_a" in s and "ACQUIRED" in s, f"locks view:\n{s}")
        expect("mutex" in s, f"lock kind:\n{s}")
        p.keys("4")
        p.wait(re.compile(r"T\d+ holds lock_[ab] -> wants lock_[ab] -> held by T\d+ "
                          r"-> wants lock_[ab]"))
        p.keys("5")
        p.wait("FUNCTION")
        p.keys("6")
        s = p.wait("lock-order-inversion")
        expect("error" in s, f"severity on the findings view:\n{s}")
        p.keys("Tab")
        p.wait("Heap live")
        p.keys("BTab")
        p.wait(re.compile(r"SUMMARY\n.*lock-order-inversion"), absent=False)
    finally:
        p.close()


def case_enter():
    p = top_pane(db("abba"))
    try:
        p.keys("3")
        p.wait("lock_b")
        p.keys("Home", "Enter")
        s = p.wait("Lock-order edges (2)")
        expect("mutex lock_a" in s.splitlines()[2], f"lock_a's detail:\n{s}")
        expect("lock_a -> lock_b" in s and "lock_b -> lock_a" in s, f"edges:\n{s}")
        expect(re.search(r"#\d+ thread_[ab] tl-prog-abba_two_threads\+0x", s), f"stacks:\n{s}")
        p.keys("Escape")
        p.wait("ACQUIRED")
        p.keys("Down", "Enter")
        s = p.wait("Lock-order edges")
        expect("mutex lock_b" in s.splitlines()[2], f"Down then Enter opens lock_b:\n{s}")
        p.keys("BSpace")
        p.wait("ACQUIRED")
        p.keys("j", "k", "Enter")
        s = p.wait("Lock-order edges")
        expect("mutex lock_a" in s.splitlines()[2], f"j k come back to lock_a:\n{s}")
        p.keys("Escape", "4", "Enter")
        s = p.wait("Cycle: mutex lock_a -> mutex lock_b -> mutex lock_a")
        expect(re.search(r"^T\d+ holds lock_a -> wants lock_b", s, re.M), f"chain:\n{s}")
        p.keys("Escape", "6", "Enter")
        s = p.wait("SUMMARY: threadlens: lock-order-inversion")
        report = subprocess.run([ARGS.top, "--report", db("abba")], capture_output=True,
                                timeout=60).stdout.decode()
        block = report[report.index("WARNING: threadlens:"):report.index("SUMMARY:")]
        for line in block.splitlines()[:20]:
            expect(line.rstrip()[:118] in s, f"report line {line!r} in the detail:\n{s}")
        p.keys("2", "End", "Enter")
        s = p.wait("Created at:")
        expect(re.search(r"#0 \S+ ", s), f"creation stack:\n{s}")
    finally:
        p.close()


def case_search_filter():
    p = top_pane(db("pool"))
    try:
        p.keys("3")
        s = p.wait("config_lock")
        n_rows = len([l for l in s.splitlines() if re.match(r"\s+\d+ \S+\s+\S+\s+\d+", l)])
        expect(n_rows >= 4, f"at least 4 locks:\n{s}")
        p.keys("\\")
        p.type("queue")
        s = p.wait("config_lock", absent=True)
        expect("queue_lock" in s and "Filter: queue" in s, f"filtered to queue_lock:\n{s}")
        p.keys("Enter")
        s = p.wait(re.compile(r"1/\d+ rows"))
        p.keys("Escape")
        s = p.wait("config_lock")
        expect("queue_lock" in s, f"filter cleared:\n{s}")
        p.keys("/")
        p.type("stats_l")
        p.wait("Search: stats_l")
        p.keys("Enter", "Enter")
        s = p.wait("Lock-order edges")
        expect("stats_lock" in s.splitlines()[2], f"search selected stats_lock:\n{s}")
        p.keys("Escape", "2", "\\")
        p.type("no-such-thread")
        p.wait("no row matches the filter")
        p.keys("Escape", "Escape")
        p.wait("running", absent=True)
    finally:
        p.close()


def case_sort():
    p = top_pane(db("pool"))
    try:
        p.keys("3")
        s = p.wait(re.compile(r"(?<!MAX )WAITv"))
        p.keys(">")
        p.wait("MAX WAITv")
        p.keys("<", "<")
        p.wait("CONT%v")
        p.keys("<", "<")
        s = p.wait("ACQUIREDv")
        acq = [int(m.group(1)) for m in re.finditer(r"^\s+\d+ \S+\s+\S+\s+(\d+)", s, re.M)]
        expect(len(acq) >= 2 and acq == sorted(acq, reverse=True), f"descending {acq}:\n{s}")
        p.keys("I")
        s = p.wait("ACQUIRED^")
        acq = [int(m.group(1)) for m in re.finditer(r"^\s+\d+ \S+\s+\S+\s+(\d+)", s, re.M)]
        expect(acq == sorted(acq), f"ascending after I {acq}:\n{s}")
        p.keys("F6")
        p.wait("CONTENDED^")
    finally:
        p.close()


WAIT_UNIT = re.compile(r"^\d+(\.\d+)?(ns|µs|us|ms|s)$")
# PID KIND NAME ACQUIRED CONTENDED CONT% WAIT MAX-WAIT EDGES ...
LOCK_ROW = re.compile(r"^\s*\d+ \S+\s+(\S+)\s+\d+\s+\d+\s+[\d.]+\s+(\S+)\s+(\S+)\s+\d+ ", re.M)


def wait_ns(cell):
    if cell == "0":
        return 0
    m = WAIT_UNIT.match(cell)
    expect(m, f"wait cell {cell!r} has a unit")
    scale = {"ns": 1, "µs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}[m.group(2)]
    return float(cell[:-len(m.group(2))]) * scale


def case_lock_wait():
    p = top_pane(db("pool"))
    try:
        p.keys("3")
        s = p.wait(re.compile(r"(?<!MAX )WAITv"))
        rows = LOCK_ROW.findall(s)
        names = [r[0] for r in rows]
        expect("queue_lock" in names or "stats_lock" in names, f"contended locks listed:\n{s}")
        expect(any(WAIT_UNIT.match(r[1]) for r in rows), f"a WAIT with a unit:\n{s}")
        waits = [wait_ns(r[1]) for r in rows]
        expect(waits == sorted(waits, reverse=True), f"sorted by total wait {waits}:\n{s}")
        for name, total, longest in rows:
            expect(wait_ns(longest) <= wait_ns(total) * 1.06, f"{name}: max <= total:\n{s}")
        expect("wait times are not recorded" not in s, f"old note gone:\n{s}")
        p.keys("Home", "Enter")
        s = p.wait("Contended acquisitions waited")
        expect(re.search(r"waited \d+(\.\d+)?(ns|µs|us|ms|s) in total, "
                         r"(0|\d+(\.\d+)?(ns|µs|us|ms|s)) at most", s), f"lock detail:\n{s}")
        expect(rows[0][0] in s.splitlines()[2], f"detail of the first row {rows[0][0]}:\n{s}")
    finally:
        p.close()


def case_help():
    p = top_pane(db("abba"))
    try:
        for key in ["?", "h", "F1"]:
            p.keys(key)
            s = p.wait("threadlens-top keys")
            for want in ["Tab", "PgUp", "Home", "Enter", "Esc", "/", "\\", "< > F6", "I",
                         "Z", "+ -", "? h F1", "q F10", "mouse"]:
                expect(want in s, f"{want!r} in the help:\n{s}")
            p.keys("Escape")
            p.wait("threadlens-top keys", absent=True)
        p.wait("lock-order-inversion")
    finally:
        p.close()


def case_resize():
    p = top_pane(db("abba"))
    try:
        p.wait("lock-order-inversion")
        p.tmux("resize-window", "-t", "main", "-x", "40", "-y", "12")
        s = p.wait(lambda s: max(len(l) for l in s.splitlines()) <= 40 and "1 Overview" in s)
        expect("threadlens-top" in s, f"header at 40x12:\n{s}")
        p.keys("2")
        p.wait("TID")
        p.tmux("resize-window", "-t", "main", "-x", "30", "-y", "8")
        p.wait("window too small")
        p.tmux("resize-window", "-t", "main", "-x", "120", "-y", "40")
        s = p.wait("LIFETIME")
        expect(p.status()[0] == "0", "still running after the resizes")
        p.keys("1")
        p.wait("lock-order-inversion")
    finally:
        p.close()


def case_quit():
    for key in ["q", "F10"]:
        script = (shq(ARGS.top) + " " + shq(db("abba")) +
                  "; echo after-exit=$?; stty -g >/dev/null && echo stty-ok")
        p = Pane(f"sh -c {shq(script)}")
        try:
            p.wait("1 Overview")
            p.keys("3", "Enter", key)
            expect(p.wait_exit() in (0, None), "the shell after threadlens-top exits 0")
            s = p.screen(history=True)
            expect("after-exit=0" in s, f"threadlens-top exits 0 on {key}:\n{s}")
            expect("stty-ok" in s, f"the terminal works after {key}:\n{s}")
            expect("1 Overview" not in s, f"the dashboard is gone after {key}:\n{s}")
        finally:
            p.close()


def case_leaks():
    p = top_pane(db("leaks"))
    try:
        p.keys("2")
        s = p.wait("leaked")
        expect(len(rows_with(s, "leaked")) == 4, f"4 leaked threads:\n{s}")
        expect(any("cond" in l for l in rows_with(s, "leaked")), f"one waits on a cond:\n{s}")
        p.keys("6")
        s = p.wait("thread-leak")
        expect("blocked-thread" in s, f"findings:\n{s}")
    finally:
        p.close()


def case_memory():
    p = top_pane(db("leak_steady"))
    try:
        p.keys("5")
        s = p.wait("leak_one")
        p.keys(">", ">")
        s = p.wait("GROWTH/sv")
        first = [l for l in s.splitlines()[3:] if l.strip()][0]
        expect("leak_one" in first, f"leak_one grows fastest:\n{s}")
        expect(re.search("[\u2581-\u2588]", first), f"a Unicode sparkline:\n{s}")
        p.keys("Home", "Enter")
        s = p.wait("Allocated at:")
        expect("leak_one" in s and "Growth:" in s, f"site detail:\n{s}")
        p.keys("Escape", "6")
        p.wait("memory-growth")
    finally:
        p.close()


def fmt_wait_ascii(ns):
    """tl_fmt_wait() with utf8 off: the viewer's compact durations."""
    if ns == 0:
        return "0"
    if ns < 1000:
        return f"{ns}ns"
    if ns < 999950:
        return f"{ns / 1e3:.1f}us"
    if ns < 999950000:
        return f"{ns / 1e6:.1f}ms"
    return f"{ns / 1e9:.2f}s"


def fmt_bytes(v):
    """tl_fmt_bytes(): "512 B", "12.3 KiB", ..."""
    units, u = ["B", "KiB", "MiB", "GiB", "TiB"], 0
    while v >= 1024 and u + 1 < len(units):
        v /= 1024
        u += 1
    return f"{v:.0f} B" if u == 0 else f"{v:.1f} {units[u]}"


def agent_memory_text(path):
    """The overview's agent memory: the latest sample's agent_bytes."""
    import sqlite3
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    row = con.execute("SELECT agent_bytes FROM sample ORDER BY t_ns DESC LIMIT 1").fetchone()
    con.close()
    return "-" if row is None or row[0] is None else fmt_bytes(row[0])


def collector_text(path):
    """The overview's collector value, worked out again from the samples it
    keeps (the last 41): their tick_ns after the first, over the time they
    span, and the longest of all of them; "-" before two samples."""
    import sqlite3
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = con.execute("SELECT t_ns, tick_ns FROM sample ORDER BY t_ns DESC LIMIT 41").fetchall()
    con.close()
    rows.reverse()
    if len(rows) < 2:
        return "-", len(rows)
    share = sum(r[1] for r in rows[1:]) / (rows[-1][0] - rows[0][0]) * 100
    return f"{share:.2f}%, max {fmt_wait_ascii(max(r[1] for r in rows))}", len(rows)


def case_collector():
    for name in ["leak_steady", "abba"]:
        want, samples = collector_text(db(name))
        expect(name != "leak_steady" or samples >= 3, f"leak_steady wrote {samples} samples")
        p = top_pane(db(name), env={"LANG": "C", "LC_ALL": "C"})
        try:
            s = p.wait("Agent memory")
            line = rows_with(s, "Collector")[0]
            expect(re.search(r"Collector\s+" + re.escape(want) + r"\s+[_.\-~=+*#]+", line),
                   f"{name}: collector line {line!r}, expected {want!r} and a sparkline")
            mem = agent_memory_text(db(name))
            line = rows_with(s, "Agent memory")[0]
            expect(re.search(r"Agent memory\s+" + re.escape(mem) + r"\s+[_.\-~=+*#]+", line),
                   f"{name}: agent memory line {line!r}, expected {mem!r} and a sparkline")
        finally:
            p.close()


COLOUR = r"\x1b\[(?:[0-9;]*;)?[34][0-7]m"  # an SGR setting a foreground or background


def case_ascii_nocolor():
    p = top_pane(db("leak_steady"), env={"LANG": "C", "LC_ALL": "C", "NO_COLOR": "1"})
    try:
        s = p.wait("Heap live")
        expect(not re.search("[\u2581-\u2588]", s), f"no Unicode blocks under LANG=C:\n{s}")
        expect(re.search(r"Heap live\s+\S+ \S+\s+[_.\-~=+*#]+", s), f"ASCII sparkline:\n{s}")
        esc = p.screen(escapes=True)
        expect(not re.search(COLOUR, esc), f"no colours with NO_COLOR:\n{esc!r}")
    finally:
        p.close()
    p = top_pane(db("leak_steady"))
    try:
        p.keys("6")
        p.wait("memory-growth")
        esc = p.screen(escapes=True)
        expect(re.search(COLOUR, esc), f"colours by default:\n{esc!r}")
    finally:
        p.close()
    p = top_pane(db("leak_steady"), "--no-color")
    try:
        p.keys("6")
        p.wait("memory-growth")
        esc = p.screen(escapes=True)
        expect(not re.search(COLOUR, esc), f"no colours with --no-color:\n{esc!r}")
    finally:
        p.close()


def case_errors():
    d = os.path.join(ARGS.tmp, ARGS.case)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    text = os.path.join(d, "notes.txt")
    with open(text, "w") as f:
        f.write("not a database\n" * 100)
    foreign = os.path.join(d, "foreign.db")
    import sqlite3
    c = sqlite3.connect(foreign)
    c.execute("CREATE TABLE t(x)")
    c.commit()
    c.close()
    for path, want in [(os.path.join(d, "nope.db"), "No such file or directory"),
                       (text, "not a SQLite database"), (foreign, "not a threadlens database")]:
        p = Pane(f"sh -c {shq(shq(ARGS.top) + ' ' + shq(path) + '; echo after-exit=$?')}")
        try:
            p.wait_exit()
            s = p.screen(history=True, joined=True)
            lines = [l for l in s.splitlines() if l.strip() and not l.startswith("Pane is dead")]
            expect(len(lines) == 2 and lines[0].startswith("threadlens-top: ") and want in lines[0],
                   f"one error line with {want!r}:\n{s}")
            expect(lines[1] == "after-exit=2", f"exit status 2:\n{s}")
        finally:
            p.close()


def case_follow():
    d = os.path.join(ARGS.tmp, ARGS.case)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    path = os.path.join(d, "spawner.db")
    prog = subprocess.Popen([ARGS.run, "run", "--db", path, "-o", "interval=0.2", "--", ARGS.spawner],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    p = None
    try:
        deadline = time.time() + 30
        while True:
            res = subprocess.run([ARGS.top, "--json", path], capture_output=True, timeout=30)
            if res.returncode in (0, 1):
                break
            expect(time.time() < deadline, f"the database never became readable: {res.stderr!r}")
            time.sleep(0.05)
        p = top_pane(path)
        p.keys("+", "+")  # refresh every 250 ms
        seen = []
        deadline = time.time() + 30
        while time.time() < deadline:
            s = p.screen()
            m = re.search(r"Threads\s+(\d+) live", s)
            if m and (not seen or seen[-1] != int(m.group(1))):
                seen.append(int(m.group(1)))
            if "exited with status 0" in s:
                break
            time.sleep(0.1)
        expect(prog.wait(timeout=30) == 0, f"spawner exit status: {prog.stderr.read()!r}")
        s = p.wait("exited with status 0")
        rising = [b for a, b in zip(seen, seen[1:]) if b > a]
        expect(len(rising) >= 3, f"the live thread count rose on screen at least 3 times: {seen}")
        expect(max(seen) >= 8, f"the live count reached 8 or more: {seen}")
        expect("running" not in s.splitlines()[0], f"header after exit:\n{s}")
    finally:
        if prog.poll() is None:
            prog.kill()
            prog.wait()
        if p:
            p.close()


def case_thread_state():
    """A hung deadlock_abba under the agent: the Threads view shows what each
    thread blocks on now and the locks it holds, from thread_state."""
    import sqlite3
    d = os.path.join(ARGS.tmp, ARGS.case)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    path = os.path.join(d, "deadlock.db")
    prog = subprocess.Popen([ARGS.run, "run", "--db", path, "-o", "interval=0.2", "--",
                             os.path.join(ARGS.bin, "tl-prog-deadlock_abba")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    p = None
    try:
        deadline = time.time() + 30
        n = 0
        while n < 3:
            expect(time.time() < deadline, f"thread_state never had 3 rows ({n})")
            expect(prog.poll() is None, f"deadlock_abba exited {prog.returncode}")
            try:
                c = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
                n = c.execute("SELECT count(*) FROM thread_state").fetchone()[0]
                c.close()
            except sqlite3.Error:
                n = 0
            time.sleep(0.1)
        p = top_pane(path)
        p.keys("2")
        s = p.wait(re.compile(r"blocked on mutex lock_[ab] \(\d"))
        expect("HELD" in s, f"HELD column:\n{s}")
        rows = [l for l in s.splitlines() if re.search(r"blocked on mutex lock_[ab]", l)]
        expect(len(rows) == 2, f"two threads blocked on a mutex:\n{s}")
        for l in rows:
            want = re.search(r"blocked on mutex (lock_[ab])", l).group(1)
            held = "lock_b" if want == "lock_a" else "lock_a"
            expect(re.search(r"\(\d[^)]*\)", l), f"wait duration in row {l!r}:\n{s}")
            expect(held in l, f"{held} held in row {l!r}:\n{s}")
        expect(re.search(r"blocked in join", s), f"main blocked in join:\n{s}")
        p.keys("/")
        p.type("blocked on mutex lock_b")
        p.keys("Enter", "Enter")
        s = p.wait("Holds (1):")
        expect(re.search(r"mutex lock_a, taken in hold_a_want_b", s), f"held lock's function:\n{s}")
        expect("Waits for: mutex lock_b, called from hold_a_want_b" in s, f"call site:\n{s}")
        p.keys("Escape", "q")
        expect(p.wait_exit() in (0, None), "quit")
    finally:
        if prog.poll() is None:
            prog.kill()
            prog.wait()
        if p:
            p.close()


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--spawner", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("case")
    ARGS = ap.parse_args()
    if not shutil.which("tmux"):
        print("SKIP: tmux is not installed (apt-get install tmux); the dashboard tests need it")
        return SKIP
    fn = globals().get("case_" + ARGS.case)
    if not fn:
        print(f"unknown case {ARGS.case}")
        return 2
    os.makedirs(ARGS.tmp, exist_ok=True)
    try:
        fn()
    except AssertionError as e:
        print(f"FAIL {ARGS.case}: {e}")
        return 1
    print(f"ok {ARGS.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
