#!/usr/bin/env python3
"""check_run.py - run one sample program bare and under threadlens, and check
that the agent changed nothing and found exactly what the program's .expect
file says.

Usage:
  check_run.py --threadlens BIN --top BIN --prog PROG --expect FILE
               [--workdir DIR] [-- ARGS...]

Steps:
  1. run PROG ARGS bare;
  2. run `threadlens run --db TMP/run.db -- PROG ARGS`;
  3. run `threadlens-top --json TMP/run.db`.
Checks:
  - stdout is identical in 1 and 2;
  - the exit status is identical in 1 and 2 and equals the expect file's;
  - stderr is identical once lines starting with "threadlens:" (the agent's
    own messages) are removed from both;
  - threadlens-top exits 1 if the expect file lists an error finding, else 0;
  - the findings match the expect file one to one (see below);
  - the JSON is coherent: every lock-order-inversion's edges form a closed
    chain over its listed locks, and "summary" counts the findings.
Every subprocess gets a 60 s timeout (its whole process group is killed).

Expect file format, one item per line; blank lines and lines starting with
'#' are ignored; an empty file means "no finding at all":
  KIND SEVERITY [FUNCTION ...]  a finding of this kind and severity whose
                                stacks, together, contain a frame for every
                                listed function
  edges N       the preceding finding has exactly N edges
  pid child     the preceding finding belongs to a forked child: a process
                whose ppid is the pid of another process of the run
  processes N   the run has N processes (default 1)
  exit N        the program's exit status (default 0)
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
import subprocess
import sys
import tempfile

TIMEOUT_S = 60
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

    def __init__(self, lineno, kind, severity, functions):
        self.lineno = lineno
        self.kind = kind
        self.severity = severity
        self.functions = functions
        self.edges = None      # int, or None when not checked
        self.pid_child = False

    def __str__(self):
        s = f"{self.kind} {self.severity}"
        if self.functions:
            s += " " + " ".join(self.functions)
        if self.edges is not None:
            s += f" [edges {self.edges}]"
        if self.pid_child:
            s += " [pid child]"
        return s


def parse_expect(path):
    """Returns (findings, processes, exit_status). Raises ExpectError."""
    findings = []
    processes = 1
    exit_status = 0
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
            processes = number()
        elif words[0] == "exit":
            exit_status = number()
        else:
            if len(words) < 2:
                raise ExpectError(f"{where}: expected 'KIND SEVERITY [FUNCTION ...]'")
            kind, severity = words[0], words[1]
            if kind not in KINDS:
                raise ExpectError(f"{where}: unknown finding kind {kind!r}")
            if severity not in SEVERITIES:
                raise ExpectError(f"{where}: unknown severity {severity!r}")
            findings.append(Expected(lineno, kind, severity, words[2:]))
    return findings, processes, exit_status


def run(argv, cwd):
    """Runs argv in its own session. Returns (returncode, stdout, stderr, timed_out)."""
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
    except OSError as e:
        return 127, b"", f"check_run: cannot run {argv[0]}: {e}\n".encode(), False
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
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
    return (f"{act.get('kind')} {act.get('severity')} pid={act.get('pid')} "
            f"edges={len(act.get('edges') or [])} functions=[{' '.join(fns)}]\n"
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
        expected, want_processes, want_exit = parse_expect(opts.expect)
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
    doc = None
    top_out = b""

    def fail(msg):
        failures.append(msg)

    bare = run([prog] + opts.args, tmp)
    agent_argv = [threadlens, "run", "--db", db, "--", prog] + opts.args
    under = run(agent_argv, tmp)

    for label, res in (("bare run", bare), ("run under threadlens", under)):
        if res[3]:
            fail(f"{label} timed out after {TIMEOUT_S} s")

    # The agent must not change what the program does.
    if bare[0] != want_exit:
        fail(f"bare run: {describe_status(bare[0])}, expected exit {want_exit}\n"
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

    # Findings.
    want_top = 1 if any(e.severity == "error" for e in expected) else 0
    top = run([top_bin, "--json", db], tmp)
    top_out = top[1]
    if top[3]:
        fail(f"threadlens-top timed out after {TIMEOUT_S} s")
    elif top[0] != want_top:
        fail(f"threadlens-top --json: {describe_status(top[0])}, expected exit {want_top}\n"
             f"stderr:\n{text(top[2])}")
    try:
        doc = json.loads(top_out)
        if not isinstance(doc, dict):
            raise ValueError("top level is not an object")
    except ValueError as e:
        fail(f"threadlens-top --json did not print a JSON object: {e}")
        doc = None

    if doc is not None:
        actual = doc.get("findings") or []
        processes = doc.get("processes") or []
        pairs, miss_exp, miss_act = match_findings(expected, actual, processes)
        if miss_exp or miss_act:
            lines = ["findings do not match the expect file"]
            lines.append("  expected:" if expected else "  expected: none")
            for i, e in enumerate(expected):
                mark = "-" if i in miss_exp else " "
                lines.append(f"  {mark} {e}    ({opts.expect}:{e.lineno})")
            lines.append("  actual:" if actual else "  actual: none")
            for j, a in enumerate(actual):
                mark = "+" if j in miss_act else " "
                lines.append(f"  {mark} {describe_actual(a)}")
            lines.append("  ('-' expected but not found, '+' found but not expected)")
            fail("\n".join(lines))
        if len(processes) != want_processes:
            fail(f"the run has {len(processes)} processes, expected {want_processes}")
        for p in check_chains(actual) + check_summary(doc):
            fail(p)

    if not failures:
        print(f"PASS {name}: {len(expected)} finding(s) as expected")
        shutil.rmtree(tmp, ignore_errors=True)
        return 0

    print(f"FAIL {name}")
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
    if under[2]:
        print("\n--- stderr under threadlens:")
        print(text(under[2]), end="")
    return 1


if __name__ == "__main__":
    sys.exit(main())
