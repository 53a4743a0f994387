"""jq's semantics on Python values (what the `jq` binding gives and takes: dict, list, str,
int, float, bool, None), for the subset the fast path compiles.

Two signals leave this module:
* JqError: jq raises an error here. The caller reruns the record on libjq, which produces the
  error (with jq's own message) or, were the fast path ever wrong, the right outputs.
* Fallback: a value the fast path does not model exactly (a float to print, an integer beyond
  2**53, NaN, a type the binding would convert): also rerun on libjq.
Either way the result is libjq's, so the fast path only has to be right when it returns.
"""

from __future__ import annotations

import json
import math
from functools import cmp_to_key
from typing import Any

from .parsed import PARSED, canon_list

SAFE = 2**53  # integers up to this are exact doubles: jq and Python agree on them


class JqError(Exception):
    """jq would raise an error here (the message comes from libjq on the rerun)."""


class Fallback(Exception):
    """A value outside what the fast path models exactly: run this record on libjq."""


_NUM = (int, float)


def num(x: int | float) -> int | float:
    """A computed number as jq holds it (a double): integral results become int."""
    if type(x) is int:
        if -SAFE <= x <= SAFE:
            return x
        raise Fallback
    if x != x or x in (math.inf, -math.inf):
        raise Fallback
    if x.is_integer():  # type: ignore[union-attr]
        if x == 0 and math.copysign(1.0, x) < 0:
            raise Fallback  # -0 prints as "-0" in jq
        if -SAFE <= x <= SAFE:
            return int(x)
        raise Fallback
    return x


def _operand(x: Any) -> None:
    if type(x) is int and not -SAFE <= x <= SAFE:
        raise Fallback
    if type(x) is float and (x != x or x in (math.inf, -math.inf)):
        raise Fallback


def canon(x: Any) -> Any:
    """An output as the binding would return it: integral numbers as int (1.0 -> 1), anything
    the binding would convert otherwise -> Fallback. Not a copy: a part that needs no change is
    returned as it is, shared with the input, as the runtime's other commands share values
    (nothing in the runtime changes a value in place); only the containers on the way to a
    changed number are new. (Leaves are handled inline: this walks every value of every
    output, e.g. whole API pages.)"""
    t = type(x)
    if t is dict:
        changed: dict[str, Any] | None = None
        for k, v in x.items():
            if type(k) is not str:
                raise Fallback
            tv = type(v)
            if tv is str or v is None or tv is bool or (tv is int and -SAFE <= v <= SAFE):
                continue
            c = canon(v)
            if c is not v:
                if changed is None:
                    changed = dict(x)
                changed[k] = c
        return x if changed is None else changed
    if t is list:
        noted = PARSED.get(id(x)) if PARSED else None
        if noted is x:  # a response's array: checked in C (parsed.py)
            checked = canon_list(noted, canon)
            if checked is not None:
                return checked
        items: list[Any] | None = None
        for i, v in enumerate(x):
            tv = type(v)
            if tv is str or v is None or tv is bool or (tv is int and -SAFE <= v <= SAFE):
                continue
            c = canon(v)
            if c is not v:
                if items is None:
                    items = list(x)
                items[i] = c
        return x if items is None else items
    if t is str or x is None or t is bool:
        return x
    if t is int or t is float:
        return num(x)
    raise Fallback


def truthy(v: Any) -> bool:
    return not (v is None or v is False)


def typename(v: Any) -> str:
    t = type(v)
    if t is str:
        return "string"
    if t is dict:
        return "object"
    if t is list:
        return "array"
    if t is int or t is float:
        return "number"
    if t is bool:
        return "boolean"
    if v is None:
        return "null"
    raise Fallback


# ------------------------------------------------------------------ access


def index(v: Any, k: Any) -> Any:
    tk = type(k)
    if tk is str:
        if type(v) is dict:
            return v.get(k)
        if v is None:
            return None
        raise JqError
    if tk is int:
        if type(v) is list:
            if k < 0:
                k += len(v)
                if k < 0:
                    return None
            return v[k] if k < len(v) else None
        if v is None:
            return None
        raise JqError
    raise Fallback  # float, null, array or object keys


