"""Score functions of CP, TT and HT networks in TensorFlow, kept in scale on long inputs.

The estimators train these functions; :func:`to_network` exports the trained
parameters as the equivalent :mod:`tensorexpr` network.

How the scale is kept (exact, not an approximation): every running state is stored as
``h = exp(L) * u`` with ``u`` divided by its largest entry after each step and the
log-norm ``L`` (one number per sample) accumulated on the side. For xi = product the
recursion is linear in ``h``; for the positively homogeneous operators ``relu_max``,
``relu_sum`` and ``max`` (``xi(c x, c y) = c xi(x, y)`` for ``c > 0``) both arguments are
divided by the larger of their two scales before xi is applied. Either way the score is
``exp(L) * u_d`` exactly, so no intermediate overflows or vanishes, and ``u_d`` alone
gives the predicted class. The normalisers are constants for the gradient
(``stop_gradient``): the rescaling cancels in the score, so the gradient is that of the
unnormalised network. ``softplus`` is not homogeneous and runs unnormalised.

PAPERS.md sections 1 and 3 define the networks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

FAMILIES = ("tt", "cp", "ht")
FEATURE_MAPS = ("relu", "linear", "trig", "poly")
HOMOGENEOUS = ("product", "relu_max", "relu_sum", "max")  # the operators that are rescaled
UNROLL_MAX = 64  # longer sequences run in a tf.while_loop (tf.scan) instead of unrolled

_tf = None


def tf_module():
    """TensorFlow, imported on first use (importing it takes seconds)."""
    global _tf
    if _tf is None:
        import tensorflow

        # retracing notices are expected: one compiled function per network shape
        tensorflow.get_logger().setLevel("ERROR")
        limit_threads(tensorflow)
        _tf = tensorflow
    return _tf


def limit_threads(tf) -> None:
    """Honour OMP_NUM_THREADS as TensorFlow's thread budget, if it is set.

    joblib's process workers (``GridSearchCV(n_jobs=k)``) run with OMP_NUM_THREADS set
    to ``cpu_count // k``, but TensorFlow sizes its pools to every core: k workers on
    k cores would run k^2 busy threads. TensorFlow's own TF_NUM_INTRAOP_THREADS /
    TF_NUM_INTEROP_THREADS win when set; nothing changes once TensorFlow has started.
    """
    budget = os.environ.get("OMP_NUM_THREADS", "")
    if not budget.isdigit() or int(budget) < 1:
        return
    try:
        if "TF_NUM_INTRAOP_THREADS" not in os.environ:
            tf.config.threading.set_intra_op_parallelism_threads(int(budget))
        if "TF_NUM_INTEROP_THREADS" not in os.environ:
            tf.config.threading.set_inter_op_parallelism_threads(int(budget))
    except RuntimeError:  # TensorFlow already initialised by the user: keep their setting
        pass


@dataclass(frozen=True)
class NetworkSpec:
    """Shapes and kinds of a network: everything but the parameter values."""

    family: str
    feature_map: str
    xi: str
    d: int
    n_inputs: int
    n_features: int
    rank: int
    n_outputs: int

    @property
    def degree(self) -> int:
        return max(1, (self.n_features - 1) // self.n_inputs)

    @property
    def m(self) -> int:
        """Size of f(x): the learned maps append a constant 1 to ``n_features - 1`` units."""
        if self.feature_map == "trig":
            return 2 * self.n_inputs
        if self.feature_map == "poly":
            return 1 + self.n_inputs * self.degree
        return self.n_features

    @property
    def constant_index(self) -> int | None:
        """Position of the constant feature 1 in f(x), None if there is none."""
        return {"relu": self.m - 1, "linear": self.m - 1, "poly": 0}.get(self.feature_map)


def init_params(spec: NetworkSpec, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Initial parameters (float64 numpy): near-identity transfer through the constant feature.

    Following PROTOTYPE-FINDINGS.md: the slice of each middle TT core that meets the
    constant feature is the identity and all other entries are ``N(0, s^2)`` with
    ``s = 1 / (2 sqrt(r m))`` (times ``4 / sqrt(d)`` for d > 16, so that the product of
    d steps stays in scale), so that at initialisation every position passes the state
    on nearly unchanged. CP factors and HT leaves get 1 on the constant feature, HT
    internal nodes a diagonal ``B[a, a, a] = 1``, in the same spirit.
    """
    d, m, r, C = spec.d, spec.m, spec.rank, spec.n_outputs
    n = spec.n_inputs
    const = spec.constant_index
    params: dict[str, np.ndarray] = {}
    if spec.feature_map in ("relu", "linear"):
        params["A"] = rng.standard_normal((m - 1, n)) / np.sqrt(n)
        params["b"] = 0.1 * rng.standard_normal(m - 1)

    def on_constant(shape, eye_axes):
        # N(0, s^2) plus 1 where the constant feature meets the diagonal of eye_axes;
        # each step multiplies the state norm by about sqrt(1 + s^2 r m), so s shrinks
        # like 1 / sqrt(d) beyond 16 positions to keep the initial scores in scale
        s = 1.0 / (2.0 * np.sqrt(r * m)) * min(1.0, 4.0 / np.sqrt(d))
        out = s * rng.standard_normal(shape)
        diag = np.eye(shape[eye_axes[0]], shape[eye_axes[1]])
        if const is None:  # no constant feature (trig): spread the identity over f(x)
            return out + np.expand_dims(diag, 1) / m if len(shape) == 3 else out
        index = [slice(None)] * len(shape)
        index[1] = const
        out[tuple(index)] += diag
        return out

    if spec.family == "tt":
        if d == 1:
            params["core_first"] = rng.standard_normal((1, m, C)) / np.sqrt(m)
        else:
            params["core_first"] = rng.standard_normal((1, m, r)) / np.sqrt(m)
            middle = [on_constant((r, m, r), (0, 2)) for _ in range(d - 2)]
            params["cores_middle"] = np.array(middle).reshape(d - 2, r, m, r)
            params["core_last"] = rng.standard_normal((r, m, C)) / np.sqrt(r * m)
    elif spec.family == "cp":
        s = 1.0 / (2.0 * np.sqrt(m))
        factors = s * rng.standard_normal((d, m, r))
        if const is not None:
            factors[:, const, :] += 1.0
        params["factors"] = factors
        params["weights"] = rng.standard_normal((r, C)) / np.sqrt(r)
    else:
        if d == 1:
            params["leaves"] = rng.standard_normal((1, m, C)) / np.sqrt(m)
            return params
        s = 1.0 / (2.0 * np.sqrt(m))
        leaves = s * rng.standard_normal((d, m, r))
        if const is not None:
            leaves[:, const, :] += 1.0
        params["leaves"] = leaves
        sizes = ht_level_sizes(d)
        diag = np.zeros((r, r, r))
        diag[np.arange(r), np.arange(r), np.arange(r)] = 1.0
        for level, pairs in enumerate(sizes[:-1]):
            noise = rng.standard_normal((pairs, r, r, r)) / (2.0 * r)
            params[f"nodes_{level}"] = diag + noise
        params[f"nodes_{len(sizes) - 1}"] = rng.standard_normal((1, r, r, C)) / r
    return params


