#!/usr/bin/env python3
"""check_run.py - run one sample program bare and under threadlens, and check
that the agent changed nothing and found exactly what the program's .expect
file says.

Usage:
  check_run.py --threadlens BIN --top BIN --prog PROG --expect FILE
               [--workdir DIR] [-- ARGS...]

Steps:
  1. run PROG ARGS bare;
  2. run `threadlens run --db TMP/run.db [-o KEY=VALUE ...] -- PROG ARGS`;
  3. run `threadlens-top --json TMP/run.db`.
Checks:
  - stdout is identical in 1 and 2;
  - the exit status is identical in 1 and 2 and equals the expect file's;
  - stderr is identical once lines starting with "threadlens:" (the agent's
    own messages) are removed from both;
  - threadlens-top exits 1 if the expect file lists an error finding, else 0;
  - the findings match the expect file one to one (see below);
  - the program's last process row says it ended by exit, with the status
    it exited with (unless a signal ended it);
  - the JSON is coherent: every lock-order-inversion's edges form a closed
    chain over its listed locks, and "summary" counts the findings.
Every subprocess gets a 60 s timeout (its whole process group is killed).

A program whose expect file says `hangs` deadlocks on purpose and never ends,
so it is not run bare. It runs under the agent in its own process group while
`threadlens-top --json` polls the database every 0.2 s (failures and exit
statuses other than 0/1 are retried: the database may not exist yet) until
the findings match the expect file exactly; no match within 20 s fails with
the last difference. The process group is then killed with SIGKILL, and the
final database must still match exactly (with the checks of step 3), pass
`PRAGMA integrity_check` and hold at least one `sample` row. Its stdout,
stderr and exit status are not checked.

Expect file format, one item per line; blank lines and lines starting with
'#' are ignored; an empty file means "no finding at all":
  KIND SEVERITY [FUNCTION ...] [resolved|unresolved]
                a finding of this kind and severity whose stacks, together,
                contain a frame for every listed function; `resolved` wants
                its "resolved_ns" to be non-null, `unresolved` wants it null
                (either way the key must be present); without them it is not
                checked
  edges N       the preceding finding has exactly N edges
  pid child     the preceding finding belongs to a forked child: a process
                whose ppid is the pid of another process of the run
  processes N   the run has N processes (default 1)
  exit N        the program's exit status (default 0; not with `hangs`)
  options KEY=VALUE[:KEY=VALUE...]
                agent options, each passed as `-o KEY=VALUE` to
                `threadlens run` (may be repeated; the bare run gets none)
  hangs         the program never ends on its own (see above)
Each finding of the JSON must match exactly one finding line and each line
exactly one finding.

Exit status: 0 pass, 1 fail, 2 usage error or bad expect file. On failure the
temporary directory (with run.db) is kept and named.
"""

import argparse
import difflib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

TIMEOUT_S = 60
HANG_MATCH_S = 20    # a hanging program's findings must match within this
HANG_POLL_S = 0.2    # how often threadlens-top polls a hanging program's database
HANG_TOP_TIMEOUT_S = 10
AGENT_PREFIX = b"threadlens:"
KINDS = {
    "lock-order-inversion", "deadlock", "lock-misuse", "thread-leak", "blocked-thread",
    "thread-growth", "task-leak", "task-growth", "memory-growth", "memory-leak",
    "limit-exceeded",
}
SEVERITIES = {"error", "warning", "info"}


class ExpectError(Exception):
    pass


class Expected:
    """One finding line of an expect file."""

    def __init__(self, lineno, kind, severity, functions, resolved):
        self.lineno = lineno
        self.kind = kind
        self.severity = severity
        self.functions = functions
        self.resolved = resolved  # True, False, or None when not checked
        self.edges = None         # int, or None when not checked
        self.pid_child = False

    def __str__(self):
        s = f"{self.kind} {self.severity}"
        if self.functions:
            s += " " + " ".join(self.functions)
        if self.resolved is not None:
            s += " resolved" if self.resolved else " unresolved"
        if self.edges is not None:
            s += f" [edges {self.edges}]"
        if self.pid_child:
            s += " [pid child]"
        return s


class Spec:
    """A parsed expect file."""

    def __init__(self):
        self.findings = []     # Expected, in file order
        self.processes = 1
        self.exit_status = 0
        self.exit_given = False
        self.options = []      # "KEY=VALUE" strings, in file order
        self.hangs = False


