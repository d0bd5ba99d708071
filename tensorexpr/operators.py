"""The binary operators xi of generalized tensor networks, and their registry (docs/theory.md, 3).

A generalized network replaces the product in the outer product by an associative,
commutative operator xi: ``(a (x)_xi b)[i, j] = xi(a[i], b[j])``.

Every operator is defined once, here, by :func:`register_operator`: its name, unit, whether it
is positively homogeneous, its rule for the term rank of the shallow-width bound and its tensorly
implementation. Networks, grid tensors, width bounds, the TensorFlow engine, the estimators'
``xi`` and the command line all look operators up here, so an operator registered by a user
works everywhere by its name. This module holds no TensorFlow code: the TensorFlow forms of the
operators (and the smoothed forms for training where the exact one has dead gradients) are the
engine's, :func:`tensorexpr.engine.operator_form` and :func:`tensorexpr.engine.smoothed_form`;
a user's operator may bring its own (``tf_function=``, ``tf_smoothed=``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorly as tl

from ._backend import relu
from .validation import check_real

__all__ = [
    "Operator",
    "get_operator",
    "register_operator",
    "operator_names",
    "generalized_outer",
]


@dataclass(frozen=True)
class Operator:
    """An associative, commutative binary operator xi with everything its consumers need.

    Built by :func:`register_operator`; look one up with :func:`get_operator`.

    Parameters
    ----------
    name : str
        Name used across tensorexpr (``"product"``, ``"relu_max"``, ...).
    combine : callable
        ``combine(x, y)``, elementwise on broadcastable tensors of the current tensorly
        backend, applied to ``pre(x), pre(y)``.
    unit : float or None
        The identity element: ``xi(x, unit) == x`` on the values the network produces.
        ``None`` when there is none (softplus, max); the first position then starts the
        recursion (**our choice**, docs/theory.md section 3).
    pre : callable, optional
        A map applied to both arguments before ``combine`` (ReLU for the rectifier
        operators); a grid recursion applies it once per state instead of once per pair.
    positively_homogeneous : bool
        ``xi(c x, c y) = c xi(x, y)`` for every ``c > 0``. The TensorFlow engine then keeps the
        running state of a network in log scale (docs/theory.md section 6); the product is
        bilinear and rescaled on its own terms.
    term_rank : callable or None
        ``term_rank(row_sizes, col_sizes)``: the largest matricization rank of one term of a
        generalized shallow network over a partition of the modes with these sizes
        (docs/theory.md section 4.3); ``None`` when no bound is known.
    tf_function : callable or None
        What was registered as xi on TensorFlow tensors (``pre`` included): a user's own form,
        or None (the built-in operators, and a user's operator registered without one). The
        form the engine uses, for every operator, is
        :func:`tensorexpr.engine.operator_form(op) <tensorexpr.engine.operator_form>`.
    tf_smoothed : callable or None
        What was registered as ``tf_smoothed(x, y, tau)``, a smooth form of xi at temperature
        ``tau`` (exact at ``tau = 0``) used early in :func:`~tensorexpr.fit_generalized`; None
        for the built-in operators, whose smoothed forms are
        :func:`tensorexpr.engine.smoothed_form`'s.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import get_operator
    >>> xi = get_operator("relu_max")
    >>> xi(np.array([-1.0, 2.0]), np.array([0.5, 1.0]))
    array([0.5, 2. ])
    >>> xi.unit, xi.positively_homogeneous
    (0.0, True)
    """

    name: str
    combine: Callable
    unit: float | None
    pre: Callable | None = None
    positively_homogeneous: bool = False
    term_rank: Callable | None = None
    tf_function: Callable | None = None
    tf_smoothed: Callable | None = None

    def __call__(self, x, y):
        if self.pre is not None:
            x, y = self.pre(x), self.pre(y)
        out = self.combine(x, y)
        # the operator may be a user's: its output is checked where it enters (shape, reals)
        if tl.is_tensor(x) and tl.is_tensor(y):
            expected = np.broadcast_shapes(tuple(tl.shape(x)), tuple(tl.shape(y)))
            # numpy returns a scalar, not a 0-d array, for 0-d arguments
            is_array = tl.is_tensor(out) or (isinstance(out, np.generic) and expected == ())
            if not is_array or tuple(tl.shape(out)) != expected:
                got = tuple(tl.shape(out)) if is_array else type(out).__name__
                raise ValueError(
                    f"operator {self.name!r} must return the broadcast shape of its arguments, "
                    f"{expected}, elementwise; got {got}"
                )
            if "complex" in str(tl.context(out)["dtype"]):
                raise TypeError(f"operator {self.name!r} must return real values, got complex")
        return out

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
            raise ValueError("terms must be a non-empty sequence, got an empty one")
        out = terms[0]
        for term in terms[1:]:
            out = self(out, term)
        return out

    @property
    def is_product(self) -> bool:
        return self.name == "product"

    def __repr__(self) -> str:
        return f"Operator({self.name!r})"

    def __reduce__(self):
        # pickled by name: the functions may be lambdas; the registry holds them
        return (get_operator, (self.name,))


_REGISTRY: dict[str, Operator] = {}


def register_operator(
    name: str,
    function: Callable,
    *,
    unit: float | None = None,
    positively_homogeneous: bool = False,
    term_rank: Callable | None = None,
    tf_function: Callable | None = None,
    tf_smoothed: Callable | None = None,
    pre: Callable | None = None,
    replace: bool = False,
) -> Operator:
    """Add an operator xi to the registry; it is then usable everywhere by its name.

    Parameters
    ----------
    name : str
        The name (``xi="name"`` in networks, :func:`~tensorexpr.fit_generalized`, the
        estimators and ``tensorexpr analyze --xi``).
    function : callable
        ``function(x, y)``: xi, elementwise on broadcastable tensors. Written with
        arithmetic operators or tensorly functions it serves every tensorly backend.
    unit : float, optional
        The identity element ``xi(x, unit) = x`` on the values the networks produce; a
        recursion starts from it. ``None``: there is none, the first position starts it.
    positively_homogeneous : bool, default False
        Whether ``xi(c x, c y) = c xi(x, y)`` for ``c > 0``; then the TensorFlow engine keeps
        long inputs in scale by a log-scale state (docs/theory.md section 6).
    term_rank : callable, optional
        ``term_rank(row_sizes, col_sizes) -> int``: a proven bound on the matricization
        rank of one shallow term (docs/theory.md section 4.3); without it
        :func:`~tensorexpr.shallow_width_lower_bound` refuses this xi.
    tf_function : callable, optional
        xi on TensorFlow tensors (``pre`` included), stored as ``Operator.tf_function``; when
        omitted the engine uses ``function`` with ``pre`` (then it must work on TensorFlow
        tensors, as arithmetic operators do). Either way the engine wraps it
        (:func:`tensorexpr.engine.operator_form`, docs/errors.md).
    tf_smoothed : callable, optional
        ``tf_smoothed(x, y, tau)``, a smooth form for gradient training (exact at ``tau = 0``),
        stored as ``Operator.tf_smoothed``.
    pre : callable, optional
        A map applied to each argument before ``function`` (tensorly): ``xi(x, y) =
        function(pre(x), pre(y))``; grid recursions apply it once per state.
    replace : bool, default False
        Allow replacing an operator of the same name.

    Returns
    -------
    Operator

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> l2 = te.register_operator(
    ...     "l2_doc", lambda x, y: (x * x + y * y) ** 0.5, unit=0.0, positively_homogeneous=True
    ... )
    >>> te.get_operator("l2_doc")(np.array([3.0]), np.array([4.0]))
    array([5.])
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if not name:
        raise ValueError("name must be a non-empty str, got ''")
    if name in _REGISTRY and not replace:
        raise ValueError(
            f"name must be new: an operator {name!r} is registered already (pass replace=True)"
        )
    for arg, value in (
        ("function", function),
        ("term_rank", term_rank),
        ("tf_function", tf_function),
        ("tf_smoothed", tf_smoothed),
        ("pre", pre),
    ):
        if value is not None and not callable(value):
            raise TypeError(f"{arg} must be callable, got {type(value).__name__}")
    if function is None:
        raise TypeError("function must be callable, got None")
    if unit is not None:
        unit = check_real(unit, "unit")
    if not isinstance(positively_homogeneous, bool):
        raise TypeError(
            f"positively_homogeneous must be a bool, got {type(positively_homogeneous).__name__}"
        )
    op = Operator(
        name=name,
        combine=function,
        unit=unit,
        pre=pre,
        positively_homogeneous=positively_homogeneous,
        term_rank=term_rank,
        tf_function=tf_function,
        tf_smoothed=tf_smoothed,
    )
    _REGISTRY[name] = op
    return op


def operator_names() -> list[str]:
    """Names of the registered operators, built-in ones first.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from tensorexpr import operator_names
    >>> operator_names()[:5]
    ['product', 'relu_max', 'relu_sum', 'softplus', 'max']
    """
    return list(_REGISTRY)


def get_operator(xi: str | Operator) -> Operator:
    """Look up an operator xi by name.

    Parameters
    ----------
    xi : str or Operator
        A registered name: ``"product"`` (x y), ``"relu_max"`` (max(x, y, 0)), ``"relu_sum"``
        (max(x, 0) + max(y, 0)), ``"softplus"`` (log(e^x + e^y)), ``"max"`` (max(x, y)), or
        one added by :func:`register_operator`; or an :class:`Operator`, returned as is.

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
        return _REGISTRY[xi]
    except KeyError:
        raise ValueError(f"xi must be one of {operator_names()}, got {xi!r}") from None


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


# -- the built-in operators: each defined once, below (their TensorFlow forms: engine/_forms.py)
def _max_term_rank(rows, cols):
    # a max / relu_max term has at most sum_{k in S} M_k distinct row values (theory.md 4.3)
    return min(sum(rows), sum(cols))


register_operator(
    "product",
    lambda x, y: x * y,
    unit=1.0,
    term_rank=lambda rows, cols: 1,
)
register_operator(
    "relu_max",
    lambda x, y: tl.maximum(x, y),
    unit=0.0,
    pre=relu,
    positively_homogeneous=True,
    term_rank=_max_term_rank,
)
register_operator(
    "relu_sum",
    lambda x, y: x + y,
    unit=0.0,
    pre=relu,
    positively_homogeneous=True,
    # a relu_sum term is u 1^T + 1 v^T: rank <= 2 (**our derivation**, theory.md 4.3)
    term_rank=lambda rows, cols: 2,
)
register_operator(
    "softplus",
    # log(e^x + e^y) = max(x, y) + log(1 + e^-|x - y|), stable for large |x|, |y|
    lambda x, y: tl.maximum(x, y) + tl.log(1.0 + tl.exp(-tl.abs(x - y))),
)
register_operator(
    "max",
    lambda x, y: tl.maximum(x, y),
    positively_homogeneous=True,
    term_rank=_max_term_rank,
)
#: The operators this module registers (not a user's, even one of the same name registered with
#: ``replace=True``): the engine's TensorFlow forms of these are written for them.
_BUILTINS: dict[str, Operator] = dict(_REGISTRY)


def is_builtin(op: Operator) -> bool:
    """Whether ``op`` is one of the operators tensorexpr registers itself, not a user's."""
    return _BUILTINS.get(op.name) is op