def iterate(v: Any) -> list[Any]:
    if type(v) is list:
        return v
    if type(v) is dict:
        return list(v.values())
    raise JqError


def slice_(v: Any, lo: Any, hi: Any) -> Any:
    if (lo is not None and type(lo) is not int) or (hi is not None and type(hi) is not int):
        raise Fallback
    if v is None:
        return None
    if type(v) is str:
        return v[lo:hi]
    if type(v) is list:
        raise Fallback  # libjq 1.8 compares array slices wrongly ([1,2,3] | .[1:] == .[:-1])
    raise JqError


# ------------------------------------------------------------------ order


def _rank(v: Any) -> int:
    t = type(v)
    if t is int or t is float:
        _operand(v)
        return 3
    if t is str:
        return 4
    if v is None:
        return 0
    if t is bool:
        return 2 if v else 1
    if t is list:
        return 5
    if t is dict:
        return 6
    raise Fallback


def compare(a: Any, b: Any) -> int:
    """jq's total order: null < false < true < numbers < strings < arrays < objects."""
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra in (3, 4):
        return -1 if a < b else (1 if a > b else 0)
    if ra == 5:
        for x, y in zip(a, b, strict=False):
            c = compare(x, y)
            if c:
                return c
        return -1 if len(a) < len(b) else (1 if len(a) > len(b) else 0)
    if ra == 6:
        ka, kb = sorted(a), sorted(b)
        c = compare(ka, kb)
        if c:
            return c
        for k in ka:
            c = compare(a[k], b[k])
            if c:
                return c
    return 0


_ORDER = cmp_to_key(compare)


def equal(a: Any, b: Any) -> bool:
    if type(a) is str and type(b) is str:
        return a == b
    return compare(a, b) == 0


# ------------------------------------------------------------------ arithmetic