def ht_level_sizes(d: int) -> list[int]:
    """Number of pairs merged at each level of ``DimensionTree.balanced(d)``."""
    sizes, width = [], d
    while width > 1:
        sizes.append(width // 2)
        width = width // 2 + width % 2
    return sizes


def param_names(spec: NetworkSpec) -> list[str]:
    names = ["A", "b"] if spec.feature_map in ("relu", "linear") else []
    if spec.family == "tt":
        names += ["core_first"] + (["cores_middle", "core_last"] if spec.d > 1 else [])
    elif spec.family == "cp":
        names += ["factors", "weights"]
    else:
        names += ["leaves"] + [f"nodes_{k}" for k in range(len(ht_level_sizes(spec.d)))]
    return names


# --- TensorFlow forward pass -------------------------------------------------------------


def _xi_function(name: str):
    """xi on TensorFlow tensors (the same formulas as tensorexpr.operators, without tensorly)."""
    tf = tf_module()
    return {
        "product": lambda x, y: x * y,
        "relu_max": lambda x, y: tf.maximum(tf.maximum(x, y), 0.0),
        "relu_sum": lambda x, y: tf.nn.relu(x) + tf.nn.relu(y),
        "softplus": lambda x, y: tf.maximum(x, y) + tf.math.log1p(tf.exp(-tf.abs(x - y))),
        "max": lambda x, y: tf.maximum(x, y),
    }[name]


def _features(spec: NetworkSpec, p: dict, X):
    """f(x_k) for every position: (batch, d, n) -> (batch, d, m)."""
    tf = tf_module()
    if spec.feature_map in ("relu", "linear"):
        z = tf.tensordot(X, p["A"], [[2], [1]]) + p["b"]
        if spec.feature_map == "relu":
            z = tf.nn.relu(z)
        return tf.concat([z, tf.ones_like(z[..., :1])], axis=2)
    shape = tf.shape(X)
    if spec.feature_map == "trig":
        angle = (np.pi / 2) * X
        both = tf.stack([tf.cos(angle), tf.sin(angle)], axis=3)
        return tf.reshape(both, [shape[0], shape[1], spec.m])
    powers, term = [tf.ones_like(X[..., :1])], X
    for _ in range(spec.degree):
        powers.append(term)
        term = term * X
    return tf.concat(powers, axis=2)


def _normalise(v, log_scale, axis=-1):
    """``v = exp(log_scale) * u`` with max |u| = 1 (0 stays 0); normaliser is a constant."""
    tf = tf_module()
    top = tf.stop_gradient(tf.reduce_max(tf.abs(v), axis=axis))
    top = tf.where(top > 0, top, tf.ones_like(top))
    return v / tf.expand_dims(top, axis), log_scale + tf.math.log(top)


def _rescaled_pair(xi_name, x, lx, y, ly):
    """``xi(e^lx x, e^ly y) = e^s xi(e^(lx-s) x, e^(ly-s) y)``, s = max(lx, ly); returns (pair, s).

    x, y broadcast against each other; lx, ly are per-sample and broadcast over the
    trailing axes of x and y (they are constants for the gradient).
    """
    tf = tf_module()
    xi = _xi_function(xi_name)
    if xi_name == "product":
        return xi(x, y), lx + ly
    if xi_name not in HOMOGENEOUS:
        return xi(x, y), lx
    s = tf.maximum(lx, ly)

    def expand(t, like):
        return tf.reshape(
            t, tf.concat([tf.shape(t), tf.ones([tf.rank(like) - tf.rank(t)], tf.int32)], 0)
        )

    return xi(x * expand(tf.exp(lx - s), x), y * expand(tf.exp(ly - s), y)), s


def _fold(step, state, elems, unroll: bool):
    """Left fold ``state = step(state, elem)`` over the leading axis of the tensors in elems."""
    tf = tf_module()
    if unroll:
        for t in range(int(elems[0].shape[0])):
            state = step(state, [e[t] for e in elems])
        return state
    out = tf.scan(lambda s, e: step(s, list(e)), tuple(elems), initializer=tuple(state))
    return tuple(o[-1] for o in out)


def _tt_scores(spec: NetworkSpec, p: dict, F, log_norm: bool):
    """TT / generalized RNN recursion (PAPERS.md section 3) with the log-scale carried along."""
    tf = tf_module()
    xi_name = spec.xi
    xi = _xi_function(xi_name)
    unit = {"product": 1.0, "relu_max": 0.0, "relu_sum": 0.0}.get(xi_name)
    a0 = F[:, 0]
    start = a0 if unit is None else xi(a0, unit * tf.ones_like(a0))
    h = tf.matmul(start, p["core_first"][0])
    L = tf.zeros_like(h[:, 0])
    if spec.d == 1:
        return h, L

    def step(state, elem, normalise=True):
        u, L = state
        a, G = elem
        r_prev, m, r_next = tf.unstack(tf.shape(G))  # shapes may be relaxed to None
        if log_norm and xi_name != "product":
            la = tf.stop_gradient(tf.math.log(tf.maximum(tf.reduce_max(tf.abs(a), axis=1), 1e-30)))
            s = tf.maximum(la, L)
            a = a * tf.expand_dims(tf.exp(-s), 1)
            u = u * tf.expand_dims(tf.exp(L - s), 1)
            L = s
        if xi_name == "product":
            T = tf.reshape(tf.matmul(u, tf.reshape(G, [r_prev, m * r_next])), [-1, m, r_next])
            v = tf.reduce_sum(tf.expand_dims(a, 2) * T, axis=1)
        else:
            pair = xi(tf.expand_dims(a, 2), tf.expand_dims(u, 1))
            W = tf.reshape(tf.transpose(G, [1, 0, 2]), [m * r_prev, r_next])
            v = tf.matmul(tf.reshape(pair, [-1, m * r_prev]), W)
        if normalise and log_norm:
            return _normalise(v, L)
        return v, L

    state = _normalise(h, L) if log_norm else (h, L)
    if spec.d > 2:
        elems = [tf.transpose(F[:, 1:-1], [1, 0, 2]), p["cores_middle"]]
        state = _fold(step, state, elems, spec.d <= UNROLL_MAX)
    return step(state, (F[:, -1], p["core_last"]), normalise=False)


def _cp_scores(spec: NetworkSpec, p: dict, F, log_norm: bool):
    """``sum_a w[a] xi-fold_k <f(x_k), v_{k,a}>`` with the running fold kept in scale."""
    tf = tf_module()
    xi_name = spec.xi
    z = tf.einsum("bdm,dmr->dbr", F, p["factors"])
    u = z[0]
    L = tf.zeros_like(u[:, 0])
    if log_norm:
        u, L = _normalise(u, L)

    def step(state, elem):
        u, L = state
        (zk,) = elem
        zk, lz = _normalise(zk, tf.zeros_like(L)) if log_norm else (zk, tf.zeros_like(L))
        v, s = (
            _rescaled_pair(xi_name, zk, lz, u, L) if log_norm else (_xi_function(xi_name)(zk, u), L)
        )
        return _normalise(v, s) if log_norm else (v, s)

    if spec.d > 1:
        u, L = _fold(step, (u, L), [z[1:]], spec.d <= UNROLL_MAX)
    return tf.matmul(u, p["weights"]), L


def _ht_scores(spec: NetworkSpec, p: dict, F, log_norm: bool):
    """Balanced-tree HT network, one batched contraction per level of the tree."""
    tf = tf_module()
    xi_name = spec.xi
    xi = _xi_function(xi_name)
    u = tf.einsum("bdm,dmr->bdr", F, p["leaves"])
    L = tf.zeros_like(u[:, :, 0])
    sizes = ht_level_sizes(spec.d)
    if not sizes:
        return u[:, 0], L[:, 0]
    if log_norm:
        u, L = _normalise(u, L)
    width = spec.d
    for level, pairs in enumerate(sizes):
        B = p[f"nodes_{level}"]
        r_a, r_b, r_c = tf.unstack(tf.shape(B)[1:])
        left, right = u[:, 0 : 2 * pairs : 2], u[:, 1 : 2 * pairs : 2]
        l_left, l_right = L[:, 0 : 2 * pairs : 2], L[:, 1 : 2 * pairs : 2]
        if log_norm:
            pair, s = _rescaled_pair(
                xi_name, tf.expand_dims(left, 3), l_left, tf.expand_dims(right, 2), l_right
            )
        else:
            pair, s = xi(tf.expand_dims(left, 3), tf.expand_dims(right, 2)), l_left
        v = tf.einsum(
            "bnk,nkc->bnc",
            tf.reshape(pair, [-1, pairs, r_a * r_b]),
            tf.reshape(B, [pairs, r_a * r_b, r_c]),
        )
        last = level == len(sizes) - 1
        if log_norm and not last:
            v, s = _normalise(v, s)
        if width % 2:
            v, s = tf.concat([v, u[:, -1:]], axis=1), tf.concat([s, L[:, -1:]], axis=1)
        u, L, width = v, s, pairs + width % 2
    return u[:, 0], L[:, 0]


def scores(spec: NetworkSpec, p: dict, X, keep=None):
    """``(v, L)`` with the scores ``exp(L)[:, None] * v``; X of shape (batch, d, n).

    ``keep``: optional (batch, d) 0/1 mask; a dropped position sees only the constant
    feature, which the initialisation makes a near-identity step (position dropout).
    """
    F = _features(spec, p, X)
    if keep is not None:
        tf = tf_module()
        m = tf.shape(F)[2]
        const = tf.one_hot(0 if spec.feature_map == "poly" else m - 1, m, dtype=F.dtype)
        keep = tf.expand_dims(keep, 2)
        F = keep * F + (1.0 - keep) * const
    log_norm = spec.xi in HOMOGENEOUS
    fn = {"tt": _tt_scores, "cp": _cp_scores, "ht": _ht_scores}[spec.family]
    return fn(spec, p, F, log_norm)


# --- compiled functions, shared by all fits of the same kind --------------------------------

_CACHE: dict = {}


def _static_key(spec: NetworkSpec) -> tuple:
    # the whole spec: tf.function does not retrace for variables of a new shape (their
    # trace type ignores the shape), so one function must only ever see one set of shapes
    return (
        spec.family,
        spec.feature_map,
        spec.xi,
        spec.d,
        spec.n_inputs,
        spec.m,
        spec.rank,
        spec.n_outputs,
    )


def scores_function(spec: NetworkSpec):
    """Compiled ``(params list, X) -> (v, L)``."""
    key = ("scores", *_static_key(spec))
    if key not in _CACHE:
        tf = tf_module()
        names = param_names(spec)

        @tf.function(reduce_retracing=True, autograph=False)
        def run(params, X):
            return scores(spec, dict(zip(names, params, strict=True)), X)

        _CACHE[key] = run
    return _CACHE[key]


BETA1, BETA2 = 0.9, 0.999  # Adam's moment decays


def weighted_loss(spec: NetworkSpec, loss: str, params, X, y, w, keep=None):
    """``sum_i w_i loss_i`` of a batch: the loss of each sample weighted, summed.

    ``loss``: "binary" (sigmoid cross-entropy on one score), "multiclass" (softmax
    cross-entropy), or "squared" (half squared error).
    """
    tf = tf_module()
    v, L = scores(spec, dict(zip(param_names(spec), params, strict=True)), X, keep)
    # exact scores; the clip only guards float32 against exp overflow
    z = v * tf.expand_dims(tf.exp(tf.minimum(L, 60.0)), 1)
    if loss == "binary":
        per_sample = tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z[:, 0])
    elif loss == "multiclass":
        per_sample = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.cast(y, tf.int32), logits=z
        )
    else:
        per_sample = 0.5 * tf.square(z[:, 0] - y)
    return tf.reduce_sum(w * per_sample)


