"""Feature maps f: R^n -> R^m shared by all positions (docs/theory.md section 1).

Every feature map is a callable on ``(batch, n)`` tensors of the current backend
returning ``(batch, m)``. Parameters are stored as float64 numpy arrays and cast to
the input's backend and dtype at call time, so a map built under one backend keeps
working after :func:`tensorexpr.set_backend`.

Each map is defined once, here, in tensorly (``__call__``). This module holds no TensorFlow
code: the maps' TensorFlow forms, which the TensorFlow engine trains through (the learned
parameters passed in as TensorFlow variables), are the engine's,
:func:`tensorexpr.engine.feature_form`; a user's own :class:`FeatureMap` subclass gives its
form by a method ``_tf_transform(self, tf, x, params)``. :func:`make_feature_map` builds the
maps the estimators name (``"relu"``, ``"linear"``, ``"trig"``, ``"poly"``).
"""

from __future__ import annotations

import numpy as np
import tensorly as tl

from ._backend import relu, tensor_like
from ._deprecation import warn_renamed
from .validation import (
    as_float_array,
    check_callable_output,
    check_choice,
    check_positive_int,
    check_random_state,
    check_size,
    check_tensor,
)

__all__ = [
    "FeatureMap",
    "ReLUFeatures",
    "LinearFeatures",
    "TrigFeatures",
    "PolynomialFeatures",
    "make_feature_map",
    "feature_map_names",
]


class FeatureMap:
    """Base class of feature maps: ``n_inputs`` (n) in, ``n_features`` (m) out.

    Subclasses set ``n_inputs`` and ``n_features`` and implement ``_transform`` on a
    validated ``(batch, n)`` tensor, and ``get_params``. To be trained by the TensorFlow engine
    (the estimators, :func:`tensorexpr.engine.feature_form`) a subclass also defines
    ``_tf_transform(self, tf, x, params)``: the map on a TensorFlow tensor ``(..., n) ->
    (..., m)`` in TensorFlow ops (``tf`` the module), its learned parameters
    (:meth:`trainable_params`) given in ``params``; without it the engine raises a TypeError
    naming the class.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import FeatureMap, TrigFeatures
    >>> f = TrigFeatures(1)
    >>> isinstance(f, FeatureMap), f.n_inputs, f.n_features
    (True, 1, 2)
    """

    n_inputs: int
    n_features: int

    def __call__(self, x):
        # the one rule for foreign inputs, and NaN / inf refused even for a backend tensor
        x = check_tensor(x, "x")
        shape = tuple(tl.shape(x))
        if len(shape) != 2 or shape[1] != self.n_inputs:
            raise ValueError(
                f"x must have shape (batch, {self.n_inputs}) for this feature map, got {shape}"
            )
        out = self._transform(x)
        # a user's subclass is user code: its output is checked where it enters (shape, reals)
        if not tl.is_tensor(out) or tuple(tl.shape(out)) != (shape[0], self.n_features):
            out = check_callable_output(
                out, f"feature map {type(self).__name__}", (shape[0], self.n_features), False
            )
        elif "complex" in str(tl.context(out)["dtype"]):
            check_callable_output(out, f"feature map {type(self).__name__}", finite=False)
        return out

    def _transform(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def tf_call(self, x, params: dict | None = None):
        """The map on a TensorFlow tensor: deprecated, use
        :func:`tensorexpr.engine.feature_form(fmap, x, params) <tensorexpr.engine.feature_form>`
        (the same values; this name warns and stops working in 0.3).

        Parameters
        ----------
        x : tf.Tensor of shape (..., n)
        params : dict, optional
            TensorFlow tensors replacing the learned parameters (:meth:`trainable_params`).

        Returns
        -------
        tf.Tensor of shape (..., m), with the dtype of ``x``
        """
        warn_renamed(
            "FeatureMap.tf_call", "tensorexpr.engine.feature_form(fmap, x, params)", stacklevel=3
        )
        # the one upward import of the bottom layer, a deprecation shim (tests/test_layering.py)
        from .engine import feature_form

        return feature_form(self, x, params)

    def trainable_params(self) -> dict:
        """The parameters a training may learn (float64 numpy arrays), by name."""
        return {}

    def with_params(self, **arrays) -> FeatureMap:
        """A copy with the learned parameters replaced (see :meth:`trainable_params`)."""
        params = self.get_params()
        params.update({k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()})
        return type(self)(**params)

    @property
    def constant_index(self) -> int | None:
        """Index of a feature that is the constant 1, None if there is none."""
        return None

    def get_params(self) -> dict:
        """Constructor arguments (arrays as numpy), enough to rebuild the map."""
        raise NotImplementedError  # pragma: no cover

    def __eq__(self, other):
        if type(self) is not type(other):
            return NotImplemented
        a, b = self.get_params(), other.get_params()
        return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_inputs={self.n_inputs}, n_features={self.n_features})"


