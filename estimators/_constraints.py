"""Parameter constraints of the estimators and transformers, checked from one table per class.

Each class lists, as scikit-learn's ``_parameter_constraints`` does, the values every
parameter accepts; :func:`validate_params` checks them all with one message format
(``"<name> must be <what is accepted>, got <value>"``). scikit-learn's own machinery
(``sklearn.utils._param_validation``) is private and has changed between releases, so this
small table of our own stands in for it. Rules that tie two parameters together stay in the
class (they are few: ``n_features`` against ``feature_map``).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable

import numpy as np

__all__ = ["Boolean", "Int", "NoneValue", "Options", "Real", "expected", "validate_params"]


class Int:
    """An int (not a bool) >= ``low``."""

    def __init__(self, low: int = 1):
        self.low = low

    def type_ok(self, value) -> bool:
        return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))

    def ok(self, value) -> bool:
        return self.type_ok(value) and value >= self.low

    def parts(self) -> list[str]:
        return [f"an int >= {self.low}"]


class Real:
    """A finite real number (not a bool) in an interval, closed unless ``*_open``."""

    def __init__(self, low=None, high=None, *, low_open: bool = False, high_open: bool = False):
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open

    def type_ok(self, value) -> bool:
        return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))

    def ok(self, value) -> bool:
        if not self.type_ok(value) or not np.isfinite(value):
            return False
        if self.low is not None and not (value > self.low if self.low_open else value >= self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def parts(self) -> list[str]:
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return [f"a float in {left}{low}, {high}{right}"]


class Options:
    """One of some strings (a list, or a function giving it when checked: registries)."""

    def __init__(self, options: Iterable[str] | Callable[[], Iterable[str]]):
        self._options = options

    @property
    def options(self) -> list[str]:
        return list(self._options() if callable(self._options) else self._options)

    def type_ok(self, value) -> bool:
        return isinstance(value, str)

    def ok(self, value) -> bool:
        return isinstance(value, str) and value in self.options

    def parts(self) -> list[str]:
        options = self.options
        if len(options) == 1:
            return [repr(options[0])]
        return [f"one of {options}"]


class Boolean:
    """True or False (numpy bools included)."""

    def type_ok(self, value) -> bool:
        return isinstance(value, (bool, np.bool_))

    ok = type_ok

    def parts(self) -> list[str]:
        return ["True", "False"]


class NoneValue:
    """None."""

    def type_ok(self, value) -> bool:
        return value is None

    ok = type_ok

    def parts(self) -> list[str]:
        return ["None"]


def expected(constraints) -> str:
    """``"True, False or 'auto'"``: what the constraints accept, in words."""
    parts = [part for constraint in constraints for part in constraint.parts()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def validate_params(owner, table: dict) -> None:
    """Check every parameter of ``owner`` listed in ``table`` (name -> list of constraints).

    Raises
    ------
    TypeError
        A value of a type that no constraint of its parameter accepts.
    ValueError
        A value of an accepted type outside what its constraints accept.
    """
    for name, constraints in table.items():
        value = getattr(owner, name)
        if any(constraint.ok(value) for constraint in constraints):
            continue
        error = ValueError if any(c.type_ok(value) for c in constraints) else TypeError
        raise error(f"{name} must be {expected(constraints)}, got {value!r}")
