"""Fitting generalized (xi-) CP, TT and HT networks to a grid tensor by gradient descent.

There is no SVD for generalized decompositions ([K19], [CS16]): a network with an operator
xi (``relu_max``, ``relu_sum``, ...) is fitted to a given grid tensor by Adam on the relative
squared error. The parametrization is the natural one for grid tensors: one-hot templates
``np.eye(M)`` and the identity feature map, so the feature matrix is ``I`` and the leaf
vectors are free M-vectors (PAPERS.md sections 2-3). The returned network is a tensorexpr
network whose grid tensor on ``np.eye(M)`` reproduces the fit.

The gradient loop is written in TensorFlow directly (``tf.function``, ``tf.Variable``, a
hand-written Adam), in float64, never through tensorly's TensorFlow backend; it keeps working
after ``te.set_backend("tensorflow")`` switched TensorFlow to NumPy behaviour. ReLU-type
operators are trained with subgradients.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from .._backend import as_float_array, check_positive_int, check_random_state
from ..operators import get_operator

__all__ = ["fit_generalized", "GeneralizedFit"]

_KINDS = ("cp", "tt", "ht")
#: Gradient steps run inside one compiled call between two tolerance checks.
_CHUNK = 50
#: Initial temperature of the smoothed max (the target is scaled to unit RMS).
_TAU0 = 0.3


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
    >>> target = np.add.outer(np.arange(3.0), np.arange(3.0)) + 1.0
    >>> fit = te.fit_generalized(target, "cp", rank=1, xi="relu_sum", tol=1e-8,
    ...                          max_iter=3000, random_state=0)
    >>> fit.converged, fit.network.rank
    (True, 1)
    """

    network: object
    relative_error: float
    history: np.ndarray
    n_restarts: int
    n_iter: int
    converged: bool
    restart_errors: list[float] = field(default_factory=list)


# -- TensorFlow pieces -------------------------------------------------------------------
def _tf():
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


def _tf_xi(name: str, tau):
    """``(pre, combine, start)`` of xi in TensorFlow; same semantics as tensorexpr.operators.

    For the max operators the maximum is smoothed at temperature ``tau`` (a tf.Variable):
    ``max(x, y) + tau log(1 + exp(-|x - y| / tau))``, exact at ``tau = 0``. The exact max
    sends the gradient to the winning argument only, so a fit can stall with the wrong
    argument winning everywhere; the fit anneals ``tau`` to 0 early on.
    """
    tf = _tf()

    def smooth_max(x, y):
        gap = tf.math.divide_no_nan(tf.abs(x - y), tau)
        return tf.maximum(x, y) + tau * tf.math.log1p(tf.exp(-gap))

    def relu(x):
        return smooth_max(x, tf.zeros_like(x))

    table = {
        "product": (None, lambda x, y: x * y, lambda a: a),
        "relu_max": (relu, smooth_max, relu),
        "softplus": (
            None,
            lambda x, y: tf.maximum(x, y) + tf.math.log1p(tf.exp(-tf.abs(x - y))),
            lambda a: a,
        ),
        "max": (None, smooth_max, lambda a: a),
    }
    if name == "relu_sum":
        table["relu_sum"] = (tf.nn.relu, lambda x, y: x + y, tf.nn.relu)
    return table[name]


def _grid_fn(kind: str, xi: str, d: int, M: int, tree, tau):
    """A TF function ``params -> dense grid tensor (M**d,)`` for the kind and xi."""
    tf = _tf()
    pre, combine, start = _tf_xi(xi, tau)

    def prep(x):
        return x if pre is None else pre(x)

    def combine_pairs(left, right, weights):
        # out[(i, j), c] = sum_ab weights[a, b, c] xi(left[i, a], right[j, b])
        P, A = left.shape
        Q, B = right.shape
        pair = combine(tf.reshape(prep(left), (P, 1, A, 1)), tf.reshape(prep(right), (1, Q, 1, B)))
        return tf.reshape(pair, (P * Q, A * B)) @ tf.reshape(weights, (A * B, -1))

    if kind == "cp":

        def grid(params):
            *factors, weights = params
            if d == 1:
                return tf.reshape(factors[0] @ weights, (-1,))
            state = factors[0]
            for z in factors[1:]:
                P, R = state.shape
                pair = combine(tf.reshape(prep(state), (P, 1, R)), tf.reshape(prep(z), (1, M, R)))
                state = tf.reshape(pair, (P * M, R))
            return tf.reshape(state @ weights, (-1,))
    elif kind == "tt":

        def grid(params):
            # params: d cores (r, L, r'), then d input maps a_t = F C_t^T = C_t^T (M, L)
            cores, inputs = params[:d], params[d:]
            state = start(inputs[0]) @ cores[0][0]
            for t in range(1, d):
                core = cores[t]  # cores[t][j, i, k] pairs the state (j) with the input (i)
                state = combine_pairs(state, inputs[t], core)
            return tf.reshape(state, (-1,))
    else:
        order = tree.mode_order
        inverse = [int(i) for i in np.argsort(order)]

        def grid(params):
            U = [None] * tree.n_nodes
            for node in range(tree.n_nodes):
                children = tree.children(node)
                if children is None:
                    U[node] = params[node]
                else:
                    U[node] = combine_pairs(U[children[0]], U[children[1]], params[node])
            full = U[tree.root]
            if inverse != list(range(d)):
                full = tf.transpose(tf.reshape(full, (M,) * d), inverse)
            return tf.reshape(full, (-1,))

    return grid


