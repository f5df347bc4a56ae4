#!/usr/bin/env python3
"""metrics_file.py - metrics_path=FILE: the agent rewrites an OpenMetrics
file every tick. Runs a program with an ABBA inversion under the agent and
checks, with the strict parser of tests/export, that the file parses and
that its values agree with the database threadlens-top reads: the thread
count, the inversion counted under its kind and severity, and the pid label.
A bad path costs one line on stderr and leaves the program alone.

usage: metrics_file.py THREADLENS THREADLENS_TOP PROG
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "export"))
import openmetrics_parse  # noqa: E402


def sample(families, family, name, **labels):
    for sample_name, sample_labels, value in families[family]["samples"]:
        if sample_name == name and all(sample_labels.get(k) == v for k, v in labels.items()):
            return value, sample_labels
    raise AssertionError(f"no sample {name} {labels} in {family}")


def run(launcher, prog, db, *options):
    flags = [arg for option in options for arg in ("-o", option)]
    return subprocess.run([launcher, "run", "--db", db, *flags, "--", prog],
                          capture_output=True, text=True, timeout=60)


def main():
    launcher, top, prog = sys.argv[1:4]
    bare = subprocess.run([prog], capture_output=True, text=True, timeout=60)
    with tempfile.TemporaryDirectory() as tmp:
        db, prom = os.path.join(tmp, "run.db"), os.path.join(tmp, "m-%p.prom")
        traced = run(launcher, prog, db, f"metrics_path={prom}", "interval=0.1")
        assert traced.stdout == bare.stdout and traced.returncode == bare.returncode, traced
        files = [f for f in os.listdir(tmp) if f.endswith(".prom")]
        assert len(files) == 1 and not any(f.endswith(".tmp") for f in os.listdir(tmp)), files
        with open(os.path.join(tmp, files[0])) as f:
            families = openmetrics_parse.parse(f.read())
        report = json.loads(subprocess.run([top, "--json", db], capture_output=True,
                                           text=True).stdout)
        kinds = [(x["kind"], x["severity"]) for x in report["findings"]]
        assert kinds == [("lock-order-inversion", "error")], kinds
        value, labels = sample(families, "threadlens_findings", "threadlens_findings",
                               kind="lock-order-inversion", severity="error")
        assert value == 1, value
        assert files[0] == f"m-{labels['pid']}.prom", (files, labels)
        created, _ = sample(families, "threadlens_threads_created",
                            "threadlens_threads_created_total")
        threads = subprocess.run(["sqlite3", db, "SELECT threads_total FROM sample "
                                  "ORDER BY t_ns DESC LIMIT 1"], capture_output=True,
                                 text=True).stdout.strip()
        assert created == float(threads), (created, threads)
        # What the agent cost, as the last sample has it: its memory, its collector's time.
        own, _ = sample(families, "threadlens_agent_bytes", "threadlens_agent_bytes")
        spent, _ = sample(families, "threadlens_collector_seconds",
                          "threadlens_collector_seconds_total")
        row = subprocess.run(["sqlite3", db, "SELECT (SELECT agent_bytes FROM sample ORDER BY"
                              " t_ns DESC LIMIT 1), (SELECT sum(tick_ns) FROM sample)"],
                             capture_output=True, text=True).stdout.strip().split("|")
        assert own > 0 and own == float(row[0]), (own, row)
        assert round(spent * 1e9) == int(row[1]), (spent, row)

        bad = run(launcher, prog, os.path.join(tmp, "bad.db"),
                  f"metrics_path={tmp}/no/such/dir/m.prom")
        assert bad.stdout == bare.stdout and bad.returncode == bare.returncode, bad
        lines = [l for l in bad.stderr.splitlines() if "metrics file" in l]
        assert len(lines) == 1, bad.stderr
    print("ok")


if __name__ == "__main__":
    main()
