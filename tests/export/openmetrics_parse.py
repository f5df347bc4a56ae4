"""openmetrics_parse.py - a small, strict parser of OpenMetrics 1.0 text
(the subset threadlens writes: counters and gauges). parse() raises
ParseError on anything the format forbids and returns
{family: {"type", "unit", "help", "samples": [(name, {labels}, value)]}}.

Rules checked: every line ends with a newline, no blank lines; the text ends
with "# EOF"; metric and label names are valid; a family's HELP/TYPE/UNIT
come before its samples and each at most once; a family's samples are
contiguous (a family is never reopened); a counter family's name does not end
in _total and its samples are NAME_total; a gauge's samples are NAME; a UNIT
is a suffix of its family's name; label values are quoted with only \\\\, \\"
and \\n escapes; no label name twice in a sample; values are numbers; no two
samples with the same name and labels.
"""
import re

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z|[+-]?Inf\Z|NaN\Z")


class ParseError(Exception):
    pass


def parse_labels(text, lineno):
    """'{a="x",b="y"}' -> dict."""
    labels, pos = {}, 1
    if text == "{}":
        return labels
    while True:
        eq = text.find("=", pos)
        if eq < 0:
            raise ParseError(f"line {lineno}: label without '='")
        name = text[pos:eq]
        if not LABEL_NAME.match(name):
            raise ParseError(f"line {lineno}: bad label name {name!r}")
        if name in labels:
            raise ParseError(f"line {lineno}: label {name} twice")
        if text[eq + 1:eq + 2] != '"':
            raise ParseError(f"line {lineno}: label value not quoted")
        i, value = eq + 2, []
        while True:
            if i >= len(text):
                raise ParseError(f"line {lineno}: unterminated label value")
            c = text[i]
            if c == "\\":
                nxt = text[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ParseError(f"line {lineno}: bad escape \\{nxt}")
                value.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                break
            else:
                value.append(c)
                i += 1
        labels[name] = "".join(value)
        pos = i + 1
        if text[pos:] == "}":
            return labels
        if text[pos:pos + 1] != ",":
            raise ParseError(f"line {lineno}: expected ',' or '}}' after a label")
        pos += 1


def split_sample(line, lineno):
    """'name{labels} value' -> (name, labels dict, value string)."""
    brace = line.find("{")
    space = line.find(" ")
    if brace >= 0 and (space < 0 or brace < space):
        end = line.rfind("}")
        if end < brace:
            raise ParseError(f"line {lineno}: unbalanced braces")
        name, labels, rest = line[:brace], parse_labels(line[brace:end + 1], lineno), line[end + 1:]
    else:
        name, labels, rest = line[:space], {}, line[space:]
    if not rest.startswith(" "):
        raise ParseError(f"line {lineno}: no space before the value")
    parts = rest[1:].split(" ")
    if len(parts) != 1:
        raise ParseError(f"line {lineno}: timestamps or exemplars are not expected here")
    return name, labels, parts[0]


def family_of(name, families):
    for fam, f in families.items():
        want = fam + "_total" if f["type"] == "counter" else fam
        if name == want:
            return fam
    return None


def parse(text):
    if not text.endswith("\n"):
        raise ParseError("text does not end with a newline")
    lines = text[:-1].split("\n")
    if lines[-1] != "# EOF":
        raise ParseError("text does not end with '# EOF'")
    families, current, seen = {}, None, set()
    for lineno, line in enumerate(lines[:-1], 1):
        if not line:
            raise ParseError(f"line {lineno}: blank line")
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) < 4 or parts[0] != "#" or parts[1] not in ("HELP", "TYPE", "UNIT"):
                raise ParseError(f"line {lineno}: bad comment {line!r}")
            _, what, fam, arg = parts
            if not NAME.match(fam):
                raise ParseError(f"line {lineno}: bad metric name {fam!r}")
            f = families.get(fam)
            if f is None:
                if fam in seen:
                    raise ParseError(f"line {lineno}: family {fam} reopened")
                f = families[fam] = {"type": None, "unit": None, "help": None, "samples": []}
                seen.add(fam)
            elif fam != current or f["samples"]:
                raise ParseError(f"line {lineno}: metadata of {fam} after its samples")
            current = fam
            key = what.lower()
            if f[key] is not None:
                raise ParseError(f"line {lineno}: {what} of {fam} twice")
            if what == "TYPE":
                if arg not in ("counter", "gauge"):
                    raise ParseError(f"line {lineno}: unexpected type {arg}")
                if arg == "counter" and fam.endswith("_total"):
                    raise ParseError(f"line {lineno}: counter family {fam} ends in _total")
            if what == "UNIT" and not fam.endswith("_" + arg):
                raise ParseError(f"line {lineno}: {fam} does not end with its unit {arg}")
            f[key] = arg
            continue
        name, labels, value = split_sample(line, lineno)
        if not NAME.match(name):
            raise ParseError(f"line {lineno}: bad metric name {name!r}")
        if current is None or family_of(name, {current: families[current]}) is None:
            raise ParseError(f"line {lineno}: sample {name} outside its family ({current})")
        f = families[current]
        if f["type"] is None:
            raise ParseError(f"line {lineno}: sample {name} before its TYPE")
        if not NUMBER.match(value):
            raise ParseError(f"line {lineno}: value {value!r} is not a number")
        key = (name, tuple(sorted(labels.items())))
        if any((n, tuple(sorted(lab.items()))) == key for n, lab, _ in f["samples"]):
            raise ParseError(f"line {lineno}: duplicate sample {name}{labels}")
        f["samples"].append((name, labels, float(value)))
    return families