class _Trainer:
    """Variables, a hand-written Adam and a compiled chunk of steps, reused across restarts."""

    def __init__(self, kind, xi, d, M, tree, shapes):
        tf = _tf()
        f64 = tf.float64
        n_entries = M**d
        self.tau = tf.Variable(tf.constant(0.0, dtype=f64))
        grid = _grid_fn(kind, xi, d, M, tree, self.tau)
        self.params = [tf.Variable(tf.zeros(s, dtype=f64)) for s in shapes]
        self.m = [tf.Variable(tf.zeros(s, dtype=f64)) for s in shapes]
        self.v = [tf.Variable(tf.zeros(s, dtype=f64)) for s in shapes]
        self.step = tf.Variable(tf.constant(0.0, dtype=f64))
        self.lr = tf.Variable(tf.constant(0.01, dtype=f64))
        self.target = tf.Variable(tf.zeros((n_entries,), dtype=f64))
        self.grid = grid
        beta1, beta2, eps = 0.9, 0.999, 1e-12

        def loss_fn():
            diff = grid(self.params) - self.target
            return tf.reduce_sum(diff * diff) / tf.reduce_sum(self.target * self.target)

        def one_step():
            with tf.GradientTape() as tape:
                loss = loss_fn()
            grads = tape.gradient(loss, self.params)
            self.step.assign_add(tf.constant(1.0, dtype=f64))
            t = self.step
            scale = self.lr * tf.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)
            for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
                g = tf.zeros_like(p) if g is None else g
                m.assign(beta1 * m + (1.0 - beta1) * g)
                v.assign(beta2 * v + (1.0 - beta2) * g * g)
                p.assign_sub(scale * m / (tf.sqrt(v) + eps))
            return loss

        @tf.function(reduce_retracing=True)
        def chunk(n_steps):
            losses = tf.TensorArray(f64, size=n_steps)
            for i in tf.range(n_steps):
                losses = losses.write(i, one_step())
            return losses.stack(), loss_fn()

        self.chunk = chunk
        sizes = [int(np.prod(shape)) for shape in shapes]

        def residual(flat):
            parts = tf.split(flat, sizes)
            values = [tf.reshape(x, shape) for x, shape in zip(parts, shapes, strict=True)]
            return (grid(values) - self.target) / tf.norm(self.target)

        @tf.function(reduce_retracing=True)
        def residual_and_jacobian(flat):
            # forward mode, one tangent per parameter: n_params << M^d outputs
            def jvp(tangent):
                with tf.autodiff.ForwardAccumulator(flat, tangent) as acc:
                    r = residual(flat)
                return acc.jvp(r)

            eye = tf.eye(tf.size(flat), dtype=flat.dtype)
            return residual(flat), tf.transpose(tf.vectorized_map(jvp, eye))

        self.residual = tf.function(residual, reduce_retracing=True)
        self.residual_and_jacobian = residual_and_jacobian

    def reset(self, values, target, lr, tau):
        self.tau.assign(tau)
        for p, m, v, val in zip(self.params, self.m, self.v, values, strict=True):
            p.assign(val)
            m.assign(np.zeros_like(val))
            v.assign(np.zeros_like(val))
        self.step.assign(0.0)
        self.lr.assign(lr)
        self.target.assign(target)