class _AffineFeatures(FeatureMap):
    def __init__(
        self,
        n_inputs: int,
        n_features: int | None = None,
        A=None,
        b=None,
        append_constant: bool = False,
        random_state=None,
    ):
        self.n_inputs = check_positive_int(n_inputs, "n_inputs")
        if A is None:
            if n_features is None:
                raise ValueError("n_features is required when A is not given")
            n_out = check_positive_int(n_features, "n_features") - int(bool(append_constant))
            if n_out < 1:
                raise ValueError(
                    f"n_features must be >= 2 when append_constant=True, got {n_features}"
                )
            check_size(
                8 * n_out * self.n_inputs,
                f"n_features={n_features}",
                f"the weights A of a feature map with n_inputs={self.n_inputs}",
            )
            rng = check_random_state(random_state)
            A = rng.standard_normal((n_out, self.n_inputs)) / np.sqrt(self.n_inputs)
            if b is None:
                b = 0.1 * rng.standard_normal(n_out)
        A = as_float_array(A, "A", ndim=2).astype(np.float64)
        if A.shape[1] != self.n_inputs:
            raise ValueError(f"A must have shape (m, {self.n_inputs}), got {A.shape}")
        b = np.zeros(A.shape[0]) if b is None else as_float_array(b, "b", ndim=1)
        if b.shape != (A.shape[0],):
            raise ValueError(f"b must have shape ({A.shape[0]},), got {b.shape}")
        self.A, self.b = A, b.astype(np.float64)
        self.append_constant = bool(append_constant)
        self.n_features = A.shape[0] + int(self.append_constant)
        if n_features is not None and check_positive_int(n_features, "n_features") != (
            self.n_features
        ):
            raise ValueError(
                f"n_features={n_features} does not match A of shape {A.shape}"
                + (" plus the constant" if self.append_constant else "")
            )

    def _affine(self, x):
        return tl.dot(x, tl.transpose(tensor_like(self.A, x))) + tensor_like(self.b, x)

    def _finish(self, z):
        if self.append_constant:
            z = tl.concatenate([z, tl.ones((tl.shape(z)[0], 1), **tl.context(z))], axis=1)
        return z

    def trainable_params(self) -> dict:
        return {"A": self.A.copy(), "b": self.b.copy()}

    @property
    def constant_index(self) -> int | None:
        return self.n_features - 1 if self.append_constant else None

    def get_params(self) -> dict:
        return {
            "n_inputs": self.n_inputs,
            "A": self.A.copy(),
            "b": self.b.copy(),
            "append_constant": self.append_constant,
        }