def l2_penalty(params):
    """``||theta||^2`` over all parameters (alpha / 2 times it is added to the loss)."""
    tf = tf_module()
    return tf.add_n([tf.reduce_sum(tf.square(q)) for q in params])


def position_keep_mask(shape, dropout, seed, dtype):
    """0/1 mask of kept positions, P(0) = dropout, from a stateless seed (reproducible)."""
    tf = tf_module()
    return tf.cast(tf.random.stateless_uniform(shape, seed, dtype=dtype) >= dropout, dtype)


def adam_update(params, grads, moments, variances, count, learning_rate):
    """One Adam step on the variables ``params`` (moments and count updated in place)."""
    tf = tf_module()
    count.assign_add(1.0)
    correction = tf.sqrt(1.0 - BETA2**count) / (1.0 - BETA1**count)
    for q, g, mo, va in zip(params, grads, moments, variances, strict=True):
        mo.assign(BETA1 * mo + (1.0 - BETA1) * g)
        va.assign(BETA2 * va + (1.0 - BETA2) * tf.square(g))
        q.assign_sub(learning_rate * correction * mo / (tf.sqrt(va) + 1e-8))


def train_epoch_function(spec: NetworkSpec, loss: str, use_dropout: bool, jit: bool):
    """Compiled epoch of Adam steps on weighted mini-batches; returns the summed w * loss.

    ``loss``: see :func:`weighted_loss`. The epoch is one graph (a while loop over the
    batches), so Python is entered once per epoch; ``batches`` is
    ``(n_batches, batch_size)`` sample indices and ``batch_weights`` their sample
    weights, 0 for the padding of the last batch. ``jit`` compiles it with XLA.
    """
    key = ("epoch", loss, use_dropout, jit, *_static_key(spec))
    if key in _CACHE:
        return _CACHE[key]
    tf = tf_module()

    def update(params, moments, variances, count, X, y, w, learning_rate, alpha, dropout, seed):
        keep = position_keep_mask(tf.shape(X)[:2], dropout, seed, X.dtype) if use_dropout else None
        with tf.GradientTape() as tape:
            weight = tf.reduce_sum(w)
            data = weighted_loss(spec, loss, params, X, y, w, keep) / tf.maximum(weight, 1e-12)
            total = data + 0.5 * alpha * l2_penalty(params)
        adam_update(params, tape.gradient(total, params), moments, variances, count, learning_rate)
        return data * weight

    # XLA compiles per concrete shape anyway: no relaxed traces under jit
    @tf.function(reduce_retracing=not jit, autograph=False, jit_compile=jit)
    def epoch(
        params,
        moments,
        variances,
        count,
        X,
        y,
        batches,
        batch_weights,
        learning_rate,
        alpha,
        dropout,
        seed,
    ):
        def body(i, total):
            idx = batches[i]
            step_seed = seed + tf.cast(tf.stack([0, i]), seed.dtype)
            with tf.control_dependencies([total]):
                loss_i = update(
                    params,
                    moments,
                    variances,
                    count,
                    tf.gather(X, idx),
                    tf.gather(y, idx),
                    batch_weights[i],
                    learning_rate,
                    alpha,
                    dropout,
                    step_seed,
                )
            return i + 1, total + loss_i

        zero = tf.zeros([], X.dtype)
        _, total = tf.while_loop(
            lambda i, _: i < tf.shape(batches)[0], body, (tf.constant(0), zero)
        )
        return total

    _CACHE[key] = epoch
    return epoch