def _levenberg_marquardt(trainer: _Trainer, n_iter: int, tol: float) -> None:
    """Polish the trainer's parameters by Levenberg-Marquardt on the exact residual.

    With the max exact (tau = 0) the grid tensor is multilinear in the parameters on each
    piece where the same arguments win every max, so once Adam has found the right piece,
    Gauss-Newton steps converge fast where Adam's normalised steps crawl (measured in
    docs/expressivity.md). Steps that do not lower the error are rejected (damping x4).
    """
    tf = _tf()
    trainer.tau.assign(0.0)
    flat = np.concatenate([p.numpy().ravel() for p in trainer.params])
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
        new_r = trainer.residual(tf.constant(flat + step)).numpy()
        new_err = float(np.linalg.norm(new_r))
        if np.isfinite(new_err) and new_err < err:
            flat = flat + step
            r, J = (t.numpy() for t in trainer.residual_and_jacobian(tf.constant(flat)))
            err = float(np.linalg.norm(r))
            damping = max(damping / 3.0, 1e-12)
        else:
            damping *= 4.0
    offset = 0
    for p in trainer.params:
        size = int(np.prod(p.shape))
        p.assign(flat[offset : offset + size].reshape(p.shape))
        offset += size


_TRAINERS: dict = {}


def _trainer(kind, xi, d, M, tree, shapes) -> _Trainer:
    key = (kind, xi, d, M, None if tree is None else tree.structure, tuple(shapes))
    if key not in _TRAINERS:
        if len(_TRAINERS) > 64:
            _TRAINERS.clear()
        _TRAINERS[key] = _Trainer(kind, xi, d, M, tree, shapes)
    return _TRAINERS[key]


# -- parameters -----------------------------------------------------------------------------
def _shapes(kind, d, M, rank, hidden, tree):
    if kind == "cp":
        return [(M, rank)] * d + [(rank, 1)]
    if kind == "tt":
        ranks = [1] + [rank] * (d - 1) + [1]
        return [(ranks[t], hidden, ranks[t + 1]) for t in range(d)] + [(M, hidden)] * d
    return [
        (M, rank if node != tree.root else 1)
        if tree.is_leaf(node)
        else (rank, rank, 1 if node == tree.root else rank)
        for node in range(tree.n_nodes)
    ]


def _init(kind, shapes, d, rng, positive):
    """Gaussian values giving outputs of order 1 whatever the widths.

    With a ReLU-type xi every parameter but the output layer starts positive (half-normal):
    a negative pre-activation is a dead ReLU with zero gradient, and a fit from mostly dead
    units stalls.
    """
    values = []
    for k, shape in enumerate(shapes):
        if kind == "cp":
            output, std = k == d, 1.0 if k < d else 1.0 / np.sqrt(shape[0])
        elif kind == "tt":
            output = k == d - 1
            std = 1.0 / np.sqrt(shape[0] * shape[1]) if k < d else 1.0
        else:
            output = k == len(shapes) - 1
            std = 1.0 if len(shape) == 2 else 1.0 / np.sqrt(shape[0] * shape[1])
        value = std * rng.standard_normal(shape)
        values.append(np.abs(value) if positive and not output else value)
    return values


def _init_from_network(init, kind, xi, shapes, scale, M, d, tree):
    """The parameter values of a given network, in the fit's one-hot parametrization.

    Leaf vectors and input maps are folded with the network's feature matrix on one-hot
    templates (``z = F v``), the output layer is divided by the target's scale.
    """
    from ..grid import feature_matrix
    from ..networks import CPNetwork, HTNetwork, TTNetwork

    cls = {"cp": CPNetwork, "tt": TTNetwork, "ht": HTNetwork}[kind]
    if not isinstance(init, cls):
        raise TypeError(
            f"init must be a {cls.__name__} for kind={kind!r}, got {type(init).__name__}"
        )
    if init.xi.name != xi or init.d != d or init.n_outputs != 1:
        raise ValueError(
            f"init must have xi={xi!r}, d={d} and one output like the fit, got {init!r}"
        )
    if kind == "ht" and init.tree != tree:
        raise ValueError(f"init must use the fit's tree {tree!r}, got {init.tree!r}")
    import tensorly as tl

    with tl.backend_context("numpy"):
        F = np.asarray(feature_matrix(init.feature_map, np.eye(M)), dtype=np.float64)
    if kind == "cp":
        values = [F @ f for f in init.factors] + [init.weights / scale]
    elif kind == "tt":
        cores = [*init.cores[:-1], init.cores[-1] / scale]
        inputs = [F] * d if init.matrices is None else [F @ c.T for c in init.matrices]
        values = cores + inputs
    else:
        values = [
            F @ f if tree.is_leaf(node) else f / (scale if node == tree.root else 1.0)
            for node, f in enumerate(init.factors)
        ]
    got = [v.shape for v in values]
    if got != [tuple(s) for s in shapes]:
        raise ValueError(
            f"init must have the parameter shapes of the fit (rank, hidden_size, M={M}): "
            f"expected {[tuple(s) for s in shapes]}, got {got}"
        )
    return [np.asarray(v, dtype=np.float64) for v in values]