def parse_expect(path):
    """Returns a Spec. Raises ExpectError."""
    spec = Spec()
    findings = spec.findings
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for lineno, raw in enumerate(lines, 1):
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        where = f"{path}:{lineno}"

        def number():
            if len(words) != 2 or not words[1].isdigit():
                raise ExpectError(f"{where}: expected '{words[0]} N', got {raw!r}")
            return int(words[1])

        if words[0] == "edges":
            if not findings:
                raise ExpectError(f"{where}: 'edges' must follow a finding line")
            findings[-1].edges = number()
        elif words[0] == "pid":
            if words[1:] != ["child"]:
                raise ExpectError(f"{where}: only 'pid child' is understood")
            if not findings:
                raise ExpectError(f"{where}: 'pid' must follow a finding line")
            findings[-1].pid_child = True
        elif words[0] == "processes":
            spec.processes = number()
        elif words[0] == "exit":
            spec.exit_status = number()
            spec.exit_given = True
        elif words[0] == "options":
            if len(words) != 2:
                raise ExpectError(f"{where}: expected 'options KEY=VALUE[:KEY=VALUE...]', "
                                  f"got {raw!r}")
            for item in words[1].split(":"):
                key, eq, _ = item.partition("=")
                if not key or not eq:
                    raise ExpectError(f"{where}: option {item!r} is not KEY=VALUE")
                spec.options.append(item)
        elif words[0] == "hangs":
            if len(words) != 1:
                raise ExpectError(f"{where}: 'hangs' takes no argument")
            spec.hangs = True
        else:
            if len(words) < 2:
                raise ExpectError(f"{where}: expected 'KIND SEVERITY [FUNCTION ...]'")
            kind, severity = words[0], words[1]
            if kind not in KINDS:
                raise ExpectError(f"{where}: unknown finding kind {kind!r}")
            if severity not in SEVERITIES:
                raise ExpectError(f"{where}: unknown severity {severity!r}")
            rest = words[2:]
            resolved = None
            if rest and rest[-1] in ("resolved", "unresolved"):
                resolved = rest.pop() == "resolved"
            findings.append(Expected(lineno, kind, severity, rest, resolved))
    if spec.hangs and spec.exit_given:
        raise ExpectError(f"{path}: 'exit' makes no sense with 'hangs'")
    return spec


def run(argv, cwd, timeout=TIMEOUT_S):
    """Runs argv in its own session. Returns (returncode, stdout, stderr, timed_out)."""
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
    except OSError as e:
        return 127, b"", f"check_run: cannot run {argv[0]}: {e}\n".encode(), False
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err, False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the group we created, forks included
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        return proc.returncode, out, err, True


def describe_status(rc):
    return f"killed by signal {-rc}" if rc < 0 else f"exit {rc}"


def strip_agent_lines(data):
    return b"".join(line for line in data.splitlines(keepends=True)
                    if not line.startswith(AGENT_PREFIX))


def text(data):
    return data.decode("utf-8", errors="replace")


def text_diff(a, b, name_a, name_b):
    return "".join(difflib.unified_diff(text(a).splitlines(keepends=True),
                                        text(b).splitlines(keepends=True), name_a, name_b))


def frame_matches(frame_fn, wanted):
    # Plain C names match exactly; a demangled C++ name may carry its parameters.
    return frame_fn == wanted or frame_fn.startswith(wanted + "(")


def finding_functions(finding):
    names = set()
    for stack in finding.get("stacks") or []:
        for frame in stack.get("frames") or []:
            fn = frame.get("function")
            if isinstance(fn, str):
                names.add(fn)
    return names


def child_pids(processes):
    """pids of processes whose parent is another process of the run."""
    pids = {p.get("pid") for p in processes}
    return {p.get("pid") for p in processes
            if p.get("ppid") in pids and p.get("ppid") != p.get("pid")}


def matches(exp, act, functions, children):
    if exp.kind != act.get("kind") or exp.severity != act.get("severity"):
        return False
    if not all(any(frame_matches(fn, w) for fn in functions) for w in exp.functions):
        return False
    if exp.edges is not None and exp.edges != len(act.get("edges") or []):
        return False
    if exp.pid_child and act.get("pid") not in children:
        return False
    if exp.resolved is not None:
        if "resolved_ns" not in act or (act["resolved_ns"] is not None) != exp.resolved:
            return False
    return True


