"""Numbers as people type them: one grammar for every numeric CLI option and window field.

A number is a decimal with an optional exponent (``0.03``, ``.5``, ``1e-3``, ``2E+1``), or a
quotient of two such decimals, the way papers write budgets (``8/255``, ``0.5/255``,
``1e-3/2``). Spaces around the number and around ``/`` are ignored; a leading ``+`` or
``-`` (also the typographic minus U+2212 the figures print) is allowed on either part.
Anything else (``inf``, ``nan``, ``1_000``, ``8//255``, ``1/2/3``, words) is refused with
one message naming the field. Lists (``--mean 0.485,0.456,0.406``) are such numbers
separated by commas (or semicolons).

Only the grammar lives here; ranges (eps > 0, steps >= 1, ...) are checked by the
parameter objects that use the value, so each rule has one home.
"""

from __future__ import annotations

import math
import re

from visualizer.core.errors import ParameterError

__all__ = ["parse_number", "parse_numbers", "parse_whole"]

_DECIMAL = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
# re.ASCII: [0-9] only; Python's float() would also take Arabic-Indic digits and '1_000'.
_NUMBER = re.compile(rf"\s*({_DECIMAL})\s*(?:/\s*({_DECIMAL})\s*)?", re.ASCII)
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
_TYPOGRAPHIC_MINUS = "\u2212"
EXAMPLES = "0.03, 1e-3, 8/255 or 0.5/255"


def _error(what: str, rest: str) -> ParameterError:
    # An empty ``what`` is for argparse, which names the option itself ("argument --eps: ...").
    return ParameterError(f"{what} {rest}" if what else rest)


def parse_number(text: str | float | int, what: str = "value") -> float:
    """A finite float from user text in the grammar above (or from a number).

    Raises ParameterError naming ``what``: not in the grammar, a division by zero, or a
    value that is not finite (``inf``, ``1e999``).
    """
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        s = str(text).replace(_TYPOGRAPHIC_MINUS, "-")
        m = _NUMBER.fullmatch(s)
        if m is None:
            if _is_non_finite_word(s):
                raise _error(what, f"must be a finite number, not {text!r}.")
            raise _error(what, f"must be a number such as {EXAMPLES}, not {text!r}.")
        # Floats, not Fraction: Fraction('1e999999999') would build a billion-digit integer.
        numerator = float(m.group(1))
        denominator = float(m.group(2)) if m.group(2) is not None else 1.0
        if denominator == 0:
            raise _error(what, f"divides by zero: {text!r}.")
        value = numerator / denominator
    if not math.isfinite(value):
        raise _error(what, f"must be a finite number, not {text!r}.")
    return value


def parse_positive(text: str | float | int, what: str = "value") -> float:
    """parse_number, and above zero (a learning rate): ParameterError naming ``what``."""
    value = parse_number(text, what)
    if value <= 0:
        raise _error(what, f"must be positive, not {value:g}.")
    return value


def _is_non_finite_word(s: str) -> bool:
    try:
        return not math.isfinite(float(s))
    except ValueError:
        return False


def parse_whole(text: str | int, what: str = "value") -> int:
    """A whole number: '10', or any number in the grammar that is one ('1e3', '20/2', '10.0').

    Plain integers are read exactly (a seed of 2**62 + 1 stays itself). Raises
    ParameterError naming ``what``.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if isinstance(text, str) and _INTEGER.fullmatch(text.replace(_TYPOGRAPHIC_MINUS, "-")):
        return int(text.replace(_TYPOGRAPHIC_MINUS, "-"))
    try:
        value = parse_number(text, what)
    except ParameterError:
        raise _error(what, f"must be a whole number such as 10, not {text!r}.") from None
    if not value.is_integer():
        raise _error(what, f"must be a whole number such as 10, not {text!r}.")
    return int(value)


def parse_numbers(text: str, what: str = "value", example: str = "0.485,0.456,0.406") -> tuple[float, ...]:
    """Comma- (or semicolon-) separated numbers, each in the grammar: '0.485, 0.456, 0.406'.

    How many values a field takes is the caller's rule. Raises ParameterError naming
    ``what`` for an empty list, an empty item or an item that is not a number; ``example``:
    a list that field would take, for that message (a poison rate list was once told to
    look like a normalisation mean).
    """
    items = str(text).replace(";", ",").split(",")
    if not str(text).strip():
        raise _error(what, f"needs comma-separated numbers such as {example}, not {text!r}.")
    if any(not item.strip() for item in items):
        raise _error(what, f"has an empty item in {text!r}: separate numbers with single commas.")
    return tuple(parse_number(item, what) for item in items)
