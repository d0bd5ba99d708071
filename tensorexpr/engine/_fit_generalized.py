"""Fitting generalized (xi-) CP, TT and HT networks to a grid tensor by gradient descent.

There is no SVD for generalized decompositions ([K19], [CS16]): a network with an operator
xi is fitted to a given grid tensor by Adam on the relative squared error. The
parametrization is the natural one for grid tensors: one-hot templates ``np.eye(M)`` and the
identity feature map, so the feature matrix is ``I`` and the leaf vectors are free M-vectors
(docs/theory.md sections 2-3). The returned network is a tensorexpr network whose grid tensor
on ``np.eye(M)`` reproduces the fit.

The grid tensor is computed by the engine (:func:`~tensorexpr.engine.grid`) and optimised by
``keras.optimizers.Adam``, in float64. Operators with a smoothed form (the max operators) are
trained smoothed at first, the temperature annealed to 0 early on; ReLU-type operators are
trained with subgradients.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._tensorflow import import_tensorflow
from ..features import LinearFeatures
from ..networks import LAYOUTS, TensorNetwork, layout_of
from ..operators import Operator, get_operator
from ..trees import DimensionTree, check_tree
from ..validation import (
    as_float_array,
    check_positive_int,
    check_random_state,
    check_real,
    check_size,
    check_verbose,
)
from ._cache import cached
from ._evaluate import grid
from ._forms import operator_form, smoothed_form
from ._spec import NetworkSpec, to_network

__all__ = ["fit_generalized", "GeneralizedFit"]

#: Gradient steps run inside one compiled call between two tolerance checks.
CHUNK = 50
#: Initial temperature of the smoothed max (the target is scaled to unit RMS).
TAU0 = 0.3
#: Random CP starts get least-squares output weights up to this width (H is M^d x R; for
#: TT and HT the same start was measured to hurt: docs/expressivity.md).
LSTSQ_OUTPUT_MAX = 1024
#: Adam's epsilon: tiny, the fits go down to relative errors of 1e-8 and below.
ADAM_EPSILON = 1e-12


@dataclass
class GeneralizedFit:
    """Result of :func:`fit_generalized`; the fields are its constructor parameters.

    Parameters
    ----------
    network : CPNetwork, TTNetwork or HTNetwork
        The best fitted network: feature map ``LinearFeatures.identity(M)``; its grid tensor
        on the templates ``np.eye(M)`` is the fit.
    relative_error : float
        ``||grid - tensor|| / ||tensor||`` of ``network``, recomputed by tensorexpr.
    history : ndarray
        Relative error after every step of the best restart.
    n_restarts : int
        Restarts actually run (the loop stops at the first one reaching ``tol``).
    n_iter : int
        Steps of the best restart.
    converged : bool
        Whether ``relative_error <= tol``.
    restart_errors : list of float
        Final relative error of every restart run.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> fit = te.fit_generalized(np.ones((2, 2)), "cp", rank=1, xi="product", tol=1e-6,
    ...                          max_iter=2000, random_state=0)
    >>> fit.converged, fit.n_restarts, fit.network.rank
    (True, 1, 1)
    """

    network: object
    relative_error: float
    history: np.ndarray
    n_restarts: int
    n_iter: int
    converged: bool
    restart_errors: list[float] = field(default_factory=list)


class GridTrainer:
    """Variables, a Keras Adam and a compiled chunk of steps for one spec, reused across fits."""

    def __init__(self, spec: NetworkSpec, shapes: dict, n_entries: int):
        tf = import_tensorflow()  # first: keras imports TensorFlow itself
        import keras

        f64 = tf.float64
        op = get_operator(spec.xi)
        self.names = list(shapes)
        self.tau = tf.Variable(tf.constant(0.0, dtype=f64))
        self.params = [tf.Variable(tf.zeros(shapes[k], dtype=f64)) for k in self.names]
        self.target = tf.Variable(tf.zeros((n_entries,), dtype=f64))
        self.optimizer = keras.optimizers.Adam(epsilon=ADAM_EPSILON)
        self.optimizer.build(self.params)
        identity = tf.eye(spec.m, dtype=f64)
        exact, smoothed = operator_form(op), smoothed_form(op)
        if smoothed is None:
            xi_fn = exact
        else:

            def xi_fn(x, y):
                return smoothed(x, y, self.tau)

        def loss_fn():
            values = dict(zip(self.names, self.params, strict=True))
            diff = grid(spec, values, identity, xi_fn) - self.target
            return tf.reduce_sum(diff * diff) / tf.reduce_sum(self.target * self.target)

        def one_step():
            with tf.GradientTape() as tape:
                loss = loss_fn()
            grads = tape.gradient(loss, self.params)
            grads = [
                tf.zeros_like(p) if g is None else g
                for g, p in zip(grads, self.params, strict=True)
            ]
            self.optimizer.apply_gradients(zip(grads, self.params, strict=True))
            return loss

        @tf.function(reduce_retracing=True)
        def chunk(n_steps):
            losses = tf.TensorArray(f64, size=n_steps)
            for i in tf.range(n_steps):
                losses = losses.write(i, one_step())
            return losses.stack(), loss_fn()

        self.chunk = chunk
        sizes = [int(np.prod(shapes[k])) for k in self.names]

        def residual(flat):
            # the exact operator (no smoothing), relative to the target's norm
            parts = tf.split(flat, sizes)
            values = {k: tf.reshape(x, shapes[k]) for k, x in zip(self.names, parts, strict=True)}
            diff = grid(spec, values, identity, exact) - self.target
            return diff / tf.norm(self.target)

        @tf.function(reduce_retracing=True)
        def residual_and_jacobian(flat):
            # forward mode, one tangent per parameter: n_params << M^d residuals
            def jvp(tangent):
                with tf.autodiff.ForwardAccumulator(flat, tangent) as acc:
                    r = residual(flat)
                return acc.jvp(r)

            eye = tf.eye(tf.size(flat), dtype=flat.dtype)
            return residual(flat), tf.transpose(tf.vectorized_map(jvp, eye))

        self.residual = tf.function(residual, reduce_retracing=True)
        self.residual_and_jacobian = residual_and_jacobian

    def reset(self, values: dict, target: np.ndarray, learning_rate: float, tau: float) -> None:
        """Start a restart: parameters, a fresh Adam, the target and the temperature."""
        self.tau.assign(tau)
        for p, name in zip(self.params, self.names, strict=True):
            p.assign(values[name])
        self.optimizer.iterations.assign(0)
        skip = {id(self.optimizer.iterations), id(self.optimizer.learning_rate)}
        for var in self.optimizer.variables:
            if id(var) not in skip:
                var.assign(np.zeros(var.shape))
        self.optimizer.learning_rate.assign(learning_rate)
        self.target.assign(target)

    def values(self) -> dict:
        return {k: p.numpy() for k, p in zip(self.names, self.params, strict=True)}

    def flat(self) -> np.ndarray:
        return np.concatenate([p.numpy().ravel() for p in self.params])

    def assign_flat(self, flat: np.ndarray) -> None:
        offset = 0
        for p in self.params:
            size = int(np.prod(p.shape))
            p.assign(flat[offset : offset + size].reshape(p.shape))
            offset += size


# -- the steps of a fit -----------------------------------------------------------------------
def _check_target(tensor) -> np.ndarray:
    arr = as_float_array(tensor, "tensor").astype(np.float64)
    if arr.ndim < 2:
        raise ValueError(f"tensor must have order d >= 2, got shape {arr.shape}")
    if len(set(arr.shape)) != 1:
        raise ValueError(f"tensor must have all modes of the same size M, got shape {arr.shape}")
    if float(np.linalg.norm(arr)) == 0:
        raise ValueError("tensor must not be identically zero (the relative error is undefined)")
    return arr


def _spec_of(arr, kind, rank, xi, tree, hidden_size) -> NetworkSpec:
    """The fit's spec; a TT fit always trains the matrices ``C_t`` (L = M by default)."""
    d, M = arr.ndim, arr.shape[0]
    layout = layout_of(kind)
    rank = check_positive_int(rank, "rank")
    op = get_operator(xi)
    for name, value in (("tree", tree), ("hidden_size", hidden_size)):
        if value is not None and name not in layout.options:
            owner = next(k for k, other in LAYOUTS.items() if name in other.options)
            raise ValueError(f"{name} is only used with kind={owner!r}, got kind={kind!r}")
    structure = check_tree(tree, d).structure if "tree" in layout.options else None
    hidden = None
    if "hidden_size" in layout.options:
        hidden = M if hidden_size is None else check_positive_int(hidden_size, "hidden_size")
    spec = NetworkSpec(kind, op.name, d, M, rank, 1, structure, hidden)
    # the parameters, their gradients and Adam's two moments
    check_size(
        4 * 8 * layout.n_params(spec),
        f"rank={rank}" if hidden_size is None else f"rank={rank}, hidden_size={hidden_size}",
        f"the training of a {kind.upper()} network (d={d}, M={M})",
    )
    return spec


