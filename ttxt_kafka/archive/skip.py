"""Does an Avro body decode with its writer schema? Checked by walking it, not decoding it.

The recorder stores every record, and a record whose schema fingerprint is known but whose body
does not decode (cut short, or with bytes after its end) is not an event: it must not be filed
under an event type with a time read from its first bytes. Decoding every record to find out
would double the recorder's cost per record, so each writer schema gets, once, a Python function
generated from it that only steps over the body: string lengths, varints, union branches, array
and map blocks, enum indexes — no object is built. It answers the structural question the way
the codec's decoder (fastavro) does: every length in range, every union branch and enum index
valid (an index counted from the end, negative, is taken as fastavro takes it, and so is a
varint longer than 10 bytes), the body ends where the schema does. It does not check that
strings are valid UTF-8 (the decoder would), which no truncation or concatenation produces.

A schema using something not compiled here (none of ours) gets `None`, and the caller decodes.

Where the package was built with a C compiler (`hatch_build.py`), `compile_checker` returns the
same walk in C (`_skip.c`, driven by `native_program`'s nodes): the same answer as the generated
skipper in every case (tested on every event schema), at a fraction of the regular
expression's cost. The generated skipper stays the reference, and the expression what runs
without a compiler.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

try:
    from . import _skip as _native
except ImportError:  # built without a C compiler: the expression and the skipper below run
    _native = None  # type: ignore[assignment]
NATIVE = _native is not None

Skipper = Callable[[bytes, int], bool]

_FIXED_WIDTH = {"float": 4, "double": 8}


class _Unsupported(Exception):
    pass


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """(value, position after) of an Avro long; IndexError past the end. No limit on its
    length: fastavro (the codec's decoder) reads a longer one too."""
    b = data[pos]
    pos += 1
    n = b & 0x7F
    shift = 7
    while b & 0x80:
        b = data[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
    return (n >> 1) ^ -(n & 1), pos


def _skip_long(data: bytes, pos: int) -> int:
    return _varint(data, pos)[1]


def _skip_string(data: bytes, pos: int) -> int:
    n = data[pos]
    if n < 0x80 and not n & 1:  # the usual one-byte length
        return pos + 1 + (n >> 1)
    length, pos = _varint(data, pos)
    if length < 0:
        raise IndexError("negative length")
    return pos + length


def _count(data: bytes, pos: int) -> tuple[int, int]:
    """An array/map block count (a negative count is followed by the block's byte size)."""
    n = data[pos]
    if n < 0x80 and not n & 1:
        return n >> 1, pos + 1
    count, pos = _varint(data, pos)
    if count < 0:
        _, pos = _varint(data, pos)
        count = -count
    return count, pos


class _Gen:
    def __init__(self, named: dict[str, Any]) -> None:
        self.lines: list[str] = []
        self.named = dict(named)
        self.env: dict[str, Any] = {"_skip_long": _skip_long, "_skip_string": _skip_string,
                                    "_count": _count, "_varint": _varint}
        self.n = 0

    def var(self) -> str:
        self.n += 1
        return f"v{self.n}"

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def resolve(self, schema: Any, namespace: str) -> Any:
        if isinstance(schema, str) and schema not in _PRIMITIVE:
            for name in (schema, f"{namespace}.{schema}", schema.rsplit(".", 1)[-1]):
                if name in self.named:
                    return self.named[name]
            raise _Unsupported(f"unknown named type {schema}")
        return schema

    def define(self, schema: dict[str, Any], namespace: str) -> str:
        name = schema["name"]
        ns = schema.get("namespace", namespace) if "." not in name else name.rsplit(".", 1)[0]
        full = name if "." in name else (f"{ns}.{name}" if ns else name)
        self.named.setdefault(full, schema)
        self.named.setdefault(name.rsplit(".", 1)[-1], schema)
        return ns

    def skip(self, depth: int, schema: Any, namespace: str) -> None:
        """Lines stepping `pos` over one value of `schema`."""
        schema = self.resolve(schema, namespace)
        if isinstance(schema, list):
            index = self.var()
            self.emit(depth, f"{index}, pos = _varint(data, pos)")
            # fastavro (the codec's decoder) takes a negative index from the end, as Python
            # does: what it decodes is an event, so the same here.
            n = len(schema)
            for i, branch in enumerate(schema):
                self.emit(depth, f"{'if' if i == 0 else 'elif'} {index} in ({i}, {i - n}):")
                before = len(self.lines)
                self.skip(depth + 1, branch, namespace)
                if len(self.lines) == before:
                    self.emit(depth + 1, "pass")
            self.emit(depth, "else:")
            self.emit(depth + 1, "return False")
            return
        kind = schema.get("type") if isinstance(schema, dict) else schema
        if isinstance(kind, (dict, list)) or (isinstance(kind, str) and kind not in _PRIMITIVE
                                              and kind not in _COMPLEX):
            self.skip(depth, kind, namespace)  # {"type": {...}} or {"type": "Name"}
            return
        if kind == "null":
            return
        if kind in ("string", "bytes"):
            self.emit(depth, "n = data[pos]")
            self.emit(depth, "if n < 0x80 and not n & 1: pos += 1 + (n >> 1)")
            self.emit(depth, "else: pos = _skip_string(data, pos)")
        elif kind in ("long", "int"):
            self.emit(depth, "if data[pos] < 0x80: pos += 1")
            self.emit(depth, "else: pos = _skip_long(data, pos)")
        elif kind == "boolean":  # one byte; like fastavro (the codec), any byte reads as one
            self.emit(depth, "pos += 1")
        elif kind in _FIXED_WIDTH:
            self.emit(depth, f"pos += {_FIXED_WIDTH[kind]}")
        elif kind == "fixed":
            self.define(schema, namespace)
            self.emit(depth, f"pos += {int(schema['size'])}")
        elif kind == "enum":
            self.define(schema, namespace)
            index = self.var()
            self.emit(depth, f"{index}, pos = _varint(data, pos)")
            k = len(schema["symbols"])  # a negative index counts from the end, as in fastavro
            self.emit(depth, f"if not {-k} <= {index} < {k}: return False")
        elif kind == "record" or kind == "error":
            ns = self.define(schema, namespace)
            for f in schema["fields"]:
                self.skip(depth, f["type"], ns)
        elif kind in ("array", "map"):
            count = self.var()
            self.emit(depth, "while True:")
            self.emit(depth + 1, f"{count}, pos = _count(data, pos)")
            self.emit(depth + 1, f"if not {count}: break")
            mark = len(self.lines)
            if kind == "map":
                self.skip(depth + 2, "string", namespace)
            self.skip(depth + 2, schema["items" if kind == "array" else "values"], namespace)
            if len(self.lines) > mark:
                # Items that take a byte at least: a larger count is garbage (and would spin).
                # Items of nothing (nulls) take no byte and are not stepped over one by one.
                self.lines[mark:mark] = [
                    "    " * (depth + 1) + f"if {count} > len(data): return False",
                    "    " * (depth + 1) + f"for _ in range({count}):"]
        else:
            raise _Unsupported(f"type {kind!r}")


_PRIMITIVE = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")
_COMPLEX = ("record", "error", "enum", "array", "map", "fixed")


def compile_skipper(schema: Any, named: dict[str, Any] | None = None) -> Skipper | None:
    """`check(data, pos)`: True when `data[pos:]` is exactly one value of `schema`; None when
    the schema uses something this module does not compile. `named`: named types the schema
    refers to but does not define (by full or short name)."""
    g = _Gen(named or {})
    g.emit(0, "def check(data, pos):")
    g.emit(1, "try:")
    try:
        g.skip(2, schema, "")
    except (_Unsupported, KeyError, TypeError, ValueError):
        return None
    g.emit(1, "except IndexError:")
    g.emit(2, "return False")
    g.emit(1, "return pos == len(data)")
    source = "\n".join(g.lines) + "\n"
    env = dict(g.env)
    exec(compile(source, "<ttxt_kafka.archive.skip>", "exec"), env)  # our own templates
    check: Skipper = env["check"]
    return check


# ---------------------------------------------------------------- the regex fast path
#
# The generated skipper still runs a few Python steps per string: ~0.25 µs per book level. The
# usual record — every string shorter than 64 bytes, every array block of a few items — is
# checked instead by one regular expression built from the schema (the `re` engine runs in C):
# a string is `<2L>` followed by L bytes for L in 0..63, an array block `<2n>` followed by n
# items for n in 1.._ARRAY_MAX (nested: _INNER_MAX), a long its varint bytes. A body the
# expression matches is exactly one value of the schema; one it does not match (a longer string
# or array, or a broken body) goes to the skipper, which decides.

_ARRAY_MAX = 63  # items per block in the expression (one-byte counts)
_INNER_MAX = 4  # items per block of an array inside an array ([price, qty] pairs)
_MAX_PATTERN = 400_000  # characters: a schema whose expression would be larger gets none


def _lit(byte: int) -> str:
    return f"\\x{byte:02x}"


# Every alternative below starts with its own literal byte (a length, a count, a union index)
# and the terminator of an array is another: the expression never has two ways to match, so
# its groups are atomic and its loops possessive — the engine keeps no backtracking state
# (a sixth less time per OrderBook).
_STRING_RX = "(?>" + "|".join(_lit(2 * n) + (f".{{{n}}}" if n else "") for n in range(64)) + ")"
_LONG_RX = "[\\x80-\\xff]*[\\x00-\\x7f]"


class _Rx:
    def __init__(self, named: dict[str, Any]) -> None:
        self.named = dict(named)
        self.resolve = _Gen(self.named).resolve
        self.define = _Gen(self.named).define

    def of(self, schema: Any, namespace: str, depth: int = 0) -> str:
        gen = _Gen(self.named)
        schema = gen.resolve(schema, namespace)
        if isinstance(schema, list):
            if len(schema) > 64:
                raise _Unsupported("union too wide")
            return "(?>" + "|".join(_lit(2 * i) + self.of(b, namespace, depth)
                                    for i, b in enumerate(schema)) + ")"
        kind = schema.get("type") if isinstance(schema, dict) else schema
        if isinstance(kind, (dict, list)) or (isinstance(kind, str) and kind not in _PRIMITIVE
                                              and kind not in _COMPLEX):
            return self.of(kind, namespace, depth)
        if kind == "null":
            return ""
        if kind in ("string", "bytes"):
            return _STRING_RX
        if kind in ("long", "int"):
            return _LONG_RX
        if kind == "boolean":
            return "."
        if kind in _FIXED_WIDTH:
            return f".{{{_FIXED_WIDTH[kind]}}}"
        if kind == "fixed":
            gen.define(schema, namespace)
            self.named.update(gen.named)
            return f".{{{int(schema['size'])}}}"
        if kind == "enum":
            gen.define(schema, namespace)
            self.named.update(gen.named)
            k = len(schema["symbols"])
            if k > 64:
                raise _Unsupported("enum too large")
            return "[" + "".join(_lit(2 * i) for i in range(k)) + "]"
        if kind in ("record", "error"):
            ns = gen.define(schema, namespace)
            self.named.update(gen.named)
            return "".join(self.of(f["type"], ns, depth) for f in schema["fields"])
        if kind in ("array", "map"):
            item = self.of(schema["items"], namespace, depth + 1) if kind == "array" else (
                _STRING_RX + self.of(schema["values"], namespace, depth + 1))
            most = _ARRAY_MAX if depth == 0 else _INNER_MAX
            if not item:
                raise _Unsupported("array of nulls")
            block = "|".join(_lit(2 * n) + f"(?:{item}){{{n}}}" for n in range(1, most + 1))
            return f"(?>{block})*+\\x00"
        raise _Unsupported(f"type {kind!r}")


# ---------------------------------------------------------------- the compiled walk
#
# `native_program` turns a schema into the nodes `_skip.Checker` walks: [op, size, args...,
# children...], size counting the node's ints. The same cases as `_Gen.skip`, named types
# resolved and defined the same way.

_MAX_DEPTH = 60  # nodes nested deeper than the C walk follows (it stops at 64)


def native_program(schema: Any, named: dict[str, Any] | None = None) -> list[int]:
    """The C walk's program for `schema`; _Unsupported where `compile_skipper` has no case (or
    the nesting is deeper than the walk follows)."""
    if _native is None:
        raise _Unsupported("not compiled")
    ops = _native
    gen = _Gen(named or {})

    def node(schema: Any, namespace: str, depth: int) -> list[int]:
        if depth > _MAX_DEPTH:
            raise _Unsupported("nested too deep")
        schema = gen.resolve(schema, namespace)
        if isinstance(schema, list):
            if not schema:
                raise _Unsupported("empty union")
            return _parent(ops.OP_UNION, [node(b, namespace, depth + 1) for b in schema])
        kind = schema.get("type") if isinstance(schema, dict) else schema
        if isinstance(kind, (dict, list)) or (isinstance(kind, str) and kind not in _PRIMITIVE
                                              and kind not in _COMPLEX):
            return node(kind, namespace, depth)
        if kind == "null":
            return [ops.OP_NULL, 2]
        if kind in ("string", "bytes"):
            return [ops.OP_STRING, 2]
        if kind in ("long", "int"):
            return [ops.OP_LONG, 2]
        if kind == "boolean":
            return [ops.OP_SKIP, 3, 1]
        if kind in _FIXED_WIDTH:
            return [ops.OP_SKIP, 3, _FIXED_WIDTH[kind]]
        if kind == "fixed":
            gen.define(schema, namespace)
            return [ops.OP_SKIP, 3, int(schema["size"])]
        if kind == "enum":
            gen.define(schema, namespace)
            return [ops.OP_ENUM, 3, len(schema["symbols"])]
        if kind in ("record", "error"):
            ns = gen.define(schema, namespace)
            return _parent(ops.OP_RECORD, [node(f["type"], ns, depth + 1)
                                           for f in schema["fields"]])
        if kind in ("array", "map"):
            item = node(schema["items" if kind == "array" else "values"], namespace, depth + 1)
            return [ops.OP_ARRAY if kind == "array" else ops.OP_MAP, 2 + len(item), *item]
        raise _Unsupported(f"type {kind!r}")

    return node(schema, "", 0)


def _parent(op: int, children: list[list[int]]) -> list[int]:
    out = [op, 3 + sum(map(len, children)), len(children)]
    for child in children:
        out += child
    return out


def compile_checker(schema: Any, named: dict[str, Any] | None = None) -> Skipper | None:
    """`check(data, pos)` as `compile_skipper`'s: the compiled walk where the package was built
    with a C compiler, else the usual records matched by one regular expression and the rest
    walked by the skipper. None if the skipper does not compile."""
    skipper = compile_skipper(schema, named)
    if skipper is None:
        return None
    if _native is not None:
        try:
            checker: Skipper = _native.Checker(native_program(schema, named))
            return checker
        except (_Unsupported, KeyError, TypeError, ValueError):
            pass  # the expression below, as without a compiler
    try:
        pattern = _Rx(named or {}).of(schema, "")
    except (_Unsupported, KeyError, TypeError, ValueError):
        return skipper
    if len(pattern) > _MAX_PATTERN:
        return skipper
    fullmatch = re.compile(pattern.encode("latin-1"), re.DOTALL).fullmatch

    def check(data: bytes, pos: int) -> bool:
        return fullmatch(data, pos) is not None or skipper(data, pos)

    # The expression alone, for a caller that sends what it rejects to `check` (the recorder's
    # fast way: one Python call less per record).
    check.fullmatch = fullmatch  # type: ignore[attr-defined]
    return check
