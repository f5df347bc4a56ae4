"""trace_check.py - checks a Chrome trace event JSON document (the "JSON
Object Format" of the Trace Event Format): load() parses it with exact
decimals; check() asserts the fields each phase requires, that async
begin/end events pair up, and that complete ("X") events of one thread nest:
each one lies inside the one it starts in, never across its end.
"""
import json
from decimal import Decimal

REQUIRED = {
    "X": ("name", "ph", "pid", "tid", "ts", "dur"),
    "M": ("name", "ph", "pid", "tid", "args"),
    "C": ("name", "ph", "pid", "ts", "args"),
    "i": ("name", "ph", "pid", "tid", "ts", "s"),
    "b": ("name", "ph", "pid", "tid", "ts", "cat", "id"),
    "e": ("name", "ph", "pid", "tid", "ts", "cat", "id"),
}


def load(text):
    return json.loads(text, parse_float=Decimal)


def number(v):
    return isinstance(v, (int, Decimal)) and not isinstance(v, bool)


def check_event(i, ev):
    ph = ev.get("ph")
    assert ph in REQUIRED, f"event {i}: unexpected phase {ph!r}"
    for key in REQUIRED[ph]:
        assert key in ev, f"event {i} ({ph}): no {key!r}: {ev}"
    assert isinstance(ev["name"], str) and ev["name"], f"event {i}: empty name"
    assert isinstance(ev["pid"], int), f"event {i}: pid is not an integer"
    if "tid" in ev:
        assert isinstance(ev["tid"], int), f"event {i}: tid is not an integer"
    if "ts" in ev:
        assert number(ev["ts"]), f"event {i}: ts is not a number"
    if ph == "X":
        assert number(ev["dur"]) and ev["dur"] >= 0, f"event {i}: bad dur {ev['dur']}"
    if ph == "M":
        assert ev["name"] in ("process_name", "thread_name", "process_sort_index",
                              "thread_sort_index"), f"event {i}: metadata {ev['name']}"
        assert isinstance(ev["args"].get("name", ""), str), f"event {i}: args.name"
    if ph == "C":
        assert ev["args"] and all(number(v) for v in ev["args"].values()), \
            f"event {i}: counter args must be numbers: {ev['args']}"
    if ph == "i":
        assert ev["s"] in ("g", "p", "t"), f"event {i}: instant scope {ev['s']!r}"


def check_async(events):
    open_ = {}
    for i, ev in enumerate(events):
        if ev["ph"] not in "be":
            continue
        key = (ev["pid"], ev["cat"], ev["id"])
        if ev["ph"] == "b":
            assert key not in open_, f"event {i}: async {key} begun twice"
            open_[key] = ev["ts"]
        else:
            assert key in open_, f"event {i}: async {key} ends without a begin"
            assert ev["ts"] >= open_.pop(key), f"event {i}: async {key} ends before it begins"
    assert not open_, f"async events never ended: {sorted(open_)[:5]}"


def check_nesting(events):
    """X events of each (pid, tid): sorted parents first, each inside its parent."""
    by_thread = {}
    for ev in events:
        if ev["ph"] == "X":
            by_thread.setdefault((ev["pid"], ev["tid"]), []).append(ev)
    for key, evs in by_thread.items():
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []
        for ev in evs:
            start, end = ev["ts"], ev["ts"] + ev["dur"]
            while stack and stack[-1][1] <= start and not (stack[-1][1] == start == end):
                stack.pop()
            if stack:
                assert end <= stack[-1][1], (
                    f"thread {key}: {ev['name']} [{start}, {end}] crosses the end of "
                    f"{stack[-1][2]} [{stack[-1][0]}, {stack[-1][1]}]")
            stack.append((start, end, ev["name"]))
    return by_thread


def check(doc):
    assert isinstance(doc, dict), "the document is not an object"
    assert doc.get("displayTimeUnit") == "ns", "displayTimeUnit is not ns"
    events = doc.get("traceEvents")
    assert isinstance(events, list) and events, "no traceEvents"
    for i, ev in enumerate(events):
        check_event(i, ev)
    check_async(events)
    return check_nesting(events)
