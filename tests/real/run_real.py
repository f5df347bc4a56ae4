#!/usr/bin/env python3
"""run_real.py - real programs under `threadlens run` compute exactly what they
compute without it, and leave a database threadlens-top can read.

usage: run_real.py --threadlens BIN --top BIN --tmp DIR [--prog PATH] CASE

Cases (one ctest test each, tests/real/CMakeLists.txt):
  pigz, zstd, xz  compress a few MB of deterministic data with 4 threads, then
                  decompress it: the compressed bytes and the round trip are
                  identical with and without the agent
  memcached       memcached -t 4 on a free loopback port; 4 client connections
                  issue thousands of set/get, every answer checked; SIGTERM;
                  the database holds the process, its threads and samples
  cpp_sync        tests/real/cpp_sync.cpp (std::thread, mutex, condition
                  variable, shared_mutex)
  jemalloc        tests/real/jemalloc_threads.c, linked with -ljemalloc
  static          a statically linked program: the launcher says the agent
                  cannot be preloaded and runs it anyway
  pipeline        sh running pigz | zstd | xz | xz -d | zstd -d | pigz -d:
                  every process is a row of `process` in one database
Every database must pass `PRAGMA integrity_check`, and `threadlens-top
--json` must exit 0 (these programs are correct: no finding of severity
error) and print valid JSON; the findings are printed for the log.
A case whose program is not installed exits 77 (skipped).
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

ARGS = None
SKIP = 77
TIMEOUT_S = 120
AGENT_PREFIX = b"threadlens:"
DATA_BYTES = 4 << 20


class Skip(Exception):
    pass


def fail(msg):
    raise AssertionError(msg)


def expect(cond, msg):
    if not cond:
        fail(msg)


def need(program):
    path = shutil.which(program)
    if not path:
        raise Skip(f"{program} is not installed (scripts/setup.sh installs it)")
    return path


def workdir():
    d = os.path.join(ARGS.tmp, ARGS.case)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def data_file(d):
    """A few MB of deterministic, compressible text."""
    rng = random.Random(20261123)
    words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
             for _ in range(4000)]
    out = bytearray()
    while len(out) < DATA_BYTES:
        line = b" ".join(rng.choice(words) for _ in range(rng.randint(4, 16)))
        out += line + b" %d\n" % rng.randint(0, 1 << 30)
    path = os.path.join(d, "data")
    with open(path, "wb") as f:
        f.write(out[:DATA_BYTES])
    return path


def without_agent_lines(err):
    return b"\n".join(line for line in err.split(b"\n") if not line.startswith(AGENT_PREFIX))


def bare(argv, stdin=None):
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=TIMEOUT_S)


def under(db, argv, stdin=None, options=()):
    opts = [a for o in options for a in ("-o", o)]
    return subprocess.run([ARGS.threadlens, "run", "--db", db, *opts, "--", *argv], input=stdin,
                          capture_output=True, timeout=TIMEOUT_S)


def same_run(what, a, b):
    """The agent changed nothing the program shows: stdout, status, its own stderr."""
    expect(a.stdout == b.stdout, f"{what}: stdout differs ({len(a.stdout)} bytes bare, "
           f"{len(b.stdout)} under the agent)")
    expect(a.returncode == b.returncode,
           f"{what}: exit status {b.returncode} under the agent, {a.returncode} bare")
    expect(without_agent_lines(a.stderr) == without_agent_lines(b.stderr),
           f"{what}: stderr differs:\n bare: {a.stderr[-500:]!r}\n agent: {b.stderr[-500:]!r}")


def check_db(db, min_processes=1):
    """The database is sound and holds the run. Returns its process rows."""
    expect(os.path.exists(db), f"no database {db}")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchall()
        expect(ok == [("ok",)], f"{db}: integrity_check {ok}")
        procs = conn.execute("SELECT id, pid, ppid, exe, end_reason FROM process"
                             " ORDER BY id").fetchall()
        threads = conn.execute("SELECT count(*) FROM thread").fetchone()[0]
    finally:
        conn.close()
    expect(len(procs) >= min_processes, f"{db}: {len(procs)} process rows, want "
           f">= {min_processes}: {procs}")
    expect(threads >= len(procs), f"{db}: {threads} thread rows for {len(procs)} processes")
    return procs


def findings(db, want_rc=0):
    """threadlens-top --json and --report on db; prints what was found."""
    res = subprocess.run([ARGS.top, "--json", db], capture_output=True, timeout=TIMEOUT_S)
    try:
        doc = json.loads(res.stdout.decode("utf-8"))
    except ValueError as e:
        fail(f"--json printed invalid JSON ({e}); exit {res.returncode}, stderr {res.stderr!r}")
    found = doc["findings"]
    report = subprocess.run([ARGS.top, "--report", db], capture_output=True,
                            timeout=TIMEOUT_S)
    for f in found:
        print(f"finding: {f['kind']} {f['severity']}: {f['summary']}")
    if found:
        print(report.stdout.decode("utf-8", "replace"))
    expect(res.returncode == want_rc, f"--json exit status {res.returncode}, want {want_rc}: "
           f"{res.stderr!r}\n{[(f['kind'], f['severity'], f['summary']) for f in found]}")
    expect(report.returncode == res.returncode,
           f"--report exit status {report.returncode}, --json {res.returncode}")
    return found


def sha(data):
    return hashlib.sha256(data).hexdigest()


# ---- compressors -----------------------------------------------------------

def compressor(program, compress, decompress, compressed_equal=True):
    """Compress with threads, then decompress, bare and under the agent."""
    need(program)
    d = workdir()
    src = data_file(d)
    with open(src, "rb") as f:
        data = f.read()
    argv = [program, *compress, src]
    packed_bare = bare(argv)
    packed = under(os.path.join(d, "compress.db"), argv)
    expect(packed_bare.returncode == 0, f"bare {argv}: {packed_bare.stderr!r}")
    if compressed_equal:
        same_run("compress", packed_bare, packed)
    else:
        expect(packed.returncode == 0, f"compress under the agent: {packed.stderr!r}")
    unpack = [program, *decompress]
    unpacked_bare = bare(unpack, packed_bare.stdout)
    unpacked = under(os.path.join(d, "decompress.db"), unpack, packed.stdout)
    same_run("decompress", unpacked_bare, unpacked)
    expect(sha(unpacked.stdout) == sha(data), "the round trip under the agent lost data")
    print(f"{program}: {len(data)} bytes -> {len(packed.stdout)} -> {len(unpacked.stdout)},"
          f" sha256 {sha(data)[:16]} both ways")
    for db in ("compress.db", "decompress.db"):
        check_db(os.path.join(d, db))
        findings(os.path.join(d, db))


def case_pigz():
    compressor("pigz", ["-p", "4", "-c"], ["-d", "-p", "4", "-c"])


def case_zstd():
    compressor("zstd", ["-T4", "-q", "-c", "-3"], ["-d", "-T4", "-q", "-c"])


def case_xz():
    # Multi-threaded xz cuts the input into blocks; the output is deterministic.
    compressor("xz", ["-T4", "--block-size=262144", "-c", "-1"], ["-d", "-T4", "-c"])


# ---- memcached ---------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect(port, deadline):
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=30)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Client:
    """The memcached text protocol, every answer read in full and checked."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                fail("memcached closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                fail("memcached closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def set(self, key, value):
        self.sock.sendall(b"set %s 0 0 %d\r\n%s\r\n" % (key, len(value), value))
        got = self.line()
        expect(got == b"STORED", f"set {key!r}: {got!r}")

    def get(self, key):
        self.sock.sendall(b"get %s\r\n" % key)
        head = self.line()
        if head == b"END":
            return None
        parts = head.split(b" ")
        expect(len(parts) == 4 and parts[0] == b"VALUE" and parts[1] == key,
               f"get {key!r}: {head!r}")
        value = self.exact(int(parts[3]) + 2)
        expect(value.endswith(b"\r\n"), f"get {key!r}: value not ended by CRLF")
        end = self.line()
        expect(end == b"END", f"get {key!r}: {end!r} after the value")
        return value[:-2]


def value_of(conn, i):
    return (b"value-%d-%d-" % (conn, i)) * (1 + (i * 7 + conn) % 40)


def client_work(port, conn, ops, errors, deadline):
    try:
        c = Client(connect(port, deadline))
        for i in range(ops):
            key = b"c%d:k%d" % (conn, i)
            c.set(key, value_of(conn, i))
            got = c.get(key)
            expect(got == value_of(conn, i), f"get {key!r} returned {got[:40]!r}...")
            if i % 10 == 0:
                expect(c.get(b"missing:%d:%d" % (conn, i)) is None, "a missing key was found")
        c.sock.close()
    except Exception as e:  # noqa: BLE001 - reported by the main thread
        errors.append(f"connection {conn}: {e!r}")


def case_memcached():
    memcached = need("memcached")
    d = workdir()
    db = os.path.join(d, "memcached.db")
    port = free_port()
    argv = [memcached, "-t", "4", "-p", str(port), "-U", "0", "-l", "127.0.0.1", "-m", "64"]
    if os.geteuid() == 0:
        argv += ["-u", "root"]  # memcached refuses root without -u; root keeps the db writable
    server = subprocess.Popen([ARGS.threadlens, "run", "--db", db, "-o", "interval=0.2", "--",
                               *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    conns, ops, errors = 4, 1500, []
    try:
        deadline = time.monotonic() + 30
        workers = [threading.Thread(target=client_work, args=(port, c, ops, errors, deadline))
                   for c in range(conns)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        expect(not errors, "; ".join(errors))
        # Every connection's keys are visible from a new one.
        check = Client(connect(port, deadline))
        for c in range(conns):
            for i in range(0, ops, 97):
                expect(check.get(b"c%d:k%d" % (c, i)) == value_of(c, i), f"c{c}:k{i} lost")
        check.sock.close()
        time.sleep(0.5)  # at least one more collector tick with the server idle
        expect(server.poll() is None, f"memcached ended early: {server.poll()}")
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=60)
    print(f"memcached: {conns} connections x {ops} set+get checked; exit {server.returncode}")
    expect(server.returncode in (0, -signal.SIGTERM),
           f"memcached exit status {server.returncode}: {err[-2000:]!r}")
    procs = check_db(db)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    threads = conn.execute("SELECT count(*) FROM thread WHERE proc = ?", (procs[0][0],)).fetchone()[0]
    samples = conn.execute("SELECT count(*) FROM sample").fetchone()[0]
    conn.close()
    print(f"memcached: process {procs[0]}, {threads} threads, {samples} samples")
    expect(procs[0][1] == server.pid, f"process row pid {procs[0][1]}, memcached {server.pid}")
    expect(threads >= 5, f"{threads} thread rows; memcached -t 4 runs more than 4 threads")
    expect(samples >= 2, f"{samples} sample rows")
    findings(db)


# ---- programs built here -----------------------------------------------------

def built_program(what):
    if not ARGS.prog or not os.path.exists(ARGS.prog):
        raise Skip(f"{what} was not built (see tests/real/CMakeLists.txt)")
    return ARGS.prog


def own_program(what):
    prog = built_program(what)
    d = workdir()
    db = os.path.join(d, "run.db")
    plain = bare([prog])
    agent = under(db, [prog])
    same_run(what, plain, agent)
    expect(plain.returncode == 0, f"{what} failed by itself: {plain.stdout!r}")
    print(plain.stdout.decode("utf-8", "replace"), end="")
    check_db(db)
    return findings(db)


def case_cpp_sync():
    own_program("tl-real-cpp-sync")


def case_jemalloc():
    own_program("tl-real-jemalloc")


def case_static():
    prog = built_program("tl-real-static")
    d = workdir()
    db = os.path.join(d, "run.db")
    plain = bare([prog])
    agent = under(db, [prog])
    same_run("static", plain, agent)
    expect(plain.returncode == 3, f"static program exit status {plain.returncode}, want 3")
    notes = [line for line in agent.stderr.split(b"\n") if line.startswith(AGENT_PREFIX)]
    expect(len(notes) == 1 and b"statically linked; the agent cannot be preloaded" in notes[0],
           f"want one line saying the agent cannot be preloaded, got {notes!r}")
    print(notes[0].decode())


# ---- a pipeline of threaded tools -----------------------------------------------

PIPELINE = ("pigz -p 4 -c < \"$1\" | zstd -T4 -q -c | xz -T4 -c -1 | xz -d -T4 -c"
            " | zstd -d -T4 -q -c | pigz -d -p 4 -c")


def case_pipeline():
    for program in ("pigz", "zstd", "xz"):
        need(program)
    d = workdir()
    src = data_file(d)
    with open(src, "rb") as f:
        data = f.read()
    db = os.path.join(d, "run.db")
    argv = ["sh", "-c", PIPELINE, "sh", src]
    plain = bare(argv)
    agent = under(db, argv)
    same_run("pipeline", plain, agent)
    expect(agent.stdout == data, "the pipeline under the agent changed the data")
    procs = check_db(db, min_processes=7)
    exes = [os.path.basename(p[3] or "") for p in procs]
    print(f"pipeline: {len(procs)} processes: {exes}")
    for program, count in (("pigz", 2), ("zstd", 2), ("xz", 2)):
        expect(exes.count(program) >= count, f"{count} {program} processes wanted in {exes}")
    pids = {p[1] for p in procs}
    expect(sum(1 for p in procs if p[2] in pids) >= 6,
           f"the tools' rows should name the shell as their parent: {procs}")
    findings(db)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--threadlens", required=True)
    p.add_argument("--top", required=True)
    p.add_argument("--tmp", required=True)
    p.add_argument("--prog")
    p.add_argument("case")
    ARGS = p.parse_args()
    fn = globals().get("case_" + ARGS.case)
    if fn is None:
        print(f"run_real.py: no case {ARGS.case}", file=sys.stderr)
        return 2
    try:
        fn()
    except Skip as e:
        print(f"SKIP: {e}")
        return SKIP
    print(f"real {ARGS.case}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
