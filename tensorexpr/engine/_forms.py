"""The TensorFlow forms of the building blocks: the operators xi and the feature maps.

The bottom layer (``tensorexpr/operators.py``, ``tensorexpr/features.py``) defines every
operator and feature map once, in tensorly; their TensorFlow forms, which the engine evaluates
and trains through, live here:

- :func:`operator_form`: xi on TensorFlow tensors. The built-in operators by name from
  ``_OPERATOR_FORMS``; a user's operator (:func:`~tensorexpr.register_operator`) by its
  ``tf_function`` when one was registered, else its tensorly ``function`` with ``pre`` (which
  then must run on TensorFlow tensors), in both cases wrapped by :func:`_guarded`
  (docs/errors.md);
- :func:`smoothed_form`: ``xi_tau(x, y, tau)``, a smooth form for the start of a gradient
  fit, or None (built-in: relu_max and max; a user's: the registered ``tf_smoothed``);
- :func:`feature_form`: a feature map on TensorFlow tensors, its learned parameters passed in
  (TensorFlow variables during a training). The built-in maps' forms are in
  ``_FEATURE_FORMS``, by class; a user's own :class:`~tensorexpr.FeatureMap` subclass gives its
  form by a method ``_tf_transform(self, tf, x, params)``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import numpy as np

from .._tensorflow import import_tensorflow
from ..features import (
    FeatureMap,
    LinearFeatures,
    PolynomialFeatures,
    ReLUFeatures,
    TrigFeatures,
    check_feature_map,
)
from ..operators import Operator, get_operator, is_builtin

__all__ = ["operator_form", "smoothed_form", "feature_form"]

#: The method by which a user's FeatureMap subclass gives its TensorFlow form.
FEATURE_HOOK = "_tf_transform"


# -- operators ----------------------------------------------------------------------------------
def _product(x, y):
    return x * y


def _smooth_max(x, y, tau):
    # max(x, y) + tau log(1 + exp(-|x - y| / tau)): exact at tau = 0. The exact max sends the
    # gradient to the winning argument only, so a fit can stall with the wrong one winning.
    tf = import_tensorflow()
    return tf.maximum(x, y) + tau * tf.math.log1p(
        tf.exp(-tf.math.divide_no_nan(tf.abs(x - y), tau))
    )


def _softplus(x, y):
    tf = import_tensorflow()
    return tf.maximum(x, y) + tf.math.log1p(tf.exp(-tf.abs(x - y)))


def _maximum(x, y):
    return import_tensorflow().maximum(x, y)


def _relu_max(x, y):
    tf = import_tensorflow()
    return tf.maximum(tf.maximum(x, y), 0.0)


def _relu_max_smoothed(x, y, tau):
    zero = import_tensorflow().zeros_like
    return _smooth_max(_smooth_max(x, zero(x), tau), _smooth_max(y, zero(y), tau), tau)


def _relu_sum(x, y):
    tf = import_tensorflow()
    return tf.nn.relu(x) + tf.nn.relu(y)


#: The built-in operators' TensorFlow forms, by name: ``(xi, smoothed xi or None)``. Written
#: for TensorFlow, they are not wrapped by the guard of a user's operator.
_OPERATOR_FORMS: dict[str, tuple[Callable, Callable | None]] = {
    "product": (_product, None),
    "relu_max": (_relu_max, _relu_max_smoothed),
    "relu_sum": (_relu_sum, None),
    "softplus": (_softplus, None),
    "max": (_maximum, _smooth_max),
}

#: A user's operator -> its guarded TensorFlow form (built once per registered operator).
_GUARDED: weakref.WeakKeyDictionary[Operator, Callable] = weakref.WeakKeyDictionary()


def operator_form(op: str | Operator) -> Callable:
    """xi on TensorFlow tensors, ``pre`` included: what the engine evaluates and trains.

    Parameters
    ----------
    op : str or Operator
        A registered operator or its name.

    Returns
    -------
    callable
        ``xi(x, y)`` on broadcastable TensorFlow tensors. For a user's operator: its
        ``tf_function`` if one was registered, else its ``function`` (with ``pre``), made safe
        for training (a failure on TensorFlow tensors names the operator; a gradient that is
        not finite is 0 there, docs/errors.md).

    Examples
    --------
    >>> from tensorexpr.engine import import_tensorflow, operator_form
    >>> tf = import_tensorflow()
    >>> operator_form("relu_max")(tf.constant([-1.0, 2.0]), tf.constant([-0.5, 1.0])).numpy()
    array([0., 2.], dtype=float32)
    """
    op = get_operator(op)
    if is_builtin(op):
        return _OPERATOR_FORMS[op.name][0]
    try:
        return _GUARDED[op]
    except KeyError:
        form = _GUARDED.setdefault(op, _user_form(op))
    except TypeError:  # an operator whose fields do not hash: built anew each time
        form = _user_form(op)
    return form


def smoothed_form(op: str | Operator) -> Callable | None:
    """``xi_tau(x, y, tau)`` on TensorFlow tensors, a smooth form of xi (exact at ``tau = 0``)
    for the start of :func:`~tensorexpr.fit_generalized`; None when xi has none.

    Parameters
    ----------
    op : str or Operator

    Returns
    -------
    callable or None
        The built-in relu_max and max have one; a user's operator has its registered
        ``tf_smoothed``.

    Examples
    --------
    >>> from tensorexpr.engine import smoothed_form
    >>> smoothed_form("max") is not None, smoothed_form("product")
    (True, None)
    """
    op = get_operator(op)
    if is_builtin(op):
        return _OPERATOR_FORMS[op.name][1]
    return op.tf_smoothed


def _user_form(op: Operator) -> Callable:
    given = op.tf_function is not None
    if given:
        fn = op.tf_function
    elif op.pre is None:
        fn = op.combine
    else:

        def fn(x, y, combine=op.combine, pre=op.pre):
            return combine(pre(x), pre(y))

    return _guarded(op.name, fn, given)


def _guarded(name: str, fn: Callable, given: bool) -> Callable:
    """A user's xi on TensorFlow tensors, made safe for training (docs/errors.md).

    - A function that fails on TensorFlow tensors (written with numpy, say) raises a TypeError
      naming the operator and ``tf_function``, not TensorFlow's "Cannot convert a symbolic
      tf.Tensor".
    - A gradient that is not finite at a singular point (``sqrt(x*x + y*y)`` at 0: 0/0) is
      replaced by 0 there, entry by entry: for a convex xi such as the L2 pooling this is a
      subgradient; elsewhere the gradient is the function's own.
    """

    def call(x, y):
        try:
            return fn(x, y)
        except (TypeError, ValueError, NotImplementedError, AttributeError) as err:
            which = "tf_function" if given else "function (used as its TensorFlow form)"
            raise TypeError(
                f"operator {name!r}: its {which} failed on TensorFlow tensors ({err}); "
                "register it with tf_function= written in TensorFlow ops (or arithmetic "
                "operators only)"
            ) from err

    def xi(x, y):
        tf = import_tensorflow()
        shape = tf.broadcast_dynamic_shape(tf.shape(x), tf.shape(y))
        # broadcast first, so that each entry's gradient is cleaned before the reduction
        # back to the arguments' shapes (one non-finite entry must not zero a whole sum)
        return _finite_grad(tf.broadcast_to(x, shape), tf.broadcast_to(y, shape))

    def _finite_grad(a, b):
        tf = import_tensorflow()

        @tf.custom_gradient
        def inner(a, b):
            with tf.GradientTape() as tape:
                tape.watch([a, b])
                out = call(a, b)

            def grad(upstream):
                ga, gb = tape.gradient(out, [a, b], output_gradients=upstream)
                clean = [
                    tf.zeros_like(v) if g is None else tf.where(tf.math.is_finite(g), g, 0.0)
                    for g, v in ((ga, a), (gb, b))
                ]
                return clean[0], clean[1]

            return out, grad

        return inner(a, b)

    xi.__name__ = f"tf_{name}"
    return xi


# -- feature maps -------------------------------------------------------------------------------
def _affine(tf, fmap, x, params):
    return tf.einsum("...n,mn->...m", x, params["A"]) + params["b"]


def _with_constant(tf, fmap, z):
    if fmap.append_constant:
        z = tf.concat([z, tf.ones_like(z[..., :1])], axis=-1)
    return z


def _relu_features(tf, fmap, x, params):
    return _with_constant(tf, fmap, tf.nn.relu(_affine(tf, fmap, x, params)))


def _linear_features(tf, fmap, x, params):
    return _with_constant(tf, fmap, _affine(tf, fmap, x, params))


def _trig_features(tf, fmap, x, params):
    angle = (np.pi / 2) * x
    both = tf.stack([tf.cos(angle), tf.sin(angle)], axis=-1)
    return tf.reshape(both, tf.concat([tf.shape(x)[:-1], [fmap.n_features]], 0))


def _polynomial_features(tf, fmap, x, params):
    powers, term = [tf.ones_like(x[..., :1])], x
    for _ in range(fmap.degree):
        powers.append(term)
        term = term * x
    return tf.concat(powers, axis=-1)


#: The built-in feature maps' TensorFlow forms, by class: ``form(tf, fmap, x, params)``.
_FEATURE_FORMS: dict[type, Callable] = {
    ReLUFeatures: _relu_features,
    LinearFeatures: _linear_features,
    TrigFeatures: _trig_features,
    PolynomialFeatures: _polynomial_features,
}


def _feature_form_of(feature_map: FeatureMap) -> Callable:
    """The form of the nearest class (in the MRO) that has one: its own ``_tf_transform``
    hook, or a built-in map's form; a TypeError naming the class and the hook if none has."""
    for cls in type(feature_map).__mro__:
        if FEATURE_HOOK in vars(cls):
            return lambda tf, fmap, x, params: getattr(fmap, FEATURE_HOOK)(tf, x, params)
        if cls in _FEATURE_FORMS:
            return _FEATURE_FORMS[cls]
    name = type(feature_map).__name__
    raise TypeError(
        f"feature map {name} has no TensorFlow form, which the TensorFlow engine trains "
        f"through: define {FEATURE_HOOK}(self, tf, x, params) on {name}, the map on a "
        "TensorFlow tensor (..., n_inputs) -> (..., n_features) in TensorFlow ops, its learned "
        "parameters (trainable_params()) given in params"
    )