def distributed_step_function(spec: NetworkSpec, loss: str, use_dropout: bool, strategy, state):
    """Compiled Adam step on one mini-batch split over the replicas of ``strategy``.

    ``state`` = (params, moments, variances, count): variables created under
    ``strategy.scope()`` with aggregation ONLY_FIRST_REPLICA. The batch (the same one
    the single-device epoch uses, dropout mask included) is padded with weight-0 samples
    to a multiple of the number of replicas and cut into one shard per replica; each
    replica differentiates its shard's share of the batch loss and an all-reduce sums
    the gradients, so every replica applies the single-device step (up to rounding).
    Returns ``step(X, y, w, learning_rate, alpha, dropout, seed) -> summed w * loss``.
    """
    tf = tf_module()
    params, moments, variances, count = state
    replicas = strategy.num_replicas_in_sync

    def replica_step(X, y, w, keep, weight, learning_rate, alpha):
        context = tf.distribute.get_replica_context()
        size = tf.shape(X)[0] // replicas
        start = context.replica_id_in_sync_group * size

        def shard(t):
            return t[start : start + size]

        with tf.GradientTape() as tape:
            keep_shard = shard(keep) if use_dropout else None
            data = weighted_loss(spec, loss, params, shard(X), shard(y), shard(w), keep_shard)
            total = data / weight + 0.5 * alpha * l2_penalty(params) / replicas
        grads = context.all_reduce("sum", tape.gradient(total, params))
        adam_update(params, grads, moments, variances, count, learning_rate)
        return data

    @tf.function(autograph=False)
    def step(X, y, w, learning_rate, alpha, dropout, seed):
        keep = position_keep_mask(tf.shape(X)[:2], dropout, seed, X.dtype)
        pad = (-tf.shape(X)[0]) % replicas
        X, y, w, keep = (
            tf.concat([t, tf.zeros(tf.concat([[pad], tf.shape(t)[1:]], 0), t.dtype)], 0)
            for t in (X, y, w, keep)
        )
        weight = tf.maximum(tf.reduce_sum(w), 1e-12)
        per_replica = strategy.run(replica_step, args=(X, y, w, keep, weight, learning_rate, alpha))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    return step