class ReLUFeatures(_AffineFeatures):
    """Learned-style features ``f(x) = max(A x + b, 0)`` [K18, K19].

    Parameters
    ----------
    n_inputs : int
        Input size n of one position.
    n_features : int, optional
        Output size m (including the constant when ``append_constant``).
        Required when ``A`` is not given.
    A : array of shape (m, n), optional
        Weights; random ``N(0, 1/n)`` when omitted.
    b : array of shape (m,), optional
        Biases; ``N(0, 0.01)`` when ``A`` is random, zeros otherwise.
    append_constant : bool, default False
        Append a constant feature 1 (it lets a TT-network skip a position).
    random_state : None, int or numpy Generator
        Seed of the random initialisation.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import ReLUFeatures
    >>> f = ReLUFeatures(2, A=np.eye(2), b=np.array([0.0, -1.0]))
    >>> f(np.array([[0.5, 3.0], [-1.0, 0.5]]))
    array([[0.5, 2. ],
           [0. , 0. ]])
    """

    def _transform(self, x):
        return self._finish(relu(self._affine(x)))


class LinearFeatures(_AffineFeatures):
    """Affine features ``f(x) = A x + b``; ``LinearFeatures.identity(n)`` gives ``f(x) = x``.

    Parameters
    ----------
    n_inputs : int
        Input size n of one position.
    n_features : int, optional
        Output size m (including the constant when ``append_constant``).
        Required when ``A`` is not given.
    A : array of shape (m, n), optional
        Weights; random ``N(0, 1/n)`` when omitted.
    b : array of shape (m,), optional
        Biases; ``N(0, 0.01)`` when ``A`` is random, zeros otherwise.
    append_constant : bool, default False
        Append a constant feature 1.
    random_state : None, int or numpy Generator
        Seed of the random initialisation.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import LinearFeatures
    >>> f = LinearFeatures.identity(2, append_constant=True)
    >>> f(np.array([[0.5, 3.0]]))
    array([[0.5, 3. , 1. ]])
    """

    @classmethod
    def identity(cls, n_inputs: int, append_constant: bool = False) -> LinearFeatures:
        n = check_positive_int(n_inputs, "n_inputs")
        check_size(8 * n * n, f"n_inputs={n}", "the identity matrix A")
        return cls(n, A=np.eye(n), b=np.zeros(n), append_constant=append_constant)

    def _transform(self, x):
        return self._finish(self._affine(x))


class TrigFeatures(FeatureMap):
    """Fixed features ``[cos(pi x / 2), sin(pi x / 2)]`` per input coordinate (m = 2 n).

    Parameters
    ----------
    n_inputs : int, default 1
        Input size n; the output interleaves ``cos, sin`` for each coordinate.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import TrigFeatures
    >>> np.round(TrigFeatures()(np.array([[0.0], [1.0]])), 12)
    array([[1., 0.],
           [0., 1.]])
    """

    def __init__(self, n_inputs: int = 1):
        self.n_inputs = check_positive_int(n_inputs, "n_inputs")
        self.n_features = 2 * self.n_inputs
        check_size(8 * self.n_features, f"n_inputs={n_inputs}", "the features of one point")

    def _transform(self, x):
        angle = (np.pi / 2) * x
        both = tl.stack([tl.cos(angle), tl.sin(angle)], axis=2)
        return tl.reshape(both, (tl.shape(x)[0], self.n_features))

    def get_params(self) -> dict:
        return {"n_inputs": self.n_inputs}


class PolynomialFeatures(FeatureMap):
    """Fixed features ``1, x_j, x_j^2, ..., x_j^degree`` (m = 1 + n * degree).

    Parameters
    ----------
    n_inputs : int, default 1
        Input size n.
    degree : int, default 2
        Highest power.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import PolynomialFeatures
    >>> PolynomialFeatures(1, degree=3)(np.array([[2.0]]))
    array([[1., 2., 4., 8.]])
    """

    def __init__(self, n_inputs: int = 1, degree: int = 2):
        self.n_inputs = check_positive_int(n_inputs, "n_inputs")
        self.degree = check_positive_int(degree, "degree")
        self.n_features = 1 + self.n_inputs * self.degree
        # one point's features must fit: a larger map could never be evaluated
        check_size(8 * self.n_features, f"degree={degree}", "the features of one point")

    def _transform(self, x):
        powers = [tl.ones((tl.shape(x)[0], 1), **tl.context(x))]
        term = x
        for _ in range(self.degree):
            powers.append(term)
            term = term * x
        return tl.concatenate(powers, axis=1)

    @property
    def constant_index(self) -> int | None:
        return 0

    def get_params(self) -> dict:
        return {"n_inputs": self.n_inputs, "degree": self.degree}