def _initial_values(spec: NetworkSpec, shapes: dict, rng, op: Operator) -> dict:
    """Gaussian values giving outputs of order 1 whatever the widths.

    With an operator that rectifies its arguments (``pre``, the ReLU types) every parameter but
    the output layer starts positive (half-normal): a negative pre-activation is a dead ReLU with
    zero gradient, and a fit from mostly dead units stalls.
    """
    layout = layout_of(spec.kind)
    output = layout.output_name(spec)
    values = {}
    for name, shape in shapes.items():
        if name in layout.inputs:  # free vectors on one-hot templates
            std = 1.0
        elif len(shape) == 2:  # output weights (R, C)
            std = 1.0 / np.sqrt(shape[0])
        else:  # cores (r, L, r') and transfer tensors (r, r, r'): fan-in of the two first axes
            std = 1.0 / np.sqrt(shape[-3] * shape[-2])
        value = std * rng.standard_normal(shape)
        values[name] = np.abs(value) if op.pre is not None and name != output else value
    return values


def _least_squares_output(trainer: GridTrainer, spec: NetworkSpec, values: dict) -> None:
    """Set the output weights of a random CP start to their least-squares best.

    The grid tensor is ``H w`` with ``H`` (M^d, R) the grid of the hidden units, so the best
    ``w`` for the random hidden layer is one least-squares solve (variable projection); ``H``
    is the grid computed with the identity as output weights. A random output weight can
    start with the wrong sign: Adam then drives the pre-activations below zero and the
    rectified units die (the 2 x 2 relu_sum target ``[[1, 2], [2, 3]]``, CP rank 1, stopped
    at relative error 0.87). CP only: on deep TT / HT targets the least-squares output of a
    random hidden start led Adam to worse minima (docs/expressivity.md).
    """
    tf = import_tensorflow()
    R = spec.rank
    hidden = {k: tf.constant(v) for k, v in values.items()}
    hidden["weights"] = tf.eye(R, dtype=tf.float64)
    op = get_operator(spec.xi)
    H = grid(spec, hidden, tf.eye(spec.m, dtype=tf.float64), operator_form(op)).numpy()
    best, *_ = np.linalg.lstsq(H.reshape(-1, R), trainer.target.numpy(), rcond=None)
    trainer.params[trainer.names.index("weights")].assign(best.reshape(R, 1))