# --- export to tensorexpr ------------------------------------------------------------------


def to_network(spec: NetworkSpec, params: dict[str, np.ndarray]):
    """The tensorexpr network with the same score functions (float64 parameters)."""
    import tensorexpr as te

    p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    n = spec.n_inputs
    if spec.feature_map == "relu":
        fmap = te.ReLUFeatures(n, A=p["A"], b=p["b"], append_constant=True)
    elif spec.feature_map == "linear":
        fmap = te.LinearFeatures(n, A=p["A"], b=p["b"], append_constant=True)
    elif spec.feature_map == "trig":
        fmap = te.TrigFeatures(n)
    else:
        fmap = te.PolynomialFeatures(n, degree=spec.degree)
    if spec.family == "tt":
        cores = [p["core_first"]]
        if spec.d > 1:
            cores += list(p["cores_middle"]) + [p["core_last"]]
        return te.TTNetwork(cores, fmap, xi=spec.xi)
    if spec.family == "cp":
        return te.CPNetwork(list(p["factors"]), fmap, weights=p["weights"], xi=spec.xi)
    tree = te.DimensionTree.balanced(spec.d)
    factors: list = [None] * tree.n_nodes
    level_nodes = [tree.leaf(k) for k in range(spec.d)]
    for k, node in enumerate(level_nodes):
        factors[node] = p["leaves"][k]
    for level, pairs in enumerate(ht_level_sizes(spec.d)):
        parents = []
        for i in range(pairs):
            parent = tree.parent(level_nodes[2 * i])
            factors[parent] = p[f"nodes_{level}"][i]
            parents.append(parent)
        level_nodes = parents + (level_nodes[-1:] if len(level_nodes) % 2 else [])
    return te.HTNetwork(factors, fmap, tree=tree, xi=spec.xi)