def _network(kind, xi, values, scale, M, d, tree):
    from ..features import LinearFeatures
    from ..networks import CPNetwork, HTNetwork, TTNetwork

    fmap = LinearFeatures.identity(M)
    if kind == "cp":
        return CPNetwork(values[:d], fmap, weights=values[d] * scale, xi=xi)
    if kind == "tt":
        cores = [*values[: d - 1], values[d - 1] * scale]
        matrices = [a.T.copy() for a in values[d:]]
        if xi == "product":  # C_t folds into the cores
            return TTNetwork(cores, fmap, xi=xi, matrices=matrices).folded()
        return TTNetwork(cores, fmap, xi=xi, matrices=matrices)
    factors = list(values)
    factors[tree.root] = factors[tree.root] * scale
    return HTNetwork(factors, fmap, tree=tree, xi=xi)


def fit_generalized(
    tensor,
    kind: str = "cp",
    rank: int = 1,
    xi: str = "relu_max",
    *,
    tree=None,
    hidden_size: int | None = None,
    tol: float = 1e-6,
    max_iter: int = 2000,
    n_restarts: int = 1,
    learning_rate: float = 0.02,
    random_state=None,
    init=None,
    polish: int = 0,
) -> GeneralizedFit:
    """Fit a generalized CP / TT / HT network to a grid tensor by gradient descent.

    The network computes its grid tensor on one-hot templates (feature matrix ``I``, PAPERS.md
    section 3 recursions); Adam minimises ``||grid - tensor||^2 / ||tensor||^2`` (subgradients
    for ReLU-type xi), with the target scaled to unit RMS during the fit.

    Parameters
    ----------
    tensor : array-like of shape (M,) * d
        The grid tensor to fit, d >= 2, all modes of the same size M.
    kind : {"cp", "tt", "ht"}, default "cp"
        Shallow (CP), recurrent (TT: the generalized RNN of [K19] with input matrices
        ``C_t`` of shape (hidden_size, M)) or deep (HT) network.
    rank : int, default 1
        Width R (CP), every inner TT rank, or every non-root HT rank.
    xi : str, default "relu_max"
        ``"product"``, ``"relu_max"``, ``"relu_sum"``, ``"softplus"`` or ``"max"``.
    tree : DimensionTree, optional
        HT only; ``DimensionTree.balanced(d)`` by default.
    hidden_size : int, optional
        TT only: L, the size of ``C_t f(x_t)``; M by default.
    tol : float, default 1e-6
        Stop as soon as the relative error is <= tol.
    max_iter : int, default 2000
        Adam steps per restart.
    n_restarts : int, default 1
        Random initialisations tried; the best fit is returned.
    learning_rate : float, default 0.02
        Adam's initial step; it is halved when the error stalls.
    random_state : None, int or numpy Generator
    init : CPNetwork, TTNetwork or HTNetwork, optional
        Start the first restart from this network (same kind, xi, tree and parameter
        shapes; any feature map, folded in on one-hot templates) instead of a random point,
        with the exact max from the first step. E.g. a network from
        :func:`tensorexpr.construct_generalized` or an earlier fit. A start that meets
        ``tol`` is returned unchanged; otherwise pass a small ``learning_rate`` (Adam's
        first steps move every parameter by about ``learning_rate``).
    polish : int, default 0
        Levenberg-Marquardt iterations after the Adam steps of every restart, on the exact
        operator (no smoothing). Adam finds the right piece of the piecewise-multilinear
        landscape, these steps converge within it (to ~1e-12 where Adam stops near 1e-5).
        Each forms the Jacobian of all M^d residuals (n_params columns).

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
    from ..trees import DimensionTree

    arr = as_float_array(tensor, "tensor").astype(np.float64)
    if arr.ndim < 2:
        raise ValueError(f"tensor must have order d >= 2, got shape {arr.shape}")
    if len(set(arr.shape)) != 1:
        raise ValueError(f"tensor must have all modes of the same size M, got shape {arr.shape}")
    d, M = arr.ndim, arr.shape[0]
    if not isinstance(kind, str) or kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    rank = check_positive_int(rank, "rank")
    xi_name = get_operator(xi).name
    if xi_name not in ("product", "relu_max", "relu_sum", "softplus", "max"):
        raise ValueError(f"xi must be a built-in operator, got {xi!r}")
    if tree is not None and kind != "ht":
        raise ValueError(f"tree is only used with kind='ht', got kind={kind!r}")
    if hidden_size is not None and kind != "tt":
        raise ValueError(f"hidden_size is only used with kind='tt', got kind={kind!r}")
    if kind == "ht":
        tree = DimensionTree.balanced(d) if tree is None else tree
        if not isinstance(tree, DimensionTree) or tree.d != d:
            raise ValueError(f"tree must be a DimensionTree over d={d} modes, got {tree!r}")
    hidden = M if hidden_size is None else check_positive_int(hidden_size, "hidden_size")
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0:
        raise ValueError(f"tol must be a number >= 0, got {tol!r}")
    max_iter = check_positive_int(max_iter, "max_iter")
    n_restarts = check_positive_int(n_restarts, "n_restarts")
    polish = check_positive_int(polish, "polish", minimum=0)
    if (
        isinstance(learning_rate, bool)
        or not isinstance(learning_rate, numbers.Real)
        or not learning_rate > 0
    ):
        raise ValueError(f"learning_rate must be a number > 0, got {learning_rate!r}")
    norm = float(np.linalg.norm(arr))
    if norm == 0:
        raise ValueError("tensor must not be identically zero (the relative error is undefined)")
    rng = check_random_state(random_state)

    scale = norm / np.sqrt(arr.size)  # fit the target at unit RMS, scale the outputs back
    target = (arr / scale).reshape(-1)
    shapes = _shapes(kind, d, M, rank, hidden, tree)
    trainer = _trainer(kind, xi_name, d, M, tree, shapes)
    tf = _tf()
    start = None
    if init is not None:
        start = _init_from_network(init, kind, xi_name, shapes, scale, M, d, tree)

    best = None
    restart_errors: list[float] = []
    for restart in range(n_restarts):
        values = _init(kind, shapes, d, rng, xi_name in ("relu_max", "relu_sum"))
        # a given start is fitted with the exact max: smoothing would move it off its error
        smooth = xi_name in ("relu_max", "max") and not (restart == 0 and start is not None)
        if restart == 0 and start is not None:
            values = start
        trainer.reset(values, target, float(learning_rate), _TAU0 if smooth else 0.0)
        history: list[np.ndarray] = []
        best_loss, stall = np.inf, 0
        done, met = 0, False
        if restart == 0 and start is not None:
            # a start that already meets tol is returned as it is: Adam's first steps have
            # size ~learning_rate whatever the gradient and would move it away
            err0 = _relative_error(_network(kind, xi_name, start, scale, M, d, tree), arr, M)
            history.append(np.array([err0]))
            met = err0 <= tol
        while done < max_iter and not met:
            n = min(_CHUNK, max_iter - done)
            losses, last = trainer.chunk(tf.constant(n, dtype=tf.int32))
            done += n
            history.append(np.sqrt(np.maximum(np.asarray(losses), 0.0)))
            last = float(last)
            tau = float(trainer.tau.numpy())
            if tau > 0:  # anneal the smoothing of the max: exact (tau = 0) after ~10 chunks
                trainer.tau.assign(tau * 0.5 if tau > _TAU0 / 1000 else 0.0)
                continue
            if not np.isfinite(last) or np.sqrt(max(last, 0.0)) <= tol:
                break
            if last < 0.98 * best_loss:
                best_loss, stall = last, 0
            else:
                stall += 1
                if stall >= 2:  # plateau: a smaller step goes further down the valley
                    trainer.lr.assign(trainer.lr * 0.5)
                    stall = 0
        if polish and not met:
            _levenberg_marquardt(trainer, polish, tol)
        values = [p.numpy() for p in trainer.params]
        net = _network(kind, xi_name, values, scale, M, d, tree)
        err = _relative_error(net, arr, M)
        restart_errors.append(err)
        if best is None or err < best[0]:
            best = (err, net, np.concatenate(history), done)
        if err <= tol:
            break
    err, net, hist, n_iter = best
    return GeneralizedFit(
        network=net,
        relative_error=err,
        history=hist,
        n_restarts=len(restart_errors),
        n_iter=n_iter,
        converged=bool(err <= tol),
        restart_errors=restart_errors,
    )


def _relative_error(net, arr: np.ndarray, M: int) -> float:
    import tensorly as tl

    # the certificate is computed in float64 numpy whatever the current backend
    with tl.backend_context("numpy"):
        grid = np.asarray(net.grid_tensor(np.eye(M)), dtype=np.float64)
    err = float(np.linalg.norm(grid - arr) / np.linalg.norm(arr))
    return err if np.isfinite(err) else float("inf")
