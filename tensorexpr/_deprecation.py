"""Renamed public names keep working for one release, with a FutureWarning.

Three shapes of rename (docs/api.rst, "One meaning per name"):

- a keyword argument (:func:`renamed_value`; :func:`renamed_argument` for one without a
  default, such as the analysed input),
- an attribute of a result object or an estimator (:class:`renamed_attribute`),
- a function that returned a tuple and now returns a result object (:class:`TupleResult`).
"""

from __future__ import annotations

import warnings
from typing import ClassVar

__all__ = [
    "REMOVED_IN",
    "DEPRECATED",
    "warn_renamed",
    "renamed_value",
    "renamed_argument",
    "renamed_attribute",
    "TupleResult",
]

#: the release in which the old names stop working
REMOVED_IN = "0.3"
#: the default of a renamed keyword argument's old name (scikit-learn's spelling)
DEPRECATED = "deprecated"


def warn_renamed(old: str, new: str, stacklevel: int) -> None:
    """FutureWarning: ``old`` is now ``new`` and stops working in :data:`REMOVED_IN`
    (``stacklevel`` as :func:`warnings.warn`'s, counted from this function)."""
    warnings.warn(
        f"{old} is deprecated and will stop working in tensorexpr {REMOVED_IN}: use {new}",
        FutureWarning,
        stacklevel=stacklevel,
    )


def renamed_value(function: str, old: str, old_value, new: str, new_value):
    """The value of a renamed keyword argument: ``new_value``, unless the caller passed the old
    name (``old_value`` is not :data:`DEPRECATED`), then ``old_value`` with a FutureWarning.

    The old name stays in the signature with the default :data:`DEPRECATED` (as scikit-learn
    does), so that the warnings of the function keep pointing at the caller's line.

    Examples
    --------
    >>> import warnings
    >>> def fit(max_iter=10, n_iter_max=DEPRECATED):
    ...     return renamed_value("fit", "n_iter_max", n_iter_max, "max_iter", max_iter)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     fit(), fit(n_iter_max=3), caught[0].category.__name__
    (10, 3, 'FutureWarning')
    """
    if isinstance(old_value, str) and old_value == DEPRECATED:
        return new_value
    warn_renamed(f"{function}({old}=...)", f"{new}=...", stacklevel=4)
    return old_value


def renamed_argument(function: str, old: str, old_value, new: str, new_value):
    """The value of a renamed argument that has no default, such as the first one.

    The new name takes the default None in the signature, so that a caller may pass the old
    keyword alone (``old`` defaults to :data:`DEPRECATED`, as in :func:`renamed_value`).
    Returns ``new_value``, or ``old_value`` with a FutureWarning; TypeError when neither or
    both are given. Positional calls are unchanged.

    Examples
    --------
    >>> import warnings
    >>> def rank(source=None, network=DEPRECATED):
    ...     return renamed_argument("rank", "network", network, "source", source)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     rank(1), rank(network=2), caught[0].category.__name__
    (1, 2, 'FutureWarning')
    """
    given = not (isinstance(old_value, str) and old_value == DEPRECATED)
    if not given and new_value is None:
        raise TypeError(f"{function}() missing 1 required argument: {new!r}")
    if given and new_value is not None:
        raise TypeError(f"{function}() got both {new!r} and its old name {old!r}: pass {new}")
    if not given:
        return new_value
    warn_renamed(f"{function}({old}=...)", f"{new}=...", stacklevel=4)
    return old_value


class renamed_attribute:
    """Class attribute ``old = renamed_attribute("new")``: reading ``obj.old`` returns
    ``obj.new``, with a FutureWarning."""

    def __init__(self, new: str):
        self.new = new

    def __set_name__(self, owner, name: str) -> None:
        self.old, self.owner = name, owner.__name__

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        warn_renamed(f"{self.owner}.{self.old}", f"{self.owner}.{self.new}", stacklevel=3)
        return getattr(obj, self.new)


class TupleResult:
    """Mixin of a result object that replaced a returned tuple: for one release it still
    unpacks (and indexes) as that tuple, with a FutureWarning.

    ``_tuple_fields`` names the tuple's items in order (``"self"``: the result itself).
    """

    _tuple_fields: ClassVar[tuple[str, ...]] = ()
    _returned_by: ClassVar[str] = ""

    def _as_tuple(self) -> tuple:
        names = ", ".join("result" if name == "self" else name for name in self._tuple_fields)
        warn_renamed(
            f"unpacking the {type(self).__name__} returned by {self._returned_by} as ({names})",
            "its attributes ("
            + ", ".join(f".{n}" for n in self._tuple_fields if n != "self")
            + ")",
            stacklevel=4,
        )
        return tuple(self if name == "self" else getattr(self, name) for name in self._tuple_fields)

    def __iter__(self):
        return iter(self._as_tuple())

    def __getitem__(self, index):
        return self._as_tuple()[index]