def match_findings(expected, actual, processes):
    """Maximum one-to-one matching (Kuhn). Returns (pairs, unmatched_exp, unmatched_act)."""
    functions = [finding_functions(a) for a in actual]
    children = child_pids(processes)
    ok = [[j for j, a in enumerate(actual) if matches(e, a, functions[j], children)]
          for e in expected]
    owner = [None] * len(actual)  # actual index -> expected index

    def augment(i, seen):
        for j in ok[i]:
            if j in seen:
                continue
            seen.add(j)
            if owner[j] is None or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(len(expected)):
        augment(i, set())
    pairs = {owner[j]: j for j in range(len(actual)) if owner[j] is not None}
    unmatched_exp = [i for i in range(len(expected)) if i not in pairs]
    unmatched_act = [j for j in range(len(actual)) if owner[j] is None]
    return pairs, unmatched_exp, unmatched_act


def describe_actual(act):
    fns = sorted(finding_functions(act))
    resolved = (f" resolved_ns={json.dumps(act['resolved_ns'])}" if "resolved_ns" in act
                else " (no resolved_ns)")
    return (f"{act.get('kind')} {act.get('severity')} pid={act.get('pid')} "
            f"edges={len(act.get('edges') or [])}{resolved} functions=[{' '.join(fns)}]\n"
            f"      summary: {act.get('summary')}")


def check_chains(findings):
    """Lock-order-inversion edges must form a closed chain over the finding's locks."""
    problems = []
    for idx, f in enumerate(findings):
        if f.get("kind") != "lock-order-inversion":
            continue
        edges = f.get("edges") or []
        lock_ids = {lk.get("id") for lk in f.get("locks") or []}
        if len(edges) < 2:
            problems.append(f"finding #{idx} (id {f.get('id')}): a cycle needs 2 or more "
                            f"edges, has {len(edges)}")
            continue
        for i, e in enumerate(edges):
            nxt = edges[(i + 1) % len(edges)]
            if e.get("to") != nxt.get("from"):
                problems.append(f"finding #{idx} (id {f.get('id')}): edge {i} goes to lock "
                                f"{e.get('to')} but edge {(i + 1) % len(edges)} starts at "
                                f"lock {nxt.get('from')}")
            for end in ("from", "to"):
                if e.get(end) not in lock_ids:
                    problems.append(f"finding #{idx} (id {f.get('id')}): edge {i} '{end}' "
                                    f"lock {e.get(end)} is not in the finding's locks")
    return problems


def check_summary(doc):
    findings = doc.get("findings") or []
    summary = doc.get("summary")
    if not isinstance(summary, dict):
        return ["JSON has no \"summary\" object"]
    want = {"findings": len(findings)}
    for sev in SEVERITIES:
        want[sev] = sum(1 for f in findings if f.get("severity") == sev)
    return [f"summary.{k} is {summary.get(k)!r}, the findings list has {v}"
            for k, v in sorted(want.items()) if summary.get(k) != v]


def parse_top_json(out):
    """Returns (doc, None), or (None, reason) when out is not a JSON object."""
    try:
        doc = json.loads(out)
    except ValueError as e:
        return None, str(e)
    if not isinstance(doc, dict):
        return None, "top level is not an object"
    return doc, None


def findings_mismatch(expected, doc, expect_path):
    """None when the findings of doc match expected one to one, else the difference."""
    actual = doc.get("findings") or []
    _, miss_exp, miss_act = match_findings(expected, actual, doc.get("processes") or [])
    if not miss_exp and not miss_act:
        return None
    lines = ["findings do not match the expect file"]
    lines.append("  expected:" if expected else "  expected: none")
    for i, e in enumerate(expected):
        mark = "-" if i in miss_exp else " "
        lines.append(f"  {mark} {e}    ({expect_path}:{e.lineno})")
    lines.append("  actual:" if actual else "  actual: none")
    for j, a in enumerate(actual):
        mark = "+" if j in miss_act else " "
        lines.append(f"  {mark} {describe_actual(a)}")
    lines.append("  ('-' expected but not found, '+' found but not expected)")
    return "\n".join(lines)