def feature_form(feature_map: FeatureMap, x, params: dict | None = None):
    """The feature map on a TensorFlow tensor ``(..., n) -> (..., m)``.

    Parameters
    ----------
    feature_map : FeatureMap
        A built-in map, or a user's subclass with a method ``_tf_transform(self, tf, x,
        params)`` (the map in TensorFlow ops; ``params`` its learned parameters by name).
    x : tf.Tensor of shape (..., n)
    params : dict, optional
        TensorFlow tensors replacing the learned parameters
        (:meth:`~tensorexpr.FeatureMap.trainable_params`), e.g. variables being trained.

    Returns
    -------
    tf.Tensor of shape (..., m), with the dtype of ``x``

    Examples
    --------
    >>> import tensorexpr as te
    >>> from tensorexpr.engine import feature_form, import_tensorflow
    >>> tf = import_tensorflow()
    >>> feature_form(te.PolynomialFeatures(1, degree=2), tf.constant([[3.0]])).numpy()
    array([[1., 3., 9.]], dtype=float32)
    """
    check_feature_map(feature_map)
    form = _feature_form_of(feature_map)
    tf = import_tensorflow()
    values = feature_map.trainable_params()
    values.update(params or {})
    values = {k: tf.cast(v, x.dtype) for k, v in values.items()}
    return form(tf, feature_map, x, values)
