"""The binary operators xi of generalized tensor networks (PAPERS.md section 3).

A generalized network replaces the product in the outer product by an associative,
commutative operator xi: ``(a (x)_xi b)[i, j] = xi(a[i], b[j])``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import tensorly as tl

from ._backend import relu

__all__ = ["Operator", "get_operator", "generalized_outer", "OPERATORS"]


def _softplus(x, y):
    # log(e^x + e^y) = max(x, y) + log(1 + e^-|x - y|), stable for large |x|, |y|
    return tl.maximum(x, y) + tl.log(1.0 + tl.exp(-tl.abs(x - y)))


def _maximum(x, y):
    return tl.maximum(x, y)


def _multiply(x, y):
    return x * y


def _add(x, y):
    return x + y


@dataclass(frozen=True)
class Operator:
    """An associative, commutative binary operator xi with its unit.

    Parameters
    ----------
    name : str
        Name used across tensorexpr (``"product"``, ``"relu_max"``, ...).
    combine : callable
        Elementwise binary function on broadcastable tensors of the current backend.
    unit : float or None
        The identity element: ``xi(x, unit) == x`` on the values the network
        produces. ``None`` when there is none (softplus, max); the first position
        then starts the recursion (**our choice**, PAPERS.md section 3).

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import get_operator
    >>> xi = get_operator("relu_max")
    >>> xi(np.array([-1.0, 2.0]), np.array([0.5, 1.0]))
    array([0.5, 2. ])
    >>> xi.unit
    0.0
    """

    name: str
    combine: Callable
    unit: float | None
    pre: Callable | None = None

    def __call__(self, x, y):
        if self.pre is not None:
            x, y = self.pre(x), self.pre(y)
        return self.combine(x, y)

    def prepare(self, x):
        """``pre(x)`` (identity when there is no ``pre``)."""
        return x if self.pre is None else self.pre(x)

    def start(self, x):
        """``xi(x, unit)``: the first step of a recursion that begins at the unit."""
        if self.unit is None:
            return x
        return self(x, x * 0.0 + self.unit)

    def reduce(self, terms):
        """Fold xi over a non-empty sequence of tensors (left to right)."""
        terms = list(terms)
        if not terms:
            raise ValueError("terms must be a non-empty sequence")
        out = terms[0]
        for term in terms[1:]:
            out = self(out, term)
        return out

    @property
    def is_product(self) -> bool:
        return self.name == "product"

    def __repr__(self) -> str:
        return f"Operator({self.name!r})"


OPERATORS: dict[str, Operator] = {
    "product": Operator("product", _multiply, 1.0),
    "relu_max": Operator("relu_max", _maximum, 0.0, pre=relu),
    "relu_sum": Operator("relu_sum", _add, 0.0, pre=relu),
    "softplus": Operator("softplus", _softplus, None),
    "max": Operator("max", _maximum, None),
}


def get_operator(xi: str | Operator) -> Operator:
    """Look up an operator xi by name.

    Parameters
    ----------
    xi : str or Operator
        One of ``"product"`` (x y), ``"relu_max"`` (max(x, y, 0)), ``"relu_sum"``
        (max(x, 0) + max(y, 0)), ``"softplus"`` (log(e^x + e^y)), ``"max"``
        (max(x, y)), or an :class:`Operator`, returned as is.

    Returns
    -------
    Operator

    Examples
    --------
    >>> from tensorexpr import get_operator
    >>> get_operator("product").unit
    1.0
    """
    if isinstance(xi, Operator):
        return xi
    if not isinstance(xi, str):
        raise TypeError(f"xi must be an operator name or an Operator, got {type(xi).__name__}")
    try:
        return OPERATORS[xi]
    except KeyError:
        raise ValueError(f"xi must be one of {sorted(OPERATORS)}, got {xi!r}") from None


def generalized_outer(a, b, xi: str | Operator = "product"):
    """Generalized outer product ``(a (x)_xi b)[i..., j...] = xi(a[i...], b[j...])``.

    Parameters
    ----------
    a, b : tensor
        Tensors of any order of the current backend.
    xi : str or Operator
        The operator.

    Returns
    -------
    tensor
        Of shape ``a.shape + b.shape``.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import generalized_outer
    >>> generalized_outer(np.array([1.0, -2.0]), np.array([0.5, 3.0]), "relu_max")
    array([[1. , 3. ],
           [0.5, 3. ]])
    """
    op = get_operator(xi)
    sa, sb = tuple(tl.shape(a)), tuple(tl.shape(b))
    return op(tl.reshape(a, sa + (1,) * len(sb)), tl.reshape(b, (1,) * len(sa) + sb))