def check_top(top, spec, expect_path):
    """Checks one `threadlens-top --json` result against the spec.

    Returns (doc, failures): doc is None when the output is not a JSON object.
    """
    failures = []
    want_top = 1 if any(e.severity == "error" for e in spec.findings) else 0
    if top[3]:
        failures.append(f"threadlens-top timed out after {TIMEOUT_S} s")
    elif top[0] != want_top:
        failures.append(f"threadlens-top --json: {describe_status(top[0])}, expected exit "
                        f"{want_top}\nstderr:\n{text(top[2])}")
    doc, why = parse_top_json(top[1])
    if doc is None:
        failures.append(f"threadlens-top --json did not print a JSON object: {why}")
        return None, failures
    diff = findings_mismatch(spec.findings, doc, expect_path)
    if diff:
        failures.append(diff)
    processes = doc.get("processes") or []
    if len(processes) != spec.processes:
        failures.append(f"the run has {len(processes)} processes, expected {spec.processes}")
    failures += check_chains(doc.get("findings") or []) + check_summary(doc)
    return doc, failures


def check_database(db):
    """A killed run's database must be intact and hold at least one sample row.

    Opened read-write, like any client would, so SQLite recovers the WAL.
    Returns a list of failures.
    """
    if not os.path.exists(db):
        return [f"{db} does not exist"]
    try:
        con = sqlite3.connect(db, timeout=10)
        try:
            rows = con.execute("PRAGMA integrity_check").fetchall()
            samples = con.execute("SELECT count(*) FROM sample").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error as e:
        return [f"reading {db} with sqlite3 failed: {e}"]
    failures = []
    if rows != [("ok",)]:
        failures.append("PRAGMA integrity_check: " + "; ".join(str(r[0]) for r in rows))
    if samples < 1:
        failures.append("the sample table has no row")
    return failures


def run_normal(spec, opts, prog, agent_argv, top_bin, db, tmp, fail):
    """Runs bare and under the agent. Returns (doc, top stdout, agent stderr)."""
    bare = run([prog] + opts.args, tmp)
    under = run(agent_argv, tmp)

    for label, res in (("bare run", bare), ("run under threadlens", under)):
        if res[3]:
            fail(f"{label} timed out after {TIMEOUT_S} s")

    # The agent must not change what the program does.
    if bare[0] != spec.exit_status:
        fail(f"bare run: {describe_status(bare[0])}, expected exit {spec.exit_status}\n"
             f"stderr:\n{text(bare[2])}")
    if under[0] != bare[0]:
        fail(f"exit status differs: bare {describe_status(bare[0])}, "
             f"under threadlens {describe_status(under[0])}")
    if under[1] != bare[1]:
        fail("stdout differs:\n" + text_diff(bare[1], under[1], "bare", "threadlens"))
    if strip_agent_lines(under[2]) != strip_agent_lines(bare[2]):
        fail("stderr differs (agent lines removed):\n" +
             text_diff(strip_agent_lines(bare[2]), strip_agent_lines(under[2]),
                       "bare", "threadlens"))

    top = run([top_bin, "--json", db], tmp)
    doc, failures = check_top(top, spec, opts.expect)
    for msg in failures:
        fail(msg)
    if doc is not None and under[0] >= 0:
        for msg in check_recorded_end(doc.get("processes") or [], under[0]):
            fail(msg)
    return doc, top[1], under[2]


def check_recorded_end(processes, status):
    """The launched program's last image (its pid's last process row) ended by exit
    with the status the program really exited with. Returns a list of failures."""
    if not processes:
        return []
    pid = processes[0].get("pid")
    last = [p for p in processes if p.get("pid") == pid][-1]
    if last.get("end_reason") != "exit" or last.get("exit_status") != status:
        return [f"process {pid} is recorded as ended by {last.get('end_reason')!r} with "
                f"status {last.get('exit_status')!r}; it exited {status}"]
    return []