#: Prefix of a feature map's arrays where they sit beside a network's: the training state of
#: the engine and the estimators, and network files.
PARAM_PREFIX = "feature_map."


def prefixed(arrays: dict) -> dict:
    """A feature map's arrays under the names they take beside a network's parameters."""
    return {PARAM_PREFIX + name: value for name, value in arrays.items()}


def split_prefixed(arrays: dict) -> tuple[dict, dict]:
    """``(network arrays, feature map arrays by their own names)`` of a joined dict."""
    network = {k: v for k, v in arrays.items() if not k.startswith(PARAM_PREFIX)}
    feature = {k[len(PARAM_PREFIX) :]: v for k, v in arrays.items() if k.startswith(PARAM_PREFIX)}
    return network, feature


def check_feature_map(feature_map) -> FeatureMap:
    if not isinstance(feature_map, FeatureMap):
        raise TypeError(
            "feature_map must be a tensorexpr FeatureMap (ReLUFeatures, LinearFeatures, "
            f"TrigFeatures, PolynomialFeatures), got {type(feature_map).__name__}"
        )
    return feature_map


def _relu_map(n_inputs, n_features, random_state):
    return ReLUFeatures(n_inputs, n_features, append_constant=True, random_state=random_state)


def _linear_map(n_inputs, n_features, random_state):
    return LinearFeatures(n_inputs, n_features, append_constant=True, random_state=random_state)


def _trig_map(n_inputs, n_features, random_state):
    return TrigFeatures(n_inputs)


def _poly_map(n_inputs, n_features, random_state):
    return PolynomialFeatures(n_inputs, degree=max(1, (n_features - 1) // n_inputs))


#: The feature maps named by the estimators: name -> builder(n_inputs, n_features, rng).
_NAMED_MAPS = {"relu": _relu_map, "linear": _linear_map, "trig": _trig_map, "poly": _poly_map}


def feature_map_names() -> list[str]:
    """Names accepted by :func:`make_feature_map`.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from tensorexpr import feature_map_names
    >>> feature_map_names()
    ['relu', 'linear', 'trig', 'poly']
    """
    return list(_NAMED_MAPS)


def make_feature_map(name: str, n_inputs: int, n_features: int, random_state=None) -> FeatureMap:
    """The feature map the estimators call ``name``, with a random start for the learned ones.

    Parameters
    ----------
    name : {"relu", "linear", "trig", "poly"}
        ``"relu"``: ``ReLUFeatures(..., append_constant=True)``, ``[max(Ax + b, 0), 1]``;
        ``"linear"``: ``LinearFeatures(..., append_constant=True)``, ``[Ax + b, 1]``;
        ``"trig"``: ``TrigFeatures(n_inputs)`` (``n_features`` ignored, m = 2 n);
        ``"poly"``: ``PolynomialFeatures(n_inputs, degree=max(1, (n_features - 1) // n))``.
    n_inputs : int
        Values per position n.
    n_features : int
        Size m of f(x) for the learned maps (the constant included).
    random_state : None, int or numpy Generator

    Returns
    -------
    FeatureMap

    Examples
    --------
    >>> from tensorexpr import make_feature_map
    >>> make_feature_map("relu", 2, 5, random_state=0)
    ReLUFeatures(n_inputs=2, n_features=5)
    """
    check_choice(name, "feature_map", feature_map_names())
    n_inputs = check_positive_int(n_inputs, "n_inputs")
    n_features = check_positive_int(n_features, "n_features")
    return _NAMED_MAPS[name](n_inputs, n_features, check_random_state(random_state))