def _run_restart(trainer: GridTrainer, max_iter: int, tol: float, annealing: bool):
    """Adam steps in chunks: anneal the smoothing, stop at ``tol``, halve the step on plateaus."""
    tf = import_tensorflow()
    history: list[np.ndarray] = []
    best_loss, stall, done = np.inf, 0, 0
    while done < max_iter:
        n = min(CHUNK, max_iter - done)
        losses, last = trainer.chunk(tf.constant(n, dtype=tf.int32))
        done += n
        history.append(np.sqrt(np.maximum(np.asarray(losses), 0.0)))
        last = float(last)
        if annealing and _anneal(trainer):
            continue
        if not np.isfinite(last) or np.sqrt(max(last, 0.0)) <= tol:
            break
        best_loss, stall = _update_no_improvement_count(trainer, last, best_loss, stall)
    return np.concatenate(history), done


def _anneal(trainer: GridTrainer) -> bool:
    """Halve the temperature (0 after ~10 chunks); True while the fit is still smoothed."""
    tau = float(trainer.tau.numpy())
    if tau <= 0:
        return False
    trainer.tau.assign(tau * 0.5 if tau > TAU0 / 1000 else 0.0)
    return True


def _update_no_improvement_count(trainer: GridTrainer, loss, best_loss, stall):
    """A plateau (2 chunks without a 2% gain) halves the step: it goes further down the valley."""
    if loss < 0.98 * best_loss:
        return loss, 0
    stall += 1
    if stall >= 2:
        lr = trainer.optimizer.learning_rate
        lr.assign(lr * 0.5)
        stall = 0
    return best_loss, stall