def kill_group(proc):
    """SIGKILLs the process group proc leads and reaps proc. Can't fail."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def run_hanging(spec, opts, agent_argv, top_bin, db, tmp, fail):
    """Runs a program that never ends under the agent, polls its findings until
    they match, kills it and checks the final database.
    Returns (doc, top stdout, agent stderr)."""
    out_path = os.path.join(tmp, "stdout")
    err_path = os.path.join(tmp, "stderr")
    with open(out_path, "wb") as out_f, open(err_path, "wb") as err_f:
        try:
            proc = subprocess.Popen(agent_argv, cwd=tmp, stdin=subprocess.DEVNULL,
                                    stdout=out_f, stderr=err_f, start_new_session=True)
        except OSError as e:
            fail(f"cannot run {agent_argv[0]}: {e}")
            return None, b"", b""
    start = time.monotonic()
    last = "threadlens-top was never run: the database did not appear"
    try:
        while True:
            ended = proc.poll()
            if os.path.exists(db):
                top = run([top_bin, "--json", db], tmp, timeout=HANG_TOP_TIMEOUT_S)
                doc, why = (None, None) if top[3] else parse_top_json(top[1])
                if top[3]:
                    last = f"threadlens-top timed out after {HANG_TOP_TIMEOUT_S} s"
                elif top[0] not in (0, 1):
                    last = (f"threadlens-top --json: {describe_status(top[0])}\n"
                            f"stderr:\n{text(top[2])}")
                elif doc is None:
                    last = f"threadlens-top --json did not print a JSON object: {why}"
                else:
                    last = findings_mismatch(spec.findings, doc, opts.expect)
                    if last is None:
                        break
            if ended is not None:
                fail(f"the program should hang but ended ({describe_status(ended)}); "
                     f"last poll:\n{last}")
                break
            if time.monotonic() - start >= HANG_MATCH_S:
                fail(f"findings did not match within {HANG_MATCH_S} s while the program "
                     f"hung; last poll:\n{last}")
                break
            time.sleep(HANG_POLL_S)
    finally:
        kill_group(proc)

    # What the killed run left behind must still say the same thing.
    top = run([top_bin, "--json", db], tmp)
    doc, failures = check_top(top, spec, opts.expect)
    for msg in failures:
        fail("after SIGKILL: " + msg)
    for msg in check_database(db):
        fail("after SIGKILL: " + msg)
    with open(err_path, "rb") as f:
        err = f.read()
    return doc, top[1], err


def main():
    ap = argparse.ArgumentParser(description="Run a program bare and under threadlens; "
                                 "compare output and findings with an expect file.")
    ap.add_argument("--threadlens", required=True, help="the threadlens launcher")
    ap.add_argument("--top", required=True, help="threadlens-top")
    ap.add_argument("--prog", required=True, help="the program to run")
    ap.add_argument("--expect", required=True, help="the program's .expect file")
    ap.add_argument("--workdir", help="where to make the temporary directory")
    ap.add_argument("args", nargs="*", help="arguments for the program (after --)")
    opts = ap.parse_args()

    try:
        spec = parse_expect(opts.expect)
    except (OSError, ExpectError) as e:
        print(f"check_run: {e}", file=sys.stderr)
        return 2

    workdir = os.path.abspath(opts.workdir) if opts.workdir else None
    if workdir:
        os.makedirs(workdir, exist_ok=True)
    name = os.path.basename(opts.prog)
    tmp = tempfile.mkdtemp(prefix=f"{name}.", dir=workdir)
    db = os.path.join(tmp, "run.db")
    # The runs happen in tmp: relative paths are made absolute (bare names use PATH).
    prog, threadlens, top_bin = (os.path.abspath(p) if os.sep in p else p
                                 for p in (opts.prog, opts.threadlens, opts.top))
    failures = []

    def fail(msg):
        failures.append(msg)

    agent_argv = [threadlens, "run", "--db", db]
    for opt in spec.options:
        agent_argv += ["-o", opt]
    agent_argv += ["--", prog] + opts.args
    if spec.hangs:
        doc, top_out, agent_err = run_hanging(spec, opts, agent_argv, top_bin, db, tmp, fail)
    else:
        doc, top_out, agent_err = run_normal(spec, opts, prog, agent_argv, top_bin, db, tmp,
                                             fail)

    if not failures:
        print(f"PASS {name}: {len(spec.findings)} finding(s) as expected"
              + (" (hung, killed)" if spec.hangs else ""))
        shutil.rmtree(tmp, ignore_errors=True)
        return 0

    print(f"FAIL {name}")
    if not spec.hangs:
        print(f"  program: {' '.join([prog] + opts.args)}")
    print(f"  agent:   {' '.join(agent_argv)}")
    print(f"  kept:    {tmp}")
    for msg in failures:
        print("\n--- " + msg)
    print("\n--- threadlens-top --json output:")
    if doc is not None:
        print(json.dumps(doc, indent=2))
    else:
        print(text(top_out) or "(empty)")
    if agent_err:
        print("\n--- stderr under threadlens:")
        print(text(agent_err), end="")
    return 1


if __name__ == "__main__":
    sys.exit(main())
