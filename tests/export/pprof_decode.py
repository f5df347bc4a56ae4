"""pprof_decode.py - reads a gzip'ed profile.proto (github.com/google/pprof,
proto/profile.proto) with the standard library only: gzip, then a protobuf
wire-format decoder written from the .proto definition. decode() returns a
Profile whose fields mirror the message; check() asserts the structural rules
the .proto states (string_table[0] == "", unique nonzero ids, every reference
resolves, one value per sample type).
"""
import gzip

# wire types
VARINT, I64, LEN, I32 = 0, 1, 2, 5


class DecodeError(Exception):
    pass


def varint(buf, pos):
    """Returns (value, next position)."""
    shift = value = 0
    while True:
        if pos >= len(buf):
            raise DecodeError("truncated varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise DecodeError("varint longer than 10 bytes")


def fields(buf):
    """Yields (field number, wire type, value) of one message."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        num, wire = key >> 3, key & 7
        if num == 0:
            raise DecodeError("field number 0")
        if wire == VARINT:
            value, pos = varint(buf, pos)
        elif wire == LEN:
            n, pos = varint(buf, pos)
            if pos + n > len(buf):
                raise DecodeError(f"field {num}: length {n} past the end")
            value, pos = bytes(buf[pos:pos + n]), pos + n
        elif wire == I64:
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wire == I32:
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        else:
            raise DecodeError(f"field {num}: wire type {wire}")
        yield num, wire, value


def int64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def repeated_ints(wire, value):
    """A repeated integer field element: packed (LEN) or one varint."""
    if wire == VARINT:
        return [value]
    if wire != LEN:
        raise DecodeError("repeated integer with wire type %d" % wire)
    out, pos = [], 0
    while pos < len(value):
        v, pos = varint(value, pos)
        out.append(v)
    return out


def message(buf, schema):
    """Decodes buf with schema {field: (name, kind)}; kind is one of 'int',
    'uint', 'bool', 'string', 'ints' (repeated), or a nested schema dict
    (with a 'repeated' flag in the name as 'name[]')."""
    out = {}
    for name, kind in schema.values():
        if name.endswith("[]") or kind == "ints":
            out[name.rstrip("[]")] = []
        elif kind == "string":
            out[name] = ""
        elif isinstance(kind, dict):
            out[name] = None
        else:
            out[name] = 0
    for num, wire, value in fields(buf):
        if num not in schema:
            raise DecodeError(f"unknown field {num}")
        name, kind = schema[num]
        key = name.rstrip("[]")
        if kind == "ints":
            out[key] += [int64(v) for v in repeated_ints(wire, value)]
        elif isinstance(kind, dict):
            if wire != LEN:
                raise DecodeError(f"{name}: message with wire type {wire}")
            sub = message(value, kind)
            if name.endswith("[]"):
                out[key].append(sub)
            else:
                out[key] = sub
        elif kind == "string":
            if wire != LEN:
                raise DecodeError(f"{name}: string with wire type {wire}")
            text = value.decode("utf-8")
            if name.endswith("[]"):
                out[key].append(text)
            else:
                out[key] = text
        else:
            if wire != VARINT:
                raise DecodeError(f"{name}: scalar with wire type {wire}")
            out[key] = int64(value) if kind == "int" else value
    return out


VALUE_TYPE = {1: ("type", "int"), 2: ("unit", "int")}
LABEL = {1: ("key", "int"), 2: ("str", "int"), 3: ("num", "int"), 4: ("num_unit", "int")}
SAMPLE = {1: ("location_id", "ints"), 2: ("value", "ints"), 3: ("label[]", LABEL)}
MAPPING = {1: ("id", "uint"), 2: ("memory_start", "uint"), 3: ("memory_limit", "uint"),
           4: ("file_offset", "uint"), 5: ("filename", "int"), 6: ("build_id", "int"),
           7: ("has_functions", "bool"), 8: ("has_filenames", "bool"),
           9: ("has_line_numbers", "bool"), 10: ("has_inline_frames", "bool")}
LINE = {1: ("function_id", "uint"), 2: ("line", "int"), 3: ("column", "int")}
LOCATION = {1: ("id", "uint"), 2: ("mapping_id", "uint"), 3: ("address", "uint"),
            4: ("line[]", LINE), 5: ("is_folded", "bool")}
FUNCTION = {1: ("id", "uint"), 2: ("name", "int"), 3: ("system_name", "int"),
            4: ("filename", "int"), 5: ("start_line", "int")}
PROFILE = {1: ("sample_type[]", VALUE_TYPE), 2: ("sample[]", SAMPLE), 3: ("mapping[]", MAPPING),
           4: ("location[]", LOCATION), 5: ("function[]", FUNCTION),
           6: ("string_table[]", "string"), 7: ("drop_frames", "int"), 8: ("keep_frames", "int"),
           9: ("time_nanos", "int"), 10: ("duration_nanos", "int"),
           11: ("period_type", VALUE_TYPE), 12: ("period", "int"), 13: ("comment", "ints"),
           14: ("default_sample_type", "int"), 15: ("tick_unit", "int")}


def decode(data):
    """gzip bytes -> Profile dict."""
    if data[:2] != b"\x1f\x8b":
        raise DecodeError("not gzip (magic %r)" % data[:2])
    return message(gzip.decompress(data), PROFILE)


def check(p):
    """Asserts the .proto's rules; returns helpers {'s': str lookup, 'stacks': [...]}."""
    st = p["string_table"]
    assert st and st[0] == "", "string_table[0] must be \"\""

    def s(i):
        assert 0 <= i < len(st), f"string index {i} out of range ({len(st)})"
        return st[i]

    for vt in p["sample_type"] + ([p["period_type"]] if p["period_type"] else []):
        s(vt["type"]), s(vt["unit"])
    s(p["default_sample_type"])
    for c in p["comment"]:
        s(c)
    mappings = {m["id"]: m for m in p["mapping"]}
    functions = {f["id"]: f for f in p["function"]}
    locations = {loc["id"]: loc for loc in p["location"]}
    for kind, table, rows in (("mapping", mappings, p["mapping"]),
                              ("function", functions, p["function"]),
                              ("location", locations, p["location"])):
        assert len(table) == len(rows), f"{kind} ids are not unique"
        assert 0 not in table, f"a {kind} has id 0"
    for m in p["mapping"]:
        s(m["filename"])
        assert m["memory_start"] < m["memory_limit"], f"mapping {m['id']}: empty range"
    for f in p["function"]:
        s(f["name"]), s(f["system_name"]), s(f["filename"])
    for loc in p["location"]:
        if loc["mapping_id"]:
            m = mappings.get(loc["mapping_id"])
            assert m, f"location {loc['id']}: no mapping {loc['mapping_id']}"
            assert m["memory_start"] <= loc["address"] < m["memory_limit"], \
                f"location {loc['id']}: address outside its mapping"
        assert loc["line"], f"location {loc['id']} has no line"
        for line in loc["line"]:
            assert line["function_id"] in functions, \
                f"location {loc['id']}: no function {line['function_id']}"
    n = len(p["sample_type"])
    for smp in p["sample"]:
        assert len(smp["value"]) == n, f"sample has {len(smp['value'])} values, {n} types"
        for lid in smp["location_id"]:
            assert lid in locations, f"sample refers to missing location {lid}"
        for lab in smp["label"]:
            s(lab["key"]), s(lab["str"])
    return s


def frames(p, smp):
    """The function names of a sample's stack, leaf first."""
    st = p["string_table"]
    locs = {loc["id"]: loc for loc in p["location"]}
    funcs = {f["id"]: f for f in p["function"]}
    return [st[funcs[locs[i]["line"][0]["function_id"]]["name"]] for i in smp["location_id"]]


def sample_types(p):
    st = p["string_table"]
    return [(st[vt["type"]], st[vt["unit"]]) for vt in p["sample_type"]]


def labels(p, smp):
    st = p["string_table"]
    return {st[lab["key"]]: (st[lab["str"]] if lab["str"] else lab["num"]) for lab in smp["label"]}