def add(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    ta, tb = type(a), type(b)
    if ta is str and tb is str:
        return a + b
    if (ta is int or ta is float) and (tb is int or tb is float):
        _operand(a)
        _operand(b)
        return num(a + b)
    if ta is list and tb is list:
        return a + b
    if ta is dict and tb is dict:
        return {**a, **b}
    raise JqError


def subtract(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        _operand(a)
        _operand(b)
        return num(a - b)
    if ta is list and tb is list:
        return [x for x in a if not any(equal(x, y) for y in b)]
    raise JqError


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        old = out.get(k)
        out[k] = _merge(old, v) if type(old) is dict and type(v) is dict else v
    return out


def multiply(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        _operand(a)
        _operand(b)
        product = a * b
        if product == 0 and (a < 0 or b < 0):
            raise Fallback  # jq's -0
        return num(product)
    if ta is dict and tb is dict:
        return _merge(a, b)
    raise Fallback  # string repetition and the errors: libjq's


def divide(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        _operand(a)
        _operand(b)
        if b == 0:
            raise JqError
        return num(a / b)
    if ta is str and tb is str:
        return split(a, b)
    raise JqError


def modulo(a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int and 0 <= a <= SAFE and 0 < b <= SAFE:
        return a % b
    raise Fallback  # negative, float or zero operands: libjq's truncation and errors


def negate(a: Any) -> Any:
    if type(a) is int or type(a) is float:
        _operand(a)
        if a == 0:
            raise Fallback  # jq's -0
        return num(-a)
    raise JqError


# ------------------------------------------------------------------ builtins


def length(v: Any) -> Any:
    t = type(v)
    if t is str or t is list or t is dict:
        return len(v)
    if v is None:
        return 0
    if t is int:
        _operand(v)
        return abs(v)
    if t is float:
        raise Fallback  # jq keeps the number's literal (1.0 stays "1.0"): libjq's
    raise JqError


def sort(v: Any) -> list[Any]:
    """jq's `sort`: an array in jq's order (equal elements are equal values: the order among
    them does not show)."""
    if type(v) is not list:
        raise JqError
    return sorted(v, key=_ORDER)


def unique(v: Any) -> list[Any]:
    out: list[Any] = []
    for x in sort(v):
        if not out or compare(out[-1], x) != 0:
            out.append(x)
    return out


def minimum(v: Any) -> Any:
    """jq's `min` (null for []); an array holding null goes to libjq, whose min/max treat a
    null candidate specially."""
    return _extreme(v, True)


def maximum(v: Any) -> Any:
    return _extreme(v, False)


def _extreme(v: Any, smallest: bool) -> Any:
    if type(v) is not list:
        raise JqError
    best: Any = None
    for i, x in enumerate(v):
        if x is None:
            raise Fallback
        if i == 0:
            best = x
            continue
        c = compare(x, best)
        if (c < 0) if smallest else (c >= 0):  # the first smallest, the last largest
            best = x
    return best


def keys(v: Any) -> list[Any]:
    if type(v) is dict:
        return sorted(v)
    if type(v) is list:
        return list(range(len(v)))
    raise JqError


def keys_unsorted(v: Any) -> list[Any]:
    if type(v) is dict:
        return list(v)
    if type(v) is list:
        return list(range(len(v)))
    raise JqError


def has(v: Any, k: Any) -> bool:
    if v is None:
        return False
    if type(v) is dict and type(k) is str:
        return k in v
    if type(v) is list and type(k) is int:
        return 0 <= k < len(v)
    if type(v) is list and type(k) is float:
        raise Fallback
    raise JqError


def split(v: Any, sep: Any) -> list[str]:
    if type(v) is not str or type(sep) is not str:
        raise JqError
    if not v:
        return []
    if not sep:
        return list(v)
    return v.split(sep)


def dump(v: Any) -> str:
    """`tojson`: compact JSON as jq writes it (floats are libjq's to print)."""
    t = type(v)
    if t is str:
        return _dump_str(v)
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is int:
        _operand(v)
        return str(v)
    if t is list:
        return "[" + ",".join(dump(x) for x in v) + "]"
    if t is dict:
        return "{" + ",".join(_dump_str(k) + ":" + dump(x) for k, x in v.items()) + "}"
    raise Fallback


def _dump_str(s: Any) -> str:
    if type(s) is not str:
        raise Fallback
    text = json.dumps(s, ensure_ascii=False)
    return text.replace("\x7f", "\\u007f") if "\x7f" in text else text


def tostring(v: Any) -> str:
    return v if type(v) is str else dump(v)


def join(v: Any, sep: Any) -> str:
    items = iterate(v)
    if type(sep) is not str:
        raise Fallback
    parts = []
    for x in items:
        t = type(x)
        if t is str:
            parts.append(x)
        elif x is None:
            parts.append("")
        elif t is bool or t is int:
            parts.append(dump(x))
        else:
            raise Fallback  # floats to print; arrays and objects are errors
    return sep.join(parts)


_DIGITS = frozenset("0123456789")


def tonumber(v: Any) -> Any:
    t = type(v)
    if t is int or t is float:
        return v
    if t is str and v and len(v) <= 16 and set(v) <= _DIGITS:
        return int(v)
    raise Fallback  # decimals, signs, exponents, nan: libjq parses them


_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def ascii_downcase(v: Any) -> str:
    if type(v) is not str:
        raise JqError
    return v.translate(_LOWER)


def ascii_upcase(v: Any) -> str:
    if type(v) is not str:
        raise JqError
    return v.translate(_UPPER)


def to_entries(v: Any) -> list[dict[str, Any]]:
    if type(v) is dict:
        return [{"key": k, "value": x} for k, x in v.items()]
    raise Fallback


def add_all(v: Any) -> Any:
    acc = None
    for x in iterate(v):
        acc = add(acc, x)
    return acc


def starts(v: Any, prefix: Any) -> bool:
    if type(v) is str and type(prefix) is str:
        return v.startswith(prefix)
    raise JqError


def ends(v: Any, suffix: Any) -> bool:
    if type(v) is str and type(suffix) is str:
        return v.endswith(suffix)
    raise JqError


def ltrimstr(v: Any, prefix: Any) -> Any:
    if type(v) is str and type(prefix) is str:
        return v[len(prefix):] if v.startswith(prefix) else v
    raise Fallback


def rtrimstr(v: Any, suffix: Any) -> Any:
    if type(v) is str and type(suffix) is str:
        return v[:len(v) - len(suffix)] if suffix and v.endswith(suffix) else v
    raise Fallback