def _levenberg_marquardt(trainer: GridTrainer, n_iter: int, tol: float) -> None:
    """Polish the trainer's parameters by Levenberg-Marquardt on the exact residual.

    With the max exact the grid tensor is multilinear in the parameters on each piece where the
    same arguments win every max, so once Adam has found the right piece, Gauss-Newton steps
    converge fast where Adam's normalised steps crawl (measured in docs/expressivity.md).
    Steps that do not lower the error are rejected (damping x4).
    """
    tf = import_tensorflow()
    flat = trainer.flat()
    r, J = (t.numpy() for t in trainer.residual_and_jacobian(tf.constant(flat)))
    err = float(np.linalg.norm(r))
    damping = 1e-3
    for _ in range(n_iter):
        if err <= tol or damping > 1e12:
            break
        JtJ, g = J.T @ J, J.T @ r
        scale = np.maximum(np.diag(JtJ), 1e-12 * max(np.max(np.diag(JtJ)), 1e-300))
        try:
            step = np.linalg.solve(JtJ + damping * np.diag(scale), -g)
        except np.linalg.LinAlgError:
            damping *= 4.0
            continue
        new_err = float(np.linalg.norm(trainer.residual(tf.constant(flat + step)).numpy()))
        if np.isfinite(new_err) and new_err < err:
            flat = flat + step
            r, J = (t.numpy() for t in trainer.residual_and_jacobian(tf.constant(flat)))
            err = float(np.linalg.norm(r))
            damping = max(damping / 3.0, 1e-12)
        else:
            damping *= 4.0
    trainer.assign_flat(flat)


def _values_of_network(init, spec: NetworkSpec, shapes: dict, scale: float) -> dict:
    """The parameter values of a given network in the fit's one-hot parametrization.

    Leaf vectors and input maps are folded with the network's feature matrix on one-hot
    templates (``z = F v``), the output layer is divided by the target's scale.
    """
    import tensorly as tl

    from ..grid import feature_matrix

    layout = layout_of(spec.kind)
    cls = layout.network
    if not isinstance(init, cls):
        raise TypeError(
            f"init must be a {cls.__name__} for kind={spec.kind!r}, got {type(init).__name__}"
        )
    if init.xi.name != spec.xi or init.d != spec.d or init.n_outputs != 1:
        raise ValueError(
            f"init must have xi={spec.xi!r}, d={spec.d} and one output like the fit, got {init!r}"
        )
    if "tree" in layout.options and init.tree.structure != spec.tree:
        raise ValueError(
            f"init must use the fit's tree {spec.dimension_tree()!r}, got {init.tree!r}"
        )
    with tl.backend_context("numpy"):
        F = np.asarray(feature_matrix(init.feature_map, np.eye(spec.m)), dtype=np.float64)
    values = layout.params_of(layout.one_hot(init, F))
    output = layout.output_name(spec)
    values[output] = values[output] / scale
    got = {k: tuple(np.shape(v)) for k, v in values.items()}
    expected = {k: tuple(v) for k, v in shapes.items()}
    if got != expected:
        raise ValueError(
            f"init must have the parameter shapes of the fit (rank, hidden_size, M={spec.m}): "
            f"expected {expected}, got {got}"
        )
    return {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}


def _fitted_network(spec: NetworkSpec, values: dict, scale: float):
    values = dict(values)
    layout = layout_of(spec.kind)
    output = layout.output_name(spec)
    values[output] = values[output] * scale
    return layout.fitted(to_network(spec, values, LinearFeatures.identity(spec.m)))


def _relative_error(net, arr: np.ndarray) -> float:
    import tensorly as tl

    # the certificate is computed in float64 numpy whatever the current backend
    with tl.backend_context("numpy"):
        grid_tensor = np.asarray(net.grid_tensor(np.eye(arr.shape[0])), dtype=np.float64)
    err = float(np.linalg.norm(grid_tensor - arr) / np.linalg.norm(arr))
    return err if np.isfinite(err) else float("inf")


def fit_generalized(
    tensor,
    kind: str = "cp",
    rank: int = 1,
    xi: str | Operator = "relu_max",
    *,
    tree: DimensionTree | None = None,
    hidden_size: int | None = None,
    tol: float = 1e-6,
    max_iter: int = 2000,
    n_restarts: int = 1,
    learning_rate: float = 0.02,
    random_state=None,
    init: TensorNetwork | None = None,
    polish: int = 0,
    verbose: int = 0,
) -> GeneralizedFit:
    """Fit a generalized CP / TT / HT network to a grid tensor by gradient descent.

    The network computes its grid tensor on one-hot templates (feature matrix ``I``,
    docs/theory.md section 3 recursions); Adam minimises ``||grid - tensor||^2 / ||tensor||^2``
    (subgradients for ReLU-type xi), with the target scaled to unit RMS during the fit.

    Parameters
    ----------
    tensor : array-like of shape (M,) * d
        The grid tensor to fit, d >= 2, all modes of the same size M.
    kind : {"cp", "tt", "ht"}, default "cp"
        Shallow (CP), recurrent (TT: the generalized RNN of [K19] with input matrices
        ``C_t`` of shape (hidden_size, M)) or deep (HT) network.
    rank : int, default 1
        Width R (CP), every inner TT rank, or every non-root HT rank.
    xi : str or Operator, default "relu_max"
        Any registered operator (:func:`~tensorexpr.operator_names`).
    tree : DimensionTree, optional
        HT only; ``DimensionTree.balanced(d)`` by default.
    hidden_size : int, optional
        TT only: L, the size of ``C_t f(x_t)``; M by default.
    tol : float, default 1e-6
        Relative error ``||grid - tensor|| / ||tensor||`` at which to stop (the tolerance of
        the decompositions, docs/theory.md section 4).
    max_iter : int, default 2000
        Adam steps per restart.
    n_restarts : int, default 1
        Random initialisations tried; the best fit is returned. A random CP start gets the
        least-squares output weights for its random hidden layer (docs/expressivity.md).
    learning_rate : float, default 0.02
        Adam's initial step; it is halved when the error stalls.
    random_state : None, int or numpy Generator
    init : CPNetwork, TTNetwork or HTNetwork, optional
        Start the first restart from this network (same kind, xi, tree and parameter
        shapes; any feature map, folded in on one-hot templates) instead of a random point,
        with the exact operator from the first step. E.g. a network from
        :func:`tensorexpr.construct_generalized` or an earlier fit. A start that meets
        ``tol`` is returned unchanged; otherwise pass a small ``learning_rate`` (Adam's
        first steps move every parameter by about ``learning_rate``).
    polish : int, default 0
        Levenberg-Marquardt iterations after the Adam steps of every restart, on the exact
        operator (no smoothing). Adam finds the right piece of the piecewise-multilinear
        landscape, these steps converge within it (to ~1e-12 where Adam stops near 1e-5).
        Each forms the Jacobian of all M^d residuals (n_params columns).
    verbose : int, default 0
        0: silent; >= 1: one line per restart (steps run, relative error).

    Returns
    -------
    GeneralizedFit
        ``.network``, ``.relative_error``, ``.history``, ``.n_restarts``, ``.converged``.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> target = np.add.outer(np.arange(3.0), np.arange(3.0)) + 1.0
    >>> fit = te.fit_generalized(target, "cp", rank=1, xi="relu_sum", tol=1e-8,
    ...                          max_iter=3000, random_state=0)
    >>> fit.relative_error < 1e-6
    True
    >>> G = fit.network.grid_tensor(np.eye(3))
    >>> bool(np.allclose(G, target, atol=1e-5))
    True
    """
    arr = _check_target(tensor)
    spec = _spec_of(arr, kind, rank, xi, tree, hidden_size)
    tol = check_real(tol, "tol", 0.0)
    max_iter = check_positive_int(max_iter, "max_iter")
    n_restarts = check_positive_int(n_restarts, "n_restarts")
    learning_rate = check_real(learning_rate, "learning_rate", 0.0, low_open=True)
    rng = check_random_state(random_state)
    polish = check_positive_int(polish, "polish", minimum=0)
    verbose = check_verbose(verbose)
    op = get_operator(spec.xi)

    scale = float(np.linalg.norm(arr)) / np.sqrt(arr.size)  # fit at unit RMS, scale back
    target = (arr / scale).reshape(-1)
    shapes = layout_of(spec.kind).shapes(spec)
    trainer = cached(("grid", spec), lambda: GridTrainer(spec, shapes, arr.size))

    start = None if init is None else _values_of_network(init, spec, shapes, scale)

    best, restart_errors = None, []
    for restart in range(n_restarts):
        given = restart == 0 and start is not None
        values = start if given else _initial_values(spec, shapes, rng, op)
        # a given start is fitted with the exact operator: smoothing would move it off its error
        annealing = smoothed_form(op) is not None and not given
        trainer.reset(values, target, learning_rate, TAU0 if annealing else 0.0)
        if not given and spec.kind == "cp" and spec.rank <= LSTSQ_OUTPUT_MAX:
            _least_squares_output(trainer, spec, values)
        met = False
        if given:
            # a start that meets tol is returned as it is: Adam's first steps have size
            # ~learning_rate whatever the gradient and would move it away
            err0 = _relative_error(_fitted_network(spec, start, scale), arr)
            met = err0 <= tol
        if met:
            history, n_iter = np.array([err0]), 0
        else:
            history, n_iter = _run_restart(trainer, max_iter, tol, annealing)
            if polish:
                _levenberg_marquardt(trainer, polish, tol)
        net = _fitted_network(spec, trainer.values(), scale)
        err = _relative_error(net, arr)
        restart_errors.append(err)
        if verbose:
            print(
                f"fit_generalized: restart {restart + 1}/{n_restarts}, {n_iter} steps, "
                f"relative error {err:.3e}",
                flush=True,
            )
        if best is None or err < best[0]:
            best = (err, net, history, n_iter)
        if err <= tol:
            break
    err, net, history, n_iter = best
    return GeneralizedFit(
        network=net,
        relative_error=err,
        history=history,
        n_restarts=len(restart_errors),
        n_iter=n_iter,
        converged=bool(err <= tol),
        restart_errors=restart_errors,
    )
